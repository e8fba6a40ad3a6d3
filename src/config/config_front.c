/* config_front: the front = { ... } group: services, next hops, the MSLB
 * table, the unmatched policy and MPTCP service ports. */
#include "config_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool config_service_eq(const void *ctx, uint32_t index, const void *key)
{
	const struct mslb_config *cfg = ctx;

	return mslb_addr_eq(&cfg->front.services[index], key);
}

static bool name_eq(const void *ctx, uint32_t index, const void *key)
{
	const struct mslb_config *cfg = ctx;

	return !strcmp(cfg->front.next_hops[index].name, key);
}

static bool server_id_eq(const void *ctx, uint32_t index, const void *key)
{
	const struct mslb_config *cfg = ctx;

	return cfg->front.next_hops[index].server_id == *(const uint16_t *)key;
}

static bool prefix_eq(const void *ctx, uint32_t index, const void *key)
{
	const struct mslb_config *cfg = ctx;
	const struct mslb_prefix *p = key;

	return cfg->front.table[index].source.len == p->len && mslb_addr_eq(&cfg->front.table[index].source.addr, &p->addr);
}

/* A list or array of strings, each an address. */
static void parse_services(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(f, "services");
	const char *allowed = "a list of IPv4 and/or IPv6 addresses, e.g. [ \"203.0.113.10\" ]";
	int n;

	if (!s) {
		config_err(c, f, "front.services: missing (allowed: %s)", allowed);
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) == 0) {
		config_err(c, s, "front.services: must be a non-empty list (allowed: %s)", allowed);
		return;
	}
	n = config_setting_length(s);
	cfg->front.services = calloc((size_t)n, sizeof(*cfg->front.services));
	if (!cfg->front.services)
		return;
	if (config_dup_init(&c->services, (unsigned)n) < 0)
		config_err(c, s, "front.services: out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e;
		const char *v;
		struct mslb_addr a;
		uint32_t j;

		if (!config_elem_str(c, s, i, "front.services", allowed, &e, &v) ||
		    !config_parse_addr(c, e, "front.services", v, &a))
			continue;
		/* Once for each earlier copy. */
		j = config_dup_add(&c->services, config_addr_hash(&a), &a, config_service_eq, cfg, cfg->front.n_services);
		for (; j != HSET_EMPTY && j != cfg->front.n_services && !config_errors_full(c); j = c->services.next[j])
			config_err(c, e, "front.services: \"%s\" is listed twice (allowed: each address once)", v);
		cfg->front.services[cfg->front.n_services++] = a;
	}
}

