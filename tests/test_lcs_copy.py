#!/usr/bin/python3
"""COPY and LCS against the reference redis-server.

Fixed command lists are sent to both servers over RESP2 and RESP3 and the
raw replies compared byte for byte (through test_differential's Pair).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RedisServer, RespConn  # noqa: E402
from test_differential import Pair, run_list  # noqa: E402


def run_corpus(akv, ref, corpus, proto):
    pair = Pair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        run_list(pair, corpus, "corpus")
    finally:
        pair.close()


def copy_corpus():
    return [
        [b"COPY"], [b"COPY", b"a"],
        [b"COPY", b"nokey", b"b"],
        [b"SET", b"a", b"hello"],
        [b"COPY", b"a", b"a"],
        [b"COPY", b"a", b"a", b"DB", b"0"],
        [b"COPY", b"a", b"a", b"DB", b"1"], [b"GET", b"a"],
        [b"SELECT", b"1"], [b"GET", b"a"], [b"DEL", b"a"], [b"SELECT", b"0"],
        [b"COPY", b"a", b"b"], [b"GET", b"b"], [b"TTL", b"b"],
        [b"COPY", b"a", b"b"],
        [b"SET", b"a", b"world", b"EX", b"1000"],
        [b"COPY", b"a", b"b", b"REPLACE"], [b"GET", b"b"], [b"TTL", b"b"],
        [b"COPY", b"a", b"b", b"replace", b"REPLACE"],
        [b"COPY", b"a", b"b", b"DB"],
        [b"COPY", b"a", b"b", b"DB", b"16"],
        [b"COPY", b"a", b"b", b"DB", b"-1"],
        [b"COPY", b"a", b"b", b"DB", b"x"],
        [b"COPY", b"a", b"b", b"DB", b"99999999999"],
        [b"COPY", b"a", b"b", b"DB", b"1.5"],
        [b"COPY", b"a", b"b", b"FOO"],
        [b"COPY", b"a", b"b", b"REPLACE", b"FOO"],
        [b"COPY", b"a", b"b", b"DB", b"x", b"FOO"],
        [b"COPY", b"a", b"b", b"FOO", b"DB", b"x"],
        [b"COPY", b"a", b"b", b"DB", b"16", b"DB", b"2"],
        [b"COPY", b"a", b"b", b"DB", b"2", b"DB", b"16"],
        [b"COPY", b"a", b"c", b"DB", b"2"], [b"EXISTS", b"c"],
        [b"COPY", b"a", b"c", b"DB", b"2"],
        [b"SELECT", b"2"], [b"GET", b"c"], [b"TTL", b"c"],
        [b"SET", b"c", b"x"], [b"SELECT", b"0"],
        [b"COPY", b"a", b"c", b"db", b"2", b"replace"],
        [b"SELECT", b"2"], [b"GET", b"c"], [b"TTL", b"c"], [b"SELECT", b"0"],
        [b"COPY", b"a", b"a", b"DB", b"2", b"REPLACE"],
        [b"SELECT", b"2"], [b"GET", b"a"], [b"FLUSHDB"], [b"SELECT", b"0"],
        [b"SET", b"n", b"12345"], [b"COPY", b"n", b"n2"],
        [b"OBJECT", b"ENCODING", b"n2"], [b"TYPE", b"n2"],
        [b"SET", b"r", b"x" * 50], [b"COPY", b"r", b"r2"],
        [b"OBJECT", b"ENCODING", b"r2"],
        [b"SETRANGE", b"s", b"0", b"1"], [b"COPY", b"s", b"s2"],
        [b"OBJECT", b"ENCODING", b"s"], [b"OBJECT", b"ENCODING", b"s2"],
        [b"APPEND", b"ap", b"12"], [b"COPY", b"ap", b"ap2"],
        [b"OBJECT", b"ENCODING", b"ap2"],
        [b"SET", b"e", b""], [b"COPY", b"e", b"e2"], [b"GET", b"e2"],
        [b"EXISTS", b"e2"],
        [b"SET", b"k\x00z", b"bin\x00val"], [b"COPY", b"k\x00z", b"k\x00y"],
        [b"GET", b"k\x00y"],
        [b"COPY", b"k\x00z", b"k\x00Z"], [b"COPY", b"A", b"a"],
        [b"DBSIZE"], [b"KEYS", b"*"],
    ]


def test_copy_of_expired_keys(akv):
    """An expired source is missing, an expired destination free.  The
    keys expire 50 ms after they are set and are used 300 ms later, so
    they are expired whatever the machine's speed (kept out of the
    differential lists, where the two servers would have to agree on
    when a key expires)."""
    import time
    with RespConn(akv.port) as c:
        c.command(b"SET", b"a", b"v")
        c.command(b"SET", b"px", b"v", b"PX", b"50")
        c.command(b"SET", b"tgt", b"old", b"PX", b"50")
        time.sleep(0.3)
        akvtest.check_eq(c.command(b"COPY", b"px", b"px2"), b":0\r\n",
                         "COPY of an expired source")
        akvtest.check_eq(c.command(b"EXISTS", b"px2"), b":0\r\n",
                         "nothing copied")
        akvtest.check_eq(c.command(b"COPY", b"a", b"tgt"), b":1\r\n",
                         "COPY onto an expired destination")
        akvtest.check_eq(c.command(b"GET", b"tgt"), b"$1\r\nv\r\n",
                         "the copy")
        akvtest.check_eq(c.command(b"PTTL", b"tgt"), b":-1\r\n",
                         "no expiry on the copy")


def test_copy_resp2(akv, ref):
    run_corpus(akv, ref, copy_corpus(), 2)


def test_copy_resp3(akv, ref):
    run_corpus(akv, ref, copy_corpus(), 3)


def lcs_corpus():
    c = [
        [b"LCS"], [b"LCS", b"a"],
        [b"LCS", b"nokey1", b"nokey2"],
        [b"LCS", b"nokey1", b"nokey2", b"LEN"],
        [b"LCS", b"nokey1", b"nokey2", b"IDX"],
        [b"LCS", b"nokey1", b"nokey2", b"IDX", b"WITHMATCHLEN"],
        [b"SET", b"s", b"ohmytext"], [b"SET", b"t", b"mynewtext"],
        [b"LCS", b"s", b"t"], [b"LCS", b"t", b"s"], [b"LCS", b"s", b"s"],
        [b"LCS", b"s", b"t", b"LEN"], [b"LCS", b"s", b"t", b"len", b"LEN"],
        [b"LCS", b"s", b"t", b"IDX"],
        [b"LCS", b"s", b"t", b"IDX", b"WITHMATCHLEN"],
        [b"LCS", b"s", b"t", b"WITHMATCHLEN", b"idx"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"4"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"4",
         b"WITHMATCHLEN"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"-5"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"0"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"100"],
        [b"LCS", b"s", b"t", b"IDX", b"MINMATCHLEN", b"2", b"MINMATCHLEN",
         b"5"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN", b"4"],
        [b"LCS", b"s", b"t", b"LEN", b"MINMATCHLEN", b"4", b"WITHMATCHLEN"],
        [b"LCS", b"s", b"t", b"WITHMATCHLEN"],
        [b"LCS", b"s", b"t", b"LEN", b"IDX"],
        [b"LCS", b"s", b"t", b"IDX", b"LEN"],
        [b"LCS", b"s", b"t", b"LEN", b"IDX", b"FOO"],
        [b"LCS", b"s", b"t", b"FOO", b"LEN", b"IDX"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN", b"x"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN", b"x", b"LEN", b"IDX"],
        [b"LCS", b"s", b"t", b"LEN", b"IDX", b"MINMATCHLEN", b"x"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN", b"99999999999999999999"],
        [b"LCS", b"s", b"t", b"MINMATCHLEN", b"9223372036854775807",
         b"IDX"],
        [b"LCS", b"s", b"t", b"FOO"],
        [b"LCS", b"s", b"nokey"], [b"LCS", b"nokey", b"s", b"IDX"],
        [b"SET", b"e", b""], [b"LCS", b"e", b"s"], [b"LCS", b"e", b"e",
                                                    b"IDX"],
        [b"SET", b"x1", b"a"], [b"SET", b"x2", b"a"],
        [b"LCS", b"x1", b"x2", b"IDX", b"WITHMATCHLEN"],
        [b"SET", b"x3", b"b"], [b"LCS", b"x1", b"x3", b"IDX"],
        [b"LCS", b"x1", b"x3"],
        [b"SET", b"n1", b"12345"], [b"SET", b"n2", b"2x4"],
        [b"LCS", b"n1", b"n2", b"IDX", b"WITHMATCHLEN"],
        [b"SET", b"bin1", b"\x00a\xffb\r\nc\x00"],
        [b"SET", b"bin2", b"\xff\x00\r\nb\x00c"],
        [b"LCS", b"bin1", b"bin2"],
        [b"LCS", b"bin1", b"bin2", b"IDX", b"WITHMATCHLEN"],
    ]
    words = [b"aaaaaaaa", b"abababab", b"abcabcabcabc", b"the quick brown fox",
             b"quick brown the fox jumps", b"zzzzz", b"ACCGGTCGAGTGCGCGGAAGCCGGCCGAA",
             b"GTCGTTCGGAATGCCGTTGCTCTGTAAA", b"x" * 300, b"xy" * 160]
    for i, w in enumerate(words):
        c.append([b"SET", b"w%d" % i, w])
    for i in range(len(words)):
        for j in range(len(words)):
            a, b = b"w%d" % i, b"w%d" % j
            c += [[b"LCS", a, b], [b"LCS", a, b, b"LEN"],
                  [b"LCS", a, b, b"IDX", b"WITHMATCHLEN"],
                  [b"LCS", a, b, b"IDX", b"MINMATCHLEN", b"3"]]
    return c


def random_lcs_corpus(seed, n):
    import random
    rng = random.Random(seed)
    c = []
    for k in range(n):
        alpha = rng.choice([b"ab", b"abc", b"acgt", bytes(range(256))])
        for key in (b"r1", b"r2"):
            ln = rng.randint(0, 60)
            c.append([b"SET", key, bytes(rng.choice(alpha) for _ in range(ln))])
        c.append([b"LCS", b"r1", b"r2"])
        c.append([b"LCS", b"r1", b"r2", b"IDX", b"WITHMATCHLEN"])
        c.append([b"LCS", b"r1", b"r2", b"IDX", b"MINMATCHLEN",
                  str(rng.randint(0, 4)).encode()])
        c.append([b"LCS", b"r2", b"r1", b"LEN"])
    return c


def test_lcs_resp2(akv, ref):
    run_corpus(akv, ref, lcs_corpus(), 2)


def test_lcs_resp3(akv, ref):
    run_corpus(akv, ref, lcs_corpus(), 3)


def test_lcs_random(akv, ref):
    run_corpus(akv, ref, random_lcs_corpus(11, 150), 2)
    run_corpus(akv, ref, random_lcs_corpus(12, 50), 3)


def test_lcs_table_limit(akv, ref):
    """The DP table is refused beyond proto-max-bulk-len (1mb here): 602 *
    602 * 4 bytes exceeds it, 500 * 500 * 4 does not."""
    corpus = [
        [b"CONFIG", b"SET", b"proto-max-bulk-len", b"1mb"],
        [b"SETRANGE", b"big1", b"600", b"x"],
        [b"SETRANGE", b"big2", b"600", b"y"],
        [b"LCS", b"big1", b"big2"], [b"LCS", b"big1", b"big2", b"LEN"],
        [b"LCS", b"big1", b"nokey", b"IDX"],
        [b"LCS", b"big1", b"big2", b"LEN", b"IDX"],
        [b"SETRANGE", b"m1", b"498", b"x"],
        [b"SETRANGE", b"m2", b"498", b"x"],
        [b"LCS", b"m1", b"m2", b"LEN"],
        [b"LCS", b"m1", b"m2", b"IDX", b"WITHMATCHLEN"],
        [b"CONFIG", b"SET", b"proto-max-bulk-len", b"512mb"],
        [b"LCS", b"big1", b"big2", b"LEN"],
    ]
    run_corpus(akv, ref, corpus, 2)


def test_lcs_non_string_refused(ref):
    """Redis 7.0 refuses a key of another type before parsing the options
    (arenakv has no other type to make yet, so only the reference is
    checked here; the handler tests e_type the same way)."""
    with RespConn(ref.port) as r:
        r.command(b"FLUSHALL")
        r.command(b"HSET", b"h", b"f", b"v")
        r.command(b"SET", b"s", b"v")
        for args in ([b"LCS", b"h", b"s"], [b"LCS", b"s", b"h", b"FOO"]):
            akvtest.check_eq(r.command(*args),
                             b"-ERR The specified keys must contain string "
                             b"values\r\n", repr(args))


def test_copy_survives_aof_reboot():
    """COPY (same and other database, with REPLACE) reaches the AOF as the
    new values with their expiry, so a reboot replays the same data."""
    from test_aof import AofServer, dump, wait_drained
    if akvtest.against_redis():
        raise akvtest.SkipTest("arenakv's AOF reboot")
    srv = AofServer()
    srv.start()
    try:
        with RespConn(srv.port) as c:
            c.command(b"SET", b"a", b"v1", b"EX", b"1000")
            c.command(b"SETRANGE", b"r", b"3", b"x")
            c.command(b"SET", b"b", b"old")
            for args in ([b"COPY", b"a", b"b", b"REPLACE"],
                         [b"COPY", b"a", b"a", b"DB", b"1"],
                         [b"COPY", b"r", b"r", b"DB", b"2"],
                         [b"COPY", b"r", b"r2"]):
                akvtest.check_eq(c.command(*args), b":1\r\n", repr(args))
        before = dump(srv.port)
        akvtest.check_eq(len(before), 6, "keys before reboot")
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = dump(srv.port)
        akvtest.check_eq(after, before, "dataset after reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
