#!/usr/bin/python3
"""Hash commands against the reference redis-server.

A fixed corpus covers the errors, the number edges (HINCRBY overflow,
HINCRBYFLOAT of inf and nan, values that are not numbers), wrong types and
the encoding conversions; seeded random streams of hash commands run with
small thresholds (so hashes convert from listpack to hashtable) and with the
defaults, in RESP2 and RESP3.  Raw replies are compared byte for byte,
except where Redis defines no order: HGETALL / HKEYS / HVALS of a hashtable
hash are compared as multisets, HSCAN of one is iterated to the end on both
servers, HRANDFIELD is checked for validity (shape, membership, uniqueness
for a positive count).  The final datasets are compared, and a last test
checks that hashes of both encodings survive an AOF reboot, with
HINCRBYFLOAT logged as HSET.

Environment: AKV_HASH_SEEDS="1,2" overrides the seeds, AKV_HASH_COMMANDS
the stream length.
"""

import os
import random
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, check, check_eq,  # noqa
                     parse_reply, to_python)
from test_differential import Pair, Mismatch, fmt_cmd, run_list  # noqa: E402

# (seed, proto, small thresholds)
DEFAULT_SEEDS = [(1, 2, True), (2, 2, True), (3, 2, False), (4, 3, True),
                 (5, 3, False)]
DEFAULT_COMMANDS = 2500
FAR = b"4102444800000"

KEYS = [b"h", b"h2", b"\x00h\r\n", b"str", b"set", b"missing"]
FIELDS = [b"f", b"g", b"a", b"b", b"c", b"", b"\x00", b"\r\n", b"f\x00g",
          b"n", b"fl", b"1", b"-1", b"123", b"x" * 16, b"y" * 17, b"z" * 64,
          b"w" * 65, b"\xff\xfe"] + [b"k%d" % i for i in range(12)]
VALUES = [b"", b"v", b"0", b"1", b"-1", b"42", b"hello world", b"\x00\x00",
          b"\r\n", b"9223372036854775807", b"-9223372036854775808",
          b"1.5", b"3.0e3", b"inf", b"nan", b"01", b"+1", b" 1", b"x" * 16,
          b"y" * 17, b"z" * 64, b"w" * 65, b"q" * 200, b"\xff" * 3]
INCRS = [b"1", b"-1", b"0", b"5", b"-100", b"9223372036854775807",
         b"-9223372036854775808", b"9223372036854775808", b"abc", b"",
         b"1.0", b" 5", b"+5", b"007"]
FLOAT_INCRS = [b"1", b"1.5", b"-2.25", b"0.1", b"1e308", b"-1e308", b"inf",
               b"-inf", b"nan", b"abc", b"", b"-0", b" 1", b"5e-324",
               b"1.7976931348623157e308", b"123456789012345678", b"1e",
               b"0x10"]
COUNTS = [b"0", b"1", b"2", b"3", b"5", b"10", b"100", b"-1", b"-2", b"-5",
          b"-20", b"abc", b"", b"9223372036854775807",
          b"-9223372036854775808", b"4611686018427387903",
          b"4611686018427387904", b"1.5"]  # (no huge negative counts)
PATTERNS = [b"*", b"k*", b"k1?", b"[ab]", b"*\x00*", b"", b"?", b"x*",
            b"\\*", b"[", b"f"]
SMALL = [(b"hash-max-listpack-entries", b"8"),
         (b"hash-max-listpack-value", b"16")]
DEFAULTS = [(b"hash-max-listpack-entries", b"512"),
            (b"hash-max-listpack-value", b"64")]
UNORDERED = {b"HGETALL", b"HKEYS", b"HVALS"}


