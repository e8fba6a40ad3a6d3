/* testlib: helpers the unit suites share. */
#ifndef MSLB_TEST_TESTLIB_H
#define MSLB_TEST_TESTLIB_H

#include <stdint.h>

#include "lb/lb.h"

/* lb_process_pkt for a bare buffer of *len bytes: the packet is copied
 * into a buffer with headroom, and the result back into buf, which must
 * hold *len + 40 bytes; *len 0 when nothing is left to send. */
enum mslb_drop tl_process(struct mslb_lb *lb, uint8_t *buf, uint32_t *len);
/* The same for a packet whose transport checksum is partial (offloads):
 * partial_off is the offset of that checksum field, 0 for none. */
enum mslb_drop tl_process_offload(struct mslb_lb *lb, uint8_t *buf, uint32_t *len, unsigned partial_off);

#endif
