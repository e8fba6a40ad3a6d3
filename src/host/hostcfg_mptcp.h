/* hostcfg_mptcp: private to hostcfg.c. The MPTCP path manager of a
 * server-side back (Proposal 1): limits, the allow_join_initial_addr_port
 * sysctl and the signal endpoints for IP_S port server_id. It remembers
 * what it changed so a reload applies the difference and remove undoes it. */
#ifndef MSLB_HOSTCFG_MPTCP_H
#define MSLB_HOSTCFG_MPTCP_H

#include <stddef.h>

#include "config/config.h"

struct hostcfg_mptcp;

struct hostcfg_mptcp *hostcfg_mptcp_create(void);
/* Make the path manager match cfg (or undo everything when cfg has no
 * back.mptcp). On failure err says what failed and -1 is returned. */
int hostcfg_mptcp_apply(struct hostcfg_mptcp *m, const struct mslb_config *cfg, char *err, size_t errlen);
/* Undo every MPTCP change: endpoints, limits, the sysctl. */
void hostcfg_mptcp_remove(struct hostcfg_mptcp *m);
void hostcfg_mptcp_destroy(struct hostcfg_mptcp *m);

#endif
