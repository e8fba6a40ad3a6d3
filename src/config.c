/* config: libconfig -> struct mslb_config. Every check reports
 * "FILE:LINE: key: problem (allowed: ...)" and parsing goes on, so one run
 * shows every error in the file. */
#include "config.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

struct ctx {
	const char *file;
	struct config_errors *errs;
	const config_setting_t *root;
};

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static void err(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : c->file;
	va_list ap;
	int n;

	if (c->errs->n >= CONFIG_MAX_ERRORS)
		return;
	char *out = c->errs->line[c->errs->n++];
	size_t cap = sizeof(c->errs->line[0]);

	n = snprintf(out, cap, "%s:%d: ", file, line_of(s ? s : c->root));
	if (n < 0 || (size_t)n >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Reject members of a group that we do not know: a typo must not pass.
 * where is the group's path ("" for the top level). */
static void check_keys(struct ctx *c, const config_setting_t *g, const char *where,
		       const char *const *known, const char *allowed)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (const char *const *k = known; *k; k++)
			ok = ok || (name && !strcmp(name, *k));
		if (!ok)
			err(c, m, "%s%s%s: unknown setting (allowed: %s)", where, where[0] ? "." : "",
			    name ? name : "?", allowed);
	}
}

static const config_setting_t *get_group(struct ctx *c, const config_setting_t *parent,
					 const char *key, const char *path)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (s && !config_setting_is_group(s)) {
		err(c, s, "%s: must be a group (allowed: %s = { ... };)", path, key);
		return NULL;
	}
	return s;
}

