/* regress: the packets that crashed mslbd or wrote past a buffer, each
 * through the whole data path on buffers sized as the daemon's, so the
 * sanitizer build sees any byte out of bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "pktgen.h"
#include "testlib.h"
#include "testpkt.h"
#include "unit.h"
#include "config/config.h"
#include "net/pkt.h"
#include "net/pktbuf.h"
#include "net/reasm.h"

static unsigned emitted;
static uint8_t last_emit[2048];
static uint32_t last_emit_len;

static void count_emit(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	(void)ctx;
	(void)off;
	emitted++;
	last_emit_len = len < sizeof(last_emit) ? len : sizeof(last_emit);
	memcpy(last_emit, pkt, last_emit_len);
}

/* A packet buffer exactly as a batch holds one: headroom, then 64 KiB. */
static struct io_pkt *daemon_pkt(void)
{
	struct io_pkt *p = calloc(1, sizeof(*p));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->buf = malloc(IO_HEADROOM + IO_BUF_SIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->buf);
	p->data = p->buf + IO_HEADROOM;
	return p;
}

static void daemon_pkt_free(struct io_pkt *p)
{
	free(p->buf);
	free(p);
}

/* One fragment of an IPv6-in-IPv6 datagram S6 -> B6, identification id:
 * bytes [off, off + n) of the fragmentable part frag_part. */
static uint32_t v6_fragment(uint8_t *out, const uint8_t *frag_part, unsigned off, unsigned n, bool more, uint32_t id)
{
	memset(out, 0, 48);
	out[0] = 0x60;
	pg_put16(out + 4, (uint16_t)(8 + n));
	out[6] = 44;		/* fragment header */
	out[7] = 64;
	tl_addr(S6, out + 8);
	tl_addr(B6, out + 24);
	out[40] = 41;		/* IPv6 inside */
	pg_put16(out + 42, (uint16_t)(off | (more ? 1 : 0)));
	pg_put32(out + 44, id);
	memcpy(out + 48, frag_part + off, n);
	return 48 + n;
}

/* The fragmentable part: an IPv6 UDP packet C6 -> S6 of total bytes. */
static uint8_t *inner_v6(unsigned total)
{
	uint8_t *b = calloc(1, total);
	uint64_t acc = 0;
	uint8_t pseudo[8] = { 0 };
	unsigned l4 = total - 40;
	uint16_t c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	b[0] = 0x60;
	pg_put16(b + 4, (uint16_t)l4);
	b[6] = PG_UDP;
	b[7] = 64;
	tl_addr(C6, b + 8);
	tl_addr(S6, b + 24);
	pg_put16(b + 40, 40000);
	pg_put16(b + 42, 9);
	pg_put16(b + 44, (uint16_t)l4);
	for (unsigned i = 48; i < total; i++)
		b[i] = (uint8_t)i;
	pg_put32(pseudo, l4);
	pseudo[7] = PG_UDP;
	acc = ref_sum(ref_sum(ref_sum(0, b + 8, 32), pseudo, 8), b + 40, l4);
	c = (uint16_t)~ref_fold(acc);
	pg_put16(b + 46, c ? c : 0xffff);
	return b;
}

/* Feed a datagram of frag_total bytes in three fragments to a back;
 * returns the verdict on the last one. */
static enum mslb_drop reassemble(struct mslb_lb *lb, struct io_pkt *p, unsigned frag_total)
{
	uint8_t *part = inner_v6(frag_total);
	unsigned chunk = (frag_total / 3) & ~7u;
	enum mslb_drop r = MSLB_OK;
	static uint32_t id;

	id++;

	for (unsigned k = 0; k < 3; k++) {
		unsigned off = k * chunk, n = k < 2 ? chunk : frag_total - off;

		p->data = p->buf + IO_HEADROOM;
		p->len = v6_fragment(p->data, part, off, n, k < 2, id);
		p->off = (struct io_offload){ 0 };
		r = lb_process_pkt(lb, p);
		if (k < 2)
			CU_ASSERT_EQUAL(r, MSLB_OK);
	}
	free(part);
	return r;
}

