#!/usr/bin/python3
"""tests/soak/malformed.py: malformed and odd packets for the soak test.

Run in a client's namespace; sends Ethernet frames itself (an AF_PACKET
socket through scapy), because a raw IP socket lets the kernel fix the IPv4
header checksum and total length. Every round (ROUND seconds apart, until
SECONDS have passed) sends one of each kind below to the service address
(and a few to the back / return endpoint addresses), then prints nothing;
at the end it prints "sent KIND N" lines and, with --upstream, "chain_replies N".

  malformed.py IFACE DSTMAC SRC4 SRC6 IPS4 IPS6 IPB4 IPB6 EP4 EP6 SECONDS ROUND [--upstream]

--upstream: also act as an upstream front (multi-stage chain): IP-in-IP
from SRC to IP_S (SRC is in the front's allowed_sources) carrying a UDP
datagram SRC -> IP_S:7, some in outer fragments; the echoes come back
straight to SRC and are counted.
"""
import os
import random
import select
import socket
import struct
import sys
import time

from scapy.all import (IP, IPv6, UDP, TCP, ICMP, Raw, Ether, conf, fragment, fragment6,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, PadN)

conf.verb = 0

(iface, dstmac, src4, src6, ips4, ips6, ipb4, ipb6, ep4, ep6,
 seconds, rnd) = sys.argv[1:13]
upstream = '--upstream' in sys.argv[13:]
seconds, rnd = float(seconds), float(rnd)
rng = random.Random(os.getpid())

l2 = conf.L2socket(iface=iface)
sent = {}


def out(kind, pkt):
    """Send one IP packet (bytes or a scapy packet) in an Ethernet frame."""
    b = bytes(pkt)
    et = 0x86dd if b and b[0] >> 4 == 6 else 0x0800
    l2.send(Ether(dst=dstmac, type=et) / Raw(b))
    sent[kind] = sent.get(kind, 0) + 1


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def v4(hdr_fix=None, payload=b'soak', proto=17, opts=b'', ttl=64, dst=None, src=None):
    """An IPv4 header built by hand (fields as given, checksum right
    unless hdr_fix changes it afterwards)."""
    ihl = (20 + len(opts)) // 4
    h = bytearray(struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(opts) + len(payload),
                              rng.randrange(65536), 0, ttl, proto, 0,
                              socket.inet_aton(src or src4), socket.inet_aton(dst or ips4)))
    h += opts
    struct.pack_into('!H', h, 10, csum(bytes(h)))
    if hdr_fix:
        hdr_fix(h)
    return bytes(h) + payload


def udp4(dport=9, payload=b'soak-v4'):
    return bytes(UDP(sport=rng.randrange(1024, 65535), dport=dport) / Raw(payload))


