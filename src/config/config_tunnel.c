/* config_tunnel: what encapsulation mode adds to the file (draft sections
 * 5.2 and 6): the front's tunnel settings, the back's decapsulation and
 * return tunnel, the return endpoint, and the ICMP error budget. */
#include "config_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PREFIX_ALLOWED "a list of addresses or prefixes, e.g. [ \"198.51.100.0/24\", \"2001:db8::1\" ]"

bool cfg_prefixes_match(const struct cfg_prefixes *l, const struct mslb_addr *a)
{
	for (unsigned i = 0; i < l->n; i++)
		if (mslb_prefix_contains(&l->p[i], a))
			return true;
	return false;
}

/* A bare address is its own host prefix. */
static int parse_prefix(const char *v, struct mslb_prefix *p)
{
	if (strchr(v, '/'))
		return mslb_prefix_parse(v, p);
	if (mslb_addr_parse(v, &p->addr) < 0)
		return -1;
	p->len = (uint8_t)(8 * mslb_addr_size(p->addr.family));
	return 0;
}

/* Returns whether key was present (and parsed into out). */
static bool parse_prefixes(struct config_ctx *c, const config_setting_t *g, const char *key,
			   const char *path, struct cfg_prefixes *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int n;

	if (!s)
		return false;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) == 0) {
		config_err(c, s, "%s: must be a non-empty list (allowed: %s)", path, PREFIX_ALLOWED);
		return true;
	}
	n = config_setting_length(s);
	if (n > MSLB_MAX_PREFIXES) {
		config_err(c, s, "%s: %d entries (allowed: at most %d)", path, n, MSLB_MAX_PREFIXES);
		return true;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e;
		const char *v;
		int r;

		if (!config_elem_str(c, s, i, path, PREFIX_ALLOWED, &e, &v))
			continue;
		r = parse_prefix(v, &out->p[out->n]);
		if (r == -2)
			config_err(c, e, "%s[%d]: \"%s\" has host bits set after the length (allowed: a prefix such as \"198.51.100.0/24\")", path, i, v);
		else if (r < 0)
			config_err(c, e, "%s[%d]: \"%s\" is not an address or prefix (allowed: %s)", path, i, v, PREFIX_ALLOWED);
		else
			out->n++;
	}
	return true;
}

/* { ipv4 = "..."; ipv6 = "..."; }: one address per family. */
static void parse_family_pair(struct config_ctx *c, const config_setting_t *g, const char *key,
			      const char *path, bool has[2], struct mslb_addr a[2])
{
	static const char *const keys[] = { "ipv4", "ipv6", NULL };
	const config_setting_t *s = config_get_group(c, g, key, path);
	char p[80];

	if (!s)
		return;
	config_check_keys(c, s, path, keys, "ipv4, ipv6");
	for (int f = 0; f < 2; f++) {
		const char *name = f ? "ipv6" : "ipv4";
		const char *v;

		snprintf(p, sizeof(p), "%s.%s", path, name);
		v = config_get_str(c, s, name, p, f ? "an IPv6 address" : "an IPv4 address", false);
		if (!v || !config_parse_addr(c, config_setting_get_member(s, name), p, v, &a[f]))
			continue;
		if (a[f].family != (f ? AF_INET6 : AF_INET))
			config_err(c, config_setting_get_member(s, name), "%s: \"%s\" is not %s (allowed: an %s address)",
				   p, v, f ? "IPv6" : "IPv4", f ? "IPv6" : "IPv4");
		else
			has[f] = true;
	}
	if (!config_setting_get_member(s, "ipv4") && !config_setting_get_member(s, "ipv6"))
		config_err(c, s, "%s: empty (allowed: ipv4 and/or ipv6)", path);
}

bool config_next_hop_carries(const struct cfg_next_hop *nh, int family)
{
	if (nh->mode == NH_ENCAP && nh->outer != OUTER_SAME)
		return nh->outer == OUTER_IPV4 ? nh->has4 : nh->has6;
	return family == AF_INET ? nh->has4 : nh->has6;
}

unsigned config_outer_version(const struct cfg_next_hop *nh, unsigned inner_version)
{
	return nh->outer == OUTER_SAME ? inner_version : nh->outer == OUTER_IPV4 ? 4 : 6;
}

