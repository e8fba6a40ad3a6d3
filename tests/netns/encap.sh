#!/bin/bash
# tests/netns/encap.sh: encapsulation mode (draft section 5.2), the four
# IPv4/IPv6 combinations of Figures 8 and 11, on the standard topology
# (lib.sh, 2 clients, 3 backs). The front's next hops:
#   b1 outer = "same":  c1 IPv4 -> IPv4 in IPv4, c1 IPv6 -> IPv6 in IPv6
#   b2 outer = "ipv6":  c2 IPv4 -> IPv4 in IPv6
#   b3 outer = "ipv4":  c2 IPv6 -> IPv6 in IPv4
# (default table: c1 -> b1, c2 v4 -> b2, c2 v6 -> b3). The outer source is
# the front's default: IP_S of the outer family; the backs accept it by
# default (allowed_sources = their services).
#
# Part 1, path MTU 1500 (tunnel MTU 1480 / 1460): the clients' routes to
# IP_S carry mtu 1400, so that no packet is too big for a tunnel and the
# captures compare one to one. TCP (content), UDP echo, ping, fragmented
# UDP; the f - bi links carry IP-in-IP (outer protocol, outer source IP_S of
# the outer family, outer destination IP_Bi, inner c -> IP_S); every packet
# a client sent reached its server byte for byte (pcap_compare); status:
# mode, outer, families, tunnels, counters. Negative: IP-in-IP to IP_B1 from
# a source b1 does not allow (drops.tunnel_source, exactly), and protocol 4
# carrying IPv6 (drops.tunnel_inner, exactly); nothing reaches s1.
#
# Part 2, the front restarted with path_mtu = 1400 for b1 (tunnel MTU 1380
# for IPv4 outer, 1360 for IPv6 outer) and 1300 for b2 (IPv6 outer: 1260),
# c1's extra IPv6 address 2001:db8:c1::1:100 -> b2, c1's route MTU
# back to 1500: TCP 300 kB completes through path MTU discovery; ping with
# DF gets "fragmentation needed" (mtu 1380) from IP_S; IPv6 gets Packet Too
# Big (mtu 1360) and c1 caches it; IPv4 without DF is fragmented by the
# front; a 1280-byte IPv6 packet on a 1260 tunnel arrives in outer
# fragments that b2 reassembles.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat tcpdump ping ss sha256sum ethtool timeout
require_scapy
require_mslbd

# ------------------------------------------------------------ config
# encap_front_conf FILE PART: next hops b1 (same), b2 (ipv6), b3 (ipv4),
# every one in encapsulation mode (front.mode); PART 2 adds path_mtu and
# c1's extra IPv6 address -> b2.
OUTER=("" same ipv6 ipv4)
encap_front_conf() {
	local file=$1 part=$2 i mtu entries
	entries=$(table_default)
	[ "$part" = 2 ] && entries="$entries ${C6_OUT[1]}/128=b2"
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		echo "  mode = \"encapsulate\";"
		echo "  next_hops = ("
		for i in 1 2 3; do
			mtu=""
			if [ "$part" = 2 ]; then
				[ "$i" = 1 ] && mtu=" path_mtu = 1400;"
				[ "$i" = 2 ] && mtu=" path_mtu = 1300;"
			fi
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s"; outer = "%s";%s }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "${OUTER[$i]}" "$mtu" "$([ "$i" -lt 3 ] && echo ,)"
		done
		echo "  );"
		# shellcheck disable=SC2086 # one word an entry
		conf_table $entries
		echo "  unmatched = \"hash\";"
		echo "};"
	} >"$file"
}

