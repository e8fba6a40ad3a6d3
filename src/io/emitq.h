/* emitq: the packets the data path makes besides the ones it was given
 * (fragments, segments, ICMP errors), queued in a batch of their own and
 * sent through the TUN, where the kernel routes them. */
#ifndef MSLB_EMITQ_H
#define MSLB_EMITQ_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"

struct emitq;

struct emitq *emitq_create(void);
void emitq_destroy(struct emitq *q);
/* Where flushes go (the TUN). */
void emitq_set_output(struct emitq *q, struct io_backend *out);
/* An lb_emit_fn: copies the packet and its offloads; a full queue is
 * flushed first. */
void emitq_push(void *q, const uint8_t *pkt, uint32_t len, const struct io_offload *off);
void emitq_flush(struct emitq *q);
bool emitq_empty(const struct emitq *q);
/* fn runs before each flush of a non-empty queue (NULL: nothing): the
 * receive loop sends the packets that came before first. */
void emitq_set_before(struct emitq *q, void (*fn)(void *ctx), void *ctx);

#endif
