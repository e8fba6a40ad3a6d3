/* lb_tunnel: encapsulation mode (draft-matsuhira-mslb-17 sections 5.2 and
 * 6). The front puts an outer header on in place when the packet fits the
 * tunnel MTU; otherwise it answers with ICMP "too big" (RFC 1191, RFC 8201),
 * fragments (IPv4 without DF; IPv6 up to 1280 bytes, in outer fragments,
 * RFC 2473 7.1), or, for a GSO super-packet, cuts it in software first.
 * Decapsulators accept allowed sources only and reassemble outer
 * fragments. */
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lb_role.h"
#include "lb_tunnel.h"
#include "lpm.h"
#include "net/coalesce.h"
#include "net/encap.h"
#include "net/frag.h"
#include "net/fwd.h"
#include "net/gso.h"
#include "net/iphdr.h"

#define MIN_PMTU_V4 552		/* as Linux's min_pmtu: below, ICMP is not believed */

unsigned lb_tunnel_mtu(const struct mslb_lb *lb, const struct lb_tunnel *t, enum lb_mtu_source *src)
{
	unsigned mtu = t->config_mtu ? t->config_mtu : t->route_mtu ? t->route_mtu : 1500;
	enum lb_mtu_source s = t->config_mtu ? LB_MTU_CONFIG : t->route_mtu ? LB_MTU_ROUTE : LB_MTU_DEFAULT;

	if (t->learned && lb->now < t->expires && t->learned < mtu) {
		mtu = t->learned;
		s = LB_MTU_ICMP;
	}
	if (src)
		*src = s;
	/* lo says 65536: more than a length field holds. */
	return mtu > 65535 ? 65535 : mtu;
}

/* Where an encapsulated packet goes, and what it is counted against. */
struct target {
	unsigned ov;			/* outer IP version */
	uint16_t gue;			/* GUE: the UDP destination port; 0: IP-in-IP */
	const uint8_t *src, *dst;	/* outer addresses */
	unsigned path_mtu;
	const uint8_t *icmp_from;	/* source of the errors sent about inner packets */
	struct lb_tcount *c;
};

struct emit_ctx {
	struct mslb_lb *lb;
	const struct target *t;
};

static void emit(struct mslb_lb *lb, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	if (lb->emit)
		lb->emit(lb->emit_ctx, pkt, len, off);
}

/* The outer headers of t before pkt (len bytes, final checksums when
 * GUE over IPv6 sums them), which has IO_HEADROOM writable bytes before it. */
static uint8_t *push(struct mslb_lb *lb, const struct target *t, uint8_t *pkt, uint32_t len, bool df_clear)
{
	if (t->gue)
		return encap_push_gue(pkt, len, (int)t->ov, t->src, t->dst, lb->ip_id++, df_clear, t->gue);
	return encap_push(pkt, len, (int)t->ov, t->src, t->dst, lb->ip_id++, df_clear);
}

static unsigned overhead(const struct target *t)
{
	return encap_overhead_of((int)t->ov, t->gue != 0);
}

static void put_outer(struct mslb_lb *lb, const struct target *t, uint8_t *pkt, uint32_t len)
{
	uint8_t *h = push(lb, t, pkt, len, false);

	emit(lb, h, len + overhead(t), NULL);
	t->c->encapsulated++;
}

static void inner_fragment_out(void *ctx, uint8_t *pkt, uint32_t len)
{
	struct emit_ctx *c = ctx;

	put_outer(c->lb, c->t, pkt, len);
	c->t->c->fragments++;
}

static void outer_fragment_out(void *ctx, uint8_t *pkt, uint32_t len)
{
	struct emit_ctx *c = ctx;

	emit(c->lb, pkt, len, NULL);
	c->t->c->fragments++;
}

/* A complete packet (final checksums, room before it) that may exceed the
 * tunnel MTU only where fragmenting is allowed: IPv4 without DF, or IPv6
 * of at most 1280 bytes. */
