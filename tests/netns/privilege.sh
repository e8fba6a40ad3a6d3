#!/bin/bash
# tests/netns/privilege.sh: mslbd with least privilege, as the shipped unit
# runs it and as `user = "..."` leaves it.
#
# (a) f (front) and b1 (back) started as an unprivileged account (nobody)
#     holding only CAP_NET_ADMIN and CAP_NET_RAW, ambient, as
#     systemd/mslbd.service gives them: they start, forward ping and TCP
#     from c1 to IP_S on s1, reload, and on SIGTERM leave no device, route,
#     rule or sysctl change behind.
# (b) the same daemons started as root with `user = "nobody";`: they switch
#     (Uid nobody, CapPrm = CapEff = net_admin + net_raw, nothing inheritable,
#     ambient or bounding, no groups), create their socket's missing
#     directory for that account, forward, reload; a reload that changes
#     user is refused; SIGTERM cleans up.
# (c) an MPTCP back whose server_id is below 1024 (its endpoint binds a
#     privileged port): without CAP_NET_BIND_SERVICE it is refused at its
#     line, with it (the unit's set) it starts and the endpoint is there;
#     started as root with user, the switch keeps CAP_NET_BIND_SERVICE.
#
# Where /dev/net/tun is root-only (no udev), (a) and (c) see a 0666 node of
# their own, bound over it in a private mount namespace, as the unit's
# PrivateDevices + BindPaths gives the host's node on a udev system.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# This test chooses the account and capabilities of each daemon itself.
MSLB_TEST_USER=

lib_init
require_netns tun
require_cmd ip jq setpriv unshare mknod socat ping ss timeout getent
require_mslbd

PUSER=nobody
getent passwd "$PUSER" >/dev/null || bail "no account $PUSER"
PUID=$(id -u "$PUSER")
PGID=$(id -g "$PUSER")

# The account must reach the configs and the socket directories: a
# directory of its own outside $TMPD (0700).
PRIVD=$(mktemp -d "/tmp/mslb-priv-$SUFFIX-XXXX") || bail "mktemp"
chmod 0755 "$PRIVD"
priv_cleanup() {
	local rc=$?
	rm -rf "$PRIVD"
	(exit "$rc")
	cleanup
}
trap priv_cleanup EXIT

# Capability bits (linux/capability.h), for /proc/PID/status.
CAP_NET_BIND_SERVICE=10
CAP_NET_ADMIN=12
CAP_NET_RAW=13
capmask() { local m=0 b; for b in "$@"; do m=$((m | 1 << b)); done; printf '%016x' "$m"; }

TUN_WRAP=()
if ! setpriv --reuid="$PUID" --regid="$PGID" --clear-groups test -r /dev/net/tun -a -w /dev/net/tun; then
	mknod -m 0666 "$PRIVD/tun" c 10 200 || bail "mknod"
	# shellcheck disable=SC2016
	TUN_WRAP=(unshare --mount --propagation private sh -c 'mount --bind "$0" /dev/net/tun && exec "$@"' "$PRIVD/tun")
fi

# conf NODE KIND [EXTRA]: the lib's configuration for NODE (front or back
# 1), with its socket under $PRIVD/run-NODE and EXTRA lines after the head.
conf() {
	local n=$1 kind=$2 extra=${3:-} file="$PRIVD/$1.conf"
	case $kind in
	front) front_conf "$TMPD/$n.conf" hash ;;
	back) back_conf "$TMPD/$n.conf" 1 ;;
	esac
	{
		sed "s|^control_socket = .*|control_socket = \"$PRIVD/run-$n/mslbd.sock\";|" "$TMPD/$n.conf"
		[ -n "$extra" ] && echo "$extra"
	} >"$file"
	chmod 0644 "$file"
	echo "$file"
}

