/* afp_filter: cBPF generation. Each address test returns at once on a
 * match, so every conditional jump is short (cBPF's jt/jf are 8 bits);
 * the few far jumps to a section use ja (32-bit offset) through labels. */
#include "afp_filter.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>

#include "net/iphdr.h"

enum { L_VLAN, L_V4, L_V6, L_V4_VLAN, L_V6_VLAN, L_N };

struct prog {
	struct sock_filter *p;
	unsigned n, max;
	bool overflow;
	unsigned label[L_N];
	unsigned n_fix;
	struct { unsigned at, label; } fix[8];
};

static void emit(struct prog *g, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (g->n >= g->max) {
		g->overflow = true;
		return;
	}
	g->p[g->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

/* if (A == k) goto label */
static void jeq_to(struct prog *g, uint32_t k, unsigned label)
{
	emit(g, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, k);
	if (g->n_fix < sizeof(g->fix) / sizeof(g->fix[0]) && !g->overflow) {
		g->fix[g->n_fix].at = g->n;
		g->fix[g->n_fix++].label = label;
	}
	emit(g, BPF_JMP | BPF_JA, 0, 0, 0);
}

static uint32_t word(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The IP header starts at l3; accept if its destination is one of ours. */
static void section(struct prog *g, const struct mslb_config *cfg, int family, unsigned l3)
{
	const struct mslb_addr *a;
	unsigned n = cfg->front.n_services + cfg->back.n_addresses;
	bool loaded = false;

	for (unsigned i = 0; i < n; i++) {
		a = i < cfg->front.n_services ? &cfg->front.services[i]
					      : &cfg->back.addresses[i - cfg->front.n_services].address;
		if (a->family != family)
			continue;
		if (family == AF_INET) {
			if (!loaded)
				emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0, l3 + IP4_DST);
			loaded = true;
			emit(g, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, word(a->bytes));
			emit(g, BPF_RET | BPF_K, 0, 0, AFP_ACCEPT);
			continue;
		}
		/* Four words; a mismatch skips to the next address's test. */
		for (unsigned w = 0; w < 4; w++) {
			emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0, l3 + IP6_DST + 4 * w);
			emit(g, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(7 - 2 * w), word(a->bytes + 4 * w));
		}
		emit(g, BPF_RET | BPF_K, 0, 0, AFP_ACCEPT);
	}
	emit(g, BPF_RET | BPF_K, 0, 0, 0);
}

int afp_filter_build(const struct mslb_config *cfg, struct sock_filter *out, unsigned max)
{
	struct prog g;

	memset(&g, 0, sizeof(g));
	g.p = out;
	g.max = max;
	/* Only frames addressed to this host: not broadcast, multicast, or
	 * another host's (promiscuous mode), which the kernel would drop. */
	emit(&g, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	emit(&g, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PACKET_HOST);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	emit(&g, BPF_LD | BPF_H | BPF_ABS, 0, 0, 12);
	jeq_to(&g, ETH_P_8021Q, L_VLAN);
	jeq_to(&g, ETH_P_8021AD, L_VLAN);
	jeq_to(&g, ETH_P_IP, L_V4);
	jeq_to(&g, ETH_P_IPV6, L_V6);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	g.label[L_VLAN] = g.n;
	emit(&g, BPF_LD | BPF_H | BPF_ABS, 0, 0, 16);
	jeq_to(&g, ETH_P_IP, L_V4_VLAN);
	jeq_to(&g, ETH_P_IPV6, L_V6_VLAN);
	emit(&g, BPF_RET | BPF_K, 0, 0, 0);
	g.label[L_V4] = g.n;
	section(&g, cfg, AF_INET, ETH_HLEN);
	g.label[L_V6] = g.n;
	section(&g, cfg, AF_INET6, ETH_HLEN);
	g.label[L_V4_VLAN] = g.n;
	section(&g, cfg, AF_INET, ETH_HLEN + 4);
	g.label[L_V6_VLAN] = g.n;
	section(&g, cfg, AF_INET6, ETH_HLEN + 4);
	if (g.overflow)
		return -1;
	for (unsigned i = 0; i < g.n_fix; i++)
		out[g.fix[i].at].k = g.label[g.fix[i].label] - g.fix[i].at - 1;
	return (int)g.n;
}
