/* lb: build the lookup structures of one config snapshot, and classify
 * each packet by its destination for the role that handles it (lb_front,
 * lb_back, lb_mptcp, lb_tunnel). Processing a packet touches only
 * preallocated memory. */
#include "lb.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lb_p2.h"
#include "lb_role.h"
#include "lb_state.h"
#include "lb_tunnel.h"
#include "lpm.h"
#include "maglev.h"
#include "net/encap.h"
#include "net/gso.h"
#include "net/pkt.h"

/* Add the prefixes of one family in l to t: -1 out of memory. */
static int add_allowed(struct lpm *t, const struct cfg_prefixes *l, int family)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->p[i].addr.family == family && lpm_add(t, &l->p[i], 0) == -3)
			return -1;
	return 0;
}

/* The prefixes of one family in l, for lookups by outer source. */
static struct lpm *build_allow(const struct cfg_prefixes *l, int family)
{
	struct lpm *t = lpm_create(family);

	if (!t)
		return NULL;
	if (add_allowed(t, l, family) < 0 || lpm_build(t) < 0)
		goto fail;
	return t;
fail:
	lpm_destroy(t);
	return NULL;
}

/* back.allowed_sources and the redirect peers' tunnel addresses, which
 * go into peers as well. */
static struct lpm *build_allow_back(const struct mslb_config *cfg, int family, struct lb_addrs *peers,
				    unsigned **peer_index)
{
	struct lpm *t = lpm_create(family);
	unsigned k = mslb_af_index(family), n = 0;

	for (unsigned i = 0; i < cfg->redirect.n_peers; i++)
		n += cfg->redirect.peers[i].has_tunnel[k];
	*peer_index = calloc(n + 1, sizeof(**peer_index));
	if (!t || !*peer_index || lb_addrs_init(peers, n) < 0)
		goto fail;
	if (add_allowed(t, &cfg->back.allowed, family) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->redirect.n_peers; i++) {
		const struct cfg_redirect_peer *rp = &cfg->redirect.peers[i];
		struct mslb_prefix host = { .addr = rp->tunnel[k], .len = family == AF_INET ? 32 : 128 };

		if (!rp->has_tunnel[k])
			continue;
		(*peer_index)[peers->n] = i;
		lb_addrs_add(peers, rp->tunnel[k].bytes, mslb_addr_size(family));
		if (lpm_add(t, &host, 0) == -3)
			goto fail;
	}
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
	struct lb_family *f = &lb->fam[mslb_af_index(family)];
	unsigned alen = mslb_addr_size(family);
	unsigned n_svc = 0, n_back = 0;

	for (unsigned i = 0; i < cfg->front.n_services; i++)
		n_svc += cfg->front.services[i].family == family;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++)
		n_back += cfg->back.addresses[i].address.family == family;
	f->sources = lpm_create(family);
	if (!f->sources || lb_addrs_init(&f->services, n_svc) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_table; i++)
		if (cfg->front.table[i].source.addr.family == family &&
		    lpm_add(f->sources, &cfg->front.table[i].source, i) < 0)
			goto fail;
	if (lpm_build(f->sources) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_services; i++)
		if (cfg->front.services[i].family == family)
			lb_addrs_add(&f->services, cfg->front.services[i].bytes, alen);
	f->back_index = calloc(n_back + 1, sizeof(*f->back_index));
	if (!f->back_index || lb_addrs_init(&f->back, n_back) < 0 || lb_addrs_init(&f->back_services, n_back) < 0)
		goto fail;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct cfg_back_address *ba = &cfg->back.addresses[i];

		if (ba->address.family != family)
			continue;
		f->back_index[f->back.n] = i;
		lb_addrs_add(&f->back, ba->address.bytes, alen);
		if (!lb_addrs_has(&f->back_services, ba->service.bytes, alen))
			lb_addrs_add(&f->back_services, ba->service.bytes, alen);
		if (!f->has_ret && cfg->back.has_return[mslb_af_index(family)]) {
			/* The return tunnel leaves from the first back address. */
			f->has_ret = true;
			memcpy(f->ret_src, ba->address.bytes, alen);
			memcpy(f->ret_dst, cfg->back.return_to[mslb_af_index(family)].bytes, alen);
		}
	}
	for (unsigned i = 0; i < cfg->return_endpoint.n; i++)
		if (cfg->return_endpoint.addresses[i].family == family)
			memcpy(f->endpoint[f->n_endpoint++], cfg->return_endpoint.addresses[i].bytes, alen);
	f->allow_back = build_allow_back(cfg, family, &f->peers, &f->peer_index);
	if (f->back.n) {
		f->has_rsrc = true;
		memcpy(f->rsrc, f->back.a[0], alen);
	}
	f->allow_front = build_allow(&cfg->front.allowed, family);
	f->allow_endpoint = build_allow(&cfg->return_endpoint.allowed, family);
	if (!f->allow_back || !f->allow_front || !f->allow_endpoint)
		goto fail;
	return lb_build_hash(lb, family, NULL);
