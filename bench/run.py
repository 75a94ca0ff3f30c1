#!/usr/bin/python3
"""arenakv against redis-server, side by side, on this machine.

Starts a reference redis-server (Debian's package) and arenakv on free
loopback ports with equivalent settings, runs the same redis-benchmark
workloads against each in turn, and prints one table with both figures
and their ratio (arenakv / redis).  Each figure is the median of --runs
runs.  Also: server CPU per request, memory per key, restart times.

    bench/run.py [--builddir build] [--runs 3] [--quick|--smoke] [--out FILE]

--quick is one run with small sizes (about 30 s); --smoke is smaller still
and exists so the test suite can prove that every part of the benchmark
runs (tests/test_bench.py): its numbers mean nothing.

Nothing here is a test: numbers depend on the machine and its load.
"""

import argparse
import csv
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ping(port, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        out = subprocess.run(["redis-cli", "-p", str(port), "ping"],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout
        if out.strip() == b"PONG":
            return time.monotonic() - t0
        time.sleep(0.002)
    raise RuntimeError("server on port %d did not start" % port)


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def proc_cpu_ticks(pid):
    """utime + stime + cutime + cstime, 0 if the process is gone."""
    try:
        return sum(int(x) for x in proc_stat(pid)[11:15])
    except (OSError, ValueError):
        return 0


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(proc_stat(int(name))[1]) == pid:
                    out.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return out


class Server:
    def __init__(self, kind, builddir, extra=()):
        self.kind = kind
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="akvbench-%s-" % kind)
        self.arena = "/dev/shm/akvbench-%d-%d" % (os.getpid(), self.port)
        self.builddir = builddir
        self.extra = list(extra)
        self.proc = None

    def argv(self):
        if self.kind == "redis":
            return ["redis-server", "--port", str(self.port), "--bind",
                    "127.0.0.1", "--save", "", "--dir", self.dir] + self.extra
        return [os.path.join(self.builddir, "src", "arenakv-server"),
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--dir", self.dir, "--arena", self.arena] + self.extra

    def start(self):
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        return wait_ping(self.port)

    def cpu_seconds(self):
        """User+system CPU of the server and of its reaped children, and of
        its live children with theirs: for arenakv, the supervisor, its
        connection spawner and every worker that served a finished
        connection."""
        total = proc_cpu_ticks(self.proc.pid)
        for child in children_of(self.proc.pid):
            total += proc_cpu_ticks(child)
        return total / CLK_TCK

    def info(self, section):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "info",
                              section], stdout=subprocess.PIPE).stdout
        return dict(l.split(":", 1) for l in out.decode().split("\r\n")
                    if ":" in l)

    def stop(self, remove=True):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
            if os.path.exists(self.arena):
                os.unlink(self.arena)


def benchmark(port, test, clients, pipeline, size, n, keepalive=True):
    argv = ["redis-benchmark", "-p", str(port), "-t", test, "-c",
            str(clients), "-P", str(pipeline), "-d", str(size), "-n", str(n),
            "-r", "100000", "--csv"]
    if not keepalive:
        argv += ["-k", "0"]
    out = subprocess.run(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=600).stdout
    rows = list(csv.reader(io.StringIO(out.decode())))
    for row in rows[1:]:
        return {"rps": float(row[1]), "p50": float(row[4]),
                "p99": float(row[6])}
    raise RuntimeError("redis-benchmark printed no result for %s" % test)