/* Returns the string, or NULL if absent (missing_ok) or wrong. */
static const char *get_str(struct ctx *c, const config_setting_t *parent, const char *key,
			   const char *path, const char *allowed, bool required)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (!s) {
		if (required)
			err(c, parent, "%s: missing (allowed: %s)", path, allowed);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err(c, s, "%s: must be a string (allowed: %s)", path, allowed);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* Returns true and *out if present and in range. */
static bool get_int(struct ctx *c, const config_setting_t *parent, const char *key,
		    const char *path, long long lo, long long hi, long long *out)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	long long v;

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		err(c, s, "%s: must be an integer (allowed: %lld-%lld)", path, lo, hi);
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		err(c, s, "%s: %lld is out of range (allowed: %lld-%lld)", path, v, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_addr(struct ctx *c, const config_setting_t *s, const char *path,
		       const char *text, struct mslb_addr *out)
{
	if (mslb_addr_parse(text, out) == 0)
		return true;
	err(c, s, "%s: \"%s\" is not an IP address (allowed: an IPv4 or IPv6 address)", path, text);
	return false;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static void parse_log(struct ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "level", "destination", NULL };
	const config_setting_t *g = get_group(c, c->root, "log", "log");
	const char *v;

	if (!g)
		return;
	check_keys(c, g, "log", keys, "level, destination");
	v = get_str(c, g, "level", "log.level", "\"error\", \"warning\", \"info\", \"debug\"", false);
	if (v) {
		static const struct { const char *n; int l; } lv[] = {
			{ "error", LOG_ERR }, { "warning", LOG_WARNING },
			{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
		};
		bool found = false;

		for (unsigned i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
			if (!strcmp(v, lv[i].n)) {
				cfg->log_level = lv[i].l;
				found = true;
			}
		if (!found)
			err(c, config_setting_get_member(g, "level"),
			    "log.level: \"%s\" is not a level (allowed: \"error\", \"warning\", \"info\", \"debug\")", v);
	}
	v = get_str(c, g, "destination", "log.destination", "\"syslog\", \"stderr\"", false);
	if (v) {
		if (!strcmp(v, "syslog"))
			cfg->log_dest = LOG_DEST_SYSLOG;
		else if (!strcmp(v, "stderr"))
			cfg->log_dest = LOG_DEST_STDERR;
		else
			err(c, config_setting_get_member(g, "destination"),
			    "log.destination: \"%s\" is not a destination (allowed: \"syslog\", \"stderr\")", v);
	}
}

static void parse_globals(struct ctx *c, struct mslb_config *cfg)
{
	const config_setting_t *g;
	const char *v;
	long long n;

	v = get_str(c, c->root, "control_socket", "control_socket",
		    "an absolute path shorter than 108 bytes", false);
	if (v) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->control_socket))
			err(c, config_setting_get_member(c->root, "control_socket"),
			    "control_socket: \"%s\" is not usable (allowed: an absolute path shorter than 108 bytes)", v);
		else
			snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", v);
		cfg->line_control_socket = line_of(config_setting_get_member(c->root, "control_socket"));
	}

	g = get_group(c, c->root, "tun", "tun");
	if (g) {
		static const char *const keys[] = { "name", "mtu", "offload", NULL };
		const config_setting_t *o = config_setting_get_member(g, "offload");

		check_keys(c, g, "tun", keys, "name, mtu, offload");
		if (o && config_setting_type(o) != CONFIG_TYPE_BOOL)
			err(c, o, "tun.offload: must be a boolean (allowed: true, false)");
		else if (o)
			cfg->tun_offload = config_setting_get_bool(o);
		cfg->line_tun_offload = line_of(o);
		v = get_str(c, g, "name", "tun.name", "1-15 characters of A-Z a-z 0-9 _ . -", false);
		if (v) {
			if (!name_ok(v, 15) || !strcmp(v, ".") || !strcmp(v, ".."))
				err(c, config_setting_get_member(g, "name"),
				    "tun.name: \"%s\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)", v);
			else
				snprintf(cfg->tun_name, sizeof(cfg->tun_name), "%s", v);
			cfg->line_tun_name = line_of(config_setting_get_member(g, "name"));
		}
		if (get_int(c, g, "mtu", "tun.mtu", 1280, 65535, &n))
			cfg->tun_mtu = (unsigned)n;
	}

	g = get_group(c, c->root, "io", "io");
	if (g) {
		static const char *const keys[] = { "af_packet", NULL };
		const config_setting_t *l = config_setting_get_member(g, "af_packet");
		const char *allowed = "a list of 1-16 existing Ethernet interface names, e.g. [ \"eth0\", \"eth1\" ]";

		check_keys(c, g, "io", keys, "af_packet");
		cfg->line_af_packet = line_of(l ? l : g);
		if (l && (!config_setting_is_aggregate(l) || config_setting_is_group(l) ||
			  config_setting_length(l) < 1 || config_setting_length(l) > MSLB_AFP_MAX)) {
			err(c, l, "io.af_packet: must be a list of 1-%d names (allowed: %s)", MSLB_AFP_MAX, allowed);
			l = NULL;
		}
		for (int i = 0; l && i < config_setting_length(l); i++) {
			const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
			const char *name = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;

			if (!name) {
				err(c, e, "io.af_packet[%d]: must be a string (allowed: %s)", i, allowed);
				continue;
			}
			if (!name_ok(name, 15) || !strcmp(name, ".") || !strcmp(name, "..")) {
				err(c, e, "io.af_packet[%d]: \"%s\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)", i, name);
				continue;
			}
			if (!strcmp(name, cfg->tun_name)) {
				err(c, e, "io.af_packet[%d]: \"%s\" is the TUN device (allowed: an Ethernet interface other than tun.name)", i, name);
				continue;
			}
			for (unsigned j = 0; j < cfg->n_af_packet; j++)
				if (!strcmp(cfg->af_packet[j], name))
					err(c, e, "io.af_packet[%d]: \"%s\" is listed twice (allowed: each interface once)", i, name);
			snprintf(cfg->af_packet[cfg->n_af_packet++], sizeof(cfg->af_packet[0]), "%s", name);
		}
	}

	g = get_group(c, c->root, "routing", "routing");
	if (g) {
		static const char *const keys[] = { "table", "priority", NULL };

		check_keys(c, g, "routing", keys, "table, priority");
		if (get_int(c, g, "table", "routing.table", 1, 4294967294LL, &n)) {
			/* table and table + 1 are ours; 253-255 are the kernel's. */
			if (n >= 252 && n <= 255)
				err(c, config_setting_get_member(g, "table"),
				    "routing.table: %lld or %lld collides with the kernel's tables 253-255 (allowed: 1-4294967294 except 252-255)", n, n + 1);
			else
				cfg->route_table = (uint32_t)n;
		}
		if (get_int(c, g, "priority", "routing.priority", 1, 32000, &n))
			cfg->rule_priority = (uint32_t)n;
	}
}

/* A list or array of strings, each an address. */
static void parse_services(struct ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(f, "services");
	const char *allowed = "a list of IPv4 and/or IPv6 addresses, e.g. [ \"203.0.113.10\" ]";
	int n;

	if (!s) {
		err(c, f, "front.services: missing (allowed: %s)", allowed);
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) == 0) {
		err(c, s, "front.services: must be a non-empty list (allowed: %s)", allowed);
		return;
	}
	n = config_setting_length(s);
	cfg->front.services = calloc((size_t)n, sizeof(*cfg->front.services));
	if (!cfg->front.services)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;
		struct mslb_addr a;

		if (!v) {
			err(c, e, "front.services[%d]: must be a string (allowed: %s)", i, allowed);
			continue;
		}
		if (!parse_addr(c, e, "front.services", v, &a))
			continue;
		for (unsigned j = 0; j < cfg->front.n_services; j++)
			if (mslb_addr_eq(&cfg->front.services[j], &a))
				err(c, e, "front.services: \"%s\" is listed twice (allowed: each address once)", v);
		cfg->front.services[cfg->front.n_services++] = a;
	}
}

