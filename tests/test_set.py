#!/usr/bin/python3
"""Set commands: arenakv-server against the reference redis-server.

* A fixed corpus (errors, edge cases, both encodings, RESP2 and RESP3)
  whose raw replies must be identical, except where Redis's order is not
  defined (a hashtable), which is compared as a sorted multiset.
* Seeded random streams of set commands, with the default
  set-max-intset-entries and with a small one so that conversions happen;
  SPOP and SRANDMEMBER are checked for validity and the two datasets are
  re-aligned from arenakv's answer.  The final datasets (members and
  OBJECT ENCODING) are compared.
* The AOF: sets of both encodings survive a reboot, and SPOP is logged as
  SREM.

Environment: AKV_SET_SEEDS="1,2" and AKV_SET_COMMANDS override the streams.
"""

import os
import random
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn,  # noqa: E402
                     parse_reply, encode, check, check_eq)

KEYS = [b"s1", b"s2", b"s3", b"{x}", b"", b"k\x00z"]
STRING_KEY = b"str"
HASH_KEY = b"hash"

INT_MEMBERS = [
    b"0", b"1", b"-1", b"2", b"7", b"42", b"-42", b"127", b"128",
    b"32767", b"32768", b"-32768", b"-32769", b"65536", b"2147483647",
    b"2147483648", b"-2147483648", b"-2147483649", b"9223372036854775807",
    b"-9223372036854775808", b"9223372036854775806", b"1000", b"999",
]
# Not integers to Redis (string2ll): they make a set a hashtable.
NON_INT_MEMBERS = [
    b"01", b"+1", b" 1", b"1 ", b"-0", b"00", b"0x10", b"9223372036854775808",
    b"-9223372036854775809", b"18446744073709551615", b"1.0", b"a", b"b",
    b"hello", b"", b"\x00", b"a\x00b", b"\r\n", b"\xff\xfe", b"x" * 70,
    b"-", b"1e3",
]

