#!/bin/bash
# tests/netns/persist.sh: persistence across changes of a front's usable
# next hops (front.persistence, back.persistence), both families. The
# topology is mptcp_lib.sh's: one client, one front, three servers s1-s3,
# each running an mslbd back on its own host with the two others as
# redirect peers and back.persistence.sock_diag. The front hashes the
# client's source address (unmatched = "hash"): the client's connections
# come from MSLB_PERSIST_CONNS addresses per family, and its echo servers
# (churn_server.py) hold each connection in its own socket, so a
# connection that reaches another server is reset.
# MSLB_FRONT_MODE=encapsulate: the same through tunnels (persist-encap.sh).
#
#   1. chains: while the connections exchange lines, s1 is drained, then s2
#      (only s3 left: flows moved twice, handed along s3 -> s2 -> s1),
#      s1 and s2 undrained one by one, s3 removed from the front by reload
#      and added again. No connection may break; the front marks packets,
#      the backs hand flows over, and no server receives an IP option or a
#      destination options header (nft counters in each server's input).
#   2. a back restarted after a change: s3 drained and undrained, then its
#      mslbd restarted while the front still marks (its flow table lost):
#      the flows s3's server holds come marked with the back that had them
#      while s3 was drained, and s3 keeps them because its kernel knows
#      their sockets (sock_diag). No connection may break.
#   3. the same without sock_diag on s3: its connections break (the check
#      that phase 2 measures something).
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq nft ss timeout
require_mslbd
# shellcheck source=tests/netns/mptcp_lib.sh
. "$MSLB_LIB_DIR/mptcp_lib.sh"
KMODE=0
N=${MSLB_PERSIST_CONNS:-24}
KEYS=$TMPD/redirect.key
CONNS_PY=$MSLB_LIB_DIR/conns.py
SERVER=$MSLB_LIB_DIR/churn_server.py
# The client's extra source addresses: on its first link, in its prefixes.
SRC4=192.0.2.20
SRC6=2001:db8:c1:1::100

front_persist_conf() { # FILE NEXT_HOP...
	local file=$1 i first=1
	shift
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		if [ -n "${MSLB_FRONT_MODE:-}" ]; then
			echo "  mode = \"$MSLB_FRONT_MODE\";"
			echo "  tunnel_source = { ipv4 = \"$TSRC4\"; ipv6 = \"$TSRC6\"; };"
		fi
		echo "  persistence = 240;"
		echo "  next_hops = ("
		for i in "$@"; do
			[ $first = 1 ] || echo ","
			printf '    { name = "s%s"; ipv4 = "%s"; ipv6 = "%s"; }' "$i" "${IPB4[$i]}" "${IPB6[$i]}"
			first=0
		done
		printf '\n  );\n'
		echo "  unmatched = \"hash\";"
		echo "};"
	} >"$file"
}

