/* nl: the few rtnetlink requests the daemon needs, through libmnl. Each
 * call waits for the kernel's acknowledgement and returns 0 or -errno. */
#ifndef MSLB_NL_H
#define MSLB_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"

struct nl;

struct nl_route {
	struct mslb_addr dst;
	uint8_t plen;
	uint32_t table;
	int oif;		/* 0: let the kernel pick from the gateway */
	bool has_gw;
	struct mslb_addr gw;
};

struct nl_rule {
	uint8_t family;
	uint32_t priority;
	bool has_dst, has_src;
	struct mslb_addr dst, src;
	uint8_t dst_len, src_len;
	char iif[16];		/* "" for any */
	uint8_t ip_proto;	/* 0 for any (FRA_IP_PROTO, Linux >= 4.17) */
	uint16_t sport;		/* 0 for any (FRA_SPORT_RANGE of one port) */
	uint32_t table;		/* with action FR_ACT_TO_TBL */
	uint8_t action;		/* FR_ACT_TO_TBL, FR_ACT_UNREACHABLE or FR_ACT_BLACKHOLE */
};

/* What the kernel would do with a packet: RTM_GETROUTE's answer. */
struct nl_route_info {
	uint8_t type;		/* RTN_UNICAST, RTN_LOCAL, ... */
	int oif;
	bool has_gw;
	struct mslb_addr gw;	/* may be of the other family (RTA_VIA) */
	unsigned mtu;		/* the route's mtu metric, 0 if none */
};

struct nl *nl_open(void);
void nl_close(struct nl *nl);
/* Link ifindex up or down; mtu and txqlen (packets) when not 0. */
int nl_link_set(struct nl *nl, int ifindex, unsigned mtu, unsigned txqlen, bool up);
int nl_route(struct nl *nl, bool add, const struct nl_route *r);
int nl_rule(struct nl *nl, bool add, const struct nl_rule *r);
/* The route a packet from src to dst takes when it arrives on iif (an
 * input lookup, so policy rules on iif apply); 0 or -errno. */
int nl_route_get(struct nl *nl, const struct mslb_addr *dst, const struct mslb_addr *src, int iif,
		 struct nl_route_info *out);
/* The neighbour table's entry for addr on ifindex: its NUD_* state and
 * link-layer address (*mac_len bytes, at most 32). 0 or -errno (-ENOENT:
 * no entry). */
int nl_neigh_get(struct nl *nl, int ifindex, const struct mslb_addr *addr, uint16_t *state,
		 uint8_t *mac, unsigned *mac_len);

#endif