static void parse_next_hops(struct ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	static const char *const keys[] = { "name", "ipv4", "ipv6", "server_id", "weight", NULL };
	const config_setting_t *s = config_setting_get_member(f, "next_hops");
	int n;

	if (!s) {
		err(c, f, "front.next_hops: missing (allowed: a list of { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })");
		return;
	}
	if (!config_setting_is_list(s) || config_setting_length(s) == 0) {
		err(c, s, "front.next_hops: must be a non-empty list ( ... ) (allowed: a list of { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })");
		return;
	}
	n = config_setting_length(s);
	cfg->front.next_hops = calloc((size_t)n, sizeof(*cfg->front.next_hops));
	if (!cfg->front.next_hops)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_next_hop nh = { 0 };
		char path[64];
		const char *v;

		if (!config_setting_is_group(e)) {
			err(c, e, "front.next_hops[%d]: must be a group (allowed: { name = \"...\"; ipv4 = \"...\"; ipv6 = \"...\"; })", i);
			continue;
		}
		snprintf(path, sizeof(path), "front.next_hops[%d]", i);
		check_keys(c, e, path, keys, "name, ipv4, ipv6, server_id, weight");
		snprintf(path, sizeof(path), "front.next_hops[%d].name", i);
		v = get_str(c, e, "name", path, "1-31 characters of A-Z a-z 0-9 _ . -", true);
		if (!v)
			continue;
		if (!name_ok(v, MSLB_NAME_MAX - 1) || !strcmp(v, "drop") || !strcmp(v, "hash")) {
			err(c, config_setting_get_member(e, "name"),
			    "%s: \"%s\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -, not \"drop\" or \"hash\")", path, v);
			continue;
		}
		snprintf(nh.name, sizeof(nh.name), "%s", v);
		for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
			if (!strcmp(cfg->front.next_hops[j].name, v))
				err(c, config_setting_get_member(e, "name"),
				    "%s: \"%s\" is used by another next hop (allowed: a unique name)", path, v);
		snprintf(path, sizeof(path), "front.next_hops[%d].ipv4", i);
		v = get_str(c, e, "ipv4", path, "an IPv4 address", false);
		if (v && parse_addr(c, config_setting_get_member(e, "ipv4"), path, v, &nh.a4)) {
			if (nh.a4.family != AF_INET)
				err(c, config_setting_get_member(e, "ipv4"), "%s: \"%s\" is not IPv4 (allowed: an IPv4 address)", path, v);
			else
				nh.has4 = true;
		}
		snprintf(path, sizeof(path), "front.next_hops[%d].ipv6", i);
		v = get_str(c, e, "ipv6", path, "an IPv6 address", false);
		if (v && parse_addr(c, config_setting_get_member(e, "ipv6"), path, v, &nh.a6)) {
			if (nh.a6.family != AF_INET6)
				err(c, config_setting_get_member(e, "ipv6"), "%s: \"%s\" is not IPv6 (allowed: an IPv6 address)", path, v);
			else
				nh.has6 = true;
		}
		if (!config_setting_get_member(e, "ipv4") && !config_setting_get_member(e, "ipv6"))
			err(c, e, "front.next_hops[%d]: next hop \"%s\" has no address (allowed: ipv4 and/or ipv6)", i, nh.name);
		nh.weight = 1;
		{
			long long num;

			snprintf(path, sizeof(path), "front.next_hops[%d].weight", i);
			if (get_int(c, e, "weight", path, 1, 1000, &num))
				nh.weight = (unsigned)num;
			snprintf(path, sizeof(path), "front.next_hops[%d].server_id", i);
			if (get_int(c, e, "server_id", path, 1, 65535, &num)) {
				nh.server_id = (uint16_t)num;
				for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
					if (cfg->front.next_hops[j].server_id == nh.server_id)
						err(c, config_setting_get_member(e, "server_id"),
						    "%s: %lld is the server_id of \"%s\" too (allowed: a unique server_id)",
						    path, num, cfg->front.next_hops[j].name);
			}
		}
		cfg->front.next_hops[cfg->front.n_next_hops++] = nh;
	}
}

