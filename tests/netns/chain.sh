#!/bin/bash
# tests/netns/chain.sh: a three-stage chain F -> F -> B (draft section 4,
# Figure 4), in address translation mode and in encapsulation mode, IPv4 and
# IPv6.
#
#   c1 ---- f1 ---- f2 ---+--- b1 ---- s1
#                         +--- b2 ---- s2
#
#   link        network                    addresses
#   c1 - f1     192.0.2.0/25               f1 .1, c1 .10 (-> b1) and .70 (-> b2)
#               2001:db8:c1::/64           f1 ::1, c1 ::10 (-> b1) and ::1:10 (-> b2)
#   f1 - f2     198.51.100.64/28           f1 .65, f2 .66
#               2001:db8:12::/64           f1 ::1, f2 ::2
#   f2 - bi     as lib.sh's f - bi         (198.51.100.16i/28, 2001:db8:fi::/64)
#   bi - si     as lib.sh's bi - si
#   IP_F2       198.51.100.9, 2001:db8:b::9: not assigned; f1 routes it to f2
#   IP_Bi       as lib.sh: not assigned; f2 routes it to bi
#
# f1 sends every client to its one next hop "f2" (= IP_F2). f2's services
# are IP_F2; its table sends 192.0.2.0/26 and 2001:db8:c1::/112 to b1,
# 192.0.2.64/26 and 2001:db8:c1::1:0/112 to b2. The backs map IP_Bi -> IP_S.
# Translation: f1 rewrites IP_S -> IP_F2, f2 IP_F2 -> IP_Bi, bi IP_Bi -> IP_S.
# Encapsulation: f1 encapsulates to IP_F2 (outer source IP_S), f2 accepts
# tunnels from IP_S (front.allowed_sources), decapsulates, balances by the
# inner source and encapsulates again to IP_Bi; bi decapsulates.
# Each mode: TCP (content), UDP echo, ping, both families; what is on the
# f1 - f2 and f2 - b1 links; counters of every stage; c1 -> s1 byte for
# byte; no drops. The daemons are restarted between the modes.
# Encapsulation mode ends with path MTU discovery through the chain.
# MSLB_CHAIN_MODES="translate" (or "encapsulate") runs one mode only.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat tcpdump ping ss sha256sum ethtool timeout
require_scapy
require_mslbd

# ------------------------------------------------------------ topology
C1A4=192.0.2.10 C1B4=192.0.2.70		# c1's addresses: A -> b1, B -> b2
C1A6=2001:db8:c1::10 C1B6=2001:db8:c1::1:10
F1C4=192.0.2.1 F1C6=2001:db8:c1::1	# f1's side of c1 - f1
F1F4=198.51.100.65 F1F6=2001:db8:12::1	# f1's side of f1 - f2
F2F4=198.51.100.66 F2F6=2001:db8:12::2	# f2's side of f1 - f2
IPF24=198.51.100.9 IPF26=2001:db8:b::9	# IP_F2
TBL_B1_4=192.0.2.0/26 TBL_B1_6=2001:db8:c1::/112
TBL_B2_4=192.0.2.64/26 TBL_B2_6=2001:db8:c1::1:0/112

# c1_mtu MTU|"": c1's default routes, with "mtu MTU" or none. With 1400, no
# packet c1 sends is too big for a tunnel (1480 / 1460), so that the
# captures compare one to one; path MTU discovery through the chain is
# checked at the end with the full 1500.
c1_mtu() {
	ip -n "$(ns c1)" -4 route replace default via "$F1C4" src "$C1A4" ${1:+mtu "$1"} &&
		ip -n "$(ns c1)" -6 route replace default via "$F1C6" src "$C1A6" ${1:+mtu "$1"} &&
		ip -n "$(ns c1)" -4 route flush cache && ip -n "$(ns c1)" -6 route flush cache
}

