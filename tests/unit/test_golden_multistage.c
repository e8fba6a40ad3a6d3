/* golden_multistage: a second-stage front, decapsulating what the first
 * front sends and balancing again, encapsulating or translating. */
#include "golden.h"
#include "testlib.h"
#include "unit.h"
#include "lb/lb.h"

static void check_stage2(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;
	struct lb_nh_tunnel t;

	lb_get_tunnel_stats(lb, &ts);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(ts.decapsulated, 4);
	CU_ASSERT_EQUAL(t.encapsulated, 4);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 4);
}

/* Figure 4: F1 encapsulated to F2 (outer source IP_S); F2 takes the outer
 * header off, balances by the client and encapsulates to the back. */
static void build_stage2(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 4 from the first front", 1, MSLB_OK);
	gd_client(&in, 4, 500, 0x2e, true);
	gd_tunnel_in(s, 4, S4, F2_4, &in);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s = gd_add(c, "6 in 6 from the first front", 1, MSLB_OK);
	gd_client(&in, 6, 500, 0x2e, false);
	gd_tunnel_in(s, 6, S6, F2_6, &in);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 1, false);
	s = gd_add(c, "4 in 6 from the first front: 4 in 4 to the back", 1, MSLB_OK);
	gd_client(&in, 4, 500, 0x2e, false);
	gd_tunnel_in(s, 6, S6, F2_6, &in);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, false);
	s = gd_add(c, "outer fragment 1 of 2", 1, MSLB_OK);
	gd_client(&in, 6, 1280, 0, false);
	gd_encap(&whole, 6, S6, F2_6, in.buf, in.len, 0, false);
	gd_frag6(&s->in, &whole, 0, 1232, true, 7);
	s = gd_add(c, "outer fragment 2 of 2: reassembled, encapsulated again", 1, MSLB_OK);
	gd_frag6(&s->in, &whole, 1232, 48, false, 7);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 3, false);
	s->check = check_stage2;
	s = gd_add(c, "inner packet malformed", 1, MSLB_DROP_TUNNEL_INNER);
	gd_client(&in, 4, 500, 0, true);
	gd_tunnel_in(s, 4, S4, F2_4, &in);
	s->in.b[20 + 10] ^= 1;
}

static void build_stage2_translate(struct gd_script *c)
{
	struct pg_pkt in, e;
	struct gd_step *s;

	s = gd_add(c, "decapsulated, then translated", 1, MSLB_OK);
	gd_client(&in, 4, 500, 0x2e, true);
	gd_tunnel_in(s, 4, S4, F2_4, &in);
	e = in;
	pg_set_dst(&e, tl_ip(B4));
	pg_recompute(&e);
	gd_set(&s->out, e.buf, e.len);
	s = gd_add(c, "IPv6 decapsulated, then translated", 1, MSLB_OK);
	gd_client(&in, 6, 500, 0x2e, false);
	gd_tunnel_in(s, 6, S6, F2_6, &in);
	e = in;
	pg_set_dst(&e, tl_ip(B6));
	pg_recompute(&e);
	gd_set(&s->out, e.buf, e.len);
}

static void test_golden_multistage(void)
{
	static const struct gd_case g[] = {
		{ "second-stage front", FRONT_STAGE2("encapsulate"), build_stage2 },
		{ "second-stage front, translating", FRONT_STAGE2("translate"), build_stage2_translate },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

void suite_golden_multistage(void)
{
	CU_pSuite s = CU_add_suite("golden_multistage", gd_init, NULL);

	UNIT_ADD(s, test_golden_multistage);
}
