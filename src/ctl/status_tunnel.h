/* status_tunnel: the encapsulation-mode part of `mslbd status` (tunnel
 * MTUs, fragments, ICMP, decapsulation, reassembly, return tunnels).
 * Private to status.c. */
#ifndef MSLB_STATUS_TUNNEL_H
#define MSLB_STATUS_TUNNEL_H

#include "base/json.h"
#include "base/strbuf.h"
#include "lb/lb.h"

/* Members of next hop i's JSON object. */
void status_tunnel_nh_json(struct json *j, const struct mslb_lb *lb, unsigned i);
/* Members of the top-level object: icmp, return_endpoint. */
void status_tunnel_json(struct json *j, const struct mslb_lb *lb);
/* Members of the back's object: decapsulated, reassembly, return_tunnel. */
void status_tunnel_back_json(struct json *j, const struct mslb_lb *lb);
/* The text form: per next hop lines and the totals. */
void status_tunnel_text(struct strbuf *out, const struct mslb_lb *lb);

#endif
