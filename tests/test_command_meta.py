#!/usr/bin/python3
"""COMMAND, COMMAND INFO / DOCS / COUNT / LIST / GETKEYS / GETKEYSANDFLAGS /
HELP against the reference redis-server, raw replies, RESP2 and RESP3.

Every command and subcommand in arenakv's COMMAND LIST must describe
itself exactly as Redis 7.0 does, so a table entry without metadata (or
with an arity that differs from Redis's) fails here.  Redis lists its
subcommands in hash order and has some that arenakv lacks: subcommand
lists are compared restricted to arenakv's and sorted by name.  Entries
that are arenakv's own on purpose (ARENAKV_ONLY) are checked apart.
"""

import fcntl
import os
import pty
import select
import shutil
import struct
import sys
import termios
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn,  # noqa: E402
                     parse_reply, encode, check, check_eq)

# Subcommands Redis 7.0 does not have (CLIENT SETINFO is Redis 7.2's).
ARENAKV_ONLY = {"client|setinfo"}


def conns(akv, ref, resp):
    a, r = RespConn(akv.port), RespConn(ref.port)
    if resp == 3:
        a.command("HELLO", "3")
        r.command("HELLO", "3")
    return a, r


def akv_list(akv):
    with RespConn(akv.port) as c:
        return [x.value.decode() for x in
                parse_reply(c.command("COMMAND", "LIST")).value]


def name_of(row):
    return row.value[0].value.decode()


def restrict_info(row, keep):
    """A COMMAND INFO row with its subcommand rows limited to `keep` and
    sorted by name (or the row itself when it has none)."""
    t, v = row
    if t != "*" or len(v) != 10 or v[9].type != "*":
        return row
    subs = sorted((s for s in v[9].value if name_of(s) in keep), key=name_of)
    return akvtest.Reply((t, v[:9] + [akvtest.Reply(("*", subs))]))


def restrict_docs(docmap, keep):
    t, v = docmap
    out = []
    for i in range(0, len(v), 2):
        val = v[i + 1]
        if v[i].value == b"subcommands":
            pairs = [(val.value[j], val.value[j + 1])
                     for j in range(0, len(val.value), 2)
                     if val.value[j].value.decode() in keep]
            pairs.sort(key=lambda p: p[0].value)
            val = akvtest.Reply((val.type, [x for p in pairs for x in p]))
        out += [v[i], val]
    return akvtest.Reply((t, out))


def compare_info(akv, ref, resp):
    names = akv_list(akv)
    keep = set(names) - ARENAKV_ONLY
    a, r = conns(akv, ref, resp)
    with a, r:
        for n in names:
            if n in ARENAKV_ONLY:
                continue
            got = parse_reply(a.command("COMMAND", "INFO", n))
            want = parse_reply(r.command("COMMAND", "INFO", n))
            check(want.value[0].type == "*",
                  "%s: not a Redis 7.0 command" % n)
            got = encode(restrict_info(got.value[0], keep))
            want = encode(restrict_info(want.value[0], keep))
            check_eq(got, want, "COMMAND INFO %s (RESP%d)" % (n, resp))
    return len(names)


def compare_docs(akv, ref, resp):
    names = akv_list(akv)
    keep = set(names) - ARENAKV_ONLY
    a, r = conns(akv, ref, resp)
    with a, r:
        for n in names:
            if n in ARENAKV_ONLY:
                continue
            got = parse_reply(a.command("COMMAND", "DOCS", n))
            want = parse_reply(r.command("COMMAND", "DOCS", n))
            check_eq(len(want.value), 2, "reference docs of %s" % n)
            got = encode(akvtest.Reply(
                (got.type, [got.value[0], restrict_docs(got.value[1],
                                                        keep)])))
            want = encode(akvtest.Reply(
                (want.type, [want.value[0], restrict_docs(want.value[1],
                                                          keep)])))
            check_eq(got, want, "COMMAND DOCS %s (RESP%d)" % (n, resp))


def test_info_resp2(akv, ref):
    check(compare_info(akv, ref, 2) > 50, "too few commands")


