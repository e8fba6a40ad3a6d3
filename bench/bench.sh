#!/bin/bash
# shellcheck disable=SC2317 # the path_* functions are called by name
# bench/bench.sh [-t SECONDS] [-q] [-6] [-r ROWS]: forwarding cost of mslbd beside the
# kernel's own forwarding and two other translators, on one machine, in
# network namespaces, in one run.
#
# Topology (tests/netns/lib.sh): c1 -> f -> b1 -> s1, IP_S on s1's lo.
# Replies take plain routing (direct server return) except for TAYGA.
#   kernel forwarding   f and b1 route IP_S with plain kernel routes.
#   nftables stateless  f rewrites daddr IP_S -> IP_B1 and b1 IP_B1 -> IP_S
#                       (prerouting, priority raw, notrack, with a counter):
#                       what mslbd does, done by the kernel; f has no route
#                       to IP_S.
#   TAYGA (v4 -> v6)    TAYGA (userspace stateless NAT64 over TUN) on f maps
#                       IP_T 203.0.113.64 to the server's IPv6 IP_S; c1 sends
#                       IPv4 to IP_T, TAYGA writes IPv6 (client as
#                       2001:db8:64::/96), b1 forwards it, s1 receives IPv6.
#                       One userspace daemon where mslbd has two (front and
#                       back), but it also translates the replies (TCP ACKs)
#                       back to IPv4: one TUN read and write per packet in
#                       each direction. Only without -6.
#   mslbd TUN           front on f, back on b1, tun.offload = false;
#   mslbd TUN+offloads  the same with tun.offload = true; both read and
#                       write their TUNs through io_uring (the default);
#   TUN+offl., syscalls the same with tun.io_uring = false: one read() and
#                       one write() per packet;
#   TUN floor           bench/floor on f and b1 instead of mslbd:
#                       mslbd's own TUN I/O (offloads, batches of what is
#                       there) and its rewrite of the destination, with
#                       nothing else (no event loop, no tables), one read()
#                       and one write() per packet. What the TUN itself
#                       costs: no daemon on a TUN does less.
#   TUN floor, IFF_NAPI the same with the TUN made with IFF_NAPI (written
#                       packets go through NAPI and GRO);
#   TUN floor, io_uring the floor's reads and writes through io_uring, as
#                       mslbd's: each batch's reads in one system call,
#                       its writes in another.
#   mslbd encap+offloads the front in encapsulation mode (IP-in-IP to b1,
#                       which decapsulates), offloads on;
#   mslbd GUE+offloads  the same in UDP (encapsulation = "gue", port 6080):
#                       on Linux 6.17+ TCP super-packets leave whole as
#                       UDP-tunnel super-packets through the front's TAP
#                       and b1 reads them whole; before, cut in software
#                       into UDP super-packets (the run says which);
#   mslbd AF_PACKET     every veth of f and b1 in io.af_packet, when this
#                       build's `mslbd check` accepts that setting.
#   AF_PACKET encap     the same with the front encapsulating (IP-in-IP);
#   AF_PACKET GUE       and in GUE: what the kernel cannot segment (IP-in-IP,
#                       GUE segments) goes by the TUN.
#   AF_PACKET floor     bench/floor on f and b1 instead of mslbd, on
#                       mslbd's AF_PACKET I/O: the ring behind a filter for
#                       the one address, the rewrite, the TTL, sendmmsg to
#                       the next hop's MAC, and the same blackhole rules.
#                       What AF_PACKET itself costs (a copy into the ring
#                       and one out of it at each node, where forwarding
#                       makes none).
#   mslbd Proposal 2    the front with MPTCP Proposal 2 on iperf3's port
#                       (5201), the back b1 with back.proposal2 there: the
#                       server's replies come back through b1 (its gateway),
#                       whose TUN gives every TSval the bucket bits; the
#                       front routes the ACKs by TSecr. iperf3 speaks plain
#                       TCP, so this is the cost of the timestamp work on
#                       both paths, offloads on.
# Columns: UDP with 64-byte payloads as fast as iperf3 sends (-u -l 64 -b 0),
# 1 flow and 16 flows (-P 16: 16 source ports), counted as packets per
# second received on s1's interface; TCP Gbit/s received by iperf3, 1 and 4
# streams (-P 4); each with its ratio to kernel forwarding. Each run checks
# that the traffic took the intended path (forwarding, rule, TUN or daemon
# counters); a run that did not is printed as "-".
# Sender, receiver and forwarders share the machine's CPUs.
# Table on stdout, progress on stderr. Root only. -t: seconds per run (8),
# -q: 2-second runs; about 56 x (SECONDS + 0.5) + 25 s in all (8 min).
# -r: only these rows, by key, comma-separated (kernel forwarding always
# runs, for the ratios): nft tayga mslbd mslbdo mslbds floor floorn flooru
# mslbde mslbdg afp afpe afpg afloor mslbdp2.
# -p DIR: a system-wide profile (perf record -a -g) of each run into
# DIR/ROW.TEST.data, e.g. perf report -i DIR/mslbde.tcp4.data --sort
# comm,sym; the profiler's own load lowers the figures of that run.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
secs=8
fam=4
only=
profdir=
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=${2:?}; shift 2 ;;
	-q) secs=2; shift ;;
	-6) fam=6; shift ;;
	-r) only=",${2:?},"; shift 2 ;;
	-p) profdir=${2:?}; shift 2 ;;
	-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "usage: $0 [-t SECONDS] [-q] [-6] [-r ROWS] [-p DIR]" >&2; exit 2 ;;
	esac
