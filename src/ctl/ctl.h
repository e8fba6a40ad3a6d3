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

/* Lock PATH.lock, remove a stale socket, bind, mode 0660. Returns 0 or -1. */
int ctl_listen(struct ctl_listener *l, const char *path, char *err, size_t errlen);
void ctl_close(struct ctl_listener *l);
/* Only root or the daemon's own user may talk to it. */
bool ctl_peer_allowed(int fd);
/* Client: send request, read the whole reply. Returns 1 for "ok", 0 for
 * "error" (body in reply either way), -1 if the daemon cannot be reached. */
int ctl_request(const char *path, const char *request, struct strbuf *reply, char *err, size_t errlen);

#endif
