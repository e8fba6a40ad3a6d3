#!/bin/bash
# tests/netns/tunnel_pmtu.sh: tunnel MTU discovery (draft section 5.2,
# RFC 1853, RFC 4459). A plain router r between the front and the back has a
# 1300-byte link toward b1, which the front cannot see in its own routes:
#
#   c1 --- f ===(1500)=== r ---(1300)--- b1 --- s1
#
# The front learns the path MTU only from r's ICMP errors about its outer
# packets, lowers that next hop's tunnel MTU (status source "icmp"), relays
# the error to the client with the tunnel MTU (IPv4 1280, IPv6 never below
# 1280: IPv6 packets up to 1280 bytes then go as outer fragments that b1
# reassembles), and TCP gets through. Run twice: with the default outer
# source (IP_S) and with a dedicated front.tunnel_source, which the daemon
# routes into its TUN so that the errors reach it.
#
# MSLB_PMTU_ENCAP=gue (tunnel_pmtu-gue.sh): the same in GUE (port 6080),
# whose errors quote the outer UDP header, 8 bytes more overhead: tunnel
# MTU 1272 for IPv4, 1252 for IPv6, and IPv6 of 1280 bytes again in outer
# fragments, UDP ones, that b1 reassembles before it sees the port.
# MSLB_IO=af_packet (tunnel_pmtu-afpacket.sh): every interface of f and b1
# on the AF_PACKET path.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat ping sha256sum
require_mslbd

TSRC4=203.0.113.50
TSRC6=2001:db8:5::50
GUE_PORT=6080
ENCAP=${MSLB_PMTU_ENCAP:-ip}
case $ENCAP in
ip) OVH4=20 OVH6=40 ;;
gue) OVH4=28 OVH6=48 ;;
*) bail "MSLB_PMTU_ENCAP: ip or gue, not $ENCAP" ;;
esac
# The link toward b1: narrow enough that the IPv6 tunnel MTU is below 1280.
NARROW=1300

topology() {
	local n
	for n in c1 f r b1 s1; do ns_add "$n" || return 1; done
	link_add c1 f f c1 && link_add f r r f && link_add r b1 b1 r && link_add b1 s1 s1 b1 || return 1
	ip -n "$(ns r)" link set dev b1 mtu "$NARROW" && ip -n "$(ns b1)" link set dev r mtu "$NARROW" || return 1
	addr_add c1 f 192.0.2.10/25 && addr_add c1 f 2001:db8:c1::10/64 || return 1
	addr_add f c1 192.0.2.1/25 && addr_add f c1 2001:db8:c1::1/64 || return 1
	addr_add f r 198.51.100.17/28 && addr_add f r 2001:db8:f1::1/64 || return 1
	addr_add r f 198.51.100.18/28 && addr_add r f 2001:db8:f1::2/64 || return 1
	addr_add r b1 198.51.100.33/28 && addr_add r b1 2001:db8:f2::1/64 || return 1
	addr_add b1 r 198.51.100.34/28 && addr_add b1 r 2001:db8:f2::2/64 || return 1
	addr_add b1 s1 198.51.100.145/28 && addr_add b1 s1 2001:db8:d1::1/64 || return 1
	addr_add s1 b1 198.51.100.146/28 && addr_add s1 b1 2001:db8:d1::2/64 || return 1
	addr_add s1 lo "$IPS4/32" && addr_add s1 lo "$IPS6/128" || return 1
	route_add c1 default via 192.0.2.1 && route_add c1 ::/0 via 2001:db8:c1::1 || return 1
	route_add f "${IPB4[1]}/32" via 198.51.100.18 && route_add f "${IPB6[1]}/128" via 2001:db8:f1::2 || return 1
	# r: IP_B1 toward b1; clients, IP_S and the tunnel sources toward f.
	route_add r "${IPB4[1]}/32" via 198.51.100.34 && route_add r "${IPB6[1]}/128" via 2001:db8:f2::2 || return 1
	route_add r default via 198.51.100.17 && route_add r ::/0 via 2001:db8:f1::1 || return 1
	nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	route_add b1 default via 198.51.100.33 && route_add b1 ::/0 via 2001:db8:f2::1 || return 1
	route_add b1 "$IPS6/128" via 2001:db8:d1::2 || return 1
	route_add s1 default via 198.51.100.145 && route_add s1 ::/0 via 2001:db8:d1::1
}

# conf_front TSRC: "default" or "dedicated".
conf_front() {
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		echo "  mode = \"encapsulate\";"
		[ "$ENCAP" = gue ] && echo "  encapsulation = \"gue\"; gue_port = $GUE_PORT;"
		[ "$1" = dedicated ] && echo "  tunnel_source = { ipv4 = \"$TSRC4\"; ipv6 = \"$TSRC6\"; };"
		echo "  next_hops = ( { name = \"b1\"; ipv4 = \"${IPB4[1]}\"; ipv6 = \"${IPB6[1]}\"; } );"
		echo "  unmatched = \"b1\";"
		echo "};"
	} >"$(mslbd_conf f)"
}

