/* golden_icmp: ICMP errors arriving at the front: about its own tunnel
 * packets (the path MTU learned, the client told, pmtu_expires, the tunnel
 * source), about its outer fragments, about a server's packets (balanced
 * as the client's); and what they taught surviving a reload. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "golden.h"
#include "testlib.h"
#include "unit.h"
#include "base/addr.h"
#include "lb/lb.h"

/* ---- ICMP errors about the front's own tunnel packets ---------------- */

static struct gd_pkt outer_sent;

static void check_learned_v4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1280);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT(t.expires_in[0] > 598.9 && t.expires_in[0] < 599.1);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);		/* the IPv6 tunnel is another path */
	CU_ASSERT_NOT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 1);
	CU_ASSERT_EQUAL(ts.icmp_sent, 2);
}

static void check_expired_v4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.expires_in[0], 0);
}

/* A router between front and back says the tunnel path is 1300 bytes:
 * the next hop's tunnel MTU drops to 1280 for pmtu_expires, and the client
 * hears about it. */
static void build_icmp_outer_v4(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = gd_add(c, "router: fragmentation needed, MTU 1300", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1300, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = gd_add(c, "1400 bytes now too big: MTU 1280", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1280, in.buf, 548);
	s->check = check_learned_v4;

	s = gd_add(c, "1280 bytes fit", 11, MSLB_OK);
	gd_client(&in, 4, 1280, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);

	s = gd_add(c, "a larger MTU later does not raise it", 12, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1450, outer_sent.b, 28);

	s = gd_add(c, "after pmtu_expires: 1400 bytes go through again", 700, MSLB_OK);
	gd_client(&in, 4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, true);
	s->check = check_expired_v4;
}

static void check_floor(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 552);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 532);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 3);
}

/* An absurd MTU is not believed below 552; a quote of only the outer
 * header and 8 bytes teaches the MTU but cannot be relayed; an unreachable
 * is relayed as host unreachable. */
static void build_icmp_outer_floor(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1000 bytes with DF", 10, MSLB_OK);
	gd_client(&in, 4, 1000, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = gd_add(c, "router: MTU 300, RFC 792 quote", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 300, outer_sent.b, 28);
	s = gd_add(c, "router without an MTU", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 0, outer_sent.b, 28);
	s = gd_add(c, "host unreachable, relayed", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 1, 0, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 1, 0, outer_sent.b + 20, 528);
	s->check = check_floor;
}

static void check_learned_v6(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1400);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1360);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
}

