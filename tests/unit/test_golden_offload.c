/* golden_offload: TUN offloads through the front and the back: GSO
 * super-packets segmented (then fragmented when the tunnel needs it) and
 * partial checksums carried through encapsulation and decapsulation. */
#include <string.h>

#include <linux/virtio_net.h>

#include "golden.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "io/io.h"
#include "lb/lb.h"

/* ---- GSO super-packets ---------------------------------------------- */

static void build_gso(struct gd_script *c)
{
	for (int family = 4; family <= 6; family += 2) {
		unsigned hl = family == 4 ? 40 : 60;
		struct pg_pkt sp, o;
		struct gd_step *s;

		s = gd_add(c, family == 4 ? "TCP/IPv4 super-packet: 4 segments" : "TCP/IPv6 super-packet: 4 segments", 1,
		       MSLB_OK);
		gd_mk(&sp, family, PG_TCP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, hl + 3500, 0x12, true);
		sp.buf[hl - 20 + 13] = 0x80 | 0x10 | 0x08 | 0x01;
		pg_recompute(&sp);
		gd_set(&s->in, sp.buf, sp.len);
		s->off = (struct io_offload){
			.flags = IO_OFF_NEEDS_CSUM,
			.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
			.gso_size = 1000,
			.hdr_len = (uint16_t)hl,
			.csum_start = (uint16_t)(hl - 20),
			.csum_offset = 16,
		};
		for (unsigned k = 0; k < 4; k++) {
			tp_seg(&o, &sp, hl, k, 1000);
			gd_encap(gd_emit(s), family, family == 4 ? S4 : S6, family == 4 ? B4 : B6, o.buf, o.len,
				(uint16_t)(family == 4 ? k : 4 + k), true);
		}
	}
}

static void check_gso_big(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 0);
	CU_ASSERT_EQUAL(t.icmp_sent, 1);
}

/* Segments of 1040 bytes on a tunnel MTU of 980, with DF: the client
 * hears the tunnel MTU. */
static void build_gso_too_big(struct gd_script *c)
{
	struct pg_pkt sp;
	struct gd_step *s = gd_add(c, "segments too big", 1, MSLB_DROP_TOO_BIG);

	gd_mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, true);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
		.hdr_len = 40, .csum_start = 20, .csum_offset = 16,
	};
	gd_icmp(gd_emit(s), 4, S4, C4, 3, 4, 980, sp.buf, 548);
	s->check = check_gso_big;
}

static void check_gso(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.segments, 8);
	CU_ASSERT_EQUAL(t.encapsulated, 8);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 2);
}

static void build_gso_checked(struct gd_script *c)
{
	build_gso(c);
	c->s[c->n - 1].check = check_gso;
}

static void test_golden_gso(void)
{
	static const struct gd_case g[] = {
		{ "gso", FRONT("", ""), build_gso_checked },
		{ "gso too big", FRONT("", "path_mtu = 1000;"), build_gso_too_big },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* Segments that do not fit the tunnel either: IPv4 without DF, each
 * segment fragmented; IPv6 of at most 1280, each in outer fragments. */
static void build_gso_frag(struct gd_script *c)
{
	static struct gd_pkt whole;
	struct pg_pkt sp, o, f;
	struct gd_step *s;

	s = gd_add(c, "TCP/IPv4 without DF, segments of 1040 on a tunnel MTU of 780", 1, MSLB_OK);
	gd_mk(&sp, 4, PG_TCP, C4, S4, 40 + 3500, 0, false);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000,
		.hdr_len = 40, .csum_start = 20, .csum_offset = 16,
	};
	for (unsigned k = 0, id = 0; k < 4; k++) {
		tp_seg(&o, &sp, 40, k, 1000);
		if (o.len <= 780) {
			gd_encap(gd_emit(s), 4, S4, B4, o.buf, o.len, (uint16_t)id++, false);
			continue;
		}
		pg_fragment(&o, 0, 760, true, &f);
		gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false);
		pg_fragment(&o, 760, o.len - 20 - 760, false, &f);
		gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, (uint16_t)id++, false);
	}
	CU_ASSERT_EQUAL(s->n_emit, 7);

	s = gd_add(c, "TCP/IPv6, segments of 1060 on a tunnel MTU of 760", 1, MSLB_OK);
	gd_mk(&sp, 6, PG_TCP, C6, S6, 60 + 3500, 0, false);
	gd_set(&s->in, sp.buf, sp.len);
	s->off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 1000,
		.hdr_len = 60, .csum_start = 40, .csum_offset = 16,
	};
	for (unsigned k = 0, fid = 1; k < 4; k++) {
		tp_seg(&o, &sp, 60, k, 1000);
		gd_encap(&whole, 6, S6, B6, o.buf, o.len, 0, false);
		if (o.len <= 760) {
			*gd_emit(s) = whole;
			continue;
		}
		gd_frag6(gd_emit(s), &whole, 0, 752, true, fid);
		gd_frag6(gd_emit(s), &whole, 752, o.len - 752, false, fid);
		fid++;
	}
	CU_ASSERT_EQUAL(s->n_emit, 7);
}

