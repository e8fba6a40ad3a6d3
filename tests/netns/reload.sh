#!/bin/bash
# tests/netns/reload.sh: reload while traffic flows.
#
# c1 pings IP_S (v4 and v6, every 10 ms) through the whole test. Meanwhile
# the front's file is changed and reloaded four times:
#   1. `mslbd reload -s SOCK`, valid: c1's prefixes move from b1 to b2;
#   2. `mslbd reload -c FILE`, invalid: refused with FILE:LINE, exit 2, the
#      old table keeps forwarding;
#   3. SIGHUP, invalid: refused, the daemon logs FILE:LINE on stderr, the
#      old table keeps forwarding;
#   4. SIGHUP, valid: c1's prefixes move to b3.
# Each time the name service tells which server c1 reaches, and the status
# counters `reloads` / `reload_failures` follow. No ping may be lost.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat ping ss timeout
require_mslbd

topo_create 2 3 mslb || bail "topology"
start_all_daemons hash || bail "starting mslbd"
for i in 1 2 3; do
	srv_start_names "$i" || bail "name service on s$i"
done
conf=$(mslbd_conf f)
sock=$(mslbd_sock f)

# table_with NEXTHOP: c1's prefixes to NEXTHOP, c2's as by default.
write_front() { # write_front FILE NEXTHOP_FOR_C1
	front_conf "$1" hash "${C4_TBL[1]}=$2" "${C4_TBL[2]}=b2" "${C6_TBL[1]}=$2" "${C6_TBL[2]}=b3"
}
# install FILE: replace the daemon's file in one step.
install_conf() { mv -f "$1" "$conf"; }
# invalid_front [-4] FILE NEXTHOP: like write_front FILE b3, but c1's IPv6
# prefix (with -4: its IPv4 one) goes to the unknown NEXTHOP; prints the
# number of that line.
invalid_front() {
	local src=${C6_TBL[1]}
	[ "$1" = -4 ] && { src=${C4_TBL[1]}; shift; }
	write_front "$1" b3 || return 1
	sed -i "s|{ source = \"$src\"; next_hop = \"b3\"; }|{ source = \"$src\"; next_hop = \"$2\"; }|" "$1"
	grep -n "\"$2\"" "$1" | cut -d: -f1
}
flog=$TMPD/mslbd-f.log	# the front's stderr
log_since() { tail -c +$(($1 + 1)) "$flog"; } # log_since BYTES: what f logged after BYTES
c1_served_by() { # c1_served_by NAME: both families
	check_eq "c1 -> $IPS4 is served by $1" "$1" "$(fetch_name c1 "$IPS4")"
	check_eq "c1 -> $IPS6 is served by $1" "$1" "$(fetch_name c1 "$IPS6")"
	check_eq "c2 -> $IPS4 is still served by s2" s2 "$(fetch_name c2 "$IPS4")"
}
table_says() { # table_says NEXTHOP
	check_eq "status: ${C4_TBL[1]} -> $1" "$1" \
		"$(jget f ".front.table[] | select(.source == \"${C4_TBL[1]}\") | .next_hop")"
}
counters_are() { # counters_are RELOADS FAILURES
	check_eq "status: reloads = $1, reload_failures = $2" "$1 $2" \
		"$(jget f '"\(.reloads) \(.reload_failures)"')"
}
# shellcheck disable=SC2317 # called through check
nh_grows() { # nh_grows NAME: the next hop's packet counter is moving
	local a
	a=$(jget f "$(jq_nh_packets "$1")") || return 1
	wait_for 5 eval "[ \"\$(jget f '$(jq_nh_packets "$1")')\" -ge $((a + 20)) ]"
}

c1_served_by s1
counters_are 0 0

# Traffic through all reloads: 1500 pings, 10 ms apart, per family.
bg_start ping4 c1 ping -4 -n -q -i 0.01 -c 1500 -W 2 -w 60 "$IPS4"
bg_start ping6 c1 ping -6 -n -q -i 0.01 -c 1500 -W 2 -w 60 "$IPS6"
check "pings flow through b1" nh_grows b1

