/* lpm: fixed cases, then random tables against a brute-force linear scan;
 * documentation addresses only (RFC 5737, RFC 3849). */
#include <string.h>
#include <sys/socket.h>

#include "pktgen.h"
#include "testlib.h"
#include "unit.h"
#include "lb/lpm.h"

static struct mslb_prefix pfx(const char *s)
{
	struct mslb_prefix p;

	CU_ASSERT_EQUAL(mslb_prefix_parse(s, &p), 0);
	return p;
}

static void add(struct lpm *t, const char *s, uint32_t value, int want)
{
	struct mslb_prefix p = pfx(s);

	CU_ASSERT_EQUAL(lpm_add(t, &p, value), want);
}

/* Returns the value found, or -1 on a miss. */
static long look(const struct lpm *t, const char *a)
{
	uint32_t v = 0xdeadbeef;

	return lpm_lookup(t, tl_ip(a), &v) ? (long)v : -1;
}

static void test_v4_fixed(void)
{
	struct lpm *t = lpm_create(AF_INET);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "203.0.113.64/26", 1, 0);
	add(t, "203.0.113.96/27", 2, 0);
	add(t, "203.0.113.112/28", 3, 0);
	add(t, "203.0.113.115/32", 4, 0);
	add(t, "192.0.2.128/25", 5, 0);
	add(t, "203.0.113.96/27", 9, -1);	/* duplicate */
	add(t, "2001:db8::/32", 9, -2);		/* family mismatch */
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "203.0.113.64"), 1);
	CU_ASSERT_EQUAL(look(t, "203.0.113.80"), 1);
	CU_ASSERT_EQUAL(look(t, "203.0.113.95"), 1);
	CU_ASSERT_EQUAL(look(t, "203.0.113.100"), 2);
	CU_ASSERT_EQUAL(look(t, "203.0.113.111"), 2);
	CU_ASSERT_EQUAL(look(t, "203.0.113.112"), 3);
	CU_ASSERT_EQUAL(look(t, "203.0.113.114"), 3);
	CU_ASSERT_EQUAL(look(t, "203.0.113.116"), 3);
	CU_ASSERT_EQUAL(look(t, "203.0.113.127"), 3);
	CU_ASSERT_EQUAL(look(t, "203.0.113.115"), 4);
	CU_ASSERT_EQUAL(look(t, "192.0.2.200"), 5);
	CU_ASSERT_EQUAL(look(t, "192.0.2.128"), 5);
	CU_ASSERT_EQUAL(look(t, "192.0.2.127"), -1);
	CU_ASSERT_EQUAL(look(t, "203.0.113.128"), -1);	/* just past the /26 */
	CU_ASSERT_EQUAL(look(t, "203.0.113.63"), -1);	/* just before it */
	CU_ASSERT_EQUAL(look(t, "198.51.100.115"), -1);	/* same host bits, other net */
	lpm_destroy(t);

	t = lpm_create(AF_INET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "0.0.0.0/0", 7, 0);
	add(t, "203.0.113.0/24", 8, 0);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "198.51.100.4"), 7);
	CU_ASSERT_EQUAL(look(t, "192.0.2.0"), 7);
	CU_ASSERT_EQUAL(look(t, "198.51.100.255"), 7);
	CU_ASSERT_EQUAL(look(t, "203.0.113.77"), 8);
	CU_ASSERT_EQUAL(look(t, "203.0.113.0"), 8);
	CU_ASSERT_EQUAL(look(t, "203.0.113.255"), 8);
	lpm_destroy(t);

	t = lpm_create(AF_INET);	/* empty */
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "198.51.100.4"), -1);
	lpm_destroy(t);
}

