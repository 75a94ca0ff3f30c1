#!/usr/bin/python3
"""The side-by-side benchmark runs from start to end.

bench/run.py --smoke starts both servers, runs every kind of workload,
fills and restarts them, and prints its tables.  This checks that each
row is there and that every figure is a positive number for both
servers: a workload that failed (a server that refused it, a restart
that never answered) leaves a row missing or a figure that is not.  The
figures themselves are not judged: timing never decides a test."""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import check, check_eq  # noqa: E402

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "bench", "run.py")

WORKLOADS = ["GET c=1 P=1 32B", "GET c=50 P=1 32B", "GET c=50 P=16 32B",
             "SET c=1 P=1 32B", "SET c=50 P=1 32B", "SET c=50 P=16 32B",
             "GET c=50 P=1 32B new-conn", "SET c=50 P=1 32B new-conn",
             "SET c=50 P=1 32B appendfsync always",
             "SET c=50 P=16 32B appendfsync always",
             "SET c=50 P=1 32B appendfsync everysec",
             "SET c=50 P=16 32B appendfsync everysec"]

CONTAINER_WORKLOADS = [
    "%s c=50 P=%d" % (name, p)
    for name in ("HSET", "HGET", "HINCRBY", "SADD", "SISMEMBER",
                 "HGETALL 100 fields", "SINTER 1000x1000",
                 "HSET 10000 packed keys", "HGET 10000 packed keys")
    for p in (1, 16)] + [
    "%s into %d elements c=50 P=16" % (cmd, n)
    for cmd in ("HSET", "SADD") for n in (100, 20000)]


def rows(text):
    """{first cell: [other cells]} for every table row."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| workload"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells[1:]
    return out


def positive(cell):
    """Every number in a cell (e.g. "0.123/0.456") is > 0."""
    nums = re.findall(r"[0-9]+(?:\.[0-9]+)?", cell)
    return bool(nums) and all(float(n) > 0 for n in nums)


_output = []


def bench_output():
    if not _output:
        p = subprocess.run([sys.executable, BENCH, "--smoke", "--builddir",
                            akvtest.builddir()], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        check_eq(p.returncode, 0, "bench/run.py --smoke exit status (%s)"
                 % p.stderr.decode(errors="replace")[-2000:])
        _output.append(p.stdout.decode())
    return _output[0]


def test_every_workload_has_figures_for_both_servers():
    table = rows(bench_output())
    for name in WORKLOADS + CONTAINER_WORKLOADS:
        check(name in table, "row %r missing" % name)
        rps_a, rps_r = table[name][0], table[name][1]
        check(positive(rps_a) and positive(rps_r),
              "%s: requests per second %r / %r" % (name, rps_a, rps_r))
        lat_a, lat_r = table[name][-2], table[name][-1]
        check(positive(lat_a) and positive(lat_r),
              "%s: latency %r / %r" % (name, lat_a, lat_r))


def test_memory_and_restart_rows():
    table = rows(bench_output())
    used = table.get("used_memory per key (bytes)")
    check(used is not None, "used_memory row missing")
    # 16-byte keys with 32-byte values cannot take less than 48 bytes.
    check(float(used[0]) > 48 and float(used[1]) > 48,
          "used_memory per key %r" % used)
    reattach = [v for k, v in table.items() if k.startswith("restart, live")]
    check(reattach and positive(reattach[0][0]), "re-attach %r" % reattach)
    loads = [v for k, v in table.items() if "load from AOF" in k or
             k.startswith("the same; redis: AOF of commands")]
    check_eq(len(loads), 2, "cold load rows")
    for v in loads:
        check(positive(v[0]) and positive(v[1]), "load times %r" % v)


def test_container_memory_repair_and_load_rows():
    table = rows(bench_output())
    for kind in ("HSET", "SADD"):
        big = table.get("%s big vs small" % kind)
        check(big is not None and positive(big[0]) and positive(big[1]),
              "%s big vs small %r" % (kind, big))
    shapes = [(k, v) for k, v in table.items() if k.startswith(
        ("packed hash", "large hash", "packed set", "large set"))]
    check_eq(len(shapes), 4, "memory rows")
    expected = {"packed hash": "listpack", "large hash": "hashtable",
                "packed set": "intset", "large set": "hashtable"}
    for name, v in shapes:
        check(positive(v[0]) and positive(v[1]), "%s: %r" % (name, v))
        enc = expected[" ".join(name.split()[:2])]
        check_eq(v[3], "%s / %s" % (enc, enc), "%s: encodings" % name)
    repairs = [v for k, v in table.items() if k.startswith("repair:")]
    check_eq(len(repairs), 3, "repair rows")
    for v in repairs:
        check(re.fullmatch(r"[0-9]+\.[0-9]+", v[0]), "repair time %r" % v)
    cold = [v for k, v in table.items() if k.startswith("cold load from")]
    check(cold and positive(cold[0][0]) and positive(cold[0][1]),
          "cold load %r" % cold)
    text = bench_output()
    check_eq(text.count("Repaired stripe"), 3, "repair log lines")
    check("HLEN after the loads: 20000." in text, "HLEN after the loads")


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=900)
