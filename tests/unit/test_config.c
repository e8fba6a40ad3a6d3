/* config: the shipped example loads with the expected values; each bad
 * configuration gives NULL and exactly one "FILE:LINE: ..." error. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "unit.h"
#include "config/config.h"

/* etc/mslb.conf, found through $top_srcdir (exported by make check). */
static char *example_path(void)
{
	const char *top = getenv("top_srcdir");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/etc/mslb.conf", top && *top ? top : ".");
	return path;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static bool addr_is(const struct mslb_addr *a, const char *s)
{
	struct mslb_addr b;

	return mslb_addr_parse(s, &b) == 0 && mslb_addr_eq(a, &b);
}

static bool prefix_is(const struct mslb_prefix *p, const char *s)
{
	struct mslb_prefix q;

	return mslb_prefix_parse(s, &q) == 0 && p->len == q.len && mslb_addr_eq(&p->addr, &q.addr);
}

static void check_example(const struct mslb_config *c)
{
	CU_ASSERT_EQUAL(c->log_level, LOG_INFO);
	CU_ASSERT_EQUAL(c->log_dest, LOG_DEST_SYSLOG);
	CU_ASSERT_STRING_EQUAL(c->control_socket, "/run/mslbd/mslbd.sock");
	CU_ASSERT_STRING_EQUAL(c->tun_name, "mslb0");
	CU_ASSERT_EQUAL(c->tun_mtu, 1500);
	CU_ASSERT_EQUAL(c->route_table, 4770);
	CU_ASSERT_EQUAL(c->rule_priority, 4770);

	CU_ASSERT_TRUE_FATAL(c->has_front);
	CU_ASSERT_EQUAL_FATAL(c->front.n_services, 2);
	CU_ASSERT_TRUE(addr_is(&c->front.services[0], "203.0.113.10"));
	CU_ASSERT_TRUE(addr_is(&c->front.services[1], "2001:db8:5::10"));
	CU_ASSERT_EQUAL_FATAL(c->front.n_next_hops, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct cfg_next_hop *nh = &c->front.next_hops[i];
		char name[8], a4[32], a6[32];

		snprintf(name, sizeof(name), "b%u", i + 1);
		snprintf(a4, sizeof(a4), "198.51.100.%u", 11 + i);
		snprintf(a6, sizeof(a6), "2001:db8:b::%u", 11 + i);
		CU_ASSERT_STRING_EQUAL(nh->name, name);
		CU_ASSERT_TRUE(nh->has4 && addr_is(&nh->a4, a4));
		CU_ASSERT_TRUE(nh->has6 && addr_is(&nh->a6, a6));
	}
	CU_ASSERT_EQUAL_FATAL(c->front.n_table, 4);
	CU_ASSERT_TRUE(prefix_is(&c->front.table[0].source, "192.0.2.0/25"));
	CU_ASSERT_TRUE(prefix_is(&c->front.table[1].source, "192.0.2.128/25"));
	CU_ASSERT_TRUE(prefix_is(&c->front.table[2].source, "2001:db8:c1::/48"));
	CU_ASSERT_TRUE(prefix_is(&c->front.table[3].source, "2001:db8:c2::/48"));
	CU_ASSERT_EQUAL(c->front.table[0].next_hop, 0);
	CU_ASSERT_EQUAL(c->front.table[1].next_hop, 1);
	CU_ASSERT_EQUAL(c->front.table[2].next_hop, 0);
	CU_ASSERT_EQUAL(c->front.table[3].next_hop, 1);
	CU_ASSERT_EQUAL(c->front.unmatched, UNMATCHED_HASH);
	CU_ASSERT_STRING_EQUAL(config_unmatched_name(c), "hash");

	CU_ASSERT_TRUE_FATAL(c->has_back);
	CU_ASSERT_EQUAL_FATAL(c->back.n_addresses, 2);
	CU_ASSERT_TRUE(addr_is(&c->back.addresses[0].address, "198.51.100.11"));
	CU_ASSERT_TRUE(addr_is(&c->back.addresses[0].service, "203.0.113.10"));
	/* No deliver_via in the live example: it must start on any VM. */
	CU_ASSERT_FALSE(c->back.addresses[0].has_via);
	CU_ASSERT_TRUE(c->tun_offload);
	CU_ASSERT_TRUE(c->tun_io_uring);
	CU_ASSERT_TRUE(addr_is(&c->back.addresses[1].address, "2001:db8:b::11"));
	CU_ASSERT_TRUE(addr_is(&c->back.addresses[1].service, "2001:db8:5::10"));
	CU_ASSERT_FALSE(c->back.addresses[1].has_via);
}

static void test_example_string(void)
{
	static struct config_errors errs;
	char *text = read_all(example_path());
	struct mslb_config *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	c = config_load_string(text, "mslb.conf", &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(errs.n, 0);
	check_example(c);
	config_free(c);
	free(text);
}

/* etc/examples/: one file per node of the draft's Figures 3, 4, 5 and 12;
 * each must load, with the role the figure gives it. */
static void test_figure_examples(void)
{
	static const struct {
		const char *name;
		bool front, back, endpoint;
	} ex[] = {
		{ "figure3-basic.conf", true, false, false },
		{ "figure3-basic-back.conf", false, true, false },
		{ "figure4-multistage-front1.conf", true, false, false },
		{ "figure4-multistage-front2.conf", true, false, false },
		{ "figure5-one-arm.conf", true, false, false },
		{ "figure12-return-tunnel-back.conf", false, true, false },
		{ "figure12-return-endpoint.conf", false, false, true },
	};
	const char *top = getenv("top_srcdir");

	for (unsigned i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		struct config_errors errs;
		struct mslb_config *c;
		char path[4096];

		snprintf(path, sizeof(path), "%s/etc/examples/%s", top && *top ? top : ".", ex[i].name);
		c = config_load_file(path, &errs);
		if (!c) {
			for (unsigned k = 0; k < errs.n; k++)
				fprintf(stderr, "  %s\n", errs.line[k]);
			CU_FAIL(ex[i].name);
			continue;
		}
		CU_ASSERT_EQUAL(c->has_front, ex[i].front);
		CU_ASSERT_EQUAL(c->has_back, ex[i].back);
		CU_ASSERT_EQUAL(c->has_return_endpoint, ex[i].endpoint);
		config_free(c);
	}
}

static void test_example_file(void)
{
	static struct config_errors errs;
	struct mslb_config *c = config_load_file(example_path(), &errs);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->file, example_path());
	check_example(c);
	config_free(c);

	CU_ASSERT_PTR_NULL(config_load_file("/nonexistent/mslb.conf", &errs));
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT_STRING_EQUAL(errs.line[0],
		"/nonexistent/mslb.conf:0: cannot read the file (allowed: a readable libconfig file)");
}

static void test_defaults_and_unmatched(void)
{
	static struct config_errors errs;
	struct mslb_config *c = config_load_string(
		"front = {\n"
		"  services = [ \"2001:db8:5::10\" ];\n"
		"  next_hops = ( { name = \"x-1.y_2\"; ipv6 = \"2001:db8:b::1\"; } );\n"
		"  unmatched = \"x-1.y_2\";\n"
		"};\n", "t.conf", &errs);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->has_back);
	CU_ASSERT_STRING_EQUAL(c->tun_name, MSLB_DEFAULT_TUN);
	CU_ASSERT_STRING_EQUAL(c->control_socket, MSLB_DEFAULT_SOCKET);
	CU_ASSERT_EQUAL(c->route_table, MSLB_DEFAULT_TABLE);
	CU_ASSERT_EQUAL(c->rule_priority, MSLB_DEFAULT_PRIORITY);
	CU_ASSERT_EQUAL(c->front.n_table, 0);
	CU_ASSERT_EQUAL(c->front.unmatched, UNMATCHED_NEXT_HOP);
	CU_ASSERT_EQUAL(c->front.unmatched_next_hop, 0);
	CU_ASSERT_STRING_EQUAL(config_unmatched_name(c), "x-1.y_2");
	CU_ASSERT_FALSE(c->front.next_hops[0].has4);
	CU_ASSERT_TRUE(c->front.next_hops[0].has6);
	config_free(c);
}