static void send_complete(struct mslb_lb *lb, const struct target *t, uint8_t *pkt, uint32_t len)
{
	unsigned ovh = overhead(t), tmtu = t->path_mtu - ovh;
	struct emit_ctx c = { lb, t };
	uint8_t *out = lb->scratch[1] + IO_HEADROOM, *h;

	if (len <= tmtu) {
		put_outer(lb, t, pkt, len);
		return;
	}
	if ((pkt[0] >> 4) == 4) {
		/* The fragmenter checks the header it cuts: one that does not
		 * agree with its length is counted, never sent. */
		if (frag_ipv4(pkt, len, tmtu, out, inner_fragment_out, &c) == -2)
			lb->drops[MSLB_DROP_BAD_LENGTH]++;
		return;
	}
	/* An IPv6 packet of at most 1280 bytes: cut in outer fragments, as a
	 * tunnel must (RFC 2473 7.1). GUE's UDP checksum is final before the
	 * cut; the back reassembles before it looks for the port. */
	h = push(lb, t, pkt, len, true);
	t->c->encapsulated++;
	if (t->ov == 6)
		frag_ipv6(h, len + ovh, t->path_mtu, ++lb->frag_id, out, outer_fragment_out, &c);
	else
		frag_ipv4(h, len + ovh, t->path_mtu, out, outer_fragment_out, &c);
}

static void segment_out(void *ctx, uint8_t *seg, uint32_t len)
{
	struct emit_ctx *c = ctx;

	send_complete(c->lb, c->t, seg, len);
}

static enum mslb_drop send_error(struct mslb_lb *lb, struct lb_tcount *c, const uint8_t *about, uint32_t len,
				 const uint8_t *from, enum icmp_kind kind, unsigned mtu)
{
	uint32_t n;

	if (!icmp_bucket_take(&lb->bucket, lb->now)) {
		c->icmp_rate_limited++;
		lb->ts.icmp_rate_limited++;
		return MSLB_DROP_ICMP_RATE_LIMITED;
	}
	n = icmp_build(about, len, from, kind, mtu, lb->icmp_buf);
	if (n)
		emit(lb, lb->icmp_buf, n, NULL);
	c->icmp_sent++;
	lb->ts.icmp_sent++;
	return MSLB_OK;
}

static enum mslb_drop too_big(struct mslb_lb *lb, const struct target *t, const struct pkt_view *v, unsigned mtu)
{
	if (!icmp_may_answer(v))
		return MSLB_DROP_TOO_BIG;
	if (send_error(lb, t->c, v->data, v->len, t->icmp_from, ICMP_TOO_BIG, mtu) != MSLB_OK)
		return MSLB_DROP_ICMP_RATE_LIMITED;
	return MSLB_DROP_TOO_BIG;
}

/* GUE toward a device that segments UDP (the TUN with USO): the inner
 * segments, cut in software, go back to back in super-packets of up to
 * 64 KiB, which the kernel cuts again at their seams: one write for what
 * would be one per segment. The first super-packet is made in place and
 * leaves with the batch (so also by AF_PACKET); what does not fit in it
 * is emitted, after it. size: every inner segment's but the last. */
