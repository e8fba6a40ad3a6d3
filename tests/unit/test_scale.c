/* scale: the sizes of the issue (reloads quadratic in the table, packets
 * linear in the services and back addresses): 100,000 table entries and
 * 10,000 services and back addresses load, a duplicate among them is
 * still reported on its line, each of them classifies, and addresses whose
 * hashes collide are still told apart. Documentation addresses only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "base/hset.h"
#include "base/strbuf.h"
#include "config/config.h"
#include "lb/lb.h"
#include "lb/lb_addrs.h"

#define N_TABLE 100000
#define N_ADDR 10000
#define TABLE_LINE0 5		/* the line of table entry 0 */

static struct pg_rng rng;

static void prefix_of(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "2001:db8:%x:%x::/64", 0xc000 + i / 65536, i % 65536);
}

/* n table entries, entry i on line TABLE_LINE0 + i; entry dup_at (if
 * below n) repeats entry dup_of; reversed: entry i is what n - 1 - i was. */
static char *table_conf(unsigned n, unsigned dup_of, unsigned dup_at, bool reversed)
{
	struct strbuf sb;
	char p[64], *text;

	sb_init(&sb);
	sb_printf(&sb, "front = {\n  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n"
		       "  next_hops = ( { name = \"b1\"; ipv6 = \"2001:db8:b::11\"; ipv4 = \"198.51.100.11\"; }, "
		       "{ name = \"b2\"; ipv6 = \"2001:db8:b::12\"; ipv4 = \"198.51.100.12\"; } );\n  table = (\n");
	for (unsigned i = 0; i < n; i++) {
		unsigned k = reversed ? n - 1 - i : i;

		prefix_of(i == dup_at ? dup_of : k, p, sizeof(p));
		sb_printf(&sb, "    { source = \"%s\"; next_hop = \"b%u\"; }%s\n", p, k % 2 + 1, i + 1 < n ? "," : "");
	}
	sb_printf(&sb, "  );\n};\n");
	text = strdup(sb_str(&sb));
	sb_free(&sb);
	return text;
}

/* A TCP packet from src to dst through lb: its verdict, the result in p. */
static enum mslb_drop send6(struct mslb_lb *lb, struct pg_pkt *p, const char *src, const char *dst)
{
	tp_mk(&rng, p, 6, 6, src, dst, 8, 0, false);
	return tl_process(lb, p->buf, sizeof(p->buf), &p->len);
}

static void test_big_table_loads(void)
{
	char *text = table_conf(N_TABLE, 0, N_TABLE, false);
	struct mslb_config *cfg, *cfg2;
	struct mslb_lb *lb = tl_lb_load(text, "big.conf", &cfg), *lb2;
	static const unsigned probe[] = { 0, 1, 4242, 65535, 65536, N_TABLE - 1 };

	CU_ASSERT_EQUAL(cfg->front.n_table, N_TABLE);
	for (unsigned j = 0; j < ARRAY_SIZE(probe); j++) {
		unsigned i = probe[j];
		char src[64];
		struct pg_pkt p;

		snprintf(src, sizeof(src), "2001:db8:%x:%x::7", 0xc000 + i / 65536, i % 65536);
		CU_ASSERT_EQUAL(send6(lb, &p, src, "2001:db8:5::10"), MSLB_OK);
		CU_ASSERT_EQUAL(lb_table_hits(lb, i), 1);
		CU_ASSERT_EQUAL(memcmp(p.buf + 24, tl_ip(i % 2 ? "2001:db8:b::12" : "2001:db8:b::11"), 16), 0);
	}
	/* A reload of the same file keeps every entry's counter. */
	lb2 = tl_lb_load(text, "big.conf", &cfg2);
	lb_adopt_counters(lb2, lb);
	for (unsigned j = 0; j < ARRAY_SIZE(probe); j++)
		CU_ASSERT_EQUAL(lb_table_hits(lb2, probe[j]), 1);
	CU_ASSERT_EQUAL(lb_table_hits(lb2, 2), 0);
	tl_lb_free(lb2, cfg2);
	tl_lb_free(lb, cfg);
	free(text);
}

static void test_big_table_duplicate(void)
{
	char *text = table_conf(N_TABLE, 12345, N_TABLE - 1, false), want[320];
	struct config_errors errs;
	struct mslb_config *cfg = config_load_string(text, "dup.conf", &errs);

	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	snprintf(want, sizeof(want),
		 "dup.conf:%d: front.table[%d].source: \"2001:db8:c000:3039::/64\" is listed twice (allowed: each prefix once)",
		 TABLE_LINE0 + N_TABLE - 1, N_TABLE - 1);
	CU_ASSERT_STRING_EQUAL(errs.line[0], want);
	config_free(cfg);
	free(text);
}

