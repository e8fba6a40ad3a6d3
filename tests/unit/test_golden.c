/* golden: whole packets through the whole data path (lb_process_pkt on an
 * io_pkt with headroom, lb_set_emit capturing what the data path makes
 * besides), compared byte for byte with packets written out here: outer
 * headers field by field, checksums by pktgen's reference code. Each case
 * is a config and a script of steps; each step an input packet and the
 * expected result: the packet to send (or nothing), the drop reason, and
 * the packets emitted. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/virtio_net.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "base/addr.h"
#include "config/config.h"
#include "io/io.h"
#include "lb/lb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The cast: a client, the service, next hops (backs), a router on the
 * tunnel path, a return endpoint, a second-stage front. */
#define C4 "192.0.2.1"
#define C6 "2001:db8:c1::1"
#define S4 "203.0.113.10"
#define S6 "2001:db8:5::10"
#define B4 "198.51.100.11"
#define B6 "2001:db8:b::11"
#define B2_4 "198.51.100.12"
#define B2_6 "2001:db8:b::12"
#define R4 "198.51.100.1"
#define R6 "2001:db8:ff::1"
#define E4 "198.51.100.200"
#define E6 "2001:db8:e::1"
#define F2_4 "198.51.100.50"
#define F2_6 "2001:db8:f2::50"
#define TS4 "203.0.113.100"
#define TS6 "2001:db8:5::100"

#define Q(s) "\"" s "\""

/* A front whose one next hop b1 takes every client. */
#define FRONT(front_extra, nh_extra) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = \"encapsulate\";\n" \
	front_extra \
	"  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; " nh_extra " } );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

/* Two next hops: the clients' prefixes go to b2, anything else to b1. */
#define FRONT2(mode) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; },\n" \
	"    { name = \"b2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/24\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

#define BACK(extra) \
	"back = {\n" \
	"  addresses = (\n" \
	"    { address = " Q(B4) "; service = " Q(S4) "; },\n" \
	"    { address = " Q(B6) "; service = " Q(S6) "; }\n" \
	"  );\n" \
	extra \
	"};\n"

#define ENDPOINT \
	"return_endpoint = {\n" \
	"  addresses = [ " Q(E4) ", " Q(E6) " ];\n" \
	"  allowed_sources = [ \"198.51.100.0/24\", \"2001:db8:b::/64\" ];\n" \
	"};\n"

/* A second-stage front: decapsulates what the first front (outer source
 * IP_S) sends to its own address, balances again, encapsulates to b1. */
#define FRONT_STAGE2(mode) \
	"front = {\n" \
	"  services = [ " Q(F2_4) ", " Q(F2_6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  allowed_sources = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; } );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

#define MAX_STEPS 8
#define MAX_EMIT 8
#define XBUF (PG_BUFSZ + 128)

struct xpkt {
	uint32_t len;
	bool any_label;		/* an IPv6 outer header of the daemon's: its flow label is its own */
	uint8_t b[XBUF];
};

struct step {
	const char *what;
	double now;
	struct xpkt in;
	struct io_offload off;
	enum mslb_drop want;
	struct xpkt out;	/* with MSLB_OK: what p describes afterwards (len 0: nothing) */
	unsigned n_emit;
	struct xpkt emit[MAX_EMIT];
	void (*check)(struct mslb_lb *lb);	/* after the step */
	bool check_off;
	struct io_offload out_off;	/* with check_off: p->off afterwards */
};

struct gcase {
	unsigned n;
	struct step s[MAX_STEPS];
};

struct golden {
	const char *name;
	const char *conf;
	void (*build)(struct gcase *c);
};

static struct pg_rng rng;
static struct gcase gc;

/* ---- building packets ---------------------------------------------- */

/* A packet of total bytes (UDP or TCP) with a chosen TOS and DF. */
static void mk(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, unsigned total,
	       uint8_t tos, bool df)
{
	unsigned hl = (family == 4 ? 20 : 40) + pg_l4_hdrlen(proto);

	CU_ASSERT_FATAL(total >= hl && total <= PG_BUFSZ);
	tp_mk(&rng, p, family, proto, src, dst, total - hl, tos, df);
}

/* A client's packet to the service. */
static void client(struct pg_pkt *p, int family, unsigned total, uint8_t tos, bool df)
{
	mk(p, family, PG_UDP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, total, tos, df);
}

static void x_set(struct xpkt *x, const uint8_t *b, uint32_t len)
{
	CU_ASSERT_FATAL(len <= XBUF);
	memmove(x->b, b, len);
	x->len = len;
	x->any_label = false;
}

/* inner in an outer header, as RFC 2003 / RFC 2473 / RFC 4213 and RFC 6040
 * normal mode have it: DSCP and ECN copied, TTL 64. */
static void x_encap(struct xpkt *x, int ov, const char *src, const char *dst, const uint8_t *inner, uint32_t ilen,
		    uint16_t id, bool df)
{
	unsigned hl = ov == 4 ? 20 : 40;

	CU_ASSERT_FATAL(hl + ilen <= XBUF);
	memmove(x->b + hl, inner, ilen);
	tp_outer(x->b, ov, x->b + hl, ilen, tl_ip(src), tl_ip(dst), id, df);
	x->len = hl + ilen;
	x->any_label = ov == 6;
}

/* Bytes [off, off + n) of whole's payload in an IPv4 fragment (RFC 791). */
static void x_frag4(struct xpkt *f, const struct xpkt *whole, unsigned off, unsigned n, bool more)
{
	memcpy(f->b, whole->b, 20);
	memcpy(f->b + 20, whole->b + 20 + off, n);
	pg_put16(f->b + 2, (uint16_t)(20 + n));
	pg_put16(f->b + 6, (uint16_t)((whole->b[6] & 0x40) << 8 | (more ? 0x2000 : 0) | off / 8));
	tp_ip4_csum(f->b);
	f->len = 20 + n;
	f->any_label = false;
}

/* The same in an IPv6 fragment header after a 40-byte header (RFC 8200 4.5). */
static void x_frag6(struct xpkt *f, const struct xpkt *whole, unsigned off, unsigned n, bool more, uint32_t id)
{
	uint8_t *fh = f->b + 40;

	memcpy(f->b, whole->b, 40);
	pg_put16(f->b + 4, (uint16_t)(8 + n));
	f->b[6] = 44;
	fh[0] = whole->b[6];
	fh[1] = 0;
	pg_put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	pg_put32(fh + 4, id);
	memcpy(fh + 8, whole->b + 40 + off, n);
	f->len = 48 + n;
	f->any_label = whole->any_label;
}

/* An ICMP (IPv4: TTL 64, ID 0, no DF) or ICMPv6 (hop limit 64) error. */
static uint32_t icmp_msg(uint8_t *o, int family, const char *from, const char *to, uint8_t tos, uint8_t type,
			 uint8_t code, uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	return tp_icmp(o, family, tl_ip(from), tl_ip(to), tos, type, code, info, quote, qlen);
}

/* The error the daemon sends: IPv4 with precedence "internetwork control"
 * (TOS 0xc0), ICMPv6 with traffic class 0. */
static void x_icmp(struct xpkt *x, int family, const char *from, const char *to, uint8_t type, uint8_t code,
		   uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	x->len = icmp_msg(x->b, family, from, to, family == 4 ? 0xc0 : 0, type, code, info, quote, qlen);
	x->any_label = false;
}

/* Recompute the IPv4 header checksum and the ICMP / ICMPv6 checksum of an
 * ICMP packet (after a rewrite). */
static void icmp_fix(struct xpkt *x)
{
	bool v4 = (x->b[0] >> 4) == 4;
	unsigned hl = v4 ? 20 : 40;
	uint32_t mlen = x->len - hl;
	uint64_t acc = 0;

	if (v4) {
		tp_ip4_csum(x->b);
	} else {
		acc = ref_sum(acc, x->b + 8, 32);
		acc += mlen + 58;
	}
	pg_put16(x->b + hl + 2, 0);
	pg_put16(x->b + hl + 2, (uint16_t)~ref_fold(ref_sum(acc, x->b + hl, mlen)));
}

static struct step *st(struct gcase *c, const char *what, double now, enum mslb_drop want)
{
	struct step *s;

	CU_ASSERT_FATAL(c->n < MAX_STEPS);
	s = &c->s[c->n++];
	memset(s, 0, sizeof(*s));
	s->what = what;
	s->now = now;
	s->want = want;
	return s;
}

static struct xpkt *em(struct step *s)
{
	CU_ASSERT_FATAL(s->n_emit < MAX_EMIT);
	return &s->emit[s->n_emit++];
}

/* ---- running -------------------------------------------------------- */

static struct {
	unsigned n;
	struct xpkt p[MAX_EMIT];
} cap;

static void capture(void *ctx, const uint8_t *pkt, uint32_t len)
{
	(void)ctx;
	if (cap.n < MAX_EMIT && len <= XBUF) {
		memcpy(cap.p[cap.n].b, pkt, len);
		cap.p[cap.n].len = len;
	}
	cap.n++;
}

static bool match(const char *what, const uint8_t *got, uint32_t glen, const struct xpkt *x)
{
	static uint8_t e[XBUF];

	memcpy(e, x->b, x->len);
	if (x->any_label && glen >= 4)
		tp_take_label(e, got);
	return tp_same(what, got, glen, e, x->len);
}

