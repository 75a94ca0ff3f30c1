#!/usr/bin/python3
"""Durability: the append-only file written through the arena's ring.

Each test runs its own server with appendonly yes.  "Reboot" means: kill
the supervisor and every worker with SIGKILL, remove the arena file (what a
reboot does to tmpfs) and start again, so the dataset can only come back
from the AOF.
"""

import os
import random
import shutil
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


class AofServer(ArenakvServer):
    """arenakv-server with appendonly yes whose data dir survives
    restarts (the harness's temp dir is per start)."""

    def __init__(self, *args, fsync="everysec", extra=(), **kw):
        super().__init__(*args, **kw)
        self.datadir = os.path.join(
            "/tmp", "akvtest-aof-%d-%d" % (os.getpid(), time.monotonic_ns()))
        os.makedirs(self.datadir)
        self.fsync = fsync
        self.extra_aof = list(extra)

    def _command(self):
        cmd = super()._command()
        i = cmd.index("--dir")
        cmd[i + 1] = self.datadir
        return cmd + ["--appendonly", "yes", "--appendfsync", self.fsync,
                      "--enable-debug-command", "yes"] + self.extra_aof

    @property
    def incr_file(self):
        """The incremental file being written: the manifest's last one."""
        d = os.path.join(self.datadir, "appendonlydir")
        name = "appendonly.aof.1.incr.aof"
        try:
            with open(os.path.join(d, "appendonly.aof.manifest")) as f:
                for line in f:
                    if line.split()[-1:] == ["i"]:
                        name = line.split()[1]
        except OSError:
            pass
        return os.path.join(d, name)

    def crash(self, reboot):
        """SIGKILL the supervisor and all its workers; with reboot, the
        arena goes too."""
        os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(LONG)
        self._reap_group()
        if reboot:
            os.unlink(self.arena)

    def restart(self):
        self.start()
        return self

    def remove_data(self):
        shutil.rmtree(self.datadir, ignore_errors=True)


def dump(port, dbs=(0, 1, 2), conn=None):
    """Every key of the given dbs with value and expiry (ms, absolute)."""
    out = {}
    c = conn or RespConn(port, timeout=LONG)
    try:
        for db in dbs:
            c.command(b"SELECT", b"%d" % db)
            keys = akvtest.parse_reply(c.command(b"KEYS", b"*"))[1]
            for _, k in keys:
                v = c.command(b"GET", k)
                x = c.command(b"PEXPIRETIME", k)
                out[(db, k)] = (v, x)
    finally:
        if conn is None:
            c.close()
    return out


def workload(port, seed, n=2000):
    """A mix of every kind of write, including ones whose effect depends on
    the clock or on earlier state (INCR, APPEND, relative expiries)."""
    rng = random.Random(seed)
    with RespConn(port, timeout=LONG) as c:
        for i in range(n):
            db = rng.choice((0, 0, 1, 2))
            k = b"k%d" % rng.randint(0, 200)
            op = rng.randint(0, 11)
            c.command(b"SELECT", b"%d" % db)
            if op == 0:
                c.command(b"SET", k, os.urandom(rng.randint(0, 300)))
            elif op == 1:
                c.command(b"INCR", b"n%d" % rng.randint(0, 20))
            elif op == 2:
                c.command(b"APPEND", k, b"x" * rng.randint(1, 50))
            elif op == 3:
                c.command(b"SET", k, b"v", b"EX", b"%d" % rng.randint(100,
                                                                      9999))
            elif op == 4:
                c.command(b"DEL", k)
            elif op == 5:
                c.command(b"EXPIRE", k, b"%d" % rng.randint(100, 9999))
            elif op == 6:
                c.command(b"PERSIST", k)
            elif op == 7:
                c.command(b"MSET", k, b"a", k + b"2", b"b")
            elif op == 8:
                c.command(b"RENAME", k, b"r%d" % rng.randint(0, 50))
            elif op == 9:
                c.command(b"INCRBYFLOAT", b"f%d" % rng.randint(0, 5), b"1.5")
            elif op == 10:
                c.command(b"MOVE", k, b"%d" % rng.choice((0, 1, 2)))
            else:
                c.command(b"SETRANGE", k, b"%d" % rng.randint(0, 40), b"zz")


def wait_drained(port):
    """Wait until the supervisor has written every committed record to the
    file (what a process crash cannot take back; the page cache keeps it
    even without fsync)."""
    deadline = time.monotonic() + LONG
    with RespConn(port) as c:
        while time.monotonic() < deadline:
            info = c.command(b"INFO", b"persistence").decode()
            if "aof_buffer_length:0\r\n" in info:
                return
            time.sleep(0.05)
    raise AssertionError("the AOF ring was not drained: %s" % info)


