#!/usr/bin/python3
"""Process model tests: a supervisor with --port 0 keeps the arena while
workers started by systemd-socket-activate --accept and by inetd (stdin/
stdout) serve the clients; the LOADING answer; SHUTDOWN; settings shared
by all workers; SCAN's guarantee while tables grow.
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RespConn, check, check_eq  # noqa: E402

LONG = 15.0
# Offset of h_state in the arena header (src/arena.h: seven 8-byte fields,
# two 4-byte fields, two 8-byte fields, then h_state).
H_STATE_OFFSET = 7 * 8 + 2 * 4 + 2 * 8
STATE_LOADING, STATE_READY = 1, 2


class Supervisor:
    """arenakv-server --port 0: no listener, only the arena."""

    def __init__(self):
        self.arena = "/dev/shm/arenakv-act-%d-%d" % (os.getpid(),
                                                     int(time.time() * 1e6))
        self.tmp = tempfile.mkdtemp(prefix="akvtest-act-")
        self.log = open(os.path.join(self.tmp, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [akvtest.arenakv_binary(), "--port", "0", "--arena", self.arena,
             "--dir", self.tmp, "--enable-debug-command", "yes"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + LONG
        while time.monotonic() < deadline:
            if self.inetd(b"PING\r\n") == b"+PONG\r\n":
                return
            time.sleep(0.05)
        raise AssertionError("supervisor with --port 0 never became ready")

    def inetd(self, data):
        """One connection served by arenakv-worker --inetd."""
        p = subprocess.run([akvtest.worker_binary(), "--arena", self.arena,
                            "--inetd"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=LONG)
        return p.stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(LONG)
        self.log.close()
        for path in (self.arena,):
            try:
                os.unlink(path)
            except OSError:
                pass


def socket_activate(sup):
    """Start systemd-socket-activate --accept on a free port."""
    tool = akvtest.which("systemd-socket-activate")
    if not tool:
        raise akvtest.SkipTest("systemd-socket-activate not installed")
    port = akvtest.free_port()
    proc = subprocess.Popen(
        [tool, "--accept", "-l", "127.0.0.1:%d" % port,
         akvtest.worker_binary(), "--arena", sup.arena],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + LONG
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("systemd-socket-activate did not listen")


def test_port0_supervisor_with_inetd_and_socket_activation():
    sup = Supervisor()
    try:
        out = sup.inetd(b"SET shared 1\r\nINCR shared\r\nGET shared\r\n")
        check_eq(out, b"+OK\r\n:2\r\n$1\r\n2\r\n", "inetd session")
        proc, port = socket_activate(sup)
        try:
            conns = [RespConn(port, timeout=LONG) for _ in range(5)]
            for c in conns:
                c.command(b"INCR", b"shared")
            pids = set()
            for c in conns:
                info = c.command(b"CLIENT", b"INFO").decode()
                pids.add([f for f in info.split() if f.startswith("pid=")][0])
            check_eq(len(pids), 5, "one worker process per connection")
            with RespConn(port) as c:
                lst = c.command(b"CLIENT", b"LIST").decode()
            check(lst.count("id=") >= 6, "CLIENT LIST sees every worker")
            for c in conns:
                c.close()
        finally:
            proc.terminate()
            proc.wait(LONG)
        check_eq(sup.inetd(b"GET shared\r\n"), b"$1\r\n7\r\n",
                 "inetd worker sees the socket-activated workers' writes")
        check_eq(sup.inetd(b"DEBUG CHECK-ARENA\r\n"), b"*0\r\n",
                 "arena consistent")
    finally:
        sup.stop()


def test_loading_state_is_reported():
    """Until the supervisor marks the arena ready, workers answer
    -LOADING (commands allowed while loading still work)."""
    sup = Supervisor()
    try:
        with open(sup.arena, "r+b") as f:
            f.seek(H_STATE_OFFSET)
            check_eq(struct.unpack("<I", f.read(4))[0], STATE_READY,
                     "h_state of a running arena")
            f.seek(H_STATE_OFFSET)
            f.write(struct.pack("<I", STATE_LOADING))
        out = sup.inetd(b"GET k\r\nPING\r\nINFO persistence\r\n")
        check(out.startswith(b"-LOADING Redis is loading the dataset in "
                             b"memory\r\n"), "GET while loading: %r" % out)
        check(b"-LOADING" in out[40:60] or out.count(b"-LOADING") == 2,
              "PING is refused while loading, as Redis does: %r" % out)
        check(b"loading:1" in out, "INFO persistence says loading:1")
        with open(sup.arena, "r+b") as f:
            f.seek(H_STATE_OFFSET)
            f.write(struct.pack("<I", STATE_READY))
        check_eq(sup.inetd(b"PING\r\n"), b"+PONG\r\n", "ready again")
    finally:
        sup.stop()


def test_no_arena_is_a_clear_error():
    p = subprocess.run([akvtest.worker_binary(), "--arena",
                        "/dev/shm/arenakv-missing-%d" % os.getpid(),
                        "--inetd"], input=b"PING\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=LONG)
    check(p.stdout.startswith(b"-ERR ") and b"arenakv-server" in p.stdout,
          "worker without arena: %r" % p.stdout)
    check(p.returncode != 0, "worker exit status %d" % p.returncode)


def test_shutdown_command_stops_the_supervisor():
    srv = ArenakvServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            c.send_command(b"SHUTDOWN")
            c.wait_closed(LONG)
        srv.proc.wait(LONG)
        check_eq(srv.proc.returncode, 0, "supervisor exit status")
        check("bye bye" in srv.log_tail(5), "clean shutdown logged")
    finally:
        srv.stop()


def test_settings_are_shared_by_all_workers(akv):
    with RespConn(akv.port) as a, RespConn(akv.port) as b:
        check_eq(a.command(b"CONFIG", b"SET", b"maxmemory", b"123mb"),
                 b"+OK\r\n", "CONFIG SET")
        check_eq(b.command(b"CONFIG", b"GET", b"maxmemory"),
                 b"*2\r\n$9\r\nmaxmemory\r\n$9\r\n128974848\r\n",
                 "another worker sees it")
        a.command(b"CONFIG", b"SET", b"requirepass", b"s3cret")
        with RespConn(akv.port) as c:
            check_eq(c.command(b"GET", b"x"),
                     b"-NOAUTH Authentication required.\r\n", "NOAUTH")
            check_eq(c.command(b"AUTH", b"wrong"),
                     b"-WRONGPASS invalid username-password pair or user is "
                     b"disabled.\r\n", "wrong password")
            check_eq(c.command(b"AUTH", b"default", b"s3cret"), b"+OK\r\n",
                     "AUTH user pass")
            check_eq(c.command(b"GET", b"x"), b"$-1\r\n", "after AUTH")
        b.command(b"CONFIG", b"SET", b"requirepass", b"", b"maxmemory", b"0")


def test_maxmemory_refuses_writes_not_reads(akv):
    with RespConn(akv.port) as c:
        c.command(b"SET", b"mm:keep", b"v")
        c.command(b"CONFIG", b"SET", b"maxmemory", b"1")
        try:
            check_eq(c.command(b"SET", b"mm:new", b"v"),
                     b"-OOM command not allowed when used memory > "
                     b"'maxmemory'.\r\n", "write over maxmemory")
            check_eq(c.command(b"GET", b"mm:keep"), b"$1\r\nv\r\n",
                     "reads still work")
            check_eq(c.command(b"DEL", b"mm:keep"), b":1\r\n",
                     "deletes still work")
        finally:
            c.command(b"CONFIG", b"SET", b"maxmemory", b"0")


def test_query_buffer_limit_closes_only_that_client(akv):
    """A request larger than client-query-buffer-limit closes that
    connection (as Redis does); other clients carry on."""
    with RespConn(akv.port) as other, RespConn(akv.port) as admin:
        admin.command(b"CONFIG", b"SET", b"client-query-buffer-limit",
                      b"1mb")
        try:
            big = RespConn(akv.port, timeout=LONG)
            big.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$3000000\r\n")
            try:
                for _ in range(40):
                    big.send_raw(b"x" * 65536)
            except OSError:
                pass
            big.wait_closed(LONG)
            big.close()
            check_eq(other.command(b"PING"), b"+PONG\r\n", "other client")
            check_eq(other.command(b"EXISTS", b"q"), b":0\r\n",
                     "the oversized SET did not happen")
        finally:
            admin.command(b"CONFIG", b"SET", b"client-query-buffer-limit",
                          b"1gb")


def test_scan_returns_every_key_while_tables_grow(akv):
    """Keys present for the whole iteration are all returned, even though
    other clients insert enough keys to rehash every stripe meanwhile."""
    with RespConn(akv.port) as c, RespConn(akv.port) as w:
        c.command(b"SELECT", b"9")
        w.command(b"SELECT", b"9")
        base = [b"base:%d" % i for i in range(3000)]
        for k in base:
            c.send_command(b"SET", k, b"1")
        c.read_replies(len(base))
        seen, cursor, extra, steps = set(), b"0", 0, 0
        while True:
            raw = c.command(b"SCAN", cursor, b"COUNT", b"20")
            parts = raw.split(b"\r\n")
            cursor = parts[2]
            for i in range(5, len(parts) - 1, 2):
                seen.add(parts[i])
            for _ in range(40):
                w.send_command(b"SET", b"grow:%d" % extra, b"x")
                extra += 1
            w.read_replies(40)
            steps += 1
            if cursor == b"0":
                break
        missing = [k for k in base if k not in seen]
        check(not missing, "SCAN missed %d keys, e.g. %r" % (len(missing),
                                                            missing[:3]))
        check(extra > 3000, "the dataset grew during the scan (%d)" % extra)
        c.command(b"FLUSHDB")


def plain(reply):
    """A parsed reply without its type tags."""
    kind, value = reply
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def test_command_docs_is_well_formed(akv):
    with RespConn(akv.port) as c:
        docs = plain(c.call(b"COMMAND", b"DOCS", b"get", b"set", b"client"))
        check(isinstance(docs, list) and len(docs) == 6,
              "COMMAND DOCS: name/doc pairs: %r" % (docs,))
        names = [docs[i] for i in range(0, len(docs), 2)]
        check_eq(names, [b"get", b"set", b"client"], "documented names")
        count = plain(c.call(b"COMMAND", b"COUNT"))
        info = plain(c.call(b"COMMAND", b"INFO", b"get", b"nosuch"))
    check(int(count) > 50, "COMMAND COUNT %r" % count)
    check(info[0][0] == b"get" and int(info[0][1]) == 2 and info[1] is None,
          "COMMAND INFO get nosuch: %r" % (info,))
    # redis-cli starts interactive sessions with COMMAND DOCS: it must not
    # complain when fed commands on stdin.
    p = subprocess.run(["redis-cli", "-p", str(akv.port)],
                       input=b"set cli-key v\nget cli-key\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=LONG)
    check_eq(p.stdout, b"OK\nv\n", "redis-cli session")


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {
        "akv": ArenakvServer(arenakv_args=["--enable-debug-command", "yes"])})
