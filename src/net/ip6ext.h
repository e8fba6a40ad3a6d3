/* ip6ext: one walker over an IPv6 packet's extension headers (RFC 8200
 * section 4), for the parser and for the checks on quoted packets alike.
 * Inline: the parser runs it on every IPv6 packet. */
#ifndef MSLB_IP6EXT_H
#define MSLB_IP6EXT_H

#include <netinet/in.h>
#include <stdint.h>

#include "iphdr.h"

#define IP6EXT_MAX 8	/* extension headers walked before giving up */

struct ip6ext_walk {
	unsigned off;		/* where the next header starts */
	uint8_t nh;		/* its type: Next Header of the one before */
	unsigned n;		/* extension headers stepped over */
};

/* One extension header stepped over. */
struct ip6ext {
	unsigned off, len;
	uint8_t type;		/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _FRAGMENT or _AH */
};

/* Start at the header after the fixed one of the IPv6 packet ip. */
static inline void ip6ext_start(struct ip6ext_walk *w, const uint8_t *ip)
{
	*w = (struct ip6ext_walk){ .off = IP6_HLEN, .nh = ip[IP6_NEXT] };
}

/* Step over the extension header at w->off of the len-byte packet ip,
 * describing it in e: 1. At the upper-layer header (w->nh is its
 * protocol, w->off its offset): 0. More than IP6EXT_MAX headers, or one
 * that does not fit in len: -1. */
static inline int ip6ext_next(struct ip6ext_walk *w, const uint8_t *ip, uint32_t len, struct ip6ext *e)
{
	unsigned hlen;

	if (w->nh != IPPROTO_HOPOPTS && w->nh != IPPROTO_ROUTING && w->nh != IPPROTO_DSTOPTS &&
	    w->nh != IPPROTO_FRAGMENT && w->nh != IPPROTO_AH)
		return 0;
	if (++w->n > IP6EXT_MAX || w->off + 8 > len)
		return -1;
	if (w->nh == IPPROTO_FRAGMENT)
		hlen = 8;
	else if (w->nh == IPPROTO_AH)
		hlen = (ip[w->off + 1] + 2u) * 4;	/* RFC 4302: in 4-octet units, less 2 */
	else
		hlen = (ip[w->off + 1] + 1u) * 8;
	if (w->off + hlen > len)
		return -1;
	*e = (struct ip6ext){ .off = w->off, .len = hlen, .type = w->nh };
	w->nh = ip[w->off];
	w->off += hlen;
	return 1;
}

#endif
