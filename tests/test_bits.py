#!/usr/bin/python3
"""SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP against the reference
redis-server: raw replies compared byte for byte (RESP2 and RESP3), then
the datasets (values, TTLs, encodings), and the bit values after an AOF
reboot.

Environment: AKV_BITS_SEEDS="1,2" overrides the random stream seeds,
AKV_BITS_COMMANDS their length.
"""

import os
import random
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RedisServer, RespConn  # noqa: E402
from akvtest import check, check_eq  # noqa: E402
from test_differential import Mismatch, Pair, run_list  # noqa: E402

DEFAULT_SEEDS = [1, 2, 3]
DEFAULT_COMMANDS = 1500

ONES = b"\xff" * 20
VALUES = [
    b"", b"a", b"foobar", b"\x00", b"\x00\x00\x00\x01", b"\xff", b"\xff\xf0",
    b"\x00\xff\x00", ONES, b"\x80" + b"\x00" * 30 + b"\x01", b"12345",
    b"-7", b"0", b"e" * 44, b"\xaa\x55" * 37, b"\xff" * 9 + b"\x7f",
]


def fixed_corpus():
    c = [[b"FLUSHALL"]]
    # GETBIT / SETBIT: argument order, bounds, growth, no-op writes.
    c += [
        [b"GETBIT", b"nokey", b"0"], [b"GETBIT", b"nokey", b"x"],
        [b"GETBIT", b"nokey", b"-1"], [b"GETBIT", b"nokey", b"4294967296"],
        [b"GETBIT", b"nokey", b"4294967295"], [b"GETBIT", b"nokey", b"1.5"],
        [b"GETBIT", b"nokey", b" 1"], [b"GETBIT", b"nokey", b"+1"],
        [b"GETBIT", b"nokey", b"99999999999999999999"],
        [b"SETBIT", b"k", b"x", b"1"], [b"SETBIT", b"k", b"-1", b"1"],
        [b"SETBIT", b"k", b"4294967296", b"1"], [b"SETBIT", b"k", b"1", b"2"],
        [b"SETBIT", b"k", b"1", b"-1"], [b"SETBIT", b"k", b"1", b"x"],
        [b"SETBIT", b"k", b"x", b"x"], [b"SETBIT", b"k", b"1", b""],
        [b"SETBIT", b"k", b"4294967296", b"x"], [b"EXISTS", b"k"],
        [b"SETBIT", b"k", b"7", b"1"], [b"GET", b"k"],
        [b"SETBIT", b"k", b"7", b"1"], [b"SETBIT", b"k", b"7", b"0"],
        [b"SETBIT", b"k", b"0", b"0"], [b"GET", b"k"],
        [b"SETBIT", b"k", b"100", b"1"], [b"GET", b"k"], [b"STRLEN", b"k"],
        [b"GETBIT", b"k", b"100"], [b"GETBIT", b"k", b"101"],
        [b"GETBIT", b"k", b"100000"], [b"SETBIT", b"k", b"100000", b"0"],
        [b"STRLEN", b"k"], [b"OBJECT", b"ENCODING", b"k"],
        [b"SET", b"n", b"12"], [b"OBJECT", b"ENCODING", b"n"],
        [b"GETBIT", b"n", b"2"], [b"OBJECT", b"ENCODING", b"n"],
        [b"SETBIT", b"n", b"0", b"0"], [b"OBJECT", b"ENCODING", b"n"],
        [b"GET", b"n"], [b"SET", b"s", b"abc"],
        [b"SETBIT", b"s", b"6", b"1"], [b"GET", b"s"],
        [b"OBJECT", b"ENCODING", b"s"],
        [b"SET", b"t", b"xyz", b"EX", b"100000"],
        [b"SETBIT", b"t", b"1", b"0"], [b"TTL", b"t"],
        [b"SETBIT", b"t", b"40", b"1"], [b"TTL", b"t"], [b"GET", b"t"],
        [b"SETBIT"], [b"SETBIT", b"k", b"1"], [b"GETBIT", b"k"],
        [b"GETBIT", b"k", b"1", b"2"], [b"getbit", b"k", b"7"],
    ]
    # BITCOUNT: ranges in bytes and bits, negatives, Redis's check order.
    c += [
        [b"SET", b"f", b"foobar"], [b"SET", b"e", b""],
        [b"SET", b"o", ONES], [b"SET", b"w", b"\xaa\x55" * 37],
        [b"BITCOUNT"], [b"BITCOUNT", b"nokey"],
        [b"BITCOUNT", b"nokey", b"a", b"b"], [b"BITCOUNT", b"nokey", b"1"],
        [b"BITCOUNT", b"nokey", b"0", b"1", b"FOO", b"x"],
        [b"BITCOUNT", b"e"], [b"BITCOUNT", b"e", b"0", b"-1"],
        [b"BITCOUNT", b"e", b"0", b"-1", b"BIT"],
    ]
    for key in (b"f", b"o", b"w", b"n"):
        c += [[b"BITCOUNT", key]]
        for s, e in ((0, 0), (1, 1), (0, -1), (-1, -1), (-2, -1), (2, 1),
                     (-1, -5), (-100, -200), (-100, 100), (3, 1000),
                     (100, 200), (5, 3), (1, 5), (0, 7), (7, 8), (9, 30),
                     (-9, -2), (13, 13), (0, 600)):
            rng = [str(s).encode(), str(e).encode()]
            c += [[b"BITCOUNT", key] + rng,
                  [b"BITCOUNT", key] + rng + [b"BYTE"],
                  [b"BITCOUNT", key] + rng + [b"bit"]]
    c += [
        [b"BITCOUNT", b"f", b"1"], [b"BITCOUNT", b"f", b"0", b"1", b"FOO"],
        [b"BITCOUNT", b"f", b"-1", b"-5", b"FOO"],
        [b"BITCOUNT", b"f", b"a", b"1", b"FOO"],
        [b"BITCOUNT", b"f", b"1", b"a"], [b"BITCOUNT", b"f", b"1", b"a", b"x"],
        [b"BITCOUNT", b"f", b"0", b"-1", b"bit", b"extra"],
        [b"BITCOUNT", b"f", b"9223372036854775807", b"-9223372036854775808"],
        [b"BITCOUNT", b"f", b"-9223372036854775808", b"9223372036854775807",
         b"BIT"],
        [b"BITCOUNT", b"f", b"0", b"9223372036854775808"],
    ]
    # BITPOS: the bit argument, ranges, missing end and all-ones rules.
    c += [
        [b"SET", b"z", b"\x00" * 20], [b"SET", b"p", b"\xff\xf0\x00"],
        [b"SET", b"q", b"\x00\x00\x00\x01"],
        [b"BITPOS"], [b"BITPOS", b"f"],
        [b"BITPOS", b"nokey", b"2"], [b"BITPOS", b"nokey", b"x"],
        [b"BITPOS", b"nokey", b"-1"], [b"BITPOS", b"nokey", b"1"],
        [b"BITPOS", b"nokey", b"0"], [b"BITPOS", b"nokey", b"1", b"a"],
        [b"BITPOS", b"nokey", b"0", b"1", b"2", b"FOO", b"x"],
        [b"BITPOS", b"f", b"1", b"a"], [b"BITPOS", b"f", b"0", b"0", b"abc",
                                        b"xyz"],
        [b"BITPOS", b"f", b"0", b"0", b"abc", b"bit"],
        [b"BITPOS", b"f", b"1", b"0", b"1", b"foo"],
        [b"BITPOS", b"f", b"1", b"0", b"1", b"BIT", b"x"],
        [b"BITPOS", b"e", b"0"], [b"BITPOS", b"e", b"1"],
        [b"BITPOS", b"e", b"0", b"0"], [b"BITPOS", b"e", b"0", b"0", b"-1"],
        [b"BITPOS", b"f", b"2"], [b"BITPOS", b"f", b"01"],
    ]
    for key in (b"f", b"o", b"z", b"p", b"q", b"w", b"n", b"k"):
        for bit in (b"0", b"1"):
            c += [[b"BITPOS", key, bit]]
            for s in (0, 1, 2, 3, -1, -2, -3, 7, 8, 9, 100, -100, 23, 24,
                      159, 160):
                sb = str(s).encode()
                c += [[b"BITPOS", key, bit, sb]]
                for e in (0, 1, 2, -1, -2, 5, 7, 8, 100, -100, 22, 23, 24,
                          158, 159, 160):
                    eb = str(e).encode()
                    c += [[b"BITPOS", key, bit, sb, eb],
                          [b"BITPOS", key, bit, sb, eb, b"BIT"]]
                c += [[b"BITPOS", key, bit, sb, b"-1", b"byte"]]
    # BITOP: names, arity, missing and empty sources, the destination.
    c += [
        [b"BITOP"], [b"BITOP", b"AND"], [b"BITOP", b"AND", b"d"],
        [b"BITOP", b"FOO", b"d", b"f"], [b"BITOP", b"NOT", b"d"],
        [b"BITOP", b"NOT", b"d", b"f", b"o"], [b"BITOP", b"ANDX", b"d", b"f"],
        [b"BITOP", b"NOT", b"d", b"f"], [b"GET", b"d"],
        [b"OBJECT", b"ENCODING", b"d"],
        [b"BITOP", b"not", b"d", b"nokey"], [b"EXISTS", b"d"],
        [b"SET", b"d", b"old", b"EX", b"100000"],
        [b"BITOP", b"AND", b"d", b"f", b"o"], [b"GET", b"d"],
        [b"TTL", b"d"], [b"BITOP", b"AND", b"d", b"nokey", b"e"],
        [b"EXISTS", b"d"], [b"SET", b"d", b"x"],
        [b"BITOP", b"OR", b"d", b"e"], [b"EXISTS", b"d"],
        [b"BITOP", b"XOR", b"d", b"nokey"], [b"EXISTS", b"d"],
    ]
    for op in (b"AND", b"OR", b"XOR", b"and", b"Or", b"xOr"):
        c += [
            [b"BITOP", op, b"d", b"f"], [b"GET", b"d"],
            [b"BITOP", op, b"d", b"f", b"o"], [b"GET", b"d"],
            [b"BITOP", op, b"d", b"o", b"f", b"w"], [b"GET", b"d"],
            [b"BITOP", op, b"d", b"f", b"nokey"], [b"GET", b"d"],
            [b"BITOP", op, b"d", b"nokey", b"f"], [b"GET", b"d"],
            [b"BITOP", op, b"d", b"e", b"w", b"q", b"n", b"p"],
            [b"GET", b"d"],
            [b"BITOP", op, b"d", b"w", b"w", b"d"], [b"GET", b"d"],
            [b"BITOP", op, b"w2", b"w", b"k", b"z", b"o"], [b"GET", b"w2"],
            [b"OBJECT", b"ENCODING", b"w2"],
        ]
    c += [
        [b"SET", b"self", b"\x0f\xf0abc"],
        [b"BITOP", b"XOR", b"self", b"self", b"f"], [b"GET", b"self"],
        [b"BITOP", b"NOT", b"self", b"self"], [b"GET", b"self"],
        [b"BITOP", b"AND", b"self", b"self", b"nokey"], [b"GET", b"self"],
        [b"BITOP", b"OR", b"self", b"self"], [b"GET", b"self"],
        [b"BITOP", b"OR", b"self", b"e"], [b"EXISTS", b"self"],
    ]
    return c


