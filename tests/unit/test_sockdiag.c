/* sockdiag: the kernel's exact TCP lookup over real connections on
 * loopback, in this process, from the server's side: found in the states
 * the kernel keeps (established, SYN_RECV, FIN_WAIT2, TIME_WAIT), not for
 * another tuple (even with a listener on the port, which the kernel's
 * lookup falls back to) nor after a reset; IPv6, and IPv4 on a dual-stack
 * IPv6 listener; and all of it from a child without any capability. */
#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "unit.h"
#include "host/sockdiag.h"

/* One connection: listener, client and the accepted end (-1 when not
 * there), the tuple from the server's side. */
struct conn {
	int l, c, a;
	unsigned version;
	uint8_t local[16], remote[16];
	uint16_t lport, rport;
};

static socklen_t sa_fill(struct sockaddr_storage *ss, int family, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &s6->sin6_addr);
	return sizeof(*s6);
}

static uint16_t sa_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listener on addr, any port; v6only for AF_INET6, TCP_DEFER_ACCEPT
 * seconds if defer. -1 when the host has no such address (no IPv6). */
static int listen_on(int family, const char *addr, int v6only, int defer)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_fill(&ss, family, addr, 0);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if ((family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) ||
	    (defer && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A connection to listener l from a client of family cfamily at caddr,
 * accepted if asked (a failure fails the test). */
static void conn_open(struct conn *k, int l, int cfamily, const char *caddr, bool accepted)
{
	struct sockaddr_storage ss;
	socklen_t len;

	CU_ASSERT_FATAL(l >= 0);
	memset(k, 0, sizeof(*k));
	k->l = l;
	k->a = -1;
	k->version = cfamily == AF_INET ? 4 : 6;
	k->lport = sa_port(l);
	tl_addr(caddr, k->local);
	tl_addr(caddr, k->remote);
	len = sa_fill(&ss, cfamily, caddr, k->lport);
	k->c = socket(cfamily, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(k->c >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(k->c, (struct sockaddr *)&ss, len), 0);
	k->rport = sa_port(k->c);
	CU_ASSERT_FATAL(k->lport != 0 && k->rport != 0);
	if (accepted) {
		k->a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		CU_ASSERT_FATAL(k->a >= 0);
	}
}

/* Close with a reset (SO_LINGER 0), so no TIME_WAIT is left behind. */
static void close_reset(int *fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(*fd);
	*fd = -1;
}

static void conn_close(struct conn *k)
{
	close_reset(&k->c);
	close_reset(&k->a);
	if (k->l >= 0)
		close(k->l);
	k->l = -1;
}

static int known(struct sockdiag *sd, const struct conn *k, uint16_t rport)
{
	return sockdiag_tcp_known(sd, k->version, k->local, k->lport, k->remote, rport);
}

/* A port of no connection of ours: rport's neighbour. */
static uint16_t other_port(uint16_t p)
{
	return p == 65535 ? p - 1 : p + 1;
}

/* known() until it gives want, for at most a second: what the kernel
 * does on loopback at once, a busy host may do a little later. */
static int known_soon(struct sockdiag *sd, const struct conn *k, int want)
{
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };
	int r = -1;

	for (int i = 0; i < 1000; i++) {
		r = known(sd, k, k->rport);
		if (r == want)
			break;
		nanosleep(&ms, NULL);
	}
	return r;
}

static bool have_ipv6(void)
{
	int fd = listen_on(AF_INET6, "::1", 1, 0);

	if (fd < 0) {
		printf("\n  no IPv6 on lo (%s): IPv6 cases not run", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static void test_sockdiag_v4(void)
{
	struct sockdiag *sd = sockdiag_open();
	struct conn k;
	uint8_t other[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	conn_open(&k, listen_on(AF_INET, "127.0.0.1", 0, 0), AF_INET, "127.0.0.1", true);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	/* Another client port: the kernel answers with the listener. */
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	/* Another local port, another address: no socket at all. */
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 4, k.local, other_port(k.lport), k.remote, k.rport), 0);
	tl_addr("127.0.0.2", other);
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 4, k.local, k.lport, other, k.rport), 0);
	/* Both ends swapped: the client's own socket, a connection too. */
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 4, k.remote, k.rport, k.local, k.lport), 1);
	CU_ASSERT_EQUAL(sockdiag_queries(sd), 5);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 0);

	/* No such version: an error, counted. */
	errno = 0;
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 5, k.local, k.lport, k.remote, k.rport), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(sockdiag_queries(sd), 6);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 1);
	/* and the socket still answers, in step */
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	conn_close(&k);
	sockdiag_close(sd);
	sockdiag_close(NULL);
}

/* A reset ends the server's socket: not found, with the listener still
 * there (the kernel's fallback) and without it. */
static void test_sockdiag_reset(void)
{
	struct sockdiag *sd = sockdiag_open();
	struct conn k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	conn_open(&k, listen_on(AF_INET, "127.0.0.1", 0, 0), AF_INET, "127.0.0.1", true);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	close_reset(&k.c);
	CU_ASSERT_EQUAL(known_soon(sd, &k, 0), 0);
	close(k.l);
	k.l = -1;
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 0);
	/* The accepted socket, reset but still open, is not the connection. */
	CU_ASSERT(k.a >= 0);
	conn_close(&k);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 0);
	sockdiag_close(sd);
}

/* The server closes first: FIN_WAIT2, then TIME_WAIT, both found, also
 * once the listener has gone. */
static void test_sockdiag_time_wait(void)
{
	struct sockdiag *sd = sockdiag_open();
	struct conn k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	conn_open(&k, listen_on(AF_INET, "127.0.0.1", 0, 0), AF_INET, "127.0.0.1", true);
	close(k.a);
	k.a = -1;
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	close(k.c);
	k.c = -1;
	close(k.l);
	k.l = -1;
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 0);
	sockdiag_close(sd);
}

