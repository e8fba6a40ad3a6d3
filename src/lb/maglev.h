/* maglev: consistent hashing by lookup table (Eisenbud et al., "Maglev",
 * NSDI 2016). Each backend fills table slots in its own permutation order,
 * in proportion to its weight; removing a backend moves little more than
 * its own share. Backends are identified by name, so the table does not
 * depend on their order in the config. */
#ifndef MSLB_MAGLEV_H
#define MSLB_MAGLEV_H

#include <stdint.h>

#define MAGLEV_SIZE 65537u	/* prime, >> backends: near-perfect balance */
#define MAGLEV_NONE 0xffffu

struct maglev;

struct maglev_backend {
	const char *name;
	unsigned weight;	/* >= 1 */
	uint16_t id;		/* what lookups return */
};

/* size must be prime; n may be 0 (every lookup then gives MAGLEV_NONE). */
struct maglev *maglev_create(unsigned size, const struct maglev_backend *b, unsigned n);
void maglev_destroy(struct maglev *m);

unsigned maglev_size(const struct maglev *m);
uint16_t maglev_slot(const struct maglev *m, unsigned i);

static inline uint16_t maglev_pick(const uint16_t *table, unsigned size, uint64_t hash)
{
	return table[(uint32_t)(((uint64_t)(uint32_t)hash * size) >> 32)];
}

uint16_t maglev_lookup(const struct maglev *m, uint64_t hash);

#endif
