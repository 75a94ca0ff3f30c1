#!/usr/bin/python3
"""Clients that misbehave cost only themselves.

Each test starts the real server (and, where replies are compared, a
reference redis-server) and plays one kind of bad client: one that
pipelines without reading, one that announces a huge bulk, one that
trickles a byte at a time, one that never authenticates, thousands that
sit idle, and a churn of connections some of whose workers are killed.
Every test then checks that other clients are still served.

Nothing here passes or fails on elapsed time: waits poll a condition with
a generous limit, and what is measured (memory of a worker, memory per
idle connection) is printed for docs/performance.md.
"""

import os
import resource
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn,  # noqa: E402
                     check, check_eq, pack_command, parse_reply)

LONG = 60.0
MB = 1024 * 1024


# ------------------------------------------------------------ helpers

def wait_for(cond, what, timeout=LONG, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.0fs waiting for %s"
                         % (timeout, what))


def info_field(conn, field):
    raw = conn.command(b"INFO", b"everything").decode()
    for line in raw.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("INFO has no %s" % field)


def client_list(conn):
    raw = parse_reply(conn.command(b"CLIENT", b"LIST")).value
    out = []
    for line in raw.decode().splitlines():
        out.append(dict(kv.split("=", 1) for kv in line.split(" ") if kv))
    return out


def client_by_name(conn, name):
    for c in client_list(conn):
        if c.get("name") == name:
            return c
    return None


def status_kb(pid, field):
    """A kB field of /proc/PID/status, or None once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
            return None  # a zombie has no VmRSS
    except OSError:
        return None


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def gone(pid):
    return rss_kb(pid) is None


def sanitized_build():
    """ASan multiplies what each process maps: big counts scale down."""
    try:
        with open(akvtest.arenakv_binary("arenakv-worker"), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def expect_error_and_close(conn, payload, want):
    conn.send_raw(payload)
    data = conn.wait_closed(LONG)
    check_eq(data, want, "reply before the close")


def alive(srv):
    with RespConn(srv.port) as c:
        check_eq(c.command(b"PING"), b"+PONG\r\n", "PING from another client")


class Flooder(threading.Thread):
    """Sends `count` copies of one request as fast as the socket takes
    them and never reads; remembers whether the server cut it off."""

    def __init__(self, sock, request, count):
        super().__init__(daemon=True)
        self.sock = sock
        self.request = request
        self.count = count
        self.sent = 0
        self.cut_off = False

    def run(self):
        batch = self.request * 1000
        try:
            while self.sent < self.count:
                self.sock.sendall(batch)
                self.sent += 1000
        except OSError:
            self.cut_off = True


def named_raw_client(srv, name, rcvbuf=None):
    """A connection named `name` (so CLIENT LIST finds its worker), with a
    small receive buffer when asked."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=LONG)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    c = RespConn.from_socket(s, timeout=LONG)
    check_eq(c.command(b"CLIENT", b"SETNAME", name), b"+OK\r\n", "SETNAME")
    return c


def worker_of(srv, name):
    with RespConn(srv.port) as c:
        info = client_by_name(c, name)
    check(info is not None, "no client named %s" % name)
    return int(info["pid"]), int(info["id"])


# ------------------------------------------------------------ options

OBUF_VALUES = [
    "normal 1mb 2mb 3", "replica 1 1 1", "slave 256mb 64mb 60",
    "pubsub 32mb 8mb 60", "master 1 1 1", "bogus 1 1 1", "normal 1 1",
    "normal 1 1 -1", "NORMAL 5 5 5", "pubsub 1 1 +5", "normal 1 1  1",
    "normal abc 1 1", "normal 1 1 1.5", "normal 1 1 1 pubsub 2 2 2",
    "normal 0 0 0",
]
MMC_VALUES = ["5%", "150%", "-5", "abc", "100%", "0%", "1mb", "5 %", "0"]


