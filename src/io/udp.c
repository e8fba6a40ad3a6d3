/* udp: the redirection protocol's socket. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int udp_open(const struct mslb_addr *a, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = mslb_addr_sockaddr(a, port, &ss);
	int fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	char as[MSLB_ADDRSTRLEN];

	if (fd < 0) {
		snprintf(err, errlen, "redirect: socket: %s", strerror(errno));
		return -1;
	}
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "redirect: cannot bind %s port %u: %s (redirect.address must be an address of this host)",
			 mslb_addr_str(a, as, sizeof(as)), port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int udp_recv(int fd, udp_rx_fn fn, void *ctx)
{
	static uint8_t buf[UDP_BATCH][UDP_DGRAM_MAX];
	struct sockaddr_storage from[UDP_BATCH];
	struct mmsghdr m[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int n;

	for (unsigned i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
						.msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	n = recvmmsg(fd, m, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct mslb_addr a;

		memset(&a, 0, sizeof(a));
		if (from[i].ss_family == AF_INET)
			mslb_addr_from_bytes(&a, AF_INET, (const uint8_t *)&((struct sockaddr_in *)&from[i])->sin_addr);
		else if (from[i].ss_family == AF_INET6)
			mslb_addr_from_bytes(&a, AF_INET6,
					     (const uint8_t *)&((struct sockaddr_in6 *)&from[i])->sin6_addr);
		else
			continue;
		/* A cut datagram (MSG_TRUNC) is longer than any message:
		 * handed on at its full length so that it counts as malformed. */
		fn(ctx, &a, buf[i], m[i].msg_hdr.msg_flags & MSG_TRUNC ? UDP_DGRAM_MAX : m[i].msg_len);
	}
	return n;
}

int udp_send(int fd, const struct mslb_addr *to, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = mslb_addr_sockaddr(to, port, &ss);

	return sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl) < 0 ? -1 : 0;
}
