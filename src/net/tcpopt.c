/* tcpopt: walk TCP options. Linux puts the timestamp at the same place in
 * nearly every segment (NOP, NOP, TS right after the fixed header): that
 * case is looked at first, with no loop. */
#include "tcpopt.h"

#include <stddef.h>

bool tcpopt_scan(uint8_t *tcp, uint32_t avail, struct tcpopt *o)
{
	unsigned doff, i;

	o->ts = o->mptcp = NULL;
	o->mptcp_len = 0;
	o->n_mp = 0;
	if (avail < 20)
		return false;
	doff = (tcp[12] >> 4) * 4u;
	if (doff < 20 || doff > avail)
		return false;
	if (doff == 32 && tcp[20] == 1 && tcp[21] == 1 && tcp[22] == TCPOPT_TS && tcp[23] == TCPOPT_TS_LEN) {
		o->ts = tcp + 22;
		return true;
	}
	for (i = 20; i < doff;) {
		uint8_t kind = tcp[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff)
			return false;
		len = tcp[i + 1];
		if (len < 2 || i + len > doff)
			return false;
		if (kind == TCPOPT_TS && len == TCPOPT_TS_LEN && !o->ts)
			o->ts = tcp + i;
		else if (kind == TCPOPT_MPTCP && o->n_mp < TCPOPT_MPTCP_MAX) {
			if (!o->mptcp) {
				o->mptcp = tcp + i;
				o->mptcp_len = len;
			}
			o->mp[o->n_mp] = tcp + i;
			o->mp_len[o->n_mp++] = len;
		}
		i += len;
	}
	return true;
}
