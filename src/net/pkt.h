/* pkt: parse and validate an IP packet in place, without copying.
 * The parse locates everything a rewrite needs, so a rewrite that follows
 * a successful parse cannot fail half-way. */
#ifndef MSLB_PKT_H
#define MSLB_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "drop.h"
#include "ip6ext.h"
#include "iphdr.h"

#define PKT_IPV6_MAX_EXT IP6EXT_MAX	/* extension headers walked before giving up */

struct pkt_view {
	uint8_t *data;		/* first byte of the IP header */
	uint32_t len;		/* IP packet length (total length; trailing bytes cut) */
	uint8_t version;	/* 4 or 6 */
	uint8_t l4proto;	/* final next header / protocol */
	uint16_t l3len;		/* IPv4 header or IPv6 header plus extensions */
	bool fragment;		/* part of a fragmented datagram */
	bool first_fragment;	/* offset zero: carries the transport header */
	/* Offset of the transport checksum that covers the pseudo-header's
	 * destination, or 0 when nothing beyond the IP header must change
	 * (non-first fragment, protocol without pseudo-header, IPv4 UDP with
	 * checksum 0, IPv6 routing header with segments left). */
	uint16_t csum_off;
	bool csum_zero_is_none;	/* UDP: a result of 0 is written as 0xffff */
	/* Offset of the transport header in a first fragment or whole
	 * datagram, else 0. TCP ports are there whenever pkt_parse accepted a
	 * TCP packet with l4off set (it checks 18 bytes of header). */
	uint16_t l4off;
	bool csum_partial;	/* the field at csum_off is a partial checksum */
	uint16_t frag_hdr;	/* IPv6: offset of the fragment header, else 0 */
};

/* Parse buf[0..buflen). On success fills v and returns MSLB_OK; otherwise
 * returns the drop reason and v is unspecified. */
enum mslb_drop pkt_parse(uint8_t *buf, uint32_t buflen, struct pkt_view *v);

/* The kernel handed the packet with its transport checksum still to be
 * finished (offloads): the sum starts at start, and the field at start +
 * field_off holds the partial sum. Returns MSLB_DROP_BAD_OFFLOAD unless
 * start is this packet's transport header and field_off its checksum. */
enum mslb_drop pkt_set_partial(struct pkt_view *v, unsigned start, unsigned field_off);

/* Spelled out rather than through ip_dst_off() and friends: the same
 * values, but GCC then inlines the data path differently (pktbench). */
static inline uint8_t *pkt_dst(const struct pkt_view *v)
{
	return v->data + (v->version == 4 ? IP4_DST : IP6_DST);
}

static inline uint8_t *pkt_src(const struct pkt_view *v)
{
	return v->data + (v->version == 4 ? IP4_SRC : IP6_SRC);
}

static inline unsigned pkt_addr_len(const struct pkt_view *v)
{
	return v->version == 4 ? 4 : 16;
}

#endif