chain_create() {
	local i
	for n in c1 f1 f2; do ns_add "$n" || return 1; done
	link_add f1 c1 c1 f || return 1
	link_add f1 f2 f2 f1 || return 1
	addr_add f1 c1 "$F1C4/25" || return 1
	addr_add f1 c1 "$F1C6/64" || return 1
	addr_add c1 f "$C1A4/25" || return 1
	addr_add c1 f "$C1B4/25" || return 1
	addr_add c1 f "$C1A6/64" || return 1
	addr_add c1 f "$C1B6/64" || return 1
	c1_mtu 1400 || return 1
	addr_add f1 f2 "$F1F4/28" || return 1
	addr_add f1 f2 "$F1F6/64" || return 1
	addr_add f2 f1 "$F2F4/28" || return 1
	addr_add f2 f1 "$F2F6/64" || return 1
	route_add f1 "$IPF24/32" via "$F2F4" || return 1
	route_add f1 "$IPF26/128" via "$F2F6" || return 1
	# Return traffic (direct server return): f2 sends everything else to f1.
	route_add f2 default via "$F1F4" || return 1
	ip -n "$(ns f2)" -6 route add default via "$F1F6" || return 1
	for i in 1 2; do
		ns_add "b$i" || return 1
		ns_add "s$i" || return 1
		link_add f2 "b$i" "b$i" f || return 1
		link_add "b$i" s "s$i" b || return 1
		addr_add f2 "b$i" "${FB4[$i]}/28" || return 1
		addr_add f2 "b$i" "${FB6[$i]}/64" || return 1
		addr_add "b$i" f "${B4[$i]}/28" || return 1
		addr_add "b$i" f "${B6[$i]}/64" || return 1
		addr_add "b$i" s "${BS4[$i]}/28" || return 1
		addr_add "b$i" s "${BS6[$i]}/64" || return 1
		addr_add "s$i" b "${S4[$i]}/28" || return 1
		addr_add "s$i" b "${S6[$i]}/64" || return 1
		addr_add "s$i" lo "$IPS4/32" || return 1
		addr_add "s$i" lo "$IPS6/128" || return 1
		route_add f2 "${IPB4[$i]}/32" via "${B4[$i]}" || return 1
		route_add f2 "${IPB6[$i]}/128" via "${B6[$i]}" || return 1
		route_add "b$i" default via "${FB4[$i]}" || return 1
		ip -n "$(ns "b$i")" -6 route add default via "${FB6[$i]}" || return 1
		route_add "s$i" default via "${BS4[$i]}" || return 1
		ip -n "$(ns "s$i")" -6 route add default via "${BS6[$i]}" || return 1
		route_add "b$i" "$IPS6/128" via "${S6[$i]}" || return 1
	done
	# back_conf (lib.sh) writes the backs' files.
	# shellcheck disable=SC2034
	TOPO_NBACKS=2
}

# ------------------------------------------------------------ configs
# f1_conf FILE MODE: services IP_S, one next hop f2 (IP_F2) for everyone.
f1_conf() {
	local mode=$2
	{
		_conf_head f1
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		[ "$mode" = encapsulate ] && echo "  mode = \"encapsulate\";"
		echo "  next_hops = ("
		printf '    { name = "f2"; ipv4 = "%s"; ipv6 = "%s";%s }\n' "$IPF24" "$IPF26" \
			"$([ "$mode" = encapsulate ] && echo ' outer = "same";')"
		echo "  );"
		echo "  table = ("
		echo "    { source = \"192.0.2.0/25\"; next_hop = \"f2\"; },"
		echo "    { source = \"2001:db8:c1::/64\"; next_hop = \"f2\"; }"
		echo "  );"
		echo "  unmatched = \"drop\";"
		echo "};"
	} >"$1"
}

# f2_conf FILE MODE: services IP_F2, next hops b1 and b2 by c1's source.
f2_conf() {
	local mode=$2 outer="" i
	[ "$mode" = encapsulate ] && outer=' outer = "same";'
	{
		_conf_head f2
		echo "front = {"
		echo "  services = [ \"$IPF24\", \"$IPF26\" ];"
		if [ "$mode" = encapsulate ]; then
			echo "  mode = \"encapsulate\";"
			# f1's outer source (its default: the packet's IP_S).
			echo "  allowed_sources = [ \"$IPS4\", \"$IPS6\" ];"
		fi
		echo "  next_hops = ("
		for i in 1 2; do
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s";%s }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "$outer" "$([ "$i" = 1 ] && echo ,)"
		done
		echo "  );"
		echo "  table = ("
		echo "    { source = \"$TBL_B1_4\"; next_hop = \"b1\"; },"
		echo "    { source = \"$TBL_B2_4\"; next_hop = \"b2\"; },"
		echo "    { source = \"$TBL_B1_6\"; next_hop = \"b1\"; },"
		echo "    { source = \"$TBL_B2_6\"; next_hop = \"b2\"; }"
		echo "  );"
		echo "  unmatched = \"drop\";"
		echo "};"
	} >"$1"
}

NODES="f1 f2 b1 b2"
start_chain() { # start_chain MODE
	f1_conf "$(mslbd_conf f1)" "$1" || return 1
	f2_conf "$(mslbd_conf f2)" "$1" || return 1
	back_conf "$(mslbd_conf b1)" 1 || return 1
	back_conf "$(mslbd_conf b2)" 2 || return 1
	for n in $NODES; do
		mslbd_start "$n" "$(mslbd_conf "$n")" || return 1
	done
}
stop_chain() { # stop_chain MODE: every daemon exits 0
	local n
	for n in $NODES; do
		mslbd_stop "$n"
		check_rc "$1: $n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
	done
}