fail:
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
	lb->table_fallbacks = calloc(cfg->front.n_table + 1, sizeof(*lb->table_fallbacks));
	lb->probe = calloc(cfg->front.n_next_hops + 1, sizeof(*lb->probe));
	lb->back = calloc(cfg->back.n_addresses + 1, sizeof(*lb->back));
	lb->scratch[0] = malloc(IO_HEADROOM + IO_BUF_SIZE);
	lb->scratch[1] = malloc(IO_HEADROOM + IO_BUF_SIZE);
	lb->icmp_buf = malloc(ICMP_MAX_V6);
	lb->peer_tun = calloc(cfg->redirect.n_peers * 2 + 1, sizeof(*lb->peer_tun));
	if (!lb->nh || !lb->table_hits || !lb->table_fallbacks || !lb->probe || !lb->back || !lb->scratch[0] || !lb->scratch[1] || !lb->peer_tun ||
	    !lb->icmp_buf)
		goto fail;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++)
		lb->nh[i].usable = !cfg->front.next_hops[i].drain;
	if (build_family(lb, AF_INET) < 0 || build_family(lb, AF_INET6) < 0)
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
			if (cfg->front.next_hops[i].server_id)
				lb->port_next_hop[cfg->front.next_hops[i].server_id] = (uint16_t)(i + 1);
		/* No service port is a server_id (config), and a next hop
		 * index + 1 stays below LB_PORT_SERVICE: each takes a port. */
		for (unsigned i = 0; i < cfg->front.n_service_ports; i++)
			lb->port_next_hop[cfg->front.service_ports[i]] = LB_PORT_SERVICE;
		lb->p2_front = cfg->front.mptcp_proposal == 2;
		if (lb->p2_front && lb_p2_build(lb) < 0)
			goto fail;
	}
	if (lb_persist_create(lb) < 0)
		goto fail;
	if (cfg->back.has_p2) {
		lb->p2back = lb_p2back_create(cfg->back.p2_max_flows);
		if (!lb->p2back)
			goto fail;
		for (unsigned i = 0; i < cfg->back.n_p2_ports; i++)
			lb->p2_ports[cfg->back.p2_ports[i] / 64] |= 1ull << (cfg->back.p2_ports[i] % 64);
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
		lb_addrs_free(&lb->fam[i].services);
		lb_addrs_free(&lb->fam[i].back);
		free(lb->fam[i].back_index);
		lb_addrs_free(&lb->fam[i].back_services);
		maglev_destroy(lb->fam[i].hash);
		lpm_destroy(lb->fam[i].allow_back);
		lpm_destroy(lb->fam[i].allow_front);
		lpm_destroy(lb->fam[i].allow_endpoint);
		lb_addrs_free(&lb->fam[i].peers);
		free(lb->fam[i].p2);
		free(lb->fam[i].peer_index);
	}
	reasm_destroy(lb->reasm);
	free(lb->scratch[0]);
	free(lb->scratch[1]);
	free(lb->icmp_buf);
	free(lb->port_next_hop);
	free(lb->table_fallbacks);
	free(lb->probe);
	free(lb->peer_tun);
	lb_p2back_destroy(lb->p2back);
	lb_persist_destroy(lb);
	free(lb->nh);
	free(lb->table_hits);
	free(lb->back);
	free(lb);
}

/* Classify by destination: a service (front), a back address (back), a
 * return endpoint, a tunnel source of ours, or a server's reply for the
 * return tunnel; then the role's handler. */
static enum mslb_drop run(struct mslb_lb *lb, struct io_pkt *p)
{
	const struct mslb_config *cfg = lb->cfg;
	struct pkt_view v;
	enum mslb_drop r = pkt_parse(p->data, p->len, &v);
	bool partial = io_has_partial(p);
	unsigned alen;
	const struct lb_family *f;
	const uint8_t *dst, *src;
	bool tunnel, gue;
	int k;

