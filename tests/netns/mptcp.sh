#!/bin/bash
# tests/netns/mptcp.sh: MPTCP-aware front balancing, Proposal 1 of
# draft-olteanu-mptcp-loadbalance-00 (section 2), with the kernel's MPTCP on
# both ends. Translation mode (MSLB_FRONT_MODE=encapsulate: encapsulation
# mode, as mptcp-encap.sh runs it), IPv4 and IPv6.
#
#   c  ==(3 links)==  f  ---- s1   (mslbd back, server_id 1001)
#                        ---- s2   (mslbd back, server_id 1002)
#                        ---- s3   (mslbd back, server_id 1003)
#
#   link        network                          addresses
#   c - f, k    192.0.2.64(k-1)/26               f .64(k-1)+1, c .64(k-1)+10
#   (k = 1..3)  2001:db8:c1:k::/64               f ::1, c ::10
#   f - si      198.51.100.16i/28                f .16i+1, si .16i+2
#               2001:db8:fi::/64                 f ::1, si ::2
#   IP_Bi       198.51.100.1i, 2001:db8:b::1i    not assigned; f routes them
#                                                via si's link address
#   IP_S        203.0.113.100, 2001:db8:5::100   on every server's lo
#
# Interface names: in f, "c1".."c3" toward the client and "s1".."s3" toward
# the servers; in c, "f1".."f3"; in si, "f".
#
# The client: default routes on link 1, a policy rule per source address so
# that each address leaves by its own link (as the kernel's mptcp selftests
# do), `ip mptcp limits set subflows 8 add_addr_accepted 8` and a
# "subflow fullmesh" endpoint per address: under the C flag
# (allow_join_initial_addr_port=0 on the servers) the client never joins the
# initial address and port, and fullmesh makes it open one subflow from each
# of its addresses to the announced IP_S:server_id.
# The front runs mslbd with front.mptcp (service port 80 hashed by 5-tuple,
# any other port -> the next hop with that server_id); each server runs an
# mslbd back with back.mptcp, which installs the signal endpoints
# IP_S port server_id, the limits and the sysctl, and removes them on exit.
#
# Runs (mptcp_client.py, 24 concurrent connections each, 256 KiB echoed):
#   v4     IPv4, TCP timestamps on
#   v6     IPv6, TCP timestamps on: the kernel drops the 30-byte IPv6
#          ADD_ADDR with port (it does not fit next to the timestamp option:
#          MPTcpExtAddAddrTxDrop), so the joins of IPv6 connections go to the
#          announced IPv4 IP_S:server_id
#   v6nots IPv6, TCP timestamps off on the client: the IPv6 ADD_ADDR fits,
#          and some joins must go to IPv6 IP_S:server_id
# For each: data intact, >= 2 established subflows per connection, spread
# over >= 2 servers; on every server `ss -tni` grouped by the server's token:
# each connection's subflows (matched by the client's address and port from
# MPTCP_SUBFLOW_ADDRS) all on the server that answered, under one token,
# with the client's subflow count. nstat on every server: no
# MPJoinNoTokenFound, no MismatchPortSynRx, MPJoinPortSynRx > 0. Then the
# front's counters, a SYN to an unknown port, plain TCP clients, and what
# the backs leave behind on SIGTERM.
#
# MSLB_MPTCP_KERNEL=1: no mslbd; f routes IP_S to s1 and the endpoints,
# limits and sysctl are set by hand (checks the plumbing and the checks).
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_mptcp
require_cmd ip jq ss nstat socat sysctl timeout
KMODE=${MSLB_MPTCP_KERNEL:-0}
[ "$KMODE" = 1 ] || require_mslbd
# shellcheck source=tests/netns/mptcp_lib.sh
. "$MSLB_LIB_DIR/mptcp_lib.sh"


T_START=$(now_ms)

# What a server's MPTCP set-up looks like, for the before/after comparison.
mp_state() { # mp_state NODE
	echo "limits: $(mptcp_limits "$1")"
	echo "allow_join_initial_addr_port=$(sysctl_get "$1" net.mptcp.allow_join_initial_addr_port)"
	echo "endpoints:"
	mptcp_endpoints "$1"
}

