/* ctl: socket set-up and the client side of the control protocol. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int make_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* Create the socket's directory (0750) if it is missing: /run/mslbd when
 * systemd's RuntimeDirectory= did not. */
static void make_dir(const char *path)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return;
}

int ctl_listen(struct ctl_listener *l, const char *path, char *err, size_t errlen)
{
	char lock[120];
	struct sockaddr_un sa;

	l->fd = l->lock_fd = -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (make_addr(&sa, path) < 0) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	make_dir(path);
	/* The lock tells a live daemon from a stale socket file. */
	snprintf(lock, sizeof(lock), "%s.lock", path);
	l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0) {
		snprintf(err, errlen, "open %s: %s", lock, strerror(errno));
		return -1;
	}
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "another mslbd holds %s", lock);
		close(l->lock_fd);
		l->lock_fd = -1;
		return -1;
	}
	unlink(path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(l->fd, 16) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		ctl_close(l);
		return -1;
	}
	return 0;
}

void ctl_close(struct ctl_listener *l)
{
	char lock[120];

	if (l->fd >= 0) {
		close(l->fd);
		unlink(l->path);
	}
	if (l->lock_fd >= 0) {
		snprintf(lock, sizeof(lock), "%s.lock", l->path);
		unlink(lock);
		close(l->lock_fd);
	}
	l->fd = l->lock_fd = -1;
}

bool ctl_peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

int ctl_request(const char *path, const char *request, struct strbuf *reply, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct timespec deadline;
	char buf[4096];
	size_t len = strlen(request);
	int fd, ok;

	if (make_addr(&sa, path) < 0) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot reach mslbd at %s: %s (is the daemon running?)", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, request, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "write to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 30;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec now;
		long left;
		ssize_t r;

		/* A reload may take a moment; a wedged daemon must not hang us. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			snprintf(err, errlen, "no reply from mslbd at %s", path);
			close(fd);
			return -1;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		sb_append(reply, buf, (size_t)r);
	}
	close(fd);
	if (!strncmp(sb_str(reply), "ok\n", 3))
		ok = 1;
	else if (!strncmp(sb_str(reply), "error\n", 6))
		ok = 0;
	else {
		snprintf(err, errlen, "malformed reply from mslbd at %s", path);
		return -1;
	}
	return ok;
}
