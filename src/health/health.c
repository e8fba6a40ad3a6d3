/* health: rise and fall over probe verdicts, the operator's drain, and the
 * schedule of probes. One probe per next hop at a time; a probe starts
 * every interval and fails at its timeout. */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "health_probe.h"
#include "base/log.h"

struct hnode {
	const struct cfg_next_hop *nh;
	bool up, drain, busy;
	unsigned in_a_row;		/* verdicts like the last, in a row */
	bool last_ok;
	double next_at, started, since, last_at, latency;
	uint16_t echo_id, seq;
	uint64_t probes, failures;
	char last[80];
	struct hc_probe p;
};

struct health {
	const struct mslb_config *cfg;
	struct health_ops ops;
	int epfd;
	unsigned n;
	struct hnode *node;
};

static bool usable(const struct hnode *x)
{
	return x->up && !x->drain;
}

struct health *health_create(const struct mslb_config *cfg, const struct health_ops *ops, int epfd, double now)
{
	struct health *h = calloc(1, sizeof(*h));
	unsigned n = cfg->has_front ? cfg->front.n_next_hops : 0;
	uint16_t base;

	if (!h)
		return NULL;
	h->cfg = cfg;
	h->ops = *ops;
	h->epfd = epfd;
	h->n = n;
	h->node = calloc(n + 1, sizeof(*h->node));
	if (!h->node) {
		free(h);
		return NULL;
	}
	/* Echo identifiers apart from each other: every ICMP probe socket
	 * sees every echo reply from IP_S, and tells its own by them. */
	if (getrandom(&base, sizeof(base), GRND_NONBLOCK) != sizeof(base))
		base = 0x4d00;
	for (unsigned i = 0; i < n; i++) {
		struct hnode *x = &h->node[i];

		x->nh = &cfg->front.next_hops[i];
		x->up = true;
		x->drain = x->nh->drain;
		x->since = now;
		x->p.fd = -1;
		x->echo_id = (uint16_t)(base + i);
		if (x->nh->check.kind == HC_NONE)
			continue;
		/* Spread over one interval: n probes at once would be a burst. */
		x->next_at = now + 0.05 + (double)x->nh->check.interval_ms / 1000.0 * i / n;
	}
	return h;
}

static bool same_check(const struct cfg_check *a, const struct cfg_check *b)
{
	return a->kind == b->kind && a->port == b->port && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->rise == b->rise && a->fall == b->fall &&
	       a->http_status == b->http_status && !strcmp(a->http_path, b->http_path) &&
	       !strcmp(a->http_host, b->http_host) && mslb_addr_eq(&a->target, &b->target);
}

void health_migrate(struct health *h, const struct health *old)
{
	for (unsigned i = 0; i < h->n; i++) {
		struct hnode *x = &h->node[i];

		for (unsigned j = 0; j < old->n; j++) {
			const struct hnode *o = &old->node[j];

			if (strcmp(o->nh->name, x->nh->name))
				continue;
			/* The file's state wins only when the file changed it. */
			if (o->nh->drain == x->nh->drain)
				x->drain = o->drain;
			if (same_check(&o->nh->check, &x->nh->check)) {
				x->up = o->up;
				x->in_a_row = o->in_a_row;
				x->last_ok = o->last_ok;
				x->last_at = o->last_at;
				x->latency = o->latency;
				x->probes = o->probes;
				x->failures = o->failures;
				memcpy(x->last, o->last, sizeof(x->last));
			}
			if (usable(x) == usable(o))
				x->since = o->since;
			break;
		}
	}
}

void health_destroy(struct health *h)
{
	if (!h)
		return;
	/* A closed socket leaves the epoll set by itself. */
	for (unsigned i = 0; i < h->n; i++)
		hp_close(&h->node[i].p);
	free(h->node);
	free(h);
}

static void set_usable(struct health *h, struct hnode *x, bool was, double now)
{
	if (usable(x) == was)
		return;
	x->since = now;
	h->ops.usable(h->ops.ctx, (unsigned)(x - h->node), usable(x));
}

