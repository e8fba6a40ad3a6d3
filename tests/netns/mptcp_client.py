#!/usr/bin/python3
"""tests/netns/mptcp_client.py: concurrent MPTCP echo client for
tests/netns/mptcp.sh (the server is mptcp_server.py).

    mptcp_client.py DST PORT [--conns N] [--bytes B] [--min-subflows K] [--min-ok M]
                    [--timeout S] [--tcp] [--out FILE]
                    [--ready FILE --release FILE --hold S]

Opens N connections to DST:PORT at once, with IPPROTO_MPTCP (262) sockets
(--tcp: plain TCP). On each: read the server's name line, send B random bytes
while reading the echo, compare SHA-256; then (MPTCP) poll until K subflows
are established, with a deadline. Per connection one JSON line on stdout
(or in --out FILE):

  {"conn": 0, "server": "s1", "family": 4, "laddr": "192.0.2.10",
   "lport": 40000, "token": "a1b2c3d4", "subflows": 3, "info_subflows": 2,
   "subflow_addrs": [["192.0.2.10", 40000, "203.0.113.100", 80], ...],
   "fallback": false, "data_ok": true, "ok": true, "error": null}

  subflows       established subflows (MPTCP_TCPINFO, tcpi_state), the
                 initial one included
  info_subflows  MPTCP_INFO mptcpi_subflows: the subflows the path manager
                 added (the initial one is not counted there)
  subflow_addrs  MPTCP_SUBFLOW_ADDRS: local address, local port, remote
                 address, remote port of each subflow
  token          MPTCP_INFO mptcpi_token: the client's (local) token; the
                 server's `ss -ti` shows it as the remote token
  stage          how far it got: connect, name line, echo, subflows
  echoed         echoed bytes received
  msk            (failed connections only) the connection's write_seq,
                 snd_una and rcv_nxt (hex)
  diag           (failed connections only) per subflow, fields of its
                 struct tcp_info: state, retransmissions, RTO, MSS, path
                 MTU, bytes acked and received, ms since data and ACKs
  subflow_options tcpi_options of each established subflow (MPTCP_TCPINFO):
                 1 timestamps, 2 SACK, 4 window scaling

With --ready/--release, once every connection has been checked the client
creates the ready file and keeps all connections open until the release file
exists (at most --hold seconds), so that the servers' sockets can be
inspected; then it closes them cleanly. Exit 0 if every connection is ok.
"""
import argparse
import ctypes
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
MPTCP_TCPINFO = 2
MPTCP_SUBFLOW_ADDRS = 3
MPTCP_INFO_FLAG_FALLBACK = 1
TCP_ESTABLISHED = 1
SUBFLOW_DATA_LEN = 16           # struct mptcp_subflow_data (aligned 8)
SUBFLOW_ADDRS_LEN = 256         # struct mptcp_subflow_addrs: 2 x sockaddr_storage
TCPINFO_USER_LEN = 256          # room for struct tcp_info (we read tcpi_state)
MAX_SUBFLOWS = 16

libc = ctypes.CDLL(None, use_errno=True)
libc.getsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                            ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]


def subflow_array(sock, opt, size_user):
    """MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS: list of size_user-byte records."""
    buf = ctypes.create_string_buffer(SUBFLOW_DATA_LEN + MAX_SUBFLOWS * size_user)
    struct.pack_into("=IIII", buf, 0, SUBFLOW_DATA_LEN, 0, 0, size_user)
    optlen = ctypes.c_uint32(len(buf))
    if libc.getsockopt(sock.fileno(), SOL_MPTCP, opt, buf, ctypes.byref(optlen)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "getsockopt(SOL_MPTCP, %d): %s" % (opt, os.strerror(e)))
    _, num, _, size_user_k = struct.unpack_from("=IIII", buf, 0)
    stride = size_user_k or size_user
    n = min(num, (optlen.value - SUBFLOW_DATA_LEN) // stride)
    raw = buf.raw
    return [raw[SUBFLOW_DATA_LEN + i * stride:SUBFLOW_DATA_LEN + (i + 1) * stride] for i in range(n)]


def sockaddr(b):
    fam = struct.unpack_from("=H", b, 0)[0]
    port = struct.unpack_from("!H", b, 2)[0]
    if fam == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, b[4:8]), port
    if fam == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, b[8:24]), port
    return None, port


