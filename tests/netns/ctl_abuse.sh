#!/bin/bash
# tests/netns/ctl_abuse.sh: the control socket under abuse (mslbd(8),
# CONTROL SOCKET).
#
# A front and one back (the standard topology, c1 -> f -> b1 -> s1). Then:
#   1. 1,000 clients connect and never write or read, then 200 that send
#      "status json" and never read: `mslbd status` still answers within a
#      few seconds, c1's pings through both daemons are all answered, the
#      front's RSS grows by a bounded amount and its log has a bounded
#      number of lines about it.
#   2. The front's descriptor limit is lowered (prlimit) so accept() fails
#      with EMFILE: while a flood of clients connects the daemon stays
#      under 20% of a core (it used to spin at 93%), status still answers,
#      and with no descriptor left at all a client is told why (exit 1).
#   3. A peer that is neither root nor the daemon's user gets exit 1 and a
#      message, never 141 (SIGPIPE); the socket is mode 0600.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

# The daemons stay root here: prlimit on another user's process needs
# CAP_SYS_RESOURCE, which root in a container may lack.
MSLB_TEST_USER=
lib_init
require_netns tun
require_cmd ip ping socat prlimit setpriv timeout awk getconf
require_mslbd

NCLIENTS=1000		# idle clients of step 1
NREQ=200		# clients of step 1 that ask and never read
STATUS_MAX_MS=3000	# `mslbd status` must answer within this
RSS_GROWTH_MAX_KB=32768	# the front's RSS may grow by this much under the flood
LOG_LINES_MAX=20	# lines about control clients during each flood
CPU_MAX_PCT=20		# of one core, over 2 s, at EMFILE

topo_create 1 1 mslb || bail "topology"
start_all_daemons hash || bail "starting mslbd"
sock=$(mslbd_sock f)
pid=${MSLBD_PID[f]}
flog=$TMPD/mslbd-f.log

# hostile.py SOCK N MODE: N clients that connect (MODE idle: and nothing
# else; request: and send "status json" without ever reading), then hold
# their sockets until killed. Prints "connected C failed F" once done.
cat >"$TMPD/hostile.py" <<'PYEOF'
import resource, socket, sys, time
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 64
if hard != resource.RLIM_INFINITY:
    want = min(want, hard)
if soft == resource.RLIM_INFINITY or soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
held, failed = [], 0
# A full backlog makes connect() fail with EAGAIN at once: try again, for
# 30 s at most in all (a daemon that stops accepting must not hang us).
deadline = time.monotonic() + 30
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    while True:
        try:
            s.connect(path)
            if mode == 'request':
                s.send(b'status json\n')
            held.append(s)
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.001)
                continue
            failed += 1
            s.close()
        except OSError:
            failed += 1
            s.close()
        break
print('connected %d failed %d' % (len(held), failed), flush=True)
time.sleep(3600)
PYEOF

# flood KEY N MODE: start hostile.py; returns once all N tried to connect.
flood() {
	bg_start "$1" f "$PYTHON" "$TMPD/hostile.py" "$sock" "$2" "$3"
	wait_for 120 grep -q '^connected' "$TMPD/$1.log"
}
flood_result() { grep '^connected' "$TMPD/$1.log"; }