static uint64_t all_drops(const struct mslb_lb *lb)
{
	uint64_t n = 0;

	for (int d = 1; d < MSLB_DROP_MAX; d++)
		n += lb_drops(lb, (enum mslb_drop)d);
	return n;
}

static void run(const struct golden *g)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(g->conf, g->name, &cfg);

	lb_set_emit(lb, capture, NULL);
	memset(&gc, 0, sizeof(gc));
	g->build(&gc);
	for (unsigned i = 0; i < gc.n; i++) {
		const struct step *s = &gc.s[i];
		struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM, .len = s->in.len, .off = s->off };
		uint64_t want_n = lb_drops(lb, s->want), drops = all_drops(lb);
		char what[160];
		enum mslb_drop r;

		snprintf(what, sizeof(what), "%s: %s", g->name, s->what);
		memset(buf, 0xa5, sizeof(buf));
		memcpy(p.data, s->in.b, s->in.len);
		cap.n = 0;
		lb_set_time(lb, s->now);
		r = lb_process_pkt(lb, &p);
		CU_ASSERT_EQUAL(r, s->want);
		if (r != s->want)
			printf("\n  %s: got %s, expected %s", what, mslb_drop_name(r), mslb_drop_name(s->want));
		if (s->want != MSLB_OK) {
			CU_ASSERT_EQUAL(lb_drops(lb, s->want), want_n + 1);
		} else {
			CU_ASSERT_EQUAL(all_drops(lb), drops);
		}
		if (r == MSLB_OK && s->want == MSLB_OK) {
			CU_ASSERT(p.data >= buf && p.data + p.len <= buf + sizeof(buf));
			CU_ASSERT_EQUAL(p.len, s->out.len);
			if (p.len != s->out.len)
				printf("\n  %s: sends %u bytes, expected %u", what, p.len, s->out.len);
			else if (p.len)
				CU_ASSERT(match(what, p.data, p.len, &s->out));
			if (s->check_off) {
				CU_ASSERT_EQUAL(p.off.flags, s->out_off.flags);
				CU_ASSERT_EQUAL(p.off.gso_type, s->out_off.gso_type);
				CU_ASSERT_EQUAL(p.off.csum_start, s->out_off.csum_start);
				CU_ASSERT_EQUAL(p.off.csum_offset, s->out_off.csum_offset);
				if (p.off.csum_start != s->out_off.csum_start)
					printf("\n  %s: csum_start %u, expected %u", what, p.off.csum_start,
					       s->out_off.csum_start);
			}
		}
		CU_ASSERT_EQUAL(cap.n, s->n_emit);
		if (cap.n != s->n_emit)
			printf("\n  %s: emitted %u packets, expected %u", what, cap.n, s->n_emit);
		for (unsigned k = 0; k < cap.n && k < s->n_emit && k < MAX_EMIT; k++) {
			char w[200];

			snprintf(w, sizeof(w), "%s: emitted #%u", what, k);
			CU_ASSERT(match(w, cap.p[k].b, cap.p[k].len, &s->emit[k]));
		}
		if (s->check)
			s->check(lb);
	}
	tl_lb_free(lb, cfg);
}

static void run_all(const struct golden *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		run(&g[i]);
}

/* ---- the front: every family combination ---------------------------- */

struct encap_row {
	const char *name, *conf;
	int inner;		/* inner family */
	unsigned len;		/* inner bytes */
	uint8_t tos;
	bool df;
	int ov;			/* outer family expected */
	const char *osrc, *odst;
	bool odf;		/* IPv4 outer: DF expected */
};

static const struct encap_row *row;

static void check_row(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
	CU_ASSERT_EQUAL(t.fragments, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, row->len);
}

static void build_row(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s = st(c, "encapsulated", 1, MSLB_OK);

	client(&in, row->inner, row->len, row->tos, row->df);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, row->ov, row->osrc, row->odst, in.buf, in.len, 0, row->odf);
	s->check = check_row;
}

#define TSRC "  tunnel_source = { ipv4 = " Q(TS4) "; ipv6 = " Q(TS6) "; };\n"

static const struct encap_row rows[] = {
	{ "4 in 4 (same), DF", FRONT("", ""), 4, 300, 0xb9, true, 4, S4, B4, true },
	{ "4 in 4 (same), no DF", FRONT("", ""), 4, 300, 0x03, false, 4, S4, B4, false },
	{ "6 in 6 (same)", FRONT("", ""), 6, 300, 0xb9, false, 6, S6, B6, false },
	{ "4 in 4 (outer ipv4), DF", FRONT("", "outer = \"ipv4\";"), 4, 300, 0x2e, true, 4, S4, B4, true },
	{ "4 in 4 (outer ipv4), no DF", FRONT("", "outer = \"ipv4\";"), 4, 300, 0x00, false, 4, S4, B4, false },
	{ "6 in 4 (outer ipv4): DF set", FRONT("", "outer = \"ipv4\";"), 6, 300, 0x0a, false, 4, S4, B4, true },
	{ "4 in 6 (outer ipv6), DF", FRONT("", "outer = \"ipv6\";"), 4, 300, 0xba, true, 6, S6, B6, false },
	{ "4 in 6 (outer ipv6), no DF", FRONT("", "outer = \"ipv6\";"), 4, 300, 0x01, false, 6, S6, B6, false },
	{ "6 in 6 (outer ipv6)", FRONT("", "outer = \"ipv6\";"), 6, 300, 0xff, false, 6, S6, B6, false },
	{ "4 in 4, tunnel_source", FRONT(TSRC, ""), 4, 300, 0x48, true, 4, TS4, B4, true },
	{ "6 in 6, tunnel_source", FRONT(TSRC, ""), 6, 300, 0x48, false, 6, TS6, B6, false },
	{ "4 in 6, tunnel_source", FRONT(TSRC, "outer = \"ipv6\";"), 4, 300, 0x48, true, 6, TS6, B6, false },
	{ "6 in 4, tunnel_source", FRONT(TSRC, "outer = \"ipv4\";"), 6, 300, 0x48, false, 4, TS4, B4, true },
	{ "4 in 4, exactly the tunnel MTU", FRONT("", ""), 4, 1480, 0, true, 4, S4, B4, true },
	{ "6 in 6, exactly the tunnel MTU", FRONT("", ""), 6, 1460, 0, false, 6, S6, B6, false },
	{ "4 in 6, exactly the tunnel MTU", FRONT("", "outer = \"ipv6\"; path_mtu = 1400;"), 4, 1360, 0, true, 6, S6,
	  B6, false },
	{ "per next hop mode", "front = { services = [ " Q(S4) " ];\n"
	  "  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; mode = \"encapsulate\"; } ); unmatched = \"b1\"; };\n",
	  4, 100, 0, true, 4, S4, B4, true },
};

static void test_golden_families(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct golden g = { rows[i].name, rows[i].conf, build_row };

		row = &rows[i];
		run(&g);
	}
}

/* A front whose next hop translates while the front's default encapsulates. */
static void build_translate_override(struct gcase *c)
{
	struct pg_pkt in, e;
	struct step *s = st(c, "translated", 1, MSLB_OK);

	client(&in, 4, 200, 0x10, true);
	x_set(&s->in, in.buf, in.len);
	e = in;
	pg_set_dst(&e, tl_ip(B4));
	pg_recompute(&e);
	x_set(&s->out, e.buf, e.len);
}

