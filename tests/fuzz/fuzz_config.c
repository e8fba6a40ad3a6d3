/* fuzz_config: the libconfig parser and the validation on arbitrary text.
 * A config that loads must make an lb, carry probe packets (to its
 * services, back addresses and return endpoints) within fuzz_out.c's
 * invariants, and be freed whole (LeakSanitizer). One that does not load
 * must say why in lines "NAME:LINE: ...", free of control characters (a
 * string from the file once split a line or sent an escape to the
 * terminal; FUZZ_STRICT_ERRORS=0 turns that check off). Inputs with
 * @include are skipped: they read files (/dev/zero never ends). A
 * redirect.key_file that exists reports its problems under its own path
 * ("/PATH:LINE: ..."). The same bytes also go to the redirect key file
 * parser: accepted, 1-8 keys of distinct IDs; refused, at least one line
 * "fuzz.keys:LINE: ...", printable, and no key left behind. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_out.h"
#include "config/config.h"

#define NAME "fuzz.conf"
#define KEYS_NAME "fuzz.keys"
#define MAX_TEXT 65536

static bool strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *s = getenv("FUZZ_STRICT_ERRORS");

	(void)argc;
	(void)argv;
	fuzz_quiet();
	strict = !s || strcmp(s, "0");
	return 0;
}

/* name: the file every line must name; NULL: NAME, or an absolute path
 * (a key file's own lines, which have no line in NAME). */
static void check_errors(const struct config_errors *errs, const char *name)
{
	FUZZ_CHECK(errs->n >= 1 && errs->n <= CONFIG_MAX_ERRORS, "refused with %u error lines", errs->n);
	for (unsigned i = 0; i < errs->n; i++) {
		const char *l = errs->line[i], *d;

		FUZZ_CHECK(memchr(l, 0, sizeof(errs->line[i])), "error line %u not terminated", i);
		if (!name && l[0] == '/') {
			d = strstr(l, ": ");
			FUZZ_CHECK(d && d > l + 1 && d[-1] >= '0' && d[-1] <= '9', "key file error line without a line number: %s", l);
		} else {
			const char *n = name ? name : NAME;

			FUZZ_CHECK(!strncmp(l, n, strlen(n)) && l[strlen(n)] == ':', "error line without \"%s:\": %s", n, l);
			d = l + strlen(n) + 1;
			FUZZ_CHECK(*d >= '0' && *d <= '9', "error line without a line number: %s", l);
			while (*d >= '0' && *d <= '9')
				d++;
			FUZZ_CHECK(d[0] == ':' && d[1] == ' ', "error line: no \": \" after the line number: %s", l);
		}
		if (!strict)
			continue;
		for (const char *c = l; *c; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
				   "error line %u has control character 0x%02x at %zu: %s", i, (unsigned char)*c,
				   (size_t)(c - l), l);
	}
}

/* A UDP (or TCP to port 80) packet from src to dst at p, checksums right;
 * returns its length. */
static uint32_t mk_pkt(uint8_t *p, const struct mslb_addr *src, const struct mslb_addr *dst, bool tcp)
{
	bool v4 = dst->family == 2;	/* AF_INET */
	unsigned hl = v4 ? 20 : 40, l4 = tcp ? 20 : 8;
	uint32_t len = hl + l4 + 16, l4off, field;

	memset(p, 0, len);
	if (v4) {
		p[0] = 0x45;
		fz_put16(p + 2, (uint16_t)len);
		p[8] = 64;
		p[9] = tcp ? 6 : 17;
		memcpy(p + 12, src->bytes, 4);
		memcpy(p + 16, dst->bytes, 4);
	} else {
		p[0] = 0x60;
		fz_put16(p + 4, (uint16_t)(len - 40));
		p[6] = tcp ? 6 : 17;
		p[7] = 64;
		memcpy(p + 8, src->bytes, 16);
		memcpy(p + 24, dst->bytes, 16);
	}
	fz_put16(p + hl, 40000);
	fz_put16(p + hl + 2, tcp ? 80 : 53);
	if (tcp)
		p[hl + 12] = 0x50;
	fz_csum_fix(p, len, FZ_FIX_FULL, &l4off, &field);
	return len;
}

/* inner in a tunnel from src to dst (same family as dst). */
static uint32_t mk_tunnel(uint8_t *p, const struct mslb_addr *src, const struct mslb_addr *dst, uint32_t ilen)
{
	bool v4 = dst->family == 2;
	unsigned hl = v4 ? 20 : 40;
	uint8_t proto = (p[hl] >> 4) == 4 ? 4 : 41;

	memset(p, 0, hl);
	if (v4) {
		p[0] = 0x45;
		fz_put16(p + 2, (uint16_t)(hl + ilen));
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, src->bytes, 4);
		memcpy(p + 16, dst->bytes, 4);
		fz_ip4_csum_set(p);
	} else {
		p[0] = 0x60;
		fz_put16(p + 4, (uint16_t)ilen);
		p[6] = proto;
		p[7] = 64;
		memcpy(p + 8, src->bytes, 16);
		memcpy(p + 24, dst->bytes, 16);
	}
	return hl + ilen;
}

