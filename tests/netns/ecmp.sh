#!/bin/bash
# tests/netns/ecmp.sh: two fronts behind a router that spreads flows over
# them by ECMP, each front announcing IP_S over BGP (BIRD 2) from
# routing.announce_table while it runs and has a usable next hop.
#
#   c1 -- r ==(LAN: bridge in ns sw)== f1, f2, b1, b2, b3;  bi -- si
#
# r learns IP_S from f1 and f2 and installs one ECMP route (BIRD, merge
# paths; fib_multipath_hash_policy 1). 40 long-lived TCP connections from
# c1 exchange lines with echo servers while: f1 is killed with SIGKILL (its
# TUN device and route vanish, BIRD withdraws), f1 comes back, f2 stops
# with SIGTERM, f2 comes back, f1's file drains every next hop (f1
# withdraws) and undrains them. The fronts have the same front group, so a
# client that the router moves reaches the same server: no connection may
# break. The withdrawal time after the SIGKILL is printed.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat ss timeout bird birdc
require_mslbd

# shellcheck source=tests/netns/ecmp_lib.sh
. "$MSLB_LIB_DIR/ecmp_lib.sh"
C=192.0.2.10
N=${MSLB_ECMP_CONNS:-40}

# ------------------------------------------------------------ topology
lan_create || bail "LAN"
ecmp_router || bail "router and fronts"
{ ns_add c1 && link_add r c1 c1 r && addr_add r c1 "$R_C/25" && addr_add c1 r "$C/25" &&
	route_add c1 default via "$R_C"; } || bail "c1 - r"
for i in 1 2 3; do
	back_on_lan "$i" || bail "b$i, s$i"
	bg_start "echo-s$i" "s$i" socat "TCP4-LISTEN:7,bind=$IPS4,reuseaddr,fork" EXEC:cat
	wait_for 10 listening "s$i" tcp 7 || bail "echo on s$i"
done

# ------------------------------------------------------------ daemons
# front_ecmp_conf NODE [STATE]: the fronts have the same front group (so
# the same table), a TCP check of the echo port, the services announced in
# table $ANNOUNCE; STATE the next hops' state.
front_ecmp_conf() {
	local st=${2:-up}
	{
		_conf_head "$1"
		cat <<EOF
routing = { table = $RT_TABLE; priority = $RT_PRIO; announce_table = $ANNOUNCE; };
front = {
  services = [ "$IPS4" ];
  health = { kind = "tcp"; port = 7; };
  next_hops = (
    { name = "b1"; ipv4 = "${IPB4[1]}"; state = "$st"; },
    { name = "b2"; ipv4 = "${IPB4[2]}"; state = "$st"; },
    { name = "b3"; ipv4 = "${IPB4[3]}"; state = "$st"; }
  );
  unmatched = "hash";
};
EOF
	} | grep -v '^routing = { table = [0-9]*; priority = [0-9]*; };$' >"$(mslbd_conf "$1")"
}
back_ecmp_conf() {
	{
		_conf_head "b$1"
		cat <<EOF
back = {
  addresses = ( { address = "${IPB4[$1]}"; service = "$IPS4"; deliver_via = "${S4[$1]}"; } );
};
EOF
	} >"$(mslbd_conf "b$1")"
}
for i in 1 2 3; do
	{ back_ecmp_conf "$i" && mslbd_start "b$i" "$(mslbd_conf "b$i")"; } || bail "b$i"
done

# BIRD: the shipped examples, with this test's control sockets.
birds_start || bail "BIRD"

for f in f1 f2; do
	{ front_ecmp_conf "$f" && mslbd_start "$f" "$(mslbd_conf "$f")"; } || bail "$f"
done

check "f1 announces $IPS4 in table $ANNOUNCE" wait_for 10 eval \
	"nsx f1 ip route show table $ANNOUNCE | grep -q '^$IPS4 dev $TUN'"
check "the router has one ECMP route over f1 and f2" wait_for 30 paths_are "$BOTH" ||
	diag "$(nsx r ip route; nsx r birdc -s "$TMPD/bird-r.ctl" show protocols 2>&1)"

