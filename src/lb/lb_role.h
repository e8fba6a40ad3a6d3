/* lb_role: the role handlers the classifier (lb.c) hands a packet to.
 * Private to the lb files; tunnels are in lb_tunnel.h. */
#ifndef MSLB_LB_ROLE_H
#define MSLB_LB_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lb_state.h"
#include "net/iphdr.h"
#include "net/p2opt.h"
#include "net/pkt.h"
#include "net/pktbuf.h"

/* What a front balances a packet by: the client's address and, for MPTCP,
 * the ports in the client's direction. Usually the packet's own; for an
 * ICMP error about a server's packet, the quoted flow's. */
struct flow_key {
	const uint8_t *client, *service;
	const uint8_t *ports;	/* client port, service port; NULL: not TCP */
};

/* Front (MSLB-F): a packet to a service address, balanced to a next hop
 * and translated or encapsulated toward it. own_ttl: it came by
 * io.af_packet (no kernel forwarded it) and was not decapsulated here. */
enum mslb_drop lb_front(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, bool own_ttl);
/* Back (MSLB-B): a packet to back address slot k of its family (see
 * lb_back_slot); tunnel: it is IP-in-IP; partial: it has a partial
 * checksum (offloads). */
enum mslb_drop lb_back(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, int k, bool tunnel,
		       bool partial);
/* The fronts' options a packet to a back brings (lb_back.c): Proposal 2's
 * (a SYN at a back.proposal2 back) and the persistence mark. */
struct lb_back_opts {
	struct p2opt o, mark;
	bool p2, marked;
};
/* Take them out of v before the back's rewrite (a drop: one is malformed). */
enum mslb_drop lb_back_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct lb_back_opts *b);
/* After it (v to IP_S): the flow handed to the back that had it, Proposal
 * 2's subflow state, redirection. peer: the redirect peer v came from
 * (its index in redirect.peers), or -1. */
enum mslb_drop lb_back_deliver(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
			       const struct lb_back_opts *b, int peer);
/* IP_B (slot k) -> IP_S, counted. */
void lb_back_at(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f, int k);

/* Redirection, for a packet v about to go to this back's server (IP_S
 * restored, outer header gone). A flow another back owns goes there: p
 * then holds the tunnel packet (or nothing, when it was cut up). from_peer:
 * it came from a peer already (never sent on again). */
enum mslb_drop lb_redirect(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, bool from_peer);

/* Health (lb_health.c): family's hash over the usable next hops that
 * carry it (0, or -1 out of memory with the old one kept; old: where the
 * replaced one goes, NULL to free it); the next hop a
 * packet of this host's health probe tests, or -1. */
int lb_build_hash(struct mslb_lb *lb, int family, struct maglev **old);
int lb_probe_next_hop(struct mslb_lb *lb, const struct pkt_view *v);

/* Our IP options (lb_option.c, p2opt.h): put into v (p, v then describe
 * the grown packet; false: no room, nothing changed) or taken out of it
 * (1 taken, 0 none, -1 malformed). */
struct maglev;
bool lb_option_insert(struct io_pkt *p, struct pkt_view *v, const struct p2opt *opt);
int lb_option_strip(struct io_pkt *p, struct pkt_view *v, struct p2opt *o);
/* Does v have IPv4 options or an IPv6 destination options header first? */
static inline bool lb_has_options(const struct pkt_view *v)
{
	return v->version == 4 ? (v->data[0] & 0x0f) != 5 : v->data[IP6_NEXT] == 60;
}

/* Persistence (lb_persist.c). The front: after the choice of next hop nh
 * for v (flow key k), while the previous generation is kept, a packet whose
 * flow had another next hop then is marked with it (p, v describe the
 * grown packet), or answered with ICMP too big. */
enum mslb_drop lb_persist_mark(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
			       const struct flow_key *k, unsigned nh);
/* The back: v, to IP_S now, carried mark (NULL: none). True when the
 * packet was handed to the back that had its flow before (*r the result;
 * p then holds the tunnel packet). from_peer: the index of the redirect
 * peer it came from, or -1. */
bool lb_persist_back(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct p2opt *mark,
		     int from_peer, enum mslb_drop *r);
/* The back's strip: a mark out of v, if any (1: *mark filled, 0: none,
 * -1: malformed). Other options of ours go too. */
int lb_persist_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct p2opt *mark);
int lb_persist_create(struct mslb_lb *lb);
void lb_persist_destroy(struct mslb_lb *lb);
/* Before the usable next hops change: the generation they made (its
 * hashes, given) becomes the previous one. */
void lb_persist_changed(struct mslb_lb *lb, const bool *was, struct maglev *hash[2]);
void lb_persist_tick(struct mslb_lb *lb, double now);
/* A reload (lb_take_state): lb's previous generation is old's current
 * one (old gives up its hashes), its back's flows move over. */
void lb_persist_take(struct mslb_lb *lb, struct mslb_lb *old);
/* The flow of a TCP or UDP packet v in the client's direction. */
struct rdr_flow;
bool lb_flow_of(const struct pkt_view *v, struct rdr_flow *f);

/* No next hop in the hash: none carries the family, or none is usable. */
static inline enum mslb_drop lb_no_hash(const struct lb_family *f)
{
	return f->any_carrier ? MSLB_DROP_NEXT_HOP_DOWN : MSLB_DROP_NO_FAMILY;
}

/* A packet of len bytes delivered to back address i of the config. */
static inline void lb_back_count(struct mslb_lb *lb, unsigned i, uint32_t len)
{
	lb->back[i].packets++;
	lb->back[i].bytes += len;
}

/* Which back address (slot k of f->back) a is, -1 for none. */
static inline int lb_back_slot(const struct lb_family *f, const uint8_t *a, unsigned alen)
{
	return lb_addrs_find(&f->back, a, alen);
}

#endif