# server_manual I: what back.mptcp does, by hand (MSLB_MPTCP_KERNEL=1).
server_manual() {
	local i=$1
	ip -n "$(ns "s$i")" mptcp endpoint add "$IPS4" port "${SID[$i]}" signal || return 1
	ip -n "$(ns "s$i")" mptcp endpoint add "$IPS6" port "${SID[$i]}" signal || return 1
	ip -n "$(ns "s$i")" mptcp limits set subflows 8 add_addr_accepted 8 || return 1
	nsx "s$i" sysctl -qw net.mptcp.allow_join_initial_addr_port=0
}


front_mptcp_conf() { # FILE
	local i
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		if [ -n "${MSLB_FRONT_MODE:-}" ]; then
			echo "  mode = \"$MSLB_FRONT_MODE\";"
			# The servers own IP_S: a packet from IP_S would be a
			# martian there, so the tunnels leave from addresses of
			# their own.
			echo "  tunnel_source = { ipv4 = \"$TSRC4\"; ipv6 = \"$TSRC6\"; };"
		fi
		echo "  next_hops = ("
		for i in 1 2 3; do
			printf '    { name = "s%s"; ipv4 = "%s"; ipv6 = "%s"; server_id = %s;%s }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "${SID[$i]}" "$([ "$i" = 1 ] && echo ' weight = 1;')" \
				"$([ "$i" -lt 3 ] && echo ,)"
		done
		echo "  );"
		echo "  unmatched = \"hash\";"
		echo "  mptcp = { service_ports = [ 80 ]; };"
		echo "};"
	} >"$1"
}

back_mptcp_conf() { # FILE I
	local i=$2
	{
		_conf_head "s$i"
		cat <<EOF
back = {
  addresses = (
    { address = "${IPB4[$i]}"; service = "$IPS4"; },
    { address = "${IPB6[$i]}"; service = "$IPS6"; }
  );
  mptcp = { server_id = ${SID[$i]}; subflows = 8; add_addr_accepted = 8; };
  allowed_sources = [ "$TSRC4", "$TSRC6" ];
};
EOF
	} >"$1"
}


# check_run KEY DESC WANT: the assertions on one MPTCP run; WANT is the
# number of subflows every connection must end with.
check_run() {
	local key=$1 what=$2 want=$3 n
	n=$(jqr 'length' "$key")
	check_eq "$what: $NCONN results" "$NCONN" "$n"
	check_eq "$what: every connection's echo intact (sha256)" "$NCONN" "$(jqr '[.[] | select(.data_ok)] | length' "$key")" ||
		diag_failed "$key"
	check_eq "$what: every connection MPTCP, >= 2 established subflows" "$NCONN" \
		"$(jqr '[.[] | select(.ok and .fallback == false and .subflows >= 2)] | length' "$key")" ||
		diag "$(jqr '.[] | select((.ok and .subflows >= 2) | not) | "conn \(.conn): \(.subflows) subflows, \(.error)"' "$key" | head -n 5)"
	# Exactly: a join refused somewhere (RST from a server without that
	# token or port) leaves a connection with fewer subflows.
	check_eq "$what: every connection has $want subflows" "$NCONN" \
		"$(jqr "[.[] | select(.subflows == $want)] | length" "$key")"
	check_eq "$what: MPTCP_INFO subflows (added) + 1 = established subflows" "$NCONN" \
		"$(jqr '[.[] | select(.info_subflows != null and .info_subflows + 1 == .subflows)] | length' "$key")"
	check_eq "$what: every join goes to IP_S:server_id, the initial subflow to :80" "$NCONN" \
		"$(jq -rs --arg s4 "$IPS4" --arg s6 "$IPS6" '[.[] | select(.subflow_addrs[0][3] == 80 and
			([.subflow_addrs[1:][] | select((.[2] == $s4 or .[2] == $s6) and .[3] >= 1001 and .[3] <= 1003)]
			 | length) == (.subflow_addrs | length) - 1)] | length' "$TMPD/$key.json")"
	diag "$what: subflows per connection: $(jqr '[.[].subflows] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$key");" \
		"servers: $(jqr '[.[].server] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' "$key")"
	if [ "$KMODE" != 1 ]; then
		check "$what: connections spread over >= 2 servers" \
			test "$(jqr '[.[].server] | unique | length' "$key")" -ge 2
	fi
	# shellcheck disable=SC2016 # jq variables
	check_eq "$what: each join's port is the server_id of the server that answered" "$NCONN" \
			"$(jqr '[.[] | select(.server as $s | [.subflow_addrs[1:][] | .[3]] |
				all(. == ({"s1": 1001, "s2": 1002, "s3": 1003}[$s])))] | length' "$key")"
}

