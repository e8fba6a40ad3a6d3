/* maglev: table population as in the Maglev paper (section 3.4), with
 * weights as extra turns per round. */
#include "maglev.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SEED_OFFSET 0x6d736c62u	/* any two distinct constants */
#define SEED_SKIP 0x6d616776u

struct maglev {
	unsigned size;
	uint16_t *table;
};

struct perm {
	uint64_t offset, skip, next;
};

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct maglev_backend *)x)->name, ((const struct maglev_backend *)y)->name);
}

struct maglev *maglev_create(unsigned size, const struct maglev_backend *backends, unsigned n)
{
	struct maglev *m = calloc(1, sizeof(*m));
	struct perm *p = calloc(n + 1, sizeof(*p));
	struct maglev_backend *b = calloc(n + 1, sizeof(*b));
	unsigned filled = 0;

	if (!m || !p || !b || !(m->table = malloc(size * sizeof(*m->table)))) {
		free(p);
		free(b);
		maglev_destroy(m);
		return NULL;
	}
	/* Turns are taken in name order: the table must not change when the
	 * config lists the same next hops in another order. */
	if (n)
		memcpy(b, backends, n * sizeof(*b));
	if (n > 1)
		qsort(b, n, sizeof(*b), by_name);
	m->size = size;
	memset(m->table, 0xff, size * sizeof(*m->table));
	for (unsigned i = 0; i < n; i++) {
		size_t len = strlen(b[i].name);

		p[i].offset = XXH3_64bits_withSeed(b[i].name, len, SEED_OFFSET) % size;
		p[i].skip = XXH3_64bits_withSeed(b[i].name, len, SEED_SKIP) % (size - 1) + 1;
	}
	while (n && filled < size) {
		for (unsigned i = 0; i < n && filled < size; i++) {
			for (unsigned w = 0; w < (b[i].weight ? b[i].weight : 1) && filled < size; w++) {
				uint64_t c;

				/* size is prime and skip < size, so this visits every
				 * slot within size steps: the loop ends. */
				do
					c = (p[i].offset + p[i].next++ * p[i].skip) % size;
				while (m->table[c] != MAGLEV_NONE);
				m->table[c] = b[i].id;
				filled++;
			}
		}
	}
	free(p);
	free(b);
	return m;
}

void maglev_destroy(struct maglev *m)
{
	if (m) {
		free(m->table);
		free(m);
	}
}

unsigned maglev_size(const struct maglev *m)
{
	return m->size;
}

uint16_t maglev_slot(const struct maglev *m, unsigned i)
{
	return i < m->size ? m->table[i] : MAGLEV_NONE;
}

uint16_t maglev_lookup(const struct maglev *m, uint64_t hash)
{
	return maglev_pick(m->table, m->size, hash);
}