/* An outer IPv6 datagram reassembled to 40 + 65,535 bytes once overflowed
 * the 64 KiB packet buffer by 39 bytes: now the largest whole datagram is
 * 65,535 bytes, as in IPv4, and one byte more is refused. */
static void test_reasm_v6_fits_the_buffer(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(BACK(""), "regress.conf", &cfg);
	struct io_pkt *p = daemon_pkt();
	struct reasm_stats st;

	lb_set_emit(lb, count_emit, NULL);
	CU_ASSERT_EQUAL(reassemble(lb, p, 65535), MSLB_DROP_REASSEMBLY);
	CU_ASSERT_EQUAL(reassemble(lb, p, 65535 - 40 + 1), MSLB_DROP_REASSEMBLY);
	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &st));
	CU_ASSERT_EQUAL(st.datagrams, 0);
	/* The largest that fits goes through whole: decapsulated, IP_B -> IP_S. */
	CU_ASSERT_EQUAL(reassemble(lb, p, 65535 - 40), MSLB_OK);
	CU_ASSERT_TRUE_FATAL(lb_reasm_stats(lb, &st));
	CU_ASSERT_EQUAL(st.datagrams, 1);
	CU_ASSERT_EQUAL(p->len, 65535 - 40);
	CU_ASSERT_EQUAL(p->data[0] >> 4, 6);
	CU_ASSERT_EQUAL(pg_get16(p->data + 4), 65535 - 80);
	daemon_pkt_free(p);
	tl_lb_free(lb, cfg);
}

/* Offload metadata "partial checksum" with csum_start = csum_offset = 0
 * passed unchecked (offset 0 read as "none"); on a tunnel below the packet
 * the checksum went over the IPv4 header and the fragmenter walked off the
 * heap on the IHL it then read. Such metadata is refused, and nothing is
 * emitted. */
static void test_partial_csum_at_zero(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(FRONT("", "path_mtu = 1280;"), "regress.conf", &cfg);
	struct io_pkt *p = daemon_pkt();
	struct pg_pkt in;
	struct pg_rng rng;
	struct lb_nh_tunnel t;

	pg_seed(&rng, 1);
	emitted = 0;
	lb_set_emit(lb, count_emit, NULL);
	tp_mk(&rng, &in, 4, PG_UDP, C4, S4, 1400, 0, false);
	for (unsigned start = 0; start <= 20; start += 20) {
		memcpy(p->data, in.buf, in.len);
		p->len = in.len;
		p->off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .csum_start = (uint16_t)start };
		CU_ASSERT_EQUAL(lb_process_pkt(lb, p), MSLB_DROP_BAD_OFFLOAD);
		CU_ASSERT_EQUAL(memcmp(p->data, in.buf, in.len), 0);	/* not half-rewritten */
	}
	CU_ASSERT_EQUAL(emitted, 0);
	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.fragments, 0);
	/* The same packet with honest metadata is fragmented into the tunnel. */
	memcpy(p->data, in.buf, in.len);
	p->len = in.len;
	p->off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .csum_start = 20, .csum_offset = 6 };
	CU_ASSERT_EQUAL(lb_process_pkt(lb, p), MSLB_OK);
	CU_ASSERT_EQUAL(p->len, 0);
	CU_ASSERT_EQUAL(emitted, 2);
	daemon_pkt_free(p);
	tl_lb_free(lb, cfg);
}

/* tl_process copied a reassembled datagram into a buffer sized for the
 * fragment that completed it. */
