/* p2: MPTCP Proposal 2. The option codec (insert and strip give back the
 * same bytes), the front (a key whose token routes the SYN, timestamps and
 * joins that follow it, the hash for the rest, no room: plain TCP) and a
 * back behind it (the server gets what the client sent). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"
#include "net/p2opt.h"

#define FRONT \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; },\n" \
	"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; ipv6 = \"2001:db8:b::13\"; }\n" \
	"  );\n" \
	"  table = ( { source = \"192.0.2.0/24\"; next_hop = \"b1\"; } );\n" \
	"  unmatched = \"hash\";\n" \
	"  mptcp = { service_ports = [ 80 ]; proposal = 2; key_tries = %u; };\n" \
	"};\n"

#define BACK \
	"back = { addresses = ( { address = \"198.51.100.12\"; service = \"203.0.113.10\"; },\n" \
	"                       { address = \"2001:db8:b::12\"; service = \"2001:db8:5::10\"; } );\n" \
	"  proposal2 = { service_ports = [ 80 ]; max_flows = 64; }; };\n"

static struct pg_rng rng;

/* A TCP segment from src:sport to the service's port 80 with TCP options
 * opts (olen bytes, a multiple of 4), flags, and for IPv4 ip_opts bytes of
 * IPv4 options (NOPs). */
static void seg(struct pg_pkt *p, int family, const char *src, uint16_t sport, uint8_t flags, const uint8_t *opts,
		unsigned olen, unsigned ip_opts)
{
	struct pg_spec s;
	uint8_t *tcp;

	pg_spec_init(&s, family, PG_TCP);
	tl_addr(src, s.src);
	tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", s.dst);
	s.payload = olen;
	if (ip_opts) {
		memset(s.opts, 1, ip_opts);
		s.opts_len = ip_opts;
	}
	pg_build(p, &s, &rng);
	tcp = p->buf + p->l3len;
	pg_put16(tcp, sport);
	pg_put16(tcp + 2, 80);
	tcp[12] = (uint8_t)((5 + olen / 4) << 4);
	tcp[13] = flags;
	if (olen)	/* memcpy's source must not be NULL, even for 0 bytes */
		memcpy(tcp + 20, opts, olen);
	pg_recompute(p);
}

static const uint8_t mp_capable_syn[] = { 30, 4, 0x01, 0x81, 1, 1, 1, 1 };	/* v1, flags A|H; NOPs */
static const uint8_t no_opts[] = { 1, 1, 1, 1 };

/* NOP NOP TS(val, ecr) */
static unsigned ts_opts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	pg_put32(o + 4, val);
	pg_put32(o + 8, ecr);
	return 12;
}

/* 11, 12 or 13 from the last byte of a next hop's address (IPv6: 0x11). */
static unsigned hop_num(unsigned family, uint8_t last)
{
	return family == 4 ? last : (last >> 4) * 10u + (last & 0x0f);
}

/* The next hop a processed packet went to: 11, 12 or 13. */
static unsigned hop_of(const uint8_t *b, uint32_t len)
{
	if (len < 40)
		return 0;
	return (b[0] >> 4) == 4 ? hop_num(4, b[16 + 3]) : hop_num(6, b[24 + 15]);
}

static bool l4_ok(const uint8_t *b, uint32_t len)
{
	unsigned hl = (b[0] >> 4) == 4 ? (b[0] & 0x0f) * 4u : 40;
	uint8_t proto = (b[0] >> 4) == 4 ? b[9] : b[6];

	if ((b[0] >> 4) == 6 && proto == 60) {
		proto = b[40];
		hl += (b[41] + 1u) * 8;
	}
	return tp_l4_csum_ok(b, b + hl, len - hl, proto, true) && ((b[0] >> 4) == 6 || tp_ip4_csum_ok(b));
}

static uint32_t token_of(const uint8_t key[8])
{
	uint8_t d[32];

	crypto_hash_sha256(d, key, 8);
	return pg_get32(d);
}

