/* rdr_table: flows to a small value, in a table whose memory is all taken
 * when it is made (the data path looks up without allocating). Open
 * addressing, linear probing, deletion by backward shift (no tombstones),
 * at most half full. */
#ifndef MSLB_RDR_TABLE_H
#define MSLB_RDR_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "rdr_wire.h"

struct rdr_entry {
	struct rdr_flow flow;
	bool used;
	uint8_t owner_version;
	uint16_t peer;		/* index into redirect.peers */
	uint8_t owner[16];
	uint8_t state;		/* the owner's: RDR_OWN_* flags */
	double since;		/* installed (rules), owned (flows) */
	double t1, t2;		/* rules: expires; owned flows: last seen, next refresh */
	uint32_t aux;		/* the user's: an index into its own storage */
};

struct rdr_table;

/* Room for cap entries. NULL when out of memory. */
struct rdr_table *rdr_table_create(unsigned cap, uint64_t seed);
void rdr_table_destroy(struct rdr_table *t);
unsigned rdr_table_count(const struct rdr_table *t);
unsigned rdr_table_cap(const struct rdr_table *t);
struct rdr_entry *rdr_table_find(struct rdr_table *t, const struct rdr_flow *f);
/* The entry of f, made (zeroed but for flow and used) if it was not
 * there; NULL when full. *fresh says which. */
struct rdr_entry *rdr_table_add(struct rdr_table *t, const struct rdr_flow *f, bool *fresh);
void rdr_table_del(struct rdr_table *t, struct rdr_entry *e);
/* Visit up to n slots from where the last walk stopped, calling fn on
 * each entry; fn returns true to delete it. An entry a deletion moves may
 * be seen twice or wait for the next walk. */
void rdr_table_walk(struct rdr_table *t, unsigned n, bool (*fn)(void *ctx, struct rdr_entry *e), void *ctx);
unsigned rdr_table_slots(const struct rdr_table *t);
/* Slot i (< rdr_table_slots) if it holds an entry, else NULL: for walks
 * that change nothing (status, moving entries to a new table). */
struct rdr_entry *rdr_table_slot(struct rdr_table *t, unsigned i);

#endif
