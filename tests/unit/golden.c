/* golden: the golden suites' one runner and packet writers. */
#include "golden.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "testlib.h"
#include "testpkt.h"

static struct pg_rng rng;
static struct gd_script gc;

int gd_init(void)
{
	pg_seed(&rng, 0x901de);
	return 0;
}

void gd_mk(struct pg_pkt *p, int family, uint8_t proto, const char *src, const char *dst, unsigned total,
	   uint8_t tos, bool df)
{
	unsigned hl = (family == 4 ? 20 : 40) + pg_l4_hdrlen(proto);

	CU_ASSERT_FATAL(total >= hl && total <= PG_BUFSZ);
	tp_mk(&rng, p, family, proto, src, dst, total - hl, tos, df);
}

void gd_client(struct pg_pkt *p, int family, unsigned total, uint8_t tos, bool df)
{
	gd_mk(p, family, PG_UDP, family == 4 ? C4 : C6, family == 4 ? S4 : S6, total, tos, df);
}

void gd_set(struct gd_pkt *x, const uint8_t *b, uint32_t len)
{
	CU_ASSERT_FATAL(len <= GD_XBUF);
	memmove(x->b, b, len);
	x->len = len;
	x->any_label = false;
}

void gd_encap(struct gd_pkt *x, int ov, const char *src, const char *dst, const uint8_t *inner, uint32_t ilen,
	      uint16_t id, bool df)
{
	unsigned hl = ov == 4 ? 20 : 40;

	CU_ASSERT_FATAL(hl + ilen <= GD_XBUF);
	memmove(x->b + hl, inner, ilen);
	tp_outer(x->b, ov, x->b + hl, ilen, tl_ip(src), tl_ip(dst), id, df);
	x->len = hl + ilen;
	x->any_label = ov == 6;
}

void gd_frag4(struct gd_pkt *f, const struct gd_pkt *whole, unsigned off, unsigned n, bool more)
{
	memcpy(f->b, whole->b, 20);
	memcpy(f->b + 20, whole->b + 20 + off, n);
	pg_put16(f->b + 2, (uint16_t)(20 + n));
	pg_put16(f->b + 6, (uint16_t)((whole->b[6] & 0x40) << 8 | (more ? 0x2000 : 0) | off / 8));
	tp_ip4_csum(f->b);
	f->len = 20 + n;
	f->any_label = false;
}

void gd_frag6(struct gd_pkt *f, const struct gd_pkt *whole, unsigned off, unsigned n, bool more, uint32_t id)
{
	uint8_t *fh = f->b + 40;

	memcpy(f->b, whole->b, 40);
	pg_put16(f->b + 4, (uint16_t)(8 + n));
	f->b[6] = 44;
	fh[0] = whole->b[6];
	fh[1] = 0;
	pg_put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	pg_put32(fh + 4, id);
	memcpy(fh + 8, whole->b + 40 + off, n);
	f->len = 48 + n;
	f->any_label = whole->any_label;
}

uint32_t gd_icmp_msg(uint8_t *o, int family, const char *from, const char *to, uint8_t tos, uint8_t type,
		     uint8_t code, uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	return tp_icmp(o, family, tl_ip(from), tl_ip(to), tos, type, code, info, quote, qlen);
}

void gd_icmp(struct gd_pkt *x, int family, const char *from, const char *to, uint8_t type, uint8_t code,
	     uint32_t info, const uint8_t *quote, uint32_t qlen)
{
	x->len = gd_icmp_msg(x->b, family, from, to, family == 4 ? 0xc0 : 0, type, code, info, quote, qlen);
	x->any_label = false;
}

void gd_icmp_fix(struct gd_pkt *x)
{
	bool v4 = (x->b[0] >> 4) == 4;
	unsigned hl = v4 ? 20 : 40;
	uint32_t mlen = x->len - hl;
	uint64_t acc = 0;

	if (v4) {
		tp_ip4_csum(x->b);
	} else {
		acc = ref_sum(acc, x->b + 8, 32);
		acc += mlen + 58;
	}
	pg_put16(x->b + hl + 2, 0);
	pg_put16(x->b + hl + 2, (uint16_t)~ref_fold(ref_sum(acc, x->b + hl, mlen)));
}

struct gd_step *gd_add(struct gd_script *c, const char *what, double now, enum mslb_drop want)
{
	struct gd_step *s;

	CU_ASSERT_FATAL(c->n < GD_MAX_STEPS);
	s = &c->s[c->n++];
	memset(s, 0, sizeof(*s));
	s->what = what;
	s->now = now;
	s->want = want;
	return s;
}

