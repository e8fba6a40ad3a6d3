/* lb_front: the front (MSLB-F, draft-matsuhira-mslb-17 section 5): a
 * packet to a service address goes to the next hop its client's source
 * prefix (the MSLB table), the hash or MPTCP chooses, translated to that
 * next hop's address or encapsulated toward it. */
#include "lb_role.h"

#include <netinet/in.h>
#include <string.h>
#include <xxhash.h>

#include "lb_mptcp.h"
#include "lb_p2.h"
#include "lb_tunnel.h"
#include "lpm.h"
#include "maglev.h"
#include "net/icmp.h"
#include "net/p2opt.h"
#include "net/iphdr.h"
#include "net/xlate.h"

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
		return lb->nh[*nh].usable ? MSLB_OK : MSLB_DROP_NEXT_HOP_DOWN;
	case UNMATCHED_HASH:
		if (!f->any_hash)
			return lb_no_hash(f);
		*nh = maglev_lookup(f->hash, XXH3_64bits(src, alen));
		return MSLB_OK;
	}
	return MSLB_DROP_NO_ROUTE;
}

static enum mslb_drop choose(struct mslb_lb *lb, const struct flow_key *k, unsigned alen,
			     const struct lb_family *f, unsigned *nh)
{
	const struct mslb_config *cfg = lb->cfg;
	uint32_t entry;

	if (k->ports && cfg->front.has_mptcp)
		return lb_mptcp_choose(lb, k, alen, f, nh);
	if (lpm_lookup(f->sources, k->client, &entry)) {
		const struct cfg_table_entry *te = &cfg->front.table[entry];

		lb->table_hits[entry]++;
		*nh = te->next_hop;
		if (lb->nh[*nh].usable)
			return MSLB_OK;
		/* Down or drained: its backup, else as if nothing matched. */
		lb->table_fallbacks[entry]++;
		if (te->has_backup && lb->nh[te->backup].usable) {
			*nh = te->backup;
			return MSLB_OK;
		}
	}
	return unmatched(lb, f, k->client, alen, nh);
}

/* Inlined in both callers: the common path is front_by's. */
static inline __attribute__((always_inline)) enum mslb_drop front_deliver(struct mslb_lb *lb, struct io_pkt *p,
									   struct pkt_view *v, unsigned nh,
									   bool own_ttl)
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];
	const struct lb_family *f = lb_fam(lb, v->version);
	const uint8_t *to = v->version == 4 ? hop->a4.bytes : hop->a6.bytes;
	int k = -1;	/* the next hop is a back address of this node's own: its slot */

	if (hop->mode == NH_ENCAP) {
		if (hop->outer == OUTER_SAME)
			k = lb_back_slot(f, to, pkt_addr_len(v));
		if (k < 0)
			return lb_encap_front(lb, p, v, nh, own_ttl);
	}
	if (v->version == 4 ? !hop->has4 : !hop->has6)
		return MSLB_DROP_NO_FAMILY;
	lb->nh[nh].c.packets++;
	lb->nh[nh].c.bytes += v->len;
	if (hop->mode == NH_ENCAP) {
		/* Its own back: the packet is delivered as it came. */
		lb_back_count(lb, f->back_index[k], v->len);
		p->len = v->len;
		return MSLB_OK;
	}
	xlate_set_dst(v, to);
	/* A node that runs both roles may be its own next hop: the back's
	 * rewrite follows at once, since what leaves the TUN is never routed
	 * back into it. */
	if (f->back.n && (k = lb_back_slot(f, to, pkt_addr_len(v))) >= 0)
		lb_back_at(lb, v, f, k);
	p->len = v->len;
	return MSLB_OK;
}

static enum mslb_drop front_by(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct flow_key *k,
			       bool own_ttl)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	unsigned nh;
	enum mslb_drop r;

	/* The first fragment would go by its ports, the others by the table:
	 * the pieces would reach different servers. TCP avoids fragmenting
	 * (path MTU discovery), so the rare fragment is dropped and counted. */
	if (lb->cfg->front.has_mptcp && v->l4proto == IPPROTO_TCP && v->fragment)
		return MSLB_DROP_TCP_FRAGMENT;
	r = choose(lb, k, pkt_addr_len(v), f, &nh);
	if (r != MSLB_OK)
		return r;
	/* For a while after a change, a flow that moved says where it was. */
	if (lb->prev.until > lb->now) {
		r = lb_persist_mark(lb, p, v, k, nh);
		if (r != MSLB_OK)
			return r;
	}
	return front_deliver(lb, p, v, nh, own_ttl);
}

