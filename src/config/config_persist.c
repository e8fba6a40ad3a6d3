/* config_persist: persistence across changes of the usable next hops
 * (front.persistence, back.persistence): how long a front remembers the
 * previous generation, and the flow table a back keeps to tell its own
 * flows from those it hands to the back that held them before. */
#include "config_parse.h"

void config_parse_front_persist(struct config_ctx *c, const config_setting_t *f, struct mslb_config *cfg)
{
	long long n;

	/* Long enough for a client's retransmissions and a reload's
	 * stragglers, like Beamer's default. */
	cfg->front.persistence = 240;
	if (config_get_int(c, f, "persistence", "front.persistence", 0, 86400, &n))
		cfg->front.persistence = (unsigned)n;
}

void config_parse_back_persist(struct config_ctx *c, const config_setting_t *b, struct mslb_config *cfg)
{
	static const char *const keys[] = { "flows", "tcp_idle", "udp_idle", "sock_diag", NULL };
	const config_setting_t *g = config_get_group(c, b, "persistence", "back.persistence");
	long long n;

	cfg->back.persist_flows = 65536;
	/* Above Linux's tcp_keepalive_time (7200 s): a connection that only
	 * keeps alive keeps its entry. */
	cfg->back.persist_tcp_idle = 7440;
	cfg->back.persist_udp_idle = 120;
	cfg->back.persist_sock_diag = false;
	if (!g)
		return;
	config_check_keys(c, g, "back.persistence", keys, "flows, tcp_idle, udp_idle, sock_diag");
	if (config_get_int(c, g, "flows", "back.persistence.flows", 16, 4194304, &n))
		cfg->back.persist_flows = (unsigned)n;
	if (config_get_int(c, g, "tcp_idle", "back.persistence.tcp_idle", 10, 604800, &n))
		cfg->back.persist_tcp_idle = (unsigned)n;
	if (config_get_int(c, g, "udp_idle", "back.persistence.udp_idle", 5, 86400, &n))
		cfg->back.persist_udp_idle = (unsigned)n;
	config_get_bool(c, g, "sock_diag", "back.persistence.sock_diag", &cfg->back.persist_sock_diag);
}
