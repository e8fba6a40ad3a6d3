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

/* The 16 bytes of address s into out ("192.0.2.1": the first 4, the rest
 * 0; "2001:db8::1"): the suites' one address parser. A string that is no
 * address fails the test (one assertion a call). */
void tl_addr(const char *s, uint8_t *out);
/* The same into one of 8 buffers used in turn, to write inside an
 * expression (memcpy(h + 12, tl_ip("192.0.2.1"), 4)). */
const uint8_t *tl_ip(const char *s);

#endif