static enum mslb_drop gue_uso(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct target *t,
			      unsigned size)
{
	unsigned ovh = overhead(t), room = 65535 - ovh, hl = gso_header_len(v), segs, head, next, k;
	unsigned end = (unsigned)(io_pkt_end(p) - v->data);
	uint16_t id = lb->ip_id;
	uint8_t *out = lb->scratch[0] + IO_HEADROOM, *h;
	struct io_offload off = {
		.flags = IO_OFF_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = (uint16_t)ovh,
		.gso_size = (uint16_t)size,
		.csum_start = (uint16_t)(ovh - ENCAP_UDP_HLEN),
		.csum_offset = 6,
	};
	int n;

	if (!p->off.gso_size || v->len <= hl)
		return MSLB_DROP_BAD_OFFLOAD;
	segs = (v->len - hl + p->off.gso_size - 1) / p->off.gso_size;
	/* The kernel numbers the segments of a super-packet from its ID. */
	lb->ip_id = (uint16_t)(lb->ip_id + segs);
	/* size fits the tunnel MTU, so one segment always fits 64 KiB. */
	head = (room < end ? room : end) / size;
	if (head > segs)
		head = segs;
	if (!head)
		head = 1;	/* one segment, no longer than the packet */
	/* The tail first: the head, laid out in place, covers its payload. */
	next = head;
	while ((n = gso_pack(v, &p->off, &next, out, room, &k)) > 0) {
		t->c->segments += k;
		if (k == 1) {		/* a last one alone: an ordinary packet */
			put_outer(lb, t, out, (uint32_t)n);
			continue;
		}
		h = encap_push_gue_partial(out, (uint32_t)n, (int)t->ov, t->src, t->dst, (uint16_t)(id + next - k),
					   t->gue);
		emit(lb, h, (uint32_t)n + ovh, &off);
		t->c->encapsulated += k;
		t->c->uso++;
	}
	if (n < 0)
		return MSLB_DROP_BAD_OFFLOAD;
	n = gso_pack_head(v, &p->off, head);
	if (n < 0)
		return MSLB_DROP_BAD_OFFLOAD;
	t->c->segments += head;
	t->c->encapsulated += head;
	if (head == 1) {
		p->data = push(lb, t, v->data, (uint32_t)n, false);
		p->off = (struct io_offload){ 0 };
	} else {
		p->data = encap_push_gue_partial(v->data, (uint32_t)n, (int)t->ov, t->src, t->dst, id, t->gue);
		p->off = off;
		t->c->uso++;
	}
	p->len = (uint32_t)n + ovh;
	return MSLB_OK;
}

/* A TCP super-packet whose offloads say so, for its own family, with the
 * partial checksum the kernel's segmentation finishes. */
