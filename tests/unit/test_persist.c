/* persist: persistence across changes of the usable next hops
 * (lb_persist.c). The front: after a drain or a reload, a TCP or UDP packet
 * whose next hop changed carries the previous one's address, IPv4 option
 * 98 or a 32-byte IPv6 destination options header, written out here byte
 * by byte from p2opt.h's layout; one too big with it gets ICMP too big.
 * The back: the mark always comes out; a back with redirect peers keeps a
 * flow table and hands a marked flow it does not know to the peer the mark
 * names, IP-in-IP, for as long as the flow lasts. The redirect key file
 * lives in a mkdtemp directory made by the suite's init and removed by its
 * cleanup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "golden.h"
#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"
#include "net/p2opt.h"
#include "redirect/rdr.h"
#include "redirect/rdr_auth.h"

#define T0 1000.0
#define N_CLIENTS 150
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* b1 .. b4; b1 is the back of the back tests, b2 and b3 its peers. */
static const char *const NH4[5] = { "198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14",
				    "198.51.100.19" };
static const char *const NH6[5] = { "2001:db8:b::11", "2001:db8:b::12", "2001:db8:b::13", "2001:db8:b::14",
				    "2001:db8:b::19" };

static struct pg_rng rng;
static char keydir[64];

static const char *nh_addr(int family, int i)
{
	return family == 4 ? NH4[i] : NH6[i];
}

static const char *svc(int family)
{
	return family == 4 ? S4 : S6;
}

static bool near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

static unsigned alen_of(int family)
{
	return family == 4 ? 4 : 16;
}

/* ---- configs ---------------------------------------------------------- */

/* A front of n next hops b1.. (each with nh_extra), its clients by hash
 * unless table says otherwise; front_extra first in the group. */
static const char *front_conf(unsigned n, const char *front_extra, const char *nh_extra, const char *table)
{
	static char text[4096];
	size_t k = 0;

	k += (size_t)snprintf(text + k, sizeof(text) - k,
			      "front = {\n%s  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n  next_hops = (\n",
			      front_extra);
	for (unsigned i = 0; i < n; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k,
				      "    { name = \"b%u\"; ipv4 = \"%s\"; ipv6 = \"%s\"; %s }%s\n", i + 1, NH4[i],
				      NH6[i], nh_extra, i + 1 < n ? "," : "");
	snprintf(text + k, sizeof(text) - k, "  );\n%s  unmatched = \"hash\";\n};\n", table);
	return text;
}

/* The back b1 (IP_B 198.51.100.11 and 2001:db8:b::11), back_extra in its
 * group; with peers (a list of redirect peers), a redirect group. */
static const char *back_conf(const char *back_extra, const char *peers)
{
	static char text[4096];
	size_t k;

	k = (size_t)snprintf(text, sizeof(text),
			     "back = {\n"
			     "  addresses = (\n"
			     "    { address = \"198.51.100.11\"; service = \"203.0.113.10\"; },\n"
			     "    { address = \"2001:db8:b::11\"; service = \"2001:db8:5::10\"; }\n"
			     "  );\n%s"
			     "};\n",
			     back_extra);
	if (peers)
		snprintf(text + k, sizeof(text) - k,
			 "redirect = {\n"
			 "  address = \"198.51.100.61\";\n"
			 "  key_file = \"%s/keys\";\n"
			 "  peers = (\n%s\n  );\n"
			 "};\n",
			 keydir, peers);
	return text;
}

#define PEER_B2 "    { name = \"b2\"; address = \"198.51.100.62\"; tunnel = [ \"198.51.100.12\", \"2001:db8:b::12\" ]; }"
#define PEER_B3 "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = [ \"198.51.100.13\", \"2001:db8:b::13\" ]; }"
#define PEER_B9 "    { name = \"b9\"; address = \"198.51.100.69\"; tunnel = [ \"198.51.100.19\", \"2001:db8:b::19\" ]; }"
#define BACK_PERSIST "  persistence = { flows = 64; udp_idle = 5; };\n"

/* ---- packets ---------------------------------------------------------- */

/* A packet of proto from src to dst: TCP or UDP ports sport, dport, TCP
 * flags flags, payload bytes after the transport header, IPv4 DF df, and
 * opts bytes of IPv4 no-operation options or (ext) an IPv6 destination
 * options header; checksums right. */
static void mk_ext(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, uint16_t sport,
		   uint16_t dport, uint8_t flags, unsigned payload, bool df, unsigned opts, bool ext)
{
	struct pg_spec s;

	pg_spec_init(&s, family, proto);
	tl_addr(src, s.src);
	tl_addr(dst, s.dst);
	s.payload = payload;
	memset(s.opts, 1, opts);
	s.opts_len = opts;
	if (ext)
		s.ext[s.n_ext++] = PG_EXT_DST;
	pg_build(p, &s, &rng);
	if (family == 4)
		p->buf[6] = df ? 0x40 : 0;
	if (proto == PG_TCP || proto == PG_UDP) {
		pg_put16(p->buf + p->l3len, sport);
		pg_put16(p->buf + p->l3len + 2, dport);
	}
	if (proto == PG_TCP)
		p->buf[p->l3len + 13] = flags;
	pg_recompute(p);
}

static void mk(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, uint16_t sport,
	       uint16_t dport, uint8_t flags, unsigned payload, bool df)
{
	mk_ext(p, family, proto, src, dst, sport, dport, flags, payload, df, 0, false);
}

/* Client k of a family: outside every table of the front tests. */
static const char *client(unsigned k, int family)
{
	static char out[MSLB_ADDRSTRLEN];

	if (family == 4)
		snprintf(out, sizeof(out), "192.0.2.%u", k + 20);
	else
		snprintf(out, sizeof(out), "2001:db8:c1::%x:%x", k * 7919 % 65536, k + 1);
	return out;
}

/* Client k's packet to the service: its own flow (source port 40000 + k). */
static void cli(struct pg_pkt *p, int family, unsigned k, uint8_t proto, uint8_t flags)
{
	mk(p, family, proto, client(k, family), svc(family), (uint16_t)(40000 + k), 443, flags,
	   pg_range(&rng, 0, 200), true);
}

/* pkt (len bytes, no IPv6 extension headers) marked with alt as p2opt.h
 * lays it out: IPv4 option 98 of 8 bytes (98, 8, 0, 0, address) first
 * after the fixed header; IPv6 a destination options header (next header,
 * 3, option 0x1e of 26 bytes: 98, 0, 8 zero bytes, address; PadN of 2)
 * right after the fixed one. Written at out (not pkt); its length. */
static uint32_t marked(const uint8_t *pkt, uint32_t len, const uint8_t *alt, uint8_t *out)
{
	uint8_t *d;

	if ((pkt[0] >> 4) == 4) {
		unsigned ihl = (pkt[0] & 0x0f) * 4u;

		memcpy(out, pkt, 20);
		out[20] = 98;
		out[21] = 8;
		out[22] = out[23] = 0;
		memcpy(out + 24, alt, 4);
		memcpy(out + 28, pkt + 20, len - 20);
		out[0] = (uint8_t)(0x40 | (ihl + 8) / 4);
		pg_put16(out + 2, (uint16_t)(len + 8));
		tp_ip4_csum(out);
		return len + 8;
	}
	memcpy(out, pkt, 40);
	d = out + 40;
	memset(d, 0, 32);
	d[0] = pkt[6];
	d[1] = 3;
	d[2] = 0x1e;
	d[3] = 26;
	d[4] = 98;
	memcpy(d + 14, alt, 16);
	d[30] = 1;
	memcpy(out + 72, pkt + 40, len - 40);
	out[6] = 60;
	pg_put16(out + 4, (uint16_t)(len - 40 + 32));
	return len + 32;
}

/* in with destination dst, checksums fixed: a plain rewrite. */
static void rewritten(const struct pg_pkt *in, const uint8_t *dst, struct pg_pkt *e)
{
	*e = *in;
	pg_set_dst(e, dst);
	pg_recompute(e);
}

/* inner (ilen bytes) in an outer header from src to dst, as a front or a
 * peer sends it. */