static void build_icmp_outer_v6(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1450 bytes go through", 10, MSLB_OK);
	gd_client(&in, 6, 1450, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	outer_sent = s->out;

	s = gd_add(c, "router: packet too big, MTU 1400", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, outer_sent.b, 1232);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1360, outer_sent.b + 40, 1192);
	s->check = check_learned_v6;

	s = gd_add(c, "1450 bytes now too big: MTU 1360", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
}

/* IPv6 clients over an IPv4 tunnel: the IPv4 error becomes an ICMPv6 one. */
static void build_icmp_outer_6in4(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes go through", 10, MSLB_OK);
	gd_client(&in, 6, 1400, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = gd_add(c, "router: fragmentation needed, MTU 1350", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1350, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1330, outer_sent.b + 20, 528);

	s = gd_add(c, "1400 bytes now too big: MTU 1330", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1330, in.buf, 1232);

	s = gd_add(c, "1280 bytes fit", 11, MSLB_OK);
	gd_client(&in, 6, 1280, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);
}

/* tunnel_source need not be a service: the errors about the tunnel come
 * back to it (hostcfg routes it into the TUN), and must be understood. */
static void build_icmp_outer_tsrc(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, "198.51.100.77", B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = gd_add(c, "router to the tunnel source: MTU 1300", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, "198.51.100.77", 0, 3, 4, 1300, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = gd_add(c, "1400 bytes now too big", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1280, in.buf, 548);
}

static void test_golden_icmp_outer(void)
{
	static const struct gd_case g[] = {
		{ "icmp about the tunnel (ipv4)", FRONT("", ""), build_icmp_outer_v4 },
		{ "icmp about the tunnel: floor, short quote", FRONT("", ""), build_icmp_outer_floor },
		{ "icmp about the tunnel (ipv6)", FRONT("", ""), build_icmp_outer_v6 },
		{ "icmp about the tunnel (6 in 4)", FRONT("", "outer = \"ipv4\";"), build_icmp_outer_6in4 },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

static void test_golden_icmp_outer_tunnel_source(void)
{
	static const struct gd_case g = {
		"icmp about the tunnel to tunnel_source",
		FRONT("  tunnel_source = { ipv4 = \"198.51.100.77\"; };\n", ""), build_icmp_outer_tsrc
	};

	gd_run(&g);
}

/* ---- errors about the front's outer fragments ----------------------- */

/* A router's error (time exceeded) about one of the front's outer IPv6
 * fragments: the quote is the front's own tunnel packet, fragment header
 * and all. It is not a server's packet: it must not be balanced by its
 * quoted destination (the next hop) and sent on to a back. */
static void test_golden_icmp_outer_fragment(void)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static struct gd_pkt whole, f1, icmp;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(FRONT("", "path_mtu = 1280;"), "outer fragment", &cfg);
	struct pg_pkt in;
	struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };
	enum mslb_drop r;
	uint64_t sent;

	lb_set_emit(lb, gd_capture, NULL);
	lb_set_time(lb, 1);

	gd_client(&in, 6, 1280, 0, false);
	memcpy(p.data, in.buf, in.len);
	p.len = in.len;
	gd_cap.n = 0;
	CU_ASSERT_EQUAL_FATAL(lb_process_pkt(lb, &p), MSLB_OK);
	CU_ASSERT_EQUAL_FATAL(gd_cap.n, 2);
	gd_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	gd_frag6(&f1, &whole, 0, 1232, true, 1);
	CU_ASSERT(gd_match("outer fragment", gd_cap.p[0].b, gd_cap.p[0].len, &f1));
	sent = lb_next_hop_counter(lb, 0).packets;

	/* Hop limit exceeded in transit, quoting the first fragment. */
	icmp.len = gd_icmp_msg(icmp.b, 6, R6, S6, 0, 3, 0, 0, gd_cap.p[0].b, 1232);
	p.data = buf + IO_HEADROOM;
	memcpy(p.data, icmp.b, icmp.len);
	p.len = icmp.len;
	p.off = (struct io_offload){ 0 };
	gd_cap.n = 0;
	r = lb_process_pkt(lb, &p);
	CU_ASSERT(r != MSLB_OK || p.len == 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, sent);
	for (unsigned k = 0; k < gd_cap.n && k < GD_MAX_EMIT; k++) {
		CU_ASSERT_NOT_EQUAL(memcmp(gd_cap.p[k].b + 24, tl_ip(B6), 16), 0);
		if (!memcmp(gd_cap.p[k].b + 24, tl_ip(B6), 16))
			printf("\n  error about an outer fragment sent on to the next hop (%u bytes, emitted #%u)",
			       gd_cap.p[k].len, k);
	}
	if (r == MSLB_OK && p.len) {
		char a[MSLB_ADDRSTRLEN];
		struct mslb_addr d;

		mslb_addr_from_bytes(&d, (p.data[0] >> 4) == 4 ? AF_INET : AF_INET6,
				     p.data + ((p.data[0] >> 4) == 4 ? 16 : 24));
		printf("\n  error about an outer fragment sent on: %u bytes to %s", p.len,
		       mslb_addr_str(&d, a, sizeof(a)));
	}
	tl_lb_free(lb, cfg);
}

/* ---- ICMP errors about a server's packets ---------------------------- */

static bool icmp_translate;

static void check_followed(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.icmp_received, 3);
	CU_ASSERT_EQUAL(ts.icmp_followed, 2);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 1);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 1), 1);
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
}

/* The error goes where the client's packets go (b2), not where the
 * router's own packets would (b1): translated or encapsulated. */
static void icmp_to(struct gd_step *s, const char *nh, uint16_t id)
{
	if (icmp_translate) {
		gd_set(&s->out, s->in.b, s->in.len);
		memcpy(s->out.b + ((s->in.b[0] >> 4) == 4 ? 16 : 24), tl_ip(nh), (s->in.b[0] >> 4) == 4 ? 4 : 16);
		gd_icmp_fix(&s->out);
	} else {
		gd_encap(&s->out, (s->in.b[0] >> 4) == 4 ? 4 : 6, (s->in.b[0] >> 4) == 4 ? S4 : S6, nh, s->in.b,
			s->in.len, id, false);
	}
}

