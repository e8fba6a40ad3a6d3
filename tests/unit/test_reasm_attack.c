/* reasm under attack: floods of incomplete datagrams from one source or a
 * few must not stop other sources' reassembly; many datagrams in progress
 * must still be told apart; expiry still works. MSLB_REASM_BENCH=1 in the
 * environment also prints the cost of one fragment with every slot in use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktgen.h"
#include "testpkt.h"
#include "unit.h"
#include "net/pkt.h"
#include "net/reasm.h"

/* 4 MiB, the default: 62 slots. */
#define DEFAULT_MEMORY (4u << 20)

static struct pg_rng rng;

/* One fragment, parsed, in a buffer of its own (reasm_add reads it through
 * the view, so it must outlive the call). */
struct frag {
	uint8_t buf[PG_BUFSZ];
	struct pkt_view v;
};

/* The datagram of family from src with identification id (IPv4: 16 bits). */
static void datagram(struct pg_pkt *p, int family, const char *src, uint32_t id, unsigned payload)
{
	tp_mk(&rng, p, family, PG_UDP, src, NULL, payload, 0, false);
	if (family == 4) {
		pg_put16(p->buf + 4, (uint16_t)id);
		pg_recompute(p);
	}	/* IPv6: the ID goes in the fragment header, in cut() */
}

static void cut(struct frag *f, const struct pg_pkt *p, uint32_t id, unsigned off, unsigned n, bool more)
{
	struct pg_pkt t;

	pg_fragment(p, off, n, more, &t);
	if (p->family == 6) {
		uint8_t *fh = t.buf + t.l3len - 8;

		fh[4] = (uint8_t)(id >> 24);
		fh[5] = (uint8_t)(id >> 16);
		fh[6] = (uint8_t)(id >> 8);
		fh[7] = (uint8_t)id;
	}
	memcpy(f->buf, t.buf, t.len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(f->buf, t.len, &f->v), MSLB_OK);
	CU_ASSERT_FATAL(f->v.fragment);
}

static enum mslb_drop add(struct reasm *r, struct frag *f, double now, uint8_t **o, uint32_t *l)
{
	return reasm_add(r, &f->v, now, o, l);
}

/* n first fragments (8 bytes, more to come) of datagrams that never
 * complete, from the sources srcs[i % nsrc], IDs from id0 on. */
static void flood(struct reasm *r, const char *const *srcs, unsigned nsrc, unsigned n, uint32_t id0, double now)
{
	static struct frag f;
	struct pg_pkt p;
	uint8_t *o;
	uint32_t l;

	for (unsigned i = 0; i < n; i++) {
		datagram(&p, 4, srcs[i % nsrc], id0 + i, 64);
		cut(&f, &p, id0 + i, 0, 8, true);
		CU_ASSERT_EQUAL(add(r, &f, now, &o, &l), MSLB_OK);
		CU_ASSERT_PTR_NULL(o);
	}
}

/* A legitimate datagram in two fragments from src, with more of the flood
 * (n datagrams) between them: it must come out whole. */
