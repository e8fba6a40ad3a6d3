#!/bin/bash
# tests/soak/soak.sh [SECONDS]: sanitizer soak (default 600 s).
#
# Build with sanitizers, then run as root:
#   BUILDDIR=/tmp/san scripts/build.sh --enable-sanitizers
#   MSLBD=/tmp/san/src/mslbd tests/soak/soak.sh 600
#
# The standard topology of tests/netns/lib.sh (2 clients, 3 backs, both
# families) with every role running at once:
#   f   front (c1's link on the AF_PACKET path, c2's through the TUN device),
#       also a return endpoint (for b1), and accepting IP-in-IP from c2 as
#       from an upstream front (front.allowed_sources, a multi-stage chain);
#       reloaded every 3-5 s through four configurations in turn:
#       translate / encapsulate (outer same, ipv6, ipv4) / translate
#       without b3 (a next hop removed, then added back) / encapsulate with
#       front.mptcp; now and then an invalid file (refused, exit 2);
#       `mslbd reload` and SIGHUP alternately;
#   b1  back with back.return_tunnel to f, switched on and off by reloads;
#   b2  back on the AF_PACKET path;
#   b3  back on the TUN device without offloads, allowed_sources changed by
#       reloads.
# Meanwhile, until the end: c1 and c2 loop over pings, UDP echoes (small and
# 3000-byte, fragmented), TCP echoes of 256 kB, TCP name fetches, v4 and v6,
# from addresses in and out of the table; malformed.py (scapy, Ethernet
# frames) sends from c1 and c2 twice a second a round of malformed and odd
# packets (bad IHL, checksum, length, options, source routes, truncated
# headers, random protocols and bytes, bogus IPv6 extension header chains,
# jumbograms, overlapping fragments, TTL 1, tunnels from sources nobody
# allows, overlapping outer fragments, wrong inner families); c2 also
# tunnels UDP echoes to IP_S as an upstream front would. `mslbd status
# --json` runs against every daemon every second (the reply must parse), and
# the plain `mslbd status` every 10 s. VmRSS of every daemon is sampled every
# 10 s.
#
# Checks at the end: every daemon alive, every status reply parsed, reload
# counters as sent; RSS: after the warm-up (the first 20% of the run or 60 s,
# whichever is less), the largest sample <= 1.05 x the first sample after
# the warm-up, per daemon; traffic flowed (every next hop and back address
# counted packets, every kind of traffic succeeded, few failures); the
# malformed packets were counted under their drop reasons; every daemon
# exits 0 on SIGTERM; no AddressSanitizer / UndefinedBehaviorSanitizer /
# LeakSanitizer report in any daemon log (nor from a `mslbd status` client).
# A summary (duration, packets, drops by reason, reloads, status calls, RSS
# series) ends the output, before the TAP plan.
SOAK_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$SOAK_DIR/../netns/lib.sh"

DURATION=${1:-600}
case $DURATION in '' | *[!0-9]*) echo "usage: $0 [SECONDS (>= 30)]" >&2; exit 2 ;; esac
[ "$DURATION" -ge 30 ] || { echo "usage: $0 [SECONDS (>= 30)]" >&2; exit 2; }
# Debug logging for days of traffic is a lot of log; info still logs
# every reload. MSLB_LOG_LEVEL=debug to cover the debug paths too.
: "${MSLB_LOG_LEVEL:=info}"
export MSLB_LOG_LEVEL
# The sanitizers report on stderr (the daemon logs) and exit non-zero.
# ASan keeps freed memory in a quarantine (256 MiB by default) before
# reusing it; each front reload frees some 5 MiB (the reassembly slots, the
# Maglev and port tables), so with the default the RSS climbs for the
# whole run however flat the daemon's own use is. 8 MiB still holds
# several reloads' worth of freed blocks (use-after-free detection) and
# fills within the warm-up.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=8:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

lib_init
require_netns tun
require_cmd ip jq socat ping ss sha256sum timeout awk
require_scapy
require_mslbd

EP4=203.0.113.200 EP6=2001:db8:e::1	# return endpoint (on f)
DAEMONS="f b1 b2 b3"
SIZE=262144				# TCP echo size
T0=$(now_ms)

