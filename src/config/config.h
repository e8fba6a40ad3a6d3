/* config: /etc/mslb.conf (libconfig) into an immutable, validated snapshot.
 * Errors come back as "FILE:LINE: problem (allowed: ...)" lines. */
#ifndef MSLB_CONFIG_H
#define MSLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

#define MSLB_NAME_MAX 32
#define MSLB_DEFAULT_CONFIG "/etc/mslb.conf"
#define MSLB_DEFAULT_SOCKET "/run/mslbd/mslbd.sock"
#define MSLB_DEFAULT_TUN "mslb0"
#define MSLB_DEFAULT_TABLE 4770
#define MSLB_DEFAULT_PRIORITY 4770
#define CONFIG_MAX_ERRORS 64
#define MSLB_AFP_MAX 16		/* io.af_packet interfaces */

enum log_dest { LOG_DEST_SYSLOG, LOG_DEST_STDERR };
enum unmatched_policy { UNMATCHED_DROP, UNMATCHED_HASH, UNMATCHED_NEXT_HOP };

#define MSLB_MAX_SERVICE_PORTS 16
#define MSLB_PM_MAX 8		/* the kernel's MPTCP_PM_ADDR_MAX */

/* How a front hands a packet to its next hop (draft section 5). */
enum nh_mode { NH_TRANSLATE, NH_ENCAP };
/* Encapsulation: the outer header's family. */
enum nh_outer { OUTER_SAME, OUTER_IPV4, OUTER_IPV6 };
/* Encapsulation: IP-in-IP, or the inner packet in UDP (GUE variant 1). */
enum nh_encap { ENCAP_IP, ENCAP_GUE };
#define MSLB_GUE_PORT 6080

#define MSLB_MAX_PREFIXES 32

/* Outer sources a decapsulator accepts. */
struct cfg_prefixes {
	unsigned n;
	struct mslb_prefix p[MSLB_MAX_PREFIXES];
};

bool cfg_prefixes_match(const struct cfg_prefixes *l, const struct mslb_addr *a);

/* Health checks of a next hop (front.health, and a next hop's check):
 * probes go the way client traffic goes, through that next hop to a
 * service address, from kernel sockets (health/). */
enum hc_kind { HC_NONE, HC_TCP, HC_ICMP, HC_HTTP };
#define MSLB_HTTP_PATH_MAX 128
#define MSLB_HTTP_HOST_MAX 64

struct cfg_check {
	enum hc_kind kind;
	uint16_t port;			/* tcp, http */
	unsigned interval_ms, timeout_ms;
	unsigned rise, fall;		/* results in a row that make it up, down */
	unsigned http_status;		/* the status an http check expects */
	char http_path[MSLB_HTTP_PATH_MAX];
	char http_host[MSLB_HTTP_HOST_MAX];	/* "": the service address */
	struct mslb_addr target;	/* the service address probed */
};

struct cfg_next_hop {
	char name[MSLB_NAME_MAX];
	struct cfg_check check;
	bool drain;		/* state = "drain": no new flows */
	enum nh_mode mode;
	enum nh_outer outer;
	enum nh_encap encap;
	unsigned path_mtu;	/* 0: the MTU of the kernel's route toward it */
	bool has4, has6;
	struct mslb_addr a4, a6;
	uint16_t server_id;	/* 0: none (MPTCP Proposal 1 port) */
	unsigned weight;	/* share of hashed traffic, 1-1000 */
};

struct cfg_table_entry {
	struct mslb_prefix source;
	unsigned next_hop;	/* index into front.next_hops */
	bool has_backup;	/* while next_hop is down or drained */
	unsigned backup;
};

struct cfg_back_address {
	struct mslb_addr address;	/* IP_B */
	struct mslb_addr service;	/* IP_S it maps back to */
	bool has_via;
	struct mslb_addr via;		/* gateway toward the server */
};

/* The server-to-server redirection protocol (redirect = { ... }). */
#define MSLB_REDIRECT_PORT 4771
#define MSLB_REDIRECT_PEERS_MAX 64
#define MSLB_REDIRECT_KEYS_MAX 8
#define MSLB_REDIRECT_KEY_LEN 32	/* HMAC-SHA256 keys */

