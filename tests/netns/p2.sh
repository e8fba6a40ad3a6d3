#!/bin/bash
# tests/netns/p2.sh: MPTCP Proposal 2 of draft-olteanu-mptcp-loadbalance-00
# (section 3) on stock Linux servers, with the kernel's MPTCP on both ends.
# Translation mode (MSLB_FRONT_MODE=encapsulate: p2-encap.sh), both families.
#
#   c  ==(3 links)==  f  ---- s1   (stock server; mslbd back on its host)
#                        ---- s2
#                        ---- s3
#
# The topology is mptcp.sh's (mptcp_lib.sh). The front runs mslbd with
# front.mptcp.proposal = 2: MP_CAPABLE SYNs get a key whose token's bucket
# picks the server, joins go by their token, every other segment by the
# bucket in TSecr, or by the 5-tuple hash without a timestamp. Each server's
# host runs an mslbd back with back.proposal2 (the client sees the front's
# key, the server its own: the back translates every field that depends on
# them; the bucket in every TSval) and a redirect group with the two other backs as peers, which
# redirects what the hash sends to the wrong server. The servers announce
# nothing: the client's fullmesh endpoints join IP_S:80 from its other two
# addresses.
#
# Runs (mptcp_client.py, 50 concurrent connections, 256 KiB echoed each):
#   v4, v6      timestamps on: every connection 3 subflows, all on the
#               server that holds the token (ss grouped by token on every
#               server; the client's MPTCP_INFO agrees), data intact,
#               window scaling and SACK on every server subflow
#   v4nots      the client without timestamps: everything but SYNs goes by
#               hash, and the redirect rules carry it to the owner: data
#               intact, every established subflow on its token's server,
#               packets redirected
#   plain TCP   both families, with and without timestamps, through the
#               same front
#   path MTU    f's links to the client at 1280: the servers' ICMP errors
#               reach the server whose bucket the quoted TSval carries
# Then: no MPJoinNoTokenFound anywhere, every redirect rule gone once the
# connections closed, the front's and backs' counters, and what the backs
# leave behind on SIGTERM (rules), and tcp_syncookies never touched.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_mptcp
require_cmd ip jq ss nstat socat sysctl timeout
require_mslbd
# shellcheck source=tests/netns/mptcp_lib.sh
. "$MSLB_LIB_DIR/mptcp_lib.sh"
KMODE=0
NCONN=${MSLB_MPTCP_CONNS:-50}
KEYS=$TMPD/redirect.key
T_START=$(now_ms)

front_p2_conf() { # FILE
	local i
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		if [ -n "${MSLB_FRONT_MODE:-}" ]; then
			echo "  mode = \"$MSLB_FRONT_MODE\";"
			echo "  tunnel_source = { ipv4 = \"$TSRC4\"; ipv6 = \"$TSRC6\"; };"
		fi
		echo "  next_hops = ("
		for i in 1 2 3; do
			printf '    { name = "s%s"; ipv4 = "%s"; ipv6 = "%s"; }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "$([ "$i" -lt 3 ] && echo ,)"
		done
		echo "  );"
		echo "  unmatched = \"hash\";"
		echo "  mptcp = { service_ports = [ 80 ]; proposal = 2; };"
		echo "};"
	} >"$1"
}

