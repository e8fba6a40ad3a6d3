/* reasm: reassembly of IPv4 and IPv6 fragments: overlaps and bad lengths
 * drop the datagram (RFC 5722), the memory cap, the timeout, datagrams
 * interleaved. */
#include <string.h>

#include "pktgen.h"
#include "testpkt.h"
#include "unit.h"
#include "net/pkt.h"
#include "net/reasm.h"

static struct pg_rng rng;

static enum mslb_drop add(struct reasm *r, const struct pg_pkt *f, double now, uint8_t **o, uint32_t *l)
{
	static uint8_t copy[PG_BUFSZ];
	struct pkt_view v;

	memcpy(copy, f->buf, f->len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(copy, f->len, &v), MSLB_OK);
	CU_ASSERT_FATAL(v.fragment);
	return reasm_add(r, &v, now, o, l);
}

static void stats(struct reasm *r, struct reasm_stats *s)
{
	reasm_get_stats(r, s);
}

/* RFC 5722: an overlap drops the datagram; so does a fragment beyond
 * 64 KiB or one that contradicts the length the last one gave. */
static void test_reasm_overlap(void)
{
	struct reasm *r = reasm_create(1u << 20, 30);
	struct reasm_stats st;
	struct pg_pkt p, f1, f2, f3;
	uint8_t *o;
	uint32_t l;

	for (int family = 4; family <= 6; family += 2) {
		uint64_t bad0;

		stats(r, &st);
		bad0 = st.bad;
		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 200, 0, false);
		pg_fragment(&p, 0, 64, true, &f1);
		pg_fragment(&p, 32, 64, true, &f2);
		pg_fragment(&p, 96, p.len - p.l3len - 96, false, &f3);
		CU_ASSERT_EQUAL(add(r, &f1, 1, &o, &l), MSLB_OK);
		CU_ASSERT_PTR_NULL(o);
		stats(r, &st);
		CU_ASSERT_EQUAL(st.in_progress, 1);
		CU_ASSERT_EQUAL(add(r, &f2, 1, &o, &l), MSLB_DROP_REASSEMBLY);
		stats(r, &st);
		CU_ASSERT_EQUAL(st.bad, bad0 + 1);
		CU_ASSERT_EQUAL(st.in_progress, 0);
		/* The same fragment twice is an overlap too. */
		CU_ASSERT_EQUAL(add(r, &f3, 1, &o, &l), MSLB_OK);
		CU_ASSERT_EQUAL(add(r, &f3, 1, &o, &l), MSLB_DROP_REASSEMBLY);
		stats(r, &st);
		CU_ASSERT_EQUAL(st.bad, bad0 + 2);
		CU_ASSERT_EQUAL(st.in_progress, 0);
		CU_ASSERT_EQUAL(st.datagrams, 0);
	}
	/* A non-last fragment whose length is not a multiple of 8. */
	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 200, 0, false);
	pg_fragment(&p, 0, 60, true, &f1);
	CU_ASSERT_EQUAL(add(r, &f1, 1, &o, &l), MSLB_DROP_REASSEMBLY);
	/* Beyond 64 KiB. */
	pg_fragment(&p, 0, 100, false, &f1);
	pg_put16(f1.buf + 6, 8189);	/* offset 65512 */
	pg_recompute(&f1);
	CU_ASSERT_EQUAL(add(r, &f1, 1, &o, &l), MSLB_DROP_REASSEMBLY);
	/* A fragment past the end the last fragment set. */
	pg_fragment(&p, 64, 64, false, &f1);
	pg_fragment(&p, 128, 64, true, &f2);
	CU_ASSERT_EQUAL(add(r, &f1, 1, &o, &l), MSLB_OK);
	CU_ASSERT_EQUAL(add(r, &f2, 1, &o, &l), MSLB_DROP_REASSEMBLY);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	reasm_destroy(r);
}

/* Memory for one datagram: a second one in progress gives the first up
 * (its source's oldest; reasm.h). */
