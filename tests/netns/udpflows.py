#!/usr/bin/python3
"""udpflows.py ADDR PORT N SECONDS [options]: N UDP flows to the name echo
of churn_server.py, each from its own socket (its own client port), each
sending a numbered datagram every 50 to 100 ms (flow I every 50 + 5 * (I mod
11) ms) for SECONDS, or until SIGTERM. The server answers
"NAME COUNT PAYLOAD", COUNT being the datagrams it has received from the
flow. A flow is broken when another server answers than the one that
answered first, when a server's COUNT goes back (it lost the flow), or when
no answer comes for more than --gap seconds (default 2) while it sends.
Prints one line per broken flow and a summary:
  udpflows N broken K replies R
and exits 0 only when K is 0 and every flow had an answer.

Options:
  --src FIRST --nsrc K  flow I binds source address FIRST + (I mod K)
  --gap S               the longest silence that is not a break (default 2)
  --reopen S            S seconds after a flow breaks, start another flow in
                        its slot, from a new port; K then counts every flow
                        that broke
  --log FILE            one line per event, as it happens, times in seconds
                        since the epoch:
                          TIME open SLOT LOCAL
                          TIME first SLOT LOCAL NAME
                          TIME broken SLOT LOCAL REPLIES NAME REASON
                        a break's TIME is that of the last answer when the
                        answers stopped, else when it was seen."""
import argparse
import ipaddress
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(usage="udpflows.py ADDR PORT N SECONDS [options]")
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("secs", type=float)
    ap.add_argument("--src")
    ap.add_argument("--nsrc", type=int, default=1)
    ap.add_argument("--gap", type=float, default=2.0)
    ap.add_argument("--reopen", type=float)
    ap.add_argument("--log")
    a = ap.parse_args()
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    log = open(a.log, "a", buffering=1) if a.log else None
    sel = selectors.DefaultSelector()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    t0 = time.monotonic()
    wall0 = time.time() - t0

    def event(t, *words):
        if log:
            log.write("%.3f %s\n" % (t, " ".join(str(w) for w in words)))

    flows = []
    dead = []
    retry = {}
    stats = {"refused": 0, "reopened": 0}

    def open_flow(i, gen, now):
        s = socket.socket(family, socket.SOCK_DGRAM)
        if a.src:
            s.bind((str(ipaddress.ip_address(a.src) + i % a.nsrc), 0))
        s.connect((a.addr, a.port))
        s.setblocking(False)
        f = {"i": i, "gen": gen, "s": s, "seq": 0, "replies": 0, "name": None, "count": 0,
             "last": now, "next": now, "every": 0.05 + 0.005 * (i % 11), "broken": None,
             "local": "%s:%d" % s.getsockname()[:2]}
        sel.register(s, selectors.EVENT_READ, f)
        event(wall0 + now, "open", i, f["local"])
        return f

    def break_(f, why, t=None):
        f["broken"] = why
        event(time.time() if t is None else t, "broken", f["i"], f["local"], f["replies"],
              f["name"] or "-", why)
        sel.unregister(f["s"])
        f["s"].close()
        dead.append(f)
        if a.reopen is not None:
            retry[f["i"]] = time.monotonic() + a.reopen

    def receive(f):
        for _ in range(16):
            try:
                data = f["s"].recv(2048)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                stats["refused"] += 1
                continue
            except OSError as e:
                break_(f, "recv: %s" % e)
                return
            words = data.split(b" ", 2)
            want = b"flow %d gen %d seq " % (f["i"], f["gen"])
            if len(words) != 3 or not words[1].isdigit() or not words[2].startswith(want):
                break_(f, "bad answer %r" % data[:60])
                return
            name, count = words[0].decode(errors="replace"), int(words[1])
            f["replies"] += 1
            if f["name"] is None:
                f["name"] = name
                event(time.time(), "first", f["i"], f["local"], name)
            elif name != f["name"]:
                break_(f, "answered by %s" % name)
                return
            elif count <= f["count"]:
                break_(f, "%s counts %d after %d" % (name, count, f["count"]))
                return
            f["count"] = count
            f["last"] = time.monotonic()

    now = time.monotonic()
    for i in range(a.n):
        flows.append(open_flow(i, 0, now))
    end = t0 + a.secs
    while time.monotonic() < end and not stop:
        now = time.monotonic()
        for f in flows:
            if f["broken"]:
                continue
            if now >= f["next"]:
                try:
                    f["s"].send(b"flow %d gen %d seq %d" % (f["i"], f["gen"], f["seq"]))
                    f["seq"] += 1
                except ConnectionRefusedError:
                    stats["refused"] += 1
                except OSError as e:
                    break_(f, "send: %s" % e)
                    continue
                f["next"] = now + f["every"]
            if now - f["last"] > a.gap:
                break_(f, "no answer for %g s" % a.gap, wall0 + f["last"])
        for i, when in list(retry.items()):
            if now >= when:
                del retry[i]
                stats["reopened"] += 1
                flows[i] = open_flow(i, flows[i]["gen"] + 1, now)
        for key, _ in sel.select(0.01):
            if not key.data["broken"]:
                receive(key.data)
    for f in flows:
        if not f["broken"] and f["replies"] == 0 and f["gen"] == 0:
            break_(f, "nothing came back", wall0 + f["last"])
    for f in sorted(dead, key=lambda f: (f["i"], f["gen"])):
        print("broken: flow %d gen %d (%s, %d answers from %s): %s" % (
            f["i"], f["gen"], f["local"], f["replies"], f["name"] or "-", f["broken"]))
    replies = sum(f["replies"] for f in dead) + sum(f["replies"] for f in flows if not f["broken"])
    print("refused %d reopened %d" % (stats["refused"], stats["reopened"]))
    print("udpflows %d broken %d replies %d" % (a.n, len(dead), replies))
    return 0 if not dead else 1


if __name__ == "__main__":
    sys.exit(main())
