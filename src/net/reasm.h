/* reasm: reassembly of fragmented tunnel packets at a decapsulator
 * (RFC 791, RFC 8200 section 4.5, RFC 5722: overlaps drop the datagram).
 * Bounded: a fixed number of datagrams in progress, set by a memory cap,
 * all allocated at creation, and a timeout. */
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
	uint64_t memory_drops;	/* fragments refused: every slot in use */
	uint64_t bad;		/* fragments refused: overlap, beyond 64 KiB, inconsistent */
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
