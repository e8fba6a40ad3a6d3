/* tunfloor: the least a forwarder through a TUN can do, as bench.sh's
 * floor for mslbd's TUN rows. It opens its TUN with mslbd's own I/O code
 * (io_tun: virtio header, offloads, a batch of what is there, up to 64),
 * and for each packet parses it and rewrites the destination address FROM
 * to TO with mslbd's own rewrite (xlate, its checksum updates), then
 * writes the batch back into the same device. No event loop, no tables, no
 * choice of next hop. Whatever separates mslbd from kernel forwarding and
 * is also here is the cost of the TUN itself.
 *
 * usage: tunfloor DEVICE FROM TO   (both addresses of one family)
 * Runs until killed; prints the packets it forwarded on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/io.h"
#include "net/pkt.h"
#include "net/xlate.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Rewrite FROM to TO in one packet, as translation does; false if it is
 * not one to forward. */
static bool rewrite(struct io_pkt *p, const uint8_t *from, const uint8_t *to, int version)
{
	struct pkt_view v;

	if (pkt_parse(p->data, p->len, &v) != MSLB_OK || v.version != version ||
	    memcmp(pkt_dst(&v), from, pkt_addr_len(&v)))
		return false;
	if ((p->off.flags & IO_OFF_NEEDS_CSUM) && pkt_set_partial(&v, p->off.csum_start, p->off.csum_offset) != MSLB_OK)
		return false;
	xlate_set_dst(&v, to);
	return true;
}

int main(int argc, char **argv)
{
	uint8_t from[16], to[16];
	struct io_backend *tun;
	struct io_batch *b;
	char err[256];
	unsigned long long n = 0;
	int af;

	if (argc != 4) {
		fprintf(stderr, "usage: tunfloor DEVICE FROM TO\n");
		return 2;
	}
	af = strchr(argv[2], ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, argv[2], from) != 1 || inet_pton(af, argv[3], to) != 1) {
		fprintf(stderr, "tunfloor: FROM and TO: addresses of one family\n");
		return 2;
	}
	tun = io_tun_open(argv[1], true, err, sizeof(err));
	if (!tun) {
		fprintf(stderr, "tunfloor: %s\n", err);
		return 1;
	}
	b = io_batch_create();
	if (!b) {
		fprintf(stderr, "tunfloor: out of memory\n");
		return 1;
	}
	/* No SA_RESTART: a signal ends the poll. */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	printf("tunfloor: %s up, offloads %s\n", tun->name, io_offload_names(tun->offloads));
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd = { .fd = tun->fd, .events = POLLIN };

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tunfloor: poll");
			return 1;
		}
		if (io_recv(tun, b) < 0) {
			fprintf(stderr, "tunfloor: read failed\n");
			return 1;
		}
		for (unsigned i = 0; i < b->n; i++)
			if (!rewrite(&b->pkt[i], from, to, af == AF_INET6 ? 6 : 4))
				b->pkt[i].len = 0;
		n += (unsigned)io_send(tun, b);
	}
	printf("tunfloor: %llu packets\n", n);
	io_batch_destroy(b);
	io_close(tun);
	return 0;
}
