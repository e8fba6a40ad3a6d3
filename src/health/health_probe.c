/* health_probe: the sockets of health probes. TCP and HTTP use an ordinary
 * TCP socket; ICMP a raw socket (CAP_NET_RAW, which the daemon keeps for
 * AF_PACKET), connected so that the kernel picks the source and passes up
 * only what the target sends. */
#include "health_probe.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "net/csum.h"

static const char *err_word(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "refused";
	case ECONNRESET:
		return "reset";
	case ETIMEDOUT:
		return "timeout";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "unreachable";
	default:
		return NULL;
	}
}

static void fail_errno(struct hc_probe *p, const char *what, int err)
{
	const char *w = err_word(err);

	if (w)
		snprintf(p->detail, sizeof(p->detail), "%s", w);
	else
		snprintf(p->detail, sizeof(p->detail), "%s: %s", what, strerror(err));
}

/* The source the kernel chose (after connect), and the port. */
static int local_of(struct hc_probe *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(p->fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		memcpy(p->src, &s4->sin_addr, 4);
		if (p->proto == IPPROTO_TCP)
			p->id = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		memcpy(p->src, &s6->sin6_addr, 16);
		if (p->proto == IPPROTO_TCP)
			p->id = ntohs(s6->sin6_port);
	}
	return 0;
}

static int echo_send(struct hc_probe *p)
{
	uint8_t msg[16] = { 0 };

	/* type, code, checksum (the kernel fills ICMPv6's; ours for ICMP),
	 * identifier, sequence, and a payload that says who sent it. */
	msg[0] = p->version == 4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	msg[4] = (uint8_t)(p->id >> 8);
	msg[5] = (uint8_t)p->id;
	msg[6] = (uint8_t)(p->seq >> 8);
	msg[7] = (uint8_t)p->seq;
	memcpy(msg + 8, "mslbd-hc", 8);
	if (p->version == 4) {
		uint16_t sum = csum_finish(csum_add(0, msg, sizeof(msg)));

		msg[2] = (uint8_t)(sum >> 8);
		msg[3] = (uint8_t)sum;
	}
	return send(p->fd, msg, sizeof(msg), MSG_DONTWAIT) == (ssize_t)sizeof(msg) ? 0 : -1;
}

int hp_start(struct hc_probe *p, const struct cfg_check *k, const struct mslb_addr *src, uint16_t echo_id,
	     uint16_t seq, uint32_t *events)
{
	int family = k->target.family;
	struct sockaddr_storage ss;
	socklen_t len;
	int r;

	memset(p, 0, sizeof(*p));
	p->k = k;
	p->version = family == AF_INET ? 4 : 6;
	p->seq = seq;
	if (k->kind == HC_ICMP) {
		p->proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		p->id = echo_id;
		p->fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, p->proto);
	} else {
		p->proto = IPPROTO_TCP;
		p->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (p->fd < 0) {
		fail_errno(p, "socket", errno);
		return -1;
	}
	if (k->kind == HC_ICMP) {
		/* Only echo replies: the rest of the host's ICMP is not ours. */
		if (family == AF_INET) {
			struct icmp_filter flt = { .data = ~(1u << ICMP_ECHOREPLY) };

			r = setsockopt(p->fd, SOL_RAW, ICMP_FILTER, &flt, sizeof(flt));
		} else {
			struct icmp6_filter flt;

			ICMP6_FILTER_SETBLOCKALL(&flt);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &flt);
			r = setsockopt(p->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &flt, sizeof(flt));
		}
		if (r < 0) {
			fail_errno(p, "setsockopt", errno);
			goto fail;
		}
	}
	if (src) {
		len = mslb_addr_sockaddr(src, 0, &ss);
		if (bind(p->fd, (struct sockaddr *)&ss, len) < 0) {
			fail_errno(p, "bind", errno);
			goto fail;
		}
	}
	len = mslb_addr_sockaddr(&k->target, k->kind == HC_ICMP ? 0 : k->port, &ss);
	r = connect(p->fd, (struct sockaddr *)&ss, len);
	if (r < 0 && errno != EINPROGRESS) {
		fail_errno(p, "connect", errno);
		goto fail;
	}
	if (local_of(p) < 0) {
		fail_errno(p, "getsockname", errno);
		goto fail;
	}
	if (k->kind == HC_ICMP) {
		if (echo_send(p) < 0) {
			fail_errno(p, "send", errno);
			goto fail;
		}
		*events = EPOLLIN;
	} else {
		*events = EPOLLOUT;
	}
	snprintf(p->detail, sizeof(p->detail), "pending");
	return 0;
