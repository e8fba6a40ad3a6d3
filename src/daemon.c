/* daemon: start-up, reload (parse, validate, build, apply, swap), the
 * receive path and control requests. */
#include "daemon.h"

#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "afp_filter.h"
#include "config.h"
#include "ctl.h"
#include "fwd.h"
#include "hostcfg.h"
#include "io.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "status.h"

/* Newer than Debian 12's headers (Linux 5.18). */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* Batches handled per wake-up before yielding to other watchers; the fd
 * stays readable, so the loop comes straight back. */
#define RX_BATCHES_PER_WAKE 64
/* Next-hop cache entries re-resolved per timer tick (bounded work). */
#define NEIGH_REFRESH_PER_TICK 64

struct daemon {
	char *config_path;
	struct mslb_config *cfg;
	struct mslb_lb *lb;
	struct io_backend *io;
	struct io_batch *batch;
	/* io.af_packet: one backend per interface, in config order; the
	 * next-hop cache tells which one (if any) a rewritten packet leaves by. */
	unsigned n_afp;
	struct io_backend *afp[MSLB_AFP_MAX];
	struct neigh *neigh;
	struct sock_filter *filter;	/* AFP_FILTER_MAX instructions, allocated once */
	struct hostcfg *host;
	struct ctl_listener ctl;
	bool foreground;
	bool journal;		/* stderr is systemd's journal: syslog reaches it already */
	time_t started;
	char loaded_at[32];
	unsigned reloads, reload_failures;
};

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
	if (!d->config_path) {
		free(d);
		return NULL;
	}
	return d;
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

/* Open every io.af_packet interface and the next-hop cache. */
static int afp_open_all(struct daemon *d, char *err, size_t errlen)
{
	int ifindex[MSLB_AFP_MAX];

	if (!d->cfg->n_af_packet)
		return 0;
	d->filter = calloc(AFP_FILTER_MAX, sizeof(*d->filter));
	if (!d->filter) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < d->cfg->n_af_packet; i++) {
		d->afp[i] = io_afp_open(d->cfg->af_packet[i], err, (unsigned)errlen);
		if (!d->afp[i])
			return -1;
		d->n_afp = i + 1;
		ifindex[i] = io_afp_ifindex(d->afp[i]);
	}
	d->neigh = neigh_create(io_tun_ifindex(d->io), ifindex, d->n_afp);
	if (!d->neigh) {
		snprintf(err, errlen, "io.af_packet: cannot open rtnetlink for the next-hop cache");
		return -1;
	}
	return 0;
}

/* Build cfg's filter into d->filter; returns its length or -1. */
static int afp_filter_make(struct daemon *d, const struct mslb_config *cfg, char *err, size_t errlen)
{
	int n = afp_filter_build(cfg, d->filter, AFP_FILTER_MAX);

	if (n < 0)
		snprintf(err, errlen, "io.af_packet: too many service and back addresses for the receive filter (allowed: at most about %d IPv6 or %d IPv4 addresses)",
			 AFP_FILTER_MAX / 18, AFP_FILTER_MAX / 4);
	return n;
}

static int afp_filter_apply(struct daemon *d, const struct mslb_config *cfg, char *err, size_t errlen)
{
	int n = afp_filter_make(d, cfg, err, errlen);

	if (n < 0)
		return -1;
	for (unsigned i = 0; i < d->n_afp; i++) {
		int r = io_afp_set_filter(d->afp[i], d->filter, (unsigned)n);

		if (r < 0) {
			snprintf(err, errlen, "io.af_packet: %s: SO_ATTACH_FILTER: %s", d->afp[i]->name, strerror(-r));
			return -1;
		}
	}
	return 0;
}

static bool same_af_packet(const struct mslb_config *a, const struct mslb_config *b)
{
	if (a->n_af_packet != b->n_af_packet)
		return false;
	for (unsigned i = 0; i < a->n_af_packet; i++)
		if (strcmp(a->af_packet[i], b->af_packet[i]))
			return false;
	return true;
}