def test_info_resp3(akv, ref):
    compare_info(akv, ref, 3)


def test_docs_resp2(akv, ref):
    compare_docs(akv, ref, 2)


def test_docs_resp3(akv, ref):
    compare_docs(akv, ref, 3)


def test_arenakv_only_entries(akv):
    """The entries Redis 7.0 lacks still carry full metadata."""
    names = akv_list(akv)
    for n in ARENAKV_ONLY & set(names):
        with RespConn(akv.port) as c:
            c.command("HELLO", "3")
            row = akvtest.to_python(parse_reply(
                c.command("COMMAND", "INFO", n)))[0]
            docs = akvtest.to_python(parse_reply(
                c.command("COMMAND", "DOCS", n)))
        check_eq(row[0], n.encode(), "name")
        check(row[6], "%s has ACL categories" % n)
        d = docs[n.encode()]
        for k in (b"summary", b"since", b"group", b"complexity"):
            check(k in d, "%s docs have %r" % (n, k))


def test_whole_replies_resp2_resp3(akv, ref):
    """COMMAND, COMMAND INFO and COMMAND DOCS without names: one row per
    top-level command, the same rows as asked one by one; COUNT agrees."""
    names = akv_list(akv)
    top = [n for n in names if "|" not in n]
    for resp in (2, 3):
        a, _r = conns(akv, ref, resp)
        _r.close()
        with a:
            count = parse_reply(a.command("COMMAND", "COUNT"))
            check_eq(count, akvtest.Reply((":", b"%d" % len(top))), "COUNT")
            for args in (("COMMAND",), ("COMMAND", "INFO")):
                rows = parse_reply(a.command(*args)).value
                check_eq(sorted(name_of(x) for x in rows), sorted(top),
                         "%s rows" % " ".join(args))
                for row in rows[:5] + rows[-5:]:
                    one = parse_reply(a.command("COMMAND", "INFO",
                                                name_of(row)))
                    check_eq(encode(row), encode(one.value[0]),
                             "row of %s" % name_of(row))
            docs = parse_reply(a.command("COMMAND", "DOCS"))
            check_eq(sorted(docs.value[i].value.decode()
                            for i in range(0, len(docs.value), 2)),
                     sorted(top), "DOCS keys")


def test_list_and_filters(akv, ref):
    names = akv_list(akv)
    mine = set(names)
    with RespConn(ref.port) as r:
        theirs = [x.value.decode() for x in
                  parse_reply(r.command("COMMAND", "LIST")).value]
    check_eq(sorted(mine - ARENAKV_ONLY - set(theirs)), [],
             "commands Redis 7.0 lacks")
    check_eq(len(names), len(mine), "no name twice")
    for parent in [n for n in names if "|" not in n]:
        i = names.index(parent)
        subs = [n for n in names if n.startswith(parent + "|")]
        check_eq(names[i + 1:i + 1 + len(subs)], subs,
                 "%s's subcommands follow it" % parent)
    filters = [("ACLCAT", c) for c in
               ("string", "STRING", "keyspace", "read", "write", "fast",
                "slow", "admin", "dangerous", "connection", "bitmap", "hash",
                "set", "nosuch", "@string", "")]
    filters += [("PATTERN", p) for p in
                ("*", "get*", "CONFIG*", "*|*", "client|*", "?et", "[gs]et",
                 "nosuch", "", "\\*")]
    filters += [("MODULE", "x"), ("module", "")]
    with RespConn(akv.port) as a, RespConn(ref.port) as r:
        for kind, arg in filters:
            got = [x.value.decode() for x in parse_reply(
                a.command("COMMAND", "LIST", "FILTERBY", kind, arg)).value]
            want = [x.value.decode() for x in parse_reply(
                r.command("COMMAND", "LIST", "FILTERBY", kind, arg)).value]
            check_eq(sorted(set(got) - ARENAKV_ONLY),
                     sorted(set(want) & mine),
                     "FILTERBY %s %r" % (kind, arg))
        for args in (("FILTERBY",), ("FILTERBY", "ACLCAT"),
                     ("FILTERBY", "ACLCAT", "read", "x"),
                     ("FILTERBY", "nosuch", "x"), ("x",), ("x", "y", "z"),
                     ("FILTERBY", "PATTERN", "*", "FILTERBY", "ACLCAT",
                      "read")):
            check_eq(a.command("COMMAND", "LIST", *args),
                     r.command("COMMAND", "LIST", *args),
                     "COMMAND LIST %s" % " ".join(args))


