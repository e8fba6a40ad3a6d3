/* pktgen: build test packets; checksums by a reference written from scratch
 * (RFC 791, 768, 793, 3828, 4340, 4443, 8200), independent of src/. */
#include "pktgen.h"

#include <stdio.h>
#include <string.h>

void pg_seed(struct pg_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint32_t pg_rand(struct pg_rng *r)
{
	uint64_t x = r->s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return (uint32_t)(x >> 32);
}

uint32_t pg_range(struct pg_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + pg_rand(r) % (hi - lo + 1);
}

void pg_fill(struct pg_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)pg_rand(r);
}

uint64_t ref_sum(uint64_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		acc += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	return acc;
}

uint16_t ref_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_fold(ref_sum(0, p, len));
}

uint16_t pg_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t pg_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint8_t pg_tos(const uint8_t *h)
{
	return (h[0] >> 4) == 4 ? h[1] : (uint8_t)((h[0] & 0x0f) << 4 | h[1] >> 4);
}

void pg_set_tos(uint8_t *h, uint8_t tos)
{
	if ((h[0] >> 4) == 4) {
		h[1] = tos;
	} else {
		h[0] = (uint8_t)(0x60 | tos >> 4);
		h[1] = (uint8_t)(tos << 4 | (h[1] & 0x0f));
	}
}

static const uint8_t def_src4[4] = { 192, 0, 2, 1 };
static const uint8_t def_dst4[4] = { 203, 0, 113, 10 };
static const uint8_t def_src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xc1, [15] = 1 };
static const uint8_t def_dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 0x10 };
static const uint8_t def_final6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 0x20 };

/* A random documentation address (RFC 5737, RFC 3849): one of 192.0.2.0/24,
 * 198.51.100.0/24 and 203.0.113.0/24, or inside 2001:db8::/32. */
static void doc_addr(struct pg_rng *r, unsigned alen, uint8_t *a)
{
	static const uint8_t nets4[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };
	static const uint8_t net6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (alen == 4) {
		memcpy(a, nets4[pg_range(r, 0, 2)], 3);
		a[3] = (uint8_t)pg_rand(r);
	} else {
		memcpy(a, net6, 4);
		pg_fill(r, a + 4, 12);
	}
}

void pg_spec_init(struct pg_spec *s, int family, uint8_t proto)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->proto = proto;
	s->payload = 32;
	memcpy(s->src, family == 4 ? def_src4 : def_src6, family == 4 ? 4 : 16);
	memcpy(s->dst, family == 4 ? def_dst4 : def_dst6, family == 4 ? 4 : 16);
	memcpy(s->rt_final, def_final6, 16);
}

/* Well-formed IPv4 options that are not source routes. */
static unsigned random_opts(struct pg_rng *r, uint8_t *o)
{
	static const uint8_t rr[7] = { 7, 7, 4, 0, 0, 0, 0 };
	static const uint8_t ra[4] = { 148, 4, 0, 0 };
	static const uint8_t ts[8] = { 68, 8, 5, 0, 0, 0, 0, 0 };
	unsigned n = 0, k = pg_range(r, 0, 4);

	for (unsigned i = 0; i < k; i++) {
		switch (pg_range(r, 0, 3)) {
		case 0: o[n++] = 1; break;
		case 1: memcpy(o + n, rr, sizeof(rr)); n += sizeof(rr); break;
		case 2: memcpy(o + n, ra, sizeof(ra)); n += sizeof(ra); break;
		default: memcpy(o + n, ts, sizeof(ts)); n += sizeof(ts); break;
		}
	}
	while (n % 4)
		o[n++] = 0;	/* end of options list, then padding */
	return n;
}

void pg_spec_random(struct pg_spec *s, struct pg_rng *r)
{
	unsigned alen = s->family == 4 ? 4 : 16;

	doc_addr(r, alen, s->src);
	doc_addr(r, alen, s->dst);
	s->payload = pg_range(r, 0, 3) == 0 ? pg_range(r, 0, 8) : pg_range(r, 0, 1400);
	s->opts_len = 0;
	s->n_ext = 0;
	if (s->family == 4 && pg_range(r, 0, 2) == 0)
		s->opts_len = random_opts(r, s->opts);
	if (s->family == 6) {
		bool rt = false;
		unsigned k = pg_range(r, 0, 3);

		if (pg_range(r, 0, 2) == 0)
			s->ext[s->n_ext++] = PG_EXT_HBH;
		for (unsigned i = 0; i < k; i++) {
			unsigned c = pg_range(r, 0, 5);

			if (c <= 2)
				s->ext[s->n_ext++] = PG_EXT_DST;
			else if (c <= 4 && !rt) {
				s->ext[s->n_ext++] = PG_EXT_RT;
				rt = true;
			} else
				s->ext[s->n_ext++] = PG_EXT_FRAG;
		}
		s->rt_segleft = (uint8_t)pg_range(r, 0, 1);
		doc_addr(r, 16, s->rt_final);
	}
	s->udp_zero = s->family == 4 && pg_range(r, 0, 7) == 0;
	s->cscov = (uint8_t)(pg_range(r, 0, 1) ? 0 : pg_range(r, 1, 40));
}