def test_output_limit_options_as_redis(akv, ref):
    """CONFIG GET/SET of client-output-buffer-limit and maxmemory-clients
    reply byte for byte as Redis 7.0, defaults included."""
    with RespConn(akv.port) as a, RespConn(ref.port) as r:
        for name in (b"client-output-buffer-limit", b"maxmemory-clients"):
            check_eq(a.command(b"CONFIG", b"GET", name),
                     r.command(b"CONFIG", b"GET", name), "default " + str(name))
        for v in OBUF_VALUES:
            args = (b"CONFIG", b"SET", b"client-output-buffer-limit", v)
            check_eq(a.command(*args), r.command(*args), "SET %r" % v)
            get = (b"CONFIG", b"GET", b"client-output-buffer-limit")
            check_eq(a.command(*get), r.command(*get), "GET after %r" % v)
        for v in MMC_VALUES:
            args = (b"CONFIG", b"SET", b"maxmemory-clients", v)
            check_eq(a.command(*args), r.command(*args), "SET %r" % v)
            get = (b"CONFIG", b"GET", b"maxmemory-clients")
            check_eq(a.command(*get), r.command(*get), "GET after %r" % v)
        args = (b"CONFIG", b"SET", b"client-output-buffer-limit",
                b"normal 0 0 0 slave 268435456 67108864 60 "
                b"pubsub 33554432 8388608 60")
        check_eq(a.command(*args), r.command(*args), "reset")
        check_eq(a.command(b"CONFIG", b"SET", b"maxmemory-clients", b"0"),
                 b"+OK\r\n", "reset maxmemory-clients")


# ------------------------------------------------------------ output

def flood_gets(srv, name, limit_kb_note):
    """1M GETs of a 1 KB value, pipelined, never read.  Returns (flooder,
    worker pid, highest RSS seen in kB, RSS before the flood)."""
    with RespConn(srv.port) as c:
        check_eq(c.command(b"SET", b"k1k", b"v" * 1024), b"+OK\r\n", "SET")
    hog = named_raw_client(srv, name, rcvbuf=64 * 1024)
    pid, cid = worker_of(srv, name)
    base = rss_kb(pid)
    f = Flooder(hog.sock, pack_command(b"GET", b"k1k"), 1000 * 1000)
    f.start()
    return hog, f, pid, cid, base


