/* fuzz_confs: every role and mode the data path has, each reachable from
 * the first byte of a fuzz_path input: front translation, front
 * encapsulation with small path MTUs (fragments, too-big errors), a back
 * that reassembles, decapsulates and sends through a return tunnel, a
 * second-stage (chained) front either way, an MPTCP front, a return
 * endpoint, a Proposal 2 back (key translation, lb_p2keys.c), fronts
 * whose usable next hops change (persistence marks) and a back that hands
 * marked flows to a peer. Reassembly
 * memory is small so that the cap is reached. */
#include "fuzz_confs.h"

#include <string.h>

#include "../unit/golden.h"

#define MPTCP_FRONT(mode) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  next_hops = (\n" \
	"    { name = \"s1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; server_id = 1001; path_mtu = 1280; },\n" \
	"    { name = \"s2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; server_id = 1002; },\n" \
	"    { name = \"s3\"; ipv4 = \"198.51.100.13\"; ipv6 = \"2001:db8:b::13\"; server_id = 1003; weight = 2; }\n" \
	"  );\n" \
	"  table = ( { source = \"192.0.2.0/24\"; next_hop = \"s2\"; } );\n" \
	"  unmatched = \"s1\";\n" \
	"  mptcp = { service_ports = [ 80, 443 ]; };\n" \
	"};\n"

/* MPTCP Proposal 2: token buckets, timestamps, the option in SYNs. */
#define P2_FRONT(mode) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = " Q(mode) ";\n" \
	"  next_hops = (\n" \
	"    { name = \"s1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; path_mtu = 1280; },\n" \
	"    { name = \"s2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; },\n" \
	"    { name = \"s3\"; ipv4 = \"198.51.100.13\"; weight = 2; }\n" \
	"  );\n" \
	"  unmatched = \"hash\";\n" \
	"  mptcp = { service_ports = [ 80, 443 ]; proposal = 2; key_tries = 4; };\n" \
	"};\n"

/* Clients of 192.0.2.0/24 and 2001:db8:c1::/48 go to b2 in IPv6 with the
 * smallest IPv6 path MTU; the others to b1 in their own family at 1000. */
#define TUNNEL_FRONT(extra, b2_mtu) \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  mode = \"encapsulate\";\n" \
	extra \
	"  tunnel_source = { ipv4 = " Q(TS4) "; };\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; path_mtu = 1000; },\n" \
	"    { name = \"b2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; outer = \"ipv6\"; path_mtu = " b2_mtu "; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/24\"; next_hop = \"b2\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; }\n" \
	"  );\n" \
	"  unmatched = \"b1\";\n" \
	"  pmtu_expires = 60;\n" \
	"};\n" \
	"icmp = { rate = 10; burst = 3; };\n"
#define ENCAP_MTU_FRONT TUNNEL_FRONT("", "1280")
/* GUE: the same next hops in UDP; IPv6 of at most 1280 bytes goes to b2
 * in outer fragments. */
#define GUE_FRONT TUNNEL_FRONT("  encapsulation = \"gue\";\n", "1280")

/* Health checks: a drained next hop, table backups, a hash; FZ_R_HEALTH
 * records take next hops out and steer probes. */
#define HEALTH_FRONT \
	"front = {\n" \
	"  services = [ " Q(S4) ", " Q(S6) " ];\n" \
	"  health = { kind = \"tcp\"; port = 80; };\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = " Q(B4) "; ipv6 = " Q(B6) "; check = { kind = \"icmp\"; }; },\n" \
	"    { name = \"b2\"; ipv4 = " Q(B2_4) "; ipv6 = " Q(B2_6) "; mode = \"encapsulate\"; },\n" \
	"    { name = \"b3\"; ipv4 = \"198.51.100.13\"; state = \"drain\"; }\n" \
	"  );\n" \
	"  table = (\n" \
	"    { source = \"192.0.2.0/24\"; next_hop = \"b2\"; backup = \"b3\"; },\n" \
	"    { source = \"2001:db8:c1::/48\"; next_hop = \"b2\"; backup = \"b1\"; }\n" \
	"  );\n" \
	"  unmatched = \"hash\";\n" \
	"};\n"

/* Proposal 2 at the back: the front's option out of SYNs, timestamps and
 * MPTCP keys translated on port 80; room for 4 subflows and connections,
 * so that an input of 16 records fills the tables. Appended last: the
 * seeds' first byte keeps naming the configs before it. */
#define P2_BACK "  proposal2 = { service_ports = [ 80 ]; max_flows = 4; };\n"

/* Persistence at a back: marks out of every packet, a table of 16 flows
 * (full soon), flows handed to peer b2 at B2_4 / B2_6 and taken from it.
 * fuzz_path writes the key file and puts its path for @KEYS@. */
#define PERSIST_BACK "  persistence = { flows = 16; tcp_idle = 10; udp_idle = 5; };\n"
#define PEERS \
	"redirect = {\n" \
	"  address = \"198.51.100.61\";\n" \
	"  key_file = \"@KEYS@\";\n" \
	"  peers = ( { name = \"b2\"; address = \"198.51.100.62\"; tunnel = [ " Q(B2_4) ", " Q(B2_6) " ]; } );\n" \
	"};\n"

#define SMALL_REASM "  reassembly = { memory = 262144; timeout = 5; };\n"
#define RETURN_TUNNEL "  return_tunnel = { ipv4 = " Q(E4) "; ipv6 = " Q(E6) "; };\n"

const struct fz_conf fz_confs[] = {
	{ "front-translate", FRONT2("translate") },
	{ "front-encap-mtu", ENCAP_MTU_FRONT },
	{ "back-return", BACK(SMALL_REASM RETURN_TUNNEL) },
	{ "front-stage2", FRONT_STAGE2("encapsulate") },
	{ "front-stage2-translate", FRONT_STAGE2("translate") },
	{ "front-mptcp", MPTCP_FRONT("translate") },
	{ "front-mptcp-encap", MPTCP_FRONT("encapsulate") },
	{ "return-endpoint", ENDPOINT },
	{ "back", BACK("  gue_port = 6080;\n") },
	{ "front-p2", P2_FRONT("translate") },
	{ "front-p2-encap", P2_FRONT("encapsulate") },
	{ "back-p2", BACK(P2_BACK) },
	{ "front-health", HEALTH_FRONT },
	{ "back-persist", BACK(PERSIST_BACK) PEERS },
	{ "front-gue", GUE_FRONT },
};

const unsigned fz_n_confs = sizeof(fz_confs) / sizeof(fz_confs[0]);

int fz_conf_index(const char *name)
{
	for (unsigned i = 0; i < fz_n_confs; i++)
		if (!strcmp(fz_confs[i].name, name))
			return (int)i;
	return -1;
}
