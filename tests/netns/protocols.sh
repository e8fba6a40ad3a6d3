#!/bin/bash
# tests/netns/protocols.sh: real protocols through c1 -> f -> b1 -> s1, in
# both MSLB modes (address translation, then encapsulation, in IP and in UDP:
# GUE to b1's port 6080) and both families (IP_S = 203.0.113.100 and
# 2001:db8:5::100):
#
# - FTP with vsftpd on s1 and curl on c1, passive (PASV for IPv4, EPSV for
#   IPv6) and active (PORT for IPv4, EPRT for IPv6; the server connects back
#   from IP_S port 20, direct server return): a download and an upload of
#   random content, compared by sha256. The addresses inside PASV/PORT/EPRT
#   are IP_S and the client's own: nothing rewrites them, so FTP only works
#   if the server sees the client's packets as sent.
# - TLS: openssl s_server -rev on s1, openssl s_client on c1 (certificate
#   verified), the reversed line checked.
# - IPsec ESP in userspace (scapy's IPsec layer; the kernel has no ESP): c1
#   sends N ESP packets to IP_S (IPv4: AES-CBC + HMAC-SHA256-128, IPv6:
#   AES-GCM, fixed test keys); s1's capture is decrypted with the same SA and
#   every packet must decrypt to the exact plaintext sent, sequence numbers
#   1..N; c1's and s1's captures must be byte-identical but TTL / hop limit /
#   IPv4 header checksum. On the f -> b1 link the packets must be the sent
#   ones with the destination IP_B1 (translation), or IP-in-IP (or UDP to
#   port 6080) from IP_S to IP_B1 carrying the sent packet unchanged
#   (encapsulation).
# - No drop counter moves on f or b1, except, in encapsulation mode, the
#   front's too_big: full-size segments from c1 do not fit the tunnel and
#   each is answered with an ICMP error (path MTU discovery; c1 must have
#   learned the tunnel MTU, 1480 for IPv4 in IPv4, 1460 for IPv6 in IPv6;
#   1472 and 1452 in GUE).
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq openssl tcpdump ss sha256sum ethtool timeout curl vsftpd
require_scapy
"$PYTHON" -c 'import scapy.layers.ipsec, cryptography' 2>/dev/null ||
	bail "$PYTHON cannot import scapy.layers.ipsec / cryptography (Debian: python3-cryptography; run scripts/deps.sh)"
require_mslbd

ESP_N=20
FTP_SIZE=262144

topo_create 1 1 mslb || bail "topology"
no_offload c1 f || bail "ethtool -K on c1"

# ------------------------------------------------------------ helpers
# front_mode MODE: what the front's mode is for this test's MODE (gue:
# encapsulation in UDP).
front_mode() { if [ "$1" = gue ]; then echo encapsulate; else echo "$1"; fi; }

# start_daemons translate|encapsulate|gue: f with that mode, b1 as usual
# (taking GUE apart on port 6080 for gue).
start_daemons() {
	local conf fm
	fm=$(front_mode "$1")
	conf=$(mslbd_conf f)
	MSLB_FRONT_MODE=$fm MSLB_FRONT_ENCAP=$([ "$1" = gue ] && echo gue) front_conf "$conf" hash || return 1
	grep -q "^  mode = \"$fm\";$" "$conf" || return 1
	mslbd_start f "$conf" || return 1
	back_conf "$(mslbd_conf b1)" 1 "$([ "$1" = gue ] && echo 6080)" || return 1
	mslbd_start b1 "$(mslbd_conf b1)"
}

# shellcheck disable=SC2317 # called through check
urlhost() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# ------------------------------------------------------------ FTP server
FTPROOT=$TMPD/ftproot
ftp_start() {
	local f conf
	mkdir -p "$FTPROOT/up" "$TMPD/vsftpd-empty" || return 1
	chmod 755 "$FTPROOT" "$TMPD/vsftpd-empty" || return 1
	chown ftp "$FTPROOT/up" && chmod 755 "$FTPROOT/up" || return 1
	head -c "$FTP_SIZE" /dev/urandom >"$FTPROOT/data.bin" && chmod 644 "$FTPROOT/data.bin" || return 1
	head -c "$FTP_SIZE" /dev/urandom >"$TMPD/upload.bin" || return 1
	for f in 4 6; do
		conf=$TMPD/vsftpd$f.conf
		{
			if [ "$f" = 4 ]; then
				echo "listen=YES"; echo "listen_ipv6=NO"; echo "listen_address=$IPS4"
			else
				echo "listen=NO"; echo "listen_ipv6=YES"; echo "listen_address6=$IPS6"
			fi
			cat <<EOF
listen_port=21
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$FTPROOT
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=NO
anon_other_write_enable=NO
anon_umask=022
allow_writeable_chroot=YES
port_enable=YES
connect_from_port_20=YES
ftp_data_port=20
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40999
secure_chroot_dir=$TMPD/vsftpd-empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
dirmessage_enable=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$TMPD/vsftpd$f-xfer.log
EOF
		} >"$conf" || return 1
		bg_start "vsftpd$f" s1 vsftpd "$conf"
	done
	wait_for 10 eval "[ \$(nsx s1 ss -H -ltn 'sport = :21' | wc -l) -ge 2 ]"
}