static void build_icmp_server(struct gd_script *c)
{
	struct pg_pkt srv;
	struct gd_step *s;

	s = gd_add(c, "fragmentation needed about IP_S -> client", 1, MSLB_OK);
	gd_mk(&srv, 4, PG_TCP, S4, C4, 1500, 0, true);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1400, srv.buf, 548);
	icmp_to(s, B2_4, 0);

	s = gd_add(c, "packet too big about IP_S -> client", 1, MSLB_OK);
	gd_mk(&srv, 6, PG_TCP, S6, C6, 1500, 0, false);
	s->in.len = gd_icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, srv.buf, 1232);
	icmp_to(s, B2_6, 1);

	/* About a packet that is not a server's: balanced by its own source. */
	s = gd_add(c, "an error about someone else's packet", 1, MSLB_OK);
	gd_mk(&srv, 4, PG_UDP, "192.0.2.77", "198.51.100.99", 100, 0, false);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 3, 0, srv.buf, 100);
	icmp_to(s, B4, 1 + !icmp_translate);
	s->check = check_followed;
}

static void build_icmp_server_enc(struct gd_script *c)
{
	icmp_translate = false;
	build_icmp_server(c);
}

static void build_icmp_server_xlate(struct gd_script *c)
{
	icmp_translate = true;
	build_icmp_server(c);
}

static void test_golden_icmp_server(void)
{
	static const struct gd_case g[] = {
		{ "icmp about a server's packet, encapsulate", FRONT2("encapsulate"), build_icmp_server_enc },
		{ "icmp about a server's packet, translate", FRONT2("translate"), build_icmp_server_xlate },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- reloads --------------------------------------------------------- */

/* What ICMP taught survives a reload when the next hop's address stays. */
static void test_golden_reload(void)
{
	static const char *const confs[] = {
		FRONT("", ""),
		FRONT("", ""),
		"front = { services = [ " Q(S4) ", " Q(S6) " ]; mode = \"encapsulate\";\n"
		"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.21\"; ipv6 = " Q(B6) "; } ); unmatched = \"b1\"; };\n",
	};
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static struct gd_pkt outer, icmp;
	struct mslb_config *cfg[3];
	struct mslb_lb *lb[3];
	struct lb_nh_tunnel t;
	struct pg_pkt in;
	struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };

	for (int i = 0; i < 3; i++)
		lb[i] = tl_lb_load(confs[i], "reload", &cfg[i]);
	lb_set_emit(lb[0], gd_capture, NULL);
	lb_set_time(lb[0], 10);
	for (int family = 4; family <= 6; family += 2) {
		gd_client(&in, family, 1400, 0, true);
		memcpy(p.data, in.buf, in.len);
		p.len = in.len;
		CU_ASSERT_EQUAL_FATAL(lb_process_pkt(lb[0], &p), MSLB_OK);
		gd_set(&outer, p.data, p.len);
		icmp.len = gd_icmp_msg(icmp.b, family, family == 4 ? R4 : R6, family == 4 ? S4 : S6, 0,
				    family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300 + family, outer.b, 548);
		p.data = buf + IO_HEADROOM;
		memcpy(p.data, icmp.b, icmp.len);
		p.len = icmp.len;
		CU_ASSERT_EQUAL(lb_process_pkt(lb[0], &p), MSLB_OK);
		CU_ASSERT_EQUAL(p.len, 0);
	}
	lb_next_hop_tunnel(lb[0], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1304);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);

	/* Same addresses: kept, counters too. */
	lb_adopt_counters(lb[1], lb[0]);
	lb_set_time(lb[1], 20);
	lb_next_hop_tunnel(lb[1], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1304);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	CU_ASSERT_EQUAL(t.icmp_received, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb[1], 0).packets, 2);

	/* The IPv4 address changed: that path is another one. */
	lb_adopt_counters(lb[2], lb[1]);
	lb_set_time(lb[2], 21);
	lb_next_hop_tunnel(lb[2], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb[2], 0).packets, 2);
	for (int i = 0; i < 3; i++)
		tl_lb_free(lb[i], cfg[i]);
}

void suite_golden_icmp(void)
{
	CU_pSuite s = CU_add_suite("golden_icmp", gd_init, NULL);

	UNIT_ADD(s, test_golden_icmp_outer);
	UNIT_ADD(s, test_golden_icmp_outer_tunnel_source);
	UNIT_ADD(s, test_golden_icmp_outer_fragment);
	UNIT_ADD(s, test_golden_icmp_server);
	UNIT_ADD(s, test_golden_reload);
}