/* The codec: what goes in comes out, the packet as it was. */
static void test_p2opt_roundtrip(void)
{
	for (int family = 4; family <= 6; family += 2) {
		for (int kind = P2OPT_CAPABLE; kind <= P2OPT_JOIN; kind++) {
			struct pg_pkt p;
			uint8_t room[64 + PG_BUFSZ], *h, *back;
			uint32_t len;
			unsigned grow, shrink;
			struct p2opt o = { .kind = (uint8_t)kind }, got;

			seg(&p, family, family == 4 ? "192.0.2.5" : "2001:db8:c1::5", 40000, 0x02, mp_capable_syn,
			    sizeof(mp_capable_syn), 0);
			memcpy(room + 64, p.buf, p.len);
			len = p.len;
			memset(o.key, 0xa5, 8);
			memset(o.alt, 0x5a, 16);
			h = p2opt_insert(room + 64, &len, &o, &grow);
			CU_ASSERT_PTR_NOT_NULL_FATAL(h);
			CU_ASSERT_EQUAL(grow, family == 6 ? 32u : kind == P2OPT_CAPABLE ? 16u : 8u);
			CU_ASSERT_EQUAL(len, p.len + grow);
			CU_ASSERT(l4_ok(h, len));
			CU_ASSERT_EQUAL(p2opt_strip(h, &len, &got, &back, &shrink), 1);
			CU_ASSERT_EQUAL(shrink, grow);
			CU_ASSERT_EQUAL(got.kind, kind);
			CU_ASSERT_EQUAL(memcmp(got.alt, o.alt, family == 4 ? 4 : 16), 0);
			if (kind == P2OPT_CAPABLE)
				CU_ASSERT_EQUAL(memcmp(got.key, o.key, 8), 0);
			CU_ASSERT(tp_same("stripped", back, len, p.buf, p.len));
			/* Nothing to strip any more. */
			CU_ASSERT_EQUAL(p2opt_strip(back, &len, &got, &h, &shrink), 0);
		}
	}
}

static void test_p2opt_no_room(void)
{
	struct pg_pkt p;
	uint8_t room[64 + PG_BUFSZ];
	uint32_t len;
	unsigned grow;
	struct p2opt o = { .kind = P2OPT_JOIN };

	/* 32 bytes of options: 8 more fit (a join), 16 do not. */
	seg(&p, 4, "192.0.2.5", 40000, 0x02, no_opts, 4, 32);
	memcpy(room + 64, p.buf, p.len);
	len = p.len;
	CU_ASSERT_PTR_NOT_NULL(p2opt_insert(room + 64, &len, &o, &grow));
	memcpy(room + 64, p.buf, p.len);
	len = p.len;
	o.kind = P2OPT_CAPABLE;
	CU_ASSERT_PTR_NULL(p2opt_insert(room + 64, &len, &o, &grow));
	CU_ASSERT_EQUAL(len, p.len);
}

struct run {
	struct mslb_config *cfg;
	struct mslb_lb *lb;
};

static struct run front_with(unsigned tries)
{
	char text[2048];
	struct run r;

	snprintf(text, sizeof(text), FRONT, tries);
	r.lb = tl_lb_load(text, "p2.conf", &r.cfg);
	return r;
}

/* The SYN's key routes it; the same SYN again gets the same key; the
 * segments that echo its bucket in TSecr follow it; a join with its token
 * too; the hash bucket value and segments without timestamps go by hash. */
