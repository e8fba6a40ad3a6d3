#!/bin/bash
# tests/netns/plumbing.sh: the test harness itself, without mslbd.
#
# Builds the standard topology in "kernel" mode (f routes IP_S to b1, b1 to
# s1, plain kernel forwarding) and runs the traffic the mslbd tests use:
# names, ping, TCP transfer, UDP echo, TLS, and the capture comparison of
# transparency.sh. If this fails, the machine or the helpers are broken,
# not the daemon.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns
require_cmd ip jq socat openssl tcpdump ping ss sha256sum ethtool timeout
require_scapy

topo_create 2 3 kernel || bail "topology"
for i in 1 2 3; do
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
tls_make_cert || bail "openssl req"
srv_start_tls 1 || bail "TLS on s1"

for c in 1 2; do
	for dst in "$IPS4" "$IPS6"; do
		check_eq "c$c -> $dst: kernel route reaches s1" "s1" "$(fetch_name "c$c" "$dst")"
		check "c$c ping $dst" ping_ok "c$c" "$dst" 3
	done
	check_eq "c$c unmatched source ${C4_OUT[$c]} reaches s1" "s1" "$(fetch_name "c$c" "$IPS4" "${C4_OUT[$c]}")"
	check_eq "c$c unmatched source ${C6_OUT[$c]} reaches s1" "s1" "$(fetch_name "c$c" "$IPS6" "${C6_OUT[$c]}")"
done

head -c $((4 << 20)) /dev/urandom >"$TMPD/data" || bail "test data"
check "TCP 4 MiB v4 c1 <-> s1, sha256 equal" tcp_transfer c1 "$IPS4" 5001 s1 "$TMPD/data"
check "TCP 4 MiB v6 c2 <-> s1, sha256 equal" tcp_transfer c2 "$IPS6" 5001 s1 "$TMPD/data"

check_eq "UDP echo v4 from IP_S" "udp-hello-4" "$(udp_echo c1 "$IPS4" udp-hello-4)"
check_eq "UDP echo v6 from IP_S" "udp-hello-6" "$(udp_echo c2 "$IPS6" udp-hello-6)"

check_eq "TLS v4 echo" "4-daolyap-blsm" "$(tls_echo c1 "$IPS4" mslb-payload-4)"
check_eq "TLS v6 echo" "6-daolyap-blsm" "$(tls_echo c1 "$IPS6" mslb-payload-6)"

# Capture comparison with only kernel forwarding: TTL / hop limit change.
no_offload c1 f || bail "ethtool on c1"
cap_start cli c1 f || bail "tcpdump on c1"
cap_start srv s1 b || bail "tcpdump on s1"
fetch_name c1 "$IPS4" >/dev/null
fetch_name c1 "$IPS6" >/dev/null
head -c 200000 /dev/urandom >"$TMPD/small"
tcp_transfer c1 "$IPS4" 5002 s1 "$TMPD/small" >/dev/null
tcp_transfer c1 "$IPS6" 5002 s1 "$TMPD/small" >/dev/null
udp_echo c1 "$IPS4" cap-4 >/dev/null
udp_echo c1 "$IPS6" cap-6 >/dev/null
ping_ok c1 "$IPS4" 3 >/dev/null
ping_ok c1 "$IPS6" 3 >/dev/null
send_raw_udp c1 "${C4[1]}" "$IPS4" 9 3000
send_raw_udp c1 "${C6[1]}" "$IPS6" 9 3000
send_raw_udp c1 "${C4[1]}" "$IPS4" 9 100 1
cap_settle cli srv
bg_stop cli INT
bg_stop srv INT
out=$(pcap_compare "$TMPD/cli.pcap" "$TMPD/srv.pcap" "$IPS4" "$IPS6" 2>&1)
check_rc "kernel forwarding: every packet arrives unchanged but TTL" 0 $? "$out" && diag "$out"
for cat in v4-tcp v4-udp v4-icmp v4-frag v6-tcp v6-udp v6-icmp v6-frag; do
	read -r sent matched < <(awk -v c="$cat" '$1 == c {print $2, $3}' <<<"$out")
	check "capture has $cat packets, all matched (${matched:-0}/${sent:-0})" \
		test "${sent:-0}" -gt 0 -a "${sent:-0}" = "${matched:-x}"
done

tap_done
