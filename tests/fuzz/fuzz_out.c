/* fuzz_out: checks on every packet lb_process_pkt returns or emits. The
 * packet is copied into a heap block of exactly its length first, so
 * AddressSanitizer also catches a length that runs past what the data
 * path really wrote, and the parse that follows reads nothing beyond. */
#include "fuzz_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/csum.h"
#include "net/gso.h"
#include "net/pkt.h"

#define FZ_MAX_IP_LEN (40u + 65535u)

static void check_out(struct fz_run *r, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		      const char *what);

/* The innermost TCP segment of p[0..len), through IP-in-IP and GUE: false
 * for anything else, a fragment among them. */
static bool inner_tcp(const uint8_t *p, uint32_t len, struct fz_tcp *t)
{
	for (int depth = 0; depth <= 4; depth++) {
		struct fz_ip ip;
		unsigned doff;

		if (!fz_ip_walk(p, len, &ip) || ip.fragment || ip.rt_pending || ip.len > len || ip.len < ip.l3len)
			return false;
		if (ip.proto == 4 || ip.proto == 41 || fz_is_gue(p, ip.len)) {
			unsigned skip = ip.l3len + (ip.proto == 17 ? 8u : 0u);

			if (ip.len < skip)
				return false;
			len = ip.len - skip;
			p += skip;
			continue;
		}
		if (ip.proto != 6 || ip.len < ip.l3len + 20)
			return false;
		doff = (p[ip.l3len + 12] >> 4) * 4u;
		if (doff < 20 || ip.l3len + doff > ip.len)
			return false;
		t->sport = fz_get16(p + ip.l3len);
		t->dport = fz_get16(p + ip.l3len + 2);
		t->seq = (uint32_t)p[ip.l3len + 4] << 24 | (uint32_t)p[ip.l3len + 5] << 16 |
			 (uint32_t)p[ip.l3len + 6] << 8 | p[ip.l3len + 7];
		t->payload = p + ip.l3len + doff;
		t->n = ip.len - ip.l3len - doff;
		return true;
	}
	return false;
}

/* A TCP segment let out of the packet being processed carries its bytes:
 * where the sequence numbers meet, the payloads agree. */
static void check_payload(const struct fz_run *r, const uint8_t *pkt, uint32_t len, const char *what)
{
	struct fz_tcp o;
	uint32_t at, n;

	if (!r->in_tcp || !inner_tcp(pkt, len, &o) || o.sport != r->tcp.sport || o.dport != r->tcp.dport)
		return;
	at = o.seq - r->tcp.seq;	/* modulo 2^32, as sequence numbers go */
	if (at >= r->tcp.n || !o.n)
		return;
	n = o.n < r->tcp.n - at ? o.n : r->tcp.n - at;
	FUZZ_CHECK(!memcmp(o.payload, r->tcp.payload + at, n),
		   "%s packet: TCP payload at sequence %u (%u bytes) differs from the input's", what, o.seq, n);
}

struct fz_cut {
	struct fz_run *r;
	const char *what;
	unsigned n;
};

static void check_cut(void *ctx, uint8_t *seg, uint32_t len)
{
	struct fz_cut *c = ctx;
	char what[64];

	snprintf(what, sizeof(what), "%s (datagram %u of a UDP GSO packet)", c->what, c->n++);
	check_out(c->r, seg, len, NULL, what);
}

/* A UDP GSO packet (a GUE super-packet): its checksum field holds the
 * pseudo-header sum over its whole length, and the datagrams the kernel
 * cuts from it (gso_segment does the same) each keep every invariant. */
