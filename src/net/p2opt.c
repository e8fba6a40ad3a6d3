/* p2opt: insert and strip the Proposal 2 option (see p2opt.h). */
#include "p2opt.h"

#include <string.h>

#include "csum.h"
#include "iphdr.h"

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint8_t *insert4(uint8_t *data, uint32_t *len, const struct p2opt *o, unsigned *grow)
{
	unsigned ihl = (data[0] & 0x0f) * 4u, olen = o->kind == P2OPT_CAPABLE ? P2OPT_V4_CAPABLE_LEN : P2OPT_V4_JOIN_LEN;
	uint8_t *h = data - olen, *opt = h + IP4_HLEN;

	if (ihl + olen > 60 || get16(data + IP4_TOTLEN) + olen > 0xffff)
		return NULL;
	memmove(h, data, IP4_HLEN);
	memset(opt, 0, olen);
	opt[0] = o->kind;
	opt[1] = (uint8_t)olen;
	if (o->kind == P2OPT_CAPABLE) {
		memcpy(opt + 4, o->key, 8);
		memcpy(opt + 12, o->alt, 4);
	} else {
		memcpy(opt + 4, o->alt, 4);
	}
	h[0] = (uint8_t)(0x40 | (ihl + olen) / 4);
	put16(h + IP4_TOTLEN, get16(h + IP4_TOTLEN) + olen);
	csum_ipv4_header_set(h, ihl + olen);
	*len += olen;
	*grow = olen;
	return h;
}

static uint8_t *insert6(uint8_t *data, uint32_t *len, const struct p2opt *o, unsigned *grow)
{
	uint8_t *h = data - P2OPT_V6_LEN, *d = h + IP6_HLEN;

	/* A hop-by-hop header must stay first: only a packet without
	 * extension headers gets ours. */
	if ((data[IP6_NEXT] != 6 && data[IP6_NEXT] != 17) || get16(data + IP6_PLEN) + P2OPT_V6_LEN > 0xffff)
		return NULL;
	memmove(h, data, IP6_HLEN);
	memset(d, 0, P2OPT_V6_LEN);
	d[0] = h[IP6_NEXT];
	d[1] = P2OPT_V6_LEN / 8 - 1;
	d[2] = P2OPT_V6_TYPE;
	d[3] = 26;
	d[4] = o->kind;
	if (o->kind == P2OPT_CAPABLE)
		memcpy(d + 6, o->key, 8);
	memcpy(d + 14, o->alt, 16);
	d[30] = 1;		/* PadN, no data */
	h[IP6_NEXT] = 60;
	put16(h + IP6_PLEN, get16(h + IP6_PLEN) + P2OPT_V6_LEN);
	*len += P2OPT_V6_LEN;
	*grow = P2OPT_V6_LEN;
	return h;
}

uint8_t *p2opt_insert(uint8_t *data, uint32_t *len, const struct p2opt *o, unsigned *grow)
{
	return (data[0] >> 4) == 4 ? insert4(data, len, o, grow) : insert6(data, len, o, grow);
}

static int strip4(uint8_t *data, uint32_t *len, struct p2opt *o, uint8_t **out, unsigned *shrink)
{
	unsigned ihl = (data[0] & 0x0f) * 4u, i = IP4_HLEN;

	while (i < ihl) {
		uint8_t t = data[i], l;

		if (t == 0)
			return 0;
		if (t == 1) {
			i++;
			continue;
		}
		if (i + 1 >= ihl || (l = data[i + 1]) < 2 || i + l > ihl)
			return 0;	/* pkt_parse would have refused it */
		if (t == P2OPT_CAPABLE || t == P2OPT_JOIN || t == P2OPT_PREV) {
			uint8_t *h = data + l;

			if (l != (t == P2OPT_CAPABLE ? P2OPT_V4_CAPABLE_LEN : P2OPT_V4_JOIN_LEN))
				return -1;
			memset(o, 0, sizeof(*o));
			o->kind = t;
			if (t == P2OPT_CAPABLE) {
				memcpy(o->key, data + i + 4, 8);
				memcpy(o->alt, data + i + 12, 4);
			} else {
				memcpy(o->alt, data + i + 4, 4);
			}
			memmove(h, data, i);
			h[0] = (uint8_t)(0x40 | (ihl - l) / 4);
			put16(h + IP4_TOTLEN, get16(h + IP4_TOTLEN) - l);
			csum_ipv4_header_set(h, ihl - l);
			*len -= l;
			*shrink = l;
			*out = h;
			return 1;
		}
		i += l;
	}
	return 0;
}

static int strip6(uint8_t *data, uint32_t *len, struct p2opt *o, uint8_t **out, unsigned *shrink)
{
	uint8_t *d = data + IP6_HLEN, *h = data + P2OPT_V6_LEN;

	if (data[IP6_NEXT] != 60 || *len < IP6_HLEN + P2OPT_V6_LEN || d[2] != P2OPT_V6_TYPE)
		return 0;
	if (d[1] != P2OPT_V6_LEN / 8 - 1 || d[3] != 26 || d[4] < P2OPT_CAPABLE || d[4] > P2OPT_PREV ||
	    d[30] != 1 || d[31] != 0)
		return -1;
	memset(o, 0, sizeof(*o));
	o->kind = d[4];
	memcpy(o->key, d + 6, 8);
	memcpy(o->alt, d + 14, 16);
	data[IP6_NEXT] = d[0];
	put16(data + IP6_PLEN, get16(data + IP6_PLEN) - P2OPT_V6_LEN);
	memmove(h, data, IP6_HLEN);
	*len -= P2OPT_V6_LEN;
	*shrink = P2OPT_V6_LEN;
	*out = h;
	return 1;
}

int p2opt_strip(uint8_t *data, uint32_t *len, struct p2opt *o, uint8_t **out, unsigned *shrink)
{
	return (data[0] >> 4) == 4 ? strip4(data, len, o, out, shrink) : strip6(data, len, o, out, shrink);
}