unsigned pg_l4_hdrlen(uint8_t proto)
{
	switch (proto) {
	case PG_TCP: return 20;
	case PG_DCCP: return 16;
	default: return 8;
	}
}

unsigned pg_csum_field(uint8_t proto)
{
	switch (proto) {
	case PG_TCP: return 16;
	case PG_UDP: case PG_UDPLITE: case PG_DCCP: return 6;
	case PG_ICMP: case PG_ICMPV6: return 2;
	default: return 0;
	}
}

bool pg_pseudo(uint8_t proto)
{
	return pg_csum_field(proto) && proto != PG_ICMP;
}

unsigned pg_dst_off(const struct pg_pkt *p)
{
	return p->family == 4 ? 16 : 24;
}

unsigned pg_addr_len(const struct pg_pkt *p)
{
	return p->family == 4 ? 4 : 16;
}

static void l4_csum(struct pg_pkt *p, bool building)
{
	uint8_t *b = p->buf, *l4 = p->buf + p->l3len;
	uint32_t l4len = p->len - p->l3len, cov = l4len;
	unsigned field = pg_csum_field(p->proto), alen = pg_addr_len(p);
	uint64_t acc = 0;
	uint16_t c;

	if (!field)
		return;
	if (!building && p->family == 4 && p->proto == PG_UDP && pg_get16(l4 + field) == 0)
		return;	/* IPv4 UDP without checksum */
	pg_put16(l4 + field, 0);
	if (p->proto == PG_UDPLITE && pg_get16(l4 + 4))
		cov = pg_get16(l4 + 4);
	if (p->proto == PG_DCCP && (l4[5] & 0x0f)) {
		cov = l4[4] * 4u + ((l4[5] & 0x0fu) - 1) * 4;
		if (cov > l4len)
			cov = l4len;
	}
	if (pg_pseudo(p->proto)) {
		acc = ref_sum(acc, b + (p->family == 4 ? 12 : 8), alen);
		acc = ref_sum(acc, b + p->pseudo_dst, alen);
		acc += (l4len >> 16) + (l4len & 0xffff) + p->proto;
	}
	acc = ref_sum(acc, l4, cov);
	c = (uint16_t)~ref_fold(acc);
	if (c == 0 && (p->proto == PG_UDP || p->proto == PG_UDPLITE))
		c = 0xffff;
	pg_put16(l4 + field, c);
}

static void ip_csum(struct pg_pkt *p)
{
	unsigned ihl = (p->buf[0] & 0x0f) * 4u;

	if (p->family != 4)
		return;
	pg_put16(p->buf + 10, 0);
	pg_put16(p->buf + 10, ref_csum(p->buf, ihl));
}

void pg_recompute(struct pg_pkt *p)
{
	ip_csum(p);
	if (!p->frag)
		l4_csum(p, false);
}

static unsigned build_ext(struct pg_pkt *p, const struct pg_spec *s, unsigned off, uint8_t type,
			  struct pg_rng *r)
{
	uint8_t *h = p->buf + off;

	p->buf[p->nh_off] = type;
	p->nh_off = (uint16_t)off;
	switch (type) {
	case PG_EXT_RT:		/* segment routing header with two segments */
		h[1] = 4;
		h[2] = 4;
		h[3] = s->rt_segleft;
		h[4] = 1;
		memcpy(h + 8, s->rt_final, 16);
		memcpy(h + 24, s->dst, 16);
		if (s->rt_segleft)
			p->pseudo_dst = (uint16_t)(off + 8);
		return 40;
	case PG_EXT_FRAG:
		pg_fill(r, h + 4, 4);
		return 8;
	default:		/* hop-by-hop or destination options: PadN */
		h[2] = 1;
		h[3] = 4;
		return 8;
	}
}

