/* mptcpopt: key-dependent fields of MPTCP options (see mptcpopt.h). */
#include "mptcpopt.h"

#include <sodium.h>
#include <string.h>

bool mptcpopt_dss(uint8_t *opt, unsigned len, struct mptcp_dss *d)
{
	unsigned i = 4, need;
	uint8_t fl;

	memset(d, 0, sizeof(*d));
	if (len < 4)
		return false;
	fl = opt[3];
	if (fl & 0x01) {		/* A: data ACK present; a: 8 octets */
		d->ack_len = (fl & 0x02) ? 8 : 4;
		d->ack = opt + i;
		i += d->ack_len;
	}
	if (fl & 0x04) {		/* M: mapping present; m: 8-octet DSN */
		d->dsn_len = (fl & 0x08) ? 8 : 4;
		d->dsn = opt + i;
		i += d->dsn_len;
		d->ssn = opt + i;
		i += 4;
		d->dlen = opt + i;
		i += 2;
	}
	need = i;
	if (d->dsn && len == need + 2) {
		d->csum = opt + need;
		need += 2;
	}
	if (len != need) {
		memset(d, 0, sizeof(*d));
		return false;
	}
	return true;
}

bool mptcpopt_add_addr(uint8_t *opt, unsigned len, struct mptcp_add_addr *a)
{
	unsigned alen;
	bool port;

	memset(a, 0, sizeof(*a));
	if (len < 4 || (opt[2] & 0x01))	/* E: an echo carries no HMAC */
		return false;
	/* kind, length, subtype/flags, id, address, [port], HMAC (8) */
	switch (len) {
	case 4 + 4 + 8: alen = 4; port = false; break;
	case 4 + 4 + 2 + 8: alen = 4; port = true; break;
	case 4 + 16 + 8: alen = 16; port = false; break;
	case 4 + 16 + 2 + 8: alen = 16; port = true; break;
	default: return false;
	}
	a->msg[0] = opt[3];
	memcpy(a->msg + 1, opt + 4, alen);
	if (port)
		memcpy(a->msg + 1 + alen, opt + 4 + alen, 2);
	a->msg_len = 1 + alen + 2;
	a->hmac = opt + len - 8;
	return true;
}

void mptcpopt_token_idsn(const uint8_t key[MPTCP_KEY_LEN], uint32_t *token, uint64_t *idsn)
{
	uint8_t d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, key, MPTCP_KEY_LEN);
	if (token)
		*token = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	if (idsn)
		*idsn = mptcpopt_get64(d + sizeof(d) - 8);
}

void mptcpopt_hmac(const uint8_t k1[MPTCP_KEY_LEN], const uint8_t k2[MPTCP_KEY_LEN], const uint8_t *msg,
		   unsigned n, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;
	uint8_t key[2 * MPTCP_KEY_LEN];

	memcpy(key, k1, MPTCP_KEY_LEN);
	memcpy(key + MPTCP_KEY_LEN, k2, MPTCP_KEY_LEN);
	crypto_auth_hmacsha256_init(&st, key, sizeof(key));
	crypto_auth_hmacsha256_update(&st, msg, n);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(key, sizeof(key));
}
