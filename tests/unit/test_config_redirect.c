/* config_redirect: the redirect = { ... } group and its key file. A valid
 * group loads with its values and defaults; each bad one gives NULL and
 * exactly the one expected "FILE:LINE: ..." line; the key file parser takes
 * any bytes and says what is wrong without quoting a key. The key files live
 * in a mkdtemp directory made by the suite's init and removed by its
 * cleanup; "@K@" in a case's text and line stands for that directory. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "testlib.h"
#include "config/config.h"

#define K1 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define K2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define KEYS_ALLOWED "(allowed: \"ID HEX\" lines, ID 0-255, HEX 64 hex digits)"
#define KF_ALLOWED "(allowed: mode 0600 or 0400, owned by the user the daemon runs as)"

static char dir[64];	/* the suite's key directory */

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	char path[128];
	FILE *f;

	path_in(path, sizeof(path), name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return chmod(path, mode);
}

static const char *const files[] = { "keys", "keys0644", "keys0640", "keys0400", "bad", "link", "empty", "keysnobody" };

static int suite_init(void)
{
	static const char good[] = "# signing key first\n7 " K1 "\n\n  3\t" K2 "  \n";
	char target[128], link[128];

	snprintf(dir, sizeof(dir), "/tmp/mslb-rcfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	path_in(target, sizeof(target), "keys");
	path_in(link, sizeof(link), "link");
	if (write_file("keys", good, sizeof(good) - 1, 0600) < 0 ||
	    write_file("keys0644", good, sizeof(good) - 1, 0644) < 0 ||
	    write_file("keys0640", good, sizeof(good) - 1, 0640) < 0 ||
	    write_file("keys0400", good, sizeof(good) - 1, 0400) < 0 ||
	    write_file("bad", "1 " K1 "\n1 " K2 "\n", 2 * 67, 0600) < 0 ||
	    write_file("empty", "", 0, 0600) < 0 || symlink(target, link) < 0)
		return -1;
	if (mkdir(strcat(target, ".d"), 0700) < 0)
		return -1;
	return 0;
}

static int suite_cleanup(void)
{
	char path[128];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		path_in(path, sizeof(path), files[i]);
		unlink(path);
	}
	path_in(path, sizeof(path), "keys.d");
	rmdir(path);
	return rmdir(dir);
}

/* s with every "@K@" replaced by the key directory (static, one at a time). */
static const char *subst(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 1 < len; s++) {
		if (!strncmp(s, "@K@", 3)) {
			n += (size_t)snprintf(out + n, len - n, "%s", dir);
			s += 2;
		} else {
			out[n++] = *s;
		}
	}
	out[n < len ? n : len - 1] = '\0';
	return out;
}

static struct mslb_config *load(const char *text, struct config_errors *errs)
{
	static char buf[16384];

	return config_load_string(subst(text, buf, sizeof(buf)), "t.conf", errs);
}

static bool addr_is(const struct mslb_addr *a, const char *s)
{
	struct mslb_addr b;

	return mslb_addr_parse(s, &b) == 0 && mslb_addr_eq(a, &b);
}

static void key_is(const struct cfg_redirect_key *k, unsigned id, const char *hex)
{
	uint8_t want[MSLB_REDIRECT_KEY_LEN];

	for (unsigned i = 0; i < MSLB_REDIRECT_KEY_LEN; i++) {
		unsigned v;

		CU_ASSERT_EQUAL_FATAL(sscanf(hex + 2 * i, "%2x", &v), 1);
		want[i] = (uint8_t)v;
	}
	CU_ASSERT_EQUAL(k->id, id);
	CU_ASSERT_EQUAL(memcmp(k->key, want, sizeof(want)), 0);
}

/* A back of both families on lines 1-4; the redirect group from line 5. */
#define BACK2 \
	"back = { addresses = (\n" \
	"  { address = \"198.51.100.11\"; service = \"203.0.113.10\"; },\n" \
	"  { address = \"2001:db8:b::11\"; service = \"2001:db8:5::10\"; }\n" \
	"); };\n"
/* An IPv4 back on lines 1-3. */
#define BACK4 \
	"back = { addresses = (\n" \
	"  { address = \"198.51.100.11\"; service = \"203.0.113.10\"; }\n" \
	"); };\n"
/* A front (lines 1-4) before BACK2 (lines 5-8): the redirect group on 9. */
#define FRONT \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; } );\n" \
	"};\n"
#define PEER2 "    { name = \"b2\"; address = \"198.51.100.62\"; tunnel = [ \"198.51.100.12\", \"2001:db8:b::12\" ]; }"
#define PEER3 "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; }"
/* redirect = { address; key_file; EXTRA; peers = ( P ); }: address on the
 * group's line + 1, key_file + 2, EXTRA (one line) + 3, the peers' list
 * + 4, its first peer + 5. */
#define RED(addr, kf, extra, peers) \
	"redirect = {\n" \
	"  address = \"" addr "\";\n" \
	"  key_file = \"" kf "\";\n" \
	"  " extra "\n" \
	"  peers = (\n" peers "\n  );\n" \
	"};\n"
