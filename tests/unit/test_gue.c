/* gue: GUE encapsulation (draft-ietf-intarea-gue, variant 1: the inner IP
 * packet right after an 8-byte UDP header). The expected packets are
 * written out here field by field: the outer header as for IP-in-IP but
 * of protocol 17, the UDP header (source port from the inner flow, the
 * front's gue_port, length, checksum 0 over IPv4 and computed by pktgen's
 * reference code over IPv6). Covered: encap_push_gue, encap_gue_sport,
 * encap_pop and encap_is_gue on their own; the settings and their errors;
 * the front (every outer/inner pair, the tunnel MTU, inner fragments, GSO,
 * partial checksums, the status, ICMP errors about GUE packets); the back
 * (decapsulation, refusals, other ports, gue_port 0, ECN, offloads); a
 * front's output through a back; and UDP segmentation (USO): a GSO
 * super-packet's segments in GUE super-packets at the front (the first
 * made in place and returned, the rest emitted), made one TCP
 * super-packet again at the back, or taken apart datagram by datagram. */
#include <stdio.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "golden.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "config/config.h"
#include "ctl/status.h"
#include "io/io.h"
#include "lb/lb.h"
#include "net/encap.h"
#include "net/gso.h"
#include "net/pkt.h"

#define GUE_PORT 6080
/* A back that takes GUE apart on port 6080 (back.gue_port; none by default). */
#define GBACK(x) BACK("  gue_port = 6080;\n" x)
#define GUE "encapsulation = \"gue\"; "

static struct pg_rng rng;

static int gue_init(void)
{
	pg_seed(&rng, 0x6e0e);
	return gd_init();
}

/* ---- the expected packets -------------------------------------------- */

/* The UDP checksum over IPv6 (RFC 8200 8.1) of the ulen bytes at u (their
 * checksum field 0) under IPv6 header h; 0 is sent as 0xffff (RFC 768). */
static uint16_t udp6_csum(const uint8_t *h, const uint8_t *u, uint32_t ulen)
{
	uint64_t acc = ref_sum(0, h + 8, 32);
	uint16_t c;

	acc += ulen + 17;
	acc = ref_sum(acc, u, ulen);
	c = (uint16_t)~ref_fold(acc);
	return c ? c : 0xffff;
}

/* The folded sum the UDP checksum over IPv6 complements (0xffff: the
 * checksum would be 0). */
static uint16_t udp6_sum(const uint8_t *h, const uint8_t *u, uint32_t ulen)
{
	uint64_t acc = ref_sum(0, h + 8, 32);

	acc += ulen + 17;
	return ref_fold(ref_sum(acc, u, ulen));
}

/* inner (ilen bytes, may lie in o) in GUE at o: the outer header of
 * tp_outer (DSCP and ECN copied, TTL 64, IPv4 ID id and DF df) with
 * protocol 17, then UDP from sport to dport. Returns the length. */
static uint32_t gue_build(uint8_t *o, int ov, const uint8_t *src, const uint8_t *dst, const uint8_t *inner,
			  uint32_t ilen, uint16_t id, bool df, uint16_t sport, uint16_t dport)
{
	unsigned hl = ov == 4 ? 20 : 40;
	uint8_t *u = o + hl;
	uint32_t ulen = ilen + 8;

	memmove(u + 8, inner, ilen);
	tp_outer(o, ov, u + 8, ulen, src, dst, id, df);
	if (ov == 4) {
		o[9] = 17;
		tp_ip4_csum(o);
	} else {
		o[6] = 17;
	}
	pg_put16(u, sport);
	pg_put16(u + 2, dport);
	pg_put16(u + 4, (uint16_t)ulen);
	pg_put16(u + 6, 0);
	if (ov == 6)
		pg_put16(u + 6, udp6_csum(o, u, ulen));
	return hl + ulen;
}

/* The same as a golden packet, the source port the inner flow's. */
static void gue_encap(struct gd_pkt *x, int ov, const char *src, const char *dst, const uint8_t *inner,
		      uint32_t ilen, uint16_t id, bool df, uint16_t dport)
{
	uint16_t sport = encap_gue_sport(inner, ilen);

	CU_ASSERT_FATAL((ov == 4 ? 28u : 48u) + ilen <= GD_XBUF);
	CU_ASSERT(sport >= 49152);
	x->len = gue_build(x->b, ov, tl_ip(src), tl_ip(dst), inner, ilen, id, df, sport, dport);
	x->any_label = ov == 6;
}

/* A GUE packet from src to dst carrying in to port dport, as step s's
 * input (source port 40000: the back takes any). */
static void gue_in(struct gd_step *s, int ov, const char *src, const char *dst, const uint8_t *inner, uint32_t ilen,
		   uint16_t dport)
{
	s->in.len = gue_build(s->in.b, ov, tl_ip(src), tl_ip(dst), inner, ilen, 0x1234, false, 40000, dport);
	s->in.any_label = false;
}

static struct mslb_lb *lb_of(const char *conf, struct mslb_config **cfg)
{
	struct mslb_lb *lb = tl_lb_load(conf, "gue", cfg);

	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	lb_set_emit(lb, gd_capture, NULL);
	lb_set_time(lb, 1);
	return lb;
}

static uint8_t iobuf[IO_HEADROOM + IO_BUF_SIZE];
static bool uvalid;	/* feed: the kernel checked the checksum (DATA_VALID) */

/* lb_process_pkt on a copy of pkt (len bytes) with offloads off (NULL:
 * none): what it emits lands in gd_cap, what is left to send in *p. */
static enum mslb_drop feed(struct mslb_lb *lb, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
			   struct io_pkt *p)
{
	*p = (struct io_pkt){ .buf = iobuf, .data = iobuf + IO_HEADROOM, .len = len, .csum_valid = uvalid };
	if (off)
		p->off = *off;
	memset(iobuf, 0xa5, IO_HEADROOM);
	memcpy(p->data, pkt, len);
	gd_cap.n = 0;
	return lb_process_pkt(lb, p);
}

/* ---- encap_push_gue ---------------------------------------------------- */

static void test_gue_overhead(void)
{
	CU_ASSERT_EQUAL(ENCAP_UDP_HLEN, 8);
	CU_ASSERT_EQUAL(encap_overhead_of(4, true), 28);
	CU_ASSERT_EQUAL(encap_overhead_of(6, true), 48);
	CU_ASSERT_EQUAL(encap_overhead_of(4, false), 20);
	CU_ASSERT_EQUAL(encap_overhead_of(6, false), 40);
}

static const uint8_t tos_values[] = { 0x00, 0x01, 0x02, 0x03, 0xb8, 0xb9, 0x2e, 0xff };

static void push_one(int inf, int ov, uint8_t proto, uint8_t tos, bool df, bool df_clear, uint16_t dport)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ], exp[64 + PG_BUFSZ];
	uint8_t src[16], dst[16], *h, *u;
	struct pg_pkt in;
	unsigned ovh = ov == 4 ? 28 : 48, n;
	bool want_df = inf == 4 ? df : !df_clear;
	uint16_t sport;
	char what[96];

	tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
	tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
	tp_mk(&rng, &in, inf, proto, NULL, NULL, pg_range(&rng, 0, 1400), tos, df);
	sport = encap_gue_sport(in.buf, in.len);
	memset(buf, 0xee, IO_HEADROOM);
	memcpy(buf + IO_HEADROOM, in.buf, in.len);
	h = encap_push_gue(buf + IO_HEADROOM, in.len, ov, src, dst, 0xbeef, df_clear, dport);
	CU_ASSERT_PTR_EQUAL_FATAL(h, buf + IO_HEADROOM - ovh);
	n = gue_build(exp, ov, src, dst, in.buf, in.len, 0xbeef, want_df, sport, dport);
	tp_take_label(exp, h);
	snprintf(what, sizeof(what), "gue %d in %d proto %u tos 0x%02x df %d clear %d", inf, ov, proto, tos, df,
		 df_clear);
	CU_ASSERT(tp_same(what, h, ovh + in.len, exp, n));
	/* Nothing before the outer header was touched. */
	for (unsigned i = 0; i < IO_HEADROOM - ovh; i++)
		CU_ASSERT_EQUAL(buf[i], 0xee);
	/* The fields one by one, for the record. */
	u = h + (ov == 4 ? 20 : 40);
	CU_ASSERT_EQUAL(pg_tos(h), tos);
	CU_ASSERT(pg_get16(u) >= 49152);
	CU_ASSERT_EQUAL(pg_get16(u + 2), dport);
	CU_ASSERT_EQUAL(pg_get16(u + 4), in.len + 8);
	CU_ASSERT_EQUAL(memcmp(u + 8, in.buf, in.len), 0);
	if (ov == 4) {
		CU_ASSERT_EQUAL(h[9], 17);
		CU_ASSERT_EQUAL(!!(h[6] & 0x40), want_df);
		CU_ASSERT_EQUAL(pg_get16(h + 2), in.len + 28);
		CU_ASSERT_EQUAL(pg_get16(h + 4), 0xbeef);
		CU_ASSERT(tp_ip4_csum_ok(h));
		CU_ASSERT_EQUAL(pg_get16(u + 6), 0);		/* none over IPv4 (RFC 768) */
	} else {
		CU_ASSERT_EQUAL(h[6], 17);
		CU_ASSERT_EQUAL(h[7], 64);
		CU_ASSERT_EQUAL(pg_get16(h + 4), in.len + 8);
		CU_ASSERT_NOT_EQUAL(pg_get16(u + 6), 0);
		CU_ASSERT(tp_l4_csum_ok(h, u, in.len + 8, 17, true));
	}
}

/* Both families in both, every TOS, DF and df_clear, TCP and UDP. */
static void test_gue_push(void)
{
	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (unsigned t = 0; t < ARRAY_SIZE(tos_values); t++)
				for (int df = 0; df < 2; df++)
					for (int clear = 0; clear < 2; clear++)
						push_one(inf, ov, t % 2 ? PG_TCP : PG_UDP, tos_values[t], df, clear,
							 t % 3 ? GUE_PORT : (uint16_t)(1 + t * 9000));
}

/* The IPv6 outer flow label is the inner address pair's, as for IP-in-IP. */
static void test_gue_push_flow_label(void)
{
	static uint8_t b1[IO_HEADROOM + PG_BUFSZ], b2[IO_HEADROOM + PG_BUFSZ];
	uint8_t src[16], dst[16], *h1, *h2;

	tl_addr("2001:db8:5::10", src);
	tl_addr("2001:db8:b::11", dst);
	for (int inf = 4; inf <= 6; inf += 2) {
		struct pg_pkt in;

		tp_mk(&rng, &in, inf, PG_UDP, NULL, NULL, 100, 0, false);
		memcpy(b1 + IO_HEADROOM, in.buf, in.len);
		memcpy(b2 + IO_HEADROOM, in.buf, in.len);
		h1 = encap_push(b1 + IO_HEADROOM, in.len, 6, src, dst, 0, false);
		h2 = encap_push_gue(b2 + IO_HEADROOM, in.len, 6, src, dst, 0, false, GUE_PORT);
		CU_ASSERT_EQUAL(pg_get32(h1) & 0xfffff, pg_get32(h2) & 0xfffff);
	}
}

/* The inner packet whose UDP checksum over IPv6 comes to 0: sent as
 * 0xffff. Inner IPv6: its flow label (no part of the source port nor the
 * inner checksum) is chosen so; inner IPv4: a payload word, under a UDP
 * checksum of 0 (none). */
static void make_zero_sum(struct pg_pkt *in, int inf, const uint8_t *src, const uint8_t *dst, uint16_t dport)
{
	static uint8_t o[64 + PG_BUFSZ];
	struct pg_spec s;
	unsigned at;
	uint16_t sum;

	pg_spec_init(&s, inf, PG_UDP);
	s.payload = 200;
	s.udp_zero = inf == 4;
	pg_build(in, &s, &rng);
	at = inf == 6 ? 2 : in->len - 2;	/* an even offset: a whole word of the sum */
	pg_put16(in->buf + at, 0);
	if (inf == 6)
		in->buf[1] &= 0xf0;
	gue_build(o, 6, src, dst, in->buf, in->len, 0, false, encap_gue_sport(in->buf, in->len), dport);
	pg_put16(o + 46, 0);
	sum = udp6_sum(o, o + 40, in->len + 8);
	pg_put16(in->buf + at, (uint16_t)~sum);
	if (inf == 4)
		pg_recompute(in);
	gue_build(o, 6, src, dst, in->buf, in->len, 0, false, encap_gue_sport(in->buf, in->len), dport);
	pg_put16(o + 46, 0);
	CU_ASSERT_EQUAL(udp6_sum(o, o + 40, in->len + 8), 0xffff);
}

static void test_gue_push_csum_ffff(void)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ];
	uint8_t src[16], dst[16], *h;

	tl_addr("2001:db8:5::10", src);
	tl_addr("2001:db8:b::11", dst);
	for (int inf = 4; inf <= 6; inf += 2) {
		struct pg_pkt in;

		make_zero_sum(&in, inf, src, dst, GUE_PORT);
		memcpy(buf + IO_HEADROOM, in.buf, in.len);
		h = encap_push_gue(buf + IO_HEADROOM, in.len, 6, src, dst, 0, false, GUE_PORT);
		CU_ASSERT_EQUAL(pg_get16(h + 46), 0xffff);
		CU_ASSERT(tp_l4_csum_ok(h, h + 40, in.len + 8, 17, true));
	}
}

/* ---- encap_gue_sport ----------------------------------------------------- */

static uint16_t sport_of(const struct pg_pkt *p)
{
	return encap_gue_sport(p->buf, p->len);
}

/* b: a's flow (addresses, protocol, ports) in another packet. */
static void same_flow(struct pg_pkt *b, const struct pg_pkt *a, unsigned payload, uint8_t tos, bool df)
{
	tp_mk(&rng, b, a->family, a->proto, NULL, NULL, payload, tos, df);
	memcpy(b->buf + (a->family == 4 ? 12 : 8), a->buf + (a->family == 4 ? 12 : 8), a->family == 4 ? 8 : 32);
	memcpy(b->buf + b->l3len, a->buf + a->l3len, 4);
	pg_recompute(b);
}

static void test_gue_sport(void)
{
	uint16_t ports[64];
	unsigned distinct = 0;

	for (int family = 4; family <= 6; family += 2)
		for (int k = 0; k < 2; k++) {
			uint8_t proto = k ? PG_TCP : PG_UDP;
			struct pg_pkt a, b, w, f;
			uint16_t pa, pf;
			bool moved = false;

			/* One flow: one port, whatever the length, TOS, DF, ID. */
			tp_mk(&rng, &a, family, proto, NULL, NULL, 100, 0, true);
			pa = sport_of(&a);
			CU_ASSERT(pa >= 49152);
			same_flow(&b, &a, 1200, 0xb9, false);
			CU_ASSERT_EQUAL(sport_of(&b), pa);
			if (family == 4) {
				b.buf[4] ^= 0x5a;
				b.buf[8] = 3;
				pg_recompute(&b);
				CU_ASSERT_EQUAL(sport_of(&b), pa);
			}
			/* Fragments: all of one datagram alike, whatever its ports. */
			tp_mk(&rng, &w, family, proto, NULL, NULL, 3000, 0, false);
			pg_fragment(&w, 0, 1200, true, &f);
			pf = sport_of(&f);
			CU_ASSERT(pf >= 49152);
			pg_fragment(&w, 1200, 1200, true, &f);
			CU_ASSERT_EQUAL(sport_of(&f), pf);
			pg_fragment(&w, 2400, w.len - w.l3len - 2400, false, &f);
			CU_ASSERT_EQUAL(sport_of(&f), pf);
			for (unsigned i = 0; i < 8; i++) {
				struct pg_pkt w2 = w;

				pg_put16(w2.buf + w2.l3len, (uint16_t)(1000 + i * 77));
				pg_put16(w2.buf + w2.l3len + 2, (uint16_t)(80 + i));
				pg_recompute(&w2);
				pg_fragment(&w2, 0, 1200, true, &f);
				CU_ASSERT_EQUAL(sport_of(&f), pf);
				pg_fragment(&w2, 1200, 1200, true, &f);
				CU_ASSERT_EQUAL(sport_of(&f), pf);
				/* The whole datagrams: the ports count. */
				moved = moved || sport_of(&w2) != sport_of(&w);
			}
			CU_ASSERT(moved);
		}
	/* IPv4 options: the ports are after them. */
	{
		struct pg_spec sp;
		struct pg_pkt plain, opts;

		pg_spec_init(&sp, 4, PG_TCP);
		sp.payload = 100;
		pg_build(&plain, &sp, &rng);
		memset(sp.opts, 1, 8);		/* NOPs */
		sp.opts_len = 8;
		pg_build(&opts, &sp, &rng);
		CU_ASSERT_EQUAL_FATAL(opts.l3len, 28);
		memcpy(opts.buf + 28, plain.buf + 20, 4);
		pg_recompute(&opts);
		CU_ASSERT_EQUAL(sport_of(&opts), sport_of(&plain));
		pg_put16(opts.buf + 28, (uint16_t)(pg_get16(opts.buf + 28) + 1));
		pg_recompute(&opts);
		CU_ASSERT_NOT_EQUAL(sport_of(&opts), sport_of(&plain));
	}
	/* IPv4 fragments: the protocol counts. */
	{
		struct pg_pkt u, t, fu, ft;

		tp_mk(&rng, &u, 4, PG_UDP, "192.0.2.7", "203.0.113.10", 2000, 0, false);
		tp_mk(&rng, &t, 4, PG_TCP, "192.0.2.7", "203.0.113.10", 2000, 0, false);
		pg_fragment(&u, 0, 1000, true, &fu);
		pg_fragment(&t, 0, 1000, true, &ft);
		CU_ASSERT_NOT_EQUAL(sport_of(&fu), sport_of(&ft));
	}
	/* Flows spread over the range: other ports, other addresses. */
	for (unsigned i = 0; i < 64; i++) {
		struct pg_pkt p;
		char c[32];
		bool dup = false;

		snprintf(c, sizeof(c), "192.0.2.%u", 1 + i % 8);
		tp_mk(&rng, &p, 4, i % 2 ? PG_TCP : PG_UDP, c, NULL, 40, 0, true);
		ports[i] = sport_of(&p);
		CU_ASSERT(ports[i] >= 49152);
		for (unsigned j = 0; j < i; j++)
			dup = dup || ports[j] == ports[i];
		distinct += !dup;
	}
	CU_ASSERT(distinct >= 60);
}

/* ---- encap_is_gue, encap_pop --------------------------------------------- */

static void test_gue_pop(void)
{
	static uint8_t buf[64 + PG_BUFSZ];
	uint8_t src[16], dst[16];

	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2) {
			unsigned ovh = ov == 4 ? 28 : 48;
			struct pg_pkt in;
			struct pkt_view v, iv;
			uint32_t len;

			tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
			tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
			tp_mk(&rng, &in, inf, PG_TCP, NULL, NULL, 300, 0x2a, inf == 4);
			len = gue_build(buf, ov, src, dst, in.buf, in.len, 7, false, 50000, GUE_PORT);
			CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
			CU_ASSERT_FALSE(encap_is_tunnel(&v));
			CU_ASSERT_TRUE(encap_is_gue(&v, GUE_PORT));
			CU_ASSERT_FALSE(encap_is_gue(&v, 0));
			CU_ASSERT_FALSE(encap_is_gue(&v, GUE_PORT + 1));
			CU_ASSERT_FALSE(encap_is_gue(&v, 50000));	/* the source port is not it */
			CU_ASSERT_EQUAL_FATAL(encap_pop(&v, &iv), MSLB_OK);
			CU_ASSERT_PTR_EQUAL(iv.data, buf + ovh);
			CU_ASSERT_EQUAL(iv.len, in.len);
			CU_ASSERT_EQUAL(iv.version, (unsigned)inf);
			CU_ASSERT_EQUAL(memcmp(iv.data, in.buf, in.len), 0);

			/* Not IP inside: GUE variant 0 (version bits 00), version 5. */
			buf[ovh] = 0x00;
			CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);
			buf[ovh] = 0x55;
			CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

			/* Nothing inside. */
			len = gue_build(buf, ov, src, dst, in.buf, 0, 7, false, 50000, GUE_PORT);
			CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
			CU_ASSERT_TRUE(encap_is_gue(&v, GUE_PORT));
			CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

			/* TCP to that port is not GUE. */
			len = gue_build(buf, ov, src, dst, in.buf, in.len, 7, false, 50000, GUE_PORT);
			buf[ov == 4 ? 9 : 6] = 6;
			if (ov == 4)
				tp_ip4_csum(buf);
			CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
			CU_ASSERT_FALSE(encap_is_gue(&v, GUE_PORT));
		}
	/* An outer fragment is not taken for GUE. */
	{
		struct pg_pkt in;
		struct pkt_view v;
		uint32_t len;

		tl_addr("203.0.113.10", src);
		tl_addr("198.51.100.11", dst);
		tp_mk(&rng, &in, 4, PG_UDP, NULL, NULL, 600, 0, false);
		gue_build(buf, 4, src, dst, in.buf, in.len, 7, false, 50000, GUE_PORT);
		/* The first 304 bytes, MF set: the UDP header is there. */
		len = 20 + 304;
		pg_put16(buf + 6, 0x2000);
		pg_put16(buf + 2, (uint16_t)len);
		tp_ip4_csum(buf);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_TRUE(v.fragment);
		CU_ASSERT_FALSE(encap_is_gue(&v, GUE_PORT));
	}
}

/* ---- the settings -------------------------------------------------------- */

/* front: services on line 2, X on line 3, the next hop (with Y) on line 4. */
#define CF(x, y) \
	"front = {\n  services = [ \"203.0.113.10\" ];\n  " x "\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; " y " } );\n" \
	"  unmatched = \"b1\";\n};\n"
/* back: X on line 3. */
#define CB(x) "back = {\n  addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\"; } );\n  " x "\n};\n"

