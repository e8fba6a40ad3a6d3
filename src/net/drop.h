/* drop: why a packet was not forwarded. Every reason has a stable name,
 * used in status output and in tests. */
#ifndef MSLB_DROP_H
#define MSLB_DROP_H

enum mslb_drop {
	MSLB_OK = 0,
	MSLB_DROP_TRUNCATED,		/* shorter than its IP header or total length */
	MSLB_DROP_BAD_VERSION,		/* IP version is neither 4 nor 6 */
	MSLB_DROP_BAD_IHL,		/* IPv4 IHL below 5 or beyond the packet */
	MSLB_DROP_BAD_LENGTH,		/* IPv4 total length below the header */
	MSLB_DROP_BAD_CHECKSUM,		/* IPv4 header checksum wrong */
	MSLB_DROP_BAD_OPTIONS,		/* malformed IPv4 options */
	MSLB_DROP_SOURCE_ROUTE,		/* IPv4 LSRR/SSRR: the destination is not final */
	MSLB_DROP_BAD_EXT_HEADER,	/* IPv6 extension header chain malformed or too long */
	MSLB_DROP_JUMBOGRAM,		/* IPv6 payload length 0 (jumbo payload) */
	MSLB_DROP_L4_TRUNCATED,		/* transport header too short to hold its checksum */
	MSLB_DROP_NOT_OURS,		/* destination is neither a service nor a back address */
	MSLB_DROP_NO_ROUTE,		/* front: no table entry and unmatched = "drop" */
	MSLB_DROP_NO_FAMILY,		/* front: chosen next hop has no address of this family */
	MSLB_DROP_UNKNOWN_PORT,		/* front, MPTCP: TCP port neither a service port nor a server_id */
	MSLB_DROP_TCP_FRAGMENT,		/* front, MPTCP: a TCP fragment cannot be placed without state */
	MSLB_DROP_BAD_OFFLOAD,		/* offload metadata that does not match the packet */
	MSLB_DROP_TTL_EXCEEDED,		/* AF_PACKET path: TTL / hop limit 1 or 0, may not be forwarded */
	MSLB_DROP_TUNNEL_SOURCE,	/* IP-in-IP from an outer source that is not allowed */
	MSLB_DROP_TUNNEL_INNER,		/* inner packet malformed, or not the outer protocol's version */
	MSLB_DROP_TUNNEL_INNER_DST,	/* inner destination is not a service of this back */
	MSLB_DROP_TOO_BIG,		/* larger than the tunnel MTU: an ICMP error went to the source */
	MSLB_DROP_REASSEMBLY,		/* outer fragment: overlapping, too long, or no room (memory cap) */
	MSLB_DROP_ICMP_RATE_LIMITED,	/* too big, and the ICMP error was rate limited */
	MSLB_DROP_NEXT_HOP_DOWN,	/* front: every next hop that could take it is down or drained */
	MSLB_DROP_MAX
};

const char *mslb_drop_name(enum mslb_drop d);

#endif
