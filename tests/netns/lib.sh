# shellcheck shell=bash
# tests/netns/lib.sh: helpers for mslbd's network-namespace tests.
#
# Sourced by tests/netns/*.sh, scripts/demo.sh and bench/bench.sh. Modelled on
# the kernel's selftests (tools/testing/selftests/net/mptcp/mptcp_lib.sh,
# wireguard's netns.sh): random namespace suffix, `trap cleanup EXIT`, TAP
# output, poll with a deadline instead of sleeping, exit 77 only when a kernel
# feature is missing (MSLB_NO_SKIP=1 turns that into a failure).
#
# Standard topology (documentation addresses only; IP_S = 203.0.113.100 and
# 2001:db8:5::100, owned by every server on lo):
#
#   c1 192.0.2.10/25         ---+                +--- b1 ---- s1
#      2001:db8:c1::10/64       |                |
#      (+192.0.2.100,           +---- f ---------+--- b2 ---- s2
#        2001:db8:c1::1:100)    |                |
#   c2 192.0.2.138/25        ---+                +--- b3 ---- s3
#      2001:db8:c2::10/64
#
#   link         network                   addresses
#   ci - f       192.0.2.0/25, .128/25     f .1/.129, ci .10/.138
#                2001:db8:ci::/64          f ::1, ci ::10
#   f - bi       198.51.100.16*i/28        f .16i+1, bi .16i+2
#                2001:db8:fi::/64          f ::1, bi ::2
#   bi - si      198.51.100.128+16*i/28    bi .128+16i+1, si .128+16i+2
#                2001:db8:di::/64          bi ::1, si ::2
#   IP_Bi        198.51.100.1i/32, 2001:db8:b::1i/128: not assigned anywhere;
#                f routes them via bi's link address.
#
# Default MSLB table of the front (table_default): 192.0.2.0/26 -> b1,
# 192.0.2.128/26 -> b2, 2001:db8:c1::/112 -> b1, 2001:db8:c2::/112 -> b3.
# Each client also owns an "unmatched" address outside every table prefix
# (192.0.2.100 / 2001:db8:c1::1:100 on c1, 192.0.2.228 / 2001:db8:c2::1:100
# on c2) for the `unmatched` policy.
#
# Interface names: in f, the interface toward node X is called X (c1, b2...);
# a client has "f"; a back has "f" and "s"; a server has "b".
#
# Modes: "mslb" (the daemons are to be started: f has no route to IP_S, the
# backs deliver IPv4 IP_S through deliver_via and IPv6 IP_S through a main
# route, forwarding sysctls are left for the daemon) and "kernel" (no
# daemon: f routes IP_S to b1 and b1 to s1 with plain kernel routes).

set -u

MSLB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$MSLB_LIB_DIR/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	# Run by hand: an in-tree build, else scripts/build.sh's _build.
	top_builddir=$top_srcdir
	[ ! -x "$top_srcdir/src/mslbd" ] && [ -x "$top_srcdir/_build/src/mslbd" ] &&
		top_builddir=$top_srcdir/_build
fi
: "${MSLBD:=$top_builddir/src/mslbd}"
PYTHON=/usr/bin/python3

SUFFIX=$(mktemp -u XXXXXX)
TMPD=""

# ---------------------------------------------------------------- addresses
IPS4=203.0.113.100
IPS6=2001:db8:5::100
RT_TABLE=4770
RT_PRIO=4770
TUN=mslb0

# Index 0 unused so that C4[1] is c1's address.
C4=("" 192.0.2.10 192.0.2.138)
C4_GW=("" 192.0.2.1 192.0.2.129)
C4_OUT=("" 192.0.2.100 192.0.2.228)
C4_TBL=("" 192.0.2.0/26 192.0.2.128/26)
C6=("" 2001:db8:c1::10 2001:db8:c2::10)
C6_GW=("" 2001:db8:c1::1 2001:db8:c2::1)
C6_OUT=("" 2001:db8:c1::1:100 2001:db8:c2::1:100)
C6_TBL=("" 2001:db8:c1::/112 2001:db8:c2::/112)

FB4=("" 198.51.100.17 198.51.100.33 198.51.100.49)	# f's side of f-bi
B4=("" 198.51.100.18 198.51.100.34 198.51.100.50)	# bi's side of f-bi
FB6=("" 2001:db8:f1::1 2001:db8:f2::1 2001:db8:f3::1)
B6=("" 2001:db8:f1::2 2001:db8:f2::2 2001:db8:f3::2)
IPB4=("" 198.51.100.11 198.51.100.12 198.51.100.13)	# IP_Bi
IPB6=("" 2001:db8:b::11 2001:db8:b::12 2001:db8:b::13)
BS4=("" 198.51.100.145 198.51.100.161 198.51.100.177)	# bi's side of bi-si
S4=("" 198.51.100.146 198.51.100.162 198.51.100.178)	# si's side of bi-si
BS6=("" 2001:db8:d1::1 2001:db8:d2::1 2001:db8:d3::1)
S6=("" 2001:db8:d1::2 2001:db8:d2::2 2001:db8:d3::2)

# What topo_create built (for the scripts that use this library).
# shellcheck disable=SC2034
TOPO_NCLIENTS=0 TOPO_MODE=""
TOPO_NBACKS=0

# ---------------------------------------------------------------- TAP
TAP_N=0
TAP_FAILED=0
TAP_SKIPPED=0

diag() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*"; }
diag_file() { # diag_file FILE [LINES]
	[ -s "$1" ] || return 0
	echo "# --- $1 (last ${2:-20} lines)"
	tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}
tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
tap_skip() { # tap_skip MSG REASON: a single skipped check (a failure under MSLB_NO_SKIP=1)
	if [ "${MSLB_NO_SKIP:-0}" = 1 ]; then
		tap_fail "$1 (would skip: $2; MSLB_NO_SKIP=1)"
	else
		TAP_N=$((TAP_N + 1)); TAP_SKIPPED=$((TAP_SKIPPED + 1))
		echo "ok $TAP_N - $1 # SKIP $2"
	fi
}

# check MSG CMD...: run CMD; ok if it exits 0, else not ok with its output.
check() {
	local msg=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then
		tap_ok "$msg"
	else
		tap_fail "$msg"
		diag "command: $* (exit $rc)"
		[ -n "$out" ] && diag "$(tail -n 15 <<<"$out")"
	fi
	return "$rc"
}

