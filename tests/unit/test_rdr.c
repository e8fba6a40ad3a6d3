/* rdr: the redirection protocol. The codec (strict, one encoding per
 * message), the flow table against a plain list, and two engines joined
 * by an in-memory wire that can drop, copy, forge and replay messages. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"
#include "redirect/rdr.h"
#include "redirect/rdr_auth.h"
#include "redirect/rdr_table.h"
#include "redirect/rdr_wire.h"

/* ---- codec ---- */

static struct rdr_flow flow4(uint32_t client, uint16_t cport)
{
	struct rdr_flow f;

	memset(&f, 0, sizeof(f));
	f.version = 4;
	f.proto = 6;
	f.cport[0] = (uint8_t)(cport >> 8);
	f.cport[1] = (uint8_t)cport;
	f.sport[1] = 80;
	inet_pton(AF_INET, "203.0.113.80", f.service);
	client = htonl(client);
	memcpy(f.client, &client, 4);
	return f;
}

static struct rdr_msg install_msg(unsigned n)
{
	struct rdr_msg m;

	memset(&m, 0, sizeof(m));
	m.type = RDR_INSTALL;
	m.count = (uint16_t)n;
	m.epoch = 0x0102030405060708ull;
	m.seq = 9;
	m.key_id = 3;
	for (unsigned i = 0; i < n; i++) {
		m.u.rule[i].flow = flow4(0xc0000201 + i, (uint16_t)(40000 + i));
		m.u.rule[i].owner_version = 6;
		inet_pton(AF_INET6, "2001:db8::b2", m.u.rule[i].owner);
		m.u.rule[i].ttl = 60;
	}
	return m;
}

static void test_wire_roundtrip(void)
{
	uint8_t buf[RDR_MAX_LEN], again[RDR_MAX_LEN];
	struct rdr_msg m = install_msg(RDR_MAX_RECORDS), d, ack;
	size_t len = rdr_encode(&m, buf);

	CU_ASSERT_EQUAL(len, (size_t)RDR_MAX_LEN);
	CU_ASSERT_EQUAL(buf[0], 'M');
	CU_ASSERT_EQUAL(buf[2], RDR_VERSION);
	CU_ASSERT_EQUAL(buf[3], RDR_INSTALL);
	CU_ASSERT_EQUAL(buf[4], 3);
	CU_ASSERT_EQUAL(rdr_decode(buf, len, &d), RDR_PARSE_OK);
	CU_ASSERT_EQUAL(d.count, RDR_MAX_RECORDS);
	CU_ASSERT_EQUAL(d.epoch, m.epoch);
	CU_ASSERT_EQUAL(d.seq, 9);
	CU_ASSERT_EQUAL(memcmp(&d.u.rule[5], &m.u.rule[5], sizeof(d.u.rule[5])), 0);
	/* What decodes, encodes back to the same bytes. */
	CU_ASSERT_EQUAL(rdr_encode(&d, again), len);
	CU_ASSERT_EQUAL(memcmp(buf, again, len - RDR_MAC_LEN), 0);

	memset(&ack, 0, sizeof(ack));
	ack.type = RDR_ACK;
	ack.count = 3;
	ack.u.ack.seq = 77;
	ack.u.ack.status[1] = RDR_ST_CAP;
	len = rdr_encode(&ack, buf);
	CU_ASSERT_EQUAL(len, (size_t)(RDR_HDR_LEN + 16 + 4 + RDR_MAC_LEN));
	CU_ASSERT_EQUAL(rdr_decode(buf, len, &d), RDR_PARSE_OK);
	CU_ASSERT_EQUAL(d.u.ack.seq, 77);
	CU_ASSERT_EQUAL(d.u.ack.status[1], RDR_ST_CAP);
}

