/* route_mtu: one RTM_GETROUTE, then SIOCGIFMTU on the device it names. */
#include "route_mtu.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned device_mtu(int ifindex)
{
	struct ifreq ifr = { 0 };
	unsigned mtu = 0;
	int fd;

	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

unsigned route_mtu(struct nl *nl, const struct mslb_addr *dst)
{
	struct nl_route_info ri;

	if (nl_route_get(nl, dst, NULL, 0, &ri) < 0)
		return 0;
	if (ri.mtu)
		return ri.mtu;
	return ri.oif ? device_mtu(ri.oif) : 0;
}
