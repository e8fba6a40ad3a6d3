#!/bin/bash
# tests/netns/gue.sh: encapsulation mode with GUE, variant 1
# (draft-ietf-intarea-gue: the client's IPv4 or IPv6 packet right after an
# outer UDP header, no GUE header), on the standard topology (lib.sh, 1
# client, 2 backs). The front encapsulates to both next hops with
# front.encapsulation = "gue":
#   b1 outer = "same":  c1 IPv4 -> IPv4 in UDP in IPv4, IPv6 -> IPv6 in UDP in IPv6
#   b2 outer = "ipv6":  c1 from its extra addresses 192.0.2.100 and
#                       2001:db8:c1::1:100 -> IPv4 and IPv6 in UDP in IPv6
# Both backs set back.gue_port = 6080 (a back takes no GUE apart by
# default); both accept the outer source IP_S by default (allowed_sources =
# their services).
#
# Part 1, path MTU 1500 (tunnel MTU 1472 with IPv4 outside, 1452 with IPv6):
# `mslbd check` takes the files; the status shows encapsulation "gue" and
# those tunnel MTUs.
# Part 2: through b1, TCP 300 kB up and down (sha256), UDP echo and ping in
# both families (c1's routes carry mtu 1400, so that nothing is too big for a
# tunnel and the packets compare one to one); through b2, the name service,
# UDP echo and ping.
# Part 3: what the f - b1 link carries: only UDP to port 6080 from IP_S of the
# outer family to IP_B1, source port 49152-65535 and one per inner flow,
# IPv4 UDP checksum 0, IPv6 UDP checksum right, no protocol 4 or 41, and
# inside them every packet c1 sent, byte for byte (but the TTL / hop limit and
# the IPv4 header checksum); f - b2 the same in IPv6. (tcpdump on bi's end of
# the link, everything to IP_Bi; gue_scan reads it.)
# Part 4: GUE to IP_B1 port 6080 from c1 (not allowed): drops.tunnel_source,
# exactly; UDP to IP_B1 port 6080 from IP_S whose payload is no IP packet:
# drops.tunnel_inner, exactly; nothing decapsulated, nothing reaches s1.
# Part 5, the front restarted with path_mtu = 1400 for b1 (tunnel MTU 1372 /
# 1352) and c1's route MTU back to 1500: TCP 300 kB completes through path
# MTU discovery; ping with DF gets "fragmentation needed" (mtu 1372) from
# IP_S; without DF the front sends the inner fragments, each in a GUE packet
# of its own; IPv6 gets Packet Too Big (mtu 1352).
# Part 6, the front restarted with b2 encapsulation = "ip" (and a next hop in
# translation mode, whose encapsulation is null): the f - b2 link carries IP
# in IPv6 (next header 4 and 41), the f - b1 link still GUE.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat tcpdump ping ss sha256sum ethtool timeout
require_scapy
require_mslbd

GUE_PORT=6080

# ------------------------------------------------------------ config
# gue_front_conf FILE PART: next hops b1 (outer same) and b2 (outer ipv6),
# every one in encapsulation mode (front.mode); c1's addresses -> b1, its
# extra ones -> b2.
#   gue:   front.encapsulation = "gue", front.gue_port = 6080 written out
#   pmtu:  the same, and path_mtu = 1400 for b1
#   mixed: front.encapsulation = "gue" (gue_port left to its default), b2
#          encapsulation = "ip", and b3 in translation mode (no back behind
#          it, in no table entry: only for the status)
OUTER=("" same ipv6)
gue_front_conf() {
	local file=$1 part=$2 i extra entries
	entries="${C4_TBL[1]}=b1 ${C6_TBL[1]}=b1 ${C4_OUT[1]}/32=b2 ${C6_OUT[1]}/128=b2"
	{
		_conf_head f
		echo "front = {"
		echo "  services = [ \"$IPS4\", \"$IPS6\" ];"
		echo "  mode = \"encapsulate\";"
		echo "  encapsulation = \"gue\";"
		[ "$part" != mixed ] && echo "  gue_port = $GUE_PORT;"
		echo "  next_hops = ("
		for i in 1 2; do
			extra=""
			[ "$part" = pmtu ] && [ "$i" = 1 ] && extra=" path_mtu = 1400;"
			[ "$part" = mixed ] && [ "$i" = 2 ] && extra=" encapsulation = \"ip\";"
			printf '    { name = "b%s"; ipv4 = "%s"; ipv6 = "%s"; outer = "%s";%s }%s\n' "$i" \
				"${IPB4[$i]}" "${IPB6[$i]}" "${OUTER[$i]}" "$extra" \
				"$([ "$i" = 1 ] || [ "$part" = mixed ] && echo ,)"
		done
		[ "$part" = mixed ] && printf '    { name = "b3"; ipv4 = "%s"; ipv6 = "%s"; mode = "translate"; }\n' \
			"${IPB4[3]}" "${IPB6[3]}"
		echo "  );"
		# shellcheck disable=SC2086 # one word an entry
		conf_table $entries
		echo "  unmatched = \"hash\";"
		echo "};"
	} >"$file"
}

