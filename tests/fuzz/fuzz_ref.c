/* fuzz_ref: reference IP walking and Internet checksums for the fuzz
 * targets' invariants, written from RFC 791 / 8200 / 1071 and sharing no
 * code with src/net: when the data path and its own checksum code agree
 * on a wrong answer, this is what disagrees. Slow and plain on purpose. */
#include "fuzz.h"

#define FZ_MAX_DEPTH 4	/* IP-in-IP levels walked */

uint16_t fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void fz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint64_t fz_sum(uint64_t acc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		acc += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	return acc;
}

uint16_t fz_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

bool fz_ip4_csum_ok(const uint8_t *h)
{
	return fz_fold(fz_sum(0, h, (h[0] & 0x0fu) * 4)) == 0xffff;
}

void fz_ip4_csum_set(uint8_t *h)
{
	fz_put16(h + 10, 0);
	fz_put16(h + 10, (uint16_t)~fz_fold(fz_sum(0, h, (h[0] & 0x0fu) * 4)));
}

bool fz_ip_walk(const uint8_t *p, uint32_t len, struct fz_ip *ip)
{
	unsigned n = 0, off;
	uint8_t nh;

	*ip = (struct fz_ip){ .first = true };
	if (len < 1)
		return false;
	if (p[0] >> 4 == 4) {
		unsigned ihl = (p[0] & 0x0fu) * 4, frag;

		if (len < 20 || ihl < 20 || ihl > len)
			return false;
		ip->version = 4;
		ip->len = fz_get16(p + 2);
		ip->l3len = ihl;
		ip->proto = p[9];
		frag = fz_get16(p + 6);
		ip->fragment = (frag & 0x3fff) != 0;
		ip->first = (frag & 0x1fff) == 0;
		return ip->len >= ihl && ip->len <= len;
	}
	if (p[0] >> 4 != 6 || len < 40)
		return false;
	ip->version = 6;
	ip->len = 40u + fz_get16(p + 4);
	if (ip->len == 40 || ip->len > len)
		return false;
	off = 40;
	nh = p[6];
	/* Hop-by-hop, routing, destination options, fragment, AH. */
	while (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51) {
		unsigned hl;

		if (++n > 16 || off + 8 > ip->len)
			return false;
		if (nh == 44) {
			hl = 8;
			ip->fragment = true;
			ip->first = (fz_get16(p + off + 2) & 0xfff8) == 0;
		} else if (nh == 51) {
			hl = (p[off + 1] + 2u) * 4;
		} else {
			hl = (p[off + 1] + 1u) * 8;
			if (nh == 43 && p[off + 3] > 0)
				ip->rt_pending = true;
		}
		if (off + hl > ip->len)
			return false;
		nh = p[off];
		off += hl;
		if (!ip->first)
			break;
	}
	ip->proto = nh;
	ip->l3len = off;
	return true;
}

unsigned fz_l4_csum_field(uint8_t proto, int version, bool *pseudo)
{
	*pseudo = true;
	if (proto == 6)
		return 16;
	if (proto == 17 || proto == 136 || proto == 33)	/* UDP, UDP-Lite, DCCP */
		return 6;
	if (proto == 58 && version == 6)
		return 2;
	if (proto == 1 && version == 4) {
		*pseudo = false;
		return 2;
	}
	return 0;
}

/* The pseudo-header sum (RFC 793 / 768 / 8200 8.1) of the IP header h. */
static uint64_t pseudo_sum(const uint8_t *h, const struct fz_ip *ip, uint32_t l4len)
{
	uint64_t acc;

	if (ip->version == 4)
		acc = fz_sum(0, h + 12, 8);
	else
		acc = fz_sum(0, h + 8, 32);
	return acc + ip->proto + (l4len >> 16) + (l4len & 0xffff);
}

static bool same_ones(uint16_t a, uint16_t b)
{
	return a % 0xffff == b % 0xffff;
}

