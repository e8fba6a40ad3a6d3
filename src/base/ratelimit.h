/* ratelimit: at most a burst of log lines per interval, counting the rest,
 * so a peer that misbehaves in a loop cannot flood the log. Pure: the
 * caller passes the time. */
#ifndef MSLB_RATELIMIT_H
#define MSLB_RATELIMIT_H

#include <stdbool.h>

struct ratelimit {
	double interval;	/* seconds */
	unsigned burst;		/* lines let through per interval */
	double start;		/* of the current interval */
	unsigned n;		/* lines let through in it */
	unsigned suppressed;	/* held back since the last line let through */
	bool started;
};

#define RATELIMIT_INIT(interval_s, burst_n) { .interval = (interval_s), .burst = (burst_n) }

/* May a line go out at time now? If so, *suppressed (when not NULL) gets
 * the number held back since the previous one, for the line to mention. */
bool ratelimit_allow(struct ratelimit *rl, double now, unsigned *suppressed);
/* Lines held back in an interval that is over, not yet reported (0 if
 * none): call it now and then so a flood that stopped is still counted. */
unsigned ratelimit_flush(struct ratelimit *rl, double now);

#endif
