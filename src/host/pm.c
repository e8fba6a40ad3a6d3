/* pm: generic netlink requests to mptcp_pm. The family id is resolved once
 * through the controller (CTRL_CMD_GETFAMILY). */
#include "pm.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nlsock.h"

struct pm {
	struct nlsock s;
	uint16_t family;
};

struct endpoint {
	struct mslb_addr addr;
	uint16_t port;
	uint8_t id;
	uint32_t flags;
};

/* Results collected by the callbacks of one request. */
struct reply {
	uint16_t family_id;
	unsigned subflows, add_addr;
	bool have_limits;
	unsigned n;
	struct endpoint ep[256];
};

static struct nlmsghdr *put_genl(char *buf, uint16_t type, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static int transact(struct pm *pm, struct nlmsghdr *nlh, mnl_cb_t cb, struct reply *rep)
{
	return nlsock_transact(&pm->s, nlh, cb, rep);
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rep = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			rep->family_id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

struct pm *pm_open(void)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct reply rep = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!pm)
		return NULL;
	r = nlsock_open(&pm->s, NETLINK_GENERIC);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	nlh = put_genl(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	r = transact(pm, nlh, family_cb, &rep);
	if (r < 0 || !rep.family_id) {
		errno = r < 0 ? -r : ENOENT;
		goto fail;
	}
	pm->family = rep.family_id;
	return pm;
fail:
	{
		int e = errno;

		pm_close(pm);
		errno = e;
	}
	return NULL;
}

void pm_close(struct pm *pm)
{
	if (pm) {
		nlsock_close(&pm->s);
		free(pm);
	}
}

static int limits_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rep = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		if (mnl_attr_get_type(a) == MPTCP_PM_ATTR_SUBFLOWS)
			rep->subflows = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == MPTCP_PM_ATTR_RCV_ADD_ADDRS)
			rep->add_addr = mnl_attr_get_u32(a);
		else
			continue;
		rep->have_limits = true;
	}
	return MNL_CB_OK;
}

int pm_get_limits(struct pm *pm, unsigned *subflows, unsigned *add_addr_accepted)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct reply rep = { 0 };
	int r = transact(pm, put_genl(buf, pm->family, MPTCP_PM_CMD_GET_LIMITS, MPTCP_PM_VER), limits_cb, &rep);

	if (r < 0)
		return r;
	if (!rep.have_limits)
		return -EPROTO;
	*subflows = rep.subflows;
	*add_addr_accepted = rep.add_addr;
	return 0;
}

int pm_set_limits(struct pm *pm, unsigned subflows, unsigned add_addr_accepted)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_genl(buf, pm->family, MPTCP_PM_CMD_SET_LIMITS, MPTCP_PM_VER);

	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, add_addr_accepted);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_SUBFLOWS, subflows);
	return transact(pm, nlh, NULL, NULL);
}

static void put_addr(struct nlmsghdr *nlh, const struct mslb_addr *addr, int id, uint16_t port,
		     uint32_t flags)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, MPTCP_PM_ATTR_ADDR | NLA_F_NESTED);

	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_FAMILY, addr->family);
	if (addr->family == AF_INET)
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, addr->bytes);
	else
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16, addr->bytes);
	if (id >= 0)
		mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, (uint8_t)id);
	if (port)
		mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_PORT, port);
	if (flags)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_FLAGS, flags);
	mnl_attr_nest_end(nlh, nest);
}

static int endpoint_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *rep = data;
	struct endpoint ep = { 0 };
	struct nlattr *a, *n;
	uint16_t family = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != MPTCP_PM_ATTR_ADDR)
			continue;
		mnl_attr_for_each_nested(n, a) {
			switch (mnl_attr_get_type(n)) {
			case MPTCP_PM_ADDR_ATTR_FAMILY:
				if (mnl_attr_validate(n, MNL_TYPE_U16) == 0)
					family = mnl_attr_get_u16(n);
				break;
			case MPTCP_PM_ADDR_ATTR_ID:
				if (mnl_attr_validate(n, MNL_TYPE_U8) == 0)
					ep.id = mnl_attr_get_u8(n);
				break;
			case MPTCP_PM_ADDR_ATTR_ADDR4:
				if (mnl_attr_get_payload_len(n) == 4)
					mslb_addr_from_bytes(&ep.addr, AF_INET, mnl_attr_get_payload(n));
				break;
			case MPTCP_PM_ADDR_ATTR_ADDR6:
				if (mnl_attr_get_payload_len(n) == 16)
					mslb_addr_from_bytes(&ep.addr, AF_INET6, mnl_attr_get_payload(n));
				break;
			case MPTCP_PM_ADDR_ATTR_PORT:
				if (mnl_attr_validate(n, MNL_TYPE_U16) == 0)
					ep.port = mnl_attr_get_u16(n);
				break;
			case MPTCP_PM_ADDR_ATTR_FLAGS:
				if (mnl_attr_validate(n, MNL_TYPE_U32) == 0)
					ep.flags = mnl_attr_get_u32(n);
				break;
			}
		}
	}
	if (family && ep.addr.family == family && rep->n < sizeof(rep->ep) / sizeof(rep->ep[0]))
		rep->ep[rep->n++] = ep;
	return MNL_CB_OK;
}

static int dump_endpoints(struct pm *pm, struct reply *rep)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_genl(buf, pm->family, MPTCP_PM_CMD_GET_ADDR, MPTCP_PM_VER);

	nlh->nlmsg_flags = NLM_F_DUMP;
	return transact(pm, nlh, endpoint_cb, rep);
}

int pm_signal_add(struct pm *pm, const struct mslb_addr *addr, uint16_t port, uint8_t *id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct reply *rep = calloc(1, sizeof(*rep));
	bool used[256] = { false };
	struct nlmsghdr *nlh;
	int r, free_id = -1;

	if (!rep)
		return -ENOMEM;
	r = dump_endpoints(pm, rep);
	for (unsigned i = 0; r == 0 && i < rep->n; i++) {
		used[rep->ep[i].id] = true;
		if (mslb_addr_eq(&rep->ep[i].addr, addr) && rep->ep[i].port == port &&
		    (rep->ep[i].flags & MPTCP_PM_ADDR_FLAG_SIGNAL)) {
			*id = rep->ep[i].id;
			free(rep);
			return 0;
		}
	}
	free(rep);
	if (r < 0)
		return r;
	/* Ids from the top: `ip mptcp endpoint add` without an id counts up. */
	for (int i = 255; i > 0 && free_id < 0; i--)
		if (!used[i])
			free_id = i;
	if (free_id < 0)
		return -ENOSPC;
	nlh = put_genl(buf, pm->family, MPTCP_PM_CMD_ADD_ADDR, MPTCP_PM_VER);
	put_addr(nlh, addr, free_id, port, MPTCP_PM_ADDR_FLAG_SIGNAL);
	r = transact(pm, nlh, NULL, NULL);
	if (r == 0)
		*id = (uint8_t)free_id;
	return r;
}

int pm_endpoint_del(struct pm *pm, const struct mslb_addr *addr, uint8_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_genl(buf, pm->family, MPTCP_PM_CMD_DEL_ADDR, MPTCP_PM_VER);

	put_addr(nlh, addr, id, 0, 0);
	return transact(pm, nlh, NULL, NULL);
}
