/* lb: classify by destination (front service, back address, or neither),
 * choose the next hop, rewrite. Lookup structures are built once per config
 * snapshot; processing a packet touches only preallocated memory. */
#include "lb.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xxhash.h>

#include "lb_state.h"
#include "lb_tunnel.h"
#include "lpm.h"
#include "maglev.h"
#include "net/encap.h"
#include "net/pkt.h"
#include "net/xlate.h"

static unsigned fam_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

/* The prefixes of one family in l, for lookups by outer source. */
static struct lpm *build_allow(const struct cfg_prefixes *l, int family)
{
	struct lpm *t = lpm_create(family);

	if (!t)
		return NULL;
	for (unsigned i = 0; i < l->n; i++)
		if (l->p[i].addr.family == family && lpm_add(t, &l->p[i], 0) == -3)
			goto fail;
	if (lpm_build(t) < 0)
		goto fail;
	return t;
fail:
	lpm_destroy(t);
	return NULL;
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
	f->back_services = calloc(cfg->back.n_addresses + 1, sizeof(*f->back_services));
	if (!f->back_services)
		goto fail;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct cfg_back_address *ba = &cfg->back.addresses[i];

		if (ba->address.family != family)
			continue;
		memcpy(f->back_addr[f->n_back], ba->address.bytes, alen);
		f->back_index[f->n_back++] = i;
		if (!lb_in_list(f->back_services, f->n_back_services, ba->service.bytes, alen))
			memcpy(f->back_services[f->n_back_services++], ba->service.bytes, alen);
		if (!f->has_ret && cfg->back.has_return[family == AF_INET6]) {
			/* The return tunnel leaves from the first back address. */
			f->has_ret = true;
			memcpy(f->ret_src, ba->address.bytes, alen);
			memcpy(f->ret_dst, cfg->back.return_to[family == AF_INET6].bytes, alen);
		}
	}
	for (unsigned i = 0; i < cfg->return_endpoint.n; i++)
		if (cfg->return_endpoint.addresses[i].family == family)
			memcpy(f->endpoint[f->n_endpoint++], cfg->return_endpoint.addresses[i].bytes, alen);
	f->allow_back = build_allow(&cfg->back.allowed, family);
	f->allow_front = build_allow(&cfg->front.allowed, family);
	f->allow_endpoint = build_allow(&cfg->return_endpoint.allowed, family);
	if (!f->allow_back || !f->allow_front || !f->allow_endpoint)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

		if (config_next_hop_carries(nh, family))
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
	lb->scratch[0] = malloc(IO_HEADROOM + IO_BUF_SIZE);
	lb->scratch[1] = malloc(IO_HEADROOM + IO_BUF_SIZE);
	lb->icmp_buf = malloc(ICMP_MAX_V6);
	if (!lb->nh || !lb->table_hits || !lb->back || !lb->scratch[0] || !lb->scratch[1] ||
	    !lb->icmp_buf || build_family(lb, AF_INET) < 0 || build_family(lb, AF_INET6) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++)
		lb->nh[i].tun[0].config_mtu = lb->nh[i].tun[1].config_mtu = cfg->front.next_hops[i].path_mtu;
	/* Whatever decapsulates may get fragments to put together. */
	if (cfg->has_back || cfg->front.allowed.n || cfg->has_return_endpoint) {
		lb->reasm = reasm_create(cfg->has_back ? cfg->back.reasm_memory : 4u << 20,
					 cfg->has_back ? cfg->back.reasm_timeout : 30);
		if (!lb->reasm)
			goto fail;
	}
	icmp_bucket_init(&lb->bucket, cfg->icmp_rate, cfg->icmp_burst);
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
		free(lb->fam[i].back_services);
		maglev_destroy(lb->fam[i].hash);
		lpm_destroy(lb->fam[i].allow_back);
		lpm_destroy(lb->fam[i].allow_front);
		lpm_destroy(lb->fam[i].allow_endpoint);
	}
	reasm_destroy(lb->reasm);
	free(lb->scratch[0]);
	free(lb->scratch[1]);
	free(lb->icmp_buf);
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
			if (!strcmp(n->front.next_hops[i].name, o->front.next_hops[j].name)) {
				struct lb_tunnel keep[2] = { lb->nh[i].tun[0], lb->nh[i].tun[1] };

				lb->nh[i] = old->nh[j];
				/* Counters carry over; the path MTU is the new
				 * config's, what ICMP taught us stays if the
				 * address did not change. */
				for (int f = 0; f < 2; f++) {
					const struct cfg_next_hop *a = &n->front.next_hops[i], *b = &o->front.next_hops[j];
					bool same = f ? a->has6 && b->has6 && mslb_addr_eq(&a->a6, &b->a6)
						      : a->has4 && b->has4 && mslb_addr_eq(&a->a4, &b->a4);

					if (!same)
						lb->nh[i].tun[f].learned = 0;
					lb->nh[i].tun[f].config_mtu = keep[f].config_mtu;
					lb->nh[i].tun[f].route_mtu = keep[f].route_mtu;
				}
			}
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
	lb->ts = old->ts;
	lb->ret = old->ret;
	lb->ret_t = old->ret_t;
	lb->endpoint = old->endpoint;
	lb->ip_id = old->ip_id;
	lb->frag_id = old->frag_id;
	lb->now = old->now;
	lb->emit = old->emit;
	lb->emit_ctx = old->emit_ctx;
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

