#!/usr/bin/python3
"""One container of a million elements through compaction and a cold load.

    bench/container_1m.py --builddir build [--type hash|set] [--n 1000000]

Starts arenakv-server with the AOF on (loglevel verbose), fills one hash
(fields of 10 bytes, values of 10) or one set (members of 10 bytes) with
N elements, then:

  * BGREWRITEAOF: the time to completion, and how long the stripe holding
    the container stayed locked while it was copied (the snapshot's own
    log line "the longest stripe copy held stripe S for X ms");
  * a reboot (supervisor killed, arena removed): the time from starting
    the supervisor to its first +PONG, which is the load of the base
    through HSET / SADD of 1000 elements at a time;
  * the element count and OBJECT ENCODING after the load."""

import argparse
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import akvtest  # noqa: E402
from test_aof import AofServer, wait_rewrite_done, wait_drained  # noqa


def fill(c, kind, n):
    batch = 1000
    for start in range(0, n, batch):
        if kind == "hash":
            args = []
            for i in range(start, min(n, start + batch)):
                args += [b"f%09d" % i, b"v%09d" % i]
            c.send_command(b"HSET", b"big", *args)
        else:
            c.send_command(b"SADD", b"big", *[b"m%09d" % i for i in
                                              range(start, min(n, start +
                                                               batch))])
        if start // batch % 50 == 49:
            c.read_replies(50)
    rest = (n + batch - 1) // batch % 50
    if rest:
        c.read_replies(rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--type", default="hash", choices=("hash", "set"))
    ap.add_argument("--n", type=int, default=1000000)
    opts = ap.parse_args()
    os.environ["AKV_BUILDDIR"] = os.path.abspath(opts.builddir)
    srv = AofServer(extra=["--loglevel", "verbose"])
    srv.start()
    try:
        with srv.connect() as c:
            t0 = time.monotonic()
            fill(c, opts.type, opts.n)
            print("fill: %.2f s" % (time.monotonic() - t0))
            t0 = time.monotonic()
            c.command(b"BGREWRITEAOF")
        wait_rewrite_done(srv.port)
        print("BGREWRITEAOF: %.2f s" % (time.monotonic() - t0))
        with open(srv.logpath, errors="replace") as f:
            held = re.findall(r"longest stripe copy held stripe \d+ for "
                              r"[0-9.]+ ms", f.read())
        print("lock: %s" % (held[-1] if held else "no log line"))
        wait_drained(srv.port)
        srv.crash(reboot=True)
        t0 = time.monotonic()
        srv.restart()
        print("cold load to +PONG: %.2f s" % (time.monotonic() - t0))
        with srv.connect() as c:
            count = c.command(b"HLEN" if opts.type == "hash" else b"SCARD",
                              b"big")
            enc = c.command(b"OBJECT", b"ENCODING", b"big")
        print("after the load: %r %r" % (count, enc))
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    main()