# ------------------------------------------------------------ configs
# write_front FILE VARIANT: 0 translate, 1 encapsulate, 2 translate without
# b3, 3 encapsulate with front.mptcp; "bad": a table entry to a next hop
# that does not exist (refused).
OUTER=("" same ipv6 ipv4)
write_front() {
	local file=$1 v=$2 mode=translate nnh=3 i
	case $v in 1 | 3) mode=encapsulate ;; 2) nnh=2 ;; esac
	local entries="${C4_TBL[1]}=b1 ${C4_TBL[2]}=b2 ${C6_TBL[1]}=b1 ${C6_TBL[2]}=b3"
	[ "$nnh" = 2 ] && entries="${C4_TBL[1]}=b1 ${C4_TBL[2]}=b2 ${C6_TBL[1]}=b1 ${C6_TBL[2]}=b2"
	[ "$v" = bad ] && entries="${C4_TBL[1]}=b1 ${C4_TBL[2]}=b9"
	{
		_conf_head f
		echo 'io = { af_packet = [ "c1" ]; };'
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		echo "  mode = \"$mode\";"
		echo "  next_hops = ("
		for i in $(seq 1 "$nnh"); do
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s";' "$i" "${IPB4[$i]}" "${IPB6[$i]}"
			[ "$mode" = encapsulate ] && printf ' outer = "%s";' "${OUTER[$i]}"
			[ "$v" = 3 ] && printf ' server_id = %s;' "$((1000 + i))"
			printf ' }%s\n' "$([ "$i" -lt "$nnh" ] && echo ,)"
		done
		echo "  );"
		# shellcheck disable=SC2086 # one word per entry
		conf_table $entries
		echo "  unmatched = \"hash\";"
		echo "  allowed_sources = [ \"${C4[2]}/32\", \"${C6[2]}/128\" ];"
		[ "$v" = 3 ] && echo "  mptcp = { service_ports = [ 80, 5001 ]; };"
		echo "};"
		echo "return_endpoint = {"
		echo "  addresses = [ \"$EP4\", \"$EP6\" ];"
		echo "  allowed_sources = [ \"${IPB4[1]}/32\", \"${IPB6[1]}/128\" ];"
		echo "};"
	} >"$file"
}

# write_back FILE I VARIANT: b1: VARIANT 1 adds the return tunnel; b3:
# VARIANT 1 adds c2's prefixes to allowed_sources; b2 on AF_PACKET, b3
# without TUN offloads.
write_back() {
	local file=$1 i=$2 v=$3
	{
		case $i in
		2) _conf_head b2; echo 'io = { af_packet = [ "f" ]; };' ;;
		3) MSLB_TUN_OFFLOAD=false _conf_head b3 ;;
		*) _conf_head "b$i" ;;
		esac
		echo "back = {"
		echo "  addresses = ("
		echo "    { address = \"${IPB4[$i]}\"; service = \"$IPS4\"; deliver_via = \"${S4[$i]}\"; },"
		echo "    { address = \"${IPB6[$i]}\"; service = \"$IPS6\"; }"
		echo "  );"
		[ "$i" = 1 ] && [ "$v" = 1 ] && echo "  return_tunnel = { ipv4 = \"$EP4\"; ipv6 = \"$EP6\"; };"
		[ "$i" = 3 ] && [ "$v" = 1 ] &&
			echo "  allowed_sources = [ \"$IPS4\", \"$IPS6\", \"192.0.2.128/25\", \"2001:db8:c2::/64\" ];"
		echo "};"
	} >"$file"
}

# ------------------------------------------------------------ set-up
topo_create 2 3 mslb || bail "topology"
# c1's link is on f's AF_PACKET path: f's own MAC there for the raw frames.
for v in 0 1 2 3 bad; do
	write_front "$TMPD/f-$v.conf" "$v"
	out=$("$MSLBD" check -c "$TMPD/f-$v.conf" 2>&1); rc=$?
	if [ "$v" = bad ]; then
		check_rc "mslbd check refuses the invalid front file" 2 "$rc" "$out"
	else
		check_rc "mslbd check accepts front variant $v" 0 "$rc" "$out" || bail "front config $v"
	fi
