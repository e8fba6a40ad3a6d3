/* lb_types: the values the data path hands out (counters, tunnel state)
 * and the callback it emits packets through: shared by lb.h's users and
 * the data path's own files. */
#ifndef MSLB_LB_TYPES_H
#define MSLB_LB_TYPES_H

#include <stdint.h>

struct lb_counter {
	uint64_t packets, bytes;
};

struct io_offload;

/* Packets the data path makes besides the one it was given (fragments,
 * segments, ICMP errors): complete, with final checksums, to be sent as
 * they are, unless off (NULL: none) asks the device to finish them (a
 * GUE super-packet for UDP segmentation). Valid only during the call. */
typedef void (*lb_emit_fn)(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off);

/* Does this host hold a TCP socket of the connection between server
 * (address, port) and client (version 4 or 6)? 1 yes, 0 no, -1 unknown. */
typedef int (*lb_known_fn)(void *ctx, unsigned version, const uint8_t *server, uint16_t sport,
			   const uint8_t *client, uint16_t cport);

enum lb_mtu_source { LB_MTU_DEFAULT, LB_MTU_ROUTE, LB_MTU_CONFIG, LB_MTU_ICMP };

/* A next hop's tunnel: per outer family [0] IPv4, [1] IPv6. */
struct lb_nh_tunnel {
	unsigned path_mtu[2], tunnel_mtu[2];
	enum lb_mtu_source source[2];
	double expires_in[2];		/* seconds, with LB_MTU_ICMP */
	uint64_t encapsulated, fragments, segments, icmp_sent, icmp_received, icmp_rate_limited;
	uint64_t uso;			/* GUE super-packets the kernel segments */
	uint64_t udp_tunnel;		/* TCP super-packets sent whole in GUE, cut by the kernel */
};

/* MPTCP Proposal 2 at the front: SYNs by kind, how keys were found, what
 * the other segments were routed by. */
struct lb_p2_stats {
	uint64_t capable, joins, plain_syns;
	uint64_t tries, alt_hits;	/* keys tried; keys whose bucket is the hash's next hop */
	uint64_t no_room;		/* SYNs without room for the option */
	uint64_t no_key;		/* every key tried fell in the hash bucket */
	uint64_t ts_routed, ts_hash;	/* by TSecr bucket; TSecr said "hash" (plain TCP) */
	uint64_t hashed;		/* no timestamp: by the 5-tuple hash */
	uint64_t icmp_routed;		/* ICMP errors about a server's segment, by its TSval bucket */
};

/* MPTCP Proposal 2 at the back. */
struct lb_p2b_stats {
	uint64_t stripped;		/* SYNs whose front option was taken out */
	uint64_t bad;			/* ... malformed: dropped */
	uint64_t rules, rules_failed;	/* redirect rules asked for at the alternate */
	uint64_t alt_unknown;		/* the alternate is no redirect peer */
	unsigned flows;			/* subflows with state now */
	uint64_t flows_made, flows_full, flows_late, flows_expired;
	uint64_t keys;			/* SYN/ACKs given the front's key */
	uint64_t tsval, tsecr, tsecr_unknown;	/* timestamps rewritten, restored, not known (0) */
	/* Key translation (lb_p2keys.c). */
	unsigned conns;			/* connections with state now */
	uint64_t conns_full, token_clash;	/* no room; the front's token already taken */
	uint64_t server_keys;		/* SYN/ACKs whose server key was learned */
	uint64_t join_tokens, join_unknown;	/* MP_JOIN tokens translated; not known */
	uint64_t hmacs, hmacs_bad;	/* HMACs signed again; failed verification (left as they were) */
	uint64_t dsn, data_acks;	/* DSNs (server's) and data ACKs (client's) translated */
	uint64_t untranslated;		/* MPTCP segments of a subflow without connection state */
	uint64_t early_acks;		/* handshake ACKs with no state and no rule here: held back */
};

/* Persistence across changes of the usable next hops (lb_persist.c). */
struct lb_persist_stats {
	/* Front: the previous generation and the packets told about it. */
	double window_left;		/* seconds the previous generation is still used (0: none) */
	uint64_t generations;		/* changes that started a window */
	uint64_t marked;		/* packets that carried their previous next hop */
	uint64_t mark_too_big;		/* ... did not fit: ICMP too big to the client */
	uint64_t unmarked;		/* ... had no room (options, fragments allowed): sent without */
	uint64_t gso_shrunk;		/* super-packets cut into smaller segments for the option */
	uint64_t taken_out;		/* fronts' options a client or an upstream stage sent: removed */
	/* Back: the flows it delivers, and those it hands to the back that
	 * had them before. */
	unsigned flows, flows_cap;	/* in the table now; its size */
	uint64_t marks;			/* packets that came marked (the mark taken out) */
	uint64_t new_flows;		/* flows recorded as this server's */
	uint64_t known;			/* marked packets of a flow known here */
	uint64_t sock_diag_yes, sock_diag_no;	/* marked flows the server's sockets knew, did not */
	uint64_t handed_flows, handed_packets;	/* to the previous back */
	uint64_t prev_unknown;		/* the previous next hop is no redirect peer: delivered here */
	uint64_t cycles;		/* handed back to where they came from: delivered here */
	uint64_t full, expired;
	uint64_t ignored;		/* marks at a back without redirect peers: delivered here */
};

/* Counters of what a tunnel made. */
struct lb_tcount {
	uint64_t encapsulated, fragments, segments, icmp_sent, icmp_received, icmp_rate_limited;
	uint64_t uso;			/* GUE super-packets the kernel segments */
	uint64_t udp_tunnel;		/* TCP super-packets sent whole in GUE, cut by the kernel */
};

struct lb_tunnel_stats {
	uint64_t decapsulated;		/* tunnel packets taken apart (back, front stage) */
	uint64_t uso_coalesced;		/* GUE UDP super-packets made one TCP super-packet */
	uint64_t uso_split;		/* GUE UDP super-packets taken apart datagram by datagram */
	uint64_t udp_tunnel;		/* GUE UDP-tunnel super-packets taken apart whole */
	uint64_t icmp_sent, icmp_rate_limited, icmp_received, icmp_relayed, icmp_followed;
};

#endif