/* A valid back, so that a case is about one thing only. */
#define BACK "back = { addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\"; } ); };\n"
#define NH1 "    { name = \"b1\"; ipv4 = \"198.51.100.11\"; }\n"
#define SERVICES "  services = [ \"203.0.113.10\" ];\n"
#define ENTRY(src, nh) "    { source = \"" src "\"; next_hop = \"" nh "\"; }\n"
#define ENTRY_(src, nh) "    { source = \"" src "\"; next_hop = \"" nh "\"; },\n"
/* front = { services; next_hops = ( NH ); table = ( T ); unmatched }: the
 * next hops start on line 4, the table entries on line 7 (one each). */
#define FRONT(svc, nh, t, um) \
	"front = {\n" svc "  next_hops = (\n" nh "  );\n  table = (\n" t "  );\n" \
	"  unmatched = \"" um "\";\n};\n"

struct bad_case {
	const char *text;
	const char *line;	/* the one error line expected */
};

static const struct bad_case bad[] = {
	{ "tun = {\n  mtu = ;\n};\n",
	  "t.conf:2: syntax error (allowed: libconfig syntax, see mslb.conf(5))" },
	{ BACK "bogus = 1;\n",
	  "t.conf:2: bogus: unknown setting (allowed: log, control_socket, user, tun, io, routing, front, back, redirect, return_endpoint, icmp)" },
	{ BACK "user = \"mslb-no-such-account\";\n",
	  "t.conf:2: user: no account \"mslb-no-such-account\" on this host (allowed: the name of an existing account, e.g. \"mslbd\")" },
	{ BACK "\nuser = \"root\";\n",
	  "t.conf:3: user: \"root\" is root (allowed: an unprivileged account; leave user out to run as started)" },
	{ BACK "user = \"-x\";\n",
	  "t.conf:2: user: \"-x\" is not an account name (allowed: the name of an existing account, e.g. \"mslbd\")" },
	{ BACK "user = 65534;\n",
	  "t.conf:2: user: must be a string (allowed: the name of an existing account, e.g. \"mslbd\")" },
	{ BACK "log = { level = \"loud\"; };\n",
	  "t.conf:2: log.level: \"loud\" is not a level (allowed: \"error\", \"warning\", \"info\", \"debug\")" },
	{ BACK "tun = {\n  mtu = 1279;\n};\n",
	  "t.conf:3: tun.mtu: 1279 is out of range (allowed: 1280-65535)" },
	{ BACK "tun = {\n  mtu = 70000;\n};\n",
	  "t.conf:3: tun.mtu: 70000 is out of range (allowed: 1280-65535)" },
	{ BACK "tun = {\n  io_uring = \"yes\";\n};\n",
	  "t.conf:3: tun.io_uring: must be true or false (allowed: true, false)" },
	{ BACK "tun = {\n  offload = 1;\n};\n",
	  "t.conf:3: tun.offload: must be true or false (allowed: true, false)" },
	{ BACK "tun = {\n  uring = true;\n};\n",
	  "t.conf:3: tun.uring: unknown setting (allowed: name, mtu, offload, io_uring)" },
	{ BACK "tun = { name = \"abcdefghijklmnop\"; };\n",
	  "t.conf:2: tun.name: \"abcdefghijklmnop\" is not a device name (allowed: 1-15 characters of A-Z a-z 0-9 _ . -)" },
	{ BACK "routing = {\n  table = 254;\n};\n",
	  "t.conf:3: routing.table: 254 or 255 collides with the kernel's tables 253-255 (allowed: 1-4294967294 except 252-255)" },
	{ BACK "routing = {\n  announce_table = 4771;\n};\n",
	  "t.conf:3: routing.announce_table: 4771 is one of the daemon's own tables 4770 and 4771 (allowed: another table)" },
	{ BACK "routing = {\n  announce_table = 254;\n};\n",
	  "t.conf:3: routing.announce_table: 254 is a kernel table (allowed: 1-4294967294 except 253-255, routing.table and routing.table + 1)" },
	{ BACK "routing = {\n  announce_table = 4772;\n};\n",
	  "t.conf:3: routing.announce_table: announces a front's services (allowed: with a front = { ... }; group)" },
	{ FRONT("  services = [ ];\n", NH1, ENTRY("192.0.2.0/24", "b1"), "drop"),
	  "t.conf:2: front.services: must be a non-empty list (allowed: a list of IPv4 and/or IPv6 addresses, e.g. [ \"203.0.113.10\" ])" },
	{ "front = {\n  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; } );\n};\n",
	  "t.conf:1: front.services: missing (allowed: a list of IPv4 and/or IPv6 addresses, e.g. [ \"203.0.113.10\" ])" },
	{ FRONT("  services = [ \"203.0.113.300\" ];\n", NH1, ENTRY("192.0.2.0/24", "b1"), "drop"),
	  "t.conf:2: front.services: \"203.0.113.300\" is not an IP address (allowed: an IPv4 or IPv6 address)" },
	{ FRONT(SERVICES, "    { name = \"b1\"; ipv4 = \"198.51.100.11\"; },\n    { name = \"b1\"; ipv4 = \"198.51.100.12\"; }\n",
		ENTRY("192.0.2.0/24", "b1"), "drop"),
	  "t.conf:5: front.next_hops[1].name: \"b1\" is used by another next hop (allowed: a unique name)" },
	{ FRONT(SERVICES, "    { name = \"b1\"; ipv4 = \"198.51.100.11\"; },\n    { name = \"b2\"; }\n",
		ENTRY("192.0.2.0/24", "b1"), "drop"),
	  "t.conf:5: front.next_hops[1]: next hop \"b2\" has no address (allowed: ipv4 and/or ipv6)" },
	{ FRONT(SERVICES, NH1, ENTRY("192.0.2.0/24", "zz"), "drop"),
	  "t.conf:7: front.table[0].next_hop: \"zz\" is not a next hop (allowed: \"b1\")" },
	{ FRONT(SERVICES, NH1, ENTRY("192.0.2.1/24", "b1"), "drop"),
	  "t.conf:7: front.table[0].source: \"192.0.2.1/24\" has host bits set (allowed: \"192.0.2.0/24\")" },
	{ FRONT(SERVICES, NH1, ENTRY_("192.0.2.0/24", "b1") ENTRY("192.0.2.0/24", "b1"), "drop"),
	  "t.conf:8: front.table[1].source: \"192.0.2.0/24\" is listed twice (allowed: each prefix once)" },
	{ FRONT(SERVICES, NH1, ENTRY("2001:db8::/32", "b1"), "drop"),
	  "t.conf:7: front.table[0].next_hop: \"b1\" has no ipv6 address for IPv6 source \"2001:db8::/32\" (allowed: a next hop with an ipv6 address)" },
	{ FRONT(SERVICES, NH1, ENTRY("192.0.2.0/24", "b1"), "sometimes"),
	  "t.conf:9: front.unmatched: \"sometimes\" is neither a policy nor a next hop (allowed: \"drop\", \"hash\", \"b1\")" },
	{ "back = {\n  addresses = (\n    { address = \"198.51.100.21\"; service = \"2001:db8:5::10\"; }\n  );\n};\n",
	  "t.conf:3: back.addresses[0].service: \"2001:db8:5::10\" is not of the family of address \"198.51.100.21\" (allowed: an IPv4 address)" },
	{ FRONT(SERVICES, "    { name = \"hash\"; ipv4 = \"198.51.100.11\"; }\n", "", "drop"),
	  "t.conf:4: front.next_hops[0].name: \"hash\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -, not \"drop\" or \"hash\")" },
	{ FRONT("  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n", NH1, "", "drop"),
	  "t.conf:2: front.services: \"2001:db8:5::10\" is IPv6 but no next hop has an ipv6 address (allowed: services of the families the next hops have)" },
	{ FRONT(SERVICES, "    { name = \"b1\"; ipv4 = \"198.51.100.11\"; wait = 1; }\n", "", "drop"),
	  "t.conf:4: front.next_hops[0].wait: unknown setting (allowed: name, ipv4, ipv6, server_id, weight, mode, outer, path_mtu, state, check, encapsulation)" },
	{ BACK "tun = { offload = false; };\nio = { af_packet = [ \"eth0\" ]; };\n",
	  "t.conf:3: io.af_packet: needs tun.offload = true (allowed: io.af_packet with tun.offload on, or tun.offload = false without io.af_packet)" },
	{ "tun = { mtu = 1500; };\n",
	  "t.conf:1: no role configured (allowed: a front = { ... }; group, a back = { ... }; group, a return_endpoint = { ... }; group, or several)" },
};