#define RED_OK(extra) RED("198.51.100.61", "@K@/keys", extra, PEER2 ",\n" PEER3)

static void test_redirect_valid(void)
{
	struct config_errors errs;
	struct mslb_config *c = load(BACK2 RED_OK(""), &errs);
	const struct cfg_redirect_peer *p;

	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(c->has_redirect);
	CU_ASSERT_EQUAL(c->redirect.line, 5);
	CU_ASSERT_TRUE(addr_is(&c->redirect.address, "198.51.100.61"));
	CU_ASSERT_STRING_EQUAL(c->redirect.key_file, subst("@K@/keys", (char[128]){ 0 }, 128));
	/* The defaults. */
	CU_ASSERT_EQUAL(c->redirect.port, MSLB_REDIRECT_PORT);
	CU_ASSERT_EQUAL(c->redirect.port, 4771);
	CU_ASSERT_EQUAL(c->redirect.rule_ttl, 60);
	CU_ASSERT_EQUAL(c->redirect.max_rules, 65536);
	CU_ASSERT_EQUAL(c->redirect.max_rules_per_peer, 65536);
	CU_ASSERT_EQUAL(c->redirect.rate, 2000);
	CU_ASSERT_EQUAL(c->redirect.burst, 4000);
	CU_ASSERT_EQUAL(c->redirect.global_rate, 20000);
	/* The keys in file order: the first one signs. */
	CU_ASSERT_EQUAL_FATAL(c->redirect.n_keys, 2);
	key_is(&c->redirect.keys[0], 7, K1);
	key_is(&c->redirect.keys[1], 3, K2);
	/* The peers, a tunnel address of each family for b2. */
	CU_ASSERT_EQUAL_FATAL(c->redirect.n_peers, 2);
	p = &c->redirect.peers[0];
	CU_ASSERT_STRING_EQUAL(p->name, "b2");
	CU_ASSERT_TRUE(addr_is(&p->address, "198.51.100.62"));
	CU_ASSERT_TRUE(p->has_tunnel[0] && addr_is(&p->tunnel[0], "198.51.100.12"));
	CU_ASSERT_TRUE(p->has_tunnel[1] && addr_is(&p->tunnel[1], "2001:db8:b::12"));
	p = &c->redirect.peers[1];
	CU_ASSERT_STRING_EQUAL(p->name, "b3");
	CU_ASSERT_TRUE(addr_is(&p->address, "198.51.100.63"));
	CU_ASSERT_TRUE(p->has_tunnel[0] && addr_is(&p->tunnel[0], "198.51.100.13"));
	CU_ASSERT_FALSE(p->has_tunnel[1]);
	config_free(c);

	/* Without the group: nothing of it. */
	c = load(BACK2, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->has_redirect);
	CU_ASSERT_EQUAL(c->redirect.n_peers, 0);
	CU_ASSERT_PTR_NULL(c->redirect.peers);
	config_free(c);
}

/* Every setting given; the burst's default is capped; an IPv6 group with
 * an IPv6-only tunnel in a list of one, and a key file of mode 0400. */
static void test_redirect_settings(void)
{
	struct config_errors errs;
	struct mslb_config *c = load(FRONT BACK2
		"redirect = {\n  address = \"2001:db8:a::61\"; port = 5000; key_file = \"@K@/keys0400\";\n"
		"  rule_ttl = 5; max_rules = 100; max_rules_per_peer = 10; rate = 1000000; global_rate = 10000000;\n"
		"  peers = ( { name = \"x-1.y_2\"; address = \"2001:db8:a::62\"; tunnel = ( \"2001:db8:b::12\" ); } );\n"
		"};\n", &errs);

	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->redirect.line, 9);
	CU_ASSERT_TRUE(addr_is(&c->redirect.address, "2001:db8:a::61"));
	CU_ASSERT_EQUAL(c->redirect.port, 5000);
	CU_ASSERT_EQUAL(c->redirect.rule_ttl, 5);
	CU_ASSERT_EQUAL(c->redirect.max_rules, 100);
	CU_ASSERT_EQUAL(c->redirect.max_rules_per_peer, 10);
	CU_ASSERT_EQUAL(c->redirect.rate, 1000000);
	CU_ASSERT_EQUAL(c->redirect.burst, 1000000);
	CU_ASSERT_EQUAL(c->redirect.global_rate, 10000000);
	CU_ASSERT_EQUAL(c->redirect.n_keys, 2);
	CU_ASSERT_EQUAL_FATAL(c->redirect.n_peers, 1);
	CU_ASSERT_STRING_EQUAL(c->redirect.peers[0].name, "x-1.y_2");
	CU_ASSERT_FALSE(c->redirect.peers[0].has_tunnel[0]);
	CU_ASSERT_TRUE(c->redirect.peers[0].has_tunnel[1] && addr_is(&c->redirect.peers[0].tunnel[1], "2001:db8:b::12"));
	config_free(c);

	c = load(BACK2 RED_OK("rate = 10; burst = 7; max_rules = 5;"), &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->redirect.rate, 10);
	CU_ASSERT_EQUAL(c->redirect.burst, 7);
	CU_ASSERT_EQUAL(c->redirect.max_rules_per_peer, 5);	/* max_rules' */
	config_free(c);
	c = load(BACK2 RED_OK("rate = 300;"), &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->redirect.burst, 600);
	config_free(c);
}

