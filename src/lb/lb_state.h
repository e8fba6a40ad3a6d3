/* lb_state: the data path's state, shared by its files: lb.c (build,
 * classify), the role handlers (lb_front.c, lb_back.c, lb_mptcp.c,
 * lb_tunnel.c) and lb_access.c (what the daemon sets and reads). Other
 * modules use lb.h. */
#ifndef MSLB_LB_STATE_H
#define MSLB_LB_STATE_H

#include <stdbool.h>
#include <string.h>

#include "lb_addrs.h"
#include "lb_types.h"
#include "config/config.h"
#include "net/drop.h"
#include "net/icmp.h"
#include "net/reasm.h"
#include "redirect/rdr.h"

/* Path MTU toward a tunnel's far end, one per outer family. */
struct lb_tunnel {
	unsigned route_mtu;	/* what the kernel's route says (0: not known) */
	unsigned config_mtu;	/* path_mtu from the file (0: none) */
	unsigned learned;	/* from ICMP, until expires (0: none) */
	double expires;
};

struct lb_next_hop {
	struct lb_counter c;
	uint64_t hash_hits, port_hits;
	bool usable;			/* up and not drained: new flows may go there */
	uint64_t probes;		/* packets of this host's health probes sent there */
	struct lb_tunnel tun[2];	/* [0] IPv4 outer, [1] IPv6 outer */
	struct lb_tcount t;
};

struct lb_family {
	struct lpm *sources;		/* source prefix -> table entry index */
	struct lb_addrs services;
	struct lb_addrs back;		/* back addresses of this family; slot k */
	unsigned *back_index;		/* of slot k, into cfg->back.addresses */
	struct lb_addrs back_services;	/* distinct services of those back addresses */
	struct maglev *hash;		/* over usable next hops with an address of this family */
	bool any_hash;
	bool any_carrier;		/* some next hop has an address of this family */
	bool has_ret;			/* back.return_tunnel of this family */
	uint8_t ret_src[16], ret_dst[16];
	struct lb_tunnel ret;
	unsigned n_endpoint;		/* return_endpoint addresses of this family */
	uint8_t endpoint[4][16];
	/* Outer sources each decapsulator accepts: back.allowed_sources,
	 * front.allowed_sources, return_endpoint.allowed_sources. */
	struct lpm *allow_back, *allow_front, *allow_endpoint;
	/* MPTCP Proposal 2: token bucket -> next hop (LB_P2_BUCKETS). */
	uint16_t *p2;
	/* The redirect peers' tunnel addresses of this family: tunnels
	 * from them are accepted and never redirected again. */
	struct lb_addrs peers;
	unsigned *peer_index;		/* of slot k of peers, into redirect.peers */
	bool has_rsrc;			/* a back address: the outer source toward peers */
	uint8_t rsrc[16];
};

#define LB_PORT_SERVICE 0xffff

/* Proposal 2: the top LB_P2_BITS of a token pick one of LB_P2_BUCKETS; the
 * backs embed them in TSval. The last value is never a token's (the front
 * picks its keys so): a back gives it to plain TCP, and the front then
 * hashes the 5-tuple, as it did for that connection's SYN. */
#define LB_P2_BITS 14
#define LB_P2_BUCKETS (1u << LB_P2_BITS)
#define LB_P2_HASH_ME (LB_P2_BUCKETS - 1)

/* A subflow at a Proposal 2 back (lb_p2back.c): the bits its server's
 * TSvals carry, the front's key for its SYN/ACK, and the counter V that
 * stands in for the server's clock, with the last values it stood for. */
#define LB_P2_RING 32
#define LB_P2F_KEY 0x01
#define LB_P2F_FIN_IN 0x02
#define LB_P2F_FIN_OUT 0x04
#define LB_P2F_RST 0x08
#define LB_P2F_STARTED 0x10
#define LB_P2F_EST 0x20		/* the client echoed a TSval the server sent */
#define LB_P2F_SYN 0x40		/* made by a SYN (isn is its sequence number) */
#define LB_P2F_JOIN 0x80	/* an MP_JOIN subflow of conn */
#define LB_P2_SYN_IDLE 30.0	/* seconds the state of a SYN alone stays */

struct lb_p2flow {
	uint16_t bits;
	uint8_t flags;
	uint32_t isn;			/* of the SYN that made it */
	uint8_t key[8];
	uint32_t v, last_kts;
	uint32_t conn;			/* its connection's index + 1 in conns, or 0 */
	uint32_t nonce_c, nonce_s;	/* MP_JOIN: the client's and the server's random */
	double last_seen;
	struct {
		uint32_t v, kts;
	} ring[LB_P2_RING];
};

/* An MPTCP connection at a Proposal 2 back (lb_p2keys.c): the client sees
 * the front's key, the stock server uses its own, and the back translates
 * every field that depends on them. */
#define LB_P2C_SRV 0x01			/* k_srv known (the SYN/ACK passed) */
#define LB_P2C_CLI 0x02			/* k_cli known (the third ACK passed) */

