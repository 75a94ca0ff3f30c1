#!/usr/bin/python3
"""BITFIELD and BITFIELD_RO against the reference redis-server.

A fixed corpus covers every error path, the type and offset limits and the
edge values of each overflow mode; seeded random streams mix many
operations per call over a few keys, with GET / OBJECT ENCODING / PEXPIRETIME
after them so the stored bytes, encoding and TTL are compared too.  Raw
replies are compared byte for byte, in RESP2 and RESP3.  A last test checks
that BITFIELD results survive an AOF reboot.

Environment: AKV_BF_SEEDS="1,2,3" overrides the seeds, AKV_BF_COMMANDS the
stream length.
"""

import os
import random
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RedisServer, check_eq  # noqa: E402
from test_differential import Pair, Mismatch, fmt_cmd, run_list  # noqa: E402

DEFAULT_SEEDS = [1, 2, 3, 4]
DEFAULT_RESP3_SEEDS = [11]
DEFAULT_COMMANDS = 1500
FAR = b"4102444800000"  # PEXPIREAT far in the future: an exact TTL to compare

KEYS = [b"bf", b"bf2", b"\x00k", b"missing"]

BAD_TYPES = [b"u64", b"i65", b"i0", b"u0", b"I8", b"U8", b"x8", b"", b"i",
             b"u", b"i08", b"i-1", b"u 8", b"i8 ", b"+i8", b"i+8", b"8",
             b"i9223372036854775808", b"i8\x00x"]
ODD_OFFSETS = [b"-1", b"abc", b"#-1", b"#", b"", b" 1", b"1 ", b"+1", b"01",
               b"0x10", b"4294967296", b"#4294967296", b"##1",
               b"9223372036854775807", b"#9223372036854775807",
               b"-9223372036854775808", b"#-9223372036854775808",
               b"#1152921504606846976", b"-0", b"#-0", b"#0", b"0"]
BAD_VALUES = [b"abc", b"", b"1.5", b" 1", b"9223372036854775808",
              b"-9223372036854775809", b"0x1", b"+1"]


def edge_values(sign, bits):
    if sign:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    vals = [lo, hi, lo - 1, hi + 1, 0, 1, -1, lo + 1, hi - 1, 2 * hi,
            -2 * hi - 5, (1 << 63) - 1, -(1 << 63), (hi - lo) // 2,
            -(1 << 63) + 1, -(1 << 63) + hi, -(1 << 63) + hi + 1,
            (1 << 63) - 1 + lo, (1 << 63) + lo]
    return [v for v in vals if -(1 << 63) <= v < (1 << 63)]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def chance(self, p):
        return self.rng.random() < p

    def case(self, word):
        r = self.rng.random()
        return word.upper() if r < 0.6 else word.lower() if r < 0.9 else \
            word.capitalize()

    def ftype(self):
        if self.chance(0.02):
            return None, 0, self.rng.choice(BAD_TYPES)
        sign = self.chance(0.5)
        r = self.rng.random()
        if r < 0.3:
            bits = self.rng.choice([1, 2, 7, 8, 15, 16, 31, 32, 33, 62, 63])
        elif r < 0.4:
            bits = 63 if not sign else 64
        else:
            bits = self.rng.randint(1, 64 if sign else 63)
        return sign, bits, (b"i" if sign else b"u") + b"%d" % bits

    def offset(self, bits):
        if self.chance(0.02):
            return self.rng.choice(ODD_OFFSETS)
        if self.chance(0.25):
            return b"#%d" % self.rng.randint(0, 12)
        if self.chance(0.03):
            return b"%d" % self.rng.randint(1000, 4000)
        return b"%d" % self.rng.randint(0, 120)

    def value(self, sign, bits):
        if self.chance(0.02):
            return self.rng.choice(BAD_VALUES)
        if sign is None:
            return b"1"
        if self.chance(0.6):
            return b"%d" % self.rng.choice(edge_values(sign, bits))
        if self.chance(0.5):
            return b"%d" % self.rng.randint(-(1 << 63), (1 << 63) - 1)
        return b"%d" % self.rng.randint(-300, 300)

    def overflow(self):
        if self.chance(0.03):
            return [b"OVERFLOW", self.rng.choice([b"wrapx", b"", b"SATURATE",
                                                  b"0"])]
        return [self.case(b"overflow"),
                self.case(self.rng.choice([b"wrap", b"sat", b"fail"]))]

    def op(self, readonly):
        r = self.rng.random()
        if r < 0.12:
            return self.overflow()
        sign, bits, t = self.ftype()
        off = self.offset(bits)
        if readonly and not self.chance(0.05) or r < 0.35:
            return [self.case(b"get"), t, off]
        if self.chance(0.01):
            return [self.rng.choice([b"GETX", b"SETT", b"INCR", b"#"])]
        name = self.case(b"set" if r < 0.6 else b"incrby")
        args = [name, t, off, self.value(sign, bits)]
        if self.chance(0.01):
            args.pop()  # too few arguments: a syntax error
        return args

    def bitfield(self):
        ro = self.chance(0.15)
        args = [b"BITFIELD_RO" if ro else b"BITFIELD",
                self.rng.choice(KEYS)]
        for _ in range(self.rng.choice([0, 1, 1, 2, 3, 4, 6, 10])):
            args += self.op(ro)
        return args

    def next(self):
        r = self.rng.random()
        k = self.rng.choice(KEYS)
        if r < 0.70:
            return self.bitfield()
        if r < 0.78:
            return [b"GET", k]
        if r < 0.82:
            v = self.rng.choice([b"", b"0", b"123", b"-7", b"\xff" * 9,
                                 b"hello world", os.urandom(3),
                                 b"9223372036854775807"])
            return [b"SET", k, v]
        if r < 0.85:
            return [b"PEXPIREAT", k, FAR]
        if r < 0.88:
            return [b"PEXPIRETIME", k]
        if r < 0.92:
            return [b"OBJECT", b"ENCODING", k]
        if r < 0.94:
            return [b"DEL", k]
        if r < 0.97:
            return [b"STRLEN", k]
        return [b"APPEND", k, b"\x80"]


