/* encap: the pure modules of encapsulation mode, each against headers and
 * checksums written out here (and pktgen's reference checksum): encap
 * (outer headers on and off, DSCP/ECN, RFC 6040), frag and reasm (cut and
 * put together again, byte for byte), icmp (errors built and read, who may
 * get one, the token bucket) and gso (software segmentation). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/virtio_net.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "base/addr.h"
#include "io/io.h"
#include "net/encap.h"
#include "net/frag.h"
#include "net/gso.h"
#include "net/icmp.h"
#include "net/pkt.h"
#include "net/reasm.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

static struct pg_rng rng;

/* ---- encap_push ---------------------------------------------------- */

static const uint8_t tos_values[] = { 0x00, 0x01, 0x02, 0x03, 0xb8, 0xb9, 0x2e, 0xfe, 0xff };

static void push_one(int inf, int ov, uint8_t tos, bool df, bool df_clear)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ], exp[64 + PG_BUFSZ];
	uint8_t src[16], dst[16], *h;
	struct pg_pkt in;
	unsigned ovh = ov == 4 ? 20 : 40, n;
	bool want_df = inf == 4 ? df : !df_clear;
	char what[80];

	tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
	tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
	tp_mk(&rng, &in, inf, PG_UDP, NULL, NULL, 100, tos, df);
	memset(buf, 0xee, IO_HEADROOM);
	memcpy(buf + IO_HEADROOM, in.buf, in.len);
	h = encap_push(buf + IO_HEADROOM, in.len, ov, src, dst, 0xbeef, df_clear);
	CU_ASSERT_PTR_EQUAL_FATAL(h, buf + IO_HEADROOM - ovh);
	CU_ASSERT_EQUAL(encap_overhead(ov), ovh);
	n = tp_outer(exp, ov, in.buf, in.len, src, dst, 0xbeef, want_df);
	memcpy(exp + n, in.buf, in.len);
	tp_take_label(exp, h);	/* its own test: test_encap_push_flow_label */
	snprintf(what, sizeof(what), "%d in %d tos 0x%02x df %d clear %d", inf, ov, tos, df, df_clear);
	CU_ASSERT(tp_same(what, h, ovh + in.len, exp, n + in.len));
	/* Nothing before the outer header was touched. */
	for (unsigned i = 0; i < IO_HEADROOM - ovh; i++)
		CU_ASSERT_EQUAL(buf[i], 0xee);
	/* The fields one by one, for the record. */
	CU_ASSERT_EQUAL(pg_tos(h), tos);	/* DSCP and ECN copied (RFC 6040 normal mode) */
	if (ov == 4) {
		CU_ASSERT_EQUAL(h[9], inf == 4 ? 4 : 41);
		CU_ASSERT_EQUAL(!!(h[6] & 0x40), want_df);
		CU_ASSERT_EQUAL(pg_get16(h + 2), in.len + 20);
		CU_ASSERT_EQUAL(pg_get16(h + 4), 0xbeef);
		CU_ASSERT(tp_ip4_csum_ok(h));
	} else {
		CU_ASSERT_EQUAL(h[6], inf == 4 ? 4 : 41);
		CU_ASSERT_EQUAL(pg_get16(h + 4), in.len);
	}
}

static void test_encap_push_families(void)
{
	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (unsigned t = 0; t < ARRAY_SIZE(tos_values); t++)
				for (int df = 0; df < 2; df++)
					for (int clear = 0; clear < 2; clear++)
						push_one(inf, ov, tos_values[t], df, clear);
}

static uint32_t label_of(const struct pg_pkt *in)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ];
	uint8_t src[16], dst[16], *h;

	tl_addr("2001:db8:5::10", src);
	tl_addr("2001:db8:b::11", dst);
	memcpy(buf + IO_HEADROOM, in->buf, in->len);
	h = encap_push(buf + IO_HEADROOM, in->len, 6, src, dst, 0, false);
	return pg_get32(h) & 0xfffff;
}

/* RFC 6438: one flow label per inner address pair, whatever the ports,
 * protocol, length or traffic class; other pairs spread over others. */
static void test_encap_push_flow_label(void)
{
	static const char *const c4[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.7" };
	static const char *const c6[] = { "2001:db8:c1::1", "2001:db8:c1::2", "2001:db8:c2::1", "2001:db8::9" };
	uint32_t labels[8];
	unsigned distinct = 0;

	for (unsigned i = 0; i < 8; i++) {
		int family = i < 4 ? 4 : 6;
		const char *src = family == 4 ? c4[i % 4] : c6[i % 4];
		struct pg_pkt a, b;

		tp_mk(&rng, &a, family, PG_TCP, src, NULL, 50, 0x00, false);
		tp_mk(&rng, &b, family, PG_UDP, src, NULL, 900, 0xb9, true);
		labels[i] = label_of(&a);
		CU_ASSERT_EQUAL(labels[i], label_of(&b));
		CU_ASSERT_EQUAL(labels[i], label_of(&a));
	}
	for (unsigned i = 0; i < 8; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i; j++)
			dup = dup || labels[j] == labels[i];
		distinct += !dup;
	}
	CU_ASSERT(distinct >= 7);
}

