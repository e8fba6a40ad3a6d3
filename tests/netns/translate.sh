#!/bin/bash
# tests/netns/translate.sh: address translation mode end to end, IPv4 and
# IPv6. Two clients, one front, three backs with their servers (lib.sh).
# The front's table: c1 -> b1 (v4 and v6), c2 -> b2 (v4), c2 -> b3 (v6);
# unmatched = "hash" for the clients' extra addresses.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat openssl ping ss sha256sum timeout
require_mslbd

topo_create 2 3 mslb || bail "topology"
start_all_daemons hash || bail "starting mslbd"
for i in 1 2 3; do
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
tls_make_cert || bail "openssl req"
srv_start_tls 1 || bail "TLS on s1"

# ------------------------------------------------------------ status shape
js=$(status_json f)
check_rc "status --json on the front exits 0" 0 $? "$js"
check_eq "front: roles" '["front"]' "$(jq -c '.roles' <<<"$js")"
check_eq "front: pid is the daemon's" "${MSLBD_PID[f]}" "$(jq -r '.pid' <<<"$js")"
check_eq "front: version" "$(sed -n 's/^AC_INIT(\[mslbd\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")" \
	"$(jq -r '.version' <<<"$js")"
check_eq "front: config_file" "$(mslbd_conf f)" "$(jq -r '.config_file' <<<"$js")"
check_eq "front: back is null" null "$(jq -c '.back' <<<"$js")"
check_eq "front: services" "[\"$IPS4\",\"$IPS6\"]" "$(jq -c '.front.services' <<<"$js")"
check_eq "front: unmatched" hash "$(jq -r '.front.unmatched' <<<"$js")"
check_eq "front: next hops" "b1 ${IPB4[1]} ${IPB6[1]} b2 ${IPB4[2]} ${IPB6[2]} b3 ${IPB4[3]} ${IPB6[3]}" \
	"$(jq -r '[.front.next_hops[] | .name, .ipv4, .ipv6] | join(" ")' <<<"$js")"
check_eq "front: device" "$TUN tun 1500" "$(jq -r '.devices[0] | "\(.name) \(.kind) \(.mtu)"' <<<"$js")"
# tun.offload = false: none; true: at least checksum and TSO (Linux >= 2.6.27).
if [ "${MSLB_TUN_OFFLOAD:-true}" = false ]; then
	check_eq "front: TUN offloads off" off "$(jq -r '.devices[0].offloads' <<<"$js")"
else
	check_match "front: TUN offloads on" '^csum,tso' "$(jq -r '.devices[0].offloads' <<<"$js")"
fi
# tun.io_uring = true (the default) on a kernel that has it: a batch's
# reads in one system call and its writes in another.
if [ "${MSLB_TUN_IO_URING:-true}" = false ]; then
	check_eq "front: TUN batching" "syscalls null" "$(jq -r '.devices[0] | "\(.batching) \(.io_uring_refused)"' <<<"$js")"
else
	check_eq "front: TUN batching" "io_uring null" "$(jq -r '.devices[0] | "\(.batching) \(.io_uring_refused)"' <<<"$js")"
fi
for i in 1 2 3; do
	js=$(status_json "b$i")
	check_eq "b$i: roles" '["back"]' "$(jq -c '.roles' <<<"$js")"
	check_eq "b$i: front is null" null "$(jq -c '.front' <<<"$js")"
	check_eq "b$i: addresses" \
		"${IPB4[$i]} $IPS4 ${S4[$i]} ${IPB6[$i]} $IPS6 null" \
		"$(jq -r '[.back.addresses[] | .address, .service, (.deliver_via // "null")] | join(" ")' <<<"$js")"
done

