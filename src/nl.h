/* nl: the few rtnetlink requests the daemon needs, through libmnl. Each
 * call waits for the kernel's acknowledgement and returns 0 or -errno. */
#ifndef MSLB_NL_H
#define MSLB_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

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
	bool has_dst;
	struct mslb_addr dst;
	uint8_t dst_len;
	char iif[16];		/* "" for any */
	uint32_t table;		/* with action FR_ACT_TO_TBL */
	uint8_t action;		/* FR_ACT_TO_TBL or FR_ACT_UNREACHABLE */
};

struct nl *nl_open(void);
void nl_close(struct nl *nl);
int nl_link_set(struct nl *nl, int ifindex, unsigned mtu, bool up);
int nl_route(struct nl *nl, bool add, const struct nl_route *r);
int nl_rule(struct nl *nl, bool add, const struct nl_rule *r);

#endif