/* ---- encap_pop ----------------------------------------------------- */

/* outer + inner into buf (outer ECN overridden by oecn >= 0): returns the length. */
static uint32_t mk_tunnel(uint8_t *buf, int ov, const struct pg_pkt *in, int oecn)
{
	uint8_t src[16], dst[16];
	unsigned n;

	tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
	tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
	n = tp_outer(buf, ov, in->buf, in->len, src, dst, 7, false);
	memcpy(buf + n, in->buf, in->len);
	if (oecn >= 0) {
		pg_set_tos(buf, (uint8_t)((pg_tos(buf) & 0xfc) | oecn));
		if (ov == 4)
			tp_ip4_csum(buf);
	}
	return n + in->len;
}

static void test_encap_pop_families(void)
{
	static uint8_t buf[64 + PG_BUFSZ];

	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (unsigned k = 0; k < 5; k++) {
				struct pg_pkt in;
				struct pkt_view v, iv;
				uint32_t len;

				tp_mk(&rng, &in, inf, k % 2 ? PG_TCP : PG_UDP, NULL, NULL, pg_range(&rng, 0, 1400),
				   tos_values[k], k & 1);
				len = mk_tunnel(buf, ov, &in, -1);
				CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
				CU_ASSERT(encap_is_tunnel(&v));
				CU_ASSERT_EQUAL_FATAL(encap_pop(&v, &iv), MSLB_OK);
				CU_ASSERT_PTR_EQUAL(iv.data, buf + (ov == 4 ? 20 : 40));
				CU_ASSERT_EQUAL(iv.len, in.len);
				CU_ASSERT_EQUAL(iv.version, inf);
				CU_ASSERT_EQUAL(iv.l4proto, in.proto);
				CU_ASSERT(tp_same("pop", iv.data, iv.len, in.buf, in.len));
			}
}

static void test_encap_pop_mismatch(void)
{
	static uint8_t buf[64 + PG_BUFSZ];
	struct pg_pkt in4, in6;
	struct pkt_view v, iv;
	uint32_t len;

	tp_mk(&rng, &in4, 4, PG_UDP, NULL, NULL, 100, 0, true);
	tp_mk(&rng, &in6, 6, PG_UDP, NULL, NULL, 100, 0, false);
	/* Protocol 4 with an IPv6 packet inside, and 41 with IPv4. */
	for (int ov = 4; ov <= 6; ov += 2) {
		len = mk_tunnel(buf, ov, &in6, -1);
		buf[ov == 4 ? 9 : 6] = 4;
		if (ov == 4)
			tp_ip4_csum(buf);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		len = mk_tunnel(buf, ov, &in4, -1);
		buf[ov == 4 ? 9 : 6] = 41;
		if (ov == 4)
			tp_ip4_csum(buf);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		/* A malformed inner header: bad IPv4 checksum. */
		len = mk_tunnel(buf, ov, &in4, -1);
		buf[(ov == 4 ? 20 : 40) + 10] ^= 0x55;
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		/* Nothing inside at all. */
		len = mk_tunnel(buf, ov, &in4, -1);
		len = ov == 4 ? 20 : 40;
		if (ov == 4) {
			pg_put16(buf + 2, 20);
			tp_ip4_csum(buf);
		} else {
			buf[6] = 4;
			pg_put16(buf + 4, 0);
		}
		if (pkt_parse(buf, len, &v) == MSLB_OK)
			CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);
	}
}

/* RFC 6040 section 4.2 (Figure 4), the CE column: a CE mark on the outer
 * header reaches an ECN-capable inner packet; a Not-ECT inner packet is
 * dropped; an outer header without CE leaves the inner one alone. */
