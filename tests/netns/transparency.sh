#!/bin/bash
# tests/netns/transparency.sh: what the server receives is what the client
# sent. Capture on c1's interface and on s1's interface (c1 -> b1 -> s1 for
# both families), send TCP, UDP (checksum, no checksum, fragmented) and ICMP,
# IPv4 and IPv6, then compare with scapy: every packet c1 sent to IP_S
# arrived at s1 identical except the TTL / hop limit and the IPv4 header
# checksum.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat tcpdump ping ss sha256sum ethtool timeout
require_scapy
require_mslbd

topo_create 2 3 mslb || bail "topology"
start_all_daemons hash || bail "starting mslbd"
srv_start_names 1 || bail "name service on s1"
srv_start_udp_echo 1 || bail "UDP echo on s1"

# Checksums computed and segments cut before the capture point, so that
# the client's capture holds the bytes that went on the wire.
no_offload c1 f || bail "ethtool -K on c1"
cap_start cli c1 f || bail "tcpdump on c1"
cap_start srv s1 b || bail "tcpdump on s1"

head -c 300000 /dev/urandom >"$TMPD/data" || bail "test data"
for dst in "$IPS4" "$IPS6"; do
	v=$(fam "$dst")
	check_eq "v$v: TCP name from s1" s1 "$(fetch_name c1 "$dst")"
	check "v$v: TCP 300 kB up and down" tcp_transfer c1 "$dst" 5001 s1 "$TMPD/data"
	check_eq "v$v: UDP echo" "t$v-$SUFFIX" "$(udp_echo c1 "$dst" "t$v-$SUFFIX")"
	check "v$v: ping" ping_ok c1 "$dst" 5
done
# Crafted: fragmented UDP (v4 and v6), IPv4 UDP without checksum.
check "v4: fragmented UDP datagram (3000 bytes)" send_raw_udp c1 "${C4[1]}" "$IPS4" 7 3000
check "v6: fragmented UDP datagram (3000 bytes)" send_raw_udp c1 "${C6[1]}" "$IPS6" 7 3000
check "v4: UDP with checksum 0" send_raw_udp c1 "${C4[1]}" "$IPS4" 9 100 1
check "v4: ping with DF and a large payload" \
	nsx c1 ping -4 -n -q -c 2 -i 0.1 -W 2 -M "do" -s 1400 "$IPS4"
check "v6: ping with a large payload" \
	nsx c1 ping -6 -n -q -c 2 -i 0.1 -W 2 -s 1400 "$IPS6"

cap_settle cli srv || diag "captures still growing"
bg_stop cli INT
bg_stop srv INT

out=$(pcap_compare "$TMPD/cli.pcap" "$TMPD/srv.pcap" "$IPS4" "$IPS6" 2>&1)
check_rc "every packet c1 sent to IP_S reached s1 unchanged but TTL/hop limit/IPv4 checksum" \
	0 $? "$out" && diag "$out"
for cat in v4-tcp v4-udp v4-icmp v4-frag v6-tcp v6-udp v6-icmp v6-frag; do
	read -r sent matched < <(awk -v c="$cat" '$1 == c {print $2, $3}' <<<"$out")
	check "$cat: ${matched:-0} of ${sent:-0} packets identical" \
		test "${sent:-0}" -gt 0 -a "${sent:-0}" = "${matched:-x}"
done

batching=io_uring
[ "${MSLB_TUN_IO_URING:-true}" = false ] && batching=syscalls
for n in f b1 b2 b3; do
	js=$(status_json "$n")
	check_eq "$n: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
	check_eq "$n: the TUN's reads and writes by $batching, none failed" "$batching 0 0" \
		"$(jq -r '.devices[0] | "\(.batching) \(.rx_errors) \(.tx_errors)"' <<<"$js")"
done
for n in f b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