/* Client fragments: each encapsulated as it is, with its DF (none). */
static void build_fragments_in(struct gcase *c)
{
	struct pg_pkt w, f;
	struct step *s;
	unsigned tl;

	client(&w, 4, 1000, 0x20, false);
	tl = w.len - 20;
	s = st(c, "first fragment", 1, MSLB_OK);
	pg_fragment(&w, 0, 504, true, &f);
	x_set(&s->in, f.buf, f.len);
	x_encap(&s->out, 4, S4, B4, f.buf, f.len, 0, false);
	s = st(c, "last fragment", 1, MSLB_OK);
	pg_fragment(&w, 504, tl - 504, false, &f);
	x_set(&s->in, f.buf, f.len);
	x_encap(&s->out, 4, S4, B4, f.buf, f.len, 1, false);
	/* A fragment with DF (the odd sender): DF copied. */
	s = st(c, "middle fragment with DF", 1, MSLB_OK);
	pg_fragment(&w, 256, 248, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	x_set(&s->in, f.buf, f.len);
	x_encap(&s->out, 4, S4, B4, f.buf, f.len, 2, true);
}

static void test_golden_front_misc(void)
{
	static const struct golden g[] = {
		{ "next hop mode translate",
		  "front = { services = [ " Q(S4) " ]; mode = \"encapsulate\";\n"
		  "  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; mode = \"translate\"; } ); unmatched = \"b1\"; };\n",
		  build_translate_override },
		{ "ipv4 fragments in", FRONT("", ""), build_fragments_in },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- too big ------------------------------------------------------- */

static void check_icmp_sent_1(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(ts.icmp_sent, 1);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
}

/* path_mtu 1400: tunnel MTU 1380 (IPv4 outer). */
static void build_too_big_v4(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1380 bytes with DF fit", 1, MSLB_OK);
	client(&in, 4, 1380, 0x28, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s = st(c, "1381 bytes with DF: fragmentation needed, MTU 1380", 1, MSLB_DROP_TOO_BIG);
	client(&in, 4, 1381, 0x28, true);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1380, in.buf, 548);
	s->check = check_icmp_sent_1;
}

/* path_mtu 1400: tunnel MTU 1360 (IPv6 outer). */
static void build_too_big_v6(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1360 bytes fit", 1, MSLB_OK);
	client(&in, 6, 1360, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = st(c, "1361 bytes: packet too big, MTU 1360", 1, MSLB_DROP_TOO_BIG);
	client(&in, 6, 1361, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
	s->check = check_icmp_sent_1;
}

/* outer ipv6, path_mtu 1400: IPv4 inner, tunnel MTU 1360. */
static void build_too_big_v4_in_v6(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1361 bytes with DF: MTU 1360", 1, MSLB_DROP_TOO_BIG);
	client(&in, 4, 1361, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1360, in.buf, 548);
	s = st(c, "1360 bytes with DF fit", 1, MSLB_OK);
	client(&in, 4, 1360, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
}

/* outer ipv4, path_mtu 1280: tunnel MTU 1260, below IPv6's minimum. */
static void build_v6_in_v4_small(struct gcase *c)
{
	static struct xpkt whole;
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1300 bytes: packet too big, MTU 1280 (never less)", 1, MSLB_DROP_TOO_BIG);
	client(&in, 6, 1300, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);
	s = st(c, "1280 bytes: outer IPv4 fragments, DF clear", 1, MSLB_OK);
	client(&in, 6, 1280, 0x04, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&whole, 4, S4, B4, in.buf, in.len, 0, false);
	x_frag4(em(s), &whole, 0, 1256, true);
	x_frag4(em(s), &whole, 1256, 24, false);
	s = st(c, "1260 bytes fit, DF set", 1, MSLB_OK);
	client(&in, 6, 1260, 0x04, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);
}

static void check_v6_small(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1280);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1240);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_CONFIG);
	CU_ASSERT_EQUAL(t.encapsulated, 3);
	CU_ASSERT_EQUAL(t.fragments, 2);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 3);
}

/* outer ipv6, path_mtu 1280: tunnel MTU 1240. IPv6 up to 1280 goes in
 * outer fragments the back reassembles (RFC 2473 7.1). */
static void build_v6_small(struct gcase *c)
{
	static struct xpkt whole;
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1240 bytes fit", 1, MSLB_OK);
	client(&in, 6, 1240, 0xb8, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = st(c, "1280 bytes: two outer fragments", 1, MSLB_OK);
	client(&in, 6, 1280, 0xb8, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	x_frag6(em(s), &whole, 0, 1232, true, 1);
	x_frag6(em(s), &whole, 1232, 48, false, 1);
	s = st(c, "1000 bytes fit", 1, MSLB_OK);
	client(&in, 6, 1000, 0xb8, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	s = st(c, "1281 bytes: packet too big, MTU 1280", 1, MSLB_DROP_TOO_BIG);
	client(&in, 6, 1281, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1280, in.buf, 1232);
	s->check = check_v6_small;
}

static void check_v4_nodf(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 5);
	CU_ASSERT_EQUAL(t.fragments, 5);
	CU_ASSERT_EQUAL(t.icmp_sent, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, 2000 + 1500);
}

/* path_mtu 1000: tunnel MTU 980. IPv4 without DF: the inner packet is
 * fragmented, each fragment encapsulated. */
static void build_v4_nodf(struct gcase *c)
{
	struct pg_pkt in, f;
	struct step *s;

	s = st(c, "2000 bytes without DF: three inner fragments", 1, MSLB_OK);
	client(&in, 4, 2000, 0x10, false);
	x_set(&s->in, in.buf, in.len);
	pg_fragment(&in, 0, 960, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 0, false);
	pg_fragment(&in, 960, 960, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 1, false);
	pg_fragment(&in, 1920, 60, false, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 2, false);

	/* A client's fragment, cut again: offsets carry on, MF stays. */
	s = st(c, "a 1500-byte fragment: two pieces, offsets from 1480", 1, MSLB_OK);
	client(&in, 4, 3500, 0x10, false);
	pg_fragment(&in, 1480, 1480, true, &f);
	x_set(&s->in, f.buf, f.len);
	pg_fragment(&in, 1480, 960, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 3, false);
	pg_fragment(&in, 2440, 520, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 4, false);
	s->check = check_v4_nodf;
}

static void test_golden_too_big(void)
{
	static const struct golden g[] = {
		{ "too big ipv4", FRONT("", "path_mtu = 1400;"), build_too_big_v4 },
		{ "too big ipv6", FRONT("", "path_mtu = 1400;"), build_too_big_v6 },
		{ "too big ipv4 in ipv6", FRONT("", "outer = \"ipv6\"; path_mtu = 1400;"), build_too_big_v4_in_v6 },
		{ "ipv6 in ipv4 below 1280", FRONT("", "outer = \"ipv4\"; path_mtu = 1280;"), build_v6_in_v4_small },
		{ "ipv6 in ipv6 below 1280", FRONT("", "path_mtu = 1280;"), build_v6_small },
		{ "ipv4 without DF", FRONT("", "path_mtu = 1000;"), build_v4_nodf },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- ICMP rate limit ------------------------------------------------ */

static void check_rate(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.icmp_sent, 2);
	CU_ASSERT_EQUAL(t.icmp_rate_limited, 3);
	CU_ASSERT_EQUAL(ts.icmp_sent, 2);
	CU_ASSERT_EQUAL(ts.icmp_rate_limited, 3);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TOO_BIG), 2);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_ICMP_RATE_LIMITED), 3);
}

static void build_rate(struct gcase *c)
{
	static const struct { const char *what; double now; bool sent; int family; } seq[] = {
		{ "first: sent", 100, true, 4 },
		{ "second at once: rate limited", 100, false, 4 },
		{ "half a second later: still limited", 100.5, false, 4 },
		{ "IPv6 shares the bucket", 100.6, false, 6 },
		{ "a second and a half later: sent", 101.5, true, 4 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(seq); i++) {
		struct pg_pkt in;
		struct step *s = st(c, seq[i].what, seq[i].now,
				    seq[i].sent ? MSLB_DROP_TOO_BIG : MSLB_DROP_ICMP_RATE_LIMITED);

		client(&in, seq[i].family, 1500, 0, true);
		x_set(&s->in, in.buf, in.len);
		if (seq[i].sent)
			x_icmp(em(s), 4, S4, C4, 3, 4, 1380, in.buf, 548);
	}
	c->s[c->n - 1].check = check_rate;
}

static void test_golden_rate_limit(void)
{
	static const struct golden g = {
		"icmp rate limit", FRONT("", "path_mtu = 1400;") "icmp = { rate = 1; burst = 1; };\n", build_rate
	};

	run(&g);
}

/* ---- ICMP errors about the front's own tunnel packets ---------------- */

static struct xpkt outer_sent;

static void check_learned_v4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;
	struct lb_tunnel_stats ts;

	lb_next_hop_tunnel(lb, 0, &t);
	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1280);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT(t.expires_in[0] > 598.9 && t.expires_in[0] < 599.1);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);		/* the IPv6 tunnel is another path */
	CU_ASSERT_NOT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_received, 1);
	CU_ASSERT_EQUAL(ts.icmp_relayed, 1);
	CU_ASSERT_EQUAL(ts.icmp_sent, 2);
}

static void check_expired_v4(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.expires_in[0], 0);
}

/* A router between front and back says the tunnel path is 1300 bytes:
 * the next hop's tunnel MTU drops to 1280 for pmtu_expires, and the client
 * hears about it. */
static void build_icmp_outer_v4(struct gcase *c)
{
	static struct pg_pkt in;
	struct step *s;

	s = st(c, "1400 bytes with DF go through", 10, MSLB_OK);
	client(&in, 4, 1400, 0x28, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = st(c, "router: fragmentation needed, MTU 1300", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1300, outer_sent.b, 548);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = st(c, "1400 bytes now too big: MTU 1280", 11, MSLB_DROP_TOO_BIG);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1280, in.buf, 548);
	s->check = check_learned_v4;

	s = st(c, "1280 bytes fit", 11, MSLB_OK);
	client(&in, 4, 1280, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);

	s = st(c, "a larger MTU later does not raise it", 12, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1450, outer_sent.b, 28);

	s = st(c, "after pmtu_expires: 1400 bytes go through again", 700, MSLB_OK);
	client(&in, 4, 1400, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, true);
	s->check = check_expired_v4;
}

static void check_floor(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 552);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 532);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.icmp_received, 3);
}

/* An absurd MTU is not believed below 552; a quote of only the outer
 * header and 8 bytes teaches the MTU but cannot be relayed; an unreachable
 * is relayed as host unreachable. */
static void build_icmp_outer_floor(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "1000 bytes with DF", 10, MSLB_OK);
	client(&in, 4, 1000, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = st(c, "router: MTU 300, RFC 792 quote", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 300, outer_sent.b, 28);
	s = st(c, "router without an MTU", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 0, outer_sent.b, 28);
	s = st(c, "host unreachable, relayed", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0, 3, 1, 0, outer_sent.b, 548);
	x_icmp(em(s), 4, S4, C4, 3, 1, 0, outer_sent.b + 20, 528);
	s->check = check_floor;
}

