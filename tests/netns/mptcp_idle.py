#!/usr/bin/python3
"""tests/netns/mptcp_idle.py: one MPTCP connection that goes idle.

    mptcp_idle.py DST PORT IDLE_SECONDS

Connects (IPPROTO_MPTCP) to DST:PORT, an echo server that first sends a
name line (mptcp_server.py); echoes 64 KiB, stays silent for IDLE_SECONDS,
then echoes 64 KiB more. Prints the server's name and "ok" and exits 0 when
both echoes came back intact within 20 s each; else prints why, exit 1.
With Proposal 2 the server's TSvals carry a counter, not its clock: after an
idle longer than the 131 s in which the draft's 16 kHz-like TSval recycles
its sign bit, the client's PAWS check must still take the server's segments.
"""
import os
import socket
import sys
import time

IPPROTO_MPTCP = 262


def echo(s, n):
    data = os.urandom(n)
    s.sendall(data)
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise OSError("closed after %d of %d bytes" % (len(got), n))
        got += b
    if got != data:
        raise OSError("echo differs")


def main():
    dst, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.settimeout(20)
    try:
        s.connect((dst, port))
        name = b""
        while not name.endswith(b"\n"):
            b = s.recv(1)
            if not b:
                raise OSError("no name line")
            name += b
        echo(s, 65536)
        time.sleep(idle)
        echo(s, 65536)
        s.close()
    except OSError as e:
        print("failed: %s" % e)
        return 1
    print(name.decode().strip(), "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