def fixed_corpus():
    c = [[b"FLUSHALL"]]
    # Arity and parsing.
    c += [[b"BITFIELD"], [b"BITFIELD_RO"], [b"BITFIELD", b"k"],
          [b"BITFIELD_RO", b"k"], [b"BITFIELD", b"k", b"OVERFLOW", b"SAT"],
          [b"EXISTS", b"k"],
          [b"BITFIELD", b"k", b"GET"], [b"BITFIELD", b"k", b"GET", b"u8"],
          [b"BITFIELD", b"k", b"SET", b"u8", b"0"],
          [b"BITFIELD", b"k", b"INCRBY", b"u8", b"0"],
          [b"BITFIELD", b"k", b"OVERFLOW"],
          [b"BITFIELD", b"k", b"OVERFLOW", b"nope"],
          [b"BITFIELD", b"k", b"FOO", b"u8", b"0"],
          [b"BITFIELD", b"k", b"get\x00x", b"u8", b"0"],
          [b"BITFIELD", b"k", b"GET", b"u8", b"0", b"GET"],
          [b"EXISTS", b"k"]]
    for t in BAD_TYPES:
        c.append([b"BITFIELD", b"k", b"GET", t, b"0"])
        c.append([b"BITFIELD", b"k", b"SET", t, b"0", b"1"])
    for off in ODD_OFFSETS:
        c.append([b"BITFIELD", b"k", b"GET", b"u8", off])
        c.append([b"BITFIELD", b"k", b"INCRBY", b"i64", off, b"1"])
    for v in BAD_VALUES:
        c.append([b"BITFIELD", b"k", b"SET", b"u8", b"0", v])
        c.append([b"BITFIELD", b"k", b"INCRBY", b"i8", b"0", v])
    # A parse error anywhere changes nothing, even after valid writes.
    c += [[b"BITFIELD", b"k", b"SET", b"u8", b"0", b"255", b"GET", b"u64",
           b"0"],
          [b"BITFIELD", b"k", b"SET", b"u8", b"0", b"255", b"OVERFLOW",
           b"x"],
          [b"BITFIELD", b"k", b"SET", b"u8", b"0", b"255", b"INCRBY", b"u8",
           b"0", b"z"],
          [b"EXISTS", b"k"]]
    # Type limits and the offset limit (GETs read only: nothing allocated).
    c += [[b"BITFIELD", b"k", b"GET", b"i64", b"0", b"GET", b"u63", b"0",
           b"GET", b"i1", b"0", b"GET", b"u1", b"0"],
          [b"BITFIELD", b"k", b"GET", b"u8", b"4294967295"],
          [b"BITFIELD", b"k", b"GET", b"u8", b"#536870911"],
          [b"BITFIELD", b"k", b"GET", b"i64", b"#67108863"],
          [b"BITFIELD", b"k", b"GET", b"i64", b"#67108864"],
          [b"BITFIELD_RO", b"k", b"GET", b"u8", b"4294967296"]]
    # BITFIELD_RO refuses writes, after parsing, before the key is read.
    c += [[b"BITFIELD_RO", b"k", b"SET", b"u8", b"0", b"1"],
          [b"BITFIELD_RO", b"k", b"INCRBY", b"u8", b"0", b"1"],
          [b"BITFIELD_RO", b"k", b"GET", b"u8", b"0", b"OVERFLOW", b"FAIL",
           b"GET", b"i8", b"0"],
          [b"BITFIELD_RO", b"k", b"INCRBY", b"u8", b"0", b"x"],
          [b"BITFIELD_RO", b"k", b"SET", b"u99", b"0", b"1"],
          [b"BITFIELD_RO", b"k", b"GET", b"u8", b"0", b"SET", b"u8", b"0"],
          [b"EXISTS", b"k"]]
    # Edge values under every overflow mode, for several widths.
    for mode in (b"WRAP", b"SAT", b"FAIL"):
        for t in (b"i1", b"u1", b"i8", b"u8", b"i16", b"u31", b"i32",
                  b"i63", b"u63", b"i64"):
            sign, bits = t[:1] == b"i", int(t[1:])
            for v in edge_values(sign, bits):
                key = b"e:" + mode + t
                c.append([b"BITFIELD", key, b"OVERFLOW", mode, b"SET", t,
                          b"3", b"%d" % v, b"GET", t, b"3"])
                c.append([b"BITFIELD", key, b"OVERFLOW", mode, b"INCRBY", t,
                          b"3", b"%d" % v, b"INCRBY", t, b"#1", b"%d" % v])
            c.append([b"GET", b"e:" + mode + t])
    # FAIL still creates and pads the key; GET past the end reads zero.
    c += [[b"BITFIELD", b"f", b"OVERFLOW", b"FAIL", b"SET", b"u2", b"100",
           b"9"],
          [b"GET", b"f"], [b"STRLEN", b"f"], [b"OBJECT", b"ENCODING", b"f"],
          [b"BITFIELD", b"f", b"GET", b"u8", b"1000", b"SET", b"u8", b"0",
           b"1", b"GET", b"u16", b"0", b"INCRBY", b"u8", b"0", b"300",
           b"GET", b"i64", b"#100"]]
    # On an integer, an embstr and a value with a TTL.
    c += [[b"SET", b"n", b"12345"], [b"OBJECT", b"ENCODING", b"n"],
          [b"BITFIELD_RO", b"n", b"GET", b"u8", b"0", b"GET", b"i40", b"0"],
          [b"OBJECT", b"ENCODING", b"n"],
          [b"BITFIELD", b"n", b"GET", b"u8", b"0"],
          [b"OBJECT", b"ENCODING", b"n"],
          [b"BITFIELD", b"n", b"INCRBY", b"u8", b"0", b"0"],
          [b"GET", b"n"], [b"OBJECT", b"ENCODING", b"n"],
          [b"SET", b"s", b"hello"],
          [b"PEXPIREAT", b"s", FAR],
          [b"BITFIELD", b"s", b"SET", b"i8", b"#0", b"-1", b"INCRBY", b"u4",
           b"#3", b"-1", b"SET", b"u63", b"#2", b"-1"],
          [b"GET", b"s"], [b"PEXPIRETIME", b"s"],
          [b"OBJECT", b"ENCODING", b"s"],
          [b"BITFIELD", b"s", b"OVERFLOW", b"SAT", b"SET", b"u8", b"0",
           b"-1", b"SET", b"u8", b"8", b"-9223372036854775808",
           b"INCRBY", b"i64", b"0", b"-9223372036854775808",
           b"INCRBY", b"i64", b"0", b"9223372036854775807"],
          [b"GET", b"s"]]
    # Other encodings and the empty string.
    c += [[b"INCRBYFLOAT", b"fl", b"1.5"],
          [b"BITFIELD", b"fl", b"GET", b"u8", b"0"],
          [b"OBJECT", b"ENCODING", b"fl"],
          [b"BITFIELD", b"fl", b"INCRBY", b"u8", b"#0", b"1"],
          [b"GET", b"fl"], [b"OBJECT", b"ENCODING", b"fl"],
          [b"SET", b"em", b"x" * 44], [b"SET", b"rw", b"x" * 45],
          [b"BITFIELD_RO", b"em", b"GET", b"u8", b"#43", b"GET", b"u8",
           b"#44"],
          [b"OBJECT", b"ENCODING", b"em"], [b"OBJECT", b"ENCODING", b"rw"],
          [b"BITFIELD", b"em", b"SET", b"u1", b"351", b"1"],
          [b"OBJECT", b"ENCODING", b"em"], [b"GET", b"em"],
          [b"SET", b"z", b""],
          [b"BITFIELD", b"z", b"GET", b"i64", b"0"], [b"STRLEN", b"z"],
          [b"BITFIELD", b"z", b"OVERFLOW", b"FAIL", b"INCRBY", b"u1", b"0",
           b"2"],
          [b"GET", b"z"], [b"OBJECT", b"ENCODING", b"z"]]
    # Case of subcommands and modes; the mode applies to later ops only.
    c += [[b"bitfield", b"c", b"set", b"u8", b"0", b"250", b"incrby", b"u8",
           b"0", b"10", b"overflow", b"sat", b"incrby", b"u8", b"0", b"10",
           b"Overflow", b"Fail", b"incrby", b"u8", b"0", b"10",
           b"OVERFLOW", b"wrap", b"incrby", b"u8", b"0", b"10"],
          [b"GET", b"c"]]
    return c


