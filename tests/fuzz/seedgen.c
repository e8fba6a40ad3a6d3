/* seedgen: writes the checked-in seed corpora (tests/fuzz/corpus/<target>)
 * from the unit tests' packet builder (pktgen, reference checksums) and
 * the golden cast, so each target starts from inputs that get deep: a
 * parse that succeeds, a packet that reaches a service, a back address or
 * a return endpoint, fragments that reassemble. Deterministic; run
 * `seedgen OUTDIR SRCDIR` (scripts/fuzz.sh --seeds) after changing it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "fuzz_confs.h"
#include "fuzz_path.h"
#include "../unit/golden.h"
#include "../unit/pktgen.h"
#include "net/mptcpopt.h"
#include "net/encap.h"
#include "net/gso.h"
#include "net/p2opt.h"

#define SEED_MAX 8192

static const char *outdir;
static struct pg_rng rng;

struct seed {
	uint8_t b[SEED_MAX];
	size_t n;
};

static void die(const char *what)
{
	fprintf(stderr, "seedgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const char *target, const char *name, const void *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

static void addr(const char *s, uint8_t *out)
{
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out) != 1) {
		fprintf(stderr, "seedgen: bad address %s\n", s);
		exit(1);
	}
}

/* A packet of proto from src to dst with payload bytes. */
static void mk(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, unsigned payload,
	       bool df)
{
	struct pg_spec s;

	pg_spec_init(&s, family, proto);
	addr(src, s.src);
	addr(dst, s.dst);
	s.payload = payload;
	pg_build(p, &s, &rng);
	if (family == 4) {
		p->buf[6] = (uint8_t)((p->buf[6] & ~0x40) | (df ? 0x40 : 0));
		pg_recompute(p);
	}
}

/* p inside an outer header from src to dst (RFC 2003 / 2473). */
static uint32_t encap(uint8_t *o, const char *src, const char *dst, const uint8_t *in, uint32_t ilen)
{
	bool v4 = !strchr(dst, ':');
	unsigned hl = v4 ? 20 : 40;
	uint8_t proto = (in[0] >> 4) == 4 ? 4 : 41;

	memmove(o + hl, in, ilen);
	memset(o, 0, hl);
	if (v4) {
		o[0] = 0x45;
		fz_put16(o + 2, (uint16_t)(hl + ilen));
		fz_put16(o + 4, 0x1234);
		o[8] = 64;
		o[9] = proto;
		addr(src, o + 12);
		addr(dst, o + 16);
		fz_ip4_csum_set(o);
	} else {
		o[0] = 0x60;
		fz_put16(o + 4, (uint16_t)ilen);
		o[6] = proto;
		o[7] = 64;
		addr(src, o + 8);
		addr(dst, o + 24);
	}
	return hl + ilen;
}

/* Bytes [off, off + n) of the payload of the (option-less) packet w as a
 * fragment at o: IPv4 fields, or an IPv6 fragment header of id. */
static uint32_t frag(uint8_t *o, const uint8_t *w, uint32_t wlen, unsigned off, unsigned n, bool more)
{
	if ((w[0] >> 4) == 4) {
		memcpy(o, w, 20);
		memcpy(o + 20, w + 20 + off, n);
		fz_put16(o + 2, (uint16_t)(20 + n));
		fz_put16(o + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		fz_ip4_csum_set(o);
		return 20 + n;
	}
	memcpy(o, w, 40);
	fz_put16(o + 4, (uint16_t)(8 + n));
	o[6] = 44;
	o[40] = w[6];
	o[41] = 0;
	fz_put16(o + 42, (uint16_t)(off | (more ? 1 : 0)));
	fz_put16(o + 44, 0);
	fz_put16(o + 46, 0x4d53);
	memcpy(o + 48, w + 40 + off, n);
	(void)wlen;
	return 48 + n;
}

/* ---- fuzz_path inputs ------------------------------------------------ */

static void rec(struct seed *s, uint8_t flags, uint8_t clock, const struct io_offload *off, const uint8_t *b,
		uint32_t n)
{
	uint8_t *p = s->b + s->n;

	if (s->n + 18 + n > SEED_MAX) {
		fprintf(stderr, "seedgen: seed too large\n");
		exit(1);
	}
	p[0] = (uint8_t)(flags | (off ? FZ_R_OFFLOAD : 0));
	p[1] = clock;
	fz_put16(p + 2, (uint16_t)n);
	s->n += 4;
	if (off) {
		p[4] = off->flags;
		p[5] = off->gso_type;
		fz_put16(p + 6, off->csum_start);
		fz_put16(p + 8, off->csum_offset);
		fz_put16(p + 10, off->gso_size);
		fz_put16(p + 12, off->hdr_len);
		s->n += 10;
		/* A UDP-tunnel super-packet's offsets (fuzz_path.c). */
		if (off->gso_type & IO_GSO_UDP_TUNNEL) {
			fz_put16(p + 14, off->outer_th);
			fz_put16(p + 16, off->inner_nh);
			s->n += 4;
		}
	}
	memcpy(s->b + s->n, b, n);
	s->n += n;
}

#define WHOLE (FZ_R_FIX_LEN | (FZ_FIX_FULL + 1))	/* keep lengths and checksums right */
#define FRAG (FZ_FIX_HDR + 1)

static void start(struct seed *s, const char *conf)
{
	int i = fz_conf_index(conf);

	if (i < 0) {
		fprintf(stderr, "seedgen: no config %s\n", conf);
		exit(1);
	}
	s->b[0] = (uint8_t)i;
	s->n = 1;
}

static void emit_path(struct seed *s, const char *conf, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), "%s-%s", conf, what);
	put("fuzz_path", name, s->b, s->n);
}