static void test_encap_pop_ecn(void)
{
	static uint8_t buf[64 + PG_BUFSZ];

	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (int oecn = 0; oecn < 4; oecn++)
				for (int iecn = 0; iecn < 4; iecn++) {
					struct pg_pkt in, e;
					struct pkt_view v, iv;
					uint32_t len;
					enum mslb_drop r;
					char what[64];

					tp_mk(&rng, &in, inf, PG_TCP, NULL, NULL, 64, (uint8_t)(0x28 | iecn), true);
					len = mk_tunnel(buf, ov, &in, oecn);
					CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
					r = encap_pop(&v, &iv);
					snprintf(what, sizeof(what), "%d in %d outer ecn %d inner ecn %d", inf, ov, oecn, iecn);
					if (oecn == 3 && iecn == 0) {
						CU_ASSERT_EQUAL(r, MSLB_DROP_TUNNEL_INNER);
						continue;
					}
					CU_ASSERT_EQUAL_FATAL(r, MSLB_OK);
					e = in;
					if (oecn == 3)
						pg_set_tos(e.buf, (uint8_t)(0x28 | 3));
					pg_recompute(&e);
					CU_ASSERT(tp_same(what, iv.data, iv.len, e.buf, e.len));
					if (inf == 4)
						CU_ASSERT(tp_ip4_csum_ok(iv.data));
				}
}

/* ---- frag ---------------------------------------------------------- */

#define MAX_FRAGS 64

struct frags {
	unsigned n;
	uint32_t len[MAX_FRAGS];
	uint8_t pkt[MAX_FRAGS][PG_BUFSZ];
};

static struct frags fr;

static void collect(void *ctx, uint8_t *pkt, uint32_t len)
{
	struct frags *f = ctx;

	CU_ASSERT_FATAL(f->n < MAX_FRAGS && len <= PG_BUFSZ);
	memcpy(f->pkt[f->n], pkt, len);
	f->len[f->n++] = len;
}

static void count(void *ctx, uint8_t *pkt, uint32_t len)
{
	unsigned *n = ctx;

	CU_ASSERT(len <= 28 && tp_ip4_csum_ok(pkt));
	(*n)++;
}

/* Put f's fragments, in order ord (NULL: as they are), through a fresh
 * reassembler; the whole datagram must come out of the last one only. */
