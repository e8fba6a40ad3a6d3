/* sysctl: read and write /proc/sys/net values of the current namespace. */
#ifndef MSLB_SYSCTL_H
#define MSLB_SYSCTL_H

#include <stddef.h>

/* key in dotted form, e.g. "net.ipv4.ip_forward". Return 0 or -errno. */
int sysctl_get(const char *key, char *buf, size_t len);
int sysctl_set(const char *key, const char *value);

#endif