static void check_uso(struct fz_run *r, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		      const char *what)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE], out[IO_HEADROOM + IO_BUF_SIZE];
	struct fz_cut c = { r, what, 0 };
	struct pkt_view v;
	uint32_t ulen;
	uint16_t want;
	int n;

	FUZZ_CHECK(len <= IO_BUF_SIZE, "%s UDP GSO packet of %u bytes", what, len);
	memcpy(buf + IO_HEADROOM, pkt, len);
	FUZZ_CHECK(pkt_parse(buf + IO_HEADROOM, len, &v) == MSLB_OK && v.len == len && v.l4proto == 17 && v.l4off,
		   "%s UDP GSO packet does not parse as UDP", what);
	FUZZ_CHECK((off->flags & IO_OFF_NEEDS_CSUM) && off->csum_start == v.l4off && off->csum_offset == 6 &&
			   off->hdr_len == v.l4off + 8u && off->gso_size > 0,
		   "%s UDP GSO packet: metadata %u+%u, header %u, size %u; its UDP header is at %u", what,
		   off->csum_start, off->csum_offset, off->hdr_len, off->gso_size, v.l4off);
	ulen = len - v.l4off;
	want = (uint16_t)~csum_finish(csum_pseudo(v.data, ulen, 17));
	FUZZ_CHECK(fz_get16(v.data + v.l4off + 6) == want, "%s UDP GSO packet: checksum field 0x%04x, pseudo-header sum 0x%04x",
		   what, fz_get16(v.data + v.l4off + 6), want);
	FUZZ_CHECK(v.len - v.l4off - 8u > off->gso_size, "%s UDP GSO packet of one datagram", what);
	n = gso_segment(&v, off, out + IO_HEADROOM, check_cut, &c);
	FUZZ_CHECK(n > 1, "%s UDP GSO packet: gso_segment says %d", what, n);
}

/* The datagrams the kernel cuts from a UDP-tunnel super-packet: each inner
 * segment behind a copy of the outer headers, their lengths its own, the
 * outer UDP checksum finished. */
struct fz_tnl_cut {
	struct fz_run *r;
	const char *what;
	const uint8_t *outer;	/* the super-packet's outer IP and UDP headers */
	unsigned nh;		/* their length: where the inner packet starts */
	unsigned n;
};

static void check_tnl_cut(void *ctx, uint8_t *seg, uint32_t len)
{
	static uint8_t d[IO_BUF_SIZE];
	struct fz_tnl_cut *c = ctx;
	unsigned th = c->nh - 8;
	uint32_t dlen = c->nh + len;
	bool v4 = c->outer[0] >> 4 == 4;
	uint64_t acc;
	uint16_t sum;
	char what[80];

	snprintf(what, sizeof(what), "%s (datagram %u of a UDP-tunnel GSO packet)", c->what, c->n++);
	FUZZ_CHECK(dlen <= sizeof(d), "%s: %u bytes", what, dlen);
	memcpy(d, c->outer, c->nh);
	memcpy(d + c->nh, seg, len);
	if (v4) {
		fz_put16(d + 2, (uint16_t)dlen);
		fz_put16(d + 4, (uint16_t)(fz_get16(d + 4) + c->n - 1));
		fz_ip4_csum_set(d);
	} else {
		fz_put16(d + 4, (uint16_t)(dlen - 40));
	}
	fz_put16(d + th + 4, (uint16_t)(dlen - th));
	fz_put16(d + th + 6, 0);
	acc = fz_sum(0, d + (v4 ? 12 : 8), v4 ? 8 : 32) + (dlen - th) + 17;
	sum = (uint16_t)~fz_fold(fz_sum(acc, d + th, dlen - th));
	fz_put16(d + th + 6, sum ? sum : 0xffff);
	check_out(c->r, d, dlen, NULL, what);
}

/* A UDP-tunnel super-packet (a TCP super-packet whole in GUE, the front's
 * with UDP-tunnel GSO): whole IPv4 or IPv6 UDP to the GUE port, the
 * tunnel bit its outer family's, the metadata on its own headers (outer
 * UDP header, inner IP header, inner transport checksum), both checksums left
 * to the device; the outer UDP length field its length and its checksum
 * field the pseudo-header sum over the whole UDP length (reference code,
 * not the data path's); and the datagrams the kernel cuts from it each
 * keep every invariant. */
