"""Shared helpers for the arenakv black-box test scripts.

Every test script imports this module and ends with ``akvtest.main(globals(),
...)``.  The helpers are:

* ``free_port()``            -- a currently unused TCP port on 127.0.0.1.
* ``ArenakvServer``          -- context manager running arenakv-server.
* ``RedisServer``            -- context manager running a reference
                                redis-server.
* ``RespConn``               -- raw RESP connection returning the exact bytes
                                of each reply.
* ``parse_reply``/``encode`` -- convert raw replies to a small tree and back.
* ``main``/``run_tests``     -- a minimal runner: test_* functions run in
                                definition order, each prints PASS/FAIL, the
                                process exits 0 (all passed), 1 (a failure)
                                or 77 (skipped, a required tool is missing).

Environment:

* ``AKV_BUILDDIR``           -- build directory holding src/arenakv-server
                                (default: the parent of this tests/ directory).
* ``AKV_TEST_AGAINST_REDIS`` -- when "1", ArenakvServer starts redis-server
                                instead of arenakv-server (arenakv-only
                                arguments are dropped), so the suite can be
                                checked against the reference implementation.
* ``AKV_REDIS_SERVER``       -- reference server binary (default: redis-server
                                from PATH, then /usr/bin/redis-server).
"""

import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_SKIP = 77

READY_TIMEOUT = 10.0
# A server that answers -LOADING is alive and making progress (a big AOF
# under the sanitizers on a busy machine): it is given this much longer.
LOADING_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0
DEFAULT_TEST_TIMEOUT = 120


class SkipTest(Exception):
    """Raised inside a test to skip it."""


class SkipAll(Exception):
    """Raised when a required tool is missing: the whole script is skipped."""


class ServerError(Exception):
    """A server could not be started or died."""


class TestTimeout(Exception):
    pass


# ---------------------------------------------------------------------------
# Environment helpers

def builddir():
    """AKV_BUILDDIR, else the parent of tests/ (an in-tree build), else the
    current directory when it holds src/arenakv-server (a VPATH build run
    from the build directory)."""
    d = os.environ.get("AKV_BUILDDIR")
    if d:
        return os.path.abspath(d)
    default = os.path.dirname(TESTS_DIR)
    if not os.path.exists(os.path.join(default, "src", "arenakv-server")) \
            and os.path.exists(os.path.join("src", "arenakv-server")):
        return os.path.abspath(".")
    return default


def against_redis():
    return os.environ.get("AKV_TEST_AGAINST_REDIS", "") == "1"


def arenakv_binary(name="arenakv-server"):
    return os.path.join(builddir(), "src", name)


def which(name, fallbacks=()):
    p = shutil.which(name)
    if p:
        return p
    for f in fallbacks:
        if os.path.isfile(f) and os.access(f, os.X_OK):
            return f
    return None


def redis_server_binary():
    env = os.environ.get("AKV_REDIS_SERVER")
    if env:
        return env if os.path.isfile(env) else None
    return which("redis-server", ("/usr/bin/redis-server",
                                  "/usr/local/bin/redis-server"))


def require_tool(name, fallbacks=()):
    """Return the path of a tool, or skip the whole script (exit 77)."""
    p = which(name, fallbacks)
    if not p:
        raise SkipAll("required tool %r not found" % name)
    return p