static void tunnel_in(struct pg_pkt *out, int ov, const char *src, const char *dst, const uint8_t *inner,
		      uint32_t ilen)
{
	unsigned hl = ov == 4 ? 20 : 40;
	uint8_t s[16], d[16];

	tl_addr(src, s);
	tl_addr(dst, d);
	memcpy(out->buf + hl, inner, ilen);
	tp_outer(out->buf, ov, out->buf + hl, ilen, s, d, 0x1234, false);
	out->len = hl + ilen;
	out->family = ov;
}

static enum mslb_drop run(struct mslb_lb *lb, const struct pg_pkt *in, struct pg_pkt *out)
{
	uint32_t len = in->len;
	enum mslb_drop r;

	memcpy(out->buf, in->buf, in->len);
	r = tl_process(lb, out->buf, sizeof(out->buf), &len);
	out->len = r == MSLB_OK ? len : 0;
	out->family = (out->buf[0] >> 4) == 4 ? 4 : 6;
	return r;
}

/* The next hop whose address is pkt's destination, -1 for none. */
static int nh_of(const uint8_t *pkt)
{
	int family = (pkt[0] >> 4) == 4 ? 4 : 6;
	uint8_t a[16];

	for (int i = 0; i < 5; i++) {
		tl_addr(nh_addr(family, i), a);
		if (!memcmp(pkt + (family == 4 ? 16 : 24), a, alen_of(family)))
			return i;
	}
	return -1;
}

/* p2opt_strip on a copy of the marked IP packet pkt: kind 98 naming alt,
 * and the rest byte for byte plain. */
static void strip_check(const char *what, const uint8_t *pkt, uint32_t len, const uint8_t *alt, unsigned alen,
			const uint8_t *plain, uint32_t plen)
{
	static uint8_t c[PG_BUFSZ];
	struct p2opt o;
	uint8_t *out = NULL;
	unsigned shrink = 0;
	uint32_t n = len;
	int r;

	memcpy(c, pkt, len);
	r = p2opt_strip(c, &n, &o, &out, &shrink);
	CU_ASSERT_EQUAL(r, 1);
	if (r != 1 || !out)
		return;
	CU_ASSERT_EQUAL(o.kind, P2OPT_PREV);
	CU_ASSERT_EQUAL(memcmp(o.alt, alt, alen), 0);
	CU_ASSERT_EQUAL(shrink, alen == 4 ? 8u : 32u);
	CU_ASSERT(tp_same(what, out, n, plain, plen));
}

/* What the last front_check got. */
static struct pg_pkt fout;

/* in through the front lb: the next hop it went to (-1: dropped, which
 * fails). was: the next hop the previous generation chose for it, -1 when
 * no mark may come; the packet must carry was's address exactly when it
 * went elsewhere. What is sent must be byte for byte the plain result
 * (translation: in with the next hop's address; encap: in inside an outer
 * header from IP_S to the next hop) with the mark written in, checksums
 * right, and p2opt_strip must give the plain packet back. */
static int front_check(struct mslb_lb *lb, const struct pg_pkt *in, int was, bool encap, const char *what)
{
	static struct pg_pkt plain;
	static uint8_t m[PG_BUFSZ];
	static struct gd_pkt x;
	int family = in->family, nh;
	unsigned alen = alen_of(family);
	const uint8_t *exp;
	uint32_t exp_len;
	uint8_t alt[16] = { 0 };
	enum mslb_drop r = run(lb, in, &fout);
	bool ok;

	CU_ASSERT_EQUAL(r, MSLB_OK);
	if (r != MSLB_OK) {
		printf("\n  %s: dropped, %s", what, mslb_drop_name(r));
		return -1;
	}
	nh = nh_of(fout.buf);
	CU_ASSERT(nh >= 0);
	if (nh < 0)
		return -1;
	if (encap)
		plain = *in;
	else
		rewritten(in, tl_ip(nh_addr(family, nh)), &plain);
	exp = plain.buf;
	exp_len = plain.len;
	if (was >= 0 && was != nh) {
		tl_addr(nh_addr(family, was), alt);
		exp_len = marked(plain.buf, plain.len, alt, m);
		exp = m;
	}
	if (encap) {
		gd_encap(&x, family, svc(family), nh_addr(family, nh), exp, exp_len,
			 family == 4 ? pg_get16(fout.buf + 4) : 0, family == 4 && (in->buf[6] & 0x40));
		ok = gd_match(what, fout.buf, fout.len, &x);
	} else {
		ok = tp_same(what, fout.buf, fout.len, exp, exp_len);
	}
	CU_ASSERT(ok);
	if (exp == m && ok) {
		const uint8_t *ip = fout.buf + (encap ? (family == 4 ? 20 : 40) : 0);
		uint32_t ilen = fout.len - (uint32_t)(ip - fout.buf);
		unsigned hl = family == 4 ? (ip[0] & 0x0fu) * 4 : 72;

		if (family == 4)
			CU_ASSERT(tp_ip4_csum_ok(ip));
		CU_ASSERT(tp_l4_csum_ok(ip, ip + hl, ilen - hl, in->proto, true));
		strip_check(what, ip, ilen, alt, alen, plain.buf, plain.len);
	}
	return nh;
}

/* ---- the front: a drain ------------------------------------------------- */

