/* neigh: next-hop cache, open addressing keyed by destination address.
 * Entries are only ever the data path's rewritten destinations (next hop
 * addresses, services), a set bounded by the configuration, so they are
 * never evicted: a reload flushes them all. */
#include "neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "host/nl.h"

#define NEIGH_MAX_PORTS 16

struct neigh {
	struct nl *nl;
	int tun_ifindex;
	unsigned n_ports;
	int ports[NEIGH_MAX_PORTS];
	unsigned cursor;		/* refresh position */
	struct neigh_stats st;
	struct neigh_entry e[NEIGH_CAPACITY];
};

struct neigh *neigh_create(int tun_ifindex, const int *ifindex, unsigned n)
{
	struct neigh *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nl = nl_open();
	if (!c->nl) {
		free(c);
		return NULL;
	}
	c->tun_ifindex = tun_ifindex;
	for (unsigned i = 0; i < n && i < NEIGH_MAX_PORTS; i++)
		c->ports[c->n_ports++] = ifindex[i];
	return c;
}

void neigh_destroy(struct neigh *n)
{
	if (n) {
		nl_close(n->nl);
		free(n);
	}
}

static unsigned hash(const struct mslb_addr *a)
{
	uint32_t h = 2166136261u ^ a->family;

	for (unsigned i = 0; i < mslb_addr_size(a->family); i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h & (NEIGH_CAPACITY - 1);
}

static bool usable(uint16_t state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP);
}

/* Ask the kernel: route, then neighbour. */
static void resolve(struct neigh *n, struct neigh_entry *e)
{
	struct nl_route_info ri;
	const struct mslb_addr *hop;
	uint8_t mac[32];
	unsigned mac_len;
	uint16_t state;

	n->st.refreshes++;
	e->port = -1;
	e->state = NEIGH_TUN;
	e->failed = nl_route_get(n->nl, &e->dst, &e->src, n->tun_ifindex, &ri) < 0;
	if (e->failed || ri.type != RTN_UNICAST)
		return;
	for (unsigned i = 0; i < n->n_ports; i++)
		if (n->ports[i] == ri.oif)
			e->port = (int8_t)i;
	if (e->port < 0)
		return;
	e->state = NEIGH_UNRESOLVED;
	hop = ri.has_gw ? &ri.gw : &e->dst;
	if (nl_neigh_get(n->nl, ri.oif, hop, &state, mac, &mac_len) < 0 || !usable(state) || mac_len != 6)
		return;
	memcpy(e->mac, mac, 6);
	e->state = NEIGH_OK;
	e->probe = (state & NUD_STALE) != 0;
}

bool neigh_take_probe(struct neigh *n, const struct neigh_entry *e)
{
	struct neigh_entry *m;

	if (!e->probe || e < n->e || e >= n->e + NEIGH_CAPACITY)
		return false;
	m = &n->e[e - n->e];
	m->probe = false;
	n->st.probes++;
	return true;
}

static void recount(struct neigh *n)
{
	n->st.entries = n->st.resolved = 0;
	for (unsigned i = 0; i < NEIGH_CAPACITY; i++)
		if (n->e[i].used) {
			n->st.entries++;
			n->st.resolved += n->e[i].state == NEIGH_OK;
		}
}

const struct neigh_entry *neigh_lookup(struct neigh *n, const struct mslb_addr *dst,
				       const struct mslb_addr *src)
{
	static const struct neigh_entry full = { .state = NEIGH_TUN, .port = -1 };
	unsigned i = hash(dst);

	n->st.lookups++;
	for (unsigned k = 0; k < NEIGH_CAPACITY; k++, i = (i + 1) & (NEIGH_CAPACITY - 1)) {
		struct neigh_entry *e = &n->e[i];

		if (e->used && e->dst.family == dst->family &&
		    !memcmp(e->dst.bytes, dst->bytes, mslb_addr_size(dst->family))) {
			/* A lookup that failed for its source (a spoofed martian
			 * one, say) is retried by the refresh with this one. */
			if (e->failed)
				e->src = *src;
			return e;
		}
		if (!e->used) {
			memset(e, 0, sizeof(*e));
			e->used = true;
			e->dst = *dst;
			e->src = *src;
			n->st.misses++;
			resolve(n, e);
			recount(n);
			return e;
		}
	}
	return &full;
}

void neigh_refresh(struct neigh *n, unsigned max)
{
	unsigned seen = 0;

	for (unsigned k = 0; k < NEIGH_CAPACITY && seen < max; k++) {
		struct neigh_entry *e = &n->e[n->cursor];

		n->cursor = (n->cursor + 1) & (NEIGH_CAPACITY - 1);
		if (!e->used)
			continue;
		resolve(n, e);
		seen++;
	}
	recount(n);
}

void neigh_flush(struct neigh *n)
{
	memset(n->e, 0, sizeof(n->e));
	n->cursor = 0;
	recount(n);
}

void neigh_count_fallback(struct neigh *n, bool unresolved)
{
	n->st.tun_fallbacks++;
	if (unresolved)
		n->st.unresolved++;
}

void neigh_get_stats(const struct neigh *n, struct neigh_stats *s)
{
	*s = n->st;
}
