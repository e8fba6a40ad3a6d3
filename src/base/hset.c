/* hset: linear probing, at most half full, hashes kept beside the indices
 * so that growing never calls back and a probe compares only elements
 * whose full hash matches. */
#include "hset.h"

#include <stdlib.h>
#include <string.h>

static int alloc_slots(struct hset *s, uint32_t slots)
{
	struct hset_slot *v = malloc((size_t)slots * sizeof(*v));

	if (!v)
		return -1;
	for (uint32_t i = 0; i < slots; i++)
		v[i].index = HSET_EMPTY;
	s->slot = v;
	s->mask = slots - 1;
	return 0;
}

int hset_init(struct hset *s, uint32_t expect)
{
	uint32_t slots = 16;

	memset(s, 0, sizeof(*s));
	while (slots / 2 < expect) {
		if (slots >= 1u << 31)
			return -1;
		slots *= 2;
	}
	return alloc_slots(s, slots);
}

void hset_free(struct hset *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

void hset_clear(struct hset *s)
{
	for (uint32_t i = 0; s->slot && i <= s->mask; i++)
		s->slot[i].index = HSET_EMPTY;
	s->n = 0;
}

static uint64_t mix(uint64_t x)
{
	/* The finalizer of MurmurHash3. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint32_t hset_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = mix(h ^ w);
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = mix(h ^ w ^ 0x5bd1e995ULL);
	}
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t *hset_find(const struct hset *s, uint32_t h, const void *key, hset_eq_fn eq, const void *ctx)
{
	if (!s->slot)
		return NULL;
	for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
		struct hset_slot *e = &s->slot[i];

		if (e->index == HSET_EMPTY)
			return NULL;
		if (e->hash == h && eq(ctx, e->index, key))
			return &e->index;
	}
}

static void put(struct hset *s, uint32_t h, uint32_t index)
{
	uint32_t i = h & s->mask;

	while (s->slot[i].index != HSET_EMPTY)
		i = (i + 1) & s->mask;
	s->slot[i].hash = h;
	s->slot[i].index = index;
	s->n++;
}

int hset_add(struct hset *s, uint32_t h, uint32_t index)
{
	if (!s->slot && hset_init(s, 8) < 0)
		return -1;
	if (s->n + 1 > (s->mask + 1) / 2) {
		struct hset old = *s;

		if (old.mask >= 1u << 30 || alloc_slots(s, 2 * (old.mask + 1)) < 0) {
			*s = old;
			return -1;
		}
		s->n = 0;
		for (uint32_t i = 0; i <= old.mask; i++)
			if (old.slot[i].index != HSET_EMPTY)
				put(s, old.slot[i].hash, old.slot[i].index);
		free(old.slot);
	}
	put(s, h, index);
	return 0;
}
