#!/usr/bin/python3
"""conns.py ADDR PORT N SECONDS [options]: N long-lived TCP connections to
an echo service, each sending a numbered line every 50 ms and checking that
the echo comes back intact and in order, for SECONDS (or until SIGTERM). A
connection is broken when it is reset, times out (no echo for 10 s) or
returns other bytes; at the end, every line sent must have come back
(waiting up to 3 s for those still on their way).
Prints one line per broken connection and a summary:
  conns N broken K lines L
and exits 0 only when K is 0 and every connection exchanged lines.

Options (tests/netns/churn.sh):
  --src FIRST --nsrc K  connection I binds source address FIRST + (I mod K)
  --stall S             no echo for S seconds is a break (default 10)
  --reopen S            S seconds after a connection breaks, open another in
                        its slot (and again S seconds after a failed connect);
                        K then counts every connection that broke, and a line
                        "reopened R connfail F" comes before the summary
  --log FILE            one line per event, as it happens, times in seconds
                        since the epoch:
                          TIME open SLOT LOCAL
                          TIME broken SLOT LOCAL LINES REASON
                          TIME connfail SLOT LOCAL REASON
                        LOCAL is the connection's address:port; a break's
                        TIME is that of its last echo when the echo stalled,
                        else when the break was seen."""
import argparse
import errno
import ipaddress
import selectors
import signal
import socket
import sys
import time

CONNECT_TIMEOUT = 3.0