/* What a front balances a packet by: the client's address and, for MPTCP,
 * the ports in the client's direction. Usually the packet's own; for an
 * ICMP error about a server's packet, the quoted flow's. */
struct flow_key {
	const uint8_t *client, *service;
	const uint8_t *ports;	/* client port, service port; NULL: not TCP */
};

/* MPTCP Proposal 1: a service port is balanced by its 5-tuple; any other
 * port is the server_id that server announced in ADD_ADDR, so every join
 * of a connection reaches the server that holds it, without state. */
static enum mslb_drop mptcp_choose(struct mslb_lb *lb, const struct flow_key *k, unsigned alen,
				   const struct lb_family *f, unsigned *nh, bool *by_port)
{
	uint16_t dport = (uint16_t)(k->ports[2] << 8 | k->ports[3]);

	if (is_service_port(lb->cfg, dport)) {
		uint8_t key[2 * 16 + 4];

		if (!f->any_hash)
			return MSLB_DROP_NO_FAMILY;
		memcpy(key, k->client, alen);
		memcpy(key + alen, k->service, alen);
		memcpy(key + 2 * alen, k->ports, 4);
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

static enum mslb_drop choose(struct mslb_lb *lb, const struct flow_key *k, unsigned alen,
			     const struct lb_family *f, unsigned *nh)
{
	const struct mslb_config *cfg = lb->cfg;
	uint32_t entry;

	if (k->ports && cfg->front.has_mptcp) {
		bool by_port = false;
		enum mslb_drop r = mptcp_choose(lb, k, alen, f, nh, &by_port);

		if (r == MSLB_OK) {
			if (by_port)
				lb->nh[*nh].port_hits++;
			else
				lb->nh[*nh].hash_hits++;
		}
		return r;
	}
	if (lpm_lookup(f->sources, k->client, &entry)) {
		lb->table_hits[entry]++;
		*nh = cfg->front.table[entry].next_hop;
		return MSLB_OK;
	}
	return unmatched(lb, f, k->client, alen, nh);
}

/* Which back address (index k into f->back_addr) a is, -1 for none. */
static int back_slot(const struct lb_family *f, const uint8_t *a, unsigned alen)
{
	for (unsigned k = 0; k < f->n_back; k++)
		if (lb_addr_eq(a, f->back_addr[k], alen))
			return (int)k;
	return -1;
}

/* Back: IP_B (slot k) -> IP_S. */
static void back_at(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f, int k)
{
	unsigned i = f->back_index[k];

	xlate_set_dst(v, lb->cfg->back.addresses[i].service.bytes);
	lb->back[i].packets++;
	lb->back[i].bytes += v->len;
}

static bool own_back_address(const struct lb_family *f, const uint8_t *a, unsigned alen)
{
	return lb_in_list(f->back_addr, f->n_back, a, alen);
}

static enum mslb_drop front_deliver(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned nh)
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];
	const struct lb_family *f = lb_fam(lb, v->version);
	const uint8_t *to = v->version == 4 ? hop->a4.bytes : hop->a6.bytes;

	if (hop->mode == NH_ENCAP && !(hop->outer == OUTER_SAME && own_back_address(f, to, pkt_addr_len(v))))
		return lb_encap_front(lb, p, v, nh);
	if (v->version == 4 ? !hop->has4 : !hop->has6)
		return MSLB_DROP_NO_FAMILY;
	lb->nh[nh].c.packets++;
	lb->nh[nh].c.bytes += v->len;
	if (hop->mode == NH_ENCAP) {
		/* Its own back: the packet is delivered as it came. */
		for (unsigned k = 0; k < f->n_back; k++)
			if (lb_addr_eq(to, f->back_addr[k], pkt_addr_len(v))) {
				lb->back[f->back_index[k]].packets++;
				lb->back[f->back_index[k]].bytes += v->len;
			}
		p->len = v->len;
		return MSLB_OK;
	}
	xlate_set_dst(v, to);
	/* A node that runs both roles may be its own next hop: the back's
	 * rewrite follows at once, since what leaves the TUN is never routed
	 * back into it. */
	if (f->n_back) {
		int k = back_slot(f, to, pkt_addr_len(v));

		if (k >= 0)
			back_at(lb, v, f, k);
	}
	p->len = v->len;
	return MSLB_OK;
}

