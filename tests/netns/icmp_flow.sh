#!/bin/bash
# tests/netns/icmp_flow.sh: ICMP errors follow their flow.
#
# A router on the path between the front and a client answers a server's
# return packet (IP_S -> IP_C) with an ICMP error addressed to IP_S
# (draft-matsuhira-mslb-17: the client side only knows IP_S). The front
# must send that error to the next hop IP_C maps to in the MSLB table, so
# that the server holding the flow gets it (PMTU discovery of the server's
# TCP connection), not the next hop the error's own source maps to.
#
# Standard topology (lib.sh), two clients, three backs, default table:
# c1 -> b1 (v4, v6), c2 -> b2 (v4), c2 -> b3 (v6). The "routers" are extra
# addresses of the clients, chosen so that their own table entry points
# elsewhere than the flow they quote:
#   from c2's 192.0.2.190 (-> b2): frag needed, mtu 1300, quoting
#        IP_S:80 -> c1 192.0.2.10:40001 (TCP), and again for port 40011
#                                                       expected at s1 only
#   from c2's 2001:db8:c2::fe (-> b3): packet too big, mtu 1300, quoting
#        [IP_S]:80 -> c1 [2001:db8:c1::10]:40002, and again for 40012
#                                                       expected at s1 only
#   from c1's 192.0.2.62 (-> b1): frag needed quoting IP_S -> c2 192.0.2.138
#                                                       expected at s2 only
#   from c1's 2001:db8:c1::fe (-> b1): packet too big quoting IP_S -> c2
#        2001:db8:c2::10                                expected at s3 only
# (two errors per family quote c1, so that the front's per-next-hop counters
# differ between "by flow" (b1 +4, b2 +1, b3 +1) and "by the error's own
# source" (+2 each)).
# Each arrives byte for byte as sent (except TTL / hop limit and the IPv4
# header checksum): the quoted packet, the ICMP header and checksum are
# untouched. Run in address translation mode, then in encapsulation mode.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq tcpdump ping timeout
require_mslbd
require_scapy

R4=("" 192.0.2.62 192.0.2.190)		# router addresses on c1, c2
R6=("" 2001:db8:c1::fe 2001:db8:c2::fe)

topo_create 2 3 mslb || bail "topology"
for i in 1 2; do
	addr_add "c$i" f "${R4[$i]}/25" || bail "address ${R4[$i]}"
	addr_add "c$i" f "${R6[$i]}/64" || bail "address ${R6[$i]}"
done
for i in 1 2 3; do
	back_conf "$(mslbd_conf "b$i")" "$i" || bail "b$i config"
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "mslbd on b$i"
done

# icmp_send NODE SRC4 SRC6 QUOTED_C4 QUOTED_C6 PORT LABEL OUT: one ICMP
# "frag needed" and one ICMPv6 "packet too big" to IP_S, each quoting a TCP
# packet IP_S:80 -> QUOTED:port (port PORT v4, PORT+1 v6; plus 60 payload
# bytes). Appends "LABEL-v4 HEX" and "LABEL-v6 HEX" lines to OUT.
# shellcheck disable=SC2317 # called through check
icmp_send() {
	nsx "$1" "$PYTHON" - "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$IPS4" "$IPS6" <<'PYEOF'
import sys
from scapy.all import IP, IPv6, TCP, ICMP, ICMPv6PacketTooBig, Raw, send, conf
conf.verb = 0
src4, src6, q4, q6, port, label, out, ips4, ips6 = sys.argv[1:10]
port = int(port)
data = bytes((i * 13 + 5) & 0xff for i in range(60))
quoted4 = bytes(IP(src=ips4, dst=q4, ttl=63, id=0x1234, flags="DF") /
                TCP(sport=80, dport=port, flags="PA", seq=0x01020304, ack=0x05060708) / Raw(data))
quoted6 = bytes(IPv6(src=ips6, dst=q6, hlim=63) /
                TCP(sport=80, dport=port + 1, flags="PA", seq=0x01020304, ack=0x05060708) / Raw(data))
e4 = IP(src=src4, dst=ips4, ttl=64, id=0x4d53) / ICMP(type=3, code=4, nexthopmtu=1300) / Raw(quoted4)
e6 = IPv6(src=src6, dst=ips6, hlim=64) / ICMPv6PacketTooBig(mtu=1300) / Raw(quoted6)
e4, e6 = IP(bytes(e4)), IPv6(bytes(e6))
with open(out, "a") as f:
    f.write("%s-v4 %s\n" % (label, bytes(e4).hex()))
    f.write("%s-v6 %s\n" % (label, bytes(e6).hex()))
send(e4)
send(e6)
PYEOF
}