def test_fixed_corpus_resp2(akv, ref):
    pair = Pair(akv, ref, 2)
    try:
        run_list(pair, fixed_corpus(), "fixed corpus")
    finally:
        pair.close()


def test_fixed_corpus_resp3(akv, ref):
    pair = Pair(akv, ref, 3)
    try:
        run_list(pair, fixed_corpus(), "fixed corpus (RESP3)")
    finally:
        pair.close()


def test_offsets_near_the_bulk_limit(akv, ref):
    """With proto-max-bulk-len at 1mb, writes up to the last bit below it
    are accepted (and pad the value), the next one is refused."""
    pair = Pair(akv, ref, 2)
    try:
        run_list(pair, [
            [b"FLUSHALL"],
            [b"CONFIG", b"SET", b"proto-max-bulk-len", b"1mb"],
            [b"BITFIELD", b"big", b"SET", b"u8", b"8388607", b"255"],
            [b"STRLEN", b"big"],
            [b"BITFIELD", b"big", b"SET", b"i64", b"8388607", b"-1"],
            [b"STRLEN", b"big"],
            [b"BITFIELD", b"big", b"SET", b"u8", b"8388608", b"255"],
            [b"BITFIELD", b"big", b"GET", b"i64", b"#131071",
             b"GET", b"u8", b"8388600", b"GET", b"i64", b"8388607"],
            [b"BITFIELD", b"big", b"GET", b"i64", b"#131072"],
            [b"STRLEN", b"big"],
            [b"DEL", b"big"],
        ], "bulk limit")
    finally:
        for conn in (pair.a, pair.r):
            conn.command(b"CONFIG", b"SET", b"proto-max-bulk-len", b"512mb")
        pair.close()


