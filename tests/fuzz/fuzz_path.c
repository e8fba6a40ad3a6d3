/* fuzz_path: whole packets through the whole data path (lb_process_pkt)
 * for every role and mode, several packets per input so that reassembly,
 * path MTU and ICMP rate state carry over, with the clock and the
 * offload metadata from the input too. Each packet the path returns or
 * emits must keep fuzz_out.c's invariants. Format: fuzz_path.h, with the
 * extensions below. */
#include "fuzz_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_confs.h"
#include "fuzz_out.h"
#include "config/config.h"


static struct mslb_config *cfgs[64];
static bool trace;	/* FUZZ_TRACE=1: each record's verdict on stderr (seed checks) */

static char keys_path[64];

/* A redirect key file for the configs with peers, removed at exit. */
static void remove_keys(void)
{
	unlink(keys_path);
}

static int write_keys(void)
{
	static const char text[] = "1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	int fd;

	snprintf(keys_path, sizeof(keys_path), "/tmp/fuzz_path-keys-XXXXXX");
	fd = mkstemp(keys_path);
	if (fd < 0)
		return -1;
	if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1)) {
		close(fd);
		return -1;
	}
	close(fd);
	atexit(remove_keys);
	return 0;
}

/* text with @KEYS@ replaced by the key file's path (malloc'd). */
static char *with_keys(const char *text)
{
	const char *at = strstr(text, "@KEYS@");
	size_t n = strlen(text) + sizeof(keys_path);
	char *out = malloc(n);

	if (!out)
		return NULL;
	if (!at)
		snprintf(out, n, "%s", text);
	else
		snprintf(out, n, "%.*s%s%s", (int)(at - text), text, keys_path, at + 6);
	return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_errors errs;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	trace = getenv("FUZZ_TRACE") != NULL;
	if (write_keys() < 0)
		fuzz_fail("cannot write the redirect key file");
	for (unsigned i = 0; i < fz_n_confs; i++) {
		char *text = with_keys(fz_confs[i].text);

		FUZZ_CHECK(text, "out of memory");
		cfgs[i] = config_load_string(text, fz_confs[i].name, &errs);
		free(text);
		if (!cfgs[i]) {
			for (unsigned e = 0; e < errs.n; e++)
				fprintf(stderr, "%s\n", errs.line[e]);
			fuzz_fail("config %s does not load", fz_confs[i].name);
		}
	}
	return 0;
}

/* Set the IP length fields of p, and of the packets it carries, to len. */
static void fix_len(uint8_t *p, uint32_t len)
{
	for (int depth = 0; depth < 4; depth++) {
		struct fz_ip ip;

		if (len >= 20 && p[0] >> 4 == 4 && len <= 0xffff)
			fz_put16(p + 2, (uint16_t)len);
		else if (len > 40 && p[0] >> 4 == 6 && len - 40 <= 0xffff)
			fz_put16(p + 4, (uint16_t)(len - 40));
		else
			return;
		if (!fz_ip_walk(p, len, &ip) || ip.fragment || (ip.proto != 4 && ip.proto != 41))
			return;
		p += ip.l3len;
		len -= ip.l3len;
	}
}

static void set_mtu(struct mslb_lb *lb, const uint8_t *b, uint32_t n)
{
	unsigned mtu;

	if (n < 3)
		return;
	mtu = fz_get16(b + 1);
	if (mtu && mtu < 68)	/* the least a kernel device has */
		mtu = 68;
	if (b[0] & FZ_MTU_RETURN)
		lb_set_return_mtu(lb, b[0] & FZ_MTU_V6, mtu);
	else
		lb_set_route_mtu(lb, b[0] & 0x3f, b[0] & FZ_MTU_V6, mtu);
}

/* A health check's doing: next hops out of and back into the hash, and this
 * host's probes steered (the source is the record's, any address). */
static void set_health(struct mslb_lb *lb, const uint8_t *b, uint32_t n)
{
	const struct mslb_config *cfg = lb_config(lb);
	uint8_t src[16] = { 0 };
	unsigned i, v6;

	if (n < 4 || !cfg->front.n_next_hops)
		return;
	i = b[0] % cfg->front.n_next_hops;
	v6 = b[1] & FZ_H_V6;
	FUZZ_CHECK(lb_set_usable(lb, i, b[1] & FZ_H_USABLE) == 0, "lb_set_usable failed");
	FUZZ_CHECK(lb_next_hop_usable(lb, i) == !!(b[1] & FZ_H_USABLE), "lb_set_usable did not take");
	if (!(b[1] & FZ_H_PROBE)) {
		lb_clear_probe(lb, i);
		return;
	}
	memcpy(src, b + 4, n - 4 < 16 ? n - 4 : 16);
	lb_set_probe(lb, i, v6 ? 6 : 4, b[1] & FZ_H_ICMP ? (v6 ? 58 : 1) : 6, src, fz_get16(b + 2));
}