back_persist_conf() { # FILE I SOCK_DIAG
	local i=$2
	{
		_conf_head "s$i"
		cat <<EOC
back = {
  addresses = (
    { address = "${IPB4[$i]}"; service = "$IPS4"; },
    { address = "${IPB6[$i]}"; service = "$IPS6"; }
  );
  allowed_sources = [ "$TSRC4", "$TSRC6" ];
  persistence = { sock_diag = $3; };
};
redirect = {
  address = "${B4[$i]}";
  key_file = "$KEYS";
  peers = (
EOC
		server_peers "$i"
		printf '  );\n};\n'
	} >"$1"
}

# ------------------------------------------------------------ set-up
topo_mptcp || bail "topology"
for k in $(seq 0 $((N - 1))); do
	printf 'address add %s/26 dev f1\naddress add %s/64 dev f1 nodad\n' \
		"$("$PYTHON" -c "import ipaddress; print(ipaddress.ip_address('$SRC4') + $k)")" \
		"$("$PYTHON" -c "import ipaddress; print(ipaddress.ip_address('$SRC6') + $k)")"
done >"$TMPD/addrs.batch"
ip -n "$(ns c)" -batch "$TMPD/addrs.batch" || bail "client addresses"
redirect_key_file "$KEYS" 1 || bail "key file"
front_persist_conf "$(mslbd_conf f)" 1 2 3
mslbd_start f "$(mslbd_conf f)" || bail "mslbd on f"
for i in 1 2 3; do
	back_persist_conf "$(mslbd_conf "s$i")" "$i" true
	mslbd_start "s$i" "$(mslbd_conf "s$i")" || bail "mslbd on s$i"
	bg_start "echo4-s$i" "s$i" "$PYTHON" "$SERVER" "s$i" "$IPS4" 7
	bg_start "echo6-s$i" "s$i" "$PYTHON" "$SERVER" "s$i" "$IPS6" 7
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :7' | wc -l) -ge 2 ]" || bail "echo on s$i"
	# What reaches the server with an IP option or a destination options
	# header: the marks must have been taken out before.
	nsx "s$i" nft -f - <<EOF || bail "nft on s$i"
table inet persisttest {
  chain in {
    type filter hook input priority 0;
    ip daddr $IPS4 ip hdrlength != 5 counter name opt4
    ip6 daddr $IPS6 exthdr dst exists counter name opt6
  }
  counter opt4 {}
  counter opt6 {}
}
EOF
done

# nft_packets NODE COUNTER
nft_packets() { nsx "$1" nft -j list counter inet persisttest "$2" | jq '.nftables[1].counter.packets'; }
bk() { jget "$1" ".back.persistence.flows.$2"; }
sum_backs() { local i t=0; for i in 1 2 3; do t=$((t + $(bk "s$i" "$1"))); done; echo "$t"; }
# conns_start KEY SECONDS: N connections per family, from the extra addresses.
conns_start() {
	bg_start "conns4-$1" c "$PYTHON" "$CONNS_PY" "$IPS4" 7 "$N" "$2" --src "$SRC4" --nsrc "$N" --stall 5
	bg_start "conns6-$1" c "$PYTHON" "$CONNS_PY" "$IPS6" 7 "$N" "$2" --src "$SRC6" --nsrc "$N" --stall 5
}
# conns_result KEY FAM: conns.py's summary line (after it ended).
conns_result() {
	bg_wait "conns$2-$1" 60 >/dev/null 2>&1
	grep '^conns ' "$TMPD/conns$2-$1.log" | tail -1
}
# per_server: established connections to port 7 on each server.
per_server() {
	local i
	for i in 1 2 3; do
		printf 's%s %s ' "$i" "$(nsx "s$i" ss -Htn state established '( sport = :7 )' | wc -l)"
	done
}
drain() { mslbd_cli f "$1" "s$2" -s "$(mslbd_sock f)" >/dev/null; }

# ------------------------------------------------------------ 1. chains
conns_start chains 40
sleep 4
diag "connections per server: $(per_server)"
check "s3 holds connections (the hash spreads the addresses)" \
	test "$(nsx s3 ss -Htn state established '( sport = :7 )' | wc -l)" -gt 0
drain drain 1
sleep 4
drain drain 2
sleep 4
drain undrain 1
sleep 4
drain undrain 2
sleep 4
front_persist_conf "$(mslbd_conf f)" 1 2
check "front: s3 removed by reload" mslbd_cli f reload -s "$(mslbd_sock f)"
sleep 4
front_persist_conf "$(mslbd_conf f)" 1 2 3
check "front: s3 added again by reload" mslbd_cli f reload -s "$(mslbd_sock f)"
sleep 4
diag "connections per server: $(per_server)"
r4=$(conns_result chains 4)
r6=$(conns_result chains 6)
check_match "IPv4: no connection broke ($r4)" "^conns $N broken 0 " "$r4"
check_match "IPv6: no connection broke ($r6)" "^conns $N broken 0 " "$r6"
js=$(status_json f)
check "front: packets marked with their previous next hop" test "$(jq .front.persistence.marked <<<"$js")" -gt 0
check "front: 6 changes (2 drains, 2 undrains, 2 reloads)" \
	test "$(jq .front.persistence.generations <<<"$js")" -ge 6
check_eq "front: nothing too big to mark" 0 "$(jq .front.persistence.too_big <<<"$js")"
check "front: the window runs" test "$(jq .front.persistence.previous_left_s <<<"$js")" -gt 200
check "backs: flows handed to the back that had them" test "$(sum_backs handed)" -gt 0
check "backs: their packets handed" test "$(sum_backs handed_packets)" -gt 0
check "backs: marks taken out" test "$(( $(jget s1 .back.persistence.marks) + $(jget s2 .back.persistence.marks) + \
	$(jget s3 .back.persistence.marks) ))" -gt 0
check_eq "backs: no mark named an unknown back" 0 "$(sum_backs previous_unknown)"
for i in 1 2 3; do
	check_eq "s$i: no IPv4 option reached the server" 0 "$(nft_packets "s$i" opt4)"
	check_eq "s$i: no destination options header reached the server" 0 "$(nft_packets "s$i" opt6)"
	check_eq "s$i: no bad options dropped" 0 "$(jget "s$i" .drops.bad_options)"
done
out=$(mslbd_cli s1 status -s "$(mslbd_sock s1)")
check_match "status text shows the flow table" "flows: now [0-9]+, max 65536" "$out"

# ------------------------------------------------------------ 2. restart after a change
# phase KEY SOCK_DIAG: s3 drained and undrained, then its mslbd restarted
# while the front still marks (its flow table lost).
phase() {
	back_persist_conf "$(mslbd_conf s3)" 3 "$2"
	mslbd_stop s3
	mslbd_start s3 "$(mslbd_conf s3)" || bail "mslbd on s3"
	conns_start "$1" 22
	sleep 4
	held=$(nsx s3 ss -Htn state established '( sport = :7 )' | wc -l)
	drain drain 3
	sleep 3
	drain undrain 3
	sleep 3
	mslbd_stop s3
	mslbd_start s3 "$(mslbd_conf s3)" || bail "mslbd on s3 again"
	sleep 6
	r4=$(conns_result "$1" 4)
	r6=$(conns_result "$1" 6)
}
phase restart true
check "s3 held connections before its drain ($held)" test "$held" -gt 0
check_match "s3 restarted, sock_diag: IPv4 intact ($r4)" "^conns $N broken 0 " "$r4"
check_match "... IPv6 intact ($r6)" "^conns $N broken 0 " "$r6"
check "s3: its server's sockets kept marked flows" test "$(bk s3 sock_diag_yes)" -gt 0

# ------------------------------------------------------------ 3. the same without sock_diag
phase nodiag false
b4=$(sed -n 's/^conns [0-9]* broken \([0-9]*\) .*/\1/p' <<<"$r4")
b6=$(sed -n 's/^conns [0-9]* broken \([0-9]*\) .*/\1/p' <<<"$r6")
check "without sock_diag, s3's connections break ($r4 / $r6; s3 held $held)" test $((b4 + b6)) -gt 0
check_eq "s3: no kernel asked" 0 "$(bk s3 sock_diag_yes)"

tap_done