struct bad_case {
	const char *text;
	const char *line;	/* the one error line expected */
};

#define TUNNEL_ALLOWED "an address string, or a list of 1-2 with at most one IPv4 and one IPv6 address, " \
	"e.g. [ \"198.51.100.12\", \"2001:db8:b::12\" ]"
#define PEER_ALLOWED "{ name = \"b2\"; address = \"198.51.100.62\"; tunnel = \"198.51.100.12\"; }"

static const struct bad_case bad[] = {
	/* The group itself. */
	{ BACK2 RED_OK("bogus = 1;"),
	  "t.conf:8: redirect.bogus: unknown setting (allowed: address, port, key_file, peers, rule_ttl, max_rules, max_rules_per_peer, rate, burst, global_rate)" },
	{ BACK2 "redirect = 1;\n",
	  "t.conf:5: redirect: must be a group (allowed: redirect = { ... };)" },
	{ BACK2 "\nbogus = 1;\n",
	  "t.conf:6: bogus: unknown setting (allowed: log, control_socket, user, tun, io, routing, front, back, redirect, return_endpoint, icmp)" },
	{ "front = {\n  services = [ \"203.0.113.10\" ];\n  next_hops = ( { name = \"b1\"; ipv4 = \"198.51.100.11\"; } );\n};\n"
	  RED_OK(""),
	  "t.conf:5: redirect: needs a back group (allowed: redirect on a back)" },
	/* address */
	{ BACK2 "redirect = {\n  key_file = \"@K@/keys\";\n  peers = (\n" PEER3 "\n  );\n};\n",
	  "t.conf:5: redirect.address: missing (allowed: a local IPv4 or IPv6 address of this host, e.g. \"198.51.100.61\")" },
	{ BACK2 RED("198.51.100.300", "@K@/keys", "", PEER3),
	  "t.conf:6: redirect.address: \"198.51.100.300\" is not an IP address (allowed: an IPv4 or IPv6 address)" },
	{ BACK2 RED("198.51.100.11", "@K@/keys", "", PEER3),
	  "t.conf:6: redirect.address: \"198.51.100.11\" is a back address (allowed: a local address that is not in back.addresses)" },
	{ FRONT BACK2 RED("203.0.113.10", "@K@/keys", "", PEER3),
	  "t.conf:10: redirect.address: \"203.0.113.10\" is a front service (allowed: a local address that is not in front.services)" },
	/* port and the limits */
	{ BACK2 RED_OK("port = 0;"), "t.conf:8: redirect.port: 0 is out of range (allowed: 1-65535)" },
	{ BACK2 RED_OK("port = 65536;"), "t.conf:8: redirect.port: 65536 is out of range (allowed: 1-65535)" },
	{ BACK2 RED_OK("port = \"4771\";"), "t.conf:8: redirect.port: must be an integer (allowed: 1-65535)" },
	{ BACK2 RED_OK("rule_ttl = 4;"), "t.conf:8: redirect.rule_ttl: 4 is out of range (allowed: 5-3600)" },
	{ BACK2 RED_OK("rule_ttl = 3601;"), "t.conf:8: redirect.rule_ttl: 3601 is out of range (allowed: 5-3600)" },
	{ BACK2 RED_OK("max_rules = 0;"), "t.conf:8: redirect.max_rules: 0 is out of range (allowed: 1-1048576)" },
	{ BACK2 RED_OK("max_rules = 1048577;"), "t.conf:8: redirect.max_rules: 1048577 is out of range (allowed: 1-1048576)" },
	{ BACK2 RED_OK("max_rules_per_peer = 0;"),
	  "t.conf:8: redirect.max_rules_per_peer: 0 is out of range (allowed: 1-1048576)" },
	{ BACK2 RED_OK("max_rules_per_peer = 65537;"),
	  "t.conf:8: redirect.max_rules_per_peer: 65537 is more than redirect.max_rules (allowed: 1-65536)" },
	{ BACK2 RED_OK("max_rules = 10; max_rules_per_peer = 11;"),
	  "t.conf:8: redirect.max_rules_per_peer: 11 is more than redirect.max_rules (allowed: 1-10)" },
	{ BACK2 RED_OK("rate = 0;"), "t.conf:8: redirect.rate: 0 is out of range (allowed: 1-1000000)" },
	{ BACK2 RED_OK("rate = 1000001;"), "t.conf:8: redirect.rate: 1000001 is out of range (allowed: 1-1000000)" },
	{ BACK2 RED_OK("burst = 0;"), "t.conf:8: redirect.burst: 0 is out of range (allowed: 1-1000000)" },
	{ BACK2 RED_OK("burst = 1000001;"), "t.conf:8: redirect.burst: 1000001 is out of range (allowed: 1-1000000)" },
	{ BACK2 RED_OK("global_rate = 0;"), "t.conf:8: redirect.global_rate: 0 is out of range (allowed: 1-10000000)" },
	{ BACK2 RED_OK("global_rate = 10000001;"),
	  "t.conf:8: redirect.global_rate: 10000001 is out of range (allowed: 1-10000000)" },
	/* key_file */
	{ BACK2 "redirect = {\n  address = \"198.51.100.61\";\n  peers = (\n" PEER3 "\n  );\n};\n",
	  "t.conf:5: redirect.key_file: missing (allowed: an absolute path shorter than 256 bytes, e.g. \"/etc/mslb/redirect.key\")" },
	{ BACK2 RED("198.51.100.61", "keys", "", PEER3),
	  "t.conf:7: redirect.key_file: \"keys\" is not an absolute path (allowed: an absolute path shorter than 256 bytes, e.g. \"/etc/mslb/redirect.key\")" },
	{ BACK2 RED("198.51.100.61", "/k"
		"123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
		"123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
		"12345678901234567890123456789012345678901234567890123456789012345678901234", "", PEER3),
	  "t.conf:7: redirect.key_file: a path of 256 bytes (allowed: an absolute path shorter than 256 bytes, e.g. \"/etc/mslb/redirect.key\")" },
	{ BACK2 RED("198.51.100.61", "@K@/none", "", PEER3),
	  "t.conf:7: redirect.key_file: cannot read @K@/none: No such file or directory (allowed: a readable regular file, mode 0600 or 0400, owned by the user the daemon runs as)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys0644", "", PEER3),
	  "t.conf:7: redirect.key_file: @K@/keys0644 has mode 0644: others can read it " KF_ALLOWED },
	{ BACK2 RED("198.51.100.61", "@K@/keys0640", "", PEER3),
	  "t.conf:7: redirect.key_file: @K@/keys0640 has mode 0640: its group can read it " KF_ALLOWED },
	{ BACK2 RED("198.51.100.61", "@K@/link", "", PEER3),
	  "t.conf:7: redirect.key_file: @K@/link is a symbolic link (allowed: a regular file, mode 0600 or 0400, owned by the user the daemon runs as)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys.d", "", PEER3),
	  "t.conf:7: redirect.key_file: @K@/keys.d is not a regular file (allowed: a regular file, mode 0600 or 0400, owned by the user the daemon runs as)" },
	/* The key file's own problems, with its name and line. */
	{ BACK2 RED("198.51.100.61", "@K@/bad", "", PEER3),
	  "@K@/bad:2: ID 1 is listed twice, first on line 1 (allowed: each ID once)" },
	{ BACK2 RED("198.51.100.61", "@K@/empty", "", PEER3),
	  "@K@/empty:1: no key (allowed: 1-8 \"ID HEX\" lines, ID 0-255, HEX 64 hex digits; blank lines and # comments)" },
	/* peers */
	{ BACK2 "redirect = {\n  address = \"198.51.100.61\";\n  key_file = \"@K@/keys\";\n};\n",
	  "t.conf:5: redirect.peers: missing (allowed: a list of 1-64 " PEER_ALLOWED ")" },
	{ BACK2 "redirect = {\n  address = \"198.51.100.61\";\n  key_file = \"@K@/keys\";\n  peers = [ \"b2\" ];\n};\n",
	  "t.conf:8: redirect.peers: must be a list ( ... ) of 1-64 peers (allowed: a list of " PEER_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", ""),
	  "t.conf:9: redirect.peers: must be a list ( ... ) of 1-64 peers (allowed: a list of " PEER_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    \"b2\", " PEER3),
	  "t.conf:10: redirect.peers[0]: must be a group (allowed: " PEER_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; wait = 1; }"),
	  "t.conf:10: redirect.peers[0].wait: unknown setting (allowed: name, address, tunnel)" },
	/* a peer's name */
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].name: missing (allowed: 1-31 characters of A-Z a-z 0-9 _ . -)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b 3\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].name: \"b 3\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b23456789012345678901234567890123\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].name: \"b23456789012345678901234567890123\" is not a name (allowed: 1-31 characters of A-Z a-z 0-9 _ . -)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    PEER3 ",\n    { name = \"b3\"; address = \"198.51.100.64\"; tunnel = \"198.51.100.14\"; }"),
	  "t.conf:11: redirect.peers[1].name: \"b3\" is used by another peer (allowed: a unique name)" },
	/* a peer's address */
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].address: missing (allowed: the peer's redirect.address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].address: \"198.51.100\" is not an IP address (allowed: an IPv4 or IPv6 address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"2001:db8:a::63\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].address: \"2001:db8:a::63\" is not IPv4 like redirect.address (allowed: an IPv4 address, the peer's redirect.address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.61\"; tunnel = \"198.51.100.13\"; }"),
	  "t.conf:10: redirect.peers[0].address: \"198.51.100.61\" is our own redirect.address (allowed: the peer's redirect.address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    PEER3 ",\n    { name = \"b4\"; address = \"198.51.100.63\"; tunnel = \"198.51.100.14\"; }"),
	  "t.conf:11: redirect.peers[1].address: \"198.51.100.63\" is the address of peer \"b3\" too (allowed: a unique address)" },
	/* a peer's tunnel */
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; address = \"198.51.100.63\"; }"),
	  "t.conf:10: redirect.peers[0].tunnel: missing (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = { ipv4 = \"198.51.100.13\"; }; }"),
	  "t.conf:10: redirect.peers[0].tunnel: must be an address string or a list of 1-2 addresses (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = [ ]; }"),
	  "t.conf:10: redirect.peers[0].tunnel: must be an address string or a list of 1-2 addresses (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.63\";\n"
		    "      tunnel = [ \"198.51.100.13\", \"2001:db8:b::13\", \"2001:db8:b::14\" ]; }"),
	  "t.conf:11: redirect.peers[0].tunnel: must be an address string or a list of 1-2 addresses (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = 13; }"),
	  "t.conf:10: redirect.peers[0].tunnel: must be an address string or a list of 1-2 addresses (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = [ 13 ]; }"),
	  "t.conf:10: redirect.peers[0].tunnel[0]: must be a string (allowed: " TUNNEL_ALLOWED ")" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "", "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = \"b3\"; }"),
	  "t.conf:10: redirect.peers[0].tunnel: \"b3\" is not an IP address (allowed: an IPv4 or IPv6 address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = ( \"198.51.100.13\", \"198.51.100.14\" ); }"),
	  "t.conf:10: redirect.peers[0].tunnel[1]: \"198.51.100.14\" is a second IPv4 address (allowed: at most one IPv4 and one IPv6 address)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = [ \"198.51.100.13\", \"2001:db8:b::11\" ]; }"),
	  "t.conf:10: redirect.peers[0].tunnel[1]: \"2001:db8:b::11\" is one of our back addresses (allowed: the peer's own back address, not in back.addresses)" },
	{ FRONT BACK2 RED("198.51.100.61", "@K@/keys", "",
			  "    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = \"203.0.113.10\"; }"),
	  "t.conf:14: redirect.peers[0].tunnel: \"203.0.113.10\" is a front service (allowed: the peer's own back address, not in front.services)" },
	{ BACK2 RED("198.51.100.61", "@K@/keys", "",
		    PEER2 ",\n    { name = \"b3\"; address = \"198.51.100.63\"; tunnel = [ \"2001:db8:b::12\" ]; }"),
	  "t.conf:11: redirect.peers[1].tunnel[0]: \"2001:db8:b::12\" is a tunnel address of peer \"b2\" too (allowed: each tunnel address once)" },
	/* The outer source of a redirected packet: a back address of its family. */
	{ BACK4 RED("198.51.100.61", "@K@/keys", "", PEER2),
	  "t.conf:9: redirect.peers[0].tunnel[1]: \"2001:db8:b::12\" is IPv6 but back.addresses has no IPv6 address to send its packets from (allowed: tunnel addresses of the families back.addresses has)" },
};