# check_eq MSG EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1"
		diag "expected: $2"
		diag "got:      $3"
		return 1
	fi
}

# check_rc MSG EXPECTED_RC ACTUAL_RC [OUTPUT]
check_rc() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1"
		diag "expected exit $2, got $3"
		[ -n "${4:-}" ] && diag "$(tail -n 15 <<<"$4")"
		return 1
	fi
}

# check_match MSG EXTENDED_REGEX TEXT: some line of TEXT matches.
check_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		tap_ok "$1"
	else
		tap_fail "$1"
		diag "no line matches /$2/ in:"
		diag "$(head -n 15 <<<"$3")"
		return 1
	fi
}

# bail MSG: setup failed; the test fails (exit 1) after cleanup.
bail() {
	echo "Bail out! $*"
	_dump_logs
	exit 1
}

# skip_all REASON: a kernel feature is missing. Exit 77, or fail when
# MSLB_NO_SKIP=1 (CI).
skip_all() {
	if [ "${MSLB_NO_SKIP:-0}" = 1 ]; then
		echo "Bail out! would skip ($*), but MSLB_NO_SKIP=1"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 77
}

# tap_done: print the plan and the summary; exit 1 if any check failed.
tap_done() {
	echo "1..$TAP_N"
	echo "# $((TAP_N - TAP_FAILED - TAP_SKIPPED)) passed, $TAP_FAILED failed, $TAP_SKIPPED skipped"
	if [ "$TAP_FAILED" -gt 0 ]; then
		_dump_logs
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- time
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# wait_for SECONDS CMD...: the one way to wait for something. Runs CMD
# (output discarded) every WAIT_STEP seconds (default 0.1) until it succeeds
# (0) or SECONDS (whole) have passed (1); CMD runs once more after the
# deadline's last step. CMD must itself be bounded. A shell function as CMD
# runs in this shell, so it can keep state from one call to the next.
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep "${WAIT_STEP:-0.1}"
	done
}

# wait_pid SECONDS PID: wait (bounded) for a child of this shell to exit;
# returns its exit status, or 124 if it is still running at the deadline.
wait_pid() {
	local pid=$2 rc
	WAIT_STEP=0.05 wait_for "$1" _gone "$pid" || return 124
	wait "$pid" 2>/dev/null; rc=$?
	return "$rc"
}

# A zombie still answers kill -0: look at its state too.
_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}
_gone() { ! _alive "$1"; }

# ---------------------------------------------------------------- set-up
# lib_init: temp dir and the cleanup trap. Call once, first.
lib_init() {
	TMPD=$(mktemp -d "/tmp/mslb-$SUFFIX-XXXX") || { echo "Bail out! mktemp"; exit 1; }
	trap cleanup EXIT
	# A signal (tests/run-test.sh's time bound, Ctrl-C) ends the test by
	# way of the EXIT trap, so the clean-up runs then too.
	trap '_on_signal INT 130' INT
	trap '_on_signal TERM 143' TERM
	trap '_on_signal HUP 129' HUP
}
_on_signal() {
	echo "Bail out! SIG$1: stopped; cleaning up"
	_dump_logs
	exit "$2"
}

# require_root_netns: skip unless root with netns + veth (+ TUN if asked).
require_netns() {
	local probe="mslb-probe-$SUFFIX"
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
	ip netns add "$probe" 2>/dev/null || skip_all "kernel without network namespaces"
	if ! ip -n "$probe" link add name vprobe0 type veth peer name vprobe1 2>/dev/null; then
		ip netns del "$probe"
		skip_all "kernel without veth"
	fi
	ip netns del "$probe"
	if [ "${1:-}" = tun ] && [ ! -c /dev/net/tun ]; then
		skip_all "no /dev/net/tun (kernel without TUN)"
	fi
}

# require_cmd CMD...: a missing tool is a failure, not a skip.
require_cmd() {
	local c missing=""
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	[ -z "$missing" ] || bail "missing tools:$missing (run scripts/deps.sh)"
}

require_scapy() {
	"$PYTHON" -c 'import scapy.utils' 2>/dev/null ||
		bail "$PYTHON cannot import scapy (Debian: python3-scapy; run scripts/deps.sh)"
}

# require_mslbd: the daemon, copied into $TMPD; every daemon and client of
# the test runs that copy. Relinking $MSLBD (a `make` during the test)
# removes the file and then writes it anew: for that moment a start or a
# `mslbd status` of the build's binary fails with "No such file" (127) or
# "Permission denied" (126). The copy is kept once its --version runs
# (polled: a relink may be under way now).
require_mslbd() {
	[ "$MSLBD" = "$TMPD/bin/mslbd" ] && return 0
	mkdir -p "$TMPD/bin" || bail "mkdir $TMPD/bin"
	# Daemons run as other users too (privilege.sh): they may reach the
	# copy, not list what else the test keeps.
	chmod 0711 "$TMPD" && chmod 0755 "$TMPD/bin" || bail "chmod $TMPD"
	if ! wait_for 10 _mslbd_copy; then
		[ -x "$MSLBD" ] || bail "mslbd binary not found: MSLBD=$MSLBD (build first: scripts/build.sh)"
		bail "$MSLBD --version fails (copied into $TMPD/bin)"
	fi
	MSLBD=$TMPD/bin/mslbd
}
_mslbd_copy() { cp "$MSLBD" "$TMPD/bin/mslbd" && "$TMPD/bin/mslbd" --version; }

# ---------------------------------------------------------------- namespaces
NS_LIST=()
declare -A BG_PID=()
declare -A MSLBD_PID=()

ns() { echo "mslb-$1-$SUFFIX"; }
# nsx NODE CMD...: run CMD in NODE's namespace.
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

ns_add() {
	local n=$1 name
	name=$(ns "$n")
	ip netns add "$name" || return 1
	NS_LIST+=("$name")
	ip -n "$name" link set dev lo up || return 1
	# Addresses usable at once: no duplicate address detection.
	nsx "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
}

# link_add NODE_A NODE_B: veth pair, "NODE_B" in A's namespace and IF_B in B's.
link_add() { # link_add A IFNAME_IN_A B IFNAME_IN_B
	ip -n "$(ns "$1")" link add name "$2" type veth peer name "$4" netns "$(ns "$3")" || return 1
	ip -n "$(ns "$1")" link set dev "$2" up || return 1
	ip -n "$(ns "$3")" link set dev "$4" up
}