conf_back() {
	{
		_conf_head b1
		cat <<EOF
back = {
  addresses = (
    { address = "${IPB4[1]}"; service = "$IPS4"; deliver_via = "198.51.100.146"; },
    { address = "${IPB6[1]}"; service = "$IPS6"; }
  );
  allowed_sources = [ "$IPS4", "$IPS6", "$TSRC4", "$TSRC6" ];
EOF
		[ "$ENCAP" = gue ] && echo "  gue_port = $GUE_PORT;"
		echo "};"
	} >"$(mslbd_conf b1)"
}

# tun_field FAMILY FIELD: the front's b1 tunnel entry for that outer family.
tun_field() {
	jget f ".front.next_hops[0].tunnel[] | select(.outer == \"ipv$1\") | .$2"
}

# pmtu NODE DST: the path MTU the node's kernel has cached for DST.
pmtu() { nsx "$1" ip route get "$2" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }

topology || bail "topology"
conf_back
mslbd_start b1 "$(mslbd_conf b1)" || bail "mslbd on b1"
srv_start_names 1 || bail "name service on s1"
head -c 200000 /dev/urandom >"$TMPD/data" || bail "test data"

for src in default dedicated; do
	conf_front "$src"
	mslbd_start f "$(mslbd_conf f)" || bail "mslbd on f ($src source)"
	nsx c1 ip route flush cache >/dev/null 2>&1
	nsx c1 ip -6 route flush cache >/dev/null 2>&1
	check_eq "$src: encapsulation" "$ENCAP" "$(jget f '.front.next_hops[0].encapsulation')"
	check_eq "$src: v4 tunnel MTU from the route at first" "route $((1500 - OVH4))" \
		"$(tun_field 4 source) $(tun_field 4 tunnel_mtu)"

	# IPv4: r answers the first full-size outer packet; the front learns
	# 1300, relays 1280 (GUE: 1272) to c1; the retry fits.
	nsx c1 ping -4 -n -q -c 1 -W 2 -M "do" -s 1400 "$IPS4" >/dev/null 2>&1
	wait_for 5 eval '[ "$(tun_field 4 source)" = icmp ]'
	check_eq "$src: v4 path MTU learned from r's ICMP" "icmp $NARROW $((NARROW - OVH4))" \
		"$(tun_field 4 source) $(tun_field 4 path_mtu) $(tun_field 4 tunnel_mtu)"
	check "$src: v4 learned MTU expires (soft state)" \
		test "$(tun_field 4 expires_in)" -gt 0 -a "$(tun_field 4 expires_in)" -le 600
	nsx c1 ping -4 -n -q -c 1 -W 2 -M "do" -s 1400 "$IPS4" >/dev/null 2>&1
	check_eq "$src: v4 error relayed to c1 with the tunnel MTU" $((NARROW - OVH4)) "$(pmtu c1 "$IPS4")"
	check "$src: v4 ping that fits the tunnel" \
		nsx c1 ping -4 -n -q -c 2 -i 0.2 -W 2 -M "do" -s $((NARROW - OVH4 - 28)) "$IPS4"
	check "$src: v4 ping without DF, fragmented by the front" \
		nsx c1 ping -4 -n -q -c 2 -i 0.2 -W 2 -M dont -s 1400 "$IPS4"
	check "$src: v4 TCP 200 kB through the narrower path" tcp_transfer c1 "$IPS4" 5001 s1 "$TMPD/data"

	# IPv6: r's Packet Too Big says 1300, tunnel MTU 1260 < 1280: c1 is
	# told 1280 and its 1280-byte packets go in outer fragments (GUE:
	# 1252, the same).
	nsx c1 ping -6 -n -q -c 1 -W 2 -s 1400 "$IPS6" >/dev/null 2>&1
	wait_for 5 eval '[ "$(tun_field 6 source)" = icmp ]'
	check_eq "$src: v6 path MTU learned from r's ICMPv6" "icmp $NARROW $((NARROW - OVH6))" \
		"$(tun_field 6 source) $(tun_field 6 path_mtu) $(tun_field 6 tunnel_mtu)"
	nsx c1 ping -6 -n -q -c 1 -W 2 -s 1400 "$IPS6" >/dev/null 2>&1
	check_eq "$src: v6 error relayed to c1, never below 1280" 1280 "$(pmtu c1 "$IPS6")"
	check "$src: v6 ping of 1400 bytes (fragmented by c1)" \
		nsx c1 ping -6 -n -q -c 2 -i 0.2 -W 2 -s 1400 "$IPS6"
	check "$src: v6 TCP 200 kB through the narrower path" tcp_transfer c1 "$IPS6" 5001 s1 "$TMPD/data"
	check "$src: b1 reassembled the outer fragments" \
		test "$(jget b1 '.back.reassembly.datagrams')" -gt 0
	check "$src: front counted the ICMP it received and relayed" \
		test "$(jget f '.icmp.received')" -ge 2 -a "$(jget f '.icmp.relayed')" -ge 2
	check_eq "$src: front drops other than too_big" 0 \
		"$(jget f '[.drops | to_entries[] | select(.key != "too_big") | .value] | add')"
	mslbd_stop f
	check_rc "$src: mslbd on f stops cleanly" 0 $?
done
check_eq "b1: every drop counter is 0" 0 "$(jget b1 "$JQ_DROPS")"
mslbd_stop b1
check_rc "mslbd on b1 stops cleanly" 0 $?
tap_done