static bool tcp_gso_of(const struct io_pkt *p, const struct pkt_view *v)
{
	unsigned type = p->off.gso_type & (unsigned)~VIRTIO_NET_HDR_GSO_ECN;

	return v->l4proto == IPPROTO_TCP && io_has_partial(p) && p->off.gso_size &&
	       type == (v->version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
}

/* GUE toward a device that takes UDP-tunnel super-packets (the TUN's
 * TAP, Linux 6.17): the TCP super-packet goes whole behind the outer
 * headers, and the kernel cuts it, each segment in its own datagram, or
 * hands it whole to a next device that takes the same (a veth, then the
 * back's TUN). Nothing is copied or cut here. size: every segment's. */
static enum mslb_drop gue_tunnel_gso(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct target *t)
{
	unsigned ovh = overhead(t), hl = gso_header_len(v);
	unsigned segs = (v->len - hl + p->off.gso_size - 1) / p->off.gso_size;
	struct io_offload off = {
		.flags = IO_OFF_NEEDS_CSUM | IO_OFF_TNL_CSUM,
		.gso_type = (uint8_t)(p->off.gso_type | (t->ov == 4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6)),
		.hdr_len = (uint16_t)(ovh + hl),
		.gso_size = p->off.gso_size,
		.csum_start = (uint16_t)(p->off.csum_start - (v->data - p->data) + ovh),
		.csum_offset = p->off.csum_offset,
		.outer_th = (uint16_t)(ovh - ENCAP_UDP_HLEN),
		.inner_nh = (uint16_t)ovh,
	};

	p->data = encap_push_gue_partial(v->data, v->len, (int)t->ov, t->src, t->dst, lb->ip_id, t->gue);
	/* The kernel numbers the outer headers from the first one's ID. */
	lb->ip_id = (uint16_t)(lb->ip_id + segs);
	p->len = v->len + ovh;
	p->off = off;
	t->c->segments += segs;
	t->c->encapsulated += segs;
	t->c->udp_tunnel++;
	return MSLB_OK;
}

static enum mslb_drop tunnel_send(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct target *t)
{
	unsigned ovh = overhead(t), tmtu = t->path_mtu > ovh ? t->path_mtu - ovh : 0;
	bool gso = p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	unsigned hl = gso ? gso_header_len(v) : 0, size = gso ? hl + p->off.gso_size : v->len;

	if (gso && !hl)
		return MSLB_DROP_BAD_OFFLOAD;
	if (size > tmtu) {
		if (v->version == 4 && (v->data[IP4_FRAG] & IP4_DF))
			return too_big(lb, t, v, tmtu);
		if (v->version == 6 && size > MIN_MTU_V6)
			return too_big(lb, t, v, tmtu < MIN_MTU_V6 ? MIN_MTU_V6 : tmtu);
	}
	/* Whole, when the kernel cuts it and the outer length field holds it. */
	if (gso && t->gue && (lb->emit_tnl & (t->ov == 4 ? 1 : 2)) && size <= tmtu && tcp_gso_of(p, v) &&
	    v->len > hl && v->len + ovh <= 65535)
		return gue_tunnel_gso(lb, p, v, t);
	if (gso && t->gue && lb->emit_uso && size <= tmtu)
		return gue_uso(lb, p, v, t, size);
	if (gso) {
		struct emit_ctx c = { lb, t };
		int n = gso_segment(v, &p->off, lb->scratch[0] + IO_HEADROOM, segment_out, &c);

		if (n < 0)
			return MSLB_DROP_BAD_OFFLOAD;
		t->c->segments += (unsigned)n;
		p->len = 0;
		return MSLB_OK;
	}
	if (v->len <= tmtu) {
		/* The UDP checksum over IPv6 sums the inner packet: final. */
		if (t->gue && t->ov == 6 && (p->off.flags & IO_OFF_NEEDS_CSUM))
			fwd_finish_csum(v->data, v->len, &p->off);
		p->data = push(lb, t, v->data, v->len, false);
		p->len = v->len + ovh;
		if (p->off.flags & IO_OFF_NEEDS_CSUM)
			p->off.csum_start = (uint16_t)(p->off.csum_start + ovh);
		t->c->encapsulated++;
		return MSLB_OK;
	}
	/* Fragments carry final checksums: the kernel finishes none of them. */
	fwd_finish_csum(v->data, v->len, &p->off);
	send_complete(lb, t, v->data, v->len);
	p->len = 0;
	return MSLB_OK;
}

/* The outer source: tunnel_source, else IP_S itself (the inner
 * destination), else the first service of the outer family. */
static const uint8_t *outer_source(const struct mslb_lb *lb, const struct pkt_view *v, unsigned ov)
{
	const struct mslb_config *cfg = lb->cfg;

	if (cfg->front.has_tsrc[mslb_ip_index(ov)])
		return cfg->front.tsrc[mslb_ip_index(ov)].bytes;
	if (ov == v->version)
		return pkt_dst(v);
	return lb->fam[mslb_ip_index(ov)].services.a[0];
}

/* The packet's TTL or hop limit ran out here: answered as the kernel
 * answers on the TUN path. */
static enum mslb_drop time_exceeded(struct mslb_lb *lb, struct lb_tcount *c, const struct pkt_view *v)
{
	if (icmp_may_answer(v))
		send_error(lb, c, v->data, v->len, pkt_dst(v), ICMP_TIME_EXCEEDED, 0);
	return MSLB_DROP_TTL_EXCEEDED;
}

enum mslb_drop lb_encap_front(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned nh, bool own_ttl)
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];
	unsigned ov = config_outer_version(hop, v->version);
	struct lb_next_hop *n = &lb->nh[nh];
	struct target t;
	uint32_t len = v->len;
	enum mslb_drop r;

	if (ov == 4 ? !hop->has4 : !hop->has6)
		return MSLB_DROP_NO_FAMILY;
	/* Another family than the packet's needs a source of its own. */
	if (ov != v->version && !lb->fam[mslb_ip_index(ov)].services.n && !lb->cfg->front.has_tsrc[mslb_ip_index(ov)])
		return MSLB_DROP_NO_FAMILY;
	/* From io.af_packet no kernel forwarded the packet into the TUN, where
	 * its TTL would have dropped by one (mslbd(8)): this node does it. */
	if (own_ttl && fwd_ttl_decrement(v->data, v->len) != MSLB_OK)
		return time_exceeded(lb, &n->t, v);
	t = (struct target){
		.ov = ov,
		.gue = hop->encap == ENCAP_GUE ? lb->cfg->front.gue_port : 0,
		.src = outer_source(lb, v, ov),
		.dst = ov == 4 ? hop->a4.bytes : hop->a6.bytes,
		.path_mtu = lb_tunnel_mtu(lb, &n->tun[mslb_ip_index(ov)], NULL),
		.icmp_from = pkt_dst(v),
		.c = &n->t,
	};
	r = tunnel_send(lb, p, v, &t);
	if (r == MSLB_OK) {
		n->c.packets++;
		n->c.bytes += len;
	}
	return r;
}