# arrived SENT PCAP: the labels of SENT's packets found in PCAP, byte for
# byte (TTL / hop limit and IPv4 header checksum aside), sorted; an ICMP
# error to IP_S that matches none of them is "other"; one whose quoted
# packet matches a sent one but whose bytes differ is "LABEL-modified".
arrived() {
	"$PYTHON" - "$1" "$2" <<'PYEOF'
import sys
from scapy.utils import RawPcapReader
sent = {}
for line in open(sys.argv[1]):
    label, hx = line.split()
    sent[label] = bytes.fromhex(hx)

def norm(p):
    b = bytearray(p)
    if b[0] >> 4 == 4:
        b[8] = 0
        b[10:12] = b"\0\0"
    else:
        b[7] = 0
    return bytes(b)

def quoted(p):  # the quoted packet of an ICMP error
    return p[28:] if p[0] >> 4 == 4 else p[48:]

out = []
r = RawPcapReader(sys.argv[2])
for data, meta in r:
    et, off = int.from_bytes(data[12:14], "big"), 14
    if et == 0x0800:
        p = data[off:]
        p = p[:int.from_bytes(p[2:4], "big")]
    elif et == 0x86dd:
        p = data[off:]
        p = p[:40 + int.from_bytes(p[4:6], "big")]
    else:
        continue
    hit = [l for l, s in sent.items() if norm(s) == norm(p)]
    if hit:
        out.append(hit[0])
        continue
    near = [l for l, s in sent.items() if quoted(s) == quoted(p)]
    if near:
        out.append(near[0] + "-modified")
        sys.stderr.write("%s: sent     %s\n%s: received %s\n" % (near[0], sent[near[0]].hex(), near[0], p.hex()))
    else:
        out.append("other")
print(" ".join(sorted(out)))
PYEOF
}

# caps_hold N KEY...: the captures KEY... hold N packets or more in all.
# shellcheck disable=SC2317 # called through wait_for
caps_hold() {
	local n=$1 k c sum=0; shift
	for k in "$@"; do c=$(pcap_count "$k") || return 1; sum=$((sum + c)); done
	[ "$sum" -ge "$n" ]
}

ICMP_FILTER="(dst host $IPS4 and icmp) or (dst host $IPS6 and icmp6)"

