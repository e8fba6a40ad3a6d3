/* gso: software segmentation of TCP and UDP super-packets: every segment's
 * headers (IDs, sequence numbers, flags, lengths, checksums) and payload,
 * and metadata that does not fit the packet; gso_pack (the segments back to
 * back, as many as fit); gso_pack_head (the first segments laid out over
 * the super-packet itself); coalesce_tcp (packed segments made one
 * super-packet again, and all it must refuse, leaving the bytes as they
 * were). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "io/io.h"
#include "net/coalesce.h"
#include "net/gso.h"
#include "net/pkt.h"

static struct pg_rng rng;
static struct tp_frags fr;	/* the segments of the call under test */

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
	n = gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr);
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

		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 3500, 0, 0);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
		memset(&fr, 0, sizeof(fr));
		CU_ASSERT_EQUAL_FATAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), 4);
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

	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 2000, 0, 0);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	tp_mk(&rng, &p, 4, PG_TCP, NULL, NULL, 2000, 0, 0);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	off.gso_size = 0;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	off.gso_size = 1000;
	off.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
	/* TCP options count in the header length. */
	p.buf[20 + 12] = 8 << 4;
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_header_len(&v), 20 + 32);
}

/* ---- gso_pack ----------------------------------------------------------- */

/* A super-packet that may exceed a pg_pkt: its headers from pg_build, a
 * payload of up to 64 KiB. */
struct big {
	uint32_t len;
	uint8_t b[IO_BUF_SIZE];
};

/* The folded pseudo-header sum (RFC 9293 3.1, RFC 8200 8.1) of the
 * packet at ip for l4len bytes of proto: a device's partial checksum. */
static uint16_t ref_pseudo(const uint8_t *ip, uint32_t l4len, uint8_t proto)
{
	bool v4 = (ip[0] >> 4) == 4;
	uint64_t acc = ref_sum(0, ip + (v4 ? 12 : 8), v4 ? 8 : 32);

	acc += (l4len >> 16) + (l4len & 0xffff) + proto;
	return ref_fold(acc);
}

/* The IPv4 header checksum and the transport checksum of the len bytes at
 * s (transport header at l4off) from scratch, by the reference sums. */
static void fix_sums(uint8_t *s, uint32_t len, unsigned l4off, uint8_t proto)
{
	unsigned field = l4off + pg_csum_field(proto);
	uint16_t c;

	if ((s[0] >> 4) == 4)
		tp_ip4_csum(s);
	pg_put16(s + field, 0);
	c = (uint16_t)~ref_fold(ref_sum(ref_pseudo(s, len - l4off, proto), s + l4off, len - l4off));
	if (c == 0 && proto == PG_UDP)
		c = 0xffff;
	pg_put16(s + field, c);
}

/* What mk_super puts in besides: 8 bytes of IPv4 options (NOPs) or an
 * IPv6 hop-by-hop header; TCP timestamps (12 bytes of options). */
#define MK_IPOPT 1u
#define MK_TCPOPT 2u

/* A super-packet of proto with payload bytes; TCP flags flags, sequence
 * numbers and the IPv4 ID about to wrap; opt: MK_*. *l4off: where the
 * transport header is; returns the header length. */
static unsigned mk_super(struct big *sp, unsigned *l4off, int family, uint8_t proto, unsigned payload,
			 uint8_t flags, unsigned opt)
{
	struct pg_spec s;
	struct pg_pkt t;
	unsigned hl, topt = proto == PG_TCP && (opt & MK_TCPOPT) ? 12 : 0;
	uint8_t *l4;

	pg_spec_init(&s, family, proto);
	s.payload = topt;
	if ((opt & MK_IPOPT) && family == 4) {
		memset(s.opts, 1, 8);
		s.opts_len = 8;
	}
	if ((opt & MK_IPOPT) && family == 6) {
		s.ext[0] = PG_EXT_HBH;
		s.n_ext = 1;
	}
	pg_build(&t, &s, &rng);
	*l4off = t.l3len;
	hl = t.l3len + pg_l4_hdrlen(proto) + topt;
	if (topt) {
		static const uint8_t ts[4] = { 1, 1, 8, 10 };	/* NOP NOP TS */

		t.buf[t.l3len + 12] = 8 << 4;
		memcpy(t.buf + t.l3len + 20, ts, 4);
	}
	memcpy(sp->b, t.buf, hl);
	pg_fill(&rng, sp->b + hl, payload);
	sp->len = hl + payload;
	if (family == 4) {
		pg_put16(sp->b + 2, (uint16_t)sp->len);
		pg_put16(sp->b + 4, 0xfffe);
		sp->b[6] = 0x40;
		sp->b[7] = 0;
	} else {
		pg_put16(sp->b + 4, (uint16_t)(sp->len - 40));
	}
	l4 = sp->b + t.l3len;
	if (proto == PG_TCP) {
		pg_put32(l4 + 4, 0xfffffc00);
		l4[13] = flags;
	} else {
		pg_put16(l4 + 4, (uint16_t)(sp->len - t.l3len));
	}
	fix_sums(sp->b, sp->len, t.l3len, proto);
	return hl;
}

