/* fuzz: what the libFuzzer targets share: the entry point's prototype
 * (-Wmissing-prototypes), a failure that names the broken invariant, and
 * reference checks of IP packets that share no code with src/ (a bug in
 * src/net/csum.c must not hide itself by agreeing with its own check). */
#ifndef MSLB_FUZZ_H
#define MSLB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant is broken: say which, and abort() so libFuzzer keeps the
 * input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

/* Silence the library's log (the default sink writes to stderr). */
void fuzz_quiet(void);

/* ---- reference packet checks (fuzz_ref.c) ---------------------------- */

uint16_t fz_get16(const uint8_t *p);
void fz_put16(uint8_t *p, uint16_t v);

/* Byte-by-byte Internet checksum sum (not folded, not complemented). */
uint64_t fz_sum(uint64_t acc, const uint8_t *p, size_t len);
uint16_t fz_fold(uint64_t acc);

/* One IP header in a packet, walked independently of src/net/pkt.c. */
struct fz_ip {
	int version;		/* 4 or 6; 0: not an IP header we can walk */
	uint32_t len;		/* from the header's length field */
	unsigned l3len;		/* IPv4 header / IPv6 header and extensions */
	uint8_t proto;		/* transport protocol (final next header) */
	bool fragment;		/* any fragment (IPv4 MF/offset, IPv6 fragment header) */
	bool first;		/* offset 0: the transport header is here */
	bool rt_pending;	/* IPv6 routing header with segments left */
};

/* Walk the IP header at p[0..len): false when it does not fit. */
bool fz_ip_walk(const uint8_t *p, uint32_t len, struct fz_ip *ip);
/* The IPv4 header checksum of h is right. */
bool fz_ip4_csum_ok(const uint8_t *h);
/* Recompute the IPv4 header checksum of h (IHL words). */
void fz_ip4_csum_set(uint8_t *h);

/* What a packet's checksums are, every level down through IP-in-IP (but
 * not into ICMP errors' quotes). */
enum fz_csum {
	FZ_CSUM_GOOD,		/* every IPv4 header and the transport checksum right */
	FZ_CSUM_BAD,		/* one of them wrong */
	FZ_CSUM_UNKNOWN,	/* a fragment, a routing header, a protocol we do not check */
};

struct fz_verdict {
	enum fz_csum csum;
	bool hdr_ok;		/* every IPv4 header checksum walked is right */
	unsigned l4off, field;	/* innermost transport header (from p) and its checksum field; 0: none */
};

/* The GUE port of the fuzz configs (front.gue_port, back.gue_port). */
#define FZ_GUE_PORT 6080
/* Is p[0..len) GUE as the fuzz configs send it (UDP to port 6080, an IP
 * header after the UDP header)? */
bool fz_is_gue(const uint8_t *p, uint32_t len);
/* Judge p[0..len): partial says the innermost transport checksum field
 * holds the pseudo-header sum that checksum offload leaves, not a checksum. */
void fz_csum_judge(const uint8_t *p, uint32_t len, bool partial, struct fz_verdict *v);

enum fz_fix {
	FZ_FIX_HDR,		/* IPv4 header checksums only */
	FZ_FIX_FULL,		/* and the innermost transport checksum */
	FZ_FIX_PARTIAL,		/* and the pseudo-header sum checksum offload leaves there */
};

/* Recompute the IPv4 header checksums (every level through IP-in-IP) and,
 * as mode says, the innermost transport checksum of a whole packet: the
 * fuzz input's way past the checksum checks. Returns whether a transport
 * checksum was found, at *l4off (from p) and its field at *field of it. */
bool fz_csum_fix(uint8_t *p, uint32_t len, enum fz_fix mode, unsigned *l4off, unsigned *field);

/* Offset of the checksum field in a transport header of proto, 0: none
 * we check (*pseudo: the sum covers the pseudo-header). */
unsigned fz_l4_csum_field(uint8_t proto, int version, bool *pseudo);

#endif
