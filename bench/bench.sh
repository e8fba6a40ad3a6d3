#!/bin/bash
# bench/bench.sh [-t SECONDS] [-6]: forwarding cost of mslbd against the
# kernel's own forwarding, on one machine, in network namespaces.
#
# Topology (tests/netns/lib.sh): c1 -> f -> b1 -> s1, IP_S on s1's lo.
#   kernel forwarding: f and b1 route IP_S with plain kernel routes;
#   mslbd TUN:         f runs a front, b1 a back (address translation),
#                      with tun.offload = false and then true.
# For each: UDP with 64-byte payloads sent as fast as iperf3 can
# (-u -l 64 -b 0), counted as packets per second received on s1's
# interface; and one TCP stream (iperf3), Gbit/s received. Replies take
# plain routing (direct server return). Prints a table with the ratio to
# kernel forwarding. Root only; about 6 x SECONDS + 20 s (SECONDS: 5).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
secs=5
fam=4
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=${2:?}; shift 2 ;;
	-6) fam=6; shift ;;
	-h | --help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-t SECONDS] [-6]" >&2; exit 2 ;;
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
lib_init
require_netns tun
require_cmd ip jq iperf3 ss timeout
require_mslbd

dst=$IPS4
[ "$fam" = 6 ] && dst=$IPS6

rx_packets() { ip -n "$(ns s1)" -j -s link show dev b | jq -r '.[0].stats64.rx.packets'; }

# iperf_server: one-off iperf3 server on IP_S in s1.
iperf_server() {
	bg_start iperf-s s1 iperf3 -s -1 -B "$dst" || return 1
	wait_for 10 listening s1 tcp 5201
}

# measure LABEL: sets PPS and GBIT ("-" for a failed run).
measure() {
	local label=$1 before after js
	PPS=- GBIT=-
	if iperf_server; then
		before=$(rx_packets)
		if js=$(timeout $((secs + 20)) ip netns exec "$(ns c1)" iperf3 -c "$dst" -u -l 64 -b 0 \
			-t "$secs" -J 2>"$TMPD/iperf-udp.err"); then
			after=$(rx_packets)
			PPS=$(((after - before) / secs))
			echo "  $label: UDP sent $(jq -r '.end.sum.packets // .end.sum_sent.packets // "?"' <<<"$js") packets," \
				"s1 received $((after - before)) in ${secs} s" >&2
		else
			echo "  $label: UDP run failed: $(head -c 300 "$TMPD/iperf-udp.err")" >&2
		fi
		bg_wait iperf-s 10 >/dev/null
	fi
	if iperf_server; then
		if js=$(timeout $((secs + 20)) ip netns exec "$(ns c1)" iperf3 -c "$dst" -t "$secs" -J \
			2>"$TMPD/iperf-tcp.err"); then
			GBIT=$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$js" | awk '{ printf "%.2f", $1 }')
		else
			echo "  $label: TCP run failed: $(head -c 300 "$TMPD/iperf-tcp.err")" >&2
		fi
		bg_wait iperf-s 10 >/dev/null
	fi
}

echo "bench: IPv$fam, $secs s per run, c1 -> f -> b1 -> s1 ($(nproc) CPUs, kernel $(uname -r))" >&2

echo "kernel forwarding ..." >&2
topo_create 1 1 kernel || bail "topology (kernel)"
measure kernel
k_pps=$PPS k_gbit=$GBIT
topo_destroy

# run_mslbd OFFLOAD: front+back with tun.offload = OFFLOAD; sets PPS, GBIT.
run_mslbd() {
	export MSLB_TUN_OFFLOAD=$1
	topo_create 1 1 mslb || bail "topology (mslbd)"
	start_all_daemons hash || bail "starting mslbd"
	measure "mslbd offload=$1"
	for n in f b1; do
		mslbd_stop "$n" || echo "bench.sh: mslbd on $n did not exit cleanly" >&2
	done
	topo_destroy
}

echo "mslbd TUN, offloads off ..." >&2
run_mslbd false
m_pps=$PPS m_gbit=$GBIT
echo "mslbd TUN, offloads on ..." >&2
run_mslbd true
o_pps=$PPS o_gbit=$GBIT

ratio() { # ratio VALUE BASE
	case "$1$2" in *-*) echo - ; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
echo
printf '%-20s %18s %7s %14s %7s\n' "mode" "UDP 64 B (pkt/s)" "ratio" "TCP (Gbit/s)" "ratio"
printf '%-20s %18s %7s %14s %7s\n' "kernel forwarding" "$k_pps" "$(ratio "$k_pps" "$k_pps")" \
	"$k_gbit" "$(ratio "$k_gbit" "$k_gbit")"
printf '%-20s %18s %7s %14s %7s\n' "mslbd TUN" "$m_pps" "$(ratio "$m_pps" "$k_pps")" \
	"$m_gbit" "$(ratio "$m_gbit" "$k_gbit")"
printf '%-20s %18s %7s %14s %7s\n' "mslbd TUN+offloads" "$o_pps" "$(ratio "$o_pps" "$k_pps")" \
	"$o_gbit" "$(ratio "$o_gbit" "$k_gbit")"

case "$k_pps$k_gbit$m_pps$m_gbit$o_pps$o_gbit" in *-*) exit 1 ;; esac
exit 0
