#!/usr/bin/python3
"""Real client programs against arenakv: redis-py, redis-cli and
redis-benchmark, plus a concurrency check.

redis-cli invocations are run against both arenakv and the reference
redis-server after the same setup, and their output is compared verbatim.
"""

import os
import re
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, SkipTest,  # noqa: E402
                     check, check_eq)

try:
    import redis
except ImportError:  # pragma: no cover - depends on the machine
    redis = None

CLI_TIMEOUT = 60
FAR = 4102444800  # 2100-01-01


def need_redis_py():
    if redis is None:
        raise akvtest.SkipAll("python redis module (redis-py) not available; "
                              "run with /usr/bin/python3")


def client(srv, **kw):
    need_redis_py()
    kw.setdefault("socket_timeout", 30)
    return redis.Redis(host="127.0.0.1", port=srv.port, **kw)


def cli_path():
    p = akvtest.which("redis-cli", ("/usr/bin/redis-cli",))
    if not p:
        raise SkipTest("redis-cli not found")
    return p


def run_cli(srv, args, stdin=None, opts=()):
    argv = [cli_path(), "-h", "127.0.0.1", "-p", str(srv.port)] + \
        list(opts) + list(args)
    env = dict(os.environ)
    for v in ("REDISCLI_AUTH", "REDISCLI_HISTFILE", "REDISCLI_RCFILE"):
        env.pop(v, None)
    env["REDISCLI_HISTFILE"] = "/dev/null"
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=CLI_TIMEOUT, env=env)
    return p.returncode, p.stdout


# ---------------------------------------------------------------------------
# redis-py