static void parse_next_hops(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg,
			    const struct cfg_check *def)
{
	static const char *const keys[] = { "name", "ipv4", "ipv6", "server_id", "weight", "mode", "outer",
					    "path_mtu", "state", "check", "encapsulation", NULL };
	const config_setting_t *s = config_setting_get_member(f, "next_hops");
	struct config_dup ids = { 0 };	/* by server_id */
	int n;

	if (!s) {
		config_err(c, f, "front.next_hops: missing (allowed: a list of { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })");
		return;
	}
	if (!config_setting_is_list(s) || config_setting_length(s) == 0) {
		config_err(c, s, "front.next_hops: must be a non-empty list ( ... ) (allowed: a list of { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })");
		return;
	}
	n = config_setting_length(s);
	cfg->front.next_hops = calloc((size_t)n, sizeof(*cfg->front.next_hops));
	if (!cfg->front.next_hops)
		return;
	if (config_dup_init(&c->names, (unsigned)n) < 0 || config_dup_init(&ids, (unsigned)n) < 0)
		config_err(c, s, "front.next_hops: out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_next_hop nh = { 0 };
		char path[64];
		const char *v;

		if (!config_setting_is_group(e)) {
			config_err(c, e, "front.next_hops[%d]: must be a group (allowed: { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })", i);
			continue;
		}
		snprintf(path, sizeof(path), "front.next_hops[%d]", i);
		config_check_keys(c, e, path, keys, "name, ipv4, ipv6, server_id, weight, mode, outer, path_mtu, state, check, encapsulation");
		snprintf(path, sizeof(path), "front.next_hops[%d].name", i);
		v = config_get_str(c, e, "name", path, "1-31 characters of A-Z a-z 0-9 _ . -", true);
		if (!v)
			continue;
		if (!config_name_ok(v, MSLB_NAME_MAX - 1) || !strcmp(v, "drop") || !strcmp(v, "hash")) {
			config_err(c, config_setting_get_member(e, "name"),
				   "%s: \"%s\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -, not \"drop\" or \"hash\")", path, v);
			continue;
		}
		snprintf(nh.name, sizeof(nh.name), "%s", v);
		for (uint32_t j = config_dup_add(&c->names, hset_hash(nh.name, strlen(nh.name)), nh.name, name_eq, cfg,
						 cfg->front.n_next_hops);
		     j != HSET_EMPTY && j != cfg->front.n_next_hops && !config_errors_full(c); j = c->names.next[j])
			config_err(c, config_setting_get_member(e, "name"),
				   "%s: \"%s\" is used by another next hop (allowed: a unique name)", path, v);
		snprintf(path, sizeof(path), "front.next_hops[%d].ipv4", i);
		v = config_get_str(c, e, "ipv4", path, "an IPv4 address", false);
		if (v && config_parse_addr(c, config_setting_get_member(e, "ipv4"), path, v, &nh.a4)) {
			if (nh.a4.family != AF_INET)
				config_err(c, config_setting_get_member(e, "ipv4"), "%s: \"%s\" is not IPv4 (allowed: an IPv4 address)", path, v);
			else
				nh.has4 = true;
		}
		snprintf(path, sizeof(path), "front.next_hops[%d].ipv6", i);
		v = config_get_str(c, e, "ipv6", path, "an IPv6 address", false);
		if (v && config_parse_addr(c, config_setting_get_member(e, "ipv6"), path, v, &nh.a6)) {
			if (nh.a6.family != AF_INET6)
				config_err(c, config_setting_get_member(e, "ipv6"), "%s: \"%s\" is not IPv6 (allowed: an IPv6 address)", path, v);
			else
				nh.has6 = true;
		}
		if (!config_setting_get_member(e, "ipv4") && !config_setting_get_member(e, "ipv6"))
			config_err(c, e, "front.next_hops[%d]: next hop \"%s\" has no address (allowed: ipv4 and/or ipv6)", i, nh.name);
		nh.weight = 1;
		nh.mode = cfg->front.mode;
		nh.encap = cfg->front.encap;
		{
			long long num;

			snprintf(path, sizeof(path), "front.next_hops[%d].mode", i);
			config_parse_mode(c, e, path, &nh.mode);
			snprintf(path, sizeof(path), "front.next_hops[%d].encapsulation", i);
			if (config_parse_encap(c, e, path, &nh.encap) && nh.mode != NH_ENCAP)
				config_err(c, config_setting_get_member(e, "encapsulation"),
					   "%s: only for encapsulation (allowed: with mode = \"encapsulate\")", path);
			snprintf(path, sizeof(path), "front.next_hops[%d].outer", i);
			v = config_get_str(c, e, "outer", path, "\"same\", \"ipv4\" or \"ipv6\"", false);
			if (v && !strcmp(v, "ipv4"))
				nh.outer = OUTER_IPV4;
			else if (v && !strcmp(v, "ipv6"))
				nh.outer = OUTER_IPV6;
			else if (v && strcmp(v, "same"))
				config_err(c, config_setting_get_member(e, "outer"),
					   "%s: \"%s\" is not an outer family (allowed: \"same\", \"ipv4\", \"ipv6\")", path, v);
			if (v && nh.mode != NH_ENCAP)
				config_err(c, config_setting_get_member(e, "outer"),
					   "%s: only for encapsulation (allowed: with mode = \"encapsulate\")", path);
			snprintf(path, sizeof(path), "front.next_hops[%d].path_mtu", i);
			if (config_get_int(c, e, "path_mtu", path, 576, 65535, &num))
				nh.path_mtu = (unsigned)num;

			snprintf(path, sizeof(path), "front.next_hops[%d].weight", i);
			if (config_get_int(c, e, "weight", path, 1, 1000, &num))
				nh.weight = (unsigned)num;
			snprintf(path, sizeof(path), "front.next_hops[%d].server_id", i);
			if (config_get_int(c, e, "server_id", path, 1, 65535, &num)) {
				nh.server_id = (uint16_t)num;
				for (uint32_t j = config_dup_add(&ids, hset_hash(&nh.server_id, 2), &nh.server_id,
								 server_id_eq, cfg, cfg->front.n_next_hops);
				     j != HSET_EMPTY && j != cfg->front.n_next_hops && !config_errors_full(c); j = ids.next[j])
					config_err(c, config_setting_get_member(e, "server_id"),
						   "%s: %lld is the server_id of \"%s\" too (allowed: a unique server_id)",
						   path, num, cfg->front.next_hops[j].name);
			}
		}
		config_parse_next_hop_health(c, e, i, def, cfg, &nh);
		cfg->front.next_hops[cfg->front.n_next_hops++] = nh;
	}
	config_dup_free(&ids);
}