done
for i in 1 2 3; do
	for v in 0 1; do
		write_back "$TMPD/b$i-$v.conf" "$i" "$v"
		out=$("$MSLBD" check -c "$TMPD/b$i-$v.conf" 2>&1)
		check_rc "mslbd check accepts back b$i variant $v" 0 $? "$out" || bail "back config b$i $v"
	done
done
cp "$TMPD/f-0.conf" "$(mslbd_conf f)"
mslbd_start f "$(mslbd_conf f)" || bail "starting mslbd on f"
for i in 1 2 3; do
	cp "$TMPD/b$i-1.conf" "$(mslbd_conf "b$i")"
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "starting mslbd on b$i"
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
	bg_start "techo4-s$i" "s$i" socat "TCP4-LISTEN:5001,bind=$IPS4,reuseaddr,fork" EXEC:cat
	bg_start "techo6-s$i" "s$i" socat "TCP6-LISTEN:5001,bind=[$IPS6],ipv6only=1,reuseaddr,fork" EXEC:cat
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :5001' | wc -l) -ge 2 ]" || bail "TCP echo on s$i"
done
tap_ok "topology up: f (front, return endpoint, upstream tunnels), b1 (return tunnel), b2 (AF_PACKET), b3 (no offload)"
head -c "$SIZE" /dev/urandom >"$TMPD/data" || bail "test data"
DATA_SHA=$(sha256sum <"$TMPD/data" | cut -d' ' -f1)
check "c1 reaches IP_S (v4) before the soak" ping_ok c1 "$IPS4" 3
check "c2 reaches IP_S (v6) before the soak" ping_ok c2 "$IPS6" 3

START_MS=$(now_ms)
END_MS=$((START_MS + DURATION * 1000))
WARMUP=$((DURATION / 5)); [ "$WARMUP" -gt 60 ] && WARMUP=60

# ------------------------------------------------------------ traffic
# running: the soak is on (bounded by END_MS and the stop file).
running() { [ "$(now_ms)" -lt "$END_MS" ] && [ ! -e "$TMPD/stop" ]; }

# tcp_echo C DST: SIZE bytes through the echo service, sha256 compared.
tcp_echo() {
	local c=$1 dst=$2 got
	got=$(timeout 30 ip netns exec "$(ns "$c")" socat -t 10 -T 15 - \
		"TCP$(fam "$dst"):$(sockaddr "$dst" 5001),connect-timeout=5" <"$TMPD/data" 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	[ "$got" = "$DATA_SHA" ]
}
# udp_echo_n C DST SIZE [SRC]: one datagram of SIZE bytes echoed unchanged.
udp_echo_n() {
	local c=$1 dst=$2 n=$3 src=${4:-} payload got opt=""
	[ -n "$src" ] && case $src in *:*) opt=",bind=[$src]" ;; *) opt=",bind=$src" ;; esac
	payload=$(head -c "$n" /dev/zero | tr '\0' 'u')
	got=$(printf '%s' "$payload" | timeout 8 ip netns exec "$(ns "$c")" socat -t 1.5 -T 4 - \
		"UDP$(fam "$dst"):$(sockaddr "$dst" 7)$opt" 2>/dev/null)
	[ "$got" = "$payload" ]
}
pings() { # pings C DST [SRC]: 5 pings, at least 4 answered
	local out
	out=$(nsx "$1" ping "-$(fam "$2")" -n -q -c 5 -i 0.2 -W 2 -w 10 ${3:+-I "$3"} "$2" 2>&1)
	grep -Eq ' [45] received' <<<"$out"
}
traffic_loop() {
	local c=$1 i=${1#c} k=0 kind rc
	while running; do
		case $((k % 14)) in
		0) kind=ping4; pings "$c" "$IPS4" ;;
		1) kind=ping6; pings "$c" "$IPS6" ;;
		2) kind=udp4; udp_echo_n "$c" "$IPS4" 100 ;;
		3) kind=udp6; udp_echo_n "$c" "$IPS6" 100 ;;
		4) kind=udp4_frag; udp_echo_n "$c" "$IPS4" 3000 ;;
		5) kind=udp6_frag; udp_echo_n "$c" "$IPS6" 3000 ;;
		6) kind=tcp4; tcp_echo "$c" "$IPS4" ;;
		7) kind=tcp6; tcp_echo "$c" "$IPS6" ;;
		8) kind=name4; [ -n "$(fetch_name "$c" "$IPS4" 2>/dev/null)" ] ;;
		9) kind=name6; [ -n "$(fetch_name "$c" "$IPS6" 2>/dev/null)" ] ;;
		10) kind=ping4_hash; pings "$c" "$IPS4" "${C4_OUT[$i]}" ;;
		11) kind=ping6_hash; pings "$c" "$IPS6" "${C6_OUT[$i]}" ;;
		12) kind=udp4_hash; udp_echo_n "$c" "$IPS4" 200 "${C4_OUT[$i]}" ;;
		13) kind=udp6_hash; udp_echo_n "$c" "$IPS6" 200 "${C6_OUT[$i]}" ;;
		esac
		rc=$?
		echo "$kind $rc $(($(now_ms) - START_MS))" >>"$TMPD/traffic-$c.txt"
		k=$((k + 1))
		sleep 0.3
	done
}
for c in c1 c2; do
	traffic_loop "$c" >"$TMPD/loop-$c.log" 2>&1 &
	BG_PID[loop-$c]=$!
