#!/usr/bin/python3
"""maxmemory, eviction policies and active expiry."""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, RespConn, check, check_eq  # noqa: E402

LONG = 20.0
LIMIT = 4 * 1024 * 1024


def info(c, section):
    out = {}
    for line in c.command(b"INFO", section).decode().split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def setup(c, policy, limit=LIMIT):
    c.command(b"FLUSHALL")
    c.command(b"CONFIG", b"SET", b"maxmemory", b"0")
    c.command(b"CONFIG", b"SET", b"maxmemory-policy", policy)
    c.command(b"CONFIG", b"SET", b"maxmemory", b"%d" % limit)


def fill(c, prefix, n, size=100, ttl=None):
    for i in range(n):
        args = [b"SET", b"%s%d" % (prefix, i), b"x" * size]
        if ttl:
            args += [b"EX", b"%d" % ttl]
        c.send_command(*args)
    return c.read_replies(n)


def used(c):
    return int(info(c, b"memory")["used_memory"])


def test_ceiling_holds_under_every_policy(akv):
    for policy in (b"allkeys-lru", b"allkeys-lfu", b"allkeys-random",
                   b"volatile-lru", b"volatile-lfu", b"volatile-random",
                   b"volatile-ttl"):
        with RespConn(akv.port, timeout=LONG) as c:
            setup(c, policy)
            replies = fill(c, b"f:", 80000, ttl=100000)
            check(all(r == b"+OK\r\n" for r in replies),
                  "%s: writes refused: %r" % (policy, set(replies)))
            check(used(c) <= LIMIT, "%s: used %d > maxmemory" %
                  (policy, used(c)))
            st = info(c, b"stats")
            check(int(st["evicted_keys"]) > 1000, "%s evicted keys" % policy)
            check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                     "arena consistent after eviction")
            c.command(b"CONFIG", b"SET", b"maxmemory", b"0")