done
case $secs in '' | *[!0-9]* | 0) echo "bench.sh: -t takes seconds (1-30)" >&2; exit 2 ;; esac
[ "$secs" -le 30 ] || { echo "bench.sh: -t at most 30" >&2; exit 2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "bench.sh: must run as root (network namespaces)" >&2
	exit 1
fi
export top_srcdir=$top
: "${MSLBD:=${BUILDDIR:-$top/_build}/src/mslbd}"
export MSLBD MSLB_LOG_LEVEL=warning

# shellcheck source=tests/netns/lib.sh
. "$top/tests/netns/lib.sh"
# The library prints TAP ("Bail out!") on stdout: keep stdout for the table.
exec 3>&1 1>&2
lib_init
require_netns tun
require_cmd ip jq iperf3 ss timeout nstat nft
require_mslbd
if [ -n "$profdir" ]; then
	require_cmd perf
	mkdir -p "$profdir" || bail "cannot make $profdir"
fi
# A copy, so that a rebuild during the run does not change or remove it.
cp "$MSLBD" "$TMPD/mslbd" || bail "cannot copy $MSLBD"
echo "bench: mslbd $MSLBD ($("$MSLBD" -V 2>/dev/null | head -n 1))" >&2
MSLBD=$TMPD/mslbd

dst=$IPS4
[ "$fam" = 6 ] && dst=$IPS6
IPT4=203.0.113.64		# TAYGA: IPv4 address mapped to IPv6 IP_S
TAYGA_ADDR4=198.51.100.241	# TAYGA's own IPv4 address (ICMP errors)
NAT64_PREFIX=2001:db8:64::/96	# TAYGA: clients' IPv4 addresses in IPv6
TESTS="udp1 udp16 tcp1 tcp4"
start_ms=$(now_ms)

# rx_counts: "packets bytes" received on s1's interface.
rx_counts() { ip -n "$(ns s1)" -j -s link show dev b | jq -r '.[0].stats64.rx | "\(.packets) \(.bytes)"'; }

# Path counters, one "NAME PACKETS BYTES" line per checkpoint on the
# intended path ("-" for BYTES where there is none); set by each mode.
path_kernel() {
	local c=IpForwDatagrams
	[ "$fam" = 6 ] && c=Ip6OutForwDatagrams
	echo "f:$c $(nstat_get f "$c") -"
}
nft_counter() { # nft_counter NODE: packets and bytes of the rewrite rules
	nsx "$1" nft -j list chain inet mslbbench pre |
		jq -r '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter] |
			"\(map(.packets) | add) \(map(.bytes) | add)"'
}
path_nft() { echo "f:nft-rule $(nft_counter f)"; echo "b1:nft-rule $(nft_counter b1)"; }
path_tayga() { # what TAYGA wrote into f's kernel (translated packets)
	echo "f:nat64-rx $(ip -n "$(ns f)" -j -s link show dev nat64 |
		jq -r '.[0].stats64.rx | "\(.packets) \(.bytes)"')"
}
path_mslbd() {
	local a=${IPB4[1]}
	[ "$fam" = 6 ] && a=${IPB6[1]}
	echo "f:front-b1 $(jget f ".front.next_hops[] | select(.name == \"b1\") | \"\(.packets) \(.bytes)\"")"
	echo "b1:back-$a $(jget b1 ".back.addresses[] | select(.address == \"$a\") | \"\(.packets) \(.bytes)\"")"
	echo "f+b1:drops $(($(jget f "$JQ_DROPS") + $(jget b1 "$JQ_DROPS"))) -"
}
path_mslbd_afp() { # the same, what the rings took, and what went by the TUN
	local n
	path_mslbd
	for n in f b1; do
		echo "$n:af_packet-rx $(jget "$n" '[.devices[] | select(.kind == "af_packet")] |
			"\(map(.rx_packets) | add // 0) \(map(.rx_bytes) | add // 0)"')"
		echo "$n:tun-rx $(jget "$n" '[.devices[] | select(.kind == "tun") | .rx_packets] | add // 0') -"
		echo "$n:tun-fallbacks $(jget "$n" '.next_hop_cache.tun_fallbacks // 0') -"
		echo "$n:ring-drops $(jget "$n" '[.devices[] | select(.kind == "af_packet") | .rx_drops] | add // 0') -"
	done
}