def test_redispy_basic(akv):
    r = client(akv, decode_responses=True)
    r.flushall()
    check_eq(r.ping(), True, "PING")
    check_eq(r.set("greeting", "hello"), True, "SET")
    check_eq(r.get("greeting"), "hello", "GET")
    check_eq(r.get("missing"), None, "GET missing")
    check_eq(r.set("greeting", "x", nx=True), None, "SET NX on existing")
    check_eq(r.set("greeting", "hi", xx=True, get=True), "hello", "SET XX GET")
    check_eq(r.incr("n"), 1, "INCR")
    check_eq(r.incrby("n", 41), 42, "INCRBY")
    check_eq(r.decr("n"), 41, "DECR")
    check_eq(r.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT")
    check_eq(r.append("greeting", "!"), 3, "APPEND")
    check_eq(r.strlen("greeting"), 3, "STRLEN")
    check_eq(r.getrange("greeting", 0, 1), "hi", "GETRANGE")
    check_eq(r.setrange("greeting", 1, "ey"), 3, "SETRANGE")
    check_eq(r.mset({"m1": "a", "m2": "b"}), True, "MSET")
    check_eq(r.msetnx({"m2": "z", "m3": "c"}), False, "MSETNX")
    check_eq(r.mget("m1", "m2", "m3"), ["a", "b", None], "MGET")
    check_eq(r.exists("m1", "m2", "m3"), 2, "EXISTS")
    check_eq(r.type("m1"), "string", "TYPE")
    check_eq(r.type("nope"), "none", "TYPE none")
    check_eq(r.expire("m1", 100000), True, "EXPIRE")
    ttl = r.ttl("m1")
    check(99990 <= ttl <= 100000, "TTL %r" % ttl)
    check_eq(r.expireat("m2", FAR), True, "EXPIREAT")
    check_eq(r.execute_command("EXPIRETIME", "m2"), FAR, "EXPIRETIME")
    check_eq(r.persist("m2"), True, "PERSIST")
    check_eq(r.ttl("m2"), -1, "TTL after PERSIST")
    check_eq(r.getdel("m2"), "b", "GETDEL")
    check_eq(r.getex("m1", persist=True), "a", "GETEX PERSIST")
    check_eq(r.set("m3", "c"), True, "SET m3")
    check_eq(r.rename("m1", "m4"), True, "RENAME")
    check_eq(r.renamenx("m4", "m3"), False, "RENAMENX")
    check_eq(r.delete("m3", "m4", "nope"), 2, "DEL")
    check_eq(r.unlink("greeting"), 1, "UNLINK")
    check_eq(r.dbsize(), 2, "DBSIZE")
    check_eq(sorted(r.keys("*")), ["f", "n"], "KEYS")
    check_eq(r.object("encoding", "n"), "int", "OBJECT ENCODING")
    check_eq(r.echo("echo me"), "echo me", "ECHO")
    t = r.time()
    check(isinstance(t, tuple) and len(t) == 2 and t[0] > 1600000000,
          "TIME %r" % (t,))
    try:
        r.execute_command("NOSUCHCOMMAND", "x")
        raise AssertionError("unknown command did not raise")
    except redis.ResponseError as e:
        check(str(e).startswith("unknown command 'NOSUCHCOMMAND'"),
              "unknown command error %r" % str(e))
    try:
        r.incr("f")
        raise AssertionError("INCR on a float did not raise")
    except redis.ResponseError as e:
        check_eq(str(e), "value is not an integer or out of range",
                 "INCR error")
    r.close()


def test_redispy_binary(akv):
    r = client(akv)
    allbytes = bytes(range(256))
    keys = [b"bin\x00key", b"\r\n", b"\xff\xfe", b"", b"sp ace"]
    for i, k in enumerate(keys):
        check_eq(r.set(k, allbytes * (i + 1)), True, "SET %r" % k)
    for i, k in enumerate(keys):
        check_eq(r.get(k), allbytes * (i + 1), "GET %r" % k)
    check_eq(r.mget(keys), [allbytes * (i + 1) for i in range(len(keys))],
             "MGET binary")
    check_eq(r.append(b"bin\x00key", b"\x00\r\n"), 259, "APPEND binary")
    check_eq(r.getrange(b"bin\x00key", 255, 258), b"\xff\x00\r\n",
             "GETRANGE binary")
    big = os.urandom(3 * 1024 * 1024)
    r.set(b"big", big)
    check(r.get(b"big") == big, "3 MiB random value round trip")
    check_eq(r.delete(*keys, b"big"), len(keys) + 1, "DEL binary keys")
    r.close()


def test_redispy_pipeline(akv):
    r = client(akv, decode_responses=True)
    r.delete("pc")
    p = r.pipeline(transaction=False)
    for i in range(500):
        p.set("pk:%d" % i, i)
        p.incr("pc")
    p.get("pk:499")
    p.mget(["pk:0", "pk:1", "nope"])
    p.incr("pk:0")      # fine
    p.incrbyfloat("pk:1", "x")  # error reply inside the pipeline
    res = p.execute(raise_on_error=False)
    check_eq(len(res), 1004, "pipeline reply count")
    check_eq(res[1], 1, "first INCR")
    check_eq(res[999], 500, "last INCR")
    check_eq(res[1000], "499", "GET")
    check_eq(res[1001], ["0", "1", None], "MGET")
    check_eq(res[1002], 1, "INCR pk:0")
    check(isinstance(res[1003], redis.ResponseError),
          "error in pipeline: %r" % (res[1003],))
    keys = sorted(r.scan_iter(match="pk:*", count=50))
    check_eq(len(keys), 500, "SCAN iteration count")
    check_eq(len(set(keys)), 500, "SCAN unique keys")
    r.delete(*keys)
    r.close()


def test_redispy_db_and_name(akv):
    r2 = client(akv, db=2, decode_responses=True,
                client_name="arenakv-tests")
    r0 = client(akv, db=0, decode_responses=True)
    r2.set("dbkey", "in2")
    check_eq(r0.get("dbkey"), None, "db0 does not see db2")
    check_eq(r2.get("dbkey"), "in2", "db2 key")
    check_eq(r2.client_getname(), "arenakv-tests", "client name")
    check(isinstance(r2.client_id(), int), "CLIENT ID")
    check_eq(r2.move("dbkey", 0), True, "MOVE")
    check_eq(r0.get("dbkey"), "in2", "after MOVE")
    check_eq(r0.swapdb(0, 2), True, "SWAPDB")
    check_eq(r2.get("dbkey"), "in2", "after SWAPDB (db2)")
    check_eq(r0.get("dbkey"), None, "after SWAPDB (db0)")
    r2.flushdb()
    check_eq(r2.dbsize(), 0, "FLUSHDB")
    clients = r0.client_list()
    check(any(c.get("name") == "arenakv-tests" for c in clients),
          "CLIENT LIST shows the named client: %r" % clients)
    info = r2.client_info()
    check_eq(info.get("name"), "arenakv-tests", "CLIENT INFO name")
    check_eq(str(info.get("db")), "2", "CLIENT INFO db")
    r0.close()
    r2.close()


def test_redispy_info_and_config(akv):
    r = client(akv, decode_responses=True)
    r.flushall()
    for i in range(7):
        r.set("ik:%d" % i, "v")
    r.expire("ik:0", 100000)
    r.expire("ik:1", 100000)
    info = r.info()
    for field in ("redis_version", "connected_clients", "used_memory",
                  "used_memory_human", "total_commands_processed"):
        check(field in info, "INFO lacks %s" % field)
    check(re.match(r"^\d+\.\d+\.\d+$", str(info["redis_version"])),
          "redis_version %r" % info["redis_version"])
    check(isinstance(info["connected_clients"], int) and
          info["connected_clients"] >= 1, "connected_clients")
    check(isinstance(info["used_memory"], int) and info["used_memory"] > 0,
          "used_memory")
    check_eq(info["db0"]["keys"], 7, "db0 keys")
    check_eq(info["db0"]["expires"], 2, "db0 expires")
    check(isinstance(info["db0"]["avg_ttl"], int), "db0 avg_ttl")
    cfg = r.config_get("port")
    check_eq(cfg, {"port": str(akv.port)}, "CONFIG GET port")
    cfg = r.config_get("maxmemory")
    check(set(cfg) == {"maxmemory"} and cfg["maxmemory"].isdigit(),
          "CONFIG GET maxmemory %r" % cfg)
    r.close()


def test_concurrent_incr(akv):
    """20 connections x 500 INCR on one key: exactly 10000, no duplicates."""
    need_redis_py()
    r = client(akv)
    r.delete("shared-counter")
    results = [None] * 20
    errors = []

    def worker(i):
        try:
            c = client(akv)
            results[i] = [c.incr("shared-counter") for _ in range(500)]
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "worker errors: %s" % errors[:3])
    check_eq(int(r.get("shared-counter")), 10000, "final counter")
    seen = sorted(v for res in results for v in res)
    check(seen == list(range(1, 10001)), "INCR replies are not exactly "
          "1..10000 (duplicates or gaps)")
    for res in results:
        check(res == sorted(res), "replies on one connection not increasing")
    r.close()


