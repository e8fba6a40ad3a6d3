/* fuzz_rdr: the redirection protocol's codec and receiver on any bytes.
 *
 * The first byte picks how the rest is fed: even, as it came (a stranger
 * or a forger: no rule may ever appear); odd, signed with the real key
 * first (a peer's bytes: reaches install, delete and ack, with what the
 * decoder lets through). Asserted each time:
 * - decode and encode agree byte for byte on what decodes;
 * - unsigned bytes install nothing and move no replay window;
 * - every install record the receiver acked as OK is a live rule that
 *   says what the record said, and the caps hold. */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "redirect/rdr.h"
#include "redirect/rdr_auth.h"
#include "redirect/rdr_wire.h"

static struct mslb_config cfg;
static struct cfg_back_address back;
static struct cfg_redirect_peer peers[2];
static struct rdr *R;
static double now = 1;
static uint8_t last_ack[RDR_MAX_LEN];
static size_t last_ack_len;

static void capture(void *ctx, const struct mslb_addr *to, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)to;
	FUZZ_CHECK(len <= sizeof(last_ack), "a message of %zu bytes sent", len);
	memcpy(last_ack, buf, len);
	last_ack_len = len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (rdr_auth_init() < 0)
		fuzz_fail("libsodium did not start");
	cfg.has_back = cfg.has_redirect = true;
	cfg.back.n_addresses = 1;
	cfg.back.addresses = &back;
	mslb_addr_parse("203.0.113.10", &back.address);
	mslb_addr_parse("203.0.113.80", &back.service);
	mslb_addr_parse("198.51.100.10", &cfg.redirect.address);
	cfg.redirect.n_keys = 2;
	cfg.redirect.keys[0].id = 7;
	memset(cfg.redirect.keys[0].key, 0x11, MSLB_REDIRECT_KEY_LEN);
	cfg.redirect.keys[1].id = 8;
	memset(cfg.redirect.keys[1].key, 0x22, MSLB_REDIRECT_KEY_LEN);
	cfg.redirect.n_peers = 2;
	cfg.redirect.peers = peers;
	strcpy(peers[0].name, "b");
	mslb_addr_parse("198.51.100.11", &peers[0].address);
	peers[0].has_tunnel[0] = peers[0].has_tunnel[1] = true;
	mslb_addr_parse("203.0.113.11", &peers[0].tunnel[0]);
	mslb_addr_parse("2001:db8::11", &peers[0].tunnel[1]);
	strcpy(peers[1].name, "c");
	mslb_addr_parse("198.51.100.12", &peers[1].address);
	peers[1].has_tunnel[0] = true;
	mslb_addr_parse("203.0.113.12", &peers[1].tunnel[0]);
	cfg.redirect.rule_ttl = 60;
	cfg.redirect.max_rules = 256;
	cfg.redirect.max_rules_per_peer = 200;
	cfg.redirect.rate = cfg.redirect.burst = 1000000;
	cfg.redirect.global_rate = 10000000;
	R = rdr_create(&cfg, now);
	if (!R)
		fuzz_fail("rdr_create failed");
	rdr_set_send(R, capture, NULL);
	return 0;
}

static void check_codec(const uint8_t *b, size_t len)
{
	uint8_t again[RDR_MAX_LEN];
	struct rdr_msg m;
	size_t n;

	if (rdr_decode(b, len, &m) != RDR_PARSE_OK)
		return;
	n = rdr_encode(&m, again);
	FUZZ_CHECK(n == len, "decoded %zu bytes, encoded %zu", len, n);
	FUZZ_CHECK(!memcmp(again, b, len - RDR_MAC_LEN), "decode and encode disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[RDR_MAX_LEN + 64];
	struct rdr_stats before, after;
	const struct mslb_addr *from;
	struct rdr_msg m;
	bool sign;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	sign = data[0] & 1;
	from = &peers[(data[0] >> 1) & 1].address;
	size--;
	memcpy(buf, data + 1, size);
	check_codec(buf, size);
	now += 0.01;
	if (sign && size >= RDR_HDR_LEN + RDR_MAC_LEN) {
		const struct cfg_redirect_key *k = rdr_auth_key(cfg.redirect.keys, cfg.redirect.n_keys, buf[4]);

		if (k)
			rdr_auth_sign(k, buf, size);
	}
	rdr_get_stats(R, &before, now);
	last_ack_len = 0;
	rdr_input(R, from, buf, size, now);
	rdr_get_stats(R, &after, now);
	FUZZ_CHECK(after.all.rules <= cfg.redirect.max_rules, "%u rules over the cap", after.all.rules);
	for (unsigned i = 0; i < cfg.redirect.n_peers; i++) {
		struct rdr_counts c;

		rdr_get_peer(R, i, &c);
		FUZZ_CHECK(c.rules <= cfg.redirect.max_rules_per_peer, "peer %u holds %u rules", i, c.rules);
	}
	if (!sign) {
		const struct cfg_redirect_key *k = size >= RDR_HDR_LEN + RDR_MAC_LEN ?
			rdr_auth_key(cfg.redirect.keys, cfg.redirect.n_keys, buf[4]) : NULL;

		/* Only bytes that carry the right MAC already (a seed) count. */
		if (k && rdr_auth_verify(k, buf, size))
			return 0;
		FUZZ_CHECK(after.all.received == before.all.received, "unsigned bytes were taken");
		FUZZ_CHECK(after.installed == before.installed && after.deleted == before.deleted,
			   "unsigned bytes changed the rules");
		return 0;
	}
	if (after.all.received == before.all.received || rdr_decode(buf, size, &m) != RDR_PARSE_OK ||
	    m.type == RDR_ACK || m.type == RDR_DELETE)
		return 0;
	/* The ack says what became of each record: check the OK ones. */
	{
		struct rdr_msg ack;

		FUZZ_CHECK(last_ack_len && rdr_decode(last_ack, last_ack_len, &ack) == RDR_PARSE_OK,
			   "a signed install got no well-formed ack");
		FUZZ_CHECK(ack.type == RDR_ACK && ack.count == m.count && ack.u.ack.seq == m.seq,
			   "the ack does not answer the message");
		for (unsigned n = 0; n < m.count; n++) {
			const struct rdr_entry *e;
			unsigned later = 0;

			if (ack.u.ack.status[n] != RDR_ST_OK)
				continue;
			/* A later record of the same flow decides. */
			for (unsigned j = n + 1; j < m.count; j++)
				later += !memcmp(&m.u.rule[j].flow, &m.u.rule[n].flow, sizeof(m.u.rule[n].flow));
			if (later)
				continue;
			e = rdr_rule(R, &m.u.rule[n].flow, now);
			FUZZ_CHECK(e, "record %u acked OK but no rule", n);
			FUZZ_CHECK(e->owner_version == m.u.rule[n].owner_version &&
				   !memcmp(e->owner, m.u.rule[n].owner, 16), "record %u: the rule's owner differs", n);
		}
	}
	return 0;
}
