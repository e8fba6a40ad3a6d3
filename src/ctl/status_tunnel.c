/* status_tunnel: one place for every encapsulation counter, in both
 * forms, so the JSON and the table cannot drift apart. */
#include "status_tunnel.h"

#include <inttypes.h>
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
	return config_outer_version(nh, f ? 6 : 4) == 6;
}

static bool outer_used(const struct cfg_next_hop *nh, int of)
{
	return outer_of(nh, 0) == of || outer_of(nh, 1) == of;
}

static void tunnel_entry_json(struct json *j, const struct lb_nh_tunnel *t, int of)
{
	json_obj_begin(j, NULL);
	json_str(j, "outer", of ? "ipv6" : "ipv4");
	json_u64(j, "path_mtu", t->path_mtu[of]);
	json_u64(j, "tunnel_mtu", t->tunnel_mtu[of]);
	json_str(j, "source", lb_mtu_source_name(t->source[of]));
	json_u64(j, "expires_in", t->expires_in[of] > 0 ? (uint64_t)(t->expires_in[of] + 0.5) : 0);
	json_obj_end(j);
}

static void tunnel_counters_json(struct json *j, const struct lb_nh_tunnel *t)
{
	json_u64(j, "encapsulated", t->encapsulated);
	json_u64(j, "fragments", t->fragments);
	json_u64(j, "segments", t->segments);
	json_u64(j, "icmp_sent", t->icmp_sent);
	json_u64(j, "icmp_received", t->icmp_received);
	json_u64(j, "icmp_rate_limited", t->icmp_rate_limited);
}

static void reasm_json(struct json *j, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct reasm_stats rs;

	if (!lb_reasm_stats(lb, &rs)) {
		json_null(j, "reassembly");
		return;
	}
	json_obj_begin(j, "reassembly");
	json_u64(j, "memory", c->back.reasm_memory);
	json_u64(j, "timeout", c->back.reasm_timeout);
	json_u64(j, "datagrams", rs.datagrams);
	json_u64(j, "fragments", rs.fragments);
	json_u64(j, "timeouts", rs.timeouts);
	json_u64(j, "memory_drops", rs.memory_drops);
	json_u64(j, "bad", rs.bad);
	json_u64(j, "in_progress", rs.in_progress);
	json_obj_end(j);
}

void status_tunnel_nh_json(struct json *j, const struct mslb_lb *lb, unsigned i)
{
	const struct cfg_next_hop *nh = &lb_config(lb)->front.next_hops[i];
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, i, &t);
	json_str(j, "mode", mode_name(nh->mode));
	if (nh->mode != NH_ENCAP) {
		json_null(j, "outer");
		json_arr_begin(j, "families");
		json_arr_end(j);
		json_arr_begin(j, "tunnel");
		json_arr_end(j);
		return;
	}
	json_str(j, "outer", outer_name(nh->outer));
	json_arr_begin(j, "families");
	for (int f = 0; f < 2; f++) {
		int of = outer_of(nh, f);
		char buf[32];

		if (of < 0)
			continue;
		snprintf(buf, sizeof(buf), "%s in %s", f ? "ipv6" : "ipv4", of ? "ipv6" : "ipv4");
		json_str(j, NULL, buf);
	}
	json_arr_end(j);
	json_arr_begin(j, "tunnel");
	for (int of = 0; of < 2; of++)
		if (outer_used(nh, of))
			tunnel_entry_json(j, &t, of);
	json_arr_end(j);
	tunnel_counters_json(j, &t);
}

void status_tunnel_json(struct json *j, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	json_obj_begin(j, "icmp");
	json_u64(j, "rate", c->icmp_rate);
	json_u64(j, "burst", c->icmp_burst);
	json_u64(j, "sent", ts.icmp_sent);
	json_u64(j, "rate_limited", ts.icmp_rate_limited);
	json_u64(j, "received", ts.icmp_received);
	json_u64(j, "relayed", ts.icmp_relayed);
	json_u64(j, "followed", ts.icmp_followed);
	json_obj_end(j);
	/* Whatever decapsulates here: backs, chained fronts, endpoints. */
	json_obj_begin(j, "decapsulation");
	json_u64(j, "packets", ts.decapsulated);
	reasm_json(j, lb);
	json_obj_end(j);
	if (c->has_return_endpoint) {
		struct lb_counter k = lb_endpoint_counter(lb);

		json_obj_begin(j, "return_endpoint");
		json_u64(j, "packets", k.packets);
		json_u64(j, "bytes", k.bytes);
		json_obj_end(j);
	} else {
		json_null(j, "return_endpoint");
	}
}