bool config_parse_mode(struct config_ctx *c, const config_setting_t *g, const char *path, enum nh_mode *out)
{
	const char *v = config_get_str(c, g, "mode", path, "\"translate\" or \"encapsulate\"", false);

	if (!v)
		return false;
	if (!strcmp(v, "translate"))
		*out = NH_TRANSLATE;
	else if (!strcmp(v, "encapsulate"))
		*out = NH_ENCAP;
	else
		config_err(c, config_setting_get_member(g, "mode"),
			   "%s: \"%s\" is not a mode (allowed: \"translate\", \"encapsulate\")", path, v);
	return true;
}

bool config_parse_encap(struct config_ctx *c, const config_setting_t *g, const char *path, enum nh_encap *out)
{
	const char *v = config_get_str(c, g, "encapsulation", path, "\"ip\" or \"gue\"", false);

	if (!v)
		return false;
	if (!strcmp(v, "ip"))
		*out = ENCAP_IP;
	else if (!strcmp(v, "gue"))
		*out = ENCAP_GUE;
	else {
		config_err(c, config_setting_get_member(g, "encapsulation"),
			   "%s: \"%s\" is not an encapsulation (allowed: \"ip\" for IP-in-IP, \"gue\" for UDP)", path, v);
		return false;	/* one error for one setting */
	}
	return true;
}

/* A UDP port for GUE at key, or def. */
static uint16_t gue_port(struct config_ctx *c, const config_setting_t *g, const char *path, long long lo,
			 uint16_t def)
{
	long long n;

	if (config_get_int(c, g, "gue_port", path, lo, 65535, &n))
		return (uint16_t)n;
	return def;
}

void config_parse_front_tunnel(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	long long n;

	cfg->front.mode = NH_TRANSLATE;
	cfg->front.pmtu_expires = 600;
	config_parse_mode(c, f, "front.mode", &cfg->front.mode);
	config_parse_encap(c, f, "front.encapsulation", &cfg->front.encap);
	cfg->front.gue_port = gue_port(c, f, "front.gue_port", 1, MSLB_GUE_PORT);
	parse_family_pair(c, f, "tunnel_source", "front.tunnel_source", cfg->front.has_tsrc, cfg->front.tsrc);
	parse_prefixes(c, f, "allowed_sources", "front.allowed_sources", &cfg->front.allowed);
	if (config_get_int(c, f, "pmtu_expires", "front.pmtu_expires", 60, 86400, &n))
		cfg->front.pmtu_expires = (unsigned)n;
}

/* An outer header needs a source of its family: tunnel_source, else a
 * service of that family (the same-family default is IP_S itself). */
void config_check_front_tunnel(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	bool has[2] = { false, false };	/* a service of the family: [0] IPv4, [1] IPv6 */

	for (unsigned k = 0; k < cfg->front.n_services; k++)
		has[mslb_af_index(cfg->front.services[k].family)] = true;
	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

		for (int of = 0; of < 2 && nh->mode == NH_ENCAP; of++) {
			bool svc = has[of], used, src = cfg->front.has_tsrc[of];

			/* Same family: only packets to a service of it use it. */
			used = nh->outer == OUTER_SAME ? svc && (of ? nh->has6 : nh->has4)
						       : (nh->outer == OUTER_IPV6) == (of == 1);
			if (!used)
				continue;
			if (nh->outer != OUTER_SAME && !(of ? nh->has6 : nh->has4))
				config_err(c, f, "front.next_hops: \"%s\" has outer = \"%s\" but no %s address (allowed: an outer family the next hop has an address of)",
					   nh->name, of ? "ipv6" : "ipv4", of ? "ipv6" : "ipv4");
			if (!src && !svc)
				config_err(c, f, "front.next_hops: \"%s\" needs an %s outer source (allowed: front.tunnel_source.%s, or an %s service)",
					   nh->name, of ? "IPv6" : "IPv4", of ? "ipv6" : "ipv4", of ? "IPv6" : "IPv4");
		}
	}
}

