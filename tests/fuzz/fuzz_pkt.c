/* fuzz_pkt: pkt_parse on arbitrary bytes. Everything the data path
 * rewrites rests on the view it returns, so on MSLB_OK the view must stay
 * inside the buffer and agree with an independent walk of the headers
 * (fuzz_ref.c); pkt_set_partial must accept only the transport checksum.
 * Input: start (2), field offset (2) for pkt_set_partial, then the packet,
 * copied to a block of exactly its length so over-reads are caught. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/pkt.h"

static void check_view(const uint8_t *buf, uint32_t n, const struct pkt_view *v)
{
	struct fz_ip ip;
	unsigned field;
	bool pseudo;

	FUZZ_CHECK(v->data == buf, "view data moved");
	FUZZ_CHECK(v->version == 4 || v->version == 6, "version %u", v->version);
	FUZZ_CHECK(v->version == buf[0] >> 4, "version %u, header says %u", v->version, buf[0] >> 4);
	FUZZ_CHECK(v->len <= n, "len %u beyond the %u bytes", v->len, n);
	FUZZ_CHECK(v->l3len <= v->len, "l3len %u beyond len %u", v->l3len, v->len);
	FUZZ_CHECK(v->l3len >= (v->version == 4 ? 20 : 40), "l3len %u below the fixed header", v->l3len);
	FUZZ_CHECK(fz_ip_walk(buf, n, &ip), "accepted, but the reference walk fails");
	FUZZ_CHECK(ip.len == v->len, "len %u, the length field says %u", v->len, ip.len);
	FUZZ_CHECK(ip.l3len == v->l3len, "l3len %u, the reference walk %u", v->l3len, ip.l3len);
	FUZZ_CHECK(ip.proto == v->l4proto, "l4proto %u, the reference walk %u", v->l4proto, ip.proto);
	FUZZ_CHECK(ip.fragment == v->fragment && ip.first == v->first_fragment,
		   "fragment %d/%d, the reference walk %d/%d", v->fragment, v->first_fragment, ip.fragment, ip.first);
	if (v->version == 4)
		FUZZ_CHECK(fz_ip4_csum_ok(buf), "accepted with a wrong IPv4 header checksum");
	if (v->version == 4 || !v->fragment)
		FUZZ_CHECK(v->frag_hdr == 0, "frag_hdr %u without an IPv6 fragment header", v->frag_hdr);
	else
		FUZZ_CHECK(v->frag_hdr >= 40 && v->frag_hdr + 8u <= v->l3len &&
				   (v->first_fragment || buf[v->frag_hdr] == ip.proto),
			   "frag_hdr %u, l3len %u", v->frag_hdr, v->l3len);
	FUZZ_CHECK(!v->csum_partial, "csum_partial after a parse");
	if (v->l4off) {
		FUZZ_CHECK(v->first_fragment, "l4off %u in a later fragment", v->l4off);
		FUZZ_CHECK(v->l4off == v->l3len, "l4off %u, l3len %u", v->l4off, v->l3len);
		if (v->l4proto == 6)
			FUZZ_CHECK(v->l4off + 18u <= v->len, "TCP ports and checksum past len %u", v->len);
	}
	if (v->csum_off) {
		FUZZ_CHECK(v->l4off && v->csum_off > v->l4off, "csum_off %u, l4off %u", v->csum_off, v->l4off);
		FUZZ_CHECK(v->csum_off + 2u <= v->len, "csum_off %u past len %u", v->csum_off, v->len);
	}
	/* The protocols the reference knows: their checksum is found exactly
	 * when the packet carries the whole transport header. */
	field = fz_l4_csum_field(v->l4proto, v->version, &pseudo);
	if (field && pseudo && ip.first && !ip.rt_pending) {
		bool udp_none;

		FUZZ_CHECK(v->l3len + field + 2u <= v->len, "proto %u accepted without its checksum", v->l4proto);
		udp_none = v->l4proto == 17 && fz_get16(buf + v->l3len + 6) == 0;
		FUZZ_CHECK(v->l4off == v->l3len, "proto %u: no l4off", v->l4proto);
		FUZZ_CHECK(v->csum_off == (udp_none ? 0 : v->l3len + field), "proto %u: csum_off %u, expected %u",
			   v->l4proto, v->csum_off, udp_none ? 0 : v->l3len + field);
	}
	if (ip.rt_pending)
		FUZZ_CHECK(v->csum_off == 0, "routing header with segments left, csum_off %u", v->csum_off);
	if (!ip.first)
		FUZZ_CHECK(v->l4off == 0 && v->csum_off == 0, "later fragment with l4off %u csum_off %u", v->l4off,
			   v->csum_off);
}

static bool same_view(const struct pkt_view *a, const struct pkt_view *b)
{
	return a->data == b->data && a->len == b->len && a->version == b->version && a->l4proto == b->l4proto &&
	       a->l3len == b->l3len && a->fragment == b->fragment && a->first_fragment == b->first_fragment &&
	       a->csum_off == b->csum_off && a->csum_zero_is_none == b->csum_zero_is_none && a->l4off == b->l4off &&
	       a->csum_partial == b->csum_partial && a->frag_hdr == b->frag_hdr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_view v;
	unsigned start, foff;
	uint8_t *buf;
	uint32_t n;

	if (size < 4 || size - 4 > 0x20000)
		return 0;
	start = fz_get16(data);
	foff = fz_get16(data + 2);
	n = (uint32_t)(size - 4);
	buf = malloc(n ? n : 1);
	FUZZ_CHECK(buf, "out of memory");
	memcpy(buf, data + 4, n);
	if (pkt_parse(buf, n, &v) == MSLB_OK) {
		struct pkt_view w = v;

		check_view(buf, n, &v);
		if (pkt_set_partial(&w, start, foff) == MSLB_OK) {
			FUZZ_CHECK(w.csum_partial && w.csum_off == start + foff, "partial at %u, asked %u+%u", w.csum_off,
				   start, foff);
			FUZZ_CHECK(v.l4off && start == v.l4off, "partial start %u, l4off %u", start, v.l4off);
			FUZZ_CHECK(w.csum_off + 2u <= w.len, "partial field %u past len %u", w.csum_off, w.len);
		}
		/* The same bytes parse the same way again (no hidden state). */
		FUZZ_CHECK(pkt_parse(buf, n, &w) == MSLB_OK && same_view(&w, &v), "second parse differs");
	}
	free(buf);
	return 0;
}
