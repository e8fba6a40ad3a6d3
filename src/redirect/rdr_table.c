/* rdr_table: a fixed-size flow table (see rdr_table.h). */
#include "rdr_table.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct rdr_table {
	struct rdr_entry *slot;
	uint32_t mask;		/* slots - 1, a power of two */
	unsigned n, cap, cursor;
	uint64_t seed;		/* random: no one outside picks the collisions */
};

struct rdr_table *rdr_table_create(unsigned cap, uint64_t seed)
{
	struct rdr_table *t = calloc(1, sizeof(*t));
	uint32_t slots = 16;

	if (!t)
		return NULL;
	while (slots < 2ull * cap)
		slots <<= 1;
	t->slot = calloc(slots, sizeof(*t->slot));
	if (!t->slot) {
		free(t);
		return NULL;
	}
	t->mask = slots - 1;
	t->cap = cap;
	t->seed = seed;
	return t;
}

void rdr_table_destroy(struct rdr_table *t)
{
	if (t) {
		free(t->slot);
		free(t);
	}
}

unsigned rdr_table_count(const struct rdr_table *t)
{
	return t->n;
}

unsigned rdr_table_cap(const struct rdr_table *t)
{
	return t->cap;
}

unsigned rdr_table_slots(const struct rdr_table *t)
{
	return t->mask + 1;
}

static uint32_t home(const struct rdr_table *t, const struct rdr_flow *f)
{
	return (uint32_t)XXH3_64bits_withSeed(f, sizeof(*f), t->seed) & t->mask;
}

struct rdr_entry *rdr_table_find(struct rdr_table *t, const struct rdr_flow *f)
{
	for (uint32_t i = home(t, f);; i = (i + 1) & t->mask) {
		struct rdr_entry *e = &t->slot[i];

		if (!e->used)
			return NULL;
		if (!memcmp(&e->flow, f, sizeof(*f)))
			return e;
	}
}

struct rdr_entry *rdr_table_add(struct rdr_table *t, const struct rdr_flow *f, bool *fresh)
{
	uint32_t i = home(t, f);

	for (;; i = (i + 1) & t->mask) {
		struct rdr_entry *e = &t->slot[i];

		if (!e->used)
			break;
		if (!memcmp(&e->flow, f, sizeof(*f))) {
			*fresh = false;
			return e;
		}
	}
	if (t->n >= t->cap)
		return NULL;
	t->n++;
	memset(&t->slot[i], 0, sizeof(t->slot[i]));
	t->slot[i].flow = *f;
	t->slot[i].used = true;
	*fresh = true;
	return &t->slot[i];
}

void rdr_table_del(struct rdr_table *t, struct rdr_entry *e)
{
	uint32_t hole = (uint32_t)(e - t->slot);

	/* Backward shift: move up each later entry of the run that may live
	 * in the hole (its home is not between the hole and itself). */
	for (uint32_t j = (hole + 1) & t->mask; t->slot[j].used; j = (j + 1) & t->mask) {
		uint32_t h = home(t, &t->slot[j].flow);

		if (((j - h) & t->mask) >= ((j - hole) & t->mask)) {
			t->slot[hole] = t->slot[j];
			hole = j;
		}
	}
	memset(&t->slot[hole], 0, sizeof(t->slot[hole]));
	t->n--;
}

void rdr_table_walk(struct rdr_table *t, unsigned n, bool (*fn)(void *ctx, struct rdr_entry *e), void *ctx)
{
	for (unsigned k = 0; k < n && k <= t->mask && t->n; k++) {
		struct rdr_entry *e = &t->slot[t->cursor];

		if (e->used && fn(ctx, e)) {
			rdr_table_del(t, e);
			continue;	/* the slot may now hold a moved entry */
		}
		t->cursor = (t->cursor + 1) & t->mask;
	}
}

struct rdr_entry *rdr_table_slot(struct rdr_table *t, unsigned i)
{
	return i <= t->mask && t->slot[i].used ? &t->slot[i] : NULL;
}
