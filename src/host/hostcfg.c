/* hostcfg: desired state computed from the config, compared with what is
 * installed, and the difference applied through rtnetlink. */
#include "hostcfg.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostcfg_mptcp.h"
#include "nl.h"
#include "sysctl.h"
#include "base/hset.h"
#include "base/log.h"

struct item {
	bool is_rule;
	struct nl_route route;
	struct nl_rule rule;
};

/* The items with a hash index over them: 10,000 services make some
 * 30,000 items, and comparing each new one with all others took seconds
 * on every reload. Removals (swap with the last) only mark the index
 * stale; it is built again when next asked. */
struct item_set {
	unsigned n, cap;
	struct item *v;
	struct hset ix;
	bool stale;
};

struct hostcfg {
	struct nl *nl;
	char tun[16];
	char tap[16];
	int tap_ifindex;		/* 0: none */
	bool tap_ipv4;			/* IPv4 written into the TAP passes the reverse-path check */
	int ifindex;
	struct item_set installed;
	struct sysctl_saved fwd[2];	/* [0] IPv4, [1] IPv6 */
	bool accept_local_done;
	bool rp_filter_done, link_done;
	unsigned mtu;
	/* routing.announce_table: the families whose services are announced
	 * (a next hop of that family is usable). */
	bool announce[2];
	/* MPTCP path manager of a server-side back (Proposal 1). */
	struct hostcfg_mptcp *mptcp;
};

struct hostcfg *hostcfg_create(const char *tun, int ifindex)
{
	struct hostcfg *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->nl = nl_open();
	if (!h->nl) {
		free(h);
		return NULL;
	}
	h->mptcp = hostcfg_mptcp_create();
	if (!h->mptcp) {
		nl_close(h->nl);
		free(h);
		return NULL;
	}
	snprintf(h->tun, sizeof(h->tun), "%s", tun);
	h->ifindex = ifindex;
	h->fwd[0].key = "net.ipv4.ip_forward";
	h->fwd[1].key = "net.ipv6.conf.all.forwarding";
	return h;
}

static bool item_eq(const void *ctx, uint32_t i, const void *key)
{
	return !memcmp(&((const struct item_set *)ctx)->v[i], key, sizeof(struct item));
}

static uint32_t item_hash(const struct item *it)
{
	return hset_hash(it, sizeof(*it));
}

/* The index up to date: -1 out of memory. */
static int set_index(struct item_set *s)
{
	if (!s->stale && (s->ix.slot || !s->n))
		return 0;
	hset_free(&s->ix);
	s->stale = true;
	if (hset_init(&s->ix, s->n) < 0)
		return -1;
	for (unsigned i = 0; i < s->n; i++)
		if (hset_add(&s->ix, item_hash(&s->v[i]), i) < 0)
			return -1;
	s->stale = false;
	return 0;
}

static void set_free(struct item_set *s)
{
	hset_free(&s->ix);
	free(s->v);
}

static int set_push(struct item_set *s, const struct item *it)
{
	uint32_t h = item_hash(it);

	if (set_index(s) < 0)
		return -1;
	if (hset_find(&s->ix, h, it, item_eq, s))
		return 0;
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 16;
		struct item *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (hset_add(&s->ix, h, s->n) < 0)
		return -1;
	memcpy(&s->v[s->n++], it, sizeof(*it));
	return 0;
}

/* Out of memory for the index, the slow way. */
static bool set_has(struct item_set *s, const struct item *it)
{
	if (set_index(s) == 0)
		return hset_find(&s->ix, item_hash(it), it, item_eq, s) != NULL;
	for (unsigned i = 0; i < s->n; i++)
		if (!memcmp(&s->v[i], it, sizeof(*it)))
			return true;
	return false;
}

static int add_route_len(struct item_set *s, const struct mslb_addr *dst, uint8_t plen, uint32_t table,
			 int oif, const struct mslb_addr *gw)
{
	struct item it;

	memset(&it, 0, sizeof(it));
	it.route.dst = *dst;
	it.route.plen = plen;
	it.route.table = table;
	it.route.oif = oif;
	if (gw) {
		it.route.has_gw = true;
		it.route.gw = *gw;
	}
	return set_push(s, &it);
}

static int add_route(struct item_set *s, const struct mslb_addr *dst, uint32_t table,
		     int oif, const struct mslb_addr *gw)
{
	return add_route_len(s, dst, (uint8_t)(8 * mslb_addr_size(dst->family)), table, oif, gw);
}