void config_parse_back_tunnel(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg)
{
	const config_setting_t *r = config_get_group(c, b, "reassembly", "back.reassembly");
	long long n;

	/* Off unless asked for: UDP to that port of a back address may be a
	 * service's, in translation mode. */
	cfg->back.gue_port = gue_port(c, b, "back.gue_port", 0, 0);

	cfg->back.reasm_memory = 4 << 20;
	cfg->back.reasm_timeout = 30;
	if (r) {
		static const char *const keys[] = { "memory", "timeout", NULL };

		config_check_keys(c, r, "back.reassembly", keys, "memory, timeout");
		if (config_get_int(c, r, "memory", "back.reassembly.memory", 1 << 17, 1 << 28, &n))
			cfg->back.reasm_memory = (unsigned)n;
		if (config_get_int(c, r, "timeout", "back.reassembly.timeout", 1, 120, &n))
			cfg->back.reasm_timeout = (unsigned)n;
	}
	parse_family_pair(c, b, "return_tunnel", "back.return_tunnel", cfg->back.has_return, cfg->back.return_to);
	if (parse_prefixes(c, b, "allowed_sources", "back.allowed_sources", &cfg->back.allowed))
		return;
	/* Fronts send from IP_S unless told otherwise. */
	cfg->back.allowed_default = true;
	for (unsigned i = 0; i < cfg->back.n_addresses && cfg->back.allowed.n < MSLB_MAX_PREFIXES; i++) {
		const struct mslb_addr *s = &cfg->back.addresses[i].service;

		if (cfg_prefixes_match(&cfg->back.allowed, s))
			continue;
		cfg->back.allowed.p[cfg->back.allowed.n].addr = *s;
		cfg->back.allowed.p[cfg->back.allowed.n++].len = (uint8_t)(8 * mslb_addr_size(s->family));
	}
}

/* The return tunnel leaves from the back address of the inner family. */
void config_check_back_tunnel(struct config_ctx *c, const config_setting_t *b, const struct mslb_config *cfg)
{
	for (int f = 0; f < 2; f++) {
		bool ok = false;

		if (!cfg->back.has_return[f])
			continue;
		for (unsigned i = 0; i < cfg->back.n_addresses; i++)
			ok = ok || cfg->back.addresses[i].address.family == (f ? AF_INET6 : AF_INET);
		if (!ok)
			config_err(c, config_setting_get_member(b, "return_tunnel"),
				   "back.return_tunnel.%s: no %s back address to send it from (allowed: a family back.addresses has)",
				   f ? "ipv6" : "ipv4", f ? "IPv6" : "IPv4");
	}
}

void config_parse_return_endpoint(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "addresses", "allowed_sources", NULL };
	const config_setting_t *g = config_get_group(c, c->root, "return_endpoint", "return_endpoint");
	const config_setting_t *s;
	const char *allowed = "a list of 1-4 addresses, e.g. [ \"192.0.2.1\" ]";

	if (!g)
		return;
	cfg->has_return_endpoint = true;
	config_check_keys(c, g, "return_endpoint", keys, "addresses, allowed_sources");
	if (!parse_prefixes(c, g, "allowed_sources", "return_endpoint.allowed_sources", &cfg->return_endpoint.allowed))
		config_err(c, g, "return_endpoint.allowed_sources: missing (allowed: %s; there is no open decapsulator)", PREFIX_ALLOWED);
	s = config_setting_get_member(g, "addresses");
	if (!s || !config_setting_is_aggregate(s) || config_setting_is_group(s) ||
	    config_setting_length(s) < 1 || config_setting_length(s) > 4) {
		config_err(c, s ? s : g, "return_endpoint.addresses: %s (allowed: %s)", s ? "not a list of 1-4" : "missing", allowed);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e;
		const char *v;
		struct mslb_addr a;

		if (!config_elem_str(c, s, i, "return_endpoint.addresses", allowed, &e, &v) ||
		    !config_parse_addr(c, e, "return_endpoint.addresses", v, &a))
			continue;
		for (unsigned j = 0; j < cfg->front.n_services; j++)
			if (mslb_addr_eq(&cfg->front.services[j], &a))
				config_err(c, e, "return_endpoint.addresses: \"%s\" is a front service (allowed: an address of its own)", v);
		for (unsigned j = 0; j < cfg->back.n_addresses; j++)
			if (mslb_addr_eq(&cfg->back.addresses[j].address, &a))
				config_err(c, e, "return_endpoint.addresses: \"%s\" is a back address (allowed: an address of its own)", v);
		cfg->return_endpoint.addresses[cfg->return_endpoint.n++] = a;
	}
}

void config_parse_icmp(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "rate", "burst", NULL };
	const config_setting_t *g = config_get_group(c, c->root, "icmp", "icmp");
	long long n;

	cfg->icmp_rate = 100;
	cfg->icmp_burst = 20;
	if (!g)
		return;
	config_check_keys(c, g, "icmp", keys, "rate, burst");
	if (config_get_int(c, g, "rate", "icmp.rate", 0, 100000, &n))
		cfg->icmp_rate = (unsigned)n;
	if (config_get_int(c, g, "burst", "icmp.burst", 1, 100000, &n))
		cfg->icmp_burst = (unsigned)n;
}
