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

/* The same segments laid back to back at out: as many whole ones as fit
 * in room bytes, from segment *next on, which advances; *count says how
 * many. For a UDP GSO packet that carries them all (GUE): the kernel cuts
 * it again at the segments' seams. Returns the bytes written (0: none was
 * left, or the next does not fit), -1 as gso_segment. */
int gso_pack(const struct pkt_view *v, const struct io_offload *off, unsigned *next, uint8_t *out, uint32_t room,
	     unsigned *count);

/* The first count segments back to back over the super-packet itself
 * (v->data must have room for them; what they cover of later segments'
 * payload is lost: pack those first). Returns the bytes, -1 as
 * gso_segment or when count is 0 or more than there are. */
int gso_pack_head(const struct pkt_view *v, const struct io_offload *off, unsigned count);

/* Bytes of headers before each segment's payload (IP, extensions,
 * transport header); 0 if unknown. */
unsigned gso_header_len(const struct pkt_view *v);

#endif