static int find_next_hop(const struct mslb_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++)
		if (!strcmp(cfg->front.next_hops[i].name, name))
			return (int)i;
	return -1;
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

static void parse_table(struct ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	static const char *const keys[] = { "source", "next_hop", NULL };
	const config_setting_t *s = config_setting_get_member(f, "table");
	char names[200];
	int n;

	if (!s)
		return;		/* an empty table: every source is "unmatched" */
	if (!config_setting_is_list(s)) {
		err(c, s, "front.table: must be a list ( ... ) (allowed: a list of { source = \"prefix\"; next_hop = \"name\"; })");
		return;
	}
	names_list(cfg, names, sizeof(names));
	n = config_setting_length(s);
	cfg->front.table = calloc((size_t)n + 1, sizeof(*cfg->front.table));
	if (!cfg->front.table)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_table_entry te = { 0 };
		char path[64];
		const char *src, *nhname;
		int idx, r;

		if (!config_setting_is_group(e)) {
			err(c, e, "front.table[%d]: must be a group (allowed: { source = \"prefix\"; next_hop = \"name\"; })", i);
			continue;
		}
		snprintf(path, sizeof(path), "front.table[%d]", i);
		check_keys(c, e, path, keys, "source, next_hop");
		snprintf(path, sizeof(path), "front.table[%d].source", i);
		src = get_str(c, e, "source", path, "a prefix such as \"192.0.2.0/25\" or \"2001:db8::/48\"", true);
		snprintf(path, sizeof(path), "front.table[%d].next_hop", i);
		nhname = get_str(c, e, "next_hop", path, names, true);
		if (!src || !nhname)
			continue;
		r = mslb_prefix_parse(src, &te.source);
		if (r == -1) {
			err(c, config_setting_get_member(e, "source"),
			    "front.table[%d].source: \"%s\" is not a prefix (allowed: ADDRESS/LENGTH, e.g. \"192.0.2.0/25\")", i, src);
			continue;
		}
		if (r == -2) {
			char fixed[MSLB_PREFIXSTRLEN];

			err(c, config_setting_get_member(e, "source"),
			    "front.table[%d].source: \"%s\" has host bits set (allowed: \"%s\")", i, src,
			    mslb_prefix_str(&te.source, fixed, sizeof(fixed)));
			continue;
		}
		idx = find_next_hop(cfg, nhname);
		if (idx < 0) {
			err(c, config_setting_get_member(e, "next_hop"),
			    "front.table[%d].next_hop: \"%s\" is not a next hop (allowed: %s)", i, nhname, names);
			continue;
		}
		te.next_hop = (unsigned)idx;
		{
			const struct cfg_next_hop *nh = &cfg->front.next_hops[idx];
			bool fam4 = te.source.addr.family == AF_INET;

			if ((fam4 && !nh->has4) || (!fam4 && !nh->has6))
				err(c, config_setting_get_member(e, "next_hop"),
				    "front.table[%d].next_hop: \"%s\" has no %s address for %s source \"%s\" (allowed: a next hop with an %s address)",
				    i, nhname, fam4 ? "ipv4" : "ipv6", fam4 ? "IPv4" : "IPv6", src, fam4 ? "ipv4" : "ipv6");
		}
		for (unsigned j = 0; j < cfg->front.n_table; j++)
			if (cfg->front.table[j].source.len == te.source.len &&
			    mslb_addr_eq(&cfg->front.table[j].source.addr, &te.source.addr))
				err(c, config_setting_get_member(e, "source"),
				    "front.table[%d].source: \"%s\" is listed twice (allowed: each prefix once)", i, src);
		cfg->front.table[cfg->front.n_table++] = te;
	}
}

