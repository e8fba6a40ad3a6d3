/* loop: watchers for the packet device, the control socket and its
 * clients, and signals. Control clients are non-blocking and time-boxed so
 * a slow one never stalls forwarding. */
#include "loop.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "notify.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "base/strbuf.h"
#include "ctl/ctl.h"
#include "ctl/ctl_proto.h"
#include "redirect/rdr.h"

/* What one control client may hold, and all of them together (mslbd(8),
 * CONTROL SOCKET). A client is a local process of root or our user, but
 * a buggy or hostile one must not stall forwarding or lock `status` out. */
#define CTL_MAX_CLIENTS 64
#define CTL_REQUEST_TIMEOUT 5.0	/* accept to a whole request line */
#define CTL_WRITE_TIMEOUT 5.0	/* reply made to reply sent */
#define CTL_REPLY_BUDGET (4u << 20)	/* reply bytes held for all clients */
#define CTL_ACCEPT_BATCH 32	/* accepts per wake-up: packets get their turn */
#define CTL_ACCEPT_PAUSE 1.0	/* accept cannot go on (no spare fd, ENOBUFS) */
#define CTL_LOG_INTERVAL 10.0	/* abuse is logged at most CTL_LOG_BURST */
#define CTL_LOG_BURST 5		/* lines per CTL_LOG_INTERVAL seconds */

#define TICK_INTERVAL 1.0	/* next-hop cache refresh (AF_PACKET) */
#define AFP_MAX 16		/* MSLB_AFP_MAX */

struct client;

struct ctx {
	struct daemon *d;
	int exit_code;
	ev_io accept_w;
	ev_timer accept_pause;
	int spare_fd;		/* /dev/null, given up to refuse a client at EMFILE */
	struct client *oldest, *newest;
	unsigned n_clients;
	size_t reply_bytes;	/* held by all clients' replies */
	struct ratelimit abuse;
};

struct client {
	ev_io io;
	ev_timer timer;
	struct ctx *ctx;
	struct client *older, *newer;
	bool writing;		/* the reply is made */
	char req[CTL_REQUEST_MAX];
	size_t n;
	struct strbuf reply;
	size_t off;
	size_t charged;		/* of ctx->reply_bytes */
};

/* A line about a misbehaving peer: bounded, with the count of those held
 * back, so 1,000 clients in a loop make a few lines, not a full disk. */
static void abuse_log(struct ctx *ctx, double now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void abuse_log(struct ctx *ctx, double now, const char *fmt, ...)
{
	char line[300];
	unsigned held;
	va_list ap;

	if (!ratelimit_allow(&ctx->abuse, now, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		log_warn("%s (%u more such messages suppressed)", line, held);
	else
		log_warn("%s", line);
}

/* Tell a peer we will not serve why, best effort: the socket is fresh, so
 * the line fits its buffer; never block, never raise SIGPIPE. */
static void refuse(int fd, const char *why)
{
	char line[200];
	int n = snprintf(line, sizeof(line), "error\n%s%s\n", CTL_REFUSED, why);

	if (n > 0 && (size_t)n < sizeof(line) && send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* Gone already, or not reading: nothing more to do. */
	}
}

static void client_free(struct ev_loop *loop, struct client *c)
{
	struct ctx *ctx = c->ctx;

	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->io.fd);
	if (c->older)
		c->older->newer = c->newer;
	else
		ctx->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		ctx->newest = c->older;
	ctx->n_clients--;
	ctx->reply_bytes -= c->charged;
	sb_free(&c->reply);
	free(c);
}

/* Make room: drop the oldest client still waiting for its request line
 * (the idle kind a flood is made of), else the oldest that has not read
 * its reply; with writers_only, only the latter, never keep. One who got
 * no byte of its reply yet learns why. Returns false if none qualifies. */
static bool evict_oldest(struct ev_loop *loop, struct ctx *ctx, bool writers_only,
			 const struct client *keep, const char *why)
{
	struct client *c, *victim = NULL;

	for (c = ctx->oldest; c && !writers_only; c = c->newer)
		if (!c->writing && c != keep) {
			victim = c;
			break;
		}
	for (c = ctx->oldest; c && !victim; c = c->newer)
		if (c->writing && c != keep)
			victim = c;
	if (!victim)
		return false;
	if (victim->off == 0)
		refuse(victim->io.fd, why);
	client_free(loop, victim);
	return true;
}

/* Send what the socket takes. Returns true once the client is gone
 * (done, or failed), false if it must wait for EV_WRITE. */
static bool client_flush(struct ev_loop *loop, struct client *c)
{
	while (c->off < c->reply.len) {
		ssize_t r = send(c->io.fd, c->reply.p + c->off, c->reply.len - c->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0)
			break;
		c->off += (size_t)r;
	}
	client_free(loop, c);
	return true;
}

static void client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	client_flush(loop, w->data);
}

/* The reply is made: hold it within the budget, send what fits now (most
 * replies fit the socket buffer, so the client is done at once), and wait
 * CTL_WRITE_TIMEOUT for a slow reader to take the rest. */
static void client_reply(struct ev_loop *loop, struct client *c)
{
	struct ctx *ctx = c->ctx;

	if (c->reply.oom) {
		sb_free(&c->reply);
		sb_printf(&c->reply, "error\nout of memory\n");
	}
	c->writing = true;
	c->charged = c->reply.cap;
	ctx->reply_bytes += c->charged;
	while (ctx->reply_bytes > CTL_REPLY_BUDGET &&
	       evict_oldest(loop, ctx, true, c, "control replies held exceed their budget; dropped the oldest"))
		abuse_log(ctx, ev_now(loop), "control socket: replies held exceed %u bytes; dropped a client that does not read",
			  CTL_REPLY_BUDGET);
	if (client_flush(loop, c))
		return;
	ev_io_stop(loop, &c->io);
	ev_io_init(&c->io, client_write, c->io.fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	/* A reload may have taken a while: the write time starts now. */
	ev_now_update(loop);
	ev_timer_stop(loop, &c->timer);
	ev_timer_set(&c->timer, CTL_WRITE_TIMEOUT, 0);
	ev_timer_start(loop, &c->timer);
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
		daemon_control(c->ctx->d, &req, &c->reply);
		if (reload)
			notify_send("READY=1");
	}
	client_reply(loop, c);
}

static void client_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	abuse_log(c->ctx, ev_now(loop), c->writing ? "control client dropped: did not read its reply within %.0f s"
		  : "control client dropped: no request line within %.0f s",
		  c->writing ? CTL_WRITE_TIMEOUT : CTL_REQUEST_TIMEOUT);
	if (!c->writing)
		refuse(c->io.fd, "no request line in time");
	client_free(loop, c);
}