SET_REPLY_CMDS = {b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF"}


def norm(raw):
    """A reply with its aggregates' members sorted (undefined order)."""
    r = parse_reply(raw)
    if r[0] in "*~" and r[1] is not None:
        items = sorted(r[1], key=lambda i: encode(i))
        return encode(type(r)((r[0], items)))
    return raw


def members(raw):
    r = parse_reply(raw)
    check(r[0] in "*~", "aggregate reply: %r" % raw)
    return [i[1] for i in r[1]]


class Pair:
    """One connection to each server, in the same protocol and db."""

    def __init__(self, akv, ref, proto=2):
        self.a = RespConn(akv.port, timeout=30)
        self.r = RespConn(ref.port, timeout=30)
        self.proto = proto
        if proto == 3:
            self.both(b"HELLO", b"3", check_same=False)

    def close(self):
        self.a.close()
        self.r.close()

    def both(self, *args, check_same=True):
        ra, rr = self.a.command(*args), self.r.command(*args)
        if check_same:
            check(ra == rr, "%s: arenakv %r, reference %r"
                  % (fmt(args), ra, rr))
        return ra, rr

    def same_sorted(self, *args):
        ra, rr = self.a.command(*args), self.r.command(*args)
        check(norm(ra) == norm(rr), "%s: arenakv %r, reference %r"
              % (fmt(args), ra, rr))
        return ra, rr

    def ref_encoding(self, k):
        return self.r.command(b"OBJECT", b"ENCODING", k)


def fmt(args, limit=160):
    s = b" ".join(args)
    return repr(s[:limit])


def fresh(p, max_entries=None):
    p.both(b"FLUSHALL")
    p.both(b"CONFIG", b"SET", b"set-max-intset-entries",
           max_entries or b"512")


# ---------------------------------------------------------------- corpus

def corpus():
    S = b"s"
    return [
        # arity and syntax
        [b"SADD", S], [b"SREM", S], [b"SCARD"], [b"SISMEMBER", S],
        [b"SMISMEMBER", S], [b"SMOVE", S, b"d"], [b"SINTERCARD", b"1"],
        [b"SSCAN", S], [b"SPOP", S, b"1", b"2"],
        [b"SRANDMEMBER", S, b"1", b"2"], [b"SINTERSTORE", b"d"],
        # missing keys
        [b"SCARD", S], [b"SISMEMBER", S, b"1"], [b"SMISMEMBER", S, b"1",
                                                 b"a"],
        [b"SMEMBERS", S], [b"SPOP", S], [b"SPOP", S, b"3"],
        [b"SPOP", S, b"0"], [b"SRANDMEMBER", S], [b"SRANDMEMBER", S, b"3"],
        [b"SRANDMEMBER", S, b"-3"], [b"SREM", S, b"1"],
        [b"SMOVE", S, b"d", b"1"], [b"SINTER", S, b"t"],
        [b"SUNION", S, b"t"], [b"SDIFF", S, b"t"],
        [b"SINTERCARD", b"2", S, b"t"], [b"SSCAN", S, b"0"],
        [b"SINTERSTORE", b"d", S], [b"SUNIONSTORE", b"d", S],
        [b"SDIFFSTORE", b"d", S],
        # an intset
        [b"SADD", S, b"3", b"1", b"2", b"2", b"-5"],
        [b"OBJECT", b"ENCODING", S], [b"TYPE", S],
        [b"SMEMBERS", S], [b"SCARD", S], [b"SADD", S, b"1"],
        [b"SISMEMBER", S, b"1"], [b"SISMEMBER", S, b"01"],
        [b"SISMEMBER", S, b"+1"], [b"SMISMEMBER", S, b"1", b"9", b"2"],
        [b"SADD", S, b"70000"], [b"SADD", S, b"-9223372036854775808"],
        [b"SMEMBERS", S], [b"SREM", S, b"70000", b"70000", b"4"],
        [b"SMEMBERS", S], [b"OBJECT", b"ENCODING", S],
        [b"SSCAN", S, b"0"], [b"SSCAN", S, b"0", b"MATCH", b"*1*"],
        [b"SSCAN", S, b"0", b"COUNT", b"1"], [b"SSCAN", S, b"0", b"COUNT",
                                               b"0"],
        [b"SSCAN", S, b"0", b"COUNT", b"x"], [b"SSCAN", S, b"0", b"TYPE",
                                               b"set"],
        [b"SSCAN", S, b"0", b"MATCH"], [b"SSCAN", S, b"x"],
        [b"SSCAN", S, b"-1"], [b"SSCAN", S, b"18446744073709551616"],
        [b"SSCAN", S, b" 1"], [b"SSCAN", S, b"18446744073709551615"],
        [b"SPOP", S, b"-1"], [b"SPOP", S, b"x"],
        [b"SRANDMEMBER", S, b"x"],
        [b"SRANDMEMBER", S, b"-9223372036854775808"],
        [b"SRANDMEMBER", S, b"9223372036854775807"],
        [b"SRANDMEMBER", S, b"0"], [b"SRANDMEMBER", S, b"4"],
        [b"SRANDMEMBER", S, b"100"],
        [b"SADD", b"t", b"2", b"3", b"10"],
        [b"SINTER", S, b"t"], [b"SUNION", S, b"t"], [b"SDIFF", S, b"t"],
        [b"SDIFF", b"t", S], [b"SINTER", S, b"nokey"],
        [b"SUNION", S, b"nokey"], [b"SDIFF", S, b"nokey"],
        [b"SINTERCARD", b"2", S, b"t"],
        [b"SINTERCARD", b"2", S, b"t", b"LIMIT", b"1"],
        [b"SINTERCARD", b"2", S, b"t", b"LIMIT", b"0"],
        [b"SINTERCARD", b"2", S, b"t", b"LIMIT", b"-1"],
        [b"SINTERCARD", b"2", S, b"t", b"LIMIT", b"x"],
        [b"SINTERCARD", b"2", S, b"t", b"LIMIT"],
        [b"SINTERCARD", b"2", S, b"t", b"FOO", b"1"],
        [b"SINTERCARD", b"0", S], [b"SINTERCARD", b"-1", S],
        [b"SINTERCARD", b"x", S], [b"SINTERCARD", b"3", S, b"t"],
        [b"SINTERCARD", b"1", S, b"t"],
        [b"SINTERCARD", b"9223372036854775808", S],
        [b"SINTERSTORE", b"d", S, b"t"], [b"SMEMBERS", b"d"],
        [b"OBJECT", b"ENCODING", b"d"],
        [b"SUNIONSTORE", b"d", S, b"t"], [b"SMEMBERS", b"d"],
        [b"SDIFFSTORE", b"d", S, b"t"], [b"SMEMBERS", b"d"],
        [b"SDIFFSTORE", b"d", b"t", b"t"], [b"EXISTS", b"d"],
        [b"SUNIONSTORE", b"t", b"t", S], [b"SMEMBERS", b"t"],
        [b"SMOVE", S, b"e", b"1"], [b"SMOVE", S, b"e", b"1"],
        [b"SMEMBERS", b"e"], [b"OBJECT", b"ENCODING", b"e"],
        [b"SMOVE", S, S, b"2"], [b"SMOVE", S, S, b"99"],
        # wrong types
        [b"SET", b"str", b"x"], [b"SADD", b"str", b"1"],
        [b"SREM", b"str", b"1"], [b"SCARD", b"str"],
        [b"SISMEMBER", b"str", b"1"], [b"SMISMEMBER", b"str", b"1"],
        [b"SMEMBERS", b"str"], [b"SPOP", b"str"], [b"SPOP", b"str", b"1"],
        [b"SPOP", b"str", b"-1"], [b"SRANDMEMBER", b"str"],
        [b"SRANDMEMBER", b"str", b"2"], [b"SSCAN", b"str", b"0"],
        [b"SSCAN", b"str", b"x"], [b"SSCAN", b"str", b"0", b"TYPE", b"x"],
        [b"SMOVE", b"str", S, b"1"], [b"SMOVE", S, b"str", b"1"],
        [b"SMOVE", S, b"str", b"nope"], [b"SMOVE", b"nokey", b"str", b"1"],
        [b"SINTER", S, b"str"], [b"SINTER", b"nokey", b"str"],
        [b"SUNION", b"str", S], [b"SDIFF", b"nokey", b"str"],
        [b"SINTERCARD", b"2", b"nokey", b"str"],
        [b"SINTERSTORE", b"d", b"str"], [b"SUNIONSTORE", b"str", S],
        [b"TYPE", b"str"], [b"SINTERSTORE", b"str", b"nokey"],
        [b"EXISTS", b"str"], [b"SET", b"str", b"x"],
        [b"SDIFFSTORE", b"str", S, b"nokey"], [b"TYPE", b"str"],
        [b"GET", b"str"], [b"APPEND", b"str", b"x"],
        # hashes
        [b"HSET", b"h", b"f", b"v"], [b"SADD", b"h", b"1"],
        [b"SREM", b"h", b"1"], [b"SCARD", b"h"], [b"SISMEMBER", b"h", b"f"],
        [b"SMISMEMBER", b"h", b"f"], [b"SMEMBERS", b"h"], [b"SPOP", b"h"],
        [b"SPOP", b"h", b"2"], [b"SRANDMEMBER", b"h"],
        [b"SRANDMEMBER", b"h", b"-2"], [b"SSCAN", b"h", b"0"],
        [b"SMOVE", b"h", S, b"f"], [b"SMOVE", S, b"h", b"1"],
        [b"SINTER", S, b"h"], [b"SUNION", S, b"h"], [b"SDIFF", b"h", S],
        [b"SINTERCARD", b"2", S, b"h"], [b"SDIFFSTORE", b"d", S, b"h"],
        [b"HSET", b"h2", b"f", b"v"], [b"SUNIONSTORE", b"h2", S],
        [b"TYPE", b"h2"], [b"HGET", b"h", b"f"], [b"HGETALL", b"h2"],
        [b"HSET", S, b"f", b"v"], [b"HGET", b"str", b"f"],
        # emptied sets go away
        [b"SREM", b"e", b"1"], [b"EXISTS", b"e"],
        [b"SADD", b"p", b"5"], [b"SPOP", b"p"], [b"EXISTS", b"p"],
        [b"SADD", b"p", b"5", b"6"], [b"SPOP", b"p", b"5"],
        [b"EXISTS", b"p"],
        # conversions
        [b"SADD", b"c", b"1", b"2"], [b"SADD", b"c", b"a"],
        [b"OBJECT", b"ENCODING", b"c"], [b"SREM", b"c", b"a"],
        [b"OBJECT", b"ENCODING", b"c"], [b"SMEMBERS", b"c"],
        [b"SADD", b"c2", b"01"], [b"OBJECT", b"ENCODING", b"c2"],
        [b"SADD", b"c3", b"9223372036854775808"],
        [b"OBJECT", b"ENCODING", b"c3"],
        [b"SADD", b"c4", b"-9223372036854775808", b"9223372036854775807"],
        [b"OBJECT", b"ENCODING", b"c4"], [b"SMEMBERS", b"c4"],
        [b"SINTERSTORE", b"c5", b"c", b"c4"],
        [b"SUNIONSTORE", b"c5", b"c", b"c2"], [b"OBJECT", b"ENCODING",
                                                b"c5"],
        [b"SMOVE", b"c2", b"c6", b"01"], [b"OBJECT", b"ENCODING", b"c6"],
        [b"SISMEMBER", b"c6", b"1"], [b"SMISMEMBER", b"c6", b"01", b"1"],
        [b"SADD", b"bin", b"", b"\x00", b"a\r\nb"], [b"SCARD", b"bin"],
        [b"SISMEMBER", b"bin", b""], [b"SREM", b"bin", b"", b"\x00",
                                      b"a\r\nb"],
        [b"EXISTS", b"bin"],
        # keyspace commands on sets
        [b"SADD", b"r", b"1", b"2"], [b"RENAME", b"r", b"r2"],
        [b"SMEMBERS", b"r2"], [b"COPY", b"r2", b"r3"], [b"SMEMBERS", b"r3"],
        [b"OBJECT", b"ENCODING", b"r3"], [b"TYPE", b"r3"],
        [b"EXPIRE", b"r3", b"1000"], [b"SADD", b"r3", b"3"],
        [b"TTL", b"r3"], [b"SPOP", b"r3", b"1"], [b"TTL", b"r3"],
        [b"SREM", b"r3", b"1"], [b"TTL", b"r3"],
        [b"SADD", b"r3", b"x"], [b"TTL", b"r3"],
        [b"OBJECT", b"ENCODING", b"r3"], [b"GET", b"r3"],
        [b"SINTERSTORE", b"r3", b"r2"], [b"TTL", b"r3"],
        [b"SET", b"r2", b"v"], [b"TYPE", b"r2"], [b"DEL", b"r2", b"r3"],
    ]


def popped(raw, single):
    if raw in (b"$-1\r\n", b"_\r\n"):
        return []
    return [parse_reply(raw)[1]] if single else members(raw)


def realign(p, k, got_a, got_r):
    """The reference popped got_r, arenakv got_a: make the reference
    hold what arenakv holds."""
    if set(got_a) == set(got_r):
        return
    if got_r:
        p.r.command(b"SADD", k, *got_r)
    if got_a:
        p.r.command(b"SREM", k, *got_a)
    # A SPOP of most of a set rebuilds what is left, which may then be an
    # intset on one side only: rebuild the reference's from the same
    # members.
    enc = p.a.command(b"OBJECT", b"ENCODING", k)
    if enc == b"$6\r\nintset\r\n" and p.ref_encoding(k) != enc:
        ms = members(p.a.command(b"SMEMBERS", k))
        p.r.command(b"DEL", k)
        p.r.command(b"SADD", k, *ms)


def run_corpus(akv, ref, proto):
    p = Pair(akv, ref, proto)
    try:
        fresh(p)
        for cmd in corpus():
            enc = None
            if cmd[0] in SET_REPLY_CMDS | {b"SSCAN", b"SPOP",
                                          b"SRANDMEMBER"} and len(cmd) > 1:
                enc = p.ref_encoding(cmd[1])
            random_reply = cmd[0] in (b"SPOP", b"SRANDMEMBER") and \
                len(cmd) == 3 and cmd[2] not in (b"0", b"100") and \
                cmd[2].lstrip(b"-").isdigit() and \
                cmd[2] != b"9223372036854775807"
            if cmd[0] == b"SPOP" and len(cmd) == 2 or random_reply:
                ra, rr = p.both(*cmd, check_same=False)
                check_eq(ra[:1], rr[:1], fmt(cmd))
                if cmd[0] == b"SPOP" and ra[:1] not in b"-_":
                    realign(p, cmd[1], popped(ra, len(cmd) == 2),
                            popped(rr, len(cmd) == 2))
                continue
            strict = enc == b"$6\r\nintset\r\n" and cmd[0] in (
                b"SMEMBERS", b"SSCAN", b"SUNION", b"SDIFF", b"SRANDMEMBER",
                b"SPOP")
            if strict or cmd[0] not in SET_REPLY_CMDS:
                p.both(*cmd)
            else:
                p.same_sorted(*cmd)
    finally:
        p.close()


def test_corpus_resp2(akv, ref):
    run_corpus(akv, ref, 2)


def test_corpus_resp3(akv, ref):
    run_corpus(akv, ref, 3)


# ---------------------------------------------------------------- streams

def member(rng, mix, big=False):
    if big:
        if rng.random() < mix:
            return b"m%d" % rng.randint(0, 3000)
        return b"%d" % rng.randint(-2000, 2000)
    if mix and rng.random() < mix:
        return rng.choice(NON_INT_MEMBERS)
    if rng.random() < 0.3:
        return b"%d" % rng.randint(-300, 300)
    return rng.choice(INT_MEMBERS)


def ref_members(p, k):
    r = parse_reply(p.r.command(b"SMEMBERS", k))
    if r[0] == "-":
        return None
    return [i[1] for i in r[1]]


def check_spop(p, rng, k, mix):
    """SPOP on both; validate, then make the reference hold arenakv's
    result."""
    before = ref_members(p, k)
    args = [b"SPOP", k]
    if rng.random() < 0.6:
        args.append(b"%d" % rng.choice([rng.randint(0, 6),
                                        rng.randint(0, 1200)]))
    ra, rr = p.both(*args, check_same=False)
    if before is None or (ra[:1] == b"-" or rr[:1] == b"-"):
        check_eq(ra, rr, fmt(args))
        return
    check_eq(ra[:1], rr[:1], fmt(args))
    got_a, got_r = popped(ra, len(args) == 2), popped(rr, len(args) == 2)
    check_eq(len(got_a), len(got_r), "%s count" % fmt(args))
    check(len(set(got_a)) == len(got_a) and set(got_a) <= set(before),
          "%s: arenakv popped %r of %r" % (fmt(args), got_a, before))
    realign(p, k, got_a, got_r)


def check_srandmember(p, rng, k):
    before = ref_members(p, k)
    n = rng.choice([None, 0, 1, 2, 5, 50, -1, -3, -20, 200, 900])
    args = [b"SRANDMEMBER", k] + ([] if n is None else [b"%d" % n])
    ra, rr = p.both(*args, check_same=False)
    if before is None or n is None or not before:
        if n is None and before:
            check(parse_reply(ra)[1] in before, fmt(args))
            return
        check_eq(ra, rr, fmt(args))
        return
    got = members(ra)
    check_eq(len(got), len(members(rr)), fmt(args))
    check(set(got) <= set(before), "%s: %r not in %r" % (fmt(args), got,
                                                          before))
    if n > 0:
        check_eq(len(set(got)), len(got), "%s distinct" % fmt(args))


def sscan_all(conn, k):
    cur, out, first = b"0", [], None
    for _ in range(10000):
        raw = conn.command(b"SSCAN", k, cur, b"COUNT",
                           b"%d" % random.randint(1, 20))
        if first is None:
            first = raw
        r = parse_reply(raw)
        if r[0] == "-":
            return raw, None
        cur = r[1][0][1]
        out += [i[1] for i in r[1][1][1]]
        if cur == b"0":
            return first, out
    raise AssertionError("SSCAN did not end")


def step(p, rng, mix, big=False):
    k = rng.choice(KEYS + [STRING_KEY, HASH_KEY] *
                   (1 if rng.random() < 0.1 else 0))
    k2 = rng.choice(KEYS + [STRING_KEY, HASH_KEY])
    sizes = [1, 1, 2, 3, 6, 20] + ([100, 300] if big else [])
    ms = [member(rng, mix, big) for _ in range(rng.choice(sizes))]
    x = rng.random()
    if x < 0.25:
        p.both(b"SADD", k, *ms)
    elif x < 0.35:
        p.both(b"SREM", k, *ms)
    elif x < 0.40:
        p.both(b"SCARD", k)
    elif x < 0.45:
        p.both(b"SISMEMBER", k, ms[0])
    elif x < 0.48:
        p.both(b"SMISMEMBER", k, *ms)
    elif x < 0.53:
        enc = p.ref_encoding(k)
        if enc == b"$6\r\nintset\r\n":
            p.both(b"SMEMBERS", k)
        else:
            p.same_sorted(b"SMEMBERS", k)
    elif x < 0.58:
        check_spop(p, rng, k, mix)
    elif x < 0.62:
        check_srandmember(p, rng, k)
    elif x < 0.67:
        p.both(b"SMOVE", k, k2, ms[0])
    elif x < 0.80:
        ks = [rng.choice(KEYS + [b"nokey"]) for _ in range(rng.randint(1,
                                                                       3))]
        op = rng.choice([b"SINTER", b"SUNION", b"SDIFF"])
        if rng.random() < 0.4:
            p.both(op + b"STORE", rng.choice(KEYS), *ks)
        else:
            p.same_sorted(op, *ks)
    elif x < 0.84:
        ks = [rng.choice(KEYS + [b"nokey"]) for _ in range(rng.randint(1,
                                                                       3))]
        extra = [b"LIMIT", b"%d" % rng.randint(0, 4)] \
            if rng.random() < 0.5 else []
        p.both(b"SINTERCARD", b"%d" % len(ks), *ks, *extra)
    elif x < 0.88:
        intset = p.ref_encoding(k) == b"$6\r\nintset\r\n"
        fa, ma = sscan_all(p.a, k)
        fr, mr = sscan_all(p.r, k)
        if ma is None or mr is None:
            check_eq(fa, fr, "SSCAN %r" % k)
        else:
            check_eq(sorted(ma), sorted(mr), "SSCAN %r members" % k)
            check_eq(len(ma), len(set(ma)), "SSCAN %r duplicates" % k)
            if intset:
                check_eq(fa, fr, "SSCAN %r in one call" % k)
    elif x < 0.93:
        if k != HASH_KEY:
            p.both(b"OBJECT", b"ENCODING", k)
    elif x < 0.95:
        p.both(b"TYPE", k)
    elif x < 0.97:
        p.both(b"DEL", k)
    elif x < 0.985:
        p.both(b"SET", STRING_KEY, ms[0])
    else:
        # Only there: which encoding a hash has is not this test's concern.
        p.both(b"HSET", rng.choice([STRING_KEY, HASH_KEY]), ms[0], b"v")


def compare_datasets(p):
    for db in range(2):
        p.both(b"SELECT", b"%d" % db)
        p.same_sorted(b"KEYS", b"*")
        for k in KEYS + [STRING_KEY, HASH_KEY]:
            p.both(b"TYPE", k)
            if k != HASH_KEY:
                p.both(b"OBJECT", b"ENCODING", k)
            p.same_sorted(b"SMEMBERS", k)
    p.both(b"SELECT", b"0")


def run_stream(akv, ref, seed, proto, max_entries, mix, count, big=False):
    rng = random.Random(seed)
    random.seed(seed)
    p = Pair(akv, ref, proto)
    try:
        fresh(p, max_entries)
        for i in range(count):
            if rng.random() < 0.01:
                p.both(b"SELECT", b"%d" % rng.randint(0, 1))
            step(p, rng, mix, big)
        compare_datasets(p)
    finally:
        p.close()


def seeds():
    env = os.environ.get("AKV_SET_SEEDS")
    return [int(s) for s in env.split(",")] if env else [1, 2, 3]


def count():
    return int(os.environ.get("AKV_SET_COMMANDS", "3000"))


def test_streams_integers_default(akv, ref):
    for s in seeds():
        run_stream(akv, ref, s, 2, b"512", 0, count())


def test_streams_integers_small_limit(akv, ref):
    for s in seeds():
        run_stream(akv, ref, 100 + s, 2 + s % 2, b"8", 0, count())


def test_streams_mixed(akv, ref):
    for s in seeds():
        run_stream(akv, ref, 200 + s, 2 + s % 2, b"512", 0.2, count())


def test_streams_mixed_small_limit(akv, ref):
    for s in seeds():
        run_stream(akv, ref, 300 + s, 3 - s % 2, b"4", 0.05, count())


def test_streams_large_sets(akv, ref):
    for s in seeds():
        run_stream(akv, ref, 400 + s, 2 + s % 2, b"512", 0.1 * (s % 3),
                   count() // 3, big=True)


def test_config(akv, ref):
    p = Pair(akv, ref)
    try:
        p.both(b"CONFIG", b"GET", b"set-max-intset-entries")
        p.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"-1")
        p.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"x")
        p.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"3")
        p.both(b"CONFIG", b"GET", b"set-max-intset-entries")
        p.both(b"FLUSHALL")
        p.both(b"SADD", b"k", b"1", b"2", b"3")
        p.both(b"OBJECT", b"ENCODING", b"k")
        p.both(b"SADD", b"k", b"4")
        p.both(b"OBJECT", b"ENCODING", b"k")
        p.both(b"SREM", b"k", b"4", b"3")
        p.both(b"OBJECT", b"ENCODING", b"k")
        p.both(b"SADD", b"z", b"1", b"2", b"3", b"4")
        p.both(b"OBJECT", b"ENCODING", b"z")
        # SPOP of most of a set keeps the rest in a new set, an intset
        # again when it fits one; the TTL stays.
        p.both(b"SADD", b"q", b"1", b"2", b"3", b"4", b"5", b"6")
        p.both(b"EXPIRE", b"q", b"1000")
        p.both(b"OBJECT", b"ENCODING", b"q")
        p.both(b"SPOP", b"q", b"5", check_same=False)
        p.both(b"OBJECT", b"ENCODING", b"q")
        p.both(b"TTL", b"q")
        p.both(b"SCARD", b"q")
        p.both(b"SADD", b"q2", b"1", b"2", b"3", b"4", b"5", b"6")
        p.both(b"SPOP", b"q2", b"4", check_same=False)
        p.both(b"OBJECT", b"ENCODING", b"q2")
        p.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"0")
        p.both(b"SADD", b"y", b"1")
        p.both(b"OBJECT", b"ENCODING", b"y")
        p.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"512")
    finally:
        p.close()


