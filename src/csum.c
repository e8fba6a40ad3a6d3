/* csum: RFC 1071 sums and RFC 1624 incremental updates. Byte order does not
 * matter to a one's complement sum as long as it is consistent; we read
 * big-endian words so results can be stored as they are. */
#include "csum.h"

uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	while (len >= 2) {
		s += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
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
	uint32_t s = csum_add(0, p, 10);	/* skip the checksum field itself */

	return csum_finish(csum_add(s, p + 12, len - 12));
}

void csum_update(uint8_t *field, const void *old, const void *new, size_t len)
{
	const uint8_t *o = old, *n = new;
	uint32_t s = (uint16_t)~((uint32_t)field[0] << 8 | field[1]);

	for (size_t i = 0; i + 1 < len; i += 2) {
		s += (uint16_t)~((uint32_t)o[i] << 8 | o[i + 1]);
		s += (uint32_t)n[i] << 8 | n[i + 1];
	}
	uint16_t r = (uint16_t)~fold(s);

	field[0] = (uint8_t)(r >> 8);
	field[1] = (uint8_t)r;
}

void csum_update_partial(uint8_t *field, const void *old, const void *new, size_t len)
{
	const uint8_t *o = old, *n = new;
	uint32_t s = (uint32_t)field[0] << 8 | field[1];

	for (size_t i = 0; i + 1 < len; i += 2) {
		s += (uint16_t)~((uint32_t)o[i] << 8 | o[i + 1]);
		s += (uint32_t)n[i] << 8 | n[i + 1];
	}
	uint16_t r = fold(s);

	field[0] = (uint8_t)(r >> 8);
	field[1] = (uint8_t)r;
}