# ftp_xfer DST active|passive TAG: download data.bin and upload upload.bin as
# up/TAG.bin with curl on c1; both sha256-checked. The curl trace must show
# the data-connection command of that mode (PORT/EPRT, PASV/EPSV).
# shellcheck disable=SC2317 # called through check
ftp_xfer() {
	local dst=$1 mode=$2 tag=$3 url want got cmd
	local -a opts=(-g -sS --fail -v --connect-timeout 5 --max-time 30)
	url="ftp://$(urlhost "$dst")"
	case "$mode-$(fam "$dst")" in
	active-4) opts+=(-P - --disable-eprt); cmd='PORT 192,0,2,10,' ;;
	active-6) opts+=(-P -); cmd="EPRT |2|${C6[1]}|" ;;
	passive-4) opts+=(--disable-epsv --no-ftp-skip-pasv-ip); cmd='PASV' ;;
	passive-6) opts+=(--ftp-pasv); cmd='EPSV' ;;
	esac
	rm -f "$TMPD/$tag.down" "$FTPROOT/up/$tag.bin"
	timeout 40 ip netns exec "$(ns c1)" curl "${opts[@]}" -o "$TMPD/$tag.down" "$url/data.bin" \
		2>"$TMPD/curl-$tag-get.trace" || { echo "download failed"; tail -n 15 "$TMPD/curl-$tag-get.trace"; return 1; }
	grep -qF -- "> $cmd" "$TMPD/curl-$tag-get.trace" ||
		{ echo "download: no '> $cmd' in the curl trace"; grep '^[<>]' "$TMPD/curl-$tag-get.trace" | tail -n 15; return 1; }
	want=$(sha256sum <"$FTPROOT/data.bin" | cut -d' ' -f1)
	got=$(sha256sum <"$TMPD/$tag.down" | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "download: sha256 $got, want $want"; return 1; }
	timeout 40 ip netns exec "$(ns c1)" curl "${opts[@]}" -T "$TMPD/upload.bin" "$url/up/$tag.bin" \
		2>"$TMPD/curl-$tag-put.trace" || { echo "upload failed"; tail -n 15 "$TMPD/curl-$tag-put.trace"; return 1; }
	grep -qF -- "> $cmd" "$TMPD/curl-$tag-put.trace" ||
		{ echo "upload: no '> $cmd' in the curl trace"; grep '^[<>]' "$TMPD/curl-$tag-put.trace" | tail -n 15; return 1; }
	want=$(sha256sum <"$TMPD/upload.bin" | cut -d' ' -f1)
	got=$(sha256sum <"$FTPROOT/up/$tag.bin" 2>/dev/null | cut -d' ' -f1)
	[ "$want" = "$got" ] || { echo "upload: sha256 ${got:-none} of $FTPROOT/up/$tag.bin, want $want"; return 1; }
	rm -f "$TMPD/$tag.down" "$FTPROOT/up/$tag.bin"
}

# ------------------------------------------------------------ ESP (scapy)
cat >"$TMPD/esp.py" <<'PYEOF'
# esp.py send FAM SRC DST N | verify FAM PCAP SRC DST N |
#        link FAM SENT_PCAP LINK_PCAP DST IPB translate|encapsulate
import sys, socket
from scapy.all import IP, IPv6, UDP, Raw, ESP, send, raw
from scapy.layers.ipsec import SecurityAssociation
from scapy.utils import RawPcapReader

def sa(fam):
    # Fixed test keys: IPv4 AES-CBC + HMAC-SHA256-128, IPv6 AES-GCM (16-byte key + 4-byte salt).
    if fam == '4':
        return SecurityAssociation(ESP, spi=0x4d534c04, crypt_algo='AES-CBC',
                                   crypt_key=bytes(range(0x10, 0x20)),
                                   auth_algo='SHA2-256-128', auth_key=bytes(range(0x40, 0x60)))
    return SecurityAssociation(ESP, spi=0x4d534c06, crypt_algo='AES-GCM',
                               crypt_key=bytes(range(0x20, 0x34)))

