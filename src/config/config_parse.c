/* config_parse: the validation framework shared by config.c, config_front.c
 * and config_back.c: errors with FILE:LINE, unknown keys, typed getters. */
#include "config_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int config_line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

/* Copy in to out (cap bytes), control characters as \xNN: a newline in a
 * configured string must not split a problem over two lines, nor an
 * escape sequence reach the terminal or the log. */
static void copy_printable(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 1 < cap; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch >= 0x20 && ch != 0x7f) {
			out[n++] = (char)ch;
		} else if (n + 4 < cap) {
			snprintf(out + n, cap - n, "\\x%02x", ch);
			n += 4;
		} else {
			break;
		}
	}
	out[n] = '\0';
}

void config_errors_add(struct config_errors *errs, const char *fmt, ...)
{
	char raw[sizeof(errs->line[0])];
	va_list ap;

	if (errs->n >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	copy_printable(errs->line[errs->n++], sizeof(errs->line[0]), raw);
}

void config_err(struct config_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : c->file;
	char msg[sizeof(c->errs->line[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errors_add(c->errs, "%s:%d: %s", file, config_line_of(s ? s : c->root), msg);
}

/* Reject members of a group that we do not know: a typo must not pass.
 * where is the group's path ("" for the top level). */
void config_check_keys(struct config_ctx *c, const config_setting_t *g, const char *where,
		       const char *const *known, const char *allowed)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (const char *const *k = known; *k; k++)
			ok = ok || (name && !strcmp(name, *k));
		if (!ok)
			config_err(c, m, "%s%s%s: unknown setting (allowed: %s)", where, where[0] ? "." : "",
				   name ? name : "?", allowed);
	}
}

const config_setting_t *config_get_group(struct config_ctx *c, const config_setting_t *parent,
					 const char *key, const char *path)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (s && !config_setting_is_group(s)) {
		config_err(c, s, "%s: must be a group (allowed: %s = { ... };)", path, key);
		return NULL;
	}
	return s;
}

/* Returns the string, or NULL if absent (missing_ok) or wrong. */
const char *config_get_str(struct config_ctx *c, const config_setting_t *parent, const char *key,
			   const char *path, const char *allowed, bool required)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (!s) {
		if (required)
			config_err(c, parent, "%s: missing (allowed: %s)", path, allowed);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_err(c, s, "%s: must be a string (allowed: %s)", path, allowed);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* Returns true and *out if present and in range. */
bool config_get_int(struct config_ctx *c, const config_setting_t *parent, const char *key,
		    const char *path, long long lo, long long hi, long long *out)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	long long v;

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		config_err(c, s, "%s: must be an integer (allowed: %lld-%lld)", path, lo, hi);
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		config_err(c, s, "%s: %lld is out of range (allowed: %lld-%lld)", path, v, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

bool config_get_bool(struct config_ctx *c, const config_setting_t *parent, const char *key, const char *path,
		     bool *out)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_err(c, s, "%s: must be true or false (allowed: true, false)", path);
		return false;
	}
	*out = config_setting_get_bool(s);
	return true;
}

bool config_get_ms(struct config_ctx *c, const config_setting_t *parent, const char *key, const char *path,
		   unsigned lo_ms, unsigned hi_ms, unsigned *out)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	double v;

	if (!s)
		return false;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		config_err(c, s, "%s: must be a number of seconds (allowed: %g-%g)", path, lo_ms / 1000.0, hi_ms / 1000.0);
		return false;
	}
	/* NaN fails both tests below as well. */
	if (!(v * 1000.0 >= lo_ms - 0.5 && v * 1000.0 <= hi_ms + 0.5)) {
		config_err(c, s, "%s: %g is out of range (allowed: %g-%g seconds)", path, v, lo_ms / 1000.0, hi_ms / 1000.0);
		return false;
	}
	*out = (unsigned)(v * 1000.0 + 0.5);
	return true;
}

const config_setting_t *config_get_ports(struct config_ctx *c, const config_setting_t *parent, const char *key,
					 const char *path, uint16_t *ports, unsigned *n)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	const char *allowed = "a list of 1-16 TCP ports, e.g. [ 80, 443 ]";

	*n = 0;
	if (!s) {
		config_err(c, parent, "%s: missing (allowed: %s)", path, allowed);
		return NULL;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) < 1 ||
	    config_setting_length(s) > MSLB_MAX_SERVICE_PORTS) {
		config_err(c, s, "%s: must be a list of 1-%d ports (allowed: %s)", path, MSLB_MAX_SERVICE_PORTS,
			   allowed);
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : -1;
		bool dup = false;

		if (v < 1 || v > 65535) {
			config_err(c, e, "%s[%d]: not a port (allowed: 1-65535)", path, i);
			continue;
		}
		for (unsigned j = 0; j < *n; j++)
			dup = dup || ports[j] == v;
		if (dup) {
			config_err(c, e, "%s[%d]: %lld is listed twice (allowed: each port once)", path, i, v);
			continue;
		}
		ports[(*n)++] = (uint16_t)v;
	}
	return s;
}

bool config_elem_str(struct config_ctx *c, const config_setting_t *list, int i, const char *path,
		     const char *allowed, const config_setting_t **e, const char **v)
{
	*e = config_setting_get_elem(list, (unsigned)i);
	*v = config_setting_type(*e) == CONFIG_TYPE_STRING ? config_setting_get_string(*e) : NULL;
	if (!*v)
		config_err(c, *e, "%s[%d]: must be a string (allowed: %s)", path, i, allowed);
	return *v != NULL;
}

bool config_parse_addr(struct config_ctx *c, const config_setting_t *s, const char *path,
		       const char *text, struct mslb_addr *out)
{
	if (mslb_addr_parse(text, out) == 0)
		return true;
	config_err(c, s, "%s: \"%s\" is not an IP address (allowed: an IPv4 or IPv6 address)", path, text);
	return false;
}

bool config_name_ok(const char *s, size_t max)
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
