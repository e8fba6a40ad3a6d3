/* tun_vnet: what the TUN's two ways of reading and writing share (io_tun.c
 * packet by packet, tun_ring.c by the batch): the virtio_net_hdr in front
 * of each packet, and the count of a read and of a write. Private to io/. */
#ifndef MSLB_TUN_VNET_H
#define MSLB_TUN_VNET_H

#include <endian.h>
#include <linux/virtio_net.h>

#include "io.h"

static inline void tun_vnet_to_off(const struct virtio_net_hdr *h, struct io_offload *o)
{
	o->flags = h->flags;
	o->gso_type = h->gso_type;
	o->hdr_len = le16toh(h->hdr_len);
	o->gso_size = le16toh(h->gso_size);
	o->csum_start = le16toh(h->csum_start);
	o->csum_offset = le16toh(h->csum_offset);
}

static inline void tun_off_to_vnet(const struct io_offload *o, struct virtio_net_hdr *h)
{
	h->flags = o->flags;
	h->gso_type = o->gso_type;
	h->hdr_len = htole16(o->hdr_len);
	h->gso_size = htole16(o->gso_size);
	h->csum_start = htole16(o->csum_start);
	h->csum_offset = htole16(o->csum_offset);
}

/* A packet read: len bytes behind h (NULL without the virtio header). */
static inline void tun_take_rx(struct io_stats *st, struct io_pkt *p, const struct virtio_net_hdr *h, uint32_t len)
{
	if (h) {
		tun_vnet_to_off(h, &p->off);
		p->csum_valid = h->flags & VIRTIO_NET_HDR_F_DATA_VALID;
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
