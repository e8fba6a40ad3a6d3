#!/bin/bash
# tests/netns/churn.sh: broken connections while the set of backs changes.
#
#   c1 -- r ==(LAN: bridge in ns sw)== f1, f2, b1, b2, b3, b4;  bi -- si
#
# As in ecmp.sh, r learns IP_S from f1 and f2 over BGP (BIRD 2) and
# spreads flows over them by ECMP; the fronts hash the client's source
# address over their next hops (unmatched = "hash") and always have the
# same front group: every change rewrites both files and reloads both.
# Every back lists the three others as redirect peers. b4 and s4 run from
# the start, but b4 is no next hop of the fronts until the first event.
#
# From 200 client addresses of c1, 200 long-lived TCP connections to the
# echo of the servers (conns.py, a line every 50 ms) and 100 UDP flows to
# their name echo (udpflows.py, a datagram every 50-100 ms); a connection
# or flow that breaks is replaced a second later, from the same address.
# The events, one at a time, a few seconds apart:
#   add     b4 added to both fronts by reload
#   drain   b2 drained (state = "drain" in both files, reload)
#   remove  b3 removed from both fronts by reload
#   fstop   f1 stopped (SIGTERM) and started again
#   fkill   f2 killed (SIGKILL) and started again
#   sstop   s1's server killed: only the TCP connections s1 held may
#           break; the time the fronts take to see b1 down is printed and
#           must be under 3 s (health check defaults)
# Each break is logged with its time (that of its last echo when the echo
# stalled: no echo for 5 s, no UDP answer for 2 s) and counted in the
# window from its event to the next one (windows start 0.3 s before their
# event; a replacement that cannot connect is no break). Every event must
# break no TCP connection (sstop: none but s1's, and all of those) and,
# but sstop, no UDP flow. About 40 s.
#
# Persistence (keeping established flows on their server when the hash
# moves) is configured with CHURN_PERSIST=1 (default): front.persistence
# and back.persistence. Without it (CHURN_PERSIST=0), the events that move
# hashed clients (add, drain, remove) break their connections, and the
# test fails.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq ss timeout bird birdc
require_mslbd

CHURN_PERSIST=${CHURN_PERSIST:-1}
# shellcheck source=tests/netns/ecmp_lib.sh
. "$MSLB_LIB_DIR/ecmp_lib.sh"
# b4, s4: lib.sh's address plan, one more back (IP_B4 $LAN.14 routed).
IPB4+=("$LAN.14") BS4+=("$LAN.193") S4+=("$LAN.194")
C_FIRST=192.0.2.10 NSRC=200	# c1 owns 192.0.2.10 - 192.0.2.209
PORT=7
NCONN=${CHURN_CONNS:-200}
NFLOW=${CHURN_FLOWS:-100}
QUIET=${CHURN_QUIET:-3}	# seconds of traffic between two events
STALL=5			# TCP: no echo for this long is a break
GAP=2			# UDP: no answer for this long is a break
KEYS=$TMPD/redirect.key

# ------------------------------------------------------------ topology
lan_create || bail "LAN"
ecmp_router || bail "router and fronts"
{ ns_add c1 && link_add r c1 c1 r && addr_add r c1 "$R_C/24"; } || bail "c1 - r"
for k in $(seq 0 $((NSRC - 1))); do
	echo "address add 192.0.2.$((10 + k))/24 dev r"
done | ip -n "$(ns c1)" -batch - || bail "c1's addresses"
route_add c1 default via "$R_C" src "$C_FIRST" || bail "c1's route"
for i in 1 2 3 4; do
	back_on_lan "$i" || bail "b$i, s$i"
	bg_start "srv-s$i" "s$i" "$PYTHON" "$MSLB_LIB_DIR/churn_server.py" "s$i" "$IPS4" "$PORT"
	wait_for 10 grep -q listening "$TMPD/srv-s$i.log" || bail "server on s$i"
done
# The redirect tunnels go from back to back on the LAN.
for i in 1 2 3 4; do
	for j in 1 2 3 4; do
		[ "$i" = "$j" ] || route_add "b$i" "${IPB4[$j]}/32" via "${B_LAN[$j]}" || bail "b$i: route to IP_B$j"
	done
