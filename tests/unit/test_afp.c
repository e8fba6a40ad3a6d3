/* afp: the pure parts of the AF_PACKET path. The receive filter is run by
 * a tiny cBPF interpreter on synthetic frames (it accepts exactly the
 * node's unicast IPv4/IPv6 packets to a service or back address, tagged or
 * not); TTL / hop limit decrement with the IPv4 checksum kept right; the
 * io.af_packet setting. */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <string.h>

#include "testlib.h"
#include "unit.h"
#include "config/config.h"
#include "io/afp_filter.h"
#include "net/csum.h"
#include "net/fwd.h"

#define CONF \
	"io = { af_packet = [ \"eth0\", \"eth1\" ]; };\n" \
	"front = { services = [ \"203.0.113.10\", \"2001:db8:5::10\", \"203.0.113.11\" ];\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; } );\n" \
	"  unmatched = \"b1\"; };\n" \
	"back = { addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\"; },\n" \
	"  { address = \"2001:db8:b::21\"; service = \"2001:db8:5::10\"; } ); };\n"

/* Run prog on frame[0..len); pkttype is what SKF_AD_PKTTYPE loads.
 * Returns the program's verdict, or 0xdead on anything unsupported. */
static uint32_t run(const struct sock_filter *prog, int n, const uint8_t *f, uint32_t len, uint32_t pkttype)
{
	uint32_t a = 0;

	for (int pc = 0; pc >= 0 && pc < n; pc++) {
		const struct sock_filter *i = &prog[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
				a = pkttype;
				break;
			}
			if (i->k + 4 > len)
				return 0;	/* out of the frame: the kernel returns 0 */
			a = (uint32_t)f[i->k] << 24 | (uint32_t)f[i->k + 1] << 16 | (uint32_t)f[i->k + 2] << 8 | f[i->k + 3];
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (i->k + 2 > len)
				return 0;
			a = (uint32_t)f[i->k] << 8 | f[i->k + 1];
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JA:
			pc += (int)i->k;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return 0xdead;
		}
	}
	return 0xdead;	/* fell off the end: the kernel refuses such a program */
}

/* An Ethernet frame (optionally 802.1Q-tagged) carrying a minimal IP header to dst. */
static uint32_t frame(uint8_t *f, const char *dst, bool vlan)
{
	unsigned l2 = vlan ? 18 : 14;
	bool v6 = strchr(dst, ':') != NULL;

	memset(f, 0, 128);
	memset(f, 0x02, 12);
	if (vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[15] = 7;
	}
	f[l2 - 2] = v6 ? 0x86 : 0x08;
	f[l2 - 1] = v6 ? 0xdd : 0x00;
	f[l2] = v6 ? 0x60 : 0x45;
	inet_pton(v6 ? AF_INET6 : AF_INET, dst, f + l2 + (v6 ? 24 : 16));
	return l2 + (v6 ? 40 : 20) + 8;
}

static void test_filter_accepts_ours(void)
{
	static struct sock_filter prog[AFP_FILTER_MAX];
	static const char *const ours[] = { "203.0.113.10", "203.0.113.11", "2001:db8:5::10",
					    "198.51.100.21", "2001:db8:b::21" };
	static const char *const others[] = { "203.0.113.12", "198.51.100.11", "2001:db8:5::11",
					      "2001:db8:b::11", "2001:db8:5:0:1::10", "192.0.2.1" };
	struct mslb_config *c = tl_config_load(CONF, "a.conf");
	uint8_t f[128];
	int n;

	n = afp_filter_build(c, prog, AFP_FILTER_MAX);
	CU_ASSERT_FATAL(n > 0);
	for (unsigned v = 0; v < 2; v++) {
		for (unsigned i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
			uint32_t len = frame(f, ours[i], v);

			CU_ASSERT_EQUAL(run(prog, n, f, len, PACKET_HOST), AFP_ACCEPT);
			/* Not for this host: broadcast, multicast, promiscuous. */
			CU_ASSERT_EQUAL(run(prog, n, f, len, PACKET_BROADCAST), 0);
			CU_ASSERT_EQUAL(run(prog, n, f, len, PACKET_OTHERHOST), 0);
			CU_ASSERT_EQUAL(run(prog, n, f, len, PACKET_MULTICAST), 0);
		}
		for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
			CU_ASSERT_EQUAL(run(prog, n, f, frame(f, others[i], v), PACKET_HOST), 0);
	}
	/* ARP, and an IPv4 address in an IPv6 frame's place. */
	frame(f, "203.0.113.10", false);
	f[12] = 0x08;
	f[13] = 0x06;
	CU_ASSERT_EQUAL(run(prog, n, f, 64, PACKET_HOST), 0);
	/* A runt frame: loads beyond the end reject. */
	CU_ASSERT_EQUAL(run(prog, n, f, 20, PACKET_HOST), 0);
	config_free(c);
}

