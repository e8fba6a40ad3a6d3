#!/bin/bash
# scripts/demo.sh [--no-build]: mslbd in address translation mode, then in
# encapsulation mode (draft-matsuhira-mslb-17 sections 5.1, 5.2), then with
# health checks and a drain, live, in network namespaces.
#
# Installs what is missing and builds (unless --no-build), then builds two
# clients, one front (MSLB-F), three backs (MSLB-B) and their servers, starts
# the daemons, sends real traffic, shows `mslbd status` of every daemon and
# tears it all down. Exit 0 only if every traffic check passed.
# Root only. Nothing leaves the namespaces it creates.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=1
case ${1:-} in
--no-build) build=0 ;;
"") ;;
-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: must run as root (network namespaces)" >&2
	exit 1
fi
if [ "$build" = 1 ]; then
	"$top/scripts/deps.sh" || exit 1
	"$top/scripts/build.sh" || exit 1
fi
export top_srcdir=$top
: "${MSLBD:=${BUILDDIR:-$top/_build}/src/mslbd}"
export MSLBD
MSLB_LOG_LEVEL=${MSLB_LOG_LEVEL:-info}

# shellcheck source=tests/netns/lib.sh
. "$top/tests/netns/lib.sh"
lib_init
require_netns tun
require_cmd ip jq socat ping ss sha256sum timeout
require_mslbd

say() { printf '\n=== %s\n' "$*"; }

say "Topology (namespaces *-$SUFFIX)"
printf '  c1 %-12s %-16s --+         +-- b1  IP_B %-14s %-15s -- s1\n' \
	"${C4[1]}" "${C6[1]}" "${IPB4[1]}" "${IPB6[1]}"
printf '  %-34s +-- f ----+-- b2  IP_B %-14s %-15s -- s2\n' "" "${IPB4[2]}" "${IPB6[2]}"
printf '  c2 %-12s %-16s --+         +-- b3  IP_B %-14s %-15s -- s3\n' \
	"${C4[2]}" "${C6[2]}" "${IPB4[3]}" "${IPB6[3]}"
cat <<EOF
  Service address IP_S: $IPS4 and $IPS6, on every server's lo, not on f.
  MSLB table on f: ${C4_TBL[1]} -> b1, ${C4_TBL[2]} -> b2,
                   ${C6_TBL[1]} -> b1, ${C6_TBL[2]} -> b3; unmatched = "hash".
EOF
topo_create 2 3 mslb || bail "building the topology"

say "Starting mslbd on f, b1, b2, b3"
start_all_daemons hash || bail "starting mslbd"
for i in 1 2 3; do
	srv_start_names "$i" || bail "name service on s$i"
done
echo "each server answers its name on TCP port 80 of IP_S"

say "Which server answers each client"
declare -A want=([c1-4]=s1 [c1-6]=s1 [c2-4]=s2 [c2-6]=s3)
for c in c1 c2; do
	for dst in "$IPS4" "$IPS6"; do
		check_eq "$c -> $dst is served by ${want[$c-$(fam "$dst")]}" \
			"${want[$c-$(fam "$dst")]}" "$(fetch_name "$c" "$dst")"
	done
done
got=$(fetch_name c1 "$IPS4" "${C4_OUT[1]}")
check "c1 from ${C4_OUT[1]} (no table entry: hashed) is served by '$got'" test -n "$got"

say "Ping"
for c in c1 c2; do
	for dst in "$IPS4" "$IPS6"; do
		check "$c ping $dst" ping_ok "$c" "$dst" 5
	done
done

say "TCP transfer, 4 MiB each way"
head -c $((4 << 20)) /dev/urandom >"$TMPD/data" || bail "test data"
t0=$(now_ms)
check "c1 <-> s1 over IPv4, sha256 equal" tcp_transfer c1 "$IPS4" 5001 s1 "$TMPD/data"
check "c2 <-> s3 over IPv6, sha256 equal" tcp_transfer c2 "$IPS6" 5001 s3 "$TMPD/data"
echo "(16 MiB moved in $(($(now_ms) - t0)) ms)"

