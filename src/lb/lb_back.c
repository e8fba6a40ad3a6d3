/* lb_back: the back (MSLB-B, draft-matsuhira-mslb-17 section 5): a packet
 * to one of its addresses IP_B gets its service address IP_S back, or,
 * when it came through a tunnel, loses its outer header. */
#include "lb_role.h"

#include "lb_p2.h"
#include "lb_tunnel.h"
#include "net/xlate.h"

void lb_back_at(struct mslb_lb *lb, struct pkt_view *v, const struct lb_family *f, int k)
{
	unsigned i = f->back_index[k];

	xlate_set_dst(v, lb->cfg->back.addresses[i].service.bytes);
	lb_back_count(lb, i, v->len);
}

enum mslb_drop lb_back_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct lb_back_opts *b)
{
	int r;

	b->p2 = b->marked = false;
	if (lb->p2back) {
		r = lb_p2_back_strip(lb, p, v, &b->o);
		if (r < 0) {
			lb->p2b.bad++;
			return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
		}
		b->p2 = r > 0;
	}
	r = lb_persist_strip(lb, p, v, &b->mark);
	if (r < 0)
		return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
	b->marked = r > 0;
	return MSLB_OK;
}

enum mslb_drop lb_back_deliver(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
			       const struct lb_back_opts *b, int peer)
{
	enum mslb_drop r;

	if (lb_persist_back(lb, p, v, b->marked ? &b->mark : NULL, peer, &r))
		return r;
	if (lb->p2back) {
		if (b->p2)
			lb_p2_back_own(lb, v, &b->o);
		if (lb_p2_back_in(lb, p, v, b->p2 ? &b->o : NULL)) {
			p->len = 0;
			return MSLB_OK;
		}
	}
	if (lb->rdr)
		return lb_redirect(lb, p, v, peer >= 0);
	return MSLB_OK;
}

/* A back with back.proposal2 or redirect peers, or a packet with IP
 * options: the fronts' options out before the rewrite, what they ask for
 * after it. Out of line and reached by a tail call, so that the usual
 * back keeps its short path and small frame. */
static __attribute__((noinline)) enum mslb_drop back_more(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v,
							   const struct lb_family *f, int k)
{
	struct lb_back_opts b;
	enum mslb_drop r = lb_back_strip(lb, p, v, &b);

	if (r != MSLB_OK)
		return r;
	lb_back_at(lb, v, f, k);
	p->len = v->len;
	return lb_back_deliver(lb, p, v, &b, -1);
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
