/* lb: the data path from a config loaded with config_load_string: which
 * next hop, which bytes out, which counters, which drop reasons. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pktgen.h"
#include "testlib.h"
#include "unit.h"
#include "config/config.h"
#include "lb/lb.h"

#define CONF_FMT \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; },\n" \
	"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/25\"; next_hop = \"b1\"; },\n" \
	"    { source = \"192.0.2.128/25\"; next_hop = \"b2\"; },\n" \
	"    { source = \"192.0.2.192/26\"; next_hop = \"b3\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; },\n" \
	"    { source = \"2001:db8:c2::/48\"; next_hop = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"%s\";\n" \
	"};\n" \
	"back = {\n" \
	"  addresses = (\n" \
	"    { address = \"198.51.100.21\"; service = \"203.0.113.10\"; },\n" \
	"    { address = \"2001:db8:b::21\"; service = \"2001:db8:5::10\"; }\n" \
	"  );\n" \
	"};\n"

static struct pg_rng rng;
static struct mslb_config *cfg;
static struct mslb_lb *lb;

static void setup_text(const char *text)
{
	lb = tl_lb_load(text, "lb.conf", &cfg);
}

static void setup(const char *unmatched)
{
	char text[2048];

	snprintf(text, sizeof(text), CONF_FMT, unmatched);
	setup_text(text);
}

static void teardown(void)
{
	tl_lb_free(lb, cfg);
	lb = NULL;
	cfg = NULL;
}

/* A random packet of proto from src to dst. */
static void mk(struct pg_pkt *p, uint8_t proto, const char *src, const char *dst)
{
	struct pg_spec s;

	pg_spec_init(&s, strchr(src, ':') ? 6 : 4, proto);
	tl_addr(src, s.src);
	tl_addr(dst, s.dst);
	s.payload = pg_range(&rng, 0, 300);
	pg_build(p, &s, &rng);
}

/* Process p, expecting it rewritten to new_dst (with every checksum right)
 * and returning its length; fails the test otherwise. */
static uint32_t expect_rewrite(const struct pg_pkt *p, const char *new_dst)
{
	static struct pg_pkt e;
	static uint8_t buf[PG_BUFSZ];
	uint8_t d[16];
	uint32_t len = p->len;
	enum mslb_drop r;

	tl_addr(new_dst, d);
	e = *p;
	pg_set_dst(&e, d);
	pg_recompute(&e);
	memcpy(buf, p->buf, p->len);
	r = tl_process(lb, buf, sizeof(buf), &len);
	CU_ASSERT_EQUAL(r, MSLB_OK);
	CU_ASSERT_EQUAL(len, p->len);
	if (r == MSLB_OK && memcmp(buf, e.buf, e.len)) {
		pg_diff(new_dst, buf, len, e.buf, e.len);
		CU_FAIL("rewritten packet differs");
	}
	return p->len;
}

/* Process p, expecting drop reason want and the buffer left alone. */
static void expect_drop(const struct pg_pkt *p, uint32_t buflen, enum mslb_drop want)
{
	static uint8_t buf[PG_BUFSZ];
	uint32_t len = buflen;
	enum mslb_drop r;

	memcpy(buf, p->buf, sizeof(buf));
	r = tl_process(lb, buf, sizeof(buf), &len);
	CU_ASSERT_EQUAL(r, want);
	if (r != want)
		printf("\n  got %s, expected %s", mslb_drop_name(r), mslb_drop_name(want));
	CU_ASSERT_EQUAL(memcmp(buf, p->buf, sizeof(buf)), 0);
}

/* Where a packet from src to dst goes (its new destination), or "" if dropped. */
static const char *route_of(uint8_t proto, const char *src, const char *dst, char *out)
{
	static struct pg_pkt p;
	struct mslb_addr a;
	uint32_t len;

	mk(&p, proto, src, dst);
	len = p.len;
	out[0] = '\0';
	if (tl_process(lb, p.buf, sizeof(p.buf), &len) != MSLB_OK)
		return out;
	mslb_addr_from_bytes(&a, p.family == 4 ? AF_INET : AF_INET6, p.buf + pg_dst_off(&p));
	return mslb_addr_str(&a, out, MSLB_ADDRSTRLEN);
}

