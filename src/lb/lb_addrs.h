/* lb_addrs: the addresses of one kind and family (services, back
 * addresses, their services) and which one a packet's address is. A
 * linear scan cost 11 us a packet with 10,000 of them; a hash table is one
 * probe or two however many there are. Up to LB_ADDRS_SCAN addresses (the
 * usual one to four) are still scanned: no hashing where a compare or two
 * does. Built by lb_addrs_init/lb_addrs_add in lb_create; lookups read
 * only and allocate nothing. */
#ifndef MSLB_LB_ADDRS_H
#define MSLB_LB_ADDRS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define LB_ADDRS_SCAN 4

struct lb_addrs {
	unsigned n;
	uint8_t (*a)[16];	/* in config order; the index is the slot */
	uint32_t mask;		/* hash slots - 1 */
	uint32_t *slot;		/* index + 1, 0 for none; NULL while it could only be scanned */
};

/* Constant sizes: the compiler compares in one or two loads, no call. */
static inline bool lb_addr_eq(const uint8_t *a, const uint8_t *b, unsigned alen)
{
	return alen == 4 ? !memcmp(a, b, 4) : !memcmp(a, b, 16);
}

/* One 64x64->128 multiply folded (as wyhash does): every input bit
 * reaches the low bits the mask keeps. */
static inline uint32_t lb_addrs_hash(const uint8_t *a, unsigned alen)
{
	uint64_t x, y;
	unsigned __int128 m;

	if (alen == 4) {
		uint32_t w;

		memcpy(&w, a, 4);
		x = w;
		y = 0;
	} else {
		memcpy(&x, a, 8);
		memcpy(&y, a + 8, 8);
	}
	m = (unsigned __int128)(x ^ 0xa0761d6478bd642fULL) * (y ^ 0xe7037ed1a0b428dbULL);
	return (uint32_t)((uint64_t)m ^ (uint64_t)(m >> 64));
}

/* Past LB_ADDRS_SCAN addresses (lb_addrs.c): out of line, so that the
 * scan of the usual few keeps its registers. */
int lb_addrs_probe(const struct lb_addrs *s, const uint8_t *a, unsigned alen);

/* The index of address a (alen bytes) in s, or -1. */
static inline int lb_addrs_find(const struct lb_addrs *s, const uint8_t *a, unsigned alen)
{
	if (__builtin_expect(s->n > LB_ADDRS_SCAN, 0))
		return lb_addrs_probe(s, a, alen);
	for (unsigned i = 0; i < s->n; i++)
		if (lb_addr_eq(s->a[i], a, alen))
			return (int)i;
	return -1;
}

static inline bool lb_addrs_has(const struct lb_addrs *s, const uint8_t *a, unsigned alen)
{
	return lb_addrs_find(s, a, alen) >= 0;
}

/* Room for up to max addresses. 0, or -1 out of memory. */
int lb_addrs_init(struct lb_addrs *s, unsigned max);
/* Append a (not yet in s: see lb_addrs_find) as index s->n. */
void lb_addrs_add(struct lb_addrs *s, const uint8_t *a, unsigned alen);
void lb_addrs_free(struct lb_addrs *s);

#endif