# priv_start NODE CONF CAPS|root: mslbd -f in NODE's namespace, as nobody
# with CAPS (comma-separated, e.g. net_admin,net_raw) ambient and nothing
# else, or as root; wait until it answers `status`.
priv_start() {
	local n=$1 conf=$2 caps=$3 pid deadline rc
	local -a run=()
	if [ "$caps" != root ]; then
		local c="+${caps//,/,+}"
		run=("${TUN_WRAP[@]}" setpriv --reuid="$PUID" --regid="$PGID" --clear-groups
			--inh-caps="$c" --ambient-caps="$c" --bounding-set="-all,$c")
	fi
	ip netns exec "$(ns "$n")" "${run[@]}" "$MSLBD" -f -c "$conf" >>"$TMPD/mslbd-$n.log" 2>&1 </dev/null &
	pid=$!
	MSLBD_PID[$n]=$pid
	deadline=$(($(now_ms) + ${MSLB_START_TIMEOUT:-15} * 1000))
	while ! nsx "$n" "$MSLBD" status -c "$conf" >/dev/null 2>&1; do
		if ! _alive "$pid"; then
			wait "$pid" 2>/dev/null; rc=$?
			unset "MSLBD_PID[$n]"
			echo "mslbd on $n exited with $rc before it was ready"
			tail -n 5 "$TMPD/mslbd-$n.log"
			return 1
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "mslbd on $n not ready in time"
			return 1
		fi
		sleep 0.1
	done
}

# start_ok MSG NODE CONF CAPS|root: priv_start as a TAP check (in this
# shell, not in check's subshell, which would lose the daemon's pid).
start_ok() {
	local msg=$1; shift
	if priv_start "$@" >"$TMPD/start.out" 2>&1; then
		tap_ok "$msg"
	else
		tap_fail "$msg"
		diag "$(cat "$TMPD/start.out")"
		return 1
	fi
}

# state NODE: what the daemon changes on its host, to compare after SIGTERM.
state() {
	local v k
	for v in 4 6; do
		echo "== rules v$v"; rules_canon "$1" "$v"
		echo "== routes v$v"; routes_all "$1" "$v"
	done
	echo "== links"; ip -n "$(ns "$1")" -o link show | awk -F': ' '{print $2}' | sort
	echo "== sysctls"
	for k in net.ipv4.ip_forward net.ipv6.conf.all.forwarding; do echo "$k=$(sysctl_get "$1" "$k")"; done
	echo "== mptcp"; mptcp_endpoints "$1"; mptcp_limits "$1"
}

# proc_field PID FIELD: a line of /proc/PID/status without its name (tabs kept).
proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

# forwards WHAT: ping (v4, v6) and a TCP name fetch from c1 to IP_S.
forwards() {
	check "$1: c1 pings $IPS4" ping_ok c1 "$IPS4" 3
	check "$1: c1 pings $IPS6" ping_ok c1 "$IPS6" 3
	check_eq "$1: c1 fetches the name of s1 over IPv4" s1 "$(fetch_name c1 "$IPS4")"
}

# reloads WHAT NODE CONF: `mslbd reload`, as root and as the account.
reloads() {
	local out rc
	out=$(mslbd_cli "$2" reload -c "$3" 2>&1); rc=$?
	check_rc "$1: $2 reloads (root client)" 0 "$rc" "$out"
	out=$(nsx "$2" setpriv --reuid="$PUID" --regid="$PGID" --clear-groups "$MSLBD" reload -c "$3" 2>&1); rc=$?
	check_rc "$1: $2 reloads (client as $PUSER)" 0 "$rc" "$out"
}

# stops WHAT NODE...: SIGTERM, exit 0, and the host as before.
stops() {
	local what=$1 n rc; shift
	for n in "$@"; do
		mslbd_stop "$n"; rc=$?
		check_rc "$what: $n exits 0 on SIGTERM" 0 "$rc" "$(tail -n 5 "$TMPD/mslbd-$n.log")"
		check_eq "$what: $n left nothing behind" "$(cat "$TMPD/state-$n.before")" "$(state "$n")"
		check_eq "$what: $n removed its socket and lock" "" "$(ls -A "$PRIVD/run-$n" 2>/dev/null)"
	done
}