static void test_front_drain(void)
{
	static int before[2][N_CLIENTS], after[2][N_CLIENTS];
	static struct pg_pkt p, w, e, f, g;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(front_conf(3, "", "", ""), "drain.conf", &cfg);
	struct lb_persist_stats st;
	uint64_t marks = 0, unmarked = 0;

	CU_ASSERT_EQUAL(lb_config(lb)->front.persistence, 240);	/* the default */
	lb_set_time(lb, T0);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			before[fi][k] = front_check(lb, &p, -1, false, "before the drain");
		}
	st = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(st.generations, 0);
	CU_ASSERT_EQUAL(st.marked, 0);
	CU_ASSERT_EQUAL(st.window_left, 0);

	/* b2 drained: its clients move, carrying b2's address. */
	CU_ASSERT_EQUAL_FATAL(lb_set_usable(lb, 1, false), 0);
	st = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(st.generations, 1);
	CU_ASSERT(near(st.window_left, 240));
	lb_set_time(lb, T0 + 10);
	for (int fi = 0; fi < 2; fi++) {
		int family = fi ? 6 : 4;
		unsigned on_b2 = 0, moved = 0;

		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, family, k, PG_TCP, TCP_ACK);
			after[fi][k] = front_check(lb, &p, before[fi][k], false, "ACK after the drain");
			CU_ASSERT_NOT_EQUAL(after[fi][k], 1);
			on_b2 += before[fi][k] == 1;
			if (after[fi][k] != before[fi][k]) {
				moved++;
				marks++;
			}
		}
		/* Every client of b2 moved; Maglev keeps nearly all others. */
		CU_ASSERT(on_b2 >= N_CLIENTS / 6);
		CU_ASSERT(moved >= on_b2 && moved <= on_b2 + N_CLIENTS / 10);
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			/* UDP is marked as TCP is. */
			cli(&p, family, k, PG_UDP, 0);
			CU_ASSERT_EQUAL(front_check(lb, &p, before[fi][k], false, "UDP after the drain"), after[fi][k]);
			marks += after[fi][k] != before[fi][k];
			if (after[fi][k] == before[fi][k])
				continue;
			/* A SYN starts a flow where it goes: never marked. */
			cli(&p, family, k, PG_TCP, TCP_SYN);
			CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "SYN of a moved client"), after[fi][k]);
			/* Nor ICMP, which has no flow to keep. */
			mk(&p, family, family == 4 ? PG_ICMP : PG_ICMPV6, client(k, family), svc(family), 0, 0, 0, 16,
			   false);
			CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "echo of a moved client"), after[fi][k]);
		}
		st = lb_persist_stats(lb);
		CU_ASSERT_EQUAL(st.marked, marks);
	}

	/* Headers without room for the mark: sent as they are, counted. The
	 * first moved client of each family. */
	for (int fi = 0; fi < 2; fi++) {
		int family = fi ? 6 : 4;
		unsigned k = 0;

		while (k < N_CLIENTS && after[fi][k] == before[fi][k])
			k++;
		CU_ASSERT_FATAL(k < N_CLIENTS);
		if (family == 4) {
			/* 40 bytes of options: no room. */
			mk_ext(&p, 4, PG_TCP, client(k, 4), S4, (uint16_t)(40000 + k), 443, TCP_ACK, 50, true, 40, false);
			CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "IPv4, 40 bytes of options"), after[fi][k]);
			unmarked++;
			/* 32 bytes: room for 8 more; ours goes first. */
			mk_ext(&p, 4, PG_TCP, client(k, 4), S4, (uint16_t)(40000 + k), 443, TCP_ACK, 50, true, 32, false);
			CU_ASSERT_EQUAL(front_check(lb, &p, before[fi][k], false, "IPv4, 32 bytes of options"),
					after[fi][k]);
			marks++;
			/* Fragments of a UDP datagram: the pieces of the datagram
			 * translated whole, unmarked. */
			mk(&w, 4, PG_UDP, client(k, 4), S4, (uint16_t)(40000 + k), 443, 0, 100, false);
			rewritten(&w, tl_ip(nh_addr(4, after[fi][k])), &e);
			for (unsigned off = 0; off < 108; off += 64) {
				pg_fragment(&w, off, off ? 44 : 64, !off, &p);
				pg_fragment(&e, off, off ? 44 : 64, !off, &f);
				CU_ASSERT_EQUAL(run(lb, &p, &g), MSLB_OK);
				CU_ASSERT(tp_same("fragment", g.buf, g.len, f.buf, f.len));
			}
		} else {
			/* An extension header: ours would have to go after it. */
			mk_ext(&p, 6, PG_TCP, client(k, 6), S6, (uint16_t)(40000 + k), 443, TCP_ACK, 50, true, 0, true);
			CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "IPv6 with a destination options header"),
					after[fi][k]);
			unmarked++;
		}
	}
	st = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(st.marked, marks);
	CU_ASSERT_EQUAL(st.unmarked, unmarked);
	CU_ASSERT_EQUAL(st.mark_too_big, 0);

	/* The last second of the window still marks; after it, nothing. */
	lb_set_time(lb, T0 + 239);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			CU_ASSERT_EQUAL(front_check(lb, &p, before[fi][k], false, "the window's last second"),
					after[fi][k]);
			marks += after[fi][k] != before[fi][k];
		}
	CU_ASSERT(near(lb_persist_stats(lb).window_left, 1));
	lb_set_time(lb, T0 + 241);
	CU_ASSERT_EQUAL(lb_persist_stats(lb).window_left, 0);
	for (int round = 0; round < 2; round++) {
		for (int fi = 0; fi < 2; fi++)
			for (unsigned k = 0; k < N_CLIENTS; k++) {
				cli(&p, fi ? 6 : 4, k, k % 2 ? PG_UDP : PG_TCP, TCP_ACK);
				CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "after the window"), after[fi][k]);
			}
		/* The generation goes at the next tick; it changes nothing. */
		lb_expire(lb, T0 + 241);
	}
	st = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(st.marked, marks);
	CU_ASSERT_EQUAL(st.generations, 1);
	CU_ASSERT_EQUAL(st.window_left, 0);

	/* b2 back: its clients return (the same table as before), carrying
	 * the next hop they had while it was drained. */
	lb_set_time(lb, T0 + 300);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_EQUAL(lb_persist_stats(lb).generations, 2);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			CU_ASSERT_EQUAL(front_check(lb, &p, after[fi][k], false, "undrained"), before[fi][k]);
			marks += after[fi][k] != before[fi][k];
		}
	CU_ASSERT_EQUAL(lb_persist_stats(lb).marked, marks);
	/* Setting the same state again is no change. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_EQUAL(lb_persist_stats(lb).generations, 2);
	tl_lb_free(lb, cfg);

	/* persistence = 0: the same drain marks nothing. */
	lb = tl_lb_load(front_conf(3, "  persistence = 0;\n", "", ""), "drain0.conf", &cfg);
	lb_set_time(lb, T0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	{
		unsigned moved = 0;

		for (int fi = 0; fi < 2; fi++)
			for (unsigned k = 0; k < N_CLIENTS; k++) {
				int nh;

				cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
				nh = front_check(lb, &p, -1, false, "persistence 0");
				CU_ASSERT_EQUAL(nh, after[fi][k]);
				moved += nh != before[fi][k];
			}
		CU_ASSERT(moved > 0);
	}
	st = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(st.generations, 0);
	CU_ASSERT_EQUAL(st.marked, 0);
	CU_ASSERT_EQUAL(st.unmarked, 0);
	CU_ASSERT_EQUAL(st.window_left, 0);
	tl_lb_free(lb, cfg);
}

/* Table entries: one whose next hop is drained takes its backup, or the
 * hash; its clients carry the drained next hop. A second drain makes the
 * generation just before it the previous one. */
#define DRAIN_TABLE \
	"  table = (\n" \
	"    { source = \"198.51.100.128/25\"; next_hop = \"b2\"; backup = \"b3\"; },\n" \
	"    { source = \"198.51.100.0/25\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c2::/48\"; next_hop = \"b1\"; backup = \"b2\"; }\n" \
	"  );\n"

static void test_front_drain_table(void)
{
	static struct pg_pkt p;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(front_conf(3, "", "", DRAIN_TABLE), "drain-table.conf", &cfg);
	int nh;

	lb_set_time(lb, T0);
	mk(&p, 4, PG_TCP, "198.51.100.130", S4, 42000, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "table: b2"), 1);
	mk(&p, 4, PG_TCP, "198.51.100.5", S4, 42001, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, -1, false, "table: b2 without backup"), 1);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	lb_set_time(lb, T0 + 1);
	mk(&p, 4, PG_TCP, "198.51.100.130", S4, 42000, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, 1, false, "b2 drained: its backup b3, marked b2"), 2);
	mk(&p, 4, PG_UDP, "198.51.100.5", S4, 42001, 443, 0, 20, true);
	nh = front_check(lb, &p, 1, false, "b2 drained, no backup: the hash, marked b2");
	CU_ASSERT(nh == 0 || nh == 2);
	mk(&p, 6, PG_TCP, "2001:db8:c2::5", S6, 42002, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, 0, false, "b1 kept: unmarked"), 0);
	CU_ASSERT_EQUAL(lb_persist_stats(lb).marked, 2);
	/* b3 drained too: 198.51.100.130 had b3 a moment ago. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, false), 0);
	CU_ASSERT_EQUAL(lb_persist_stats(lb).generations, 2);
	mk(&p, 4, PG_TCP, "198.51.100.130", S4, 42000, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, 2, false, "b2 and b3 drained: b1, marked b3"), 0);
	mk(&p, 4, PG_TCP, "198.51.100.5", S4, 42001, 443, TCP_ACK, 20, true);
	CU_ASSERT_EQUAL(front_check(lb, &p, nh, false, "b2 and b3 drained: b1"), 0);
	tl_lb_free(lb, cfg);
}

/* ---- the front: a reload ------------------------------------------------ */