done
FMAC=$(ip -n "$(ns f)" -j link show c1 | jq -r '.[0].address')
FMAC2=$(ip -n "$(ns f)" -j link show c2 | jq -r '.[0].address')
bg_start mal-c1 c1 "$PYTHON" "$SOAK_DIR/malformed.py" f "$FMAC" "${C4[1]}" "${C6[1]}" "$IPS4" "$IPS6" \
	"${IPB4[1]}" "${IPB6[1]}" "$EP4" "$EP6" "$((DURATION - 5))" 0.5
bg_start mal-c2 c2 "$PYTHON" "$SOAK_DIR/malformed.py" f "$FMAC2" "${C4[2]}" "${C6[2]}" "$IPS4" "$IPS6" \
	"${IPB4[1]}" "${IPB6[1]}" "$EP4" "$EP6" "$((DURATION - 5))" 0.5 --upstream

# ------------------------------------------------------------ the main loop
declare -A ST_OK=() ST_FAIL=() RELOADS=() REFUSED=() RELOAD_FAIL=()
for n in $DAEMONS; do ST_OK[$n]=0 ST_FAIL[$n]=0 RELOADS[$n]=0 REFUSED[$n]=0 RELOAD_FAIL[$n]=0; done
TEXT_OK=0 TEXT_FAIL=0 NRELOAD=0
FVARIANT=0 B1V=1 B3V=1
: >"$TMPD/rss.txt"

# status_poll NODE T: one `status --json`, kept (compact) if it parses.
status_poll() {
	local js
	if js=$(timeout 5 ip netns exec "$(ns "$1")" "$MSLBD" status --json -s "$(mslbd_sock "$1")" \
		2>>"$TMPD/status-$1.err") && js=$(jq -ce --argjson t "$2" '. + {soak_t: $t}' <<<"$js" 2>>"$TMPD/status-$1.err"); then
		ST_OK[$1]=$((ST_OK[$1] + 1))
		echo "$js" >>"$TMPD/status-$1.jsonl"
	else
		ST_FAIL[$1]=$((ST_FAIL[$1] + 1))
		echo "t=$2: no valid reply" >>"$TMPD/status-$1.err"
	fi
}
rss_sample() { # rss_sample T
	local n kb
	for n in $DAEMONS; do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/${MSLBD_PID[$n]:-0}/status" 2>/dev/null)
		echo "$1 $n ${kb:-dead}" >>"$TMPD/rss.txt"
	done
}
# install NODE FILE: the daemon's file replaced in one step.
install() { cp "$2" "$TMPD/tmp.conf" && mv -f "$TMPD/tmp.conf" "$(mslbd_conf "$1")"; }
# reload NODE: `mslbd reload` or SIGHUP, alternately.
reload() {
	local n=$1 out rc
	if [ $((NRELOAD % 2)) = 0 ]; then
		out=$(timeout 20 ip netns exec "$(ns "$n")" "$MSLBD" reload -s "$(mslbd_sock "$n")" 2>&1); rc=$?
		if [ "$rc" != 0 ] || [ "$out" != reloaded ]; then
			RELOAD_FAIL[$n]=$((RELOAD_FAIL[$n] + 1))
			echo "reload $n: exit $rc: $out" >>"$TMPD/reload-errors.txt"
		fi
	else
		kill -HUP "${MSLBD_PID[$n]}"
	fi
	RELOADS[$n]=$((RELOADS[$n] + 1))
	NRELOAD=$((NRELOAD + 1))
}
refused_reload() { # refused_reload NODE: the invalid front file, refused (exit 2)
	local out rc
	install "$1" "$TMPD/f-bad.conf"
	out=$(timeout 20 ip netns exec "$(ns "$1")" "$MSLBD" reload -s "$(mslbd_sock "$1")" 2>&1); rc=$?
	if [ "$rc" != 2 ]; then
		RELOAD_FAIL[$1]=$((RELOAD_FAIL[$1] + 1))
		echo "refused reload $1: exit $rc (want 2): $out" >>"$TMPD/reload-errors.txt"
	fi
	REFUSED[$1]=$((REFUSED[$1] + 1))
}
do_reloads() {
	local k=$1
	# Every 7th time an invalid front file first: refused, nothing changes.
	[ $((k % 7)) = 6 ] && refused_reload f
	FVARIANT=$(((FVARIANT + 1) % 4))
	install f "$TMPD/f-$FVARIANT.conf" && reload f
	case $((k % 3)) in
	0) B1V=$((1 - B1V)); install b1 "$TMPD/b1-$B1V.conf" && reload b1 ;;
	1) reload b2 ;;
	2) B3V=$((1 - B3V)); install b3 "$TMPD/b3-$B3V.conf" && reload b3 ;;
	esac
}

