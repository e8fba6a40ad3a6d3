/* emitq: one batch, filled by copying, sent when full or at the end of a
 * receive round. */
#include "emitq.h"

#include <stdlib.h>
#include <string.h>

struct emitq {
	struct io_batch *b;
	struct io_backend *out;
	void (*before)(void *ctx);
	void *before_ctx;
};

struct emitq *emitq_create(void)
{
	struct emitq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->b = io_batch_create();
	if (!q->b) {
		free(q);
		return NULL;
	}
	return q;
}

void emitq_destroy(struct emitq *q)
{
	if (q) {
		io_batch_destroy(q->b);
		free(q);
	}
}

void emitq_set_output(struct emitq *q, struct io_backend *out)
{
	q->out = out;
}

void emitq_set_before(struct emitq *q, void (*fn)(void *ctx), void *ctx)
{
	q->before = fn;
	q->before_ctx = ctx;
}

bool emitq_empty(const struct emitq *q)
{
	return q->b->n == 0;
}

void emitq_flush(struct emitq *q)
{
	if (q->b->n && q->before)
		q->before(q->before_ctx);
	if (q->b->n && q->out)
		io_send(q->out, q->b);
	io_batch_reset(q->b);
}

void emitq_push(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	struct emitq *q = ctx;
	struct io_pkt *p;

	if (len > IO_BUF_SIZE)
		return;
	if (q->b->n == IO_BATCH)
		emitq_flush(q);
	p = &q->b->pkt[q->b->n++];
	memcpy(p->data, pkt, len);
	p->len = len;
	p->off = off ? *off : (struct io_offload){ 0 };
}
