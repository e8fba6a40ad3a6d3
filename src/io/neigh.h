/* neigh: the next-hop cache of the AF_PACKET transmit path. For a packet's
 * (rewritten) destination: the interface the kernel would send it out of,
 * and the link-layer address of the neighbour there (the gateway, or the
 * destination itself on-link), learnt through rtnetlink. Misses are
 * resolved synchronously (two netlink round trips, once per destination);
 * entries are refreshed by a timer and flushed on reload. */
#ifndef MSLB_NEIGH_H
#define MSLB_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"

#define NEIGH_CAPACITY 1024	/* entries; a full cache sends the rest to the TUN */

enum neigh_state {
	NEIGH_TUN,		/* hand to the TUN: local, unroutable, or not an af_packet interface */
	NEIGH_UNRESOLVED,	/* af_packet interface, but the neighbour's MAC is not known */
	NEIGH_OK,		/* send on port with mac */
};

struct neigh_entry {
	bool failed;		/* the route lookup itself failed: retried with a newer source */
	struct mslb_addr dst;
	struct mslb_addr src;	/* a source seen with dst: input route lookups need one */
	uint8_t state;		/* enum neigh_state */
	bool used;		/* slot taken */
	int8_t port;		/* index into the af_packet interfaces, -1 if none */
	bool probe;		/* the kernel has it STALE: send one packet its way */
	uint8_t mac[6];
};

struct neigh_stats {
	unsigned entries, resolved;
	uint64_t lookups, misses, unresolved, tun_fallbacks, refreshes, probes;
};

struct neigh;

/* tun_ifindex: lookups are made as if the packet came out of the TUN (so
 * the daemon's policy rules apply, like for a packet the TUN path writes).
 * ifindex[0..n): the af_packet interfaces, in port order. */
struct neigh *neigh_create(int tun_ifindex, const int *ifindex, unsigned n);
void neigh_destroy(struct neigh *n);
/* Where to send a packet to dst (src: its source). Never NULL: a full
 * cache or a netlink error answers NEIGH_TUN. */
const struct neigh_entry *neigh_lookup(struct neigh *n, const struct mslb_addr *dst,
				       const struct mslb_addr *src);
/* Re-resolve up to max entries, round robin (timer). */
void neigh_refresh(struct neigh *n, unsigned max);
void neigh_flush(struct neigh *n);
/* The daemon's own frames never confirm a neighbour to the kernel, which
 * would keep a dead one STALE until it is collected. So after each refresh
 * that finds it STALE, one packet goes through the TUN instead: the kernel
 * sends it, probes (STALE -> DELAY -> PROBE) and the next refresh sees
 * the neighbour confirmed or failed. True (once) if this packet is it. */
bool neigh_take_probe(struct neigh *n, const struct neigh_entry *e);
/* Counters for the data path to bump, and the status snapshot. */
void neigh_count_fallback(struct neigh *n, bool unresolved);
void neigh_get_stats(const struct neigh *n, struct neigh_stats *s);

#endif