# ------------------------------------------------------------ counters
# Exactly K echo requests: the front counts them for the next hop and the
# table entry, the back for its address. Run first, before other traffic.
K=20
count_pings() { # count_pings CLIENT DST NEXTHOP_INDEX TABLE_PREFIX IPLEN
	local c=$1 dst=$2 i=$3 pfx=$4 len=$5 n
	for n in f b1 b2 b3; do snap "$n" before; done
	check "$c: $K pings to $dst" ping_ok "$c" "$dst" "$K"
	for n in f b1 b2 b3; do snap "$n" after; done
	check_eq "front: next hop b$i packets +$K" "$K" "$(delta f "$(jq_nh_packets "b$i")")"
	check_eq "front: next hop b$i bytes +$K*$len" "$((K * len))" "$(delta f "$(jq_nh_bytes "b$i")")"
	check_eq "front: table entry $pfx hits +$K" "$K" "$(delta f "$(jq_tbl_hits "$pfx")")"
	check_eq "front: unmatched hits +0" 0 "$(delta f '.front.unmatched_hits')"
	for n in 1 2 3; do
		[ "$n" = "$i" ] && continue
		check_eq "front: next hop b$n packets +0" 0 "$(delta f "$(jq_nh_packets "b$n")")"
		check_eq "b$n: packets +0" 0 "$(delta "b$n" "[.back.addresses[].packets] | add")"
	done
	local ipb=${IPB4[$i]}
	[ "$(fam "$dst")" = 6 ] && ipb=${IPB6[$i]}
	check_eq "b$i: address $ipb packets +$K" "$K" "$(delta "b$i" "$(jq_back_packets "$ipb")")"
	check_eq "b$i: address $ipb bytes +$K*$len" "$((K * len))" "$(delta "b$i" "$(jq_back_bytes "$ipb")")"
}
# ping's 56 data bytes: 84-byte IPv4 packets, 104-byte IPv6 packets.
count_pings c1 "$IPS4" 1 "${C4_TBL[1]}" 84
count_pings c2 "$IPS6" 3 "${C6_TBL[2]}" 104

# ------------------------------------------------------------ which server
# expected server: c1 -> s1 (v4, v6); c2 -> s2 (v4), s3 (v6).
declare -A want=([c1-4]=s1 [c1-6]=s1 [c2-4]=s2 [c2-6]=s3)
for c in c1 c2; do
	for dst in "$IPS4" "$IPS6"; do
		w=${want[$c-$(fam "$dst")]}
		check_eq "$c -> $dst is served by $w" "$w" "$(fetch_name "$c" "$dst")"
		check "$c ping $dst" ping_ok "$c" "$dst" 3
	done
done

# ------------------------------------------------------------ TCP transfer
head -c $((4 << 20)) /dev/urandom >"$TMPD/data" || bail "test data"
check "TCP 4 MiB up and down, v4, c1 <-> s1, sha256 equal" tcp_transfer c1 "$IPS4" 5001 s1 "$TMPD/data"
check "TCP 4 MiB up and down, v6, c2 <-> s3, sha256 equal" tcp_transfer c2 "$IPS6" 5001 s3 "$TMPD/data"

# ------------------------------------------------------------ UDP
check_eq "UDP echo v4 c1 (answered from IP_S)" "u4-c1-$SUFFIX" "$(udp_echo c1 "$IPS4" "u4-c1-$SUFFIX")"
check_eq "UDP echo v4 c2" "u4-c2-$SUFFIX" "$(udp_echo c2 "$IPS4" "u4-c2-$SUFFIX")"
check_eq "UDP echo v6 c1" "u6-c1-$SUFFIX" "$(udp_echo c1 "$IPS6" "u6-c1-$SUFFIX")"
check_eq "UDP echo v6 c2" "u6-c2-$SUFFIX" "$(udp_echo c2 "$IPS6" "u6-c2-$SUFFIX")"