static void test_gue_config(void)
{
	static struct config_errors errs;
	struct mslb_config *c;

	/* Defaults: IP-in-IP, port 6080 at the front, no GUE at a back. */
	c = config_load_string(CF("mode = \"encapsulate\";", "") CB(""), "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.encap, ENCAP_IP);
	CU_ASSERT_EQUAL(c->front.gue_port, 6080);
	CU_ASSERT_EQUAL(c->front.next_hops[0].encap, ENCAP_IP);
	CU_ASSERT_EQUAL(c->back.gue_port, 0);
	config_free(c);

	/* The front's default for its next hops; a next hop's own. */
	c = config_load_string(
		"front = {\n"
		"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n"
		"  mode = \"encapsulate\";\n"
		"  encapsulation = \"gue\";\n"
		"  gue_port = 5555;\n"
		"  next_hops = (\n"
		"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; },\n"
		"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; encapsulation = \"ip\"; },\n"
		"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; mode = \"translate\"; },\n"
		"    { name = \"b4\"; ipv4 = \"198.51.100.14\"; encapsulation = \"gue\"; }\n"
		"  );\n"
		"  unmatched = \"b1\";\n"
		"};\n" CB("gue_port = 0;"), "t.conf", &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.encap, ENCAP_GUE);
	CU_ASSERT_EQUAL(c->front.gue_port, 5555);
	CU_ASSERT_EQUAL(c->front.next_hops[0].encap, ENCAP_GUE);
	CU_ASSERT_EQUAL(c->front.next_hops[1].encap, ENCAP_IP);
	CU_ASSERT_EQUAL(c->front.next_hops[2].mode, NH_TRANSLATE);
	CU_ASSERT_EQUAL(c->front.next_hops[3].encap, ENCAP_GUE);
	CU_ASSERT_EQUAL(c->back.gue_port, 0);
	config_free(c);

	/* A next hop in encapsulation mode under a translating front. */
	c = config_load_string(CF("", "mode = \"encapsulate\"; encapsulation = \"gue\";"), "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.next_hops[0].mode, NH_ENCAP);
	CU_ASSERT_EQUAL(c->front.next_hops[0].encap, ENCAP_GUE);
	CU_ASSERT_EQUAL(c->front.encap, ENCAP_IP);
	config_free(c);

	/* front.encapsulation under a translating front is only a default. */
	c = config_load_string(CF("encapsulation = \"gue\";", ""), "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.next_hops[0].mode, NH_TRANSLATE);
	config_free(c);

	/* The ends of the ranges. */
	c = config_load_string(CF("gue_port = 1;", "") CB("gue_port = 65535;"), "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.gue_port, 1);
	CU_ASSERT_EQUAL(c->back.gue_port, 65535);
	config_free(c);
	c = config_load_string(CF("gue_port = 65535;", "") CB("gue_port = 1;"), "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->front.gue_port, 65535);
	CU_ASSERT_EQUAL(c->back.gue_port, 1);
	config_free(c);
}

static const struct {
	const char *text, *line;
} gue_bad[] = {
	{ CF("encapsulation = \"vxlan\";", ""),
	  "t.conf:3: front.encapsulation: \"vxlan\" is not an encapsulation (allowed: \"ip\" for IP-in-IP, \"gue\" for UDP)" },
	{ CF("encapsulation = 1;", ""),
	  "t.conf:3: front.encapsulation: must be a string (allowed: \"ip\" or \"gue\")" },
	{ CF("gue_port = 0;", ""), "t.conf:3: front.gue_port: 0 is out of range (allowed: 1-65535)" },
	{ CF("gue_port = 65536;", ""), "t.conf:3: front.gue_port: 65536 is out of range (allowed: 1-65535)" },
	{ CF("gue_port = \"6080\";", ""), "t.conf:3: front.gue_port: must be an integer (allowed: 1-65535)" },
	{ CF("", "encapsulation = \"gue\";"),
	  "t.conf:4: front.next_hops[0].encapsulation: only for encapsulation (allowed: with mode = \"encapsulate\")" },
	{ CF("", "encapsulation = \"ip\";"),
	  "t.conf:4: front.next_hops[0].encapsulation: only for encapsulation (allowed: with mode = \"encapsulate\")" },
	{ CF("mode = \"encapsulate\";", "mode = \"translate\"; encapsulation = \"gue\";"),
	  "t.conf:4: front.next_hops[0].encapsulation: only for encapsulation (allowed: with mode = \"encapsulate\")" },
	{ CF("mode = \"encapsulate\";", "encapsulation = \"udp\";"),
	  "t.conf:4: front.next_hops[0].encapsulation: \"udp\" is not an encapsulation "
	  "(allowed: \"ip\" for IP-in-IP, \"gue\" for UDP)" },
	{ CF("mode = \"encapsulate\";", "encapsulation = true;"),
	  "t.conf:4: front.next_hops[0].encapsulation: must be a string (allowed: \"ip\" or \"gue\")" },
	{ CB("gue_port = -1;"), "t.conf:3: back.gue_port: -1 is out of range (allowed: 0-65535)" },
	{ CB("gue_port = 65536;"), "t.conf:3: back.gue_port: 65536 is out of range (allowed: 0-65535)" },
	{ CB("gue_port = 6080.0;"), "t.conf:3: back.gue_port: must be an integer (allowed: 0-65535)" },
};

static void test_gue_config_errors(void)
{
	static struct config_errors errs;

	for (unsigned i = 0; i < ARRAY_SIZE(gue_bad); i++) {
		struct mslb_config *c = config_load_string(gue_bad[i].text, "t.conf", &errs);
		bool ok = c == NULL && errs.n == 1 && !strcmp(errs.line[0], gue_bad[i].line);

		if (!ok) {
			printf("\n  case %u: %s\n  expected: %s\n", i, c ? "loaded" : "NULL", gue_bad[i].line);
			for (unsigned k = 0; k < errs.n; k++)
				printf("  got:      %s\n", errs.line[k]);
		}
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		if (errs.n)
			CU_ASSERT_STRING_EQUAL(errs.line[0], gue_bad[i].line);
		config_free(c);
	}
}

/* The lists of known settings name the new ones. */
static void test_gue_config_keys(void)
{
	static struct config_errors errs;
	static const struct {
		const char *text, *line;
	} k[] = {
		{ CF("gue = 1;", ""),
		  "t.conf:3: front.gue: unknown setting (allowed: services, next_hops, table, unmatched, mptcp, mode, "
		  "tunnel_source, allowed_sources, pmtu_expires, health, persistence, encapsulation, gue_port)" },
		{ CB("gue = 1;"),
		  "t.conf:3: back.gue: unknown setting (allowed: addresses, mptcp, allowed_sources, reassembly, "
		  "return_tunnel, proposal2, persistence, gue_port)" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		struct mslb_config *c = config_load_string(k[i].text, "t.conf", &errs);

		if (!(c == NULL && errs.n == 1 && !strcmp(errs.line[0], k[i].line)))
			for (unsigned j = 0; j < errs.n; j++)
				printf("\n  got: %s", errs.line[j]);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		if (errs.n)
			CU_ASSERT_STRING_EQUAL(errs.line[0], k[i].line);
		config_free(c);
	}
}

/* ---- the front ------------------------------------------------------------ */

static void check_front_same(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1472);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1452);
	CU_ASSERT_EQUAL(t.encapsulated, 6);
	CU_ASSERT_EQUAL(t.fragments, 0);
	CU_ASSERT_EQUAL(t.icmp_sent, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 6);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, 300 + 300 + 400 + 1472 + 300 + 1452);
}

/* outer "same": IPv4 in IPv4, IPv6 in IPv6, up to the tunnel MTU. */
static void build_front_same(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 4, DF", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0xb9, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);

	s = gd_add(c, "4 in 4, no DF", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0x03, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, false, GUE_PORT);

	s = gd_add(c, "4 in 4, TCP", 1, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, C4, S4, 400, 0x2e, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, true, GUE_PORT);

	s = gd_add(c, "4 in 4, exactly the tunnel MTU (1500 - 28)", 1, MSLB_OK);
	gd_client(&in, 4, 1472, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 3, true, GUE_PORT);

	s = gd_add(c, "6 in 6", 1, MSLB_OK);
	gd_client(&in, 6, 300, 0x2e, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);

	s = gd_add(c, "6 in 6, exactly the tunnel MTU (1500 - 48)", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, C6, S6, 1452, 0x01, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
	s->check = check_front_same;
}

/* outer "ipv6": IPv4 in IPv6 (and IPv6 in IPv6). */
static void build_front_4in6(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 6, DF", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0xb8, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);

	s = gd_add(c, "4 in 6, no DF, exactly the tunnel MTU (1500 - 48)", 1, MSLB_OK);
	gd_client(&in, 4, 1452, 0x01, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);

	s = gd_add(c, "6 in 6", 1, MSLB_OK);
	gd_client(&in, 6, 500, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
}

/* outer "ipv4": IPv6 in IPv4 (DF set: it is not fragmented outside), and
 * IPv4 in IPv4. */
static void build_front_6in4(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "6 in 4: DF set", 1, MSLB_OK);
	gd_client(&in, 6, 300, 0x0a, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);

	s = gd_add(c, "6 in 4, exactly the tunnel MTU (1500 - 28)", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, C6, S6, 1472, 0xfe, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true, GUE_PORT);

	s = gd_add(c, "4 in 4", 1, MSLB_OK);
	gd_client(&in, 4, 600, 0x48, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, false, GUE_PORT);
}

/* The UDP checksum over IPv6 that comes to 0 is sent as 0xffff. */
static void build_front_ffff(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	for (int inf = 4; inf <= 6; inf += 2) {
		s = gd_add(c, inf == 4 ? "4 in 6, checksum 0xffff" : "6 in 6, checksum 0xffff", 1, MSLB_OK);
		make_zero_sum(&in, inf, tl_ip(S6), tl_ip(B6), GUE_PORT);
		gd_set(&s->in, in.buf, in.len);
		gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
		CU_ASSERT_EQUAL(pg_get16(s->out.b + 46), 0xffff);
	}
}

static void test_gue_front(void)
{
	static const struct gd_case g[] = {
		{ "gue, outer same", FRONT("", GUE), build_front_same },
		{ "gue, outer ipv6", FRONT("", GUE "outer = \"ipv6\";"), build_front_4in6 },
		{ "gue, outer ipv4", FRONT("", GUE "outer = \"ipv4\";"), build_front_6in4 },
		{ "gue, outer ipv6, checksum 0xffff", FRONT("", GUE "outer = \"ipv6\";"), build_front_ffff },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* front.encapsulation and gue_port as defaults; a next hop's own "ip". */
#define FRONT_DEFAULT \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = \"encapsulate\";\n" \
	"  encapsulation = \"gue\";\n" \
	"  gue_port = 5555;\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; },\n" \
	"    { name = \"b2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; encapsulation = \"ip\"; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/24\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

static void check_default(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1472);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1452);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	lb_next_hop_tunnel(lb, 1, &t);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1480);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1460);
	CU_ASSERT_EQUAL(t.encapsulated, 3);
}

static void build_default(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "b1 (the front's gue, port 5555), IPv4", 1, MSLB_OK);
	gd_mk(&in, 4, PG_UDP, "198.18.0.1", S4, 300, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, 5555);

	s = gd_add(c, "b1 (the front's gue, port 5555), IPv6", 1, MSLB_OK);
	gd_mk(&in, 6, PG_UDP, "2001:db8:99::1", S6, 300, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, 5555);

	s = gd_add(c, "b2 (encapsulation \"ip\"), IPv4", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B2_4, in.buf, in.len, 2, true);

	s = gd_add(c, "b2 (encapsulation \"ip\"), IPv6", 1, MSLB_OK);
	gd_client(&in, 6, 300, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 6, S6, B2_6, in.buf, in.len, 0, false);

	s = gd_add(c, "b2: 1480 bytes fit IP-in-IP", 1, MSLB_OK);
	gd_client(&in, 4, 1480, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, 4, S4, B2_4, in.buf, in.len, 4, true);
	s->check = check_default;
}

static void test_gue_front_default(void)
{
	static const struct gd_case g = { "gue as the front's default", FRONT_DEFAULT, build_default };

	gd_run(&g);
}

/* ---- the tunnel MTU: path MTU - 28 (IPv4 outer), - 48 (IPv6 outer) ------ */

static void check_mtu_same(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1400);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1372);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1400);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1352);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_CONFIG);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	CU_ASSERT_EQUAL(t.icmp_sent, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TOO_BIG), 2);
}

/* path_mtu 1400. */
static void build_mtu_same(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 4: 1372 bytes with DF fit", 1, MSLB_OK);
	gd_client(&in, 4, 1372, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);

	s = gd_add(c, "4 in 4: 1373 bytes with DF: fragmentation needed, MTU 1372", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 4, 1373, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1372, in.buf, 548);

	s = gd_add(c, "6 in 6: 1352 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1352, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);

	s = gd_add(c, "6 in 6: 1353 bytes: packet too big, MTU 1352", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1353, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1352, in.buf, 1232);
	s->check = check_mtu_same;
}

/* outer ipv6, path_mtu 1400: IPv4 inner, tunnel MTU 1352. */
static void build_mtu_4in6(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 6: 1353 bytes with DF: MTU 1352", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 4, 1353, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1352, in.buf, 548);

	s = gd_add(c, "4 in 6: 1352 bytes with DF fit", 1, MSLB_OK);
	gd_client(&in, 4, 1352, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
}

/* outer ipv4, path_mtu 1400: IPv6 inner, tunnel MTU 1372. */
static void build_mtu_6in4(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "6 in 4: 1373 bytes: packet too big, MTU 1372", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1373, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1372, in.buf, 1232);

	s = gd_add(c, "6 in 4: 1372 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1372, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
}

static void check_mtu_6in4_small(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	CU_ASSERT_EQUAL(t.fragments, 2);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
}

/* outer ipv4, path_mtu 1300: tunnel MTU 1272, below IPv6's minimum: the
 * client is never told less than 1280. */
static void build_mtu_6in4_small(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "6 in 4: 1290 bytes: packet too big, MTU 1280", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1290, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);

	s = gd_add(c, "6 in 4: 1272 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1272, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);

	/* At most 1280 bytes: no error is owed (RFC 8201); the GUE packet,
	 * UDP checksum and all, goes in outer fragments (RFC 2473 7.1). */
	s = gd_add(c, "6 in 4: 1280 bytes: two outer fragments", 1, MSLB_OK);
	gd_client(&in, 6, 1280, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&whole, 4, S4, B4, in.buf, in.len, 1, false, GUE_PORT);
	gd_frag4(gd_emit(s), &whole, 0, 1280, true);
	gd_frag4(gd_emit(s), &whole, 1280, 8, false);
	s->check = check_mtu_6in4_small;
}

static void check_mtu_6in6_small(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1252);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	CU_ASSERT_EQUAL(t.fragments, 2);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, 1252 + 1280);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TOO_BIG), 1);
}

/* outer ipv6, path_mtu 1300: tunnel MTU 1252. The same in IPv6 outer
 * fragments (UDP checksum over the whole GUE packet). */
static void build_mtu_6in6_small(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1252 bytes fit", 1, MSLB_OK);
	gd_client(&in, 6, 1252, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
	s = gd_add(c, "1280 bytes: two outer fragments", 1, MSLB_OK);
	gd_client(&in, 6, 1280, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
	gd_frag6(gd_emit(s), &whole, 0, 1248, true, 1);
	gd_frag6(gd_emit(s), &whole, 1248, 40, false, 1);
	s = gd_add(c, "1281 bytes: packet too big, MTU 1280", 1, MSLB_DROP_TOO_BIG);
	gd_client(&in, 6, 1281, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);
	s->check = check_mtu_6in6_small;
}

static void test_gue_front_mtu(void)
{
	static const struct gd_case g[] = {
		{ "gue too big, outer same", FRONT("", GUE "path_mtu = 1400;"), build_mtu_same },
		{ "gue too big, 4 in 6", FRONT("", GUE "outer = \"ipv6\"; path_mtu = 1400;"), build_mtu_4in6 },
		{ "gue too big, 6 in 4", FRONT("", GUE "outer = \"ipv4\"; path_mtu = 1400;"), build_mtu_6in4 },
		{ "gue too big, 6 in 4 below 1280", FRONT("", GUE "outer = \"ipv4\"; path_mtu = 1300;"),
		  build_mtu_6in4_small },
		{ "gue too big, 6 in 6 below 1280", FRONT("", GUE "outer = \"ipv6\"; path_mtu = 1300;"),
		  build_mtu_6in6_small },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- IPv4 without DF: inner fragments, each in its own GUE packet ------- */

static void check_frag4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 5);
	CU_ASSERT_EQUAL(t.fragments, 5);
	CU_ASSERT_EQUAL(t.icmp_sent, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, 2000 + 1500);
}

/* Every emitted packet of step s: one source port (the fragments'). */
static void same_sport(const struct gd_step *s)
{
	for (unsigned k = 1; k < s->n_emit; k++)
		CU_ASSERT_EQUAL(pg_get16(s->emit[k].b + 20), pg_get16(s->emit[0].b + 20));
}

/* path_mtu 1000, outer IPv4: tunnel MTU 972, pieces of 952 bytes. */
static void build_frag4(struct gd_script *c)
{
	struct pg_pkt in, f;
	struct gd_step *s;

	s = gd_add(c, "2000 bytes without DF: three inner fragments", 1, MSLB_OK);
	gd_client(&in, 4, 2000, 0x10, false);
	gd_set(&s->in, in.buf, in.len);
	pg_fragment(&in, 0, 952, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 0, false, GUE_PORT);
	pg_fragment(&in, 952, 952, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 1, false, GUE_PORT);
	pg_fragment(&in, 1904, 76, false, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 2, false, GUE_PORT);
	same_sport(s);

	/* A client's fragment, cut again: offsets carry on, MF stays. */
	s = gd_add(c, "a 1500-byte fragment: two pieces, offsets from 1480", 1, MSLB_OK);
	gd_client(&in, 4, 3500, 0x10, false);
	pg_fragment(&in, 1480, 1480, true, &f);
	gd_set(&s->in, f.buf, f.len);
	pg_fragment(&in, 1480, 952, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 3, false, GUE_PORT);
	pg_fragment(&in, 2432, 528, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 4, false, GUE_PORT);
	same_sport(s);
	s->check = check_frag4;
}

/* path_mtu 1000, outer IPv6: tunnel MTU 952, pieces of 928 bytes. */
static void build_frag4in6(struct gd_script *c)
{
	struct pg_pkt in, f;
	struct gd_step *s;

	s = gd_add(c, "4 in 6, 2000 bytes without DF: three inner fragments", 1, MSLB_OK);
	gd_client(&in, 4, 2000, 0x10, false);
	gd_set(&s->in, in.buf, in.len);
	pg_fragment(&in, 0, 928, true, &f);
	gue_encap(gd_emit(s), 6, S6, B6, f.buf, f.len, 0, false, GUE_PORT);
	pg_fragment(&in, 928, 928, true, &f);
	gue_encap(gd_emit(s), 6, S6, B6, f.buf, f.len, 0, false, GUE_PORT);
	pg_fragment(&in, 1856, 124, false, &f);
	gue_encap(gd_emit(s), 6, S6, B6, f.buf, f.len, 0, false, GUE_PORT);
	for (unsigned k = 1; k < s->n_emit; k++)
		CU_ASSERT_EQUAL(pg_get16(s->emit[k].b + 40), pg_get16(s->emit[0].b + 40));

	s = gd_add(c, "4 in 6, 952 bytes without DF fit", 1, MSLB_OK);
	gd_client(&in, 4, 952, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
}

static void test_gue_front_fragments(void)
{
	static const struct gd_case g[] = {
		{ "gue, ipv4 without DF", FRONT("", GUE "path_mtu = 1000;"), build_frag4 },
		{ "gue, ipv4 without DF in ipv6", FRONT("", GUE "outer = \"ipv6\"; path_mtu = 1000;"), build_frag4in6 },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* An IPv6 packet above the tunnel MTU but of at most 1280 bytes, through a
 * front in GUE outer fragments and a back that puts them together again:
 * the client's packet comes out, in either order of the fragments, and
 * the back counts it once. */
static void test_gue_v6_small_reassembled(void)
{
	static const char *const fronts[] = {
		FRONT("", GUE "outer = \"ipv4\"; path_mtu = 1280;"),
		FRONT("", GUE "outer = \"ipv6\"; path_mtu = 1280;"),
	};
	static struct gd_pkt frag[2];
	struct mslb_config *bcfg;
	struct mslb_lb *back = lb_of(GBACK(""), &bcfg);
	struct lb_tunnel_stats ts;
	unsigned n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(fronts); i++)
		for (unsigned order = 0; order < 2; order++) {
			struct mslb_config *fcfg;
			struct mslb_lb *front = lb_of(fronts[i], &fcfg);
			struct io_pkt p;
			struct pg_pkt in;
			struct lb_nh_tunnel t;
			const uint8_t *o;

			gd_mk(&in, 6, order ? PG_TCP : PG_UDP, C6, S6, 1280, 0, false);
			CU_ASSERT_EQUAL(feed(front, in.buf, in.len, NULL, &p), MSLB_OK);
			CU_ASSERT_EQUAL(p.len, 0);
			CU_ASSERT_EQUAL_FATAL(gd_cap.n, 2);
			frag[0] = gd_cap.p[0];
			frag[1] = gd_cap.p[1];
			o = frag[0].b;
			/* On the wire: UDP fragments no larger than the path,
			 * the first with the header to 6080. */
			CU_ASSERT(frag[0].len <= 1280 && frag[1].len <= 1280);
			if (i == 0) {
				CU_ASSERT_EQUAL(o[9], 17);
				CU_ASSERT_EQUAL(pg_get16(o + 6), 0x2000);	/* MF, no DF */
				CU_ASSERT_EQUAL(pg_get16(o + 22), GUE_PORT);
			} else {
				CU_ASSERT_EQUAL(o[6], 44);
				CU_ASSERT_EQUAL(o[40], 17);
				CU_ASSERT_EQUAL(pg_get16(o + 50), GUE_PORT);
			}
			lb_next_hop_tunnel(front, 0, &t);
			CU_ASSERT_EQUAL(t.encapsulated, 1);
			CU_ASSERT_EQUAL(t.fragments, 2);
			CU_ASSERT_EQUAL(t.icmp_sent, 0);
			CU_ASSERT_EQUAL(lb_drops(front, MSLB_DROP_TOO_BIG), 0);
			CU_ASSERT_EQUAL(lb_next_hop_counter(front, 0).packets, 1);
			CU_ASSERT_EQUAL(lb_next_hop_counter(front, 0).bytes, 1280);

			CU_ASSERT_EQUAL(feed(back, frag[order].b, frag[order].len, NULL, &p), MSLB_OK);
			CU_ASSERT_EQUAL(p.len, 0);
			CU_ASSERT_EQUAL(feed(back, frag[!order].b, frag[!order].len, NULL, &p), MSLB_OK);
			CU_ASSERT(tp_same("reassembled", p.data, p.len, in.buf, in.len));
			n++;
			tl_lb_free(front, fcfg);
		}
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, n);
	CU_ASSERT_EQUAL(lb_back_counter(back, 0).packets, 2);	/* outer IPv4, to B4 */
	CU_ASSERT_EQUAL(lb_back_counter(back, 1).packets, 2);	/* outer IPv6, to B6 */
	CU_ASSERT_EQUAL(n, 4);
	tl_lb_free(back, bcfg);
}

/* A router's errors about the front's GUE outer fragments: about the first
 * (UDP header to 6080 quoted), relayed to the client; about the second (no
 * UDP header), still the next hop's, counted and not relayed; neither is
 * sent on toward the next hop. */
static void test_gue_icmp_outer_fragments(void)
{
	static struct gd_pkt frag[2], icmp;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_of(FRONT("", GUE "outer = \"ipv6\"; path_mtu = 1280;"), &cfg);
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;
	struct io_pkt p;
	struct pg_pkt in;
	uint64_t sent;

	gd_client(&in, 6, 1280, 0, false);
	CU_ASSERT_EQUAL(feed(lb, in.buf, in.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL_FATAL(gd_cap.n, 2);
	frag[0] = gd_cap.p[0];
	frag[1] = gd_cap.p[1];
	sent = lb_next_hop_counter(lb, 0).packets;

	/* Hop limit exceeded, about the first: relayed to c1. */
	icmp.len = gd_icmp_msg(icmp.b, 6, R6, S6, 0, 3, 0, 0, frag[0].b, 1232);
	CU_ASSERT_EQUAL(feed(lb, icmp.b, icmp.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL_FATAL(gd_cap.n, 1);
	CU_ASSERT_EQUAL(gd_cap.p[0].b[6], 58);
	CU_ASSERT_EQUAL(gd_cap.p[0].b[40], 1);	/* relayed as unreachable (RFC 2473 8.1) */
	CU_ASSERT_EQUAL(memcmp(gd_cap.p[0].b + 24, tl_ip(C6), 16), 0);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.icmp_received, 1);

	/* About the second: the next hop's, nothing to relay. */
	icmp.len = gd_icmp_msg(icmp.b, 6, R6, S6, 0, 3, 0, 0, frag[1].b, frag[1].len);
	CU_ASSERT_EQUAL(feed(lb, icmp.b, icmp.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(gd_cap.n, 0);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.icmp_received, 2);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 1);

	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, sent);

	/* A later UDP fragment to the next hop from another source is not
	 * the front's tunnel packet. */
	memcpy(frag[1].b + 8, tl_ip(C6), 16);
	icmp.len = gd_icmp_msg(icmp.b, 6, R6, S6, 0, 3, 0, 0, frag[1].b, frag[1].len);
	feed(lb, icmp.b, icmp.len, NULL, &p);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.icmp_received, 2);
	tl_lb_free(lb, cfg);
}

/* UDP fragments to a back address from an allowed tunnel source that are
 * not GUE once put together go nowhere; from any other source they are a
 * translating front's traffic, sent on to the service as they are. */
static void test_gue_back_fragments_refused(void)
{
	static struct gd_pkt whole, f;
	struct mslb_config *bcfg;
	struct mslb_lb *back = lb_of(GBACK(""), &bcfg);
	struct io_pkt p;
	struct pg_pkt in;
	struct lb_tunnel_stats ts;

	gd_client(&in, 6, 1280, 0, false);
	/* To another UDP port. */
	gue_encap(&whole, 4, S4, B4, in.buf, in.len, 7, false, GUE_PORT + 1);
	gd_frag4(&f, &whole, 0, 1000, true);
	CU_ASSERT_EQUAL(feed(back, f.b, f.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	gd_frag4(&f, &whole, 1000, 288, false);
	CU_ASSERT_EQUAL(feed(back, f.b, f.len, NULL, &p), MSLB_DROP_TUNNEL_INNER);
	CU_ASSERT_EQUAL(lb_back_counter(back, 0).packets, 0);
	/* From a client. */
	gue_encap(&whole, 4, C4, B4, in.buf, in.len, 8, false, GUE_PORT);
	gd_frag4(&f, &whole, 0, 1000, true);
	CU_ASSERT_EQUAL(feed(back, f.b, f.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, f.len);
	CU_ASSERT_EQUAL(memcmp(p.data + 16, tl_ip(S4), 4), 0);
	CU_ASSERT_EQUAL(memcmp(p.data + 12, tl_ip(C4), 4), 0);
	CU_ASSERT_EQUAL(lb_back_counter(back, 0).packets, 1);
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 0);
	tl_lb_free(back, bcfg);
}

/* ---- GSO super-packets ---------------------------------------------------- */

static struct io_offload gso_off(int family, unsigned hl)
{
	return (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
		.gso_size = 1000,
		.hdr_len = (uint16_t)hl,
		.csum_start = (uint16_t)(hl - 20),
		.csum_offset = 16,
	};
}

/* A super-packet of 3500 bytes of payload: segments of 1000, each in GUE
 * of outer family ov (IPv4 IDs from id). */
static void gso_step(struct gd_script *c, int family, int ov, uint16_t id)
{
	static char what[4][64];
	static unsigned w;
	unsigned hl = family == 4 ? 40 : 60;
	struct pg_pkt sp, o;
	struct gd_step *s;

	snprintf(what[w % 4], sizeof(what[0]), "TCP/IPv%d super-packet: 4 segments in IPv%d", family, ov);
	s = gd_add(c, what[w++ % 4], 1, MSLB_OK);
	gd_mk(&sp, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 3500, 0x12, true);
	sp.buf[hl - 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01;
	pg_recompute(&sp);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = gso_off(family, hl);
	for (unsigned k = 0; k < 4; k++) {
		tp_seg(&o, &sp, hl, k, 1000);
		gue_encap(gd_emit(s), ov, ov == 4 ? S4 : S6, ov == 4 ? B4 : B6, o.buf, o.len, (uint16_t)(id + k),
			  true, GUE_PORT);
	}
	/* One flow: one source port. */
	for (unsigned k = 1; k < 4; k++)
		CU_ASSERT_EQUAL(pg_get16(s->emit[k].b + (ov == 4 ? 20 : 40)), pg_get16(s->emit[0].b + (ov == 4 ? 20 : 40)));
}

static void check_gso(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 8);
	CU_ASSERT_EQUAL(t.encapsulated, 8);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
}

static void build_gso_same(struct gd_script *c)
{
	gso_step(c, 4, 4, 0);
	gso_step(c, 6, 6, 4);
	c->s[c->n - 1].check = check_gso;
}

static void build_gso_4in6(struct gd_script *c)
{
	gso_step(c, 4, 6, 0);
	gso_step(c, 6, 6, 4);
	c->s[c->n - 1].check = check_gso;
}

static void build_gso_6in4(struct gd_script *c)
{
	gso_step(c, 6, 4, 0);
	gso_step(c, 4, 4, 4);
	c->s[c->n - 1].check = check_gso;
}

static void check_gso_big(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 0);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
}

/* Segments of 1040 bytes with DF on a tunnel MTU of 1000 - 28. */
static void build_gso_too_big(struct gd_script *c)
{
	struct pg_pkt sp;
	struct gd_step *s = gd_add(c, "segments too big: MTU 972", 1, MSLB_DROP_TOO_BIG);

	gd_mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, true);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = gso_off(4, 40);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 972, sp.buf, 548);
	s->check = check_gso_big;
}

/* IPv4 without DF, segments of 1040 on a tunnel MTU of 800 - 28: each
 * segment that does not fit cut in pieces of 752, each in its own GUE. */
static void build_gso_frag(struct gd_script *c)
{
	struct pg_pkt sp, o, f;
	struct gd_step *s;

	s = gd_add(c, "TCP/IPv4 without DF, segments of 1040 on a tunnel MTU of 772", 1, MSLB_OK);
	gd_mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, false);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = gso_off(4, 40);
	for (unsigned k = 0, id = 0; k < 4; k++) {
		tp_seg(&o, &sp, 40, k, 1000);
		if (o.len <= 772) {
			gue_encap(gd_emit(s), 4, S4, B4, o.buf, o.len, (uint16_t)id++, false, GUE_PORT);
			continue;
		}
		pg_fragment(&o, 0, 752, true, &f);
		gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false, GUE_PORT);
		pg_fragment(&o, 752, o.len - 20 - 752, false, &f);
		gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false, GUE_PORT);
	}
	CU_ASSERT_EQUAL(s->n_emit, 7);
}

