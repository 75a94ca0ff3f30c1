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
import re
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


# --- Hashes and sets -------------------------------------------------------

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
from akvtest import RespConn, pack_command  # noqa: E402

ELEMS = {"full": 1000000, "quick": 200000, "smoke": 20000}


def benchmark_cmd(port, command, clients, pipeline, n, rand=100000):
    """redis-benchmark running an arbitrary command (the words after the
    options; __rand_int__ becomes a 12-digit number below rand)."""
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-P",
            str(pipeline), "-n", str(n), "-r", str(rand), "--csv"] + command
    out = subprocess.run(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=600).stdout
    rows = list(csv.reader(io.StringIO(out.decode())))
    for row in rows[1:]:
        return {"rps": float(row[1]), "p50": float(row[4]),
                "p99": float(row[6])}
    raise RuntimeError("redis-benchmark printed no result for %s" % command)


def measure_cmd(server, command, clients, pipeline, n, runs, rand=100000):
    """Median of each figure over runs, with the spread of the rate."""
    results = []
    for _ in range(runs):
        c0 = server.cpu_seconds()
        r = benchmark_cmd(server.port, command, clients, pipeline, n, rand)
        time.sleep(0.2)
        r["cpu_us"] = (server.cpu_seconds() - c0) * 1e6 / n
        results.append(r)
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    med["min"] = min(r["rps"] for r in results)
    med["max"] = max(r["rps"] for r in results)
    return med


def pipe_commands(srv, commands):
    """Send a list of commands (lists of bytes) through redis-cli --pipe."""
    data = b"".join(pack_command(*c) for c in commands)
    subprocess.run(["redis-cli", "-p", str(srv.port), "--pipe"], input=data,
                   stdout=subprocess.DEVNULL, check=True)


def batched(cmd, key, items, batch=1000):
    """cmd key items... in commands of at most batch items (items are lists
    of arguments: [field, value] or [member])."""
    out = []
    for i in range(0, len(items), batch):
        args = [cmd, key]
        for it in items[i:i + batch]:
            args += it
        out.append(args)
    return out


def element_name(i):
    """What redis-benchmark's __rand_int__ makes of i."""
    return b"element:%012d" % i


def call(srv, *args):
    with RespConn(srv.port) as c:
        return c.command(*args)


def container_throughput(akv, ref, args, rows):
    scale = SCALE[args.size_class]
    for srv in (akv, ref):
        # A 100-field hash and two 1,000-member sets (half in common).
        pipe_commands(srv, batched(b"HSET", b"h100", [
            [b"field:%05d" % i, b"value:%05d" % i] for i in range(100)]))
        pipe_commands(srv, batched(b"SADD", b"s1000a", [
            [b"member:%05d" % i] for i in range(1000)]))
        pipe_commands(srv, batched(b"SADD", b"s1000b", [
            [b"member:%05d" % i] for i in range(500, 1500)]))
        # 10,000 packed hashes of 10 fields: the same commands spread
        # over many keys (and stripes) instead of one.
        pipe_commands(srv, [[b"HSET", b"hk:%012d" % k] + [
            x for i in range(10) for x in (b"f%d" % i, b"v" * 32)]
            for k in range(10000)])
    tests = [
        ("HSET", ["HSET", "myhash", "element:__rand_int__", "v" * 32]),
        ("HGET", ["HGET", "myhash", "element:__rand_int__"]),
        ("HINCRBY", ["HINCRBY", "counters", "element:__rand_int__", "1"]),
        ("SADD", ["SADD", "myset", "element:__rand_int__"]),
        ("SISMEMBER", ["SISMEMBER", "myset", "element:__rand_int__"]),
        ("HGETALL 100 fields", ["HGETALL", "h100"]),
        ("SINTER 1000x1000", ["SINTER", "s1000a", "s1000b"]),
        ("HSET 10000 packed keys", ["HSET", "hk:__rand_int__", "f5",
                                    "w" * 32]),
        ("HGET 10000 packed keys", ["HGET", "hk:__rand_int__", "f5"]),
    ]
    for name, command in tests:
        rand = 10000 if "10000" in name else 100000
        for pipeline in (1, 16):
            n = (100000 if pipeline == 1 else 400000) // scale
            if name.startswith(("HGETALL", "SINTER")):
                n //= 4 if pipeline == 1 else 10
            rows.append(("%s c=50 P=%d" % (name, pipeline),
                         measure_cmd(akv, command, 50, pipeline, n, args.runs,
                                     rand),
                         measure_cmd(ref, command, 50, pipeline, n,
                                     args.runs, rand)))
            print("#", rows[-1][0], "done", file=sys.stderr, flush=True)


