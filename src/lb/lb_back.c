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

enum mslb_drop lb_back(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, int k, bool tunnel,
		       bool partial)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	struct p2opt o;
	int n;

	if (tunnel)
		return lb_back_decap(lb, p, v);
	/* Errors about the return tunnel come back to IP_B. */
	if (f->has_ret && !partial && lb_icmp_about_tunnel(lb, v)) {
		p->len = 0;
		return MSLB_OK;
	}
	/* A Proposal 2 front's SYN: its option goes before the rewrite. */
	n = lb_p2_back_strip(lb, p, v, &o);
	if (n < 0) {
		lb->p2b.bad++;
		return v->version == 4 ? MSLB_DROP_BAD_OPTIONS : MSLB_DROP_BAD_EXT_HEADER;
	}
	lb_back_at(lb, v, f, k);
	p->len = v->len;
	if (n > 0)
		lb_p2_back_own(lb, v, &o);
	lb_p2_back_in(lb, p, v, n > 0 ? &o : NULL);
	if (lb->rdr) {
		bool sent;

		return lb_redirect(lb, p, v, false, &sent);
	}
	return MSLB_OK;
}