next_reload=$((START_MS + 3000 + RANDOM % 2001))
next_rss=$START_MS
tick=0 nreloads=0
while [ "$(now_ms)" -lt "$END_MS" ]; do
	t_ms=$(($(now_ms) - START_MS)); t=$((t_ms / 1000))
	if [ "$(now_ms)" -ge "$next_rss" ]; then
		rss_sample "$t"
		next_rss=$((next_rss + 10000))
	fi
	for n in $DAEMONS; do status_poll "$n" "$t"; done
	if [ $((tick % 10)) = 5 ]; then
		if timeout 5 ip netns exec "$(ns f)" "$MSLBD" status -s "$(mslbd_sock f)" >"$TMPD/status-text.out" 2>&1 &&
			grep -q . "$TMPD/status-text.out"; then
			TEXT_OK=$((TEXT_OK + 1))
		else
			TEXT_FAIL=$((TEXT_FAIL + 1))
		fi
	fi
	if [ "$(now_ms)" -ge "$next_reload" ]; then
		do_reloads "$nreloads"
		nreloads=$((nreloads + 1))
		next_reload=$(($(now_ms) + 3000 + RANDOM % 2001))
	fi
	tick=$((tick + 1))
	# to the next whole second of the run
	left=$((1000 - ($(now_ms) - START_MS) % 1000))
	sleep "$(printf '0.%03d' $((left >= 1000 ? 999 : left)))"
done
RUN_S=$((($(now_ms) - START_MS) / 1000))
rss_sample "$RUN_S"

# ------------------------------------------------------------ wind down
touch "$TMPD/stop"
for c in c1 c2; do
	wait_pid 90 "${BG_PID[loop-$c]}" || { kill -TERM "${BG_PID[loop-$c]}" 2>/dev/null; wait "${BG_PID[loop-$c]}" 2>/dev/null; }
	unset "BG_PID[loop-$c]"
done
for c in c1 c2; do bg_wait "mal-$c" 30; done
sleep 1	# the last packets in flight
for n in $DAEMONS; do status_poll "$n" "$RUN_S"; done
for n in $DAEMONS; do
	tail -n 1 "$TMPD/status-$n.jsonl" >"$TMPD/final-$n.json"
done

# ------------------------------------------------------------ checks
for n in $DAEMONS; do
	check "$n: daemon alive after ${RUN_S}s" _alive "${MSLBD_PID[$n]}"
done
for n in $DAEMONS; do
	check_eq "$n: every status --json reply parsed (${ST_OK[$n]} of $((ST_OK[$n] + ST_FAIL[$n])))" 0 "${ST_FAIL[$n]}" ||
		diag "$(tail -n 5 "$TMPD/status-$n.err" 2>/dev/null)"
