#!/bin/bash
# tests/run-test.sh TEST [ARGS...]: automake's LOG_COMPILER for every test
# in TESTS (Makefile.am), so that a hung test fails and `make check` goes on.
#
# TEST runs in a session of its own. After MSLB_TEST_TIMEOUT seconds
# (default 600; 0: no bound) every process of that session gets SIGTERM:
# a netns test's trap then stops its daemons and deletes its namespaces
# (tests/netns/lib.sh), and the command it was blocked in gets the signal
# too, so the trap runs at once. Whatever is left MSLB_TEST_GRACE seconds
# later (default 60) gets SIGKILL. A test that timed out exits 124, as
# with timeout(1): a FAIL. An INT, TERM or HUP sent to this script (Ctrl-C
# on make reaches make's process group, not the test's session) stops the
# test the same way.
set -u

name=${1:?usage: run-test.sh TEST [ARGS...]}
limit=${MSLB_TEST_TIMEOUT:-600}
grace=${MSLB_TEST_GRACE:-60}
case $limit:$grace in
*[!0-9:]* | :* | *:) echo "run-test.sh: MSLB_TEST_TIMEOUT and MSLB_TEST_GRACE are whole seconds" >&2; exit 99 ;;
esac

# wait -n -p is bash 5.1's. Before it, timeout(1): the same bound, but its
# signal reaches only the test's process group.
if [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" -eq 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
	[ "$limit" -gt 0 ] || exec "$@"
	exec timeout -k "$grace" "$limit" "$@"
fi

# members: the processes of the test's session, zombies aside.
members() {
	ps -e -o sid=,pid=,stat= | awk -v s="$sid" '$1 == s && $3 !~ /^Z/ { print $2 }'
}

# stop WHY: SIGTERM to the session, SIGKILL to what is left after the grace.
stop() {
	local pids end
	echo "run-test.sh: $name: $1: SIGTERM to its processes" >&2
	pids=$(members)
	# shellcheck disable=SC2086 # one word per pid
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	end=$((SECONDS + grace))
	while pids=$(members); [ -n "$pids" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	if [ -n "$pids" ]; then
		echo "run-test.sh: $name: still running ${grace} s later: SIGKILL to ${pids//$'\n'/ }" >&2
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
	fi
}

signalled=""
trap 'signalled=INT' INT
trap 'signalled=TERM' TERM
trap 'signalled=HUP' HUP

# A background job of a script is no process group leader, so setsid(1)
# calls setsid() without forking: the test's pid is its session's id.
# Bash starts a background job with SIGINT ignored, which a trap in the
# test could not undo: env(1) gives it back its default where it can.
dflt=()
env --default-signal=INT true 2>/dev/null && dflt=(env --default-signal=INT)
setsid "${dflt[@]}" "$@" &
sid=$!
timer=""
if [ "$limit" -gt 0 ]; then
	sleep "$limit" &
	timer=$!
fi

why=""
while :; do
	ended=""
	wait -n -p ended "$sid" ${timer:+"$timer"}
	rc=$?
	if [ -n "$signalled" ]; then
		why="SIG$signalled"
		break
	fi
	[ "$ended" = "$sid" ] && break
	if [ -z "$ended" ] && ! kill -0 "$sid" 2>/dev/null; then
		wait "$sid"
		rc=$?
		break
	fi
	if [ -n "$timer" ] && [ "$ended" = "$timer" ]; then
		timer=""
		why="timed out after $limit s (MSLB_TEST_TIMEOUT)"
		break
	fi
done
[ -n "$timer" ] && kill "$timer" 2>/dev/null && wait "$timer" 2>/dev/null

if [ -z "$why" ]; then
	# Ended by itself. Anything of its session still running is a leak:
	# named in the log and stopped; the test's status stands.
	[ -n "$(members)" ] && stop "left processes running"
	exit "$rc"
fi
stop "$why"
wait "$sid"
rc=$?
echo "run-test.sh: $name: exit status $rc after the stop" >&2
case $signalled in
INT) exit 130 ;;
TERM) exit 143 ;;
HUP) exit 129 ;;
esac
exit 124
