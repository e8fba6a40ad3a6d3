/* encap: encap_push and encap_pop against outer headers written out here
 * (RFC 2003 / RFC 2473 / RFC 4213): DSCP and ECN copied, DF, the IPv6
 * flow label per inner address pair (RFC 6438), inner packets that do not
 * match the outer protocol, and RFC 6040's CE on the way out. */
#include <stdio.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "io/io.h"
#include "net/encap.h"
#include "net/pkt.h"

static struct pg_rng rng;

/* ---- encap_push ---------------------------------------------------- */

static const uint8_t tos_values[] = { 0x00, 0x01, 0x02, 0x03, 0xb8, 0xb9, 0x2e, 0xfe, 0xff };

static void push_one(int inf, int ov, uint8_t tos, bool df, bool df_clear)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ], exp[64 + PG_BUFSZ];
	uint8_t src[16], dst[16], *h;
	struct pg_pkt in;
	unsigned ovh = ov == 4 ? 20 : 40, n;
	bool want_df = inf == 4 ? df : !df_clear;
	char what[80];

	tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
	tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
	tp_mk(&rng, &in, inf, PG_UDP, NULL, NULL, 100, tos, df);
	memset(buf, 0xee, IO_HEADROOM);
	memcpy(buf + IO_HEADROOM, in.buf, in.len);
	h = encap_push(buf + IO_HEADROOM, in.len, ov, src, dst, 0xbeef, df_clear);
	CU_ASSERT_PTR_EQUAL_FATAL(h, buf + IO_HEADROOM - ovh);
	CU_ASSERT_EQUAL(encap_overhead(ov), ovh);
	n = tp_outer(exp, ov, in.buf, in.len, src, dst, 0xbeef, want_df);
	memcpy(exp + n, in.buf, in.len);
	tp_take_label(exp, h);	/* its own test: test_encap_push_flow_label */
	snprintf(what, sizeof(what), "%d in %d tos 0x%02x df %d clear %d", inf, ov, tos, df, df_clear);
	CU_ASSERT(tp_same(what, h, ovh + in.len, exp, n + in.len));
	/* Nothing before the outer header was touched. */
	for (unsigned i = 0; i < IO_HEADROOM - ovh; i++)
		CU_ASSERT_EQUAL(buf[i], 0xee);
	/* The fields one by one, for the record. */
	CU_ASSERT_EQUAL(pg_tos(h), tos);	/* DSCP and ECN copied (RFC 6040 normal mode) */
	if (ov == 4) {
		CU_ASSERT_EQUAL(h[9], inf == 4 ? 4 : 41);
		CU_ASSERT_EQUAL(!!(h[6] & 0x40), want_df);
		CU_ASSERT_EQUAL(pg_get16(h + 2), in.len + 20);
		CU_ASSERT_EQUAL(pg_get16(h + 4), 0xbeef);
		CU_ASSERT(tp_ip4_csum_ok(h));
	} else {
		CU_ASSERT_EQUAL(h[6], inf == 4 ? 4 : 41);
		CU_ASSERT_EQUAL(pg_get16(h + 4), in.len);
	}
}

static void test_encap_push_families(void)
{
	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (unsigned t = 0; t < ARRAY_SIZE(tos_values); t++)
				for (int df = 0; df < 2; df++)
					for (int clear = 0; clear < 2; clear++)
						push_one(inf, ov, tos_values[t], df, clear);
}

static uint32_t label_of(const struct pg_pkt *in)
{
	static uint8_t buf[IO_HEADROOM + PG_BUFSZ];
	uint8_t src[16], dst[16], *h;

	tl_addr("2001:db8:5::10", src);
	tl_addr("2001:db8:b::11", dst);
	memcpy(buf + IO_HEADROOM, in->buf, in->len);
	h = encap_push(buf + IO_HEADROOM, in->len, 6, src, dst, 0, false);
	return pg_get32(h) & 0xfffff;
}

/* RFC 6438: one flow label per inner address pair, whatever the ports,
 * protocol, length or traffic class; other pairs spread over others. */
static void test_encap_push_flow_label(void)
{
	static const char *const c4[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.7" };
	static const char *const c6[] = { "2001:db8:c1::1", "2001:db8:c1::2", "2001:db8:c2::1", "2001:db8::9" };
	uint32_t labels[8];
	unsigned distinct = 0;

	for (unsigned i = 0; i < 8; i++) {
		int family = i < 4 ? 4 : 6;
		const char *src = family == 4 ? c4[i % 4] : c6[i % 4];
		struct pg_pkt a, b;

		tp_mk(&rng, &a, family, PG_TCP, src, NULL, 50, 0x00, false);
		tp_mk(&rng, &b, family, PG_UDP, src, NULL, 900, 0xb9, true);
		labels[i] = label_of(&a);
		CU_ASSERT_EQUAL(labels[i], label_of(&b));
		CU_ASSERT_EQUAL(labels[i], label_of(&a));
	}
	for (unsigned i = 0; i < 8; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i; j++)
			dup = dup || labels[j] == labels[i];
		distinct += !dup;
	}
	CU_ASSERT(distinct >= 7);
}

/* ---- encap_pop ----------------------------------------------------- */