def seeds():
    v = os.environ.get("AKV_HASH_SEEDS")
    if not v:
        return DEFAULT_SEEDS
    out = []
    for i, s in enumerate(v.replace(",", " ").split()):
        out.append((int(s), 2 + i % 2, i % 3 != 2))
    return out


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.fields = list(FIELDS)
        self.values = list(VALUES)
        # (1e308 + 1e308 is 309 digits long: it converts the hash)
        self.fincrs = list(FLOAT_INCRS)

    def chance(self, p):
        return self.rng.random() < p

    def case(self, w):
        return w if self.chance(0.7) else w.lower()

    def field(self):
        return self.rng.choice(self.fields)

    def value(self):
        if self.chance(0.05):
            return self.rng.randbytes(self.rng.randint(0, 20))
        return self.rng.choice(self.values)

    def next(self):
        rng, k, f = self.rng, self.rng.choice(KEYS), self.field()
        r = rng.random()
        if r < 0.22:
            name = b"HSET" if self.chance(0.8) else b"HMSET"
            args = [self.case(name), k]
            for _ in range(rng.choice([1, 1, 2, 3, 5, 9])):
                args += [self.field(), self.value()]
            if self.chance(0.02):
                args.pop()
            return args
        if r < 0.27:
            return [self.case(b"HSETNX"), k, f, self.value()]
        if r < 0.35:
            return [self.case(b"HGET"), k, f]
        if r < 0.38:
            return [b"HMGET", k] + [self.field()
                                    for _ in range(rng.randint(1, 4))]
        if r < 0.46:
            return [self.case(b"HDEL"), k] + [self.field() for _ in
                                              range(rng.choice([1, 1, 2, 5]))]
        if r < 0.48:
            return [b"HLEN", k]
        if r < 0.50:
            return [b"HSTRLEN", k, f]
        if r < 0.52:
            return [b"HEXISTS", k, f]
        if r < 0.58:
            return [rng.choice([b"HKEYS", b"HVALS", b"HGETALL"]), k]
        if r < 0.65:
            return [self.case(b"HINCRBY"), k, rng.choice([b"n", b"f", f]),
                    rng.choice(INCRS)]
        if r < 0.71:
            return [self.case(b"HINCRBYFLOAT"), k,
                    rng.choice([b"fl", b"n", f]), rng.choice(self.fincrs)]
        if r < 0.77:
            args = [b"HRANDFIELD", k]
            if self.chance(0.8):
                args.append(rng.choice(COUNTS))
                if self.chance(0.5):
                    args.append(rng.choice([b"WITHVALUES", b"withvalues",
                                            b"withvalue", b"x"]))
            return args
        if r < 0.82:
            args = [b"HSCAN", k, rng.choice([b"0", b"0", b"0", b"x", b"-1",
                                              b"18446744073709551616"])]
            for _ in range(rng.choice([0, 0, 1, 2])):
                if self.chance(0.5):
                    args += [b"MATCH", rng.choice(PATTERNS)]
                else:
                    args += [b"COUNT", rng.choice([b"1", b"2", b"10", b"0",
                                                   b"-1", b"x"])]
            if self.chance(0.03):
                args.append(b"TYPE")
            return args
        if r < 0.87:
            return [b"OBJECT", b"ENCODING", k]
        if r < 0.89:
            return [b"TYPE", k]
        if r < 0.91:
            return [b"DEL", k]
        if r < 0.93:
            return [b"SET", k, self.value()]
        if r < 0.95:
            return [b"PEXPIREAT", k, FAR]
        if r < 0.97:
            return [b"PEXPIRETIME", k]
        if r < 0.98:
            return [b"GET", k]
        if r < 0.99:
            return [b"SADD", k, self.rng.choice([b"1", b"m"])]
        return [b"EXISTS", k]


def multiset(raw, pairs):
    """Sorted elements (or field/value pairs) of an aggregate reply."""
    items = [x[1] for x in parse_reply(raw)[1]]
    if pairs:
        items = list(zip(items[0::2], items[1::2]))
    return sorted(items)


