/* rdr: the redirection protocol between backs (draft-olteanu-mptcp-
 * loadbalance-00 section 3.4). A back that owns a flow another back would
 * get by 5-tuple hashing installs a rule there ("packets of this flow are
 * mine"), refreshes it while the flow lives and deletes it when the flow
 * ends; the other back sends such packets IP-in-IP to the owner.
 *
 * Pure protocol state: datagrams come in through rdr_input, go out through
 * the send callback, time comes from the caller. Nothing here blocks. */
#ifndef MSLB_RDR_H
#define MSLB_RDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rdr_table.h"
#include "rdr_wire.h"
#include "base/addr.h"
#include "config/config.h"

/* Why a received message was refused, in the order the checks run. */
enum rdr_refuse {
	RDR_REF_UNKNOWN_PEER,	/* from an address that is no peer */
	RDR_REF_RATE,		/* over the peer's or the global rate, before the MAC */
	RDR_REF_MALFORMED,
	RDR_REF_BAD_MAC,	/* wrong MAC, or a key id not in the key file */
	RDR_REF_REPLAY,		/* an epoch older than the peer's, or a sequence seen */
	RDR_REF_CAP,		/* rules refused: the peer's or the total cap */
	RDR_REF_OWNER,		/* rules refused: the owner is not the peer's tunnel address */
	RDR_REF_MAX
};

/* The owner's view of a flow it installed elsewhere (rdr_entry.state). */
#define RDR_OWN_FIN_IN 0x01	/* FIN from the client */
#define RDR_OWN_FIN_OUT 0x02	/* FIN from the server */
#define RDR_OWN_RST 0x04
#define RDR_OWN_ACKED 0x08	/* the peer acknowledged the install */
#define RDR_OWN_LIVE 0x10	/* a packet other than a SYN went by */

struct rdr_counts {
	uint64_t sent, received, acked, retransmitted, lost;
	uint64_t redirected, redirected_bytes;	/* packets sent to the owner */
	uint64_t refused[RDR_REF_MAX];
	uint64_t refused_by_peer;		/* our records it refused (cap, owner) */
	unsigned rules, owned;			/* now */
};

struct rdr_stats {
	struct rdr_counts all;
	uint64_t installed, expired, deleted;	/* rules here */
	uint64_t queue_full;			/* messages not sent: too many unacknowledged */
	double oldest;				/* age of the oldest rule, seconds (0: none) */
	uint64_t epoch;
};

typedef void (*rdr_send_fn)(void *ctx, const struct mslb_addr *to, const uint8_t *buf, size_t len);

struct rdr;

/* From cfg's redirect group (cfg->has_redirect); its tables take their
 * whole memory now. NULL when out of memory. */
struct rdr *rdr_create(const struct mslb_config *cfg, double now);
void rdr_destroy(struct rdr *r);
/* A reloaded snapshot: peers are matched by name (their rules, owned
 * flows and replay windows stay), the others' go. -1 when out of memory
 * (r keeps running the old one). */
int rdr_reconfigure(struct rdr *r, const struct mslb_config *cfg);
void rdr_set_send(struct rdr *r, rdr_send_fn fn, void *ctx);

/* A datagram from address from. */
void rdr_input(struct rdr *r, const struct mslb_addr *from, const uint8_t *buf, size_t len, double now);
/* Send what is queued (after each batch of packets, so that a new rule
 * leaves at once). */
void rdr_flush(struct rdr *r, double now);
/* Every RDR_TICK seconds: retransmit, refresh, expire. */
#define RDR_TICK 0.1
void rdr_tick(struct rdr *r, double now);

/* The data path. A live rule for flow f, or NULL. */
static inline bool rdr_any_rules(const struct rdr *r);
const struct rdr_entry *rdr_rule(struct rdr *r, const struct rdr_flow *f, double now);
/* A packet of len bytes was sent to the owner of rule e. */
void rdr_count_redirect(struct rdr *r, const struct rdr_entry *e, uint32_t len);
/* A packet of an owned flow went by: from the client or from the server,
 * with its TCP flags (0 for UDP). */
static inline bool rdr_any_owned(const struct rdr *r);
void rdr_seen(struct rdr *r, const struct rdr_flow *f, uint8_t tcp_flags, bool from_client, double now);

/* This node owns flow f: install a rule at peer i. 0, -1 when the owned
 * table is full, -2 when this back has no address the peer could send
 * the flow to. */
int rdr_own(struct rdr *r, unsigned peer, const struct rdr_flow *f, double now);
/* Stop owning f: delete its rule. -1 when it was not owned. */
int rdr_disown(struct rdr *r, const struct rdr_flow *f, double now);
/* The index of the peer called name, or -1. */
int rdr_peer_index(const struct rdr *r, const char *name);

void rdr_get_stats(const struct rdr *r, struct rdr_stats *s, double now);
/* Peer i's counters (indexed like the snapshot's peers). */
void rdr_get_peer(const struct rdr *r, unsigned i, struct rdr_counts *c);
const char *rdr_refuse_name(enum rdr_refuse e);
/* What the protocol runs on: its own copy of the redirect group (peers,
 * keys, limits) and the back addresses, which may lag the daemon's
 * snapshot when a reload could not get memory. Status reads peers here. */
const struct mslb_config *rdr_config(const struct rdr *r);

/* Inline for the data path: one load when nothing is redirected. */
struct rdr_hot {
	unsigned rules, owned;
};

static inline bool rdr_any_rules(const struct rdr *r)
{
	return r && ((const struct rdr_hot *)r)->rules;
}

static inline bool rdr_any_owned(const struct rdr *r)
{
	return r && ((const struct rdr_hot *)r)->owned;
}

#endif
