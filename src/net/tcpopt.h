/* tcpopt: the TCP options MPTCP load balancing reads (RFC 7323 timestamps,
 * RFC 8684 MP_CAPABLE and MP_JOIN), found without copying. Pure. */
#ifndef MSLB_TCPOPT_H
#define MSLB_TCPOPT_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define TCPOPT_TS 8
#define TCPOPT_TS_LEN 10
#define TCPOPT_MPTCP 30
#define MPTCP_SUB_CAPABLE 0
#define MPTCP_SUB_JOIN 1

#define TCPOPT_MPTCP_MAX 4	/* MPTCP options kept per header (40 bytes: 3 fit) */

struct tcpopt {
	uint8_t *ts;		/* the timestamp option (kind, len, TSval, TSecr), or NULL */
	uint8_t *mptcp;		/* the first MPTCP option, or NULL */
	uint8_t mptcp_len;
	uint8_t n_mp;		/* every MPTCP option, in order */
	uint8_t *mp[TCPOPT_MPTCP_MAX];
	uint8_t mp_len[TCPOPT_MPTCP_MAX];
};

/* The options of the TCP header at tcp (avail bytes from there). False when
 * the header is cut short or its options do not parse (a length of 0 or 1,
 * or past the header): then nothing may be read from them. */
bool tcpopt_scan(uint8_t *tcp, uint32_t avail, struct tcpopt *o);

static inline uint32_t tcpopt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void tcpopt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The MPTCP subtype of an option found by tcpopt_scan (high nibble of its
 * third byte), or -1. */
static inline int tcpopt_mptcp_sub(const struct tcpopt *o)
{
	return o->mptcp && o->mptcp_len >= 3 ? o->mptcp[2] >> 4 : -1;
}

#endif