static void test_gue_front_gso(void)
{
	static const struct gd_case g[] = {
		{ "gue gso, outer same", FRONT("", GUE), build_gso_same },
		{ "gue gso, outer ipv6", FRONT("", GUE "outer = \"ipv6\";"), build_gso_4in6 },
		{ "gue gso, outer ipv4", FRONT("", GUE "outer = \"ipv4\";"), build_gso_6in4 },
		{ "gue gso too big", FRONT("", GUE "path_mtu = 1000;"), build_gso_too_big },
		{ "gue gso, then fragments", FRONT("", GUE "path_mtu = 800;"), build_gso_frag },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- partial checksums (offloads) ---------------------------------------- */

/* The partial checksum a device with checksum offload leaves in the
 * field: the folded pseudo-header sum, not complemented. */
static void make_partial(struct pg_pkt *p)
{
	pg_put16(p->buf + p->l3len + pg_csum_field(p->proto), tp_partial_csum(p));
}

static struct io_offload partial_off(unsigned start, unsigned field)
{
	return (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .csum_start = (uint16_t)start,
				    .csum_offset = (uint16_t)field };
}

/* A client's packet with a partial checksum through a GUE next hop whose
 * outer family is ov: over IPv4 the checksum stays the kernel's to finish
 * (csum_start 28 further on); over IPv6 it is finished first, and the
 * UDP checksum covers the finished packet. */
static void partial_one(const char *conf, int family, uint8_t proto, int ov)
{
	static struct gd_pkt e;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_of(conf, &cfg);
	unsigned hl = family == 4 ? 20 : 40, field = pg_csum_field(proto);
	struct pg_pkt full, in;
	struct io_offload off = partial_off(hl, field);
	struct io_pkt p;
	char what[64];

	snprintf(what, sizeof(what), "partial %s/IPv%d in IPv%d", proto == PG_TCP ? "TCP" : "UDP", family, ov);
	gd_mk(&full, family, proto, family == 4 ? C4 : C6, family == 4 ? S4 : S6, 500, 0x02, true);
	in = full;
	make_partial(&in);
	CU_ASSERT_EQUAL_FATAL(feed(lb, in.buf, in.len, &off, &p), MSLB_OK);
	CU_ASSERT_EQUAL(gd_cap.n, 0);
	if (ov == 4) {
		gue_encap(&e, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);	/* DF: the inner's, or set for IPv6 */
		CU_ASSERT(gd_match(what, p.data, p.len, &e));
		CU_ASSERT_EQUAL(p.off.flags, IO_OFF_NEEDS_CSUM);
		CU_ASSERT_EQUAL(p.off.csum_start, hl + 28);
		CU_ASSERT_EQUAL(p.off.csum_offset, field);
	} else {
		gue_encap(&e, 6, S6, B6, full.buf, full.len, 0, false, GUE_PORT);
		CU_ASSERT(gd_match(what, p.data, p.len, &e));
		CU_ASSERT_EQUAL(p.off.flags & IO_OFF_NEEDS_CSUM, 0);
		CU_ASSERT(tp_l4_csum_ok(p.data, p.data + 40, p.len - 40, 17, true));
		CU_ASSERT(tp_l4_csum_ok(p.data + 48, p.data + 48 + hl, full.len - hl, proto, true));
	}
	CU_ASSERT_EQUAL(p.off.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	tl_lb_free(lb, cfg);
}

static void test_gue_front_offload(void)
{
	partial_one(FRONT("", GUE), 4, PG_UDP, 4);
	partial_one(FRONT("", GUE), 4, PG_TCP, 4);
	partial_one(FRONT("", GUE), 6, PG_TCP, 6);
	partial_one(FRONT("", GUE), 6, PG_UDP, 6);
	partial_one(FRONT("", GUE "outer = \"ipv6\";"), 4, PG_UDP, 6);
	partial_one(FRONT("", GUE "outer = \"ipv6\";"), 4, PG_TCP, 6);
	partial_one(FRONT("", GUE "outer = \"ipv4\";"), 6, PG_TCP, 4);
	partial_one(FRONT("", GUE "outer = \"ipv4\";"), 6, PG_UDP, 4);
}

/* ---- status ---------------------------------------------------------------- */

#define STATUS_CONF \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = \"encapsulate\";\n" \
	"  next_hops = (\n" \
	"    { name = \"g\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; encapsulation = \"gue\"; path_mtu = 1400; },\n" \
	"    { name = \"i\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; path_mtu = 1400; },\n" \
	"    { name = \"t\"; ipv4 = \"198.51.100.13\"; mode = \"translate\"; },\n" \
	"    { name = \"g6\"; ipv4 = \"198.51.100.14\"; ipv6 = \"2001:db8:b::14\"; encapsulation = \"gue\";\n" \
	"      outer = \"ipv6\"; path_mtu = 1400; },\n" \
	"    { name = \"g4\"; ipv4 = \"198.51.100.15\"; ipv6 = \"2001:db8:b::15\"; encapsulation = \"gue\";\n" \
	"      outer = \"ipv4\"; }\n" \
	"  );\n" \
	"  unmatched = \"g\";\n" \
	"};\n"

static void status_of(const struct mslb_lb *lb, struct strbuf *json)
{
	struct io_backend tun = { .kind = "tun", .name = "mslb0", .fd = -1 };
	struct status_info si = { .pid = 7, .config_file = "/etc/mslb.conf", .loaded_at = "2024-05-01 12:00:00",
				  .io = &tun, .lb = lb, .now = 10 };

	sb_init(json);
	status_json(&si, json);
}

static void has(const char *json, const char *part)
{
	bool ok = strstr(json, part) != NULL;

	if (!ok)
		printf("\n  status lacks: %s\n  status: %s", part, json);
	CU_ASSERT(ok);
}

static void test_gue_status(void)
{
	static struct gd_pkt sent;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_of(STATUS_CONF, &cfg);
	struct strbuf json;
	struct lb_nh_tunnel t;
	struct io_pkt p;
	struct pg_pkt in;
	uint8_t icmp[GD_XBUF];
	uint32_t n;

	lb_set_time(lb, 10);
	status_of(lb, &json);
	has(sb_str(&json),
	    "\"name\":\"g\",");
	has(sb_str(&json),
	    "\"mode\":\"encapsulate\",\"outer\":\"same\",\"encapsulation\":\"gue\","
	    "\"families\":[\"ipv4 in ipv4\",\"ipv6 in ipv6\"],"
	    "\"tunnel\":[{\"outer\":\"ipv4\",\"path_mtu\":1400,\"tunnel_mtu\":1372,\"source\":\"config\",\"expires_in\":0},"
	    "{\"outer\":\"ipv6\",\"path_mtu\":1400,\"tunnel_mtu\":1352,\"source\":\"config\",\"expires_in\":0}],"
	    "\"encapsulated\":0,");
	has(sb_str(&json),
	    "\"mode\":\"encapsulate\",\"outer\":\"same\",\"encapsulation\":\"ip\","
	    "\"families\":[\"ipv4 in ipv4\",\"ipv6 in ipv6\"],"
	    "\"tunnel\":[{\"outer\":\"ipv4\",\"path_mtu\":1400,\"tunnel_mtu\":1380,\"source\":\"config\",\"expires_in\":0},"
	    "{\"outer\":\"ipv6\",\"path_mtu\":1400,\"tunnel_mtu\":1360,\"source\":\"config\",\"expires_in\":0}],");
	has(sb_str(&json), "\"mode\":\"translate\",\"outer\":null,\"encapsulation\":null,\"families\":[],\"tunnel\":[]}");
	has(sb_str(&json),
	    "\"mode\":\"encapsulate\",\"outer\":\"ipv6\",\"encapsulation\":\"gue\","
	    "\"families\":[\"ipv4 in ipv6\",\"ipv6 in ipv6\"],"
	    "\"tunnel\":[{\"outer\":\"ipv6\",\"path_mtu\":1400,\"tunnel_mtu\":1352,\"source\":\"config\",\"expires_in\":0}],");
	has(sb_str(&json),
	    "\"mode\":\"encapsulate\",\"outer\":\"ipv4\",\"encapsulation\":\"gue\","
	    "\"families\":[\"ipv4 in ipv4\",\"ipv6 in ipv4\"],"
	    "\"tunnel\":[{\"outer\":\"ipv4\",\"path_mtu\":1500,\"tunnel_mtu\":1472,\"source\":\"default\","
	    "\"expires_in\":0}],");
	sb_free(&json);

	/* An error about a GUE packet: the path MTU learned, tunnel MTU - 28. */
	gd_client(&in, 4, 1300, 0, true);
	CU_ASSERT_EQUAL_FATAL(feed(lb, in.buf, in.len, NULL, &p), MSLB_OK);
	gue_encap(&sent, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
	CU_ASSERT_FATAL(gd_match("status: sent", p.data, p.len, &sent));
	n = gd_icmp_msg(icmp, 4, R4, S4, 0, 3, 4, 1200, sent.b, 548);
	CU_ASSERT_EQUAL(feed(lb, icmp, n, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(gd_cap.n, 1);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1200);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1172);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
	status_of(lb, &json);
	has(sb_str(&json),
	    "\"mode\":\"encapsulate\",\"outer\":\"same\",\"encapsulation\":\"gue\","
	    "\"families\":[\"ipv4 in ipv4\",\"ipv6 in ipv6\"],"
	    "\"tunnel\":[{\"outer\":\"ipv4\",\"path_mtu\":1200,\"tunnel_mtu\":1172,\"source\":\"icmp\",\"expires_in\":600},"
	    "{\"outer\":\"ipv6\",\"path_mtu\":1400,\"tunnel_mtu\":1352,\"source\":\"config\",\"expires_in\":0}],"
	    "\"encapsulated\":1,\"fragments\":0,\"segments\":0,\"uso\":0,\"udp_tunnel\":0,\"icmp_sent\":1,\"icmp_received\":1,");
	sb_free(&json);
	tl_lb_free(lb, cfg);
}

/* ---- ICMP errors about the front's GUE packets --------------------------- */

static struct gd_pkt outer_sent;

static void check_icmp_v4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1272);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT(t.expires_in[0] > 598.9 && t.expires_in[0] < 599.1);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 1);
	CU_ASSERT_EQUAL(ts.icmp_sent, 2);
}

/* A router says the path is 1300 bytes: the tunnel MTU drops to 1272,
 * and the client hears that. */
static void build_icmp_v4(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0x28, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
	outer_sent = s->out;

	s = gd_add(c, "router: fragmentation needed, MTU 1300", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1300, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1272, outer_sent.b + 28, 520);

	s = gd_add(c, "1400 bytes now too big: MTU 1272", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1272, in.buf, 548);
	s->check = check_icmp_v4;

	s = gd_add(c, "1272 bytes fit", 11, MSLB_OK);
	gd_client(&in, 4, 1272, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true, GUE_PORT);

	s = gd_add(c, "host unreachable about it: relayed", 12, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 1, 0, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 1, 0, outer_sent.b + 28, 520);
}

static void check_icmp_v6(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1400);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1352);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
}

static void build_icmp_v6(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1450 bytes go through", 10, MSLB_OK);
	gd_client(&in, 6, 1450, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
	outer_sent = s->out;

	s = gd_add(c, "router: packet too big, MTU 1400", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, outer_sent.b, 1232);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1352, outer_sent.b + 48, 1184);
	s->check = check_icmp_v6;

	s = gd_add(c, "1450 bytes now too big: MTU 1352", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1352, in.buf, 1232);

	s = gd_add(c, "1352 bytes fit", 11, MSLB_OK);
	gd_client(&in, 6, 1352, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
}

/* IPv6 clients over IPv4 GUE: the IPv4 error becomes an ICMPv6 one. */
static void build_icmp_6in4(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes go through", 10, MSLB_OK);
	gd_client(&in, 6, 1400, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
	outer_sent = s->out;

	s = gd_add(c, "router: fragmentation needed, MTU 1350", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1350, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1322, outer_sent.b + 28, 520);

	s = gd_add(c, "1400 bytes now too big: MTU 1322", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 6, S6, C6, 2, 0, 1322, in.buf, 1232);

	s = gd_add(c, "1322 bytes fit", 11, MSLB_OK);
	gd_client(&in, 6, 1322, 0, false);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true, GUE_PORT);
}

/* IPv4 clients over IPv6 GUE: the ICMPv6 error becomes an IPv4 one. */
static void build_icmp_4in6(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0x04, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
	outer_sent = s->out;

	s = gd_add(c, "router: packet too big, MTU 1400", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, outer_sent.b, 1232);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1352, outer_sent.b + 48, 548);

	s = gd_add(c, "1400 bytes now too big: MTU 1352", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1352, in.buf, 548);

	s = gd_add(c, "1352 bytes fit", 11, MSLB_OK);
	gd_client(&in, 4, 1352, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false, GUE_PORT);
}

static void check_short(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 0);
}

/* RFC 792's quote, the outer header and 8 bytes: the UDP header only.
 * The MTU is learned; there is nothing to relay. */
static void build_icmp_short(struct gd_script *c)
{
	static struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
	outer_sent = s->out;

	s = gd_add(c, "router: MTU 1300, a quote of 28 bytes", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1300, outer_sent.b, 28);
	s->check = check_short;

	s = gd_add(c, "1400 bytes now too big: MTU 1272", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1272, in.buf, 548);
}

static void check_not_ours(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 0);
	CU_ASSERT_EQUAL(ts.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 0);
	CU_ASSERT_EQUAL(ts.icmp_followed, 1);
}

/* gue_port 5555: an error quoting UDP from the service to a next hop's
 * port 6080 is not about a tunnel: it is about a server's packet, and
 * goes (in GUE) where that "client's" packets go; one quoting 5555 is. */
static void build_icmp_port(struct gd_script *c)
{
	static struct pg_pkt in;
	static struct gd_pkt icmp;
	struct gd_step *s;

	s = gd_add(c, "1400 bytes with DF go through, to port 5555", 10, MSLB_OK);
	gd_client(&in, 4, 1400, 0, true);
	gd_set(&s->in, in.buf, in.len);
	gue_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true, 5555);
	outer_sent = s->out;

	s = gd_add(c, "an error quoting port 6080: a server's packet", 10, MSLB_OK);
	gue_encap(&icmp, 4, S4, B4, in.buf, in.len, 0, true, GUE_PORT);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1300, icmp.b, 548);
	gue_encap(&s->out, 4, S4, B4, s->in.b, s->in.len, 1, false, 5555);
	s->check = check_not_ours;

	s = gd_add(c, "an error quoting port 5555: about the tunnel", 10, MSLB_OK);
	s->in.len = gd_icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1300, outer_sent.b, 548);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1272, outer_sent.b + 28, 520);

	s = gd_add(c, "1400 bytes now too big: MTU 1272", 11, MSLB_DROP_TOO_BIG);
	gd_set(&s->in, in.buf, in.len);
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 1272, in.buf, 548);
}

static void test_gue_icmp(void)
{
	static const struct gd_case g[] = {
		{ "icmp about gue (ipv4)", FRONT("", GUE), build_icmp_v4 },
		{ "icmp about gue (ipv6)", FRONT("", GUE), build_icmp_v6 },
		{ "icmp about gue (6 in 4)", FRONT("", GUE "outer = \"ipv4\";"), build_icmp_6in4 },
		{ "icmp about gue (4 in 6)", FRONT("", GUE "outer = \"ipv6\";"), build_icmp_4in6 },
		{ "icmp about gue, short quote", FRONT("", GUE), build_icmp_short },
		{ "icmp about gue, gue_port 5555", FRONT("  gue_port = 5555;\n", GUE), build_icmp_port },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- the back ---------------------------------------------------------------- */

static void check_back(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 5);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 3);	/* outer destination B4 */
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).bytes, 400 + 400 + 500);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 2);	/* B6 */
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).bytes, 400 + 400);
}

