#!/usr/bin/python3
"""Protocol-level tests: malformed RESP, inline commands, pipelining.

Every malformed request of the corpus is sent on a fresh connection to both
arenakv and the reference redis-server.  A sentinel command follows it, and
the replies are collected until the sentinel's reply arrives, the server
closes the connection, or (for requests that leave the parser waiting for
more data) a short quiet period passes.  The exact reply bytes and the final
state (sentinel seen / closed / still waiting) must be identical.
"""

import os
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn,  # noqa: E402
                     ConnectionClosed, pack_command, check, check_eq)

TOKEN = b"sentinel-5b1f0c"
RESP_SENTINEL = pack_command(b"ECHO", TOKEN)
INLINE_SENTINEL = b"ECHO " + TOKEN + b"\r\n"
SENTINEL_REPLY = b"$%d\r\n%s\r\n" % (len(TOKEN), TOKEN)

# How long a connection must stay silent to count as "waiting for more".
QUIET = 1.0
# Upper bound for anything that is expected to happen.
LONG = 15.0

R, I, N = "resp", "inline", None   # sentinel kinds

# (name, [chunks], sentinel kind).  Chunks are sent with a short pause in
# between so that they arrive in separate reads.
CORPUS = [
    # -- multibulk count ---------------------------------------------------
    ("mbulk_len_not_number", [b"*abc\r\n"], R),
    ("mbulk_len_empty", [b"*\r\n"], R),
    ("mbulk_len_plus_sign", [b"*+1\r\n"], R),
    ("mbulk_len_trailing_space", [b"*1 \r\n"], R),
    ("mbulk_len_leading_space", [b"* 1\r\n"], R),
    ("mbulk_len_leading_zero", [b"*01\r\n$4\r\nPING\r\n"], R),
    ("mbulk_len_trailing_garbage", [b"*1x\r\n"], R),
    ("mbulk_len_minus_zero", [b"*-0\r\n"], R),
    ("mbulk_len_negative_ignored", [b"*-5\r\n"], R),
    ("mbulk_len_minus_one_ignored", [b"*-1\r\n"], R),
    ("mbulk_len_zero_ignored", [b"*0\r\n"], R),
    ("mbulk_len_zero_then_ping", [b"*0\r\n*1\r\n$4\r\nPING\r\n"], R),
    ("mbulk_len_int_max", [b"*2147483647\r\n"], R),
    ("mbulk_len_over_int_max", [b"*2147483648\r\n"], R),
    ("mbulk_len_2e9", [b"*2000000000\r\n"], R),
    ("mbulk_len_2e9_waits", [b"*2000000000\r\n"], N),
    ("mbulk_len_overflow", [b"*99999999999999999999\r\n"], R),
    ("mbulk_len_too_long_no_cr", [b"*" + b"1" * 100000], N),
    ("mbulk_len_lf_only", [b"*1\n$4\nPING\n"], R),
    # -- bulk length ----------------------------------------------------------
    ("bulk_len_not_number", [b"*1\r\n$abc\r\n"], R),
    ("bulk_len_empty", [b"*1\r\n$\r\n"], R),
    ("bulk_len_minus_one", [b"*1\r\n$-1\r\n"], R),
    ("bulk_len_negative", [b"*1\r\n$-5\r\n"], R),
    ("bulk_len_minus_zero", [b"*1\r\n$-0\r\n"], R),
    ("bulk_len_plus_sign", [b"*1\r\n$+4\r\nPING\r\n"], R),
    ("bulk_len_space", [b"*1\r\n$ 4\r\nPING\r\n"], R),
    ("bulk_len_trailing_garbage", [b"*1\r\n$1x\r\n"], R),
    ("bulk_len_high_byte", [b"*1\r\n$\xff\r\n"], R),
    ("bulk_len_overflow", [b"*1\r\n$99999999999999999999\r\n"], R),
    ("bulk_len_over_proto_max", [b"*1\r\n$600000000\r\n"], R),
    ("bulk_len_proto_max_plus_one", [b"*1\r\n$536870913\r\n"], R),
    ("bulk_len_proto_max_accepted", [b"*1\r\n$536870912\r\n"], N),
    ("bulk_len_second_arg_invalid", [b"*2\r\n$4\r\nECHO\r\n$-1\r\n"], R),
    ("bulk_len_too_long_no_cr", [b"*1\r\n$" + b"1" * 100000], N),
    ("bulk_len_zero_empty_command", [b"*1\r\n$0\r\n\r\n"], R),
    # -- element type -----------------------------------------------------------
    ("missing_dollar", [b"*1\r\nfoo\r\n"], R),
    ("nested_multibulk", [b"*1\r\n*1\r\n"], R),
    ("simple_string_element", [b"*2\r\n$4\r\nECHO\r\n+hi\r\n"], R),
    ("integer_element", [b"*2\r\n$4\r\nECHO\r\n:1\r\n"], R),
    ("error_element", [b"*1\r\n$4\r\nPING\r\n*1\r\n-x\r\n"], R),
    ("empty_line_element", [b"*1\r\n\r\n"], R),
    ("lf_element", [b"*1\r\n\nfoo\r\n"], R),
    ("high_byte_element", [b"*1\r\n\xff\r\n"], R),
    ("del_byte_element", [b"*1\r\n\x7f\r\n"], R),
    # -- framing ----------------------------------------------------------------
    ("bulk_crlf_not_checked", [b"*1\r\n$4\r\nPINGxx"], R),
    ("split_in_bulk", [b"*1\r\n$4\r\nPI", b"NG\r\n"], R),
    ("split_in_header", [b"*1\r", b"\n$", b"4\r\nPING\r", b"\n"], R),
    ("split_everywhere", [bytes([c]) for c in pack_command(b"ECHO", b"hi")],
     R),
    ("two_commands_one_packet", [b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n"
                                 b"$1\r\nx\r\n"], R),
    ("valid_then_protocol_error", [b"PING\r\n*abc\r\nPING\r\n"], R),
    ("valid_multibulk_then_error", [pack_command(b"SET", b"pk", b"v") +
                                    b"*1\r\n$x\r\n" +
                                    pack_command(b"GET", b"pk")], R),
    # -- inline -------------------------------------------------------------
    ("inline_unbalanced_double", [b'set "a b\r\n'], I),
    ("inline_unbalanced_single", [b"set 'a b\r\n"], I),
    ("inline_lone_quote", [b'"\r\n'], I),
    ("inline_quote_then_char", [b'echo ""x\r\n'], I),
    ("inline_escaped_closing_quote", [b'echo "\\"\r\n'], I),
    ("inline_quote_inside_word", [b'echo a" b\r\n'], I),
    ("inline_closed_quote_inside_word", [b'echo a"b"\r\n'], I),
    ("inline_too_big", [b"x" * 100000], N),
    ("inline_just_over_limit", [b"x" * 65537], N),
    ("inline_at_limit_waits", [b"x" * 65536], N),
    ("inline_long_line_ok", [b"ECHO " + b"y" * 60000 + b"\r\n"], I),
    ("inline_long_unknown_command", [b"z" * 60000 + b"\r\n"], I),
    ("inline_empty_lines", [b"\r\n\n\r\n\r\nPING\r\n"], I),
    ("inline_lf_only", [b"PING\nPING\n"], I),
    ("inline_surrounding_spaces", [b"  PING  \r\n"], I),
    ("inline_tab_separator", [b"echo a\tb\r\n"], I),
    ("inline_many_spaces", [b"ECHO   a   \t  b\r\n"], I),
    ("inline_cr_in_middle", [b"PING\rPING\r\n"], I),
    ("inline_hex_escape", [b'echo "\\x41\\x4a"\r\n'], I),
    ("inline_bad_hex_escape", [b'echo "\\xzz"\r\n'], I),
    ("inline_high_hex_escape", [b'echo "\\xAB"\r\n'], I),
    ("inline_c_escapes", [b'echo "a\\tb\\r\\b\\a\\n"\r\n'], I),
    ("inline_escaped_quote", [b'echo "a\\"b"\r\n'], I),
    ("inline_single_quote_escape", [b"echo 'a\\'b'\r\n"], I),
    ("inline_single_quote_no_c_escapes", [b"echo 'a\\nb'\r\n"], I),
    ("inline_empty_double_quotes", [b'echo ""\r\n'], I),
    ("inline_empty_single_quotes", [b"echo ''\r\n"], I),
    ("inline_unquoted_backslash", [b"echo \\x41\r\n"], I),
    ("inline_colon_command", [b":1\r\n"], I),
    ("inline_dollar_command", [b"$4\r\nPING\r\n"], I),
    ("inline_plus_command", [b"+PING\r\n"], I),
    ("inline_split", [b"PI", b"NG\r", b"\n"], I),
    ("inline_then_multibulk", [b"PING\r\n" + pack_command(b"ECHO", b"m")], R),
    ("inline_case_insensitive", [b"pInG\r\nEcHo Hi\r\n"], I),
    ("inline_wrong_arity", [b"GET\r\n"], I),
    ("inline_unknown_with_args", [b"FOO bar 'baz qux'\r\n"], I),
]