static void legit_survives(struct reasm *r, const char *const *srcs, unsigned nsrc, unsigned n, int family,
			   const char *src)
{
	static struct frag f0, f1;
	struct pg_pkt p;
	uint8_t *o;
	uint32_t l;

	datagram(&p, family, src, 0x1234, 300);
	cut(&f0, &p, 0x1234, 0, 160, true);
	cut(&f1, &p, 0x1234, 160, p.len - p.l3len - 160, false);
	CU_ASSERT_EQUAL(add(r, &f0, 2, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NULL(o);
	flood(r, srcs, nsrc, n, 50000, 2);
	CU_ASSERT_EQUAL(add(r, &f1, 3, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("legit", o, l, p.buf, p.len));
}

/* (a) One spoofed source sends many more datagrams than there are slots: it
 * keeps at most half of them, its own oldest go first, and another source
 * reassembles, even with the flood going on between its fragments. */
static void test_reasm_flood_one_source(void)
{
	static const char *const a[] = { "198.51.100.66" }, *const b[] = { "198.51.100.67" };
	struct reasm *r = reasm_create(DEFAULT_MEMORY, 30);
	struct reasm_stats st;
	unsigned half;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	flood(r, a, 1, 1000, 1, 1);
	reasm_get_stats(r, &st);
	half = st.in_progress;
	CU_ASSERT_EQUAL(half, 31);	/* half of the 62 slots */
	CU_ASSERT_EQUAL(st.source_evictions, 1000 - half);
	CU_ASSERT_EQUAL(st.evictions, 0);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	legit_survives(r, a, 1, 1000, 4, "192.0.2.1");
	legit_survives(r, a, 1, 1000, 6, "2001:db8:c1::1");
	/* A second flooding source takes the other half: the table is full,
	 * and a third source still gets a slot, from the biggest holder. */
	flood(r, b, 1, 1000, 1, 2);
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 2 * half);
	CU_ASSERT_EQUAL(st.evictions, 0);
	legit_survives(r, a, 1, 1000, 4, "192.0.2.1");
	reasm_get_stats(r, &st);
	CU_ASSERT(st.evictions >= 1);	/* then A takes from B as much as B from A */
	CU_ASSERT_EQUAL(st.datagrams, 3);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	reasm_destroy(r);
}

/* (b) The flood spread over several sources fills every slot; a new source
 * takes a slot from the biggest holder and keeps it while the flood goes
 * on, since each flooding source holds more than it. Over more sources
 * than slots, each holds one: then the oldest goes first, and a datagram
 * whose fragments come close together still makes it. */
static void test_reasm_flood_many_sources(void)
{
	static const char *const eight[] = { "198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4",
					     "198.51.100.5", "198.51.100.6", "198.51.100.7", "198.51.100.8" };
	static char many_s[100][20];
	static const char *many[100];
	struct reasm *r = reasm_create(DEFAULT_MEMORY, 30);
	struct reasm_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	flood(r, eight, 8, 2000, 1, 1);
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 62);
	legit_survives(r, eight, 8, 2000, 4, "192.0.2.1");
	legit_survives(r, eight, 8, 2000, 6, "2001:db8:c1::1");
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.datagrams, 2);
	CU_ASSERT(st.evictions > 0);
	CU_ASSERT_EQUAL(st.memory_drops, 0);
	reasm_destroy(r);

	r = reasm_create(DEFAULT_MEMORY, 30);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned i = 0; i < 100; i++) {
		snprintf(many_s[i], sizeof(many_s[i]), "198.51.100.%u", 100 + i);
		many[i] = many_s[i];
	}
	flood(r, many, 100, 2000, 1, 1);
	legit_survives(r, many, 100, 30, 4, "192.0.2.1");
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.datagrams, 1);
	CU_ASSERT_EQUAL(st.in_progress, 61);	/* the legitimate one's slot is free again */
	reasm_destroy(r);
}

/* (c) Many datagrams in progress at once, IPv4 and IPv6, the same IDs from
 * different sources, their fragments shuffled: each comes out whole. */
#define NDG 240
static void test_reasm_many_interleaved(void)
{
	static const char *const src4[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	static const char *const src6[] = { "2001:db8:c1::1", "2001:db8:c1::2", "2001:db8:c1::3" };
	static struct pg_pkt p[NDG];
	static struct frag f[NDG * 3];
	unsigned order[NDG * 3], done = 0;
	bool seen[NDG] = { false };
	struct reasm *r = reasm_create(32u << 20, 30);	/* about 500 slots */
	struct reasm_stats st;
	uint8_t *o;
	uint32_t l;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned i = 0; i < NDG; i++) {
		int fam = i % 2 ? 6 : 4;
		const char *s = fam == 4 ? src4[i / 2 % 3] : src6[i / 2 % 3];
		uint32_t id = i / 6;	/* shared by the 3 sources of each family */
		unsigned tl;

		datagram(&p[i], fam, s, id, 400);
		tl = p[i].len - p[i].l3len;
		cut(&f[3 * i], &p[i], id, 0, 136, true);
		cut(&f[3 * i + 1], &p[i], id, 136, 136, true);
		cut(&f[3 * i + 2], &p[i], id, 272, tl - 272, false);
	}
	for (unsigned k = 0; k < NDG * 3; k++)
		order[k] = k;
	for (unsigned k = NDG * 3 - 1; k > 0; k--) {
		unsigned j = pg_rand(&rng) % (k + 1), t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < NDG * 3; k++) {
		unsigned i = order[k] / 3;

		CU_ASSERT_EQUAL(add(r, &f[order[k]], 1, &o, &l), MSLB_OK);
		if (o) {
			CU_ASSERT_FALSE(seen[i]);
			seen[i] = true;
			CU_ASSERT(tp_same("many", o, l, p[i].buf, p[i].len));
			done++;
		}
	}
	CU_ASSERT_EQUAL(done, NDG);
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	CU_ASSERT_EQUAL(st.evictions + st.source_evictions + st.memory_drops + st.bad, 0);
	reasm_destroy(r);
}

/* (d) Expiry, oldest first, with datagrams completed and evicted in
 * between: those past the timeout go, the others stay, and the slots are
 * reused. */
