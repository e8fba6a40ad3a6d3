/* lb_types: the values the data path hands out (counters, tunnel state)
 * and the callback it emits packets through: shared by lb.h's users and
 * the data path's own files. */
#ifndef MSLB_LB_TYPES_H
#define MSLB_LB_TYPES_H

#include <stdint.h>

struct lb_counter {
	uint64_t packets, bytes;
};

/* Packets the data path makes besides the one it was given (fragments,
 * segments, ICMP errors): complete, with final checksums, to be sent as
 * they are. The buffer is valid only during the call. */
typedef void (*lb_emit_fn)(void *ctx, const uint8_t *pkt, uint32_t len);

enum lb_mtu_source { LB_MTU_DEFAULT, LB_MTU_ROUTE, LB_MTU_CONFIG, LB_MTU_ICMP };

/* A next hop's tunnel: per outer family [0] IPv4, [1] IPv6. */
struct lb_nh_tunnel {
	unsigned path_mtu[2], tunnel_mtu[2];
	enum lb_mtu_source source[2];
	double expires_in[2];		/* seconds, with LB_MTU_ICMP */
	uint64_t encapsulated, fragments, segments, icmp_sent, icmp_received, icmp_rate_limited;
};

struct lb_tunnel_stats {
	uint64_t decapsulated;		/* tunnel packets taken apart (back, front stage) */
	uint64_t icmp_sent, icmp_rate_limited, icmp_received, icmp_relayed, icmp_followed;
};

#endif
