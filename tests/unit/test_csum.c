/* csum: src/net/csum.c against the reference checksum in pktgen.c. */
#include <string.h>

#include "pktgen.h"
#include "unit.h"
#include "net/csum.h"

static void test_add_finish_random(void)
{
	static uint8_t buf[1601];
	struct pg_rng r;
	unsigned bad = 0;

	pg_seed(&r, 1);
	for (int i = 0; i < 2000; i++) {
		size_t len = pg_range(&r, 0, 1600);
		unsigned start = pg_range(&r, 0, 1);	/* also unaligned buffers */
		uint8_t *p = buf + start;
		uint16_t exp;

		if (len + start > sizeof(buf))
			len = sizeof(buf) - start;
		pg_fill(&r, p, len);
		exp = ref_csum(p, len);
		if (csum_finish(csum_add(0, p, len)) != exp)
			bad++;
		if (len >= 2) {	/* in two pieces split at an even offset */
			size_t k = pg_range(&r, 0, (uint32_t)len / 2) * 2;

			if (csum_finish(csum_add(csum_add(0, p, k), p + k, len - k)) != exp)
				bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_add_edges(void)
{
	static uint8_t big[65535];
	uint8_t zero[8] = { 0 }, one[3] = { 0xab, 0xcd, 0xef };

	CU_ASSERT_EQUAL(csum_finish(csum_add(0, zero, 0)), 0xffff);
	CU_ASSERT_EQUAL(csum_finish(csum_add(0, zero, sizeof(zero))), 0xffff);
	/* odd trailing byte padded with zero: 0xabcd + 0xef00 = 0x19acd -> 0x9ace */
	CU_ASSERT_EQUAL(csum_finish(csum_add(0, one, 3)), (uint16_t)~0x9ace);
	CU_ASSERT_EQUAL(csum_finish(csum_add(0, one, 3)), ref_csum(one, 3));
	memset(big, 0xff, sizeof(big));
	CU_ASSERT_EQUAL(csum_finish(csum_add(0, big, sizeof(big))), ref_csum(big, sizeof(big)));
	/* RFC 1071 section 3 example */
	{
		const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

		CU_ASSERT_EQUAL(csum_finish(csum_add(0, ex, 8)), (uint16_t)~0xddf2);
	}
}

static void test_ipv4_header(void)
{
	struct pg_rng r;
	uint8_t h[60];
	unsigned bad = 0;

	pg_seed(&r, 2);
	for (int i = 0; i < 1000; i++) {
		unsigned ihl = pg_range(&r, 5, 15);
		uint16_t exp;

		pg_fill(&r, h, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		pg_put16(h + 10, 0);
		exp = ref_csum(h, ihl * 4);
		if (csum_ipv4_header(h, ihl * 4) != exp)
			bad++;
		/* from scratch: whatever the field holds now does not matter */
		pg_fill(&r, h + 10, 2);
		if (csum_ipv4_header(h, ihl * 4) != exp)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* buf[0..len) with a checksum field at 10: change n bytes at off to new
 * bytes and check csum_update against a recomputation. */
static int update_case(uint8_t *buf, size_t len, size_t off, const uint8_t *nw, size_t n)
{
	uint8_t old[16], field[2];
	uint16_t exp;

	memcpy(old, buf + off, n);
	memcpy(buf + off, nw, n);
	memcpy(field, buf + 10, 2);
	pg_put16(buf + 10, 0);
	exp = ref_csum(buf, len);
	memcpy(buf + 10, field, 2);
	csum_update(buf + 10, old, buf + off, n);
	return pg_get16(buf + 10) == exp ? 0 : 1;
}

static void set_field(uint8_t *buf, size_t len)
{
	pg_put16(buf + 10, 0);
	pg_put16(buf + 10, ref_csum(buf, len));
}

static void test_update_random(void)
{
	struct pg_rng r;
	uint8_t buf[64], nw[16];
	unsigned bad = 0;

	pg_seed(&r, 3);
	for (int i = 0; i < 5000; i++) {
		size_t n = pg_range(&r, 0, 1) ? 4 : 16;
		size_t off = 12 + 2 * pg_range(&r, 0, (uint32_t)(sizeof(buf) - 12 - n) / 2);

		pg_fill(&r, buf, sizeof(buf));
		set_field(buf, sizeof(buf));
		pg_fill(&r, nw, n);
		if (i % 7 == 0)	/* only one word changes */
			memcpy(nw, buf + off, n - 2);
		bad += (unsigned)update_case(buf, sizeof(buf), off, nw, n);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* The edges of one's complement: results 0x0000, fields 0x0000 / 0xffff. */
static void test_update_edges(void)
{
	struct pg_rng r;
	uint8_t buf[40], tmp[40], nw[16];
	unsigned bad = 0;

	pg_seed(&r, 4);
	for (int i = 0; i < 500; i++) {
		size_t n = i & 1 ? 4 : 16, off = 20;

		/* (a) the new checksum is 0x0000 (covered data sums to 0xffff) */
		pg_fill(&r, buf, sizeof(buf));
		set_field(buf, sizeof(buf));
		pg_fill(&r, nw, n);
		pg_put16(nw + n - 2, 0);
		memcpy(tmp, buf, sizeof(buf));
		memcpy(tmp + off, nw, n);
		pg_put16(tmp + 10, 0);
		pg_put16(nw + n - 2, (uint16_t)~ref_fold(ref_sum(0, tmp, sizeof(tmp))));
		bad += (unsigned)update_case(buf, sizeof(buf), off, nw, n);
		if (pg_get16(buf + 10) != 0x0000)
			bad++;

		/* (b) starting from that field of 0x0000, change again */
		pg_fill(&r, nw, n);
		bad += (unsigned)update_case(buf, sizeof(buf), off, nw, n);

		/* (c) all-zero data (field 0xffff) changes to random data */
		memset(buf, 0, sizeof(buf));
		set_field(buf, sizeof(buf));
		if (pg_get16(buf + 10) != 0xffff)
			bad++;
		pg_fill(&r, nw, n);
		bad += (unsigned)update_case(buf, sizeof(buf), off, nw, n);

		/* (d) UDP style: a zero result stored as 0xffff, then changed */
		pg_fill(&r, buf, sizeof(buf));
		pg_put16(buf + 10, 0);
		pg_put16(buf + 38, 0);
		pg_put16(buf + 38, (uint16_t)~ref_fold(ref_sum(0, buf, sizeof(buf))));
		if (ref_csum(buf, sizeof(buf)) != 0)
			bad++;
		pg_put16(buf + 10, 0xffff);
		pg_fill(&r, nw, n);
		bad += (unsigned)update_case(buf, sizeof(buf), off, nw, n);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* csum_move: the bytes land as memmove puts them, the sum is the
 * reference sum of the source as it was, for lengths across the 16-byte
 * blocks and every kind of overlap (below, above, none, by a few bytes). */
static void test_move(void)
{
	static uint8_t buf[3 * 4096], want[3 * 4096], src_copy[4096];
	struct pg_rng r;
	unsigned bad_sum = 0, bad_bytes = 0;

	pg_seed(&r, 7);
	for (int i = 0; i < 3000; i++) {
		size_t len = pg_range(&r, 0, 4096);
		size_t from = 4096 + pg_range(&r, 0, 63) * 2;	/* even: the sum's words */
		size_t to;

		switch (i % 4) {
		case 0: to = from - pg_range(&r, 0, 40); break;		/* below, overlapping */
		case 1: to = from + pg_range(&r, 0, 40); break;		/* above, overlapping */
		case 2: to = pg_range(&r, 0, 1) ? 0 : 2 * 4096 + 8; break;	/* apart */
		default: to = from + (pg_range(&r, 0, 1) ? 1 : -1) * (int)pg_range(&r, 1, 17); break;
		}
		if (len > 4096 - 200)
			len = 4096 - 200;
		pg_fill(&r, buf, sizeof(buf));
		memcpy(want, buf, sizeof(buf));
		memcpy(src_copy, buf + from, len);
		memmove(want + to, want + from, len);
		if (csum_finish(csum_move(buf + to, buf + from, len)) != ref_csum(src_copy, len))
			bad_sum++;
		if (memcmp(buf, want, sizeof(buf)))
			bad_bytes++;
	}
	CU_ASSERT_EQUAL(bad_sum, 0);
	CU_ASSERT_EQUAL(bad_bytes, 0);
	/* 64 KiB of 0xff: the carries of both chains at their largest. */
	{
		static uint8_t a[65535], b[65535];

		memset(a, 0xff, sizeof(a));
		CU_ASSERT_EQUAL(csum_finish(csum_move(b, a, sizeof(a))), ref_csum(a, sizeof(a)));
		CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
	}
}

void suite_csum(void)
{
	CU_pSuite s = CU_add_suite("csum", NULL, NULL);

	UNIT_ADD(s, test_add_finish_random);
	UNIT_ADD(s, test_add_edges);
	UNIT_ADD(s, test_ipv4_header);
	UNIT_ADD(s, test_update_random);
	UNIT_ADD(s, test_update_edges);
	UNIT_ADD(s, test_move);
}