back_p2_conf() { # FILE I
	local i=$2
	{
		_conf_head "s$i"
		cat <<EOC
back = {
  addresses = (
    { address = "${IPB4[$i]}"; service = "$IPS4"; },
    { address = "${IPB6[$i]}"; service = "$IPS6"; }
  );
  proposal2 = { service_ports = [ 80 ]; };
  allowed_sources = [ "$TSRC4", "$TSRC6" ];
};
redirect = {
  address = "${B4[$i]}";
  key_file = "$KEYS";
  rule_ttl = 10;
  peers = (
EOC
		server_peers "$i"
		printf '  );\n};\n'
	} >"$1"
}

# ------------------------------------------------------------ set-up
topo_mptcp || bail "topology"
# Without timestamps a subflow's segments may take the detour through the
# hash's back and the owner's rule, a few ms behind the other subflows':
# the receiving connection holds that much data out of order. Linux (6.18
# here) then stalls it for good once its out-of-order data fills the
# receive buffer: the data that fills the hole waits on its subflow and is
# never taken (about 1 connection in 700 with the 128 KiB default, each
# stalled one holding just over 128 KiB out of order; none in 3000 with
# 1 MiB).
# What an operator would set (mslb.conf(5), Proposal 2), on every host here.
for n in c s1 s2 s3; do
	nsx "$n" sysctl -qw net.ipv4.tcp_rmem="4096 1048576 6291456" || bail "tcp_rmem on $n"
done
redirect_key_file "$KEYS" 1 || bail "key file"
for i in 1 2 3; do
	check_eq "s$i: tcp_syncookies before" 1 "$(sysctl_get "s$i" net.ipv4.tcp_syncookies)"
done
front_p2_conf "$(mslbd_conf f)"
mslbd_start f "$(mslbd_conf f)" || bail "mslbd on f"
for i in 1 2 3; do
	back_p2_conf "$(mslbd_conf "s$i")" "$i"
	mslbd_start "s$i" "$(mslbd_conf "s$i")" || bail "mslbd on s$i"
	bg_start "srv-s$i" "s$i" "$PYTHON" "$SERVER_PY" "s$i" 80 "$IPS4" "$IPS6" --lifetime 300 --idle 280
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :80' | wc -l) -ge 2 ]" || bail "server on s$i"
done
for i in 1 2 3; do
	check_eq "s$i: tcp_syncookies left as it was (keys are translated)" 1 \
		"$(sysctl_get "s$i" net.ipv4.tcp_syncookies)"
	check_match "s$i: a rule takes the server's port-80 replies into the TUN (IPv4)" \
		"from $IPS4 ipproto tcp sport 80 lookup $((RT_TABLE + 1))" "$(nsx "s$i" ip -4 rule show)"
	check_match "s$i: ... and IPv6" \
		"from $IPS6 ipproto tcp sport 80 lookup $((RT_TABLE + 1))" "$(nsx "s$i" ip -6 rule show)"
done

# ------------------------------------------------------------ checks
# check_p2_run KEY DESC WANT: every connection intact with WANT subflows at
# the client, each of them on the server that holds the connection's token.
check_p2_run() {
	local key=$1 what=$2 want=$3 out rc
	check_eq "$what: $NCONN results" "$NCONN" "$(jqr 'length' "$key")"
	check_eq "$what: every connection's echo intact (sha256)" "$NCONN" \
		"$(jqr '[.[] | select(.data_ok)] | length' "$key")" ||
		diag_failed "$key"
	check_eq "$what: every connection MPTCP with $want subflows" "$NCONN" \
		"$(jqr "[.[] | select(.ok and .fallback == false and .subflows == $want)] | length" "$key")" ||
		diag "$(jqr '[.[].subflows] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$key")"
	diag "$what: subflows per connection: $(jqr '[.[].subflows] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$key")"
	check_eq "$what: MPTCP_INFO subflows (added) + 1 = established subflows" "$NCONN" \
		"$(jqr '[.[] | select(.info_subflows != null and .info_subflows + 1 == .subflows)] | length' "$key")"
	check "$what: connections spread over >= 2 servers ($(jqr '[.[].server] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$key"))" \
		test "$(jqr '[.[].server] | unique | length' "$key")" -ge 2
	# shellcheck disable=SC2016 # expanded by eval
	wait_for 5 eval 'ss_snapshot && placement "$TMPD/$key.json" "$TMPD/ss.txt"'
	out=$(ss_snapshot && placement "$TMPD/$key.json" "$TMPD/ss.txt")
	rc=$?
	check_rc "$what: every server subflow on the server holding its token, one token, counts agree" 0 "$rc" "$out"
	diag "$what: $(tail -n 1 <<<"$out")"
}