static void run_record(struct fz_run *r, struct io_pkt *p, uint8_t flags, const struct io_offload *off,
		       const uint8_t *b, uint32_t n)
{
	unsigned fix = flags & FZ_R_FIX_MASK, l4off = 0, field = 0, n_out = r->n_out;
	enum mslb_drop d;

	p->data = p->buf + IO_HEADROOM;
	memcpy(p->data, b, n);
	p->len = n;
	p->off = *off;
	p->ifindex = 0;
	p->out = NULL;
	p->out_mac = NULL;
	if (flags & FZ_R_FIX_LEN)
		fix_len(p->data, n);
	if (fix && fz_csum_fix(p->data, n, (enum fz_fix)(fix - 1), &l4off, &field) && fix - 1 == FZ_FIX_PARTIAL) {
		p->off.flags |= IO_OFF_NEEDS_CSUM;
		p->off.csum_start = (uint16_t)l4off;
		p->off.csum_offset = (uint16_t)field;
	}
	n = p->len;
	d = fz_run_pkt(r, p);
	/* Emitted, they are refused by fuzz_out.c whatever the flag. */
	FUZZ_CHECK(d != MSLB_OK || !p->len || !io_is_tunnel_gso(&p->off) || (flags & FZ_R_TNL),
		   "returned packet: UDP-tunnel GSO (type 0x%02x) to an output that does not take it",
		   p->off.gso_type);
	if (trace)
		fprintf(stderr, "fuzz_path: %u bytes (flags 0x%02x, checksums %s): %s, %u out, %u bytes returned\n", n,
			flags, r->in_csum == FZ_CSUM_GOOD ? "good" : r->in_csum == FZ_CSUM_BAD ? "bad" : "unknown",
			mslb_drop_name(d), r->n_out - n_out, d == MSLB_OK ? p->len : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mslb_config *cfg;
	struct mslb_lb *lb;
	struct io_pkt p = { 0 };
	struct fz_run r;
	double now = 1.0;
	size_t i = 1;

	if (size < 1)
		return 0;
	cfg = cfgs[data[0] % fz_n_confs];
	lb = lb_create(cfg);
	FUZZ_CHECK(lb, "lb_create failed for config %s", cfg->file);
	p.buf = malloc(IO_HEADROOM + IO_BUF_SIZE);
	FUZZ_CHECK(p.buf, "out of memory");
	fz_run_start(&r, lb);
	lb_set_time(lb, now);
	for (unsigned rec = 0; rec < FZ_MAX_RECORDS && size - i >= 4; rec++) {
		uint8_t flags = data[i], clock = data[i + 1];
		uint32_t n = fz_get16(data + i + 2);
		struct io_offload off = { 0 };

		i += 4;
		p.csum_valid = false;
		if (flags & FZ_R_OFFLOAD) {
			if (size - i < 10)
				break;
			off.flags = data[i] & IO_OFF_NEEDS_CSUM;
			/* The kernel's "checked": the back then trusts GUE. */
			p.csum_valid = data[i] & VIRTIO_NET_HDR_F_DATA_VALID;
			off.gso_type = data[i + 1];
			off.csum_start = fz_get16(data + i + 2);
			off.csum_offset = fz_get16(data + i + 4);
			off.gso_size = fz_get16(data + i + 6);
			off.hdr_len = fz_get16(data + i + 8);
			i += 10;
			if (io_is_tunnel_gso(&off)) {
				if (size - i < 4)
					break;
				off.flags |= data[i - 10] & IO_OFF_TNL_CSUM;
				off.outer_th = fz_get16(data + i);
				off.inner_nh = fz_get16(data + i + 2);
				i += 4;
			}
		}
		if (n > size - i)
			n = (uint32_t)(size - i);
		now += clock < 128 ? clock * 0.01 : (clock - 128) * 5.0;
		lb_set_time(lb, now);
		lb_set_emit_uso(lb, flags & FZ_R_USO);
		lb_set_emit_tunnel_gso(lb, flags & FZ_R_TNL ? 3 : 0);
		if (flags & FZ_R_MTU)
			set_mtu(lb, data + i, n);
		else if (flags & FZ_R_HEALTH)
			set_health(lb, data + i, n);
		else
			run_record(&r, &p, flags, &off, data + i, n);
		i += n;
	}
	free(p.buf);
	lb_destroy(lb);
	return 0;
}
