/* health_probe: one health probe on a kernel socket: a TCP connect, an HTTP
 * GET, or an ICMP echo, to a service address. The kernel routes it into
 * the front's TUN device, where the data path steers it (by the source
 * address and port or echo identifier this fills in) to the next hop under
 * test. Non-blocking: start, then events until a verdict. */
#ifndef MSLB_HEALTH_PROBE_H
#define MSLB_HEALTH_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "health_parse.h"
#include "config/config.h"

enum hp_verdict { HP_PENDING, HP_OK, HP_FAIL };

struct hc_probe {
	int fd;			/* -1: none */
	const struct cfg_check *k;
	unsigned version;	/* 4 or 6: the target's */
	uint8_t proto;		/* IPPROTO_TCP or the ICMP of the family */
	uint8_t src[16];	/* the source address the kernel chose */
	uint16_t id;		/* TCP source port, or echo identifier */
	uint16_t seq;
	bool connected;		/* TCP: the handshake is done */
	char req[384];		/* HTTP: the request, req_off of req_len sent */
	unsigned req_len, req_off;
	char in[HC_HTTP_LINE_MAX];
	unsigned in_len;
	char detail[80];	/* the verdict, for logs and status: "ok", "refused", ... */
};

/* Open, bind (src NULL: the kernel's choice of source) and send: a SYN,
 * or an echo request with identifier echo_id and sequence seq. Returns 0
 * with p->fd to watch for *events (EPOLLIN/EPOLLOUT), or -1 with
 * p->detail (nothing open). */
int hp_start(struct hc_probe *p, const struct cfg_check *k, const struct mslb_addr *src, uint16_t echo_id,
	     uint16_t seq, uint32_t *events);
/* The socket is ready (epoll events): the verdict, and when still pending
 * what to watch next in *events. */
enum hp_verdict hp_event(struct hc_probe *p, uint32_t revents, uint32_t *events);
/* Close it; a TCP connection is reset rather than closed, so that neither
 * end keeps state for a probe. */
void hp_close(struct hc_probe *p);

#endif
