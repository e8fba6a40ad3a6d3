/* lb_p2keys: key translation at a Proposal 2 back. The front chose the key
 * K_lb whose token routes the connection's joins here; the stock server
 * drew its own K_srv. The client must only ever see K_lb, the server only
 * K_srv, so the back rewrites every field that depends on them
 * (MPTCP-NOTES.md, "full key translation"):
 *
 *   server -> client                   client -> server
 *   MP_CAPABLE SYN/ACK key K_srv->K_lb  MP_CAPABLE ACK receiver key K_lb->K_srv
 *   MP_JOIN SYN/ACK HMAC, signed again  MP_JOIN SYN token(K_lb)->token(K_srv)
 *   DSS DSN + delta (and its checksum)  MP_JOIN ACK HMAC, checked, signed again
 *   ADD_ADDR HMAC, signed again         DSS data ACK - delta
 *                                       ADD_ADDR HMAC, checked, signed again
 *                                       MP_FASTCLOSE key, MP_FAIL DSN
 *
 * where delta = IDSN(K_lb) - IDSN(K_srv). Every rewrite keeps the option's
 * length. An HMAC from the client that does not verify under K_lb is left
 * as it is, and the server refuses it as it would any forged join.
 *
 * Connections live in their own table, by the front's token (what a join
 * names), and go when their last subflow goes. */
#include "lb_p2.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/mptcpopt.h"
#include "net/tcpopt.h"

int lb_p2k_init(struct lb_p2back *b, unsigned cap)
{
	b->cx = rdr_table_create(cap, randombytes_random() | (uint64_t)randombytes_random() << 32);
	b->conns = calloc(cap, sizeof(*b->conns));
	b->cfree = calloc(cap, sizeof(*b->cfree));
	if (!b->cx || !b->conns || !b->cfree)
		return -1;
	for (unsigned i = 0; i < cap; i++)
		b->cfree[i] = cap - 1 - i;
	b->n_cfree = cap;
	return 0;
}

void lb_p2k_fini(struct lb_p2back *b)
{
	rdr_table_destroy(b->cx);
	if (b->conns)
		sodium_memzero(b->conns, b->cap * sizeof(*b->conns));
	free(b->conns);
	free(b->cfree);
}

/* The connection table's key: a token where a flow's addresses would be. */
static void token_key(const uint8_t key[8], struct rdr_flow *f)
{
	uint32_t token;

	mptcpopt_token_idsn(key, &token, NULL);
	memset(f, 0, sizeof(*f));
	tcpopt_put32(f->client, token);
}

static struct lb_p2conn *conn_of(const struct mslb_lb *lb, const struct lb_p2flow *fl)
{
	return fl->conn ? &lb->p2back->conns[fl->conn - 1] : NULL;
}

void lb_p2k_release(struct mslb_lb *lb, struct lb_p2flow *fl)
{
	struct lb_p2back *b = lb->p2back;
	struct lb_p2conn *c = conn_of(lb, fl);
	struct rdr_flow f;
	struct rdr_entry *e;

	if (!c)
		return;
	fl->conn = 0;
	if (--c->refs)
		return;
	token_key(c->k_lb, &f);
	e = rdr_table_find(b->cx, &f);
	if (e)
		rdr_table_del(b->cx, e);
	b->cfree[b->n_cfree++] = (uint32_t)(c - b->conns);
	sodium_memzero(c, sizeof(*c));
}

void lb_p2k_capable_syn(struct mslb_lb *lb, struct lb_p2flow *fl)
{
	struct lb_p2back *b = lb->p2back;
	struct rdr_flow f;
	struct rdr_entry *e;
	struct lb_p2conn *c;
	bool fresh;

	token_key(fl->key, &f);
	e = rdr_table_find(b->cx, &f);
	if (e) {
		c = &b->conns[e->aux];
		/* Another connection's token (2^-32 a pair): this one is
		 * not translated, and its client sees the server's key. */
		if (memcmp(c->k_lb, fl->key, 8)) {
			lb->p2b.token_clash++;
			return;
		}
	} else {
		e = b->n_cfree ? rdr_table_add(b->cx, &f, &fresh) : NULL;
		if (!e) {
			lb->p2b.conns_full++;
			return;
		}
		e->aux = b->cfree[--b->n_cfree];
		c = &b->conns[e->aux];
		memset(c, 0, sizeof(*c));
		memcpy(c->k_lb, fl->key, 8);
	}
	c->refs++;
	fl->conn = e->aux + 1;
}

