/* pkt: pkt_parse on good packets (the fields a rewrite relies on) and one
 * crafted packet per drop reason. */
#include <string.h>

#include "pktgen.h"
#include "unit.h"
#include "net/pkt.h"

static struct pg_rng rng;

static void mk(struct pg_pkt *p, int family, uint8_t proto, unsigned payload)
{
	struct pg_spec s;

	pg_spec_init(&s, family, proto);
	s.payload = payload;
	pg_build(p, &s, &rng);
}

static enum mslb_drop parse(struct pg_pkt *p, uint32_t buflen, struct pkt_view *v)
{
	return pkt_parse(p->buf, buflen, v);
}

static const uint8_t protos4[] = { PG_TCP, PG_UDP, PG_UDPLITE, PG_DCCP, PG_ICMP, PG_ESP };
static const uint8_t protos6[] = { PG_TCP, PG_UDP, PG_UDPLITE, PG_DCCP, PG_ICMPV6, PG_ESP };

static void check_good(struct pg_pkt *p)
{
	struct pkt_view v;
	unsigned field = pg_csum_field(p->proto);
	unsigned exp_off = pg_pseudo(p->proto) ? p->l3len + field : 0;

	CU_ASSERT_EQUAL_FATAL(parse(p, p->len, &v), MSLB_OK);
	CU_ASSERT_PTR_EQUAL(v.data, p->buf);
	CU_ASSERT_EQUAL(v.len, p->len);
	CU_ASSERT_EQUAL(v.version, p->family);
	CU_ASSERT_EQUAL(v.l4proto, p->proto);
	CU_ASSERT_EQUAL(v.l3len, p->l3len);
	CU_ASSERT_EQUAL(v.csum_off, exp_off);
	CU_ASSERT_EQUAL(v.csum_zero_is_none, p->proto == PG_UDP || p->proto == PG_UDPLITE);
	CU_ASSERT_PTR_EQUAL(pkt_dst(&v), p->buf + pg_dst_off(p));
	CU_ASSERT_EQUAL(pkt_addr_len(&v), pg_addr_len(p));
}

static void test_good_plain(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	for (unsigned i = 0; i < sizeof(protos4); i++) {
		mk(&p, 4, protos4[i], 33);
		check_good(&p);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
		CU_ASSERT_FALSE(v.fragment);
		mk(&p, 6, protos6[i], 33);
		check_good(&p);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
		CU_ASSERT_FALSE(v.fragment);
	}
	/* fixed offsets, independent of pktgen's bookkeeping */
	mk(&p, 4, PG_TCP, 0);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.csum_off, 36);
	CU_ASSERT_EQUAL(v.l3len, 20);
	mk(&p, 6, PG_UDP, 0);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.csum_off, 46);
	CU_ASSERT_TRUE(v.csum_zero_is_none);
	mk(&p, 6, PG_ICMPV6, 0);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.csum_off, 42);
	CU_ASSERT_FALSE(v.csum_zero_is_none);
}

static void test_good_options_and_ext(void)
{
	static const uint8_t opts[12] = { 1, 7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0 };
	struct pg_spec s;
	struct pg_pkt p;

	pg_spec_init(&s, 4, PG_TCP);
	memcpy(s.opts, opts, sizeof(opts));
	s.opts_len = sizeof(opts);
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(p.l3len, 32);
	check_good(&p);

	pg_spec_init(&s, 6, PG_UDP);
	s.ext[0] = PG_EXT_HBH, s.ext[1] = PG_EXT_DST, s.ext[2] = PG_EXT_RT, s.ext[3] = PG_EXT_DST;
	s.n_ext = 4;
	s.rt_segleft = 0;
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(p.l3len, 40 + 8 + 8 + 40 + 8);
	check_good(&p);

	/* exactly PKT_IPV6_MAX_EXT extension headers still parse */
	pg_spec_init(&s, 6, PG_TCP);
	for (s.n_ext = 0; s.n_ext < PKT_IPV6_MAX_EXT; s.n_ext++)
		s.ext[s.n_ext] = PG_EXT_DST;
	pg_build(&p, &s, &rng);
	check_good(&p);
}

