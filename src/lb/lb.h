/* lb: the data path. Built from one config snapshot; takes a packet buffer
 * and rewrites it in place (front: IP_S -> IP_B, back: IP_B -> IP_S) or
 * returns why it was dropped. No I/O, no logging, no allocation. */
#ifndef MSLB_LB_H
#define MSLB_LB_H

#include <stdint.h>

#include "lb_types.h"
#include "config/config.h"
#include "net/drop.h"
#include "net/pktbuf.h"
#include "net/reasm.h"

struct mslb_lb;

struct mslb_lb *lb_create(const struct mslb_config *cfg);
void lb_destroy(struct mslb_lb *lb);
/* Carry counters over a reload: next hops by name, table entries by prefix
 * and next hop, back addresses by address, drops as they are. */
void lb_adopt_counters(struct mslb_lb *lb, const struct mslb_lb *old);

void lb_set_emit(struct mslb_lb *lb, lb_emit_fn fn, void *ctx);
/* Emitted packets go to a device that segments UDP (the TUN with USO):
 * GUE carries a TCP or UDP super-packet in one UDP super-packet. */
void lb_set_emit_uso(struct mslb_lb *lb, bool on);
/* The output takes UDP-tunnel super-packets (TCP inside GUE, cut by the
 * kernel) with these outer families (bit 0 IPv4, bit 1 IPv6): GUE leaves
 * without cutting TCP super-packets in software. */
void lb_set_emit_tunnel_gso(struct mslb_lb *lb, unsigned families);
/* The redirection protocol's state (NULL: none): its rules send packets
 * to other backs, its owned flows are watched. */
struct rdr;
void lb_set_redirect(struct mslb_lb *lb, struct rdr *r);
/* Packets other backs redirected here (what went the other way is
 * counted by the protocol, per peer). */
uint64_t lb_from_peers(const struct mslb_lb *lb);
/* What the tunnels toward redirect peers made. */
struct lb_tcount lb_redirect_tunnel(const struct mslb_lb *lb);
/* Once a second: state that ends (Proposal 2 subflows at a back). */
void lb_expire(struct mslb_lb *lb, double now);
/* A reload: lb takes over old's state that outlives a config (the
 * Proposal 2 subflows, when both keep as many; the back's flows; the
 * front's choices until now, which become the previous generation). */
void lb_take_state(struct mslb_lb *lb, struct mslb_lb *old);
/* MPTCP Proposal 2 at the front and at the back. */
struct lb_p2_stats lb_p2_stats(const struct mslb_lb *lb);
struct lb_p2b_stats lb_p2b_stats(const struct mslb_lb *lb);
/* The clock (monotonic seconds) for path MTU soft state, reassembly
 * timeouts and the ICMP rate limit. */
void lb_set_time(struct mslb_lb *lb, double now);
/* The MTU of the kernel's route toward next hop i's outer address
 * (outer_v6: its IPv6 one), or toward the return endpoint of a family. */
void lb_set_route_mtu(struct mslb_lb *lb, unsigned i, bool outer_v6, unsigned mtu);
void lb_set_return_mtu(struct mslb_lb *lb, bool v6, unsigned mtu);

/* Process the packet p, whose data has IO_HEADROOM writable bytes before
 * it. On MSLB_OK, p->data, p->len and p->off describe what to send:
 * rewritten, encapsulated (data moved back) or decapsulated (moved on);
 * p->len 0 when nothing is left to send (the packet became emitted
 * fragments or segments, or a fragment waits for reassembly). */
enum mslb_drop lb_process_pkt(struct mslb_lb *lb, struct io_pkt *p);

/* Health checks and drains (lb_health.c). A next hop that is not usable
 * gets no new flows: it leaves the hash, and its table entries take their
 * backup or the unmatched policy. Returns 0, or -1 (unknown next hop, out
 * of memory: nothing changed). New next hops start usable unless drained
 * in the file. */
int lb_set_usable(struct mslb_lb *lb, unsigned i, bool usable);
/* The same for every next hop at once (usable[i] for next hop i). */
int lb_set_usable_all(struct mslb_lb *lb, const bool *usable);
bool lb_next_hop_usable(const struct mslb_lb *lb, unsigned i);
/* Some usable next hop has an address of family (AF_INET, AF_INET6). */
bool lb_serves(const struct mslb_lb *lb, int family);
/* This host's probe of next hop i: packets from src (version 4 or 6) with
 * that TCP source port or ICMP echo identifier go to next hop i. It stays
 * until replaced or cleared. */
void lb_set_probe(struct mslb_lb *lb, unsigned i, unsigned version, uint8_t proto, const uint8_t *src, uint16_t id);
void lb_clear_probe(struct mslb_lb *lb, unsigned i);
uint64_t lb_next_hop_probes(const struct mslb_lb *lb, unsigned i);
/* Packets of table entry i that its next hop could not take. */
uint64_t lb_table_fallbacks(const struct mslb_lb *lb, unsigned i);

/* Persistence (lb_persist.c). The back asks fn whether its server holds a marked flow (sock_diag). */
void lb_set_flow_known(struct mslb_lb *lb, lb_known_fn fn, void *ctx);
struct lb_persist_stats lb_persist_stats(const struct mslb_lb *lb);

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
void lb_next_hop_tunnel(const struct mslb_lb *lb, unsigned i, struct lb_nh_tunnel *out);
/* The back's return tunnel, the same way (both families filled). */
void lb_return_tunnel(const struct mslb_lb *lb, struct lb_nh_tunnel *out);
void lb_get_tunnel_stats(const struct mslb_lb *lb, struct lb_tunnel_stats *out);
/* back.return_tunnel packets sent; return_endpoint packets forwarded. */
struct lb_counter lb_return_counter(const struct mslb_lb *lb);
struct lb_counter lb_endpoint_counter(const struct mslb_lb *lb);
/* false when this node reassembles nothing. */
bool lb_reasm_stats(const struct mslb_lb *lb, struct reasm_stats *out);
const char *lb_mtu_source_name(enum lb_mtu_source s);
/* A drop decided after lb_process_pkt (the I/O path: ttl_exceeded). */
void lb_count_drop(struct mslb_lb *lb, enum mslb_drop d);

#endif
