#!/usr/bin/python3
"""SAVE latency: how long SAVE takes on a server holding a few keys.

    bench/save_latency.py --builddir build [--n 50] [--hz 10]

Starts arenakv-server on a free loopback port (no AOF, no save rules),
writes a few keys, then times N consecutive SAVE commands and prints the
median, the 90th percentile and the maximum in milliseconds.  Each SAVE
writes a SQLite file and renames it into place, so the figure includes
the file system's fsync."""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import akvtest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--hz", type=int, default=10)
    opts = ap.parse_args()
    os.environ["AKV_BUILDDIR"] = os.path.abspath(opts.builddir)
    srv = akvtest.ArenakvServer(arenakv_args=["--save", "", "--hz",
                                              str(opts.hz)])
    with srv:
        with srv.connect() as c:
            for i in range(10):
                c.command(b"SET", b"key:%d" % i, b"value")
            times = []
            for _ in range(opts.n):
                t0 = time.monotonic()
                r = c.command(b"SAVE")
                times.append((time.monotonic() - t0) * 1000.0)
                if r != b"+OK\r\n":
                    sys.exit("SAVE failed: %r" % r)
    times.sort()
    print("SAVE x%d at hz %d: median %.1f ms, p90 %.1f ms, max %.1f ms" % (
        opts.n, opts.hz, times[len(times) // 2],
        times[int(len(times) * 0.9)], times[-1]))


if __name__ == "__main__":
    main()