static void check_learned_v6(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1400);
	CU_ASSERT_EQUAL(t.tunnel_mtu[1], 1360);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
}

static void build_icmp_outer_v6(struct gcase *c)
{
	static struct pg_pkt in;
	struct step *s;

	s = st(c, "1450 bytes go through", 10, MSLB_OK);
	client(&in, 6, 1450, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 0, false);
	outer_sent = s->out;

	s = st(c, "router: packet too big, MTU 1400", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, outer_sent.b, 1232);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1360, outer_sent.b + 40, 1192);
	s->check = check_learned_v6;

	s = st(c, "1450 bytes now too big: MTU 1360", 11, MSLB_DROP_TOO_BIG);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
}

/* IPv6 clients over an IPv4 tunnel: the IPv4 error becomes an ICMPv6 one. */
static void build_icmp_outer_6in4(struct gcase *c)
{
	static struct pg_pkt in;
	struct step *s;

	s = st(c, "1400 bytes go through", 10, MSLB_OK);
	client(&in, 6, 1400, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = st(c, "router: fragmentation needed, MTU 1350", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0, 3, 4, 1350, outer_sent.b, 548);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1330, outer_sent.b + 20, 528);

	s = st(c, "1400 bytes now too big: MTU 1330", 11, MSLB_DROP_TOO_BIG);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1330, in.buf, 1232);

	s = st(c, "1280 bytes fit", 11, MSLB_OK);
	client(&in, 6, 1280, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 1, true);
}

/* tunnel_source need not be a service: the errors about the tunnel come
 * back to it (hostcfg routes it into the TUN), and must be understood. */
static void build_icmp_outer_tsrc(struct gcase *c)
{
	static struct pg_pkt in;
	struct step *s;

	s = st(c, "1400 bytes with DF go through", 10, MSLB_OK);
	client(&in, 4, 1400, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, "198.51.100.77", B4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = st(c, "router to the tunnel source: MTU 1300", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, "198.51.100.77", 0, 3, 4, 1300, outer_sent.b, 548);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = st(c, "1400 bytes now too big", 11, MSLB_DROP_TOO_BIG);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1280, in.buf, 548);
}

static void test_golden_icmp_outer(void)
{
	static const struct golden g[] = {
		{ "icmp about the tunnel (ipv4)", FRONT("", ""), build_icmp_outer_v4 },
		{ "icmp about the tunnel: floor, short quote", FRONT("", ""), build_icmp_outer_floor },
		{ "icmp about the tunnel (ipv6)", FRONT("", ""), build_icmp_outer_v6 },
		{ "icmp about the tunnel (6 in 4)", FRONT("", "outer = \"ipv4\";"), build_icmp_outer_6in4 },
	};

	run_all(g, ARRAY_SIZE(g));
}

static void test_golden_icmp_outer_tunnel_source(void)
{
	static const struct golden g = {
		"icmp about the tunnel to tunnel_source",
		FRONT("  tunnel_source = { ipv4 = \"198.51.100.77\"; };\n", ""), build_icmp_outer_tsrc
	};

	run(&g);
}

/* ---- ICMP errors about a server's packets ---------------------------- */

static bool icmp_translate;

static void check_followed(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.icmp_received, 3);
	CU_ASSERT_EQUAL(ts.icmp_followed, 2);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 1);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 1), 1);
	CU_ASSERT_EQUAL(lb_unmatched_hits(lb), 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 1).packets, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
}

/* The error goes where the client's packets go (b2), not where the
 * router's own packets would (b1): translated or encapsulated. */
static void icmp_to(struct step *s, const char *nh, uint16_t id)
{
	if (icmp_translate) {
		x_set(&s->out, s->in.b, s->in.len);
		memcpy(s->out.b + ((s->in.b[0] >> 4) == 4 ? 16 : 24), tl_ip(nh), (s->in.b[0] >> 4) == 4 ? 4 : 16);
		icmp_fix(&s->out);
	} else {
		x_encap(&s->out, (s->in.b[0] >> 4) == 4 ? 4 : 6, (s->in.b[0] >> 4) == 4 ? S4 : S6, nh, s->in.b,
			s->in.len, id, false);
	}
}

static void build_icmp_server(struct gcase *c)
{
	struct pg_pkt srv;
	struct step *s;

	s = st(c, "fragmentation needed about IP_S -> client", 1, MSLB_OK);
	mk(&srv, 4, PG_TCP, S4, C4, 1500, 0, true);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 4, 1400, srv.buf, 548);
	icmp_to(s, B2_4, 0);

	s = st(c, "packet too big about IP_S -> client", 1, MSLB_OK);
	mk(&srv, 6, PG_TCP, S6, C6, 1500, 0, false);
	s->in.len = icmp_msg(s->in.b, 6, R6, S6, 0, 2, 0, 1400, srv.buf, 1232);
	icmp_to(s, B2_6, 1);

	/* About a packet that is not a server's: balanced by its own source. */
	s = st(c, "an error about someone else's packet", 1, MSLB_OK);
	mk(&srv, 4, PG_UDP, "192.0.2.77", "198.51.100.99", 100, 0, false);
	s->in.len = icmp_msg(s->in.b, 4, R4, S4, 0xc0, 3, 3, 0, srv.buf, 100);
	icmp_to(s, B4, 1 + !icmp_translate);
	s->check = check_followed;
}

static void build_icmp_server_enc(struct gcase *c)
{
	icmp_translate = false;
	build_icmp_server(c);
}

static void build_icmp_server_xlate(struct gcase *c)
{
	icmp_translate = true;
	build_icmp_server(c);
}

static void test_golden_icmp_server(void)
{
	static const struct golden g[] = {
		{ "icmp about a server's packet, encapsulate", FRONT2("encapsulate"), build_icmp_server_enc },
		{ "icmp about a server's packet, translate", FRONT2("translate"), build_icmp_server_xlate },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- the back ------------------------------------------------------- */

static void check_back(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	CU_ASSERT_EQUAL(ts.decapsulated, 5);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 3);	/* outer destination B4 */
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 2);	/* B6 */
}

static void tunnel_in(struct step *s, int ov, const char *src, const char *dst, const struct pg_pkt *in)
{
	x_encap(&s->in, ov, src, dst, in->buf, in->len, 0x1234, false);
}

static void build_back(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "4 in 4", 1, MSLB_OK);
	client(&in, 4, 400, 0x2a, true);
	tunnel_in(s, 4, S4, B4, &in);
	x_set(&s->out, in.buf, in.len);

	s = st(c, "6 in 6", 1, MSLB_OK);
	client(&in, 6, 400, 0x2a, false);
	tunnel_in(s, 6, S6, B6, &in);
	x_set(&s->out, in.buf, in.len);

	s = st(c, "4 in 6", 1, MSLB_OK);
	client(&in, 4, 400, 0x2a, false);
	tunnel_in(s, 6, S6, B6, &in);
	x_set(&s->out, in.buf, in.len);

	s = st(c, "6 in 4", 1, MSLB_OK);
	client(&in, 6, 400, 0x2a, false);
	tunnel_in(s, 4, S4, B4, &in);
	x_set(&s->out, in.buf, in.len);

	/* RFC 6040: CE on the outer header reaches an ECT inner packet. */
	s = st(c, "outer CE, inner ECT(0): inner CE", 1, MSLB_OK);
	client(&in, 4, 400, 0x2a, true);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[1] |= 3;
	tp_ip4_csum(s->in.b);
	in.buf[1] |= 3;
	pg_recompute(&in);
	x_set(&s->out, in.buf, in.len);

	s = st(c, "outer CE, inner Not-ECT: dropped", 1, MSLB_DROP_TUNNEL_INNER);
	client(&in, 4, 400, 0x28, true);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[1] |= 3;
	tp_ip4_csum(s->in.b);
	s->check = check_back;
}