# ------------------------------------------------------------ one mode

K=10
run_mode() { # run_mode translate|encapsulate
	local m=$1 dst v out n sent matched cat
	start_chain "$m" || bail "$m: starting mslbd"

	# --- status shape
	if [ "$m" = encapsulate ]; then
		check_eq "$m: f1: next hop f2 mode" encapsulate \
			"$(jget f1 '.front.next_hops[] | select(.name == "f2") | .mode')"
		check_eq "$m: f2: next hops b1 b2 mode" "encapsulate encapsulate" \
			"$(jget f2 '[.front.next_hops[].mode] | join(" ")')"
		check_eq "$m: f2: services" "[\"$IPF24\",\"$IPF26\"]" "$(jget f2 '.front.services | tostring')"
	else
		check_eq "$m: f1: next hop f2 mode" translate \
			"$(jget f1 '.front.next_hops[] | select(.name == "f2") | (.mode // "translate")')"
	fi

	# --- exact counters: K pings per family from c1's first address
	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		for n in $NODES; do snap "$n" before; done
		check "$m: v$v: $K pings c1 -> $dst" ping_ok c1 "$dst" "$K"
		for n in $NODES; do snap "$n" after; done
		local ipb1=${IPB4[1]} tbl=$TBL_B1_4
		[ "$v" = 6 ] && { ipb1=${IPB6[1]}; tbl=$TBL_B1_6; }
		check_eq "$m: v$v: f1: next hop f2 packets +$K" "$K" "$(delta f1 "$(jq_nh_packets f2)")"
		check_eq "$m: v$v: f2: next hop b1 packets +$K" "$K" "$(delta f2 "$(jq_nh_packets b1)")"
		check_eq "$m: v$v: f2: table entry $tbl hits +$K" "$K" "$(delta f2 "$(jq_tbl_hits "$tbl")")"
		check_eq "$m: v$v: f2: next hop b2 packets +0" 0 "$(delta f2 "$(jq_nh_packets b2)")"
		check_eq "$m: v$v: b1: address $ipb1 packets +$K" "$K" "$(delta b1 "$(jq_back_packets "$ipb1")")"
		check_eq "$m: v$v: b2: packets +0" 0 "$(delta b2 '[.back.addresses[].packets] | add')"
		if [ "$m" = encapsulate ]; then
			check_eq "$m: v$v: f1: next hop f2 encapsulated +$K" "$K" \
				"$(delta f1 '.front.next_hops[] | select(.name == "f2") | .encapsulated')"
			check_eq "$m: v$v: f2: next hop b1 encapsulated +$K" "$K" \
				"$(delta f2 '.front.next_hops[] | select(.name == "b1") | .encapsulated')"
			check_eq "$m: v$v: b1: decapsulated +$K" "$K" "$(delta b1 '.back.decapsulated')"
		fi
	done

	# --- c1 -> s1 traffic, captured at c1, on both inner links and at s1
	no_offload c1 f || bail "ethtool -K on c1"
	cap_start cli c1 f || bail "tcpdump on c1"
	cap_start srv s1 b || bail "tcpdump on s1"
	# The links at their receiving ends: what the sender's packet taps see
	# depends on its I/O path (AF_PACKET bypasses them).
	link_cap l12 f2 f1 "dst host $IPF24 or dst host $IPF26" || bail "tcpdump on f2 - f1"
	link_cap l2b b1 f "dst host ${IPB4[1]} or dst host ${IPB6[1]}" || bail "tcpdump on b1 - f"
	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		check_eq "$m: v$v: TCP name from s1" s1 "$(fetch_name c1 "$dst")"
		check "$m: v$v: TCP 300 kB up and down, sha256 equal" tcp_transfer c1 "$dst" 5001 s1 "$TMPD/data"
		check_eq "$m: v$v: UDP echo" "$m$v-$SUFFIX" "$(udp_echo c1 "$dst" "$m$v-$SUFFIX")"
		check "$m: v$v: ping" ping_ok c1 "$dst" 5
	done
	cap_settle cli srv l12 l2b || diag "captures still growing"
	for k in cli srv l12 l2b; do bg_stop "$k" INT; done

	out=$(pcap_compare "$TMPD/cli.pcap" "$TMPD/srv.pcap" "$IPS4" "$IPS6" 2>&1)
	check_rc "$m: every packet c1 sent to IP_S reached s1 unchanged but TTL/hop limit/IPv4 checksum" \
		0 $? "$out" && diag "$out"
	for cat in v4-tcp v4-udp v4-icmp v6-tcp v6-udp v6-icmp; do
		read -r sent matched < <(awk -v c="$cat" '$1 == c {print $2, $3}' <<<"$out")
		check "$m: $cat: ${matched:-0} of ${sent:-0} packets identical" \
			test "${sent:-0}" -gt 0 -a "${sent:-0}" = "${matched:-x}"
	done

	# What travels between the stages.
	if [ "$m" = encapsulate ]; then
		want12="v4 $IPS4 > $IPF24 proto 4: v4 $C1A4 > $IPS4
v6 $IPS6 > $IPF26 proto 41: v6 $C1A6 > $IPS6"
		want2b="v4 $IPS4 > ${IPB4[1]} proto 4: v4 $C1A4 > $IPS4
v6 $IPS6 > ${IPB6[1]} proto 41: v6 $C1A6 > $IPS6"
	else
		want12="v4 $C1A4 > $IPF24
v6 $C1A6 > $IPF26"
		want2b="v4 $C1A4 > ${IPB4[1]}
v6 $C1A6 > ${IPB6[1]}"
	fi
	check_eq "$m: f1 -> f2 link: every packet to IP_F2 is $( [ "$m" = encapsulate ] &&
		echo "IP-in-IP from IP_S carrying c1 -> IP_S" || echo "c1 -> IP_F2")" \
		"$want12" "$(pkt_kinds "$TMPD/l12.pcap" 2>&1)"
	check_eq "$m: f2 -> b1 link: every packet to IP_B1 is $( [ "$m" = encapsulate ] &&
		echo "IP-in-IP from IP_S carrying c1 -> IP_S" || echo "c1 -> IP_B1")" \
		"$want2b" "$(pkt_kinds "$TMPD/l2b.pcap" 2>&1)"

	# --- f2 balances: c1's second address goes to b2 / s2
	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		local src=$C1B4
		[ "$v" = 6 ] && src=$C1B6
		check_eq "$m: v$v: c1 from $src is served by s2" s2 "$(fetch_name c1 "$dst" "$src")"
		check "$m: v$v: ping from $src" ping_ok c1 "$dst" 3 "$src"
	done
	check "$m: f2: next hop b2 packets > 0" test "$(jget f2 "$(jq_nh_packets b2)")" -gt 0
	check "$m: b2: packets > 0" test "$(jget b2 '[.back.addresses[].packets] | add')" -gt 0
	if [ "$m" = encapsulate ]; then
		check "$m: b2: decapsulated > 0" test "$(jget b2 '.back.decapsulated')" -gt 0
	fi

	# --- no drops
	for n in $NODES; do
		js=$(status_json "$n")
		check_eq "$m: $n: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
		check_eq "$m: $n: no TUN tx errors" 0 "$(jq -r '[.devices[].tx_errors] | add' <<<"$js")"
	done

	# --- encapsulation: path MTU discovery through the chain (f1's
	# tunnel is the narrowest: 1480 / 1460; f2 re-encapsulates what fits)
	if [ "$m" = encapsulate ]; then
		c1_mtu "" || bail "c1 route mtu"
		for dst in "$IPS4" "$IPS6"; do
			v=$(fam "$dst")
			check "$m: v$v: TCP 300 kB up and down with c1's MTU 1500 (PMTUD)" \
				tcp_transfer c1 "$dst" 5003 s1 "$TMPD/data"
		done
		check_match "$m: v4: c1 learned path MTU 1480 for IP_S" " mtu 1480" "$(nsx c1 ip -4 route get "$IPS4")"
		check_match "$m: v6: c1 learned path MTU 1460 for IP_S" " mtu 1460" "$(nsx c1 ip -6 route get "$IPS6")"
		check "$m: f1: next hop f2 icmp_sent > 0" \
			test "$(jget f1 '.front.next_hops[] | select(.name == "f2") | .icmp_sent')" -gt 0
		check "$m: f1: drops.too_big > 0" test "$(jget f1 '.drops.too_big')" -gt 0
		js=$(status_json f2)
		check_eq "$m: f2: still no drops (nothing too big after f1)" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
		c1_mtu 1400 || bail "c1 route mtu"
	fi
	stop_chain "$m"
}

chain_create || bail "topology"
for i in 1 2; do
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
head -c 300000 /dev/urandom >"$TMPD/data" || bail "test data"

for mode in ${MSLB_CHAIN_MODES:-translate encapsulate}; do
	run_mode "$mode"
done

tap_done
