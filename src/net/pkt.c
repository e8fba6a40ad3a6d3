/* pkt: validation and layout of IPv4 and IPv6 packets. Everything a
 * rewrite touches is bounds-checked here, once. */
#include "pkt.h"

#include <netinet/in.h>

#include "csum.h"

#define IPPROTO_UDPLITE_ 136
#define IPPROTO_DCCP_ 33
#define IPPROTO_MH_ 135

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the transport checksum sits, and how many bytes must be there for
 * it to be present; 0 if the protocol has no pseudo-header checksum. */
static unsigned l4_csum_field(uint8_t proto, int version, unsigned *need)
{
	switch (proto) {
	case IPPROTO_TCP:
		*need = 18;
		return 16;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE_:
	case IPPROTO_DCCP_:
		*need = 8;
		return 6;
	case IPPROTO_ICMPV6:
		if (version != 6)
			return 0;
		*need = 4;
		return 2;
	case IPPROTO_MH_:	/* IPv6 Mobility Header (RFC 6275 6.1.1) */
		if (version != 6)
			return 0;
		*need = 6;
		return 4;
	default:
		return 0;
	}
}

/* Locate the transport checksum of a packet whose transport header starts
 * at off (first fragment or whole datagram). */
static enum mslb_drop locate_l4(struct pkt_view *v, unsigned off)
{
	unsigned need = 0, field = l4_csum_field(v->l4proto, v->version, &need);

	v->csum_off = 0;
	v->l4off = (uint16_t)off;
	if (!field)
		return MSLB_OK;
	if (v->len < off + need)
		return MSLB_DROP_L4_TRUNCATED;
	if (v->l4proto == IPPROTO_UDP || v->l4proto == IPPROTO_UDPLITE_) {
		v->csum_zero_is_none = true;
		/* UDP checksum 0 means "none" (IPv4; IPv6 tunnels per RFC 6935):
		 * it stays 0, as the sender meant. */
		if (v->l4proto == IPPROTO_UDP && be16(v->data + off + field) == 0)
			return MSLB_OK;
	}
	v->csum_off = (uint16_t)(off + field);
	return MSLB_OK;
}

/* The option o of len bytes (type, length, ...) as Linux's
 * ip_options_compile takes it: the kernel drops a packet with one it
 * refuses before forwarding, so the TUN path never sees it, and the
 * af_packet path must not pass it on either. */
static bool option_ok(const uint8_t *o, unsigned len)
{
	unsigned ptr = len > 2 ? o[2] : 0;

	switch (o[0]) {
	case 7:		/* record route (RFC 791): pointer from 4, room for an address */
		return len >= 3 && ptr >= 4 && (ptr > len || ptr + 3 <= len);
	case 68:	/* timestamp (RFC 791): pointer from 5 */
		if (len < 4 || ptr < 5)
			return false;
		if (ptr > len)	/* full: the overflow count must not be full too */
			return (o[3] & 0xf0) != 0xf0;
		switch (o[3] & 0x0f) {
		case 0:		/* timestamps only */
			return ptr + 3 <= len;
		case 1:		/* address and timestamp */
		case 3:		/* prespecified addresses */
			return ptr + 7 <= len;
		}
		return true;
	case 148:	/* router alert (RFC 2113) */
		return len >= 4;
	}
	return true;
}

static enum mslb_drop parse_v4(uint8_t *buf, uint32_t buflen, struct pkt_view *v)
{
	unsigned ihl = (buf[0] & 0x0f) * 4u, tot = be16(buf + IP4_TOTLEN), frag;