def probe(port, chunks, sentinel_kind, quiet):
    """Send the chunks (then the sentinel) and collect what comes back.

    Returns (replies, state, trailing) where state is "sentinel", "closed"
    or "waiting"."""
    conn = RespConn(port, timeout=LONG)
    replies = []
    try:
        for i, chunk in enumerate(chunks):
            if i:
                time.sleep(0.02)
            if not conn.send_raw(chunk):
                break
        if sentinel_kind == R:
            conn.send_raw(RESP_SENTINEL)
        elif sentinel_kind == I:
            conn.send_raw(INLINE_SENTINEL)
        wait = LONG if sentinel_kind else quiet
        while True:
            try:
                r = conn.read_reply(timeout=wait)
            except ConnectionClosed as e:
                return replies, "closed", e.partial
            except socket.timeout:
                return replies, "waiting", conn.buf
            if sentinel_kind and r == SENTINEL_REPLY:
                return replies, "sentinel", conn.buf
            replies.append(r)
            if not sentinel_kind:
                wait = quiet
    finally:
        conn.close()


def _fmt(result):
    replies, state, trailing = result
    s = ["state=%s" % state]
    for r in replies:
        s.append("  reply %r" % (r[:200] + (b"..." if len(r) > 200 else b"")))
    if trailing:
        s.append("  trailing %r" % trailing[:200])
    return "\n".join(s)