# one_run KEY DST DESC WANT_SUBFLOWS [CLIENT ARGS...]
one_run() {
	local key=$1 dst=$2 what=$3 want=$4 out rc; shift 4
	# The client waits (bounded) for all the subflows it should get, so
	# that its count and the servers' are taken after the last join.
	if ! run_clients "$key" "$dst" --min-subflows "$want" "$@"; then
		tap_fail "$what: client did not finish in time"
		diag_file "$TMPD/$key.log"
		return 1
	fi
	check_run "$key" "$what" "$want"
	# A server sees a join established only once the third ACK arrives:
	# poll until the servers' view agrees with the client's.
	# shellcheck disable=SC2016 # expanded by eval
	wait_for 5 eval 'ss_snapshot && placement "$TMPD/$key.json" "$TMPD/ss.txt"'
	out=$(ss_snapshot && placement "$TMPD/$key.json" "$TMPD/ss.txt")
	rc=$?
	check_rc "$what: every subflow of a connection on its server, one server token, counts agree" 0 "$rc" "$out"
	diag "$what: $(tail -n 1 <<<"$out")"
	release_clients "$key"
	check_rc "$what: client exits 0" 0 $? "$(cat "$TMPD/$key.log")"
}

# ------------------------------------------------------------ set-up
topo_mptcp || bail "topology"
for i in 1 2 3; do mp_state "s$i" >"$TMPD/mp-s$i.before"; done
# Not the defaults, so that "restored" means something: s2's limits, and an
# endpoint of s3's own (no flags: never announced nor used) that the daemon
# must leave alone.
ip -n "$(ns s2)" mptcp limits set subflows 2 add_addr_accepted 1 || bail "limits on s2"
ip -n "$(ns s3)" mptcp endpoint add "${B4[3]}" id 42 dev f || bail "endpoint on s3"
for i in 1 2 3; do mp_state "s$i" >"$TMPD/mp-s$i.before"; done

if [ "$KMODE" = 1 ]; then
	for i in 1 2 3; do server_manual "$i" || bail "MPTCP set-up on s$i"; done
else
	front_mptcp_conf "$(mslbd_conf f)"
	mslbd_start f "$(mslbd_conf f)" || bail "mslbd on f"
	for i in 1 2 3; do
		back_mptcp_conf "$(mslbd_conf "s$i")" "$i"
		mslbd_start "s$i" "$(mslbd_conf "s$i")" || bail "mslbd on s$i"
	done
fi
for i in 1 2 3; do
	bg_start "srv-s$i" "s$i" "$PYTHON" "$SERVER_PY" "s$i" 80 "$IPS4" "$IPS6" --lifetime 120
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :80' | wc -l) -ge 2 ]" || bail "server on s$i"
done

