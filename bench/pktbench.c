/* pktbench: packets per second per core of the pure packet path (parse,
 * choose, rewrite, checksums), without any I/O. Each packet goes through a
 * front (IP_S -> IP_B) and a back (IP_B -> IP_S), so it ends as it began
 * and the loop can run on the same buffers forever. With "encap" the front
 * encapsulates (IP-in-IP, draft section 5.2) and the back decapsulates.
 *
 * usage: pktbench [PACKETS_MILLIONS] [4|6] [tcp|udp|mptcp|p2|encap [split]]
 * (p2: MPTCP Proposal 2, ACKs with a timestamp routed by TSecr's bucket;
 *  p2back: a Proposal 2 back rewriting servers' TSvals on their way out;
 *  persist: a back with redirect peers, which looks each packet's flow up
 *  in its persistence table)
 * (split: then encapsulation and decapsulation each on its own as well)
 *        pktbench scale MILLIONS N...  ns per packet with N services and back addresses
 *        pktbench load FILE...         seconds to load FILE, lb_create and reload it
 * (the last two: pktscale.c)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pktbench.h"
#include "config/config.h"
#include "io/io.h"
#include "lb/lb.h"
#include "net/csum.h"

#define N_PKT 1024
#define PKT_LEN 64

static const char *front_conf =
	"front = { services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n"
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; server_id = 1001; },\n"
	"                { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; server_id = 1002; },\n"
	"                { name = \"b3\"; ipv4 = \"198.51.100.13\"; ipv6 = \"2001:db8:b::13\"; server_id = 1003; } );\n"
	"  table = ( { source = \"192.0.2.0/25\"; next_hop = \"b1\"; }, { source = \"192.0.2.128/25\"; next_hop = \"b2\"; },\n"
	"            { source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; }, { source = \"2001:db8:c2::/48\"; next_hop = \"b2\"; } );\n"
	"  unmatched = \"hash\";\n";

static const char *back_conf =
	"back = { addresses = (\n"
	"  { address = \"198.51.100.11\"; service = \"203.0.113.10\"; }, { address = \"2001:db8:b::11\"; service = \"2001:db8:5::10\"; },\n"
	"  { address = \"198.51.100.12\"; service = \"203.0.113.10\"; }, { address = \"2001:db8:b::12\"; service = \"2001:db8:5::10\"; },\n"
	"  { address = \"198.51.100.13\"; service = \"203.0.113.10\"; }, { address = \"2001:db8:b::13\"; service = \"2001:db8:5::10\"; } ); };\n";

/* back_conf with persistence and two redirect peers (a key file made for
 * the run), in out. */
static void persist_conf(char *out, size_t n)
{
	static const char key[] = "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	char path[] = "/tmp/pktbench-keys-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, key, sizeof(key) - 1) != (ssize_t)(sizeof(key) - 1)) {
		perror("pktbench: key file");
		exit(1);
	}
	close(fd);
	snprintf(out, n,
		 "%.*s  persistence = { flows = 4096; }; };\n"
		 "redirect = { address = \"198.51.100.61\"; key_file = \"%s\";\n"
		 "  peers = ( { name = \"b8\"; address = \"198.51.100.62\"; tunnel = [ \"198.51.100.18\" ]; },\n"
		 "            { name = \"b9\"; address = \"198.51.100.63\"; tunnel = [ \"198.51.100.19\" ]; } ); };\n",
		 (int)(strrchr(back_conf, '}') - back_conf), back_conf, path);
}

static struct mslb_lb *make_lb(const char *text)
{
	struct config_errors errs;
	struct mslb_config *c = config_load_string(text, "pktbench", &errs);

	if (!c) {
		for (unsigned i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.line[i]);
		exit(1);
	}
	return lb_create(c);	/* the config lives as long as the process */
}

/* The same front for Proposal 2, which routes by token: no server_id. */
static const char *p2_front_conf =
	"front = { services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n"
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; },\n"
	"                { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; },\n"
	"                { name = \"b3\"; ipv4 = \"198.51.100.13\"; ipv6 = \"2001:db8:b::13\"; } );\n"
	"  unmatched = \"hash\";\n"
	"  mptcp = { service_ports = [ 80 ]; proposal = 2; };\n";