static void af_packet_names(const struct mslb_config *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!c->n_af_packet) {
		snprintf(buf, len, "none");
		return;
	}
	for (unsigned i = 0; i < c->n_af_packet && used + 1 < len; i++) {
		int n = snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "", c->af_packet[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
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
	/* The lock first: a second daemon must fail before it touches the
	 * host, or it would take over and then remove the first one's rules. */
	if (ctl_listen(&d->ctl, d->cfg->control_socket, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto fail;
	}
	d->lb = lb_create(d->cfg);
	d->batch = io_batch_create();
	if (!d->lb || !d->batch) {
		log_err("out of memory");
		goto fail;
	}
	d->io = io_tun_open(d->cfg->tun_name, d->cfg->tun_offload, err, sizeof(err));
	if (!d->io) {
		log_err("%s", err);
		goto fail;
	}
	if (afp_open_all(d, err, sizeof(err)) < 0) {
		log_err("%s:%d: %s", d->config_path, d->cfg->line_af_packet ? d->cfg->line_af_packet : 1, err);
		goto fail;
	}
	d->host = hostcfg_create(d->io->name, io_tun_ifindex(d->io));
	if (!d->host) {
		log_err("cannot open rtnetlink");
		goto fail;
	}
	/* The rings take the service traffic before the blackhole rules
	 * keep the kernel from forwarding it too. */
	if (d->n_afp && afp_filter_apply(d, d->cfg, err, sizeof(err)) < 0) {
		log_err("%s:%d: %s", d->config_path, d->cfg->line_af_packet ? d->cfg->line_af_packet : 1, err);
		goto fail;
	}
	if (hostcfg_apply(d->host, d->cfg, err, sizeof(err)) < 0) {
		log_err("host set-up failed: %s", err);
		goto fail;
	}
	for (unsigned i = 0; i < d->n_afp; i++)
		log_info("af_packet on %s", d->afp[i]->name);
	stamp(d);
	log_info("offloads on %s: %s", d->io->name, io_offload_names(d->io->offloads));
	log_info("started: %s%s%s on %s, config %s", d->cfg->has_front ? "front" : "",
		 d->cfg->has_front && d->cfg->has_back ? " and " : "", d->cfg->has_back ? "back" : "",
		 d->io->name, d->config_path);
	return 0;
fail:
	daemon_stop(d);
	return -1;
}

int daemon_reload(struct daemon *d, struct strbuf *msg)
{
	struct config_errors errs;
	struct mslb_config *cfg = config_load_file(d->config_path, &errs);
	struct mslb_lb *lb;
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
	if (cfg->tun_offload != d->cfg->tun_offload) {
		sb_printf(msg, "%s:%d: tun.offload: cannot change on reload (allowed: %s; restart mslbd to change it)\n",
			  d->config_path, cfg->line_tun_offload ? cfg->line_tun_offload : 1,
			  d->cfg->tun_offload ? "true" : "false");
		goto refused_free;
	}
	if (strcmp(cfg->control_socket, d->cfg->control_socket)) {
		sb_printf(msg, "%s:%d: control_socket: \"%s\" cannot change on reload (allowed: \"%s\"; restart mslbd to change it)\n",
			  d->config_path, cfg->line_control_socket ? cfg->line_control_socket : 1,
			  cfg->control_socket, d->cfg->control_socket);
		goto refused_free;
	}
	if (!same_af_packet(cfg, d->cfg)) {
		char names[300];

		af_packet_names(d->cfg, names, sizeof(names));
		sb_printf(msg, "%s:%d: io.af_packet: cannot change on reload (allowed: %s; restart mslbd to change it)\n",
			  d->config_path, cfg->line_af_packet ? cfg->line_af_packet : 1, names);
		goto refused_free;
	}
	if (d->n_afp && afp_filter_make(d, cfg, err, sizeof(err)) < 0) {
		sb_printf(msg, "%s:%d: %s\n", d->config_path, cfg->line_af_packet ? cfg->line_af_packet : 1, err);
		goto refused_free;
	}
	lb = lb_create(cfg);
	if (!lb) {
		sb_printf(msg, "out of memory\n");
		goto refused_free;
	}
	/* Routes and rules for the new config go in before the swap, so no
	 * packet of a new address arrives before the data path knows it; the
	 * old config's leftovers go out in the same step. */
	if (hostcfg_apply(d->host, cfg, err, sizeof(err)) < 0) {
		sb_printf(msg, "host set-up failed: %s\n", err);
		lb_destroy(lb);
		goto refused_free;
	}
	/* The filter was built above; attaching it cannot fail for want of
	 * room, and a socket error leaves the old filter (logged). */
	if (d->n_afp && afp_filter_apply(d, cfg, err, sizeof(err)) < 0)
		log_err("%s", err);
	if (d->neigh)
		neigh_flush(d->neigh);
	lb_adopt_counters(lb, d->lb);
	lb_destroy(d->lb);
	config_free(d->cfg);
	d->lb = lb;
	d->cfg = cfg;
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
	for (unsigned k = 0; k < RX_BATCHES_PER_WAKE; k++) {
		int n = io_recv(d->io, d->batch);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (unsigned i = 0; i < d->batch->n; i++) {
			struct io_pkt *p = &d->batch->pkt[i];

			unsigned partial = p->off.flags & IO_OFF_NEEDS_CSUM ?
					   (unsigned)p->off.csum_start + p->off.csum_offset : 0;

			if (lb_process_offload(d->lb, p->data, &p->len, partial) != MSLB_OK)
				p->len = 0;
		}
		io_send(d->io, d->batch);
		if (n < IO_BATCH)
			break;
	}
	return 0;
}

/* The packet at p was rewritten: find where its new destination goes.
 * Through an af_packet interface when the next hop is there and its MAC
 * known (TTL decremented here, as the kernel no longer forwards it), else
 * the TUN (the kernel routes it and resolves the neighbour). Returns the
 * port used, -1 for the TUN or a drop. */
static int afp_route(struct daemon *d, struct io_pkt *p)
{
	struct mslb_addr dst, src;
	const struct neigh_entry *e;
	enum mslb_drop r;
	bool v4 = p->data[0] >> 4 == 4;

	mslb_addr_from_bytes(&dst, v4 ? AF_INET : AF_INET6, p->data + (v4 ? 16 : 24));
	mslb_addr_from_bytes(&src, v4 ? AF_INET : AF_INET6, p->data + (v4 ? 12 : 8));
	e = neigh_lookup(d->neigh, &dst, &src);
	if (e->state == NEIGH_OK) {
		r = fwd_ttl_decrement(p->data, p->len);
		if (r != MSLB_OK) {
			lb_count_drop(d->lb, r);
			p->len = 0;
			return -1;
		}
		p->out = d->afp[e->port];
		p->out_mac = e->mac;
		return e->port;
	}
	neigh_count_fallback(d->neigh, e->state == NEIGH_UNRESOLVED);
	/* The TUN takes offload metadata only as far as it has offloads. */
	if ((p->off.flags & IO_OFF_NEEDS_CSUM) && !(d->io->offloads & IO_CAP_CSUM))
		fwd_finish_csum(p->data, p->len, &p->off);
	if (p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		unsigned need = (p->off.gso_type & 0x7f) == VIRTIO_NET_HDR_GSO_UDP_L4 ? IO_CAP_USO : IO_CAP_TSO;

		if (!(d->io->offloads & need)) {
			d->io->stats.tx_errors++;	/* a super-packet the TUN cannot take */
			p->len = 0;
		}
	}
	return -1;
}

int daemon_rx_afp(struct daemon *d, unsigned k)
{
	struct io_backend *be = d->afp[k];

	for (unsigned round = 0; round < RX_BATCHES_PER_WAKE; round++) {
		int n = io_recv(be, d->batch);
		unsigned ports = 0;

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (unsigned i = 0; i < d->batch->n; i++) {
			struct io_pkt *p = &d->batch->pkt[i];
			unsigned partial = p->off.flags & IO_OFF_NEEDS_CSUM ?
					   (unsigned)p->off.csum_start + p->off.csum_offset : 0;
			int port;

			if (lb_process_offload(d->lb, p->data, &p->len, partial) != MSLB_OK) {
				p->len = 0;
				continue;
			}
			port = afp_route(d, p);
			if (port >= 0)
				ports |= 1u << port;
		}
		for (unsigned i = 0; i < d->n_afp; i++)
			if (ports & (1u << i))
				io_send(d->afp[i], d->batch);
		io_send(d->io, d->batch);	/* what is left: the TUN fallback */
		if (n < IO_BATCH)
			break;
	}
	return 0;
}

void daemon_tick(struct daemon *d)
{
	if (d->neigh)
		neigh_refresh(d->neigh, NEIGH_REFRESH_PER_TICK);
	for (unsigned i = 0; i < d->n_afp; i++)
		io_afp_poll_stats(d->afp[i]);
}

unsigned daemon_afp_count(const struct daemon *d)
{
	return d->n_afp;
}

int daemon_afp_fd(const struct daemon *d, unsigned k)
{
	return k < d->n_afp ? d->afp[k]->fd : -1;
}

void daemon_control(struct daemon *d, const char *request, struct strbuf *reply)
{
	struct status_info si = {
		.pid = (long)getpid(),
		.uptime_s = (uint64_t)(time(NULL) - d->started),
		.config_file = d->config_path,
		.loaded_at = d->loaded_at,
		.reloads = d->reloads,
		.reload_failures = d->reload_failures,
		.lb = d->lb,
		.io = d->io,
		.afp = (const struct io_backend *const *)d->afp,
		.n_afp = d->n_afp,
		.has_neigh = d->neigh != NULL,
	};

	for (unsigned i = 0; i < d->n_afp; i++)
		io_afp_poll_stats(d->afp[i]);
	if (d->neigh)
		neigh_get_stats(d->neigh, &si.neigh);

	if (!strcmp(request, "status")) {
		sb_printf(reply, "ok\n");
		status_text(&si, reply);
	} else if (!strcmp(request, "status json")) {
		sb_printf(reply, "ok\n");
		status_json(&si, reply);
	} else if (!strcmp(request, "reload")) {
		struct strbuf msg;

		sb_init(&msg);
		if (daemon_reload(d, &msg) == 0)
			sb_printf(reply, "ok\nreloaded\n");
		else
			sb_printf(reply, "error\n%s", sb_str(&msg));
		sb_free(&msg);
	} else {
		sb_printf(reply, "error\nunknown request \"%.64s\" (allowed: status, status json, reload)\n", request);
	}
}

void daemon_log_detached(struct daemon *d)
{
	apply_logging(d->cfg, false);
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
	if (d->host) {
		hostcfg_remove(d->host);
		hostcfg_destroy(d->host);
		d->host = NULL;
	}
	for (unsigned i = 0; i < d->n_afp; i++)
		io_close(d->afp[i]);
	d->n_afp = 0;
	neigh_destroy(d->neigh);
	d->neigh = NULL;
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
	free(d->filter);
	lb_destroy(d->lb);
	config_free(d->cfg);
	free(d->config_path);
	free(d);
}
