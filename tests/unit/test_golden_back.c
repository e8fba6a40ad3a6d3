/* golden_back: the back taking tunnels apart: every family pair, RFC 6040
 * on the way out, allowed sources, refusals, malformed outer headers, and
 * outer fragments reassembled within their bounds. */
#include "golden.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"

static void check_back(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 5);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 3);	/* outer destination B4 */
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 2);	/* B6 */
}

static void build_back(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 4", 1, MSLB_OK);
	gd_client(&in, 4, 400, 0x2a, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "6 in 6", 1, MSLB_OK);
	gd_client(&in, 6, 400, 0x2a, false);
	gd_tunnel_in(s, 6, S6, B6, &in);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "4 in 6", 1, MSLB_OK);
	gd_client(&in, 4, 400, 0x2a, false);
	gd_tunnel_in(s, 6, S6, B6, &in);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "6 in 4", 1, MSLB_OK);
	gd_client(&in, 6, 400, 0x2a, false);
	gd_tunnel_in(s, 4, S4, B4, &in);
	gd_set(&s->out, in.buf, in.len);

	/* RFC 6040: CE on the outer header reaches an ECT inner packet. */
	s = gd_add(c, "outer CE, inner ECT(0): inner CE", 1, MSLB_OK);
	gd_client(&in, 4, 400, 0x2a, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[1] |= 3;
	tp_ip4_csum(s->in.b);
	in.buf[1] |= 3;
	pg_recompute(&in);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "outer CE, inner Not-ECT: dropped", 1, MSLB_DROP_TUNNEL_INNER);
	gd_client(&in, 4, 400, 0x28, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[1] |= 3;
	tp_ip4_csum(s->in.b);
	s->check = check_back;
}

static void build_back_refused(struct gd_script *c)
{
	struct pg_pkt in, in6;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	gd_client(&in6, 6, 200, 0, false);
	s = gd_add(c, "outer source not allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gd_tunnel_in(s, 4, "198.51.100.99", B4, &in);
	s = gd_add(c, "outer source not allowed (IPv6)", 1, MSLB_DROP_TUNNEL_SOURCE);
	gd_tunnel_in(s, 6, "2001:db8:99::1", B6, &in6);
	s = gd_add(c, "protocol 4 carrying IPv6", 1, MSLB_DROP_TUNNEL_INNER);
	gd_tunnel_in(s, 4, S4, B4, &in6);
	s->in.b[9] = 4;
	tp_ip4_csum(s->in.b);
	s = gd_add(c, "next header 41 carrying IPv4", 1, MSLB_DROP_TUNNEL_INNER);
	gd_tunnel_in(s, 6, S6, B6, &in);
	s->in.b[6] = 41;
	s = gd_add(c, "inner header checksum wrong", 1, MSLB_DROP_TUNNEL_INNER);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[20 + 10] ^= 0x40;
	s = gd_add(c, "inner destination not a service", 1, MSLB_DROP_TUNNEL_INNER_DST);
	gd_mk(&in, 4, PG_UDP, C4, "203.0.113.99", 200, 0, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s = gd_add(c, "inner destination not a service (IPv6)", 1, MSLB_DROP_TUNNEL_INNER_DST);
	gd_mk(&in6, 6, PG_UDP, C6, "2001:db8:5::99", 200, 0, false);
	gd_tunnel_in(s, 6, S6, B6, &in6);
}

/* back.allowed_sources replaces the default (the services). */
static void build_back_allowed(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	s = gd_add(c, "from IP_S: no longer allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s = gd_add(c, "from 198.51.100.5: allowed", 1, MSLB_OK);
	gd_tunnel_in(s, 4, "198.51.100.5", B4, &in);
	gd_set(&s->out, in.buf, in.len);
}

static void build_back_malformed(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	s = gd_add(c, "outer header checksum", 1, MSLB_DROP_BAD_CHECKSUM);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[10] ^= 0xff;
	s = gd_add(c, "truncated outer packet", 1, MSLB_DROP_TRUNCATED);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.len = 100;
	s = gd_add(c, "IHL 4", 1, MSLB_DROP_BAD_IHL);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[0] = 0x44;
	tp_ip4_csum(s->in.b);
	s = gd_add(c, "total length below the header", 1, MSLB_DROP_BAD_LENGTH);
	gd_tunnel_in(s, 4, S4, B4, &in);
	pg_put16(s->in.b + 2, 16);
	tp_ip4_csum(s->in.b);
	s = gd_add(c, "version 5", 1, MSLB_DROP_BAD_VERSION);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->in.b[0] = 0x55;
	s = gd_add(c, "IPv6 payload length beyond the packet", 1, MSLB_DROP_TRUNCATED);
	gd_client(&in, 6, 200, 0, false);
	gd_tunnel_in(s, 6, S6, B6, &in);
	s->in.len -= 1;
	s = gd_add(c, "IPv6 header cut", 1, MSLB_DROP_TRUNCATED);
	gd_tunnel_in(s, 6, S6, B6, &in);
	s->in.len = 30;
}

static void check_reasm(struct mslb_lb *lb)
{
	struct reasm_stats r;

	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &r));
	CU_ASSERT_EQUAL(r.datagrams, 2);
	CU_ASSERT_EQUAL(r.fragments, 5);
	CU_ASSERT_EQUAL(r.in_progress, 0);
	CU_ASSERT_EQUAL(r.bad, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 1);
}

/* Outer fragments, as a front sends them, put together again. */
static void build_back_reasm(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	gd_client(&in, 6, 1280, 0, false);
	gd_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	s = gd_add(c, "IPv6 outer fragment 1 of 2", 1, MSLB_OK);
	gd_frag6(&s->in, &whole, 0, 1232, true, 1);
	s = gd_add(c, "IPv6 outer fragment 2 of 2: the inner packet", 1, MSLB_OK);
	gd_frag6(&s->in, &whole, 1232, 48, false, 1);
	gd_set(&s->out, in.buf, in.len);

	gd_client(&in, 4, 1400, 0, true);
	gd_encap(&whole, 4, S4, B4, in.buf, in.len, 9, false);
	s = gd_add(c, "IPv4 outer fragment 2 of 2 first", 2, MSLB_OK);
	gd_frag4(&s->in, &whole, 1176, 224, false);
	s = gd_add(c, "IPv4 outer fragment 1 of 2: the inner packet", 2, MSLB_OK);
	gd_frag4(&s->in, &whole, 0, 1176, true);
	gd_set(&s->out, in.buf, in.len);

	gd_encap(&whole, 4, S4, B4, in.buf, in.len, 10, false);
	s = gd_add(c, "another datagram, fragment 1", 3, MSLB_OK);
	gd_frag4(&s->in, &whole, 0, 1176, true);
	s = gd_add(c, "an overlapping fragment", 3, MSLB_DROP_REASSEMBLY);
	gd_frag4(&s->in, &whole, 1168, 232, false);
	s->check = check_reasm;

	s = gd_add(c, "fragments from a source not allowed", 3, MSLB_DROP_TUNNEL_SOURCE);
	gd_encap(&whole, 4, "198.51.100.99", B4, in.buf, in.len, 11, false);
	gd_frag4(&s->in, &whole, 0, 1176, true);
}

static void check_reasm_cap(struct mslb_lb *lb)
{
	struct reasm_stats r;

	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &r));
	CU_ASSERT_EQUAL(r.source_evictions, 1);
	CU_ASSERT_EQUAL(r.memory_drops, 0);
	CU_ASSERT_EQUAL(r.timeouts, 1);
	CU_ASSERT_EQUAL(r.datagrams, 1);
	CU_ASSERT_EQUAL(r.in_progress, 1);
}

