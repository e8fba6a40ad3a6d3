/* health: the state of each next hop of the front: health checks (up or
 * down after rise or fall verdicts in a row) and the operator's drain. A
 * next hop is usable, and gets new flows, when it is up and not drained.
 * State survives a reload by name, as keepalived's compare and migrate
 * do: a drain unless the file changed that next hop's state, health
 * results unless its check changed.
 *
 * Time is the caller's (seconds); sockets are behind one epoll descriptor
 * that the caller watches, and the caller runs the timers at health_next.
 * Nothing here blocks. */
#ifndef MSLB_HEALTH_H
#define MSLB_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct health;

struct health_ops {
	void *ctx;
	/* A probe of next hop i left with this source address and TCP port
	 * or echo identifier: the data path steers it to next hop i. */
	void (*steer)(void *ctx, unsigned i, unsigned version, uint8_t proto, const uint8_t *src, uint16_t id);
	/* Next hop i became usable, or stopped being usable. */
	void (*usable)(void *ctx, unsigned i, bool usable);
};

struct health_info {
	enum hc_kind kind;
	bool up, drain, usable;
	double since;		/* when usable last changed, or the start */
	double last_at;		/* when the last verdict came, 0: none yet */
	const char *last;	/* that verdict: "ok", "refused", "timeout", "http 503", ... */
	double latency;		/* seconds the last verdict took */
	uint64_t probes, failures;
	unsigned in_a_row;	/* verdicts like the last one, in a row */
};

/* For cfg's next hops; ops is copied; probe sockets are watched through
 * epfd, an epoll descriptor the caller owns and watches for reading. NULL
 * when out of memory. Every next hop starts up (a check takes fall
 * failures to bring it down), drained when the file says so. */
struct health *health_create(const struct mslb_config *cfg, const struct health_ops *ops, int epfd, double now);
/* A reload: take over old's state, next hop by name (see above). Calls
 * no ops: the caller applies health_usable to the new data path. */
void health_migrate(struct health *h, const struct health *old);
/* Closes every probe; calls no ops. */
void health_destroy(struct health *h);

/* epfd is readable: the probes' events. */
void health_io(struct health *h, double now);
/* When health_run is due next (0: never), and the run: start the probes
 * that are due, end those past their timeout. */
double health_next(const struct health *h);
void health_run(struct health *h, double now);

/* mslbd drain / undrain: -1 for an unknown name; 0 when changed or
 * already so. */
int health_set_drain(struct health *h, const char *name, bool drain, double now);
bool health_usable(const struct health *h, unsigned i);
void health_get(const struct health *h, unsigned i, struct health_info *out);

#endif
