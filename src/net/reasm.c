/* reasm: each slot holds one datagram in progress: its payload, a bitmap of
 * the 8-byte blocks received, and the first fragment's header.
 *
 * Fragments come from the network, so nothing here scans the slots: a
 * flood of them from an allowed (spoofable) source made every fragment
 * compare against every slot. All the indexes live in arrays of 32-bit slot
 * or source numbers allocated at creation; the per-packet path allocates
 * nothing and its work does not grow with the number of slots:
 *   - a hash of (version, src, dst, id, proto), chained through the slots;
 *   - the slots in use in the order they were taken (the age list), which
 *     is the order of first_seen, so expiry takes from its head;
 *   - a table of the sources holding slots, each with its own age list and
 *     its count, and per count a list of the sources holding that many,
 *     which gives the source holding the most in constant time.
 * The policy for a new datagram is in reasm.h. */
#include "reasm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "csum.h"
#include "iphdr.h"

#define MAX_PAYLOAD 65536
#define HDR_ROOM 60
#define BLOCKS (MAX_PAYLOAD / 8)
#define NONE UINT32_MAX

struct slot {
	bool used, have_first;
	uint8_t version, proto, hlen;
	uint8_t src[16], dst[16];
	uint32_t id, total, received;	/* total: 0 until the last fragment */
	double first_seen;
	uint32_t hnext;			/* the hash chain; the free list when unused */
	uint32_t older, newer;		/* the age list */
	uint32_t src_older, src_newer;	/* its source's age list */
	uint32_t source, bucket;	/* bucket: kept, not hashed again to unlink */
	uint64_t map[BLOCKS / 64];
	uint8_t buf[HDR_ROOM + MAX_PAYLOAD];
};

/* A source holding at least one slot; count 0: on the free list (hnext). */
struct source {
	uint8_t version;
	uint8_t addr[16];
	uint32_t count;
	uint32_t hnext, bucket;
	uint32_t oldest, newest;	/* its slots */
	uint32_t less, more;		/* the list of sources with the same count */
};

/* A list of sources with one count: taken from the head (first to reach
 * the count), added at the tail. */
struct clist {
	uint32_t head, tail;
};

struct reasm {
	unsigned n, cap;		/* slots; most one source may hold */
	double timeout;
	uint64_t seed;			/* of the hashes: chains an attacker cannot aim at */
	struct reasm_stats st;
	struct slot *slots;
	uint32_t *bucket, mask;		/* slot hash */
	uint32_t free_slot;
	uint32_t oldest, newest;	/* the age list of slots in use */
	struct source *src;
	uint32_t *src_bucket, free_src;	/* source hash: same mask */
	struct clist *by_count;		/* [1..cap] */
	unsigned max_count;		/* the highest count any source has */
};

/* What each slot costs beyond itself: a source entry, and its share of the
 * two hash tables (up to 4 buckets each, powers of two) and the count lists. */
#define OVERHEAD (sizeof(struct source) + 10 * sizeof(uint32_t))

/* Write one byte of every page: the slots' memory is resident from the
 * start, not page by page as fragments land, so the daemon's memory does
 * not creep up under traffic and the data path takes no page faults. */
static void prefault(void *mem, size_t len)
{
	volatile uint8_t *b = mem;
	long page = sysconf(_SC_PAGESIZE);

	for (size_t off = 0; off < len; off += page > 0 ? (size_t)page : 4096)
		b[off] = 0;
}

struct reasm *reasm_create(unsigned memory, unsigned timeout_s)
{
	struct reasm *r = calloc(1, sizeof(*r));
	unsigned nb = 2;

	if (!r)
		return NULL;
	r->n = memory / (sizeof(struct slot) + OVERHEAD);
	if (r->n < 1)
		r->n = 1;
	/* Half: one source cannot keep another out of the table (see reasm.h). */
	r->cap = r->n / 2 ? r->n / 2 : 1;
	r->timeout = timeout_s;
	while (nb < 2 * r->n)
		nb *= 2;
	r->mask = nb - 1;
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != sizeof(r->seed))
		r->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)r;
	r->slots = calloc(r->n, sizeof(*r->slots));
	r->bucket = malloc(nb * sizeof(*r->bucket));
	r->src = calloc(r->n, sizeof(*r->src));
	r->src_bucket = malloc(nb * sizeof(*r->src_bucket));
	r->by_count = malloc((r->cap + 1) * sizeof(*r->by_count));
	if (!r->slots || !r->bucket || !r->src || !r->src_bucket || !r->by_count) {
		reasm_destroy(r);
		return NULL;
	}
	prefault(r->slots, (size_t)r->n * sizeof(*r->slots));
	for (unsigned i = 0; i < nb; i++)
		r->bucket[i] = r->src_bucket[i] = NONE;
	for (unsigned i = 0; i < r->n; i++) {
		r->slots[i].hnext = i + 1 < r->n ? i + 1 : NONE;
		r->src[i].hnext = i + 1 < r->n ? i + 1 : NONE;
	}
	for (unsigned c = 0; c <= r->cap; c++)
		r->by_count[c].head = r->by_count[c].tail = NONE;
	r->free_slot = r->free_src = 0;
	r->oldest = r->newest = NONE;
	return r;
}

