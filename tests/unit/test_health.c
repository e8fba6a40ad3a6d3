/* health: next hop health checks and drains. The bytes a check reads back
 * (health_parse), front.health and a next hop's check and state in the
 * file, what the data path does with a next hop that is not usable and
 * with the front's own probes (lb_health), and the rise and fall of a
 * check over real sockets on 127.0.0.1, with the test's own clock, across
 * drains and reloads (health). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pktgen.h"
#include "testlib.h"
#include "unit.h"
#include "base/log.h"
#include "config/config.h"
#include "health/health.h"
#include "health/health_parse.h"
#include "lb/lb.h"

/* ---- the status line --------------------------------------------------- */

/* hc_http_status of a literal (sizeof, so a NUL in it counts). */
#define STATUS(lit, eof) hc_http_status((lit), sizeof(lit) - 1, (eof))

static void test_http_status(void)
{
	char buf[300];

	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200 OK\r\n", 0), 200);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200 OK\r\n", 1), 200);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.0 404\r\n", 0), 404);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 503 Service Unavailable\n", 0), 503);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 100\n", 0), 100);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 599 x\r\n", 0), 599);
	/* Only the first line counts: what follows is the server's. */
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 204 No Content\r\nHTTP/1.1 500\r\n", 0), 204);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200 OK\r\n\0\xff", 0), 200);

	/* No line end yet: more, or a refusal when no more will come. */
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200", 0), 0);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200", 1), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200 OK\r", 0), 0);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200 OK\r", 1), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.", 0), 0);
	CU_ASSERT_EQUAL(STATUS("H", 0), 0);
	CU_ASSERT_EQUAL(hc_http_status(NULL, 0, 0), 0);
	CU_ASSERT_EQUAL(hc_http_status(NULL, 0, 1), -1);
	CU_ASSERT_EQUAL(hc_http_status("", 0, 0), 0);
	CU_ASSERT_EQUAL(hc_http_status("", 0, 1), -1);

	/* Not HTTP/1.0 or 1.1, or no three-digit code 100-599 and then a
	 * space or the line end. */
	CU_ASSERT_EQUAL(STATUS("HTTP/2 200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.2 200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 099 x\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 600 x\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 600\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 2000\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 20\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 20x\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1 200x\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1  200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1.1\t200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("http/1.1 200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS(" HTTP/1.1 200\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("\r\n", 0), -1);
	CU_ASSERT_EQUAL(STATUS("\n", 0), -1);
	/* Bytes that cannot start "HTTP/1." are refused at once. */
	CU_ASSERT_EQUAL(STATUS("XTTP", 0), -1);
	CU_ASSERT_EQUAL(STATUS("X", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/2", 0), -1);
	CU_ASSERT_EQUAL(STATUS("HTTP/1,", 0), -1);

	/* The line must end within HC_HTTP_LINE_MAX bytes. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "HTTP/1.1 200 ", 13);
	CU_ASSERT_EQUAL(hc_http_status(buf, sizeof(buf), 0), -1);
	CU_ASSERT_EQUAL(hc_http_status(buf, HC_HTTP_LINE_MAX, 0), -1);
	CU_ASSERT_EQUAL(hc_http_status(buf, HC_HTTP_LINE_MAX - 1, 0), 0);
	buf[HC_HTTP_LINE_MAX - 1] = '\n';	/* the last byte it reads */
	CU_ASSERT_EQUAL(hc_http_status(buf, sizeof(buf), 0), 200);
	CU_ASSERT_EQUAL(hc_http_status(buf, HC_HTTP_LINE_MAX, 0), 200);
	buf[HC_HTTP_LINE_MAX - 1] = 'a';
	buf[HC_HTTP_LINE_MAX] = '\n';		/* one byte too far */
	CU_ASSERT_EQUAL(hc_http_status(buf, sizeof(buf), 0), -1);
	CU_ASSERT_EQUAL(hc_http_status(buf, sizeof(buf), 1), -1);
}

static void test_http_request(void)
{
	static const char want[] = "GET /health HTTP/1.0\r\n"
				   "Host: 127.0.0.1\r\n"
				   "User-Agent: mslbd-health\r\n"
				   "Connection: close\r\n"
				   "\r\n";
	static const char want6[] = "GET / HTTP/1.0\r\n"
				    "Host: [2001:db8::1]\r\n"
				    "User-Agent: mslbd-health\r\n"
				    "Connection: close\r\n"
				    "\r\n";
	char out[200];

	memset(out, 'z', sizeof(out));
	CU_ASSERT_EQUAL(hc_http_request(out, sizeof(out), "/health", "127.0.0.1"), (int)sizeof(want) - 1);
	CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT_EQUAL(hc_http_request(out, sizeof(out), "/", "[2001:db8::1]"), (int)sizeof(want6) - 1);
	CU_ASSERT_STRING_EQUAL(out, want6);
	/* The length with its NUL must fit. */
	CU_ASSERT_EQUAL(hc_http_request(out, sizeof(want), "/health", "127.0.0.1"), (int)sizeof(want) - 1);
	CU_ASSERT_EQUAL(hc_http_request(out, sizeof(want) - 1, "/health", "127.0.0.1"), -1);
	CU_ASSERT_EQUAL(hc_http_request(out, 1, "/health", "127.0.0.1"), -1);
	CU_ASSERT_EQUAL(hc_http_request(out, 0, "/health", "127.0.0.1"), -1);
}

/* ---- the echo reply ---------------------------------------------------- */

/* An IPv4 echo reply as a raw socket gives it: a header of hl bytes (20
 * plus options) and the 8 bytes of the message; its length. */
static size_t echo4(uint8_t *b, unsigned hl, uint8_t type, uint16_t id, uint16_t seq)
{
	memset(b, 0, hl + 8);
	b[0] = (uint8_t)(0x40 | hl / 4);
	pg_put16(b + 2, (uint16_t)(hl + 8));
	b[8] = 64;
	b[9] = 1;
	memcpy(b + 12, tl_ip("192.0.2.1"), 4);
	memcpy(b + 16, tl_ip("127.0.0.1"), 4);
	for (unsigned i = 20; i < hl; i++)
		b[i] = 1;	/* NOP options */
	b[hl] = type;
	pg_put16(b + hl + 4, id);
	pg_put16(b + hl + 6, seq);
	pg_put16(b + hl + 2, ref_csum(b + hl, 8));
	return hl + 8;
}

static void test_echo_reply(void)
{
	uint8_t b[60 + 8 + 8];	/* the longest header, the message, a payload */
	size_t n;

	n = echo4(b, 20, 0, 0x4d01, 7);
	CU_ASSERT_EQUAL(n, 28);
	CU_ASSERT_TRUE(hc_echo_reply(b, n, true, 0x4d01, 7));
	CU_ASSERT_TRUE(hc_echo_reply(b, n + 8, true, 0x4d01, 7));	/* a payload */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d02, 7));
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x014d, 7));		/* byte order */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 8));
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 0x0700));
	CU_ASSERT_FALSE(hc_echo_reply(b, n, false, 0x4d01, 7));		/* read as ICMPv6 */
	for (size_t len = 0; len < n; len++)
		CU_ASSERT_FALSE(hc_echo_reply(b, len, true, 0x4d01, 7));
	b[21] = 1;	/* a code */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));
	n = echo4(b, 20, 8, 0x4d01, 7);	/* our own request */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));
	n = echo4(b, 20, 3, 0x4d01, 7);	/* an error */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));
	n = echo4(b, 20, 0, 0x4d01, 7);
	b[0] = 0x65;	/* not IPv4 */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));
	b[0] = 0x44;	/* a header shorter than a header */
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));

	/* Options: the message is where the header length says. */
	n = echo4(b, 24, 0, 0x4d01, 7);
	CU_ASSERT_EQUAL(n, 32);
	CU_ASSERT_TRUE(hc_echo_reply(b, n, true, 0x4d01, 7));
	for (size_t len = 0; len < n; len++)
		CU_ASSERT_FALSE(hc_echo_reply(b, len, true, 0x4d01, 7));
	/* The reply's bytes at 20 while the header says 24: not a reply. */
	n = echo4(b, 20, 0, 0x4d01, 7);
	b[0] = 0x46;
	memset(b + n, 0xee, 4);
	CU_ASSERT_FALSE(hc_echo_reply(b, n, true, 0x4d01, 7));
	CU_ASSERT_FALSE(hc_echo_reply(b, n + 4, true, 0x4d01, 7));
	n = echo4(b, 60, 0, 0xffff, 0xffff);	/* the longest header */
	CU_ASSERT_TRUE(hc_echo_reply(b, n, true, 0xffff, 0xffff));
	CU_ASSERT_FALSE(hc_echo_reply(b, n - 1, true, 0xffff, 0xffff));

	/* IPv6: the message alone. */
	memset(b, 0, sizeof(b));
	b[0] = 129;
	pg_put16(b + 4, 0xbeef);
	pg_put16(b + 6, 65535);
	CU_ASSERT_TRUE(hc_echo_reply(b, 8, false, 0xbeef, 65535));
	CU_ASSERT_TRUE(hc_echo_reply(b, 24, false, 0xbeef, 65535));
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, false, 0xbeef, 0));
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, false, 0xbeee, 65535));
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, true, 0xbeef, 65535));	/* read as IPv4 */
	for (size_t len = 0; len < 8; len++)
		CU_ASSERT_FALSE(hc_echo_reply(b, len, false, 0xbeef, 65535));
	b[0] = 128;
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, false, 0xbeef, 65535));
	b[0] = 0;	/* IPv4's reply type */
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, false, 0xbeef, 65535));
	b[0] = 129;
	b[1] = 1;
	CU_ASSERT_FALSE(hc_echo_reply(b, 8, false, 0xbeef, 65535));
}