def test_malformed_corpus(akv, ref):
    """Each malformed request: identical replies and close behaviour."""
    # A client connected the whole time must keep working afterwards.
    bystander_a = RespConn(akv.port)
    bystander_r = RespConn(ref.port)
    for c in (bystander_a, bystander_r):
        check_eq(c.command(b"SET", b"bystander", b"still here"), b"+OK\r\n",
                 "bystander SET")
    failures = []
    for name, chunks, kind in CORPUS:
        for c in (bystander_a, bystander_r):
            c.command(b"DEL", b"pk")
        want = probe(ref.port, chunks, kind, QUIET)
        got = probe(akv.port, chunks, kind, QUIET)
        if got != want:
            failures.append(name)
            print("# MISMATCH %s: request %r\n# arenakv:\n%s\n# reference:\n%s"
                  % (name, b"".join(chunks)[:120], _fmt(got), _fmt(want)))
        if not akv.alive():
            break
    akv.check_alive()
    check_eq(bystander_a.command(b"GET", b"bystander"),
             b"$10\r\nstill here\r\n", "bystander GET after corpus")
    check_eq(bystander_a.command(b"PING"), b"+PONG\r\n",
             "bystander PING after corpus")
    bystander_a.close()
    bystander_r.close()
    with RespConn(akv.port) as c:
        check_eq(c.command(b"PING"), b"+PONG\r\n", "new client PING")
    check(not failures, "%d corpus cases differ: %s" % (len(failures),
                                                        ", ".join(failures)))


def test_protocol_error_strings(akv):
    """The exact Redis 7.0 error strings, checked against fixed bytes."""
    expected = {
        b"*abc\r\n": b"-ERR Protocol error: invalid multibulk length\r\n",
        b"*1\r\n$abc\r\n": b"-ERR Protocol error: invalid bulk length\r\n",
        b"*1\r\n$600000000\r\n":
            b"-ERR Protocol error: invalid bulk length\r\n",
        b"*1\r\nfoo\r\n": b"-ERR Protocol error: expected '$', got 'f'\r\n",
        b"*1\r\n*1\r\n": b"-ERR Protocol error: expected '$', got '*'\r\n",
        b'set "a b\r\n':
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        b"x" * 70000: b"-ERR Protocol error: too big inline request\r\n",
        b"*" + b"1" * 70000:
            b"-ERR Protocol error: too big mbulk count string\r\n",
        b"*1\r\n$" + b"1" * 70000:
            b"-ERR Protocol error: too big bulk count string\r\n",
    }
    for req, want in expected.items():
        with RespConn(akv.port) as c:
            c.send_raw(req)
            got = c.wait_closed(LONG)
            check_eq(got, want, "reply to %r" % req[:40])


