/* udp: a bound, non-blocking UDP socket for the redirection protocol:
 * datagrams in by the batch (recvmmsg), out one at a time. */
#ifndef MSLB_UDP_H
#define MSLB_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

#define UDP_BATCH 32		/* datagrams per wake-up: packets get their turn */
#define UDP_DGRAM_MAX 2048	/* longer ones are cut, and then refused as malformed */

/* Bind address a, port. The fd, or -1 with err filled. */
int udp_open(const struct mslb_addr *a, uint16_t port, char *err, size_t errlen);
typedef void (*udp_rx_fn)(void *ctx, const struct mslb_addr *from, const uint8_t *buf, size_t len);
/* Up to UDP_BATCH datagrams, each to fn. The number read, 0 when none
 * was waiting, -1 on an error other than EAGAIN. */
int udp_recv(int fd, udp_rx_fn fn, void *ctx);
/* To address to, port. 0, or -1 (the errno of sendto). */
int udp_send(int fd, const struct mslb_addr *to, uint16_t port, const uint8_t *buf, size_t len);

#endif
