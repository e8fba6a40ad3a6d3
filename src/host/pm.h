/* pm: the kernel's MPTCP path manager over generic netlink (family
 * "mptcp_pm"), through libmnl: the few calls a server-side back needs. */
#ifndef MSLB_PM_H
#define MSLB_PM_H

#include <stdint.h>

#include "base/addr.h"

struct pm;

/* NULL with errno set (ENOENT: this kernel has no MPTCP path manager). */
struct pm *pm_open(void);
void pm_close(struct pm *pm);
int pm_get_limits(struct pm *pm, unsigned *subflows, unsigned *add_addr_accepted);
int pm_set_limits(struct pm *pm, unsigned subflows, unsigned add_addr_accepted);
/* Ensure a signal endpoint addr:port exists (one left by an earlier run is
 * adopted); *id receives its endpoint id. Returns 0 or -errno. */
int pm_signal_add(struct pm *pm, const struct mslb_addr *addr, uint16_t port, uint8_t *id);
int pm_endpoint_del(struct pm *pm, const struct mslb_addr *addr, uint8_t id);

#endif
