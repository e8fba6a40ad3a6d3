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
	mode_t old_mask;
	int rc, saved;

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
	/* Only root and our user are served (ctl_peer_allowed): nobody else
	 * needs to connect, so 0600 from the bind on, not after a chmod. */
	old_mask = umask(0177);
	rc = l->fd < 0 ? -1 : bind(l->fd, (struct sockaddr *)&sa, sizeof(sa));
	saved = errno;
	umask(old_mask);
	errno = saved;
	if (rc < 0 || chmod(path, 0600) < 0 || listen(l->fd, 16) < 0) {
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

bool ctl_peer_allowed(int fd, long *pid, long *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*pid = *uid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*pid = (long)cred.pid;
	*uid = (long)cred.uid;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* Send all of buf. A daemon that refused us may have closed already:
 * that is EPIPE, never SIGPIPE, and its reason waits in our receive
 * queue, so the caller reads on. Returns 0, or -1 with errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

int ctl_request(const char *path, const char *request, struct strbuf *reply, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct timespec deadline;
	char buf[4096];
	int fd, send_errno = 0, read_errno = 0;
	const char *body;

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
	if (send_all(fd, request, strlen(request)) < 0 || send_all(fd, "\n", 1) < 0) {
		send_errno = errno;
		if (send_errno != EPIPE && send_errno != ECONNRESET) {
			snprintf(err, errlen, "write to %s: %s", path, strerror(send_errno));
			close(fd);
			return -1;
		}
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
		/* A daemon that closes with our request unread resets the
		 * connection once its reply is read: the end, like EOF. */
		if (r < 0)
			read_errno = errno;
		if (r <= 0)
			break;
		sb_append(reply, buf, (size_t)r);
	}
	close(fd);
	if (!strncmp(sb_str(reply), "ok\n", 3))
		return 1;
	if (strncmp(sb_str(reply), "error\n", 6)) {
		if (reply->len == 0)
			snprintf(err, errlen, "mslbd at %s closed the connection without a reply%s%s", path,
				 send_errno || read_errno ? ": " : "",
				 send_errno || read_errno ? strerror(read_errno ? read_errno : send_errno) : "");
		else
			snprintf(err, errlen, "malformed reply from mslbd at %s", path);
		return -1;
	}
	body = sb_str(reply) + 6;
	if (!strncmp(body, CTL_REFUSED, strlen(CTL_REFUSED))) {
		int n = (int)strcspn(body, "\n");

		snprintf(err, errlen, "mslbd at %s refused the connection: %.*s", path,
			 n - (int)strlen(CTL_REFUSED), body + strlen(CTL_REFUSED));
		return -1;
	}
	return 0;
}