void pg_build(struct pg_pkt *p, const struct pg_spec *s, struct pg_rng *r)
{
	uint8_t *b = p->buf, *l4;
	unsigned off, hlen = pg_l4_hdrlen(s->proto), l4len = hlen + s->payload;

	memset(p, 0, sizeof(*p));
	p->family = s->family;
	p->proto = s->proto;
	if (s->family == 4) {
		off = 20 + s->opts_len;
		b[0] = (uint8_t)(0x40 | off / 4);
		b[1] = (uint8_t)pg_rand(r);
		pg_fill(r, b + 4, 2);
		b[6] = pg_range(r, 0, 1) ? 0x40 : 0;	/* DF */
		b[8] = 64;
		memcpy(b + 12, s->src, 4);
		memcpy(b + 16, s->dst, 4);
		memcpy(b + 20, s->opts, s->opts_len);
		p->nh_off = 9;
		p->pseudo_dst = 16;
	} else {
		b[0] = (uint8_t)(0x60 | (pg_rand(r) & 0x0f));
		pg_fill(r, b + 1, 3);
		b[7] = 64;
		memcpy(b + 8, s->src, 16);
		memcpy(b + 24, s->dst, 16);
		off = 40;
		p->nh_off = 6;
		p->pseudo_dst = 24;
		for (unsigned i = 0; i < s->n_ext; i++)
			off += build_ext(p, s, off, s->ext[i], r);
	}
	b[p->nh_off] = s->proto;
	p->l3len = (uint16_t)off;
	p->len = off + l4len;
	l4 = b + off;
	pg_fill(r, l4, l4len);
	switch (s->proto) {
	case PG_TCP:
		l4[12] = 5 << 4;
		break;
	case PG_UDP:
		pg_put16(l4 + 4, (uint16_t)l4len);
		break;
	case PG_UDPLITE: {
		uint16_t cov = s->cscov;

		if (cov && cov < 8)
			cov = 8;
		if (cov > l4len)
			cov = (uint16_t)l4len;
		pg_put16(l4 + 4, cov);
		break;
	}
	case PG_DCCP:
		l4[4] = 4;
		l4[5] = (uint8_t)((l4[5] & 0xf0) | (s->cscov & 0x0f));
		l4[8] = 2 << 1 | 1;	/* DCCP-Data, X = 1 */
		break;
	case PG_ICMP:
		l4[0] = 8;
		l4[1] = 0;
		break;
	case PG_ICMPV6:
		l4[0] = 128;
		l4[1] = 0;
		break;
	default:
		break;
	}
	pg_set_len(p, p->len);
	if (s->family == 4 && s->proto == PG_UDP && s->udp_zero)
		pg_put16(l4 + 6, 0);
	else
		l4_csum(p, true);
	ip_csum(p);
}

void pg_set_len(struct pg_pkt *p, uint32_t len)
{
	p->len = len;
	if (p->family == 4)
		pg_put16(p->buf + 2, (uint16_t)len);
	else
		pg_put16(p->buf + 4, (uint16_t)(len - 40));
	ip_csum(p);
}

void pg_set_dst(struct pg_pkt *p, const uint8_t *dst)
{
	memcpy(p->buf + pg_dst_off(p), dst, pg_addr_len(p));
}

void pg_fragment(const struct pg_pkt *w, unsigned off, unsigned n, bool more,
		 struct pg_pkt *f)
{
	unsigned hl = w->l3len;

	memset(f, 0, sizeof(*f));
	f->family = w->family;
	f->proto = w->proto;
	f->pseudo_dst = w->pseudo_dst;
	f->frag = true;
	f->first = off == 0;
	memcpy(f->buf, w->buf, hl);
	if (w->family == 4) {
		pg_put16(f->buf + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		memcpy(f->buf + hl, w->buf + hl + off, n);
		f->nh_off = 9;
		f->l3len = (uint16_t)hl;
	} else {
		uint8_t *fh = f->buf + hl;

		f->buf[w->nh_off] = PG_EXT_FRAG;
		fh[0] = w->proto;
		fh[1] = 0;
		pg_put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
		fh[4] = 0x5e, fh[5] = 0xed, fh[6] = 0x12, fh[7] = 0x34;
		memcpy(fh + 8, w->buf + hl + off, n);
		f->nh_off = (uint16_t)hl;
		f->l3len = (uint16_t)(hl + 8);
	}
	pg_set_len(f, f->l3len + n);
}

void pg_diff(const char *what, const uint8_t *got, uint32_t got_len,
	     const uint8_t *exp, uint32_t exp_len)
{
	uint32_t n = got_len < exp_len ? got_len : exp_len, shown = 0;

	printf("\n  %s: got %u bytes, expected %u\n", what, got_len, exp_len);
	for (uint32_t i = 0; i < n && shown < 8; i++) {
		if (got[i] != exp[i]) {
			printf("    [%u] got 0x%02x expected 0x%02x\n", i, got[i], exp[i]);
			shown++;
		}
	}
}