static void test_udp_zero_and_routing(void)
{
	struct pg_spec s;
	struct pg_pkt p;
	struct pkt_view v;

	pg_spec_init(&s, 4, PG_UDP);
	s.udp_zero = true;
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.csum_off, 0);

	pg_spec_init(&s, 6, PG_TCP);
	s.ext[0] = PG_EXT_RT;
	s.n_ext = 1;
	s.rt_segleft = 1;
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.l4proto, PG_TCP);
	CU_ASSERT_EQUAL(v.csum_off, 0);	/* the pseudo-header has another destination */
	s.rt_segleft = 0;
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.csum_off, 40 + 40 + 16);
}

static void test_fragments(void)
{
	struct pg_pkt w, f;
	struct pkt_view v;

	for (int fam = 4; fam <= 6; fam += 2) {
		mk(&w, fam, PG_TCP, 100);
		pg_fragment(&w, 0, 64, true, &f);
		CU_ASSERT_EQUAL_FATAL(parse(&f, f.len, &v), MSLB_OK);
		CU_ASSERT_TRUE(v.fragment);
		CU_ASSERT_TRUE(v.first_fragment);
		CU_ASSERT_EQUAL(v.l4proto, PG_TCP);
		CU_ASSERT_EQUAL(v.l3len, f.l3len);
		CU_ASSERT_EQUAL(v.csum_off, f.l3len + 16);
		CU_ASSERT_EQUAL(v.len, f.len);

		pg_fragment(&w, 64, 56, false, &f);	/* the last one */
		CU_ASSERT_EQUAL_FATAL(parse(&f, f.len, &v), MSLB_OK);
		CU_ASSERT_TRUE(v.fragment);
		CU_ASSERT_FALSE(v.first_fragment);
		CU_ASSERT_EQUAL(v.l4proto, PG_TCP);
		CU_ASSERT_EQUAL(v.csum_off, 0);

		pg_fragment(&w, 16, 8, true, &f);	/* short, but no transport header */
		CU_ASSERT_EQUAL(parse(&f, f.len, &v), MSLB_OK);
		CU_ASSERT_FALSE(v.first_fragment);
		CU_ASSERT_EQUAL(v.csum_off, 0);
	}
}

static void test_trailing_bytes_cut(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 4, PG_UDP, 10);
	memset(p.buf + p.len, 0xee, 13);
	CU_ASSERT_EQUAL(parse(&p, p.len + 13, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.len, p.len);
	mk(&p, 6, PG_TCP, 10);
	memset(p.buf + p.len, 0xee, 7);
	CU_ASSERT_EQUAL(parse(&p, p.len + 7, &v), MSLB_OK);
	CU_ASSERT_EQUAL(v.len, p.len);
}

static void test_truncated(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 4, PG_UDP, 10);
	CU_ASSERT_EQUAL(parse(&p, 0, &v), MSLB_DROP_TRUNCATED);
	CU_ASSERT_EQUAL(parse(&p, 1, &v), MSLB_DROP_TRUNCATED);
	CU_ASSERT_EQUAL(parse(&p, 19, &v), MSLB_DROP_TRUNCATED);
	CU_ASSERT_EQUAL(parse(&p, p.len - 1, &v), MSLB_DROP_TRUNCATED);	/* total length > buffer */
	mk(&p, 6, PG_UDP, 10);
	CU_ASSERT_EQUAL(parse(&p, 1, &v), MSLB_DROP_TRUNCATED);
	CU_ASSERT_EQUAL(parse(&p, 39, &v), MSLB_DROP_TRUNCATED);
	CU_ASSERT_EQUAL(parse(&p, p.len - 1, &v), MSLB_DROP_TRUNCATED);	/* payload length > buffer */
}