def round_v4():
    # bad IHL: below 5, and beyond the packet
    out('v4_ihl_low', v4(lambda h: h.__setitem__(0, 0x43)))
    out('v4_ihl_high', v4(lambda h: h.__setitem__(0, 0x4f), payload=b''))
    # bad header checksum
    out('v4_bad_checksum', v4(lambda h: struct.pack_into('!H', h, 10, struct.unpack_from('!H', h, 10)[0] ^ 0x5a5a),
                              payload=udp4()))
    # total length beyond the frame, and below the header

    def tot(n):
        def f(h):
            struct.pack_into('!H', h, 2, n)
            struct.pack_into('!H', h, 10, 0)
            struct.pack_into('!H', h, 10, csum(bytes(h)))
        return f
    out('v4_truncated', v4(tot(1400), payload=udp4()))
    out('v4_bad_length', v4(tot(12), payload=udp4()))
    # options: length 0, running past the header, a source route, a timestamp
    out('v4_bad_options', v4(payload=udp4(), opts=b'\x44\x00\x05\x00'))
    out('v4_bad_options', v4(payload=udp4(), opts=b'\x07\x27\x04\x00'))
    out('v4_source_route', v4(payload=udp4(), opts=b'\x83\x07\x04' + socket.inet_aton(ips4) + b'\x00'))
    out('v4_ok_options', v4(payload=udp4(), opts=b'\x01\x01\x01\x00'))
    # a version that is neither 4 nor 6 in an IPv4 frame
    out('bad_version', b'\x50' + v4(payload=udp4())[1:])
    # transport header too short
    out('v4_l4_truncated', v4(payload=b'\x12\x34\x00', proto=6))
    out('v4_l4_truncated', v4(payload=b'\x12', proto=17))
    # random protocol and random bytes
    proto = rng.choice([0, 2, 4, 41, 47, 50, 51, 58, 89, 132, 136, 253, 254, 255])
    out('v4_random_proto', v4(payload=os.urandom(rng.randrange(0, 200)), proto=proto))
    # ttl 1
    out('v4_ttl1', v4(payload=udp4(), ttl=1))
    # overlapping fragments (to IP_S)
    ident = rng.randrange(65536)
    data = bytes(UDP(sport=40100, dport=9) / Raw(os.urandom(64)))
    out('v4_overlap', IP(src=src4, dst=ips4, id=ident, flags='MF', frag=0, proto=17) / Raw(data[:48]))
    out('v4_overlap', IP(src=src4, dst=ips4, id=ident, flags=0, frag=3, proto=17) / Raw(data[24:]))
    # tunnel packets from a source no back / endpoint allows
    inner = IP(src=ips4, dst=src4) / UDP(sport=7, dport=40999) / Raw(b'forged')
    out('v4_tunnel_not_allowed', IP(src=src4, dst=ipb4, proto=4) / inner)
    out('v4_tunnel_not_allowed', IP(src=src4, dst=ep4, proto=4) / inner)
    # outer fragments to the back from an allowed source (IP_S), overlapping
    inner = bytes(IP(src=src4, dst=ips4) / UDP(sport=40101, dport=9) / Raw(os.urandom(200)))
    ident = rng.randrange(65536)
    out('v4_tunnel_overlap', IP(src=ips4, dst=ipb4, id=ident, flags='MF', frag=0, proto=4) / Raw(inner[:160]))
    out('v4_tunnel_overlap', IP(src=ips4, dst=ipb4, id=ident, flags=0, frag=10, proto=4) / Raw(inner[80:]))
    # an inner packet of the wrong family (IPv6 in protocol 4), and garbage inside
    out('v4_tunnel_inner', IP(src=ips4, dst=ipb4, proto=4) / IPv6(src=src6, dst=ips6) / UDP(dport=9))
    out('v4_tunnel_inner', IP(src=ips4, dst=ipb4, proto=4) / Raw(os.urandom(rng.randrange(1, 60))))
    # IP_S as the inner destination of a tunnel to IP_S: balanced like any packet
    out('v4_tunnel_to_service', IP(src=src4, dst=ips4, proto=4) / IP(src=src4, dst=ips4) / UDP(dport=9))


def v6raw(nh, body, plen=None, hlim=64, dst=None):
    return struct.pack('!IHBB16s16s', 0x60000000 | rng.randrange(1 << 20),
                       len(body) if plen is None else plen, nh, hlim,
                       socket.inet_pton(socket.AF_INET6, src6),
                       socket.inet_pton(socket.AF_INET6, dst or ips6)) + body


