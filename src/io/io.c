/* io: batch buffers, allocated once at start-up. */
#include "io.h"

#include <stdlib.h>

struct io_batch *io_batch_create(void)
{
	struct io_batch *b = calloc(1, sizeof(*b));
	uint8_t *mem = malloc((size_t)IO_BATCH * (IO_HEADROOM + IO_BUF_SIZE));

	if (!b || !mem) {
		free(b);
		free(mem);
		return NULL;
	}
	for (unsigned i = 0; i < IO_BATCH; i++)
		b->pkt[i].buf = mem + (size_t)i * (IO_HEADROOM + IO_BUF_SIZE);
	io_batch_reset(b);
	return b;
}

void io_batch_reset(struct io_batch *b)
{
	b->n = 0;
	for (unsigned i = 0; i < IO_BATCH; i++) {
		b->pkt[i].data = b->pkt[i].buf + IO_HEADROOM;
		b->pkt[i].end = NULL;
		b->pkt[i].len = IO_BUF_SIZE;
		b->pkt[i].off = (struct io_offload){ 0 };
		b->pkt[i].csum_valid = false;
		b->pkt[i].ifindex = 0;
		b->pkt[i].out = NULL;
		b->pkt[i].out_mac = NULL;
	}
}

const char *io_offload_names(unsigned o)
{
	static const char *const names[8] = {
		"off", "csum", "tso", "csum,tso", "uso", "csum,uso", "tso,uso", "csum,tso,uso",
	};

	/* Tunnel offloads come only on top of all three. */
	if ((o & 7) == 7 && (o & IO_CAP_TNL_TX))
		return "csum,tso,uso,udp_tunnel";
	if ((o & 7) == 7 && (o & IO_CAP_TNL_RX))
		return "csum,tso,uso,udp_tunnel_rx";
	return names[o & 7];
}

void io_batch_destroy(struct io_batch *b)
{
	if (b) {
		free(b->pkt[0].buf);
		free(b);
	}
}
