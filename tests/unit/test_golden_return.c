/* golden_return: a back's replies into the return tunnel (and the errors
 * about it), and the return endpoint taking them apart. */
#include <string.h>

#include "golden.h"
#include "testlib.h"
#include "unit.h"
#include "lb/lb.h"

/* The return tunnel packet a router's error quotes. */
static struct gd_pkt outer_sent;

static void check_return(struct mslb_lb *lb)
{
	CU_ASSERT_EQUAL(lb_return_counter(lb).packets, 2);
	CU_ASSERT_EQUAL(lb_return_counter(lb).bytes, 300 + 400);
}

static void build_return(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "server reply (IPv4) into the return tunnel", 1, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, S4, C4, 300, 0x48, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, B4, E4, in.buf, in.len, 0, true);
	s = gd_add(c, "server reply (IPv6) into the return tunnel", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, S6, C6, 400, 0x48, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, B6, E6, in.buf, in.len, 0, false);
	s->check = check_return;
	s = gd_add(c, "too big for the return tunnel: the server hears", 1, MSLB_DROP_TOO_BIG);
	gd_mk(&in, 4, PG_TCP, S4, C4, 1500, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, B4, S4, 3, 4, 1480, in.buf, 548);
	s = gd_add(c, "tunnels still decapsulated", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	gd_set(&s->out, in.buf, in.len);
	s = gd_add(c, "not from a service: not ours", 1, MSLB_DROP_NOT_OURS);
	gd_mk(&in, 4, PG_TCP, "203.0.113.99", C4, 300, 0, true);
	gd_set(&s->in, in.buf, in.len);
}

static void check_endpoint(struct mslb_lb *lb)
{
	CU_ASSERT_EQUAL(lb_endpoint_counter(lb).packets, 2);
	CU_ASSERT_EQUAL(lb_endpoint_counter(lb).bytes, 300 + 400);
}

static void build_endpoint(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "IPv4 return tunnel", 1, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, S4, C4, 300, 0x48, true);
	gd_tunnel_in(s, 4, B4, E4, &in);
	gd_set(&s->out, in.buf, in.len);
	s = gd_add(c, "IPv6 return tunnel", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, S6, C6, 400, 0x48, false);
	gd_tunnel_in(s, 6, B6, E6, &in);
	gd_set(&s->out, in.buf, in.len);
	s->check = check_endpoint;
	s = gd_add(c, "from a source not allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gd_tunnel_in(s, 6, "2001:db8:99::1", E6, &in);
	s = gd_add(c, "inner version mismatch", 1, MSLB_DROP_TUNNEL_INNER);
	gd_tunnel_in(s, 6, B6, E6, &in);
	s->in.b[6] = 4;
	s = gd_add(c, "not a tunnel packet", 1, MSLB_DROP_NOT_OURS);
	gd_mk(&in, 4, PG_UDP, C4, E4, 100, 0, true);
	gd_set(&s->in, in.buf, in.len);
}

static void check_return_learned(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_return_tunnel(lb, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1280);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT(t.expires_in[0] > 598.9 && t.expires_in[0] < 599.1);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(t.icmp_sent, 2);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
}

/* Errors about the return tunnel come back to IP_B: its path MTU is
 * learned and the server hears, from IP_B. */
static void build_return_icmp(struct gd_script *c)
{
	static struct pg_pkt in;
	struct pg_pkt other;
	struct gd_step *s;

	s = gd_add(c, "server reply of 1400 bytes with DF", 10, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, S4, C4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, B4, E4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = gd_add(c, "router to IP_B: fragmentation needed, MTU 1300", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, B4, 0, 3, 4, 1300, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, B4, S4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = gd_add(c, "1400 bytes now too big: MTU 1280 to the server", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, B4, S4, 3, 4, 1280, in.buf, 548);
	s->check = check_return_learned;

	s = gd_add(c, "an error to IP_B about something else: to the server as usual", 11, MSLB_OK);
	gd_mk(&other, 4, PG_UDP, B4, "192.0.2.99", 100, 0, false);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, B4, 0, 3, 3, 0, other.buf, 100);
	gd_set(&s->out, s->in.b, s->in.len);
	memcpy(s->out.b + 16, tl_ip(S4), 4);
	gd_icmp_fix(&s->out);

	s = gd_add(c, "IPv6 server reply of 1450 bytes", 12, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, S6, C6, 1450, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, B6, E6, in.buf, in.len, 1, false);
	outer_sent = s->out;

	s = gd_add(c, "router to IP_B: packet too big, MTU 1400", 12, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 6, R6, B6, 0, 2, 0, 1400, outer_sent.b, 1232);
	gd_icmp(gd_emit(s), 6, B6, S6, 2, 0, 1360, outer_sent.b + 40, 1192);
}

static void test_golden_return(void)
{
	static const struct gd_case g[] = {
		{ "return tunnel", BACK("  return_tunnel = { ipv4 = " Q(E4) "; ipv6 = " Q(E6) "; };\n"), build_return },
		{ "return endpoint", ENDPOINT, build_endpoint },
		{ "return tunnel icmp", BACK("  return_tunnel = { ipv4 = " Q(E4) "; ipv6 = " Q(E6) "; };\n"),
		  build_return_icmp },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

void suite_golden_return(void)
{
	CU_pSuite s = CU_add_suite("golden_return", gd_init, NULL);

	UNIT_ADD(s, test_golden_return);
}
