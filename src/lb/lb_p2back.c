/* lb_p2back: MPTCP Proposal 2 at the back. A SYN from a Proposal 2 front
 * carries the front's option (p2opt.h): the back takes it out, so that the
 * server sees the client's bytes, and when the front named another next
 * hop as the alternate (where this subflow's segments without a timestamp
 * will go), it has the redirection protocol install a rule there. */
#include "lb_p2.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/mptcpopt.h"
#include "net/p2opt.h"
#include "net/pkt.h"
#include "net/tcpopt.h"

int lb_p2_back_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct p2opt *o)
{
	uint8_t *tcp;
	int r;

	/* Only a back that runs Proposal 2 trusts the option: elsewhere it
	 * reaches the server, which skips it. */
	if (!lb->cfg->back.has_p2 || v->l4proto != IPPROTO_TCP || !v->l4off || v->fragment)
		return 0;
	tcp = v->data + v->l4off;
	if ((tcp[13] & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return 0;
	/* Cheap first: no IPv4 options, no IPv6 destination options. */
	if (!lb_has_options(v))
		return 0;
	r = lb_option_strip(p, v, o);
	if (r <= 0)
		return r;
	lb->p2b.stripped++;
	/* A persistence mark is no Proposal 2 option (and never in a SYN). */
	return o->kind == P2OPT_PREV ? 0 : 1;
}

void lb_p2_back_own(struct mslb_lb *lb, const struct pkt_view *v, const struct p2opt *o)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	unsigned alen = pkt_addr_len(v);
	static const uint8_t none[16];
	struct rdr_flow fl;
	int k;

	if (!memcmp(o->alt, none, alen) || lb_back_slot(f, o->alt, alen) >= 0)
		return;		/* the alternate is this back: nothing to redirect */
	k = lb_addrs_find(&f->peers, o->alt, alen);
	if (!lb->rdr || k < 0) {
		lb->p2b.alt_unknown++;
		return;
	}
	memset(&fl, 0, sizeof(fl));
	fl.version = v->version;
	fl.proto = IPPROTO_TCP;
	memcpy(fl.cport, v->data + v->l4off, 2);
	memcpy(fl.sport, v->data + v->l4off + 2, 2);
	memcpy(fl.client, pkt_src(v), alen);
	memcpy(fl.service, pkt_dst(v), alen);
	if (rdr_own(lb->rdr, f->peer_index[k], &fl, lb->now) == 0)
		lb->p2b.rules++;
	else
		lb->p2b.rules_failed++;
}

/* ---- the subflows' state: keys and timestamps ---------------------------
 *
 * The stock server draws its own key and runs its own timestamp clock. The
 * back makes the client see the front's key (lb_p2keys.c translates every
 * field that depends on it), and puts the token's bucket into the low 14
 * bits of every TSval, which the client echoes in TSecr for the front to
 * route by.
 *
 * TSval' = V << 14 | bits, where V counts the changes of the server's own
 * TSval: it moves only when the server's clock has moved and a segment is
 * sent, so a subflow idle for hours resumes with a TSval just above the
 * last one, and the client's PAWS check (RFC 7323 5) never drops it, as it
 * would after (T mod 262 s) in (131, 262) s with the draft's plain shift
 * of a 1 kHz clock. The last LB_P2_RING values of V map back to the
 * server's own TSval, which TSecr gets back exactly on the way in (a
 * server under a SYN flood answers with syncookies, which decode from the
 * third ACK's TSecr); an older echo becomes
 * 0, which the server takes for "no RTT sample". */

struct lb_p2back *lb_p2back_create(unsigned cap)
{
	struct lb_p2back *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cap = cap;
	b->ix = rdr_table_create(cap, randombytes_random() | (uint64_t)randombytes_random() << 32);
	b->pool = calloc(cap, sizeof(*b->pool));
	b->free = calloc(cap, sizeof(*b->free));
	if (!b->ix || !b->pool || !b->free || lb_p2k_init(b, cap) < 0) {
		lb_p2back_destroy(b);
		return NULL;
	}
	for (unsigned i = 0; i < cap; i++)
		b->free[i] = cap - 1 - i;
	b->n_free = cap;
	return b;
}

void lb_p2back_destroy(struct lb_p2back *b)
{
	if (!b)
		return;
	lb_p2k_fini(b);
	rdr_table_destroy(b->ix);
	free(b->pool);
	free(b->free);
	free(b);
}

static void flow_key(const struct pkt_view *v, bool from_client, struct rdr_flow *f)
{
	unsigned alen = pkt_addr_len(v);
	const uint8_t *tcp = v->data + v->l4off;

	memset(f, 0, sizeof(*f));
	f->version = v->version;
	f->proto = IPPROTO_TCP;
	memcpy(f->cport, tcp + (from_client ? 0 : 2), 2);
	memcpy(f->sport, tcp + (from_client ? 2 : 0), 2);
	memcpy(f->client, from_client ? pkt_src(v) : pkt_dst(v), alen);
	memcpy(f->service, from_client ? pkt_dst(v) : pkt_src(v), alen);
}

static struct lb_p2flow *flow_find(struct lb_p2back *b, const struct rdr_flow *f)
{
	struct rdr_entry *e = rdr_table_find(b->ix, f);

	return e ? &b->pool[e->aux] : NULL;
}

static struct lb_p2flow *flow_make(struct mslb_lb *lb, const struct rdr_flow *f)
{
	struct lb_p2back *b = lb->p2back;
	struct rdr_entry *e;
	bool fresh;

	if (!b->n_free && !rdr_table_find(b->ix, f)) {
		lb->p2b.flows_full++;
		return NULL;
	}
	e = rdr_table_add(b->ix, f, &fresh);
	if (!e) {
		lb->p2b.flows_full++;
		return NULL;
	}
	if (fresh) {
		e->aux = b->free[--b->n_free];
		memset(&b->pool[e->aux], 0, sizeof(b->pool[e->aux]));
		lb->p2b.flows_made++;
	}
	return &b->pool[e->aux];
}

static bool p2_port(const struct mslb_lb *lb, const uint8_t *port)
{
	unsigned p = (unsigned)port[0] << 8 | port[1];

	return lb->p2_ports[p / 64] >> (p % 64) & 1;
}

/* n bytes at field of the TCP segment v become new: the checksum follows,
 * unless the kernel still has to finish it (it then sums the header as it
 * is). The checksum adds 16-bit words from the TCP header's start, and a
 * TCP option may sit at an odd offset (NOP, TS, NOP): the update covers
 * the even-aligned words around the change. */
void lb_p2_put(struct io_pkt *p, struct pkt_view *v, uint8_t *field, const uint8_t *new, unsigned n)
{
	uint8_t *tcp = v->data + v->l4off, old[LB_P2_PUT_MAX + 2];
	unsigned from = (unsigned)(field - tcp) & ~1u, to = ((unsigned)(field - tcp) + n + 1) & ~1u;

	memcpy(old, tcp + from, to - from);
	memcpy(field, new, n);
	if (!io_has_partial(p) && v->csum_off)
		csum_update(v->data + v->csum_off, old, tcp + from, to - from);
}

static void put_field(struct io_pkt *p, struct pkt_view *v, uint8_t *field, uint32_t val)
{
	uint8_t b[4];

	tcpopt_put32(b, val);
	lb_p2_put(p, v, field, b, 4);
}

/* The third ACK of a handshake whose SYN never came here (no state), and
 * that no rule sends on: the server here would answer it with a RST, which
 * kills the client's subflow. It went by the 5-tuple hash (no timestamp)
 * and beat the owner's rule here; without it, the client sends it again
 * (the server's SYN/ACK comes again, or the MP_JOIN ACK waits for its
 * ACK), and by then the rule carries it to the owner. */
static bool early_handshake(struct mslb_lb *lb, const struct tcpopt *t, const struct rdr_flow *f)
{
	/* No peers: no rule will come. A full table: its SYN got no state
	 * here either, and the server knows it. */
	if (!lb->rdr || !lb->p2back->n_free)
		return false;
	for (unsigned i = 0; i < t->n_mp; i++) {
		uint8_t len = t->mp_len[i];
		int sub = len >= 3 ? t->mp[i][2] >> 4 : -1;

		if ((sub == MPTCP_SUB_CAPABLE && len >= 20) || (sub == MPTCP_SUB_JOIN && len == 24)) {
			if (rdr_any_rules(lb->rdr) && rdr_rule(lb->rdr, f, lb->now))
				return false;
			lb->p2b.early_acks++;
			return true;
		}
	}
	return false;
}

bool lb_p2_back_in(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct p2opt *o)
{
	uint8_t *tcp, flags;
	struct rdr_flow f;
	struct lb_p2flow *fl;
	struct tcpopt t;

	if (!lb->p2back || v->l4proto != IPPROTO_TCP || !v->l4off || v->fragment)
		return false;
	tcp = v->data + v->l4off;
	if (!p2_port(lb, tcp + 2) || !tcpopt_scan(tcp, v->len - v->l4off, &t))
		return false;
	flags = tcp[13];
	flow_key(v, true, &f);
	if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		int sub = tcpopt_mptcp_sub(&t);

		fl = flow_make(lb, &f);
		if (!fl)
			return false;
		/* The same SYN again (the client did not get the SYN/ACK in
		 * time): the state goes on as it was, V above all, or the
		 * client that then gets the first SYN/ACK after all sees the
		 * TSvals go back and drops them (PAWS). A SYN for a subflow
		 * that lives (a spoofed one, most likely) changes nothing; a
		 * new connection on the 5-tuple starts afresh. */
		if ((fl->flags & LB_P2F_SYN) && fl->isn == tcpopt_get32(tcp + 4)) {
			fl->last_seen = lb->now;
			if (fl->conn && sub == MPTCP_SUB_JOIN && t.mptcp_len == 12)
				lb_p2k_join_syn(lb, fl, p, v, t.mptcp);
			return false;
		}
		if ((fl->flags & LB_P2F_EST) &&
		    !(fl->flags & (LB_P2F_RST | LB_P2F_FIN_IN | LB_P2F_FIN_OUT)))
			return false;
		lb_p2k_release(lb, fl);
		memset(fl, 0, sizeof(*fl));
		fl->flags = LB_P2F_SYN;
		fl->isn = tcpopt_get32(tcp + 4);
		if (o && o->kind == P2OPT_CAPABLE && sub == MPTCP_SUB_CAPABLE) {
			memcpy(fl->key, o->key, 8);
			fl->flags |= LB_P2F_KEY;
			fl->bits = (uint16_t)(lb_p2_token(o->key) >> (32 - LB_P2_BITS));
			lb_p2k_capable_syn(lb, fl);
		} else if (sub == MPTCP_SUB_JOIN && t.mptcp_len == 12) {
			fl->bits = (uint16_t)(tcpopt_get32(t.mptcp + 4) >> (32 - LB_P2_BITS));
			lb_p2k_join_syn(lb, fl, p, v, t.mptcp);
		} else {
			/* Plain TCP (or a front that had no room): the value that
			 * has the front hash the 5-tuple, as it did for this SYN. */
			fl->bits = LB_P2_HASH_ME;
		}
		fl->last_seen = lb->now;
		return false;
	}
	fl = flow_find(lb->p2back, &f);
	if (!fl)
		return t.n_mp && !(flags & TCP_RST) && early_handshake(lb, &t, &f);
	if (flags & TCP_RST)
		fl->flags |= LB_P2F_RST;
	if (flags & TCP_FIN)
		fl->flags |= LB_P2F_FIN_IN;
	if (t.ts && (fl->flags & LB_P2F_STARTED)) {
		uint32_t echo = tcpopt_get32(t.ts + 6), vv = echo >> LB_P2_BITS, kts = 0;

		if (fl->ring[vv % LB_P2_RING].v == vv)
			kts = fl->ring[vv % LB_P2_RING].kts;
		if (kts) {
			/* Only an echo of what the server sent proves a live
			 * client (a blind spoofer cannot know it): the state
			 * then stays for flow_idle, not 30 s. */
			fl->flags |= LB_P2F_EST;
			fl->last_seen = lb->now;
			lb->p2b.tsecr++;
		} else {
			lb->p2b.tsecr_unknown++;
		}
		put_field(p, v, t.ts + 6, kts);
	}
	if (t.n_mp)
		lb_p2k_in(lb, fl, p, v, &t);
	return false;
}