class HashPair:
    """The same commands to both servers, compared as described above."""

    def __init__(self, akv, ref, proto):
        self.p = Pair(akv, ref, proto)
        self.proto = proto

    def close(self):
        self.p.close()

    def ref_encoding(self, k):
        return self.p.r.command(b"OBJECT", b"ENCODING", k)

    def ref_hash(self, k):
        """The reference's content of hash k, as {field: value}."""
        r = to_python(parse_reply(self.p.r.command(b"HGETALL", k)))
        if isinstance(r, dict):
            return r
        if isinstance(r, list):
            return dict(zip(r[0::2], r[1::2]))
        return {}

    def run(self, args):
        self.p.history.append(args)
        cmd = args[0].upper()
        if cmd == b"HRANDFIELD" and len(args) >= 3:
            return self.randfield(args)
        if cmd == b"HRANDFIELD":
            return self.randfield1(args)
        if cmd == b"HSCAN":
            return self.hscan(args)
        unordered = cmd in UNORDERED and len(args) == 2 and \
            self.ref_encoding(args[1]) == b"$9\r\nhashtable\r\n"
        ra, rr = self.p.both(args)
        if ra == rr:
            return
        if unordered and ra[:1] == rr[:1] and ra[:1] in b"*%":
            if multiset(ra, cmd == b"HGETALL") == \
                    multiset(rr, cmd == b"HGETALL") and \
                    ra.split(b"\r\n")[0] == rr.split(b"\r\n")[0]:
                return
        self.p.fail("reply differs", args, ra, rr)

    def randfield1(self, args):
        ra, rr = self.p.both(args)
        if ra == rr:
            return
        h = self.ref_hash(args[1])
        r = parse_reply(ra)
        if r.type == "$" and r.value in h and len(h) > 1:
            return
        self.p.fail("HRANDFIELD pick invalid", args, ra, rr)

    def randfield(self, args):
        ra, rr = self.p.both(args)
        if ra == rr:
            return
        a, r = parse_reply(ra), parse_reply(rr)
        if a.type != "*" or r.type != "*" or len(a.value) != len(r.value):
            self.p.fail("HRANDFIELD shape differs", args, ra, rr)
        h = self.ref_hash(args[1])
        withvalues = len(args) == 4
        picks = []
        items = a.value
        if withvalues and self.proto == 3:
            items = [x for pair in items for x in pair.value]
        step = 2 if withvalues else 1
        for i in range(0, len(items), step):
            fld = items[i].value
            if fld not in h or (withvalues and items[i + 1].value != h[fld]):
                self.p.fail("HRANDFIELD picked %r, not in the hash" % fld,
                            args, ra, rr)
            picks.append(fld)
        if int(args[2]) > 0 and len(set(picks)) != len(picks):
            self.p.fail("HRANDFIELD repeated a pick", args, ra, rr)

    def hscan(self, args):
        ra, rr = self.p.both(args)
        if ra == rr:
            return
        if self.ref_encoding(args[1]) != b"$9\r\nhashtable\r\n" or \
                ra[:1] != b"*":
            self.p.fail("reply differs", args, ra, rr)
        if args[2] != b"0":
            # From a cursor of its own, what a hashtable returns depends on
            # its layout: only check that the pairs are the hash's.
            h = self.ref_hash(args[1])
            items = [x.value for x in parse_reply(ra).value[1].value]
            for f, v in zip(items[0::2], items[1::2]):
                if h.get(f) != v:
                    self.p.fail("HSCAN returned %r" % f, args, ra, rr)
            return
        check_eq(self.scan_all(self.p.a, args), self.scan_all(self.p.r, args),
                 "HSCAN of %r iterated to the end" % args[1])

    @staticmethod
    def scan_all(conn, args):
        seen, cur = set(), b"0"
        while True:
            r = parse_reply(conn.command(*(args[:2] + [cur] + args[3:])))
            cur = r.value[0].value
            items = [x.value for x in r.value[1].value]
            seen.update(zip(items[0::2], items[1::2]))
            if cur == b"0":
                return sorted(seen)


def set_thresholds(pair, small):
    for name, val in (SMALL if small else DEFAULTS):
        pair.run([b"CONFIG", b"SET", name, val])


def final_dataset(pair):
    for k in KEYS:
        for args in ([b"TYPE", k], [b"OBJECT", b"ENCODING", k],
                     [b"HLEN", k], [b"HGETALL", k], [b"PEXPIRETIME", k]):
            pair.run(args)


