/* daemon: start-up, reload (parse, validate, build, apply, swap) and
 * control requests; the receive loops are in rx.c. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "priv.h"
#include "rx.h"
#include "base/log.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "ctl/status.h"
#include "health/health.h"
#include "host/hostcfg.h"
#include "host/route_mtu.h"
#include "host/sockdiag.h"
#include "io/afpath.h"
#include "io/emitq.h"
#include "io/io.h"
#include "io/udp.h"
#include "lb/lb.h"
#include "redirect/rdr.h"
#include "redirect/rdr_auth.h"

struct daemon {
	char *config_path;
	struct mslb_config *cfg;
	struct mslb_lb *lb;
	struct io_backend *io;
	struct io_batch *batch;
	struct emitq *emitq;		/* what the data path makes: to the TUN */
	unsigned ticks;
	struct afpath *afp;		/* io.af_packet, or NULL */
	struct hostcfg *host;
	struct ctl_listener ctl;
	bool foreground;
	bool journal;		/* stderr is systemd's journal: syslog reaches it already */
	struct rdr *rdr;		/* redirection protocol, or NULL */
	int rdr_fd;			/* its UDP socket, or -1 */
	uint16_t rdr_port;
	struct sockdiag *sockdiag;	/* back.persistence.sock_diag, or NULL */
	struct health *health;		/* next hop states (a front), or NULL */
	int health_fd;			/* the epoll set of its probes */
	time_t started;
	char loaded_at[32];
	unsigned reloads, reload_failures;
};

/* Tell the data path the route MTU toward every encapsulating next hop
 * and return tunnel endpoint of its config. */
static void refresh_route_mtus(struct nl *nl, struct mslb_lb *lb)
{
	const struct mslb_config *cfg = lb_config(lb);

	for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

		/* Translated next hops too: a persistence mark must fit. */
		if (nh->has4)
			lb_set_route_mtu(lb, i, false, route_mtu(nl, &nh->a4));
		if (nh->has6)
			lb_set_route_mtu(lb, i, true, route_mtu(nl, &nh->a6));
	}
	for (int f = 0; f < 2; f++)
		if (cfg->back.has_return[f])
			lb_set_return_mtu(lb, f, route_mtu(nl, &cfg->back.return_to[f]));
}

struct daemon *daemon_create(const char *config_path, bool foreground)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	/* Absolute, so a reload finds the same file whatever the cwd. */
	d->config_path = realpath(config_path, NULL);
	if (!d->config_path)
		d->config_path = strdup(config_path);
	d->foreground = foreground;
	d->journal = getenv("JOURNAL_STREAM") != NULL;
	d->ctl.fd = d->ctl.lock_fd = -1;
	d->rdr_fd = -1;
	d->health_fd = -1;
	if (!d->config_path) {
		free(d);
		return NULL;
	}
	return d;
}

static void rdr_send(void *ctx, const struct mslb_addr *to, const uint8_t *buf, size_t len)
{
	struct daemon *d = ctx;

	/* A datagram lost here is one the peer never got: the protocol
	 * retransmits what needs an ack. */
	udp_send(d->rdr_fd, to, d->rdr_port, buf, len);
}

/* The redirection protocol: its state and its socket (bound before the
 * privileges go, so a port below 1024 works either way). */
static int start_redirect(struct daemon *d, char *err, size_t errlen)
{
	if (rdr_auth_init() < 0) {
		snprintf(err, errlen, "redirect: libsodium failed to start");
		return -1;
	}
	d->rdr = rdr_create(d->cfg, rx_now());
	if (!d->rdr) {
		snprintf(err, errlen, "redirect: out of memory for %u rules", d->cfg->redirect.max_rules);
		return -1;
	}
	d->rdr_fd = udp_open(&d->cfg->redirect.address, d->cfg->redirect.port, err, errlen);
	if (d->rdr_fd < 0)
		return -1;
	d->rdr_port = d->cfg->redirect.port;
	rdr_set_send(d->rdr, rdr_send, d);
	lb_set_redirect(d->lb, d->rdr);
	return 0;
}