def test_reboot_replays_the_same_dataset():
    srv = AofServer()
    srv.start()
    try:
        workload(srv.port, 1)
        before = dump(srv.port)
        check(len(before) > 50, "workload made keys (%d)" % len(before))
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = dump(srv.port)
        check_eq(set(after), set(before), "keys after reboot")
        for key in before:
            check_eq(after[key], before[key], "value/expiry of %r" % (key,))
        check("DB loaded from append only file" in srv.log_tail(10),
              "log says the AOF was loaded")
        p = subprocess.run(["redis-check-aof", srv.incr_file],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=LONG)
        check(b"is valid" in p.stdout, "redis-check-aof: %r" % p.stdout)
    finally:
        srv.stop()
        srv.remove_data()


def ledger_writers(srv, prefix, n):
    """n threads writing fresh keys; acked maps (thread, i) to the time
    the write was acknowledged.  Returns (acked, stop, threads)."""
    acked = {}
    stop = threading.Event()

    def writer(idx):
        try:
            with RespConn(srv.port, timeout=LONG) as c:
                i = 0
                while not stop.is_set():
                    if c.command(b"SET", b"%s%d:%d" % (prefix, idx, i),
                                 b"%d" % i) == b"+OK\r\n":
                        acked[(idx, i)] = time.monotonic()
                    i += 1
        except (ConnectionClosed, OSError):
            pass

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return acked, stop, threads


def missing_keys(srv, prefix, acked):
    """The acknowledged writes that are not in the dataset."""
    keys = list(acked)
    with RespConn(srv.port, timeout=LONG) as c:
        for k in keys:
            c.send_command(b"GET", b"%s%d:%d" % ((prefix,) + k))
        replies = c.read_replies(len(keys))
    return [k for k, r in zip(keys, replies)
            if r != b"$%d\r\n%d\r\n" % (len(b"%d" % k[1]), k[1])]


def test_always_loses_no_acknowledged_write():
    """appendfsync always: a write is acknowledged only once on disk, so a
    crash of everything plus a reboot keeps every acknowledged write."""
    srv = AofServer(fsync="always")
    srv.start()
    acked, stop, threads = ledger_writers(srv, b"w", 6)
    try:
        time.sleep(1.5)
        srv.crash(reboot=True)
        stop.set()
        for t in threads:
            t.join(LONG)
        check(len(acked) > 100, "writes were acknowledged (%d)" % len(acked))
        srv.restart()
        missing = missing_keys(srv, b"w", acked)
        check(not missing, "%d acknowledged writes lost, e.g. %r" %
              (len(missing), missing[:3]))
    finally:
        stop.set()
        srv.stop()
        srv.remove_data()


