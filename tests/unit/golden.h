/* golden: the harness of the golden suites (test_golden_*.c). Whole
 * packets go through the whole data path (lb_process_pkt on an io_pkt with
 * headroom, lb_set_emit capturing what the data path makes besides) and
 * are compared byte for byte with packets written out by the cases: outer
 * headers field by field, checksums by pktgen's reference code. Each case
 * is a config and a script of steps; each step an input packet and the
 * expected result: the packet to send (or nothing), the drop reason, and
 * the packets emitted. */
#ifndef MSLB_TEST_GOLDEN_H
#define MSLB_TEST_GOLDEN_H

#include <stdbool.h>
#include <stdint.h>

#include "pktgen.h"
#include "io/io.h"
#include "lb/lb.h"

/* The cast: a client, the service, next hops (backs), a router on the
 * tunnel path, a return endpoint, a second-stage front. */
#define C4 "192.0.2.1"
#define C6 "2001:db8:c1::1"
#define S4 "203.0.113.10"
#define S6 "2001:db8:5::10"
#define B4 "198.51.100.11"
#define B6 "2001:db8:b::11"
#define B2_4 "198.51.100.12"
#define B2_6 "2001:db8:b::12"
#define R4 "198.51.100.1"
#define R6 "2001:db8:ff::1"
#define E4 "198.51.100.200"
#define E6 "2001:db8:e::1"
#define F2_4 "198.51.100.50"
#define F2_6 "2001:db8:f2::50"
#define TS4 "203.0.113.100"
#define TS6 "2001:db8:5::100"

#define Q(s) "\"" s "\""

/* A front whose one next hop b1 takes every client. */
#define FRONT(front_extra, nh_extra) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = \"encapsulate\";\n" \
	front_extra \
	"  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; " nh_extra " } );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

/* Two next hops: the clients' prefixes go to b2, anything else to b1. */
#define FRONT2(mode) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; },\n" \
	"    { name = \"b2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/24\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

#define BACK(extra) \
	"back = {\n" \
	"  addresses = (\n" \
	"    { address = " Q(B4) "; service = " Q(S4) "; },\n" \
	"    { address = " Q(B6) "; service = " Q(S6) "; }\n" \
	"  );\n" \
	extra \
	"};\n"

#define ENDPOINT \
	"return_endpoint = {\n" \
	"  addresses = [ " Q(E4) ", " Q(E6) " ];\n" \
	"  allowed_sources = [ \"198.51.100.0/24\", \"2001:db8:b::/64\" ];\n" \
	"};\n"

/* A second-stage front: decapsulates what the first front (outer source
 * IP_S) sends to its own address, balances again, encapsulates to b1. */
#define FRONT_STAGE2(mode) \
	"front = {\n" \
	"  services = [ " Q(F2_4) ", " Q(F2_6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  allowed_sources = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; } );\n" \
	"  unmatched = \"b1\";\n" \
	"};\n"

#define GD_MAX_STEPS 8
#define GD_MAX_EMIT 8
#define GD_XBUF (PG_BUFSZ + 128)

/* A packet a step sends in or expects out. */
struct gd_pkt {
	uint32_t len;
	bool any_label;		/* an IPv6 outer header of the daemon's: its flow label is its own */
	struct io_offload off;	/* gd_capture: what the data path asked the device to finish */
	uint8_t b[GD_XBUF];
};

/* One packet in, and all that must come of it. */
struct gd_step {
	const char *what;
	double now;
	struct gd_pkt in;
	struct io_offload off;
	enum mslb_drop want;
	struct gd_pkt out;	/* with MSLB_OK: what p describes afterwards (len 0: nothing) */
	unsigned n_emit;
	struct gd_pkt emit[GD_MAX_EMIT];
	void (*check)(struct mslb_lb *lb);	/* after the step */
	bool check_off;
	struct io_offload out_off;	/* with check_off: p->off afterwards */
};