static void build_back_refused(struct gcase *c)
{
	struct pg_pkt in, in6;
	struct step *s;

	client(&in, 4, 200, 0, true);
	client(&in6, 6, 200, 0, false);
	s = st(c, "outer source not allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	tunnel_in(s, 4, "198.51.100.99", B4, &in);
	s = st(c, "outer source not allowed (IPv6)", 1, MSLB_DROP_TUNNEL_SOURCE);
	tunnel_in(s, 6, "2001:db8:99::1", B6, &in6);
	s = st(c, "protocol 4 carrying IPv6", 1, MSLB_DROP_TUNNEL_INNER);
	tunnel_in(s, 4, S4, B4, &in6);
	s->in.b[9] = 4;
	tp_ip4_csum(s->in.b);
	s = st(c, "next header 41 carrying IPv4", 1, MSLB_DROP_TUNNEL_INNER);
	tunnel_in(s, 6, S6, B6, &in);
	s->in.b[6] = 41;
	s = st(c, "inner header checksum wrong", 1, MSLB_DROP_TUNNEL_INNER);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[20 + 10] ^= 0x40;
	s = st(c, "inner destination not a service", 1, MSLB_DROP_TUNNEL_INNER_DST);
	mk(&in, 4, PG_UDP, C4, "203.0.113.99", 200, 0, true);
	tunnel_in(s, 4, S4, B4, &in);
	s = st(c, "inner destination not a service (IPv6)", 1, MSLB_DROP_TUNNEL_INNER_DST);
	mk(&in6, 6, PG_UDP, C6, "2001:db8:5::99", 200, 0, false);
	tunnel_in(s, 6, S6, B6, &in6);
}

/* back.allowed_sources replaces the default (the services). */
static void build_back_allowed(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	client(&in, 4, 200, 0, true);
	s = st(c, "from IP_S: no longer allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	tunnel_in(s, 4, S4, B4, &in);
	s = st(c, "from 198.51.100.5: allowed", 1, MSLB_OK);
	tunnel_in(s, 4, "198.51.100.5", B4, &in);
	x_set(&s->out, in.buf, in.len);
}

static void build_back_malformed(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	client(&in, 4, 200, 0, true);
	s = st(c, "outer header checksum", 1, MSLB_DROP_BAD_CHECKSUM);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[10] ^= 0xff;
	s = st(c, "truncated outer packet", 1, MSLB_DROP_TRUNCATED);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.len = 100;
	s = st(c, "IHL 4", 1, MSLB_DROP_BAD_IHL);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[0] = 0x44;
	tp_ip4_csum(s->in.b);
	s = st(c, "total length below the header", 1, MSLB_DROP_BAD_LENGTH);
	tunnel_in(s, 4, S4, B4, &in);
	pg_put16(s->in.b + 2, 16);
	tp_ip4_csum(s->in.b);
	s = st(c, "version 5", 1, MSLB_DROP_BAD_VERSION);
	tunnel_in(s, 4, S4, B4, &in);
	s->in.b[0] = 0x55;
	s = st(c, "IPv6 payload length beyond the packet", 1, MSLB_DROP_TRUNCATED);
	client(&in, 6, 200, 0, false);
	tunnel_in(s, 6, S6, B6, &in);
	s->in.len -= 1;
	s = st(c, "IPv6 header cut", 1, MSLB_DROP_TRUNCATED);
	tunnel_in(s, 6, S6, B6, &in);
	s->in.len = 30;
}

static void check_reasm(struct mslb_lb *lb)
{
	struct reasm_stats r;

	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &r));
	CU_ASSERT_EQUAL(r.datagrams, 2);
	CU_ASSERT_EQUAL(r.fragments, 5);
	CU_ASSERT_EQUAL(r.in_progress, 0);
	CU_ASSERT_EQUAL(r.bad, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_back_counter(lb, 1).packets, 1);
}

/* Outer fragments, as a front sends them, put together again. */
static void build_back_reasm(struct gcase *c)
{
	static struct xpkt whole;
	struct pg_pkt in;
	struct step *s;

	client(&in, 6, 1280, 0, false);
	x_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	s = st(c, "IPv6 outer fragment 1 of 2", 1, MSLB_OK);
	x_frag6(&s->in, &whole, 0, 1232, true, 1);
	s = st(c, "IPv6 outer fragment 2 of 2: the inner packet", 1, MSLB_OK);
	x_frag6(&s->in, &whole, 1232, 48, false, 1);
	x_set(&s->out, in.buf, in.len);

	client(&in, 4, 1400, 0, true);
	x_encap(&whole, 4, S4, B4, in.buf, in.len, 9, false);
	s = st(c, "IPv4 outer fragment 2 of 2 first", 2, MSLB_OK);
	x_frag4(&s->in, &whole, 1176, 224, false);
	s = st(c, "IPv4 outer fragment 1 of 2: the inner packet", 2, MSLB_OK);
	x_frag4(&s->in, &whole, 0, 1176, true);
	x_set(&s->out, in.buf, in.len);

	x_encap(&whole, 4, S4, B4, in.buf, in.len, 10, false);
	s = st(c, "another datagram, fragment 1", 3, MSLB_OK);
	x_frag4(&s->in, &whole, 0, 1176, true);
	s = st(c, "an overlapping fragment", 3, MSLB_DROP_REASSEMBLY);
	x_frag4(&s->in, &whole, 1168, 232, false);
	s->check = check_reasm;

	s = st(c, "fragments from a source not allowed", 3, MSLB_DROP_TUNNEL_SOURCE);
	x_encap(&whole, 4, "198.51.100.99", B4, in.buf, in.len, 11, false);
	x_frag4(&s->in, &whole, 0, 1176, true);
}

static void check_reasm_cap(struct mslb_lb *lb)
{
	struct reasm_stats r;

	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &r));
	CU_ASSERT_EQUAL(r.memory_drops, 1);
	CU_ASSERT_EQUAL(r.timeouts, 1);
	CU_ASSERT_EQUAL(r.datagrams, 1);
	CU_ASSERT_EQUAL(r.in_progress, 1);
}

/* reassembly = { memory = 131072; timeout = 5; }: room for one datagram. */
static void build_back_reasm_cap(struct gcase *c)
{
	static struct xpkt a, b;
	struct pg_pkt ia, ib;
	struct step *s;

	client(&ia, 4, 1400, 0, true);
	client(&ib, 4, 1400, 0, true);
	x_encap(&a, 4, S4, B4, ia.buf, ia.len, 100, false);
	x_encap(&b, 4, S4, B4, ib.buf, ib.len, 200, false);
	s = st(c, "A fragment 1", 10, MSLB_OK);
	x_frag4(&s->in, &a, 0, 1176, true);
	s = st(c, "B fragment 1: no room", 10, MSLB_DROP_REASSEMBLY);
	x_frag4(&s->in, &b, 0, 1176, true);
	s = st(c, "A fragment 2: complete", 12, MSLB_OK);
	x_frag4(&s->in, &a, 1176, 224, false);
	x_set(&s->out, ia.buf, ia.len);
	s = st(c, "B fragment 1 again", 12, MSLB_OK);
	x_frag4(&s->in, &b, 0, 1176, true);
	s = st(c, "B fragment 2 after the timeout: alone", 18, MSLB_OK);
	x_frag4(&s->in, &b, 1176, 224, false);
	s->check = check_reasm_cap;
}

static void test_golden_back(void)
{
	static const struct golden g[] = {
		{ "back decapsulation", BACK(""), build_back },
		{ "back refusals", BACK(""), build_back_refused },
		{ "back allowed_sources", BACK("  allowed_sources = [ \"198.51.100.0/24\" ];\n"), build_back_allowed },
		{ "back malformed outer", BACK(""), build_back_malformed },
		{ "back reassembly", BACK(""), build_back_reasm },
		{ "back reassembly bounds", BACK("  reassembly = { memory = 131072; timeout = 5; };\n"),
		  build_back_reasm_cap },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- return tunnel and return endpoint ------------------------------ */

static void check_return(struct mslb_lb *lb)
{
	CU_ASSERT_EQUAL(lb_return_counter(lb).packets, 2);
	CU_ASSERT_EQUAL(lb_return_counter(lb).bytes, 300 + 400);
}

static void build_return(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "server reply (IPv4) into the return tunnel", 1, MSLB_OK);
	mk(&in, 4, PG_TCP, S4, C4, 300, 0x48, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, B4, E4, in.buf, in.len, 0, true);
	s = st(c, "server reply (IPv6) into the return tunnel", 1, MSLB_OK);
	mk(&in, 6, PG_TCP, S6, C6, 400, 0x48, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, B6, E6, in.buf, in.len, 0, false);
	s->check = check_return;
	s = st(c, "too big for the return tunnel: the server hears", 1, MSLB_DROP_TOO_BIG);
	mk(&in, 4, PG_TCP, S4, C4, 1500, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, B4, S4, 3, 4, 1480, in.buf, 548);
	s = st(c, "tunnels still decapsulated", 1, MSLB_OK);
	client(&in, 4, 300, 0, true);
	tunnel_in(s, 4, S4, B4, &in);
	x_set(&s->out, in.buf, in.len);
	s = st(c, "not from a service: not ours", 1, MSLB_DROP_NOT_OURS);
	mk(&in, 4, PG_TCP, "203.0.113.99", C4, 300, 0, true);
	x_set(&s->in, in.buf, in.len);
}

static void check_endpoint(struct mslb_lb *lb)
{
	CU_ASSERT_EQUAL(lb_endpoint_counter(lb).packets, 2);
	CU_ASSERT_EQUAL(lb_endpoint_counter(lb).bytes, 300 + 400);
}

static void build_endpoint(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "IPv4 return tunnel", 1, MSLB_OK);
	mk(&in, 4, PG_TCP, S4, C4, 300, 0x48, true);
	tunnel_in(s, 4, B4, E4, &in);
	x_set(&s->out, in.buf, in.len);
	s = st(c, "IPv6 return tunnel", 1, MSLB_OK);
	mk(&in, 6, PG_TCP, S6, C6, 400, 0x48, false);
	tunnel_in(s, 6, B6, E6, &in);
	x_set(&s->out, in.buf, in.len);
	s->check = check_endpoint;
	s = st(c, "from a source not allowed", 1, MSLB_DROP_TUNNEL_SOURCE);
	tunnel_in(s, 6, "2001:db8:99::1", E6, &in);
	s = st(c, "inner version mismatch", 1, MSLB_DROP_TUNNEL_INNER);
	tunnel_in(s, 6, B6, E6, &in);
	s->in.b[6] = 4;
	s = st(c, "not a tunnel packet", 1, MSLB_DROP_NOT_OURS);
	mk(&in, 4, PG_UDP, C4, E4, 100, 0, true);
	x_set(&s->in, in.buf, in.len);
}