/* ---- the file ------------------------------------------------------------ */

/* Three next hops (lines 4-6, each with its own extra keys), a table (line
 * 8) and front.health (line 9). */
#define HC_FMT \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; %s },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; %s },\n" \
	"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; %s }\n" \
	"  );\n" \
	"  table = ( %s );\n" \
	"  %s\n" \
	"  unmatched = \"hash\";\n" \
	"};\n"

static char conf_text[4096];

static const char *conf(const char *nh1, const char *nh2, const char *nh3, const char *table, const char *health)
{
	snprintf(conf_text, sizeof(conf_text), HC_FMT, nh1, nh2, nh3, table, health);
	return conf_text;
}

static struct config_errors errs;

static struct mslb_config *load_ok(const char *text)
{
	struct mslb_config *c;

	memset(&errs, 0, sizeof(errs));
	c = config_load_string(text, "t.conf", &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(errs.n, 0);
	return c;
}

static bool addr_is(const struct mslb_addr *a, const char *s)
{
	struct mslb_addr b;

	return mslb_addr_parse(s, &b) == 0 && mslb_addr_eq(a, &b);
}

static void test_config_none(void)
{
	struct mslb_config *c = load_ok(conf("", "", "", "", "# no health"));

	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.n_next_hops, 3);
	for (unsigned i = 0; i < c->front.n_next_hops; i++) {
		CU_ASSERT_EQUAL(c->front.next_hops[i].check.kind, HC_NONE);
		CU_ASSERT_FALSE(c->front.next_hops[i].drain);
	}
	CU_ASSERT_FALSE(c->front.has_hsrc[0]);
	CU_ASSERT_FALSE(c->front.has_hsrc[1]);
	config_free(c);

	/* kind = "none" asks for nothing else, not even a port. */
	c = load_ok(conf("", "", "", "", "health = { kind = \"none\"; };"));
	if (!c)
		return;
	for (unsigned i = 0; i < c->front.n_next_hops; i++)
		CU_ASSERT_EQUAL(c->front.next_hops[i].check.kind, HC_NONE);
	config_free(c);

	/* Without front.health, a next hop's check group asks for a tcp check. */
	c = load_ok(conf("", "check = { port = 22; };", "", "", ""));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.kind, HC_NONE);
	CU_ASSERT_EQUAL(c->front.next_hops[1].check.kind, HC_TCP);
	CU_ASSERT_EQUAL(c->front.next_hops[1].check.port, 22);
	CU_ASSERT_EQUAL(c->front.next_hops[1].check.interval_ms, 1000);
	CU_ASSERT_TRUE(addr_is(&c->front.next_hops[1].check.target, "203.0.113.10"));
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.kind, HC_NONE);
	config_free(c);

	/* An icmp check needs no port at all. */
	c = load_ok(conf("", "", "check = { kind = \"icmp\"; };", "", ""));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.kind, HC_ICMP);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.port, 0);
	CU_ASSERT_TRUE(addr_is(&c->front.next_hops[2].check.target, "203.0.113.10"));
	config_free(c);
}

static void test_config_defaults(void)
{
	struct mslb_config *c = load_ok(conf("", "", "", "", "health = { kind = \"tcp\"; port = 80; };"));

	if (!c)
		return;
	for (unsigned i = 0; i < c->front.n_next_hops; i++) {
		const struct cfg_check *k = &c->front.next_hops[i].check;

		CU_ASSERT_EQUAL(k->kind, HC_TCP);
		CU_ASSERT_EQUAL(k->port, 80);
		CU_ASSERT_EQUAL(k->interval_ms, 1000);
		CU_ASSERT_EQUAL(k->timeout_ms, 500);
		CU_ASSERT_EQUAL(k->rise, 2);
		CU_ASSERT_EQUAL(k->fall, 2);
		CU_ASSERT_EQUAL(k->http_status, 200);
		CU_ASSERT_STRING_EQUAL(k->http_path, "/");
		CU_ASSERT_STRING_EQUAL(k->http_host, "");
		/* The first IPv4 service, though an IPv6 one is there too. */
		CU_ASSERT_TRUE(addr_is(&k->target, "203.0.113.10"));
		CU_ASSERT_FALSE(c->front.next_hops[i].drain);
	}
	config_free(c);

	/* kind defaults to tcp; seconds as a float or an integer. */
	c = load_ok(conf("", "", "", "", "health = { port = 8080; interval = 0.2; timeout = 0.15; rise = 1; fall = 5; };"));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.kind, HC_TCP);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.port, 8080);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.interval_ms, 200);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.timeout_ms, 150);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.rise, 1);
	CU_ASSERT_EQUAL(c->front.next_hops[2].check.fall, 5);
	config_free(c);
	c = load_ok(conf("", "", "", "", "health = { port = 80; interval = 3; timeout = 2; };"));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.interval_ms, 3000);
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.timeout_ms, 2000);
	config_free(c);
	/* Rounded to the millisecond: 1.005 is 1004.99... ms as a double. */
	c = load_ok(conf("", "", "", "", "health = { port = 80; interval = 2.5; timeout = 1.005; };"));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.interval_ms, 2500);
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.timeout_ms, 1005);
	config_free(c);
	/* The range's ends. */
	c = load_ok(conf("", "", "", "", "health = { port = 80; interval = 0.1; timeout = 0.01; };"));
	if (!c)
		return;
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.interval_ms, 100);
	CU_ASSERT_EQUAL(c->front.next_hops[0].check.timeout_ms, 10);
	config_free(c);
}

