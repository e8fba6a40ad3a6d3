/* iphdr: byte offsets of the fields of the fixed IPv4 (RFC 791) and IPv6
 * (RFC 8200) headers, so that the packet code says which field it touches.
 * Multi-byte fields are big-endian: the low byte is at OFF + 1. */
#ifndef MSLB_IPHDR_H
#define MSLB_IPHDR_H

/* IPv4 */
#define IP4_TOS		1	/* type of service: DSCP and ECN */
#define IP4_TOTLEN	2	/* total length, 16 bits */
#define IP4_ID		4	/* identification, 16 bits */
#define IP4_FRAG	6	/* flags and fragment offset, 16 bits */
#define IP4_TTL		8
#define IP4_PROTO	9
#define IP4_CSUM	10	/* header checksum, 16 bits */
#define IP4_SRC		12
#define IP4_DST		16
#define IP4_HLEN	20	/* the header without options */

#define IP4_DF		0x40	/* don't fragment, in the byte at IP4_FRAG */

/* IPv6 */
#define IP6_PLEN	4	/* payload length, 16 bits */
#define IP6_NEXT	6	/* next header */
#define IP6_HOPS	7	/* hop limit */
#define IP6_SRC		8
#define IP6_DST		24
#define IP6_HLEN	40	/* the fixed header */

/* The same field of either header, by IP version (4 or 6). */
static inline unsigned ip_src_off(unsigned version)
{
	return version == 4 ? IP4_SRC : IP6_SRC;
}

static inline unsigned ip_dst_off(unsigned version)
{
	return version == 4 ? IP4_DST : IP6_DST;
}

static inline unsigned ip_addr_len(unsigned version)
{
	return version == 4 ? 4 : 16;
}

static inline unsigned ip_proto_off(unsigned version)
{
	return version == 4 ? IP4_PROTO : IP6_NEXT;
}

#endif