static void build_back(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "4 in 4", 1, MSLB_OK);
	gd_client(&in, 4, 400, 0x28, true);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "6 in 6", 1, MSLB_OK);
	gd_client(&in, 6, 400, 0x28, false);
	gue_in(s, 6, S6, B6, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "4 in 6", 1, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, C4, S4, 400, 0, false);
	gue_in(s, 6, S6, B6, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "6 in 4", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, C6, S6, 400, 0, false);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "4 in 4, an inner fragment", 1, MSLB_OK);
	{
		struct pg_pkt w;

		gd_client(&w, 4, 2000, 0, false);
		pg_fragment(&w, 960, 480, true, &in);
	}
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);
	s->check = check_back;
}

static void build_back_refused(struct gd_script *c)
{
	struct pg_pkt in, in6;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	gd_client(&in6, 6, 200, 0, false);
	s = gd_add(c, "outer source not allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gue_in(s, 4, "198.51.100.99", B4, in.buf, in.len, GUE_PORT);
	s = gd_add(c, "outer source not allowed (IPv6)", 1, MSLB_DROP_TUNNEL_SOURCE);
	gue_in(s, 6, "2001:db8:99::1", B6, in6.buf, in6.len, GUE_PORT);
	s = gd_add(c, "not allowed, whatever the payload", 1, MSLB_DROP_TUNNEL_SOURCE);
	gue_in(s, 4, "198.51.100.99", B4, in.buf, in.len, GUE_PORT);
	s->in.b[28] = 0x55;
	s = gd_add(c, "inner destination not a service", 1, MSLB_DROP_TUNNEL_INNER_DST);
	gd_mk(&in, 4, PG_UDP, C4, "203.0.113.99", 200, 0, true);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	s = gd_add(c, "inner destination not a service (IPv6)", 1, MSLB_DROP_TUNNEL_INNER_DST);
	gd_mk(&in6, 6, PG_UDP, C6, "2001:db8:5::99", 200, 0, false);
	gue_in(s, 6, S6, B6, in6.buf, in6.len, GUE_PORT);
}

static void check_none(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 0);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 0);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 0);
}

/* Payloads that are not an IP packet. */
static void build_back_not_ip(struct gd_script *c)
{
	struct pg_pkt in, in6;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	gd_client(&in6, 6, 200, 0, false);
	s = gd_add(c, "payload of version 5", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	s->in.b[28] = 0x55;
	s = gd_add(c, "a GUE header (variant 0) is not IP", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 6, S6, B6, in6.buf, in6.len, GUE_PORT);
	s->in.b[48] = 0x00;
	s->in.b[48 + 1] = 0x00;
	pg_put16(s->in.b + 46, 0);
	pg_put16(s->in.b + 46, udp6_csum(s->in.b, s->in.b + 40, s->in.len - 40));
	s = gd_add(c, "nothing after the UDP header", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 4, S4, B4, in.buf, 0, GUE_PORT);
	s = gd_add(c, "inner IPv4 header checksum wrong", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	s->in.b[28 + 10] ^= 0x40;
	s = gd_add(c, "inner IPv6 payload length beyond the packet", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 4, S4, B4, in6.buf, in6.len, GUE_PORT);
	pg_put16(s->in.b + 28 + 4, (uint16_t)(pg_get16(s->in.b + 28 + 4) + 1));
	s = gd_add(c, "inner IPv4 cut short of its total length", 1, MSLB_DROP_TUNNEL_INNER);
	gue_in(s, 6, S6, B6, in.buf, in.len, GUE_PORT);
	s->in.len -= 1;
	pg_put16(s->in.b + 4, (uint16_t)(s->in.len - 40));
	pg_put16(s->in.b + 44, (uint16_t)(s->in.len - 40));
	pg_put16(s->in.b + 46, 0);
	pg_put16(s->in.b + 46, udp6_csum(s->in.b, s->in.b + 40, s->in.len - 40));
	s->check = check_none;
}

/* back.allowed_sources replaces the default (the services). */
static void build_back_allowed(struct gd_script *c)
{
	struct pg_pkt in, in6;
	struct gd_step *s;

	gd_client(&in, 4, 200, 0, true);
	gd_client(&in6, 6, 200, 0, false);
	s = gd_add(c, "from IP_S: no longer allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	s = gd_add(c, "from IP_S (IPv6): no longer allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	gue_in(s, 6, S6, B6, in6.buf, in6.len, GUE_PORT);
	s = gd_add(c, "from 198.51.100.5: allowed", 1, MSLB_OK);
	gue_in(s, 4, "198.51.100.5", B4, in6.buf, in6.len, GUE_PORT);
	gd_set(&s->out, in6.buf, in6.len);
	s = gd_add(c, "from 2001:db8:77::9: allowed", 1, MSLB_OK);
	gue_in(s, 6, "2001:db8:77::9", B6, in.buf, in.len, GUE_PORT);
	gd_set(&s->out, in.buf, in.len);
}

/* ECN (RFC 6040 4.2): an outer CE reaches an ECT inner packet; a Not-ECT
 * one is dropped; other outer marks leave the inner packet alone. */
static void build_back_ecn(struct gd_script *c)
{
	static const struct {
		const char *what;
		int ov, inf;
		uint8_t itos, oecn;
		bool drop;
	} k[] = {
		{ "4 in 4: outer CE, inner ECT(0): inner CE", 4, 4, 0x2a, 3, false },
		{ "6 in 6: outer CE, inner ECT(1): inner CE", 6, 6, 0x29, 3, false },
		{ "4 in 6: outer CE, inner ECT(0): inner CE", 6, 4, 0xb6, 3, false },
		{ "6 in 4: outer CE, inner CE", 4, 6, 0x03, 3, false },
		{ "4 in 4: outer ECT(0), inner Not-ECT: unchanged", 4, 4, 0x28, 2, false },
		{ "4 in 4: outer CE, inner Not-ECT: dropped", 4, 4, 0x28, 3, true },
		{ "6 in 6: outer CE, inner Not-ECT: dropped", 6, 6, 0x00, 3, true },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		struct pg_pkt in;
		struct gd_step *s = gd_add(c, k[i].what, 1, k[i].drop ? MSLB_DROP_TUNNEL_INNER : MSLB_OK);

		gd_client(&in, k[i].inf, 300, k[i].itos, k[i].inf == 4);
		gue_in(s, k[i].ov, k[i].ov == 4 ? S4 : S6, k[i].ov == 4 ? B4 : B6, in.buf, in.len, GUE_PORT);
		pg_set_tos(s->in.b, (uint8_t)((pg_tos(s->in.b) & 0xfc) | k[i].oecn));
		if (k[i].ov == 4)
			tp_ip4_csum(s->in.b);
		if (k[i].drop)
			continue;
		if (k[i].oecn == 3 && (k[i].itos & 3)) {
			pg_set_tos(in.buf, (uint8_t)(k[i].itos | 3));
			pg_recompute(&in);
		}
		gd_set(&s->out, in.buf, in.len);
	}
}

static void test_gue_back(void)
{
	static const struct gd_case g[] = {
		{ "gue back", GBACK(""), build_back },
		{ "gue back refused", GBACK(""), build_back_refused },
		{ "gue back, not ip inside", GBACK(""), build_back_not_ip },
		{ "gue back allowed_sources",
		  GBACK("  allowed_sources = [ \"198.51.100.5\", \"2001:db8:77::/48\" ];\n"), build_back_allowed },
		{ "gue back ecn", GBACK(""), build_back_ecn },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* x: in translated by the back to service to (IP_B -> IP_S): the
 * destination and the checksums (a UDP checksum 0 over IPv4 stays 0). */
static void translated(struct gd_pkt *x, const struct gd_pkt *in, const char *to)
{
	uint8_t *b = x->b;
	bool v4 = (in->b[0] >> 4) == 4;
	unsigned hl = v4 ? 20 : 40, alen = v4 ? 4 : 16;
	uint8_t proto = in->b[v4 ? 9 : 6];
	uint32_t l4len = in->len - hl;
	uint64_t acc;
	unsigned field = proto == PG_TCP ? 16 : 6;

	*x = *in;
	memcpy(b + (v4 ? 16 : 24), tl_ip(to), alen);
	if (v4)
		tp_ip4_csum(b);
	if (proto == PG_UDP && v4 && !pg_get16(b + hl + 6))
		return;
	pg_put16(b + hl + field, 0);
	acc = ref_sum(0, b + (v4 ? 12 : 8), 2 * alen);
	acc += l4len + proto;
	acc = ref_sum(acc, b + hl, l4len);
	{
		uint16_t c = (uint16_t)~ref_fold(acc);

		if (!c && proto == PG_UDP)
			c = 0xffff;
		pg_put16(b + hl + field, c);
	}
}

static void check_ports(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 0);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 3);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 1);
}

/* UDP to another port of a back address, and TCP to 6080: a client's
 * packet to IP_B, translated to IP_S. */
static void build_back_ports(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "UDP to B4 port 53: translated", 1, MSLB_OK);
	gd_mk(&in, 4, PG_UDP, C4, B4, 200, 0, true);
	pg_put16(in.buf + 22, 53);
	pg_recompute(&in);
	gd_set(&s->in, in.buf, in.len);
	translated(&s->out, &s->in, S4);

	s = gd_add(c, "GUE-looking UDP to B4 port 6081: translated", 1, MSLB_OK);
	gd_client(&in, 4, 200, 0, true);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT + 1);
	translated(&s->out, &s->in, S4);

	s = gd_add(c, "GUE-looking UDP to B6 port 6079: translated", 1, MSLB_OK);
	gd_client(&in, 6, 200, 0, false);
	gue_in(s, 6, S6, B6, in.buf, in.len, GUE_PORT - 1);
	translated(&s->out, &s->in, S6);

	s = gd_add(c, "TCP to B4 port 6080: translated", 1, MSLB_OK);
	gd_mk(&in, 4, PG_TCP, C4, B4, 200, 0, true);
	pg_put16(in.buf + 22, GUE_PORT);
	pg_recompute(&in);
	gd_set(&s->in, in.buf, in.len);
	translated(&s->out, &s->in, S4);
	s->check = check_ports;
}

static void check_port0(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 1);	/* the IP-in-IP one */
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 1);
	CU_ASSERT_EQUAL(lb_config(lb)->back.gue_port, 0);
}

/* back.gue_port = 0: no GUE, port 6080 is a client's as any other. */
static void build_back_port0(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "GUE to B4 port 6080: translated", 1, MSLB_OK);
	gd_client(&in, 4, 200, 0, true);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	translated(&s->out, &s->in, S4);

	s = gd_add(c, "GUE to B6 port 6080: translated", 1, MSLB_OK);
	gd_client(&in, 6, 200, 0, false);
	gue_in(s, 6, S6, B6, in.buf, in.len, GUE_PORT);
	translated(&s->out, &s->in, S6);

	s = gd_add(c, "IP-in-IP still taken apart", 1, MSLB_OK);
	gd_client(&in, 4, 200, 0, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	gd_set(&s->out, in.buf, in.len);
	s->check = check_port0;
}

static void check_port7777(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 2);
}

/* back.gue_port = 7777: GUE there, 6080 a client's port. */
static void build_back_port7777(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "GUE to B4 port 7777: decapsulated", 1, MSLB_OK);
	gd_client(&in, 4, 200, 0, true);
	gue_in(s, 4, S4, B4, in.buf, in.len, 7777);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "GUE to B6 port 7777: decapsulated", 1, MSLB_OK);
	gd_client(&in, 4, 200, 0, true);
	gue_in(s, 6, S6, B6, in.buf, in.len, 7777);
	gd_set(&s->out, in.buf, in.len);

	s = gd_add(c, "GUE to B4 port 6080: translated", 1, MSLB_OK);
	gd_client(&in, 6, 200, 0, false);
	gue_in(s, 4, S4, B4, in.buf, in.len, GUE_PORT);
	translated(&s->out, &s->in, S4);
	s->check = check_port7777;
}

static void test_gue_back_ports(void)
{
	static const struct gd_case g[] = {
		{ "gue back, other ports", GBACK(""), build_back_ports },
		{ "gue back, gue_port 0", BACK("  gue_port = 0;\n"), build_back_port0 },
		{ "gue back, no gue_port (the default)", BACK(""), build_back_port0 },
		{ "gue back, gue_port 7777", BACK("  gue_port = 7777;\n"), build_back_port7777 },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* Offloads at the back: a partial checksum that is the outer UDP one goes
 * with the outer header; a GSO tunnel packet, or offsets inside the outer
 * header, are refused. */
static void test_gue_back_offload(void)
{
	static struct gd_pkt x;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_of(GBACK(""), &cfg);
	struct io_offload off;
	struct io_pkt p;
	struct pg_pkt in;

	for (int ov = 4; ov <= 6; ov += 2) {
		unsigned hl = ov == 4 ? 20 : 40;

		gd_mk(&in, 4, PG_TCP, C4, S4, 300, 0, true);
		x.len = gue_build(x.b, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), in.buf, in.len, 1, false,
				  50000, GUE_PORT);
		off = partial_off(hl, 6);
		CU_ASSERT_EQUAL(feed(lb, x.b, x.len, &off, &p), MSLB_OK);
		CU_ASSERT(tp_same("outer UDP partial", p.data, p.len, in.buf, in.len));
		CU_ASSERT_EQUAL(p.off.flags & IO_OFF_NEEDS_CSUM, 0);

		off = partial_off(10, 6);
		CU_ASSERT_EQUAL(feed(lb, x.b, x.len, &off, &p), MSLB_DROP_BAD_OFFLOAD);

		off = partial_off(hl, 6);
		off.gso_type = VIRTIO_NET_HDR_GSO_UDP;
		off.gso_size = 100;
		CU_ASSERT_EQUAL(feed(lb, x.b, x.len, &off, &p), MSLB_DROP_BAD_OFFLOAD);
	}
	tl_lb_free(lb, cfg);
}

/* A GUE packet whose partial checksum is the inner packet's (the kernel's
 * own UDP tunnels leave it so with local checksum offload): taken apart as
 * an IP-in-IP one is (golden_offload), csum_start moved back by 28 or 48. */
static void test_gue_back_offload_inner(void)
{
	static struct gd_pkt x;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_of(GBACK(""), &cfg);
	static const struct {
		int ov, inf;
		uint8_t proto;
	} k[] = { { 4, 4, PG_UDP }, { 6, 6, PG_TCP }, { 6, 4, PG_TCP }, { 4, 6, PG_UDP } };

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		unsigned ovh = k[i].ov == 4 ? 28 : 48, hl = k[i].inf == 4 ? 20 : 40, field = pg_csum_field(k[i].proto);
		struct io_offload off = partial_off(ovh + hl, field);
		struct pg_pkt in;
		struct io_pkt p;
		enum mslb_drop r;
		char what[64];

		snprintf(what, sizeof(what), "inner partial, %d in %d", k[i].inf, k[i].ov);
		gd_mk(&in, k[i].inf, k[i].proto, k[i].inf == 4 ? C4 : C6, k[i].inf == 4 ? S4 : S6, 300, 0, true);
		make_partial(&in);
		x.len = gue_build(x.b, k[i].ov, tl_ip(k[i].ov == 4 ? S4 : S6), tl_ip(k[i].ov == 4 ? B4 : B6), in.buf,
				  in.len, 1, false, 50000, GUE_PORT);
		r = feed(lb, x.b, x.len, &off, &p);
		CU_ASSERT_EQUAL(r, MSLB_OK);
		if (r != MSLB_OK) {
			printf("\n  %s: %s", what, mslb_drop_name(r));
			continue;
		}
		CU_ASSERT(tp_same(what, p.data, p.len, in.buf, in.len));
		CU_ASSERT_EQUAL(p.off.flags, IO_OFF_NEEDS_CSUM);
		CU_ASSERT_EQUAL(p.off.csum_start, hl);
		CU_ASSERT_EQUAL(p.off.csum_offset, field);
	}
	tl_lb_free(lb, cfg);
}

/* ---- a front's GUE through a back --------------------------------------- */

static struct gd_pkt rt_out[GD_MAX_EMIT];

/* pkt through front (offloads off), then each packet it makes through
 * back: the packets expect[0..n) come out, in order. */
static void round_trip(const char *what, struct mslb_lb *front, struct mslb_lb *back, const uint8_t *pkt,
		       uint32_t len, const struct io_offload *off, const struct pg_pkt *expect, unsigned n)
{
	unsigned got = 0;
	struct io_pkt p;
	char w[128];

	CU_ASSERT_EQUAL_FATAL(feed(front, pkt, len, off, &p), MSLB_OK);
	if (p.len) {
		CU_ASSERT_EQUAL(gd_cap.n, 0);
		gd_set(&rt_out[got++], p.data, p.len);
	} else {
		CU_ASSERT_FATAL(gd_cap.n <= GD_MAX_EMIT);
		for (unsigned k = 0; k < gd_cap.n; k++)
			rt_out[got++] = gd_cap.p[k];
	}
	CU_ASSERT_EQUAL(got, n);
	for (unsigned k = 0; k < got && k < n; k++) {
		const uint8_t *o = rt_out[k].b;
		bool v4 = (o[0] >> 4) == 4;
		enum mslb_drop r;

		snprintf(w, sizeof(w), "%s: packet %u", what, k);
		/* On the wire: UDP to 6080, checksum none or right. */
		CU_ASSERT_EQUAL(o[v4 ? 9 : 6], 17);
		CU_ASSERT_EQUAL(pg_get16(o + (v4 ? 22 : 42)), GUE_PORT);
		if (v4) {
			CU_ASSERT_EQUAL(pg_get16(o + 26), 0);
		} else {
			CU_ASSERT(tp_l4_csum_ok(o, o + 40, rt_out[k].len - 40, 17, true));
		}
		r = feed(back, rt_out[k].b, rt_out[k].len, NULL, &p);
		CU_ASSERT_EQUAL(r, MSLB_OK);
		if (r == MSLB_OK)
			CU_ASSERT(tp_same(w, p.data, p.len, expect[k].buf, expect[k].len));
	}
}

static void test_gue_round_trip(void)
{
	static const char *const fronts[] = {
		FRONT("", GUE), FRONT("", GUE "outer = \"ipv6\";"), FRONT("", GUE "outer = \"ipv4\";"),
		FRONT("", GUE "path_mtu = 1000;"),
	};
	struct mslb_config *bcfg;
	struct mslb_lb *back = lb_of(GBACK(""), &bcfg);
	struct lb_tunnel_stats ts;
	uint64_t n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(fronts); i++) {
		struct mslb_config *fcfg;
		struct mslb_lb *front = lb_of(fronts[i], &fcfg);
		char what[96];

		for (int family = 4; family <= 6; family += 2) {
			static const unsigned sizes[] = { 28, 100, 952, 1232 };
			struct pg_pkt in, f[3], sp, segs[4];
			unsigned hl = family == 4 ? 40 : 60;

			for (unsigned z = 0; z < ARRAY_SIZE(sizes); z++)
				for (int k = 0; k < 2; k++) {
					uint8_t proto = k ? PG_TCP : PG_UDP;

					if (sizes[z] < (family == 4 ? 20u : 40u) + pg_l4_hdrlen(proto) ||
					    (i == 3 && sizes[z] > 952))
						continue;
					snprintf(what, sizeof(what), "front %u, IPv%d %s of %u", i, family,
						 k ? "TCP" : "UDP", sizes[z]);
					gd_mk(&in, family, proto, family == 4 ? C4 : C6, family == 4 ? S4 : S6, sizes[z],
					      (uint8_t)(z * 0x29), family == 4);
					round_trip(what, front, back, in.buf, in.len, NULL, &in, 1);
					n++;
				}
			/* IPv4 without DF: inner fragments, each through. */
			if (family == 4 && i == 3) {
				gd_client(&in, 4, 2000, 0, false);
				pg_fragment(&in, 0, 952, true, &f[0]);
				pg_fragment(&in, 952, 952, true, &f[1]);
				pg_fragment(&in, 1904, 76, false, &f[2]);
				round_trip("fragments", front, back, in.buf, in.len, NULL, f, 3);
				n += 3;
			}
			/* A GSO super-packet: the segments, each through. */
			if (i < 3) {
				gd_mk(&sp, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 3500, 0,
				      true);
				for (unsigned k = 0; k < 4; k++)
					tp_seg(&segs[k], &sp, hl, k, 1000);
				{
					struct io_offload o = gso_off(family, hl);

					snprintf(what, sizeof(what), "front %u, GSO IPv%d", i, family);
					round_trip(what, front, back, sp.buf, sp.len, &o, segs, 4);
				}
				n += 4;
			}
			/* A partial checksum over an IPv6 outer: finished. */
			if (i == 1 || (i == 0 && family == 6)) {
				struct pg_pkt part;
				struct io_offload o = partial_off(family == 4 ? 20 : 40, 16);

				gd_mk(&in, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, 600, 0, true);
				part = in;
				make_partial(&part);
				snprintf(what, sizeof(what), "front %u, partial IPv%d", i, family);
				round_trip(what, front, back, part.buf, part.len, &o, &in, 1);
				n++;
			}
		}
		tl_lb_free(front, fcfg);
	}
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, n);
	CU_ASSERT_EQUAL(lb_drops(back, MSLB_DROP_TUNNEL_INNER), 0);
	tl_lb_free(back, bcfg);
}

/* A partial checksum over an IPv4 outer stays the kernel's to finish: a
 * back on the same host takes the packet apart with it (csum_start back
 * by 28), the inner packet as the client sent it. */
static void test_gue_round_trip_partial(void)
{
	static const struct {
		const char *conf;
		int family;
		uint8_t proto;
	} k[] = {
		{ FRONT("", GUE), 4, PG_UDP },
		{ FRONT("", GUE "outer = \"ipv4\";"), 6, PG_TCP },
	};
	struct mslb_config *bcfg;
	struct mslb_lb *back = lb_of(GBACK(""), &bcfg);

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		static struct gd_pkt mid;
		struct mslb_config *fcfg;
		struct mslb_lb *front = lb_of(k[i].conf, &fcfg);
		unsigned hl = k[i].family == 4 ? 20 : 40, field = pg_csum_field(k[i].proto);
		struct io_offload off = partial_off(hl, field), moff;
		struct pg_pkt in;
		struct io_pkt p;

		gd_mk(&in, k[i].family, k[i].proto, k[i].family == 4 ? C4 : C6, k[i].family == 4 ? S4 : S6, 400, 0,
		      true);
		make_partial(&in);
		CU_ASSERT_EQUAL_FATAL(feed(front, in.buf, in.len, &off, &p), MSLB_OK);
		gd_set(&mid, p.data, p.len);
		moff = p.off;
		CU_ASSERT_EQUAL(moff.csum_start, hl + 28);
		CU_ASSERT_EQUAL(feed(back, mid.b, mid.len, &moff, &p), MSLB_OK);
		CU_ASSERT(tp_same("partial round trip", p.data, p.len, in.buf, in.len));
		CU_ASSERT_EQUAL(p.off.flags, IO_OFF_NEEDS_CSUM);
		CU_ASSERT_EQUAL(p.off.csum_start, hl);
		CU_ASSERT_EQUAL(p.off.csum_offset, field);
		tl_lb_free(front, fcfg);
	}
	tl_lb_free(back, bcfg);
}