def test_pipeline_without_reading_is_dropped_at_the_limit(akv):
    """With an output limit, a client that pipelines 1M GETs of 1 KB and
    reads nothing is disconnected when its unread replies pass the hard
    limit; its worker's RSS stays near the limit, and others are served."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"client-output-buffer-limit",
                           b"normal 8mb 4mb 30"), b"+OK\r\n", "set limit")
        closed_before = int(info_field(c, "client_output_buffer_limit_"
                                       "disconnections"))
    hog, f, pid, cid, base = flood_gets(akv, "hog", 8 * 1024)
    peak = base
    try:
        deadline = time.monotonic() + LONG
        while not gone(pid) and time.monotonic() < deadline:
            peak = max(peak, rss_kb(pid) or 0)
            time.sleep(0.01)
        check(gone(pid), "the worker of the flooding client still runs")
        f.join(LONG)
        check(f.cut_off or hog.wait_closed(LONG) is not None,
              "flooder was not disconnected")
        print("# worker RSS: %d kB before, %d kB at most (hard limit 8 MB)"
              % (base, peak))
        check(peak - base < 48 * 1024, "worker RSS grew by %d kB" %
              (peak - base))
        with RespConn(akv.port) as c:
            check_eq(int(info_field(c, "client_output_buffer_limit_"
                                    "disconnections")), closed_before + 1,
                     "disconnections")
            check(client_by_name(c, "hog") is None, "hog still listed")
        alive(akv)
        log = open(akv.logpath, errors="replace").read()
        check("scheduled to be closed ASAP for overcoming of output buffer "
              "limits" in log, "no log line for the limit")
    finally:
        hog.close()
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"client-output-buffer-limit",
                      b"normal 0 0 0")


def test_pipeline_without_reading_no_limit_then_client_kill(akv):
    """Without a limit (Redis's default for normal clients) the worker stops
    reading once replies wait unread, so its RSS stays bounded; CLIENT KILL
    then ends it although it is stuck with unwritten replies."""
    hog, f, pid, cid, base = flood_gets(akv, "stuck", 0)
    try:
        with RespConn(akv.port) as c:
            # The flood stalls: the worker's input stops growing.
            def stalled():
                a = client_by_name(c, "stuck")
                time.sleep(0.5)
                b = client_by_name(c, "stuck")
                return a and b and int(b["omem"]) > 0 and \
                    a["omem"] == b["omem"] and f.is_alive()
            wait_for(stalled, "the flood to stall")
            peak = rss_kb(pid)
            print("# stalled worker RSS: %d kB (before: %d kB)" % (peak, base))
            check(peak - base < 16 * 1024, "worker RSS grew by %d kB" %
                  (peak - base))
            check(f.sent < 1000 * 1000, "the worker read everything")
            alive(akv)
            check_eq(c.command(b"CLIENT", b"KILL", b"ID", str(cid)),
                     b":1\r\n", "CLIENT KILL")
            wait_for(lambda: gone(pid), "the killed worker to exit")
            wait_for(lambda: client_by_name(c, "stuck") is None,
                     "the slot to be freed")
        alive(akv)
    finally:
        hog.close()


def test_soft_output_limit_closes_after_its_seconds(akv):
    """Over the soft limit (no hard limit) for longer than its seconds,
    the client is disconnected."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"client-output-buffer-limit",
                           b"normal 0 1mb 1"), b"+OK\r\n", "set limit")
    hog = None
    try:
        hog, f, pid, cid, base = flood_gets(akv, "soft", 0)
        wait_for(lambda: gone(pid), "the client over the soft limit to go")
        alive(akv)
    finally:
        if hog:
            hog.close()
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"client-output-buffer-limit",
                      b"normal 0 0 0")


def test_timeout_ends_a_worker_stuck_writing(akv):
    """`timeout` closes a client that stopped reading (no command completes
    while its replies wait), as Redis does."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"timeout", b"1"), b"+OK\r\n",
                 "timeout")
    hog = None
    try:
        hog, f, pid, cid, base = flood_gets(akv, "sleepy", 0)
        wait_for(lambda: gone(pid), "the idle worker to be closed")
        alive(akv)
    finally:
        if hog:
            hog.close()
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"timeout", b"0")


def test_maxmemory_clients_evicts_the_biggest(akv):
    """maxmemory-clients: the connection whose buffers pass the limit is
    evicted, a small one next to it is not."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"maxmemory-clients", b"16mb"),
                 b"+OK\r\n", "set")
        before = int(info_field(c, "evicted_clients"))
    small = named_raw_client(akv, "small")
    hog = None
    try:
        hog, f, pid, cid, base = flood_gets(akv, "big", 0)
        wait_for(lambda: gone(pid), "the big client to be evicted")
        check_eq(small.command(b"PING"), b"+PONG\r\n", "small client")
        with RespConn(akv.port) as c:
            check_eq(int(info_field(c, "evicted_clients")), before + 1,
                     "evicted_clients")
    finally:
        small.close()
        if hog:
            hog.close()
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"maxmemory-clients", b"0")


# ------------------------------------------------------------ input

def test_huge_bulk_header_as_redis(akv, ref):
    """A 600 MB bulk header is refused at once (proto-max-bulk-len), with
    Redis's error, and the connection closed."""
    payload = b"*1\r\n$629145600\r\n"
    replies = []
    for srv in (akv, ref):
        with RespConn(srv.port) as c:
            c.send_raw(payload)
            replies.append(c.wait_closed(LONG))
    check_eq(replies[0], replies[1], "reply")
    check_eq(replies[0], b"-ERR Protocol error: invalid bulk length\r\n",
             "reply")
    alive(akv)


