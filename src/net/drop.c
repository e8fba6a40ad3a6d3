/* drop: names for drop reasons, as shown by `mslbd status`. */
#include "drop.h"

static const char *const names[MSLB_DROP_MAX] = {
	[MSLB_OK] = "ok",
	[MSLB_DROP_TRUNCATED] = "truncated",
	[MSLB_DROP_BAD_VERSION] = "bad_version",
	[MSLB_DROP_BAD_IHL] = "bad_ihl",
	[MSLB_DROP_BAD_LENGTH] = "bad_length",
	[MSLB_DROP_BAD_CHECKSUM] = "bad_checksum",
	[MSLB_DROP_BAD_OPTIONS] = "bad_options",
	[MSLB_DROP_SOURCE_ROUTE] = "source_route",
	[MSLB_DROP_BAD_EXT_HEADER] = "bad_ext_header",
	[MSLB_DROP_JUMBOGRAM] = "jumbogram",
	[MSLB_DROP_L4_TRUNCATED] = "l4_truncated",
	[MSLB_DROP_NOT_OURS] = "not_ours",
	[MSLB_DROP_NO_ROUTE] = "no_route",
	[MSLB_DROP_NO_FAMILY] = "no_family",
	[MSLB_DROP_UNKNOWN_PORT] = "unknown_port",
	[MSLB_DROP_TCP_FRAGMENT] = "tcp_fragment",
	[MSLB_DROP_BAD_OFFLOAD] = "bad_offload",
	[MSLB_DROP_TTL_EXCEEDED] = "ttl_exceeded",
	[MSLB_DROP_TUNNEL_SOURCE] = "tunnel_source",
	[MSLB_DROP_TUNNEL_INNER] = "tunnel_inner",
	[MSLB_DROP_TUNNEL_INNER_DST] = "tunnel_inner_dst",
	[MSLB_DROP_TOO_BIG] = "too_big",
	[MSLB_DROP_REASSEMBLY] = "reassembly",
	[MSLB_DROP_ICMP_RATE_LIMITED] = "icmp_rate_limited",
	[MSLB_DROP_NEXT_HOP_DOWN] = "next_hop_down",
};

const char *mslb_drop_name(enum mslb_drop d)
{
	return (unsigned)d < MSLB_DROP_MAX && names[d] ? names[d] : "unknown";
}