/* Each field out of range is refused with its own reason. */
static void test_wire_strict(void)
{
	uint8_t buf[RDR_MAX_LEN + 8];
	struct rdr_msg m = install_msg(2), d;
	size_t len = rdr_encode(&m, buf);
	struct {
		size_t off;
		uint8_t val;
		enum rdr_parse want;
	} cases[] = {
		{ 0, 'X', RDR_PARSE_MAGIC },
		{ 2, 2, RDR_PARSE_VERSION },
		{ 3, 0, RDR_PARSE_TYPE },
		{ 3, 5, RDR_PARSE_TYPE },
		{ 5, 1, RDR_PARSE_RESERVED },
		{ 7, 3, RDR_PARSE_LENGTH },	/* count 3, the length of 2 */
		{ 7, 0, RDR_PARSE_COUNT },
		{ RDR_HDR_LEN + 0, 5, RDR_PARSE_FAMILY },
		{ RDR_HDR_LEN + 2, 0, RDR_PARSE_FAMILY },
		{ RDR_HDR_LEN + 1, 1, RDR_PARSE_PROTO },
		{ RDR_HDR_LEN + 3, 1, RDR_PARSE_RESERVED },
		{ RDR_HDR_LEN + 4, 0x0f, RDR_PARSE_TTL },	/* 3900 s */
		{ RDR_HDR_LEN + 11, 1, RDR_PARSE_RESERVED },
		{ RDR_HDR_LEN + 12 + 4, 1, RDR_PARSE_RESERVED },	/* IPv4 padding */
		{ RDR_HDR_LEN + RDR_RULE_LEN + 1, 17, RDR_PARSE_OK },	/* UDP is fine */
	};

	CU_ASSERT_EQUAL_FATAL(len, rdr_msg_len(RDR_INSTALL, 2));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t copy[sizeof(buf)];

		memcpy(copy, buf, len);
		copy[cases[i].off] = cases[i].val;
		CU_ASSERT_EQUAL(rdr_decode(copy, len, &d), cases[i].want);
	}
	/* Ports 0, and a delete with a ttl. */
	{
		uint8_t copy[sizeof(buf)];

		memcpy(copy, buf, len);
		copy[RDR_HDR_LEN + 6] = copy[RDR_HDR_LEN + 7] = 0;
		CU_ASSERT_EQUAL(rdr_decode(copy, len, &d), RDR_PARSE_PORT);
		memcpy(copy, buf, len);
		copy[3] = RDR_DELETE;
		CU_ASSERT_EQUAL(rdr_decode(copy, len, &d), RDR_PARSE_TTL);
	}
	for (size_t l = 0; l < len; l++)
		CU_ASSERT_EQUAL(rdr_decode(buf, l, &d), l < RDR_HDR_LEN + RDR_MAC_LEN ? RDR_PARSE_LENGTH
			       : rdr_decode(buf, l, &d));
	CU_ASSERT_EQUAL(rdr_decode(buf, len - 1, &d), RDR_PARSE_LENGTH);
	CU_ASSERT_EQUAL(rdr_decode(buf, len + 1, &d), RDR_PARSE_LENGTH);
	CU_ASSERT_EQUAL(rdr_decode(buf, RDR_MAX_LEN + 1, &d), RDR_PARSE_LENGTH);
	/* The encoder refuses what the decoder would. */
	m.u.rule[1].flow.proto = 1;
	CU_ASSERT_EQUAL(rdr_encode(&m, buf), 0);
	m = install_msg(1);
	m.count = RDR_MAX_RECORDS + 1;
	CU_ASSERT_EQUAL(rdr_encode(&m, buf), 0);
}

/* ---- table ---- */

static void test_table_model(void)
{
	enum { CAP = 500, KEYS = 900, OPS = 60000 };
	struct rdr_table *t = rdr_table_create(CAP, 12345);
	static bool in[KEYS];
	unsigned n = 0, seed = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	memset(in, 0, sizeof(in));
	for (unsigned op = 0; op < OPS; op++) {
		unsigned k;
		struct rdr_flow f;
		struct rdr_entry *e;
		bool fresh;

		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % KEYS;
		f = flow4(k, (uint16_t)(1000 + k % 7));
		if ((seed >> 4) & 1) {
			e = rdr_table_add(t, &f, &fresh);
			if (in[k]) {
				CU_ASSERT(e && !fresh);
			} else if (n < CAP) {
				CU_ASSERT(e && fresh);
				if (e) {
					e->peer = (uint16_t)k;
					in[k] = true;
					n++;
				}
			} else {
				CU_ASSERT_PTR_NULL(e);
			}
		} else {
			e = rdr_table_find(t, &f);
			CU_ASSERT_EQUAL(e != NULL, in[k]);
			if (e) {
				CU_ASSERT_EQUAL(e->peer, k);
				rdr_table_del(t, e);
				in[k] = false;
				n--;
			}
		}
		CU_ASSERT_EQUAL(rdr_table_count(t), n);
	}
	for (unsigned k = 0; k < KEYS; k++) {
		struct rdr_flow f = flow4(k, (uint16_t)(1000 + k % 7));

		CU_ASSERT_EQUAL(rdr_table_find(t, &f) != NULL, in[k]);
	}
	rdr_table_destroy(t);
}