/* Clients to the service: UDP and TCP, both families, small and large. */
static void path_front(const char *conf, unsigned big)
{
	static const uint8_t protos[] = { PG_UDP, PG_TCP, PG_ICMPV6 };
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		start(&s, conf);
		for (unsigned i = 0; i < sizeof(protos); i++) {
			uint8_t proto = protos[i] == PG_ICMPV6 && fam == 4 ? PG_ICMP : protos[i];

			mk(&p, fam, proto, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 40, true);
			rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		}
		mk(&p, fam, PG_UDP, fam == 4 ? "198.18.0.1" : "2001:db8:99::1", fam == 4 ? S4 : S6, 100, false);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "small4" : "small6");

		start(&s, conf);
		mk(&p, fam, PG_UDP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, big, true);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		mk(&p, fam, PG_TCP, fam == 4 ? "198.18.0.2" : "2001:db8:98::1", fam == 4 ? S4 : S6, big, false);
		rec(&s, WHOLE, 200, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "big4" : "big6");
	}
}

/* Checksum offload: a partial checksum, and a GSO super-packet. */
static void path_offload(const char *conf)
{
	struct io_offload off = { 0 };
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		unsigned hl = fam == 4 ? 20 : 40;

		start(&s, conf);
		mk(&p, fam, PG_UDP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 300, true);
		rec(&s, FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, NULL, p.buf, p.len);
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 3000, true);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .gso_type = fam == 4 ? 1 : 4,
					   .csum_start = (uint16_t)hl, .csum_offset = 16, .gso_size = 1000,
					   .hdr_len = (uint16_t)(hl + 20) };
		rec(&s, FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, &off, p.buf, p.len);
		mk(&p, fam, PG_UDP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 2500, false);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .gso_type = 5, .csum_start = (uint16_t)hl,
					   .csum_offset = 6, .gso_size = 800, .hdr_len = (uint16_t)(hl + 8) };
		rec(&s, FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, &off, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "offload4" : "offload6");
	}
}

/* An ICMP error from a router about a tunnel packet: the path MTU. */
static void path_icmp_tunnel(const char *conf)
{
	uint8_t t[PG_BUFSZ], m[PG_BUFSZ];
	struct pg_pkt in;
	struct seed s;
	uint32_t tl, ml;

	start(&s, conf);
	/* Outside the table: to b1, IPv4 in IPv4. */
	mk(&in, 4, PG_UDP, "198.18.0.1", S4, 1100, true);
	tl = encap(t, S4, B4, in.buf, in.len);
	memset(m, 0, 28);
	m[0] = 0x45;
	m[8] = 64;
	m[9] = 1;
	addr(R4, m + 12);
	addr(S4, m + 16);
	m[20] = 3;
	m[21] = 4;
	fz_put16(m + 26, 576);
	memcpy(m + 28, t, 28 + 8);
	ml = 28 + 36;
	fz_put16(m + 2, (uint16_t)ml);
	rec(&s, WHOLE, 1, NULL, m, ml);
	rec(&s, WHOLE, 1, NULL, in.buf, in.len);
	rec(&s, WHOLE, 200, NULL, in.buf, in.len);
	(void)tl;
	emit_path(&s, conf, "icmp-tunnel");
}

/* GUE (front-gue): a router's "fragmentation needed" about a GUE packet
 * to b1 (quoting the outer header, the UDP header to port 6080 and the
 * inner one), then the client's packets that no longer fit; and a GUE
 * packet as a back takes it (back: port 6080 of IP_B). */
static void path_gue(void)
{
	uint8_t room[64 + PG_BUFSZ], m[PG_BUFSZ], sv[16], b[16], *h;
	struct pg_pkt in;
	struct seed s;
	uint32_t hl;

	start(&s, "front-gue");
	mk(&in, 4, PG_UDP, "198.18.0.1", S4, 1100, true);
	memcpy(room + 64, in.buf, in.len);
	addr(TS4, sv);
	addr(B4, b);
	h = encap_push_gue(room + 64, in.len, 4, sv, b, 0x1234, false, 6080);
	memset(m, 0, 28);
	m[0] = 0x45;
	m[8] = 64;
	m[9] = 1;
	addr(R4, m + 12);
	addr(TS4, m + 16);
	m[20] = 3;
	m[21] = 4;
	fz_put16(m + 26, 576);
	memcpy(m + 28, h, 28 + 28);
	hl = 28 + 56;
	fz_put16(m + 2, (uint16_t)hl);
	rec(&s, WHOLE, 1, NULL, m, hl);
	rec(&s, WHOLE, 1, NULL, in.buf, in.len);
	rec(&s, WHOLE, 200, NULL, in.buf, in.len);
	emit_path(&s, "front-gue", "icmp-gue");

	/* 1280 bytes of IPv6 to b2, whose path MTU is 1280: GUE in outer
	 * fragments. */
	start(&s, "front-gue");
	mk(&in, 6, PG_UDP, C6, S6, 1280 - 48, false);
	rec(&s, WHOLE, 1, NULL, in.buf, in.len);
	mk(&in, 6, PG_TCP, C6, S6, 1280 - 60, true);
	rec(&s, WHOLE, 1, NULL, in.buf, in.len);
	emit_path(&s, "front-gue", "outer-frag6");

	for (int fam = 4; fam <= 6; fam += 2) {
		start(&s, "back");
		mk(&in, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 200, true);
		memcpy(room + 64, in.buf, in.len);
		addr(fam == 4 ? S4 : S6, sv);
		addr(fam == 4 ? B4 : B6, b);
		h = encap_push_gue(room + 64, in.len, fam, sv, b, 0x1234, false, 6080);
		rec(&s, WHOLE, 1, NULL, h, in.len + (fam == 4 ? 28u : 48u));
		emit_path(&s, "back", fam == 4 ? "gue4" : "gue6");
	}

	/* GUE in two outer fragments, as a front sends an IPv6 packet of at
	 * most 1280 bytes on a narrower path: the back reassembles first. */
	for (int fam = 4; fam <= 6; fam += 2) {
		uint8_t f[PG_BUFSZ];
		uint32_t tl, fl, ohl = fam == 4 ? 20 : 40;

		start(&s, "back");
		mk(&in, 6, PG_UDP, C6, S6, 1280 - 48, false);	/* 1280 bytes in all */
		memcpy(room + 64, in.buf, in.len);
		addr(fam == 4 ? S4 : S6, sv);
		addr(fam == 4 ? B4 : B6, b);
		h = encap_push_gue(room + 64, in.len, fam, sv, b, 0x1234, true, 6080);
		tl = in.len + (fam == 4 ? 28u : 48u);
		fl = frag(f, h, tl, 0, 1000, true);
		rec(&s, FRAG, 1, NULL, f, fl);
		fl = frag(f, h, tl, 1000, tl - ohl - 1000, false);
		rec(&s, FRAG, 1, NULL, f, fl);
		emit_path(&s, "back", fam == 4 ? "gue-reasm4" : "gue-reasm6");
	}
}

