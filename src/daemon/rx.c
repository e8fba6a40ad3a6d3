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

/* Packets leave in the order they came: what packet i makes (fragments,
 * segments, errors, the rest of a GUE super-packet) goes out after the
 * packets before it and after what is left of i itself, so a flow that
 * mixes super-packets and small packets is not reordered. */
struct rx_out {
	struct io_batch *batch;
	struct io_backend *tun;
	struct afpath *ap;		/* NULL: the TUN path */
	unsigned ports;			/* AF_PACKET interfaces with packets to send */
	unsigned sent;			/* batch packets [0, sent) are out */
	unsigned cur;			/* the packet being processed */
};

/* Send the batch's packets [sent, upto). */
static void send_upto(struct rx_out *o, unsigned upto)
{
	struct io_batch *b = o->batch;
	unsigned n = b->n;

	if (upto <= o->sent)
		return;
	b->n = upto;
	if (o->ap)
		afpath_send(o->ap, o->ports, b, o->tun);
	else
		io_send(o->tun, b);
	for (unsigned i = o->sent; i < upto; i++)
		b->pkt[i].len = 0;
	b->n = n;
	o->sent = upto;
}

/* The queue fills while packet cur is processed: the packets before it
 * go first (cur itself is not finished). */
static void before_emit(void *ctx)
{
	struct rx_out *o = ctx;

	send_upto(o, o->cur);
}

/* Packet cur is processed: when it made packets, it and those before it
 * go out, then what it made. */
static void after_pkt(struct rx_out *o, struct emitq *emitq)
{
	if (!emitq_empty(emitq)) {
		send_upto(o, o->cur + 1);
		emitq_flush(emitq);
	}
}

int rx_tun(struct mslb_lb *lb, struct io_backend *tun, struct io_batch *batch, struct emitq *emitq)
{
	struct rx_out o = { .batch = batch, .tun = tun };
	int r = 0;

	emitq_set_before(emitq, before_emit, &o);
	for (unsigned k = 0; k < RX_BATCHES_PER_WAKE; k++) {
		int n = io_recv(tun, batch);

		if (n < 0) {
			r = -1;
			break;
		}
		if (n == 0)
			break;
		lb_set_time(lb, rx_now());
		o.sent = 0;
		for (unsigned i = 0; i < batch->n; i++) {
			struct io_pkt *p = &batch->pkt[i];

			o.cur = i;
			if (lb_process_pkt(lb, p) != MSLB_OK)
				p->len = 0;
			after_pkt(&o, emitq);
		}
		send_upto(&o, batch->n);
		if (n < IO_BATCH)
			break;
	}
	emitq_set_before(emitq, NULL, NULL);
	return r;
}

int rx_afp(struct mslb_lb *lb, struct afpath *ap, unsigned k, struct io_backend *tun, struct io_batch *batch,
	   struct emitq *emitq)
{
	struct rx_out o = { .batch = batch, .tun = tun, .ap = ap };
	int r = 0;

	lb_set_time(lb, rx_now());
	emitq_set_before(emitq, before_emit, &o);
	for (unsigned round = 0; round < RX_BATCHES_PER_WAKE; round++) {
		int n = afpath_recv(ap, k, batch);

		if (n < 0) {
			r = -1;
			break;
		}
		if (n == 0)
			break;
		o.sent = 0;
		o.ports = 0;
		for (unsigned i = 0; i < batch->n; i++) {
			struct io_pkt *p = &batch->pkt[i];
			enum mslb_drop d;

			o.cur = i;
			if (lb_process_pkt(lb, p) != MSLB_OK || !p->len) {
				p->len = 0;
			} else {
				d = afpath_route(ap, tun, p, &o.ports);
				if (d != MSLB_OK)
					lb_count_drop(lb, d);
			}
			after_pkt(&o, emitq);
		}
		send_upto(&o, batch->n);
		if (n < IO_BATCH)
			break;
	}
	afpath_recv_done(ap, k);
	emitq_set_before(emitq, NULL, NULL);
	return r;
}
