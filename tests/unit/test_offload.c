/* offload: packets whose transport checksum is partial (TUN offloads,
 * virtio_net_hdr NEEDS_CSUM): the field holds the folded pseudo-header sum
 * and must become the pseudo-header sum of the rewritten packet. */
#include <stdio.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "lb/lb.h"
#include "net/csum.h"

#define CONF \
	"front = { services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; } );\n" \
	"  unmatched = \"b1\"; };\n"

static struct mslb_config *cfg;
static struct mslb_lb *lb;
static struct pg_rng rng;

static int init(void)
{
	pg_seed(&rng, 0x0ff10ad);
	lb = tl_lb_new(CONF, "o.conf", &cfg);
	return lb ? 0 : -1;
}

static int fini(void)
{
	tl_lb_free(lb, cfg);
	return 0;
}

static void one(int family, uint8_t proto)
{
	struct pg_spec s;
	struct pg_pkt p, e;
	uint8_t buf[PG_BUFSZ], nh[16] = { 0 };
	unsigned field;
	uint32_t len;
	struct mslb_addr a;

	pg_spec_init(&s, family, proto);
	s.payload = pg_range(&rng, 0, 1400);
	pg_build(&p, &s, &rng);
	field = p.l3len + pg_csum_field(proto);
	pg_put16(p.buf + field, tp_partial_csum(&p));

	mslb_addr_parse(family == 4 ? "198.51.100.11" : "2001:db8:b::11", &a);
	memcpy(nh, a.bytes, 16);
	e = p;
	pg_set_dst(&e, nh);
	pg_recompute(&e);			/* right IPv4 header checksum */
	pg_put16(e.buf + field, tp_partial_csum(&e));	/* and the partial field */

	memcpy(buf, p.buf, p.len);
	len = p.len;
	CU_ASSERT_EQUAL_FATAL(tl_process_offload(lb, buf, sizeof(buf), &len, field), MSLB_OK);
	CU_ASSERT_EQUAL(len, e.len);
	if (memcmp(buf, e.buf, e.len)) {
		pg_diff("partial", buf, len, e.buf, e.len);
		CU_FAIL("partial checksum not carried over");
	}
}

static void test_partial_rewrite(void)
{
	static const uint8_t protos[] = { PG_TCP, PG_UDP };

	for (unsigned i = 0; i < 300; i++)
		one(i % 2 ? 6 : 4, protos[(i / 2) % 2]);
}

/* A partial sum that happens to be 0 in a UDP field is still a sum. */
static void test_partial_udp_zero_field(void)
{
	uint8_t f[2] = { 0, 0 }, old[4] = { 203, 0, 113, 10 }, new[4] = { 198, 51, 100, 11 };

	csum_update_partial(f, old, new, 4);
	/* 0 + ~old + new, folded, not complemented. */
	{
		uint64_t acc = 0;
		uint8_t nold[4];

		for (int i = 0; i < 4; i++)
			nold[i] = (uint8_t)~old[i];
		acc = ref_sum(acc, nold, 4);
		acc = ref_sum(acc, new, 4);
		CU_ASSERT_EQUAL(pg_get16(f), ref_fold(acc));
	}
}

/* Offload metadata pointing anywhere but the transport checksum is refused
 * and the packet left untouched. */
static void test_bad_offset(void)
{
	struct pg_spec s;
	struct pg_pkt p;
	uint8_t buf[PG_BUFSZ];
	uint32_t len;
	uint64_t before = lb_drops(lb, MSLB_DROP_BAD_OFFLOAD);
	const unsigned bad[] = { 1, 20, 38, 9999 };	/* 36 is the right one */

	pg_spec_init(&s, 4, PG_TCP);
	pg_build(&p, &s, &rng);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, p.buf, p.len);
		len = p.len;
		CU_ASSERT_EQUAL(tl_process_offload(lb, buf, sizeof(buf), &len, bad[i]), MSLB_DROP_BAD_OFFLOAD);
		CU_ASSERT_EQUAL(memcmp(buf, p.buf, p.len), 0);
	}
	pg_spec_init(&s, 4, PG_ICMP);	/* no pseudo-header checksum to be partial */
	pg_build(&p, &s, &rng);
	memcpy(buf, p.buf, p.len);
	len = p.len;
	CU_ASSERT_EQUAL(tl_process_offload(lb, buf, sizeof(buf), &len, 22), MSLB_DROP_BAD_OFFLOAD);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_BAD_OFFLOAD) - before, 5);
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_BAD_OFFLOAD), "bad_offload");
}

void suite_offload(void)
{
	CU_pSuite s = CU_add_suite("offload", init, fini);

	UNIT_ADD(s, test_partial_rewrite);
	UNIT_ADD(s, test_partial_udp_zero_field);
	UNIT_ADD(s, test_bad_offset);
}
