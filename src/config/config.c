/* config: libconfig -> struct mslb_config. Every check reports
 * "FILE:LINE: key: problem (allowed: ...)" and parsing goes on, so one run
 * shows every error in the file. This file loads, checks the top-level
 * settings (log, control_socket, tun, io, routing) and frees; the roles are
 * in config_front.c and config_back.c, the redirect group in
 * config_redirect.c, the shared checks in config_parse.c. */
#include "config.h"

#include <libconfig.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config_parse.h"

static void parse_log(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "level", "destination", NULL };
	const config_setting_t *g = config_get_group(c, c->root, "log", "log");
	const char *v;

	if (!g)
		return;
	config_check_keys(c, g, "log", keys, "level, destination");
	v = config_get_str(c, g, "level", "log.level", "\"error\", \"warning\", \"info\", \"debug\"", false);
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
			config_err(c, config_setting_get_member(g, "level"),
				   "log.level: \"%s\" is not a level (allowed: \"error\", \"warning\", \"info\", \"debug\")", v);
	}
	v = config_get_str(c, g, "destination", "log.destination", "\"syslog\", \"stderr\"", false);
	if (v) {
		if (!strcmp(v, "syslog"))
			cfg->log_dest = LOG_DEST_SYSLOG;
		else if (!strcmp(v, "stderr"))
			cfg->log_dest = LOG_DEST_STDERR;
		else
			config_err(c, config_setting_get_member(g, "destination"),
				   "log.destination: \"%s\" is not a destination (allowed: \"syslog\", \"stderr\")", v);
	}
}

/* user: resolved here, so that `mslbd check` (the unit's ExecStartPre)
 * reports an unknown account with its line, before anything starts. */
static void parse_user(struct config_ctx *c, struct mslb_config *cfg)
{
	const char *allowed = "the name of an existing account, e.g. \"mslbd\"";
	const config_setting_t *s = config_setting_get_member(c->root, "user");
	const struct passwd *pw;
	const char *v;

	v = config_get_str(c, c->root, "user", "user", allowed, false);
	if (!v)
		return;
	cfg->line_user = config_line_of(s);
	if (!config_name_ok(v, sizeof(cfg->user) - 1) || v[0] == '-' || v[0] == '.') {
		config_err(c, s, "user: \"%s\" is not an account name (allowed: %s)", v, allowed);
		return;
	}
	pw = getpwnam(v);
	if (!pw) {
		config_err(c, s, "user: no account \"%s\" on this host (allowed: %s)", v, allowed);
		return;
	}
	/* Switching "to root" would keep every privilege: say so instead. */
	if (pw->pw_uid == 0) {
		config_err(c, s, "user: \"%s\" is root (allowed: an unprivileged account; leave user out to run as started)", v);
		return;
	}
	snprintf(cfg->user, sizeof(cfg->user), "%s", v);
	cfg->user_uid = pw->pw_uid;
	cfg->user_gid = pw->pw_gid;
}

