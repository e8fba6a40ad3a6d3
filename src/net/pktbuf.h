/* pktbuf: one packet in its buffer, as the packet code takes it: room
 * before the data for an outer header, and what the kernel said about it
 * (offloads). The I/O backends fill these; the data path rewrites them. */
#ifndef MSLB_PKTBUF_H
#define MSLB_PKTBUF_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>

/* Newer than Debian 12's headers (Linux 6.2). */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif
/* Newer still (Linux 6.17): a TCP or UDP super-packet inside a UDP
 * tunnel, outer IPv4 or IPv6; both bits make the mask. */
#define IO_GSO_UDP_TUNNEL_IPV4 0x20
#define IO_GSO_UDP_TUNNEL_IPV6 0x40
#define IO_GSO_UDP_TUNNEL 0x60

#define IO_BUF_SIZE 65536
/* Room before each packet for what goes in front of it: an outer header
 * (encapsulation, up to 40 bytes), after a Proposal 2 option (up to 32,
 * p2opt.h), and below them a link header and virtio header the AF_PACKET
 * path may write. */
#define IO_HEADROOM 128

/* What the kernel says about a packet when the device offloads work
 * (virtio_net_hdr, host order): a partial checksum to finish, or a GSO
 * super-packet for the kernel to segment. All zero without offloads. */
struct io_offload {
	uint8_t flags;		/* IO_OFF_* */
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_*, IO_GSO_UDP_TUNNEL_* */
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
	/* A UDP-tunnel super-packet's outer UDP header and inner IP header,
	 * from the packet's start; 0 for any other. */
	uint16_t outer_th, inner_nh;
};

#define IO_OFF_NEEDS_CSUM 1	/* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define IO_OFF_TNL_CSUM 8	/* VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM: the outer UDP checksum too */

/* Where a packet leaves, when not by its batch's own device: set by the
 * I/O path, opaque here. */
struct io_backend;

struct io_pkt {
	uint8_t *buf;		/* the storage: IO_HEADROOM + IO_BUF_SIZE bytes */
	uint8_t *data;		/* the packet: buf + IO_HEADROOM, less after a prepend */
	/* Where the storage the packet lies in ends, when it lies elsewhere
	 * than in buf (AF_PACKET leaves it in the receive ring); NULL: buf's
	 * end. IO_HEADROOM bytes before data are writable either way. */
	uint8_t *end;
	uint32_t len;		/* 0 after processing: do not send */
	struct io_offload off;
	/* The kernel checked the packet's checksum (virtio DATA_VALID): for
	 * UDP with a checksum, everything after the UDP header is intact. */
	bool csum_valid;
	int ifindex;		/* ingress interface (AF_PACKET), 0 otherwise */
	/* Transmit through this AF_PACKET backend to this neighbour instead
	 * of the batch's own device; NULL: the batch's own device. */
	struct io_backend *out;
	const uint8_t *out_mac;
};

/* How far the packet may grow at its tail: the end of its storage. */
static inline uint8_t *io_pkt_end(const struct io_pkt *p)
{
	return p->end ? p->end : p->buf + IO_HEADROOM + IO_BUF_SIZE;
}

/* Does the packet carry a partial transport checksum (offloads)? Its
 * offsets come from the kernel or the wire and are checked before use:
 * the flag, not a non-zero offset, says there is one. */
static inline bool io_has_partial(const struct io_pkt *p)
{
	return p->off.flags & IO_OFF_NEEDS_CSUM;
}

/* A super-packet inside a UDP tunnel (GUE), which only a device with that
 * offload gives or takes. */
static inline bool io_is_tunnel_gso(const struct io_offload *o)
{
	return o->gso_type & IO_GSO_UDP_TUNNEL;
}

#endif
