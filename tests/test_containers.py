#!/usr/bin/python3
"""Keyspace commands over large hashes and sets, against redis-server.

RENAME, RENAMENX, MOVE and COPY (DB, REPLACE) of large (hashtable) and
packed containers to many destination names (so some land in the source's
stripe, where the elements stay in place, and most in another one, where
they are copied); TYPE, OBJECT ENCODING, SCAN TYPE, DEL, UNLINK, EXPIRE,
PERSIST, FLUSHDB ASYNC, wrong types across every type, the lazyfree
options; replies compared byte for byte, contents as multisets.  On
arenakv alone: the arena checker after every step, INFO's lazyfree fields,
and the containers surviving an AOF reboot.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn, check,  # noqa
                     check_eq, parse_reply)
from test_differential import Pair  # noqa: E402

N = 700  # past hash-max-listpack-entries and set-max-intset-entries


def big_hash(key, n=N, tag=b""):
    args = [b"HSET", key]
    for i in range(n):
        args += [b"f%d" % i, b"v%d%s" % (i, tag)]
    return args


def big_set(key, n=N, tag=b""):
    return [b"SADD", key] + [b"m%d%s" % (i, tag) for i in range(n)]


def content(conn, key):
    t = conn.command(b"TYPE", key)
    if t == b"+hash\r\n":
        r = parse_reply(conn.command(b"HGETALL", key))
        items = [x.value for x in r.value]
        return (t, sorted(zip(items[0::2], items[1::2])))
    if t == b"+set\r\n":
        r = parse_reply(conn.command(b"SMEMBERS", key))
        return (t, sorted(x.value for x in r.value))
    return (t, conn.command(b"GET", key) if t == b"+string\r\n" else None)


class KPair(Pair):
    def same_content(self, key, db=0):
        for conn in (self.a, self.r):
            conn.command(b"SELECT", b"%d" % db)
        ca, cr = content(self.a, key), content(self.r, key)
        for conn in (self.a, self.r):
            conn.command(b"SELECT", b"0")
        if ca != cr:
            self.fail("contents differ", [b"<content>", key],
                      repr(ca)[:400].encode(), repr(cr)[:400].encode())

    def describe(self, key, db=0):
        self.run([b"SELECT", b"%d" % db])
        for args in ([b"TYPE", key], [b"OBJECT", b"ENCODING", key],
                     [b"EXISTS", key], [b"PTTL", key]):
            self.run(args)
        t = self.a.command(b"TYPE", key)
        if t == b"+hash\r\n":
            self.run([b"HLEN", key])
            self.run([b"HGET", key, b"f5"])
        elif t == b"+set\r\n":
            self.run([b"SCARD", key])
            self.run([b"SISMEMBER", key, b"m5"])
        self.run([b"SELECT", b"0"])
        self.same_content(key, db)


def clean(akv, what):
    with RespConn(akv.port, timeout=30) as c:
        raw = c.command(b"DEBUG", b"CHECK-ARENA")
    problems = [l for l in raw.split(b"\r\n")[1:]
                if l and not l.startswith(b"$")]
    check(not problems, "%s: checker found %r" % (what, problems[:5]))


def setup(p):
    p.run([b"FLUSHALL"])
    p.run(big_hash(b"bh"))
    p.run(big_set(b"bs"))
    p.run([b"HSET", b"ph", b"a", b"1", b"b", b"2"])
    p.run([b"SADD", b"ps", b"1", b"2", b"3"])
    p.run([b"SET", b"str", b"hello"])


SOURCES = [b"bh", b"bs", b"ph", b"ps"]
DESTS = [b"d%d" % i for i in range(24)]


def checked(akv, ref):
    return akvtest.against_redis() is False and hasattr(akv, "port")


def test_rename_move_copy(akv, ref):
    for proto in (2, 3):
        p = KPair(akv, ref, proto)
        try:
            setup(p)
            for src in SOURCES:
                for d in DESTS[:12]:
                    p.run([b"RENAME", src, d])
                    p.describe(d)
                    p.run([b"EXISTS", src])
                    p.run([b"RENAME", d, src])
                p.describe(src)
                # over an existing key of each type
                p.run(big_hash(b"victim", 600, b"x"))
                p.run([b"RENAMENX", src, b"victim"])
                p.run([b"RENAME", src, b"victim"])
                p.describe(b"victim")
                p.run([b"RENAME", b"victim", src])
                # MOVE to db 1 and back, blocked by an existing key
                p.run([b"MOVE", src, b"1"])
                p.describe(src, 1)
                p.run([b"SELECT", b"1"])
                p.run([b"MOVE", src, b"0"])
                p.run([b"SELECT", b"0"])
                p.describe(src)
                p.run([b"SET", b"blocker", b"x"])
                p.run([b"SELECT", b"1"])
                p.run([b"SET", src, b"x"])
                p.run([b"SELECT", b"0"])
                p.run([b"MOVE", src, b"1"])
                p.run([b"SELECT", b"1"])
                p.run([b"DEL", src])
                p.run([b"SELECT", b"0"])
                # COPY: new container, elements copied
                for d in DESTS[12:18]:
                    p.run([b"COPY", src, d])
                    p.run([b"COPY", src, d])
                    p.describe(d)
                    p.run([b"COPY", b"str", d, b"REPLACE"])
                    p.describe(d)
                    p.run([b"COPY", src, d, b"REPLACE"])
                    p.describe(d)
                    p.run([b"COPY", src, d, b"DB", b"2"])
                    p.describe(d, 2)
                p.describe(src)
                if proto == 2:
                    clean(akv, "after renames of %r" % src)
            # writes still work on renamed / copied containers
            p.run([b"HSET", b"d12", b"new", b"field"])
            p.run([b"HDEL", b"d12", b"f1", b"f2"])
            p.describe(b"d12")
        finally:
            p.close()
    clean(akv, "after RENAME / MOVE / COPY")


def test_keyspace_over_types(akv, ref):
    p = KPair(akv, ref, 2)
    try:
        setup(p)
        cmds = []
        for k in SOURCES + [b"str"]:
            cmds += [[b"TYPE", k], [b"OBJECT", b"ENCODING", k],
                     [b"EXPIRE", k, b"1000"], [b"TTL", k],
                     [b"EXPIRE", k, b"500", b"GT"], [b"PERSIST", k],
                     [b"PERSIST", k], [b"TTL", k], [b"PEXPIREAT", k,
                                                  b"4102444800000"],
                     [b"PEXPIRETIME", k], [b"TOUCH", k]]
            # wrong types against every type there is
            cmds += [[b"GET", k], [b"HGET", k, b"f1"], [b"SADD", k, b"z"],
                     [b"HSET", k, b"z", b"1"], [b"APPEND", k, b"z"],
                     [b"SCARD", k], [b"HLEN", k], [b"STRLEN", k]]
        for args in cmds:
            p.run(args)
        for t in (b"hash", b"set", b"string", b"list"):
            p.run([b"SCAN", b"0", b"TYPE", t, b"COUNT", b"3"])
        p.run([b"DBSIZE"])
        p.run([b"DEL", b"bh", b"ph"])
        p.run([b"UNLINK", b"bs", b"ps", b"nothing"])
        p.run([b"DBSIZE"])
        p.run([b"EXISTS", b"bh", b"bs"])
        clean(akv, "after DEL / UNLINK")
        # expiry of a large container
        p.run(big_set(b"exp"))
        p.run([b"PEXPIRE", b"exp", b"1"])
        import time
        time.sleep(0.05)
        p.run([b"EXISTS", b"exp"])
        p.run([b"SCARD", b"exp"])
        # overwrite of a large container by SET
        p.run(big_hash(b"ov"))
        p.run([b"SET", b"ov", b"now a string"])
        p.describe(b"ov")
        for mode in ([], [b"ASYNC"], [b"SYNC"]):
            p.run(big_hash(b"fh"))
            p.run(big_set(b"fs"))
            p.run([b"FLUSHDB"] + mode)
            p.run([b"DBSIZE"])
        p.run(big_hash(b"fh"))
        p.run([b"FLUSHALL", b"ASYNC"])
        p.run([b"FLUSHALL", b"LAZY"])
        p.run([b"DBSIZE"])
        clean(akv, "after flushes")
    finally:
        p.close()


LAZY = [b"lazyfree-lazy-eviction", b"lazyfree-lazy-expire",
        b"lazyfree-lazy-server-del", b"lazyfree-lazy-user-del",
        b"lazyfree-lazy-user-flush"]


def test_lazyfree_options(akv, ref):
    p = KPair(akv, ref, 2)
    try:
        for name in LAZY:
            p.run([b"CONFIG", b"GET", name])
            p.run([b"CONFIG", b"SET", name, b"yes"])
            p.run([b"CONFIG", b"GET", name])
            p.run([b"CONFIG", b"SET", name, b"maybe"])
            p.run([b"CONFIG", b"SET", name, b"no"])
            p.run([b"CONFIG", b"GET", name])
        p.run([b"CONFIG", b"SET", b"lazyfree-lazy-user-del", b"yes"])
        p.run(big_hash(b"lz"))
        p.run([b"DEL", b"lz"])
        p.run([b"EXISTS", b"lz"])
        p.run([b"CONFIG", b"SET", b"lazyfree-lazy-user-del", b"no"])
    finally:
        p.close()
    if akvtest.against_redis():
        return
    with RespConn(akv.port) as c:
        info = c.command(b"INFO", b"memory")
        check(b"lazyfree_pending_objects:0\r\n" in info,
              "nothing pending after the DEL: %r" % info[:600])
        check(b"lazyfreed_objects:" in info, "lazyfreed_objects in INFO")


def test_containers_survive_aof_reboot(akv):
    if akvtest.against_redis():
        raise akvtest.SkipTest("arenakv's AOF only")
    import test_aof
    srv = test_aof.AofServer()
    srv.start()
    keys = [b"bh", b"bs", b"ph", b"ps"] + DESTS[:6] + [b"gone"]
    try:
        with RespConn(srv.port) as c:
            c.command(*big_hash(b"bh"))
            c.command(*big_set(b"bs"))
            c.command(b"HSET", b"ph", b"a", b"1")
            c.command(b"SADD", b"ps", b"1", b"2")
            c.command(*big_hash(b"gone"))
            for i, d in enumerate(DESTS[:3]):
                c.command(b"COPY", b"bh", d)
                c.command(b"RENAME", d, DESTS[3 + i])
            c.command(b"RENAME", b"bs", DESTS[0])
            c.command(b"COPY", DESTS[0], b"bs")
            c.command(b"MOVE", b"ps", b"1")
            c.command(b"MOVE", b"ph", b"1")
            c.command(b"UNLINK", b"gone")
            c.command(b"PEXPIREAT", b"bh", b"4102444800000")
            before = [content(c, k) for k in keys]
            c.command(b"SELECT", b"1")
            before1 = [content(c, k) for k in keys]
        test_aof.wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        with RespConn(srv.port) as c:
            check_eq([content(c, k) for k in keys], before, "db 0 after reboot")
            check_eq(c.command(b"PEXPIRETIME", b"bh"), b":4102444800000\r\n",
                     "TTL after reboot")
            c.command(b"SELECT", b"1")
            check_eq([content(c, k) for k in keys], before1,
                     "db 1 after reboot")
    finally:
        srv.stop()
        srv.remove_data()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
