/* status: what `mslbd status` shows, described once: this walk of the
 * counters and the config calls a writer, which makes the table for people
 * or the JSON; the encapsulation parts are in status_tunnel.c. */
#include "status.h"
#include "status_persist.h"
#include "status_redirect.h"
#include "status_tunnel.h"

#include "base/writer.h"
#include "config/config.h"

static const char *opt_addr(bool has, const struct mslb_addr *a, char *buf, size_t len)
{
	return has ? mslb_addr_str(a, buf, len) : NULL;
}

static void io_counters(struct writer *w, const struct io_stats *st)
{
	wr_u64(w, "rx_packets", NULL, st->rx_packets);
	wr_u64(w, "rx_bytes", NULL, st->rx_bytes);
	wr_u64(w, "tx_packets", NULL, st->tx_packets);
	wr_u64(w, "tx_bytes", NULL, st->tx_bytes);
	wr_u64(w, "tx_errors", NULL, st->tx_errors);
	wr_u64(w, "rx_errors", NULL, st->rx_errors);
}

static void devices(struct writer *w, const struct status_info *s)
{
	const char *batching;
	char why[64];

	wr_list(w, "devices", NULL);
	wr_obj(w, NULL, "device");
	wr_str(w, "name", "", s->io->name);
	wr_str(w, "kind", NULL, s->io->kind);
	wr_u64(w, "mtu", NULL, lb_config(s->lb)->tun_mtu);
	wr_str(w, "offloads", NULL, io_offload_names(s->io->offloads));
	batching = io_batching(s->io, why, sizeof(why));
	if (batching) {
		wr_str(w, "batching", NULL, batching);
		if (why[0])
			wr_str(w, "io_uring_refused", NULL, why);
	}
	io_counters(w, &s->io->stats);
	wr_end(w);
	for (unsigned i = 0; i < s->n_afp; i++) {
		const struct io_stats *st = &s->afp[i]->stats;

		wr_obj(w, NULL, "device");
		wr_str(w, "name", "", s->afp[i]->name);
		wr_str(w, "kind", NULL, s->afp[i]->kind);
		io_counters(w, st);
		wr_u64(w, "rx_drops", NULL, st->rx_drops);
		wr_u64(w, "vlan_skipped", NULL, st->vlan_skipped);
		wr_u64(w, "tx_deferred", NULL, st->tx_deferred);
		wr_u64(w, "mtu_deferred", NULL, st->mtu_deferred);
		wr_end(w);
	}
	wr_end(w);
	if (!s->has_neigh) {
		wr_null(w, "next_hop_cache", NULL);
		return;
	}
	wr_obj(w, "next_hop_cache", NULL);
	wr_u64(w, "entries", NULL, s->neigh.entries);
	wr_u64(w, "resolved", NULL, s->neigh.resolved);
	wr_u64(w, "lookups", NULL, s->neigh.lookups);
	wr_u64(w, "misses", NULL, s->neigh.misses);
	wr_u64(w, "refreshes", NULL, s->neigh.refreshes);
	wr_u64(w, "unresolved", NULL, s->neigh.unresolved);
	wr_u64(w, "tun_fallbacks", NULL, s->neigh.tun_fallbacks);
	wr_u64(w, "probes", NULL, s->neigh.probes);
	wr_end(w);
}

static uint64_t ago(double now, double then)
{
	return now > then ? (uint64_t)(now - then) : 0;
}

/* A next hop's state (up, down, drain); h: what the health module says
 * of it (NULL without one). */
static void nh_state(struct writer *w, const struct status_info *s, unsigned i, const struct health_info *h)
{
	if (!h) {
		wr_str(w, "state", NULL, lb_next_hop_usable(s->lb, i) ? "up" : "drain");
		wr_null(w, "state_since_s", "state since");
		return;
	}
	wr_str(w, "state", NULL, h->drain ? "drain" : h->up ? "up" : "down");
	wr_secs(w, "state_since_s", "state since", ago(s->now, h->since));
}

