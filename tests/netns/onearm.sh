#!/bin/bash
# tests/netns/onearm.sh: the one-arm front of draft-matsuhira-mslb-17
# section 4.2 (Figure 5), in address translation mode and then in
# encapsulation mode.
#
#   c1 ---- r ---- b1 ---- s1          r routes IP_S to f, IP_B1 to b1
#           |
#           f   (one interface, "r"; its only route: default via r)
#
#   link     network                          addresses
#   c1 - r   192.0.2.0/25, 2001:db8:c1::/64    r .1 ::1, c1 .10 ::10
#   f  - r   198.51.100.64/28, 2001:db8:ff::/64 r .65 ::1, f .66 ::2
#   b1 - r   198.51.100.16/28, 2001:db8:f1::/64 r .17 ::1, b1 .18 ::2
#   b1 - s1  198.51.100.144/28, 2001:db8:d1::/64 (as in lib.sh)
#
# f takes c1's packets to IP_S from r, rewrites (translation) or
# encapsulates them toward IP_B1 and sends them back out of the same
# interface to r, which routes them to b1. The server's answers go
# s1 -> b1 -> r -> c1 and never reach f. Proof: nftables counters on f's
# only interface (netdev ingress) count no packet with source IP_S, while
# c1 gets TCP content, UDP echo and ping answers in both families, r sees
# the return traffic come in from b1 and never sends any to f, and the
# front's status counts the forward packets.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq nft socat ping ss sha256sum timeout
require_mslbd

RF4=198.51.100.65 F4=198.51.100.66
RF6=2001:db8:ff::1 F6=2001:db8:ff::2

# ------------------------------------------------------------ topology
onearm_topo() {
	local n
	for n in r c1 f b1 s1; do ns_add "$n" || return 1; done
	link_add r c1 c1 r || return 1
	link_add r f f r || return 1
	link_add r b1 b1 r || return 1
	link_add b1 s s1 b || return 1
	addr_add r c1 "${C4_GW[1]}/25" && addr_add r c1 "${C6_GW[1]}/64" || return 1
	addr_add c1 r "${C4[1]}/25" && addr_add c1 r "${C6[1]}/64" || return 1
	route_add c1 default via "${C4_GW[1]}" || return 1
	ip -n "$(ns c1)" -6 route add default via "${C6_GW[1]}" || return 1
	addr_add r f "$RF4/28" && addr_add r f "$RF6/64" || return 1
	addr_add f r "$F4/28" && addr_add f r "$F6/64" || return 1
	route_add f default via "$RF4" || return 1
	ip -n "$(ns f)" -6 route add default via "$RF6" || return 1
	addr_add r b1 "${FB4[1]}/28" && addr_add r b1 "${FB6[1]}/64" || return 1
	addr_add b1 r "${B4[1]}/28" && addr_add b1 r "${B6[1]}/64" || return 1
	route_add b1 default via "${FB4[1]}" || return 1
	ip -n "$(ns b1)" -6 route add default via "${FB6[1]}" || return 1
	addr_add b1 s "${BS4[1]}/28" && addr_add b1 s "${BS6[1]}/64" || return 1
	addr_add s1 b "${S4[1]}/28" && addr_add s1 b "${S6[1]}/64" || return 1
	addr_add s1 lo "$IPS4/32" && addr_add s1 lo "$IPS6/128" || return 1
	route_add s1 default via "${BS4[1]}" || return 1
	ip -n "$(ns s1)" -6 route add default via "${BS6[1]}" || return 1
	route_add b1 "$IPS6/128" via "${S6[1]}" || return 1
	# r: IP_S to the front, IP_B1 to the back.
	route_add r "$IPS4/32" via "$F4" || return 1
	route_add r "$IPS6/128" via "$F6" || return 1
	route_add r "${IPB4[1]}/32" via "${B4[1]}" || return 1
	route_add r "${IPB6[1]}/128" via "${B6[1]}" || return 1
	nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	# The redirects r would send f are not the subject here.
	nsx r sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.f.send_redirects=0
}

