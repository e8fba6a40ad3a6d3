/* fuzz_out: the invariants every packet the data path lets out must keep,
 * for the targets that drive lb_process_pkt (fuzz_path, fuzz_config):
 * inside its buffer, parseable, its length field the bytes sent, and its
 * checksums right whenever the input's were. */
#ifndef MSLB_FUZZ_OUT_H
#define MSLB_FUZZ_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz.h"
#include "lb/lb.h"
#include "net/pktbuf.h"

/* A TCP segment's identity and payload. */
struct fz_tcp {
	uint16_t sport, dport;
	uint32_t seq;
	const uint8_t *payload;
	uint32_t n;
};

/* What is known about the packets fed so far in one input. */
struct fz_run {
	struct mslb_lb *lb;
	bool hdr_ok_all;		/* every IPv4 header fed so far had a right checksum */
	enum fz_csum in_csum;		/* the packet being processed */
	unsigned n_out;			/* packets let out (returned and emitted) */
	/* The packet being processed is a whole TCP segment (a super-packet
	 * too) at its innermost level: its payload, copied before the data
	 * path rewrites it, which every TCP segment of the same ports let out
	 * must carry unchanged at its sequence numbers. */
	bool in_tcp;
	struct fz_tcp tcp;
};

/* Hook r to lb's emit callback. */
void fz_run_start(struct fz_run *r, struct mslb_lb *lb);
/* One packet through the data path, with its invariants checked: p is a
 * batch slot (buf of IO_HEADROOM + IO_BUF_SIZE bytes, data at
 * buf + IO_HEADROOM) holding len bytes and its offload metadata. */
enum mslb_drop fz_run_pkt(struct fz_run *r, struct io_pkt *p);

#endif
