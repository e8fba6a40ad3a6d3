/* encap: outer headers on and off. The outer header is built in the room
 * the I/O buffers keep before each packet, so nothing is copied. */
#include "encap.h"

#include <string.h>
#include <xxhash.h>

#include "csum.h"

static uint8_t inner_tos(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? p[1] : (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
}

uint8_t *encap_push(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
		    const uint8_t *dst, uint16_t id, bool df_clear)
{
	bool v4in = (inner[0] >> 4) == 4;
	uint8_t tos = inner_tos(inner), proto = v4in ? 4 : 41;

	if (outer_version == 4) {
		uint8_t *h = inner - ENCAP_V4_OVERHEAD;
		uint32_t tot = inner_len + ENCAP_V4_OVERHEAD;
		bool df = v4in ? (inner[6] & 0x40) != 0 : !df_clear;

		h[0] = 0x45;
		h[1] = tos;
		h[2] = (uint8_t)(tot >> 8);
		h[3] = (uint8_t)tot;
		h[4] = (uint8_t)(id >> 8);
		h[5] = (uint8_t)id;
		h[6] = df ? 0x40 : 0;
		h[7] = 0;
		h[8] = ENCAP_TTL;
		h[9] = proto;
		h[10] = h[11] = 0;
		memcpy(h + 12, src, 4);
		memcpy(h + 16, dst, 4);
		csum_ipv4_header_set(h, 20);
		return h;
	} else {
		uint8_t *h = inner - ENCAP_V6_OVERHEAD;
		/* One label per inner address pair (RFC 6438): a router that
		 * spreads by flow label keeps each client's packets in order. */
		uint32_t fl = (uint32_t)XXH3_64bits(inner + (v4in ? 12 : 8), v4in ? 8 : 32) & 0xfffff;

		h[0] = (uint8_t)(0x60 | tos >> 4);
		h[1] = (uint8_t)(tos << 4 | fl >> 16);
		h[2] = (uint8_t)(fl >> 8);
		h[3] = (uint8_t)fl;
		h[4] = (uint8_t)(inner_len >> 8);
		h[5] = (uint8_t)inner_len;
		h[6] = proto;
		h[7] = ENCAP_TTL;
		memcpy(h + 8, src, 16);
		memcpy(h + 24, dst, 16);
		return h;
	}
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
		p[1] |= 3;
		csum_update(p + 10, old, p, 2);
	} else {
		p[1] |= 0x30;
	}
	return true;
}

enum mslb_drop encap_pop(const struct pkt_view *outer, struct pkt_view *in)
{
	uint8_t *inner = outer->data + outer->l3len;
	uint32_t len = outer->len - outer->l3len;
	unsigned want = outer->l4proto == 4 ? 4 : 6;

	if (len < 1 || (inner[0] >> 4) != want || pkt_parse(inner, len, in) != MSLB_OK)
		return MSLB_DROP_TUNNEL_INNER;
	if (!ecn_decap(outer, in))
		return MSLB_DROP_TUNNEL_INNER;
	return MSLB_OK;
}