def free_port():
    """Return a TCP port that is currently free on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Servers

class _ServerBase:
    """Common start/wait/stop logic for a server process."""

    kind = "server"

    def __init__(self, port=None, extra_args=(), name=None):
        self.requested_port = port
        self.extra_args = list(extra_args)
        self.name = name or self.kind
        self.port = None
        self.pid = None
        self.proc = None
        self.tmpdir = None
        self.logpath = None
        self._logfile = None
        self.returncode = None

    # subclasses fill these in
    def _command(self):
        raise NotImplementedError

    def _cleanup_extra(self):
        pass

    def start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="akvtest-%s-" % self.name)
        self.logpath = os.path.join(self.tmpdir, "server.log")
        last_error = None
        for _attempt in range(3):
            self.port = self.requested_port or free_port()
            argv = self._command()
            self._logfile = open(self.logpath, "ab")
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._logfile,
                stderr=subprocess.STDOUT, cwd=self.tmpdir,
                start_new_session=True)
            self.pid = self.proc.pid
            try:
                self._wait_ready(argv)
                return self
            except ServerError as e:
                last_error = e
                exited = self.proc.poll() is not None
                self._kill()
                self._cleanup_extra()
                # The port may have been taken by somebody else between
                # free_port() and bind(): retry with a new port when the
                # process exited, not when it hung.
                if self.requested_port is not None or not exited:
                    break
        self.stop()
        raise last_error

    def _wait_ready(self, argv):
        deadline = time.monotonic() + READY_TIMEOUT
        loading_deadline = time.monotonic() + LOADING_TIMEOUT
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("%s exited with status %s during startup\n"
                                  "command: %s\nlog:\n%s" % (
                                      self.name, self.proc.returncode,
                                      " ".join(argv), self.log_tail()))
            try:
                with RespConn(self.port, timeout=1.0) as c:
                    r = c.command(b"PING")
                if r == b"+PONG\r\n":
                    return
                if r.startswith(b"-LOADING"):
                    deadline = max(deadline, loading_deadline)
                last = repr(r)
            except (OSError, ProtocolViolation, ConnectionClosed) as e:
                # Closed without a reply: a connection that reached the
                # listener of a process that was dying (a restart).
                last = repr(e)
            time.sleep(0.05)
        raise ServerError("%s did not answer PING with +PONG within %.0fs "
                          "(last: %s)\ncommand: %s\nlog:\n%s" % (
                              self.name, READY_TIMEOUT, last,
                              " ".join(argv), self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=40):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def check_alive(self):
        """Raise if the server process has exited."""
        if not self.alive():
            status = self.proc.returncode if self.proc else None
            raise ServerError("%s (pid %s) is no longer running, status %s\n"
                              "log:\n%s" % (self.name, self.pid, status,
                                            self.log_tail()))

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    self.proc.kill()
                except ProcessLookupError:
                    pass
                self.proc.wait(STOP_TIMEOUT)
        self.returncode = self.proc.returncode
        self._reap_group()
        if self._logfile:
            self._logfile.close()
            self._logfile = None

    def _reap_group(self):
        """The server runs in its own session; make sure no process of that
        group (e.g. a forked child) outlives it."""
        deadline = time.monotonic() + 3.0
        while True:
            try:
                os.killpg(self.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        print("# warning: processes of %s (process group %d) still running "
              "after it exited; killing them" % (self.name, self.pid),
              flush=True)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self):
        """SIGTERM, then SIGKILL after a grace period; remove temp files."""
        self._kill()
        self._cleanup_extra()
        if self.tmpdir and os.environ.get("AKV_KEEP_TMP") != "1":
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        return self.returncode

    def connect(self, timeout=10.0):
        return RespConn(self.port, timeout=timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return "<%s port=%s pid=%s>" % (self.name, self.port, self.pid)


class RedisServer(_ServerBase):
    """Reference redis-server on a free port, persistence disabled."""

    kind = "redis"

    def __init__(self, port=None, extra_args=(), name="redis"):
        super().__init__(port, extra_args, name)
        self.binary = redis_server_binary()
        if not self.binary:
            raise SkipAll("redis-server not found")
        self.arena = None

    def _command(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.tmpdir,
                "--daemonize", "no", "--loglevel", "notice",
                "--logfile", ""] + self.extra_args


class ArenakvServer(_ServerBase):
    """arenakv-server with its own arena file under /dev/shm.

    With AKV_TEST_AGAINST_REDIS=1 a redis-server is started instead and the
    arenakv-only arguments (--arena) are dropped.
    """

    kind = "arenakv"

    def __init__(self, port=None, extra_args=(), name="arenakv",
                 arenakv_args=()):
        """extra_args are passed to either server; arenakv_args only to
        arenakv-server (dropped with AKV_TEST_AGAINST_REDIS=1)."""
        super().__init__(port, extra_args, name)
        self.reference_mode = against_redis()
        if not self.reference_mode:
            self.extra_args += list(arenakv_args)
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        self.arena = os.path.join(
            shm, "arenakv-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:12]))
        if self.reference_mode:
            self.binary = redis_server_binary()
            if not self.binary:
                raise SkipAll("redis-server not found "
                              "(AKV_TEST_AGAINST_REDIS=1)")
        else:
            self.binary = arenakv_binary()
            if not os.access(self.binary, os.X_OK):
                raise SkipAll("%s not found or not executable; build it or "
                              "set AKV_BUILDDIR" % self.binary)

    def _command(self):
        if self.reference_mode:
            return [self.binary, "--port", str(self.port),
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", self.tmpdir, "--daemonize", "no",
                    "--loglevel", "notice", "--logfile", ""] + self.extra_args
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.tmpdir, "--arena", self.arena,
                "--daemonize", "no", "--loglevel", "notice"] + self.extra_args

    def _cleanup_extra(self):
        try:
            os.unlink(self.arena)
        except OSError:
            pass


def worker_binary():
    """Path of arenakv-worker, or None when it is not built."""
    p = arenakv_binary("arenakv-worker")
    return p if os.access(p, os.X_OK) else None


def start_inetd_worker(arena, timeout=10.0):
    """Run `arenakv-worker --arena ARENA --inetd` on one end of a socket pair.

    Returns (process, RespConn talking to it).  The caller closes the
    connection and waits for the process."""
    binary = worker_binary()
    if not binary:
        raise SkipTest("arenakv-worker not built")
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([binary, "--arena", arena, "--inetd"],
                            stdin=theirs, stdout=theirs,
                            stderr=subprocess.PIPE, start_new_session=True)
    theirs.close()
    return proc, RespConn.from_socket(ours, timeout=timeout)


# ---------------------------------------------------------------------------
# Raw RESP

class ProtocolViolation(Exception):
    """The server sent bytes that are not a valid RESP reply."""


class ConnectionClosed(Exception):
    """The server closed the connection before a whole reply arrived."""

    def __init__(self, partial=b""):
        super().__init__("connection closed by server (partial reply %r)"
                         % (partial[:200],))
        self.partial = partial


def pack_command(*args):
    """Encode arguments (bytes, str or int) as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode("utf-8")
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