# path_check TEST BEFORE AFTER RXPKTS RXBYTES: every checkpoint carried what
# s1 received (UDP: packets, less a few for ARP/ND; TCP: bytes, less the
# Ethernet headers; packets at half where only packets are counted, since
# the kernel may count a GSO super-packet once); drops and TUN traffic
# (AF_PACKET) stay small; ring drops are only shown. Prints the counters;
# fails if one is short.
path_check() {
	local t=$1 before=$2 after=$3 rp=$4 rb=$5 name p0 b0 p1 b1 dp db ok=0 line=""
	while read -r name p0 b0 && read -r _ p1 b1 <&4; do
		dp=$((p1 - p0))
		db=-
		[ "$b0" != - ] && db=$((b1 - b0))
		line="$line $name=$dp"
		case $name in
		*:ring-drops) ;;	# reported, not a path check
		*:drops | *:tun-rx | *:tun-fallbacks)
			[ "$dp" -le $((rp / 100 + 20)) ] || { ok=1; line="$line(!)"; } ;;
		*)
			if [ "${t#udp}" != "$t" ]; then
				[ "$dp" -ge $((rp - rp / 100 - 20)) ] || { ok=1; line="$line(!)"; }
			elif [ "$db" != - ]; then
				line="$line/${db}B"
				# Within 10 %: a front that sees super-packets counts
				# their headers once, s1 once per segment (IPv6
				# encapsulation: about 6 % more).
				[ "$db" -ge $((rb - rb / 10)) ] || { ok=1; line="$line(!)"; }
			else
				[ "$dp" -ge $((rp / 2)) ] || { ok=1; line="$line(!)"; }
			fi ;;
		esac
	done <<<"$before" 4<<<"$after"
	echo "    path:$line; s1 received $rp packets, $rb bytes" >&2
	return "$ok"
}

# iperf_server BIND: one-off iperf3 server in s1.
iperf_server() {
	bg_start iperf-s s1 iperf3 -s -1 -B "$1" || return 1
	wait_for 10 listening s1 tcp 5201
}

# prof_start FILE / prof_stop: perf record -a -g around one iperf3 run.
# In the root namespace (-a sees every namespace's CPUs anyway); in BG_PID
# so that the cleanup stops it if the run is cut short.
prof_start() {
	perf record -q -a -g -o "$1" >"$TMPD/perf.log" 2>&1 </dev/null &
	BG_PID[perf]=$!
}
# Writing a few seconds of call graphs takes a while on a busy machine.
prof_stop() {
	bg_stop perf INT 60
	[ $? -eq 124 ] && echo "    perf record did not finish: $(head -c 300 "$TMPD/perf.log")" >&2
	return 0
}

