#!/bin/bash
# tests/netns/host_setup.sh: what mslbd installs on its host, and that it
# removes all of it on SIGTERM.
#
# f runs a front (tun mtu 1400), b1 a back (IPv4 with deliver_via, IPv6
# without). Expected (table T = 4770, priority P = 4770):
#   device mslb0 (tun, up, configured mtu, queue 4096)
#   table T:   front: IP_S dev mslb0         back: IP_B dev mslb0
#   table T+1: back, IPv4 only: IP_S via deliver_via
#   rules:     P   iif mslb0 to IP_S lookup T+1     (back, IPv4 only)
#              P+1 iif mslb0 lookup main
#              P+2 iif mslb0 unreachable
#              P+3 lookup T (one per family: T holds host routes only)
#   sysctls:   ip_forward = 1, ipv6 all.forwarding = 1, mslb0 rp_filter
#              not strict (0 or 2)
# After SIGTERM: exit 0; no device; rules, routes and sysctls as before.
# Then a front with IPv4 only must leave IPv6 alone.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq sysctl timeout
require_mslbd

topo_create 1 1 mslb || bail "topology"
# b1 already forwards IPv4 before the daemon: it must still afterwards.
nsx b1 sysctl -qw net.ipv4.ip_forward=1 || bail "sysctl"
# New devices start with strict reverse-path filtering: the daemon must relax
# it on its TUN (packets come out of it with the clients' source addresses).
for n in f b1; do
	nsx "$n" sysctl -qw net.ipv4.conf.default.rp_filter=1 || bail "sysctl"
done

T=$RT_TABLE
T1=$((RT_TABLE + 1))
P=$RT_PRIO
SYSCTLS="net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter net.ipv4.conf.default.rp_filter"

# state NODE: everything that must come back as it was.
state() {
	local k
	echo "== rules v4"; rules_canon "$1" 4
	echo "== rules v6"; rules_canon "$1" 6
	echo "== routes v4"; routes_all "$1" 4
	echo "== routes v6"; routes_all "$1" 6
	echo "== links"; ip -n "$(ns "$1")" -o link show | awk -F': ' '{print $2}' | sort
	echo "== sysctls"
	for k in $SYSCTLS; do echo "$k=$(sysctl_get "$1" "$k")"; done
}
# new_rules NODE FAM: rules that were not there before the daemon.
new_rules() { comm -13 "$TMPD/rules-$1-$2.before" <(rules_canon "$1" "$2" | sort); }
gone_rules() { comm -23 "$TMPD/rules-$1-$2.before" <(rules_canon "$1" "$2" | sort); }
lines() { printf '%s\n' "$@" | sort; }

for n in f b1; do
	state "$n" >"$TMPD/state-$n.before"
	for v in 4 6; do rules_canon "$n" "$v" | sort >"$TMPD/rules-$n-$v.before"; done
done
check_eq "f: no route to IP_S before the daemon" "" "$(routes_canon f 4 "$T")$(routes_canon f 6 "$T")"

FRONT_MTU=1400 front_conf "$(mslbd_conf f)" hash || bail "front config"
back_conf "$(mslbd_conf b1)" 1 || bail "back config"
# The front tells readiness on $NOTIFY_SOCKET (systemd Type=notify).
bg_start notify f socat -u "UNIX-RECV:$TMPD/notify.sock" STDOUT
wait_for 10 test -S "$TMPD/notify.sock" || bail "notify socket"
# Writable by the account the daemon switches to, as systemd's is (0777).
chmod 0777 "$TMPD/notify.sock" || bail "chmod notify socket"
NOTIFY_SOCKET=$TMPD/notify.sock mslbd_start f "$(mslbd_conf f)" || bail "mslbd on f"
mslbd_start b1 "$(mslbd_conf b1)" || bail "mslbd on b1"
check "f: READY=1 sent to \$NOTIFY_SOCKET" wait_for 10 grep -q READY=1 "$TMPD/notify.log"
bg_stop notify

# ------------------------------------------------------------ device
link_state() { # NODE: "kind mtu up|down"
	ip -n "$(ns "$1")" -j -d link show dev "$TUN" 2>/dev/null |
		jq -r '.[0] | "\(.linkinfo.info_kind) \(.mtu) \(if (.flags | index("UP")) then "up" else "down" end) qlen \(.txqlen)"'
}
check_eq "f: $TUN is a tun device, up, mtu 1400, queue 4096" "tun 1400 up qlen 4096" "$(link_state f)"
check_eq "b1: $TUN is a tun device, up, mtu 1500, queue 4096" "tun 1500 up qlen 4096" "$(link_state b1)"

# ------------------------------------------------------------ routes
check_eq "f: table $T v4" "unicast $IPS4 dev=$TUN via=-" "$(routes_canon f 4 "$T")"
check_eq "f: table $T v6" "unicast $IPS6 dev=$TUN via=-" "$(routes_canon f 6 "$T")"
check_eq "f: table $T1 empty (no deliver_via)" "" "$(routes_canon f 4 "$T1")$(routes_canon f 6 "$T1")"
check_eq "b1: table $T v4" "unicast ${IPB4[1]} dev=$TUN via=-" "$(routes_canon b1 4 "$T")"
check_eq "b1: table $T v6" "unicast ${IPB6[1]} dev=$TUN via=-" "$(routes_canon b1 6 "$T")"
check_eq "b1: table $T1 v4: IP_S via deliver_via" "unicast $IPS4 dev=s via=${S4[1]}" "$(routes_canon b1 4 "$T1")"
check_eq "b1: table $T1 v6 empty (no deliver_via)" "" "$(routes_canon b1 6 "$T1")"
for n in f b1; do
	for v in 4 6; do
		check_eq "$n: main table v$v untouched" \
			"$(sed -n "/^== routes v$v/{n;p}" "$TMPD/state-$n.before" | jq -c 'map(select((.table // "main") == "main"))')" \
			"$(routes_all "$n" "$v" | jq -c 'map(select((.table // "main") == "main" and .dev != "'"$TUN"'"))')"
	done