/* Segment k of sp as the kernel cuts it, written out here (no code of
 * src/): at o; returns its length. */
static uint32_t ref_seg(uint8_t *o, const struct big *sp, unsigned l4off, unsigned hl, unsigned k, unsigned mss,
			uint8_t proto)
{
	uint32_t payload = sp->len - hl, at = k * mss, n = payload - at < mss ? payload - at : mss, len = hl + n;
	uint8_t *t = o + l4off;

	memcpy(o, sp->b, hl);
	memcpy(o + hl, sp->b + hl + at, n);
	if ((o[0] >> 4) == 4) {
		pg_put16(o + 2, (uint16_t)len);
		pg_put16(o + 4, (uint16_t)(pg_get16(sp->b + 4) + k));
	} else {
		pg_put16(o + 4, (uint16_t)(len - 40));
	}
	if (proto == PG_TCP) {
		pg_put32(t + 4, pg_get32(sp->b + l4off + 4) + at);
		if (at + n < payload)
			t[13] &= (uint8_t)~0x09;	/* FIN, PSH */
		if (k > 0)
			t[13] &= (uint8_t)~0x80;	/* CWR */
	} else {
		pg_put16(t + 4, (uint16_t)(len - l4off));
	}
	fix_sums(o, len, l4off, proto);
	return len;
}

/* All of sp's segments back to back at o; returns the length. */
static uint32_t ref_pack(uint8_t *o, const struct big *sp, unsigned l4off, unsigned hl, unsigned mss, uint8_t proto)
{
	uint32_t len = 0;

	for (unsigned k = 0; k * mss < sp->len - hl; k++)
		len += ref_seg(o + len, sp, l4off, hl, k, mss, proto);
	return len;
}

static struct io_offload off_of(int family, uint8_t proto, unsigned l4off, unsigned hl, unsigned mss)
{
	return (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = proto == PG_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
			  : family == 4	    ? VIRTIO_NET_HDR_GSO_TCPV4
					    : VIRTIO_NET_HDR_GSO_TCPV6,
		.hdr_len = (uint16_t)hl,
		.gso_size = (uint16_t)mss,
		.csum_start = (uint16_t)l4off,
		.csum_offset = (uint16_t)pg_csum_field(proto),
	};
}

#define SENTINEL 256
static struct big sp, sp_copy;
static uint8_t pk[IO_BUF_SIZE + SENTINEL], cat[IO_BUF_SIZE], ref[IO_BUF_SIZE];

/* Nothing written at pk from byte from on. */
static bool untouched(uint32_t from)
{
	for (uint32_t i = from; i < sizeof(pk); i++)
		if (pk[i] != 0x5a)
			return false;
	return true;
}

/* gso_pack against gso_segment, 3500 bytes in segments of 1000: all at
 * once, two by two, exactly to the byte, and a room too small. */
