/* fuzz_ctl: the control socket's request parser (ctl_parse_request) on any
 * bytes, at every length a read may have delivered so far. Asserts that
 * the verdict agrees with the bytes: a request only from a line that is
 * one of them (status, status json, reload, redirect add|del, drain NAME,
 * undrain NAME) after blanks are taken off, INCOMPLETE only without a
 * newline in fewer than CTL_REQUEST_MAX bytes, every error one short
 * printable line for the reply, and the reason the one the line calls
 * for (a usage line for a drain or undrain gone wrong, the list of
 * requests for an unknown or empty one). */
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

/* The words of w (one space between words) into word[], at most max;
 * how many, or -1 when there are more or one has 64 bytes or more (the
 * protocol's limits: no request has more than 8 words). */
static int ref_words(char *w, char **word, int max)
{
	int k = 0;

	for (char *t = strtok(w, " "); t; t = strtok(NULL, " ")) {
		if (k == max || strlen(t) >= 64)
			return -1;
		word[k++] = t;
	}
	return k;
}

/* "drain NAME" or "undrain NAME"; 0 when the line is neither, -1 when it
 * starts with one of them but is no such request (within the protocol's
 * limits on words, else 0 as for any unknown line). */
static int ref_drain(const char *line, char *name)
{
	char w[CTL_REQUEST_MAX + 1], *word[9];
	int k;

	strcpy(w, line);
	k = ref_words(w, word, 9);
	if (k < 1 || (strcmp(word[0], "drain") && strcmp(word[0], "undrain")))
		return 0;
	if (k != 2 || !ref_name(word[1]))
		return -1;
	if (name)
		strcpy(name, word[1]);
	return !strcmp(word[0], "drain") ? CTL_REQ_DRAIN : CTL_REQ_UNDRAIN;
}

/* The line's words as the protocol defines them: blanks and a trailing
 * "\r" taken off, blank runs one space, into w (CTL_REQUEST_MAX + 1). */
static void ref_line(const char *line, size_t n, char *w)
{
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
	if (k && w[k - 1] == ' ')
		k--;
	w[k] = '\0';
}

/* The request the line is, -1 when it is none; *name the next hop's
 * for drain and undrain. */
static int reference(const char *line, size_t n, char *name)
{
	char w[CTL_REQUEST_MAX + 1];
	int d;

	ref_line(line, n, w);
	if (!strcmp(w, "status"))
		return CTL_REQ_STATUS;
	if (!strcmp(w, "status json"))
		return CTL_REQ_STATUS_JSON;
	if (!strcmp(w, "reload"))
		return CTL_REQ_RELOAD;
	d = ref_drain(w, name);
	if (d > 0)
		return d;
	return ref_redirect(w);
}

/* The reason of an UNKNOWN line is the one its words call for. */
static void check_unknown_why(const struct ctl_req *req, const char *line, size_t n)
{
	static const char allowed[] = "(allowed: status, status json, reload, redirect, drain, undrain)";
	char w[CTL_REQUEST_MAX + 1], *word[9];
	size_t wl = strlen(req->why), al = sizeof(allowed) - 1;

	ref_line(line, n, w);
	if (!w[0]) {
		FUZZ_CHECK(!strcmp(req->why, "empty request (allowed: status, status json, reload, redirect, drain, "
					     "undrain)"),
			   "an empty line, and the reason is \"%s\"", req->why);
		return;
	}
	if (ref_drain(w, NULL) < 0) {
		ref_words(w, word, 9);
		FUZZ_CHECK(!strncmp(req->why, "usage: ", 7) && !strncmp(req->why + 7, word[0], strlen(word[0])) &&
				   !strcmp(req->why + 7 + strlen(word[0]), " NAME (a next hop's name)"),
			   "a bad %s, and the reason is \"%s\"", word[0], req->why);
		return;
	}
	if (!strncmp(req->why, "unknown request \"", 17))
		FUZZ_CHECK(wl > al && !strcmp(req->why + wl - al, allowed), "the reason \"%s\" lists no requests",
			   req->why);
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
	char name[CTL_REQUEST_MAX + 1] = "";

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
		FUZZ_CHECK(reference(buf, n, name) == (int)req.kind, "kind %d, the line says %d", (int)req.kind,
			   reference(buf, n, NULL));
		if (req.kind == CTL_REQ_DRAIN || req.kind == CTL_REQ_UNDRAIN)
			FUZZ_CHECK(!strcmp(req.name, name), "name \"%s\", the line says \"%s\"", req.name, name);
		return;
	case CTL_PARSE_BAD_BYTE:
		check_why(&req);
		FUZZ_CHECK(memchr(buf, 0, n) || reference(buf, n, NULL) < 0, "BAD_BYTE for a clean request");
		return;
	case CTL_PARSE_UNKNOWN:
		check_why(&req);
		FUZZ_CHECK(reference(buf, n, NULL) < 0, "UNKNOWN for \"%.*s\"", (int)n, buf);
		check_unknown_why(&req, buf, n);
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
