/* addr: IPv4/IPv6 addresses and prefixes as plain values, parsed and printed. */
#ifndef MSLB_ADDR_H
#define MSLB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 address lives in bytes[0..3]; the rest stays zero so that
 * whole-struct comparisons work. */
struct mslb_addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

struct mslb_prefix {
	struct mslb_addr addr;
	uint8_t len;
};

#define MSLB_ADDRSTRLEN 46	/* INET6_ADDRSTRLEN */
#define MSLB_PREFIXSTRLEN (MSLB_ADDRSTRLEN + 4)

static inline unsigned mslb_addr_size(int family)
{
	return family == 2 /* AF_INET */ ? 4 : 16;
}

/* The index of a family in per-family arrays: [0] IPv4, [1] IPv6. */
static inline unsigned mslb_af_index(int family)
{
	return family == 2 /* AF_INET */ ? 0 : 1;
}

/* The same index from an IP version, 4 or 6. */
static inline unsigned mslb_ip_index(unsigned version)
{
	return version == 4 ? 0 : 1;
}

int mslb_addr_parse(const char *s, struct mslb_addr *out);
/* Returns 0, -1 if unparsable, -2 if host bits are set after the length. */
int mslb_prefix_parse(const char *s, struct mslb_prefix *out);
bool mslb_addr_eq(const struct mslb_addr *a, const struct mslb_addr *b);
bool mslb_prefix_contains(const struct mslb_prefix *p, const struct mslb_addr *a);
void mslb_addr_from_bytes(struct mslb_addr *out, int family, const uint8_t *bytes);
const char *mslb_addr_str(const struct mslb_addr *a, char *buf, size_t len);
const char *mslb_prefix_str(const struct mslb_prefix *p, char *buf, size_t len);
/* a and port as a socket address in *ss (a struct sockaddr_storage); its
 * length. */
struct sockaddr_storage;
unsigned mslb_addr_sockaddr(const struct mslb_addr *a, uint16_t port, struct sockaddr_storage *ss);

#endif