# run_test KEY TEST PATHFN TARGET SERVER_BIND: one iperf3 run; sets RES[KEY.TEST].
declare -A RES=()
run_test() {
	local key=$1 t=$2 pathfn=$3 target=$4 bind=$5 opts js rc before after rx0 rx1 rp rb v=-
	case $t in
	udp1) opts="-u -l 64 -b 0" ;;
	udp16) opts="-u -l 64 -b 0 -P 16" ;;
	tcp1) opts="" ;;
	tcp4) opts="-P 4" ;;
	esac
	RES[$key.$t]=-
	iperf_server "$bind" || { echo "    $t: iperf3 server did not start" >&2; return 1; }
	if ! before=$($pathfn) || ! rx0=$(rx_counts); then
		echo "    $t: counters unreadable" >&2
		bg_wait iperf-s 1 >/dev/null
		return 1
	fi
	[ -n "$profdir" ] && prof_start "$profdir/$key.$t.data"
	# shellcheck disable=SC2086
	js=$(timeout $((secs + 20)) ip netns exec "$(ns c1)" iperf3 -c "$target" $opts \
		-t "$secs" -J 2>"$TMPD/iperf.err")
	rc=$?
	[ -n "$profdir" ] && prof_stop
	if [ "$rc" -eq 0 ]; then
		rx1=$(rx_counts)
		after=$($pathfn) || { echo "    $t: counters unreadable" >&2; return 1; }
		rp=$((${rx1% *} - ${rx0% *})) rb=$((${rx1#* } - ${rx0#* }))
		if [ "${t#udp}" != "$t" ]; then
			v=$((rp / secs))
			echo "  $t: iperf3 sent $(jq -r '.end.sum.packets // "?"' <<<"$js") packets," \
				"s1 received $rp in $secs s: $v pkt/s" >&2
		else
			v=$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$js" | awk '{ printf "%.2f", $1 }')
			echo "  $t: $v Gbit/s received, $(jq -r '.end.sum_sent.retransmits // "?"' <<<"$js")" \
				"retransmits" >&2
		fi
		if path_check "$t" "$before" "$after" "$rp" "$rb"; then
			RES[$key.$t]=$v
		else
			echo "    $t: traffic did not take the intended path; not counted" >&2
		fi
	else
		echo "  $t: iperf3 failed: $(jq -r '.error // empty' <<<"$js" 2>/dev/null)" \
			"$(head -c 300 "$TMPD/iperf.err")" >&2
	fi
	bg_wait iperf-s 10 >/dev/null
}

measure() { # measure KEY PATHFN [TARGET [SERVER_BIND]]
	local t
	# Neighbours resolved along the path before the first measured run.
	wait_for 10 nsx c1 ping -n -q -c 1 -W 1 "${3:-$dst}" ||
		echo "  no ping reply from ${3:-$dst} through the path" >&2
	for t in $TESTS; do
		run_test "$1" "$t" "$2" "${3:-$dst}" "${4:-$dst}"
	done
}

forwarding_on() { # forwarding_on NODE...: what mslbd would do in mslb mode
	local n
	for n in "$@"; do
		nsx "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	done
}

# ---------------------------------------------------------------- modes
declare -A NOTE=()
ROWS=""

row_kernel() {
	topo_create 1 1 kernel || return 1
	[ -z "$(nsx f nft list ruleset 2>/dev/null)" ] || echo "bench.sh: f has an nft ruleset" >&2
	measure kernel path_kernel
}

row_nft() {
	# mslb topology: f has no route to IP_S, so only the rewrite reaches s1.
	topo_create 1 1 mslb || return 1
	forwarding_on f b1 || return 1
	route_add b1 "$IPS4/32" via "${S4[1]}" || return 1
	nsx f nft -f - <<EOF || return 1
table inet mslbbench {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip daddr $IPS4 notrack counter ip daddr set ${IPB4[1]}
		ip6 daddr $IPS6 notrack counter ip6 daddr set ${IPB6[1]}
	}
}
EOF
	nsx b1 nft -f - <<EOF || return 1
table inet mslbbench {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		ip daddr ${IPB4[1]} notrack counter ip daddr set $IPS4
		ip6 daddr ${IPB6[1]} notrack counter ip6 daddr set $IPS6
	}
}
EOF
	measure nft path_nft
}

