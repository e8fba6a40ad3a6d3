/* frag: IPv4 fragmentation (RFC 791: options copied or not, fragments cut
 * again, DF kept) and the IPv6 fragment header of the daemon's own outer
 * packets (RFC 8200), every fragment checked field by field and put back
 * together by reasm, byte for byte. */
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "net/frag.h"
#include "net/pkt.h"
#include "net/reasm.h"

static struct pg_rng rng;
static struct tp_frags fr;	/* the fragments of the call under test */

static void count(void *ctx, uint8_t *pkt, uint32_t len)
{
	unsigned *n = ctx;

	CU_ASSERT(len <= 28 && tp_ip4_csum_ok(pkt));
	(*n)++;
}

/* Put f's fragments, in order ord (NULL: as they are), through a fresh
 * reassembler; the whole datagram must come out of the last one only. */
static bool reassemble(const struct tp_frags *f, const unsigned *ord, uint8_t *out, uint32_t *out_len)
{
	struct reasm *r = reasm_create(1u << 20, 30);
	struct reasm_stats st;
	bool done = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (unsigned k = 0; k < f->n; k++) {
		unsigned i = ord ? ord[k] : k;
		static uint8_t copy[PG_BUFSZ];
		struct pkt_view v;
		uint8_t *o;
		uint32_t l;

		memcpy(copy, f->pkt[i], f->len[i]);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(copy, f->len[i], &v), MSLB_OK);
		CU_ASSERT(v.fragment);
		CU_ASSERT_EQUAL_FATAL(reasm_add(r, &v, 1.0, &o, &l), MSLB_OK);
		if (o) {
			CU_ASSERT_EQUAL(k, f->n - 1);
			CU_ASSERT_FATAL(l <= PG_BUFSZ);
			memcpy(out, o, l);
			*out_len = l;
			done = true;
		}
	}
	reasm_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.datagrams, 1);
	CU_ASSERT_EQUAL(st.fragments, f->n);
	CU_ASSERT_EQUAL(st.in_progress, 0);
	reasm_destroy(r);
	return done;
}

/* What every IPv4 fragment of orig must be (RFC 791 3.2). */
static void check_v4_frags(const struct tp_frags *f, const uint8_t *orig, uint32_t olen, unsigned mtu,
			   const uint8_t *later_opts, unsigned later_len, unsigned base, bool more)
{
	unsigned ihl = (orig[0] & 0x0f) * 4u, pos = base;

	for (unsigned i = 0; i < f->n; i++) {
		const uint8_t *p = f->pkt[i];
		unsigned hl = (p[0] & 0x0f) * 4u, field = pg_get16(p + 6), chunk = f->len[i] - hl;
		bool last = i == f->n - 1;

		CU_ASSERT(f->len[i] <= mtu);
		CU_ASSERT_EQUAL(pg_get16(p + 2), f->len[i]);
		CU_ASSERT(tp_ip4_csum_ok(p));
		CU_ASSERT_EQUAL(p[0] >> 4, 4);
		CU_ASSERT_EQUAL(p[1], orig[1]);
		CU_ASSERT_EQUAL(pg_get16(p + 4), pg_get16(orig + 4));	/* one ID */
		CU_ASSERT_EQUAL(p[6] & 0x40, orig[6] & 0x40);		/* DF as it was */
		CU_ASSERT_EQUAL(p[8], orig[8]);
		CU_ASSERT_EQUAL(p[9], orig[9]);
		CU_ASSERT_EQUAL(memcmp(p + 12, orig + 12, 8), 0);
		CU_ASSERT_EQUAL((field & 0x1fff) * 8u, pos);
		CU_ASSERT_EQUAL(!!(field & 0x2000), last ? more : true);
		if (!last)
			CU_ASSERT_EQUAL(chunk % 8, 0);
		if (i == 0) {
			CU_ASSERT_EQUAL(hl, ihl);
			CU_ASSERT_EQUAL(memcmp(p + 20, orig + 20, ihl - 20), 0);
		} else {
			CU_ASSERT_EQUAL(hl, 20 + later_len);
			if (later_len)
				CU_ASSERT_EQUAL(memcmp(p + 20, later_opts, later_len), 0);
		}
		CU_ASSERT_EQUAL(memcmp(p + hl, orig + ihl + (pos - base), chunk), 0);
		pos += chunk;
	}
	CU_ASSERT_EQUAL(pos - base, olen - ihl);
}

