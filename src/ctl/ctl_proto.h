/* ctl_proto: the control protocol's request line, parsed without I/O so
 * the daemon, the unit tests and a fuzz target share one parser. */
#ifndef MSLB_CTL_PROTO_H
#define MSLB_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "config/config.h"

/* The longest request line the daemon reads, its newline included. The
 * longest valid one is a "redirect add" with two IPv6 addresses (about
 * 140 bytes); the rest is slack for blanks. */
#define CTL_REQUEST_MAX 256

enum ctl_req_kind {
	CTL_REQ_STATUS,
	CTL_REQ_STATUS_JSON,
	CTL_REQ_RELOAD,
	CTL_REQ_REDIRECT_ADD,	/* redirect add PEER tcp|udp CLIENT CPORT SERVICE SPORT */
	CTL_REQ_REDIRECT_DEL,	/* redirect del tcp|udp CLIENT CPORT SERVICE SPORT */
	CTL_REQ_DRAIN,		/* drain NAME: next hop NAME takes no new flows */
	CTL_REQ_UNDRAIN,	/* undrain NAME */
};

/* A flow named on the command line, in the client's direction. */
struct ctl_flow {
	char peer[MSLB_NAME_MAX];	/* add only */
	uint8_t proto;			/* 6 or 17 */
	struct mslb_addr client, service;	/* one family */
	uint16_t cport, sport;
};

enum ctl_parse {
	CTL_PARSE_OK,
	CTL_PARSE_INCOMPLETE,	/* no newline yet: read more */
	CTL_PARSE_TOO_LONG,	/* no newline within CTL_REQUEST_MAX bytes */
	CTL_PARSE_BAD_BYTE,	/* a NUL or another control character */
	CTL_PARSE_UNKNOWN,	/* a clean line that is no request (or empty) */
};

struct ctl_req {
	enum ctl_req_kind kind;	/* valid for CTL_PARSE_OK */
	struct ctl_flow flow;	/* the redirect requests' */
	char name[MSLB_NAME_MAX];	/* drain, undrain: a next hop's */
	size_t used;		/* bytes of the line, newline included */
	char why[192];		/* the error for the reply: one line, printable */
};

/* Parse the request line at the start of buf[0, len): bytes up to the
 * first "\n", or all of them when eof says no more will come. Words are
 * separated by blanks (space, tab); blanks and a "\r" at either end are
 * ignored; bytes after the newline are ignored (one request per
 * connection). Pure and bounded: reads at most CTL_REQUEST_MAX bytes of
 * buf, allocates nothing, takes any bytes (buf may be NULL when len is 0).
 * Fills req->why on every result other than OK and INCOMPLETE. */
enum ctl_parse ctl_parse_request(const char *buf, size_t len, bool eof, struct ctl_req *req);

#endif
