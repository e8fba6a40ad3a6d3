/* gso: software segmentation of a GSO super-packet (TCP or UDP, IPv4 or
 * IPv6) into the packets the kernel would have cut, for where the kernel
 * cannot take the super-packet any more: after encapsulation, since the
 * TUN's virtio header has no IP-in-IP segmentation types. */
#ifndef MSLB_GSO_H
#define MSLB_GSO_H

#include <stdint.h>

#include "pkt.h"
#include "pktbuf.h"

typedef void (*gso_emit_fn)(void *ctx, uint8_t *seg, uint32_t len);

/* v: the parsed super-packet (transport header present); off: its metadata.
 * Each segment, with complete checksums, is built at out (room for
 * IO_HEADROOM bytes before it is the caller's) and passed to fn. Returns
 * the number of segments, or -1 if the metadata does not fit the packet. */
int gso_segment(const struct pkt_view *v, const struct io_offload *off, uint8_t *out, gso_emit_fn fn,
		void *ctx);

/* Bytes of headers before each segment's payload (IP, extensions,
 * transport header); 0 if unknown. */
unsigned gso_header_len(const struct pkt_view *v);

#endif