run_mode() { # run_mode translate|encapsulate
	local mode=$1 conf ok=1 i key sent=$TMPD/sent-$1.txt js out
	conf=$(mslbd_conf f)
	MSLB_FRONT_MODE=$mode front_conf "$conf" hash || bail "front config"
	out=$(mslbd_cli f check -c "$conf" 2>&1)
	check_rc "$mode: mslbd check accepts the front" 0 $? "$out" || ok=0
	if [ "$ok" = 1 ]; then
		mslbd_start f "$conf" 2>"$TMPD/start-f.err" || ok=0
		check_eq "$mode: mslbd starts on the front" 1 "$ok" || diag "$(tail -n 10 "$TMPD/start-f.err")"
	fi
	if [ "$ok" = 0 ]; then
		tap_fail "$mode: ICMP flow checks not run (no front daemon)"
		return
	fi
	# The path works at all (and the neighbours are resolved).
	check "$mode: c1 ping $IPS4" ping_ok c1 "$IPS4" 2
	check "$mode: c1 ping $IPS6" ping_ok c1 "$IPS6" 2
	check "$mode: c2 ping $IPS4" ping_ok c2 "$IPS4" 2
	check "$mode: c2 ping $IPS6" ping_ok c2 "$IPS6" 2

	for i in 1 2 3; do
		key="icmp-$mode-s$i"
		bg_start "$key" "s$i" tcpdump -i b -n -U --immediate-mode -Z root -s 4096 \
			-w "$TMPD/$key.pcap" "$ICMP_FILTER"
		wait_for 10 grep -q "listening on" "$TMPD/$key.log" || bail "tcpdump on s$i"
	done
	snap f before
	: >"$sent"
	# c2's router address quotes c1's flows (two of them each family);
	# c1's quotes c2's. By flow: b1 +4, b2 +1, b3 +1; by the errors' own
	# source it would be b1 +2, b2 +2, b3 +2.
	check "$mode: c2 (as a router) sends ICMP errors quoting IP_S -> c1" \
		icmp_send c2 "${R4[2]}" "${R6[2]}" "${C4[1]}" "${C6[1]}" 40001 to-c1 "$sent"
	check "$mode: c2 (as a router) sends ICMP errors quoting IP_S -> c1, other ports" \
		icmp_send c2 "${R4[2]}" "${R6[2]}" "${C4[1]}" "${C6[1]}" 40011 to-c1b "$sent"
	check "$mode: c1 (as a router) sends ICMP errors quoting IP_S -> c2" \
		icmp_send c1 "${R4[1]}" "${R6[1]}" "${C4[2]}" "${C6[2]}" 40021 to-c2 "$sent"
	# All 6 errors reached the servers' captures (the checks below say
	# which went where), and nothing more is coming.
	wait_for 10 caps_hold 6 "icmp-$mode-s1" "icmp-$mode-s2" "icmp-$mode-s3" ||
		diag "fewer than 6 ICMP errors captured on s1, s2, s3 in 10 s"
	cap_settle "icmp-$mode-s1" "icmp-$mode-s2" "icmp-$mode-s3"
	snap f after
	for i in 1 2 3; do bg_stop "icmp-$mode-s$i"; done

	# The flow IP_S -> c1 is on b1 (both families); IP_S -> c2 on b2 (v4)
	# and b3 (v6).
	check_eq "$mode: s1 received exactly the errors quoting c1's flows, unchanged" "to-c1-v4 to-c1-v6 to-c1b-v4 to-c1b-v6" \
		"$(arrived "$sent" "$TMPD/icmp-$mode-s1.pcap" 2>"$TMPD/arrived-s1.err")" ||
		diag "$(cat "$TMPD/arrived-s1.err")"
	check_eq "$mode: s2 received exactly the v4 error quoting c2's flow, unchanged" "to-c2-v4" \
		"$(arrived "$sent" "$TMPD/icmp-$mode-s2.pcap" 2>"$TMPD/arrived-s2.err")" ||
		diag "$(cat "$TMPD/arrived-s2.err")"
	check_eq "$mode: s3 received exactly the v6 error quoting c2's flow, unchanged" "to-c2-v6" \
		"$(arrived "$sent" "$TMPD/icmp-$mode-s3.pcap" 2>"$TMPD/arrived-s3.err")" ||
		diag "$(cat "$TMPD/arrived-s3.err")"

	check_eq "$mode: front: next hop b1 packets +4 (the errors quoting c1)" 4 "$(delta f "$(jq_nh_packets b1)")"
	check_eq "$mode: front: next hop b2 packets +1 (v4 error quoting c2)" 1 "$(delta f "$(jq_nh_packets b2)")"
	check_eq "$mode: front: next hop b3 packets +1 (v6 error quoting c2)" 1 "$(delta f "$(jq_nh_packets b3)")"
	check_eq "$mode: front: icmp.received +6" 6 "$(delta f '.icmp.received')"
	check_eq "$mode: front: icmp.followed +6 (sent on to their flow's next hop)" 6 "$(delta f '.icmp.followed')"
	check_eq "$mode: front: icmp.relayed +0 (none is about the front's own tunnels)" 0 "$(delta f '.icmp.relayed')"
	check_eq "$mode: front: icmp.sent +0" 0 "$(delta f '.icmp.sent')"
	js=$(status_json f)
	check_eq "$mode: front: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
	mslbd_stop f
	check_rc "$mode: front exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
}

run_mode translate
run_mode encapsulate

for i in 1 2 3; do
	js=$(status_json "b$i")
	check_eq "b$i: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
		diag "$(jq -c '.drops' <<<"$js")"
done
tap_done