p2_run() { # p2_run KEY DST DESC WANT [CLIENT ARGS...]
	local key=$1 dst=$2 what=$3 want=$4; shift 4
	# A join whose SYN is lost again and again (1, 3, 7 s) still counts.
	if ! run_clients "$key" "$dst" --min-subflows "$want" --subflow-timeout 20 "$@"; then
		tap_fail "$what: client did not finish in time"
		diag_file "$TMPD/$key.log"
		return 1
	fi
	check_p2_run "$key" "$what" "$want"
}

# Window scaling, SACK and timestamps on every subflow (tcpi_options 7 in
# the client's MPTCP_TCPINFO: this ss does not print them).
wscale_sack() { # wscale_sack KEY
	local n bad
	n=$(jqr '[.[].subflow_options[]?] | length' "$1")
	bad=$(jqr '[.[].subflow_options[]? | select(. != 7)] | length' "$1")
	echo "$n subflows, $bad without timestamps, SACK and window scaling"
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

# ------------------------------------------------------------ MPTCP runs
# One connection goes idle for longer than the draft's TSval (a 1 kHz clock
# shifted by 14 bits) takes to recycle its sign bit (131 s), and must then
# go on: the back's TSvals count changes of the server's clock, not time.
# It runs beside the rest (MSLB_P2_IDLE seconds, default 140).
IDLE=${MSLB_P2_IDLE:-140}
bg_start idle c "$PYTHON" "$MSLB_LIB_DIR/mptcp_idle.py" "$IPS4" 80 "$IDLE"
IDLE_T0=$(now_ms)

p2_run v4 "$IPS4" "MPTCP v4" 3
check "MPTCP v4: timestamps, window scaling and SACK on every subflow" wscale_sack v4
release_clients v4
check_rc "MPTCP v4: client exits 0" 0 $? "$(cat "$TMPD/v4.log")"
p2_run v6 "$IPS6" "MPTCP v6" 3
check "MPTCP v6: timestamps, window scaling and SACK on every subflow" wscale_sack v6
release_clients v6
check_rc "MPTCP v6: client exits 0" 0 $? "$(cat "$TMPD/v6.log")"

# Without timestamps the front hashes every segment but SYNs: the rules the
# owners installed at the hash's servers carry them over.
redirected() { local i t=0; for i in 1 2 3; do t=$((t + $(jget "s$i" '.redirect.redirected_packets'))); done; echo "$t"; }
before=$(redirected)
nsx c sysctl -qw net.ipv4.tcp_timestamps=0 || bail "sysctl on c"
# A handshake's third ACK that reaches the hash's back before the owner's
# rule does is held there (early_acks), and the client's next one passes.
p2_run v4nots "$IPS4" "MPTCP v4 without timestamps" 3
release_clients v4nots
check_rc "MPTCP v4 without timestamps: client exits 0" 0 $? "$(cat "$TMPD/v4nots.log")"
check "MPTCP v4 without timestamps: packets redirected between backs ($before -> $(redirected))" \
	test "$(redirected)" -gt "$before"

# ------------------------------------------------------------ SYN/ACK lost
# The client drops SYN/ACKs until it has sent its SYN again (the server
# sends its SYN/ACK again too, and either may come first): the front gives
# the retransmitted SYN the same key, so it reaches the same server, and
# the back the same translation.
synack_gone() { [ "$(nsx c nft -j list counter inet p2test synacks | jq -r '.nftables[1].counter.packets')" -ge 1 ]; }
syn_again() { [ "$(jget f '.front.mptcp.proposal2.capable_syns')" -ge $((before + 2)) ]; }
nsx c nft -f - <<EON || bail "nft on c"
table inet p2test {
	counter synacks { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr $IPS4 tcp sport 80 tcp flags & (syn | ack) == syn | ack counter name synacks drop
	}
}
EON
before=$(jget f '.front.mptcp.proposal2.capable_syns')
bg_start synack c "$PYTHON" "$CLIENT_PY" "$IPS4" 80 --conns 1 --timeout 20 --min-subflows 3 \
	--subflow-timeout 20 --out "$TMPD/synack.json"
check "the first SYN/ACK is dropped at the client" wait_for 10 synack_gone
check "... until the client sent its SYN again" wait_for 10 syn_again
nsx c nft delete table inet p2test
bg_wait synack 50
check_rc "after a lost SYN/ACK the connection is made, echo intact" 0 $? "$(cat "$TMPD/synack.json" "$TMPD/synack.log")"
check "... with 3 subflows" test "$(jqr '.[0].subflows' synack)" -eq 3

# ------------------------------------------------------------ plain TCP
for ts in 0 1; do
	nsx c sysctl -qw net.ipv4.tcp_timestamps=$ts
	for dst in "$IPS4" "$IPS6"; do
		key=tcp$(fam "$dst")ts$ts
		nsx c "$PYTHON" "$CLIENT_PY" "$dst" 80 --tcp --conns 12 --timeout 20 --out "$TMPD/$key.json" \
			>"$TMPD/$key.log" 2>&1
		check_rc "plain TCP v$(fam "$dst"), timestamps $ts: 12 connections, echo intact" 0 $? \
			"$(cat "$TMPD/$key.json" "$TMPD/$key.log")"
	done
done

# ------------------------------------------------------------ path MTU
# f's links to the client get a smaller MTU: f's kernel answers the
# servers' full-size segments with "too big" to IP_S, which is the front's
# service; the front sends each error to the server whose bucket the quoted
# segment's TSval carries, so that the server holding the subflow lowers
# its path MTU, wherever the 5-tuple hash points. (f's own ICMP rate limit
# is off: every error goes to the one address IP_S.)
nsx f sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
mtu_was=$(nsx f cat /sys/class/net/c1/mtu)
for k in 1 2 3; do ip -n "$(ns f)" link set dev "c$k" mtu 1280; done
for dst in "$IPS4" "$IPS6"; do
	before=$(jget f '.front.mptcp.proposal2.icmp_by_tsval')
	key=pmtu$(fam "$dst")
	nsx c "$PYTHON" "$CLIENT_PY" "$dst" 80 --conns 6 --min-subflows 3 --timeout 30 --subflow-timeout 20 \
		--out "$TMPD/$key.json" >"$TMPD/$key.log" 2>&1
	check_rc "path MTU 1280 toward the client, v$(fam "$dst"): 6 connections, echo intact, 3 subflows" 0 $? \
		"$(cat "$TMPD/$key.json" "$TMPD/$key.log")"
	check "... the servers' ICMP errors went by TSval ($before -> $(jget f '.front.mptcp.proposal2.icmp_by_tsval'))" \
		test "$(jget f '.front.mptcp.proposal2.icmp_by_tsval')" -gt "$before"
done
for k in 1 2 3; do ip -n "$(ns f)" link set dev "c$k" mtu "$mtu_was"; done

# ------------------------------------------------------------ idle
left=$(( IDLE + 30 - ($(now_ms) - IDLE_T0) / 1000 ))
[ "$left" -lt 5 ] && left=5
bg_wait idle "$left"
check_rc "a connection idle for $IDLE s goes on (no PAWS drop)" 0 $? "$(cat "$TMPD/idle.log")"

# ------------------------------------------------------------ counters
for i in 1 2 3; do
	check_eq "s$i: MPTcpExtMPJoinNoTokenFound" 0 "$(nstat_get "s$i" MPTcpExtMPJoinNoTokenFound)"
	check_eq "s$i: MPTcpExtMPJoinAckHMacFailure (joins signed again under the server's key)" 0 \
		"$(nstat_get "s$i" MPTcpExtMPJoinAckHMacFailure)"
	diag "s$i: $(for k in MPTcpExtMPCapableSYNRX MPTcpExtMPCapableACKRX MPTcpExtMPJoinSynRx MPTcpExtMPJoinAckRx \
		MPTcpExtMPJoinAckHMacFailure TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed \
		TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDrop; do
		printf '%s=%s ' "${k#*Ext}" "$(nstat_get "s$i" "$k")"; done)"
