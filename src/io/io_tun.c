/* io_tun: a TUN device in IFF_TUN | IFF_NO_PI mode: one read() is one IP
 * packet. Reads drain the queue up to a batch; writes go packet by packet.
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

/* Newer than Debian 12's headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

struct io_tun {
	struct io_backend be;
	int ifindex;
	bool vnet;
};

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
		if (r != (ssize_t)want) {
			be->stats.tx_errors++;
			continue;
		}
		be->stats.tx_packets++;
		be->stats.tx_bytes += p->len;
		sent++;
	}
	return sent;
}

static void tun_close(struct io_backend *be)
{
	struct io_tun *t = (struct io_tun *)be;

	if (be->fd >= 0)
		close(be->fd);
	free(t);
}

static const struct io_ops tun_ops = {
	.recv_batch = tun_recv,
	.send_batch = tun_send,
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

struct io_backend *io_tun_open(const char *name, bool offload, char *err, unsigned errlen)
{
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
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