/* UDP segmentation for GUE: a front whose TUN takes UDP GSO (FZ_R_USO)
 * with a TCP super-packet for b1; and a back given a UDP GSO packet of
 * GUE, as a front makes it (one flow's segments back to back) and as it
 * cannot be coalesced (a segment's checksum wrong: taken apart). */
static void path_uso(void)
{
	static uint8_t room[IO_HEADROOM + IO_BUF_SIZE];
	uint8_t sv[16], b[16], *h;
	struct io_offload off;
	struct pkt_view v;
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		unsigned hl = fam == 4 ? 20 : 40, next = 0, k;
		int n;

		start(&s, "front-gue");
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 3000, true);
		p.buf[hl + 13] = 0x18;	/* ACK PSH: a bulk transfer's */
		pg_recompute(&p);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .gso_type = fam == 4 ? 1 : 4,
					   .csum_start = (uint16_t)hl, .csum_offset = 16, .gso_size = 1000,
					   .hdr_len = (uint16_t)(hl + 20) };
		rec(&s, FZ_R_USO | FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, &off, p.buf, p.len);
		emit_path(&s, "front-gue", fam == 4 ? "uso4" : "uso6");

		/* The back: the same segments, as one UDP GSO packet. */
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 3000, true);
		p.buf[hl + 13] = 0x18;
		pg_recompute(&p);
		if (pkt_parse(p.buf, p.len, &v) != MSLB_OK)
			die("uso: parse");
		n = gso_pack(&v, &off, &next, room + IO_HEADROOM, IO_BUF_SIZE - 64, &k);
		if (n <= 0 || k != 3)
			die("uso: gso_pack");
		addr(fam == 4 ? S4 : S6, sv);
		addr(fam == 4 ? B4 : B6, b);
		h = encap_push_gue_partial(room + IO_HEADROOM, (uint32_t)n, fam, sv, b, 0x1234, 6080);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .gso_type = 5, .csum_start = (uint16_t)hl,
					   .csum_offset = 6, .gso_size = (uint16_t)(hl + 20 + 1000),
					   .hdr_len = (uint16_t)(hl + 8) };
		start(&s, "back");
		rec(&s, 0, 1, &off, h, (uint32_t)n + hl + 8);
		/* One byte of the second segment's payload changed: its TCP
		 * checksum is wrong, so the datagrams go one by one. */
		h[hl + 8 + (hl + 20 + 1000) + hl + 20 + 7] ^= 0x5a;
		rec(&s, 0, 1, &off, h, (uint32_t)n + hl + 8);
		emit_path(&s, "back", fam == 4 ? "uso4" : "uso6");
	}
}

/* UDP-tunnel GSO: a front whose output takes UDP-tunnel super-packets
 * (FZ_R_TNL) with a TCP super-packet for b1, sent whole in GUE (with UDP
 * segmentation as well, which it comes before); and a back given such a
 * packet with the kernel's metadata, the inner checksum partial: taken
 * apart whole, then with its outer offsets wrong (refused). */