static void test_front_reload(void)
{
	static int before[2][N_CLIENTS];
	static struct pg_pkt p;
	struct mslb_config *ocfg, *ncfg;
	struct mslb_lb *old, *n;
	struct lb_persist_stats st;
	uint64_t marks = 0;

	old = tl_lb_load(front_conf(3, "", "", ""), "old.conf", &ocfg);
	lb_set_time(old, T0);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			before[fi][k] = front_check(old, &p, -1, false, "old config");
		}
	/* b4 added: about a quarter of the clients go to it. */
	n = tl_lb_load(front_conf(4, "", "", ""), "new.conf", &ncfg);
	lb_adopt_counters(n, old);
	lb_take_state(n, old);
	lb_set_time(n, T0 + 5);
	/* Nothing of old is used any more (its hashes moved). */
	tl_lb_free(old, ocfg);
	st = lb_persist_stats(n);
	CU_ASSERT_EQUAL(st.generations, 1);
	CU_ASSERT(near(st.window_left, 235));
	for (int fi = 0; fi < 2; fi++) {
		unsigned to_b4 = 0, moved = 0;

		for (unsigned k = 0; k < N_CLIENTS; k++) {
			int nh;

			cli(&p, fi ? 6 : 4, k, k % 3 ? PG_TCP : PG_UDP, TCP_ACK);
			nh = front_check(n, &p, before[fi][k], false, "after the reload");
			to_b4 += nh == 3;
			moved += nh != before[fi][k];
		}
		marks += moved;
		CU_ASSERT(to_b4 >= N_CLIENTS / 8);
		CU_ASSERT(moved >= to_b4 && moved <= to_b4 + N_CLIENTS / 10);
	}
	CU_ASSERT_EQUAL(lb_persist_stats(n).marked, marks);
	lb_set_time(n, T0 + 240);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			front_check(n, &p, -1, false, "after the reload's window");
		}
	CU_ASSERT_EQUAL(lb_persist_stats(n).marked, marks);

	/* A reload of a front whose b4 is drained (so: in a window): the new
	 * generation is what the old one chose, drain included; the counters
	 * go on. */
	old = n;
	ocfg = ncfg;
	lb_set_time(old, T0 + 400);
	CU_ASSERT_EQUAL(lb_set_usable(old, 3, false), 0);
	CU_ASSERT_EQUAL(lb_persist_stats(old).generations, 2);
	lb_set_time(old, T0 + 700);	/* that window over */
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			before[fi][k] = front_check(old, &p, -1, false, "b4 drained");
			CU_ASSERT_NOT_EQUAL(before[fi][k], 3);
		}
	marks = lb_persist_stats(old).marked;
	n = tl_lb_load(front_conf(4, "", "", ""), "new2.conf", &ncfg);
	lb_adopt_counters(n, old);
	lb_take_state(n, old);
	lb_set_time(n, T0 + 701);
	tl_lb_free(old, ocfg);
	CU_ASSERT_EQUAL(lb_persist_stats(n).generations, 3);
	for (int fi = 0; fi < 2; fi++) {
		unsigned to_b4 = 0;

		for (unsigned k = 0; k < N_CLIENTS; k++) {
			int nh;

			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			nh = front_check(n, &p, before[fi][k], false, "reload undrains b4");
			to_b4 += nh == 3;
			marks += nh != before[fi][k];
		}
		CU_ASSERT(to_b4 >= N_CLIENTS / 8);
	}
	CU_ASSERT_EQUAL(lb_persist_stats(n).marked, marks);
	tl_lb_free(n, ncfg);

	/* A new config with persistence 0: no window. */
	old = tl_lb_load(front_conf(3, "", "", ""), "old0.conf", &ocfg);
	n = tl_lb_load(front_conf(4, "  persistence = 0;\n", "", ""), "new0.conf", &ncfg);
	lb_set_time(old, T0);
	lb_set_time(n, T0);
	lb_take_state(n, old);
	tl_lb_free(old, ocfg);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			front_check(n, &p, -1, false, "reload to persistence 0");
		}
	st = lb_persist_stats(n);
	CU_ASSERT_EQUAL(st.generations, 0);
	CU_ASSERT_EQUAL(st.marked, 0);
	tl_lb_free(n, ncfg);
}

/* A reload that changes the table: the previous generation is what the
 * old config chose for each client, whichever entry (or the hash) chose
 * it. A prefix kept with another next hop; a prefix removed (its clients
 * fall to the hash); a prefix added (its clients came by the hash). */
#define OLD_TABLE \
	"  table = (\n" \
	"    { source = \"198.51.100.192/26\"; next_hop = \"b1\"; },\n" \
	"    { source = \"198.51.100.128/26\"; next_hop = \"b3\"; }\n" \
	"  );\n"
#define NEW_TABLE \
	"  table = (\n" \
	"    { source = \"198.51.100.192/26\"; next_hop = \"b4\"; },\n" \
	"    { source = \"198.51.100.64/26\"; next_hop = \"b4\"; }\n" \
	"  );\n"

static void test_front_reload_table(void)
{
	static const struct {
		const char *what;
		unsigned first;	/* 198.51.100.first .. first + 19 */
	} groups[3] = {
		{ "prefix kept, b1 -> b4", 200 },
		{ "prefix removed, b3 -> hash", 130 },
		{ "prefix added, hash -> b4", 70 },
	};
	static struct pg_pkt p;
	int before[3][20];
	struct mslb_config *ocfg, *ncfg;
	struct mslb_lb *old, *n;

	old = tl_lb_load(front_conf(3, "", "", OLD_TABLE), "old-table.conf", &ocfg);
	lb_set_time(old, T0);
	for (unsigned g = 0; g < 3; g++)
		for (unsigned i = 0; i < 20; i++) {
			char src[MSLB_ADDRSTRLEN];

			snprintf(src, sizeof(src), "198.51.100.%u", groups[g].first + i);
			mk(&p, 4, PG_TCP, src, S4, (uint16_t)(41000 + i), 443, TCP_ACK, 20, true);
			before[g][i] = front_check(old, &p, -1, false, groups[g].what);
		}
	n = tl_lb_load(front_conf(4, "", "", NEW_TABLE), "new-table.conf", &ncfg);
	lb_adopt_counters(n, old);
	lb_take_state(n, old);
	lb_set_time(n, T0 + 1);
	tl_lb_free(old, ocfg);
	for (unsigned g = 0; g < 3; g++) {
		unsigned moved = 0;

		for (unsigned i = 0; i < 20; i++) {
			char src[MSLB_ADDRSTRLEN], what[96];
			int nh;

			snprintf(src, sizeof(src), "198.51.100.%u", groups[g].first + i);
			snprintf(what, sizeof(what), "%s: client %s (was b%d)", groups[g].what, src, before[g][i] + 1);
			mk(&p, 4, PG_TCP, src, S4, (uint16_t)(41000 + i), 443, TCP_ACK, 20, true);
			nh = front_check(n, &p, before[g][i], false, what);
			moved += nh != before[g][i];
		}
		/* Each group has clients that moved, so each case is tried. */
		CU_ASSERT(moved > 0);
	}
	tl_lb_free(n, ncfg);
}

/* ---- the front: too big with the mark ------------------------------------ */

/* The first client of family whose next hop changed from b2 (after the
 * drain lb had); its next hop now in *to. */
static unsigned moved_client(struct mslb_lb *lb, int family, const int *before, bool encap, int *to)
{
	static struct pg_pkt p;

	for (unsigned k = 0; k < N_CLIENTS; k++) {
		if (before[k] != 1)
			continue;
		cli(&p, family, k, PG_TCP, TCP_ACK);
		*to = front_check(lb, &p, 1, encap, "a client of b2");
		return k;
	}
	CU_FAIL_FATAL("no client of b2");
	return 0;
}

/* Client k's TCP ACK of total bytes with DF df through lb: dropped as
 * too big, with ICMP too big (MTU mtu) to the client from the service,
 * quoting the packet as it came. */
static void too_big(struct mslb_lb *lb, int family, unsigned k, unsigned total, bool df, unsigned mtu)
{
	static struct pg_pkt p, g;
	static struct gd_pkt x;
	unsigned hl = family == 4 ? 40 : 60;
	uint8_t c[16];
	enum mslb_drop r;
	uint64_t drops = lb_drops(lb, MSLB_DROP_TOO_BIG);
	char what[80];

	snprintf(what, sizeof(what), "IPv%d %u bytes: too big, MTU %u", family, total, mtu);
	mk(&p, family, PG_TCP, client(k, family), svc(family), (uint16_t)(40000 + k), 443, TCP_ACK, total - hl, df);
	CU_ASSERT_EQUAL(p.len, total);
	gd_cap.n = 0;
	r = run(lb, &p, &g);
	CU_ASSERT_EQUAL(r, MSLB_DROP_TOO_BIG);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TOO_BIG), drops + 1);
	CU_ASSERT_EQUAL_FATAL(gd_cap.n, 1);
	if (family == 4)
		gd_icmp(&x, 4, S4, client(k, 4), 3, 4, mtu, p.buf, 548);
	else
		gd_icmp(&x, 6, S6, client(k, 6), 2, 0, mtu, p.buf, 1232);
	CU_ASSERT(gd_match(what, gd_cap.p[0].b, gd_cap.p[0].len, &x));
	/* The fields that matter, once more by hand. */
	tl_addr(client(k, family), c);
	if (family == 4) {
		CU_ASSERT_EQUAL(gd_cap.p[0].b[20], 3);
		CU_ASSERT_EQUAL(gd_cap.p[0].b[21], 4);
		CU_ASSERT_EQUAL(pg_get16(gd_cap.p[0].b + 26), mtu);
		CU_ASSERT_EQUAL(memcmp(gd_cap.p[0].b + 16, c, 4), 0);
	} else {
		CU_ASSERT_EQUAL(gd_cap.p[0].b[40], 2);
		CU_ASSERT_EQUAL(gd_cap.p[0].b[41], 0);
		CU_ASSERT_EQUAL(pg_get32(gd_cap.p[0].b + 44), mtu);
		CU_ASSERT_EQUAL(memcmp(gd_cap.p[0].b + 24, c, 16), 0);
	}
}

