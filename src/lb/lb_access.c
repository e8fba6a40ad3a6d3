/* lb_access: what the daemon sets on a data path (clock, emit callback,
 * route MTUs) and what `mslbd status` reads from it. */
#include "lb.h"

#include "lb_p2.h"
#include "lb_state.h"
#include "lb_tunnel.h"
#include "net/encap.h"

const struct mslb_config *lb_config(const struct mslb_lb *lb)
{
	return lb->cfg;
}

struct lb_counter lb_next_hop_counter(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].c;
}

uint64_t lb_table_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->table_hits[i];
}

uint64_t lb_unmatched_hits(const struct mslb_lb *lb)
{
	return lb->unmatched_hits;
}

uint64_t lb_next_hop_hash_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].hash_hits;
}

uint64_t lb_next_hop_port_hits(const struct mslb_lb *lb, unsigned i)
{
	return lb->nh[i].port_hits;
}

uint64_t lb_next_hop_probes(const struct mslb_lb *lb, unsigned i)
{
	return i < lb->cfg->front.n_next_hops ? lb->nh[i].probes : 0;
}

uint64_t lb_table_fallbacks(const struct mslb_lb *lb, unsigned i)
{
	return lb->table_fallbacks[i];
}

struct lb_counter lb_back_counter(const struct mslb_lb *lb, unsigned i)
{
	return lb->back[i];
}

uint64_t lb_drops(const struct mslb_lb *lb, enum mslb_drop d)
{
	return (unsigned)d < MSLB_DROP_MAX ? lb->drops[d] : 0;
}

void lb_count_drop(struct mslb_lb *lb, enum mslb_drop d)
{
	if ((unsigned)d < MSLB_DROP_MAX)
		lb->drops[d]++;
}

void lb_set_emit(struct mslb_lb *lb, lb_emit_fn fn, void *ctx)
{
	lb->emit = fn;
	lb->emit_ctx = ctx;
}

void lb_set_emit_uso(struct mslb_lb *lb, bool on)
{
	lb->emit_uso = on;
}

void lb_set_emit_tunnel_gso(struct mslb_lb *lb, unsigned families)
{
	lb->emit_tnl = (uint8_t)families;
}

void lb_set_redirect(struct mslb_lb *lb, struct rdr *r)
{
	lb->rdr = r;
}

uint64_t lb_from_peers(const struct mslb_lb *lb)
{
	return lb->from_peers;
}

void lb_expire(struct mslb_lb *lb, double now)
{
	lb_p2_back_tick(lb, now);
	lb_persist_tick(lb, now);
}

void lb_take_state(struct mslb_lb *lb, struct mslb_lb *old)
{
	struct lb_p2back *b;

	lb_persist_take(lb, old);
	if (lb->p2back && old->p2back && lb->p2back->cap == old->p2back->cap) {
		b = lb->p2back;
		lb->p2back = old->p2back;
		old->p2back = b;
	}
}

struct lb_tcount lb_redirect_tunnel(const struct mslb_lb *lb)
{
	return lb->redirect_t;
}

struct lb_p2_stats lb_p2_stats(const struct mslb_lb *lb)
{
	return lb->p2;
}

struct lb_p2b_stats lb_p2b_stats(const struct mslb_lb *lb)
{
	return lb->p2b;
}

void lb_set_time(struct mslb_lb *lb, double now)
{
	lb->now = now;
	if (lb->reasm && now - lb->last_expire >= 1.0) {
		reasm_expire(lb->reasm, now);
		lb->last_expire = now;
	}
}

void lb_set_route_mtu(struct mslb_lb *lb, unsigned i, bool outer_v6, unsigned mtu)
{
	if (i < lb->cfg->front.n_next_hops)
		lb->nh[i].tun[outer_v6].route_mtu = mtu;
}

void lb_set_return_mtu(struct mslb_lb *lb, bool v6, unsigned mtu)
{
	lb->fam[v6].ret.route_mtu = mtu;
}

/* A tunnel's MTUs, per outer family, and what it made. */
static void tunnel_out(const struct mslb_lb *lb, const struct lb_tunnel *v4, const struct lb_tunnel *v6,
		       const struct lb_tcount *c, bool gue, struct lb_nh_tunnel *out)
{
	const struct lb_tunnel *t[2] = { v4, v6 };

	for (int f = 0; f < 2; f++) {
		out->path_mtu[f] = lb_tunnel_mtu(lb, t[f], &out->source[f]);
		out->tunnel_mtu[f] = out->path_mtu[f] - encap_overhead_of(f ? 6 : 4, gue);
		out->expires_in[f] = out->source[f] == LB_MTU_ICMP ? t[f]->expires - lb->now : 0;
	}
	out->encapsulated = c->encapsulated;
	out->fragments = c->fragments;
	out->segments = c->segments;
	out->uso = c->uso;
	out->udp_tunnel = c->udp_tunnel;
	out->icmp_sent = c->icmp_sent;
	out->icmp_received = c->icmp_received;
	out->icmp_rate_limited = c->icmp_rate_limited;
}

void lb_next_hop_tunnel(const struct mslb_lb *lb, unsigned i, struct lb_nh_tunnel *out)
{
	tunnel_out(lb, &lb->nh[i].tun[0], &lb->nh[i].tun[1], &lb->nh[i].t,
		   lb->cfg->front.next_hops[i].encap == ENCAP_GUE, out);
}

void lb_return_tunnel(const struct mslb_lb *lb, struct lb_nh_tunnel *out)
{
	tunnel_out(lb, &lb->fam[0].ret, &lb->fam[1].ret, &lb->ret_t, false, out);
}

void lb_get_tunnel_stats(const struct mslb_lb *lb, struct lb_tunnel_stats *out)
{
	*out = lb->ts;
}

struct lb_counter lb_return_counter(const struct mslb_lb *lb)
{
	return lb->ret;
}

struct lb_counter lb_endpoint_counter(const struct mslb_lb *lb)
{
	return lb->endpoint;
}

bool lb_reasm_stats(const struct mslb_lb *lb, struct reasm_stats *out)
{
	if (!lb->reasm)
		return false;
	reasm_get_stats(lb->reasm, out);
	return true;
}

const char *lb_mtu_source_name(enum lb_mtu_source s)
{
	switch (s) {
	case LB_MTU_ROUTE: return "route";
	case LB_MTU_CONFIG: return "config";
	case LB_MTU_ICMP: return "icmp";
	default: return "default";
	}
}