static void test_filter_many_addresses(void)
{
	static struct sock_filter prog[AFP_FILTER_MAX];
	static char text[40000];
	struct mslb_config *c;
	size_t used = 0;
	uint8_t f[128];
	char a[64];
	int n;

	/* 150 IPv6 services: the accept jumps go far beyond 255 instructions. */
	used += (size_t)snprintf(text + used, sizeof(text) - used, "front = { services = [ ");
	for (int i = 0; i < 150; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"2001:db8:5::%x\"", i ? ", " : "", i + 1);
	snprintf(text + used, sizeof(text) - used,
		 " ];\n next_hops = ( { name = \"b\"; ipv6 = \"2001:db8:b::1\"; } ); unmatched = \"b\"; };\n");
	c = tl_config_load(text, "m.conf");
	n = afp_filter_build(c, prog, AFP_FILTER_MAX);
	CU_ASSERT_FATAL(n > 255);
	for (int i = 0; i < 150; i++) {
		snprintf(a, sizeof(a), "2001:db8:5::%x", i + 1);
		CU_ASSERT_EQUAL(run(prog, n, f, frame(f, a, false), PACKET_HOST), AFP_ACCEPT);
		CU_ASSERT_EQUAL(run(prog, n, f, frame(f, a, true), PACKET_HOST), AFP_ACCEPT);
	}
	CU_ASSERT_EQUAL(run(prog, n, f, frame(f, "2001:db8:5::97", false), PACKET_HOST), 0);
	/* Too small a buffer: refused, not truncated. */
	CU_ASSERT_EQUAL(afp_filter_build(c, prog, 100), -1);
	config_free(c);
}

static void test_ttl_ipv4(void)
{
	uint8_t p[20] = { 0x45, 0, 0, 20, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 10, 203, 0, 113, 10 };
	uint16_t c = csum_ipv4_header(p, 20);

	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	for (int ttl = 64; ttl > 1; ttl--) {
		CU_ASSERT_EQUAL_FATAL(fwd_ttl_decrement(p, 20), MSLB_OK);
		CU_ASSERT_EQUAL(p[8], ttl - 1);
		/* The incremental update equals a full recomputation. */
		CU_ASSERT_EQUAL(csum_finish(csum_add(0, p, 20)), 0);
	}
	CU_ASSERT_EQUAL(p[8], 1);
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 20), MSLB_DROP_TTL_EXCEEDED);
	CU_ASSERT_EQUAL(p[8], 1);
	p[8] = 0;
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 20), MSLB_DROP_TTL_EXCEEDED);
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 19), MSLB_DROP_TRUNCATED);
	/* A checksum of 0xffff / 0x0000 around the wrap. */
	for (unsigned v = 0; v < 65536; v += 257) {
		p[8] = 200;
		p[4] = (uint8_t)(v >> 8);
		p[5] = (uint8_t)v;
		p[10] = p[11] = 0;
		c = csum_ipv4_header(p, 20);
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
		CU_ASSERT_EQUAL_FATAL(fwd_ttl_decrement(p, 20), MSLB_OK);
		CU_ASSERT_EQUAL(csum_finish(csum_add(0, p, 20)), 0);
	}
}