def _stats(conn):
    text = conn.command(b"INFO", b"stats").decode()
    return {k: v for k, _, v in (ln.partition(":") for ln in
                                 text.split("\r\n"))
            if k in ("keyspace_hits", "keyspace_misses")}


def test_hits_and_misses(akv, ref):
    """Only a call with nothing but GETs reads the key (a hit or a miss);
    one that writes, and BITFIELD_RO refusing a write, count neither."""
    pair = Pair(akv, ref, 2)
    try:
        run_list(pair, [[b"FLUSHALL"], [b"SET", b"h", b"abc"]], "setup")
        for conn in (pair.a, pair.r):
            conn.command(b"CONFIG", b"RESETSTAT")
        run_list(pair, [
            [b"BITFIELD", b"h", b"GET", b"u8", b"0"],
            [b"BITFIELD", b"nope", b"GET", b"u8", b"0"],
            [b"BITFIELD", b"nope"],
            [b"BITFIELD_RO", b"h", b"GET", b"i8", b"#1"],
            [b"BITFIELD", b"h", b"SET", b"u8", b"0", b"1"],
            [b"BITFIELD", b"nope2", b"INCRBY", b"u8", b"0", b"1"],
            [b"BITFIELD_RO", b"h", b"SET", b"u8", b"0", b"1"],
            [b"BITFIELD", b"h", b"GET", b"u99", b"0"],
        ], "hits")
        sa, sr = _stats(pair.a), _stats(pair.r)
        check_eq(len(sr), 2, "stats fields")
        check_eq(sa, sr, "keyspace hits/misses")
    finally:
        pair.close()


def seeds_from_env(var, default):
    v = os.environ.get(var)
    if not v:
        return default
    return [int(x) for x in v.replace(",", " ").split()]