static void test_bad_version(void)
{
	static const uint8_t versions[] = { 0, 1, 5, 7, 15 };
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 6, PG_UDP, 10);
	for (unsigned i = 0; i < sizeof(versions); i++) {
		p.buf[0] = (uint8_t)(versions[i] << 4 | 5);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_VERSION);
	}
}

/* Set byte 0 of an IPv4 packet and fix its header checksum over n bytes. */
static void v4_byte0(struct pg_pkt *p, uint8_t b0, unsigned n)
{
	p->buf[0] = b0;
	pg_put16(p->buf + 10, 0);
	pg_put16(p->buf + 10, ref_csum(p->buf, n));
}

static void test_bad_ihl_and_length(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 4, PG_UDP, 12);			/* 40 bytes */
	v4_byte0(&p, 0x44, 20);			/* IHL 4 */
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_IHL);
	v4_byte0(&p, 0x40, 20);			/* IHL 0 */
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_IHL);
	v4_byte0(&p, 0x4f, 40);			/* IHL 15: 60 bytes > 40 */
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_IHL);

	mk(&p, 4, PG_UDP, 12);
	pg_put16(p.buf + 2, 19);		/* total length < IHL * 4 */
	v4_byte0(&p, 0x45, 20);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_LENGTH);
	memset(p.buf + 20, 1, 4);		/* IHL 6 (NOPs), total length 22 */
	pg_put16(p.buf + 2, 22);
	v4_byte0(&p, 0x46, 24);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_LENGTH);
}

static void test_bad_checksum(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 4, PG_TCP, 12);
	p.buf[11] ^= 0x01;
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_CHECKSUM);
	p.buf[11] ^= 0x01;
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
	p.buf[8]--;				/* TTL changed, checksum not */
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_CHECKSUM);
}

static enum mslb_drop parse_with_opts(const uint8_t *o, unsigned n)
{
	struct pg_spec s;
	struct pg_pkt p;
	struct pkt_view v;

	pg_spec_init(&s, 4, PG_UDP);
	memcpy(s.opts, o, n);
	s.opts_len = n;
	pg_build(&p, &s, &rng);
	return parse(&p, p.len, &v);
}

static void test_options(void)
{
	static const uint8_t len0[4] = { 7, 0, 0, 0 }, len1[4] = { 7, 1, 0, 0 };
	static const uint8_t past[4] = { 7, 12, 4, 0 }, nolen[4] = { 1, 1, 1, 7 };
	static const uint8_t past8[8] = { 1, 68, 8, 5, 0, 0, 0, 0 };
	static const uint8_t lsrr[8] = { 131, 7, 4, 192, 0, 2, 99, 0 };
	static const uint8_t ssrr[8] = { 137, 7, 4, 192, 0, 2, 99, 0 };
	static const uint8_t lsrr_late[12] = { 1, 148, 4, 0, 0, 131, 3, 4, 0, 0, 0, 0 };
	static const uint8_t good[8] = { 1, 1, 68, 4, 5, 0, 0, 0 };

	CU_ASSERT_EQUAL(parse_with_opts(len0, 4), MSLB_DROP_BAD_OPTIONS);
	CU_ASSERT_EQUAL(parse_with_opts(len1, 4), MSLB_DROP_BAD_OPTIONS);
	CU_ASSERT_EQUAL(parse_with_opts(past, 4), MSLB_DROP_BAD_OPTIONS);
	CU_ASSERT_EQUAL(parse_with_opts(nolen, 4), MSLB_DROP_BAD_OPTIONS);
	CU_ASSERT_EQUAL(parse_with_opts(past8, 8), MSLB_DROP_BAD_OPTIONS);
	CU_ASSERT_EQUAL(parse_with_opts(lsrr, 8), MSLB_DROP_SOURCE_ROUTE);
	CU_ASSERT_EQUAL(parse_with_opts(ssrr, 8), MSLB_DROP_SOURCE_ROUTE);
	CU_ASSERT_EQUAL(parse_with_opts(lsrr_late, 12), MSLB_DROP_SOURCE_ROUTE);
	CU_ASSERT_EQUAL(parse_with_opts(good, 8), MSLB_OK);
}