struct gd_pkt *gd_emit(struct gd_step *s)
{
	CU_ASSERT_FATAL(s->n_emit < GD_MAX_EMIT);
	return &s->emit[s->n_emit++];
}

void gd_tunnel_in(struct gd_step *s, int ov, const char *src, const char *dst, const struct pg_pkt *in)
{
	gd_encap(&s->in, ov, src, dst, in->buf, in->len, 0x1234, false);
}

struct gd_emitted gd_cap;

void gd_capture(void *ctx, const uint8_t *pkt, uint32_t len, const struct io_offload *off)
{
	(void)ctx;
	if (gd_cap.n < GD_MAX_EMIT && len <= GD_XBUF) {
		memcpy(gd_cap.p[gd_cap.n].b, pkt, len);
		gd_cap.p[gd_cap.n].len = len;
		gd_cap.p[gd_cap.n].off = off ? *off : (struct io_offload){ 0 };
	}
	gd_cap.n++;
}

bool gd_match(const char *what, const uint8_t *got, uint32_t glen, const struct gd_pkt *x)
{
	static uint8_t e[GD_XBUF];

	memcpy(e, x->b, x->len);
	if (x->any_label && glen >= 4)
		tp_take_label(e, got);
	return tp_same(what, got, glen, e, x->len);
}

static uint64_t all_drops(const struct mslb_lb *lb)
{
	uint64_t n = 0;

	for (int d = 1; d < MSLB_DROP_MAX; d++)
		n += lb_drops(lb, (enum mslb_drop)d);
	return n;
}

void gd_run(const struct gd_case *g)
{
	static uint8_t buf[IO_HEADROOM + IO_BUF_SIZE];
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_load(g->conf, g->name, &cfg);

	lb_set_emit(lb, gd_capture, NULL);
	memset(&gc, 0, sizeof(gc));
	g->build(&gc);
	for (unsigned i = 0; i < gc.n; i++) {
		const struct gd_step *s = &gc.s[i];
		struct io_pkt p = { .buf = buf, .data = buf + IO_HEADROOM, .len = s->in.len, .off = s->off };
		uint64_t want_n = lb_drops(lb, s->want), drops = all_drops(lb);
		char what[160];
		enum mslb_drop r;

		snprintf(what, sizeof(what), "%s: %s", g->name, s->what);
		memset(buf, 0xa5, sizeof(buf));
		memcpy(p.data, s->in.b, s->in.len);
		gd_cap.n = 0;
		lb_set_time(lb, s->now);
		r = lb_process_pkt(lb, &p);
		CU_ASSERT_EQUAL(r, s->want);
		if (r != s->want)
			printf("\n  %s: got %s, expected %s", what, mslb_drop_name(r), mslb_drop_name(s->want));
		if (s->want != MSLB_OK) {
			CU_ASSERT_EQUAL(lb_drops(lb, s->want), want_n + 1);
		} else {
			CU_ASSERT_EQUAL(all_drops(lb), drops);
		}
		if (r == MSLB_OK && s->want == MSLB_OK) {
			CU_ASSERT(p.data >= buf && p.data + p.len <= buf + sizeof(buf));
			CU_ASSERT_EQUAL(p.len, s->out.len);
			if (p.len != s->out.len)
				printf("\n  %s: sends %u bytes, expected %u", what, p.len, s->out.len);
			else if (p.len)
				CU_ASSERT(gd_match(what, p.data, p.len, &s->out));
			if (s->check_off) {
				CU_ASSERT_EQUAL(p.off.flags, s->out_off.flags);
				CU_ASSERT_EQUAL(p.off.gso_type, s->out_off.gso_type);
				CU_ASSERT_EQUAL(p.off.csum_start, s->out_off.csum_start);
				CU_ASSERT_EQUAL(p.off.csum_offset, s->out_off.csum_offset);
				if (p.off.csum_start != s->out_off.csum_start)
					printf("\n  %s: csum_start %u, expected %u", what, p.off.csum_start,
					       s->out_off.csum_start);
			}
		}
		CU_ASSERT_EQUAL(gd_cap.n, s->n_emit);
		if (gd_cap.n != s->n_emit)
			printf("\n  %s: emitted %u packets, expected %u", what, gd_cap.n, s->n_emit);
		for (unsigned k = 0; k < gd_cap.n && k < s->n_emit && k < GD_MAX_EMIT; k++) {
			char w[200];

			snprintf(w, sizeof(w), "%s: emitted #%u", what, k);
			CU_ASSERT(gd_match(w, gd_cap.p[k].b, gd_cap.p[k].len, &s->emit[k]));
		}
		if (s->check)
			s->check(lb);
	}
	tl_lb_free(lb, cfg);
}

void gd_run_all(const struct gd_case *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gd_run(&g[i]);
}
