/* pktgen: test packets built from scratch, with checksums from a reference
 * implementation that shares no code with src/csum.c. */
#ifndef MSLB_TEST_PKTGEN_H
#define MSLB_TEST_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PG_BUFSZ 4096

#define PG_ICMP 1
#define PG_TCP 6
#define PG_UDP 17
#define PG_DCCP 33
#define PG_ESP 50
#define PG_ICMPV6 58
#define PG_UDPLITE 136

#define PG_EXT_HBH 0
#define PG_EXT_RT 43
#define PG_EXT_FRAG 44	/* an atomic fragment header: offset 0, M 0 */
#define PG_EXT_DST 60
#define PG_MAX_EXT 12

/* A deterministic xorshift64 generator. */
struct pg_rng {
	uint64_t s;
};

void pg_seed(struct pg_rng *r, uint64_t seed);
uint32_t pg_rand(struct pg_rng *r);
uint32_t pg_range(struct pg_rng *r, uint32_t lo, uint32_t hi);	/* lo..hi */
void pg_fill(struct pg_rng *r, void *buf, size_t len);

/* Reference Internet checksum, byte by byte into a wide accumulator. */
uint64_t ref_sum(uint64_t acc, const uint8_t *p, size_t len);
uint16_t ref_fold(uint64_t acc);
uint16_t ref_csum(const uint8_t *p, size_t len);	/* ~fold(sum) */

uint16_t pg_get16(const uint8_t *p);
void pg_put16(uint8_t *p, uint16_t v);
uint32_t pg_get32(const uint8_t *p);
void pg_put32(uint8_t *p, uint32_t v);
/* The DSCP+ECN byte of an IPv4 or IPv6 header (TOS / traffic class). */
uint8_t pg_tos(const uint8_t *ip);
void pg_set_tos(uint8_t *ip, uint8_t tos);

struct pg_spec {
	int family;		/* 4 or 6 */
	uint8_t proto;		/* PG_TCP ... */
	uint8_t src[16], dst[16];
	unsigned payload;	/* bytes after the transport header */
	uint8_t opts[40];	/* IPv4 options, opts_len a multiple of 4 */
	unsigned opts_len;
	uint8_t ext[PG_MAX_EXT];	/* IPv6 extension headers, in order */
	unsigned n_ext;
	uint8_t rt_segleft;	/* routing header (SRH, 2 segments): segments left */
	uint8_t rt_final[16];	/* its final segment */
	bool udp_zero;		/* IPv4 UDP: checksum 0 (none) */
	uint8_t cscov;		/* UDP-Lite coverage / DCCP CsCov, 0: everything */
};

struct pg_pkt {
	uint8_t buf[PG_BUFSZ];
	uint32_t len;
	int family;
	uint8_t proto;
	uint16_t l3len;		/* IP header with options or extension headers */
	uint16_t nh_off;	/* byte holding the transport protocol number */
	uint16_t pseudo_dst;	/* offset of the pseudo-header destination */
	bool frag;		/* a fragment */
	bool first;		/* carries the transport header */
};

/* Defaults: 192.0.2.1 -> 203.0.113.10 or 2001:db8:c1::1 -> 2001:db8:5::10,
 * 32 bytes of payload, no options, no extension headers. */
void pg_spec_init(struct pg_spec *s, int family, uint8_t proto);
/* Random options / extension chain / addresses / payload for s. */
void pg_spec_random(struct pg_spec *s, struct pg_rng *r);
/* Build an unfragmented packet with correct checksums. */
void pg_build(struct pg_pkt *p, const struct pg_spec *s, struct pg_rng *r);
/* Recompute the IPv4 header checksum and, unless p is a fragment, the
 * transport checksum, from scratch (IPv4 UDP checksum 0 stays 0). */
void pg_recompute(struct pg_pkt *p);
/* Offset of the checksum field inside the transport header (0: ESP, none);
 * pg_pseudo: whether that checksum covers the pseudo-header (not ICMP). */
unsigned pg_csum_field(uint8_t proto);
unsigned pg_l4_hdrlen(uint8_t proto);
bool pg_pseudo(uint8_t proto);
/* Fragment w (from pg_build): bytes [off, off + n) of its transport part
 * (off a multiple of 8); more: more fragments follow. */
void pg_fragment(const struct pg_pkt *w, unsigned off, unsigned n, bool more,
		 struct pg_pkt *f);
/* Cut or extend p to len bytes and fix the IP length fields (and the IPv4
 * header checksum); transport fields are left alone. */
void pg_set_len(struct pg_pkt *p, uint32_t len);
void pg_set_dst(struct pg_pkt *p, const uint8_t *dst);
/* Offset of the destination / source address. */
unsigned pg_dst_off(const struct pg_pkt *p);
unsigned pg_addr_len(const struct pg_pkt *p);

/* Print where got and exp first differ (for failing tests). */
void pg_diff(const char *what, const uint8_t *got, uint32_t got_len,
	     const uint8_t *exp, uint32_t exp_len);

#endif