void lb_p2k_join_syn(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
		     uint8_t *opt)
{
	struct lb_p2back *b = lb->p2back;
	struct lb_p2conn *c = conn_of(lb, fl);
	uint8_t tok[4];

	if (!c) {
		struct rdr_flow f;
		struct rdr_entry *e;

		memset(&f, 0, sizeof(f));
		memcpy(f.client, opt + 4, 4);
		e = rdr_table_find(b->cx, &f);
		if (!e || !(b->conns[e->aux].flags & LB_P2C_SRV)) {
			lb->p2b.join_unknown++;
			return;
		}
		c = &b->conns[e->aux];
		c->refs++;
		fl->conn = e->aux + 1;
		fl->flags |= LB_P2F_JOIN;
		fl->nonce_c = tcpopt_get32(opt + 8);
	}
	tcpopt_put32(tok, c->token_srv);
	lb_p2_put(p, v, opt + 4, tok, 4);
	lb->p2b.join_tokens++;
}

/* The server's key from the SYN/ACK, and what follows from it. */
static void learn_server_key(struct mslb_lb *lb, struct lb_p2conn *c, const uint8_t *k)
{
	uint64_t idsn_lb;

	if ((c->flags & LB_P2C_SRV) && !memcmp(c->k_srv, k, 8))
		return;
	memcpy(c->k_srv, k, 8);
	mptcpopt_token_idsn(c->k_srv, &c->token_srv, &c->idsn_srv);
	mptcpopt_token_idsn(c->k_lb, NULL, &idsn_lb);
	c->delta = idsn_lb - c->idsn_srv;
	c->flags |= LB_P2C_SRV;
	lb->p2b.server_keys++;
}

static void put64(struct io_pkt *p, struct pkt_view *v, uint8_t *field, uint64_t val)
{
	uint8_t b[8];

	mptcpopt_put64(b, val);
	lb_p2_put(p, v, field, b, 8);
}

static void put32(struct io_pkt *p, struct pkt_view *v, uint8_t *field, uint32_t val)
{
	uint8_t b[4];

	tcpopt_put32(b, val);
	lb_p2_put(p, v, field, b, 4);
}

/* A sequence number field of 4 or 8 bytes moved by add (mod its size). */
static void move_seq(struct io_pkt *p, struct pkt_view *v, uint8_t *field, unsigned len, uint64_t add)
{
	if (len == 8)
		put64(p, v, field, mptcpopt_get64(field) + add);
	else
		put32(p, v, field, tcpopt_get32(field) + (uint32_t)add);
}

/* HMAC(k1 || k2, the two nonces) for MP_JOIN, its first n bytes to out. */
static void join_hmac(const uint8_t *k1, const uint8_t *k2, uint32_t n1, uint32_t n2, uint8_t *out, unsigned n)
{
	uint8_t msg[8], h[32];

	tcpopt_put32(msg, n1);
	tcpopt_put32(msg + 4, n2);
	mptcpopt_hmac(k1, k2, msg, sizeof(msg), h);
	memcpy(out, h, n);
}

/* The DSS checksum covers the 64-bit DSN (RFC 8684 3.3.1) even when the
 * option carries its low 32 bits: those are taken as the server's first
 * 4 GiB from its IDSN. */
static void dss_out(struct mslb_lb *lb, struct lb_p2conn *c, struct io_pkt *p, struct pkt_view *v,
		    const struct mptcp_dss *d)
{
	uint64_t old = mptcpopt_get64(d->dsn), new;
	uint8_t ob[8], nb[8], sum[2];

	if (d->dsn_len == 4) {
		uint32_t lo = tcpopt_get32(d->dsn);

		old = (c->idsn_srv & 0xffffffff00000000ull) | lo;
		if (lo < (uint32_t)c->idsn_srv)
			old += 1ull << 32;
	}
	new = old + c->delta;
	if (d->csum) {
		mptcpopt_put64(ob, old);
		mptcpopt_put64(nb, new);
		memcpy(sum, d->csum, 2);
		csum_update(sum, ob, nb, 8);
	}
	move_seq(p, v, d->dsn, d->dsn_len, c->delta);
	if (d->csum)
		lb_p2_put(p, v, d->csum, sum, 2);
	lb->p2b.dsn++;
}

