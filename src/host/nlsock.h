/* nlsock: a netlink socket and the request/acknowledge exchange that
 * rtnetlink (nl.c) and generic netlink (pm.c) both use, through libmnl. */
#ifndef MSLB_NLSOCK_H
#define MSLB_NLSOCK_H

#include <libmnl/libmnl.h>
#include <stdint.h>

struct nlsock {
	struct mnl_socket *sock;
	unsigned portid;
	uint32_t seq;
};

/* bus: NETLINK_ROUTE, NETLINK_GENERIC. Returns 0 or -errno. */
int nlsock_open(struct nlsock *s, int bus);
void nlsock_close(struct nlsock *s);
/* Send nlh as a request and read replies (each to cb, which may be NULL)
 * until the kernel's acknowledgement. Returns 0 or -errno. */
int nlsock_transact(struct nlsock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
