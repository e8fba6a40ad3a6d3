/* rdr_auth: the MAC of the redirection protocol, by libsodium's
 * HMAC-SHA256, whose verify compares in constant time. */
#include "rdr_auth.h"

#include <sodium.h>

#include "rdr_wire.h"

int rdr_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void rdr_auth_sign(const struct cfg_redirect_key *k, uint8_t *buf, size_t len)
{
	crypto_auth_hmacsha256(buf + len - RDR_MAC_LEN, buf, len - RDR_MAC_LEN, k->key);
}

const struct cfg_redirect_key *rdr_auth_key(const struct cfg_redirect_key *keys, unsigned n, uint8_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (keys[i].id == id)
			return &keys[i];
	return NULL;
}

bool rdr_auth_verify(const struct cfg_redirect_key *k, const uint8_t *buf, size_t len)
{
	if (len < RDR_MAC_LEN)
		return false;
	return crypto_auth_hmacsha256_verify(buf + len - RDR_MAC_LEN, buf, len - RDR_MAC_LEN, k->key) == 0;
}

uint64_t rdr_auth_random64(void)
{
	uint64_t v;

	randombytes_buf(&v, sizeof(v));
	return v;
}