static void test_reasm_memory_cap(void)
{
	struct reasm *r = reasm_create(100000, 30);
	struct reasm_stats st;
	struct pg_pkt a, b, a0, a1, b0, b1;
	uint8_t *o;
	uint32_t l;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	tp_mk(&rng, &a, 4, PG_UDP, NULL, NULL, 200, 0, false);
	b = a;
	pg_put16(b.buf + 4, (uint16_t)(pg_get16(a.buf + 4) + 1));	/* another ID */
	pg_recompute(&b);
	pg_fragment(&a, 0, 104, true, &a0);
	pg_fragment(&a, 104, a.len - 20 - 104, false, &a1);
	pg_fragment(&b, 0, 104, true, &b0);
	pg_fragment(&b, 104, b.len - 20 - 104, false, &b1);

	CU_ASSERT_EQUAL(add(r, &a0, 1, &o, &l), MSLB_OK);
	CU_ASSERT_EQUAL(add(r, &b0, 1, &o, &l), MSLB_OK);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.source_evictions, 1);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	CU_ASSERT_EQUAL(st.in_progress, 1);
	CU_ASSERT_EQUAL(st.bad, 0);
	CU_ASSERT_EQUAL(add(r, &b1, 1, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("b", o, l, b.buf, b.len));
	/* The slot is free again; a starts over. */
	CU_ASSERT_EQUAL(add(r, &a1, 2, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_EQUAL(add(r, &a0, 2, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("a", o, l, a.buf, a.len));
	stats(r, &st);
	CU_ASSERT_EQUAL(st.datagrams, 2);
	CU_ASSERT_EQUAL(st.fragments, 5);
	CU_ASSERT_EQUAL(st.source_evictions, 1);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	reasm_destroy(r);
}

static void test_reasm_timeout(void)
{
	struct reasm *r = reasm_create(1u << 20, 30);
	struct reasm_stats st;
	struct pg_pkt p, f0, f1;
	uint8_t *o;
	uint32_t l;

	tp_mk(&rng, &p, 6, PG_UDP, NULL, NULL, 300, 0, false);
	pg_fragment(&p, 0, 160, true, &f0);
	pg_fragment(&p, 160, p.len - 40 - 160, false, &f1);
	CU_ASSERT_EQUAL(add(r, &f0, 100, &o, &l), MSLB_OK);
	reasm_expire(r, 129);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 1);
	CU_ASSERT_EQUAL(st.timeouts, 0);
	reasm_expire(r, 131);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	CU_ASSERT_EQUAL(st.timeouts, 1);
	/* What comes after the timeout starts over, alone. */
	CU_ASSERT_EQUAL(add(r, &f1, 131, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NULL(o);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 1);
	CU_ASSERT_EQUAL(st.datagrams, 0);
	/* In time, it completes. */
	CU_ASSERT_EQUAL(add(r, &f0, 140, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("after timeout", o, l, p.buf, p.len));
	reasm_destroy(r);
}

/* Datagrams interleaved, told apart by source and identification. */
static void test_reasm_interleaved(void)
{
	struct reasm *r = reasm_create(1u << 20, 30);
	struct pg_pkt p[3], f[3][3];
	uint8_t *o;
	uint32_t l;
	unsigned done = 0;

	tp_mk(&rng, &p[0], 4, PG_UDP, "192.0.2.1", NULL, 400, 0, false);
	tp_mk(&rng, &p[1], 4, PG_UDP, "192.0.2.2", NULL, 400, 0, false);
	pg_put16(p[1].buf + 4, pg_get16(p[0].buf + 4));	/* same ID, other source */
	pg_recompute(&p[1]);
	tp_mk(&rng, &p[2], 6, PG_TCP, NULL, NULL, 400, 0, false);
	for (int i = 0; i < 3; i++) {
		unsigned tl = p[i].len - p[i].l3len;

		pg_fragment(&p[i], 0, 136, true, &f[i][0]);
		pg_fragment(&p[i], 136, 136, true, &f[i][1]);
		pg_fragment(&p[i], 272, tl - 272, false, &f[i][2]);
	}
	for (int k = 2; k >= 0; k--)
		for (int i = 0; i < 3; i++) {
			CU_ASSERT_EQUAL(add(r, &f[i][k], 5, &o, &l), MSLB_OK);
			if (o) {
				CU_ASSERT_EQUAL(k, 0);
				CU_ASSERT(tp_same("interleaved", o, l, p[i].buf, p[i].len));
				done++;
			}
		}
	CU_ASSERT_EQUAL(done, 3);
	reasm_destroy(r);
}

void suite_reasm(void)
{
	CU_pSuite s = CU_add_suite("reasm", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_reasm_overlap);
	UNIT_ADD(s, test_reasm_memory_cap);
	UNIT_ADD(s, test_reasm_timeout);
	UNIT_ADD(s, test_reasm_interleaved);
}