static void admit(struct ev_loop *loop, struct ctx *ctx, int fd)
{
	struct client *c;
	long uid, pid;

	if (!ctl_peer_allowed(fd, &pid, &uid)) {
		abuse_log(ctx, ev_now(loop), "control connection refused: peer pid %ld uid %ld is neither root nor our user",
			  pid, uid);
		refuse(fd, "permission denied (only root and the daemon's user may use the control socket)");
		close(fd);
		return;
	}
	/* At the cap the oldest idle client goes, not the newcomer: a flood
	 * of clients that connect and wait must not lock `status` out. */
	if (ctx->n_clients >= CTL_MAX_CLIENTS) {
		abuse_log(ctx, ev_now(loop), "control socket: %u clients already; dropping the oldest", ctx->n_clients);
		evict_oldest(loop, ctx, false, NULL, "too many control clients; dropped the oldest");
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		refuse(fd, "out of memory");
		close(fd);
		return;
	}
	c->ctx = ctx;
	sb_init(&c->reply);
	c->older = ctx->newest;
	if (ctx->newest)
		ctx->newest->newer = c;
	else
		ctx->oldest = c;
	ctx->newest = c;
	ctx->n_clients++;
	ev_io_init(&c->io, client_read, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->timer, client_timeout, CTL_REQUEST_TIMEOUT, 0);
	c->timer.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_start(loop, &c->timer);
}

static int open_spare(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Stop accepting for CTL_ACCEPT_PAUSE: the pending connection keeps the
 * socket readable, and retrying at once would spin the loop. */
static void accept_pause(struct ev_loop *loop, struct ctx *ctx)
{
	ev_io_stop(loop, &ctx->accept_w);
	ev_timer_set(&ctx->accept_pause, CTL_ACCEPT_PAUSE, 0);
	ev_timer_start(loop, &ctx->accept_pause);
}

/* accept() found no free descriptor. The pending connection keeps the
 * socket readable, so doing nothing would spin the loop at full CPU. */
static void accept_no_fd(struct ev_loop *loop, struct ctx *ctx, int err)
{
	int fd;

	/* Our own clients first: the oldest goes, as at the cap, and the next
	 * accept takes its descriptor. */
	if (ctx->oldest) {
		abuse_log(ctx, ev_now(loop), "control socket: accept: %s; dropping the oldest of %u clients",
			  strerror(err), ctx->n_clients);
		evict_oldest(loop, ctx, false, NULL, "daemon out of file descriptors; dropped the oldest client");
		return;
	}
	/* The descriptors went elsewhere: give up the spare one to take the
	 * connection, say why, and close it (the accept-and-close trick). */
	if (ctx->spare_fd >= 0) {
		close(ctx->spare_fd);
		fd = accept4(ctx->accept_w.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			refuse(fd, "daemon out of file descriptors");
			close(fd);
		}
		ctx->spare_fd = open_spare();
	}
	abuse_log(ctx, ev_now(loop), "control socket: accept: %s; refusing clients", strerror(err));
	/* Not even that: wait instead of spinning. */
	if (ctx->spare_fd < 0)
		accept_pause(loop, ctx);
}

static void on_accept_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctx *ctx = w->data;

	if (ctx->spare_fd < 0)
		ctx->spare_fd = open_spare();
	ev_io_start(loop, &ctx->accept_w);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctx *ctx = w->data;

	for (int i = 0; i < CTL_ACCEPT_BATCH; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			admit(loop, ctx, fd);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;	/* that connection is gone: the next one */
		case EAGAIN:
			return;		/* drained */
		case EMFILE:
		case ENFILE:
			accept_no_fd(loop, ctx, errno);
			return;
		default:
			/* ENOBUFS, ENOMEM: the connection stays pending. */
			abuse_log(ctx, ev_now(loop), "control socket: accept: %s; pausing %.0f s",
				  strerror(errno), CTL_ACCEPT_PAUSE);
			accept_pause(loop, ctx);
			return;
		}
	}
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
	unsigned held = ratelimit_flush(&ctx->abuse, ev_now(loop));

	if (held)
		log_warn("control socket: %u more messages about misbehaving clients suppressed", held);
	daemon_tick(ctx->d);
}

