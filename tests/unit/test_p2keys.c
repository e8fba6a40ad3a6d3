/* p2keys: MPTCP key translation at a Proposal 2 back (lb_p2keys.c). One
 * connection per family through a front and a back: the client only ever
 * sees the front's key K_lb, the stock server only its own K_srv, and the
 * back rewrites every field that depends on them (keys, tokens, HMACs,
 * DSNs, data ACKs, DSS checksums), the TCP checksum with them. Expected
 * values come from libsodium and pktgen's reference checksum here, never
 * from mptcpopt.c. Also mptcpopt's pure parsers, the connection's life,
 * and the early handshake ACK a back with peers and no state holds back. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"
#include "net/mptcpopt.h"
#include "redirect/rdr.h"

/* test_p2.c's front (three next hops, Proposal 2) and its back b2. */
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
	"  mptcp = { service_ports = [ 80 ]; proposal = 2; key_tries = 8; };\n" \
	"};\n"

#define BACK \
	"back = { addresses = ( { address = \"198.51.100.12\"; service = \"203.0.113.10\"; },\n" \
	"                       { address = \"2001:db8:b::12\"; service = \"2001:db8:5::10\"; } );\n" \
	"  proposal2 = { service_ports = [ 80 ]; max_flows = 64; }; };\n"

/* The same with room for one subflow. */
#define BACK_ONE \
	"back = { addresses = ( { address = \"198.51.100.12\"; service = \"203.0.113.10\"; },\n" \
	"                       { address = \"2001:db8:b::12\"; service = \"2001:db8:5::10\"; } );\n" \
	"  proposal2 = { service_ports = [ 80 ]; max_flows = 1; }; };\n"

#define SVC(f) ((f) == 4 ? "203.0.113.10" : "2001:db8:5::10")
#define B2(f) ((f) == 4 ? "198.51.100.12" : "2001:db8:b::12")

static struct pg_rng rng;

static const uint8_t mp_capable_syn[] = { 30, 4, 0x01, 0x81, 1, 1, 1, 1 };	/* v1, flags A|H; NOPs */
static const uint8_t nops[4] = { 1, 1, 1, 1 };
/* The stock server's key, the client's, and one that is neither's. */
static const uint8_t k_srv[8] = { 0x9f, 0x31, 0x4c, 0x07, 0xd2, 0x6a, 0x15, 0xe8 };
static const uint8_t k_cli[8] = { 0x21, 0xc4, 0x7b, 0x90, 0x3e, 0x58, 0xaf, 0x62 };
static const uint8_t k_other[8] = { 0x77, 0x01, 0xee, 0x42, 0x0b, 0x93, 0x6c, 0xd5 };

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* RFC 8684 3.1: the token is the first 32 bits of SHA-256(key), the IDSN
 * its last 64. */
static uint32_t token_of(const uint8_t key[8])
{
	uint8_t d[32];

	crypto_hash_sha256(d, key, 8);
	return pg_get32(d);
}

static uint64_t idsn_of(const uint8_t key[8])
{
	uint8_t d[32];

	crypto_hash_sha256(d, key, 8);
	return get64(d + 24);
}

/* HMAC-SHA256 keyed with k1 || k2 (16 bytes) over msg. */
static void hmac(const uint8_t k1[8], const uint8_t k2[8], const uint8_t *msg, unsigned n, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;
	uint8_t key[16];

	memcpy(key, k1, 8);
	memcpy(key + 8, k2, 8);
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, msg, n);
	crypto_auth_hmacsha256_final(&st, out);
}

/* MP_JOIN (RFC 8684 3.2): the first n bytes of HMAC(k1 || k2, n1 || n2). */
static void join_hmac(const uint8_t k1[8], const uint8_t k2[8], uint32_t n1, uint32_t n2, uint8_t *out, unsigned n)
{
	uint8_t msg[8], h[32];

	pg_put32(msg, n1);
	pg_put32(msg + 4, n2);
	hmac(k1, k2, msg, sizeof(msg), h);
	memcpy(out, h, n);
}

/* ADD_ADDR (RFC 8684 3.4.1): the last 8 bytes of HMAC(k1 || k2, id ||
 * address || port), the port two zero bytes when the option has none. */
static void add_addr_hmac(const uint8_t k1[8], const uint8_t k2[8], uint8_t id, const uint8_t *addr, unsigned alen,
			  const uint8_t *port, uint8_t out[8])
{
	uint8_t msg[19] = { id }, h[32];

	memcpy(msg + 1, addr, alen);
	if (port)
		memcpy(msg + 1 + alen, port, 2);
	hmac(k1, k2, msg, 1 + alen + 2, h);
	memcpy(out, h + 24, 8);
}

/* The DSS checksum (RFC 8684 3.3.1): the one's complement of the sum of
 * the pseudo-header (64-bit DSN, subflow sequence number, data-level
 * length, checksum field) and the payload. With field 0, the value to
 * put there; with the one there, 0 when it is right. */
static uint16_t dss_sum(uint64_t dsn, uint32_t ssn, uint16_t dlen, uint16_t field, const uint8_t *pl, unsigned n)
{
	uint8_t ph[16];

	put64(ph, dsn);
	pg_put32(ph + 8, ssn);
	pg_put16(ph + 12, dlen);
	pg_put16(ph + 14, field);
	return (uint16_t)~ref_fold(ref_sum(ref_sum(0, ph, sizeof(ph)), pl, n));
}

static bool l4_ok(const uint8_t *b, uint32_t len)
{
	unsigned hl = (b[0] >> 4) == 4 ? (b[0] & 0x0f) * 4u : 40;
	uint8_t proto = (b[0] >> 4) == 4 ? b[9] : b[6];

	if (len < hl + 20)
		return false;	/* nothing sent, or no TCP header */
	return tp_l4_csum_ok(b, b + hl, len - hl, proto, true) && ((b[0] >> 4) == 6 || tp_ip4_csum_ok(b));
}

/* The next hop a processed packet went to: 11, 12 or 13. */
static unsigned hop_of(const uint8_t *b, uint32_t len)
{
	uint8_t last;

	if (len < 40)
		return 0;
	if ((b[0] >> 4) == 4)
		return b[16 + 3];
	last = b[24 + 15];
	return (last >> 4) * 10u + (last & 0x0f);
}

/* A TCP segment from src:sport to dst:dport with options o (olen bytes, a
 * multiple of 4) and plen bytes of payload after them. */