/* Does this node send or take GUE apart? Only then does its TUN take
 * UDP-tunnel super-packets (IO_TUN_UDP_TUNNEL): on any other node the
 * kernel cuts such packets (a client's VXLAN, say) before the TUN, where
 * the data path can rewrite each. Not on the AF_PACKET path either, whose
 * virtio header has no tunnel offsets: GUE is cut by the daemon there. */
static bool uses_gue(const struct mslb_config *cfg)
{
	if (cfg->back.gue_port)
		return true;
	for (unsigned i = 0; cfg->has_front && i < cfg->front.n_next_hops; i++)
		if (cfg->front.next_hops[i].encap == ENCAP_GUE)
			return true;
	return false;
}

/* Persistence at a back on the server's own host: a marked flow the
 * server holds a socket of stays here. */
static int flow_known(void *ctx, unsigned version, const uint8_t *server, uint16_t sport, const uint8_t *client,
		      uint16_t cport)
{
	return sockdiag_tcp_known(ctx, version, server, sport, client, cport);
}

/* The socket is opened the first time a config asks for it and kept. */
static void set_flow_known(struct daemon *d, struct mslb_lb *lb, const struct mslb_config *cfg)
{
	if (cfg->back.persist_sock_diag && !d->sockdiag) {
		d->sockdiag = sockdiag_open();
		if (!d->sockdiag)
			log_err("back.persistence.sock_diag: no NETLINK_SOCK_DIAG socket (%m): the flow table alone decides");
	}
	if (cfg->back.persist_sock_diag && d->sockdiag)
		lb_set_flow_known(lb, flow_known, d->sockdiag);
}

/* The health module's hooks: a probe is steered by the data path of the
 * day, and a next hop's new state goes into its tables. */
static void on_health_steer(void *ctx, unsigned i, unsigned version, uint8_t proto, const uint8_t *src, uint16_t id)
{
	struct daemon *d = ctx;

	lb_set_probe(d->lb, i, version, proto, src, id);
}

/* routing.announce_table: the services of a family are announced while a
 * next hop of that family is usable. */
static void announce(struct daemon *d)
{
	bool fam[2] = { lb_serves(d->lb, AF_INET), lb_serves(d->lb, AF_INET6) };
	char err[256];

	if (hostcfg_announce(d->host, d->cfg, fam, err, sizeof(err)) < 0)
		log_err("routing.announce_table: %s", err);
}

static void on_health_usable(void *ctx, unsigned i, bool usable)
{
	struct daemon *d = ctx;

	if (lb_set_usable(d->lb, i, usable) < 0)
		log_err("next hop %s: out of memory: its tables keep it %s", lb_config(d->lb)->front.next_hops[i].name,
			usable ? "out" : "in");
	announce(d);
}

/* Every next hop's state from the health module into the data path. */
static int set_usable_all(struct mslb_lb *lb, const struct health *h)
{
	unsigned n = lb_config(lb)->front.n_next_hops;
	bool *usable = malloc(n + 1);
	int r;

	if (!usable)
		return -1;
	for (unsigned i = 0; i < n; i++)
		usable[i] = health_usable(h, i);
	r = lb_set_usable_all(lb, usable);
	free(usable);
	return r;
}

static struct health *make_health(struct daemon *d, const struct mslb_config *cfg)
{
	static const struct health_ops ops = { .steer = on_health_steer, .usable = on_health_usable };
	struct health_ops o = ops;

	o.ctx = d;
	return health_create(cfg, &o, d->health_fd, rx_now());
}