/* A partial checksum on a packet too big for the tunnel, without DF: the
 * inner fragments carry the finished checksum, each in its own GUE. */
static void build_partial_frag(struct gd_script *c)
{
	struct pg_pkt full, in, f;
	struct gd_step *s = gd_add(c, "IPv4 UDP without DF, partial, too big", 1, MSLB_OK);

	gd_client(&full, 4, 2000, 0, false);
	in = full;
	make_partial(&in);
	gd_set(&s->in, in.buf, in.len);
	s->off = partial_off(20, 6);
	pg_fragment(&full, 0, 952, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 0, false, GUE_PORT);
	pg_fragment(&full, 952, 952, true, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 1, false, GUE_PORT);
	pg_fragment(&full, 1904, 76, false, &f);
	gue_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 2, false, GUE_PORT);
}

static void test_gue_front_offload_fragments(void)
{
	static const struct gd_case g = { "gue, partial, fragments", FRONT("", GUE "path_mtu = 1000;"),
					  build_partial_frag };

	gd_run(&g);
}

/* ---- UDP segmentation (USO): GSO in one GUE super-packet ------------------ */

/* What the data path emits, super-packets of up to 64 KiB included. */
#define UCAP_MAX 8

struct ucap {
	unsigned n;
	uint32_t len[UCAP_MAX];
	struct io_offload off[UCAP_MAX];
	uint8_t b[UCAP_MAX][IO_BUF_SIZE];
};

static struct ucap ucap, ucap_old;

static void ucapture(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	(void)ctx;
	if (ucap.n < UCAP_MAX && len <= IO_BUF_SIZE) {
		memcpy(ucap.b[ucap.n], pkt, len);
		ucap.len[ucap.n] = len;
		ucap.off[ucap.n] = off ? *off : (struct io_offload){ 0 };
	}
	ucap.n++;
}

/* An lb of conf emitting into ucap, toward a device with UDP segmentation
 * or not. */
static struct mslb_lb *lb_uso(const char *conf, struct mslb_config **cfg, bool uso)
{
	struct mslb_lb *lb = lb_of(conf, cfg);

	lb_set_emit(lb, ucapture, NULL);
	lb_set_emit_uso(lb, uso);
	return lb;
}

/* feed, what is emitted in ucap. */
static enum mslb_drop ufeed(struct mslb_lb *lb, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
			    struct io_pkt *p)
{
	ucap.n = 0;
	return feed(lb, pkt, len, off, p);
}

/* What a front with UDP segmentation sent of one super-packet, in the
 * order it leaves: the packet it returned (sent with the batch) first,
 * then what it emitted. */
static struct ucap wire;

static bool uring;	/* ufront: the room as a ring's, io_pkt.end (see below) */

/* pkt (len bytes, offloads off) through lb, a front with UDP
 * segmentation, shift bytes further into the buffer than feed puts it
 * (the end of the buffer nearer: the super-packet made in place must fit
 * in what is left): MSLB_OK, a packet returned, made where the input was
 * (its outer headers in the room before it); what went out in wire. */
static void ufront(struct mslb_lb *lb, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		   uint32_t shift)
{
	struct io_pkt p = { .buf = iobuf, .data = iobuf + IO_HEADROOM + shift, .len = len, .off = *off };
	uint8_t *at;
	unsigned guard = 0;

	CU_ASSERT_FATAL(shift + len <= IO_BUF_SIZE);
	/* A packet in a ring: where it lies, its end shift bytes before
	 * the buffer's, and what follows (the next frame) left alone. */
	if (uring) {
		p.data -= shift;
		p.end = iobuf + IO_HEADROOM + IO_BUF_SIZE - shift;
		guard = shift < 256 ? shift : 256;
		memset(p.end, 0x5a, guard);
	}
	at = p.data;
	memset(iobuf, 0xa5, (size_t)(at - iobuf));
	memcpy(p.data, pkt, len);
	gd_cap.n = 0;
	ucap.n = 0;
	CU_ASSERT_EQUAL_FATAL(lb_process_pkt(lb, &p), MSLB_OK);
	CU_ASSERT_FATAL(p.len > 0 && p.len <= IO_BUF_SIZE);
	CU_ASSERT_PTR_EQUAL(p.data + ((p.data[0] >> 4) == 4 ? 28 : 48), at);
	for (unsigned k = 0; k < guard; k++)
		CU_ASSERT_EQUAL_FATAL(iobuf[IO_HEADROOM + IO_BUF_SIZE - shift + k], 0x5a);
	CU_ASSERT_FATAL(ucap.n < UCAP_MAX);
	memcpy(wire.b[0], p.data, p.len);
	wire.len[0] = p.len;
	wire.off[0] = p.off;
	for (unsigned k = 0; k < ucap.n; k++) {
		memcpy(wire.b[k + 1], ucap.b[k], ucap.len[k]);
		wire.len[k + 1] = ucap.len[k];
		wire.off[k + 1] = ucap.off[k];
	}
	wire.n = ucap.n + 1;
}

/* No offload asked for: an ordinary packet. */
static bool off_none(const struct io_offload *o)
{
	return !o->flags && !o->gso_type && !o->hdr_len && !o->gso_size && !o->csum_start && !o->csum_offset;
}

static uint64_t all_drops(const struct mslb_lb *lb)
{
	uint64_t n = 0;

	for (unsigned d = 1; d < MSLB_DROP_MAX; d++)
		n += lb_drops(lb, (enum mslb_drop)d);
	return n;
}

/* The folded pseudo-header sum of the IP header h for l4len bytes of
 * proto: the partial checksum a device finishes. */
static uint16_t pseudo_sum(const uint8_t *h, uint32_t l4len, uint8_t proto)
{
	bool v4 = (h[0] >> 4) == 4;
	uint64_t acc = ref_sum(0, h + (v4 ? 12 : 8), v4 ? 8 : 32);

	acc += (l4len >> 16) + (l4len & 0xffff) + proto;
	return ref_fold(acc);
}

/* The full UDP checksum of the ulen bytes at u under h (field ignored). */
static uint16_t udp_full(const uint8_t *h, uint8_t *u, uint32_t ulen)
{
	uint16_t c;

	pg_put16(u + 6, 0);
	c = (uint16_t)~ref_fold(ref_sum(pseudo_sum(h, ulen, 17), u, ulen));
	return c ? c : 0xffff;
}

/* A super-packet too large for a pg_pkt: hdr (from gd_mk, no payload)
 * describes its headers. */
struct bigpkt {
	uint32_t len;
	uint8_t b[IO_BUF_SIZE];
};

/* A client's TCP super-packet of payload bytes to the service, TCP flags
 * flags, full checksums. */
static void big_tcp(struct bigpkt *sp, struct pg_pkt *hdr, int family, unsigned payload, uint8_t flags)
{
	unsigned hl = family == 4 ? 40 : 60;
	uint8_t *t = sp->b + hl - 20;

	gd_mk(hdr, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl, 0x12, true);
	memcpy(sp->b, hdr->buf, hl);
	pg_fill(&rng, sp->b + hl, payload);
	sp->len = hl + payload;
	t[13] = flags;
	if (family == 4) {
		pg_put16(sp->b + 2, (uint16_t)sp->len);
		tp_ip4_csum(sp->b);
	} else {
		pg_put16(sp->b + 4, (uint16_t)(sp->len - 40));
	}
	pg_put16(t + 16, 0);
	pg_put16(t + 16, (uint16_t)~ref_fold(ref_sum(pseudo_sum(sp->b, sp->len - hl + 20, PG_TCP), t,
						     sp->len - hl + 20)));
}

/* The GUE UDP GSO super-packet of the inner packets cat[0..clen) back to
 * back, from IP_S to b1 (outer family ov, IPv4 ID id, DF), source port
 * sport; the UDP checksum field the pseudo-header sum. At o; returns the
 * length. */
static uint32_t uso_build(uint8_t *o, int ov, const uint8_t *cat, uint32_t clen, uint16_t id, uint16_t sport)
{
	uint32_t n = gue_build(o, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), cat, clen, id, true, sport,
			       GUE_PORT);

	pg_put16(o + (ov == 4 ? 26 : 46), pseudo_sum(o, clen + 8, 17));
	return n;
}

/* What a datagram cut from a super-packet must be. */
struct cut_check {
	const char *what;
	int ov;
	const uint8_t *cat;
	uint32_t clen;
	unsigned size, k;
	uint16_t id, sport;
};

/* Datagram k: inner packet k in GUE, IPv4 ID id + k, UDP checksum full. */
static void cut_check_one(void *ctx, uint8_t *d, uint32_t len)
{
	static uint8_t exp[IO_BUF_SIZE + 128];
	struct cut_check *c = ctx;
	uint32_t at = c->k * c->size, n, el;
	unsigned ovh = c->ov == 4 ? 28 : 48;
	char w[128];

	snprintf(w, sizeof(w), "%s: datagram %u", c->what, c->k);
	c->k++;
	if (at >= c->clen) {
		CU_FAIL("more datagrams than inner packets");
		return;
	}
	n = c->clen - at < c->size ? c->clen - at : c->size;
	el = gue_build(exp, c->ov, tl_ip(c->ov == 4 ? S4 : S6), tl_ip(c->ov == 4 ? B4 : B6), c->cat + at, n,
		       (uint16_t)(c->id + c->k - 1), true, c->sport, GUE_PORT);
	pg_put16(exp + ovh - 2, udp_full(exp, exp + ovh - 8, n + 8));
	tp_take_label(exp, d);
	CU_ASSERT(tp_same(w, d, len, exp, el));
}

/* got (glen bytes, metadata goff): the inner packets cat[0..clen), each
 * size bytes but the last, in one UDP GSO super-packet of outer family ov
 * and IPv4 ID id; cut as the kernel cuts it, one GUE datagram each. */