done
diag "TUN queue drops (the daemon read too slowly): $(for n in f s1 s2 s3; do
	printf '%s=%s ' "$n" "$(nsx "$n" ip -s -j link show "$TUN" | jq '.[0].stats64.tx.dropped')"; done)"
check_eq "c: MPTcpExtMPJoinNoTokenFound" 0 "$(nstat_get c MPTcpExtMPJoinNoTokenFound)"
js=$(status_json f)
diag "front: $(jq -c '.front.mptcp.proposal2' <<<"$js")"
check "front: MP_CAPABLE and MP_JOIN SYNs routed, segments by TSecr and by hash" test \
	"$(jq -r '.front.mptcp.proposal2 | [.capable_syns, .join_syns, .by_tsecr, .by_hash, .plain_syns] | map(select(. > 0)) | length' <<<"$js")" -eq 5
check_eq "front: no SYN without room for the option" 0 "$(jq -r '.front.mptcp.proposal2.no_room' <<<"$js")"
for i in 1 2 3; do
	js=$(status_json "s$i")
	diag "s$i: $(jq -c '.back.proposal2' <<<"$js")"
	check "s$i: options stripped, front keys given, TSval rewritten, TSecr restored" test \
		"$(jq -r '.back.proposal2 | [.options_stripped, .subflows.keys, .subflows.tsval, .subflows.tsecr] | map(select(. > 0)) | length' <<<"$js")" -eq 4
	diag "s$i: keys: $(jq -c '.back.proposal2.keys' <<<"$js")"
	check "s$i: keys translated: server keys, join tokens, HMACs, DSNs, data ACKs" test \
		"$(jq -r '.back.proposal2.keys | [.server_keys, .join_tokens, .hmacs, .dsn, .data_acks] | map(select(. > 0)) | length' <<<"$js")" -eq 5
	check_eq "s$i: no HMAC failed, no MPTCP segment without state, no unknown join, no room lacking" "0 0 0 0 0" \
		"$(jq -r '.back.proposal2.keys | "\(.hmacs_bad) \(.untranslated) \(.join_unknown) \(.full) \(.token_clash)"' <<<"$js")"
	check_eq "s$i: no malformed option, every alternate a peer" "0 0" \
		"$(jq -r '.back.proposal2 | "\(.options_bad) \(.alternate_unknown)"' <<<"$js")"
	check_eq "s$i: no redirect message refused or lost" 0 \
		"$(jq -r '.redirect | ([.refused[]] | add) + .lost + .refused_by_peer' <<<"$js")"