/* Options: Router Alert (copied), Record Route and NOP (not copied). */
static void test_frag_ipv4_options(void)
{
	static const uint8_t opts[12] = { 148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1 };
	static const uint8_t later[4] = { 148, 4, 0, 0 };
	static const unsigned ord[] = { 3, 1, 0, 2 };
	static uint8_t out[FRAG_ROOM + PG_BUFSZ], whole[PG_BUFSZ];
	struct pg_spec s;
	struct pg_pkt p;
	uint32_t wlen = 0;
	int n;

	pg_spec_init(&s, 4, PG_UDP);
	memcpy(s.opts, opts, sizeof(opts));
	s.opts_len = sizeof(opts);
	s.payload = 1000;
	pg_build(&p, &s, &rng);
	p.buf[6] = 0;	/* no DF */
	pg_recompute(&p);
	CU_ASSERT_EQUAL_FATAL(p.len, 32 + 1008);

	memset(&fr, 0, sizeof(fr));
	n = frag_ipv4(p.buf, p.len, 300, out + FRAG_ROOM, tp_collect, &fr);
	/* 264 bytes in the first (IHL 8), 272 in each later one (IHL 6). */
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(fr.n, 4);
	CU_ASSERT_EQUAL(fr.len[0], 32 + 264);
	CU_ASSERT_EQUAL(fr.len[1], 24 + 272);
	CU_ASSERT_EQUAL(fr.len[2], 24 + 272);
	CU_ASSERT_EQUAL(fr.len[3], 24 + 200);
	CU_ASSERT_EQUAL(fr.pkt[1][0], 0x46);
	check_v4_frags(&fr, p.buf, p.len, 300, later, sizeof(later), 0, false);
	CU_ASSERT_FATAL(reassemble(&fr, NULL, whole, &wlen));
	CU_ASSERT(tp_same("reassembled in order", whole, wlen, p.buf, p.len));
	CU_ASSERT_FATAL(reassemble(&fr, ord, whole, &wlen));
	CU_ASSERT(tp_same("reassembled out of order", whole, wlen, p.buf, p.len));
}

/* A copied option whose length is not a multiple of 4 (Security, 130,
 * 11 bytes): later fragments pad it with end-of-list. */
static void test_frag_ipv4_options_padding(void)
{
	static const uint8_t opts[12] = { 130, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1 };
	static const uint8_t later[12] = { 130, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };
	static uint8_t out[FRAG_ROOM + PG_BUFSZ], whole[PG_BUFSZ];
	struct pg_spec s;
	struct pg_pkt p;
	uint32_t wlen = 0;
	int n;

	pg_spec_init(&s, 4, PG_TCP);
	memcpy(s.opts, opts, sizeof(opts));
	s.opts_len = sizeof(opts);
	s.payload = 700;
	pg_build(&p, &s, &rng);
	p.buf[6] = 0;
	pg_recompute(&p);
	memset(&fr, 0, sizeof(fr));
	n = frag_ipv4(p.buf, p.len, 256, out + FRAG_ROOM, tp_collect, &fr);
	CU_ASSERT_FATAL(n >= 3);
	CU_ASSERT_EQUAL((unsigned)n, fr.n);
	check_v4_frags(&fr, p.buf, p.len, 256, later, sizeof(later), 0, false);
	CU_ASSERT_FATAL(reassemble(&fr, NULL, whole, &wlen));
	CU_ASSERT(tp_same("reassembled", whole, wlen, p.buf, p.len));

	/* Nothing copied: later fragments have a bare header. */
	{
		static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };

		pg_spec_init(&s, 4, PG_UDP);
		memcpy(s.opts, rr, sizeof(rr));
		s.opts_len = sizeof(rr);
		s.payload = 700;
		pg_build(&p, &s, &rng);
		p.buf[6] = 0;
		pg_recompute(&p);
		memset(&fr, 0, sizeof(fr));
		n = frag_ipv4(p.buf, p.len, 256, out + FRAG_ROOM, tp_collect, &fr);
		CU_ASSERT_FATAL(n >= 3);
		check_v4_frags(&fr, p.buf, p.len, 256, NULL, 0, 0, false);
		CU_ASSERT_EQUAL(fr.pkt[1][0], 0x45);
		CU_ASSERT_FATAL(reassemble(&fr, NULL, whole, &wlen));
		CU_ASSERT(tp_same("reassembled", whole, wlen, p.buf, p.len));
	}
}

/* A fragment cut again: its pieces keep its offset, and all of them but
 * the pieces of the datagram's last fragment keep MF. */