enum mslb_drop lb_peer_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, unsigned peer, unsigned ov,
			     const uint8_t *dst)
{
	unsigned k = mslb_ip_index(ov);
	const struct lb_family *fo = &lb->fam[k];
	struct target t;

	if (!fo->has_rsrc || peer >= lb->cfg->redirect.n_peers)
		return MSLB_DROP_NO_FAMILY;
	t = (struct target){
		.ov = ov,
		.src = fo->rsrc,
		.dst = dst,
		.path_mtu = lb_tunnel_mtu(lb, &lb->peer_tun[peer * 2 + k], NULL),
		.icmp_from = pkt_dst(v),
		.c = &lb->redirect_t,
	};
	return tunnel_send(lb, p, v, &t);
}

enum mslb_drop lb_redirect_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct rdr_entry *e)
{
	uint32_t len = v->len;
	enum mslb_drop r = lb_peer_encap(lb, p, v, e->peer, e->owner_version, e->owner);

	if (r == MSLB_OK)
		rdr_count_redirect(lb->rdr, e, len);
	return r;
}

enum mslb_drop lb_too_big(struct mslb_lb *lb, struct lb_tcount *c, const struct pkt_view *v, unsigned mtu)
{
	struct target t = { .icmp_from = pkt_dst(v), .c = c };

	return too_big(lb, &t, v, mtu);
}

enum mslb_drop lb_return_encap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	struct lb_family *f = &lb->fam[mslb_ip_index(v->version)];
	uint32_t len = v->len;
	struct target t = {
		.ov = v->version,
		.src = f->ret_src,
		.dst = f->ret_dst,
		.path_mtu = lb_tunnel_mtu(lb, &f->ret, NULL),
		.icmp_from = f->ret_src,
		.c = &lb->ret_t,
	};
	enum mslb_drop r = tunnel_send(lb, p, v, &t);

	if (r == MSLB_OK) {
		lb->ret.packets++;
		lb->ret.bytes += len;
	}
	return r;
}

/* A UDP GSO super-packet of GUE (a front's, or the kernel's GRO): when its
 * datagrams carry one TCP flow's segments in order, they become one TCP
 * super-packet in it, and v shrinks to match; otherwise (*split) nothing
 * is left to send of it, and lb_process_pkt takes each datagram through
 * the data path alone (split_len), as the kernel would have cut it. */
static enum mslb_drop gue_super(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, bool *split)
{
	unsigned at = v->l4off + ENCAP_UDP_HLEN;
	struct io_offload off;
	bool trusted;
	uint32_t n;

	*split = false;
	if ((p->off.gso_type & 0x7f) != VIRTIO_NET_HDR_GSO_UDP_L4 || v->l4proto != IPPROTO_UDP || v->len <= at)
		return MSLB_DROP_BAD_OFFLOAD;
	/* The kernel's GRO sums no segment of a packet it trusts: one with
	 * a partial checksum (built on this host, or by a hypervisor that
	 * vouches for it), or whose outer UDP checksum it checked (one that
	 * is there: 0, none, counts as "checked" too). Nor does the back. */
	trusted = (io_has_partial(p) && p->off.csum_start == v->l4off) ||
		  (p->csum_valid && (v->data[v->l4off + 6] | v->data[v->l4off + 7]));
	n = coalesce_tcp(v->data + at, v->len - at, p->off.gso_size, trusted, &off);
	if (n) {
		off.csum_start = (uint16_t)(off.csum_start + (v->data - p->data) + at);
		p->off = off;
		v->len = at + n;
		p->len = (uint32_t)(v->data - p->data) + v->len;
		lb->ts.uso_coalesced++;
		return MSLB_OK;
	}
	if (!p->off.gso_size || p->data != v->data)
		return MSLB_DROP_BAD_OFFLOAD;
	*split = true;
	lb->split_len = v->len;
	p->len = 0;
	lb->ts.uso_split++;
	return MSLB_OK;
}