struct cfg_redirect_peer {
	char name[MSLB_NAME_MAX];
	struct mslb_addr address;	/* its redirect.address: messages come from and go to it */
	/* Its back addresses IP_B, [0] IPv4, [1] IPv6: packets of its flows
	 * are sent there, and its redirected packets come from there. */
	bool has_tunnel[2];
	struct mslb_addr tunnel[2];
};

struct cfg_redirect_key {
	uint8_t id;
	uint8_t key[MSLB_REDIRECT_KEY_LEN];
};

struct mslb_config {
	char *file;
	int log_level;			/* LOG_ERR .. LOG_DEBUG (syslog.h) */
	enum log_dest log_dest;
	char control_socket[108];
	char tun_name[16];
	int line_control_socket, line_tun_name, line_tun_offload, line_tun_io_uring;	/* 0 when defaulted */
	unsigned tun_mtu;
	bool tun_offload;		/* IFF_VNET_HDR: checksum, TSO and USO offloads */
	bool tun_io_uring;		/* a batch's TUN reads (writes) in one system call */
	uint32_t route_table;		/* TUN routes; route_table + 1: delivery routes */
	uint32_t rule_priority;		/* first of four consecutive rule priorities */
	/* routing.announce_table: a front's service routes (through the TUN)
	 * for a routing daemon to announce, while a next hop of their family
	 * is usable; 0: none. */
	uint32_t announce_table;
	int line_announce;
	/* io.af_packet: interfaces whose service traffic the daemon takes
	 * from an AF_PACKET ring and sends itself (see io_afp.c). */
	unsigned n_af_packet;
	char af_packet[MSLB_AFP_MAX][16];
	int line_af_packet;		/* 0 when absent */
	/* user: started as root, the daemon switches to this account after
	 * reading its file, keeping only the capabilities it needs (see
	 * daemon/priv.c). Empty: it stays as it was started. */
	char user[33];
	uint32_t user_uid, user_gid;	/* resolved when the file is read */
	int line_user;			/* 0 when absent */
	int line_server_id;		/* back.mptcp.server_id, 0 when absent */

	bool has_front;
	struct {
		unsigned n_services, n_next_hops, n_table;
		struct mslb_addr *services;
		struct cfg_next_hop *next_hops;
		struct cfg_table_entry *table;
		enum unmatched_policy unmatched;
		unsigned unmatched_next_hop;
		bool has_mptcp;
		unsigned n_service_ports;
		uint16_t service_ports[MSLB_MAX_SERVICE_PORTS];
		/* 1: server_id ports (draft section 2); 2: the front chooses
		 * the server's key, token buckets and timestamps route
		 * (draft section 3). */
		unsigned mptcp_proposal;
		unsigned key_tries;		/* Proposal 2: keys tried per MP_CAPABLE SYN */
		enum nh_mode mode;		/* default of the next hops */
		enum nh_encap encap;		/* default of the next hops */
		uint16_t gue_port;		/* GUE: the outer UDP destination port */
		bool has_tsrc[2];		/* tunnel_source ipv4 [0], ipv6 [1] */
		struct mslb_addr tsrc[2];
		struct cfg_prefixes allowed;	/* upstream fronts (multi-stage encapsulation) */
		unsigned pmtu_expires;		/* seconds */
		bool has_hsrc[2];		/* health.source_ipv4 [0], source_ipv6 [1] */
		struct mslb_addr hsrc[2];
		/* Seconds the previous generation of choices is kept after
		 * the usable next hops change (0: none). */
		unsigned persistence;
	} front;