/* GUE as mslbd's configs in the fuzz targets use it: UDP to port
 * FZ_GUE_PORT whose payload starts as an IPv4 or IPv6 header does
 * (variant 1). */

static bool is_gue(const uint8_t *p, const struct fz_ip *ip)
{
	const uint8_t *u = p + ip->l3len;

	return ip->proto == 17 && ip->len >= ip->l3len + 9 && fz_get16(u + 2) == FZ_GUE_PORT &&
	       (u[8] >> 4 == 4 || u[8] >> 4 == 6);
}

bool fz_is_gue(const uint8_t *p, uint32_t len)
{
	struct fz_ip ip;

	return fz_ip_walk(p, len, &ip) && !ip.fragment && is_gue(p, &ip);
}

static enum fz_csum worst(enum fz_csum a, enum fz_csum b)
{
	if (a == FZ_CSUM_BAD || b == FZ_CSUM_BAD)
		return FZ_CSUM_BAD;
	return a == FZ_CSUM_UNKNOWN || b == FZ_CSUM_UNKNOWN ? FZ_CSUM_UNKNOWN : FZ_CSUM_GOOD;
}

static enum fz_csum judge(const uint8_t *p, uint32_t len, bool partial, struct fz_verdict *v, unsigned base,
			  int depth);

/* A GUE packet: its UDP checksum (never the one left partial: that is
 * the inner packet's) and the inner packet's. */
static enum fz_csum judge_gue(const uint8_t *p, const struct fz_ip *ip, bool partial, struct fz_verdict *v,
			      unsigned base, int depth, enum fz_csum r)
{
	uint32_t l4len = ip->len - ip->l3len;
	const uint8_t *u = p + ip->l3len;
	enum fz_csum outer = FZ_CSUM_GOOD, in;

	if (fz_get16(u + 4) != l4len)
		outer = FZ_CSUM_UNKNOWN;
	else if (fz_get16(u + 6) == 0)
		outer = ip->version == 4 ? FZ_CSUM_GOOD : FZ_CSUM_BAD;
	else if (fz_fold(fz_sum(pseudo_sum(p, ip, l4len), u, l4len)) != 0xffff)
		outer = FZ_CSUM_BAD;
	in = judge(u + 8, l4len - 8, partial, v, base + ip->l3len + 8, depth + 1);
	return worst(worst(r, outer), in);
}

static enum fz_csum judge(const uint8_t *p, uint32_t len, bool partial, struct fz_verdict *v, unsigned base,
			  int depth)
{
	struct fz_ip ip;
	enum fz_csum r = FZ_CSUM_GOOD;
	unsigned field;
	uint32_t l4len;
	bool pseudo;
	uint64_t acc;

	if (depth > FZ_MAX_DEPTH || !fz_ip_walk(p, len, &ip))
		return FZ_CSUM_UNKNOWN;
	if (ip.version == 4 && !fz_ip4_csum_ok(p)) {
		v->hdr_ok = false;
		r = FZ_CSUM_BAD;
	}
	if (ip.fragment || ip.rt_pending)
		return r == FZ_CSUM_BAD ? r : FZ_CSUM_UNKNOWN;
	if (ip.proto == 4 || ip.proto == 41) {
		enum fz_csum in = judge(p + ip.l3len, ip.len - ip.l3len, partial, v, base + ip.l3len, depth + 1);

		return r == FZ_CSUM_BAD ? r : in;
	}
	if (is_gue(p, &ip))
		return judge_gue(p, &ip, partial, v, base, depth, r);
	field = fz_l4_csum_field(ip.proto, ip.version, &pseudo);
	l4len = ip.len - ip.l3len;
	if (field) {
		v->l4off = base + ip.l3len;
		v->field = field;
	}
	if (!field || l4len < field + 2 || (ip.proto == 6 && l4len < 20) || (ip.proto == 17 && l4len < 8))
		return r == FZ_CSUM_BAD ? r : FZ_CSUM_UNKNOWN;
	if (ip.proto == 17) {
		/* The UDP length field says what the checksum covers: one
		 * that disagrees with the IP length we do not judge. */
		if (fz_get16(p + ip.l3len + 4) != l4len)
			return r == FZ_CSUM_BAD ? r : FZ_CSUM_UNKNOWN;
		if (!partial && fz_get16(p + ip.l3len + 6) == 0)
			return ip.version == 4 ? r : FZ_CSUM_BAD;	/* none: IPv4 only */
	}
	/* UDP-Lite and DCCP may cover less than the packet (their coverage
	 * field): only a partial checksum, the pseudo-header's, is judged. */
	if (!partial && (ip.proto == 136 || ip.proto == 33))
		return r == FZ_CSUM_BAD ? r : FZ_CSUM_UNKNOWN;
	acc = pseudo ? pseudo_sum(p, &ip, l4len) : 0;
	if (partial) {
		if (!pseudo || !same_ones(fz_get16(p + ip.l3len + field), fz_fold(acc)))
			r = FZ_CSUM_BAD;
	} else if (fz_fold(fz_sum(acc, p + ip.l3len, l4len)) != 0xffff) {
		r = FZ_CSUM_BAD;
	}
	return r;
}

