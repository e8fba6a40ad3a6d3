/* icmp: the errors the daemon builds (RFC 792 / RFC 4443, quotes cut to
 * 576 / 1280 bytes), who may get one (never about an error, a later
 * fragment, multicast or broadcast), the errors it reads, and the token
 * bucket that limits them. */
#include <stdio.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "net/icmp.h"
#include "net/pkt.h"

static struct pg_rng rng;

/* The ICMP or ICMPv6 error icmp_build should write, from scratch. */
static uint32_t exp_icmp(uint8_t *o, int family, const uint8_t *from, const uint8_t *to, uint8_t type, uint8_t code,
			 uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	return tp_icmp(o, family, from, to, family == 4 ? 0xc0 : 0, type, code, info, quote, qlen);
}

static void test_icmp_build_v4(void)
{
	static const unsigned sizes[] = { 20, 28, 100, 575, 576, 1400, 3000 };
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], c4[16];

	tl_addr("203.0.113.10", from);
	tl_addr("192.0.2.1", c4);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct pg_pkt p;
		uint32_t n, q, e;

		tp_mk(&rng, &p, 4, PG_UDP, "192.0.2.1", "203.0.113.10", sizes[i] > 28 ? sizes[i] - 28 : 0, 0, true);
		if (sizes[i] == 20) {
			p.len = 20;	/* just the header */
		}
		q = p.len < 548 ? p.len : 548;
		memset(out, 0xdd, sizeof(out));
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 1380, out);
		e = exp_icmp(exp, 4, from, c4, 3, 4, 1380, p.buf, q);
		CU_ASSERT_EQUAL(n, e);
		CU_ASSERT(n <= ICMP_MAX_V4);
		CU_ASSERT(tp_same("frag needed", out, n, exp, e));
		/* The fields spelled out. */
		CU_ASSERT_EQUAL(out[20], 3);
		CU_ASSERT_EQUAL(out[21], 4);
		CU_ASSERT_EQUAL(pg_get16(out + 24), 0);
		CU_ASSERT_EQUAL(pg_get16(out + 26), 1380);
		CU_ASSERT(tp_ip4_csum_ok(out));
		CU_ASSERT(tp_l4_csum_ok(out, out + 20, n - 20, 1, false));
		CU_ASSERT_EQUAL(memcmp(out + 28, p.buf, q), 0);
		CU_ASSERT_EQUAL(out[n], 0xdd);

		n = icmp_build(p.buf, p.len, from, ICMP_UNREACHABLE, 999, out);
		e = exp_icmp(exp, 4, from, c4, 3, 1, 0, p.buf, q);
		CU_ASSERT(tp_same("host unreachable", out, n, exp, e));
	}
	/* Shorter than a header: nothing. */
	{
		struct pg_pkt p;

		tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 10, 0, true);
		CU_ASSERT_EQUAL(icmp_build(p.buf, 19, from, ICMP_TOO_BIG, 1000, out), 0);
	}
}

static void test_icmp_build_v6(void)
{
	static const unsigned sizes[] = { 40, 48, 500, 1279, 1280, 1281, 3000 };
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], c6[16];

	tl_addr("2001:db8:5::10", from);
	tl_addr("2001:db8:c1::1", c6);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct pg_pkt p;
		uint32_t n, q, e;

		tp_mk(&rng, &p, 6, PG_TCP, "2001:db8:c1::1", "2001:db8:5::10", sizes[i] > 60 ? sizes[i] - 60 : 0, 0x0a, false);
		if (sizes[i] < 60)
			p.len = sizes[i];
		q = p.len < 1232 ? p.len : 1232;
		memset(out, 0xdd, sizeof(out));
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 1360, out);
		e = exp_icmp(exp, 6, from, c6, 2, 0, 1360, p.buf, q);
		CU_ASSERT_EQUAL(n, e);
		CU_ASSERT(n <= ICMP_MAX_V6);
		CU_ASSERT(tp_same("packet too big", out, n, exp, e));
		CU_ASSERT_EQUAL(out[40], 2);
		CU_ASSERT_EQUAL(out[41], 0);
		CU_ASSERT_EQUAL(pg_get32(out + 44), 1360);
		CU_ASSERT(tp_l4_csum_ok(out, out + 40, n - 40, 58, true));
		CU_ASSERT_EQUAL(out[n], 0xdd);

		n = icmp_build(p.buf, p.len, from, ICMP_UNREACHABLE, 0, out);
		e = exp_icmp(exp, 6, from, c6, 1, 3, 0, p.buf, q);
		CU_ASSERT(tp_same("address unreachable", out, n, exp, e));
	}
	/* A 32-bit MTU. */
	{
		struct pg_pkt p;
		uint32_t n;

		tp_mk(&rng, &p, 6, PG_UDP, "2001:db8:c1::1", NULL, 100, 0, false);
		n = icmp_build(p.buf, p.len, from, ICMP_TOO_BIG, 70000, out);
		CU_ASSERT_EQUAL(pg_get32(out + 44), 70000);
		CU_ASSERT(tp_l4_csum_ok(out, out + 40, n - 40, 58, true));
		CU_ASSERT_EQUAL(icmp_build(p.buf, 39, from, ICMP_TOO_BIG, 1280, out), 0);
	}
}