static void test_redirect_bad(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config_errors errs;
		struct mslb_config *c = load(bad[i].text, &errs);
		char want[1024];
		bool ok;

		subst(bad[i].line, want, sizeof(want));
		ok = c == NULL && errs.n == 1 && !strcmp(errs.line[0], want);
		if (!ok) {
			printf("\n  case %u: %s\n  expected: %s\n", i, c ? "loaded" : "NULL", want);
			for (unsigned k = 0; k < errs.n; k++)
				printf("  got:      %s\n", errs.line[k]);
		}
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(errs.n, 1);
		CU_ASSERT_STRING_EQUAL(errs.line[0], want);
		config_free(c);
	}
}

/* 65 peers: one too many, one line. */
static void test_redirect_too_many_peers(void)
{
	static char text[16384];
	struct config_errors errs;
	struct mslb_config *c;
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", BACK2
				    "redirect = {\n  address = \"198.51.100.61\";\n  key_file = \"@K@/keys\";\n  peers = (\n");

	for (unsigned i = 0; i <= MSLB_REDIRECT_PEERS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "    { name = \"p%u\"; address = \"192.0.2.%u\"; tunnel = \"203.0.113.%u\"; }%s\n",
				      i, i + 1, i + 100, i < MSLB_REDIRECT_PEERS_MAX ? "," : "");
	snprintf(text + n, sizeof(text) - n, "  );\n};\n");
	c = load(text, &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	CU_ASSERT_STRING_EQUAL(errs.line[0],
		"t.conf:8: redirect.peers: must be a list ( ... ) of 1-64 peers (allowed: a list of " PEER_ALLOWED ")");
	config_free(c);

	/* 64 load. */
	text[n] = '\0';
	*strrchr(text, '{') = '\0';
	*strrchr(text, ',') = '\0';
	strcat(text, "\n  );\n};\n");
	c = load(text, &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->redirect.n_peers, MSLB_REDIRECT_PEERS_MAX);
	config_free(c);
}