static bool reassemble(const struct frags *f, const unsigned *ord, uint8_t *out, uint32_t *out_len)
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
static void check_v4_frags(const struct frags *f, const uint8_t *orig, uint32_t olen, unsigned mtu,
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
	n = frag_ipv4(p.buf, p.len, 300, out + FRAG_ROOM, collect, &fr);
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
	n = frag_ipv4(p.buf, p.len, 256, out + FRAG_ROOM, collect, &fr);
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
		n = frag_ipv4(p.buf, p.len, 256, out + FRAG_ROOM, collect, &fr);
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
	static struct frags all;
	struct pg_pkt p, a, b;
	unsigned na, counted = 0;
	uint32_t wlen = 0;

	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 3000, 0x10, false);
	pg_fragment(&p, 0, 1600, true, &a);
	pg_fragment(&p, 1600, p.len - 20 - 1600, false, &b);

	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL_FATAL(frag_ipv4(a.buf, a.len, 500, out + FRAG_ROOM, collect, &fr), 4);
	check_v4_frags(&fr, a.buf, a.len, 500, NULL, 0, 0, true);
	CU_ASSERT(pg_get16(fr.pkt[3] + 6) & 0x2000);	/* MF kept on the last piece */
	all = fr;
	na = fr.n;

	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL_FATAL(frag_ipv4(b.buf, b.len, 500, out + FRAG_ROOM, collect, &fr), 3);
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
	CU_ASSERT_EQUAL(frag_ipv4(p.buf, p.len, 500, out + FRAG_ROOM, collect, &fr), 3);
	check_v4_frags(&fr, p.buf, p.len, 500, NULL, 0, 0, false);
	/* Too small an MTU for a header and 8 bytes. */
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(frag_ipv4(p.buf, p.len, 27, out + FRAG_ROOM, collect, &fr), -1);
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
		n = frag_ipv6(pkt, len, mtu, 0x89abcdef, out + FRAG_ROOM, collect, &fr);
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
	CU_ASSERT_EQUAL(frag_ipv6(pkt, len, 55, 1, out + FRAG_ROOM, collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
}

/* ---- reasm --------------------------------------------------------- */

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

/* Memory for one datagram: a second one in progress is refused. */
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
	CU_ASSERT_EQUAL(add(r, &b0, 1, &o, &l), MSLB_DROP_REASSEMBLY);
	stats(r, &st);
	CU_ASSERT_EQUAL(st.memory_drops, 1);
	CU_ASSERT_EQUAL(st.in_progress, 1);
	CU_ASSERT_EQUAL(st.bad, 0);
	CU_ASSERT_EQUAL(add(r, &a1, 1, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("a", o, l, a.buf, a.len));
	/* The slot is free again. */
	CU_ASSERT_EQUAL(add(r, &b1, 2, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_EQUAL(add(r, &b0, 2, &o, &l), MSLB_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT(tp_same("b", o, l, b.buf, b.len));
	stats(r, &st);
	CU_ASSERT_EQUAL(st.datagrams, 2);
	CU_ASSERT_EQUAL(st.fragments, 4);
	CU_ASSERT_EQUAL(st.memory_drops, 1);
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

/* ---- icmp ---------------------------------------------------------- */

/* The ICMP or ICMPv6 error icmp_build should write, from scratch. */
static uint32_t exp_icmp(uint8_t *o, int family, const uint8_t *from, const uint8_t *to, uint8_t type, uint8_t code,
			 uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	return tp_icmp(o, family, from, to, family == 4 ? 0xc0 : 0, type, code, info, quote, qlen);
}

static void test_icmp_build_v4(void)
{
	static const unsigned sizes[] = { 20, 28, 100, 575, 576, 1400, 3000 };
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], c4[16];

	tl_addr("203.0.113.10", from);
	tl_addr("192.0.2.1", c4);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct pg_pkt p;
		uint32_t n, q, e;

		tp_mk(&rng, &p, 4, PG_UDP, "192.0.2.1", "203.0.113.10", sizes[i] > 28 ? sizes[i] - 28 : 0, 0, true);
		if (sizes[i] == 20) {
			p.len = 20;	/* just the header */
		}
		q = p.len < 548 ? p.len : 548;
		memset(out, 0xdd, sizeof(out));
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 1380, out);
		e = exp_icmp(exp, 4, from, c4, 3, 4, 1380, p.buf, q);
		CU_ASSERT_EQUAL(n, e);
		CU_ASSERT(n <= ICMP_MAX_V4);
		CU_ASSERT(tp_same("frag needed", out, n, exp, e));
		/* The fields spelled out. */
		CU_ASSERT_EQUAL(out[20], 3);
		CU_ASSERT_EQUAL(out[21], 4);
		CU_ASSERT_EQUAL(pg_get16(out + 24), 0);
		CU_ASSERT_EQUAL(pg_get16(out + 26), 1380);
		CU_ASSERT(tp_ip4_csum_ok(out));
		CU_ASSERT(tp_l4_csum_ok(out, out + 20, n - 20, 1, false));
		CU_ASSERT_EQUAL(memcmp(out + 28, p.buf, q), 0);
		CU_ASSERT_EQUAL(out[n], 0xdd);

		n = icmp_build(p.buf, p.len, from, ICMP_UNREACHABLE, 999, out);
		e = exp_icmp(exp, 4, from, c4, 3, 1, 0, p.buf, q);
		CU_ASSERT(tp_same("host unreachable", out, n, exp, e));
	}
	/* Shorter than a header: nothing. */
	{
		struct pg_pkt p;

		tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 10, 0, true);
		CU_ASSERT_EQUAL(icmp_build(p.buf, 19, from, ICMP_TOO_BIG, 1000, out), 0);
	}
}

static void test_icmp_build_v6(void)
{
	static const unsigned sizes[] = { 40, 48, 500, 1279, 1280, 1281, 3000 };
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], c6[16];

	tl_addr("2001:db8:5::10", from);
	tl_addr("2001:db8:c1::1", c6);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct pg_pkt p;
		uint32_t n, q, e;

		tp_mk(&rng, &p, 6, PG_TCP, "2001:db8:c1::1", "2001:db8:5::10", sizes[i] > 60 ? sizes[i] - 60 : 0, 0x0a, false);
		if (sizes[i] < 60)
			p.len = sizes[i];
		q = p.len < 1232 ? p.len : 1232;
		memset(out, 0xdd, sizeof(out));
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 1360, out);
		e = exp_icmp(exp, 6, from, c6, 2, 0, 1360, p.buf, q);
		CU_ASSERT_EQUAL(n, e);
		CU_ASSERT(n <= ICMP_MAX_V6);
		CU_ASSERT(tp_same("packet too big", out, n, exp, e));
		CU_ASSERT_EQUAL(out[40], 2);
		CU_ASSERT_EQUAL(out[41], 0);
		CU_ASSERT_EQUAL(pg_get32(out + 44), 1360);
		CU_ASSERT(tp_l4_csum_ok(out, out + 40, n - 40, 58, true));
		CU_ASSERT_EQUAL(out[n], 0xdd);

		n = icmp_build(p.buf, p.len, from, ICMP_UNREACHABLE, 0, out);
		e = exp_icmp(exp, 6, from, c6, 1, 3, 0, p.buf, q);
		CU_ASSERT(tp_same("address unreachable", out, n, exp, e));
	}
	/* A 32-bit MTU. */
	{
		struct pg_pkt p;
		uint32_t n;

		tp_mk(&rng, &p, 6, PG_UDP, "2001:db8:c1::1", NULL, 100, 0, false);
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 70000, out);
		CU_ASSERT_EQUAL(pg_get32(out + 44), 70000);
		CU_ASSERT(tp_l4_csum_ok(out, out + 40, n - 40, 58, true));
		CU_ASSERT_EQUAL(icmp_build(p.buf, 39, from, ICMP_TOO_BIG, 1280, out), 0);
	}
}

