/* testlib: what the suites share, so the library carries no test-only code. */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "base/addr.h"
#include "net/pkt.h"

/* Load text and print what the loader found wrong, a line each. */
static struct mslb_config *load(const char *text, const char *name)
{
	static struct config_errors errs;	/* 20 KiB: not on the stack */
	struct mslb_config *cfg;

	memset(&errs, 0, sizeof(errs));
	cfg = config_load_string(text, name, &errs);
	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	return cfg;
}

struct mslb_lb *tl_lb_new(const char *text, const char *name, struct mslb_config **cfg)
{
	*cfg = load(text, name);
	return *cfg ? lb_create(*cfg) : NULL;
}

struct mslb_lb *tl_lb_load(const char *text, const char *name, struct mslb_config **cfg)
{
	struct mslb_lb *lb;

	*cfg = tl_config_load(text, name);
	lb = lb_create(*cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	return lb;
}

struct mslb_config *tl_config_load(const char *text, const char *name)
{
	struct mslb_config *cfg = load(text, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	return cfg;
}

void tl_lb_free(struct mslb_lb *lb, struct mslb_config *cfg)
{
	lb_destroy(lb);
	config_free(cfg);
}

/* One packet at a time, as the daemon's batches hold them. */
static uint8_t storage[IO_HEADROOM + IO_BUF_SIZE];

enum mslb_drop tl_process(struct mslb_lb *lb, uint8_t *buf, size_t cap, uint32_t *len)
{
	return tl_process_offload(lb, buf, cap, len, 0);
}

enum mslb_drop tl_process_offload(struct mslb_lb *lb, uint8_t *buf, size_t cap, uint32_t *len, unsigned partial_off)
{
	struct io_pkt p = { .buf = storage, .data = storage + IO_HEADROOM };
	enum mslb_drop r;

	if (*len > IO_BUF_SIZE)
		*len = IO_BUF_SIZE;
	memcpy(p.data, buf, *len);
	p.len = *len;
	if (partial_off) {
		struct pkt_view v;

		/* The metadata the kernel would give: the transport header's
		 * start and the field's offset in it. */
		p.off.flags = IO_OFF_NEEDS_CSUM;
		p.off.csum_start = (uint16_t)(pkt_parse(p.data, p.len, &v) == MSLB_OK && v.l4off &&
					      v.l4off < partial_off ? v.l4off : partial_off);
		p.off.csum_offset = (uint16_t)(partial_off - p.off.csum_start);
	}
	r = lb_process_pkt(lb, &p);
	if (r == MSLB_OK) {
		*len = p.len;
		if (p.len > cap)
			return TL_TOO_SMALL;
		memmove(buf, p.data, p.len);
	}
	return r;
}

void tl_addr(const char *s, uint8_t *out)
{
	struct mslb_addr a;
	int r = mslb_addr_parse(s, &a);

	if (r)
		printf("\n  not an address: \"%s\"", s);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	memcpy(out, a.bytes, 16);
}

const uint8_t *tl_ip(const char *s)
{
	static uint8_t ring[8][16];
	static unsigned next;
	uint8_t *o = ring[next++ % 8];

	tl_addr(s, o);
	return o;
}