/* ---- two engines on an in-memory wire ---- */

#define WIRE_MAX 4096

struct dgram {
	int to;			/* 0: A, 1: B */
	struct mslb_addr from;
	size_t len;
	uint8_t b[RDR_MAX_LEN];
};

struct wire {
	unsigned n;
	struct dgram d[WIRE_MAX];
	int drop_to;		/* -1: deliver all */
	struct mslb_config *cfg[2];
};

static struct wire *W;

static void send_fn(void *ctx, const struct mslb_addr *to, const uint8_t *buf, size_t len)
{
	int me = (int)(intptr_t)ctx;
	struct dgram *d;

	CU_ASSERT_FATAL(len <= RDR_MAX_LEN);
	if (W->n >= WIRE_MAX || W->drop_to == !me)
		return;
	d = &W->d[W->n++];
	d->to = mslb_addr_eq(to, &W->cfg[0]->redirect.address) ? 0 : 1;
	CU_ASSERT_EQUAL(d->to, !me);
	d->from = W->cfg[me]->redirect.address;
	d->len = len;
	memcpy(d->b, buf, len);
}

/* Deliver what is on the wire (and what the answers put there). */
static void deliver(struct rdr *r[2], double now)
{
	for (unsigned i = 0; i < W->n && i < WIRE_MAX; i++) {
		struct dgram d = W->d[i];

		rdr_input(r[d.to], &d.from, d.b, d.len, now);
	}
	W->n = 0;
}

static void addr(struct mslb_addr *a, const char *s)
{
	CU_ASSERT_FATAL(mslb_addr_parse(s, a) == 0);
}

/* Node me of two: redirect address 198.51.100.1x, back address
 * 203.0.113.1x, the other as its one peer. */