/* A case's steps, played in order on one lb. */
struct gd_script {
	unsigned n;
	struct gd_step s[GD_MAX_STEPS];
};

/* A golden case: a config, and the function that writes its script. */
struct gd_case {
	const char *name;
	const char *conf;
	void (*build)(struct gd_script *c);
};

/* Seeds the packet generator: each golden suite's init function, so that
 * every suite makes the same packets whatever ran before it. */
int gd_init(void);

/* Run case g: load its config, make an lb, build its script and play the
 * steps, asserting on each. */
void gd_run(const struct gd_case *g);
void gd_run_all(const struct gd_case *g, unsigned n);

/* ---- building a script ---------------------------------------------- */

/* Append a step to c: what it does, the clock, the drop reason expected. */
struct gd_step *gd_add(struct gd_script *c, const char *what, double now, enum mslb_drop want);
/* Append an expected emitted packet to s. */
struct gd_pkt *gd_emit(struct gd_step *s);

/* A packet of total bytes (UDP or TCP) with a chosen TOS and DF. */
void gd_mk(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, unsigned total, uint8_t tos,
	   bool df);
/* A client's packet to the service. */
void gd_client(struct pg_pkt *p, int family, unsigned total, uint8_t tos, bool df);
/* x is b[0..len), its flow label to compare as it is. */
void gd_set(struct gd_pkt *x, const uint8_t *b, uint32_t len);
/* inner in an outer header, as RFC 2003 / RFC 2473 / RFC 4213 and RFC 6040
 * normal mode have it: DSCP and ECN copied, TTL 64. */
void gd_encap(struct gd_pkt *x, int ov, const char *src, const char *dst, const uint8_t *inner, uint32_t ilen,
	      uint16_t id, bool df);
/* A tunnel packet from src to dst carrying in, as step s's input. */
void gd_tunnel_in(struct gd_step *s, int ov, const char *src, const char *dst, const struct pg_pkt *in);
/* Bytes [off, off + n) of whole's payload in an IPv4 fragment (RFC 791). */
void gd_frag4(struct gd_pkt *f, const struct gd_pkt *whole, unsigned off, unsigned n, bool more);
/* The same in an IPv6 fragment header after a 40-byte header (RFC 8200 4.5). */
void gd_frag6(struct gd_pkt *f, const struct gd_pkt *whole, unsigned off, unsigned n, bool more, uint32_t id);
/* An ICMP (IPv4: TTL 64, ID 0, no DF) or ICMPv6 (hop limit 64) error. */
uint32_t gd_icmp_msg(uint8_t *o, int family, const char *from, const char *to, uint8_t tos, uint8_t type,
		     uint8_t code, uint32_t info, const uint8_t *quote, uint32_t qlen);
/* The error the daemon sends: IPv4 with precedence "internetwork control"
 * (TOS 0xc0), ICMPv6 with traffic class 0. */
void gd_icmp(struct gd_pkt *x, int family, const char *from, const char *to, uint8_t type, uint8_t code,
	     uint32_t info, const uint8_t *quote, uint32_t qlen);
/* Recompute the IPv4 header checksum and the ICMP / ICMPv6 checksum of an
 * ICMP packet (after a rewrite). */
void gd_icmp_fix(struct gd_pkt *x);

/* ---- for tests that drive the lb themselves -------------------------- */

/* What lb_set_emit handed gd_capture since n was last set to 0: n counts
 * every packet, the first GD_MAX_EMIT are kept. */
struct gd_emitted {
	unsigned n;
	struct gd_pkt p[GD_MAX_EMIT];
};

extern struct gd_emitted gd_cap;

void gd_capture(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off);
/* Whether got is x (an IPv6 outer flow label of the daemon's aside); if
 * not, where they differ is printed. */
bool gd_match(const char *what, const uint8_t *got, uint32_t glen, const struct gd_pkt *x);

#endif
