/* cli: commands and options. Exit codes: 0 success, 1 runtime failure
 * (daemon unreachable, host set-up failed at start), 2 usage error, invalid
 * configuration, or a refused reload. */
#include "cli.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "loop.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "ctl/ctl_proto.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mslbd [-c FILE] [-f]                 run the daemon\n"
		"       mslbd check [-c FILE]                validate a configuration file\n"
		"       mslbd status [--json] [-s SOCKET | -c FILE]\n"
		"                                            show the running daemon's state\n"
		"       mslbd reload [-s SOCKET | -c FILE]   make the daemon re-read its file\n"
		"       mslbd redirect add PEER tcp|udp CLIENT CPORT SERVICE SPORT [-s SOCKET | -c FILE]\n"
		"                                            this back owns the flow: PEER sends it here\n"
		"       mslbd redirect del tcp|udp CLIENT CPORT SERVICE SPORT [-s SOCKET | -c FILE]\n"
		"                                            it no longer does: the rule goes\n"
		"       mslbd drain NAME [-s SOCKET | -c FILE]\n"
		"                                            next hop NAME takes no new flows\n"
		"       mslbd undrain NAME [-s SOCKET | -c FILE]\n"
		"                                            it takes them again (when healthy)\n"
		"       mslbd -h | --help | -V | --version\n"
		"\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -s, --socket PATH   control socket (default: control_socket from FILE)\n"
		"  -j, --json          status as JSON\n"
		"See mslbd(8) and mslb.conf(5).\n",
		MSLB_DEFAULT_CONFIG);
}

static int bad_usage(const char *what, const char *arg)
{
	if (what)
		fprintf(stderr, "mslbd: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	return EXIT_USAGE;
}

/* Parse the options a command allows; allowed is a getopt string. */
struct opts {
	const char *config, *socket;
	bool foreground, json;
};

static int parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:c:fs:jhV", longopts, NULL)) != -1) {
		if (ch == '?' || ch == ':' || !strchr(allowed, ch)) {
			if (ch == ':')
				return bad_usage("option needs an argument", argv[optind - 1]);
			return bad_usage("unknown option", argv[optind - 1]);
		}
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'f': o->foreground = true; break;
		case 's': o->socket = optarg; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("mslbd %s\n", PACKAGE_VERSION); exit(0);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument", argv[optind]);
	return 0;
}

static int cmd_check(const struct opts *o)
{
	struct config_errors errs;
	struct mslb_config *cfg = config_load_file(o->config, &errs);

	if (!cfg) {
		for (unsigned i = 0; i < errs.n; i++)
			printf("%s\n", errs.line[i]);
		return EXIT_USAGE;
	}
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}

static int cmd_client(const struct opts *o, const char *request)
{
	char sock[108], err[256];
	struct strbuf reply;
	int r;

	if (o->socket)
		snprintf(sock, sizeof(sock), "%s", o->socket);
	else
		config_peek_socket(o->config, sock, sizeof(sock));
	sb_init(&reply);
	r = ctl_request(sock, request, &reply, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "mslbd: %s\n", err);
		sb_free(&reply);
		return 1;
	}
	/* Skip the "ok"/"error" line; the body goes to stdout or stderr. */
	fputs(strchr(sb_str(&reply), '\n') + 1, r ? stdout : stderr);
	sb_free(&reply);
	return r ? 0 : EXIT_USAGE;
}

/* redirect add|del WORDS... [options]: the words make the request line,
 * checked here with the daemon's own parser so that a typo gets usage
 * without a round trip. */
static int cmd_redirect(int argc, char **argv, struct opts *o)
{
	char line[CTL_REQUEST_MAX];
	struct ctl_req req;
	size_t n = 0;
	int k = 0, r;

	/* argv[0] is "redirect"; the words run up to the first option. */
	line[0] = '\0';
	for (k = 0; k < argc && argv[k][0] != '-'; k++) {
		int w = snprintf(line + n, sizeof(line) - n, "%s%s", k ? " " : "", argv[k]);

		if (w < 0 || (size_t)w >= sizeof(line) - n - 1)
			return bad_usage("redirect: request too long", NULL);
		n += (size_t)w;
	}
	r = parse_opts(argc - k + 1, argv + k - 1, "cshV", o);
	if (r)
		return r;
	line[n] = '\n';
	if (ctl_parse_request(line, n + 1, true, &req) != CTL_PARSE_OK ||
	    (req.kind != CTL_REQ_REDIRECT_ADD && req.kind != CTL_REQ_REDIRECT_DEL))
		return bad_usage(req.why[0] ? req.why : "redirect: add or del", NULL);
	line[n] = '\0';
	return cmd_client(o, line);
}

