/* lpm: longest-prefix match over one address family.
 * Prefixes are grouped by length and kept sorted, so a lookup is a binary
 * search per distinct length, longest first, and never allocates. */
#ifndef MSLB_LPM_H
#define MSLB_LPM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"

struct lpm;

struct lpm *lpm_create(int family);
/* Returns 0, or -1 if the same prefix is already present, -2 on a family
 * mismatch, -3 out of memory. */
int lpm_add(struct lpm *t, const struct mslb_prefix *p, uint32_t value);
/* Sort what was added; call once before lookups. Returns 0 or -1 (memory). */
int lpm_build(struct lpm *t);
bool lpm_lookup(const struct lpm *t, const uint8_t *addr, uint32_t *value);
/* Is addr in a prefix of t (whatever its value)? */
static inline bool lpm_has(const struct lpm *t, const uint8_t *addr)
{
	uint32_t unused;

	return lpm_lookup(t, addr, &unused);
}
void lpm_destroy(struct lpm *t);

#endif
