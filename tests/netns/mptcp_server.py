#!/usr/bin/python3
"""tests/netns/mptcp_server.py: MPTCP echo server for tests/netns/mptcp.sh.

    mptcp_server.py NAME PORT ADDR... [--lifetime SECONDS] [--idle SECONDS] [--tcp]

Listens on ADDR:PORT for each ADDR (IPv4 or IPv6) with an MPTCP socket
(IPPROTO_MPTCP = 262; plain TCP clients fall back to TCP on it). For every
connection it first sends the line "NAME\\n", then echoes every byte it
receives until the client closes its side, then closes. One thread per
connection. Exits by itself after --lifetime seconds (default 120), or on
SIGTERM. --tcp: plain TCP listeners (for comparison runs).
"""
import argparse
import selectors
import signal
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262


def serve(conn, name, idle):
    try:
        conn.settimeout(idle)
        conn.sendall(name.encode() + b"\n")
        while True:
            buf = conn.recv(65536)
            if not buf:
                break
            conn.sendall(buf)
    except OSError as e:
        sys.stderr.write("connection error: %s\n" % e)
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("port", type=int)
    ap.add_argument("addrs", nargs="+")
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--idle", type=float, default=60,
                    help="close a connection silent for this many seconds")
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proto = socket.IPPROTO_TCP if a.tcp else IPPROTO_MPTCP
    sel = selectors.DefaultSelector()
    for addr in a.addrs:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM, proto)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, a.port))
        s.listen(128)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    print("listening %s %s port %d" % (a.name, " ".join(a.addrs), a.port), flush=True)

    deadline = time.monotonic() + a.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            try:
                conn, peer = key.fileobj.accept()
            except OSError:
                continue
            conn.setblocking(True)
            threading.Thread(target=serve, args=(conn, a.name, a.idle), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