static void test_front_routes_by_token(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct run r = front_with(8);
		const char *c = family == 4 ? "192.0.2.77" : "2001:db8:c1::77";
		struct pg_pkt syn, out, again, plain;
		uint8_t key[8], o[12];
		uint32_t token, bucket;
		unsigned hl, to, alt;
		struct lb_p2_stats st;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
		seg(&syn, family, c, 40001, 0x02, mp_capable_syn, sizeof(mp_capable_syn), 0);
		out = syn;
		CU_ASSERT_EQUAL_FATAL(tl_process(r.lb, out.buf, sizeof(out.buf), &out.len), MSLB_OK);
		CU_ASSERT(l4_ok(out.buf, out.len));
		if (family == 4) {
			hl = (out.buf[0] & 0x0f) * 4u;
			CU_ASSERT_EQUAL_FATAL(hl, 36u);
			CU_ASSERT_EQUAL(out.buf[20], 96);
			CU_ASSERT_EQUAL(out.buf[21], 16);
			memcpy(key, out.buf + 24, 8);
			alt = out.buf[20 + 15];
		} else {
			CU_ASSERT_EQUAL_FATAL(out.buf[6], 60);
			CU_ASSERT_EQUAL(out.buf[42], 0x1e);
			CU_ASSERT_EQUAL(out.buf[44], 96);
			memcpy(key, out.buf + 46, 8);
			alt = hop_num(6, out.buf[40 + 14 + 15]);
		}
		CU_ASSERT_EQUAL(out.len, syn.len + (family == 4 ? 16u : 32u));
		token = token_of(key);
		bucket = token >> 18;
		to = hop_of(out.buf, out.len);
		CU_ASSERT(to >= 11 && to <= 13);
		/* A plain SYN of the same 5-tuple goes where the option says
		 * the alternate is. */
		seg(&plain, family, c, 40001, 0x02, no_opts, 4, 0);
		CU_ASSERT_EQUAL(tl_process(r.lb, plain.buf, sizeof(plain.buf), &plain.len), MSLB_OK);
		CU_ASSERT_EQUAL(hop_of(plain.buf, plain.len), alt);
		/* Retransmitted: the same key, the same next hop. */
		again = syn;
		CU_ASSERT_EQUAL(tl_process(r.lb, again.buf, sizeof(again.buf), &again.len), MSLB_OK);
		CU_ASSERT(tp_same("retransmitted SYN", again.buf, again.len, out.buf, out.len));
		/* The ACKs echo bucket in TSecr: the SYN's next hop. */
		for (uint32_t v = 0; v < 3; v++) {
			struct pg_pkt ack;

			ts_opts(o, 1000 + v, (v << 14) | bucket);
			seg(&ack, family, c, 40001, 0x10, o, 12, 0);
			CU_ASSERT_EQUAL(tl_process(r.lb, ack.buf, sizeof(ack.buf), &ack.len), MSLB_OK);
			CU_ASSERT_EQUAL(hop_of(ack.buf, ack.len), to);
			CU_ASSERT(l4_ok(ack.buf, ack.len));
		}
		/* A join with the token, from another port: the same hop. */
		{
			uint8_t j[12] = { 30, 12, 0x10, 0 };
			struct pg_pkt js;

			pg_put32(j + 4, token);
			pg_put32(j + 8, 0x12345678);
			seg(&js, family, c, 40999, 0x02, j, 12, 0);
			CU_ASSERT_EQUAL(tl_process(r.lb, js.buf, sizeof(js.buf), &js.len), MSLB_OK);
			CU_ASSERT_EQUAL(hop_of(js.buf, js.len), to);
			CU_ASSERT(family == 4 ? js.buf[20] == 97 : js.buf[44] == 97);
		}
		/* TSecr says "hash", or no timestamp: the 5-tuple's next hop. */
		{
			struct pg_pkt h1, h2;

			ts_opts(o, 5, 0x3fff);
			seg(&h1, family, c, 40001, 0x10, o, 12, 0);
			CU_ASSERT_EQUAL(tl_process(r.lb, h1.buf, sizeof(h1.buf), &h1.len), MSLB_OK);
			CU_ASSERT_EQUAL(hop_of(h1.buf, h1.len), alt);
			seg(&h2, family, c, 40001, 0x11, no_opts, 4, 0);
			CU_ASSERT_EQUAL(tl_process(r.lb, h2.buf, sizeof(h2.buf), &h2.len), MSLB_OK);
			CU_ASSERT_EQUAL(hop_of(h2.buf, h2.len), alt);
		}
		st = lb_p2_stats(r.lb);
		CU_ASSERT_EQUAL(st.capable, 2);
		CU_ASSERT_EQUAL(st.joins, 1);
		CU_ASSERT_EQUAL(st.plain_syns, 1);
		CU_ASSERT_EQUAL(st.ts_routed, 3);
		CU_ASSERT_EQUAL(st.ts_hash, 1);
		CU_ASSERT_EQUAL(st.hashed, 1);
		tl_lb_free(r.lb, r.cfg);
	}
}

