/* pktscale: the two pktbench modes about size (the issue: per-packet cost
 * linear in the number of services and back addresses, reloads quadratic
 * in the number of table entries).
 *
 * pktbench scale MILLIONS N...: for each N, MILLIONS packets through one node that is front and back at
 * once, with N services and N back addresses (IPv6, 2001:db8:5::/48 and
 * 2001:db8:bb::/48); half the packets go to a service, half to a back
 * address, spread over all of them. Each packet is copied from its
 * template first (the same 64 bytes whatever N), so the rows compare.
 *
 * pktbench load FILE...: for each file, the time to load it, lb_create
 * from it, and a reload without netlink (load, lb_create, carrying the
 * counters over).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktbench.h"
#include "config/config.h"
#include "io/io.h"
#include "lb/lb.h"
#include "net/csum.h"

#define N_TPL 4096
#define TPL_LEN 64

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void addr6(uint8_t *b, unsigned net, unsigned i)
{
	static const uint8_t pre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0 };

	memset(b, 0, 16);
	memcpy(b, pre, 6);
	b[4] = (uint8_t)(net >> 8);
	b[5] = (uint8_t)net;
	b[12] = (uint8_t)(i >> 24);
	b[13] = (uint8_t)(i >> 16);
	b[14] = (uint8_t)(i >> 8);
	b[15] = (uint8_t)i;
}

static char *scale_conf(unsigned n)
{
	size_t cap = 4096 + (size_t)n * 160, used = 0;
	char *t = malloc(cap);
	uint8_t a[16], s[16];

#define PUT(...) (used += (size_t)snprintf(t + used, cap - used, __VA_ARGS__))
	PUT("front = { services = [ ");
	for (unsigned i = 0; i < n; i++) {
		addr6(s, 5, i + 1);
		PUT("%s\"2001:db8:5::%x:%x\"", i ? ", " : "", (s[12] << 8 | s[13]), (s[14] << 8 | s[15]));
	}
	PUT(" ];\n  next_hops = ( { name = \"b1\"; ipv6 = \"2001:db8:b::11\"; }, { name = \"b2\"; ipv6 = \"2001:db8:b::12\"; } );\n"
	    "  table = ( { source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; } );\n  unmatched = \"hash\"; };\n"
	    "back = { addresses = (\n");
	for (unsigned i = 0; i < n; i++) {
		addr6(a, 0xbb, i + 1);
		PUT("%s{ address = \"2001:db8:bb::%x:%x\"; service = \"2001:db8:5::%x:%x\"; }\n", i ? ", " : "",
		    (a[12] << 8 | a[13]), (a[14] << 8 | a[15]), (a[12] << 8 | a[13]), (a[14] << 8 | a[15]));
	}
	PUT("); };\n");
#undef PUT
	return t;
}

/* A 64-byte IPv6 TCP packet from a client to dst, checksums right. */
static void build6(uint8_t *p, const uint8_t *dst, unsigned i)
{
	uint8_t *l4 = p + 40;
	uint32_t sum;

	memset(p, 0, TPL_LEN);
	p[0] = 0x60;
	p[5] = TPL_LEN - 40;
	p[6] = 6;
	p[7] = 64;
	addr6(p + 8, 0xc1, i);
	memcpy(p + 24, dst, 16);
	l4[0] = (uint8_t)(i >> 8);
	l4[1] = (uint8_t)i;
	l4[3] = 80;
	l4[12] = 0x50;
	sum = csum_add(0, p + 8, 32) + 6 + (TPL_LEN - 40);
	sum = csum_finish(csum_add(sum, l4, TPL_LEN - 40));
	l4[16] = (uint8_t)(sum >> 8);
	l4[17] = (uint8_t)sum;
}

static int scale(unsigned n, double millions)
{
	static uint8_t tpl[N_TPL][TPL_LEN];
	static uint8_t buf[IO_HEADROOM + 128];
	struct config_errors errs;
	char *text = scale_conf(n);
	struct mslb_config *cfg = config_load_string(text, "pktscale", &errs);
	struct mslb_lb *lb = cfg ? lb_create(cfg) : NULL;
	uint64_t total = (uint64_t)(millions * 1e6), done = 0, bad = 0;
	struct io_pkt p = { .buf = buf };
	double t0, t;

	free(text);
	if (!lb) {
		for (unsigned i = 0; cfg == NULL && i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.line[i]);
		return 1;
	}
	for (unsigned i = 0; i < N_TPL; i++) {
		uint8_t dst[16];

		/* Even: a service; odd: a back address; a stride that visits all. */
		addr6(dst, i % 2 ? 0xbb : 5, (unsigned)((i / 2 * 7919ULL) % n) + 1);
		build6(tpl[i], dst, i);
	}
	t0 = now();
	while (done < total) {
		for (unsigned i = 0; i < N_TPL; i++) {
			p.data = buf + IO_HEADROOM;
			p.len = TPL_LEN;
			memcpy(p.data, tpl[i], TPL_LEN);
			bad += lb_process_pkt(lb, &p) != MSLB_OK;
		}
		done += N_TPL;
	}
	t = now() - t0;
	printf("scale %u services and %u back addresses: %.1f ns per packet (half to services, half to back addresses), %" PRIu64 " dropped\n",
	       n, n, t * 1e9 / (double)done, bad);
	lb_destroy(lb);
	config_free(cfg);
	return bad ? 1 : 0;
}

static struct mslb_config *load(const char *path)
{
	struct config_errors errs;
	struct mslb_config *c = config_load_file(path, &errs);

	for (unsigned i = 0; !c && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.line[i]);
	return c;
}

static int load_file(const char *path)
{
	double t0 = now(), t1, t2, t3, t4;
	struct mslb_config *c = load(path), *c2;
	struct mslb_lb *lb, *lb2;

	if (!c)
		return 1;
	t1 = now();
	lb = lb_create(c);
	t2 = now();
	c2 = load(path);
	lb2 = c2 ? lb_create(c2) : NULL;
	t3 = now();
	if (!lb || !lb2)
		return 1;
	lb_adopt_counters(lb2, lb);
	t4 = now();
	printf("load %s: %u table entries, %u services, %u back addresses: config %.3f s, lb_create %.3f s, "
	       "reload without netlink (config, lb_create, counters) %.3f s\n",
	       path, c->front.n_table, c->front.n_services, c->back.n_addresses, t1 - t0, t2 - t1, t4 - t2);
	(void)t3;
	lb_destroy(lb);
	lb_destroy(lb2);
	config_free(c);
	config_free(c2);
	return 0;
}

int pktbench_size(int argc, char **argv)
{
	int r = 0;

	if (!strcmp(argv[1], "scale")) {
		double millions = argc > 2 ? atof(argv[2]) : 4;

		for (int i = 3; i < argc; i++) {
			unsigned long n = strtoul(argv[i], NULL, 10);

			r |= scale(n ? (unsigned)n : 1, millions);
		}
		return r;
	}
	for (int i = 2; i < argc; i++)
		r |= load_file(argv[i]);
	return r;
}
