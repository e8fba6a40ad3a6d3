/* lb_addrs: building the address sets of lb_addrs.h: a table at most half
 * full (linear probing, so a miss ends at the first empty slot soon). */
#include "lb_addrs.h"

#include <stdlib.h>

int lb_addrs_init(struct lb_addrs *s, unsigned max)
{
	uint32_t slots = 8;

	memset(s, 0, sizeof(*s));
	s->a = calloc((size_t)max + 1, sizeof(*s->a));
	if (!s->a)
		return -1;
	if (max <= LB_ADDRS_SCAN)
		return 0;
	while (slots < 2 * (uint64_t)max)
		slots *= 2;
	s->slot = calloc(slots, sizeof(*s->slot));
	if (!s->slot) {
		lb_addrs_free(s);
		return -1;
	}
	s->mask = slots - 1;
	return 0;
}

void lb_addrs_add(struct lb_addrs *s, const uint8_t *a, unsigned alen)
{
	memcpy(s->a[s->n], a, alen);
	if (s->slot) {
		uint32_t h = lb_addrs_hash(a, alen) & s->mask;

		while (s->slot[h])
			h = (h + 1) & s->mask;
		s->slot[h] = s->n + 1;
	}
	s->n++;
}

int lb_addrs_probe(const struct lb_addrs *s, const uint8_t *a, unsigned alen)
{
	for (uint32_t h = lb_addrs_hash(a, alen) & s->mask;; h = (h + 1) & s->mask) {
		uint32_t v = s->slot[h];

		if (!v)
			return -1;
		if (lb_addr_eq(s->a[v - 1], a, alen))
			return (int)(v - 1);
	}
}

void lb_addrs_free(struct lb_addrs *s)
{
	free(s->a);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
