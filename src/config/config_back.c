/* config_back: the back = { ... } group: back addresses and the server-side
 * MPTCP path manager. */
#include "config_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The server side of Proposal 1, for a back that runs on the server. */
static void parse_back_mptcp(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg)
{
	static const char *const keys[] = { "server_id", "subflows", "add_addr_accepted", NULL };
	const config_setting_t *m = config_get_group(c, b, "mptcp", "back.mptcp");
	long long n;

	if (!m)
		return;
	cfg->back.has_mptcp = true;
	cfg->back.subflows = MSLB_PM_MAX;
	cfg->back.add_addr_accepted = MSLB_PM_MAX;
	config_check_keys(c, m, "back.mptcp", keys, "server_id, subflows, add_addr_accepted");
	cfg->line_server_id = config_line_of(config_setting_get_member(m, "server_id"));
	if (config_get_int(c, m, "server_id", "back.mptcp.server_id", 1, 65535, &n))
		cfg->back.server_id = (uint16_t)n;
	else if (!config_setting_get_member(m, "server_id"))
		config_err(c, m, "back.mptcp.server_id: missing (allowed: 1-65535, the port this server announces)");
	if (config_get_int(c, m, "subflows", "back.mptcp.subflows", 0, MSLB_PM_MAX, &n))
		cfg->back.subflows = (unsigned)n;
	if (config_get_int(c, m, "add_addr_accepted", "back.mptcp.add_addr_accepted", 0, MSLB_PM_MAX, &n))
		cfg->back.add_addr_accepted = (unsigned)n;
}

/* MPTCP Proposal 2 in front of a stock server (draft section 3): the
 * service ports whose subflows get the front's key and timestamps. */
static void parse_back_p2(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg)
{
	static const char *const keys[] = { "service_ports", "max_flows", "flow_idle", "steer", NULL };
	const config_setting_t *m = config_get_group(c, b, "proposal2", "back.proposal2");
	long long n;

	if (!m)
		return;
	cfg->back.has_p2 = true;
	cfg->back.p2_max_flows = 65536;
	/* Above Linux's tcp_keepalive_time (7200 s): a subflow that only
	 * keeps alive keeps its state. */
	cfg->back.p2_flow_idle = 14400;
	cfg->back.p2_steer = true;
	config_check_keys(c, m, "back.proposal2", keys, "service_ports, max_flows, flow_idle, steer");
	if (config_get_int(c, m, "max_flows", "back.proposal2.max_flows", 1, 1048576, &n))
		cfg->back.p2_max_flows = (unsigned)n;
	if (config_get_int(c, m, "flow_idle", "back.proposal2.flow_idle", 60, 604800, &n))
		cfg->back.p2_flow_idle = (unsigned)n;
	config_get_bool(c, m, "steer", "back.proposal2.steer", &cfg->back.p2_steer);
	config_get_ports(c, m, "service_ports", "back.proposal2.service_ports", cfg->back.p2_ports,
			 &cfg->back.n_p2_ports);
}

/* The earlier back addresses the checks compare a new one with. */
struct back_index {
	struct config_dup addr;		/* by address */
	struct config_dup via;		/* those with deliver_via, by service */
	bool *mixed;			/* of a first item in via: some later one has another gateway */
};

static void index_free(struct back_index *ix)
{
	config_dup_free(&ix->addr);
	config_dup_free(&ix->via);
	free(ix->mixed);
	ix->mixed = NULL;
}

static int index_init(struct back_index *ix, unsigned n)
{
	int r = config_dup_init(&ix->addr, n) | config_dup_init(&ix->via, n);

	ix->mixed = calloc((size_t)n + 1, sizeof(*ix->mixed));
	if (r < 0 || !ix->mixed) {
		index_free(ix);		/* then nothing is indexed */
		return -1;
	}
	return 0;
}

static bool address_eq(const void *ctx, uint32_t index, const void *key)
{
	return mslb_addr_eq(&((const struct mslb_config *)ctx)->back.addresses[index].address, key);
}

static bool service_eq(const void *ctx, uint32_t index, const void *key)
{
	return mslb_addr_eq(&((const struct mslb_config *)ctx)->back.addresses[index].service, key);
}

/* Compare back address ba (item i, to be stored at n_addresses) with the
 * earlier ones: the same address, or the same service via another
 * gateway. The errors come in file order of the earlier item, as a loop
 * over all of them gave them. */