# ------------------------------------------------------------ TLS
rev() { local s=$1 r="" i; for ((i = ${#s} - 1; i >= 0; i--)); do r+=${s:i:1}; done; echo "$r"; }
p4="mslb-tls-v4-$SUFFIX"
p6="mslb-tls-v6-$SUFFIX"
check_eq "TLS v4 c1 -> s1 (openssl s_server -rev)" "$(rev "$p4")" "$(tls_echo c1 "$IPS4" "$p4")"
check_eq "TLS v6 c1 -> s1 (openssl s_server -rev)" "$(rev "$p6")" "$(tls_echo c1 "$IPS6" "$p6")"

# ------------------------------------------------------------ unmatched = hash
# shellcheck disable=SC2317 # called through check
one_server() { # one_server NAME...: all the same, one of s1..s3, five of them
	local n
	[ $# -eq 5 ] || return 1
	for n in "$@"; do
		[ "$n" = "$1" ] || return 1
	done
	[[ $1 =~ ^s[123]$ ]]
}
status_json f >"$TMPD/snap-f-before.json"
for c in 1 2; do
	for src in "${C4_OUT[$c]}" "${C6_OUT[$c]}"; do
		case $src in *:*) dst=$IPS6 ;; *) dst=$IPS4 ;; esac
		names=""
		for _ in 1 2 3 4 5; do
			names="$names $(fetch_name "c$c" "$dst" "$src")"
		done
		# shellcheck disable=SC2086
		check "unmatched source $src: 5 connections, one server ($names )" one_server $names
		check "unmatched source $src: ping" ping_ok "c$c" "$dst" 3 "$src"
	done
done
status_json f >"$TMPD/snap-f-after.json"
check "front: unmatched_hits increased" test "$(delta f '.front.unmatched_hits')" -gt 0

# ------------------------------------------------------------ AF_PACKET path
if [ "${MSLB_IO:-tun}" = af_packet ]; then
	js=$(status_json f)
	check "front: af_packet devices received packets" \
		test "$(jq '[.devices[] | select(.kind == "af_packet") | .rx_packets] | add' <<<"$js")" -gt 0
	check "front: af_packet devices sent packets" \
		test "$(jq '[.devices[] | select(.kind == "af_packet") | .tx_packets] | add' <<<"$js")" -gt 0
	check "front: next-hop cache resolved entries" test "$(jq '.next_hop_cache.resolved' <<<"$js")" -gt 0
	diag "front: $(jq -c '[.devices[] | select(.kind == "af_packet") | {name, rx_packets, tx_packets, rx_drops}]' <<<"$js")"
	diag "front: next_hop_cache $(jq -c '.next_hop_cache' <<<"$js")"
	check_match "front: blackhole rules for the services" "to $IPS4 iif c1 blackhole" \
		"$(nsx f ip -4 rule show pref $((RT_PRIO + 2)))"
	check "b1: af_packet devices sent packets" \
		test "$(jget b1 '[.devices[] | select(.kind == "af_packet") | .tx_packets] | add')" -gt 0
	# A neighbour the kernel holds STALE is not confirmed by the daemon's
	# own frames: after a refresh sees it STALE, one packet goes by the
	# TUN, the kernel probes, and the neighbour is confirmed.
	probes0=$(jget f '.next_hop_cache.probes')
	mac=$(nsx f ip -j neigh show "${B4[1]}" dev b1 | jq -r '.[0].lladdr')
	nsx f ip neigh change "${B4[1]}" dev b1 lladdr "$mac" nud stale
	check_match "front: neighbour b1 made STALE" "STALE" "$(nsx f ip neigh show "${B4[1]}" dev b1)"
	# Wait for the cache's refresh (a 1 s tick) to go round every entry
	# since the change: then it has read the STALE state.
	refreshed=$(jget f '.next_hop_cache.refreshes + .next_hop_cache.entries')
	wait_for 5 eval "[ \"\$(jget f .next_hop_cache.refreshes)\" -ge $refreshed ]" ||
		diag "front: the next-hop cache did not refresh every entry in 5 s"
	ping_ok c1 "$IPS4" 3 >/dev/null
	check "front: one packet sent by the TUN to have the STALE neighbour probed" \
		test "$(jget f '.next_hop_cache.probes')" -gt "$probes0"
	check "front: the kernel confirmed the neighbour (no longer STALE)" \
		wait_for 5 eval "! nsx f ip neigh show ${B4[1]} dev b1 | grep -q STALE"
	# The interface list cannot change on reload; a valid reload (same
	# list) re-attaches the filter and traffic still flows.
	conf=$(mslbd_conf f)
	cp "$conf" "$TMPD/f.conf.orig"
	sed -i 's/af_packet = \[ /af_packet = [ "lo", /' "$conf"
	out=$(mslbd_cli f reload -s "$(mslbd_sock f)" 2>&1)
	check_rc "front: reload with another io.af_packet list exits 2" 2 $? "$out"
	check_match "front: ... says io.af_packet cannot change" "^${conf//./\\.}:[0-9]+: io\.af_packet: cannot change on reload" "$out"
	cp "$TMPD/f.conf.orig" "$conf"
	out=$(mslbd_cli f reload -s "$(mslbd_sock f)" 2>&1)
	check_rc "front: reload with the same io.af_packet list exits 0" 0 $? "$out"
	check "c1 ping $IPS4 after the reload" ping_ok c1 "$IPS4" 3
	check "c1 ping $IPS6 after the reload" ping_ok c1 "$IPS6" 3
fi

# ------------------------------------------------------------ drops, exit
for n in f b1 b2 b3; do
	js=$(status_json "$n")
	check_eq "$n: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
	check_eq "$n: no TUN tx errors" 0 "$(jq -r '[.devices[].tx_errors] | add' <<<"$js")"
done
for n in f b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
	if [ "${MSLB_IO:-tun}" = af_packet ]; then
		check_eq "$n: no blackhole rule left" "" \
			"$({ nsx "$n" ip -4 rule show; nsx "$n" ip -6 rule show; } | grep blackhole)"
	fi
done

tap_done
