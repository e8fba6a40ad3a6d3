#!/usr/bin/python3
"""conns.py ADDR PORT N SECONDS: N long-lived TCP connections to an echo
service, each sending a numbered line every 50 ms and checking that the
echo comes back intact and in order, for SECONDS. A connection is broken
when it is reset, times out (no echo for 10 s) or returns other bytes.
Prints one line per broken connection and a summary:
  conns N broken K lines L
and exits 0 only when K is 0 and every connection exchanged lines."""
import os
import selectors
import socket
import sys
import time


def main():
    addr, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(n):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((addr, port))
        s.setblocking(False)
        c = {"i": i, "s": s, "sent": 0, "got": b"", "ok": 0, "last": time.monotonic(),
             "broken": None, "next": time.monotonic()}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    t0 = time.monotonic()
    end = t0 + secs
    while time.monotonic() < end:
        now = time.monotonic()
        for c in conns:
            if c["broken"] or now < c["next"]:
                continue
            line = b"conn %d line %d\n" % (c["i"], c["sent"])
            try:
                c["s"].send(line)
                c["sent"] += 1
            except BlockingIOError:
                pass
            except OSError as e:
                c["broken"] = "send: %s" % e
            c["next"] = now + 0.05
            if now - c["last"] > 10:
                c["broken"] = "no echo for 10 s (%d lines back)" % c["ok"]
        for key, _ in sel.select(0.02):
            c = key.data
            if c["broken"]:
                continue
            try:
                data = c["s"].recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c["broken"] = "recv: %s" % e
                continue
            if not data:
                c["broken"] = "closed by the server"
            if c["broken"]:
                continue
            c["got"] += data
            while b"\n" in c["got"]:
                line, c["got"] = c["got"].split(b"\n", 1)
                want = b"conn %d line %d" % (c["i"], c["ok"])
                if line != want:
                    c["broken"] = "got %r, want %r" % (line[:60], want)
                    break
                c["ok"] += 1
                c["last"] = time.monotonic()
    broken = [c for c in conns if c["broken"] or c["ok"] == 0]
    for c in broken:
        print("broken: conn %d after %d lines (%.1f s): %s" % (c["i"], c["ok"], c["last"] - t0,
                                                              c["broken"] or "nothing came back"))
    print("conns %d broken %d lines %d" % (n, len(broken), sum(c["ok"] for c in conns)))
    for c in conns:
        c["s"].close()
    return 0 if not broken else 1


if __name__ == "__main__":
    sys.exit(main())
