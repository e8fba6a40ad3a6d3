/* golden_mtu: packets too big for the tunnel: the ICMP error the client
 * gets (or not, when none is owed), inner and outer fragments, the ICMP
 * rate limit, and the kernel route's MTU. */
#include <string.h>

#include "golden.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"

/* ---- too big ------------------------------------------------------- */

static void check_icmp_sent_1(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(ts.icmp_sent, 1);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
}

/* path_mtu 1400: tunnel MTU 1380 (IPv4 outer). */
static void build_too_big_v4(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1380 bytes with DF fit", 1, MSLB_OK);
	gd_client(&in, 4, 1380, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s = gd_add(c, "1381 bytes with DF: fragmentation needed, MTU 1380", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 4, 1381, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1380, in.buf, 548);
	s->check = check_icmp_sent_1;
}

/* path_mtu 1400: tunnel MTU 1360 (IPv6 outer). */
static void build_too_big_v6(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1360 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1360, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = gd_add(c, "1361 bytes: packet too big, MTU 1360", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1361, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
	s->check = check_icmp_sent_1;
}

/* outer ipv6, path_mtu 1400: IPv4 inner, tunnel MTU 1360. */
static void build_too_big_v4_in_v6(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1361 bytes with DF: MTU 1360", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 4, 1361, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1360, in.buf, 548);
	s = gd_add(c, "1360 bytes with DF fit", 1, MSLB_OK);
	gd_client(&in, 4, 1360, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
}

/* outer ipv4, path_mtu 1280: tunnel MTU 1260, below IPv6's minimum. */
static void build_v6_in_v4_small(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1300 bytes: packet too big, MTU 1280 (never less)", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1300, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);
	s = gd_add(c, "1280 bytes: outer IPv4 fragments, DF clear", 1, MSLB_OK);
	gd_client(&in, 6, 1280, 0x04, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&whole, 4, S4, B4, in.buf, in.len, 0, false);
	gd_frag4(gd_emit(s), &whole, 0, 1256, true);
	gd_frag4(gd_emit(s), &whole, 1256, 24, false);
	s = gd_add(c, "1260 bytes fit, DF set", 1, MSLB_OK);
	gd_client(&in, 6, 1260, 0x04, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);
}

static void check_v6_small(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1280);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1240);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_CONFIG);
	CU_ASSERT_EQUAL(t.encapsulated, 3);
	CU_ASSERT_EQUAL(t.fragments, 2);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 3);
}

/* outer ipv6, path_mtu 1280: tunnel MTU 1240. IPv6 up to 1280 goes in
 * outer fragments the back reassembles (RFC 2473 7.1). */