def test_supervisor_kill_loses_and_duplicates_nothing():
    """SIGKILL of only the supervisor under INCR load: the next one drains
    the ring where the last stopped.  After a final reboot the counters
    replayed from the AOF equal the acknowledged increments."""
    srv = AofServer()
    srv.start()
    counts = [0] * 4
    stop = threading.Event()

    def incr(idx):
        with RespConn(srv.port, timeout=LONG) as c:
            while not stop.is_set():
                c.command(b"INCR", b"cnt%d" % idx)
                counts[idx] += 1

    try:
        threads = [threading.Thread(target=incr, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for _ in range(3):
            time.sleep(0.5)
            srv.proc.send_signal(signal.SIGKILL)  # workers keep serving
            srv.proc.wait(LONG)
            old_port = srv.port
            srv.requested_port = None
            srv.start()
            check(srv.port != 0 and old_port, "restarted")
        stop.set()
        for t in threads:
            t.join(LONG)
        with RespConn(srv.port) as c:
            live = [int(c.command(b"GET", b"cnt%d" % i).split(b"\r\n")[1])
                    for i in range(4)]
        check_eq(live, counts, "counters in the arena")
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            replayed = [int(c.command(b"GET", b"cnt%d" % i).split(b"\r\n")[1])
                        for i in range(4)]
        check_eq(replayed, counts, "counters replayed from the AOF")
    finally:
        stop.set()
        srv.stop()
        srv.remove_data()


def test_torn_tail_is_truncated_and_corruption_refused():
    srv = AofServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            for i in range(100):
                c.command(b"SET", b"t%d" % i, b"%d" % i)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        size = os.path.getsize(srv.incr_file)
        with open(srv.incr_file, "ab") as f:
            f.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$10\r\nhal")
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"t99"), b"$2\r\n99\r\n", "data kept")
            check_eq(c.command(b"EXISTS", b"torn"), b":0\r\n", "torn cmd")
        check("short read" in srv.log_tail(20), "warning logged")
        check_eq(os.path.getsize(srv.incr_file) >= size, True,
                 "file cut at the last whole command")
        srv.crash(reboot=True)
        with open(srv.incr_file, "r+b") as f:
            f.seek(40)
            f.write(b"#garbage#")
        p = subprocess.run(
            [akvtest.arenakv_binary(), "--port", "0", "--arena", srv.arena,
             "--dir", srv.datadir, "--appendonly", "yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=LONG)
        out = p.stdout.decode(errors="replace")
        check(p.returncode != 0, "start refused on a corrupt AOF")
        check("appendonly.aof.1.incr.aof" in out and "offset" in out,
              "message names the file and offset: %r" % out[-300:])
        os.unlink(srv.arena)
    finally:
        srv.stop()
        srv.remove_data()


def test_worker_deaths_keep_arena_and_aof_in_agreement():
    """Workers killed at every fault point: replaying the AOF into a new
    arena gives exactly the dataset the live arena had."""
    srv = AofServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            points = [l.decode() for l in
                      c.command(b"DEBUG", b"FAULTS").split(b"\r\n")[1:]
                      if l and not l.startswith(b"$")]
        for point in points:
            with RespConn(srv.port) as c:
                c.command(b"SET", b"fp:" + point.encode(), b"old")
                c.command(b"MSET", b"m1", b"0", b"m2", b"0")
            c = RespConn(srv.port, timeout=LONG)
            c.command(b"DEBUG", b"FAULT", point.encode(), b"1")
            try:
                c.command(b"SET", b"fp:" + point.encode(), b"new")
                c.command(b"MSET", b"m1", b"1", b"m2", b"1")
                c.command(b"DEL", b"fp:" + point.encode())
                for i in range(3000):
                    c.command(b"SET", b"grow:%s:%d" % (point.encode(), i),
                              b"x" * 100)
            except (ConnectionClosed, ConnectionResetError):
                pass
            c.close()
        time.sleep(1.5)  # a dead owner's records are reclaimed after 1 s
        before = dump(srv.port, dbs=(0,))
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = dump(srv.port, dbs=(0,))
        check_eq(len(after), len(before), "number of keys after replay")
        bad = [k for k in before if after.get(k) != before[k]]
        check(not bad, "keys that differ after replay: %r" % bad[:5])
    finally:
        srv.stop()
        srv.remove_data()


def test_full_ring_blocks_writers_and_loses_nothing():
    """With a small ring and the supervisor stopped (no drainer), writers
    wait instead of dropping records; all complete once it resumes."""
    srv = AofServer(extra=["--aof-ring-size", "1mb"])
    srv.start()
    try:
        done = []

        def writer():
            with RespConn(srv.port, timeout=60) as c:
                for i in range(300):
                    c.command(b"SET", b"ring:%d" % i, b"y" * 20000)
            done.append(True)

        os.kill(srv.pid, signal.SIGSTOP)
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1.0)
        check(not done, "writer finished although the ring is full")
        os.kill(srv.pid, signal.SIGCONT)
        t.join(60)
        check(done, "writer finished after the drainer resumed")
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"STRLEN", b"ring:299"), b":20000\r\n",
                     "last write replayed")
            check_eq(c.command(b"DBSIZE"), b":300\r\n", "all writes replayed")
    finally:
        try:
            os.kill(srv.pid, signal.SIGCONT)
        except OSError:
            pass
        srv.stop()
        srv.remove_data()


def info_field(port, name):
    with RespConn(port) as c:
        for line in c.command(b"INFO", b"persistence").decode().split("\r\n"):
            if line.startswith(name + ":"):
                return line.split(":", 1)[1]
    raise AssertionError("INFO has no %s" % name)


def wait_rewrite_done(port):
    deadline = time.monotonic() + LONG
    while time.monotonic() < deadline:
        if (info_field(port, "aof_rewrite_in_progress") == "0" and
                info_field(port, "aof_rewrite_scheduled") == "0" and
                int(info_field(port, "aof_base_size")) > 0):
            return
        time.sleep(0.05)
    raise AssertionError("rewrite did not finish")


def manifest(srv):
    with open(os.path.join(srv.datadir, "appendonlydir",
                           "appendonly.aof.manifest")) as f:
        return f.read().split("\n")