/* Counters follow a table entry by its prefix, wherever it moved to. */
static void test_adopt_reordered(void)
{
	enum { N = 3000 };
	char *a = table_conf(N, 0, N, false), *b = table_conf(N, 0, N, true);
	struct mslb_config *ca, *cb;
	struct mslb_lb *la = tl_lb_load(a, "a.conf", &ca), *lb = tl_lb_load(b, "b.conf", &cb);
	struct pg_pkt p;
	char src[64];

	snprintf(src, sizeof(src), "2001:db8:c000:%x::1", 17);
	CU_ASSERT_EQUAL(send6(la, &p, src, "2001:db8:5::10"), MSLB_OK);
	CU_ASSERT_EQUAL(lb_table_hits(la, 17), 1);
	lb_adopt_counters(lb, la);
	CU_ASSERT_EQUAL(lb_table_hits(lb, N - 1 - 17), 1);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 17), 0);
	tl_lb_free(la, ca);
	tl_lb_free(lb, cb);
	free(a);
	free(b);
}

/* Service i and back address i (1-based): 2001:db8:5::X:Y, 2001:db8:bb::X:Y. */
static void svc_of(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "2001:db8:5::%x:%x", i >> 16, i & 0xffff);
}

static void back_of(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "2001:db8:bb::%x:%x", i >> 16, i & 0xffff);
}

/* One service a line from line 3, one back address a line from line
 * N_ADDR + 8; the last service repeats dup_svc, the last back address
 * dup_back (0: none). */
static char *addr_conf(unsigned dup_svc, unsigned dup_back)
{
	struct strbuf sb;
	char s[64], a[64], *text;

	sb_init(&sb);
	sb_printf(&sb, "front = {\n  services = [\n");
	for (unsigned i = 1; i <= N_ADDR; i++) {
		svc_of(i == N_ADDR && dup_svc ? dup_svc : i, s, sizeof(s));
		sb_printf(&sb, "    \"%s\"%s\n", s, i < N_ADDR ? "," : "");
	}
	sb_printf(&sb, "  ];\n  next_hops = ( { name = \"b1\"; ipv6 = \"2001:db8:b::11\"; } );\n"
		       "  table = ( { source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; } );\n};\n"
		       "back = {\n  addresses = (\n");
	for (unsigned i = 1; i <= N_ADDR; i++) {
		back_of(i == N_ADDR && dup_back ? dup_back : i, a, sizeof(a));
		svc_of(i, s, sizeof(s));
		sb_printf(&sb, "    { address = \"%s\"; service = \"%s\"; }%s\n", a, s, i < N_ADDR ? "," : "");
	}
	sb_printf(&sb, "  );\n};\n");
	text = strdup(sb_str(&sb));
	sb_free(&sb);
	return text;
}

static void test_many_addresses_classify(void)
{
	char *text = addr_conf(0, 0);
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(text, "addr.conf", &cfg);
	unsigned bad_front = 0, bad_back = 0;
	struct pg_pkt p;
	char s[64], a[64];

	for (unsigned i = 1; i <= N_ADDR; i++) {
		uint8_t want[16];

		svc_of(i, s, sizeof(s));
		back_of(i, a, sizeof(a));
		bad_front += send6(lb, &p, "2001:db8:c1::1", s) != MSLB_OK ||
			     memcmp(p.buf + 24, tl_ip("2001:db8:b::11"), 16) != 0;
		tl_addr(s, want);
		bad_back += send6(lb, &p, "2001:db8:c1::1", a) != MSLB_OK || memcmp(p.buf + 24, want, 16) != 0 ||
			    lb_back_counter(lb, i - 1).packets != 1;
	}
	CU_ASSERT_EQUAL(bad_front, 0);
	CU_ASSERT_EQUAL(bad_back, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, N_ADDR);
	/* Neighbours of the members are none of them. */
	CU_ASSERT_EQUAL(send6(lb, &p, "2001:db8:c1::1", "2001:db8:5::1:0"), MSLB_DROP_NOT_OURS);
	CU_ASSERT_EQUAL(send6(lb, &p, "2001:db8:c1::1", "2001:db8:bb::0:0"), MSLB_DROP_NOT_OURS);
	CU_ASSERT_EQUAL(send6(lb, &p, "2001:db8:c1::1", "2001:db8:5:1::1"), MSLB_DROP_NOT_OURS);
	tl_lb_free(lb, cfg);
	free(text);
}