/* MPTCP Proposal 1 (draft-olteanu-mptcp-loadbalance-00, section 2): service
 * ports are hashed by 5-tuple, any other port names a server. */
static void parse_front_mptcp(struct ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	static const char *const keys[] = { "service_ports", NULL };
	const config_setting_t *m = get_group(c, f, "mptcp", "front.mptcp");
	const config_setting_t *s;
	const char *allowed = "a list of 1-16 TCP ports, e.g. [ 80, 443 ]";

	if (!m)
		return;
	cfg->front.has_mptcp = true;
	check_keys(c, m, "front.mptcp", keys, "service_ports");
	s = config_setting_get_member(m, "service_ports");
	if (!s) {
		err(c, m, "front.mptcp.service_ports: missing (allowed: %s)", allowed);
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) < 1 ||
	    config_setting_length(s) > MSLB_MAX_SERVICE_PORTS) {
		err(c, s, "front.mptcp.service_ports: must be a list of 1-%d ports (allowed: %s)",
		    MSLB_MAX_SERVICE_PORTS, allowed);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;

		if (v < 1 || v > 65535) {
			err(c, e, "front.mptcp.service_ports[%d]: not a port (allowed: 1-65535)", i);
			continue;
		}
		for (unsigned j = 0; j < cfg->front.n_service_ports; j++)
			if (cfg->front.service_ports[j] == v)
				err(c, e, "front.mptcp.service_ports[%d]: %lld is listed twice (allowed: each port once)", i, v);
		for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
			if (cfg->front.next_hops[j].server_id == v)
				err(c, e, "front.mptcp.service_ports[%d]: %lld is the server_id of \"%s\" (allowed: a port that is no server_id)",
				    i, v, cfg->front.next_hops[j].name);
		cfg->front.service_ports[cfg->front.n_service_ports++] = (uint16_t)v;
	}
	for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
		if (!cfg->front.next_hops[j].server_id)
			err(c, m, "front.mptcp: next hop \"%s\" has no server_id (allowed: every next hop with a server_id of 1-65535 when front.mptcp is set)",
			    cfg->front.next_hops[j].name);
}