def test_concurrent_processes(akv):
    """Separate processes hammering the same keys with mixed commands."""
    code = r"""
import socket, sys
port, ident = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    out = b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
    s.sendall(out)
buf = b""
n = 300
for i in range(n):
    cmd(b"INCR", b"proc-counter")
    cmd(b"APPEND", b"proc-log", ident)
    cmd(b"SET", b"proc-last:" + ident, b"%d" % i)
s.sendall(b"PING\r\n")
while not buf.endswith(b"+PONG\r\n"):
    d = s.recv(65536)
    if not d:
        sys.exit("connection closed")
    buf += d
if b"-" in buf.replace(b"proc", b""):
    sys.exit("error reply seen")
"""
    r = client(akv)
    r.delete("proc-counter", "proc-log")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(akv.port),
                               "%02d" % i]) for i in range(8)]
    for p in procs:
        check_eq(p.wait(120), 0, "worker process exit status")
    check_eq(int(r.get("proc-counter")), 2400, "counter")
    log = r.get("proc-log")
    check_eq(len(log), 2400 * 2, "log length")
    for i in range(8):
        check_eq(log.count(b"%02d" % i), 300, "appends of %d" % i)
        check_eq(r.get("proc-last:%02d" % i), b"299", "last SET")
    r.close()


# ---------------------------------------------------------------------------
# redis-cli

def _cli_setup(srv):
    r = client(srv)
    r.flushall()
    r.set("str", "hello world")
    r.set("int", "42")
    r.set("bin", b"a\x00b\r\n\xff\"'\\")
    r.set("utf8", "caf\u00e9")
    r.set("empty", "")
    r.execute_command("SET", "exp", "v", "EXAT", str(FAR))
    r.close()
    r2 = client(srv, db=2)
    r2.set("db2key", "two")
    r2.close()


