/* rdr: the redirection protocol's state machine (see rdr.h).
 *
 * Receiving runs the cheap checks first, so that a flood costs as little as
 * it can: the source must be a peer, the peer's and the global rates must
 * allow another message, the bytes must decode; only then is the MAC
 * computed, and only a message with a good MAC moves the peer's replay
 * window. */
#include "rdr.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "rdr_auth.h"

#define RDR_TRIES 6		/* transmissions of one message before it is lost */
#define RDR_RTO 0.25		/* first retransmission timeout, doubled each time */
#define RDR_PENDING_MAX 1024	/* messages waiting for their ack */
#define RDR_LINGER 2.0		/* a closed flow's rule outlives its last packet by this */
#define RDR_SYN_IDLE 30.0	/* an owned flow seen at its SYN only */
#define RDR_WALK_SECONDS 1.0	/* a table is walked whole once in this time */

struct bucket {
	double tokens, last;
};

struct replay {
	bool has;
	uint64_t epoch, top, bits;	/* bit d: top - d seen */
};

struct outbox {
	unsigned n;
	struct rdr_rule rule[RDR_MAX_RECORDS];
};

struct peer {
	char name[MSLB_NAME_MAX];
	struct mslb_addr address;
	struct bucket bucket;
	struct replay replay;
	struct outbox out[RDR_DELETE + 1];	/* by type */
	uint64_t seq;			/* of the last message to it: a window per peer */
	struct rdr_counts c;
};

struct pending {
	bool used;
	uint16_t peer;
	uint8_t tries;
	double next;
	uint64_t seq[RDR_TRIES];
	struct rdr_msg msg;
};

struct rdr {
	struct rdr_hot hot;		/* first: rdr_any_rules reads it */
	const struct mslb_config *cfg;	/* &own */
	struct mslb_config own;		/* what it needs of the snapshot, copied */
	struct rdr_table *rules, *owned;
	struct peer *peer;
	unsigned n_peers;
	struct bucket global;
	uint64_t epoch;
	rdr_send_fn send;
	void *send_ctx;
	struct pending *pending;
	unsigned n_pending;
	double last_tick;
	struct rdr_stats s;
	uint8_t buf[RDR_MAX_LEN];
};

static const char *const refuse_names[RDR_REF_MAX] = {
	[RDR_REF_UNKNOWN_PEER] = "unknown_peer",
	[RDR_REF_RATE] = "rate",
	[RDR_REF_MALFORMED] = "malformed",
	[RDR_REF_BAD_MAC] = "bad_mac",
	[RDR_REF_REPLAY] = "replay",
	[RDR_REF_CAP] = "cap",
	[RDR_REF_OWNER] = "bad_owner",
};

const char *rdr_refuse_name(enum rdr_refuse e)
{
	return (unsigned)e < RDR_REF_MAX ? refuse_names[e] : "?";
}

