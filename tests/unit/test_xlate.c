/* xlate: rewrite random packets of every protocol and family and compare
 * with a from-scratch build of the expected packet (pktgen's reference). */
#include <stdio.h>
#include <string.h>

#include "pktgen.h"
#include "unit.h"
#include "net/pkt.h"
#include "net/xlate.h"

#define ROUNDS 300

static struct pg_rng rng;
static unsigned shown;		/* failures printed in the current test */

static const uint8_t protos4[] = { PG_TCP, PG_UDP, PG_UDPLITE, PG_DCCP, PG_ICMP, PG_ESP };
static const uint8_t protos6[] = { PG_TCP, PG_UDP, PG_UDPLITE, PG_DCCP, PG_ICMPV6, PG_ESP };

/* A random documentation address of the family (RFC 5737, RFC 3849): the
 * tests use no others. */
static void doc_addr(int family, uint8_t *a)
{
	static const uint8_t nets4[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };
	static const uint8_t net6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, 16);
	if (family == 4) {
		memcpy(a, nets4[pg_range(&rng, 0, 2)], 3);
		a[3] = (uint8_t)pg_rand(&rng);
	} else {
		memcpy(a, net6, 4);
		pg_fill(&rng, a + 4, 12);
	}
}

static int rewrite(uint8_t *buf, uint32_t len, const uint8_t *dst)
{
	struct pkt_view v;

	if (pkt_parse(buf, len, &v) != MSLB_OK)
		return -1;
	xlate_set_dst(&v, dst);
	return 0;
}

/* Rewrite p's bytes to dst with src/ and compare with exp. */
static unsigned check(const struct pg_pkt *p, const uint8_t *dst, const struct pg_pkt *exp,
		      const char *what)
{
	static uint8_t buf[PG_BUFSZ];

	memcpy(buf, p->buf, p->len);
	if (rewrite(buf, p->len, dst) < 0) {
		if (shown++ < 3)
			printf("\n  %s: proto %u family %d: pkt_parse failed\n", what, p->proto, p->family);
		return 1;
	}
	if (exp->len != p->len || memcmp(buf, exp->buf, p->len)) {
		if (shown++ < 3) {
			printf("\n  proto %u family %d len %u", p->proto, p->family, p->len);
			pg_diff(what, buf, p->len, exp->buf, exp->len);
		}
		return 1;
	}
	return 0;
}

/* p with destination dst and every checksum recomputed from scratch. */
static void expected(const struct pg_pkt *p, const uint8_t *dst, struct pg_pkt *e)
{
	*e = *p;
	pg_set_dst(e, dst);
	pg_recompute(e);
}

static void random_spec(struct pg_spec *s, int family, uint8_t proto, bool fragmentable)
{
	pg_spec_init(s, family, proto);
	pg_spec_random(s, &rng);
	if (fragmentable) {	/* no atomic fragment header: we add a real one */
		unsigned n = 0;

		for (unsigned i = 0; i < s->n_ext; i++)
			if (s->ext[i] != PG_EXT_FRAG)
				s->ext[n++] = s->ext[i];
		s->n_ext = n;
		if (s->payload < 100)
			s->payload += 100;
	}
}