static void parse_front(struct ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "services", "next_hops", "table", "unmatched", "mptcp", NULL };
	const config_setting_t *f = get_group(c, c->root, "front", "front");
	const char *v;
	char names[200];

	if (!f)
		return;
	cfg->has_front = true;
	check_keys(c, f, "front", keys, "services, next_hops, table, unmatched, mptcp");
	parse_services(c, f, cfg);
	parse_next_hops(c, f, cfg);
	parse_table(c, f, cfg);
	parse_front_mptcp(c, f, cfg);
	names_list(cfg, names, sizeof(names));
	cfg->front.unmatched = UNMATCHED_DROP;
	v = get_str(c, f, "unmatched", "front.unmatched", "\"drop\", \"hash\" or a next hop name", false);
	if (v) {
		int idx = find_next_hop(cfg, v);

		if (!strcmp(v, "drop")) {
			cfg->front.unmatched = UNMATCHED_DROP;
		} else if (!strcmp(v, "hash")) {
			cfg->front.unmatched = UNMATCHED_HASH;
		} else if (idx >= 0) {
			cfg->front.unmatched = UNMATCHED_NEXT_HOP;
			cfg->front.unmatched_next_hop = (unsigned)idx;
		} else {
			err(c, config_setting_get_member(f, "unmatched"),
			    "front.unmatched: \"%s\" is neither a policy nor a next hop (allowed: \"drop\", \"hash\"%s%s)",
			    v, names[0] ? ", " : "", names);
		}
	}
}

/* The server side of Proposal 1, for a back that runs on the server. */
static void parse_back_mptcp(struct ctx *c, const config_setting_t *b, struct mslb_config *cfg)
{
	static const char *const keys[] = { "server_id", "subflows", "add_addr_accepted", NULL };
	const config_setting_t *m = get_group(c, b, "mptcp", "back.mptcp");
	long long n;

	if (!m)
		return;
	cfg->back.has_mptcp = true;
	cfg->back.subflows = MSLB_PM_MAX;
	cfg->back.add_addr_accepted = MSLB_PM_MAX;
	check_keys(c, m, "back.mptcp", keys, "server_id, subflows, add_addr_accepted");
	if (get_int(c, m, "server_id", "back.mptcp.server_id", 1, 65535, &n))
		cfg->back.server_id = (uint16_t)n;
	else if (!config_setting_get_member(m, "server_id"))
		err(c, m, "back.mptcp.server_id: missing (allowed: 1-65535, the port this server announces)");
	if (get_int(c, m, "subflows", "back.mptcp.subflows", 0, MSLB_PM_MAX, &n))
		cfg->back.subflows = (unsigned)n;
	if (get_int(c, m, "add_addr_accepted", "back.mptcp.add_addr_accepted", 0, MSLB_PM_MAX, &n))
		cfg->back.add_addr_accepted = (unsigned)n;
}