addr_add() { # addr_add NODE IF ADDR/LEN
	case $3 in
	*:*) ip -n "$(ns "$1")" -6 addr add "$3" dev "$2" nodad ;;
	*) ip -n "$(ns "$1")" addr add "$3" dev "$2" ;;
	esac
}

route_add() { # route_add NODE DST via GW | dev IF ...
	local n=$1; shift
	case $1 in
	*:*) ip -n "$(ns "$n")" -6 route add "$@" ;;
	*) ip -n "$(ns "$n")" route add "$@" ;;
	esac
}

# topo_create NCLIENTS NBACKS MODE: build the standard topology (see top).
topo_create() {
	local nc=$1 nb=$2 mode=$3 i
	if ! { [ "$nc" -ge 1 ] && [ "$nc" -le 2 ] && [ "$nb" -ge 1 ] && [ "$nb" -le 3 ]; }; then
		echo "topo_create: 1-2 clients, 1-3 backs" >&2
		return 1
	fi
	TOPO_NCLIENTS=$nc TOPO_NBACKS=$nb TOPO_MODE=$mode
	ns_add f || return 1
	for i in $(seq 1 "$nc"); do
		ns_add "c$i" || return 1
		link_add f "c$i" "c$i" f || return 1
		addr_add f "c$i" "${C4_GW[$i]}/25" || return 1
		addr_add f "c$i" "${C6_GW[$i]}/64" || return 1
		addr_add "c$i" f "${C4[$i]}/25" || return 1
		addr_add "c$i" f "${C4_OUT[$i]}/25" || return 1
		addr_add "c$i" f "${C6[$i]}/64" || return 1
		addr_add "c$i" f "${C6_OUT[$i]}/64" || return 1
		route_add "c$i" default via "${C4_GW[$i]}" src "${C4[$i]}" || return 1
		ip -n "$(ns "c$i")" -6 route add default via "${C6_GW[$i]}" src "${C6[$i]}" || return 1
	done
	for i in $(seq 1 "$nb"); do
		ns_add "b$i" || return 1
		ns_add "s$i" || return 1
		link_add f "b$i" "b$i" f || return 1
		link_add "b$i" s "s$i" b || return 1
		addr_add f "b$i" "${FB4[$i]}/28" || return 1
		addr_add f "b$i" "${FB6[$i]}/64" || return 1
		addr_add "b$i" f "${B4[$i]}/28" || return 1
		addr_add "b$i" f "${B6[$i]}/64" || return 1
		addr_add "b$i" s "${BS4[$i]}/28" || return 1
		addr_add "b$i" s "${BS6[$i]}/64" || return 1
		addr_add "s$i" b "${S4[$i]}/28" || return 1
		addr_add "s$i" b "${S6[$i]}/64" || return 1
		addr_add "s$i" lo "$IPS4/32" || return 1
		addr_add "s$i" lo "$IPS6/128" || return 1
		# IP_Bi: a routed address of bi, reached through bi's link address.
		route_add f "${IPB4[$i]}/32" via "${B4[$i]}" || return 1
		route_add f "${IPB6[$i]}/128" via "${B6[$i]}" || return 1
		route_add "b$i" default via "${FB4[$i]}" || return 1
		ip -n "$(ns "b$i")" -6 route add default via "${FB6[$i]}" || return 1
		route_add "s$i" default via "${BS4[$i]}" || return 1
		ip -n "$(ns "s$i")" -6 route add default via "${BS6[$i]}" || return 1
		# IPv6 IP_S is delivered by the back's main table (no deliver_via);
		# IPv4 IP_S by deliver_via (table RT_TABLE+1) in mslb mode.
		route_add "b$i" "$IPS6/128" via "${S6[$i]}" || return 1
	done
	if [ "$mode" = kernel ]; then
		route_add f "$IPS4/32" via "${B4[1]}" || return 1
		route_add f "$IPS6/128" via "${B6[1]}" || return 1
		route_add b1 "$IPS4/32" via "${S4[1]}" || return 1
		for i in f $(seq -f 'b%g' 1 "$nb"); do
			nsx "$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
		done
	fi
}