# ---------------------------------------------------------------- AOF

def test_aof_reboot():
    import test_aof
    srv = test_aof.AofServer(fsync="always")
    srv.start()
    try:
        with RespConn(srv.port, timeout=30) as c:
            c.command(b"SADD", b"ints", b"3", b"1", b"2", b"70000")
            c.command(b"SADD", b"big", *[b"%d" % i for i in range(600)])
            c.command(b"SADD", b"strs", b"a", b"b", b"1", b"")
            c.command(b"SADD", b"pop", b"5", b"6", b"7", b"8")
            popped = parse_reply(c.command(b"SPOP", b"pop"))[1]
            popped2 = members(c.command(b"SPOP", b"pop", b"2"))
            c.command(b"SADD", b"src", b"x", b"y")
            c.command(b"SMOVE", b"src", b"dst", b"x")
            c.command(b"SUNIONSTORE", b"u", b"ints", b"strs")
            c.command(b"SINTERSTORE", b"i", b"ints", b"big")
            c.command(b"SDIFFSTORE", b"ints2", b"ints", b"nokey")
            c.command(b"SREM", b"strs", b"b")
            c.command(b"PEXPIRE", b"ints", b"100000000")
            before = {}
            for k in [b"ints", b"big", b"strs", b"pop", b"src", b"dst",
                      b"u", b"i", b"ints2"]:
                before[k] = (sorted(members(c.command(b"SMEMBERS", k))),
                             c.command(b"OBJECT", b"ENCODING", k))
        with open(srv.incr_file, "rb") as f:
            log = f.read()
        check(b"SPOP" not in log.upper(), "SPOP is not logged")
        check(b"SREM\r\n$3\r\npop\r\n$1\r\n" + popped in log,
              "SPOP logged as SREM: %r" % log[-400:])
        for m in popped2:
            check(b"\r\n" + m + b"\r\n" in log, "SPOP count member logged")
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port, timeout=30) as c:
            for k, (ms, enc) in before.items():
                check_eq(sorted(members(c.command(b"SMEMBERS", k))), ms,
                         "members of %r after reboot" % k)
                check_eq(c.command(b"OBJECT", b"ENCODING", k), enc,
                         "encoding of %r after reboot" % k)
            ttl = int(c.command(b"PTTL", b"ints")[1:-2])
            check(ttl > 0, "TTL kept after reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
