#!/bin/bash
# tests/netns/tun-batching.sh: tun.io_uring, the TUN's reads and writes by
# batch. One client, one front, one back with its server (c1 -> f -> b1 ->
# s1), IPv4 and IPv6.
#   1. By default each daemon reads and writes its TUN through io_uring
#      (status: batching "io_uring"); bursts of small UDP datagrams from
#      iperf3 cross both TUNs, none lost, none out of order, none changed,
#      and every TUN read has its write.
#   2. A reload that turns tun.io_uring off is refused with file:line; the
#      running daemon keeps its ring.
#   3. With io_uring refused by the kernel (kernel.io_uring_disabled = 2,
#      put back on exit) the front still starts, says so in its log with
#      the setting's line and the kernel's reason, shows batching
#      "syscalls" with that reason, and forwards as before.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq iperf3 timeout sysctl
require_mslbd

IOU_SYSCTL=/proc/sys/kernel/io_uring_disabled
IOU_WAS=""
restore_io_uring() { [ -n "$IOU_WAS" ] && echo "$IOU_WAS" >"$IOU_SYSCTL"; IOU_WAS=""; }
trap 'restore_io_uring; cleanup' EXIT

topo_create 1 1 mslb || bail "topology"
# A flow on one CPU per veth: order is then mslbd's to keep.
rps_by_flow c1 f b1 s1 || bail "RPS on the veths"
start_all_daemons hash || bail "starting mslbd"

# tun_counts NODE: "rx tx rx_errors tx_errors" of the daemon's TUN.
tun_counts() {
	jget "$1" '.devices[0] | "\(.rx_packets) \(.tx_packets) \(.rx_errors) \(.tx_errors)"'
}

# burst DST LABEL: 3 s of 64-byte datagrams at 8 Mbit/s (about 16000
# packets a second, in bursts: iperf3 paces by the millisecond) from c1 to
# the server; every one arrives, in order, and each TUN on the way read and
# wrote them all.
burst() {
	local dst=$1 label=$2 js f0 f1 b0 b1 n lost ooo rf tf rb tb
	bg_start iperf-s s1 iperf3 -s -1 -B "$dst" || { check "$label: iperf3 server" false; return; }
	wait_for 10 listening s1 tcp 5201
	f0=$(tun_counts f) b0=$(tun_counts b1)
	js=$(timeout 30 ip netns exec "$(ns c1)" iperf3 -c "$dst" -u -l 64 -b 8M -t 3 -J 2>&1)
	check_rc "$label: iperf3 exits 0" 0 $? "$(head -c 300 <<<"$js")"
	bg_wait iperf-s 10 >/dev/null
	f1=$(tun_counts f) b1=$(tun_counts b1)
	read -r n lost ooo < <(jq -r '.end.sum | "\(.packets) \(.lost_packets) \(.out_of_order // 0)"' <<<"$js")
	diag "$label: iperf3 sent $n, lost $lost, out of order $ooo; TUN f $f0 -> $f1, b1 $b0 -> $b1"
	check "$label: more than 10000 datagrams sent" test "${n:-0}" -gt 10000
	check_eq "$label: none lost, none out of order" "0 0" "$lost $ooo"
	read -r rf tf _ <<<"$f1"
	read -r rb tb _ <<<"$b1"
	rf=$((rf - ${f0%% *})) rb=$((rb - ${b0%% *}))
	tf=$((tf - $(cut -d' ' -f2 <<<"$f0"))) tb=$((tb - $(cut -d' ' -f2 <<<"$b0")))
	check "$label: the front's TUN read every datagram ($rf >= $n)" test "$rf" -ge "${n:-1}"
	check "$label: the back's TUN read every datagram ($rb >= $n)" test "$rb" -ge "${n:-1}"
	check_eq "$label: each TUN wrote what it read (front, back)" "$rf $rb" "$tf $tb"
	check_eq "$label: no TUN read or write failed" "0 0 0 0" \
		"$(cut -d' ' -f3,4 <<<"$f1") $(cut -d' ' -f3,4 <<<"$b1")"
}

# ------------------------------------------------------------ 1. io_uring
for n in f b1; do
	check_eq "$n: TUN batching io_uring" "io_uring null" \
		"$(jget "$n" '.devices[0] | "\(.batching) \(.io_uring_refused)"')"
done
burst "$IPS4" "v4 io_uring"
burst "$IPS6" "v6 io_uring"
for n in f b1; do
	check_eq "$n: every drop counter is 0" 0 "$(jget "$n" "$JQ_DROPS")"
done

# ------------------------------------------------------------ 2. reload
conf=$(mslbd_conf f)
cp "$conf" "$TMPD/f.conf.orig" || bail "copy config"
sed -i 's/io_uring = true;/io_uring = false;/' "$conf" || bail "edit config"
line=$(grep -n 'io_uring = false' "$conf" | cut -d: -f1)
out=$(mslbd_cli f reload -s "$(mslbd_sock f)" 2>&1)
check_rc "reload turning tun.io_uring off exits 2" 2 $? "$out"
check_match "the refusal names $conf:$line and the running value" \
	"$conf:$line: tun.io_uring: cannot change on reload \\(allowed: true; restart mslbd to change it\\)" "$out"
check_eq "f: still io_uring after the refused reload" io_uring "$(jget f '.devices[0].batching')"
cp "$TMPD/f.conf.orig" "$conf" || bail "restore config"

# ------------------------------------------------------------ 3. refused
if [ ! -w "$IOU_SYSCTL" ]; then
	tap_skip "io_uring refused by the kernel" "no $IOU_SYSCTL (Linux < 6.6)"
else
	mslbd_stop f
	check_rc "f: mslbd exits 0 on SIGTERM" 0 $?
	IOU_WAS=$(cat "$IOU_SYSCTL")
	echo 2 >"$IOU_SYSCTL" || bail "kernel.io_uring_disabled = 2"
	: >"$TMPD/mslbd-f.log"
	mslbd_start f "$conf" || bail "mslbd on f without io_uring"
	line=$(grep -n 'io_uring = true' "$conf" | cut -d: -f1)
	check_match "f: the log names $conf:$line and the kernel's reason" \
		"tun.io_uring: the kernel refused io_uring \\(Operation not permitted\\); reading and writing $TUN packet by packet" \
		"$(grep "$conf:$line: " "$TMPD/mslbd-f.log")"
	check_eq "f: TUN batching syscalls, and why" "syscalls Operation not permitted" \
		"$(jget f '.devices[0] | "\(.batching) \(.io_uring_refused)"')"
	check_eq "b1: its ring, made before, still in use" io_uring "$(jget b1 '.devices[0].batching')"
	burst "$IPS4" "v4 front without io_uring"
	restore_io_uring
fi

for n in f b1; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
