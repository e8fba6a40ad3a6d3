/* lb_option: one of our IP options (p2opt.h) into or out of a packet the
 * data path holds, with the offload metadata following the move: the
 * Proposal 2 front's SYN option and the persistence mark. */
#include "lb_role.h"

#include "net/p2opt.h"

bool lb_option_insert(struct io_pkt *p, struct pkt_view *v, const struct p2opt *opt)
{
	unsigned grow;
	uint32_t len = v->len;
	uint8_t *h = p2opt_insert(v->data, &len, opt, &grow);
	struct pkt_view nv;

	if (!h)
		return false;
	if (pkt_parse(h, len, &nv) != MSLB_OK) {
		/* Not reached: what parsed before parses with one more option. */
		return false;
	}
	if (io_has_partial(p)) {
		p->off.csum_start = (uint16_t)(p->off.csum_start + grow);
		if (pkt_set_partial(&nv, p->off.csum_start, p->off.csum_offset) != MSLB_OK)
			return false;
	}
	/* The kernel's hint of where the payload starts, for GSO. */
	if (p->off.hdr_len)
		p->off.hdr_len = (uint16_t)(p->off.hdr_len + grow);
	p->data = h;
	p->len = len;
	*v = nv;
	return true;
}

int lb_option_strip(struct io_pkt *p, struct pkt_view *v, struct p2opt *o)
{
	uint32_t len = v->len;
	unsigned shrink;
	struct pkt_view nv;
	uint8_t *h;
	int r = p2opt_strip(v->data, &len, o, &h, &shrink);

	if (r <= 0)
		return r < 0 ? -1 : 0;
	if (pkt_parse(h, len, &nv) != MSLB_OK)
		return -1;
	if (io_has_partial(p)) {
		if (p->off.csum_start < shrink)
			return -1;
		p->off.csum_start = (uint16_t)(p->off.csum_start - shrink);
		if (pkt_set_partial(&nv, p->off.csum_start, p->off.csum_offset) != MSLB_OK)
			return -1;
	}
	if (p->off.hdr_len > shrink)
		p->off.hdr_len = (uint16_t)(p->off.hdr_len - shrink);
	p->data = h;
	p->len = len;
	*v = nv;
	return 1;
}
