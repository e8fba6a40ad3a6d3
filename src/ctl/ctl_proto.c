/* ctl_proto: parse one control request line. */
#include "ctl_proto.h"

#include <stdio.h>
#include <string.h>

/* Words are separated by spaces and tabs; a "\r" is only allowed at the
 * end, where a CRLF line ending leaves it. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The line as the reply may quote it: printable ASCII, the rest as '?',
 * cut short so the message stays one short line whatever was sent. */
static void quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

/* Does the blank-separated word list s[0, n) equal want's? */
static bool words_are(const char *s, size_t n, const char *const *want)
{
	size_t i = 0;

	for (; *want; want++) {
		size_t wl = strlen(*want);

		while (i < n && is_blank(s[i]))
			i++;
		if (n - i < wl || memcmp(s + i, *want, wl) || (i + wl < n && !is_blank(s[i + wl])))
			return false;
		i += wl;
	}
	while (i < n && is_blank(s[i]))
		i++;
	return i == n;
}

enum ctl_parse ctl_parse_request(const char *buf, size_t len, bool eof, struct ctl_req *req)
{
	static const char *const w_status[] = { "status", NULL };
	static const char *const w_json[] = { "status", "json", NULL };
	static const char *const w_reload[] = { "reload", NULL };
	const char *nl;
	size_t n, lo, hi;
	char q[64];

	req->kind = CTL_REQ_STATUS;
	req->used = 0;
	req->why[0] = '\0';
	/* Only the first CTL_REQUEST_MAX bytes count: a line that has not
	 * ended there is too long, whatever follows. */
	if (len > CTL_REQUEST_MAX) {
		len = CTL_REQUEST_MAX;
		eof = false;
	}
	nl = len ? memchr(buf, '\n', len) : NULL;
	if (!nl && !eof) {
		if (len < CTL_REQUEST_MAX)
			return CTL_PARSE_INCOMPLETE;
		snprintf(req->why, sizeof(req->why), "request too long (at most %d bytes with its newline)",
			 CTL_REQUEST_MAX);
		return CTL_PARSE_TOO_LONG;
	}
	n = nl ? (size_t)(nl - buf) : len;
	req->used = nl ? n + 1 : n;
	lo = 0;
	hi = n;
	while (hi > 0 && (is_blank(buf[hi - 1]) || buf[hi - 1] == '\r'))
		hi--;
	for (size_t i = 0; i < hi; i++) {
		unsigned char c = (unsigned char)buf[i];

		/* A NUL would cut the line short for any C-string code behind
		 * us; other control bytes have no business in a request. */
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(req->why, sizeof(req->why), "request contains control byte 0x%02x at offset %zu",
				 c, i);
			return CTL_PARSE_BAD_BYTE;
		}
	}
	while (lo < hi && is_blank(buf[lo]))
		lo++;
	/* Before any buf + lo: buf may be NULL for an empty read. */
	if (lo == hi) {
		snprintf(req->why, sizeof(req->why), "empty request (allowed: status, status json, reload)");
		return CTL_PARSE_UNKNOWN;
	}
	if (words_are(buf + lo, hi - lo, w_status))
		req->kind = CTL_REQ_STATUS;
	else if (words_are(buf + lo, hi - lo, w_json))
		req->kind = CTL_REQ_STATUS_JSON;
	else if (words_are(buf + lo, hi - lo, w_reload))
		req->kind = CTL_REQ_RELOAD;
	else {
		quote(q, sizeof(q), buf + lo, hi - lo);
		snprintf(req->why, sizeof(req->why),
			 "unknown request \"%s\" (allowed: status, status json, reload)", q);
		return CTL_PARSE_UNKNOWN;
	}
	return CTL_PARSE_OK;
}