GETKEYS = [
    ["get", "k"], ["get"], ["get", "a", "b"], ["set", "k", "v"],
    ["set", "k", "v", "GET"], ["set", "k", "v", "EX", "10", "get"],
    ["set", "k"], ["mget", "a", "b", "c"], ["mset", "a", "1", "b", "2"],
    ["mset", "a", "1", "b"], ["msetnx", "a", "1"], ["del", "a", "b"],
    ["unlink", "x"], ["exists", "a", "a"], ["rename", "a", "b"],
    ["copy", "a", "b", "DB", "1"], ["lcs", "a", "b", "LEN"],
    ["bitop", "AND", "d", "a", "b"], ["bitop", "NOT", "d", "a"],
    ["bitfield", "k", "GET", "u8", "0"], ["bitfield", "k"],
    ["bitfield", "k", "SET", "u8", "0", "1"],
    ["bitfield", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"],
    ["bitfield", "k", "OVERFLOW", "SAT", "GET", "u8"],
    ["bitfield", "k", "bogus"], ["bitfield_ro", "k", "GET", "u8", "0"],
    ["getex", "k", "PERSIST"], ["getdel", "k"], ["touch", "a", "b"],
    ["object", "encoding", "k"], ["object", "encoding"], ["object", "help"],
    ["object"], ["object", "nosuch", "k"], ["move", "k", "1"],
    ["expire", "k", "10", "NX"], ["keys", "*"], ["scan", "0"],
    ["ping"], ["nosuch", "x"], ["config", "get", "x"], ["config"],
    ["config", "nosuch"], ["client", "list"], ["command", "info"],
    ["command"], ["swapdb", "0", "1"], ["flushall"], ["setbit", "k", "1",
                                                      "1"],
    ["GET", "k"], ["Set", "k", "v", "gEt"], ["OBJECT", "ENCODING", "k"],
    ["sintercard", "2", "a", "b"], ["sintercard", "0", "a"],
    ["sintercard", "3", "a", "b"], ["sintercard", "x", "a"],
    ["sinterstore", "d", "a", "b"], ["smove", "a", "b", "m"],
    ["hset", "h", "f", "v"], ["sadd", "s", "m"],
    # hashes and sets: compared once the table has them
    ["hset", "h", "f"], ["hdel", "h", "f", "g"], ["hget", "h", "f"],
    ["hmget", "h", "f"], ["hgetall", "h"], ["hincrbyfloat", "h", "f", "1"],
    ["hrandfield", "h", "2", "WITHVALUES"], ["hscan", "h", "0"],
    ["hsetnx", "h", "f", "v"], ["hstrlen", "h", "f"], ["hkeys", "h"],
    ["sismember", "s", "m"], ["smismember", "s", "a", "b"],
    ["sinter", "a", "b"], ["sunion", "a"], ["sdiff", "a", "b", "c"],
    ["sinterstore", "d", "a"], ["sunionstore", "d", "a", "b"],
    ["sdiffstore", "d"], ["smove", "a", "b"], ["spop", "s", "3"],
    ["srandmember", "s"], ["sscan", "s", "0"], ["scard", "s"],
    ["srem", "s", "a", "b"], ["smembers", "s"],
    ["sintercard", "01", "a", "b"], ["sintercard", "1x", "a"],
    ["sintercard", "-1", "a"], ["sintercard", "2", "a", "b", "LIMIT", "5"],
    ["sintercard", "1", "a", "LIMIT"], ["sintercard", "2", "a"],
    ["sintercard", "9223372036854775808", "a"],
]


def test_getkeys(akv, ref):
    """GETKEYS and GETKEYSANDFLAGS on commands arenakv has; a command it
    lacks gets "Invalid command specified", as Redis does for its own."""
    have = set(akv_list(akv))
    for resp in (2, 3):
        a, r = conns(akv, ref, resp)
        with a, r:
            for args in GETKEYS:
                name = args[0].lower()
                if name not in have and name != "nosuch":
                    got = a.command("COMMAND", "GETKEYS", *args)
                    check_eq(got, b"-ERR Invalid command specified\r\n",
                             "GETKEYS of %s, which arenakv lacks" % name)
                    continue
                for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
                    check_eq(a.command("COMMAND", sub, *args),
                             r.command("COMMAND", sub, *args),
                             "COMMAND %s %s (RESP%d)" % (sub, " ".join(args),
                                                         resp))


def test_errors_and_help(akv, ref):
    cases = [
        ["COMMAND", "nosuch"], ["COMMAND", "count", "x"],
        ["COMMAND", "help"], ["COMMAND", "HELP", "x"], ["COMMAND", "GETKEYS"],
        ["COMMAND", "GETKEYS", "get"], ["COMMAND", "GETKEYSANDFLAGS", "x"],
        ["COMMAND", "INFO", "nosuch"], ["COMMAND", "INFO", "nosuch", "get"],
        ["COMMAND", "INFO", "config|get"], ["COMMAND", "INFO", "CONFIG|GET"],
        ["COMMAND", "INFO", "config|nosuch"], ["COMMAND", "INFO", "get|x"],
        ["COMMAND", "INFO", "config|get|x"], ["COMMAND", "INFO", "|"],
        ["COMMAND", "INFO", ""], ["COMMAND", "INFO", "config|"],
        ["COMMAND", "DOCS", "nosuch"], ["COMMAND", "DOCS", "get|x"],
        ["COMMAND", "DOCS", "nosuch", "GET", "nosuch2"],
        ["COMMAND", "DOCS", "config|get"], ["COMMAND", "DOCS", "CONFIG|SET"],
        ["COMMAND", "INFO", "get", "get"], ["COMMAND", "DOCS", "get", "get"],
        ["CONFIG"], ["CONFIG", "nosuch"], ["CLIENT", "nosuch"],
    ]
    for resp in (2, 3):
        a, r = conns(akv, ref, resp)
        with a, r:
            for args in cases:
                check_eq(a.command(*args), r.command(*args),
                         "%s (RESP%d)" % (" ".join(args), resp))


def cli_hint(port, typed):
    """What interactive redis-cli prints after `typed` is entered on a
    terminal (it loads COMMAND DOCS at start to hint arguments)."""
    cli = shutil.which("redis-cli")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.environ["HOME"] = "/nonexistent"
        # a wide terminal, so that whole hints are drawn
        fcntl.ioctl(0, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 50, 250, 0, 0))
        os.execv(cli, [cli, "-p", str(port)])
    out = b""

    def read_until(done, seconds):
        """Read until done(out) or the time is up; then a short quiet
        spell, so that a redraw in progress is complete."""
        nonlocal out
        end = time.monotonic() + seconds
        quiet = None
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
                quiet = None
            elif done(out):
                quiet = quiet or time.monotonic()
                if time.monotonic() - quiet > 0.2:
                    return

    try:
        read_until(lambda b: b"> " in b, 10.0)
        start = len(out)
        os.write(fd, typed.encode())
        read_until(lambda b: b.endswith(b"C") and len(b) > start, 3.0)
        return out[start:].replace(b"127.0.0.1:%d> " % port, b"PROMPT> ")
    finally:
        os.write(fd, b"\x03")
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def test_redis_cli_hints(akv, ref):
    if not shutil.which("redis-cli"):
        raise akvtest.SkipTest("redis-cli not found")
    for typed, hint in (("set ", b"key value"), ("config get ", b"parameter"),
                        ("bitfield_ro k ", b"GET")):
        got = cli_hint(akv.port, typed)
        want = cli_hint(ref.port, typed)
        check(hint in want, "reference hint for %r: %r" % (typed, want))
        check_eq(got, want, "redis-cli hint for %r" % typed)


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