def run_seed(akv, ref, seed, proto, small, count):
    gen = Generator(seed)
    pair = HashPair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        set_thresholds(pair, small)
        pair.run([b"SET", b"str", b"a string"])
        pair.run([b"SADD", b"set", b"1", b"2", b"3"])
        for i in range(count):
            args = gen.next()
            try:
                pair.run(args)
            except Mismatch as e:
                raise Mismatch("seed %d (RESP%d), command #%d: %s\n"
                               "  previous commands:\n    %s" % (
                                   seed, proto, i, e,
                                   "\n    ".join(fmt_cmd(c, 60) for c in
                                                 pair.p.history[-8:-1])))
        final_dataset(pair)
    finally:
        set_thresholds(pair, False)
        pair.close()


def test_random_streams(akv, ref):
    count = int(os.environ.get("AKV_HASH_COMMANDS", DEFAULT_COMMANDS))
    failures = []
    for seed, proto, small in seeds():
        try:
            run_seed(akv, ref, seed, proto, small, count)
            print("# seed %d (RESP%d, %s thresholds): %d commands identical"
                  % (seed, proto, "small" if small else "default", count))
        except Mismatch as e:
            print("# MISMATCH %s" % e)
            failures.append(seed)
    check(not failures, "mismatching seeds: %r" % failures)


