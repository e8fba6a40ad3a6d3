/* encap: outer headers on and off. The outer header is built in the room
 * the I/O buffers keep before each packet, so nothing is copied. */
#include "encap.h"

#include <string.h>
#include <xxhash.h>

#include "csum.h"
#include "iphdr.h"

static uint8_t inner_tos(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? p[IP4_TOS] : (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
}

/* The outer header before at (len bytes follow: the inner packet, or the
 * UDP header and the inner packet), of protocol proto; inner: the inner
 * IP header, whose DSCP, ECN, DF and addresses the outer one follows. */
static uint8_t *push_outer(uint8_t *at, uint32_t len, int outer_version, const uint8_t *src, const uint8_t *dst,
			   uint16_t id, bool df_clear, const uint8_t *inner, uint8_t proto)
{
	bool v4in = (inner[0] >> 4) == 4;
	uint8_t tos = inner_tos(inner);

	if (outer_version == 4) {
		uint8_t *h = at - ENCAP_V4_OVERHEAD;
		uint32_t tot = len + ENCAP_V4_OVERHEAD;
		bool df = v4in ? (inner[IP4_FRAG] & IP4_DF) != 0 : !df_clear;

		h[0] = 0x45;
		h[IP4_TOS] = tos;
		h[IP4_TOTLEN] = (uint8_t)(tot >> 8);
		h[IP4_TOTLEN + 1] = (uint8_t)tot;
		h[IP4_ID] = (uint8_t)(id >> 8);
		h[IP4_ID + 1] = (uint8_t)id;
		h[IP4_FRAG] = df ? IP4_DF : 0;
		h[IP4_FRAG + 1] = 0;
		h[IP4_TTL] = ENCAP_TTL;
		h[IP4_PROTO] = proto;
		h[IP4_CSUM] = h[IP4_CSUM + 1] = 0;
		memcpy(h + IP4_SRC, src, 4);
		memcpy(h + IP4_DST, dst, 4);
		csum_ipv4_header_set(h, IP4_HLEN);
		return h;
	} else {
		uint8_t *h = at - ENCAP_V6_OVERHEAD;
		/* One label per inner address pair (RFC 6438): a router that
		 * spreads by flow label keeps each client's packets in order. */
		uint32_t fl = (uint32_t)XXH3_64bits(inner + (v4in ? IP4_SRC : IP6_SRC), v4in ? 8 : 32) & 0xfffff;

		h[0] = (uint8_t)(0x60 | tos >> 4);
		h[1] = (uint8_t)(tos << 4 | fl >> 16);
		h[2] = (uint8_t)(fl >> 8);
		h[3] = (uint8_t)fl;
		h[IP6_PLEN] = (uint8_t)(len >> 8);
		h[IP6_PLEN + 1] = (uint8_t)len;
		h[IP6_NEXT] = proto;
		h[IP6_HOPS] = ENCAP_TTL;
		memcpy(h + IP6_SRC, src, 16);
		memcpy(h + IP6_DST, dst, 16);
		return h;
	}
}

uint8_t *encap_push(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
		    const uint8_t *dst, uint16_t id, bool df_clear)
{
	return push_outer(inner, inner_len, outer_version, src, dst, id, df_clear, inner,
			  (inner[0] >> 4) == 4 ? 4 : 41);
}

uint16_t encap_gue_sport(const uint8_t *inner, uint32_t len)
{
	bool v4 = (inner[0] >> 4) == 4;
	unsigned hl = v4 ? (inner[0] & 0x0f) * 4u : IP6_HLEN;
	uint8_t key[2 * 16 + 5];
	unsigned alen = v4 ? 4 : 16, n = 2 * alen;
	uint8_t proto = inner[v4 ? IP4_PROTO : IP6_NEXT];
	bool whole = v4 ? !((inner[IP4_FRAG] & 0x3f) | inner[IP4_FRAG + 1]) : true;	/* no fragment */

	memcpy(key, inner + (v4 ? IP4_SRC : IP6_SRC), n);
	key[n++] = proto;
	/* Ports only where every packet of the flow has them: a flow's
	 * fragments keep to its addresses, as IPv6 flow labels do. */
	if ((proto == 6 || proto == 17) && whole && len >= hl + 4) {
		memcpy(key + n, inner + hl, 4);
		n += 4;
	}
	return (uint16_t)(ENCAP_GUE_SPORT_MIN + XXH3_64bits(key, n) % (65536 - ENCAP_GUE_SPORT_MIN));
}

static uint8_t *push_gue(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
			const uint8_t *dst, uint16_t id, bool df_clear, uint16_t dport, bool partial)
{
	uint8_t *u = inner - ENCAP_UDP_HLEN, *h;
	uint32_t ulen = inner_len + ENCAP_UDP_HLEN;
	uint16_t sport = encap_gue_sport(inner, inner_len);

	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	u[6] = u[7] = 0;
	h = push_outer(u, ulen, outer_version, src, dst, id, df_clear, inner, 17);
	if (partial) {
		/* As the kernel leaves it for a device: the pseudo-header sum,
		 * folded, over the whole length (segmentation adjusts it). */
		uint16_t c = (uint16_t)~csum_finish(csum_pseudo(h, ulen, 17));

		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	} else if (outer_version == 6) {
		uint16_t c = csum_finish(csum_add(csum_pseudo(h, ulen, 17), u, ulen));
		if (!c)
			c = 0xffff;	/* 0 would say "none" (RFC 768) */
		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	}
	return h;
}

uint8_t *encap_push_gue(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
			const uint8_t *dst, uint16_t id, bool df_clear, uint16_t dport)
{
	return push_gue(inner, inner_len, outer_version, src, dst, id, df_clear, dport, false);
}

uint8_t *encap_push_gue_partial(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
				const uint8_t *dst, uint16_t id, uint16_t dport)
{
	return push_gue(inner, inner_len, outer_version, src, dst, id, false, dport, true);
}

/* RFC 6040 section 4.2: a CE mark on the outer header survives decapsulation
 * when the inner packet is ECN-capable; on a Not-ECT packet it cannot, and
 * the packet is dropped. */
static bool ecn_decap(const struct pkt_view *outer, struct pkt_view *in)
{
	uint8_t *p = in->data, old[2], ecn;

	if ((inner_tos(outer->data) & 3) != 3)
		return true;
	ecn = inner_tos(p) & 3;
	if (ecn == 3)
		return true;
	if (ecn == 0)
		return false;
	memcpy(old, p, 2);
	if (in->version == 4) {
		p[IP4_TOS] |= 3;
		csum_update(p + IP4_CSUM, old, p, 2);
	} else {
		p[1] |= 0x30;
	}
	return true;
}

enum mslb_drop encap_pop(const struct pkt_view *outer, struct pkt_view *in)
{
	bool gue = outer->l4proto == 17;
	unsigned off = gue ? outer->l4off + ENCAP_UDP_HLEN : outer->l3len;
	uint8_t *inner = outer->data + off;
	uint32_t len = outer->len > off ? outer->len - off : 0;
	unsigned want = outer->l4proto == 4 ? 4 : 6;

	/* GUE variant 1: the first bits say the version (01: IPv4 or IPv6). */
	if (gue && len >= 1)
		want = (inner[0] >> 4) == 4 ? 4 : 6;
	if (len < 1 || (inner[0] >> 4) != want || pkt_parse(inner, len, in) != MSLB_OK)
		return MSLB_DROP_TUNNEL_INNER;
	if (!ecn_decap(outer, in))
		return MSLB_DROP_TUNNEL_INNER;
	return MSLB_OK;
}
