#!/usr/bin/python3
"""Every shared lock survives a holder that dies inside it.

A worker is killed (DEBUG FAULT) inside the critical section of each lock
that is not a stripe's -- the snapshot barrier, the AOF ring, the page
allocator, the configuration -- and of a stripe; afterwards every later
command works, what the dead holder was doing is finished or undone as
its lock's recovery promises, the arena checker finds nothing, and the
AOF replays to the same dataset.

Also: ending an op never recurses, even when its lazy deletions are too
large for the AOF ring."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RespConn, ConnectionClosed,  # noqa: E402
                     check, check_eq)

LONG = 30.0


class LockServer(ArenakvServer):
    """AOF on, debug commands, a data dir that survives restarts."""

    def __init__(self, *extra):
        super().__init__(arenakv_args=["--enable-debug-command", "yes"])
        self.datadir = tempfile.mkdtemp(prefix="akvtest-locks-")
        self.extra_locks = ["--appendonly", "yes", "--save", ""] + list(extra)

    def _command(self):
        cmd = super()._command()
        cmd[cmd.index("--dir") + 1] = self.datadir
        return cmd + self.extra_locks

    def remove_data(self):
        shutil.rmtree(self.datadir, ignore_errors=True)


def die_at(akv, point, *commands):
    """Arm `point` on a fresh connection and send commands until the
    worker dies; fails if it survives them all."""
    c = RespConn(akv.port, timeout=LONG)
    check_eq(c.command(b"DEBUG", b"FAULT", point.encode()), b"+OK\r\n",
             "arm " + point)
    try:
        for cmd in commands:
            c.command(*cmd)
    except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
        return
    finally:
        c.close()
    raise AssertionError("worker survived fault point %s" % point)


def assert_clean(akv, what):
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                 "%s: in-server checker" % what)
    p = subprocess.run([akvtest.arenakv_binary(), "--check-arena", akv.arena],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=LONG)
    check_eq(p.returncode, 0, "%s: offline checker: %s" % (what, p.stdout))


def everything_works(akv, what):
    """Commands that take every kind of lock, from a new connection."""
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"PING"), b"+PONG\r\n", what + ": PING")
        check_eq(c.command(b"SET", b"after", b"x" * 100000), b"+OK\r\n",
                 what + ": SET of a page run (pages, ring, stripe)")
        check_eq(c.command(b"MSET", b"a1", b"1", b"a2", b"2", b"a3", b"3"),
                 b"+OK\r\n", what + ": MSET")
        check_eq(c.command(b"CONFIG", b"SET", b"maxmemory-samples", b"5"),
                 b"+OK\r\n", what + ": CONFIG SET (configuration)")
        check(c.command(b"CONFIG", b"GET", b"*").startswith(b"*"),
              what + ": CONFIG GET")
        c.command(b"SELECT", b"9")
        check_eq(c.command(b"FLUSHDB"), b"+OK\r\n",
                 what + ": FLUSHDB (barrier, every stripe)")
        check_eq(c.command(b"SWAPDB", b"9", b"10"), b"+OK\r\n",
                 what + ": SWAPDB")
    assert_clean(akv, what)


def wait_log(akv, needle):
    deadline = time.monotonic() + LONG
    while True:
        with open(akv.logpath, "rb") as f:
            if needle in f.read():
                return
        check(time.monotonic() < deadline, "log line %r" % needle)
        time.sleep(0.05)


def config_get(akv, name):
    with RespConn(akv.port, timeout=LONG) as c:
        return akvtest.to_python(akvtest.parse_reply(
            c.command(b"CONFIG", b"GET", name)))[1]


def test_barrier_holder_dies(akv):
    """Killed holding the snapshot barrier before any stripe: FLUSHALL
    did not happen; the barrier is free for the next db-wide op and for
    a rewrite."""
    with RespConn(akv.port, timeout=LONG) as c:
        c.command(b"SET", b"survivor", b"1")
    die_at(akv, "barrier-held", (b"FLUSHALL",))
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"GET", b"survivor"), b"$1\r\n1\r\n",
                 "FLUSHALL rolled back")
        check_eq(c.command(b"BGREWRITEAOF")[:1], b"+", "rewrite starts")
    wait_log(akv, b"rewrite finished successfully")
    everything_works(akv, "barrier-held")


def test_ring_holder_dies(akv):
    """Killed inside the ring's reservation (filler written, head not
    moved): nothing was reserved, the SET did not happen, the next
    writers reserve and the drainer goes on."""
    with RespConn(akv.port, timeout=LONG) as c:
        c.command(b"SET", b"ringkey", b"old")
    die_at(akv, "ring-reserving", (b"SET", b"ringkey", b"new"))
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"GET", b"ringkey"), b"$3\r\nold\r\n",
                 "SET rolled back")
        for i in range(2000):
            c.send_command(b"SET", b"ring:%d" % i, b"v" * (i % 97))
        replies = c.read_replies(2000)
        check(all(r == b"+OK\r\n" for r in replies), "writes after the death")
    everything_works(akv, "ring-reserving")


def test_page_allocator_holder_dies(akv):
    """Killed holding the page allocator with a run half taken: the bins
    are rebuilt, the half-taken run goes back when its stripe is repaired."""
    die_at(akv, "page-taken", (b"SET", b"bigpage", b"p" * 300000))
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"EXISTS", b"bigpage"), b":0\r\n",
                 "SET rolled back")
    everything_works(akv, "page-taken")


def test_config_publisher_dies_before_copy(akv):
    """Killed with the new configuration staged but not yet copied: the
    next locker rolls the change forward (CONFIG SET was all or nothing:
    here, all)."""
    die_at(akv, "config-publishing",
           (b"CONFIG", b"SET", b"maxmemory-samples", b"7",
            b"save", b"100 5"))
    check_eq(config_get(akv, b"maxmemory-samples"), b"7", "number kept")
    check_eq(config_get(akv, b"save"), b"100 5", "string kept")
    wait_log(akv, b"Finished a configuration change whose writer died")
    everything_works(akv, "config-publishing")


def test_config_publisher_dies_mid_copy(akv):
    """Killed with half of the live configuration overwritten: no reader
    sees the torn copy; every option has its new value."""
    die_at(akv, "config-half-copied",
           (b"CONFIG", b"SET", b"maxmemory-samples", b"9",
            b"requirepass", b"sekrit", b"save", b"60 1"))
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"AUTH", b"sekrit"), b"+OK\r\n",
                 "the new password is whole")
        got = akvtest.to_python(akvtest.parse_reply(c.command(
            b"CONFIG", b"GET", b"*")))
        cfg = dict(zip(got[::2], got[1::2]))
        check_eq(cfg[b"maxmemory-samples"], b"9", "number rolled forward")
        check_eq(cfg[b"save"], b"60 1", "string rolled forward")
        check_eq(c.command(b"CONFIG", b"SET", b"requirepass", b""),
                 b"+OK\r\n", "password cleared")
    everything_works(akv, "config-half-copied")


def test_stripe_holder_dies(akv):
    """Killed holding a stripe after the commit point: rolled forward."""
    die_at(akv, "committed", (b"SET", b"stripekey", b"committed"))
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"GET", b"stripekey"), b"$9\r\ncommitted\r\n",
                 "SET rolled forward")
    everything_works(akv, "committed")


def test_lazy_deletions_larger_than_the_ring():
    """MGET of more expired keys than one record of DELs can carry on the
    smallest ring: the old op end retried the commit from the abort and
    the abort from the commit without bound.  Now the read answers, the
    deletions are dropped, and the keys are still gone to every reader
    until the expiry cycle deletes them in smaller ops."""
    akv = LockServer("--aof-ring-size", "1mb")
    akv.start()
    try:
        n = 40000  # ~35 bytes of DEL each: more than half of 1 MB
        keys = [b"lazy:%06d" % i for i in range(n)]
        with RespConn(akv.port, timeout=LONG) as c:
            check_eq(c.command(b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"),
                     b"+OK\r\n", "active expiry off")
            for k in keys:
                c.send_command(b"SET", k, b"v", b"PX", b"50")
            c.read_replies(n)
            time.sleep(0.2)  # let them all expire
            r = akvtest.parse_reply(c.command(b"MGET", *keys))
            check_eq(r[0], "*", "MGET answered an array")
            check(all(v == ("$", None) for v in r[1]), "all expired")
            check_eq(c.command(b"EXISTS", keys[0]), b":0\r\n",
                     "still gone to a reader")
            check_eq(c.command(b"DEBUG", b"SET-ACTIVE-EXPIRE", b"1"),
                     b"+OK\r\n", "active expiry on")
            deadline = time.monotonic() + LONG
            while c.command(b"DBSIZE") != b":0\r\n":
                check(time.monotonic() < deadline, "expiry deletes them")
                time.sleep(0.1)
        assert_clean(akv, "after the MGET")
        with open(akv.logpath, "rb") as f:
            check(b"killed by signal" not in f.read(), "no worker died")
    finally:
        akv.stop()
        akv.remove_data()


if __name__ == "__main__":
    def servers():
        akv = LockServer()
        atexit.register(akv.remove_data)
        return {"akv": akv}

    akvtest.main(globals(), servers, script_timeout=600)
