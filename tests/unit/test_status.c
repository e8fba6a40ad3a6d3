/* status: the two writers render one description of fields (exactly, for
 * a small tree), and `mslbd status` in both forms for a front and back
 * after a packet: the JSON is an interface (man mslbd(8), the netns tests
 * read it with jq), so its bytes are pinned here up to the drop reasons. */
#include <stdio.h>
#include <string.h>

#include "pktgen.h"
#include "testlib.h"
#include "unit.h"
#include "base/writer.h"
#include "config/config.h"
#include "ctl/status.h"

/* The same small tree for both writers: a title, null fields, lists of
 * values and of objects, an object inside a list's object, a field after
 * it, and a line long enough to wrap. */
static void tree(struct writer *w)
{
	char tag[16];

	wr_obj(w, NULL, "thing");
	wr_str(w, "name", "", "a\"b");
	wr_u64(w, "count_x", NULL, 42);
	wr_secs(w, "up_s", "up", 90061);
	wr_null(w, "none", NULL);
	wr_str(w, "gone", NULL, NULL);
	wr_list(w, "words", NULL);
	wr_str(w, NULL, NULL, "x");
	wr_str(w, NULL, NULL, "y z");
	wr_end(w);
	wr_list(w, "empty", NULL);
	wr_end(w);
	wr_list(w, "items", NULL);
	wr_obj(w, NULL, "item");
	wr_str(w, "id", "", "i1");
	wr_u64(w, "n", NULL, 1);
	wr_end(w);
	wr_obj(w, NULL, "item");
	wr_str(w, "id", "", "i2");
	wr_obj(w, "sub", NULL);
	wr_u64(w, "k", NULL, 2);
	wr_end(w);
	wr_u64(w, "after", NULL, 3);
	wr_end(w);
	wr_end(w);
	wr_obj(w, "long_one", NULL);
	for (unsigned i = 0; i < 8; i++) {
		snprintf(tag, sizeof(tag), "field_%u", i);
		wr_u64(w, tag, NULL, 1000000 + i);
	}
	wr_end(w);
	wr_end(w);
}

static void test_writer_json(void)
{
	struct writer_json wj;
	struct strbuf sb;

	sb_init(&sb);
	writer_json_init(&wj, &sb);
	tree(&wj.w);
	CU_ASSERT_STRING_EQUAL(sb_str(&sb),
			       "{\"name\":\"a\\\"b\",\"count_x\":42,\"up_s\":90061,\"none\":null,\"gone\":null,"
			       "\"words\":[\"x\",\"y z\"],\"empty\":[],"
			       "\"items\":[{\"id\":\"i1\",\"n\":1},{\"id\":\"i2\",\"sub\":{\"k\":2},\"after\":3}],"
			       "\"long_one\":{\"field_0\":1000000,\"field_1\":1000001,\"field_2\":1000002,"
			       "\"field_3\":1000003,\"field_4\":1000004,\"field_5\":1000005,\"field_6\":1000006,"
			       "\"field_7\":1000007}}\n");
	sb_free(&sb);
}

static void test_writer_text(void)
{
	struct writer_text wt;
	struct strbuf sb;

	sb_init(&sb);
	writer_text_init(&wt, &sb);
	tree(&wt.w);
	CU_ASSERT_STRING_EQUAL(sb_str(&sb),
			       "thing a\"b, count x 42, up 1d 01:01:01, words [x, y z]\n"
			       "item i1, n 1\n"
			       "item i2\n"
			       "  sub: k 2\n"
			       "  after 3\n"
			       "long one: field 0 1000000, field 1 1000001, field 2 1000002, field 3 1000003,"
			       " field 4 1000004,\n"
			       "  field 5 1000005, field 6 1000006, field 7 1000007\n");
	sb_free(&sb);
}

#define CONF \
	"front = {\n" \
	"  services = [ \"203.0.113.10\", \"2001:db8:5::10\" ];\n" \
	"  next_hops = (\n" \
	"    { name = \"b1\"; ipv4 = \"198.51.100.11\"; },\n" \
	"    { name = \"b2\"; ipv4 = \"198.51.100.12\"; ipv6 = \"2001:db8:b::12\";\n" \
	"      mode = \"encapsulate\"; outer = \"ipv6\"; path_mtu = 1400; }\n" \
	"  );\n" \
	"  table = ( { source = \"192.0.2.0/25\"; next_hop = \"b1\"; } );\n" \
	"  unmatched = \"drop\";\n" \
	"};\n" \
	"back = {\n" \
	"  addresses = ( { address = \"198.51.100.21\"; service = \"203.0.113.10\";\n" \
	"                  deliver_via = \"198.51.100.130\"; } );\n" \
	"};\n"