/* A UDP-tunnel super-packet of GUE (a front's through its TAP, whole as
 * far as here): its inner TCP super-packet is ready as it lies; only the
 * offloads lose the tunnel. Anything else is no tunnel of ours. */
static enum mslb_drop gue_tunnel_in(struct mslb_lb *lb, struct io_pkt *p, const struct pkt_view *v)
{
	unsigned at = v->l4off + ENCAP_UDP_HLEN;

	unsigned tnl = p->off.gso_type & IO_GSO_UDP_TUNNEL;
	unsigned inner = p->off.gso_type & (unsigned)~(IO_GSO_UDP_TUNNEL | VIRTIO_NET_HDR_GSO_ECN);

	if (v->l4proto != IPPROTO_UDP || p->data != v->data || p->off.outer_th != v->l4off ||
	    p->off.inner_nh != at || !io_has_partial(p) || p->off.csum_start < at + IP4_HLEN || v->len <= at)
		return MSLB_DROP_BAD_OFFLOAD;
	/* One outer family, and a TCP super-packet of the inner one inside. */
	if (tnl != (v->version == 4 ? IO_GSO_UDP_TUNNEL_IPV4 : IO_GSO_UDP_TUNNEL_IPV6) ||
	    inner != ((v->data[at] >> 4) == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6) ||
	    p->off.csum_offset != 16)
		return MSLB_DROP_BAD_OFFLOAD;
	p->off.gso_type &= (uint8_t)~IO_GSO_UDP_TUNNEL;
	p->off.flags &= (uint8_t)~IO_OFF_TNL_CSUM;
	p->off.outer_th = p->off.inner_nh = 0;
	/* Counted from the packet's start, as the kernel wants it: the
	 * outer headers go. */
	p->off.hdr_len = (uint16_t)(p->off.hdr_len > at ? p->off.hdr_len - at : 0);
	lb->ts.udp_tunnel++;
	return MSLB_OK;
}

enum mslb_drop lb_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct lpm *allowed,
			struct pkt_view *in)
{
	enum mslb_drop r;
	unsigned skip;

	if (!lpm_has(allowed, pkt_src(v)))
		return MSLB_DROP_TUNNEL_SOURCE;
	if (v->fragment) {
		uint8_t *whole;
		uint32_t wlen;

		if (!lb->reasm)
			return MSLB_DROP_REASSEMBLY;
		r = reasm_add(lb->reasm, v, lb->now, &whole, &wlen);
		if (r != MSLB_OK)
			return r;
		if (!whole) {
			p->len = 0;
			return MSLB_OK;
		}
		if (wlen > IO_BUF_SIZE)
			return MSLB_DROP_REASSEMBLY;	/* reasm caps it below this */
		p->data = p->buf + IO_HEADROOM;
		p->end = NULL;
		memcpy(p->data, whole, wlen);
		p->len = wlen;
		p->off = (struct io_offload){ 0 };
		/* UDP fragments come here only to a back (lb.c): GUE. */
		if (pkt_parse(p->data, wlen, v) != MSLB_OK || v->fragment ||
		    !(encap_is_tunnel(v) || encap_is_gue(v, lb->cfg->back.gue_port)))
			return MSLB_DROP_TUNNEL_INNER;
	}
	if (io_is_tunnel_gso(&p->off)) {
		r = gue_tunnel_in(lb, p, v);
		if (r != MSLB_OK)
			return r;
	} else if (p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		bool split;

		r = gue_super(lb, p, v, &split);
		if (r != MSLB_OK || split)
			return r;
	}
	r = encap_pop(v, in);
	if (r != MSLB_OK)
		return r;
	skip = (unsigned)(in->data - v->data);
	/* GUE: a checksum the kernel left to finish is the outer UDP one,
	 * which goes with the outer header. */
	if (io_has_partial(p) && v->l4proto == IPPROTO_UDP && p->off.csum_start == v->l4off)
		p->off.flags &= (uint8_t)~IO_OFF_NEEDS_CSUM;
	if (io_has_partial(p)) {
		if (p->off.csum_start < skip)
			return MSLB_DROP_BAD_OFFLOAD;
		r = pkt_set_partial(in, p->off.csum_start - skip, p->off.csum_offset);
		if (r != MSLB_OK)
			return r;
		p->off.csum_start = (uint16_t)(p->off.csum_start - skip);
	}
	p->data = in->data;
	p->len = in->len;
	lb->ts.decapsulated++;
	return MSLB_OK;
}

