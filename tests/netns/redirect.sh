#!/bin/bash
# tests/netns/redirect.sh: the redirection protocol between backs
# (draft-olteanu-mptcp-loadbalance-00 section 3.4), on its own.
#
#   c1 ---- f ---- b1 ---- s1        f sends everything of c1 to b1 (table);
#           |                        b1 and b2 are redirect peers (UDP on
#           +----- b2 ---- s2        their link addresses, one key file).
#
# `mslbd redirect add b1 ...` on b2 makes b2 own a flow: b1 gets the rule
# and sends the flow's packets IP-in-IP to IP_B2, and s2 answers it (TCP
# names, a 2 MB transfer both ways with sha256, UDP echo, both families).
# Deleting the rule sends the flow to s1 again. A stopped owner's rules
# expire after their ttl; the restarted owner (a new epoch) is heard again.
# Then what anyone on the network may send: messages from an unknown
# address, forged MACs, truncated, oversized, replayed, and a flood of
# 100,000, each refused by its reason and installing no rule, while
# `mslbd status` answers within 1 s throughout.
#
# MSLB_FRONT_MODE=encapsulate (redirect-encap.sh): the front encapsulates,
# the backs decapsulate before they redirect. MSLB_IO=af_packet as usual.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat ss sha256sum timeout
require_mslbd

PORT=4771
# Long enough that the flows b2 owns by hand stay while the test uses
# them (an owned flow idle for its ttl is deleted) and outlive a flood;
# the expiry part reloads b2 with a short one.
TTL=30
SHORT_TTL=5

# ------------------------------------------------------------ set-up
topo_create 1 2 mslb || bail "topology"
KEYS=$TMPD/redirect.key
redirect_key_file "$KEYS" 3 || bail "key file"

# redirect_conf I J: back bi's redirect group, with bj its one peer.
redirect_conf() {
	local i=$1 j=$2
	cat <<EOC
redirect = {
  address = "${B4[$i]}";
  port = $PORT;
  key_file = "$KEYS";
  rule_ttl = $TTL;
  peers = ( { name = "b$j"; address = "${B4[$j]}"; tunnel = [ "${IPB4[$j]}", "${IPB6[$j]}" ]; } );
};
EOC
}

front_conf "$(mslbd_conf f)" drop "${C4_TBL[1]}=b1" "${C6_TBL[1]}=b1" || bail "front config"
for i in 1 2; do
	back_conf "$(mslbd_conf "b$i")" "$i" || bail "back config"
	redirect_conf "$i" $((3 - i)) >>"$(mslbd_conf "b$i")"
done
mslbd_start f "$(mslbd_conf f)" || bail "front"
mslbd_start b1 "$(mslbd_conf b1)" || bail "b1"
mslbd_start b2 "$(mslbd_conf b2)" || bail "b2"
for i in 1 2; do
	srv_start_names "$i" || bail "names on s$i"
	srv_start_udp_echo "$i" || bail "echo on s$i"
done

# name_from CLIENT_PORT DST: the name the server answering c1's connection
# from that port says.
name_from() {
	timeout 10 ip netns exec "$(ns c1)" socat -u -T 5 \
		"TCP$(fam "$2"):$(sockaddr "$2" 80),connect-timeout=5,sourceport=$1,reuseaddr" STDOUT
}
# rdr NODE JQ: a value of the node's redirect status.
rdr() { status_json "$1" | jq -r ".redirect | $2"; }
peer_val() { rdr "$1" ".peers[] | select(.name == \"$2\") | $3"; }
rdr_is() { [ "$(rdr "$1" "$2")" = "$3" ]; }
rdr_ge() { [ "$(rdr "$1" "$2")" -ge "$3" ]; }

check_eq "b1: redirect status shows peer b2" "b2 ${B4[2]} ${IPB4[2]} ${IPB6[2]}" \
	"$(rdr b1 '.peers[0] | "\(.name) \(.address) \(.tunnel_ipv4) \(.tunnel_ipv6)"')"
check_eq "b1: no rules at start" 0 "$(rdr b1 .rules)"