def plain(fam, src, dst, seq):
    ip = IP(src=src, dst=dst) if fam == '4' else IPv6(src=src, dst=dst)
    body = b'mslb-esp-%s-%04d:' % (fam.encode(), seq) + bytes((seq * 31 + i) & 0xff for i in range(64 + seq))
    return ip / UDP(sport=40050, dport=9) / Raw(body)

def ip_packets(path):
    reader = RawPcapReader(path)
    lt = reader.linktype
    for data, meta in reader:
        if meta.caplen != meta.wirelen:
            raise SystemExit("%s: truncated capture" % path)
        if lt == 1:
            et, off = int.from_bytes(data[12:14], 'big'), 14
            while et in (0x8100, 0x88a8):
                et, off = int.from_bytes(data[off + 2:off + 4], 'big'), off + 4
        elif lt == 113:
            et, off = int.from_bytes(data[14:16], 'big'), 16
        elif lt == 276:
            et, off = int.from_bytes(data[0:2], 'big'), 20
        elif lt in (101, 12):
            et, off = (0x86dd if data[0] >> 4 == 6 else 0x0800), 0
        else:
            raise SystemExit("unsupported link type %d" % lt)
        p = data[off:]
        if et == 0x0800 and len(p) >= 20 and p[0] >> 4 == 4:
            yield p[:int.from_bytes(p[2:4], 'big')]
        elif et == 0x86dd and len(p) >= 40 and p[0] >> 4 == 6:
            yield p[:40 + int.from_bytes(p[4:6], 'big')]
    reader.close()

def aton(a):
    return socket.inet_pton(socket.AF_INET6 if ':' in a else socket.AF_INET, a)

def proto(p):
    return p[9] if p[0] >> 4 == 4 else p[6]

def dst_of(p):
    return p[16:20] if p[0] >> 4 == 4 else p[24:40]

def src_of(p):
    return p[12:16] if p[0] >> 4 == 4 else p[8:24]

def hdr_len(p):
    return (p[0] & 15) * 4 if p[0] >> 4 == 4 else 40

def normalize(p, new_dst=None):
    b = bytearray(p)
    if b[0] >> 4 == 4:
        b[8] = 0
        b[10:12] = b'\0\0'
        if new_dst:
            b[16:20] = new_dst
    else:
        b[7] = 0
        if new_dst:
            b[24:40] = new_dst
    return bytes(b)

def esp_to(path, dst):
    return [p for p in ip_packets(path) if proto(p) == 50 and dst_of(p) == dst]

cmd = sys.argv[1]
if cmd == 'send':
    fam, src, dst, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    s = sa(fam)
    pkts = [s.encrypt(plain(fam, src, dst, seq)) for seq in range(1, n + 1)]
    for p in pkts:
        assert p[ESP].seq >= 1
    send(pkts, inter=0.01, verbose=False)
    print("sent %d ESP packets, spi 0x%x" % (n, s.spi))
elif cmd == 'verify':
    fam, path, src, dst, n = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    s = sa(fam)
    seen, bad = [], 0
    for p in esp_to(path, aton(dst)):
        pkt = IP(p) if fam == '4' else IPv6(p)
        seq = pkt[ESP].seq
        try:
            dec = s.decrypt(pkt)
        except Exception as e:
            bad += 1
            print("seq %d: decryption failed: %r" % (seq, e))
            continue
        want = raw(plain(fam, src, dst, seq)[UDP])
        got = raw(dec[UDP]) if dec.haslayer(UDP) else b''
        if got != want:
            bad += 1
            print("seq %d: plaintext differs: got %s want %s" % (seq, got[:40].hex(), want[:40].hex()))
            continue
        seen.append(seq)
    print("decrypted %d packets, %d bad, sequence numbers %s" % (len(seen), bad, seen))
    sys.exit(0 if bad == 0 and sorted(seen) == list(range(1, n + 1)) else 1)