static void earlier(struct config_ctx *c, struct back_index *ix, const struct mslb_config *cfg,
		    const struct cfg_back_address *ba, const config_setting_t *e, int i, const char *a, const char *sv)
{
	const struct cfg_back_address *all = cfg->back.addresses;
	uint32_t me = cfg->back.n_addresses, ja, jv = HSET_EMPTY;

	ja = config_dup_add(&ix->addr, config_addr_hash(&ba->address), &ba->address, address_eq, cfg, me);
	if (ba->has_via) {
		jv = config_dup_add(&ix->via, config_addr_hash(&ba->service), &ba->service, service_eq, cfg, me);
		/* Until one differs, every gateway of the service is its first
		 * one's: no walk over them in a file without errors. */
		if (jv != HSET_EMPTY && !ix->mixed[jv] && mslb_addr_eq(&all[jv].via, &ba->via))
			jv = HSET_EMPTY;
		else if (jv != HSET_EMPTY)
			ix->mixed[jv] = true;
	}
	while (!config_errors_full(c)) {
		while (jv != HSET_EMPTY && jv != me && mslb_addr_eq(&all[jv].via, &ba->via))
			jv = ix->via.next[jv];
		ja = ja == me ? HSET_EMPTY : ja;
		jv = jv == me ? HSET_EMPTY : jv;
		if (ja == HSET_EMPTY && jv == HSET_EMPTY)
			break;
		if (ja != HSET_EMPTY && (jv == HSET_EMPTY || ja <= jv)) {
			config_err(c, config_setting_get_member(e, "address"),
				   "back.addresses[%d].address: \"%s\" is listed twice (allowed: each address once)", i, a);
			ja = ix->addr.next[ja];
		} else {
			config_err(c, config_setting_get_member(e, "deliver_via"),
				   "back.addresses[%d].deliver_via: service \"%s\" is already delivered via another gateway (allowed: one deliver_via per service)", i, sv);
			jv = ix->via.next[jv];
		}
	}
}

void config_parse_back(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "address", "service", "deliver_via", NULL };
	const config_setting_t *b = config_get_group(c, c->root, "back", "back");
	const config_setting_t *s;
	const char *allowed = "a list of { address = \"IP_B\"; service = \"IP_S\"; deliver_via = \"gateway\"; }";
	struct back_index ix;
	int n;

	if (!b)
		return;
	cfg->has_back = true;
	{
		static const char *const bkeys[] = { "addresses", "mptcp", "allowed_sources", "reassembly",
						     "return_tunnel", "proposal2", "persistence", "gue_port", NULL };

		config_check_keys(c, b, "back", bkeys,
				  "addresses, mptcp, allowed_sources, reassembly, return_tunnel, proposal2, persistence, gue_port");
	}
	parse_back_mptcp(c, b, cfg);
	parse_back_p2(c, b, cfg);
	config_parse_back_persist(c, b, cfg);
	s = config_setting_get_member(b, "addresses");
	if (!s) {
		config_err(c, b, "back.addresses: missing (allowed: %s)", allowed);
		return;
	}
	if (!config_setting_is_list(s) || config_setting_length(s) == 0) {
		config_err(c, s, "back.addresses: must be a non-empty list ( ... ) (allowed: %s)", allowed);
		return;
	}
	n = config_setting_length(s);
	cfg->back.addresses = calloc((size_t)n, sizeof(*cfg->back.addresses));
	if (!cfg->back.addresses)
		return;
	if (index_init(&ix, (unsigned)n) < 0)
		config_err(c, s, "back.addresses: out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_back_address ba = { 0 };
		char path[64];
		const char *a, *sv, *via;
		bool ok = true;

		if (!config_setting_is_group(e)) {
			config_err(c, e, "back.addresses[%d]: must be a group (allowed: %s)", i, allowed);
			continue;
		}
		snprintf(path, sizeof(path), "back.addresses[%d]", i);
		config_check_keys(c, e, path, keys, "address, service, deliver_via");
		snprintf(path, sizeof(path), "back.addresses[%d].address", i);
		a = config_get_str(c, e, "address", path, "an IPv4 or IPv6 address (IP_B)", true);
		ok = a && config_parse_addr(c, config_setting_get_member(e, "address"), path, a, &ba.address);
		snprintf(path, sizeof(path), "back.addresses[%d].service", i);
		sv = config_get_str(c, e, "service", path, "an IPv4 or IPv6 address (IP_S)", true);
		ok = sv && config_parse_addr(c, config_setting_get_member(e, "service"), path, sv, &ba.service) && ok;
		snprintf(path, sizeof(path), "back.addresses[%d].deliver_via", i);
		via = config_get_str(c, e, "deliver_via", path, "a gateway address of the service's family", false);
		if (via && config_parse_addr(c, config_setting_get_member(e, "deliver_via"), path, via, &ba.via))
			ba.has_via = true;
		else if (via)
			ok = false;
		if (!ok)
			continue;
		if (ba.address.family != ba.service.family)
			config_err(c, config_setting_get_member(e, "service"),
				   "back.addresses[%d].service: \"%s\" is not of the family of address \"%s\" (allowed: an %s address)",
				   i, sv, a, ba.address.family == AF_INET ? "IPv4" : "IPv6");
		if (ba.has_via && ba.via.family != ba.service.family)
			config_err(c, config_setting_get_member(e, "deliver_via"),
				   "back.addresses[%d].deliver_via: \"%s\" is not of the family of service \"%s\" (allowed: an %s address)",
				   i, via, sv, ba.service.family == AF_INET ? "IPv4" : "IPv6");
		earlier(c, &ix, cfg, &ba, e, i, a, sv);
		for (uint32_t j = config_dup_first(&c->services, config_addr_hash(&ba.address), &ba.address,
						   config_service_eq, cfg);
		     j != HSET_EMPTY && !config_errors_full(c); j = c->services.next[j])
			config_err(c, config_setting_get_member(e, "address"),
				   "back.addresses[%d].address: \"%s\" is also a front service (allowed: an address that is not in front.services)", i, a);
		cfg->back.addresses[cfg->back.n_addresses++] = ba;
	}
	index_free(&ix);
	config_parse_back_tunnel(c, b, cfg);
	config_check_back_tunnel(c, b, cfg);
}