/* With TCP_DEFER_ACCEPT the server keeps a request socket (SYN_RECV)
 * until data comes: found; then the full socket, found too. */
static void test_sockdiag_syn_recv(void)
{
	struct sockdiag *sd = sockdiag_open();
	struct conn k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	conn_open(&k, listen_on(AF_INET, "127.0.0.1", 0, 30), AF_INET, "127.0.0.1", false);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	CU_ASSERT_EQUAL(send(k.c, "x", 1, 0), 1);
	k.a = accept4(k.l, NULL, NULL, SOCK_CLOEXEC);
	CU_ASSERT(k.a >= 0);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	conn_close(&k);
	CU_ASSERT_EQUAL(known_soon(sd, &k, 0), 0);
	sockdiag_close(sd);
}

static void test_sockdiag_v6(void)
{
	struct sockdiag *sd;
	struct conn k;

	if (!have_ipv6())
		return;
	sd = sockdiag_open();
	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	conn_open(&k, listen_on(AF_INET6, "::1", 1, 0), AF_INET6, "::1", true);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	close_reset(&k.c);
	CU_ASSERT_EQUAL(known_soon(sd, &k, 0), 0);
	conn_close(&k);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 0);
	sockdiag_close(sd);
}

/* An IPv4 client of a dual-stack [::] listener: the accepted socket is
 * AF_INET6 (::ffff:127.0.0.1), and an IPv4 query finds it, as does one
 * with the v4-mapped addresses. */
static void test_sockdiag_dual_stack(void)
{
	struct sockdiag *sd;
	struct conn k;
	uint8_t mlocal[16], mremote[16];
	int l;

	if (!have_ipv6())
		return;
	sd = sockdiag_open();
	CU_ASSERT_PTR_NOT_NULL_FATAL(sd);
	l = listen_on(AF_INET6, "::", 0, 0);
	CU_ASSERT_FATAL(l >= 0);
	conn_open(&k, l, AF_INET, "127.0.0.1", true);
	CU_ASSERT_EQUAL(known(sd, &k, k.rport), 1);
	CU_ASSERT_EQUAL(known(sd, &k, other_port(k.rport)), 0);
	tl_addr("::ffff:127.0.0.1", mlocal);
	tl_addr("::ffff:127.0.0.1", mremote);
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 6, mlocal, k.lport, mremote, k.rport), 1);
	CU_ASSERT_EQUAL(sockdiag_tcp_known(sd, 6, mlocal, k.lport, mremote, other_port(k.rport)), 0);
	close_reset(&k.c);
	CU_ASSERT_EQUAL(known_soon(sd, &k, 0), 0);
	conn_close(&k);
	CU_ASSERT_EQUAL(sockdiag_errors(sd), 0);
	sockdiag_close(sd);
}

/* Whether /proc/self/status shows no capability in any set but the
 * bounding one (which grants nothing by itself). */
static bool no_capability(void)
{
	static const char *const sets[] = { "CapInh:", "CapPrm:", "CapEff:", "CapAmb:" };
	char line[256];
	unsigned zero = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		for (unsigned i = 0; i < ARRAY_SIZE(sets); i++) {
			size_t n = strlen(sets[i]);
			unsigned long long v;

			if (!strncmp(line, sets[i], n) && sscanf(line + n, "%llx", &v) == 1 && v == 0)
				zero++;
		}
	fclose(f);
	return zero == ARRAY_SIZE(sets);
}

/* The child of test_sockdiag_no_capability: 0 when it found k's
 * connection and not another, without any capability. */
static int uncapable_child(const struct conn *k)
{
	struct sockdiag *sd;
	int yes, no;

	/* As root, become nobody (which drops every capability); otherwise,
	 * or where nobody is not mapped, drop them as we are. */
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
			       setresuid(65534, 65534, 65534) < 0))
		fprintf(stderr, "sockdiag child: cannot become nobody (%s), keeps uid %u\n", strerror(errno),
			(unsigned)geteuid());
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0 || !no_capability()) {
		fprintf(stderr, "sockdiag child: capabilities not dropped\n");
		return 2;
	}
	sd = sockdiag_open();
	if (!sd) {
		fprintf(stderr, "sockdiag child: sockdiag_open: %s\n", strerror(errno));
		return 3;
	}
	yes = known(sd, k, k->rport);
	no = known(sd, k, other_port(k->rport));
	sockdiag_close(sd);
	if (yes != 1 || no != 0) {
		fprintf(stderr, "sockdiag child: found %d and %d, expected 1 and 0 (%s)\n", yes, no, strerror(errno));
		return 4;
	}
	return 0;
}

/* A child without capabilities (and as nobody, if we are root) finds
 * this process's connection: the socket needs no CAP_NET_ADMIN. */
static void test_sockdiag_no_capability(void)
{
	struct conn k;
	pid_t pid;
	int st;

	conn_open(&k, listen_on(AF_INET, "127.0.0.1", 0, 0), AF_INET, "127.0.0.1", true);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(uncapable_child(&k));
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
	conn_close(&k);
}

void suite_sockdiag(void)
{
	CU_pSuite s = CU_add_suite("sockdiag", NULL, NULL);

	UNIT_ADD(s, test_sockdiag_v4);
	UNIT_ADD(s, test_sockdiag_reset);
	UNIT_ADD(s, test_sockdiag_time_wait);
	UNIT_ADD(s, test_sockdiag_syn_recv);
	UNIT_ADD(s, test_sockdiag_v6);
	UNIT_ADD(s, test_sockdiag_dual_stack);
	UNIT_ADD(s, test_sockdiag_no_capability);
}