def container_big_small(akv, ref, args, rows):
    """The same HSET / SADD into a container of ELEMS elements and into one
    of 100: fields __rand_int__ below the size, so the sizes stay."""
    big = ELEMS[args.size_class]
    n = 400000 // SCALE[args.size_class]
    for srv in (akv, ref):
        pipe_commands(srv, batched(b"HSET", b"bighash", [
            [element_name(i), b"v"] for i in range(big)]))
        pipe_commands(srv, batched(b"SADD", b"bigset", [
            [element_name(i)] for i in range(big)]))
    for kind, cmd, extra in (("HSET", "HSET", ["v"]), ("SADD", "SADD", [])):
        for size, key in ((100, "small"), (big, "big")):
            key += "hash" if kind == "HSET" else "set"
            command = [cmd, key, "element:__rand_int__"] + extra
            rows.append(("%s into %d elements c=50 P=16" % (kind, size),
                         measure_cmd(akv, command, 50, 16, n, args.runs,
                                     rand=size),
                         measure_cmd(ref, command, 50, 16, n, args.runs,
                                     rand=size)))
            print("#", rows[-1][0], "done", file=sys.stderr, flush=True)


def container_table(rows, out):
    out.write("| workload | arenakv rps | redis rps | ratio | arenakv rps "
              "min-max | redis rps min-max | arenakv CPU us/req | redis CPU "
              "us/req | arenakv p50/p99 ms | redis p50/p99 ms |\n"
              "|---|---|---|---|---|---|---|---|---|---|\n")
    for name, a, r in rows:
        out.write("| %s | %.0f | %.0f | %.2f | %.0f-%.0f | %.0f-%.0f | %.1f "
                  "| %.1f | %.3f/%.3f | %.3f/%.3f |\n" % (
                      name, a["rps"], r["rps"], a["rps"] / r["rps"],
                      a["min"], a["max"], r["min"], r["max"], a["cpu_us"],
                      r["cpu_us"], a["p50"], a["p99"], r["p50"], r["p99"]))


def big_small_ratios(rows, out):
    by = {name: (a, r) for name, a, r in rows}
    out.write("\n| container size, rate into 100 elements / into the big "
              "one | arenakv | redis |\n|---|---|---|\n")
    for kind in ("HSET", "SADD"):
        small = [v for k, v in by.items() if k.startswith(kind + " into 100 ")]
        bigr = [v for k, v in by.items() if k.startswith(kind + " into ")
                and not k.startswith(kind + " into 100 ")]
        if small and bigr:
            out.write("| %s big vs small | %.2f | %.2f |\n" % (
                kind, small[0][0]["rps"] / bigr[0][0]["rps"],
                small[0][1]["rps"] / bigr[0][1]["rps"]))


def used_memory(srv):
    return int(srv.info("memory")["used_memory"])


def container_memory(args, out):
    """used_memory per element after filling an empty server, both
    servers, four encodings."""
    big = ELEMS[args.size_class]
    nkeys = big // 100
    shapes = [
        ("packed hash (listpack): %d keys of 100 fields, 8 B names and "
         "values" % nkeys,
         [c for k in range(nkeys) for c in batched(
             b"HSET", b"ph:%06d" % k,
             [[b"f%07d" % i, b"v%07d" % i] for i in range(100)])], big),
        ("large hash (hashtable): 1 key of %d fields, 8 B names and values"
         % big, batched(b"HSET", b"lh", [[b"%08d" % i, b"%08d" % i]
                                         for i in range(big)]), big),
        ("packed set (intset): %d keys of 100 integers" % nkeys,
         [c for k in range(nkeys) for c in batched(
             b"SADD", b"is:%06d" % k, [[b"%d" % (i * 7919)]
                                       for i in range(100)])], big),
        ("large set (hashtable): 1 key of %d members of 8 B" % big,
         batched(b"SADD", b"ls", [[b"%08d" % i] for i in range(big)]), big),
    ]
    rows = []
    for name, commands, count in shapes:
        per = {}
        for kind in ("arenakv", "redis"):
            srv = Server(kind, args.builddir)
            srv.start()
            try:
                before = used_memory(srv)
                pipe_commands(srv, commands)
                enc = call(srv, b"OBJECT", b"ENCODING",
                           commands[-1][1]).split(b"\r\n")[1].decode()
                per[kind] = ((used_memory(srv) - before) / count, enc)
            finally:
                srv.stop()
        rows.append((name, per))
        print("#", name, "done", file=sys.stderr, flush=True)
    out.write("\n### Memory per element (used_memory growth / elements)\n\n"
              "| container | arenakv bytes | redis bytes | ratio | "
              "encodings |\n|---|---|---|---|---|\n")
    for name, per in rows:
        a, r = per["arenakv"], per["redis"]
        out.write("| %s | %.1f | %.1f | %.2f | %s / %s |\n" % (
            name, a[0], r[0], a[0] / r[0], a[1], r[1]))


def wait_answer(conn, *command):
    """Send command, return the seconds until its reply arrives."""
    t0 = time.monotonic()
    conn.command(*command, timeout=120)
    return time.monotonic() - t0