static void path_tnl(void)
{
	static uint8_t room[IO_HEADROOM + IO_BUF_SIZE];
	uint8_t sv[16], b[16], *h;
	struct io_offload off;
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		unsigned hl = fam == 4 ? 20 : 40, ovh = fam == 4 ? 28 : 48;

		start(&s, "front-gue");
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 3000, true);
		p.buf[hl + 13] = 0x18;
		pg_recompute(&p);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM, .gso_type = fam == 4 ? 1 : 4,
					   .csum_start = (uint16_t)hl, .csum_offset = 16, .gso_size = 1000,
					   .hdr_len = (uint16_t)(hl + 20) };
		rec(&s, FZ_R_TNL | FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, &off, p.buf, p.len);
		rec(&s, FZ_R_TNL | FZ_R_USO | FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, &off, p.buf, p.len);
		emit_path(&s, "front-gue", fam == 4 ? "tnl4" : "tnl6");

		/* The back: the same super-packet whole in GUE. */
		memcpy(room + IO_HEADROOM, p.buf, p.len);
		addr(fam == 4 ? S4 : S6, sv);
		addr(fam == 4 ? B4 : B6, b);
		h = encap_push_gue_partial(room + IO_HEADROOM, p.len, fam, sv, b, 0x1234, 6080);
		off = (struct io_offload){ .flags = IO_OFF_NEEDS_CSUM | IO_OFF_TNL_CSUM,
					   .gso_type = (uint8_t)((fam == 4 ? 1 : 4) |
								 (fam == 4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6)),
					   .csum_start = (uint16_t)(ovh + hl), .csum_offset = 16, .gso_size = 1000,
					   .hdr_len = (uint16_t)(ovh + hl + 20), .outer_th = (uint16_t)(ovh - 8),
					   .inner_nh = (uint16_t)ovh };
		start(&s, "back");
		rec(&s, FZ_FIX_PARTIAL + 1, 1, &off, h, p.len + ovh);
		off.outer_th++;
		rec(&s, FZ_FIX_PARTIAL + 1, 1, &off, h, p.len + ovh);
		emit_path(&s, "back", fam == 4 ? "tnl4" : "tnl6");
	}
}

/* Tunnel packets from osrc to odst carrying inner from isrc to idst:
 * whole, and in two outer fragments. */
static void path_tunnel(const char *conf, const char *osrc4, const char *odst4, const char *osrc6,
			const char *odst6, const char *isrc4, const char *idst4, const char *isrc6, const char *idst6)
{
	uint8_t t[PG_BUFSZ], f[PG_BUFSZ];
	struct pg_pkt in;
	struct seed s;
	uint32_t tl, fl;

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *os = fam == 4 ? osrc4 : osrc6, *od = fam == 4 ? odst4 : odst6;
		unsigned hl = fam == 4 ? 20 : 40;

		start(&s, conf);
		mk(&in, fam, PG_TCP, fam == 4 ? isrc4 : isrc6, fam == 4 ? idst4 : idst6, 60, true);
		tl = encap(t, os, od, in.buf, in.len);
		rec(&s, WHOLE, 1, NULL, t, tl);
		/* The other family inside. */
		mk(&in, fam == 4 ? 6 : 4, PG_UDP, fam == 4 ? isrc6 : isrc4, fam == 4 ? idst6 : idst4, 60, false);
		tl = encap(t, os, od, in.buf, in.len);
		rec(&s, WHOLE, 1, NULL, t, tl);
		/* A partial inner checksum (offloads). */
		mk(&in, fam, PG_UDP, fam == 4 ? isrc4 : isrc6, fam == 4 ? idst4 : idst6, 200, true);
		tl = encap(t, os, od, in.buf, in.len);
		rec(&s, FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, NULL, t, tl);
		emit_path(&s, conf, fam == 4 ? "tunnel4" : "tunnel6");

		start(&s, conf);
		mk(&in, fam, PG_UDP, fam == 4 ? isrc4 : isrc6, fam == 4 ? idst4 : idst6, 1500, false);
		tl = encap(t, os, od, in.buf, in.len);
		fl = frag(f, t, tl, 0, 1000, true);
		rec(&s, FRAG, 1, NULL, f, fl);
		fl = frag(f, t, tl, 1000, tl - hl - 1000, false);
		rec(&s, FRAG, 1, NULL, f, fl);
		/* And one that never completes, then times out. */
		fl = frag(f, t, tl, 0, 1000, true);
		f[fam == 4 ? 5 : 47] ^= 1;
		if (fam == 4)
			fz_ip4_csum_set(f);
		rec(&s, FRAG, 1, NULL, f, fl);
		rec(&s, WHOLE, 130, NULL, t, tl);
		emit_path(&s, conf, fam == 4 ? "reasm4" : "reasm6");
	}
}

/* Server replies at a back with a return tunnel: into the tunnel, too big
 * for it, with a partial checksum, and a route MTU that shrinks it. */
static void path_return(const char *conf)
{
	uint8_t mtu[3] = { FZ_MTU_RETURN, 0x04, 0xb0 };
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		start(&s, conf);
		mk(&p, fam, PG_TCP, fam == 4 ? S4 : S6, fam == 4 ? C4 : C6, 300, true);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		rec(&s, FZ_R_FIX_LEN | (FZ_FIX_PARTIAL + 1), 1, NULL, p.buf, p.len);
		mk(&p, fam, PG_UDP, fam == 4 ? S4 : S6, fam == 4 ? C4 : C6, 1480, fam == 4);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		mtu[0] = (uint8_t)(FZ_MTU_RETURN | (fam == 6 ? FZ_MTU_V6 : 0));
		rec(&s, FZ_R_MTU, 1, NULL, mtu, 3);
		mk(&p, fam, PG_UDP, fam == 4 ? S4 : S6, fam == 4 ? C4 : C6, 1200, false);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "return4" : "return6");
	}
}

static void mptcp(const char *conf)
{
	static const uint16_t ports[] = { 80, 443, 1002, 1003, 9999 };
	struct pg_pkt p;
	struct seed s;

	start(&s, conf);
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int fam = i & 1 ? 6 : 4;

		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 20, true);
		fz_put16(p.buf + p.l3len + 2, ports[i]);
		pg_recompute(&p);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
	}
	emit_path(&s, conf, "ports");
}

/* Proposal 2: MP_CAPABLE and MP_JOIN SYNs, ACKs with timestamps (a
 * bucket, the hash value), a plain SYN; at a back, a SYN with option 96. */
