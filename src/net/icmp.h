/* icmp: the ICMP errors a tunnel entry point sends and reads (RFC 792,
 * RFC 1191, RFC 1812 4.3.2, RFC 4443, RFC 2473 section 8), and the token
 * bucket that limits how many it sends. */
#ifndef MSLB_ICMP_H
#define MSLB_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

/* An IPv4 error quotes up to 576 bytes in all (RFC 1812 4.3.2.3), an
 * ICMPv6 error up to the minimum MTU, 1280 (RFC 4443 2.4 (c)). */
#define ICMP_MAX_V4 576
#define ICMP_MAX_V6 1280

struct icmp_bucket {
	double tokens, last;
	unsigned rate, burst;
};

void icmp_bucket_init(struct icmp_bucket *b, unsigned rate, unsigned burst);
/* One token if there is one (rate 0: never). */
bool icmp_bucket_take(struct icmp_bucket *b, double now);

/* May the daemon send an error about this packet? Never about an ICMP
 * error, a non-first fragment, or to/from a multicast, broadcast,
 * loopback or unspecified address. */
bool icmp_may_answer(const struct pkt_view *v);
/* The same for a packet known only by its first len bytes (a quote):
 * what the quote does not show is not answered. */
bool icmp_may_answer_raw(const uint8_t *pkt, uint32_t len);

/* Kinds of error the daemon sends. */
enum icmp_kind {
	ICMP_TOO_BIG,		/* IPv4 3/4 "fragmentation needed", ICMPv6 2 "packet too big" */
	ICMP_UNREACHABLE,	/* IPv4 3/1 host unreachable, ICMPv6 1/3 address unreachable */
	ICMP_TIME_EXCEEDED,	/* IPv4 11/0, ICMPv6 3/0: TTL or hop limit exceeded in transit */
};

/* Build an error of kind about the packet (or quoted packet) about[0..len)
 * of at least one IP header, from `from` (of its family) to its source;
 * info: the MTU for ICMP_TOO_BIG. Writes at most ICMP_MAX_V6 bytes to out
 * and returns the length, 0 if about is too short. */
uint32_t icmp_build(const uint8_t *about, uint32_t len, const uint8_t *from, enum icmp_kind kind,
		    unsigned info, uint8_t *out);

/* What a received ICMP error says. */
struct icmp_error {
	bool too_big;
	unsigned mtu;		/* with too_big; 0 if the sender gave none */
	const uint8_t *quote;	/* the quoted packet, as much as came */
	uint32_t quote_len;
};

/* v: a parsed ICMP or ICMPv6 packet, not a fragment. True if it is an error
 * message with a valid checksum and at least an IP header quoted. */
bool icmp_parse_error(const struct pkt_view *v, struct icmp_error *e);

#endif
