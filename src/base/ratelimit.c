/* ratelimit: fixed windows of rl->interval seconds. */
#include "ratelimit.h"

static void roll(struct ratelimit *rl, double now)
{
	/* A clock stepped backwards starts a new window too, rather than
	 * keeping the old one closed until the clock catches up. */
	if (!rl->started || now - rl->start >= rl->interval || now < rl->start) {
		rl->start = now;
		rl->n = 0;
		rl->started = true;
	}
}

bool ratelimit_allow(struct ratelimit *rl, double now, unsigned *suppressed)
{
	roll(rl, now);
	if (rl->n >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->n++;
	if (suppressed)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

unsigned ratelimit_flush(struct ratelimit *rl, double now)
{
	unsigned s = rl->suppressed;

	if (!s || !rl->started || (now - rl->start < rl->interval && now >= rl->start))
		return 0;
	/* The summary is a line of the new window. */
	rl->start = now;
	rl->n = 1;
	rl->suppressed = 0;
	return s;
}