/* Parsing goes on: the problems of the group, its peers and its key file
 * all come in one run. */
static void test_redirect_all_errors(void)
{
	struct config_errors errs;
	struct mslb_config *c = load(BACK4 RED("198.51.100.11", "@K@/keys0644", "rule_ttl = 1; rate = 0;",
		"    { name = \"b2\"; address = \"2001:db8:a::62\"; tunnel = [ \"2001:db8:b::12\", \"198.51.100.11\" ]; },\n"
		"    { name = \"b2\"; address = \"198.51.100.11\"; tunnel = 4; }"), &errs);
	char want[256];

	CU_ASSERT_PTR_NULL(c);
	for (unsigned i = 0; errs.n != 10 && i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_EQUAL_FATAL(errs.n, 10);
	CU_ASSERT_STRING_EQUAL(errs.line[0], "t.conf:5: redirect.address: \"198.51.100.11\" is a back address (allowed: a local address that is not in back.addresses)");
	CU_ASSERT_STRING_EQUAL(errs.line[1], "t.conf:7: redirect.rule_ttl: 1 is out of range (allowed: 5-3600)");
	CU_ASSERT_STRING_EQUAL(errs.line[2], "t.conf:7: redirect.rate: 0 is out of range (allowed: 1-1000000)");
	subst("t.conf:6: redirect.key_file: @K@/keys0644 has mode 0644: others can read it " KF_ALLOWED, want, sizeof(want));
	CU_ASSERT_STRING_EQUAL(errs.line[3], want);
	CU_ASSERT_STRING_EQUAL(errs.line[4], "t.conf:9: redirect.peers[0].address: \"2001:db8:a::62\" is not IPv4 like redirect.address (allowed: an IPv4 address, the peer's redirect.address)");
	CU_ASSERT_STRING_EQUAL(errs.line[5], "t.conf:9: redirect.peers[0].tunnel[0]: \"2001:db8:b::12\" is IPv6 but back.addresses has no IPv6 address to send its packets from (allowed: tunnel addresses of the families back.addresses has)");
	CU_ASSERT_STRING_EQUAL(errs.line[6], "t.conf:9: redirect.peers[0].tunnel[1]: \"198.51.100.11\" is one of our back addresses (allowed: the peer's own back address, not in back.addresses)");
	CU_ASSERT_STRING_EQUAL(errs.line[7], "t.conf:10: redirect.peers[1].name: \"b2\" is used by another peer (allowed: a unique name)");
	CU_ASSERT_STRING_EQUAL(errs.line[8], "t.conf:10: redirect.peers[1].address: \"198.51.100.11\" is our own redirect.address (allowed: the peer's redirect.address)");
	CU_ASSERT_STRING_EQUAL(errs.line[9], "t.conf:10: redirect.peers[1].tunnel: must be an address string or a list of 1-2 addresses (allowed: " TUNNEL_ALLOWED ")");
	config_free(c);
}

/* With user set, the key file must be that account's: a reload, after the
 * switch, reads it as that account. */
static void test_redirect_key_owner(void)
{
	const struct passwd *pw = getpwnam("nobody");
	struct config_errors errs;
	struct mslb_config *c;
	char want[512], path[128];
	uid_t uid;

	if (!pw || pw->pw_uid == 0 || pw->pw_uid == geteuid())
		return;		/* no account to hand the file to here */
	uid = pw->pw_uid;
	c = load(BACK2 "user = \"nobody\";\n" RED_OK(""), &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	snprintf(want, sizeof(want), "t.conf:8: redirect.key_file: %s/keys is owned by uid %u, not by user \"nobody\" (uid %u) " KF_ALLOWED,
		 dir, (unsigned)geteuid(), (unsigned)uid);
	CU_ASSERT_STRING_EQUAL(errs.line[0], want);
	config_free(c);
	if (geteuid() != 0)
		return;		/* cannot give the file away */
	CU_ASSERT_EQUAL_FATAL(write_file("keysnobody", "1 " K1 "\n", 67, 0400), 0);
	path_in(path, sizeof(path), "keysnobody");
	CU_ASSERT_EQUAL_FATAL(chown(path, uid, (gid_t)-1), 0);
	c = load(BACK2 "user = \"nobody\";\n" RED("198.51.100.61", "@K@/keysnobody", "", PEER3), &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->redirect.n_keys, 1);
	config_free(c);
	/* ...and root's is refused then. */
	c = load(BACK2 RED("198.51.100.61", "@K@/keysnobody", "", PEER3), &errs);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.n, 1);
	snprintf(want, sizeof(want), "t.conf:7: redirect.key_file: %s/keysnobody is owned by uid %u, not by uid 0 that mslbd runs as " KF_ALLOWED,
		 dir, (unsigned)uid);
	CU_ASSERT_STRING_EQUAL(errs.line[0], want);
	config_free(c);
}

/* ---- the key file parser alone ----------------------------------------- */

struct key_case {
	const char *text;
	size_t len;
	const char *line;	/* the first error line, NULL: valid */
};

#define KC(s, l) { s, sizeof(s) - 1, l }
#define K1_63 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEF"

static const struct key_case key_cases[] = {
	KC("1 0g112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n",
	   "K:1: the key of ID 1 has a character that is not a hex digit (column 4) " KEYS_ALLOWED),
	KC("1 " K1 "\x1b[2J\n", "K:1: the key of ID 1 has a character that is not a hex digit (column 67) " KEYS_ALLOWED),
	KC("# short\n1 " K1_63 "\n", "K:2: the key of ID 1 has 63 hex digits " KEYS_ALLOWED),
	KC("1 " K1 "0\n", "K:1: the key of ID 1 has 65 hex digits " KEYS_ALLOWED),
	KC("256 " K1 "\n", "K:1: ID 256 is out of range " KEYS_ALLOWED),
	KC("00001234567890123456 " K1 "\n", "K:1: ID 000012345678... is out of range " KEYS_ALLOWED),
	KC("5 " K1 "\n# again\n5 " K2 "\n", "K:3: ID 5 is listed twice, first on line 1 (allowed: each ID once)"),
	KC("", "K:1: no key (allowed: 1-8 \"ID HEX\" lines, ID 0-255, HEX 64 hex digits; blank lines and # comments)"),
	KC("# only a comment\n\n \t \n", "K:1: no key (allowed: 1-8 \"ID HEX\" lines, ID 0-255, HEX 64 hex digits; blank lines and # comments)"),
	KC("1 001122\0" "33445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n", "K:1: a NUL byte at column 9 " KEYS_ALLOWED),
	KC("\0", "K:1: a NUL byte at column 1 " KEYS_ALLOWED),
	KC("1\n", "K:1: ID 1 has no key " KEYS_ALLOWED),
	KC("1 \t \n", "K:1: ID 1 has no key " KEYS_ALLOWED),
	KC("  x1 " K1 "\n", "K:1: the line does not start with an ID (column 3) " KEYS_ALLOWED),
	KC("-1 " K1 "\n", "K:1: the line does not start with an ID (column 1) " KEYS_ALLOWED),
	KC("1a " K1 "\n", "K:1: the ID is not a decimal number (column 2) " KEYS_ALLOWED),
	KC("1," K1 "\n", "K:1: the ID is not a decimal number (column 2) " KEYS_ALLOWED),
	KC("1 " K1 " x\n", "K:1: text after the key of ID 1 (column 68) " KEYS_ALLOWED),
	KC("0 " K1 "\n1 " K1 "\n2 " K1 "\n3 " K1 "\n4 " K1 "\n5 " K1 "\n6 " K1 "\n7 " K1 "\n8 " K1 "\n",
	   "K:9: more than 8 keys (allowed: 1-8 \"ID HEX\" lines, ID 0-255, HEX 64 hex digits)"),
	/* Valid: comments (even with a NUL), blanks, CRLF, no final newline. */
	KC("# a comment\0 with a NUL\n\t 255\t" K1 " \r\n0 " K2, NULL),
	KC("1 " K1, NULL),
};

static bool printable(const char *l)
{
	for (; *l; l++)
		if ((unsigned char)*l < 0x20 || *l == 0x7f)
			return false;
	return true;
}

static void test_keys_parse_cases(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(key_cases); i++) {
		const struct key_case *kc = &key_cases[i];
		/* A copy of exactly len bytes: a read past it is ASan's. */
		char *text = malloc(kc->len ? kc->len : 1);
		struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
		struct config_errors errs = { .n = 0 };
		unsigned n = 99;
		int r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		memcpy(text, kc->text, kc->len);
		memset(keys, 0xa5, sizeof(keys));
		r = config_redirect_keys_parse(text, kc->len, "K", keys, &n, &errs);
		if ((r == 0) != !kc->line || (kc->line && (errs.n != 1 || strcmp(errs.line[0], kc->line)))) {
			printf("\n  key case %u: r %d\n  expected: %s\n", i, r, kc->line ? kc->line : "(valid)");
			for (unsigned k = 0; k < errs.n; k++)
				printf("  got:      %s\n", errs.line[k]);
		}
		if (kc->line) {
			static const struct cfg_redirect_key zero[MSLB_REDIRECT_KEYS_MAX];

			CU_ASSERT_EQUAL(r, -1);
			CU_ASSERT_EQUAL(n, 0);
			CU_ASSERT_EQUAL(errs.n, 1);
			CU_ASSERT_STRING_EQUAL(errs.line[0], kc->line);
			CU_ASSERT_TRUE(printable(errs.line[0]));
			/* Nothing of a key is left behind. */
			CU_ASSERT_EQUAL(memcmp(keys, zero, sizeof(keys)), 0);
		} else {
			CU_ASSERT_EQUAL(r, 0);
			CU_ASSERT_EQUAL(errs.n, 0);
		}
		free(text);
	}
}

