/* golden_front: the front encapsulating, every family combination, the
 * tunnel source and the tunnel MTU exactly; a next hop that translates;
 * client fragments; the bare-buffer entry point. */
#include <string.h>

#include "golden.h"
#include "testlib.h"
#include "unit.h"
#include "lb/lb.h"

/* ---- the front: every family combination ---------------------------- */

struct encap_row {
	const char *name, *conf;
	int inner;		/* inner family */
	unsigned len;		/* inner bytes */
	uint8_t tos;
	bool df;
	int ov;			/* outer family expected */
	const char *osrc, *odst;
	bool odf;		/* IPv4 outer: DF expected */
};

static const struct encap_row *row;

static void check_row(struct mslb_lb *lb)
{
	struct lb_nh_tunnel t;

	lb_next_hop_tunnel(lb, 0, &t);
	CU_ASSERT_EQUAL(t.encapsulated, 1);
	CU_ASSERT_EQUAL(t.fragments, 0);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).packets, 1);
	CU_ASSERT_EQUAL(lb_next_hop_counter(lb, 0).bytes, row->len);
}

static void build_row(struct gd_script *c)
{
	struct pg_pkt in;
	struct gd_step *s = gd_add(c, "encapsulated", 1, MSLB_OK);

	gd_client(&in, row->inner, row->len, row->tos, row->df);
	gd_set(&s->in, in.buf, in.len);
	gd_encap(&s->out, row->ov, row->osrc, row->odst, in.buf, in.len, 0, row->odf);
	s->check = check_row;
}

#define TSRC "  tunnel_source = { ipv4 = " Q(TS4) "; ipv6 = " Q(TS6) "; };\n"

static const struct encap_row rows[] = {
	{ "4 in 4 (same), DF", FRONT("", ""), 4, 300, 0xb9, true, 4, S4, B4, true },
	{ "4 in 4 (same), no DF", FRONT("", ""), 4, 300, 0x03, false, 4, S4, B4, false },
	{ "6 in 6 (same)", FRONT("", ""), 6, 300, 0xb9, false, 6, S6, B6, false },
	{ "4 in 4 (outer ipv4), DF", FRONT("", "outer = \"ipv4\";"), 4, 300, 0x2e, true, 4, S4, B4, true },
	{ "4 in 4 (outer ipv4), no DF", FRONT("", "outer = \"ipv4\";"), 4, 300, 0x00, false, 4, S4, B4, false },
	{ "6 in 4 (outer ipv4): DF set", FRONT("", "outer = \"ipv4\";"), 6, 300, 0x0a, false, 4, S4, B4, true },
	{ "4 in 6 (outer ipv6), DF", FRONT("", "outer = \"ipv6\";"), 4, 300, 0xba, true, 6, S6, B6, false },
	{ "4 in 6 (outer ipv6), no DF", FRONT("", "outer = \"ipv6\";"), 4, 300, 0x01, false, 6, S6, B6, false },
	{ "6 in 6 (outer ipv6)", FRONT("", "outer = \"ipv6\";"), 6, 300, 0xff, false, 6, S6, B6, false },
	{ "4 in 4, tunnel_source", FRONT(TSRC, ""), 4, 300, 0x48, true, 4, TS4, B4, true },
	{ "6 in 6, tunnel_source", FRONT(TSRC, ""), 6, 300, 0x48, false, 6, TS6, B6, false },
	{ "4 in 6, tunnel_source", FRONT(TSRC, "outer = \"ipv6\";"), 4, 300, 0x48, true, 6, TS6, B6, false },
	{ "6 in 4, tunnel_source", FRONT(TSRC, "outer = \"ipv4\";"), 6, 300, 0x48, false, 4, TS4, B4, true },
	{ "4 in 4, exactly the tunnel MTU", FRONT("", ""), 4, 1480, 0, true, 4, S4, B4, true },
	{ "6 in 6, exactly the tunnel MTU", FRONT("", ""), 6, 1460, 0, false, 6, S6, B6, false },
	{ "4 in 6, exactly the tunnel MTU", FRONT("", "outer = \"ipv6\"; path_mtu = 1400;"), 4, 1360, 0, true, 6, S6,
	  B6, false },
	{ "per next hop mode", "front = { services = [ " Q(S4) " ];\n"
	  "  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; mode = \"encapsulate\"; } ); unmatched = \"b1\"; };\n",
	  4, 100, 0, true, 4, S4, B4, true },
};

