#!/bin/bash
# tests/netns/cli.sh: mslbd's command line: --help, --version, usage errors,
# `check` (good and bad files, FILE:LINE errors), status/reload without a
# daemon, and a bad file refused at start-up (in a namespace, as root).
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_cmd grep sed timeout
require_mslbd

# run_cli OUT_PREFIX CMD...: stdout to OUT.out, stderr to OUT.err; echo rc.
run() {
	local key=$1; shift
	"$@" >"$TMPD/$key.out" 2>"$TMPD/$key.err" </dev/null
	echo $?
}
out() { cat "$TMPD/$1.out"; }
err() { cat "$TMPD/$1.err"; }

# ------------------------------------------------------------ help, version
rc=$(run help "$MSLBD" --help)
check_rc "--help exits 0" 0 "$rc" "$(err help)"
check_match "--help prints usage on stdout" '[Uu]sage' "$(out help)"
for cmd in check status reload; do
	check_match "--help mentions '$cmd'" "$cmd" "$(out help)"
done

version=$(sed -n 's/^AC_INIT(\[mslbd\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
rc=$(run version "$MSLBD" --version)
check_rc "--version exits 0" 0 "$rc" "$(err version)"
check_match "--version prints $version" "(^|[^0-9.])${version//./\\.}([^0-9.]|\$)" "$(out version)"

# ------------------------------------------------------------ usage errors
for args in "frobnicate" "--frobnicate" "-Z" "status --frobnicate" "check --frobnicate"; do
	# shellcheck disable=SC2086
	rc=$(run usage "$MSLBD" $args)
	check_rc "'mslbd $args' exits 2" 2 "$rc" "$(out usage)$(err usage)"
	check_match "'mslbd $args' prints usage on stderr" '[Uu]sage' "$(err usage)"
	check_eq "'mslbd $args' prints nothing on stdout" "" "$(out usage)"
done

# ------------------------------------------------------------ check: good
rc=$(run good "$MSLBD" check -c "$top_srcdir/etc/mslb.conf")
check_rc "check etc/mslb.conf exits 0" 0 "$rc" "$(out good)$(err good)"
check_eq "check etc/mslb.conf prints 'configuration OK'" "configuration OK" "$(out good)"

# A valid base file; every bad case changes one line of it. Entries are kept
# on one line each so that the reported line is unambiguous.
base="$TMPD/base.conf"
cat >"$base" <<'EOF'
# base configuration for cli.sh
log = { level = "info"; destination = "stderr"; };
control_socket = "/nonexistent/mslbd-cli-test.sock";
tun = {
  name = "mslb0";
  mtu = 1500;
};
routing = {
  table = 4770;
  priority = 4770;
};
front = {
  services = [ "203.0.113.100", "2001:db8:5::100" ];
  next_hops = (
    { name = "b1"; ipv4 = "198.51.100.11"; ipv6 = "2001:db8:b::11"; },
    { name = "b2"; ipv4 = "198.51.100.12"; ipv6 = "2001:db8:b::12"; }
  );
  table = (
    { source = "192.0.2.0/26"; next_hop = "b1"; },
    { source = "2001:db8:c1::/112"; next_hop = "b2"; }
  );
  unmatched = "hash";
};
back = {
  addresses = (
    { address = "198.51.100.11"; service = "203.0.113.100"; deliver_via = "198.51.100.146"; },
    { address = "2001:db8:b::11"; service = "2001:db8:5::100"; }
  );
};
EOF
rc=$(run base "$MSLBD" check -c "$base")
check_rc "check on the base test file exits 0" 0 "$rc" "$(out base)$(err base)"
check_eq "base test file: 'configuration OK'" "configuration OK" "$(out base)"

# ------------------------------------------------------------ check: bad
# bad_case NAME SED_EXPR MARKER [QUOTED]: apply SED_EXPR to the base file;
# the error must be reported at the line that contains MARKER (a fixed
# string); QUOTED, if given, must appear in that error line.
n_bad=0
bad_case() {
	local name=$1 expr=$2 marker=$3 quoted=${4:-} f line rc text
	n_bad=$((n_bad + 1))
	f="$TMPD/bad$n_bad.conf"
	sed -e "$expr" "$base" >"$f"
	if cmp -s "$f" "$base"; then
		tap_fail "$name: test bug, sed changed nothing"
		return
	fi
	line=$(grep -nF -- "$marker" "$f" | head -n 1 | cut -d: -f1)
	rc=$(run bad "$MSLBD" check -c "$f")
	text="$(out bad)$(err bad)"
	check_rc "$name: check exits 2" 2 "$rc" "$text"
	check_match "$name: error at $(basename "$f"):$line" "^$f:$line: ." "$text"
	check "$name: every line is 'FILE:LINE: problem'" \
		eval "! grep -v -E '^$f:[0-9]+: .' <<<\"\$text\" | grep -q ."
	if [ -n "$quoted" ]; then
		check_match "$name: the error quotes '$quoted'" "^$f:$line: .*${quoted//./\\.}" "$text"
	fi
}

bad_case "bad IPv4 service address" \
	's/"203.0.113.100", "2001/"203.0.113.300", "2001/' 'services =' 203.0.113.300
bad_case "bad IPv6 next-hop address" \
	's/ipv6 = "2001:db8:b::12"/ipv6 = "2001:db8:b::zz"/' 'b::zz' 'b::zz'
bad_case "unknown next hop in table" \
	's/next_hop = "b2"/next_hop = "b9"/' 'next_hop = "b9"' b9
bad_case "bad unmatched policy" \
	's/unmatched = "hash"/unmatched = "random"/' 'unmatched =' random
bad_case "mtu below range" 's/mtu = 1500/mtu = 100/' 'mtu = 100' 100
bad_case "mtu above range" 's/mtu = 1500/mtu = 70000/' 'mtu = 70000' 70000
bad_case "IPv6 prefix length 129" \
	's|"2001:db8:c1::/112"|"2001:db8:c1::/129"|' 'c1::/129' '/129'
bad_case "back service of the other family" \
	's/service = "2001:db8:5::100"/service = "203.0.113.100"/' 'address = "2001:db8:b::11"'
bad_case "tun name too long" 's/name = "mslb0"/name = "mslb0123456789012"/' \
	'mslb0123456789012' mslb0123456789012
bad_case "routing table 254 (main)" 's/table = 4770;/table = 254;/' 'table = 254' 254
bad_case "missing services" '/services = \[/d' 'front = {'
bad_case "libconfig syntax error" 's/  priority = 4770;/  priority = = 4770;/' 'priority = ='

# Two errors, two lines.
f="$TMPD/two.conf"
sed -e 's/mtu = 1500/mtu = 100/' -e 's/unmatched = "hash"/unmatched = "random"/' "$base" >"$f"
l1=$(grep -n 'mtu = 100' "$f" | cut -d: -f1)
l2=$(grep -n 'unmatched =' "$f" | cut -d: -f1)
rc=$(run two "$MSLBD" check -c "$f")
text="$(out two)$(err two)"
check_rc "two errors: exit 2" 2 "$rc" "$text"
check_match "two errors: line $l1 reported" "^$f:$l1: " "$text"
check_match "two errors: line $l2 reported" "^$f:$l2: " "$text"

rc=$(run missing "$MSLBD" check -c "$TMPD/does-not-exist.conf")
check "check on a missing file fails" test "$rc" -ne 0
check_match "check on a missing file names it" "does-not-exist\.conf" "$(out missing)$(err missing)"

# ------------------------------------------------------------ no daemon
sock="$TMPD/nobody.sock"
for cmd in status "status --json" reload; do
	# shellcheck disable=SC2086
	rc=$(run nod "$MSLBD" $cmd -s "$sock")
	check_rc "'$cmd -s' without a daemon exits 1" 1 "$rc" "$(out nod)$(err nod)"
	check_match "'$cmd -s' without a daemon names the socket" "${sock//./\\.}" "$(err nod)"
	check_eq "'$cmd -s' without a daemon prints nothing on stdout" "" "$(out nod)"
done
rc=$(run nodc "$MSLBD" status -c "$base")
check_rc "'status -c FILE' without a daemon exits 1" 1 "$rc" "$(out nodc)$(err nodc)"
check_match "'status -c FILE' uses the file's control_socket" "mslbd-cli-test\.sock" "$(err nodc)"
rc=$(run nodr "$MSLBD" reload -c "$base")
check_rc "'reload -c FILE' without a daemon exits 1" 1 "$rc" "$(out nodr)$(err nodr)"

# ------------------------------------------------------------ start-up
# A bad file is fatal at start. Run in a namespace of its own so that a
# daemon that wrongly starts cannot touch this host.
if [ "$(id -u)" -ne 0 ] || ! ip netns add "$(ns cli)" 2>/dev/null; then
	tap_skip "mslbd -f with a bad file exits non-zero" "needs root and network namespaces"
else
	NS_LIST+=("$(ns cli)")
	f="$TMPD/startup.conf"
	sed -e 's/next_hop = "b2"/next_hop = "b9"/' "$base" >"$f"
	line=$(grep -nF 'next_hop = "b9"' "$f" | cut -d: -f1)
	timeout 20 ip netns exec "$(ns cli)" "$MSLBD" -f -c "$f" >"$TMPD/start.out" 2>&1 </dev/null
	rc=$?
	check "mslbd -f with a bad file exits non-zero at once (exit $rc)" \
		test "$rc" -ne 0 -a "$rc" -ne 124
	check_match "mslbd -f with a bad file reports FILE:LINE" "$f:$line: " "$(cat "$TMPD/start.out")"
	check_eq "mslbd -f with a bad file leaves no device" "" \
		"$(ip -n "$(ns cli)" -o link show dev "$TUN" 2>/dev/null)"
fi

tap_done