static bool bucket_take(struct bucket *b, double rate, double burst, double now)
{
	b->tokens += (now - b->last) * rate;
	b->last = now;
	if (b->tokens > burst)
		b->tokens = burst;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

/* A sequence of epoch is new: remember it. Epochs only grow: the high 32
 * bits are the sender's start time. */
static bool replay_accept(struct replay *w, uint64_t epoch, uint64_t seq)
{
	uint64_t d;

	if (!w->has || epoch > w->epoch) {
		*w = (struct replay){ .has = true, .epoch = epoch, .top = seq, .bits = 1 };
		return true;
	}
	if (epoch < w->epoch)
		return false;
	if (seq > w->top) {
		d = seq - w->top;
		w->bits = d >= 64 ? 1 : w->bits << d | 1;
		w->top = seq;
		return true;
	}
	d = w->top - seq;
	if (d >= 64 || (w->bits >> d & 1))
		return false;
	w->bits |= 1ull << d;
	return true;
}

static void init_peers(struct peer *p, const struct mslb_config *cfg, double now)
{
	for (unsigned i = 0; i < cfg->redirect.n_peers; i++) {
		memcpy(p[i].name, cfg->redirect.peers[i].name, sizeof(p[i].name));
		p[i].address = cfg->redirect.peers[i].address;
		p[i].bucket = (struct bucket){ .tokens = cfg->redirect.burst, .last = now };
	}
}

/* The redirect group and the back addresses of from, in memory of its
 * own: a reload may free the snapshot whenever it likes. */
static int conf_copy(struct mslb_config *to, const struct mslb_config *from)
{
	unsigned np = from->redirect.n_peers, nb = from->back.n_addresses;

	memset(to, 0, sizeof(*to));
	to->has_redirect = true;
	to->redirect = from->redirect;
	to->redirect.peers = calloc(np + 1, sizeof(*to->redirect.peers));
	to->back.n_addresses = nb;
	to->back.addresses = calloc(nb + 1, sizeof(*to->back.addresses));
	if (!to->redirect.peers || !to->back.addresses)
		return -1;
	memcpy(to->redirect.peers, from->redirect.peers, np * sizeof(*to->redirect.peers));
	memcpy(to->back.addresses, from->back.addresses, nb * sizeof(*to->back.addresses));
	return 0;
}

static void conf_free(struct mslb_config *c)
{
	explicit_bzero(c->redirect.keys, sizeof(c->redirect.keys));
	free(c->redirect.peers);
	free(c->back.addresses);
	c->redirect.peers = NULL;
	c->back.addresses = NULL;
}

/* Epochs grow from one start to the next with the clock: its
 * microseconds in the high 52 bits (enough until 2112), 12 random bits
 * below, so that no two starts share one. */
static uint64_t new_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u) << 12 |
	       (rdr_auth_random64() & 0xfffu);
}

struct rdr *rdr_create(const struct mslb_config *in, double now)
{
	struct rdr *r = calloc(1, sizeof(*r));
	const struct mslb_config *cfg;

	if (!r)
		return NULL;
	cfg = r->cfg = &r->own;
	if (conf_copy(&r->own, in) < 0) {
		rdr_destroy(r);
		return NULL;
	}
	r->n_peers = cfg->redirect.n_peers;
	r->peer = calloc(r->n_peers + 1, sizeof(*r->peer));
	r->pending = calloc(RDR_PENDING_MAX, sizeof(*r->pending));
	r->rules = rdr_table_create(cfg->redirect.max_rules, rdr_auth_random64());
	r->owned = rdr_table_create(cfg->redirect.max_rules, rdr_auth_random64());
	if (!r->peer || !r->pending || !r->rules || !r->owned) {
		rdr_destroy(r);
		return NULL;
	}
	init_peers(r->peer, cfg, now);
	r->global = (struct bucket){ .tokens = cfg->redirect.global_rate, .last = now };
	r->epoch = new_epoch();
	r->s.epoch = r->epoch;
	r->last_tick = now;
	return r;
}

void rdr_destroy(struct rdr *r)
{
	if (!r)
		return;
	rdr_table_destroy(r->rules);
	rdr_table_destroy(r->owned);
	free(r->peer);
	free(r->pending);
	conf_free(&r->own);
	free(r);
}

void rdr_set_send(struct rdr *r, rdr_send_fn fn, void *ctx)
{
	r->send = fn;
	r->send_ctx = ctx;
}

int rdr_peer_index(const struct rdr *r, const char *name)
{
	for (unsigned i = 0; i < r->n_peers; i++)
		if (!strcmp(r->peer[i].name, name))
			return (int)i;
	return -1;
}

static int peer_by_addr(const struct rdr *r, const struct mslb_addr *a)
{
	for (unsigned i = 0; i < r->n_peers; i++)
		if (mslb_addr_eq(&r->peer[i].address, a))
			return (int)i;
	return -1;
}