def test_fixed_corpus_resp2(akv, ref):
    pair = Pair(akv, ref, 2)
    try:
        run_list(pair, fixed_corpus(), "corpus")
        pair.compare_dataset([0])
    finally:
        pair.close()


def test_fixed_corpus_resp3(akv, ref):
    pair = Pair(akv, ref, 3)
    try:
        run_list(pair, fixed_corpus(), "corpus")
        pair.compare_dataset([0])
    finally:
        pair.close()


def stats(conn):
    info = conn.command(b"INFO", b"stats").decode()
    return {k: v for k, _, v in (line.partition(":")
                                 for line in info.split("\r\n"))
            if k in ("keyspace_hits", "keyspace_misses")}


BIT_COMMANDS = (b"SETBIT", b"GETBIT", b"BITCOUNT", b"BITPOS", b"BITOP",
                b"SET", b"GET", b"FLUSHALL")


def test_keyspace_hits_and_misses_as_redis(akv, ref):
    """Sources count a hit or a miss; SETBIT and BITOP's destination do
    not."""
    pair = Pair(akv, ref, 2)
    try:
        pair.run([b"CONFIG", b"RESETSTAT"])
        run_list(pair, [args for args in fixed_corpus()
                        if args[0].upper() in BIT_COMMANDS], "corpus")
        check_eq(stats(pair.a), stats(pair.r), "keyspace hits/misses")
    finally:
        pair.close()


