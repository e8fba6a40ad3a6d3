/* sysctl: read and write /proc/sys/net values of the current namespace. */
#ifndef MSLB_SYSCTL_H
#define MSLB_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

/* key in dotted form, e.g. "net.ipv4.ip_forward". Return 0 or -errno. */
int sysctl_get(const char *key, char *buf, size_t len);
int sysctl_set(const char *key, const char *value);

/* A sysctl the daemon changes and puts back on exit. */
struct sysctl_saved {
	const char *key;
	bool saved;		/* old holds the value to restore */
	char old[16];
};

/* Remember the current value (the first time only) and set value.
 * Returns 0 or -errno. */
int sysctl_save_set(struct sysctl_saved *s, const char *value);
/* Put the remembered value back, if any. */
void sysctl_restore(struct sysctl_saved *s);

#endif