static void check_return_learned(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_return_tunnel(lb, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1300);
	CU_ASSERT_EQUAL(t.tunnel_mtu[0], 1280);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT(t.expires_in[0] > 598.9 && t.expires_in[0] < 599.1);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1500);
	CU_ASSERT_EQUAL(t.icmp_received, 1);
	CU_ASSERT_EQUAL(t.icmp_sent, 2);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
}

/* Errors about the return tunnel come back to IP_B: its path MTU is
 * learned and the server hears, from IP_B. */
static void build_return_icmp(struct gcase *c)
{
	static struct pg_pkt in;
	struct pg_pkt other;
	struct step *s;

	s = st(c, "server reply of 1400 bytes with DF", 10, MSLB_OK);
	mk(&in, 4, PG_TCP, S4, C4, 1400, 0, true);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 4, B4, E4, in.buf, in.len, 0, true);
	outer_sent = s->out;

	s = st(c, "router to IP_B: fragmentation needed, MTU 1300", 10, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 4, R4, B4, 0, 3, 4, 1300, outer_sent.b, 548);
	x_icmp(em(s), 4, B4, S4, 3, 4, 1280, outer_sent.b + 20, 528);

	s = st(c, "1400 bytes now too big: MTU 1280 to the server", 11, MSLB_DROP_TOO_BIG);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 4, B4, S4, 3, 4, 1280, in.buf, 548);
	s->check = check_return_learned;

	s = st(c, "an error to IP_B about something else: to the server as usual", 11, MSLB_OK);
	mk(&other, 4, PG_UDP, B4, "192.0.2.99", 100, 0, false);
	s->in.len = icmp_msg(s->in.b, 4, R4, B4, 0, 3, 3, 0, other.buf, 100);
	x_set(&s->out, s->in.b, s->in.len);
	memcpy(s->out.b + 16, tl_ip(S4), 4);
	icmp_fix(&s->out);

	s = st(c, "IPv6 server reply of 1450 bytes", 12, MSLB_OK);
	mk(&in, 6, PG_TCP, S6, C6, 1450, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_encap(&s->out, 6, B6, E6, in.buf, in.len, 1, false);
	outer_sent = s->out;

	s = st(c, "router to IP_B: packet too big, MTU 1400", 12, MSLB_OK);
	s->in.len = icmp_msg(s->in.b, 6, R6, B6, 0, 2, 0, 1400, outer_sent.b, 1232);
	x_icmp(em(s), 6, B6, S6, 2, 0, 1360, outer_sent.b + 40, 1192);
}

static void test_golden_return(void)
{
	static const struct golden g[] = {
		{ "return tunnel", BACK("  return_tunnel = { ipv4 = " Q(E4) "; ipv6 = " Q(E6) "; };\n"), build_return },
		{ "return endpoint", ENDPOINT, build_endpoint },
		{ "return tunnel icmp", BACK("  return_tunnel = { ipv4 = " Q(E4) "; ipv6 = " Q(E6) "; };\n"),
		  build_return_icmp },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- multi-stage ---------------------------------------------------- */

static void check_stage2(struct mslb_lb *lb)
{
	struct lb_tunnel_stats ts;
	struct lb_nh_tunnel t;

	lb_get_tunnel_stats(lb, &ts);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(ts.decapsulated, 4);
	CU_ASSERT_EQUAL(t.encapsulated, 4);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 4);
}

/* Figure 4: F1 encapsulated to F2 (outer source IP_S); F2 takes the outer
 * header off, balances by the client and encapsulates to the back. */
static void build_stage2(struct gcase *c)
{
	static struct xpkt whole;
	struct pg_pkt in;
	struct step *s;

	s = st(c, "4 in 4 from the first front", 1, MSLB_OK);
	client(&in, 4, 500, 0x2e, true);
	tunnel_in(s, 4, S4, F2_4, &in);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s = st(c, "6 in 6 from the first front", 1, MSLB_OK);
	client(&in, 6, 500, 0x2e, false);
	tunnel_in(s, 6, S6, F2_6, &in);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 1, false);
	s = st(c, "4 in 6 from the first front: 4 in 4 to the back", 1, MSLB_OK);
	client(&in, 4, 500, 0x2e, false);
	tunnel_in(s, 6, S6, F2_6, &in);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 2, false);
	s = st(c, "outer fragment 1 of 2", 1, MSLB_OK);
	client(&in, 6, 1280, 0, false);
	x_encap(&whole, 6, S6, F2_6, in.buf, in.len, 0, false);
	x_frag6(&s->in, &whole, 0, 1232, true, 7);
	s = st(c, "outer fragment 2 of 2: reassembled, encapsulated again", 1, MSLB_OK);
	x_frag6(&s->in, &whole, 1232, 48, false, 7);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 3, false);
	s->check = check_stage2;
	s = st(c, "inner packet malformed", 1, MSLB_DROP_TUNNEL_INNER);
	client(&in, 4, 500, 0, true);
	tunnel_in(s, 4, S4, F2_4, &in);
	s->in.b[20 + 10] ^= 1;
}

static void build_stage2_translate(struct gcase *c)
{
	struct pg_pkt in, e;
	struct step *s;

	s = st(c, "decapsulated, then translated", 1, MSLB_OK);
	client(&in, 4, 500, 0x2e, true);
	tunnel_in(s, 4, S4, F2_4, &in);
	e = in;
	pg_set_dst(&e, tl_ip(B4));
	pg_recompute(&e);
	x_set(&s->out, e.buf, e.len);
	s = st(c, "IPv6 decapsulated, then translated", 1, MSLB_OK);
	client(&in, 6, 500, 0x2e, false);
	tunnel_in(s, 6, S6, F2_6, &in);
	e = in;
	pg_set_dst(&e, tl_ip(B6));
	pg_recompute(&e);
	x_set(&s->out, e.buf, e.len);
}

static void test_golden_multistage(void)
{
	static const struct golden g[] = {
		{ "second-stage front", FRONT_STAGE2("encapsulate"), build_stage2 },
		{ "second-stage front, translating", FRONT_STAGE2("translate"), build_stage2_translate },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- GSO super-packets ---------------------------------------------- */

/* Segment k of super-packet sp (headers hl bytes, TCP at hl - 20) as the
 * kernel cuts it: own length, IPv4 ID + k, sequence + k * size, PSH and
 * FIN only on the last, CWR only on the first; checksums from scratch. */
static void seg(struct pg_pkt *o, const struct pg_pkt *sp, unsigned hl, unsigned k, unsigned size)
{
	unsigned payload = sp->len - hl, off = k * size, n = payload - off < size ? payload - off : size;
	uint8_t *t;

	*o = *sp;
	memcpy(o->buf + hl, sp->buf + hl + off, n);
	o->len = hl + n;
	if (sp->family == 4) {
		pg_put16(o->buf + 2, (uint16_t)o->len);
		pg_put16(o->buf + 4, (uint16_t)(pg_get16(sp->buf + 4) + k));
	} else {
		pg_put16(o->buf + 4, (uint16_t)(o->len - 40));
	}
	t = o->buf + hl - 20;
	pg_put32(t + 4, pg_get32(sp->buf + hl - 20 + 4) + off);
	if (off + n < payload)
		t[13] &= (uint8_t)~0x09;
	if (k > 0)
		t[13] &= (uint8_t)~0x80;
	pg_recompute(o);
}

static void build_gso(struct gcase *c)
{
	for (int family = 4; family <= 6; family += 2) {
		unsigned hl = family == 4 ? 40 : 60;
		struct pg_pkt sp, o;
		struct step *s;

		s = st(c, family == 4 ? "TCP/IPv4 super-packet: 4 segments" : "TCP/IPv6 super-packet: 4 segments", 1,
		       MSLB_OK);
		mk(&sp, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 3500, 0x12, true);
		sp.buf[hl - 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01;
		pg_recompute(&sp);
		x_set(&s->in, sp.buf, sp.len);
		s->off = (struct io_offload){
			.flags = IO_OFF_NEEDS_CSUM,
			.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
			.gso_size = 1000,
			.hdr_len = (uint16_t)hl,
			.csum_start = (uint16_t)(hl - 20),
			.csum_offset = 16,
		};
		for (unsigned k = 0; k < 4; k++) {
			seg(&o, &sp, hl, k, 1000);
			x_encap(em(s), family, family == 4 ? S4 : S6, family == 4 ? B4 : B6, o.buf, o.len,
				(uint16_t)(family == 4 ? k : 4 + k), true);
		}
	}
}

static void check_gso_big(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 0);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
}

/* Segments of 1040 bytes on a tunnel MTU of 980, with DF: the client
 * hears the tunnel MTU. */
static void build_gso_too_big(struct gcase *c)
{
	struct pg_pkt sp;
	struct step *s = st(c, "segments too big", 1, MSLB_DROP_TOO_BIG);

	mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, true);
	x_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
		.hdr_len = 40, .csum_start = 20, .csum_offset = 16,
	};
	x_icmp(em(s), 4, S4, C4, 3, 4, 980, sp.buf, 548);
	s->check = check_gso_big;
}

