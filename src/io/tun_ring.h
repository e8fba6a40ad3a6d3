/* tun_ring: a TUN device read and written by the batch through io_uring,
 * io_tun's fast way: a batch's reads in one io_uring_enter, its writes in
 * another. Private to io/. */
#ifndef MSLB_TUN_RING_H
#define MSLB_TUN_RING_H

#include <stdbool.h>

#include "io.h"

struct tun_ring;

struct tun_tap;

/* A ring for the non-blocking TUN descriptor fd (each packet behind a
 * virtio header of hlen bytes, 0 for none), whose UDP-tunnel
 * super-packets leave by tap (tun_vnet.h; kept by the caller). NULL,
 * with *err set to an errno, where the kernel refuses io_uring or the
 * device refuses non-blocking reads through it. */
struct tun_ring *tun_ring_open(int fd, unsigned hlen, const struct tun_tap *tap, int *err);
void tun_ring_close(struct tun_ring *u);

/* The ring broke (an error no retry mends; *err says which) and must be
 * closed: before the kernel saw the requests, or after, with their
 * results lost (a write may have gone out). */
#define TUN_RING_UNSENT (-1)
#define TUN_RING_LOST (-2)

/* As io_ops.recv_batch: the batch is reset and filled; returns b->n, or
 * TUN_RING_* with b->n packets read before the break. */
int tun_ring_recv(struct tun_ring *u, struct io_batch *b, struct io_stats *st, int *err);
/* As io_ops.send_batch: returns how many were sent, or TUN_RING_* (for
 * TUN_RING_LOST every packet is counted as a failed write). */
int tun_ring_send(struct tun_ring *u, struct io_batch *b, struct io_stats *st, int *err);

#endif
