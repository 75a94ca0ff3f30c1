#!/usr/bin/python3
"""Security defaults: files every process trusts, protected configs and
protected mode.

* The arena is shared memory that every worker believes, and the AOF and
  the snapshot are loaded into it: a file planted by another user, one
  that others may write, or a symbolic link is refused with a message
  naming the file, its owner and its mode.  (Planting as another user
  needs root: those tests skip otherwise.)
* What the server creates is 0600 (directories 0700) whatever the umask.
* CONFIG SET of dir and dbfilename answers Redis's "can't set protected
  config" unless enable-protected-configs allows it.
* protected-mode: with no password, a client that is not on the loopback
  interface gets Redis's -DENIED text and is closed.  This needs a local
  address that is not loopback; without one, the decision is covered by
  tests/unit/test_security.c only.
Replies are compared byte for byte with a reference redis-server."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn, check,  # noqa: E402
                     check_eq)

LONG = 15.0
NOBODY = 65534


def need_root():
    if os.geteuid() != 0:
        raise akvtest.SkipTest("planting a file of another user needs root")


def shm_path(tag):
    return "/dev/shm/akvsec-%s-%d-%s" % (tag, os.getpid(), uuid.uuid4().hex[:8])


def run_refused(args, env=None, preexec=None):
    """Run arenakv-server, which must refuse to start: returns its output.
    A server that starts after all is stopped and the test fails."""
    e = dict(os.environ)
    e.pop("RUNTIME_DIRECTORY", None)
    e.update(env or {})
    p = subprocess.Popen([akvtest.arenakv_binary()] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=e,
                         preexec_fn=preexec, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=LONG)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.communicate()
        raise AssertionError("the server started instead of refusing")
    check(p.returncode != 0, "exit status %d, want failure" % p.returncode)
    return out.decode("utf-8", "replace")


def plant(path, uid, mode, content=b"planted"):
    with open(path, "wb") as f:
        f.write(content)
    os.chown(path, uid, -1)
    os.chmod(path, mode)


def test_arena_of_another_user_is_refused():
    need_root()
    path = shm_path("other")
    d = tempfile.mkdtemp(prefix="akvsec-")
    try:
        plant(path, NOBODY, 0o600)
        out = run_refused(["--port", "0", "--dir", d, "--arena", path])
        check("Refusing to attach the arena" in out, out)
        check(("%s is owned by nobody with mode 0600" % path) in out, out)
        with open(path, "rb") as f:
            check_eq(f.read(), b"planted", "the planted file, untouched")
        check_eq(os.stat(path).st_uid, NOBODY, "owner")
    finally:
        os.unlink(path)
        shutil.rmtree(d)


def test_arena_in_runtime_directory_is_checked_too():
    need_root()
    rt = tempfile.mkdtemp(prefix="akvsec-rt-")
    port = akvtest.free_port()
    path = os.path.join(rt, "arenakv-%d" % port)
    try:
        plant(path, NOBODY, 0o600)
        out = run_refused(["--port", str(port), "--bind", "127.0.0.1",
                           "--dir", rt], env={"RUNTIME_DIRECTORY": rt})
        check(("%s is owned by nobody" % path) in out, out)
    finally:
        shutil.rmtree(rt)


def test_world_writable_arena_is_refused():
    path = shm_path("0666")
    d = tempfile.mkdtemp(prefix="akvsec-")
    try:
        plant(path, os.geteuid(), 0o666)
        out = run_refused(["--port", "0", "--dir", d, "--arena", path])
        check(("%s is owned by" % path) in out and "mode 0666" in out, out)
    finally:
        os.unlink(path)
        shutil.rmtree(d)


def test_symlink_at_the_arena_path_is_refused():
    path = shm_path("link")
    d = tempfile.mkdtemp(prefix="akvsec-")
    target = os.path.join(d, "target")
    try:
        with open(target, "wb") as f:
            f.write(b"keep")
        os.symlink(target, path)
        out = run_refused(["--port", "0", "--dir", d, "--arena", path])
        check("symbolic link" in out and path in out, out)
        with open(target, "rb") as f:
            check_eq(f.read(), b"keep", "link target untouched")
    finally:
        os.unlink(path)
        shutil.rmtree(d)


def test_worker_refuses_an_arena_others_may_write():
    with ArenakvServer() as srv:
        os.chmod(srv.arena, 0o666)
        try:
            proc, conn = akvtest.start_inetd_worker(srv.arena)
            with conn:
                r = conn.read_reply()
            proc.wait(LONG)
            check(r.startswith(b"-ERR ") and srv.arena.encode() in r and
                  b"mode 0666" in r, r)
            check(proc.returncode != 0, "worker exit status")
        finally:
            os.chmod(srv.arena, 0o600)
        proc, conn = akvtest.start_inetd_worker(srv.arena)
        with conn:
            check_eq(conn.command(b"PING"), b"+PONG\r\n", "PING")
        proc.wait(LONG)


def start_plain(port, datadir, extra=(), env=None, preexec=None):
    """arenakv-server with its default arena path (no --arena)."""
    e = dict(os.environ)
    e.pop("RUNTIME_DIRECTORY", None)
    e.update(env or {})
    log = open(os.path.join(datadir, "server.log"), "ab")
    p = subprocess.Popen([akvtest.arenakv_binary(), "--port", str(port),
                          "--bind", "127.0.0.1", "--dir", datadir] +
                         list(extra), stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, env=e, preexec_fn=preexec,
                         start_new_session=True)
    log.close()
    deadline = time.monotonic() + LONG
    while time.monotonic() < deadline:
        check(p.poll() is None, "server exited: " +
              open(os.path.join(datadir, "server.log")).read())
        try:
            with RespConn(port, timeout=1.0) as c:
                if c.command(b"PING") == b"+PONG\r\n":
                    return p
        except (OSError, akvtest.ConnectionClosed):
            pass
        time.sleep(0.05)
    p.kill()
    raise AssertionError("server did not start")


def stop(p):
    if p.poll() is None:
        p.terminate()
        p.wait(LONG)
    try:
        os.killpg(p.pid, 9)
    except ProcessLookupError:
        pass


def test_default_arena_is_in_a_private_directory():
    port = akvtest.free_port()
    d = tempfile.mkdtemp(prefix="akvsec-")
    priv = "/dev/shm/arenakv-%d" % os.geteuid()
    arena = os.path.join(priv, "arenakv-%d" % port)
    p = start_plain(port, d)
    try:
        st = os.lstat(priv)
        check_eq(oct(st.st_mode & 0o7777), oct(0o700), "directory mode")
        check_eq(st.st_uid, os.geteuid(), "directory owner")
        st = os.stat(arena)
        check_eq(oct(st.st_mode & 0o7777), oct(0o600), "arena mode")
        # A worker finds it from the port alone, as the spawner does.
        binary = akvtest.worker_binary()
        ours, theirs = socket.socketpair()
        w = subprocess.Popen([binary, "--port", str(port), "--inetd"],
                             stdin=theirs, stdout=theirs,
                             env={k: v for k, v in os.environ.items()
                                  if k != "RUNTIME_DIRECTORY"})
        theirs.close()
        with RespConn.from_socket(ours) as c:
            check_eq(c.command(b"PING"), b"+PONG\r\n", "inetd worker")
        w.wait(LONG)
        with RespConn(port) as c:
            check_eq(c.command(b"SET", b"k", b"v"), b"+OK\r\n", "spawned")
    finally:
        stop(p)
        shutil.rmtree(d)
        try:
            os.unlink(arena)
        except OSError:
            pass


def test_planted_private_directory_is_refused():
    need_root()
    priv = "/dev/shm/arenakv-%d" % NOBODY
    if os.path.lexists(priv):
        raise akvtest.SkipTest("%s exists already" % priv)
    d = tempfile.mkdtemp(prefix="akvsec-")
    os.chown(d, NOBODY, -1)
    try:
        os.mkdir(priv)
        os.chmod(priv, 0o777)  # planted by root, open to all: not nobody's

        def as_nobody():
            os.setgid(65534)
            os.setgroups([])
            os.setuid(NOBODY)
        out = run_refused(["--port", str(akvtest.free_port()), "--bind",
                           "127.0.0.1", "--dir", d], preexec=as_nobody)
        check("Refusing the arena" in out, out)
        check(("%s is owned by root with mode 0777" % priv) in out, out)
    finally:
        shutil.rmtree(priv, ignore_errors=True)
        shutil.rmtree(d)


def info_field(conn, section, name):
    text = conn.command(b"INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return None


def test_files_are_private_whatever_the_umask():
    old = os.umask(0)
    try:
        srv = ArenakvServer(arenakv_args=["--appendonly", "yes"])
        srv.start()
    finally:
        os.umask(old)
    try:
        with srv.connect() as c:
            check_eq(c.command(b"SET", b"k", b"v"), b"+OK\r\n", "SET")
            check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE")
            c.command(b"BGREWRITEAOF")
            deadline = time.monotonic() + LONG
            while info_field(c, b"persistence",
                             "aof_rewrite_in_progress") != "0" or \
                    info_field(c, b"persistence",
                               "aof_rewrite_scheduled") != "0":
                check(time.monotonic() < deadline, "rewrite finished")
                time.sleep(0.05)
        check_eq(oct(os.stat(srv.arena).st_mode & 0o777), oct(0o600),
                 "arena")
        aofdir = os.path.join(srv.tmpdir, "appendonlydir")
        check_eq(oct(os.stat(aofdir).st_mode & 0o777), oct(0o700),
                 "AOF directory")
        names = os.listdir(aofdir)
        check(any(n.endswith(".base.sqlite") or ".base" in n for n in names),
              "a base file: %r" % names)
        for n in names:
            check_eq(oct(os.stat(os.path.join(aofdir, n)).st_mode & 0o777),
                     oct(0o600), n)
        check_eq(oct(os.stat(os.path.join(srv.tmpdir, "dump.sqlite"))
                     .st_mode & 0o777), oct(0o600), "snapshot")
    finally:
        srv.stop()
    # The log file too.
    d = tempfile.mkdtemp(prefix="akvsec-")
    log = os.path.join(d, "server.log.own")
    old = os.umask(0)
    try:
        srv = ArenakvServer(arenakv_args=["--logfile", log])
        srv.start()
    finally:
        os.umask(old)
    try:
        check_eq(oct(os.stat(log).st_mode & 0o777), oct(0o600), "log file")
    finally:
        srv.stop()
        shutil.rmtree(d)


def test_shared_group_mode():
    """arena-shared-group yes: the arena 0660, data files 0640, and a worker running as another
    member of the group may attach; without the mode it may not."""
    need_root()
    old = os.umask(0)
    try:
        srv = ArenakvServer(arenakv_args=["--arena-shared-group", "yes",
                                          "--appendonly", "yes"])
        srv.start()
    finally:
        os.umask(old)
    try:
        st = os.stat(srv.arena)
        check_eq(oct(st.st_mode & 0o777), oct(0o660), "arena")
        aofdir = os.path.join(srv.tmpdir, "appendonlydir")
        check_eq(oct(os.stat(aofdir).st_mode & 0o777), oct(0o750), "AOF dir")
        for n in os.listdir(aofdir):
            # Only the supervisor writes them: the group may read.
            check_eq(oct(os.stat(os.path.join(aofdir, n)).st_mode & 0o777),
                     oct(0o640), n)
        gid = st.st_gid

        def as_group_member():
            os.setgroups([gid])
            os.setgid(65534)
            os.setuid(NOBODY)

        def worker(ping, *extra):
            ours, theirs = socket.socketpair()
            p = subprocess.Popen([akvtest.worker_binary(), "--arena",
                                  srv.arena, "--inetd"] + list(extra),
                                 stdin=theirs, stdout=theirs,
                                 stderr=subprocess.DEVNULL,
                                 preexec_fn=as_group_member)
            theirs.close()
            # A refusal is written at once: a request sent meanwhile
            # would reset the connection before the reply is read.
            with RespConn.from_socket(ours) as c:
                r = c.command(b"PING") if ping else c.read_reply()
            p.wait(LONG)
            return r

        check_eq(worker(True, "--arena-shared-group", "yes"), b"+PONG\r\n",
                 "a member of the group, in shared-group mode")
        r = worker(False)
        check(r.startswith(b"-ERR ") and b"owned by root" in r, r)
    finally:
        srv.stop()


def test_data_files_others_may_write_are_refused():
    d = tempfile.mkdtemp(prefix="akvsec-")
    arena = shm_path("data")
    try:
        aofdir = os.path.join(d, "appendonlydir")
        os.mkdir(aofdir)
        os.chmod(aofdir, 0o777)
        out = run_refused(["--port", "0", "--dir", d, "--arena", arena,
                           "--appendonly", "yes"])
        check("Refusing to load the data files" in out, out)
        check(("%s is owned by" % "appendonlydir") in out and "0777" in out,
              out)
        os.chmod(aofdir, 0o700)
        plant(os.path.join(aofdir, "appendonly.aof.manifest"), os.geteuid(),
              0o622, b"file appendonly.aof.1.incr.aof seq 1 type i\n")
        out = run_refused(["--port", "0", "--dir", d, "--arena", arena,
                           "--appendonly", "yes"])
        check("appendonlydir/appendonly.aof.manifest is owned by" in out and
              "0622" in out, out)
        shutil.rmtree(aofdir)
        if os.geteuid() == 0:
            plant(os.path.join(d, "dump.sqlite"), NOBODY, 0o600)
            out = run_refused(["--port", "0", "--dir", d, "--arena", arena])
            check("dump.sqlite is owned by nobody with mode 0600" in out, out)
        check(not os.path.exists(arena), "no arena was made")
    finally:
        shutil.rmtree(d)
        try:
            os.unlink(arena)
        except OSError:
            pass


def both(akv, ref, *cmd):
    with akv.connect() as a, ref.connect() as r:
        got, want = a.command(*cmd), r.command(*cmd)
    check_eq(got, want, " ".join(x.decode() if isinstance(x, bytes) else x
                                  for x in cmd))
    return got


def test_protected_configs_are_refused_as_redis_does():
    with ArenakvServer() as akv, RedisServer() as ref:
        for name in (b"dir", b"dbfilename"):
            r = both(akv, ref, b"CONFIG", b"SET", name, b"/tmp")
            check_eq(r, b"-ERR CONFIG SET failed (possibly related to "
                     b"argument '" + name + b"') - can't set protected "
                     b"config\r\n", "reply")
        both(akv, ref, b"CONFIG", b"SET", b"enable-protected-configs", b"yes")
        both(akv, ref, b"CONFIG", b"GET", b"enable-protected-configs")
        both(akv, ref, b"CONFIG", b"GET", b"protected-mode")
        both(akv, ref, b"CONFIG", b"SET", b"logfile", b"/tmp/x")


def test_enable_protected_configs_yes_and_local():
    for how in (b"yes", b"local"):
        args = ["--enable-protected-configs", how.decode()]
        with ArenakvServer(extra_args=args) as akv, \
                RedisServer(extra_args=args) as ref:
            both(akv, ref, b"CONFIG", b"SET", b"dbfilename", b"other.db")
            both(akv, ref, b"CONFIG", b"GET", b"dbfilename")
            both(akv, ref, b"CONFIG", b"SET", b"dbfilename", b"a/b")
            with akv.connect() as c:
                check_eq(c.command(b"SET", b"k", b"v"), b"+OK\r\n", "SET")
                check_eq(c.command(b"SAVE"), b"+OK\r\n", "SAVE")
            check(os.path.exists(os.path.join(akv.tmpdir, "other.db")),
                  "SAVE wrote the new dbfilename")
            # dir cannot move while the AOF files are open in it.
            with akv.connect() as c:
                check_eq(c.command(b"CONFIG", b"SET", b"dir", b"/tmp"),
                         b"-ERR CONFIG SET failed (possibly related to "
                         b"argument 'dir') - can't set immutable config\r\n",
                         "dir")


def non_loopback_address():
    """A local IPv4 address that is not loopback, or None."""
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"],
                             capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        f = line.split()
        if "inet" in f:
            addr = f[f.index("inet") + 1].split("/")[0]
            if not addr.startswith("127."):
                return addr
    return None


def read_until_closed(host, port):
    s = socket.create_connection((host, port), timeout=LONG)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


def ping_at(host, port):
    with RespConn(port, host=host) as c:
        return c.command(b"PING")


def test_protected_mode_refuses_non_loopback_clients():
    addr = non_loopback_address()
    if not addr:
        raise akvtest.SkipTest("no non-loopback local address; the rule is "
                               "covered by tests/unit/test_security")
    bind = ["--bind", "127.0.0.1 " + addr]
    with ArenakvServer(extra_args=bind) as akv, \
            RedisServer(extra_args=bind) as ref:
        got = read_until_closed(addr, akv.port)
        want = read_until_closed(addr, ref.port)
        check(got.startswith(b"-DENIED Redis is running in protected mode"),
              got[:80])
        check_eq(got, want, "the -DENIED text")
        # Loopback clients are served.
        check_eq(ping_at("127.0.0.1", akv.port), b"+PONG\r\n", "loopback")
        # With protected-mode no, everyone.
        for srv in (akv, ref):
            with srv.connect() as c:
                check_eq(c.command(b"CONFIG", b"SET", b"protected-mode",
                                   b"no"), b"+OK\r\n", "protected-mode no")
        check_eq(ping_at(addr, akv.port), ping_at(addr, ref.port),
                 "PING from outside, protected-mode no")
        # With a password, everyone may try to authenticate.
        for srv in (akv, ref):
            with srv.connect() as c:
                c.command(b"CONFIG", b"SET", b"protected-mode", b"yes")
                c.command(b"CONFIG", b"SET", b"requirepass", b"pw")
        got, want = ping_at(addr, akv.port), ping_at(addr, ref.port)
        check(got.startswith(b"-NOAUTH"), got)
        check_eq(got, want, "PING from outside, with a password")


if __name__ == "__main__":
    akvtest.main(globals(), script_timeout=300)