/* A rule (src and dst host addresses, either NULL for any); a rule
 * already in the set is not added twice. */
static int add_rule(struct item_set *s, int family, uint32_t prio, const struct mslb_addr *src,
		    const struct mslb_addr *dst, const char *iif, uint8_t action, uint32_t table)
{
	struct item it;

	memset(&it, 0, sizeof(it));
	it.is_rule = true;
	it.rule.family = (uint8_t)family;
	it.rule.priority = prio;
	if (src) {
		it.rule.has_src = true;
		it.rule.src = *src;
		it.rule.src_len = (uint8_t)(8 * mslb_addr_size(family));
	}
	if (dst) {
		it.rule.has_dst = true;
		it.rule.dst = *dst;
		it.rule.dst_len = (uint8_t)(8 * mslb_addr_size(family));
	}
	if (iif)
		snprintf(it.rule.iif, sizeof(it.rule.iif), "%s", iif);
	it.rule.action = action;
	it.rule.table = action == FR_ACT_TO_TBL ? table : 0;
	return set_push(s, &it);
}

/* The same rule, for TCP from source port sport only. */
static int add_rule_sport(struct item_set *s, int family, uint32_t prio, const struct mslb_addr *src,
			  uint16_t sport, uint32_t table)
{
	struct item it;

	memset(&it, 0, sizeof(it));
	it.is_rule = true;
	it.rule.family = (uint8_t)family;
	it.rule.priority = prio;
	it.rule.has_src = true;
	it.rule.src = *src;
	it.rule.src_len = (uint8_t)(8 * mslb_addr_size(family));
	it.rule.ip_proto = IPPROTO_TCP;
	it.rule.sport = sport;
	it.rule.action = FR_ACT_TO_TBL;
	it.rule.table = table;
	return set_push(s, &it);
}

/* MPTCP Proposal 2: the back rewrites what its servers send on the
 * service ports (keys, timestamps), so those replies (from IP_S, TCP,
 * source port a service port) are routed into the TUN by the default
 * route of table T+1, as a return tunnel's are. */
static int desired_p2(const struct hostcfg *h, const struct mslb_config *cfg, struct item_set *s, bool fam[2])
{
	uint32_t t = cfg->route_table, p = cfg->rule_priority;
	int r = 0;

	if (!cfg->back.has_p2 || !cfg->back.p2_steer)
		return 0;
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct mslb_addr *sv = &cfg->back.addresses[i].service;
		struct mslb_addr any = { .family = sv->family };

		fam[mslb_af_index(sv->family)] = true;
		r |= add_route_len(s, &any, 0, t + 1, h->ifindex, NULL);
		for (unsigned k = 0; k < cfg->back.n_p2_ports; k++)
			r |= add_rule_sport(s, sv->family, p + 3, sv, cfg->back.p2_ports[k], t + 1);
	}
	return r;
}

/* Encapsulation mode: a return endpoint's addresses and the fronts'
 * tunnel sources (ICMP errors about tunnel packets come back to them) are
 * routed into the TUN like the services; a back with a return tunnel takes
 * its servers' traffic (from IP_S) into the TUN by a default route in
 * table T+1, which only that source rule and the delivery rule (to IP_S,
 * more specific routes) consult: table T, which every packet consults,
 * holds host routes only. */
static int desired_tunnel(const struct hostcfg *h, const struct mslb_config *cfg, struct item_set *s, bool fam[2])
{
	uint32_t t = cfg->route_table, p = cfg->rule_priority;
	struct mslb_addr own[8];
	unsigned n = 0;
	int r = 0;

	for (unsigned i = 0; i < cfg->return_endpoint.n; i++)
		own[n++] = cfg->return_endpoint.addresses[i];
	for (int f = 0; f < 2; f++) {
		bool dup = false;

		if (!cfg->front.has_tsrc[f])
			continue;
		for (unsigned i = 0; i < cfg->front.n_services; i++)
			dup = dup || mslb_addr_eq(&cfg->front.services[i], &cfg->front.tsrc[f]);
		if (!dup)
			own[n++] = cfg->front.tsrc[f];
	}
	for (unsigned i = 0; i < n; i++) {
		fam[mslb_af_index(own[i].family)] = true;
		r |= add_route(s, &own[i], t, h->ifindex, NULL);
	}
	for (int f = 0; f < 2; f++) {
		struct mslb_addr any = { .family = f ? AF_INET6 : AF_INET };

		if (!cfg->back.has_return[f])
			continue;
		fam[f] = true;
		r |= add_route_len(s, &any, 0, t + 1, h->ifindex, NULL);
		for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
			const struct mslb_addr *sv = &cfg->back.addresses[i].service;

			if (sv->family == any.family)
				r |= add_rule(s, sv->family, p + 3, sv, NULL, NULL, FR_ACT_TO_TBL, t + 1);
		}
	}
	return r;
}