/* drain|undrain NAME [options]: checked with the daemon's parser too. */
static int cmd_drain(int argc, char **argv, struct opts *o)
{
	char line[CTL_REQUEST_MAX];
	struct ctl_req req;
	int n, r;

	/* argv[0] is the command; its name must come before any option. */
	if (argc < 2 || argv[1][0] == '-')
		return bad_usage("drain and undrain take a next hop's NAME", NULL);
	r = parse_opts(argc - 1, argv + 1, "cshV", o);
	if (r)
		return r;
	n = snprintf(line, sizeof(line), "%s %s\n", argv[0], argv[1]);
	if (n < 0 || (size_t)n >= sizeof(line) || ctl_parse_request(line, (size_t)n, true, &req) != CTL_PARSE_OK ||
	    (req.kind != CTL_REQ_DRAIN && req.kind != CTL_REQ_UNDRAIN))
		return bad_usage(n > 0 && (size_t)n < sizeof(line) && req.why[0] ? req.why : "drain: NAME", NULL);
	line[n - 1] = '\0';
	return cmd_client(o, line);
}

/* Fork; the parent waits until the child reports that start-up finished,
 * so `mslbd` exits non-zero when the daemon could not start. */
static int detach(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c = '1';

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		/* The child writes its start-up exit code: 0, 1 or 2. */
		close(p[1]);
		if (read(p[0], &c, 1) != 1 || c < '0' || c > '2')
			c = '1';
		_exit(c - '0');
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void detached_ready(int fd, int code)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char c = (char)('0' + code);

	if (write(fd, &c, 1) != 1)
		return;
	close(fd);
	if (code)
		return;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
}

static int cmd_run(const struct opts *o)
{
	struct daemon *d;
	int ready_fd = -1, rc;

	sigset_t stop;

	log_setup(LOG_INFO, !o->foreground, 1);
	if (!o->foreground && detach(&ready_fd) < 0) {
		perror("mslbd: fork");
		return 1;
	}
	/* Until the loop watches them, a stop or reload signal stays pending
	 * instead of killing us half-way through configuring the host. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	d = daemon_create(o->config, o->foreground);
	rc = d ? daemon_start(d) : -1;
	if (rc < 0) {
		rc = rc == -2 ? EXIT_USAGE : 1;
		if (ready_fd >= 0)
			detached_ready(ready_fd, rc);
		daemon_destroy(d);
		return rc;
	}
	if (ready_fd >= 0) {
		detached_ready(ready_fd, 0);
		daemon_log_detached(d);
	}
	rc = loop_run(d);
	daemon_destroy(d);
	log_info("stopped");
	return rc;
}

int cli_main(int argc, char **argv)
{
	struct opts o = { .config = MSLB_DEFAULT_CONFIG };
	const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	int r;

	if (!cmd) {
		r = parse_opts(argc, argv, "cfhV", &o);
		return r ? r : cmd_run(&o);
	}
	argc--;
	argv++;
	if (!strcmp(cmd, "check")) {
		r = parse_opts(argc, argv, "chV", &o);
		return r ? r : cmd_check(&o);
	}
	if (!strcmp(cmd, "status")) {
		r = parse_opts(argc, argv, "csjhV", &o);
		return r ? r : cmd_client(&o, o.json ? "status json" : "status");
	}
	if (!strcmp(cmd, "reload")) {
		r = parse_opts(argc, argv, "cshV", &o);
		return r ? r : cmd_client(&o, "reload");
	}
	if (!strcmp(cmd, "redirect"))
		return cmd_redirect(argc, argv, &o);
	if (!strcmp(cmd, "drain") || !strcmp(cmd, "undrain"))
		return cmd_drain(argc, argv, &o);
	if (!strcmp(cmd, "help"))
		return usage(stdout), 0;
	return bad_usage("unknown command", cmd);
}