topo_create 1 1 mslb || bail "topology"
srv_start_names 1 || bail "name service on s1"
for n in f b1; do state "$n" >"$TMPD/state-$n.before"; done

# ---------------------------------------------------------------- (a)
FC=$(conf f front)
BC=$(conf b1 back)
for n in f b1; do
	mkdir -p "$PRIVD/run-$n" && chown "$PUID:$PGID" "$PRIVD/run-$n" && chmod 0750 "$PRIVD/run-$n" ||
		bail "socket directory"
done
start_ok "ambient: front starts as $PUSER with net_admin,net_raw" f "$FC" net_admin,net_raw || bail "front"
start_ok "ambient: back starts as $PUSER with net_admin,net_raw" b1 "$BC" net_admin,net_raw || bail "back"
for n in f b1; do
	pid=${MSLBD_PID[$n]}
	check_eq "ambient: $n runs as uid $PUID" "$PUID	$PUID	$PUID	$PUID" "$(proc_field "$pid" Uid)"
	check_eq "ambient: $n CapEff" "$(capmask $CAP_NET_ADMIN $CAP_NET_RAW)" "$(proc_field "$pid" CapEff)"
done
forwards ambient
reloads ambient f "$FC"
reloads ambient b1 "$BC"
forwards "ambient, reloaded"
stops ambient f b1

# ---------------------------------------------------------------- (b)
# Root with user: the socket directories are missing; the daemon makes them.
rm -rf "$PRIVD/run-f" "$PRIVD/run-b1"
FC=$(conf f front "user = \"$PUSER\";")
BC=$(conf b1 back "user = \"$PUSER\";")
start_ok "user: front starts as root with user = \"$PUSER\"" f "$FC" root || bail "front"
start_ok "user: back starts as root with user = \"$PUSER\"" b1 "$BC" root || bail "back"
for n in f b1; do
	pid=${MSLBD_PID[$n]}
	check_eq "user: $n Uid" "$PUID	$PUID	$PUID	$PUID" "$(proc_field "$pid" Uid)"
	check_eq "user: $n Gid" "$PGID	$PGID	$PGID	$PGID" "$(proc_field "$pid" Gid)"
	check_eq "user: $n no supplementary groups" "" "$(proc_field "$pid" Groups)"
	check_eq "user: $n CapPrm = net_admin + net_raw" "$(capmask $CAP_NET_ADMIN $CAP_NET_RAW)" "$(proc_field "$pid" CapPrm)"
	check_eq "user: $n CapEff = net_admin + net_raw" "$(capmask $CAP_NET_ADMIN $CAP_NET_RAW)" "$(proc_field "$pid" CapEff)"
	check_eq "user: $n CapInh, CapAmb, CapBnd empty" "$(capmask) $(capmask) $(capmask)" \
		"$(proc_field "$pid" CapInh) $(proc_field "$pid" CapAmb) $(proc_field "$pid" CapBnd)"
	check_eq "user: $n made its socket directory for $PUSER" "$PUID:$PGID 750" \
		"$(stat -c '%u:%g %a' "$PRIVD/run-$n")"
	check_match "user: $n logged what it kept" "running as user $PUSER .*capabilities kept: net_admin, net_raw$" \
		"$(cat "$TMPD/mslbd-$n.log")"