/* The documented set (mslbd(8), HOST CHANGES). Routes come before rules so
 * a rule never points at a table that is still empty. */
static int desired(const struct hostcfg *h, const struct mslb_config *cfg, struct item_set *s,
		   bool fam[2])
{
	uint32_t t = cfg->route_table, p = cfg->rule_priority;
	int r = 0;

	fam[0] = fam[1] = false;
	for (unsigned i = 0; i < cfg->front.n_services; i++) {
		const struct mslb_addr *sv = &cfg->front.services[i];

		fam[mslb_af_index(sv->family)] = true;
		r |= add_route(s, sv, t, h->ifindex, NULL);
		/* Through the TUN device: gone with it, even after a crash. */
		if (cfg->announce_table && h->announce[mslb_af_index(sv->family)])
			r |= add_route(s, sv, cfg->announce_table, h->ifindex, NULL);
	}
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct cfg_back_address *b = &cfg->back.addresses[i];

		fam[mslb_af_index(b->address.family)] = true;
		r |= add_route(s, &b->address, t, h->ifindex, NULL);
		if (b->has_via)
			r |= add_route(s, &b->service, t + 1, 0, &b->via);
	}
	for (unsigned i = 0; i < cfg->back.n_addresses; i++) {
		const struct cfg_back_address *b = &cfg->back.addresses[i];

		if (b->has_via)
			r |= add_rule(s, b->service.family, p, NULL, &b->service, h->tun, FR_ACT_TO_TBL, t + 1);
	}
	/* Before the TUN's own rules: a return endpoint alone needs them. */
	r |= desired_tunnel(h, cfg, s, fam);
	r |= desired_p2(h, cfg, s, fam);
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		if (!fam[f])
			continue;
		/* What comes out of the TUN is routed by the main table and
		 * never back into the TUN. */
		r |= add_rule(s, family, p + 1, NULL, NULL, h->tun, FR_ACT_TO_TBL, RT_TABLE_MAIN);
		r |= add_rule(s, family, p + 2, NULL, NULL, h->tun, FR_ACT_UNREACHABLE, 0);
	}
	/* What the daemon takes from an af_packet interface's ring, the
	 * kernel must not forward as well. */
	for (unsigned k = 0; k < cfg->n_af_packet; k++) {
		for (unsigned i = 0; i < cfg->front.n_services; i++)
			r |= add_rule(s, cfg->front.services[i].family, p + 2, NULL, &cfg->front.services[i],
				      cfg->af_packet[k], FR_ACT_BLACKHOLE, 0);
		for (unsigned i = 0; i < cfg->back.n_addresses; i++)
			r |= add_rule(s, cfg->back.addresses[i].address.family, p + 2, NULL,
				      &cfg->back.addresses[i].address, cfg->af_packet[k], FR_ACT_BLACKHOLE, 0);
	}
	/* Table T holds host routes only (services, back addresses, return
	 * endpoints, tunnel sources): one rule per family consults it for
	 * every packet, so the kernel keeps as many rules whatever the
	 * number of addresses (it inserts a rule in time linear in those
	 * it has; a rule per address made large configs quadratic). */
	for (int f = 0; f < 2; f++)
		if (fam[f])
			r |= add_rule(s, f ? AF_INET6 : AF_INET, p + 3, NULL, NULL, NULL, FR_ACT_TO_TBL, t);
	return r ? -1 : 0;
}

static const char *sport_str(uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "%u", port);
	return buf;
}

