#!/bin/bash
# tests/netns/gue-offload.sh: GUE with segmentation offloads on, as on a VM.
# The standard topology (lib.sh, 1 client, 2 backs), every TUN with
# offloads; the front encapsulates in GUE to b1 (outer "same") and to b2
# (outer "ipv6"), both backs take GUE apart on port 6080. c1's TCP reaches
# the front as TSO super-packets. On a kernel with UDP-tunnel offloads on
# TUN and TAP (6.17+, the TUN path) the front hands the kernel each one
# whole behind the outer headers, through its TAP (a UDP-tunnel
# super-packet); elsewhere (older kernels, AF_PACKET) one UDP GSO
# super-packet with the segments back to back. Then:
#   f - b1  veths as created: the super-packets cross whole (a veth takes
#           both kinds), and b1 reads them from its TUN as they were
#           written: UDP-tunnel ones whole (udp_tunnel), UDP ones made
#           one TCP super-packet (uso_coalesced);
#   f - b2  f's end cuts them in software (checksums too, as a NIC without
#           those offloads), b2's end puts them together again (GRO with
#           rx-udp-gro-forwarding, as a VM's virtio NIC): b2 reads the UDP
#           super-packets GRO made and coalesces them.
# Each back writes one TCP super-packet to its TUN for each.
# Part 1 (c1's routes at MTU 1400, so nothing is too big for a tunnel):
# through b1 and b2, both families, TCP 4 MB up and down (sha256
# equal), UDP echo, ping.
# Part 2, counters: the front sent super-packets of the expected kind to
# b1 and b2 (udp_tunnel or uso > 0, more segments than super-packets); b1
# took them whole (udp_tunnel) or coalesced them, b2 coalesced (> 0), b1
# split none (only the front's super-packets reach it); the servers' TCP
# queued no segment out of order; no drops at f, b1, b2; no TUN write
# refused, and no write into f's TAP.
# Part 3, the wire: b1's end of its link saw GUE packets longer than the
# link MTU (super-packets); f's end of the b2 link carried only GUE of at
# most 1500 bytes, each with a right outer UDP checksum (IPv6 outside) and
# a right inner TCP checksum.
# Part 4 (UDP-tunnel offloads only): f again, writing packet by packet
# (tun.io_uring = false), with net.ipv4.conf.all.rp_filter = 2 (loose),
# which fails IPv4 written into the TAP (it has no IPv4 address): the
# warning names it, IPv4 GUE to b1 goes the UDP GSO way, IPv6 stays
# whole, and TCP through b1 is intact.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat tcpdump ping ethtool timeout sha256sum
require_scapy
require_mslbd

GUE_PORT=6080
OUTER=("" same ipv6)
# UDP-tunnel offloads on TUN and TAP: Linux 6.17, the TUN path.
TNL=0
if [ "${MSLB_IO:-tun}" != af_packet ]; then
	IFS=. read -r kmaj kmin _ < <(uname -r)
	[ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "${kmin%%[!0-9]*}" -ge 17 ]; } && TNL=1
fi
OFFL=csum,tso,uso
[ "$TNL" = 1 ] && OFFL=csum,tso,uso,udp_tunnel

# front_gue FILE: next hops b1 (outer same) and b2 (outer ipv6), all GUE;
# c1's addresses -> b1, its extra ones -> b2.
front_gue() {
	local i
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		echo "  mode = \"encapsulate\";"
		echo "  encapsulation = \"gue\";"
		echo "  next_hops = ("
		for i in 1 2; do
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s"; outer = "%s"; }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "${OUTER[$i]}" "$([ "$i" = 1 ] && echo ,)"
		done
		echo "  );"
		conf_table "${C4_TBL[1]}=b1" "${C6_TBL[1]}=b1" "${C4_OUT[1]}/32=b2" "${C6_OUT[1]}/128=b2"
		echo "  unmatched = \"hash\";"
		echo "};"
	} >"$1"
}