static void pack_case(int family, uint8_t proto)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE];
	unsigned l4off, hl = mk_super(&sp, &l4off, family, proto, 3500, 0x80 | 0x10 | 0x08 | 0x01, 0);
	unsigned s = hl + 1000, next, count, catlen = 0;
	struct io_offload off = off_of(family, proto, l4off, hl, 1000);
	struct pkt_view v;
	char what[64];
	int n;

	snprintf(what, sizeof(what), "pack %s/IPv%d", proto == PG_TCP ? "TCP" : "UDP", family);
	sp_copy = sp;
	CU_ASSERT_EQUAL_FATAL(pkt_parse(sp.b, sp.len, &v), MSLB_OK);
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL_FATAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), 4);
	for (unsigned i = 0; i < fr.n; i++) {
		memcpy(cat + catlen, fr.pkt[i], fr.len[i]);
		catlen += fr.len[i];
	}
	CU_ASSERT_EQUAL_FATAL(catlen, 4 * hl + 3500);
	/* The segments are the kernel's, by the reference cut. */
	CU_ASSERT(tp_same(what, cat, catlen, ref, ref_pack(ref, &sp, l4off, hl, 1000, proto)));

	/* All of them. */
	memset(pk, 0x5a, sizeof(pk));
	next = 0;
	count = 99;
	n = gso_pack(&v, &off, &next, pk, 65535, &count);
	CU_ASSERT_EQUAL(n, (int)catlen);
	CU_ASSERT_EQUAL(count, 4);
	CU_ASSERT_EQUAL(next, 4);
	CU_ASSERT(tp_same(what, pk, n > 0 ? (uint32_t)n : 0, cat, catlen));
	CU_ASSERT(untouched(catlen));
	/* None left. */
	count = 99;
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, 65535, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(next, 4);

	/* Room for two and most of a third: 2 + 2, then nothing. */
	memset(pk, 0x5a, sizeof(pk));
	next = 0;
	n = gso_pack(&v, &off, &next, pk, 3 * s - 1, &count);
	CU_ASSERT_EQUAL(n, (int)(2 * s));
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(next, 2);
	CU_ASSERT(tp_same(what, pk, n > 0 ? (uint32_t)n : 0, cat, 2 * s));
	CU_ASSERT(untouched(2 * s));
	memset(pk, 0x5a, sizeof(pk));
	n = gso_pack(&v, &off, &next, pk, 3 * s - 1, &count);
	CU_ASSERT_EQUAL(n, (int)(2 * hl + 1500));
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(next, 4);
	CU_ASSERT(tp_same(what, pk, n > 0 ? (uint32_t)n : 0, cat + 2 * s, 2 * hl + 1500));
	CU_ASSERT(untouched(2 * hl + 1500));
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, 3 * s - 1, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(next, 4);

	/* Exactly two; then the last, one byte short of it, then exactly. */
	memset(pk, 0x5a, sizeof(pk));
	next = 0;
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, 2 * s, &count), (int)(2 * s));
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(next, 2);
	CU_ASSERT_EQUAL(memcmp(pk, cat, 2 * s), 0);
	next = 3;
	memset(pk, 0x5a, sizeof(pk));
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, hl + 499, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(next, 3);
	CU_ASSERT(untouched(0));
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, hl + 500, &count), (int)(hl + 500));
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(next, 4);
	CU_ASSERT_EQUAL(memcmp(pk, cat + 3 * s, hl + 500), 0);
	CU_ASSERT(untouched(hl + 500));

	/* Not even the first fits. */
	memset(pk, 0x5a, sizeof(pk));
	next = 0;
	count = 99;
	CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, s - 1, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(next, 0);
	CU_ASSERT(untouched(0));

	/* The super-packet itself is left alone. */
	CU_ASSERT_EQUAL(memcmp(sp.b, sp_copy.b, sp.len), 0);
}

static void test_gso_pack_tcp4(void)
{
	pack_case(4, PG_TCP);
}

static void test_gso_pack_tcp6(void)
{
	pack_case(6, PG_TCP);
}

static void test_gso_pack_udp(void)
{
	pack_case(4, PG_UDP);
	pack_case(6, PG_UDP);
}

/* Metadata that does not fit the packet: -1, nothing written, nothing
 * counted, *next where it was. */
static void test_gso_pack_bad(void)
{
	static const struct {
		uint8_t proto, gso_type;
		uint16_t gso_size;
		unsigned payload;
	} k[] = {
		{ PG_UDP, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 2000 },
		{ PG_UDP, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 0, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_UDP_L4, 1000, 2000 },
		{ PG_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, 0, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_NONE, 1000, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 0 },	/* headers only */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		unsigned l4off, hl = mk_super(&sp, &l4off, 4, k[i].proto, k[i].payload, 0x10, 0);
		struct io_offload off = off_of(4, k[i].proto, l4off, hl, k[i].gso_size);
		struct pkt_view v;
		unsigned next = 1, count = 99;

		off.gso_type = k[i].gso_type;
		CU_ASSERT_EQUAL_FATAL(pkt_parse(sp.b, sp.len, &v), MSLB_OK);
		memset(pk, 0x5a, sizeof(pk));
		CU_ASSERT_EQUAL(gso_pack(&v, &off, &next, pk, 65535, &count), -1);
		CU_ASSERT_EQUAL(count, 0);
		CU_ASSERT_EQUAL(next, 1);
		CU_ASSERT(untouched(0));
	}
}

/* ---- gso_pack_head ------------------------------------------------------ */

/* gso_pack_head on a heap copy of sp exactly as long as the larger of sp
 * and the head it lays out (an overrun shows under ASan): the first count
 * segments, back to back over the super-packet, as gso_pack writes them
 * elsewhere and as the reference cut makes them. Only the bytes up to the
 * length it returns are looked at: the rest is the tail's, spoilt. */
