/* lb_persist: established flows keep their server when the usable next
 * hops change (reload, health, drain), after Beamer's daisy chaining
 * (Olteanu et al., NSDI 2018). The front stays stateless: for a window
 * after a change it also computes the choice the previous generation made,
 * and a packet whose next hop changed carries the previous one in an
 * option (p2opt.h, kind 98). The new back delivers SYNs and the flows it
 * knows (its table of flows, or the server's own sockets through
 * sock_diag) and hands any other marked flow to the previous back over
 * the redirect peers' tunnel, remembering the choice for the flow's later
 * packets, marked or not. */
#include "lb.h"
#include "lb_role.h"

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lb_mptcp.h"
#include "lb_tunnel.h"
#include "lpm.h"
#include "maglev.h"
#include "net/encap.h"
#include "net/fwd.h"
#include "net/gso.h"
#include "net/icmp.h"
#include "net/p2opt.h"
#include "net/tcpopt.h"
#include "redirect/rdr_table.h"

/* Seconds a flow's entry stays after the client's FIN or RST. */
#define FIN_IDLE 60.0
#define RST_IDLE 10.0
#define ST_FIN 0x01
#define ST_RST 0x02

/* ------------------------------------------------------------ the front */

static void prev_free(struct lb_prev *pv)
{
	maglev_destroy(pv->hash[0]);
	maglev_destroy(pv->hash[1]);
	lpm_destroy(pv->own_sources[0]);
	lpm_destroy(pv->own_sources[1]);
	free(pv->hop);
	free(pv->table);
	memset(pv, 0, sizeof(*pv));
}

/* What table entry j of config o chose with these usable next hops. */
static uint32_t entry_choice(const struct mslb_config *o, const bool *usable, unsigned j)
{
	const struct cfg_table_entry *te = &o->front.table[j];

	if (usable[te->next_hop])
		return te->next_hop;
	if (te->has_backup && usable[te->backup])
		return te->backup;
	return LB_PREV_UNMATCHED;
}

/* The generation of config o (its next hops usable as usable says, its
 * hashes given, its source prefixes in sources) in pv. */
static int prev_make(struct lb_prev *pv, const struct mslb_config *o, const bool *usable, struct maglev *hash[2])
{
	memset(pv, 0, sizeof(*pv));
	pv->hash[0] = hash[0];
	pv->hash[1] = hash[1];
	pv->n_hop = o->front.n_next_hops;
	pv->hop = calloc(pv->n_hop + 1, sizeof(*pv->hop));
	pv->table = malloc((o->front.n_table + 1) * sizeof(*pv->table));
	if (!pv->hop || !pv->table)
		return -1;
	for (unsigned j = 0; j < o->front.n_table; j++)
		pv->table[j] = entry_choice(o, usable, j);
	for (unsigned i = 0; i < pv->n_hop; i++) {
		const struct cfg_next_hop *nh = &o->front.next_hops[i];

		pv->hop[i] = (struct lb_prev_hop){ .has = { nh->has4, nh->has6 }, .usable = usable[i] };
		memcpy(pv->hop[i].a[0], nh->a4.bytes, 4);
		memcpy(pv->hop[i].a[1], nh->a6.bytes, 16);
	}
	pv->unmatched = o->front.unmatched;
	pv->unmatched_next_hop = o->front.unmatched_next_hop;
	return 0;
}

static void window_start(struct mslb_lb *lb, double now)
{
	lb->prev.until = now + lb->cfg->front.persistence;
	lb->ps.generations++;
}

void lb_persist_changed(struct mslb_lb *lb, const bool *was, struct maglev *hash[2])
{
	const struct mslb_config *cfg = lb->cfg;

	prev_free(&lb->prev);
	if (!cfg->front.persistence) {
		maglev_destroy(hash[0]);
		maglev_destroy(hash[1]);
		return;
	}
	if (prev_make(&lb->prev, cfg, was, hash) < 0) {
		/* Out of memory: flows that move break, as without persistence. */
		prev_free(&lb->prev);
		return;
	}
	/* The same file: its source prefixes are the data path's own. */
	lb->prev.sources[0] = lb->fam[0].sources;
	lb->prev.sources[1] = lb->fam[1].sources;
	window_start(lb, lb->now);
}

/* The peer of the new config named as old's peer i was, + 1; 0: none. */
static uint32_t peer_again(const struct mslb_config *cfg, const struct mslb_config *o, uint32_t i)
{
	for (unsigned j = 0; j < cfg->redirect.n_peers; j++)
		if (!strcmp(cfg->redirect.peers[j].name, o->redirect.peers[i].name))
			return j + 1;
	return 0;
}

/* A reload at a back: the flows stay known, handed ones to the peer of
 * the same name (or forgotten, when it went). */
