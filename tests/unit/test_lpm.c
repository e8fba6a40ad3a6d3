/* lpm: fixed cases, then random tables against a brute-force linear scan. */
#include <string.h>
#include <sys/socket.h>

#include "lpm.h"
#include "pktgen.h"
#include "unit.h"

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
	struct mslb_addr addr;
	uint32_t v = 0xdeadbeef;

	CU_ASSERT_EQUAL_FATAL(mslb_addr_parse(a, &addr), 0);
	return lpm_lookup(t, addr.bytes, &v) ? (long)v : -1;
}

static void test_v4_fixed(void)
{
	struct lpm *t = lpm_create(AF_INET);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "10.0.0.0/8", 1, 0);
	add(t, "10.1.0.0/16", 2, 0);
	add(t, "10.1.2.0/24", 3, 0);
	add(t, "10.1.2.3/32", 4, 0);
	add(t, "192.0.2.128/25", 5, 0);
	add(t, "10.1.0.0/16", 9, -1);		/* duplicate */
	add(t, "2001:db8::/32", 9, -2);		/* family mismatch */
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "10.9.9.9"), 1);
	CU_ASSERT_EQUAL(look(t, "10.1.9.9"), 2);
	CU_ASSERT_EQUAL(look(t, "10.1.2.4"), 3);
	CU_ASSERT_EQUAL(look(t, "10.1.2.3"), 4);
	CU_ASSERT_EQUAL(look(t, "192.0.2.200"), 5);
	CU_ASSERT_EQUAL(look(t, "192.0.2.127"), -1);
	CU_ASSERT_EQUAL(look(t, "11.0.0.0"), -1);
	CU_ASSERT_EQUAL(look(t, "9.255.255.255"), -1);
	lpm_destroy(t);

	t = lpm_create(AF_INET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "0.0.0.0/0", 7, 0);
	add(t, "203.0.113.0/24", 8, 0);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "1.2.3.4"), 7);
	CU_ASSERT_EQUAL(look(t, "255.255.255.255"), 7);
	CU_ASSERT_EQUAL(look(t, "203.0.113.77"), 8);
	lpm_destroy(t);

	t = lpm_create(AF_INET);	/* empty */
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "1.2.3.4"), -1);
	lpm_destroy(t);
}

static void test_v6_fixed(void)
{
	struct lpm *t = lpm_create(AF_INET6);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	add(t, "::/0", 1, 0);
	add(t, "2001:db8::/32", 2, 0);
	add(t, "2001:db8:c1::/48", 3, 0);
	add(t, "2001:db8:c1::1/128", 4, 0);
	add(t, "2001:db8:c1:8000::/49", 5, 0);
	add(t, "2001:db8::/32", 6, -1);
	add(t, "192.0.2.0/24", 6, -2);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "fe80::1"), 1);
	CU_ASSERT_EQUAL(look(t, "2001:db8:ffff::1"), 2);
	CU_ASSERT_EQUAL(look(t, "2001:db8:c1::2"), 3);
	CU_ASSERT_EQUAL(look(t, "2001:db8:c1::1"), 4);
	CU_ASSERT_EQUAL(look(t, "2001:db8:c1:8001::1"), 5);
	CU_ASSERT_EQUAL(look(t, "2001:db8:c1:7fff:ffff:ffff:ffff:ffff"), 3);
	lpm_destroy(t);

	t = lpm_create(AF_INET6);
	add(t, "2001:db8::/32", 2, 0);
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	CU_ASSERT_EQUAL(look(t, "2001:db9::"), -1);
	CU_ASSERT_EQUAL(look(t, "2001:db8::"), 2);
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

#define NPFX 300

/* Random prefixes around a few bases, so that many nest; compare every
 * lookup with the longest match found by a linear scan. */
static void random_family(int family, uint64_t seed)
{
	static struct mslb_prefix ps[NPFX];
	unsigned size = family == AF_INET ? 4 : 16, bits = size * 8, n = 0, bad = 0;
	uint8_t bases[4][16];
	struct lpm *t = lpm_create(family);
	struct pg_rng r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	pg_seed(&r, seed);
	pg_fill(&r, bases, sizeof(bases));
	for (int i = 0; i < NPFX; i++) {
		struct mslb_prefix p = { .addr.family = (uint8_t)family };
		bool dup = false;
		int rc;

		memcpy(p.addr.bytes, bases[pg_range(&r, 0, 3)], size);
		pg_fill(&r, p.addr.bytes + size / 2, size / 2 * (pg_range(&r, 0, 2) == 0));
		p.len = (uint8_t)pg_range(&r, 1, bits);	/* /0 would hide misses */
		clear_host_bits(p.addr.bytes, size, p.len);
		for (unsigned j = 0; j < n; j++)
			dup = dup || (ps[j].len == p.len && !memcmp(ps[j].addr.bytes, p.addr.bytes, size));
		rc = lpm_add(t, &p, n);
		CU_ASSERT_EQUAL(rc, dup ? -1 : 0);
		if (!dup)
			ps[n++] = p;
	}
	CU_ASSERT_EQUAL_FATAL(lpm_build(t), 0);
	for (int i = 0; i < 20000; i++) {
		uint8_t a[16];
		long best = -1;
		uint32_t v;
		bool found;

		pg_fill(&r, a, size);
		if (i % 4)	/* mostly near a prefix */
			memcpy(a, ps[pg_range(&r, 0, n - 1)].addr.bytes, pg_range(&r, 0, size));
		for (unsigned j = 0; j < n; j++)
			if (match(ps[j].addr.bytes, ps[j].len, a) && (best < 0 || ps[j].len > ps[best].len))
				best = (long)j;
		found = lpm_lookup(t, a, &v);
		if (found != (best >= 0) || (found && v != (uint32_t)best))
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	lpm_destroy(t);
}

static void test_random_v4(void)
{
	random_family(AF_INET, 11);
}

static void test_random_v6(void)
{
	random_family(AF_INET6, 12);
}

void suite_lpm(void)
{
	CU_pSuite s = CU_add_suite("lpm", NULL, NULL);

	UNIT_ADD(s, test_v4_fixed);
	UNIT_ADD(s, test_v6_fixed);
	UNIT_ADD(s, test_random_v4);
	UNIT_ADD(s, test_random_v6);
}
