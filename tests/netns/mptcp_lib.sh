#!/bin/bash
# tests/netns/mptcp_lib.sh: what the MPTCP tests share (mptcp.sh, Proposal 1;
# p2.sh, Proposal 2): the topology with a three-link client, and the checks
# that group every server's subflows by token. Sourced after lib.sh.
# shellcheck disable=SC2034 # used by the scripts that source this

CLIENT_PY=$MSLB_LIB_DIR/mptcp_client.py
SERVER_PY=$MSLB_LIB_DIR/mptcp_server.py
NCONN=${MSLB_MPTCP_CONNS:-24}
SID=("" 1001 1002 1003)

MC4=("" 192.0.2.10 192.0.2.74 192.0.2.138)
MC4_GW=("" 192.0.2.1 192.0.2.65 192.0.2.129)
MC6=("" 2001:db8:c1:1::10 2001:db8:c1:2::10 2001:db8:c1:3::10)
MC6_GW=("" 2001:db8:c1:1::1 2001:db8:c1:2::1 2001:db8:c1:3::1)
# f - si: lib.sh's f - bi addresses (FB4/B4, FB6/B6).

# ------------------------------------------------------------ topology
topo_mptcp() {
	local k i
	ns_add f || return 1
	ns_add c || return 1
	for k in 1 2 3; do
		link_add f "c$k" c "f$k" || return 1
		# Encapsulating, the client's links leave room for the outer
		# header: this test is about where subflows go; path MTU
		# discovery through tunnels is encap.sh's and tunnel_pmtu.sh's.
		if [ -n "${MSLB_FRONT_MODE:-}" ]; then
			ip -n "$(ns c)" link set dev "f$k" mtu 1400 || return 1
			ip -n "$(ns f)" link set dev "c$k" mtu 1400 || return 1
		fi
		addr_add f "c$k" "${MC4_GW[$k]}/26" || return 1
		addr_add f "c$k" "${MC6_GW[$k]}/64" || return 1
		addr_add c "f$k" "${MC4[$k]}/26" || return 1
		addr_add c "f$k" "${MC6[$k]}/64" || return 1
		# Each source address leaves by its own link.
		ip -n "$(ns c)" rule add from "${MC4[$k]}" table $((100 + k)) prio 100 || return 1
		ip -n "$(ns c)" route add default via "${MC4_GW[$k]}" dev "f$k" table $((100 + k)) || return 1
		ip -n "$(ns c)" -6 rule add from "${MC6[$k]}" table $((100 + k)) prio 100 || return 1
		ip -n "$(ns c)" -6 route add default via "${MC6_GW[$k]}" dev "f$k" table $((100 + k)) || return 1
		ip -n "$(ns c)" mptcp endpoint add "${MC4[$k]}" dev "f$k" subflow fullmesh || return 1
		ip -n "$(ns c)" mptcp endpoint add "${MC6[$k]}" dev "f$k" subflow fullmesh || return 1
	done
	route_add c default via "${MC4_GW[1]}" dev f1 || return 1
	ip -n "$(ns c)" -6 route add default via "${MC6_GW[1]}" dev f1 || return 1
	ip -n "$(ns c)" mptcp limits set subflows 8 add_addr_accepted 8 || return 1
	for i in 1 2 3; do
		ns_add "s$i" || return 1
		link_add f "s$i" "s$i" f || return 1
		addr_add f "s$i" "${FB4[$i]}/28" || return 1
		addr_add f "s$i" "${FB6[$i]}/64" || return 1
		addr_add "s$i" f "${B4[$i]}/28" || return 1
		addr_add "s$i" f "${B6[$i]}/64" || return 1
		addr_add "s$i" lo "$IPS4/32" || return 1
		addr_add "s$i" lo "$IPS6/128" || return 1
		route_add f "${IPB4[$i]}/32" via "${B4[$i]}" || return 1
		route_add f "${IPB6[$i]}/128" via "${B6[$i]}" || return 1
		route_add "s$i" default via "${FB4[$i]}" || return 1
		ip -n "$(ns "s$i")" -6 route add default via "${FB6[$i]}" || return 1
	done
	if [ "$KMODE" = 1 ]; then
		route_add f "$IPS4/32" via "${B4[1]}" || return 1
		route_add f "$IPS6/128" via "${B6[1]}" || return 1
		nsx f sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	fi
}

# server_peers I: the redirect peers of server si's back, the two other
# servers (name sJ, address B4[J], tunnel IP_BJ of both families), as
# list elements.
server_peers() {
	local j first=1
	for j in 1 2 3; do
		[ "$j" = "$1" ] && continue
		[ $first = 1 ] || echo ","
		printf '    { name = "s%s"; address = "%s"; tunnel = [ "%s", "%s" ]; }' "$j" "${B4[$j]}" \
			"${IPB4[$j]}" "${IPB6[$j]}"
		first=0
	done
	echo
}

# The front's tunnel sources in encapsulation mode.
TSRC4=203.0.113.50
TSRC6=2001:db8:5::50