static void check_gso(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 8);
	CU_ASSERT_EQUAL(t.encapsulated, 8);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
}

static void build_gso_checked(struct gcase *c)
{
	build_gso(c);
	c->s[c->n - 1].check = check_gso;
}

static void test_golden_gso(void)
{
	static const struct golden g[] = {
		{ "gso", FRONT("", ""), build_gso_checked },
		{ "gso too big", FRONT("", "path_mtu = 1000;"), build_gso_too_big },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* Segments that do not fit the tunnel either: IPv4 without DF, each
 * segment fragmented; IPv6 of at most 1280, each in outer fragments. */
static void build_gso_frag(struct gcase *c)
{
	static struct xpkt whole;
	struct pg_pkt sp, o, f;
	struct step *s;

	s = st(c, "TCP/IPv4 without DF, segments of 1040 on a tunnel MTU of 780", 1, MSLB_OK);
	mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, false);
	x_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
		.hdr_len = 40, .csum_start = 20, .csum_offset = 16,
	};
	for (unsigned k = 0, id = 0; k < 4; k++) {
		seg(&o, &sp, 40, k, 1000);
		if (o.len <= 780) {
			x_encap(em(s), 4, S4, B4, o.buf, o.len, (uint16_t)id++, false);
			continue;
		}
		pg_fragment(&o, 0, 760, true, &f);
		x_encap(em(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false);
		pg_fragment(&o, 760, o.len - 20 - 760, false, &f);
		x_encap(em(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false);
	}
	CU_ASSERT_EQUAL(s->n_emit, 7);

	s = st(c, "TCP/IPv6, segments of 1060 on a tunnel MTU of 760", 1, MSLB_OK);
	mk(&sp, 6, PG_TCP, C6, S6, 60 + 3500, 0, false);
	x_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1000,
		.hdr_len = 60, .csum_start = 40, .csum_offset = 16,
	};
	for (unsigned k = 0, fid = 1; k < 4; k++) {
		seg(&o, &sp, 60, k, 1000);
		x_encap(&whole, 6, S6, B6, o.buf, o.len, 0, false);
		if (o.len <= 760) {
			*em(s) = whole;
			continue;
		}
		x_frag6(em(s), &whole, 0, 752, true, fid);
		x_frag6(em(s), &whole, 752, o.len - 752, false, fid);
		fid++;
	}
	CU_ASSERT_EQUAL(s->n_emit, 7);
}

static void test_golden_gso_fragments(void)
{
	static const struct golden g[] = {
		{ "gso, then fragments (ipv4)", FRONT("", "path_mtu = 800;"), build_gso_frag },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* Too big, but no error is owed (RFC 1812 4.3.2.7, RFC 4443 2.4 (e)). */
static void build_no_error_owed(struct gcase *c)
{
	struct pg_pkt in, srv, f;
	struct step *s;

	s = st(c, "an ICMP error with DF, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	mk(&srv, 4, PG_UDP, S4, C4, 1500, 0, false);
	s->in.len = icmp_msg(s->in.b, 4, C4, S4, 0, 3, 3, 0, srv.buf, 1372);
	s->in.b[6] = 0x40;
	tp_ip4_csum(s->in.b);

	s = st(c, "a later fragment with DF, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	client(&in, 4, 3000, 0, false);
	pg_fragment(&in, 1480, 1480, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	x_set(&s->in, f.buf, f.len);

	s = st(c, "a first fragment with DF, too big: an error", 1, MSLB_DROP_TOO_BIG);
	pg_fragment(&in, 0, 1480, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	x_set(&s->in, f.buf, f.len);
	x_icmp(em(s), 4, S4, C4, 3, 4, 1380, f.buf, 548);

	s = st(c, "from a multicast source: dropped silently", 1, MSLB_DROP_TOO_BIG);
	mk(&in, 4, PG_UDP, "224.0.0.9", S4, 1400, 0, true);
	x_set(&s->in, in.buf, in.len);

	s = st(c, "ICMPv6 error, too big: dropped silently", 1, MSLB_DROP_TOO_BIG);
	mk(&srv, 6, PG_UDP, S6, C6, 1500, 0, false);
	s->in.len = icmp_msg(s->in.b, 6, C6, S6, 0, 1, 4, 0, srv.buf, 1352);

	s = st(c, "ICMPv6 echo, too big: an error", 1, MSLB_DROP_TOO_BIG);
	mk(&in, 6, PG_ICMPV6, C6, S6, 1400, 0, false);
	x_set(&s->in, in.buf, in.len);
	x_icmp(em(s), 6, S6, C6, 2, 0, 1360, in.buf, 1232);
}

static void test_golden_no_error_owed(void)
{
	static const struct golden g = { "too big, no error owed", FRONT("", "path_mtu = 1400;"), build_no_error_owed };

	run(&g);
}

/* The MTU of the kernel's route toward the next hop counts unless the
 * file says path_mtu. */
static void test_golden_route_mtu(void)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static const char *const confs[] = { FRONT("", ""), FRONT("", "path_mtu = 1450;") };

	for (int i = 0; i < 2; i++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = tl_lb_new(confs[i], "route mtu", &cfg);
		struct lb_nh_tunnel t;
		struct pg_pkt in;
		struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };
		unsigned tmtu = i ? 1430 : 1380;
		static struct xpkt e;

		CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
		lb_set_emit(lb, capture, NULL);
		lb_set_time(lb, 1);
		lb_set_route_mtu(lb, 0, false, 1400);
		lb_set_route_mtu(lb, 0, true, 9000);
		lb_next_hop_tunnel(lb, 0, &t);
		CU_ASSERT_EQUAL(t.path_mtu[0], i ? 1450 : 1400);
		CU_ASSERT_EQUAL(t.source[0], i ? LB_MTU_CONFIG : LB_MTU_ROUTE);
		CU_ASSERT_EQUAL(t.path_mtu[1], i ? 1450 : 9000);
		client(&in, 4, tmtu + 1, 0, true);
		memcpy(p.data, in.buf, in.len);
		p.len = in.len;
		cap.n = 0;
		CU_ASSERT_EQUAL(lb_process_pkt(lb, &p), MSLB_DROP_TOO_BIG);
		CU_ASSERT_EQUAL_FATAL(cap.n, 1);
		x_icmp(&e, 4, S4, C4, 3, 4, tmtu, in.buf, 548);
		CU_ASSERT(match("route mtu", cap.p[0].b, cap.p[0].len, &e));
		/* IPv6 on a 9000-byte route: 3000 bytes go whole. */
		if (!i) {
			client(&in, 6, 3000, 0, false);
			p.data = buf + IO_HEADROOM;
			memcpy(p.data, in.buf, in.len);
			p.len = in.len;
			CU_ASSERT_EQUAL(lb_process_pkt(lb, &p), MSLB_OK);
			CU_ASSERT_EQUAL(p.len, 3040);
		}
		tl_lb_free(lb, cfg);
	}
}

/* ---- offloads: partial checksums ------------------------------------- */

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

/* path_mtu 1000. */
static void build_offload_front(struct gcase *c)
{
	struct pg_pkt in, full, f;
	struct step *s;

	s = st(c, "IPv4 UDP, partial: encapsulated, csum_start moved on", 1, MSLB_OK);
	client(&in, 4, 300, 0, true);
	make_partial(&in);
	x_set(&s->in, in.buf, in.len);
	s->off = partial_off(20, 6);
	x_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s->check_off = true;
	s->out_off = partial_off(40, 6);

	s = st(c, "IPv6 TCP, partial: encapsulated, csum_start moved on", 1, MSLB_OK);
	mk(&in, 6, PG_TCP, C6, S6, 400, 0, false);
	make_partial(&in);
	x_set(&s->in, in.buf, in.len);
	s->off = partial_off(40, 16);
	x_encap(&s->out, 6, S6, B6, in.buf, in.len, 1, false);
	s->check_off = true;
	s->out_off = partial_off(80, 16);

	s = st(c, "IPv4 UDP without DF, partial, too big: fragments with the checksum finished", 1, MSLB_OK);
	client(&full, 4, 2000, 0, false);
	in = full;
	make_partial(&in);
	x_set(&s->in, in.buf, in.len);
	s->off = partial_off(20, 6);
	pg_fragment(&full, 0, 960, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 2, false);
	pg_fragment(&full, 960, 960, true, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 3, false);
	pg_fragment(&full, 1920, 60, false, &f);
	x_encap(em(s), 4, S4, B4, f.buf, f.len, 4, false);

	s = st(c, "IPv6 TCP of 1280, partial, tunnel MTU 960: outer fragments, checksum finished", 1, MSLB_OK);
	{
		static struct xpkt whole;

		mk(&full, 6, PG_TCP, C6, S6, 1280, 0, false);
		in = full;
		make_partial(&in);
		x_set(&s->in, in.buf, in.len);
		s->off = partial_off(40, 16);
		x_encap(&whole, 6, S6, B6, full.buf, full.len, 5, false);
		x_frag6(em(s), &whole, 0, 952, true, 1);
		x_frag6(em(s), &whole, 952, 328, false, 1);
	}
}

static void build_offload_back(struct gcase *c)
{
	struct pg_pkt in;
	struct step *s;

	s = st(c, "tunnel with a partial inner checksum: csum_start moved back", 1, MSLB_OK);
	client(&in, 4, 300, 0, true);
	make_partial(&in);
	tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 6);
	x_set(&s->out, in.buf, in.len);
	s->check_off = true;
	s->out_off = partial_off(20, 6);

	s = st(c, "IPv6 tunnel, partial TCP checksum", 1, MSLB_OK);
	mk(&in, 6, PG_TCP, C6, S6, 300, 0, false);
	make_partial(&in);
	tunnel_in(s, 6, S6, B6, &in);
	s->off = partial_off(80, 16);
	x_set(&s->out, in.buf, in.len);
	s->check_off = true;
	s->out_off = partial_off(40, 16);

	s = st(c, "partial offset inside the outer header", 1, MSLB_DROP_BAD_OFFLOAD);
	client(&in, 4, 300, 0, true);
	tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(10, 6);

	s = st(c, "partial offset not the inner checksum", 1, MSLB_DROP_BAD_OFFLOAD);
	tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 4);

	s = st(c, "a GSO tunnel packet", 1, MSLB_DROP_BAD_OFFLOAD);
	tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 6);
	s->off.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	s->off.gso_size = 100;
}

static void test_golden_offload(void)
{
	static const struct golden g[] = {
		{ "offload front", FRONT("", "path_mtu = 1000;"), build_offload_front },
		{ "offload back", BACK(""), build_offload_back },
	};

	run_all(g, ARRAY_SIZE(g));
}

/* ---- errors about the front's outer fragments ----------------------- */

/* A router's error (time exceeded) about one of the front's outer IPv6
 * fragments: the quote is the front's own tunnel packet, fragment header
 * and all. It is not a server's packet: it must not be balanced by its
 * quoted destination (the next hop) and sent on to a back. */
static void test_golden_icmp_outer_fragment(void)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static struct xpkt whole, f1, icmp;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(FRONT("", "path_mtu = 1280;"), "outer fragment", &cfg);
	struct pg_pkt in;
	struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };
	enum mslb_drop r;
	uint64_t sent;

	lb_set_emit(lb, capture, NULL);
	lb_set_time(lb, 1);

	client(&in, 6, 1280, 0, false);
	memcpy(p.data, in.buf, in.len);
	p.len = in.len;
	cap.n = 0;
	CU_ASSERT_EQUAL_FATAL(lb_process_pkt(lb, &p), MSLB_OK);
	CU_ASSERT_EQUAL_FATAL(cap.n, 2);
	x_encap(&whole, 6, S6, B6, in.buf, in.len, 0, false);
	x_frag6(&f1, &whole, 0, 1232, true, 1);
	CU_ASSERT(match("outer fragment", cap.p[0].b, cap.p[0].len, &f1));
	sent = lb_next_hop_counter(lb, 0).packets;

	/* Hop limit exceeded in transit, quoting the first fragment. */
	icmp.len = icmp_msg(icmp.b, 6, R6, S6, 0, 3, 0, 0, cap.p[0].b, 1232);
	p.data = buf + IO_HEADROOM;
	memcpy(p.data, icmp.b, icmp.len);
	p.len = icmp.len;
	p.off = (struct io_offload){ 0 };
	cap.n = 0;
	r = lb_process_pkt(lb, &p);
	CU_ASSERT(r != MSLB_OK || p.len == 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, sent);
	for (unsigned k = 0; k < cap.n && k < MAX_EMIT; k++) {
		CU_ASSERT_NOT_EQUAL(memcmp(cap.p[k].b + 24, tl_ip(B6), 16), 0);
		if (!memcmp(cap.p[k].b + 24, tl_ip(B6), 16))
			printf("\n  error about an outer fragment sent on to the next hop (%u bytes, emitted #%u)",
			       cap.p[k].len, k);
	}
	if (r == MSLB_OK && p.len) {
		char a[MSLB_ADDRSTRLEN];
		struct mslb_addr d;

		mslb_addr_from_bytes(&d, (p.data[0] >> 4) == 4 ? AF_INET : AF_INET6,
				     p.data + ((p.data[0] >> 4) == 4 ? 16 : 24));
		printf("\n  error about an outer fragment sent on: %u bytes to %s", p.len,
		       mslb_addr_str(&d, a, sizeof(a)));
	}
	tl_lb_free(lb, cfg);
}