/* Client k's TCP ACK of total bytes through lb: sent, marked with b2 or
 * not (was -1); nothing emitted. */
static void fits(struct mslb_lb *lb, int family, unsigned k, unsigned total, bool df, int was, bool encap, int to)
{
	static struct pg_pkt p;
	unsigned hl = family == 4 ? 40 : 60;

	mk(&p, family, PG_TCP, client(k, family), svc(family), (uint16_t)(40000 + k), 443, TCP_ACK, total - hl, df);
	gd_cap.n = 0;
	CU_ASSERT_EQUAL(front_check(lb, &p, was, encap, "fits"), to);
	CU_ASSERT_EQUAL(gd_cap.n, 0);
}

static void test_front_too_big(void)
{
	static int before[2][N_CLIENTS];
	static const struct {
		const char *nh_extra;
		unsigned mtu;
	} cases[2] = { { "", 1500 }, { "path_mtu = 1400;", 1400 } };
	static struct pg_pkt p;

	for (unsigned c = 0; c < 2; c++) {
		struct mslb_config *cfg;
		struct mslb_lb *lb = tl_lb_load(front_conf(3, "", cases[c].nh_extra, ""), "too-big.conf", &cfg);
		unsigned mtu = cases[c].mtu, k4, k6, stay = 0;
		struct lb_persist_stats st;
		struct lb_nh_tunnel t;
		uint64_t icmp = 0;
		int to4, to6;

		lb_set_emit(lb, gd_capture, NULL);
		lb_set_time(lb, T0);
		for (int fi = 0; fi < 2; fi++)
			for (unsigned k = 0; k < N_CLIENTS; k++) {
				cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
				before[fi][k] = front_check(lb, &p, -1, false, "before");
			}
		CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
		k4 = moved_client(lb, 4, before[0], false, &to4);
		k6 = moved_client(lb, 6, before[1], false, &to6);
		/* IPv4 with DF: 8 bytes less. */
		too_big(lb, 4, k4, mtu, true, mtu - 8);
		too_big(lb, 4, k4, mtu - 7, true, mtu - 8);
		fits(lb, 4, k4, mtu - 8, true, 1, false, to4);
		/* Without DF it may be cut on the way: sent unmarked. */
		fits(lb, 4, k4, mtu, false, -1, false, to4);
		/* IPv6: 32 bytes less. */
		too_big(lb, 6, k6, mtu, false, mtu - 32);
		too_big(lb, 6, k6, mtu - 31, false, mtu - 32);
		fits(lb, 6, k6, mtu - 32, false, 1, false, to6);
		st = lb_persist_stats(lb);
		CU_ASSERT_EQUAL(st.mark_too_big, 4);
		CU_ASSERT_EQUAL(st.unmarked, 1);
		CU_ASSERT_EQUAL(st.marked, 4);
		for (unsigned i = 0; i < 3; i++) {
			lb_next_hop_tunnel(lb, i, &t);
			icmp += t.icmp_sent;
		}
		CU_ASSERT_EQUAL(icmp, 4);
		/* A client that did not move: the whole MTU, unmarked. */
		for (; stay < N_CLIENTS; stay++) {
			if (before[0][stay] == 1)
				continue;
			cli(&p, 4, stay, PG_TCP, TCP_ACK);
			if (front_check(lb, &p, before[0][stay], false, "another client") == before[0][stay])
				break;
		}
		CU_ASSERT_FATAL(stay < N_CLIENTS);
		fits(lb, 4, stay, mtu, true, -1, false, before[0][stay]);
		CU_ASSERT_EQUAL(lb_persist_stats(lb).mark_too_big, 4);
		tl_lb_free(lb, cfg);
	}
}

/* ---- the back -------------------------------------------------------- */

/* A client's packet of flow cport (TCP flags, or UDP) as a front sends it
 * to b1 (plain), and the same marked with alt (NULL: as it is). */
static void to_back(struct pg_pkt *plain, struct pg_pkt *in, int family, uint8_t proto, uint16_t cport,
		    uint8_t flags, const char *alt)
{
	uint8_t a[16];

	mk(plain, family, proto, family == 4 ? C4 : C6, nh_addr(family, 0), cport, 443, flags,
	   pg_range(&rng, 0, 100), true);
	*in = *plain;
	if (alt) {
		tl_addr(alt, a);
		in->len = marked(plain->buf, plain->len, a, in->buf);
	}
}

/* in through the back lb: what goes on is plain (the client's packet as
 * the front sent it, unmarked) with IP_S as destination (tunnel: plain
 * itself, the inner packet), delivered here (peer -1) or IP-in-IP from
 * b1 to the tunnel address of next hop peer. */
static void back_check(struct mslb_lb *lb, const struct pg_pkt *in, const struct pg_pkt *plain, int peer,
		       bool tunnel, const char *what)
{
	static struct pg_pkt g, e;
	static struct gd_pkt x;
	int family = plain->family;
	enum mslb_drop r = run(lb, in, &g);

	CU_ASSERT_EQUAL(r, MSLB_OK);
	if (r != MSLB_OK) {
		printf("\n  %s: dropped, %s", what, mslb_drop_name(r));
		return;
	}
	if (tunnel)
		e = *plain;
	else
		rewritten(plain, tl_ip(svc(family)), &e);
	if (peer < 0) {
		CU_ASSERT(tp_same(what, g.buf, g.len, e.buf, e.len));
		return;
	}
	gd_encap(&x, family, nh_addr(family, 0), nh_addr(family, peer), e.buf, e.len,
		 family == 4 ? pg_get16(g.buf + 4) : 0, family == 4 && (e.buf[6] & 0x40));
	CU_ASSERT(gd_match(what, g.buf, g.len, &x));
}

/* The back's counters are want's. */
static void ps_is(const struct mslb_lb *lb, const struct lb_persist_stats *want, const char *what)
{
	struct lb_persist_stats s = lb_persist_stats(lb);
	bool ok = s.marks == want->marks && s.new_flows == want->new_flows && s.known == want->known &&
		  s.sock_diag_yes == want->sock_diag_yes && s.sock_diag_no == want->sock_diag_no &&
		  s.handed_flows == want->handed_flows && s.handed_packets == want->handed_packets &&
		  s.prev_unknown == want->prev_unknown && s.full == want->full && s.expired == want->expired &&
		  s.ignored == want->ignored && s.flows == want->flows;

	CU_ASSERT(ok);
	if (!ok)
		printf("\n  %s: marks %llu/%llu new %llu/%llu known %llu/%llu diag %llu,%llu/%llu,%llu "
		       "handed %llu,%llu/%llu,%llu unknown %llu/%llu full %llu/%llu expired %llu/%llu "
		       "ignored %llu/%llu flows %u/%u",
		       what, (unsigned long long)s.marks, (unsigned long long)want->marks,
		       (unsigned long long)s.new_flows, (unsigned long long)want->new_flows,
		       (unsigned long long)s.known, (unsigned long long)want->known,
		       (unsigned long long)s.sock_diag_yes, (unsigned long long)s.sock_diag_no,
		       (unsigned long long)want->sock_diag_yes, (unsigned long long)want->sock_diag_no,
		       (unsigned long long)s.handed_flows, (unsigned long long)s.handed_packets,
		       (unsigned long long)want->handed_flows, (unsigned long long)want->handed_packets,
		       (unsigned long long)s.prev_unknown, (unsigned long long)want->prev_unknown,
		       (unsigned long long)s.full, (unsigned long long)want->full,
		       (unsigned long long)s.expired, (unsigned long long)want->expired,
		       (unsigned long long)s.ignored, (unsigned long long)want->ignored, s.flows, want->flows);
}

