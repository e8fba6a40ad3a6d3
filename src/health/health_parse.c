/* health_parse: build the request, read the status line and the echo
 * reply. A server may send anything; only "HTTP/1.0" or "HTTP/1.1", a
 * space and three digits count, and the line must end within
 * HC_HTTP_LINE_MAX bytes. */
#include "health_parse.h"

#include <stdio.h>
#include <string.h>

int hc_http_status(const char *buf, size_t len, int eof)
{
	static const char proto[] = "HTTP/1.";
	size_t end, n = len < HC_HTTP_LINE_MAX ? len : HC_HTTP_LINE_MAX;
	int code;

	/* Bytes known to be wrong need no line end to be refused. */
	for (size_t i = 0; i < n && i < sizeof(proto) - 1; i++)
		if (buf[i] != proto[i])
			return -1;
	for (end = 0; end < n && buf[end] != '\n'; end++)
		;
	if (end == n) {
		if (len >= HC_HTTP_LINE_MAX || eof)
			return -1;
		return 0;
	}
	/* "HTTP/1.x NNN" and then a space (a reason follows) or the end. */
	if (end < 12 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return -1;
	code = 0;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		code = code * 10 + (buf[i] - '0');
	}
	if (code < 100 || code > 599)
		return -1;
	if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -1;
	return code;
}

int hc_http_request(char *out, size_t n, const char *path, const char *host)
{
	int r = snprintf(out, n,
			 "GET %s HTTP/1.0\r\n"
			 "Host: %s\r\n"
			 "User-Agent: mslbd-health\r\n"
			 "Connection: close\r\n"
			 "\r\n",
			 path, host);

	return r < 0 || (size_t)r >= n ? -1 : r;
}

bool hc_echo_reply(const uint8_t *buf, size_t len, bool v4, uint16_t id, uint16_t seq)
{
	size_t off = 0;

	if (v4) {
		/* The kernel hands a whole datagram: header length as it says. */
		if (len < 20 || buf[0] >> 4 != 4)
			return false;
		off = (size_t)(buf[0] & 0x0f) * 4;
		if (off < 20)
			return false;
	}
	if (len < off + 8)
		return false;
	buf += off;
	return buf[0] == (v4 ? 0 : 129) && buf[1] == 0 && (uint16_t)(buf[4] << 8 | buf[5]) == id &&
	       (uint16_t)(buf[6] << 8 | buf[7]) == seq;
}
