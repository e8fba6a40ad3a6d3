/* tun_vnet: what the TUN's two ways of reading and writing share (io_tun.c
 * packet by packet, tun_ring.c by the batch): the virtio_net_hdr in front
 * of each packet, and the count of a read and of a write. Private to io/. */
#ifndef MSLB_TUN_VNET_H
#define MSLB_TUN_VNET_H

#include <endian.h>
#include <stdbool.h>
#include <linux/virtio_net.h>

#include "io.h"

/* The virtio header as a device with UDP-tunnel offloads has it
 * (virtio_net_hdr_v1_hash_tunnel, Linux 6.17; not in Debian 12's
 * headers): the plain one, then fields unused here, then the tunnel's
 * two offsets. A device's header is TUN_VNET_PLAIN or TUN_VNET_TNL bytes
 * of it. */
struct tun_vnet {
	struct virtio_net_hdr h;
	uint16_t num_buffers;
	uint32_t hash_value;
	uint16_t hash_report, padding;
	uint16_t outer_th, inner_nh;
};
_Static_assert(sizeof(struct tun_vnet) == 24, "virtio_net_hdr_v1_hash_tunnel is 24 bytes");

#define TUN_VNET_PLAIN ((unsigned)sizeof(struct virtio_net_hdr))
#define TUN_VNET_TNL ((unsigned)sizeof(struct tun_vnet))

/* hlen: the device's header length (the tunnel's offsets only in the
 * long one). */
static inline void tun_vnet_to_off(const struct tun_vnet *v, unsigned hlen, struct io_offload *o)
{
	const struct virtio_net_hdr *h = &v->h;

	o->flags = h->flags;
	o->gso_type = h->gso_type;
	o->hdr_len = le16toh(h->hdr_len);
	o->gso_size = le16toh(h->gso_size);
	o->csum_start = le16toh(h->csum_start);
	o->csum_offset = le16toh(h->csum_offset);
	o->outer_th = hlen >= TUN_VNET_TNL ? le16toh(v->outer_th) : 0;
	o->inner_nh = hlen >= TUN_VNET_TNL ? le16toh(v->inner_nh) : 0;
}

/* link: bytes of link header written before the packet (a TAP's
 * Ethernet header), which every offset counts. */
static inline void tun_off_to_vnet(const struct io_offload *o, unsigned link, struct tun_vnet *v)
{
	struct virtio_net_hdr *h = &v->h;
	bool csum = o->flags & IO_OFF_NEEDS_CSUM, tnl = io_is_tunnel_gso(o);

	*v = (struct tun_vnet){ 0 };
	h->flags = o->flags;
	h->gso_type = o->gso_type;
	h->hdr_len = htole16((uint16_t)(o->hdr_len + (o->hdr_len ? link : 0)));
	h->gso_size = htole16(o->gso_size);
	h->csum_start = htole16((uint16_t)(o->csum_start + (csum ? link : 0)));
	h->csum_offset = htole16(o->csum_offset);
	v->outer_th = htole16((uint16_t)(tnl ? o->outer_th + link : 0));
	v->inner_nh = htole16((uint16_t)(tnl ? o->inner_nh + link : 0));
}

/* The TUN's side door for UDP-tunnel super-packets, which an IFF_TUN
 * write cannot carry (the kernel wants room for a link header before the
 * outer one): a TAP device on the same host, written only, each packet
 * behind an Ethernet header to the TAP's own address, so the kernel takes
 * it as arrived and routes it. fd -1: none. */
#define TUN_TAP_ETH 14

struct tun_tap {
	int fd;
	uint8_t eth[2][TUN_TAP_ETH];	/* [0] IPv4, [1] IPv6 */
};

/* Does p leave by the side door? */
static inline bool tun_by_tap(const struct tun_tap *tap, const struct io_pkt *p)
{
	return tap && tap->fd >= 0 && io_is_tunnel_gso(&p->off);
}

/* The Ethernet header in front of p through the side door. */
static inline const uint8_t *tun_tap_eth(const struct tun_tap *tap, const struct io_pkt *p)
{
	return tap->eth[(p->data[0] >> 4) == 6];
}

/* A packet read: len bytes behind h, of hlen bytes (0: none). */
static inline void tun_take_rx(struct io_stats *st, struct io_pkt *p, const struct tun_vnet *h, unsigned hlen,
			       uint32_t len)
{
	if (hlen) {
		tun_vnet_to_off(h, hlen, &p->off);
		p->csum_valid = h->h.flags & VIRTIO_NET_HDR_F_DATA_VALID;
	}
	p->len = len;
	st->rx_packets++;
	st->rx_bytes += len;
}

/* Count a packet written whole (1), or a failed write (0). */
static inline int tun_count_tx(struct io_stats *st, const struct io_pkt *p, bool whole)
{
	if (!whole) {
		st->tx_errors++;
		return 0;
	}
	st->tx_packets++;
	st->tx_bytes += p->len;
	return 1;
}

#endif