/* The packet the error is about may already be where the error goes. */
static void test_icmp_build_in_place(void)
{
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], to[16];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt p;
		uint32_t n, e, max = family == 4 ? 548 : 1232;

		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 1500, 0x20, true);
		tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", from);
		memcpy(to, p.buf + (family == 4 ? 12 : 8), 16);
		e = exp_icmp(exp, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, p.buf, max);
		memcpy(out, p.buf, p.len < sizeof(out) ? p.len : sizeof(out));
		n = icmp_build(out, sizeof(out) < p.len ? (uint32_t)sizeof(out) : p.len, from, ICMP_TOO_BIG, 1300, out);
		CU_ASSERT(tp_same("in place", out, n, exp, e));
	}
}

static bool may(const struct pg_pkt *p)
{
	static uint8_t copy[PG_BUFSZ];
	struct pkt_view v;

	memcpy(copy, p->buf, p->len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(copy, p->len, &v), MSLB_OK);
	return icmp_may_answer(&v);
}

/* An ICMP message of type/code with 8 more bytes. */
static void mk_icmp_type(struct pg_pkt *p, int family, uint8_t type, const char *src, const char *dst)
{
	tp_mk(&rng, p, family, family == 4 ? PG_ICMP : PG_ICMPV6, src, dst, 200, 0, false);
	p->buf[p->l3len] = type;
	pg_recompute(p);
}

struct may_case {
	const char *what;
	int family;
	uint8_t proto;
	int icmp_type;		/* -1: not ICMP */
	const char *src, *dst;
	int frag_off;		/* -1: whole; else a fragment at this offset */
	bool want;
	int ext;		/* IPv6: one extension header of this type first; 0: none */
};

static const struct may_case may_cases[] = {
	{ "udp", 4, PG_UDP, -1, NULL, NULL, -1, true, 0 },
	{ "tcp", 4, PG_TCP, -1, NULL, NULL, -1, true, 0 },
	{ "echo request", 4, PG_ICMP, 8, NULL, NULL, -1, true, 0 },
	{ "echo reply", 4, PG_ICMP, 0, NULL, NULL, -1, true, 0 },
	{ "dest unreachable", 4, PG_ICMP, 3, NULL, NULL, -1, false, 0 },
	{ "source quench", 4, PG_ICMP, 4, NULL, NULL, -1, false, 0 },
	{ "redirect", 4, PG_ICMP, 5, NULL, NULL, -1, false, 0 },
	{ "time exceeded", 4, PG_ICMP, 11, NULL, NULL, -1, false, 0 },
	{ "parameter problem", 4, PG_ICMP, 12, NULL, NULL, -1, false, 0 },
	{ "first fragment", 4, PG_UDP, -1, NULL, NULL, 0, true, 0 },
	{ "later fragment", 4, PG_UDP, -1, NULL, NULL, 64, false, 0 },
	{ "later fragment of an echo", 4, PG_ICMP, 8, NULL, NULL, 64, false, 0 },
	{ "first fragment of an error", 4, PG_ICMP, 3, NULL, NULL, 0, false, 0 },
	{ "to multicast", 4, PG_UDP, -1, NULL, "224.0.0.5", -1, false, 0 },
	{ "to 239/8", 4, PG_UDP, -1, NULL, "239.1.2.3", -1, false, 0 },
	{ "to broadcast", 4, PG_UDP, -1, NULL, "255.255.255.255", -1, false, 0 },
	{ "from multicast", 4, PG_UDP, -1, "224.1.1.1", NULL, -1, false, 0 },
	{ "from loopback", 4, PG_UDP, -1, "127.0.0.1", NULL, -1, false, 0 },
	{ "from 0.0.0.0", 4, PG_UDP, -1, "0.0.0.0", NULL, -1, false, 0 },
	{ "udp", 6, PG_UDP, -1, NULL, NULL, -1, true, 0 },
	{ "echo request", 6, PG_ICMPV6, 128, NULL, NULL, -1, true, 0 },
	{ "echo reply", 6, PG_ICMPV6, 129, NULL, NULL, -1, true, 0 },
	{ "neighbour solicitation", 6, PG_ICMPV6, 135, NULL, NULL, -1, true, 0 },
	{ "dest unreachable", 6, PG_ICMPV6, 1, NULL, NULL, -1, false, 0 },
	{ "packet too big", 6, PG_ICMPV6, 2, NULL, NULL, -1, false, 0 },
	{ "time exceeded", 6, PG_ICMPV6, 3, NULL, NULL, -1, false, 0 },
	{ "parameter problem", 6, PG_ICMPV6, 4, NULL, NULL, -1, false, 0 },
	{ "first fragment", 6, PG_UDP, -1, NULL, NULL, 0, true, 0 },
	{ "later fragment", 6, PG_UDP, -1, NULL, NULL, 64, false, 0 },
	{ "to multicast", 6, PG_UDP, -1, NULL, "ff02::1", -1, false, 0 },
	{ "to ff05::2", 6, PG_UDP, -1, NULL, "ff05::2", -1, false, 0 },
	{ "from multicast", 6, PG_UDP, -1, "ff0e::1", NULL, -1, false, 0 },
	{ "from ::", 6, PG_UDP, -1, "::", NULL, -1, false, 0 },
	{ "from ::1", 6, PG_UDP, -1, "::1", NULL, -1, false, 0 },
	{ "echo behind destination options", 6, PG_ICMPV6, 128, NULL, NULL, -1, true, PG_EXT_DST },
	{ "error behind destination options", 6, PG_ICMPV6, 1, NULL, NULL, -1, false, PG_EXT_DST },
	{ "error behind routing header", 6, PG_ICMPV6, 2, NULL, NULL, -1, false, PG_EXT_RT },
};

