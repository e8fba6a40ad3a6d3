/* loop: the one libev loop. Every ev_* call of the program is in loop.c. */
#ifndef MSLB_LOOP_H
#define MSLB_LOOP_H

#include "daemon.h"

/* Run until SIGTERM/SIGINT or a fatal device error. Returns the exit code. */
int loop_run(struct daemon *d);

#endif
