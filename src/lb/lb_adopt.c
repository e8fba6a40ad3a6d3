/* lb_adopt: a reload carries the counters of the old snapshot over to the
 * new one. Matching every new table entry with every old one took hours
 * for 100,000 entries; a hash index over the old snapshot's items makes
 * it one look-up each. Where the old snapshot had equal items (it never
 * does: config refuses them), the last one counts, as before. */
#include "lb.h"

#include <string.h>

#include "lb_state.h"
#include "base/hset.h"

static uint32_t name_hash(const char *name)
{
	return hset_hash(name, strlen(name));
}

static bool nh_eq(const void *ctx, uint32_t j, const void *key)
{
	return !strcmp(((const struct mslb_config *)ctx)->front.next_hops[j].name, key);
}

static uint32_t entry_hash(const struct mslb_config *c, const struct cfg_table_entry *e)
{
	return hset_hash(&e->source, sizeof(e->source)) ^ name_hash(c->front.next_hops[e->next_hop].name);
}

/* Key: an entry of the new snapshot; index: an entry of the old one. */
struct entry_key {
	const struct mslb_config *cfg;
	const struct cfg_table_entry *e;
};

static bool entry_eq(const void *ctx, uint32_t j, const void *key)
{
	const struct mslb_config *o = ctx;
	const struct entry_key *k = key;
	const struct cfg_table_entry *f = &o->front.table[j];

	return k->e->source.len == f->source.len && mslb_addr_eq(&k->e->source.addr, &f->source.addr) &&
	       !strcmp(k->cfg->front.next_hops[k->e->next_hop].name, o->front.next_hops[f->next_hop].name);
}

static uint32_t back_hash(const struct cfg_back_address *b)
{
	return hset_hash(&b->address, sizeof(b->address)) * 31 + hset_hash(&b->service, sizeof(b->service));
}

static bool back_eq(const void *ctx, uint32_t j, const void *key)
{
	const struct cfg_back_address *o = &((const struct mslb_config *)ctx)->back.addresses[j], *b = key;

	return mslb_addr_eq(&b->address, &o->address) && mslb_addr_eq(&b->service, &o->service);
}

/* Index old's items (the last of equal ones); -1 out of memory. */
static int index_old(struct hset *s, unsigned n, uint32_t (*hash)(const struct mslb_config *, unsigned),
		     const void *(*key)(const struct mslb_config *, unsigned, void *), hset_eq_fn eq,
		     const struct mslb_config *o)
{
	if (hset_init(s, n) < 0)
		return -1;
	for (unsigned j = 0; j < n; j++) {
		struct entry_key ek;
		uint32_t h = hash(o, j), *at = hset_find(s, h, key(o, j, &ek), eq, o);

		if (at)
			*at = j;
		else if (hset_add(s, h, j) < 0)
			return -1;
	}
	return 0;
}

static uint32_t old_nh_hash(const struct mslb_config *o, unsigned j)
{
	return name_hash(o->front.next_hops[j].name);
}

static const void *old_nh_key(const struct mslb_config *o, unsigned j, void *buf)
{
	return o->front.next_hops[j].name;
}

static uint32_t old_entry_hash(const struct mslb_config *o, unsigned j)
{
	return entry_hash(o, &o->front.table[j]);
}

static const void *old_entry_key(const struct mslb_config *o, unsigned j, void *buf)
{
	struct entry_key *k = buf;

	k->cfg = o;
	k->e = &o->front.table[j];
	return k;
}

static uint32_t old_back_hash(const struct mslb_config *o, unsigned j)
{
	return back_hash(&o->back.addresses[j]);
}

static const void *old_back_key(const struct mslb_config *o, unsigned j, void *buf)
{
	return &o->back.addresses[j];
}