def round_v6():
    u = bytes(UDP(sport=rng.randrange(1024, 65535), dport=9) / Raw(b'soak-v6'))
    out('v6_jumbogram', v6raw(17, u, plen=0))
    out('v6_truncated', v6raw(17, u, plen=1400))
    out('v6_truncated', bytes(IPv6(src=src6, dst=ips6))[:30])
    # extension headers: length beyond the packet, a long chain, hop-by-hop not first
    out('v6_bad_ext', v6raw(0, b'\x11\x20' + b'\x01\x04' + b'\0' * 4 + u))
    chain = b''.join(b'\x3c\x00\x01\x04\0\0\0\0' for _ in range(40)) + b'\x11\x00\x01\x04\0\0\0\0'
    out('v6_long_chain', v6raw(60, chain + u))
    out('v6_hbh_not_first', v6raw(60, b'\x00\x00\x01\x04\0\0\0\0' + b'\x11\x00\x01\x04\0\0\0\0' + u))
    out('v6_ext_ok', IPv6(src=src6, dst=ips6) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b'\0\0\0\0')]) /
        IPv6ExtHdrDestOpt() / UDP(dport=9) / Raw(b'ext'))
    out('v6_routing', IPv6(src=src6, dst=ips6) / IPv6ExtHdrRouting(addresses=[src6], segleft=1) /
        UDP(dport=9) / Raw(b'rh'))
    out('v6_ext_truncated', v6raw(60, b'\x11\x05' + b'\0' * 6))
    out('v6_l4_truncated', v6raw(6, b'\x12\x34\x56'))
    nh = rng.choice([0, 4, 41, 43, 44, 47, 50, 51, 59, 60, 135, 139, 140, 253, 255])
    out('v6_random_proto', v6raw(nh, os.urandom(rng.randrange(0, 200))))
    out('v6_hlim1', v6raw(17, u, hlim=1))
    # overlapping fragments, and atomic ones
    ident = rng.randrange(1 << 32)
    data = bytes(UDP(sport=40102, dport=9) / Raw(os.urandom(64)))
    out('v6_overlap', IPv6(src=src6, dst=ips6) / IPv6ExtHdrFragment(nh=17, id=ident, m=1, offset=0) / Raw(data[:48]))
    out('v6_overlap', IPv6(src=src6, dst=ips6) / IPv6ExtHdrFragment(nh=17, id=ident, m=0, offset=3) / Raw(data[24:]))
    out('v6_atomic_fragment', IPv6(src=src6, dst=ips6) / IPv6ExtHdrFragment(nh=17, id=ident + 1) /
        UDP(dport=9) / Raw(b'atomic'))
    # tunnels: not allowed source, overlapping outer fragments, wrong inner family
    inner = IPv6(src=ips6, dst=src6) / UDP(sport=7, dport=40999) / Raw(b'forged')
    out('v6_tunnel_not_allowed', IPv6(src=src6, dst=ipb6, nh=41) / inner)
    out('v6_tunnel_not_allowed', IPv6(src=src6, dst=ep6, nh=41) / inner)
    inner = bytes(IPv6(src=src6, dst=ips6) / UDP(sport=40103, dport=9) / Raw(os.urandom(200)))
    out('v6_tunnel_overlap', IPv6(src=ips6, dst=ipb6) /
        IPv6ExtHdrFragment(nh=41, id=ident + 2, m=1, offset=0) / Raw(inner[:160]))
    out('v6_tunnel_overlap', IPv6(src=ips6, dst=ipb6) /
        IPv6ExtHdrFragment(nh=41, id=ident + 2, m=0, offset=10) / Raw(inner[80:]))
    out('v6_tunnel_inner', IPv6(src=ips6, dst=ipb6, nh=41) / IP(src=src4, dst=ips4) / UDP(dport=9))
    out('v6_tunnel_inner', IPv6(src=ips6, dst=ipb6, nh=4) / Raw(os.urandom(rng.randrange(1, 60))))


# Upstream front: the echoes of the tunnelled datagrams come back to these.
echo_socks = []
chain_replies = 0
if upstream:
    for fam, addr in ((socket.AF_INET, src4), (socket.AF_INET6, src6)):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, 40200))
        s.setblocking(False)
        echo_socks.append(s)


def round_upstream(n):
    payload = b'chain-%d-' % n
    out('chain_v4', IP(src=src4, dst=ips4, proto=4) /
        IP(src=src4, dst=ips4) / UDP(sport=40200, dport=7) / Raw(payload + b'v4'))
    out('chain_v6', IPv6(src=src6, dst=ips6, nh=41) /
        IPv6(src=src6, dst=ips6) / UDP(sport=40200, dport=7) / Raw(payload + b'v6'))
    if n % 4 == 0:
        # outer fragments: the front reassembles before it decapsulates
        big = IP(src=src4, dst=ips4, proto=4, id=rng.randrange(65536)) / \
            IP(src=src4, dst=ips4) / UDP(sport=40200, dport=7) / Raw(payload + b'x' * 1200)
        for f in fragment(big, 600):
            out('chain_v4_outer_frag', f)
        big6 = IPv6(src=src6, dst=ips6) / IPv6ExtHdrFragment(nh=41, id=rng.randrange(1 << 32)) / \
            IPv6(src=src6, dst=ips6) / UDP(sport=40200, dport=7) / Raw(payload + b'y' * 1200)
        for f in fragment6(big6, 700):
            out('chain_v6_outer_frag', f)


def drain():
    global chain_replies
    if not echo_socks:
        return
    r, _, _ = select.select(echo_socks, [], [], 0)
    for s in r:
        while True:
            try:
                s.recv(4096)
                chain_replies += 1
            except BlockingIOError:
                break


end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        round_v4()
        round_v6()
        if upstream:
            round_upstream(n)
    except OSError as e:
        # A link that goes away at the end of the run: stop quietly.
        sys.stderr.write('send: %s\n' % e)
        break
    n += 1
    while True:
        drain()
        left = t0 + rnd - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(left, 0.1))

drain()
for k in sorted(sent):
    print('sent %s %d' % (k, sent[k]))
print('rounds %d' % n)
if upstream:
    print('chain_replies %d' % chain_replies)