static void nh_check(struct writer *w, const struct status_info *s, unsigned i, const struct health_info *h)
{
	if (!h || h->kind == HC_NONE) {
		wr_null(w, "check", NULL);
		return;
	}
	wr_obj(w, "check", NULL);
	wr_str(w, "kind", NULL, config_check_kind_name(h->kind));
	wr_str(w, "health", NULL, h->up ? "up" : "down");
	if (h->last_at) {
		wr_str(w, "last", "last probe", h->last);
		wr_secs(w, "last_s", "last probe ago", ago(s->now, h->last_at));
		wr_u64(w, "latency_us", "latency (us)", (uint64_t)(h->latency * 1e6));
	} else {
		wr_null(w, "last", "last probe");
		wr_null(w, "last_s", "last probe ago");
		wr_null(w, "latency_us", "latency (us)");
	}
	wr_u64(w, "in_a_row", NULL, h->in_a_row);
	wr_u64(w, "probes", NULL, h->probes);
	wr_u64(w, "failures", NULL, h->failures);
	wr_u64(w, "probe_packets", NULL, lb_next_hop_probes(s->lb, i));
	wr_end(w);
}

static void next_hops(struct writer *w, const struct status_info *s)
{
	const struct mslb_lb *lb = s->lb;
	const struct mslb_config *c = lb_config(lb);
	char a[MSLB_ADDRSTRLEN], b[MSLB_ADDRSTRLEN];

	wr_list(w, "next_hops", NULL);
	for (unsigned i = 0; i < c->front.n_next_hops; i++) {
		const struct cfg_next_hop *nh = &c->front.next_hops[i];
		struct lb_counter k = lb_next_hop_counter(lb, i);
		struct health_info h;

		wr_obj(w, NULL, "next hop");
		wr_str(w, "name", "", nh->name);
		wr_str(w, "ipv4", NULL, opt_addr(nh->has4, &nh->a4, a, sizeof(a)));
		wr_str(w, "ipv6", NULL, opt_addr(nh->has6, &nh->a6, b, sizeof(b)));
		if (s->health)
			health_get(s->health, i, &h);
		nh_state(w, s, i, s->health ? &h : NULL);
		wr_u64(w, "packets", NULL, k.packets);
		wr_u64(w, "bytes", NULL, k.bytes);
		if (nh->server_id)
			wr_u64(w, "server_id", NULL, nh->server_id);
		else
			wr_null(w, "server_id", NULL);
		wr_u64(w, "weight", NULL, nh->weight);
		wr_u64(w, "hash_hits", NULL, lb_next_hop_hash_hits(lb, i));
		wr_u64(w, "port_hits", NULL, lb_next_hop_port_hits(lb, i));
		nh_check(w, s, i, s->health ? &h : NULL);
		status_tunnel_nh(w, lb, i);
		wr_end(w);
	}
	wr_end(w);
}

/* Proposal 2: SYNs by kind, the cost of finding keys, what routed the rest. */
static void p2_front(struct writer *w, const struct mslb_lb *lb)
{
	struct lb_p2_stats p = lb_p2_stats(lb);

	wr_obj(w, "proposal2", "proposal 2");
	wr_u64(w, "key_tries", NULL, lb_config(lb)->front.key_tries);
	wr_u64(w, "capable_syns", NULL, p.capable);
	wr_u64(w, "join_syns", NULL, p.joins);
	wr_u64(w, "plain_syns", NULL, p.plain_syns);
	wr_u64(w, "keys_tried", NULL, p.tries);
	wr_u64(w, "keys_on_hash", "keys on the hash's next hop", p.alt_hits);
	wr_u64(w, "no_room", NULL, p.no_room);
	wr_u64(w, "no_key", NULL, p.no_key);
	wr_u64(w, "by_tsecr", "by TSecr", p.ts_routed);
	wr_u64(w, "by_tsecr_hash", "TSecr says hash", p.ts_hash);
	wr_u64(w, "by_hash", "no timestamp, by hash", p.hashed);
	wr_u64(w, "icmp_by_tsval", "ICMP errors by TSval", p.icmp_routed);
	wr_end(w);
}