static void tcp_opts(struct pg_pkt *p, uint8_t flags, const uint8_t *o, unsigned olen)
{
	uint8_t *tcp = p->buf + p->l3len;

	tcp[12] = (uint8_t)((5 + olen / 4) << 4);
	tcp[13] = flags;
	memcpy(tcp + 20, o, olen);
	pg_recompute(p);
}

static void p2(const char *conf)
{
	static const uint8_t capable[] = { 30, 4, 0x01, 0x81, 1, 1, 1, 1 };
	static const uint8_t join[] = { 30, 12, 0x10, 0, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4 };
	static const uint8_t ts[] = { 1, 1, 8, 10, 0, 0, 0x40, 0x01, 0x12, 0x34, 0x56, 0x78 };
	static const uint8_t ts_hash[] = { 1, 1, 8, 10, 0, 0, 0x40, 0x01, 0, 0, 0x3f, 0xff };
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		start(&s, conf);
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 8, true);
		fz_put16(p.buf + p.l3len + 2, 80);
		tcp_opts(&p, 0x02, capable, sizeof(capable));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 12, true);
		fz_put16(p.buf + p.l3len + 2, 80);
		tcp_opts(&p, 0x02, join, sizeof(join));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		mk(&p, fam, PG_TCP, fam == 4 ? C4 : C6, fam == 4 ? S4 : S6, 12, true);
		fz_put16(p.buf + p.l3len + 2, 443);
		tcp_opts(&p, 0x10, ts, sizeof(ts));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		tcp_opts(&p, 0x18, ts_hash, sizeof(ts_hash));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "p2-4" : "p2-6");
	}
}

static void p2_back(const char *conf)
{
	static const uint8_t opt96[] = { 96, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 198, 51, 100, 13 };
	static const uint8_t capable[] = { 30, 4, 0x01, 0x81, 1, 1, 1, 1 };
	struct pg_pkt p;
	struct seed s;

	start(&s, conf);
	mk(&p, 4, PG_TCP, C4, B4, 8, true);
	tcp_opts(&p, 0x02, capable, sizeof(capable));
	{
		/* Option 96 after the fixed header: move the rest on. */
		uint8_t b[PG_BUFSZ];
		unsigned n = p.len + sizeof(opt96);

		memcpy(b, p.buf, 20);
		memcpy(b + 20, opt96, sizeof(opt96));
		memcpy(b + 20 + sizeof(opt96), p.buf + 20, p.len - 20);
		b[0] = 0x49;
		fz_put16(b + 2, (uint16_t)n);
		fz_ip4_csum_set(b);
		rec(&s, WHOLE, 1, NULL, b, n);
	}
	emit_path(&s, conf, "p2-syn");
}

/* Proposal 2 key translation at a back (lb_p2keys.c): a whole MPTCP
 * connection whose fields are right, so that the fuzzer starts where each
 * rewrite happens. K_lb (the front's, in option 96), K_srv, K_cli fixed. */
static const uint8_t k_lb[8] = { 0x4b, 0x5f, 0x6c, 0x62, 0x01, 0x02, 0x03, 0x04 };
static const uint8_t k_srv[8] = { 0x4b, 0x5f, 0x73, 0x72, 0x76, 0x05, 0x06, 0x07 };
static const uint8_t k_cli[8] = { 0x4b, 0x5f, 0x63, 0x6c, 0x69, 0x08, 0x09, 0x0a };

/* A TCP segment from src:sport to dst:dport, options o (olen bytes, a
 * multiple of 4), then plen bytes of payload. */
static void tcp_seg(struct pg_pkt *p, int fam, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		    uint8_t flags, const uint8_t *o, unsigned olen, unsigned plen)
{
	mk(p, fam, PG_TCP, src, dst, olen + plen, true);
	fz_put16(p->buf + p->l3len, sport);
	fz_put16(p->buf + p->l3len + 2, dport);
	tcp_opts(p, flags, o, olen);
}

/* p with the front's option (kind, key, the alternate alt) put in, as
 * the front sends it to the back: at out, its length returned. */
static uint32_t with_p2opt(uint8_t *out, const struct pg_pkt *p, uint8_t kind, const char *alt)
{
	uint8_t room[P2OPT_GROW_MAX + PG_BUFSZ], *h;
	struct p2opt o = { .kind = kind };
	uint32_t len = p->len;
	unsigned grow;

	if (kind == P2OPT_CAPABLE)
		memcpy(o.key, k_lb, 8);
	addr(alt, o.alt);
	memcpy(room + P2OPT_GROW_MAX, p->buf, p->len);
	h = p2opt_insert(room + P2OPT_GROW_MAX, &len, &o, &grow);
	if (!h) {
		fprintf(stderr, "seedgen: no room for option %u\n", kind);
		exit(1);
	}
	memcpy(out, h, len);
	return len;
}

static void put32(uint8_t *p, uint32_t v)
{
	fz_put16(p, (uint16_t)(v >> 16));
	fz_put16(p + 2, (uint16_t)v);
}

/* The first n bytes of HMAC(k1 || k2, n1 || n2) (MP_JOIN). */
static void join_hmac(const uint8_t *k1, const uint8_t *k2, uint32_t n1, uint32_t n2, uint8_t *out, unsigned n)
{
	uint8_t msg[8], h[32];

	put32(msg, n1);
	put32(msg + 4, n2);
	mptcpopt_hmac(k1, k2, msg, 8, h);
	memcpy(out, h, n);
}