# transfer_from SRC DST PORT SERVER FILE: tcp_transfer from c1's address SRC
# (its extra addresses go to b2).
transfer_from() {
	local src=$1 dst=$2 port=$3 s=$4 file=$5 f key want got b
	f=$(fam "$dst")
	b=$src
	[ "$f" = 6 ] && b="[$src]"
	key="up-$s-$port"
	bg_start "$key" "$s" socat -u "TCP$f-LISTEN:$port,reuseaddr" "OPEN:$TMPD/$key.recv,creat,trunc"
	wait_for 10 listening "$s" tcp "$port" || { echo "sink not listening"; return 1; }
	timeout 60 ip netns exec "$(ns c1)" socat -u "OPEN:$file" \
		"TCP$f:$(sockaddr "$dst" "$port"),bind=$b,connect-timeout=5" || { echo "upload failed"; return 1; }
	bg_wait "$key" 30 || { echo "sink did not finish"; return 1; }
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	got=$(sha256sum <"$TMPD/$key.recv" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "upload: sha256 $got, want $want"; return 1; }
	key="down-$s-$port"
	bg_start "$key" "$s" socat -u "OPEN:$file" "TCP$f-LISTEN:$port,reuseaddr"
	wait_for 10 listening "$s" tcp "$port" || { echo "source not listening"; return 1; }
	timeout 60 ip netns exec "$(ns c1)" socat -u "TCP$f:$(sockaddr "$dst" "$port"),bind=$b,connect-timeout=5" \
		"OPEN:$TMPD/$key.recv,creat,trunc" || { echo "download failed"; return 1; }
	bg_wait "$key" 30 || { echo "source did not finish"; return 1; }
	got=$(sha256sum <"$TMPD/$key.recv" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "download: sha256 $got, want $want"; return 1; }
	rm -f "$TMPD/up-$s-$port.recv" "$TMPD/$key.recv"
}

