/* status_redirect: the redirection protocol's part of `mslbd status`. */
#ifndef MSLB_STATUS_REDIRECT_H
#define MSLB_STATUS_REDIRECT_H

#include "base/writer.h"
#include "lb/lb.h"
#include "redirect/rdr.h"

/* The "redirect" object (null without a redirect group); now: the
 * protocol's clock, for the age of the oldest rule. */
void status_redirect(struct writer *w, const struct mslb_lb *lb, const struct rdr *r, double now);

#endif
