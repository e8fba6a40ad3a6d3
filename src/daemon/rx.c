/* rx: batches in, lb_process_pkt, batches out. The clock is read once per
 * batch, not per packet. */
#include "rx.h"

#include <time.h>

/* Batches handled per wake-up before yielding to other watchers; the fd
 * stays readable, so the loop comes straight back. */
#define RX_BATCHES_PER_WAKE 64

double rx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int rx_tun(struct mslb_lb *lb, struct io_backend *tun, struct io_batch *batch, struct emitq *emitq)
{
	for (unsigned k = 0; k < RX_BATCHES_PER_WAKE; k++) {
		int n = io_recv(tun, batch);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		lb_set_time(lb, rx_now());
		for (unsigned i = 0; i < batch->n; i++) {
			struct io_pkt *p = &batch->pkt[i];

			if (lb_process_pkt(lb, p) != MSLB_OK)
				p->len = 0;
		}
		io_send(tun, batch);
		emitq_flush(emitq);
		if (n < IO_BATCH)
			break;
	}
	return 0;
}

int rx_afp(struct mslb_lb *lb, struct afpath *ap, unsigned k, struct io_backend *tun, struct io_batch *batch,
	   struct emitq *emitq)
{
	int r = 0;

	lb_set_time(lb, rx_now());
	for (unsigned round = 0; round < RX_BATCHES_PER_WAKE; round++) {
		int n = afpath_recv(ap, k, batch);
		unsigned ports = 0;

		if (n < 0) {
			r = -1;
			break;
		}
		if (n == 0)
			break;
		for (unsigned i = 0; i < batch->n; i++) {
			struct io_pkt *p = &batch->pkt[i];
			enum mslb_drop d;

			if (lb_process_pkt(lb, p) != MSLB_OK || !p->len) {
				p->len = 0;
				continue;
			}
			d = afpath_route(ap, tun, p, &ports);
			if (d != MSLB_OK)
				lb_count_drop(lb, d);
		}
		afpath_send(ap, ports, batch, tun);
		if (n < IO_BATCH)
			break;
	}
	emitq_flush(emitq);
	return r;
}