def measure(server, wl, runs):
    results = []
    for _ in range(runs):
        c0 = server.cpu_seconds()
        r = benchmark(server.port, *wl)
        time.sleep(0.2)  # let finished workers be reaped
        r["cpu_us"] = (server.cpu_seconds() - c0) * 1e6 / wl[4]
        results.append(r)
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def workloads(size_class):
    """(test, clients, pipeline, value size, requests, keepalive) tuples.
    Request counts are fixed per size class, so runs are comparable."""
    full = size_class == "full"
    scale = SCALE[size_class]
    out = []
    tests = ["get", "set", "incr", "mset"] if full else ["get", "set"]
    for test in tests:
        for clients, pipeline in ((1, 1), (50, 1), (50, 16)):
            sizes = (32, 1024) if full and test != "incr" else (32,)
            for size in sizes:
                if clients == 1:
                    n = 10000
                elif pipeline == 1:
                    n = 100000
                else:
                    n = 400000
                out.append((test, clients, pipeline, size, n // scale, True))
    for test in ("get", "set"):
        out.append((test, 50, 1, 32, 10000 // scale, False))
    return out


def label(wl):
    test, clients, pipeline, size, _, keep = wl
    return "%s c=%d P=%d %dB%s" % (test.upper(), clients, pipeline, size,
                                   "" if keep else " new-conn")


def table(rows, out):
    out.write("| workload | arenakv rps | redis rps | ratio | arenakv "
              "CPU us/req | redis CPU us/req | arenakv p50/p99 ms | redis "
              "p50/p99 ms |\n|---|---|---|---|---|---|---|---|\n")
    for name, a, r in rows:
        out.write("| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.3f/%.3f | "
                  "%.3f/%.3f |\n" % (name, a["rps"], r["rps"],
                                     a["rps"] / r["rps"], a["cpu_us"],
                                     r["cpu_us"], a["p50"], a["p99"],
                                     r["p50"], r["p99"]))


def throughput(args, out):
    akv = Server("arenakv", args.builddir)
    ref = Server("redis", args.builddir)
    akv.start()
    ref.start()
    rows = []
    try:
        for wl in workloads(args.size_class):
            rows.append((label(wl), measure(akv, wl, args.runs),
                         measure(ref, wl, args.runs)))
            print("#", label(wl), "done", file=sys.stderr, flush=True)
    finally:
        akv.stop()
        ref.stop()
    out.write("\n## Throughput, CPU per request, latency (no persistence)\n\n")
    table(rows, out)


def aof(args, out):
    rows = []
    for fsync in ("always", "everysec"):
        extra = ["--appendonly", "yes", "--appendfsync", fsync]
        akv = Server("arenakv", args.builddir, extra)
        ref = Server("redis", args.builddir, extra)
        akv.start()
        ref.start()
        try:
            for pipeline in (1, 16):
                wl = ("set", 50, pipeline, 32,
                      50000 * pipeline // SCALE[args.size_class], True)
                rows.append(("%s appendfsync %s" % (label(wl), fsync),
                             measure(akv, wl, args.runs),
                             measure(ref, wl, args.runs)))
        finally:
            akv.stop()
            ref.stop()
    out.write("\n## With the AOF\n\n")
    table(rows, out)


SCALE = {"full": 1, "quick": 5, "smoke": 50}
KEYS = {"full": 1000000, "quick": 100000, "smoke": 20000}


def fill_file(n):
    path = os.path.join(tempfile.gettempdir(), "akvbench-fill-%d.resp" % n)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for i in range(n):
                f.write(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$32\r\n%s\r\n"
                        % (i, b"v" * 32))
    return path


def wait_rewrite(srv):
    """Until the AOF rewrite that was asked for has finished."""
    time.sleep(0.2)
    for _ in range(1200):
        if srv.info("persistence").get("aof_rewrite_in_progress") == "0" \
                and srv.info("persistence").get(
                    "aof_rewrite_scheduled", "0") == "0":
            return
        time.sleep(0.1)
    raise RuntimeError("%s: the AOF rewrite did not finish" % srv.kind)


def rewrite(srv):
    subprocess.run(["redis-cli", "-p", str(srv.port), "bgrewriteaof"],
                   stdout=subprocess.DEVNULL, check=True)
    wait_rewrite(srv)


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def resident(srv):
    """Bytes of memory the server holds.  arenakv's data is the arena file
    in tmpfs (its space is reserved as the arena grows), shared by every
    process: count that file plus the supervisor's own RSS outside it."""
    rss = rss_bytes(srv.proc.pid)
    if srv.kind == "redis":
        return rss
    with open("/proc/%d/status" % srv.proc.pid) as f:
        shmem = next(int(l.split()[1]) * 1024 for l in f
                     if l.startswith("RssShmem:"))
    return rss - shmem + os.stat(srv.arena).st_blocks * 512


def restart_time(srv, sig, wipe_arena=False):
    srv.proc.send_signal(sig)
    srv.proc.wait()
    if wipe_arena:
        os.unlink(srv.arena)
    return srv.start()


def memory_and_restart(args, out):
    n = KEYS[args.size_class]
    path = fill_file(n)
    extra = ["--appendonly", "yes", "--appendfsync", "everysec"]
    akv = Server("arenakv", args.builddir, extra)
    ref = Server("redis", args.builddir, extra)
    res = {}
    try:
        for srv in (akv, ref):
            srv.start()
            empty = resident(srv)
            with open(path, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(srv.port), "--pipe"],
                               stdin=f, stdout=subprocess.DEVNULL, check=True)
            mem = srv.info("memory")
            full = resident(srv)
            res[srv.kind] = {"used": int(mem["used_memory"]) / n,
                             "empty": empty / 1e6, "rss": full / n,
                             "rss_keys": (full - empty) / n}
            rewrite(srv)
        # Re-attach: the supervisor is killed, the arena stays.
        res["arenakv"]["reattach"] = statistics.median(
            restart_time(akv, signal.SIGKILL) for _ in range(3))
        # Cold: a new arena loads the AOF (SQLite base + increments).
        res["arenakv"]["cold"] = statistics.median(
            restart_time(akv, signal.SIGKILL, True) for _ in range(3))
        # Redis: its default AOF (RDB preamble), then one of commands.
        res["redis"]["cold"] = statistics.median(
            restart_time(ref, signal.SIGTERM) for _ in range(3))
        subprocess.run(["redis-cli", "-p", str(ref.port), "config", "set",
                        "aof-use-rdb-preamble", "no"],
                       stdout=subprocess.DEVNULL, check=True)
        rewrite(ref)
        ref.extra += ["--aof-use-rdb-preamble", "no"]
        res["redis"]["cold_plain"] = statistics.median(
            restart_time(ref, signal.SIGTERM) for _ in range(3))
    finally:
        akv.stop()
        ref.stop()
    a, r = res["arenakv"], res["redis"]
    out.write("\n## Memory and restart, %d keys (16 B keys, 32 B values)\n\n"
              % n)
    out.write("| | arenakv | redis | ratio |\n|---|---|---|---|\n")
    out.write("| used_memory per key (bytes) | %.1f | %.1f | %.2f |\n" % (
        a["used"], r["used"], a["used"] / r["used"]))
    out.write("| resident per key (bytes): arenakv's arena file and "
              "supervisor RSS, redis's RSS | %.1f | %.1f | %.2f |\n" % (
                  a["rss"], r["rss"], a["rss"] / r["rss"]))
    out.write("| the same, less the empty server's | %.1f | %.1f | %.2f |\n"
              % (a["rss_keys"], r["rss_keys"], a["rss_keys"] / r["rss_keys"]))
    out.write("| resident when empty (MB): arenakv's AOF ring, client slots "
              "and tables | %.1f | %.1f | - |\n" % (a["empty"], r["empty"]))
    out.write("| restart, live arena re-attached (s) | %.3f | - | - |\n"
              % a["reattach"])
    out.write("| restart, load from AOF after rewrite (s); redis: RDB "
              "preamble (its default) | %.3f | %.3f | %.2f |\n" % (
                  a["cold"], r["cold"], a["cold"] / r["cold"]))
    out.write("| the same; redis: AOF of commands (aof-use-rdb-preamble no) "
              "| %.3f | %.3f | %.2f |\n" % (
                  a["cold"], r["cold_plain"], a["cold"] / r["cold_plain"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get(
        "AKV_BUILDDIR", os.path.join(os.path.dirname(__file__), "..")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="one run, small sizes, GET and SET only")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes: proves every part runs, nothing more")
    ap.add_argument("--out", help="also write the tables to this file")
    args = ap.parse_args()
    args.size_class = ("smoke" if args.smoke else
                       "quick" if args.quick else "full")
    if args.size_class != "full":
        args.runs = 1
    out = io.StringIO()
    t0 = time.monotonic()
    out.write("# arenakv vs redis-server (%s, %d run(s), median)\n"
              % (time.strftime("%Y-%m-%d"), args.runs))
    throughput(args, out)
    aof(args, out)
    memory_and_restart(args, out)
    out.write("\nThe benchmark took %.0f s.\n" % (time.monotonic() - t0))
    sys.stdout.write(out.getvalue())
    if args.out:
        with open(args.out, "w") as f:
            f.write(out.getvalue())


if __name__ == "__main__":
    main()