static struct mslb_config *node(int me)
{
	struct mslb_config *c = calloc(1, sizeof(*c));
	char a[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->has_back = c->has_redirect = true;
	c->back.n_addresses = 1;
	c->back.addresses = calloc(1, sizeof(*c->back.addresses));
	snprintf(a, sizeof(a), "203.0.113.1%d", me);
	addr(&c->back.addresses[0].address, a);
	addr(&c->back.addresses[0].service, "203.0.113.80");
	snprintf(a, sizeof(a), "198.51.100.1%d", me);
	addr(&c->redirect.address, a);
	c->redirect.port = MSLB_REDIRECT_PORT;
	c->redirect.n_keys = 1;
	c->redirect.keys[0].id = 1;
	memset(c->redirect.keys[0].key, 0x5a, MSLB_REDIRECT_KEY_LEN);
	c->redirect.n_peers = 1;
	c->redirect.peers = calloc(1, sizeof(*c->redirect.peers));
	strcpy(c->redirect.peers[0].name, me ? "a" : "b");
	snprintf(a, sizeof(a), "198.51.100.1%d", !me);
	addr(&c->redirect.peers[0].address, a);
	snprintf(a, sizeof(a), "203.0.113.1%d", !me);
	c->redirect.peers[0].has_tunnel[0] = true;
	addr(&c->redirect.peers[0].tunnel[0], a);
	c->redirect.rule_ttl = 30;
	c->redirect.max_rules = 64;
	c->redirect.max_rules_per_peer = 40;
	c->redirect.rate = 1000;
	c->redirect.burst = 2000;
	c->redirect.global_rate = 5000;
	return c;
}

static void node_free(struct mslb_config *c)
{
	free(c->back.addresses);
	free(c->redirect.peers);
	free(c);
}

static struct rdr *R[2];

static void pair_up(void)
{
	W = calloc(1, sizeof(*W));
	CU_ASSERT_PTR_NOT_NULL_FATAL(W);
	W->drop_to = -1;
	for (int i = 0; i < 2; i++) {
		W->cfg[i] = node(i);
		R[i] = rdr_create(W->cfg[i], 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(R[i]);
		rdr_set_send(R[i], send_fn, (void *)(intptr_t)i);
	}
}

static void pair_down(void)
{
	for (int i = 0; i < 2; i++) {
		rdr_destroy(R[i]);
		node_free(W->cfg[i]);
	}
	free(W);
}

static struct rdr_stats stats(int i, double now)
{
	struct rdr_stats s;

	rdr_get_stats(R[i], &s, now);
	return s;
}

/* A owns a flow: B gets the rule, acks it; B's packets of the flow go to
 * A's back address; the rule lives while A refreshes it, and goes when
 * the flow ends both ways. */
static void test_install_refresh_delete(void)
{
	struct rdr_flow f = flow4(0xc0000205, 40001), g = flow4(0xc0000206, 40002);
	const struct rdr_entry *e;
	uint8_t owner[4];
	double t = 100;

	pair_up();
	CU_ASSERT_EQUAL(rdr_peer_index(R[0], "b"), 0);
	CU_ASSERT_EQUAL(rdr_peer_index(R[0], "c"), -1);
	CU_ASSERT_EQUAL(rdr_own(R[0], 0, &f, t), 0);
	CU_ASSERT_FALSE(rdr_any_rules(R[1]));
	rdr_flush(R[0], t);
	CU_ASSERT_EQUAL(W->n, 1);
	deliver(R, t);
	CU_ASSERT_TRUE(rdr_any_rules(R[1]));
	e = rdr_rule(R[1], &f, t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	inet_pton(AF_INET, "203.0.113.10", owner);
	CU_ASSERT_EQUAL(e->owner_version, 4);
	CU_ASSERT_EQUAL(memcmp(e->owner, owner, 4), 0);
	CU_ASSERT_PTR_NULL(rdr_rule(R[1], &g, t));
	CU_ASSERT_EQUAL(stats(0, t).all.acked, 1);
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 1);
	CU_ASSERT_EQUAL(stats(1, t).installed, 1);

	/* Traffic keeps it alive past its ttl (30 s): A refreshes. */
	for (int i = 0; i < 900; i++) {
		t += 0.1;
		if (i % 10 == 0)
			rdr_seen(R[0], &f, 0x10, true, t);
		rdr_tick(R[0], t);
		rdr_tick(R[1], t);
		deliver(R, t);
	}
	CU_ASSERT_PTR_NOT_NULL(rdr_rule(R[1], &f, t));
	CU_ASSERT(stats(0, t).all.sent >= 3);
	CU_ASSERT_EQUAL(stats(0, t).all.retransmitted, 0);

	/* FIN both ways: deleted once the flow is quiet for a moment. */
	rdr_seen(R[0], &f, 0x11, true, t);
	rdr_seen(R[0], &f, 0x11, false, t);
	for (int i = 0; i < 40; i++) {
		t += 0.1;
		rdr_tick(R[0], t);
		rdr_tick(R[1], t);
		deliver(R, t);
	}
	CU_ASSERT_PTR_NULL(rdr_rule(R[1], &f, t));
	CU_ASSERT_EQUAL(stats(1, t).deleted, 1);
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 0);
	CU_ASSERT_EQUAL(stats(0, t).all.owned, 0);
	pair_down();
}

/* Without refreshes (the owner is gone) a rule expires after its ttl. */
static void test_expiry_and_idle(void)
{
	struct rdr_flow f = flow4(0xc0000207, 40003);
	double t = 10;

	pair_up();
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	deliver(R, t);
	CU_ASSERT_PTR_NOT_NULL(rdr_rule(R[1], &f, t + 29));
	CU_ASSERT_PTR_NULL(rdr_rule(R[1], &f, t + 30.5));
	for (int i = 0; i < 320; i++)
		rdr_tick(R[1], t + 0.1 * i);
	CU_ASSERT_EQUAL(stats(1, t + 32).expired, 1);
	CU_ASSERT_FALSE(rdr_any_rules(R[1]));

	/* An owned flow that goes quiet is deleted on timeout. */
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	deliver(R, t);
	for (int i = 1; i <= 320; i++) {
		rdr_tick(R[0], t + 0.1 * i);
		deliver(R, t + 0.1 * i);
	}
	CU_ASSERT_EQUAL(stats(0, t + 32).all.owned, 0);
	CU_ASSERT_EQUAL(stats(1, t + 32).deleted, 1);
	pair_down();
}

/* Lost messages are sent again, a bounded number of times. */
static void test_retransmit(void)
{
	struct rdr_flow f = flow4(0xc0000208, 40004);
	double t = 0;

	pair_up();
	W->drop_to = 1;		/* nothing reaches B */
	rdr_own(R[0], 0, &f, t);
	/* Sent at 0, again after 0.25, 0.5, 1, 2 and 4 s; the refresh is
	 * due at 10 s (a third of the ttl). */
	for (int i = 0; i < 95; i++) {
		t += 0.1;
		rdr_tick(R[0], t);
		deliver(R, t);
	}
	CU_ASSERT_EQUAL(stats(0, t).all.sent, 6);
	CU_ASSERT_EQUAL(stats(0, t).all.retransmitted, 5);
	CU_ASSERT_EQUAL(stats(0, t).all.lost, 0);
	for (int i = 0; i < 70; i++) {
		t += 0.1;
		rdr_tick(R[0], t);
		deliver(R, t);
	}
	CU_ASSERT_EQUAL(stats(0, t).all.lost, 1);
	/* Acks lost: B installs (idempotent), A retransmits until one gets
	 * through; B still holds one rule. */
	W->drop_to = 0;
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	for (int i = 0; i < 5; i++) {
		t += 0.3;
		rdr_tick(R[0], t);
		deliver(R, t);
	}
	W->drop_to = -1;
	for (int i = 0; i < 80; i++) {
		t += 0.1;
		rdr_tick(R[0], t);
		deliver(R, t);
	}
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 1);
	CU_ASSERT_EQUAL(stats(1, t).installed, 1);
	CU_ASSERT(stats(1, t).all.received >= 2);
	/* The install's ack, and maybe the refresh's, after the drops. */
	CU_ASSERT(stats(0, t).all.acked >= 1);
	pair_down();
}

