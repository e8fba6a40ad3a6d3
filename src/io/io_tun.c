/* io_tun: a TUN device in IFF_TUN | IFF_NO_PI mode: one read() is one IP
 * packet. Reads drain the queue up to a batch. With io_uring the reads of a
 * batch go in one system call and its writes in another; without it, one
 * call per packet, which for small packets is most of the TUN's cost.
 * With offloads (IFF_VNET_HDR) each packet carries a virtio_net_hdr, and a
 * read may return a GSO super-packet of up to 64 KiB: the data path then
 * rewrites once what the kernel segments later. */
#include "io.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

/* Newer than Debian 12's headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* With IO_TUN_URING: reads and writes of a batch go in one io_uring_enter
 * each. Every request is RWF_NOWAIT on a TUN, which never waits: each one
 * completes within the submission, in order, and a read that finds the
 * queue empty says EAGAIN rather than waiting for a packet. */
struct tun_ring {
	struct io_uring ring;
	unsigned post;			/* reads to post next: what came last, doubled */
	struct virtio_net_hdr hdr[IO_BATCH];
	struct iovec iov[IO_BATCH][2];
	int res[IO_BATCH];
};

struct io_tun {
	struct io_backend be;
	int ifindex;
	bool vnet;
	struct tun_ring *u;		/* NULL: read() and write() per packet */
	int uring_errno;		/* why not io_uring, when asked for */
};

static const struct io_ops tun_ops;

static const char *tun_batching(const struct io_backend *be, char *why, unsigned whylen)
{
	const struct io_tun *t = (const struct io_tun *)be;

	if (why && whylen)
		snprintf(why, whylen, "%s", t->uring_errno ? strerror(t->uring_errno) : "");
	return t->u ? "io_uring" : "syscalls";
}

static void hdr_to_off(const struct virtio_net_hdr *h, struct io_offload *o)
{
	o->flags = h->flags;
	o->gso_type = h->gso_type;
	o->hdr_len = le16toh(h->hdr_len);
	o->gso_size = le16toh(h->gso_size);
	o->csum_start = le16toh(h->csum_start);
	o->csum_offset = le16toh(h->csum_offset);
}

static void off_to_hdr(const struct io_offload *o, struct virtio_net_hdr *h)
{
	h->flags = o->flags;
	h->gso_type = o->gso_type;
	h->hdr_len = htole16(o->hdr_len);
	h->gso_size = htole16(o->gso_size);
	h->csum_start = htole16(o->csum_start);
	h->csum_offset = htole16(o->csum_offset);
}

static int tun_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;

	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		struct io_pkt *p = &b->pkt[b->n];
		struct virtio_net_hdr h;
		struct iovec iov[2] = {
			{ .iov_base = &h, .iov_len = sizeof(h) },
			{ .iov_base = p->data, .iov_len = IO_BUF_SIZE },
		};
		ssize_t r = t->vnet ? readv(be->fd, iov, 2) : read(be->fd, p->data, IO_BUF_SIZE);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			be->stats.rx_errors++;
			return b->n ? (int)b->n : -1;
		}
		if (t->vnet) {
			if (r < (ssize_t)sizeof(h)) {
				be->stats.rx_errors++;
				continue;
			}
			r -= (ssize_t)sizeof(h);
			hdr_to_off(&h, &p->off);
			p->csum_valid = h.flags & VIRTIO_NET_HDR_F_DATA_VALID;
		}
		p->len = (uint32_t)r;
		be->stats.rx_packets++;
		be->stats.rx_bytes += (uint64_t)r;
		b->n++;
	}
	return (int)b->n;
}

/* Count a packet written whole (1), or a failed write (0). */
static int count_tx(struct io_backend *be, const struct io_pkt *p, bool whole)
{
	if (!whole) {
		be->stats.tx_errors++;
		return 0;
	}
	be->stats.tx_packets++;
	be->stats.tx_bytes += p->len;
	return 1;
}

static int tun_send(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;
	int sent = 0;

	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];
		struct virtio_net_hdr h;
		struct iovec iov[2] = {
			{ .iov_base = &h, .iov_len = sizeof(h) },
			{ .iov_base = p->data, .iov_len = p->len },
		};
		size_t want = p->len + (t->vnet ? sizeof(h) : 0);
		ssize_t r;

		if (!p->len)
			continue;
		if (t->vnet)
			off_to_hdr(&p->off, &h);
		do
			r = t->vnet ? writev(be->fd, iov, 2) : write(be->fd, p->data, p->len);
		while (r < 0 && errno == EINTR);
		sent += count_tx(be, p, r == (ssize_t)want);
	}
	return sent;
}

