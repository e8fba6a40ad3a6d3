/* lb: classify by destination (front service, back address, or neither),
 * choose the next hop, rewrite. Lookup structures are built once per config
 * snapshot; processing a packet touches only preallocated memory. */
#include "lb.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xxhash.h>

#include "lpm.h"
#include "maglev.h"
#include "pkt.h"
#include "xlate.h"

struct lb_next_hop {
	struct lb_counter c;
	uint64_t hash_hits, port_hits;
};

struct lb_family {
	struct lpm *sources;		/* source prefix -> table entry index */
	unsigned n_services;
	uint8_t (*services)[16];
	unsigned n_back;		/* back addresses of this family */
	uint8_t (*back_addr)[16];
	unsigned *back_index;		/* into cfg->back.addresses */
	struct maglev *hash;		/* over next hops with an address of this family */
	bool any_hash;
};

struct mslb_lb {
	const struct mslb_config *cfg;
	struct lb_family fam[2];	/* [0] IPv4, [1] IPv6 */
	struct lb_next_hop *nh;
	uint64_t *table_hits;
	uint64_t unmatched_hits;
	struct lb_counter *back;
	uint16_t *port_next_hop;	/* MPTCP: server_id -> next hop + 1, 0 for none */
	uint64_t drops[MSLB_DROP_MAX];
};

static unsigned fam_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

static int build_family(struct mslb_lb *lb, int family)
{
	const struct mslb_config *cfg = lb->cfg;
	struct lb_family *f = &lb->fam[fam_index(family)];
	unsigned alen = mslb_addr_size(family), n = 0;
	struct maglev_backend *b = calloc(cfg->front.n_next_hops + 1, sizeof(*b));

	f->sources = lpm_create(family);
	f->services = calloc(cfg->front.n_services + 1, sizeof(*f->services));
	if (!b || !f->sources || !f->services)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_table; i++)
		if (cfg->front.table[i].source.addr.family == family &&
		    lpm_add(f->sources, &cfg->front.table[i].source, i) < 0)
			goto fail;
	if (lpm_build(f->sources) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_services; i++)
		if (cfg->front.services[i].family == family)
			memcpy(f->services[f->n_services++], cfg->front.services[i].bytes, alen);
	f->back_addr = calloc(cfg->back.n_addresses + 1, sizeof(*f->back_addr));
	f->back_index = calloc(cfg->back.n_addresses + 1, sizeof(*f->back_index));
	if (!f->back_addr || !f->back_index)
		goto fail;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++)
		if (cfg->back.addresses[i].address.family == family) {
			memcpy(f->back_addr[f->n_back], cfg->back.addresses[i].address.bytes, alen);
			f->back_index[f->n_back++] = i;
		}
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

		if (family == AF_INET ? nh->has4 : nh->has6)
			b[n++] = (struct maglev_backend){ .name = nh->name, .weight = nh->weight, .id = (uint16_t)i };
	}
	f->any_hash = n > 0;
	f->hash = maglev_create(MAGLEV_SIZE, b, n);
	if (!f->hash)
		goto fail;
	free(b);
	return 0;
fail:
	free(b);
	return -1;
}

struct mslb_lb *lb_create(const struct mslb_config *cfg)
{
	struct mslb_lb *lb = calloc(1, sizeof(*lb));

	if (!lb)
		return NULL;
	lb->cfg = cfg;
	lb->nh = calloc(cfg->front.n_next_hops + 1, sizeof(*lb->nh));
	lb->table_hits = calloc(cfg->front.n_table + 1, sizeof(*lb->table_hits));
	lb->back = calloc(cfg->back.n_addresses + 1, sizeof(*lb->back));
	if (!lb->nh || !lb->table_hits || !lb->back ||
	    build_family(lb, AF_INET) < 0 || build_family(lb, AF_INET6) < 0)
		goto fail;
	if (cfg->front.has_mptcp) {
		lb->port_next_hop = calloc(65536, sizeof(*lb->port_next_hop));
		if (!lb->port_next_hop)
			goto fail;
		for (unsigned i = 0; i < cfg->front.n_next_hops; i++)
			lb->port_next_hop[cfg->front.next_hops[i].server_id] = (uint16_t)(i + 1);
	}
	return lb;
fail:
	lb_destroy(lb);
	return NULL;
}

void lb_destroy(struct mslb_lb *lb)
{
	if (!lb)
		return;
	for (unsigned i = 0; i < 2; i++) {
		lpm_destroy(lb->fam[i].sources);
		free(lb->fam[i].services);
		free(lb->fam[i].back_addr);
		free(lb->fam[i].back_index);
		maglev_destroy(lb->fam[i].hash);
	}
	free(lb->port_next_hop);
	free(lb->nh);
	free(lb->table_hits);
	free(lb->back);
	free(lb);
}