# status_timed: run `mslbd status`; prints "RC MS".
status_timed() {
	local t0 rc
	t0=$(now_ms)
	timeout 40 "$MSLBD" status -s "$sock" >"$TMPD/status.out" 2>"$TMPD/status.err" </dev/null
	rc=$?
	echo "$rc $(($(now_ms) - t0))"
}
# status_answers_fast WHAT: status exits 0 within STATUS_MAX_MS (worst of 5).
status_answers_fast() {
	local i r rc ms worst=0 bad=""
	for i in 1 2 3 4 5; do
		r=$(status_timed); rc=${r% *}; ms=${r#* }
		[ "$ms" -gt "$worst" ] && worst=$ms
		[ "$rc" = 0 ] || bad="exit $rc: $(head -c 300 "$TMPD/status.err")"
	done
	diag "status latency $1: worst of 5 = $worst ms"
	if [ -z "$bad" ] && [ "$worst" -le "$STATUS_MAX_MS" ]; then
		tap_ok "status answers $1 ($worst ms)"
	else
		tap_fail "status answers $1"
		diag "worst $worst ms (max $STATUS_MAX_MS) ${bad}"
	fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# cpu_pct PID: percent of one core PID used over the next 2 s.
cpu_pct() {
	local a b hz
	hz=$(getconf CLK_TCK)
	a=$(cpu_ticks "$1"); sleep 2; b=$(cpu_ticks "$1")
	echo $(((b - a) * 100 / (2 * hz)))
}
log_size() { stat -c %s "$flog"; }
# ctl_lines_since BYTES: lines of the front's log about control clients.
ctl_lines_since() { tail -c +$(($1 + 1)) "$flog" | grep -c 'control'; }
# log_bounded WHAT BYTES: no more than LOG_LINES_MAX such lines since BYTES.
log_bounded() {
	local n
	n=$(ctl_lines_since "$2")
	diag "log lines about control clients $1: $n"
	if [ "$n" -le "$LOG_LINES_MAX" ]; then
		tap_ok "log about control clients bounded $1 ($n lines)"
	else
		tap_fail "log about control clients bounded $1"
		diag "$n lines (max $LOG_LINES_MAX):"
		diag "$(tail -c +$(($2 + 1)) "$flog" | grep 'control' | head -n 10)"
	fi
}

# ------------------------------------------------------------ 0. baseline
check_eq "control socket is mode 0600" 600 "$(stat -c %a "$sock")"
check "c1 pings $IPS4 through f and b1" ping_ok c1 "$IPS4" 5
rss0=$(rss_kb "$pid")

# ------------------------------------------------------------ 1. flood
log0=$(log_size)
flood idle "$NCLIENTS" idle || bail "flood of $NCLIENTS idle clients did not finish"
diag "idle flood: $(flood_result idle)"
status_answers_fast "with $NCLIENTS idle clients connected"
check "c1 pings $IPS4 with $NCLIENTS idle clients connected" ping_ok c1 "$IPS4" 20
flood req "$NREQ" request || bail "flood of $NREQ requesting clients did not finish"
diag "requesting flood: $(flood_result req)"
status_answers_fast "with $NREQ more clients that never read"
check "c1 pings $IPS4 with $NREQ clients that never read" ping_ok c1 "$IPS4" 20
rss1=$(rss_kb "$pid")
diag "front RSS: $rss0 kB before, $rss1 kB with the clients"
if [ $((rss1 - rss0)) -le "$RSS_GROWTH_MAX_KB" ]; then
	tap_ok "front RSS grows by at most $RSS_GROWTH_MAX_KB kB ($((rss1 - rss0)) kB)"
else
	tap_fail "front RSS grows by at most $RSS_GROWTH_MAX_KB kB"
	diag "$rss0 kB -> $rss1 kB"
fi
# The idle clients left time out (5 s), and once the 10 s interval of the
# log's limit is over the daemon says how many lines it held back.
if wait_for 15 eval "tail -c +$((log0 + 1)) '$flog' | grep -q 'suppressed'"; then
	tap_ok "the log counts the lines it held back"
else
	tap_fail "the log counts the lines it held back"
fi
log_bounded "during the flood" "$log0"
bg_stop idle
bg_stop req
status_answers_fast "once the clients are gone"

# ------------------------------------------------------------ 2. EMFILE
hard=$(prlimit --pid "$pid" --nofile --noheadings --output HARD | tr -d ' ')
nfd=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
diag "front has $nfd descriptors open; limit $hard"
# Room for a few clients only: the flood reaches EMFILE at once.
prlimit --pid "$pid" --nofile=$((nfd + 4)):"$hard" || bail "prlimit"
log0=$(log_size)
flood emfile 300 idle || bail "flood at EMFILE did not finish"
diag "flood at EMFILE: $(flood_result emfile)"
pct=$(cpu_pct "$pid")
diag "front CPU at EMFILE with clients waiting: $pct% of a core"
if [ "$pct" -le "$CPU_MAX_PCT" ]; then
	tap_ok "no busy loop at EMFILE ($pct% of a core, max $CPU_MAX_PCT%)"
else
	tap_fail "no busy loop at EMFILE ($pct% of a core, max $CPU_MAX_PCT%)"
fi
status_answers_fast "at EMFILE"
check "c1 pings $IPS4 at EMFILE" ping_ok c1 "$IPS4" 10
log_bounded "at EMFILE" "$log0"
bg_stop emfile
# No descriptor to spare at all: the client learns why, exit 1.
wait_for 10 eval "[ \$(find /proc/$pid/fd -mindepth 1 | wc -l) -le $nfd ]"
nfd=$(find "/proc/$pid/fd" -mindepth 1 | wc -l)
prlimit --pid "$pid" --nofile="$nfd:$hard" || bail "prlimit"
r=$(status_timed)
check_rc "status with no descriptor left exits 1" 1 "${r% *}" "$(cat "$TMPD/status.err")"
check_match "... and says the daemon is out of file descriptors" 'out of file descriptors' \
	"$(cat "$TMPD/status.err")"
pct=$(cpu_pct "$pid")
diag "front CPU with no descriptor left: $pct% of a core"
if [ "$pct" -le "$CPU_MAX_PCT" ]; then
	tap_ok "no busy loop with no descriptor left ($pct% of a core)"
else
	tap_fail "no busy loop with no descriptor left ($pct% of a core, max $CPU_MAX_PCT%)"
fi
prlimit --pid "$pid" --nofile="$hard:$hard" || bail "prlimit"
status_answers_fast "once descriptors are back"

# ------------------------------------------------------------ 3. refused peers
# nobody with CAP_DAC_OVERRIDE reaches the 0600 socket; the daemon's
# credential check refuses it and says so.
log0=$(log_size)
timeout 40 setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=+dac_override --ambient-caps=+dac_override \
	"$MSLBD" status -s "$sock" >"$TMPD/nobody.out" 2>"$TMPD/nobody.err" </dev/null
rc=$?
check_rc "status as uid 65534 (past the file mode) exits 1, not 141" 1 "$rc" "$(cat "$TMPD/nobody.err")"
check_match "... with the daemon's reason" 'refused the connection: permission denied' "$(cat "$TMPD/nobody.err")"
for i in $(seq 1 50); do
	timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=+dac_override --ambient-caps=+dac_override \
		"$MSLBD" status -s "$sock" >/dev/null 2>&1 </dev/null
done
log_bounded "after 51 refused peers" "$log0"
# Without the capability the file mode stops it: still exit 1, a message.
timeout 40 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$MSLBD" status -s "$sock" >"$TMPD/nobody.out" 2>"$TMPD/nobody.err" </dev/null
rc=$?
check_rc "status as uid 65534 exits 1" 1 "$rc" "$(cat "$TMPD/nobody.err")"
check_match "... with a message" 'cannot reach mslbd' "$(cat "$TMPD/nobody.err")"
# A client that sends a malformed request gets the parser's reason.
out=$(printf 'status\0junk\n' | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>&1)
check_match "a request with a NUL byte gets an error line" '^request contains control byte 0x00' "$out"
out=$(printf 'status' | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>&1)
check_match "a request without its newline is answered at end of input" '^ok$' "$out"
status_answers_fast "at the end"
check "c1 pings $IPS4 at the end" ping_ok c1 "$IPS4" 5

tap_done