_LINE_TYPES = b"+-:_,#("
_BLOB_TYPES = b"$!="
_AGG_TYPES = b"*~>"


def _find_reply_end(buf, pos):
    """Return the end offset of the reply starting at buf[pos], or None if
    the buffer does not yet hold the whole reply."""
    if pos >= len(buf):
        return None
    t = buf[pos]
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    header = buf[pos + 1:nl]
    after = nl + 2
    if t in _LINE_TYPES:
        return after
    if t in _BLOB_TYPES:
        if header == b"?":
            raise ProtocolViolation("streamed strings are not supported")
        try:
            n = int(header)
        except ValueError:
            raise ProtocolViolation("bad length %r" % header)
        if n < 0:
            return after
        if len(buf) < after + n + 2:
            return None
        if buf[after + n:after + n + 2] != b"\r\n":
            raise ProtocolViolation("bulk not terminated by CRLF")
        return after + n + 2
    if t in _AGG_TYPES or t in b"%|":
        try:
            n = int(header)
        except ValueError:
            raise ProtocolViolation("bad aggregate length %r" % header)
        if n < 0:
            return after
        if t in b"%|":
            n *= 2
        p = after
        for _ in range(n):
            p = _find_reply_end(buf, p)
            if p is None:
                return None
        if t == ord("|"):
            # An attribute precedes the actual reply.
            return _find_reply_end(buf, p)
        return p
    raise ProtocolViolation("unknown reply type byte %r at %d in %r"
                            % (bytes([t]), pos, buf[pos:pos + 80]))