/* The SYN with option 96, the SYN/ACK with K_srv, the third ACK, the
 * server's data (DSS with a checksum), a data ACK with an ADD_ADDR, a
 * join (SYN with option 97, SYN/ACK, third ACK, HMACs right), the
 * server's ADD_ADDR with a 4-byte DSN, MP_FAIL, MP_FASTCLOSE. */
static void p2_keys(const char *conf)
{
	const uint32_t rc = 0x11223344, rs = 0x55667788;
	uint8_t o[40], b[PG_BUFSZ];
	struct pg_pkt p;
	struct seed s;
	uint32_t tok;
	uint64_t idsn_lb, idsn_srv;

	mptcpopt_token_idsn(k_lb, &tok, &idsn_lb);
	mptcpopt_token_idsn(k_srv, NULL, &idsn_srv);
	for (int fam = 4; fam <= 6; fam += 2) {
		const char *c = fam == 4 ? C4 : C6, *bk = fam == 4 ? B4 : B6, *sv = fam == 4 ? S4 : S6;
		unsigned alen = fam == 4 ? 4 : 16, n;
		uint8_t a[16], h[32], ph[16];
		uint16_t sum;

		addr(fam == 4 ? "192.0.2.77" : "2001:db8:c1::77", a);
		start(&s, conf);
		/* MP_CAPABLE SYN, the front's option: the back itself the alternate. */
		tcp_seg(&p, fam, c, bk, 40000, 80, 0x02, (const uint8_t[]){ 30, 4, 0x01, 0x81, 1, 1, 1, 1 }, 8, 0);
		rec(&s, WHOLE, 1, NULL, b, with_p2opt(b, &p, P2OPT_CAPABLE, bk));
		/* SYN/ACK: MP_CAPABLE K_srv, NOP NOP TS. */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x01, 0x81 }, 4);
		memcpy(o + 4, k_srv, 8);
		memcpy(o + 12, (const uint8_t[]){ 1, 1, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0 }, 12);
		tcp_seg(&p, fam, sv, c, 80, 40000, 0x12, o, 24, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* Third ACK: K_cli, K_lb. */
		memcpy(o, (const uint8_t[]){ 30, 20, 0x01, 0x81 }, 4);
		memcpy(o + 4, k_cli, 8);
		memcpy(o + 12, k_lb, 8);
		tcp_seg(&p, fam, c, bk, 40000, 80, 0x10, o, 20, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* The server's data: DSS A a M m, its checksum right. */
		memcpy(o, (const uint8_t[]){ 30, 28, 0x20, 0x0f }, 4);
		mptcpopt_put64(o + 4, idsn_lb + 1);
		mptcpopt_put64(o + 12, idsn_srv + 1);
		put32(o + 20, 1);
		fz_put16(o + 24, 40);
		fz_put16(o + 26, 0);
		tcp_seg(&p, fam, sv, c, 80, 40000, 0x18, o, 28, 40);
		/* Over the DSN, the subflow sequence number, the length, a
		 * zero checksum, then the payload (RFC 8684 3.3.1). */
		memcpy(ph, o + 12, 14);
		ph[14] = ph[15] = 0;
		sum = (uint16_t)~ref_fold(ref_sum(ref_sum(0, ph, 16), p.buf + p.len - 40, 40));
		fz_put16(p.buf + p.l3len + 20 + 26, sum);
		pg_recompute(&p);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* A data ACK of it, and an ADD_ADDR signed with K_cli || K_lb. */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x20, 0x03 }, 4);
		mptcpopt_put64(o + 4, idsn_lb + 41);
		n = 4 + alen + 8;
		o[12] = 30;
		o[13] = (uint8_t)n;
		o[14] = 0x30;
		o[15] = 5;
		memcpy(o + 16, a, alen);
		{
			uint8_t msg[19] = { 5 };

			memcpy(msg + 1, a, alen);
			mptcpopt_hmac(k_cli, k_lb, msg, 1 + alen + 2, h);
		}
		memcpy(o + 16 + alen, h + 24, 8);
		tcp_seg(&p, fam, c, bk, 40000, 80, 0x10, o, 12 + n, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* The join: SYN with token(K_lb) and option 97. */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x10, 2 }, 4);
		put32(o + 4, tok);
		put32(o + 8, rc);
		tcp_seg(&p, fam, c, bk, 40001, 80, 0x02, o, 12, 0);
		rec(&s, WHOLE, 1, NULL, b, with_p2opt(b, &p, P2OPT_JOIN, bk));
		/* SYN/ACK: HMAC(K_srv || K_cli, Rs || Rc), Rs. */
		memcpy(o, (const uint8_t[]){ 30, 16, 0x10, 2 }, 4);
		join_hmac(k_srv, k_cli, rs, rc, o + 4, 8);
		put32(o + 12, rs);
		tcp_seg(&p, fam, sv, c, 80, 40001, 0x12, o, 16, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* Third ACK: HMAC(K_cli || K_lb, Rc || Rs). */
		memcpy(o, (const uint8_t[]){ 30, 24, 0x10, 0 }, 4);
		join_hmac(k_cli, k_lb, rc, rs, o + 4, 20);
		tcp_seg(&p, fam, c, bk, 40001, 80, 0x10, o, 24, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* The server's ADD_ADDR (with a port) and a 4-byte DSN mapping. */
		memcpy(o, (const uint8_t[]){ 30, 18, 0x30, 6, 198, 51, 100, 99, 0x1f, 0x90 }, 10);
		{
			uint8_t msg[7] = { 6, 198, 51, 100, 99, 0x1f, 0x90 };

			mptcpopt_hmac(k_srv, k_cli, msg, 7, h);
		}
		memcpy(o + 10, h + 24, 8);
		memcpy(o + 18, (const uint8_t[]){ 30, 14, 0x20, 0x04 }, 4);
		put32(o + 22, (uint32_t)idsn_srv + 41);
		put32(o + 26, 41);
		fz_put16(o + 30, 8);
		memset(o + 32, 1, 4);
		tcp_seg(&p, fam, sv, c, 80, 40001, 0x18, o, 36, 8);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		/* MP_FAIL (a DSN of the server's data), then MP_FASTCLOSE (K_lb). */
		memcpy(o, (const uint8_t[]){ 30, 12, 0x60, 0 }, 4);
		mptcpopt_put64(o + 4, idsn_lb + 41);
		tcp_seg(&p, fam, c, bk, 40001, 80, 0x10, o, 12, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		memcpy(o, (const uint8_t[]){ 30, 12, 0x70, 0 }, 4);
		memcpy(o + 4, k_lb, 8);
		tcp_seg(&p, fam, c, bk, 40000, 80, 0x14, o, 12, 0);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "keys4" : "keys6");
	}
}

