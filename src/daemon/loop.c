/* loop: watchers for the packet device, the control socket and its
 * clients, and signals. Control clients are non-blocking and time-boxed so
 * a slow one never stalls forwarding. */
#include "loop.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "notify.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "ctl/ctl.h"
#include "ctl/ctl_proto.h"

#define CLIENT_TIMEOUT 10.0
#define TICK_INTERVAL 1.0	/* next-hop cache refresh (AF_PACKET) */
#define AFP_MAX 16		/* MSLB_AFP_MAX */

struct ctx {
	struct daemon *d;
	int exit_code;
};

struct client {
	ev_io io;
	ev_timer timer;
	struct ctx *ctx;
	char req[CTL_REQUEST_MAX];
	size_t n;
	struct strbuf reply;
	size_t off;
};

static void client_free(struct ev_loop *loop, struct client *c)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->io.fd);
	sb_free(&c->reply);
	free(c);
}

static void client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;

	while (c->off < c->reply.len) {
		ssize_t r = send(w->fd, c->reply.p + c->off, c->reply.len - c->off, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			break;
		c->off += (size_t)r;
	}
	client_free(loop, c);
}

static void client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t r = recv(w->fd, c->req + c->n, sizeof(c->req) - c->n, 0);
	struct ctl_req req;
	enum ctl_parse res;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* A request without its newline still counts once the client shut
	 * its side down (printf status | socat - UNIX:...). */
	if (r < 0 || (r == 0 && c->n == 0)) {
		client_free(loop, c);
		return;
	}
	c->n += (size_t)r;
	res = ctl_parse_request(c->req, c->n, r == 0, &req);
	if (res == CTL_PARSE_INCOMPLETE)
		return;
	if (res != CTL_PARSE_OK) {
		sb_printf(&c->reply, "error\n%s\n", req.why);
	} else {
		bool reload = req.kind == CTL_REQ_RELOAD;

		if (reload)
			notify_send("RELOADING=1");
		daemon_control(c->ctx->d, req.kind, &c->reply);
		if (reload)
			notify_send("READY=1");
	}
	ev_io_stop(loop, &c->io);
	ev_io_init(&c->io, client_write, w->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void client_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_free(loop, w->data);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctx *ctx = w->data;
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct client *c;

	if (fd < 0)
		return;
	if (!ctl_peer_allowed(fd)) {
		log_warn("control connection refused: peer is neither root nor our user");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ctx = ctx;
	sb_init(&c->reply);
	ev_io_init(&c->io, client_read, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->timer, client_timeout, CLIENT_TIMEOUT, 0);
	c->timer.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_start(loop, &c->timer);
}

static void on_packets(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctx *ctx = w->data;

	if (daemon_rx(ctx->d) < 0) {
		log_err("packet device failed; stopping");
		ctx->exit_code = 1;
		ev_break(loop, EVBREAK_ALL);
	}
}

struct afp_watch {
	ev_io io;
	struct ctx *ctx;
	unsigned k;
};

static void on_afp(struct ev_loop *loop, ev_io *w, int revents)
{
	struct afp_watch *a = w->data;

	if (daemon_rx_afp(a->ctx->d, a->k) < 0) {
		log_err("af_packet ring failed; stopping");
		a->ctx->exit_code = 1;
		ev_break(loop, EVBREAK_ALL);
	}
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctx *ctx = w->data;

	daemon_tick(ctx->d);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct ctx *ctx = w->data;
	struct strbuf msg;

	sb_init(&msg);
	notify_send("RELOADING=1");
	if (daemon_reload(ctx->d, &msg) < 0) {
		char *line = msg.p;

		/* Each error on its own log line, as `mslbd check` prints them. */
		while (line && *line) {
			char *end = strchr(line, '\n');

			if (end)
				*end = '\0';
			log_err("%s", line);
			line = end ? end + 1 : NULL;
		}
	}
	notify_send("READY=1");
	sb_free(&msg);
}

int loop_run(struct daemon *d)
{
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	struct ctx ctx = { .d = d, .exit_code = 0 };
	ev_io pkt_w, ctl_w;
	ev_signal term_w, int_w, hup_w;
	ev_timer tick_w;
	struct afp_watch afp_w[AFP_MAX];
	unsigned n_afp = daemon_afp_count(d);

	if (!loop) {
		log_err("cannot create the event loop");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	ev_io_init(&pkt_w, on_packets, daemon_io_fd(d), EV_READ);
	ev_io_init(&ctl_w, on_accept, daemon_ctl_fd(d), EV_READ);
	ev_signal_init(&term_w, on_stop, SIGTERM);
	ev_signal_init(&int_w, on_stop, SIGINT);
	ev_signal_init(&hup_w, on_hup, SIGHUP);
	pkt_w.data = ctl_w.data = hup_w.data = &ctx;
	ev_io_start(loop, &pkt_w);
	ev_io_start(loop, &ctl_w);
	ev_signal_start(loop, &term_w);
	ev_signal_start(loop, &int_w);
	ev_signal_start(loop, &hup_w);
	if (n_afp > AFP_MAX)
		n_afp = AFP_MAX;
	for (unsigned k = 0; k < n_afp; k++) {
		afp_w[k].ctx = &ctx;
		afp_w[k].k = k;
		ev_io_init(&afp_w[k].io, on_afp, daemon_afp_fd(d, k), EV_READ);
		afp_w[k].io.data = &afp_w[k];
		ev_io_start(loop, &afp_w[k].io);
	}
	ev_timer_init(&tick_w, on_tick, TICK_INTERVAL, TICK_INTERVAL);
	tick_w.data = &ctx;
	ev_timer_start(loop, &tick_w);
	{
		sigset_t stop;

		/* Blocked during start-up (cli.c); the watchers take them now. */
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		sigprocmask(SIG_UNBLOCK, &stop, NULL);
	}

	notify_send("READY=1");
	ev_run(loop, 0);
	notify_send("STOPPING=1");

	ev_io_stop(loop, &pkt_w);
	ev_io_stop(loop, &ctl_w);
	ev_signal_stop(loop, &term_w);
	ev_signal_stop(loop, &int_w);
	ev_signal_stop(loop, &hup_w);
	for (unsigned k = 0; k < n_afp; k++)
		ev_io_stop(loop, &afp_w[k].io);
	ev_timer_stop(loop, &tick_w);
	ev_loop_destroy(loop);
	return ctx.exit_code;
}