def test_inline_telnet_session(akv, ref):
    """A telnet-style session of inline commands."""
    script = (b"SET a b\r\nGET a\r\nset counter 10\r\nINCR counter\r\n"
              b"incrby counter -20\r\nMGET a counter missing\r\n"
              b"APPEND a \"  c\"\r\nGET a\r\nEXISTS a counter\r\n"
              b"SET sp 'x y'\r\nGET sp\r\nDEL a counter sp\r\nDBSIZE\r\n"
              b"PING\r\nPING hello\r\nECHO \"\\x00\\x01\"\r\n")
    count = script.count(b"\n")
    outs = []
    for srv in (akv, ref):
        with RespConn(srv.port) as c:
            c.command(b"FLUSHALL")
            c.send_raw(script)
            outs.append(c.read_replies(count))
    check_eq(outs[0], outs[1], "inline session replies")
    check_eq(outs[0][:2], [b"+OK\r\n", b"$1\r\nb\r\n"], "SET/GET inline")


def _pipeline_payload(n):
    out = []
    for i in range(n):
        m = i % 5
        if m == 0:
            out.append(pack_command(b"SET", b"p:%d" % (i % 37), b"v%d" % i))
        elif m == 1:
            out.append(pack_command(b"INCR", b"pcounter"))
        elif m == 2:
            out.append(pack_command(b"GET", b"p:%d" % (i % 41)))
        elif m == 3:
            out.append(pack_command(b"APPEND", b"plog", b"%d," % i))
        else:
            out.append(pack_command(b"MGET", b"p:1", b"pcounter", b"nokey"))
    return b"".join(out)


def test_pipeline_1000_in_one_write(akv, ref):
    payload = _pipeline_payload(1000)
    results = []
    for srv in (akv, ref):
        with RespConn(srv.port, timeout=LONG) as c:
            c.command(b"FLUSHALL")
            c.send_raw(payload)
            replies = c.read_replies(1000)
            check_eq(c.command(b"PING"), b"+PONG\r\n", "PING after pipeline")
            results.append(replies)
    check_eq(len(results[0]), 1000, "reply count")
    for i, (a, b) in enumerate(zip(*results)):
        check(a == b, "pipelined reply #%d: arenakv %r, reference %r"
              % (i, a[:100], b[:100]))
    check_eq(results[0][-4], b":200\r\n", "last INCR")


def test_inline_pipeline_1000(akv, ref):
    payload = b"".join(b"INCR ipc\r\nECHO line%d\r\n" % i for i in range(500))
    results = []
    for srv in (akv, ref):
        with RespConn(srv.port, timeout=LONG) as c:
            c.command(b"DEL", b"ipc")
            c.send_raw(payload)
            results.append(b"".join(c.read_replies(1000)))
    check(results[0] == results[1], "inline pipeline replies differ")


def test_pipeline_then_quit(akv, ref):
    """Commands after QUIT in the same packet are not executed."""
    payload = (pack_command(b"SET", b"q", b"1") + pack_command(b"QUIT") +
               pack_command(b"SET", b"q", b"2"))
    out = []
    for srv in (akv, ref):
        with RespConn(srv.port) as c:
            c.send_raw(payload)
            data = c.wait_closed(LONG)
        with RespConn(srv.port) as c:
            out.append((data, c.command(b"GET", b"q")))
    check_eq(out[0], out[1], "QUIT in a pipeline")
    check_eq(out[0], (b"+OK\r\n+OK\r\n", b"$1\r\n1\r\n"), "QUIT in a pipeline")


def test_byte_by_byte(akv):
    """A request delivered one byte per write is parsed correctly."""
    with RespConn(akv.port) as c:
        for b in pack_command(b"SET", b"slow\r\nkey", b"slow\x00value"):
            c.send_raw(bytes([b]))
            time.sleep(0.001)
        check_eq(c.read_reply(), b"+OK\r\n", "byte-by-byte SET")
        for b in b"GET slowkey\r\n":
            c.send_raw(bytes([b]))
            time.sleep(0.001)
        check_eq(c.read_reply(), b"$-1\r\n", "byte-by-byte inline GET")
        check_eq(c.command(b"GET", b"slow\r\nkey"),
                 b"$10\r\nslow\x00value\r\n", "value")