enum mslb_drop lb_back_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	const struct lb_family *f = lb_fam(lb, v->version), *fi;
	uint8_t outer_dst[16];
	unsigned alen = pkt_addr_len(v);
	struct pkt_view in;
	enum mslb_drop r;
	int k, peer = f->peers.n ? lb_addrs_find(&f->peers, pkt_src(v), alen) : -1;
	struct lb_back_opts b;

	memcpy(outer_dst, pkt_dst(v), alen);
	r = lb_decap(lb, p, v, f->allow_back, &in);
	if (r != MSLB_OK || !p->len)
		return r;
	/* Only what a front meant for this back's servers. */
	fi = lb_fam(lb, in.version);
	if (!lb_addrs_has(&fi->back_services, pkt_dst(&in), pkt_addr_len(&in)))
		return MSLB_DROP_TUNNEL_INNER_DST;
	k = lb_back_slot(f, outer_dst, alen);
	if (k >= 0)
		lb_back_count(lb, f->back_index[k], in.len);
	/* The fronts' options ride in the inner header. */
	r = lb_back_strip(lb, p, &in, &b);
	if (r != MSLB_OK)
		return r;
	return lb_back_deliver(lb, p, &in, &b, peer >= 0 ? (int)f->peer_index[peer] : -1);
}

enum mslb_drop lb_endpoint_decap(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v)
{
	struct pkt_view in;
	enum mslb_drop r = lb_decap(lb, p, v, lb_fam(lb, v->version)->allow_endpoint, &in);

	if (r != MSLB_OK || !p->len)
		return r;
	lb->endpoint.packets++;
	lb->endpoint.bytes += in.len;
	return MSLB_OK;
}

static uint32_t quoted_len(const uint8_t *q)
{
	return (q[0] >> 4) == 4 ? (uint32_t)(q[IP4_TOTLEN] << 8 | q[IP4_TOTLEN + 1])
				: IP6_HLEN + (uint32_t)(q[IP6_PLEN] << 8 | q[IP6_PLEN + 1]);
}

/* The tunnel whose outer packet q (source qsrc, destination qdst; GUE or
 * IP in IP) is: a next hop's, or a back's return tunnel (IP in IP). */
static bool find_tunnel(struct mslb_lb *lb, unsigned qv, const uint8_t *qsrc, const uint8_t *qdst, bool gue,
			struct lb_tunnel **t, struct lb_tcount **c, const uint8_t **from)
{
	const struct mslb_config *cfg = lb->cfg;
	struct lb_family *f = &lb->fam[mslb_ip_index(qv)];
	unsigned alen = ip_addr_len(qv);

	if (!gue && f->has_ret && lb_addr_eq(f->ret_src, qsrc, alen) && lb_addr_eq(f->ret_dst, qdst, alen)) {
		*t = &f->ret;
		*c = &lb->ret_t;
		*from = f->ret_src;	/* the back speaks for itself to its server */
		return true;
	}
	if (!(cfg->front.has_tsrc[mslb_ip_index(qv)] &&
	      lb_addr_eq(cfg->front.tsrc[mslb_ip_index(qv)].bytes, qsrc, alen)) &&
	    !lb_addrs_has(&f->services, qsrc, alen))
		return false;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *hop = &cfg->front.next_hops[i];

		if (hop->mode == NH_ENCAP && (hop->encap == ENCAP_GUE) == gue &&
		    (qv == 4 ? hop->has4 && lb_addr_eq(hop->a4.bytes, qdst, 4)
			     : hop->has6 && lb_addr_eq(hop->a6.bytes, qdst, 16))) {
			*t = &lb->nh[i].tun[mslb_ip_index(qv)];
			*c = &lb->nh[i].t;
			*from = NULL;		/* IP_S, the inner destination */
			return true;
		}
	}
	return false;
}

