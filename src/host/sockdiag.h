/* sockdiag: whether this host's kernel holds the TCP socket of one exact
 * connection, in the daemon's network namespace, asked through
 * NETLINK_SOCK_DIAG (the interface ss(8) uses). */
#ifndef MSLB_SOCKDIAG_H
#define MSLB_SOCKDIAG_H

#include <stdint.h>

struct sockdiag;

/* A NETLINK_SOCK_DIAG socket. NULL on failure (errno set). Needs no capability. */
struct sockdiag *sockdiag_open(void);
void sockdiag_close(struct sockdiag *s);
/* Does a TCP socket of this connection exist here (any state the kernel's exact
 * lookup finds: established, SYN_RECV request sockets, TIME_WAIT, ...)?
 * version 4 or 6; local/lport: the server side (address bytes, port in host
 * order); remote/rport: the client side. 1: yes, 0: no, -1: error (errno).
 * A listener on lport is not the connection: 0. An IPv4 connection accepted
 * by a dual-stack IPv6 listener is found with version 4. */
int sockdiag_tcp_known(struct sockdiag *s, unsigned version, const uint8_t *local, uint16_t lport,
		       const uint8_t *remote, uint16_t rport);
/* Queries made and errors, for status. */
uint64_t sockdiag_queries(const struct sockdiag *s);
uint64_t sockdiag_errors(const struct sockdiag *s);

#endif