static void test_frag_ipv4_refragment(void)
{
	static uint8_t out[FRAG_ROOM + PG_BUFSZ], whole[PG_BUFSZ];
	static struct tp_frags all;
	struct pg_pkt p, a, b;
	unsigned na, counted = 0;
	uint32_t wlen = 0;

	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 3000, 0x10, false);
	pg_fragment(&p, 0, 1600, true, &a);
	pg_fragment(&p, 1600, p.len - 20 - 1600, false, &b);

	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL_FATAL(frag_ipv4(a.buf, a.len, 500, out + FRAG_ROOM, tp_collect, &fr), 4);
	check_v4_frags(&fr, a.buf, a.len, 500, NULL, 0, 0, true);
	CU_ASSERT(pg_get16(fr.pkt[3] + 6) & 0x2000);	/* MF kept on the last piece */
	all = fr;
	na = fr.n;

	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL_FATAL(frag_ipv4(b.buf, b.len, 500, out + FRAG_ROOM, tp_collect, &fr), 3);
	check_v4_frags(&fr, b.buf, b.len, 500, NULL, 0, 1600, false);
	CU_ASSERT_EQUAL(pg_get16(fr.pkt[0] + 6) & 0x1fff, 1600 / 8);
	CU_ASSERT_FALSE(pg_get16(fr.pkt[2] + 6) & 0x2000);
	for (unsigned i = 0; i < fr.n; i++) {
		memcpy(all.pkt[na + i], fr.pkt[i], fr.len[i]);
		all.len[na + i] = fr.len[i];
	}
	all.n = na + fr.n;
	CU_ASSERT_FATAL(reassemble(&all, NULL, whole, &wlen));
	CU_ASSERT(tp_same("reassembled from re-cut fragments", whole, wlen, p.buf, p.len));

	/* DF on the input stays on every piece. */
	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 1000, 0, true);
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(frag_ipv4(p.buf, p.len, 500, out + FRAG_ROOM, tp_collect, &fr), 3);
	check_v4_frags(&fr, p.buf, p.len, 500, NULL, 0, 0, false);
	/* Too small an MTU for a header and 8 bytes. */
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(frag_ipv4(p.buf, p.len, 27, out + FRAG_ROOM, tp_collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
	CU_ASSERT_EQUAL(frag_ipv4(p.buf, p.len, 28, out + FRAG_ROOM, count, &counted), 126);
	CU_ASSERT_EQUAL(counted, 126);
}

/* The daemon's own IPv6 outer packet, cut with a fragment header. */
static void test_frag_ipv6(void)
{
	static const unsigned mtus[] = { 600, 1280, 1000, 100 };
	static uint8_t pkt[PG_BUFSZ], out[FRAG_ROOM + PG_BUFSZ], whole[PG_BUFSZ];
	uint8_t src[16], dst[16];
	struct pg_pkt in;
	uint32_t len, wlen = 0;

	tl_addr("2001:db8:5::10", src);
	tl_addr("2001:db8:b::11", dst);
	tp_mk(&rng, &in, 6, PG_UDP, NULL, NULL, 1400 - 48, 0xb8, false);
	len = tp_outer(pkt, 6, in.buf, in.len, src, dst, 0, false);
	memcpy(pkt + len, in.buf, in.len);
	len += in.len;
	CU_ASSERT_EQUAL_FATAL(len, 1440);
	for (unsigned m = 0; m < ARRAY_SIZE(mtus); m++) {
		unsigned mtu = mtus[m], pos = 0, chunk_max = (mtu - 48) & ~7u;
		int n;

		memset(&fr, 0, sizeof(fr));
		n = frag_ipv6(pkt, len, mtu, 0x89abcdef, out + FRAG_ROOM, tp_collect, &fr);
		CU_ASSERT_EQUAL_FATAL((unsigned)n, (1400 + chunk_max - 1) / chunk_max);
		for (unsigned i = 0; i < fr.n; i++) {
			const uint8_t *f = fr.pkt[i];
			unsigned chunk = fr.len[i] - 48;
			bool last = i == fr.n - 1;

			CU_ASSERT(fr.len[i] <= mtu);
			CU_ASSERT_EQUAL(memcmp(f, pkt, 4), 0);		/* version, class, label */
			CU_ASSERT_EQUAL(pg_get16(f + 4), fr.len[i] - 40);
			CU_ASSERT_EQUAL(f[6], 44);
			CU_ASSERT_EQUAL(f[7], pkt[7]);
			CU_ASSERT_EQUAL(memcmp(f + 8, pkt + 8, 32), 0);
			CU_ASSERT_EQUAL(f[40], 41);			/* next header after it */
			CU_ASSERT_EQUAL(f[41], 0);
			CU_ASSERT_EQUAL(pg_get16(f + 42) & 0xfff8, pos);
			CU_ASSERT_EQUAL(pg_get16(f + 42) & 6, 0);
			CU_ASSERT_EQUAL(pg_get16(f + 42) & 1, !last);
			CU_ASSERT_EQUAL(pg_get32(f + 44), 0x89abcdef);
			if (!last)
				CU_ASSERT_EQUAL(chunk, chunk_max);
			CU_ASSERT_EQUAL(memcmp(f + 48, pkt + 40 + pos, chunk), 0);
			pos += chunk;
		}
		CU_ASSERT_EQUAL(pos, 1400);
		CU_ASSERT_FATAL(reassemble(&fr, NULL, whole, &wlen));
		CU_ASSERT(tp_same("IPv6 reassembled", whole, wlen, pkt, len));
	}
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(frag_ipv6(pkt, len, 55, 1, out + FRAG_ROOM, tp_collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
}

void suite_frag(void)
{
	CU_pSuite s = CU_add_suite("frag", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_frag_ipv4_options);
	UNIT_ADD(s, test_frag_ipv4_options_padding);
	UNIT_ADD(s, test_frag_ipv4_refragment);
	UNIT_ADD(s, test_frag_ipv6);
}
