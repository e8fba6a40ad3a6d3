#!/usr/bin/python3
"""rdr_wire: the redirection protocol's messages (mslbd(8), REDIRECTION
PROTOCOL), written independently of src/redirect for the tests: a test
that forges, replays or floods with these bytes checks the daemon against
the documented format, not against its own code.

As a command: rdr_wire.py send ADDR PORT KEYFILE|- KIND [N] [SRC]
  KIND: install (a valid install of one rule, signed with the file's first
  key), forged (bad MAC), truncated, oversized, garbage; N copies (a flood:
  each copy gets the next sequence unless KIND is replay); SRC binds the
  source address.  Prints the number of datagrams sent."""
import hashlib
import hmac
import ipaddress
import os
import socket
import struct
import sys
import time

INSTALL, REFRESH, DELETE, ACK = 1, 2, 3, 4
HDR, MAC, RULE = 24, 32, 60


def addr16(a):
    ip = ipaddress.ip_address(a)
    b = ip.packed
    return ip.version, b + bytes(16 - len(b))


def rule(proto, client, cport, service, sport, owner, ttl):
    fv, c = addr16(client)
    _, s = addr16(service)
    ov, o = addr16(owner)
    return struct.pack("!BBBBHHHH16s16s16s", fv, proto, ov, 0, ttl, cport, sport, 0, c, s, o)


def message(mtype, key_id, key, epoch, seq, records):
    body = b"".join(records)
    hdr = struct.pack("!2sBBBBHQQ", b"MR", 1, mtype, key_id, 0, len(records), epoch, seq)
    msg = hdr + body
    return msg + hmac.new(key, msg, hashlib.sha256).digest()


def read_keys(path):
    keys = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                i, h = line.split()
                keys.append((int(i), bytes.fromhex(h)))
    return keys


def main():
    if len(sys.argv) < 6 or sys.argv[1] != "send":
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, keyfile, kind = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    src = sys.argv[7] if len(sys.argv) > 7 else None
    kid, key = read_keys(keyfile)[0] if keyfile != "-" else (1, os.urandom(32))
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    epoch = int(time.time()) << 32 | int.from_bytes(os.urandom(4), "big")
    r = rule(6, "192.0.2.77", 41000, "203.0.113.80", 80, os.environ.get("RDR_OWNER", "203.0.113.11"), 60)
    sent = 0
    for i in range(n):
        m = message(INSTALL, kid, key, epoch, 1 + (0 if kind == "replay" else i), [r])
        if kind == "forged":
            m = m[:-1] + bytes([m[-1] ^ 0x80])
        elif kind == "truncated":
            m = m[: len(m) - 1 - (i % 40)]
        elif kind == "oversized":
            m = m + bytes(1 + i % 2000)
        elif kind == "garbage":
            m = os.urandom(1 + i % 1200)
        try:
            s.sendto(m, (addr, port))
            sent += 1
        except BlockingIOError:
            pass
        except OSError:
            # ENOBUFS under a flood: try the next one
            pass
    print(sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