/* The packet the error is about may already be where the error goes. */
static void test_icmp_build_in_place(void)
{
	static uint8_t out[ICMP_MAX_V6 + 64], exp[ICMP_MAX_V6 + 64];
	uint8_t from[16], to[16];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt p;
		uint32_t n, e, max = family == 4 ? 548 : 1232;

		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 1500, 0x20, true);
		tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", from);
		memcpy(to, p.buf + (family == 4 ? 12 : 8), 16);
		e = exp_icmp(exp, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, p.buf, max);
		memcpy(out, p.buf, p.len < sizeof(out) ? p.len : sizeof(out));
		n = icmp_build(out, sizeof(out) < p.len ? (uint32_t)sizeof(out) : p.len, from, ICMP_TOO_BIG, 1300, out);
		CU_ASSERT(tp_same("in place", out, n, exp, e));
	}
}

static bool may(const struct pg_pkt *p)
{
	static uint8_t copy[PG_BUFSZ];
	struct pkt_view v;

	memcpy(copy, p->buf, p->len);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(copy, p->len, &v), MSLB_OK);
	return icmp_may_answer(&v);
}

/* An ICMP message of type/code with 8 more bytes. */
static void mk_icmp_type(struct pg_pkt *p, int family, uint8_t type, const char *src, const char *dst)
{
	tp_mk(&rng, p, family, family == 4 ? PG_ICMP : PG_ICMPV6, src, dst, 200, 0, false);
	p->buf[p->l3len] = type;
	pg_recompute(p);
}

struct may_case {
	const char *what;
	int family;
	uint8_t proto;
	int icmp_type;		/* -1: not ICMP */
	const char *src, *dst;
	int frag_off;		/* -1: whole; else a fragment at this offset */
	bool want;
	int ext;		/* IPv6: one extension header of this type first; 0: none */
};

