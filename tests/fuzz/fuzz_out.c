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
	if (p->off.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 && fz_is_gue(p->data, p->len))
		check_uso(r, p->data, p->len, &p->off, "returned");
	else
		check_out(r, p->data, p->len, &p->off, "returned");
	return d;
}