/* Entries of table from whose peer is kept (map[old] >= 0) go to table
 * to, under their peer's new index. */
static void move_entries(struct rdr_table *from, struct rdr_table *to, const int *map)
{
	for (unsigned i = 0; i < rdr_table_slots(from); i++) {
		struct rdr_entry *e = rdr_table_slot(from, i), *n;
		bool fresh;

		if (!e || map[e->peer] < 0)
			continue;
		n = rdr_table_add(to, &e->flow, &fresh);
		if (!n)
			return;		/* a smaller cap: the rest are dropped */
		*n = *e;
		n->peer = (uint16_t)map[e->peer];
	}
}

static void count_peers(struct rdr *r)
{
	for (unsigned i = 0; i < r->n_peers; i++)
		r->peer[i].c.rules = r->peer[i].c.owned = 0;
	for (int which = 0; which < 2; which++) {
		struct rdr_table *t = which ? r->owned : r->rules;

		for (unsigned i = 0; i < rdr_table_slots(t); i++) {
			const struct rdr_entry *e = rdr_table_slot(t, i);

			if (e && which)
				r->peer[e->peer].c.owned++;
			else if (e)
				r->peer[e->peer].c.rules++;
		}
	}
	r->hot.rules = rdr_table_count(r->rules);
	r->hot.owned = rdr_table_count(r->owned);
}

int rdr_reconfigure(struct rdr *r, const struct mslb_config *in)
{
	struct mslb_config conf;
	const struct mslb_config *cfg = &conf;
	unsigned n = in->redirect.n_peers;
	struct peer *np = calloc(n + 1, sizeof(*np));
	int *map = calloc(r->n_peers + 1, sizeof(*map));
	struct rdr_table *rules = rdr_table_create(in->redirect.max_rules, rdr_auth_random64());
	struct rdr_table *owned = rdr_table_create(in->redirect.max_rules, rdr_auth_random64());

	if (conf_copy(&conf, in) < 0 || !np || !map || !rules || !owned) {
		conf_free(&conf);
		free(np);
		free(map);
		rdr_table_destroy(rules);
		rdr_table_destroy(owned);
		return -1;
	}
	init_peers(np, cfg, r->last_tick);
	for (unsigned i = 0; i < r->n_peers; i++) {
		map[i] = -1;
		for (unsigned j = 0; j < n; j++) {
			if (strcmp(r->peer[i].name, np[j].name))
				continue;
			/* A reload is no new start of the peer's: its window,
			 * bucket, queue and counters stay; its address may
			 * change. */
			map[i] = (int)j;
			np[j].replay = r->peer[i].replay;
			np[j].bucket = r->peer[i].bucket;
			np[j].c = r->peer[i].c;
			np[j].seq = r->peer[i].seq;
			memcpy(np[j].out, r->peer[i].out, sizeof(np[j].out));
		}
	}
	move_entries(r->rules, rules, map);
	move_entries(r->owned, owned, map);
	for (unsigned i = 0; i < RDR_PENDING_MAX; i++) {
		struct pending *p = &r->pending[i];

		if (!p->used)
			continue;
		if (map[p->peer] < 0) {
			p->used = false;
			r->n_pending--;
		} else {
			p->peer = (uint16_t)map[p->peer];
		}
	}
	rdr_table_destroy(r->rules);
	rdr_table_destroy(r->owned);
	free(r->peer);
	free(map);
	r->rules = rules;
	r->owned = owned;
	r->peer = np;
	r->n_peers = n;
	conf_free(&r->own);
	r->own = conf;
	count_peers(r);
	return 0;
}

