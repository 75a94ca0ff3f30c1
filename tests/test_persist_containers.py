#!/usr/bin/python3
"""Durability of hashes and sets: the SQLite snapshot (format 3) written by
SAVE and by BGREWRITEAOF, the AOF replay, and arenakv-check-aof.

"Reboot" means, as in test_aof.py: SIGKILL the supervisor and its workers
and remove the arena file, so the dataset can only come back from disk.
"""

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import RespConn, check, check_eq  # noqa: E402
from test_aof import (AofServer, SnapshotServer, LONG, info_field,  # noqa
                      manifest, wait_drained, wait_rewrite_done)

DBS = (0, 1, 2)


def parse(reply):
    return akvtest.parse_reply(reply)[1]


def cdump(port, dbs=DBS):
    """Every key of the dbs: type, content (containers as sorted lists),
    absolute expiry and OBJECT ENCODING."""
    out = {}
    with RespConn(port, timeout=LONG) as c:
        for db in dbs:
            c.command(b"SELECT", b"%d" % db)
            for _, k in parse(c.command(b"KEYS", b"*")):
                t = c.command(b"TYPE", k)
                if t == b"+string\r\n":
                    v = c.command(b"GET", k)
                elif t == b"+hash\r\n":
                    flat = [x for _, x in parse(c.command(b"HGETALL", k))]
                    v = sorted(zip(flat[0::2], flat[1::2]))
                elif t == b"+set\r\n":
                    v = sorted(x for _, x in parse(c.command(b"SMEMBERS", k)))
                else:
                    v = t
                out[(db, k)] = (t, v, c.command(b"PEXPIRETIME", k),
                                c.command(b"OBJECT", b"ENCODING", k))
    return out


def hset(c, key, pairs, batch=200):
    for i in range(0, len(pairs), batch):
        args = []
        for f, v in pairs[i:i + batch]:
            args += [f, v]
        c.command(b"HSET", key, *args)


def sadd(c, key, members, batch=200):
    for i in range(0, len(members), batch):
        c.command(b"SADD", key, *members[i:i + batch])


def populate(port, seed=1):
    """Hashes and sets of every encoding, in several dbs, some with TTLs,
    binary and empty fields, values and members; strings beside them."""
    rng = random.Random(seed)
    far = int(time.time() * 1000) + 3600 * 1000
    with RespConn(port, timeout=LONG) as c:
        for db in DBS:
            c.command(b"SELECT", b"%d" % db)
            hset(c, b"h:small", [(b"f%d" % i, b"v%d" % i) for i in range(10)])
            hset(c, b"h:empty-parts", [(b"", b"empty field"),
                                       (b"empty value", b""),
                                       (b"\x00\xff\r\n", b"\x01\x02\r\n")])
            hset(c, b"h:large", [(b"field:%d" % i, os.urandom(rng.randint(
                0, 40))) for i in range(700)])
            hset(c, b"h:longval", [(b"a", b"x" * 65), (b"b", b"y")])
            hset(c, b"h:ttl", [(b"f%d" % i, b"%d" % i) for i in range(5)])
            c.command(b"PEXPIREAT", b"h:ttl", b"%d" % (far + db))
            hset(c, b"h:ttl-large", [(b"%d" % i, b"v") for i in range(600)])
            c.command(b"EXPIRE", b"h:ttl-large", b"5000")
            sadd(c, b"s:ints", [b"%d" % rng.randint(-10 ** 12, 10 ** 12)
                                for _ in range(20)])
            sadd(c, b"s:ints-large", [b"%d" % i for i in range(700)])
            sadd(c, b"s:strs", [b"m%d" % i for i in range(30)] +
                 [b"", b"\x00bin\xff"])
            sadd(c, b"s:ttl", [b"1", b"2", b"3"])
            c.command(b"PEXPIREAT", b"s:ttl", b"%d" % (far + 7))
            sadd(c, b"s:ttl-large", [b"x%d" % i for i in range(600)])
            c.command(b"EXPIRE", b"s:ttl-large", b"7000")
            c.command(b"SET", b"str", b"plain %d" % db)
            c.command(b"SET", b"str:ttl", b"t", b"EX", b"9000")
            # A few gone again: emptied containers are no keys.
            hset(c, b"h:gone", [(b"f", b"v")])
            c.command(b"HDEL", b"h:gone", b"f")
            sadd(c, b"s:gone", [b"m"])
            c.command(b"SREM", b"s:gone", b"m")
            c.command(b"HDEL", b"h:large", b"field:7")
            c.command(b"SREM", b"s:ints-large", b"5")
        c.command(b"SELECT", b"0")
    expect = {"h:small": b"listpack", "h:large": b"hashtable",
              "h:longval": b"hashtable", "s:ints": b"intset",
              "s:ints-large": b"hashtable", "s:strs": b"hashtable"}
    got = cdump(port, dbs=(0,))
    for k, enc in expect.items():
        check_eq(got[(0, k.encode())][3], b"$%d\r\n%s\r\n" % (len(enc), enc),
                 "OBJECT ENCODING %s" % k)
    return got


