/* io_mem: queues in memory; what a test injects is received, what the
 * daemon sends is kept for the test to read. */
#include "io_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_SLOTS 256

struct mem_pkt {
	uint32_t len;
	uint8_t data[IO_BUF_SIZE];
};

struct io_mem {
	struct io_backend be;
	unsigned n_in, head, n_out;
	struct mem_pkt *in, *out;
};

static int mem_recv(struct io_backend *be, struct io_batch *b)
{
	struct io_mem *m = (struct io_mem *)be;

	io_batch_reset(b);
	while (b->n < IO_BATCH && m->head < m->n_in) {
		struct mem_pkt *p = &m->in[m->head++];

		memcpy(b->pkt[b->n].data, p->data, p->len);
		b->pkt[b->n].len = p->len;
		be->stats.rx_packets++;
		be->stats.rx_bytes += p->len;
		b->n++;
	}
	if (m->head == m->n_in)
		m->head = m->n_in = 0;
	return (int)b->n;
}

static int mem_send(struct io_backend *be, struct io_batch *b)
{
	struct io_mem *m = (struct io_mem *)be;
	int sent = 0;

	for (unsigned i = 0; i < b->n; i++) {
		if (!b->pkt[i].len)
			continue;
		if (m->n_out == MEM_SLOTS) {
			be->stats.tx_errors++;
			continue;
		}
		memcpy(m->out[m->n_out].data, b->pkt[i].data, b->pkt[i].len);
		m->out[m->n_out++].len = b->pkt[i].len;
		be->stats.tx_packets++;
		be->stats.tx_bytes += b->pkt[i].len;
		sent++;
	}
	return sent;
}

static void mem_close(struct io_backend *be)
{
	struct io_mem *m = (struct io_mem *)be;

	free(m->in);
	free(m->out);
	free(m);
}

static const struct io_ops mem_ops = {
	.recv_batch = mem_recv,
	.send_batch = mem_send,
	.close = mem_close,
};

struct io_backend *io_mem_open(const char *name)
{
	struct io_mem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->in = calloc(MEM_SLOTS, sizeof(*m->in));
	m->out = calloc(MEM_SLOTS, sizeof(*m->out));
	if (!m->in || !m->out) {
		mem_close(&m->be);
		return NULL;
	}
	m->be.ops = &mem_ops;
	m->be.kind = "mem";
	m->be.fd = -1;
	snprintf(m->be.name, sizeof(m->be.name), "%s", name);
	return &m->be;
}

int io_mem_inject(struct io_backend *be, const uint8_t *data, uint32_t len)
{
	struct io_mem *m = (struct io_mem *)be;

	if (m->n_in == MEM_SLOTS || len > IO_BUF_SIZE)
		return -1;
	memcpy(m->in[m->n_in].data, data, len);
	m->in[m->n_in++].len = len;
	return 0;
}

unsigned io_mem_sent_count(const struct io_backend *be)
{
	return ((const struct io_mem *)be)->n_out;
}

const uint8_t *io_mem_sent(const struct io_backend *be, unsigned i, uint32_t *len)
{
	const struct io_mem *m = (const struct io_mem *)be;

	if (i >= m->n_out)
		return NULL;
	*len = m->out[i].len;
	return m->out[i].data;
}

void io_mem_clear_sent(struct io_backend *be)
{
	((struct io_mem *)be)->n_out = 0;
}
