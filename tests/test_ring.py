#!/usr/bin/python3
"""The AOF ring under load: many wraps with records of every size, and a
supervisor (the ring's only drainer) stopped while writers fill the ring.

After each, the arena checker must find nothing, no worker may have died,
and the AOF must replay to the live dataset."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RespConn, check, check_eq  # noqa: E402

LONG = 120.0


class RingServer(ArenakvServer):
    """AOF on, a 1 MB ring, and a data dir that survives restarts."""

    def __init__(self, *extra):
        super().__init__(arenakv_args=["--enable-debug-command", "yes"])
        self.datadir = tempfile.mkdtemp(prefix="akvtest-ring-")
        self.extra_ring = ["--appendonly", "yes", "--save", "",
                           "--aof-ring-size", "1mb"] + list(extra)

    def _command(self):
        cmd = super()._command()
        cmd[cmd.index("--dir") + 1] = self.datadir
        return cmd + self.extra_ring

    def reboot(self):
        """Stop, lose the arena (as a reboot empties tmpfs), start again:
        the dataset comes back from the AOF alone."""
        self.stop()
        self.start()

    def remove_data(self):
        shutil.rmtree(self.datadir, ignore_errors=True)


def checker(akv):
    """Run the standalone checker on the live arena file."""
    p = subprocess.run([akvtest.arenakv_binary(), "--check-arena", akv.arena],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=LONG)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode == 0 and "0 problem(s)" in out,
          "arena checker found problems:\n%s" % out[-2000:])


def no_worker_died(akv):
    with open(akv.logpath, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    bad = [l for l in log.splitlines()
           if "killed by signal" in l or "Repaired stripe" in l]
    check(not bad, "workers died: %s" % bad[:5])


def benchmark(port, *args):
    tool = akvtest.require_tool("redis-benchmark")
    p = subprocess.run([tool, "-p", str(port), "-q"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode == 0, "redis-benchmark failed: %s" % out[-500:])
    check("error" not in out.lower(), "redis-benchmark saw errors: %s"
          % out[-500:])
    return out


def dbsize(port):
    with RespConn(port, timeout=LONG) as c:
        return int(c.command(b"DBSIZE")[1:-2])


def digest(port):
    """Every key and value of db 0, for comparing two servers' datasets."""
    out = {}
    with RespConn(port, timeout=LONG) as c:
        cursor = b"0"
        while True:
            r = akvtest.to_python(akvtest.parse_reply(
                c.command(b"SCAN", cursor, b"COUNT", b"1000")))
            cursor, keys = r
            for k in keys:
                c.send_command(b"GET", k)
            for k, v in zip(keys, c.read_replies(len(keys))):
                out[k] = v
            if cursor == b"0":
                return out


def wait_drained(akv):
    """Until the ring holds nothing the file does not have."""
    deadline = time.monotonic() + LONG
    with RespConn(akv.port, timeout=LONG) as c:
        while True:
            info = c.command(b"INFO", b"persistence").decode()
            fields = dict(l.split(":", 1) for l in info.split("\r\n")
                          if ":" in l)
            if fields.get("aof_buffer_length") == "0":
                return
            check(time.monotonic() < deadline, "ring drained")
            time.sleep(0.05)


def test_many_wraps_keep_the_arena_whole():
    """The smallest ring, so records of every length wrap it hundreds of
    times (value sizes chosen so the bytes left at the ring's end take
    many values), then a rewrite and a cold load from the files."""
    akv = RingServer()
    akv.start()
    try:
        for size in (3, 100, 333, 1000, 4097):
            benchmark(akv.port, "-t", "set", "-r", "200000", "-n", "60000",
                      "-d", str(size), "-c", "4", "-P", "8")
        # INCR and MSET make records of other lengths again.
        benchmark(akv.port, "-t", "incr,mset", "-r", "50000", "-n", "60000",
                  "-c", "4", "-P", "8")
        with RespConn(akv.port, timeout=LONG) as c:
            check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                     "arena consistent")
        checker(akv)
        no_worker_died(akv)
        wait_drained(akv)
        live = digest(akv.port)
        check(len(live) > 10000, "keys written (%d)" % len(live))

        # A cold load replays what the ring wrote to the file.
        akv.reboot()
        check_eq(digest(akv.port), live, "AOF replays to the live dataset")

        # Compaction copies every stripe; a damaged stripe failed it
        # (UNIQUE constraint, a key found twice).
        with RespConn(akv.port, timeout=LONG) as c:
            check_eq(c.command(b"BGREWRITEAOF")[:1], b"+", "rewrite starts")
        deadline = time.monotonic() + LONG
        while True:
            with open(akv.logpath, "rb") as f:
                log = f.read()
            if b"rewrite finished successfully" in log:
                break
            check(b"rewrite failed" not in log, "rewrite failed")
            check(time.monotonic() < deadline, "rewrite ends")
            time.sleep(0.05)
        akv.reboot()
        check_eq(digest(akv.port), live, "base + AOF load the live dataset")
        checker(akv)
    finally:
        akv.stop()
        akv.remove_data()


def test_stopped_supervisor_makes_writers_wait():
    """SIGSTOP the supervisor while three clients write: the ring (1 MB)
    fills in well under a second, writers wait for room, and after
    SIGCONT every write completes; no worker crashes."""
    akv = RingServer("--appendfsync", "everysec")
    akv.start()
    try:
        tool = akvtest.require_tool("redis-benchmark")
        bench = subprocess.Popen(
            [tool, "-p", str(akv.port), "-q", "-t", "set", "-r", "100000",
             "-n", "150000", "-d", "100", "-c", "3"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            time.sleep(0.5)
            os.kill(akv.pid, signal.SIGSTOP)
            # Wait until the ring is full: writes stop making progress.
            with RespConn(akv.port, timeout=LONG) as c:
                c.command(b"PING")  # reads do not need the ring
            time.sleep(3)
            check(bench.poll() is None, "writers were still waiting")
        finally:
            os.kill(akv.pid, signal.SIGCONT)
        out, _ = bench.communicate(timeout=LONG)
        out = out.decode("utf-8", "replace")
        check(bench.returncode == 0 and "error" not in out.lower(),
              "writers finished without error: %s" % out[-500:])
        no_worker_died(akv)
        with RespConn(akv.port, timeout=LONG) as c:
            check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                     "arena consistent")
        checker(akv)
        wait_drained(akv)
        live = digest(akv.port)
        akv.reboot()
        check_eq(digest(akv.port), live, "AOF replays to the live dataset")
    finally:
        akv.stop()
        akv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {}, script_timeout=900)