# ------------------------------------------------------------ rules move flows
check_eq "c1:41000 -> $IPS4 reaches s1 (the table)" s1 "$(name_from 41000 "$IPS4")"
check_eq "c1:41000 -> $IPS6 reaches s1" s1 "$(name_from 41000 "$IPS6")"

out=$(mslbd_cli b2 redirect add b1 tcp "${C4[1]}" 41001 "$IPS4" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: redirect add (IPv4) exits 0" 0 $? "$out"
check_match "... says it installs at b1" "installing at b1" "$out"
out=$(mslbd_cli b2 redirect add b1 tcp "${C6[1]}" 41002 "$IPS6" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: redirect add (IPv6) exits 0" 0 $? "$out"
mslbd_cli b2 redirect add b1 udp "${C4[1]}" 41003 "$IPS4" 7 -s "$(mslbd_sock b2)" >/dev/null
mslbd_cli b2 redirect add b1 tcp "${C4[1]}" 41004 "$IPS4" 5001 -s "$(mslbd_sock b2)" >/dev/null
mslbd_cli b2 redirect add b1 tcp "${C6[1]}" 41005 "$IPS6" 5002 -s "$(mslbd_sock b2)" >/dev/null
check "b1 holds the 5 rules" wait_for 5 rdr_is b1 .rules 5
check "b2 owns 5 flows, every install acknowledged" wait_for 5 rdr_ge b2 .acknowledged 1
check_eq "b2: owned flows" 5 "$(rdr b2 .owned)"
check_eq "b1: rules per peer" 5 "$(peer_val b1 b2 .rules)"

check_eq "c1:41001 -> $IPS4 now reaches s2" s2 "$(name_from 41001 "$IPS4")"
check_eq "c1:41002 -> $IPS6 now reaches s2" s2 "$(name_from 41002 "$IPS6")"
check_eq "c1:41000 -> $IPS4 (no rule) still reaches s1" s1 "$(name_from 41000 "$IPS4")"
check "b1 sent packets to b2" [ "$(peer_val b1 b2 .redirected_packets)" -ge 6 ]
check "b2 took packets from its peer" [ "$(rdr b2 .from_peers)" -ge 6 ]

# UDP: the echo answers through the redirect (s2's own socket sees it).
before=$(peer_val b1 b2 .redirected_packets)
got=$(printf 'redirected-udp' | timeout 10 ip netns exec "$(ns c1)" socat -t 3 -T 5 - \
	"UDP4:$IPS4:7,sourceport=41003,reuseaddr")
check_eq "UDP echo from c1:41003 through the redirect" redirected-udp "$got"
check "... b1 redirected the datagram" [ "$(peer_val b1 b2 .redirected_packets)" -gt "$before" ]

# A transfer both ways, sha256 intact, on flows b2 owns.
head -c 2000000 /dev/urandom >"$TMPD/data"
want=$(sha256sum <"$TMPD/data" | cut -d' ' -f1)
xfer() { # xfer DST PORT CPORT: upload to s2's sink, compare
	local dst=$1 port=$2 cport=$3 f key bind=$1
	f=$(fam "$dst")
	[ "$f" = 6 ] && bind="[$dst]"
	key="sink-$port"
	bg_start "$key" s2 socat -u "TCP$f-LISTEN:$port,bind=$bind,reuseaddr" \
		"OPEN:$TMPD/$key.recv,creat,trunc"
	wait_for 10 listening s2 tcp "$port" || return 1
	timeout 60 ip netns exec "$(ns c1)" socat -u "OPEN:$TMPD/data" \
		"TCP$f:$(sockaddr "$dst" "$port"),connect-timeout=5,sourceport=$cport,reuseaddr" || return 1
	bg_wait "$key" 30 || return 1
	[ "$(sha256sum <"$TMPD/$key.recv" | cut -d' ' -f1)" = "$want" ]
}
check "2 MB to s2 through b1's redirect (IPv4), sha256 intact" xfer "$IPS4" 5001 41004
check "2 MB to s2 through b1's redirect (IPv6), sha256 intact" xfer "$IPS6" 5002 41005

# ------------------------------------------------------------ delete
out=$(mslbd_cli b2 redirect del tcp "${C4[1]}" 41001 "$IPS4" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: redirect del exits 0" 0 $? "$out"
check "b1 drops the rule" wait_for 5 rdr_ge b1 .deleted 1
check_eq "c1:41001 -> $IPS4 reaches s1 again" s1 "$(name_from 41001 "$IPS4")"
out=$(mslbd_cli b2 redirect del tcp "${C4[1]}" 41001 "$IPS4" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: deleting it again exits 2" 2 $? "$out"
out=$(mslbd_cli b2 redirect add b9 tcp "${C4[1]}" 41001 "$IPS4" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: redirect add to an unknown peer exits 2" 2 $? "$out"
check_match "... names the peer" 'no peer is called "b9"' "$out"
out=$(mslbd_cli b2 redirect add b1 tcp "${C4[1]}" 41001 "$IPS6" 80 -s "$(mslbd_sock b2)" 2>&1)
check_rc "b2: mixed families get usage (exit 2)" 2 $? "$out"
check_match "... and why" "one family" "$out"

# ------------------------------------------------------------ expiry, restart
# b2 owns two more flows under a short ttl, then stops without deleting
# them: b1 lets them expire.
for f in "tcp ${C6[1]} 41002 $IPS6 80" "udp ${C4[1]} 41003 $IPS4 7" "tcp ${C4[1]} 41004 $IPS4 5001" \
	"tcp ${C6[1]} 41005 $IPS6 5002"; do
	# shellcheck disable=SC2086 # the flow's words
	mslbd_cli b2 redirect del $f -s "$(mslbd_sock b2)" >/dev/null 2>&1
done
check "b2 deleted its other rules at b1" wait_for 5 rdr_is b1 .rules 0
sed -i "s/rule_ttl = $TTL;/rule_ttl = $SHORT_TTL;/" "$(mslbd_conf b2)"
check "b2: reload with rule_ttl $SHORT_TTL" mslbd_cli b2 reload -s "$(mslbd_sock b2)"
expired0=$(rdr b1 .expired)
rules0=$(rdr b1 .rules)
mslbd_cli b2 redirect add b1 tcp "${C4[1]}" 41010 "$IPS4" 80 -s "$(mslbd_sock b2)" >/dev/null
mslbd_cli b2 redirect add b1 tcp "${C6[1]}" 41011 "$IPS6" 80 -s "$(mslbd_sock b2)" >/dev/null
check "b1 holds the two new rules" wait_for 5 rdr_is b1 .rules $((rules0 + 2))
mslbd_stop b2
check_rc "b2 stops" 0 $?
check "b1's rules expire within the ttl ($SHORT_TTL s) without the owner" wait_for $((SHORT_TTL + 5)) rdr_is b1 .rules 0
check "... the two counted as expired" [ "$(rdr b1 .expired)" -ge $((expired0 + 2)) ]
check_eq "c1:41011 -> $IPS6 reaches s1 after expiry" s1 "$(name_from 41011 "$IPS6")"
sed -i "s/rule_ttl = $SHORT_TTL;/rule_ttl = $TTL;/" "$(mslbd_conf b2)"
mslbd_start b2 "$(mslbd_conf b2)" || bail "b2 restart"
replays=$(rdr b1 .refused.replay)
mslbd_cli b2 redirect add b1 tcp "${C4[1]}" 41006 "$IPS4" 80 -s "$(mslbd_sock b2)" >/dev/null
check "b1 hears the restarted b2 (a new epoch)" wait_for 5 rdr_is b1 .rules 1
check_eq "... nothing refused as a replay" "$replays" "$(rdr b1 .refused.replay)"
check_eq "c1:41006 -> $IPS4 reaches s2" s2 "$(name_from 41006 "$IPS4")"

# ------------------------------------------------------------ abuse
send() { # send NODE KIND N [KEYFILE]: rdr_wire.py from NODE's namespace
	local n=$1 kind=$2 cnt=$3 keys=${4:-$KEYS} src
	case $n in b2) src=${B4[2]} ;; *) src=${C4[1]} ;; esac
	RDR_OWNER=${IPB4[2]} timeout 60 ip netns exec "$(ns "$n")" "$PYTHON" "$top_srcdir/tests/netns/rdr_wire.py" \
		send "${B4[1]}" "$PORT" "$keys" "$kind" "$cnt" "$src"
}
refused() { rdr b1 ".refused.$1"; }
rules0=$(rdr b1 .rules)

n0=$(refused unknown_peer); send c1 install 20 >/dev/null
check "20 valid messages from an unknown address: refused as unknown_peer" \
	wait_for 5 eval "[ \$(refused unknown_peer) -eq $((n0 + 20)) ]"
n0=$(refused bad_mac); send b2 forged 50 >/dev/null
check "50 forged MACs from the peer's address: refused as bad_mac" \
	wait_for 5 eval "[ \$(refused bad_mac) -eq $((n0 + 50)) ]"
n0=$(refused bad_mac); send b2 install 10 - >/dev/null
check "10 messages signed with another key: refused as bad_mac" \
	wait_for 5 eval "[ \$(refused bad_mac) -eq $((n0 + 10)) ]"
n0=$(refused malformed); send b2 truncated 40 >/dev/null; send b2 oversized 40 >/dev/null
send b2 garbage 20 >/dev/null
check "100 truncated, oversized and garbage messages: refused as malformed" \
	wait_for 5 eval "[ \$(refused malformed) -eq $((n0 + 100)) ]"
check "none of them installed a rule" [ "$(rdr b1 .rules)" -le "$rules0" ]

# The flood: 100,000 forged messages; status must keep answering.
n0=$(($(refused rate) + $(refused bad_mac)))
installed0=$(rdr b1 .installed)
send b2 forged 100000 >"$TMPD/flood.out" 2>&1 &
flood=$!
slow=0 polls=0
while _alive "$flood" && [ "$polls" -lt 300 ]; do
	t0=$(now_ms)
	timeout 1 ip netns exec "$(ns b1)" "$MSLBD" status -s "$(mslbd_sock b1)" >/dev/null 2>&1 || slow=$((slow + 1))
	[ $(($(now_ms) - t0)) -le 1000 ] || slow=$((slow + 1))
	polls=$((polls + 1))
done
wait "$flood"
check "flood: status answered within 1 s every time ($polls polls)" [ "$slow" -eq 0 -a "$polls" -ge 1 ]
check_eq "flood: sent 100000" 100000 "$(tail -n 1 "$TMPD/flood.out")"
check "flood: b1 counted what reached it as rate or bad_mac" \
	wait_for 5 eval "[ \$((\$(refused rate) + \$(refused bad_mac))) -gt $((n0 + 1000)) ]"
check "flood: most stopped by the rate limit, before any MAC" [ "$(refused rate)" -gt 50000 ]
check_eq "flood: no rule installed" "$installed0" "$(rdr b1 .installed)"
check_eq "c1:41006 -> $IPS4 still reaches s2 after the flood" s2 "$(name_from 41006 "$IPS4")"

# Replays (last: a message from a new epoch moves b2's window at b1).
n0=$(refused replay)
installed0=$(rdr b1 .installed)
send b2 replay 30 >/dev/null
check "30 copies of one valid message: 29 refused as replay" \
	wait_for 5 eval "[ \$(refused replay) -eq $((n0 + 29)) ]"
check_eq "... the one original installed its one rule" $((installed0 + 1)) "$(rdr b1 .installed)"

# ------------------------------------------------------------ drops, exit
# A full-size segment does not fit the redirect tunnel: the client hears
# "too big" from IP_S (path MTU discovery, as for a front's tunnel).
for n in f b1 b2; do
	js=$(status_json "$n")
	check_eq "$n: no drops but too_big" 0 "$(jq -r '[.drops | del(.too_big)[]] | add' <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
done
for n in f b1 b2; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $?
done
tap_done
