/* afpath: rings in, sendmmsg out, the TUN as the fallback. */
#include "afpath.h"

#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "afp_filter.h"
#include "net/fwd.h"
#include "net/iphdr.h"

/* Next-hop cache entries re-resolved per timer tick (bounded work). */
#define NEIGH_REFRESH_PER_TICK 64

struct afpath {
	/* One backend per interface, in config order; the next-hop cache
	 * tells which one (if any) a rewritten packet leaves by. */
	unsigned n;
	struct io_backend *be[MSLB_AFP_MAX];
	struct neigh *neigh;
	struct sock_filter *filter;	/* AFP_FILTER_MAX instructions, allocated once */
};

struct afpath *afpath_open(const struct mslb_config *cfg, int tun_ifindex, char *err, size_t errlen)
{
	struct afpath *ap = calloc(1, sizeof(*ap));
	int ifindex[MSLB_AFP_MAX];

	if (!ap || !(ap->filter = calloc(AFP_FILTER_MAX, sizeof(*ap->filter)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < cfg->n_af_packet; i++) {
		ap->be[i] = io_afp_open(cfg->af_packet[i], err, (unsigned)errlen);
		if (!ap->be[i])
			goto fail;
		ap->n = i + 1;
		ifindex[i] = io_afp_ifindex(ap->be[i]);
	}
	ap->neigh = neigh_create(tun_ifindex, ifindex, ap->n);
	if (!ap->neigh) {
		snprintf(err, errlen, "io.af_packet: cannot open rtnetlink for the next-hop cache");
		goto fail;
	}
	return ap;
fail:
	afpath_close(ap);
	return NULL;
}

void afpath_close(struct afpath *ap)
{
	if (!ap)
		return;
	for (unsigned i = 0; i < ap->n; i++)
		io_close(ap->be[i]);
	neigh_destroy(ap->neigh);
	free(ap->filter);
	free(ap);
}

int afpath_check_filter(struct afpath *ap, const struct mslb_config *cfg, char *err, size_t errlen)
{
	int n = afp_filter_build(cfg, ap->filter, AFP_FILTER_MAX);

	if (n < 0)
		snprintf(err, errlen, "io.af_packet: too many service and back addresses for the receive filter (allowed: at most about %d IPv6 or %d IPv4 addresses)",
			 AFP_FILTER_MAX / 18, AFP_FILTER_MAX / 4);
	return n;
}

int afpath_apply_filter(struct afpath *ap, const struct mslb_config *cfg, char *err, size_t errlen)
{
	int n = afpath_check_filter(ap, cfg, err, errlen);

	if (n < 0)
		return -1;
	for (unsigned i = 0; i < ap->n; i++) {
		int r = io_afp_set_filter(ap->be[i], ap->filter, (unsigned)n);

		if (r < 0) {
			snprintf(err, errlen, "io.af_packet: %s: SO_ATTACH_FILTER: %s", ap->be[i]->name, strerror(-r));
			return -1;
		}
	}
	return 0;
}

void afpath_flush(struct afpath *ap)
{
	if (ap)
		neigh_flush(ap->neigh);
}

/* Sources the kernel would refuse to forward (RFC 1122 3.2.1.3, RFC 4291
 * 2.5): the daemon leaves them to the kernel rather than send them. */
static bool martian(const struct mslb_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *b = a->bytes;

	if (a->family == AF_INET)
		return b[0] == 0 || b[0] == 127 || b[0] >= 224;
	if (b[0] == 0xff || !memcmp(b, mapped, 12))
		return true;
	for (unsigned i = 0; i < 15; i++)
		if (b[i])
			return false;
	return b[15] <= 1;	/* :: and ::1 */
}

int afpath_recv(struct afpath *ap, unsigned k, struct io_batch *batch)
{
	return io_recv(ap->be[k], batch);
}

void afpath_recv_done(struct afpath *ap, unsigned k)
{
	io_recv_done(ap->be[k]);
}

/* The packet at p was rewritten: find where its new destination goes.
 * Through an af_packet interface when the next hop is there and its MAC
 * known (TTL decremented here, as the kernel no longer forwards it), else
 * the TUN (the kernel routes it and resolves the neighbour). */
enum mslb_drop afpath_route(struct afpath *ap, struct io_backend *tun, struct io_pkt *p, unsigned *ports)
{
	struct mslb_addr dst, src;
	const struct neigh_entry *e;
	enum mslb_drop r;
	bool v4 = p->data[0] >> 4 == 4;

	mslb_addr_from_bytes(&dst, v4 ? AF_INET : AF_INET6, p->data + (v4 ? IP4_DST : IP6_DST));
	mslb_addr_from_bytes(&src, v4 ? AF_INET : AF_INET6, p->data + (v4 ? IP4_SRC : IP6_SRC));
	e = martian(&src) ? NULL : neigh_lookup(ap->neigh, &dst, &src);
	/* Beyond the device MTU (not a GSO super-packet, which the device
	 * cuts): the kernel fragments it or sends the ICMP error. */
	if (e && e->state == NEIGH_OK && p->off.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	    p->len > io_afp_mtu(ap->be[e->port])) {
		ap->be[e->port]->stats.mtu_deferred++;
		e = NULL;
	}
	if (e && e->state == NEIGH_OK && neigh_take_probe(ap->neigh, e))
		e = NULL;
	if (e && e->state == NEIGH_OK) {
		r = fwd_ttl_decrement(p->data, p->len);
		if (r != MSLB_OK) {
			p->len = 0;
			return r;
		}
		p->out = ap->be[e->port];
		p->out_mac = e->mac;
		*ports |= 1u << e->port;
		return MSLB_OK;
	}
	neigh_count_fallback(ap->neigh, e && e->state == NEIGH_UNRESOLVED);
	/* The TUN takes offload metadata only as far as it has offloads. */
	if ((p->off.flags & IO_OFF_NEEDS_CSUM) && !(tun->offloads & IO_CAP_CSUM))
		fwd_finish_csum(p->data, p->len, &p->off);
	if (p->off.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		unsigned need = (p->off.gso_type & 0x7f) == VIRTIO_NET_HDR_GSO_UDP_L4 ? IO_CAP_USO : IO_CAP_TSO;

		if (!(tun->offloads & need)) {
			tun->stats.tx_errors++;	/* a super-packet the TUN cannot take */
			p->len = 0;
		}
	}
	return MSLB_OK;
}

void afpath_send(struct afpath *ap, unsigned ports, struct io_batch *batch, struct io_backend *tun)
{
	for (unsigned i = 0; i < ap->n; i++)
		if (ports & (1u << i))
			io_send(ap->be[i], batch);
	io_send(tun, batch);	/* what is left: the TUN fallback */
}

void afpath_tick(struct afpath *ap)
{
	if (!ap)
		return;
	neigh_refresh(ap->neigh, NEIGH_REFRESH_PER_TICK);
	for (unsigned i = 0; i < ap->n; i++)
		io_afp_poll_stats(ap->be[i]);
}

unsigned afpath_count(const struct afpath *ap)
{
	return ap ? ap->n : 0;
}

int afpath_fd(const struct afpath *ap, unsigned k)
{
	return ap && k < ap->n ? ap->be[k]->fd : -1;
}

const struct io_backend *const *afpath_backends(const struct afpath *ap)
{
	return ap ? (const struct io_backend *const *)ap->be : NULL;
}

bool afpath_stats(struct afpath *ap, struct neigh_stats *out)
{
	if (!ap)
		return false;
	for (unsigned i = 0; i < ap->n; i++)
		io_afp_poll_stats(ap->be[i]);
	neigh_get_stats(ap->neigh, out);
	return true;
}

bool afpath_same_interfaces(const struct mslb_config *a, const struct mslb_config *b)
{
	if (a->n_af_packet != b->n_af_packet)
		return false;
	for (unsigned i = 0; i < a->n_af_packet; i++)
		if (strcmp(a->af_packet[i], b->af_packet[i]))
			return false;
	return true;
}

void afpath_interface_names(const struct mslb_config *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!c->n_af_packet) {
		snprintf(buf, len, "none");
		return;
	}
	for (unsigned i = 0; i < c->n_af_packet && used + 1 < len; i++) {
		int n = snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "", c->af_packet[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}
