/* encap: IP-in-IP (draft-matsuhira-mslb-17 section 5.2; RFC 2003, RFC 2473,
 * RFC 4213): put an outer header in front of a packet, take it off again. */
#ifndef MSLB_ENCAP_H
#define MSLB_ENCAP_H

#include <stdbool.h>
#include <stdint.h>

#include "drop.h"
#include "pkt.h"

#define ENCAP_V4_OVERHEAD IP4_HLEN
#define ENCAP_V6_OVERHEAD IP6_HLEN
#define ENCAP_TTL 64

static inline unsigned encap_overhead(int outer_version)
{
	return outer_version == 4 ? ENCAP_V4_OVERHEAD : ENCAP_V6_OVERHEAD;
}

/* Write the outer header in the overhead bytes before inner (which must be
 * writable) and return its start. DSCP and ECN are copied from the inner
 * header (RFC 6040 normal mode); an IPv4 outer header copies the inner DF
 * (RFC 2003) and, for an IPv6 inner packet, sets DF unless df_clear (the
 * packet is fragmented outside, RFC 4213 3.2). id: the IPv4 identification. */
uint8_t *encap_push(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
		    const uint8_t *dst, uint16_t id, bool df_clear);

/* The packet outer (parsed, not a fragment) carries IPv4 or IPv6 in IP:
 * check the inner header's version against the outer protocol, apply the
 * outer ECN (RFC 6040 4.2), and parse the inner packet into in. */
enum mslb_drop encap_pop(const struct pkt_view *outer, struct pkt_view *in);

static inline bool encap_is_tunnel(const struct pkt_view *v)
{
	return v->l4proto == 4 || v->l4proto == 41;
}

#endif