row_tayga() {
	local conf=$TMPD/tayga.conf
	if ! command -v tayga >/dev/null 2>&1; then
		NOTE[tayga]="tayga not installed (Debian: apt-get install tayga)"
		return 1
	fi
	topo_create 1 1 mslb || return 1
	forwarding_on f b1 || return 1
	cat >"$conf" <<EOF
tun-device nat64
ipv4-addr $TAYGA_ADDR4
prefix $NAT64_PREFIX
map $IPT4 $IPS6
EOF
	if ! { nsx f tayga -c "$conf" --mktun >"$TMPD/tayga-mktun.log" 2>&1 &&
		nsx f ip link set dev nat64 up &&
		route_add f "$IPT4/32" dev nat64 &&
		route_add f "$NAT64_PREFIX" dev nat64 &&
		route_add f "$IPS6/128" via "${B6[1]}"; }; then
		NOTE[tayga]="TUN device set-up failed: $(head -c 200 "$TMPD/tayga-mktun.log")"
		return 1
	fi
	bg_start tayga f tayga -c "$conf" --nodetach
	if ! wait_for 10 nsx c1 ping -n -q -c 1 -W 1 "$IPT4"; then
		NOTE[tayga]="no reply through TAYGA: $(head -c 200 "$TMPD/tayga.log")"
		return 1
	fi
	measure tayga path_tayga "$IPT4" "$IPS6"
	bg_stop tayga
}

path_floor() { # what the kernel handed each TUN floor (its TUN's tx)
	local n
	for n in f b1; do
		echo "$n:floor-tun $(ip -n "$(ns "$n")" -j -s link show dev mslbfl |
			jq -r '.[0].stats64.tx | "\(.packets) \(.bytes)"')"
	done
}

floor_bin() { # floor_bin KEY: bench/floor, built on demand
	FLOOR=${BUILDDIR:-$top/_build}/bench/floor
	[ -x "$FLOOR" ] || make -s -C "${BUILDDIR:-$top/_build}" bench/floor >&2 || {
		NOTE[$1]="bench/floor not built"
		return 1
	}
}

row_floor() { # row_floor KEY MODE
	local key=$1 mode=$2 from=$IPS4 to=${IPB4[1]} n
	[ "$fam" = 6 ] && from=$IPS6 to=${IPB6[1]}
	floor_bin "$key" || return 1
	topo_create 1 1 mslb || return 1
	forwarding_on f b1 || return 1
	route_add b1 "$IPS4/32" via "${S4[1]}" || return 1
	bg_start floor-f f "$FLOOR" "$mode" mslbfl "$from" "$to" || return 1
	bg_start floor-b1 b1 "$FLOOR" "$mode" mslbfl "$to" "$from" || return 1
	for n in f b1; do
		wait_for 5 nsx "$n" ip link show dev mslbfl >/dev/null 2>&1 || return 1
		nsx "$n" sysctl -qw net.ipv4.conf.mslbfl.rp_filter=0 || return 1
		ip -n "$(ns "$n")" link set dev mslbfl up || return 1
	done
	route_add f "$from" dev mslbfl || return 1
	route_add b1 "$to" dev mslbfl || return 1
	measure "$key" path_floor
	bg_stop floor-f
	bg_stop floor-b1
}

floor_sent() { # floor_sent KEY: the floor's own count of what it sent
	local log=$TMPD/$1.log lines
	lines=$(wc -l <"$log")
	kill -USR1 "${BG_PID[$1]}" 2>/dev/null || return 1
	wait_for 3 test "$(wc -l <"$log")" -gt "$lines" || return 1
	tail -n 1 "$log" | awk '$2 == "sent" { print $3, $4; ok = 1 } END { exit !ok }'
}

path_afloor() { # what each AF_PACKET floor sent out of its ring
	local n c
	for n in f b1; do
		c=$(floor_sent "afloor-$n") || return 1
		echo "$n:floor-afp $c"
	done
}

