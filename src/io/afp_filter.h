/* afp_filter: the classic BPF program an AF_PACKET receive socket runs, so
 * that only this node's packets reach its ring: unicast to this host
 * (PACKET_HOST), IPv4 or IPv6 (also behind one 802.1Q/802.1ad tag, which
 * the daemon then counts and skips), destination one of the front's
 * services or the back's addresses. Pure: built from a config snapshot. */
#ifndef MSLB_AFP_FILTER_H
#define MSLB_AFP_FILTER_H

#include <linux/filter.h>

#include "config/config.h"

#define AFP_FILTER_MAX BPF_MAXINSNS
#define AFP_ACCEPT 0xffffffffu	/* return value: the whole frame */

/* Write the program to out[0..max); returns its length, or -1 when it
 * does not fit (too many addresses). */
int afp_filter_build(const struct mslb_config *cfg, struct sock_filter *out, unsigned max);

#endif