static void mk(struct pg_pkt *p, int family, const char *src, const char *dst, uint16_t sport, uint16_t dport,
	       uint8_t flags, const uint8_t *o, unsigned olen, unsigned plen)
{
	struct pg_spec s;
	uint8_t *tcp;

	pg_spec_init(&s, family, PG_TCP);
	tl_addr(src, s.src);
	tl_addr(dst, s.dst);
	s.payload = olen + plen;
	pg_build(p, &s, &rng);
	tcp = p->buf + p->l3len;
	pg_put16(tcp, sport);
	pg_put16(tcp + 2, dport);
	tcp[12] = (uint8_t)((5 + olen / 4) << 4);
	tcp[13] = flags;
	memcpy(tcp + 20, o, olen);
	pg_recompute(p);
}

/* The first option byte, and the payload, of a segment mk made. */
static uint8_t *opt_of(struct pg_pkt *p)
{
	return p->buf + p->l3len + 20;
}

static uint8_t *payload_of(struct pg_pkt *p)
{
	uint8_t *tcp = p->buf + p->l3len;

	return tcp + (tcp[12] >> 4) * 4u;
}

/* got is exp (its checksums computed again here), byte for byte, and its
 * checksums are right. */
static void same(const char *what, const struct pg_pkt *got, struct pg_pkt *exp)
{
	pg_recompute(exp);
	CU_ASSERT(tp_same(what, got->buf, got->len, exp->buf, exp->len));
	CU_ASSERT(l4_ok(got->buf, got->len));
}

/* One MPTCP connection: its first subflow from c:cport, the front that
 * chose K_lb and the back b2 in front of the server. */
struct conn {
	int family;
	const char *c;
	uint16_t cport;
	struct mslb_config *fcfg, *bcfg;
	struct mslb_lb *front, *back;
	uint8_t k_lb[8];
	uint64_t delta;		/* IDSN(K_lb) - IDSN(K_srv), mod 2^64 */
};

/* A client's segment (to the service, as it sent it) through the back,
 * which gets it at its own address from the front: what the server gets
 * in got (held back: length 0). */
static void to_server(struct conn *k, const struct pg_pkt *sent, struct pg_pkt *got)
{
	*got = *sent;
	pg_set_dst(got, tl_ip(B2(k->family)));
	pg_recompute(got);
	CU_ASSERT_EQUAL(tl_process(k->back, got->buf, sizeof(got->buf), &got->len), MSLB_OK);
}

/* A server's segment through the back: what the client gets. */
static void to_client(struct conn *k, const struct pg_pkt *sent, struct pg_pkt *got)
{
	*got = *sent;
	CU_ASSERT_EQUAL(tl_process(k->back, got->buf, sizeof(got->buf), &got->len), MSLB_OK);
}

static void cli(struct conn *k, struct pg_pkt *p, uint16_t cport, uint8_t flags, const uint8_t *o, unsigned olen,
		unsigned plen)
{
	mk(p, k->family, k->c, SVC(k->family), cport, 80, flags, o, olen, plen);
}

static void srv(struct conn *k, struct pg_pkt *p, uint16_t cport, uint8_t flags, const uint8_t *o, unsigned olen,
		unsigned plen)
{
	mk(p, k->family, SVC(k->family), k->c, 80, cport, flags, o, olen, plen);
}

/* The SYN through the front (until one goes to b2) and the back, then
 * the server's SYN/ACK with K_srv: the client gets K_lb (step 1). */
static bool open_conn(struct conn *k, int family)
{
	struct pg_pkt sent, got, exp;
	uint8_t o[12] = { 30, 12, 0x01, 0x81 };

	memset(k, 0, sizeof(*k));
	k->family = family;
	k->c = family == 4 ? "192.0.2.41" : "2001:db8:c1::41";
	k->front = tl_lb_load(FRONT, "p2.conf", &k->fcfg);
	k->back = tl_lb_load(BACK, "b2.conf", &k->bcfg);
	if (!k->front || !k->back)
		return false;
	for (unsigned i = 0; i < 60 && !k->cport; i++) {
		cli(k, &sent, (uint16_t)(42000 + i), 0x02, mp_capable_syn, sizeof(mp_capable_syn), 0);
		got = sent;
		CU_ASSERT_EQUAL(tl_process(k->front, got.buf, sizeof(got.buf), &got.len), MSLB_OK);
		if (hop_of(got.buf, got.len) != 12)
			continue;
		k->cport = (uint16_t)(42000 + i);
		memcpy(k->k_lb, got.buf + (family == 4 ? 24 : 46), 8);
		CU_ASSERT_EQUAL(tl_process(k->back, got.buf, sizeof(got.buf), &got.len), MSLB_OK);
		CU_ASSERT(tp_same("SYN at the server", got.buf, got.len, sent.buf, sent.len));
	}
	if (!k->cport)
		return false;
	k->delta = idsn_of(k->k_lb) - idsn_of(k_srv);
	memcpy(o + 4, k_srv, 8);
	srv(k, &sent, k->cport, 0x12, o, sizeof(o), 0);
	to_client(k, &sent, &got);
	exp = sent;
	memcpy(opt_of(&exp) + 4, k->k_lb, 8);
	same("SYN/ACK: K_lb for K_srv", &got, &exp);
	return true;
}

/* The client's third ACK (sender K_cli, receiver K_lb): the server gets
 * K_srv as the receiver's key, the sender's as it was (step 2). */
static void third_ack(struct conn *k)
{
	struct pg_pkt sent, got, exp;
	uint8_t o[20] = { 30, 20, 0x01, 0x81 };

	memcpy(o + 4, k_cli, 8);
	memcpy(o + 12, k->k_lb, 8);
	cli(k, &sent, k->cport, 0x10, o, sizeof(o), 0);
	to_server(k, &sent, &got);
	exp = sent;
	memcpy(opt_of(&exp) + 12, k_srv, 8);
	same("third ACK: K_srv for K_lb", &got, &exp);
}

static void close_conn(struct conn *k)
{
	tl_lb_free(k->back, k->bcfg);
	tl_lb_free(k->front, k->fcfg);
}

/* Steps 1 and 2; a third ACK whose receiver's key is not K_lb (K_srv
 * itself, or another) passes as it is and teaches nothing: the client's
 * key comes from the real one, as the ADD_ADDR signed with it shows. The
 * third ACK with data (length 22) gets K_srv too. */
