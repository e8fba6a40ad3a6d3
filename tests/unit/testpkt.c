/* testpkt: expected headers and checks, one copy for every suite. */
#include "testpkt.h"

#include <string.h>

#include <CUnit/CUnit.h>

#include "testlib.h"

void tp_mk(struct pg_rng *r, struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst,
	   unsigned payload, uint8_t tos, bool df)
{
	struct pg_spec s;

	pg_spec_init(&s, family, proto);
	if (src)
		tl_addr(src, s.src);
	if (dst)
		tl_addr(dst, s.dst);
	s.payload = payload;
	pg_build(p, &s, r);
	pg_set_tos(p->buf, tos);
	if (family == 4)
		p->buf[6] = (uint8_t)((p->buf[6] & ~0x40) | (df ? 0x40 : 0));
	pg_recompute(p);
}

void tp_ip4_csum(uint8_t *h)
{
	pg_put16(h + 10, 0);
	pg_put16(h + 10, ref_csum(h, (h[0] & 0x0f) * 4u));
}

bool tp_ip4_csum_ok(const uint8_t *h)
{
	return ref_fold(ref_sum(0, h, (h[0] & 0x0f) * 4u)) == 0xffff;
}

bool tp_l4_csum_ok(const uint8_t *h, const uint8_t *l4, uint32_t len, uint8_t proto, bool pseudo)
{
	uint64_t acc = 0;

	if (pseudo) {
		bool v4 = (h[0] >> 4) == 4;

		acc = ref_sum(acc, h + (v4 ? 12 : 8), v4 ? 8 : 32);
		acc += (len >> 16) + (len & 0xffff) + proto;
	}
	acc = ref_sum(acc, l4, len);
	return ref_fold(acc) == 0xffff;
}

uint16_t tp_partial_csum(const struct pg_pkt *p)
{
	unsigned alen = pg_addr_len(p), l4len = p->len - p->l3len;
	uint64_t acc = 0;

	acc = ref_sum(acc, p->buf + (p->family == 4 ? 12 : 8), alen);
	acc = ref_sum(acc, p->buf + pg_dst_off(p), alen);
	acc += (l4len >> 16) + (l4len & 0xffff) + p->proto;
	return ref_fold(acc);
}

unsigned tp_outer(uint8_t *h, int ov, const uint8_t *inner, uint32_t ilen, const uint8_t *src, const uint8_t *dst,
		  uint16_t id, bool df)
{
	bool v4in = (inner[0] >> 4) == 4;
	uint8_t tos = pg_tos(inner);

	if (ov == 4) {
		memset(h, 0, 20);
		h[0] = 0x45;
		h[1] = tos;
		pg_put16(h + 2, (uint16_t)(ilen + 20));
		pg_put16(h + 4, id);
		h[6] = df ? 0x40 : 0;
		h[8] = 64;
		h[9] = v4in ? 4 : 41;
		memcpy(h + 12, src, 4);
		memcpy(h + 16, dst, 4);
		pg_put16(h + 10, ref_csum(h, 20));
		return 20;
	}
	h[0] = (uint8_t)(0x60 | tos >> 4);
	h[1] = (uint8_t)(tos << 4);
	h[2] = h[3] = 0;
	pg_put16(h + 4, (uint16_t)ilen);
	h[6] = v4in ? 4 : 41;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	return 40;
}

void tp_take_label(uint8_t *exp, const uint8_t *got)
{
	if ((exp[0] >> 4) == 6 && (got[0] >> 4) == 6) {
		exp[1] = (uint8_t)((exp[1] & 0xf0) | (got[1] & 0x0f));
		exp[2] = got[2];
		exp[3] = got[3];
	}
}

uint32_t tp_icmp(uint8_t *o, int family, const uint8_t *from, const uint8_t *to, uint8_t tos, uint8_t type,
		 uint8_t code, uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	unsigned hl = family == 4 ? 20 : 40;
	uint8_t *m = o + hl;
	uint64_t acc = 0;

	memmove(m + 8, quote, qlen);
	m[0] = type;
	m[1] = code;
	m[2] = m[3] = 0;
	pg_put32(m + 4, info);
	memset(o, 0, hl);
	if (family == 4) {
		o[0] = 0x45;
		o[1] = tos;
		pg_put16(o + 2, (uint16_t)(hl + 8 + qlen));
		o[8] = 64;
		o[9] = 1;
		memcpy(o + 12, from, 4);
		memcpy(o + 16, to, 4);
		tp_ip4_csum(o);
	} else {
		pg_set_tos(o, tos);
		pg_put16(o + 4, (uint16_t)(8 + qlen));
		o[6] = 58;
		o[7] = 64;
		memcpy(o + 8, from, 16);
		memcpy(o + 24, to, 16);
		acc = ref_sum(acc, o + 8, 32);
		acc += 8 + qlen + 58;
	}
	pg_put16(m + 2, (uint16_t)~ref_fold(ref_sum(acc, m, 8 + qlen)));
	return hl + 8 + qlen;
}

bool tp_same(const char *what, const uint8_t *got, uint32_t got_len, const uint8_t *exp, uint32_t exp_len)
{
	if (got_len == exp_len && !memcmp(got, exp, exp_len))
		return true;
	pg_diff(what, got, got_len, exp, exp_len);
	return false;
}

void tp_collect(void *ctx, uint8_t *pkt, uint32_t len)
{
	struct tp_frags *f = ctx;

	CU_ASSERT_FATAL(f->n < TP_MAX_FRAGS && len <= PG_BUFSZ);
	memcpy(f->pkt[f->n], pkt, len);
	f->len[f->n++] = len;
}

void tp_gso_seg(struct pg_pkt *o, const struct pg_pkt *hdr, const uint8_t *sp, uint32_t splen, unsigned hl,
		unsigned k, unsigned size)
{
	unsigned payload = splen - hl, off = k * size, n = payload - off < size ? payload - off : size;

	*o = *hdr;
	memmove(o->buf, sp, hl);
	memcpy(o->buf + hl, sp + hl + off, n);
	o->len = hl + n;
	if (o->family == 4) {
		pg_put16(o->buf + 2, (uint16_t)o->len);
		pg_put16(o->buf + 4, (uint16_t)(pg_get16(sp + 4) + k));
	} else {
		pg_put16(o->buf + 4, (uint16_t)(o->len - 40));
	}
	if (o->proto == PG_TCP) {
		uint8_t *t = o->buf + hl - 20;

		pg_put32(t + 4, pg_get32(sp + hl - 20 + 4) + off);
		if (off + n < payload)
			t[13] &= (uint8_t)~0x09;
		if (k > 0)
			t[13] &= (uint8_t)~0x80;
	} else {
		pg_put16(o->buf + hl - 8 + 4, (uint16_t)(8 + n));
		pg_put16(o->buf + hl - 8 + 6, 1);	/* not "none": computed */
	}
	pg_recompute(o);
}
