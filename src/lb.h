/* lb: the data path. Built from one config snapshot; takes a packet buffer
 * and rewrites it in place (front: IP_S -> IP_B, back: IP_B -> IP_S) or
 * returns why it was dropped. No I/O, no logging, no allocation. */
#ifndef MSLB_LB_H
#define MSLB_LB_H

#include <stdint.h>

#include "config.h"
#include "drop.h"

struct mslb_lb;

struct lb_counter {
	uint64_t packets, bytes;
};

struct mslb_lb *lb_create(const struct mslb_config *cfg);
void lb_destroy(struct mslb_lb *lb);
/* Carry counters over a reload: next hops by name, table entries by prefix
 * and next hop, back addresses by address, drops as they are. */
void lb_adopt_counters(struct mslb_lb *lb, const struct mslb_lb *old);

/* Process one packet of *len bytes in buf (capacity >= *len). On MSLB_OK the
 * packet was rewritten and *len may have shrunk (trailing bytes cut). */
enum mslb_drop lb_process(struct mslb_lb *lb, uint8_t *buf, uint32_t *len);
/* The same for a packet whose transport checksum is partial (offloads):
 * partial_off is the offset of that checksum field, 0 for none. */
enum mslb_drop lb_process_offload(struct mslb_lb *lb, uint8_t *buf, uint32_t *len, unsigned partial_off);

/* Counters, indexed like the snapshot's arrays. */
const struct mslb_config *lb_config(const struct mslb_lb *lb);
struct lb_counter lb_next_hop_counter(const struct mslb_lb *lb, unsigned i);
/* MPTCP: packets balanced by 5-tuple hash / routed by server_id port. */
uint64_t lb_next_hop_hash_hits(const struct mslb_lb *lb, unsigned i);
uint64_t lb_next_hop_port_hits(const struct mslb_lb *lb, unsigned i);
uint64_t lb_table_hits(const struct mslb_lb *lb, unsigned i);
uint64_t lb_unmatched_hits(const struct mslb_lb *lb);
struct lb_counter lb_back_counter(const struct mslb_lb *lb, unsigned i);
uint64_t lb_drops(const struct mslb_lb *lb, enum mslb_drop d);
/* A drop decided after lb_process (the I/O path: ttl_exceeded). */
void lb_count_drop(struct mslb_lb *lb, enum mslb_drop d);

#endif