static void pack_head_one(const char *what, unsigned l4off, unsigned hl, unsigned mss, uint8_t proto,
			  const struct io_offload *off, unsigned count)
{
	uint32_t payload = sp.len - hl, want = 0, cap;
	unsigned next = 0, got_count = 99;
	struct pkt_view v;
	uint8_t *b;
	char w[128];
	int n, r;

	for (unsigned k = 0; k < count; k++)
		want += ref_seg(ref + want, &sp, l4off, hl, k, mss, proto);
	CU_ASSERT_EQUAL(want, count * hl + (count * mss < payload ? count * mss : payload));
	/* gso_pack of the same segments into a buffer of its own. */
	CU_ASSERT_EQUAL_FATAL(pkt_parse(sp.b, sp.len, &v), MSLB_OK);
	r = gso_pack(&v, off, &next, cat, want, &got_count);
	CU_ASSERT_EQUAL(r, (int)want);
	CU_ASSERT_EQUAL(got_count, count);
	CU_ASSERT_EQUAL(next, count);
	snprintf(w, sizeof(w), "%s, gso_pack of %u", what, count);
	CU_ASSERT(tp_same(w, cat, r > 0 ? (uint32_t)r : 0, ref, want));

	cap = want > sp.len ? want : sp.len;
	b = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, sp.b, sp.len);
	if (cap > sp.len)
		memset(b + sp.len, 0x5a, cap - sp.len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(b, sp.len, &v), MSLB_OK);
	n = gso_pack_head(&v, off, count);
	CU_ASSERT_EQUAL(n, (int)want);
	snprintf(w, sizeof(w), "%s, head of %u", what, count);
	CU_ASSERT(tp_same(w, b, n > 0 && (uint32_t)n <= cap ? (uint32_t)n : 0, cat, want));
	free(b);
}

/* payload bytes of proto in segments of mss: heads of one, two, all but
 * one and all the segments. */
static void pack_head_case(const char *what, int family, uint8_t proto, unsigned payload, unsigned mss,
			   unsigned opt)
{
	unsigned l4off, hl = mk_super(&sp, &l4off, family, proto, payload, 0x80 | 0x10 | 0x08 | 0x01, opt);
	unsigned segs = (payload + mss - 1) / mss;
	struct io_offload off = off_of(family, proto, l4off, hl, mss);
	char w[128];

	snprintf(w, sizeof(w), "pack head %s/IPv%d, %s", proto == PG_TCP ? "TCP" : "UDP", family, what);
	pack_head_one(w, l4off, hl, mss, proto, &off, 1);
	if (segs >= 2)
		pack_head_one(w, l4off, hl, mss, proto, &off, 2);
	if (segs >= 3)
		pack_head_one(w, l4off, hl, mss, proto, &off, segs - 1);
	pack_head_one(w, l4off, hl, mss, proto, &off, segs);
}

static void pack_head_all(int family, uint8_t proto)
{
	pack_head_case("3500 in 1000", family, proto, 3500, 1000, 0);
	pack_head_case("the last segment full", family, proto, 3000, 1000, 0);
	pack_head_case("one segment", family, proto, 700, 1000, 0);
	pack_head_case("two, the last of 1 byte", family, proto, 1001, 1000, 0);
	/* Segments shorter than the headers: each lands over the next's
	 * payload and more. */
	pack_head_case("segments of 7", family, proto, 100, 7, 0);
	pack_head_case("segments of 1", family, proto, 9, 1, 0);
	pack_head_case("IP options", family, proto, 3500, 1000, MK_IPOPT);
	if (proto == PG_TCP)
		pack_head_case("IP options, TCP timestamps", family, proto, 3500, 988, MK_IPOPT | MK_TCPOPT);
	/* About 60 KiB. */
	pack_head_case("60 KiB", family, proto, 61440, 1448, 0);
}

static void test_gso_pack_head_tcp4(void)
{
	pack_head_all(4, PG_TCP);
}

static void test_gso_pack_head_tcp6(void)
{
	pack_head_all(6, PG_TCP);
}

static void test_gso_pack_head_udp(void)
{
	pack_head_all(4, PG_UDP);
	pack_head_all(6, PG_UDP);
}

/* -1, the super-packet left as it was: no segment, more than there are,
 * metadata that does not fit the packet. */
static void pack_head_refused(const char *what, const struct io_offload *off, unsigned count)
{
	uint8_t *b = malloc(sp.len);
	struct pkt_view v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, sp.b, sp.len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(b, sp.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_pack_head(&v, off, count), -1);
	CU_ASSERT(tp_same(what, b, sp.len, sp.b, sp.len));
	free(b);
}

