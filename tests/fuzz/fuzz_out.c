/* fuzz_out: checks on every packet lb_process_pkt returns or emits. The
 * packet is copied into a heap block of exactly its length first, so
 * AddressSanitizer also catches a length that runs past what the data
 * path really wrote, and the parse that follows reads nothing beyond. */
#include "fuzz_out.h"

#include <stdlib.h>
#include <string.h>

#include "net/pkt.h"

#define FZ_MAX_IP_LEN (40u + 65535u)

static void check_out(struct fz_run *r, const uint8_t *pkt, uint32_t len, const struct io_offload *off,
		      const char *what)
{
	bool partial = off && (off->flags & IO_OFF_NEEDS_CSUM);
	struct fz_verdict ver;
	struct pkt_view v;
	struct fz_ip ip;
	enum mslb_drop d;
	uint8_t *c;

	r->n_out++;
	FUZZ_CHECK(len >= 20 && len <= FZ_MAX_IP_LEN, "%s packet of %u bytes", what, len);
	c = malloc(len);
	FUZZ_CHECK(c, "out of memory");
	memcpy(c, pkt, len);
	FUZZ_CHECK(fz_ip_walk(c, len, &ip), "%s packet: not a whole IP header (version %u, %u bytes)", what,
		   c[0] >> 4, len);
	FUZZ_CHECK(ip.len == len, "%s packet: IP length field says %u, %u bytes sent", what, ip.len, len);
	fz_csum_judge(c, len, partial, &ver);
	FUZZ_CHECK(!r->hdr_ok_all || ver.hdr_ok, "%s packet: an IPv4 header checksum is wrong", what);
	FUZZ_CHECK(r->in_csum != FZ_CSUM_GOOD || ver.csum != FZ_CSUM_BAD,
		   "%s packet: transport checksum wrong (%s), the input's was right (IPv%u, proto %u)", what,
		   partial ? "partial" : "full", ip.version, ip.proto);
	if (partial)
		FUZZ_CHECK(ver.l4off && off->csum_start == ver.l4off &&
				   (unsigned)off->csum_start + off->csum_offset == ver.l4off + ver.field,
			   "%s packet: partial checksum at %u+%u, its transport checksum is at %u+%u", what,
			   off->csum_start, off->csum_offset, ver.l4off, ver.field);
	d = pkt_parse(c, len, &v);
	FUZZ_CHECK(d == MSLB_OK, "%s packet does not parse again: %s", what, mslb_drop_name(d));
	FUZZ_CHECK(v.len == len, "%s packet: parsed length %u, %u bytes sent", what, v.len, len);
	free(c);
}

static void on_emit(void *ctx, const uint8_t *pkt, uint32_t len)
{
	check_out(ctx, pkt, len, NULL, "emitted");
}

void fz_run_start(struct fz_run *r, struct mslb_lb *lb)
{
	*r = (struct fz_run){ .lb = lb, .hdr_ok_all = true };
	lb_set_emit(lb, on_emit, r);
}

enum mslb_drop fz_run_pkt(struct fz_run *r, struct io_pkt *p)
{
	const uint8_t *end = p->buf + IO_HEADROOM + IO_BUF_SIZE;
	bool partial = io_has_partial(p);
	struct fz_verdict ver;
	enum mslb_drop d;

	fz_csum_judge(p->data, p->len, partial, &ver);
	/* A partial checksum elsewhere than the innermost transport header:
	 * the data path must refuse it; nothing to compare against. */
	if (partial && (p->off.csum_start != ver.l4off ||
			(unsigned)p->off.csum_start + p->off.csum_offset != ver.l4off + ver.field))
		ver.csum = FZ_CSUM_UNKNOWN;
	r->in_csum = ver.csum;
	r->hdr_ok_all = r->hdr_ok_all && ver.hdr_ok;

	d = lb_process_pkt(r->lb, p);
	FUZZ_CHECK(d < MSLB_DROP_MAX, "lb_process_pkt returned %d", (int)d);
	if (d != MSLB_OK || !p->len)
		return d;
	FUZZ_CHECK(p->data >= p->buf && p->data < end, "returned data %p outside its buffer [%p, %p)",
		   (void *)p->data, (void *)p->buf, (const void *)end);
	FUZZ_CHECK(p->len <= (size_t)(end - p->data), "returned packet of %u bytes runs %zu bytes past its buffer",
		   p->len, (size_t)(p->data + p->len - end));
	check_out(r, p->data, p->len, &p->off, "returned");
	return d;
}
