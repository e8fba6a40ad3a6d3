/* icmp: errors built from scratch into a caller's buffer; nothing here
 * keeps state but the token bucket. */
#include "icmp.h"

#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "ip6ext.h"
#include "iphdr.h"

void icmp_bucket_init(struct icmp_bucket *b, unsigned rate, unsigned burst)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last = 0;
}

bool icmp_bucket_take(struct icmp_bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	if (b->rate == 0 || b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static bool bad_v4(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;	/* this net, loopback, multicast, reserved/broadcast */
}

static bool bad_v6(const uint8_t *a)
{
	static const uint8_t zero[15];

	return a[0] == 0xff || (!memcmp(a, zero, 15) && a[15] <= 1);	/* multicast, ::, ::1 */
}

static bool is_error_type(unsigned version, uint8_t type)
{
	if (version == 6)
		return type < 128;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The upper-layer protocol of an IPv6 packet and where it starts: false
 * for a non-first fragment, or where the headers cannot be seen. */
static bool v6_upper_layer(const uint8_t *p, uint32_t len, uint8_t *proto, unsigned *hl)
{
	struct ip6ext_walk w;
	struct ip6ext e;
	int r;

	ip6ext_start(&w, p);
	while ((r = ip6ext_next(&w, p, len, &e)) > 0)
		if (e.type == IPPROTO_FRAGMENT && ((p[e.off + 2] << 8 | p[e.off + 3]) & 0xfff8))
			return false;
	*proto = w.nh;
	*hl = w.off;
	return r == 0;
}

bool icmp_may_answer_raw(const uint8_t *p, uint32_t len)
{
	unsigned version = p[0] >> 4, hl;
	uint8_t proto;

	if (version == 4) {
		hl = (p[0] & 0x0f) * 4u;
		if (len < IP4_HLEN || hl < IP4_HLEN || bad_v4(p + IP4_SRC) || bad_v4(p + IP4_DST) ||
		    (p[IP4_FRAG] & 0x1f) || p[IP4_FRAG + 1])
			return false;
		proto = p[IP4_PROTO];
	} else if (version == 6) {
		if (len < IP6_HLEN || bad_v6(p + IP6_SRC) || bad_v6(p + IP6_DST))
			return false;
		if (!v6_upper_layer(p, len, &proto, &hl))
			return false;
	} else {
		return false;
	}
	if (proto == (version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return len > hl && !is_error_type(version, p[hl]);
	return true;
}

bool icmp_may_answer(const struct pkt_view *v)
{
	return icmp_may_answer_raw(v->data, v->len);
}

static void put32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

uint32_t icmp_build(const uint8_t *about, uint32_t len, const uint8_t *from, enum icmp_kind kind,
		    unsigned info, uint8_t *out)
{
	unsigned version = about[0] >> 4, hl = version == 4 ? IP4_HLEN : IP6_HLEN;
	unsigned max = version == 4 ? ICMP_MAX_V4 : ICMP_MAX_V6, q = len;
	uint8_t *m = out + hl;
	uint32_t tot;
	uint16_t c;
	uint8_t to[16];

	if (len < hl)
		return 0;
	memcpy(to, about + ip_src_off(version), ip_addr_len(version));
	if (q > max - hl - 8)
		q = max - hl - 8;
	tot = hl + 8 + q;
	memmove(m + 8, about, q);	/* about may be in out already */
	memset(m, 0, 8);
	if (version == 4) {
		m[0] = kind == ICMP_TIME_EXCEEDED ? 11 : 3;
		m[1] = kind == ICMP_TOO_BIG ? 4 : kind == ICMP_TIME_EXCEEDED ? 0 : 1;
		if (kind == ICMP_TOO_BIG)
			put32(m + 4, info & 0xffff);
		memset(out, 0, IP4_HLEN);
		out[0] = 0x45;
		out[IP4_TOS] = 0xc0;	/* precedence "internetwork control", as routers do */
		out[IP4_TOTLEN] = (uint8_t)(tot >> 8);
		out[IP4_TOTLEN + 1] = (uint8_t)tot;
		out[IP4_TTL] = 64;
		out[IP4_PROTO] = IPPROTO_ICMP;
		memcpy(out + IP4_SRC, from, 4);
		memcpy(out + IP4_DST, to, 4);
		csum_ipv4_header_set(out, IP4_HLEN);
		c = csum_finish(csum_add(0, m, 8 + q));
	} else {
		m[0] = kind == ICMP_TOO_BIG ? 2 : kind == ICMP_TIME_EXCEEDED ? 3 : 1;
		m[1] = kind == ICMP_UNREACHABLE ? 3 : 0;
		if (kind == ICMP_TOO_BIG)
			put32(m + 4, info);
		memset(out, 0, 8);
		out[0] = 0x60;
		out[IP6_PLEN] = (uint8_t)((8 + q) >> 8);
		out[IP6_PLEN + 1] = (uint8_t)(8 + q);
		out[IP6_NEXT] = IPPROTO_ICMPV6;
		out[IP6_HOPS] = 64;
		memcpy(out + IP6_SRC, from, 16);
		memcpy(out + IP6_DST, to, 16);
		c = csum_finish(csum_add(csum_pseudo(out, 8 + q, IPPROTO_ICMPV6), m, 8 + q));
	}
	m[2] = (uint8_t)(c >> 8);
	m[3] = (uint8_t)c;
	return tot;
}

bool icmp_parse_error(const struct pkt_view *v, struct icmp_error *e)
{
	const uint8_t *m = v->data + v->l4off;
	uint32_t mlen = v->len - v->l4off;
	unsigned qmin;

	if (v->fragment || !v->l4off || mlen < 8)
		return false;
	if (v->version == 4) {
		if (v->l4proto != IPPROTO_ICMP || !is_error_type(4, m[0]) ||
		    csum_finish(csum_add(0, m, mlen)) != 0)
			return false;
		e->too_big = m[0] == 3 && m[1] == 4;
		e->mtu = e->too_big ? (unsigned)(m[6] << 8 | m[7]) : 0;
	} else {
		if (v->l4proto != IPPROTO_ICMPV6 || !is_error_type(6, m[0]) ||
		    csum_finish(csum_add(csum_pseudo(v->data, mlen, IPPROTO_ICMPV6), m, mlen)) != 0)
			return false;
		e->too_big = m[0] == 2;
		e->mtu = e->too_big ? (unsigned)m[4] << 24 | (unsigned)m[5] << 16 | (unsigned)m[6] << 8 | m[7] : 0;
	}
	e->quote = m + 8;
	e->quote_len = mlen - 8;
	qmin = e->quote_len ? ((e->quote[0] >> 4) == 4 ? IP4_HLEN : IP6_HLEN) : 1;
	return e->quote_len >= qmin && ((e->quote[0] >> 4) == 4 || (e->quote[0] >> 4) == 6);
}