void lb_p2_back_out(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	uint8_t *tcp = v->data + v->l4off, flags = tcp[13];
	struct rdr_flow f;
	struct lb_p2flow *fl;
	struct tcpopt t;

	if (!tcpopt_scan(tcp, v->len - v->l4off, &t))
		return;
	flow_key(v, false, &f);
	fl = flow_find(lb->p2back, &f);
	if (!fl) {
		/* No SYN seen (state lost, or older than this daemon): the hash
		 * value, as for plain TCP. */
		fl = flow_make(lb, &f);
		if (!fl) {
			/* The table is full: the server's own TSval with the
			 * hash value in its low bits, so that the front at
			 * least hashes the 5-tuple (TSecr is not restored). */
			if (t.ts)
				put_field(p, v, t.ts + 2, tcpopt_get32(t.ts + 2) | LB_P2_HASH_ME);
			return;
		}
		fl->bits = LB_P2_HASH_ME;
		lb->p2b.flows_late++;
	}
	fl->last_seen = lb->now;
	if (flags & TCP_RST)
		fl->flags |= LB_P2F_RST;
	if (flags & TCP_FIN)
		fl->flags |= LB_P2F_FIN_OUT;
	if (rdr_any_owned(lb->rdr))
		rdr_seen(lb->rdr, &f, flags, false, lb->now);
	/* The client sees the front's key, the server its own. */
	if (t.n_mp)
		lb_p2k_out(lb, fl, p, v, &t, flags);
	if (t.ts) {
		uint32_t kts = tcpopt_get32(t.ts + 2);

		if (!(fl->flags & LB_P2F_STARTED)) {
			fl->v = randombytes_uniform(1u << (32 - LB_P2_BITS));
			fl->last_kts = kts;
			fl->flags |= LB_P2F_STARTED;
		} else if (kts != fl->last_kts) {
			fl->v = (fl->v + 1) & ((1u << (32 - LB_P2_BITS)) - 1);
			fl->last_kts = kts;
		}
		fl->ring[fl->v % LB_P2_RING].v = fl->v;
		fl->ring[fl->v % LB_P2_RING].kts = kts;
		put_field(p, v, t.ts + 2, fl->v << LB_P2_BITS | fl->bits);
		lb->p2b.tsval++;
	}
}