class RespConn:
    """A raw RESP connection.

    ``command(*args)`` sends one multibulk request and returns the raw bytes
    of exactly one complete reply.  ``send_raw``/``read_reply`` allow arbitrary
    traffic.
    """

    def __init__(self, port, host="127.0.0.1", timeout=10.0, sock=None):
        self.port = port
        self.timeout = timeout
        if sock is None:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = b""
        self.closed_by_peer = False

    @classmethod
    def from_socket(cls, sock, timeout=10.0):
        """Wrap an already connected socket (e.g. one end of a socketpair)."""
        return cls(None, timeout=timeout, sock=sock)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send_raw(self, data):
        """Send bytes; returns False if the peer already closed."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def send_command(self, *args):
        return self.send_raw(pack_command(*args))

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed_by_peer = True
            return False
        self.buf += data
        return True

    def read_reply(self, timeout=None):
        """Return the raw bytes of the next complete reply.

        Raises ConnectionClosed if the server closes first and
        socket.timeout if nothing complete arrives in time."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            end = _find_reply_end(self.buf, 0)
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            if self.closed_by_peer:
                raise ConnectionClosed(self.buf)
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete reply within %.1fs "
                                     "(have %r)" % (timeout, self.buf[:200]))
            self._fill(left)

    def read_replies(self, n, timeout=None):
        return [self.read_reply(timeout) for _ in range(n)]

    def command(self, *args, timeout=None):
        if not self.send_command(*args):
            raise ConnectionClosed(b"")
        return self.read_reply(timeout)

    def call(self, *args):
        """Send a command and return the parsed reply (see parse_reply)."""
        return parse_reply(self.command(*args))

    def wait_closed(self, timeout=10.0):
        """Read until the peer closes; return all bytes received, or raise
        socket.timeout if the connection stays open."""
        deadline = time.monotonic() + timeout
        while not self.closed_by_peer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("connection still open after %.1fs"
                                     % timeout)
            try:
                self._fill(left)
            except socket.timeout:
                raise socket.timeout("connection still open after %.1fs"
                                     % timeout)
        data, self.buf = self.buf, b""
        return data

    def read_available(self, quiet=0.3, limit=5.0):
        """Collect bytes until `quiet` seconds pass without data, the peer
        closes, or `limit` seconds elapse.  Returns (bytes, closed)."""
        deadline = time.monotonic() + limit
        while not self.closed_by_peer:
            left = min(quiet, deadline - time.monotonic())
            if left <= 0:
                break
            try:
                if not self._fill(left):
                    break
            except socket.timeout:
                break
        data, self.buf = self.buf, b""
        return data, self.closed_by_peer


# ---------------------------------------------------------------------------
# Reply trees

class Reply(tuple):
    """(type_byte_str, value): value is bytes for scalars, a list for
    aggregates; map/attribute values are flat [k1, v1, k2, v2 ...]."""

    @property
    def type(self):
        return self[0]

    @property
    def value(self):
        return self[1]


def _parse(buf, pos):
    t = chr(buf[pos])
    nl = buf.index(b"\r\n", pos)
    header = buf[pos + 1:nl]
    after = nl + 2
    if t in "+-:_,#(":
        return Reply((t, bytes(header))), after
    if t in "$!=":
        n = int(header)
        if n < 0:
            return Reply((t, None)), after
        return Reply((t, bytes(buf[after:after + n]))), after + n + 2
    if t in "*~>%|":
        n = int(header)
        if n < 0:
            return Reply((t, None)), after
        if t in "%|":
            n *= 2
        items = []
        p = after
        for _ in range(n):
            item, p = _parse(buf, p)
            items.append(item)
        if t == "|":
            inner, p = _parse(buf, p)
            return Reply(("|", (items, inner))), p
        return Reply((t, items)), p
    raise ProtocolViolation("unknown type %r" % t)


def parse_reply(raw):
    """Parse one raw reply into a Reply tree."""
    r, end = _parse(raw, 0)
    if end != len(raw):
        raise ProtocolViolation("trailing bytes after reply: %r" % raw[end:])
    return r


def encode(r):
    """Inverse of parse_reply."""
    t, v = r
    tb = t.encode()
    if t in "+-:_,#(":
        return tb + v + b"\r\n"
    if t in "$!=":
        if v is None:
            return tb + b"-1\r\n"
        return tb + b"%d\r\n" % len(v) + v + b"\r\n"
    if t == "|":
        items, inner = v
        return (b"|%d\r\n" % (len(items) // 2)
                + b"".join(encode(i) for i in items) + encode(inner))
    if v is None:
        return tb + b"-1\r\n"
    n = len(v) // 2 if t == "%" else len(v)
    return tb + b"%d\r\n" % n + b"".join(encode(i) for i in v)


def to_python(r):
    """Convert a Reply tree into plain Python values (bytes, int, list...)."""
    t, v = r
    if t in "+$=":
        return v
    if t in "-!":
        return RespError(v)
    if t in ":(":
        return int(v)
    if t == "_":
        return None
    if t == ",":
        return float(v)
    if t == "#":
        return v == b"t"
    if t == "%":
        return {_hashable(to_python(v[i])): to_python(v[i + 1])
                for i in range(0, len(v), 2)}
    if t == "|":
        return to_python(v[1])
    if v is None:
        return None
    return [to_python(i) for i in v]


def _hashable(x):
    return tuple(x) if isinstance(x, list) else x


class RespError(bytes):
    """An error reply (a bytes subclass so it compares to the message)."""

    def __repr__(self):
        return "RespError(%s)" % bytes.__repr__(self)


# ---------------------------------------------------------------------------
# Assertions

def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what="value"):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------------------
# Runner