def test_rewrite_while_writing_keeps_every_write():
    """BGREWRITEAOF copies stripe by stripe while writers go on; the new
    base plus the new incremental file replay to the live dataset."""
    srv = AofServer()
    srv.start()
    stop = threading.Event()

    def writer(seed):
        rng = random.Random(seed)
        with RespConn(srv.port, timeout=LONG) as c:
            while not stop.is_set():
                k = b"w%d" % rng.randint(0, 3000)
                if rng.random() < 0.7:
                    c.command(b"SET", k, b"%d" % rng.randint(0, 10 ** 6),
                              b"PX", b"%d" % rng.randint(10 ** 6, 10 ** 7))
                elif rng.random() < 0.5:
                    c.command(b"APPEND", k, b"tail")
                else:
                    c.command(b"DEL", k)
    try:
        workload(srv.port, 3, 1500)
        threads = [threading.Thread(target=writer, args=(i,))
                   for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"BGREWRITEAOF"),
                     b"+Background append only file rewriting started\r\n",
                     "BGREWRITEAOF")
        wait_rewrite_done(srv.port)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(LONG)
        lines = [l for l in manifest(srv) if l]
        check(len(lines) == 2 and "type b" in lines[0] and "type i" in
              lines[1], "manifest after rewrite: %r" % lines)
        base = os.path.join(srv.datadir, "appendonlydir",
                            lines[0].split()[1])
        p = subprocess.run(["sqlite3", base, "select count(*) from keys"],
                           stdout=subprocess.PIPE, timeout=LONG)
        check(int(p.stdout) > 100, "base readable with sqlite3: %r"
              % p.stdout)
        q = subprocess.run(["sqlite3", base, "select value from meta where "
                            "name = 'keys'; select count(*) from "
                            "sqlite_master where name = 'keys_by_name'"],
                           stdout=subprocess.PIPE, timeout=LONG)
        check_eq(q.stdout.split(), [p.stdout.strip(), b"1"],
                 "the base's key count and its index")
        before = dump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = dump(srv.port)
        bad = [k for k in set(before) | set(after)
               if before.get(k) != after.get(k)]
        check(not bad, "%d keys differ after base+incr replay, e.g. %r" %
              (len(bad), bad[:3]))
    finally:
        stop.set()
        srv.stop()
        srv.remove_data()


def test_base_of_the_first_format_still_loads():
    """A base written before the keys count and the separate index existed
    (a WITHOUT ROWID table keyed by (db, key)) loads as before."""
    import sqlite3
    srv = AofServer()
    try:
        d = os.path.join(srv.datadir, "appendonlydir")
        os.makedirs(d)
        db = sqlite3.connect(os.path.join(d, "appendonly.aof.1.base.sqlite"))
        db.executescript(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value);"
            "INSERT INTO meta VALUES ('format', 1);"
            "CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,"
            " type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER,"
            " PRIMARY KEY (db, key)) WITHOUT ROWID;")
        rows = [(i % 3, b"old:%d" % i, "string", b"v%d" % i, None)
                for i in range(500)]
        rows.append((0, b"ttl", "string", b"t", int(time.time() * 1000) +
                     3600 * 1000))
        db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?)", rows)
        db.commit()
        db.close()
        with open(os.path.join(d, "appendonly.aof.1.incr.aof"), "wb") as f:
            f.write(b"*3\r\n$3\r\nSET\r\n$5\r\nold:0\r\n$3\r\nnew\r\n")
        with open(os.path.join(d, "appendonly.aof.manifest"), "w") as f:
            f.write("file appendonly.aof.1.base.sqlite seq 1 type b\n"
                    "file appendonly.aof.1.incr.aof seq 1 type i\n")
        srv.start()
        got = dump(srv.port)
        check_eq(len(got), 501, "keys loaded")
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"old:0"), b"$3\r\nnew\r\n",
                     "the incremental file applies over the base")
            check_eq(c.command(b"SELECT", b"2"), b"+OK\r\n", "SELECT")
            check_eq(c.command(b"GET", b"old:2"), b"$2\r\nv2\r\n", "db 2")
            check_eq(c.command(b"SELECT", b"0"), b"+OK\r\n", "SELECT")
            ttl = c.command(b"TTL", b"ttl")
            check(ttl.startswith(b":35") or ttl.startswith(b":36"),
                  "TTL kept: %r" % ttl)
    finally:
        srv.stop()
        srv.remove_data()