# ------------------------------------------------------------ configs
# write_front FILE translate|encapsulate: one next hop, b1, for everyone.
write_front() {
	local file=$1 mode=$2
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		# translate is the default: say nothing, so that the default is tested.
		[ "$mode" = translate ] || echo "  mode = \"$mode\";"
		echo "  next_hops = ("
		echo "    { name = \"b1\"; ipv4 = \"${IPB4[1]}\"; ipv6 = \"${IPB6[1]}\"; }"
		echo "  );"
		echo "  table = ("
		echo "    { source = \"${C4_TBL[1]}\"; next_hop = \"b1\"; },"
		echo "    { source = \"${C6_TBL[1]}\"; next_hop = \"b1\"; }"
		echo "  );"
		echo "  unmatched = \"drop\";"
		echo "};"
	} >"$file"
}

# ------------------------------------------------------------ nftables
# Named counters: on f's only interface (ingress), and on r.
nft_setup() {
	nsx f nft -f - <<EOF || return 1
table netdev onearm {
	counter in_src_s4 {}
	counter in_src_s6 {}
	counter in_dst_s4 {}
	counter in_dst_s6 {}
	counter in_all {}
	chain c_ingress {
		type filter hook ingress device "r" priority 0; policy accept;
		counter name "in_all"
		ip saddr $IPS4 counter name "in_src_s4"
		ip6 saddr $IPS6 counter name "in_src_s6"
		ip daddr $IPS4 counter name "in_dst_s4"
		ip6 daddr $IPS6 counter name "in_dst_s6"
	}
}
EOF
	nsx r nft -f - <<EOF || return 1
table inet onearm {
	counter from_f_b4_plain {}
	counter from_f_b6_plain {}
	counter from_f_b4_ipip {}
	counter from_f_b6_ip6ip6 {}
	counter from_f_b4 {}
	counter from_f_b6 {}
	counter ret_from_b1_4 {}
	counter ret_from_b1_6 {}
	counter ret_to_f_4 {}
	counter ret_to_f_6 {}
	chain c_forward {
		type filter hook forward priority 0; policy accept;
		iifname "f" ip daddr ${IPB4[1]} counter name "from_f_b4"
		iifname "f" ip6 daddr ${IPB6[1]} counter name "from_f_b6"
		iifname "f" ip daddr ${IPB4[1]} ip protocol { tcp, udp, icmp } counter name "from_f_b4_plain"
		iifname "f" ip6 daddr ${IPB6[1]} ip6 nexthdr { tcp, udp, ipv6-icmp } counter name "from_f_b6_plain"
		iifname "f" ip daddr ${IPB4[1]} ip protocol 4 counter name "from_f_b4_ipip"
		iifname "f" ip6 daddr ${IPB6[1]} ip6 nexthdr 41 counter name "from_f_b6_ip6ip6"
		iifname "b1" oifname "c1" ip saddr $IPS4 counter name "ret_from_b1_4"
		iifname "b1" oifname "c1" ip6 saddr $IPS6 counter name "ret_from_b1_6"
	}
	chain c_post {
		type filter hook postrouting priority 0; policy accept;
		oifname "f" ip saddr $IPS4 counter name "ret_to_f_4"
		oifname "f" ip6 saddr $IPS6 counter name "ret_to_f_6"
	}
}
EOF
}
nft_reset() { nsx f nft reset counters table netdev onearm >/dev/null && nsx r nft reset counters table inet onearm >/dev/null; }
# cnt NODE FAMILY NAME: packets of a named counter.
cnt() {
	nsx "$1" nft -j list counter "$2" onearm "$3" |
		jq -er '.nftables[] | select(.counter) | .counter.packets'
}
cnt_bytes() {
	nsx "$1" nft -j list counter "$2" onearm "$3" |
		jq -er '.nftables[] | select(.counter) | .counter.bytes'
}
fcnt() { cnt f netdev "$1"; }
rcnt() { cnt r inet "$1"; }
rbytes() { cnt_bytes r inet "$1"; }

