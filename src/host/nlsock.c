/* nlsock: one exchange at a time, matched by sequence number and port. */
#include "nlsock.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>

int nlsock_open(struct nlsock *s, int bus)
{
	int e;

	s->sock = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (s->sock && mnl_socket_bind(s->sock, 0, MNL_SOCKET_AUTOPID) == 0) {
		s->portid = mnl_socket_get_portid(s->sock);
		s->seq = (uint32_t)time(NULL);
		return 0;
	}
	e = errno;
	nlsock_close(s);
	return -e;
}

void nlsock_close(struct nlsock *s)
{
	if (s->sock)
		mnl_socket_close(s->sock);
	s->sock = NULL;
}

int nlsock_transact(struct nlsock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r;

	nlh->nlmsg_seq = ++s->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(s->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		r = (int)mnl_socket_recvfrom(s->sock, buf, sizeof(buf));
		if (r < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, s->portid, cb, data);
	} while (r > 0);
	return r < 0 ? -errno : 0;
}