# ------------------------------------------------------------ server set-up
for i in 1 2 3; do
	eps=$(mptcp_endpoints "s$i")
	check_match "s$i: signal endpoint $IPS4 port ${SID[$i]}" \
		"^$IPS4 port ${SID[$i]} id [0-9]+ signal( |$)" "$eps"
	check_match "s$i: signal endpoint $IPS6 port ${SID[$i]}" \
		"^$IPS6 port ${SID[$i]} id [0-9]+ signal( |$)" "$eps"
	check_eq "s$i: exactly two endpoints added" \
		"$(($(wc -l <"$TMPD/mp-s$i.before") - 3 + 2))" "$(($(wc -l <<<"$eps")))"
	check_eq "s$i: limits" "add_addr_accepted 8 subflows 8" "$(mptcp_limits "s$i")"
	check_eq "s$i: allow_join_initial_addr_port" 0 "$(sysctl_get "s$i" net.mptcp.allow_join_initial_addr_port)"
	check "s$i: the kernel listens on IP_S:${SID[$i]} for joins (v4, v6)" wait_for 5 eval \
		"[ \$(nsx s$i ss -H -ltn 'sport = :${SID[$i]}' | wc -l) -ge 2 ]"
done

if [ "$KMODE" != 1 ]; then
	js=$(status_json f)
	check_eq "front: mptcp" '{"service_ports":[80]}' "$(jq -c '.front.mptcp' <<<"$js")"
	check_eq "front: next hops' server_id and weight" "s1 1001 1 s2 1002 1 s3 1003 1" \
		"$(jq -r '[.front.next_hops[] | .name, .server_id, .weight] | join(" ")' <<<"$js")"
	check_eq "front: hash_hits, port_hits and drops.unknown_port start at 0" "0 0 0" \
		"$(jq -r '"\([.front.next_hops[].hash_hits] | add) \([.front.next_hops[].port_hits] | add) \(.drops.unknown_port)"' <<<"$js")"
	for i in 1 2 3; do
		check_eq "s$i: status back.mptcp" "{\"server_id\":${SID[$i]},\"subflows\":8,\"add_addr_accepted\":8}" \
			"$(jget "s$i" '.back.mptcp | tojson')"
	done
	check "ping $IPS4 (not TCP: unmatched = hash)" ping_ok c "$IPS4" 3
	check "ping $IPS6" ping_ok c "$IPS6" 3
fi

# ------------------------------------------------------------ MPTCP runs
# Subflows: the initial one, plus one join from each of the client's three
# fullmesh addresses of the announced address's family. With timestamps only
# the IPv4 ADD_ADDR gets through (see the top): 1 + 3. Without: 1 + 3 + 3.
one_run v4 "$IPS4" "MPTCP v4" 4
one_run v6 "$IPS6" "MPTCP v6" 4
nsx c sysctl -qw net.ipv4.tcp_timestamps=0 || bail "sysctl on c"
one_run v6nots "$IPS6" "MPTCP v6 without timestamps" 7
nsx c sysctl -qw net.ipv4.tcp_timestamps=1
check "MPTCP v6 without timestamps: some joins go to IPv6 IP_S:server_id" test \
	"$(jq -rs --arg s6 "$IPS6" '[.[].subflow_addrs[1:][] | select(.[2] == $s6)] | length' "$TMPD/v6nots.json")" -gt 0

for i in 1 2 3; do
	check_eq "s$i: MPTcpExtMPJoinNoTokenFound" 0 "$(nstat_get "s$i" MPTcpExtMPJoinNoTokenFound)"
	check_eq "s$i: MPTcpExtMismatchPortSynRx" 0 "$(nstat_get "s$i" MPTcpExtMismatchPortSynRx)"
	if [ "$KMODE" = 1 ] && [ "$i" != 1 ]; then continue; fi
	v=$(nstat_get "s$i" MPTcpExtMPJoinPortSynRx)
	check "s$i: MPTcpExtMPJoinPortSynRx > 0 (joins on the server_id port): $v" test "$v" -gt 0 2>/dev/null
done
check_eq "c: MPTcpExtMPJoinNoTokenFound" 0 "$(nstat_get c MPTcpExtMPJoinNoTokenFound)"
check_eq "c: MPTcpExtMismatchPortSynRx" 0 "$(nstat_get c MPTcpExtMismatchPortSynRx)"
for i in 1 2 3; do
	diag "s$i: $(for k in MPTcpExtMPCapableSYNRX MPTcpExtMPJoinSynRx MPTcpExtMPJoinPortAckRx \
		MPTcpExtAddAddrTx MPTcpExtAddAddrTxDrop MPTcpExtPortAdd; do
		printf '%s=%s ' "${k#MPTcpExt}" "$(nstat_get "s$i" "$k")"; done)"