static void test_front_table(void)
{
	static const struct { const char *src; unsigned entry, nh; const char *to; } cases[] = {
		{ "192.0.2.1", 0, 0, "198.51.100.11" },
		{ "192.0.2.127", 0, 0, "198.51.100.11" },
		{ "192.0.2.128", 1, 1, "198.51.100.12" },
		{ "192.0.2.191", 1, 1, "198.51.100.12" },
		{ "192.0.2.192", 2, 2, "198.51.100.13" },	/* /26 beats /25 */
		{ "192.0.2.255", 2, 2, "198.51.100.13" },
		{ "2001:db8:c1::5", 3, 0, "2001:db8:b::11" },
		{ "2001:db8:c1:ffff::1", 3, 0, "2001:db8:b::11" },
		{ "2001:db8:c2::1", 4, 1, "2001:db8:b::12" },
	};
	static const uint8_t protos[] = { PG_TCP, PG_UDP, PG_UDPLITE, PG_DCCP, PG_ESP };
	uint64_t hits[5] = { 0 }, pk[3] = { 0 }, by[3] = { 0 };
	struct pg_pkt p;

	setup("drop");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v6 = strchr(cases[i].src, ':') != NULL;

		for (unsigned k = 0; k <= i % 3; k++) {
			uint8_t proto = protos[(i + k) % sizeof(protos)];
			uint32_t len;

			mk(&p, proto, cases[i].src, v6 ? "2001:db8:5::10" : "203.0.113.10");
			len = expect_rewrite(&p, cases[i].to);
			hits[cases[i].entry]++;
			pk[cases[i].nh]++;
			by[cases[i].nh] += len;
		}
	}
	for (unsigned i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(lb_table_hits(lb, i), hits[i]);
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, i).packets, pk[i]);
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, i).bytes, by[i]);
	}
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 0);
	for (int d = 1; d < MSLB_DROP_MAX; d++)
		CU_ASSERT_EQUAL(lb_drops(lb, (enum mslb_drop)d), 0);
	CU_ASSERT_PTR_EQUAL(lb_config(lb), cfg);
	teardown();
}

static void test_unmatched_drop(void)
{
	struct pg_pkt p;

	setup("drop");
	mk(&p, PG_TCP, "198.51.100.99", "203.0.113.10");
	expect_drop(&p, p.len, MSLB_DROP_NO_ROUTE);
	mk(&p, PG_UDP, "2001:db8:ff::1", "2001:db8:5::10");
	expect_drop(&p, p.len, MSLB_DROP_NO_ROUTE);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NO_ROUTE), 2);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, i).packets, 0);
	teardown();
}

static bool one_of(const char *s, const char *const *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

/* A random documentation address outside every table prefix: in
 * 198.51.100.0/24 or 203.0.113.0/24, or in 2001:db8::/32 but not in
 * 2001:db8:c1::/48 or 2001:db8:c2::/48. */
static void random_source(struct mslb_addr *a)
{
	static const uint8_t nets4[2][3] = { { 198, 51, 100 }, { 203, 0, 113 } };
	static const uint8_t net6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a->bytes, 0, sizeof(a->bytes));
	if (a->family == AF_INET) {
		memcpy(a->bytes, nets4[pg_range(&rng, 0, 1)], 3);
		a->bytes[3] = (uint8_t)pg_rand(&rng);
		return;
	}
	memcpy(a->bytes, net6, 4);
	do
		pg_fill(&rng, a->bytes + 4, 12);
	while (a->bytes[4] == 0 && (a->bytes[5] == 0xc1 || a->bytes[5] == 0xc2));
}

/* Every packet of one source, fragments included, to one next hop that
 * has an address of the family; different sources spread out. */