/* Status of CONF after one UDP packet from 192.0.2.1 to the service. */
static void render(struct strbuf *text, struct strbuf *json)
{
	static struct config_errors errs;
	struct io_backend tun = { .kind = "tun", .name = "mslb0", .fd = -1,
				  .stats = { .rx_packets = 1, .rx_bytes = 60, .tx_packets = 1, .tx_bytes = 60 } };
	struct status_info si = {
		.pid = 7,
		.uptime_s = 86401,
		.config_file = "/etc/mslb.conf",
		.loaded_at = "2024-05-01 12:00:00",
		.reloads = 2,
		.reload_failures = 1,
		.io = &tun,
	};
	struct mslb_config *cfg = config_load_string(CONF, "status.conf", &errs);
	struct mslb_lb *lb;
	struct pg_rng r;
	struct pg_spec s;
	struct pg_pkt p;

	for (unsigned i = 0; i < errs.n; i++)
		printf("\n  %s", errs.line[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	lb = lb_create(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lb);
	pg_seed(&r, 1);
	pg_spec_init(&s, 4, PG_UDP);
	pg_build(&p, &s, &r);
	CU_ASSERT_EQUAL(tl_process(lb, p.buf, sizeof(p.buf), &p.len), MSLB_OK);
	si.lb = lb;
	status_text(&si, text);
	status_json(&si, json);
	lb_destroy(lb);
	config_free(cfg);
}

/* s up to and including the first occurrence of mark ("" if absent). */
static void head(const char *s, const char *mark, char *out, size_t len)
{
	const char *e = strstr(s, mark);
	size_t n = e ? (size_t)(e - s) + strlen(mark) : 0;

	snprintf(out, len, "%.*s", (int)n, s);
}

static void test_status_json(void)
{
	struct strbuf text, json;
	char got[4096];

	sb_init(&text);
	sb_init(&json);
	render(&text, &json);
	head(sb_str(&json), "\"drops\":{", got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got,
		"{\"version\":\"" PACKAGE_VERSION "\",\"pid\":7,\"uptime_s\":86401,\"config_file\":\"/etc/mslb.conf\","
		"\"config_loaded\":\"2024-05-01 12:00:00\",\"reloads\":2,\"reload_failures\":1,"
		"\"roles\":[\"front\",\"back\"],"
		"\"devices\":[{\"name\":\"mslb0\",\"kind\":\"tun\",\"mtu\":1500,\"offloads\":\"off\","
		"\"rx_packets\":1,\"rx_bytes\":60,\"tx_packets\":1,\"tx_bytes\":60,\"tx_errors\":0,\"rx_errors\":0}],"
		"\"next_hop_cache\":null,"
		"\"front\":{\"services\":[\"203.0.113.10\",\"2001:db8:5::10\"],\"unmatched\":\"drop\","
		"\"next_hops\":[{\"name\":\"b1\",\"ipv4\":\"198.51.100.11\",\"ipv6\":null,\"state\":\"up\","
		"\"state_since_s\":null,\"packets\":1,\"bytes\":60,"
		"\"server_id\":null,\"weight\":1,\"hash_hits\":0,\"port_hits\":0,\"check\":null,\"mode\":\"translate\","
		"\"outer\":null,\"encapsulation\":null,\"families\":[],\"tunnel\":[]},"
		"{\"name\":\"b2\",\"ipv4\":\"198.51.100.12\",\"ipv6\":\"2001:db8:b::12\",\"state\":\"up\","
		"\"state_since_s\":null,\"packets\":0,\"bytes\":0,"
		"\"server_id\":null,\"weight\":1,\"hash_hits\":0,\"port_hits\":0,\"check\":null,\"mode\":\"encapsulate\","
		"\"outer\":\"ipv6\",\"encapsulation\":\"ip\",\"families\":[\"ipv4 in ipv6\",\"ipv6 in ipv6\"],"
		"\"tunnel\":[{\"outer\":\"ipv6\",\"path_mtu\":1400,\"tunnel_mtu\":1360,\"source\":\"config\","
		"\"expires_in\":0}],\"encapsulated\":0,\"fragments\":0,\"segments\":0,\"uso\":0,\"udp_tunnel\":0,\"icmp_sent\":0,"
		"\"icmp_received\":0,\"icmp_rate_limited\":0}],"
		"\"mptcp\":null,\"table\":[{\"source\":\"192.0.2.0/25\",\"next_hop\":\"b1\",\"backup\":null,\"hits\":1,"
		"\"fallbacks\":0}],"
		"\"unmatched_hits\":0,\"persistence\":{\"window_s\":240,\"previous_left_s\":0,\"generations\":0,"
		"\"marked\":0,\"too_big\":0,\"unmarked\":0,\"gso_shrunk\":0,\"taken_out\":0}},"
		"\"back\":{\"addresses\":[{\"address\":\"198.51.100.21\",\"service\":\"203.0.113.10\","
		"\"deliver_via\":\"198.51.100.130\",\"packets\":0,\"bytes\":0}],\"mptcp\":null,"
		"\"proposal2\":{\"options_stripped\":0,\"options_bad\":0,\"rules_asked\":0,\"rules_failed\":0,"
		"\"alternate_unknown\":0,\"subflows\":null,\"keys\":null}," "\"persistence\":{\"marks\":0,\"marks_ignored\":0,\"flows\":null},\"decapsulated\":0,\"uso_coalesced\":0,\"uso_split\":0,\"udp_tunnel\":0,"
		"\"reassembly\":{\"memory\":4194304,\"timeout\":30,\"datagrams\":0,\"fragments\":0,\"timeouts\":0,"
		"\"memory_drops\":0,\"bad\":0,\"in_progress\":0,\"evictions\":0,\"source_evictions\":0},\"return_tunnel\":null},\"redirect\":null,"
		"\"icmp\":{\"rate\":100,\"burst\":20,\"sent\":0,\"rate_limited\":0,\"received\":0,\"relayed\":0,"
		"\"followed\":0},"
		"\"decapsulation\":{\"packets\":0,\"reassembly\":{\"memory\":4194304,\"timeout\":30,\"datagrams\":0,"
		"\"fragments\":0,\"timeouts\":0,\"memory_drops\":0,\"bad\":0,\"in_progress\":0,\"evictions\":0,\"source_evictions\":0}},"
		"\"return_endpoint\":null,\"drops\":{");
	CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&json), "{\"truncated\":0,"));
	CU_ASSERT_EQUAL(json.len >= 3 ? strcmp(sb_str(&json) + json.len - 3, "}}\n") : -1, 0);
	sb_free(&text);
	sb_free(&json);
}

