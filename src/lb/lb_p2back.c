/* lb_p2back: MPTCP Proposal 2 at the back. A SYN from a Proposal 2 front
 * carries the front's option (p2opt.h): the back takes it out, so that the
 * server sees the client's bytes, and when the front named another next
 * hop as the alternate (where this subflow's segments without a timestamp
 * will go), it has the redirection protocol install a rule there. */
#include "lb_p2.h"

#include <netinet/in.h>
#include <string.h>

#include "net/p2opt.h"
#include "net/pkt.h"
#include "net/tcpopt.h"

int lb_p2_back_strip(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, struct p2opt *o)
{
	uint8_t *tcp, *h;
	uint32_t len = v->len;
	unsigned shrink;
	struct pkt_view nv;
	int r;

	if (v->l4proto != IPPROTO_TCP || !v->l4off || v->fragment)
		return 0;
	tcp = v->data + v->l4off;
	if ((tcp[13] & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return 0;
	/* Cheap first: no IPv4 options, no IPv6 destination options. */
	if (v->version == 4 ? (v->data[0] & 0x0f) == 5 : v->data[IP6_NEXT] != 60)
		return 0;
	r = p2opt_strip(v->data, &len, o, &h, &shrink);
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
	p->data = h;
	p->len = len;
	*v = nv;
	lb->p2b.stripped++;
	return 1;
}

void lb_p2_back_own(struct mslb_lb *lb, const struct pkt_view *v, const struct p2opt *o)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	unsigned alen = pkt_addr_len(v);
	static const uint8_t none[16];
	struct rdr_flow fl;
	int k;

	if (!memcmp(o->alt, none, alen) || lb_back_slot(f, o->alt, alen) >= 0)
		return;		/* the alternate is this back: nothing to redirect */
	k = lb_addrs_find(&f->peers, o->alt, alen);
	if (!lb->rdr || k < 0) {
		lb->p2b.alt_unknown++;
		return;
	}
	memset(&fl, 0, sizeof(fl));
	fl.version = v->version;
	fl.proto = IPPROTO_TCP;
	memcpy(fl.cport, v->data + v->l4off, 2);
	memcpy(fl.sport, v->data + v->l4off + 2, 2);
	memcpy(fl.client, pkt_src(v), alen);
	memcpy(fl.service, pkt_dst(v), alen);
	if (rdr_own(lb->rdr, f->peer_index[k], &fl, lb->now) == 0)
		lb->p2b.rules++;
	else
		lb->p2b.rules_failed++;
}