static void may_build(const struct may_case *c, struct pg_pkt *p)
{
	if (c->ext) {
		struct pg_spec s;

		pg_spec_init(&s, c->family, c->proto);
		s.payload = 200;
		s.ext[s.n_ext++] = (uint8_t)c->ext;
		pg_build(p, &s, &rng);
		p->buf[p->l3len] = (uint8_t)c->icmp_type;
		pg_recompute(p);
		return;
	}
	if (c->icmp_type >= 0)
		mk_icmp_type(p, c->family, (uint8_t)c->icmp_type, c->src, c->dst);
	else
		tp_mk(&rng, p, c->family, c->proto, c->src, c->dst, 200, 0, false);
	if (c->frag_off >= 0) {
		struct pg_pkt w = *p;

		pg_fragment(&w, (unsigned)c->frag_off, 64, true, p);
	}
}

static void test_icmp_may_answer(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(may_cases); i++) {
		const struct may_case *c = &may_cases[i];
		struct pg_pkt p;
		bool got;

		may_build(c, &p);
		got = may(&p);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			printf("\n  icmp_may_answer: IPv%d %s: got %d, expected %d", c->family, c->what, got, c->want);
	}
}

/* The same answers from a quote of the packet (its first 64 bytes). */
static void test_icmp_may_answer_raw(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(may_cases); i++) {
		const struct may_case *c = &may_cases[i];
		struct pg_pkt p;
		bool got;

		may_build(c, &p);
		got = icmp_may_answer_raw(p.buf, p.len < 64 ? p.len : 64);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			printf("\n  icmp_may_answer_raw: IPv%d %s: got %d, expected %d", c->family, c->what, got,
			       c->want);
	}
	/* Too short to tell. */
	{
		struct pg_pkt p;

		tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 100, 0, false);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 19));
		tp_mk(&rng, &p, 6, PG_UDP, NULL, NULL, 100, 0, false);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 39));
		mk_icmp_type(&p, 4, 8, NULL, NULL);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 20));	/* ICMP, type unknown */
		CU_ASSERT_TRUE(icmp_may_answer_raw(p.buf, 21));
	}
}

/* An error arriving: built with exp_icmp, read back. */
static void test_icmp_parse_error(void)
{
	static uint8_t buf[ICMP_MAX_V6 + 64];
	uint8_t from[16], to[16];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt about;
		struct pkt_view v;
		struct icmp_error e;
		uint32_t n;
		unsigned hl = family == 4 ? 20 : 40;

		tl_addr(family == 4 ? "198.51.100.1" : "2001:db8:ff::1", from);
		tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", to);
		tp_mk(&rng, &about, family, PG_TCP, family == 4 ? "203.0.113.10" : "2001:db8:5::10",
		   family == 4 ? "192.0.2.1" : "2001:db8:c1::1", 300, 0, true);

		/* Too big, with an MTU. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0,
			     family == 4 ? 1300 : 0x00012345, about.buf, about.len);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		memset(&e, 0, sizeof(e));
		CU_ASSERT_TRUE_FATAL(icmp_parse_error(&v, &e));
		CU_ASSERT_TRUE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, family == 4 ? 1300u : 0x00012345u);
		CU_ASSERT_PTR_EQUAL(e.quote, buf + hl + 8);
		CU_ASSERT_EQUAL(e.quote_len, about.len);

		/* Too big without an MTU (an old router). */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 0, about.buf, 60);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_TRUE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, 0);
		CU_ASSERT_EQUAL(e.quote_len, 60);

		/* Unreachable: not too big. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 1, family == 4 ? 1 : 3, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_FALSE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, 0);

		/* Time exceeded is an error too. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 11 : 3, 0, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_FALSE(e.too_big);

		/* A bad checksum. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 100);
		buf[hl + 8 + 50] ^= 1;
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Echo: not an error. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 8 : 128, 0, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Less than an IP header quoted. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, hl - 1);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 0);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, hl);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));

		/* A quote that is not IP. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 60);
		buf[hl + 8] = 0x55;
		pg_put16(buf + hl + 2, 0);
		{
			uint64_t acc = 0;

			if (family == 6) {
				acc = ref_sum(acc, buf + 8, 32);
				acc += 8 + 60 + 58;
			}
			pg_put16(buf + hl + 2, (uint16_t)~ref_fold(ref_sum(acc, buf + hl, 8 + 60)));
		}
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Not ICMP at all. */
		CU_ASSERT_EQUAL_FATAL(pkt_parse(about.buf, about.len, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
	}
}