def fixed_corpus():
    c = [[b"FLUSHALL"], [b"SET", b"str", b"x"], [b"SADD", b"set", b"1"]]
    # Arity, odd pairs, wrong types.
    c += [[b"HSET"], [b"HSET", b"h"], [b"HSET", b"h", b"f"],
          [b"HSET", b"h", b"f", b"v", b"g"], [b"HMSET", b"h", b"f"],
          [b"HSETNX", b"h", b"f"], [b"HGET", b"h"], [b"HMGET", b"h"],
          [b"HDEL", b"h"], [b"HLEN"], [b"HSTRLEN", b"h"], [b"HEXISTS", b"h"],
          [b"HKEYS"], [b"HVALS", b"h", b"x"], [b"HGETALL"],
          [b"HINCRBY", b"h", b"f"], [b"HINCRBYFLOAT", b"h", b"f"],
          [b"HRANDFIELD"], [b"HSCAN", b"h"], [b"EXISTS", b"h"]]
    for cmd in ([b"HSET", b"str", b"f", b"v"], [b"HMSET", b"str", b"f", b"v"],
                [b"HSETNX", b"str", b"f", b"v"], [b"HGET", b"str", b"f"],
                [b"HMGET", b"str", b"f"], [b"HDEL", b"str", b"f"],
                [b"HLEN", b"str"], [b"HSTRLEN", b"str", b"f"],
                [b"HEXISTS", b"str", b"f"], [b"HKEYS", b"str"],
                [b"HVALS", b"str"], [b"HGETALL", b"str"],
                [b"HINCRBY", b"str", b"f", b"1"],
                [b"HINCRBY", b"str", b"f", b"x"],
                [b"HINCRBYFLOAT", b"str", b"f", b"1"],
                [b"HINCRBYFLOAT", b"str", b"f", b"inf"],
                [b"HRANDFIELD", b"str"], [b"HRANDFIELD", b"str", b"0"],
                [b"HRANDFIELD", b"str", b"x"],
                [b"HRANDFIELD", b"str", b"1", b"x"],
                [b"HSCAN", b"str", b"0"], [b"HSCAN", b"str", b"x"],
                [b"HSCAN", b"str", b"0", b"COUNT", b"0"]):
        c.append(cmd)
        c.append([cmd[0], b"set"] + cmd[2:])
    c += [[b"HSET", b"h", b"f", b"v"], [b"GET", b"h"], [b"INCR", b"h"],
          [b"APPEND", b"h", b"x"], [b"STRLEN", b"h"], [b"MGET", b"h"],
          [b"TYPE", b"h"], [b"OBJECT", b"ENCODING", b"h"]]
    # Missing keys.
    c += [[b"HGET", b"nk", b"f"], [b"HMGET", b"nk", b"a", b"b"],
          [b"HDEL", b"nk", b"f"], [b"HLEN", b"nk"], [b"HSTRLEN", b"nk", b"f"],
          [b"HEXISTS", b"nk", b"f"], [b"HKEYS", b"nk"], [b"HVALS", b"nk"],
          [b"HGETALL", b"nk"], [b"HRANDFIELD", b"nk"],
          [b"HRANDFIELD", b"nk", b"3"], [b"HRANDFIELD", b"nk", b"-3",
                                         b"WITHVALUES"],
          [b"HRANDFIELD", b"nk", b"x"], [b"HSCAN", b"nk", b"0"],
          [b"HSCAN", b"nk", b"0", b"BAD"], [b"HSCAN", b"nk", b"x"]]
    # Order, update in place, deletion of the last field.
    c += [[b"HSET", b"o", b"c", b"3", b"a", b"1", b"b", b"2"],
          [b"HSET", b"o", b"a", b"10", b"d", b"4", b"a", b"11"],
          [b"HGETALL", b"o"], [b"HDEL", b"o", b"c", b"c", b"zz"],
          [b"HGETALL", b"o"], [b"HSETNX", b"o", b"a", b"x"],
          [b"HSETNX", b"o", b"e", b"5"], [b"HKEYS", b"o"], [b"HVALS", b"o"],
          [b"HSCAN", b"o", b"0"], [b"HSCAN", b"o", b"123"],
          [b"HSCAN", b"o", b"0", b"MATCH", b"[ab]", b"COUNT", b"1"],
          [b"HSCAN", b"o", b"0", b"COUNT", b"1", b"TYPE", b"string"],
          [b"HSCAN", b"o", b"-1"], [b"HSCAN", b"o", b"18446744073709551615"],
          [b"HSCAN", b"o", b"18446744073709551616"], [b"HSCAN", b"o", b" 1"],
          [b"HSCAN", b"o", b"0", b"COUNT", b"0"],
          [b"HSCAN", b"o", b"0", b"COUNT"], [b"HSCAN", b"o", b"0", b"MATCH"],
          [b"HRANDFIELD", b"o", b"100"],
          [b"HRANDFIELD", b"o", b"100", b"WITHVALUES"],
          [b"HRANDFIELD", b"o", b"4", b"withvalues"],
          [b"HRANDFIELD", b"o", b"0", b"WITHVALUES"],
          [b"HRANDFIELD", b"o", b"1", b"WITHVALUE"],
          [b"HRANDFIELD", b"o", b"1", b"WITHVALUES", b"x"],
          [b"HRANDFIELD", b"o", b"-9223372036854775808"],
          [b"HRANDFIELD", b"o", b"4611686018427387904", b"WITHVALUES"],
          [b"HRANDFIELD", b"o", b"-4611686018427387904", b"WITHVALUES"],
          [b"HRANDFIELD", b"o", b"9223372036854775808"],
          [b"HDEL", b"o", b"a", b"b", b"d", b"e"], [b"EXISTS", b"o"],
          [b"HDEL", b"o", b"a"]]
    # Binary and empty fields and values.
    c += [[b"HSET", b"bin", b"", b"", b"\x00", b"\x00\x01", b"\r\n", b"\r\n"],
          [b"HGETALL", b"bin"], [b"HGET", b"bin", b""],
          [b"HSTRLEN", b"bin", b"\x00"], [b"HEXISTS", b"bin", b""],
          [b"HDEL", b"bin", b""], [b"HGETALL", b"bin"]]
    # Numbers at the edges.
    c += [[b"HSET", b"n", b"i", b"9223372036854775806", b"s", b"abc",
           b"sp", b" 1", b"fl", b"1.5", b"e", b""],
          [b"HINCRBY", b"n", b"i", b"1"], [b"HINCRBY", b"n", b"i", b"1"],
          [b"HINCRBY", b"n", b"i", b"-9223372036854775808"],
          [b"HINCRBY", b"n", b"i", b"-9223372036854775808"],
          [b"HINCRBY", b"n", b"i", b"-9223372036854775808"],
          [b"HINCRBY", b"n", b"s", b"1"], [b"HINCRBY", b"n", b"sp", b"1"],
          [b"HINCRBY", b"n", b"fl", b"1"], [b"HINCRBY", b"n", b"e", b"1"],
          [b"HINCRBY", b"n", b"new", b"x"], [b"HINCRBY", b"n", b"new", b""],
          [b"HINCRBY", b"n", b"new", b"9223372036854775808"],
          [b"HINCRBY", b"n", b"new", b"-5"],
          [b"HINCRBYFLOAT", b"n", b"fl", b"0.1"],
          [b"HINCRBYFLOAT", b"n", b"fl", b"inf"],
          [b"HINCRBYFLOAT", b"n", b"fl", b"-inf"],
          [b"HINCRBYFLOAT", b"n", b"fl", b"nan"],
          [b"HINCRBYFLOAT", b"n", b"fl", b"abc"],
          [b"HINCRBYFLOAT", b"n", b"fl", b""],
          [b"HINCRBYFLOAT", b"n", b"s", b"1"],
          [b"HINCRBYFLOAT", b"n", b"e", b"1"],
          [b"HINCRBYFLOAT", b"n", b"i", b"1"],
          [b"HINCRBYFLOAT", b"n", b"big", b"1e308"],
          [b"HINCRBYFLOAT", b"n", b"big", b"1e308"],
          [b"HINCRBYFLOAT", b"n", b"big", b"1e4000"],
          [b"HSET", b"n", b"huge", b"1e4000"],
          [b"HINCRBYFLOAT", b"n", b"huge", b"1"],
          [b"HSET", b"n", b"sinf", b"inf"],
          [b"HINCRBYFLOAT", b"n", b"sinf", b"1"],
          [b"HINCRBYFLOAT", b"n", b"sinf", b"-inf"],
          [b"HINCRBYFLOAT", b"n", b"z", b"-0"],
          [b"HINCRBYFLOAT", b"n", b"z2", b"5e-324"],
          [b"HINCRBYFLOAT", b"n", b"z3", b"3.0e3"],
          [b"HGETALL", b"n"], [b"HINCRBYFLOAT", b"nk2", b"f", b"nan"],
          [b"EXISTS", b"nk2"], [b"HINCRBY", b"nk3", b"f", b"x"],
          [b"EXISTS", b"nk3"]]
    # TTL kept by writes.
    c += [[b"HSET", b"t", b"a", b"1"], [b"PEXPIREAT", b"t", FAR],
          [b"HSET", b"t", b"b", b"2"], [b"HINCRBY", b"t", b"a", b"1"],
          [b"HINCRBYFLOAT", b"t", b"a", b"1"], [b"HDEL", b"t", b"b"],
          [b"HSETNX", b"t", b"c", b"3"], [b"PEXPIRETIME", b"t"]]
    return c