# mac_of NODE DEV: the MAC address of DEV in NODE's namespace.
mac_of() {
	ip -n "$(ns "$1")" -j link show dev "$2" | jq -r '.[0].address'
}

row_afloor() {
	local from=$IPS4 to=${IPB4[1]} fam_opt=""
	[ "$fam" = 6 ] && from=$IPS6 to=${IPB6[1]} fam_opt=-6
	floor_bin afloor || return 1
	topo_create 1 1 mslb || return 1
	forwarding_on f b1 || return 1
	# As mslbd's rules: the kernel drops what the ring took.
	ip -n "$(ns f)" $fam_opt rule add pref 100 to "$from" iif c1 blackhole || return 1
	ip -n "$(ns b1)" $fam_opt rule add pref 100 to "$to" iif f blackhole || return 1
	bg_start afloor-f f "$FLOOR" afp c1 b1 "$(mac_of b1 f)" "$from" "$to" || return 1
	bg_start afloor-b1 b1 "$FLOOR" afp f s "$(mac_of s1 b)" "$to" "$from" || return 1
	wait_for 5 grep -q 'up' "$TMPD/afloor-f.log" || return 1
	wait_for 5 grep -q 'up' "$TMPD/afloor-b1.log" || return 1
	measure afloor path_afloor
	bg_stop afloor-f
	bg_stop afloor-b1
}

mslbd_down() {
	local n
	for n in f b1; do
		[ -n "${MSLBD_PID[$n]:-}" ] || continue
		mslbd_stop "$n" || echo "bench.sh: mslbd on $n did not exit cleanly" >&2
	done
}

row_mslbd() { # row_mslbd KEY OFFLOAD [IO_URING]
	export MSLB_TUN_OFFLOAD=$2 MSLB_TUN_IO_URING=${3:-true}
	topo_create 1 1 mslb || return 1
	start_all_daemons hash || return 1
	echo "  TUN: f $(jget f '[.devices[] | select(.kind == "tun") | .offloads, .batching] | join(" ")')," \
		"b1 $(jget b1 '[.devices[] | select(.kind == "tun") | .offloads, .batching] | join(" ")')" >&2
	local want=syscalls
	[ "${3:-true}" = true ] && want=io_uring
	if [ "$(jget f '.devices[0].batching')" != "$want" ]; then
		NOTE[$1]="the front's TUN batching is not $want"
		mslbd_down
		return 1
	fi
	measure "$1" path_mslbd
	mslbd_down
	unset MSLB_TUN_IO_URING
}

# The front encapsulates (IP-in-IP, draft section 5.2), the back
# decapsulates; TCP super-packets are cut in software before encapsulation.
row_mslbd_encap() {
	export MSLB_TUN_OFFLOAD=true
	topo_create 1 1 mslb || return 1
	MSLB_FRONT_MODE=encapsulate front_conf "$(mslbd_conf f)" hash || return 1
	back_conf "$(mslbd_conf b1)" 1 || return 1
	mslbd_start f "$(mslbd_conf f)" || return 1
	mslbd_start b1 "$(mslbd_conf b1)" || return 1
	measure "$1" path_mslbd
	mslbd_down
}

# The same in UDP (GUE to port 6080): TCP super-packets whole inside GUE
# (UDP-tunnel offloads, Linux 6.17+), else cut into UDP super-packets.
row_mslbd_gue() {
	export MSLB_TUN_OFFLOAD=true
	topo_create 1 1 mslb || return 1
	MSLB_FRONT_MODE=encapsulate MSLB_FRONT_ENCAP=gue front_conf "$(mslbd_conf f)" hash || return 1
	back_conf "$(mslbd_conf b1)" 1 6080 || return 1

	mslbd_start f "$(mslbd_conf f)" || return 1
	mslbd_start b1 "$(mslbd_conf b1)" || return 1
	measure "$1" path_mslbd
	[ "$(jget f '[.front.next_hops[] | select(.encapsulation == "gue")] | length')" -gt 0 ] || RES[$1.tcp1]=-
	echo "  GUE super-packets: whole in a UDP tunnel $(jget f '[.front.next_hops[].udp_tunnel] | add'), cut into UDP ones $(jget f '[.front.next_hops[].uso] | add')" >&2
	mslbd_down
}