/* Sign and send m to peer i under a new sequence number; the number. */
static uint64_t transmit(struct rdr *r, unsigned i, struct rdr_msg *m)
{
	const struct cfg_redirect_key *k = &r->cfg->redirect.keys[0];
	size_t len;

	m->epoch = r->epoch;
	m->seq = ++r->peer[i].seq;
	m->key_id = k->id;
	len = rdr_encode(m, r->buf);
	if (!len)
		return 0;	/* not reached: the records were checked */
	rdr_auth_sign(k, r->buf, len);
	if (r->send)
		r->send(r->send_ctx, &r->peer[i].address, r->buf, len);
	r->peer[i].c.sent++;
	r->s.all.sent++;
	return m->seq;
}

/* A message that wants an ack: sent now, kept until acked or lost. */
static void send_reliable(struct rdr *r, unsigned i, unsigned type, const struct outbox *o, double now)
{
	struct pending *p = NULL;

	if (r->n_pending < RDR_PENDING_MAX)
		for (unsigned k = 0; k < RDR_PENDING_MAX; k++)
			if (!r->pending[k].used) {
				p = &r->pending[k];
				break;
			}
	if (!p) {
		r->s.queue_full++;
		return;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->peer = (uint16_t)i;
	p->msg.type = (uint8_t)type;
	p->msg.count = (uint16_t)o->n;
	memcpy(p->msg.u.rule, o->rule, o->n * sizeof(o->rule[0]));
	p->seq[0] = transmit(r, i, &p->msg);
	p->tries = 1;
	p->next = now + RDR_RTO;
	r->n_pending++;
}

static void flush_peer(struct rdr *r, unsigned i, unsigned type, double now)
{
	struct outbox *o = &r->peer[i].out[type];

	if (o->n) {
		send_reliable(r, i, type, o, now);
		o->n = 0;
	}
}

/* Queue a record for peer i; a full message leaves at once. */
static void queue(struct rdr *r, unsigned i, unsigned type, const struct rdr_rule *rule, double now)
{
	struct outbox *o = &r->peer[i].out[type];

	o->rule[o->n++] = *rule;
	if (o->n == RDR_MAX_RECORDS)
		flush_peer(r, i, type, now);
}

void rdr_flush(struct rdr *r, double now)
{
	for (unsigned i = 0; i < r->n_peers; i++)
		for (unsigned t = RDR_INSTALL; t <= RDR_DELETE; t++)
			flush_peer(r, i, t, now);
}

/* The record of an owned flow e, for a message of type. */
static struct rdr_rule owned_rule(const struct rdr *r, const struct rdr_entry *e, unsigned type)
{
	struct rdr_rule rule = { .flow = e->flow, .owner_version = e->owner_version };

	memcpy(rule.owner, e->owner, sizeof(rule.owner));
	rule.ttl = type == RDR_DELETE ? 0 : (uint16_t)r->cfg->redirect.rule_ttl;
	return rule;
}

/* This back's address a peer sends a flow of version v to: its first
 * back address of that family, else of the other. */
static const struct mslb_addr *owner_address(const struct mslb_config *cfg, unsigned v)
{
	const struct mslb_addr *other = NULL;

	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct mslb_addr *a = &cfg->back.addresses[i].address;

		if (mslb_ip_index(v) == mslb_af_index(a->family))
			return a;
		if (!other)
			other = a;
	}
	return other;
}

int rdr_own(struct rdr *r, unsigned peer, const struct rdr_flow *f, double now)
{
	const struct mslb_addr *me = owner_address(r->cfg, f->version);
	struct rdr_entry *e;
	struct rdr_rule rule;
	bool fresh;

	if (!me || peer >= r->n_peers)
		return -2;
	e = rdr_table_add(r->owned, f, &fresh);
	if (!e)
		return -1;
	if (!fresh && e->peer != peer) {
		/* It moves: the old peer's rule goes. */
		rule = owned_rule(r, e, RDR_DELETE);
		queue(r, e->peer, RDR_DELETE, &rule, now);
		r->peer[e->peer].c.owned--;
		fresh = true;
	}
	if (fresh) {
		r->peer[peer].c.owned++;
		e->peer = (uint16_t)peer;
		e->since = now;
	}
	e->owner_version = me->family == AF_INET ? 4 : 6;
	memcpy(e->owner, me->bytes, sizeof(e->owner));
	e->state = 0;
	e->t1 = now;
	e->t2 = now + r->cfg->redirect.rule_ttl / 3.0;
	rule = owned_rule(r, e, RDR_INSTALL);
	queue(r, peer, RDR_INSTALL, &rule, now);
	r->hot.owned = rdr_table_count(r->owned);
	return 0;
}