struct lb_p2conn {
	uint8_t k_lb[8], k_srv[8], k_cli[8];
	uint64_t idsn_srv, delta;	/* delta = IDSN(k_lb) - IDSN(k_srv) */
	uint32_t token_srv;
	uint32_t refs;			/* subflows that point here */
	uint8_t flags;
};

struct lb_p2back {
	struct rdr_table *ix;		/* flow (client direction) -> aux: index into pool */
	struct lb_p2flow *pool;
	uint32_t *free;			/* unused pool indices */
	unsigned n_free, cap;
	struct rdr_table *cx;		/* the front's token -> aux: index into conns */
	struct lb_p2conn *conns;
	uint32_t *cfree;
	unsigned n_cfree;
};

/* The health probe of a next hop (lb_health.c): this host's own socket,
 * by its source address and TCP port or ICMP echo identifier. It stays
 * until the next probe of that next hop replaces it, so that the segments
 * a closed socket still sends follow it. */
struct lb_probe {
	bool on;
	uint8_t version, proto;
	uint16_t id;
	uint8_t src[16];
};

/* Persistence at the front (lb_persist.c): the choices of the generation
 * before the last change of the usable next hops, used until `until`.
 * Its next hops are known by address, so that it outlives a reload. */
#define LB_PREV_UNMATCHED UINT32_MAX	/* the entry fell to the unmatched policy */

struct lpm;

struct lb_prev_hop {
	bool has[2];
	uint8_t a[2][16];		/* its address of each family */
	bool usable;
};

struct lb_prev {
	double until;
	struct maglev *hash[2];		/* ids index hop */
	struct lb_prev_hop *hop;
	unsigned n_hop;
	/* Its source prefixes (the data path's own, or the previous file's,
	 * then owned) and the next hop each table entry had then. */
	const struct lpm *sources[2];
	struct lpm *own_sources[2];
	uint32_t *table;
	enum unmatched_policy unmatched;
	unsigned unmatched_next_hop;
};

/* Persistence at a back with redirect peers: the flows it delivered and
 * those it hands over, aux 0 (here) or the peer's index + 1; t1 last seen;
 * state the TCP flags seen. */
struct lb_pback {
	struct rdr_table *t;
};

struct mslb_lb {
	const struct mslb_config *cfg;
	struct lb_family fam[2];	/* [0] IPv4, [1] IPv6 */
	struct lb_next_hop *nh;
	uint64_t *table_hits;
	uint64_t *table_fallbacks;	/* of an entry whose next hop was not usable */
	uint64_t unmatched_hits;
	struct lb_probe *probe;		/* per next hop */
	unsigned n_probes;		/* of them on */
	struct lb_counter *back;
	/* MPTCP, by TCP port: a server_id's next hop + 1, LB_PORT_SERVICE
	 * for a service port, 0 for neither. One load, however many ports. */
	uint16_t *port_next_hop;
	uint64_t drops[MSLB_DROP_MAX];

	/* Encapsulation. */
	double now, last_expire;
	lb_emit_fn emit;
	void *emit_ctx;
	bool emit_uso;			/* emit takes UDP GSO super-packets */
	uint8_t emit_tnl;		/* outer families of UDP-tunnel super-packets the output takes: 1 IPv4, 2 IPv6 */
	uint32_t split_len;		/* a GUE super-packet to take apart (lb_tunnel.c gue_super) */
	uint8_t *scratch[2];		/* IO_HEADROOM + IO_BUF_SIZE each: segments, fragments */
	uint8_t *icmp_buf;
	struct reasm *reasm;		/* NULL when nothing here decapsulates */
	struct icmp_bucket bucket;
	uint16_t ip_id;
	uint32_t frag_id;
	struct lb_tunnel_stats ts;
	struct lb_counter ret, endpoint;
	struct lb_tcount ret_t;

	/* MPTCP Proposal 2 at the front (lb_p2.c). */
	bool p2_front;			/* front.mptcp.proposal = 2 */
	uint8_t p2_secret[16];		/* keys the SipHash that makes server keys */
	struct lb_p2_stats p2;
	struct lb_p2b_stats p2b;
	struct lb_p2back *p2back;	/* NULL unless back.proposal2 */
	uint64_t p2_ports[1024];	/* back.proposal2.service_ports, a bit each */

	/* Redirection (lb_redirect.c): the protocol's rules, and the tunnels
	 * toward the peers, [peer * 2 + outer family index]. */
	struct rdr *rdr;
	struct lb_tunnel *peer_tun;
	struct lb_tcount redirect_t;
	uint64_t from_peers;		/* packets peers redirected here */

	/* Persistence (lb_persist.c). */
	struct lb_prev prev;
	struct lb_pback *pback;		/* NULL without redirect peers */
	struct lb_persist_stats ps;
	lb_known_fn known;
	void *known_ctx;
};

static inline const struct lb_family *lb_fam(const struct mslb_lb *lb, unsigned version)
{
	return &lb->fam[mslb_ip_index(version)];
}

/* For the few return endpoints (at most four). */
static inline bool lb_in_list(const uint8_t (*list)[16], unsigned n, const uint8_t *a, unsigned alen)
{
	for (unsigned i = 0; i < n; i++)
		if (lb_addr_eq(list[i], a, alen))
			return true;
	return false;
}

#endif