/* Token bucket on a fake clock. */
static void test_icmp_bucket(void)
{
	struct icmp_bucket b;
	unsigned n;

	icmp_bucket_init(&b, 1, 1);
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 100));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 100));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 100.5));
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 101));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 101.9));
	/* Idle for long: still one at most. */
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 5000));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 5000));

	icmp_bucket_init(&b, 10, 3);
	for (n = 0; icmp_bucket_take(&b, 0); n++)
		CU_ASSERT_FATAL(n < 100);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 0.1));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0.1));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0.15));
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 0.2));
	for (n = 0; icmp_bucket_take(&b, 60); n++)
		CU_ASSERT_FATAL(n < 100);
	CU_ASSERT_EQUAL(n, 3);
	/* Over 10 simulated seconds at 1 ms steps: the burst plus the rate. */
	n = 0;
	for (int ms = 1; ms <= 10000; ms++)
		n += icmp_bucket_take(&b, 60 + ms / 1000.0);
	CU_ASSERT(n >= 99 && n <= 101);

	icmp_bucket_init(&b, 0, 5);
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 1000));
}

/* ---- gso ----------------------------------------------------------- */

static void gso_tcp(int family)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE], cat[PG_BUFSZ];
	struct pg_pkt p;
	struct pkt_view v;
	struct io_offload off = { 0 };
	unsigned hl = family == 4 ? 40 : 60, catlen = 0;
	uint32_t seq0 = 0xfffffc00;	/* wraps inside the super-packet */
	uint16_t id0 = 0xfffe;		/* and so does the IPv4 ID */
	int n;

	tp_mk(&rng, &p, family, PG_TCP, NULL, NULL, 3500, 0x48, true);
	pg_put32(p.buf + hl - 20 + 4, seq0);
	p.buf[hl - 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01;	/* CWR ACK PSH FIN */
	if (family == 4)
		pg_put16(p.buf + 4, id0);
	pg_recompute(&p);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_header_len(&v), hl);
	off.flags = IO_OFF_NEEDS_CSUM;
	off.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	off.gso_size = 1000;
	off.hdr_len = (uint16_t)hl;
	off.csum_start = (uint16_t)(hl - 20);
	off.csum_offset = 16;
	memset(&fr, 0, sizeof(fr));
	n = gso_segment(&v, &off, out + IO_HEADROOM, collect, &fr);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL_FATAL(fr.n, 4);
	for (unsigned i = 0; i < fr.n; i++) {
		const uint8_t *s = fr.pkt[i], *t = s + hl - 20;
		unsigned chunk = i < 3 ? 1000 : 500;
		uint8_t flags = 0x10;

		CU_ASSERT_EQUAL(fr.len[i], hl + chunk);
		if (family == 4) {
			CU_ASSERT_EQUAL(pg_get16(s + 2), hl + chunk);
			CU_ASSERT_EQUAL(pg_get16(s + 4), (uint16_t)(id0 + i));
			CU_ASSERT(tp_ip4_csum_ok(s));
			CU_ASSERT_EQUAL(s[6], 0x40);
			CU_ASSERT_EQUAL(memcmp(s + 8, p.buf + 8, 2), 0);
			CU_ASSERT_EQUAL(memcmp(s + 12, p.buf + 12, 8), 0);
		} else {
			CU_ASSERT_EQUAL(pg_get16(s + 4), 20 + chunk);
			CU_ASSERT_EQUAL(memcmp(s, p.buf, 4), 0);
			CU_ASSERT_EQUAL(memcmp(s + 6, p.buf + 6, 34), 0);
		}
		CU_ASSERT_EQUAL(s[1], p.buf[1]);
		CU_ASSERT_EQUAL(pg_get32(t + 4), seq0 + 1000 * i);
		if (i == 0)
			flags |= 0x80;
		if (i == 3)
			flags |= 0x09;
		CU_ASSERT_EQUAL(t[13], flags);
		/* Ports, ack, offset, window, urgent pointer as they were. */
		CU_ASSERT_EQUAL(memcmp(t, p.buf + hl - 20, 4), 0);
		CU_ASSERT_EQUAL(memcmp(t + 8, p.buf + hl - 20 + 8, 5), 0);
		CU_ASSERT_EQUAL(memcmp(t + 14, p.buf + hl - 20 + 14, 2), 0);
		CU_ASSERT_EQUAL(memcmp(t + 18, p.buf + hl - 20 + 18, 2), 0);
		CU_ASSERT(tp_l4_csum_ok(s, t, 20 + chunk, PG_TCP, true));
		memcpy(cat + catlen, s + hl, chunk);
		catlen += chunk;
	}
	CU_ASSERT_EQUAL(catlen, 3500);
	CU_ASSERT_EQUAL(memcmp(cat, p.buf + hl, 3500), 0);
}