/* The server's sockets, as sock_diag would tell. */
static struct {
	int answer;
	unsigned calls, version;
	uint8_t server[16], client[16];
	uint16_t sport, cport;
} kn;

static int known_cb(void *ctx, unsigned version, const uint8_t *server, uint16_t sport, const uint8_t *client,
		    uint16_t cport)
{
	CU_ASSERT_PTR_EQUAL(ctx, &kn);
	kn.calls++;
	kn.version = version;
	memcpy(kn.server, server, version == 4 ? 4 : 16);
	memcpy(kn.client, client, version == 4 ? 4 : 16);
	kn.sport = sport;
	kn.cport = cport;
	return kn.answer;
}

/* Every flow table slot looked at, at time t. */
static void expire_at(struct mslb_lb *lb, double t)
{
	lb_set_time(lb, t);
	for (int i = 0; i < 40; i++)
		lb_expire(lb, t);
}

/* A back with a redirect group and its data path: lb_set_redirect as the
 * daemon does. */
static struct mslb_lb *back_load(const char *text, const char *name, struct mslb_config **cfg, struct rdr **r)
{
	struct mslb_lb *lb = tl_lb_load(text, name, cfg);

	*r = rdr_create(*cfg, T0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*r);
	lb_set_redirect(lb, *r);
	lb_set_time(lb, T0);
	return lb;
}

static void test_back(void)
{
	for (int family = 4; family <= 6; family += 2) {
		static struct pg_pkt plain, in;
		struct lb_persist_stats want = { 0 };
		const char *b2 = nh_addr(family, 1), *b3 = nh_addr(family, 2);
		const char *stranger = family == 4 ? "198.51.100.99" : "2001:db8:b::99";
		struct mslb_config *cfg;
		struct rdr *r;
		struct mslb_lb *lb = back_load(back_conf(BACK_PERSIST, PEER_B2 ",\n" PEER_B3), "back.conf", &cfg, &r);
		/* A: a marked ACK of a flow not known here goes to the back
		 * the mark names; its later packets too, marked or not. */
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, b2);
		back_check(lb, &in, &plain, 1, false, "A: marked, unknown: to b2");
		want.marks = 1, want.handed_flows = 1, want.handed_packets = 1, want.flows = 1;
		ps_is(lb, &want, "A marked");
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, NULL);
		back_check(lb, &in, &plain, 1, false, "A: unmarked: to b2");
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, b3);
		back_check(lb, &in, &plain, 1, false, "A: marked with b3: still to b2");
		want.marks = 2, want.known = 1, want.handed_packets = 3;
		ps_is(lb, &want, "A");
		/* B: a SYN starts here, marked or not; then it is known. */
		to_back(&plain, &in, family, PG_TCP, 50002, TCP_SYN, b2);
		back_check(lb, &in, &plain, -1, false, "B: marked SYN: here");
		to_back(&plain, &in, family, PG_TCP, 50002, TCP_ACK, b2);
		back_check(lb, &in, &plain, -1, false, "B: marked ACK: here");
		want.marks = 4, want.new_flows = 1, want.known = 2, want.flows = 2;
		ps_is(lb, &want, "B");
		/* C: seen unmarked first, it is this back's. */
		to_back(&plain, &in, family, PG_TCP, 50003, TCP_ACK, NULL);
		back_check(lb, &in, &plain, -1, false, "C: unmarked: here");
		to_back(&plain, &in, family, PG_TCP, 50003, TCP_ACK, b2);
		back_check(lb, &in, &plain, -1, false, "C: then marked: here");
		want.marks = 5, want.new_flows = 2, want.known = 3, want.flows = 3;
		ps_is(lb, &want, "C");
		/* D: the mark names no peer. */
		to_back(&plain, &in, family, PG_TCP, 50004, TCP_ACK, stranger);
		back_check(lb, &in, &plain, -1, false, "D: marked with no peer: here");
		want.marks = 6, want.prev_unknown = 1;
		ps_is(lb, &want, "D");
		/* The back's own address in the mark is no peer either. */
		to_back(&plain, &in, family, PG_TCP, 50004, TCP_ACK, nh_addr(family, 0));
		back_check(lb, &in, &plain, -1, false, "D: marked with b1 itself: here");
		want.marks = 7, want.prev_unknown = 2;
		ps_is(lb, &want, "D again");

		/* E, F, G: the server's sockets asked about marked TCP flows. */
		lb_set_flow_known(lb, known_cb, &kn);
		memset(&kn, 0, sizeof(kn));
		kn.answer = 1;
		to_back(&plain, &in, family, PG_TCP, 50005, TCP_ACK, b2);
		back_check(lb, &in, &plain, -1, false, "E: the server has it: here");
		CU_ASSERT_EQUAL(kn.calls, 1);
		CU_ASSERT_EQUAL(kn.version, (unsigned)family);
		CU_ASSERT_EQUAL(memcmp(kn.server, tl_ip(svc(family)), alen_of(family)), 0);
		CU_ASSERT_EQUAL(memcmp(kn.client, tl_ip(family == 4 ? C4 : C6), alen_of(family)), 0);
		CU_ASSERT_EQUAL(kn.sport, 443);
		CU_ASSERT_EQUAL(kn.cport, 50005);
		to_back(&plain, &in, family, PG_TCP, 50005, TCP_ACK, b2);
		back_check(lb, &in, &plain, -1, false, "E: known now");
		CU_ASSERT_EQUAL(kn.calls, 1);
		want.marks = 9, want.sock_diag_yes = 1, want.new_flows = 3, want.known = 4, want.flows = 4;
		ps_is(lb, &want, "E");
		kn.answer = 0;
		to_back(&plain, &in, family, PG_TCP, 50006, TCP_ACK, b2);
		back_check(lb, &in, &plain, 1, false, "F: the server has it not: to b2");
		CU_ASSERT_EQUAL(kn.calls, 2);
		want.marks = 10, want.sock_diag_no = 1, want.handed_flows = 2, want.handed_packets = 4, want.flows = 5;
		ps_is(lb, &want, "F");
		kn.answer = -1;
		to_back(&plain, &in, family, PG_TCP, 50007, TCP_ACK, b3);
		back_check(lb, &in, &plain, 2, false, "G: the server cannot tell: to b3");
		CU_ASSERT_EQUAL(kn.calls, 3);
		want.marks = 11, want.handed_flows = 3, want.handed_packets = 5, want.flows = 6;
		ps_is(lb, &want, "G");
		/* H: UDP has no socket to ask about. */
		kn.answer = 1;
		to_back(&plain, &in, family, PG_UDP, 50008, 0, b3);
		back_check(lb, &in, &plain, 2, false, "H: marked UDP: to b3");
		CU_ASSERT_EQUAL(kn.calls, 3);
		want.marks = 12, want.handed_flows = 4, want.handed_packets = 6, want.flows = 7;
		ps_is(lb, &want, "H");
		lb_set_flow_known(lb, NULL, NULL);
		CU_ASSERT_EQUAL(lb_redirect_tunnel(lb).encapsulated, 6);

		/* A malformed mark: dropped. */
		to_back(&plain, &in, family, PG_TCP, 50009, TCP_ACK, b2);
		if (family == 4) {
			/* Option 98 of 12 bytes. */
			memmove(in.buf + 32, in.buf + 28, in.len - 28);
			memset(in.buf + 28, 0, 4);
			in.buf[21] = 12;
			in.buf[0] = 0x48;
			in.len += 4;
			pg_put16(in.buf + 2, (uint16_t)in.len);
			tp_ip4_csum(in.buf);
		} else {
			/* Option 0x1e of 24 bytes, then PadN of 2. */
			memset(in.buf + 40 + 28, 0, 4);
			in.buf[40 + 3] = 24;
			in.buf[40 + 28] = 1;
			in.buf[40 + 29] = 2;
		}
		CU_ASSERT_EQUAL(run(lb, &in, &plain),
				family == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER);
		CU_ASSERT_EQUAL(lb_drops(lb, family == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER), 1);
		ps_is(lb, &want, "malformed");

		/* Expiry: UDP after udp_idle (5 s), TCP after tcp_idle
		 * (7440 s), 10 s after an RST, 60 s after a FIN. */
		expire_at(lb, T0 + 6);
		want.expired = 1, want.flows = 6;
		ps_is(lb, &want, "H expired");
		to_back(&plain, &in, family, PG_UDP, 50008, 0, NULL);
		back_check(lb, &in, &plain, -1, false, "H: expired: here");
		want.new_flows = 4, want.flows = 7;
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_RST | TCP_ACK, NULL);
		back_check(lb, &in, &plain, 1, false, "A: RST to b2");
		to_back(&plain, &in, family, PG_TCP, 50006, TCP_FIN | TCP_ACK, NULL);
		back_check(lb, &in, &plain, 1, false, "F: FIN to b2");
		want.handed_packets = 8;
		ps_is(lb, &want, "RST, FIN");
		expire_at(lb, T0 + 17);
		want.expired = 3, want.flows = 5;	/* A (RST) and H (UDP) */
		ps_is(lb, &want, "A expired");
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, NULL);
		back_check(lb, &in, &plain, -1, false, "A: expired: here");
		to_back(&plain, &in, family, PG_TCP, 50006, TCP_ACK, NULL);
		back_check(lb, &in, &plain, 1, false, "F: FIN 11 s ago: still to b2");
		want.new_flows = 5, want.flows = 6, want.handed_packets = 9;
		ps_is(lb, &want, "after RST");
		expire_at(lb, T0 + 78);
		want.expired = 4, want.flows = 5;	/* F */
		ps_is(lb, &want, "F expired");
		to_back(&plain, &in, family, PG_TCP, 50006, TCP_ACK, NULL);
		back_check(lb, &in, &plain, -1, false, "F: expired: here");
		to_back(&plain, &in, family, PG_TCP, 50007, TCP_ACK, NULL);
		back_check(lb, &in, &plain, 2, false, "G: idle 78 s: still to b3");
		want.new_flows = 6, want.flows = 6, want.handed_packets = 10;
		ps_is(lb, &want, "G");
		/* G's ports again in a new connection: it starts here. */
		to_back(&plain, &in, family, PG_TCP, 50007, TCP_SYN, NULL);
		back_check(lb, &in, &plain, -1, false, "G: a SYN: here");
		to_back(&plain, &in, family, PG_TCP, 50007, TCP_ACK, NULL);
		back_check(lb, &in, &plain, -1, false, "G: then here");
		ps_is(lb, &want, "G again");
		/* The front's part is none of the back's. */
		CU_ASSERT_EQUAL(lb_persist_stats(lb).marked, 0);
		CU_ASSERT_EQUAL(lb_persist_stats(lb).window_left, 0);
		CU_ASSERT_EQUAL(lb_persist_stats(lb).flows_cap, 64);
		tl_lb_free(lb, cfg);
		rdr_destroy(r);
	}
}