static void test_gso_pack_head_bad(void)
{
	static const uint8_t protos[] = { PG_TCP, PG_UDP };
	static const struct {
		uint8_t proto, gso_type;
		uint16_t gso_size;
		unsigned payload;
	} k[] = {
		{ PG_UDP, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 2000 },
		{ PG_UDP, VIRTIO_NET_HDR_GSO_TCPV6, 1000, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 0, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_UDP_L4, 1000, 2000 },
		{ PG_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, 0, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_NONE, 1000, 2000 },
		{ PG_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 1000, 0 },	/* headers only */
	};

	for (int family = 4; family <= 6; family += 2)
		for (unsigned i = 0; i < ARRAY_SIZE(protos); i++) {
			unsigned l4off, hl = mk_super(&sp, &l4off, family, protos[i], 3500, 0x10, 0);
			struct io_offload off = off_of(family, protos[i], l4off, hl, 1000);

			/* Four segments. */
			pack_head_refused("no segment", &off, 0);
			pack_head_refused("five of four", &off, 5);
			pack_head_refused("far more than four", &off, ~0u);
		}
	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		unsigned l4off, hl = mk_super(&sp, &l4off, 4, k[i].proto, k[i].payload, 0x10, 0);
		struct io_offload off = off_of(4, k[i].proto, l4off, hl, k[i].gso_size);

		off.gso_type = k[i].gso_type;
		pack_head_refused("metadata that does not fit", &off, 1);
	}
}

/* ---- coalesce_tcp -------------------------------------------------------- */

static bool trust;	/* coalesce_heap: the segments' bytes vouched for */

/* coalesce_tcp on a heap copy of len bytes of src exactly that long (an
 * overread shows under ASan); the result back in src. */
static uint32_t coalesce_heap(uint8_t *src, uint32_t len, unsigned size, struct io_offload *off)
{
	uint8_t *b = malloc(len ? len : 1);
	uint32_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, src, len);
	n = coalesce_tcp(b, len, size, trust, off);
	memcpy(src, b, len);
	free(b);
	return n;
}

/* A super-packet of payload bytes (segments of mss, TCP flags flags)
 * packed by gso_pack and coalesced again: the super-packet, its checksum
 * field the pseudo-header sum over its TCP length; cut again, the same
 * segments. */