static void test_v6_fixed(void)
{
	struct lpm *t = lpm_create(AF_INET6);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "::/0", 1, 0);
	add(t, "2001:db8:8000::/33", 2, 0);
	add(t, "2001:db8:80c1::/48", 3, 0);
	add(t, "2001:db8:80c1::1/128", 4, 0);
	add(t, "2001:db8:80c1:8000::/49", 5, 0);
	add(t, "2001:db8:8000::/33", 6, -1);
	add(t, "192.0.2.0/24", 6, -2);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "2001:db8::1"), 1);	/* only the default route */
	CU_ASSERT_EQUAL(look(t, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"), 1);
	CU_ASSERT_EQUAL(look(t, "2001:db8:8000::"), 2);
	CU_ASSERT_EQUAL(look(t, "2001:db8:ffff::1"), 2);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1::2"), 3);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1::1"), 4);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1::"), 3);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1:8001::1"), 5);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1:7fff:ffff:ffff:ffff:ffff"), 3);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c1:ffff:ffff:ffff:ffff:ffff"), 5);
	CU_ASSERT_EQUAL(look(t, "2001:db8:80c2::1"), 2);
	lpm_destroy(t);

	t = lpm_create(AF_INET6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "2001:db8:8000::/33", 2, 0);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"), -1);
	CU_ASSERT_EQUAL(look(t, "2001:db8::"), -1);
	CU_ASSERT_EQUAL(look(t, "2001:db8:8000::"), 2);
	CU_ASSERT_EQUAL(look(t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
	lpm_destroy(t);

	t = lpm_create(AF_INET6);	/* the whole documentation prefix */
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "2001:db8::/32", 2, 0);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "2001:db8::"), 2);
	CU_ASSERT_EQUAL(look(t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
	lpm_destroy(t);
}

static bool match(const uint8_t *key, unsigned len, const uint8_t *a)
{
	for (unsigned bit = 0; bit < len; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((key[bit / 8] & m) != (a[bit / 8] & m))
			return false;
	}
	return true;
}

static void clear_host_bits(uint8_t *b, unsigned size, unsigned len)
{
	for (unsigned bit = len; bit < size * 8; bit++)
		b[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

/* Documentation addresses only (RFC 5737, RFC 3849): the three IPv4 /24s
 * and 2001:db8::/32. */
static const uint8_t nets4[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };
static const uint8_t net6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

static void doc_addr(struct pg_rng *r, int family, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		memcpy(a, nets4[pg_range(r, 0, 2)], 3);
		a[3] = (uint8_t)pg_rand(r);
	} else {
		memcpy(a, net6, 4);
		pg_fill(r, a + 4, 12);
	}
}

#define NPFX 300

struct lpm_case {
	int family;
	unsigned npfx;		/* prefixes tried (duplicates included) */
	unsigned minlen, maxlen;
	bool misses;		/* the table leaves some addresses uncovered */
};

/* One lookup checked against the longest match of a linear scan. */
static unsigned check_one(const struct lpm *t, const struct mslb_prefix *ps, unsigned n,
			  const uint8_t *a, unsigned *hits, unsigned *misses)
{
	long best = -1;
	uint32_t v;
	bool found;

	for (unsigned j = 0; j < n; j++)
		if (match(ps[j].addr.bytes, ps[j].len, a) && (best < 0 || ps[j].len > ps[best].len))
			best = (long)j;
	found = lpm_lookup(t, a, &v);
	*(best >= 0 ? hits : misses) += 1;
	return found != (best >= 0) || (found && v != (uint32_t)best);
}

/* Random prefixes of documentation addresses around a few bases, so that
 * many nest; compare lookups of documentation addresses with the longest
 * match found by a linear scan: every IPv4 one, and for IPv6 random ones,
 * mostly sharing a random number of leading bits with a table prefix. */
static void random_table(const struct lpm_case *c, uint64_t seed)
{
	static struct mslb_prefix ps[NPFX];
	unsigned size = c->family == AF_INET ? 4 : 16, n = 0, bad = 0, hits = 0, misses = 0;
	uint8_t bases[4][16];
	struct lpm *t = lpm_create(c->family);
	struct pg_rng r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	pg_seed(&r, seed);
	for (int i = 0; i < 4; i++)
		doc_addr(&r, c->family, bases[i]);
	for (unsigned i = 0; i < c->npfx; i++) {
		struct mslb_prefix p = { .addr.family = (uint8_t)c->family };
		bool dup = false;
		int rc;

		memcpy(p.addr.bytes, bases[pg_range(&r, 0, 3)], size);
		if (pg_range(&r, 0, 2) == 0) {	/* other host bits */
			if (c->family == AF_INET)
				p.addr.bytes[3] = (uint8_t)pg_rand(&r);
			else
				pg_fill(&r, p.addr.bytes + 8, 8);
		}
		p.len = (uint8_t)pg_range(&r, c->minlen, c->maxlen);
		clear_host_bits(p.addr.bytes, size, p.len);
		for (unsigned j = 0; j < n; j++)
			dup = dup || (ps[j].len == p.len && !memcmp(ps[j].addr.bytes, p.addr.bytes, size));
		rc = lpm_add(t, &p, n);
		CU_ASSERT_EQUAL(rc, dup ? -1 : 0);
		if (!dup)
			ps[n++] = p;
	}
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	if (c->family == AF_INET) {
		for (unsigned net = 0; net < 3; net++) {
			for (unsigned host = 0; host < 256; host++) {
				uint8_t a[16] = { nets4[net][0], nets4[net][1], nets4[net][2],
						  (uint8_t)host };

				bad += check_one(t, ps, n, a, &hits, &misses);
			}
		}
	} else {
		for (int i = 0; i < 20000; i++) {
			uint8_t a[16];

			doc_addr(&r, c->family, a);
			if (i % 4) {	/* mostly near a prefix */
				const uint8_t *k = ps[pg_range(&r, 0, n - 1)].addr.bytes;
				unsigned nbits = pg_range(&r, 0, 128);

				for (unsigned bit = 0; bit < nbits; bit++) {
					uint8_t m = (uint8_t)(0x80 >> (bit % 8));

					a[bit / 8] = (uint8_t)((a[bit / 8] & ~m) | (k[bit / 8] & m));
				}
				memcpy(a, net6, sizeof(net6));	/* keys of lengths < 32 */
			}
			bad += check_one(t, ps, n, a, &hits, &misses);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(hits > 0);
	if (c->misses)
		CU_ASSERT(misses > 0);
	lpm_destroy(t);
}

/* Lengths from 0, with nesting down to the default route; and a sparse
 * table of long prefixes, so that lookups miss too. */
static const struct lpm_case cases_v4[] = {
	{ AF_INET, NPFX, 0, 32, false },
	{ AF_INET, NPFX, 1, 32, false },
	{ AF_INET, 40, 25, 32, true },
};
static const struct lpm_case cases_v6[] = {
	{ AF_INET6, NPFX, 0, 128, false },
	{ AF_INET6, NPFX, 48, 128, true },
};

static void test_random_v4(void)
{
	for (unsigned i = 0; i < sizeof(cases_v4) / sizeof(cases_v4[0]); i++)
		for (uint64_t seed = 11; seed < 11 + 8; seed++)
			random_table(&cases_v4[i], seed);
}

static void test_random_v6(void)
{
	for (unsigned i = 0; i < sizeof(cases_v6) / sizeof(cases_v6[0]); i++)
		random_table(&cases_v6[i], 12 + i);
}

void suite_lpm(void)
{
	CU_pSuite s = CU_add_suite("lpm", NULL, NULL);

	UNIT_ADD(s, test_v4_fixed);
	UNIT_ADD(s, test_v6_fixed);
	UNIT_ADD(s, test_random_v4);
	UNIT_ADD(s, test_random_v6);
}
