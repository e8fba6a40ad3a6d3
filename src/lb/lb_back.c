/* lb_back: the back (MSLB-B, draft-matsuhira-mslb-17 section 5): a packet
 * to one of its addresses IP_B gets its service address IP_S back, or,
 * when it came through a tunnel, loses its outer header. */
#include "lb_role.h"

#include "lb_tunnel.h"
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

	if (tunnel)
		return lb_back_decap(lb, p, v);
	/* Errors about the return tunnel come back to IP_B. */
	if (f->has_ret && !partial && lb_icmp_about_tunnel(lb, v)) {
		p->len = 0;
		return MSLB_OK;
	}
	lb_back_at(lb, v, f, k);
	p->len = v->len;
	if (lb->rdr) {
		bool sent;

		return lb_redirect(lb, p, v, false, &sent);
	}
	return MSLB_OK;
}