/* Forged, replayed, foreign and malformed messages install nothing and
 * are counted by reason. */
static void test_refusals(void)
{
	struct rdr_flow f = flow4(0xc0000209, 40005);
	struct mslb_addr stranger;
	struct dgram d;
	double t = 1;

	pair_up();
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	CU_ASSERT_EQUAL_FATAL(W->n, 1);
	d = W->d[0];
	W->n = 0;

	/* Unknown address. */
	addr(&stranger, "192.0.2.99");
	rdr_input(R[1], &stranger, d.b, d.len, t);
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_UNKNOWN_PEER], 1);
	/* One bit of the MAC, of the body, the key id. */
	for (int k = 0; k < 3; k++) {
		struct dgram x = d;

		x.b[k == 0 ? x.len - 1 : k == 1 ? RDR_HDR_LEN + 13 : 4] ^= 1;
		rdr_input(R[1], &x.from, x.b, x.len, t);
	}
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_BAD_MAC], 3);
	/* Truncated, oversized. */
	rdr_input(R[1], &d.from, d.b, d.len - 1, t);
	rdr_input(R[1], &d.from, d.b, d.len + 4, t);
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_MALFORMED], 2);
	CU_ASSERT_FALSE(rdr_any_rules(R[1]));

	/* The real one, then it again. */
	rdr_input(R[1], &d.from, d.b, d.len, t);
	rdr_input(R[1], &d.from, d.b, d.len, t);
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_REPLAY], 1);
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 1);
	CU_ASSERT_EQUAL(stats(1, t).all.received, 1);
	pair_down();
}

static uint64_t epoch_of(const uint8_t *b)
{
	uint64_t e = 0;

	for (int i = 0; i < 8; i++)
		e = e << 8 | b[8 + i];
	return e;
}

/* A peer that restarts (a new epoch) is heard again; the old epoch's
 * messages are refused. */
static void test_restart(void)
{
	struct rdr_flow f = flow4(0xc000020a, 40006), g = flow4(0xc000020b, 40007);
	struct dgram old;
	double t = 1;
	int tries = 0;

	pair_up();
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	old = W->d[0];
	deliver(R, t);
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 1);

	/* A start in the same second needs a higher random half; a later
	 * second always wins. Draw until it is the later one. */
	do {
		rdr_destroy(R[0]);
		R[0] = rdr_create(W->cfg[0], t);
		CU_ASSERT_PTR_NOT_NULL_FATAL(R[0]);
	} while (stats(0, t).epoch <= epoch_of(old.b) && ++tries < 64);
	CU_ASSERT_FATAL(stats(0, t).epoch > epoch_of(old.b));
	rdr_set_send(R[0], send_fn, (void *)0);
	rdr_own(R[0], 0, &g, t);
	rdr_flush(R[0], t);
	deliver(R, t);
	CU_ASSERT_PTR_NOT_NULL(rdr_rule(R[1], &g, t));
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_REPLAY], 0);
	rdr_input(R[1], &old.from, old.b, old.len, t);
	CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_REPLAY], 1);
	pair_down();
}