def test_containers_evict_and_are_evicted_as_one_key(akv):
    # A command that stages more than the room made before it ran (an
    # HSET of many fields) evicts for what it stages, as a string write
    # does; and a hash or a set is evicted whole, freeing its elements.
    with RespConn(akv.port, timeout=LONG) as c:
        setup(c, b"allkeys-lru")
        replies = fill(c, b"f:", 60000)
        check(all(r == b"+OK\r\n" for r in replies), "strings stored")
        for i in range(40):
            args = [b"HSET", b"h:%d" % i]
            for j in range(1000):
                args += [b"field:%d" % j, b"v" * 60]
            check_eq(c.command(*args), b":1000\r\n", "HSET %d" % i)
            args = [b"SADD", b"s:%d" % i] + [b"m:%d" % j for j in range(1000)]
            check_eq(c.command(*args), b":1000\r\n", "SADD %d" % i)
            # A container's index grows after its commit (derived state,
            # as Redis's dict expands after its maxmemory check), so
            # used_memory may pass the limit by a bucket array or two.
            check(used(c) <= LIMIT + 64 * 1024,
                  "used %d > maxmemory + 64 KB" % used(c))
        st = info(c, b"stats")
        check(int(st["evicted_keys"]) > 1000, "strings evicted")
        # The first containers were evicted whole by the later ones.
        left = [c.command(b"EXISTS", b"h:%d" % i) for i in range(40)]
        check(b":0\r\n" in left, "some hash evicted: %r" % left)
        for i in range(40):
            n = c.command(b"HLEN", b"h:%d" % i)
            check(n in (b":0\r\n", b":1000\r\n"), "whole or gone: %r" % n)
        check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                 "arena consistent after evicting containers")
        c.command(b"CONFIG", b"SET", b"maxmemory", b"0")
        c.command(b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction")
        c.command(b"FLUSHALL")


def test_volatile_policies_only_touch_keys_with_ttl(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        for policy in (b"volatile-lru", b"volatile-ttl", b"volatile-random"):
            setup(c, policy)
            fill(c, b"keep:", 3000)               # no TTL: never evicted
            replies = fill(c, b"tmp:", 60000, ttl=100000)
            kept = [c.command(b"EXISTS", b"keep:%d" % i)
                    for i in range(0, 3000, 7)]
            check(all(k == b":1\r\n" for k in kept),
                  "%s evicted a key without TTL" % policy)
            check(used(c) <= LIMIT, "ceiling with %s" % policy)
            check(set(replies) == {b"+OK\r\n"}, "writes accepted")
        # Nothing evictable: only keys without TTL, so writes get OOM.
        setup(c, b"volatile-lru")
        replies = fill(c, b"nottl:", 60000)
        check(b"-OOM command not allowed when used memory > 'maxmemory'."
              b"\r\n" in replies, "OOM when nothing has a TTL")
        check_eq(c.command(b"GET", b"nottl:1"), b"$100\r\n" + b"x" * 100 +
                 b"\r\n", "reads still work")
        c.command(b"CONFIG", b"SET", b"maxmemory", b"0")


def test_volatile_ttl_takes_the_soonest_first(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        setup(c, b"volatile-ttl")
        fill(c, b"late:", 3000, ttl=900000)
        fill(c, b"soon:", 3000, ttl=1000)
        fill(c, b"filler:", 40000, ttl=500000)
        late = sum(c.command(b"EXISTS", b"late:%d" % i) == b":1\r\n"
                   for i in range(3000))
        soon = sum(c.command(b"EXISTS", b"soon:%d" % i) == b":1\r\n"
                   for i in range(3000))
        check(late > soon, "soon-to-expire keys go first (late %d, soon %d)"
              % (late, soon))
        c.command(b"CONFIG", b"SET", b"maxmemory", b"0")


def hot_set_retention(c, policy):
    """The workload of the issue: a hot set read between batches of new
    cold keys, in a limit that holds only part of it all."""
    setup(c, policy, 16 * 1024 * 1024)
    hot = [b"hot:%d" % i for i in range(2000)]
    for k in hot:
        c.send_command(b"SET", k, b"h" * 100)
    c.read_replies(len(hot))
    for batch in range(60):
        for k in hot:
            c.send_command(b"GET", k)
        c.read_replies(len(hot))
        fill(c, b"cold:%d:" % batch, 1000, size=1000)
    st = info(c, b"stats")
    check(int(st["evicted_keys"]) > 20000, "the workload evicts (%s)"
          % st["evicted_keys"])
    kept = sum(r == b":1\r\n" for r in
               [c.command(b"EXISTS", k) for k in hot])
    c.command(b"CONFIG", b"SET", b"maxmemory", b"0")
    return kept / len(hot)


def test_lru_keeps_the_hot_set(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        kept = hot_set_retention(c, b"allkeys-lru")
    print("# allkeys-lru hot-set retention: %.1f%%" % (kept * 100))
    check(kept >= 0.95, "hot set kept: %.1f%%" % (kept * 100))


def test_lfu_keeps_frequently_read_keys(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        kept = hot_set_retention(c, b"allkeys-lfu")
        c.command(b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lfu")
        c.command(b"SET", b"freq", b"1")
        for _ in range(100):
            c.command(b"GET", b"freq")
        f = int(c.command(b"OBJECT", b"FREQ", b"freq")[1:-2])
        c.command(b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction")
    print("# allkeys-lfu hot-set retention: %.1f%%" % (kept * 100))
    check(kept >= 0.95, "frequently read keys kept: %.1f%%" % (kept * 100))
    check(f > 5, "OBJECT FREQ grows with reads: %d" % f)


def test_config_set_maxmemory_lower_evicts_down(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        setup(c, b"allkeys-random", 0)
        c.command(b"CONFIG", b"SET", b"maxmemory", b"0")
        fill(c, b"down:", 50000)
        check(used(c) > 2 * 1024 * 1024, "filled")
        check_eq(c.command(b"CONFIG", b"SET", b"maxmemory", b"2mb"),
                 b"+OK\r\n", "CONFIG SET maxmemory 2mb")
        check(used(c) <= 2 * 1024 * 1024, "evicted down to the new limit")
        c.command(b"CONFIG", b"SET", b"maxmemory", b"0")
        c.command(b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction")


def test_active_expiry_reclaims_untouched_keys(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        c.command(b"FLUSHALL")
        for i in range(20000):
            c.send_command(b"SET", b"ae:%d" % i, b"v", b"PX", b"400")
        c.read_replies(20000)
        c.command(b"SET", b"ae:stays", b"v")
        deadline = time.monotonic() + LONG
        # Nobody reads the keys: only the supervisor's cycle removes them.
        while c.command(b"DBSIZE") != b":1\r\n":
            check(time.monotonic() < deadline, "expired keys reclaimed")
            time.sleep(0.1)
        st = info(c, b"stats")
        check(int(st["expired_keys"]) >= 20000, "expired_keys counted")
        check_eq(c.command(b"GET", b"ae:stays"), b"$1\r\nv\r\n",
                 "keys without TTL stay")


def test_expiry_racing_writers_loses_nothing_live(akv):
    """Writers keep refreshing keys while others expire around them: a key
    written without TTL after its expiring version must survive."""
    stop = threading.Event()
    errors = []

    def writer(idx):
        rng = random.Random(idx)
        try:
            with RespConn(akv.port, timeout=LONG) as c:
                while not stop.is_set():
                    k = b"race:%d:%d" % (idx, rng.randint(0, 300))
                    c.command(b"SET", k, b"t", b"PX", b"%d" % rng.randint(1,
                                                                        50))
                    c.command(b"SET", k + b":fixed", b"f")
        except Exception as e:  # noqa: B902
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(LONG)
    check(not errors, "writers saw %r" % errors[:3])
    with RespConn(akv.port, timeout=LONG) as c:
        keys = akvtest.parse_reply(c.command(b"KEYS", b"race:*:fixed"))[1]
        check(len(keys) > 50, "fixed keys written (%d)" % len(keys))
        for _, k in keys:
            check_eq(c.command(b"GET", k), b"$1\r\nf\r\n", "fixed key alive")
        check_eq(c.command(b"DEBUG", b"CHECK-ARENA"), b"*0\r\n",
                 "arena consistent")


def test_lazy_expiry_never_shows_an_expired_key(akv):
    with RespConn(akv.port, timeout=LONG) as c:
        c.command(b"SET", b"lazy", b"v", b"PX", b"30")
        c.command(b"SET", b"lazy2", b"v", b"PX", b"30")
        time.sleep(0.1)
        check_eq(c.command(b"GET", b"lazy"), b"$-1\r\n", "GET")
        check_eq(c.command(b"EXISTS", b"lazy2"), b":0\r\n", "EXISTS")
        check_eq(c.command(b"TTL", b"lazy2"), b":-2\r\n", "TTL")
        c.command(b"SELECT", b"7")  # a db of its own for avg_ttl
        c.command(b"SET", b"avg", b"v", b"EX", b"1000")
        deadline = time.monotonic() + LONG
        while "db7:keys=1,expires=1,avg_ttl=0" in \
                c.command(b"INFO", b"keyspace").decode():
            check(time.monotonic() < deadline, "avg_ttl estimated")
            time.sleep(0.1)
        line = [l for l in c.command(b"INFO", b"keyspace").decode().split()
                if l.startswith("db7:")][0]
        avg = int(line.split("avg_ttl=")[1])
        check(0 < avg <= 1000 * 1000, "avg_ttl in ms: %d" % avg)


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {
        "akv": ArenakvServer(arenakv_args=["--enable-debug-command", "yes"])},
        script_timeout=600)
