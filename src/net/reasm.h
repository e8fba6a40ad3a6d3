/* reasm: reassembly of fragmented tunnel packets at a decapsulator
 * (RFC 791, RFC 8200 section 4.5, RFC 5722: overlaps drop the datagram).
 * Bounded: a fixed number of datagrams in progress (slots), set by a memory
 * cap, all allocated at creation, and a timeout.
 *
 * Fragments come from allowed sources, whose addresses can be spoofed, so a
 * flood of first fragments that never complete must not keep out the
 * datagrams of other sources. A new datagram (a fragment matching none in
 * progress) always gets a slot:
 *   - a source (IP source address) holds at most half the slots: at its
 *     share, its own oldest datagram is given up (source_evictions);
 *   - otherwise, with every slot in use, the oldest datagram of the source
 *     holding the most is given up (evictions); among sources holding as
 *     many, the one that got there first.
 * So one source, or a few, can only displace themselves and each other, not
 * a source holding fewer slots; and a source's own datagram is lost only
 * when it starts more new ones, or more arrive in its name, than its share
 * before that one completes: what a flood spoofing it can do, and no more,
 * where refusing new datagrams at the share would let a trickle lock it out
 * for the timeout. Nothing is refused for want of a slot: memory_drops
 * stays 0 and is kept for the status key. Lost fragments leave a datagram
 * behind until the timeout or until its slot is taken, oldest first. */
#ifndef MSLB_REASM_H
#define MSLB_REASM_H

#include <stdint.h>

#include "drop.h"
#include "pkt.h"

struct reasm;

struct reasm_stats {
	uint64_t datagrams;	/* reassembled */
	uint64_t fragments;	/* accepted */
	uint64_t timeouts;	/* datagrams given up, incomplete, after the timeout */
	uint64_t memory_drops;	/* fragments refused for want of a slot: no longer happens */
	uint64_t bad;		/* fragments refused: overlap, beyond 64 KiB, inconsistent */
	uint64_t evictions;	/* datagrams given up for a new one, every slot in use */
	uint64_t source_evictions;	/* datagrams given up for a new one of their source, at its share */
	unsigned in_progress;
};

/* memory: bytes for datagrams in progress (one slot holds 64 KiB). */
struct reasm *reasm_create(unsigned memory, unsigned timeout_s);
void reasm_destroy(struct reasm *r);

/* Add the fragment v (a parsed IPv4 or IPv6 fragment). Returns MSLB_OK with
 * *out NULL while incomplete; MSLB_OK with *out / *len the whole datagram
 * (fragment fields cleared; valid until the next call) when complete; or
 * MSLB_DROP_REASSEMBLY. */
enum mslb_drop reasm_add(struct reasm *r, const struct pkt_view *v, double now, uint8_t **out, uint32_t *len);
/* Give up datagrams older than the timeout. */
void reasm_expire(struct reasm *r, double now);
void reasm_get_stats(const struct reasm *r, struct reasm_stats *s);

#endif