static void hash_family(int family)
{
	static const char *const v4[] = { "198.51.100.11", "198.51.100.12", "198.51.100.13" };
	static const char *const v6[] = { "2001:db8:b::11", "2001:db8:b::12" };
	const char *const *set = family == 4 ? v4 : v6;
	unsigned nset = family == 4 ? 3 : 2, used = 0, bad = 0;
	static struct pg_pkt w, f;

	for (int i = 0; i < 200; i++) {
		char src[MSLB_ADDRSTRLEN], first[MSLB_ADDRSTRLEN], again[MSLB_ADDRSTRLEN];
		struct mslb_addr a = { .family = (uint8_t)(family == 4 ? AF_INET : AF_INET6) };
		struct pg_spec s;
		uint32_t len;

		random_source(&a);
		mslb_addr_str(&a, src, sizeof(src));
		route_of(PG_TCP, src, family == 4 ? "203.0.113.10" : "2001:db8:5::10", first);
		route_of(PG_UDP, src, family == 4 ? "203.0.113.10" : "2001:db8:5::10", again);
		if (!one_of(first, set, nset) || strcmp(first, again))
			bad++;
		for (unsigned k = 0; k < nset; k++)
			if (!strcmp(first, set[k]))
				used |= 1u << k;
		/* both fragments of a datagram of that source */
		pg_spec_init(&s, family, PG_UDP);
		memcpy(s.src, a.bytes, 16);
		s.payload = 200;
		pg_build(&w, &s, &rng);
		for (unsigned off = 0; off < 208; off += 104) {
			struct mslb_addr d;
			char to[MSLB_ADDRSTRLEN];

			pg_fragment(&w, off, 104, off == 0, &f);
			len = f.len;
			if (tl_process(lb, f.buf, sizeof(f.buf), &len) != MSLB_OK) {
				bad++;
				continue;
			}
			mslb_addr_from_bytes(&d, a.family, f.buf + pg_dst_off(&f));
			if (strcmp(mslb_addr_str(&d, to, sizeof(to)), first))
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(used, (1u << nset) - 1);	/* 200 sources reach every next hop */
}

static void test_unmatched_hash(void)
{
	setup("hash");
	hash_family(4);
	hash_family(6);
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 2 * 200 * 4);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NO_FAMILY), 0);
	teardown();
}

static void test_unmatched_next_hop(void)
{
	struct pg_pkt p;

	setup("b2");
	mk(&p, PG_TCP, "203.0.113.99", "203.0.113.10");
	expect_rewrite(&p, "198.51.100.12");
	mk(&p, PG_ICMPV6, "2001:db8:ff::1", "2001:db8:5::10");
	expect_rewrite(&p, "2001:db8:b::12");
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).packets, 2);
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 2);
	teardown();

	setup("b3");		/* b3 has no IPv6 address */
	mk(&p, PG_UDP, "203.0.113.99", "203.0.113.10");
	expect_rewrite(&p, "198.51.100.13");
	mk(&p, PG_UDP, "2001:db8:ff::1", "2001:db8:5::10");
	expect_drop(&p, p.len, MSLB_DROP_NO_FAMILY);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NO_FAMILY), 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 2).packets, 1);
	teardown();
}

static void test_back(void)
{
	struct pg_pkt p;
	uint32_t l1, l2, l3;

	setup("drop");
	mk(&p, PG_TCP, "192.0.2.77", "198.51.100.21");
	l1 = expect_rewrite(&p, "203.0.113.10");
	mk(&p, PG_UDP, "198.51.100.99", "198.51.100.21");	/* no table source */
	l2 = expect_rewrite(&p, "203.0.113.10");
	mk(&p, PG_ICMPV6, "2001:db8:c1::9", "2001:db8:b::21");
	l3 = expect_rewrite(&p, "2001:db8:5::10");
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).bytes, l1 + l2);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).bytes, l3);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 0);
	teardown();
}

static void test_not_ours(void)
{
	struct pg_pkt p;

	setup("hash");
	mk(&p, PG_TCP, "192.0.2.1", "203.0.113.11");	/* next to the service */
	expect_drop(&p, p.len, MSLB_DROP_NOT_OURS);
	mk(&p, PG_TCP, "192.0.2.1", "198.51.100.11");	/* a next hop, not a back address */
	expect_drop(&p, p.len, MSLB_DROP_NOT_OURS);
	mk(&p, PG_UDP, "2001:db8:c1::1", "2001:db8::99");
	expect_drop(&p, p.len, MSLB_DROP_NOT_OURS);
	mk(&p, PG_UDP, "2001:db8:c1::1", "::ffff:203.0.113.10");	/* not the IPv4 service */
	expect_drop(&p, p.len, MSLB_DROP_NOT_OURS);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NOT_OURS), 4);
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 0);
	teardown();
}

