/* config_health: front.health (the checks' defaults and probe sources),
 * a next hop's own check = { ... } and state. A probe goes to a service
 * address through that one next hop, so the target must be a service of a
 * family the next hop carries. */
#include "config_parse.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define CHECK_KEYS "kind, port, interval, timeout, rise, fall, http_path, http_status, http_host, service"
#define KINDS "\"tcp\", \"icmp\", \"http\" or \"none\""

/* The one list of the kinds' words: the parser reads them, status shows them. */
static const char *const kind_names[] = {
	[HC_NONE] = "none",
	[HC_TCP] = "tcp",
	[HC_ICMP] = "icmp",
	[HC_HTTP] = "http",
};

const char *config_check_kind_name(enum hc_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "none";
}

/* Printable ASCII without blanks: what may go into a request line. */
static bool token_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* The keys of g over *k (front.health over the built-in defaults, or a
 * next hop's check over front.health). */
static void parse_check(struct config_ctx *c, const config_setting_t *g, const char *where, struct cfg_check *k,
			const struct mslb_config *cfg)
{
	char path[96];
	const char *v;
	long long n;

	snprintf(path, sizeof(path), "%s.kind", where);
	v = config_get_str(c, g, "kind", path, KINDS, false);
	if (v) {
		unsigned i;

		for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]) && strcmp(v, kind_names[i]); i++)
			;
		if (i < sizeof(kind_names) / sizeof(kind_names[0]))
			k->kind = (enum hc_kind)i;
		else
			config_err(c, config_setting_get_member(g, "kind"), "%s: \"%s\" is not a kind of check (allowed: %s)",
				   path, v, KINDS);
	}
	snprintf(path, sizeof(path), "%s.port", where);
	if (config_get_int(c, g, "port", path, 1, 65535, &n))
		k->port = (uint16_t)n;
	snprintf(path, sizeof(path), "%s.interval", where);
	config_get_ms(c, g, "interval", path, 100, 3600000, &k->interval_ms);
	snprintf(path, sizeof(path), "%s.timeout", where);
	config_get_ms(c, g, "timeout", path, 10, 60000, &k->timeout_ms);
	snprintf(path, sizeof(path), "%s.rise", where);
	if (config_get_int(c, g, "rise", path, 1, 100, &n))
		k->rise = (unsigned)n;
	snprintf(path, sizeof(path), "%s.fall", where);
	if (config_get_int(c, g, "fall", path, 1, 100, &n))
		k->fall = (unsigned)n;
	snprintf(path, sizeof(path), "%s.http_status", where);
	if (config_get_int(c, g, "http_status", path, 100, 599, &n))
		k->http_status = (unsigned)n;
	snprintf(path, sizeof(path), "%s.http_path", where);
	v = config_get_str(c, g, "http_path", path, "\"/\" and up to 126 printable characters, no blanks", false);
	if (v) {
		if (v[0] != '/' || !token_ok(v, MSLB_HTTP_PATH_MAX - 1))
			config_err(c, config_setting_get_member(g, "http_path"),
				   "%s: \"%s\" is not a request path (allowed: \"/\" and up to 126 printable characters, no blanks)",
				   path, v);
		else
			snprintf(k->http_path, sizeof(k->http_path), "%s", v);
	}
	snprintf(path, sizeof(path), "%s.http_host", where);
	v = config_get_str(c, g, "http_host", path, "1-63 printable characters, no blanks", false);
	if (v) {
		if (!token_ok(v, MSLB_HTTP_HOST_MAX - 1))
			config_err(c, config_setting_get_member(g, "http_host"),
				   "%s: \"%s\" is not a host name (allowed: 1-63 printable characters, no blanks)", path, v);
		else
			snprintf(k->http_host, sizeof(k->http_host), "%s", v);
	}
	snprintf(path, sizeof(path), "%s.service", where);
	v = config_get_str(c, g, "service", path, "one of front.services", false);
	if (v) {
		struct mslb_addr a;

		if (config_parse_addr(c, config_setting_get_member(g, "service"), path, v, &a)) {
			if (config_dup_first(&c->services, config_addr_hash(&a), &a, config_service_eq, cfg) == HSET_EMPTY)
				config_err(c, config_setting_get_member(g, "service"),
					   "%s: \"%s\" is not a service address (allowed: one of front.services)", path, v);
			else
				k->target = a;
		}
	}
}

void config_parse_health_defaults(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg,
				  struct cfg_check *def)
{
	static const char *const keys[] = { "kind", "port", "interval", "timeout", "rise", "fall", "http_path",
					    "http_status", "http_host", "service", "source_ipv4", "source_ipv6",
					    NULL };
	const config_setting_t *g = config_get_group(c, f, "health", "front.health");

