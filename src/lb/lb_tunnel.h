/* lb_tunnel: encapsulation mode of the data path (draft-matsuhira-mslb-17
 * sections 5.2 and 6). Private to the lb files. */
#ifndef MSLB_LB_TUNNEL_H
#define MSLB_LB_TUNNEL_H

#include "lb_state.h"
#include "net/pkt.h"
#include "net/pktbuf.h"

struct lpm;

#define MIN_MTU_V6 1280		/* RFC 8200: no IPv6 link is smaller */

/* own_ttl: the packet came by io.af_packet, not through the kernel, and
 * its TTL is this node's to decrement. */
enum mslb_drop lb_encap_front(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned nh, bool own_ttl);
/* A tunnel packet v to one of the back addresses. */
enum mslb_drop lb_back_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v);
/* Take the outer header off v, a tunnel packet to one of our addresses,
 * if its source is in allowed: p then holds the inner packet, parsed into
 * in (p->len 0: a fragment kept for reassembly). A reassembled packet
 * must be IP in IP, or GUE to back.gue_port. */
enum mslb_drop lb_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct lpm *allowed,
			struct pkt_view *in);
enum mslb_drop lb_endpoint_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v);
/* A packet of a flow peer e->peer owns, to its back address. */
enum mslb_drop lb_redirect_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct rdr_entry *e);
/* v to a peer's back address dst (outer version ov), counted as redirected
 * tunnel traffic. */
enum mslb_drop lb_peer_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned peer, unsigned ov,
			     const uint8_t *dst);
/* v is too big for mtu: ICMP too big to its source (from its destination),
 * counted in c. Always a drop reason. */
enum mslb_drop lb_too_big(struct mslb_lb *lb, struct lb_tcount *c, const struct pkt_view *v, unsigned mtu);
enum mslb_drop lb_return_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v);
/* An ICMP error (e, parsed from v): true if it was about one of our own
 * tunnel packets, a next hop's or the return tunnel's (handled: the path
 * MTU learned, the error relayed to the inner packet's source). */
bool lb_icmp_outer(struct mslb_lb *lb, const struct pkt_view *v, const struct icmp_error *e);
/* The same for any packet v: false unless it is such an ICMP error. */
bool lb_icmp_about_tunnel(struct mslb_lb *lb, const struct pkt_view *v);
/* Path MTU of t now, and where it came from. */
unsigned lb_tunnel_mtu(const struct mslb_lb *lb, const struct lb_tunnel *t, enum lb_mtu_source *src);

#endif