static void test_keys_parse_valid(void)
{
	static const char text[] = "# signing key first\n9 " K2 "\n1 " K1 "\n";
	struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
	struct config_errors errs = { .n = 0 };
	unsigned n;

	CU_ASSERT_EQUAL(config_redirect_keys_parse(text, sizeof(text) - 1, "K", keys, &n, &errs), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	key_is(&keys[0], 9, K2);
	key_is(&keys[1], 1, K1);

	/* The comment-with-NUL case above: 255 first, then 0. */
	CU_ASSERT_EQUAL(config_redirect_keys_parse(key_cases[ARRAY_SIZE(key_cases) - 2].text,
						   key_cases[ARRAY_SIZE(key_cases) - 2].len, "K", keys, &n, &errs), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	key_is(&keys[0], 255, K1);
	key_is(&keys[1], 0, K2);

	/* Eight keys are the most. */
	{
		static const char eight[] = "0 " K1 "\n1 " K1 "\n2 " K1 "\n3 " K1 "\n4 " K1 "\n5 " K1 "\n6 " K1 "\n7 " K2 "\n";

		CU_ASSERT_EQUAL(config_redirect_keys_parse(eight, sizeof(eight) - 1, "K", keys, &n, &errs), 0);
		CU_ASSERT_EQUAL(n, 8);
		key_is(&keys[7], 7, K2);
	}
}

/* Every bad line is reported, each on its own line; a key line's text is
 * never quoted, a control character in the name is escaped. */
static void test_keys_parse_all_errors(void)
{
	static const char text[] = "x\n1 " K1 "\n256 " K2 "\n1 " K2 "\n2 zz\n";
	struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
	struct config_errors errs = { .n = 0 };
	unsigned n;

	CU_ASSERT_EQUAL(config_redirect_keys_parse(text, sizeof(text) - 1, "k\x1b[31m", keys, &n, &errs), -1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL_FATAL(errs.n, 4);
	CU_ASSERT_STRING_EQUAL(errs.line[0], "k\\x1b[31m:1: the line does not start with an ID (column 1) " KEYS_ALLOWED);
	CU_ASSERT_STRING_EQUAL(errs.line[1], "k\\x1b[31m:3: ID 256 is out of range " KEYS_ALLOWED);
	CU_ASSERT_STRING_EQUAL(errs.line[2], "k\\x1b[31m:4: ID 1 is listed twice, first on line 2 (allowed: each ID once)");
	CU_ASSERT_STRING_EQUAL(errs.line[3], "k\\x1b[31m:5: the key of ID 2 has a character that is not a hex digit (column 3) " KEYS_ALLOWED);
	for (unsigned i = 0; i < errs.n; i++) {
		CU_ASSERT_TRUE(printable(errs.line[i]));
		CU_ASSERT_PTR_NULL(strstr(errs.line[i], "001122"));
		CU_ASSERT_PTR_NULL(strstr(errs.line[i], "ffeedd"));
	}
}

/* Huge lines without a newline, exactly len bytes: no read past them. */
static void test_keys_parse_huge(void)
{
	static const char *const want[] = {
		"K:1: ID 111111111111... is out of range " KEYS_ALLOWED,
		"K:1: the line does not start with an ID (column 1) " KEYS_ALLOWED,
		"K:1: the key of ID 1 has 199998 hex digits " KEYS_ALLOWED,
	};
	size_t len = 200000;
	char *text = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (unsigned k = 0; k < ARRAY_SIZE(want); k++) {
		struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
		struct config_errors errs = { .n = 0 };
		unsigned n;

		memset(text, k == 1 ? 'a' : '1', len);
		if (k == 2)
			text[1] = ' ';
		CU_ASSERT_EQUAL(config_redirect_keys_parse(text, len, "K", keys, &n, &errs), -1);
		CU_ASSERT_EQUAL_FATAL(errs.n, 1);
		CU_ASSERT_STRING_EQUAL(errs.line[0], want[k]);
	}
	/* Many short lines: one error each until the list is full. */
	memset(text, '\n', len);
	for (size_t i = 0; i + 1 < len; i += 2)
		text[i] = 'z';
	{
		struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
		struct config_errors errs = { .n = 0 };
		unsigned n;

		CU_ASSERT_EQUAL(config_redirect_keys_parse(text, len, "K", keys, &n, &errs), -1);
		CU_ASSERT_EQUAL(errs.n, CONFIG_MAX_ERRORS);
	}
	free(text);
}

void suite_config_redirect(void)
{
	CU_pSuite s = CU_add_suite("config_redirect", suite_init, suite_cleanup);

	UNIT_ADD(s, test_redirect_valid);
	UNIT_ADD(s, test_redirect_settings);
	UNIT_ADD(s, test_redirect_bad);
	UNIT_ADD(s, test_redirect_too_many_peers);
	UNIT_ADD(s, test_redirect_all_errors);
	UNIT_ADD(s, test_redirect_key_owner);
	UNIT_ADD(s, test_keys_parse_cases);
	UNIT_ADD(s, test_keys_parse_valid);
	UNIT_ADD(s, test_keys_parse_all_errors);
	UNIT_ADD(s, test_keys_parse_huge);
}
