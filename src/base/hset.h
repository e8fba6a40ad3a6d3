/* hset: an open-addressing hash index over an array the caller owns. It
 * stores element indices with their hashes, and asks the caller whether a
 * stored element equals a key. Duplicate checks and matches between two
 * lists (config, reload, host routes) are then O(n) instead of comparing
 * every pair, which made a file of 100,000 table entries take 30 s.
 * Not for the packet path: the lookup calls back through a pointer. */
#ifndef MSLB_HSET_H
#define MSLB_HSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hset_slot {
	uint32_t hash;
	uint32_t index;		/* HSET_EMPTY: a free slot */
};

#define HSET_EMPTY UINT32_MAX

struct hset {
	uint32_t mask;		/* slots - 1, a power of two; 0 before hset_init */
	uint32_t n;
	struct hset_slot *slot;
};

/* Is element index of the caller's array equal to key? */
typedef bool (*hset_eq_fn)(const void *ctx, uint32_t index, const void *key);

/* Room for expect elements without growing. 0, or -1 out of memory. */
int hset_init(struct hset *s, uint32_t expect);
void hset_free(struct hset *s);
void hset_clear(struct hset *s);
/* A 32-bit hash of len bytes (any alignment). */
uint32_t hset_hash(const void *key, size_t len);
/* The stored index slot of the element equal to key (hash h), or NULL.
 * Writing the slot replaces the element it points at (e.g. by a later
 * equal one). */
uint32_t *hset_find(const struct hset *s, uint32_t h, const void *key, hset_eq_fn eq, const void *ctx);
/* Add index under hash h; callers keep one element per key (find
 * first). 0, or -1 out of memory. */
int hset_add(struct hset *s, uint32_t h, uint32_t index);

#endif