static void disown(struct rdr *r, struct rdr_entry *e, double now)
{
	struct rdr_rule rule = owned_rule(r, e, RDR_DELETE);

	queue(r, e->peer, RDR_DELETE, &rule, now);
	r->peer[e->peer].c.owned--;
}

int rdr_disown(struct rdr *r, const struct rdr_flow *f, double now)
{
	struct rdr_entry *e = rdr_table_find(r->owned, f);

	if (!e)
		return -1;
	disown(r, e, now);
	rdr_table_del(r->owned, e);
	r->hot.owned = rdr_table_count(r->owned);
	return 0;
}

const struct rdr_entry *rdr_rule(struct rdr *r, const struct rdr_flow *f, double now)
{
	const struct rdr_entry *e = rdr_table_find(r->rules, f);

	return e && e->t1 > now ? e : NULL;
}

void rdr_count_redirect(struct rdr *r, const struct rdr_entry *e, uint32_t len)
{
	struct rdr_counts *c = &r->peer[e->peer].c;

	c->redirected++;
	c->redirected_bytes += len;
	r->s.all.redirected++;
	r->s.all.redirected_bytes += len;
}

void rdr_seen(struct rdr *r, const struct rdr_flow *f, uint8_t tcp_flags, bool from_client, double now)
{
	struct rdr_entry *e = rdr_table_find(r->owned, f);

	if (!e)
		return;
	e->t1 = now;
	if (!(tcp_flags & 0x02))	/* not a SYN */
		e->state |= RDR_OWN_LIVE;
	if (tcp_flags & 0x04)		/* RST */
		e->state |= RDR_OWN_RST;
	else if (tcp_flags & 0x01)	/* FIN */
		e->state |= from_client ? RDR_OWN_FIN_IN : RDR_OWN_FIN_OUT;
}

/* Rules here: expired ones go. */
static bool sweep_rule(void *ctx, struct rdr_entry *e)
{
	struct rdr *r = ctx;

	if (e->t1 > r->last_tick)
		return false;
	r->peer[e->peer].c.rules--;
	r->s.expired++;
	return true;
}

/* Owned flows: refreshed while they live, deleted when they ended. */
static bool sweep_owned(void *ctx, struct rdr_entry *e)
{
	struct rdr *r = ctx;
	double now = r->last_tick, idle = now - e->t1;
	bool closed = (e->state & RDR_OWN_RST) ||
		      (e->state & (RDR_OWN_FIN_IN | RDR_OWN_FIN_OUT)) == (RDR_OWN_FIN_IN | RDR_OWN_FIN_OUT);
	struct rdr_rule rule;

	/* A subflow whose SYN alone went by (spoofed SYNs, say) is given up
	 * soon, so that they cannot hold the owned table. */
	if ((closed && idle >= RDR_LINGER) || idle >= r->cfg->redirect.rule_ttl ||
	    (!(e->state & RDR_OWN_LIVE) && idle >= RDR_SYN_IDLE)) {
		disown(r, e, now);
		return true;
	}
	if (now >= e->t2) {
		rule = owned_rule(r, e, RDR_REFRESH);
		queue(r, e->peer, RDR_REFRESH, &rule, now);
		e->t2 = now + r->cfg->redirect.rule_ttl / 3.0;
	}
	return false;
}