/* outer + inner into buf (outer ECN overridden by oecn >= 0): returns the length. */
static uint32_t mk_tunnel(uint8_t *buf, int ov, const struct pg_pkt *in, int oecn)
{
	uint8_t src[16], dst[16];
	unsigned n;

	tl_addr(ov == 4 ? "203.0.113.10" : "2001:db8:5::10", src);
	tl_addr(ov == 4 ? "198.51.100.11" : "2001:db8:b::11", dst);
	n = tp_outer(buf, ov, in->buf, in->len, src, dst, 7, false);
	memcpy(buf + n, in->buf, in->len);
	if (oecn >= 0) {
		pg_set_tos(buf, (uint8_t)((pg_tos(buf) & 0xfc) | oecn));
		if (ov == 4)
			tp_ip4_csum(buf);
	}
	return n + in->len;
}

static void test_encap_pop_families(void)
{
	static uint8_t buf[64 + PG_BUFSZ];

	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (unsigned k = 0; k < 5; k++) {
				struct pg_pkt in;
				struct pkt_view v, iv;
				uint32_t len;

				tp_mk(&rng, &in, inf, k % 2 ? PG_TCP : PG_UDP, NULL, NULL, pg_range(&rng, 0, 1400),
				   tos_values[k], k & 1);
				len = mk_tunnel(buf, ov, &in, -1);
				CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
				CU_ASSERT(encap_is_tunnel(&v));
				CU_ASSERT_EQUAL_FATAL(encap_pop(&v, &iv), MSLB_OK);
				CU_ASSERT_PTR_EQUAL(iv.data, buf + (ov == 4 ? 20 : 40));
				CU_ASSERT_EQUAL(iv.len, in.len);
				CU_ASSERT_EQUAL(iv.version, inf);
				CU_ASSERT_EQUAL(iv.l4proto, in.proto);
				CU_ASSERT(tp_same("pop", iv.data, iv.len, in.buf, in.len));
			}
}

static void test_encap_pop_mismatch(void)
{
	static uint8_t buf[64 + PG_BUFSZ];
	struct pg_pkt in4, in6;
	struct pkt_view v, iv;
	uint32_t len;

	tp_mk(&rng, &in4, 4, PG_UDP, NULL, NULL, 100, 0, true);
	tp_mk(&rng, &in6, 6, PG_UDP, NULL, NULL, 100, 0, false);
	/* Protocol 4 with an IPv6 packet inside, and 41 with IPv4. */
	for (int ov = 4; ov <= 6; ov += 2) {
		len = mk_tunnel(buf, ov, &in6, -1);
		buf[ov == 4 ? 9 : 6] = 4;
		if (ov == 4)
			tp_ip4_csum(buf);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		len = mk_tunnel(buf, ov, &in4, -1);
		buf[ov == 4 ? 9 : 6] = 41;
		if (ov == 4)
			tp_ip4_csum(buf);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		/* A malformed inner header: bad IPv4 checksum. */
		len = mk_tunnel(buf, ov, &in4, -1);
		buf[(ov == 4 ? 20 : 40) + 10] ^= 0x55;
		CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
		CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);

		/* Nothing inside at all. */
		len = mk_tunnel(buf, ov, &in4, -1);
		len = ov == 4 ? 20 : 40;
		if (ov == 4) {
			pg_put16(buf + 2, 20);
			tp_ip4_csum(buf);
		} else {
			buf[6] = 4;
			pg_put16(buf + 4, 0);
		}
		if (pkt_parse(buf, len, &v) == MSLB_OK)
			CU_ASSERT_EQUAL(encap_pop(&v, &iv), MSLB_DROP_TUNNEL_INNER);
	}
}

/* RFC 6040 section 4.2 (Figure 4), the CE column: a CE mark on the outer
 * header reaches an ECN-capable inner packet; a Not-ECT inner packet is
 * dropped; an outer header without CE leaves the inner one alone. */
static void test_encap_pop_ecn(void)
{
	static uint8_t buf[64 + PG_BUFSZ];

	for (int inf = 4; inf <= 6; inf += 2)
		for (int ov = 4; ov <= 6; ov += 2)
			for (int oecn = 0; oecn < 4; oecn++)
				for (int iecn = 0; iecn < 4; iecn++) {
					struct pg_pkt in, e;
					struct pkt_view v, iv;
					uint32_t len;
					enum mslb_drop r;
					char what[64];

					tp_mk(&rng, &in, inf, PG_TCP, NULL, NULL, 64, (uint8_t)(0x28 | iecn), true);
					len = mk_tunnel(buf, ov, &in, oecn);
					CU_ASSERT_EQUAL_FATAL(pkt_parse(buf, len, &v), MSLB_OK);
					r = encap_pop(&v, &iv);
					snprintf(what, sizeof(what), "%d in %d outer ecn %d inner ecn %d", inf, ov, oecn, iecn);
					if (oecn == 3 && iecn == 0) {
						CU_ASSERT_EQUAL(r, MSLB_DROP_TUNNEL_INNER);
						continue;
					}
					CU_ASSERT_EQUAL_FATAL(r, MSLB_OK);
					e = in;
					if (oecn == 3)
						pg_set_tos(e.buf, (uint8_t)(0x28 | 3));
					pg_recompute(&e);
					CU_ASSERT(tp_same(what, iv.data, iv.len, e.buf, e.len));
					if (inf == 4)
						CU_ASSERT(tp_ip4_csum_ok(iv.data));
				}
}

void suite_encap(void)
{
	CU_pSuite s = CU_add_suite("encap", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_encap_push_families);
	UNIT_ADD(s, test_encap_push_flow_label);
	UNIT_ADD(s, test_encap_pop_families);
	UNIT_ADD(s, test_encap_pop_mismatch);
	UNIT_ADD(s, test_encap_pop_ecn);
}