def run_seed(akv, ref, seed, proto, count):
    gen = Generator(seed)
    pair = Pair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        for i in range(count):
            args = gen.next()
            try:
                pair.run(args)
            except Mismatch as e:
                raise Mismatch("seed %d (RESP%d), command #%d: %s\n"
                               "  previous commands:\n    %s" % (
                                   seed, proto, i, e,
                                   "\n    ".join(fmt_cmd(c, 60) for c in
                                                 pair.history[-8:-1])))
        for k in KEYS:
            pair.run([b"GET", k])
            pair.run([b"PEXPIRETIME", k])
            pair.run([b"OBJECT", b"ENCODING", k])
    finally:
        pair.close()


def _run_seeds(akv, ref, seeds, proto):
    count = int(os.environ.get("AKV_BF_COMMANDS", DEFAULT_COMMANDS))
    failures = []
    for seed in seeds:
        try:
            run_seed(akv, ref, seed, proto, count)
            print("# seed %d (RESP%d): %d commands identical"
                  % (seed, proto, count))
        except Mismatch as e:
            print("# MISMATCH %s" % e)
            failures.append(seed)
    akvtest.check(not failures, "mismatching seeds: %r" % failures)


def test_random_streams_resp2(akv, ref):
    _run_seeds(akv, ref, seeds_from_env("AKV_BF_SEEDS", DEFAULT_SEEDS), 2)


def test_random_streams_resp3(akv, ref):
    _run_seeds(akv, ref, seeds_from_env("AKV_BF_RESP3_SEEDS",
                                        DEFAULT_RESP3_SEEDS), 3)


def test_concurrent_incrby_loses_nothing(akv):
    """Connections (one worker process each) incrementing fields of one
    key at once: every increment lands, each reply is unique."""
    import threading
    conns = [akvtest.RespConn(akv.port) for _ in range(4)]
    conns[0].command(b"DEL", b"cc")
    seen, errors = [[] for _ in conns], []

    def work(i):
        try:
            for _ in range(200):
                r = akvtest.parse_reply(conns[i].command(
                    b"BITFIELD", b"cc", b"INCRBY", b"u32", b"0", b"1",
                    b"INCRBY", b"i8", b"#%d" % (8 + i), b"1"))
                seen[i].append(r.value[0].value)
        except Exception as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,))
               for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        check_eq(errors, [], "errors")
        got = sorted(int(v) for s in seen for v in s)
        check_eq(got, list(range(1, 801)), "INCRBY replies")
        r = akvtest.parse_reply(conns[0].command(
            b"BITFIELD_RO", b"cc", b"GET", b"u32", b"0", b"GET", b"i8",
            b"#8", b"GET", b"i8", b"#11"))
        check_eq([int(i.value) for i in r.value], [800, -56, -56],
                 "final fields")
    finally:
        for c in conns:
            c.close()


def test_values_survive_aof_reboot():
    if akvtest.against_redis():
        raise akvtest.SkipTest("arenakv's AOF only")
    import test_aof
    srv = test_aof.AofServer()
    srv.start()
    try:
        gen = Generator(99)
        with akvtest.RespConn(srv.port) as c:
            for _ in range(300):
                args = gen.bitfield()
                if args[0] == b"BITFIELD":
                    c.command(*args)
            c.command(b"PEXPIREAT", b"bf", FAR)
        before = test_aof.dump(srv.port, dbs=(0,))
        akvtest.check(len(before) >= 2, "keys made: %r" % before)
        test_aof.wait_drained(srv.port)
        # Calls that only read log nothing; a write logs its value.
        size = os.path.getsize(srv.incr_file)
        with akvtest.RespConn(srv.port) as c:
            c.command(b"BITFIELD", b"bf", b"GET", b"u8", b"0")
            c.command(b"BITFIELD_RO", b"bf", b"GET", b"i64", b"3")
            c.command(b"BITFIELD_RO", b"bf", b"SET", b"u8", b"0", b"1")
            c.command(b"BITFIELD", b"bf", b"GET", b"u99", b"0")
        test_aof.wait_drained(srv.port)
        check_eq(os.path.getsize(srv.incr_file), size, "AOF size after reads")
        with akvtest.RespConn(srv.port) as c:
            c.command(b"BITFIELD", b"bf", b"OVERFLOW", b"FAIL", b"INCRBY",
                      b"u8", b"0", b"-1000")
        test_aof.wait_drained(srv.port)
        akvtest.check(os.path.getsize(srv.incr_file) > size,
                      "a write call (even one FAIL refused) is logged")
        before = test_aof.dump(srv.port, dbs=(0,))
        srv.crash(reboot=True)
        srv.restart()
        check_eq(test_aof.dump(srv.port, dbs=(0,)), before,
                 "dataset after reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