/* The first next hop of that name, or -1. */
static int find_next_hop(const struct config_ctx *c, const struct mslb_config *cfg, const char *name)
{
	uint32_t i = config_dup_first(&c->names, hset_hash(name, strlen(name)), name, name_eq, cfg);

	return i == HSET_EMPTY ? -1 : (int)i;
}

static void names_list(const struct mslb_config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < cfg->front.n_next_hops && used + 1 < len; i++) {
		int n = snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "", cfg->front.next_hops[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void parse_table(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	static const char *const keys[] = { "source", "next_hop", "backup", NULL };
	const config_setting_t *s = config_setting_get_member(f, "table");
	struct config_dup dup;	/* by source prefix */
	char names[200];
	int n;

	if (!s)
		return;		/* an empty table: every source is "unmatched" */
	if (!config_setting_is_list(s)) {
		config_err(c, s, "front.table: must be a list ( ... ) (allowed: a list of { source = \"prefix\"; next_hop = \"name\"; })");
		return;
	}
	names_list(cfg, names, sizeof(names));
	n = config_setting_length(s);
	cfg->front.table = calloc((size_t)n + 1, sizeof(*cfg->front.table));
	if (!cfg->front.table)
		return;
	if (config_dup_init(&dup, (unsigned)n) < 0)
		config_err(c, s, "front.table: out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_table_entry te = { 0 };
		char path[64];
		const char *src, *nhname, *bkname;
		int idx, r;

		if (!config_setting_is_group(e)) {
			config_err(c, e, "front.table[%d]: must be a group (allowed: { source = \"prefix\"; next_hop = \"name\"; })", i);
			continue;
		}
		snprintf(path, sizeof(path), "front.table[%d]", i);
		config_check_keys(c, e, path, keys, "source, next_hop, backup");
		snprintf(path, sizeof(path), "front.table[%d].source", i);
		src = config_get_str(c, e, "source", path, "a prefix such as \"192.0.2.0/25\" or \"2001:db8::/48\"", true);
		snprintf(path, sizeof(path), "front.table[%d].next_hop", i);
		nhname = config_get_str(c, e, "next_hop", path, names, true);
		if (!src || !nhname)
			continue;
		r = mslb_prefix_parse(src, &te.source);
		if (r == -1) {
			config_err(c, config_setting_get_member(e, "source"),
				   "front.table[%d].source: \"%s\" is not a prefix (allowed: ADDRESS/LENGTH, e.g. \"192.0.2.0/25\")", i, src);
			continue;
		}
		if (r == -2) {
			char fixed[MSLB_PREFIXSTRLEN];

			config_err(c, config_setting_get_member(e, "source"),
				   "front.table[%d].source: \"%s\" has host bits set (allowed: \"%s\")", i, src,
				   mslb_prefix_str(&te.source, fixed, sizeof(fixed)));
			continue;
		}
		idx = find_next_hop(c, cfg, nhname);
		if (idx < 0) {
			config_err(c, config_setting_get_member(e, "next_hop"),
				   "front.table[%d].next_hop: \"%s\" is not a next hop (allowed: %s)", i, nhname, names);
			continue;
		}
		te.next_hop = (unsigned)idx;
		snprintf(path, sizeof(path), "front.table[%d].backup", i);
		bkname = config_get_str(c, e, "backup", path, names, false);
		if (bkname) {
			int b = find_next_hop(c, cfg, bkname);

			if (b < 0)
				config_err(c, config_setting_get_member(e, "backup"),
					   "%s: \"%s\" is not a next hop (allowed: %s)", path, bkname, names);
			else if (b == idx)
				config_err(c, config_setting_get_member(e, "backup"),
					   "%s: \"%s\" is the entry's own next hop (allowed: another next hop)", path, bkname);
			else if (!config_next_hop_carries(&cfg->front.next_hops[b], te.source.addr.family))
				config_err(c, config_setting_get_member(e, "backup"),
					   "%s: \"%s\" has no address of the source's family (allowed: a next hop with one)",
					   path, bkname);
			else {
				te.has_backup = true;
				te.backup = (unsigned)b;
			}
		}
		{
			const struct cfg_next_hop *nh = &cfg->front.next_hops[idx];
			bool fam4 = te.source.addr.family == AF_INET;

			if ((fam4 && !nh->has4) || (!fam4 && !nh->has6))
				config_err(c, config_setting_get_member(e, "next_hop"),
					   "front.table[%d].next_hop: \"%s\" has no %s address for %s source \"%s\" (allowed: a next hop with an %s address)",
					   i, nhname, fam4 ? "ipv4" : "ipv6", fam4 ? "IPv4" : "IPv6", src, fam4 ? "ipv4" : "ipv6");
		}
		for (uint32_t j = config_dup_add(&dup, hset_hash(&te.source, sizeof(te.source)), &te.source, prefix_eq, cfg,
						 cfg->front.n_table);
		     j != HSET_EMPTY && j != cfg->front.n_table && !config_errors_full(c); j = dup.next[j])
			config_err(c, config_setting_get_member(e, "source"),
				   "front.table[%d].source: \"%s\" is listed twice (allowed: each prefix once)", i, src);
		cfg->front.table[cfg->front.n_table++] = te;
	}
	config_dup_free(&dup);
}

/* MPTCP Proposal 1 (draft-olteanu-mptcp-loadbalance-00, section 2): service
 * ports are hashed by 5-tuple, any other port names a server. */
static void parse_front_mptcp(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	static const char *const keys[] = { "service_ports", "proposal", "key_tries", NULL };
	const config_setting_t *m = config_get_group(c, f, "mptcp", "front.mptcp");
	const config_setting_t *s;
	long long n;

	if (!m)
		return;
	cfg->front.has_mptcp = true;
	cfg->front.mptcp_proposal = 1;
	cfg->front.key_tries = 32;
	config_check_keys(c, m, "front.mptcp", keys, "service_ports, proposal, key_tries");
	if (config_get_int(c, m, "proposal", "front.mptcp.proposal", 1, 2, &n))
		cfg->front.mptcp_proposal = (unsigned)n;
	if (config_get_int(c, m, "key_tries", "front.mptcp.key_tries", 1, 64, &n))
		cfg->front.key_tries = (unsigned)n;
	s = config_get_ports(c, m, "service_ports", "front.mptcp.service_ports", cfg->front.service_ports,
			     &cfg->front.n_service_ports);
	for (int i = 0; s && i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;

		for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
			if (cfg->front.next_hops[j].server_id == v)
				config_err(c, e, "front.mptcp.service_ports[%d]: %lld is the server_id of \"%s\" (allowed: a port that is no server_id)",
					   i, v, cfg->front.next_hops[j].name);
	}
	/* Proposal 2 routes by token and timestamp: no server_id ports. */
	for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
		if (cfg->front.mptcp_proposal == 1 && !cfg->front.next_hops[j].server_id)
			config_err(c, m, "front.mptcp: next hop \"%s\" has no server_id (allowed: every next hop with a server_id of 1-65535 when front.mptcp.proposal is 1)",
				   cfg->front.next_hops[j].name);
		else if (cfg->front.mptcp_proposal == 2 && cfg->front.next_hops[j].server_id)
			config_err(c, m, "front.mptcp: next hop \"%s\" has a server_id (allowed: none with front.mptcp.proposal = 2, which routes by token)",
				   cfg->front.next_hops[j].name);
}

void config_parse_front(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "services", "next_hops", "table", "unmatched", "mptcp", "mode",
					    "tunnel_source", "allowed_sources", "pmtu_expires", "health", "persistence",
					    "encapsulation", "gue_port", NULL };
	struct cfg_check def;
	const config_setting_t *f = config_get_group(c, c->root, "front", "front");
	const char *v;
	char names[200];

	if (!f)
		return;
	cfg->has_front = true;
	config_check_keys(c, f, "front", keys,
			  "services, next_hops, table, unmatched, mptcp, mode, tunnel_source, allowed_sources, pmtu_expires, health, persistence, encapsulation, gue_port");
	parse_services(c, f, cfg);
	config_parse_front_tunnel(c, f, cfg);
	config_parse_health_defaults(c, f, cfg, &def);
	parse_next_hops(c, f, cfg, &def);
	config_check_front_tunnel(c, f, cfg);
	parse_table(c, f, cfg);
	parse_front_mptcp(c, f, cfg);
	config_parse_front_persist(c, f, cfg);
	names_list(cfg, names, sizeof(names));
	cfg->front.unmatched = UNMATCHED_DROP;
	v = config_get_str(c, f, "unmatched", "front.unmatched", "\"drop\", \"hash\" or a next hop name", false);
	if (v) {
		int idx = find_next_hop(c, cfg, v);

		if (!strcmp(v, "drop")) {
			cfg->front.unmatched = UNMATCHED_DROP;
		} else if (!strcmp(v, "hash")) {
			cfg->front.unmatched = UNMATCHED_HASH;
		} else if (idx >= 0) {
			cfg->front.unmatched = UNMATCHED_NEXT_HOP;
			cfg->front.unmatched_next_hop = (unsigned)idx;
		} else {
			config_err(c, config_setting_get_member(f, "unmatched"),
				   "front.unmatched: \"%s\" is neither a policy nor a next hop (allowed: \"drop\", \"hash\"%s%s)",
				   v, names[0] ? ", " : "", names);
		}
	}
}

/* A service whose family no next hop has could only ever drop. */
void config_check_families(struct config_ctx *c, const struct mslb_config *cfg)
{
	const config_setting_t *f = config_setting_get_member(c->root, "front");
	const config_setting_t *sv = f ? config_setting_get_member(f, "services") : NULL;

	bool carries[2] = { false, false };	/* by some next hop: [0] IPv4, [1] IPv6 */

	if (!cfg->has_front || !cfg->front.n_next_hops)
		return;
	for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
		for (int fi = 0; fi < 2; fi++)
			carries[fi] = carries[fi] || config_next_hop_carries(&cfg->front.next_hops[j], fi ? AF_INET6 : AF_INET);
	for (unsigned i = 0; i < cfg->front.n_services; i++) {
		bool v4 = cfg->front.services[i].family == AF_INET, ok = carries[v4 ? 0 : 1];
		char a[MSLB_ADDRSTRLEN];

		if (!ok)
			config_err(c, sv, "front.services: \"%s\" is %s but no next hop has an %s address (allowed: services of the families the next hops have)",
				   mslb_addr_str(&cfg->front.services[i], a, sizeof(a)), v4 ? "IPv4" : "IPv6", v4 ? "ipv4" : "ipv6");
	}
}