static void test_golden_families(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		struct gd_case g = { rows[i].name, rows[i].conf, build_row };

		row = &rows[i];
		gd_run(&g);
	}
}

/* A front whose next hop translates while the front's default encapsulates. */
static void build_translate_override(struct gd_script *c)
{
	struct pg_pkt in, e;
	struct gd_step *s = gd_add(c, "translated", 1, MSLB_OK);

	gd_client(&in, 4, 200, 0x10, true);
	gd_set(&s->in, in.buf, in.len);
	e = in;
	pg_set_dst(&e, tl_ip(B4));
	pg_recompute(&e);
	gd_set(&s->out, e.buf, e.len);
}

/* Client fragments: each encapsulated as it is, with its DF (none). */
static void build_fragments_in(struct gd_script *c)
{
	struct pg_pkt w, f;
	struct gd_step *s;
	unsigned tl;

	gd_client(&w, 4, 1000, 0x20, false);
	tl = w.len - 20;
	s = gd_add(c, "first fragment", 1, MSLB_OK);
	pg_fragment(&w, 0, 504, true, &f);
	gd_set(&s->in, f.buf, f.len);
	gd_encap(&s->out, 4, S4, B4, f.buf, f.len, 0, false);
	s = gd_add(c, "last fragment", 1, MSLB_OK);
	pg_fragment(&w, 504, tl - 504, false, &f);
	gd_set(&s->in, f.buf, f.len);
	gd_encap(&s->out, 4, S4, B4, f.buf, f.len, 1, false);
	/* A fragment with DF (the odd sender): DF copied. */
	s = gd_add(c, "middle fragment with DF", 1, MSLB_OK);
	pg_fragment(&w, 256, 248, true, &f);
	f.buf[6] |= 0x40;
	pg_recompute(&f);
	gd_set(&s->in, f.buf, f.len);
	gd_encap(&s->out, 4, S4, B4, f.buf, f.len, 2, true);
}

static void test_golden_front_misc(void)
{
	static const struct gd_case g[] = {
		{ "next hop mode translate",
		  "front = { services = [ " Q(S4) " ]; mode = \"encapsulate\";\n"
		  "  next_hops = ( { name = \"b1\"; ipv4 = " Q(B4) "; mode = \"translate\"; } ); unmatched = \"b1\"; };\n",
		  build_translate_override },
		{ "ipv4 fragments in", FRONT("", ""), build_fragments_in },
	};

	gd_run_all(g, ARRAY_SIZE(g));
}

/* ---- the bare-buffer entry point ------------------------------------ */

static void test_golden_legacy(void)
{
	static uint8_t buf[PG_BUFSZ + 64];
	static struct gd_pkt e;
	struct mslb_config *cfg;
	struct mslb_lb *lb = tl_lb_new(FRONT("", ""), "legacy", &cfg);
	struct pg_pkt in;
	uint32_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	for (int family = 4; family <= 6; family += 2) {
		gd_client(&in, family, 600, 0x0c, true);
		memcpy(buf, in.buf, in.len);
		len = in.len;
		CU_ASSERT_EQUAL(tl_process(lb, buf, sizeof(buf), &len), MSLB_OK);
		gd_encap(&e, family, family == 4 ? S4 : S6, family == 4 ? B4 : B6, in.buf, in.len, 0, true);
		CU_ASSERT_EQUAL(len, in.len + (family == 4 ? 20 : 40));
		CU_ASSERT(gd_match("lb_process", buf, len, &e));
	}
	tl_lb_free(lb, cfg);
}

void suite_golden_front(void)
{
	CU_pSuite s = CU_add_suite("golden_front", gd_init, NULL);

	UNIT_ADD(s, test_golden_families);
	UNIT_ADD(s, test_golden_front_misc);
	UNIT_ADD(s, test_golden_legacy);
}
