#!/bin/bash
# tests/netns/ecmp_lib.sh: what the tests of fronts behind an ECMP router
# share (ecmp.sh, churn.sh): a LAN bridge, the router and the fronts on
# it, BIRD 2 on the fronts and the router from the shipped examples, and
# the router's view of IP_S. Sourced after lib.sh.
# shellcheck disable=SC2034,SC2154 # used by the scripts that source this; set by lib.sh

LAN=198.51.100
R_LAN=$LAN.1 F_LAN=("" "$LAN.2" "$LAN.3") B_LAN=("" "$LAN.21" "$LAN.22" "$LAN.23" "$LAN.24")
R_C=192.0.2.1
ANNOUNCE=4772

# lan_create: the LAN, a bridge in namespace sw.
lan_create() {
	ns_add sw || return 1
	ip -n "$(ns sw)" link add br0 type bridge && ip -n "$(ns sw)" link set br0 up
}

# lan_join NODE ADDR: NODE on the LAN (interface "lan", ADDR/26).
lan_join() {
	link_add sw "p-$1" "$1" lan || return 1
	ip -n "$(ns sw)" link set "p-$1" master br0 || return 1
	addr_add "$1" lan "$2/26"
}

# ecmp_router: r on the LAN, spreading flows over equal routes by their
# ports and addresses (fib_multipath_hash_policy 1), and the fronts f1 and
# f2 on the LAN, routed through r.
ecmp_router() {
	local i
	ns_add r || return 1
	lan_join r "$R_LAN" || return 1
	nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 || return 1
	for i in 1 2; do
		{ ns_add "f$i" && lan_join "f$i" "${F_LAN[$i]}" && route_add "f$i" default via "$R_LAN"; } ||
			return 1
	done
}

# back_on_lan I: back bi on the LAN with its server si behind it
# (lib.sh's address plan), both fronts routing IP_Bi through it.
back_on_lan() {
	local i=$1 f
	{ ns_add "b$i" && ns_add "s$i"; } || return 1
	{ lan_join "b$i" "${B_LAN[$i]}" && route_add "b$i" default via "$R_LAN"; } || return 1
	{ link_add "b$i" s "s$i" b && addr_add "b$i" s "${BS4[$i]}/28" && addr_add "s$i" b "${S4[$i]}/28" &&
		addr_add "s$i" lo "$IPS4/32" && route_add "s$i" default via "${BS4[$i]}"; } || return 1
	for f in 1 2; do
		route_add "f$f" "${IPB4[$i]}/32" via "${B_LAN[$i]}" || return 1
	done
}

# bird_start NODE CONF
bird_start() {
	bg_start "bird-$1" "$1" bird -f -c "$2" -s "$TMPD/bird-$1.ctl"
}

# birds_start: BIRD on f1, f2 (each its own router id and AS) and r, from
# the shipped examples, each checked first (bird -p).
birds_start() {
	local f
	sed -e "s/^router id .*/router id ${F_LAN[1]};/" "$top_srcdir/etc/examples/bird-front.conf" \
		>"$TMPD/bird-f1.conf" || return 1
	sed -e "s/^router id .*/router id ${F_LAN[2]};/" -e "s/local as 64497;/local as 64498;/" \
		"$top_srcdir/etc/examples/bird-front.conf" >"$TMPD/bird-f2.conf" || return 1
	for f in f1 f2; do
		nsx "$f" bird -p -c "$TMPD/bird-$f.conf" || return 1
		bird_start "$f" "$TMPD/bird-$f.conf"
	done
	nsx r bird -p -c "$top_srcdir/etc/examples/bird-router.conf" || return 1
	bird_start r "$top_srcdir/etc/examples/bird-router.conf"
}

# paths: the router's next hops toward IP_S, sorted ("" without a route).
# shellcheck disable=SC2317 # called through paths_are
paths() {
	nsx r ip -j route show "$IPS4/32" 2>/dev/null |
		jq -r '[.[0] | (.nexthops // [ { gateway: .gateway } ])[]?.gateway] | sort | join(" ")'
}
# shellcheck disable=SC2317 # called through check and wait_for
paths_are() { [ "$(paths)" = "$1" ]; }
BOTH="${F_LAN[1]} ${F_LAN[2]}"