static void parse_back(struct ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "address", "service", "deliver_via", NULL };
	const config_setting_t *b = get_group(c, c->root, "back", "back");
	const config_setting_t *s;
	const char *allowed = "a list of { address = \"IP_B\"; service = \"IP_S\"; deliver_via = \"gateway\"; }";
	int n;

	if (!b)
		return;
	cfg->has_back = true;
	{
		static const char *const bkeys[] = { "addresses", "mptcp", NULL };

		check_keys(c, b, "back", bkeys, "addresses, mptcp");
	}
	parse_back_mptcp(c, b, cfg);
	s = config_setting_get_member(b, "addresses");
	if (!s) {
		err(c, b, "back.addresses: missing (allowed: %s)", allowed);
		return;
	}
	if (!config_setting_is_list(s) || config_setting_length(s) == 0) {
		err(c, s, "back.addresses: must be a non-empty list ( ... ) (allowed: %s)", allowed);
		return;
	}
	n = config_setting_length(s);
	cfg->back.addresses = calloc((size_t)n, sizeof(*cfg->back.addresses));
	if (!cfg->back.addresses)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct cfg_back_address ba = { 0 };
		char path[64];
		const char *a, *sv, *via;
		bool ok = true;

		if (!config_setting_is_group(e)) {
			err(c, e, "back.addresses[%d]: must be a group (allowed: %s)", i, allowed);
			continue;
		}
		snprintf(path, sizeof(path), "back.addresses[%d]", i);
		check_keys(c, e, path, keys, "address, service, deliver_via");
		snprintf(path, sizeof(path), "back.addresses[%d].address", i);
		a = get_str(c, e, "address", path, "an IPv4 or IPv6 address (IP_B)", true);
		ok = a && parse_addr(c, config_setting_get_member(e, "address"), path, a, &ba.address);
		snprintf(path, sizeof(path), "back.addresses[%d].service", i);
		sv = get_str(c, e, "service", path, "an IPv4 or IPv6 address (IP_S)", true);
		ok = sv && parse_addr(c, config_setting_get_member(e, "service"), path, sv, &ba.service) && ok;
		snprintf(path, sizeof(path), "back.addresses[%d].deliver_via", i);
		via = get_str(c, e, "deliver_via", path, "a gateway address of the service's family", false);
		if (via && parse_addr(c, config_setting_get_member(e, "deliver_via"), path, via, &ba.via))
			ba.has_via = true;
		else if (via)
			ok = false;
		if (!ok)
			continue;
		if (ba.address.family != ba.service.family)
			err(c, config_setting_get_member(e, "service"),
			    "back.addresses[%d].service: \"%s\" is not of the family of address \"%s\" (allowed: an %s address)",
			    i, sv, a, ba.address.family == AF_INET ? "IPv4" : "IPv6");
		if (ba.has_via && ba.via.family != ba.service.family)
			err(c, config_setting_get_member(e, "deliver_via"),
			    "back.addresses[%d].deliver_via: \"%s\" is not of the family of service \"%s\" (allowed: an %s address)",
			    i, via, sv, ba.service.family == AF_INET ? "IPv4" : "IPv6");
		for (unsigned j = 0; j < cfg->back.n_addresses; j++) {
			const struct cfg_back_address *o = &cfg->back.addresses[j];

			if (mslb_addr_eq(&o->address, &ba.address))
				err(c, config_setting_get_member(e, "address"),
				    "back.addresses[%d].address: \"%s\" is listed twice (allowed: each address once)", i, a);
			if (mslb_addr_eq(&o->service, &ba.service) && o->has_via && ba.has_via &&
			    !mslb_addr_eq(&o->via, &ba.via))
				err(c, config_setting_get_member(e, "deliver_via"),
				    "back.addresses[%d].deliver_via: service \"%s\" is already delivered via another gateway (allowed: one deliver_via per service)", i, sv);
		}
		for (unsigned j = 0; j < cfg->front.n_services; j++)
			if (mslb_addr_eq(&cfg->front.services[j], &ba.address))
				err(c, config_setting_get_member(e, "address"),
				    "back.addresses[%d].address: \"%s\" is also a front service (allowed: an address that is not in front.services)", i, a);
		cfg->back.addresses[cfg->back.n_addresses++] = ba;
	}
}

/* A service whose family no next hop has could only ever drop. */
static void check_families(struct ctx *c, const struct mslb_config *cfg)
{
	const config_setting_t *f = config_setting_get_member(c->root, "front");
	const config_setting_t *sv = f ? config_setting_get_member(f, "services") : NULL;

	if (!cfg->has_front || !cfg->front.n_next_hops)
		return;
	for (unsigned i = 0; i < cfg->front.n_services; i++) {
		bool v4 = cfg->front.services[i].family == AF_INET, ok = false;
		char a[MSLB_ADDRSTRLEN];

		for (unsigned j = 0; j < cfg->front.n_next_hops; j++)
			ok = ok || (v4 ? cfg->front.next_hops[j].has4 : cfg->front.next_hops[j].has6);
		if (!ok)
			err(c, sv, "front.services: \"%s\" is %s but no next hop has an %s address (allowed: services of the families the next hops have)",
			    mslb_addr_str(&cfg->front.services[i], a, sizeof(a)), v4 ? "IPv4" : "IPv6", v4 ? "ipv4" : "ipv6");
	}
}