	/* A failure is seen within interval * fall + timeout: 2.5 s. */
	*def = (struct cfg_check){ .kind = HC_NONE, .interval_ms = 1000, .timeout_ms = 500, .rise = 2, .fall = 2,
				   .http_status = 200 };
	snprintf(def->http_path, sizeof(def->http_path), "/");
	if (!g)
		return;
	def->kind = HC_TCP;
	config_check_keys(c, g, "front.health", keys, CHECK_KEYS ", source_ipv4, source_ipv6");
	parse_check(c, g, "front.health", def, cfg);
	/* Said once here; a next hop's own check group is checked again. */
	if ((def->kind == HC_TCP || def->kind == HC_HTTP) && !def->port && !config_setting_get_member(g, "port"))
		config_err(c, g, "front.health: a %s check needs a port (allowed: port = 1-65535)",
			   def->kind == HC_TCP ? "tcp" : "http");
	if (def->kind != HC_NONE && def->timeout_ms > def->interval_ms)
		config_err(c, g, "front.health: timeout %g s is longer than interval %g s (allowed: timeout <= interval)",
			   def->timeout_ms / 1000.0, def->interval_ms / 1000.0);
	for (int fi = 0; fi < 2; fi++) {
		const char *key = fi ? "source_ipv6" : "source_ipv4", *fam = fi ? "IPv6" : "IPv4";
		char path[40];
		const char *v;

		snprintf(path, sizeof(path), "front.health.%s", key);
		v = config_get_str(c, g, key, path, fi ? "an IPv6 address of this host" : "an IPv4 address of this host",
				   false);
		if (!v || !config_parse_addr(c, config_setting_get_member(g, key), path, v, &cfg->front.hsrc[fi]))
			continue;
		if (cfg->front.hsrc[fi].family != (fi ? AF_INET6 : AF_INET))
			config_err(c, config_setting_get_member(g, key), "%s: \"%s\" is not %s (allowed: an %s address of this host)",
				   path, v, fam, fam);
		else
			cfg->front.has_hsrc[fi] = true;
	}
}

/* The first service of a family nh carries, IPv4 first. */
static bool default_target(const struct mslb_config *cfg, const struct cfg_next_hop *nh, struct mslb_addr *out)
{
	for (int fi = 0; fi < 2; fi++) {
		int family = fi ? AF_INET6 : AF_INET;

		if (!config_next_hop_carries(nh, family))
			continue;
		for (unsigned i = 0; i < cfg->front.n_services; i++)
			if (cfg->front.services[i].family == family) {
				*out = cfg->front.services[i];
				return true;
			}
	}
	return false;
}

void config_parse_next_hop_health(struct config_ctx *c, const config_setting_t *e, int i,
				  const struct cfg_check *def, const struct mslb_config *cfg, struct cfg_next_hop *nh)
{
	static const char *const keys[] = { "kind", "port", "interval", "timeout", "rise", "fall", "http_path",
					    "http_status", "http_host", "service", NULL };
	const config_setting_t *g, *at;
	char where[48], path[64];
	const char *v;

	snprintf(path, sizeof(path), "front.next_hops[%d].state", i);
	v = config_get_str(c, e, "state", path, "\"up\" or \"drain\"", false);
	if (v && !strcmp(v, "drain"))
		nh->drain = true;
	else if (v && strcmp(v, "up"))
		config_err(c, config_setting_get_member(e, "state"), "%s: \"%s\" is not a state (allowed: \"up\", \"drain\")",
			   path, v);

	nh->check = *def;
	snprintf(where, sizeof(where), "front.next_hops[%d].check", i);
	g = config_get_group(c, e, "check", where);
	if (g) {
		if (def->kind == HC_NONE)
			nh->check.kind = HC_TCP;	/* a check group asks for a check */
		config_check_keys(c, g, where, keys, CHECK_KEYS);
		parse_check(c, g, where, &nh->check, cfg);
	}
	at = g ? g : e;
	if (nh->check.kind == HC_NONE)
		return;
	/* front.health's own problems were reported there. */
	if (g && (nh->check.kind == HC_TCP || nh->check.kind == HC_HTTP) && !nh->check.port)
		config_err(c, at, "%s: next hop \"%s\" has a %s check without a port (allowed: port = 1-65535)", where,
			   nh->name, nh->check.kind == HC_TCP ? "tcp" : "http");
	if (g && nh->check.timeout_ms > nh->check.interval_ms)
		config_err(c, at, "%s: timeout %g s is longer than interval %g s (allowed: timeout <= interval)", where,
			   nh->check.timeout_ms / 1000.0, nh->check.interval_ms / 1000.0);
	if (nh->check.target.family) {
		char a[MSLB_ADDRSTRLEN];

		if (!config_next_hop_carries(nh, nh->check.target.family))
			config_err(c, at, "%s: next hop \"%s\" has no %s address for service \"%s\" (allowed: a service of a family it has)",
				   where, nh->name, nh->check.target.family == AF_INET ? "ipv4" : "ipv6",
				   mslb_addr_str(&nh->check.target, a, sizeof(a)));
	} else if (!default_target(cfg, nh, &nh->check.target)) {
		config_err(c, at, "%s: next hop \"%s\" carries no service's family, nothing to probe (allowed: kind = \"none\")",
			   where, nh->name);
	}
}