done
forwards user
reloads user f "$FC"
reloads user b1 "$BC"
forwards "user, reloaded"
sed -i "s|^user = .*|user = \"root\";|" "$FC"
out=$(mslbd_cli f reload -c "$FC" 2>&1); rc=$?
check_rc "user: a reload to another user is refused (exit 2)" 2 "$rc" "$out"
sed -i "s|^user = .*|user = \"daemon\";|" "$FC"
out=$(mslbd_cli f reload -c "$FC" 2>&1)
check_match "user: ... at its line, restart needed" "^$FC:[0-9]+: user: \"daemon\" cannot change on reload .*restart" "$out"
sed -i "s|^user = .*|user = \"$PUSER\";|" "$FC"
forwards "user, refused reload"
stops user f b1

# ---------------------------------------------------------------- (c)
# An MPTCP back on the server, announcing IP_S with a privileged server_id.
if [ "$(sysctl_get s1 net.mptcp.enabled)" != 1 ]; then
	tap_skip "MPTCP back with server_id 901" "kernel without MPTCP"
	tap_done
fi
SID=901
state s1 >"$TMPD/state-s1.before"
mptcp_conf() { # mptcp_conf [EXTRA]
	local file="$PRIVD/s1.conf"
	{
		_conf_head s1 | sed "s|^control_socket = .*|control_socket = \"$PRIVD/run-s1/mslbd.sock\";|"
		[ -n "${1:-}" ] && echo "$1"
		cat <<EOF
back = {
  addresses = ( { address = "${IPB4[1]}"; service = "$IPS4"; } );
  mptcp = { server_id = $SID; };
};
EOF
	} >"$file"
	chmod 0644 "$file"
	echo "$file"
}
MC=$(mptcp_conf)
rm -rf "$PRIVD/run-s1"
mkdir -m 0750 "$PRIVD/run-s1" && chown "$PUID:$PGID" "$PRIVD/run-s1" || bail "socket directory"
out=$(ip netns exec "$(ns s1)" "${TUN_WRAP[@]}" setpriv --reuid="$PUID" --regid="$PGID" --clear-groups \
	--inh-caps=+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw --bounding-set=-all,+net_admin,+net_raw \
	timeout 20 "$MSLBD" -f -c "$MC" 2>&1 </dev/null); rc=$?
check_rc "mptcp: server_id $SID without net_bind_service: refused (exit 2)" 2 "$rc" "$out"
check_match "mptcp: ... at server_id's line, naming CAP_NET_BIND_SERVICE" \
	"^mslbd: error: $MC:[0-9]+: back.mptcp.server_id: port $SID is privileged: .*CAP_NET_BIND_SERVICE" "$out"
check_eq "mptcp: ... and nothing left behind" "$(cat "$TMPD/state-s1.before")" "$(state s1)"

start_ok "mptcp: server_id $SID starts as $PUSER with the unit's three capabilities" \
	s1 "$MC" net_admin,net_raw,net_bind_service || bail "mptcp back"
check_eq "mptcp: endpoint $IPS4 port $SID" "$IPS4 port $SID id 1 signal" \
	"$(mptcp_endpoints s1 | sed 's/ id [0-9]* / id 1 /')"
check_eq "mptcp: listener on $IPS4:$SID" 1 "$(nsx s1 ss -H -ltn "src $IPS4 and sport = :$SID" | wc -l)"
out=$(mslbd_cli s1 reload -c "$MC" 2>&1); rc=$?
check_rc "mptcp: reload" 0 "$rc" "$out"
stops mptcp s1

MC=$(mptcp_conf "user = \"$PUSER\";")
start_ok "mptcp: server_id $SID starts as root with user = \"$PUSER\"" s1 "$MC" root || bail "mptcp back"
check_eq "mptcp: the switch kept net_bind_service too" \
	"$(capmask $CAP_NET_ADMIN $CAP_NET_RAW $CAP_NET_BIND_SERVICE)" "$(proc_field "${MSLBD_PID[s1]}" CapEff)"
check_eq "mptcp: endpoint $IPS4 port $SID (user)" "$IPS4 port $SID id 1 signal" \
	"$(mptcp_endpoints s1 | sed 's/ id [0-9]* / id 1 /')"
stops "mptcp, user" s1

tap_done