CLI_CASES = [
    # (options, args, stdin)
    ([], ["PING"], None),
    ([], ["GET", "str"], None),
    (["--no-raw"], ["GET", "str"], None),
    (["--no-raw"], ["GET", "bin"], None),
    (["--raw"], ["GET", "bin"], None),
    (["--no-raw"], ["GET", "utf8"], None),
    (["--no-raw"], ["GET", "empty"], None),
    (["--no-raw"], ["GET", "missing"], None),
    (["--no-raw"], ["MGET", "str", "int", "missing", "bin"], None),
    (["--raw"], ["MGET", "str", "int", "missing"], None),
    (["--no-raw"], ["INCR", "int"], None),
    (["--no-raw"], ["INCRBYFLOAT", "int", "0.5"], None),
    (["--no-raw"], ["INCR", "str"], None),
    (["--no-raw"], ["SET", "new", "value", "NX"], None),
    (["--no-raw"], ["SET", "new", "value", "NX"], None),
    (["--no-raw"], ["SET", "new", "v2", "GET"], None),
    (["--no-raw"], ["EXPIRETIME", "exp"], None),
    (["--no-raw"], ["PEXPIRETIME", "exp"], None),
    (["--no-raw"], ["TTL", "str"], None),
    (["--no-raw"], ["TYPE", "str"], None),
    (["--no-raw"], ["EXISTS", "str", "int", "nope"], None),
    (["--no-raw"], ["DBSIZE"], None),
    (["--no-raw"], ["KEYS", "s*"], None),
    (["--no-raw"], ["OBJECT", "ENCODING", "str"], None),
    (["--no-raw"], ["NOSUCHCMD", "a"], None),
    (["--no-raw"], ["GET"], None),
    (["--no-raw"], ["SET", "k", "v", "EX", "0"], None),
    (["--no-raw", "-n", "2"], ["GET", "db2key"], None),
    (["--no-raw", "-n", "2"], ["DBSIZE"], None),
    (["--no-raw", "-n", "2"], ["SET", "cli2", "x"], None),
    (["--no-raw", "-n", "2"], ["KEYS", "cli*"], None),
    (["--no-raw"], ["GET", "db2key"], None),
    (["--no-raw", "-n", "3"], ["GET", "db2key"], None),
    (["--no-raw", "-3"], ["GET", "missing"], None),
    (["--no-raw", "-3"], ["MGET", "str", "missing"], None),
    (["--no-raw", "-3"], ["INCR", "int2"], None),
    (["--no-raw", "-3"], ["TYPE", "str"], None),
    (["--no-raw", "-3"], ["OBJECT", "ENCODING", "missing"], None),
    (["--no-raw", "-2"], ["ECHO", "resp2"], None),
    (["-x"], ["SET", "fromstdin"], b"piped\x00value\n"),
    (["--no-raw"], ["GET", "fromstdin"], None),
    (["--no-raw"], [], b"SET a 1\nINCR a\nGET a\nMGET a b\nPING\n"),
    (["--no-raw"], [], b'SET "sp ace" "x y"\nGET "sp ace"\nECHO "\\x41"\n'),
    (["--no-raw"], ["DEL", "a", "sp ace", "fromstdin", "new", "nope"], None),
    (["--no-raw"], ["CLIENT", "GETNAME"], None),
    (["--no-raw"], ["CLIENT", "SETNAME", "bad name"], None),
    (["--no-raw"], ["SELECT", "99"], None),
    (["--no-raw"], ["FLUSHDB"], None),
    (["--no-raw"], ["DBSIZE"], None),
]


def test_redis_cli_outputs_match_reference(akv, ref):
    cli_path()
    need_redis_py()
    outs = {}
    for name, srv in (("akv", akv), ("ref", ref)):
        _cli_setup(srv)
        outs[name] = [run_cli(srv, args, stdin, opts)
                      for opts, args, stdin in CLI_CASES]
    bad = []
    for i, case in enumerate(CLI_CASES):
        a, b = outs["akv"][i], outs["ref"][i]
        if a != b:
            bad.append(i)
            print("# redis-cli %s %s:\n#   arenakv:   %r\n#   reference: %r"
                  % (" ".join(case[0]), " ".join(case[1]), a, b))
    check(not bad, "%d redis-cli outputs differ" % len(bad))
    # Spot-check a few absolute outputs.
    check_eq(outs["akv"][2], (0, b'"hello world"\n'), "--no-raw GET")
    check_eq(outs["akv"][7], (0, b"(nil)\n"), "--no-raw nil")


def test_redis_cli_pipe_mode(akv):
    cli_path()
    data = b"".join(akvtest.pack_command(b"SET", b"pipe:%d" % i, b"v%d" % i)
                    for i in range(1000))
    data += b"".join(b"INCR pipecounter\r\n" for _ in range(100))
    code, out = run_cli(akv, [], stdin=data, opts=["--pipe"])
    check_eq(code, 0, "redis-cli --pipe exit status (output %r)" % out)
    check(b"errors: 0, replies: 1100" in out, "--pipe summary: %r" % out)
    code, out = run_cli(akv, ["GET", "pipecounter"])
    check_eq(out, b"100\n", "counter after --pipe")