static void test_capable_keys(void)
{
	for (int family = 4; family <= 6; family += 2) {
		const uint8_t *wrong[2] = { k_srv, k_other };
		struct pg_pkt sent, got, exp;
		struct lb_p2b_stats st;
		struct conn k;
		uint8_t o[24];

		CU_ASSERT_FATAL(open_conn(&k, family));
		for (int w = 0; w < 2; w++) {
			memcpy(o, (const uint8_t[]){ 30, 20, 0x01, 0x81 }, 4);
			memcpy(o + 4, k_other, 8);
			memcpy(o + 12, wrong[w], 8);
			cli(&k, &sent, k.cport, 0x10, o, 20, 0);
			to_server(&k, &sent, &got);
			same("third ACK to a key not K_lb: as it was", &got, &sent);
		}
		third_ack(&k);
		/* MP_CAPABLE with data: 22 bytes (data-level length), NOPs. */
		memcpy(o, (const uint8_t[]){ 30, 22, 0x01, 0x81 }, 4);
		memcpy(o + 4, k_cli, 8);
		memcpy(o + 12, k.k_lb, 8);
		pg_put16(o + 20, 33);
		o[22] = o[23] = 1;
		cli(&k, &sent, k.cport, 0x18, o, 24, 33);
		to_server(&k, &sent, &got);
		exp = sent;
		memcpy(opt_of(&exp) + 12, k_srv, 8);
		same("MP_CAPABLE with data: K_srv for K_lb", &got, &exp);
		/* Signed with K_cli || K_lb: verified, so K_cli was learnt. */
		memcpy(o, (const uint8_t[]){ 30, 16, 0x30, 3, 192, 0, 2, 99 }, 8);
		add_addr_hmac(k_cli, k.k_lb, 3, o + 4, 4, NULL, o + 8);
		cli(&k, &sent, k.cport, 0x10, o, 16, 0);
		to_server(&k, &sent, &got);
		exp = sent;
		add_addr_hmac(k_cli, k_srv, 3, o + 4, 4, NULL, opt_of(&exp) + 8);
		same("ADD_ADDR after the third ACK", &got, &exp);
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.stripped, 1);
		CU_ASSERT_EQUAL(st.keys, 1);
		CU_ASSERT_EQUAL(st.server_keys, 1);
		CU_ASSERT_EQUAL(st.hmacs, 1);
		CU_ASSERT_EQUAL(st.hmacs_bad, 0);
		CU_ASSERT_EQUAL(st.untranslated, 0);
		close_conn(&k);
	}
}

/* Where a DSS option's fields are, in an option block built by dss_opt. */
struct dss_at {
	unsigned ack, dsn, ssn, dlen, csum;	/* offsets from the block's start; 0: absent */
	unsigned ack_len, dsn_len;
};

/* A DSS option after lead NOPs: flags (A 1, a 2, M 4, m 8), the data ACK,
 * the DSN (its low 32 bits for 4 bytes), ssn, dlen, a zero checksum when
 * csum; NOPs up to a multiple of 4. The block's length. */
static unsigned dss_opt(uint8_t *o, unsigned lead, uint8_t flags, bool csum, uint64_t ack, uint64_t dsn, uint32_t ssn,
			uint16_t dlen, struct dss_at *at)
{
	unsigned i = lead + 4, n;

	memset(at, 0, sizeof(*at));
	memset(o, 1, 40);
	o[lead] = 30;
	o[lead + 2] = 0x20;
	o[lead + 3] = flags;
	if (flags & 1) {
		at->ack = i;
		at->ack_len = flags & 2 ? 8 : 4;
		if (at->ack_len == 8)
			put64(o + i, ack);
		else
			pg_put32(o + i, (uint32_t)ack);
		i += at->ack_len;
	}
	if (flags & 4) {
		at->dsn = i;
		at->dsn_len = flags & 8 ? 8 : 4;
		if (at->dsn_len == 8)
			put64(o + i, dsn);
		else
			pg_put32(o + i, (uint32_t)dsn);
		i += at->dsn_len;
		at->ssn = i;
		pg_put32(o + i, ssn);
		at->dlen = i + 4;
		pg_put16(o + i + 4, dlen);
		i += 6;
		if (csum) {
			at->csum = i;
			pg_put16(o + i, 0);
			i += 2;
		}
	}
	o[lead + 1] = (uint8_t)(i - lead);
	n = (i + 3) & ~3u;
	return n;
}

/* One server data segment of test_dss_server (case i): a DSS with flags
 * after lead NOPs, the 64-bit DSN dsn (its low word for 4 bytes), plen
 * bytes of payload, a checksum that is right when csum. */
static void server_dss(struct conn *k, unsigned i, uint8_t flags, bool csum, unsigned lead, uint64_t dsn,
		       unsigned plen)
{
	const uint64_t ack = 0x1122334455667788ull, dsn2 = dsn + k->delta;
	const uint32_t ssn = 0x2000 + i;
	struct pg_pkt sent, got, exp;
	struct dss_at at;
	uint8_t o[40], *g;
	unsigned olen = dss_opt(o, lead, flags, csum, ack, dsn, ssn, (uint16_t)plen, &at);
	char what[64];

	snprintf(what, sizeof(what), "server DSS case %u", i);
	srv(k, &sent, k->cport, 0x18, o, olen, plen);
	if (at.csum) {
		pg_put16(opt_of(&sent) + at.csum, dss_sum(dsn, ssn, (uint16_t)plen, 0, payload_of(&sent), plen));
		pg_recompute(&sent);
		/* The test's own checksum is right to start with. */
		CU_ASSERT_EQUAL(dss_sum(dsn, ssn, (uint16_t)plen, pg_get16(opt_of(&sent) + at.csum),
					payload_of(&sent), plen), 0);
	}
	to_client(k, &sent, &got);
	exp = sent;
	if (at.dsn_len == 8)
		put64(opt_of(&exp) + at.dsn, dsn2);
	else
		pg_put32(opt_of(&exp) + at.dsn, (uint32_t)dsn2);
	if (at.csum)
		pg_put16(opt_of(&exp) + at.csum, dss_sum(dsn2, ssn, (uint16_t)plen, 0, payload_of(&exp), plen));
	same(what, &got, &exp);
	/* What the client checks: its DSN, the checksum over it. */
	g = opt_of(&got);
	if (at.dsn_len == 8) {
		CU_ASSERT_EQUAL(get64(g + at.dsn), dsn2);
	} else {
		CU_ASSERT_EQUAL(pg_get32(g + at.dsn), (uint32_t)dsn2);
	}
	if (at.csum)
		CU_ASSERT_EQUAL(dss_sum(dsn2, pg_get32(g + at.ssn), pg_get16(g + at.dlen), pg_get16(g + at.csum),
					payload_of(&got), plen), 0);
}

/* Step 3: the server's data. DSN' = DSN + delta (mod 2^64, or its low 32
 * bits), the DSS checksum right before and after (computed here over the
 * 64-bit DSN), the data ACK (of the client's data) as it was. Forms: 8-byte
 * DSN with and without checksum, one at an odd offset, a 4-byte data ACK,
 * one that wraps 2^64, 4-byte DSNs (one whose low word wrapped past the
 * IDSN's), a mapping alone. A data ACK alone from the server is the
 * client's space: left as it is. */