done

# ------------------------------------------------------------ daemons
redirect_key_file "$KEYS" 1 || bail "key file"

# back_churn_conf I: back bi, every other back a redirect peer.
back_churn_conf() {
	local i=$1 j first=1
	{
		_conf_head "b$i"
		echo "back = {"
		echo "  addresses = ( { address = \"${IPB4[$i]}\"; service = \"$IPS4\"; deliver_via = \"${S4[$i]}\"; } );"
		[ "$CHURN_PERSIST" = 1 ] &&
			echo "  persistence = { flows = 65536; tcp_idle = 7200; udp_idle = 120; sock_diag = false; };"
		echo "};"
		echo "redirect = {"
		echo "  address = \"${B_LAN[$i]}\";"
		echo "  port = 4771;"
		echo "  key_file = \"$KEYS\";"
		echo "  peers = ("
		for j in 1 2 3 4; do
			[ "$j" = "$i" ] && continue
			[ $first = 1 ] || echo ","
			printf '    { name = "b%s"; address = "%s"; tunnel = [ "%s" ]; }' "$j" "${B_LAN[$j]}" "${IPB4[$j]}"
			first=0
		done
		echo
		echo "  );"
		echo "};"
	} >"$(mslbd_conf "b$i")"
}

# NH: the fronts' next hops, "bI:STATE" words.
NH="b1:up b2:up b3:up"
# front_churn_conf NODE: the front group of NH (the same in both fronts),
# a TCP check of the echo port, the service announced in table $ANNOUNCE.
front_churn_conf() {
	local w i first=1
	{
		_conf_head "$1"
		echo "routing = { table = $RT_TABLE; priority = $RT_PRIO; announce_table = $ANNOUNCE; };"
		echo "front = {"
		echo "  services = [ \"$IPS4\" ];"
		echo "  health = { kind = \"tcp\"; port = $PORT; };"
		[ "$CHURN_PERSIST" = 1 ] && echo "  persistence = 240;"
		echo "  next_hops = ("
		for w in $NH; do
			i=${w%%:*} i=${i#b}
			[ $first = 1 ] || echo ","
			printf '    { name = "b%s"; ipv4 = "%s"; state = "%s"; }' "$i" "${IPB4[$i]}" "${w#*:}"
			first=0
		done
		echo
		echo "  );"
		echo "  unmatched = \"hash\";"
		echo "};"
	} | grep -v '^routing = { table = [0-9]*; priority = [0-9]*; };$' >"$(mslbd_conf "$1")"
}
front_group() { sed -n '/^front = {/,$p' "$(mslbd_conf "$1")"; }

for i in 1 2 3 4; do
	back_churn_conf "$i"
	out=$(mslbd_cli "b$i" check -c "$(mslbd_conf "b$i")" 2>&1) ||
		bail "b$i's configuration refused (CHURN_PERSIST=$CHURN_PERSIST): $out"
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "b$i"
done
for f in f1 f2; do
	front_churn_conf "$f"
	out=$(mslbd_cli "$f" check -c "$(mslbd_conf "$f")" 2>&1) ||
		bail "$f's configuration refused (CHURN_PERSIST=$CHURN_PERSIST): $out"
done

# BIRD: the shipped examples, with this test's control sockets.
birds_start || bail "BIRD"

for f in f1 f2; do
	mslbd_start "$f" "$(mslbd_conf "$f")" || bail "$f"
done

# nh NODE NAME FILTER: FILTER applied to next hop NAME of NODE's status.
nh() { jget "$1" ".front.next_hops[] | select(.name == \"$2\") | $3"; }
# nh_states NODE: "bI:STATE" of every next hop of NODE's status.
nh_states() { jget "$1" '[.front.next_hops[] | "\(.name):\(.state)"] | join(" ")'; }
# shellcheck disable=SC2317 # called through wait_for
fronts_agree() { [ "$(nh_states f1)" = "$NH" ] && [ "$(nh_states f2)" = "$NH" ]; }
# shellcheck disable=SC2317 # called through wait_for
probes_ok() { # probes_ok NODE: every next hop has 2 answered probes in a row
	local w
	for w in $NH; do
		[ "$(nh "$1" "${w%%:*}" '.check | select(.last == "ok") | .in_a_row')" -ge 2 ] || return 1
	done
}

check "the router has one ECMP route over f1 and f2" wait_for 30 paths_are "$BOTH" ||
	diag "$(nsx r ip route; nsx r birdc -s "$TMPD/bird-r.ctl" show protocols 2>&1)"
for f in f1 f2; do
	check "$f: every next hop answers its health check" wait_for 10 probes_ok "$f"
done

# reload_fronts: both files from NH, both fronts reloaded at once.
# shellcheck disable=SC2317 # called through check
reload_fronts() {
	local f p1 p2 rc=0
	for f in f1 f2; do front_churn_conf "$f"; done
	timeout 10 ip netns exec "$(ns f1)" "$MSLBD" reload -s "$(mslbd_sock f1)" >"$TMPD/reload-f1.out" 2>&1 &
	p1=$!
	timeout 10 ip netns exec "$(ns f2)" "$MSLBD" reload -s "$(mslbd_sock f2)" >"$TMPD/reload-f2.out" 2>&1 &
	p2=$!
	wait "$p1" || { rc=1; cat "$TMPD/reload-f1.out"; }
	wait "$p2" || { rc=1; cat "$TMPD/reload-f2.out"; }
	return "$rc"
}
# change TEXT: NH changed; reload both fronts and check that they agree.
change() {
	check "$1: both fronts reloaded" reload_fronts
	check_eq "$1: the fronts have the same front group" "$(front_group f1)" "$(front_group f2)"
	check "$1: both fronts show next hops $NH" wait_for 5 fronts_agree ||
		diag "f1: $(nh_states f1)
f2: $(nh_states f2)"
}

# ------------------------------------------------------------ traffic
# live_peers: the client's connections open now, ADDR:PORT, sorted.
live_peers() {
	awk '$2 == "open" { live[$4] = 1 } $2 == "broken" { delete live[$4] }
		END { for (p in live) print p }' "$TMPD/tcp.events" | sort
}
# held I: the client's open connections that server sI holds (a server
# still lists those the client lost to another server, which reset them).
held() {
	nsx "s$1" ss -Htn state established "( sport = :$PORT )" | awk '{ print $4 }' | sort |
		comm -12 - "$TMPD/live"
}
# per_server: how many of the client's open connections each server holds.
per_server() {
	local i out=""
	live_peers >"$TMPD/live"
	for i in 1 2 3 4; do
		out="$out s$i $(held "$i" | wc -l)"
	done
	echo "${out# }"
}
# mark KEY TEXT: an event starts now.
T0=$(now_ms)
mark() {
	echo "$EPOCHREALTIME $1 $2" >>"$TMPD/marks"
	diag "at $((($(now_ms) - T0) / 100)) ds: $2"
}

bg_start tcp c1 "$PYTHON" "$MSLB_LIB_DIR/conns.py" "$IPS4" "$PORT" "$NCONN" 600 \
	--src "$C_FIRST" --nsrc "$NSRC" --stall "$STALL" --reopen 1 --log "$TMPD/tcp.events"
bg_start udp c1 "$PYTHON" "$MSLB_LIB_DIR/udpflows.py" "$IPS4" "$PORT" "$NFLOW" 600 \
	--src "$C_FIRST" --nsrc "$NSRC" --gap "$GAP" --reopen 1 --log "$TMPD/udp.events"
# shellcheck disable=SC2317 # called through wait_for
all_open() { [ "$(grep -c ' open ' "$TMPD/tcp.events" 2>/dev/null)" -ge "$NCONN" ]; }
check "$NCONN TCP connections open" wait_for 30 all_open || bail "the connections did not open"
mark start "$NCONN TCP connections, $NFLOW UDP flows (CHURN_PERSIST=$CHURN_PERSIST)"
sleep "$QUIET"
dist=$(per_server)
diag "connections per server: $dist"
# shellcheck disable=SC2317 # called through check
dist_ok() { [[ $1 =~ ^s1\ [1-9][0-9]*\ s2\ [1-9][0-9]*\ s3\ [1-9][0-9]*\ s4\ 0$ ]]; }
check "s1, s2 and s3 hold connections, s4 none ($dist)" dist_ok "$dist"
p1=$(jget f1 '.front.next_hops | map(.packets) | add')
p2=$(jget f2 '.front.next_hops | map(.packets) | add')
check "the router spreads the clients over both fronts (f1 $p1, f2 $p2 packets)" \
	test "$p1" -gt 100 -a "$p2" -gt 100

# ------------------------------------------------------------ events
mark add "b4 added by reload"
NH="b1:up b2:up b3:up b4:up"
change "b4 added"
check "both fronts probe b4 successfully" wait_for 10 eval "probes_ok f1 && probes_ok f2"
sleep "$QUIET"
diag "connections per server: $(per_server)"

mark drain "b2 drained by reload"
NH="b1:up b2:drain b3:up b4:up"
change "b2 drained"
sleep "$QUIET"
diag "connections per server: $(per_server)"

mark remove "b3 removed by reload"
NH="b1:up b2:drain b4:up"
change "b3 removed"
sleep "$QUIET"
diag "connections per server: $(per_server)"

mark fstop "f1 stopped (SIGTERM)"
mslbd_stop f1
check_rc "f1 stops with SIGTERM (exit 0)" 0 $?
check "f1 stopped: withdrawn" wait_for 10 paths_are "${F_LAN[2]}"
sleep "$QUIET"
diag "at $((($(now_ms) - T0) / 100)) ds: f1 starts"
mslbd_start f1 "$(mslbd_conf f1)" || bail "f1 again"
check "f1 back: the router spreads over both again" wait_for 15 paths_are "$BOTH"
check "f1 back with next hops $NH" wait_for 5 fronts_agree
sleep "$QUIET"

mark fkill "f2 killed (SIGKILL)"
t0=$(now_ms)
kill -KILL "${MSLBD_PID[f2]}"
wait "${MSLBD_PID[f2]}" 2>/dev/null
unset "MSLBD_PID[f2]"
WAIT_STEP=0.05 wait_for 10 paths_are "${F_LAN[1]}"
t1=$(now_ms)
check "f2 killed: withdrawn ($((t1 - t0)) ms)" paths_are "${F_LAN[1]}"
sleep "$QUIET"
diag "at $((($(now_ms) - T0) / 100)) ds: f2 starts"
mslbd_start f2 "$(mslbd_conf f2)" || bail "f2 again"
check "f2 back: the router spreads over both again" wait_for 15 paths_are "$BOTH"
check "f2 back with next hops $NH" wait_for 5 fronts_agree
sleep "$QUIET"

diag "connections per server: $(per_server)"
# The connections s1 holds, just before its server goes.
held 1 >"$TMPD/s1.peers"
mark sstop "s1's server killed"
declare -A DOWN_AT=()
# shellcheck disable=SC2317 # called through wait_for
b1_down() { # b1_down: each front's first sight of b1 down, in DOWN_AT
	local f
	for f in f1 f2; do
		[ -z "${DOWN_AT[$f]:-}" ] && [ "$(nh "$f" b1 .state)" = down ] && DOWN_AT[$f]=$(now_ms)
	done
	[ -n "${DOWN_AT[f1]:-}" ] && [ -n "${DOWN_AT[f2]:-}" ]
}
t0=$(now_ms)
bg_stop srv-s1 KILL 2>/dev/null	# no "Killed" from bash
WAIT_STEP=0.05 wait_for 10 b1_down
for f in f1 f2; do
	if [ -n "${DOWN_AT[$f]:-}" ]; then
		diag "detection of the killed server by $f (tcp check, defaults): $((DOWN_AT[$f] - t0)) ms"
		check "$f: b1 down in under 3 s ($((DOWN_AT[$f] - t0)) ms)" test $((DOWN_AT[$f] - t0)) -lt 3000
	else
		tap_fail "$f: b1 down in under 3 s (still $(nh "$f" b1 .state) after 10 s)"
	fi
done
sleep "$QUIET"
diag "connections per server: $(per_server)"
mark end "end of traffic"

bg_stop tcp
diag "$(tail -n 2 "$TMPD/tcp.log")"
bg_stop udp
diag "$(tail -n 2 "$TMPD/udp.log")"

# ------------------------------------------------------------ counts
# tally LOG FROM TO AT: "BROKEN OPEN CONNFAIL": the breaks logged in
# [FROM, TO), the connections (flows) open at AT, the failed connects of
# replacements in [FROM, TO).
tally() {
	awk -v a="$2" -v b="$3" -v at="$4" '
		$1 < at && $2 == "open" { open++ }
		$1 < at && $2 == "broken" { open-- }
		$1 >= a && $1 < b && $2 == "broken" { br++ }
		$1 >= a && $1 < b && $2 == "connfail" { cf++ }
		END { printf "%d %d %d\n", br, open, cf }' "$1"
}
breaks() { awk -v a="$2" -v b="$3" '$2 == "broken" && $1 >= a && $1 < b' "$1"; }

# One window per event, from 0.3 s before it to 0.3 s before the next
# (the first from the start, the last to the end and after).
mapfile -t MARKS <"$TMPD/marks"
W_KEY=() W_TEXT=() W_FROM=() W_TO=() W_TCP=() W_UDP=()
diag "broken connections per event (broken / open when it began):"
for k in $(seq 0 $((${#MARKS[@]} - 2))); do
	read -r t key text <<<"${MARKS[$k]}"
	read -r t_next _ <<<"${MARKS[$((k + 1))]}"
	from=$(awk -v t="$t" 'BEGIN { printf "%.3f", t - 0.3 }')
	to=$(awk -v t="$t_next" 'BEGIN { printf "%.3f", t - 0.3 }')
	[ "$k" -eq 0 ] && from=0 text="before any change"
	[ $((k + 2)) -eq ${#MARKS[@]} ] && to=99999999999
	read -r tb tl tcf <<<"$(tally "$TMPD/tcp.events" "$from" "$to" "$t")"
	read -r ub ul _ <<<"$(tally "$TMPD/udp.events" "$from" "$to" "$t")"
	W_KEY+=("$key") W_TEXT+=("$text") W_FROM+=("$from") W_TO+=("$to") W_TCP+=("$tb") W_UDP+=("$ub")
	diag "$(printf '  %-7s %-26s TCP %3d / %3d   UDP %3d / %3d' "$key" "$text" "$tb" "$tl" "$ub" "$ul")"
	[ "$tcf" -gt 0 ] && diag "          ($tcf connects of replacements refused or timed out: not counted)"
done

for k in "${!W_KEY[@]}"; do
	text=${W_TEXT[$k]} from=${W_FROM[$k]} to=${W_TO[$k]}
	if [ "${W_KEY[$k]}" = sstop ]; then
		breaks "$TMPD/tcp.events" "$from" "$to" | awk '{ print $4 }' | sort >"$TMPD/sstop.broken"
		held=$(wc -l <"$TMPD/s1.peers")
		of_s1=$(comm -12 "$TMPD/sstop.broken" "$TMPD/s1.peers" | wc -l)
		others=$(comm -23 "$TMPD/sstop.broken" "$TMPD/s1.peers" | wc -l)
		diag "$text: s1 held $held connections, $of_s1 of them broke, and $others others"
		check_eq "$text: every connection s1 held broke" "$held" "$of_s1"
		check_eq "$text: TCP connections broken that s1 did not hold" 0 "$others" ||
			diag "$(breaks "$TMPD/tcp.events" "$from" "$to" | grep -vFf "$TMPD/s1.peers" | head -n 5)"
		diag "$text: ${W_UDP[$k]} UDP flows broken (not counted: b1 went down)"
		continue
	fi
	check_eq "$text: TCP connections broken" 0 "${W_TCP[$k]}" ||
		diag "$(breaks "$TMPD/tcp.events" "$from" "$to" | head -n 5)"
	check_eq "$text: UDP flows broken" 0 "${W_UDP[$k]}" ||
		diag "$(breaks "$TMPD/udp.events" "$from" "$to" | head -n 5)"
done

for n in f1 f2 b1 b2 b3 b4; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