/* Does the device take RWF_NOWAIT reads through the ring (a kernel whose
 * TUN lacks FMODE_NOWAIT refuses them, every one)? The new device is down
 * and empty: the answer is EAGAIN. 0 if so, else -errno. */
static int ring_probe(struct io_uring *ring, int fd)
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

/* The ring is gone for good (an error no retry mends): back to read()
 * and write(), and say why in batching(). Requests still queued in the
 * ring are dropped with it, never run later against reused buffers. */
static void ring_give_up(struct io_tun *t, int err)
{
	io_uring_queue_exit(&t->u->ring);
	free(t->u);
	t->u = NULL;
	t->uring_errno = err;
	t->be.ops = &tun_ops;
}

/* Queue a read or write (RWF_NOWAIT: done or refused now, never handed
 * to a kernel worker) for each packet first..first+n-1, submit them in
 * one call and collect every result in res[]. Returns how many were
 * queued; if the ring had to be given up, -1 when none of them went to
 * the kernel, -2 when they did but their results are lost. */
static int ring_rw(struct io_tun *t, struct io_batch *b, unsigned first, unsigned n, bool write)
{
	struct tun_ring *u = t->u;
	unsigned queued = 0, seen = 0;
	int r;

	for (unsigned i = first; i < first + n; i++) {
		struct io_pkt *p = &b->pkt[i];
		struct iovec *iov = u->iov[i];
		struct io_uring_sqe *sqe;

		u->res[i] = 0;
		if (write && !p->len)
			continue;
		sqe = io_uring_get_sqe(&u->ring);	/* the ring holds a batch: never NULL */
		if (!sqe)
			break;
		iov[0] = (struct iovec){ .iov_base = &u->hdr[i], .iov_len = sizeof(u->hdr[i]) };
		iov[1] = (struct iovec){ .iov_base = p->data, .iov_len = write ? p->len : IO_BUF_SIZE };
		if (write && t->vnet)
			off_to_hdr(&p->off, &u->hdr[i]);
		if (write)
			io_uring_prep_writev2(sqe, t->be.fd, t->vnet ? iov : iov + 1, t->vnet ? 2 : 1, (uint64_t)-1,
					      RWF_NOWAIT);
		else
			io_uring_prep_readv2(sqe, t->be.fd, t->vnet ? iov : iov + 1, t->vnet ? 2 : 1, (uint64_t)-1,
					     RWF_NOWAIT);
		io_uring_sqe_set_data64(sqe, i);
		queued++;
	}
	if (!queued)
		return 0;
	do
		r = io_uring_submit_and_wait(&u->ring, queued);
	while (r == -EINTR && io_uring_sq_ready(&u->ring));
	if (r < 0 && r != -EINTR) {
		ring_give_up(t, -r);
		return -1;
	}
	/* Submitted: a failure from here on loses the results, and only a
	 * resend could tell, which might send a packet twice. */
	while (seen < queued) {
		struct io_uring_cqe *cqe;

		r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			ring_give_up(t, -r);
			return -2;
		}
		if (cqe->user_data < IO_BATCH)
			u->res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		seen++;
	}
	return (int)queued;
}

static int ring_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;

	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		unsigned first = b->n, room = IO_BATCH - first, got = 0;
		unsigned n = t->u->post < room ? t->u->post : room;
		struct tun_ring *u = t->u;	/* before ring_rw: it may free the ring */
		int q = ring_rw(t, b, first, n, false);

		if (q == -1 && !b->n)
			return tun_recv(be, b);
		if (q < 0) {
			be->stats.rx_errors++;
			return (int)b->n;
		}
		for (unsigned i = first; i < first + n; i++) {
			struct io_pkt *p = &b->pkt[b->n];
			int r = u->res[i];

			if (r < 0) {
				if (r != -EAGAIN && r != -EINTR)
					be->stats.rx_errors++;
				continue;
			}
			if (t->vnet && r < (int)sizeof(u->hdr[i])) {
				be->stats.rx_errors++;
				continue;
			}
			/* A read that found the queue empty, then one that
			 * found a packet arrived meanwhile: close the gap. */
			if (i != b->n) {
				memcpy(p->data, b->pkt[i].data, (size_t)r - (t->vnet ? sizeof(u->hdr[i]) : 0));
				u->hdr[b->n] = u->hdr[i];
			}
			if (t->vnet) {
				r -= (int)sizeof(u->hdr[i]);
				hdr_to_off(&u->hdr[b->n], &p->off);
				p->csum_valid = u->hdr[b->n].flags & VIRTIO_NET_HDR_F_DATA_VALID;
			}
			p->len = (uint32_t)r;
			be->stats.rx_packets++;
			be->stats.rx_bytes += (uint64_t)r;
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

static int ring_send(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;
	int q = ring_rw(t, b, 0, b->n, true), sent = 0;

	if (q == -1)
		return tun_send(be, b);
	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];

		if (p->len)
			sent += count_tx(be, p, q >= 0 && t->u->res[i] == (int)(p->len + (t->vnet ? sizeof(struct virtio_net_hdr) : 0)));
	}
	return sent;
}