def test_redis_cli_info(akv):
    cli_path()
    need_redis_py()
    r = client(akv)
    r.flushall()
    for i in range(5):
        r.set("info:%d" % i, i)
    r.expire("info:0", 100000)
    r3 = client(akv, db=3)
    r3.set("three", "3")
    code, out = run_cli(akv, ["INFO"])
    check_eq(code, 0, "redis-cli INFO exit status")
    text = out.decode("utf-8", "replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    sections = [ln[2:].strip().lower() for ln in lines if ln.startswith("# ")]
    for s in ("server", "clients", "memory", "stats", "keyspace"):
        check(s in sections, "INFO section %s missing (have %s)"
              % (s, sections))
    fields = {}
    for ln in lines:
        if ln and not ln.startswith("#") and ":" in ln:
            k, _, v = ln.partition(":")
            fields[k] = v
    check(re.match(r"^\d+\.\d+\.\d+$", fields.get("redis_version", "")),
          "redis_version %r" % fields.get("redis_version"))
    check(fields.get("connected_clients", "").isdigit() and
          int(fields["connected_clients"]) >= 2, "connected_clients %r"
          % fields.get("connected_clients"))
    check(fields.get("used_memory", "").isdigit(), "used_memory")
    check(re.match(r"^\d+(\.\d+)?[BKMGT]$", fields.get("used_memory_human",
                                                       "")),
          "used_memory_human %r" % fields.get("used_memory_human"))
    check(fields.get("total_commands_processed", "").isdigit(),
          "total_commands_processed")
    check(re.match(r"^keys=5,expires=1,avg_ttl=\d+$", fields.get("db0", "")),
          "db0 line %r" % fields.get("db0"))
    check(re.match(r"^keys=1,expires=0,avg_ttl=0$", fields.get("db3", "")),
          "db3 line %r" % fields.get("db3"))
    check("db1" not in fields, "empty db1 must not be listed")
    # Counters move.
    before = int(fields["total_commands_processed"])
    for _ in range(10):
        r.ping()
    code, out = run_cli(akv, ["INFO", "stats"])
    m = re.search(rb"total_commands_processed:(\d+)", out)
    check(m and int(m.group(1)) >= before + 10,
          "total_commands_processed did not advance")
    # A single section only.
    code, out = run_cli(akv, ["INFO", "keyspace"])
    text = out.decode()
    check(text.startswith("# Keyspace"), "INFO keyspace: %r" % text)
    check("redis_version" not in text, "INFO keyspace has other sections")
    # CONFIG GET via the CLI.
    code, out = run_cli(akv, ["CONFIG", "GET", "port"])
    check_eq(out, b"port\n%d\n" % akv.port, "CONFIG GET port")
    code, out = run_cli(akv, ["CONFIG", "GET", "maxmemory"])
    check(re.match(rb"^maxmemory\n\d+\n$", out), "CONFIG GET maxmemory %r"
          % out)
    code, out = run_cli(akv, ["DBSIZE"])
    check_eq(out, b"5\n", "DBSIZE")
    r.close()
    r3.close()


def test_redis_benchmark(akv):
    bench = akvtest.which("redis-benchmark", ("/usr/bin/redis-benchmark",))
    if not bench:
        raise SkipTest("redis-benchmark not found")
    need_redis_py()
    r = client(akv)
    r.flushall()
    p = subprocess.run([bench, "-h", "127.0.0.1", "-p", str(akv.port), "-q",
                        "-n", "2000", "-t", "set,get,incr", "-P", "16"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    print("# redis-benchmark output (timings are informational only):")
    for ln in out.replace("\r", "\n").split("\n"):
        if "requests per second" in ln:
            print("#   " + ln.strip())
    check_eq(p.returncode, 0, "redis-benchmark exit status; output:\n" + out)
    for t in ("SET", "GET", "INCR"):
        check(re.search(r"(^|\s)%s: [\d.]+ requests per second" % t, out),
              "no result line for %s in:\n%s" % (t, out))
    check("error" not in out.lower(), "errors reported:\n" + out)
    check_eq(r.get("counter:__rand_int__"), b"2000", "INCR count")
    check_eq(r.strlen("key:__rand_int__"), 3, "SET value size")
    r.close()


def _servers():
    need_redis_py()
    return {"akv": ArenakvServer(), "ref": RedisServer()}


if __name__ == "__main__":
    akvtest.main(globals(), _servers)