static void take_flows(struct mslb_lb *lb, struct mslb_lb *old)
{
	struct rdr_table *from = old->pback->t;

	for (unsigned i = 0; i < rdr_table_slots(from); i++) {
		struct rdr_entry *e = rdr_table_slot(from, i), *n;
		uint32_t aux = 0;
		bool fresh;

		if (!e)
			continue;
		if (e->aux && e->aux <= old->cfg->redirect.n_peers && !(aux = peer_again(lb->cfg, old->cfg, e->aux - 1)))
			continue;
		n = rdr_table_add(lb->pback->t, &e->flow, &fresh);
		if (!n) {
			lb->ps.full++;
			continue;
		}
		*n = *e;
		n->aux = aux;
	}
}

void lb_persist_take(struct mslb_lb *lb, struct mslb_lb *old)
{
	const struct mslb_config *cfg = lb->cfg, *o = old->cfg;
	bool *usable;

	/* The counters go on; setting the usable next hops of the new data
	 * path before this was no change. */
	lb->ps = old->ps;
	if (lb->pback && old->pback)
		take_flows(lb, old);
	prev_free(&lb->prev);
	if (!cfg->front.persistence || !o->has_front || !o->front.n_next_hops)
		return;
	usable = malloc(o->front.n_next_hops);
	if (!usable)
		return;
	for (unsigned i = 0; i < o->front.n_next_hops; i++)
		usable[i] = old->nh[i].usable;
	if (prev_make(&lb->prev, o, usable, (struct maglev *[2]){ NULL, NULL }) < 0)
		goto fail;
	/* The old hashes and source prefixes move here: old is about to go. */
	for (unsigned i = 0; i < 2; i++) {
		lb->prev.hash[i] = old->fam[i].hash;
		lb->prev.sources[i] = lb->prev.own_sources[i] = old->fam[i].sources;
		old->fam[i].hash = NULL;
		old->fam[i].sources = NULL;
		old->fam[i].any_hash = false;
	}
	free(usable);
	window_start(lb, old->now);
	return;
fail:
	free(usable);
	prev_free(&lb->prev);
}

/* The next hop (index into prev.hop) the previous generation chose for
 * flow k, or -1 (an empty hash gives MAGLEV_NONE, beyond prev.n_hop). The
 * same steps as lb_front.c's choose(), on that generation's own table. */
static int prev_choice(const struct mslb_lb *lb, const struct flow_key *k, unsigned alen, unsigned fi)
{
	const struct lb_prev *pv = &lb->prev;
	uint32_t e, t = LB_PREV_UNMATCHED;

	if (k->ports && lb->cfg->front.has_mptcp) {
		if (lb->port_next_hop[k->ports[2] << 8 | k->ports[3]] != LB_PORT_SERVICE || !pv->hash[fi])
			return -1;
		return (int)maglev_lookup(pv->hash[fi], lb_mptcp_flow_hash(k, alen));
	}
	if (pv->sources[fi] && lpm_lookup(pv->sources[fi], k->client, &e))
		t = pv->table[e];
	if (t != LB_PREV_UNMATCHED)
		return (int)t;
	switch (pv->unmatched) {
	case UNMATCHED_NEXT_HOP:
		return pv->hop[pv->unmatched_next_hop].usable ? (int)pv->unmatched_next_hop : -1;
	case UNMATCHED_HASH:
		if (!pv->hash[fi])
			return -1;
		return (int)maglev_lookup(pv->hash[fi], XXH3_64bits(k->client, alen));
	case UNMATCHED_DROP:
		break;
	}
	return -1;
}

/* The largest packet next hop nh takes without cutting: its route's MTU,
 * less the outer header when it encapsulates. */
static unsigned nh_limit(const struct mslb_lb *lb, unsigned nh, unsigned version)
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];
	unsigned ov = hop->mode == NH_ENCAP ? config_outer_version(hop, version) : version;
	unsigned mtu = lb_tunnel_mtu(lb, &lb->nh[nh].tun[mslb_ip_index(ov)], NULL);
	unsigned ovh = hop->mode == NH_ENCAP ? encap_overhead_of((int)ov, hop->encap == ENCAP_GUE) : 0;

	return mtu > ovh ? mtu - ovh : 0;
}

