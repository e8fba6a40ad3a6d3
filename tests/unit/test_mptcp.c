/* mptcp: the front policy of MPTCP Proposal 1 (service ports hashed by
 * 5-tuple, other ports routed by server_id) and its configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "unit.h"
#include "config/config.h"
#include "lb/lb.h"

#define CONF \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"s1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; server_id = 1001; },\n" \
	"    { name = \"s2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; server_id = 1002; },\n" \
	"    { name = \"s3\"; ipv4 = \"198.51.100.13\"; ipv6 = \"2001:db8:b::13\"; server_id = 1003; weight = 2; }\n" \
	"  );\n" \
	"  table = ( { source = \"192.0.2.0/24\"; next_hop = \"s2\"; } );\n" \
	"  unmatched = \"s1\";\n" \
	"  mptcp = { service_ports = [ 80, 443 ]; };\n" \
	"};\n"

static struct mslb_config *cfg;
static struct mslb_lb *lb;
static struct pg_rng rng;

static int init(void)
{
	pg_seed(&rng, 0x5eed1);
	lb = tl_lb_new(CONF, "mptcp.conf", &cfg);
	return lb ? 0 : -1;
}

static int fini(void)
{
	tl_lb_free(lb, cfg);
	return 0;
}

static void tcp(struct pg_pkt *p, int family, const char *src, uint16_t sport, uint16_t dport)
{
	struct pg_spec s;
	const char *dst = family == 4 ? "203.0.113.10" : "2001:db8:5::10";

	pg_spec_init(&s, family, PG_TCP);
	tl_addr(src, s.src);
	tl_addr(dst, s.dst);
	s.payload = 20;
	pg_build(p, &s, &rng);
	pg_put16(p->buf + p->l3len, sport);
	pg_put16(p->buf + p->l3len + 2, dport);
	pg_recompute(p);
}

/* Which next hop p went to, as 11, 12 or 13 (the last byte of its IPv4
 * address, 0x11-0x13 of its IPv6 one), or 0 with *drop set. */
static unsigned route(const struct pg_pkt *p, enum mslb_drop *drop)
{
	uint8_t buf[PG_BUFSZ];
	uint32_t len = p->len;

	memcpy(buf, p->buf, p->len);
	*drop = tl_process(lb, buf, sizeof(buf), &len);
	if (*drop != MSLB_OK) {
		CU_ASSERT_EQUAL(memcmp(buf, p->buf, p->len), 0);	/* untouched */
		return 0;
	}
	{
		unsigned last = buf[pg_dst_off(p) + pg_addr_len(p) - 1];

		return p->family == 6 ? last - 0x11 + 11 : last;
	}
}

static void test_service_port_hash(void)
{
	unsigned seen[256] = { 0 };
	enum mslb_drop d;
	uint64_t hits_before = 0, hits_after = 0;
	struct pg_pkt p;

	for (unsigned i = 0; i < 3; i++)
		hits_before += lb_next_hop_hash_hits(lb, i);
	for (int fam = 4; fam <= 6; fam += 2) {
		for (unsigned i = 0; i < 600; i++) {
			const char *src = fam == 4 ? "192.0.2.7" : "2001:db8:c1::7";
			unsigned first, again;

			tcp(&p, fam, src, (uint16_t)(20000 + i), i % 2 ? 80 : 443);
			first = route(&p, &d);
			CU_ASSERT_EQUAL(d, MSLB_OK);
			again = route(&p, &d);	/* same 5-tuple, same server */
			CU_ASSERT_EQUAL(first, again);
			seen[first]++;
		}
	}
	/* The table says s2 for 192.0.2.0/24: the 5-tuple overrides it for
	 * TCP, and weight 2 gives s3 about half of everything. */
	CU_ASSERT(seen[11] > 200 && seen[12] > 200 && seen[13] > 450);
	CU_ASSERT(seen[11] + seen[12] + seen[13] == 1200);
	for (unsigned i = 0; i < 3; i++)
		hits_after += lb_next_hop_hash_hits(lb, i);
	CU_ASSERT_EQUAL(hits_after - hits_before, 2400);
}

