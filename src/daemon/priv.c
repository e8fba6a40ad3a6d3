/* priv: the privilege drop of a daemon started by hand as root, through
 * libcap-ng (keep-caps across setresuid, then the sets), and the check that
 * a configuration's needs are held. */
#include "priv.h"

#include <cap-ng.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "host/sysctl.h"

/* The port the MPTCP endpoint binds, when it needs CAP_NET_BIND_SERVICE:
 * below ip_unprivileged_port_start (per namespace; 1024 when unreadable). */
static bool needs_bind_service(const struct mslb_config *cfg)
{
	char v[32];
	long start = 1024;

	if (!cfg->has_back || !cfg->back.has_mptcp)
		return false;
	if (sysctl_get("net.ipv4.ip_unprivileged_port_start", v, sizeof(v)) == 0)
		start = strtol(v, NULL, 10);
	return cfg->back.server_id < start;
}

static int line_or_1(int line)
{
	return line ? line : 1;
}

/* The control socket's directory must let the account create the socket
 * and its lock. One that is missing is made for it (0750, its group); the
 * default /run/mslbd, ours, is handed over when an earlier run as root
 * left it. Any other existing directory stays as the operator made it. */
static int prepare_socket_dir(const struct mslb_config *cfg, char *err, size_t errlen)
{
	char dir[sizeof(cfg->control_socket)], dflt[sizeof(cfg->control_socket)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", cfg->control_socket);
	snprintf(dflt, sizeof(dflt), "%s", MSLB_DEFAULT_SOCKET);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	*strrchr(dflt, '/') = '\0';
	if (stat(dir, &st) == 0) {
		if (st.st_uid == cfg->user_uid || strcmp(dir, dflt) || st.st_uid != 0)
			return 0;
	} else if (errno != ENOENT || (mkdir(dir, 0750) < 0 && errno != EEXIST)) {
		snprintf(err, errlen, "%s:%d: control_socket: cannot create %s for user \"%s\": %s",
			 cfg->file, line_or_1(cfg->line_control_socket), dir, cfg->user, strerror(errno));
		return -1;
	}
	if (chown(dir, cfg->user_uid, cfg->user_gid) < 0) {
		snprintf(err, errlen, "%s:%d: control_socket: cannot give %s to user \"%s\": %s",
			 cfg->file, line_or_1(cfg->line_control_socket), dir, cfg->user, strerror(errno));
		return -1;
	}
	log_info("%s now belongs to user %s", dir, cfg->user);
	return 0;
}

/* 1: a switch to cfg->user is to be done; 0: none (no user, or running
 * as that account already: under the shipped unit, systemd did it); -1:
 * one is asked for but the process is not root. */
static int switching(const struct mslb_config *cfg, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;

	if (!cfg->user[0])
		return 0;
	if (getresuid(&ruid, &euid, &suid) < 0) {
		snprintf(err, errlen, "getresuid: %s", strerror(errno));
		return -1;
	}
	if (ruid == cfg->user_uid && euid == cfg->user_uid && suid == cfg->user_uid)
		return 0;
	if (euid != 0) {
		snprintf(err, errlen, "%s:%d: user: cannot switch to \"%s\": started as uid %u, not as root (allowed: start mslbd as root, or as \"%s\" with the capabilities of mslbd(8))",
			 cfg->file, line_or_1(cfg->line_user), cfg->user, (unsigned)euid, cfg->user);
		return -1;
	}
	return 1;
}

int priv_prepare(const struct mslb_config *cfg, char *err, size_t errlen)
{
	int r = switching(cfg, err, errlen);

	return r <= 0 ? r : prepare_socket_dir(cfg, err, errlen);
}

int priv_drop(const struct mslb_config *cfg, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;
	bool bind = needs_bind_service(cfg);
	char *kept;
	int r = switching(cfg, err, errlen);

	if (r <= 0)
		return r;
	/* Clients running as the account (`mslbd reload` of its own) may
	 * connect too, as under the shipped unit; root always can. */
	if (chown(cfg->control_socket, cfg->user_uid, cfg->user_gid) < 0) {
		snprintf(err, errlen, "%s:%d: control_socket: cannot give %s to user \"%s\": %s",
			 cfg->file, line_or_1(cfg->line_control_socket), cfg->control_socket, cfg->user, strerror(errno));
		return -1;
	}
	/* Permitted and effective only: mslbd runs no program, so nothing is
	 * inheritable or ambient; the bounding set goes empty. */
	capng_clear(CAPNG_SELECT_ALL);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN, CAP_NET_RAW, -1);
	if (bind)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_BIND_SERVICE);
	r = capng_change_id((int)cfg->user_uid, (int)cfg->user_gid,
			    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
	if (r < 0) {
		snprintf(err, errlen, "%s:%d: user: cannot switch to \"%s\" (uid %u, gid %u): libcap-ng capng_change_id failed (%d): %s",
			 cfg->file, line_or_1(cfg->line_user), cfg->user, (unsigned)cfg->user_uid,
			 (unsigned)cfg->user_gid, r, strerror(errno));
		return -1;
	}
	/* Trust but verify: a half-done switch must not run. */
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != cfg->user_uid || euid != cfg->user_uid ||
	    suid != cfg->user_uid || capng_get_caps_process() < 0 ||
	    !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) ||
	    !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_RAW) ||
	    capng_have_capability(CAPNG_PERMITTED, CAP_SETUID)) {
		snprintf(err, errlen, "%s:%d: user: the switch to \"%s\" did not take (uid %u)",
			 cfg->file, line_or_1(cfg->line_user), cfg->user, (unsigned)euid);
		return -1;
	}
	/* A reload reads the file again, now as the account. */
	if (access(cfg->file, R_OK) < 0) {
		snprintf(err, errlen, "%s:%d: user: \"%s\" cannot read %s: %s (allowed: a file that account can read, or reloads would fail)",
			 cfg->file, line_or_1(cfg->line_user), cfg->user, cfg->file, strerror(errno));
		return -1;
	}
	kept = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
	log_info("running as user %s (uid %u, gid %u, no supplementary groups), capabilities kept: %s",
		 cfg->user, (unsigned)cfg->user_uid, (unsigned)cfg->user_gid, kept ? kept : "?");
	free(kept);
	return 0;
}

int priv_check(const struct mslb_config *cfg, char *err, size_t errlen)
{
	if (!needs_bind_service(cfg))
		return 0;
	if (capng_get_caps_process() == 0 && capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_BIND_SERVICE))
		return 0;
	snprintf(err, errlen, "%s:%d: back.mptcp.server_id: port %u is privileged: its MPTCP endpoint binds a listening socket, which needs CAP_NET_BIND_SERVICE, and mslbd does not hold it (allowed: a server_id of 1024 or more, or CAP_NET_BIND_SERVICE: see mslbd(8); after a switch to user, restart mslbd)",
		 cfg->file, line_or_1(cfg->line_server_id), cfg->back.server_id);
	return -1;
}
