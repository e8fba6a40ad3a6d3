/* mptcpopt: the fields of RFC 8684 options that depend on a connection's
 * keys, found in place, and the values derived from keys (token, IDSN,
 * HMACs). A Proposal 2 back that translates between the front's key and
 * the server's own rewrites exactly these. Pure; the hashes are
 * libsodium's. */
#ifndef MSLB_MPTCPOPT_H
#define MSLB_MPTCPOPT_H

#include <stdbool.h>
#include <stdint.h>

#define MPTCP_SUB_DSS 2
#define MPTCP_SUB_ADD_ADDR 3
#define MPTCP_SUB_FAIL 6
#define MPTCP_SUB_FASTCLOSE 7

#define MPTCP_KEY_LEN 8
#define MPTCP_JOIN_SYNACK_HMAC 8	/* leftmost 64 bits */
#define MPTCP_JOIN_ACK_HMAC 20		/* leftmost 160 bits */

/* Where a DSS option's fields are (RFC 8684 3.3): NULL when absent. */
struct mptcp_dss {
	uint8_t *ack;		/* data ACK, ack_len (4 or 8) bytes */
	uint8_t *dsn;		/* data sequence number, dsn_len (4 or 8) bytes */
	uint8_t *ssn;		/* subflow sequence number (4) */
	uint8_t *dlen;		/* data-level length (2) */
	uint8_t *csum;		/* DSS checksum (2), when negotiated */
	uint8_t ack_len, dsn_len;
};

/* The DSS option at opt (len bytes, as its length byte says). False when
 * the length does not match its flags. */
bool mptcpopt_dss(uint8_t *opt, unsigned len, struct mptcp_dss *d);

/* Where an ADD_ADDR option's HMAC is, and the message it signs (address
 * id, address, port or 0, as Linux and RFC 8684 3.4.1 sign it). False for
 * an echo (no HMAC) or a length that fits no form. */
struct mptcp_add_addr {
	uint8_t *hmac;		/* rightmost 64 bits of the HMAC */
	uint8_t msg[1 + 16 + 2];
	unsigned msg_len;
};
bool mptcpopt_add_addr(uint8_t *opt, unsigned len, struct mptcp_add_addr *a);

/* token: the first 32 bits of SHA-256(key); IDSN: its last 64 bits. */
void mptcpopt_token_idsn(const uint8_t key[MPTCP_KEY_LEN], uint32_t *token, uint64_t *idsn);
/* HMAC-SHA256 keyed with k1 || k2 over msg (RFC 8684 3.2, 3.4.1). */
void mptcpopt_hmac(const uint8_t k1[MPTCP_KEY_LEN], const uint8_t k2[MPTCP_KEY_LEN], const uint8_t *msg,
		   unsigned n, uint8_t out[32]);

static inline uint64_t mptcpopt_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void mptcpopt_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