def _alarm_handler(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def collect_tests(namespace):
    tests = [(name, f) for name, f in namespace.items()
             if name.startswith("test_") and inspect.isfunction(f)]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    return tests


def run_tests(namespace, fixtures=None, only=None, timeout=None):
    """Run the test_* functions of `namespace` in definition order.

    A test's parameters are filled by name from `fixtures`.  Objects in
    `fixtures` having a check_alive() method are checked after each test.
    Returns (passed, failed, skipped)."""
    fixtures = fixtures or {}
    timeout = timeout or int(os.environ.get("AKV_TEST_TIMEOUT",
                                            DEFAULT_TEST_TIMEOUT))
    only = only or os.environ.get("AKV_TEST_ONLY")
    passed = failed = skipped = 0
    old = signal.signal(signal.SIGALRM, _alarm_handler)
    try:
        for name, func in collect_tests(namespace):
            if only and only not in name:
                continue
            params = inspect.signature(func).parameters
            try:
                kwargs = {p: fixtures[p] for p in params}
            except KeyError as e:
                print("FAIL %s: unknown fixture %s" % (name, e), flush=True)
                failed += 1
                continue
            t0 = time.monotonic()
            signal.alarm(timeout)
            try:
                func(**kwargs)
                signal.alarm(0)
                for fx in fixtures.values():
                    if hasattr(fx, "check_alive"):
                        fx.check_alive()
            except SkipTest as e:
                signal.alarm(0)
                skipped += 1
                print("SKIP %s: %s" % (name, e), flush=True)
                continue
            except SkipAll:
                signal.alarm(0)
                raise
            except BaseException as e:  # noqa: B902 - report everything
                signal.alarm(0)
                if isinstance(e, KeyboardInterrupt):
                    raise
                failed += 1
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                print("FAIL %s: %s" % (name, msg), flush=True)
                traceback.print_exc(file=sys.stdout)
                sys.stdout.flush()
                continue
            passed += 1
            print("PASS %s (%.2fs)" % (name, time.monotonic() - t0),
                  flush=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return passed, failed, skipped


def summary_line(passed, failed, skipped):
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    return line


def main(namespace, servers=None, script_timeout=300):
    """Entry point of a test script.

    `servers` is a callable returning a dict of fixture name -> context
    manager (e.g. {"akv": ArenakvServer(), "ref": RedisServer()}); each is
    entered before the tests and exited afterwards.  Exits the process."""
    import faulthandler
    faulthandler.dump_traceback_later(script_timeout, exit=True)
    sys.stdout.reconfigure(line_buffering=True)
    script = os.path.basename(namespace.get("__file__", sys.argv[0]))
    mode = "redis-server (AKV_TEST_AGAINST_REDIS=1)" if against_redis() \
        else "arenakv-server"
    print("# %s: testing %s, builddir %s" % (script, mode, builddir()))
    started = []
    code = EXIT_FAIL
    try:
        fixtures = {}
        if servers is not None:
            for name, srv in servers().items():
                fixtures[name] = srv.__enter__()
                started.append(srv)
                print("# %s: %r" % (name, fixtures[name]))
        passed, failed, skipped = run_tests(namespace, fixtures)
        if failed:
            for name, fx in fixtures.items():
                if hasattr(fx, "log_tail"):
                    print("# ---- last lines of the %s log ----" % name)
                    for line in fx.log_tail(60).splitlines():
                        print("# " + line)
        print(summary_line(passed, failed, skipped))
        if failed:
            code = EXIT_FAIL
        elif passed == 0 and skipped:
            code = EXIT_SKIP
        else:
            code = EXIT_PASS
    except SkipAll as e:
        print("SKIP %s: %s" % (script, e))
        print(summary_line(0, 0, 1))
        code = EXIT_SKIP
    except ServerError as e:
        print("FAIL %s: %s" % (script, e))
        print(summary_line(0, 1, 0))
        code = EXIT_FAIL
    finally:
        for srv in reversed(started):
            try:
                srv.stop()
            except Exception as e:  # pragma: no cover - best effort
                print("# error stopping %r: %s" % (srv, e))
        faulthandler.cancel_dump_traceback_later()
    sys.stdout.flush()
    sys.exit(code)
