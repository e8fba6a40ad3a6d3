/* config_parse: private to config*.c. The validation framework the parts of
 * the parser share: every check reports "FILE:LINE: key: problem (allowed:
 * ...)" into the error list and parsing goes on. Not for other modules. */
#ifndef MSLB_CONFIG_PARSE_H
#define MSLB_CONFIG_PARSE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "base/addr.h"
#include "base/hset.h"

/* Items equal to an earlier one, without comparing every pair
 * (config_dup.c): the set holds the first item of each key, next chains
 * each item to the next equal one, last[first] is the latest. */
struct config_dup {
	struct hset set;
	uint32_t *next, *last;
	uint32_t cap;
};

struct config_ctx {
	const char *file;
	struct config_errors *errs;
	const config_setting_t *root;
	/* Over front.services and the next hops' names, for the checks and
	 * look-ups of later parts (config_front.c builds them). */
	struct config_dup services, names;
};

int config_line_of(const config_setting_t *s);
/* Add one problem line to errs (formatted as printf), control characters
 * written as \xNN so that a line stays one line and prints nothing but
 * text. */
void config_errors_add(struct config_errors *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with "FILE:LINE: " first; s NULL points at the root. */
void config_err(struct config_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reject members of g that are not in known (NULL-terminated). */
void config_check_keys(struct config_ctx *c, const config_setting_t *g, const char *where,
		       const char *const *known, const char *allowed);
/* The member key if absent or a group; NULL with an error if not a group. */
const config_setting_t *config_get_group(struct config_ctx *c, const config_setting_t *parent,
					 const char *key, const char *path);
const char *config_get_str(struct config_ctx *c, const config_setting_t *parent, const char *key,
			   const char *path, const char *allowed, bool required);
bool config_get_int(struct config_ctx *c, const config_setting_t *parent, const char *key,
		    const char *path, long long lo, long long hi, long long *out);
/* true or false at key into *out; false when absent or (an error) not a boolean. */
bool config_get_bool(struct config_ctx *c, const config_setting_t *parent, const char *key, const char *path,
		     bool *out);
/* Seconds, an integer or a float, in lo_ms-hi_ms milliseconds: *out in ms. */
bool config_get_ms(struct config_ctx *c, const config_setting_t *parent, const char *key, const char *path,
		   unsigned lo_ms, unsigned hi_ms, unsigned *out);
/* A list of 1 to MSLB_MAX_SERVICE_PORTS distinct TCP ports at key (required),
 * into ports[*n]; every bad element is reported. The list, or NULL when it
 * is missing or no list. */
const config_setting_t *config_get_ports(struct config_ctx *c, const config_setting_t *parent, const char *key,
					 const char *path, uint16_t *ports, unsigned *n);
/* Element i of list: its string in *v (and the element in *e, for error
 * lines), or false after "PATH[i]: must be a string (allowed: ...)". */
bool config_elem_str(struct config_ctx *c, const config_setting_t *list, int i, const char *path,
		     const char *allowed, const config_setting_t **e, const char **v);
bool config_parse_addr(struct config_ctx *c, const config_setting_t *s, const char *path,
		       const char *text, struct mslb_addr *out);
/* 1-max characters of A-Z a-z 0-9 _ . - */
bool config_name_ok(const char *s, size_t max);

/* Room for items 0..n-1. 0, or -1 out of memory (the caller reports it:
 * adds then find nothing). */
int config_dup_init(struct config_dup *d, unsigned n);
void config_dup_free(struct config_dup *d);
/* Record item index (hash h, equal to key as eq says); items are added in
 * file order. Returns the first earlier equal item, or HSET_EMPTY; the
 * others follow by d->next[j] until index itself. */
uint32_t config_dup_add(struct config_dup *d, uint32_t h, const void *key, hset_eq_fn eq, const void *ctx,
			uint32_t index);
/* The first item equal to key, or HSET_EMPTY. */
uint32_t config_dup_first(const struct config_dup *d, uint32_t h, const void *key, hset_eq_fn eq,
			  const void *ctx);
/* No further error would be kept: walks over earlier items may stop. */
bool config_errors_full(const struct config_ctx *c);
uint32_t config_addr_hash(const struct mslb_addr *a);
/* eq for c->services: ctx the config, key a struct mslb_addr. */
bool config_service_eq(const void *ctx, uint32_t index, const void *key);

/* The roles (config_front.c, config_back.c). The back is parsed after the
 * front, whose services it checks against. */
void config_parse_front(struct config_ctx *c, struct mslb_config *cfg);
void config_check_families(struct config_ctx *c, const struct mslb_config *cfg);
void config_parse_back(struct config_ctx *c, struct mslb_config *cfg);

/* Health checks and next hop states (config_health.c): front.health into
 * def (after the services), then each next hop's check and state. */
void config_parse_health_defaults(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg,
				  struct cfg_check *def);
void config_parse_next_hop_health(struct config_ctx *c, const config_setting_t *e, int i,
				  const struct cfg_check *def, const struct mslb_config *cfg, struct cfg_next_hop *nh);

/* Encapsulation mode (config_tunnel.c). */
bool config_parse_mode(struct config_ctx *c, const config_setting_t *g, const char *path, enum nh_mode *out);
/* The encapsulation at g's "encapsulation" into out: true when given and valid. */
bool config_parse_encap(struct config_ctx *c, const config_setting_t *g, const char *path, enum nh_encap *out);
void config_parse_front_tunnel(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg);
void config_check_front_tunnel(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg);
void config_parse_back_tunnel(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg);
void config_check_back_tunnel(struct config_ctx *c, const config_setting_t *b, const struct mslb_config *cfg);
void config_parse_return_endpoint(struct config_ctx *c, struct mslb_config *cfg);
void config_parse_icmp(struct config_ctx *c, struct mslb_config *cfg);

/* Persistence across changes (config_persist.c): front.persistence,
 * back.persistence. */
void config_parse_front_persist(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg);
void config_parse_back_persist(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg);

/* The redirection protocol between backs and its key file
 * (config_redirect.c), after the back, whose addresses it checks against. */
void config_parse_redirect(struct config_ctx *c, struct mslb_config *cfg);

#endif