static void probe(struct fz_run *r, struct io_pkt *p, const struct mslb_addr *osrc, const struct mslb_addr *odst,
		  const struct mslb_addr *src, const struct mslb_addr *dst, bool tcp)
{
	unsigned ohl = odst ? (odst->family == 2 ? 20 : 40) : 0;

	if (odst && !osrc)
		return;
	p->data = p->buf + IO_HEADROOM;
	p->len = mk_pkt(p->data + ohl, src, dst, tcp);
	if (odst)
		p->len = mk_tunnel(p->data, osrc, odst, p->len);
	p->off = (struct io_offload){ 0 };
	fz_run_pkt(r, p);
}

static void client(struct mslb_addr *c, int family)
{
	*c = (struct mslb_addr){ .family = (uint8_t)family };
	if (family == 2)
		memcpy(c->bytes, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
	else
		memcpy(c->bytes, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0xc1 }, 5), c->bytes[15] = 1;
}

/* An outer source a decapsulator of allowed accepts, of family. */
static const struct mslb_addr *allowed_src(const struct cfg_prefixes *allowed, int family)
{
	for (unsigned i = 0; i < allowed->n; i++)
		if (allowed->p[i].addr.family == family)
			return &allowed->p[i].addr;
	return NULL;
}

static void run_probes(struct mslb_lb *lb, const struct mslb_config *cfg)
{
	struct io_pkt p = { .buf = malloc(IO_HEADROOM + IO_BUF_SIZE) };
	struct fz_run r;
	struct mslb_addr c;

	FUZZ_CHECK(p.buf, "out of memory");
	fz_run_start(&r, lb);
	lb_set_time(lb, 1.0);
	for (unsigned i = 0; i < cfg->front.n_services && i < 4; i++) {
		const struct mslb_addr *s = &cfg->front.services[i];

		client(&c, s->family);
		probe(&r, &p, NULL, NULL, &c, s, false);
		probe(&r, &p, NULL, NULL, &c, s, true);
		probe(&r, &p, allowed_src(&cfg->front.allowed, s->family), s, &c, s, true);
	}
	for (unsigned i = 0; i < cfg->back.n_addresses && i < 4; i++) {
		const struct cfg_back_address *b = &cfg->back.addresses[i];

		client(&c, b->service.family);
		probe(&r, &p, allowed_src(&cfg->back.allowed, b->address.family), &b->address, &c, &b->service, true);
		probe(&r, &p, NULL, NULL, &c, &b->address, false);
	}
	for (unsigned i = 0; i < cfg->return_endpoint.n && i < 4; i++) {
		const struct mslb_addr *e = &cfg->return_endpoint.addresses[i];

		client(&c, e->family);
		probe(&r, &p, allowed_src(&cfg->return_endpoint.allowed, e->family), e, e, &c, false);
	}
	free(p.buf);
}

/* The key file parser on the raw bytes (NULs and all, no terminator). */
static void check_keys(const uint8_t *data, size_t size, struct config_errors *errs)
{
	static const struct cfg_redirect_key zero[MSLB_REDIRECT_KEYS_MAX];
	struct cfg_redirect_key keys[MSLB_REDIRECT_KEYS_MAX];
	unsigned n = 99;
	int r;

	memset(keys, 0xa5, sizeof(keys));
	errs->n = 0;
	r = config_redirect_keys_parse((const char *)data, size, KEYS_NAME, keys, &n, errs);
	FUZZ_CHECK(r == 0 || r == -1, "config_redirect_keys_parse returned %d", r);
	if (r == 0) {
		FUZZ_CHECK(errs->n == 0, "keys accepted with %u error lines", errs->n);
		FUZZ_CHECK(n >= 1 && n <= MSLB_REDIRECT_KEYS_MAX, "keys accepted: %u of them", n);
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = 0; j < i; j++)
				FUZZ_CHECK(keys[i].id != keys[j].id, "keys accepted: ID %u twice", keys[i].id);
		return;
	}
	FUZZ_CHECK(n == 0, "keys refused but n = %u", n);
	FUZZ_CHECK(!memcmp(keys, zero, sizeof(keys)), "keys refused but not wiped");
	check_errors(errs, KEYS_NAME);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors *errs;
	struct mslb_config *cfg;
	char *text;

	if (size > MAX_TEXT)
		return 0;
	text = malloc(size + 1);
	errs = malloc(sizeof(*errs));
	FUZZ_CHECK(text && errs, "out of memory");
	check_keys(data, size, errs);
	memcpy(text, data, size);
	text[size] = 0;
	if (strcasestr(text, "@include")) {
		free(text);
		free(errs);
		return 0;
	}
	cfg = config_load_string(text, NAME, errs);
	if (cfg) {
		struct mslb_lb *lb = lb_create(cfg);

		FUZZ_CHECK(errs->n == 0, "loaded with %u error lines", errs->n);
		FUZZ_CHECK(lb, "the config loaded, but lb_create failed");
		run_probes(lb, cfg);
		lb_destroy(lb);
		config_free(cfg);
	} else {
		check_errors(errs, NULL);
	}
	free(text);
	free(errs);
	return 0;
}
