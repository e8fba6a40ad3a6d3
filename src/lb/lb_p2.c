/* lb_p2: MPTCP Proposal 2 (draft-olteanu-mptcp-loadbalance-00 section 3).
 *
 * At the front, a connection's subflows are routed by the server's token,
 * which the front chose: an MP_CAPABLE SYN gets a key whose token's top 14
 * bits pick a bucket, and so a next hop; an MP_JOIN SYN carries the token;
 * every later segment echoes in TSecr the 14 bits the back embedded in the
 * server's TSval. Segments without a timestamp go by the 5-tuple hash, and
 * the back that owns such a subflow has the protocol of rdr.h send them on.
 * The SYNs tell the back the key and the alternate next hop (p2opt.h).
 *
 * The key is a keyed hash (SipHash, secret drawn at start) of the SYN's
 * 5-tuple, sequence number and a try count: unpredictable from outside,
 * and the same for a retransmitted SYN, so that a SYN that is sent again
 * reaches the same server with the same key. */
#include "lb_p2.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lb_mptcp.h"
#include "maglev.h"
#include "net/mptcpopt.h"
#include "net/p2opt.h"
#include "net/pkt.h"
#include "net/csum.h"
#include "net/tcpopt.h"

#define P2_MAGLEV_SIZE 16411u	/* prime >= LB_P2_BUCKETS: its first slots are the buckets */

int lb_p2_build(struct mslb_lb *lb)
{
	const struct mslb_config *cfg = lb->cfg;

	randombytes_buf(lb->p2_secret, sizeof(lb->p2_secret));
	for (int fam = 0; fam < 2; fam++) {
		struct maglev_backend *b = calloc(cfg->front.n_next_hops + 1, sizeof(*b));
		struct maglev *m;
		unsigned n = 0;

		lb->fam[fam].p2 = calloc(LB_P2_BUCKETS, sizeof(uint16_t));
		if (!b || !lb->fam[fam].p2) {
			free(b);
			return -1;
		}
		for (unsigned i = 0; i < cfg->front.n_next_hops; i++) {
			const struct cfg_next_hop *nh = &cfg->front.next_hops[i];

			if (config_next_hop_carries(nh, fam ? AF_INET6 : AF_INET))
				b[n++] = (struct maglev_backend){ .name = nh->name, .weight = nh->weight,
								  .id = (uint16_t)i };
		}
		m = maglev_create(P2_MAGLEV_SIZE, b, n);
		free(b);
		if (!m)
			return -1;
		for (unsigned k = 0; k < LB_P2_BUCKETS; k++)
			lb->fam[fam].p2[k] = maglev_slot(m, k);
		maglev_destroy(m);
	}
	return 0;
}

uint32_t lb_p2_token(const uint8_t key[8])
{
	uint32_t token;

	mptcpopt_token_idsn(key, &token, NULL);
	return token;
}

/* Key number t for the SYN v (its 5-tuple and sequence number). */
static void key_for(const struct mslb_lb *lb, const struct pkt_view *v, unsigned t, uint8_t key[8])
{
	uint8_t in[2 * 16 + 4 + 4 + 1];
	unsigned alen = pkt_addr_len(v);
	const uint8_t *tcp = v->data + v->l4off;

	memcpy(in, pkt_src(v), alen);
	memcpy(in + alen, pkt_dst(v), alen);
	memcpy(in + 2 * alen, tcp, 4);		/* ports */
	memcpy(in + 2 * alen + 4, tcp + 4, 4);	/* sequence number */
	in[2 * alen + 8] = (uint8_t)t;
	crypto_shorthash(key, in, 2 * alen + 9, lb->p2_secret);
}

/* The alternate next hop's address of the packet's family, for the back. */
static void alt_address(const struct mslb_lb *lb, unsigned nh, unsigned version, uint8_t alt[16])
{
	const struct cfg_next_hop *hop = &lb->cfg->front.next_hops[nh];

	memset(alt, 0, 16);
	if (version == 4 && hop->has4)
		memcpy(alt, hop->a4.bytes, 4);
	else if (version == 6 && hop->has6)
		memcpy(alt, hop->a6.bytes, 16);
}

/* Take MP_CAPABLE out of a SYN that cannot carry our option: the
 * connection goes on as plain TCP, never broken. The option's bytes become
 * NOPs; the checksum follows (unless the kernel still has to finish it). */
static void strip_capable(struct io_pkt *p, struct pkt_view *v, const struct tcpopt *o)
{
	uint8_t *tcp = v->data + v->l4off;
	unsigned from = (unsigned)(o->mptcp - tcp) & ~1u, to = ((unsigned)(o->mptcp - tcp) + o->mptcp_len + 1) & ~1u;
	uint8_t old[40];

	memcpy(old, tcp + from, to - from);
	memset(o->mptcp, 1, o->mptcp_len);
	if (!io_has_partial(p) && v->csum_off)
		csum_update(v->data + v->csum_off, old, tcp + from, to - from);
}

