/* frag: fragments are built one at a time in the caller's buffer, so a
 * 64 KiB packet needs no more memory than one fragment. */
#include "frag.h"

#include <stdbool.h>
#include <string.h>

#include "csum.h"
#include "iphdr.h"

/* The options a later fragment keeps (RFC 791: the "copied" flag). */
static unsigned copied_options(const uint8_t *h, unsigned ihl, uint8_t *out)
{
	unsigned n = 0;

	for (unsigned i = IP4_HLEN; i < ihl;) {
		uint8_t type = h[i];
		unsigned olen;

		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= ihl)
			break;
		olen = h[i + 1];
		if (olen < 2 || i + olen > ihl)
			break;
		if (type & 0x80) {
			memcpy(out + n, h + i, olen);
			n += olen;
		}
		i += olen;
	}
	while (n & 3)
		out[n++] = 0;	/* end of option list, padding */
	return n;
}

/* The header's own lengths agree with the buffer: the fragmenter relies
 * on them, so it checks them itself rather than trust its caller. */
static bool sane_ipv4(const uint8_t *pkt, uint32_t len)
{
	unsigned ihl;

	if (len < IP4_HLEN || pkt[0] >> 4 != 4)
		return false;
	ihl = (pkt[0] & 0x0f) * 4u;
	return ihl >= IP4_HLEN && ihl <= len && (unsigned)(pkt[IP4_TOTLEN] << 8 | pkt[IP4_TOTLEN + 1]) == len;
}

int frag_ipv4(const uint8_t *pkt, uint32_t len, unsigned mtu, uint8_t *out, frag_emit_fn fn, void *ctx)
{
	unsigned ihl, field, base, payload, pos = 0, hl, nopts;
	uint8_t opts[40];
	bool more;
	int n = 0;

	if (!sane_ipv4(pkt, len))
		return -2;
	ihl = (pkt[0] & 0x0f) * 4u;
	field = (unsigned)(pkt[IP4_FRAG] << 8 | pkt[IP4_FRAG + 1]);
	base = (field & 0x1fff) * 8u;
	payload = len - ihl;
	hl = ihl;
	nopts = copied_options(pkt, ihl, opts);
	more = field & 0x2000;
	if (mtu < ihl + 8)
		return -1;
	while (pos < payload) {
		unsigned chunk = payload - pos, tot, off;
		bool mf;

		if (hl + chunk > mtu)
			chunk = (mtu - hl) & ~7u;
		mf = pos + chunk < payload || more;
		if (n == 0) {
			memcpy(out, pkt, ihl);
		} else {
			memcpy(out, pkt, IP4_HLEN);
			memcpy(out + IP4_HLEN, opts, nopts);
			out[0] = (uint8_t)(0x40 | (IP4_HLEN + nopts) / 4);
		}
		memcpy(out + hl, pkt + ihl + pos, chunk);
		tot = hl + chunk;
		off = (base + pos) / 8;
		out[IP4_TOTLEN] = (uint8_t)(tot >> 8);
		out[IP4_TOTLEN + 1] = (uint8_t)tot;
		out[IP4_FRAG] = (uint8_t)((pkt[IP4_FRAG] & IP4_DF) | (mf ? 0x20 : 0) | (off >> 8));
		out[IP4_FRAG + 1] = (uint8_t)off;
		csum_ipv4_header_set(out, hl);
		fn(ctx, out, tot);
		n++;
		pos += chunk;
		hl = IP4_HLEN + nopts;
	}
	return n;
}

int frag_ipv6(const uint8_t *pkt, uint32_t len, unsigned mtu, uint32_t id, uint8_t *out,
	      frag_emit_fn fn, void *ctx)
{
	unsigned payload, pos = 0;
	int n = 0;

	if (len < IP6_HLEN || pkt[0] >> 4 != 6)
		return -2;
	payload = len - IP6_HLEN;
	if (mtu < IP6_HLEN + 8 + 8)
		return -1;
	while (pos < payload) {
		unsigned chunk = payload - pos, plen;
		bool mf;

		if (48 + chunk > mtu)
			chunk = (mtu - 48) & ~7u;
		mf = pos + chunk < payload;
		memcpy(out, pkt, IP6_HLEN);
		plen = 8 + chunk;
		out[IP6_PLEN] = (uint8_t)(plen >> 8);
		out[IP6_PLEN + 1] = (uint8_t)plen;
		out[IP6_NEXT] = 44;		/* fragment header */
		out[40] = pkt[IP6_NEXT];	/* what follows it */
		out[41] = 0;
		out[42] = (uint8_t)(pos >> 8);
		out[43] = (uint8_t)((pos & 0xf8) | (mf ? 1 : 0));
		out[44] = (uint8_t)(id >> 24);
		out[45] = (uint8_t)(id >> 16);
		out[46] = (uint8_t)(id >> 8);
		out[47] = (uint8_t)id;
		memcpy(out + 48, pkt + IP6_HLEN + pos, chunk);
		fn(ctx, out, 48 + chunk);
		n++;
		pos += chunk;
	}
	return n;
}
