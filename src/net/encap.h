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
#define ENCAP_UDP_HLEN 8
#define ENCAP_TTL 64
/* GUE: the outer UDP source port, from the inner flow, in the dynamic
 * range (RFC 6335), so that routers and receivers spread the flows. */
#define ENCAP_GUE_SPORT_MIN 49152

/* The outer header's size; gue: with the UDP header of GUE. */
static inline unsigned encap_overhead(int outer_version)
{
	return outer_version == 4 ? ENCAP_V4_OVERHEAD : ENCAP_V6_OVERHEAD;
}

static inline unsigned encap_overhead_of(int outer_version, bool gue)
{
	return encap_overhead(outer_version) + (gue ? ENCAP_UDP_HLEN : 0);
}

/* Write the outer header in the overhead bytes before inner (which must be
 * writable) and return its start. DSCP and ECN are copied from the inner
 * header (RFC 6040 normal mode); an IPv4 outer header copies the inner DF
 * (RFC 2003) and, for an IPv6 inner packet, sets DF unless df_clear (the
 * packet is fragmented outside, RFC 4213 3.2). id: the IPv4 identification. */
uint8_t *encap_push(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
		    const uint8_t *dst, uint16_t id, bool df_clear);

/* The same in UDP, GUE variant 1 (draft-ietf-intarea-gue: the inner
 * packet right after the UDP header) to port dport: the UDP source port
 * comes from the inner flow, the UDP checksum is 0 over IPv4 (RFC 768)
 * and computed over IPv6 (RFC 8200), where the inner packet must then
 * carry its final checksums. */
uint8_t *encap_push_gue(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
			const uint8_t *dst, uint16_t id, bool df_clear, uint16_t dport);
/* The same with the UDP checksum left for the device to finish: the
 * field holds the pseudo-header sum (csum_start at the UDP header, offset
 * 6), as a UDP GSO super-packet needs; inner: packets back to back. */
uint8_t *encap_push_gue_partial(uint8_t *inner, uint32_t inner_len, int outer_version, const uint8_t *src,
				const uint8_t *dst, uint16_t id, uint16_t dport);
/* The GUE source port of the inner packet (len bytes): the same for all
 * the packets of a flow, fragments of it included. */
uint16_t encap_gue_sport(const uint8_t *inner, uint32_t len);

/* The packet outer (parsed, not a fragment) carries IPv4 or IPv6 in IP,
 * or in UDP (GUE): check the inner header's version against the outer
 * protocol (GUE: either), apply the outer ECN (RFC 6040 4.2), and parse
 * the inner packet into in. */
enum mslb_drop encap_pop(const struct pkt_view *outer, struct pkt_view *in);

static inline bool encap_is_tunnel(const struct pkt_view *v)
{
	return v->l4proto == 4 || v->l4proto == 41;
}

/* Is v (not a fragment) UDP to port? GUE when port is the back's. */
static inline bool encap_is_gue(const struct pkt_view *v, uint16_t port)
{
	const uint8_t *u = v->data + v->l4off;

	return port && v->l4proto == 17 && v->l4off && !v->fragment && v->len >= v->l4off + (unsigned)ENCAP_UDP_HLEN &&
	       (uint16_t)(u[2] << 8 | u[3]) == port;
}

#endif
