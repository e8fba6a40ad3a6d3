/* ctl_proto: parse one control request line. */
#include "ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

#define MAX_WORDS 9
#define WORD_MAX 64

/* Split s[0, n) at blanks into at most MAX_WORDS words of less than
 * WORD_MAX bytes; -1 when there are more or longer ones. */
static int split(const char *s, size_t n, char w[MAX_WORDS][WORD_MAX])
{
	int k = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (is_blank(s[i])) {
			i++;
			continue;
		}
		while (j < n && !is_blank(s[j]))
			j++;
		if (k == MAX_WORDS || j - i >= WORD_MAX)
			return -1;
		memcpy(w[k], s + i, j - i);
		w[k++][j - i] = '\0';
		i = j;
	}
	return k;
}

/* A peer's name as mslb.conf allows it: 1-31 of A-Z a-z 0-9 _ . - */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= MSLB_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static bool port_of(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "tcp|udp CLIENT CPORT SERVICE SPORT" from w; why filled on error. */
static bool parse_flow(char w[][WORD_MAX], struct ctl_flow *f, char *why, size_t whylen)
{
	if (!strcmp(w[0], "tcp"))
		f->proto = 6;
	else if (!strcmp(w[0], "udp"))
		f->proto = 17;
	else {
		snprintf(why, whylen, "redirect: protocol must be tcp or udp");
		return false;
	}
	if (mslb_addr_parse(w[1], &f->client) < 0 || mslb_addr_parse(w[3], &f->service) < 0 ||
	    f->client.family != f->service.family) {
		snprintf(why, whylen, "redirect: CLIENT and SERVICE must be addresses of one family");
		return false;
	}
	if (!port_of(w[2], &f->cport) || !port_of(w[4], &f->sport)) {
		snprintf(why, whylen, "redirect: ports must be 1-65535");
		return false;
	}
	return true;
}

/* "redirect add|del ...": 1 parsed, 0 not a redirect request, -1 a
 * redirect request with an error in req->why. */
static int parse_redirect(const char *s, size_t n, struct ctl_req *req)
{
	char w[MAX_WORDS][WORD_MAX];
	int k = split(s, n, w);

	if (k < 2 || strcmp(w[0], "redirect"))
		return 0;
	memset(&req->flow, 0, sizeof(req->flow));
	if (!strcmp(w[1], "add") && k == 8) {
		if (!name_ok(w[2])) {
			snprintf(req->why, sizeof(req->why), "redirect add: PEER must be a peer's name");
			return -1;
		}
		strcpy(req->flow.peer, w[2]);
		req->kind = CTL_REQ_REDIRECT_ADD;
		return parse_flow(w + 3, &req->flow, req->why, sizeof(req->why)) ? 1 : -1;
	}
	if (!strcmp(w[1], "del") && k == 7) {
		req->kind = CTL_REQ_REDIRECT_DEL;
		return parse_flow(w + 2, &req->flow, req->why, sizeof(req->why)) ? 1 : -1;
	}
	snprintf(req->why, sizeof(req->why),
		 "usage: redirect add PEER tcp|udp CLIENT CPORT SERVICE SPORT, redirect del tcp|udp CLIENT CPORT SERVICE SPORT");
	return -1;
}

/* drain NAME, undrain NAME: 1, 0 when it is neither, -1 with why. */
static int parse_drain(const char *s, size_t n, struct ctl_req *req)
{
	char w[MAX_WORDS][WORD_MAX];
	int k = split(s, n, w);
	bool drain;

	if (k < 1 || (strcmp(w[0], "drain") && strcmp(w[0], "undrain")))
		return 0;
	drain = !strcmp(w[0], "drain");
	if (k != 2 || !name_ok(w[1])) {
		snprintf(req->why, sizeof(req->why), "usage: %s NAME (a next hop's name)", w[0]);
		return -1;
	}
	req->kind = drain ? CTL_REQ_DRAIN : CTL_REQ_UNDRAIN;
	strcpy(req->name, w[1]);
	return 1;
}

enum ctl_parse ctl_parse_request(const char *buf, size_t len, bool eof, struct ctl_req *req)
{
	static const char *const w_status[] = { "status", NULL };
	static const char *const w_json[] = { "status", "json", NULL };
	static const char *const w_reload[] = { "reload", NULL };
	const char *nl;
	size_t n, lo, hi;
	char q[64];
	int rd;

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
		snprintf(req->why, sizeof(req->why), "empty request (allowed: status, status json, reload, redirect, drain, undrain)");
		return CTL_PARSE_UNKNOWN;
	}
	if (words_are(buf + lo, hi - lo, w_status))
		req->kind = CTL_REQ_STATUS;
	else if (words_are(buf + lo, hi - lo, w_json))
		req->kind = CTL_REQ_STATUS_JSON;
	else if (words_are(buf + lo, hi - lo, w_reload))
		req->kind = CTL_REQ_RELOAD;
	else if ((rd = parse_redirect(buf + lo, hi - lo, req)) < 0)
		return CTL_PARSE_UNKNOWN;
	else if (!rd && (rd = parse_drain(buf + lo, hi - lo, req)) < 0)
		return CTL_PARSE_UNKNOWN;
	else if (!rd) {
		quote(q, sizeof(q), buf + lo, hi - lo);
		snprintf(req->why, sizeof(req->why),
			 "unknown request \"%s\" (allowed: status, status json, reload, redirect, drain, undrain)", q);
		return CTL_PARSE_UNKNOWN;
	}
	return CTL_PARSE_OK;
}
