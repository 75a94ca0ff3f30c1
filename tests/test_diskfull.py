#!/usr/bin/python3
"""A full or failing disk under the AOF, the rewrite and SAVE.

Two ways to make the disk fail:

* a real full disk: `dir` on a small tmpfs (mount needs root or
  CAP_SYS_ADMIN; without it those tests are skipped with a message), that
  is grown later with `mount -o remount,size=...`;
* DEBUG FAULT-IO <point> <errno> [count], which makes the supervisor's
  own write or fsync fail (these tests always run).

What must hold: once the error is known, writes get -MISCONF and reads are
served; after the disk recovers, writes are accepted again without a
restart; nothing acknowledged is lost and nothing refused appears after a
"reboot" (SIGKILL of every process and removal of the arena); a write is
never acknowledged under appendfsync always before an fsync covers it;
the log stays a handful of lines.
"""

import glob
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import RespConn, SkipTest, check, check_eq  # noqa: E402
from test_aof import AofServer, info_field, wait_drained  # noqa: E402

LONG = 60.0
AOF_MISCONF = b"-MISCONF Errors writing to the AOF file: "
ENOSPC_TEXT = b"No space left on device"
EIO_TEXT = b"Input/output error"
BGSAVE_MISCONF = (
    b"-MISCONF Redis is configured to save RDB snapshots, but it's currently "
    b"unable to persist to disk. Commands that may modify the data set are "
    b"disabled, because this instance is configured to report errors during "
    b"writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    b"Please check the Redis logs for details about the RDB error.\r\n")
VALUE = b"v" * 1024


# --------------------------------------------------------------- helpers

class Tmpfs:
    """A tmpfs of `size` mounted on a new directory, or SkipTest."""

    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix="akvtest-diskfull-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                            "tmpfs", self.dir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        if p.returncode != 0:
            os.rmdir(self.dir)
            raise SkipTest("cannot mount a tmpfs (needs root or "
                           "CAP_SYS_ADMIN): %s; the DEBUG FAULT-IO variants "
                           "still run" % p.stdout.decode().strip())

    def grow(self, size):
        subprocess.run(["mount", "-o", "remount,size=%s" % size, self.dir],
                       check=True, timeout=30)

    def free(self):
        st = os.statvfs(self.dir)
        return st.f_bavail * st.f_frsize

    def remove(self):
        subprocess.run(["umount", "-l", self.dir], timeout=30)
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


class DiskServer(AofServer):
    """An AOF server whose data directory is `datadir` (a tmpfs or not),
    without save rules unless given."""

    def __init__(self, datadir=None, fsync="everysec", extra=()):
        if "--save" not in extra:
            extra = ["--save", ""] + list(extra)
        super().__init__(fsync=fsync, extra=list(extra))
        if datadir:
            os.rmdir(self.datadir)
            self.datadir = datadir
            self.own_dir = False
        else:
            self.own_dir = True

    def remove_data(self):
        if self.own_dir:
            super().remove_data()

    def log_lines(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()


class Writers:
    """Threads writing unique keys (1 KB values) until stopped; each
    reply is recorded: acknowledged (+OK), refused (-MISCONF) or other."""

    def __init__(self, port, n=2, value=VALUE):
        self.port = port
        self.value = value
        self.acked, self.refused, self.other = set(), set(), []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pending = {}
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True) for i in range(n)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _run(self, i):
        n = 0
        with RespConn(self.port, timeout=LONG * 2) as c:
            while not self.stop.is_set():
                key = b"w%d:%d" % (i, n)
                n += 1
                self.pending[i] = key
                r = c.command(b"SET", key, self.value)
                with self.lock:
                    if r == b"+OK\r\n":
                        self.acked.add(key)
                    elif r.startswith(b"-MISCONF "):
                        self.refused.add(key)
                    else:
                        self.other.append(r)
                self.pending[i] = None
                if r.startswith(b"-MISCONF "):
                    time.sleep(0.01)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(LONG)
            check(not t.is_alive(), "a writer still waits for its reply")
        check_eq(self.other, [], "replies other than +OK and -MISCONF")

    def counts(self):
        with self.lock:
            return len(self.acked), len(self.refused)


def wait_for(what, cond, timeout=LONG, step=0.02):
    """Poll cond() until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = cond()
        if r:
            return r
        time.sleep(step)
    raise AssertionError("timed out waiting for %s" % what)


def status(port, field):
    return info_field(port, field)


def verify_after_reboot(srv, acked, refused, value=VALUE):
    """Every acknowledged key back with its value, no refused one."""
    wait_drained(srv.port)
    srv.crash(reboot=True)
    srv.restart()
    with RespConn(srv.port, timeout=LONG) as c:
        for k in sorted(acked):
            c.send_command(b"GET", k)
        got = c.read_replies(len(acked)) if acked else []
        missing = [k for k, r in zip(sorted(acked), got)
                   if r != b"$%d\r\n%s\r\n" % (len(value), value)]
        check_eq(missing[:5], [], "acknowledged keys lost (%d of %d)" %
                 (len(missing), len(acked)))
        for k in sorted(refused):
            c.send_command(b"EXISTS", k)
        got = c.read_replies(len(refused)) if refused else []
        present = [k for k, r in zip(sorted(refused), got) if r != b":0\r\n"]
        check_eq(present[:5], [], "refused writes that happened anyway")


def wait_aof_err(port):
    """Wait until the supervisor knows the AOF is failing (a read: under
    appendfsync always a probing write could wait for the disk)."""
    wait_for("aof_last_write_status:err",
             lambda: status(port, "aof_last_write_status") == "err")


def misconf(reply, text=None):
    return reply.startswith(AOF_MISCONF) and (text is None or text in reply)


def probe_set(port, key):
    with RespConn(port) as c:
        return c.command(b"SET", key, b"p")


# ------------------------------------------------------ the full tmpfs

def full_disk(fsync):
    fs = Tmpfs("4m")
    srv = DiskServer(fs.dir, fsync=fsync)
    try:
        srv.start()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"SET", b"before", b"1"), b"+OK\r\n", "SET")
        w = Writers(srv.port).start()
        # The disk fills: the moment less than a batch of writes fits
        # (a short write is cut back, so it never shows exactly 0), and
        # the moment writes are refused.
        t_full = wait_for("the tmpfs to fill",
                          lambda: fs.free() < 256 * 1024 and
                          time.monotonic(), step=0.002)
        wait_aof_err(srv.port)
        delay = time.monotonic() - t_full
        print("# %s: under 256 KB free after %d acknowledged writes; "
              "-MISCONF %.3f s later" % (fsync, w.counts()[0], delay),
              flush=True)
        with RespConn(srv.port) as c:
            r = c.command(b"SET", b"probe", VALUE)
            check(misconf(r, ENOSPC_TEXT), "MISCONF text: %r" % r)
            w.refused.add(b"probe")
            check_eq(c.command(b"GET", b"before"), b"$1\r\n1\r\n",
                     "GET while the disk is full")
            check(misconf(c.command(b"PING")), "PING refused as Redis does")
        check_eq(status(srv.port, "aof_last_write_status"), "err",
                 "aof_last_write_status")
        # Log lines while full: the limiter keeps them to a handful.
        n0 = len(srv.log_lines())
        time.sleep(3)
        added = len(srv.log_lines()) - n0
        check(added <= 3, "%d log lines in 3 s of a full disk" % added)
        # Space comes back: writes are accepted again, no restart.
        acked_before = w.counts()[0]
        fs.grow("64m")
        t_grown = time.monotonic()
        wait_for("writes accepted after the tmpfs grew",
                 lambda: w.counts()[0] > acked_before + 100)
        print("# %s: writes accepted %.3f s after the tmpfs grew" %
              (fsync, time.monotonic() - t_grown), flush=True)
        w.finish()
        check_eq(status(srv.port, "aof_last_write_status"), "ok",
                 "aof_last_write_status after recovery")
        check(any("AOF write error looks solved" in line
                  for line in srv.log_lines()), "recovery logged")
        w.acked.add(b"before")
        verify_after_reboot(srv, w.acked - {b"before"}, w.refused)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"before"), b"$1\r\n1\r\n", "before")
    finally:
        srv.stop()
        fs.remove()



def wait_rewrite_failed(srv):
    """Wait until a rewrite has failed and ended."""
    wait_for("the rewrite to fail", lambda: status(
        srv.port, "aof_last_bgrewrite_status") == "err")
    wait_for("the rewrite to end", lambda: status(
        srv.port, "aof_rewrite_in_progress") == "0")

def test_full_tmpfs_everysec():
    full_disk("everysec")


def test_full_tmpfs_always():
    full_disk("always")


def fill(c, prefix, total, size=8192):
    """Pipelined SETs of `total` bytes."""
    n = total // size
    for i in range(n):
        c.send_command(b"SET", b"%s%d" % (prefix, i), b"f" * size)
    replies = c.read_replies(n, timeout=LONG)
    check(all(r == b"+OK\r\n" for r in replies), "fill: %r" % replies[:3])
    return n


def aof_files(srv):
    return sorted(os.listdir(os.path.join(srv.datadir, "appendonlydir")))


def manifest_files(srv):
    with open(os.path.join(srv.datadir, "appendonlydir",
                           "appendonly.aof.manifest")) as f:
        return [line.split()[1] for line in f if line.strip()]


def test_rewrite_and_save_fail_on_a_full_tmpfs():
    """A rewrite and a SAVE that do not fit: old files stay in force, no
    temporary file is left, the statuses say err, writes are refused per
    stop-writes-on-bgsave-error, and all is well once there is room."""
    fs = Tmpfs("8m")
    srv = DiskServer(fs.dir, extra=["--save", "3600 1"])
    try:
        srv.start()
        with RespConn(srv.port, timeout=LONG) as c:
            n = fill(c, b"big", 4 << 20)
            wait_drained(srv.port)
            before = manifest_files(srv)
            check_eq(c.command(b"BGREWRITEAOF"),
                     b"+Background append only file rewriting started\r\n",
                     "BGREWRITEAOF")
            wait_rewrite_failed(srv)
            after = manifest_files(srv)
            check_eq(after[:len(before)], before, "old files still listed")
            files = aof_files(srv)
            for f in after:
                check(f in files, "%s listed but missing" % f)
            check_eq([f for f in files if f.endswith(".tmp")], [],
                     "temporary files left")
            # SAVE does not fit either.
            check_eq(c.command(b"SAVE"), b"-ERR\r\n", "SAVE on a full disk")
            check_eq(status(srv.port, "rdb_last_bgsave_status"), "err",
                     "rdb_last_bgsave_status")
            check_eq(glob.glob(os.path.join(fs.dir, "temp-*")), [],
                     "temporary snapshot left")
            check_eq(c.command(b"SET", b"x", b"1"), BGSAVE_MISCONF,
                     "write after a failed save")
            check_eq(c.command(b"GET", b"big0"), b"$8192\r\n%s\r\n" %
                     (b"f" * 8192), "read after a failed save")
            check_eq(c.command(b"CONFIG", b"SET",
                               b"stop-writes-on-bgsave-error", b"no"),
                     b"+OK\r\n", "CONFIG SET")
            check_eq(c.command(b"SET", b"x", b"1"), b"+OK\r\n",
                     "write with stop-writes-on-bgsave-error no")
            c.command(b"CONFIG", b"SET", b"stop-writes-on-bgsave-error",
                      b"yes")
            check_eq(c.command(b"SET", b"x", b"2"), BGSAVE_MISCONF,
                     "refused again with yes")
            fs.grow("64m")
            check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE with room")
            check_eq(status(srv.port, "rdb_last_bgsave_status"), "ok",
                     "rdb_last_bgsave_status after a good save")
            check_eq(c.command(b"SET", b"x", b"3"), b"+OK\r\n",
                     "write after a good save")
            c.command(b"BGREWRITEAOF")
            wait_for("a good rewrite", lambda: status(
                srv.port, "aof_last_bgrewrite_status") == "ok")
        acked = {b"big%d" % i for i in range(n)}
        verify_after_reboot(srv, acked, set(), value=b"f" * 8192)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"x"), b"$1\r\n3\r\n", "x")
    finally:
        srv.stop()
        fs.remove()


# ------------------------------------------------------ injected faults

def arm(port, point, err, count=None):
    args = [b"DEBUG", b"FAULT-IO", point, err]
    if count is not None:
        args.append(b"%d" % count)
    with RespConn(port) as c:
        check_eq(c.command(*args), b"+OK\r\n", "DEBUG FAULT-IO")


def test_fault_io_arguments():
    srv = DiskServer()
    try:
        srv.start()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"DEBUG", b"FAULT-IO", b"nowhere", b"EIO"),
                     b"-ERR unknown I/O fault point or errno\r\n", "point")
            check_eq(c.command(b"DEBUG", b"FAULT-IO", b"aof-write", b"E2BIG"),
                     b"-ERR unknown I/O fault point or errno\r\n", "errno")
            check_eq(c.command(b"DEBUG", b"FAULT-IO", b"aof-write", b"OFF"),
                     b"+OK\r\n", "OFF")
            check_eq(c.command(b"SET", b"k", b"v"), b"+OK\r\n", "unarmed")
            info = c.command(b"INFO", b"persistence").decode()
            for f in ("aof_last_write_status:ok",
                      "aof_last_bgrewrite_status:ok",
                      "rdb_last_bgsave_status:ok", "aof_delayed_fsync:0"):
                check(f in info, "INFO persistence has %s" % f)
    finally:
        srv.stop()
        srv.remove_data()


def injected_write_error(fsync, err, text):
    srv = DiskServer(fsync=fsync)
    try:
        srv.start()
        w = Writers(srv.port).start()
        wait_for("acknowledged writes", lambda: w.counts()[0] > 50)
        arm(srv.port, b"aof-write", err)
        wait_aof_err(srv.port)
        r = probe_set(srv.port, b"probe")
        check(misconf(r, text), "MISCONF text: %r" % r)
        w.refused.add(b"probe")
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", sorted(w.acked)[0]),
                     b"$1024\r\n%s\r\n" % VALUE, "GET while failing")
        check_eq(status(srv.port, "aof_last_write_status"), "err", "status")
        acked = w.counts()[0]
        arm(srv.port, b"aof-write", b"OFF")
        wait_for("writes accepted again",
                 lambda: w.counts()[0] > acked + 50)
        w.finish()
        check_eq(status(srv.port, "aof_last_write_status"), "ok", "status")
        # The injected error leaves half a record in the file, as a full
        # disk does; it must have been cut back (a torn record followed
        # by more records would not load).
        verify_after_reboot(srv, w.acked, w.refused)
    finally:
        srv.stop()
        srv.remove_data()


def test_injected_write_eio_everysec():
    injected_write_error("everysec", b"EIO", EIO_TEXT)


def test_injected_write_enospc_always():
    injected_write_error("always", b"ENOSPC", ENOSPC_TEXT)


def test_injected_write_edquot_no():
    injected_write_error("no", b"EDQUOT", b"Disk quota exceeded")


def test_injected_fsync_eio_always_never_acknowledges():
    """appendfsync always with failing fsyncs: the write in flight gets no
    reply while fsyncs fail, later writes get -MISCONF, reads go on; once
    fsyncs work the write is acknowledged and survives a reboot."""
    srv = DiskServer(fsync="always")
    try:
        srv.start()
        with RespConn(srv.port) as c:
            check_eq(c.command(b"SET", b"a", VALUE), b"+OK\r\n", "SET a")
        arm(srv.port, b"aof-fsync", b"EIO")
        replies = []
        c = RespConn(srv.port, timeout=LONG * 2)
        c.send_command(b"SET", b"inflight", VALUE)
        t = threading.Thread(target=lambda: replies.append(c.read_reply()),
                             daemon=True)
        t.start()
        wait_aof_err(srv.port)
        check(misconf(probe_set(srv.port, b"p"), EIO_TEXT), "MISCONF")
        with RespConn(srv.port) as r:
            check_eq(r.command(b"GET", b"a"), b"$1024\r\n%s\r\n" % VALUE,
                     "GET while fsyncs fail")
        # Several retries fail (about one a second): still no reply.
        time.sleep(2.5)
        check_eq(replies, [], "a write acknowledged before any fsync "
                 "covered it")
        arm(srv.port, b"aof-fsync", b"OFF")
        t.join(LONG)
        check_eq(replies, [b"+OK\r\n"], "reply once fsyncs work")
        c.close()
        check_eq(probe_set(srv.port, b"after"), b"+OK\r\n", "writes again")
        verify_after_reboot(srv, {b"a", b"inflight"}, {b"p"})
    finally:
        srv.stop()
        srv.remove_data()


def test_injected_fsync_errors_everysec_recover_by_themselves():
    srv = DiskServer(fsync="everysec")
    try:
        srv.start()
        w = Writers(srv.port).start()
        wait_for("acknowledged writes", lambda: w.counts()[0] > 50)
        arm(srv.port, b"aof-fsync", b"EIO")
        wait_aof_err(srv.port)
        wait_for("-MISCONF", lambda: w.counts()[1] > 0)
        refused = w.counts()[1]
        # Two more failed fsyncs (one a second), then writes go on.
        arm(srv.port, b"aof-fsync", b"EIO", 2)
        acked = w.counts()[0]
        wait_for("writes accepted again", lambda: w.counts()[0] > acked + 50)
        w.finish()
        check(refused > 0, "refused while failing")
        verify_after_reboot(srv, w.acked, w.refused)
    finally:
        srv.stop()
        srv.remove_data()


def test_small_ring_and_pipelined_writers_never_hang():
    """A 1 MB ring, appendfsync always, fsyncs failing, and pipelines of
    writes larger than the ring: each command gets +OK (once durable) or
    -MISCONF; none waits forever once the disk works again."""
    srv = DiskServer(fsync="always", extra=["--aof-ring-size", "1mb"])
    big = b"r" * 100000
    try:
        srv.start()
        arm(srv.port, b"aof-fsync", b"ENOSPC")
        results = {}

        def pipeline(i):
            with RespConn(srv.port, timeout=LONG * 2) as c:
                for j in range(30):
                    c.send_command(b"SET", b"big%d:%d" % (i, j), big)
                results[i] = c.read_replies(30, timeout=LONG * 2)

        ts = [threading.Thread(target=pipeline, args=(i,), daemon=True)
              for i in range(3)]
        for t in ts:
            t.start()
        wait_aof_err(srv.port)
        check(misconf(probe_set(srv.port, b"p")), "MISCONF")
        time.sleep(1)
        arm(srv.port, b"aof-fsync", b"OFF")
        for t in ts:
            t.join(LONG)
            check(not t.is_alive(), "a pipeline still waits")
        acked, refused = set(), {b"p"}
        for i, rs in results.items():
            for j, r in enumerate(rs):
                k = b"big%d:%d" % (i, j)
                if r == b"+OK\r\n":
                    acked.add(k)
                else:
                    check(misconf(r), "reply %r" % r[:80])
                    refused.add(k)
        # How many of them are refused depends on how much of each
        # pipeline its worker had read when the error came (it reads no
        # more while it waits for the fsync): only recorded.
        print("# pipelines: %d acknowledged, %d refused" %
              (len(acked), len(refused) - 1), flush=True)
        verify_after_reboot(srv, acked, refused, value=big)
    finally:
        srv.stop()
        srv.remove_data()


def test_log_lines_bounded_during_a_failing_minute():
    """A minute of failing writes under a steady load of writers: the log
    gets a handful of lines (the limiter), not one per attempt."""
    srv = DiskServer(fsync="everysec")
    try:
        srv.start()
        n0 = len(srv.log_lines())
        arm(srv.port, b"aof-write", b"ENOSPC")
        w = Writers(srv.port, n=3).start()
        wait_aof_err(srv.port)
        t0 = time.monotonic()
        time.sleep(60)
        lines = srv.log_lines()[n0:]
        print("# %d log lines in %.0f s of failing writes (%d writes "
              "refused)" % (len(lines), time.monotonic() - t0,
                            w.counts()[1]), flush=True)
        check(len(lines) <= 12, "log lines: %d\n%s" %
              (len(lines), "\n".join(lines[:20])))
        arm(srv.port, b"aof-write", b"OFF")
        acked = w.counts()[0]
        wait_for("writes accepted again", lambda: w.counts()[0] > acked + 10)
        w.finish()
        solved = [line for line in srv.log_lines()
                  if "AOF write error looks solved" in line]
        check_eq(len(solved), 1, "recovery lines")
    finally:
        srv.stop()
        srv.remove_data()


def test_injected_save_and_rewrite_errors():
    """SAVE/BGSAVE and the rewrite failing through the hook: statuses,
    stop-writes-on-bgsave-error (only with save rules, as Redis), the old
    AOF files in force, recovery on the next good attempt."""
    srv = DiskServer(extra=["--save", "3600 1"])
    try:
        srv.start()
        with RespConn(srv.port, timeout=LONG) as c:
            for i in range(100):
                c.command(b"SET", b"k%d" % i, b"v%d" % i)
            # The rewrite fails: old files in force, status err.
            before = manifest_files(srv)
            arm(srv.port, b"rewrite", b"EIO", 1)
            c.command(b"BGREWRITEAOF")
            wait_rewrite_failed(srv)
            after = manifest_files(srv)
            check_eq(after[:len(before)], before, "old files still listed")
            check_eq([f for f in aof_files(srv) if f.endswith(".tmp")], [],
                     "temporary files left")
            check_eq(c.command(b"SET", b"w1", b"1"), b"+OK\r\n",
                     "writes go on after a failed rewrite")
            # BGSAVE fails: writes refused with Redis's text.
            arm(srv.port, b"save", b"ENOSPC")
            check_eq(c.command(b"BGSAVE"), b"+Background saving started\r\n",
                     "BGSAVE")
            wait_for("the save to fail", lambda: status(
                srv.port, "rdb_last_bgsave_status") == "err")
            check_eq(c.command(b"SET", b"w2", b"1"), BGSAVE_MISCONF,
                     "write refused")
            check_eq(c.command(b"PING"), BGSAVE_MISCONF, "PING refused")
            check_eq(c.command(b"GET", b"k1"), b"$2\r\nv1\r\n", "read")
            check_eq(c.command(b"SAVE"), b"-ERR\r\n", "SAVE")
            # Without save rules the failed save does not stop writes.
            c.command(b"CONFIG", b"SET", b"save", b"")
            check_eq(c.command(b"SET", b"w3", b"1"), b"+OK\r\n",
                     "no save rules: writes accepted")
            c.command(b"CONFIG", b"SET", b"save", b"3600 1")
            check_eq(c.command(b"SET", b"w3", b"2"), BGSAVE_MISCONF,
                     "save rules again: refused")
            arm(srv.port, b"save", b"OFF")
            check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE works again")
            check_eq(c.command(b"SET", b"w4", b"1"), b"+OK\r\n",
                     "writes after a good save")
            c.command(b"BGREWRITEAOF")
            wait_for("a good rewrite", lambda: status(
                srv.port, "aof_last_bgrewrite_status") == "ok")
        verify_after_reboot(srv, set(), {b"w2"})
        with RespConn(srv.port) as c:
            check_eq(c.command(b"MGET", b"k99", b"w1", b"w3", b"w4"),
                     b"*4\r\n$3\r\nv99\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n1\r\n",
                     "data after the reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=1200)