# MPTCP Proposal 2 on iperf3's port: the front routes by TSecr, the back
# rewrites every server TSval on the way back (the return path through b1).
row_mslbd_p2() {
	export MSLB_TUN_OFFLOAD=true
	topo_create 1 1 mslb || return 1
	front_conf "$(mslbd_conf f)" hash || return 1
	back_conf "$(mslbd_conf b1)" 1 || return 1
	sed -i 's/^  unmatched = .*/&\n  mptcp = { service_ports = [ 5201 ]; proposal = 2; };/' "$(mslbd_conf f)"
	sed -i '0,/^  );/s//  );\n  proposal2 = { service_ports = [ 5201 ]; };/' "$(mslbd_conf b1)"
	mslbd_start f "$(mslbd_conf f)" || return 1
	mslbd_start b1 "$(mslbd_conf b1)" || return 1
	measure "$1" path_mslbd
	# The replies took b1's TUN: their TSvals were rewritten.
	echo "  b1: TSval rewritten $(jget b1 '.back.proposal2.subflows.tsval'), front by TSecr" \
		"$(jget f '.front.mptcp.proposal2.by_tsecr_hash')" >&2
	[ "$(jget b1 '.back.proposal2.subflows.tsval')" -gt 0 ] || RES[$1.tcp1]=-
	mslbd_down
}

# row_afp KEY [ENCAP]: every veth of f and b1 on the AF_PACKET path; ENCAP
# (ip, gue): the front encapsulates.
row_afp() {
	local i key=$1 encap=${2:-}
	export MSLB_TUN_OFFLOAD=true
	topo_create 1 1 mslb || return 1
	if grep -q 'MSLB_IO' "$top/tests/netns/lib.sh"; then
		export MSLB_IO=af_packet	# the library writes io.af_packet itself
	fi
	MSLB_FRONT_MODE=${encap:+encapsulate} MSLB_FRONT_ENCAP=$([ "$encap" = gue ] && echo gue) \
		front_conf "$(mslbd_conf f)" hash || return 1
	back_conf "$(mslbd_conf b1)" 1 "$([ "$encap" = gue ] && echo 6080)" || return 1
	if [ -z "${MSLB_IO:-}" ]; then
		echo 'io = { af_packet = [ "c1", "b1" ]; };' >>"$(mslbd_conf f)"
		echo 'io = { af_packet = [ "f", "s" ]; };' >>"$(mslbd_conf b1)"
	fi
	# Supported if `mslbd check` accepts the configuration, and without
	# io.af_packet it would (else it is some other failure).
	for i in f b1; do
		grep -q 'af_packet' "$(mslbd_conf "$i")" ||
			{ echo "  $i.conf has no io.af_packet" >&2; return 1; }
		if ! mslbd_cli "$i" check -c "$(mslbd_conf "$i")" >"$TMPD/check-$i.out" 2>&1; then
			echo "  mslbd check on $i: $(head -n 3 "$TMPD/check-$i.out")" >&2
			grep -v '^io = ' "$(mslbd_conf "$i")" >"$TMPD/$i-noio.conf"
			mslbd_cli "$i" check -c "$TMPD/$i-noio.conf" >/dev/null 2>&1 || return 1
			NOTE[$key]="(not supported by this build)"
			return 2
		fi
	done
	mslbd_start f "$(mslbd_conf f)" || return 1
	mslbd_start b1 "$(mslbd_conf b1)" || return 1
	# Steady state: the daemons' next-hop caches resolved (refreshed once a
	# second), or the first run goes partly by the TUN.
	nsx c1 ping -n -q -c 1 -W 1 "$dst" >/dev/null 2>&1
	for i in f b1; do
		wait_for 5 jget "$i" '.next_hop_cache | select(.entries > 0 and .resolved == .entries)' ||
			echo "  $i: next-hop cache not resolved: $(status_json "$i" | jq -c '.next_hop_cache')" >&2
	done
	measure "$key" path_mslbd_afp
	if [ -n "$encap" ] && [ "$(jget f '[.front.next_hops[] | select(.mode == "encapsulate")] | length')" = 0 ]; then
		RES[$key.tcp1]=-
	fi
	mslbd_down
	unset MSLB_IO
}

