/* csum: RFC 1071 sums and RFC 1624 incremental updates. Byte order does not
 * matter to a one's complement sum as long as it is consistent; we read
 * big-endian words so results can be stored as they are. */
#include "csum.h"

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "iphdr.h"

/* The two carry chains' 128-bit sums (64-bit words, the high halves
 * counting carries) as one 64-bit sum, its end-around carry added. */
static uint64_t chains_sum(unsigned __int128 a, unsigned __int128 b)
{
	uint64_t s, hi;

	a += b;
	s = (uint64_t)a;
	hi = (uint64_t)(a >> 64);
	s += hi;
	return s + (s < hi);
}

/* A 64-bit sum of native words folded to 16 bits and swapped into the
 * big-endian word sum. */
static uint32_t fold_native(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return be16toh((uint16_t)s);
}

uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t s = 0;
	size_t i = 0;

	/* Native loads; RFC 1071 sums are byte-order independent, so fold
	 * and swap once at the end to get big-endian words. */
	if (len >= 20 && len < 24) {	/* the common IPv4 header: unrolled */
		uint32_t w[5];

		memcpy(w, p, 20);
		s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		i = 20;
	} else if (len >= 16) {
		/* 64-bit words into two 128-bit sums, whose high halves count
		 * the carries: two chains the CPU runs side by side (a whole
		 * super-packet is summed when it is cut or checked). */
		unsigned __int128 a = 0, b = 0;

		for (; i + 16 <= len; i += 16) {
			uint64_t w[2];

			memcpy(w, p + i, 16);
			a += w[0];
			b += w[1];
		}
		s = chains_sum(a, b);
	}
	for (; i + 4 <= len; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, 4);
		s += w;
		s += s < w;
	}
	s = fold_native(s);
	for (; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	s += sum;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* Two carry chains as in csum_add; 16-byte blocks are loaded before they
 * are stored, so a block never reads what the move wrote, in the order
 * the overlap needs (forwards when dst is below src, else backwards). */
uint32_t csum_move(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t blocks = len / 16 * 16, rest = len - blocks;
	unsigned __int128 a = 0, b = 0;
	uint32_t tail;

	/* As integers: the buffers may be different objects. */
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + len) {
		for (size_t i = 0; i < blocks; i += 16) {
			uint64_t w[2];

			memcpy(w, s + i, 16);
			memcpy(d + i, w, 16);
			a += w[0];
			b += w[1];
		}
		tail = csum_add(0, s + blocks, rest);
		memmove(d + blocks, s + blocks, rest);
	} else {
		tail = csum_add(0, s + blocks, rest);
		memmove(d + blocks, s + blocks, rest);
		for (size_t i = blocks; i > 0; i -= 16) {
			uint64_t w[2];

			memcpy(w, s + i - 16, 16);
			memcpy(d + i - 16, w, 16);
			a += w[0];
			b += w[1];
		}
	}
	/* The tail is at an even offset (16 bytes times the blocks). */
	return csum_combine(fold_native(chains_sum(a, b)), tail);
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~fold(sum);
}

uint16_t csum_ipv4_header(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t s = csum_add(0, p, IP4_CSUM);	/* skip the checksum field itself */

	return csum_finish(csum_add(s, p + IP4_CSUM + 2, len - (IP4_CSUM + 2)));
}

void csum_ipv4_header_set(uint8_t *hdr, size_t len)
{
	uint16_t c = csum_ipv4_header(hdr, len);

	hdr[IP4_CSUM] = (uint8_t)(c >> 8);
	hdr[IP4_CSUM + 1] = (uint8_t)c;
}

uint32_t csum_pseudo(const uint8_t *ip, uint32_t l4len, uint8_t proto)
{
	uint8_t tail[8] = { (uint8_t)(l4len >> 24), (uint8_t)(l4len >> 16), (uint8_t)(l4len >> 8), (uint8_t)l4len,
			    0, 0, 0, proto };

	/* The IPv4 form's zero byte, protocol and 16-bit length sum the same
	 * as the IPv6 form's 32-bit length and next header. */
	return (ip[0] >> 4) == 4 ? csum_add(csum_add(0, ip + IP4_SRC, 8), tail, 8)
				 : csum_add(csum_add(0, ip + IP6_SRC, 32), tail, 8);
}

/* Sum of ~old and new as 16-bit words, folded, big-endian: the change
 * RFC 1624 adds to a checksum. len is 4 or 16 here (addresses), so 32-bit
 * native loads do it in a few instructions. */
static inline uint64_t change_words(const uint8_t *old, const uint8_t *new, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i < len; i += 4) {
		uint32_t o, n;

		memcpy(&o, old + i, 4);
		memcpy(&n, new + i, 4);
		s += (uint32_t)~o;
		s += n;
	}
	return s;
}

static uint16_t change(const uint8_t *old, const uint8_t *new, size_t len)
{
	uint64_t s;

	/* Constant lengths let the compiler unroll the two address sizes. */
	if (len == 4)
		s = change_words(old, new, 4);
	else if (len == 16)
		s = change_words(old, new, 16);
	else
		s = change_words(old, new, len & ~(size_t)3);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = be16toh((uint16_t)s);
	for (size_t i = len & ~(size_t)3; i + 1 < len; i += 2) {
		s += (uint16_t)~((uint32_t)old[i] << 8 | old[i + 1]);
		s += (uint32_t)new[i] << 8 | new[i + 1];
	}
	return fold((uint32_t)s);
}

void csum_update(uint8_t *field, const void *old, const void *new, size_t len)
{
	uint32_t s = (uint16_t)~((uint32_t)field[0] << 8 | field[1]);
	uint16_t r = (uint16_t)~fold(s + change(old, new, len));

	field[0] = (uint8_t)(r >> 8);
	field[1] = (uint8_t)r;
}

void csum_update_partial(uint8_t *field, const void *old, const void *new, size_t len)
{
	uint32_t s = (uint32_t)field[0] << 8 | field[1];
	uint16_t r = fold(s + change(old, new, len));

	field[0] = (uint8_t)(r >> 8);
	field[1] = (uint8_t)r;
}