static void describe(const struct item *it, char *buf, size_t len)
{
	char a[MSLB_ADDRSTRLEN], g[MSLB_ADDRSTRLEN], sp[8];

	if (it->is_rule)
		snprintf(buf, len, "rule pref %u%s%s%s%s%s%s%s%s%s %s %u", it->rule.priority,
			 it->rule.iif[0] ? " iif " : "", it->rule.iif,
			 it->rule.has_src ? " from " : "",
			 it->rule.has_src ? mslb_addr_str(&it->rule.src, g, sizeof(g)) : "",
			 it->rule.has_dst ? " to " : "",
			 it->rule.has_dst ? mslb_addr_str(&it->rule.dst, a, sizeof(a)) : "",
			 it->rule.ip_proto ? " ipproto tcp" : "", it->rule.sport ? " sport " : "",
			 it->rule.sport ? sport_str(it->rule.sport, sp, sizeof(sp)) : "",
			 it->rule.action == FR_ACT_TO_TBL ? "lookup" :
			 it->rule.action == FR_ACT_BLACKHOLE ? "blackhole" : "unreachable", it->rule.table);
	else
		snprintf(buf, len, "route %s%s%s%s table %u", it->route.plen ? "" : "default ",
			 mslb_addr_str(&it->route.dst, a, sizeof(a)),
			 it->route.has_gw ? " via " : "",
			 it->route.has_gw ? mslb_addr_str(&it->route.gw, g, sizeof(g)) : "", it->route.table);
}

static int item_do(struct hostcfg *h, const struct item *it, bool add)
{
	int r = it->is_rule ? nl_rule(h->nl, add, &it->rule) : nl_route(h->nl, add, &it->route);

	if (add && r == -EEXIST)
		r = 0;		/* left by an earlier run: ours now */
	if (!add && (r == -ENOENT || r == -ESRCH))
		r = 0;
	return r;
}

static void remove_item(struct hostcfg *h, unsigned i)
{
	char d[160];
	int r = item_do(h, &h->installed.v[i], false);

	describe(&h->installed.v[i], d, sizeof(d));
	if (r < 0)
		log_warn("cannot remove %s: %s", d, strerror(-r));
	else
		log_debug("removed %s", d);
	if (i != --h->installed.n)
		memcpy(&h->installed.v[i], &h->installed.v[h->installed.n], sizeof(struct item));
	h->installed.stale = true;
}

/* Remove installed items that match the filter (rules first). */
static void remove_where(struct hostcfg *h, struct item_set *keep)
{
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = h->installed.n; i-- > 0;) {
			const struct item *it = &h->installed.v[i];

			if (it->is_rule == (pass == 0) && !(keep && set_has(keep, it)))
				remove_item(h, i);
		}
}

/* A per-device sysctl key; a '.' in the device name is spelled '/'. */
static void dev_sysctl_key(char *buf, size_t len, const char *proto, const char *dev, const char *leaf)
{
	char d[16];
	unsigned i;

	/* sysctl keys spell a '.' inside a device name as '/'. */
	for (i = 0; dev[i] && i + 1 < sizeof(d); i++)
		d[i] = dev[i] == '.' ? '/' : dev[i];
	d[i] = '\0';
	snprintf(buf, len, "net.%s.conf.%s.%s", proto, d, leaf);
}

static bool front_checks(const struct mslb_config *cfg)
{
	for (unsigned i = 0; cfg->has_front && i < cfg->front.n_next_hops; i++)
		if (cfg->front.next_hops[i].check.kind != HC_NONE)
			return true;
	return false;
}

/* Packets of this host's own that come back out of the TUN have a local
 * source address, which IPv4 accepts only with accept_local: the replies
 * of a Proposal 2 server on this host (IP_S), and the front's health
 * probes. The setting goes with the device. */
static int sysctls_local(struct hostcfg *h, const struct mslb_config *cfg, const bool fam[2], char *err,
			 size_t errlen)
{
	char key[96];
	int r;

	if (fam[0] && !h->accept_local_done && ((cfg->back.has_p2 && cfg->back.p2_steer) || front_checks(cfg))) {
		dev_sysctl_key(key, sizeof(key), "ipv4", h->tun, "accept_local");
		r = sysctl_set(key, "1");
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s=1: %s", key, strerror(-r));
			return -1;
		}
		h->accept_local_done = true;
		log_debug("set %s=1", key);
	}
	return 0;
}

static int sysctls(struct hostcfg *h, const struct mslb_config *cfg, const bool fam[2], char *err, size_t errlen)
{
	char key[96], v[16];
	int r;

	for (int f = 0; f < 2; f++) {
		struct sysctl_saved *s = &h->fwd[f];

		if (!fam[f] || s->saved)
			continue;
		r = sysctl_save_set(s, "1");
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s=1: %s", s->key, strerror(-r));
			return -1;
		}
		log_debug("set %s=1 (was %s)", s->key, s->old);
	}
	if (fam[0] && !h->rp_filter_done) {
		/* The kernel applies max(all, device): 0 only works if all is 0. */
		const char *want = sysctl_get("net.ipv4.conf.all.rp_filter", v, sizeof(v)) == 0 &&
				   strcmp(v, "0") ? "2" : "0";

		dev_sysctl_key(key, sizeof(key), "ipv4", h->tun, "rp_filter");
		r = sysctl_set(key, want);
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s=%s: %s", key, want, strerror(-r));
			return -1;
		}
		h->rp_filter_done = true;
		log_debug("set %s=%s", key, want);
	}
	return sysctls_local(h, cfg, fam, err, errlen);
}