static void check_tnl(struct fz_run *r, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		      const char *what)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE], out[IO_HEADROOM + IO_BUF_SIZE];
	struct fz_tnl_cut c = { r, what, pkt, 0, 0 };
	unsigned th, nh, type = off->gso_type & ~(IO_GSO_UDP_TUNNEL | VIRTIO_NET_HDR_GSO_ECN), hl;
	struct io_offload in_off;
	struct pkt_view v;
	struct fz_ip ip;
	uint64_t acc;
	bool v4, tcp;
	int n;

	FUZZ_CHECK(len <= IO_BUF_SIZE, "%s UDP-tunnel GSO packet of %u bytes", what, len);
	FUZZ_CHECK(fz_ip_walk(pkt, len, &ip) && !ip.fragment && ip.len == len && ip.proto == 17 &&
			   len >= ip.l3len + 8u,
		   "%s UDP-tunnel GSO packet is not one whole UDP packet (IPv%d, protocol %u, %u of %u bytes)", what,
		   ip.version, ip.proto, ip.len, len);
	v4 = ip.version == 4;
	th = ip.l3len;
	nh = th + 8;
	FUZZ_CHECK(fz_get16(pkt + th + 2) == FZ_GUE_PORT, "%s UDP-tunnel GSO packet to port %u", what,
		   fz_get16(pkt + th + 2));
	FUZZ_CHECK((off->gso_type & IO_GSO_UDP_TUNNEL) == (v4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6),
		   "%s UDP-tunnel GSO packet: type 0x%02x on an IPv%d outer header", what, off->gso_type, ip.version);
	FUZZ_CHECK(off->outer_th == th && off->inner_nh == nh,
		   "%s UDP-tunnel GSO packet: outer_th %u, inner_nh %u; its UDP header is at %u", what, off->outer_th,
		   off->inner_nh, th);
	FUZZ_CHECK((off->flags & (IO_OFF_NEEDS_CSUM | IO_OFF_TNL_CSUM)) == (IO_OFF_NEEDS_CSUM | IO_OFF_TNL_CSUM),
		   "%s UDP-tunnel GSO packet: flags 0x%02x", what, off->flags);
	FUZZ_CHECK(off->gso_size > 0, "%s UDP-tunnel GSO packet of segment size 0", what);
	FUZZ_CHECK(off->csum_start >= nh + 20u && off->csum_start < len &&
			   (uint32_t)off->csum_start + off->csum_offset + 2 <= len,
		   "%s UDP-tunnel GSO packet: checksum at %u+%u, inner header at %u, %u bytes", what, off->csum_start,
		   off->csum_offset, nh, len);
	FUZZ_CHECK(fz_get16(pkt + th + 4) == len - th, "%s UDP-tunnel GSO packet: UDP length %u, %u bytes", what,
		   fz_get16(pkt + th + 4), len - th);
	acc = fz_sum(0, pkt + (v4 ? 12 : 8), v4 ? 8 : 32) + (len - th) + 17;
	FUZZ_CHECK(fz_get16(pkt + th + 6) == fz_fold(acc),
		   "%s UDP-tunnel GSO packet: UDP checksum field 0x%04x, pseudo-header sum 0x%04x", what,
		   fz_get16(pkt + th + 6), fz_fold(acc));
	/* What is inside: a super-packet the kernel can cut (TCP, or UDP
	 * segmentation, which it takes in a tunnel too; never UFO), of the
	 * protocol its type says, its checksum partial. */
	tcp = type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6;
	FUZZ_CHECK(tcp || type == VIRTIO_NET_HDR_GSO_UDP_L4,
		   "%s UDP-tunnel GSO packet: inner GSO type 0x%02x, neither TCP nor UDP segmentation", what,
		   off->gso_type);
	memcpy(buf + IO_HEADROOM, pkt + nh, len - nh);
	FUZZ_CHECK(pkt_parse(buf + IO_HEADROOM, len - nh, &v) == MSLB_OK && v.len == len - nh &&
			   v.l4proto == (tcp ? 6 : 17) && v.l4off + nh == off->csum_start &&
			   off->csum_offset == (tcp ? 16 : 6),
		   "%s UDP-tunnel GSO packet: inner GSO type 0x%02x, the inner packet no %s packet with its checksum "
		   "at %u+%u",
		   what, off->gso_type, tcp ? "TCP" : "UDP", off->csum_start, off->csum_offset);
	hl = off->csum_start + (tcp ? (pkt[off->csum_start + 12] >> 4) * 4u : 8u);
	FUZZ_CHECK(off->hdr_len == hl, "%s UDP-tunnel GSO packet: hdr_len %u, headers %u", what, off->hdr_len, hl);
	in_off = (struct io_offload){
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = (uint8_t)(off->gso_type & ~IO_GSO_UDP_TUNNEL),
		.hdr_len = (uint16_t)(off->hdr_len - nh),
		.gso_size = off->gso_size,
		.csum_start = (uint16_t)(off->csum_start - nh),
		.csum_offset = off->csum_offset,
	};
	c.nh = nh;
	n = gso_segment(&v, &in_off, out + IO_HEADROOM, check_tnl_cut, &c);
	FUZZ_CHECK(n >= 1, "%s UDP-tunnel GSO packet: gso_segment says %d", what, n);
}

