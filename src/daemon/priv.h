/* priv: who the daemon runs as, and the capabilities its configuration
 * needs. The whole run needs CAP_NET_ADMIN (TUN, routes, rules, sysctls
 * under /proc/sys/net, the MPTCP path manager: reloads do all of that
 * again) and CAP_NET_RAW (AF_PACKET rings); an MPTCP back whose server_id
 * is a privileged port also needs CAP_NET_BIND_SERVICE. */
#ifndef MSLB_PRIV_H
#define MSLB_PRIV_H

#include <stddef.h>

#include "config/config.h"

/* cfg->user set and not running as it: refuse unless root, and make the
 * control socket's directory the account's when it is missing (or is the
 * default /run/mslbd left by a run as root). Before ctl_listen. Returns 0,
 * or -1 with a "FILE:LINE: ..." message in err. */
int priv_prepare(const struct mslb_config *cfg, char *err, size_t errlen);

/* After the lock, the socket, the TUN and the AF_PACKET rings are open
 * (they may need root: /dev/net/tun is 0600 on some hosts), switch to
 * cfg->user keeping only the capabilities cfg needs (permitted and
 * effective; none inheritable or ambient, an empty bounding set, no
 * supplementary groups); the control socket becomes the account's. Does
 * nothing without cfg->user, or when running as that account already.
 * Returns 0, or -1 with a "FILE:LINE: ..." message in err. */
int priv_drop(const struct mslb_config *cfg, char *err, size_t errlen);

/* Does the process hold what cfg needs beyond CAP_NET_ADMIN? Today: an
 * MPTCP back whose server_id is below the namespace's
 * net.ipv4.ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE, as the
 * kernel binds a listening socket for its endpoint in the caller's name.
 * Returns 0, or -1 with a "FILE:LINE: ..." message in err. */
int priv_check(const struct mslb_config *cfg, char *err, size_t errlen);

#endif