static void test_many_addresses_duplicates(void)
{
	char *text = addr_conf(777, 4321), want[2][320];
	struct config_errors errs;
	struct mslb_config *cfg = config_load_string(text, "addr.conf", &errs);

	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.n, 2);
	/* The last service is on line 2 + N_ADDR, but libconfig gives the
	 * last scalar of a list the line of the "];" after it (it has read
	 * ahead): the line the check always reported. */
	snprintf(want[0], sizeof(want[0]),
		 "addr.conf:%d: front.services: \"2001:db8:5::0:309\" is listed twice (allowed: each address once)", 3 + N_ADDR);
	snprintf(want[1], sizeof(want[1]),
		 "addr.conf:%d: back.addresses[%d].address: \"2001:db8:bb::0:10e1\" is listed twice (allowed: each address once)",
		 2 * N_ADDR + 8, N_ADDR - 1);
	CU_ASSERT_STRING_EQUAL(errs.line[0], want[0]);
	CU_ASSERT_STRING_EQUAL(errs.line[1], want[1]);
	config_free(cfg);
	free(text);
}

/* Addresses that all start probing at the last slot (so the probe wraps
 * around) are each found, and one more that starts there too is not. */
static void collide(unsigned alen)
{
	struct lb_addrs s;
	uint8_t cand[16] = { 0 }, keys[8][16], other[16];
	unsigned found = 0, have_other = 0;

	CU_ASSERT_EQUAL_FATAL(lb_addrs_init(&s, 2 * ARRAY_SIZE(keys)), 0);
	for (uint32_t i = 0; i < 200000 && (found < ARRAY_SIZE(keys) || !have_other); i++) {
		if (alen == 4) {
			memcpy(cand, tl_ip(i % 3 == 0 ? "192.0.2.0" : i % 3 == 1 ? "198.51.100.0" : "203.0.113.0"), 4);
			cand[3] = (uint8_t)(i / 3);
			if (i / 3 > 255)
				break;
		} else {
			memcpy(cand, tl_ip("2001:db8:bb::"), 16);
			cand[12] = (uint8_t)(i >> 24);
			cand[13] = (uint8_t)(i >> 16);
			cand[14] = (uint8_t)(i >> 8);
			cand[15] = (uint8_t)i;
		}
		if ((lb_addrs_hash(cand, alen) & s.mask) != s.mask)
			continue;
		if (found < ARRAY_SIZE(keys))
			memcpy(keys[found++], cand, 16);
		else if (!have_other++)
			memcpy(other, cand, 16);
	}
	CU_ASSERT_FATAL(found >= 3 && have_other);
	for (unsigned i = 0; i < found; i++)
		lb_addrs_add(&s, keys[i], alen);
	/* Scanned below LB_ADDRS_SCAN: add others until it must hash. */
	for (unsigned i = 0; s.n <= LB_ADDRS_SCAN; i++) {
		uint8_t x[16] = { 0 };

		memcpy(x, tl_ip("192.0.2.200"), 4);
		x[3] = (uint8_t)(200 + i);
		lb_addrs_add(&s, x, alen);
	}
	for (unsigned i = 0; i < found; i++)
		CU_ASSERT_EQUAL(lb_addrs_find(&s, keys[i], alen), (int)i);
	CU_ASSERT_EQUAL(lb_addrs_find(&s, other, alen), -1);
	lb_addrs_free(&s);
}

static void test_lb_addrs_collisions(void)
{
	collide(16);
	collide(4);
}

static bool int_eq(const void *ctx, uint32_t index, const void *key)
{
	return ((const int *)ctx)[index] == *(const int *)key;
}

/* hset with every hash the same: one probe chain, grown past its first
 * size, still finds each element and nothing else. */
static void test_hset_collisions(void)
{
	int v[300];
	struct hset s = { 0 };
	int missing = 12345;

	for (int i = 0; i < (int)ARRAY_SIZE(v); i++) {
		v[i] = 1000 + 7 * i;
		CU_ASSERT_PTR_NULL(hset_find(&s, 42, &v[i], int_eq, v));
		CU_ASSERT_EQUAL(hset_add(&s, 42, (uint32_t)i), 0);
	}
	for (int i = 0; i < (int)ARRAY_SIZE(v); i++) {
		uint32_t *at = hset_find(&s, 42, &v[i], int_eq, v);

		CU_ASSERT_FATAL(at != NULL);
		CU_ASSERT_EQUAL(*at, (uint32_t)i);
	}
	CU_ASSERT_PTR_NULL(hset_find(&s, 42, &missing, int_eq, v));
	CU_ASSERT_PTR_NULL(hset_find(&s, 43, &v[0], int_eq, v));
	hset_free(&s);
}

void suite_scale(void)
{
	CU_pSuite s = CU_add_suite("scale", NULL, NULL);

	pg_seed(&rng, 0x5ca1e);
	UNIT_ADD(s, test_big_table_loads);
	UNIT_ADD(s, test_big_table_duplicate);
	UNIT_ADD(s, test_adopt_reordered);
	UNIT_ADD(s, test_many_addresses_classify);
	UNIT_ADD(s, test_many_addresses_duplicates);
	UNIT_ADD(s, test_lb_addrs_collisions);
	UNIT_ADD(s, test_hset_collisions);
}