enum mslb_drop lb_persist_mark(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
			       const struct flow_key *k, unsigned nh)
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];
	unsigned fi = mslb_ip_index(v->version), alen = pkt_addr_len(v);
	unsigned grow = v->version == 4 ? P2OPT_V4_JOIN_LEN : P2OPT_V6_LEN, limit;
	const uint8_t *to = fi ? hop->a6.bytes : hop->a4.bytes;
	bool gso = p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	struct p2opt o = { .kind = P2OPT_PREV };
	int was;

	if ((v->l4proto != IPPROTO_TCP && v->l4proto != IPPROTO_UDP) || !v->l4off || v->fragment)
		return MSLB_OK;
	/* A SYN starts a flow: it stays where it goes. */
	if (v->l4proto == IPPROTO_TCP && (v->data[v->l4off + 13] & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return MSLB_OK;
	if (!(fi ? hop->has6 : hop->has4))
		return MSLB_OK;
	was = prev_choice(lb, k, alen, fi);
	if (was < 0 || (unsigned)was >= lb->prev.n_hop || !lb->prev.hop[was].has[fi] ||
	    lb_addr_eq(lb->prev.hop[was].a[fi], to, alen))
		return MSLB_OK;
	/* This node's own back takes it next, and strips nothing. */
	if (lb_back_slot(lb_fam(lb, v->version), to, alen) >= 0)
		return MSLB_OK;
	limit = nh_limit(lb, nh, v->version);
	if (gso) {
		unsigned hl = gso_header_len(v);

		/* Each segment grows by the option: fewer bytes in each. */
		if (!hl || hl + grow >= limit) {
			lb->ps.unmarked++;
			return MSLB_OK;
		}
		if (hl + grow + p->off.gso_size > limit) {
			p->off.gso_size = (uint16_t)(limit - hl - grow);
			lb->ps.gso_shrunk++;
		}
	} else if (v->len + grow > limit) {
		bool df = v->version == 6 || (v->data[IP4_FRAG] & IP4_DF);

		/* The client's packets must shrink by the option's size; one
		 * that may be cut goes on as it is (its flow may move). */
		if (!df || (v->version == 6 && limit - grow < MIN_MTU_V6) || limit <= grow) {
			lb->ps.unmarked++;
			return MSLB_OK;
		}
		lb->ps.mark_too_big++;
		return lb_too_big(lb, &lb->nh[nh].t, v, limit - grow);
	}
	memcpy(o.alt, lb->prev.hop[was].a[fi], alen);
	if (!lb_option_insert(p, v, &o)) {
		lb->ps.unmarked++;
		return MSLB_OK;
	}
	lb->ps.marked++;
	return MSLB_OK;
}

/* ------------------------------------------------------------ the back */

int lb_persist_create(struct mslb_lb *lb)
{
	const struct mslb_config *cfg = lb->cfg;

	if (!cfg->has_back || !cfg->redirect.n_peers)
		return 0;
	lb->pback = calloc(1, sizeof(*lb->pback));
	if (!lb->pback)
		return -1;
	/* The table's seed keeps clients from aiming at one chain of slots. */
	lb->pback->t = rdr_table_create(cfg->back.persist_flows,
					randombytes_random() | (uint64_t)randombytes_random() << 32);
	if (!lb->pback->t)
		return -1;
	return 0;
}

void lb_persist_destroy(struct mslb_lb *lb)
{
	prev_free(&lb->prev);
	if (lb->pback)
		rdr_table_destroy(lb->pback->t);
	free(lb->pback);
	lb->pback = NULL;
}

int lb_persist_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct p2opt *mark)
{
	int r;

	if (!lb_has_options(v))
		return 0;
	r = lb_option_strip(p, v, mark);
	if (r <= 0)
		return r;
	/* A Proposal 2 option where nothing reads it: gone, not followed. */
	if (mark->kind != P2OPT_PREV)
		return 0;
	lb->ps.marks++;
	return 1;
}

static void note_flags(struct rdr_entry *e, const struct pkt_view *v)
{
	uint8_t fl;

	if (v->l4proto != IPPROTO_TCP)
		return;
	fl = v->data[v->l4off + 13];
	if (fl & TCP_RST)
		e->state |= ST_RST;
	else if (fl & TCP_FIN)
		e->state |= ST_FIN;
	else if (fl & TCP_SYN)
		e->state = 0;	/* the ports are used again */
}

static struct rdr_entry *record(struct mslb_lb *lb, const struct rdr_flow *fl, uint32_t aux)
{
	bool fresh;
	struct rdr_entry *e = rdr_table_add(lb->pback->t, fl, &fresh);

	if (!e) {
		lb->ps.full++;
		return NULL;
	}
	if (fresh) {
		e->since = lb->now;
		lb->ps.new_flows += aux == 0;
		lb->ps.handed_flows += aux != 0;
	}
	e->aux = aux;
	e->t1 = lb->now;
	return e;
}