static void test_reasm_expiry_order(void)
{
	static const char *const a[] = { "198.51.100.66" };
	static struct frag f0, f1;
	struct reasm *r = reasm_create(DEFAULT_MEMORY, 30);
	struct reasm_stats st;
	struct pg_pkt p;
	uint8_t *o;
	uint32_t l;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned t = 1; t <= 20; t++)
		flood(r, a, 1, 1, t, t);
	/* One completes in the middle of the age order. */
	datagram(&p, 4, "192.0.2.1", 7, 100);
	cut(&f0, &p, 7, 0, 64, true);
	cut(&f1, &p, 7, 64, p.len - p.l3len - 64, false);
	CU_ASSERT_EQUAL(add(r, &f0, 10.5, &o, &l), MSLB_OK);
	reasm_expire(r, 35);	/* first seen before 5 */
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.timeouts, 4);
	CU_ASSERT_EQUAL(st.in_progress, 17);
	CU_ASSERT_EQUAL(add(r, &f1, 36, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL(o);
	reasm_expire(r, 40.6);	/* before 10.6, 10.5 was completed */
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.timeouts, 10);
	CU_ASSERT_EQUAL(st.in_progress, 10);
	/* The source's oldest slots went, the rest are still there: more
	 * fragments of datagram 15 (first seen at 15) complete it. */
	datagram(&p, 4, a[0], 15, 64);
	cut(&f1, &p, 15, 8, p.len - p.l3len - 8, false);
	CU_ASSERT_EQUAL(add(r, &f1, 41, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL(o);
	reasm_expire(r, 1000);
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.timeouts, 19);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	/* Every slot is free again: one source takes its half. */
	flood(r, a, 1, 100, 1000, 1001);
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.in_progress, 31);
	reasm_destroy(r);
}

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The cost of one fragment with every slot taken: fragments that find
 * their datagram (8 bytes each to the datagrams in progress, round after
 * round) and first fragments of new datagrams (the flood), which find none. */
static void bench(unsigned memory)
{
	enum { ROUNDS = 20 };
	static struct frag *f;
	struct reasm *r = reasm_create(memory, 30);
	struct reasm_stats st;
	const char *src[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4" };
	struct pg_pkt p;
	unsigned n, nf = 0, reps = 0;
	uint8_t *o;
	uint32_t l;
	double t0, hit, miss;

	/* How many slots: fill from 4 sources until no more fit. */
	flood(r, src, 4, memory / 60000 + 10, 1, 1);
	reasm_get_stats(r, &st);
	n = st.in_progress;
	reasm_destroy(r);
	r = reasm_create(memory, 30);
	f = calloc((size_t)n * (ROUNDS + 1), sizeof(*f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (unsigned i = 0; i < n; i++) {
		datagram(&p, 4, src[i % 4], i, 8 * (ROUNDS + 2));
		for (unsigned k = 0; k <= ROUNDS; k++)
			cut(&f[(size_t)k * n + i], &p, i, 8 * k, 8, true);
	}
	for (unsigned i = 0; i < n; i++)
		add(r, &f[i], 1, &o, &l);
	t0 = secs();
	for (unsigned k = 1; k <= ROUNDS; k++)
		for (unsigned i = 0; i < n; i++)
			nf += add(r, &f[(size_t)k * n + i], 1, &o, &l) == MSLB_OK;
	hit = (secs() - t0) / (n * ROUNDS) * 1e9;
	CU_ASSERT_EQUAL(nf, n * ROUNDS);
	/* The flood: first fragments of datagrams not seen yet, from a fifth source. */
	for (unsigned i = 0; i < n; i++) {
		datagram(&p, 4, "198.51.100.66", 40000 + i, 64);
		cut(&f[i], &p, 40000 + i, 0, 8, true);
	}
	t0 = secs();
	do
		for (unsigned i = 0; i < n; i++, reps++) {
			f[i].buf[4] = (uint8_t)(reps >> 8);	/* a new ID each time */
			f[i].buf[5] = (uint8_t)reps;
			add(r, &f[i], 1, &o, &l);
		}
	while (reps < 200000);
	miss = (secs() - t0) / reps * 1e9;
	printf("\n  reasm bench: %u slots: %.0f ns per fragment of a datagram in progress, "
	       "%.0f ns per new datagram's fragment\n", n, hit, miss);
	free(f);
	reasm_destroy(r);
}

static void test_reasm_bench(void)
{
	if (!getenv("MSLB_REASM_BENCH"))
		return;
	bench(DEFAULT_MEMORY);
	bench(64u << 20);
	bench(256u << 20);
}

void suite_reasm_attack(void)
{
	CU_pSuite s = CU_add_suite("reasm_attack", NULL, NULL);

	pg_seed(&rng, 0xa77ac);
	UNIT_ADD(s, test_reasm_flood_one_source);
	UNIT_ADD(s, test_reasm_flood_many_sources);
	UNIT_ADD(s, test_reasm_many_interleaved);
	UNIT_ADD(s, test_reasm_expiry_order);
	UNIT_ADD(s, test_reasm_bench);
}