static void test_config_next_hop(void)
{
	struct mslb_config *c = load_ok(conf("state = \"drain\";",
					     "check = { kind = \"icmp\"; interval = 2; };",
					     "state = \"up\"; check = { kind = \"http\"; port = 8080; http_path = \"/health\"; "
					     "http_host = \"www.example.com\"; http_status = 204; rise = 3; "
					     "service = \"203.0.113.10\"; };",
					     "{ source = \"192.0.2.0/25\"; next_hop = \"b1\"; backup = \"b2\"; },"
					     " { source = \"192.0.2.128/25\"; next_hop = \"b3\"; },"
					     " { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; backup = \"b1\"; }",
					     "health = { kind = \"tcp\"; port = 80; service = \"2001:db8:5::10\"; };"));
	const struct cfg_check *k;

	if (!c)
		return;
	CU_ASSERT_TRUE(c->front.next_hops[0].drain);
	CU_ASSERT_FALSE(c->front.next_hops[1].drain);
	CU_ASSERT_FALSE(c->front.next_hops[2].drain);
	k = &c->front.next_hops[0].check;	/* front.health's */
	CU_ASSERT_EQUAL(k->kind, HC_TCP);
	CU_ASSERT_EQUAL(k->port, 80);
	CU_ASSERT_TRUE(addr_is(&k->target, "2001:db8:5::10"));
	k = &c->front.next_hops[1].check;	/* icmp: no port needed, the rest kept */
	CU_ASSERT_EQUAL(k->kind, HC_ICMP);
	CU_ASSERT_EQUAL(k->interval_ms, 2000);
	CU_ASSERT_EQUAL(k->timeout_ms, 500);
	CU_ASSERT_TRUE(addr_is(&k->target, "2001:db8:5::10"));
	k = &c->front.next_hops[2].check;
	CU_ASSERT_EQUAL(k->kind, HC_HTTP);
	CU_ASSERT_EQUAL(k->port, 8080);
	CU_ASSERT_STRING_EQUAL(k->http_path, "/health");
	CU_ASSERT_STRING_EQUAL(k->http_host, "www.example.com");
	CU_ASSERT_EQUAL(k->http_status, 204);
	CU_ASSERT_EQUAL(k->rise, 3);
	CU_ASSERT_EQUAL(k->fall, 2);
	/* b3 has no IPv6 address: its own service, front.health's would not do */
	CU_ASSERT_TRUE(addr_is(&k->target, "203.0.113.10"));
	config_free(c);

	c = load_ok(conf("state = \"drain\";", "check = { kind = \"icmp\"; };", "",
			 "{ source = \"192.0.2.0/25\"; next_hop = \"b1\"; backup = \"b2\"; },"
			 " { source = \"192.0.2.128/25\"; next_hop = \"b3\"; },"
			 " { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; backup = \"b1\"; }",
			 "health = { kind = \"tcp\"; port = 80; };"));
	if (!c)
		return;
	CU_ASSERT_EQUAL_FATAL(c->front.n_table, 3);
	CU_ASSERT_TRUE(c->front.table[0].has_backup);
	CU_ASSERT_EQUAL(c->front.table[0].backup, 1);
	CU_ASSERT_FALSE(c->front.table[1].has_backup);
	CU_ASSERT_TRUE(c->front.table[2].has_backup);
	CU_ASSERT_EQUAL(c->front.table[2].backup, 0);
	CU_ASSERT_EQUAL(c->front.next_hops[1].check.kind, HC_ICMP);
	CU_ASSERT_EQUAL(c->front.next_hops[1].check.port, 80);
	CU_ASSERT_TRUE(addr_is(&c->front.next_hops[1].check.target, "203.0.113.10"));
	config_free(c);
}

struct hc_bad {
	const char *nh1, *nh2, *nh3, *table, *health;
	const char *line;	/* an error line, or its start when prefix */
	bool prefix;
	unsigned n;		/* how many error lines */
};

static void test_config_errors(void)
{
	static const char *const T1 = "{ source = \"192.0.2.0/25\"; next_hop = \"b1\"; backup = \"b1\"; }";
	static const struct hc_bad bad[] = {
		{ "", "", "", "", "health = { kind = \"udp\"; port = 80; };",
		  "t.conf:9: front.health.kind: \"udp\" is not a kind of check (allowed: \"tcp\", \"icmp\", \"http\" or \"none\")",
		  false, 1 },
		{ "", "check = { kind = \"tcp\"; };", "", "", "",
		  "t.conf:5: front.next_hops[1].check: next hop \"b2\" has a tcp check without a port (allowed: port = 1-65535)",
		  false, 1 },
		{ "", "check = { kind = \"http\"; };", "", "", "",
		  "t.conf:5: front.next_hops[1].check: next hop \"b2\" has a http check without a port (allowed: port = 1-65535)",
		  false, 1 },
		/* front.health without a port: said once, at the group. */
		{ "", "", "", "", "health = { kind = \"tcp\"; };",
		  "t.conf:9: front.health: a tcp check needs a port (allowed: port = 1-65535)", false, 1 },
		{ "check = { timeout = 2; };", "", "", "", "health = { port = 80; };",
		  "t.conf:4: front.next_hops[0].check: timeout 2 s is longer than interval 1 s (allowed: timeout <= interval)",
		  false, 1 },
		{ "", "", "", "", "health = { port = 80; interval = 0.2; timeout = 0.3; };",
		  "t.conf:9: front.health: timeout 0.3 s is longer than interval 0.2 s (allowed: timeout <= interval)",
		  false, 1 },
		{ "", "", "", "", "health = { port = 80; interval = 0.05; timeout = 0.01; };",
		  "t.conf:9: front.health.interval: 0.05 is out of range (allowed: 0.1-3600 seconds)", false, 1 },
		{ "", "", "", "", "health = { port = 80; interval = 0; timeout = 0.01; };",
		  "t.conf:9: front.health.interval: 0 is out of range (allowed: 0.1-3600 seconds)", false, 1 },
		{ "", "", "", "", "health = { port = 80; interval = \"1\"; };",
		  "t.conf:9: front.health.interval: must be a number of seconds", true, 1 },
		/* The port refused: that line alone. */
		{ "", "", "", "", "health = { port = 0; };",
		  "t.conf:9: front.health.port: 0 is out of range (allowed: 1-65535)", false, 1 },
		{ "", "", "", "", "health = { port = 80; rise = 0; };", "t.conf:9: front.health.rise: 0 is out of range",
		  true, 1 },
		{ "", "", "", "", "health = { port = 80; service = \"203.0.113.99\"; };",
		  "t.conf:9: front.health.service: \"203.0.113.99\" is not a service address (allowed: one of front.services)",
		  false, 1 },
		{ "", "", "", "", "health = { port = 80; service = \"2001:db8:5::10\"; };",
		  "t.conf:6: front.next_hops[2].check: next hop \"b3\" has no ipv6 address for service \"2001:db8:5::10\"",
		  true, 1 },
		{ "state = \"down\";", "", "", "", "",
		  "t.conf:4: front.next_hops[0].state: \"down\" is not a state (allowed: \"up\", \"drain\")", false, 1 },
		{ "", "", "", "{ source = \"192.0.2.0/25\"; next_hop = \"b1\"; backup = \"zz\"; }", "",
		  "t.conf:8: front.table[0].backup: \"zz\" is not a next hop (allowed: ", true, 1 },
		{ "", "", "", T1, "",
		  "t.conf:8: front.table[0].backup: \"b1\" is the entry's own next hop (allowed: another next hop)", false, 1 },
		{ "", "", "", "{ source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; backup = \"b3\"; }", "",
		  "t.conf:8: front.table[0].backup: \"b3\" has no address of the source's family", true, 1 },
		{ "", "", "", "", "health = { port = 80; retries = 3; };",
		  "t.conf:9: front.health.retries: unknown setting (allowed: kind, port, interval, timeout, rise, fall, "
		  "http_path, http_status, http_host, service, source_ipv4, source_ipv6)",
		  false, 1 },
		{ "", "check = { port = 80; source_ipv4 = \"192.0.2.1\"; };", "", "", "",
		  "t.conf:5: front.next_hops[1].check.source_ipv4: unknown setting (allowed: kind, port, interval, timeout, "
		  "rise, fall, http_path, http_status, http_host, service)",
		  false, 1 },
		{ "", "", "", "", "health = { port = 80; source_ipv4 = \"2001:db8::1\"; };",
		  "t.conf:9: front.health.source_ipv4: \"2001:db8::1\" is not IPv4", true, 1 },
		{ "", "", "", "", "health = { port = 80; http_path = \"health\"; };",
		  "t.conf:9: front.health.http_path: \"health\" is not a request path", true, 1 },
		{ "", "", "", "", "health = { port = 80; http_path = \"/a b\"; };",
		  "t.conf:9: front.health.http_path: \"/a b\" is not a request path", true, 1 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct hc_bad *b = &bad[i];
		struct mslb_config *c;
		bool found = false;

		memset(&errs, 0, sizeof(errs));
		c = config_load_string(conf(b->nh1, b->nh2, b->nh3, b->table, b->health), "t.conf", &errs);
		for (unsigned k = 0; k < errs.n; k++)
			if (b->prefix ? !strncmp(errs.line[k], b->line, strlen(b->line)) : !strcmp(errs.line[k], b->line))
				found = true;
		if (c || !found || errs.n != b->n) {
			printf("\n  case %u: %s, %u lines\n  expected: %s\n", i, c ? "loaded" : "NULL", errs.n, b->line);
			for (unsigned k = 0; k < errs.n; k++)
				printf("  got:      %s\n", errs.line[k]);
		}
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_TRUE(found);
		CU_ASSERT_EQUAL(errs.n, b->n);
		config_free(c);
	}
}

/* ---- the data path --------------------------------------------------------- */

/* Persistence off: these look at the choice alone (marks: test_persist.c). */
#define LB_FMT \
	"front = {\n" \
	"  persistence = 0;\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; ipv6 = \"2001:db8:b::11\"; },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\"; %s },\n" \
	"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/25\"; next_hop = \"b1\"; backup = \"b3\"; },\n" \
	"    { source = \"192.0.2.128/25\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b1\"; backup = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"%s\";\n" \
	"};\n"

static const char *const NH4[3] = { "198.51.100.11", "198.51.100.12", "198.51.100.13" };
static const char *const NH6[2] = { "2001:db8:b::11", "2001:db8:b::12" };

static struct pg_rng rng;
static struct mslb_config *lcfg;
static struct mslb_lb *lb;

static void lb_setup(const char *unmatched, const char *b2)
{
	char text[2048];

	snprintf(text, sizeof(text), LB_FMT, b2, unmatched);
	lb = tl_lb_load(text, "lb.conf", &lcfg);
}

static void lb_teardown(void)
{
	tl_lb_free(lb, lcfg);
	lb = NULL;
	lcfg = NULL;
}

/* A packet of proto from src to dst; a TCP source port or echo identifier
 * id when not 0 (the checksums fixed). */
static void mk(struct pg_pkt *p, uint8_t proto, const char *src, const char *dst, uint16_t id)
{
	struct pg_spec s;

	pg_spec_init(&s, strchr(src, ':') ? 6 : 4, proto);
	tl_addr(src, s.src);
	tl_addr(dst, s.dst);
	s.payload = pg_range(&rng, 0, 100);
	pg_build(p, &s, &rng);
	if (!id)
		return;
	if (proto == PG_TCP)
		pg_put16(p->buf + p->l3len, id);
	else
		pg_put16(p->buf + p->l3len + 4, id);
	pg_recompute(p);
}

/* Where p goes: the new destination, the whole packet checked against
 * the input with that destination (checksums right); or "" when dropped,
 * with the reason in *drop. */
static const char *route(const struct pg_pkt *p, enum mslb_drop *drop, char *out)
{
	static struct pg_pkt got, e;
	struct mslb_addr a;
	uint32_t len = p->len;
	enum mslb_drop r;

	got = *p;
	out[0] = '\0';
	r = tl_process(lb, got.buf, sizeof(got.buf), &len);
	if (drop)
		*drop = r;
	if (r != MSLB_OK)
		return out;
	mslb_addr_from_bytes(&a, p->family == 4 ? AF_INET : AF_INET6, got.buf + pg_dst_off(&got));
	mslb_addr_str(&a, out, MSLB_ADDRSTRLEN);
	e = *p;
	pg_set_dst(&e, got.buf + pg_dst_off(&got));
	pg_recompute(&e);
	CU_ASSERT_EQUAL(len, e.len);
	if (len != e.len || memcmp(got.buf, e.buf, e.len)) {
		pg_diff(out, got.buf, len, e.buf, e.len);
		CU_FAIL("rewritten packet differs");
	}
	return out;
}

/* Where a packet from src to the service of its family goes. */
static const char *route_from(uint8_t proto, const char *src, enum mslb_drop *drop, char *out)
{
	static struct pg_pkt p;

	mk(&p, proto, src, strchr(src, ':') ? "2001:db8:5::10" : "203.0.113.10", 0);
	return route(&p, drop, out);
}

static int nh_index(const char *to)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(to, NH4[i]) || (i < 2 && !strcmp(to, NH6[i])))
			return i;
	return -1;
}