say "Encapsulation mode (draft section 5.2): f reloads with mode = \"encapsulate\""
MSLB_FRONT_MODE=encapsulate front_conf "$(mslbd_conf f)" hash || bail "front config"
check "f reloads in encapsulation mode" mslbd_cli f reload -s "$(mslbd_sock f)"
echo "f now sends each client packet unchanged inside an outer header from IP_S to IP_B;"
echo "the backs take it off (they accept tunnels from IP_S) and deliver the packet as it came"
for c in c1 c2; do
	for dst in "$IPS4" "$IPS6"; do
		check_eq "$c -> $dst is still served by ${want[$c-$(fam "$dst")]}" \
			"${want[$c-$(fam "$dst")]}" "$(fetch_name "$c" "$dst")"
	done
done
check "c1 <-> s1 over IPv4 through the tunnel, sha256 equal" tcp_transfer c1 "$IPS4" 5002 s1 "$TMPD/data"
check "f encapsulated, b1 decapsulated" \
	test "$(jget f '.front.next_hops[0].encapsulated')" -gt 0 -a "$(jget b1 '.back.decapsulated')" -gt 0

say "Health checks: f probes each next hop through its back (TCP port 80 of IP_S)"
MSLB_FRONT_MODE=encapsulate MSLB_FRONT_HEALTH='kind = "tcp"; port = 80;' front_conf "$(mslbd_conf f)" hash ||
	bail "front config"
check "f reloads with health checks" mslbd_cli f reload -s "$(mslbd_sock f)"
# shellcheck disable=SC2317 # called through check and wait_for
nh_state() { [ "$(jget f ".front.next_hops[] | select(.name == \"$1\") | .state")" = "$2" ]; }
# shellcheck disable=SC2317
all_probed() {
	nh_state b1 up && nh_state b2 up && nh_state b3 up &&
		[ "$(jget f "[.front.next_hops[].check.probes] | min")" -ge 2 ]
}
check "b1, b2, b3 answer their probes" wait_for 10 all_probed
echo "s2 stops its name service: b2 goes down, and c2's IPv4 clients (table entry -> b2) are hashed"
t0=$(now_ms)
bg_stop name4-s2
bg_stop name6-s2
WAIT_STEP=0.05 check "b2 is down" wait_for 10 nh_state b2 down
echo "(detected in $(($(now_ms) - t0)) ms; defaults: interval 1 s, timeout 0.5 s, fall 2)"
got=$(fetch_name c2 "$IPS4")
check "c2 -> $IPS4 is now served by '$got' (s1 or s3)" test "$got" = s1 -o "$got" = s3
srv_start_names 2 || bail "name service on s2"
check "b2 is up again (rise 2)" wait_for 10 nh_state b2 up
check_eq "c2 -> $IPS4 is served by s2 again" s2 "$(fetch_name c2 "$IPS4")"
check "mslbd drain b1" mslbd_cli f drain b1 -s "$(mslbd_sock f)"
got=$(fetch_name c1 "$IPS4")
check "b1 drained: c1 -> $IPS4 is served by '$got' (s2 or s3)" test "$got" = s2 -o "$got" = s3
check "mslbd undrain b1" mslbd_cli f undrain b1 -s "$(mslbd_sock f)"
check_eq "c1 -> $IPS4 is served by s1 again" s1 "$(fetch_name c1 "$IPS4")"

for n in f b1 b2 b3; do
	say "mslbd status on $n"
	mslbd_cli "$n" status -s "$(mslbd_sock "$n")" || tap_fail "mslbd status on $n"
done

say "Stopping the daemons"
for n in f b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

say "Result"
if [ "$TAP_FAILED" -eq 0 ]; then
	echo "demo passed: $TAP_N checks"
	exit 0
fi
echo "demo FAILED: $TAP_FAILED of $TAP_N checks"
_dump_logs
exit 1
