#!/usr/bin/python3
"""Hashes and sets through redis-py, used the way applications use them.

Every check asserts on the decoded value (a dict from HGETALL, a Python set
from SMEMBERS, floats from HINCRBYFLOAT, ...).  The same code passes against
the reference redis-server (AKV_TEST_AGAINST_REDIS=1), which is how the
expectations were checked.

redis-py speaks RESP3 only from version 5 on (protocol=3); with an older
redis-py the RESP3 variant is skipped (the node clients, which default to
RESP3, cover the RESP3 maps and sets: tests/node/containers.mjs).
"""

import inspect
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, SkipTest, check, check_eq  # noqa: E402

try:
    import redis
except ImportError:  # pragma: no cover - depends on the machine
    redis = None


def need_redis_py():
    if redis is None:
        raise akvtest.SkipAll("python redis module (redis-py) not available; "
                              "run with /usr/bin/python3")


def has_resp3():
    if redis is None:
        return False
    try:
        return "protocol" in inspect.signature(redis.Redis.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def client(srv, **kw):
    need_redis_py()
    kw.setdefault("socket_timeout", 30)
    return redis.Redis(host="127.0.0.1", port=srv.port, **kw)


def expect_error(fn, text, what):
    try:
        res = fn()
    except redis.ResponseError as e:
        check(text in str(e), "%s: error %r lacks %r" % (what, str(e), text))
        return
    raise AssertionError("%s: no error (got %r)" % (what, res))


def set_thresholds(r, entries=128, value=64, intset=512):
    r.config_set("hash-max-listpack-entries", entries)
    r.config_set("hash-max-listpack-value", value)
    r.config_set("set-max-intset-entries", intset)


# ---------------------------------------------------------------------------
# The scenarios, each run against one client (RESP2 or RESP3).

def hashes(r, pfx):
    h = pfx + "user:1"
    check_eq(r.hset(h, mapping={"name": "Ada", "lang": "en", "visits": "0",
                                "score": "1.5"}), 4, "HSET mapping")
    check_eq(r.hset(h, "name", "Ada L."), 0, "HSET existing field")
    check_eq(r.hset(h, mapping={"name": "Ada", "city": "London"}), 1,
             "HSET mapping, one new field")
    check_eq(r.hgetall(h), {"name": "Ada", "lang": "en", "visits": "0",
                            "score": "1.5", "city": "London"}, "HGETALL")
    check_eq(r.hkeys(h), ["name", "lang", "visits", "score", "city"],
             "HKEYS in insertion order (listpack)")
    check_eq(r.hvals(h), ["Ada", "en", "0", "1.5", "London"], "HVALS")
    check_eq(r.object("encoding", h), "listpack", "OBJECT ENCODING")
    check_eq(r.type(h), "hash", "TYPE")
    check_eq(r.hget(h, "name"), "Ada", "HGET")
    check_eq(r.hget(h, "nosuch"), None, "HGET missing field")
    check_eq(r.hget(pfx + "nokey", "f"), None, "HGET missing key")
    check_eq(r.hmget(h, ["name", "nosuch", "city"]), ["Ada", None, "London"],
             "HMGET")
    check_eq(r.hlen(h), 5, "HLEN")
    check_eq(r.hstrlen(h, "city"), 6, "HSTRLEN")
    check_eq(r.hexists(h, "lang"), True, "HEXISTS")
    check_eq(r.hexists(h, "nosuch"), False, "HEXISTS missing")
    check_eq(r.hsetnx(h, "lang", "fr"), False, "HSETNX existing")
    check_eq(r.hsetnx(h, "tz", "UTC"), True, "HSETNX new")
    check_eq(r.hincrby(h, "visits", 1), 1, "HINCRBY")
    check_eq(r.hincrby(h, "visits", 41), 42, "HINCRBY 41")
    check_eq(r.hincrby(h, "new", -5), -5, "HINCRBY new field")
    check_eq(r.hincrbyfloat(h, "score", 0.25), 1.75, "HINCRBYFLOAT")
    check_eq(r.hincrbyfloat(h, "fl", 3), 3.0, "HINCRBYFLOAT new field")
    check_eq(r.hget(h, "score"), "1.75", "HINCRBYFLOAT stored text")
    expect_error(lambda: r.hincrby(h, "name", 1),
                 "hash value is not an integer", "HINCRBY on text")
    expect_error(lambda: r.hincrbyfloat(h, "name", 1),
                 "hash value is not a float", "HINCRBYFLOAT on text")
    r.hset(h, "big", "9223372036854775807")
    expect_error(lambda: r.hincrby(h, "big", 1),
                 "increment or decrement would overflow", "HINCRBY overflow")
    check_eq(r.hdel(h, "big", "new", "fl", "nosuch"), 3, "HDEL")
    check_eq(r.hgetall(h), {"name": "Ada", "lang": "en", "visits": "42",
                            "score": "1.75", "city": "London", "tz": "UTC"},
             "HGETALL after writes")
    # HRANDFIELD: random picks, checked by validity.
    fields = set(r.hkeys(h))
    one = r.hrandfield(h)
    check(one in fields, "HRANDFIELD %r" % one)
    three = r.hrandfield(h, 3)
    check(len(three) == 3 and len(set(three)) == 3 and set(three) <= fields,
          "HRANDFIELD 3 %r" % three)
    many = r.hrandfield(h, -20)
    check(len(many) == 20 and set(many) <= fields, "HRANDFIELD -20 %r" % many)
    allf = r.hrandfield(h, 100)
    check_eq(sorted(allf), sorted(fields), "HRANDFIELD 100 (all)")
    wv = r.hrandfield(h, 2, withvalues=True)
    full = r.hgetall(h)
    check(len(wv) == 4 and all(full[wv[i]] == wv[i + 1] for i in (0, 2)),
          "HRANDFIELD WITHVALUES %r" % wv)
    check_eq(r.hrandfield(pfx + "nokey"), None, "HRANDFIELD missing key")
    # Emptying deletes the key.
    check_eq(r.hdel(h, *full.keys()), 6, "HDEL all")
    check_eq(r.exists(h), 0, "hash emptied by HDEL is gone")
    check_eq(r.hgetall(h), {}, "HGETALL missing key")
    # Wrong types both ways.
    r.set(pfx + "str", "v")
    expect_error(lambda: r.hset(pfx + "str", "f", "v"), "WRONGTYPE", "HSET "
                 "on a string")
    expect_error(lambda: r.hgetall(pfx + "str"), "WRONGTYPE", "HGETALL on a "
                 "string")
    r.hset(pfx + "h2", "f", "v")
    expect_error(lambda: r.get(pfx + "h2"), "WRONGTYPE", "GET on a hash")
    expect_error(lambda: r.sadd(pfx + "h2", "m"), "WRONGTYPE", "SADD on a "
                 "hash")
    expect_error(lambda: r.incr(pfx + "h2"), "WRONGTYPE", "INCR on a hash")
    r.delete(pfx + "str", pfx + "h2")


def binary_hash(r, pfx):
    r = client_like(r, db=r.connection_pool.connection_kwargs.get("db", 0),
                    decode=False)
    h = (pfx + "bin").encode()
    m = {b"": b"empty field", b"\x00": b"", b"a\r\nb": b"\xff\xfe\x00",
         b"\xe2\x82\xac": bytes(range(256))}
    check_eq(r.hset(h, mapping=m), 4, "HSET binary")
    check_eq(r.hgetall(h), m, "HGETALL binary")
    check_eq(r.hget(h, b""), b"empty field", "HGET empty field")
    check_eq(r.hstrlen(h, b"\x00"), 0, "HSTRLEN empty value")
    check_eq(r.object("encoding", h), b"hashtable",
             "value of 256 bytes converts to hashtable")
    check_eq(r.hkeys(h) and sorted(r.hkeys(h)), sorted(m), "HKEYS binary")
    r.delete(h)
    r.close()


def big_hash(r, pfx):
    h = pfx + "big"
    want = {"field:%d" % i: "value-%d" % (i * 7) for i in range(1500)}
    p = r.pipeline(transaction=False)
    items = list(want.items())
    for i in range(0, len(items), 100):
        p.hset(h, mapping=dict(items[i:i + 100]))
    res = p.execute()
    check_eq(res, [100] * 15, "pipelined HSET batches")
    check_eq(r.hlen(h), 1500, "HLEN big")
    check_eq(r.object("encoding", h), "hashtable", "big hash encoding")
    check_eq(r.hgetall(h), want, "HGETALL big")
    got = {}
    dup = 0
    for f, v in r.hscan_iter(h, count=50):
        if f in got:
            dup += 1
        got[f] = v
    check_eq(got, want, "hscan_iter over a big hash")
    got = dict(r.hscan_iter(h, match="field:1??", count=100))
    check_eq(got, {k: v for k, v in want.items()
                   if len(k) == 9 and k.startswith("field:1")},
             "hscan_iter MATCH")
    # A small hash is answered whole by HSCAN.
    r.hset(pfx + "small", mapping={"a": "1", "b": "2"})
    check_eq(r.hscan(pfx + "small"), (0, {"a": "1", "b": "2"}),
             "HSCAN small hash")
    check_eq(r.hscan(pfx + "nokey"), (0, {}), "HSCAN missing key")
    # Batch of mixed reads.
    p = r.pipeline(transaction=False)
    p.hget(h, "field:10")
    p.hmget(h, "field:0", "nosuch")
    p.hincrby(h, "counter", 3)
    p.hincrbyfloat(h, "counter", "0.5")
    p.hexists(h, "field:1499")
    p.hlen(h)
    p.get(h)  # WRONGTYPE inside a batch
    res = p.execute(raise_on_error=False)
    check_eq(res[:6], ["value-70", ["value-0", None], 3, 3.5, True, 1501],
             "pipelined hash reads")
    check(isinstance(res[6], redis.ResponseError) and
          "WRONGTYPE" in str(res[6]), "WRONGTYPE in a batch: %r" % res[6])
    r.delete(h, pfx + "small")


def sets(r, pfx):
    s = pfx + "tags"
    check_eq(r.sadd(s, "red", "green", "blue"), 3, "SADD")
    check_eq(r.sadd(s, "red", "cyan"), 1, "SADD again")
    check_eq(r.smembers(s), {"red", "green", "blue", "cyan"}, "SMEMBERS")
    check_eq(r.type(s), "set", "TYPE set")
    check_eq(r.object("encoding", s), "hashtable", "text set encoding")
    check_eq(r.scard(s), 4, "SCARD")
    check_eq(r.sismember(s, "red"), True, "SISMEMBER")
    check_eq(r.sismember(s, "pink"), False, "SISMEMBER missing")
    check_eq(r.smismember(s, ["red", "pink", "blue"]), [True, False, True],
             "SMISMEMBER")
    check_eq(r.smismember(pfx + "nokey", ["x"]), [False],
             "SMISMEMBER missing key")
    check_eq(r.srem(s, "cyan", "pink"), 1, "SREM")
    n = pfx + "nums"
    check_eq(r.sadd(n, 3, 1, 2, 10, -5), 5, "SADD integers")
    check_eq(r.object("encoding", n), "intset", "intset encoding")
    check_eq(r.smembers(n), {"-5", "1", "2", "3", "10"}, "SMEMBERS intset")
    check_eq(r.sscan(n), (0, ["-5", "1", "2", "3", "10"]),
             "SSCAN of an intset: whole, ascending")
    check_eq(r.sadd(n, "x"), 1, "SADD text to an intset")
    check_eq(r.object("encoding", n), "hashtable", "intset converted")
    a, b = pfx + "sa", pfx + "sb"
    r.sadd(a, "1", "2", "3", "4", "x")
    r.sadd(b, "3", "4", "5", "x", "y")
    check_eq(r.sinter(a, b), {"3", "4", "x"}, "SINTER")
    check_eq(r.sunion(a, b), {"1", "2", "3", "4", "5", "x", "y"}, "SUNION")
    check_eq(r.sdiff(a, b), {"1", "2"}, "SDIFF")
    check_eq(r.sinter(a, pfx + "nokey"), set(), "SINTER with a missing key")
    check_eq(r.sinterstore(pfx + "dst", [a, b]), 3, "SINTERSTORE")
    check_eq(r.smembers(pfx + "dst"), {"3", "4", "x"}, "SINTERSTORE result")
    check_eq(r.sunionstore(pfx + "dst", [a, b]), 7, "SUNIONSTORE")
    check_eq(r.sdiffstore(pfx + "dst", [a, a]), 0, "SDIFFSTORE empty")
    check_eq(r.exists(pfx + "dst"), 0, "empty SDIFFSTORE deletes")
    if hasattr(r, "sintercard"):
        check_eq(r.sintercard(2, [a, b]), 3, "SINTERCARD")
        check_eq(r.sintercard(2, [a, b], limit=2), 2, "SINTERCARD LIMIT")
    check_eq(r.smove(a, b, "1"), True, "SMOVE")
    check_eq(r.smove(a, b, "nosuch"), False, "SMOVE missing member")
    check_eq(r.sismember(b, "1"), True, "SMOVE destination")
    pop = r.spop(a)
    check(pop in {"2", "3", "4", "x"}, "SPOP %r" % pop)
    rest = r.smembers(a)
    check(len(rest) == 3 and pop not in rest, "after SPOP %r" % rest)
    pops = r.spop(a, 10)
    check_eq(set(pops), rest, "SPOP count takes everything")
    check_eq(r.exists(a), 0, "set emptied by SPOP is gone")
    m = r.srandmember(b)
    check(m in r.smembers(b), "SRANDMEMBER %r" % m)
    ms = r.srandmember(b, -10)
    check(len(ms) == 10 and set(ms) <= r.smembers(b), "SRANDMEMBER -10")
    ms = r.srandmember(b, 3)
    check(len(set(ms)) == 3 and set(ms) <= r.smembers(b), "SRANDMEMBER 3")
    check_eq(r.srandmember(pfx + "nokey"), None, "SRANDMEMBER missing")
    check_eq(r.smembers(pfx + "nokey"), set(), "SMEMBERS missing key")
    r.set(pfx + "str", "v")
    expect_error(lambda: r.sadd(pfx + "str", "m"), "WRONGTYPE", "SADD on a "
                 "string")
    expect_error(lambda: r.sinter(a, b, pfx + "str"), "WRONGTYPE", "SINTER "
                 "with a string")
    expect_error(lambda: r.hget(b, "f"), "WRONGTYPE", "HGET on a set")
    expect_error(lambda: r.append(b, "x"), "WRONGTYPE", "APPEND on a set")
    r.delete(s, n, a, b, pfx + "str")


def big_set(r, pfx):
    s = pfx + "bigset"
    want = set("member:%d" % i for i in range(2000))
    p = r.pipeline(transaction=False)
    lst = sorted(want)
    for i in range(0, len(lst), 200):
        p.sadd(s, *lst[i:i + 200])
    check_eq(p.execute(), [200] * 10, "pipelined SADD batches")
    check_eq(r.scard(s), 2000, "SCARD big")
    check_eq(r.smembers(s), want, "SMEMBERS big")
    got = list(r.sscan_iter(s, count=64))
    check_eq(set(got), want, "sscan_iter over a big set")
    got = set(r.sscan_iter(s, match="member:19*"))
    check_eq(got, set(m for m in want if m.startswith("member:19")),
             "sscan_iter MATCH")
    n = pfx + "bigints"
    ints = list(range(0, 3000, 3))
    for i in range(0, len(ints), 250):
        r.sadd(n, *ints[i:i + 250])
    check_eq(r.object("encoding", n), "hashtable",
             "1000 integers pass set-max-intset-entries")
    check_eq(r.smembers(n), set(str(i) for i in ints), "SMEMBERS ints")
    check_eq(r.sinter(s, n), set(), "SINTER disjoint")
    r.sadd(n, "member:7")
    check_eq(r.sinter(s, n), {"member:7"}, "SINTER one common")
    r.delete(s, n)


def expiry(r, pfx):
    h, s = pfx + "exph", pfx + "exps"
    r.hset(h, mapping={"a": "1", "b": "2"})
    r.sadd(s, "1", "2")
    check_eq(r.expire(h, 100000), True, "EXPIRE on a hash")
    check(99990 <= r.ttl(h) <= 100000, "TTL of a hash")
    check_eq(r.hset(h, "c", "3"), 1, "HSET keeps the TTL")
    check(99990 <= r.ttl(h) <= 100000, "TTL after HSET")
    check_eq(r.hincrby(h, "a", 1), 2, "HINCRBY on an expiring hash")
    check(99990 <= r.ttl(h) <= 100000, "TTL after HINCRBY")
    check_eq(r.persist(h), True, "PERSIST hash")
    check_eq(r.ttl(h), -1, "TTL after PERSIST")
    check_eq(r.pexpire(h, 150), True, "PEXPIRE 150 ms on a hash")
    check_eq(r.pexpire(s, 150), True, "PEXPIRE 150 ms on a set")
    r.sadd(s, "3")
    time.sleep(0.4)
    check_eq(r.hgetall(h), {}, "expired hash reads empty")
    check_eq(r.exists(h, s), 0, "expired hash and set are gone")
    check_eq(r.smembers(s), set(), "expired set reads empty")
    check_eq(r.hset(h, "x", "y"), 1, "HSET recreates the expired key")
    check_eq(r.ttl(h), -1, "recreated hash has no TTL")
    r.delete(h)


def keyspace(r, pfx):
    h, s = pfx + "kh", pfx + "ks"
    r.hset(h, mapping={"a": "1"})
    r.sadd(s, "x")
    check_eq(r.rename(h, pfx + "kh2"), True, "RENAME a hash")
    check_eq(r.hgetall(pfx + "kh2"), {"a": "1"}, "renamed hash")
    check_eq(r.copy(s, pfx + "ks2"), True, "COPY a set")
    check_eq(r.sadd(pfx + "ks2", "y"), 1, "the copy is independent")
    check_eq(r.smembers(s), {"x"}, "COPY source unchanged")
    check_eq(r.smembers(pfx + "ks2"), {"x", "y"}, "COPY destination")
    check_eq(r.copy(pfx + "kh2", s, replace=True), True, "COPY REPLACE a "
             "hash onto a set")
    check_eq(r.type(s), "hash", "COPY REPLACE changes the type")
    check_eq(sorted(r.scan_iter(match=pfx + "k*", _type="hash")),
             sorted([pfx + "kh2", s]), "SCAN TYPE hash")
    check_eq(r.move(s, 3), True, "MOVE a hash")
    r3 = client_like(r, db=3)
    check_eq(r3.hgetall(s), {"a": "1"}, "MOVEd hash in db 3")
    r3.delete(s)
    r3.close()
    check_eq(r.delete(pfx + "kh2", pfx + "ks2"), 2, "DEL hash and set")


def client_like(r, db, decode=None):
    kw = r.connection_pool.connection_kwargs
    if decode is None:
        decode = kw.get("decode_responses", False)
    extra = {"protocol": kw["protocol"]} if "protocol" in kw else {}
    return redis.Redis(host=kw["host"], port=kw["port"], db=db,
                       decode_responses=decode, socket_timeout=30, **extra)


def run_all(r, pfx):
    set_thresholds(r)
    for fn in (hashes, binary_hash, big_hash, sets, big_set, expiry,
               keyspace):
        fn(r, pfx)


def test_redispy_resp2(akv):
    r = client(akv, decode_responses=True)
    r.flushall()
    run_all(r, "py2:")
    check_eq(r.dbsize(), 0, "everything cleaned up")
    r.close()


def test_redispy_resp3(akv):
    if not has_resp3():
        raise SkipTest("redis-py %s has no protocol=3"
                       % getattr(redis, "__version__", "?"))
    r = client(akv, decode_responses=True, protocol=3)
    r.flushall()
    run_all(r, "py3:")
    check_eq(r.dbsize(), 0, "everything cleaned up")
    r.close()


def test_small_thresholds(akv):
    """The conversions at small limits, seen through the client."""
    r = client(akv, decode_responses=True)
    r.flushall()
    try:
        set_thresholds(r, entries=4, value=8, intset=4)
        r.hset("t:h", mapping={"a": "1", "b": "2", "c": "3", "d": "4"})
        check_eq(r.object("encoding", "t:h"), "listpack", "4 entries")
        r.hset("t:h", "e", "5")
        check_eq(r.object("encoding", "t:h"), "hashtable", "5 entries")
        check_eq(r.hgetall("t:h"), {"a": "1", "b": "2", "c": "3", "d": "4",
                                    "e": "5"}, "HGETALL after conversion")
        r.hset("t:v", "f", "12345678")
        check_eq(r.object("encoding", "t:v"), "listpack", "value of 8")
        r.hincrbyfloat("t:v", "g", "0.125")
        check_eq(r.object("encoding", "t:v"), "listpack", "HINCRBYFLOAT 5")
        r.hincrbyfloat("t:v", "g", "1000")
        check_eq(r.object("encoding", "t:v"), "listpack",
                 "HINCRBYFLOAT result of 8 bytes")
        check_eq(r.hget("t:v", "g"), "1000.125", "HINCRBYFLOAT value")
        r.hincrbyfloat("t:v", "g", "9000")
        check_eq(r.object("encoding", "t:v"), "hashtable",
                 "HINCRBYFLOAT result of 9 bytes")
        check_eq(r.hget("t:v", "g"), "10000.125", "HINCRBYFLOAT value")
        r.hset("t:w", "f", "1")
        r.hincrby("t:w", "f", 123456788)
        check_eq(r.object("encoding", "t:w"), "hashtable",
                 "HINCRBY result of 9 digits")
        r.sadd("t:s", 1, 2, 3, 4)
        check_eq(r.object("encoding", "t:s"), "intset", "4 ints")
        r.sadd("t:s", 5)
        check_eq(r.object("encoding", "t:s"), "hashtable", "5 ints")
        check_eq(r.smembers("t:s"), {"1", "2", "3", "4", "5"}, "SMEMBERS")
        r.sadd("t:z", "007")
        check_eq(r.object("encoding", "t:z"), "hashtable",
                 "leading zero is not an intset member")
        r.sadd("t:i", "-9223372036854775808")
        check_eq(r.object("encoding", "t:i"), "intset", "INT64_MIN")
        r.sadd("t:i", "9223372036854775808")
        check_eq(r.object("encoding", "t:i"), "hashtable", "2^63")
    finally:
        set_thresholds(r)
        r.flushall()
        r.close()


def _servers():
    need_redis_py()
    return {"akv": ArenakvServer()}


if __name__ == "__main__":
    akvtest.main(globals(), _servers)
