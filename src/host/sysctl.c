/* sysctl: dotted keys map to paths under /proc/sys. Device names may hold
 * dots, so callers pass them with '/' where a device name contains '.'
 * (that is how sysctl(8) spells them too). */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void key_path(const char *key, char *path, size_t len)
{
	size_t n = (size_t)snprintf(path, len, "/proc/sys/");

	for (; *key && n + 1 < len; key++)
		path[n++] = *key == '.' ? '/' : *key == '/' ? '.' : *key;
	path[n] = '\0';
}

int sysctl_get(const char *key, char *buf, size_t len)
{
	char path[256];
	ssize_t r;
	int fd;

	key_path(key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = '\0';
	return 0;
}

int sysctl_set(const char *key, const char *value)
{
	char path[256];
	size_t len = strlen(value);
	ssize_t r;
	int fd;

	key_path(key, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, value, len);
	close(fd);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

int sysctl_save_set(struct sysctl_saved *s, const char *value)
{
	int r = 0;

	if (!s->saved)
		r = sysctl_get(s->key, s->old, sizeof(s->old));
	if (r == 0)
		r = sysctl_set(s->key, value);
	if (r == 0)
		s->saved = true;
	return r;
}

void sysctl_restore(struct sysctl_saved *s)
{
	if (s->saved)
		sysctl_set(s->key, s->old);
	s->saved = false;
}