static void coalesce_case(const char *what, int family, unsigned payload, unsigned mss, uint8_t flags,
			  unsigned opt)
{
	static uint8_t exp[IO_BUF_SIZE];
	unsigned l4off, hl = mk_super(&sp, &l4off, family, PG_TCP, payload, flags, opt);
	unsigned next = 0, count, segs = (payload + mss - 1) / mss;
	struct io_offload off = off_of(family, PG_TCP, l4off, hl, mss), got;
	struct pkt_view v;
	uint32_t len, n;
	int r;

	CU_ASSERT_EQUAL_FATAL(l4off, (family == 4 ? 20u : 40u) + (opt & MK_IPOPT ? 8u : 0u));
	CU_ASSERT_EQUAL_FATAL(hl, l4off + (opt & MK_TCPOPT ? 32u : 20u));
	CU_ASSERT_EQUAL_FATAL(pkt_parse(sp.b, sp.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL_FATAL(gso_header_len(&v), hl);
	r = gso_pack(&v, &off, &next, pk, sizeof(pk), &count);
	CU_ASSERT_FATAL(r > 0);
	len = (uint32_t)r;
	CU_ASSERT_EQUAL(count, segs);
	CU_ASSERT_EQUAL(len, payload + segs * hl);
	CU_ASSERT(tp_same(what, pk, len, ref, ref_pack(ref, &sp, l4off, hl, mss, PG_TCP)));

	memset(&got, 0xee, sizeof(got));
	n = coalesce_heap(pk, len, hl + mss, &got);
	CU_ASSERT_EQUAL(n, sp.len);
	if (n != sp.len) {
		printf("\n  %s: coalesced to %u bytes, expected %u", what, n, sp.len);
		return;
	}
	memcpy(exp, sp.b, sp.len);
	pg_put16(exp + l4off + 16, ref_pseudo(sp.b, sp.len - l4off, PG_TCP));
	CU_ASSERT(tp_same(what, pk, n, exp, sp.len));
	/* Field by field, for the record. */
	CU_ASSERT_EQUAL(pk[l4off + 13], flags);
	if (family == 4) {
		CU_ASSERT_EQUAL(pg_get16(pk + 2), sp.len);
		CU_ASSERT(tp_ip4_csum_ok(pk));
	} else {
		CU_ASSERT_EQUAL(pg_get16(pk + 4), sp.len - 40);
	}
	CU_ASSERT_EQUAL(pg_get16(pk + l4off + 16), ref_pseudo(sp.b, sp.len - l4off, PG_TCP));
	CU_ASSERT_EQUAL(got.flags, IO_OFF_NEEDS_CSUM);
	CU_ASSERT_EQUAL(got.gso_type, (family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
					      (flags & 0x80 ? VIRTIO_NET_HDR_GSO_ECN : 0));
	CU_ASSERT_EQUAL(got.hdr_len, hl);
	CU_ASSERT_EQUAL(got.gso_size, mss);
	CU_ASSERT_EQUAL(got.csum_start, l4off);
	CU_ASSERT_EQUAL(got.csum_offset, 16);

	/* What the kernel cuts of it with that metadata: the same segments. */
	CU_ASSERT_EQUAL_FATAL(pkt_parse(pk, n, &v), MSLB_OK);
	next = 0;
	r = gso_pack(&v, &got, &next, cat, sizeof(cat), &count);
	CU_ASSERT(tp_same(what, cat, r > 0 ? (uint32_t)r : 0, ref, len));
}

static void test_coalesce(void)
{
	coalesce_case("v4, ACK PSH", 4, 3500, 1000, 0x18, 0);
	coalesce_case("v6, ACK PSH", 6, 3500, 1000, 0x18, 0);
	coalesce_case("v4, ACK only", 4, 3500, 1000, 0x10, 0);
	coalesce_case("v4, CWR ACK PSH FIN", 4, 3500, 1000, 0x80 | 0x10 | 0x08 | 0x01, 0);
	coalesce_case("v6, CWR ECE ACK FIN", 6, 3500, 1000, 0x80 | 0x40 | 0x10 | 0x01, 0);
	coalesce_case("v4, the last segment full", 4, 3000, 1000, 0x18, 0);
	coalesce_case("v6, two segments, the last of 1 byte", 6, 1001, 1000, 0x10, 0);
	coalesce_case("v4 with options", 4, 3500, 1000, 0x18, MK_IPOPT);
	coalesce_case("v6 with a hop-by-hop header", 6, 3500, 1000, 0x18, MK_IPOPT);
	coalesce_case("v4, TCP timestamps", 4, 3500, 988, 0x18, MK_TCPOPT);
	coalesce_case("v6, hop-by-hop and TCP timestamps", 6, 3500, 988, 0x80 | 0x18, MK_IPOPT | MK_TCPOPT);
}

/* About 60 KiB in segments of 1448. */
static void test_coalesce_large(void)
{
	coalesce_case("v4, 60 KiB", 4, 61440, 1448, 0x18, 0);
	coalesce_case("v6, 60 KiB", 6, 61440, 1448, 0x80 | 0x10 | 0x08, 0);
}

/* pk[0..len) must come back refused, byte for byte as it was. */
static void refused(const char *what, int family, uint32_t len, unsigned size)
{
	static uint8_t before[IO_BUF_SIZE + SENTINEL];
	struct io_offload got;
	uint32_t n;
	char w[96];

	snprintf(w, sizeof(w), "v%d, %s", family, what);
	memcpy(before, pk, len);
	n = coalesce_heap(pk, len, size, &got);
	CU_ASSERT_EQUAL(n, 0);
	if (n)
		printf("\n  %s: coalesced to %u bytes", w, n);
	CU_ASSERT(tp_same(w, pk, len, before, len));
}

/* The four segments of a 3500-byte super-packet (ACK PSH) at pk; returns
 * their length. */
static uint32_t base(int family, unsigned *l4off, unsigned *hl)
{
	*hl = mk_super(&sp, l4off, family, PG_TCP, 3500, 0x18, 0);
	return ref_pack(pk, &sp, *l4off, *hl, 1000, PG_TCP);
}

/* A segment whose TCP checksum is wrong: refused, but for bytes the
 * kernel vouched for (trusted), whose checksums are not summed: one
 * super-packet, the checksum made again over what is there. */
static void bad_sum(const char *what, int family, uint32_t len, unsigned size)
{
	struct io_offload got;

	if (!trust)
		refused(what, family, len, size);
	else
		CU_ASSERT_EQUAL(coalesce_heap(pk, len, size, &got), sp.len);
}

/* Segment k of the base: where it is, and its checksums set again after a
 * change to it (len: its length as its IP header says). */
#define SEG(k) (pk + (k) * size)
#define REFIX(k, len) fix_sums(SEG(k), (len), l4off, PG_TCP)

static void coalesce_refused(void)
{
	for (int family = 4; family <= 6; family += 2) {
		unsigned l4off, hl, size;
		uint32_t len;

#define AGAIN() (len = base(family, &l4off, &hl), size = hl + 1000)
		AGAIN();
		CU_ASSERT_EQUAL_FATAL(len, 4 * hl + 3500);
		/* The base as it is would do. */
		{
			struct io_offload got;

			CU_ASSERT_EQUAL(coalesce_heap(pk, len, size, &got), sp.len);
		}

		AGAIN();
		SEG(1)[hl + 7] ^= 0xff;		/* the checksum no longer agrees */
		bad_sum("bad TCP checksum in segment 1", family, len, size);

		AGAIN();
		SEG(2)[l4off + 16] ^= 0x01;
		bad_sum("bad TCP checksum field in segment 2", family, len, size);

		AGAIN();
		pg_put32(SEG(2) + l4off + 4, pg_get32(SEG(2) + l4off + 4) + 1);
		REFIX(2, size);
		refused("a sequence gap before segment 2", family, len, size);

		AGAIN();
		memcpy(ref, SEG(1), size);
		memcpy(SEG(1), SEG(2), size);
		memcpy(SEG(2), ref, size);
		refused("segments 1 and 2 swapped", family, len, size);

		AGAIN();
		SEG(3)[l4off + 1] ^= 0x01;
		REFIX(3, hl + 500);
		refused("another source port in segment 3", family, len, size);

		AGAIN();
		SEG(1)[l4off + 3] ^= 0x40;
		REFIX(1, size);
		refused("another destination port in segment 1", family, len, size);

		AGAIN();
		SEG(2)[l4off + 8] ^= 0x01;
		REFIX(2, size);
		refused("another acknowledgment number in segment 2", family, len, size);

		AGAIN();
		SEG(1)[l4off + 14] ^= 0x01;
		REFIX(1, size);
		refused("another window in segment 1", family, len, size);

		AGAIN();
		SEG(0)[l4off + 13] |= 0x02;
		REFIX(0, size);
		refused("SYN on the first", family, len, size);

		AGAIN();
		for (unsigned k = 0; k < 4; k++) {
			SEG(k)[l4off + 13] |= 0x02;
			REFIX(k, k < 3 ? size : hl + 500);
		}
		refused("SYN on all", family, len, size);

		AGAIN();
		SEG(3)[l4off + 13] |= 0x04;
		REFIX(3, hl + 500);
		refused("RST on the last", family, len, size);

		AGAIN();
		SEG(0)[l4off + 13] |= 0x20;
		REFIX(0, size);
		refused("URG on the first", family, len, size);

		AGAIN();
		SEG(1)[l4off + 13] |= 0x01;
		REFIX(1, size);
		refused("FIN on segment 1", family, len, size);

		AGAIN();
		SEG(2)[l4off + 13] |= 0x08;
		REFIX(2, size);
		refused("PSH on segment 2", family, len, size);

		AGAIN();
		SEG(2)[l4off + 13] |= 0x80;
		REFIX(2, size);
		refused("CWR on segment 2", family, len, size);

		AGAIN();
		SEG(1)[l4off + 13] |= 0x40;
		REFIX(1, size);
		refused("ECE on segment 1 only", family, len, size);

		AGAIN();
		SEG(1)[family == 4 ? 8 : 7] -= 1;
		REFIX(1, size);
		refused("another TTL in segment 1", family, len, size);

		AGAIN();
		SEG(2)[1] ^= 0x40;		/* a DSCP bit (TOS or traffic class) */
		REFIX(2, size);
		refused("another DSCP in segment 2", family, len, size);

		AGAIN();
		SEG(1)[family == 4 ? 15 : 23] ^= 0x01;	/* a source address byte */
		REFIX(1, size);
		refused("another source address in segment 1", family, len, size);

		if (family == 4) {
			AGAIN();
			SEG(1)[6] ^= 0x40;
			REFIX(1, size);
			refused("DF cleared in segment 1", family, len, size);

			/* The IPv4 total length against the segment's size:
			 * the segment then looks like size - 4 bytes and
			 * trailing garbage, its sums right for that. */
			AGAIN();
			pg_put16(SEG(1) + 2, (uint16_t)(size - 4));
			REFIX(1, size - 4);
			refused("total length of segment 1 short by 4", family, len, size);

			AGAIN();
			pg_put16(SEG(0) + 2, (uint16_t)(size - 4));
			REFIX(0, size - 4);
			refused("total length of the first short by 4", family, len, size);

			/* The same with the TCP checksum over the whole slot,
			 * as if the 4 bytes beyond were payload: only the
			 * length gives it away. */
			AGAIN();
			pg_put16(SEG(1) + 2, (uint16_t)(size - 4));
			REFIX(1, size);
			refused("total length of segment 1 short by 4, sums over all", family, len, size);

			AGAIN();
			pg_put16(SEG(0) + 2, (uint16_t)(size - 4));
			REFIX(0, size);
			refused("total length of the first short by 4, sums over all", family, len, size);

			AGAIN();
			pg_put16(SEG(2) + 2, (uint16_t)(size + 4));
			REFIX(2, size);
			refused("total length of segment 2 beyond it", family, len, size);

			AGAIN();
			pg_put16(SEG(3) + 2, (uint16_t)(hl + 400));
			REFIX(3, hl + 400);
			refused("total length of the last short by 100", family, len, size);
		} else {
			AGAIN();
			SEG(2)[3] ^= 0x01;	/* flow label */
			refused("another flow label in segment 2", family, len, size);

			AGAIN();
			pg_put16(SEG(1) + 4, (uint16_t)(size - 40 - 4));
			REFIX(1, size - 4);
			refused("payload length of segment 1 short by 4", family, len, size);

			AGAIN();
			pg_put16(SEG(1) + 4, (uint16_t)(size - 40 - 4));
			REFIX(1, size);
			refused("payload length of segment 1 short by 4, sums over all", family, len, size);
		}

		/* Sizes that are not the segments'. */
		AGAIN();
		refused("size one less", family, len, size - 1);
		refused("size one more", family, len, size + 1);
		refused("size 0", family, len, 0);

		/* The last segment cut short by 10 bytes. */
		AGAIN();
		refused("the last cut short", family, len - 10, size);

		/* Garbage after whole segments. */
		hl = mk_super(&sp, &l4off, family, PG_TCP, 3000, 0x18, 0);
		size = hl + 1000;
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_TCP);
		CU_ASSERT_EQUAL(len, 3 * size);
		pg_fill(&rng, pk + len, 10);
		refused("10 bytes of garbage after 3 segments", family, len + 10, size);
		/* The same 10 bytes that look like the start of a header. */
		memcpy(pk + len, pk, 10);
		refused("10 bytes of a header after 3 segments", family, len + 10, size);

		/* TCP options that differ (a timestamp) in segment 2. */
		hl = mk_super(&sp, &l4off, family, PG_TCP, 3500, 0x18, MK_TCPOPT);
		size = hl + 1000;
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_TCP);
		{
			struct io_offload got;
			static uint8_t keep[IO_BUF_SIZE];

			memcpy(keep, pk, len);
			CU_ASSERT_EQUAL(coalesce_heap(pk, len, size, &got), sp.len);
			memcpy(pk, keep, len);
		}
		SEG(2)[l4off + 27] ^= 0x01;
		REFIX(2, size);
		refused("another timestamp in segment 2", family, len, size);

		/* A last segment of headers only, in sequence. */
		hl = mk_super(&sp, &l4off, family, PG_TCP, 3000, 0x18, 0);
		size = hl + 1000;
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_TCP);
		memcpy(pk + len, pk + 2 * size, hl);
		pg_put32(pk + len + l4off + 4, pg_get32(pk + 2 * size + l4off + 4) + 1000);
		if (family == 4) {
			pg_put16(pk + len + 2, (uint16_t)hl);
			pg_put16(pk + len + 4, (uint16_t)(pg_get16(pk + len + 4) + 1));
		} else {
			pg_put16(pk + len + 4, (uint16_t)(hl - 40));
		}
		fix_sums(pk + len, hl, l4off, PG_TCP);
		refused("a last segment without payload", family, len + hl, size);

		/* One segment only. */
		hl = mk_super(&sp, &l4off, family, PG_TCP, 800, 0x18, 0);
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_TCP);
		refused("one segment of 800", family, len, hl + 1000);
		hl = mk_super(&sp, &l4off, family, PG_TCP, 1000, 0x18, 0);
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_TCP);
		CU_ASSERT_EQUAL(len, hl + 1000);
		refused("one segment, exactly the size", family, len, hl + 1000);

		/* UDP datagrams of a UDP GSO super-packet. */
		hl = mk_super(&sp, &l4off, family, PG_UDP, 3500, 0, 0);
		len = ref_pack(pk, &sp, l4off, hl, 1000, PG_UDP);
		refused("UDP", family, len, hl + 1000);
#undef AGAIN
	}
}
#undef SEG
#undef REFIX

/* Trusted or not, only the checksums differ. */
static void test_coalesce_refused(void)
{
	trust = false;
	coalesce_refused();
	trust = true;
	coalesce_refused();
	trust = false;
}


void suite_gso(void)
{
	CU_pSuite s = CU_add_suite("gso", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_gso_tcp4);
	UNIT_ADD(s, test_gso_tcp6);
	UNIT_ADD(s, test_gso_udp);
	UNIT_ADD(s, test_gso_bad);
	UNIT_ADD(s, test_gso_pack_tcp4);
	UNIT_ADD(s, test_gso_pack_tcp6);
	UNIT_ADD(s, test_gso_pack_udp);
	UNIT_ADD(s, test_gso_pack_bad);
	UNIT_ADD(s, test_gso_pack_head_tcp4);
	UNIT_ADD(s, test_gso_pack_head_tcp6);
	UNIT_ADD(s, test_gso_pack_head_udp);
	UNIT_ADD(s, test_gso_pack_head_bad);
	UNIT_ADD(s, test_coalesce);
	UNIT_ADD(s, test_coalesce_large);
	UNIT_ADD(s, test_coalesce_refused);
}
