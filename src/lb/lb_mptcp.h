/* lb_mptcp: MPTCP Proposal 1 at the front (draft-olteanu-mptcp-loadbalance-00
 * section 2): the server_id in the port keeps a connection's subflows on
 * one server without per-connection state. Private to the lb files; inline,
 * as it runs for every MPTCP packet a front balances. */
#ifndef MSLB_LB_MPTCP_H
#define MSLB_LB_MPTCP_H

#include <string.h>
#include <xxhash.h>

#include "lb_role.h"
#include "maglev.h"

/* The 5-tuple hash of flow k (TCP). */
static inline uint64_t lb_mptcp_flow_hash(const struct flow_key *k, unsigned alen)
{
	uint8_t key[2 * 16 + 4];

	/* Constant sizes: copied inline, no call. */
	if (alen == 4) {
		memcpy(key, k->client, 4);
		memcpy(key + 4, k->service, 4);
	} else {
		memcpy(key, k->client, 16);
		memcpy(key + 16, k->service, 16);
	}
	memcpy(key + 2 * alen, k->ports, 4);
	return XXH3_64bits(key, 2 * alen + 4);
}

/* The 5-tuple hash's next hop of flow k (TCP), counted. */
static inline unsigned lb_mptcp_hash(struct mslb_lb *lb, const struct flow_key *k, unsigned alen,
				     const struct lb_family *f)
{
	unsigned nh = maglev_lookup(f->hash, lb_mptcp_flow_hash(k, alen));

	lb->nh[nh].hash_hits++;
	return nh;
}

/* MPTCP Proposal 1: a service port is balanced by its 5-tuple; any other
 * port is the server_id that server announced in ADD_ADDR, so every join
 * of a connection reaches the server that holds it, without state. */
static inline enum mslb_drop lb_mptcp_choose(struct mslb_lb *lb, const struct flow_key *k, unsigned alen,
					      const struct lb_family *f, unsigned *nh)
{
	uint16_t dport = (uint16_t)(k->ports[2] << 8 | k->ports[3]);
	unsigned to = lb->port_next_hop[dport];

	if (to == LB_PORT_SERVICE) {
		if (!f->any_hash)
			return lb_no_hash(f);
		*nh = lb_mptcp_hash(lb, k, alen, f);
		return MSLB_OK;
	}
	if (!to)
		return MSLB_DROP_UNKNOWN_PORT;
	*nh = to - 1u;
	lb->nh[*nh].port_hits++;
	return MSLB_OK;
}

#endif