def test_offset_limit_follows_proto_max_bulk_len(akv, ref):
    """The largest offset is proto-max-bulk-len * 8 - 1."""
    pair = Pair(akv, ref, 2)
    try:
        run_list(pair, [
            [b"FLUSHALL"],
            [b"CONFIG", b"SET", b"proto-max-bulk-len", b"1mb"],
            [b"SETBIT", b"big", b"8388608", b"1"],
            [b"GETBIT", b"big", b"8388608"],
            [b"SETBIT", b"big", b"8388607", b"1"], [b"STRLEN", b"big"],
            [b"GETBIT", b"big", b"8388607"], [b"BITCOUNT", b"big"],
            [b"BITPOS", b"big", b"1"], [b"BITPOS", b"big", b"0"],
            [b"BITPOS", b"big", b"1", b"-1"],
            [b"BITPOS", b"big", b"1", b"-2", b"-1", b"BIT"],
            [b"BITPOS", b"big", b"0", b"-1", b"-1", b"BIT"],
            [b"BITCOUNT", b"big", b"-3", b"-1", b"BIT"],
            [b"BITOP", b"NOT", b"inv", b"big"], [b"BITCOUNT", b"inv"],
            [b"BITPOS", b"inv", b"0"], [b"BITPOS", b"inv", b"1", b"1000"],
            [b"BITOP", b"XOR", b"x", b"inv", b"big"], [b"BITCOUNT", b"x"],
            [b"BITPOS", b"x", b"0"], [b"BITPOS", b"x", b"0", b"5", b"-1"],
            [b"CONFIG", b"SET", b"proto-max-bulk-len", b"512mb"],
            [b"FLUSHALL"],
        ], "corpus")
    finally:
        pair.close()