static void test_golden_gso_fragments(void)
{
	static const struct gd_case g[] = {
		{ "gso, then fragments (ipv4)", FRONT("", "path_mtu = 800;"), build_gso_frag },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- offloads: partial checksums ------------------------------------- */

/* The partial checksum a device with checksum offload leaves in the
 * field: the folded pseudo-header sum, not complemented. */
static void make_partial(struct pg_pkt *p)
{
	pg_put16(p->buf + p->l3len + pg_csum_field(p->proto), tp_partial_csum(p));
}

static struct io_offload partial_off(unsigned start, unsigned field)
{
	return (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .csum_start = (uint16_t)start,
				    .csum_offset = (uint16_t)field };
}

/* path_mtu 1000. */
static void build_offload_front(struct gd_script *c)
{
	struct pg_pkt in, full, f;
	struct gd_step *s;

	s = gd_add(c, "IPv4 UDP, partial: encapsulated, csum_start moved on", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0, true);
	make_partial(&in);
	gd_set(&s->in, in.buf, in.len);
	s->off = partial_off(20, 6);
	gd_encap(&s->out, 4, S4, B4, in.buf, in.len, 0, true);
	s->check_off = true;
	s->out_off = partial_off(40, 6);

	s = gd_add(c, "IPv6 TCP, partial: encapsulated, csum_start moved on", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, C6, S6, 400, 0, false);
	make_partial(&in);
	gd_set(&s->in, in.buf, in.len);
	s->off = partial_off(40, 16);
	gd_encap(&s->out, 6, S6, B6, in.buf, in.len, 1, false);
	s->check_off = true;
	s->out_off = partial_off(80, 16);

	s = gd_add(c, "IPv4 UDP without DF, partial, too big: fragments with the checksum finished", 1, MSLB_OK);
	gd_client(&full, 4, 2000, 0, false);
	in = full;
	make_partial(&in);
	gd_set(&s->in, in.buf, in.len);
	s->off = partial_off(20, 6);
	pg_fragment(&full, 0, 960, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 2, false);
	pg_fragment(&full, 960, 960, true, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 3, false);
	pg_fragment(&full, 1920, 60, false, &f);
	gd_encap(gd_emit(s), 4, S4, B4, f.buf, f.len, 4, false);

	s = gd_add(c, "IPv6 TCP of 1280, partial, tunnel MTU 960: outer fragments, checksum finished", 1, MSLB_OK);
	{
		static struct gd_pkt whole;

		gd_mk(&full, 6, PG_TCP, C6, S6, 1280, 0, false);
		in = full;
		make_partial(&in);
		gd_set(&s->in, in.buf, in.len);
		s->off = partial_off(40, 16);
		gd_encap(&whole, 6, S6, B6, full.buf, full.len, 5, false);
		gd_frag6(gd_emit(s), &whole, 0, 952, true, 1);
		gd_frag6(gd_emit(s), &whole, 952, 328, false, 1);
	}
}

static void build_offload_back(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s;

	s = gd_add(c, "tunnel with a partial inner checksum: csum_start moved back", 1, MSLB_OK);
	gd_client(&in, 4, 300, 0, true);
	make_partial(&in);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 6);
	gd_set(&s->out, in.buf, in.len);
	s->check_off = true;
	s->out_off = partial_off(20, 6);

	s = gd_add(c, "IPv6 tunnel, partial TCP checksum", 1, MSLB_OK);
	gd_mk(&in, 6, PG_TCP, C6, S6, 300, 0, false);
	make_partial(&in);
	gd_tunnel_in(s, 6, S6, B6, &in);
	s->off = partial_off(80, 16);
	gd_set(&s->out, in.buf, in.len);
	s->check_off = true;
	s->out_off = partial_off(40, 16);

	s = gd_add(c, "partial offset inside the outer header", 1, MSLB_DROP_BAD_OFFLOAD);
	gd_client(&in, 4, 300, 0, true);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(10, 6);

	s = gd_add(c, "partial offset not the inner checksum", 1, MSLB_DROP_BAD_OFFLOAD);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 4);

	s = gd_add(c, "a GSO tunnel packet", 1, MSLB_DROP_BAD_OFFLOAD);
	gd_tunnel_in(s, 4, S4, B4, &in);
	s->off = partial_off(40, 6);
	s->off.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	s->off.gso_size = 100;
}

static void test_golden_offload(void)
{
	static const struct gd_case g[] = {
		{ "offload front", FRONT("", "path_mtu = 1000;"), build_offload_front },
		{ "offload back", BACK(""), build_offload_back },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

void suite_golden_offload(void)
{
	CU_pSuite s = CU_add_suite("golden_offload", gd_init, NULL);

	UNIT_ADD(s, test_golden_gso);
	UNIT_ADD(s, test_golden_gso_fragments);
	UNIT_ADD(s, test_golden_offload);
}