void lb_adopt_counters(struct mslb_lb *lb, const struct mslb_lb *old)
{
	const struct mslb_config *n = lb->cfg, *o = old->cfg;

	for (unsigned i = 0; i < n->front.n_next_hops; i++)
		for (unsigned j = 0; j < o->front.n_next_hops; j++)
			if (!strcmp(n->front.next_hops[i].name, o->front.next_hops[j].name))
				lb->nh[i] = old->nh[j];
	for (unsigned i = 0; i < n->front.n_table; i++) {
		const struct cfg_table_entry *e = &n->front.table[i];

		for (unsigned j = 0; j < o->front.n_table; j++) {
			const struct cfg_table_entry *f = &o->front.table[j];

			if (e->source.len == f->source.len && mslb_addr_eq(&e->source.addr, &f->source.addr) &&
			    !strcmp(n->front.next_hops[e->next_hop].name, o->front.next_hops[f->next_hop].name))
				lb->table_hits[i] = old->table_hits[j];
		}
	}
	if (n->has_front && o->has_front && n->front.unmatched == o->front.unmatched)
		lb->unmatched_hits = old->unmatched_hits;
	for (unsigned i = 0; i < n->back.n_addresses; i++)
		for (unsigned j = 0; j < o->back.n_addresses; j++)
			if (mslb_addr_eq(&n->back.addresses[i].address, &o->back.addresses[j].address) &&
			    mslb_addr_eq(&n->back.addresses[i].service, &o->back.addresses[j].service))
				lb->back[i] = old->back[j];
	memcpy(lb->drops, old->drops, sizeof(lb->drops));
}

/* The next hop for a source that no table entry matches. Hashing only the
 * source address keeps every packet of a client, fragments included, on
 * one next hop, and every front of a multi-stage chain agrees. */
static enum mslb_drop unmatched(struct mslb_lb *lb, const struct lb_family *f,
				const uint8_t *src, unsigned alen, unsigned *nh)
{
	lb->unmatched_hits++;
	switch (lb->cfg->front.unmatched) {
	case UNMATCHED_DROP:
		return MSLB_DROP_NO_ROUTE;
	case UNMATCHED_NEXT_HOP:
		*nh = lb->cfg->front.unmatched_next_hop;
		return MSLB_OK;
	case UNMATCHED_HASH:
		if (!f->any_hash)
			return MSLB_DROP_NO_FAMILY;
		*nh = maglev_lookup(f->hash, XXH3_64bits(src, alen));
		return MSLB_OK;
	}
	return MSLB_DROP_NO_ROUTE;
}

static bool is_service_port(const struct mslb_config *cfg, uint16_t port)
{
	for (unsigned i = 0; i < cfg->front.n_service_ports; i++)
		if (cfg->front.service_ports[i] == port)
			return true;
	return false;
}

/* MPTCP Proposal 1: a service port is balanced by its 5-tuple; any other
 * port is the server_id that server announced in ADD_ADDR, so every join
 * of a connection reaches the server that holds it, without state. */
static enum mslb_drop mptcp_choose(struct mslb_lb *lb, const struct pkt_view *v,
				   const struct lb_family *f, unsigned *nh, bool *by_port)
{
	const uint8_t *l4 = v->data + v->l4off;
	uint16_t dport = (uint16_t)(l4[2] << 8 | l4[3]);
	unsigned alen = pkt_addr_len(v);

	if (is_service_port(lb->cfg, dport)) {
		uint8_t key[2 * 16 + 4];

		if (!f->any_hash)
			return MSLB_DROP_NO_FAMILY;
		memcpy(key, pkt_src(v), alen);
		memcpy(key + alen, pkt_dst(v), alen);
		memcpy(key + 2 * alen, l4, 4);	/* both ports */
		*nh = maglev_lookup(f->hash, XXH3_64bits(key, 2 * alen + 4));
		*by_port = false;
		return MSLB_OK;
	}
	if (!lb->port_next_hop[dport])
		return MSLB_DROP_UNKNOWN_PORT;
	*nh = lb->port_next_hop[dport] - 1u;
	*by_port = true;
	return MSLB_OK;
}

static enum mslb_drop front(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f)
{
	const struct mslb_config *cfg = lb->cfg;
	unsigned alen = pkt_addr_len(v), nh;
	const uint8_t *src = pkt_src(v);
	const struct cfg_next_hop *hop;
	uint32_t entry;
	enum mslb_drop r = MSLB_OK;
	bool mptcp = cfg->front.has_mptcp && v->l4proto == IPPROTO_TCP && v->l4off, by_port = false;

