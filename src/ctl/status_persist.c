/* status_persist: what the front's previous generation and the back's
 * flow table did (lb_persist.c). */
#include "status_persist.h"

#include "config/config.h"

void status_persist_front(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_persist_stats s = lb_persist_stats(lb);

	wr_obj(w, "persistence", NULL);
	wr_secs(w, "window_s", "window", c->front.persistence);
	wr_secs(w, "previous_left_s", "previous generation left", (uint64_t)(s.window_left + 0.5));
	wr_u64(w, "generations", "changes", s.generations);
	wr_u64(w, "marked", "packets marked", s.marked);
	wr_u64(w, "too_big", "too big to mark", s.mark_too_big);
	wr_u64(w, "unmarked", "no room to mark", s.unmarked);
	wr_u64(w, "gso_shrunk", "super-packets cut smaller", s.gso_shrunk);
	wr_u64(w, "taken_out", "foreign options taken out", s.taken_out);
	wr_end(w);
}

void status_persist_back(struct writer *w, const struct mslb_lb *lb)
{
	const struct mslb_config *c = lb_config(lb);
	struct lb_persist_stats s = lb_persist_stats(lb);

	wr_obj(w, "persistence", NULL);
	wr_u64(w, "marks", "marked packets", s.marks);
	wr_u64(w, "marks_ignored", "marks without redirect peers", s.ignored);
	if (!c->redirect.n_peers) {
		wr_null(w, "flows", NULL);
		wr_end(w);
		return;
	}
	wr_obj(w, "flows", NULL);
	wr_u64(w, "now", NULL, s.flows);
	wr_u64(w, "max", NULL, s.flows_cap);
	wr_secs(w, "tcp_idle_s", "TCP idle", c->back.persist_tcp_idle);
	wr_secs(w, "udp_idle_s", "UDP idle", c->back.persist_udp_idle);
	wr_str(w, "sock_diag", NULL, c->back.persist_sock_diag ? "yes" : "no");
	wr_u64(w, "here", "recorded as this server's", s.new_flows);
	wr_u64(w, "known", "marked packets of known flows", s.known);
	wr_u64(w, "sock_diag_yes", "marked flows the server holds", s.sock_diag_yes);
	wr_u64(w, "sock_diag_no", "marked flows it does not", s.sock_diag_no);
	wr_u64(w, "handed", "flows handed to the previous back", s.handed_flows);
	wr_u64(w, "handed_packets", "packets handed", s.handed_packets);
	wr_u64(w, "previous_unknown", "previous next hop no peer", s.prev_unknown);
	wr_u64(w, "cycles", "handed back where they came from", s.cycles);
	wr_u64(w, "full", NULL, s.full);
	wr_u64(w, "expired", NULL, s.expired);
	wr_end(w);
	wr_end(w);
}