/* Remove what this apply added, and nothing that ran before it. */
static void undo_added(struct hostcfg *h, struct item_set *added)
{
	for (unsigned j = h->installed.n; j-- > 0;)
		if (set_has(added, &h->installed.v[j]))
			remove_item(h, j);
}

void hostcfg_set_tap(struct hostcfg *h, const char *tap, int ifindex)
{
	snprintf(h->tap, sizeof(h->tap), "%s", tap);
	h->tap_ifindex = ifindex;
}

/* The TAP sends nothing of its own (no IPv6 address, no MLD), and what
 * the daemon writes into it has a source this host routes elsewhere or
 * owns: local sources accepted, and no reverse-path check, which on a
 * device without an IPv4 address fails every packet, loose or strict.
 * The kernel applies max(all, device): with all set, IPv4 stays off the
 * TAP (hostcfg_tap_families). */
static int tap_up(struct hostcfg *h, char *err, size_t errlen)
{
	static const struct {
		const char *proto, *leaf, *value;
	} set[] = {
		{ "ipv6", "addr_gen_mode", "1" }, { "ipv6", "force_mld_version", "1" },
		{ "ipv6", "forwarding", "0" },	  { "ipv4", "rp_filter", "0" },
		{ "ipv4", "accept_local", "1" },
	};
	char key[96], v[16];
	int r;

	h->tap_ipv4 = sysctl_get("net.ipv4.conf.all.rp_filter", v, sizeof(v)) == 0 && !strcmp(v, "0");
	if (!h->tap_ipv4)
		log_warn("net.ipv4.conf.all.rp_filter is %s: IPv4 written into %s would fail the reverse-path check, so "
			 "TCP super-packets in IPv4 GUE are cut by mslbd (allowed: 0 there for the faster way)",
			 v, h->tap);
	for (unsigned i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		dev_sysctl_key(key, sizeof(key), set[i].proto, h->tap, set[i].leaf);
		if (sysctl_set(key, set[i].value) < 0)
			log_debug("cannot set %s=%s", key, set[i].value);
	}
	r = nl_link_set(h->nl, h->tap_ifindex, 0, 0, true);
	if (r < 0) {
		snprintf(err, errlen, "cannot set %s up: %s", h->tap, strerror(-r));
		return -1;
	}
	return 0;
}

unsigned hostcfg_tap_families(const struct hostcfg *h)
{
	return h->tap_ifindex && h->link_done ? (h->tap_ipv4 ? 1u : 0u) | 2u : 0u;
}

/* Order matters for a refused reload: everything that can be undone
 * (routes, rules) goes first, and what cannot (sysctls, MTU, MPTCP) only
 * once those succeeded; the first start brings the link up before all. */
