/* gso: software segmentation of TCP and UDP super-packets: every segment's
 * headers (IDs, sequence numbers, flags, lengths, checksums) and payload,
 * and metadata that does not fit the packet. */
#include <string.h>

#include <linux/virtio_net.h>

#include "pktgen.h"
#include "testpkt.h"
#include "unit.h"
#include "io/io.h"
#include "net/gso.h"
#include "net/pkt.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

static struct pg_rng rng;
static struct tp_frags fr;	/* the segments of the call under test */

static void gso_tcp(int family)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE], cat[PG_BUFSZ];
	struct pg_pkt p;
	struct pkt_view v;
	struct io_offload off = { 0 };
	unsigned hl = family == 4 ? 40 : 60, catlen = 0;
	uint32_t seq0 = 0xfffffc00;	/* wraps inside the super-packet */
	uint16_t id0 = 0xfffe;		/* and so does the IPv4 ID */
	int n;

	tp_mk(&rng, &p, family, PG_TCP, NULL, NULL, 3500, 0x48, true);
	pg_put32(p.buf + hl - 20 + 4, seq0);
	p.buf[hl - 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01;	/* CWR ACK PSH FIN */
	if (family == 4)
		pg_put16(p.buf + 4, id0);
	pg_recompute(&p);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_header_len(&v), hl);
	off.flags = IO_OFF_NEEDS_CSUM;
	off.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	off.gso_size = 1000;
	off.hdr_len = (uint16_t)hl;
	off.csum_start = (uint16_t)(hl - 20);
	off.csum_offset = 16;
	memset(&fr, 0, sizeof(fr));
	n = gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL_FATAL(fr.n, 4);
	for (unsigned i = 0; i < fr.n; i++) {
		const uint8_t *s = fr.pkt[i], *t = s + hl - 20;
		unsigned chunk = i < 3 ? 1000 : 500;
		uint8_t flags = 0x10;

		CU_ASSERT_EQUAL(fr.len[i], hl + chunk);
		if (family == 4) {
			CU_ASSERT_EQUAL(pg_get16(s + 2), hl + chunk);
			CU_ASSERT_EQUAL(pg_get16(s + 4), (uint16_t)(id0 + i));
			CU_ASSERT(tp_ip4_csum_ok(s));
			CU_ASSERT_EQUAL(s[6], 0x40);
			CU_ASSERT_EQUAL(memcmp(s + 8, p.buf + 8, 2), 0);
			CU_ASSERT_EQUAL(memcmp(s + 12, p.buf + 12, 8), 0);
		} else {
			CU_ASSERT_EQUAL(pg_get16(s + 4), 20 + chunk);
			CU_ASSERT_EQUAL(memcmp(s, p.buf, 4), 0);
			CU_ASSERT_EQUAL(memcmp(s + 6, p.buf + 6, 34), 0);
		}
		CU_ASSERT_EQUAL(s[1], p.buf[1]);
		CU_ASSERT_EQUAL(pg_get32(t + 4), seq0 + 1000 * i);
		if (i == 0)
			flags |= 0x80;
		if (i == 3)
			flags |= 0x09;
		CU_ASSERT_EQUAL(t[13], flags);
		/* Ports, ack, offset, window, urgent pointer as they were. */
		CU_ASSERT_EQUAL(memcmp(t, p.buf + hl - 20, 4), 0);
		CU_ASSERT_EQUAL(memcmp(t + 8, p.buf + hl - 20 + 8, 5), 0);
		CU_ASSERT_EQUAL(memcmp(t + 14, p.buf + hl - 20 + 14, 2), 0);
		CU_ASSERT_EQUAL(memcmp(t + 18, p.buf + hl - 20 + 18, 2), 0);
		CU_ASSERT(tp_l4_csum_ok(s, t, 20 + chunk, PG_TCP, true));
		memcpy(cat + catlen, s + hl, chunk);
		catlen += chunk;
	}
	CU_ASSERT_EQUAL(catlen, 3500);
	CU_ASSERT_EQUAL(memcmp(cat, p.buf + hl, 3500), 0);
}

static void test_gso_tcp4(void)
{
	gso_tcp(4);
}

static void test_gso_tcp6(void)
{
	gso_tcp(6);
}

static void test_gso_udp(void)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE], cat[PG_BUFSZ];

	for (int family = 4; family <= 6; family += 2) {
		struct pg_pkt p;
		struct pkt_view v;
		struct io_offload off = { .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4, .gso_size = 1000 };
		unsigned hl = family == 4 ? 28 : 48, catlen = 0;

		tp_mk(&rng, &p, family, PG_UDP, NULL, NULL, 3500, 0, false);
		CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
		memset(&fr, 0, sizeof(fr));
		CU_ASSERT_EQUAL_FATAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), 4);
		for (unsigned i = 0; i < fr.n; i++) {
			const uint8_t *s = fr.pkt[i], *u = s + hl - 8;
			unsigned chunk = i < 3 ? 1000 : 500;

			CU_ASSERT_EQUAL(fr.len[i], hl + chunk);
			CU_ASSERT_EQUAL(pg_get16(u + 4), 8 + chunk);
			CU_ASSERT_EQUAL(memcmp(u, p.buf + hl - 8, 4), 0);
			CU_ASSERT(tp_l4_csum_ok(s, u, 8 + chunk, PG_UDP, true));
			if (family == 4)
				CU_ASSERT(tp_ip4_csum_ok(s));
			memcpy(cat + catlen, s + hl, chunk);
			catlen += chunk;
		}
		CU_ASSERT_EQUAL(catlen, 3500);
		CU_ASSERT_EQUAL(memcmp(cat, p.buf + hl, 3500), 0);
	}
}

/* Metadata that does not fit the packet. */
static void test_gso_bad(void)
{
	static uint8_t out[IO_HEADROOM + IO_BUF_SIZE];
	struct pg_pkt p;
	struct pkt_view v;
	struct io_offload off = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000 };

	tp_mk(&rng, &p, 4, PG_UDP, NULL, NULL, 2000, 0, false);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	memset(&fr, 0, sizeof(fr));
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	tp_mk(&rng, &p, 4, PG_TCP, NULL, NULL, 2000, 0, false);
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	off.gso_size = 0;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	off.gso_size = 1000;
	off.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	CU_ASSERT_EQUAL(gso_segment(&v, &off, out + IO_HEADROOM, tp_collect, &fr), -1);
	CU_ASSERT_EQUAL(fr.n, 0);
	/* TCP options count in the header length. */
	p.buf[20 + 12] = 8 << 4;
	CU_ASSERT_EQUAL_FATAL(pkt_parse(p.buf, p.len, &v), MSLB_OK);
	CU_ASSERT_EQUAL(gso_header_len(&v), 20 + 32);
}

void suite_gso(void)
{
	CU_pSuite s = CU_add_suite("gso", NULL, NULL);

	pg_seed(&rng, 0xe4ca9);
	UNIT_ADD(s, test_gso_tcp4);
	UNIT_ADD(s, test_gso_tcp6);
	UNIT_ADD(s, test_gso_udp);
	UNIT_ADD(s, test_gso_bad);
}