# ------------------------------------------------------------ set-up
onearm_topo || bail "topology"
check_eq "f has one interface (one arm), toward r" r "$(node_ifs f)"
nft_setup || bail "nftables counters"
cat >"$TMPD/b1.conf" <<EOF
$(_conf_head b1)
back = {
  addresses = (
    { address = "${IPB4[1]}"; service = "$IPS4"; deliver_via = "${S4[1]}"; },
    { address = "${IPB6[1]}"; service = "$IPS6"; }
  );
};
EOF
mslbd_start b1 "$TMPD/b1.conf" || bail "mslbd on b1"
srv_start_names 1 || bail "name service on s1"
srv_start_udp_echo 1 || bail "UDP echo on s1"
head -c $((1 << 20)) /dev/urandom >"$TMPD/data" || bail "test data"

K=10
run_mode() { # run_mode translate|encapsulate
	local mode=$1 conf=$TMPD/f-$1.conf out rc ok=1 a b
	write_front "$conf" "$mode"
	out=$(mslbd_cli f check -c "$conf" 2>&1)
	check_rc "$mode: mslbd check accepts the one-arm front" 0 $? "$out" || ok=0
	if [ "$ok" = 1 ]; then
		cp "$conf" "$(mslbd_conf f)"
		mslbd_start f "$(mslbd_conf f)" 2>"$TMPD/start-f.err" || ok=0
		check_eq "$mode: mslbd starts on the one-arm front" 1 "$ok" || diag "$(tail -n 10 "$TMPD/start-f.err")"
	fi
	if [ "$ok" = 0 ]; then
		tap_fail "$mode: one-arm checks not run (no front daemon)"
		return
	fi
	local js
	js=$(status_json f)
	check_eq "$mode: status: next hop b1 mode" "$mode" \
		"$(jq -r '.front.next_hops[] | select(.name == "b1") | .mode' <<<"$js")"

	# Exactly K pings per family first: counted once by f, once by r
	# (coming back from f toward IP_B1), and no answer arrives at f.
	nft_reset
	snap f before; snap b1 before
	check "$mode: c1: $K pings to $IPS4" ping_ok c1 "$IPS4" "$K"
	check "$mode: c1: $K pings to $IPS6" ping_ok c1 "$IPS6" "$K"
	snap f after; snap b1 after
	check_eq "$mode: front: next hop b1 packets +2*$K" $((2 * K)) "$(delta f "$(jq_nh_packets b1)")"
	check_eq "$mode: front: table entry ${C4_TBL[1]} hits +$K" "$K" "$(delta f "$(jq_tbl_hits "${C4_TBL[1]}")")"
	check_eq "$mode: front: table entry ${C6_TBL[1]} hits +$K" "$K" "$(delta f "$(jq_tbl_hits "${C6_TBL[1]}")")"
	check_eq "$mode: f's interface: echo requests to $IPS4 arrived" "$K" "$(fcnt in_dst_s4)"
	check_eq "$mode: f's interface: echo requests to $IPS6 arrived" "$K" "$(fcnt in_dst_s6)"
	check_eq "$mode: r: $K packets from f to ${IPB4[1]}" "$K" "$(rcnt from_f_b4)"
	check_eq "$mode: r: $K packets from f to ${IPB6[1]}" "$K" "$(rcnt from_f_b6)"
	check_eq "$mode: r: $K echo replies from $IPS4 came from b1 straight to c1" "$K" "$(rcnt ret_from_b1_4)"
	check_eq "$mode: r: $K echo replies from $IPS6 came from b1 straight to c1" "$K" "$(rcnt ret_from_b1_6)"
	if [ "$mode" = translate ]; then
		check_eq "$mode: b1: address ${IPB4[1]} packets +$K" "$K" "$(delta b1 "$(jq_back_packets "${IPB4[1]}")")"
		check_eq "$mode: b1: address ${IPB6[1]} packets +$K" "$K" "$(delta b1 "$(jq_back_packets "${IPB6[1]}")")"
	else
		check_eq "$mode: b1: decapsulated +2*$K" $((2 * K)) "$(delta b1 '.back.decapsulated')"
		check_eq "$mode: front: next hop b1 encapsulated +2*$K" $((2 * K)) \
			"$(delta f '.front.next_hops[] | select(.name == "b1") | .encapsulated')"
	fi

	# TCP (content), UDP echo, names, more pings.
	check_eq "$mode: c1 -> $IPS4 served by s1" s1 "$(fetch_name c1 "$IPS4")"
	check_eq "$mode: c1 -> $IPS6 served by s1" s1 "$(fetch_name c1 "$IPS6")"
	check "$mode: TCP 1 MiB up and down, v4, sha256 equal" tcp_transfer c1 "$IPS4" 5001 s1 "$TMPD/data"
	check "$mode: TCP 1 MiB up and down, v6, sha256 equal" tcp_transfer c1 "$IPS6" 5002 s1 "$TMPD/data"
	check_eq "$mode: UDP echo v4" "u4-$mode-$SUFFIX" "$(udp_echo c1 "$IPS4" "u4-$mode-$SUFFIX")"
	check_eq "$mode: UDP echo v6" "u6-$mode-$SUFFIX" "$(udp_echo c1 "$IPS6" "u6-$mode-$SUFFIX")"

	# The return path never touched f.
	check_eq "$mode: f's interface: 0 packets with source $IPS4 arrived" 0 "$(fcnt in_src_s4)"
	check_eq "$mode: f's interface: 0 packets with source $IPS6 arrived" 0 "$(fcnt in_src_s6)"
	check_eq "$mode: r: 0 packets from $IPS4 sent to f" 0 "$(rcnt ret_to_f_4)"
	check_eq "$mode: r: 0 packets from $IPS6 sent to f" 0 "$(rcnt ret_to_f_6)"
	# The 1 MiB downloads (server -> client) went b1 -> r -> c1. Bytes, not
	# packets: the kernel may merge segments (GRO, TSO super-packets).
	a=$(rbytes ret_from_b1_4); b=$(rbytes ret_from_b1_6)
	check "$mode: r: return traffic v4 went b1 -> c1 ($a bytes > 1 MiB)" test "$a" -gt $((1 << 20))
	check "$mode: r: return traffic v6 went b1 -> c1 ($b bytes > 1 MiB)" test "$b" -gt $((1 << 20))
	# What f sent back out of its one interface, as r saw it.
	if [ "$mode" = translate ]; then
		check_eq "$mode: r: every packet from f to ${IPB4[1]} is plain (translated)" \
			"$(rcnt from_f_b4)" "$(rcnt from_f_b4_plain)"
		check_eq "$mode: r: every packet from f to ${IPB6[1]} is plain (translated)" \
			"$(rcnt from_f_b6)" "$(rcnt from_f_b6_plain)"
	else
		check_eq "$mode: r: every packet from f to ${IPB4[1]} is IP-in-IP (protocol 4)" \
			"$(rcnt from_f_b4)" "$(rcnt from_f_b4_ipip)"
		check_eq "$mode: r: every packet from f to ${IPB6[1]} is IPv6-in-IPv6 (next header 41)" \
			"$(rcnt from_f_b6)" "$(rcnt from_f_b6_ip6ip6)"
	fi
	a=$(rbytes from_f_b4); b=$(rbytes from_f_b6)
	check "$mode: r: f sent the v4 upload on to ${IPB4[1]} ($a bytes > 1 MiB)" test "$a" -gt $((1 << 20))
	check "$mode: r: f sent the v6 upload on to ${IPB6[1]} ($b bytes > 1 MiB)" test "$b" -gt $((1 << 20))

	js=$(status_json f)
	if [ "$mode" = translate ]; then
		check_eq "$mode: front: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
	else
		# Full-size TCP segments do not fit the tunnel (1500 + 20 / + 40):
		# the front answers "too big" (counted as a drop) and the client
		# sends smaller ones. Nothing else may be dropped.
		check_eq "$mode: front: every drop counter but too_big is 0" 0 \
			"$(jq -r '[.drops | to_entries[] | select(.key != "too_big") | .value] | add' <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
		check "$mode: front: icmp.sent > 0 (too big, to the client)" \
			test "$(jq -r '.icmp.sent' <<<"$js")" -gt 0
	fi
	js=$(status_json b1)
	check_eq "$mode: b1: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
	mslbd_stop f
	check_rc "$mode: front exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
}

run_mode translate
run_mode encapsulate

mslbd_stop b1
check_rc "b1: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-b1.log")"
tap_done
