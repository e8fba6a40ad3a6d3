/* fwd: TTL / hop limit and software checksum completion. */
#include "fwd.h"

#include "csum.h"
#include "iphdr.h"

enum mslb_drop fwd_ttl_decrement(uint8_t *buf, uint32_t len)
{
	if (len < 1)
		return MSLB_DROP_TRUNCATED;
	if (buf[0] >> 4 == 4) {
		uint32_t s, old, new;

		if (len < IP4_HLEN)
			return MSLB_DROP_TRUNCATED;
		if (buf[IP4_TTL] <= 1)
			return MSLB_DROP_TTL_EXCEEDED;
		/* TTL and protocol form one 16-bit word of the checksum:
		 * HC' = ~(~HC + ~m + m'), RFC 1624 eqn. 3. */
		old = (uint32_t)buf[IP4_TTL] << 8 | buf[IP4_PROTO];
		new = old - 0x100;
		s = (uint16_t)~((uint32_t)buf[IP4_CSUM] << 8 | buf[IP4_CSUM + 1]);
		s += (uint16_t)~old;
		s += new;
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		s = (uint16_t)~s;
		buf[IP4_TTL]--;
		buf[IP4_CSUM] = (uint8_t)(s >> 8);
		buf[IP4_CSUM + 1] = (uint8_t)s;
		return MSLB_OK;
	}
	if (buf[0] >> 4 == 6) {
		if (len < IP6_HLEN)
			return MSLB_DROP_TRUNCATED;
		if (buf[IP6_HOPS] <= 1)
			return MSLB_DROP_TTL_EXCEEDED;
		buf[IP6_HOPS]--;
		return MSLB_OK;
	}
	return MSLB_DROP_BAD_VERSION;
}

void fwd_finish_csum(uint8_t *buf, uint32_t len, struct io_offload *off)
{
	unsigned at = (unsigned)off->csum_start + off->csum_offset;
	uint16_t c;

	/* The offsets are the kernel's or a peer's: never inside the IP
	 * header, never past the packet. */
	if (!(off->flags & IO_OFF_NEEDS_CSUM) || len < 1 ||
	    off->csum_start < ((buf[0] >> 4) == 4 ? IP4_HLEN : IP6_HLEN) || off->csum_start >= len || at + 2 > len)
		return;
	/* The field holds the pseudo-header sum: summing over it completes it. */
	c = csum_finish(csum_add(0, buf + off->csum_start, len - off->csum_start));
	if (c == 0 && off->csum_offset == 6)
		c = 0xffff;	/* UDP: 0 means "no checksum" */
	buf[at] = (uint8_t)(c >> 8);
	buf[at + 1] = (uint8_t)c;
	off->flags &= (uint8_t)~IO_OFF_NEEDS_CSUM;
}