static void test_dss_server(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct conn k;
		struct lb_p2b_stats st;
		uint64_t is = idsn_of(k_srv);
		uint64_t ack = 0x1122334455667788ull;

		CU_ASSERT_FATAL(open_conn(&k, family));
		third_ack(&k);
		/* The wrapped 4-byte DSN needs the IDSN's low word above 7. */
		CU_ASSERT_FATAL((uint32_t)is > 7);
		{
			struct {
				uint8_t flags;
				bool csum;
				unsigned lead;
				uint64_t dsn;
				unsigned plen;
			} c[] = {
				{ 0x0f, true, 0, is + 1 + 100000, 37 },
				{ 0x0f, false, 1, is + 1 + 100000, 37 },
				{ 0x0d, true, 3, ~0ull - 3, 40 },
				{ 0x05, true, 0, is + 1 + 5000, 21 },
				{ 0x05, true, 2, is + (1ull << 32) - (uint32_t)is + 7, 21 },
				{ 0x04, false, 1, is + 1 + 77, 8 },
				{ 0x0c, true, 0, is + 1, 1 },
			};

			for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
				server_dss(&k, i, c[i].flags, c[i].csum, c[i].lead, c[i].dsn, c[i].plen);
			st = lb_p2b_stats(k.back);
			CU_ASSERT_EQUAL(st.dsn, sizeof(c) / sizeof(c[0]));
		}
		/* A partial checksum (the server's kernel offloads it): the
		 * DSN and the DSS checksum move, the TCP checksum field keeps
		 * the pseudo-header sum the device finishes from. */
		{
			struct pg_pkt sent, got, exp;
			struct dss_at at;
			uint8_t o[40];
			uint64_t dsn = is + 1 + 424242;
			unsigned olen = dss_opt(o, 0, 0x0f, true, ack, dsn, 0x3000, 50, &at);
			unsigned field;

			srv(&k, &sent, k.cport, 0x18, o, olen, 50);
			field = sent.l3len + 16u;
			pg_put16(opt_of(&sent) + at.csum, dss_sum(dsn, 0x3000, 50, 0, payload_of(&sent), 50));
			pg_put16(sent.buf + field, tp_partial_csum(&sent));
			got = sent;
			CU_ASSERT_EQUAL(tl_process_offload(k.back, got.buf, sizeof(got.buf), &got.len, field), MSLB_OK);
			exp = sent;
			put64(opt_of(&exp) + at.dsn, dsn + k.delta);
			pg_put16(opt_of(&exp) + at.csum, dss_sum(dsn + k.delta, 0x3000, 50, 0, payload_of(&exp), 50));
			pg_put16(exp.buf + field, tp_partial_csum(&exp));
			CU_ASSERT(tp_same("server DSS, partial checksum", got.buf, got.len, exp.buf, exp.len));
			CU_ASSERT_EQUAL(pg_get16(got.buf + field), pg_get16(sent.buf + field));
		}
		/* A data ACK alone (of the client's data), both sizes: as it was. */
		for (uint8_t fl = 0x01; fl <= 0x03; fl += 2) {
			struct pg_pkt sent, got;
			struct dss_at at;
			uint8_t o[40];
			unsigned olen = dss_opt(o, 0, fl, false, ack, 0, 0, 0, &at);

			srv(&k, &sent, k.cport, 0x10, o, olen, 0);
			to_client(&k, &sent, &got);
			same("server's data ACK: as it was", &got, &sent);
		}
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.dsn, 8);
		CU_ASSERT_EQUAL(st.data_acks, 0);
		CU_ASSERT_EQUAL(st.untranslated, 0);
		close_conn(&k);
	}
}

/* Step 4: the client's data ACK (of the server's data, which it knows in
 * K_lb's space): ack' = ack - delta, 8 and 4 bytes, at an odd offset too.
 * Its own mapping (its own key's space) and checksum stay as they were. */
static void test_data_ack_client(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct conn k;
		uint64_t ack;
		struct {
			uint8_t flags;
			unsigned lead, plen;
		} c[] = {
			{ 0x03, 0, 0 }, { 0x01, 0, 0 }, { 0x01, 1, 0 },
			{ 0x03, 3, 0 }, { 0x0f, 0, 29 }, { 0x07, 1, 29 },
		};

		CU_ASSERT_FATAL(open_conn(&k, family));
		third_ack(&k);
		ack = idsn_of(k.k_lb) + 1 + 4321;
		for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			struct pg_pkt sent, got, exp;
			struct dss_at at;
			uint8_t o[40];
			uint64_t dsn = idsn_of(k_cli) + 1 + 999;
			unsigned olen = dss_opt(o, c[i].lead, c[i].flags, c[i].plen != 0, ack, dsn, 1,
						(uint16_t)c[i].plen, &at);
			char what[64];

			snprintf(what, sizeof(what), "client data ACK case %u", i);
			cli(&k, &sent, k.cport, 0x10, o, olen, c[i].plen);
			if (at.csum) {
				pg_put16(opt_of(&sent) + at.csum,
					 dss_sum(dsn, 1, (uint16_t)c[i].plen, 0, payload_of(&sent), c[i].plen));
				pg_recompute(&sent);
			}
			to_server(&k, &sent, &got);
			exp = sent;
			if (at.ack_len == 8)
				put64(opt_of(&exp) + at.ack, ack - k.delta);
			else
				pg_put32(opt_of(&exp) + at.ack, (uint32_t)(ack - k.delta));
			same(what, &got, &exp);
			if (at.csum)
				CU_ASSERT_EQUAL(dss_sum(dsn, 1, (uint16_t)c[i].plen, pg_get16(opt_of(&got) + at.csum),
							payload_of(&got), c[i].plen), 0);
		}
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).data_acks, sizeof(c) / sizeof(c[0]));
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).dsn, 0);
		close_conn(&k);
	}
}

/* Step 5: a join from a second address, through the front (its token
 * routes it to b2) and the back: the server gets token(K_srv), again when
 * the SYN comes again; the client gets the SYN/ACK's HMAC signed with
 * K_lb, the server the third ACK's signed with K_srv. A forged third ACK
 * and a join of an unknown token pass as they are, counted. */
