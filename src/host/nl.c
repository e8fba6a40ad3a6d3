/* nl: rtnetlink requests built with libmnl. */
#include "nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nlsock.h"

struct nl {
	struct nlsock s;
};

struct nl *nl_open(void)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return NULL;
	r = nlsock_open(&nl->s, NETLINK_ROUTE);
	if (r < 0) {
		free(nl);
		errno = -r;
		return NULL;
	}
	return nl;
}

void nl_close(struct nl *nl)
{
	if (nl) {
		nlsock_close(&nl->s);
		free(nl);
	}
}

/* Send one request and wait for its acknowledgement; cb (if any) sees the
 * answer's messages. */
static int transact_cb(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	return nlsock_transact(&nl->s, nlh, cb, data);
}

static int transact(struct nl *nl, struct nlmsghdr *nlh)
{
	return transact_cb(nl, nlh, NULL, NULL);
}

int nl_link_set(struct nl *nl, int ifindex, unsigned mtu, unsigned txqlen, bool up)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* Multicast off: the kernel then sends no MLD/IGMP reports into the
	 * TUN, which only carries unicast service traffic. */
	ifi->ifi_change = IFF_UP | IFF_MULTICAST;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (txqlen)
		mnl_attr_put_u32(nlh, IFLA_TXQLEN, txqlen);
	return transact(nl, nlh);
}

int nl_route(struct nl *nl, bool add, const struct nl_route *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned alen = mslb_addr_size(r->dst.family);
	struct rtmsg *rtm;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = r->dst.family;
	rtm->rtm_dst_len = r->plen;
	rtm->rtm_table = RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	mnl_attr_put(nlh, RTA_DST, alen, r->dst.bytes);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (r->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, r->gw.bytes);
	return transact(nl, nlh);
}

int nl_rule(struct nl *nl, bool add, const struct nl_rule *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;

	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = r->family;
	frh->action = r->action;
	frh->table = RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	if (r->action == FR_ACT_TO_TBL)
		mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->has_src) {
		frh->src_len = r->src_len;
		mnl_attr_put(nlh, FRA_SRC, mslb_addr_size(r->family), r->src.bytes);
	}
	if (r->has_dst) {
		frh->dst_len = r->dst_len;
		mnl_attr_put(nlh, FRA_DST, mslb_addr_size(r->family), r->dst.bytes);
	}
	if (r->iif[0])
		mnl_attr_put_strz(nlh, FRA_IIFNAME, r->iif);
	if (r->ip_proto)
		mnl_attr_put_u8(nlh, FRA_IP_PROTO, r->ip_proto);
	if (r->sport) {
		struct fib_rule_port_range pr = { .start = r->sport, .end = r->sport };

		mnl_attr_put(nlh, FRA_SPORT_RANGE, sizeof(pr), &pr);
	}
	return transact(nl, nlh);
}

struct route_get_ctx {
	struct nl_route_info *out;
	bool seen;
};

static int route_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_get_ctx *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	c->seen = true;
	c->out->type = rtm->rtm_type;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		unsigned len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (len >= 4)
				c->out->oif = (int)mnl_attr_get_u32(a);
			break;
		case RTA_METRICS: {
			const struct nlattr *m;

			mnl_attr_for_each_nested(m, a)
				if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_get_payload_len(m) >= 4)
					c->out->mtu = mnl_attr_get_u32(m);
			break;
		}
		case RTA_GATEWAY:
			if (len == 4 || len == 16) {
				c->out->has_gw = true;
				mslb_addr_from_bytes(&c->out->gw, len == 4 ? AF_INET : AF_INET6, mnl_attr_get_payload(a));
			}
			break;
		case RTA_VIA: {
			const struct rtvia *v = mnl_attr_get_payload(a);

			if (len >= sizeof(*v) + 4 && v->rtvia_family == AF_INET) {
				c->out->has_gw = true;
				mslb_addr_from_bytes(&c->out->gw, AF_INET, v->rtvia_addr);
			} else if (len >= sizeof(*v) + 16 && v->rtvia_family == AF_INET6) {
				c->out->has_gw = true;
				mslb_addr_from_bytes(&c->out->gw, AF_INET6, v->rtvia_addr);
			}
			break;
		}
		default:
			break;
		}
	}
	return MNL_CB_OK;
}

int nl_route_get(struct nl *nl, const struct mslb_addr *dst, const struct mslb_addr *src, int iif,
		 struct nl_route_info *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned alen = mslb_addr_size(dst->family);
	struct route_get_ctx c = { .out = out };
	struct rtmsg *rtm;
	int r;

	memset(out, 0, sizeof(*out));
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = (uint8_t)(8 * alen);
	mnl_attr_put(nlh, RTA_DST, alen, dst->bytes);
	if (src && src->family == dst->family) {
		rtm->rtm_src_len = (uint8_t)(8 * alen);
		mnl_attr_put(nlh, RTA_SRC, alen, src->bytes);
	}
	if (iif)
		mnl_attr_put_u32(nlh, RTA_IIF, (uint32_t)iif);
	r = transact_cb(nl, nlh, route_get_cb, &c);
	if (r == 0 && !c.seen)
		r = -ENOENT;
	return r;
}

struct neigh_get_ctx {
	uint16_t *state;
	uint8_t *mac;
	unsigned *mac_len;
	bool seen;
};

static int neigh_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_get_ctx *c = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	c->seen = true;
	*c->state = ndm->ndm_state;
	*c->mac_len = 0;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		unsigned len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) == NDA_LLADDR && len <= 32) {
			memcpy(c->mac, mnl_attr_get_payload(a), len);
			*c->mac_len = len;
		}
	}
	return MNL_CB_OK;
}

int nl_neigh_get(struct nl *nl, int ifindex, const struct mslb_addr *addr, uint16_t *state,
		 uint8_t *mac, unsigned *mac_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct neigh_get_ctx c = { .state = state, .mac = mac, .mac_len = mac_len };
	struct ndmsg *ndm;
	int r;

	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = addr->family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, mslb_addr_size(addr->family), addr->bytes);
	*state = 0;
	*mac_len = 0;
	r = transact_cb(nl, nlh, neigh_get_cb, &c);
	if (r == 0 && !c.seen)
		r = -ENOENT;
	return r;
}