/* A back without redirect peers takes the mark out and delivers. */
static void test_back_no_peers(void)
{
	for (int family = 4; family <= 6; family += 2) {
		static struct pg_pkt plain, in, g;
		struct mslb_config *cfg;
		struct mslb_lb *lb = tl_lb_load(back_conf("", NULL), "back-alone.conf", &cfg);
		struct lb_persist_stats s;

		lb_set_time(lb, T0);
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, nh_addr(family, 1));
		back_check(lb, &in, &plain, -1, false, "no peers: marked ACK here");
		to_back(&plain, &in, family, PG_UDP, 50002, 0, nh_addr(family, 2));
		back_check(lb, &in, &plain, -1, false, "no peers: marked UDP here");
		to_back(&plain, &in, family, PG_TCP, 50003, TCP_ACK, NULL);
		back_check(lb, &in, &plain, -1, false, "no peers: unmarked here");
		s = lb_persist_stats(lb);
		CU_ASSERT_EQUAL(s.marks, 2);
		CU_ASSERT_EQUAL(s.ignored, 2);
		CU_ASSERT_EQUAL(s.flows, 0);
		CU_ASSERT_EQUAL(s.flows_cap, 0);
		CU_ASSERT_EQUAL(s.new_flows + s.handed_flows + s.prev_unknown, 0);
		/* Malformed: dropped here too. */
		to_back(&plain, &in, family, PG_TCP, 50004, TCP_ACK, nh_addr(family, 1));
		if (family == 4)
			in.buf[21] = 6;	/* option 98 of 6 bytes, then end of options */
		else
			in.buf[40 + 30] = 0;	/* no PadN */
		if (family == 4) {
			in.buf[26] = in.buf[27] = 0;
			tp_ip4_csum(in.buf);
		}
		CU_ASSERT_EQUAL(run(lb, &in, &g), family == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER);
		tl_lb_free(lb, cfg);
	}
}

/* A reload at a back: its flows stay, those handed to a peer kept (by
 * name, whatever its place in the list) still go there, those handed to a
 * peer that went are forgotten. */
static void test_back_reload(void)
{
	for (int family = 4; family <= 6; family += 2) {
		static struct pg_pkt plain, in;
		struct mslb_config *ocfg, *ncfg;
		struct rdr *or, *nr;
		struct mslb_lb *old = back_load(back_conf(BACK_PERSIST, PEER_B2 ",\n" PEER_B3), "back-old.conf", &ocfg,
						&or);
		struct mslb_lb *n;
		struct lb_persist_stats want = { 0 };

		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, nh_addr(family, 1));
		back_check(old, &in, &plain, 1, false, "X: to b2");
		to_back(&plain, &in, family, PG_TCP, 50002, TCP_ACK, nh_addr(family, 2));
		back_check(old, &in, &plain, 2, false, "Y: to b3");
		to_back(&plain, &in, family, PG_TCP, 50003, TCP_ACK, NULL);
		back_check(old, &in, &plain, -1, false, "Z: here");
		n = back_load(back_conf(BACK_PERSIST, PEER_B9 ",\n" PEER_B2), "back-new.conf", &ncfg, &nr);
		lb_adopt_counters(n, old);
		lb_take_state(n, old);
		lb_set_time(n, T0 + 1);
		tl_lb_free(old, ocfg);
		rdr_destroy(or);
		want.marks = 2, want.handed_flows = 2, want.handed_packets = 2, want.new_flows = 1, want.flows = 2;
		ps_is(n, &want, "reloaded");
		to_back(&plain, &in, family, PG_TCP, 50001, TCP_ACK, NULL);
		back_check(n, &in, &plain, 1, false, "X: still to b2");
		to_back(&plain, &in, family, PG_TCP, 50002, TCP_ACK, NULL);
		back_check(n, &in, &plain, -1, false, "Y: b3 went: here");
		to_back(&plain, &in, family, PG_TCP, 50003, TCP_ACK, nh_addr(family, 1));
		back_check(n, &in, &plain, -1, false, "Z: marked, known: here");
		want.marks = 3, want.handed_packets = 3, want.new_flows = 2, want.known = 1, want.flows = 3;
		ps_is(n, &want, "after the reload");
		tl_lb_free(n, ncfg);
		rdr_destroy(nr);
	}
}

/* ---- encapsulation ------------------------------------------------------- */

/* The front encapsulates to its next hops: the mark goes into the inner
 * header, the outer one stays as it is; b1 takes the tunnel apart, the
 * mark out, and hands the flow to b2 or delivers it. */