/* Tries: with 8 of them the key's bucket is nearly always the hash's own
 * next hop (1 - (2/3)^8 = 96 %); with 1, about a third of the time. */
static void test_front_key_tries(void)
{
	unsigned tries[2] = { 1, 8 };

	for (int t = 0; t < 2; t++) {
		struct run r = front_with(tries[t]);
		struct lb_p2_stats st;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
		for (unsigned i = 0; i < 600; i++) {
			struct pg_pkt syn;
			char c[32];

			snprintf(c, sizeof(c), "192.0.2.%u", 1 + i % 200);
			seg(&syn, 4, c, (uint16_t)(30000 + i), 0x02, mp_capable_syn, sizeof(mp_capable_syn), 0);
			CU_ASSERT_EQUAL(tl_process(r.lb, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
		}
		st = lb_p2_stats(r.lb);
		CU_ASSERT_EQUAL(st.capable, 600);
		if (tries[t] == 1) {
			CU_ASSERT_EQUAL(st.tries, 600);
			CU_ASSERT(st.alt_hits > 140 && st.alt_hits < 260);
		} else {
			/* Keys are random: with 3 next hops a SYN takes a geometric
			 * number of tries (p = 1/3, at most 8), 2.88 on average,
			 * 0.1 the spread of the mean of 600: bounds 5 spreads out. */
			CU_ASSERT(st.alt_hits > 550);
			CU_ASSERT(st.tries < 600 * 34 / 10);
		}
		printf("\n    key_tries %u: %llu of 600 keys on the hash's next hop, %.2f tries a SYN ",
		       tries[t], (unsigned long long)st.alt_hits, st.tries / 600.0);
		tl_lb_free(r.lb, r.cfg);
	}
}

/* No room for option 96: MP_CAPABLE goes, the SYN is plain TCP to the
 * hash's next hop, its checksum right. */
static void test_front_no_room(void)
{
	struct run r = front_with(8);
	struct pg_pkt syn, plain;
	uint8_t *tcp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
	seg(&syn, 4, "192.0.2.9", 40100, 0x02, mp_capable_syn, sizeof(mp_capable_syn), 32);
	seg(&plain, 4, "192.0.2.9", 40100, 0x02, no_opts, 4, 32);
	CU_ASSERT_EQUAL(tl_process(r.lb, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
	CU_ASSERT_EQUAL(tl_process(r.lb, plain.buf, sizeof(plain.buf), &plain.len), MSLB_OK);
	CU_ASSERT_EQUAL(lb_p2_stats(r.lb).no_room, 1);
	CU_ASSERT_EQUAL(hop_of(syn.buf, syn.len), hop_of(plain.buf, plain.len));
	CU_ASSERT_EQUAL(syn.len, 52u + 28u);
	tcp = syn.buf + 52;
	CU_ASSERT_EQUAL(memcmp(tcp + 20, (const uint8_t[]){ 1, 1, 1, 1, 1, 1, 1, 1 }, 8), 0);
	CU_ASSERT(l4_ok(syn.buf, syn.len));
	tl_lb_free(r.lb, r.cfg);
}

/* Front, then back: the server gets the client's SYN (only the TTL, the
 * IPv4 header checksum and IP_B -> IP_S, put back, differ: none here). */
static void test_front_then_back(void)
{
	for (int family = 4; family <= 6; family += 2) {
		char text[4096];
		struct mslb_config *bcfg;
		struct mslb_lb *back;
		struct run r;
		unsigned found = 0;

		snprintf(text, sizeof(text), FRONT, 8u);
		r.lb = tl_lb_load(text, "p2.conf", &r.cfg);
		back = tl_lb_load(BACK, "b2.conf", &bcfg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		/* SYNs until one is for b2, the back here. */
		for (unsigned i = 0; i < 40 && !found; i++) {
			struct pg_pkt syn, p;

			seg(&syn, family, family == 4 ? "192.0.2.40" : "2001:db8:c1::40", (uint16_t)(41000 + i), 0x02,
			    mp_capable_syn, sizeof(mp_capable_syn), 0);
			p = syn;
			CU_ASSERT_EQUAL(tl_process(r.lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			if (hop_of(p.buf, p.len) != 12)
				continue;
			found++;
			CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			CU_ASSERT(tp_same("what the server gets", p.buf, p.len, syn.buf, syn.len));
			CU_ASSERT_EQUAL(lb_p2b_stats(back).stripped, 1);
		}
		CU_ASSERT_EQUAL(found, 1);
		tl_lb_free(back, bcfg);
		tl_lb_free(r.lb, r.cfg);
	}
}

/* Regression (found by fuzz_path): an encapsulating Proposal 2 front puts
 * the option (32 bytes in IPv6) and then the outer header (40) in front of
 * the packet: 72 bytes, more than the 64 of headroom there were. In a
 * buffer of exactly a batch's size, so that AddressSanitizer sees any
 * write before it. */
static void test_encap_headroom(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb;
	struct io_pkt p = { 0 };
	struct pg_pkt syn;

	lb = tl_lb_load("front = {\n"
			"  mode = \"encapsulate\";\n"
			"  services = [ \"2001:db8:5::10\" ];\n"
			"  next_hops = ( { name = \"b1\"; ipv6 = \"2001:db8:b::11\"; },\n"
			"                { name = \"b2\"; ipv6 = \"2001:db8:b::12\"; } );\n"
			"  unmatched = \"hash\";\n"
			"  mptcp = { service_ports = [ 80 ]; proposal = 2; };\n"
			"};\n", "p2-encap.conf", &cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	p.buf = malloc(IO_HEADROOM + IO_BUF_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.buf);
	seg(&syn, 6, "2001:db8:c1::5", 40000, 0x02, mp_capable_syn, sizeof(mp_capable_syn), 0);
	p.data = p.buf + IO_HEADROOM;
	memcpy(p.data, syn.buf, syn.len);
	p.len = syn.len;
	CU_ASSERT_EQUAL(lb_process_pkt(lb, &p), MSLB_OK);
	CU_ASSERT(p.data >= p.buf);
	CU_ASSERT_EQUAL(p.len, syn.len + 32 + 40);
	CU_ASSERT_EQUAL(p.data[6], 41);		/* outer: IPv6 in IPv6 */
	CU_ASSERT_EQUAL(p.data[40 + 6], 60);	/* inner: our destination option */
	free(p.buf);
	tl_lb_free(lb, cfg);
}

/* A server's segment to client c from port 80 (the reverse of seg). */
static void reply(struct pg_pkt *p, int family, const char *c, uint16_t cport, uint8_t flags, const uint8_t *opts,
		  unsigned olen)
{
	struct pg_spec s;
	uint8_t *tcp;

	pg_spec_init(&s, family, PG_TCP);
	tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", s.src);
	tl_addr(c, s.dst);
	s.payload = olen;
	pg_build(p, &s, &rng);
	tcp = p->buf + p->l3len;
	pg_put16(tcp, 80);
	pg_put16(tcp + 2, cport);
	tcp[12] = (uint8_t)((5 + olen / 4) << 4);
	tcp[13] = flags;
	memcpy(tcp + 20, opts, olen);
	pg_recompute(p);
}

/* The back in front of a stock server: the SYN/ACK gets the front's key,
 * every TSval the token's bucket in its low 14 bits and V above them,
 * which moves by one only when the server's clock moved (an idle hour
 * costs nothing); TSecr comes back exactly as the server sent it, and an
 * echo too old to map back becomes 0. */
static void test_back_keys_and_timestamps(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct mslb_config *bcfg;
		struct mslb_lb *back = tl_lb_load(BACK, "b2.conf", &bcfg);
		struct run r = front_with(8);
		const char *c = family == 4 ? "192.0.2.41" : "2001:db8:c1::41";
		struct pg_pkt syn, p, fsyn;
		uint8_t key[8], o[24];
		uint32_t bits = 0, prev = 0, kts[] = { 1000, 1000, 1001, 1001, 5000000, 5000001 };
		unsigned found = 0, hl;
		uint16_t cport = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
		for (unsigned i = 0; i < 60 && !found; i++) {
			seg(&syn, family, c, (uint16_t)(42000 + i), 0x02, mp_capable_syn, sizeof(mp_capable_syn), 0);
			p = syn;
			CU_ASSERT_EQUAL(tl_process(r.lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			if (hop_of(p.buf, p.len) != 12)
				continue;
			found = 1;
			cport = (uint16_t)(42000 + i);
			memcpy(key, family == 4 ? p.buf + 24 : p.buf + 46, 8);
			bits = token_of(key) >> 18;
			fsyn = p;
			CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
		}
		CU_ASSERT_EQUAL_FATAL(found, 1);
		/* SYN/ACK: MP_CAPABLE with the server's own key, and TS. */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x01, 0x81, 9, 9, 9, 9, 9, 9, 9, 9 }, 12);
		ts_opts(o + 12, kts[0], 777);
		reply(&p, family, c, cport, 0x12, o, 24);
		CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
		hl = family == 4 ? 20 : 40;
		CU_ASSERT_EQUAL(memcmp(p.buf + hl + 24, key, 8), 0);
		CU_ASSERT_EQUAL(pg_get32(p.buf + hl + 20 + 12 + 4) & 0x3fff, bits);
		CU_ASSERT(l4_ok(p.buf, p.len));
		prev = pg_get32(p.buf + hl + 20 + 12 + 4);
		/* The client sends its SYN again (the SYN/ACK was late): the
		 * state goes on, so the server's next TSval is the same. */
		{
			struct pg_pkt again = fsyn;

			CU_ASSERT_EQUAL(tl_process(back, again.buf, sizeof(again.buf), &again.len), MSLB_OK);
			ts_opts(o + 12, kts[0], 777);
			reply(&p, family, c, cport, 0x12, o, 24);
			CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			CU_ASSERT_EQUAL(pg_get32(p.buf + hl + 20 + 12 + 4), prev);
		}
		/* The third ACK echoes it: the server gets its own TSval back. */
		ts_opts(o, 50, prev);
		seg(&syn, family, c, cport, 0x10, o, 12, 0);
		syn.buf[family == 4 ? 16 + 3 : 24 + 15] = family == 4 ? 12 : 0x12;
		memcpy(syn.buf + (family == 4 ? 16 : 24), family == 4 ? tl_ip("198.51.100.12") : tl_ip("2001:db8:b::12"),
		       family == 4 ? 4 : 16);
		pg_recompute(&syn);
		CU_ASSERT_EQUAL(tl_process(back, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
		CU_ASSERT_EQUAL(pg_get32(syn.buf + hl + 20 + 8), kts[0]);
		CU_ASSERT(l4_ok(syn.buf, syn.len));
		/* Later segments: V moves with the server's clock, one step a change. */
		for (unsigned i = 1; i < sizeof(kts) / sizeof(kts[0]); i++) {
			uint32_t now;

			ts_opts(o, kts[i], 51);
			reply(&p, family, c, cport, 0x10, o, 12);
			CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			now = pg_get32(p.buf + hl + 20 + 4);
			CU_ASSERT_EQUAL(now & 0x3fff, bits);
			CU_ASSERT_EQUAL(now - prev, kts[i] == kts[i - 1] ? 0u : 1u << 14);
			prev = now;
		}
		/* An echo from long ago (no longer in the ring) becomes 0. */
		ts_opts(o, 60, prev - (40u << 14));
		seg(&syn, family, c, cport, 0x10, o, 12, 0);
		memcpy(syn.buf + (family == 4 ? 16 : 24), family == 4 ? tl_ip("198.51.100.12") : tl_ip("2001:db8:b::12"),
		       family == 4 ? 4 : 16);
		pg_recompute(&syn);
		CU_ASSERT_EQUAL(tl_process(back, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
		CU_ASSERT_EQUAL(pg_get32(syn.buf + hl + 20 + 8), 0);
		CU_ASSERT_EQUAL(lb_p2b_stats(back).keys, 2);	/* the SYN/ACK, and the one to the SYN sent again */
		CU_ASSERT_EQUAL(lb_p2b_stats(back).tsecr, 1);
		CU_ASSERT_EQUAL(lb_p2b_stats(back).tsecr_unknown, 1);
		/* A plain TCP connection gets the hash value. */
		seg(&syn, family, c, 43999, 0x02, no_opts, 4, 0);
		memcpy(syn.buf + (family == 4 ? 16 : 24), family == 4 ? tl_ip("198.51.100.12") : tl_ip("2001:db8:b::12"),
		       family == 4 ? 4 : 16);
		pg_recompute(&syn);
		CU_ASSERT_EQUAL(tl_process(back, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
		ts_opts(o, 7, 0);
		reply(&p, family, c, 43999, 0x12, o, 12);
		CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
		CU_ASSERT_EQUAL(pg_get32(p.buf + hl + 20 + 4) & 0x3fff, 0x3fff);
		tl_lb_free(back, bcfg);
		tl_lb_free(r.lb, r.cfg);
	}
}

/* Regression (review): a timestamp option at an odd offset (NOP, TS, NOP)
 * had its rewrite folded into the checksum at the wrong byte positions;
 * and an insertion into a datagram with no length left wrote first and
 * failed after. */
static void test_odd_offset_and_full_length(void)
{
	struct mslb_config *bcfg;
	struct mslb_lb *back = tl_lb_load(BACK, "b2.conf", &bcfg);
	uint8_t o[12] = { 1, 8, 10 }, room[64 + 65536];
	struct pg_pkt syn, p;
	uint32_t len;
	unsigned grow;
	struct p2opt opt = { .kind = P2OPT_JOIN };

	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	seg(&syn, 4, "192.0.2.50", 44000, 0x02, no_opts, 4, 0);
	memcpy(syn.buf + 16, tl_ip("198.51.100.12"), 4);
	pg_recompute(&syn);
	CU_ASSERT_EQUAL(tl_process(back, syn.buf, sizeof(syn.buf), &syn.len), MSLB_OK);
	/* NOP, TS(1234, 0), NOP: TSval at offset 23 of the TCP header. */
	pg_put32(o + 3, 1234);
	o[11] = 1;
	reply(&p, 4, "192.0.2.50", 44000, 0x12, o, 12);
	CU_ASSERT_EQUAL(tl_process(back, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
	CU_ASSERT(l4_ok(p.buf, p.len));
	CU_ASSERT_EQUAL(pg_get32(p.buf + 20 + 20 + 3) & 0x3fff, 0x3fff);
	tl_lb_free(back, bcfg);

	/* 65,530 bytes: no room for 8 more. */
	seg(&syn, 4, "192.0.2.50", 44001, 0x02, no_opts, 4, 0);
	memset(room, 0, sizeof(room));
	memcpy(room + 64, syn.buf, syn.len);
	pg_put16(room + 64 + 2, 65530);
	len = 65530;
	memcpy(p.buf, room + 64, 60);
	CU_ASSERT_PTR_NULL(p2opt_insert(room + 64, &len, &opt, &grow));
	CU_ASSERT_EQUAL(len, 65530u);
	CU_ASSERT_EQUAL(memcmp(room + 64, p.buf, 60), 0);
}

/* An ICMP error about a server's segment (a router's "too big" on its way
 * to the client) goes to the server whose bucket the segment's TSval
 * carries, not where the 5-tuple hash or the source table would send it;
 * without a bucket it goes as before. */
static void test_front_icmp_by_tsval(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct run r = front_with(8);
		const char *c = family == 4 ? "192.0.2.77" : "2001:db8:c1::77";
		uint8_t from[16], to[16], o[12];
		unsigned want[3] = { 0 }, got, seen = 0;
		uint32_t b[3] = { 0 };
		struct pg_pkt p, q;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r.lb);
		tl_addr(family == 4 ? "198.51.100.99" : "2001:db8:99::1", from);
		tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", to);
		/* Buckets of two different next hops, learnt from the client's
		 * side: a segment whose TSecr echoes bucket x goes to x's hop. */
		for (uint32_t x = 1; x < 200 && seen < 2; x++) {
			ts_opts(o, 5, 7u << 14 | x);
			seg(&p, family, c, 41000, 0x10, o, 12, 0);
			CU_ASSERT_EQUAL_FATAL(tl_process(r.lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			got = hop_of(p.buf, p.len);
			if (seen == 0 || got != want[0]) {
				b[seen] = x;
				want[seen++] = got;
			}
		}
		CU_ASSERT_EQUAL_FATAL(seen, 2);
		/* With the hash value: where a segment without timestamps goes. */
		seg(&p, family, c, 41000, 0x10, NULL, 0, 0);
		CU_ASSERT_EQUAL_FATAL(tl_process(r.lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
		b[2] = 0x3fff;
		want[2] = hop_of(p.buf, p.len);
		for (unsigned i = 0; i < 3; i++) {
			struct lb_p2_stats st0 = lb_p2_stats(r.lb), st;

			ts_opts(o, 12345u << 14 | b[i], 5);
			reply(&q, family, c, 41000, 0x10, o, 12);
			memset(&p, 0, sizeof(p));
			p.len = tp_icmp(p.buf, family, from, to, 0, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1280,
					q.buf, q.len);
			CU_ASSERT_EQUAL(tl_process(r.lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
			CU_ASSERT_EQUAL(p.buf[family == 4 ? 9 : 6], family == 4 ? 1 : 58);
			CU_ASSERT_EQUAL(hop_of(p.buf, p.len), want[i]);
			st = lb_p2_stats(r.lb);
			CU_ASSERT_EQUAL(st.icmp_routed, st0.icmp_routed + (i < 2));
		}
		tl_lb_free(r.lb, r.cfg);
	}
}

static int init(void)
{
	pg_seed(&rng, 0x9292);
	return sodium_init() < 0 ? -1 : 0;
}

void suite_p2(void)
{
	CU_pSuite s = CU_add_suite("p2", init, NULL);

	UNIT_ADD(s, test_p2opt_roundtrip);
	UNIT_ADD(s, test_p2opt_no_room);
	UNIT_ADD(s, test_front_routes_by_token);
	UNIT_ADD(s, test_front_key_tries);
	UNIT_ADD(s, test_front_no_room);
	UNIT_ADD(s, test_front_icmp_by_tsval);
	UNIT_ADD(s, test_front_then_back);
	UNIT_ADD(s, test_encap_headroom);
	UNIT_ADD(s, test_back_keys_and_timestamps);
	UNIT_ADD(s, test_odd_offset_and_full_length);
}