done

# ------------------------------------------------------------ plain TCP
for dst in "$IPS4" "$IPS6"; do
	key=tcp$(fam "$dst")
	nsx c "$PYTHON" "$CLIENT_PY" "$dst" 80 --tcp --conns 12 --timeout 20 --out "$TMPD/$key.json" \
		>"$TMPD/$key.log" 2>&1
	check_rc "plain TCP v$(fam "$dst"): 12 connections, echo intact" 0 $? "$(cat "$TMPD/$key.json" "$TMPD/$key.log")"
	if [ "$KMODE" != 1 ]; then
		check "plain TCP v$(fam "$dst"): served by >= 2 servers ($(jqr '[.[].server] | unique | join(" ")' "$key"))" \
			test "$(jqr '[.[].server] | unique | length' "$key")" -ge 2
	fi
done

# ------------------------------------------------------------ front counters
if [ "$KMODE" != 1 ]; then
	js=$(status_json f)
	diag "front next hops: $(jq -c '[.front.next_hops[] | {name, packets, hash_hits, port_hits}]' <<<"$js")"
	check "front: port_hits > 0 (joins routed by server_id)" \
		test "$(jq -r '[.front.next_hops[].port_hits] | add' <<<"$js")" -gt 0
	check "front: hash_hits > 0 (service port balanced by 5-tuple)" \
		test "$(jq -r '[.front.next_hops[].hash_hits] | add' <<<"$js")" -gt 0
	check_eq "front: every next hop has port_hits (joins reached every server)" "3" \
		"$(jq -r '[.front.next_hops[] | select(.port_hits > 0)] | length' <<<"$js")"
	check_eq "front: drops.unknown_port" 0 "$(jq -r '.drops.unknown_port' <<<"$js")"
	# Encapsulating, full-size segments meet the tunnel MTU: each is
	# answered with ICMP too big (path MTU discovery), and counted.
	check_eq "front: every drop counter is 0 (but too_big, answered by ICMP)" 0 \
		"$(jq -r '[.drops | to_entries[] | select(.key != "too_big") | .value] | add' <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
	check_eq "front: each too_big drop answered by an ICMP error" "$(jq -r '.drops.too_big' <<<"$js")" \
		"$(jq -r '.icmp.sent' <<<"$js")"
	# A SYN to a port that is neither a service port nor a server_id.
	for dst in "$IPS4" "$IPS6"; do
		before=$(jget f '.drops.unknown_port')
		out=$(timeout 5 ip netns exec "$(ns c)" socat -u OPEN:/dev/null \
			"TCP$(fam "$dst"):$(sockaddr "$dst" 9),connect-timeout=1" 2>&1)
		check_match "SYN to $dst port 9 gets no answer (not refused: dropped)" "timed out" "$out"
		check "front: drops.unknown_port increased ($dst port 9)" \
			wait_for 3 eval "[ \$(jget f '.drops.unknown_port') -gt $before ]"
	done
	for i in 1 2 3; do
		check_eq "s$i: every drop counter is 0" 0 "$(jget "s$i" "$JQ_DROPS")"
	done
fi

# ------------------------------------------------------------ exit
for i in 1 2 3; do bg_stop "srv-s$i"; done
if [ "$KMODE" != 1 ]; then
	mslbd_stop f
	check_rc "f: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
	for i in 1 2 3; do
		mslbd_stop "s$i"
		check_rc "s$i: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-s$i.log")"
		check_eq "s$i: endpoints, limits and allow_join_initial_addr_port as before" \
			"$(cat "$TMPD/mp-s$i.before")" "$(mp_state "s$i")"
	done
fi
diag "elapsed: $((($(now_ms) - T_START) / 1000)) s"
tap_done
