#!/usr/bin/python3
"""Crash tests: workers killed at every fault-injection point, SIGKILL
storms under load, supervisor restarts that re-attach the live arena.

After every crash the arena is walked by the consistency checker (DEBUG
CHECK-ARENA through the server, and arenakv-server --check-arena on the
file); both must report nothing.  Operations cut short by a crash must be
all-or-nothing: a value is either the old one or the new one.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RespConn, ConnectionClosed,  # noqa: E402
                     check, check_eq)

LONG = 20.0

# Fault points reached before the commit store roll back; the others roll
# forward (see src/stripe.c).
BEFORE_COMMIT = {"chunk-carved", "page-taken", "intent-prepared", "marked"}


def bulk(v):
    return b"$%d\r\n%s\r\n" % (len(v), v)


def arena_problems(akv):
    """Problems reported by the in-server checker (list of lines)."""
    with RespConn(akv.port, timeout=LONG) as c:
        raw = c.command(b"DEBUG", b"CHECK-ARENA")
    check(raw.startswith(b"*"), "DEBUG CHECK-ARENA reply: %r" % raw[:80])
    return [l for l in raw.split(b"\r\n")[1:] if l and not l.startswith(b"$")]


def offline_check(akv):
    """arenakv-server --check-arena on the live arena file."""
    p = subprocess.run([akvtest.arenakv_binary(), "--check-arena", akv.arena],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def assert_clean(akv, what):
    problems = arena_problems(akv)
    check(not problems, "%s: checker found %r" % (what, problems[:5]))
    rc, out = offline_check(akv)
    check_eq(rc, 0, "%s: arenakv-server --check-arena (%s)" % (what, out))


def fault_points(akv):
    with RespConn(akv.port) as c:
        raw = c.command(b"DEBUG", b"FAULTS")
    return [l.decode() for l in raw.split(b"\r\n")[1:]
            if l and not l.startswith(b"$")]


def die_at(akv, point, *commands, nth=1, db=None):
    """Arm `point` on a fresh connection (in `db`), send commands until the
    worker dies.  Returns how many commands were answered before it died."""
    c = RespConn(akv.port, timeout=LONG)
    if db is not None:
        c.command(b"SELECT", b"%d" % db)
    check_eq(c.command(b"DEBUG", b"FAULT", point.encode(), b"%d" % nth),
             b"+OK\r\n", "arm " + point)
    answered = 0
    try:
        for cmd in commands:
            c.command(*cmd)
            answered += 1
    except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
        return answered
    finally:
        c.close()
    raise AssertionError("worker survived fault point %s" % point)


def test_every_point_keeps_overwrite_atomic(akv):
    """SET over an existing key, killed at each point of the mutation."""
    points = fault_points(akv)
    check(len(points) >= 8, "fault points listed: %r" % points)
    big = b"v" * 200000  # needs a fresh page run: reaches page-taken
    for point in points:
        if point in ("elem-applied-half", "free-step"):
            continue  # large containers only: tests/unit/test_container.c
        key = b"fp:" + point.encode()
        with RespConn(akv.port) as c:
            c.command(b"SET", key, b"old")
        if point in ("rehash-step", "table-swap"):
            # Grow tables until a rehash step / table swap happens.
            cmds = [(b"SET", b"grow:%s:%d" % (key, i), b"x")
                    for i in range(20000)]
        elif point == "chunk-freed":
            cmds = [(b"DEL", key)]
        elif point == "page-taken":
            cmds = [(b"SET", key, big)]
        else:
            cmds = [(b"SET", key, b"new")]
        die_at(akv, point, *cmds)
        assert_clean(akv, "after death at " + point)
        with RespConn(akv.port) as c:
            got = c.command(b"GET", key)
        if point == "chunk-freed":
            check(got in (b"$-1\r\n", bulk(b"old")), "DEL at %s left %r"
                  % (point, got[:40]))
        elif point == "page-taken":
            check_eq(got, bulk(b"old"), "value after death at page-taken")
        elif point in ("rehash-step", "table-swap"):
            check_eq(got, bulk(b"old"), "unrelated key after " + point)
        elif point in BEFORE_COMMIT:
            check_eq(got, bulk(b"old"), "rolled back at " + point)
        else:
            check_eq(got, bulk(b"new"), "rolled forward at " + point)
    with RespConn(akv.port) as c:
        info = c.command(b"INFO", b"stats").decode()
    check("arena_repairs:0\r\n" not in info, "repairs were counted")


def test_multi_key_ops_are_all_or_nothing(akv):
    """MSET and RENAME span stripes; a death leaves all or none applied."""
    keys = [b"mk:%d" % i for i in range(16)]
    for point in ("intent-prepared", "marked", "committed", "applied-half",
                  "applied"):
        with RespConn(akv.port) as c:
            c.command(b"MSET", *[x for k in keys for x in (k, b"0")])
        args = [x for k in keys for x in (k, b"1")]
        die_at(akv, point, (b"MSET", *args))
        assert_clean(akv, "MSET death at " + point)
        with RespConn(akv.port) as c:
            vals = [c.command(b"GET", k) for k in keys]
        want = bulk(b"0") if point in BEFORE_COMMIT else bulk(b"1")
        check(all(v == want for v in vals), "MSET at %s: %r" % (point, vals))

        with RespConn(akv.port) as c:
            c.command(b"SET", b"rn:src", b"payload")
            c.command(b"SET", b"rn:dst", b"previous")
        die_at(akv, point, (b"RENAME", b"rn:src", b"rn:dst"))
        assert_clean(akv, "RENAME death at " + point)
        with RespConn(akv.port) as c:
            src = c.command(b"GET", b"rn:src")
            dst = c.command(b"GET", b"rn:dst")
        if point in BEFORE_COMMIT:
            check((src, dst) == (bulk(b"payload"), bulk(b"previous")),
                  "RENAME rolled back at %s: %r %r" % (point, src, dst))
        else:
            check((src, dst) == (b"$-1\r\n", bulk(b"payload")),
                  "RENAME rolled forward at %s: %r %r" % (point, src, dst))


def test_flush_and_expire_survive_deaths(akv):
    for point in ("intent-prepared", "committed", "applied"):
        with RespConn(akv.port) as c:
            c.command(b"SELECT", b"5")
            for i in range(200):
                c.command(b"SET", b"fl:%d" % i, b"x")
            c.command(b"SET", b"ex:k", b"v")
        die_at(akv, point, (b"FLUSHDB",), db=5)
        assert_clean(akv, "FLUSHDB death at " + point)
        with RespConn(akv.port) as c:
            c.command(b"SELECT", b"5")
            n = int(c.command(b"DBSIZE")[1:-2])
        check_eq(n, 201 if point in BEFORE_COMMIT else 0,
                 "DBSIZE after FLUSHDB death at " + point)
        with RespConn(akv.port) as c:
            c.command(b"SELECT", b"5")
            c.command(b"SET", b"ex:k", b"v")
        die_at(akv, point, (b"EXPIRE", b"ex:k", b"1000"), db=5)
        assert_clean(akv, "EXPIRE death at " + point)
        with RespConn(akv.port) as c:
            c.command(b"SELECT", b"5")
            ttl = int(c.command(b"TTL", b"ex:k")[1:-2])
            c.command(b"FLUSHDB")
        if point in BEFORE_COMMIT:
            check_eq(ttl, -1, "EXPIRE rolled back")
        else:
            check(990 <= ttl <= 1000, "EXPIRE rolled forward: ttl %d" % ttl)


def test_append_in_place_is_atomic(akv):
    """APPEND that grows a value inside its chunk publishes the new length
    only at the commit: a death leaves the old or the whole new value."""
    for point in ("intent-prepared", "marked", "committed", "applied"):
        key = b"ap:" + point.encode()
        with RespConn(akv.port) as c:
            c.command(b"SET", key, b"abc")
            # Outgrows its chunk: moved to one with room to grow in place.
            c.command(b"APPEND", key, b"d" * 10)
        die_at(akv, point, (b"APPEND", key, b"xyz"))
        assert_clean(akv, "APPEND death at " + point)
        with RespConn(akv.port) as c:
            got = c.command(b"GET", key)
        want = b"abc" + b"d" * 10
        if point not in BEFORE_COMMIT:
            want += b"xyz"
        check_eq(got, bulk(want), "APPEND at " + point)
    with RespConn(akv.port) as c:
        c.command(b"DEL", b"ap:log")
        for i in range(2000):
            c.send_command(b"APPEND", b"ap:log", b"%05d" % i)
        c.read_replies(2000)
        check_eq(c.command(b"STRLEN", b"ap:log"), b":10000\r\n",
                 "2000 appends")
        val = c.command(b"GET", b"ap:log").split(b"\r\n")[1]
        check(val == b"".join(b"%05d" % i for i in range(2000)),
              "appended bytes in order")
        check_eq(c.command(b"OBJECT", b"ENCODING", b"ap:log"),
                 b"$3\r\nraw\r\n", "appended value is raw")


def client_pid(conn):
    info = conn.command(b"CLIENT", b"INFO").decode(errors="replace")
    for field in info.split():
        if field.startswith("pid="):
            return int(field[4:])
    raise AssertionError("CLIENT INFO has no pid: %r" % info)


def test_sigkill_storm_under_load(akv):
    """Writers that are never killed must see no error and exact totals
    while other workers are SIGKILLed at random instants."""
    stop = threading.Event()
    errors = []
    done = {}

    def steady(idx):
        n = 0
        try:
            with RespConn(akv.port, timeout=LONG) as c:
                while not stop.is_set():
                    c.command(b"INCR", b"storm:steady")
                    c.command(b"SET", b"storm:s%d" % idx, b"%d" % n)
                    n += 1
        except Exception as e:  # noqa: B902
            errors.append("steady %d: %r" % (idx, e))
        done[idx] = n

    def victim_loop():
        rng = random.Random(7)
        kills = 0
        while not stop.is_set():
            try:
                c = RespConn(akv.port, timeout=LONG)
                pid = client_pid(c)
                # Keep the victim busy with multi-key writes, then kill it
                # at an arbitrary instant.
                t = threading.Thread(target=_busy, args=(c,), daemon=True)
                t.start()
                time.sleep(rng.uniform(0.001, 0.02))
                os.kill(pid, signal.SIGKILL)
                t.join(LONG)
                c.close()
                kills += 1
            except Exception as e:  # noqa: B902
                errors.append("victim: %r" % e)
        done["kills"] = kills

    def _busy(c):
        i = 0
        try:
            while True:
                c.command(b"MSET", b"storm:a%d" % (i % 50), b"%d" % i,
                          b"storm:b%d" % (i % 50), b"%d" % i)
                c.command(b"INCR", b"storm:victim")
                c.command(b"DEL", b"storm:a%d" % ((i + 7) % 50))
                i += 1
        except Exception:  # noqa: B902 - the kill ends it
            pass

    threads = [threading.Thread(target=steady, args=(i,)) for i in range(3)]
    threads.append(threading.Thread(target=victim_loop))
    for t in threads:
        t.start()
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join(LONG)
    check(not errors, "errors seen: %r" % errors[:5])
    check(done.get("kills", 0) >= 20, "only %r kills" % done.get("kills"))
    with RespConn(akv.port) as c:
        total = int(c.command(b"GET", b"storm:steady").split(b"\r\n")[1])
    check_eq(total, sum(done[i] for i in range(3)), "steady INCR total")
    assert_clean(akv, "after the SIGKILL storm")


def test_random_kills_at_armed_points(akv):
    """Kill workers at armed points while other clients keep writing."""
    rng = random.Random(11)
    points = fault_points(akv)
    stop = threading.Event()
    errors = []
    count = [0]

    def steady():
        try:
            with RespConn(akv.port, timeout=LONG) as c:
                while not stop.is_set():
                    c.command(b"INCR", b"armed:steady")
                    count[0] += 1
        except Exception as e:  # noqa: B902
            errors.append(repr(e))

    t = threading.Thread(target=steady)
    t.start()
    try:
        for _ in range(40):
            point = rng.choice(points)
            c = RespConn(akv.port, timeout=LONG)
            c.command(b"DEBUG", b"FAULT", point.encode(),
                      b"%d" % rng.randint(1, 5))
            try:
                for i in range(3000):
                    k = b"armed:%d" % rng.randint(0, 3000)
                    op = rng.randint(0, 3)
                    if op == 0:
                        c.command(b"SET", k, b"x" * rng.randint(1, 3000))
                    elif op == 1:
                        c.command(b"DEL", k)
                    elif op == 2:
                        c.command(b"MSET", k, b"1", k + b"b", b"2")
                    else:
                        c.command(b"APPEND", k, b"tail")
            except (ConnectionClosed, ConnectionResetError):
                pass
            c.close()
    finally:
        stop.set()
        t.join(LONG)
    check(not errors, "steady client saw %r" % errors[:3])
    with RespConn(akv.port) as c:
        got = int(c.command(b"GET", b"armed:steady").split(b"\r\n")[1])
    check_eq(got, count[0], "steady INCR total")
    assert_clean(akv, "after armed kills")


def test_dead_worker_slot_is_reaped(akv):
    c = RespConn(akv.port)
    pid = client_pid(c)
    os.kill(pid, signal.SIGKILL)
    c.close()
    deadline = time.monotonic() + LONG
    while time.monotonic() < deadline:
        with RespConn(akv.port) as q:
            lst = q.command(b"CLIENT", b"LIST").decode(errors="replace")
        if "pid=%d " % pid not in lst and "pid=%d\n" % pid not in lst:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("slot of dead worker %d still listed" % pid)


def test_supervisor_restart_reattaches(akv):
    with RespConn(akv.port) as c:
        for i in range(1000):
            c.command(b"SET", b"keep:%d" % i, b"%d" % i)
        c.command(b"SET", b"keep:ttl", b"t", b"EX", b"5000")
    for how in (signal.SIGTERM, signal.SIGKILL):
        akv.proc.send_signal(how)
        akv.proc.wait(LONG)
        akv._reap_group()
        akv.start()
        with RespConn(akv.port) as c:
            check_eq(c.command(b"GET", b"keep:999"), bulk(b"999"),
                     "key after restart by signal %d" % how)
            ttl = int(c.command(b"TTL", b"keep:ttl")[1:-2])
            check(4900 < ttl <= 5000, "TTL kept across restart: %d" % ttl)
        check("Re-attached live arena" in akv.log_tail(20),
              "log says the arena was re-attached")
    assert_clean(akv, "after supervisor restarts")


def test_layout_mismatch_is_refused():
    """An arena of another layout is refused with a clear message."""
    srv = ArenakvServer()
    srv.start()
    srv.stop_keep_arena = True
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(LONG)
    with open(srv.arena, "r+b") as f:
        f.seek(8)
        f.write(b"\xff" * 8)  # h_layout
    p = subprocess.run([akvtest.arenakv_binary(), "--port", "0", "--arena",
                        srv.arena], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=LONG)
    out = p.stdout.decode(errors="replace")
    check(p.returncode != 0, "server started on a foreign arena")
    check("layout" in out and "--reset-arena" in out,
          "message explains: %r" % out[-300:])
    w = subprocess.run([akvtest.worker_binary(), "--arena", srv.arena,
                        "--inetd"], input=b"PING\r\n", stdout=subprocess.PIPE,
                       timeout=LONG)
    check(w.stdout.startswith(b"-ERR ") and b"layout" in w.stdout,
          "worker refuses: %r" % w.stdout)
    os.unlink(srv.arena)
    w = subprocess.run([akvtest.worker_binary(), "--arena", srv.arena,
                        "--inetd"], input=b"PING\r\n", stdout=subprocess.PIPE,
                       timeout=LONG)
    check(w.stdout.startswith(b"-ERR ") and b"arena" in w.stdout,
          "worker without arena says so: %r" % w.stdout)
    srv.stop()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {
        "akv": ArenakvServer(arenakv_args=["--enable-debug-command", "yes",
                                           "--hz", "20"])},
        script_timeout=600)