/* Health: a probe of b1 steered (TCP from the client's address and port
 * 4242, which the table sends to b2), then b2 taken out (its entry falls
 * to its backup) and brought back. */
static void health(const char *conf)
{
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *c = fam == 4 ? C4 : C6, *sv = fam == 4 ? S4 : S6;
		uint8_t h[20] = { 0, FZ_H_USABLE | FZ_H_PROBE | (fam == 6 ? FZ_H_V6 : 0), 0x10, 0x92 };
		uint8_t out[4] = { 1, 0, 0, 0 }, in[4] = { 1, FZ_H_USABLE, 0, 0 };

		start(&s, conf);
		addr(c, h + 4);
		rec(&s, FZ_R_HEALTH, 0, NULL, h, sizeof(h));
		mk(&p, fam, PG_TCP, c, sv, 40, true);
		pg_put16(p.buf + p.l3len, 4242);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		rec(&s, FZ_R_HEALTH, 1, NULL, out, sizeof(out));
		mk(&p, fam, PG_UDP, c, sv, 40, true);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		rec(&s, FZ_R_HEALTH, 1, NULL, in, sizeof(in));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		emit_path(&s, conf, fam == 4 ? "probe4" : "probe6");
	}
}

/* Persistence at a back (back-persist): a flow marked with peer b2 is
 * handed there and its next, unmarked packet follows; a marked SYN and a
 * UDP flow seen unmarked first stay; a packet from the peer is delivered.
 * At a front (front-health): b2 taken out, then a client's packets that
 * move carry the mark. */
static void persist(void)
{
	uint8_t b[P2OPT_GROW_MAX + PG_BUFSZ];
	static const uint8_t none[4];
	struct pg_pkt p;
	struct seed s;

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *c = fam == 4 ? C4 : C6, *bk = fam == 4 ? B4 : B6, *peer = fam == 4 ? B2_4 : B2_6;
		uint8_t out[4] = { 1, 0, 0, 0 };

		start(&s, "back-persist");
		tcp_seg(&p, fam, c, bk, 40000, 80, 0x10, none, 0, 20);
		rec(&s, WHOLE, 1, NULL, b, with_p2opt(b, &p, P2OPT_PREV, peer));
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		tcp_seg(&p, fam, c, bk, 40001, 80, 0x02, none, 0, 0);
		rec(&s, WHOLE, 1, NULL, b, with_p2opt(b, &p, P2OPT_PREV, peer));
		mk(&p, fam, PG_UDP, c, bk, 30, true);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		rec(&s, WHOLE, 200, NULL, b, with_p2opt(b, &p, P2OPT_PREV, peer));
		emit_path(&s, "back-persist", fam == 4 ? "persist4" : "persist6");

		start(&s, "front-health");
		rec(&s, FZ_R_HEALTH, 1, NULL, out, sizeof(out));
		for (unsigned i = 0; i < 8; i++) {
			mk(&p, fam, PG_UDP, c, fam == 4 ? S4 : S6, 40, true);
			p.buf[pg_dst_off(&p) - 1] = (uint8_t)(0x40 + i);	/* the source's last byte */
			pg_recompute(&p);
			rec(&s, WHOLE, 1, NULL, p.buf, p.len);
		}
		emit_path(&s, "front-health", fam == 4 ? "mark4" : "mark6");
	}
}

static void gen_path(void)
{
	struct seed s;
	uint8_t mtu[3] = { 0, 0x05, 0x00 };

	path_front("front-translate", 1400);
	path_front("front-encap-mtu", 1400);
	path_offload("front-encap-mtu");
	path_offload("front-translate");
	path_icmp_tunnel("front-encap-mtu");
	path_front("front-mptcp", 200);
	mptcp("front-mptcp");
	mptcp("front-mptcp-encap");
	p2("front-p2");
	p2("front-p2-encap");
	p2_back("back");
	path_tunnel("back-return", S4, B4, S6, B6, C4, S4, C6, S6);
	path_tunnel("front-stage2", S4, F2_4, S6, F2_6, C4, S4, C6, S6);
	path_tunnel("front-stage2-translate", S4, F2_4, S6, F2_6, C4, S4, C6, S6);
	path_tunnel("return-endpoint", B4, E4, B6, E6, S4, C4, S6, C6);
	path_return("back-return");
	/* A route MTU record, then a packet through it. */
	start(&s, "front-translate");
	rec(&s, FZ_R_MTU, 0, NULL, mtu, 3);
	{
		struct pg_pkt p;

		mk(&p, 4, PG_UDP, C4, S4, 1400, true);
		rec(&s, WHOLE, 1, NULL, p.buf, p.len);
	}
	emit_path(&s, "front-translate", "route-mtu");
	/* Last: the seeds above keep their bytes (the generator's sequence). */
	p2_back("back-p2");
	p2_keys("back-p2");
	health("front-health");
	persist();
	path_front("front-gue", 1400);
	path_offload("front-gue");
	path_gue();
	path_uso();
	path_tnl();
}