/* A 64-byte TCP or UDP packet to IP_S from client i, checksums right;
 * ts: a TCP ACK with NOP, NOP, timestamp (TSecr: a bucket of i). */
static uint32_t build(uint8_t *p, int family, int proto, unsigned i, bool ts)
{
	unsigned l3 = family == 4 ? 20 : 40, l4len = PKT_LEN - l3;
	unsigned alen = family == 4 ? 4 : 16, cs = proto == 6 ? 16 : 6;
	uint8_t *l4 = p + l3;
	uint32_t sum;

	memset(p, 0, PKT_LEN);
	if (family == 4) {
		p[0] = 0x45;
		p[2] = 0;
		p[3] = PKT_LEN;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = (uint8_t)proto;
		memcpy(p + 12, (uint8_t[]){ 192, 0, 2, (uint8_t)(i % 250 + 1) }, 4);
		memcpy(p + 16, (uint8_t[]){ 203, 0, 113, 10 }, 4);
		sum = csum_finish(csum_add(0, p, 20));
		p[10] = (uint8_t)(sum >> 8);
		p[11] = (uint8_t)sum;
	} else {
		p[0] = 0x60;
		p[5] = (uint8_t)l4len;
		p[6] = (uint8_t)proto;
		p[7] = 64;
		memcpy(p + 8, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(i % 2 ? 0xc1 : 0xc9) }, 6);
		p[22] = (uint8_t)(i >> 8);
		p[23] = (uint8_t)i;
		memcpy(p + 24, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 5 }, 6);
		p[39] = 0x10;
	}
	l4[0] = (uint8_t)(i >> 8);
	l4[1] = (uint8_t)i;
	l4[2] = 0;
	l4[3] = 80;
	if (proto == 6 && ts) {
		l4[12] = 0x80;
		l4[13] = 0x10;
		memcpy(l4 + 20, (uint8_t[]){ 1, 1, 8, 10, 0, 1, 0, 0, 0, 0, (uint8_t)(i >> 8 & 0x3f), (uint8_t)i }, 12);
	} else if (proto == 6)
		l4[12] = 0x50;
	else
		l4[5] = (uint8_t)l4len;
	sum = csum_add(0, p + (family == 4 ? 12 : 8), 2 * alen);
	sum += (uint32_t)proto + l4len;
	sum = csum_add(sum, l4, l4len);
	sum = csum_finish(sum);
	l4[cs] = (uint8_t)(sum >> 8);
	l4[cs + 1] = (uint8_t)sum;
	return PKT_LEN;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double millions = argc > 1 ? atof(argv[1]) : 20;
	int family = argc > 2 ? atoi(argv[2]) : 4;
	const char *mode = argc > 3 ? argv[3] : "tcp";
	int proto = strcmp(mode, "udp") ? 6 : 17;	/* persist: TCP */
	static uint8_t bufs[N_PKT][IO_HEADROOM + 128];
	static struct io_pkt pkts[N_PKT];
	uint32_t lens[N_PKT];
	bool encap = !strcmp(mode, "encap"), split = argc > 4 && !strcmp(argv[4], "split"), p2 = !strcmp(mode, "p2");
	bool p2back = !strcmp(mode, "p2back");
	char conf[4096];
	struct mslb_lb *front, *back;
	uint64_t n = (uint64_t)(millions * 1e6), done = 0, bad = 0;
	double t0, t;

	if (argc > 1 && (!strcmp(argv[1], "scale") || !strcmp(argv[1], "load")))
		return pktbench_size(argc, argv);
	snprintf(conf, sizeof(conf), "%s%s%s };\n", p2 ? p2_front_conf : front_conf,
		 strcmp(mode, "mptcp") ? "" : "  mptcp = { service_ports = [ 80 ]; };",
		 encap ? "  mode = \"encapsulate\";" : "");
	front = make_lb(conf);
	if (p2back) {
		char bc[4096];

		snprintf(bc, sizeof(bc), "%.*s  proposal2 = { service_ports = [ 80 ]; steer = false; }; };\n",
			 (int)(strrchr(back_conf, '}') - back_conf), back_conf);
		back = make_lb(bc);
	} else if (!strcmp(mode, "persist")) {
		char bc[4096];

		persist_conf(bc, sizeof(bc));
		back = make_lb(bc);
	} else {
		back = make_lb(back_conf);
	}
	if (!front || !back || (family != 4 && family != 6))
		return 1;
	for (unsigned i = 0; i < N_PKT; i++) {
		pkts[i] = (struct io_pkt){ .buf = bufs[i], .data = bufs[i] + IO_HEADROOM };
		lens[i] = build(pkts[i].data, family, proto, i, p2 || p2back);
		if (p2back) {
			/* The server's reply: addresses and ports swapped, which
			 * leaves the checksum as it was. */
			uint8_t *d = pkts[i].data, sw[16];
			unsigned a = family == 4 ? 12 : 8, al = family == 4 ? 4 : 16, l4 = family == 4 ? 20 : 40;

			memcpy(sw, d + a, al);
			memmove(d + a, d + a + al, al);
			memcpy(d + a + al, sw, al);
			memcpy(sw, d + l4, 2);
			memmove(d + l4, d + l4 + 2, 2);
			memcpy(d + l4 + 2, sw, 2);
		}
	}
	if (p2back) {
		/* Each reply through the back alone, its TSval rewritten (the
		 * state made by the first one of each flow). */
		t0 = now();
		for (done = 0; done < n; done += N_PKT)
			for (unsigned i = 0; i < N_PKT; i++) {
				pkts[i].data = bufs[i] + IO_HEADROOM;
				pkts[i].len = lens[i];
				bad += lb_process_pkt(back, &pkts[i]) != MSLB_OK;
			}
		t = now() - t0;
		printf("IPv%d p2back: %" PRIu64 " server segments through a Proposal 2 back in %.3f s: "
		       "%.1f Mpps per core, %.1f ns each, %" PRIu64 " dropped\n",
		       family, done, t, (double)done / t / 1e6, t * 1e9 / (double)done, bad);
		return bad ? 1 : 0;
	}
	t0 = now();
	while (done < n) {
		for (unsigned i = 0; i < N_PKT; i++) {
			pkts[i].len = lens[i];
			bad += lb_process_pkt(front, &pkts[i]) != MSLB_OK;
			bad += lb_process_pkt(back, &pkts[i]) != MSLB_OK;
		}
		done += N_PKT;
	}
	t = now() - t0;
	/* Two rewrites per round trip (translate and translate back, or
	 * encapsulate and decapsulate): report each. */
	printf("IPv%d %s: %" PRIu64 " packets through front and back in %.3f s: "
	       "%.1f Mpps per core per %s, %.1f ns each, %" PRIu64 " dropped\n",
	       family, mode, done, t, 2.0 * (double)done / t / 1e6, encap ? "encapsulation or decapsulation" : "translation",
	       t * 1e9 / (2.0 * (double)done), bad);
	if (encap && split && !bad) {
		/* Each half alone: encapsulation writes only the headroom and
		 * decapsulation only moves the start, so the same buffers
		 * serve again once data and len are reset. */
		double te, td;
		uint64_t k;

		t0 = now();
		for (k = 0; k < n; k += N_PKT)
			for (unsigned i = 0; i < N_PKT; i++) {
				pkts[i].data = bufs[i] + IO_HEADROOM;
				pkts[i].len = lens[i];
				bad += lb_process_pkt(front, &pkts[i]) != MSLB_OK;
			}
		te = now() - t0;
		t0 = now();
		for (k = 0; k < n; k += N_PKT)
			for (unsigned i = 0; i < N_PKT; i++) {
				pkts[i].data = bufs[i] + IO_HEADROOM - (family == 4 ? 20 : 40);
				pkts[i].len = lens[i] + (family == 4 ? 20 : 40);
				bad += lb_process_pkt(back, &pkts[i]) != MSLB_OK;
			}
		td = now() - t0;
		printf("IPv%d encap: encapsulation alone %.1f Mpps per core, decapsulation alone %.1f Mpps per core, "
		       "%" PRIu64 " dropped\n", family, (double)k / te / 1e6, (double)k / td / 1e6, bad);
	}
	return bad ? 1 : 0;
}