static void build_v6_small(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1240 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1240, 0xb8, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = gd_add(c, "1280 bytes: two outer fragments", 1, MSLB_OK);
	gd_client(&in, 6, 1280, 0xb8, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	gd_frag6(gd_emit(s), &whole, 0, 1232, true, 1);
	gd_frag6(gd_emit(s), &whole, 1232, 48, false, 1);
	s = gd_add(c, "1000 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1000, 0xb8, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = gd_add(c, "1281 bytes: packet too big, MTU 1280", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1281, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);
	s->check = check_v6_small;
}

static void check_v4_nodf(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 5);
	CU_ASSERT_EQUAL(t.fragments, 5);
	CU_ASSERT_EQUAL(t.icmp_sent, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, 2000 + 1500);
}

/* path_mtu 1000: tunnel MTU 980. IPv4 without DF: the inner packet is
 * fragmented, each fragment encapsulated. */
static void build_v4_nodf(struct gd_script *c)
{
	struct pg_pkt in, f;
	struct gd_step *s;

	s = gd_add(c, "2000 bytes without DF: three inner fragments", 1, MSLB_OK);
	gd_client(&in, 4, 2000, 0x10, false);
	gd_set(&s->in, in.buf, in.len);
	pg_fragment(&in, 0, 960, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 0, false);
	pg_fragment(&in, 960, 960, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 1, false);
	pg_fragment(&in, 1920, 60, false, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 2, false);

	/* A client's fragment, cut again: offsets carry on, MF stays. */
	s = gd_add(c, "a 1500-byte fragment: two pieces, offsets from 1480", 1, MSLB_OK);
	gd_client(&in, 4, 3500, 0x10, false);
	pg_fragment(&in, 1480, 1480, true, &f);
	gd_set(&s->in, f.buf, f.len);
	pg_fragment(&in, 1480, 960, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 3, false);
	pg_fragment(&in, 2440, 520, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 4, false);
	s->check = check_v4_nodf;
}

static void test_golden_too_big(void)
{
	static const struct gd_case g[] = {
		{ "too big ipv4", FRONT("", "path_mtu = 1400;"), build_too_big_v4 },
		{ "too big ipv6", FRONT("", "path_mtu = 1400;"), build_too_big_v6 },
		{ "too big ipv4 in ipv6", FRONT("", "outer = \"ipv6\"; path_mtu = 1400;"), build_too_big_v4_in_v6 },
		{ "ipv6 in ipv4 below 1280", FRONT("", "outer = \"ipv4\"; path_mtu = 1280;"), build_v6_in_v4_small },
		{ "ipv6 in ipv6 below 1280", FRONT("", "path_mtu = 1280;"), build_v6_small },
		{ "ipv4 without DF", FRONT("", "path_mtu = 1000;"), build_v4_nodf },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- ICMP rate limit ------------------------------------------------ */

static void check_rate(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.icmp_sent, 2);
	CU_ASSERT_EQUAL(t.icmp_rate_limited, 3);
	CU_ASSERT_EQUAL(ts.icmp_sent, 2);
	CU_ASSERT_EQUAL(ts.icmp_rate_limited, 3);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TOO_BIG), 2);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_ICMP_RATE_LIMITED), 3);
}

static void build_rate(struct gd_script *c)
{
	static const struct { const char *what; double now; bool sent; int family; } seq[] = {
		{ "first: sent", 100, true, 4 },
		{ "second at once: rate limited", 100, false, 4 },
		{ "half a second later: still limited", 100.5, false, 4 },
		{ "IPv6 shares the bucket", 100.6, false, 6 },
		{ "a second and a half later: sent", 101.5, true, 4 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(seq); i++) {
		struct pg_pkt in;
		struct gd_step *s = gd_add(c, seq[i].what, seq[i].now,
				    seq[i].sent ? MSLB_DROP_TOO_BIG : MSLB_DROP_ICMP_RATE_LIMITED);

		gd_client(&in, seq[i].family, 1500, 0, true);
		gd_set(&s->in, in.buf, in.len);
		if (seq[i].sent)
			gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1380, in.buf, 548);
	}
	c->s[c->n - 1].check = check_rate;
}

static void test_golden_rate_limit(void)
{
	static const struct gd_case g = {
		"icmp rate limit", FRONT("", "path_mtu = 1400;") "icmp = { rate = 1; burst = 1; };\n", build_rate
	};

	gd_run(&g);
}

/* ---- no error owed, the route's MTU -------------------------------- */

