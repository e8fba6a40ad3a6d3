/* xlate: destination rewrite with incremental checksum updates (RFC 1624).
 * The IPv4 header checksum covers the address; TCP, UDP, UDP-Lite, DCCP and
 * ICMPv6 cover it through their pseudo-header. */
#include "xlate.h"

#include <string.h>

#include "csum.h"
#include "iphdr.h"

void xlate_set_dst(struct pkt_view *v, const uint8_t *new_dst)
{
	uint8_t old[16];
	uint8_t *dst = pkt_dst(v);
	unsigned alen = pkt_addr_len(v);

	if (alen == 4) {	/* constant sizes: inline moves, no library call */
		memcpy(old, dst, 4);
		memcpy(dst, new_dst, 4);
	} else {
		memcpy(old, dst, 16);
		memcpy(dst, new_dst, 16);
	}
	if (v->version == 4)
		csum_update(v->data + IP4_CSUM, old, new_dst, alen);
	if (v->csum_off && v->csum_partial) {
		csum_update_partial(v->data + v->csum_off, old, new_dst, alen);
	} else if (v->csum_off) {
		uint8_t *f = v->data + v->csum_off;

		csum_update(f, old, new_dst, alen);
		/* For UDP a computed 0 is sent as all ones: 0 means "no checksum". */
		if (v->csum_zero_is_none && f[0] == 0 && f[1] == 0)
			f[0] = f[1] = 0xff;
	}
}