# topo_destroy: stop everything and delete the namespaces (also done at exit).
topo_destroy() {
	local n pid name
	for n in "${!MSLBD_PID[@]}"; do
		pid=${MSLBD_PID[$n]}
		kill -TERM "$pid" 2>/dev/null
		wait_pid 5 "$pid" || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
		unset "MSLBD_PID[$n]"
	done
	for n in "${!BG_PID[@]}"; do
		pid=${BG_PID[$n]}
		kill -TERM "$pid" 2>/dev/null
		wait_pid 3 "$pid" || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
		unset "BG_PID[$n]"
	done
	# Children those left behind (socat's forks): only in our namespaces.
	for name in "${NS_LIST[@]}"; do
		for pid in $(ip netns pids "$name" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for name in "${NS_LIST[@]}"; do
		ip netns del "$name" 2>/dev/null
	done
	NS_LIST=()
	# shellcheck disable=SC2034
	TOPO_NCLIENTS=0 TOPO_NBACKS=0 TOPO_MODE=""
}

cleanup() {
	local rc=$?
	trap - EXIT
	# Bounded (every stop has a deadline); a second signal must not cut
	# it short and leave namespaces behind. Only SIGKILL does.
	trap '' INT TERM HUP
	topo_destroy
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ "${MSLB_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept $TMPD"
		else
			rm -rf "$TMPD"
		fi
	fi
	exit "$rc"
}

_dump_logs() {
	local f
	[ -n "$TMPD" ] && [ -d "$TMPD" ] || return 0
	for f in "$TMPD"/*.log; do
		[ -e "$f" ] && diag_file "$f" 25
	done
	return 0
}

# bg_start KEY NODE CMD...: start CMD in NODE's namespace in the background,
# output to $TMPD/KEY.log; remembered for cleanup.
bg_start() {
	local key=$1 n=$2; shift 2
	ip netns exec "$(ns "$n")" "$@" >"$TMPD/$key.log" 2>&1 </dev/null &
	BG_PID[$key]=$!
}

# bg_stop KEY [SIGNAL [SECONDS]]: stop it, killed after SECONDS (5);
# returns its exit status, 124 if it had to be killed.
bg_stop() {
	local key=$1 sig=${2:-TERM} pid rc
	pid=${BG_PID[$key]:-}
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	wait_pid "${3:-5}" "$pid"; rc=$?
	if [ "$rc" -eq 124 ]; then
		kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fi
	unset "BG_PID[$key]"
	return "$rc"
}

# bg_wait KEY SECONDS: wait for it to end by itself; returns its exit status.
bg_wait() {
	local key=$1 pid rc
	pid=${BG_PID[$key]:-}
	[ -n "$pid" ] || return 127
	wait_pid "$2" "$pid"; rc=$?
	if [ "$rc" -eq 124 ]; then
		kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fi
	unset "BG_PID[$key]"
	return "$rc"
}

# listening NODE tcp|udp PORT
listening() {
	local opt=-ltn
	[ "$2" = udp ] && opt=-lun
	[ -n "$(nsx "$1" ss -H "$opt" "sport = :$3" 2>/dev/null)" ]
}

# sockaddr ADDR PORT: socat's form, [v6]:port.
sockaddr() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }
fam() { case $1 in *:*) echo 6 ;; *) echo 4 ;; esac; }

# ---------------------------------------------------------------- services
# srv_start_names I: TCP port 80 on IP_S (v4 and v6) answers "sI". From a
# file, not a command: socat loses a quick command's output now and then
# (the child exits before its output is copied: the client sees a FIN and
# no data).
srv_start_names() {
	local i=$1
	echo "s$i" >"$TMPD/name-s$i" || return 1
	bg_start "name4-s$i" "s$i" socat -U "TCP4-LISTEN:80,bind=$IPS4,reuseaddr,fork" "OPEN:$TMPD/name-s$i,rdonly"
	bg_start "name6-s$i" "s$i" socat -U "TCP6-LISTEN:80,bind=[$IPS6],ipv6only=1,reuseaddr,fork" \
		"OPEN:$TMPD/name-s$i,rdonly"
	wait_for 10 listening "s$i" tcp 80 || return 1
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :80' | wc -l) -ge 2 ]"
}

# srv_start_udp_echo I: UDP echo on port 7 bound to IP_S, so that replies
# come from IP_S (direct server return).
srv_start_udp_echo() {
	local i=$1
	bg_start "echo4-s$i" "s$i" socat "UDP4-RECVFROM:7,bind=$IPS4,fork" EXEC:cat
	bg_start "echo6-s$i" "s$i" socat "UDP6-RECVFROM:7,bind=[$IPS6],ipv6only=1,fork" EXEC:cat
	wait_for 10 eval "[ \$(nsx s$i ss -H -lun 'sport = :7' | wc -l) -ge 2 ]"
}

# srv_start_tls I: openssl s_server -rev (echoes each line reversed) on port
# 4433 of IP_S, v4 and v6. Needs tls_make_cert first.
tls_make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TMPD/tls.key" -out "$TMPD/tls.crt" -days 2 \
		-subj "/CN=mslb-test.example" >"$TMPD/openssl-req.out" 2>&1
}
srv_start_tls() {
	local i=$1
	bg_start "tls4-s$i" "s$i" openssl s_server -quiet -rev -accept "$IPS4:4433" \
		-cert "$TMPD/tls.crt" -key "$TMPD/tls.key"
	bg_start "tls6-s$i" "s$i" openssl s_server -quiet -rev -accept "[$IPS6]:4433" \
		-cert "$TMPD/tls.crt" -key "$TMPD/tls.key"
	wait_for 10 eval "[ \$(nsx s$i ss -H -ltn 'sport = :4433' | wc -l) -ge 2 ]"
}

# ---------------------------------------------------------------- clients
# fetch_name CLIENT DST [SRC]: print the name the service at DST answers.
fetch_name() {
	local c=$1 dst=$2 src=${3:-} opt=""
	[ -n "$src" ] && case $src in *:*) opt=",bind=[$src]" ;; *) opt=",bind=$src" ;; esac
	timeout 10 ip netns exec "$(ns "$c")" socat -u -T 5 \
		"TCP$(fam "$dst"):$(sockaddr "$dst" 80),connect-timeout=5$opt" STDOUT
}

# udp_echo CLIENT DST PAYLOAD: print what comes back from the echo service.
udp_echo() {
	local c=$1 dst=$2
	printf '%s' "$3" | timeout 10 ip netns exec "$(ns "$c")" socat -t 3 -T 5 - \
		"UDP$(fam "$dst"):$(sockaddr "$dst" 7)"
}

# tls_echo CLIENT DST LINE: send LINE over TLS (cert verified), print reply.
tls_echo() {
	local c=$1 dst=$2
	printf '%s\nCLOSE\n' "$3" | timeout 15 ip netns exec "$(ns "$c")" \
		openssl s_client -quiet -connect "$(sockaddr "$dst" 4433)" \
		-CAfile "$TMPD/tls.crt" -verify_return_error -verify_hostname mslb-test.example \
		-servername mslb-test.example 2>"$TMPD/s_client.err"
}

# ping_ok CLIENT DST [COUNT] [SRC]: COUNT echo requests, all answered.
ping_ok() {
	local c=$1 dst=$2 n=${3:-3} src=${4:-} out
	out=$(nsx "$c" ping "-$(fam "$dst")" -n -q -c "$n" -i 0.05 -W 2 -w 20 ${src:+-I "$src"} "$dst" 2>&1)
	local rc=$?
	echo "$out"
	[ "$rc" -eq 0 ] && grep -q " 0% packet loss" <<<"$out"
}

# tcp_transfer CLIENT DST PORT SERVER_NODE FILE: upload FILE to a one-shot
# sink on SERVER_NODE, download it back from a one-shot source; compare sha256.
tcp_transfer() {
	local c=$1 dst=$2 port=$3 s=$4 file=$5 f key want got
	f=$(fam "$dst")
	key="sink-$s-$port"
	local bindaddr=$dst
	[ "$f" = 6 ] && bindaddr="[$dst]"
	bg_start "$key" "$s" socat -u "TCP$f-LISTEN:$port,bind=$bindaddr,reuseaddr" \
		"OPEN:$TMPD/$key.recv,creat,trunc"
	wait_for 10 listening "$s" tcp "$port" || { echo "sink not listening"; return 1; }
	timeout 60 ip netns exec "$(ns "$c")" socat -u "OPEN:$file" \
		"TCP$f:$(sockaddr "$dst" "$port"),connect-timeout=5" || { echo "upload failed"; return 1; }
	bg_wait "$key" 30 || { echo "sink did not finish"; return 1; }
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	got=$(sha256sum <"$TMPD/$key.recv" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "upload: sha256 $got, want $want"; return 1; }
	key="src-$s-$port"
	bg_start "$key" "$s" socat -u "OPEN:$file" "TCP$f-LISTEN:$port,bind=$bindaddr,reuseaddr"
	wait_for 10 listening "$s" tcp "$port" || { echo "source not listening"; return 1; }
	timeout 60 ip netns exec "$(ns "$c")" socat -u \
		"TCP$f:$(sockaddr "$dst" "$port"),connect-timeout=5" "OPEN:$TMPD/$key.recv,creat,trunc" ||
		{ echo "download failed"; return 1; }
	bg_wait "$key" 30 || { echo "source did not finish"; return 1; }
	got=$(sha256sum <"$TMPD/$key.recv" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "download: sha256 $got, want $want"; return 1; }
	rm -f "$TMPD/sink-$s-$port.recv" "$TMPD/$key.recv"
}

# no_offload NODE IF: checksums and segmentation in software, so that a
# capture at the sender shows the bytes on the wire.
no_offload() {
	nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
		nsx "$1" ethtool -K "$2" tx off
}

# ---------------------------------------------------------------- configs
# redirect_key_file FILE ID: a redirect key file with one random key of
# ID, readable by the daemon's user only.
redirect_key_file() {
	{
		echo "# redirect keys: the first one signs"
		echo "$2 $("$PYTHON" -c 'import os; print(os.urandom(32).hex())')"
	} >"$1" || return 1
	chmod 0600 "$1" || return 1
	if [ -n "${MSLB_TEST_USER-nobody}" ]; then chown "${MSLB_TEST_USER-nobody}" "$1" || return 1; fi
}

mslbd_sock() { echo "$TMPD/$1.sock"; }
mslbd_conf() { echo "$TMPD/$1.conf"; }

# node_ifs NODE: the node's interfaces other than lo (the topology's veths).
node_ifs() {
	nsx "$1" ip -o link show | awk -F': ' -v tun="$TUN" '{sub(/@.*/, "", $2); if ($2 != "lo" && $2 != tun) print $2}'
}