def test_crash_at_every_rewrite_stage_keeps_the_data():
    """The supervisor dies at each stage of a rewrite; after a reboot the
    files still replay to the dataset it had."""
    for point in ("rewrite-started", "rewrite-copied", "rewrite-renamed",
                  "rewrite-switched"):
        os.environ["ARENAKV_FAULT"] = point
        srv = AofServer()
        try:
            srv.start()
            del os.environ["ARENAKV_FAULT"]
            workload(srv.port, 5, 800)
            wait_drained(srv.port)
            # This connection's worker outlives the supervisor.
            with RespConn(srv.port, timeout=LONG) as c:
                c.command(b"BGREWRITEAOF")
                srv.proc.wait(LONG)  # dies at the point
                check(srv.proc.returncode == -signal.SIGKILL,
                      "supervisor died at %s" % point)
                before = dump(srv.port, conn=c)
            srv.crash(reboot=True)
            srv.restart()
            after = dump(srv.port)
            check_eq(len(after), len(before), "keys after crash at " + point)
            bad = [k for k in before if after.get(k) != before[k]]
            check(not bad, "crash at %s: keys differ: %r" % (point, bad[:3]))
        finally:
            os.environ.pop("ARENAKV_FAULT", None)
            srv.stop()
            srv.remove_data()


def test_auto_rewrite():
    srv = AofServer(extra=["--auto-aof-rewrite-min-size", "200kb",
                           "--auto-aof-rewrite-percentage", "100"])
    srv.start()
    try:
        with RespConn(srv.port) as c:
            for i in range(3000):
                c.send_command(b"SET", b"auto:%d" % (i % 100), b"x" * 100)
            c.read_replies(3000)
        wait_rewrite_done(srv.port)
        check(int(info_field(srv.port, "aof_current_size")) < 200 * 1024,
              "incremental file restarted after the automatic rewrite")
    finally:
        srv.stop()
        srv.remove_data()


def test_check_aof_tool():
    srv = AofServer()
    srv.start()
    try:
        workload(srv.port, 9, 300)
        wait_drained(srv.port)
        tool = os.path.join(akvtest.builddir(), "src", "arenakv-check-aof")
        p = subprocess.run([tool, srv.incr_file], stdout=subprocess.PIPE,
                           timeout=LONG)
        check(p.returncode == 0 and b"is valid" in p.stdout,
              "valid AOF: %r" % p.stdout)
        with open(srv.incr_file, "ab") as f:
            f.write(b"*2\r\n$3\r\nDEL\r\n$5\r\nab")
        p = subprocess.run([tool, srv.incr_file], stdout=subprocess.PIPE,
                           timeout=LONG)
        check(p.returncode == 1, "torn AOF reported: %r" % p.stdout)
        p = subprocess.run([tool, "--fix", srv.incr_file],
                           stdout=subprocess.PIPE, timeout=LONG)
        check(p.returncode == 0, "fixed: %r" % p.stdout)
        p = subprocess.run(["redis-check-aof", srv.incr_file],
                           stdout=subprocess.PIPE, timeout=LONG)
        check(b"is valid" in p.stdout, "redis-check-aof agrees: %r"
              % p.stdout)
    finally:
        srv.stop()
        srv.remove_data()


class SnapshotServer(AofServer):
    """appendonly no: persistence by snapshots only."""

    def _command(self):
        cmd = ArenakvServer._command(self)
        i = cmd.index("--dir")
        cmd[i + 1] = self.datadir
        return cmd + self.extra_aof


def test_save_bgsave_and_rules_without_aof():
    srv = SnapshotServer(extra=["--save", "1 5"])
    srv.start()
    try:
        dump_file = os.path.join(srv.datadir, "dump.sqlite")
        with RespConn(srv.port) as c:
            c.command(b"SET", b"s1", b"one")
            check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE")
            check(os.path.exists(dump_file), "SAVE wrote dump.sqlite")
            last = int(c.command(b"LASTSAVE")[1:-2])
            check(abs(last - time.time()) < 5, "LASTSAVE is now")
            c.command(b"SET", b"s2", b"two", b"EX", b"5000")
            check_eq(c.command(b"BGSAVE"),
                     b"+Background saving started\r\n", "BGSAVE")
            deadline = time.monotonic() + LONG
            while info_field(srv.port, "rdb_changes_since_last_save") != "0":
                check(time.monotonic() < deadline, "BGSAVE finished")
                time.sleep(0.05)
            # The rule "1 5": five changes and a second later, a save.
            for i in range(5):
                c.command(b"SET", b"r%d" % i, b"x")
            while info_field(srv.port, "rdb_changes_since_last_save") != "0":
                check(time.monotonic() < deadline, "save rule fired")
                time.sleep(0.05)
        p = subprocess.run(["sqlite3", dump_file, "select count(*) from keys"],
                           stdout=subprocess.PIPE, timeout=LONG)
        check_eq(int(p.stdout), 7, "rows in the snapshot")
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"s2"), b"$3\r\ntwo\r\n",
                     "reloaded from the snapshot")
            ttl = int(c.command(b"TTL", b"s2")[1:-2])
            check(4900 < ttl <= 5000, "TTL kept: %d" % ttl)
            c.command(b"SET", b"late", b"1")
        # SHUTDOWN (SIGTERM) saves pending changes, as redis-server does.
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(LONG)
        os.unlink(srv.arena)
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"late"), b"$1\r\n1\r\n",
                     "saved at shutdown")
    finally:
        srv.stop()
        srv.remove_data()


