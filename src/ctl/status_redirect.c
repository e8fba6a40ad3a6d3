/* status_redirect: rules, owned flows, messages and refusals of the
 * redirection protocol, in all and per peer. */
#include "status_redirect.h"

#include <inttypes.h>
#include <stdio.h>

#include "config/config.h"

static void counts(struct writer *w, const struct rdr_counts *c)
{
	wr_u64(w, "rules", NULL, c->rules);
	wr_u64(w, "owned", "owned flows", c->owned);
	wr_u64(w, "sent", "messages sent", c->sent);
	wr_u64(w, "received", NULL, c->received);
	wr_u64(w, "acknowledged", NULL, c->acked);
	wr_u64(w, "retransmitted", NULL, c->retransmitted);
	wr_u64(w, "lost", "unacknowledged", c->lost);
	wr_u64(w, "refused_by_peer", NULL, c->refused_by_peer);
	wr_u64(w, "redirected_packets", NULL, c->redirected);
	wr_u64(w, "redirected_bytes", NULL, c->redirected_bytes);
	wr_obj(w, "refused", NULL);
	for (int i = 0; i < RDR_REF_MAX; i++)
		wr_u64(w, rdr_refuse_name((enum rdr_refuse)i), NULL, c->refused[i]);
	wr_end(w);
}

void status_redirect(struct writer *w, const struct mslb_lb *lb, const struct rdr *r, double now)
{
	const struct mslb_config *c = r ? rdr_config(r) : lb_config(lb);
	struct lb_tcount t = lb_redirect_tunnel(lb);
	struct rdr_stats s;
	char a[MSLB_ADDRSTRLEN], b[MSLB_ADDRSTRLEN], e[24];

	if (!r) {
		wr_null(w, "redirect", NULL);
		return;
	}
	rdr_get_stats(r, &s, now);
	snprintf(e, sizeof(e), "%016" PRIx64, s.epoch);
	wr_obj(w, "redirect", NULL);
	wr_str(w, "address", NULL, mslb_addr_str(&c->redirect.address, a, sizeof(a)));
	wr_u64(w, "port", NULL, c->redirect.port);
	wr_str(w, "epoch", NULL, e);
	wr_u64(w, "key_id", "signing key id", c->redirect.keys[0].id);
	wr_u64(w, "max_rules", NULL, c->redirect.max_rules);
	wr_secs(w, "oldest_rule_s", "oldest rule", (uint64_t)s.oldest);
	wr_u64(w, "installed", "rules installed", s.installed);
	wr_u64(w, "expired", NULL, s.expired);
	wr_u64(w, "deleted", NULL, s.deleted);
	wr_u64(w, "queue_full", NULL, s.queue_full);
	wr_u64(w, "from_peers", "packets from peers", lb_from_peers(lb));
	wr_obj(w, "tunnel", NULL);
	wr_u64(w, "encapsulated", NULL, t.encapsulated);
	wr_u64(w, "fragments", NULL, t.fragments);
	wr_u64(w, "segments", NULL, t.segments);
	wr_u64(w, "icmp_sent", NULL, t.icmp_sent);
	wr_u64(w, "icmp_rate_limited", NULL, t.icmp_rate_limited);
	wr_end(w);
	counts(w, &s.all);
	wr_list(w, "peers", NULL);
	for (unsigned i = 0; i < c->redirect.n_peers; i++) {
		const struct cfg_redirect_peer *p = &c->redirect.peers[i];
		struct rdr_counts pc;

		rdr_get_peer(r, i, &pc);
		wr_obj(w, NULL, "peer");
		wr_str(w, "name", "", p->name);
		wr_str(w, "address", NULL, mslb_addr_str(&p->address, a, sizeof(a)));
		wr_str(w, "tunnel_ipv4", NULL, p->has_tunnel[0] ? mslb_addr_str(&p->tunnel[0], b, sizeof(b)) : NULL);
		wr_str(w, "tunnel_ipv6", NULL, p->has_tunnel[1] ? mslb_addr_str(&p->tunnel[1], b, sizeof(b)) : NULL);
		counts(w, &pc);
		wr_end(w);
	}
	wr_end(w);
	wr_end(w);
}