static void test_join(void)
{
	for (int family = 4; family <= 6; family += 2) {
		const char *c2 = family == 4 ? "192.0.2.141" : "2001:db8:c1::141";
		uint32_t rc = 0x5eed0001, rs = 0xc0ffee42;
		uint8_t j[12] = { 30, 12, 0x10, 2 }, sa[16] = { 30, 16, 0x10, 2 }, ja[24] = { 30, 24, 0x10, 0 };
		struct pg_pkt sent, fwd, got, exp;
		struct lb_p2b_stats st;
		struct conn k;

		CU_ASSERT_FATAL(open_conn(&k, family));
		third_ack(&k);
		k.c = c2;
		pg_put32(j + 4, token_of(k.k_lb));
		pg_put32(j + 8, rc);
		cli(&k, &sent, 50000, 0x02, j, sizeof(j), 0);
		fwd = sent;
		CU_ASSERT_EQUAL(tl_process(k.front, fwd.buf, sizeof(fwd.buf), &fwd.len), MSLB_OK);
		CU_ASSERT_EQUAL_FATAL(hop_of(fwd.buf, fwd.len), 12);
		exp = sent;
		pg_put32(opt_of(&exp) + 4, token_of(k_srv));
		for (int again = 0; again < 2; again++) {
			got = fwd;
			CU_ASSERT_EQUAL(tl_process(k.back, got.buf, sizeof(got.buf), &got.len), MSLB_OK);
			same(again ? "join SYN sent again: token(K_srv)" : "join SYN: token(K_srv)", &got, &exp);
		}
		/* The SYN/ACK: HMAC(K_srv || K_cli, Rs || Rc) becomes K_lb's. */
		join_hmac(k_srv, k_cli, rs, rc, sa + 4, 8);
		pg_put32(sa + 12, rs);
		srv(&k, &sent, 50000, 0x12, sa, sizeof(sa), 0);
		to_client(&k, &sent, &got);
		exp = sent;
		join_hmac(k.k_lb, k_cli, rs, rc, opt_of(&exp) + 4, 8);
		same("join SYN/ACK: signed with K_lb", &got, &exp);
		/* A third ACK that K_lb did not sign: as it was. */
		join_hmac(k_cli, k.k_lb, rc, rs, ja + 4, 20);
		ja[4 + 19] ^= 0x01;
		cli(&k, &sent, 50000, 0x10, ja, sizeof(ja), 0);
		to_server(&k, &sent, &got);
		same("forged join ACK: as it was", &got, &sent);
		/* The real one: HMAC(K_cli || K_lb, Rc || Rs) becomes K_srv's. */
		join_hmac(k_cli, k.k_lb, rc, rs, ja + 4, 20);
		cli(&k, &sent, 50000, 0x10, ja, sizeof(ja), 0);
		to_server(&k, &sent, &got);
		exp = sent;
		join_hmac(k_cli, k_srv, rc, rs, opt_of(&exp) + 4, 20);
		same("join ACK: signed with K_srv", &got, &exp);
		/* Sent again after a NOP: 20 bytes at an odd offset (the widest
		 * rewrite, the checksum over the words around it). */
		{
			uint8_t ja2[28] = { 1 };

			memcpy(ja2 + 1, ja, sizeof(ja));
			memset(ja2 + 25, 1, 3);
			cli(&k, &sent, 50000, 0x10, ja2, sizeof(ja2), 0);
			to_server(&k, &sent, &got);
			exp = sent;
			join_hmac(k_cli, k_srv, rc, rs, opt_of(&exp) + 5, 20);
			same("join ACK at an odd offset", &got, &exp);
		}
		/* The join subflow's data ACK moves as the first one's does. */
		{
			struct dss_at at;
			uint8_t o[40];
			uint64_t ack = idsn_of(k.k_lb) + 70000;
			unsigned olen = dss_opt(o, 0, 0x03, false, ack, 0, 0, 0, &at);

			cli(&k, &sent, 50000, 0x10, o, olen, 0);
			to_server(&k, &sent, &got);
			exp = sent;
			put64(opt_of(&exp) + at.ack, ack - k.delta);
			same("join subflow data ACK", &got, &exp);
		}
		/* A join of a token no connection here has: as it was. */
		pg_put32(j + 4, token_of(k_other));
		cli(&k, &sent, 50001, 0x02, j, sizeof(j), 0);
		to_server(&k, &sent, &got);
		same("join SYN, unknown token: as it was", &got, &sent);
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.stripped, 3);	/* the MP_CAPABLE SYN, the join twice */
		CU_ASSERT_EQUAL(st.join_tokens, 2);
		CU_ASSERT_EQUAL(st.join_unknown, 1);
		CU_ASSERT_EQUAL(st.hmacs, 3);
		CU_ASSERT_EQUAL(st.hmacs_bad, 1);
		CU_ASSERT_EQUAL(st.data_acks, 1);
		close_conn(&k);
	}
}

/* Step 6: ADD_ADDR from the client (every form, signed with K_cli || K_lb)
 * is signed again with K_cli || K_srv; one the client did not sign, or an
 * echo (no HMAC), passes as it is; the server's (K_srv || K_cli) gets
 * K_lb || K_cli. MP_FASTCLOSE with K_lb gets K_srv, MP_FAIL's DSN (of the
 * server's data) moves back by delta. A data ACK and an ADD_ADDR in one
 * segment: both. */
