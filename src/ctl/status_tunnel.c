/* status_tunnel: every encapsulation counter, described once for both
 * forms of `mslbd status` (see status.c). */
#include "status_tunnel.h"

#include <stdio.h>
#include <sys/socket.h>

static const char *mode_name(enum nh_mode m)
{
	return m == NH_ENCAP ? "encapsulate" : "translate";
}

static const char *outer_name(enum nh_outer o)
{
	return o == OUTER_IPV4 ? "ipv4" : o == OUTER_IPV6 ? "ipv6" : "same";
}

/* Which outer family carries inner family f (0 IPv4, 1 IPv6), -1 none. */
static int outer_of(const struct cfg_next_hop *nh, int f)
{
	if (nh->mode != NH_ENCAP || !config_next_hop_carries(nh, f ? AF_INET6 : AF_INET))
		return -1;
	return (int)mslb_ip_index(config_outer_version(nh, f ? 6 : 4));
}

static bool outer_used(const struct cfg_next_hop *nh, int of)
{
	return outer_of(nh, 0) == of || outer_of(nh, 1) == of;
}

static void tunnel_entry(struct writer *w, const struct lb_nh_tunnel *t, int of)
{
	wr_obj(w, NULL, "tunnel");
	wr_str(w, "outer", "", of ? "ipv6" : "ipv4");
	wr_u64(w, "path_mtu", NULL, t->path_mtu[of]);
	wr_u64(w, "tunnel_mtu", NULL, t->tunnel_mtu[of]);
	wr_str(w, "source", NULL, lb_mtu_source_name(t->source[of]));
	wr_u64(w, "expires_in", NULL, t->expires_in[of] > 0 ? (uint64_t)(t->expires_in[of] + 0.5) : 0);
	wr_end(w);
}

static void tunnel_counters(struct writer *w, const struct lb_nh_tunnel *t)
{
	wr_u64(w, "encapsulated", NULL, t->encapsulated);
	wr_u64(w, "fragments", NULL, t->fragments);
	wr_u64(w, "segments", NULL, t->segments);
	wr_u64(w, "uso", NULL, t->uso);
	wr_u64(w, "udp_tunnel", NULL, t->udp_tunnel);
	wr_u64(w, "icmp_sent", NULL, t->icmp_sent);
	wr_u64(w, "icmp_received", NULL, t->icmp_received);
	wr_u64(w, "icmp_rate_limited", NULL, t->icmp_rate_limited);
}

static void reasm(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct reasm_stats rs;

	if (!lb_reasm_stats(lb, &rs)) {
		wr_null(w, "reassembly", NULL);
		return;
	}
	wr_obj(w, "reassembly", NULL);
	wr_u64(w, "memory", NULL, c->back.reasm_memory);
	wr_u64(w, "timeout", NULL, c->back.reasm_timeout);
	wr_u64(w, "datagrams", NULL, rs.datagrams);
	wr_u64(w, "fragments", NULL, rs.fragments);
	wr_u64(w, "timeouts", NULL, rs.timeouts);
	wr_u64(w, "memory_drops", NULL, rs.memory_drops);
	wr_u64(w, "bad", NULL, rs.bad);
	wr_u64(w, "in_progress", NULL, rs.in_progress);
	wr_u64(w, "evictions", NULL, rs.evictions);
	wr_u64(w, "source_evictions", NULL, rs.source_evictions);
	wr_end(w);
}

void status_tunnel_nh(struct writer *w, const struct mslb_lb *lb, unsigned i)
{
	const struct cfg_next_hop *nh = &lb_config(lb)->front.next_hops[i];
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, i, &t);
	wr_str(w, "mode", NULL, mode_name(nh->mode));
	wr_str(w, "outer", NULL, nh->mode == NH_ENCAP ? outer_name(nh->outer) : NULL);
	wr_str(w, "encapsulation", NULL, nh->mode != NH_ENCAP ? NULL : nh->encap == ENCAP_GUE ? "gue" : "ip");
	wr_list(w, "families", NULL);
	for (int f = 0; f < 2; f++) {
		int of = outer_of(nh, f);
		char buf[32];

		if (of < 0)
			continue;
		snprintf(buf, sizeof(buf), "%s in %s", f ? "ipv6" : "ipv4", of ? "ipv6" : "ipv4");
		wr_str(w, NULL, NULL, buf);
	}
	wr_end(w);
	wr_list(w, "tunnel", NULL);
	for (int of = 0; of < 2; of++)
		if (outer_used(nh, of))
			tunnel_entry(w, &t, of);
	wr_end(w);
	/* A next hop in translation mode has none of the tunnel counters. */
	if (nh->mode == NH_ENCAP)
		tunnel_counters(w, &t);
}

void status_tunnel(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	wr_obj(w, "icmp", NULL);
	wr_u64(w, "rate", NULL, c->icmp_rate);
	wr_u64(w, "burst", NULL, c->icmp_burst);
	wr_u64(w, "sent", NULL, ts.icmp_sent);
	wr_u64(w, "rate_limited", NULL, ts.icmp_rate_limited);
	wr_u64(w, "received", NULL, ts.icmp_received);
	wr_u64(w, "relayed", NULL, ts.icmp_relayed);
	wr_u64(w, "followed", NULL, ts.icmp_followed);
	wr_end(w);
	/* Whatever decapsulates here: backs, chained fronts, endpoints. */
	wr_obj(w, "decapsulation", NULL);
	wr_u64(w, "packets", NULL, ts.decapsulated);
	reasm(w, lb);
	wr_end(w);
	if (c->has_return_endpoint) {
		struct lb_counter k = lb_endpoint_counter(lb);

		wr_obj(w, "return_endpoint", NULL);
		wr_u64(w, "packets", NULL, k.packets);
		wr_u64(w, "bytes", NULL, k.bytes);
		wr_end(w);
	} else {
		wr_null(w, "return_endpoint", NULL);
	}
}

void status_tunnel_back(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_tunnel_stats ts;
	struct lb_counter k;
	struct lb_nh_tunnel t;
	char a[MSLB_ADDRSTRLEN];

	lb_get_tunnel_stats(lb, &ts);
	wr_u64(w, "decapsulated", NULL, ts.decapsulated);
	wr_u64(w, "uso_coalesced", NULL, ts.uso_coalesced);
	wr_u64(w, "uso_split", NULL, ts.uso_split);
	wr_u64(w, "udp_tunnel", NULL, ts.udp_tunnel);
	reasm(w, lb);
	if (!c->back.has_return[0] && !c->back.has_return[1]) {
		wr_null(w, "return_tunnel", NULL);
		return;
	}
	k = lb_return_counter(lb);
	lb_return_tunnel(lb, &t);
	wr_obj(w, "return_tunnel", NULL);
	wr_str(w, "ipv4", NULL, c->back.has_return[0] ? mslb_addr_str(&c->back.return_to[0], a, sizeof(a)) : NULL);
	wr_str(w, "ipv6", NULL, c->back.has_return[1] ? mslb_addr_str(&c->back.return_to[1], a, sizeof(a)) : NULL);
	wr_u64(w, "packets", NULL, k.packets);
	wr_u64(w, "bytes", NULL, k.bytes);
	wr_list(w, "tunnel", NULL);
	for (int of = 0; of < 2; of++)
		if (c->back.has_return[of])
			tunnel_entry(w, &t, of);
	wr_end(w);
	tunnel_counters(w, &t);
	wr_end(w);
}
