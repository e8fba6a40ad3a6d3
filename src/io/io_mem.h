/* io_mem: an in-memory backend. Tests queue packets to be "received" and
 * read back what the daemon "sent". */
#ifndef MSLB_IO_MEM_H
#define MSLB_IO_MEM_H

#include <stdint.h>

#include "io.h"

struct io_backend *io_mem_open(const char *name);
/* Queue one packet for the next recv_batch; returns 0 or -1 if full. */
int io_mem_inject(struct io_backend *be, const uint8_t *data, uint32_t len);
/* Packets sent so far, oldest first. */
unsigned io_mem_sent_count(const struct io_backend *be);
const uint8_t *io_mem_sent(const struct io_backend *be, unsigned i, uint32_t *len);
void io_mem_clear_sent(struct io_backend *be);

#endif