def compare(before, after, what):
    bad = [k for k in set(before) | set(after)
           if before.get(k) != after.get(k)]
    check(not bad, "%s: %d keys differ, e.g. %r" % (
        what, len(bad), [(k, before.get(k), after.get(k))
                         for k in bad[:2]]))


def sql(path, query):
    p = subprocess.run(["sqlite3", path, query], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=LONG)
    check_eq(p.returncode, 0, "sqlite3 %r: %r" % (query, p.stderr))
    return p.stdout.decode()


def base_path(srv):
    lines = [l for l in manifest(srv) if l]
    check("type b" in lines[0], "manifest has a base: %r" % lines)
    return os.path.join(srv.datadir, "appendonlydir", lines[0].split()[1])


def check_rows(path):
    """The sqlite3 shell shows the rows of the format-3 schema."""
    check_eq(sql(path, "SELECT value FROM meta WHERE name = 'format'"),
             "3\n", "format")
    check_eq(sql(path, "SELECT type, value IS NULL FROM keys WHERE db = 1 "
                 "AND key = CAST('h:small' AS BLOB)"), "hash|1\n", "the hash's key row")
    check_eq(sql(path, "SELECT f.value FROM keys k JOIN hash_fields f ON "
                 "f.key_id = k.id WHERE k.db = 0 AND k.key = CAST('h:small' AS BLOB) AND "
                 "f.field = CAST('f3' AS BLOB)"), "v3\n", "a field read with a join")
    check_eq(sql(path, "SELECT count(*) FROM keys k JOIN hash_fields f ON "
                 "f.key_id = k.id WHERE k.db = 2 AND k.key = CAST('h:large' AS BLOB)"),
             "699\n", "fields of the large hash")
    check_eq(sql(path, "SELECT count(*) FROM keys k JOIN set_members m ON "
                 "m.key_id = k.id WHERE k.db = 0 AND k.key = CAST('s:ints-large' AS BLOB)"),
             "699\n", "members of the large set")
    check_eq(sql(path, "SELECT count(*) FROM keys WHERE key LIKE '%gone'"),
             "0\n", "emptied containers")
    check(int(sql(path, "SELECT expire_ms FROM keys WHERE db = 0 AND key = "
                  "CAST('s:ttl' AS BLOB)")) > time.time() * 1000, "expiry of a set")
    elems = int(sql(path, "SELECT value FROM meta WHERE name = 'elements'"))
    rows = int(sql(path, "SELECT (SELECT count(*) FROM hash_fields) + "
                   "(SELECT count(*) FROM set_members)"))
    check_eq(elems, rows, "meta.elements")
    names = sql(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                "name NOT LIKE 'sqlite_%' "
                "ORDER BY name").split()
    check_eq(names, ["hash_fields_by_key", "keys_by_name",
                     "set_members_by_key"], "indexes")