/* Options only fronts put in (Proposal 2's, the persistence mark), from a
 * client or an upstream stage of a chain: taken out, so that nobody
 * steers a back with them. Rare: only packets with options come here. */
static __attribute__((noinline)) enum mslb_drop strip_ours(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	struct p2opt o;
	int r;

	for (unsigned i = 0; i < 4 && (r = lb_option_strip(p, v, &o)) != 0; i++) {
		if (r < 0)
			return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
		lb->ps.taken_out++;
		if (!lb_has_options(v))
			break;
	}
	return MSLB_OK;
}

enum mslb_drop lb_front(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, bool own_ttl)
{
	struct flow_key k = { .client = pkt_src(v), .service = pkt_dst(v) };
	uint8_t ports[4];

	if (lb_has_options(v)) {
		enum mslb_drop r = strip_ours(lb, p, v);

		if (r != MSLB_OK)
			return r;
		k.client = pkt_src(v);
		k.service = pkt_dst(v);
	}

	/* This host's own health probe tests one next hop: it goes there. */
	if (lb->n_probes) {
		int probe = lb_probe_next_hop(lb, v);

		if (probe >= 0)
			return front_deliver(lb, p, v, (unsigned)probe, own_ttl);
	}

	if (v->l4proto == (v->version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) && v->l4off && !v->fragment) {
		struct icmp_error e;

		if (icmp_parse_error(v, &e)) {
			const struct lb_family *f = lb_fam(lb, v->version);
			unsigned alen = pkt_addr_len(v), qhl;

			lb->ts.icmp_received++;
			if (lb_icmp_outer(lb, v, &e)) {
				p->len = 0;
				return MSLB_OK;
			}
			/* About a server's packet (IP_S -> client): it goes
			 * where that client's packets go. */
			qhl = (e.quote[0] >> 4) == 4 ? (e.quote[0] & 0x0f) * 4u : IP6_HLEN;
			if ((unsigned)(e.quote[0] >> 4) == v->version &&
			    lb_addrs_has(&f->services, e.quote + (alen == 4 ? IP4_SRC : IP6_SRC), alen)) {
				uint8_t qproto = alen == 4 ? e.quote[IP4_PROTO] : e.quote[IP6_NEXT];

				k.client = e.quote + (alen == 4 ? IP4_DST : IP6_DST);
				k.service = e.quote + (alen == 4 ? IP4_SRC : IP6_SRC);
				if (qproto == IPPROTO_TCP && e.quote_len >= qhl + 4) {
					unsigned nh;

					memcpy(ports, e.quote + qhl + 2, 2);
					memcpy(ports + 2, e.quote + qhl, 2);
					k.ports = ports;
					/* Proposal 2: the server's TSval names it. */
					if (lb->p2_front &&
					    lb->port_next_hop[ports[2] << 8 | ports[3]] == LB_PORT_SERVICE &&
					    lb_p2_icmp_next_hop(lb, v->version, e.quote + qhl, e.quote_len - qhl, &nh)) {
						lb->ts.icmp_followed++;
						return front_deliver(lb, p, v, nh, own_ttl);
					}
				}
				lb->ts.icmp_followed++;
				return front_by(lb, p, v, &k, own_ttl);
			}
		}
	}
	if (v->l4proto == IPPROTO_TCP && v->l4off) {
		k.ports = v->data + v->l4off;
		/* Proposal 2: a service port's segments go by token, timestamp
		 * or hash (lb_p2.c); the rest as Proposal 1 says. */
		if (lb->p2_front && !v->fragment &&
		    lb->port_next_hop[k.ports[2] << 8 | k.ports[3]] == LB_PORT_SERVICE) {
			unsigned nh;
			enum mslb_drop r = lb_p2_route(lb, p, v, &k, &nh);

			if (r != MSLB_OK)
				return r;
			return front_deliver(lb, p, v, nh, own_ttl);
		}
	}
	return front_by(lb, p, v, &k, own_ttl);
}
