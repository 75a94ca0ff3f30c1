#!/usr/bin/python3
"""Generate src/command_meta.c from a reference redis-server 7.0.

COMMAND INFO and COMMAND DOCS describe Redis's interface, and arenakv must
answer them byte for byte.  This script starts the reference server (or
uses --port), reads both replies in RESP3, and writes one entry per
command and subcommand of the groups below:

  * info: COMMAND INFO's first nine elements (name .. key specs), and docs:
    COMMAND DOCS's map pairs except "subcommands", both in a small text
    form of RESP3 that src/command_meta.c replays through the reply
    encoder (so RESP2 and RESP3 both come out right).  The subcommand
    lists are left out: arenakv lists only the subcommands its table has.
  * what COMMAND GETKEYS and COMMAND LIST FILTERBY need in C: arity, key
    specs, ACL categories, and which of Redis's key-finding functions the
    command uses when its key specs cannot answer.

The text form, one token per line:  *N array, %N map, ~N set, +s status,
:N integer, $N<space>bytes bulk string, _ null.

Entries arenakv defines itself (a later Redis's subcommand, a deliberate
difference) are in EXTRA below, written in the same form.

Usage: tools/gen-command-meta.py [--port P] [-o src/command_meta.c]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

GROUPS = {"string", "bitmap", "generic", "hash", "set", "list",
          "sorted-set", "stream", "server", "connection", "transactions",
          "scripting", "pubsub"}

# Redis's key-finding functions (its commands' "get_keys_function"), used
# when the key specs fail: (kind, store, numkeys, first, step).
GETKEYS = {
    "zunionstore": ("generic", 1, 2, 3, 1),
    "zinterstore": ("generic", 1, 2, 3, 1),
    "zdiffstore": ("generic", 1, 2, 3, 1),
    "zunion": ("generic", 0, 1, 2, 1),
    "zinter": ("generic", 0, 1, 2, 1),
    "zdiff": ("generic", 0, 1, 2, 1),
    "zintercard": ("generic", 0, 1, 2, 1),
    "sintercard": ("generic", 0, 1, 2, 1),
    "eval": ("generic", 0, 2, 3, 1),
    "evalsha": ("generic", 0, 2, 3, 1),
    "eval_ro": ("generic", 0, 2, 3, 1),
    "evalsha_ro": ("generic", 0, 2, 3, 1),
    "fcall": ("generic", 0, 2, 3, 1),
    "fcall_ro": ("generic", 0, 2, 3, 1),
    "lmpop": ("generic", 0, 1, 2, 1),
    "blmpop": ("generic", 0, 2, 3, 1),
    "zmpop": ("generic", 0, 1, 2, 1),
    "bzmpop": ("generic", 0, 2, 3, 1),
    "sort": ("sort",), "sort_ro": ("sort_ro",), "migrate": ("migrate",),
    "xread": ("xread",), "xreadgroup": ("xread",),
    "set": ("set",), "bitfield": ("bitfield",),
}

KEY_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
             "not_key", "incomplete", "variable_flags"]


def bulk(s):
    return ("$", s.encode() if isinstance(s, str) else s)


def amap(*pairs):
    out = []
    for k, v in pairs:
        out += [bulk(k), v]
    return ("%", out)


# CLIENT SETINFO, which arenakv answers, as Redis 7.2 describes it (its
# tokens written as its command file writes them).
EXTRA = {
    "client|setinfo": (
        [bulk("client|setinfo"), (":", b"4"),
         ("~", [("+", b"noscript"), ("+", b"loading"), ("+", b"stale")]),
         (":", b"0"), (":", b"0"), (":", b"0"),
         ("~", [("+", b"@slow"), ("+", b"@connection")]),
         ("~", []), ("~", [])],
        amap(("summary",
              bulk("Sets information specific to the client or connection.")),
             ("since", bulk("7.2.0")), ("group", bulk("connection")),
             ("complexity", bulk("O(1)")),
             ("arguments", ("*", [amap(
                 ("name", bulk("attr")), ("type", bulk("oneof")),
                 ("arguments", ("*", [
                     amap(("name", bulk("libname")),
                          ("type", bulk("string")),
                          ("token", bulk("lib-name"))),
                     amap(("name", bulk("libver")),
                          ("type", bulk("string")),
                          ("token", bulk("lib-ver")))])))])))),
}


# ---------------------------------------------------------------- RESP3

def parse(buf, pos=0):
    t = chr(buf[pos])
    nl = buf.index(b"\r\n", pos)
    head = buf[pos + 1:nl]
    pos = nl + 2
    if t in "+-:_,#(":
        return (t, head), pos
    if t in "$=!":
        n = int(head)
        return (t, buf[pos:pos + n]), pos + n + 2
    if t in "*~%":
        n = int(head) * (2 if t == "%" else 1)
        items = []
        for _ in range(n):
            x, pos = parse(buf, pos)
            items.append(x)
        return (t, items), pos
    raise ValueError("type %r" % t)


def read_reply(sock, req):
    sock.sendall(req)
    buf = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise EOFError
        buf += chunk
        try:
            r, end = parse(buf)
            if end == len(buf):
                return r
        except (ValueError, IndexError):
            pass


def pack(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def as_dict(m):
    v = m[1]
    return {v[i][1].decode(): v[i + 1] for i in range(0, len(v), 2)}


# ---------------------------------------------------------------- output

def text(node):
    """The text form of a reply tree, as a list of lines."""
    t, v = node
    if t in "*~":
        out = ["%s%d" % (t, len(v))]
        for x in v:
            out += text(x)
        return out
    if t == "%":
        out = ["%%%d" % (len(v) // 2)]
        for x in v:
            out += text(x)
        return out
    if t == "$":
        return ["$%d %s" % (len(v), v.decode("latin-1"))]
    if t in "+:":
        return [t + v.decode("latin-1")]
    if t == "_":
        return ["_"]
    raise ValueError(t)


def untext(lines, i=0):
    """Inverse of text(): the tree at lines[i], and the next index (the
    generated data is checked by reading it back as the server will)."""
    ln = lines[i]
    t = ln[0]
    if t in "*~%":
        n = int(ln[1:]) * (2 if t == "%" else 1)
        items, i = [], i + 1
        for _ in range(n):
            x, i = untext(lines, i)
            items.append(x)
        return (t, items), i
    if t == "$":
        n, _, rest = ln[1:].partition(" ")
        v = rest.encode("latin-1")
        if len(v) != int(n):
            raise ValueError("bulk length in %r" % ln)
        return ("$", v), i + 1
    if t in "+:":
        return (t, ln[1:].encode("latin-1")), i + 1
    if t == "_":
        return ("_", b""), i + 1
    raise ValueError(ln)


def check_round_trip(name, nodes, lines):
    got, i = [], 0
    while i < len(lines):
        x, i = untext(lines, i)
        got.append(x)
    if got != list(nodes):
        sys.exit("%s: the text form does not read back" % name)


def c_string(lines, indent):
    out = []
    for ln in lines:
        s = (ln + "\n").replace("\\", "\\\\").replace('"', '\\"') \
            .replace("\n", "\\n").replace("\t", "\\t")
        out.append(indent + '"' + s + '"')
    return "\n".join(out) if out else indent + '""'


def key_specs(specs):
    rows = []
    for s in specs[1]:
        d = as_dict(s)
        flags = 0
        for f in d["flags"][1]:
            flags |= 1 << KEY_FLAGS.index(f[1].decode())
        bs = as_dict(d["begin_search"])
        bst = bs["type"][1].decode()
        bspec = as_dict(bs["spec"])
        fk = as_dict(d["find_keys"])
        fkt = fk["type"][1].decode()
        fspec = as_dict(fk["spec"])
        if bst == "index":
            b = "AKV_BS_INDEX, %s, NULL, 0" % bspec["index"][1].decode()
        elif bst == "keyword":
            b = 'AKV_BS_KEYWORD, 0, "%s", %s' % (
                bspec["keyword"][1].decode(), bspec["startfrom"][1].decode())
        else:
            b = "AKV_BS_UNKNOWN, 0, NULL, 0"
        if fkt == "range":
            f = "AKV_FK_RANGE, %s, %s, %s" % tuple(
                fspec[k][1].decode() for k in ("lastkey", "keystep", "limit"))
        elif fkt == "keynum":
            f = "AKV_FK_KEYNUM, %s, %s, %s" % tuple(
                fspec[k][1].decode()
                for k in ("keynumidx", "firstkey", "keystep"))
        else:
            f = "AKV_FK_UNKNOWN, 0, 0, 0"
        rows.append("{0x%03x, %s, %s}" % (flags, b, f))
    return rows


def getkeys_fields(name):
    g = GETKEYS.get(name)
    if not g:
        return "AKV_GK_NONE, {0, 0, 0, 0}"
    if g[0] == "generic":
        return "AKV_GK_GENERIC, {%d, %d, %d, %d}" % g[1:]
    return "AKV_GK_%s, {0, 0, 0, 0}" % g[0].upper()


def entry(name, info, docs):
    """C source of one entry: info is the list of COMMAND INFO's first
    nine elements, docs the COMMAND DOCS map without subcommands."""
    arity = int(info[1][1])
    flags = [f[1].decode() for f in info[2][1]]
    cats = " ".join(x[1].decode() for x in info[6][1])
    specs = key_specs(info[8])
    lines = []
    for x in info:
        lines += text(x)
    dlines = []
    for x in docs[1]:
        dlines += text(x)
    check_round_trip(name, info, lines)
    check_round_trip(name, docs[1], dlines)
    out = ["    /* %s */" % name, "    {\"%s\", %d, %d, \"%s\"," % (
        name, arity, "no_mandatory_keys" in flags, cats)]
    out.append("     %s," % getkeys_fields(name))
    if specs:
        out.append("     %d, (const struct akv_key_spec[]){" % len(specs))
        for r in specs:
            out.append("         %s," % r)
        out.append("     },")
    else:
        out.append("     0, NULL,")
    out.append(c_string(lines, "     ") + ",")
    out.append("     %d," % (len(docs[1]) // 2))
    out.append(c_string(dlines, "     ") + "},")
    return "\n".join(out)


HEADER = """\
/*
 * command_meta.c -- what COMMAND INFO and COMMAND DOCS say about each
 * command, as Redis 7.0 says it.  GENERATED by tools/gen-command-meta.py
 * from a reference redis-server %s: do not edit by hand, run the script.
 *
 * One entry per command or subcommand (by full name, sorted), covering
 * Redis's command groups whether or not arenakv implements the command
 * yet; COMMAND lists only what the command table has.  The text form of
 * `info` and `docs` is described in the script and in command_meta.h.
 */