static void tun_close(struct io_backend *be)
{
	struct io_tun *t = (struct io_tun *)be;

	if (t->u) {
		io_uring_queue_exit(&t->u->ring);
		free(t->u);
	}
	if (be->fd >= 0)
		close(be->fd);
	free(t);
}

static const struct io_ops tun_ops = {
	.recv_batch = tun_recv,
	.send_batch = tun_send,
	.batching = tun_batching,
	.close = tun_close,
};

static const struct io_ops ring_ops = {
	.recv_batch = ring_recv,
	.send_batch = ring_send,
	.batching = tun_batching,
	.close = tun_close,
};

/* Ask for as much as the kernel has: USO came in Linux 6.2. */
static unsigned set_offloads(int fd)
{
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0)
		return IO_CAP_CSUM | IO_CAP_TSO | IO_CAP_USO;
	if (ioctl(fd, TUNSETOFFLOAD, base) == 0)
		return IO_CAP_CSUM | IO_CAP_TSO;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
		return IO_CAP_CSUM;
	return 0;
}

struct io_backend *io_tun_open(const char *name, unsigned flags, char *err, unsigned errlen)
{
	bool offload = flags & IO_TUN_OFFLOAD;
	struct io_tun *t = calloc(1, sizeof(*t));
	struct ifreq ifr = { 0 };
	int fd, hdrsz = sizeof(struct virtio_net_hdr);

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Never attach to a device someone else made (a persistent TUN would
	 * outlive us, and its routes with it). */
	if (if_nametoindex(name)) {
		snprintf(err, errlen, "device %s exists already (allowed: a tun.name no other device has)", name);
		free(t);
		return NULL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open /dev/net/tun: %s", strerror(errno));
		free(t);
		return NULL;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0) | (flags & IO_TUN_NAPI ? IFF_NAPI : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "create TUN device %s: %s", name, strerror(errno));
		close(fd);
		free(t);
		return NULL;
	}
	if (offload) {
		if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
			snprintf(err, errlen, "TUN device %s: virtio header: %s", name, strerror(errno));
			close(fd);
			free(t);
			return NULL;
		}
		t->vnet = true;
		t->be.offloads = set_offloads(fd);
	}
	t->be.ops = &tun_ops;
	/* A kernel or a sandbox without io_uring (kernel.io_uring_disabled, a
	 * seccomp filter) is no reason to stop: read() and write() do the
	 * same, slower, and batching() says why. */
	if (flags & IO_TUN_URING) {
		int e = -ENOMEM;

		t->u = calloc(1, sizeof(*t->u));
		if (t->u && (e = io_uring_queue_init(IO_BATCH, &t->u->ring, 0)) == 0 &&
		    (e = ring_probe(&t->u->ring, fd)) != 0)
			io_uring_queue_exit(&t->u->ring);
		if (e) {
			free(t->u);
			t->u = NULL;
			t->uring_errno = -e;
		} else {
			t->u->post = IO_BATCH / 16;
			t->be.ops = &ring_ops;
		}
	}
	t->be.kind = "tun";
	t->be.fd = fd;
	snprintf(t->be.name, sizeof(t->be.name), "%s", ifr.ifr_name);
	t->ifindex = (int)if_nametoindex(ifr.ifr_name);
	return &t->be;
}

int io_tun_ifindex(const struct io_backend *be)
{
	return ((const struct io_tun *)be)->ifindex;
}
