/* lb_health: what health checks and drains change in the data path. A
 * next hop that is not usable leaves the hash (the unmatched policy and the
 * MPTCP service ports) and its table entries fall back; packets already
 * bound to it by port, token or timestamp still go there. The front host's
 * own probes are steered to the next hop they test, whatever the table
 * says, so that a probe goes the way that next hop's clients go. */
#include "lb.h"
#include "lb_role.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "net/iphdr.h"

int lb_build_hash(struct mslb_lb *lb, int family, struct maglev **old)
{
	const struct mslb_config *cfg = lb->cfg;
	struct lb_family *f = &lb->fam[mslb_af_index(family)];
	struct maglev_backend *b = calloc(cfg->front.n_next_hops + 1, sizeof(*b));
	struct maglev *m;
	unsigned n = 0;
	bool carrier = false;

	if (!b)
		return -1;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

		if (!config_next_hop_carries(nh, family))
			continue;
		carrier = true;
		if (lb->nh[i].usable)
			b[n++] = (struct maglev_backend){ .name = nh->name, .weight = nh->weight, .id = (uint16_t)i };
	}
	/* Maglev by name: next hops that stay keep nearly all their slots. */
	m = maglev_create(MAGLEV_SIZE, b, n);
	free(b);
	if (!m)
		return -1;
	if (old)
		*old = f->hash;
	else
		maglev_destroy(f->hash);
	f->hash = m;
	f->any_hash = n > 0;
	f->any_carrier = carrier;
	return 0;
}

int lb_set_usable_all(struct mslb_lb *lb, const bool *usable)
{
	unsigned n = lb->cfg->front.n_next_hops;
	bool *was = malloc(n + 1);
	bool changed = false;
	struct maglev *old[2] = { NULL, NULL };

	if (!was)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		was[i] = lb->nh[i].usable;
		changed = changed || was[i] != usable[i];
		lb->nh[i].usable = usable[i];
	}
	/* One rebuild for all of them. The tables are built whole or not at
	 * all: on failure the old hash stays, with the old state. */
	if (changed && (lb_build_hash(lb, AF_INET, &old[0]) < 0 || lb_build_hash(lb, AF_INET6, &old[1]) < 0)) {
		for (unsigned i = 0; i < n; i++)
			lb->nh[i].usable = was[i];
		maglev_destroy(old[0]);
		lb_build_hash(lb, AF_INET, NULL);
		lb_build_hash(lb, AF_INET6, NULL);
		free(was);
		return -1;
	}
	/* The choices made until now stay known for a while (persistence). */
	if (changed)
		lb_persist_changed(lb, was, old);
	free(was);
	return 0;
}

int lb_set_usable(struct mslb_lb *lb, unsigned i, bool usable)
{
	unsigned n = lb->cfg->front.n_next_hops;
	bool *all;
	int r;

	if (i >= n)
		return -1;
	if (lb->nh[i].usable == usable)
		return 0;
	all = malloc(n);
	if (!all)
		return -1;
	for (unsigned j = 0; j < n; j++)
		all[j] = j == i ? usable : lb->nh[j].usable;
	r = lb_set_usable_all(lb, all);
	free(all);
	return r;
}

bool lb_serves(const struct mslb_lb *lb, int family)
{
	return lb->fam[mslb_af_index(family)].any_hash;
}

bool lb_next_hop_usable(const struct mslb_lb *lb, unsigned i)
{
	return i < lb->cfg->front.n_next_hops && lb->nh[i].usable;
}

void lb_set_probe(struct mslb_lb *lb, unsigned i, unsigned version, uint8_t proto, const uint8_t *src, uint16_t id)
{
	struct lb_probe *pr;

	if (i >= lb->cfg->front.n_next_hops)
		return;
	pr = &lb->probe[i];
	if (!pr->on)
		lb->n_probes++;
	*pr = (struct lb_probe){ .on = true, .version = (uint8_t)version, .proto = proto, .id = id };
	memcpy(pr->src, src, version == 4 ? 4 : 16);
}

void lb_clear_probe(struct mslb_lb *lb, unsigned i)
{
	if (i >= lb->cfg->front.n_next_hops || !lb->probe[i].on)
		return;
	lb->probe[i].on = false;
	lb->n_probes--;
}

int lb_probe_next_hop(struct mslb_lb *lb, const struct pkt_view *v)
{
	const uint8_t *l4 = v->data + v->l4off;
	unsigned alen = pkt_addr_len(v);
	uint8_t proto = v->l4proto;
	uint16_t id;

	if (!v->l4off || v->fragment)
		return -1;
	if (proto == IPPROTO_TCP) {
		id = (uint16_t)(l4[0] << 8 | l4[1]);
	} else if (proto == (v->version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
		/* Echo requests only: errors are not probes. */
		if (v->len < v->l4off + 8u || l4[0] != (v->version == 4 ? 8 : 128))
			return -1;
		id = (uint16_t)(l4[4] << 8 | l4[5]);
	} else {
		return -1;
	}
	for (unsigned i = 0; i < lb->cfg->front.n_next_hops; i++) {
		const struct lb_probe *pr = &lb->probe[i];

		if (pr->on && pr->id == id && pr->proto == proto && pr->version == v->version &&
		    !memcmp(pr->src, pkt_src(v), alen)) {
			lb->nh[i].probes++;
			return (int)i;
		}
	}
	return -1;
}