/* Caps: per peer and in total; an owner address that is not the peer's. */
static void test_caps_and_owner(void)
{
	double t = 1;
	struct rdr_stats s;

	pair_up();
	for (unsigned i = 0; i < 50; i++) {
		struct rdr_flow f = flow4(0xc0000300 + i, (uint16_t)(30000 + i));

		rdr_own(R[0], 0, &f, t);
	}
	rdr_flush(R[0], t);
	deliver(R, t);
	deliver(R, t);
	s = stats(1, t);
	CU_ASSERT_EQUAL(s.all.rules, 40);
	CU_ASSERT_EQUAL(s.all.refused[RDR_REF_CAP], 10);
	CU_ASSERT_EQUAL(stats(0, t).all.refused_by_peer, 10);

	/* B's view of A's tunnel address changes: A's records are refused. */
	W->cfg[1]->redirect.peers[0].tunnel[0].bytes[3] = 99;
	CU_ASSERT_EQUAL(rdr_reconfigure(R[1], W->cfg[1]), 0);
	{
		struct rdr_flow f = flow4(0xc0000400, 20000);

		rdr_own(R[0], 0, &f, t);
		rdr_flush(R[0], t);
		deliver(R, t);
		CU_ASSERT_PTR_NULL(rdr_rule(R[1], &f, t));
		CU_ASSERT_EQUAL(stats(1, t).all.refused[RDR_REF_OWNER], 1);
	}
	pair_down();
}

/* A flood from a peer's address with bad MACs: most are stopped by the
 * rate limit before any MAC is computed; none installs a rule. */
static void test_flood(void)
{
	struct rdr_flow f = flow4(0xc000020c, 40008);
	struct rdr_stats s;
	struct dgram d;
	double t = 1;

	pair_up();
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	d = W->d[0];
	W->n = 0;
	d.b[d.len - 1] ^= 0xff;
	for (unsigned i = 0; i < 100000; i++)
		rdr_input(R[1], &d.from, d.b, d.len, t + i * 1e-5);	/* 1 s */
	s = stats(1, t + 1);
	CU_ASSERT_EQUAL(s.all.rules, 0);
	CU_ASSERT_EQUAL(s.all.refused[RDR_REF_RATE] + s.all.refused[RDR_REF_BAD_MAC], 100000);
	/* burst 2000 + 1000/s over one second */
	CU_ASSERT(s.all.refused[RDR_REF_BAD_MAC] <= 3001);
	CU_ASSERT(s.all.refused[RDR_REF_RATE] >= 96999);
	pair_down();
}

/* A reload keeps the rules of peers kept by name and drops the others'. */
static void test_reconfigure(void)
{
	struct rdr_flow f = flow4(0xc000020d, 40009);
	struct mslb_config *c;
	double t = 1;

	pair_up();
	rdr_own(R[0], 0, &f, t);
	rdr_flush(R[0], t);
	deliver(R, t);
	c = node(1);
	c->redirect.max_rules = 128;
	CU_ASSERT_EQUAL(rdr_reconfigure(R[1], c), 0);
	node_free(W->cfg[1]);
	W->cfg[1] = c;
	CU_ASSERT_PTR_NOT_NULL(rdr_rule(R[1], &f, t));
	CU_ASSERT_EQUAL(stats(1, t).all.rules, 1);
	c = node(1);
	strcpy(c->redirect.peers[0].name, "z");
	CU_ASSERT_EQUAL(rdr_reconfigure(R[1], c), 0);
	node_free(W->cfg[1]);
	W->cfg[1] = c;
	CU_ASSERT_PTR_NULL(rdr_rule(R[1], &f, t));
	CU_ASSERT_FALSE(rdr_any_rules(R[1]));
	pair_down();
}

static int init(void)
{
	return rdr_auth_init();
}

void suite_rdr(void)
{
	CU_pSuite s = CU_add_suite("rdr", init, NULL);

	UNIT_ADD(s, test_wire_roundtrip);
	UNIT_ADD(s, test_wire_strict);
	UNIT_ADD(s, test_table_model);
	UNIT_ADD(s, test_install_refresh_delete);
	UNIT_ADD(s, test_expiry_and_idle);
	UNIT_ADD(s, test_retransmit);
	UNIT_ADD(s, test_refusals);
	UNIT_ADD(s, test_restart);
	UNIT_ADD(s, test_caps_and_owner);
	UNIT_ADD(s, test_flood);
	UNIT_ADD(s, test_reconfigure);
}
