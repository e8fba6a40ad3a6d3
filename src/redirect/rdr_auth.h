/* rdr_auth: HMAC-SHA256 of redirection messages (libsodium). The first
 * key signs; every key verifies, so a new key can sit beside the old one
 * while it is rolled out. */
#ifndef MSLB_RDR_AUTH_H
#define MSLB_RDR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Once, before any other call (libsodium's own initialisation). */
int rdr_auth_init(void);
/* Write the MAC of buf[0, len - RDR_MAC_LEN) into its last RDR_MAC_LEN
 * bytes, with key k; buf[4] must already say k's id. */
void rdr_auth_sign(const struct cfg_redirect_key *k, uint8_t *buf, size_t len);
/* The key of id among keys[0, n), or NULL. */
const struct cfg_redirect_key *rdr_auth_key(const struct cfg_redirect_key *keys, unsigned n, uint8_t id);
/* Does buf end with the MAC of what precedes it under key k? In constant
 * time for a given length. */
bool rdr_auth_verify(const struct cfg_redirect_key *k, const uint8_t *buf, size_t len);
/* A random 64-bit value from the system's CSPRNG. */
uint64_t rdr_auth_random64(void);

#endif
