/* tunfloor: the least a forwarder through a TUN can do, as bench.sh's
 * floor for mslbd's TUN rows. It makes a TUN device with the same virtio
 * header and offloads as mslbd (io_tun.c), and for each packet does one
 * read(), rewrites the destination address FROM to TO (what translation
 * does, with the same checksum updates) and does one write() back into the
 * same device. It reads as mslbd does, what is there up to a batch of 64
 * (poll, then reads until EAGAIN), then writes them: no event loop, no
 * parsing beyond the IP version, no tables. Whatever separates mslbd from
 * kernel forwarding and is also here is the cost of the TUN itself.
 *
 * usage: tunfloor DEVICE FROM TO   (both addresses of one family)
 * Runs until killed; prints the packets it forwarded on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/csum.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Offset of the transport checksum, or 0: TCP and UDP right after a
 * plain header (what the bench sends). */
static size_t l4_csum_off(const uint8_t *p, size_t len, int v6)
{
	size_t l4 = v6 ? 40 : (size_t)(p[0] & 0x0f) * 4;
	uint8_t proto = v6 ? p[6] : p[9];

	if (proto == IPPROTO_TCP && len >= l4 + 20)
		return l4 + 16;
	if (proto == IPPROTO_UDP && len >= l4 + 8)
		return l4 + 6;
	return 0;
}

#define BATCH 64

struct slot {
	struct virtio_net_hdr h;
	size_t len;
	uint8_t buf[65536 + 256];
};

static struct slot slots[BATCH];

/* Rewrite FROM to TO in one packet; false if it is not one to forward. */
static bool rewrite(struct slot *sl, const uint8_t *from, const uint8_t *to, int v6)
{
	size_t alen = v6 ? 16 : 4, daddr = v6 ? 24 : 16, l4;
	uint8_t *buf = sl->buf;

	if (sl->len < daddr + alen || (buf[0] >> 4) != (v6 ? 6 : 4) || memcmp(buf + daddr, from, alen))
		return false;
	l4 = l4_csum_off(buf, sl->len, v6);
	if (l4 && (sl->h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		csum_update_partial(buf + l4, from, to, alen);
	else if (l4 && (buf[l4] | buf[l4 + 1]))	/* an IPv4 UDP datagram without one keeps 0 */
		csum_update(buf + l4, from, to, alen);
	if (!v6)
		csum_update(buf + 10, from, to, alen);
	memcpy(buf + daddr, to, alen);
	return true;
}

int main(int argc, char **argv)
{
	struct ifreq ifr = { 0 };
	uint8_t from[16], to[16];
	int fd, v6, hdrsz = sizeof(struct virtio_net_hdr);
	unsigned long long n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: tunfloor DEVICE FROM TO\n");
		return 2;
	}
	v6 = strchr(argv[2], ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, argv[2], from) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, argv[3], to) != 1) {
		fprintf(stderr, "tunfloor: FROM and TO: addresses of one family\n");
		return 2;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror("tunfloor: /dev/net/tun");
		return 1;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0) {
		perror("tunfloor: TUN device");
		return 1;
	}
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
		  TUN_F_USO4 | TUN_F_USO6) < 0 &&
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0) {
		perror("tunfloor: offloads");
		return 1;
	}
	/* No SA_RESTART: a signal ends the poll. */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	printf("tunfloor: %s up\n", ifr.ifr_name);
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		unsigned got = 0;

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tunfloor: poll");
			return 1;
		}
		while (got < BATCH) {
			struct iovec iov[2] = { { &slots[got].h, sizeof(slots[got].h) },
						{ slots[got].buf, sizeof(slots[got].buf) } };
			ssize_t r = readv(fd, iov, 2);

			if (r < (ssize_t)sizeof(slots[got].h))
				break;	/* EAGAIN: all there was */
			slots[got].len = (size_t)r - sizeof(slots[got].h);
			if (rewrite(&slots[got], from, to, v6))
				got++;
		}
		for (unsigned i = 0; i < got; i++) {
			struct iovec iov[2] = { { &slots[i].h, sizeof(slots[i].h) }, { slots[i].buf, slots[i].len } };

			if (writev(fd, iov, 2) == (ssize_t)(sizeof(slots[i].h) + slots[i].len))
				n++;
		}
	}
	printf("tunfloor: %llu packets\n", n);
	return 0;
}