# 1. valid, by `mslbd reload -s`
write_front "$TMPD/new.conf" b2 && install_conf "$TMPD/new.conf"
out=$(mslbd_cli f reload -s "$sock" 2>&1)
check_rc "reload -s with a valid file exits 0" 0 $? "$out"
check_eq "reload prints 'reloaded'" reloaded "$out"
counters_are 1 0
table_says b2
c1_served_by s2
check "pings now flow through b2" nh_grows b2

# 2. invalid, by `mslbd reload -c`
line=$(invalid_front -4 "$TMPD/new.conf" b9)
[ -n "$line" ] || bail "test bug: no b9 line"
install_conf "$TMPD/new.conf"
out=$(mslbd_cli f reload -c "$conf" 2>&1)
check_rc "reload -c with an invalid file exits 2" 2 $? "$out"
check_match "the refusal names $conf:$line" "^${conf//./\\.}:$line: " "$out"
counters_are 1 1
table_says b2
c1_served_by s2
check "pings still flow through b2" nh_grows b2
check "the daemon is still running" _alive "${MSLBD_PID[f]}"

# 3. invalid, by SIGHUP: nobody to answer, so the refusal goes to the log
line=$(invalid_front "$TMPD/new.conf" b7)
[ -n "$line" ] || bail "test bug: no b7 line"
install_conf "$TMPD/new.conf"
off=$(stat -c %s "$flog") || bail "no log $flog"
kill -HUP "${MSLBD_PID[f]}"
check "SIGHUP with an invalid file: reload_failures becomes 2" \
	wait_for 10 eval "[ \"\$(jget f .reload_failures)\" = 2 ]"
counters_are 1 2
wait_for 5 eval "log_since $off | grep -q 'refused'"
check_match "the log names $conf:$line" \
	"^mslbd: error: ${conf//./\\.}:$line: front\.table\[[0-9]+\]\.next_hop: \"b7\" is not a next hop" \
	"$(log_since "$off")"
check_match "the log says the running configuration stays" \
	"^mslbd: error: reload of ${conf//./\\.} refused; the running configuration stays\$" \
	"$(log_since "$off")"
table_says b2
c1_served_by s2
check "pings still flow through b2" nh_grows b2
check "the daemon is still running" _alive "${MSLBD_PID[f]}"

# 4. valid, by SIGHUP
write_front "$TMPD/new.conf" b3 && install_conf "$TMPD/new.conf"
off=$(stat -c %s "$flog") || bail "no log $flog"
kill -HUP "${MSLBD_PID[f]}"
check "SIGHUP: reloads becomes 2" wait_for 10 eval "[ \"\$(jget f .reloads)\" = 2 ]"
counters_are 2 2
case ${MSLB_LOG_LEVEL:-debug} in
debug | info)
	wait_for 5 eval "log_since $off | grep -q 'reloaded'"
	check_match "the log says reloaded" "^mslbd: info: reloaded ${conf//./\\.}\$" "$(log_since "$off")"
	;;
esac
table_says b3
c1_served_by s3
check "pings now flow through b3" nh_grows b3

# The reloads must have happened while the pings were running.
check "v4 pings still running after the last reload" _alive "${BG_PID[ping4]}"
check "v6 pings still running after the last reload" _alive "${BG_PID[ping6]}"
for p in ping4 ping6; do
	bg_wait "$p" 70
	rc=$?
	summary=$(grep -E 'packets transmitted' "$TMPD/$p.log")
	check_rc "$p: ping exits 0" 0 "$rc" "$(cat "$TMPD/$p.log")"
	check_match "$p: 1500 sent, 0% packet loss across the reloads" \
		'^1500 packets transmitted, 1500 received, 0% packet loss' "$summary"
done

for n in f b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
