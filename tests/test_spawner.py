#!/usr/bin/python3
"""arenakv-spawner: the process that accepts connections for a standalone
server and forks their workers.

It must map nothing but libc and the arena (that is why it exists), it
must be replaced when it dies, it must die with the supervisor without
taking connections with it, and the supervisor must accept by itself
when the spawner cannot run."""

import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RespConn, check, check_eq  # noqa: E402

LONG = 15.0


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        head, rest = f.read().rsplit(")", 1)
    return head.split("(", 1)[1], rest.split()


def children(pid):
    """[(pid, command name)] of the live children of pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            comm, fields = stat_fields(int(name))
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append((int(name), comm))
    return out


def wait_for(what, predicate, timeout=LONG):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for %s" % what)


def spawner_of(srv):
    kids = [p for p, comm in children(srv.pid) if comm == "arenakv-spawner"]
    return kids[0] if len(kids) == 1 else None


def mapped_libraries(pid):
    with open("/proc/%d/maps" % pid) as f:
        return {os.path.basename(line.split()[-1]) for line in f
                if ".so" in line.split()[-1]}


def ping(conn):
    check_eq(conn.command(b"PING"), b"+PONG\r\n", "PING")


def with_env(name, value, fn):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return fn()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def test_workers_come_from_a_spawner_that_maps_only_libc():
    with ArenakvServer() as srv, RespConn(srv.port) as c:
        ping(c)
        sp = wait_for("the spawner", lambda: spawner_of(srv))
        check_eq([p for p, _ in children(srv.pid)], [sp],
                 "the supervisor's only child")
        workers = wait_for("the worker", lambda: children(sp))
        check_eq(len(workers), 1, "one worker per connection")
        for pid in (sp, workers[0][0]):
            libs = mapped_libraries(pid)
            heavy = [l for l in libs if "sqlite" in l or "systemd" in l]
            check(not heavy, "process %d maps %r" % (pid, heavy))
            check(any(l.startswith("libc.so") for l in libs),
                  "process %d maps libc (%r)" % (pid, libs))


def test_a_killed_spawner_is_replaced_and_connections_survive():
    with ArenakvServer() as srv, RespConn(srv.port) as c:
        check_eq(c.command(b"SET", b"k", b"before"), b"+OK\r\n", "SET")
        sp = wait_for("the spawner", lambda: spawner_of(srv))
        os.kill(sp, signal.SIGKILL)
        new = wait_for("a new spawner",
                       lambda: (spawner_of(srv) or sp) != sp and spawner_of(srv))
        check(new != sp, "the spawner was replaced")
        ping(c)  # the open connection was not the spawner's to lose
        with RespConn(srv.port) as d:
            check_eq(d.command(b"GET", b"k"), b"$6\r\nbefore\r\n", "GET")
        check("connection spawner exited" in srv.log_tail(20),
              "the death is logged")


def test_supervisor_accepts_itself_when_the_spawner_cannot_run():
    for value, logged in (("none", None),
                          ("/nonexistent/arenakv-spawner", "Cannot start")):
        srv = with_env("ARENAKV_SPAWNER", value,
                       lambda: ArenakvServer().start())
        try:
            with RespConn(srv.port) as c:
                ping(c)
                workers = wait_for("the worker", lambda: children(srv.pid))
                check(all(comm != "arenakv-spawner" for _, comm in workers),
                      "no spawner with ARENAKV_SPAWNER=%s" % value)
            if logged:
                check(logged in srv.log_tail(20), "%r logged" % logged)
        finally:
            srv.stop()


def test_shutdown_ends_the_spawner_and_its_workers():
    srv = ArenakvServer().start()
    try:
        c = RespConn(srv.port)
        ping(c)
        sp = wait_for("the spawner", lambda: spawner_of(srv))
        worker = wait_for("the worker", lambda: children(sp))[0][0]
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(LONG)
        check_eq(srv.proc.returncode, 0, "supervisor exit status")
        c.wait_closed(LONG)
        c.close()
        for pid in (sp, worker):
            wait_for("process %d to end" % pid,
                     lambda: not os.path.exists("/proc/%d" % pid) or
                     stat_fields(pid)[1][0] == "Z")
    finally:
        srv.stop()


def test_supervisor_death_frees_the_port_and_spares_connections():
    first = ArenakvServer().start()
    second = None
    try:
        c = RespConn(first.port)
        check_eq(c.command(b"SET", b"k", b"kept"), b"+OK\r\n", "SET")
        sp = wait_for("the spawner", lambda: spawner_of(first))
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait(LONG)
        wait_for("the spawner to follow its supervisor",
                 lambda: not os.path.exists("/proc/%d" % sp) or
                 stat_fields(sp)[1][0] == "Z")
        ping(c)  # the worker outlives both
        # Nothing listens any more: a new supervisor binds the same port
        # and re-attaches the arena.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", first.port))
        finally:
            s.close()
        second = ArenakvServer(port=first.port)
        second.arena = first.arena
        second.start()
        with RespConn(second.port) as d:
            check_eq(d.command(b"GET", b"k"), b"$4\r\nkept\r\n", "GET")
        c.close()
    finally:
        if second:
            second.stop()
        first.stop()


def test_restart_right_after_a_kill_binds_the_port():
    """The killed supervisor's spawner may still be exiting, holding the
    listening socket, when the next supervisor binds: it must wait for the
    port instead of failing.  The window is short, so try many times."""
    srv = ArenakvServer().start()
    try:
        for _ in range(20):
            os.kill(srv.pid, signal.SIGKILL)
            srv.proc.wait(LONG)
            srv.requested_port = srv.port
            srv._logfile.close()
            srv.start()  # raises if it cannot answer PING
            with RespConn(srv.port) as c:
                ping(c)
    finally:
        srv.stop()


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=300)