# ss_snapshot: every server's established TCP sockets with MPTCP subflow
# info, "sI" prefixed, into $TMPD/ss.txt.
ss_snapshot() {
	local i
	for i in 1 2 3; do
		nsx "s$i" ss -tniH state established | sed "s/^/s$i /"
	done >"$TMPD/ss.txt"
}

# placement RESULTS SS: every connection of the client's RESULTS (JSON lines)
# against the servers' subflows in SS (ss_snapshot). Prints what is wrong;
# exit 0 if nothing is.
placement() {
	"$PYTHON" - "$@" <<'PYEOF'
import json, os, re, sys
from collections import defaultdict

res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sub = {}                    # (client addr, client port) -> (server, server token)
groups = defaultdict(set)   # (server, server token) -> {(client addr, port)}
cur = None
tok_re = re.compile(r"token:([0-9a-f]+)\(id:\d+\)/([0-9a-f]+)\(id:\d+\)")

def hostport(s):
    a, p = s.rsplit(":", 1)
    a = a.strip("[]").split("%")[0]
    if a.startswith("::ffff:") and "." in a:
        a = a[7:]
    return a, int(p)

for line in open(sys.argv[2]):
    f = line.split()
    if len(f) == 5 and f[1].isdigit() and f[2].isdigit():
        cur = (f[0], hostport(f[4]))
        continue
    m = tok_re.search(line)
    if m and cur:
        key = (cur[0], m.group(2))
        sub[cur[1]] = key
        groups[key].add(cur[1])
        cur = None

bad = 0
missing = 0
def fail(msg):
    global bad
    bad += 1
    if bad <= 10:
        print(msg)

tokens = defaultdict(set)
for srv, tok in groups:
    tokens[tok].add(srv)
for tok, srvs in tokens.items():
    if len(srvs) > 1:
        fail("server token %s on %s" % (tok, ", ".join(sorted(srvs))))

for r in res:
    if not r.get("ok"):
        fail("conn %s: not ok (%s)" % (r["conn"], r.get("error")))
        continue
    flows = [(a[0], a[1]) for a in r["subflow_addrs"]]
    gone = [fl for fl in flows if fl not in sub]
    if gone:
        # Established at the client, on no server: a join whose third
        # ACK a server dropped.
        missing += len(gone)
        fail("conn %d (%s): subflows %s on no server" % (r["conn"], r["server"], gone))
        flows = [fl for fl in flows if fl in sub]
        if not flows:
            continue
    where = {sub.get(fl) for fl in flows}
    if len(where) != 1:
        fail("conn %d (%s): subflows on %s" % (r["conn"], r["server"], sorted(where)))
        continue
    (srv, tok), = where
    if srv != r["server"]:
        fail("conn %d: answered by %s, subflows on %s" % (r["conn"], r["server"], srv))
    if len(groups[(srv, tok)]) != r["subflows"] - len(gone):
        fail("conn %d: client counts %d subflows, %s token %s has %d" %
             (r["conn"], r["subflows"], srv, tok, len(groups[(srv, tok)])))
print("%d connections, %d server subflows in %d server connections, %d client subflows on no server, %d problems"
      % (len(res), len(sub), len(groups), missing, bad))
sys.exit(1 if bad else 0)
PYEOF
}

# run_clients KEY DST [ARGS...]: the client in c, connections held open until
# the servers' sockets have been checked. Results in $TMPD/KEY.json.
run_clients() {
	local key=$1 dst=$2 rc; shift 2
	rm -f "$TMPD/$key.ready" "$TMPD/$key.release"
	bg_start "$key" c "$PYTHON" "$CLIENT_PY" "$dst" 80 --conns "$NCONN" --timeout 20 \
		--subflow-timeout 10 --out "$TMPD/$key.json" \
		--ready "$TMPD/$key.ready" --release "$TMPD/$key.release" --hold 20 "$@"
	if ! wait_for 60 test -e "$TMPD/$key.ready"; then
		bg_stop "$key" KILL
		return 1
	fi
}
release_clients() { # release_clients KEY: let them close; returns the client's exit status
	touch "$TMPD/$1.release"
	bg_wait "$1" 20
}

jqr() { jq -rs "$1" "$TMPD/$2.json"; }

# diag_failed KEY: each failed connection's line, and the servers' sockets
# of its subflows (by client port), to tell where it stalled.
diag_failed() {
	local line port i
	while IFS= read -r line; do
		diag "failed: $line"
		for port in $(jq -r '.subflow_addrs[]?[1], .lport // empty' <<<"$line" | sort -u); do
			ss_snapshot 2>/dev/null
			diag "$(grep -A1 -E ":$port( |\$)" "$TMPD/ss.txt")"
		done
		port=$(jq -r '.lport // empty' <<<"$line")
		[ -n "$port" ] && for i in 1 2 3; do
			diag "s$i msk: $(nsx "s$i" ss -MniH 2>/dev/null | grep -A1 -E ":$port( |\$)")"
		done
	done < <(jq -c 'select(.ok | not)' "$TMPD/$1.json")
}