def conversion_corpus():
    """Conversions: value length, entry count, HSETNX and HINCRBYFLOAT
    results, never back; the thresholds under both names."""
    c = [[b"FLUSHALL"]]
    c += [[b"CONFIG", b"SET", b"hash-max-listpack-entries", b"4"],
          [b"CONFIG", b"SET", b"hash-max-listpack-value", b"8"],
          [b"HSET", b"cv", b"a", b"12345678"], [b"OBJECT", b"ENCODING", b"cv"],
          [b"HSET", b"cv", b"a", b"123456789"],
          [b"OBJECT", b"ENCODING", b"cv"], [b"HDEL", b"cv", b"a"],
          [b"EXISTS", b"cv"],
          [b"HSET", b"cf", b"abcdefghi", b"1"],
          [b"OBJECT", b"ENCODING", b"cf"],
          [b"HSET", b"cn", b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"4"],
          [b"OBJECT", b"ENCODING", b"cn"], [b"HSET", b"cn", b"a", b"5"],
          [b"OBJECT", b"ENCODING", b"cn"], [b"HSET", b"cn", b"e", b"5"],
          [b"OBJECT", b"ENCODING", b"cn"],
          [b"HDEL", b"cn", b"a", b"b", b"c", b"d"],
          [b"OBJECT", b"ENCODING", b"cn"], [b"HGETALL", b"cn"],
          [b"HSET", b"cs", b"a", b"1"],
          [b"HSETNX", b"cs", b"a", b"123456789"],
          [b"OBJECT", b"ENCODING", b"cs"],
          [b"HSETNX", b"cs", b"b", b"123456789"],
          [b"OBJECT", b"ENCODING", b"cs"],
          [b"HSET", b"ci", b"f", b"1.5"],
          [b"HINCRBYFLOAT", b"ci", b"f", b"0.0000001"],
          [b"OBJECT", b"ENCODING", b"ci"], [b"HGET", b"ci", b"f"],
          [b"HSET", b"cl", b"a", b"1", b"b", b"123456789"],
          [b"OBJECT", b"ENCODING", b"cl"],
          [b"HSET", b"cm", b"a", b"1", b"b", b"2"],
          [b"HMSET", b"cm", b"a", b"123456789"],
          [b"OBJECT", b"ENCODING", b"cm"],
          [b"CONFIG", b"SET", b"hash-max-listpack-entries", b"0"],
          [b"HSET", b"c0", b"a", b"1"], [b"OBJECT", b"ENCODING", b"c0"],
          [b"CONFIG", b"SET", b"hash-max-ziplist-entries", b"512"],
          [b"CONFIG", b"SET", b"hash-max-ziplist-value", b"64"],
          [b"CONFIG", b"GET", b"hash-max-listpack-entries"],
          [b"CONFIG", b"GET", b"hash-max-listpack-value"],
          [b"CONFIG", b"GET", b"hash-max-ziplist-entries"],
          [b"CONFIG", b"SET", b"hash-max-listpack-entries", b"-1"],
          [b"CONFIG", b"SET", b"hash-max-listpack-entries", b"1k"],
          [b"CONFIG", b"SET", b"hash-max-listpack-value", b"1k"],
          [b"CONFIG", b"GET", b"hash-max-ziplist-value"],
          [b"CONFIG", b"SET", b"hash-max-listpack-value", b"x"],
          [b"CONFIG", b"SET", b"hash-max-listpack-value", b"64"]]
    return c


