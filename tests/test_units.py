#!/usr/bin/python3
"""The systemd units: systemd-analyze verify accepts them once their
placeholders point at the built binaries, and the socket/service pair is
what Accept=yes needs (the per-connection template is named after the
socket)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import check, check_eq  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "systemd")


def render_units(dest):
    bindir = os.path.join(akvtest.builddir(), "src")
    for name in ("arenakv.service.in", "arenakv@.service.in",
                 "arenakv.socket"):
        with open(os.path.join(SRC, name)) as f:
            text = f.read()
        text = text.replace("@bindir@", bindir)
        text = text.replace("@sysconfdir@", "/etc")
        out = name[:-3] if name.endswith(".in") else name
        with open(os.path.join(dest, out), "w") as f:
            f.write(text)


def test_systemd_analyze_verify():
    tool = akvtest.which("systemd-analyze")
    if not tool:
        raise akvtest.SkipTest("systemd-analyze not installed")
    tmp = tempfile.mkdtemp(prefix="akvtest-units-")
    try:
        render_units(tmp)
        units = [os.path.join(tmp, u) for u in
                 ("arenakv.service", "arenakv.socket", "arenakv@1.service")]
        shutil.copy(os.path.join(tmp, "arenakv@.service"), units[2])
        p = subprocess.run([tool, "verify", "--man=no"] + units, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60,
                           env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"))
        out = p.stdout.decode(errors="replace")
        # Only complaints about our own files count: a container without
        # systemd as PID 1 may print unrelated notices.
        ours = [l for l in out.splitlines() if "arenakv" in l]
        check_eq(p.returncode, 0, "systemd-analyze verify status (%s)" % out)
        check(not ours, "systemd-analyze complaints: %r" % ours)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_socket_and_service_fit_together():
    with open(os.path.join(SRC, "arenakv.socket")) as f:
        sock = f.read()
    with open(os.path.join(SRC, "arenakv@.service.in")) as f:
        worker = f.read()
    with open(os.path.join(SRC, "arenakv.service.in")) as f:
        sup = f.read()
    check("Accept=yes" in sock, "socket hands each connection over")
    check("arenakv-worker" in worker and "--arena /run/arenakv/arena" in
          worker, "worker template runs arenakv-worker on the shared arena")
    check("Type=notify" in sup and "--port 0" in sup and
          "--arena /run/arenakv/arena" in sup,
          "supervisor is Type=notify, no listener, same arena")


if __name__ == "__main__":
    akvtest.main(globals())
