/* config_redirect: the redirect = { ... } group, the redirection protocol
 * between backs (draft-olteanu 3.4): the local UDP endpoint, the peers and
 * their tunnel addresses, the limits on rules and messages, and the key
 * file, read each time the file is loaded (start and every reload). */
#include "config_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 65536
#define KEYS_ALLOWED "\"ID HEX\" lines, ID 0-255, HEX 64 hex digits"
#define KEY_FILE_ALLOWED "mode 0600 or 0400, owned by the user the daemon runs as"
#define PEER_ALLOWED "{ name = \"b2\"; address = \"198.51.100.62\"; tunnel = \"198.51.100.12\"; }"
#define TUNNEL_ALLOWED "an address string, or a list of 1-2 with at most one IPv4 and one IPv6 address, " \
	"e.g. [ \"198.51.100.12\", \"2001:db8:b::12\" ]"

/* ---- the key file ----------------------------------------------------- */

static bool key_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One line p[0..n) without its newline: 0 blank or a comment, 1 a key in
 * *id and key, -1 a problem in why. A key line's text is never quoted in
 * why: it may hold most of a key. */
static int key_line(const char *p, size_t n, unsigned *id, uint8_t key[MSLB_REDIRECT_KEY_LEN], char *why,
		    size_t whylen)
{
	const char *nul;
	size_t i = 0, d0, digits = 0;
	unsigned v = 0;

	while (i < n && key_blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	nul = memchr(p, '\0', n);
	if (nul) {
		snprintf(why, whylen, "a NUL byte at column %zu", (size_t)(nul - p) + 1);
		return -1;
	}
	if (p[i] < '0' || p[i] > '9') {
		snprintf(why, whylen, "the line does not start with an ID (column %zu)", i + 1);
		return -1;
	}
	for (d0 = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if (v <= 255)	/* then at most 2559 + 9: no overflow */
			v = v * 10 + (unsigned)(p[i] - '0');
	if (i < n && !key_blank(p[i])) {
		snprintf(why, whylen, "the ID is not a decimal number (column %zu)", i + 1);
		return -1;
	}
	if (v > 255) {
		snprintf(why, whylen, "ID %.*s%s is out of range", (int)(i - d0 > 12 ? 12 : i - d0), p + d0,
			 i - d0 > 12 ? "..." : "");
		return -1;
	}
	*id = v;
	while (i < n && key_blank(p[i]))
		i++;
	if (i == n) {
		snprintf(why, whylen, "ID %u has no key", v);
		return -1;
	}
	memset(key, 0, MSLB_REDIRECT_KEY_LEN);
	for (; i < n && !key_blank(p[i]); i++, digits++) {
		int x = hex_value(p[i]);

		if (x < 0) {
			explicit_bzero(key, MSLB_REDIRECT_KEY_LEN);
			snprintf(why, whylen, "the key of ID %u has a character that is not a hex digit (column %zu)", v, i + 1);
			return -1;
		}
		if (digits < 2 * MSLB_REDIRECT_KEY_LEN)
			key[digits / 2] |= (uint8_t)(digits % 2 ? x : x << 4);
	}
	if (digits != 2 * MSLB_REDIRECT_KEY_LEN) {
		explicit_bzero(key, MSLB_REDIRECT_KEY_LEN);
		snprintf(why, whylen, "the key of ID %u has %zu hex digits", v, digits);
		return -1;
	}
	while (i < n && key_blank(p[i]))
		i++;
	if (i < n) {
		explicit_bzero(key, MSLB_REDIRECT_KEY_LEN);
		snprintf(why, whylen, "text after the key of ID %u (column %zu)", v, i + 1);
		return -1;
	}
	return 1;
}

int config_redirect_keys_parse(const char *text, size_t len, const char *name, struct cfg_redirect_key *out,
			       unsigned *n, struct config_errors *errs)
{
	unsigned long first[256] = { 0 };	/* line of each ID's first key, 0: none */
	unsigned long line = 0;
	bool bad = false, too_many = false;
	size_t pos = 0;

	*n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		uint8_t key[MSLB_REDIRECT_KEY_LEN];
		char why[128];
		unsigned id;
		int r;

		line++;
		r = key_line(text + pos, end - pos, &id, key, why, sizeof(why));
		pos = nl ? end + 1 : len;
		if (r < 0) {
			config_errors_add(errs, "%s:%lu: %s (allowed: " KEYS_ALLOWED ")", name, line, why);
			bad = true;
			continue;
		}
		if (r == 0)
			continue;
		if (first[id]) {
			config_errors_add(errs, "%s:%lu: ID %u is listed twice, first on line %lu (allowed: each ID once)",
					  name, line, id, first[id]);
			bad = true;
		} else if (*n == MSLB_REDIRECT_KEYS_MAX) {
			if (!too_many)
				config_errors_add(errs, "%s:%lu: more than %d keys (allowed: 1-%d " KEYS_ALLOWED ")",
						  name, line, MSLB_REDIRECT_KEYS_MAX, MSLB_REDIRECT_KEYS_MAX);
			too_many = bad = true;
			first[id] = line;
		} else {
			first[id] = line;
			out[*n].id = (uint8_t)id;
			memcpy(out[*n].key, key, sizeof(key));
			(*n)++;
		}
		explicit_bzero(key, sizeof(key));
	}
	if (!bad && *n == 0) {
		/* A whole-file problem: its first line. */
		config_errors_add(errs, "%s:1: no key (allowed: 1-%d " KEYS_ALLOWED "; blank lines and # comments)",
				  name, MSLB_REDIRECT_KEYS_MAX);
		bad = true;
	}
	if (bad) {
		explicit_bzero(out, MSLB_REDIRECT_KEYS_MAX * sizeof(*out));
		*n = 0;
		return -1;
	}
	return 0;
}

/* "others can read it", "its group can read and write it": the first
 * class of the mode that has a bit it must not have. */
static void mode_problem(mode_t mode, char *buf, size_t len)
{
	unsigned o = mode & 07, g = (mode >> 3) & 07, b = o ? o : g;

	snprintf(buf, len, "%s can %s it", o ? "others" : "its group",
		 (b & 4) && (b & 2) ? "read and write" : b & 4 ? "read" : b & 2 ? "write" : "execute");
}

/* Open, check and parse the key file into cfg->redirect.keys; s is the
 * key_file setting, the line of every problem of the file as a whole. The
 * bytes read are wiped whatever the outcome. */
static void read_key_file(struct config_ctx *c, const config_setting_t *s, struct mslb_config *cfg)
{
	const char *path = cfg->redirect.key_file;
	/* Without O_NONBLOCK, opening a FIFO would wait for a writer. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	uid_t want = cfg->user[0] ? (uid_t)cfg->user_uid : geteuid();
	struct stat st;
	char *buf = NULL, what[64];
	size_t got = 0;

	if (fd < 0) {
		if (errno == ELOOP)
			config_err(c, s, "redirect.key_file: %s is a symbolic link (allowed: a regular file, " KEY_FILE_ALLOWED ")", path);
		else
			config_err(c, s, "redirect.key_file: cannot read %s: %s (allowed: a readable regular file, " KEY_FILE_ALLOWED ")",
				   path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0) {
		config_err(c, s, "redirect.key_file: cannot read %s: %s (allowed: a readable regular file, " KEY_FILE_ALLOWED ")",
			   path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		config_err(c, s, "redirect.key_file: %s is not a regular file (allowed: a regular file, " KEY_FILE_ALLOWED ")", path);
		goto out;
	}
	if (st.st_mode & 077) {
		mode_problem(st.st_mode, what, sizeof(what));
		config_err(c, s, "redirect.key_file: %s has mode %04o: %s (allowed: " KEY_FILE_ALLOWED ")",
			   path, (unsigned)(st.st_mode & 07777), what);
		goto out;
	}
	/* After a switch to user, a reload reads it as that user. */
	if (st.st_uid != want) {
		if (cfg->user[0])
			config_err(c, s, "redirect.key_file: %s is owned by uid %u, not by user \"%s\" (uid %u) (allowed: " KEY_FILE_ALLOWED ")",
				   path, (unsigned)st.st_uid, cfg->user, (unsigned)want);
		else
			config_err(c, s, "redirect.key_file: %s is owned by uid %u, not by uid %u that mslbd runs as (allowed: " KEY_FILE_ALLOWED ")",
				   path, (unsigned)st.st_uid, (unsigned)want);
		goto out;
	}
	if (st.st_size > KEY_FILE_MAX)
		goto too_big;
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		config_err(c, s, "redirect.key_file: out of memory");
		goto out;
	}
	/* It may grow between fstat and here: read one byte more than allowed. */
	while (got < KEY_FILE_MAX + 1) {
		ssize_t r = read(fd, buf + got, KEY_FILE_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			config_err(c, s, "redirect.key_file: cannot read %s: %s (allowed: a readable regular file, " KEY_FILE_ALLOWED ")",
				   path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > KEY_FILE_MAX)
		goto too_big;
	config_redirect_keys_parse(buf, got, path, cfg->redirect.keys, &cfg->redirect.n_keys, c->errs);
	goto out;
too_big:
	config_err(c, s, "redirect.key_file: %s is larger than %d bytes (allowed: 1-%d " KEYS_ALLOWED ")",
		   path, KEY_FILE_MAX, MSLB_REDIRECT_KEYS_MAX);
out:
	if (buf) {
		explicit_bzero(buf, KEY_FILE_MAX + 1);
		free(buf);
	}
	close(fd);
}

/* ---- the group -------------------------------------------------------- */

static bool back_address_eq(const void *ctx, uint32_t index, const void *key)
{
	return mslb_addr_eq(&((const struct mslb_config *)ctx)->back.addresses[index].address, key);
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* What the peers are checked against: our back addresses by address, and
 * the families they have (the outer source of redirected packets). */
struct redirect_ctx {
	struct config_dup backs;
	bool back_has[2];
	bool has_own;		/* redirect.address parsed */
};

/* redirect.address: a local address of the host, for the UDP socket; the
 * TUN takes every packet to a service or a back address. */
static void parse_address(struct config_ctx *c, const config_setting_t *g, struct mslb_config *cfg,
			  struct redirect_ctx *rx)
{
	const char *allowed = "a local IPv4 or IPv6 address of this host, e.g. \"198.51.100.61\"";
	const config_setting_t *s = config_setting_get_member(g, "address");
	const char *v = config_get_str(c, g, "address", "redirect.address", allowed, true);
	struct mslb_addr a;

	if (!v || !config_parse_addr(c, s, "redirect.address", v, &a))
		return;
	if (config_dup_first(&c->services, config_addr_hash(&a), &a, config_service_eq, cfg) != HSET_EMPTY)
		config_err(c, s, "redirect.address: \"%s\" is a front service (allowed: a local address that is not in front.services)", v);
	if (config_dup_first(&rx->backs, config_addr_hash(&a), &a, back_address_eq, cfg) != HSET_EMPTY)
		config_err(c, s, "redirect.address: \"%s\" is a back address (allowed: a local address that is not in back.addresses)", v);
	cfg->redirect.address = a;
	rx->has_own = true;
}

/* One address of a peer's tunnel: es the string's setting, path its path. */
static void tunnel_address(struct config_ctx *c, struct mslb_config *cfg, const struct redirect_ctx *rx,
			   struct cfg_redirect_peer *p, const config_setting_t *es, const char *path, const char *v)
{
	struct mslb_addr a;
	unsigned f;

	if (!config_parse_addr(c, es, path, v, &a))
		return;
	f = mslb_af_index(a.family);
	if (p->has_tunnel[f]) {
		config_err(c, es, "%s: \"%s\" is a second %s address (allowed: at most one IPv4 and one IPv6 address)",
			   path, v, family_name(a.family));
		return;
	}
	if (config_dup_first(&rx->backs, config_addr_hash(&a), &a, back_address_eq, cfg) != HSET_EMPTY)
		config_err(c, es, "%s: \"%s\" is one of our back addresses (allowed: the peer's own back address, not in back.addresses)", path, v);
	if (config_dup_first(&c->services, config_addr_hash(&a), &a, config_service_eq, cfg) != HSET_EMPTY)
		config_err(c, es, "%s: \"%s\" is a front service (allowed: the peer's own back address, not in front.services)", path, v);
	for (unsigned j = 0; j < cfg->redirect.n_peers; j++)
		if (cfg->redirect.peers[j].has_tunnel[f] && mslb_addr_eq(&cfg->redirect.peers[j].tunnel[f], &a))
			config_err(c, es, "%s: \"%s\" is a tunnel address of peer \"%s\" too (allowed: each tunnel address once)",
				   path, v, cfg->redirect.peers[j].name);
	/* Its redirected packets leave from our first back address of the
	 * family (without a back, the group's error says it all). */
	if (cfg->has_back && !rx->back_has[f])
		config_err(c, es, "%s: \"%s\" is %s but back.addresses has no %s address to send its packets from (allowed: tunnel addresses of the families back.addresses has)",
			   path, v, family_name(a.family), family_name(a.family));
	p->has_tunnel[f] = true;
	p->tunnel[f] = a;
}

static void parse_tunnel(struct config_ctx *c, const config_setting_t *e, int i, struct mslb_config *cfg,
			 const struct redirect_ctx *rx, struct cfg_redirect_peer *p)
{
	const config_setting_t *s = config_setting_get_member(e, "tunnel");
	char path[64], epath[80];

	snprintf(path, sizeof(path), "redirect.peers[%d].tunnel", i);
	if (!s) {
		config_err(c, e, "%s: missing (allowed: %s)", path, TUNNEL_ALLOWED);
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		tunnel_address(c, cfg, rx, p, s, path, config_setting_get_string(s));
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s) || config_setting_length(s) < 1 ||
	    config_setting_length(s) > 2) {
		config_err(c, s, "%s: must be an address string or a list of 1-2 addresses (allowed: %s)", path, TUNNEL_ALLOWED);
		return;
	}
	for (int k = 0; k < config_setting_length(s); k++) {
		const config_setting_t *es;
		const char *v;

		if (!config_elem_str(c, s, k, path, TUNNEL_ALLOWED, &es, &v))
			continue;
		snprintf(epath, sizeof(epath), "%s[%d]", path, k);
		tunnel_address(c, cfg, rx, p, es, epath, v);
	}
}

static void parse_peer(struct config_ctx *c, const config_setting_t *e, int i, struct mslb_config *cfg,
		       const struct redirect_ctx *rx)
{
	static const char *const keys[] = { "name", "address", "tunnel", NULL };
	struct cfg_redirect_peer *p = &cfg->redirect.peers[cfg->redirect.n_peers];
	const config_setting_t *s;
	char path[64];
	const char *v;

	snprintf(path, sizeof(path), "redirect.peers[%d]", i);
	config_check_keys(c, e, path, keys, "name, address, tunnel");

	snprintf(path, sizeof(path), "redirect.peers[%d].name", i);
	s = config_setting_get_member(e, "name");
	v = config_get_str(c, e, "name", path, "1-31 characters of A-Z a-z 0-9 _ . -", true);
	if (v && !config_name_ok(v, MSLB_NAME_MAX - 1)) {
		config_err(c, s, "%s: \"%s\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -)", path, v);
	} else if (v) {
		for (unsigned j = 0; j < cfg->redirect.n_peers; j++)
			if (!strcmp(cfg->redirect.peers[j].name, v))
				config_err(c, s, "%s: \"%s\" is used by another peer (allowed: a unique name)", path, v);
		snprintf(p->name, sizeof(p->name), "%s", v);
	}

	snprintf(path, sizeof(path), "redirect.peers[%d].address", i);
	s = config_setting_get_member(e, "address");
	v = config_get_str(c, e, "address", path, "the peer's redirect.address", true);
	if (v && config_parse_addr(c, s, path, v, &p->address)) {
		const struct mslb_addr *own = &cfg->redirect.address;

		if (rx->has_own && p->address.family != own->family)
			config_err(c, s, "%s: \"%s\" is not %s like redirect.address (allowed: an %s address, the peer's redirect.address)",
				   path, v, family_name(own->family), family_name(own->family));
		else if (rx->has_own && mslb_addr_eq(&p->address, own))
			config_err(c, s, "%s: \"%s\" is our own redirect.address (allowed: the peer's redirect.address)", path, v);
		for (unsigned j = 0; j < cfg->redirect.n_peers; j++)
			if (mslb_addr_eq(&cfg->redirect.peers[j].address, &p->address))
				config_err(c, s, "%s: \"%s\" is the address of peer \"%s\" too (allowed: a unique address)",
					   path, v, cfg->redirect.peers[j].name);
	} else {
		p->address = (struct mslb_addr){ 0 };	/* family 0: equal to no peer's */
	}

	parse_tunnel(c, e, i, cfg, rx, p);
	cfg->redirect.n_peers++;
}

static void parse_peers(struct config_ctx *c, const config_setting_t *g, struct mslb_config *cfg,
			const struct redirect_ctx *rx)
{
	const config_setting_t *s = config_setting_get_member(g, "peers");
	int n;

	if (!s) {
		config_err(c, g, "redirect.peers: missing (allowed: a list of 1-%d " PEER_ALLOWED ")", MSLB_REDIRECT_PEERS_MAX);
		return;
	}
	n = config_setting_is_list(s) ? config_setting_length(s) : 0;
	if (n < 1 || n > MSLB_REDIRECT_PEERS_MAX) {
		config_err(c, s, "redirect.peers: must be a list ( ... ) of 1-%d peers (allowed: a list of " PEER_ALLOWED ")",
			   MSLB_REDIRECT_PEERS_MAX);
		return;
	}
	cfg->redirect.peers = calloc((size_t)n, sizeof(*cfg->redirect.peers));
	if (!cfg->redirect.peers) {
		config_err(c, s, "redirect.peers: out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (!config_setting_is_group(e)) {
			config_err(c, e, "redirect.peers[%d]: must be a group (allowed: " PEER_ALLOWED ")", i);
			continue;
		}
		parse_peer(c, e, i, cfg, rx);
	}
}

static void parse_limits(struct config_ctx *c, const config_setting_t *g, struct mslb_config *cfg)
{
	bool burst;
	long long n;

	if (config_get_int(c, g, "port", "redirect.port", 1, 65535, &n))
		cfg->redirect.port = (uint16_t)n;
	if (config_get_int(c, g, "rule_ttl", "redirect.rule_ttl", 5, 3600, &n))
		cfg->redirect.rule_ttl = (unsigned)n;
	if (config_get_int(c, g, "max_rules", "redirect.max_rules", 1, 1048576, &n))
		cfg->redirect.max_rules = (unsigned)n;
	cfg->redirect.max_rules_per_peer = cfg->redirect.max_rules;
	if (config_get_int(c, g, "max_rules_per_peer", "redirect.max_rules_per_peer", 1, 1048576, &n)) {
		if (n > cfg->redirect.max_rules)
			config_err(c, config_setting_get_member(g, "max_rules_per_peer"),
				   "redirect.max_rules_per_peer: %lld is more than redirect.max_rules (allowed: 1-%u)",
				   n, cfg->redirect.max_rules);
		else
			cfg->redirect.max_rules_per_peer = (unsigned)n;
	}
	if (config_get_int(c, g, "rate", "redirect.rate", 1, 1000000, &n))
		cfg->redirect.rate = (unsigned)n;
	burst = config_get_int(c, g, "burst", "redirect.burst", 1, 1000000, &n);
	cfg->redirect.burst = burst ? (unsigned)n : cfg->redirect.rate > 500000 ? 1000000 : 2 * cfg->redirect.rate;
	if (config_get_int(c, g, "global_rate", "redirect.global_rate", 1, 10000000, &n))
		cfg->redirect.global_rate = (unsigned)n;
}

void config_parse_redirect(struct config_ctx *c, struct mslb_config *cfg)
{
	static const char *const keys[] = { "address", "port", "key_file", "peers", "rule_ttl", "max_rules",
					    "max_rules_per_peer", "rate", "burst", "global_rate", NULL };
	const config_setting_t *g = config_get_group(c, c->root, "redirect", "redirect");
	const char *kf_allowed = "an absolute path shorter than 256 bytes, e.g. \"/etc/mslb/redirect.key\"";
	struct redirect_ctx rx = { .has_own = false };
	const config_setting_t *s;
	const char *v;

	if (!g)
		return;
	cfg->has_redirect = true;
	cfg->redirect.line = config_line_of(g);
	cfg->redirect.port = MSLB_REDIRECT_PORT;
	cfg->redirect.rule_ttl = 60;
	cfg->redirect.max_rules = 65536;
	cfg->redirect.rate = 2000;
	cfg->redirect.global_rate = 20000;
	config_check_keys(c, g, "redirect", keys,
			  "address, port, key_file, peers, rule_ttl, max_rules, max_rules_per_peer, rate, burst, global_rate");
	if (!cfg->has_back)
		config_err(c, g, "redirect: needs a back group (allowed: redirect on a back)");
	if (cfg->back.n_addresses && config_dup_init(&rx.backs, cfg->back.n_addresses) < 0)
		config_err(c, g, "redirect: out of memory");
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct mslb_addr *a = &cfg->back.addresses[i].address;

		rx.back_has[mslb_af_index(a->family)] = true;
		(void)config_dup_add(&rx.backs, config_addr_hash(a), a, back_address_eq, cfg, i);
	}

	parse_address(c, g, cfg, &rx);
	parse_limits(c, g, cfg);

	s = config_setting_get_member(g, "key_file");
	v = config_get_str(c, g, "key_file", "redirect.key_file", kf_allowed, true);
	if (v && v[0] != '/') {
		config_err(c, s, "redirect.key_file: \"%s\" is not an absolute path (allowed: %s)", v, kf_allowed);
	} else if (v && strlen(v) >= sizeof(cfg->redirect.key_file)) {
		/* Not quoted: the line would end before what is allowed. */
		config_err(c, s, "redirect.key_file: a path of %zu bytes (allowed: %s)", strlen(v), kf_allowed);
	} else if (v) {
		snprintf(cfg->redirect.key_file, sizeof(cfg->redirect.key_file), "%s", v);
		read_key_file(c, s, cfg);
	}

	parse_peers(c, g, cfg, &rx);
	config_dup_free(&rx.backs);
}