static const struct may_case may_cases[] = {
	{ "udp", 4, PG_UDP, -1, NULL, NULL, -1, true, 0 },
	{ "tcp", 4, PG_TCP, -1, NULL, NULL, -1, true, 0 },
	{ "echo request", 4, PG_ICMP, 8, NULL, NULL, -1, true, 0 },
	{ "echo reply", 4, PG_ICMP, 0, NULL, NULL, -1, true, 0 },
	{ "dest unreachable", 4, PG_ICMP, 3, NULL, NULL, -1, false, 0 },
	{ "source quench", 4, PG_ICMP, 4, NULL, NULL, -1, false, 0 },
	{ "redirect", 4, PG_ICMP, 5, NULL, NULL, -1, false, 0 },
	{ "time exceeded", 4, PG_ICMP, 11, NULL, NULL, -1, false, 0 },
	{ "parameter problem", 4, PG_ICMP, 12, NULL, NULL, -1, false, 0 },
	{ "first fragment", 4, PG_UDP, -1, NULL, NULL, 0, true, 0 },
	{ "later fragment", 4, PG_UDP, -1, NULL, NULL, 64, false, 0 },
	{ "later fragment of an echo", 4, PG_ICMP, 8, NULL, NULL, 64, false, 0 },
	{ "first fragment of an error", 4, PG_ICMP, 3, NULL, NULL, 0, false, 0 },
	{ "to multicast", 4, PG_UDP, -1, NULL, "224.0.0.5", -1, false, 0 },
	{ "to 239/8", 4, PG_UDP, -1, NULL, "239.1.2.3", -1, false, 0 },
	{ "to broadcast", 4, PG_UDP, -1, NULL, "255.255.255.255", -1, false, 0 },
	{ "from multicast", 4, PG_UDP, -1, "224.1.1.1", NULL, -1, false, 0 },
	{ "from loopback", 4, PG_UDP, -1, "127.0.0.1", NULL, -1, false, 0 },
	{ "from 0.0.0.0", 4, PG_UDP, -1, "0.0.0.0", NULL, -1, false, 0 },
	{ "udp", 6, PG_UDP, -1, NULL, NULL, -1, true, 0 },
	{ "echo request", 6, PG_ICMPV6, 128, NULL, NULL, -1, true, 0 },
	{ "echo reply", 6, PG_ICMPV6, 129, NULL, NULL, -1, true, 0 },
	{ "neighbour solicitation", 6, PG_ICMPV6, 135, NULL, NULL, -1, true, 0 },
	{ "dest unreachable", 6, PG_ICMPV6, 1, NULL, NULL, -1, false, 0 },
	{ "packet too big", 6, PG_ICMPV6, 2, NULL, NULL, -1, false, 0 },
	{ "time exceeded", 6, PG_ICMPV6, 3, NULL, NULL, -1, false, 0 },
	{ "parameter problem", 6, PG_ICMPV6, 4, NULL, NULL, -1, false, 0 },
	{ "first fragment", 6, PG_UDP, -1, NULL, NULL, 0, true, 0 },
	{ "later fragment", 6, PG_UDP, -1, NULL, NULL, 64, false, 0 },
	{ "to multicast", 6, PG_UDP, -1, NULL, "ff02::1", -1, false, 0 },
	{ "to ff05::2", 6, PG_UDP, -1, NULL, "ff05::2", -1, false, 0 },
	{ "from multicast", 6, PG_UDP, -1, "ff0e::1", NULL, -1, false, 0 },
	{ "from ::", 6, PG_UDP, -1, "::", NULL, -1, false, 0 },
	{ "from ::1", 6, PG_UDP, -1, "::1", NULL, -1, false, 0 },
	{ "echo behind destination options", 6, PG_ICMPV6, 128, NULL, NULL, -1, true, PG_EXT_DST },
	{ "error behind destination options", 6, PG_ICMPV6, 1, NULL, NULL, -1, false, PG_EXT_DST },
	{ "error behind routing header", 6, PG_ICMPV6, 2, NULL, NULL, -1, false, PG_EXT_RT },
};

static void may_build(const struct may_case *c, struct pg_pkt *p)
{
	if (c->ext) {
		struct pg_spec s;

		pg_spec_init(&s, c->family, c->proto);
		s.payload = 200;
		s.ext[s.n_ext++] = (uint8_t)c->ext;
		pg_build(p, &s, &rng);
		p->buf[p->l3len] = (uint8_t)c->icmp_type;
		pg_recompute(p);
		return;
	}
	if (c->icmp_type >= 0)
		mk_icmp_type(p, c->family, (uint8_t)c->icmp_type, c->src, c->dst);
	else
		tp_mk(&rng, p, c->family, c->proto, c->src, c->dst, 200, 0, false);
	if (c->frag_off >= 0) {
		struct pg_pkt w = *p;

		pg_fragment(&w, (unsigned)c->frag_off, 64, true, p);
	}
}

static void test_icmp_may_answer(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(may_cases); i++) {
		const struct may_case *c = &may_cases[i];
		struct pg_pkt p;
		bool got;

		may_build(c, &p);
		got = may(&p);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			printf("\n  icmp_may_answer: IPv%d %s: got %d, expected %d", c->family, c->what, got, c->want);
	}
}

/* The same answers from a quote of the packet (its first 64 bytes). */
static void test_icmp_may_answer_raw(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(may_cases); i++) {
		const struct may_case *c = &may_cases[i];
		struct pg_pkt p;
		bool got;

		may_build(c, &p);
		got = icmp_may_answer_raw(p.buf, p.len < 64 ? p.len : 64);
		CU_ASSERT_EQUAL(got, c->want);
		if (got != c->want)
			printf("\n  icmp_may_answer_raw: IPv%d %s: got %d, expected %d", c->family, c->what, got,
			       c->want);
	}
	/* Too short to tell. */
	{
		struct pg_pkt p;

		tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 100, 0, false);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 19));
		tp_mk(&rng, &p, 6, PG_UDP, NULL, NULL, 100, 0, false);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 39));
		mk_icmp_type(&p, 4, 8, NULL, NULL);
		CU_ASSERT_FALSE(icmp_may_answer_raw(p.buf, 20));	/* ICMP, type unknown */
		CU_ASSERT_TRUE(icmp_may_answer_raw(p.buf, 21));
	}
}

