/* rx: the receive loops, where the I/O backends meet the data path. */
#ifndef MSLB_RX_H
#define MSLB_RX_H

#include "io/afpath.h"
#include "io/emitq.h"
#include "io/io.h"
#include "lb/lb.h"

/* The data path's clock: monotonic seconds. */
double rx_now(void);
/* Read, process and write the TUN's packets until it is drained or a
 * bound is reached; what the data path emits for a packet goes out right
 * after that packet, so the order they came in is kept. Returns -1 on a
 * fatal device error. */
int rx_tun(struct mslb_lb *lb, struct io_backend *tun, struct io_batch *batch, struct emitq *emitq);
/* The same for the k-th io.af_packet interface's ring; packets the
 * interfaces cannot take leave by the TUN. */
int rx_afp(struct mslb_lb *lb, struct afpath *ap, unsigned k, struct io_backend *tun, struct io_batch *batch,
	   struct emitq *emitq);

#endif