def test_large_values(akv):
    """Multi-megabyte arguments and replies cross many reads and writes."""
    big = bytes(range(256)) * (4 * 4096)   # 4 MiB
    with RespConn(akv.port, timeout=LONG) as c:
        check_eq(c.command(b"SET", b"big", big), b"+OK\r\n", "SET 4MiB")
        check_eq(c.command(b"STRLEN", b"big"), b":%d\r\n" % len(big),
                 "STRLEN")
        check(c.command(b"GET", b"big") ==
              b"$%d\r\n" % len(big) + big + b"\r\n", "GET 4MiB mismatch")
        check_eq(c.command(b"APPEND", b"big", big), b":%d\r\n" % (2 * len(big)),
                 "APPEND")
        check_eq(c.command(b"GETRANGE", b"big", b"4194300", b"4194310"),
                 b"$11\r\n" + (big + big)[4194300:4194311] + b"\r\n",
                 "GETRANGE across boundary")
        # Several big values pipelined in one write.
        payload = b"".join(pack_command(b"SET", b"big%d" % i, big[:300000])
                           for i in range(8))
        c.send_raw(payload)
        check_eq(c.read_replies(8), [b"+OK\r\n"] * 8, "pipelined big SETs")
        c.send_raw(b"".join(pack_command(b"GET", b"big%d" % i)
                            for i in range(8)))
        want = b"$300000\r\n" + big[:300000] + b"\r\n"
        for i, r in enumerate(c.read_replies(8)):
            check(r == want, "GET big%d mismatch" % i)
        c.command(b"DEL", b"big", *[b"big%d" % i for i in range(8)])


def test_reader_not_draining(akv):
    """A client that pipelines a lot without reading does not stall others.
    (Its replies are eventually all delivered once it reads.)"""
    value = b"r" * 1000
    with RespConn(akv.port, timeout=LONG) as hog, \
            RespConn(akv.port, timeout=LONG) as other:
        hog.command(b"SET", b"hogval", value)
        n = 3000
        payload = pack_command(b"GET", b"hogval") * n
        t = threading.Thread(target=hog.send_raw, args=(payload,))
        t.start()
        time.sleep(0.2)
        check_eq(other.command(b"PING"), b"+PONG\r\n", "other client PING")
        want = b"$1000\r\n" + value + b"\r\n"
        for i in range(n):
            r = hog.read_reply()
            if r != want:
                raise AssertionError("reply %d: %r" % (i, r[:60]))
        t.join(LONG)
        check_eq(hog.command(b"PING"), b"+PONG\r\n", "hog PING")


