/* io_tun: a TUN device in IFF_TUN | IFF_NO_PI mode: one read() is one IP
 * packet. Reads drain the queue up to a batch. By default the reads of a
 * batch go in one system call and its writes in another (tun_ring.c,
 * io_uring); where the kernel refuses that, one call per packet, as here.
 * With offloads (IFF_VNET_HDR) each packet carries a virtio_net_hdr, and a
 * read may return a GSO super-packet of up to 64 KiB: the data path then
 * rewrites once what the kernel segments later. */
#include "io.h"

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

#include "tun_ring.h"
#include "tun_vnet.h"

/* Newer than Debian 12's headers (Linux 6.2, 6.17). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef TUN_F_UDP_TUNNEL_GSO
#define TUN_F_UDP_TUNNEL_GSO 0x80
#define TUN_F_UDP_TUNNEL_GSO_CSUM 0x100
#endif

struct io_tun {
	struct io_backend be;
	int ifindex;
	unsigned hlen;			/* virtio header: 0 (none), TUN_VNET_PLAIN or _TNL */
	struct tun_tap tap;		/* fd -1: no side door */
	int tap_ifindex;
	struct tun_ring *ring;		/* NULL: read() and write() per packet */
	int uring_errno;		/* why not io_uring, when asked for */
};

static const struct io_ops tun_ops;

static const char *tun_batching(const struct io_backend *be, char *why, unsigned whylen)
{
	const struct io_tun *t = (const struct io_tun *)be;

	if (why && whylen)
		snprintf(why, whylen, "%s", t->uring_errno ? strerror(t->uring_errno) : "");
	return t->ring ? "io_uring" : "syscalls";
}

static int tun_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;

	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		struct io_pkt *p = &b->pkt[b->n];
		struct tun_vnet h;
		struct iovec iov[2] = {
			{ .iov_base = &h, .iov_len = t->hlen },
			{ .iov_base = p->data, .iov_len = IO_BUF_SIZE },
		};
		ssize_t r = t->hlen ? readv(be->fd, iov, 2) : read(be->fd, p->data, IO_BUF_SIZE);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			be->stats.rx_errors++;
			return b->n ? (int)b->n : -1;
		}
		if (r < (ssize_t)t->hlen) {
			be->stats.rx_errors++;
			continue;
		}
		r -= (ssize_t)t->hlen;
		tun_take_rx(&be->stats, p, &h, t->hlen, (uint32_t)r);
		b->n++;
	}
	return (int)b->n;
}

static int tun_send(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;
	int sent = 0;

	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];
		bool tap = tun_by_tap(&t->tap, p);
		struct tun_vnet h;
		struct iovec iov[3] = {
			{ .iov_base = &h, .iov_len = t->hlen },
			{ .iov_base = tap ? (void *)tun_tap_eth(&t->tap, p) : NULL, .iov_len = tap ? TUN_TAP_ETH : 0 },
			{ .iov_base = p->data, .iov_len = p->len },
		};
		size_t want = t->hlen + iov[1].iov_len + p->len;
		unsigned k = t->hlen ? 0 : 1;
		ssize_t r;

		if (!p->len)
			continue;
		if (t->hlen)
			tun_off_to_vnet(&p->off, (unsigned)iov[1].iov_len, &h);
		do
			r = writev(tap ? t->tap.fd : be->fd, iov + k, 3 - (int)k);
		while (r < 0 && errno == EINTR);
		sent += tun_count_tx(&be->stats, p, r == (ssize_t)want);
	}
	return sent;
}

/* The ring broke for good (an error no retry mends): back to read() and
 * write(), and batching() says why. */
static void ring_give_up(struct io_tun *t, int err)
{
	tun_ring_close(t->ring);
	t->ring = NULL;
	t->uring_errno = err;
	t->be.ops = &tun_ops;
}

static int ring_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;
	int err, n = tun_ring_recv(t->ring, b, &be->stats, &err);

	if (n >= 0)
		return n;
	ring_give_up(t, err);
	if (n == TUN_RING_UNSENT && !b->n)
		return tun_recv(be, b);
	be->stats.rx_errors++;
	return (int)b->n;
}

static int ring_send(struct io_backend *be, struct io_batch *b)
{
	struct io_tun *t = (struct io_tun *)be;
	int err, sent = tun_ring_send(t->ring, b, &be->stats, &err);

	if (sent >= 0)
		return sent;
	ring_give_up(t, err);
	/* Only a batch the kernel never saw is written again. */
	return sent == TUN_RING_UNSENT ? tun_send(be, b) : 0;
}

