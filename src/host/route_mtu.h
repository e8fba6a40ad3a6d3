/* route_mtu: the MTU a packet to an address leaves this host with, as the
 * kernel would send it: the route's mtu metric, else its device's MTU. The
 * starting point of a tunnel's path MTU (RFC 1853, RFC 4459). */
#ifndef MSLB_ROUTE_MTU_H
#define MSLB_ROUTE_MTU_H

#include "nl.h"
#include "base/addr.h"

/* 0 if there is no route or its device has gone. */
unsigned route_mtu(struct nl *nl, const struct mslb_addr *dst);

#endif
