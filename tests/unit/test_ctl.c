/* ctl: the control request parser. It reads bytes from any local peer of
 * the socket, so every odd input must end in a clear verdict: a request,
 * "read more", or an error line the reply can carry. */
#include <sys/socket.h>
#include <string.h>

#include "unit.h"
#include "base/ratelimit.h"
#include "ctl/ctl_proto.h"

/* Parse a literal (its sizeof, so embedded NULs count) without eof. */
#define PARSE(lit, req) ctl_parse_request((lit), sizeof(lit) - 1, false, (req))

/* The reply carries req.why as one line: no newline, only printable bytes. */
static void assert_why_is_one_line(const struct ctl_req *req)
{
	CU_ASSERT(req->why[0] != '\0');
	for (const char *p = req->why; *p; p++)
		CU_ASSERT(*p >= 0x20 && *p < 0x7f);
}

static void test_ctl_parse_requests(void)
{
	struct ctl_req req;

	CU_ASSERT_EQUAL(PARSE("status\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_STATUS);
	CU_ASSERT_EQUAL(req.used, 7);
	CU_ASSERT_EQUAL(PARSE("status json\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_STATUS_JSON);
	CU_ASSERT_EQUAL(PARSE("reload\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_RELOAD);
	/* One request per connection: what follows the line is ignored. */
	CU_ASSERT_EQUAL(PARSE("reload\nstatus\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_RELOAD);
	CU_ASSERT_EQUAL(req.used, 7);
}

/* redirect add|del: every field parsed, every mistake its own reason. */
static void test_ctl_parse_redirect(void)
{
	struct ctl_req req;
	char a[MSLB_ADDRSTRLEN];

	CU_ASSERT_EQUAL(PARSE("redirect add b2 tcp 192.0.2.5 40000 203.0.113.80 80\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_REDIRECT_ADD);
	CU_ASSERT_STRING_EQUAL(req.flow.peer, "b2");
	CU_ASSERT_EQUAL(req.flow.proto, 6);
	CU_ASSERT_STRING_EQUAL(mslb_addr_str(&req.flow.client, a, sizeof(a)), "192.0.2.5");
	CU_ASSERT_STRING_EQUAL(mslb_addr_str(&req.flow.service, a, sizeof(a)), "203.0.113.80");
	CU_ASSERT_EQUAL(req.flow.cport, 40000);
	CU_ASSERT_EQUAL(req.flow.sport, 80);
	CU_ASSERT_EQUAL(PARSE(" redirect\tdel udp 2001:db8::5 5353 2001:db8::80 53\r\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_REDIRECT_DEL);
	CU_ASSERT_EQUAL(req.flow.proto, 17);
	CU_ASSERT_EQUAL(req.flow.client.family, AF_INET6);
	CU_ASSERT_EQUAL(req.flow.sport, 53);

	CU_ASSERT_EQUAL(PARSE("redirect add b2 icmp 192.0.2.5 1 203.0.113.80 80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "tcp or udp"));
	CU_ASSERT_EQUAL(PARSE("redirect add b2 tcp 192.0.2.5 1 2001:db8::80 80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "one family"));
	CU_ASSERT_EQUAL(PARSE("redirect add b2 tcp 192.0.2.5 0 203.0.113.80 80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "1-65535"));
	CU_ASSERT_EQUAL(PARSE("redirect add b2 tcp 192.0.2.5 65536 203.0.113.80 80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(PARSE("redirect add b/2 tcp 192.0.2.5 1 203.0.113.80 80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "PEER"));
	CU_ASSERT_EQUAL(PARSE("redirect add b2 tcp 192.0.2.5 1 203.0.113.80\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "usage"));
	assert_why_is_one_line(&req);
	CU_ASSERT_EQUAL(PARSE("redirect\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "unknown request"));
}

/* drain NAME, undrain NAME: a next hop's name as mslb.conf allows it. */
static void test_ctl_parse_drain(void)
{
	static const char *const bad[] = {
		"drain\n", "drain  \t\r\n", "drain b1 b2\n", "drain b/1\n", "drain b1!\n", "drain \"b1\"\n",
		"drain b\xc3\xa4\n", "drain 0123456789012345678901234567890X\n", "undrain\n", "undrain b1 now\n",
		"undrain *\n",
	};
	struct ctl_req req;

	CU_ASSERT_EQUAL(PARSE("drain b1\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_DRAIN);
	CU_ASSERT_STRING_EQUAL(req.name, "b1");
	CU_ASSERT_EQUAL(req.used, 9);
	CU_ASSERT_EQUAL(PARSE(" undrain\tx-1.y_2 \r\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_UNDRAIN);
	CU_ASSERT_STRING_EQUAL(req.name, "x-1.y_2");
	/* 31 characters, the longest name; any name, even a word of the protocol */
	CU_ASSERT_EQUAL(PARSE("drain 0123456789012345678901234567890\n", &req), CTL_PARSE_OK);
	CU_ASSERT_STRING_EQUAL(req.name, "0123456789012345678901234567890");
	CU_ASSERT_EQUAL(PARSE("undrain drain\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_UNDRAIN);
	CU_ASSERT_STRING_EQUAL(req.name, "drain");
	CU_ASSERT_EQUAL(PARSE("drain redirect\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_DRAIN);
	CU_ASSERT_STRING_EQUAL(req.name, "redirect");
	/* Without a newline: more to read, or the end of the line at eof. */
	CU_ASSERT_EQUAL(PARSE("drain b1", &req), CTL_PARSE_INCOMPLETE);
	CU_ASSERT_EQUAL(ctl_parse_request("drain b1", 8, true, &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_DRAIN);
	CU_ASSERT_STRING_EQUAL(req.name, "b1");
	CU_ASSERT_EQUAL(req.used, 8);

	/* Anything else after drain or undrain: the usage. */
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool un = !strncmp(bad[i], "undrain", 7);

		CU_ASSERT_EQUAL(ctl_parse_request(bad[i], strlen(bad[i]), false, &req), CTL_PARSE_UNKNOWN);
		CU_ASSERT_STRING_EQUAL(req.why, un ? "usage: undrain NAME (a next hop's name)"
						   : "usage: drain NAME (a next hop's name)");
		assert_why_is_one_line(&req);
	}
	CU_ASSERT_EQUAL(ctl_parse_request("drain", 5, true, &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(req.why, "usage: drain NAME (a next hop's name)");
	/* Not the word drain: an unknown request. */
	CU_ASSERT_EQUAL(PARSE("DRAIN b1\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(req.why,
			       "unknown request \"DRAIN b1\" (allowed: status, status json, reload, redirect, drain, undrain)");
	CU_ASSERT_EQUAL(PARSE("drainb1\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "unknown request \"drainb1\""));
	CU_ASSERT_EQUAL(PARSE("redirect drain b1\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "usage: redirect add"));
	/* A control byte is that, whatever the words. */
	CU_ASSERT_EQUAL(PARSE("drain b\x01\n", &req), CTL_PARSE_BAD_BYTE);
	CU_ASSERT_EQUAL(PARSE("drain b1\0\n", &req), CTL_PARSE_BAD_BYTE);
}

/* CRLF from a terminal or socat, blanks around and between the words. */
static void test_ctl_parse_blanks(void)
{
	struct ctl_req req;

	CU_ASSERT_EQUAL(PARSE("status\r\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_STATUS);
	CU_ASSERT_EQUAL(PARSE("status  \t \r\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(PARSE("  reload\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_RELOAD);
	CU_ASSERT_EQUAL(PARSE("status \t json \r\n", &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_STATUS_JSON);
	/* A "\r" is a line ending only at the end. */
	CU_ASSERT_EQUAL(PARSE("status\rjson\n", &req), CTL_PARSE_BAD_BYTE);
	assert_why_is_one_line(&req);
}

static void test_ctl_parse_incomplete(void)
{
	struct ctl_req req;

	CU_ASSERT_EQUAL(ctl_parse_request(NULL, 0, false, &req), CTL_PARSE_INCOMPLETE);
	CU_ASSERT_EQUAL(PARSE("stat", &req), CTL_PARSE_INCOMPLETE);
	CU_ASSERT_EQUAL(PARSE("status", &req), CTL_PARSE_INCOMPLETE);
	/* Without a newline, end of input ends the line. */
	CU_ASSERT_EQUAL(ctl_parse_request("status", 6, true, &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.kind, CTL_REQ_STATUS);
	CU_ASSERT_EQUAL(req.used, 6);
	CU_ASSERT_EQUAL(ctl_parse_request("stat", 4, true, &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(ctl_parse_request(NULL, 0, true, &req), CTL_PARSE_UNKNOWN);
	assert_why_is_one_line(&req);
}

static void test_ctl_parse_bad_bytes(void)
{
	struct ctl_req req;

	/* A NUL must not make "status\0junk" read as "status". */
	CU_ASSERT_EQUAL(PARSE("status\0junk\n", &req), CTL_PARSE_BAD_BYTE);
	assert_why_is_one_line(&req);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "0x00"));
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "offset 6"));
	CU_ASSERT_EQUAL(PARSE("status\0\n", &req), CTL_PARSE_BAD_BYTE);
	CU_ASSERT_EQUAL(PARSE("\0status\n", &req), CTL_PARSE_BAD_BYTE);
	CU_ASSERT_EQUAL(PARSE("sta\x1btus\n", &req), CTL_PARSE_BAD_BYTE);
	CU_ASSERT_EQUAL(PARSE("status\x7f\n", &req), CTL_PARSE_BAD_BYTE);
	/* A NUL after the line is the next line's business: ignored. */
	CU_ASSERT_EQUAL(PARSE("status\n\0", &req), CTL_PARSE_OK);
}

static void test_ctl_parse_unknown(void)
{
	struct ctl_req req;

	CU_ASSERT_EQUAL(PARSE("\n", &req), CTL_PARSE_UNKNOWN);
	assert_why_is_one_line(&req);
	CU_ASSERT_STRING_EQUAL(req.why, "empty request (allowed: status, status json, reload, redirect, drain, undrain)");
	CU_ASSERT_EQUAL(PARSE("   \r\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(PARSE("STATUS\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(PARSE("statusjson\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(PARSE("status json json\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_EQUAL(PARSE("stop\n", &req), CTL_PARSE_UNKNOWN);
	assert_why_is_one_line(&req);
	CU_ASSERT_STRING_EQUAL(req.why,
			       "unknown request \"stop\" (allowed: status, status json, reload, redirect, drain, undrain)");
	/* Bytes above ASCII are quoted as '?', a long word cut short. */
	CU_ASSERT_EQUAL(PARSE("st\xc3\xa4tus\n", &req), CTL_PARSE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "\"st??tus\""));
	assert_why_is_one_line(&req);
}

static void test_ctl_parse_too_long(void)
{
	char buf[CTL_REQUEST_MAX * 2];
	struct ctl_req req;

	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "status", 6);
	/* The longest line: CTL_REQUEST_MAX bytes with its newline. */
	buf[CTL_REQUEST_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(ctl_parse_request(buf, CTL_REQUEST_MAX, false, &req), CTL_PARSE_OK);
	CU_ASSERT_EQUAL(req.used, CTL_REQUEST_MAX);
	/* One byte more and the line is too long, with or without the rest. */
	buf[CTL_REQUEST_MAX - 1] = ' ';
	buf[CTL_REQUEST_MAX] = '\n';
	CU_ASSERT_EQUAL(ctl_parse_request(buf, CTL_REQUEST_MAX - 1, false, &req), CTL_PARSE_INCOMPLETE);
	CU_ASSERT_EQUAL(ctl_parse_request(buf, CTL_REQUEST_MAX, false, &req), CTL_PARSE_TOO_LONG);
	assert_why_is_one_line(&req);
	CU_ASSERT_EQUAL(ctl_parse_request(buf, CTL_REQUEST_MAX + 1, false, &req), CTL_PARSE_TOO_LONG);
	CU_ASSERT_EQUAL(ctl_parse_request(buf, sizeof(buf), true, &req), CTL_PARSE_TOO_LONG);
	/* A long unknown word is quoted short: the reply stays one line. */
	memset(buf, 'x', CTL_REQUEST_MAX - 1);
	buf[CTL_REQUEST_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(ctl_parse_request(buf, CTL_REQUEST_MAX, false, &req), CTL_PARSE_UNKNOWN);
	assert_why_is_one_line(&req);
	CU_ASSERT_PTR_NOT_NULL(strstr(req.why, "...\""));
	CU_ASSERT(strlen(req.why) < sizeof(req.why) - 1);
}

/* The control socket logs refusals through a ratelimit: a burst per
 * interval, then a count of those held back. */
static void test_ctl_ratelimit(void)
{
	struct ratelimit rl = RATELIMIT_INIT(10.0, 3);
	unsigned held = 99;

	for (int i = 0; i < 3; i++) {
		CU_ASSERT(ratelimit_allow(&rl, 100.0 + i, &held));
		CU_ASSERT_EQUAL(held, 0);
	}
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_FALSE(ratelimit_allow(&rl, 103.0, NULL));
	/* Nothing to flush while the interval lasts. */
	CU_ASSERT_EQUAL(ratelimit_flush(&rl, 109.9), 0);
	/* The next interval's first line carries the count. */
	CU_ASSERT(ratelimit_allow(&rl, 110.0, &held));
	CU_ASSERT_EQUAL(held, 1000);
	CU_ASSERT(ratelimit_allow(&rl, 110.0, &held));
	CU_ASSERT_EQUAL(held, 0);
	CU_ASSERT(ratelimit_allow(&rl, 110.0, NULL));
	CU_ASSERT_FALSE(ratelimit_allow(&rl, 111.0, NULL));
	CU_ASSERT_FALSE(ratelimit_allow(&rl, 112.0, NULL));
	/* A flood that stopped is counted by the periodic flush, once, and
	 * the summary counts as a line of the new interval. */
	CU_ASSERT_EQUAL(ratelimit_flush(&rl, 125.0), 2);
	CU_ASSERT_EQUAL(ratelimit_flush(&rl, 140.0), 0);
	CU_ASSERT(ratelimit_allow(&rl, 140.0, &held));
	CU_ASSERT_EQUAL(held, 0);
	/* A clock stepped back opens a new interval instead of a long gag. */
	CU_ASSERT(ratelimit_allow(&rl, 140.0, NULL));
	CU_ASSERT(ratelimit_allow(&rl, 140.0, NULL));
	CU_ASSERT_FALSE(ratelimit_allow(&rl, 140.0, NULL));
	CU_ASSERT(ratelimit_allow(&rl, 50.0, &held));
	CU_ASSERT_EQUAL(held, 1);
}

void suite_ctl(void)
{
	CU_pSuite s = CU_add_suite("ctl", NULL, NULL);

	UNIT_ADD(s, test_ctl_parse_requests);
	UNIT_ADD(s, test_ctl_parse_redirect);
	UNIT_ADD(s, test_ctl_parse_drain);
	UNIT_ADD(s, test_ctl_parse_blanks);
	UNIT_ADD(s, test_ctl_parse_incomplete);
	UNIT_ADD(s, test_ctl_parse_bad_bytes);
	UNIT_ADD(s, test_ctl_parse_unknown);
	UNIT_ADD(s, test_ctl_parse_too_long);
	UNIT_ADD(s, test_ctl_ratelimit);
}