/* Does the server here hold TCP flow fl (sock_diag)? */
static bool server_knows(struct mslb_lb *lb, const struct rdr_flow *fl)
{
	int r;

	if (!lb->known || fl->proto != IPPROTO_TCP)
		return false;
	r = lb->known(lb->known_ctx, fl->version, fl->service, (uint16_t)(fl->sport[0] << 8 | fl->sport[1]),
		      fl->client, (uint16_t)(fl->cport[0] << 8 | fl->cport[1]));
	if (r == 1)
		lb->ps.sock_diag_yes++;
	else if (r == 0)
		lb->ps.sock_diag_no++;
	return r == 1;
}

static enum mslb_drop hand_over(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned peer)
{
	const struct cfg_redirect_peer *rp = &lb->cfg->redirect.peers[peer];
	unsigned k = mslb_ip_index(v->version);

	lb->ps.handed_packets++;
	if (!rp->has_tunnel[k])
		return MSLB_DROP_NO_FAMILY;
	return lb_peer_encap(lb, p, v, peer, v->version, rp->tunnel[k].bytes);
}

bool lb_persist_back(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct p2opt *mark,
		     int from_peer, enum mslb_drop *r)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	struct rdr_flow fl;
	struct rdr_entry *e;
	int k;

	if (!lb->pback) {
		lb->ps.ignored += mark != NULL;
		return false;
	}
	if (!lb_flow_of(v, &fl) || v->fragment)
		return false;
	e = rdr_table_find(lb->pback->t, &fl);
	if (e) {
		e->t1 = lb->now;
		note_flags(e, v);
		lb->ps.known += mark != NULL;
		/* The ports used again by a new connection: it starts here. */
		if (v->l4proto == IPPROTO_TCP && (v->data[v->l4off + 13] & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			e->aux = 0;
		if (!e->aux || e->aux > lb->cfg->redirect.n_peers)
			return false;
		/* A flow that moved twice: handed along the chain of backs
		 * that had it. Never back where it came from, and each step
		 * costs the packet a hop of its TTL, so no cycle lasts. */
		if (from_peer >= 0) {
			if ((unsigned)from_peer == e->aux - 1) {
				lb->ps.cycles++;
				return false;
			}
			if (fwd_ttl_decrement(v->data, v->len) != MSLB_OK) {
				*r = MSLB_DROP_TTL_EXCEEDED;
				return true;
			}
		}
		*r = hand_over(lb, p, v, e->aux - 1);
		return true;
	}
	/* Unmarked, the front says the flow was always this back's; a SYN
	 * starts a flow here; a peer hands over flows that were ours. */
	if (!mark || from_peer >= 0 ||
	    (v->l4proto == IPPROTO_TCP && (v->data[v->l4off + 13] & (TCP_SYN | TCP_ACK)) == TCP_SYN) ||
	    server_knows(lb, &fl)) {
		e = record(lb, &fl, 0);
		if (e)
			note_flags(e, v);
		return false;
	}
	k = lb_addrs_find(&f->peers, mark->alt, pkt_addr_len(v));
	if (k < 0) {
		lb->ps.prev_unknown++;
		return false;
	}
	e = record(lb, &fl, f->peer_index[k] + 1);
	if (e)
		note_flags(e, v);
	*r = hand_over(lb, p, v, f->peer_index[k]);
	return true;
}

struct expiry {
	struct mslb_lb *lb;
	double now;
};

static bool expire_one(void *ctx, struct rdr_entry *e)
{
	struct expiry *x = ctx;
	const struct mslb_config *cfg = x->lb->cfg;
	double idle = e->flow.proto == IPPROTO_TCP ? cfg->back.persist_tcp_idle : cfg->back.persist_udp_idle;

	if (e->state & ST_RST)
		idle = RST_IDLE;
	else if (e->state & ST_FIN)
		idle = idle < FIN_IDLE ? idle : FIN_IDLE;
	if (x->now - e->t1 <= idle)
		return false;
	x->lb->ps.expired++;
	return true;
}

void lb_persist_tick(struct mslb_lb *lb, double now)
{
	struct expiry x = { lb, now };

	if (lb->prev.until && now >= lb->prev.until)
		prev_free(&lb->prev);
	if (!lb->pback)
		return;
	/* The whole table in about 16 s: idle limits are 10 s and more. */
	rdr_table_walk(lb->pback->t, rdr_table_slots(lb->pback->t) / 16 + 1, expire_one, &x);
}

void lb_set_flow_known(struct mslb_lb *lb, lb_known_fn fn, void *ctx)
{
	lb->known = fn;
	lb->known_ctx = ctx;
}

struct lb_persist_stats lb_persist_stats(const struct mslb_lb *lb)
{
	struct lb_persist_stats s = lb->ps;

	s.window_left = lb->prev.until > lb->now ? lb->prev.until - lb->now : 0;
	if (lb->pback) {
		s.flows = rdr_table_count(lb->pback->t);
		s.flows_cap = rdr_table_cap(lb->pback->t);
	}
	return s;
}
