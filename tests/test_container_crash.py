#!/usr/bin/python3
"""Hashes and sets under kills.

1. Every fault point a container mutation passes, for HSET / HDEL /
   HINCRBYFLOAT on both encodings, the listpack -> hashtable conversion,
   SADD / SREM / SPOP / SMOVE / SINTERSTORE on intsets and hashtables,
   the deletion of a large container (DEL, UNLINK, EXPIRE, lazy expiry,
   FLUSHDB: freed in steps after the commit) and RENAME / COPY of a large
   one.  The worker is killed there; from a new connection the checker
   finds nothing, the keys hold exactly the state before or after the
   command (compared element by element), the other keys are untouched,
   and a restart without the arena replays the AOF to the same dataset.
2. Random SIGKILLs of workers while 20 redis-py clients write hashes and
   sets: untouched clients see no error, every acknowledged write is
   there, the AOF replays to the live dataset.
3. The lazy free of a 1M-member set and a 1M-field hash while other
   clients run GET: their latency is printed, memory and
   lazyfree_pending_objects come back, also when the deleting worker is
   killed in the middle of the freeing (the supervisor finishes it).
4. The supervisor killed at each step of its own active expiry of a
   large container: a restart on the live arena is clean and the AOF
   replays to the same data.
"""

import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import RespConn, ConnectionClosed, check, check_eq  # noqa: E402
from test_aof import AofServer, LONG, wait_drained  # noqa: E402
from test_crash import arena_problems, offline_check, client_pid  # noqa

BEFORE_COMMIT = {"intent-prepared", "marked"}
# Points a command may pass many times: also killed at a later pass.
REPEATED = {"chunk-carved", "chunk-freed", "page-taken", "rehash-step",
            "table-swap", "free-step"}
AFTER_COMMIT = {"committed", "applied-half", "applied", "elem-applied-half"}
DIED = (ConnectionClosed, ConnectionResetError, BrokenPipeError)


def parse(reply):
    return akvtest.parse_reply(reply)[1]


def kstate(c, key):
    """(type, sorted content, encoding, has-ttl) of one key."""
    t = c.command(b"TYPE", key)
    if t == b"+hash\r\n":
        flat = [x for _, x in parse(c.command(b"HGETALL", key))]
        v = sorted(zip(flat[0::2], flat[1::2]))
    elif t == b"+set\r\n":
        v = sorted(x for _, x in parse(c.command(b"SMEMBERS", key)))
    elif t == b"+none\r\n":
        return None
    else:
        v = c.command(b"GET", key)
    ttl = int(c.command(b"PTTL", key)[1:-2])
    return (t, v, c.command(b"OBJECT", b"ENCODING", key), ttl >= 0)


def dbdump(port, dbs=(0, 5)):
    out = {}
    with RespConn(port, timeout=LONG) as c:
        for db in dbs:
            c.command(b"SELECT", b"%d" % db)
            for _, k in parse(c.command(b"KEYS", b"*")):
                out[(db, k)] = kstate(c, k)
    return out


def hset(c, key, pairs, batch=500):
    for i in range(0, len(pairs), batch):
        args = [x for p in pairs[i:i + batch] for x in p]
        c.command(b"HSET", key, *args)


def sadd(c, key, members, batch=500):
    for i in range(0, len(members), batch):
        c.command(b"SADD", key, *members[i:i + batch])


def fields(n, start=0, vlen=8):
    return [(b"f%d" % i, b"v%0*d" % (vlen, i)) for i in range(start, n + start)]


def members(n, start=0, prefix=b"m"):
    return [prefix + b"%d" % i for i in range(start, start + n)]


def ints(n, start=0):
    return [b"%d" % i for i in range(start, start + n)]


# Each scenario: name -> (db, keys it may change, setup(c), commands,
# random).  Commands are one command each (all or nothing per command).
BIG = 3000


def _setup_hlp(c):
    hset(c, b"h", fields(20))


def _setup_hht(c):
    hset(c, b"h", fields(BIG) + [(b"num", b"10.5")])


def _setup_sint(c):
    sadd(c, b"s", ints(100))
    sadd(c, b"t", ints(50, 25))