/* A probe's verdict: rise and fall, logged once per change. */
static void verdict(struct health *h, struct hnode *x, bool ok, const char *detail, double now)
{
	const struct cfg_check *k = &x->nh->check;
	bool was = usable(x);
	char a[MSLB_ADDRSTRLEN];

	if (x->busy) {
		if (x->p.fd >= 0)
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, x->p.fd, NULL);
		hp_close(&x->p);
		x->busy = false;
	}
	x->latency = now - x->started;
	x->last_at = now;
	snprintf(x->last, sizeof(x->last), "%s", detail);
	x->in_a_row = x->probes && ok == x->last_ok ? x->in_a_row + 1 : 1;
	x->last_ok = ok;
	x->probes++;
	if (!ok)
		x->failures++;
	if (ok && !x->up && x->in_a_row >= k->rise) {
		x->up = true;
		log_info("next hop %s: up (%s check of %s: %s, %u in a row)", x->nh->name, config_check_kind_name(k->kind),
			 mslb_addr_str(&k->target, a, sizeof(a)), detail, x->in_a_row);
	} else if (!ok && x->up && x->in_a_row >= k->fall) {
		x->up = false;
		log_warn("next hop %s: down (%s check of %s: %s, %u in a row)", x->nh->name, config_check_kind_name(k->kind),
			 mslb_addr_str(&k->target, a, sizeof(a)), detail, x->in_a_row);
	}
	set_usable(h, x, was, now);
}

static void start(struct health *h, struct hnode *x, double now)
{
	const struct cfg_check *k = &x->nh->check;
	int fi = k->target.family == AF_INET ? 0 : 1;
	const struct mslb_addr *src = h->cfg->front.has_hsrc[fi] ? &h->cfg->front.hsrc[fi] : NULL;
	struct epoll_event ev = { 0 };
	uint32_t events;

	x->started = now;
	x->next_at = now + k->interval_ms / 1000.0;
	x->seq++;
	if (hp_start(&x->p, k, src, x->echo_id, x->seq, &events) < 0) {
		x->busy = false;
		verdict(h, x, false, x->p.detail, now);
		return;
	}
	x->busy = true;
	/* Before the loop reads the TUN device again, where the probe's
	 * first packet already waits. */
	h->ops.steer(h->ops.ctx, (unsigned)(x - h->node), x->p.version, x->p.proto, x->p.src, x->p.id);
	ev.events = events;
	ev.data.u32 = (uint32_t)(x - h->node);
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, x->p.fd, &ev) < 0)
		verdict(h, x, false, "epoll_ctl failed", now);
}

double health_next(const struct health *h)
{
	double next = 0;

	for (unsigned i = 0; i < h->n; i++) {
		const struct hnode *x = &h->node[i];
		double at;

		if (x->nh->check.kind == HC_NONE)
			continue;
		at = x->busy ? x->started + x->nh->check.timeout_ms / 1000.0 : x->next_at;
		if (!next || at < next)
			next = at;
	}
	return next;
}

void health_run(struct health *h, double now)
{
	for (unsigned i = 0; i < h->n; i++) {
		struct hnode *x = &h->node[i];

		if (x->nh->check.kind == HC_NONE)
			continue;
		if (x->busy && now >= x->started + x->nh->check.timeout_ms / 1000.0)
			verdict(h, x, false, "timeout", now);
		if (!x->busy && now >= x->next_at)
			start(h, x, now);
	}
}

void health_io(struct health *h, double now)
{
	struct epoll_event ev[32];
	int n;

	n = epoll_wait(h->epfd, ev, 32, 0);
	for (int i = 0; i < n; i++) {
		struct hnode *x;
		struct epoll_event mod = { 0 };
		uint32_t events = 0;
		enum hp_verdict r;

		if (ev[i].data.u32 >= h->n)
			continue;
		x = &h->node[ev[i].data.u32];
		if (!x->busy)
			continue;
		r = hp_event(&x->p, ev[i].events, &events);
		if (r != HP_PENDING) {
			verdict(h, x, r == HP_OK, x->p.detail, now);
			continue;
		}
		mod.events = events;
		mod.data.u32 = ev[i].data.u32;
		if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, x->p.fd, &mod) < 0)
			verdict(h, x, false, "epoll_ctl failed", now);
	}
}

int health_set_drain(struct health *h, const char *name, bool drain, double now)
{
	for (unsigned i = 0; i < h->n; i++) {
		struct hnode *x = &h->node[i];
		bool was;

		if (strcmp(x->nh->name, name))
			continue;
		if (x->drain == drain)
			return 0;
		was = usable(x);
		x->drain = drain;
		log_info("next hop %s: %s", x->nh->name, drain ? "drained (no new flows)" : "undrained");
		set_usable(h, x, was, now);
		return 0;
	}
	return -1;
}

bool health_usable(const struct health *h, unsigned i)
{
	return i < h->n && usable(&h->node[i]);
}

void health_get(const struct health *h, unsigned i, struct health_info *out)
{
	const struct hnode *x = &h->node[i];

	*out = (struct health_info){
		.kind = x->nh->check.kind,
		.up = x->up,
		.drain = x->drain,
		.usable = usable(x),
		.since = x->since,
		.last_at = x->last_at,
		.last = x->last,
		.latency = x->latency,
		.probes = x->probes,
		.failures = x->failures,
		.in_a_row = x->in_a_row,
	};
}