#include "build-config.h"

#include <stddef.h>

#include "command_meta.h"

const struct akv_command_meta akv_command_metas[] = {
"""

FOOTER = """\
};

const size_t akv_command_meta_count =
    sizeof(akv_command_metas) / sizeof(akv_command_metas[0]);
"""


def start_server():
    port_sock = socket.socket()
    port_sock.bind(("127.0.0.1", 0))
    port = port_sock.getsockname()[1]
    port_sock.close()
    d = tempfile.mkdtemp(prefix="gen-command-meta-")
    p = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                          "--appendonly", "no", "--dir", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            return p, socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
    p.kill()
    sys.exit("redis-server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("-o", "--output", default="src/command_meta.c")
    args = ap.parse_args()
    proc = None
    if args.port:
        sock = socket.create_connection(("127.0.0.1", args.port))
    else:
        proc, sock = start_server()
    try:
        hello = as_dict(read_reply(sock, pack("HELLO", "3")))
        version = hello["version"][1].decode()
        if not version.startswith("7.0."):
            sys.exit("need a redis-server 7.0, found %s" % version)
        infos = read_reply(sock, pack("COMMAND", "INFO"))[1]
        docs = as_dict(read_reply(sock, pack("COMMAND", "DOCS")))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    entries = {}
    for info in infos:
        name = info[1][0][1].decode()
        d = docs[name]
        if as_dict(d)["group"][1].decode() not in GROUPS:
            continue
        todo = [(name, info[1], d)]
        subdocs = as_dict(d).get("subcommands")
        subdocs = as_dict(subdocs) if subdocs else {}
        for sub in info[1][9][1]:
            sname = sub[1][0][1].decode()
            todo.append((sname, sub[1], subdocs[sname]))
        for n, i, dd in todo:
            pairs = dd[1]
            keep = []
            for j in range(0, len(pairs), 2):
                if pairs[j][1] != b"subcommands":
                    keep += pairs[j:j + 2]
            entries[n] = entry(n, i[:9], ("%", keep))
    for n, (info, d) in EXTRA.items():
        entries[n] = entry(n, info, d)
    with open(args.output, "w") as f:
        f.write(HEADER % version)
        for n in sorted(entries):
            f.write(entries[n] + "\n")
        f.write(FOOTER)
    print("%s: %d entries" % (args.output, len(entries)))


if __name__ == "__main__":
    main()