static void parse_globals(struct config_ctx *c, struct mslb_config *cfg)
{
	const config_setting_t *g;
	const char *v;
	long long n;

	v = config_get_str(c, c->root, "control_socket", "control_socket",
			   "an absolute path shorter than 108 bytes", false);
	if (v) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->control_socket))
			config_err(c, config_setting_get_member(c->root, "control_socket"),
				   "control_socket: \"%s\" is not usable (allowed: an absolute path shorter than 108 bytes)", v);
		else
			snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", v);
		cfg->line_control_socket = config_line_of(config_setting_get_member(c->root, "control_socket"));
	}

	parse_user(c, cfg);

	g = config_get_group(c, c->root, "tun", "tun");
	if (g) {
		static const char *const keys[] = { "name", "mtu", "offload", "io_uring", NULL };

		config_check_keys(c, g, "tun", keys, "name, mtu, offload, io_uring");
		config_get_bool(c, g, "offload", "tun.offload", &cfg->tun_offload);
		cfg->line_tun_offload = config_line_of(config_setting_get_member(g, "offload"));
		config_get_bool(c, g, "io_uring", "tun.io_uring", &cfg->tun_io_uring);
		cfg->line_tun_io_uring = config_line_of(config_setting_get_member(g, "io_uring"));
		v = config_get_str(c, g, "name", "tun.name", "1-15 characters of A-Z a-z 0-9 _ . -", false);
		if (v) {
			if (!config_name_ok(v, 15) || !strcmp(v, ".") || !strcmp(v, ".."))
				config_err(c, config_setting_get_member(g, "name"),
					   "tun.name: \"%s\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)", v);
			else
				snprintf(cfg->tun_name, sizeof(cfg->tun_name), "%s", v);
			cfg->line_tun_name = config_line_of(config_setting_get_member(g, "name"));
		}
		if (config_get_int(c, g, "mtu", "tun.mtu", 1280, 65535, &n))
			cfg->tun_mtu = (unsigned)n;
	}

	g = config_get_group(c, c->root, "io", "io");
	if (g) {
		static const char *const keys[] = { "af_packet", NULL };
		const config_setting_t *l = config_setting_get_member(g, "af_packet");
		const char *allowed = "a list of 1-16 existing Ethernet interface names, e.g. [ \"eth0\", \"eth1\" ]";

		config_check_keys(c, g, "io", keys, "af_packet");
		cfg->line_af_packet = config_line_of(l ? l : g);
		if (l && (!config_setting_is_aggregate(l) || config_setting_is_group(l) ||
			  config_setting_length(l) < 1 || config_setting_length(l) > MSLB_AFP_MAX)) {
			config_err(c, l, "io.af_packet: must be a list of 1-%d names (allowed: %s)", MSLB_AFP_MAX, allowed);
			l = NULL;
		}
		for (int i = 0; l && i < config_setting_length(l); i++) {
			const config_setting_t *e;
			const char *name;

			if (!config_elem_str(c, l, i, "io.af_packet", allowed, &e, &name))
				continue;
			if (!config_name_ok(name, 15) || !strcmp(name, ".") || !strcmp(name, "..")) {
				config_err(c, e, "io.af_packet[%d]: \"%s\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)", i, name);
				continue;
			}
			if (!strcmp(name, cfg->tun_name)) {
				config_err(c, e, "io.af_packet[%d]: \"%s\" is the TUN device (allowed: an Ethernet interface other than tun.name)", i, name);
				continue;
			}
			for (unsigned j = 0; j < cfg->n_af_packet; j++)
				if (!strcmp(cfg->af_packet[j], name))
					config_err(c, e, "io.af_packet[%d]: \"%s\" is listed twice (allowed: each interface once)", i, name);
			snprintf(cfg->af_packet[cfg->n_af_packet++], sizeof(cfg->af_packet[0]), "%s", name);
		}
		/* The rings hand over GSO super-packets; those the daemon cannot
		 * send itself go through the TUN, which must take them whole. */
		if (cfg->n_af_packet && !cfg->tun_offload)
			config_err(c, l, "io.af_packet: needs tun.offload = true (allowed: io.af_packet with tun.offload on, or tun.offload = false without io.af_packet)");
	}

	g = config_get_group(c, c->root, "routing", "routing");
	if (g) {
		static const char *const keys[] = { "table", "priority", "announce_table", NULL };

		config_check_keys(c, g, "routing", keys, "table, priority, announce_table");
		if (config_get_int(c, g, "table", "routing.table", 1, 4294967294LL, &n)) {
			/* table and table + 1 are ours; 253-255 are the kernel's. */
			if (n >= 252 && n <= 255)
				config_err(c, config_setting_get_member(g, "table"),
					   "routing.table: %lld or %lld collides with the kernel's tables 253-255 (allowed: 1-4294967294 except 252-255)", n, n + 1);
			else
				cfg->route_table = (uint32_t)n;
		}
		if (config_get_int(c, g, "priority", "routing.priority", 1, 32000, &n))
			cfg->rule_priority = (uint32_t)n;
		if (config_get_int(c, g, "announce_table", "routing.announce_table", 1, 4294967294LL, &n)) {
			const config_setting_t *at = config_setting_get_member(g, "announce_table");

			cfg->line_announce = config_setting_source_line(at);
			if (n >= 253 && n <= 255)
				config_err(c, at, "routing.announce_table: %lld is a kernel table (allowed: 1-4294967294 except 253-255, routing.table and routing.table + 1)", n);
			else if (n == cfg->route_table || n == (long long)cfg->route_table + 1)
				config_err(c, at, "routing.announce_table: %lld is one of the daemon's own tables %u and %u (allowed: another table)",
					   n, cfg->route_table, cfg->route_table + 1);
			else
				cfg->announce_table = (uint32_t)n;
		}
	}
}

static struct mslb_config *validate(config_t *lc, const char *name, struct config_errors *errs)
{
	static const char *const keys[] = { "log", "control_socket", "user", "tun", "io", "routing", "front",
					    "back", "redirect", "return_endpoint", "icmp", NULL };
	struct mslb_config *cfg = calloc(1, sizeof(*cfg));
	struct config_ctx c = { .file = name, .errs = errs, .root = config_root_setting(lc) };

	if (!cfg) {
		config_err(&c, NULL, "out of memory");
		return NULL;
	}
	cfg->file = strdup(name);
	cfg->log_level = LOG_INFO;
	cfg->log_dest = LOG_DEST_SYSLOG;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", MSLB_DEFAULT_SOCKET);
	snprintf(cfg->tun_name, sizeof(cfg->tun_name), "%s", MSLB_DEFAULT_TUN);
	cfg->tun_mtu = 1500;
	cfg->tun_offload = true;
	cfg->tun_io_uring = true;
	cfg->route_table = MSLB_DEFAULT_TABLE;
	cfg->front.pmtu_expires = 600;	/* a back's return tunnel uses it too */
	cfg->rule_priority = MSLB_DEFAULT_PRIORITY;

	config_check_keys(&c, c.root, "", keys,
			  "log, control_socket, user, tun, io, routing, front, back, redirect, return_endpoint, icmp");
	parse_log(&c, cfg);
	parse_globals(&c, cfg);
	config_parse_front(&c, cfg);
	config_parse_back(&c, cfg);
	config_parse_redirect(&c, cfg);
	config_parse_return_endpoint(&c, cfg);
	config_parse_icmp(&c, cfg);
	if (!cfg->has_front && !cfg->has_back && !cfg->has_return_endpoint) {
		/* A whole-file problem: point at its first line. */
		config_errors_add(errs, "%s:1: no role configured (allowed: a front = { ... }; group, a back = { ... }; group, a return_endpoint = { ... }; group, or several)", name);
	}
	config_check_families(&c, cfg);
	if (cfg->announce_table && !cfg->has_front)
		config_errors_add(errs, "%s:%d: routing.announce_table: announces a front's services (allowed: with a front = { ... }; group)",
				  name, cfg->line_announce);
	config_dup_free(&c.services);
	config_dup_free(&c.names);
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
			config_errors_add(errs, "%s:0: cannot read the file (allowed: a readable libconfig file)", name);
		else
			config_errors_add(errs, "%s:%d: %s (allowed: libconfig syntax, see mslb.conf(5))",
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
	free(c->redirect.peers);
	explicit_bzero(c->redirect.keys, sizeof(c->redirect.keys));
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
