/* config_dup: the "listed twice" checks without comparing every pair: a
 * hash index finds the first earlier equal item, and a chain through the
 * items gives the others in file order, so each check still reports every
 * earlier duplicate, in the order and on the line it did before. */
#include "config_parse.h"

#include <stdlib.h>
#include <string.h>

int config_dup_init(struct config_dup *d, unsigned n)
{
	memset(d, 0, sizeof(*d));
	d->next = malloc(((size_t)n + 1) * sizeof(*d->next));
	d->last = malloc(((size_t)n + 1) * sizeof(*d->last));
	if (!d->next || !d->last || hset_init(&d->set, n) < 0) {
		config_dup_free(d);
		return -1;
	}
	d->cap = n;
	return 0;
}

void config_dup_free(struct config_dup *d)
{
	hset_free(&d->set);
	free(d->next);
	free(d->last);
	memset(d, 0, sizeof(*d));
}

uint32_t config_dup_add(struct config_dup *d, uint32_t h, const void *key, hset_eq_fn eq, const void *ctx,
			uint32_t index)
{
	uint32_t *first;

	if (index >= d->cap)	/* not initialised (out of memory): no index */
		return HSET_EMPTY;
	first = hset_find(&d->set, h, key, eq, ctx);
	d->next[index] = HSET_EMPTY;
	if (!first) {
		d->last[index] = index;
		/* Sized for cap items by config_dup_init: never grows. */
		(void)hset_add(&d->set, h, index);
		return HSET_EMPTY;
	}
	d->next[d->last[*first]] = index;
	d->last[*first] = index;
	return *first;
}

uint32_t config_dup_first(const struct config_dup *d, uint32_t h, const void *key, hset_eq_fn eq,
			  const void *ctx)
{
	uint32_t *first = hset_find(&d->set, h, key, eq, ctx);

	return first ? *first : HSET_EMPTY;
}

bool config_errors_full(const struct config_ctx *c)
{
	return c->errs->n >= CONFIG_MAX_ERRORS;
}

uint32_t config_addr_hash(const struct mslb_addr *a)
{
	return hset_hash(a, sizeof(*a));
}
