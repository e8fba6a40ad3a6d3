/* gso: cut a super-packet the way the kernel's tcp/udp segmentation does:
 * same headers, consecutive sequence numbers, one IPv4 ID per segment,
 * FIN and PSH only on the last segment, CWR only on the first. */
#include "gso.h"

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "iphdr.h"

unsigned gso_header_len(const struct pkt_view *v)
{
	if (!v->l4off || v->fragment)
		return 0;
	if (v->l4proto == IPPROTO_TCP) {
		unsigned doff = (v->data[v->l4off + 12] >> 4) * 4u;

		return doff >= 20 && v->l4off + doff <= v->len ? v->l4off + doff : 0;
	}
	if (v->l4proto == IPPROTO_UDP)
		return v->l4off + 8u <= v->len ? v->l4off + 8u : 0;
	return 0;
}

/* The segment's transport checksum: its headers summed here, its payload
 * (from hl on) already summed as psum while it was moved. */
static void l4_checksum(uint8_t *seg, unsigned l4off, unsigned hl, uint32_t len, uint8_t proto, uint32_t psum)
{
	unsigned field = l4off + (proto == IPPROTO_TCP ? 16 : 6), l4len = len - l4off;
	uint16_t c;

	seg[field] = seg[field + 1] = 0;
	c = csum_finish(csum_combine(csum_add(csum_pseudo(seg, l4len, proto), seg + l4off, hl - l4off), psum));
	if (c == 0 && proto == IPPROTO_UDP)
		c = 0xffff;
	seg[field] = (uint8_t)(c >> 8);
	seg[field + 1] = (uint8_t)c;
}

/* What every segment shares: checked once per super-packet. */
struct cut {
	const struct pkt_view *v;
	unsigned hl, size;
	uint32_t payload, seq;
	uint16_t id;
	bool tcp;
};

static bool cut_init(struct cut *c, const struct pkt_view *v, const struct io_offload *off)
{
	unsigned type = off->gso_type & 0x7f;

	*c = (struct cut){ .v = v, .hl = gso_header_len(v), .size = off->gso_size, .tcp = v->l4proto == IPPROTO_TCP };
	if (!c->hl || c->size == 0 || c->hl >= v->len)
		return false;
	if (c->tcp ? type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6
		   : type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return false;
	c->payload = v->len - c->hl;
	if (c->tcp) {
		const uint8_t *t = v->data + v->l4off + 4;

		c->seq = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
	}
	if (v->version == 4)
		c->id = (uint16_t)(v->data[IP4_ID] << 8 | v->data[IP4_ID + 1]);
	return true;
}

static unsigned cut_count(const struct cut *c)
{
	return (unsigned)((c->payload + c->size - 1) / c->size);
}

static uint32_t cut_len(const struct cut *c, unsigned n)
{
	uint32_t pos = n * c->size;

	return c->hl + (c->payload - pos < c->size ? c->payload - pos : c->size);
}

/* Segment n of the super-packet, built at out; returns its length. out
 * may overlap the super-packet where gso_pack_head says. */
static uint32_t cut_one(const struct cut *c, unsigned n, uint8_t *out)
{
	const struct pkt_view *v = c->v;
	uint32_t pos = n * c->size, len = cut_len(c, n), chunk = len - c->hl;
	bool last = pos + chunk >= c->payload;
	uint8_t *l4 = out + v->l4off;
	uint32_t psum;

	/* The payload first, summed as it moves: laid out in place
	 * (gso_pack_head), the headers land on the start of this segment's
	 * own payload. */
	psum = csum_move(out + c->hl, v->data + c->hl + pos, chunk);
	memmove(out, v->data, c->hl);
	if (v->version == 4) {
		uint16_t nid = (uint16_t)(c->id + n);

		out[IP4_TOTLEN] = (uint8_t)(len >> 8);
		out[IP4_TOTLEN + 1] = (uint8_t)len;
		out[IP4_ID] = (uint8_t)(nid >> 8);
		out[IP4_ID + 1] = (uint8_t)nid;
		csum_ipv4_header_set(out, v->l3len);
	} else {
		out[IP6_PLEN] = (uint8_t)((len - IP6_HLEN) >> 8);
		out[IP6_PLEN + 1] = (uint8_t)(len - IP6_HLEN);
	}
	if (c->tcp) {
		uint32_t s = c->seq + pos;

		l4[4] = (uint8_t)(s >> 24);
		l4[5] = (uint8_t)(s >> 16);
		l4[6] = (uint8_t)(s >> 8);
		l4[7] = (uint8_t)s;
		if (!last)
			l4[13] &= (uint8_t)~0x09;	/* FIN, PSH */
		if (n > 0)
			l4[13] &= (uint8_t)~0x80;	/* CWR */
	} else {
		l4[4] = (uint8_t)((len - v->l4off) >> 8);
		l4[5] = (uint8_t)(len - v->l4off);
	}
	l4_checksum(out, v->l4off, c->hl, len, v->l4proto, psum);
	return len;
}

int gso_segment(const struct pkt_view *v, const struct io_offload *off, uint8_t *out, gso_emit_fn fn,
		void *ctx)
{
	struct cut c;
	unsigned n;

	if (!cut_init(&c, v, off))
		return -1;
	n = cut_count(&c);
	for (unsigned i = 0; i < n; i++)
		fn(ctx, out, cut_one(&c, i, out));
	return (int)n;
}

int gso_pack_head(const struct pkt_view *v, const struct io_offload *off, unsigned count)
{
	struct cut c;
	uint32_t at = 0, total;

	if (!cut_init(&c, v, off) || count == 0 || count > cut_count(&c))
		return -1;
	for (unsigned n = 0; n < count; n++)
		at += cut_len(&c, n);
	total = at;
	/* From the last: segment n lands n header lengths beyond its own
	 * payload, over payload already moved; the headers at v->data, the
	 * template, are rewritten last. */
	for (unsigned n = count; n-- > 0;) {
		at -= cut_len(&c, n);
		cut_one(&c, n, v->data + at);
	}
	return (int)total;
}

int gso_pack(const struct pkt_view *v, const struct io_offload *off, unsigned *next, uint8_t *out, uint32_t room,
	     unsigned *count)
{
	struct cut c;
	uint32_t used = 0;
	unsigned n;

	*count = 0;
	if (!cut_init(&c, v, off))
		return -1;
	n = cut_count(&c);
	while (*next < n && used + cut_len(&c, *next) <= room) {
		used += cut_one(&c, *next, out + used);
		(*next)++;
		(*count)++;
	}
	return (int)used;
}