static void front(struct writer *w, const struct status_info *s)
{
	const struct mslb_lb *lb = s->lb;
	const struct mslb_config *c = lb_config(lb);
	char a[MSLB_PREFIXSTRLEN];

	if (!c->has_front) {
		wr_null(w, "front", NULL);
		return;
	}
	wr_obj(w, "front", NULL);
	wr_list(w, "services", NULL);
	for (unsigned i = 0; i < c->front.n_services; i++)
		wr_str(w, NULL, NULL, mslb_addr_str(&c->front.services[i], a, sizeof(a)));
	wr_end(w);
	wr_str(w, "unmatched", NULL, config_unmatched_name(c));
	next_hops(w, s);
	if (c->front.has_mptcp) {
		wr_obj(w, "mptcp", NULL);
		wr_list(w, "service_ports", NULL);
		for (unsigned i = 0; i < c->front.n_service_ports; i++)
			wr_u64(w, NULL, NULL, c->front.service_ports[i]);
		wr_end(w);
		if (c->front.mptcp_proposal == 2)
			p2_front(w, lb);
		wr_end(w);
	} else {
		wr_null(w, "mptcp", NULL);
	}
	wr_list(w, "table", NULL);
	for (unsigned i = 0; i < c->front.n_table; i++) {
		const struct cfg_table_entry *e = &c->front.table[i];

		wr_obj(w, NULL, "table");
		wr_str(w, "source", "", mslb_prefix_str(&e->source, a, sizeof(a)));
		wr_str(w, "next_hop", NULL, c->front.next_hops[e->next_hop].name);
		wr_str(w, "backup", NULL, e->has_backup ? c->front.next_hops[e->backup].name : NULL);
		wr_u64(w, "hits", NULL, lb_table_hits(lb, i));
		wr_u64(w, "fallbacks", NULL, lb_table_fallbacks(lb, i));
		wr_end(w);
	}
	wr_end(w);
	wr_u64(w, "unmatched_hits", NULL, lb_unmatched_hits(lb));
	status_persist_front(w, lb);
	wr_end(w);
}