/* Only a UDP-tunnel super-packet has the tunnel's metadata. */
static void check_no_tnl(const struct io_offload *off, const char *what)
{
	FUZZ_CHECK(!io_is_tunnel_gso(off) && !(off->flags & IO_OFF_TNL_CSUM) && !off->outer_th && !off->inner_nh,
		   "%s packet: tunnel metadata (type 0x%02x, flags 0x%02x, outer_th %u, inner_nh %u) on no UDP-tunnel "
		   "GSO packet",
		   what, off->gso_type, off->flags, off->outer_th, off->inner_nh);
}

static void check_out(struct fz_run *r, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		      const char *what)
{
	bool partial = off && (off->flags & IO_OFF_NEEDS_CSUM);
	struct fz_verdict ver;
	struct pkt_view v;
	struct fz_ip ip;
	enum mslb_drop d;
	uint8_t *c;

	r->n_out++;
	FUZZ_CHECK(len >= 20 && len <= FZ_MAX_IP_LEN, "%s packet of %u bytes", what, len);
	c = malloc(len);
	FUZZ_CHECK(c, "out of memory");
	memcpy(c, pkt, len);
	FUZZ_CHECK(fz_ip_walk(c, len, &ip), "%s packet: not a whole IP header (version %u, %u bytes)", what,
		   c[0] >> 4, len);
	FUZZ_CHECK(ip.len == len, "%s packet: IP length field says %u, %u bytes sent", what, ip.len, len);
	fz_csum_judge(c, len, partial, &ver);
	FUZZ_CHECK(!r->hdr_ok_all || ver.hdr_ok, "%s packet: an IPv4 header checksum is wrong", what);
	FUZZ_CHECK(r->in_csum != FZ_CSUM_GOOD || ver.csum != FZ_CSUM_BAD,
		   "%s packet: transport checksum wrong (%s), the input's was right (IPv%u, proto %u)", what,
		   partial ? "partial" : "full", ip.version, ip.proto);
	if (partial)
		FUZZ_CHECK(ver.l4off && off->csum_start == ver.l4off &&
				   (unsigned)off->csum_start + off->csum_offset == ver.l4off + ver.field,
			   "%s packet: partial checksum at %u+%u, its transport checksum is at %u+%u", what,
			   off->csum_start, off->csum_offset, ver.l4off, ver.field);
	check_payload(r, c, len, what);
	d = pkt_parse(c, len, &v);
	FUZZ_CHECK(d == MSLB_OK, "%s packet does not parse again: %s", what, mslb_drop_name(d));
	FUZZ_CHECK(v.len == len, "%s packet: parsed length %u, %u bytes sent", what, v.len, len);
	free(c);
}

static void on_emit(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	/* What the data path emits with UDP segmentation is GUE: a UDP
	 * header and the segments it carries, back to back. */
	/* A UDP-tunnel super-packet leaves in place, with the batch: never
	 * emitted. */
	if (off)
		check_no_tnl(off, "emitted");
	if (off && off->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4)
		check_uso(ctx, pkt, len, off, "emitted");
	else
		check_out(ctx, pkt, len, off, "emitted");
}

void fz_run_start(struct fz_run *r, struct mslb_lb *lb)
{
	*r = (struct fz_run){ .lb = lb, .hdr_ok_all = true };
	lb_set_emit(lb, on_emit, r);
}

/* UDP to the GUE port, whatever it carries: a back takes it apart. */
static bool to_gue_port(const uint8_t *p, uint32_t len)
{
	struct fz_ip ip;

	return fz_ip_walk(p, len, &ip) && !ip.fragment && ip.proto == 17 && ip.len >= ip.l3len + 8u &&
	       fz_get16(p + ip.l3len + 2) == FZ_GUE_PORT;
}

struct fz_judged {
	enum fz_csum csum;
	bool hdr_ok;
};

static void judge_cut(void *ctx, uint8_t *seg, uint32_t len)
{
	struct fz_judged *j = ctx;
	struct fz_verdict v;

	fz_csum_judge(seg, len, false, &v);
	if (j->csum == FZ_CSUM_BAD || v.csum == FZ_CSUM_BAD)
		j->csum = FZ_CSUM_BAD;
	else if (v.csum == FZ_CSUM_UNKNOWN)
		j->csum = FZ_CSUM_UNKNOWN;
	j->hdr_ok = j->hdr_ok && v.hdr_ok;
}

/* A GUE super-packet in: the back may take it apart datagram by datagram,
 * so its checksums are right only if every datagram's are (as the kernel
 * cuts them, with their UDP checksums). */