void status_tunnel_back_json(struct json *j, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_tunnel_stats ts;

	lb_get_tunnel_stats(lb, &ts);
	json_u64(j, "decapsulated", ts.decapsulated);
	reasm_json(j, lb);
	if (c->back.has_return[0] || c->back.has_return[1]) {
		struct lb_counter k = lb_return_counter(lb);
		struct lb_nh_tunnel t;
		char a[MSLB_ADDRSTRLEN];

		lb_return_tunnel(lb, &t);
		json_obj_begin(j, "return_tunnel");
		json_str(j, "ipv4", c->back.has_return[0] ? mslb_addr_str(&c->back.return_to[0], a, sizeof(a)) : NULL);
		json_str(j, "ipv6", c->back.has_return[1] ? mslb_addr_str(&c->back.return_to[1], a, sizeof(a)) : NULL);
		json_u64(j, "packets", k.packets);
		json_u64(j, "bytes", k.bytes);
		json_arr_begin(j, "tunnel");
		for (int of = 0; of < 2; of++)
			if (c->back.has_return[of])
				tunnel_entry_json(j, &t, of);
		json_arr_end(j);
		tunnel_counters_json(j, &t);
		json_obj_end(j);
	} else {
		json_null(j, "return_tunnel");
	}
}

void status_tunnel_text(struct strbuf *out, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_tunnel_stats ts;
	struct reasm_stats rs;
	bool any = false;

	for (unsigned i = 0; i < c->front.n_next_hops; i++)
		any = any || c->front.next_hops[i].mode == NH_ENCAP;
	if (any) {
		sb_printf(out, "  %-16s %-12s %-26s %8s %8s %-7s %12s %9s %9s %9s %9s\n", "encapsulation", "outer",
			  "families", "path mtu", "tun mtu", "source", "packets", "fragments", "segments", "icmp sent",
			  "icmp recv");
		for (unsigned i = 0; i < c->front.n_next_hops; i++) {
			const struct cfg_next_hop *nh = &c->front.next_hops[i];
			struct lb_nh_tunnel t;

			if (nh->mode != NH_ENCAP)
				continue;
			lb_next_hop_tunnel(lb, i, &t);
			for (int of = 0, first = 1; of < 2; of++) {
				char fam[32] = "";

				if (!outer_used(nh, of))
					continue;
				for (int f = 0; f < 2; f++)
					if (outer_of(nh, f) == of)
						snprintf(fam + (fam[0] ? 4 : 0), sizeof(fam) - 4, "%s%s", fam[0] ? "," : "",
							 f ? "ipv6" : "ipv4");
				sb_printf(out, "  %-16s %-12s %-26s %8u %8u %-7s", first ? nh->name : "", of ? "ipv6" : "ipv4",
					  fam, t.path_mtu[of], t.tunnel_mtu[of], lb_mtu_source_name(t.source[of]));
				/* The counters are the next hop's, on its first line. */
				if (first)
					sb_printf(out, " %12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64,
						  t.encapsulated, t.fragments, t.segments, t.icmp_sent, t.icmp_received);
				sb_printf(out, "\n");
				first = 0;
			}
		}
	}
	lb_get_tunnel_stats(lb, &ts);
	if (c->has_back || c->has_return_endpoint || c->front.allowed.n)
		sb_printf(out, "  decapsulated %" PRIu64 " packets\n", ts.decapsulated);
	if (lb_reasm_stats(lb, &rs))
		sb_printf(out, "  reassembly: %" PRIu64 " datagrams from %" PRIu64 " fragments, %u in progress, %" PRIu64
			  " timed out, %" PRIu64 " refused for memory, %" PRIu64 " bad\n", rs.datagrams, rs.fragments,
			  rs.in_progress, rs.timeouts, rs.memory_drops, rs.bad);
	if (c->back.has_return[0] || c->back.has_return[1]) {
		struct lb_counter k = lb_return_counter(lb);
		struct lb_nh_tunnel t;

		lb_return_tunnel(lb, &t);
		sb_printf(out, "  return tunnel: %" PRIu64 " packets %" PRIu64 " bytes, %" PRIu64 " fragments, %" PRIu64
			  " segments, %" PRIu64 " icmp sent", k.packets, k.bytes, t.fragments, t.segments, t.icmp_sent);
		for (int of = 0; of < 2; of++)
			if (c->back.has_return[of])
				sb_printf(out, "; %s path mtu %u (%s), tunnel mtu %u", of ? "ipv6" : "ipv4", t.path_mtu[of],
					  lb_mtu_source_name(t.source[of]), t.tunnel_mtu[of]);
		sb_printf(out, "\n");
	}
	if (c->has_return_endpoint) {
		struct lb_counter k = lb_endpoint_counter(lb);

		sb_printf(out, "  return endpoint: %" PRIu64 " packets %" PRIu64 " bytes decapsulated and forwarded\n",
			  k.packets, k.bytes);
	}
	sb_printf(out, "  icmp errors: %" PRIu64 " sent (%" PRIu64 " relayed), %" PRIu64 " rate limited (%u/s, burst %u), %"
		  PRIu64 " received, %" PRIu64 " sent on to their flow's next hop\n", ts.icmp_sent, ts.icmp_relayed,
		  ts.icmp_rate_limited, c->icmp_rate, c->icmp_burst, ts.icmp_received, ts.icmp_followed);
}
