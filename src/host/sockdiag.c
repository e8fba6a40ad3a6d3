/* sockdiag: one SOCK_DIAG_BY_FAMILY request at a time, without NLM_F_DUMP,
 * so the kernel does its exact lookup (inet_diag_find_one_icsk); answers
 * are matched by sequence number, a late one to an earlier request skipped. */
#include "sockdiag.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "nlsock.h"

/* The kernel answers inside the send, so only a lost answer (receive
 * buffer overrun) makes a caller wait, this long at most. */
#define SOCKDIAG_TIMEOUT_US 100000
/* Datagrams read for one answer, late ones included: a bound, not a wait. */
#define SOCKDIAG_MAX_READS 8

struct sockdiag {
	struct nlsock s;
	uint64_t queries, errors;
};

/* The connection a request looks for, and whether its answer had it. */
struct match {
	uint8_t local[16], remote[16];	/* IPv4 as ::ffff:a.b.c.d */
	uint16_t lport, rport;		/* network order */
	bool answered, found;
};

static void addr16(uint8_t out[16], unsigned family, const void *addr)
{
	if (family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, addr, 4);
	} else {
		memcpy(out, addr, 16);
	}
}

static void match_msg(struct match *m, const struct inet_diag_msg *d)
{
	uint8_t l[16], r[16];

	m->answered = true;
	/* With no socket of the tuple, the lookup falls back to a listener
	 * on the port and the kernel answers with that one. */
	if (d->idiag_state == TCP_LISTEN)
		return;
	if (d->idiag_family != AF_INET && d->idiag_family != AF_INET6)
		return;
	/* The socket's family, not the request's: an IPv4 connection of a
	 * dual-stack listener is AF_INET6 with v4-mapped addresses. */
	addr16(l, d->idiag_family, d->id.idiag_src);
	addr16(r, d->idiag_family, d->id.idiag_dst);
	if (d->id.idiag_sport == m->lport && d->id.idiag_dport == m->rport && !memcmp(l, m->local, 16) &&
	    !memcmp(r, m->remote, 16))
		m->found = true;
}

/* Send nlh and read its answer up to the NLMSG_ERROR (acknowledgement or
 * error) or NLMSG_DONE that ends it; m (if any) sees each socket in it.
 * Returns 0 or -errno, the kernel's or the exchange's. */
static int exchange(struct sockdiag *sd, struct nlmsghdr *nlh, struct match *m)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = ++sd->s.seq;

	/* Acknowledged, so each answer ends with a message of its own and
	 * leaves nothing queued for the next request. */
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(sd->s.sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (int i = 0; i < SOCKDIAG_MAX_READS; i++) {
		ssize_t n = mnl_socket_recvfrom(sd->s.sock, buf, sizeof(buf));
		const struct nlmsghdr *h;
		int len;

		if (n < 0) {
			/* The socket came, its acknowledgement did not: the
			 * answer stands. */
			if (m && m->answered)
				return 0;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		len = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			size_t plen = mnl_nlmsg_get_payload_len(h);
			const void *p = mnl_nlmsg_get_payload(h);

			if (h->nlmsg_seq != seq || h->nlmsg_pid != sd->s.portid)
				continue;
			switch (h->nlmsg_type) {
			case NLMSG_ERROR: {
				const struct nlmsgerr *e = p;

				return plen < sizeof(*e) || e->error > 0 ? -EPROTO : e->error;
			}
			case NLMSG_DONE: {
				const int *e = p;

				return plen >= sizeof(*e) && *e < 0 ? *e : 0;
			}
			case SOCK_DIAG_BY_FAMILY:
				if (m && plen >= sizeof(struct inet_diag_msg))
					match_msg(m, p);
				break;
			default:
				break;
			}
		}
	}
	return m && m->answered ? 0 : -ETIMEDOUT;
}

/* A kernel without its TCP handler (tcp_diag neither built in nor
 * loadable) answers every exact lookup ENOENT, which would read as "no
 * such socket": a dump of no state at all says whether it is there. */
static int probe_tcp(struct sockdiag *sd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	int r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_DUMP;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = AF_INET;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 0;
	r = exchange(sd, nlh, NULL);
	return r == -ENOENT ? -EPROTONOSUPPORT : r;
}

struct sockdiag *sockdiag_open(void)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = SOCKDIAG_TIMEOUT_US };
	struct sockdiag *sd = calloc(1, sizeof(*sd));
	int r;

	if (!sd)
		return NULL;
	r = nlsock_open(&sd->s, NETLINK_SOCK_DIAG);
	if (r < 0) {
		free(sd);
		errno = -r;
		return NULL;
	}
	r = setsockopt(mnl_socket_get_fd(sd->s.sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
	if (r == 0)
		r = probe_tcp(sd);
	if (r < 0) {
		sockdiag_close(sd);
		errno = -r;
		return NULL;
	}
	return sd;
}

void sockdiag_close(struct sockdiag *s)
{
	if (s) {
		nlsock_close(&s->s);
		free(s);
	}
}

int sockdiag_tcp_known(struct sockdiag *s, unsigned version, const uint8_t *local, uint16_t lport,
		       const uint8_t *remote, uint16_t rport)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned family = version == 4 ? AF_INET : AF_INET6;
	struct match m = { .lport = htons(lport), .rport = htons(rport) };
	struct inet_diag_req_v2 *req;
	int r;

	s->queries++;
	if (version != 4 && version != 6) {
		r = -EINVAL;
		goto fail;
	}
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0u;
	/* The tuple as the server's socket sees it: src is the local end.
	 * idiag_if 0: a socket bound to a device (a VRF) is not found. */
	req->id.idiag_sport = m.lport;
	req->id.idiag_dport = m.rport;
	memcpy(req->id.idiag_src, local, family == AF_INET ? 4 : 16);
	memcpy(req->id.idiag_dst, remote, family == AF_INET ? 4 : 16);
	/* No cookie: whichever socket holds the tuple. */
	req->id.idiag_cookie[0] = req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	addr16(m.local, family, local);
	addr16(m.remote, family, remote);
	r = exchange(s, nlh, &m);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		return m.found;
fail:
	s->errors++;
	errno = -r;
	return -1;
}

uint64_t sockdiag_queries(const struct sockdiag *s)
{
	return s->queries;
}

uint64_t sockdiag_errors(const struct sockdiag *s)
{
	return s->errors;
}