static void test_tl_process_reports_a_small_buffer(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(BACK(""), "regress.conf", &cfg);
	uint8_t *part = inner_v6(3000);
	uint8_t f1[2048], f2[2048];
	uint32_t len;

	len = v6_fragment(f1, part, 0, 1504, true, 100);
	CU_ASSERT_EQUAL(tl_process(lb, f1, sizeof(f1), &len), MSLB_OK);
	CU_ASSERT_EQUAL(len, 0);
	len = v6_fragment(f2, part, 1504, 3000 - 1504, false, 100);
	CU_ASSERT_EQUAL(tl_process(lb, f2, sizeof(f2), &len), TL_TOO_SMALL);
	CU_ASSERT_EQUAL(len, 3000);
	free(part);
	tl_lb_free(lb, cfg);
}

/* Encapsulation over io.af_packet did not decrement the inner TTL (no
 * kernel forwarded the packet into the TUN), so a TTL-1 packet died at the
 * back without an ICMP error. The front now decrements it and answers
 * "time exceeded" as the kernel does on the TUN path. */
static void test_af_packet_encap_ttl(void)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(FRONT("", ""), "regress.conf", &cfg);
	struct io_pkt *p = daemon_pkt();
	struct pg_rng rng;
	struct pg_pkt in;

	pg_seed(&rng, 2);
	lb_set_emit(lb, count_emit, NULL);
	for (int family = 4; family <= 6; family += 2) {
		unsigned ttl_at = family == 4 ? 8 : 7, hl = family == 4 ? 20 : 40;

		tp_mk(&rng, &in, family, PG_UDP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, 100, 0, true);
		/* From the TUN: the kernel decremented it already. */
		memcpy(p->data, in.buf, in.len);
		p->len = in.len;
		p->ifindex = 0;
		CU_ASSERT_EQUAL(lb_process_pkt(lb, p), MSLB_OK);
		CU_ASSERT_EQUAL(p->data[hl + ttl_at], in.buf[ttl_at]);
		/* From an af_packet ring: one less, and the IPv4 checksum right. */
		p->data = p->buf + IO_HEADROOM;
		memcpy(p->data, in.buf, in.len);
		p->len = in.len;
		p->ifindex = 2;
		CU_ASSERT_EQUAL(lb_process_pkt(lb, p), MSLB_OK);
		CU_ASSERT_EQUAL(p->data[hl + ttl_at], in.buf[ttl_at] - 1);
		if (family == 4)
			CU_ASSERT_TRUE(tp_ip4_csum_ok(p->data + hl));
		/* TTL 1: dropped, and the client told. */
		p->data = p->buf + IO_HEADROOM;
		in.buf[ttl_at] = 1;
		if (family == 4)
			tp_ip4_csum(in.buf);
		memcpy(p->data, in.buf, in.len);
		p->len = in.len;
		emitted = 0;
		CU_ASSERT_EQUAL(lb_process_pkt(lb, p), MSLB_DROP_TTL_EXCEEDED);
		CU_ASSERT_EQUAL_FATAL(emitted, 1);
		CU_ASSERT_EQUAL(last_emit[family == 4 ? 20 : 40], family == 4 ? 11 : 3);	/* type */
		CU_ASSERT_EQUAL(last_emit[(family == 4 ? 20 : 40) + 1], 0);			/* code */
		CU_ASSERT_EQUAL(memcmp(last_emit + (family == 4 ? 16 : 24), in.buf + (family == 4 ? 12 : 8),
				       family == 4 ? 4 : 16), 0);	/* to the client */
		p->data = p->buf + IO_HEADROOM;
	}
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_TTL_EXCEEDED), 2);
	daemon_pkt_free(p);
	tl_lb_free(lb, cfg);
}

/* IPv4 options that Linux refuses (so the TUN path never forwards them)
 * passed the parser, and so the af_packet path, uncounted. */