/* ---- the bare-buffer entry point and reloads -------------------------- */

static void test_golden_legacy(void)
{
	static uint8_t buf[PG_BUFSZ + 64];
	static struct xpkt e;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_new(FRONT("", ""), "legacy", &cfg);
	struct pg_pkt in;
	uint32_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	for (int family = 4; family <= 6; family += 2) {
		client(&in, family, 600, 0x0c, true);
		memcpy(buf, in.buf, in.len);
		len = in.len;
		CU_ASSERT_EQUAL(tl_process(lb, buf, &len), MSLB_OK);
		x_encap(&e, family, family == 4 ? S4 : S6, family == 4 ? B4 : B6, in.buf, in.len, 0, true);
		CU_ASSERT_EQUAL(len, in.len + (family == 4 ? 20 : 40));
		CU_ASSERT(match("lb_process", buf, len, &e));
	}
	tl_lb_free(lb, cfg);
}

/* What ICMP taught survives a reload when the next hop's address stays. */
static void test_golden_reload(void)
{
	static const char *const confs[] = {
		FRONT("", ""),
		FRONT("", ""),
		"front = { services = [ " Q(S4) ", " Q(S6) " ]; mode = \"encapsulate\";\n"
		"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.21\"; ipv6 = " Q(B6) "; } ); unmatched = \"b1\"; };\n",
	};
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	static struct xpkt outer, icmp;
	struct mslb_config *cfg[3];
	struct mslb_lb *lb[3];
	struct lb_nh_tunnel t;
	struct pg_pkt in;
	struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM };

	for (int i = 0; i < 3; i++)
		lb[i] = tl_lb_load(confs[i], "reload", &cfg[i]);
	lb_set_emit(lb[0], capture, NULL);
	lb_set_time(lb[0], 10);
	for (int family = 4; family <= 6; family += 2) {
		client(&in, family, 1400, 0, true);
		memcpy(p.data, in.buf, in.len);
		p.len = in.len;
		CU_ASSERT_EQUAL_FATAL(lb_process_pkt(lb[0], &p), MSLB_OK);
		x_set(&outer, p.data, p.len);
		icmp.len = icmp_msg(icmp.b, family, family == 4 ? R4 : R6, family == 4 ? S4 : S6, 0,
				    family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300 + family, outer.b, 548);
		p.data = buf + IO_HEADROOM;
		memcpy(p.data, icmp.b, icmp.len);
		p.len = icmp.len;
		CU_ASSERT_EQUAL(lb_process_pkt(lb[0], &p), MSLB_OK);
		CU_ASSERT_EQUAL(p.len, 0);
	}
	lb_next_hop_tunnel(lb[0], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1304);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);

	/* Same addresses: kept, counters too. */
	lb_adopt_counters(lb[1], lb[0]);
	lb_set_time(lb[1], 20);
	lb_next_hop_tunnel(lb[1], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1304);
	CU_ASSERT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);
	CU_ASSERT_EQUAL(t.encapsulated, 2);
	CU_ASSERT_EQUAL(t.icmp_received, 2);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb[1], 0).packets, 2);

	/* The IPv4 address changed: that path is another one. */
	lb_adopt_counters(lb[2], lb[1]);
	lb_set_time(lb[2], 21);
	lb_next_hop_tunnel(lb[2], 0, &t);
	CU_ASSERT_EQUAL(t.path_mtu[0], 1500);
	CU_ASSERT_NOT_EQUAL(t.source[0], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(t.path_mtu[1], 1306);
	CU_ASSERT_EQUAL(t.source[1], LB_MTU_ICMP);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb[2], 0).packets, 2);
	for (int i = 0; i < 3; i++)
		tl_lb_free(lb[i], cfg[i]);
}

void suite_golden(void)
{
	CU_pSuite s = CU_add_suite("golden", NULL, NULL);

	pg_seed(&rng, 0x901de);
	UNIT_ADD(s, test_golden_families);
	UNIT_ADD(s, test_golden_front_misc);
	UNIT_ADD(s, test_golden_too_big);
	UNIT_ADD(s, test_golden_rate_limit);
	UNIT_ADD(s, test_golden_icmp_outer);
	UNIT_ADD(s, test_golden_icmp_outer_tunnel_source);
	UNIT_ADD(s, test_golden_icmp_server);
	UNIT_ADD(s, test_golden_back);
	UNIT_ADD(s, test_golden_return);
	UNIT_ADD(s, test_golden_multistage);
	UNIT_ADD(s, test_golden_gso);
	UNIT_ADD(s, test_golden_gso_fragments);
	UNIT_ADD(s, test_golden_no_error_owed);
	UNIT_ADD(s, test_golden_route_mtu);
	UNIT_ADD(s, test_golden_offload);
	UNIT_ADD(s, test_golden_icmp_outer_fragment);
	UNIT_ADD(s, test_golden_legacy);
	UNIT_ADD(s, test_golden_reload);
}