def _setup_sht(c):
    sadd(c, b"s", members(BIG))
    sadd(c, b"t", members(BIG // 2, BIG // 4))


def _setup_big_hash(c):
    hset(c, b"big", fields(BIG))


def _setup_big_set(c):
    sadd(c, b"big", members(BIG))


def _setup_big_set_and_s(c):
    sadd(c, b"big", members(BIG))
    sadd(c, b"s", members(600, 0, b"old"))


def _setup_expiring(c):
    c.command(b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0")
    hset(c, b"big", fields(BIG))
    c.command(b"PEXPIRE", b"big", b"1")
    time.sleep(0.01)


def _setup_expiring_set(c):
    c.command(b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0")
    sadd(c, b"big", members(BIG))
    c.command(b"PEXPIRE", b"big", b"1")
    time.sleep(0.01)


def _setup_sht_to_int(c):
    sadd(c, b"s", members(BIG))
    sadd(c, b"t", ints(100))


def _setup_big_dst(c):
    sadd(c, b"s", ints(100))
    sadd(c, b"t", ints(50, 25))
    sadd(c, b"d", members(BIG))


def _setup_big_in_both_dbs(c):
    hset(c, b"big", fields(BIG))
    c.command(b"SELECT", b"5")
    sadd(c, b"other", members(700))
    c.command(b"SELECT", b"0")


def _hset_many(start, n):
    return (b"HSET", b"h", *[x for p in fields(n, start, 9) for x in p])


SCENARIOS = [
    ("HSET listpack", 0, [b"h"], _setup_hlp,
     [(b"HSET", b"h", b"f1", b"new", b"fx", b"added")], False),
    ("HDEL listpack", 0, [b"h"], _setup_hlp,
     [(b"HDEL", b"h", b"f1", b"f5", b"nope")], False),
    ("HINCRBYFLOAT listpack", 0, [b"h"], _setup_hlp,
     [(b"HINCRBYFLOAT", b"h", b"num", b"1.5")], False),
    ("listpack to hashtable by count", 0, [b"h"], _setup_hlp,
     [_hset_many(100, 200)], False),
    ("listpack to hashtable by value", 0, [b"h"], _setup_hlp,
     [(b"HSET", b"h", b"long", b"x" * 100)], False),
    ("HSET hashtable", 0, [b"h"], _setup_hht,
     [(b"HSET", b"h", b"f1", b"new", b"fx", b"added")], False),
    ("HSET hashtable grows its index", 0, [b"h"], _setup_hht,
     [_hset_many(BIG, 2 * BIG)], False),
    ("HDEL hashtable", 0, [b"h"], _setup_hht,
     [(b"HDEL", b"h", *[b"f%d" % i for i in range(0, BIG, 7)])], False),
    ("HDEL hashtable shrinks its index", 0, [b"h"], _setup_hht,
     [(b"HDEL", b"h", *[b"f%d" % i for i in range(BIG - 10)])], False),
    ("HDEL last fields", 0, [b"h"], _setup_hlp,
     [(b"HDEL", b"h", *[b"f%d" % i for i in range(20)])], False),
    ("HINCRBYFLOAT hashtable", 0, [b"h"], _setup_hht,
     [(b"HINCRBYFLOAT", b"h", b"num", b"-0.25")], False),
    ("SADD intset", 0, [b"s"], _setup_sint,
     [(b"SADD", b"s", b"1000", b"-5", b"3")], False),
    ("SADD intset to hashtable", 0, [b"s"], _setup_sint,
     [(b"SADD", b"s", b"notanint")], False),
    ("SADD intset past max entries", 0, [b"s"], _setup_sint,
     [(b"SADD", b"s", *ints(600, 1000))], False),
    ("SREM intset", 0, [b"s"], _setup_sint,
     [(b"SREM", b"s", b"1", b"2", b"99", b"nope")], False),
    ("SPOP intset", 0, [b"s"], _setup_sint,
     [(b"SPOP", b"s", b"10")], True),
    ("SMOVE intset", 0, [b"s", b"t"], _setup_sint,
     [(b"SMOVE", b"s", b"t", b"10")], False),
    ("SINTERSTORE intset", 0, [b"s", b"t", b"d"], _setup_sint,
     [(b"SINTERSTORE", b"d", b"s", b"t")], False),
    ("SADD hashtable grows its index", 0, [b"s"], _setup_sht,
     [(b"SADD", b"s", *members(2 * BIG, BIG))], False),
    ("SREM hashtable", 0, [b"s"], _setup_sht,
     [(b"SREM", b"s", *members(BIG // 3))], False),
    ("SPOP hashtable", 0, [b"s"], _setup_sht,
     [(b"SPOP", b"s", b"100")], True),
    ("SMOVE hashtable", 0, [b"s", b"t"], _setup_sht,
     [(b"SMOVE", b"s", b"t", b"m1")], False),
    ("SINTERSTORE hashtable", 0, [b"s", b"t", b"d"], _setup_sht,
     [(b"SINTERSTORE", b"d", b"s", b"t")], False),
    ("SINTERSTORE over itself", 0, [b"s", b"t"], _setup_sht,
     [(b"SINTERSTORE", b"s", b"s", b"t")], False),
    ("DEL large hash", 0, [b"big"], _setup_big_hash,
     [(b"DEL", b"big")], False),
    ("UNLINK large set", 0, [b"big"], _setup_big_set,
     [(b"UNLINK", b"big")], False),
    ("EXPIRE 0 of a large hash", 0, [b"big"], _setup_big_hash,
     [(b"PEXPIRE", b"big", b"0")], False),
    ("lazy expiry of a large hash", 0, [b"big"], _setup_expiring,
     [(b"HLEN", b"big")], False),
    ("SET over a large set", 0, [b"big"], _setup_big_set,
     [(b"SET", b"big", b"string now")], False),
    ("FLUSHDB with a large hash", 5, [b"big"], _setup_big_hash,
     [(b"FLUSHDB",)], False),
    ("RENAME large hash", 0, [b"big", b"dst"], _setup_big_hash,
     [(b"RENAME", b"big", b"dst")], False),
    ("RENAME large set", 0, [b"big", b"other-name"], _setup_big_set,
     [(b"RENAME", b"big", b"other-name")], False),
    ("SADD over an expired large set", 0, [b"big"], _setup_expiring_set,
     [(b"SADD", b"big", b"fresh")], False),
    ("SMOVE into an intset that converts", 0, [b"s", b"t"],
     _setup_sht_to_int, [(b"SMOVE", b"s", b"t", b"m7")], False),
    ("SINTERSTORE over a large destination", 0, [b"s", b"t", b"d"],
     _setup_big_dst, [(b"SINTERSTORE", b"d", b"s", b"t")], False),
    ("SUNIONSTORE large", 0, [b"s", b"t", b"d"], _setup_sht,
     [(b"SUNIONSTORE", b"d", b"s", b"t")], False),
    ("SDIFFSTORE over a source", 0, [b"s", b"t"], _setup_sht,
     [(b"SDIFFSTORE", b"t", b"s", b"t")], False),
    ("SPOP all of an intset", 0, [b"s"], _setup_sint,
     [(b"SPOP", b"s", b"1000")], True),
    ("HSETNX hashtable", 0, [b"h"], _setup_hht,
     [(b"HSETNX", b"h", b"brand-new", b"v")], False),
    ("MOVE large hash to db 5", 0, [b"big", (5, b"big"), (5, b"other")],
     _setup_big_in_both_dbs, [(b"MOVE", b"big", b"5")], False),
    ("COPY large hash to db 5", 0, [b"big", (5, b"big"), (5, b"other")],
     _setup_big_in_both_dbs, [(b"COPY", b"big", b"big", b"DB", b"5")],
     False),
    ("COPY large hash", 0, [b"big", b"copy"], _setup_big_hash,
     [(b"COPY", b"big", b"copy")], False),
    ("COPY large set REPLACE", 0, [b"big", b"s"], _setup_big_set_and_s,
     [(b"COPY", b"big", b"s", b"REPLACE")], False),
]


def no_sanitizer_reports(srv):
    """A worker that a sanitizer stopped dies like a killed one: look for
    its report in the server's log."""
    with open(srv.logpath, "rb") as f:
        log = f.read().decode(errors="replace")
    for marker in ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer"):
        i = log.find(marker)
        check(i < 0, "sanitizer report: %s" % log[i:i + 2000])


def conn(port, db):
    c = RespConn(port, timeout=LONG)
    if db:
        c.command(b"SELECT", b"%d" % db)
    return c


def on_key(c, db, key, fn):
    """fn(c, name) for a key named as scenarios do: a name in the
    scenario's db, or (db, name)."""
    kdb, name = key if isinstance(key, tuple) else (db, key)
    if kdb != db:
        c.command(b"SELECT", b"%d" % kdb)
    try:
        return fn(c, name)
    finally:
        if kdb != db:
            c.command(b"SELECT", b"%d" % db)


def states(c, db, keys):
    return {k: on_key(c, db, k, kstate) for k in keys}


def prepare(port, db, keys, setup):
    """Set the keys up; their state (a key only expired so far is not
    looked at: that would delete it)."""
    with conn(port, db) as c:
        for k in keys:
            on_key(c, db, k, lambda c, name: c.command(b"DEL", name))
        setup(c)
        if setup in (_setup_expiring, _setup_expiring_set):
            return {k: None for k in keys}
        return states(c, db, keys)


def settle(port):
    """Wait until no dying container is left (the supervisor reaps what a
    dead worker did not free)."""
    deadline = time.monotonic() + LONG
    with RespConn(port) as c:
        while time.monotonic() < deadline:
            info = c.command(b"INFO", b"memory").decode()
            if "lazyfree_pending_objects:0\r\n" in info:
                return
            time.sleep(0.02)
    raise AssertionError("lazyfree_pending_objects stays: %s" % info)


def run_case(port, db, cmds, point, nth=1):
    """Run cmds on a worker armed at the nth pass of point.  Returns the
    number of commands answered before it died, or None when it survived
    them all."""
    c = conn(port, db)
    try:
        if point:
            check_eq(c.command(b"DEBUG", b"FAULT", point.encode(),
                               b"%d" % nth),
                     b"+OK\r\n", "arm " + point)
        for i, cmd in enumerate(cmds):
            try:
                r = c.command(*cmd)
            except DIED:
                return i
            check(not r.startswith(b"-"), "%r: %r" % (cmd[:2], r[:100]))
        return None
    finally:
        c.close()


def spop_ok(before, got, n):
    """A SPOP of n leaves the set as it was or lacking exactly n members."""
    if got == before:
        return True
    bm = set(before[1]) if before else set()
    gm = set(got[1]) if got else set()
    return gm <= bm and len(bm) - len(gm) == min(n, len(bm))


def points_of(port):
    with RespConn(port) as c:
        raw = c.command(b"DEBUG", b"FAULTS")
    return [l.decode() for l in raw.split(b"\r\n")[1:]
            if l and not l.startswith(b"$")]


def test_every_point_of_every_container_mutation():
    akv = AofServer(extra=["--hz", "20"])
    akv.start()
    try:
        every_point(akv)
        no_sanitizer_reports(akv)
    finally:
        akv.stop()
        akv.remove_data()


def every_point(akv):
    port = akv.port
    points = points_of(port)
    with RespConn(port) as c:
        hset(c, b"other:h", fields(BIG))
        hset(c, b"other:lp", fields(5))
        sadd(c, b"other:s", members(1000))
        sadd(c, b"other:i", ints(10))
        c.command(b"SET", b"other:str", b"untouched")
        c.command(b"SELECT", b"5")
        c.command(b"SET", b"db5:str", b"x")
    others = {k: v for k, v in dbdump(port, dbs=(0,)).items()
              if k[1].startswith(b"other:")}
    reached = {p: [] for p in points}
    missed, deeper = [], []
    for name, db, keys, setup, cmds, rnd in SCENARIOS:
        prepare(port, db, keys, setup)
        before = prepare(port, db, keys, setup)
        check_eq(run_case(port, db, cmds, None), None, name + " unfaulted")
        settle(port)
        with conn(port, db) as c:
            after = states(c, db, keys)
        check(after != before or setup is _setup_expiring,
              "%s changes nothing" % name)
        for point, nth in [(p, n) for p in points for n in
                           ((1, 4, 40) if p in REPEATED else (1,))]:
            prepare(port, db, keys, setup)
            died = run_case(port, db, cmds, point, nth)
            what = "%s at %s %d" % (name, point, nth)
            if died is None:
                if nth == 1:
                    missed.append(what)
            else:
                check_eq(died, len(cmds) - 1, what + ": died on the last")
                if nth == 1:
                    reached[point].append(name)
                else:
                    deeper.append(what)
            problems = arena_problems(akv)
            check(not problems, "%s: checker found %r" % (what, problems[:5]))
            with conn(port, db) as c:
                got = states(c, db, keys)
            if rnd:
                ok = spop_ok(before[b"s"], got[b"s"], int(cmds[-1][2]))
                check(ok, "%s: %r" % (what, got))
            elif died is None:
                check_eq(got, after, what + " (not reached)")
            elif point in BEFORE_COMMIT:
                check(got == before, "%s: not rolled back: %r" % (
                    what, _diff(got, before)))
            elif point in AFTER_COMMIT:
                check(got == after, "%s: not rolled forward: %r" % (
                    what, _diff(got, after)))
            else:
                check(got in (before, after), "%s: neither state: %r" % (
                    what, _diff(got, after)))
            settle(port)
        problems = arena_problems(akv)
        check(not problems, "%s: checker found %r" % (name, problems[:5]))
        rc, out = offline_check(akv)
        check_eq(rc, 0, "%s: --check-arena: %s" % (name, out))
        now = {k: v for k, v in dbdump(port, dbs=(0,)).items()
               if k[1].startswith(b"other:")}
        check(now == others, "%s: other keys changed" % name)
    for p in points:
        print("# %-18s reached by %d of %d mutations" % (
            p, len(reached[p]), len(SCENARIOS)))
    print("# %d deaths at a later pass of a repeated point" % len(deeper))
    must = {"intent-prepared", "marked", "committed", "applied",
            "applied-half", "elem-applied-half", "free-step", "chunk-carved",
            "chunk-freed", "rehash-step", "table-swap"}
    check(not [p for p in must if not reached.get(p)],
          "points no mutation reached: %r" % [p for p in must
                                              if not reached.get(p)])
    # The AOF: replay into a new arena gives the live dataset.
    with RespConn(port) as c:
        c.command(b"DEBUG", b"SET-ACTIVE-EXPIRE", b"1")
    time.sleep(1.5)  # a dead owner's records are reclaimed after 1 s
    live = dbdump(port)
    wait_drained(port)
    no_sanitizer_reports(akv)
    akv.crash(reboot=True)
    akv.restart()
    replayed = dbdump(akv.port)
    check_eq(sorted(replayed), sorted(live), "keys after replay")
    bad = [k for k in live if replayed[k] != live[k]]
    check(not bad, "keys that differ after replay: %r" % bad[:5])
    check("DB loaded from append only file" in akv.log_tail(20),
          "replayed from the AOF")


def _diff(got, want):
    out = {}
    for k in set(got) | set(want):
        g, w = got.get(k), want.get(k)
        if g != w:
            if g and w and isinstance(g[1], list):
                gs, ws = set(g[1]), set(w[1])
                out[k] = (g[0], g[2], "extra", sorted(gs - ws)[:3],
                          "missing", sorted(ws - gs)[:3])
            else:
                out[k] = (g if g is None else g[:1] + (str(g[1])[:60],),
                          w if w is None else w[:1] + (str(w[1])[:60],))
    return out


# ---------------------------------------------------------------------------
# 2. Random SIGKILLs under 20 writing clients

SEED = int(os.environ.get("AKV_SEED", "0"))  # another seed: another run
NCLIENTS = 20
PROTECTED = 5          # clients 0..4 are never killed
STORM_SECONDS = 15.0


def pid_of(r):
    info = r.execute_command("CLIENT", "INFO").decode()
    return int(info.split("pid=")[1].split()[0])


class Writer:
    """One client and the model of its keys: hash wh:i, sets ws:i and
    wt:i, a large hash wb:i made and deleted, and a counter field whose
    increments may have an unknown outcome."""

    def __init__(self, port, idx, redis):
        self.port, self.idx, self.redis = port, idx, redis
        self.protected = idx < PROTECTED
        self.rng = random.Random(idx + SEED * 1000)
        self.h, self.s, self.t = {}, set(), set()
        self.big = None             # None: absent, else field count
        self.copy = None            # wc:i, a COPY of it
        self.ctr = [0, 0]           # the counter is in [lo, hi]
        self.errors, self.lost, self.ops = [], 0, 0
        self.r = None
        self.pid = None
        self.points, self.armed = [], 0

    def connect(self):
        r = self.redis.Redis(port=self.port, socket_timeout=LONG,
                             single_connection_client=True)
        self.pid = pid_of(r)
        self.r = r

    def lose(self, e):
        if self.protected:
            raise e
        self.lost += 1
        try:
            self.r.close()
        except Exception:  # noqa: B902 - already dead
            pass
        self.r = None

    def do(self, fn):
        """An idempotent operation: retried on a lost connection."""
        while True:
            try:
                if self.r is None:
                    self.connect()
                out = fn(self.r)
                self.ops += 1
                return out
            except (self.redis.ConnectionError, self.redis.TimeoutError) as e:
                self.lose(e)

    def incr(self, d):
        """HINCRBY is not idempotent: a lost reply is an unknown outcome."""
        try:
            if self.r is None:
                self.connect()
            v = self.r.hincrby(b"wh:%d" % self.idx, b"ctr", d)
            self.ops += 1
            check(self.ctr[0] + d <= v <= self.ctr[1] + d,
                  "counter %d outside %r + %d" % (v, self.ctr, d))
            self.ctr = [v, v]
        except (self.redis.ConnectionError, self.redis.TimeoutError) as e:
            self.ctr[1] += d
            self.lose(e)

    def step(self):
        i, rng = self.idx, self.rng
        if not self.protected and self.points and rng.random() < 0.01:
            # Die at a named point of a later mutation of this worker.
            point = rng.choice(self.points).encode()
            self.do(lambda r: r.execute_command(
                "DEBUG", "FAULT", point, rng.randint(1, 50)))
            self.armed += 1
        h, s, t = b"wh:%d" % i, b"ws:%d" % i, b"wt:%d" % i
        op = rng.randint(0, 9)
        f = b"f%d" % rng.randint(0, 300)
        m = b"m%d" % rng.randint(0, 300)
        if op <= 2:
            v = b"v%d" % rng.randint(0, 10 ** 9)
            self.do(lambda r: r.hset(h, f, v))
            self.h[f] = v
        elif op == 3:
            self.do(lambda r: r.hdel(h, f))
            self.h.pop(f, None)
        elif op == 4:
            self.incr(rng.randint(1, 5))
        elif op <= 6:
            self.do(lambda r: r.sadd(s, m))
            self.s.add(m)
        elif op == 7:
            self.do(lambda r: r.srem(s, m))
            self.s.discard(m)
        elif op == 8 and self.s:
            m = rng.choice(sorted(self.s))
            self.do(lambda r: r.smove(s, t, m))
            self.s.discard(m)
            self.t.add(m)
        elif self.big is None and rng.random() < 0.3:
            b = b"wb:%d" % i
            for k in range(0, 1000, 250):
                kv = {b"b%d" % j: b"x%d" % j for j in range(k, k + 250)}
                self.do(lambda r: r.hset(b, mapping=kv))
            self.big = 1000
        elif self.big is not None and rng.random() < 0.5:
            # A copy across stripes (most likely): O(n), idempotent.
            self.do(lambda r: r.copy(b"wb:%d" % i, b"wc:%d" % i,
                                     replace=True))
            self.copy = self.big
        elif self.big is not None:
            self.do(lambda r: r.delete(b"wb:%d" % i))
            self.big = None

    def run(self, stop):
        try:
            while not stop.is_set():
                self.step()
        except Exception as e:  # noqa: B902 - reported by the test
            self.errors.append(repr(e))

    def verify(self, c):
        i = self.idx
        h = dict(zip(*[iter(x for _, x in parse(
            c.command(b"HGETALL", b"wh:%d" % i)))] * 2))
        ctr = int(h.pop(b"ctr", b"0"))
        check(self.ctr[0] <= ctr <= self.ctr[1],
              "writer %d: counter %d outside %r" % (i, ctr, self.ctr))
        check_eq(h, self.h, "writer %d: hash" % i)
        for key, want in ((b"ws:%d" % i, self.s), (b"wt:%d" % i, self.t)):
            got = set(x for _, x in parse(c.command(b"SMEMBERS", key)))
            check_eq(got, want, "writer %d: set %r" % (i, key))
        n = int(c.command(b"HLEN", b"wb:%d" % i)[1:-2])
        check_eq(n, self.big or 0, "writer %d: large hash" % i)
        n = int(c.command(b"HLEN", b"wc:%d" % i)[1:-2])
        check_eq(n, self.copy or 0, "writer %d: its copy" % i)


def test_random_kills_under_20_writers():
    try:
        import redis
    except ImportError:
        raise akvtest.SkipTest("redis-py is not installed")
    srv = AofServer(extra=["--hz", "20"])
    srv.start()
    try:
        storm(srv, redis)
        no_sanitizer_reports(srv)
    finally:
        srv.stop()
        srv.remove_data()


def storm(srv, redis):
    writers = [Writer(srv.port, i, redis) for i in range(NCLIENTS)]
    points = points_of(srv.port)
    for w in writers:
        w.points = points
        w.connect()
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in writers]
    for t in threads:
        t.start()
    kills = 0
    rng = random.Random(3 + SEED)
    spared = {w.pid for w in writers[:PROTECTED]}
    deadline = time.monotonic() + STORM_SECONDS
    try:
        with RespConn(srv.port, timeout=LONG) as c:
            spared.add(client_pid(c))
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(0.02, 0.1))
                lst = c.command(b"CLIENT", b"LIST").decode(errors="replace")
                pids = [int(x[4:]) for x in lst.split() if
                        x.startswith("pid=")]
                pids = [p for p in pids if p not in spared]
                for p in rng.sample(pids, min(len(pids), rng.randint(1, 2))):
                    try:
                        os.kill(p, signal.SIGKILL)
                        kills += 1
                    except ProcessLookupError:
                        pass
    finally:
        stop.set()
        for t in threads:
            t.join(LONG)
    errs = [(w.idx, e) for w in writers for e in w.errors]
    check(not errs, "writers saw errors: %r" % errs[:5])
    lost = sum(w.lost for w in writers)
    ops = sum(w.ops for w in writers)
    print("# %d workers killed, %d armed at a fault point, %d connections "
          "lost, %d operations acknowledged" % (
              kills, sum(w.armed for w in writers), lost, ops))
    check(kills >= 30 and lost >= 30, "too few kills: %d/%d" % (kills, lost))
    check(not any(w.lost for w in writers[:PROTECTED]), "spared lost")
    problems = arena_problems(srv)
    check(not problems, "checker after the storm: %r" % problems[:5])
    rc, out = offline_check(srv)
    check_eq(rc, 0, "--check-arena after the storm: %s" % out)
    with RespConn(srv.port, timeout=LONG) as c:
        for w in writers:
            w.verify(c)
    time.sleep(1.5)  # a dead owner's records are reclaimed after 1 s
    settle(srv.port)
    live = dbdump(srv.port)
    wait_drained(srv.port)
    no_sanitizer_reports(srv)
    srv.crash(reboot=True)
    srv.restart()
    replayed = dbdump(srv.port)
    check_eq(sorted(replayed), sorted(live), "keys after replay")
    bad = [k for k in live if replayed[k] != live[k]]
    check(not bad, "keys that differ after replay: %r" % bad[:5])


# ---------------------------------------------------------------------------
# 3. Lazy free of a 1M-element container while other clients read

MILLION = 1000000
READERS = 3
PROBES = 256


def info_int(c, field):
    info = c.command(b"INFO", b"memory").decode()
    return int(info.split(field + ":")[1].split("\r\n")[0])


def build_million(c, kind):
    batch = 10000
    for lo in range(0, MILLION, batch):
        if kind == "set":
            c.send_command(b"SADD", b"huge",
                           *[b"member:%d" % i for i in range(lo, lo + batch)])
        else:
            c.send_command(b"HSET", b"huge",
                           *[x for i in range(lo, lo + batch)
                             for x in (b"field:%d" % i, b"%d" % i)])
    for r in c.read_replies(MILLION // batch):
        check_eq(r, b":%d\r\n" % batch, "building the %s" % kind)


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else 0.0


def lazy_free(kind, kill):
    srv = akvtest.ArenakvServer(arenakv_args=["--enable-debug-command", "yes",
                                              "--hz", "20"])
    srv.start()
    try:
        res = lazy_free_on(srv, kind, kill)
        no_sanitizer_reports(srv)
        return res
    finally:
        srv.stop()


def lazy_free_on(srv, kind, kill):
    c = RespConn(srv.port, timeout=LONG)
    # Readers cycle over keys of every stripe, the freed one's too.
    for i in range(PROBES):
        c.command(b"SET", b"probe:%d" % i, b"value")
    base = info_int(c, "used_memory")
    t0 = time.monotonic()
    build_million(c, kind)
    built = time.monotonic() - t0
    full = info_int(c, "used_memory")
    check_eq(c.command(b"SCARD" if kind == "set" else b"HLEN", b"huge"),
             b":%d\r\n" % MILLION, "size of the %s" % kind)
    stop = threading.Event()
    freeing = threading.Event()
    lat, idle, errors = [], [], []

    def reader():
        try:
            with RespConn(srv.port, timeout=LONG) as r:
                i = 0
                while not stop.is_set():
                    i += 1
                    t = time.monotonic()
                    got = r.command(b"GET", b"probe:%d" % (i % PROBES))
                    dt = time.monotonic() - t
                    if got != b"$5\r\nvalue\r\n":
                        errors.append(got)
                    (lat if freeing.is_set() else idle).append(dt)
        except Exception as e:  # noqa: B902 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    freeing.set()
    t0 = time.monotonic()
    killed = False
    if kill:
        # Killed at its 3rd step, unless it met other clients on the
        # stripe so often that it left the freeing to the supervisor first.
        d = RespConn(srv.port, timeout=LONG)
        d.command(b"DEBUG", b"FAULT", b"free-step", b"3")
        try:
            check_eq(d.command(b"DEL", b"huge"), b":1\r\n", "DEL")
            check_eq(d.command(b"PING"), b"+PONG\r\n", "survivor")
        except DIED:
            killed = True
        d.close()
        check_eq(c.command(b"EXISTS", b"huge"), b":0\r\n", "gone at once")
    else:
        check_eq(c.command(b"UNLINK", b"huge"), b":1\r\n", "UNLINK")
    replied = time.monotonic() - t0
    # Another connection: the deleting one frees before its next command.
    m = RespConn(srv.port, timeout=LONG)
    pending_seen = info_int(m, "lazyfree_pending_objects")
    deadline = time.monotonic() + LONG
    while info_int(m, "lazyfree_pending_objects") and \
            time.monotonic() < deadline:
        time.sleep(0.005)
    freed = time.monotonic() - t0
    m.close()
    time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(LONG)
    check(not errors, "readers saw %r" % errors[:3])
    check_eq(info_int(c, "lazyfree_pending_objects"), 0, "pending after")
    after = info_int(c, "used_memory")
    problems = arena_problems(srv)
    check(not problems, "checker after the free: %r" % problems[:5])
    rc, out = offline_check(srv)
    check_eq(rc, 0, "--check-arena after the free: %s" % out)
    c.close()
    res = {"kind": kind, "kill": kill, "killed": killed, "built_s": built, "freed_s": freed,
           "pending": pending_seen, "replied_s": replied, "base": base, "full": full,
           "after": after, "n": len(lat),
           "p99_ms": percentile(lat, 0.99) * 1000,
           "max_ms": max(lat or [0]) * 1000,
           "idle_p99_ms": percentile(idle, 0.99) * 1000,
           "idle_max_ms": max(idle or [0]) * 1000}
    print("# lazy free of a 1M %s%s: built in %.1fs, freed in %.2fs, "
          "replied in %.3fs, %d pending, used_memory %d -> %d -> %d; %d GETs, p99 %.2f ms, "
          "max %.2f ms (before: p99 %.2f ms, max %.2f ms)"
          % (kind, " (deleting worker killed)" if killed else
             " (deleting worker survived)" if kill else "", built, freed,
             replied, pending_seen, base, full, after, len(lat), res["p99_ms"],
             res["max_ms"], res["idle_p99_ms"], res["idle_max_ms"]))
    # The container's memory is back, but for page runs kept for reuse.
    check(after - base <= max((full - base) // 50, 4 << 20),
          "used_memory %d -> %d -> %d" % (base, full, after))
    return res


def test_lazy_free_of_a_million_member_set():
    lazy_free("set", kill=False)


def test_lazy_free_of_a_million_field_hash():
    lazy_free("hash", kill=False)


def test_lazy_free_finished_by_the_supervisor():
    for kind in ("set", "hash"):
        for _ in range(3):
            if lazy_free(kind, kill=True)["killed"]:
                break
        else:
            raise AssertionError("no deleting worker died in the free")


# ---------------------------------------------------------------------------
# 4. The supervisor killed in its own expiry of a large container

def test_supervisor_killed_expiring_a_large_container():
    """Active expiry runs in the supervisor, and so does the freeing of
    what it expires: killed at each step, a restart on the live arena
    finds the checker clean, the container gone, the rest intact, and the
    AOF replays to the same."""
    died = []
    for point in ("intent-prepared", "marked", "committed", "applied-half",
                  "applied", "free-step", "chunk-freed"):
        os.environ["ARENAKV_FAULT"] = point
        srv = AofServer(extra=["--hz", "50"])
        try:
            srv.start()
            del os.environ["ARENAKV_FAULT"]
            if supervisor_expiry(srv, point):
                died.append(point)
        finally:
            os.environ.pop("ARENAKV_FAULT", None)
            srv.stop()
            srv.remove_data()
    print("# the supervisor died at %s" % ", ".join(died))
    check({"intent-prepared", "committed", "free-step"} <= set(died),
          "the supervisor reached only %r" % died)


def supervisor_expiry(srv, point):
    with RespConn(srv.port, timeout=LONG) as c:
        hset(c, b"keep:h", fields(BIG))
        sadd(c, b"keep:s", members(BIG))
        sadd(c, b"big", members(BIG))
        keep = dbdump(srv.port, dbs=(0,))
        del keep[(0, b"big")]
        c.command(b"PEXPIRE", b"big", b"50")
        try:
            srv.proc.wait(5)  # dies at the point, if its expiry passes it
        except Exception:  # noqa: B902 - not reached
            pass
        died = srv.proc.returncode is not None
        check(srv.proc.returncode in (None, -signal.SIGKILL),
              "supervisor at %s: %r" % (point, srv.proc.returncode))
        # This connection's worker outlives the supervisor.
        raw = c.command(b"DEBUG", b"CHECK-ARENA")
        check_eq(raw, b"*0\r\n", "checker at once after death at " + point)
        check_eq(c.command(b"EXISTS", b"big"), b":0\r\n", "expired")
    no_sanitizer_reports(srv)
    os.killpg(srv.pid, signal.SIGKILL)
    srv._reap_group()
    srv.restart()  # re-attaches the arena
    settle(srv.port)
    problems = arena_problems(srv)
    check(not problems, "%s: checker after restart %r" % (point,
                                                          problems[:5]))
    live = dbdump(srv.port, dbs=(0,))
    check(live == keep, "keys after the supervisor died at %s: %r" % (
        point, _diff(live, keep)))
    wait_drained(srv.port)
    srv.crash(reboot=True)
    srv.restart()
    replayed = dbdump(srv.port, dbs=(0,))
    check(replayed == keep, "replayed after %s: %r" % (
        point, _diff(replayed, keep)))
    return died


if __name__ == "__main__":
    os.environ.setdefault("AKV_TEST_TIMEOUT", "600")
    akvtest.main(globals(), script_timeout=1200)
