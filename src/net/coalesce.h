/* coalesce: the receive side of gso_pack. The datagrams of a UDP GSO
 * super-packet in GUE hold one inner packet each; when they are one TCP
 * flow's consecutive segments they become one TCP super-packet again, as
 * the kernel's GRO would make it, so the back writes it to the TUN once. */
#ifndef MSLB_COALESCE_H
#define MSLB_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "pktbuf.h"

/* buf: len bytes of inner packets back to back, each size bytes but the
 * last (at most size). When they are segments of one TCP connection, in
 * order, with the same headers (but for lengths, IPv4 IDs, sequence
 * numbers and the flags segmentation spreads) and good checksums (taken
 * as good without summing them when trusted: the kernel vouched for the
 * bytes, as its own GRO then does), the
 * first grows in place to carry all the payloads: returns its length and
 * fills off for the kernel to cut it again (its checksum field then holds
 * the pseudo-header sum). Otherwise returns 0 and buf is unchanged. */
uint32_t coalesce_tcp(uint8_t *buf, uint32_t len, unsigned size, bool trusted, struct io_offload *off);

#endif