/* ---- fuzz_pkt inputs --------------------------------------------------- */

static void gen_pkt(void)
{
	static const uint8_t protos[] = { PG_TCP, PG_UDP, PG_ICMP, PG_ICMPV6, PG_DCCP, PG_UDPLITE, PG_ESP };
	uint8_t b[4 + PG_BUFSZ];
	struct pg_pkt p, f;
	char name[64];
	unsigned k = 0;

	for (int fam = 4; fam <= 6; fam += 2)
		for (unsigned i = 0; i < sizeof(protos); i++)
			for (unsigned j = 0; j < 3; j++) {
				struct pg_spec s;

				pg_spec_init(&s, fam, protos[i]);
				if (j)
					pg_spec_random(&s, &rng);
				if (s.payload > 200)
					s.payload = 200;
				pg_build(&p, &s, &rng);
				fz_put16(b, p.l3len);
				fz_put16(b + 2, (uint16_t)pg_csum_field(protos[i]));
				memcpy(b + 4, p.buf, p.len);
				snprintf(name, sizeof(name), "v%d-p%u-%u", fam, protos[i], j);
				put("fuzz_pkt", name, b, 4 + p.len);
				if (j == 2) {
					pg_fragment(&p, 8, p.len - p.l3len > 16 ? 8 : 0, true, &f);
					memcpy(b + 4, f.buf, f.len);
					snprintf(name, sizeof(name), "v%d-p%u-frag", fam, protos[i]);
					put("fuzz_pkt", name, b, 4 + f.len);
				}
				k++;
			}
	(void)k;
}

/* ---- fuzz_config inputs ------------------------------------------------ */

static void copy_file(const char *srcdir, const char *rel, const char *name)
{
	static char buf[65536];
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	f = fopen(path, "rb");
	if (!f)
		die(path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	put("fuzz_config", name, buf, n);
}

static void gen_config(const char *srcdir)
{
	static const char *const files[] = {
		"mslb.conf",
		"examples/figure3-basic.conf",
		"examples/figure3-basic-back.conf",
		"examples/figure4-multistage-front1.conf",
		"examples/figure4-multistage-front2.conf",
		"examples/figure5-one-arm.conf",
		"examples/figure12-return-tunnel-back.conf",
		"examples/figure12-return-endpoint.conf",
	};
	static const char *const refusals[] = {
		"front = {\n  services = [ 1, ;\n",
		"frnot = { };\nback = { addresses = ( ); };\n",
		"front = { services = [ \"a\\nb\" ]; };\n",
		("back = { addresses = ( { address = \"198.51.100.11\"; service = 7; } );\n"
		 "  reassembly = { memory = 1; timeout = 0; }; };\n"),
		/* A redirect group (its key file does not exist here). */
		("back = { addresses = ( { address = \"198.51.100.11\"; service = \"203.0.113.10\"; },\n"
		 "  { address = \"2001:db8:b::11\"; service = \"2001:db8:5::10\"; } ); };\n"
		 "redirect = {\n  address = \"198.51.100.61\";\n  port = 4771;\n"
		 "  key_file = \"/nonexistent/mslb/redirect.key\";\n"
		 "  rule_ttl = 60; max_rules = 65536; max_rules_per_peer = 1024;\n"
		 "  rate = 2000; burst = 4000; global_rate = 20000;\n  peers = (\n"
		 "    { name = \"b2\"; address = \"198.51.100.62\"; tunnel = [ \"198.51.100.12\", \"2001:db8:b::12\" ]; },\n"
		 "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; }\n  );\n};\n"),
	};
	/* The redirect key file format (the target parses every input as one
	 * too): two keys, the first signs; and a line of each problem. */
	static const char *const keys[] = {
		("# the first key signs\n"
		 "7 00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n"
		 "\n  3\tffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100  \r\n"),
		("x\n256 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		 "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\n"
		 "1 0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		 "2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff trailing\n"
		 "2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		 "2 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n3\n"),
	};
	char rel[256], name[128];

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(name, sizeof(name), "keys-%u", i);
		put("fuzz_config", name, keys[i], strlen(keys[i]));
	}
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *base = strrchr(files[i], '/');

		snprintf(rel, sizeof(rel), "etc/%s", files[i]);
		snprintf(name, sizeof(name), "etc-%s", base ? base + 1 : files[i]);
		copy_file(srcdir, rel, name);
	}
	for (unsigned i = 0; i < fz_n_confs; i++) {
		snprintf(name, sizeof(name), "path-%s.conf", fz_confs[i].name);
		put("fuzz_config", name, fz_confs[i].text, strlen(fz_confs[i].text));
	}
	/* Refusals: each kind of error line. */
	for (unsigned i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		snprintf(name, sizeof(name), "err-%u.conf", i);
		put("fuzz_config", name, refusals[i], strlen(refusals[i]));
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seedgen OUTDIR SRCDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		die(outdir);
	pg_seed(&rng, 0xf0221);
	gen_pkt();
	gen_path();
	gen_config(argv[2]);
	return 0;
}
