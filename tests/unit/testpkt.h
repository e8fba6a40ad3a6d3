/* testpkt: what the suites expect of packets, written from the RFCs on top
 * of pktgen (outer headers, ICMP errors, checksums), and the comparison
 * that shows where bytes differ. Shares no code with src/. */
#ifndef MSLB_TEST_TESTPKT_H
#define MSLB_TEST_TESTPKT_H

#include <stdbool.h>
#include <stdint.h>

#include "pktgen.h"

/* pktgen's packet of proto from src to dst (NULL: pktgen's default; a
 * string asserts once, through tl_addr), payload bytes after the
 * transport header, TOS / traffic class tos, and for IPv4 DF as df. */
void tp_mk(struct pg_rng *r, struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst,
	   unsigned payload, uint8_t tos, bool df);

/* Write the IPv4 header checksum of h (IHL words long). */
void tp_ip4_csum(uint8_t *h);
/* An IPv4 header checksum is right when the header sums to 0xffff. */
bool tp_ip4_csum_ok(const uint8_t *h);
/* A transport or ICMP checksum over l4[0..len), with the pseudo-header of
 * the IP header h when pseudo. */
bool tp_l4_csum_ok(const uint8_t *h, const uint8_t *l4, uint32_t len, uint8_t proto, bool pseudo);
/* The partial checksum a device with checksum offload leaves in p's
 * transport checksum field: the folded pseudo-header sum, not complemented. */
uint16_t tp_partial_csum(const struct pg_pkt *p);

/* The outer header RFC 2003 / RFC 2473 / RFC 4213 with RFC 6040 normal
 * mode call for, field by field, for inner (ilen bytes) from src to dst
 * (16 bytes each): DSCP and ECN copied, TTL 64, IPv4 ID id and DF df,
 * IPv6 flow label 0. Written at h; returns its length. */
unsigned tp_outer(uint8_t *h, int ov, const uint8_t *inner, uint32_t ilen, const uint8_t *src, const uint8_t *dst,
		  uint16_t id, bool df);
/* The IPv6 outer flow label is the daemon's choice (RFC 6438: one per
 * inner flow): copy it from got into the expected header exp when both
 * are IPv6. */
void tp_take_label(uint8_t *exp, const uint8_t *got);
/* An ICMP (IPv4: TTL 64, ID 0, no DF, TOS tos) or ICMPv6 (hop limit 64,
 * traffic class tos) error of type / code with info (MTU, pointer or 0)
 * from from to to (16 bytes each), quoting quote[0..qlen), which may lie
 * in o. Written at o; returns its length. */
uint32_t tp_icmp(uint8_t *o, int family, const uint8_t *from, const uint8_t *to, uint8_t tos, uint8_t type,
		 uint8_t code, uint32_t info, const uint8_t *quote, uint32_t qlen);

/* Whether got is exp, byte for byte; if not, pg_diff says where (what
 * names the packet). */
bool tp_same(const char *what, const uint8_t *got, uint32_t got_len, const uint8_t *exp, uint32_t exp_len);

/* Segment k of the TCP or UDP super-packet sp[0..splen) (hl bytes of
 * headers, segments of size bytes of payload) as the kernel cuts it: own
 * lengths, IPv4 ID + k; TCP: sequence number + k * size, FIN and PSH only
 * on the last, CWR only on the first; checksums from scratch. o takes the
 * rest of its description (family, protocol, offsets) from hdr. */
void tp_gso_seg(struct pg_pkt *o, const struct pg_pkt *hdr, const uint8_t *sp, uint32_t splen, unsigned hl,
		unsigned k, unsigned size);
/* The same for a super-packet that is a pg_pkt. */
static inline void tp_seg(struct pg_pkt *o, const struct pg_pkt *sp, unsigned hl, unsigned k, unsigned size)
{
	tp_gso_seg(o, sp, sp->buf, sp->len, hl, k, size);
}

/* A sink for the packets a module hands to a callback (frag, gso): the
 * first TP_MAX_FRAGS kept, in order. */
#define TP_MAX_FRAGS 64

struct tp_frags {
	unsigned n;
	uint32_t len[TP_MAX_FRAGS];
	uint8_t pkt[TP_MAX_FRAGS][PG_BUFSZ];
};

/* The callback: ctx is a struct tp_frags; more than it holds, or a packet
 * larger than PG_BUFSZ, fails the test (one assertion a packet). */
void tp_collect(void *ctx, uint8_t *pkt, uint32_t len);

#endif
