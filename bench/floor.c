/* floor: the least a forwarder on mslbd's own packet I/O can do, as
 * bench.sh's floors for mslbd's TUN and AF_PACKET rows. It receives with
 * mslbd's I/O code (io_tun, or io_afp's ring behind mslbd's filter for
 * one address), and for each packet parses it and rewrites the destination
 * address FROM to TO with mslbd's own rewrite (xlate, its checksum
 * updates), then sends the batch: back into the TUN, or, as a router
 * would, with the TTL lowered out of the AF_PACKET interface OUT to the
 * neighbour MAC. No event loop, no tables, no choice of next hop. Whatever
 * separates mslbd from kernel forwarding and is also here is the cost of
 * the I/O itself.
 *
 * usage: floor tun|tun-napi|tun-uring DEVICE FROM TO
 *        floor afp IN OUT MAC FROM TO     (both addresses of one family)
 * tun-napi makes the TUN with IFF_NAPI, tun-uring reads and writes each
 * batch in one io_uring_enter: the two levers on the TUN's cost per packet.
 * Runs until killed; prints what it sent (packets, bytes) on SIGUSR1 and
 * at the end (SIGTERM/SIGINT).
 * With afp, the kernel still sees every packet the ring takes: the caller
 * makes it drop them (a blackhole rule for FROM on IN), as mslbd does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "config/config.h"
#include "io/afp_filter.h"
#include "io/io.h"
#include "net/fwd.h"
#include "net/pkt.h"
#include "net/xlate.h"

static volatile sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static void print_sent(const struct io_backend *out)
{
	printf("floor: sent %llu %llu\n", (unsigned long long)out->stats.tx_packets,
	       (unsigned long long)out->stats.tx_bytes);
	fflush(stdout);
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

/* Only unicast IP to from reaches the ring: mslbd's own filter, built
 * from a configuration whose one service is from. */
static int afp_filter(struct io_backend *in, const uint8_t *from, int af)
{
	static struct sock_filter prog[AFP_FILTER_MAX];
	struct mslb_addr service;
	struct mslb_config cfg = { 0 };
	int n;

	mslb_addr_from_bytes(&service, af, from);
	cfg.front.n_services = 1;
	cfg.front.services = &service;
	n = afp_filter_build(&cfg, prog, AFP_FILTER_MAX);
	if (n < 0) {
		errno = E2BIG;
		return -1;
	}
	return io_afp_set_filter(in, prog, (unsigned)n);
}

static struct io_backend *open_afp(const char *name)
{
	char err[256];
	struct io_backend *be = io_afp_open(name, err, sizeof(err));

	if (!be)
		fprintf(stderr, "floor: %s\n", err);
	return be;
}

int main(int argc, char **argv)
{
	static const char *const tun_modes[] = { "tun", "tun-napi", "tun-uring" };
	static const unsigned tun_flags[] = { 0, IO_TUN_NAPI, IO_TUN_URING };
	int tun_mode = -1;
	bool tun, afp = argc == 7 && !strcmp(argv[1], "afp");
	const char *a_from = argv[argc - 2], *a_to = argv[argc - 1];
	uint8_t from[16], to[16], mac[6];
	struct io_backend *in, *out;
	struct io_batch *b;
	char err[256];
	int af, n;

	for (int i = 0; i < (int)(sizeof(tun_modes) / sizeof(tun_modes[0])); i++)
		if (argc == 5 && !strcmp(argv[1], tun_modes[i]))
			tun_mode = i;
	tun = tun_mode >= 0;
	if (!tun && !afp) {
		fprintf(stderr, "usage: floor tun|tun-napi|tun-uring DEVICE FROM TO\n"
				"       floor afp IN OUT MAC FROM TO\n");
		return 2;
	}
	af = strchr(a_from, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, a_from, from) != 1 || inet_pton(af, a_to, to) != 1) {
		fprintf(stderr, "floor: FROM and TO: addresses of one family\n");
		return 2;
	}
	if (afp && sscanf(argv[4], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
			  &mac[5]) != 6) {
		fprintf(stderr, "floor: MAC: six hex bytes with colons\n");
		return 2;
	}
	if (tun) {
		in = out = io_tun_open(argv[2], IO_TUN_OFFLOAD | tun_flags[tun_mode], err, sizeof(err));
		if (!in)
			fprintf(stderr, "floor: %s\n", err);
	} else {
		in = open_afp(argv[2]);
		out = in && strcmp(argv[2], argv[3]) ? open_afp(argv[3]) : in;
		if (out && afp_filter(in, from, af) < 0) {
			fprintf(stderr, "floor: filter on %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
	}
	if (!in || !out)
		return 1;
	b = io_batch_create();
	if (!b) {
		fprintf(stderr, "floor: out of memory\n");
		return 1;
	}
	/* No SA_RESTART: a signal ends the poll. */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	printf("floor: %s %s up, offloads %s\n", in->kind, in->name, io_offload_names(in->offloads));
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

		if (report) {
			report = 0;
			print_sent(out);
		}
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("floor: poll");
			return 1;
		}
		/* As mslbd: batch after batch while they come full. */
		do {
			n = io_recv(in, b);
			if (n < 0) {
				fprintf(stderr, "floor: receive failed\n");
				return 1;
			}
			for (unsigned i = 0; i < b->n; i++) {
				struct io_pkt *p = &b->pkt[i];

				if (!rewrite(p, from, to, af == AF_INET6 ? 6 : 4) ||
				    (afp && fwd_ttl_decrement(p->data, p->len) != MSLB_OK)) {
					p->len = 0;
					continue;
				}
				p->out = afp ? out : NULL;
				p->out_mac = mac;
			}
			io_send(out, b);
			io_recv_done(in);
		} while (n == IO_BATCH && !stop);
	}
	print_sent(out);
	io_batch_destroy(b);
	if (out != in)
		io_close(out);
	io_close(in);
	return 0;
}