_conf_head() { # _conf_head NODE [MTU]
	cat <<EOF
# mslbd test configuration for node $1
log = { level = "${MSLB_LOG_LEVEL:-debug}"; destination = "stderr"; };
control_socket = "$(mslbd_sock "$1")";
tun = { name = "$TUN"; mtu = ${2:-1500}; offload = ${MSLB_TUN_OFFLOAD:-true}; io_uring = ${MSLB_TUN_IO_URING:-true}; };
routing = { table = $RT_TABLE; priority = $RT_PRIO; };
EOF
	# Started as root, the daemon switches to this account keeping only
	# the capabilities the shipped unit gives it, as in production
	# (MSLB_TEST_USER= keeps it root).
	[ -n "${MSLB_TEST_USER-nobody}" ] && echo "user = \"${MSLB_TEST_USER-nobody}\";"
	# MSLB_IO=af_packet: every interface of the node on the AF_PACKET path.
	if [ "${MSLB_IO:-tun}" = af_packet ]; then
		local ifs
		ifs=$(node_ifs "$1" | sed 's/.*/"&"/' | paste -sd, - | sed 's/,/, /g')
		echo "io = { af_packet = [ $ifs ]; };"
	fi
}

# table_default: the standard MSLB table, "PREFIX=NEXTHOP" words.
table_default() {
	echo "${C4_TBL[1]}=b1 ${C4_TBL[2]}=b2 ${C6_TBL[1]}=b1 ${C6_TBL[2]}=b3"
}

