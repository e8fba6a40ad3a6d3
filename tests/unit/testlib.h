/* testlib: helpers the unit suites share to drive the library: configs and
 * lbs from text, the test-only entry points, addresses from strings (the
 * packets they expect are testpkt's). */
#ifndef MSLB_TEST_TESTLIB_H
#define MSLB_TEST_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lb/lb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A config from text (name in its error lines) and an lb from it, the
 * errors printed; NULL when either fails, *cfg then NULL or the config to
 * free. For suite init functions, which cannot assert. */
struct mslb_lb *tl_lb_new(const char *text, const char *name, struct mslb_config **cfg);
/* The same inside a test: a config that does not load or an lb that is
 * not made fails it (two assertions). */
struct mslb_lb *tl_lb_load(const char *text, const char *name, struct mslb_config **cfg);
/* A config alone, inside a test: one that does not load fails it (one
 * assertion). */
struct mslb_config *tl_config_load(const char *text, const char *name);
/* lb_destroy and config_free (either may be NULL). */
void tl_lb_free(struct mslb_lb *lb, struct mslb_config *cfg);

/* What tl_process returns when the result does not fit the caller's
 * buffer (*len is then the size it needed): not a drop reason. */
#define TL_TOO_SMALL MSLB_DROP_MAX

/* lb_process_pkt for a bare buffer of *len bytes: the packet is copied
 * into a buffer with headroom, and the result back into buf, of cap
 * bytes; *len 0 when nothing is left to send. A fragment that completes
 * a reassembly may give more than it brought: TL_TOO_SMALL, not a write
 * past buf. */
enum mslb_drop tl_process(struct mslb_lb *lb, uint8_t *buf, size_t cap, uint32_t *len);
/* The same for a packet whose transport checksum is partial (offloads):
 * partial_off is the offset of that checksum field, 0 for none. */
enum mslb_drop tl_process_offload(struct mslb_lb *lb, uint8_t *buf, size_t cap, uint32_t *len, unsigned partial_off);

/* The 16 bytes of address s into out ("192.0.2.1": the first 4, the rest
 * 0; "2001:db8::1"): the suites' one address parser. A string that is no
 * address fails the test (one assertion a call). */
void tl_addr(const char *s, uint8_t *out);
/* The same into one of 8 buffers used in turn, to write inside an
 * expression (memcpy(h + 12, tl_ip("192.0.2.1"), 4)). */
const uint8_t *tl_ip(const char *s);

#endif
