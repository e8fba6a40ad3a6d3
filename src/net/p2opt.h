/* p2opt: what a front tells the back in an IP option. An MPTCP Proposal
 * 2 front, in a SYN (draft-olteanu-mptcp-loadbalance-00, figures 1 and 2):
 * the key it chose for the server (MP_CAPABLE) and the alternate server,
 * the next hop the 5-tuple hash would have chosen. A front whose usable
 * next hops changed, in any packet of a flow that moved (kind 98, ours):
 * the next hop that had it before, for persistence (lb_persist.c).
 *
 * IPv4: option 96 (length 16: type, length, 2 unused, key, alternate) or
 * 97 or 98 (length 8: type, length, 2 unused, alternate), put first after
 * the fixed header. IPv6, for which the draft has none: a destination options
 * header right after the fixed one, 32 bytes: next header, length 3,
 * option 0x1e (RFC 4727 experimental; its top bits say "skip if unknown"),
 * length 26, kind (96, 97 or 98), 0, key (zero but for 96), alternate (16 bytes),
 * then PadN of 2. Pure: buffers in, buffers out. */
#ifndef MSLB_P2OPT_H
#define MSLB_P2OPT_H

#include <stdbool.h>
#include <stdint.h>

#define P2OPT_CAPABLE 96
#define P2OPT_JOIN 97
#define P2OPT_PREV 98
#define P2OPT_V4_CAPABLE_LEN 16
#define P2OPT_V4_JOIN_LEN 8
#define P2OPT_V6_TYPE 0x1e
#define P2OPT_V6_LEN 32
#define P2OPT_GROW_MAX 32	/* headroom an insertion needs */

struct p2opt {
	uint8_t kind;		/* P2OPT_CAPABLE, P2OPT_JOIN or P2OPT_PREV */
	uint8_t key[8];		/* the server's key, big-endian (capable) */
	uint8_t alt[16];	/* the alternate next hop's address, of the packet's family */
};

/* Put o into the IP packet at data (len bytes, P2OPT_GROW_MAX writable
 * bytes before it). The packet then starts at the returned pointer and
 * is *len long, by *grow more. NULL when it has no room: an IPv4 header
 * whose options leave too little, an IPv6 packet with extension headers
 * (its next header must be TCP or UDP). */
uint8_t *p2opt_insert(uint8_t *data, uint32_t *len, const struct p2opt *o, unsigned *grow);
/* Find o in the packet at data (len bytes, a whole valid IP header) and
 * take it out: 1 (the packet then starts at *out, *len and *shrink say
 * how long it is and by how much less), 0 when it carries none, -1 when
 * ours is there but malformed. */
int p2opt_strip(uint8_t *data, uint32_t *len, struct p2opt *o, uint8_t **out, unsigned *shrink);

#endif