# conf_ok NODE WHAT: `mslbd check` takes NODE's file.
conf_ok() {
	local out rc
	out=$("$MSLBD" check -c "$(mslbd_conf "$1")" 2>&1); rc=$?
	check_rc "mslbd check accepts $1's config ($2)" 0 "$rc" "$out"
}

# client_mtu MTU|"": c1's default routes, with "mtu MTU" or none.
client_mtu() {
	ip -n "$(ns c1)" -4 route replace default via "${C4_GW[1]}" src "${C4[1]}" ${1:+mtu "$1"} &&
		ip -n "$(ns c1)" -6 route replace default via "${C6_GW[1]}" src "${C6[1]}" ${1:+mtu "$1"} &&
		flush_c1
}
flush_c1() { ip -n "$(ns c1)" -4 route flush cache && ip -n "$(ns c1)" -6 route flush cache; }

# udp_echo_from SRC DST PAYLOAD: udp_echo from c1's address SRC.
udp_echo_from() {
	local b=$1
	[ "$(fam "$1")" = 6 ] && b="[$1]"
	printf '%s' "$3" | timeout 10 ip netns exec "$(ns c1)" socat -t 3 -T 5 - \
		"UDP$(fam "$2"):$(sockaddr "$2" 7),bind=$b"
}

# send_gue COUNT OUTER_SRC OUTER_DST KIND: from c1, COUNT UDP packets to
# OUTER_DST port 6080 crafted by scapy (IPv4 UDP checksum 0, as the front
# sends them). KIND: ip (a GUE packet: c1 -> IP_S, UDP to port 4999, inside),
# zeros (32 zero bytes: no IP packet), cut (an IPv4 header cut after 12
# bytes).
# shellcheck disable=SC2317 # called through check
send_gue() {
	local isrc=${C4[1]} idst=$IPS4
	[ "$(fam "$3")" = 6 ] && isrc=${C6[1]} idst=$IPS6
	nsx c1 "$PYTHON" - "$@" "$GUE_PORT" "$isrc" "$idst" <<'PYEOF'
import sys
n, osrc, odst, kind, port, isrc, idst = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], \
    int(sys.argv[5]), sys.argv[6], sys.argv[7]
from scapy.all import IP, IPv6, UDP, Raw, send
if kind == 'ip':
    inner = bytes((IPv6(src=isrc, dst=idst) if ':' in idst else IP(src=isrc, dst=idst)) /
                  UDP(sport=40009, dport=4999) / Raw(b'mslb-not-allowed'))
elif kind == 'zeros':
    inner = bytes(32)
elif kind == 'cut':
    inner = bytes([0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0])
else:
    raise SystemExit('send_gue: unknown kind ' + kind)
if ':' in odst:
    pkt = IPv6(src=osrc, dst=odst) / UDP(sport=50001, dport=port) / Raw(inner)
else:
    u = UDP(sport=50001, dport=port)
    u.chksum = 0
    pkt = IP(src=osrc, dst=odst) / u / Raw(inner)
send([pkt] * n, verbose=False, inter=0.01)
PYEOF
}