def mptcp_state(sock):
    """(info_subflows, flags, token, established subflows, subflow addrs)"""
    info = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 64)
    # struct mptcp_info: u8 subflows, add_addr_signal, add_addr_accepted,
    # subflows_max, add_addr_signal_max, add_addr_accepted_max, (pad 2),
    # u32 flags, u32 token, ...
    info_subflows = info[0]
    flags, token = struct.unpack_from("=II", info, 8)
    est = sum(1 for r in subflow_array(sock, MPTCP_TCPINFO, TCPINFO_USER_LEN) if r[0] == TCP_ESTABLISHED)
    addrs = []
    for r in subflow_array(sock, MPTCP_SUBFLOW_ADDRS, SUBFLOW_ADDRS_LEN):
        la, lp = sockaddr(r[0:128])
        ra, rp = sockaddr(r[128:256])
        addrs.append([la, lp, ra, rp])
    return info_subflows, flags, token, est, addrs


def recv_exact(sock, n, h, r):
    while r["echoed"] < n:
        b = sock.recv(min(65536, n - r["echoed"]))
        if not b:
            raise OSError("connection closed after %d of %d echoed bytes" % (r["echoed"], n))
        h.update(b)
        r["echoed"] += len(b)


def subflow_diag(sock):
    """What each subflow's struct tcp_info says, for a connection that failed."""
    out = []
    for rec in subflow_array(sock, MPTCP_TCPINFO, TCPINFO_USER_LEN):
        if len(rec) < 136:
            continue
        state, _, retransmits, _, backoff = rec[0:5]
        rto, _, snd_mss, rcv_mss, unacked, _, lost, retrans = struct.unpack_from("=8I", rec, 8)
        last_data_recv, last_ack_recv, pmtu = struct.unpack_from("=3I", rec, 52)
        total_retrans = struct.unpack_from("=I", rec, 100)[0]
        bytes_acked, bytes_received = struct.unpack_from("=QQ", rec, 120)
        out.append(dict(state=state, retransmits=retransmits, backoff=backoff, rto_us=rto,
                        snd_mss=snd_mss, rcv_mss=rcv_mss, unacked=unacked, lost=lost,
                        retrans=retrans, total_retrans=total_retrans, pmtu=pmtu,
                        last_data_recv_ms=last_data_recv, last_ack_recv_ms=last_ack_recv,
                        bytes_acked=bytes_acked, bytes_received=bytes_received))
    return out