static void test_ttl_ipv6(void)
{
	uint8_t p[40] = { 0x60 };

	p[7] = 2;
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 40), MSLB_OK);
	CU_ASSERT_EQUAL(p[7], 1);
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 40), MSLB_DROP_TTL_EXCEEDED);
	CU_ASSERT_EQUAL(p[7], 1);
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 39), MSLB_DROP_TRUNCATED);
	p[0] = 0x50;
	CU_ASSERT_EQUAL(fwd_ttl_decrement(p, 40), MSLB_DROP_BAD_VERSION);
}

static void test_finish_csum(void)
{
	/* IPv4 UDP 192.0.2.10 -> 203.0.113.10, 4 payload bytes, partial sum. */
	uint8_t p[32] = { 0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 10, 203, 0, 113, 10,
			  0x30, 0x39, 0, 7, 0, 12, 0, 0, 'a', 'b', 'c', 'd' };
	struct io_offload off = { .flags = IO_OFF_NEEDS_CSUM, .csum_start = 20, .csum_offset = 6 };
	uint8_t pseudo[12] = { 192, 0, 2, 10, 203, 0, 113, 10, 0, 17, 0, 12 };
	uint32_t s = csum_add(0, pseudo, 12);
	uint16_t part;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	part = (uint16_t)s;
	p[26] = (uint8_t)(part >> 8);
	p[27] = (uint8_t)part;
	fwd_finish_csum(p, 32, &off);
	CU_ASSERT_EQUAL(off.flags & IO_OFF_NEEDS_CSUM, 0);
	/* Pseudo-header + UDP segment with the final checksum sums to 0xffff. */
	CU_ASSERT_EQUAL(csum_finish(csum_add(csum_add(0, pseudo, 12), p + 20, 12)), 0);
}

static void test_config_af_packet(void)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "io = { af_packet = \"eth0\"; };\n",
		  "t.conf:1: io.af_packet: must be a list of 1-16 names (allowed: a list of 1-16 existing Ethernet interface names, e.g. [ \"eth0\", \"eth1\" ])" },
		{ "io = { af_packet = [ \"eth 0\" ]; };\n",
		  "t.conf:1: io.af_packet[0]: \"eth 0\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)" },
		{ "io = { af_packet = [ \"eth0\", \"eth0\" ]; };\n",
		  "t.conf:1: io.af_packet[1]: \"eth0\" is listed twice (allowed: each interface once)" },
		{ "io = { af_packet = [ \"mslb0\" ]; };\n",
		  "t.conf:1: io.af_packet[0]: \"mslb0\" is the TUN device (allowed: an Ethernet interface other than tun.name)" },
		{ "io = { afpacket = [ \"eth0\" ]; };\n",
		  "t.conf:1: io.afpacket: unknown setting (allowed: af_packet)" },
	};
	const char *role = "back = { addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\"; } ); };\n";
	struct config_errors errs;
	struct mslb_config *c = tl_config_load(CONF, "a.conf");
	char text[512];

	CU_ASSERT_EQUAL(c->n_af_packet, 2);
	CU_ASSERT_STRING_EQUAL(c->af_packet[0], "eth0");
	CU_ASSERT_STRING_EQUAL(c->af_packet[1], "eth1");
	CU_ASSERT_EQUAL(c->line_af_packet, 1);
	config_free(c);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", bad[i].text, role);
		c = config_load_string(text, "t.conf", &errs);
		CU_ASSERT_PTR_NULL(c);
		config_free(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		if (errs.n)
			CU_ASSERT_STRING_EQUAL(errs.line[0], bad[i].want);
	}
}

void suite_afp(void)
{
	CU_pSuite s = CU_add_suite("afp", NULL, NULL);

	UNIT_ADD(s, test_filter_accepts_ours);
	UNIT_ADD(s, test_filter_many_addresses);
	UNIT_ADD(s, test_ttl_ipv4);
	UNIT_ADD(s, test_ttl_ipv6);
	UNIT_ADD(s, test_finish_csum);
	UNIT_ADD(s, test_config_af_packet);
}
