/* lpm: prefixes kept sorted by (length desc, key); a lookup masks the
 * address to each distinct length in turn and binary-searches that run. */
#include "lpm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct lpm_entry {
	uint8_t key[16];
	uint8_t len;
	uint32_t value;
};

struct lpm_run {
	uint8_t len;
	unsigned start, end;
};

struct lpm {
	int family;
	unsigned size;		/* address bytes */
	unsigned n, cap, n_runs;
	struct lpm_entry *e;
	struct lpm_run runs[129];
};

struct lpm *lpm_create(int family)
{
	struct lpm *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->family = family;
	t->size = family == AF_INET ? 4 : 16;
	return t;
}

int lpm_add(struct lpm *t, const struct mslb_prefix *p, uint32_t value)
{
	if (p->addr.family != t->family)
		return -2;
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].len == p->len && !memcmp(t->e[i].key, p->addr.bytes, t->size))
			return -1;
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		struct lpm_entry *e = realloc(t->e, cap * sizeof(*e));

		if (!e)
			return -3;
		t->e = e;
		t->cap = cap;
	}
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
	memcpy(t->e[t->n].key, p->addr.bytes, t->size);
	t->e[t->n].len = p->len;
	t->e[t->n].value = value;
	t->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct lpm_entry *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return memcmp(x->key, y->key, 16);
}

int lpm_build(struct lpm *t)
{
	if (t->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(t->e, t->n, sizeof(*t->e), cmp_entry);
	t->n_runs = 0;
	for (unsigned i = 0; i < t->n; i++) {
		if (!t->n_runs || t->runs[t->n_runs - 1].len != t->e[i].len) {
			t->runs[t->n_runs].len = t->e[i].len;
			t->runs[t->n_runs].start = i;
			t->n_runs++;
		}
		t->runs[t->n_runs - 1].end = i + 1;
	}
	return 0;
}

static void mask(uint8_t *out, const uint8_t *in, unsigned size, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	memset(out, 0, 16);
	memcpy(out, in, full);
	if (rest && full < size)
		out[full] = in[full] & (uint8_t)(0xff << (8 - rest));
}

bool lpm_lookup(const struct lpm *t, const uint8_t *addr, uint32_t *value)
{
	uint8_t key[16];

	for (unsigned r = 0; r < t->n_runs; r++) {
		unsigned lo = t->runs[r].start, hi = t->runs[r].end;

		mask(key, addr, t->size, t->runs[r].len);
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			int c = memcmp(t->e[mid].key, key, 16);

			if (!c) {
				*value = t->e[mid].value;
				return true;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

void lpm_destroy(struct lpm *t)
{
	if (t) {
		free(t->e);
		free(t);
	}
}