/* Malformed packets to a service from a table source: their own reason,
 * buffer byte-for-byte unchanged, one count each. */
static void test_malformed(void)
{
	static const uint8_t lsrr[8] = { 131, 7, 4, 192, 0, 2, 99, 0 };
	struct pg_spec s;
	struct pg_pkt p, w;

	setup("hash");
	mk(&p, PG_TCP, "192.0.2.1", "203.0.113.10");
	expect_drop(&p, p.len - 1, MSLB_DROP_TRUNCATED);
	p.buf[10] ^= 0x40;
	expect_drop(&p, p.len, MSLB_DROP_BAD_CHECKSUM);
	p.buf[0] = 0x55;
	expect_drop(&p, p.len, MSLB_DROP_BAD_VERSION);
	mk(&p, PG_TCP, "192.0.2.1", "203.0.113.10");
	pg_set_len(&p, 20 + 10);
	expect_drop(&p, p.len, MSLB_DROP_L4_TRUNCATED);
	mk(&w, PG_TCP, "2001:db8:c1::1", "2001:db8:5::10");
	pg_fragment(&w, 0, 16, true, &p);
	expect_drop(&p, p.len, MSLB_DROP_L4_TRUNCATED);
	pg_spec_init(&s, 4, PG_UDP);
	memcpy(s.opts, lsrr, sizeof(lsrr));
	s.opts_len = sizeof(lsrr);
	pg_build(&p, &s, &rng);
	expect_drop(&p, p.len, MSLB_DROP_SOURCE_ROUTE);
	mk(&p, PG_UDP, "2001:db8:c1::1", "2001:db8:5::10");
	pg_put16(p.buf + 4, 0);
	expect_drop(&p, p.len, MSLB_DROP_JUMBOGRAM);

	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TRUNCATED), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_BAD_CHECKSUM), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_BAD_VERSION), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_L4_TRUNCATED), 2);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_SOURCE_ROUTE), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_JUMBOGRAM), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NOT_OURS), 0);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 0);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 3), 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 0);
	teardown();
}

static void test_trailing_bytes(void)
{
	static struct pg_pkt p, e;
	uint8_t d[16];
	uint32_t len;

	setup("drop");
	mk(&p, PG_UDP, "192.0.2.1", "203.0.113.10");
	e = p;
	tl_addr("198.51.100.11", d);
	pg_set_dst(&e, d);
	pg_recompute(&e);
	memset(p.buf + p.len, 0xa5, 9);
	len = p.len + 9;
	CU_ASSERT_EQUAL(tl_process(lb, p.buf, sizeof(p.buf), &len), MSLB_OK);
	CU_ASSERT_EQUAL(len, e.len);
	CU_ASSERT_EQUAL(memcmp(p.buf, e.buf, e.len), 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, e.len);

	mk(&p, PG_TCP, "2001:db8:c1::1", "2001:db8:b::21");	/* back */
	e = p;
	tl_addr("2001:db8:5::10", d);
	pg_set_dst(&e, d);
	pg_recompute(&e);
	memset(p.buf + p.len, 0x5a, 3);
	len = p.len + 3;
	CU_ASSERT_EQUAL(tl_process(lb, p.buf, sizeof(p.buf), &len), MSLB_OK);
	CU_ASSERT_EQUAL(len, e.len);
	CU_ASSERT_EQUAL(memcmp(p.buf, e.buf, e.len), 0);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).bytes, e.len);
	teardown();
}