done
check_eq "f: every plain status answered ($TEXT_OK)" 0 "$TEXT_FAIL"
check "at least one reload every 5 s ($nreloads rounds)" test "$nreloads" -ge $((DURATION / 6))
for n in $DAEMONS; do
	want="$((RELOADS[$n])) $((REFUSED[$n]))"
	check_eq "$n: status reloads, reload_failures = $want (done by the test)" "$want" \
		"$(jq -r '"\(.reloads) \(.reload_failures)"' "$TMPD/final-$n.json")"
	check_eq "$n: every reload answered as expected" 0 "${RELOAD_FAIL[$n]}" ||
		diag "$(grep "^.*reload $n:" "$TMPD/reload-errors.txt" | tail -n 5)"
done

# --- traffic
traffic_summary() { cat "$TMPD"/traffic-c*.txt | awk '{n[$1]++; if ($2 == 0) ok[$1]++} END {for (k in n) printf "%s %d %d\n", k, ok[k], n[k]}' | sort; }
TS=$(traffic_summary)
while read -r kind ok total; do
	check "traffic $kind: $ok of $total succeeded" test "$ok" -gt 0
done <<<"$TS"
read -r tok ttot < <(awk '{o += $2; t += $3} END {print o + 0, t + 0}' <<<"$TS")
check "traffic: at least 90% of $ttot exchanges succeeded ($tok)" test $((tok * 10)) -ge $((ttot * 9))

# max_of NODE JQ: the largest value of JQ over every sample of NODE.
max_of() { jq -s "[.[] | ($2) // 0] | max // 0" "$TMPD/status-$1.jsonl"; }
for i in 1 2 3; do
	v=$(max_of f "[.front.next_hops[] | select(.name == \"b$i\") | .packets] | add")
	check "f: next hop b$i forwarded packets ($v)" test "$v" -gt 0
	for a in "${IPB4[$i]}" "${IPB6[$i]}"; do
		v=$(max_of "b$i" "$(jq_back_packets "$a")")
		check "b$i: back address $a translated/delivered packets ($v)" test "$v" -gt 0
	done
done
v=$(max_of b1 '.back.return_tunnel.packets')
check "b1: return tunnel carried packets ($v)" test "$v" -gt 0
v=$(max_of f '.return_endpoint.packets')
check "f: return endpoint decapsulated packets ($v)" test "$v" -gt 0
v=$(max_of f '[.front.next_hops[].encapsulated] | add')
check "f: encapsulated packets ($v)" test "$v" -gt 0
for i in 1 2 3; do
	v=$(max_of "b$i" '.back.decapsulated')
	check "b$i: decapsulated packets ($v)" test "$v" -gt 0
done
chain=$(awk '$1 == "chain_replies" {print $2}' "$TMPD/mal-c2.log")
check "c2 as an upstream front: tunnelled UDP echoes answered (${chain:-none})" test "${chain:-0}" -gt 0

# --- drops by reason
for r in bad_ihl bad_checksum truncated bad_length bad_options source_route bad_version \
	bad_ext_header jumbogram l4_truncated ttl_exceeded tunnel_source; do
	v=$(jq -r ".drops.$r // 0" "$TMPD/final-f.json")
	check "f: drops.$r > 0 ($v)" test "$v" -gt 0
done
for r in tunnel_source tunnel_inner reassembly; do
	v=$(jq -r ".drops.$r // 0" "$TMPD/final-b1.json")
	check "b1: drops.$r > 0 ($v)" test "$v" -gt 0
done

# --- RSS
rss_check() { # rss_check NODE: prints the series; fails if it grew > 5% after the warm-up
	awk -v n="$1" -v w="$WARMUP" '
		$2 == n { series = series " " $1 "s:" $3
			if ($3 == "dead") { dead = 1; next }
			if (first == "") first = $3
			last = $3
			if ($1 >= w) { if (base == "") base = $3; if ($3 > max) max = $3 } }
		END {
			printf "start=%s base=%s max=%s end=%s series(kB):%s\n", first, base, max, last, series
			if (dead || base == "" || max > base * 1.05) exit 1 }' "$TMPD/rss.txt"
}
declare -A RSS_LINE=()
for n in $DAEMONS; do
	RSS_LINE[$n]=$(rss_check "$n"); rc=$?
	check_rc "$n: RSS flat after the ${WARMUP}s warm-up (max <= 1.05 x first after it)" 0 "$rc" "${RSS_LINE[$n]}"