elif cmd == 'link':
    fam, sent_path, link_path, dst, ipb, mode = sys.argv[2:8]
    ips, ipb_n = aton(dst), aton(ipb)
    sent = esp_to(sent_path, ips)
    link = list(ip_packets(link_path))
    if mode == 'translate':
        have = [normalize(p) for p in link if proto(p) == 50 and dst_of(p) == ipb_n]
        want = [normalize(p, ipb_n) for p in sent]
        what = "ESP to %s" % ipb
    else:
        # IP-in-IP: the sent packet right after the outer header; GUE
        # (variant 1): after the outer header and a UDP header to 6080.
        outer = 17 if mode == 'gue' else 4 if fam == '4' else 41
        skip = 8 if mode == 'gue' else 0
        have, wrong = [], 0
        for p in link:
            if proto(p) != outer:
                continue
            if mode == 'gue' and int.from_bytes(p[hdr_len(p) + 2:hdr_len(p) + 4], 'big') != 6080:
                continue
            if dst_of(p) != ipb_n or src_of(p) != ips:
                wrong += 1
                print("IP-in-IP packet %s -> %s, want %s -> %s" % (
                    socket.inet_ntop(socket.AF_INET if len(src_of(p)) == 4 else socket.AF_INET6, src_of(p)),
                    socket.inet_ntop(socket.AF_INET if len(dst_of(p)) == 4 else socket.AF_INET6, dst_of(p)),
                    dst, ipb))
                continue
            have.append(normalize(p[hdr_len(p) + skip:]))
        want = [normalize(p) for p in sent]
        what = "%s (proto %d) %s -> %s carrying ESP" % ("GUE" if skip else "IP-in-IP", outer, dst, ipb)
        if wrong:
            print("%d tunnel packets with the wrong outer addresses" % wrong)
    matched = missing = 0
    for w in want:
        if w in have:
            have.remove(w)
            matched += 1
        else:
            missing += 1
            if missing <= 5:
                print("not on the link: %s" % w[:48].hex())
    print("%s: %d sent, %d found on the f-b1 link" % (what, len(want), matched))
    sys.exit(0 if want and matched == len(want) else 1)
PYEOF

# esp_round MODE: captures on c1, s1 and b1's link to f; ESP_N packets per
# family; then every check.
esp_round() {
	local mode=$1 dst v src ipb out
	link_cap "esp-cli-$mode" c1 f "ip proto 50 or ip6 proto 50" || { tap_fail "$mode: tcpdump on c1"; return 1; }
	link_cap "esp-srv-$mode" s1 b "ip proto 50 or ip6 proto 50" || { tap_fail "$mode: tcpdump on s1"; return 1; }
	link_cap "esp-link-$mode" b1 f "ip proto 50 or ip6 proto 50 or ip proto 4 or ip6 proto 41 or udp dst port 6080" ||
		{ tap_fail "$mode: tcpdump on b1"; return 1; }
	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		if [ "$v" = 4 ]; then src=${C4[1]}; else src=${C6[1]}; fi
		check "$mode v$v: c1 sends $ESP_N ESP packets to $dst (scapy SA)" \
			nsx c1 "$PYTHON" "$TMPD/esp.py" send "$v" "$src" "$dst" "$ESP_N"
	done
	cap_settle "esp-cli-$mode" "esp-srv-$mode" "esp-link-$mode" || diag "captures still growing"
	bg_stop "esp-cli-$mode" INT
	bg_stop "esp-srv-$mode" INT
	bg_stop "esp-link-$mode" INT
	out=$(pcap_compare "$TMPD/esp-cli-$mode.pcap" "$TMPD/esp-srv-$mode.pcap" "$IPS4" "$IPS6" 2>&1)
	check_rc "$mode: every ESP packet c1 sent reached s1 unchanged but TTL/hop limit/IPv4 checksum" \
		0 $? "$out" && diag "$out"
	for v in 4 6; do
		read -r sent matched < <(awk -v c="v$v-50" '$1 == c {print $2, $3}' <<<"$out")
		check_eq "$mode v$v: ESP packets sent by c1 / identical at s1" "$ESP_N $ESP_N" "${sent:-0} ${matched:-0}"
	done
	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		if [ "$v" = 4 ]; then src=${C4[1]} ipb=${IPB4[1]}; else src=${C6[1]} ipb=${IPB6[1]}; fi
		check "$mode v$v: s1's ESP packets decrypt to the plaintext sent, sequence numbers 1..$ESP_N" \
			nsx s1 "$PYTHON" "$TMPD/esp.py" verify "$v" "$TMPD/esp-srv-$mode.pcap" "$src" "$dst" "$ESP_N"
		if [ "$mode" = gue ]; then
			check "$mode v$v: on f-b1 every ESP packet is in UDP $dst -> $ipb port 6080, inner packet unchanged" \
				"$PYTHON" "$TMPD/esp.py" link "$v" "$TMPD/esp-cli-$mode.pcap" "$TMPD/esp-link-$mode.pcap" \
				"$dst" "$ipb" "$mode"
		elif [ "$mode" = encapsulate ]; then
			check "$mode v$v: on f-b1 every ESP packet is IP-in-IP $dst -> $ipb, inner packet unchanged" \
				"$PYTHON" "$TMPD/esp.py" link "$v" "$TMPD/esp-cli-$mode.pcap" "$TMPD/esp-link-$mode.pcap" \
				"$dst" "$ipb" "$mode"
		else
			check "$mode v$v: on f-b1 every ESP packet is the sent one with destination $ipb" \
				"$PYTHON" "$TMPD/esp.py" link "$v" "$TMPD/esp-cli-$mode.pcap" "$TMPD/esp-link-$mode.pcap" \
				"$dst" "$ipb" "$mode"
		fi
	done
}