def test_fixed_corpus_resp2(akv, ref):
    pair = HashPair(akv, ref, 2)
    try:
        run_list(pair, fixed_corpus(), "fixed corpus")
    finally:
        pair.close()


def test_fixed_corpus_resp3(akv, ref):
    pair = HashPair(akv, ref, 3)
    try:
        run_list(pair, fixed_corpus(), "fixed corpus (RESP3)")
    finally:
        pair.close()


def test_conversions(akv, ref):
    for proto in (2, 3):
        pair = HashPair(akv, ref, proto)
        try:
            run_list(pair, conversion_corpus(), "conversions RESP%d" % proto)
        finally:
            set_thresholds(pair, False)
            pair.close()


def test_big_hash(akv, ref):
    """Thousands of fields: HSCAN with small counts across growth and
    deletions, HRANDFIELD counts around the size, the final content."""
    rng = random.Random(9)
    for proto in (2, 3):
        pair = HashPair(akv, ref, proto)
        try:
            pair.run([b"DEL", b"big"])
            for i in range(0, 3000, 100):
                pair.run([b"HSET", b"big"] + [x for j in range(i, i + 100)
                                              for x in (b"f%d" % j,
                                                        b"v%d" % j)])
                pair.run([b"HDEL", b"big"] + [b"f%d" % rng.randrange(i + 100)
                                              for _ in range(20)])
                pair.run([b"HLEN", b"big"])
                pair.run([b"HSCAN", b"big", b"0", b"COUNT",
                          rng.choice([b"1", b"7", b"100"])])
            for count in (b"1", b"5", b"2000", b"2999", b"3000", b"5000",
                          b"-3", b"-100"):
                pair.run([b"HRANDFIELD", b"big", count])
                pair.run([b"HRANDFIELD", b"big", count, b"WITHVALUES"])
            for cmd in (b"HGETALL", b"HKEYS", b"HVALS"):
                pair.run([cmd, b"big"])
            pair.run([b"HSCAN", b"big", b"0", b"MATCH", b"f1*", b"COUNT",
                      b"3"])
            pair.run([b"DEL", b"big"])
        finally:
            pair.close()


def test_config_get_pattern(akv, ref):
    """CONFIG GET hash-max-* names all four options (any order)."""
    pair = HashPair(akv, ref, 2)
    try:
        ra, rr = pair.p.both([b"CONFIG", b"GET", b"hash-max-*"])
        check_eq(multiset(ra, True), multiset(rr, True), "CONFIG GET")
    finally:
        pair.close()


