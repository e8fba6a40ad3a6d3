/* coalesce: check every segment first, then move the payloads down over
 * the headers between them: nothing changes unless all of it can. */
#include "coalesce.h"

#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "gso.h"
#include "iphdr.h"
#include "pkt.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_URG 0x20
#define TCP_CWR 0x80

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is byte i of the headers one that differs between segments? */
static bool varies(const struct pkt_view *v, unsigned i)
{
	unsigned t = i - v->l4off;

	if (v->version == 4 && (i == IP4_TOTLEN || i == IP4_TOTLEN + 1 || i == IP4_ID || i == IP4_ID + 1 ||
				i == IP4_CSUM || i == IP4_CSUM + 1))
		return true;
	if (v->version == 6 && (i == IP6_PLEN || i == IP6_PLEN + 1))
		return true;
	return i >= v->l4off && ((t >= 4 && t < 8) || t == 13 || t == 16 || t == 17);
}

/* Segment n (seg, slen bytes) against the first (parsed as first, with
 * hl bytes of headers): one of its flow, next in sequence, intact. */
static bool segment_ok(uint8_t *seg, uint32_t slen, const struct pkt_view *first, unsigned hl, unsigned n,
		       unsigned mss, bool last, bool trusted)
{
	const uint8_t *h0 = first->data, *l4 = seg + first->l4off;
	uint8_t fl, fl0 = h0[first->l4off + 13];
	struct pkt_view v;

	if (pkt_parse(seg, slen, &v) != MSLB_OK || v.len != slen || v.fragment || v.l4proto != IPPROTO_TCP ||
	    v.l4off != first->l4off || slen <= hl)
		return false;
	for (unsigned i = 0; i < hl; i++)
		if (seg[i] != h0[i] && !varies(first, i))
			return false;
	fl = l4[13];
	if ((fl & (TCP_SYN | TCP_RST | TCP_URG)) || (!last && (fl & (TCP_FIN | TCP_PSH))) || (n && (fl & TCP_CWR)) ||
	    (fl | TCP_FIN | TCP_PSH | TCP_CWR) != (fl0 | TCP_FIN | TCP_PSH | TCP_CWR))
		return false;
	if (get32(l4 + 4) != get32(h0 + first->l4off + 4) + n * mss)
		return false;
	/* GRO checks them too (unless trusted): what the kernel cuts again
	 * gets new ones, so a bad one must not pass into them. */
	return trusted || csum_finish(csum_add(csum_pseudo(seg, slen - v.l4off, IPPROTO_TCP), l4, slen - v.l4off)) == 0;
}

uint32_t coalesce_tcp(uint8_t *buf, uint32_t len, unsigned size, bool trusted, struct io_offload *off)
{
	struct pkt_view first;
	unsigned hl, mss, count, lastfl;
	uint32_t total, l4len;
	uint16_t c;
	uint8_t *l4;

	if (size == 0 || len <= size || size > len)
		return 0;
	if (pkt_parse(buf, size, &first) != MSLB_OK || first.l4proto != IPPROTO_TCP)
		return 0;
	hl = gso_header_len(&first);
	if (!hl || hl >= size)
		return 0;
	mss = size - hl;
	count = (len + size - 1) / size;
	for (unsigned n = 0; n < count; n++) {
		uint32_t at = n * size, slen = len - at < size ? len - at : size;

		if (!segment_ok(buf + at, slen, &first, hl, n, mss, n == count - 1, trusted))
			return 0;
	}
	lastfl = buf[(count - 1) * size + first.l4off + 13];
	for (unsigned n = 1; n < count; n++) {
		uint32_t at = n * size, slen = len - at < size ? len - at : size;

		memmove(buf + hl + n * mss, buf + at + hl, slen - hl);
	}
	total = len - (count - 1) * hl;
	l4 = buf + first.l4off;
	l4len = total - first.l4off;
	if (first.version == 4) {
		buf[IP4_TOTLEN] = (uint8_t)(total >> 8);
		buf[IP4_TOTLEN + 1] = (uint8_t)total;
		csum_ipv4_header_set(buf, first.l3len);
	} else {
		buf[IP6_PLEN] = (uint8_t)((total - IP6_HLEN) >> 8);
		buf[IP6_PLEN + 1] = (uint8_t)(total - IP6_HLEN);
	}
	l4[13] = (uint8_t)(l4[13] | (lastfl & (TCP_FIN | TCP_PSH)));
	c = (uint16_t)~csum_finish(csum_pseudo(buf, l4len, IPPROTO_TCP));
	l4[16] = (uint8_t)(c >> 8);
	l4[17] = (uint8_t)c;
	*off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = (uint8_t)((first.version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) |
				      (l4[13] & TCP_CWR ? VIRTIO_NET_HDR_GSO_ECN : 0)),
		.hdr_len = (uint16_t)hl,
		.gso_size = (uint16_t)mss,
		.csum_start = first.l4off,
		.csum_offset = 16,
	};
	return total;
}