static void test_server_id_port(void)
{
	struct pg_pkt p;
	enum mslb_drop d;
	uint64_t before = lb_next_hop_port_hits(lb, 1);

	for (unsigned i = 0; i < 50; i++) {
		tcp(&p, i % 2 ? 6 : 4, i % 2 ? "2001:db8:c9::1" : "198.51.100.200", (uint16_t)(40000 + i), 1002);
		CU_ASSERT_EQUAL(route(&p, &d), 12);
	}
	CU_ASSERT_EQUAL(lb_next_hop_port_hits(lb, 1) - before, 50);
	tcp(&p, 4, "192.0.2.9", 5555, 1003);
	CU_ASSERT_EQUAL(route(&p, &d), 13);
}

static void test_unknown_port(void)
{
	struct pg_pkt p;
	enum mslb_drop d;
	uint64_t before = lb_drops(lb, MSLB_DROP_UNKNOWN_PORT);

	tcp(&p, 4, "192.0.2.9", 5555, 22);
	CU_ASSERT_EQUAL(route(&p, &d), 0);
	CU_ASSERT_EQUAL(d, MSLB_DROP_UNKNOWN_PORT);
	tcp(&p, 6, "2001:db8:c1::9", 5555, 1004);
	CU_ASSERT_EQUAL(route(&p, &d), 0);
	CU_ASSERT_EQUAL(d, MSLB_DROP_UNKNOWN_PORT);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_UNKNOWN_PORT) - before, 2);
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_UNKNOWN_PORT), "unknown_port");
}

/* A fragmented TCP segment cannot be placed without state: every
 * fragment, the first (with ports) too, is dropped and counted. */
static void test_tcp_fragments(void)
{
	struct pg_pkt w, f;
	enum mslb_drop d;
	uint64_t before = lb_drops(lb, MSLB_DROP_TCP_FRAGMENT);

	for (int fam = 4; fam <= 6; fam += 2) {
		tcp(&w, fam, fam == 4 ? "192.0.2.7" : "2001:db8:c1::7", 40001, 80);
		pg_fragment(&w, 0, 24, true, &f);	/* the whole TCP header and more */
		CU_ASSERT_EQUAL(route(&f, &d), 0);
		CU_ASSERT_EQUAL(d, MSLB_DROP_TCP_FRAGMENT);
		pg_fragment(&w, 24, w.len - w.l3len - 24, false, &f);
		CU_ASSERT_EQUAL(route(&f, &d), 0);
		CU_ASSERT_EQUAL(d, MSLB_DROP_TCP_FRAGMENT);
	}
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TCP_FRAGMENT) - before, 4);
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_TCP_FRAGMENT), "tcp_fragment");
}

/* Not TCP: the MSLB table and the unmatched policy still decide. */
static void test_other_protocols_follow_table(void)
{
	struct pg_spec s;
	struct pg_pkt p;
	struct mslb_addr a;
	enum mslb_drop d;

	pg_spec_init(&s, 4, PG_UDP);
	mslb_addr_parse("192.0.2.7", &a);
	memcpy(s.src, a.bytes, 4);
	mslb_addr_parse("203.0.113.10", &a);
	memcpy(s.dst, a.bytes, 4);
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(route(&p, &d), 12);	/* table: s2 */
	mslb_addr_parse("198.51.100.77", &a);
	memcpy(p.buf + 12, a.bytes, 4);
	pg_recompute(&p);
	CU_ASSERT_EQUAL(route(&p, &d), 11);	/* unmatched: s1 */
}

