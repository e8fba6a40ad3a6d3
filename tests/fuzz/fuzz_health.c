/* fuzz_health: what a health check reads back from a server or the
 * network (health_parse), on any bytes. hc_http_status at every prefix
 * length a read may have delivered, without and with end of input, against
 * a reference written from the protocol: a code only from "HTTP/1.0 " or
 * "HTTP/1.1 ", three digits 100-599 and a space or the line end, ended by
 * a newline within HC_HTTP_LINE_MAX bytes; 0 ("read more") only while
 * such a line may still come; a verdict, once given, kept by every longer
 * prefix. hc_echo_reply for IPv4 (with the header a raw socket gives) and
 * IPv6, for the identifier and sequence of the input's first bytes and for
 * those the message itself carries. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "health/health_parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* ---- the status line ------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Byte i of a status line may be c: "HTTP/1.", 0 or 1, a space, three
 * digits (the first 1-5), then a space, a CR or the newline; anything
 * (but a newline, which ends it) after that. */
static bool fits(size_t i, char c)
{
	if (i < 7)
		return c == "HTTP/1."[i];
	if (i == 7)
		return c == '0' || c == '1';
	if (i == 8)
		return c == ' ';
	if (i == 9)
		return c >= '1' && c <= '5';
	if (i < 12)
		return is_digit(c);
	if (i == 12)
		return c == ' ' || c == '\r' || c == '\n';
	return c != '\n';
}

/* The status of the complete line buf[0, n) (its newline at n): the code,
 * or -1. */
static int ref_line(const char *buf, size_t n)
{
	if (n < 12)
		return -1;
	for (size_t i = 0; i < 12; i++)
		if (!fits(i, buf[i]))
			return -1;
	/* byte 12 is the newline itself when n == 12 */
	if (!fits(12, buf[12]))
		return -1;
	return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* buf[0, n), no newline in it, can still become a status line. */
static bool viable(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!fits(i, buf[i]) || buf[i] == '\n')
			return false;
	return true;
}

/* Bytes of "HTTP/1." that are wrong: no need to wait for more. */
static bool bad_proto(const char *buf, size_t n)
{
	for (size_t i = 0; i < n && i < 7; i++)
		if (buf[i] != "HTTP/1."[i])
			return true;
	return false;
}

static int http_one(const char *buf, size_t len, int eof)
{
	int r = hc_http_status(len ? buf : NULL, len, eof);
	size_t seen = len < HC_HTTP_LINE_MAX ? len : HC_HTTP_LINE_MAX;
	const char *nl = seen ? memchr(buf, '\n', seen) : NULL;

	FUZZ_CHECK(r == -1 || r == 0 || (r >= 100 && r <= 599), "status %d for %zu bytes", r, len);
	if (nl) {
		int want = ref_line(buf, (size_t)(nl - buf));

		FUZZ_CHECK(r == want, "status %d for a line of %zu bytes, the bytes say %d (eof %d)", r,
			   (size_t)(nl - buf), want, eof);
		return r;
	}
	/* No line end: never a code; refused when none can come. */
	FUZZ_CHECK(r <= 0, "status %d without a line end (%zu bytes)", r, len);
	if (eof || len >= HC_HTTP_LINE_MAX) {
		FUZZ_CHECK(r == -1, "status %d for %zu bytes without a line end (eof %d)", r, len, eof);
		return r;
	}
	if (viable(buf, len))
		FUZZ_CHECK(r == 0, "status %d for \"%.*s\", which may still become a status line", r, (int)len, buf);
	if (bad_proto(buf, len))
		FUZZ_CHECK(r == -1, "status %d for \"%.*s\", which is no HTTP/1.x", r, (int)len, buf);
	return r;
}

static void http(const char *buf, size_t size)
{
	size_t top = size < HC_HTTP_LINE_MAX + 8 ? size : HC_HTTP_LINE_MAX + 8;
	int prev = 0;

	for (size_t len = 0; len <= top; len++) {
		int r = http_one(buf, len, 0), e = http_one(buf, len, 1);

		/* A verdict stays; "read more" becomes a refusal at eof. */
		FUZZ_CHECK(prev == 0 || r == prev, "status %d at %zu bytes after %d at %zu", r, len, prev, len - 1);
		FUZZ_CHECK(e == (r ? r : -1), "status %d at eof, %d without it (%zu bytes)", e, r, len);
		prev = r;
	}
	if (size > top)
		FUZZ_CHECK(http_one(buf, size, 0) == prev && http_one(buf, size, 1) == (prev ? prev : -1),
			   "the verdict of %zu bytes changed at %zu", top, size);
}

/* ---- the echo reply -------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the ICMP message starts in buf[0, len) read from a raw socket,
 * or -1 when no message fits. */
static long ref_icmp_off(const uint8_t *buf, size_t len, bool v4)
{
	size_t off = 0;

	if (v4) {
		if (len < 20 || (buf[0] & 0xf0) != 0x40 || (buf[0] & 0x0f) < 5)
			return -1;
		off = (size_t)(buf[0] & 0x0f) * 4;
	}
	return len >= off + 8 ? (long)off : -1;
}

static bool ref_echo(const uint8_t *buf, size_t len, bool v4, uint16_t id, uint16_t seq)
{
	long off = ref_icmp_off(buf, len, v4);
	const uint8_t *m;

	if (off < 0)
		return false;
	m = buf + off;
	return m[0] == (v4 ? 0 : 129) && m[1] == 0 && get16(m + 4) == id && get16(m + 6) == seq;
}

static void echo_one(const uint8_t *buf, size_t len, bool v4, uint16_t id, uint16_t seq)
{
	/* A copy of its own size: ASan sees a read past what was given. */
	uint8_t *copy = malloc(len ? len : 1);
	bool r, want = ref_echo(buf, len, v4, id, seq);

	if (!copy)
		abort();
	if (len)
		memcpy(copy, buf, len);
	r = hc_echo_reply(len ? copy : NULL, len, v4, id, seq);
	free(copy);
	FUZZ_CHECK(r == want, "echo reply %d for %zu bytes (%s, id %u seq %u), the bytes say %d", r, len,
		   v4 ? "IPv4" : "IPv6", id, seq, want);
}

static void echo(const uint8_t *data, size_t size)
{
	const uint8_t *buf = data + 4;
	size_t n = size - 4;

	for (int v4 = 0; v4 < 2; v4++)
		for (size_t len = 0; len <= n && len <= 128; len++) {
			long off = ref_icmp_off(buf, len, v4);

			echo_one(buf, len, v4, get16(data), get16(data + 2));
			/* The identifier and sequence the message carries: only
			 * its type, code and header decide. */
			if (off >= 0)
				echo_one(buf, len, v4, get16(buf + off + 4), get16(buf + off + 6));
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	http((const char *)data, size);
	if (size >= 4)
		echo(data, size);
	return 0;
}
