/* hostcfg_mptcp: the server side of Proposal 1 on the host, through the
 * MPTCP path manager (pm.c) and one sysctl. */
#include "hostcfg_mptcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm.h"
#include "sysctl.h"
#include "base/log.h"

struct hostcfg_mptcp {
	struct pm *pm;
	bool limits_saved;
	unsigned old_subflows, old_add_addr;
	struct sysctl_saved join_initial;
	unsigned n_ep;
	struct {
		struct mslb_addr addr;
		uint16_t port;
		uint8_t id;
	} ep[64];
};

struct hostcfg_mptcp *hostcfg_mptcp_create(void)
{
	struct hostcfg_mptcp *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->join_initial.key = "net.mptcp.allow_join_initial_addr_port";
	return m;
}

static void del_endpoint(struct hostcfg_mptcp *m, unsigned i)
{
	char a[MSLB_ADDRSTRLEN];
	int r = pm_endpoint_del(m->pm, &m->ep[i].addr, m->ep[i].id);

	if (r < 0 && r != -ENOENT && r != -EINVAL)
		log_warn("cannot remove MPTCP endpoint %s port %u: %s",
			 mslb_addr_str(&m->ep[i].addr, a, sizeof(a)), m->ep[i].port, strerror(-r));
	else
		log_debug("removed MPTCP endpoint %s port %u id %u",
			  mslb_addr_str(&m->ep[i].addr, a, sizeof(a)), m->ep[i].port, m->ep[i].id);
	m->ep[i] = m->ep[--m->n_ep];
}

/* Undo every MPTCP change: endpoints, limits, the sysctl. */
void hostcfg_mptcp_remove(struct hostcfg_mptcp *m)
{
	while (m->n_ep)
		del_endpoint(m, m->n_ep - 1);
	if (m->limits_saved && pm_set_limits(m->pm, m->old_subflows, m->old_add_addr) == 0)
		log_debug("restored MPTCP limits subflows %u add_addr_accepted %u", m->old_subflows, m->old_add_addr);
	m->limits_saved = false;
	if (m->join_initial.saved)
		log_debug("restoring %s=%s", m->join_initial.key, m->join_initial.old);
	sysctl_restore(&m->join_initial);
}

static bool wants_endpoint(const struct mslb_config *cfg, const struct mslb_addr *a, uint16_t port)
{
	if (!cfg->has_back || !cfg->back.has_mptcp || port != cfg->back.server_id)
		return false;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++)
		if (mslb_addr_eq(&cfg->back.addresses[i].service, a))
			return true;
	return false;
}

/* The server side of Proposal 1: announce IP_S with port server_id
 * (ADD_ADDR), and keep clients from joining the service port itself. */
int hostcfg_mptcp_apply(struct hostcfg_mptcp *m, const struct mslb_config *cfg, char *err, size_t errlen)
{
	char a[MSLB_ADDRSTRLEN];
	int r;

	if (!cfg->has_back || !cfg->back.has_mptcp) {
		hostcfg_mptcp_remove(m);
		return 0;
	}
	if (!m->pm && !(m->pm = pm_open())) {
		snprintf(err, errlen, "MPTCP path manager (generic netlink mptcp_pm): %s", strerror(errno));
		return -1;
	}
	if (!m->limits_saved) {
		r = pm_get_limits(m->pm, &m->old_subflows, &m->old_add_addr);
		if (r < 0) {
			snprintf(err, errlen, "cannot read MPTCP limits: %s", strerror(-r));
			return -1;
		}
		m->limits_saved = true;
	}
	r = pm_set_limits(m->pm, cfg->back.subflows, cfg->back.add_addr_accepted);
	if (r < 0) {
		snprintf(err, errlen, "cannot set MPTCP limits subflows %u add_addr_accepted %u: %s",
			 cfg->back.subflows, cfg->back.add_addr_accepted, strerror(-r));
		return -1;
	}
	if (!m->join_initial.saved) {
		r = sysctl_save_set(&m->join_initial, "0");
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s=0: %s", m->join_initial.key, strerror(-r));
			return -1;
		}
	}
	/* New endpoints first, old ones only once all of those exist: a
	 * refused reload leaves the running config's endpoints in place. */
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct mslb_addr *sv = &cfg->back.addresses[i].service;
		bool have = false;
		uint8_t id;

		for (unsigned j = 0; j < m->n_ep; j++)
			have = have || (mslb_addr_eq(&m->ep[j].addr, sv) && m->ep[j].port == cfg->back.server_id);
		if (have)
			continue;
		if (m->n_ep == sizeof(m->ep) / sizeof(m->ep[0])) {
			snprintf(err, errlen, "too many MPTCP endpoints");
			return -1;
		}
		r = pm_signal_add(m->pm, sv, cfg->back.server_id, &id);
		if (r < 0) {
			snprintf(err, errlen, "cannot add MPTCP endpoint %s port %u signal: %s (the address must be local, e.g. on lo)",
				 mslb_addr_str(sv, a, sizeof(a)), cfg->back.server_id, strerror(-r));
			return -1;
		}
		m->ep[m->n_ep].addr = *sv;
		m->ep[m->n_ep].port = cfg->back.server_id;
		m->ep[m->n_ep].id = id;
		m->n_ep++;
		log_debug("added MPTCP endpoint %s port %u id %u signal", mslb_addr_str(sv, a, sizeof(a)),
			  cfg->back.server_id, id);
	}
	for (unsigned i = m->n_ep; i-- > 0;)
		if (!wants_endpoint(cfg, &m->ep[i].addr, m->ep[i].port))
			del_endpoint(m, i);
	return 0;
}

void hostcfg_mptcp_destroy(struct hostcfg_mptcp *m)
{
	if (m) {
		pm_close(m->pm);
		free(m);
	}
}
