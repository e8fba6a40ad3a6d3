/* lb_redirect: the back's side of the redirection protocol (draft-olteanu-
 * mptcp-loadbalance-00 section 3.4). A packet whose flow another back owns
 * (a rule the protocol installed here) goes to that back IP-in-IP, outer
 * source this back's own address; the owner takes it out of the tunnel as
 * if a front had sent it. The owner watches its own flows for their end. */
#include "lb_role.h"

#include <netinet/in.h>

#include "lb_tunnel.h"
#include "net/encap.h"

bool lb_flow_of(const struct pkt_view *v, struct rdr_flow *f)
{
	unsigned alen = pkt_addr_len(v);

	if ((v->l4proto != IPPROTO_TCP && v->l4proto != IPPROTO_UDP) || !v->l4off)
		return false;
	memset(f, 0, sizeof(*f));
	f->version = v->version;
	f->proto = v->l4proto;
	memcpy(f->cport, v->data + v->l4off, 2);
	memcpy(f->sport, v->data + v->l4off + 2, 2);
	memcpy(f->client, pkt_src(v), alen);
	memcpy(f->service, pkt_dst(v), alen);
	return true;
}

enum mslb_drop lb_redirect(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, bool from_peer)
{
	const struct rdr_entry *e;
	struct rdr_flow f;

	if (from_peer)
		lb->from_peers++;
	if ((!rdr_any_rules(lb->rdr) && !rdr_any_owned(lb->rdr)) || !lb_flow_of(v, &f))
		return MSLB_OK;
	if (rdr_any_owned(lb->rdr))
		rdr_seen(lb->rdr, &f, v->l4proto == IPPROTO_TCP ? v->data[v->l4off + 13] : 0, true, lb->now);
	if (from_peer || !rdr_any_rules(lb->rdr))
		return MSLB_OK;
	e = rdr_rule(lb->rdr, &f, lb->now);
	if (!e)
		return MSLB_OK;
	return lb_redirect_encap(lb, p, v, e);
}
