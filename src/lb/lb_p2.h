/* lb_p2: MPTCP Proposal 2 at the front (see lb_p2.c). Private to the lb
 * files. */
#ifndef MSLB_LB_P2_H
#define MSLB_LB_P2_H

#include "lb_role.h"

/* An MPTCP key's token: the first 32 bits of its SHA-256 (RFC 8684 3.2). */
uint32_t lb_p2_token(const uint8_t key[8]);
/* Build the token buckets of both families and draw the key secret. */
int lb_p2_build(struct mslb_lb *lb);
/* The next hop of TCP segment v to a Proposal 2 service port (k: its flow
 * key). A SYN may get the Proposal 2 option (p, v then describe the grown
 * packet) or lose MP_CAPABLE when there is no room for it. */
enum mslb_drop lb_p2_route(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct flow_key *k,
			   unsigned *nh);

struct p2opt;
/* At a back: take the front's option out of SYN v (p, v then describe the
 * smaller packet, which the server gets). 1 taken, 0 none, -1 malformed. */
int lb_p2_back_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct p2opt *o);
/* After the back's rewrite (v to IP_S): when o names another next hop as
 * the alternate, this back owns the subflow there (rdr_own). */
void lb_p2_back_own(struct mslb_lb *lb, const struct pkt_view *v, const struct p2opt *o);

void lb_p2_back_tick(struct mslb_lb *lb, double now);
/* The back's subflow state (back.proposal2), cap subflows. */
struct lb_p2back *lb_p2back_create(unsigned cap);
void lb_p2back_destroy(struct lb_p2back *b);
/* A segment from a client to a service port (v to IP_S, o the front's
 * option its SYN carried, or NULL): state made on a SYN, TSecr restored. */
void lb_p2_back_in(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct p2opt *o);
/* Is v a server's segment from a Proposal 2 service port? */
bool lb_p2_back_is_out(const struct mslb_lb *lb, const struct pkt_view *v);
/* Such a segment: the front's key in its SYN/ACK, the bucket in TSval. */
void lb_p2_back_out(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v);

#endif