def test_save_and_restart_without_aof():
    srv = SnapshotServer()
    srv.start()
    try:
        before = populate(srv.port)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE")
        check_rows(os.path.join(srv.datadir, "dump.sqlite"))
        before = cdump(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        compare(before, cdump(srv.port), "SAVE + reboot")
        # BGSAVE of the loaded dataset: the same rows again.
        with RespConn(srv.port) as c:
            check_eq(c.command(b"BGSAVE"), b"+Background saving started\r\n",
                     "BGSAVE")
        deadline = time.monotonic() + LONG
        while info_field(srv.port, "rdb_bgsave_in_progress") != "0":
            check(time.monotonic() < deadline, "BGSAVE finished")
            time.sleep(0.05)
        srv.crash(reboot=True)
        srv.restart()
        compare(before, cdump(srv.port), "BGSAVE + reboot")
    finally:
        srv.stop()
        srv.remove_data()


def test_rewrite_and_restart():
    srv = AofServer()
    srv.start()
    try:
        populate(srv.port)
        with RespConn(srv.port) as c:
            check_eq(c.command(b"BGREWRITEAOF"),
                     b"+Background append only file rewriting started\r\n",
                     "BGREWRITEAOF")
        wait_rewrite_done(srv.port)
        check_rows(base_path(srv))
        with RespConn(srv.port) as c:
            # After the base: records of the new incremental file.
            c.command(b"SELECT", b"1")
            c.command(b"HSET", b"h:small", b"f0", b"changed", b"new", b"1")
            c.command(b"HDEL", b"h:large", b"field:8")
            c.command(b"SREM", b"s:strs", b"m1")
            c.command(b"SADD", b"s:ints", b"42")
            c.command(b"DEL", b"h:longval")
            c.command(b"PERSIST", b"h:ttl")
        before = cdump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        compare(before, cdump(srv.port), "base + incr after reboot")
    finally:
        srv.stop()
        srv.remove_data()


def test_aof_replay_alone():
    srv = AofServer()
    srv.start()
    try:
        populate(srv.port, seed=2)
        before = cdump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        compare(before, cdump(srv.port), "AOF replay")
        p = subprocess.run([akvtest.arenakv_binary("arenakv-check-aof"),
                            os.path.join(srv.datadir, "appendonlydir",
                                         "appendonly.aof.manifest")],
                           stdout=subprocess.PIPE, timeout=LONG)
        out = p.stdout.decode()
        check(p.returncode == 0 and "Warning" not in out,
              "arenakv-check-aof knows every command of the AOF: %s" % out)
    finally:
        srv.stop()
        srv.remove_data()


class Writer(threading.Thread):
    """Writes HSET / HDEL / SADD / SREM / DEL to keys of its own and keeps
    what it knows the dataset holds after each acknowledged reply."""

    def __init__(self, port, n, stop):
        super().__init__()
        self.port, self.n, self.stop = port, n, stop
        self.model = {}
        self.errors = []

    def run(self):
        rng = random.Random(self.n)
        try:
            with RespConn(self.port, timeout=LONG) as c:
                while not self.stop.is_set():
                    self.step(c, rng)
        except Exception as e:  # reported by the test
            self.errors.append(repr(e))

    def step(self, c, rng):
        i = rng.randint(0, 5)
        key = b"w%d:%s%d" % (self.n, b"h" if i < 3 else b"s", i)
        cur = self.model.get(key, {})
        op = rng.random()
        if key[-2:-1] == b"h":
            if op < 0.6:
                pairs = [(b"f%d" % rng.randint(0, 400), b"%d" % rng.randint(
                    0, 10 ** 9)) for _ in range(rng.randint(1, 20))]
                args = [x for p in pairs for x in p]
                r = c.command(b"HSET", key, *args)
                cur = dict(cur)
                cur.update(pairs)
            elif op < 0.95:
                fs = [b"f%d" % rng.randint(0, 400) for _ in range(5)]
                r = c.command(b"HDEL", key, *fs)
                cur = {f: v for f, v in cur.items() if f not in fs}
            else:
                r = c.command(b"DEL", key)
                cur = {}
        else:
            if op < 0.6:
                ms = [b"%d" % rng.randint(0, 1000) if rng.random() < 0.8
                      else b"m%d" % rng.randint(0, 100)
                      for _ in range(rng.randint(1, 20))]
                r = c.command(b"SADD", key, *ms)
                cur = dict(cur)
                cur.update((m, None) for m in ms)
            elif op < 0.95:
                ms = [b"%d" % rng.randint(0, 1000) for _ in range(5)]
                r = c.command(b"SREM", key, *ms)
                cur = {m: v for m, v in cur.items() if m not in ms}
            else:
                r = c.command(b"DEL", key)
                cur = {}
        check(r.startswith(b":"), "write acknowledged: %r" % r)
        self.model[key] = cur


def test_rewrite_under_concurrent_writes():
    """Records written while the rewrite copies are neither lost nor
    doubled: after a reboot the dataset is what the clients wrote."""
    srv = AofServer()
    srv.start()
    stop = threading.Event()
    try:
        writers = [Writer(srv.port, n, stop) for n in range(3)]
        for w in writers:
            w.start()
        time.sleep(0.5)
        for _ in range(2):
            with RespConn(srv.port) as c:
                check_eq(c.command(b"BGREWRITEAOF"),
                         b"+Background append only file rewriting "
                         b"started\r\n", "BGREWRITEAOF")
            wait_rewrite_done(srv.port)
            time.sleep(0.3)
        stop.set()
        for w in writers:
            w.join(LONG)
            check(not w.errors, "writer: %r" % w.errors)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        got = cdump(srv.port, dbs=(0,))
        want = {}
        for w in writers:
            for k, m in w.model.items():
                if m:
                    want[k] = m
        bad = []
        for k, m in want.items():
            t, v = got.get((0, k), (None, None, None, None))[:2]
            if k[-2:-1] == b"h":
                ok = t == b"+hash\r\n" and v == sorted(m.items())
            else:
                ok = t == b"+set\r\n" and v == sorted(m)
            if not ok:
                bad.append(k)
        extra = [k for (_, k) in got if k not in want]
        check(not bad and not extra, "after rewrites and a reboot: %d keys "
              "differ (%r), %d extra (%r)" % (len(bad), bad[:3], len(extra),
                                              extra[:3]))
        print("# %d keys written by %d clients" % (len(want), len(writers)))
    finally:
        stop.set()
        srv.stop()
        srv.remove_data()


FORMAT2 = ("CREATE TABLE meta (name TEXT PRIMARY KEY, value);"
           "CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,"
           " type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER);")


def write_aof_dir(srv, build_base, incr=b""):
    d = os.path.join(srv.datadir, "appendonlydir")
    os.makedirs(d)
    db = sqlite3.connect(os.path.join(d, "appendonly.aof.1.base.sqlite"))
    build_base(db)
    db.commit()
    db.close()
    with open(os.path.join(d, "appendonly.aof.1.incr.aof"), "wb") as f:
        f.write(incr)
    with open(os.path.join(d, "appendonly.aof.manifest"), "w") as f:
        f.write("file appendonly.aof.1.base.sqlite seq 1 type b\n"
                "file appendonly.aof.1.incr.aof seq 1 type i\n")


def test_rename_of_containers_during_a_rewrite():
    # RENAME, MOVE and COPY of a hash or a set are logged as commands that
    # read their source.  Records written while a rewrite copies stripes
    # are applied again on top of the new base; a RENAME among them would
    # meet a source rebuilt only from the window's records.  They wait for
    # the copy instead, so every renamed hash keeps its older fields.
    srv = AofServer()
    srv.start()
    try:
        n = 1500
        with RespConn(srv.port, timeout=LONG) as c:
            # Enough strings (in a db the dumps leave out) that the copy
            # takes a while.
            c.command(b"SELECT", b"5")
            for j in range(300):
                args = []
                for i in range(1000):
                    args += [b"pad:%d:%d" % (j, i), b"v" * 32]
                c.command(b"MSET", *args)
            c.command(b"SELECT", b"0")
            for i in range(n):
                c.command(b"HSET", b"h:%d" % i, b"a", b"1", b"b", b"2")
                c.command(b"SADD", b"s:%d" % i, b"x", b"y")
            wait_drained(srv.port)
            check_eq(c.command(b"BGREWRITEAOF"),
                     b"+Background append only file rewriting started\r\n",
                     "BGREWRITEAOF")
            for i in range(n):
                c.command(b"HSET", b"h:%d" % i, b"c", b"3")
                c.command(b"RENAME", b"h:%d" % i, b"r:%d" % i)
                c.command(b"SADD", b"s:%d" % i, b"z")
                c.command(b"COPY", b"s:%d" % i, b"t:%d" % i)
                c.command(b"MOVE", b"s:%d" % i, b"1")
        wait_rewrite_done(srv.port)
        before = cdump(srv.port)
        wait_drained(srv.port)
        srv.crash(reboot=True)
        srv.restart()
        after = cdump(srv.port)
        for i in (0, n // 2, n - 1):
            check_eq(after[(0, b"r:%d" % i)][1],
                     [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")],
                     "renamed hash %d" % i)
        compare(before, after, "renames during a rewrite, after reboot")
    finally:
        srv.stop()
        srv.remove_data()


def test_base_of_format_2_still_loads():
    """A base as format 2 wrote it (strings only, no id, the index made at
    the end, the keys count) loads, and the AOF after it may hold hashes
    and sets."""
    srv = AofServer()

    def build(db):
        db.executescript(FORMAT2)
        rows = [(i % 3, b"k:%d" % i, "string", b"v%d" % i, None)
                for i in range(300)]
        rows.append((1, b"ttl", "string", b"t",
                     int(time.time() * 1000) + 3600 * 1000))
        rows.append((0, b"empty", "string", b"", None))
        db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?)", rows)
        db.executescript(
            "INSERT INTO meta VALUES ('format', 2), ('created_ms', 1),"
            " ('writer', 'arenakv 0.1.0'), ('keys', 302);"
            "CREATE UNIQUE INDEX keys_by_name ON keys (db, key);")
    incr = akvtest.pack_command(b"HSET", b"h", b"a", b"1", b"b", b"2") + \
        akvtest.pack_command(b"SADD", b"s", b"8", b"7") + \
        akvtest.pack_command(b"FROBNICATE", b"s")
    write_aof_dir(srv, build, incr)
    try:
        srv.start()
        got = cdump(srv.port)
        strings = [k for k, v in got.items() if v[0] == b"+string\r\n"]
        check_eq(len(strings), 302, "string keys of the format-2 base")
        with RespConn(srv.port) as c:
            check_eq(c.command(b"GET", b"k:3"), b"$2\r\nv3\r\n", "a value")
            check_eq(c.command(b"GET", b"empty"), b"$0\r\n\r\n", "empty")
            c.command(b"SELECT", b"1")
            ttl = c.command(b"TTL", b"ttl")
            check(ttl.startswith(b":35") or ttl.startswith(b":36"),
                  "TTL kept: %r" % ttl)
        check_eq(got[(0, b"h")][1], [(b"a", b"1"), (b"b", b"2")],
                 "a hash of the incremental file")
        check_eq(got[(0, b"s")][1], [b"7", b"8"], "a set of it")
        check("1 commands of the AOF file" in srv.log_tail(40) and
              "unknown to this arenakv" in srv.log_tail(40),
              "an unknown command is reported: %s" % srv.log_tail(40))
    finally:
        srv.stop()
        srv.remove_data()


def test_base_of_a_newer_format_is_refused():
    srv = AofServer()

    def build(db):
        db.executescript(FORMAT2 + "INSERT INTO meta VALUES ('format', 9);")
    write_aof_dir(srv, build)
    try:
        p = subprocess.run(
            [akvtest.arenakv_binary(), "--port", "0", "--arena", srv.arena,
             "--dir", srv.datadir, "--appendonly", "yes"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=LONG)
        out = p.stdout.decode(errors="replace")
        check(p.returncode != 0, "start refused on a newer base")
        check("snapshot format 9 is newer than this arenakv reads (3)" in out,
              "the reason is logged: %r" % out[-400:])
    finally:
        try:
            os.unlink(srv.arena)
        except OSError:
            pass
        srv.remove_data()


def test_check_aof_warns_about_unknown_commands():
    d = "/tmp/akvtest-checkaof-%d" % os.getpid()
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "x.aof")
    pc = akvtest.pack_command
    data = [pc(b"SET", b"a", b"1"), pc(b"FROBNICATE", b"x"),
            pc(b"MULTI"), pc(b"SET", b"b"), pc(b"EXEC"),
            pc(b"z" * 40, b"y"), pc(b"PEXPIREAT", b"a", b"99999999999999")]
    offs, at = [], 0
    for piece in data:
        offs.append(at)
        at += len(piece)
    try:
        with open(path, "wb") as f:
            f.write(b"".join(data))
        p = subprocess.run([akvtest.arenakv_binary("arenakv-check-aof"),
                            path], stdout=subprocess.PIPE, timeout=LONG)
        out = p.stdout.decode()
        check_eq(p.returncode, 0, "still valid: %s" % out)
        check("0x%16x: Warning: unknown command 'FROBNICATE'" % offs[1] in
              out, "unknown command and its offset: %s" % out)
        check("0x%16x: Warning: wrong number of arguments for 'SET' (2)" %
              offs[3] in out, "arity: %s" % out)
        check("0x%16x: Warning: a command name longer than 32 bytes" %
              offs[5] in out, "long name: %s" % out)
        check("Warnings: 3 commands arenakv cannot replay" in out,
              "the count: %s" % out)
        check("is valid" in out, "the verdict: %s" % out)
        with open(path, "wb") as f:
            f.write(pc(b"SET", b"k", b"v") * 30)
            for i in range(30):
                f.write(pc(b"NOPE%d" % i))
        out = subprocess.run([akvtest.arenakv_binary("arenakv-check-aof"),
                              path], stdout=subprocess.PIPE,
                             timeout=LONG).stdout.decode()
        check("... and 10 more commands arenakv cannot replay" in out,
              "warnings are limited: %s" % out)
    finally:
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=600)