def container_repair_and_load(args, out):
    """A worker killed holding the stripe of a big hash, then a cold load
    of that hash from the base."""
    big = ELEMS[args.size_class]
    srv = Server("arenakv", args.builddir,
                 ["--enable-debug-command", "yes", "--appendonly", "yes",
                  "--appendfsync", "everysec", "--loglevel", "verbose"])
    srv.extra += ["--logfile", os.path.join(srv.dir, "log")]
    ref = Server("redis", args.builddir,
                 ["--appendonly", "yes", "--appendfsync", "everysec"])
    res = {"repair": [], "log": [], "cold": [], "redis_cold": []}
    fill = batched(b"HSET", b"bighash", [[element_name(i), b"v%07d" % i]
                                         for i in range(big)])
    try:
        srv.start()
        pipe_commands(srv, fill)
        for point in ("marked", "committed", "applied-half"):
            victim = RespConn(srv.port)
            other = RespConn(srv.port)
            other.command(b"PING")
            victim.command(b"DEBUG", b"FAULT", point.encode())
            victim.send_command(b"HSET", b"bighash", element_name(1), b"x")
            try:
                victim.read_reply(timeout=30)
                raise RuntimeError("the worker armed at %s lived" % point)
            except Exception as e:  # the connection ends with the worker
                if isinstance(e, RuntimeError):
                    raise
            t0 = time.monotonic()
            other.command(b"HLEN", b"bighash", timeout=120)
            res["repair"].append((point, time.monotonic() - t0))
            victim.close()
            other.close()
        with open(os.path.join(srv.dir, "log"), errors="replace") as f:
            res["log"] = re.findall(r"Repaired stripe .*", f.read())
        rewrite(srv)
        time.sleep(1.5)  # the everysec fsync of the tail
        for _ in range(3):
            res["cold"].append(restart_time(srv, signal.SIGKILL, True))
        res["hlen"] = call(srv, b"HLEN", b"bighash").decode().strip(":\r\n")
        ref.start()
        pipe_commands(ref, fill)
        rewrite(ref)
        for _ in range(3):
            res["redis_cold"].append(restart_time(ref, signal.SIGTERM))
    finally:
        srv.stop()
        ref.stop()
    out.write("\n### A 1M-field hash: repair after a killed worker, cold "
              "load\n\n" if big == 1000000 else
              "\n### A %d-field hash: repair after a killed worker, cold "
              "load\n\n" % big)
    out.write("| | arenakv | redis |\n|---|---|---|\n")
    for point, t in res["repair"]:
        out.write("| repair: worker killed at %s during HSET, kill to the "
                  "next HLEN's reply (ms) | %.2f | - |\n" % (point, t * 1e3))
    out.write("| cold load from the base after BGREWRITEAOF, exec to PONG, "
              "min/median/max of 3 (s); redis: RDB preamble | "
              "%.3f/%.3f/%.3f | %.3f/%.3f/%.3f |\n" % (
                  min(res["cold"]), statistics.median(res["cold"]),
                  max(res["cold"]), min(res["redis_cold"]),
                  statistics.median(res["redis_cold"]),
                  max(res["redis_cold"])))
    out.write("\nHLEN after the loads: %s.  Repair log lines:\n\n"
              % res["hlen"])
    for line in res["log"]:
        out.write("    %s\n" % line)


def containers(args, out):
    akv = Server("arenakv", args.builddir)
    ref = Server("redis", args.builddir)
    akv.start()
    ref.start()
    rows, big_rows = [], []
    try:
        container_throughput(akv, ref, args, rows)
        container_big_small(akv, ref, args, big_rows)
    finally:
        akv.stop()
        ref.stop()
    out.write("\n## Hashes and sets\n\n### Throughput, 50 clients "
              "(no persistence)\n\n")
    container_table(rows, out)
    out.write("\n### The same write into a big and a small container\n\n")
    container_table(big_rows, out)
    big_small_ratios(big_rows, out)
    container_memory(args, out)
    container_repair_and_load(args, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get(
        "AKV_BUILDDIR", os.path.join(os.path.dirname(__file__), "..")))
    ap.add_argument("--runs", type=int, default=None,
                    help="runs of each workload (default 3, 1 with --quick "
                    "or --smoke)")
    ap.add_argument("--quick", action="store_true",
                    help="one run, small sizes, GET and SET only")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes: proves every part runs, nothing more")
    ap.add_argument("--out", help="also write the tables to this file")
    ap.add_argument("--part", choices=("all", "strings", "containers"),
                    default="all", help="run only the string workloads or "
                    "only the hashes and sets")
    args = ap.parse_args()
    args.size_class = ("smoke" if args.smoke else
                       "quick" if args.quick else "full")
    if args.runs is None:
        args.runs = 3 if args.size_class == "full" else 1
    out = io.StringIO()
    t0 = time.monotonic()
    out.write("# arenakv vs redis-server (%s, %d run(s), median)\n"
              % (time.strftime("%Y-%m-%d"), args.runs))
    if args.part != "containers":
        throughput(args, out)
        aof(args, out)
        memory_and_restart(args, out)
    if args.part != "strings":
        containers(args, out)
    out.write("\nThe benchmark took %.0f s.\n" % (time.monotonic() - t0))
    sys.stdout.write(out.getvalue())
    if args.out:
        with open(args.out, "w") as f:
            f.write(out.getvalue())


if __name__ == "__main__":
    main()