# wire_scan KEY: what $TMPD/KEY.pcap holds, one "name value" line each:
#   gue         UDP packets to GUE_PORT
#   longest     the longest of them (IP length)
#   over_mtu    those longer than 1500 bytes
#   other       packets that are no GUE (ARP and ND left out)
#   udp_bad     outer UDP checksums that are wrong (0 counts as right over
#               IPv4 only)
#   tcp         inner TCP segments; tcp_bad: of them, a wrong checksum
wire_scan() {
	"$PYTHON" - "$TMPD/$1.pcap" "$GUE_PORT" <<'PYEOF'
import struct, sys
from scapy.utils import RawPcapReader

def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

def ones(b):
    if len(b) % 2:
        b += b'\0'
    return sum(struct.unpack('!%dH' % (len(b) // 2), b))

def ok(ip, l4, proto):
    """The transport checksum of l4 under the IP header ip sums right."""
    if ip[0] >> 4 == 4:
        ph = ip[12:20] + struct.pack('!BBH', 0, proto, len(l4))
    else:
        ph = ip[8:40] + struct.pack('!IxxxB', len(l4), proto)
    return fold(ones(ph) + ones(l4)) == 0xffff

def split(ip):
    """(header length, protocol, packet) of an IP packet, or None."""
    if ip[0] >> 4 == 4:
        n = struct.unpack('!H', ip[2:4])[0]
        return (ip[0] & 15) * 4, ip[9], ip[:n]
    if ip[0] >> 4 == 6:
        return 40, ip[6], ip[:40 + struct.unpack('!H', ip[4:6])[0]]
    return None

port = int(sys.argv[2])
st = dict(gue=0, longest=0, over_mtu=0, other=0, udp_bad=0, tcp=0, tcp_bad=0)
for frame, meta in RawPcapReader(sys.argv[1]):
    if meta.caplen != meta.wirelen:
        raise SystemExit('truncated capture')
    et = struct.unpack('!H', frame[12:14])[0]
    if et not in (0x0800, 0x86dd):
        continue
    hl, proto, ip = split(frame[14:])
    if proto == 58 and ip[hl] in (133, 134, 135, 136):
        continue
    if proto != 17 or struct.unpack('!H', ip[hl + 2:hl + 4])[0] != port:
        st['other'] += 1
        continue
    st['gue'] += 1
    st['longest'] = max(st['longest'], len(ip))
    st['over_mtu'] += len(ip) > 1500
    udp = ip[hl:]
    if not (ip[0] >> 4 == 4 and udp[6:8] == b'\0\0') and not ok(ip, udp, 17):
        st['udp_bad'] += 1
    inner = split(udp[8:])
    if inner and inner[1] == 6:
        st['tcp'] += 1
        st['tcp_bad'] += not ok(inner[2], inner[2][inner[0]:], 6)
for k, v in st.items():
    print(k, v)
PYEOF
}
scan_get() { awk -v k="$2" '$1 == k {print $2}' "$TMPD/$1.scan"; }

# ============================================================ set-up
topo_create 1 2 mslb || bail "topology"
front_gue "$(mslbd_conf f)" || bail "front config"
back_conf "$(mslbd_conf b1)" 1 "$GUE_PORT" || bail "back config b1"
back_conf "$(mslbd_conf b2)" 2 "$GUE_PORT" || bail "back config b2"
# f - b2: cut at f's end (and checksums finished: the capture there sees
# the wire), put together at b2's.
nsx f ethtool -K b2 tx off >/dev/null || bail "ethtool: tx-udp-segmentation on f's b2"
nsx b2 ethtool -K f gro on rx-udp-gro-forwarding on >/dev/null || bail "ethtool: GRO on b2's f"
rps_by_flow c1 f b1 b2 s1 s2 || bail "RPS on the veths"
mslbd_start f "$(mslbd_conf f)" || bail "starting mslbd on f"
for i in 1 2; do
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "starting mslbd on b$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
check_eq "f, b1, b2: TUN offloads $OFFL" "$OFFL $OFFL $OFFL" \
	"$(for n in f b1 b2; do jget "$n" '.devices[] | select(.kind == "tun") | .offloads'; done | paste -sd' ' -)"
# Nothing too big for a tunnel (tunnel MTU 1472 / 1452): c1's routes say 1400.
for v in 4 6; do
	gw=${C4_GW[1]} src=${C4[1]}
	[ $v = 6 ] && gw=${C6_GW[1]} src=${C6[1]}
	ip -n "$(ns c1)" -$v route replace default via "$gw" src "$src" mtu 1400 || bail "c1 route mtu"
done
head -c 4000000 /dev/urandom >"$TMPD/data" || bail "test data"
link_cap wire-b1 b1 f "udp port $GUE_PORT" || bail "tcpdump on b1's f"
link_cap wire-b2 f b2 "udp port $GUE_PORT" || bail "tcpdump on f's b2"

# ============================================================ part 1
port=5001
for dst in "$IPS4" "$IPS6"; do
	v=IPv$(fam "$dst")
	src=${C4[1]} src2=${C4_OUT[1]}
	[ "$v" = IPv6 ] && src=${C6[1]} src2=${C6_OUT[1]}
	check "$v via b1: TCP 4 MB up and down, sha256 equal" transfer_from "$src" "$dst" $port s1 "$TMPD/data"
	check "$v via b2: TCP 4 MB up and down, sha256 equal" transfer_from "$src2" "$dst" $((port + 1)) s2 "$TMPD/data"
	check_eq "$v via b1: UDP echo" "e1-$v-$SUFFIX" "$(udp_echo c1 "$dst" "e1-$v-$SUFFIX")"
	check "$v via b1: ping" ping_ok c1 "$dst" 3
	port=$((port + 2))
done
cap_settle wire-b1 wire-b2 || diag "captures still growing"
for k in wire-b1 wire-b2; do bg_stop "$k" INT; done

# ============================================================ part 2
js=$(status_json f)
kind=uso what="UDP super-packets"
[ "$TNL" = 1 ] && kind=udp_tunnel what="UDP-tunnel super-packets"
for i in 1 2; do
	read -r sup segs < <(jq -r ".front.next_hops[] | select(.name == \"b$i\") | \"\(.$kind) \(.segments)\"" <<<"$js")
	check "front: to b$i, $what ($sup) carrying more segments ($segs)" \
		test "${sup:-0}" -gt 0 -a "${segs:-0}" -gt "${sup:-0}"
	check_eq "b$i: no TUN write refused" 0 "$(jget "b$i" '.devices[] | select(.kind == "tun") | .tx_errors')"
done
if [ "$TNL" = 1 ]; then
	check "b1: UDP-tunnel super-packets taken whole ($(jget b1 .back.udp_tunnel))" test "$(jget b1 .back.udp_tunnel)" -gt 0
	check_eq "f: every write into the TUN and its TAP whole" 0 "$(jget f '.devices[] | select(.kind == "tun") | .tx_errors')"
else
	check "b1: UDP super-packets made TCP super-packets ($(jget b1 .back.uso_coalesced))" \
		test "$(jget b1 .back.uso_coalesced)" -gt 0
fi
check "b2: UDP super-packets made TCP super-packets ($(jget b2 .back.uso_coalesced))" \
	test "$(jget b2 .back.uso_coalesced)" -gt 0
for n in b1 b2; do diag "$n: $(jget "$n" '.back | {decapsulated, uso_coalesced, uso_split, udp_tunnel}' | tr -d ' \n')"; done
check_eq "b1: none taken apart datagram by datagram" 0 "$(jget b1 .back.uso_split)"
# The rest of a super-packet follows it before anything else of the batch:
# a server's TCP never queued a segment out of order. Only a loss the
# kernel counted on the way (a full socket buffer on a loaded machine) may
# put one there.
for i in 1 2; do
	ofo=$(nstat_get "s$i" TcpExtTCPOFOQueue)
	drops=$(kernel_drops c1 f "b$i" "s$i")
	diag "s$i: out of order $ofo, kernel drops on the way $drops"
	if [ "$ofo" != 0 ] && [ "${drops%% *}" -gt 0 ]; then
		check "s$i: segments out of order ($ofo) only after a loss the kernel counted" true
	else
		check_eq "s$i: no TCP segment arrived out of order (TcpExtTCPOFOQueue)" 0 "$ofo"
	fi
done
for n in f b1 b2; do
	check_eq "$n: no drops" 0 "$(jget "$n" "$JQ_DROPS")"
done

# ============================================================ part 3
check "b1's end of f - b1: capture read" eval 'wire_scan wire-b1 >"$TMPD/wire-b1.scan"'
diag "b1 link: $(paste -sd' ' "$TMPD/wire-b1.scan")"
check "b1's end of f - b1: GUE super-packets longer than the MTU ($(scan_get wire-b1 over_mtu), longest $(scan_get wire-b1 longest))" \
	test "$(scan_get wire-b1 over_mtu)" -gt 0
check "f's end of f - b2: capture read" eval 'wire_scan wire-b2 >"$TMPD/wire-b2.scan"'
diag "b2 link: $(paste -sd' ' "$TMPD/wire-b2.scan")"
check "f's end of f - b2: GUE ($(scan_get wire-b2 gue)) and inner TCP ($(scan_get wire-b2 tcp))" \
	test "$(scan_get wire-b2 gue)" -gt 1000 -a "$(scan_get wire-b2 tcp)" -gt 1000
check_eq "f's end of f - b2: longest packet at most 1500, outer UDP and inner TCP checksums right, nothing else" \
	"0 0 0 0" "$(for k in over_mtu udp_bad tcp_bad other; do scan_get wire-b2 "$k"; done | paste -sd' ' -)"

for n in f b1 b2; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

# ============================================================ part 4
if [ "$TNL" = 1 ]; then
	nsx f sysctl -qw net.ipv4.conf.all.rp_filter=2 || bail "rp_filter on f"
	: >"$TMPD/mslbd-f.log"
	MSLB_TUN_IO_URING=false front_gue "$(mslbd_conf f)" || bail "front config, packet by packet"
	for n in f b1; do mslbd_start "$n" "$(mslbd_conf "$n")" || bail "starting mslbd on $n again"; done
	check_eq "f: TUN and TAP written packet by packet" syscalls \
		"$(jget f '.devices[] | select(.kind == "tun") | .batching')"
	check "f, all.rp_filter = 2: the warning says IPv4 GUE is cut by mslbd" \
		grep -q "net.ipv4.conf.all.rp_filter is 2: IPv4 written into mslb0-tx would fail" "$TMPD/mslbd-f.log"
	check "f, all.rp_filter = 2: IPv4 via b1, TCP 4 MB up and down, sha256 equal" \
		transfer_from "${C4[1]}" "$IPS4" 5011 s1 "$TMPD/data"
	check "f, all.rp_filter = 2: IPv6 via b1, TCP 4 MB up and down, sha256 equal" \
		transfer_from "${C6[1]}" "$IPS6" 5012 s1 "$TMPD/data"
	read -r uso tnl < <(jget f '.front.next_hops[] | select(.name == "b1") | "\(.uso) \(.udp_tunnel)"')
	check "f, all.rp_filter = 2: to b1, IPv4 as UDP super-packets ($uso), IPv6 whole ($tnl)" \
		test "${uso:-0}" -gt 0 -a "${tnl:-0}" -gt 0
	check "b1: both kinds taken apart (coalesced $(jget b1 .back.uso_coalesced), whole $(jget b1 .back.udp_tunnel))" \
		test "$(jget b1 .back.uso_coalesced)" -gt 0 -a "$(jget b1 .back.udp_tunnel)" -gt 0
	check_eq "f: no drops" 0 "$(jget f "$JQ_DROPS")"
	for n in f b1; do
		mslbd_stop "$n"
		check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
	done
fi
tap_done
