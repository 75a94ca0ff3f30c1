#!/usr/bin/python3
"""Run tests/node/clients.mjs and containers.mjs (node-redis and ioredis)
against arenakv.

Skipped (exit 77) when node or tests/node/node_modules is missing; install
the client libraries with `npm ci` (or `npm install`) in tests/node.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import ArenakvServer, check_eq  # noqa: E402

NODE_DIR = os.path.join(akvtest.TESTS_DIR, "node")
SCRIPT = os.path.join(NODE_DIR, "clients.mjs")
CONTAINERS_SCRIPT = os.path.join(NODE_DIR, "containers.mjs")


def _node():
    node = akvtest.require_tool("node", ("/usr/bin/node",
                                         "/usr/local/bin/node"))
    for pkg in ("redis", "ioredis"):
        if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", pkg,
                                           "package.json")):
            raise akvtest.SkipAll("tests/node/node_modules/%s is missing "
                                  "(run `npm ci` in tests/node)" % pkg)
    return node


def _run_script(akv, script):
    node = _node()
    p = subprocess.run([node, script, str(akv.port)], cwd=NODE_DIR,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    for line in out.splitlines():
        print("# node: " + line)
    check_eq(p.returncode, 0, "%s exit status" % os.path.basename(script))


def test_node_redis_and_ioredis(akv):
    _run_script(akv, SCRIPT)


def test_node_hashes_and_sets(akv):
    """Hashes and sets (RESP3 maps and sets decoded) in both libraries."""
    _run_script(akv, CONTAINERS_SCRIPT)


def _servers():
    _node()
    return {"akv": ArenakvServer()}


if __name__ == "__main__":
    akvtest.main(globals(), _servers)