	bool has_back;
	struct {
		unsigned n_addresses;
		struct cfg_back_address *addresses;
		bool has_mptcp;		/* this host is the server: set up its path manager */
		uint16_t server_id;
		unsigned subflows, add_addr_accepted;
		struct cfg_prefixes allowed;	/* outer sources whose tunnels are decapsulated */
		bool allowed_default;		/* taken from the services */
		uint16_t gue_port;		/* GUE to the back addresses on this UDP port (0: none, the default) */
		unsigned reasm_memory, reasm_timeout;	/* bytes, seconds */
		bool has_return[2];		/* return_tunnel ipv4 [0], ipv6 [1] */
		struct mslb_addr return_to[2];
		/* MPTCP Proposal 2 in front of a stock server (back.proposal2). */
		bool has_p2;
		unsigned n_p2_ports;
		uint16_t p2_ports[MSLB_MAX_SERVICE_PORTS];
		unsigned p2_max_flows;		/* subflows with state */
		unsigned p2_flow_idle;		/* seconds an idle subflow's state stays */
		bool p2_steer;			/* rules take the servers' replies into the TUN */
		/* Persistence (with redirect peers): flows kept, idle seconds
		 * before an entry goes, and whether this host's own TCP
		 * sockets (the server runs here) tell which flows are its. */
		unsigned persist_flows, persist_tcp_idle, persist_udp_idle;
		bool persist_sock_diag;
	} back;

	/* The redirection protocol between backs (draft-olteanu 3.4). */
	bool has_redirect;
	struct {
		struct mslb_addr address;	/* local: the UDP socket binds it */
		uint16_t port;
		char key_file[256];
		unsigned n_keys;
		struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];	/* keys[0] signs */
		unsigned n_peers;
		struct cfg_redirect_peer *peers;
		unsigned rule_ttl;		/* seconds a rule lives unless refreshed */
		unsigned max_rules, max_rules_per_peer;
		unsigned rate, burst;		/* messages/s and bucket depth, per peer */
		unsigned global_rate;		/* messages/s from all peers together */
		int line;			/* of the group, for errors found later */
	} redirect;

	/* A node that decapsulates return tunnels (draft section 6). */
	bool has_return_endpoint;
	struct {
		unsigned n;
		struct mslb_addr addresses[4];
		struct cfg_prefixes allowed;
	} return_endpoint;

	unsigned icmp_rate, icmp_burst;	/* ICMP errors sent per second, bucket depth */
};

struct config_errors {
	unsigned n;
	char line[CONFIG_MAX_ERRORS][320];
};

/* Parse and validate. Returns a snapshot, or NULL with errs filled. */
struct mslb_config *config_load_file(const char *path, struct config_errors *errs);
/* Same, from a buffer (tests, fuzzing); name is used in error lines. */
struct mslb_config *config_load_string(const char *text, const char *name,
				       struct config_errors *errs);
void config_free(struct mslb_config *c);
/* The redirect key file's text[0..len) (any bytes: NUL, no final newline,
 * long lines): lines "ID HEX", ID 0-255 once each, HEX 64 hex digits (32
 * bytes), blank lines and # comments ignored, 1-MSLB_REDIRECT_KEYS_MAX
 * keys, in file order in out (room for MSLB_REDIRECT_KEYS_MAX), keys[0]
 * the one that signs. 0, or -1 with *n 0, out wiped and the problems in
 * errs as "NAME:LINE: ..." lines, which never quote a key line's text. */
int config_redirect_keys_parse(const char *text, size_t len, const char *name, struct cfg_redirect_key *out,
			       unsigned *n, struct config_errors *errs);
/* Only the control socket path, for `status` and `reload` when the file has
 * other errors (the daemon may still run the previous version of it). */
void config_peek_socket(const char *path, char *buf, size_t len);

const char *config_unmatched_name(const struct mslb_config *c);
/* "tcp", "icmp", "http" or "none": the words of a check's kind. */
const char *config_check_kind_name(enum hc_kind k);
/* Can next hop nh take packets of family (AF_INET, AF_INET6)? By its own
 * address of that family, or, encapsulating in a fixed outer family, by
 * its address of that one. */
bool config_next_hop_carries(const struct cfg_next_hop *nh, int family);
/* An encapsulating next hop: the IP version of the outer header it puts on
 * a packet of inner_version (4 or 6). */
unsigned config_outer_version(const struct cfg_next_hop *nh, unsigned inner_version);

#endif