def test_query_buffer_limit_holds(akv):
    """A bulk larger than client-query-buffer-limit closes the connection
    before the worker holds it."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"client-query-buffer-limit",
                           b"1mb"), b"+OK\r\n", "limit")
    try:
        hog = named_raw_client(akv, "qbuf")
        pid, _ = worker_of(akv, "qbuf")
        hog.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4194304\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(64):
                hog.sock.sendall(chunk)
        except OSError:
            pass
        wait_for(lambda: gone(pid), "the worker to close")
        alive(akv)
    finally:
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"client-query-buffer-limit", b"1gb")


def test_slowloris_is_idle(akv):
    """With `timeout`, a client that sends one byte per second but never a
    whole command is closed; one that sends whole commands stays."""
    with RespConn(akv.port) as c:
        check_eq(c.command(b"CONFIG", b"SET", b"timeout", b"3"), b"+OK\r\n",
                 "timeout")
    slow = named_raw_client(akv, "slow")
    busy = named_raw_client(akv, "busy")
    try:
        pid, _ = worker_of(akv, "slow")
        slow.send_raw(b"*2\r\n$4\r\nECHO\r\n$200\r\n")
        sent = 0
        while not gone(pid) and sent < 120:
            if not slow.send_raw(b"x"):
                break
            sent += 1
            check_eq(busy.command(b"PING"), b"+PONG\r\n", "busy client")
            time.sleep(0.25 if sent % 4 else 0.25)
        wait_for(lambda: gone(pid), "the slow client to be closed")
        print("# slowloris closed after %d bytes" % sent)
        check(sent < 120, "the slow client was never closed")
        check_eq(busy.command(b"PING"), b"+PONG\r\n", "busy client")
    finally:
        slow.close()
        busy.close()
        with RespConn(akv.port) as c:
            c.command(b"CONFIG", b"SET", b"timeout", b"0")


def test_unauthenticated_frames_are_small():
    """Before AUTH, more than 10 arguments or a bulk over 16384 bytes is a
    protocol error as in Redis 7, so unauthenticated connections cannot
    make the server hold large buffers; after AUTH both are fine."""
    with ArenakvServer() as akv, RedisServer() as ref:
        for srv in (akv, ref):
            with RespConn(srv.port) as c:
                check_eq(c.command(b"CONFIG", b"SET", b"requirepass",
                                   b"sesame"), b"+OK\r\n", "requirepass")
        cases = [
            b"*11\r\n",
            b"*1\r\n$16385\r\n",
            b"*1\r\n$536870912\r\n",
            b"*10\r\n$4\r\nPING\r\n" + b"$1\r\nx\r\n" * 9,
            b"*2\r\n$4\r\nECHO\r\n$16384\r\n" + b"y" * 16384 + b"\r\n",
        ]
        for payload in cases:
            got = []
            for srv in (akv, ref):
                with RespConn(srv.port) as c:
                    c.send_raw(payload)
                    data, closed = c.read_available(quiet=0.5, limit=LONG)
                    got.append((data, closed))
            check_eq(got[0], got[1], "reply to %r" % payload[:20])
        with RespConn(akv.port) as c:
            check_eq(c.command(b"AUTH", b"sesame"), b"+OK\r\n", "AUTH")
            big = b"z" * 100000
            check_eq(c.command(b"ECHO", big), b"$100000\r\n" + big + b"\r\n",
                     "large bulk after AUTH")
            check_eq(c.command(b"DEL", *[b"k%d" % i for i in range(20)]),
                     b":0\r\n", "many arguments after AUTH")
        # Many would-be gigabyte uploads hold nothing.
        conns = [RespConn(akv.port) for _ in range(8)]
        for c in conns:
            c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n")
        for c in conns:
            check_eq(c.wait_closed(LONG), b"-ERR Protocol error: "
                     b"unauthenticated bulk length\r\n", "refused")
            c.close()


# ------------------------------------------------------------ connections

def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def open_admitted(srv, n):
    """n connections, each answered (so each holds a slot)."""
    conns = []
    for _ in range(n):
        c = RespConn(srv.port, timeout=LONG)
        c.send_raw(pack_command(b"PING"))
        conns.append(c)
    for c in conns:
        check_eq(c.read_reply(), b"+PONG\r\n", "PING")
    return conns


def refused(srv):
    with RespConn(srv.port) as c:
        return c.wait_closed(LONG)


def test_idle_connections_and_maxclients():
    """Thousands of idle connections are each a worker holding a slot;
    one more than maxclients gets Redis's error.  Prints the memory each
    idle connection costs."""
    # ASan's page tables cost ~0.6 MB a process: fewer there.
    n = 1000 if sanitized_build() else 3000
    raise_fd_limit(n + 64)
    with ArenakvServer(extra_args=["--maxclients", str(n)]) as srv:
        conns = []
        try:
            conns = open_admitted(srv, n - 1)
            with RespConn(srv.port) as c:
                check_eq(int(info_field(c, "connected_clients")), n,
                         "connected_clients")
                pids = [int(x["pid"]) for x in client_list(c)]
                check_eq(len(pids), n, "CLIENT LIST")
                check_eq(refused(srv), b"-ERR max number of clients "
                         b"reached\r\n", "one more")
            def mean(values):
                values = [v for v in values if v is not None]
                return sum(values) / max(1, len(values))
            print("# %d idle connections, per worker (mean): PSS %.0f kB, "
                  "page tables %.0f kB, RSS %.0f kB" % (
                      n, mean(pss_kb(p) for p in pids),
                      mean(status_kb(p, "VmPTE") for p in pids),
                      mean(rss_kb(p) for p in pids)))
        finally:
            for c in conns:
                c.close()
        with RespConn(srv.port) as c:
            wait_for(lambda: int(info_field(c, "connected_clients")) == 1,
                     "the connections to go")


def test_maxclients_does_not_drift_after_churn():
    """Connections that come and go, workers killed with SIGKILL, clients
    that leave during admission: afterwards connected_clients equals
    CLIENT LIST's count and exactly maxclients connections are admitted."""
    maxc = 50
    with ArenakvServer(extra_args=["--maxclients", str(maxc)]) as srv:
        def churn(rounds):
            for i in range(rounds):
                try:
                    c = RespConn(srv.port, timeout=LONG)
                except OSError:
                    continue
                if i % 3 == 0:
                    c.close()  # gone during admission
                    continue
                try:
                    c.command(b"PING")
                    if i % 5 == 1:
                        info = parse_reply(c.command(b"CLIENT", b"INFO"))
                        pid = int(info.value.decode().split(" pid=")[1]
                                  .split()[0])
                        os.kill(pid, signal.SIGKILL)
                except (OSError, akvtest.ConnectionClosed):
                    pass
                c.close()
        threads = [threading.Thread(target=churn, args=(150,))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LONG * 2)
        with RespConn(srv.port) as c:
            def settled():
                n = int(info_field(c, "connected_clients"))
                return n == 1 and len(client_list(c)) == 1
            wait_for(settled, "connected_clients to come back to 1")
            killed = int(info_field(c, "dead_clients_reaped"))
            print("# churn: %d dead workers reaped" % killed)
            check(killed > 0, "no worker was killed")
            conns = open_admitted(srv, maxc - 1)
            try:
                check_eq(int(info_field(c, "connected_clients")), maxc,
                         "connected_clients at the limit")
                check_eq(len(client_list(c)), maxc, "CLIENT LIST")
                check_eq(refused(srv), b"-ERR max number of clients "
                         b"reached\r\n", "one more")
            finally:
                for x in conns:
                    x.close()
            wait_for(lambda: int(info_field(c, "connected_clients")) == 1,
                     "the connections to go")
        log = open(srv.logpath, errors="replace").read()
        check(log.count("max number of clients reached") <= 2,
              "refused connections are not rate limited in the log")


if __name__ == "__main__":
    akvtest.main(globals(),
                 servers=lambda: {"akv": ArenakvServer(),
                                  "ref": RedisServer()},
                 script_timeout=900)