static void adopt_next_hops(struct mslb_lb *lb, const struct mslb_lb *old, const struct hset *ix)
{
	const struct mslb_config *n = lb->cfg, *o = old->cfg;

	for (unsigned i = 0; i < n->front.n_next_hops; i++) {
		const struct cfg_next_hop *a = &n->front.next_hops[i], *b;
		const uint32_t *at = hset_find(ix, name_hash(a->name), a->name, nh_eq, o);
		struct lb_tunnel keep[2] = { lb->nh[i].tun[0], lb->nh[i].tun[1] };
		bool usable = lb->nh[i].usable;	/* the new tables were built with it */

		if (!at)
			continue;
		b = &o->front.next_hops[*at];
		lb->nh[i] = old->nh[*at];
		lb->nh[i].usable = usable;
		/* A probe's socket may still send (its reset) after the swap. */
		if (old->probe[*at].on && !lb->probe[i].on) {
			lb->probe[i] = old->probe[*at];
			lb->n_probes++;
		}
		/* Counters carry over; the path MTU is the new config's, what
		 * ICMP taught us stays if the address did not change. */
		for (int f = 0; f < 2; f++) {
			bool same = f ? a->has6 && b->has6 && mslb_addr_eq(&a->a6, &b->a6)
				      : a->has4 && b->has4 && mslb_addr_eq(&a->a4, &b->a4);

			if (!same)
				lb->nh[i].tun[f].learned = 0;
			lb->nh[i].tun[f].config_mtu = keep[f].config_mtu;
			lb->nh[i].tun[f].route_mtu = keep[f].route_mtu;
		}
	}
}

void lb_adopt_counters(struct mslb_lb *lb, const struct mslb_lb *old)
{
	const struct mslb_config *n = lb->cfg, *o = old->cfg;
	struct hset ix;

	/* Out of memory, counters start from zero: nothing else is lost. */
	if (index_old(&ix, o->front.n_next_hops, old_nh_hash, old_nh_key, nh_eq, o) == 0)
		adopt_next_hops(lb, old, &ix);
	hset_free(&ix);
	if (index_old(&ix, o->front.n_table, old_entry_hash, old_entry_key, entry_eq, o) == 0)
		for (unsigned i = 0; i < n->front.n_table; i++) {
			struct entry_key k = { n, &n->front.table[i] };
			const uint32_t *at = hset_find(&ix, entry_hash(n, k.e), &k, entry_eq, o);

			if (at)
				lb->table_hits[i] = old->table_hits[*at];
		}
	hset_free(&ix);
	if (n->has_front && o->has_front && n->front.unmatched == o->front.unmatched)
		lb->unmatched_hits = old->unmatched_hits;
	if (index_old(&ix, o->back.n_addresses, old_back_hash, old_back_key, back_eq, o) == 0)
		for (unsigned i = 0; i < n->back.n_addresses; i++) {
			const uint32_t *at = hset_find(&ix, back_hash(&n->back.addresses[i]), &n->back.addresses[i],
						       back_eq, o);

			if (at)
				lb->back[i] = old->back[*at];
		}
	hset_free(&ix);
	memcpy(lb->drops, old->drops, sizeof(lb->drops));
	lb->ts = old->ts;
	lb->ret = old->ret;
	lb->ret_t = old->ret_t;
	lb->endpoint = old->endpoint;
	lb->from_peers = old->from_peers;
	/* The same keys for retransmitted SYNs across the reload; a node
	 * that did not run Proposal 2 has no secret to pass on. */
	if (old->cfg->front.has_mptcp && old->cfg->front.mptcp_proposal == 2)
		memcpy(lb->p2_secret, old->p2_secret, sizeof(lb->p2_secret));
	lb->p2 = old->p2;
	lb->p2b = old->p2b;
	lb->redirect_t = old->redirect_t;
	lb->ip_id = old->ip_id;
	lb->frag_id = old->frag_id;
	lb->now = old->now;
	lb->emit = old->emit;
	lb->emit_ctx = old->emit_ctx;
	lb->emit_uso = old->emit_uso;
	lb->emit_tnl = old->emit_tnl;
}