static void tun_close(struct io_backend *be)
{
	struct io_tun *t = (struct io_tun *)be;

	tun_ring_close(t->ring);
	if (t->tap.fd >= 0)
		close(t->tap.fd);
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

/* UDP-tunnel super-packets (Linux 6.17) in the long virtio header, on a
 * device with every other offload: true if the kernel took both. */
static bool set_tunnel_offloads(int fd)
{
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
	int hlen = TUN_VNET_TNL, plain = TUN_VNET_PLAIN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hlen) < 0)
		return false;
	if (ioctl(fd, TUNSETOFFLOAD, all | TUN_F_UDP_TUNNEL_GSO | TUN_F_UDP_TUNNEL_GSO_CSUM) == 0)
		return true;
	ioctl(fd, TUNSETVNETHDRSZ, &plain);
	ioctl(fd, TUNSETOFFLOAD, all);
	return false;
}

/* A new device of that name and kind (IFF_TUN, IFF_TAP), non-blocking;
 * -1 with err written. */
static int make_dev(const char *name, short kind, short flags, char *err, unsigned errlen)
{
	struct ifreq ifr = { 0 };
	int fd;

	/* Never attach to a device someone else made (a persistent TUN would
	 * outlive us, and its routes with it). */
	if (if_nametoindex(name)) {
		snprintf(err, errlen, "device %s exists already (allowed: a tun.name no other device has)", name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = (short)(kind | IFF_NO_PI | flags);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "create %s device %s: %s", kind == IFF_TAP ? "TAP" : "TUN", name,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The side door (tun_vnet.h): a TAP named after the TUN, with the same
 * offloads; written only. Where the name does not fit, the kernel lacks
 * the offload or anything else fails, there is none, and the data path
 * sends no UDP-tunnel super-packet. */
static void open_tap(struct io_tun *t, const char *tun)
{
	char name[IFNAMSIZ], err[128];
	struct ifreq ifr = { 0 };
	int fd;

	if (snprintf(name, sizeof(name), "%s%s", tun, IO_TUN_TAP_SUFFIX) >= (int)sizeof(name))
		return;
	fd = make_dev(name, IFF_TAP, IFF_VNET_HDR, err, sizeof(err));
	if (fd < 0)
		return;
	if (!set_tunnel_offloads(fd) || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		close(fd);
		return;
	}
	for (int f = 0; f < 2; f++) {
		memcpy(t->tap.eth[f], ifr.ifr_hwaddr.sa_data, 6);
		memcpy(t->tap.eth[f] + 6, ifr.ifr_hwaddr.sa_data, 6);
		t->tap.eth[f][12] = f ? 0x86 : 0x08;
		t->tap.eth[f][13] = f ? 0xdd : 0x00;
	}
	t->tap.fd = fd;
	t->tap_ifindex = (int)if_nametoindex(name);
}

struct io_backend *io_tun_open(const char *name, unsigned flags, char *err, unsigned errlen)
{
	bool offload = flags & IO_TUN_OFFLOAD;
	struct io_tun *t = calloc(1, sizeof(*t));
	int fd, hdrsz = TUN_VNET_PLAIN;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->tap.fd = -1;
	fd = make_dev(name, IFF_TUN, (short)((offload ? IFF_VNET_HDR : 0) | (flags & IO_TUN_NAPI ? IFF_NAPI : 0)),
		      err, errlen);
	if (fd < 0) {
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
		t->hlen = TUN_VNET_PLAIN;
		t->be.offloads = set_offloads(fd);
		if ((flags & IO_TUN_UDP_TUNNEL) && t->be.offloads == (IO_CAP_CSUM | IO_CAP_TSO | IO_CAP_USO) &&
		    set_tunnel_offloads(fd)) {
			t->hlen = TUN_VNET_TNL;
			t->be.offloads |= IO_CAP_TNL_RX;
			open_tap(t, name);
			if (t->tap.fd >= 0)
				t->be.offloads |= IO_CAP_TNL_TX;
		}
	}
	t->be.ops = &tun_ops;
	/* A kernel or a sandbox without io_uring (kernel.io_uring_disabled, a
	 * seccomp filter) is no reason to stop: read() and write() do the
	 * same, slower, and batching() says why. */
	if (flags & IO_TUN_URING) {
		t->ring = tun_ring_open(fd, t->hlen, &t->tap, &t->uring_errno);
		if (t->ring)
			t->be.ops = &ring_ops;
	}
	t->be.kind = "tun";
	t->be.fd = fd;
	snprintf(t->be.name, sizeof(t->be.name), "%s", name);
	t->ifindex = (int)if_nametoindex(name);
	return &t->be;
}

int io_tun_ifindex(const struct io_backend *be)
{
	return ((const struct io_tun *)be)->ifindex;
}

int io_tun_tap_ifindex(const struct io_backend *be)
{
	const struct io_tun *t = (const struct io_tun *)be;

	return t->tap.fd >= 0 ? t->tap_ifindex : 0;
}