void lb_p2k_out(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
		const struct tcpopt *t, uint8_t flags)
{
	struct lb_p2conn *c = conn_of(lb, fl);
	bool synack = (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);

	for (unsigned i = 0; i < t->n_mp; i++) {
		uint8_t *o = t->mp[i], len = t->mp_len[i];
		int sub = len >= 3 ? o[2] >> 4 : -1;

		if (sub == MPTCP_SUB_CAPABLE && synack && len == 12 && (fl->flags & LB_P2F_KEY)) {
			/* Without connection state (no room) the client keeps
			 * the server's key: the connection works, its joins go
			 * where that key's token says and are refused there. */
			if (c) {
				learn_server_key(lb, c, o + 4);
				lb_p2_put(p, v, o + 4, fl->key, 8);
				lb->p2b.keys++;
			}
			continue;
		}
		if (!c || !(c->flags & LB_P2C_SRV)) {
			if (!c && (fl->flags & (LB_P2F_KEY | LB_P2F_JOIN)))
				lb->p2b.untranslated++;
			continue;
		}
		if (sub == MPTCP_SUB_JOIN && synack && len == 16) {
			fl->nonce_s = tcpopt_get32(o + 12);
			if (c->flags & LB_P2C_CLI) {
				uint8_t h[MPTCP_JOIN_SYNACK_HMAC];

				join_hmac(c->k_lb, c->k_cli, fl->nonce_s, fl->nonce_c, h, sizeof(h));
				lb_p2_put(p, v, o + 4, h, sizeof(h));
				lb->p2b.hmacs++;
			}
		} else if (sub == MPTCP_SUB_DSS) {
			struct mptcp_dss d;

			if (mptcpopt_dss(o, len, &d) && d.dsn)
				dss_out(lb, c, p, v, &d);
		} else if (sub == MPTCP_SUB_ADD_ADDR && (c->flags & LB_P2C_CLI)) {
			struct mptcp_add_addr a;
			uint8_t h[32];

			if (mptcpopt_add_addr(o, len, &a)) {
				mptcpopt_hmac(c->k_lb, c->k_cli, a.msg, a.msg_len, h);
				lb_p2_put(p, v, a.hmac, h + 24, 8);
				lb->p2b.hmacs++;
			}
		}
	}
}

void lb_p2k_in(struct mslb_lb *lb, struct lb_p2flow *fl, struct io_pkt *p, struct pkt_view *v,
	       const struct tcpopt *t)
{
	struct lb_p2conn *c = conn_of(lb, fl);

	if (!c || !(c->flags & LB_P2C_SRV)) {
		if (t->n_mp && (fl->flags & (LB_P2F_KEY | LB_P2F_JOIN)))
			lb->p2b.untranslated++;
		return;
	}
	for (unsigned i = 0; i < t->n_mp; i++) {
		uint8_t *o = t->mp[i], len = t->mp_len[i];
		int sub = len >= 3 ? o[2] >> 4 : -1;

		if (sub == MPTCP_SUB_CAPABLE && (len == 20 || len == 22 || len == 24)) {
			/* The third ACK, or the first data: sender's key (the
			 * client's), receiver's key (what it was given). */
			if (memcmp(o + 12, c->k_lb, 8))
				continue;
			if (!(c->flags & LB_P2C_CLI)) {
				memcpy(c->k_cli, o + 4, 8);
				c->flags |= LB_P2C_CLI;
			}
			lb_p2_put(p, v, o + 12, c->k_srv, 8);
		} else if (sub == MPTCP_SUB_JOIN && len == 24 && (fl->flags & LB_P2F_JOIN) &&
			   (c->flags & LB_P2C_CLI)) {
			uint8_t want[MPTCP_JOIN_ACK_HMAC], h[MPTCP_JOIN_ACK_HMAC];

			join_hmac(c->k_cli, c->k_lb, fl->nonce_c, fl->nonce_s, want, sizeof(want));
			if (sodium_memcmp(want, o + 4, sizeof(want))) {
				lb->p2b.hmacs_bad++;
				continue;
			}
			join_hmac(c->k_cli, c->k_srv, fl->nonce_c, fl->nonce_s, h, sizeof(h));
			lb_p2_put(p, v, o + 4, h, sizeof(h));
			lb->p2b.hmacs++;
		} else if (sub == MPTCP_SUB_DSS) {
			struct mptcp_dss d;

			if (mptcpopt_dss(o, len, &d) && d.ack) {
				move_seq(p, v, d.ack, d.ack_len, -c->delta);
				lb->p2b.data_acks++;
			}
		} else if (sub == MPTCP_SUB_ADD_ADDR && (c->flags & LB_P2C_CLI)) {
			struct mptcp_add_addr a;
			uint8_t h[32];

			if (!mptcpopt_add_addr(o, len, &a))
				continue;
			mptcpopt_hmac(c->k_cli, c->k_lb, a.msg, a.msg_len, h);
			if (sodium_memcmp(h + 24, a.hmac, 8)) {
				lb->p2b.hmacs_bad++;
				continue;
			}
			mptcpopt_hmac(c->k_cli, c->k_srv, a.msg, a.msg_len, h);
			lb_p2_put(p, v, a.hmac, h + 24, 8);
			lb->p2b.hmacs++;
		} else if (sub == MPTCP_SUB_FASTCLOSE && len == 12 && !memcmp(o + 4, c->k_lb, 8)) {
			lb_p2_put(p, v, o + 4, c->k_srv, 8);
		} else if (sub == MPTCP_SUB_FAIL && len == 12) {
			/* The DSN of the server's data that failed its checksum. */
			move_seq(p, v, o + 4, 8, -c->delta);
		}
	}
}