def main():
    ap = argparse.ArgumentParser(usage="conns.py ADDR PORT N SECONDS [options]")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("secs", type=float)
    ap.add_argument("--src")
    ap.add_argument("--nsrc", type=int, default=1)
    ap.add_argument("--stall", type=float, default=10.0)
    ap.add_argument("--reopen", type=float)
    ap.add_argument("--log")
    a = ap.parse_args()
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    log = open(a.log, "a", buffering=1) if a.log else None
    sel = selectors.DefaultSelector()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def event(t, *words):
        if log:
            log.write("%.3f %s\n" % (t, " ".join(str(w) for w in words)))

    def source(i):
        if not a.src:
            return None
        return str(ipaddress.ip_address(a.src) + i % a.nsrc)

    def local(c):
        try:
            h, p = c["s"].getsockname()[:2]
            return "%s:%d" % (h, p)
        except OSError:
            return c.get("local", "?")

    def new_conn(i, gen, s, now):
        return {"i": i, "gen": gen, "s": s, "sent": 0, "got": b"", "out": b"", "ok": 0,
                "last": now, "broken": None, "next": now, "t_broken": None}

    def opened(c, now):
        c["local"] = local(c)
        c["last"] = c["next"] = now
        sel.register(c["s"], selectors.EVENT_READ, c)
        event(time.time(), "open", c["i"], c["local"])

    def break_(c, why, t=None):
        c["broken"] = why
        c["t_broken"] = time.time() if t is None else t
        event(c["t_broken"], "broken", c["i"], c["local"], c["ok"], why)
        try:
            sel.unregister(c["s"])
        except (KeyError, ValueError):
            pass
        c["s"].close()
        dead.append(c)
        if a.reopen is not None:
            retry[c["i"]] = time.monotonic() + a.reopen

    conns = []
    dead = []
    retry = {}        # slot -> when to open its next connection
    connecting = {}   # slot -> (socket, started)
    stats = {"reopened": 0, "connfail": 0}
    for i in range(a.n):
        s = socket.socket(family, socket.SOCK_STREAM)
        if a.src:
            s.bind((source(i), 0))
        s.settimeout(10)
        s.connect((a.addr, a.port))
        s.setblocking(False)
        c = new_conn(i, 0, s, time.monotonic())
        conns.append(c)
        opened(c, time.monotonic())
    t0 = time.monotonic()
    end = t0 + a.secs
    wall0 = time.time() - t0

    def reopen(i, now):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            if a.src:
                s.bind((source(i), 0))
            err = s.connect_ex((a.addr, a.port))
        except OSError as e:
            err = e.errno
        if err not in (0, errno.EINPROGRESS):
            stats["connfail"] += 1
            event(time.time(), "connfail", i, source(i) or "-", errno.errorcode.get(err, err))
            s.close()
            retry[i] = now + a.reopen
            return
        connecting[i] = (s, now)
        sel.register(s, selectors.EVENT_WRITE, ("connect", i))

    def connect_done(i, now, timed_out=False):
        s, _ = connecting.pop(i)
        sel.unregister(s)
        err = errno.ETIMEDOUT if timed_out else s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            stats["connfail"] += 1
            try:
                where = "%s:%d" % s.getsockname()[:2]
            except OSError:
                where = source(i) or "-"
            event(time.time(), "connfail", i, where, errno.errorcode.get(err, err))
            s.close()
            retry[i] = now + a.reopen
            return
        stats["reopened"] += 1
        c = new_conn(i, conns[i]["gen"] + 1, s, now)
        conns[i] = c
        opened(c, now)

    def receive(c):
        try:
            data = c["s"].recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            break_(c, "recv: %s" % e)
            return
        if not data:
            break_(c, "closed by the server")
            return
        c["got"] += data
        while b"\n" in c["got"]:
            line, c["got"] = c["got"].split(b"\n", 1)
            want = b"conn %d line %d" % (c["i"], c["ok"])
            if line != want:
                break_(c, "got %r, want %r" % (line[:60], want))
                return
            c["ok"] += 1
            c["last"] = time.monotonic()

    def flush(c):
        try:
            n = c["s"].send(c["out"])
        except BlockingIOError:
            return
        except OSError as e:
            break_(c, "send: %s" % e)
            return
        c["out"] = c["out"][n:]

    def poll(now, sending):
        for c in conns:
            if c["broken"]:
                continue
            if sending and now >= c["next"]:
                c["out"] += b"conn %d line %d\n" % (c["i"], c["sent"])
                c["sent"] += 1
                c["next"] = now + 0.05
            if c["out"]:
                flush(c)
            if not c["broken"] and now - c["last"] > a.stall:
                break_(c, "no echo for %g s (%d lines back)" % (a.stall, c["ok"]),
                       wall0 + c["last"])
        for i, (s, started) in list(connecting.items()):
            if now - started > CONNECT_TIMEOUT:
                connect_done(i, now, timed_out=True)
        if sending:
            for i, when in list(retry.items()):
                if now >= when and i not in connecting:
                    del retry[i]
                    reopen(i, now)
        for key, _ in sel.select(0.02):
            if isinstance(key.data, tuple):
                if key.data[1] in connecting:
                    connect_done(key.data[1], time.monotonic())
                continue
            if not key.data["broken"]:
                receive(key.data)

    while time.monotonic() < end and not stop:
        poll(time.monotonic(), True)
    # The end: no more lines; wait (3 s at most) for those on their way.
    drain_end = time.monotonic() + min(a.stall, 3.0)
    while time.monotonic() < drain_end:
        if all(c["broken"] or (c["ok"] == c["sent"] and not c["out"]) for c in conns):
            break
        poll(time.monotonic(), False)
    for c in conns:
        if not c["broken"] and (c["ok"] < c["sent"] or (c["sent"] == 0 and c["gen"] == 0)):
            if c["sent"] == 0:
                break_(c, "nothing came back", wall0 + c["last"])
            else:
                break_(c, "%d of %d lines not echoed at the end" % (c["sent"] - c["ok"], c["sent"]),
                       wall0 + c["last"])
    for c in sorted(dead, key=lambda c: (c["i"], c["gen"])):
        print("broken: conn %d after %d lines (%.1f s): %s" % (c["i"], c["ok"], c["last"] - t0,
                                                              c["broken"]))
    if a.reopen is not None:
        print("reopened %d connfail %d" % (stats["reopened"], stats["connfail"]))
    lines = sum(c["ok"] for c in dead) + sum(c["ok"] for c in conns if not c["broken"])
    print("conns %d broken %d lines %d" % (a.n, len(dead), lines))
    for c in conns:
        if not c["broken"]:
            c["s"].close()
    for s, _ in connecting.values():
        s.close()
    return 0 if not dead else 1


if __name__ == "__main__":
    sys.exit(main())
