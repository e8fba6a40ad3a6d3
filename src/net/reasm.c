/* reasm: each slot holds one datagram in progress: its payload, a bitmap of
 * the 8-byte blocks received, and the first fragment's header. Lookups are
 * a scan of the slots: fragments are rare and slots few. */
#include "reasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "iphdr.h"

#define MAX_PAYLOAD 65536
#define HDR_ROOM 60
#define BLOCKS (MAX_PAYLOAD / 8)

struct slot {
	bool used, have_first;
	uint8_t version, proto, hlen;
	uint8_t src[16], dst[16];
	uint32_t id, total, received;	/* total: 0 until the last fragment */
	double first_seen;
	uint64_t map[BLOCKS / 64];
	uint8_t buf[HDR_ROOM + MAX_PAYLOAD];
};

struct reasm {
	unsigned n;
	double timeout;
	struct reasm_stats st;
	struct slot *slots;
};

struct reasm *reasm_create(unsigned memory, unsigned timeout_s)
{
	struct reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->n = memory / sizeof(struct slot);
	if (r->n < 1)
		r->n = 1;
	r->timeout = timeout_s;
	r->slots = calloc(r->n, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	return r;
}

void reasm_destroy(struct reasm *r)
{
	if (r) {
		free(r->slots);
		free(r);
	}
}

static void slot_free(struct reasm *r, struct slot *s)
{
	s->used = false;
	r->st.in_progress--;
}

static struct slot *find(struct reasm *r, uint8_t version, const uint8_t *src, const uint8_t *dst,
			 uint32_t id, uint8_t proto, double now)
{
	unsigned alen = version == 4 ? 4 : 16;
	struct slot *free_slot = NULL;

	for (unsigned i = 0; i < r->n; i++) {
		struct slot *s = &r->slots[i];

		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->version == version && s->id == id && s->proto == proto &&
		    !memcmp(s->src, src, alen) && !memcmp(s->dst, dst, alen))
			return s;
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, offsetof(struct slot, buf));
	free_slot->used = true;
	free_slot->version = version;
	free_slot->id = id;
	free_slot->proto = proto;
	memcpy(free_slot->src, src, alen);
	memcpy(free_slot->dst, dst, alen);
	free_slot->first_seen = now;
	r->st.in_progress++;
	return free_slot;
}

/* Marks blocks [from, to); false if one was there already (an overlap). */
static bool mark(struct slot *s, unsigned from, unsigned to)
{
	for (unsigned b = from; b < to; b++)
		if (s->map[b / 64] >> (b % 64) & 1)
			return false;
	for (unsigned b = from; b < to; b++)
		s->map[b / 64] |= 1ull << (b % 64);
	return true;
}

static uint8_t *finish(struct slot *s, uint32_t *len)
{
	uint8_t *h = s->buf + HDR_ROOM - s->hlen;

	if (s->version == 4) {
		uint32_t tot = s->hlen + s->total;

		h[IP4_TOTLEN] = (uint8_t)(tot >> 8);
		h[IP4_TOTLEN + 1] = (uint8_t)tot;
		h[IP4_FRAG] &= IP4_DF;	/* DF stays; MF and offset go */
		h[IP4_FRAG + 1] = 0;
		csum_ipv4_header_set(h, s->hlen);
		*len = tot;
	} else {
		h[IP6_PLEN] = (uint8_t)(s->total >> 8);
		h[IP6_PLEN + 1] = (uint8_t)s->total;
		h[IP6_NEXT] = s->proto;
		*len = IP6_HLEN + s->total;
	}
	return h;
}

enum mslb_drop reasm_add(struct reasm *r, const struct pkt_view *v, double now, uint8_t **out, uint32_t *len)
{
	const uint8_t *d = v->data;
	unsigned off, start, plen, proto, hmax;
	uint32_t id;
	bool mf;
	struct slot *s;

	*out = NULL;
	if (v->version == 4) {
		unsigned field = (unsigned)(d[IP4_FRAG] << 8 | d[IP4_FRAG + 1]);

		off = (field & 0x1fff) * 8u;
		mf = field & 0x2000;
		start = v->l3len;
		id = (uint32_t)(d[IP4_ID] << 8 | d[IP4_ID + 1]);
		proto = d[IP4_PROTO];
		hmax = 65535 - v->l3len;
	} else {
		const uint8_t *f = d + v->frag_hdr;

		off = (unsigned)(f[2] << 8 | f[3]) & 0xfff8;
		mf = f[3] & 1;
		start = v->frag_hdr + 8u;
		id = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | (uint32_t)f[6] << 8 | f[7];
		proto = f[0];
		/* A whole datagram, header included, fits 65,535 bytes as in
		 * IPv4: what the data path's packet buffer holds. */
		hmax = 65535 - IP6_HLEN;
	}
	plen = v->len - start;
	if (off + plen > hmax || (mf && (plen == 0 || plen % 8))) {
		r->st.bad++;
		return MSLB_DROP_REASSEMBLY;
	}
	s = find(r, v->version, pkt_src(v), pkt_dst(v), id, (uint8_t)proto, now);
	if (!s) {
		r->st.memory_drops++;
		return MSLB_DROP_REASSEMBLY;
	}
	if ((!mf && s->total && s->total != off + plen) || (s->total && off + plen > s->total) ||
	    (!mf && s->received > off + plen) || !mark(s, off / 8, (off + plen + 7) / 8)) {
		slot_free(r, s);
		r->st.bad++;
		return MSLB_DROP_REASSEMBLY;
	}
	if (!mf)
		s->total = off + plen;
	memcpy(s->buf + HDR_ROOM + off, d + start, plen);
	s->received += plen;
	r->st.fragments++;
	if (off == 0) {
		s->hlen = (uint8_t)(v->version == 4 ? v->l3len : IP6_HLEN);
		memcpy(s->buf + HDR_ROOM - s->hlen, d, s->hlen);
		s->have_first = true;
	}
	if (s->total && s->received == s->total && s->have_first) {
		if (v->version == 4 && s->hlen + s->total > 65535) {
			slot_free(r, s);
			r->st.bad++;
			return MSLB_DROP_REASSEMBLY;
		}
		*out = finish(s, len);
		slot_free(r, s);
		r->st.datagrams++;
	}
	return MSLB_OK;
}

void reasm_expire(struct reasm *r, double now)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct slot *s = &r->slots[i];

		if (s->used && now - s->first_seen > r->timeout) {
			slot_free(r, s);
			r->st.timeouts++;
		}
	}
}

void reasm_get_stats(const struct reasm *r, struct reasm_stats *s)
{
	*s = r->st;
}