#define N_SOURCES 200

/* Sources outside the table: 198.51.100.x, 203.0.113.x; 2001:db8:ff::x. */
static void source(unsigned k, bool v6, char *out)
{
	if (v6)
		snprintf(out, MSLB_ADDRSTRLEN, "2001:db8:ff::%x:%x", k * 7919 % 65536, k);
	else
		snprintf(out, MSLB_ADDRSTRLEN, "%s.%u", k % 2 ? "203.0.113" : "198.51.100", k / 2 + 20);
}

/* The next hop of each of the N_SOURCES sources (-1: dropped); the
 * next hops used as a bit set. */
static unsigned spread(bool v6, int *to)
{
	unsigned used = 0;

	for (unsigned k = 0; k < N_SOURCES; k++) {
		char src[MSLB_ADDRSTRLEN], out[MSLB_ADDRSTRLEN];
		enum mslb_drop d;

		source(k, v6, src);
		to[k] = nh_index(route_from(k % 2 ? PG_UDP : PG_TCP, src, &d, out));
		if (to[k] >= 0)
			used |= 1u << to[k];
	}
	return used;
}

static void test_lb_hash_usable(void)
{
	static int before[N_SOURCES], down[N_SOURCES], after[N_SOURCES];
	unsigned moved = 0, lost = 0;

	lb_setup("hash", "");
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_TRUE(lb_next_hop_usable(lb, i));
	CU_ASSERT_EQUAL(spread(false, before), 7);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	CU_ASSERT_FALSE(lb_next_hop_usable(lb, 1));
	CU_ASSERT_TRUE(lb_next_hop_usable(lb, 0));
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);	/* already so */
	CU_ASSERT_EQUAL(spread(false, down), 5);		/* b1 and b3 only */
	for (unsigned k = 0; k < N_SOURCES; k++) {
		if (down[k] < 0)
			lost++;
		/* Maglev: the clients of the others nearly all stay. */
		if (before[k] != 1 && down[k] != before[k])
			moved++;
	}
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT(moved <= N_SOURCES / 10);
	CU_ASSERT_EQUAL(spread(true, down), 1);			/* IPv6: b1 alone is left */
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NEXT_HOP_DOWN), 0);

	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_TRUE(lb_next_hop_usable(lb, 1));
	CU_ASSERT_EQUAL(spread(false, after), 7);
	CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);	/* the same table again */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 3, false), -1);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 99, true), -1);
	lb_teardown();

	/* Drained in the file: out of the hash from the start. */
	lb_setup("hash", "state = \"drain\";");
	CU_ASSERT_FALSE(lb_next_hop_usable(lb, 1));
	CU_ASSERT_TRUE(lb_next_hop_usable(lb, 0));
	CU_ASSERT_EQUAL(spread(false, down), 5);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_EQUAL(spread(false, after), 7);
	CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
	lb_teardown();
}

/* A reload: the new data path keeps the usability its tables were built
 * with (not the old one's), and an old probe's packets still go to the
 * next hop it tested. Was: lb_adopt_counters copied the old usability over
 * tables built without it. */
static void test_lb_reload_keeps_usable(void)
{
	struct mslb_config *ncfg;
	struct mslb_lb *old, *n;
	char text[2048], out[MSLB_ADDRSTRLEN];
	static struct pg_pkt p;
	uint8_t src[16];	/* tl_addr writes 16 bytes */
	enum mslb_drop d;

	lb_setup("drop", "");
	old = lb;
	CU_ASSERT_EQUAL(lb_set_usable(old, 0, false), 0);
	tl_addr("192.0.2.77", src);
	lb_set_probe(old, 1, 4, 6, src, 4242);
	snprintf(text, sizeof(text), LB_FMT, "", "drop");
	n = tl_lb_load(text, "new.conf", &ncfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	lb_adopt_counters(n, old);
	/* Built usable and not told otherwise: usable, and the table's. */
	CU_ASSERT_TRUE(lb_next_hop_usable(n, 0));
	lb = n;
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[0]);
	/* Told down, as the daemon does after the health module's migrate. */
	CU_ASSERT_EQUAL(lb_set_usable(n, 0, false), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[2]);
	/* The old probe's reset, after the swap, goes to b2 (the table: b1). */
	mk(&p, PG_TCP, "192.0.2.77", "203.0.113.10", 4242);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[1]);
	tl_lb_free(n, ncfg);
	lb = old;
	lb_teardown();
}