static void test_adopt_counters(void)
{
	static const char *conf2 =
		"front = {\n"
		"  services = [ \"203.0.113.10\" ];\n"
		"  next_hops = (\n"
		"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; },\n"
		"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; },\n"
		"    { name = \"b4\"; ipv4 = \"198.51.100.14\"; }\n"
		"  );\n"
		"  table = (\n"
		"    { source = \"192.0.2.128/25\"; next_hop = \"b2\"; },\n"
		"    { source = \"192.0.2.0/25\"; next_hop = \"b1\"; },\n"
		"    { source = \"192.0.2.192/26\"; next_hop = \"b1\"; },\n"
		"    { source = \"198.51.100.128/25\"; next_hop = \"b4\"; }\n"
		"  );\n"
		"};\n"
		"back = { addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\"; } ); };\n";
	struct mslb_config *old_cfg;
	struct mslb_lb *old;
	struct lb_counter b1, b2, back;
	struct pg_pkt p;

	setup("drop");
	for (int i = 0; i < 3; i++) {
		mk(&p, PG_TCP, "192.0.2.1", "203.0.113.10");
		expect_rewrite(&p, "198.51.100.11");
	}
	for (int i = 0; i < 2; i++) {
		mk(&p, PG_UDP, "192.0.2.129", "203.0.113.10");
		expect_rewrite(&p, "198.51.100.12");
	}
	mk(&p, PG_UDP, "192.0.2.200", "203.0.113.10");
	expect_rewrite(&p, "198.51.100.13");
	mk(&p, PG_UDP, "192.0.2.200", "198.51.100.21");
	expect_rewrite(&p, "203.0.113.10");
	mk(&p, PG_UDP, "192.0.2.200", "203.0.113.11");
	expect_drop(&p, p.len, MSLB_DROP_NOT_OURS);
	b1 = lb_next_hop_counter(lb, 0);
	b2 = lb_next_hop_counter(lb, 1);
	back = lb_back_counter(lb, 0);
	old = lb;
	old_cfg = cfg;

	setup_text(conf2);
	lb_adopt_counters(lb, old);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, b2.packets);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, b2.bytes);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).packets, b1.packets);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).bytes, b1.bytes);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 2).packets, 0);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 2);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 1), 3);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 2), 0);	/* same prefix, other next hop */
	CU_ASSERT_EQUAL(lb_table_hits(lb, 3), 0);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, back.packets);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).bytes, back.bytes);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NOT_OURS), 1);
	lb_destroy(old);
	config_free(old_cfg);

	/* and counting goes on from there */
	mk(&p, PG_TCP, "192.0.2.1", "203.0.113.10");
	expect_rewrite(&p, "198.51.100.11");
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).packets, b1.packets + 1);
	teardown();
}

static int init(void)
{
	pg_seed(&rng, 77);
	return 0;
}

/* A node that runs both roles and is its own next hop: the packet leaves
 * with its original destination, counted by the front and the back. */
static void test_own_back(void)
{
	static const char *conf =
		"front = {\n"
		"  services = [ \"203.0.113.10\" ];\n"
		"  next_hops = ( { name = \"me\"; ipv4 = \"198.51.100.31\"; } );\n"
		"  unmatched = \"me\";\n"
		"};\n"
		"back = { addresses = ( { address = \"198.51.100.31\"; service = \"203.0.113.10\"; } ); };\n";
	struct pg_pkt p;
	uint8_t buf[PG_BUFSZ];
	uint32_t len;

	setup_text(conf);
	mk(&p, PG_TCP, "192.0.2.44", "203.0.113.10");
	memcpy(buf, p.buf, p.len);
	len = p.len;
	CU_ASSERT_EQUAL(tl_process(lb, buf, sizeof(buf), &len), MSLB_OK);
	CU_ASSERT_EQUAL(len, p.len);
	CU_ASSERT_EQUAL(memcmp(buf, p.buf, p.len), 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 1);
	teardown();
}

void suite_lb(void)
{
	CU_pSuite s = CU_add_suite("lb", init, NULL);

	UNIT_ADD(s, test_front_table);
	UNIT_ADD(s, test_unmatched_drop);
	UNIT_ADD(s, test_unmatched_hash);
	UNIT_ADD(s, test_unmatched_next_hop);
	UNIT_ADD(s, test_back);
	UNIT_ADD(s, test_not_ours);
	UNIT_ADD(s, test_malformed);
	UNIT_ADD(s, test_trailing_bytes);
	UNIT_ADD(s, test_adopt_counters);
	UNIT_ADD(s, test_own_back);
}