class Conn(threading.Thread):
    def __init__(self, idx, a, checked):
        super().__init__(daemon=True)
        self.idx, self.a, self.checked = idx, a, checked
        self.sock = None
        self.res = {"conn": idx, "server": None, "family": 6 if ":" in a.dst else 4,
                    "laddr": None, "lport": None, "token": None, "subflows": 0,
                    "info_subflows": None, "subflow_addrs": [], "fallback": None,
                    "data_ok": False, "ok": False, "error": None,
                    "stage": "connect", "echoed": 0}

    def run(self):
        a, r = self.a, self.res
        try:
            fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
            s = self.sock = socket.socket(fam, socket.SOCK_STREAM,
                                          socket.IPPROTO_TCP if a.tcp else IPPROTO_MPTCP)
            s.settimeout(a.timeout)
            s.connect((a.dst, a.port))
            r["laddr"], r["lport"] = s.getsockname()[:2]
            r["stage"] = "name line"
            line = b""
            while not line.endswith(b"\n"):
                b = s.recv(1)
                if not b:
                    raise OSError("closed before the name line (%r)" % line)
                line += b
                if len(line) > 64:
                    raise OSError("no name line: %r" % line)
            r["server"] = line.decode().strip()
            r["stage"] = "echo"
            data = os.urandom(a.bytes)
            err = []

            def send():
                try:
                    s.sendall(data)
                except OSError as e:
                    err.append(e)
            t = threading.Thread(target=send, daemon=True)
            t.start()
            h = hashlib.sha256()
            recv_exact(s, len(data), h, r)
            t.join(a.timeout)
            if err:
                raise err[0]
            r["data_ok"] = h.digest() == hashlib.sha256(data).digest()
            if not r["data_ok"]:
                raise OSError("echo differs (sha256)")
            r["stage"] = "subflows"
            if a.tcp:
                r["subflows"] = 1
            else:
                deadline = time.monotonic() + a.subflow_timeout
                while True:
                    inf, flags, token, est, addrs = mptcp_state(s)
                    r.update(info_subflows=inf, token="%08x" % token, subflows=est,
                             subflow_addrs=addrs, fallback=bool(flags & MPTCP_INFO_FLAG_FALLBACK),
                             subflow_options=[rec[5] for rec in subflow_array(s, MPTCP_TCPINFO, TCPINFO_USER_LEN)
                                              if rec[0] == TCP_ESTABLISHED])
                    if r["fallback"]:
                        raise OSError("fell back to TCP")
                    if est >= a.min_subflows and len(addrs) == est:
                        break
                    if time.monotonic() >= deadline:
                        # --min-ok: fewer than asked for, but enough, is ok
                        # once the deadline has passed (a join refused).
                        if a.min_ok and est >= a.min_ok and len(addrs) == est:
                            break
                        raise OSError("%d established subflows (%d in the list) after %.1f s, want %d"
                                      % (est, len(addrs), a.subflow_timeout, a.min_subflows))
                    time.sleep(0.05)
            r["ok"] = True
        except Exception as e:      # noqa: BLE001 - reported per connection
            r["error"] = "%s: %s" % (type(e).__name__, e)
            if self.sock is not None and not a.tcp:
                try:
                    info = self.sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 80)
                    if len(info) >= 40:
                        # struct mptcp_info: write_seq, snd_una, rcv_nxt (u64 at 16)
                        r["msk"] = dict(zip(("write_seq", "snd_una", "rcv_nxt"),
                                            ("%x" % x for x in struct.unpack_from("=QQQ", info, 16))))
                    r["diag"] = subflow_diag(self.sock)
                    r["subflow_addrs"] = mptcp_state(self.sock)[4]
                except OSError:
                    pass
        finally:
            self.checked.release()

    def close(self):
        s = self.sock
        if s is None:
            return
        try:
            s.settimeout(5)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dst")
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=24)
    ap.add_argument("--bytes", type=int, default=256 * 1024)
    ap.add_argument("--min-subflows", type=int, default=2)
    ap.add_argument("--subflow-timeout", type=float, default=10)
    ap.add_argument("--min-ok", type=int, default=0,
                    help="after --subflow-timeout, this many established subflows are ok too")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--ready")
    ap.add_argument("--release")
    ap.add_argument("--hold", type=float, default=20)
    ap.add_argument("--out", help="write the JSON lines here instead of stdout")
    a = ap.parse_args()

    checked = threading.Semaphore(0)
    conns = [Conn(i, a, checked) for i in range(a.conns)]
    for c in conns:
        c.start()
    deadline = time.monotonic() + a.timeout + a.subflow_timeout + 5
    for c in conns:
        if not checked.acquire(timeout=max(0.1, deadline - time.monotonic())):
            break
    out = open(a.out, "w") if a.out else sys.stdout
    for c in conns:
        if c.is_alive() and c.res["error"] is None:
            c.res["error"] = "timed out"
        out.write(json.dumps(c.res) + "\n")
    out.flush()
    if a.out:
        out.close()
    ok = all(c.res["ok"] for c in conns)
    sys.stderr.write("%d/%d connections ok\n" % (sum(c.res["ok"] for c in conns), len(conns)))
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
        end = time.monotonic() + a.hold
        while a.release and not os.path.exists(a.release) and time.monotonic() < end:
            time.sleep(0.05)
    for c in conns:
        c.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