# client_mtu C MTU|"": the client's default routes, with "mtu MTU" or none.
client_mtu() {
	local c=$1 i=${1#c}
	ip -n "$(ns "$c")" -4 route replace default via "${C4_GW[$i]}" src "${C4[$i]}" ${2:+mtu "$2"} &&
		ip -n "$(ns "$c")" -6 route replace default via "${C6_GW[$i]}" src "${C6[$i]}" ${2:+mtu "$2"} &&
		ip -n "$(ns "$c")" -4 route flush cache && ip -n "$(ns "$c")" -6 route flush cache
}

# send_tunnel CLIENT COUNT OUTER_SRC OUTER_DST PROTO INNER_SRC INNER_DST:
# COUNT IP-in-IP packets crafted by scapy, outer protocol / next header
# PROTO (4 or 41, whatever the inner version), inner UDP to port 4999.
# shellcheck disable=SC2317 # called through check
send_tunnel() {
	nsx "$1" "$PYTHON" - "${@:2}" <<'PYEOF'
import sys
n, osrc, odst, proto, isrc, idst = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
from scapy.all import IP, IPv6, UDP, Raw, send
inner = (IPv6(src=isrc, dst=idst) if ':' in idst else IP(src=isrc, dst=idst)) / \
    UDP(sport=40009, dport=4999) / Raw(b'mslb-not-allowed')
outer = IPv6(src=osrc, dst=odst, nh=proto) if ':' in odst else IP(src=osrc, dst=odst, proto=proto)
send([outer / inner] * n, verbose=False, inter=0.01)
PYEOF
}

# counter_reaches NODE FILTER VALUE: the status value is at least VALUE.
# shellcheck disable=SC2317 # called through wait_for
counter_reaches() { local v; v=$(jget "$1" "$2") && [ "$v" -ge "$3" ]; }
jq_nh() { echo ".front.next_hops[] | select(.name == \"$1\") | $2"; }
JQ_TUNNELS='[.tunnel[] | "\(.outer) \(.path_mtu) \(.tunnel_mtu) \(.source)"] | sort | join(", ")'
# jq_drops_but KEY...: sum of the drop counters other than KEY...
jq_drops_but() {
	local keys
	keys=$(printf '"%s",' "$@")
	echo "[.drops | to_entries[] | select(.key as \$k | [${keys%,}] | index(\$k) | not) | .value] | add"
}

# ============================================================ part 1
topo_create 2 3 mslb || bail "topology"
encap_front_conf "$(mslbd_conf f)" 1 || bail "front config"
out=$("$MSLBD" check -c "$(mslbd_conf f)" 2>&1)
check_rc "mslbd check accepts the front's encapsulation config" 0 $? "$out"
mslbd_start f "$(mslbd_conf f)" || bail "starting mslbd on f"
for i in 1 2 3; do
	back_conf "$(mslbd_conf "b$i")" "$i" || bail "back config b$i"
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "starting mslbd on b$i"
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
client_mtu c1 1400 || bail "c1 route mtu"
client_mtu c2 1400 || bail "c2 route mtu"
head -c 300000 /dev/urandom >"$TMPD/data" || bail "test data"

# ------------------------------------------------------------ status shape
js=$(status_json f)
check_rc "front: status --json exits 0" 0 $? "$js"
for i in 1 2 3; do
	check_eq "front: b$i: mode, outer" "encapsulate ${OUTER[$i]}" \
		"$(jq -r "$(jq_nh "b$i" '"\(.mode) \(.outer)"')" <<<"$js")"
done
check_eq "front: b1: families" '["ipv4 in ipv4","ipv6 in ipv6"]' \
	"$(jq -c "$(jq_nh b1 '.families | sort')" <<<"$js")"
check_eq "front: b2: families" '["ipv4 in ipv6","ipv6 in ipv6"]' \
	"$(jq -c "$(jq_nh b2 '.families | sort')" <<<"$js")"
check_eq "front: b3: families" '["ipv4 in ipv4","ipv6 in ipv4"]' \
	"$(jq -c "$(jq_nh b3 '.families | sort')" <<<"$js")"

# ------------------------------------------------------------ traffic
for c in c1 c2; do
	no_offload "$c" f || bail "ethtool -K on $c"
	cap_start "cli-$c" "$c" f || bail "tcpdump on $c"
done
for i in 1 2 3; do
	cap_start "srv-s$i" "s$i" b || bail "tcpdump on s$i"
	# On the receiving end of the link: what the sender's packet taps see
	# depends on its I/O path (AF_PACKET bypasses them).
	link_cap "link-b$i" "b$i" f "dst host ${IPB4[$i]} or dst host ${IPB6[$i]}" || bail "tcpdump on b$i - f"
done
# client, IP_S, server, what the f - bi link carries
combos=(
	"c1 $IPS4 s1 IPv4 in IPv4"
	"c1 $IPS6 s1 IPv6 in IPv6"
	"c2 $IPS4 s2 IPv4 in IPv6"
	"c2 $IPS6 s3 IPv6 in IPv4"
)
for combo in "${combos[@]}"; do
	read -r c dst s what <<<"$combo"
	check_eq "$what: $c -> $dst is served by $s" "$s" "$(fetch_name "$c" "$dst")"
	check "$what: $c TCP 300 kB up and down, sha256 equal" tcp_transfer "$c" "$dst" 5001 "$s" "$TMPD/data"
	check_eq "$what: $c UDP echo" "e-$c-$SUFFIX" "$(udp_echo "$c" "$dst" "e-$c-$SUFFIX")"
	check "$what: $c ping" ping_ok "$c" "$dst" 5
done
check "IPv4 in IPv4: fragmented UDP datagram (3000 bytes)" send_raw_udp c1 "${C4[1]}" "$IPS4" 7 3000
check "IPv6 in IPv6: fragmented UDP datagram (3000 bytes)" send_raw_udp c1 "${C6[1]}" "$IPS6" 7 3000
keys="cli-c1 cli-c2 srv-s1 srv-s2 srv-s3 link-b1 link-b2 link-b3"
# shellcheck disable=SC2086
cap_settle $keys || diag "captures still growing"
for k in $keys; do bg_stop "$k" INT; done

# ------------------------------------------------------------ on the wire
check_eq "f - b1 link: IPv4 in IPv4 (proto 4) and IPv6 in IPv6 (next header 41), outer source IP_S" \
	"v4 $IPS4 > ${IPB4[1]} proto 4: v4 ${C4[1]} > $IPS4
v6 $IPS6 > ${IPB6[1]} proto 41: v6 ${C6[1]} > $IPS6" "$(pkt_kinds "$TMPD/link-b1.pcap" 2>&1)"
check_eq "f - b2 link: IPv4 in IPv6 (next header 4), outer source IPv6 IP_S" \
	"v6 $IPS6 > ${IPB6[2]} proto 4: v4 ${C4[2]} > $IPS4" "$(pkt_kinds "$TMPD/link-b2.pcap" 2>&1)"
check_eq "f - b3 link: IPv6 in IPv4 (proto 41), outer source IPv4 IP_S" \
	"v4 $IPS4 > ${IPB4[3]} proto 41: v6 ${C6[2]} > $IPS6" "$(pkt_kinds "$TMPD/link-b3.pcap" 2>&1)"

# ------------------------------------------------------------ transparency
# compare KEY CLIENT SERVER CATEGORIES DST...
compare() {
	local what=$1 c=$2 s=$3 cats=$4 out rc cat sent matched
	shift 4
	out=$(pcap_compare "$TMPD/cli-$c.pcap" "$TMPD/srv-$s.pcap" "$@" 2>&1); rc=$?
	check_rc "$what: every packet $c sent to $* reached $s unchanged but TTL/hop limit/IPv4 checksum" \
		0 "$rc" "$out" && diag "$out"
	for cat in $cats; do
		read -r sent matched < <(awk -v c="$cat" '$1 == c {print $2, $3}' <<<"$out")
		check "$what: $cat: ${matched:-0} of ${sent:-0} packets identical" \
			test "${sent:-0}" -gt 0 -a "${sent:-0}" = "${matched:-x}"
	done
}
compare "IPv4 in IPv4, IPv6 in IPv6" c1 s1 "v4-tcp v4-udp v4-icmp v4-frag v6-tcp v6-udp v6-icmp v6-frag" \
	"$IPS4" "$IPS6"
compare "IPv4 in IPv6" c2 s2 "v4-tcp v4-udp v4-icmp" "$IPS4"
compare "IPv6 in IPv4" c2 s3 "v6-tcp v6-udp v6-icmp" "$IPS6"

# ------------------------------------------------------------ counters
js=$(status_json f)
check_eq "front: b1 tunnels (path MTU of the route)" "ipv4 1500 1480 route, ipv6 1500 1460 route" \
	"$(jq -r "$(jq_nh b1 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b2 tunnels" "ipv6 1500 1460 route" "$(jq -r "$(jq_nh b2 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b3 tunnels" "ipv4 1500 1480 route" "$(jq -r "$(jq_nh b3 "$JQ_TUNNELS")" <<<"$js")"
for i in 1 2 3; do
	check "front: b$i encapsulated > 0" test "$(jq -r "$(jq_nh "b$i" .encapsulated)" <<<"$js")" -gt 0
	check "b$i: decapsulated > 0" test "$(jget "b$i" .back.decapsulated)" -gt 0
done
check_eq "front: nothing too big: no fragments, no ICMP errors sent" 0 \
	"$(jq -r '[.front.next_hops[] | .fragments + .icmp_sent + .icmp_rate_limited] | add' <<<"$js")"

# ------------------------------------------------------------ negative
# From c1, straight to IP_B1 (f routes it to b1): outer source c1, not in
# b1's allowed_sources (default: IP_S).
link_cap neg s1 b "udp port 4999" || bail "tcpdump on s1"
snap b1 before
check "scapy: 5 IPv4-in-IPv4 packets ${C4[1]} -> ${IPB4[1]}" \
	send_tunnel c1 5 "${C4[1]}" "${IPB4[1]}" 4 "${C4[1]}" "$IPS4"
check "scapy: 3 IPv6-in-IPv6 packets ${C6[1]} -> ${IPB6[1]}" \
	send_tunnel c1 3 "${C6[1]}" "${IPB6[1]}" 41 "${C6[1]}" "$IPS6"
# Outer source allowed (IP_S), but protocol 4 carries an IPv6 packet.
check "scapy: 4 packets $IPS4 -> ${IPB4[1]} protocol 4 carrying IPv6" \
	send_tunnel c1 4 "$IPS4" "${IPB4[1]}" 4 "${C6[1]}" "$IPS6"
# Wait (bounded) until b1 counted them all, then a little more for extras.
wait_for 5 counter_reaches b1 '.drops.tunnel_source' \
	"$(($(jq -r '.drops.tunnel_source // 0' "$TMPD/snap-b1-before.json") + 8))"
wait_for 5 counter_reaches b1 '.drops.tunnel_inner' \
	"$(($(jq -r '.drops.tunnel_inner // 0' "$TMPD/snap-b1-before.json") + 4))"
# Deliberate: nothing to poll for here. A packet counted twice or
# decapsulated after all shows up within this grace, and the exact checks
# below fail.
sleep 0.5
snap b1 after
check_eq "b1: drops.tunnel_source +8 (outer source not allowed)" 8 "$(delta b1 .drops.tunnel_source)"
check_eq "b1: drops.tunnel_inner +4 (IPv6 inside protocol 4)" 4 "$(delta b1 .drops.tunnel_inner)"
check_eq "b1: decapsulated +0" 0 "$(delta b1 .back.decapsulated)"
bg_stop neg INT
check_eq "s1 received none of them" 0 "$(pcap_count neg)"

for n in f b1 b2 b3; do
	js=$(status_json "$n")
	check_eq "part 1: $n: every other drop counter is 0" 0 \
		"$(jq -r "$(jq_drops_but tunnel_source tunnel_inner)" <<<"$js")" || diag "$(jq -c '.drops' <<<"$js")"
	check_eq "part 1: $n: no TUN tx errors" 0 "$(jq -r '[.devices[].tx_errors] | add' <<<"$js")"
done

# ============================================================ part 2
mslbd_stop f
check_rc "part 1: f: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
encap_front_conf "$(mslbd_conf f)" 2 || bail "front config"
mslbd_start f "$(mslbd_conf f)" || bail "restarting mslbd on f"
client_mtu c1 "" || bail "c1 route mtu"
js=$(status_json f)
check_eq "front: b1 tunnels (path_mtu = 1400)" "ipv4 1400 1380 config, ipv6 1400 1360 config" \
	"$(jq -r "$(jq_nh b1 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b2 tunnels (path_mtu = 1300)" "ipv6 1300 1260 config" \
	"$(jq -r "$(jq_nh b2 "$JQ_TUNNELS")" <<<"$js")"

# --- IPv4: PMTUD end to end, then the ICMP error itself
check "v4: TCP 300 kB up and down through a 1380 tunnel (PMTUD)" tcp_transfer c1 "$IPS4" 5002 s1 "$TMPD/data"
check_match "v4: c1 learned path MTU 1380 for IP_S" " mtu 1380" "$(nsx c1 ip -4 route get "$IPS4")"
nsx c1 ip -4 route flush cache
out=$(nsx c1 ping -4 -n -c 2 -i 0.2 -W 1 -M "do" -s 1400 "$IPS4" 2>&1)
check_match "v4: ping -M do -s 1400: fragmentation needed, mtu 1380, from IP_S" \
	"From $IPS4 .*Frag needed and DF set \(mtu = 1380\)|message too long, mtu=1380" "$out"
check "v4: ping -M do -s 1300 fits" nsx c1 ping -4 -n -q -c 3 -i 0.1 -W 2 -M "do" -s 1300 "$IPS4"
check "front: b1 icmp_sent > 0" test "$(jget f "$(jq_nh b1 .icmp_sent)")" -gt 0

# --- IPv4 without DF: the front fragments the inner packet
nsx c1 ip -4 route flush cache
snap f before
link_cap dfc c1 f "icmp and dst host $IPS4" || bail "tcpdump on c1"
link_cap dfs s1 b "icmp and dst host $IPS4" || bail "tcpdump on s1"
check "v4: ping -M dont -s 1400 answered" nsx c1 ping -4 -n -q -c 3 -i 0.1 -W 2 -M dont -s 1400 "$IPS4"
cap_settle dfc dfs
bg_stop dfc INT
bg_stop dfs INT
snap f after
check_eq "v4: c1 sent whole 1428-byte packets" "v4 ${C4[1]} > $IPS4" "$(pkt_kinds "$TMPD/dfc.pcap" 2>&1)"
check_eq "v4: s1 received fragments" "v4 ${C4[1]} > $IPS4 fragment" "$(pkt_kinds "$TMPD/dfs.pcap" 2>&1)"
check "front: b1 fragments +>0" test "$(delta f "$(jq_nh b1 .fragments)")" -gt 0

# --- IPv6: PMTUD end to end, then Packet Too Big
check "v6: TCP 300 kB up and down through a 1360 tunnel (PMTUD)" tcp_transfer c1 "$IPS6" 5002 s1 "$TMPD/data"
check_match "v6: c1 learned path MTU 1360 for IP_S" " mtu 1360" "$(nsx c1 ip -6 route get "$IPS6")"
nsx c1 ip -6 route flush cache
out=$(nsx c1 ping -6 -n -c 1 -W 1 -s 1400 "$IPS6" 2>&1)
check_match "v6: ping -s 1400: Packet Too Big, mtu 1360, from IP_S" \
	"From $IPS6 .*Packet too big: mtu=1360|message too long, mtu=1360" "$out"
check_match "v6: c1 cached path MTU 1360 for IP_S (ip -6 route get)" " mtu 1360" \
	"$(nsx c1 ip -6 route get "$IPS6")"
check "v6: ping -s 1400 answered (c1 fragments to 1360)" \
	nsx c1 ping -6 -n -q -c 3 -i 0.1 -W 2 -s 1400 "$IPS6"

# --- IPv6 1280 bytes on a 1260 tunnel: outer fragments, b2 reassembles
snap b2 before
link_cap l1280 b2 f "dst host ${IPB6[2]}" || bail "tcpdump on b2 - f"
check "v6: 1280-byte ping from ${C6_OUT[1]} through the 1260 tunnel to b2" \
	nsx c1 ping -6 -n -q -c 3 -i 0.1 -W 2 -M "do" -s 1232 -I "${C6_OUT[1]}" "$IPS6"
cap_settle l1280
bg_stop l1280 INT
snap b2 after
out=$(pkt_kinds "$TMPD/l1280.pcap" 2>&1)
check_match "f - b2 link: first outer fragments (IPv6 in IPv6)" \
	"^v6 $IPS6 > ${IPB6[2]} fragment proto 41: v6 ${C6_OUT[1]} > $IPS6\$" "$out"
check_match "f - b2 link: further outer fragments" "^v6 $IPS6 > ${IPB6[2]} fragment proto 41\$" "$out"
check "b2: reassembly.datagrams +>0" test "$(delta b2 .back.reassembly.datagrams)" -gt 0
check_eq "b2: reassembly timeouts, memory_drops +0" "0 0" \
	"$(delta b2 .back.reassembly.timeouts) $(delta b2 .back.reassembly.memory_drops)"

# ------------------------------------------------------------ drops, exit
js=$(status_json f)
check "front: drops.too_big > 0 (ICMP errors instead)" test "$(jq -r '.drops.too_big' <<<"$js")" -gt 0
check_eq "part 2: f: every other drop counter is 0" 0 "$(jq -r "$(jq_drops_but too_big)" <<<"$js")" ||
	diag "$(jq -c '.drops' <<<"$js")"
for n in b1 b2 b3; do
	js=$(status_json "$n")
	check_eq "part 2: $n: every drop counter but part 1's is 0" 0 \
		"$(jq -r "$(jq_drops_but tunnel_source tunnel_inner)" <<<"$js")" || diag "$(jq -c '.drops' <<<"$js")"
done
for n in f b1 b2 b3; do
	js=$(status_json "$n")
	check_eq "part 2: $n: no TUN tx errors" 0 "$(jq -r '[.devices[].tx_errors] | add' <<<"$js")"
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