static void retransmit(struct rdr *r, double now)
{
	for (unsigned k = 0; k < RDR_PENDING_MAX && r->n_pending; k++) {
		struct pending *p = &r->pending[k];

		if (!p->used || now < p->next)
			continue;
		if (p->tries >= RDR_TRIES) {
			p->used = false;
			r->n_pending--;
			r->peer[p->peer].c.lost++;
			r->s.all.lost++;
			continue;
		}
		p->seq[p->tries] = transmit(r, p->peer, &p->msg);
		p->next = now + RDR_RTO * (double)(1u << p->tries);
		p->tries++;
		r->peer[p->peer].c.retransmitted++;
		r->s.all.retransmitted++;
	}
}

static unsigned walk_len(struct rdr_table *t)
{
	return (unsigned)(rdr_table_slots(t) * (RDR_TICK / RDR_WALK_SECONDS)) + 1;
}

void rdr_tick(struct rdr *r, double now)
{
	r->last_tick = now;
	rdr_table_walk(r->rules, walk_len(r->rules), sweep_rule, r);
	rdr_table_walk(r->owned, walk_len(r->owned), sweep_owned, r);
	r->hot.rules = rdr_table_count(r->rules);
	r->hot.owned = rdr_table_count(r->owned);
	retransmit(r, now);
	rdr_flush(r, now);
}

static bool peer_tunnel(const struct cfg_redirect_peer *p, uint8_t version, const uint8_t *a)
{
	unsigned k = mslb_ip_index(version);

	return p->has_tunnel[k] && !memcmp(p->tunnel[k].bytes, a, version == 4 ? 4 : 16);
}

/* Install or refresh a rule from peer i; its status. */
static enum rdr_status install(struct rdr *r, unsigned i, const struct rdr_rule *rule, double now)
{
	const struct mslb_config *cfg = r->cfg;
	struct rdr_entry *e;
	bool fresh;

	if (!peer_tunnel(&cfg->redirect.peers[i], rule->owner_version, rule->owner)) {
		r->peer[i].c.refused[RDR_REF_OWNER]++;
		r->s.all.refused[RDR_REF_OWNER]++;
		return RDR_ST_OWNER;
	}
	e = rdr_table_find(r->rules, &rule->flow);
	/* A new rule, or one that changes hands, counts against the peer. */
	if ((!e || e->peer != i) && r->peer[i].c.rules >= cfg->redirect.max_rules_per_peer)
		e = NULL, fresh = false;
	else
		e = rdr_table_add(r->rules, &rule->flow, &fresh);
	if (!e) {
		r->peer[i].c.refused[RDR_REF_CAP]++;
		r->s.all.refused[RDR_REF_CAP]++;
		return RDR_ST_CAP;
	}
	if (fresh || e->peer != i) {
		if (!fresh)
			r->peer[e->peer].c.rules--;
		r->peer[i].c.rules++;
		e->peer = (uint16_t)i;
		e->since = now;
		r->s.installed++;
	}
	e->owner_version = rule->owner_version;
	memcpy(e->owner, rule->owner, sizeof(e->owner));
	e->t1 = now + rule->ttl;
	return RDR_ST_OK;
}

static void delete_rule(struct rdr *r, unsigned i, const struct rdr_rule *rule)
{
	struct rdr_entry *e = rdr_table_find(r->rules, &rule->flow);

	/* Only the owner takes its rule away. */
	if (e && e->peer == i) {
		r->peer[i].c.rules--;
		rdr_table_del(r->rules, e);
		r->s.deleted++;
	}
}