done

# ------------------------------------------------------------ rules
check_eq "f: new v4 rules" "$(lines "$((P + 1)) iif=$TUN table=main" \
	"$((P + 2)) action=unreachable iif=$TUN" "$((P + 3)) table=$T")" "$(new_rules f 4)"
check_eq "f: new v6 rules" "$(lines "$((P + 1)) iif=$TUN table=main" \
	"$((P + 2)) action=unreachable iif=$TUN" "$((P + 3)) table=$T")" "$(new_rules f 6)"
check_eq "b1: new v4 rules" "$(lines "$P dst=$IPS4 iif=$TUN table=$T1" "$((P + 1)) iif=$TUN table=main" \
	"$((P + 2)) action=unreachable iif=$TUN" "$((P + 3)) table=$T")" "$(new_rules b1 4)"
check_eq "b1: new v6 rules" "$(lines "$((P + 1)) iif=$TUN table=main" \
	"$((P + 2)) action=unreachable iif=$TUN" "$((P + 3)) table=$T")" "$(new_rules b1 6)"
for n in f b1; do
	check_eq "$n: no rule removed" "" "$(gone_rules "$n" 4)$(gone_rules "$n" 6)"
done

# ------------------------------------------------------------ sysctls
for n in f b1; do
	check_eq "$n: net.ipv4.ip_forward = 1" 1 "$(sysctl_get "$n" net.ipv4.ip_forward)"
	check_eq "$n: net.ipv6.conf.all.forwarding = 1" 1 "$(sysctl_get "$n" net.ipv6.conf.all.forwarding)"
	rp=$(sysctl_get "$n" "net.ipv4.conf.$TUN.rp_filter")
	check "$n: net.ipv4.conf.$TUN.rp_filter relaxed (is '$rp')" test "$rp" = 0 -o "$rp" = 2
done
check_eq "f: IP_S is not assigned" "" "$(ip -n "$(ns f)" -o addr show | grep -F -e " $IPS4/" -e " $IPS6/")"
check_eq "b1: IP_B is not assigned" "" \
	"$(ip -n "$(ns b1)" -o addr show | grep -F -e " ${IPB4[1]}/" -e " ${IPB6[1]}/")"

# ------------------------------------------------------------ SIGTERM
for n in f b1; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done
for n in f b1; do
	check_eq "$n: $TUN removed" "" "$(ip -n "$(ns "$n")" -o link show dev "$TUN" 2>/dev/null)"
	check_eq "$n: tables $T and $T1 empty" "" \
		"$(routes_canon "$n" 4 "$T")$(routes_canon "$n" 6 "$T")$(routes_canon "$n" 4 "$T1")$(routes_canon "$n" 6 "$T1")"
	check_eq "$n: no rule at priority $P..$((P + 3))" "" \
		"$( (rules_canon "$n" 4; rules_canon "$n" 6) | awk -v p="$P" '$1 >= p && $1 <= p + 3')"
	state "$n" >"$TMPD/state-$n.after"
	check "$n: rules, routes, links and sysctls as before" \
		diff -u "$TMPD/state-$n.before" "$TMPD/state-$n.after"
done

# ------------------------------------------------------------ IPv4 only
cat >"$(mslbd_conf f)" <<EOF
log = { level = "debug"; destination = "stderr"; };
control_socket = "$(mslbd_sock f)";
tun = { name = "$TUN"; mtu = 1500; };
routing = { table = $T; priority = $P; };
front = {
  services = [ "$IPS4" ];
  next_hops = ( { name = "b1"; ipv4 = "${IPB4[1]}"; } );
  table = ( { source = "${C4_TBL[1]}"; next_hop = "b1"; } );
  unmatched = "drop";
};
EOF
if mslbd_start f "$(mslbd_conf f)"; then
	check_eq "IPv4-only front: ip_forward = 1" 1 "$(sysctl_get f net.ipv4.ip_forward)"
	check_eq "IPv4-only front: IPv6 forwarding left at 0" 0 "$(sysctl_get f net.ipv6.conf.all.forwarding)"
	check_eq "IPv4-only front: no IPv6 rule added" "" "$(new_rules f 6)"
	check_eq "IPv4-only front: no IPv6 route in table $T" "" "$(routes_canon f 6 "$T")"
	check_eq "IPv4-only front: status unmatched" drop "$(jget f .front.unmatched)"
	check_eq "IPv4-only front: next hop without ipv6" null "$(jget f '.front.next_hops[0].ipv6 | tostring')"
	mslbd_stop f
	check_rc "IPv4-only front: exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
	state f >"$TMPD/state-f.after2"
	check "IPv4-only front: everything as before" diff -u "$TMPD/state-f.before" "$TMPD/state-f.after2"
else
	tap_fail "IPv4-only front starts"
fi

tap_done