def test_abrupt_disconnects(akv):
    """Clients vanishing mid-request or mid-reply do not hurt the server."""
    for data in (b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*1\r\n$100000\r\nabc",
                 b"GET k", pack_command(b"SET", b"dk0", b"x" * 100000)):
        s = socket.create_connection(("127.0.0.1", akv.port))
        s.sendall(data)
        s.close()
    # Request a large reply and close without reading it.
    with RespConn(akv.port) as c:
        c.command(b"SET", b"dk", b"x" * 2000000)
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", akv.port))
        s.sendall(pack_command(b"GET", b"dk") * 10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(0.2)
    akv.check_alive()
    with RespConn(akv.port) as c:
        check_eq(c.command(b"PING"), b"+PONG\r\n", "PING after disconnects")
        check_eq(c.command(b"STRLEN", b"dk"), b":2000000\r\n", "STRLEN")
        c.command(b"DEL", b"dk", b"dk0")


def test_many_connections(akv):
    conns = []
    try:
        for i in range(200):
            conns.append(RespConn(akv.port))
        for i, c in enumerate(conns):
            c.send_command(b"ECHO", b"c%d" % i)
        for i, c in enumerate(conns):
            check_eq(c.read_reply(), b"$%d\r\nc%d\r\n" % (len(b"%d" % i) + 1,
                                                          i), "conn %d" % i)
    finally:
        for c in conns:
            c.close()


# ---------------------------------------------------------------------------
# arenakv-worker: one connection served by a separate process attached to the
# server's arena.  Not applicable to the reference server.

def _need_worker(akv):
    if akv.reference_mode:
        raise akvtest.SkipTest("arenakv-worker has no redis-server equivalent")
    if not akvtest.worker_binary():
        raise akvtest.SkipTest("arenakv-worker not built")


def _finish_worker(proc, conn, what):
    check_eq(conn.command(b"QUIT"), b"+OK\r\n", "%s QUIT" % what)
    check_eq(conn.wait_closed(LONG), b"", "%s closes after QUIT" % what)
    conn.close()
    try:
        rc = proc.wait(LONG)
    except Exception:
        proc.kill()
        proc.wait()
        raise
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    check_eq(rc, 0, "%s exit status (stderr: %s)" % (what, err[-2000:]))


def test_worker_inetd_shares_the_arena(akv):
    _need_worker(akv)
    with RespConn(akv.port) as c:
        c.command(b"FLUSHALL")
        check_eq(c.command(b"SET", b"shared", b"from-server"), b"+OK\r\n",
                 "server SET")
    proc, w = akvtest.start_inetd_worker(akv.arena, timeout=LONG)
    try:
        check_eq(w.command(b"PING"), b"+PONG\r\n", "worker PING")
        check_eq(w.command(b"GET", b"shared"), b"$11\r\nfrom-server\r\n",
                 "worker sees the server's key")
        check_eq(w.command(b"SET", b"from-worker", b"\x00bin\r\n"),
                 b"+OK\r\n", "worker SET")
        w.send_raw(b"INCR wcount\r\nINCR wcount\r\n" +
                   pack_command(b"MGET", b"shared", b"wcount"))
        check_eq(w.read_replies(3), [b":1\r\n", b":2\r\n",
                                     b"*2\r\n$11\r\nfrom-server\r\n"
                                     b"$1\r\n2\r\n"], "worker pipeline")
        with RespConn(akv.port) as c:
            check_eq(c.command(b"GET", b"from-worker"),
                     b"$6\r\n\x00bin\r\n\r\n", "server sees the worker's key")
        _finish_worker(proc, w, "inetd worker")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_worker_and_server_increment_together(akv):
    """INCR from the server and from a worker on one key is atomic."""
    _need_worker(akv)
    with RespConn(akv.port) as c:
        c.command(b"DEL", b"both")
    proc, w = akvtest.start_inetd_worker(akv.arena, timeout=LONG)
    try:
        with RespConn(akv.port, timeout=LONG) as c:
            n = 2000
            c.send_raw(pack_command(b"INCR", b"both") * n)
            w.send_raw(pack_command(b"INCR", b"both") * n)
            got = [int(r[1:-2]) for r in c.read_replies(n) + w.read_replies(n)]
            check(sorted(got) == list(range(1, 2 * n + 1)),
                  "INCR replies are not exactly 1..%d" % (2 * n))
            check_eq(c.command(b"GET", b"both"), b"$4\r\n4000\r\n", "total")
        _finish_worker(proc, w, "inetd worker")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_worker_socket_activated(akv):
    _need_worker(akv)
    activate = akvtest.which("systemd-socket-activate",
                             ("/usr/bin/systemd-socket-activate",))
    if not activate:
        raise akvtest.SkipTest("systemd-socket-activate not found")
    with RespConn(akv.port) as c:
        c.command(b"SET", b"sa-key", b"visible")
        c.command(b"DEL", b"sa-count")
    port = akvtest.free_port()
    log = open(os.path.join(akv.tmpdir, "socket-activate.log"), "wb")
    proc = subprocess.Popen([activate, "--accept", "-l", "127.0.0.1:%d" % port,
                             akvtest.worker_binary(), "--arena", akv.arena],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("systemd-socket-activate did not "
                                         "listen on port %d" % port)
                time.sleep(0.05)
        conns = [RespConn(port, timeout=LONG) for _ in range(3)]
        for c in conns:
            check_eq(c.command(b"GET", b"sa-key"), b"$7\r\nvisible\r\n",
                     "socket-activated worker sees the server's key")
            c.command(b"INCR", b"sa-count")
        for c in conns:
            check_eq(c.command(b"QUIT"), b"+OK\r\n", "QUIT")
            c.close()
        with RespConn(akv.port) as c:
            check_eq(c.command(b"GET", b"sa-count"), b"$1\r\n3\r\n",
                     "server sees the workers' increments")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(LONG)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
