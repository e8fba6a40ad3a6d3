/* tun_ring: a TUN device read and written by the batch through io_uring.
 * Small packets through a TUN paid a system call each way, and the
 * profile showed syscall entry beside the kernel's own work. Here every
 * request is RWF_NOWAIT, and a TUN never waits: each completes inside the
 * submission, in order, and a read of an empty queue says EAGAIN instead
 * of waiting for a packet. No kernel worker ever runs one, and the event
 * loop watches the descriptor as before. */
#include "tun_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <liburing.h>

#include "tun_vnet.h"

struct tun_ring {
	struct io_uring ring;
	int fd;
	unsigned hlen;			/* virtio header: 0 (none), TUN_VNET_PLAIN or _TNL */
	const struct tun_tap *tap;
	unsigned post;			/* reads to post next: what came last, doubled */
	struct tun_vnet hdr[IO_BATCH];
	struct iovec iov[IO_BATCH][3];
	int res[IO_BATCH];
};

/* Does the device take RWF_NOWAIT reads through the ring (a kernel whose
 * TUN lacks FMODE_NOWAIT refuses them, every one)? The new device is down
 * and empty: the answer is EAGAIN. 0 if so, else -errno. */
static int probe(struct io_uring *ring, int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	uint8_t byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	int r;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv2(sqe, fd, &iov, 1, (uint64_t)-1, RWF_NOWAIT);
	do
		r = io_uring_submit_and_wait(ring, 1);
	while (r == -EINTR);
	if (r < 0)
		return r;
	r = io_uring_wait_cqe(ring, &cqe);
	if (r < 0)
		return r;
	r = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return r == -EAGAIN ? 0 : r < 0 ? r : -EIO;
}

struct tun_ring *tun_ring_open(int fd, unsigned hlen, const struct tun_tap *tap, int *err)
{
	struct tun_ring *u = calloc(1, sizeof(*u));
	int e;

	if (!u) {
		*err = ENOMEM;
		return NULL;
	}
	e = io_uring_queue_init(IO_BATCH, &u->ring, 0);
	if (e == 0 && (e = probe(&u->ring, fd)) != 0)
		io_uring_queue_exit(&u->ring);
	if (e) {
		free(u);
		*err = -e;
		return NULL;
	}
	u->fd = fd;
	u->hlen = hlen;
	u->tap = tap;
	u->post = IO_BATCH / 16;
	return u;
}

/* Requests still queued in the ring are dropped with it, never run later
 * against reused buffers. */
void tun_ring_close(struct tun_ring *u)
{
	if (u) {
		io_uring_queue_exit(&u->ring);
		free(u);
	}
}

/* Queue a read or a write for each packet first..first+n-1 (not the
 * empty ones of a write), submit them in one call and collect every
 * result in res[]. Returns how many were queued, or TUN_RING_*. */
static int rw(struct tun_ring *u, struct io_batch *b, unsigned first, unsigned n, bool write, int *err)
{
	unsigned queued = 0, seen = 0;
	int r;

	for (unsigned i = first; i < first + n; i++) {
		struct io_pkt *p = &b->pkt[i];
		struct iovec *iov = u->iov[i];
		struct io_uring_sqe *sqe;

		/* Not queued (an empty packet of a write, or no room in the
		 * ring): never taken for a packet read. */
		u->res[i] = -ECANCELED;
		if (write && !p->len)
			continue;
		sqe = io_uring_get_sqe(&u->ring);	/* the ring holds a batch: never NULL */
		if (!sqe)
			break;
		if (write && tun_by_tap(u->tap, p)) {
			/* Behind the same header, in the same submission: the
			 * batch's order holds across both devices. */
			tun_off_to_vnet(&p->off, TUN_TAP_ETH, &u->hdr[i]);
			iov[0] = (struct iovec){ .iov_base = &u->hdr[i], .iov_len = u->hlen };
			iov[1] = (struct iovec){ .iov_base = (void *)tun_tap_eth(u->tap, p), .iov_len = TUN_TAP_ETH };
			iov[2] = (struct iovec){ .iov_base = p->data, .iov_len = p->len };
			io_uring_prep_writev2(sqe, u->tap->fd, iov, 3, (uint64_t)-1, RWF_NOWAIT);
		} else {
			unsigned k = u->hlen ? 0 : 1;

			iov[0] = (struct iovec){ .iov_base = &u->hdr[i], .iov_len = u->hlen };
			iov[1] = (struct iovec){ .iov_base = p->data, .iov_len = write ? p->len : IO_BUF_SIZE };
			if (write && u->hlen)
				tun_off_to_vnet(&p->off, 0, &u->hdr[i]);
			if (write)
				io_uring_prep_writev2(sqe, u->fd, iov + k, 2 - k, (uint64_t)-1, RWF_NOWAIT);
			else
				io_uring_prep_readv2(sqe, u->fd, iov + k, 2 - k, (uint64_t)-1, RWF_NOWAIT);
		}
		io_uring_sqe_set_data64(sqe, i);
		queued++;
	}
	if (!queued)
		return 0;
	do
		r = io_uring_submit_and_wait(&u->ring, queued);
	while (r == -EINTR && io_uring_sq_ready(&u->ring));
	if (r < 0 && r != -EINTR) {
		*err = -r;
		return TUN_RING_UNSENT;
	}
	/* Submitted: a failure from here on loses the results, and only a
	 * resend could tell, which might send a packet twice. */
	while (seen < queued) {
		struct io_uring_cqe *cqe;

		r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			*err = -r;
			return TUN_RING_LOST;
		}
		if (cqe->user_data < IO_BATCH)
			u->res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		seen++;
	}
	return (int)queued;
}

int tun_ring_recv(struct tun_ring *u, struct io_batch *b, struct io_stats *st, int *err)
{
	const unsigned hlen = u->hlen;

	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		unsigned first = b->n, room = IO_BATCH - first, got = 0;
		unsigned n = u->post < room ? u->post : room;
		int q = rw(u, b, first, n, false, err);

		if (q < 0)
			return q;
		for (unsigned i = first; i < first + n; i++) {
			struct io_pkt *p = &b->pkt[b->n];
			int r = u->res[i];

			if (r < 0) {
				if (r != -EAGAIN && r != -EINTR)
					st->rx_errors++;
				continue;
			}
			if (r < (int)hlen) {
				st->rx_errors++;
				continue;
			}
			/* A read that found the queue empty, then one that
			 * found a packet arrived meanwhile: close the gap. */
			if (i != b->n) {
				memcpy(p->data, b->pkt[i].data, (size_t)r - hlen);
				u->hdr[b->n] = u->hdr[i];
			}
			tun_take_rx(st, p, &u->hdr[b->n], hlen, (uint32_t)r - hlen);
			b->n++;
			got++;
		}
		/* Post next time twice what came now: a burst grows the
		 * batch quickly, a trickle costs few empty reads. */
		u->post = got < IO_BATCH / 32 ? IO_BATCH / 16 : (got * 2 < IO_BATCH ? got * 2 : IO_BATCH);
		if (got < n)
			break;
	}
	return (int)b->n;
}

int tun_ring_send(struct tun_ring *u, struct io_batch *b, struct io_stats *st, int *err)
{
	int q = rw(u, b, 0, b->n, true, err), sent = 0;

	if (q == TUN_RING_UNSENT)
		return q;
	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];

		unsigned extra = u->hlen + (tun_by_tap(u->tap, p) ? TUN_TAP_ETH : 0);

		if (p->len)
			sent += tun_count_tx(st, p, q >= 0 && u->res[i] == (int)(p->len + extra));
	}
	return q < 0 ? q : sent;
}
