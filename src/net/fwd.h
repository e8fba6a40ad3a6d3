/* fwd: what a router does to a packet it forwards, for the path where the
 * daemon sends frames itself (AF_PACKET) instead of the kernel. */
#ifndef MSLB_FWD_H
#define MSLB_FWD_H

#include <stdint.h>

#include "drop.h"
#include "pktbuf.h"

/* Decrement the IPv4 TTL (header checksum updated incrementally, RFC 1624)
 * or the IPv6 hop limit of the IP packet buf[0..len). A packet at 1 or 0
 * may go no further: MSLB_DROP_TTL_EXCEEDED, untouched. */
enum mslb_drop fwd_ttl_decrement(uint8_t *buf, uint32_t len);
/* Finish a partial transport checksum in software (for a device without
 * checksum offload); off's offsets are from the IP header. */
void fwd_finish_csum(uint8_t *buf, uint32_t len, struct io_offload *off);

#endif
