/* health_parse: the bytes of health checks: the HTTP request sent and the
 * status line read back (RFC 9112 section 4), and the echo reply an ICMP
 * check waits for. Pure: no I/O, no allocation; the parsers take any
 * bytes. */
#ifndef MSLB_HEALTH_PARSE_H
#define MSLB_HEALTH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_HTTP_LINE_MAX 256	/* a status line longer than this is refused */

/* The status code of the status line at the start of buf[0, len): 100-599;
 * 0 when more bytes are needed (no line end yet, and len below
 * HC_HTTP_LINE_MAX); -1 when it is no status line ("HTTP/1.x NNN" then a
 * space or the line end). eof: no more bytes will come. */
int hc_http_status(const char *buf, size_t len, int eof);

/* "GET path HTTP/1.0" with Host, into out (size n). The length, or -1
 * when it does not fit. */
int hc_http_request(char *out, size_t n, const char *path, const char *host);

/* Whether buf[0, len) read from a raw ICMP socket is the echo reply to
 * (id, seq): with its IPv4 header when v4 (an IPv4 raw socket gives it),
 * else an ICMPv6 message as an IPv6 raw socket gives it. */
bool hc_echo_reply(const uint8_t *buf, size_t len, bool v4, uint16_t id, uint16_t seq);

#endif
