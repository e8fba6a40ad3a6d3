/* frag: cut a packet into fragments that fit an MTU (RFC 791 section 3.2,
 * RFC 8200 section 4.5), for tunnels whose MTU is below the packet. */
#ifndef MSLB_FRAG_H
#define MSLB_FRAG_H

#include <stdint.h>

/* Receives each fragment, built at out; the caller may write up to
 * FRAG_ROOM bytes before it (to put an outer header on). */
typedef void (*frag_emit_fn)(void *ctx, uint8_t *pkt, uint32_t len);

#define FRAG_ROOM 64

/* An IPv4 packet (complete checksum; it may itself be a fragment, whose
 * offset and MF the pieces carry on). Later fragments keep only the
 * options marked "copied". Returns the number of fragments, -1 if mtu
 * cannot hold the header and 8 bytes of data, -2 if the header's lengths
 * do not agree with len (nothing emitted). */
int frag_ipv4(const uint8_t *pkt, uint32_t len, unsigned mtu, uint8_t *out, frag_emit_fn fn, void *ctx);

/* An IPv6 packet of a 40-byte header and its payload (the daemon's own
 * outer header): a fragment header with id goes after the base header. */
int frag_ipv6(const uint8_t *pkt, uint32_t len, unsigned mtu, uint32_t id, uint8_t *out,
	      frag_emit_fn fn, void *ctx);

#endif