bool lb_p2_back_is_out(const struct mslb_lb *lb, const struct pkt_view *v)
{
	return lb->p2back && v->l4proto == IPPROTO_TCP && v->l4off && !v->fragment &&
	       p2_port(lb, v->data + v->l4off);
}

struct sweep {
	struct mslb_lb *lb;
	double now;
};

static bool sweep_flow(void *ctx, struct rdr_entry *e)
{
	struct sweep *s = ctx;
	struct lb_p2back *b = s->lb->p2back;
	struct lb_p2flow *fl = &b->pool[e->aux];
	double idle = s->now - fl->last_seen;
	bool closed = (fl->flags & LB_P2F_RST) ||
		      (fl->flags & (LB_P2F_FIN_IN | LB_P2F_FIN_OUT)) == (LB_P2F_FIN_IN | LB_P2F_FIN_OUT);

	/* A SYN that nothing followed (a flood of them, say) goes soon. */
	if ((closed && idle >= 2.0) || idle >= s->lb->cfg->back.p2_flow_idle ||
	    (!(fl->flags & LB_P2F_EST) && idle >= LB_P2_SYN_IDLE)) {
		lb_p2k_release(s->lb, fl);
		b->free[b->n_free++] = e->aux;
		s->lb->p2b.flows_expired++;
		return true;
	}
	return false;
}

void lb_p2_back_tick(struct mslb_lb *lb, double now)
{
	struct sweep s = { lb, now };

	if (!lb->p2back)
		return;
	/* An eighth of the table a second: every subflow looked at every 8 s,
	 * never a long stop of the data path. */
	rdr_table_walk(lb->p2back->ix, rdr_table_slots(lb->p2back->ix) / 8 + 1, sweep_flow, &s);
	lb->p2b.flows = rdr_table_count(lb->p2back->ix);
	lb->p2b.conns = rdr_table_count(lb->p2back->cx);
}