# front_conf FILE UNMATCHED [PREFIX=NEXTHOP...]: next hops are all the backs
# of the topology; without entries, the default table (restricted to the
# next hops that exist). MSLB_FRONT_MODE (translate, encapsulate) sets
# front.mode, MSLB_FRONT_ENCAP (ip, gue) front.encapsulation;
# MSLB_FRONT_HEALTH, the keys of a front.health group.
front_conf() {
	local file=$1 unmatched=$2 i e nh entries
	shift 2
	if [ $# -gt 0 ]; then entries="$*"; else entries=$(table_default); fi
	{
		_conf_head f "${FRONT_MTU:-1500}"
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		[ -n "${MSLB_FRONT_MODE:-}" ] && echo "  mode = \"$MSLB_FRONT_MODE\";"
		[ -n "${MSLB_FRONT_ENCAP:-}" ] && echo "  encapsulation = \"$MSLB_FRONT_ENCAP\";"
		[ -n "${MSLB_FRONT_HEALTH:-}" ] && echo "  health = { $MSLB_FRONT_HEALTH };"
		echo "  next_hops = ("
		for i in $(seq 1 "$TOPO_NBACKS"); do
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s"; }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "$([ "$i" -lt "$TOPO_NBACKS" ] && echo ,)"
		done
		echo "  );"
		local kept=()
		for e in $entries; do
			nh=${e#*=}
			[ "${nh#b}" -le "$TOPO_NBACKS" ] 2>/dev/null && kept+=("$e")
		done
		conf_table "${kept[@]}"
		echo "  unmatched = \"$unmatched\";"
		echo "};"
	} >"$file"
}

# conf_table PREFIX=NEXTHOP...: a front's "table = ( ... );" lines.
conf_table() {
	local e first=1
	echo "  table = ("
	for e in "$@"; do
		[ $first = 1 ] || echo ","
		printf '    { source = "%s"; next_hop = "%s"; }' "${e%=*}" "${e#*=}"
		first=0
	done
	echo
	echo "  );"
}

# back_conf FILE I [GUE_PORT]: back bi; IPv4 delivered through deliver_via
# (si's link address), IPv6 through the main routing table; with
# GUE_PORT, back.gue_port written out.
back_conf() {
	local file=$1 i=$2
	{
		_conf_head "b$i"
		cat <<EOF
back = {
  addresses = (
    { address = "${IPB4[$i]}"; service = "$IPS4"; deliver_via = "${S4[$i]}"; },
    { address = "${IPB6[$i]}"; service = "$IPS6"; }
  );
EOF
		[ -n "${3:-}" ] && echo "  gue_port = $3;"
		echo "};"
	} >"$file"
}

# ---------------------------------------------------------------- daemon
# mslbd_start NODE CONF: run `mslbd -f -c CONF` in NODE's namespace, wait
# until `mslbd status` answers on its socket (the daemon serves it once its
# start-up succeeded) or it exits (then fail at once); MSLB_START_TIMEOUT
# seconds (default 15) at most.
mslbd_start() {
	local n=$1 conf=$2 pid rc=0
	ip netns exec "$(ns "$n")" "$MSLBD" -f -c "$conf" >>"$TMPD/mslbd-$n.log" 2>&1 </dev/null &
	pid=$!
	MSLBD_PID[$n]=$pid
	wait_for "${MSLB_START_TIMEOUT:-15}" _mslbd_up "$n" "$pid" || rc=1
	if ! _alive "$pid"; then
		wait "$pid" 2>/dev/null; rc=$?
		unset "MSLBD_PID[$n]"
		echo "mslbd on $n exited with $rc before it was ready" >&2
		diag_file "$TMPD/mslbd-$n.log" >&2
		return 1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "mslbd on $n not ready in time" >&2
		diag_file "$TMPD/mslbd-$n.log" >&2
		return 1
	fi
}
# _mslbd_up NODE PID: ready, or no longer running (wait no more).
_mslbd_up() { _gone "$2" || nsx "$1" "$MSLBD" status -s "$(mslbd_sock "$1")"; }

# mslbd_stop NODE: SIGTERM; returns the daemon's exit status (124: hung).
mslbd_stop() {
	local n=$1 pid rc
	pid=${MSLBD_PID[$n]:-}
	[ -n "$pid" ] || { echo "mslbd on $n not running" >&2; return 1; }
	kill -TERM "$pid" 2>/dev/null
	wait_pid 10 "$pid"; rc=$?
	if [ "$rc" -eq 124 ]; then
		kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	fi
	unset "MSLBD_PID[$n]"
	return "$rc"
}

# mslbd_cli NODE ARGS...: run the mslbd client in NODE's namespace.
mslbd_cli() { local n=$1; shift; nsx "$n" "$MSLBD" "$@"; }

# status_json NODE: the daemon's `status --json`.
status_json() { nsx "$1" "$MSLBD" status --json -s "$(mslbd_sock "$1")"; }

# jget NODE JQ_FILTER: one value from the status JSON (fails if null/absent).
jget() {
	local js
	js=$(status_json "$1") || return 1
	jq -er "$2" <<<"$js"
}
# Handy filters.
jq_nh_packets() { echo ".front.next_hops[] | select(.name == \"$1\") | .packets"; }
jq_nh_bytes() { echo ".front.next_hops[] | select(.name == \"$1\") | .bytes"; }
jq_tbl_hits() { echo ".front.table[] | select(.source == \"$1\") | .hits"; }
jq_back_packets() { echo ".back.addresses[] | select(.address == \"$1\") | .packets"; }
jq_back_bytes() { echo ".back.addresses[] | select(.address == \"$1\") | .bytes"; }
# shellcheck disable=SC2034
JQ_DROPS='[.drops[]] | add'

# snap NODE TAG: the daemon's status JSON, kept as $TMPD/snap-NODE-TAG.json.
snap() { status_json "$1" >"$TMPD/snap-$1-$2.json"; }
# delta NODE FILTER: FILTER's value in the "after" snapshot minus the
# "before" one ("?" when either lacks it).
delta() {
	local a b
	a=$(jq -er "$2" "$TMPD/snap-$1-after.json") || { echo "?"; return; }
	b=$(jq -er "$2" "$TMPD/snap-$1-before.json") || { echo "?"; return; }
	echo $((a - b))
}

# start_all_daemons: front (UNMATCHED, default table) and every back.
start_all_daemons() {
	local unmatched=${1:-hash} i
	front_conf "$(mslbd_conf f)" "$unmatched" || return 1
	mslbd_start f "$(mslbd_conf f)" || return 1
	for i in $(seq 1 "$TOPO_NBACKS"); do
		back_conf "$(mslbd_conf "b$i")" "$i" || return 1
		mslbd_start "b$i" "$(mslbd_conf "b$i")" || return 1
	done
}

# ---------------------------------------------------------------- captures
# link_cap KEY NODE IF FILTER: tcpdump of whole packets matching FILTER (a
# pcap filter) into $TMPD/KEY.pcap; returns once it listens.
link_cap() {
	bg_start "$1" "$2" tcpdump -i "$3" -n -U --immediate-mode -Z root -s 0 -B 16384 \
		-w "$TMPD/$1.pcap" "$4"
	wait_for 10 grep -q "listening on" "$TMPD/$1.log"
}
pcap_count() { # pcap_count KEY: packets in the capture
	"$PYTHON" -c 'import sys
from scapy.utils import RawPcapReader
print(sum(1 for _ in RawPcapReader(sys.argv[1])))' "$TMPD/$1.pcap"
}


# pkt_kinds PCAP: one line per kind of IP packet in the capture, sorted:
#   "v4 SRC > DST"                               not a tunnel
#   "v4 SRC > DST fragment"                      a fragment, not a tunnel
#   "v4 SRC > DST proto 4: v4 ISRC > IDST"       IP-in-IP (outer, inner)
#   "v6 SRC > DST fragment proto 41[: ...]"       an outer fragment (first: inner shown)
# (protocol 4 / 41 of an IPv6 header is the next header after any extension
# header.)
pkt_kinds() {
	"$PYTHON" - "$1" <<'PYEOF'
import sys, socket
from scapy.utils import RawPcapReader

def ntop(b):
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, bytes(b))

def ip_packets(path):
    reader = RawPcapReader(path)
    lt = reader.linktype
    for data, meta in reader:
        if lt == 1:
            et, off = int.from_bytes(data[12:14], 'big'), 14
            while et in (0x8100, 0x88a8):
                et, off = int.from_bytes(data[off + 2:off + 4], 'big'), off + 4
        elif lt == 113:
            et, off = int.from_bytes(data[14:16], 'big'), 16
        elif lt == 276:
            et, off = int.from_bytes(data[0:2], 'big'), 20
        else:
            raise SystemExit("unsupported link type %d" % lt)
        if et in (0x0800, 0x86dd):
            yield data[off:]

def hdr(p):
    """(family, src, dst, proto, payload, fragment?, first fragment?)"""
    if p[0] >> 4 == 4:
        ihl = (p[0] & 15) * 4
        fo = int.from_bytes(p[6:8], 'big')
        return ('v4', ntop(p[12:16]), ntop(p[16:20]), p[9], p[ihl:int.from_bytes(p[2:4], 'big')],
                (fo & 0x3fff) != 0, (fo & 0x1fff) == 0)
    nh, off, frag, first = p[6], 40, False, True
    end = 40 + int.from_bytes(p[4:6], 'big')
    while nh in (0, 43, 44, 60) and off + 8 <= len(p):
        if nh == 44:
            frag = True
            first = (int.from_bytes(p[off + 2:off + 4], 'big') >> 3) == 0
            nh, off = p[off], off + 8
        else:
            nh, off = p[off], off + 8 + p[off + 1] * 8
    return 'v6', ntop(p[8:24]), ntop(p[24:40]), nh, p[off:end], frag, first

kinds = set()
for p in ip_packets(sys.argv[1]):
    fam, src, dst, proto, pl, frag, first = hdr(p)
    line = '%s %s > %s' % (fam, src, dst)
    if frag:
        line += ' fragment'
    if proto in (4, 41):
        line += ' proto %d' % proto
        if first and len(pl) >= (20 if pl[:1] and pl[0] >> 4 == 4 else 40):
            ifam, isrc, idst = hdr(pl)[:3]
            line += ': %s %s > %s' % (ifam, isrc, idst)
    kinds.add(line)
for k in sorted(kinds):
    print(k)
PYEOF
}

# cap_start KEY NODE IF: tcpdump of packets to IP_S, written to $TMPD/KEY.pcap.
cap_start() {
	local key=$1 n=$2 ifc=$3
	bg_start "$key" "$n" tcpdump -i "$ifc" -n -U --immediate-mode -Z root -s 4096 -B 16384 \
		-w "$TMPD/$key.pcap" "dst host $IPS4 or dst host $IPS6"
	wait_for 10 grep -q "listening on" "$TMPD/$key.log"
}

# cap_settle KEY...: wait (10 s at most) until the capture files stop
# growing: the same sizes 0.2 s apart.
cap_settle() {
	_CAP_SIZES=""
	WAIT_STEP=0.2 wait_for 10 _cap_same "$@"
}
_cap_same() {
	local cur="" k
	for k in "$@"; do cur="$cur $(stat -c %s "$TMPD/$k.pcap" 2>/dev/null)"; done
	[ "$cur" = "$_CAP_SIZES" ] && return 0
	_CAP_SIZES=$cur
	return 1
}

# pcap_compare SENT.pcap RECEIVED.pcap DST...: every IP packet to DST in the
# first capture appears in the second, byte for byte except the TTL / hop
# limit and the IPv4 header checksum. Prints one line per category
# ("v4-tcp 12 12": sent, matched) and "unmatched N"; exit 0 if all matched.
pcap_compare() {
	"$PYTHON" - "$@" <<'PYEOF'
import sys
from collections import Counter
from scapy.utils import RawPcapReader

sent_file, recv_file, dsts = sys.argv[1], sys.argv[2], sys.argv[3:]
import socket
dst4 = {socket.inet_pton(socket.AF_INET, d) for d in dsts if ':' not in d}
dst6 = {socket.inet_pton(socket.AF_INET6, d) for d in dsts if ':' in d}

def ip_packets(path):
    """Yield the IP packet of each frame (Ethernet or cooked), trimmed to
    the IP length (no link padding)."""
    reader = RawPcapReader(path)
    linktype = reader.linktype
    for data, meta in reader:
        if meta.caplen != meta.wirelen:
            raise SystemExit("%s: truncated capture (%d of %d bytes)" % (path, meta.caplen, meta.wirelen))
        if linktype == 1:            # Ethernet
            et, off = int.from_bytes(data[12:14], 'big'), 14
            while et in (0x8100, 0x88a8):
                et, off = int.from_bytes(data[off + 2:off + 4], 'big'), off + 4
        elif linktype == 113:        # Linux cooked v1
            et, off = int.from_bytes(data[14:16], 'big'), 16
        elif linktype == 276:        # Linux cooked v2
            et, off = int.from_bytes(data[0:2], 'big'), 20
        elif linktype in (101, 12):  # raw IP
            et, off = (0x86dd if data[0] >> 4 == 6 else 0x0800), 0
        else:
            raise SystemExit("unsupported link type %d" % linktype)
        pkt = data[off:]
        if et == 0x0800 and len(pkt) >= 20:
            pkt = pkt[:int.from_bytes(pkt[2:4], 'big')]
        elif et == 0x86dd and len(pkt) >= 40:
            pkt = pkt[:40 + int.from_bytes(pkt[4:6], 'big')]
        else:
            continue
        yield pkt
    reader.close()

def normalize(pkt):
    b = bytearray(pkt)
    if b[0] >> 4 == 4:
        b[8] = 0                     # TTL
        b[10:12] = b'\0\0'           # header checksum
    else:
        b[7] = 0                     # hop limit
    return bytes(b)

def category(pkt):
    if pkt[0] >> 4 == 4:
        fam, proto = 'v4', pkt[9]
        frag = int.from_bytes(pkt[6:8], 'big') & 0x3fff
        if frag:
            return 'v4-frag'
    else:
        fam, proto = 'v6', pkt[6]
        if proto == 44:
            return 'v6-frag'
    return '%s-%s' % (fam, {6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp'}.get(proto, str(proto)))

def to_dst(pkt):
    if pkt[0] >> 4 == 4:
        return pkt[16:20] in dst4
    return pkt[24:40] in dst6

sent = [p for p in ip_packets(sent_file) if to_dst(p)]
recv = Counter(normalize(p) for p in ip_packets(recv_file) if to_dst(p))
stats = {}
unmatched = 0
for p in sent:
    cat = category(p)
    s = stats.setdefault(cat, [0, 0])
    s[0] += 1
    n = normalize(p)
    if recv[n] > 0:
        recv[n] -= 1
        s[1] += 1
    else:
        unmatched += 1
        if unmatched <= 5:
            sys.stderr.write("unmatched %s packet (%d bytes): %s\n" % (cat, len(p), p[:64].hex()))
for cat in sorted(stats):
    print(cat, stats[cat][0], stats[cat][1])
print("unmatched", unmatched)
sys.exit(0 if sent and unmatched == 0 else 1)
PYEOF
}

# send_raw_udp CLIENT SRC DST DPORT LEN [CSUM0]: one UDP datagram built by
# scapy (LEN payload bytes, fragmented if larger than the MTU by the kernel);
# CSUM0=1 sends IPv4 UDP checksum 0 (no checksum).
send_raw_udp() {
	nsx "$1" "$PYTHON" - "$2" "$3" "$4" "$5" "${6:-0}" <<'PYEOF'
import sys, socket
src, dst, dport, length, csum0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == '1'
from scapy.all import IP, IPv6, UDP, Raw, send, fragment, fragment6, IPv6ExtHdrFragment
payload = bytes((i * 7 + 3) & 0xff for i in range(length))
if ':' in dst:
    pkt = IPv6(src=src, dst=dst) / UDP(sport=40007, dport=dport) / Raw(payload)
    if len(pkt) > 1280:
        pkt = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=0x4d534c42) / UDP(sport=40007, dport=dport) / Raw(payload)
        pkts = fragment6(pkt, 1280)
    else:
        pkts = [pkt]
else:
    u = UDP(sport=40007, dport=dport)
    if csum0:
        u.chksum = 0
    pkt = IP(src=src, dst=dst, id=0x4d53) / u / Raw(payload)
    pkts = fragment(pkt, 1400) if len(pkt) > 1500 else [pkt]
send(pkts, verbose=False)
PYEOF
}

# ---------------------------------------------------------------- ip state
# rules_canon NODE 4|6: the policy rules, one "PRIO key=value..." per line.
rules_canon() {
	ip -n "$(ns "$1")" "-$2" -j rule show | jq -r '.[] |
		"\(.priority) " + ([to_entries[] | select(.key != "priority" and .key != "protocol"
			and .key != "flags" and (.key != "src" or .value != "all"))
			| "\(.key)=\(.value)"] | sort | join(" "))'
}
# routes_canon NODE 4|6 TABLE: routes of TABLE, "DST key=value..." per line.
routes_canon() {
	ip -n "$(ns "$1")" "-$2" -j route show table all | jq -r --arg t "$3" '.[] |
		select((.table // "main") == $t) |
		"\(.type // "unicast") \(.dst) dev=\(.dev // "-") via=\(.gateway // "-")"' | sort
}
routes_all() { ip -n "$(ns "$1")" "-$2" -j route show table all | jq -c 'map(del(.expires)) | sort_by(tostring)'; }
sysctl_get() { nsx "$1" sysctl -n "$2" 2>/dev/null; }

# ---------------------------------------------------------------- MPTCP
# require_mptcp: skip unless the kernel has MPTCP (net.mptcp in a fresh
# namespace, and an IPPROTO_MPTCP socket can be created there).
require_mptcp() {
	local probe="mslb-probe-$SUFFIX" ok=1
	ip netns add "$probe" 2>/dev/null || skip_all "kernel without network namespaces"
	[ "$(ip netns exec "$probe" sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || ok=0
	[ "$ok" = 1 ] && { ip netns exec "$probe" "$PYTHON" -c \
		'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()' \
		>/dev/null 2>&1 || ok=0; }
	ip netns del "$probe"
	[ "$ok" = 1 ] || skip_all "kernel without MPTCP (net.mptcp.enabled, IPPROTO_MPTCP sockets)"
}

# nstat_get NODE COUNTER: absolute value of a SNMP/netstat counter in NODE's
# namespace ("absent" if the kernel does not have it). Each namespace keeps
# its own nstat history file in $TMPD.
nstat_get() {
	local v
	v=$(NSTAT_HISTORY=$TMPD/nstat-$1.hist nsx "$1" nstat -az "$2" 2>/dev/null |
		awk -v c="$2" '$1 == c { print $2 }')
	echo "${v:-absent}"
}

# rps_by_flow NODE...: every veth of these namespaces hands a flow's
# packets to one CPU chosen by its hash (RPS over all CPUs). Without it a
# veth queues each packet on the sending CPU's backlog, and a sender that
# moves between CPUs (a loaded machine) can reorder a flow: the kernel's
# doing, which would hide or fake a test of mslbd's order.
rps_by_flow() {
	local n d q mask
	mask=$(printf '%x' $(( (1 << $(nproc)) - 1 )))
	for n in "$@"; do
		for d in $(nsx "$n" ip -j link show type veth | jq -r '.[].ifname'); do
			for q in $(nsx "$n" sh -c "ls -d /sys/class/net/$d/queues/rx-*"); do
				nsx "$n" sh -c "echo $mask >$q/rps_cpus" || return 1
			done
		done
	done
}

# kernel_drops NODE...: "N (where)" - packets the kernels of these
# namespaces dropped on the way: socket buffers (UDP, a TCP receive queue),
# IP discards, and every device's rx and tx drops. Such a loss, not a fault
# of mslbd's, is what puts a TCP segment out of order on veth links.
KERNEL_DROP_COUNTERS="UdpRcvbufErrors Udp6RcvbufErrors UdpInErrors Udp6InErrors
IpInDiscards Ip6InDiscards IpOutDiscards Ip6OutDiscards TcpExtTCPRcvQDrop
TcpExtPruneCalled TcpExtTCPBacklogDrop TcpExtTCPZeroWindowDrop"
kernel_drops() {
	local n sum=0 where="" c v
	for n in "$@"; do
		while read -r c v; do
			[ "${v:-0}" -gt 0 ] 2>/dev/null || continue
			sum=$((sum + v)) where="$where $n:$c=$v"
		done < <(
			# shellcheck disable=SC2086 # a list of counter names
			NSTAT_HISTORY=$TMPD/nstat-$n.hist nsx "$n" nstat -az $KERNEL_DROP_COUNTERS 2>/dev/null |
				awk '$1 !~ /^#/ { print $1, $2 }'
			nsx "$n" ip -s -j link show |
				jq -r '.[] | "\(.ifname)/rx \(.stats64.rx.dropped)", "\(.ifname)/tx \(.stats64.tx.dropped)"'
		)
	done
	echo "$sum${where:+ (${where# })}"
}

# mptcp_limits NODE: "subflows N add_addr_accepted M" as `ip mptcp limits`.
mptcp_limits() { ip -n "$(ns "$1")" mptcp limits show | tr -s ' \n' ' ' | sed 's/ $//'; }
# mptcp_endpoints NODE: `ip mptcp endpoint show`, sorted.
mptcp_endpoints() { ip -n "$(ns "$1")" mptcp endpoint show | sed 's/ *$//' | sort; }