# ------------------------------------------------------------ services
tls_make_cert || bail "openssl req"
srv_start_tls 1 || bail "TLS on s1"
ftp_start || bail "vsftpd on s1"

# ------------------------------------------------------------ both modes
for mode in translate encapsulate gue; do
	# What c1 learned of the path in the mode before goes.
	ip -n "$(ns c1)" -4 route flush cache
	ip -n "$(ns c1)" -6 route flush cache
	if ! start_daemons "$mode"; then
		tap_fail "$mode: mslbd starts on f and b1"
		for n in f b1; do [ -n "${MSLBD_PID[$n]:-}" ] && mslbd_stop "$n"; done
		continue
	fi
	js=$(status_json f)
	check_eq "$mode: front next hop b1 mode" "$(front_mode "$mode")" \
		"$(jq -r '.front.next_hops[] | select(.name == "b1") | .mode' <<<"$js")"
	if [ "$mode" = gue ]; then
		check_eq "$mode: front next hop b1 encapsulation" gue \
			"$(jq -r '.front.next_hops[] | select(.name == "b1") | .encapsulation' <<<"$js")"
	fi

	for dst in "$IPS4" "$IPS6"; do
		v=$(fam "$dst")
		for fm in passive active; do
			check "$mode v$v: FTP $fm download and upload ($FTP_SIZE bytes, sha256)" \
				ftp_xfer "$dst" "$fm" "$mode-$v-$fm"
		done
		p="mslb-tls-$mode-$v-$SUFFIX"
		check_eq "$mode v$v: TLS echo through s_server -rev" "$(rev <<<"$p")" "$(tls_echo c1 "$dst" "$p")"
	done

	esp_round "$mode"

	js=$(status_json f)
	check "$mode: front counted packets for b1" \
		test "$(jq -r "$(jq_nh_packets b1)" <<<"$js")" -gt 0
	if [ "$mode" != translate ]; then
		check "$mode: front counted encapsulated packets for b1" \
			test "$(jq -r '.front.next_hops[] | select(.name == "b1") | .encapsulated // 0' <<<"$js")" -gt 0
		check "$mode: b1 counted decapsulated packets" \
			test "$(jq -r '.back.decapsulated // 0' <<<"$(status_json b1)")" -gt 0
	fi
	if [ "$mode" != translate ]; then
		# Full-size TCP segments of the uploads do not fit the tunnel (MTU
		# 1500 - 20 / - 40, in GUE - 28 / - 48): the front drops them as
		# too_big and answers with ICMP "fragmentation needed" / Packet
		# Too Big (path MTU discovery, which the uploads above needed to
		# succeed). c1's learned MTUs were flushed before the mode began.
		m4=1480 m6=1460
		[ "$mode" = gue ] && m4=1472 m6=1452
		check_eq "$mode: c1 learned the tunnel MTU to $IPS4 from the front's ICMP" $m4 \
			"$(ip -n "$(ns c1)" -4 route get "$IPS4" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')"
		check_eq "$mode: c1 learned the tunnel MTU to $IPS6 from the front's ICMPv6" $m6 \
			"$(ip -n "$(ns c1)" -6 route get "$IPS6" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')"
		js=$(status_json f)
		check_eq "$mode: f: every drop counter but too_big is 0" 0 \
			"$(jq -r '[.drops | to_entries[] | select(.key != "too_big") | .value] | add' <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
		check_eq "$mode: f: every too_big drop was answered by an ICMP error (drops.too_big = icmp.sent)" \
			"$(jq -r '.drops.too_big' <<<"$js")" "$(jq -r '.icmp.sent' <<<"$js")"
		nodes=b1
	else
		nodes="f b1"
	fi
	for n in $nodes; do
		js=$(status_json "$n")
		check_eq "$mode: $n: every drop counter is 0" 0 "$(jq -r "$JQ_DROPS" <<<"$js")" ||
			diag "$(jq -c '.drops' <<<"$js")"
	done
	for n in f b1; do
		mslbd_stop "$n"
		check_rc "$mode: $n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
	done
done

tap_done
