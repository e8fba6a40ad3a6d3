#!/bin/bash
# bench/reloadbench.sh [SERVICES] [TABLE_ENTRIES]: what a start and a reload
# of mslbd cost with the host's routes and rules, in a network namespace
# of its own (root): SERVICES IPv6 services and as many back addresses
# (bench/bigconf.sh), one route and one rule or two each through netlink.
# Times: the start (until `mslbd status` answers), a reload of the same
# file (nothing to change on the host), and a reload to a file whose
# services and back addresses are all others (every route and rule
# removed and added again). MSLBD=path picks the binary.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
mslbd=${MSLBD:-${BUILDDIR:-$top/_build}/src/mslbd}
n=${1:-10000}
entries=${2:-0}
ns=mslb-reloadbench-$$
tmp=$(mktemp -d)
sock=$tmp/mslbd.sock
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
conf() { # conf FIRST: the file with services numbered from FIRST
	"$top/bench/bigconf.sh" "$entries" "$n" "$n" "$1" | sed "s|^control_socket = .*|control_socket = \"$sock\";|"
}
ms() { date +%s%3N; }
[ -x "$mslbd" ] || { echo "reloadbench.sh: no $mslbd (build first)" >&2; exit 1; }
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
conf 1 >"$tmp/a.conf"
conf $((n + 1)) >"$tmp/b.conf"
cp "$tmp/a.conf" "$tmp/mslb.conf"
t0=$(ms)
ip netns exec "$ns" "$mslbd" -f -c "$tmp/mslb.conf" >"$tmp/log" 2>&1 </dev/null &
pid=$!
until ip netns exec "$ns" "$mslbd" status -s "$sock" >/dev/null 2>&1; do
	kill -0 "$pid" 2>/dev/null || { echo "mslbd exited:" >&2; cat "$tmp/log" >&2; exit 1; }
	sleep 0.02
done
t1=$(ms)
routes() { ip -n "$ns" -6 route show table all | wc -l; }
rules() { ip -n "$ns" -6 rule show | wc -l; }
echo "$n services and back addresses, $entries table entries: start $((t1 - t0)) ms ($(routes) IPv6 routes, $(rules) IPv6 rules)"
# reload: the time until the log says it is done. Not the client's
# reply: a connection the daemon has held 10 s is closed unanswered
# (daemon/loop.c), however the reload went.
reload() {
	local before; before=$(grep -c "reloaded\|refused" "$tmp/log")
	t0=$(ms)
	ip netns exec "$ns" "$mslbd" reload -s "$sock" >/dev/null 2>&1
	until [ "$(grep -c "reloaded\|refused" "$tmp/log")" -gt "$before" ]; do
		kill -0 "$pid" 2>/dev/null || { echo "mslbd exited:" >&2; tail "$tmp/log" >&2; exit 1; }
		sleep 0.02
	done
	t1=$(ms)
	grep -q refused "$tmp/log" && { echo "reload refused:" >&2; tail "$tmp/log" >&2; exit 1; }
}
reload
echo "reload, nothing changed: $((t1 - t0)) ms"
cp "$tmp/b.conf" "$tmp/mslb.conf"
reload
echo "reload, every service and back address replaced: $((t1 - t0)) ms ($(routes) IPv6 routes, $(rules) IPv6 rules)"