fail:
	close(p->fd);
	p->fd = -1;
	return -1;
}

/* The target's host name for the request: the configured one, or the
 * service address ("[...]" for IPv6). */
static void host_of(const struct cfg_check *k, char *out, size_t n)
{
	char a[MSLB_ADDRSTRLEN];

	if (k->http_host[0])
		snprintf(out, n, "%s", k->http_host);
	else if (k->target.family == AF_INET6)
		snprintf(out, n, "[%s]", mslb_addr_str(&k->target, a, sizeof(a)));
	else
		snprintf(out, n, "%s", mslb_addr_str(&k->target, a, sizeof(a)));
}

static enum hp_verdict tcp_connected(struct hc_probe *p, uint32_t *events)
{
	char host[MSLB_HTTP_HOST_MAX + 48];
	int n;

	p->connected = true;
	if (p->k->kind == HC_TCP) {
		snprintf(p->detail, sizeof(p->detail), "ok");
		return HP_OK;
	}
	host_of(p->k, host, sizeof(host));
	n = hc_http_request(p->req, sizeof(p->req), p->k->http_path, host);
	if (n < 0) {
		snprintf(p->detail, sizeof(p->detail), "request too long");
		return HP_FAIL;
	}
	p->req_len = (unsigned)n;
	*events = EPOLLOUT;
	return HP_PENDING;
}

static enum hp_verdict http_read(struct hc_probe *p, uint32_t *events)
{
	for (;;) {
		ssize_t n = recv(p->fd, p->in + p->in_len, sizeof(p->in) - p->in_len, MSG_DONTWAIT);
		int code;

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			*events = EPOLLIN;
			return HP_PENDING;
		}
		if (n < 0) {
			fail_errno(p, "recv", errno);
			return HP_FAIL;
		}
		p->in_len += (unsigned)n;
		code = hc_http_status(p->in, p->in_len, n == 0 || p->in_len == sizeof(p->in));
		if (code > 0) {
			if ((unsigned)code == p->k->http_status) {
				snprintf(p->detail, sizeof(p->detail), "ok");
				return HP_OK;
			}
			snprintf(p->detail, sizeof(p->detail), "http %d", code);
			return HP_FAIL;
		}
		if (code < 0) {
			snprintf(p->detail, sizeof(p->detail), p->in_len ? "bad response" : "closed");
			return HP_FAIL;
		}
	}
}

enum hp_verdict hp_event(struct hc_probe *p, uint32_t revents, uint32_t *events)
{
	if (p->proto != IPPROTO_TCP) {
		uint8_t buf[256];

		for (;;) {
			ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					*events = EPOLLIN;
					return HP_PENDING;
				}
				fail_errno(p, "recv", errno);
				return HP_FAIL;
			}
			if (hc_echo_reply(buf, (size_t)n, p->version == 4, p->id, p->seq)) {
				snprintf(p->detail, sizeof(p->detail), "ok");
				return HP_OK;
			}
		}
	}
	if (!p->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || (!err && !(revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)))) {
			*events = EPOLLOUT;
			return HP_PENDING;
		}
		if (err) {
			fail_errno(p, "connect", err);
			return HP_FAIL;
		}
		enum hp_verdict r = tcp_connected(p, events);

		if (r != HP_PENDING)
			return r;
	}
	while (p->req_off < p->req_len) {
		ssize_t n = send(p->fd, p->req + p->req_off, p->req_len - p->req_off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			*events = EPOLLOUT;
			return HP_PENDING;
		}
		if (n < 0) {
			fail_errno(p, "send", errno);
			return HP_FAIL;
		}
		p->req_off += (unsigned)n;
	}
	return http_read(p, events);
}

void hp_close(struct hc_probe *p)
{
	if (p->fd < 0)
		return;
	if (p->proto == IPPROTO_TCP) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		/* Ignored when it fails: the close then is an orderly one. */
		(void)setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(p->fd);
	p->fd = -1;
}
