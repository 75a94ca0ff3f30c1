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
from test_differential import Pair, Mismatch  # noqa: E402


def run_corpus(akv, ref, corpus, proto):
    pair = Pair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        for i, args in enumerate(corpus):
            try:
                pair.run(args)
            except Mismatch as e:
                raise AssertionError("#%d: %s" % (i, e))
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
        [b"SET", b"px", b"v", b"PX", b"1"], [b"DEBUG", b"SLEEP", b"0.01"],
        [b"COPY", b"px", b"px2"], [b"EXISTS", b"px2"],
        [b"SET", b"tgt", b"v", b"PX", b"1"], [b"DEBUG", b"SLEEP", b"0.01"],
        [b"COPY", b"a", b"tgt"], [b"GET", b"tgt"],
        [b"DBSIZE"], [b"KEYS", b"*"],
    ]


def test_copy_resp2(akv, ref):
    run_corpus(akv, ref, copy_corpus(), 2)


def test_copy_resp3(akv, ref):
    run_corpus(akv, ref, copy_corpus(), 3)


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
