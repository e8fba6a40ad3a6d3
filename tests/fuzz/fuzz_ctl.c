/* fuzz_ctl: the control socket's request parser (ctl_parse_request) on any
 * bytes, at every length a read may have delivered so far. Asserts that
 * the verdict agrees with the bytes: a request only from a line that is
 * one of the three after blanks are taken off, INCOMPLETE only without a
 * newline in fewer than CTL_REQUEST_MAX bytes, and every error one short
 * printable line for the reply. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ctl/ctl_proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* A port as the protocol takes it: 1-5 digits, 1-65535. */
static bool ref_port(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 5 || strspn(s, "0123456789") != n)
		return false;
	return atoi(s) >= 1 && atoi(s) <= 65535;
}

/* w[0..4] = tcp|udp CLIENT CPORT SERVICE SPORT, one family (inet_pton). */
static bool ref_flow(char **w)
{
	unsigned char b[16];
	int f1 = inet_pton(AF_INET, w[1], b) == 1 ? 4 : inet_pton(AF_INET6, w[1], b) == 1 ? 6 : 0;
	int f2 = inet_pton(AF_INET, w[3], b) == 1 ? 4 : inet_pton(AF_INET6, w[3], b) == 1 ? 6 : 0;

	return (!strcmp(w[0], "tcp") || !strcmp(w[0], "udp")) && f1 && f1 == f2 && ref_port(w[2]) &&
	       ref_port(w[4]);
}

static bool ref_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 31 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* "redirect add PEER FLOW" or "redirect del FLOW" in the words of w
 * (one space between words). */
static int ref_redirect(char *w)
{
	char *word[10];
	int k = 0;

	for (char *t = strtok(w, " "); t && k < 10; t = strtok(NULL, " "))
		word[k++] = t;
	if (k < 2 || strcmp(word[0], "redirect"))
		return -1;
	for (int i = 0; i < k; i++)
		if (strlen(word[i]) >= 64)
			return -1;
	if (k == 8 && !strcmp(word[1], "add") && ref_name(word[2]) && ref_flow(word + 3))
		return CTL_REQ_REDIRECT_ADD;
	if (k == 7 && !strcmp(word[1], "del") && ref_flow(word + 2))
		return CTL_REQ_REDIRECT_DEL;
	return -1;
}

/* The line's words, blanks and a trailing "\r" taken off, as the
 * protocol defines them; -1 when it is none of the requests. */
static int reference(const char *line, size_t n)
{
	char w[CTL_REQUEST_MAX + 1];
	size_t k = 0;

	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	/* Collapse blank runs to one space, drop leading blanks. */
	for (size_t i = 0; i < n; i++) {
		bool blank = line[i] == ' ' || line[i] == '\t';

		if (blank && (k == 0 || w[k - 1] == ' '))
			continue;
		w[k++] = blank ? ' ' : line[i];
	}
	w[k] = '\0';
	if (!strcmp(w, "status"))
		return CTL_REQ_STATUS;
	if (!strcmp(w, "status json"))
		return CTL_REQ_STATUS_JSON;
	if (!strcmp(w, "reload"))
		return CTL_REQ_RELOAD;
	return ref_redirect(w);
}

static void check_why(const struct ctl_req *req)
{
	size_t n = strnlen(req->why, sizeof(req->why));

	FUZZ_CHECK(n > 0 && n < sizeof(req->why), "an error without its reason");
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)req->why[i] >= 0x20 && (unsigned char)req->why[i] < 0x7f,
			   "reason byte 0x%02x at %zu is not printable", (unsigned char)req->why[i], i);
}

static void one(const char *buf, size_t len, bool eof)
{
	struct ctl_req req;
	enum ctl_parse r = ctl_parse_request(len ? buf : NULL, len, eof, &req);
	size_t seen = len < CTL_REQUEST_MAX ? len : CTL_REQUEST_MAX;
	const char *nl = seen ? memchr(buf, '\n', seen) : NULL;
	size_t n = nl ? (size_t)(nl - buf) : seen;

	switch (r) {
	case CTL_PARSE_INCOMPLETE:
		FUZZ_CHECK(!nl && !eof && len < CTL_REQUEST_MAX, "INCOMPLETE with a whole line");
		return;
	case CTL_PARSE_TOO_LONG:
		FUZZ_CHECK(!nl && seen == CTL_REQUEST_MAX, "TOO_LONG for a line that ends in time");
		check_why(&req);
		return;
	case CTL_PARSE_OK:
		FUZZ_CHECK(nl || (eof && len <= CTL_REQUEST_MAX), "a request from a line not ended");
		FUZZ_CHECK(req.used == (nl ? n + 1 : n) && req.used <= len, "used %zu for a line of %zu", req.used, n);
		FUZZ_CHECK(reference(buf, n) == (int)req.kind, "kind %d, the line says %d", (int)req.kind,
			   reference(buf, n));
		return;
	case CTL_PARSE_BAD_BYTE:
		check_why(&req);
		FUZZ_CHECK(memchr(buf, 0, n) || reference(buf, n) < 0, "BAD_BYTE for a clean request");
		return;
	case CTL_PARSE_UNKNOWN:
		check_why(&req);
		FUZZ_CHECK(reference(buf, n) < 0, "UNKNOWN for \"%.*s\"", (int)n, buf);
		return;
	}
	fuzz_fail("result %d is none of the enum", (int)r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	/* Every prefix a read may have delivered, then the whole at EOF. */
	for (size_t len = 0; len <= size && len <= CTL_REQUEST_MAX + 1; len++)
		one(buf, len, false);
	one(buf, size, true);
	return 0;
}