void fz_csum_judge(const uint8_t *p, uint32_t len, bool partial, struct fz_verdict *v)
{
	*v = (struct fz_verdict){ .hdr_ok = true };
	v->csum = judge(p, len, partial, v, 0, 0);
}

bool fz_csum_fix(uint8_t *p, uint32_t len, enum fz_fix mode, unsigned *l4off, unsigned *field)
{
	const uint8_t *start = p;

	for (int depth = 0; depth <= FZ_MAX_DEPTH; depth++) {
		struct fz_ip ip;
		uint32_t l4len;
		bool pseudo;
		uint64_t acc;
		uint8_t *f;

		if (!fz_ip_walk(p, len, &ip))
			return false;
		if (ip.version == 4)
			fz_ip4_csum_set(p);
		if (ip.fragment || ip.rt_pending)
			return false;
		if (ip.proto == 4 || ip.proto == 41) {
			len = ip.len - ip.l3len;
			p += ip.l3len;
			continue;
		}
		if (is_gue(p, &ip)) {
			uint8_t *u = p + ip.l3len;
			bool in;

			l4len = ip.len - ip.l3len;
			fz_put16(u + 4, (uint16_t)l4len);
			in = fz_csum_fix(u + 8, l4len - 8, mode, l4off, field);
			*l4off += (unsigned)(u + 8 - start);
			/* The UDP checksum over what the inner fix left. */
			fz_put16(u + 6, 0);
			if (ip.version == 6) {
				fz_put16(u + 6, (uint16_t)~fz_fold(fz_sum(pseudo_sum(p, &ip, l4len), u, l4len)));
				if (fz_get16(u + 6) == 0)
					fz_put16(u + 6, 0xffff);
			}
			return in;
		}
		*field = fz_l4_csum_field(ip.proto, ip.version, &pseudo);
		*l4off = (unsigned)(p - start) + ip.l3len;
		l4len = ip.len - ip.l3len;
		if (!*field || l4len < *field + 2 || (ip.proto == 17 && l4len < 8))
			return false;
		if (mode == FZ_FIX_HDR)
			return true;
		if (ip.proto == 17)
			fz_put16(p + ip.l3len + 4, (uint16_t)l4len);
		f = p + ip.l3len + *field;
		fz_put16(f, 0);
		acc = pseudo ? pseudo_sum(p, &ip, l4len) : 0;
		if (mode == FZ_FIX_PARTIAL) {
			fz_put16(f, fz_fold(acc));
			return pseudo;
		}
		fz_put16(f, (uint16_t)~fz_fold(fz_sum(acc, p + ip.l3len, l4len)));
		if (ip.proto == 17 && fz_get16(f) == 0)
			fz_put16(f, 0xffff);
		return true;
	}
	return false;
}
