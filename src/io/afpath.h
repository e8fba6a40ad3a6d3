/* afpath: the AF_PACKET data path (io.af_packet). Receives from each
 * listed interface's ring and sends each rewritten packet straight out of
 * the interface its next hop is on, or through the TUN when it cannot
 * (unresolved neighbour, local or other route). */
#ifndef MSLB_AFPATH_H
#define MSLB_AFPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "io.h"
#include "neigh.h"
#include "config/config.h"
#include "net/drop.h"

struct afpath;

/* Open every io.af_packet interface and the next-hop cache; NULL with err
 * on failure. Nothing is received until a filter is applied. */
struct afpath *afpath_open(const struct mslb_config *cfg, int tun_ifindex, char *err, size_t errlen);
void afpath_close(struct afpath *ap);		/* NULL is fine */
/* Build cfg's receive filter without attaching it: can it be done? */
int afpath_check_filter(struct afpath *ap, const struct mslb_config *cfg, char *err, size_t errlen);
int afpath_apply_filter(struct afpath *ap, const struct mslb_config *cfg, char *err, size_t errlen);
/* Forget resolved next hops (the config changed). */
void afpath_flush(struct afpath *ap);
/* Receive a batch from interface k's ring, as io_recv. */
int afpath_recv(struct afpath *ap, unsigned k, struct io_batch *batch);
/* The batch from interface k is sent: its ring may have it back. */
void afpath_recv_done(struct afpath *ap, unsigned k);
/* Choose the way out for the processed packet p: an interface (its bit
 * set in *ports, TTL decremented, p->out set) or the TUN. A drop
 * (ttl_exceeded) empties p and is returned for the caller to count. */
enum mslb_drop afpath_route(struct afpath *ap, struct io_backend *tun, struct io_pkt *p, unsigned *ports);
/* Send the batch through each interface in ports, the rest by the TUN. */
void afpath_send(struct afpath *ap, unsigned ports, struct io_batch *batch, struct io_backend *tun);
/* Once a second: refresh some next hops, fold kernel drop counters. */
void afpath_tick(struct afpath *ap);

/* All of these take NULL (no io.af_packet) too. */
unsigned afpath_count(const struct afpath *ap);
int afpath_fd(const struct afpath *ap, unsigned k);
const struct io_backend *const *afpath_backends(const struct afpath *ap);
bool afpath_stats(struct afpath *ap, struct neigh_stats *out);

bool afpath_same_interfaces(const struct mslb_config *a, const struct mslb_config *b);
void afpath_interface_names(const struct mslb_config *c, char *buf, size_t len);

#endif