	if (r != MSLB_OK)
		return r;
	f = lb_fam(lb, v.version);
	dst = pkt_dst(&v);
	src = pkt_src(&v);
	alen = pkt_addr_len(&v);
	tunnel = encap_is_tunnel(&v);
	/* GUE: UDP to a back address's GUE port (only backs take it apart);
	 * or a UDP fragment to a back address from an allowed tunnel source,
	 * whose port reassembly shows (a front's outer fragments). */
	gue = cfg->back.gue_port &&
	      (encap_is_gue(&v, cfg->back.gue_port) || (v.fragment && v.l4proto == IPPROTO_UDP)) &&
	      lb_back_slot(f, dst, alen) >= 0 && (!v.fragment || lpm_has(f->allow_back, src));
	tunnel = tunnel || gue;
	/* A UDP-tunnel super-packet is only ever GUE to take apart here: no
	 * rewrite of its outer headers could keep their offloads right. */
	if (io_is_tunnel_gso(&p->off) && !gue)
		return MSLB_DROP_BAD_OFFLOAD;
	/* A tunnel packet's partial checksum is its inner packet's: checked
	 * after decapsulation. */
	if (partial && !tunnel) {
		r = pkt_set_partial(&v, p->off.csum_start, p->off.csum_offset);
		if (r != MSLB_OK)
			return r;
	}
	if (lb_addrs_has(&f->services, dst, alen)) {
		if (tunnel && cfg->front.allowed.n && lpm_has(f->allow_front, src)) {
			struct pkt_view in;

			/* A stage of a chain: balanced again, by the client's
			 * address in the inner header. */
			r = lb_decap(lb, p, &v, f->allow_front, &in);
			if (r != MSLB_OK || !p->len)
				return r;
			return lb_front(lb, p, &in, false);
		}
		if (partial && tunnel)
			return MSLB_DROP_BAD_OFFLOAD;
		return lb_front(lb, p, &v, p->ifindex != 0);
	}
	k = lb_back_slot(f, dst, alen);
	if (k >= 0)
		return lb_back(lb, p, &v, k, tunnel, partial);
	if (tunnel && lb_in_list(f->endpoint, f->n_endpoint, dst, alen))
		return lb_endpoint_decap(lb, p, &v);
	/* A tunnel source of its own: only errors about our tunnels. */
	if (cfg->front.has_tsrc[mslb_ip_index(v.version)] &&
	    lb_addr_eq(cfg->front.tsrc[mslb_ip_index(v.version)].bytes, dst, alen)) {
		if (!partial && lb_icmp_about_tunnel(lb, &v)) {
			p->len = 0;
			return MSLB_OK;
		}
		return MSLB_DROP_NOT_OURS;
	}
	/* Proposal 2: a server's segment from a service port gets the
	 * front's key and the bucket in its timestamp on its way out. */
	if (lb->p2back && lb_p2_back_is_out(lb, &v) && lb_addrs_has(&f->back_services, src, alen)) {
		if (partial && tunnel)
			return MSLB_DROP_BAD_OFFLOAD;
		lb_p2_back_out(lb, p, &v);
		if (f->has_ret)
			return lb_return_encap(lb, p, &v);
		p->len = v.len;
		return MSLB_OK;
	}
	if (f->has_ret && lb_addrs_has(&f->back_services, src, alen)) {
		if (partial && tunnel)
			return MSLB_DROP_BAD_OFFLOAD;
		return lb_return_encap(lb, p, &v);
	}
	return MSLB_DROP_NOT_OURS;
}

struct split_ctx {
	struct mslb_lb *lb;
	int ifindex;
};

/* One datagram of a GUE super-packet, through the data path on its own;
 * what is left of it is emitted. */
static void split_one(void *ctx, uint8_t *seg, uint32_t len)
{
	struct split_ctx *c = ctx;
	struct io_pkt q = { .buf = seg - IO_HEADROOM, .data = seg, .len = len, .ifindex = c->ifindex };

	if (lb_process_pkt(c->lb, &q) == MSLB_OK && q.len && c->lb->emit)
		c->lb->emit(c->lb->emit_ctx, q.data, q.len, &q.off);
}

/* The GUE super-packet at p (len bytes; lb_decap could not make it one
 * TCP super-packet), cut as the kernel would have. The datagrams' own
 * processing never segments (none is a super-packet), so scratch[0] stays
 * theirs. */
static void split(struct mslb_lb *lb, struct io_pkt *p, uint32_t len)
{
	struct split_ctx c = { lb, p->ifindex };
	struct pkt_view v;

	if (pkt_parse(p->data, len, &v) == MSLB_OK)
		gso_segment(&v, &p->off, lb->scratch[0] + IO_HEADROOM, split_one, &c);
}

enum mslb_drop lb_process_pkt(struct mslb_lb *lb, struct io_pkt *p)
{
	enum mslb_drop r = run(lb, p);
	uint32_t len = lb->split_len;

	if (r != MSLB_OK)
		lb->drops[r]++;
	if (len) {
		lb->split_len = 0;
		split(lb, p, len);
	}
	return r;
}