static void test_ipv4_options_linux_refuses(void)
{
	static const struct {
		const char *what;
		uint8_t opt[12];
		unsigned len;
		enum mslb_drop want;
	} c[] = {
		{ "record route, pointer 2", { 7, 7, 2, 0, 0, 0, 0, 1 }, 8, MSLB_DROP_BAD_OPTIONS },
		{ "record route, pointer 4", { 7, 7, 4, 0, 0, 0, 0, 1 }, 8, MSLB_OK },
		{ "record route, full", { 7, 7, 8, 192, 0, 2, 1, 1 }, 8, MSLB_OK },
		{ "record route, length 2", { 7, 2, 1, 1 }, 4, MSLB_DROP_BAD_OPTIONS },
		{ "timestamp, length 2", { 68, 2, 1, 1 }, 4, MSLB_DROP_BAD_OPTIONS },
		{ "timestamp, pointer 4", { 68, 8, 4, 0, 0, 0, 0, 0 }, 8, MSLB_DROP_BAD_OPTIONS },
		{ "timestamp only, room for one", { 68, 8, 5, 0, 0, 0, 0, 0 }, 8, MSLB_OK },
		{ "timestamp and address, no room", { 68, 8, 5, 1, 0, 0, 0, 0 }, 8, MSLB_DROP_BAD_OPTIONS },
		{ "timestamp and address, room", { 68, 12, 5, 1 }, 12, MSLB_OK },
		{ "timestamp full, overflow full", { 68, 8, 9, 0xf0, 0, 0, 0, 0 }, 8, MSLB_DROP_BAD_OPTIONS },
		{ "timestamp full, overflow counting", { 68, 8, 9, 0x10, 0, 0, 0, 0 }, 8, MSLB_OK },
		{ "router alert", { 148, 4, 0, 0 }, 4, MSLB_OK },
		{ "router alert, length 2", { 148, 2, 1, 1 }, 4, MSLB_DROP_BAD_OPTIONS },
	};
	struct pg_rng rng;

	pg_seed(&rng, 3);
	for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
		struct pg_spec s;
		struct pg_pkt p;
		struct pkt_view v;
		enum mslb_drop r;

		pg_spec_init(&s, 4, PG_UDP);
		memcpy(s.opts, c[i].opt, c[i].len);
		s.opts_len = c[i].len;
		pg_build(&p, &s, &rng);
		r = pkt_parse(p.buf, p.len, &v);
		if (r != c[i].want)
			printf("\n  %s: %s, expected %s", c[i].what, mslb_drop_name(r), mslb_drop_name(c[i].want));
		CU_ASSERT_EQUAL(r, c[i].want);
	}
}

/* A newline in a configured string split one problem over two lines (the
 * second without FILE:LINE), and an escape sequence reached the terminal:
 * problems are one line of text, control characters as \xNN. */
static void test_config_errors_are_one_line_of_text(void)
{
	static struct config_errors errs;
	const char *text =
		"log = { level = \"loud\\n\\x1b[31mred\"; };\n"
		"back = { addresses = ( { address = \"198.51.100.11\"; service = \"203.0.113.10\"; } ); };\n";
	struct mslb_config *c = config_load_string(text, "t\n.conf", &errs);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	CU_ASSERT_STRING_EQUAL(errs.line[0], "t\\x0a.conf:1: log.level: \"loud\\x0a\\x1b[31mred\" is not a level "
					      "(allowed: \"error\", \"warning\", \"info\", \"debug\")");
	for (const char *p = errs.line[0]; *p; p++)
		CU_ASSERT_FALSE((unsigned char)*p < 0x20 || *p == 0x7f);
	config_free(c);
}

void suite_regress(void)
{
	CU_pSuite s = CU_add_suite("regress", NULL, NULL);

	UNIT_ADD(s, test_reasm_v6_fits_the_buffer);
	UNIT_ADD(s, test_partial_csum_at_zero);
	UNIT_ADD(s, test_tl_process_reports_a_small_buffer);
	UNIT_ADD(s, test_af_packet_encap_ttl);
	UNIT_ADD(s, test_ipv4_options_linux_refuses);
	UNIT_ADD(s, test_config_errors_are_one_line_of_text);
}