static void test_gso_tcp4(void)
{
	gso_tcp(4);
}

static void test_gso_tcp6(void)
{
	gso_tcp(6);
}

static void test_gso_udp(void)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE], cat[PG_BUFSZ];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt p;
		struct pkt_view v;
		struct io_offload off = { .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1000 };
		unsigned hl = family == 4 ? 28 : 48, catlen = 0;

		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 3500, 0, false);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
		memset(&fr, 0, sizeof(fr));
		CU_ASSERT_EQUAL_FATAL(gso_segment(&v, &off, out + IO_HEADROOM, collect, &fr), 4);
		for (unsigned i = 0; i < fr.n; i++) {
			const uint8_t *s = fr.pkt[i], *u = s + hl - 8;
			unsigned chunk = i < 3 ? 1000 : 500;

			CU_ASSERT_EQUAL(fr.len[i], hl + chunk);
			CU_ASSERT_EQUAL(pg_get16(u + 4), 8 + chunk);
			CU_ASSERT_EQUAL(memcmp(u, p.buf + hl - 8, 4), 0);
			CU_ASSERT(tp_l4_csum_ok(s, u, 8 + chunk, PG_UDP, true));
			if (family == 4)
				CU_ASSERT(tp_ip4_csum_ok(s));
			memcpy(cat + catlen, s + hl, chunk);
			catlen += chunk;
		}
		CU_ASSERT_EQUAL(catlen, 3500);
		CU_ASSERT_EQUAL(memcmp(cat, p.buf + hl, 3500), 0);
	}
}

/* Metadata that does not fit the packet. */
static void test_gso_bad(void)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE];
	struct pg_pkt p;
	struct pkt_view v;
	struct io_offload off = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000 };

	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 2000, 0, false);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, collect, &fr), -1);
	tp_mk(&rng, &p, 4, PG_TCP, NULL, NULL, 2000, 0, false);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	off.gso_size = 0;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, collect, &fr), -1);
	off.gso_size = 1000;
	off.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
	/* TCP options count in the header length. */
	p.buf[20 + 12] = 8 << 4;
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_header_len(&v), 20 + 32);
}

void suite_encap(void)
{
	CU_pSuite s = CU_add_suite("encap", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_encap_push_families);
	UNIT_ADD(s, test_encap_push_flow_label);
	UNIT_ADD(s, test_encap_pop_families);
	UNIT_ADD(s, test_encap_pop_mismatch);
	UNIT_ADD(s, test_encap_pop_ecn);
	UNIT_ADD(s, test_frag_ipv4_options);
	UNIT_ADD(s, test_frag_ipv4_options_padding);
	UNIT_ADD(s, test_frag_ipv4_refragment);
	UNIT_ADD(s, test_frag_ipv6);
	UNIT_ADD(s, test_reasm_overlap);
	UNIT_ADD(s, test_reasm_memory_cap);
	UNIT_ADD(s, test_reasm_timeout);
	UNIT_ADD(s, test_reasm_interleaved);
	UNIT_ADD(s, test_icmp_build_v4);
	UNIT_ADD(s, test_icmp_build_v6);
	UNIT_ADD(s, test_icmp_build_in_place);
	UNIT_ADD(s, test_icmp_may_answer);
	UNIT_ADD(s, test_icmp_may_answer_raw);
	UNIT_ADD(s, test_icmp_parse_error);
	UNIT_ADD(s, test_icmp_bucket);
	UNIT_ADD(s, test_gso_tcp4);
	UNIT_ADD(s, test_gso_tcp6);
	UNIT_ADD(s, test_gso_udp);
	UNIT_ADD(s, test_gso_bad);
}
