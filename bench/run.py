#!/usr/bin/python3
"""arenakv against redis-server, side by side, on this machine.

Starts a reference redis-server (Debian's package) and arenakv on free
loopback ports with equivalent settings, runs the same redis-benchmark
workloads against each in turn, and prints one table with both figures
and their ratio (arenakv / redis).  Each figure is the median of --runs
runs.  Also: server CPU per request, memory per key, restart times.

    bench/run.py [--builddir build] [--runs 3] [--quick] [--out FILE]

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
        """User+system CPU of the server and of its reaped children (for
        arenakv: every worker that served a finished connection)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        return (utime + stime + cutime + cstime) / CLK_TCK

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


def workloads(quick):
    out = []
    tests = ["get", "set"] if quick else ["get", "set", "incr", "mset"]
    for test in tests:
        for clients, pipeline in ((1, 1), (50, 1), (50, 16)):
            for size in ((32,) if quick else (32, 1024)):
                if clients == 1 and pipeline == 1:
                    n = 5000 if quick else 20000
                else:
                    n = 20000 if quick else (100000 if pipeline == 1
                                             else 400000)
                out.append((test, clients, pipeline, size, n, True))
    for test in ("get", "set"):
        out.append((test, 50, 1, 32, 5000 if quick else 20000, False))
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
        for wl in workloads(args.quick):
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
                      (10000 if args.quick else 50000) * pipeline, True)
                rows.append(("%s appendfsync %s" % (label(wl), fsync),
                             measure(akv, wl, args.runs),
                             measure(ref, wl, args.runs)))
        finally:
            akv.stop()
            ref.stop()
    out.write("\n## With the AOF\n\n")
    table(rows, out)


def fill_file(n):
    path = os.path.join(tempfile.gettempdir(), "akvbench-fill-%d.resp" % n)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for i in range(n):
                f.write(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$32\r\n%s\r\n"
                        % (i, b"v" * 32))
    return path


def memory_and_restart(args, out):
    n = 100000 if args.quick else 1000000
    path = fill_file(n)
    extra = ["--appendonly", "yes", "--appendfsync", "everysec"]
    akv = Server("arenakv", args.builddir, extra)
    ref = Server("redis", args.builddir, extra)
    res = {}
    for srv in (akv, ref):
        srv.start()
        with open(path, "rb") as f:
            subprocess.run(["redis-cli", "-p", str(srv.port), "--pipe"],
                           stdin=f, stdout=subprocess.DEVNULL, check=True)
        mem = srv.info("memory")
        res[srv.kind] = {"used": int(mem["used_memory"]) / n}
        subprocess.run(["redis-cli", "-p", str(srv.port), "bgrewriteaof"],
                       stdout=subprocess.DEVNULL)
        time.sleep(3 if args.quick else 8)
    try:
        # Re-attach: kill the supervisor, keep the arena.
        akv.proc.send_signal(signal.SIGKILL)
        akv.proc.wait()
        res["arenakv"]["reattach"] = akv.start()
        # Cold: a new arena loads the AOF (base + increments).
        akv.proc.send_signal(signal.SIGKILL)
        akv.proc.wait()
        os.unlink(akv.arena)
        res["arenakv"]["cold"] = akv.start()
        ref.proc.send_signal(signal.SIGTERM)
        ref.proc.wait()
        res["redis"]["cold"] = ref.start()
    finally:
        akv.stop()
        ref.stop()
    out.write("\n## Memory and restart, %d keys (16 B keys, 32 B values)\n\n"
              % n)
    out.write("| | arenakv | redis | ratio |\n|---|---|---|---|\n")
    out.write("| used_memory per key (bytes) | %.1f | %.1f | %.2f |\n" % (
        res["arenakv"]["used"], res["redis"]["used"],
        res["arenakv"]["used"] / res["redis"]["used"]))
    out.write("| restart, live arena re-attached (s) | %.3f | - | - |\n"
              % res["arenakv"]["reattach"])
    out.write("| restart, load from AOF after rewrite (s) | %.3f | %.3f | "
              "%.2f |\n" % (res["arenakv"]["cold"], res["redis"]["cold"],
                            res["arenakv"]["cold"] / res["redis"]["cold"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get(
        "AKV_BUILDDIR", os.path.join(os.path.dirname(__file__), "..")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, one size class: a smoke run")
    ap.add_argument("--out", help="also write the tables to this file")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
    out = io.StringIO()
    out.write("# arenakv vs redis-server (%s, %d run(s), median)\n"
              % (time.strftime("%Y-%m-%d"), args.runs))
    throughput(args, out)
    aof(args, out)
    memory_and_restart(args, out)
    sys.stdout.write(out.getvalue())
    if args.out:
        with open(args.out, "w") as f:
            f.write(out.getvalue())


if __name__ == "__main__":
    main()