static void test_encap(void)
{
	static int before[2][N_CLIENTS], after[2][N_CLIENTS];
	static struct pg_pkt p, plain, in, tin;
	struct mslb_config *fcfg = NULL, *bcfg = NULL;
	struct mslb_lb *front = tl_lb_load(front_conf(3, "", "mode = \"encapsulate\";", ""), "encap.conf", &fcfg);
	struct mslb_lb *back;
	struct rdr *r;
	struct lb_persist_stats want = { 0 };
	uint64_t marks = 0;

	lb_set_emit(front, gd_capture, NULL);
	lb_set_time(front, T0);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, PG_TCP, TCP_ACK);
			before[fi][k] = front_check(front, &p, -1, true, "encap, before the drain");
		}
	CU_ASSERT_EQUAL(lb_set_usable(front, 1, false), 0);
	for (int fi = 0; fi < 2; fi++)
		for (unsigned k = 0; k < N_CLIENTS; k++) {
			cli(&p, fi ? 6 : 4, k, k % 2 ? PG_UDP : PG_TCP, TCP_ACK);
			after[fi][k] = front_check(front, &p, before[fi][k], true, "encap, after the drain");
			marks += after[fi][k] != before[fi][k];
		}
	CU_ASSERT_EQUAL(lb_persist_stats(front).marked, marks);
	CU_ASSERT(marks > 0);

	/* Too big with the mark: the tunnel's MTU (1480 for IPv4 in IPv4,
	 * 1460 for IPv6 in IPv6) less the mark. */
	{
		int to;
		unsigned k4 = moved_client(front, 4, before[0], true, &to);
		unsigned k6;

		too_big(front, 4, k4, 1480, true, 1472);
		fits(front, 4, k4, 1472, true, 1, true, to);
		k6 = moved_client(front, 6, before[1], true, &to);
		too_big(front, 6, k6, 1460, false, 1428);
		fits(front, 6, k6, 1428, false, 1, true, to);
		CU_ASSERT_EQUAL(lb_persist_stats(front).mark_too_big, 2);
	}

	for (int family = 4; family <= 6; family += 2) {
		int fi = family == 6;
		unsigned k = 0;

		back = back_load(back_conf(BACK_PERSIST, PEER_B2 ",\n" PEER_B3), "back.conf", &bcfg, &r);
		memset(&want, 0, sizeof(want));
		/* A client that moved from b2 to b1: its ACK from the front to
		 * b1, which hands it to b2. */
		while (k < N_CLIENTS && !(before[fi][k] == 1 && after[fi][k] == 0))
			k++;
		CU_ASSERT_FATAL(k < N_CLIENTS);
		cli(&plain, family, k, PG_TCP, TCP_ACK);
		CU_ASSERT_EQUAL(front_check(front, &plain, 1, true, "b2 -> b1"), 0);
		back_check(back, &fout, &plain, 1, true, "through the tunnel, marked: to b2");
		want.marks = 1, want.handed_flows = 1, want.handed_packets = 1, want.flows = 1;
		ps_is(back, &want, "tunnel, handed");
		/* Unmarked now (the front's window over): still to b2. */
		cli(&plain, family, k, PG_TCP, TCP_ACK);
		tunnel_in(&tin, family, svc(family), nh_addr(family, 0), plain.buf, plain.len);
		back_check(back, &tin, &plain, 1, true, "through the tunnel, unmarked: to b2");
		want.handed_packets = 2;
		/* A marked SYN of another flow: delivered, the mark out. */
		mk(&plain, family, PG_TCP, family == 4 ? C4 : C6, svc(family), 50010, 443, TCP_SYN, 30, true);
		in = plain;
		in.len = marked(plain.buf, plain.len, tl_ip(nh_addr(family, 1)), in.buf);
		tunnel_in(&tin, family, svc(family), nh_addr(family, 0), in.buf, in.len);
		back_check(back, &tin, &plain, -1, true, "through the tunnel, marked SYN: here");
		want.marks = 2, want.new_flows = 1, want.flows = 2;
		/* An unmarked flow, then marked: here. */
		mk(&plain, family, PG_UDP, family == 4 ? C4 : C6, svc(family), 50011, 443, 0, 30, true);
		tunnel_in(&tin, family, svc(family), nh_addr(family, 0), plain.buf, plain.len);
		back_check(back, &tin, &plain, -1, true, "through the tunnel, unmarked UDP: here");
		in = plain;
		in.len = marked(plain.buf, plain.len, tl_ip(nh_addr(family, 1)), in.buf);
		tunnel_in(&tin, family, svc(family), nh_addr(family, 0), in.buf, in.len);
		back_check(back, &tin, &plain, -1, true, "through the tunnel, then marked: here");
		want.marks = 3, want.new_flows = 2, want.known = 1, want.flows = 3;
		/* What a peer hands over is delivered, never passed on. */
		mk(&plain, family, PG_TCP, family == 4 ? C4 : C6, svc(family), 50012, 443, TCP_ACK, 30, true);
		in = plain;
		in.len = marked(plain.buf, plain.len, tl_ip(nh_addr(family, 1)), in.buf);
		tunnel_in(&tin, family, nh_addr(family, 1), nh_addr(family, 0), in.buf, in.len);
		back_check(back, &tin, &plain, -1, true, "from peer b2, marked: here");
		CU_ASSERT_EQUAL(lb_from_peers(back), 1);
		want.marks = 4, want.new_flows = 3, want.flows = 4;
		ps_is(back, &want, "tunnel");
		tl_lb_free(back, bcfg);
		rdr_destroy(r);
	}
	tl_lb_free(front, fcfg);
}

/* A client (or an upstream stage) that sends a front a mark of its own:
 * the front takes it out before it chooses, so the packet leaves exactly
 * as an unmarked one would (no window: nothing of the front's own). */
static void test_front_takes_out(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(front_conf(3, "", "", ""), "takeout.conf", &cfg);
	static struct pg_pkt in, forged, out, plain;
	struct lb_persist_stats ps;
	uint8_t alt[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	for (int family = 4; family <= 6; family += 2) {
		tl_addr(nh_addr(family, 2), alt);
		cli(&in, family, 7, PG_TCP, 0x10);
		CU_ASSERT_EQUAL_FATAL(run(lb, &in, &plain), MSLB_OK);
		forged = in;
		forged.len = marked(in.buf, in.len, alt, forged.buf);
		CU_ASSERT_EQUAL(run(lb, &forged, &out), MSLB_OK);
		CU_ASSERT(tp_same("forged mark taken out", out.buf, out.len, plain.buf, plain.len));
		/* A malformed one is dropped, not passed on. */
		forged.buf[family == 4 ? 21 : 43] = family == 4 ? 12 : 25;
		if (family == 4)
			tp_ip4_csum(forged.buf);
		CU_ASSERT_EQUAL(run(lb, &forged, &out), family == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER);
	}
	ps = lb_persist_stats(lb);
	CU_ASSERT_EQUAL(ps.taken_out, 2);
	CU_ASSERT_EQUAL(ps.marked, 0);
	tl_lb_free(lb, cfg);
}

/* ---- the suite ---------------------------------------------------------- */

static int init(void)
{
	static const char keys[] = "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	char path[96];
	FILE *f;

	pg_seed(&rng, 0x9e5157);
	if (rdr_auth_init() < 0)
		return -1;
	snprintf(keydir, sizeof(keydir), "/tmp/mslb-persist-XXXXXX");
	if (!mkdtemp(keydir))
		return -1;
	snprintf(path, sizeof(path), "%s/keys", keydir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	if (fwrite(keys, 1, sizeof(keys) - 1, f) != sizeof(keys) - 1) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return chmod(path, 0600);
}

static int cleanup(void)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/keys", keydir);
	unlink(path);
	return rmdir(keydir);
}

void suite_persist(void)
{
	CU_pSuite s = CU_add_suite("persist", init, cleanup);

	UNIT_ADD(s, test_front_drain);
	UNIT_ADD(s, test_front_drain_table);
	UNIT_ADD(s, test_front_reload);
	UNIT_ADD(s, test_front_reload_table);
	UNIT_ADD(s, test_front_too_big);
	UNIT_ADD(s, test_front_takes_out);
	UNIT_ADD(s, test_back);
	UNIT_ADD(s, test_back_no_peers);
	UNIT_ADD(s, test_back_reload);
	UNIT_ADD(s, test_encap);
}