# gue_scan KEY: read $TMPD/KEY.pcap (a link capture) into $TMPD/KEY.scan:
#   "kind LINE" for every kind of IP packet, sorted, as pkt_kinds (lib.sh)
#   plus the UDP destination port and the inner packet of UDP packets:
#     "v4 SRC > DST udp DPORT: v4 ISRC > IDST[ fragment]"  GUE (to GUE_PORT)
#     "v4 SRC > DST udp DPORT"                             other UDP
#     "v6 SRC > DST proto 41: v6 ISRC > IDST"              IP-in-IP
#   "stat NAME N" for: packets; gue, v4, v6 (GUE packets: all, IPv4 and
#   IPv6 outside); other (not GUE); ip_in_ip (protocol 4 or 41); sport_low
#   (UDP source port below 49152); csum4_nonzero (IPv4 outside, UDP checksum
#   not 0); csum6_bad (IPv6 outside, UDP checksum 0 or wrong); ulen_bad (UDP
#   length other than the rest of the packet); inner_bad (no whole IP packet
#   after the UDP header); flows (inner flows: addresses, protocol and ports,
#   echo ID, or "a fragment"), flows_split (flows seen with more than one
#   source port), sports (source ports), sport_min, sport_max.
# The inner packets of the GUE packets go to $TMPD/KEY-inner.pcap (raw IP).
# shellcheck disable=SC2317 # called through check
gue_scan() {
	local rc
	"$PYTHON" - "$TMPD/$1.pcap" "$GUE_PORT" "$TMPD/$1-inner.pcap" >"$TMPD/$1.scan" 2>"$TMPD/$1.scan.err" <<'PYEOF'
import sys, socket, struct
from collections import defaultdict
from scapy.utils import RawPcapReader

path, port, inner_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def ntop(b):
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, bytes(b))

def ip_packets(path):
    reader = RawPcapReader(path)
    lt = reader.linktype
    for data, meta in reader:
        if meta.caplen != meta.wirelen:
            raise SystemExit("%s: truncated capture (%d of %d bytes)" % (path, meta.caplen, meta.wirelen))
        if lt == 1:
            et, off = int.from_bytes(data[12:14], 'big'), 14
            while et in (0x8100, 0x88a8):
                et, off = int.from_bytes(data[off + 2:off + 4], 'big'), off + 4
        elif lt == 113:
            et, off = int.from_bytes(data[14:16], 'big'), 16
        elif lt == 276:
            et, off = int.from_bytes(data[0:2], 'big'), 20
        else:
            raise SystemExit("unsupported link type %d" % lt)
        p = bytes(data[off:])
        if et == 0x0800 and len(p) >= 20:
            yield p[:int.from_bytes(p[2:4], 'big')]
        elif et == 0x86dd and len(p) >= 40:
            yield p[:40 + int.from_bytes(p[4:6], 'big')]
    reader.close()

def hdr(p):
    """(family, src, dst, protocol, L4 offset, length, fragment?, first
    fragment?), or None if p starts with no IP header."""
    if len(p) >= 20 and p[0] >> 4 == 4:
        fo = int.from_bytes(p[6:8], 'big')
        return ('v4', ntop(p[12:16]), ntop(p[16:20]), p[9], (p[0] & 15) * 4,
                int.from_bytes(p[2:4], 'big'), (fo & 0x3fff) != 0, (fo & 0x1fff) == 0)
    if len(p) >= 40 and p[0] >> 4 == 6:
        nh, off, frag, first = p[6], 40, False, True
        while nh in (0, 43, 44, 60) and off + 8 <= len(p):
            if nh == 44:
                frag = True
                first = (int.from_bytes(p[off + 2:off + 4], 'big') >> 3) == 0
                nh, off = p[off], off + 8
            else:
                nh, off = p[off], off + 8 + p[off + 1] * 8
        return ('v6', ntop(p[8:24]), ntop(p[24:40]), nh, off, 40 + int.from_bytes(p[4:6], 'big'),
                frag, first)
    return None