static void test_lb_backup(void)
{
	char out[MSLB_ADDRSTRLEN];
	enum mslb_drop d;

	lb_setup("drop", "");
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[0]);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 0), 0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 0, false), 0);
	/* b1 down: its entry takes its backup b3. */
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[2]);
	CU_ASSERT_STRING_EQUAL(route_from(PG_UDP, "192.0.2.127", &d, out), NH4[2]);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 0), 2);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), 3);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 2).packets, 2);
	/* The IPv6 entry of b1 takes b2. */
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "2001:db8:c1::5", &d, out), NH6[1]);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 2), 1);
	/* The backup down too: the unmatched policy, here drop. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, false), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NO_ROUTE);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 0), 3);
	/* An entry without a backup: the unmatched policy. */
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.200", &d, out), NH4[1]);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 1), 0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.200", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NO_ROUTE);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 1), 1);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NO_ROUTE), 2);
	/* Back up: the table again, and no more fallbacks. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 0, true), 0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, true), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[0]);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.200", &d, out), NH4[1]);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 0), 3);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 1), 1);
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 2), 1);
	lb_teardown();

	/* unmatched = "hash": the entry's clients go to the hash over what is
	 * left, b2 alone here. */
	lb_setup("hash", "");
	CU_ASSERT_EQUAL(lb_set_usable(lb, 0, false), 0);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, false), 0);
	for (unsigned k = 0; k < 20; k++) {
		char src[MSLB_ADDRSTRLEN];

		snprintf(src, sizeof(src), "192.0.2.%u", k * 6);
		CU_ASSERT_STRING_EQUAL(route_from(PG_UDP, src, &d, out), NH4[1]);
	}
	CU_ASSERT_EQUAL(lb_table_fallbacks(lb, 0), 20);	/* 192.0.2.0-114: all in the /25 */
	/* Nothing usable: next_hop_down, for both families. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "198.51.100.99", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	CU_ASSERT_STRING_EQUAL(route_from(PG_UDP, "2001:db8:ff::1", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NEXT_HOP_DOWN), 3);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NO_FAMILY), 0);
	CU_ASSERT_STRING_EQUAL(mslb_drop_name(MSLB_DROP_NEXT_HOP_DOWN), "next_hop_down");
	/* b3 back: IPv4 goes there; IPv6 still has no next hop up (b3 has
	 * no IPv6 address, yet some next hop has: down, not no_family). */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, true), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "198.51.100.99", &d, out), NH4[2]);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[2]);
	CU_ASSERT_STRING_EQUAL(route_from(PG_UDP, "2001:db8:ff::1", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	lb_teardown();

	/* unmatched = a next hop: dropped while it is not usable. */
	lb_setup("b2", "");
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "198.51.100.99", &d, out), NH4[1]);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, false), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "198.51.100.99", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	CU_ASSERT_STRING_EQUAL(route_from(PG_UDP, "2001:db8:ff::1", &d, out), "");
	CU_ASSERT_EQUAL(d, MSLB_DROP_NEXT_HOP_DOWN);
	/* the table is not the unmatched policy: b1 still takes its own */
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "192.0.2.5", &d, out), NH4[0]);
	CU_ASSERT_EQUAL(lb_drops(lb, MSLB_DROP_NEXT_HOP_DOWN), 2);
	CU_ASSERT_EQUAL(lb_set_usable(lb, 1, true), 0);
	CU_ASSERT_STRING_EQUAL(route_from(PG_TCP, "198.51.100.99", &d, out), NH4[1]);
	lb_teardown();
}

static void test_lb_probe(void)
{
	static struct pg_pkt p;
	char out[MSLB_ADDRSTRLEN];
	uint8_t src[16], src6[16];
	uint64_t hits;
	enum mslb_drop d;
	int hashed;

	lb_setup("hash", "");
	tl_addr("192.0.2.5", src);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 0);
	lb_set_probe(lb, 2, 4, IPPROTO_TCP, src, 40000);
	hits = lb_table_hits(lb, 0);
	/* The probe goes to the next hop it tests, not to the table's. */
	mk(&p, PG_TCP, "192.0.2.5", "203.0.113.10", 40000);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[2]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 1);
	CU_ASSERT_EQUAL(lb_table_hits(lb, 0), hits);
	/* Another port, another source, another protocol: not the probe. */
	mk(&p, PG_TCP, "192.0.2.5", "203.0.113.10", 40001);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	mk(&p, PG_TCP, "192.0.2.6", "203.0.113.10", 40000);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	mk(&p, PG_UDP, "192.0.2.5", "203.0.113.10", 0);
	pg_put16(p.buf + p.l3len, 40000);
	pg_recompute(&p);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	mk(&p, PG_ICMP, "192.0.2.5", "203.0.113.10", 40000);	/* echo id 40000 */
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 1);
	/* A next hop that is down is still probed: that is how it comes back. */
	CU_ASSERT_EQUAL(lb_set_usable(lb, 2, false), 0);
	mk(&p, PG_TCP, "192.0.2.5", "203.0.113.10", 40000);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[2]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 2);
	/* A new probe of that next hop replaces the old one. */
	lb_set_probe(lb, 2, 4, IPPROTO_TCP, src, 40002);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	mk(&p, PG_TCP, "192.0.2.5", "203.0.113.10", 40002);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[2]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 3);
	lb_clear_probe(lb, 2);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	lb_clear_probe(lb, 2);	/* twice: nothing */
	lb_clear_probe(lb, 7);
	lb_set_probe(lb, 7, 4, IPPROTO_TCP, src, 40002);	/* no such next hop */
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 2), 3);

	/* ICMP: an echo request with the probe's identifier. */
	lb_set_probe(lb, 1, 4, IPPROTO_ICMP, src, 0x4d01);
	mk(&p, PG_ICMP, "192.0.2.5", "203.0.113.10", 0x4d01);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[1]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 1), 1);
	mk(&p, PG_ICMP, "192.0.2.5", "203.0.113.10", 0x4d02);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	mk(&p, PG_TCP, "192.0.2.5", "203.0.113.10", 0x4d01);	/* a TCP port of that number */
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, 1), 1);
	lb_clear_probe(lb, 1);
	mk(&p, PG_ICMP, "192.0.2.5", "203.0.113.10", 0x4d01);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH4[0]);

	/* IPv6: to the next hop the hash would not have picked. */
	tl_addr("2001:db8:ff::77", src6);
	hashed = nh_index(route_from(PG_TCP, "2001:db8:ff::77", &d, out));
	CU_ASSERT(hashed == 0 || hashed == 1);
	lb_set_probe(lb, (unsigned)!hashed, 6, IPPROTO_ICMPV6, src6, 0xbeef);
	mk(&p, PG_ICMPV6, "2001:db8:ff::77", "2001:db8:5::10", 0xbeef);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH6[!hashed]);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, !hashed), hashed ? 1 : 2);
	/* An IPv4 source of the same first bytes is another source. */
	mk(&p, PG_ICMP, "32.1.13.184", "203.0.113.10", 0xbeef);
	CU_ASSERT(nh_index(route(&p, &d, out)) >= 0);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, !hashed), hashed ? 1 : 2);
	mk(&p, PG_ICMPV6, "2001:db8:ff::78", "2001:db8:5::10", 0xbeef);
	route(&p, &d, out);
	CU_ASSERT_EQUAL(lb_next_hop_probes(lb, !hashed), hashed ? 1 : 2);
	lb_clear_probe(lb, (unsigned)!hashed);
	mk(&p, PG_ICMPV6, "2001:db8:ff::77", "2001:db8:5::10", 0xbeef);
	CU_ASSERT_STRING_EQUAL(route(&p, &d, out), NH6[hashed]);
	lb_teardown();
}

