/* status: render counters from the lb and the I/O backend. */
#include "status.h"
#include "status_tunnel.h"

#include <inttypes.h>
#include <stdio.h>

#include "base/json.h"
#include "config/config.h"

static const char *opt_addr(bool has, const struct mslb_addr *a, char *buf, size_t len)
{
	return has ? mslb_addr_str(a, buf, len) : NULL;
}

void status_json(const struct status_info *s, struct strbuf *out)
{
	const struct mslb_config *c = lb_config(s->lb);
	char a[MSLB_PREFIXSTRLEN], b[MSLB_ADDRSTRLEN];
	struct json j;

	json_init(&j, out);
	json_obj_begin(&j, NULL);
	json_str(&j, "version", PACKAGE_VERSION);
	json_u64(&j, "pid", (uint64_t)s->pid);
	json_u64(&j, "uptime_s", s->uptime_s);
	json_str(&j, "config_file", s->config_file);
	json_str(&j, "config_loaded", s->loaded_at);
	json_u64(&j, "reloads", s->reloads);
	json_u64(&j, "reload_failures", s->reload_failures);
	json_arr_begin(&j, "roles");
	if (c->has_front)
		json_str(&j, NULL, "front");
	if (c->has_back)
		json_str(&j, NULL, "back");
	if (c->has_return_endpoint)
		json_str(&j, NULL, "return_endpoint");
	json_arr_end(&j);

	json_arr_begin(&j, "devices");
	json_obj_begin(&j, NULL);
	json_str(&j, "name", s->io->name);
	json_str(&j, "kind", s->io->kind);
	json_u64(&j, "mtu", c->tun_mtu);
	json_str(&j, "offloads", io_offload_names(s->io->offloads));
	json_u64(&j, "rx_packets", s->io->stats.rx_packets);
	json_u64(&j, "rx_bytes", s->io->stats.rx_bytes);
	json_u64(&j, "tx_packets", s->io->stats.tx_packets);
	json_u64(&j, "tx_bytes", s->io->stats.tx_bytes);
	json_u64(&j, "tx_errors", s->io->stats.tx_errors);
	json_u64(&j, "rx_errors", s->io->stats.rx_errors);
	json_obj_end(&j);
	for (unsigned i = 0; i < s->n_afp; i++) {
		const struct io_stats *st = &s->afp[i]->stats;

		json_obj_begin(&j, NULL);
		json_str(&j, "name", s->afp[i]->name);
		json_str(&j, "kind", s->afp[i]->kind);
		json_u64(&j, "rx_packets", st->rx_packets);
		json_u64(&j, "rx_bytes", st->rx_bytes);
		json_u64(&j, "tx_packets", st->tx_packets);
		json_u64(&j, "tx_bytes", st->tx_bytes);
		json_u64(&j, "tx_errors", st->tx_errors);
		json_u64(&j, "rx_errors", st->rx_errors);
		json_u64(&j, "rx_drops", st->rx_drops);
		json_u64(&j, "vlan_skipped", st->vlan_skipped);
		json_u64(&j, "tx_deferred", st->tx_deferred);
		json_u64(&j, "mtu_deferred", st->mtu_deferred);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (s->has_neigh) {
		json_obj_begin(&j, "next_hop_cache");
		json_u64(&j, "entries", s->neigh.entries);
		json_u64(&j, "resolved", s->neigh.resolved);
		json_u64(&j, "lookups", s->neigh.lookups);
		json_u64(&j, "misses", s->neigh.misses);
		json_u64(&j, "refreshes", s->neigh.refreshes);
		json_u64(&j, "unresolved", s->neigh.unresolved);
		json_u64(&j, "tun_fallbacks", s->neigh.tun_fallbacks);
		json_u64(&j, "probes", s->neigh.probes);
		json_obj_end(&j);
	} else {
		json_null(&j, "next_hop_cache");
	}

	if (c->has_front) {
		json_obj_begin(&j, "front");
		json_arr_begin(&j, "services");
		for (unsigned i = 0; i < c->front.n_services; i++)
			json_str(&j, NULL, mslb_addr_str(&c->front.services[i], a, sizeof(a)));
		json_arr_end(&j);
		json_str(&j, "unmatched", config_unmatched_name(c));
		json_arr_begin(&j, "next_hops");
		for (unsigned i = 0; i < c->front.n_next_hops; i++) {
			const struct cfg_next_hop *nh = &c->front.next_hops[i];
			struct lb_counter k = lb_next_hop_counter(s->lb, i);

			json_obj_begin(&j, NULL);
			json_str(&j, "name", nh->name);
			json_str(&j, "ipv4", opt_addr(nh->has4, &nh->a4, a, sizeof(a)));
			json_str(&j, "ipv6", opt_addr(nh->has6, &nh->a6, b, sizeof(b)));
			json_u64(&j, "packets", k.packets);
			json_u64(&j, "bytes", k.bytes);
			if (nh->server_id)
				json_u64(&j, "server_id", nh->server_id);
			else
				json_null(&j, "server_id");
			json_u64(&j, "weight", nh->weight);
			json_u64(&j, "hash_hits", lb_next_hop_hash_hits(s->lb, i));
			json_u64(&j, "port_hits", lb_next_hop_port_hits(s->lb, i));
			status_tunnel_nh_json(&j, s->lb, i);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		if (c->front.has_mptcp) {
			json_obj_begin(&j, "mptcp");
			json_arr_begin(&j, "service_ports");
			for (unsigned i = 0; i < c->front.n_service_ports; i++)
				json_u64(&j, NULL, c->front.service_ports[i]);
			json_arr_end(&j);
			json_obj_end(&j);
		} else {
			json_null(&j, "mptcp");
		}
		json_arr_begin(&j, "table");
		for (unsigned i = 0; i < c->front.n_table; i++) {
			const struct cfg_table_entry *e = &c->front.table[i];

			json_obj_begin(&j, NULL);
			json_str(&j, "source", mslb_prefix_str(&e->source, a, sizeof(a)));
			json_str(&j, "next_hop", c->front.next_hops[e->next_hop].name);
			json_u64(&j, "hits", lb_table_hits(s->lb, i));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_u64(&j, "unmatched_hits", lb_unmatched_hits(s->lb));
		json_obj_end(&j);
	} else {
		json_null(&j, "front");
	}

	if (c->has_back) {
		json_obj_begin(&j, "back");
		json_arr_begin(&j, "addresses");
		for (unsigned i = 0; i < c->back.n_addresses; i++) {
			const struct cfg_back_address *ba = &c->back.addresses[i];
			struct lb_counter k = lb_back_counter(s->lb, i);
			char v[MSLB_ADDRSTRLEN];

			json_obj_begin(&j, NULL);
			json_str(&j, "address", mslb_addr_str(&ba->address, a, sizeof(a)));
			json_str(&j, "service", mslb_addr_str(&ba->service, b, sizeof(b)));
			json_str(&j, "deliver_via", opt_addr(ba->has_via, &ba->via, v, sizeof(v)));
			json_u64(&j, "packets", k.packets);
			json_u64(&j, "bytes", k.bytes);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		if (c->back.has_mptcp) {
			json_obj_begin(&j, "mptcp");
			json_u64(&j, "server_id", c->back.server_id);
			json_u64(&j, "subflows", c->back.subflows);
			json_u64(&j, "add_addr_accepted", c->back.add_addr_accepted);
			json_obj_end(&j);
		} else {
			json_null(&j, "mptcp");
		}
		status_tunnel_back_json(&j, s->lb);
		json_obj_end(&j);
	} else {
		json_null(&j, "back");
	}
	status_tunnel_json(&j, s->lb);

	json_obj_begin(&j, "drops");
	for (int d = MSLB_OK + 1; d < MSLB_DROP_MAX; d++)
		json_u64(&j, mslb_drop_name((enum mslb_drop)d), lb_drops(s->lb, (enum mslb_drop)d));
	json_obj_end(&j);
	json_obj_end(&j);
	sb_append(out, "\n", 1);
}

static void uptime(uint64_t t, char *buf, size_t len)
{
	if (t >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600, t / 60 % 60, t % 60);
}

void status_text(const struct status_info *s, struct strbuf *out)
{
	const struct mslb_config *c = lb_config(s->lb);
	const struct io_stats *io = &s->io->stats;
	char a[MSLB_PREFIXSTRLEN], b[MSLB_ADDRSTRLEN], up[32];
	uint64_t total = 0;

	uptime(s->uptime_s, up, sizeof(up));
	sb_printf(out, "mslbd %s, pid %ld, up %s\n", PACKAGE_VERSION, s->pid, up);
	sb_printf(out, "config   %s (loaded %s; %u reloads, %u refused)\n", s->config_file,
		  s->loaded_at, s->reloads, s->reload_failures);
	sb_printf(out, "roles    %s%s%s%s%s\n", c->has_front ? "front" : "",
		  c->has_front && c->has_back ? ", " : "", c->has_back ? "back" : "",
		  (c->has_front || c->has_back) && c->has_return_endpoint ? ", " : "",
		  c->has_return_endpoint ? "return endpoint" : "");
	sb_printf(out, "device   %s (%s, mtu %u, offloads %s): rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64
		  " packets %" PRIu64 " bytes, %" PRIu64 " tx errors\n",
		  s->io->name, s->io->kind, c->tun_mtu, io_offload_names(s->io->offloads), io->rx_packets, io->rx_bytes, io->tx_packets,
		  io->tx_bytes, io->tx_errors);
	for (unsigned i = 0; i < s->n_afp; i++) {
		const struct io_stats *st = &s->afp[i]->stats;

		sb_printf(out, "device   %s (%s): rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64 " packets %" PRIu64
			  " bytes, %" PRIu64 " tx errors, %" PRIu64 " rx drops, %" PRIu64 " vlan skipped, %" PRIu64
			  " deferred to the TUN (%" PRIu64 " beyond the MTU)\n",
			  s->afp[i]->name, s->afp[i]->kind, st->rx_packets, st->rx_bytes, st->tx_packets, st->tx_bytes,
			  st->tx_errors, st->rx_drops, st->vlan_skipped, st->tx_deferred + st->mtu_deferred,
			  st->mtu_deferred);
	}
	if (s->has_neigh)
		sb_printf(out, "next hop cache  %u entries (%u resolved), %" PRIu64 " refreshes; %" PRIu64
			  " packets to the TUN instead, %" PRIu64 " of them unresolved, %" PRIu64
			  " to have a stale neighbour probed\n",
			  s->neigh.entries, s->neigh.resolved, s->neigh.refreshes, s->neigh.tun_fallbacks,
			  s->neigh.unresolved, s->neigh.probes);

	if (c->has_front) {
		sb_printf(out, "\nfront    services");
		for (unsigned i = 0; i < c->front.n_services; i++)
			sb_printf(out, " %s", mslb_addr_str(&c->front.services[i], a, sizeof(a)));
		sb_printf(out, "; unmatched sources: %s\n", config_unmatched_name(c));
		sb_printf(out, "  %-16s %-18s %-28s %12s %14s\n", "next hop", "ipv4", "ipv6", "packets", "bytes");
		for (unsigned i = 0; i < c->front.n_next_hops; i++) {
			const struct cfg_next_hop *nh = &c->front.next_hops[i];
			struct lb_counter k = lb_next_hop_counter(s->lb, i);

			sb_printf(out, "  %-16s %-18s %-28s %12" PRIu64 " %14" PRIu64 "\n", nh->name,
				  nh->has4 ? mslb_addr_str(&nh->a4, a, sizeof(a)) : "-",
				  nh->has6 ? mslb_addr_str(&nh->a6, b, sizeof(b)) : "-", k.packets, k.bytes);
		}
		if (c->front.has_mptcp) {
			sb_printf(out, "  mptcp: service ports");
			for (unsigned i = 0; i < c->front.n_service_ports; i++)
				sb_printf(out, " %u", c->front.service_ports[i]);
			sb_printf(out, " hashed by 5-tuple; any other TCP port is a server_id\n");
			sb_printf(out, "  %-16s %9s %6s %12s %12s\n", "next hop", "server_id", "weight", "hash hits", "port hits");
			for (unsigned i = 0; i < c->front.n_next_hops; i++)
				sb_printf(out, "  %-16s %9u %6u %12" PRIu64 " %12" PRIu64 "\n", c->front.next_hops[i].name,
					  c->front.next_hops[i].server_id, c->front.next_hops[i].weight,
					  lb_next_hop_hash_hits(s->lb, i), lb_next_hop_port_hits(s->lb, i));
		}
		sb_printf(out, "  %-44s %-16s %12s\n", "table: source", "next hop", "hits");
		for (unsigned i = 0; i < c->front.n_table; i++) {
			const struct cfg_table_entry *e = &c->front.table[i];

			sb_printf(out, "  %-44s %-16s %12" PRIu64 "\n", mslb_prefix_str(&e->source, a, sizeof(a)),
				  c->front.next_hops[e->next_hop].name, lb_table_hits(s->lb, i));
		}
		sb_printf(out, "  %-44s %-16s %12" PRIu64 "\n", "(unmatched)", config_unmatched_name(c),
			  lb_unmatched_hits(s->lb));
	}
	if (c->has_back) {
		sb_printf(out, "\nback     %-28s %-28s %12s %14s\n", "address", "service", "packets", "bytes");
		for (unsigned i = 0; i < c->back.n_addresses; i++) {
			const struct cfg_back_address *ba = &c->back.addresses[i];
			struct lb_counter k = lb_back_counter(s->lb, i);
			char v[MSLB_ADDRSTRLEN + 8];

			snprintf(v, sizeof(v), "%s", mslb_addr_str(&ba->service, b, sizeof(b)));
			sb_printf(out, "         %-28s %-28s %12" PRIu64 " %14" PRIu64 "%s%s\n",
				  mslb_addr_str(&ba->address, a, sizeof(a)), v, k.packets, k.bytes,
				  ba->has_via ? "  via " : "",
				  ba->has_via ? mslb_addr_str(&ba->via, b, sizeof(b)) : "");
		}
	}
	sb_printf(out, "\n");
	status_tunnel_text(out, s->lb);
	if (c->has_back && c->back.has_mptcp)
		sb_printf(out, "  mptcp: server_id %u announced on each service address (ADD_ADDR port); limits subflows %u add_addr_accepted %u\n",
			  c->back.server_id, c->back.subflows, c->back.add_addr_accepted);
	sb_printf(out, "\ndrops   ");
	for (int d = MSLB_OK + 1; d < MSLB_DROP_MAX; d++) {
		uint64_t n = lb_drops(s->lb, (enum mslb_drop)d);

		total += n;
		if (n)
			sb_printf(out, " %s %" PRIu64, mslb_drop_name((enum mslb_drop)d), n);
	}
	sb_printf(out, "%s\n", total ? "" : " none");
}
