/* csum: Internet checksums (RFC 1071) and their incremental update (RFC 1624). */
#ifndef MSLB_CSUM_H
#define MSLB_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of 16-bit big-endian words, added to sum.
 * An odd trailing byte is padded with zero. Returns an unfolded sum. */
uint32_t csum_add(uint32_t sum, const void *buf, size_t len);
/* The sum of two unfolded sums (of pieces at even offsets). */
static inline uint32_t csum_combine(uint32_t a, uint32_t b)
{
	uint64_t s = (uint64_t)a + b;

	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}
/* memmove(dst, src, len) that also returns csum_add(0, src, len) of the
 * bytes as they were: one pass where a move and a sum would take two.
 * Either direction of overlap. */
uint32_t csum_move(void *dst, const void *src, size_t len);
/* Fold and complement: the value to store in a checksum field (host order). */
uint16_t csum_finish(uint32_t sum);
/* Recompute an IPv4 header checksum from scratch; returns host order. */
uint16_t csum_ipv4_header(const void *hdr, size_t len);
/* Recompute the IPv4 header checksum of hdr (len bytes) and store it. */
void csum_ipv4_header_set(uint8_t *hdr, size_t len);
/* The pseudo-header sum (RFC 768, RFC 793, RFC 8200 8.1) for a transport
 * message of l4len bytes and protocol proto under the IPv4 or IPv6 header
 * ip (no routing header: its own addresses). Unfolded, for csum_add. */
uint32_t csum_pseudo(const uint8_t *ip, uint32_t l4len, uint8_t proto);
/* RFC 1624 eqn. 3 on a checksum field stored big-endian at field:
 * the covered data changed from old to new (len bytes, even). */
void csum_update(uint8_t *field, const void *old, const void *new, size_t len);
/* The same for a partial checksum (offloaded, still to be finished by the
 * kernel): the field holds the folded pseudo-header sum, not complemented,
 * so old is subtracted and new added without complementing the result. */
void csum_update_partial(uint8_t *field, const void *old, const void *new, size_t len);

#endif