int hostcfg_apply(struct hostcfg *h, const struct mslb_config *cfg, char *err, size_t errlen)
{
	struct item_set want = { 0 }, added = { 0 };
	char key[96];
	bool fam[2];
	int r = -1;

	if (desired(h, cfg, &want, fam) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!h->link_done) {
		/* No IPv6 link-local address on the TUN: without it the kernel
		 * sends no router solicitations into our data path. */
		dev_sysctl_key(key, sizeof(key), "ipv6", h->tun, "addr_gen_mode");
		if (sysctl_set(key, "1") < 0)
			log_debug("cannot set %s=1 (IPv6 disabled?)", key);
		/* With IPv6 forwarding on already, the new device joined the
		 * all-routers group and would report it (MLD) into the data
		 * path once up. It leaves the group while the link is down,
		 * in MLDv1 mode, where leaving a group never reported sends
		 * nothing; forwarding itself is the global setting's. */
		dev_sysctl_key(key, sizeof(key), "ipv6", h->tun, "force_mld_version");
		if (sysctl_set(key, "1") < 0)
			log_debug("cannot set %s=1 (IPv6 disabled?)", key);
		dev_sysctl_key(key, sizeof(key), "ipv6", h->tun, "forwarding");
		if (sysctl_set(key, "0") < 0)
			log_debug("cannot set %s=0 (IPv6 disabled?)", key);
		/* The TUN's queue holds what the kernel routes to the daemon
		 * while it is busy: the default 500 packets overflow in a burst
		 * (50 connections opening at once drop a few hundred), and
		 * every drop costs a retransmission timeout. */
		r = nl_link_set(h->nl, h->ifindex, cfg->tun_mtu, HOSTCFG_TUN_QLEN, true);
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s mtu %u up: %s", h->tun, cfg->tun_mtu, strerror(-r));
			r = -1;
			goto out;
		}
		if (h->tap_ifindex && tap_up(h, err, errlen) < 0) {
			r = -1;
			goto out;
		}
		h->link_done = true;
		h->mtu = cfg->tun_mtu;
	}
	for (unsigned i = 0; i < want.n; i++) {
		char d[160];

		if (set_has(&h->installed, &want.v[i]))
			continue;
		describe(&want.v[i], d, sizeof(d));
		r = item_do(h, &want.v[i], true);
		if (r < 0 || set_push(&h->installed, &want.v[i]) < 0 || set_push(&added, &want.v[i]) < 0) {
			snprintf(err, errlen, "cannot add %s: %s", d, r < 0 ? strerror(-r) : "out of memory");
			undo_added(h, &added);
			r = -1;
			goto out;
		}
		log_debug("added %s", d);
	}
	if (sysctls(h, cfg, fam, err, errlen) < 0 || hostcfg_mptcp_apply(h->mptcp, cfg, err, errlen) < 0) {
		undo_added(h, &added);
		r = -1;
		goto out;
	}
	if (cfg->tun_mtu != h->mtu) {
		r = nl_link_set(h->nl, h->ifindex, cfg->tun_mtu, 0, true);
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s mtu %u: %s", h->tun, cfg->tun_mtu, strerror(-r));
			undo_added(h, &added);
			r = -1;
			goto out;
		}
		h->mtu = cfg->tun_mtu;
	}
	remove_where(h, &want);
	r = 0;
out:
	set_free(&want);
	set_free(&added);
	return r;
}

int hostcfg_announce(struct hostcfg *h, const struct mslb_config *cfg, const bool fam[2], char *err, size_t errlen)
{
	bool was[2] = { h->announce[0], h->announce[1] };

	if (was[0] == fam[0] && was[1] == fam[1])
		return 0;
	h->announce[0] = fam[0];
	h->announce[1] = fam[1];
	if (!cfg->announce_table)
		return 0;
	for (int f = 0; f < 2; f++)
		if (was[f] != fam[f])
			log_info("services of %s: %s in table %u", f ? "IPv6" : "IPv4",
				 fam[f] ? "announced" : "withdrawn", cfg->announce_table);
	return hostcfg_apply(h, cfg, err, errlen);
}

void hostcfg_remove(struct hostcfg *h)
{
	hostcfg_mptcp_remove(h->mptcp);
	remove_where(h, NULL);
	for (int f = 0; f < 2; f++) {
		if (h->fwd[f].saved)
			log_debug("restoring %s=%s", h->fwd[f].key, h->fwd[f].old);
		sysctl_restore(&h->fwd[f]);
	}
}

void hostcfg_destroy(struct hostcfg *h)
{
	if (h) {
		nl_close(h->nl);
		hostcfg_mptcp_destroy(h->mptcp);
		set_free(&h->installed);
		free(h);
	}
}

struct nl *hostcfg_nl(struct hostcfg *h)
{
	return h->nl;
}

void hostcfg_check_tunnel_sources(struct hostcfg *h, const struct mslb_config *cfg)
{
	for (unsigned i = 0; i < cfg->back.allowed.n; i++) {
		const struct mslb_prefix *p = &cfg->back.allowed.p[i];
		struct nl_route_info ri;
		char a[MSLB_ADDRSTRLEN];

		/* Linux drops an IPv4 packet whose source is one of its own
		 * addresses before routing it: such a tunnel never arrives. */
		if (p->addr.family != AF_INET || p->len != 32 ||
		    nl_route_get(h->nl, &p->addr, NULL, 0, &ri) < 0 || ri.type != RTN_LOCAL)
			continue;
		/* Translation mode does not care: a note, not a warning. */
		log_info("back.allowed_sources: %s is an address of this host: tunnels from it would be dropped by the kernel as martians%s",
			 mslb_addr_str(&p->addr, a, sizeof(a)),
			 cfg->back.allowed_default ? " (the default is the services: if fronts encapsulate to this back, which is its own server, give them a front.tunnel_source and list it in back.allowed_sources)" : "");
	}
}