/* reassembly = { memory = 131072; timeout = 5; }: room for one datagram. */
static void build_back_reasm_cap(struct gd_script *c)
{
	static struct gd_pkt a, b;
	struct pg_pkt ia, ib;
	struct gd_step *s;

	gd_client(&ia, 4, 1400, 0, true);
	gd_client(&ib, 4, 1400, 0, true);
	gd_encap(&a, 4, S4, B4, ia.buf, ia.len, 100, false);
	gd_encap(&b, 4, S4, B4, ib.buf, ib.len, 200, false);
	s = gd_add(c, "A fragment 1", 10, MSLB_OK);
	gd_frag4(&s->in, &a, 0, 1176, true);
	s = gd_add(c, "B fragment 1: A, the source's oldest, given up", 10, MSLB_OK);
	gd_frag4(&s->in, &b, 0, 1176, true);
	s = gd_add(c, "B fragment 2: complete", 12, MSLB_OK);
	gd_frag4(&s->in, &b, 1176, 224, false);
	gd_set(&s->out, ib.buf, ib.len);
	s = gd_add(c, "A fragment 2: alone", 12, MSLB_OK);
	gd_frag4(&s->in, &a, 1176, 224, false);
	s = gd_add(c, "A fragment 1 after the timeout: alone", 18, MSLB_OK);
	gd_frag4(&s->in, &a, 0, 1176, true);
	s->check = check_reasm_cap;
}

static void test_golden_back(void)
{
	static const struct gd_case g[] = {
		{ "back decapsulation", BACK(""), build_back },
		{ "back refusals", BACK(""), build_back_refused },
		{ "back allowed_sources", BACK("  allowed_sources = [ \"198.51.100.0/24\" ];\n"), build_back_allowed },
		{ "back malformed outer", BACK(""), build_back_malformed },
		{ "back reassembly", BACK(""), build_back_reasm },
		{ "back reassembly bounds", BACK("  reassembly = { memory = 131072; timeout = 5; };\n"),
		  build_back_reasm_cap },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

void suite_golden_back(void)
{
	CU_pSuite s = CU_add_suite("golden_back", gd_init, NULL);

	UNIT_ADD(s, test_golden_back);
}