void reasm_destroy(struct reasm *r)
{
	if (r) {
		free(r->slots);
		free(r->bucket);
		free(r->src);
		free(r->src_bucket);
		free(r->by_count);
		free(r);
	}
}

/* The key is hashed from a zeroed buffer so that IPv4's 4-byte addresses
 * and the padding add nothing random. */
static uint32_t slot_hash(const struct reasm *r, uint8_t version, const uint8_t *src, const uint8_t *dst,
			  uint32_t id, uint8_t proto)
{
	unsigned alen = version == 4 ? 4 : 16;
	uint8_t k[2 * 16 + 6] = { 0 };

	memcpy(k, src, alen);
	memcpy(k + 16, dst, alen);
	memcpy(k + 32, &id, 4);
	k[36] = version;
	k[37] = proto;
	return (uint32_t)XXH3_64bits_withSeed(k, sizeof(k), r->seed) & r->mask;
}

static uint32_t src_hash(const struct reasm *r, uint8_t version, const uint8_t *addr)
{
	return (uint32_t)XXH3_64bits_withSeed(addr, version == 4 ? 4 : 16, r->seed ^ version) & r->mask;
}

static void clist_remove(struct reasm *r, uint32_t i)
{
	struct source *e = &r->src[i];
	struct clist *l = &r->by_count[e->count];

	if (e->less != NONE)
		r->src[e->less].more = e->more;
	else
		l->head = e->more;
	if (e->more != NONE)
		r->src[e->more].less = e->less;
	else
		l->tail = e->less;
}

static void clist_append(struct reasm *r, uint32_t i)
{
	struct source *e = &r->src[i];
	struct clist *l = &r->by_count[e->count];

	e->less = l->tail;
	e->more = NONE;
	if (l->tail != NONE)
		r->src[l->tail].more = i;
	else
		l->head = i;
	l->tail = i;
	if (e->count > r->max_count)
		r->max_count = e->count;
}

static uint32_t src_find(const struct reasm *r, uint8_t version, const uint8_t *addr, uint32_t h)
{
	unsigned alen = version == 4 ? 4 : 16;

	for (uint32_t i = r->src_bucket[h]; i != NONE; i = r->src[i].hnext)
		if (r->src[i].version == version && !memcmp(r->src[i].addr, addr, alen))
			return i;
	return NONE;
}

/* Gives slot i up: out of the hash, the age lists and its source's count;
 * the source goes when it holds nothing more. */
static void slot_free(struct reasm *r, uint32_t i)
{
	struct slot *s = &r->slots[i];
	struct source *e = &r->src[s->source];
	uint32_t *p = &r->bucket[s->bucket];

	while (*p != i)
		p = &r->slots[*p].hnext;
	*p = s->hnext;
	*(s->older != NONE ? &r->slots[s->older].newer : &r->oldest) = s->newer;
	*(s->newer != NONE ? &r->slots[s->newer].older : &r->newest) = s->older;
	*(s->src_older != NONE ? &r->slots[s->src_older].src_newer : &e->oldest) = s->src_newer;
	*(s->src_newer != NONE ? &r->slots[s->src_newer].src_older : &e->newest) = s->src_older;
	clist_remove(r, s->source);
	if (e->count == r->max_count && r->by_count[e->count].head == NONE)
		r->max_count--;	/* e itself now holds max_count - 1, or was the last source */
	if (--e->count)
		clist_append(r, s->source);
	else {
		p = &r->src_bucket[e->bucket];
		while (*p != s->source)
			p = &r->src[*p].hnext;
		*p = e->hnext;
		e->hnext = r->free_src;
		r->free_src = s->source;
	}
	s->used = false;
	s->hnext = r->free_slot;
	r->free_slot = i;
	r->st.in_progress--;
}