static void run_random(int family, const uint8_t *protos, unsigned n)
{
	static struct pg_pkt p, e, b;
	unsigned bad = 0, badrt = 0;

	for (unsigned i = 0; i < n; i++) {
		for (int k = 0; k < ROUNDS; k++) {
			struct pg_spec s;
			uint8_t dst[16];

			random_spec(&s, family, protos[i], false);
			pg_build(&p, &s, &rng);
			doc_addr(family, dst);
			expected(&p, dst, &e);
			bad += check(&p, dst, &e, "rewrite");
			/* round trip: front IP_S -> IP_B, back IP_B -> IP_S */
			b = e;
			badrt += check(&b, s.dst, &p, "round trip");
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(badrt, 0);
}

static void test_random_v4(void)
{
	shown = 0;
	run_random(4, protos4, sizeof(protos4));
}

static void test_random_v6(void)
{
	shown = 0;
	run_random(6, protos6, sizeof(protos6));
}

/* Fragment the original and the expected datagram alike: every rewritten
 * fragment must equal the matching fragment of the expected datagram (the
 * first carries the transport checksum of the whole datagram). */
static void run_fragments(int family, const uint8_t *protos, unsigned n)
{
	static struct pg_pkt w, e, f, ef;
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		for (int k = 0; k < ROUNDS / 3; k++) {
			struct pg_spec s;
			uint8_t dst[16];
			unsigned fs = 8 * pg_range(&rng, 3, 40), l4len;

			random_spec(&s, family, protos[i], true);
			pg_build(&w, &s, &rng);
			doc_addr(family, dst);
			expected(&w, dst, &e);
			l4len = w.len - w.l3len;
			for (unsigned off = 0; off < l4len; off += fs) {
				unsigned len = l4len - off < fs ? l4len - off : fs;
				bool more = off + len < l4len;

				pg_fragment(&w, off, len, more, &f);
				pg_fragment(&e, off, len, more, &ef);
				bad += check(&f, dst, &ef, off ? "later fragment" : "first fragment");
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_fragments_v4(void)
{
	shown = 0;
	run_fragments(4, protos4, sizeof(protos4));
}

static void test_fragments_v6(void)
{
	shown = 0;
	run_fragments(6, protos6, sizeof(protos6));
}

/* Explicit cases, each asserting on the transport checksum bytes. */
static uint16_t l4_field(const struct pg_pkt *p, const uint8_t *buf)
{
	return pg_get16(buf + p->l3len + pg_csum_field(p->proto));
}

static void test_udp_zero_stays_zero(void)
{
	static struct pg_pkt p;
	static uint8_t buf[PG_BUFSZ];
	static const uint8_t dst[4] = { 198, 51, 100, 11 };
	struct pg_spec s;

	for (int k = 0; k < 50; k++) {
		pg_spec_init(&s, 4, PG_UDP);
		s.payload = pg_range(&rng, 0, 200);
		s.udp_zero = true;
		pg_build(&p, &s, &rng);
		memcpy(buf, p.buf, p.len);
		CU_ASSERT_EQUAL_FATAL(rewrite(buf, p.len, dst), 0);
		CU_ASSERT_EQUAL(l4_field(&p, buf), 0);
		CU_ASSERT_EQUAL(memcmp(buf + 16, dst, 4), 0);
		CU_ASSERT_EQUAL(ref_csum(buf, 20), 0);	/* header checksum right */
	}
}

/* Build a packet for new_dst whose transport checksum computes to zero,
 * then the same packet for old_dst; rewriting old -> new must give the
 * zero-result packet, with 0xffff for UDP and UDP-Lite, 0x0000 otherwise. */
static void zero_result(int family, uint8_t proto, uint16_t want)
{
	static struct pg_pkt e, p;
	static uint8_t buf[PG_BUFSZ];
	uint8_t new_dst[16];
	struct pg_spec s;
	unsigned word;

	pg_spec_init(&s, family, proto);
	s.payload = 2 * pg_range(&rng, 1, 100);
	pg_build(&p, &s, &rng);
	doc_addr(family, new_dst);
	e = p;
	pg_set_dst(&e, new_dst);
	word = e.l3len + pg_l4_hdrlen(proto);	/* first payload word */
	pg_put16(e.buf + word, 0);
	pg_recompute(&e);
	pg_put16(e.buf + word, l4_field(&e, e.buf));
	pg_recompute(&e);
	CU_ASSERT_EQUAL_FATAL(l4_field(&e, e.buf), want);

	p = e;			/* the same packet, addressed to IP_S */
	pg_set_dst(&p, s.dst);
	pg_recompute(&p);
	memcpy(buf, p.buf, p.len);
	CU_ASSERT_EQUAL_FATAL(rewrite(buf, p.len, new_dst), 0);
	CU_ASSERT_EQUAL(l4_field(&p, buf), want);
	CU_ASSERT_EQUAL(memcmp(buf, e.buf, e.len), 0);
}

static void test_result_zero(void)
{
	for (int k = 0; k < 20; k++) {
		zero_result(4, PG_UDP, 0xffff);
		zero_result(6, PG_UDP, 0xffff);
		zero_result(4, PG_UDPLITE, 0xffff);
		zero_result(6, PG_UDPLITE, 0xffff);
		zero_result(4, PG_TCP, 0x0000);
		zero_result(6, PG_TCP, 0x0000);
		zero_result(4, PG_DCCP, 0x0000);
		zero_result(6, PG_ICMPV6, 0x0000);
	}
}

/* Only the destination and the IPv4 header checksum change. */
static void untouched(int family, uint8_t proto, bool segleft)
{
	static struct pg_pkt p;
	static uint8_t buf[PG_BUFSZ];
	static const uint8_t dst4[4] = { 198, 51, 100, 11 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, [15] = 0x11 };
	const uint8_t *dst = family == 4 ? dst4 : dst6;
	struct pg_spec s;
	unsigned doff;

	pg_spec_init(&s, family, proto);
	if (segleft) {
		s.ext[0] = PG_EXT_RT;
		s.n_ext = 1;
		s.rt_segleft = 1;
		doc_addr(6, s.rt_final);
	}
	pg_build(&p, &s, &rng);
	memcpy(buf, p.buf, p.len);
	CU_ASSERT_EQUAL_FATAL(rewrite(buf, p.len, dst), 0);
	doff = pg_dst_off(&p);
	CU_ASSERT_EQUAL(memcmp(buf + doff, dst, pg_addr_len(&p)), 0);
	CU_ASSERT_EQUAL(memcmp(buf + doff + pg_addr_len(&p), p.buf + doff + pg_addr_len(&p),
			       p.len - doff - pg_addr_len(&p)), 0);
	if (family == 4) {
		CU_ASSERT_EQUAL(memcmp(buf, p.buf, 10), 0);
		CU_ASSERT_EQUAL(memcmp(buf + 12, p.buf + 12, 4), 0);
		CU_ASSERT_EQUAL(ref_csum(buf, 20), 0);
	} else {
		CU_ASSERT_EQUAL(memcmp(buf, p.buf, doff), 0);
	}
}

static void test_untouched_transport(void)
{
	untouched(4, PG_ICMP, false);
	untouched(4, PG_ESP, false);
	untouched(6, PG_ESP, false);
	untouched(6, PG_TCP, true);
	untouched(6, PG_UDP, true);
	untouched(6, PG_ICMPV6, true);
}

static int init(void)
{
	pg_seed(&rng, 0x5eed);
	return 0;
}

void suite_xlate(void)
{
	CU_pSuite s = CU_add_suite("xlate", init, NULL);

	UNIT_ADD(s, test_random_v4);
	UNIT_ADD(s, test_random_v6);
	UNIT_ADD(s, test_fragments_v4);
	UNIT_ADD(s, test_fragments_v6);
	UNIT_ADD(s, test_udp_zero_stays_zero);
	UNIT_ADD(s, test_result_zero);
	UNIT_ADD(s, test_untouched_transport);
}