static void test_status_text(void)
{
	struct strbuf text, json;
	char got[4096];

	sb_init(&text);
	sb_init(&json);
	render(&text, &json);
	head(sb_str(&text), "drops: ", got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got,
		"mslbd " PACKAGE_VERSION ", pid 7, uptime 1d 00:00:01, config file /etc/mslb.conf,\n"
		"  config loaded 2024-05-01 12:00:00, reloads 2, reload failures 1, roles [front, back]\n"
		"device mslb0, kind tun, mtu 1500, offloads off, rx packets 1, rx bytes 60, tx packets 1, tx bytes 60,\n"
		"  tx errors 0, rx errors 0\n"
		"front: services [203.0.113.10, 2001:db8:5::10], unmatched drop\n"
		"  next hop b1, ipv4 198.51.100.11, state up, packets 1, bytes 60, weight 1, hash hits 0, port hits 0,\n"
		"    mode translate\n"
		"  next hop b2, ipv4 198.51.100.12, ipv6 2001:db8:b::12, state up, packets 0, bytes 0, weight 1,\n"
		"    hash hits 0, port hits 0, mode encapsulate, outer ipv6, encapsulation ip, families [ipv4 in ipv6, ipv6 in ipv6]\n"
		"    tunnel ipv6, path mtu 1400, tunnel mtu 1360, source config, expires in 0\n"
		"    encapsulated 0, fragments 0, segments 0, uso 0, udp tunnel 0, icmp sent 0, icmp received 0,\n"
		"    icmp rate limited 0\n"
		"  table 192.0.2.0/25, next hop b1, hits 1, fallbacks 0\n"
		"  unmatched hits 0\n"
		"  persistence: window 00:04:00, previous generation left 00:00:00, changes 0, packets marked 0,\n"
		"    too big to mark 0, no room to mark 0, super-packets cut smaller 0, foreign options taken out 0\n"
		"back:\n"
		"  address 198.51.100.21, service 203.0.113.10, deliver via 198.51.100.130, packets 0, bytes 0\n"
		"  proposal 2: options stripped 0, options bad 0, redirect rules asked 0, rules failed 0,\n"
		"    alternate unknown 0\n"
		"  persistence: marked packets 0, marks without redirect peers 0\n"
		"  decapsulated 0, uso coalesced 0, uso split 0, udp tunnel 0\n"
		"  reassembly: memory 4194304, timeout 30, datagrams 0, fragments 0, timeouts 0, memory drops 0,\n"
		"    bad 0, in progress 0, evictions 0, source evictions 0\n"
		"icmp: rate 100, burst 20, sent 0, rate limited 0, received 0, relayed 0, followed 0\n"
		"decapsulation: packets 0\n"
		"  reassembly: memory 4194304, timeout 30, datagrams 0, fragments 0, timeouts 0, memory drops 0,\n"
		"    bad 0, in progress 0, evictions 0, source evictions 0\n"
		"drops: ");
	CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&text), "drops: truncated 0, "));
	CU_ASSERT_EQUAL(text.len ? sb_str(&text)[text.len - 1] : 0, '\n');
	sb_free(&text);
	sb_free(&json);
}

void suite_status(void)
{
	CU_pSuite s = CU_add_suite("status", NULL, NULL);

	UNIT_ADD(s, test_writer_json);
	UNIT_ADD(s, test_writer_text);
	UNIT_ADD(s, test_status_json);
	UNIT_ADD(s, test_status_text);
}
