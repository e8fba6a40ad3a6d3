/* lpm: prefixes kept sorted by (length desc, key); a lookup masks the
 * address to each distinct length in turn and binary-searches that run. */
#include "lpm.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/hset.h"

/* Keys as two host-order 64-bit halves of the big-endian address (an IPv4
 * address fills the top 32 bits of hi): masking is a shift and comparing
 * two integers, with no byte loops on the lookup path. */
struct lpm_entry {
	uint64_t hi, lo;
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
	/* While adding: the entries by prefix, so that refusing a duplicate
	 * is no scan of all of them (quadratic for a big table). Dropped by
	 * lpm_build, whose sort moves the entries. */
	struct hset added;
	bool indexed;
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

static void load(const uint8_t *a, unsigned size, uint64_t *hi, uint64_t *lo)
{
	if (size == 4) {
		uint32_t v;

		memcpy(&v, a, 4);
		*hi = (uint64_t)be32toh(v) << 32;
		*lo = 0;
	} else {
		memcpy(hi, a, 8);
		memcpy(lo, a + 8, 8);
		*hi = be64toh(*hi);
		*lo = be64toh(*lo);
	}
}

static void mask(uint64_t *hi, uint64_t *lo, unsigned len)
{
	if (len == 0) {
		*hi = *lo = 0;
	} else if (len <= 64) {
		*hi &= ~0ULL << (64 - len);
		*lo = 0;
	} else if (len < 128) {
		*lo &= ~0ULL << (128 - len);
	}
}

static uint32_t key_hash(uint64_t hi, uint64_t lo, uint8_t len)
{
	uint64_t k[3] = { hi, lo, len };

	return hset_hash(k, sizeof(k));
}

static bool key_eq(const void *ctx, uint32_t index, const void *key)
{
	const struct lpm_entry *e = &((const struct lpm *)ctx)->e[index], *k = key;

	return e->len == k->len && e->hi == k->hi && e->lo == k->lo;
}

/* The index of what was added, built again after lpm_build. */
static int index_entries(struct lpm *t)
{
	if (t->indexed)
		return 0;
	if (hset_init(&t->added, t->n) < 0)
		return -1;
	for (unsigned i = 0; i < t->n; i++)
		if (hset_add(&t->added, key_hash(t->e[i].hi, t->e[i].lo, t->e[i].len), i) < 0) {
			hset_free(&t->added);
			return -1;
		}
	t->indexed = true;
	return 0;
}

int lpm_add(struct lpm *t, const struct mslb_prefix *p, uint32_t value)
{
	struct lpm_entry k = { .len = p->len };
	uint32_t h;

	if (p->addr.family != t->family)
		return -2;
	load(p->addr.bytes, t->size, &k.hi, &k.lo);
	mask(&k.hi, &k.lo, p->len);
	if (index_entries(t) < 0)
		return -3;
	h = key_hash(k.hi, k.lo, k.len);
	if (hset_find(&t->added, h, &k, key_eq, t))
		return -1;
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		struct lpm_entry *e = realloc(t->e, cap * sizeof(*e));

		if (!e)
			return -3;
		t->e = e;
		t->cap = cap;
	}
	if (hset_add(&t->added, h, t->n) < 0)
		return -3;
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
	t->e[t->n].hi = k.hi;
	t->e[t->n].lo = k.lo;
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
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int lpm_build(struct lpm *t)
{
	hset_free(&t->added);
	t->indexed = false;
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

bool lpm_lookup(const struct lpm *t, const uint8_t *addr, uint32_t *value)
{
	uint64_t hi, lo;

	load(addr, t->size, &hi, &lo);
	for (unsigned r = 0; r < t->n_runs; r++) {
		unsigned lo_i = t->runs[r].start, hi_i = t->runs[r].end;
		uint64_t kh = hi, kl = lo;

		mask(&kh, &kl, t->runs[r].len);
		while (lo_i < hi_i) {
			unsigned mid = lo_i + (hi_i - lo_i) / 2;
			const struct lpm_entry *e = &t->e[mid];

			if (e->hi == kh && e->lo == kl) {
				*value = e->value;
				return true;
			}
			if (e->hi < kh || (e->hi == kh && e->lo < kl))
				lo_i = mid + 1;
			else
				hi_i = mid;
		}
	}
	return false;
}

void lpm_destroy(struct lpm *t)
{
	if (t) {
		hset_free(&t->added);
		free(t->e);
		free(t);
	}
}
