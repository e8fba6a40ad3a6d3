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

/* An ICMP error about a server's segment to a service port (tcp: the
 * quoted TCP header, avail bytes of it): the next hop of the bucket in its
 * TSval, which is the server that sent it. False when the quote has no
 * timestamp or the bucket says "hash". */
bool lb_p2_icmp_next_hop(struct mslb_lb *lb, int version, const uint8_t *tcp, uint32_t avail, unsigned *nh);

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
 * option its SYN carried, or NULL): state made on a SYN, TSecr restored,
 * keys translated. True: hold it back (an early handshake ACK, counted),
 * the server must not see it. */
bool lb_p2_back_in(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct p2opt *o);
/* Is v a server's segment from a Proposal 2 service port? */
bool lb_p2_back_is_out(const struct mslb_lb *lb, const struct pkt_view *v);
/* Such a segment: the front's key in its SYN/ACK, the bucket in TSval. */
void lb_p2_back_out(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v);

/* n (<= LB_P2_PUT_MAX) bytes at field of TCP segment v become new, and its
 * checksum follows (lb_p2back.c). */
#define LB_P2_PUT_MAX 22
void lb_p2_put(struct io_pkt *p, struct pkt_view *v, uint8_t *field, const uint8_t *new, unsigned n);

/* Key translation (lb_p2keys.c): the connections' state in b. */
struct tcpopt;
int lb_p2k_init(struct lb_p2back *b, unsigned cap);
void lb_p2k_fini(struct lb_p2back *b);
/* Subflow fl (made by a SYN with the front's key) starts a connection. */
void lb_p2k_capable_syn(struct mslb_lb *lb, struct lb_p2flow *fl);
/* An MP_JOIN SYN (its option at opt): fl joins the connection of its
 * token, which becomes the server's. */
void lb_p2k_join_syn(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
		     uint8_t *opt);
/* Segments of subflow fl from the client (in) and the server (out). */
void lb_p2k_in(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
	       const struct tcpopt *t);
void lb_p2k_out(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
		const struct tcpopt *t, uint8_t flags);
/* fl no longer points at its connection, which goes with its last subflow. */
void lb_p2k_release(struct mslb_lb *lb, struct lb_p2flow *fl);

#endif