def sum16(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s

st = dict.fromkeys(('packets', 'gue', 'v4', 'v6', 'other', 'ip_in_ip', 'sport_low', 'csum4_nonzero',
                    'csum6_bad', 'ulen_bad', 'inner_bad'), 0)
kinds, flows, sports, inner_pkts = set(), defaultdict(set), set(), []
for p in ip_packets(path):
    st['packets'] += 1
    fam, src, dst, proto, off, end, frag, first = hdr(p)
    line = '%s %s > %s' % (fam, src, dst)
    if frag:
        line += ' fragment'
    if proto != 17 or not first or len(p) < off + 8:
        st['other'] += 1
        line += ' proto %d' % proto
        if proto in (4, 41):
            st['ip_in_ip'] += 1
            ih = hdr(p[off:]) if first else None
            if ih:
                line += ': %s %s > %s' % ih[:3]
        kinds.add(line)
        continue
    u = p[off:end]
    sport, dport, ulen, ck = struct.unpack('!HHHH', u[:8])
    line += ' udp %d' % dport
    if dport != port or frag:
        st['other'] += 1
        kinds.add(line)
        continue
    st['gue'] += 1
    st[fam] += 1
    if ulen != len(u):
        st['ulen_bad'] += 1
    if sport < 49152:
        st['sport_low'] += 1
    sports.add(sport)
    if fam == 'v4':
        if ck != 0:
            st['csum4_nonzero'] += 1
    elif ck == 0 or sum16(p[8:40] + struct.pack('!I', len(u)) + b'\0\0\0\x11' + u) != 0xffff:
        st['csum6_bad'] += 1
    inner = u[8:]
    ih = hdr(inner)
    if ih is None or ih[5] != len(inner):
        st['inner_bad'] += 1
        kinds.add(line + ': no IP packet')
        continue
    ifam, isrc, idst, iproto, ioff, iend, ifrag, ifirst = ih
    line += ': %s %s > %s' % (ifam, isrc, idst)
    if ifrag:
        line += ' fragment'
    kinds.add(line)
    l4 = inner[ioff:iend]
    key = (ifam, isrc, idst, iproto)
    if ifrag:
        key += ('a fragment',)
    elif iproto in (6, 17) and len(l4) >= 4:
        key += (l4[:4],)
    elif iproto in (1, 58) and len(l4) >= 8 and l4[0] in (0, 8, 128, 129):
        key += ('echo', l4[4:6])
    flows[key].add(sport)
    inner_pkts.append(inner)

with open(inner_out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    for i, b in enumerate(inner_pkts):
        f.write(struct.pack('<IIII', i, 0, len(b), len(b)) + b)
st['flows'] = len(flows)
st['flows_split'] = sum(1 for s in flows.values() if len(s) > 1)
st['sports'] = len(sports)
st['sport_min'] = min(sports, default=0)
st['sport_max'] = max(sports, default=0)
for k in sorted(kinds):
    print('kind', k)
for k in sorted(st):
    print('stat', k, st[k])
PYEOF
	rc=$?
	[ "$rc" -eq 0 ] || cat "$TMPD/$1.scan.err"
	return "$rc"
}
scan_kinds() { sed -n 's/^kind //p' "$TMPD/$1.scan"; }
scan_stat() { awk -v k="$2" '$1 == "stat" && $2 == k { print $3 }' "$TMPD/$1.scan"; }
scan_stats() { diag "$1: $(sed -n 's/^stat //p' "$TMPD/$1.scan" | paste -sd' ' -)"; }

# counter_reaches NODE FILTER VALUE: the status value is at least VALUE.
# shellcheck disable=SC2317 # called through wait_for
counter_reaches() { local v; v=$(jget "$1" "$2") && [ "$v" -ge "$3" ]; }
jq_nh() { echo ".front.next_hops[] | select(.name == \"$1\") | $2"; }
JQ_TUNNELS='[.tunnel[] | "\(.outer) \(.path_mtu) \(.tunnel_mtu) \(.source)"] | sort | join(", ")'
JQ_MODE='"\(.mode) \(.outer) \(.encapsulation)"'
# jq_drops_but KEY...: sum of the drop counters other than KEY...
jq_drops_but() {
	local keys
	keys=$(printf '"%s",' "$@")
	echo "[.drops | to_entries[] | select(.key as \$k | [${keys%,}] | index(\$k) | not) | .value] | add"
}
# start_caps KEY_PREFIX: capture everything to IP_B1 and to IP_B2, on the
# receiving end of each f - bi link (what the sender's taps see depends on
# its I/O path); KEY_PREFIX-b1, KEY_PREFIX-b2.
start_caps() {
	local i
	for i in 1 2; do
		link_cap "$1-b$i" "b$i" f "dst host ${IPB4[$i]} or dst host ${IPB6[$i]}" ||
			bail "tcpdump on b$i - f"
	done
}

# ============================================================ part 1
topo_create 1 2 mslb || bail "topology"
gue_front_conf "$(mslbd_conf f)" gue || bail "front config"
back_conf "$(mslbd_conf b1)" 1 "$GUE_PORT" || bail "back config b1"
back_conf "$(mslbd_conf b2)" 2 "$GUE_PORT" || bail "back config b2"
conf_ok f "encapsulation = \"gue\", gue_port = $GUE_PORT"
conf_ok b1 "gue_port = $GUE_PORT"
conf_ok b2 "gue_port = $GUE_PORT"
mslbd_start f "$(mslbd_conf f)" || bail "starting mslbd on f"
for i in 1 2; do
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "starting mslbd on b$i"
	srv_start_names "$i" || bail "name service on s$i"
	srv_start_udp_echo "$i" || bail "UDP echo on s$i"
done
client_mtu 1400 || bail "c1 route mtu"
head -c 300000 /dev/urandom >"$TMPD/data" || bail "test data"

js=$(status_json f)
check_rc "front: status --json exits 0" 0 $? "$js"
check_eq "front: b1: mode, outer, encapsulation" "encapsulate same gue" "$(jq -r "$(jq_nh b1 "$JQ_MODE")" <<<"$js")"
check_eq "front: b2: mode, outer, encapsulation" "encapsulate ipv6 gue" "$(jq -r "$(jq_nh b2 "$JQ_MODE")" <<<"$js")"
check_eq "front: b1: families" '["ipv4 in ipv4","ipv6 in ipv6"]' \
	"$(jq -c "$(jq_nh b1 '.families | sort')" <<<"$js")"
check_eq "front: b2: families" '["ipv4 in ipv6","ipv6 in ipv6"]' \
	"$(jq -c "$(jq_nh b2 '.families | sort')" <<<"$js")"
check_eq "front: b1 tunnels: path MTU 1500 of the route, tunnel MTU 1472 / 1452" \
	"ipv4 1500 1472 route, ipv6 1500 1452 route" "$(jq -r "$(jq_nh b1 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b2 tunnels: tunnel MTU 1452" "ipv6 1500 1452 route" \
	"$(jq -r "$(jq_nh b2 "$JQ_TUNNELS")" <<<"$js")"

# ============================================================ part 2
# The captures show the bytes on the wire: no segmentation or checksum left
# to a device, at c1 nor on f's links to the backs.
no_offload c1 f || bail "ethtool -K on c1"
for i in 1 2; do no_offload f "b$i" || bail "ethtool -K on f's b$i"; done
link_cap cli c1 f "(dst host $IPS4 or dst host $IPS6) and (src host ${C4[1]} or src host ${C6[1]})" ||
	bail "tcpdump on c1"
start_caps link
for dst in "$IPS4" "$IPS6"; do
	v=IPv$(fam "$dst")
	check_eq "$v via b1: c1 -> $dst is served by s1" s1 "$(fetch_name c1 "$dst")"
	check "$v via b1: TCP 300 kB up and down, sha256 equal" tcp_transfer c1 "$dst" 5001 s1 "$TMPD/data"
	check_eq "$v via b1: UDP echo" "e1-$v-$SUFFIX" "$(udp_echo c1 "$dst" "e1-$v-$SUFFIX")"
	check "$v via b1: ping" ping_ok c1 "$dst" 5
done
for src in "${C4_OUT[1]}" "${C6_OUT[1]}"; do
	dst=$IPS4
	[ "$(fam "$src")" = 6 ] && dst=$IPS6
	v="IPv$(fam "$dst") in IPv6 via b2"
	check_eq "$v: c1 from $src -> $dst is served by s2" s2 "$(fetch_name c1 "$dst" "$src")"
	check_eq "$v: UDP echo" "e2-$(fam "$dst")-$SUFFIX" "$(udp_echo_from "$src" "$dst" "e2-$(fam "$dst")-$SUFFIX")"
	check "$v: ping" ping_ok c1 "$dst" 3 "$src"
done
cap_settle cli link-b1 link-b2 || diag "captures still growing"
for k in cli link-b1 link-b2; do bg_stop "$k" INT; done

# ============================================================ part 3
check "f - b1 link: capture read" gue_scan link-b1 && scan_stats link-b1
check_eq "f - b1 link: only UDP to port $GUE_PORT from IP_S to IP_B1, c1's packets inside" \
	"v4 $IPS4 > ${IPB4[1]} udp $GUE_PORT: v4 ${C4[1]} > $IPS4
v6 $IPS6 > ${IPB6[1]} udp $GUE_PORT: v6 ${C6[1]} > $IPS6" "$(scan_kinds link-b1)"
check_eq "f - b1 link: nothing of protocol 4 or 41" 0 "$(scan_stat link-b1 ip_in_ip)"
check "f - b1 link: GUE in IPv4 and in IPv6" \
	test "$(scan_stat link-b1 v4)" -gt 0 -a "$(scan_stat link-b1 v6)" -gt 0
check_eq "f - b1 link: every UDP source port in 49152-65535" 0 "$(scan_stat link-b1 sport_low)"
check_eq "f - b1 link: one source port for all the packets of an inner flow" 0 \
	"$(scan_stat link-b1 flows_split)"
check "f - b1 link: the $(scan_stat link-b1 flows) flows have more than one source port" \
	test "$(scan_stat link-b1 sports)" -gt 1
check_eq "f - b1 link: IPv4 outside: UDP checksum 0" 0 "$(scan_stat link-b1 csum4_nonzero)"
check_eq "f - b1 link: IPv6 outside: UDP checksum right" 0 "$(scan_stat link-b1 csum6_bad)"
check_eq "f - b1 link: UDP length right, a whole IP packet after the UDP header" "0 0" \
	"$(scan_stat link-b1 ulen_bad) $(scan_stat link-b1 inner_bad)"
out=$(pcap_compare "$TMPD/cli.pcap" "$TMPD/link-b1-inner.pcap" "$IPS4" "$IPS6" 2>&1)
check_rc "f - b1 link: every packet c1 sent is inside a GUE packet, unchanged but TTL/hop limit/IPv4 checksum" \
	0 $? "$out" && diag "$out"
for cat in v4-tcp v4-udp v4-icmp v6-tcp v6-udp v6-icmp; do
	read -r sent matched < <(awk -v c="$cat" '$1 == c {print $2, $3}' <<<"$out")
	check "f - b1 link: $cat: ${matched:-0} of ${sent:-0} packets inside GUE packets" \
		test "${sent:-0}" -gt 0 -a "${sent:-0}" = "${matched:-x}"
done
check "f - b2 link: capture read" gue_scan link-b2 && scan_stats link-b2
check_eq "f - b2 link: only UDP to port $GUE_PORT from IPv6 IP_S to IP_B2, IPv4 and IPv6 inside" \
	"v6 $IPS6 > ${IPB6[2]} udp $GUE_PORT: v4 ${C4_OUT[1]} > $IPS4
v6 $IPS6 > ${IPB6[2]} udp $GUE_PORT: v6 ${C6_OUT[1]} > $IPS6" "$(scan_kinds link-b2)"
check_eq "f - b2 link: source ports >= 49152, one per flow, UDP checksum right, length right, whole packets" \
	"0 0 0 0 0" "$(for s in sport_low flows_split csum6_bad ulen_bad inner_bad; do scan_stat link-b2 "$s"; done | paste -sd' ' -)"

js=$(status_json f)
for i in 1 2; do
	check "front: b$i encapsulated > 0" test "$(jq -r "$(jq_nh "b$i" .encapsulated)" <<<"$js")" -gt 0
	check "b$i: decapsulated > 0" test "$(jget "b$i" .back.decapsulated)" -gt 0
done
check_eq "front: nothing too big: no fragments, no ICMP errors sent" 0 \
	"$(jq -r '[.front.next_hops[] | .fragments + .icmp_sent + .icmp_rate_limited] | add' <<<"$js")"

# ============================================================ part 4
link_cap neg s1 b "udp port 4999" || bail "tcpdump on s1"
snap b1 before
# From c1's own addresses: not in b1's allowed_sources (default: IP_S).
check "scapy: 5 GUE packets ${C4[1]} -> ${IPB4[1]} port $GUE_PORT (IPv4 inside)" \
	send_gue 5 "${C4[1]}" "${IPB4[1]}" ip
check "scapy: 3 GUE packets ${C6[1]} -> ${IPB6[1]} port $GUE_PORT (IPv6 inside)" \
	send_gue 3 "${C6[1]}" "${IPB6[1]}" ip
# From IP_S (allowed), but no IP packet after the UDP header.
check "scapy: 4 UDP packets $IPS4 -> ${IPB4[1]} port $GUE_PORT, 32 zero bytes" \
	send_gue 4 "$IPS4" "${IPB4[1]}" zeros
check "scapy: 2 UDP packets $IPS6 -> ${IPB6[1]} port $GUE_PORT, an IPv4 header cut short" \
	send_gue 2 "$IPS6" "${IPB6[1]}" cut
wait_for 5 counter_reaches b1 '.drops.tunnel_source' \
	"$(($(jq -r '.drops.tunnel_source // 0' "$TMPD/snap-b1-before.json") + 8))"
wait_for 5 counter_reaches b1 '.drops.tunnel_inner' \
	"$(($(jq -r '.drops.tunnel_inner // 0' "$TMPD/snap-b1-before.json") + 6))"
# Deliberate: nothing to poll for here. A packet counted twice or
# decapsulated after all shows up within this grace, and the exact checks
# below fail.
sleep 0.5
snap b1 after
check_eq "b1: drops.tunnel_source +8 (outer source not allowed)" 8 "$(delta b1 .drops.tunnel_source)"
check_eq "b1: drops.tunnel_inner +6 (no IP packet after the UDP header)" 6 "$(delta b1 .drops.tunnel_inner)"
check_eq "b1: decapsulated +0" 0 "$(delta b1 .back.decapsulated)"
bg_stop neg INT
check_eq "s1 received none of them" 0 "$(pcap_count neg)"
for n in f b1 b2; do
	js=$(status_json "$n")
	check_eq "parts 1-4: $n: every other drop counter is 0" 0 \
		"$(jq -r "$(jq_drops_but tunnel_source tunnel_inner)" <<<"$js")" || diag "$(jq -c '.drops' <<<"$js")"
done

# ============================================================ part 5
mslbd_stop f
check_rc "parts 1-4: f: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
gue_front_conf "$(mslbd_conf f)" pmtu || bail "front config"
conf_ok f "path_mtu = 1400 for b1"
mslbd_start f "$(mslbd_conf f)" || bail "restarting mslbd on f"
client_mtu "" || bail "c1 route mtu"
js=$(status_json f)
check_eq "front: b1 tunnels (path_mtu = 1400): tunnel MTU 1372 / 1352" \
	"ipv4 1400 1372 config, ipv6 1400 1352 config" "$(jq -r "$(jq_nh b1 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b2 tunnels unchanged" "ipv6 1500 1452 route" "$(jq -r "$(jq_nh b2 "$JQ_TUNNELS")" <<<"$js")"

# --- IPv4: PMTUD end to end, then the ICMP error itself
check "v4: TCP 300 kB up and down through a 1372 tunnel (PMTUD)" tcp_transfer c1 "$IPS4" 5002 s1 "$TMPD/data"
check_match "v4: c1 learned path MTU 1372 for IP_S" " mtu 1372" "$(nsx c1 ip -4 route get "$IPS4")"
flush_c1
out=$(nsx c1 ping -4 -n -c 2 -i 0.2 -W 1 -M "do" -s 1400 "$IPS4" 2>&1)
check_match "v4: ping -M do -s 1400: fragmentation needed, mtu 1372, from IP_S" \
	"From $IPS4 .*Frag needed and DF set \(mtu = 1372\)|message too long, mtu=1372" "$out"
check "v4: ping -M do -s 1344 fits" nsx c1 ping -4 -n -q -c 3 -i 0.1 -W 2 -M "do" -s 1344 "$IPS4"
check "front: b1 icmp_sent > 0" test "$(jget f "$(jq_nh b1 .icmp_sent)")" -gt 0

# --- IPv4 without DF: inner fragments, each in a GUE packet of its own
flush_c1
snap f before
link_cap frag b1 f "dst host ${IPB4[1]}" || bail "tcpdump on b1 - f"
check "v4: ping -M dont -s 1400 answered" nsx c1 ping -4 -n -q -c 3 -i 0.1 -W 2 -M dont -s 1400 "$IPS4"
cap_settle frag || diag "capture still growing"
bg_stop frag INT
snap f after
check "front: b1 fragments +>0" test "$(delta f "$(jq_nh b1 .fragments)")" -gt 0
check "f - b1 link: capture read" gue_scan frag && scan_stats frag
check_eq "f - b1 link: c1's fragments, each in a GUE packet (no outer fragment)" \
	"v4 $IPS4 > ${IPB4[1]} udp $GUE_PORT: v4 ${C4[1]} > $IPS4 fragment" "$(scan_kinds frag)"
check_eq "f - b1 link: the fragments of the pings, one source port, >= 49152, checksum 0" "1 0 0" \
	"$(scan_stat frag sports) $(scan_stat frag sport_low) $(scan_stat frag csum4_nonzero)"

# --- IPv6: PMTUD end to end, then Packet Too Big
check "v6: TCP 300 kB up and down through a 1352 tunnel (PMTUD)" tcp_transfer c1 "$IPS6" 5002 s1 "$TMPD/data"
check_match "v6: c1 learned path MTU 1352 for IP_S" " mtu 1352" "$(nsx c1 ip -6 route get "$IPS6")"
flush_c1
out=$(nsx c1 ping -6 -n -c 1 -W 1 -s 1400 "$IPS6" 2>&1)
check_match "v6: ping -s 1400: Packet Too Big, mtu 1352, from IP_S" \
	"From $IPS6 .*Packet too big: mtu=1352|message too long, mtu=1352" "$out"
check_match "v6: c1 cached path MTU 1352 for IP_S" " mtu 1352" "$(nsx c1 ip -6 route get "$IPS6")"
check "v6: ping -s 1400 answered (c1 fragments to 1352)" nsx c1 ping -6 -n -q -c 3 -i 0.1 -W 2 -s 1400 "$IPS6"

js=$(status_json f)
check "front: drops.too_big > 0 (ICMP errors instead)" test "$(jq -r '.drops.too_big' <<<"$js")" -gt 0
check_eq "part 5: f: every other drop counter is 0" 0 "$(jq -r "$(jq_drops_but too_big)" <<<"$js")" ||
	diag "$(jq -c '.drops' <<<"$js")"

# ============================================================ part 6
mslbd_stop f
check_rc "part 5: f: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-f.log")"
gue_front_conf "$(mslbd_conf f)" mixed || bail "front config"
conf_ok f "b2 encapsulation = \"ip\", gue_port by default"
mslbd_start f "$(mslbd_conf f)" || bail "restarting mslbd on f"
flush_c1
js=$(status_json f)
check_eq "front: b1: mode, outer, encapsulation (the front's)" "encapsulate same gue" \
	"$(jq -r "$(jq_nh b1 "$JQ_MODE")" <<<"$js")"
check_eq "front: b2: mode, outer, encapsulation (its own)" "encapsulate ipv6 ip" \
	"$(jq -r "$(jq_nh b2 "$JQ_MODE")" <<<"$js")"
check_eq "front: b3: mode, outer, encapsulation (translation)" "translate null null" \
	"$(jq -r "$(jq_nh b3 "$JQ_MODE")" <<<"$js")"
check_eq "front: b1 tunnels: GUE, 1472 / 1452" "ipv4 1500 1472 route, ipv6 1500 1452 route" \
	"$(jq -r "$(jq_nh b1 "$JQ_TUNNELS")" <<<"$js")"
check_eq "front: b2 tunnels: IP in IPv6, 1460" "ipv6 1500 1460 route" \
	"$(jq -r "$(jq_nh b2 "$JQ_TUNNELS")" <<<"$js")"
snap b2 before
start_caps mix
for dst in "$IPS4" "$IPS6"; do
	v=IPv$(fam "$dst")
	check_eq "mixed: $v via b1 (GUE): served by s1" s1 "$(fetch_name c1 "$dst")"
	check "mixed: $v via b1 (GUE): ping" ping_ok c1 "$dst" 3
done
for src in "${C4_OUT[1]}" "${C6_OUT[1]}"; do
	dst=$IPS4
	[ "$(fam "$src")" = 6 ] && dst=$IPS6
	v="IPv$(fam "$dst") via b2 (IP in IPv6)"
	check_eq "mixed: $v: served by s2" s2 "$(fetch_name c1 "$dst" "$src")"
	check "mixed: $v: ping" ping_ok c1 "$dst" 3 "$src"
done
cap_settle mix-b1 mix-b2 || diag "captures still growing"
bg_stop mix-b1 INT
bg_stop mix-b2 INT
snap b2 after
check "mixed: f - b1 link: capture read" gue_scan mix-b1
check_eq "mixed: f - b1 link: GUE to port $GUE_PORT (the default)" \
	"v4 $IPS4 > ${IPB4[1]} udp $GUE_PORT: v4 ${C4[1]} > $IPS4
v6 $IPS6 > ${IPB6[1]} udp $GUE_PORT: v6 ${C6[1]} > $IPS6" "$(scan_kinds mix-b1)"
check "mixed: f - b2 link: capture read" gue_scan mix-b2
check_eq "mixed: f - b2 link: IP-in-IPv6, next header 4 and 41, no UDP" \
	"v6 $IPS6 > ${IPB6[2]} proto 41: v6 ${C6_OUT[1]} > $IPS6
v6 $IPS6 > ${IPB6[2]} proto 4: v4 ${C4_OUT[1]} > $IPS4" "$(scan_kinds mix-b2)"
check "b2: decapsulated +>0 (IP-in-IP)" test "$(delta b2 .back.decapsulated)" -gt 0

# ------------------------------------------------------------ drops, exit
js=$(status_json f)
check_eq "part 6: f: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
	diag "$(jq -c '.drops' <<<"$js")"
for n in b1 b2; do
	js=$(status_json "$n")
	check_eq "$n: every drop counter but part 4's is 0" 0 \
		"$(jq -r "$(jq_drops_but tunnel_source tunnel_inner)" <<<"$js")" || diag "$(jq -c '.drops' <<<"$js")"
done
for n in f b1 b2; do
	js=$(status_json "$n")
	check_eq "$n: no TUN tx errors" 0 "$(jq -r '[.devices[].tx_errors] | add' <<<"$js")"
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