static void test_add_addr_fastclose(void)
{
	static const uint8_t a4[4] = { 192, 0, 2, 99 }, port[2] = { 0x1f, 0x90 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99 };

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt sent, got, exp;
		struct lb_p2b_stats st;
		struct conn k;
		uint8_t o[40];

		CU_ASSERT_FATAL(open_conn(&k, family));
		third_ack(&k);
		for (unsigned form = 0; form < 4; form++) {
			bool v6 = form >= 2, has_port = form & 1;
			unsigned alen = v6 ? 16 : 4, len = 4 + alen + (has_port ? 2 : 0) + 8;
			uint8_t id = (uint8_t)(10 + form);
			char what[64];

			memset(o, 1, sizeof(o));
			o[0] = 30;
			o[1] = (uint8_t)len;
			o[2] = 0x30;
			o[3] = id;
			memcpy(o + 4, v6 ? a6 : a4, alen);
			if (has_port)
				memcpy(o + 4 + alen, port, 2);
			add_addr_hmac(k_cli, k.k_lb, id, o + 4, alen, has_port ? port : NULL, o + len - 8);
			cli(&k, &sent, k.cport, 0x10, o, (len + 3) & ~3u, 0);
			to_server(&k, &sent, &got);
			exp = sent;
			add_addr_hmac(k_cli, k_srv, id, o + 4, alen, has_port ? port : NULL, opt_of(&exp) + len - 8);
			snprintf(what, sizeof(what), "client ADD_ADDR form %u: signed with K_srv", form);
			same(what, &got, &exp);
		}
		/* After a NOP: the HMAC at an odd offset. */
		memcpy(o, (const uint8_t[]){ 1, 30, 16, 0x30, 4 }, 5);
		memcpy(o + 5, a4, 4);
		add_addr_hmac(k_cli, k.k_lb, 4, a4, 4, NULL, o + 9);
		memset(o + 17, 1, 3);
		cli(&k, &sent, k.cport, 0x10, o, 20, 0);
		to_server(&k, &sent, &got);
		exp = sent;
		add_addr_hmac(k_cli, k_srv, 4, a4, 4, NULL, opt_of(&exp) + 9);
		same("client ADD_ADDR at an odd offset", &got, &exp);
		/* Signed with what the server would take: the client did not. */
		memcpy(o, (const uint8_t[]){ 30, 16, 0x30, 5 }, 4);
		memcpy(o + 4, a4, 4);
		add_addr_hmac(k_cli, k_srv, 5, a4, 4, NULL, o + 8);
		cli(&k, &sent, k.cport, 0x10, o, 16, 0);
		to_server(&k, &sent, &got);
		same("ADD_ADDR not signed with K_lb: as it was", &got, &sent);
		/* The echo: no HMAC. */
		memcpy(o, (const uint8_t[]){ 30, 8, 0x31, 5 }, 4);
		memcpy(o + 4, a4, 4);
		cli(&k, &sent, k.cport, 0x10, o, 8, 0);
		to_server(&k, &sent, &got);
		same("ADD_ADDR echo: as it was", &got, &sent);
		/* The server's, with a port. */
		memcpy(o, (const uint8_t[]){ 30, 18, 0x30, 6 }, 4);
		memcpy(o + 4, a4, 4);
		memcpy(o + 8, port, 2);
		add_addr_hmac(k_srv, k_cli, 6, a4, 4, port, o + 10);
		o[18] = o[19] = 1;
		srv(&k, &sent, k.cport, 0x10, o, 20, 0);
		to_client(&k, &sent, &got);
		exp = sent;
		add_addr_hmac(k.k_lb, k_cli, 6, a4, 4, port, opt_of(&exp) + 10);
		same("server ADD_ADDR: signed with K_lb", &got, &exp);
		/* A data ACK, then an ADD_ADDR, in one segment. */
		{
			struct dss_at at;
			uint64_t ack = idsn_of(k.k_lb) + 12345;
			unsigned olen = dss_opt(o, 0, 0x03, false, ack, 0, 0, 0, &at);

			memcpy(o + olen, (const uint8_t[]){ 30, 16, 0x30, 7 }, 4);
			memcpy(o + olen + 4, a4, 4);
			add_addr_hmac(k_cli, k.k_lb, 7, a4, 4, NULL, o + olen + 8);
			cli(&k, &sent, k.cport, 0x10, o, olen + 16, 0);
			to_server(&k, &sent, &got);
			exp = sent;
			put64(opt_of(&exp) + at.ack, ack - k.delta);
			add_addr_hmac(k_cli, k_srv, 7, a4, 4, NULL, opt_of(&exp) + olen + 8);
			same("data ACK and ADD_ADDR in one segment", &got, &exp);
		}
		/* MP_FAIL: the DSN of the server's data, K_lb's space. */
		{
			uint64_t dsn = idsn_of(k.k_lb) + 1 + 3333;

			memcpy(o, (const uint8_t[]){ 30, 12, 0x60, 0 }, 4);
			put64(o + 4, dsn);
			cli(&k, &sent, k.cport, 0x10, o, 12, 0);
			to_server(&k, &sent, &got);
			exp = sent;
			put64(opt_of(&exp) + 4, dsn - k.delta);
			same("MP_FAIL: DSN - delta", &got, &exp);
		}
		/* MP_FASTCLOSE: another key as it is, K_lb becomes K_srv. */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x70, 0 }, 4);
		memcpy(o + 4, k_other, 8);
		cli(&k, &sent, k.cport, 0x10, o, 12, 0);
		to_server(&k, &sent, &got);
		same("MP_FASTCLOSE, another key: as it was", &got, &sent);
		memcpy(o + 4, k.k_lb, 8);
		cli(&k, &sent, k.cport, 0x10, o, 12, 0);
		to_server(&k, &sent, &got);
		exp = sent;
		memcpy(opt_of(&exp) + 4, k_srv, 8);
		same("MP_FASTCLOSE: K_srv for K_lb", &got, &exp);
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.hmacs, 7);
		CU_ASSERT_EQUAL(st.hmacs_bad, 1);
		CU_ASSERT_EQUAL(st.data_acks, 1);
		close_conn(&k);
	}
}

/* The connection lives while a subflow does: the first one closed and
 * gone, the join still translates; with the join gone too, its token is
 * no longer known. */
static void test_conn_lifetime(void)
{
	for (int family = 4; family <= 6; family += 2) {
		const char *c2 = family == 4 ? "192.0.2.142" : "2001:db8:c1::142";
		uint8_t j[12] = { 30, 12, 0x10, 2 }, o[40];
		struct pg_pkt sent, fwd, got, exp;
		struct lb_p2b_stats st;
		struct dss_at at;
		struct conn k;
		uint64_t ack;
		unsigned olen;
		double t = 0;

		CU_ASSERT_FATAL(open_conn(&k, family));
		lb_set_time(k.back, t);
		third_ack(&k);
		k.c = c2;
		pg_put32(j + 4, token_of(k.k_lb));
		pg_put32(j + 8, 0x1234);
		cli(&k, &sent, 51000, 0x02, j, sizeof(j), 0);
		fwd = sent;
		CU_ASSERT_EQUAL(tl_process(k.front, fwd.buf, sizeof(fwd.buf), &fwd.len), MSLB_OK);
		CU_ASSERT_EQUAL_FATAL(hop_of(fwd.buf, fwd.len), 12);
		CU_ASSERT_EQUAL(tl_process(k.back, fwd.buf, sizeof(fwd.buf), &fwd.len), MSLB_OK);
		CU_ASSERT_EQUAL(pg_get32(fwd.buf + fwd.len - 8), token_of(k_srv));
		/* The first subflow ends (RST); 3 s on, a sweep of the table. */
		k.c = family == 4 ? "192.0.2.41" : "2001:db8:c1::41";
		cli(&k, &sent, k.cport, 0x14, nops, sizeof(nops), 0);
		to_server(&k, &sent, &got);
		t += 3;
		for (int i = 0; i < 9; i++)
			lb_expire(k.back, t);
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.flows_expired, 1);
		CU_ASSERT_EQUAL(st.flows, 1);
		CU_ASSERT_EQUAL(st.conns, 1);
		/* The join's data ACK still moves. */
		k.c = c2;
		ack = idsn_of(k.k_lb) + 5;
		olen = dss_opt(o, 0, 0x03, false, ack, 0, 0, 0, &at);
		cli(&k, &sent, 51000, 0x10, o, olen, 0);
		to_server(&k, &sent, &got);
		exp = sent;
		put64(opt_of(&exp) + at.ack, ack - k.delta);
		same("join's data ACK, first subflow gone", &got, &exp);
		/* The join ends too: the connection goes, and its token. */
		cli(&k, &sent, 51000, 0x14, nops, sizeof(nops), 0);
		to_server(&k, &sent, &got);
		t += 3;
		for (int i = 0; i < 9; i++)
			lb_expire(k.back, t);
		st = lb_p2b_stats(k.back);
		CU_ASSERT_EQUAL(st.flows_expired, 2);
		CU_ASSERT_EQUAL(st.flows, 0);
		CU_ASSERT_EQUAL(st.conns, 0);
		cli(&k, &sent, 51001, 0x02, j, sizeof(j), 0);
		to_server(&k, &sent, &got);
		same("join SYN of a connection gone: as it was", &got, &sent);
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).join_unknown, 1);
		close_conn(&k);
	}
}