	if (ihl < IP4_HLEN || ihl > buflen)
		return MSLB_DROP_BAD_IHL;
	if (tot < ihl)
		return MSLB_DROP_BAD_LENGTH;
	if (tot > buflen)
		return MSLB_DROP_TRUNCATED;
	if (csum_finish(csum_add(0, buf, ihl)) != 0)
		return MSLB_DROP_BAD_CHECKSUM;
	for (unsigned i = IP4_HLEN; i < ihl;) {
		uint8_t type = buf[i];

		if (type == 0)		/* end of option list */
			break;
		if (type == 1) {	/* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= ihl || buf[i + 1] < 2 || i + buf[i + 1] > ihl)
			return MSLB_DROP_BAD_OPTIONS;
		/* With a source route the destination field is not the final
		 * destination: rewriting it would be meaningless. */
		if (type == 131 || type == 137)
			return MSLB_DROP_SOURCE_ROUTE;
		if (!option_ok(buf + i, buf[i + 1]))
			return MSLB_DROP_BAD_OPTIONS;
		i += buf[i + 1];
	}
	v->len = tot;
	v->l3len = (uint16_t)ihl;
	v->l4proto = buf[IP4_PROTO];
	frag = be16(buf + IP4_FRAG);
	v->fragment = (frag & 0x3fff) != 0;
	v->first_fragment = (frag & 0x1fff) == 0;
	if (!v->first_fragment)
		return MSLB_OK;
	return locate_l4(v, ihl);
}

static enum mslb_drop parse_v6(uint8_t *buf, uint32_t buflen, struct pkt_view *v)
{
	unsigned plen = be16(buf + IP6_PLEN);
	bool final_dst_elsewhere = false;
	struct ip6ext_walk w;
	struct ip6ext e;
	int r;

	if (plen == 0)
		return MSLB_DROP_JUMBOGRAM;
	if (IP6_HLEN + plen > buflen)
		return MSLB_DROP_TRUNCATED;
	v->len = IP6_HLEN + plen;
	v->first_fragment = true;
	ip6ext_start(&w, buf);
	while ((r = ip6ext_next(&w, buf, v->len, &e)) > 0) {
		if (e.type == IPPROTO_FRAGMENT) {
			v->fragment = true;
			v->first_fragment = (be16(buf + e.off + 2) & 0xfff8) == 0;
			v->frag_hdr = (uint16_t)e.off;
			if (!v->first_fragment)
				break;
		} else if (e.type == IPPROTO_ROUTING && buf[e.off + 3] > 0) {
			/* Segments left > 0: the pseudo-header uses the last
			 * address of the routing header, not ours (RFC 8200 8.1). */
			final_dst_elsewhere = true;
		}
	}
	if (r < 0)
		return MSLB_DROP_BAD_EXT_HEADER;
	v->l4proto = w.nh;
	v->l3len = (uint16_t)w.off;
	if (!v->first_fragment || final_dst_elsewhere || w.nh == IPPROTO_NONE)
		return MSLB_OK;
	return locate_l4(v, w.off);
}

enum mslb_drop pkt_parse(uint8_t *buf, uint32_t buflen, struct pkt_view *v)
{
	*v = (struct pkt_view){ .data = buf };
	if (buflen < 1)
		return MSLB_DROP_TRUNCATED;
	v->version = buf[0] >> 4;
	if (v->version == 4)
		return buflen < IP4_HLEN ? MSLB_DROP_TRUNCATED : parse_v4(buf, buflen, v);
	if (v->version == 6)
		return buflen < IP6_HLEN ? MSLB_DROP_TRUNCATED : parse_v6(buf, buflen, v);
	return MSLB_DROP_BAD_VERSION;
}

enum mslb_drop pkt_set_partial(struct pkt_view *v, unsigned start, unsigned field_off)
{
	unsigned need = 0, field = l4_csum_field(v->l4proto, v->version, &need);
	unsigned off = start + field_off;

	if (!field || !v->l4off || start != v->l4off || field_off != field || off + 2 > v->len)
		return MSLB_DROP_BAD_OFFLOAD;
	/* A partial UDP field is a sum, never "no checksum". */
	v->csum_off = (uint16_t)off;
	v->csum_partial = true;
	v->csum_zero_is_none = false;
	return MSLB_OK;
}