done
rules_gone() { local i; for i in 1 2 3; do [ "$(jget "s$i" '.redirect.rules + .redirect.owned')" = 0 ] || return 1; done; }
# Closed subflows go 2 s after FIN both ways or a RST; a join a server
# never had goes when idle for rule_ttl (10 s here).
check "every redirect rule and owned flow gone once the connections closed" wait_for 30 rules_gone
for n in f s1 s2 s3; do
	check_eq "$n: every drop counter is 0 (but too_big)" 0 \
		"$(jq -r '[.drops | to_entries[] | select(.key != "too_big") | .value] | add' <<<"$(status_json "$n")")"
done

# ------------------------------------------------------------ exit
for i in 1 2 3; do bg_stop "srv-s$i"; done
mslbd_stop f
check_rc "f: mslbd exits 0 on SIGTERM" 0 $?
for i in 1 2 3; do
	mslbd_stop "s$i"
	check_rc "s$i: mslbd exits 0 on SIGTERM" 0 $?
	check_eq "s$i: tcp_syncookies as it was" 1 "$(sysctl_get "s$i" net.ipv4.tcp_syncookies)"
	check_eq "s$i: no steering rule left" "" "$(nsx "s$i" ip rule show | grep 'sport 80')"
done
diag "elapsed: $((($(now_ms) - T_START) / 1000)) s"
tap_done