/* Too big, but no error is owed (RFC 1812 4.3.2.7, RFC 4443 2.4 (e)). */
static void build_no_error_owed(struct gd_script *c)
{
	struct pg_pkt in, srv, f;
	struct gd_step *s;

	s = gd_add(c, "an ICMP error with DF, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	gd_mk(&srv, 4, PG_UDP, S4, C4, 1500, 0, false);
	s->in.len = gd_icmp_msg(s->in.b, 4, C4, S4, 0, 3, 3, 0, srv.buf, 1372);
	s->in.b[6] = 0x40;
	tp_ip4_csum(s->in.b);

	s = gd_add(c, "a later fragment with DF, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 4, 3000, 0, false);
	pg_fragment(&in, 1480, 1480, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	gd_set(&s->in, f.buf, f.len);

	s = gd_add(c, "a first fragment with DF, too big: an error", 1, MSLB_DROP_TOO_BIG);
	pg_fragment(&in, 0, 1480, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	gd_set(&s->in, f.buf, f.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1380, f.buf, 548);

	s = gd_add(c, "from a multicast source: dropped silently", 1, MSLB_DROP_TOO_BIG);
	gd_mk(&in, 4, PG_UDP, "224.0.0.9", S4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);

	s = gd_add(c, "ICMPv6 error, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	gd_mk(&srv, 6, PG_UDP, S6, C6, 1500, 0, false);
	s->in.len = gd_icmp_msg(s->in.b, 6, C6, S6, 0, 1, 4, 0, srv.buf, 1352);

	s = gd_add(c, "ICMPv6 echo, too big: an error", 1, MSLB_DROP_TOO_BIG);
	gd_mk(&in, 6, PG_ICMPV6, C6, S6, 1400, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
}

static void test_golden_no_error_owed(void)
{
	static const struct gd_case g = { "too big, no error owed", FRONT("", "path_mtu = 1400;"), build_no_error_owed };

	gd_run(&g);
}

/* The MTU of the kernel's route toward the next hop counts unless the
 * file says path_mtu. */
static void test_golden_route_mtu(void)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static const char *const confs[] = { FRONT("", ""), FRONT("", "path_mtu = 1450;") };

	for (int i = 0; i < 2; i++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = tl_lb_new(confs[i], "route mtu", &cfg);
		struct lb_nh_tunnel t;
		struct pg_pkt in;
		struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };
		unsigned tmtu = i ? 1430 : 1380;
		static struct gd_pkt e;

		CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
		lb_set_emit(lb, gd_capture, NULL);
		lb_set_time(lb, 1);
		lb_set_route_mtu(lb, 0, false, 1400);
		lb_set_route_mtu(lb, 0, true, 9000);
		lb_next_hop_tunnel(lb, 0, &t);
		CU_ASSERT_EQUAL(t.path_mtu[0], i ? 1450 : 1400);
		CU_ASSERT_EQUAL(t.source[0], i ? LB_MTU_CONFIG : LB_MTU_ROUTE);
		CU_ASSERT_EQUAL(t.path_mtu[1], i ? 1450 : 9000);
		gd_client(&in, 4, tmtu + 1, 0, true);
		memcpy(p.data, in.buf, in.len);
		p.len = in.len;
		gd_cap.n = 0;
		CU_ASSERT_EQUAL(lb_process_pkt(lb, &p), MSLB_DROP_TOO_BIG);
		CU_ASSERT_EQUAL_FATAL(gd_cap.n, 1);
		gd_icmp(&e, 4, S4, C4, 3, 4, tmtu, in.buf, 548);
		CU_ASSERT(gd_match("route mtu", gd_cap.p[0].b, gd_cap.p[0].len, &e));
		/* IPv6 on a 9000-byte route: 3000 bytes go whole. */
		if (!i) {
			gd_client(&in, 6, 3000, 0, false);
			p.data = buf + IO_HEADROOM;
			memcpy(p.data, in.buf, in.len);
			p.len = in.len;
			CU_ASSERT_EQUAL(lb_process_pkt(lb, &p), MSLB_OK);
			CU_ASSERT_EQUAL(p.len, 3040);
		}
		tl_lb_free(lb, cfg);
	}
}

void suite_golden_mtu(void)
{
	CU_pSuite s = CU_add_suite("golden_mtu", gd_init, NULL);

	UNIT_ADD(s, test_golden_too_big);
	UNIT_ADD(s, test_golden_rate_limit);
	UNIT_ADD(s, test_golden_no_error_owed);
	UNIT_ADD(s, test_golden_route_mtu);
}
