#!/usr/bin/python3
"""churn_server.py NAME ADDR PORT: the server of tests/netns/churn.sh, one
process for all its connections (stopping it stops the whole server).

TCP on ADDR:PORT echoes what it reads (conns.py's echo service).
UDP on ADDR:PORT answers each datagram with "NAME COUNT PAYLOAD", COUNT
being how many datagrams this server has received from the sender's address
and port (udpflows.py's echo service); bound to ADDR, so that the answers
come from the service address (direct server return).
Prints "listening" once both sockets are bound."""
import errno
import selectors
import socket
import sys


def main():
    name, addr, port = sys.argv[1].encode(), sys.argv[2], int(sys.argv[3])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sel = selectors.DefaultSelector()
    lst = socket.socket(family, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, port))
    lst.listen(1024)
    lst.setblocking(False)
    sel.register(lst, selectors.EVENT_READ, "listen")
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((addr, port))
    udp.setblocking(False)
    sel.register(udp, selectors.EVENT_READ, "udp")
    counts = {}
    print("listening", flush=True)

    def close(conn):
        sel.unregister(conn["s"])
        conn["s"].close()

    while True:
        for key, mask in sel.select():
            what = key.data
            if what == "listen":
                try:
                    s, _ = lst.accept()
                except OSError:
                    continue
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, {"s": s, "out": b""})
            elif what == "udp":
                for _ in range(64):
                    try:
                        data, peer = udp.recvfrom(2048)
                    except OSError:
                        break
                    k = peer[:2]
                    if k not in counts and len(counts) >= 100000:
                        counts.clear()
                    counts[k] = counts.get(k, 0) + 1
                    try:
                        udp.sendto(b"%s %d %s" % (name, counts[k], data), peer)
                    except OSError:
                        pass
            else:
                conn = what
                if mask & selectors.EVENT_READ:
                    try:
                        data = conn["s"].recv(65536)
                    except OSError as e:
                        if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                            continue
                        close(conn)
                        continue
                    if not data:
                        close(conn)
                        continue
                    conn["out"] += data
                if conn["out"]:
                    try:
                        n = conn["s"].send(conn["out"])
                    except BlockingIOError:
                        n = 0
                    except OSError:
                        close(conn)
                        continue
                    conn["out"] = conn["out"][n:]
                ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn["out"] else 0)
                if ev != key.events:
                    sel.modify(conn["s"], ev, conn)


if __name__ == "__main__":
    sys.exit(main())
