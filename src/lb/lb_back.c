/* lb_back: the back (MSLB-B, draft-matsuhira-mslb-17 section 5): a packet
 * to one of its addresses IP_B gets its service address IP_S back, or,
 * when it came through a tunnel, loses its outer header. */
#include "lb_role.h"

#include "lb_p2.h"
#include "lb_tunnel.h"
#include "net/p2opt.h"
#include "net/xlate.h"

void lb_back_at(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f, int k)
{
	unsigned i = f->back_index[k];

	xlate_set_dst(v, lb->cfg->back.addresses[i].service.bytes);
	lb_back_count(lb, i, v->len);
}

/* A back with back.proposal2 or redirect peers, or a packet with IP
 * options: the front's options out before the rewrite, the subflow's
 * state after it, a flow another back owns or had before sent there. Out
 * of line and reached by a tail call, so that the usual back keeps its
 * short path and small frame. */
static __attribute__((noinline)) enum mslb_drop back_more(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
							   const struct lb_family *f, int k)
{
	struct p2opt o, mark;
	int n = 0, m;
	enum mslb_drop r;

	if (lb->p2back) {
		n = lb_p2_back_strip(lb, p, v, &o);
		if (n < 0) {
			lb->p2b.bad++;
			return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
		}
	}
	m = lb_persist_strip(lb, p, v, &mark);
	if (m < 0)
		return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
	lb_back_at(lb, v, f, k);
	p->len = v->len;
	if (lb_persist_back(lb, p, v, m > 0 ? &mark : NULL, -1, &r))
		return r;
	if (lb->p2back) {
		if (n > 0)
			lb_p2_back_own(lb, v, &o);
		if (lb_p2_back_in(lb, p, v, n > 0 ? &o : NULL)) {
			p->len = 0;
			return MSLB_OK;
		}
	}
	if (lb->rdr)
		return lb_redirect(lb, p, v, false);
	return MSLB_OK;
}

enum mslb_drop lb_back(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, int k, bool tunnel,
		       bool partial)
{
	const struct lb_family *f = lb_fam(lb, v->version);

	if (tunnel)
		return lb_back_decap(lb, p, v);
	/* Errors about the return tunnel come back to IP_B. */
	if (f->has_ret && !partial && lb_icmp_about_tunnel(lb, v)) {
		p->len = 0;
		return MSLB_OK;
	}
	if (lb->p2back || lb->rdr || lb->pback || lb_has_options(v))
		return back_more(lb, p, v, f, k);
	lb_back_at(lb, v, f, k);
	p->len = v->len;
	return MSLB_OK;
}