	/* The first fragment would go by its ports, the others by the table:
	 * the pieces would reach different servers. TCP avoids fragmenting
	 * (path MTU discovery), so the rare fragment is dropped and counted. */
	if (cfg->front.has_mptcp && v->l4proto == IPPROTO_TCP && v->fragment)
		return MSLB_DROP_TCP_FRAGMENT;
	if (mptcp) {
		r = mptcp_choose(lb, v, f, &nh, &by_port);
		if (r != MSLB_OK)
			return r;
	} else if (lpm_lookup(f->sources, src, &entry)) {
		lb->table_hits[entry]++;
		nh = cfg->front.table[entry].next_hop;
	} else {
		r = unmatched(lb, f, src, alen, &nh);
		if (r != MSLB_OK)
			return r;
	}
	hop = &cfg->front.next_hops[nh];
	if (v->version == 4 ? !hop->has4 : !hop->has6)
		return MSLB_DROP_NO_FAMILY;
	xlate_set_dst(v, v->version == 4 ? hop->a4.bytes : hop->a6.bytes);
	if (mptcp && by_port)
		lb->nh[nh].port_hits++;
	else if (mptcp)
		lb->nh[nh].hash_hits++;
	lb->nh[nh].c.packets++;
	lb->nh[nh].c.bytes += v->len;
	return MSLB_OK;
}

/* Constant sizes: the compiler compares in one or two loads, no call. */
static inline bool addr_eq(const uint8_t *a, const uint8_t *b, unsigned alen)
{
	return alen == 4 ? !memcmp(a, b, 4) : !memcmp(a, b, 16);
}

/* Back: IP_B -> IP_S. Returns whether the destination was a back address. */
static bool back(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f)
{
	const uint8_t *dst = pkt_dst(v);
	unsigned alen = pkt_addr_len(v);

	for (unsigned k = 0; k < f->n_back; k++) {
		if (addr_eq(dst, f->back_addr[k], alen)) {
			unsigned i = f->back_index[k];

			xlate_set_dst(v, lb->cfg->back.addresses[i].service.bytes);
			lb->back[i].packets++;
			lb->back[i].bytes += v->len;
			return true;
		}
	}
	return false;
}

enum mslb_drop lb_process(struct mslb_lb *lb, uint8_t *buf, uint32_t *len)
{
	return lb_process_offload(lb, buf, len, 0);
}

enum mslb_drop lb_process_offload(struct mslb_lb *lb, uint8_t *buf, uint32_t *len, unsigned partial_off)
{
	struct pkt_view v;
	enum mslb_drop r = pkt_parse(buf, *len, &v);
	const struct lb_family *f;
	const uint8_t *dst;
	unsigned alen;

	if (r == MSLB_OK && partial_off)
		r = pkt_set_partial(&v, partial_off);
	if (r != MSLB_OK)
		goto drop;
	f = &lb->fam[v.version == 4 ? 0 : 1];
	dst = pkt_dst(&v);
	alen = pkt_addr_len(&v);
	for (unsigned i = 0; i < f->n_services; i++)
		if (addr_eq(dst, f->services[i], alen)) {
			r = front(lb, &v, f);
			if (r != MSLB_OK)
				goto drop;
			/* A node that runs both roles may be its own next hop:
			 * the back's rewrite follows at once, since what leaves
			 * the TUN is never routed back into it. */
			back(lb, &v, f);
			*len = v.len;
			return MSLB_OK;
		}
	if (back(lb, &v, f)) {
		*len = v.len;
		return MSLB_OK;
	}
	r = MSLB_DROP_NOT_OURS;
drop:
	lb->drops[r]++;
	return r;
}

const struct mslb_config *lb_config(const struct mslb_lb *lb)
{
	return lb->cfg;
}

struct lb_counter lb_next_hop_counter(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].c;
}

uint64_t lb_table_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->table_hits[i];
}

uint64_t lb_unmatched_hits(const struct mslb_lb *lb)
{
	return lb->unmatched_hits;
}

uint64_t lb_next_hop_hash_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].hash_hits;
}

uint64_t lb_next_hop_port_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].port_hits;
}

struct lb_counter lb_back_counter(const struct mslb_lb *lb, unsigned i)
{
	return lb->back[i];
}

uint64_t lb_drops(const struct mslb_lb *lb, enum mslb_drop d)
{
	return (unsigned)d < MSLB_DROP_MAX ? lb->drops[d] : 0;
}

void lb_count_drop(struct mslb_lb *lb, enum mslb_drop d)
{
	if ((unsigned)d < MSLB_DROP_MAX)
		lb->drops[d]++;
}