static void addr_of(const char *s, struct mslb_addr *a)
{
	CU_ASSERT_EQUAL(mslb_addr_parse(s, a), 0);
}

/* A redirection instance for b2 (its IPv4 address) with one peer, b3:
 * with peers, a rule may yet come for a flow that has no state here. */
static struct rdr *rdr_for(struct mslb_config *c, struct cfg_redirect_peer *peer, struct cfg_back_address *ba)
{
	memset(c, 0, sizeof(*c));
	memset(peer, 0, sizeof(*peer));
	memset(ba, 0, sizeof(*ba));
	addr_of("198.51.100.12", &ba->address);
	addr_of("203.0.113.10", &ba->service);
	c->has_back = true;
	c->back.n_addresses = 1;
	c->back.addresses = ba;
	c->has_redirect = true;
	addr_of("198.51.100.62", &c->redirect.address);
	c->redirect.port = MSLB_REDIRECT_PORT;
	c->redirect.n_keys = 1;
	c->redirect.keys[0].id = 1;
	memset(c->redirect.keys[0].key, 0x5a, MSLB_REDIRECT_KEY_LEN);
	strcpy(peer->name, "b3");
	addr_of("198.51.100.63", &peer->address);
	peer->has_tunnel[0] = true;
	addr_of("198.51.100.13", &peer->tunnel[0]);
	c->redirect.n_peers = 1;
	c->redirect.peers = peer;
	c->redirect.rule_ttl = 30;
	c->redirect.max_rules = 64;
	c->redirect.max_rules_per_peer = 40;
	c->redirect.rate = 1000;
	c->redirect.burst = 2000;
	c->redirect.global_rate = 5000;
	return rdr_create(c, 0);
}

/* Step 7: at a back with peers and no state for the flow, the client's
 * handshake ACKs (MP_JOIN's of 24 bytes, MP_CAPABLE's of 20 and with
 * data) to the service port are held back (tl_process: MSLB_OK, nothing
 * to send), counted; a plain ACK, a DSS alone, an RST, a third ACK to
 * another port and a 12-byte MP_CAPABLE are delivered as they were. Without peers (no rule
 * will come) or with a full table (the SYN got no state either), the
 * handshake ACKs are delivered. */
static void test_early_handshake(void)
{
	for (int family = 4; family <= 6; family += 2) {
		uint8_t ja[24] = { 30, 24, 0x10, 0 }, ca[20] = { 30, 20, 0x01, 0x81 }, cd[24] = { 30, 22, 0x01, 0x81 };
		struct {
			const uint8_t *o;
			unsigned olen, plen;
			uint8_t flags;
		} hs[3] = { { ja, sizeof(ja), 0, 0x10 }, { ca, sizeof(ca), 0, 0x10 }, { cd, sizeof(cd), 10, 0x18 } };
		struct mslb_config *rcfg = calloc(1, sizeof(*rcfg));
		struct cfg_redirect_peer peer;
		struct cfg_back_address ba;
		struct pg_pkt sent, got;
		struct dss_at at;
		struct conn k;
		struct rdr *r;
		uint8_t o[40];
		unsigned olen;

		CU_ASSERT_PTR_NOT_NULL_FATAL(rcfg);
		r = rdr_for(rcfg, &peer, &ba);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		memset(&k, 0, sizeof(k));
		k.family = family;
		k.c = family == 4 ? "192.0.2.60" : "2001:db8:c1::60";
		memset(ja + 4, 0xab, 20);
		memcpy(ca + 4, k_cli, 8);
		memcpy(ca + 12, k_other, 8);
		memcpy(cd + 4, ca + 4, 16);
		pg_put16(cd + 20, 10);
		cd[22] = cd[23] = 1;
		/* No peers: delivered. */
		k.back = tl_lb_load(BACK, "b2.conf", &k.bcfg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(k.back);
		for (unsigned i = 0; i < 3; i++) {
			cli(&k, &sent, (uint16_t)(45000 + i), hs[i].flags, hs[i].o, hs[i].olen, hs[i].plen);
			to_server(&k, &sent, &got);
			same("handshake ACK, no peers: delivered", &got, &sent);
		}
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).early_acks, 0);
		/* Peers: held back. */
		lb_set_redirect(k.back, r);
		for (unsigned i = 0; i < 3; i++) {
			cli(&k, &sent, (uint16_t)(45010 + i), hs[i].flags, hs[i].o, hs[i].olen, hs[i].plen);
			to_server(&k, &sent, &got);
			CU_ASSERT_EQUAL(got.len, 0);
		}
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).early_acks, 3);
		/* Delivered. */
		cli(&k, &sent, 45020, 0x10, nops, sizeof(nops), 0);
		to_server(&k, &sent, &got);
		same("plain ACK, no state: delivered", &got, &sent);
		olen = dss_opt(o, 0, 0x01, false, 99, 0, 0, 0, &at);
		cli(&k, &sent, 45021, 0x10, o, olen, 0);
		to_server(&k, &sent, &got);
		same("DSS alone, no state: delivered", &got, &sent);
		cli(&k, &sent, 45022, 0x14, ca, sizeof(ca), 0);
		to_server(&k, &sent, &got);
		same("RST with MP_CAPABLE, no state: delivered", &got, &sent);
		mk(&sent, family, k.c, SVC(family), 45023, 8080, 0x10, ca, sizeof(ca), 0);
		to_server(&k, &sent, &got);
		same("third ACK to another port: delivered", &got, &sent);
		/* MP_CAPABLE of 12 bytes is a SYN/ACK's, no third ACK. */
		memcpy(o, ca, 12);
		o[1] = 12;
		cli(&k, &sent, 45024, 0x10, o, 12, 0);
		to_server(&k, &sent, &got);
		same("12-byte MP_CAPABLE in an ACK: delivered", &got, &sent);
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).early_acks, 3);
		lb_set_redirect(k.back, NULL);
		tl_lb_free(k.back, k.bcfg);
		/* A full table (one subflow, taken by a SYN): delivered. */
		k.back = tl_lb_load(BACK_ONE, "b2-one.conf", &k.bcfg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(k.back);
		lb_set_redirect(k.back, r);
		cli(&k, &sent, 45030, 0x02, nops, sizeof(nops), 0);
		to_server(&k, &sent, &got);
		same("SYN that fills the table", &got, &sent);
		cli(&k, &sent, 45031, 0x10, ja, sizeof(ja), 0);
		to_server(&k, &sent, &got);
		same("join ACK, table full: delivered", &got, &sent);
		CU_ASSERT_EQUAL(lb_p2b_stats(k.back).early_acks, 0);
		lb_set_redirect(k.back, NULL);
		tl_lb_free(k.back, k.bcfg);
		rdr_destroy(r);
		free(rcfg);
	}
}