/* A slot for a new datagram from src, giving one up if need be (reasm.h). */
static struct slot *slot_take(struct reasm *r, uint8_t version, const uint8_t *src, const uint8_t *dst,
			      uint32_t id, uint8_t proto, uint32_t h, double now)
{
	unsigned alen = version == 4 ? 4 : 16;
	uint32_t sh = src_hash(r, version, src), si = src_find(r, version, src, sh), i;
	struct slot *s;
	struct source *e;

	if (si != NONE && r->src[si].count >= r->cap) {
		slot_free(r, r->src[si].oldest);
		r->st.source_evictions++;
	} else if (r->free_slot == NONE) {
		slot_free(r, r->src[r->by_count[r->max_count].head].oldest);
		r->st.evictions++;
	}
	/* The source may have gone with the slot given up. */
	si = src_find(r, version, src, sh);
	if (si == NONE) {
		si = r->free_src;
		e = &r->src[si];
		r->free_src = e->hnext;
		e->version = version;
		memset(e->addr, 0, sizeof(e->addr));
		memcpy(e->addr, src, alen);
		e->count = 0;
		e->oldest = e->newest = NONE;
		e->bucket = sh;
		e->hnext = r->src_bucket[sh];
		r->src_bucket[sh] = si;
	} else {
		e = &r->src[si];
		clist_remove(r, si);
	}
	i = r->free_slot;
	s = &r->slots[i];
	r->free_slot = s->hnext;
	memset(s, 0, offsetof(struct slot, buf));
	s->used = true;
	s->version = version;
	s->id = id;
	s->proto = proto;
	memcpy(s->src, src, alen);
	memcpy(s->dst, dst, alen);
	s->first_seen = now;
	s->bucket = h;
	s->hnext = r->bucket[h];
	r->bucket[h] = i;
	s->older = r->newest;
	s->newer = NONE;
	*(r->newest != NONE ? &r->slots[r->newest].newer : &r->oldest) = i;
	r->newest = i;
	s->source = si;
	s->src_older = e->newest;
	s->src_newer = NONE;
	*(e->newest != NONE ? &r->slots[e->newest].src_newer : &e->oldest) = i;
	e->newest = i;
	e->count++;
	clist_append(r, si);
	r->st.in_progress++;
	return s;
}

static struct slot *find(struct reasm *r, uint8_t version, const uint8_t *src, const uint8_t *dst,
			 uint32_t id, uint8_t proto, double now)
{
	unsigned alen = version == 4 ? 4 : 16;
	uint32_t h = slot_hash(r, version, src, dst, id, proto);

	for (uint32_t i = r->bucket[h]; i != NONE; i = r->slots[i].hnext) {
		struct slot *s = &r->slots[i];

		if (s->version == version && s->id == id && s->proto == proto &&
		    !memcmp(s->src, src, alen) && !memcmp(s->dst, dst, alen))
			return s;
	}
	return slot_take(r, version, src, dst, id, proto, h, now);
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
	/* Never NULL: a new datagram always gets a slot (reasm.h). */
	s = find(r, v->version, pkt_src(v), pkt_dst(v), id, (uint8_t)proto, now);
	if ((!mf && s->total && s->total != off + plen) || (s->total && off + plen > s->total) ||
	    (!mf && s->received > off + plen) || !mark(s, off / 8, (off + plen + 7) / 8)) {
		slot_free(r, (uint32_t)(s - r->slots));
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
			slot_free(r, (uint32_t)(s - r->slots));
			r->st.bad++;
			return MSLB_DROP_REASSEMBLY;
		}
		*out = finish(s, len);
		slot_free(r, (uint32_t)(s - r->slots));
		r->st.datagrams++;
	}
	return MSLB_OK;
}

/* From the head of the age list: slots are taken in the order of now, so
 * the work is the datagrams that time out, each given up once, never a pass
 * over those still in time. (Were the clock to step back, a slot taken
 * before the step waits behind the younger-looking ones: late, not lost.) */
void reasm_expire(struct reasm *r, double now)
{
	while (r->oldest != NONE && now - r->slots[r->oldest].first_seen > r->timeout) {
		slot_free(r, r->oldest);
		r->st.timeouts++;
	}
}

void reasm_get_stats(const struct reasm *r, struct reasm_stats *s)
{
	*s = r->st;
}