static void stamp(struct daemon *d)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(d->loaded_at, sizeof(d->loaded_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void apply_logging(const struct mslb_config *cfg, bool keep_stderr)
{
	log_setup(cfg->log_level, cfg->log_dest == LOG_DEST_SYSLOG,
		  keep_stderr || cfg->log_dest == LOG_DEST_STDERR);
}

int daemon_start(struct daemon *d)
{
	struct config_errors errs;
	char err[256];

	d->started = time(NULL);
	d->cfg = config_load_file(d->config_path, &errs);
	if (!d->cfg) {
		for (unsigned i = 0; i < errs.n; i++)
			log_err("%s", errs.line[i]);
		return -2;
	}
	/* In the background, stderr until detached shows start-up errors. */
	apply_logging(d->cfg, !d->foreground || !d->journal);
	/* With user set, the socket's directory must be the account's, so
	 * that it can remove the socket and the lock on exit. */
	if (priv_prepare(d->cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	/* The lock first: a second daemon must fail before it touches the
	 * host, or it would take over and then remove the first one's rules. */
	if (ctl_listen(&d->ctl, d->cfg->control_socket, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	d->lb = lb_create(d->cfg);
	d->batch = io_batch_create();
	d->emitq = emitq_create();
	if (!d->lb || !d->batch || !d->emitq) {
		log_err("out of memory");
		goto fail;
	}
	if (d->cfg->has_redirect && start_redirect(d, err, sizeof(err)) < 0) {
		log_err("%s:%d: %s", d->config_path, d->cfg->redirect.line ? d->cfg->redirect.line : 1, err);
		goto fail;
	}
	d->io = io_tun_open(d->cfg->tun_name,
			    (d->cfg->tun_offload ? IO_TUN_OFFLOAD : 0) | (d->cfg->tun_io_uring ? IO_TUN_URING : 0) |
				    (uses_gue(d->cfg) && !d->cfg->n_af_packet ? IO_TUN_UDP_TUNNEL : 0),
			    err, sizeof(err));
	if (!d->io) {
		log_err("%s", err);
		goto fail;
	}
	if (d->cfg->tun_io_uring && strcmp(io_batching(d->io, err, sizeof(err)), "io_uring"))
		log_warn("%s:%d: tun.io_uring: the kernel refused io_uring (%s); reading and writing %s packet by packet",
			 d->config_path, d->cfg->line_tun_io_uring ? d->cfg->line_tun_io_uring : 1, err, d->io->name);
	emitq_set_output(d->emitq, d->io);
	lb_set_emit(d->lb, emitq_push, d->emitq);
	lb_set_emit_uso(d->lb, d->io->offloads & IO_CAP_USO);
	set_flow_known(d, d->lb, d->cfg);
	if (d->cfg->n_af_packet && !(d->afp = afpath_open(d->cfg, io_tun_ifindex(d->io), err, sizeof(err)))) {
		log_err("%s:%d: %s", d->config_path, d->cfg->line_af_packet ? d->cfg->line_af_packet : 1, err);
		goto fail;
	}
	/* The lock, the socket, the TUN and the rings are open: what follows,
	 * routes, rules, sysctls, the MPTCP path manager, is what every reload
	 * does again, so it runs as the account already (user set). */
	if (priv_drop(d->cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	if (priv_check(d->cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		daemon_stop(d);
		return -2;
	}
	d->host = hostcfg_create(d->io->name, io_tun_ifindex(d->io));
	if (!d->host) {
		log_err("cannot open rtnetlink");
		goto fail;
	}
	if (io_tun_tap_ifindex(d->io)) {
		char tap[32];

		snprintf(tap, sizeof(tap), "%s%s", d->io->name, IO_TUN_TAP_SUFFIX);
		hostcfg_set_tap(d->host, tap, io_tun_tap_ifindex(d->io));
	}
	/* The rings take the service traffic before the blackhole rules
	 * keep the kernel from forwarding it too. */
	if (d->afp && afpath_apply_filter(d->afp, d->cfg, err, sizeof(err)) < 0) {
		log_err("%s:%d: %s", d->config_path, d->cfg->line_af_packet ? d->cfg->line_af_packet : 1, err);
		goto fail;
	}
	if (hostcfg_apply(d->host, d->cfg, err, sizeof(err)) < 0) {
		log_err("host set-up failed: %s", err);
		goto fail;
	}
	refresh_route_mtus(hostcfg_nl(d->host), d->lb);
	lb_set_emit_tunnel_gso(d->lb, hostcfg_tap_families(d->host));
	hostcfg_check_tunnel_sources(d->host, d->cfg);
	d->health_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->health_fd < 0 || !(d->health = make_health(d, d->cfg))) {
		log_err("health checks: cannot start: %m");
		goto fail;
	}
	announce(d);
	for (unsigned i = 0; i < afpath_count(d->afp); i++)
		log_info("af_packet on %s", afpath_backends(d->afp)[i]->name);
	stamp(d);
	log_info("offloads on %s: %s", d->io->name, io_offload_names(d->io->offloads));
	log_info("started: %s%s%s%s%s on %s, config %s", d->cfg->has_front ? "front" : "",
		 d->cfg->has_front && d->cfg->has_back ? " and " : "", d->cfg->has_back ? "back" : "",
		 (d->cfg->has_front || d->cfg->has_back) && d->cfg->has_return_endpoint ? " and " : "",
		 d->cfg->has_return_endpoint ? "return endpoint" : "", d->io->name, d->config_path);
	return 0;
fail:
	daemon_stop(d);
	return -1;
}

/* A boolean only a restart may change: true, and the refusal in msg, if
 * the new file changes it (at line, 0 when defaulted). */
static bool bool_changed(struct strbuf *msg, const char *file, int line, const char *key, bool now, bool was)
{
	if (now == was)
		return false;
	sb_printf(msg, "%s:%d: %s: cannot change on reload (allowed: %s; restart mslbd to change it)\n", file,
		  line ? line : 1, key, was ? "true" : "false");
	return true;
}

int daemon_reload(struct daemon *d, struct strbuf *msg)
{
	struct config_errors errs;
	struct mslb_config *cfg = config_load_file(d->config_path, &errs);
	struct mslb_lb *lb;
	struct health *health;
	char err[256];

	if (!cfg) {
		for (unsigned i = 0; i < errs.n; i++)
			sb_printf(msg, "%s\n", errs.line[i]);
		goto refused;
	}
	if (strcmp(cfg->tun_name, d->cfg->tun_name)) {
		sb_printf(msg, "%s:%d: tun.name: \"%s\" cannot change on reload (allowed: \"%s\"; restart mslbd to change it)\n",
			  d->config_path, cfg->line_tun_name ? cfg->line_tun_name : 1, cfg->tun_name, d->cfg->tun_name);
		goto refused_free;
	}
	if (bool_changed(msg, d->config_path, cfg->line_tun_offload, "tun.offload", cfg->tun_offload,
			 d->cfg->tun_offload) ||
	    bool_changed(msg, d->config_path, cfg->line_tun_io_uring, "tun.io_uring", cfg->tun_io_uring,
			 d->cfg->tun_io_uring))
		goto refused_free;
	if (strcmp(cfg->control_socket, d->cfg->control_socket)) {
		sb_printf(msg, "%s:%d: control_socket: \"%s\" cannot change on reload (allowed: \"%s\"; restart mslbd to change it)\n",
			  d->config_path, cfg->line_control_socket ? cfg->line_control_socket : 1,
			  cfg->control_socket, d->cfg->control_socket);
		goto refused_free;
	}
	if (strcmp(cfg->user, d->cfg->user)) {
		sb_printf(msg, "%s:%d: user: \"%s\" cannot change on reload (allowed: \"%s\"; restart mslbd to change it)\n",
			  d->config_path, cfg->line_user ? cfg->line_user : 1, cfg->user, d->cfg->user);
		goto refused_free;
	}
	if (cfg->has_redirect != d->cfg->has_redirect ||
	    (cfg->has_redirect && (!mslb_addr_eq(&cfg->redirect.address, &d->cfg->redirect.address) ||
				   cfg->redirect.port != d->cfg->redirect.port))) {
		sb_printf(msg, "%s:%d: redirect: its presence, address and port cannot change on reload (restart mslbd to change them)\n",
			  d->config_path, cfg->redirect.line ? cfg->redirect.line : d->cfg->redirect.line ? d->cfg->redirect.line : 1);
		goto refused_free;
	}
	/* A new privileged server_id after the switch: say why, rather than
	 * the kernel's EACCES from the path manager. */
	if (priv_check(cfg, err, sizeof(err)) < 0) {
		sb_printf(msg, "%s\n", err);
		goto refused_free;
	}
	if (!afpath_same_interfaces(cfg, d->cfg)) {
		char names[300];

		afpath_interface_names(d->cfg, names, sizeof(names));
		sb_printf(msg, "%s:%d: io.af_packet: cannot change on reload (allowed: %s; restart mslbd to change it)\n",
			  d->config_path, cfg->line_af_packet ? cfg->line_af_packet : 1, names);
		goto refused_free;
	}
	if (d->afp && afpath_check_filter(d->afp, cfg, err, sizeof(err)) < 0) {
		sb_printf(msg, "%s:%d: %s\n", d->config_path, cfg->line_af_packet ? cfg->line_af_packet : 1, err);
		goto refused_free;
	}
	lb = lb_create(cfg);
	health = lb ? make_health(d, cfg) : NULL;
	if (!health) {
		lb_destroy(lb);
		sb_printf(msg, "out of memory\n");
		goto refused_free;
	}
	/* Drains and health verdicts carry over by name, into the tables of
	 * the new data path before it takes a packet. */
	health_migrate(health, d->health);
	if (set_usable_all(lb, health) < 0) {
		health_destroy(health);
		lb_destroy(lb);
		sb_printf(msg, "out of memory\n");
		goto refused_free;
	}
	/* Routes and rules for the new config go in before the swap, so no
	 * packet of a new address arrives before the data path knows it; the
	 * old config's leftovers go out in the same step. */
	if (hostcfg_apply(d->host, cfg, err, sizeof(err)) < 0) {
		sb_printf(msg, "host set-up failed: %s\n", err);
		health_destroy(health);
		lb_destroy(lb);
		goto refused_free;
	}
	/* The filter was built above; attaching it cannot fail for want of
	 * room, and a socket error leaves the old filter (logged). */
	if (d->afp && afpath_apply_filter(d->afp, cfg, err, sizeof(err)) < 0)
		log_err("%s", err);
	if (d->afp)
		afpath_flush(d->afp);
	lb_adopt_counters(lb, d->lb);
	lb_take_state(lb, d->lb);
	/* Rules and owned flows of the peers kept by name stay. Out of
	 * memory, the protocol keeps its previous peers and keys. */
	if (d->rdr && rdr_reconfigure(d->rdr, cfg) < 0)
		log_err("redirect: out of memory: the previous peers and keys stay");
	lb_set_redirect(lb, d->rdr);
	set_flow_known(d, lb, cfg);
	refresh_route_mtus(hostcfg_nl(d->host), lb);
	hostcfg_check_tunnel_sources(d->host, cfg);
	lb_destroy(d->lb);
	health_destroy(d->health);
	config_free(d->cfg);
	d->health = health;
	d->lb = lb;
	d->cfg = cfg;
	announce(d);
	d->reloads++;
	stamp(d);
	apply_logging(cfg, d->foreground && !d->journal);
	log_info("reloaded %s", d->config_path);
	return 0;
refused_free:
	config_free(cfg);
refused:
	d->reload_failures++;
	log_err("reload of %s refused; the running configuration stays", d->config_path);
	return -1;
}

int daemon_rx(struct daemon *d)
{
	int r = rx_tun(d->lb, d->io, d->batch, d->emitq);

	/* A rule a packet made leaves now, before the flow's next packet. */
	if (d->rdr)
		rdr_flush(d->rdr, rx_now());
	return r;
}

static void rdr_datagram(void *ctx, const struct mslb_addr *from, const uint8_t *buf, size_t len)
{
	struct daemon *d = ctx;

	rdr_input(d->rdr, from, buf, len, rx_now());
}

int daemon_health_fd(const struct daemon *d)
{
	return d->health_fd;
}

double daemon_health(struct daemon *d, bool readable)
{
	double now = rx_now(), next;

	if (!d->health)
		return 1.0;
	if (readable)
		health_io(d->health, now);
	health_run(d->health, now);
	next = health_next(d->health);
	return next ? next - rx_now() : 1.0;
}

int daemon_rdr_rx(struct daemon *d)
{
	return udp_recv(d->rdr_fd, rdr_datagram, d);
}

void daemon_rdr_tick(struct daemon *d)
{
	if (d->rdr)
		rdr_tick(d->rdr, rx_now());
}

int daemon_rdr_fd(const struct daemon *d)
{
	return d->rdr_fd;
}

/* redirect add|del: this back owns the flow (its packets at the peer come
 * here) or no longer does. */
static void redirect_request(struct daemon *d, enum ctl_req_kind kind, const struct ctl_flow *fl,
			     struct strbuf *reply)
{
	struct rdr_flow f;
	unsigned alen = mslb_addr_size(fl->client.family);
	int peer, r;

	if (!d->rdr) {
		sb_printf(reply, "error\nredirect: this daemon has no redirect group\n");
		return;
	}
	memset(&f, 0, sizeof(f));
	f.version = fl->client.family == AF_INET ? 4 : 6;
	f.proto = fl->proto;
	f.cport[0] = (uint8_t)(fl->cport >> 8);
	f.cport[1] = (uint8_t)fl->cport;
	f.sport[0] = (uint8_t)(fl->sport >> 8);
	f.sport[1] = (uint8_t)fl->sport;
	memcpy(f.client, fl->client.bytes, alen);
	memcpy(f.service, fl->service.bytes, alen);
	if (kind == CTL_REQ_REDIRECT_DEL) {
		if (rdr_disown(d->rdr, &f, rx_now()) < 0)
			sb_printf(reply, "error\nredirect del: no such flow is owned here\n");
		else
			sb_printf(reply, "ok\ndeleted\n");
		rdr_flush(d->rdr, rx_now());
		return;
	}
	peer = rdr_peer_index(d->rdr, fl->peer);
	if (peer < 0) {
		sb_printf(reply, "error\nredirect add: no peer is called \"%s\" (see redirect.peers)\n", fl->peer);
		return;
	}
	r = rdr_own(d->rdr, (unsigned)peer, &f, rx_now());
	/* An operator's flow is live from the start (not a SYN to age out). */
	if (r == 0)
		rdr_seen(d->rdr, &f, 0x10, true, rx_now());
	if (r == -1)
		sb_printf(reply, "error\nredirect add: the table of owned flows is full (redirect.max_rules)\n");
	else if (r < 0)
		sb_printf(reply, "error\nredirect add: this back has no address to receive the flow\n");
	else
		sb_printf(reply, "ok\ninstalling at %s\n", fl->peer);
	rdr_flush(d->rdr, rx_now());
}

void daemon_control(struct daemon *d, const struct ctl_req *req, struct strbuf *reply)
{
	enum ctl_req_kind kind = req->kind;
	struct status_info si = {
		.pid = (long)getpid(),
		.uptime_s = (uint64_t)(time(NULL) - d->started),
		.config_file = d->config_path,
		.loaded_at = d->loaded_at,
		.reloads = d->reloads,
		.reload_failures = d->reload_failures,
		.lb = d->lb,
		.io = d->io,
		.afp = afpath_backends(d->afp),
		.n_afp = afpath_count(d->afp),
		.rdr = d->rdr,
		.now = rx_now(),
		.health = d->health,
	};
	struct strbuf msg;

	si.has_neigh = afpath_stats(d->afp, &si.neigh);

	switch (kind) {
	case CTL_REQ_STATUS:
		sb_printf(reply, "ok\n");
		status_text(&si, reply);
		break;
	case CTL_REQ_STATUS_JSON:
		sb_printf(reply, "ok\n");
		status_json(&si, reply);
		break;
	case CTL_REQ_REDIRECT_ADD:
	case CTL_REQ_REDIRECT_DEL:
		redirect_request(d, kind, &req->flow, reply);
		break;
	case CTL_REQ_DRAIN:
	case CTL_REQ_UNDRAIN:
		if (!d->health || health_set_drain(d->health, req->name, kind == CTL_REQ_DRAIN, rx_now()) < 0)
			sb_printf(reply, "error\nno next hop is called \"%s\" (see front.next_hops)\n", req->name);
		else
			sb_printf(reply, "ok\nnext hop %s: %s\n", req->name, kind == CTL_REQ_DRAIN ? "drained" : "undrained");
		break;
	case CTL_REQ_RELOAD:
		sb_init(&msg);
		if (daemon_reload(d, &msg) == 0)
			sb_printf(reply, "ok\nreloaded\n");
		else
			sb_printf(reply, "error\n%s", sb_str(&msg));
		sb_free(&msg);
		break;
	}
}

void daemon_log_detached(struct daemon *d)
{
	apply_logging(d->cfg, false);
}


int daemon_rx_afp(struct daemon *d, unsigned k)
{
	int r = rx_afp(d->lb, d->afp, k, d->io, d->batch, d->emitq);

	if (d->rdr)
		rdr_flush(d->rdr, rx_now());
	return r;
}

void daemon_tick(struct daemon *d)
{
	afpath_tick(d->afp);
	lb_set_time(d->lb, rx_now());
	lb_expire(d->lb, rx_now());
	/* Routes change rarely; a changed route MTU is seen within 10 s. */
	if (d->ticks++ % 10 == 0)
		refresh_route_mtus(hostcfg_nl(d->host), d->lb);
}

unsigned daemon_afp_count(const struct daemon *d)
{
	return afpath_count(d->afp);
}

int daemon_afp_fd(const struct daemon *d, unsigned k)
{
	return afpath_fd(d->afp, k);
}

int daemon_io_fd(const struct daemon *d)
{
	return d->io ? d->io->fd : -1;
}

int daemon_ctl_fd(const struct daemon *d)
{
	return d->ctl.fd;
}

void daemon_stop(struct daemon *d)
{
	ctl_close(&d->ctl);
	health_destroy(d->health);
	d->health = NULL;
	if (d->health_fd >= 0) {
		close(d->health_fd);
		d->health_fd = -1;
	}
	if (d->host) {
		hostcfg_remove(d->host);
		hostcfg_destroy(d->host);
		d->host = NULL;
	}
	afpath_close(d->afp);
	d->afp = NULL;
	if (d->rdr_fd >= 0) {
		close(d->rdr_fd);
		d->rdr_fd = -1;
	}
	sockdiag_close(d->sockdiag);
	d->sockdiag = NULL;
	if (d->io) {
		io_close(d->io);	/* a non-persistent TUN device goes with its fd */
		d->io = NULL;
	}
}

void daemon_destroy(struct daemon *d)
{
	if (!d)
		return;
	daemon_stop(d);
	io_batch_destroy(d->batch);
	lb_destroy(d->lb);
	rdr_destroy(d->rdr);
	emitq_destroy(d->emitq);
	config_free(d->cfg);
	free(d->config_path);
	free(d);
}
