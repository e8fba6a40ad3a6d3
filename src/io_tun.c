/* io_tun: a TUN device in IFF_TUN | IFF_NO_PI mode: one read() is one IP
 * packet. Reads drain the queue up to a batch; writes go packet by packet
 * (TUN has no batched write without offloads). */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct io_tun {
	struct io_backend be;
	int ifindex;
};

static int tun_recv(struct io_backend *be, struct io_batch *b)
{
	io_batch_reset(b);
	while (b->n < IO_BATCH) {
		struct io_pkt *p = &b->pkt[b->n];
		ssize_t r = read(be->fd, p->data, IO_BUF_SIZE);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			be->stats.rx_errors++;
			return b->n ? (int)b->n : -1;
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
	int sent = 0;

	for (unsigned i = 0; i < b->n; i++) {
		struct io_pkt *p = &b->pkt[i];
		ssize_t r;

		if (!p->len)
			continue;
		do
			r = write(be->fd, p->data, p->len);
		while (r < 0 && errno == EINTR);
		if (r != (ssize_t)p->len) {
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

struct io_backend *io_tun_open(const char *name, char *err, unsigned errlen)
{
	struct io_tun *t = calloc(1, sizeof(*t));
	struct ifreq ifr = { 0 };
	int fd;

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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "create TUN device %s: %s", name, strerror(errno));
		close(fd);
		free(t);
		return NULL;
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
