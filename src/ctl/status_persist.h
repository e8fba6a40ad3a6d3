/* status_persist: persistence across changes in `mslbd status`. */
#ifndef MSLB_STATUS_PERSIST_H
#define MSLB_STATUS_PERSIST_H

#include "base/writer.h"
#include "lb/lb.h"

/* The front's "persistence" object: the previous generation's window and
 * the packets marked with their previous next hop. */
void status_persist_front(struct writer *w, const struct mslb_lb *lb);
/* The back's: its flows, and those handed to the back that had them. */
void status_persist_back(struct writer *w, const struct mslb_lb *lb);

#endif