/* ---- rise and fall over loopback sockets ---------------------------------- */

struct rec {
	unsigned n_steer, n_usable;
	struct {
		unsigned i, version;
		uint8_t proto;
		uint8_t src[16];
		uint16_t id;
	} steer[64];	/* the last 64 */
	struct {
		unsigned i;
		bool usable;
	} usable[16];
};

static void rec_steer(void *ctx, unsigned i, unsigned version, uint8_t proto, const uint8_t *src, uint16_t id)
{
	struct rec *r = ctx;
	unsigned k = r->n_steer++ % 64;

	r->steer[k].i = i;
	r->steer[k].version = version;
	r->steer[k].proto = proto;
	memcpy(r->steer[k].src, src, version == 4 ? 4 : 16);
	r->steer[k].id = id;
}

static void rec_usable(void *ctx, unsigned i, bool usable)
{
	struct rec *r = ctx;

	if (r->n_usable < 16) {
		r->usable[r->n_usable].i = i;
		r->usable[r->n_usable].usable = usable;
	}
	r->n_usable++;
}

/* A listening TCP socket on 127.0.0.1:port (0: any), non-blocking; -1 on
 * failure; *port the one it got. */
static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(*port) };
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		printf("\n  listener on port %u: %s", *port, strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Accept and close what the probes left in the queue. */
static void drain_accept(int lfd)
{
	int c;

	if (lfd < 0)
		return;
	while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}

struct clock {
	double t;
	int epfd, lfd;
};

/* One turn of a daemon's loop, on the test's clock. */
static void turn(struct clock *c, struct health **hs, unsigned n)
{
	struct epoll_event ev[8];

	for (unsigned k = 0; k < n; k++)
		health_run(hs[k], c->t);
	(void)epoll_wait(c->epfd, ev, 8, 50);
	for (unsigned k = 0; k < n; k++)
		health_io(hs[k], c->t);
	drain_accept(c->lfd);
	c->t += 0.11;
}

/* Turns until r has had want usable calls (at most max turns): the turns. */
static unsigned turns_until(struct clock *c, struct health *h, struct rec *r, unsigned want, unsigned max)
{
	unsigned k;

	for (k = 0; k < max && r->n_usable < want; k++)
		turn(c, &h, 1);
	return k;
}

#define HEALTH_FMT \
	"front = {\n" \
	"  services = [ \"127.0.0.1\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; %s },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; check = { kind = \"none\"; }; }\n" \
	"  );\n" \
	"  health = { kind = \"tcp\"; port = %u; %s rise = 2; fall = 2; };\n" \
	"  unmatched = \"hash\";\n" \
	"};\n"

#define TIMES "interval = 0.1; timeout = 0.1;"

static struct mslb_config *health_conf(const char *nh1, uint16_t port, const char *times)
{
	char text[2048];

	snprintf(text, sizeof(text), HEALTH_FMT, nh1, port, times);
	return load_ok(text);
}

/* What health logs: the last line and how many. */
static struct {
	unsigned n;
	int level;
	char last[256];
} logged;

static void log_capture(int level, const char *msg)
{
	logged.n++;
	logged.level = level;
	snprintf(logged.last, sizeof(logged.last), "%s", msg);
}

static void info_of(const struct health *h, unsigned i, struct health_info *out)
{
	memset(out, 0, sizeof(*out));
	health_get(h, i, out);
}

static void test_health_rise_fall(void)
{
	static struct rec r1, r2;
	struct health_ops ops1 = { .ctx = &r1, .steer = rec_steer, .usable = rec_usable };
	struct health_ops ops2 = { .ctx = &r2, .steer = rec_steer, .usable = rec_usable };
	struct mslb_config *c1 = NULL, *c2 = NULL;
	struct health *h = NULL, *h2 = NULL;
	struct health_info in, in2;
	struct clock c = { .t = 1000.0, .epfd = -1, .lfd = -1 };
	uint16_t port = 0;
	unsigned k, probes, failures;
	uint8_t lo[16];

	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&logged, 0, sizeof(logged));
	log_set_sink(log_capture);
	tl_addr("127.0.0.1", lo);
	c.lfd = listener(&port);
	CU_ASSERT_FATAL(c.lfd >= 0);
	c.epfd = epoll_create1(EPOLL_CLOEXEC);
	CU_ASSERT_FATAL(c.epfd >= 0);
	c1 = health_conf("", port, TIMES);
	if (!c1)
		goto out;
	CU_ASSERT_EQUAL(c1->front.next_hops[0].check.kind, HC_TCP);
	CU_ASSERT_EQUAL(c1->front.next_hops[0].check.port, port);
	CU_ASSERT_EQUAL(c1->front.next_hops[0].check.interval_ms, 100);
	CU_ASSERT_EQUAL(c1->front.next_hops[1].check.kind, HC_NONE);
	h = health_create(c1, &ops1, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT(health_next(h) > c.t && health_next(h) <= c.t + 0.2);
	info_of(h, 0, &in);
	CU_ASSERT_EQUAL(in.kind, HC_TCP);
	CU_ASSERT_TRUE(in.up && in.usable && !in.drain);
	CU_ASSERT_EQUAL(in.probes, 0);
	CU_ASSERT_EQUAL(in.last_at, 0);
	CU_ASSERT_TRUE(health_usable(h, 0));
	CU_ASSERT_TRUE(health_usable(h, 1));
	CU_ASSERT_FALSE(health_usable(h, 2));
	CU_ASSERT_STRING_EQUAL(config_check_kind_name(HC_TCP), "tcp");
	CU_ASSERT_STRING_EQUAL(config_check_kind_name(HC_NONE), "none");
	CU_ASSERT_STRING_EQUAL(config_check_kind_name(HC_ICMP), "icmp");
	CU_ASSERT_STRING_EQUAL(config_check_kind_name(HC_HTTP), "http");

	/* Up: every probe ok, steered from 127.0.0.1 and a port of its own. */
	for (k = 0; k < 40; k++) {
		turn(&c, &h, 1);
		info_of(h, 0, &in);
		if (in.probes >= 4)
			break;
	}
	CU_ASSERT_EQUAL(in.probes, 4);
	CU_ASSERT_EQUAL(in.failures, 0);
	CU_ASSERT_EQUAL(in.in_a_row, 4);
	CU_ASSERT_STRING_EQUAL(in.last, "ok");
	CU_ASSERT_TRUE(in.up && in.usable);
	CU_ASSERT(in.last_at > 1000.0 && in.last_at <= c.t);
	CU_ASSERT(in.latency >= 0 && in.latency < 0.2);
	CU_ASSERT_EQUAL(r1.n_usable, 0);
	CU_ASSERT(r1.n_steer >= 4 && r1.n_steer <= 5);
	for (unsigned i = 0; i < r1.n_steer && i < 64; i++) {
		CU_ASSERT_EQUAL(r1.steer[i].i, 0);	/* b2 has no check */
		CU_ASSERT_EQUAL(r1.steer[i].version, 4);
		CU_ASSERT_EQUAL(r1.steer[i].proto, IPPROTO_TCP);
		CU_ASSERT_EQUAL(memcmp(r1.steer[i].src, lo, 4), 0);
		CU_ASSERT_NOT_EQUAL(r1.steer[i].id, 0);
		CU_ASSERT_NOT_EQUAL(r1.steer[i].id, port);
	}
	info_of(h, 1, &in);
	CU_ASSERT_EQUAL(in.kind, HC_NONE);
	CU_ASSERT_EQUAL(in.probes, 0);
	CU_ASSERT_EQUAL(logged.n, 0);

	/* The service stops: down after fall refusals, said once. */
	close(c.lfd);
	c.lfd = -1;
	k = turns_until(&c, h, &r1, 1, 40);
	CU_ASSERT(k >= 2 && k < 40);
	CU_ASSERT_EQUAL_FATAL(r1.n_usable, 1);
	CU_ASSERT_EQUAL(r1.usable[0].i, 0);
	CU_ASSERT_FALSE(r1.usable[0].usable);
	info_of(h, 0, &in);
	CU_ASSERT_FALSE(in.up);
	CU_ASSERT_FALSE(in.usable);
	CU_ASSERT_FALSE(in.drain);
	CU_ASSERT_STRING_EQUAL(in.last, "refused");
	CU_ASSERT_EQUAL(in.in_a_row, 2);	/* fall */
	CU_ASSERT_EQUAL(in.failures, 2);
	CU_ASSERT_EQUAL(in.since, in.last_at);
	CU_ASSERT_FALSE(health_usable(h, 0));
	CU_ASSERT_EQUAL(logged.n, 1);
	CU_ASSERT_EQUAL(logged.level, LOG_WARNING);
	CU_ASSERT_STRING_EQUAL(logged.last, "next hop b1: down (tcp check of 127.0.0.1: refused, 2 in a row)");
	for (k = 0; k < 5; k++)
		turn(&c, &h, 1);
	info_of(h, 0, &in);
	CU_ASSERT_EQUAL(r1.n_usable, 1);
	CU_ASSERT_EQUAL(logged.n, 1);	/* once per change */
	CU_ASSERT(in.in_a_row >= 5);
	CU_ASSERT_EQUAL(in.failures, in.in_a_row);
	CU_ASSERT_STRING_EQUAL(in.last, "refused");

	/* A reload now keeps it down, with its record. */
	c2 = health_conf("", port, TIMES);
	if (c2) {
		h2 = health_create(c2, &ops2, c.epfd, c.t);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
		health_migrate(h2, h);
		info_of(h2, 0, &in2);
		CU_ASSERT_FALSE(in2.up);
		CU_ASSERT_FALSE(in2.usable);
		CU_ASSERT_FALSE(health_usable(h2, 0));
		CU_ASSERT_EQUAL(in2.probes, in.probes);
		CU_ASSERT_EQUAL(in2.failures, in.failures);
		CU_ASSERT_EQUAL(in2.in_a_row, in.in_a_row);
		CU_ASSERT_EQUAL(in2.since, in.since);
		CU_ASSERT_STRING_EQUAL(in2.last, "refused");
		CU_ASSERT_EQUAL(r2.n_usable + r2.n_steer, 0);	/* migrate calls no ops */
		health_destroy(h2);
		h2 = NULL;
		config_free(c2);
		c2 = NULL;
	}

	/* The service is back: up after rise successes. */
	c.lfd = listener(&port);
	CU_ASSERT_FATAL(c.lfd >= 0);
	k = turns_until(&c, h, &r1, 2, 40);
	CU_ASSERT(k >= 2 && k < 40);
	CU_ASSERT_EQUAL_FATAL(r1.n_usable, 2);
	CU_ASSERT_EQUAL(r1.usable[1].i, 0);
	CU_ASSERT_TRUE(r1.usable[1].usable);
	info_of(h, 0, &in);
	CU_ASSERT_TRUE(in.up && in.usable);
	CU_ASSERT_STRING_EQUAL(in.last, "ok");
	CU_ASSERT_EQUAL(in.in_a_row, 2);	/* rise */
	CU_ASSERT_TRUE(health_usable(h, 0));
	CU_ASSERT_EQUAL(logged.n, 2);
	CU_ASSERT_EQUAL(logged.level, LOG_INFO);
	CU_ASSERT_STRING_EQUAL(logged.last, "next hop b1: up (tcp check of 127.0.0.1: ok, 2 in a row)");

	/* Drain: not usable while up; said once. */
	CU_ASSERT_EQUAL(health_set_drain(h, "b1", true, c.t), 0);
	CU_ASSERT_EQUAL_FATAL(r1.n_usable, 3);
	CU_ASSERT_EQUAL(r1.usable[2].i, 0);
	CU_ASSERT_FALSE(r1.usable[2].usable);
	CU_ASSERT_FALSE(health_usable(h, 0));
	CU_ASSERT_EQUAL(logged.n, 3);
	CU_ASSERT_STRING_EQUAL(logged.last, "next hop b1: drained (no new flows)");
	CU_ASSERT_EQUAL(health_set_drain(h, "b1", true, c.t), 0);
	CU_ASSERT_EQUAL(r1.n_usable, 3);
	CU_ASSERT_EQUAL(logged.n, 3);
	CU_ASSERT_EQUAL(health_set_drain(h, "b9", true, c.t), -1);
	CU_ASSERT_EQUAL(health_set_drain(h, "", false, c.t), -1);
	CU_ASSERT_EQUAL(r1.n_usable, 3);
	info_of(h, 0, &in);
	CU_ASSERT_TRUE(in.up);
	CU_ASSERT_TRUE(in.drain);
	CU_ASSERT_FALSE(in.usable);
	CU_ASSERT_EQUAL(in.since, c.t);
	/* Probes go on while drained; the verdicts change nothing. */
	probes = (unsigned)in.probes;
	for (k = 0; k < 4; k++)
		turn(&c, &h, 1);
	info_of(h, 0, &in);
	CU_ASSERT(in.probes >= probes + 3);
	CU_ASSERT_EQUAL(r1.n_usable, 3);
	/* A next hop without a check drains too. */
	CU_ASSERT_EQUAL(health_set_drain(h, "b2", true, c.t), 0);
	CU_ASSERT_EQUAL_FATAL(r1.n_usable, 4);
	CU_ASSERT_EQUAL(r1.usable[3].i, 1);
	CU_ASSERT_FALSE(r1.usable[3].usable);
	CU_ASSERT_EQUAL(health_set_drain(h, "b2", false, c.t), 0);
	CU_ASSERT_EQUAL_FATAL(r1.n_usable, 5);
	CU_ASSERT_EQUAL(r1.usable[4].i, 1);
	CU_ASSERT_TRUE(r1.usable[4].usable);
	CU_ASSERT_TRUE(health_usable(h, 1));

	/* A reload of the same file keeps the drain and the record. */
	c2 = health_conf("", port, TIMES);
	if (!c2)
		goto out;
	h2 = health_create(c2, &ops2, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
	health_migrate(h2, h);
	CU_ASSERT_EQUAL(r2.n_usable + r2.n_steer, 0);
	info_of(h, 0, &in);
	info_of(h2, 0, &in2);
	CU_ASSERT_TRUE(in2.drain);
	CU_ASSERT_TRUE(in2.up);
	CU_ASSERT_FALSE(in2.usable);
	CU_ASSERT_FALSE(health_usable(h2, 0));
	CU_ASSERT_TRUE(health_usable(h2, 1));
	CU_ASSERT_EQUAL(in2.probes, in.probes);
	CU_ASSERT_EQUAL(in2.failures, in.failures);
	CU_ASSERT_EQUAL(in2.in_a_row, in.in_a_row);
	CU_ASSERT_EQUAL(in2.since, in.since);
	CU_ASSERT_STRING_EQUAL(in2.last, in.last);
	/* The old one goes; the new one probes on. */
	health_destroy(h);
	h = NULL;
	config_free(c1);
	c1 = c2;
	c2 = NULL;
	h = h2;
	h2 = NULL;
	probes = (unsigned)in2.probes;
	failures = (unsigned)in2.failures;
	for (k = 0; k < 4; k++)
		turn(&c, &h, 1);
	info_of(h, 0, &in);
	CU_ASSERT(in.probes >= probes + 3);
	CU_ASSERT_EQUAL(in.failures, failures);
	CU_ASSERT(r2.n_steer >= 3);
	CU_ASSERT_EQUAL(r2.n_usable, 0);
	CU_ASSERT_EQUAL(health_set_drain(h, "b1", false, c.t), 0);
	CU_ASSERT_EQUAL_FATAL(r2.n_usable, 1);
	CU_ASSERT_TRUE(r2.usable[0].usable);

	/* The file now says drain: it wins over the undrain. */
	memset(&r1, 0, sizeof(r1));
	c2 = health_conf("state = \"drain\";", port, TIMES);
	if (!c2)
		goto out;
	h2 = health_create(c2, &ops1, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
	health_migrate(h2, h);
	info_of(h, 0, &in);
	info_of(h2, 0, &in2);
	CU_ASSERT_TRUE(in2.drain);
	CU_ASSERT_FALSE(in2.usable);
	CU_ASSERT_EQUAL(in2.probes, in.probes);	/* the check is the same */
	health_destroy(h);
	config_free(c1);
	h = h2;
	c1 = c2;
	h2 = NULL;
	c2 = NULL;
	/* Undrained by hand, then the same file again: the hand's state stays. */
	CU_ASSERT_EQUAL(health_set_drain(h, "b1", false, c.t), 0);
	CU_ASSERT_EQUAL(r1.n_usable, 1);
	c2 = health_conf("state = \"drain\";", port, TIMES);
	if (!c2)
		goto out;
	h2 = health_create(c2, &ops1, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
	health_migrate(h2, h);
	info_of(h2, 0, &in2);
	CU_ASSERT_FALSE(in2.drain);
	CU_ASSERT_TRUE(in2.usable);
	health_destroy(h2);
	config_free(c2);
	h2 = NULL;
	c2 = NULL;
	/* The file says up again (drain taken out): undrained, whatever the hand did. */
	CU_ASSERT_EQUAL(health_set_drain(h, "b1", true, c.t), 0);
	c2 = health_conf("state = \"up\";", port, TIMES);
	if (!c2)
		goto out;
	h2 = health_create(c2, &ops1, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
	health_migrate(h2, h);
	info_of(h2, 0, &in2);
	CU_ASSERT_FALSE(in2.drain);
	CU_ASSERT_TRUE(in2.usable);
	health_destroy(h2);
	config_free(c2);
	h2 = NULL;
	c2 = NULL;
	/* Another check (an interval, a timeout, a port): its record starts
	 * over. */
	info_of(h, 0, &in);
	CU_ASSERT(in.probes > 0);
	for (k = 0; k < 3; k++) {
		static const char *const times[] = { "interval = 0.2; timeout = 0.1;", "interval = 0.1; timeout = 0.05;",
						     TIMES };

		c2 = health_conf("state = \"drain\";", k == 2 ? (uint16_t)(port ^ 1) : port, times[k]);
		if (!c2)
			goto out;
		h2 = health_create(c2, &ops1, c.epfd, c.t);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
		health_migrate(h2, h);
		info_of(h2, 0, &in2);
		CU_ASSERT_TRUE(in2.drain);	/* the file's state did not change */
		CU_ASSERT_TRUE(in2.up);
		CU_ASSERT_EQUAL(in2.probes, 0);
		CU_ASSERT_EQUAL(in2.in_a_row, 0);
		CU_ASSERT_EQUAL(in2.last_at, 0);
		health_destroy(h2);
		config_free(c2);
		h2 = NULL;
		c2 = NULL;
	}
out:
	health_destroy(h);
	health_destroy(h2);
	config_free(c1);
	config_free(c2);
	if (c.lfd >= 0)
		close(c.lfd);
	if (c.epfd >= 0)
		close(c.epfd);
	log_set_sink(NULL);
}

/* Two next hops probed at once, each steered on its own socket; a next
 * hop whose probe times out is down after fall timeouts. */
static void test_health_timeout(void)
{
	static struct rec r;
	struct health_ops ops = { .ctx = &r, .steer = rec_steer, .usable = rec_usable };
	struct mslb_config *cfg;
	struct health *h;
	struct health_info in;
	char text[2048];
	struct clock c = { .t = 50.0, .epfd = -1, .lfd = -1 };
	uint16_t port = 0;
	unsigned k;

	memset(&r, 0, sizeof(r));
	memset(&logged, 0, sizeof(logged));
	log_set_sink(log_capture);
	c.lfd = listener(&port);
	CU_ASSERT_FATAL(c.lfd >= 0);
	c.epfd = epoll_create1(EPOLL_CLOEXEC);
	CU_ASSERT_FATAL(c.epfd >= 0);
	/* No front.health: a check per next hop. Nothing on loopback drops
	 * a SYN, so the clock runs past the timeout before the answer is
	 * read. */
	snprintf(text, sizeof(text),
		 "front = {\n"
		 "  services = [ \"127.0.0.1\" ];\n"
		 "  next_hops = (\n"
		 "    { name = \"b1\"; ipv4 = \"198.51.100.11\"; check = { port = %u; interval = 0.5; timeout = 0.2; fall = 3; }; },\n"
		 "    { name = \"b2\"; ipv4 = \"198.51.100.12\"; check = { port = %u; interval = 0.5; timeout = 0.2; }; }\n"
		 "  );\n"
		 "  unmatched = \"hash\";\n"
		 "};\n",
		 port, port);
	cfg = load_ok(text);
	if (!cfg) {
		close(c.lfd);
		close(c.epfd);
		log_set_sink(NULL);
		return;
	}
	h = health_create(cfg, &ops, c.epfd, c.t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	/* Run the timers without reading the sockets: every probe times out. */
	for (k = 0; k < 60 && r.n_usable < 2; k++) {
		health_run(h, c.t);
		c.t += 0.1;
	}
	CU_ASSERT_EQUAL_FATAL(r.n_usable, 2);
	/* b2 (fall 2) goes first, b1 (fall 3) after. */
	CU_ASSERT_EQUAL(r.usable[0].i, 1);
	CU_ASSERT_EQUAL(r.usable[1].i, 0);
	CU_ASSERT_FALSE(r.usable[0].usable || r.usable[1].usable);
	info_of(h, 0, &in);
	CU_ASSERT_STRING_EQUAL(in.last, "timeout");
	CU_ASSERT_EQUAL(in.in_a_row, 3);
	CU_ASSERT_FALSE(in.up);
	info_of(h, 1, &in);
	CU_ASSERT_STRING_EQUAL(in.last, "timeout");
	CU_ASSERT(in.in_a_row >= 2);
	CU_ASSERT(in.latency >= 0.2 - 1e-9 && in.latency < 0.35);
	/* Both were steered, each probe from a port of its own. */
	CU_ASSERT(r.n_steer >= 5 && r.n_steer <= 64);
	for (unsigned i = 0, seen = 0; i < r.n_steer && i < 64; i++) {
		seen |= 1u << r.steer[i].i;
		CU_ASSERT_EQUAL(r.steer[i].proto, IPPROTO_TCP);
		CU_ASSERT(i == 0 || r.steer[i].id != r.steer[i - 1].id);
		if (i == r.n_steer - 1)
			CU_ASSERT_EQUAL(seen, 3);
	}
	/* Reading again: both come back. */
	for (k = 0; k < 60 && r.n_usable < 4; k++)
		turn(&c, &h, 1);
	CU_ASSERT_EQUAL(r.n_usable, 4);
	CU_ASSERT_TRUE(health_usable(h, 0));
	CU_ASSERT_TRUE(health_usable(h, 1));
	CU_ASSERT_EQUAL(logged.n, 4);
	health_destroy(h);
	config_free(cfg);
	close(c.lfd);
	close(c.epfd);
	log_set_sink(NULL);
}

static int init(void)
{
	pg_seed(&rng, 4711);
	return 0;
}

void suite_health(void)
{
	CU_pSuite s = CU_add_suite("health", init, NULL);

	UNIT_ADD(s, test_http_status);
	UNIT_ADD(s, test_http_request);
	UNIT_ADD(s, test_echo_reply);
	UNIT_ADD(s, test_config_none);
	UNIT_ADD(s, test_config_defaults);
	UNIT_ADD(s, test_config_next_hop);
	UNIT_ADD(s, test_config_errors);
	UNIT_ADD(s, test_lb_hash_usable);
	UNIT_ADD(s, test_lb_backup);
	UNIT_ADD(s, test_lb_probe);
	UNIT_ADD(s, test_lb_reload_keeps_usable);
	UNIT_ADD(s, test_health_rise_fall);
	UNIT_ADD(s, test_health_timeout);
}