static void check_uso(const char *what, int ov, uint8_t *got, uint32_t glen, const struct io_offload *goff,
		      const uint8_t *cat, uint32_t clen, unsigned size, uint16_t id)
{
	static uint8_t exp[IO_BUF_SIZE + 128], out[IO_HEADROOM + IO_BUF_SIZE];
	unsigned ovh = ov == 4 ? 28 : 48, n = (clen + size - 1) / size;
	uint16_t sport = encap_gue_sport(cat, clen < size ? clen : size);
	struct cut_check c = { what, ov, cat, clen, size, 0, id, sport };
	struct pkt_view v;
	uint32_t el;

	CU_ASSERT(sport >= 49152);
	el = uso_build(exp, ov, cat, clen, id, sport);
	tp_take_label(exp, got);
	CU_ASSERT(tp_same(what, got, glen, exp, el));
	CU_ASSERT_EQUAL(pg_get16(got + ovh - 2), pseudo_sum(got, clen + 8, 17));
	CU_ASSERT_EQUAL(goff->flags, IO_OFF_NEEDS_CSUM);
	CU_ASSERT_EQUAL(goff->gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	CU_ASSERT_EQUAL(goff->hdr_len, ovh);
	CU_ASSERT_EQUAL(goff->gso_size, size);
	CU_ASSERT_EQUAL(goff->csum_start, ovh - 8);
	CU_ASSERT_EQUAL(goff->csum_offset, 6);
	if (glen != el)
		return;
	CU_ASSERT_EQUAL_FATAL(pkt_parse(got, glen, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_segment(&v, goff, out + IO_HEADROOM, cut_check_one, &c), (int)n);
	CU_ASSERT_EQUAL(c.k, n);
}

static uint8_t ucat[IO_BUF_SIZE];

/* The TCP super-packet of family (3500 bytes in segments of 1000, TCP
 * flags flags) through front, toward a device with UDP segmentation: one
 * GUE super-packet of the four segments, IPv4 ID id, made in place and
 * returned; nothing emitted. */
static void uso_one(struct mslb_lb *front, int family, int ov, uint8_t flags, uint16_t id)
{
	unsigned hl = family == 4 ? 40 : 60;
	struct io_offload off = gso_off(family, hl);
	struct pg_pkt sp, o;
	uint32_t clen = 0;
	char what[64];

	if (flags & 0x80)
		off.gso_type |= VIRTIO_NET_HDR_GSO_ECN;	/* as the kernel says CWR */
	snprintf(what, sizeof(what), "USO: TCP/IPv%d in IPv%d", family, ov);
	gd_mk(&sp, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 3500, 0x12, true);
	sp.buf[hl - 20 + 13] = flags;
	pg_recompute(&sp);
	for (unsigned k = 0; k < 4; k++) {
		tp_seg(&o, &sp, hl, k, 1000);
		memcpy(ucat + clen, o.buf, o.len);
		clen += o.len;
	}
	ufront(front, sp.buf, sp.len, &off, 0);
	CU_ASSERT_EQUAL_FATAL(wire.n, 1);
	check_uso(what, ov, wire.b[0], wire.len[0], &wire.off[0], ucat, clen, hl + 1000, id);
}

/* The segments of test_gue_front_gso, in one GUE super-packet each time,
 * and its counters: two super-packets of four segments. */
static void test_gue_front_uso(void)
{
	static const struct {
		const char *conf;
		int f1, ov1, f2, ov2;
	} k[] = {
		{ FRONT("", GUE), 4, 4, 6, 6 },
		{ FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 6, 6 },
		{ FRONT("", GUE "outer = \"ipv4\";"), 6, 4, 4, 4 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = lb_uso(k[i].conf, &cfg, true);
		struct lb_nh_tunnel t;

		uso_one(lb, k[i].f1, k[i].ov1, 0x80 | 0x10 | 0x08 | 0x01, 0);
		lb_next_hop_tunnel(lb, 0, &t);
		CU_ASSERT_EQUAL(t.uso, 1);
		CU_ASSERT_EQUAL(t.encapsulated, 4);
		CU_ASSERT_EQUAL(t.segments, 4);
		CU_ASSERT_EQUAL(t.fragments, 0);
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, (k[i].f1 == 4 ? 40 : 60) + 3500);
		/* The IPv4 IDs carry on after the four segments'. */
		uso_one(lb, k[i].f2, k[i].ov2, 0x10 | 0x08, 4);
		lb_next_hop_tunnel(lb, 0, &t);
		CU_ASSERT_EQUAL(t.uso, 2);
		CU_ASSERT_EQUAL(t.encapsulated, 8);
		CU_ASSERT_EQUAL(t.segments, 8);
		CU_ASSERT_EQUAL(t.icmp_sent, 0);
		CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
		CU_ASSERT_EQUAL(all_drops(lb), 0);
		tl_lb_free(lb, cfg);
	}
}

/* Without UDP segmentation the same packet goes segment by segment, each
 * the inner packet of the super-packet's datagram. */
static void test_gue_front_uso_same_inner(void)
{
	struct mslb_config *cfg, *ucfg;
	struct mslb_lb *lb = lb_uso(FRONT("", GUE), &cfg, false), *ulb = lb_uso(FRONT("", GUE), &ucfg, true);
	struct io_offload off = gso_off(6, 60);
	struct pg_pkt sp;
	struct io_pkt p;

	gd_mk(&sp, 6, PG_TCP, C6, S6, 60 + 3500, 0, true);
	sp.buf[40 + 13] = 0x18;
	pg_recompute(&sp);
	CU_ASSERT_EQUAL_FATAL(ufeed(lb, sp.buf, sp.len, &off, &p), MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL_FATAL(ucap.n, 4);
	ucap_old = ucap;
	ufront(ulb, sp.buf, sp.len, &off, 0);
	CU_ASSERT_EQUAL_FATAL(wire.n, 1);
	CU_ASSERT_EQUAL(wire.len[0], 48 + 4 * 60 + 3500);
	for (unsigned k = 0; k < 4; k++) {
		uint32_t ilen = ucap_old.len[k] - 48;

		CU_ASSERT_EQUAL(ucap_old.off[k].gso_type, VIRTIO_NET_HDR_GSO_NONE);
		CU_ASSERT_FATAL(48 + k * 1060 + ilen <= wire.len[0]);
		CU_ASSERT_EQUAL(memcmp(wire.b[0] + 48 + k * 1060, ucap_old.b[k] + 48, ilen), 0);
		/* The same source port. */
		CU_ASSERT_EQUAL(pg_get16(wire.b[0] + 40), pg_get16(ucap_old.b[k] + 40));
	}
	tl_lb_free(lb, cfg);
	tl_lb_free(ulb, ucfg);
}

/* wire against sp (hdr; its payload in segments of size) in GUE of outer
 * family ov: segments [0, head) in the packet returned, the rest in one
 * emitted. A part of two segments or more is a UDP GSO super-packet of
 * IPv4 ID id0 (lb's at the start) plus the number of its first segment,
 * as the kernel numbers what it cuts; a part of one, an ordinary GUE
 * packet (a UDP GSO packet of one segment is none), whose ID comes after
 * the n the super-packet took: the emitted part's first, being made
 * first. Returns how many are super-packets; *next_id: lb's next ID. */
static unsigned check_parts(const char *what, int ov, const struct bigpkt *sp, const struct pg_pkt *hdr,
			    unsigned size, unsigned head, uint16_t id0, uint16_t *next_id)
{
	static struct gd_pkt x;
	unsigned hl = hdr->l3len + 20u, ovh = ov == 4 ? 28 : 48, n = (sp->len - hl + size - 1) / size;
	unsigned parts = head < n ? 2 : 1, supers = 0;
	uint16_t lone = (uint16_t)(id0 + n), ids[2] = { id0, (uint16_t)(id0 + head) };
	struct pg_pkt o;
	char w[160];

	CU_ASSERT_FATAL(head >= 1 && head <= n);
	CU_ASSERT_EQUAL_FATAL(wire.n, parts);
	if (parts == 2 && n - head == 1)
		ids[1] = lone++;
	if (head == 1)
		ids[0] = lone++;
	*next_id = lone;
	for (unsigned j = 0; j < parts; j++) {
		unsigned from = j ? head : 0, to = j ? n : head;
		uint32_t clen = 0;

		snprintf(w, sizeof(w), "%s, %s: segments %u to %u", what, j ? "emitted" : "returned", from, to - 1);
		if (to - from == 1) {
			tp_gso_seg(&o, hdr, sp->b, sp->len, hdr->l3len + 20, from, size);
			gue_encap(&x, ov, ov == 4 ? S4 : S6, ov == 4 ? B4 : B6, o.buf, o.len, ids[j], true, GUE_PORT);
			CU_ASSERT(gd_match(w, wire.b[j], wire.len[j], &x));
			CU_ASSERT(off_none(&wire.off[j]));
			continue;
		}
		for (unsigned k = from; k < to; k++) {
			tp_gso_seg(&o, hdr, sp->b, sp->len, hdr->l3len + 20, k, size);
			memcpy(ucat + clen, o.buf, o.len);
			clen += o.len;
		}
		CU_ASSERT(clen <= 65535 - ovh);
		check_uso(w, ov, wire.b[j], wire.len[j], &wire.off[j], ucat, clen, hl + size, ids[j]);
		supers++;
	}
	return supers;
}

/* A super-packet of payload bytes in segments of size, family in outer
 * ov, shift bytes further into its buffer than usual: the first head
 * segments in one GUE super-packet made in place and returned (as many
 * whole segments of full length as fit in 65535 bytes less the outer
 * headers and in what is left of the buffer), the rest emitted; then the
 * counters, and the IPv4 ID of the next packet. */
static void uso_split(const char *conf, int family, int ov, unsigned payload, unsigned size, uint32_t shift,
		      unsigned head)
{
	static struct bigpkt sp;
	static struct gd_pkt x;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_uso(conf, &cfg, true);
	unsigned hl = family == 4 ? 40 : 60, n = (payload + size - 1) / size, supers;
	struct io_offload off = gso_off(family, hl);
	struct lb_nh_tunnel t;
	struct pg_pkt hdr, o;
	struct io_pkt p;
	uint16_t next_id;
	char what[128];

	off.gso_size = (uint16_t)size;
	big_tcp(&sp, &hdr, family, payload, 0x80 | 0x10 | 0x08 | 0x01);
	snprintf(what, sizeof(what), "USO: %u bytes of TCP/IPv%d in IPv%d, %u bytes of buffer left", payload, family,
		 ov, IO_BUF_SIZE - shift);
	ufront(lb, sp.b, sp.len, &off, shift);
	supers = check_parts(what, ov, &sp, &hdr, size, head, 0, &next_id);
	CU_ASSERT_EQUAL(supers, (head > 1) + (n - head > 1));
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.uso, supers);
	CU_ASSERT_EQUAL(t.encapsulated, n);
	CU_ASSERT_EQUAL(t.segments, n);
	CU_ASSERT_EQUAL(t.fragments, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, sp.len);
	CU_ASSERT_EQUAL(all_drops(lb), 0);
	/* The next packet's ID comes after all of them. */
	gd_mk(&o, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 100, 0, true);
	CU_ASSERT_EQUAL_FATAL(ufeed(lb, o.buf, o.len, NULL, &p), MSLB_OK);
	CU_ASSERT_EQUAL(ucap.n, 0);
	gue_encap(&x, ov, ov == 4 ? S4 : S6, ov == 4 ? B4 : B6, o.buf, o.len, next_id, true, GUE_PORT);
	CU_ASSERT(gd_match(what, p.data, p.len, &x));
	tl_lb_free(lb, cfg);
}

static void uso_big(const char *conf, int family, int ov, unsigned payload, unsigned size, unsigned head)
{
	uso_split(conf, family, ov, payload, size, 0, head);
}

/* Segments that take more than one GUE super-packet (65535 bytes less
 * the outer headers). */
static void test_gue_front_uso_big(void)
{
	/* 121 segments of 560: 116 fill 64960 of 65487 bytes, 5 follow. */
	uso_big(FRONT("", GUE), 6, 6, 60100, 500, 116);
	/* 160 of 440: 148 fill 65120 of 65507, 12 follow. */
	uso_big(FRONT("", GUE), 4, 4, 64000, 400, 148);
	/* 148 of 440 and one of 387 would be exactly 65507 bytes; but whole
	 * segments of full length are counted: 148, the last alone, an
	 * ordinary GUE packet. One byte more, the same. */
	uso_big(FRONT("", GUE), 4, 4, 148 * 400 + 347, 400, 148);
	uso_big(FRONT("", GUE), 4, 4, 148 * 400 + 348, 400, 148);
	/* The same for IPv6 outside: 116 of 560 and one of 527 are 65487. */
	uso_big(FRONT("", GUE), 6, 6, 116 * 500 + 467, 500, 116);
	uso_big(FRONT("", GUE), 6, 6, 116 * 500 + 468, 500, 116);
	/* 249 full segments of 263 are exactly 65487: all in one; one byte
	 * more, alone after them. */
	uso_big(FRONT("", GUE), 6, 6, 249 * 203, 203, 249);
	uso_big(FRONT("", GUE), 6, 6, 249 * 203 + 1, 203, 249);
	/* 83 of 789, IPv4 in IPv6, the same. */
	uso_big(FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 83 * 749, 749, 83);
	uso_big(FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 83 * 749 + 1, 749, 83);
	/* 65 of 1008 are 65520: within the buffer's 65536, beyond 65507. */
	uso_big(FRONT("", GUE), 4, 4, 65 * 968, 968, 64);
	/* Two left for the emitted one. */
	uso_big(FRONT("", GUE), 4, 4, 149 * 400 + 1, 400, 148);
	/* A super-packet of one segment: an ordinary GUE packet. */
	uso_big(FRONT("", GUE), 4, 4, 800, 1000, 1);
	uso_big(FRONT("", GUE), 6, 6, 1000, 1000, 1);
	uso_big(FRONT("", GUE "outer = \"ipv4\";"), 6, 4, 1, 1000, 1);
	/* IPv4 in IPv6. */
	uso_big(FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 62000, 1000, 62);
}

/* The packet nearer the end of its buffer: the super-packet made in
 * place holds the whole segments of full length that fit before the end;
 * one segment when not even two do. */
static void test_gue_front_uso_in_place(void)
{
	/* Four segments of 1040 (the last 540), 3540 bytes left: three. */
	uso_split(FRONT("", GUE), 4, 4, 3500, 1000, IO_BUF_SIZE - 3540, 3);
	/* 4159 bytes: three still; 4160: all four, though 3660 would do. */
	uso_split(FRONT("", GUE), 4, 4, 3500, 1000, IO_BUF_SIZE - 4159, 3);
	uso_split(FRONT("", GUE), 4, 4, 3500, 1000, IO_BUF_SIZE - 4160, 4);
	/* Two segments in 1440 bytes: one returned, one emitted, both
	 * ordinary GUE packets. */
	uso_split(FRONT("", GUE), 4, 4, 1400, 1000, IO_BUF_SIZE - 1440, 1);
	uso_split(FRONT("", GUE), 6, 6, 1400, 1000, IO_BUF_SIZE - 1460, 1);
	uso_split(FRONT("", GUE "outer = \"ipv4\";"), 6, 4, 1400, 1000, IO_BUF_SIZE - 1460, 1);
	/* Three segments in 2500: two returned, the last emitted alone. */
	uso_split(FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 2100, 1000, IO_BUF_SIZE - 2500, 2);
	/* 120 of 540 in 60040 bytes: 111 returned, 9 emitted. */
	uso_split(FRONT("", GUE), 4, 4, 60000, 500, IO_BUF_SIZE - 60040, 111);
	uso_split(FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 60000, 500, IO_BUF_SIZE - 60040, 111);
}

/* The same room, as AF_PACKET gives it: the packet at the start of its
 * buffer and io_pkt.end that much after it (the next frame in the ring
 * there, which stays as it was). */
static void test_gue_front_uso_ring_end(void)
{
	uring = true;
	test_gue_front_uso_in_place();	/* its first case: no room after the packet */
	uring = false;
}

/* Segments above the tunnel MTU: as without UDP segmentation, byte for
 * byte (an ICMP error with DF; inner fragments without), nothing for the
 * kernel to segment. */
static void uso_unchanged(const char *conf, bool df, enum mslb_drop want, unsigned n_emit)
{
	struct mslb_config *cfg, *ucfg;
	struct mslb_lb *lb = lb_uso(conf, &cfg, false), *ulb = lb_uso(conf, &ucfg, true);
	struct io_offload off = gso_off(4, 40);
	struct lb_nh_tunnel t, ut;
	struct pg_pkt sp;
	struct io_pkt p;

	gd_mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, df);
	sp.buf[20 + 13] = 0x18;
	pg_recompute(&sp);
	CU_ASSERT_EQUAL(ufeed(lb, sp.buf, sp.len, &off, &p), want);
	CU_ASSERT_EQUAL_FATAL(ucap.n, n_emit);
	ucap_old = ucap;
	CU_ASSERT_EQUAL(ufeed(ulb, sp.buf, sp.len, &off, &p), want);
	if (want == MSLB_OK)
		CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL_FATAL(ucap.n, n_emit);
	for (unsigned k = 0; k < n_emit; k++) {
		CU_ASSERT(tp_same("USO, too big for the tunnel", ucap.b[k], ucap.len[k], ucap_old.b[k], ucap_old.len[k]));
		CU_ASSERT_EQUAL(ucap.off[k].gso_type, VIRTIO_NET_HDR_GSO_NONE);
		CU_ASSERT_EQUAL(ucap.off[k].flags, 0);
	}
	lb_next_hop_tunnel(lb, 0, &t);
	lb_next_hop_tunnel(ulb, 0, &ut);
	CU_ASSERT_EQUAL(ut.uso, 0);
	CU_ASSERT_EQUAL(ut.segments, t.segments);
	CU_ASSERT_EQUAL(ut.encapsulated, t.encapsulated);
	CU_ASSERT_EQUAL(ut.fragments, t.fragments);
	CU_ASSERT_EQUAL(ut.icmp_sent, t.icmp_sent);
	CU_ASSERT_EQUAL(lb_drops(ulb, MSLB_DROP_TOO_BIG), lb_drops(lb, MSLB_DROP_TOO_BIG));
	tl_lb_free(lb, cfg);
	tl_lb_free(ulb, ucfg);
}

static void test_gue_front_uso_too_big(void)
{
	/* Segments of 1040, tunnel MTU 972: DF, "too big". */
	uso_unchanged(FRONT("", GUE "path_mtu = 1000;"), true, MSLB_DROP_TOO_BIG, 1);
	/* Tunnel MTU 772 without DF: the segments of 1040 in two fragments
	 * each, the last (540) whole. */
	uso_unchanged(FRONT("", GUE "path_mtu = 800;"), false, MSLB_OK, 7);
}

/* A UDP GSO super-packet inside: its datagrams, back to back, in the
 * packet returned. */
static void test_gue_front_uso_udp(void)
{
	static const struct {
		const char *conf;
		int family, ov;
	} k[] = {
		{ FRONT("", GUE), 4, 4 },
		{ FRONT("", GUE), 6, 6 },
		{ FRONT("", GUE "outer = \"ipv4\";"), 6, 4 },
		{ FRONT("", GUE "outer = \"ipv6\";"), 4, 6 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = lb_uso(k[i].conf, &cfg, true);
		unsigned hl = k[i].family == 4 ? 28 : 48;
		struct io_offload off = {
			.flags = IO_OFF_NEEDS_CSUM,
			.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
			.hdr_len = (uint16_t)hl,
			.gso_size = 1000,
			.csum_start = (uint16_t)(hl - 8),
			.csum_offset = 6,
		};
		struct lb_nh_tunnel t;
		struct pg_pkt sp, o;
		uint32_t clen = 0;
		char what[64];

		snprintf(what, sizeof(what), "USO: UDP/IPv%d in IPv%d", k[i].family, k[i].ov);
		gd_client(&sp, k[i].family, hl + 3500, 0x0a, true);
		for (unsigned j = 0; j < 4; j++) {
			tp_seg(&o, &sp, hl, j, 1000);
			memcpy(ucat + clen, o.buf, o.len);
			clen += o.len;
		}
		CU_ASSERT_EQUAL(clen, 4 * hl + 3500);
		ufront(lb, sp.buf, sp.len, &off, 0);
		CU_ASSERT_EQUAL_FATAL(wire.n, 1);
		check_uso(what, k[i].ov, wire.b[0], wire.len[0], &wire.off[0], ucat, clen, hl + 1000, 0);
		lb_next_hop_tunnel(lb, 0, &t);
		CU_ASSERT_EQUAL(t.uso, 1);
		CU_ASSERT_EQUAL(t.encapsulated, 4);
		CU_ASSERT_EQUAL(t.segments, 4);
		tl_lb_free(lb, cfg);
	}
}

/* ---- USO at the back ---------------------------------------------------- */

/* The segments of what came out (p, a TCP super-packet by off) as the
 * kernel would cut them: segment k of sp (hdr, size) each. */
struct seg_check {
	const char *what;
	const struct bigpkt *sp;
	const struct pg_pkt *hdr;
	unsigned size, k;
};

static void seg_check_one(void *ctx, uint8_t *s, uint32_t len)
{
	struct seg_check *c = ctx;
	struct pg_pkt o;
	char w[128];

	snprintf(w, sizeof(w), "%s: segment %u", c->what, c->k);
	tp_gso_seg(&o, c->hdr, c->sp->b, c->sp->len, c->hdr->l3len + 20, c->k++, c->size);
	CU_ASSERT(tp_same(w, s, len, o.buf, o.len));
}

/* sp (hdr, payload in segments of size; segments from..to) through a
 * front with UDP segmentation and a back: the back makes the GUE
 * super-packet one TCP super-packet again, its checksum field the
 * pseudo-header sum, for the kernel to cut in the client's segments. */
static void uso_back_one(const char *what, struct mslb_lb *back, const uint8_t *gue, uint32_t glen,
			 const struct io_offload *goff, const struct bigpkt *sp, const struct pg_pkt *hdr,
			 unsigned size, unsigned from, unsigned to)
{
	static uint8_t exp[IO_BUF_SIZE], out[IO_HEADROOM + IO_BUF_SIZE];
	static struct bigpkt part;
	unsigned hl = hdr->l3len + 20, l4 = hdr->l3len, family = (unsigned)hdr->family;
	uint32_t payload = sp->len - hl, at = from * size, end = to * size < payload ? to * size : payload;
	struct seg_check c = { what, sp, hdr, size, from };
	struct lb_tunnel_stats ts0, ts;
	uint64_t drops = all_drops(back);
	struct pkt_view v;
	struct io_pkt p;
	enum mslb_drop r;
	uint8_t fl;

	lb_get_tunnel_stats(back, &ts0);
	r = ufeed(back, gue, glen, goff, &p);
	CU_ASSERT_EQUAL(r, MSLB_OK);
	if (r != MSLB_OK) {
		printf("\n  %s: %s", what, mslb_drop_name(r));
		return;
	}
	CU_ASSERT_EQUAL(ucap.n, 0);
	/* The client's super-packet, for segments from..to: its headers,
	 * the first's sequence number and IPv4 ID, the flags spread on
	 * them gathered (CWR from the first, FIN and PSH from the last). */
	memcpy(exp, sp->b, hl);
	memcpy(exp + hl, sp->b + hl + at, end - at);
	part.len = hl + end - at;
	fl = sp->b[l4 + 13];
	if (from > 0)
		fl &= (uint8_t)~0x80;
	if (end < payload)
		fl &= (uint8_t)~0x09;
	exp[l4 + 13] = fl;
	pg_put32(exp + l4 + 4, pg_get32(sp->b + l4 + 4) + at);
	if (family == 4) {
		pg_put16(exp + 2, (uint16_t)part.len);
		pg_put16(exp + 4, (uint16_t)(pg_get16(sp->b + 4) + from));
		tp_ip4_csum(exp);
	} else {
		pg_put16(exp + 4, (uint16_t)(part.len - 40));
	}
	pg_put16(exp + l4 + 16, pseudo_sum(exp, part.len - l4, PG_TCP));
	CU_ASSERT(tp_same(what, p.data, p.len, exp, part.len));
	CU_ASSERT_EQUAL(p.off.flags, IO_OFF_NEEDS_CSUM);
	CU_ASSERT_EQUAL(p.off.gso_type, (family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
						(fl & 0x80 ? VIRTIO_NET_HDR_GSO_ECN : 0));
	CU_ASSERT_EQUAL(p.off.hdr_len, hl);
	CU_ASSERT_EQUAL(p.off.gso_size, size);
	CU_ASSERT_EQUAL(p.off.csum_start, l4);
	CU_ASSERT_EQUAL(p.off.csum_offset, 16);
	/* Cut by the kernel: the client's segments. */
	if (p.len == part.len && pkt_parse(p.data, p.len, &v) == MSLB_OK) {
		CU_ASSERT_EQUAL(gso_segment(&v, &p.off, out + IO_HEADROOM, seg_check_one, &c), (int)(to - from));
		CU_ASSERT_EQUAL(c.k, to);
	}
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, ts0.decapsulated + 1);
	CU_ASSERT_EQUAL(ts.uso_coalesced, ts0.uso_coalesced + 1);
	CU_ASSERT_EQUAL(ts.uso_split, ts0.uso_split);
	CU_ASSERT_EQUAL(all_drops(back), drops);
}

/* A part of one segment, an ordinary GUE packet: taken apart, segment k
 * of sp (hdr, size) as it is, nothing to coalesce. */
static void uso_back_lone(const char *what, struct mslb_lb *back, const uint8_t *gue, uint32_t glen,
			  const struct io_offload *goff, const struct bigpkt *sp, const struct pg_pkt *hdr,
			  unsigned size, unsigned k)
{
	struct lb_tunnel_stats ts0, ts;
	uint64_t drops = all_drops(back);
	struct pg_pkt o;
	struct io_pkt p;

	lb_get_tunnel_stats(back, &ts0);
	CU_ASSERT_EQUAL_FATAL(ufeed(back, gue, glen, goff, &p), MSLB_OK);
	CU_ASSERT_EQUAL(ucap.n, 0);
	tp_gso_seg(&o, hdr, sp->b, sp->len, hdr->l3len + 20, k, size);
	CU_ASSERT(tp_same(what, p.data, p.len, o.buf, o.len));
	CU_ASSERT(off_none(&p.off));
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, ts0.decapsulated + 1);
	CU_ASSERT_EQUAL(ts.uso_coalesced, ts0.uso_coalesced);
	CU_ASSERT_EQUAL(ts.uso_split, ts0.uso_split);
	CU_ASSERT_EQUAL(all_drops(back), drops);
}

/* The whole way: a client's TCP super-packet, what a front sends of it
 * (the GUE super-packet it returns, segments 0 to first - 1, then what it
 * emits, with their metadata; shift: as ufront's), a back's TCP
 * super-packet again from each. */
static void uso_round_trip(const char *conf, int family, unsigned payload, unsigned size, uint8_t flags,
			   unsigned first, uint32_t shift)
{
	static struct bigpkt sp;
	struct mslb_config *fcfg, *bcfg;
	struct mslb_lb *front = lb_uso(conf, &fcfg, true), *back = lb_uso(GBACK(""), &bcfg, false);
	unsigned hl = family == 4 ? 40 : 60, n = (payload + size - 1) / size, parts = first < n ? 2 : 1;
	struct io_offload off = gso_off(family, hl);
	struct pg_pkt hdr;
	char what[128];

	off.gso_size = (uint16_t)size;
	big_tcp(&sp, &hdr, family, payload, flags);
	ufront(front, sp.b, sp.len, &off, shift);
	CU_ASSERT_EQUAL_FATAL(wire.n, parts);
	for (unsigned j = 0; j < parts; j++) {
		unsigned from = j ? first : 0, to = j ? n : first;

		snprintf(what, sizeof(what), "USO round trip: %u bytes of TCP/IPv%d (flags 0x%02x), %s", payload,
			 family, flags, j ? "emitted" : "returned");
		if (to - from == 1)
			uso_back_lone(what, back, wire.b[j], wire.len[j], &wire.off[j], &sp, &hdr, size, from);
		else
			uso_back_one(what, back, wire.b[j], wire.len[j], &wire.off[j], &sp, &hdr, size, from, to);
	}
	/* Counted against the outer destination, the inner bytes. */
	CU_ASSERT_EQUAL(lb_back_counter(back, (wire.b[0][0] >> 4) == 4 ? 0 : 1).bytes, sp.len + (parts - 1) * hl);
	CU_ASSERT_EQUAL(lb_back_counter(back, (wire.b[0][0] >> 4) == 4 ? 0 : 1).packets, parts);
	tl_lb_free(front, fcfg);
	tl_lb_free(back, bcfg);
}

static void test_gue_uso_round_trip(void)
{
	static const char *const fronts[] = {
		FRONT("", GUE),
		FRONT("", GUE "outer = \"ipv6\";"),
		FRONT("", GUE "outer = \"ipv4\";"),
	};

	for (unsigned i = 0; i < ARRAY_SIZE(fronts); i++)
		for (int family = 4; family <= 6; family += 2) {
			uso_round_trip(fronts[i], family, 3500, 1000, 0x10 | 0x08, 4, 0);
			uso_round_trip(fronts[i], family, 3500, 1000, 0x80 | 0x40 | 0x10 | 0x08 | 0x01, 4, 0);
			/* The buffer ends with the packet: of 35 segments
			 * of 100, 25 of 140 (IPv4) or 22 of 160 (IPv6)
			 * returned, the rest emitted. */
			uso_round_trip(fronts[i], family, 3500, 100, 0x80 | 0x40 | 0x10 | 0x08 | 0x01,
				       family == 4 ? 25 : 22, IO_BUF_SIZE - 3500 - (family == 4 ? 40 : 60));
		}
	/* About 60 KiB in one GUE super-packet; then in two. */
	uso_round_trip(FRONT("", GUE), 4, 60000, 1432, 0x18, 42, 0);
	uso_round_trip(FRONT("", GUE), 6, 60100, 500, 0x80 | 0x18 | 0x01, 116, 0);
	/* The last segment emitted alone: after 148, and after three in a
	 * buffer that ends with the packet; then one returned alone and one
	 * emitted alone. */
	uso_round_trip(FRONT("", GUE), 4, 148 * 400 + 348, 400, 0x80 | 0x18 | 0x01, 148, 0);
	uso_round_trip(FRONT("", GUE "outer = \"ipv6\";"), 4, 3500, 1000, 0x18, 3, IO_BUF_SIZE - 3540);
	uso_round_trip(FRONT("", GUE), 6, 1400, 1000, 0x80 | 0x18 | 0x01, 1, IO_BUF_SIZE - 1460);
}

/* Inner packets in[0..n) in one GUE UDP GSO super-packet to the back (a
 * front's metadata: segments of in[0]'s length), as the kernel's GRO or a
 * front may hand it over. At o; returns the length. */
/* uso_in: the super-packet's checksum partial (NEEDS_CSUM: built on this
 * host), or not (as GRO makes one, whose checksum the kernel checked). */
static bool uso_whole;

static uint32_t uso_in(uint8_t *o, int ov, const struct pg_pkt *in, unsigned n, struct io_offload *off)
{
	uint32_t clen = 0;

	for (unsigned k = 0; k < n; k++) {
		memcpy(ucat + clen, in[k].buf, in[k].len);
		clen += in[k].len;
	}
	*off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = (uint16_t)(ov == 4 ? 28 : 48),
		.gso_size = (uint16_t)in[0].len,
		.csum_start = (uint16_t)(ov == 4 ? 20 : 40),
		.csum_offset = 6,
	};
	if (uso_whole) {
		uint32_t len = gue_build(o, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), ucat, clen, 0x4321,
					 true, 50000, GUE_PORT);
		unsigned ovh = ov == 4 ? 28 : 48;

		off->flags = 0;
		off->csum_start = off->csum_offset = 0;
		pg_put16(o + ovh - 2, udp_full(o, o + ovh - 8, clen + 8));
		return len;
	}
	return uso_build(o, ov, ucat, clen, 0x4321, 50000);
}

/* A TCP packet of total bytes from the client (source port sport), ACK. */
static void tcp_ack(struct pg_pkt *p, int family, unsigned total, uint16_t sport)
{
	gd_mk(p, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, total, 0, true);
	pg_put16(p->buf + p->l3len, sport);
	p->buf[p->l3len + 13] = 0x10;
	pg_recompute(p);
}

/* One flow's TCP super-packet sp (3500 bytes of payload, TCP flags
 * flags) and its four segments of 1000 in[0..3]. */
static void one_flow(struct pg_pkt *sp, struct pg_pkt *in, int ov, uint8_t flags)
{
	unsigned hl = ov == 4 ? 40 : 60;

	gd_mk(sp, ov, PG_TCP, ov == 4 ? C4 : C6, ov == 4 ? S4 : S6, hl + 3500, 0, true);
	sp->buf[hl - 20 + 13] = flags;
	pg_recompute(sp);
	for (unsigned k = 0; k < 4; k++)
		tp_seg(&in[k], sp, hl, k, 1000);
}

/* One GUE super-packet whose datagrams are no one TCP flow's segments:
 * each through the back on its own, what comes of it emitted; want[k]:
 * what the back does with datagram k alone (MSLB_OK: delivers in[k]). */
static void uso_split_one(const char *what, struct mslb_lb *back, struct mslb_lb *plain, int ov,
			  const struct pg_pkt *in, unsigned n, const enum mslb_drop *want)
{
	static uint8_t o[IO_BUF_SIZE + 128], dg[IO_BUF_SIZE + 128];
	static struct ucap plain_out[1];
	struct io_offload off;
	struct lb_tunnel_stats ts0, ts, pts0, pts;
	uint64_t d0[MSLB_DROP_MAX];
	uint32_t len = uso_in(o, ov, in, n, &off);
	unsigned ok = 0, got = 0;
	struct io_pkt p;
	enum mslb_drop r;
	char w[128];

	/* The back without the super-packet: each datagram as a GUE packet. */
	lb_get_tunnel_stats(plain, &pts0);
	plain_out->n = 0;
	for (unsigned k = 0; k < n; k++) {
		uint32_t dl = gue_build(dg, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), in[k].buf, in[k].len,
					(uint16_t)(0x4321 + k), true, 50000, GUE_PORT);

		r = ufeed(plain, dg, dl, NULL, &p);
		CU_ASSERT_EQUAL(r, want[k]);
		if (r == MSLB_OK && p.len && plain_out->n < UCAP_MAX) {
			memcpy(plain_out->b[plain_out->n], p.data, p.len);
			plain_out->len[plain_out->n++] = p.len;
		}
	}

	lb_get_tunnel_stats(plain, &pts);
	for (unsigned d = 1; d < MSLB_DROP_MAX; d++)
		d0[d] = lb_drops(back, (enum mslb_drop)d);
	lb_get_tunnel_stats(back, &ts0);
	r = ufeed(back, o, len, &off, &p);
	CU_ASSERT_EQUAL(r, MSLB_OK);
	CU_ASSERT_EQUAL(p.len, 0);
	for (unsigned k = 0; k < n; k++) {
		if (want[k] != MSLB_OK)
			continue;
		snprintf(w, sizeof(w), "%s: datagram %u", what, k);
		ok++;
		if (got >= ucap.n) {
			CU_FAIL("a datagram did not come out");
			continue;
		}
		CU_ASSERT(tp_same(w, ucap.b[got], ucap.len[got], in[k].buf, in[k].len));
		CU_ASSERT(got < plain_out->n &&
			  tp_same(w, ucap.b[got], ucap.len[got], plain_out->b[got], plain_out->len[got]));
		CU_ASSERT_EQUAL(ucap.off[got].flags, 0);
		CU_ASSERT_EQUAL(ucap.off[got].gso_type, VIRTIO_NET_HDR_GSO_NONE);
		got++;
	}
	CU_ASSERT_EQUAL(ucap.n, ok);
	CU_ASSERT_EQUAL(plain_out->n, ok);
	lb_get_tunnel_stats(back, &ts);
	/* Taken apart as many times as without the super-packet. */
	CU_ASSERT_EQUAL(ts.decapsulated - ts0.decapsulated, pts.decapsulated - pts0.decapsulated);
	CU_ASSERT_EQUAL(ts.uso_split, ts0.uso_split + 1);
	CU_ASSERT_EQUAL(ts.uso_coalesced, ts0.uso_coalesced);
	for (unsigned d = 1; d < MSLB_DROP_MAX; d++) {
		uint64_t more = 0;

		for (unsigned k = 0; k < n; k++)
			more += want[k] == (enum mslb_drop)d;
		CU_ASSERT_EQUAL(lb_drops(back, (enum mslb_drop)d), d0[d] + more);
	}
}