done

# --- stop, exit status, sanitizers
for n in $DAEMONS; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 20 "$TMPD/mslbd-$n.log")"
done
SAN_RE='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer'
for n in $DAEMONS; do
	if grep -Eq "$SAN_RE" "$TMPD/mslbd-$n.log"; then
		tap_fail "$n: sanitizer report in the daemon log"
		diag "$(grep -E -m1 -A40 "$SAN_RE" "$TMPD/mslbd-$n.log")"
	else
		tap_ok "$n: no sanitizer report in the daemon log"
	fi
done
if cat "$TMPD"/status-*.err 2>/dev/null | grep -Eq "$SAN_RE"; then
	tap_fail "mslbd status clients: sanitizer report"
	diag "$(cat "$TMPD"/status-*.err | grep -E -m1 -A40 "$SAN_RE")"
else
	tap_ok "mslbd status clients: no sanitizer report"
fi

# ------------------------------------------------------------ summary
{
	echo "soak summary ($MSLBD)"
	echo "ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS MSLB_LOG_LEVEL=$MSLB_LOG_LEVEL"
	echo "duration: ${RUN_S}s (warm-up ${WARMUP}s), total with set-up $((($(now_ms) - T0) / 1000))s"
	fwd=$(for i in 1 2 3; do max_of f "[.front.next_hops[] | select(.name == \"b$i\") | .packets] | add"; done | awk '{s += $1} END {print s + 0}')
	echo "packets forwarded by f (next hops, largest counts seen): $fwd =" \
		"$(for i in 1 2 3; do printf 'b%s:%s ' "$i" "$(max_of f "[.front.next_hops[] | select(.name == \"b$i\") | .packets] | add")"; done)"
	for n in b1 b2 b3; do
		echo "packets at $n: back addresses $(max_of "$n" '[.back.addresses[].packets] | add')," \
			"decapsulated $(max_of "$n" '.back.decapsulated')"
	done
	echo "return tunnel b1 -> f: $(max_of b1 '.back.return_tunnel.packets') packets; endpoint f: $(max_of f '.return_endpoint.packets')"
	echo "upstream tunnels from c2 answered: ${chain:-0}"
	for n in $DAEMONS; do
		echo "drops $n: $(jq -c '.drops | with_entries(select(.value > 0))' "$TMPD/final-$n.json")"
	done
	echo "reloads: $(for n in $DAEMONS; do printf '%s:%s ' "$n" "${RELOADS[$n]}"; done)(refused on purpose: f:${REFUSED[f]}); rounds $nreloads"
	echo "status --json calls: $(for n in $DAEMONS; do printf '%s:%s/%s ' "$n" "${ST_OK[$n]}" "$((ST_OK[$n] + ST_FAIL[$n]))"; done)plain status: $TEXT_OK"
	echo "traffic (kind ok total):"
	sed 's/^/  /' <<<"$TS"
	echo "malformed packets sent: c1 $(awk '$1 == "sent" {s += $3} END {print s + 0}' "$TMPD/mal-c1.log")," \
		"c2 $(awk '$1 == "sent" {s += $3} END {print s + 0}' "$TMPD/mal-c2.log") (rounds" \
		"$(awk '$1 == "rounds" {print $2}' "$TMPD/mal-c1.log")/$(awk '$1 == "rounds" {print $2}' "$TMPD/mal-c2.log"))"
	echo "RSS per daemon (kB; samples every 10 s):"
	for n in $DAEMONS; do echo "  $n: ${RSS_LINE[$n]}"; done
	echo "sanitizer reports: $(cat "$TMPD"/mslbd-*.log "$TMPD"/status-*.err 2>/dev/null | grep -Ec "$SAN_RE")"
} >"$TMPD/summary.txt"
diag "$(cat "$TMPD/summary.txt")"
[ -n "${SOAK_SUMMARY:-}" ] && cp "$TMPD/summary.txt" "$SOAK_SUMMARY"

tap_done