/* mptcpopt_dss: every combination of A, a, M, m (and F, which changes no
 * length), with and without a checksum where a mapping allows one; every
 * other length refused, with nothing left pointing anywhere. */
static void test_dss_parse(void)
{
	for (unsigned fl = 0; fl < 32; fl++) {
		unsigned ack = fl & 1 ? (fl & 2 ? 8 : 4) : 0, dsn = fl & 4 ? (fl & 8 ? 8 : 4) : 0;
		unsigned base = 4 + ack + (dsn ? dsn + 6 : 0);
		uint8_t o[48] = { 30, 0, 0x20, (uint8_t)fl };

		for (unsigned len = 0; len <= 40; len++) {
			bool ok = len == base || (dsn && len == base + 2);
			struct mptcp_dss d;

			memset(&d, 0xa5, sizeof(d));
			o[1] = (uint8_t)len;
			CU_ASSERT_EQUAL(mptcpopt_dss(o, len, &d), ok);
			if (!ok) {
				CU_ASSERT(!d.ack && !d.dsn && !d.ssn && !d.dlen && !d.csum && !d.ack_len && !d.dsn_len);
				continue;
			}
			CU_ASSERT_PTR_EQUAL(d.ack, ack ? o + 4 : NULL);
			CU_ASSERT_EQUAL(d.ack_len, ack);
			CU_ASSERT_PTR_EQUAL(d.dsn, dsn ? o + 4 + ack : NULL);
			CU_ASSERT_EQUAL(d.dsn_len, dsn);
			CU_ASSERT_PTR_EQUAL(d.ssn, dsn ? o + 4 + ack + dsn : NULL);
			CU_ASSERT_PTR_EQUAL(d.dlen, dsn ? o + 8 + ack + dsn : NULL);
			CU_ASSERT_PTR_EQUAL(d.csum, len == base + 2 ? o + base : NULL);
		}
	}
}

/* mptcpopt_add_addr: the four forms (IPv4, IPv6, each with or without a
 * port) give the HMAC's place and the message it signs, the port 0 when
 * absent; an echo, or any other length, is refused. */
static void test_add_addr_parse(void)
{
	for (unsigned len = 0; len <= 40; len++) {
		unsigned alen = len == 16 || len == 18 ? 4 : len == 28 || len == 30 ? 16 : 0;
		bool port = len == 18 || len == 30;
		uint8_t o[40], want[19];
		struct mptcp_add_addr a;

		for (unsigned i = 0; i < sizeof(o); i++)
			o[i] = (uint8_t)(0x40 + i);
		o[0] = 30;
		o[1] = (uint8_t)len;
		o[2] = 0x31;
		CU_ASSERT(!mptcpopt_add_addr(o, len, &a));
		o[2] = 0x30;
		memset(&a, 0xa5, sizeof(a));
		CU_ASSERT_EQUAL(mptcpopt_add_addr(o, len, &a), alen != 0);
		if (!alen) {
			CU_ASSERT_PTR_NULL(a.hmac);
			continue;
		}
		memset(want, 0, sizeof(want));
		want[0] = o[3];
		memcpy(want + 1, o + 4, alen);
		if (port)
			memcpy(want + 1 + alen, o + 4 + alen, 2);
		CU_ASSERT_PTR_EQUAL(a.hmac, o + len - 8);
		CU_ASSERT_EQUAL(a.msg_len, 1 + alen + 2);
		CU_ASSERT_EQUAL(memcmp(a.msg, want, 1 + alen + 2), 0);
	}
}

/* mptcpopt's token, IDSN and HMAC against libsodium used directly, and
 * its 64-bit codec. */
static void test_token_idsn_hmac(void)
{
	const uint8_t *keys[3] = { k_srv, k_cli, k_other };
	uint8_t b[8], msg[7] = { 1, 2, 3, 4, 5, 6, 7 }, h[32], want[32];

	for (int i = 0; i < 3; i++) {
		uint32_t t = 0;
		uint64_t s = 0;

		mptcpopt_token_idsn(keys[i], &t, &s);
		CU_ASSERT_EQUAL(t, token_of(keys[i]));
		CU_ASSERT_EQUAL(s, idsn_of(keys[i]));
		mptcpopt_hmac(keys[i], keys[(i + 1) % 3], msg, sizeof(msg), h);
		hmac(keys[i], keys[(i + 1) % 3], msg, sizeof(msg), want);
		CU_ASSERT_EQUAL(memcmp(h, want, 32), 0);
	}
	/* The order of the two keys matters. */
	mptcpopt_hmac(k_cli, k_srv, msg, sizeof(msg), h);
	hmac(k_srv, k_cli, msg, sizeof(msg), want);
	CU_ASSERT_NOT_EQUAL(memcmp(h, want, 32), 0);
	mptcpopt_put64(b, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(memcmp(b, (const uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8), 0);
	CU_ASSERT_EQUAL(mptcpopt_get64(b), 0x0102030405060708ull);
}

static int init(void)
{
	pg_seed(&rng, 0x9233);
	return sodium_init() < 0 ? -1 : 0;
}

void suite_p2keys(void)
{
	CU_pSuite s = CU_add_suite("p2keys", init, NULL);

	UNIT_ADD(s, test_dss_parse);
	UNIT_ADD(s, test_add_addr_parse);
	UNIT_ADD(s, test_token_idsn_hmac);
	UNIT_ADD(s, test_capable_keys);
	UNIT_ADD(s, test_dss_server);
	UNIT_ADD(s, test_data_ack_client);
	UNIT_ADD(s, test_join);
	UNIT_ADD(s, test_add_addr_fastclose);
	UNIT_ADD(s, test_conn_lifetime);
	UNIT_ADD(s, test_early_handshake);
}