/* Redirection datagrams: a batch per wake-up, so that a flood of them
 * leaves packets and control clients their turn. */
static void on_redirect(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctx *ctx = w->data;

	if (daemon_rdr_rx(ctx->d) < 0)
		abuse_log(ctx, ev_now(loop), "redirect: socket error: %m");
}

static void on_redirect_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctx *ctx = w->data;

	daemon_rdr_tick(ctx->d);
}

/* Health checks: probe sockets and the timer share one handler, which
 * sets the timer to the next deadline (at most a second away, so a
 * reload's new schedule is picked up). */
struct health_watch {
	ev_io io;
	ev_timer timer;
	struct ctx *ctx;
};

static void health_rearm(struct ev_loop *loop, struct health_watch *hw, double in)
{
	if (in < 0.001)
		in = 0.001;
	if (in > 1.0)
		in = 1.0;
	ev_timer_stop(loop, &hw->timer);
	ev_timer_set(&hw->timer, in, 0);
	ev_timer_start(loop, &hw->timer);
}

static void on_health_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health_watch *hw = w->data;

	health_rearm(loop, hw, daemon_health(hw->ctx->d, true));
}

static void on_health_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health_watch *hw = w->data;

	health_rearm(loop, hw, daemon_health(hw->ctx->d, false));
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
	struct ctx ctx = {
		.d = d,
		.exit_code = 0,
		.abuse = RATELIMIT_INIT(CTL_LOG_INTERVAL, CTL_LOG_BURST),
	};
	ev_io pkt_w;
	ev_signal term_w, int_w, hup_w;
	ev_timer tick_w, rdr_tick_w;
	ev_io rdr_w;
	struct health_watch health_w = { .ctx = &ctx };
	struct afp_watch afp_w[AFP_MAX];
	unsigned n_afp = daemon_afp_count(d);

	if (!loop) {
		log_err("cannot create the event loop");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Held from the start, so that at EMFILE there is one to refuse with. */
	ctx.spare_fd = open_spare();
	ev_io_init(&pkt_w, on_packets, daemon_io_fd(d), EV_READ);
	ev_io_init(&ctx.accept_w, on_accept, daemon_ctl_fd(d), EV_READ);
	ev_timer_init(&ctx.accept_pause, on_accept_pause, CTL_ACCEPT_PAUSE, 0);
	ev_signal_init(&term_w, on_stop, SIGTERM);
	ev_signal_init(&int_w, on_stop, SIGINT);
	ev_signal_init(&hup_w, on_hup, SIGHUP);
	pkt_w.data = ctx.accept_w.data = ctx.accept_pause.data = hup_w.data = &ctx;
	ev_io_start(loop, &pkt_w);
	ev_io_start(loop, &ctx.accept_w);
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
	ev_io_init(&rdr_w, on_redirect, daemon_rdr_fd(d), EV_READ);
	ev_timer_init(&rdr_tick_w, on_redirect_tick, RDR_TICK, RDR_TICK);
	rdr_w.data = rdr_tick_w.data = &ctx;
	if (daemon_rdr_fd(d) >= 0) {
		ev_io_start(loop, &rdr_w);
		ev_timer_start(loop, &rdr_tick_w);
	}
	ev_io_init(&health_w.io, on_health_io, daemon_health_fd(d), EV_READ);
	ev_timer_init(&health_w.timer, on_health_timer, 0.05, 0);
	health_w.io.data = health_w.timer.data = &health_w;
	ev_io_start(loop, &health_w.io);
	ev_timer_start(loop, &health_w.timer);
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
	ev_io_stop(loop, &ctx.accept_w);
	ev_timer_stop(loop, &ctx.accept_pause);
	while (ctx.oldest)
		client_free(loop, ctx.oldest);
	if (ctx.spare_fd >= 0)
		close(ctx.spare_fd);
	ev_signal_stop(loop, &term_w);
	ev_signal_stop(loop, &int_w);
	ev_signal_stop(loop, &hup_w);
	for (unsigned k = 0; k < n_afp; k++)
		ev_io_stop(loop, &afp_w[k].io);
	ev_timer_stop(loop, &tick_w);
	ev_io_stop(loop, &rdr_w);
	ev_timer_stop(loop, &rdr_tick_w);
	ev_io_stop(loop, &health_w.io);
	ev_timer_stop(loop, &health_w.timer);
	ev_loop_destroy(loop);
	return ctx.exit_code;
}