# run_row KEY LABEL FN ARGS...
run_row() {
	local key=$1 label=$2 rc t f; shift 2
	[ -z "$only" ] || [ "$key" = kernel ] || [ "${only#*,"$key",}" != "$only" ] || return 0
	ROWS="$ROWS $key"
	LABEL[$key]=$label
	for t in $TESTS; do RES[$key.$t]=-; done
	echo "$label ..." >&2
	rm -f "$TMPD"/*.log
	"$@"; rc=$?
	if [ "$rc" -eq 1 ]; then
		echo "  $label: set-up failed${NOTE[$key]:+: ${NOTE[$key]}}" >&2
		for f in "$TMPD"/mslbd-*.log "$TMPD"/tayga*.log; do
			[ -e "$f" ] && diag_file "$f" 20 >&2
		done
	elif [ "$rc" -eq 2 ]; then
		echo "  $label: ${NOTE[$key]}" >&2
	fi
	topo_destroy
	return 0
}
declare -A LABEL=()

echo "bench: IPv$fam, $secs s per run, c1 -> f -> b1 -> s1; $(nproc) CPUs shared by sender," \
	"receiver and forwarders; kernel $(uname -r)" >&2

run_row kernel "kernel forwarding" row_kernel
run_row nft "nftables stateless" row_nft
if [ "$fam" = 4 ]; then
	run_row tayga "TAYGA (v4 -> v6)" row_tayga
else
	echo "TAYGA: IPv4 -> IPv6 only; not measured with -6" >&2
fi
run_row mslbd "mslbd TUN" row_mslbd mslbd false
run_row mslbdo "mslbd TUN+offloads" row_mslbd mslbdo true
run_row mslbds "TUN+offl., syscalls" row_mslbd mslbds true false
run_row floor "TUN floor" row_floor floor tun
run_row floorn "TUN floor, IFF_NAPI" row_floor floorn tun-napi
run_row flooru "TUN floor, io_uring" row_floor flooru tun-uring
run_row mslbde "mslbd encap+offloads" row_mslbd_encap mslbde
run_row mslbdg "mslbd GUE+offloads" row_mslbd_gue mslbdg
run_row afp "mslbd AF_PACKET" row_afp afp
run_row afpe "AF_PACKET encap" row_afp afpe ip
run_row afpg "AF_PACKET GUE" row_afp afpg gue
run_row afloor "AF_PACKET floor" row_afloor
run_row mslbdp2 "mslbd Proposal 2" row_mslbd_p2 mslbdp2

ratio() { # ratio VALUE BASE
	case "$1$2" in *-*) echo - ; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
fmt='%-20s %9s %6s %9s %6s  %9s %6s %9s %6s  %s\n'
{
	echo "# IPv$fam, $secs s per run, $(nproc) CPUs shared by sender, receiver and forwarders"
	printf '%-20s %-32s  %-32s\n' "" "UDP 64 B (pkt/s)" "TCP (Gbit/s)"
	# shellcheck disable=SC2059
	printf "$fmt" mode "1 flow" ratio "16 flows" ratio "1 stream" ratio "4 streams" ratio ""
	for k in $ROWS; do
		cells=()
		for t in $TESTS; do
			cells+=("${RES[$k.$t]}" "$(ratio "${RES[$k.$t]}" "${RES[kernel.$t]}")")
		done
		note=""
		case $k in afp*) note=${NOTE[$k]:-} ;; esac
		# shellcheck disable=SC2059
		printf "$fmt" "${LABEL[$k]}" "${cells[@]}" "$note"
	done
} | sed 's/ *$//' >&3
echo "bench: done in $((($(now_ms) - start_ms) / 1000)) s" >&2

# A failed run fails the benchmark (not TAYGA missing, not AF_PACKET unsupported).
for k in $ROWS; do
	case $k in afp*) [ -n "${NOTE[$k]:-}" ] && continue ;; esac
	[ "$k" = tayga ] && ! command -v tayga >/dev/null 2>&1 && continue
	for t in $TESTS; do
		[ "${RES[$k.$t]}" = - ] && exit 1
	done
done
exit 0