# ------------------------------------------------------------ connections
bg_start conns c1 "$PYTHON" "$MSLB_LIB_DIR/conns.py" "$IPS4" 7 "$N" 40
T0=$(now_ms)
at() { diag "at $((($(now_ms) - T0) / 100)) ds: $*"; }
# How many packets arrive in a fixed time depends on how fast conns.py gets
# going on a loaded machine, so wait for a total, then ask for a share: with
# 40 connections hashed fairly, a front with under a tenth of the packets
# means the router is not spreading (Bin(40, 1/2) <= 3 is about 1e-8).
front_pkts() { jget "$1" '.front.next_hops | map(.packets) | add'; }
pkts_total_ge() { [ $(($(front_pkts f1) + $(front_pkts f2))) -ge "$1" ]; }
wait_for 30 pkts_total_ge 600
p1=$(front_pkts f1)
p2=$(front_pkts f2)
check "the router spreads the connections over both fronts (f1 $p1, f2 $p2 packets)" \
	test "$((p1 + p2))" -ge 600 -a "$((p1 * 10))" -ge "$((p1 + p2))" -a "$((p2 * 10))" -ge "$((p1 + p2))"

# f1 killed: the TUN device goes with the process, the route with it, and
# BIRD withdraws it.
t0=$(now_ms)
at "kill -KILL f1"
kill -KILL "${MSLBD_PID[f1]}"
wait "${MSLBD_PID[f1]}" 2>/dev/null
unset "MSLBD_PID[f1]"
WAIT_STEP=0.05 wait_for 10 paths_are "${F_LAN[2]}"
t1=$(now_ms)
check "f1 killed: withdrawn, the router sends everything to f2 ($((t1 - t0)) ms)" paths_are "${F_LAN[2]}"
diag "withdrawal after SIGKILL: $((t1 - t0)) ms"
sleep 3
at "f1 starts"
mslbd_start f1 "$(mslbd_conf f1)" || bail "f1 again"
check "f1 back: the router spreads over both again" wait_for 15 paths_are "$BOTH"
sleep 3
at "f2 stops"
mslbd_stop f2
check_rc "f2 stops with SIGTERM (exit 0)" 0 $?
check "f2 stopped: withdrawn" wait_for 10 paths_are "${F_LAN[1]}"
check_eq "f2 stopped: nothing left in its announce table" "" "$(nsx f2 ip route show table "$ANNOUNCE")"
sleep 3
at "f2 starts"
mslbd_start f2 "$(mslbd_conf f2)" || bail "f2 again"
check "f2 back: both again" wait_for 15 paths_are "$BOTH"
sleep 2
# Every next hop drained by f1's file: f1 has nothing usable and withdraws.
# They come back together (one reload): a front that announced with only
# some of them would send the clients it gets to other servers than the
# other front does.
at "f1 drains every next hop"
front_ecmp_conf f1 drain
mslbd_cli f1 reload -s "$(mslbd_sock f1)" >/dev/null
check "f1 with every next hop drained: withdrawn" wait_for 10 paths_are "${F_LAN[2]}"
check_match "f1 logged the withdrawal" "services of IPv4: withdrawn in table $ANNOUNCE" "$(cat "$TMPD/mslbd-f1.log")"
sleep 2
at "f1 undrains"
front_ecmp_conf f1
mslbd_cli f1 reload -s "$(mslbd_sock f1)" >/dev/null
check "f1 undrained: both again" wait_for 10 paths_are "$BOTH"
sleep 2

bg_wait conns 60
check_rc "no connection broke (conns.py exits 0)" 0 $? "$(cat "$TMPD/conns.log")"
check_match "... $N connections, 0 broken" "^conns $N broken 0 lines [0-9]+" "$(tail -n 1 "$TMPD/conns.log")"
diag "$(tail -n 1 "$TMPD/conns.log")"

for n in f1 f2 b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done
check "the router has no route to $IPS4 once both fronts stopped" wait_for 10 paths_are ""

tap_done