static void test_gue_back_uso_split(void)
{
	static const enum mslb_drop all_ok[4] = { MSLB_OK, MSLB_OK, MSLB_OK, MSLB_OK };
	struct mslb_config *bcfg, *pcfg;
	struct mslb_lb *back = lb_uso(GBACK(""), &bcfg, false), *plain = lb_uso(GBACK(""), &pcfg, false);

	for (int ov = 4; ov <= 6; ov += 2) {
		unsigned hl = ov == 4 ? 40 : 60;
		struct pg_pkt in[4], sp;

		/* Two TCP connections, interleaved. */
		tcp_ack(&in[0], ov, 1040, 40001);
		tcp_ack(&in[1], ov, 1040, 40002);
		tcp_ack(&in[2], ov, 1040, 40001);
		tcp_ack(&in[3], ov, 500, 40002);
		uso_split_one("two TCP flows", back, plain, ov, in, 4, all_ok);

		/* One flow, segment 1 with a wrong TCP checksum. */
		one_flow(&sp, in, ov, 0x18);
		{
			struct io_offload off;
			static uint8_t o[IO_BUF_SIZE + 128];
			uint32_t len = uso_in(o, ov, in, 4, &off);
			struct io_pkt p;

			/* Intact, they come out as one. */
			CU_ASSERT_EQUAL(ufeed(back, o, len, &off, &p), MSLB_OK);
			CU_ASSERT_EQUAL(p.len, sp.len);
			CU_ASSERT_EQUAL(p.off.gso_type & 0x7f, ov == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
		}
		/* A wrong TCP checksum in a super-packet GRO made, the
		 * kernel's check not done (or not there: a UDP checksum 0). */
		in[1].buf[hl + 100] ^= 0x5a;
		uso_whole = true;
		uso_split_one("one flow, a TCP checksum wrong", back, plain, ov, in, 4, all_ok);
		uso_whole = false;
		in[1].buf[hl + 100] ^= 0x5a;

		/* One flow, segment 2's IPv4 header checksum wrong: that one
		 * dropped as it would be alone, the others delivered. */
		if (ov == 4) {
			static const enum mslb_drop want[4] = { MSLB_OK, MSLB_OK, MSLB_DROP_TUNNEL_INNER, MSLB_OK };

			in[2].buf[10] ^= 0x40;
			uso_split_one("one flow, an IPv4 header checksum wrong", back, plain, ov, in, 4, want);
		}

		/* UDP datagrams. */
		gd_client(&in[0], ov, 1000, 0, true);
		gd_client(&in[1], ov, 1000, 0, true);
		gd_client(&in[2], ov, 700, 0, true);
		uso_split_one("UDP datagrams", back, plain, ov, in, 3, all_ok);

		/* An IPv4 and an IPv6 datagram of the same length. */
		gd_client(&in[0], 4, 1000, 0, true);
		gd_client(&in[1], 6, 1000, 0, true);
		uso_split_one("IPv4 and IPv6 inside", back, plain, ov, in, 2, all_ok);

		/* One of them not for a service here: dropped alone. */
		{
			static const enum mslb_drop want[3] = { MSLB_OK, MSLB_DROP_TUNNEL_INNER_DST, MSLB_OK };

			gd_client(&in[0], ov, 900, 0, true);
			gd_mk(&in[1], ov, PG_UDP, ov == 4 ? C4 : C6, ov == 4 ? "203.0.113.99" : "2001:db8:5::99", 900, 0,
			      true);
			gd_client(&in[2], ov, 300, 0, true);
			uso_split_one("one not for a service", back, plain, ov, in, 3, want);
		}
	}
	tl_lb_free(back, bcfg);
	tl_lb_free(plain, pcfg);
}

/* One flow's four segments, segment 1's payload changed after its TCP
 * checksum was made, in a GUE super-packet: as the kernel's GRO, the back
 * sums the segments only when nothing vouched for them. Vouched: a partial
 * checksum (the super-packet never crossed a wire), or the kernel's check
 * of an outer UDP checksum that is there (DATA_VALID; not with 0). */
static void trust_one(struct mslb_lb *back, int ov, bool whole, bool valid, bool zero, bool coalesced)
{
	static uint8_t o[IO_BUF_SIZE + 128];
	unsigned hl = ov == 4 ? 40 : 60;
	struct lb_tunnel_stats ts0, ts;
	struct pg_pkt in[4], sp;
	struct io_offload off;
	struct io_pkt p;
	uint32_t len;

	one_flow(&sp, in, ov, 0x18);
	in[1].buf[hl + 100] ^= 0x5a;
	uso_whole = whole;
	len = uso_in(o, ov, in, 4, &off);
	uso_whole = false;
	if (zero)
		pg_put16(o + 26, 0);
	lb_get_tunnel_stats(back, &ts0);
	uvalid = valid;
	CU_ASSERT_EQUAL(ufeed(back, o, len, &off, &p), MSLB_OK);
	uvalid = false;
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.uso_coalesced - ts0.uso_coalesced, coalesced);
	CU_ASSERT_EQUAL(ts.uso_split - ts0.uso_split, !coalesced);
	if (coalesced) {
		/* Delivered as it came: the changed byte, a new checksum. */
		CU_ASSERT_EQUAL_FATAL(p.len, sp.len);
		CU_ASSERT_EQUAL(p.data[hl + 1000 + 100], sp.buf[hl + 1000 + 100] ^ 0x5a);
	} else {
		CU_ASSERT_EQUAL(p.len, 0);
	}
}

static void test_gue_back_uso_trust(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *back = lb_uso(GBACK(""), &cfg, false);

	for (int ov = 4; ov <= 6; ov += 2) {
		trust_one(back, ov, false, false, false, true);		/* partial */
		trust_one(back, ov, true, false, false, false);		/* nothing */
		trust_one(back, ov, true, true, false, true);		/* DATA_VALID */
	}
	trust_one(back, 4, true, true, true, false);	/* DATA_VALID, UDP checksum 0 */
	tl_lb_free(back, cfg);
}

/* Other GSO types on GUE, or metadata that does not fit it: refused. */
static void test_gue_back_uso_bad(void)
{
	static uint8_t o[IO_BUF_SIZE + 128];
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_uso(GBACK(""), &cfg, false);
	static const uint8_t types[] = { VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP };

	for (int ov = 4; ov <= 6; ov += 2) {
		struct pg_pkt sp, in[4];
		struct io_offload off;
		struct io_pkt p;
		uint32_t len;

		one_flow(&sp, in, ov, 0x10);
		len = uso_in(o, ov, in, 4, &off);
		for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
			uint64_t bad = lb_drops(lb, MSLB_DROP_BAD_OFFLOAD);
			struct io_offload o2 = off;

			o2.gso_type = types[i];
			CU_ASSERT_EQUAL(ufeed(lb, o, len, &o2, &p), MSLB_DROP_BAD_OFFLOAD);
			CU_ASSERT_EQUAL(ucap.n, 0);
			CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_BAD_OFFLOAD), bad + 1);
		}
		/* A TCP GSO type on a single GUE packet (not a super-packet). */
		{
			static struct gd_pkt x;
			struct io_offload o3 = gso_off(4, 40);

			gd_mk(&sp, 4, PG_TCP, C4, S4, 400, 0, true);
			x.len = gue_build(x.b, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), sp.buf, sp.len, 1,
					  false, 50000, GUE_PORT);
			CU_ASSERT_EQUAL(ufeed(lb, x.b, x.len, &o3, &p), MSLB_DROP_BAD_OFFLOAD);
			CU_ASSERT_EQUAL(ucap.n, 0);
		}
		/* UDP segmentation of size 0. */
		off.gso_size = 0;
		CU_ASSERT_EQUAL(ufeed(lb, o, len, &off, &p), MSLB_DROP_BAD_OFFLOAD);
		CU_ASSERT_EQUAL(ucap.n, 0);
	}
	{
		struct lb_tunnel_stats ts;

		lb_get_tunnel_stats(lb, &ts);
		CU_ASSERT_EQUAL(ts.decapsulated, 0);
		CU_ASSERT_EQUAL(ts.uso_coalesced, 0);
		CU_ASSERT_EQUAL(ts.uso_split, 0);
	}
	tl_lb_free(lb, cfg);
}

/* ---- UDP-tunnel GSO: a TCP super-packet whole in GUE ----------------------- */

/* The values of the virtio specification (1.4, 5.1.6): the outer family's
 * GSO bit, and the flag that asks for the outer UDP checksum. */
static void test_gue_tunnel_gso_values(void)
{
	CU_ASSERT_EQUAL(IO_GSO_UDP_TUNNEL_IPV4, 0x20);
	CU_ASSERT_EQUAL(IO_GSO_UDP_TUNNEL_IPV6, 0x40);
	CU_ASSERT_EQUAL(IO_GSO_UDP_TUNNEL, IO_GSO_UDP_TUNNEL_IPV4 | IO_GSO_UDP_TUNNEL_IPV6);
	CU_ASSERT_EQUAL(IO_OFF_TNL_CSUM, 8);
	CU_ASSERT_EQUAL(VIRTIO_NET_HDR_GSO_TCPV4 & IO_GSO_UDP_TUNNEL, 0);
	CU_ASSERT_EQUAL(VIRTIO_NET_HDR_GSO_TCPV6 & IO_GSO_UDP_TUNNEL, 0);
	CU_ASSERT_EQUAL(VIRTIO_NET_HDR_GSO_ECN & IO_GSO_UDP_TUNNEL, 0);
}

/* A client's TCP super-packet as a device with TSO hands it over: the
 * TCP checksum field the pseudo-header sum over the whole length. */
static void big_tcp_partial(struct bigpkt *sp, struct pg_pkt *hdr, int family, unsigned payload, uint8_t flags)
{
	big_tcp(sp, hdr, family, payload, flags);
	pg_put16(sp->b + hdr->l3len + 16, pseudo_sum(sp->b, sp->len - hdr->l3len, PG_TCP));
}

/* The metadata of a UDP-tunnel super-packet: the inner TCP super-packet
 * (family, hl bytes of headers, segments of size) in GUE of outer family
 * ov, the inner and the outer checksums left to the device. */
static struct io_offload tnl_off(int family, int ov, unsigned hl, unsigned size, bool ecn)
{
	unsigned ovh = ov == 4 ? 28 : 48;

	return (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM | IO_OFF_TNL_CSUM,
		.gso_type = (uint8_t)((family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
				      (ecn ? VIRTIO_NET_HDR_GSO_ECN : 0) |
				      (ov == 4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6)),
		.hdr_len = (uint16_t)(ovh + hl),
		.gso_size = (uint16_t)size,
		.csum_start = (uint16_t)(ovh + hl - 20),
		.csum_offset = 16,
		.outer_th = (uint16_t)(ovh - 8),
		.inner_nh = (uint16_t)ovh,
	};
}

static bool off_same(const struct io_offload *got, const struct io_offload *want)
{
	CU_ASSERT_EQUAL(got->flags, want->flags);
	CU_ASSERT_EQUAL(got->gso_type, want->gso_type);
	CU_ASSERT_EQUAL(got->hdr_len, want->hdr_len);
	CU_ASSERT_EQUAL(got->gso_size, want->gso_size);
	CU_ASSERT_EQUAL(got->csum_start, want->csum_start);
	CU_ASSERT_EQUAL(got->csum_offset, want->csum_offset);
	CU_ASSERT_EQUAL(got->outer_th, want->outer_th);
	CU_ASSERT_EQUAL(got->inner_nh, want->inner_nh);
	return got->flags == want->flags && got->gso_type == want->gso_type && got->hdr_len == want->hdr_len &&
	       got->gso_size == want->gso_size && got->csum_start == want->csum_start &&
	       got->csum_offset == want->csum_offset && got->outer_th == want->outer_th &&
	       got->inner_nh == want->inner_nh;
}

/* got (glen bytes): the inner packet in[0..ilen) whole in GUE from IP_S to
 * b1 (outer family ov, IPv4 ID id, DF as the inner's or set for IPv6),
 * the source port the inner flow's; the UDP checksum field the folded
 * pseudo-header sum over the whole UDP length, for the device to finish
 * in each datagram it cuts. */
static void check_tnl(const char *what, int ov, const uint8_t *got, uint32_t glen, const uint8_t *in, uint32_t ilen,
		      uint16_t id)
{
	static uint8_t exp[IO_BUF_SIZE + 128];
	unsigned ovh = ov == 4 ? 28 : 48, hl = ov == 4 ? 20 : 40;
	uint16_t sport = encap_gue_sport(in, ilen);
	uint32_t el;

	CU_ASSERT(sport >= 49152);
	CU_ASSERT_FATAL(glen >= ovh);
	/* Field by field first. */
	CU_ASSERT_EQUAL(got[0] >> 4, ov);
	if (ov == 4) {
		CU_ASSERT_EQUAL(got[9], 17);
		CU_ASSERT_EQUAL(pg_get16(got + 2), glen);
		CU_ASSERT_EQUAL(pg_get16(got + 4), id);
		CU_ASSERT(tp_ip4_csum_ok(got));
		CU_ASSERT(!memcmp(got + 12, tl_ip(S4), 4));
		CU_ASSERT(!memcmp(got + 16, tl_ip(B4), 4));
	} else {
		CU_ASSERT_EQUAL(got[6], 17);
		CU_ASSERT_EQUAL(pg_get16(got + 4), glen - 40);
		CU_ASSERT(!memcmp(got + 8, tl_ip(S6), 16));
		CU_ASSERT(!memcmp(got + 24, tl_ip(B6), 16));
	}
	CU_ASSERT_EQUAL(pg_get16(got + hl), sport);
	CU_ASSERT_EQUAL(pg_get16(got + hl + 2), GUE_PORT);
	CU_ASSERT_EQUAL(pg_get16(got + hl + 4), ilen + 8);
	CU_ASSERT_EQUAL(pg_get16(got + hl + 6), pseudo_sum(got, ilen + 8, 17));
	CU_ASSERT_EQUAL(glen, ovh + ilen);
	CU_ASSERT(glen == ovh + ilen && !memcmp(got + ovh, in, ilen));
	/* Then the whole of it. */
	el = gue_build(exp, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), in, ilen, id, true, sport,
		       GUE_PORT);
	pg_put16(exp + ovh - 2, pseudo_sum(exp, ilen + 8, 17));
	tp_take_label(exp, got);
	CU_ASSERT(tp_same(what, got, glen, exp, el));
}

/* A TCP super-packet of family (payload bytes in segments of size, TCP
 * flags flags, partial checksum) through front, toward a device with
 * UDP-tunnel GSO for outer family ov: one packet, returned, the inner
 * super-packet as it came behind GUE headers of IPv4 ID id; nothing
 * emitted. */
static void tnl_one(struct mslb_lb *front, int family, int ov, unsigned payload, unsigned size, uint8_t flags,
		    uint16_t id)
{
	static struct bigpkt sp;
	unsigned hl = family == 4 ? 40 : 60;
	struct io_offload off = gso_off(family, hl), want = tnl_off(family, ov, hl, size, flags & 0x80);
	struct pg_pkt hdr, seg;
	char what[96];

	off.gso_size = (uint16_t)size;
	if (flags & 0x80)
		off.gso_type |= VIRTIO_NET_HDR_GSO_ECN;	/* as the kernel says CWR */
	snprintf(what, sizeof(what), "UDP-tunnel GSO: %u bytes of TCP/IPv%d in IPv%d", payload, family, ov);
	big_tcp_partial(&sp, &hdr, family, payload, flags);
	ufront(front, sp.b, sp.len, &off, 0);
	CU_ASSERT_EQUAL_FATAL(wire.n, 1);
	check_tnl(what, ov, wire.b[0], wire.len[0], sp.b, sp.len, id);
	CU_ASSERT(off_same(&wire.off[0], &want));
	/* The datagrams the device cuts carry the source port the segments
	 * would have had cut here. */
	tp_gso_seg(&seg, &hdr, sp.b, sp.len, hl, 0, size);
	CU_ASSERT_EQUAL(pg_get16(wire.b[0] + (ov == 4 ? 20 : 40)), encap_gue_sport(seg.buf, seg.len));
}

/* The pairs of test_gue_front_uso, each a TCP super-packet of three
 * segments of 1000 whole in one GUE packet, with UDP segmentation on or
 * off (UDP-tunnel GSO comes first); the counters; the IPv4 IDs after. */
static void test_gue_front_tunnel_gso(void)
{
	static const struct {
		const char *conf;
		int f1, ov1, f2, ov2;
	} k[] = {
		{ FRONT("", GUE), 4, 4, 6, 6 },
		{ FRONT("", GUE "outer = \"ipv6\";"), 4, 6, 6, 6 },
		{ FRONT("", GUE "outer = \"ipv4\";"), 6, 4, 4, 4 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++)
		for (int uso = 0; uso <= 1; uso++) {
			static struct gd_pkt x;
			struct mslb_config *cfg;
			struct mslb_lb *lb = lb_uso(k[i].conf, &cfg, uso);
			struct lb_nh_tunnel t;
			struct pg_pkt o;
			struct io_pkt p;

			lb_set_emit_tunnel_gso(lb, 3);
			tnl_one(lb, k[i].f1, k[i].ov1, 3000, 1000, 0x80 | 0x10 | 0x08 | 0x01, 0);
			lb_next_hop_tunnel(lb, 0, &t);
			CU_ASSERT_EQUAL(t.udp_tunnel, 1);
			CU_ASSERT_EQUAL(t.segments, 3);
			CU_ASSERT_EQUAL(t.encapsulated, 3);
			CU_ASSERT_EQUAL(t.uso, 0);
			CU_ASSERT_EQUAL(t.fragments, 0);
			CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
			CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, (k[i].f1 == 4 ? 40 : 60) + 3000);
			/* The kernel numbers the datagrams it cuts from the
			 * first one's IPv4 ID: the next starts after three. */
			tnl_one(lb, k[i].f2, k[i].ov2, 3000, 1000, 0x10 | 0x08, 3);
			lb_next_hop_tunnel(lb, 0, &t);
			CU_ASSERT_EQUAL(t.udp_tunnel, 2);
			CU_ASSERT_EQUAL(t.segments, 6);
			CU_ASSERT_EQUAL(t.encapsulated, 6);
			CU_ASSERT_EQUAL(t.uso, 0);
			CU_ASSERT_EQUAL(t.icmp_sent, 0);
			CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
			/* An ordinary packet after them: ID 6. */
			gd_mk(&o, k[i].f2, PG_TCP, k[i].f2 == 4 ? C4 : C6, k[i].f2 == 4 ? S4 : S6, 300, 0, true);
			CU_ASSERT_EQUAL_FATAL(ufeed(lb, o.buf, o.len, NULL, &p), MSLB_OK);
			CU_ASSERT_EQUAL(ucap.n, 0);
			gue_encap(&x, k[i].ov2, k[i].ov2 == 4 ? S4 : S6, k[i].ov2 == 4 ? B4 : B6, o.buf, o.len, 6, true,
				  GUE_PORT);
			CU_ASSERT(gd_match("after UDP-tunnel GSO", p.data, p.len, &x));
			CU_ASSERT(off_none(&p.off));
			lb_next_hop_tunnel(lb, 0, &t);
			CU_ASSERT_EQUAL(t.udp_tunnel, 2);
			CU_ASSERT_EQUAL(t.encapsulated, 7);
			CU_ASSERT_EQUAL(all_drops(lb), 0);
			tl_lb_free(lb, cfg);
		}
}

/* The outer length field holds the packet: up to 65535 bytes whole, one
 * byte more the way without the offload. */