static void test_bad_ext_header(void)
{
	struct pg_spec s;
	struct pg_pkt p;
	struct pkt_view v;

	/* hop-by-hop header claiming 88 bytes in a 16-byte payload */
	pg_spec_init(&s, 6, PG_UDP);
	s.ext[0] = PG_EXT_HBH;
	s.n_ext = 1;
	s.payload = 0;
	pg_build(&p, &s, &rng);
	p.buf[41] = 10;
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_EXT_HEADER);

	/* next header says "destination options" but only 4 bytes follow */
	mk(&p, 6, PG_UDP, 0);
	p.buf[6] = PG_EXT_DST;
	pg_set_len(&p, 44);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_EXT_HEADER);

	/* one more than PKT_IPV6_MAX_EXT */
	pg_spec_init(&s, 6, PG_UDP);
	for (s.n_ext = 0; s.n_ext < PKT_IPV6_MAX_EXT + 1; s.n_ext++)
		s.ext[s.n_ext] = PG_EXT_DST;
	pg_build(&p, &s, &rng);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_BAD_EXT_HEADER);
}

static void test_jumbogram(void)
{
	struct pg_pkt p;
	struct pkt_view v;

	mk(&p, 6, PG_UDP, 20);
	pg_put16(p.buf + 4, 0);
	CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_JUMBOGRAM);
}

static void test_l4_truncated(void)
{
	struct pg_pkt p, w;
	struct pkt_view v;

	for (int fam = 4; fam <= 6; fam += 2) {
		mk(&p, fam, PG_TCP, 0);
		pg_set_len(&p, p.l3len + 17u);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_L4_TRUNCATED);
		pg_set_len(&p, p.l3len + 1u);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_L4_TRUNCATED);
		mk(&p, fam, PG_UDP, 0);
		pg_set_len(&p, p.l3len + 7u);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_L4_TRUNCATED);
		pg_set_len(&p, p.l3len + 4u);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_L4_TRUNCATED);
		pg_set_len(&p, p.l3len + 8u);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_OK);
		/* a first fragment with 16 bytes of TCP header */
		mk(&w, fam, PG_TCP, 40);
		pg_fragment(&w, 0, 16, true, &p);
		CU_ASSERT_EQUAL(parse(&p, p.len, &v), MSLB_DROP_L4_TRUNCATED);
	}
}

static void test_drop_names(void)
{
	for (int d = 1; d < MSLB_DROP_MAX; d++) {
		const char *n = mslb_drop_name((enum mslb_drop)d);

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT(n[0] != '\0');
		for (int e = 1; e < d; e++)
			CU_ASSERT_STRING_NOT_EQUAL(n, mslb_drop_name((enum mslb_drop)e));
	}
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_BAD_CHECKSUM), "bad_checksum");
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_NO_FAMILY), "no_family");
}

static int init(void)
{
	pg_seed(&rng, 42);
	return 0;
}

void suite_pkt(void)
{
	CU_pSuite s = CU_add_suite("pkt", init, NULL);

	UNIT_ADD(s, test_good_plain);
	UNIT_ADD(s, test_good_options_and_ext);
	UNIT_ADD(s, test_udp_zero_and_routing);
	UNIT_ADD(s, test_fragments);
	UNIT_ADD(s, test_trailing_bytes_cut);
	UNIT_ADD(s, test_truncated);
	UNIT_ADD(s, test_bad_version);
	UNIT_ADD(s, test_bad_ihl_and_length);
	UNIT_ADD(s, test_bad_checksum);
	UNIT_ADD(s, test_options);
	UNIT_ADD(s, test_bad_ext_header);
	UNIT_ADD(s, test_jumbogram);
	UNIT_ADD(s, test_l4_truncated);
	UNIT_ADD(s, test_drop_names);
}