static void acked(struct rdr *r, unsigned i, const struct rdr_msg *m)
{
	if (m->u.ack.epoch != r->epoch)
		return;		/* for an earlier start of ours */
	for (unsigned k = 0; k < RDR_PENDING_MAX && r->n_pending; k++) {
		struct pending *p = &r->pending[k];
		bool match = false;

		if (!p->used || p->peer != i)
			continue;
		for (unsigned t = 0; t < p->tries; t++)
			match |= p->seq[t] == m->u.ack.seq;
		if (!match)
			continue;
		for (unsigned n = 0; n < m->count && n < p->msg.count; n++) {
			if (m->u.ack.status[n] != RDR_ST_OK) {
				r->peer[i].c.refused_by_peer++;
				r->s.all.refused_by_peer++;
			} else if (p->msg.type == RDR_INSTALL) {
				struct rdr_entry *e = rdr_table_find(r->owned, &p->msg.u.rule[n].flow);

				if (e)
					e->state |= RDR_OWN_ACKED;
			}
		}
		p->used = false;
		r->n_pending--;
		r->peer[i].c.acked++;
		r->s.all.acked++;
		return;
	}
}

static void refuse(struct rdr *r, int i, enum rdr_refuse why)
{
	r->s.all.refused[why]++;
	if (i >= 0)
		r->peer[i].c.refused[why]++;
}

void rdr_input(struct rdr *r, const struct mslb_addr *from, const uint8_t *buf, size_t len, double now)
{
	const struct mslb_config *cfg = r->cfg;
	const struct cfg_redirect_key *k;
	int i = peer_by_addr(r, from);
	struct rdr_msg m, ack;

	if (i < 0) {
		refuse(r, -1, RDR_REF_UNKNOWN_PEER);
		return;
	}
	/* The peer's own bucket first: a flood under one peer's (forgeable)
	 * address then cannot spend the tokens the other peers need. */
	if (!bucket_take(&r->peer[i].bucket, cfg->redirect.rate, cfg->redirect.burst, now) ||
	    !bucket_take(&r->global, cfg->redirect.global_rate, cfg->redirect.global_rate, now)) {
		refuse(r, i, RDR_REF_RATE);
		return;
	}
	if (rdr_decode(buf, len, &m) != RDR_PARSE_OK) {
		refuse(r, i, RDR_REF_MALFORMED);
		return;
	}
	k = rdr_auth_key(cfg->redirect.keys, cfg->redirect.n_keys, m.key_id);
	if (!k || !rdr_auth_verify(k, buf, len)) {
		refuse(r, i, RDR_REF_BAD_MAC);
		return;
	}
	if (!replay_accept(&r->peer[i].replay, m.epoch, m.seq)) {
		refuse(r, i, RDR_REF_REPLAY);
		return;
	}
	r->peer[i].c.received++;
	r->s.all.received++;
	if (m.type == RDR_ACK) {
		acked(r, (unsigned)i, &m);
		return;
	}
	ack = (struct rdr_msg){ .type = RDR_ACK, .count = m.count };
	ack.u.ack.epoch = m.epoch;
	ack.u.ack.seq = m.seq;
	for (unsigned n = 0; n < m.count; n++) {
		if (m.type == RDR_DELETE)
			delete_rule(r, (unsigned)i, &m.u.rule[n]);
		else
			ack.u.ack.status[n] = (uint8_t)install(r, (unsigned)i, &m.u.rule[n], now);
	}
	r->hot.rules = rdr_table_count(r->rules);
	transmit(r, (unsigned)i, &ack);
}

void rdr_get_stats(const struct rdr *r, struct rdr_stats *s, double now)
{
	*s = r->s;
	s->all.rules = rdr_table_count(r->rules);
	s->all.owned = rdr_table_count(r->owned);
	s->oldest = 0;
	for (unsigned i = 0; i < rdr_table_slots(r->rules); i++) {
		const struct rdr_entry *e = rdr_table_slot(r->rules, i);

		if (e && now - e->since > s->oldest)
			s->oldest = now - e->since;
	}
}

void rdr_get_peer(const struct rdr *r, unsigned i, struct rdr_counts *c)
{
	*c = r->peer[i].c;
}

const struct mslb_config *rdr_config(const struct rdr *r)
{
	return r->cfg;
}
