/* notify: the systemd readiness protocol, written by hand (sd_notify(3)). */
#ifndef MSLB_NOTIFY_H
#define MSLB_NOTIFY_H

/* Send state (e.g. "READY=1") to $NOTIFY_SOCKET if set. Returns 0 or -1. */
int notify_send(const char *state);

#endif