def test_shutdown_signals_only_its_workers():
    """A supervisor in a shell pipeline must not signal its neighbours."""
    port = akvtest.free_port()
    arena = "/dev/shm/arenakv-pipe-%d" % os.getpid()
    sh = subprocess.Popen(
        ["sh", "-c", "%s --port %d --arena %s --dir /tmp --save '' | cat >"
         " /dev/null; echo cat-exit-$?" % (akvtest.arenakv_binary(), port,
                                            arena)],
        stdout=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + LONG
        while True:
            try:
                with RespConn(port, timeout=1) as c:
                    c.command(b"PING")
                break
            except OSError:
                check(time.monotonic() < deadline, "server started")
                time.sleep(0.05)
        with RespConn(port) as c:
            c.send_command(b"SHUTDOWN")
            c.wait_closed(LONG)
        out = sh.communicate(timeout=LONG)[0]
        check_eq(out.strip(), b"cat-exit-0", "the pipeline's cat survived")
    finally:
        if sh.poll() is None:
            os.killpg(sh.pid, signal.SIGKILL)
        try:
            os.unlink(arena)
        except OSError:
            pass


def test_loading_is_answered_and_reported():
    """While a new arena is loaded, clients get -LOADING and INFO shows the
    progress fields with Redis's names; then the data is there."""
    srv = AofServer()
    srv.start()
    hold = os.path.join(srv.datadir, "hold")
    try:
        with RespConn(srv.port) as c:
            for i in range(20000):
                c.send_command(b"SET", b"load:%d" % i, b"v" * 20)
            c.read_replies(20000)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        open(hold, "w").close()
        os.environ["ARENAKV_LOAD_HOLD"] = hold
        srv.tmpdir = srv.tmpdir or "/tmp"
        proc = subprocess.Popen(srv._command(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                start_new_session=True)
        del os.environ["ARENAKV_LOAD_HOLD"]
        try:
            deadline = time.monotonic() + LONG
            while True:
                try:
                    c = RespConn(srv.port, timeout=LONG)
                    break
                except OSError:
                    check(time.monotonic() < deadline, "listener opened")
                    time.sleep(0.02)
            check_eq(c.command(b"GET", b"load:1"),
                     b"-LOADING Redis is loading the dataset in memory\r\n",
                     "GET while loading")
            info = c.command(b"INFO", b"persistence").decode()
            for field in ("loading:1", "loading_total_bytes:",
                          "loading_loaded_bytes:", "loading_loaded_perc:",
                          "loading_eta_seconds:", "loading_start_time:"):
                check(field in info, "INFO while loading has %s" % field)
            os.unlink(hold)
            while c.command(b"GET", b"load:1").startswith(b"-LOADING"):
                check(time.monotonic() < deadline, "loading finished")
                time.sleep(0.02)
            check_eq(c.command(b"DBSIZE"), b":20000\r\n", "all loaded")
            check("loading:0" in c.command(b"INFO", b"persistence").decode(),
                  "loading:0 afterwards")
            c.close()
        finally:
            proc.terminate()
            proc.wait(LONG)
    finally:
        os.environ.pop("ARENAKV_LOAD_HOLD", None)
        try:
            os.unlink(srv.arena)
        except OSError:
            pass
        srv.stop()
        srv.remove_data()


def test_partly_loaded_arena_is_loaded_again():
    """A supervisor killed while it loads a new arena leaves that arena in
    tmpfs, LOADING and partly filled: the next supervisor must discard it
    and load the files again, not re-attach it as live."""
    srv = AofServer()
    srv.start()
    hold = os.path.join(srv.datadir, "hold")
    try:
        with RespConn(srv.port) as c:
            for i in range(2000):
                c.send_command(b"SET", b"part:%d" % i, b"v")
            c.read_replies(2000)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        open(hold, "w").close()
        os.environ["ARENAKV_LOAD_HOLD"] = hold
        proc = subprocess.Popen(srv._command(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                start_new_session=True)
        del os.environ["ARENAKV_LOAD_HOLD"]
        deadline = time.monotonic() + LONG
        while True:
            try:
                with RespConn(srv.port, timeout=LONG) as c:
                    reply = c.command(b"GET", b"part:1")
                if reply.startswith(b"-LOADING"):
                    break
            except OSError:
                pass
            check(time.monotonic() < deadline, "the held load answers LOADING")
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(LONG)
        check(os.path.exists(srv.arena), "the killed load left its arena")
        os.unlink(hold)
        srv.restart()
        deadline = time.monotonic() + LONG
        with RespConn(srv.port, timeout=LONG) as c:
            while c.command(b"DBSIZE").startswith(b"-LOADING"):
                check(time.monotonic() < deadline, "the reload finished")
                time.sleep(0.02)
            check_eq(c.command(b"DBSIZE"), b":2000\r\n",
                     "every key loaded after the restart")
    finally:
        os.environ.pop("ARENAKV_LOAD_HOLD", None)
        srv.stop()
        srv.remove_data()


def test_everysec_loss_is_bounded():
    """appendfsync everysec: after a crash of everything and a reboot, an
    acknowledged write may be missing only if it was acknowledged within
    the last two seconds before the crash."""
    srv = AofServer(fsync="everysec")
    srv.start()
    acked, stop, threads = ledger_writers(srv, b"e", 4)
    try:
        time.sleep(3.0)
        crash_at = time.monotonic()
        srv.crash(reboot=True)
        stop.set()
        for t in threads:
            t.join(LONG)
        srv.restart()
        lost = missing_keys(srv, b"e", acked)
        old = [k for k in lost if crash_at - acked[k] > 2.0]
        check(not old, "%d writes acknowledged over 2 s before the crash "
              "were lost" % len(old))
    finally:
        stop.set()
        srv.stop()
        srv.remove_data()


def test_replay_of_the_differential_stream():
    """The random command stream of the differential test, logged and
    replayed into a new arena, gives the same dataset."""
    import test_differential as td
    srv = AofServer()
    srv.start()
    try:
        gen = td.Generator(42, 2)
        with RespConn(srv.port, timeout=LONG) as c:
            for _ in range(3000):
                args = gen.next()
                if args[0].upper() in (b"QUIT", b"HELLO", b"RESET",
                                       b"SHUTDOWN", b"CLIENT", b"DEBUG"):
                    continue
                c.command(*args)
        before = dump(srv.port, dbs=(0, 1, 2, 3, 15))
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = dump(srv.port, dbs=(0, 1, 2, 3, 15))
        bad = [k for k in set(before) | set(after)
               if before.get(k) != after.get(k)]
        check(not bad, "%d keys differ after replay, e.g. %r" %
              (len(bad), bad[:3]))
        check(len(before) > 5, "the stream left keys (%d)" % len(before))
    finally:
        srv.stop()
        srv.remove_data()


def test_config_set_appendonly_live():
    """Turning the AOF on at run time rewrites it at once, so keys written
    before are in it; turning it off stops logging."""
    srv = SnapshotServer(extra=["--save", "", "--aof-ring-size", "32mb"])
    srv.start()
    try:
        # An arena that does not log does not hold the ring's memory.
        reserved = os.stat(srv.arena).st_blocks * 512
        workload(srv.port, 11, 500)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"CONFIG", b"SET", b"appendonly", b"yes"),
                     b"+OK\r\n", "CONFIG SET appendonly yes")
        wait_rewrite_done(srv.port)
        grown = os.stat(srv.arena).st_blocks * 512 - reserved
        check(grown >= 32 << 20, "the ring is reserved when the AOF is "
              "turned on (the arena grew by %d bytes)" % grown)
        workload(srv.port, 12, 300)
        before = dump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.extra_aof = ["--appendonly", "yes"]
        srv.restart()
        after = dump(srv.port)
        bad = [k for k in set(before) | set(after)
               if before.get(k) != after.get(k)]
        check(not bad, "%d keys differ, e.g. %r" % (len(bad), bad[:3]))
        with RespConn(srv.port) as c:
            c.command(b"CONFIG", b"SET", b"appendonly", b"no")
            deadline = time.monotonic() + LONG
            while info_field(srv.port, "aof_enabled") != "0":
                check(time.monotonic() < deadline, "AOF turned off")
                time.sleep(0.05)
            size = os.path.getsize(srv.incr_file)
            c.command(b"SET", b"unlogged", b"1")
            time.sleep(0.3)
            check_eq(os.path.getsize(srv.incr_file), size,
                     "no logging after appendonly no")
    finally:
        srv.stop()
        srv.remove_data()


def test_write_larger_than_the_ring_is_refused_whole():
    """A write whose record cannot fit the ring is refused with a clear
    error and does not happen; the arena and the AOF still agree."""
    srv = AofServer(extra=["--aof-ring-size", "1mb"])
    srv.start()
    try:
        with RespConn(srv.port) as c:
            c.command(b"SET", b"big", b"old")
            got = c.command(b"SET", b"big", b"x" * 700000)
            check(got.startswith(b"-ERR the write is too large for the AOF "
                                 b"ring"), "oversized SET: %r" % got[:80])
            check_eq(c.command(b"GET", b"big"), b"$3\r\nold\r\n",
                     "the refused SET did not happen")
            check_eq(c.command(b"SET", b"ok", b"y" * 200000), b"+OK\r\n",
                     "a write that fits")
        before = dump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        check_eq(dump(srv.port), before, "dataset after replay")
    finally:
        srv.stop()
        srv.remove_data()


def test_evictions_and_expirations_replay_as_deletions():
    """Keys removed by eviction and by active expiry reach the AOF as DEL:
    the replayed dataset is the one that was left."""
    srv = AofServer(extra=["--maxmemory", "2mb", "--maxmemory-policy",
                           "allkeys-random"])
    srv.start()
    try:
        with RespConn(srv.port, timeout=LONG) as c:
            for i in range(30000):
                c.send_command(b"SET", b"ev:%d" % i, b"x" * 100)
            c.read_replies(30000)
            for i in range(2000):
                c.send_command(b"SET", b"ex:%d" % i, b"v", b"PX", b"200")
            c.read_replies(2000)
            deadline = time.monotonic() + LONG
            # Nobody reads ex:*: only the supervisor's cycle removes them.
            while akvtest.parse_reply(c.command(b"KEYS", b"ex:*"))[1]:
                check(time.monotonic() < deadline, "expired keys reclaimed")
                time.sleep(0.1)
            st = c.command(b"INFO", b"stats").decode()
            check("evicted_keys:0\r\n" not in st, "keys were evicted")
        before = dump(srv.port, dbs=(0,))
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.extra_aof = []  # replay without a limit: nothing is evicted
        srv.restart()
        after = dump(srv.port, dbs=(0,))
        check_eq(len(after), len(before), "keys after replay")
        check(after == before, "same keys and values after replay")
    finally:
        srv.stop()
        srv.remove_data()


def test_incrbyfloat_is_logged_as_its_result():
    """INCRBYFLOAT's effect is declared as SET key value KEEPTTL (as Redis
    logs it): the file holds the result, not the increment, and a reboot
    gives back the same value and the same expiry."""
    srv = AofServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            c.command(b"SET", b"f", b"10.5", b"EX", b"1000")
            check_eq(c.call(b"INCRBYFLOAT", b"f", b"0.25")[1], b"10.75",
                     "INCRBYFLOAT reply")
            check_eq(c.call(b"INCRBYFLOAT", b"g", b"3")[1], b"3",
                     "INCRBYFLOAT of a new key")
            ttl = int(c.call(b"PTTL", b"f")[1])
        wait_drained(srv.port)
        with open(srv.incr_file, "rb") as f:
            data = f.read()
        check(b"$3\r\nSET\r\n$1\r\nf\r\n$5\r\n10.75\r\n$7\r\nKEEPTTL"
              in data, "SET f 10.75 KEEPTTL logged: %r" % data[-200:])
        check(b"INCRBYFLOAT" not in data.upper(), "no INCRBYFLOAT logged")
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq(c.call(b"GET", b"f")[1], b"10.75", "value after reboot")
            check_eq(c.call(b"GET", b"g")[1], b"3", "new key after reboot")
            after = int(c.call(b"PTTL", b"f")[1])
            check(0 < after <= ttl, "expiry kept (%r then %r)" % (ttl, after))
            check_eq(int(c.call(b"PTTL", b"g")[1]), -1, "no expiry on the new key")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=600)
