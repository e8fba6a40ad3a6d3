/* status_tunnel: the encapsulation-mode part of `mslbd status` (tunnel
 * MTUs, fragments, ICMP, decapsulation, reassembly, return tunnels).
 * Private to status.c. */
#ifndef MSLB_STATUS_TUNNEL_H
#define MSLB_STATUS_TUNNEL_H

#include "base/writer.h"
#include "lb/lb.h"

/* Members of next hop i's object: mode, outer, families, tunnel, counters. */
void status_tunnel_nh(struct writer *w, const struct mslb_lb *lb, unsigned i);
/* Members of the back's object: decapsulated, reassembly, return_tunnel. */
void status_tunnel_back(struct writer *w, const struct mslb_lb *lb);
/* Members of the top-level object: icmp, decapsulation, return_endpoint. */
void status_tunnel(struct writer *w, const struct mslb_lb *lb);

#endif