bool lb_p2_icmp_next_hop(struct mslb_lb *lb, int version, const uint8_t *tcp, uint32_t avail, unsigned *nh)
{
	const struct lb_family *f = lb_fam(lb, version);
	uint8_t hdr[60];
	struct tcpopt o;
	uint32_t b;

	/* A copy: the scan hands out pointers it may write through. */
	if (avail < 20)
		return false;
	avail = avail < sizeof(hdr) ? avail : sizeof(hdr);
	memcpy(hdr, tcp, avail);
	if (!tcpopt_scan(hdr, avail, &o) || !o.ts)
		return false;
	b = tcpopt_get32(o.ts + 2) & (LB_P2_BUCKETS - 1);
	if (b == LB_P2_HASH_ME || !f->any_hash)
		return false;
	lb->p2.icmp_routed++;
	*nh = f->p2[b];
	return true;
}

enum mslb_drop lb_p2_route(struct mslb_lb *lb, struct io_pkt *p, struct pkt_view *v, const struct flow_key *k,
			   unsigned *nh)
{
	const struct lb_family *f = lb_fam(lb, v->version);
	uint8_t *tcp = v->data + v->l4off;
	uint8_t flags = tcp[13];
	struct tcpopt o;
	struct p2opt opt;
	unsigned alt;
	uint32_t token;
	int sub;

	if (!f->any_hash)
		return lb_no_hash(f);
	alt = lb_mptcp_hash(lb, k, pkt_addr_len(v), f);
	if (!tcpopt_scan(tcp, v->len - v->l4off, &o)) {
		/* Options that do not parse carry nothing to route by. */
		lb->p2.hashed++;
		*nh = alt;
		return MSLB_OK;
	}
	if (!(flags & TCP_SYN) || (flags & TCP_ACK)) {
		uint32_t b;

		if (!o.ts || !(flags & TCP_ACK)) {
			lb->p2.hashed++;
			*nh = alt;
			return MSLB_OK;
		}
		b = tcpopt_get32(o.ts + 6) & (LB_P2_BUCKETS - 1);
		if (b == LB_P2_HASH_ME) {
			lb->p2.ts_hash++;
			*nh = alt;
		} else {
			lb->p2.ts_routed++;
			*nh = f->p2[b];
		}
		return MSLB_OK;
	}
	sub = tcpopt_mptcp_sub(&o);
	memset(&opt, 0, sizeof(opt));
	alt_address(lb, alt, v->version, opt.alt);
	if (sub == MPTCP_SUB_CAPABLE && o.mptcp_len == 4 && (o.mptcp[2] & 0x0f) == 1) {
		uint8_t key[8], first[8] = { 0 };
		unsigned t, b = LB_P2_HASH_ME, first_b = LB_P2_HASH_ME;

		/* Beyond the draft: a key whose bucket is the 5-tuple's own next
		 * hop needs no redirect rule for this subflow. */
		for (t = 0; t < lb->cfg->front.key_tries; t++) {
			key_for(lb, v, t, key);
			token = lb_p2_token(key);
			b = token >> (32 - LB_P2_BITS);
			lb->p2.tries++;
			/* The value the backs give plain TCP; a next hop that
			 * takes no new connections. */
			if (b == LB_P2_HASH_ME || !lb->nh[f->p2[b]].usable)
				continue;
			if (first_b == LB_P2_HASH_ME) {
				first_b = b;
				memcpy(first, key, 8);
			}
			if (f->p2[b] == alt)
				break;
		}
		if (t < lb->cfg->front.key_tries) {
			lb->p2.alt_hits++;
		} else {
			b = first_b;
			memcpy(key, first, 8);
		}
		lb->p2.capable++;
		if (b == LB_P2_HASH_ME) {
			/* Every try landed on the hash bucket (1 in 16384 per
			 * try): plain TCP. */
			strip_capable(p, v, &o);
			lb->p2.no_key++;
			*nh = alt;
			return MSLB_OK;
		}
		*nh = f->p2[b];
		opt.kind = P2OPT_CAPABLE;
		memcpy(opt.key, key, 8);
		if (!lb_option_insert(p, v, &opt)) {
			/* lb_option_insert left the packet as it was. */
			strip_capable(p, v, &o);
			lb->p2.no_room++;
			*nh = alt;
		}
		return MSLB_OK;
	}
	if (sub == MPTCP_SUB_JOIN && o.mptcp_len == 12) {
		unsigned b;

		token = tcpopt_get32(o.mptcp + 4);
		b = token >> (32 - LB_P2_BITS);
		lb->p2.joins++;
		*nh = b == LB_P2_HASH_ME ? alt : f->p2[b];
		opt.kind = P2OPT_JOIN;
		/* Without room the join still reaches its server; only its
		 * segments without timestamps miss their redirect rule. */
		if (!lb_option_insert(p, v, &opt))
			lb->p2.no_room++;
		return MSLB_OK;
	}
	lb->p2.plain_syns++;
	*nh = alt;
	return MSLB_OK;
}