static void back(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	char a[MSLB_ADDRSTRLEN], b[MSLB_ADDRSTRLEN], v[MSLB_ADDRSTRLEN];

	if (!c->has_back) {
		wr_null(w, "back", NULL);
		return;
	}
	wr_obj(w, "back", NULL);
	wr_list(w, "addresses", NULL);
	for (unsigned i = 0; i < c->back.n_addresses; i++) {
		const struct cfg_back_address *ba = &c->back.addresses[i];
		struct lb_counter k = lb_back_counter(lb, i);

		wr_obj(w, NULL, "address");
		wr_str(w, "address", "", mslb_addr_str(&ba->address, a, sizeof(a)));
		wr_str(w, "service", NULL, mslb_addr_str(&ba->service, b, sizeof(b)));
		wr_str(w, "deliver_via", NULL, opt_addr(ba->has_via, &ba->via, v, sizeof(v)));
		wr_u64(w, "packets", NULL, k.packets);
		wr_u64(w, "bytes", NULL, k.bytes);
		wr_end(w);
	}
	wr_end(w);
	if (c->back.has_mptcp) {
		wr_obj(w, "mptcp", NULL);
		wr_u64(w, "server_id", NULL, c->back.server_id);
		wr_u64(w, "subflows", NULL, c->back.subflows);
		wr_u64(w, "add_addr_accepted", NULL, c->back.add_addr_accepted);
		wr_end(w);
	} else {
		wr_null(w, "mptcp", NULL);
	}
	{
		struct lb_p2b_stats p = lb_p2b_stats(lb);

		wr_obj(w, "proposal2", "proposal 2");
		wr_u64(w, "options_stripped", NULL, p.stripped);
		wr_u64(w, "options_bad", NULL, p.bad);
		wr_u64(w, "rules_asked", "redirect rules asked", p.rules);
		wr_u64(w, "rules_failed", NULL, p.rules_failed);
		wr_u64(w, "alternate_unknown", NULL, p.alt_unknown);
		if (c->back.has_p2) {
			wr_obj(w, "subflows", NULL);
			wr_u64(w, "now", NULL, p.flows);
			wr_u64(w, "max", NULL, c->back.p2_max_flows);
			wr_u64(w, "made", NULL, p.flows_made);
			wr_u64(w, "full", NULL, p.flows_full);
			wr_u64(w, "without_syn", "without a SYN seen", p.flows_late);
			wr_u64(w, "expired", NULL, p.flows_expired);
			wr_u64(w, "keys", "front keys given", p.keys);
			wr_u64(w, "tsval", "TSval rewritten", p.tsval);
			wr_u64(w, "tsecr", "TSecr restored", p.tsecr);
			wr_u64(w, "tsecr_unknown", "TSecr unknown", p.tsecr_unknown);
			wr_end(w);
			wr_obj(w, "keys", "key translation");
			wr_u64(w, "connections", NULL, p.conns);
			wr_u64(w, "full", NULL, p.conns_full);
			wr_u64(w, "token_clash", "token clashes", p.token_clash);
			wr_u64(w, "server_keys", "server keys learned", p.server_keys);
			wr_u64(w, "join_tokens", "join tokens translated", p.join_tokens);
			wr_u64(w, "join_unknown", "joins to unknown tokens", p.join_unknown);
			wr_u64(w, "hmacs", "HMACs signed again", p.hmacs);
			wr_u64(w, "hmacs_bad", "HMACs that failed", p.hmacs_bad);
			wr_u64(w, "dsn", "DSNs translated", p.dsn);
			wr_u64(w, "data_acks", "data ACKs translated", p.data_acks);
			wr_u64(w, "untranslated", "segments without state", p.untranslated);
			wr_u64(w, "early_acks", "early handshake ACKs held", p.early_acks);
			wr_end(w);
		} else {
			wr_null(w, "subflows", NULL);
			wr_null(w, "keys", NULL);
		}
		wr_end(w);
	}
	status_persist_back(w, lb);
	status_tunnel_back(w, lb);
	wr_end(w);
}

void status_write(const struct status_info *s, struct writer *w)
{
	const struct mslb_config *c = lb_config(s->lb);

	wr_obj(w, NULL, "mslbd");
	wr_str(w, "version", "", PACKAGE_VERSION);
	wr_u64(w, "pid", NULL, (uint64_t)s->pid);
	wr_secs(w, "uptime_s", "uptime", s->uptime_s);
	wr_str(w, "config_file", NULL, s->config_file);
	wr_str(w, "config_loaded", NULL, s->loaded_at);
	wr_u64(w, "reloads", NULL, s->reloads);
	wr_u64(w, "reload_failures", NULL, s->reload_failures);
	wr_list(w, "roles", NULL);
	if (c->has_front)
		wr_str(w, NULL, NULL, "front");
	if (c->has_back)
		wr_str(w, NULL, NULL, "back");
	if (c->has_return_endpoint)
		wr_str(w, NULL, NULL, "return_endpoint");
	wr_end(w);
	devices(w, s);
	front(w, s);
	back(w, s->lb);
	status_redirect(w, s->lb, s->rdr, s->now);
	status_tunnel(w, s->lb);
	wr_obj(w, "drops", NULL);
	for (int d = MSLB_OK + 1; d < MSLB_DROP_MAX; d++)
		wr_u64(w, mslb_drop_name((enum mslb_drop)d), mslb_drop_name((enum mslb_drop)d),
		       lb_drops(s->lb, (enum mslb_drop)d));
	wr_end(w);
	wr_end(w);
}

void status_text(const struct status_info *s, struct strbuf *out)
{
	struct writer_text wt;

	writer_text_init(&wt, out);
	status_write(s, &wt.w);
}

void status_json(const struct status_info *s, struct strbuf *out)
{
	struct writer_json wj;

	writer_json_init(&wj, out);
	status_write(s, &wj.w);
}