static void test_gue_front_tunnel_gso_longest(void)
{
	static const struct {
		const char *conf;
		int family, ov;
	} k[] = {
		{ FRONT("", GUE), 4, 4 },
		{ FRONT("", GUE), 6, 6 },
		{ FRONT("", GUE "outer = \"ipv6\";"), 4, 6 },
		{ FRONT("", GUE "outer = \"ipv4\";"), 6, 4 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		unsigned hl = k[i].family == 4 ? 40 : 60, ovh = k[i].ov == 4 ? 28 : 48, most = 65535 - ovh - hl;

		for (unsigned more = 0; more <= 1; more++) {
			static struct bigpkt sp;
			struct mslb_config *cfg;
			struct mslb_lb *lb = lb_uso(k[i].conf, &cfg, true);
			unsigned payload = most + more, n = (payload + 999) / 1000;
			struct io_offload off = gso_off(k[i].family, hl);
			struct lb_nh_tunnel t;
			struct pg_pkt hdr;

			lb_set_emit_tunnel_gso(lb, 3);
			if (!more) {
				tnl_one(lb, k[i].family, k[i].ov, payload, 1000, 0x18, 0);
				CU_ASSERT_EQUAL(wire.len[0], 65535);
			} else {
				big_tcp_partial(&sp, &hdr, k[i].family, payload, 0x18);
				ufront(lb, sp.b, sp.len, &off, 0);
				for (unsigned j = 0; j < wire.n; j++) {
					CU_ASSERT(!io_is_tunnel_gso(&wire.off[j]));
					CU_ASSERT_EQUAL(wire.off[j].flags & IO_OFF_TNL_CSUM, 0);
					CU_ASSERT_EQUAL(wire.off[j].outer_th, 0);
					CU_ASSERT_EQUAL(wire.off[j].inner_nh, 0);
				}
			}
			lb_next_hop_tunnel(lb, 0, &t);
			CU_ASSERT_EQUAL(t.udp_tunnel, !more);
			CU_ASSERT_EQUAL(t.uso > 0, more);
			CU_ASSERT_EQUAL(t.segments, n);
			CU_ASSERT_EQUAL(t.encapsulated, n);
			CU_ASSERT_EQUAL(all_drops(lb), 0);
			tl_lb_free(lb, cfg);
		}
	}
}

/* Without the outer family's bit, or without a partial checksum, the
 * super-packet goes the old ways: in GUE UDP super-packets (USO), or cut
 * here segment by segment. */
static void tnl_not(const char *conf, unsigned families, bool uso, int family, int ov, uint8_t flags)
{
	static struct bigpkt sp;
	struct mslb_config *cfg;
	struct mslb_lb *lb = lb_uso(conf, &cfg, uso);
	unsigned hl = family == 4 ? 40 : 60;
	struct io_offload off = gso_off(family, hl);
	struct lb_nh_tunnel t;
	struct pg_pkt hdr;
	struct io_pkt p;
	unsigned f0 = CU_get_number_of_failures();
	char what[96];

	snprintf(what, sizeof(what), "tunnel GSO for 0x%x, USO %s: TCP/IPv%d in IPv%d, flags 0x%x", families,
		 uso ? "on" : "off", family, ov, flags);
	lb_set_emit_tunnel_gso(lb, families);
	off.flags = flags;
	big_tcp_partial(&sp, &hdr, family, 3000, 0x18);
	if (uso) {
		ufront(lb, sp.b, sp.len, &off, 0);
		CU_ASSERT_EQUAL_FATAL(wire.n, 1);
		CU_ASSERT_EQUAL(wire.off[0].gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
		CU_ASSERT_EQUAL(wire.off[0].flags, IO_OFF_NEEDS_CSUM);
		CU_ASSERT_EQUAL(wire.off[0].outer_th, 0);
		CU_ASSERT_EQUAL(wire.off[0].inner_nh, 0);
		CU_ASSERT_EQUAL(wire.len[0], (ov == 4 ? 28 : 48) + 3 * hl + 3000);
	} else {
		CU_ASSERT_EQUAL_FATAL(ufeed(lb, sp.b, sp.len, &off, &p), MSLB_OK);
		CU_ASSERT_EQUAL(p.len, 0);
		CU_ASSERT_EQUAL_FATAL(ucap.n, 3);
		for (unsigned k = 0; k < ucap.n; k++)
			CU_ASSERT(off_none(&ucap.off[k]) && !ucap.off[k].outer_th && !ucap.off[k].inner_nh);
	}
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.udp_tunnel, 0);
	CU_ASSERT_EQUAL(t.uso, uso);
	CU_ASSERT_EQUAL(t.segments, 3);
	CU_ASSERT_EQUAL(t.encapsulated, 3);
	CU_ASSERT_EQUAL(all_drops(lb), 0);
	if (CU_get_number_of_failures() != f0)
		printf("\n  %s", what);
	tl_lb_free(lb, cfg);
}

static void test_gue_front_tunnel_gso_not(void)
{
	/* IPv6 outer only: an IPv4 outer takes USO, or is cut here. */
	tnl_not(FRONT("", GUE), 2, true, 4, 4, IO_OFF_NEEDS_CSUM);
	tnl_not(FRONT("", GUE "outer = \"ipv4\";"), 2, true, 6, 4, IO_OFF_NEEDS_CSUM);
	tnl_not(FRONT("", GUE), 2, false, 4, 4, IO_OFF_NEEDS_CSUM);
	/* IPv4 outer only: the same for an IPv6 outer. */
	tnl_not(FRONT("", GUE), 1, true, 6, 6, IO_OFF_NEEDS_CSUM);
	tnl_not(FRONT("", GUE "outer = \"ipv6\";"), 1, true, 4, 6, IO_OFF_NEEDS_CSUM);
	tnl_not(FRONT("", GUE "outer = \"ipv6\";"), 1, false, 4, 6, IO_OFF_NEEDS_CSUM);
	/* None. */
	tnl_not(FRONT("", GUE), 0, true, 4, 4, IO_OFF_NEEDS_CSUM);
	/* No partial checksum: nothing for the device to finish in it. */
	tnl_not(FRONT("", GUE), 3, true, 4, 4, 0);
	tnl_not(FRONT("", GUE), 3, false, 6, 6, 0);
}

/* ---- UDP-tunnel GSO at the back ------------------------------------------ */

/* A front's GUE packet of sp (hdr; its inner TCP super-packet whole,
 * segments of 1000) to b1 over ov, as the kernel hands it to the back's
 * TUN with UDP-tunnel GSO: the outer UDP checksum field the pseudo-header
 * sum, and the metadata tnl_off says. At o; returns the length. */
static uint32_t tnl_in(uint8_t *o, int ov, const struct bigpkt *sp, const struct pg_pkt *hdr, struct io_offload *off)
{
	unsigned ovh = ov == 4 ? 28 : 48;
	uint32_t n = gue_build(o, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), sp->b, sp->len, 0x4321,
			       true, 50000, GUE_PORT);

	pg_put16(o + ovh - 2, pseudo_sum(o, sp->len + 8, 17));
	*off = tnl_off(hdr->family, ov, hdr->l3len + 20u, 1000, false);
	return n;
}

/* gue (glen bytes, metadata goff) through back: sp, the inner TCP
 * super-packet as it came, a plain TCP super-packet for the kernel to cut
 * in the client's segments; hdr_len as goff's less the outer headers. */
static void tnl_back_one(const char *what, struct mslb_lb *back, const uint8_t *gue, uint32_t glen,
			 const struct io_offload *goff, const struct bigpkt *sp, const struct pg_pkt *hdr)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE];
	unsigned l4 = hdr->l3len, hl = l4 + 20u, family = (unsigned)hdr->family, ovh = goff->inner_nh;
	unsigned n = (sp->len - hl + 999) / 1000;
	struct seg_check c = { what, sp, hdr, 1000, 0 };
	struct lb_tunnel_stats ts0, ts;
	uint64_t drops = all_drops(back);
	struct lb_counter b0 = lb_back_counter(back, (gue[0] >> 4) == 4 ? 0 : 1);
	struct pkt_view v;
	struct io_pkt p;
	enum mslb_drop r;

	lb_get_tunnel_stats(back, &ts0);
	r = ufeed(back, gue, glen, goff, &p);
	CU_ASSERT_EQUAL(r, MSLB_OK);
	if (r != MSLB_OK) {
		printf("\n  %s: %s", what, mslb_drop_name(r));
		return;
	}
	CU_ASSERT_EQUAL(ucap.n, 0);
	CU_ASSERT(tp_same(what, p.data, p.len, sp->b, sp->len));
	CU_ASSERT_EQUAL(p.off.flags, IO_OFF_NEEDS_CSUM);
	CU_ASSERT_EQUAL(p.off.gso_type, (family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
						(goff->gso_type & VIRTIO_NET_HDR_GSO_ECN));
	CU_ASSERT(!io_is_tunnel_gso(&p.off));
	CU_ASSERT_EQUAL(p.off.gso_size, goff->gso_size);
	CU_ASSERT_EQUAL(p.off.csum_start, l4);
	CU_ASSERT_EQUAL(p.off.csum_offset, 16);
	CU_ASSERT_EQUAL(p.off.outer_th, 0);
	CU_ASSERT_EQUAL(p.off.inner_nh, 0);
	CU_ASSERT_EQUAL(p.off.hdr_len, goff->hdr_len - ovh);
	CU_ASSERT(p.off.hdr_len <= p.len);
	/* Cut by the kernel: the client's segments. */
	if (p.len == sp->len && pkt_parse(p.data, p.len, &v) == MSLB_OK) {
		CU_ASSERT_EQUAL(gso_segment(&v, &p.off, out + IO_HEADROOM, seg_check_one, &c), (int)n);
		CU_ASSERT_EQUAL(c.k, n);
	}
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.udp_tunnel, ts0.udp_tunnel + 1);
	CU_ASSERT_EQUAL(ts.decapsulated, ts0.decapsulated + 1);
	CU_ASSERT_EQUAL(ts.uso_coalesced, ts0.uso_coalesced);
	CU_ASSERT_EQUAL(ts.uso_split, ts0.uso_split);
	/* Counted against the outer destination, once, the inner bytes. */
	CU_ASSERT_EQUAL(lb_back_counter(back, (gue[0] >> 4) == 4 ? 0 : 1).packets, b0.packets + 1);
	CU_ASSERT_EQUAL(lb_back_counter(back, (gue[0] >> 4) == 4 ? 0 : 1).bytes, b0.bytes + sp->len);
	CU_ASSERT_EQUAL(all_drops(back), drops);
}

/* What the back must refuse: dropped as a bad offload, nothing sent or
 * taken apart. */
static void tnl_bad(const char *what, struct mslb_lb *lb, const uint8_t *pkt, uint32_t len,
		    const struct io_offload *off)
{
	uint64_t bad = lb_drops(lb, MSLB_DROP_BAD_OFFLOAD), drops = all_drops(lb);
	struct lb_tunnel_stats ts0, ts;
	struct io_pkt p;
	enum mslb_drop r;

	lb_get_tunnel_stats(lb, &ts0);
	r = ufeed(lb, pkt, len, off, &p);
	CU_ASSERT_EQUAL(r, MSLB_DROP_BAD_OFFLOAD);
	if (r != MSLB_DROP_BAD_OFFLOAD)
		printf("\n  %s: %s", what, mslb_drop_name(r));
	CU_ASSERT_EQUAL(ucap.n, 0);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_BAD_OFFLOAD), bad + 1);
	CU_ASSERT_EQUAL(all_drops(lb), drops + 1);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.udp_tunnel, ts0.udp_tunnel);
	CU_ASSERT_EQUAL(ts.decapsulated, ts0.decapsulated);
}

/* The metadata of a UDP super-packet (segments of 500) that is in and
 * its partial checksum the UDP one: any device takes it as it is. */
static struct io_offload udp_gso_off(const struct pg_pkt *in)
{
	return (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = (uint16_t)(in->l3len + 8),
		.gso_size = 500,
		.csum_start = in->l3len,
		.csum_offset = 6,
	};
}

/* UDP, not GUE to lb (a back address's other port, a service), whose
 * metadata would be right for it but for the tunnel bits and offsets,
 * which pretend its UDP header an outer one: dropped; without them it
 * goes through. */
static void tnl_udp(struct mslb_lb *lb, struct pg_pkt *in, int ov)
{
	struct io_offload off = udp_gso_off(in), bad = off;
	struct io_pkt p;

	pg_put16(in->buf + in->l3len + 6, pseudo_sum(in->buf, in->len - in->l3len, 17));
	bad.flags |= IO_OFF_TNL_CSUM;
	bad.gso_type |= ov == 4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6;
	bad.outer_th = in->l3len;
	bad.inner_nh = (uint16_t)(in->l3len + 8);
	tnl_bad("tunnel bits on UDP segmentation", lb, in->buf, in->len, &bad);
	bad.flags = IO_OFF_NEEDS_CSUM;
	tnl_bad("tunnel bits on UDP segmentation, no TNL_CSUM", lb, in->buf, in->len, &bad);
	CU_ASSERT_EQUAL(ufeed(lb, in->buf, in->len, &off, &p), MSLB_OK);
	CU_ASSERT(p.len > 0 || ucap.n > 0);
	CU_ASSERT(!p.len || !io_is_tunnel_gso(&p.off));
	for (unsigned k = 0; k < ucap.n && k < UCAP_MAX; k++)
		CU_ASSERT(!io_is_tunnel_gso(&ucap.off[k]));
}

/* Every outer/inner pair, hdr_len the headers' or the whole packet's (the
 * kernel reports the linear part, which may be all of it), with and
 * without ECN; then what does not fit a GUE UDP-tunnel super-packet. */
static void test_gue_back_tunnel_gso(void)
{
	static uint8_t o[IO_BUF_SIZE + 128];
	static struct bigpkt sp;
	static struct gd_pkt x;
	struct mslb_config *cfg;
	struct mslb_lb *back = lb_uso(GBACK(""), &cfg, false);
	static const struct {
		int ov, family;
	} k[] = { { 4, 4 }, { 6, 6 }, { 6, 4 }, { 4, 6 } };
	struct lb_tunnel_stats ts;

	for (unsigned i = 0; i < ARRAY_SIZE(k); i++) {
		int ov = k[i].ov, family = k[i].family;
		unsigned ovh = ov == 4 ? 28 : 48, hl = family == 4 ? 40 : 60;
		struct io_offload off, bad;
		struct pg_pkt hdr, in;
		uint32_t len;
		char what[96];

		for (int whole = 0; whole <= 1; whole++) {
			snprintf(what, sizeof(what), "UDP-tunnel GSO in: TCP/IPv%d in IPv%d, hdr_len %s", family, ov,
				 whole ? "whole" : "headers");
			big_tcp_partial(&sp, &hdr, family, 3000, 0x18);
			len = tnl_in(o, ov, &sp, &hdr, &off);
			CU_ASSERT_EQUAL(off.hdr_len, ovh + hl);
			if (whole)
				off.hdr_len = (uint16_t)len;
			tnl_back_one(what, back, o, len, &off, &sp, &hdr);
		}
		/* CWR on the first: ECN stays with the inner type. */
		snprintf(what, sizeof(what), "UDP-tunnel GSO in: TCP/IPv%d in IPv%d, CWR", family, ov);
		big_tcp_partial(&sp, &hdr, family, 3500, 0x80 | 0x18 | 0x01);
		len = tnl_in(o, ov, &sp, &hdr, &off);
		off.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		tnl_back_one(what, back, o, len, &off, &sp, &hdr);

		big_tcp_partial(&sp, &hdr, family, 3000, 0x18);
		len = tnl_in(o, ov, &sp, &hdr, &off);
		bad = off;
		bad.outer_th++;
		tnl_bad("outer_th after the UDP header", back, o, len, &bad);
		bad = off;
		bad.outer_th--;
		tnl_bad("outer_th before the UDP header", back, o, len, &bad);
		bad = off;
		bad.outer_th = 0;
		tnl_bad("outer_th 0", back, o, len, &bad);
		bad = off;
		bad.inner_nh++;
		tnl_bad("inner_nh after the inner header", back, o, len, &bad);
		bad = off;
		bad.inner_nh = off.outer_th;
		tnl_bad("inner_nh at the UDP header", back, o, len, &bad);
		bad = off;
		bad.inner_nh = 0;
		tnl_bad("inner_nh 0", back, o, len, &bad);
		bad = off;
		bad.flags = IO_OFF_TNL_CSUM;
		tnl_bad("no NEEDS_CSUM", back, o, len, &bad);
		bad = off;
		bad.flags = 0;
		tnl_bad("no flags", back, o, len, &bad);
		bad = off;
		bad.csum_start = (uint16_t)ovh;
		tnl_bad("csum_start at the inner IP header", back, o, len, &bad);
		bad = off;
		bad.csum_start = (uint16_t)(ovh - 8);
		tnl_bad("csum_start at the outer UDP header", back, o, len, &bad);

		/* Tunnel bits on UDP to another port of a back address, and on
		 * GUE-looking UDP to 6081: no GUE here. */
		gd_mk(&in, ov, PG_UDP, ov == 4 ? C4 : C6, ov == 4 ? B4 : B6, 1000, 0, true);
		pg_put16(in.buf + in.l3len + 2, 53);
		pg_recompute(&in);
		bad = off;
		bad.hdr_len = (uint16_t)in.len;
		tnl_bad("UDP to port 53 of a back address", back, in.buf, in.len, &bad);
		tnl_udp(back, &in, ov);
		len = gue_build(o, ov, tl_ip(ov == 4 ? S4 : S6), tl_ip(ov == 4 ? B4 : B6), sp.b, sp.len, 0x4321, true,
				50000, GUE_PORT + 1);
		tnl_bad("GUE-looking UDP to port 6081", back, o, len, &off);
		/* On IP-in-IP carrying the same super-packet. */
		gd_encap(&x, ov, ov == 4 ? S4 : S6, ov == 4 ? B4 : B6, sp.b, sp.len, 0x1234, true);
		bad = off;
		bad.outer_th = bad.inner_nh = (uint16_t)(ov == 4 ? 20 : 40);
		bad.csum_start = (uint16_t)(bad.inner_nh + hdr.l3len);
		bad.hdr_len = (uint16_t)(bad.inner_nh + hl);
		tnl_bad("IP-in-IP, inner_nh at the inner header", back, x.b, x.len, &bad);
		tnl_bad("IP-in-IP, GUE's offsets", back, x.b, x.len, &off);
	}
	lb_get_tunnel_stats(back, &ts);
	CU_ASSERT_EQUAL(ts.udp_tunnel, 3 * ARRAY_SIZE(k));
	CU_ASSERT_EQUAL(ts.decapsulated, 3 * ARRAY_SIZE(k));
	tl_lb_free(back, cfg);
}

/* Tunnel bits on UDP to a service of a front that translates, or on GUE
 * to a front's service (only backs take GUE apart): dropped; the same
 * packets without them go through. */
static void test_gue_tunnel_gso_not_back(void)
{
	static uint8_t o[IO_BUF_SIZE + 128];
	static struct bigpkt sp;
	static const char *const confs[] = { FRONT2("translate"), FRONT("", GUE) };

	for (unsigned i = 0; i < ARRAY_SIZE(confs); i++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = lb_uso(confs[i], &cfg, false);

		for (int ov = 4; ov <= 6; ov += 2) {
			unsigned ovh = ov == 4 ? 28 : 48;
			struct io_offload off;
			struct pg_pkt hdr, in;
			struct io_pkt p;
			uint32_t len;

			big_tcp_partial(&sp, &hdr, ov, 300, 0x18);
			len = gue_build(o, ov, tl_ip(ov == 4 ? C4 : C6), tl_ip(ov == 4 ? S4 : S6), sp.b, sp.len, 0x4321,
					true, 50000, GUE_PORT);
			pg_put16(o + ovh - 2, udp_full(o, o + ovh - 8, sp.len + 8));
			off = tnl_off(ov, ov, hdr.l3len + 20u, 1000, false);
			tnl_bad("UDP-tunnel GSO to a service", lb, o, len, &off);
			CU_ASSERT_EQUAL(ufeed(lb, o, len, NULL, &p), MSLB_OK);
			CU_ASSERT(p.len > 0 || ucap.n > 0);
			gd_mk(&in, ov, PG_UDP, ov == 4 ? C4 : C6, ov == 4 ? S4 : S6, 1000, 0, true);
			tnl_udp(lb, &in, ov);
		}
		tl_lb_free(lb, cfg);
	}
}

/* The whole way: a front's UDP-tunnel super-packet, with its metadata as
 * the kernel carries it over a veth to the back's TUN, taken apart by a
 * back: the client's super-packet. */
static void test_gue_tunnel_gso_round_trip(void)
{
	static const char *const fronts[] = {
		FRONT("", GUE),
		FRONT("", GUE "outer = \"ipv6\";"),
		FRONT("", GUE "outer = \"ipv4\";"),
	};
	static struct bigpkt sp;
	static struct gd_pkt mid;
	struct mslb_config *bcfg;
	struct mslb_lb *back = lb_uso(GBACK(""), &bcfg, false);
	unsigned n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(fronts); i++)
		for (int family = 4; family <= 6; family += 2) {
			struct mslb_config *fcfg;
			struct mslb_lb *front = lb_uso(fronts[i], &fcfg, true);
			unsigned hl = family == 4 ? 40 : 60;
			struct io_offload off = gso_off(family, hl), moff;
			struct pg_pkt hdr;
			char what[96];

			lb_set_emit_tunnel_gso(front, 3);
			snprintf(what, sizeof(what), "UDP-tunnel GSO round trip: front %u, TCP/IPv%d", i, family);
			big_tcp_partial(&sp, &hdr, family, 3500, 0x18);
			ufront(front, sp.b, sp.len, &off, 0);
			CU_ASSERT_EQUAL_FATAL(wire.n, 1);
			CU_ASSERT_FATAL(wire.len[0] <= GD_XBUF);
			CU_ASSERT(io_is_tunnel_gso(&wire.off[0]));
			gd_set(&mid, wire.b[0], wire.len[0]);
			moff = wire.off[0];
			tnl_back_one(what, back, mid.b, mid.len, &moff, &sp, &hdr);
			n++;
			tl_lb_free(front, fcfg);
		}
	{
		struct lb_tunnel_stats ts;

		lb_get_tunnel_stats(back, &ts);
		CU_ASSERT_EQUAL(ts.udp_tunnel, n);
	}
	tl_lb_free(back, bcfg);
}

void suite_gue(void)
{
	CU_pSuite s = CU_add_suite("gue", gue_init, NULL);

	UNIT_ADD(s, test_gue_overhead);
	UNIT_ADD(s, test_gue_push);
	UNIT_ADD(s, test_gue_push_flow_label);
	UNIT_ADD(s, test_gue_push_csum_ffff);
	UNIT_ADD(s, test_gue_sport);
	UNIT_ADD(s, test_gue_pop);
	UNIT_ADD(s, test_gue_config);
	UNIT_ADD(s, test_gue_config_errors);
	UNIT_ADD(s, test_gue_config_keys);
	UNIT_ADD(s, test_gue_front);
	UNIT_ADD(s, test_gue_front_default);
	UNIT_ADD(s, test_gue_front_mtu);
	UNIT_ADD(s, test_gue_front_fragments);
	UNIT_ADD(s, test_gue_v6_small_reassembled);
	UNIT_ADD(s, test_gue_back_fragments_refused);
	UNIT_ADD(s, test_gue_icmp_outer_fragments);
	UNIT_ADD(s, test_gue_front_gso);
	UNIT_ADD(s, test_gue_front_offload);
	UNIT_ADD(s, test_gue_front_offload_fragments);
	UNIT_ADD(s, test_gue_status);
	UNIT_ADD(s, test_gue_icmp);
	UNIT_ADD(s, test_gue_back);
	UNIT_ADD(s, test_gue_back_ports);
	UNIT_ADD(s, test_gue_back_offload);
	UNIT_ADD(s, test_gue_back_offload_inner);
	UNIT_ADD(s, test_gue_round_trip);
	UNIT_ADD(s, test_gue_round_trip_partial);
	UNIT_ADD(s, test_gue_front_uso);
	UNIT_ADD(s, test_gue_front_uso_same_inner);
	UNIT_ADD(s, test_gue_front_uso_big);
	UNIT_ADD(s, test_gue_front_uso_in_place);
	UNIT_ADD(s, test_gue_front_uso_ring_end);
	UNIT_ADD(s, test_gue_front_uso_too_big);
	UNIT_ADD(s, test_gue_front_uso_udp);
	UNIT_ADD(s, test_gue_uso_round_trip);
	UNIT_ADD(s, test_gue_back_uso_split);
	UNIT_ADD(s, test_gue_back_uso_trust);
	UNIT_ADD(s, test_gue_back_uso_bad);
	UNIT_ADD(s, test_gue_tunnel_gso_values);
	UNIT_ADD(s, test_gue_front_tunnel_gso);
	UNIT_ADD(s, test_gue_front_tunnel_gso_longest);
	UNIT_ADD(s, test_gue_front_tunnel_gso_not);
	UNIT_ADD(s, test_gue_back_tunnel_gso);
	UNIT_ADD(s, test_gue_tunnel_gso_not_back);
	UNIT_ADD(s, test_gue_tunnel_gso_round_trip);
}