static struct mslb_config *validate(config_t *lc, const char *name, struct config_errors *errs)
{
	static const char *const keys[] = { "log", "control_socket", "tun", "io", "routing", "front", "back", NULL };
	struct mslb_config *cfg = calloc(1, sizeof(*cfg));
	struct ctx c = { .file = name, .errs = errs, .root = config_root_setting(lc) };

	if (!cfg) {
		err(&c, NULL, "out of memory");
		return NULL;
	}
	cfg->file = strdup(name);
	cfg->log_level = LOG_INFO;
	cfg->log_dest = LOG_DEST_SYSLOG;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", MSLB_DEFAULT_SOCKET);
	snprintf(cfg->tun_name, sizeof(cfg->tun_name), "%s", MSLB_DEFAULT_TUN);
	cfg->tun_mtu = 1500;
	cfg->tun_offload = true;
	cfg->route_table = MSLB_DEFAULT_TABLE;
	cfg->rule_priority = MSLB_DEFAULT_PRIORITY;

	check_keys(&c, c.root, "", keys, "log, control_socket, tun, io, routing, front, back");
	parse_log(&c, cfg);
	parse_globals(&c, cfg);
	parse_front(&c, cfg);
	parse_back(&c, cfg);
	if (!cfg->has_front && !cfg->has_back && errs->n < CONFIG_MAX_ERRORS) {
		/* A whole-file problem: point at its first line. */
		snprintf(errs->line[errs->n++], sizeof(errs->line[0]),
			 "%s:1: no role configured (allowed: a front = { ... }; group, a back = { ... }; group, or both)", name);
	}
	check_families(&c, cfg);
	if (errs->n) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

static struct mslb_config *finish(config_t *lc, int ok, const char *name, struct config_errors *errs)
{
	struct mslb_config *cfg = NULL;

	if (!ok) {
		const char *f = config_error_file(lc);

		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			snprintf(errs->line[errs->n++], sizeof(errs->line[0]),
				 "%s:0: cannot read the file (allowed: a readable libconfig file)", name);
		else
			snprintf(errs->line[errs->n++], sizeof(errs->line[0]),
				 "%s:%d: %s (allowed: libconfig syntax, see mslb.conf(5))",
				 f ? f : name, config_error_line(lc), config_error_text(lc));
	} else {
		cfg = validate(lc, name, errs);
	}
	config_destroy(lc);
	return cfg;
}

struct mslb_config *config_load_file(const char *path, struct config_errors *errs)
{
	config_t lc;

	errs->n = 0;
	config_init(&lc);
	return finish(&lc, config_read_file(&lc, path) == CONFIG_TRUE, path, errs);
}

struct mslb_config *config_load_string(const char *text, const char *name, struct config_errors *errs)
{
	config_t lc;

	errs->n = 0;
	config_init(&lc);
	return finish(&lc, config_read_string(&lc, text) == CONFIG_TRUE, name, errs);
}

void config_free(struct mslb_config *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->front.services);
	free(c->front.next_hops);
	free(c->front.table);
	free(c->back.addresses);
	free(c);
}

const char *config_unmatched_name(const struct mslb_config *c)
{
	switch (c->front.unmatched) {
	case UNMATCHED_DROP: return "drop";
	case UNMATCHED_HASH: return "hash";
	default: return c->front.next_hops[c->front.unmatched_next_hop].name;
	}
}

void config_peek_socket(const char *path, char *buf, size_t len)
{
	const char *v = NULL;
	config_t lc;

	config_init(&lc);
	if (config_read_file(&lc, path) == CONFIG_TRUE &&
	    config_lookup_string(&lc, "control_socket", &v) == CONFIG_TRUE && v[0] == '/')
		snprintf(buf, len, "%s", v);
	else
		snprintf(buf, len, "%s", MSLB_DEFAULT_SOCKET);
	config_destroy(&lc);
}