static void test_bad_configs(void)
{
	static struct config_errors errs;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mslb_config *c = config_load_string(bad[i].text, "t.conf", &errs);
		bool ok = c == NULL && errs.n == 1 && !strcmp(errs.line[0], bad[i].line);

		if (!ok) {
			printf("\n  case %u: %s\n  expected: %s\n", i, c ? "loaded" : "NULL", bad[i].line);
			for (unsigned k = 0; k < errs.n; k++)
				printf("  got:      %s\n", errs.line[k]);
		}
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		CU_ASSERT_STRING_EQUAL(errs.line[0], bad[i].line);
		config_free(c);
	}
}

static bool has_line(const struct config_errors *errs, const char *prefix)
{
	for (unsigned i = 0; i < errs->n; i++)
		if (!strncmp(errs->line[i], prefix, strlen(prefix)))
			return true;
	return false;
}

/* Parsing goes on after an error: every problem is reported at once. */
static void test_all_errors_reported(void)
{
	static struct config_errors errs;
	struct mslb_config *c = config_load_string(
		BACK "tun = {\n  mtu = 1;\n  name = \"\";\n};\nlog = { level = \"x\"; };\n", "t.conf", &errs);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.n, 3);
	CU_ASSERT_TRUE(has_line(&errs, "t.conf:3: tun.mtu: 1 is out of range"));
	CU_ASSERT_TRUE(has_line(&errs, "t.conf:4: tun.name: \"\" is not a device name"));
	CU_ASSERT_TRUE(has_line(&errs, "t.conf:6: log.level: \"x\" is not a level"));
	config_free(c);
}

/* user: resolved when the file is read; absent, the daemon stays as started. */
static void test_user(void)
{
	static struct config_errors errs;
	const struct passwd *pw = getpwnam("nobody");
	struct mslb_config *c = config_load_string(BACK, "t.conf", &errs);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->user, "");
	CU_ASSERT_EQUAL(c->line_user, 0);
	config_free(c);
	if (!pw)
		return;		/* no such account here: nothing to resolve */
	c = config_load_string(BACK "\nuser = \"nobody\";\n", "t.conf", &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->user, "nobody");
	CU_ASSERT_EQUAL(c->user_uid, pw->pw_uid);
	CU_ASSERT_EQUAL(c->user_gid, pw->pw_gid);
	CU_ASSERT_EQUAL(c->line_user, 3);
	config_free(c);
}

void suite_config(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	UNIT_ADD(s, test_example_string);
	UNIT_ADD(s, test_example_file);
	UNIT_ADD(s, test_figure_examples);
	UNIT_ADD(s, test_defaults_and_unmatched);
	UNIT_ADD(s, test_bad_configs);
	UNIT_ADD(s, test_all_errors_reported);
	UNIT_ADD(s, test_user);
}