/* An error arriving: built with exp_icmp, read back. */
static void test_icmp_parse_error(void)
{
	static uint8_t buf[ICMP_MAX_V6 + 64];
	uint8_t from[16], to[16];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt about;
		struct pkt_view v;
		struct icmp_error e;
		uint32_t n;
		unsigned hl = family == 4 ? 20 : 40;

		tl_addr(family == 4 ? "198.51.100.1" : "2001:db8:ff::1", from);
		tl_addr(family == 4 ? "203.0.113.10" : "2001:db8:5::10", to);
		tp_mk(&rng, &about, family, PG_TCP, family == 4 ? "203.0.113.10" : "2001:db8:5::10",
		   family == 4 ? "192.0.2.1" : "2001:db8:c1::1", 300, 0, true);

		/* Too big, with an MTU. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0,
			     family == 4 ? 1300 : 0x00012345, about.buf, about.len);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		memset(&e, 0, sizeof(e));
		CU_ASSERT_TRUE_FATAL(icmp_parse_error(&v, &e));
		CU_ASSERT_TRUE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, family == 4 ? 1300u : 0x00012345u);
		CU_ASSERT_PTR_EQUAL(e.quote, buf + hl + 8);
		CU_ASSERT_EQUAL(e.quote_len, about.len);

		/* Too big without an MTU (an old router). */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 0, about.buf, 60);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_TRUE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, 0);
		CU_ASSERT_EQUAL(e.quote_len, 60);

		/* Unreachable: not too big. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 1, family == 4 ? 1 : 3, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_FALSE(e.too_big);
		CU_ASSERT_EQUAL(e.mtu, 0);

		/* Time exceeded is an error too. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 11 : 3, 0, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));
		CU_ASSERT_FALSE(e.too_big);

		/* A bad checksum. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 100);
		buf[hl + 8 + 50] ^= 1;
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Echo: not an error. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 8 : 128, 0, 0, about.buf, 48);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Less than an IP header quoted. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, hl - 1);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 0);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, hl);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_TRUE(icmp_parse_error(&v, &e));

		/* A quote that is not IP. */
		n = exp_icmp(buf, family, from, to, family == 4 ? 3 : 2, family == 4 ? 4 : 0, 1300, about.buf, 60);
		buf[hl + 8] = 0x55;
		pg_put16(buf + hl + 2, 0);
		{
			uint64_t acc = 0;

			if (family == 6) {
				acc = ref_sum(acc, buf + 8, 32);
				acc += 8 + 60 + 58;
			}
			pg_put16(buf + hl + 2, (uint16_t)~ref_fold(ref_sum(acc, buf + hl, 8 + 60)));
		}
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, n, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));

		/* Not ICMP at all. */
		CU_ASSERT_EQUAL_FATAL(pkt_parse(about.buf, about.len, &v), MSLB_OK);
		CU_ASSERT_FALSE(icmp_parse_error(&v, &e));
	}
}

/* Token bucket on a fake clock. */
static void test_icmp_bucket(void)
{
	struct icmp_bucket b;
	unsigned n;

	icmp_bucket_init(&b, 1, 1);
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 100));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 100));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 100.5));
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 101));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 101.9));
	/* Idle for long: still one at most. */
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 5000));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 5000));

	icmp_bucket_init(&b, 10, 3);
	for (n = 0; icmp_bucket_take(&b, 0); n++)
		CU_ASSERT_FATAL(n < 100);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 0.1));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0.1));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0.15));
	CU_ASSERT_TRUE(icmp_bucket_take(&b, 0.2));
	for (n = 0; icmp_bucket_take(&b, 60); n++)
		CU_ASSERT_FATAL(n < 100);
	CU_ASSERT_EQUAL(n, 3);
	/* Over 10 simulated seconds at 1 ms steps: the burst plus the rate. */
	n = 0;
	for (int ms = 1; ms <= 10000; ms++)
		n += icmp_bucket_take(&b, 60 + ms / 1000.0);
	CU_ASSERT(n >= 99 && n <= 101);

	icmp_bucket_init(&b, 0, 5);
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 0));
	CU_ASSERT_FALSE(icmp_bucket_take(&b, 1000));
}

void suite_icmp(void)
{
	CU_pSuite s = CU_add_suite("icmp", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_icmp_build_v4);
	UNIT_ADD(s, test_icmp_build_v6);
	UNIT_ADD(s, test_icmp_build_in_place);
	UNIT_ADD(s, test_icmp_may_answer);
	UNIT_ADD(s, test_icmp_may_answer_raw);
	UNIT_ADD(s, test_icmp_parse_error);
	UNIT_ADD(s, test_icmp_bucket);
}
