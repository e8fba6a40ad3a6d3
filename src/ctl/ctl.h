/* ctl: the control socket. The daemon listens on a UNIX stream socket; a
 * client sends one request line ("status", "status json", "reload") and
 * reads the reply: a first line "ok" or "error", then the body. */
#ifndef MSLB_CTL_H
#define MSLB_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strbuf.h"

struct ctl_listener {
	int fd;
	int lock_fd;
	char path[108];
};

/* The body line of an "error" reply the daemon sends a connection it
 * drops without serving it (peer not allowed, too many clients, out of
 * file descriptors, too slow): "error\nrefused: REASON\n". The client
 * reports it as the daemon being unreachable (exit 1), not as an error of
 * the request (exit 2). */
#define CTL_REFUSED "refused: "

/* Lock PATH.lock, remove a stale socket, bind, mode 0600 (only root and
 * our user may talk to us anyway). Returns 0 or -1. */
int ctl_listen(struct ctl_listener *l, const char *path, char *err, size_t errlen);
void ctl_close(struct ctl_listener *l);
/* Only root or the daemon's own user may talk to it. The peer's pid and
 * uid go to *pid and *uid (-1 if unknown) for the log. */
bool ctl_peer_allowed(int fd, long *pid, long *uid);
/* Client: send request, read the whole reply. Returns 1 for "ok", 0 for
 * "error" (body in reply either way), -1 with err set if the daemon cannot
 * be reached, refused the connection or sent no proper reply. */
int ctl_request(const char *path, const char *request, struct strbuf *reply, char *err, size_t errlen);

#endif