/* Each bad MPTCP setting and the exact line it yields. */
static void test_config_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; server_id = 7; },\n"
		  "                { name = \"b\"; ipv4 = \"198.51.100.2\"; } );\n"
		  "  mptcp = { service_ports = [ 80 ]; }; };\n",
		  "m.conf:4: front.mptcp: next hop \"b\" has no server_id (allowed: every next hop with a server_id of 1-65535 when front.mptcp.proposal is 1)" },
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; server_id = 80; } );\n"
		  "  mptcp = { service_ports = [ 80 ]; }; };\n",
		  "m.conf:3: front.mptcp.service_ports[0]: 80 is the server_id of \"a\" (allowed: a port that is no server_id)" },
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; server_id = 9; },\n"
		  "                { name = \"b\"; ipv4 = \"198.51.100.2\"; server_id = 9; } ); };\n",
		  "m.conf:3: front.next_hops[1].server_id: 9 is the server_id of \"a\" too (allowed: a unique server_id)" },
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; weight = 0; } ); };\n",
		  "m.conf:2: front.next_hops[0].weight: 0 is out of range (allowed: 1-1000)" },
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; server_id = 1; } );\n"
		  "  mptcp = { service_ports = [ 70000 ]; }; };\n",
		  "m.conf:3: front.mptcp.service_ports[0]: not a port (allowed: 1-65535)" },
		{ "front = { services = [ \"203.0.113.10\" ];\n"
		  "  next_hops = ( { name = \"a\"; ipv4 = \"198.51.100.1\"; server_id = 1; } );\n"
		  "  mptcp = { service_ports = [ 80,\n"
		  "                              80 ]; }; };\n",
		  "m.conf:4: front.mptcp.service_ports[1]: 80 is listed twice (allowed: each port once)" },
		{ "back = { addresses = ( { address = \"198.51.100.1\"; service = \"203.0.113.10\"; } );\n"
		  "  mptcp = { subflows = 2; }; };\n",
		  "m.conf:2: back.mptcp.server_id: missing (allowed: 1-65535, the port this server announces)" },
		{ "back = { addresses = ( { address = \"198.51.100.1\"; service = \"203.0.113.10\"; } );\n"
		  "  mptcp = { server_id = 5;\n"
		  "            subflows = 9; }; };\n",
		  "m.conf:3: back.mptcp.subflows: 9 is out of range (allowed: 0-8)" },
		/* Proposal 2 at the back: the same port list as the front's. */
		{ "back = { addresses = ( { address = \"198.51.100.1\"; service = \"203.0.113.10\"; } );\n"
		  "  proposal2 = { service_ports = [ 443,\n"
		  "                                443 ]; }; };\n",
		  "m.conf:3: back.proposal2.service_ports[1]: 443 is listed twice (allowed: each port once)" },
		{ "back = { addresses = ( { address = \"198.51.100.1\"; service = \"203.0.113.10\"; } );\n"
		  "  proposal2 = { steer = true; }; };\n",
		  "m.conf:2: back.proposal2.service_ports: missing (allowed: a list of 1-16 TCP ports, e.g. [ 80, 443 ])" },
		{ "back = { addresses = ( { address = \"198.51.100.1\"; service = \"203.0.113.10\"; } );\n"
		  "  proposal2 = { service_ports = [ 80 ];\n"
		  "                syncookies = true; }; };\n",
		  "m.conf:3: back.proposal2.syncookies: unknown setting (allowed: service_ports, max_flows, flow_idle, steer)" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_errors errs;
		struct mslb_config *c = config_load_string(cases[i].text, "m.conf", &errs);

		CU_ASSERT_PTR_NULL(c);
		config_free(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		if (errs.n < 1 || strcmp(errs.line[0], cases[i].want)) {
			printf("\n  case %u: got \"%s\"\n  want \"%s\"", i, errs.n ? errs.line[0] : "(none)", cases[i].want);
			CU_FAIL("wrong error line");
		}
	}
}

static void test_config_values(void)
{
	CU_ASSERT(cfg->front.has_mptcp);
	CU_ASSERT_EQUAL(cfg->front.n_service_ports, 2);
	CU_ASSERT_EQUAL(cfg->front.service_ports[1], 443);
	CU_ASSERT_EQUAL(cfg->front.next_hops[2].server_id, 1003);
	CU_ASSERT_EQUAL(cfg->front.next_hops[2].weight, 2);
	CU_ASSERT_EQUAL(cfg->front.next_hops[0].weight, 1);
}

void suite_mptcp(void)
{
	CU_pSuite s = CU_add_suite("mptcp", init, fini);

	UNIT_ADD(s, test_config_values);
	UNIT_ADD(s, test_service_port_hash);
	UNIT_ADD(s, test_server_id_port);
	UNIT_ADD(s, test_unknown_port);
	UNIT_ADD(s, test_tcp_fragments);
	UNIT_ADD(s, test_other_protocols_follow_table);
	UNIT_ADD(s, test_config_errors);
}