def random_command(rng, keys):
    k = rng.choice(keys)
    n = rng.random()
    num = lambda: str(rng.choice([0, 1, 2, 7, 8, 9, 15, 16, 63, 64, 65,  # noqa
                                  100, 255, 256, -1, -2, -8, -9, -100,
                                  rng.randint(-300, 300)])).encode()
    if n < 0.22:
        return [b"SETBIT", k, str(rng.choice([rng.randint(0, 200),
                                              rng.randint(0, 2000)])).encode(),
                rng.choice([b"0", b"1"])]
    if n < 0.34:
        return [b"GETBIT", k, str(rng.randint(0, 300)).encode()]
    if n < 0.5:
        args = [b"BITCOUNT", k]
        if rng.random() < 0.8:
            args += [num(), num()]
            if rng.random() < 0.7:
                args.append(rng.choice([b"BIT", b"BYTE"]))
        return args
    if n < 0.68:
        args = [b"BITPOS", k, rng.choice([b"0", b"1"])]
        r = rng.random()
        if r < 0.8:
            args.append(num())
        if r < 0.6:
            args.append(num())
        if r < 0.4:
            args.append(rng.choice([b"BIT", b"BYTE"]))
        return args
    if n < 0.8:
        op = rng.choice([b"AND", b"OR", b"XOR", b"NOT"])
        nsrc = 1 if op == b"NOT" else rng.randint(1, 4)
        return [b"BITOP", op, k] + [rng.choice(keys) for _ in range(nsrc)]
    if n < 0.88:
        return [b"SET", k, rng.choice(VALUES)]
    if n < 0.92:
        return [b"DEL", k]
    if n < 0.96:
        return [b"GET", k]
    return [b"APPEND", k, rng.choice(VALUES)]


def run_stream(akv, ref, seed, proto, count):
    rng = random.Random(seed)
    keys = [b"a", b"b", b"c", b"d", b"k\x00z", b"e"]
    pair = Pair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        for i in range(count):
            args = random_command(rng, keys)
            try:
                pair.run(args)
            except Mismatch as e:
                raise AssertionError("seed %d #%d: %s" % (seed, i, e))
        pair.compare_dataset([0])
    finally:
        pair.close()


def seeds():
    env = os.environ.get("AKV_BITS_SEEDS")
    return [int(s) for s in env.split(",")] if env else DEFAULT_SEEDS


def test_random_streams(akv, ref):
    count = int(os.environ.get("AKV_BITS_COMMANDS", DEFAULT_COMMANDS))
    for seed in seeds():
        t0 = time.monotonic()
        run_stream(akv, ref, seed, 2 if seed % 2 else 3, count)
        print("# seed %d: %d commands identical (%.1fs)"
              % (seed, count, time.monotonic() - t0))


def test_bits_survive_an_aof_reboot():
    from test_aof import AofServer, wait_drained
    srv = AofServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            c.command(b"SET", b"ttl", b"abc", b"EX", b"100000")
            for off in (0, 5, 63, 64, 1000):
                c.command(b"SETBIT", b"bm", str(off).encode(), b"1")
            c.command(b"SETBIT", b"bm", b"5", b"0")
            c.command(b"SETBIT", b"ttl", b"30", b"1")
            c.command(b"BITOP", b"NOT", b"inv", b"bm")
            c.command(b"SET", b"gone", b"x")
            c.command(b"BITOP", b"OR", b"gone", b"nokey")
            before = [c.command(b"GET", k) for k in (b"bm", b"inv", b"ttl")]
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            after = [c.command(b"GET", k) for k in (b"bm", b"inv", b"ttl")]
            check_eq(after, before, "values after reboot")
            check_eq(c.command(b"BITCOUNT", b"bm"), b":4\r\n", "BITCOUNT")
            check_eq(c.command(b"EXISTS", b"gone"), b":0\r\n", "deleted dest")
            ttl = int(c.command(b"TTL", b"ttl")[1:-2])
            check(0 < ttl <= 100000, "TTL kept through SETBIT: %d" % ttl)
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