bool lb_icmp_about_tunnel(struct mslb_lb *lb, const struct pkt_view *v)
{
	struct icmp_error e;

	if (v->l4proto != (v->version == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) || !icmp_parse_error(v, &e))
		return false;
	lb->ts.icmp_received++;
	return lb_icmp_outer(lb, v, &e);
}

bool lb_icmp_outer(struct mslb_lb *lb, const struct pkt_view *v, const struct icmp_error *e)
{
	const struct mslb_config *cfg = lb->cfg;
	const uint8_t *q = e->quote, *inner;
	unsigned qv = q[0] >> 4, qhl = qv == 4 ? (q[0] & 0x0f) * 4u : IP6_HLEN;
	uint8_t qproto = q[ip_proto_off(qv)];
	/* A fragment of our own outer packet: ours all the same, but only
	 * the first holds the inner header to relay to. */
	bool first = qv == 4 ? !((q[IP4_FRAG] << 8 | q[IP4_FRAG + 1]) & 0x1fff) : true;

	if (qv == 6 && qproto == 44 && e->quote_len >= 48) {
		first = !((q[42] << 8 | q[43]) & 0xfff8);
		qproto = q[40];
		qhl = 48;
	}
	const uint8_t *from;
	struct lb_tunnel *t;
	struct lb_tcount *c;
	uint32_t ilen;
	unsigned mtu, gue = 0;
	bool udp = qproto == IPPROTO_UDP;

	(void)v;
	/* GUE: the quoted UDP header is to the front's GUE port. Only the
	 * first outer fragment has it; a later one is ours when it is UDP
	 * from our tunnel source to a GUE next hop. */
	if (udp) {
		if (first) {
			if (e->quote_len < qhl + ENCAP_UDP_HLEN ||
			    (q[qhl + 2] << 8 | q[qhl + 3]) != cfg->front.gue_port)
				return false;
			gue = ENCAP_UDP_HLEN;
		}
	} else if (qproto != 4 && qproto != 41) {
		return false;
	}
	if (e->quote_len < qhl + gue ||
	    !find_tunnel(lb, qv, q + ip_src_off(qv), q + ip_dst_off(qv), udp, &t, &c, &from))
		return false;
	c->icmp_received++;
	if (e->too_big && e->mtu) {
		unsigned floor = qv == 4 ? MIN_PMTU_V4 : MIN_MTU_V6, m = e->mtu < floor ? floor : e->mtu;

		if (m < lb_tunnel_mtu(lb, t, NULL)) {
			t->learned = m;
			t->expires = lb->now + cfg->front.pmtu_expires;
		}
	}
	/* Relay to whoever sent the inner packet, as the matching error
	 * (RFC 2473 8.1), when the quote holds enough of it. */
	inner = q + qhl + gue;
	ilen = e->quote_len - qhl - gue;
	if (!first || ilen < IP4_HLEN || (!gue && (inner[0] >> 4) != (qproto == 4 ? 4 : 6)) ||
	    ((inner[0] >> 4) != 4 && (inner[0] >> 4) != 6) ||
	    ilen < ((inner[0] >> 4) == 4 ? IP4_HLEN : IP6_HLEN) ||
	    !icmp_may_answer_raw(inner, ilen))
		return true;
	mtu = lb_tunnel_mtu(lb, t, NULL) - encap_overhead((int)qv) - gue;
	if (e->too_big) {
		bool v4 = (inner[0] >> 4) == 4;

		/* What the front fragments itself needs no error. */
		if ((v4 && !(inner[IP4_FRAG] & IP4_DF)) || (!v4 && quoted_len(inner) <= MIN_MTU_V6))
			return true;
		if (!v4 && mtu < MIN_MTU_V6)
			mtu = MIN_MTU_V6;
	}
	/* An IPv4 server and an IPv6 return tunnel cannot share a source. */
	if (from && (inner[0] >> 4) != qv)
		return true;
	if (send_error(lb, c, inner, ilen, from ? from : inner + ip_dst_off(inner[0] >> 4),
		       e->too_big ? ICMP_TOO_BIG : ICMP_UNREACHABLE, mtu) == MSLB_OK)
		lb->ts.icmp_relayed++;
	return true;
}