def test_config_file_and_rewrite():
    """The ziplist names load from a file; CONFIG REWRITE writes the
    listpack name on the first line of either name and drops the later
    ones, as Redis 7.0."""
    if akvtest.against_redis():
        raise akvtest.SkipTest("arenakv's config file")
    import shutil
    import tempfile
    import test_operator
    d = tempfile.mkdtemp(prefix="akvhash-")
    conf = os.path.join(d, "arenakv.conf")
    with open(conf, "w") as f:
        f.write("hash-max-ziplist-entries 100\n# keep\n"
                "hash-max-ziplist-value 10\nhash-max-listpack-value 20\n")
    srv = test_operator.ConfServer(conf)
    srv.start()
    try:
        with srv.connect() as c:
            check_eq(c.command(b"CONFIG", b"GET", b"hash-max-listpack-value"),
                     b"*2\r\n$23\r\nhash-max-listpack-value\r\n$2\r\n20\r\n",
                     "the last line wins")
            check_eq(c.command(b"CONFIG", b"GET", b"hash-max-ziplist-entries"),
                     b"*2\r\n$24\r\nhash-max-ziplist-entries\r\n$3\r\n"
                     b"100\r\n", "alias")
            c.command(b"CONFIG", b"SET", b"hash-max-listpack-entries", b"200")
            check_eq(c.command(b"CONFIG", b"REWRITE"), b"+OK\r\n", "REWRITE")
        with open(conf) as f:
            lines = f.read().splitlines()
        check_eq(lines[:3], ["hash-max-listpack-entries 200", "# keep",
                             "hash-max-listpack-value 20"], "rewritten")
        check(not any("ziplist" in x for x in lines), lines)
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


def hash_dump(conn, keys):
    """Type, encoding, content (as a sorted multiset) and expiry of keys."""
    out = {}
    for k in keys:
        out[k] = (conn.command(b"TYPE", k),
                  conn.command(b"OBJECT", b"ENCODING", k),
                  multiset(conn.command(b"HGETALL", k), True)
                  if conn.command(b"TYPE", k) == b"+hash\r\n" else None,
                  conn.command(b"PEXPIRETIME", k))
    return out


def test_hashes_survive_aof_reboot(akv):
    if akvtest.against_redis():
        raise akvtest.SkipTest("arenakv's AOF only")
    import test_aof
    srv = test_aof.AofServer()
    srv.start()
    keys = [b"p%d" % i for i in range(8)] + [b"big", b"fl", b"ttl"]
    try:
        gen, krng = Generator(77), random.Random(7)
        with akvtest.RespConn(srv.port) as c:
            for _ in range(1500):
                args = gen.next()
                if args[0].upper().startswith(b"H"):
                    args[1] = krng.choice(keys)
                    c.command(*args)
            for i in range(600):
                c.command(b"HSET", b"big", b"f%d" % i, b"v%d" % i)
            c.command(b"HDEL", b"big", b"f7", b"f8")
            c.command(b"HINCRBYFLOAT", b"fl", b"x", b"1.25")
            c.command(b"HINCRBYFLOAT", b"fl", b"x", b"0.1")
            c.command(b"HINCRBY", b"fl", b"n", b"-7")
            c.command(b"HSETNX", b"fl", b"nx", b"1")
            c.command(b"HSETNX", b"fl", b"nx", b"2")
            c.command(b"HSET", b"ttl", b"a", b"1")
            c.command(b"PEXPIREAT", b"ttl", FAR)
            c.command(b"HINCRBY", b"ttl", b"a", b"1")
            before = hash_dump(c, keys)
        check_eq(before[b"big"][1], b"$9\r\nhashtable\r\n", "encoding")
        test_aof.wait_drained(srv.port)
        with open(srv.incr_file, "rb") as f:
            aof = f.read().upper()
        check(b"HINCRBYFLOAT" not in aof and b"HINCRBY\r\n" not in aof and
              b"HSETNX" not in aof, "increments and HSETNX logged as HSET")
        check(b"$2\r\nFL\r\n$1\r\nX\r\n$4\r\n1.35\r\n" in aof,
              "HINCRBYFLOAT logged as HSET of the result")
        srv.crash(reboot=True)
        srv.restart()
        with akvtest.RespConn(srv.port) as c:
            check_eq(hash_dump(c, keys), before, "hashes after reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
