/* addr: parsing and printing through inet_pton/inet_ntop, plus prefix math. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int mslb_addr_parse(const char *s, struct mslb_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->bytes) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

/* Zero every bit after the first len bits; returns true if any was set. */
static bool mask_bits(uint8_t *b, unsigned size, unsigned len)
{
	bool had = false;

	for (unsigned i = 0; i < size; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : (len > 8 * i ? len - 8 * i : 0);
		uint8_t m = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		if (b[i] & ~m)
			had = true;
		b[i] &= m;
	}
	return had;
}

int mslb_prefix_parse(const char *s, struct mslb_prefix *out)
{
	char buf[MSLB_PREFIXSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (mslb_addr_parse(buf, &out->addr) < 0)
		return -1;
	max = out->addr.family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		unsigned long l;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		l = strtoul(slash + 1, &end, 10);
		if (*end || l > max)
			return -1;
		out->len = (uint8_t)l;
	} else {
		out->len = (uint8_t)max;
	}
	if (mask_bits(out->addr.bytes, mslb_addr_size(out->addr.family), out->len))
		return -2;
	return 0;
}

bool mslb_addr_eq(const struct mslb_addr *a, const struct mslb_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, mslb_addr_size(a->family)) == 0;
}

bool mslb_prefix_contains(const struct mslb_prefix *p, const struct mslb_addr *a)
{
	struct mslb_addr m = *a;

	if (a->family != p->addr.family)
		return false;
	mask_bits(m.bytes, mslb_addr_size(a->family), p->len);
	return mslb_addr_eq(&m, &p->addr);
}

void mslb_addr_from_bytes(struct mslb_addr *out, int family, const uint8_t *bytes)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	memcpy(out->bytes, bytes, mslb_addr_size(family));
}

const char *mslb_addr_str(const struct mslb_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *mslb_prefix_str(const struct mslb_prefix *p, char *buf, size_t len)
{
	char a[MSLB_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", mslb_addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

unsigned mslb_addr_sockaddr(const struct mslb_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->bytes, 16);
	return sizeof(*s6);
}