static void uso_judge(struct fz_run *r, const struct io_pkt *p)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE], out[IO_HEADROOM + IO_BUF_SIZE];
	struct fz_judged j = { FZ_CSUM_GOOD, true };
	struct pkt_view v;

	memcpy(buf + IO_HEADROOM, p->data, p->len);
	if (pkt_parse(buf + IO_HEADROOM, p->len, &v) != MSLB_OK ||
	    gso_segment(&v, &p->off, out + IO_HEADROOM, judge_cut, &j) < 0) {
		r->in_csum = FZ_CSUM_UNKNOWN;
		return;
	}
	r->in_csum = j.csum;
	r->hdr_ok_all = r->hdr_ok_all && j.hdr_ok;
}

/* A UDP-tunnel super-packet in: its outer UDP checksum is the device's to
 * finish (a pseudo-header sum, no checksum yet); its checksums are right
 * when its inner packet's are, judged on their own where the metadata
 * says the inner packet starts (nothing to compare against otherwise). */
static void tnl_judge(struct fz_run *r, const struct io_pkt *p)
{
	unsigned nh = p->off.inner_nh;
	struct fz_verdict in;
	struct fz_ip ip;

	if (!fz_ip_walk(p->data, p->len, &ip) || ip.fragment || ip.len != p->len || ip.proto != 17 ||
	    p->off.outer_th != ip.l3len || nh != ip.l3len + 8u || nh >= p->len || !io_has_partial(p)) {
		r->in_csum = FZ_CSUM_UNKNOWN;
		return;
	}
	fz_csum_judge(p->data + nh, p->len - nh, true, &in);
	if (p->off.csum_start != nh + in.l4off ||
	    (unsigned)p->off.csum_start + p->off.csum_offset != nh + in.l4off + in.field)
		in.csum = FZ_CSUM_UNKNOWN;
	r->in_csum = in.csum;
}

enum mslb_drop fz_run_pkt(struct fz_run *r, struct io_pkt *p)
{
	const uint8_t *end = p->buf + IO_HEADROOM + IO_BUF_SIZE;
	bool partial = io_has_partial(p);
	struct fz_verdict ver;
	enum mslb_drop d;

	fz_csum_judge(p->data, p->len, partial, &ver);
	/* A partial checksum elsewhere than the innermost transport header:
	 * the data path must refuse it; nothing to compare against. */
	if (partial && (p->off.csum_start != ver.l4off ||
			(unsigned)p->off.csum_start + p->off.csum_offset != ver.l4off + ver.field))
		ver.csum = FZ_CSUM_UNKNOWN;
	r->in_csum = ver.csum;
	r->hdr_ok_all = r->hdr_ok_all && ver.hdr_ok;
	if (p->off.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 && to_gue_port(p->data, p->len))
		uso_judge(r, p);
	if (io_is_tunnel_gso(&p->off))
		tnl_judge(r, p);
	/* A GUE super-packet holds several segments: not one payload. */
	r->in_tcp = p->off.gso_type != VIRTIO_NET_HDR_GSO_UDP_L4 && inner_tcp(p->data, p->len, &r->tcp);
	if (r->in_tcp) {
		static uint8_t copy[IO_BUF_SIZE];

		memcpy(copy, r->tcp.payload, r->tcp.n);
		r->tcp.payload = copy;
	}

	d = lb_process_pkt(r->lb, p);
	FUZZ_CHECK(d < MSLB_DROP_MAX, "lb_process_pkt returned %d", (int)d);
	if (d != MSLB_OK || !p->len)
		return d;
	FUZZ_CHECK(p->data >= p->buf && p->data < end, "returned data %p outside its buffer [%p, %p)",
		   (void *)p->data, (void *)p->buf, (const void *)end);
	FUZZ_CHECK(p->len <= (size_t)(end - p->data), "returned packet of %u bytes runs %zu bytes past its buffer",
		   p->len, (size_t)(p->data + p->len - end));
	/* A GUE super-packet (the front's first; UDP segmentation): checked as
	 * the datagrams the kernel cuts from it. */
	if (io_is_tunnel_gso(&p->off)) {
		check_tnl(r, p->data, p->len, &p->off, "returned");
		return d;
	}
	check_no_tnl(&p->off, "returned");
	if (p->off.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 && fz_is_gue(p->data, p->len))
		check_uso(r, p->data, p->len, &p->off, "returned");
	else
		check_out(r, p->data, p->len, &p->off, "returned");
	return d;
}