static enum mslb_drop front_by(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct flow_key *k)
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
	return front_deliver(lb, p, v, nh);
}

static enum mslb_drop front(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	struct flow_key k = { .client = pkt_src(v), .service = pkt_dst(v) };
	uint8_t ports[4];

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
			qhl = (e.quote[0] >> 4) == 4 ? (e.quote[0] & 0x0f) * 4u : 40;
			if ((unsigned)(e.quote[0] >> 4) == v->version &&
			    lb_in_list(f->services, f->n_services, e.quote + (alen == 4 ? 12 : 8), alen)) {
				uint8_t qproto = alen == 4 ? e.quote[9] : e.quote[6];

				k.client = e.quote + (alen == 4 ? 16 : 24);
				k.service = e.quote + (alen == 4 ? 12 : 8);
				if (qproto == IPPROTO_TCP && e.quote_len >= qhl + 4) {
					memcpy(ports, e.quote + qhl + 2, 2);
					memcpy(ports + 2, e.quote + qhl, 2);
					k.ports = ports;
				}
				lb->ts.icmp_followed++;
				return front_by(lb, p, v, &k);
			}
		}
	}
	if (v->l4proto == IPPROTO_TCP && v->l4off)
		k.ports = v->data + v->l4off;
	return front_by(lb, p, v, &k);
}

static enum mslb_drop run(struct mslb_lb *lb, struct io_pkt *p)
{
	const struct mslb_config *cfg = lb->cfg;
	struct pkt_view v;
	enum mslb_drop r = pkt_parse(p->data, p->len, &v);
	unsigned partial = io_partial_off(p), alen;
	const struct lb_family *f;
	const uint8_t *dst, *src;
	bool tunnel;
	int k;

	if (r != MSLB_OK)
		return r;
	f = lb_fam(lb, v.version);
	dst = pkt_dst(&v);
	src = pkt_src(&v);
	alen = pkt_addr_len(&v);
	tunnel = encap_is_tunnel(&v);
	/* A tunnel packet's partial checksum is its inner packet's: checked
	 * after decapsulation. */
	if (partial && !tunnel) {
		r = pkt_set_partial(&v, partial);
		if (r != MSLB_OK)
			return r;
	}
	if (lb_in_list(f->services, f->n_services, dst, alen)) {
		uint32_t unused;

		if (tunnel && cfg->front.allowed.n && lpm_lookup(f->allow_front, src, &unused)) {
			struct pkt_view in;

			/* A stage of a chain: balanced again, by the client's
			 * address in the inner header. */
			r = lb_decap(lb, p, &v, f->allow_front, &in);
			if (r != MSLB_OK || !p->len)
				return r;
			return front(lb, p, &in);
		}
		if (partial && tunnel)
			return MSLB_DROP_BAD_OFFLOAD;
		return front(lb, p, &v);
	}
	k = back_slot(f, dst, alen);
	if (k >= 0) {
		if (tunnel)
			return lb_back_decap(lb, p, &v);
		/* Errors about the return tunnel come back to IP_B. */
		if (f->has_ret && !partial && lb_icmp_about_tunnel(lb, &v)) {
			p->len = 0;
			return MSLB_OK;
		}
		back_at(lb, &v, f, k);
		p->len = v.len;
		return MSLB_OK;
	}
	if (tunnel && lb_in_list(f->endpoint, f->n_endpoint, dst, alen))
		return lb_endpoint_decap(lb, p, &v);
	/* A tunnel source of its own: only errors about our tunnels. */
	if (cfg->front.has_tsrc[v.version == 6] && lb_addr_eq(cfg->front.tsrc[v.version == 6].bytes, dst, alen)) {
		if (!partial && lb_icmp_about_tunnel(lb, &v)) {
			p->len = 0;
			return MSLB_OK;
		}
		return MSLB_DROP_NOT_OURS;
	}
	if (f->has_ret && lb_in_list(f->back_services, f->n_back_services, src, alen)) {
		if (partial && tunnel)
			return MSLB_DROP_BAD_OFFLOAD;
		return lb_return_encap(lb, p, &v);
	}
	return MSLB_DROP_NOT_OURS;
}

enum mslb_drop lb_process_pkt(struct mslb_lb *lb, struct io_pkt *p)
{
	enum mslb_drop r = run(lb, p);

	if (r != MSLB_OK)
		lb->drops[r]++;
	return r;
}
