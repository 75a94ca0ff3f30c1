#!/usr/bin/python3
"""Differential test: arenakv-server against the reference redis-server.

Seeded random command streams over the string, bit, LCS, hash, set,
keyspace (COPY included) and connection commands are sent to both servers
and the raw reply bytes are compared.  They share a small key space, so
wrong types are frequent.  Replies that legitimately differ between two
servers (connection ids, clocks, iteration order) are normalised first:

  * HGETALL/HKEYS/HVALS/SMEMBERS are byte-exact for the packed encodings
    (listpack, intset) and sorted multisets for a hashtable (the reference's
    OBJECT ENCODING decides); SINTER/SUNION/SDIFF are always sorted;
    HSCAN/SSCAN are iterated to the end and the element sets compared.
  * HRANDFIELD/SRANDMEMBER/SPOP are checked for validity against the
    reference's dataset; after an SPOP the reference is re-aligned to hold
    what arenakv kept (Pair.realign_spop).
  * Even seeds CONFIG SET small hash-max-listpack-* / set-max-intset-entries
    on both servers, so conversions are frequent.

Determinism of the streams:
  * keys never expire by the passage of time during a run.  Relative expiries
    are either <= 0 (immediate deletion or an error) or drawn without
    replacement from a lattice 600 s apart, so GT/LT comparisons between two
    relative expiries set a few milliseconds apart on the two servers always
    agree.  Absolute times are either in the past (immediate deletion), far
    in the future, or offset by half a lattice step from the relative ones.
  * SET is never given an absolute time in the past (Redis keeps such a key
    until it is touched, so DBSIZE would depend on active expiry).
  * TTL/PTTL/EXPIRETIME/PEXPIRETIME, OBJECT IDLETIME and TIME are compared
    with a tolerance; KEYS is compared sorted; SCAN is iterated to the end and
    the sets of keys are compared; RANDOMKEY is cross-checked with EXISTS.

Environment: AKV_DIFF_SEEDS="1,2,3" overrides the RESP2 seeds,
AKV_DIFF_RESP3_SEEDS the RESP3 ones, AKV_DIFF_COMMANDS the stream length.
"""

import os
import random
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akvtest  # noqa: E402
from akvtest import (ArenakvServer, RedisServer, RespConn,  # noqa: E402
                     parse_reply, encode, ConnectionClosed)

DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]
DEFAULT_RESP3_SEEDS = [101, 102]
DEFAULT_COMMANDS = 1500
NUM_DBS = 4


KEYS = [
    b"a", b"b", b"c", b"key:1", b"key:2", b"key:10", b"user:1000",
    b"{tag}x", b"\x00", b"k\x00z", b"\r\n", b"k\r\nv", b"\xff\xfe\x00",
    b"", b"*", b"?x", b"[ab]", b"sp ace", b"K" * 80, b"x",
]

INT_VALUES = [
    b"0", b"1", b"-1", b"42", b"-42", b"9999", b"10000", b"10001",
    b"123456789", b"9223372036854775807", b"-9223372036854775808",
    b"9223372036854775806", b"-9223372036854775807",
    b"9223372036854775808", b"-9223372036854775809",
    b"18446744073709551615", b"12345678901234567890", b"1234567890123456789",
    b"01", b"+1", b" 1", b"1 ", b"-0", b"0x10", b"00", b"-",
]
FLOAT_VALUES = [
    b"1.5", b"-0.5", b"3.0e3", b"1e3", b"1E3", b"0.1", b"10.50", b"1e-5",
    b"1e308", b"-1e308", b"1.7976931348623157e308", b"5e-324", b"inf",
    b"-inf", b"nan", b"+inf", b"Infinity", b"3.14159265358979323846",
    b"1.", b".5", b"1e", b"0x1p3", b"1,5", b"2.5 ",
]
STRING_VALUES = [
    b"", b"a", b"hello", b"hello world", b"Hello\x00World", b"\r\n",
    b"line1\r\nline2\n", b"\x00\x00\x00", b"\xff" * 3, b"$5\r\nhello\r\n",
    b"*1\r\n", b"-ERR fake\r\n", b"e" * 44, b"f" * 45, b"g" * 100,
    b"\xe2\x82\xac utf8", b"%", b"~", b"spaces  inside",
]
INCR_VALUES = [
    b"1", b"-1", b"0", b"5", b"100", b"-100", b"9223372036854775807",
    b"-9223372036854775808", b"9223372036854775806", b"-9223372036854775807",
    b"4611686018427387904", b"-4611686018427387904", b"9223372036854775808",
    b"abc", b"", b"1.0", b" 5", b"5 ", b"+5", b"0x5", b"007",
]
FLOAT_INCRS = [
    b"1", b"1.5", b"-2.25", b"0.1", b"-0.1", b"1e10", b"-1e10", b"1e308",
    b"-1e308", b"inf", b"-inf", b"nan", b"abc", b"", b"3", b"-0", b" 1",
    b"1.7976931348623157e308", b"1e-10", b"0.0000001", b"5e-324", b"2e",
    b"123456789012345678", b"0.3333333333333333",
]
BAD_INTS = [b"abc", b"1.5", b"", b" 1", b"1 ", b"9223372036854775808",
            b"-9223372036854775809", b"0x10", b"1e3"]
BAD_EXPIRES = [b"0", b"-1", b"-100", b"abc", b"1.5", b"", b" 1",
               b"9223372036854775807", b"9223372036854775",
               b"9223372036854776", b"-9223372036854775808",
               b"9223372036854775808"]
PATTERNS = [
    b"*", b"k*", b"key:*", b"key:?", b"key:1?", b"*1*", b"[ab]", b"\\[ab]",
    b"[a-c]", b"[^a]", b"[!a]", b"\\*", b"?", b"??", b"*\x00*", b"", b"h?llo",
    b"[", b"*[", b"\\", b"a\\", b"***", b"*x", b"{tag}*", b"[\\]]",
    b"[a-]", b"[]a]", b"user:*0", b"*\r\n*", b"K*K", b"sp?ace",
]
CLIENT_NAMES = [b"alpha", b"conn-1", b"x" * 100, b"", b"with space",
                b"new\nline", b"caf\xc3\xa9", b"ok_name:2", b"\x7f", b"!@#$"]
UNKNOWN_COMMANDS = [b"FOO", b"nosuchcmd", b"xyzzy", b"", b"GETT", b"SE T",
                    b"Z" * 200, b"get\r\n", b"123", b"-ERR"]
ECHO_VALUES = STRING_VALUES + [b"x" * 1000]

# Hashes, sets, bits and LCS share the key space above.  Container commands
# mostly draw from CKEYS so that hashes and sets grow and meet the strings
# (WRONGTYPE) often.
CKEYS = [b"a", b"b", b"c", b"key:1", b"{tag}x", b"\x00", b"", b"x"]
FIELDS = [
    b"f", b"g", b"h", b"", b"\x00", b"1", b"-1", b"10", b"field:1",
    b"k\r\nv", b"\xff\xfe", b"sp ace", b"F" * 65, b"n", b"f\x00g",
]
INT_MEMBERS = [
    b"0", b"1", b"-1", b"2", b"3", b"10", b"100", b"127", b"128", b"32767",
    b"32768", b"-32768", b"-32769", b"65535", b"65536", b"2147483647",
    b"2147483648", b"-2147483648", b"-2147483649", b"9223372036854775807",
    b"-9223372036854775808",
]
TEXT_MEMBERS = [
    b"9223372036854775808", b"-9223372036854775809", b"007", b"+1", b" 1",
    b"1 ", b"-0", b"1.0", b"0x1", b"a", b"b", b"", b"\x00", b"m\r\n",
    b"member", b"x" * 70, b"\xe2\x82\xac",
]
# Defaults of the encoding thresholds, restored after each seed.
CONTAINER_LIMITS = [(b"hash-max-listpack-entries", b"128"),
                    (b"hash-max-listpack-value", b"64"),
                    (b"set-max-intset-entries", b"512")]

# Arity table of Redis 7.0 (positive: exact, negative: minimum).
ARITY = {
    b"PING": -1, b"ECHO": 2, b"SELECT": 2, b"MOVE": 3, b"SWAPDB": 3,
    b"HELLO": -1, b"CLIENT": -2, b"DBSIZE": 1, b"FLUSHDB": -1,
    b"FLUSHALL": -1, b"TIME": 1, b"SET": -3, b"GET": 2, b"GETSET": 3,
    b"GETDEL": 2, b"GETEX": -2, b"SETNX": 3, b"SETEX": 4, b"PSETEX": 4,
    b"MGET": -2, b"MSET": -3, b"MSETNX": -3, b"APPEND": 3, b"STRLEN": 2,
    b"GETRANGE": 4, b"SETRANGE": 4, b"INCR": 2, b"DECR": 2, b"INCRBY": 3,
    b"DECRBY": 3, b"INCRBYFLOAT": 3, b"DEL": -2, b"UNLINK": -2,
    b"EXISTS": -2, b"TYPE": 2, b"RENAME": 3, b"RENAMENX": 3, b"KEYS": 2,
    b"SCAN": -2, b"RANDOMKEY": 1, b"EXPIRE": -3, b"PEXPIRE": -3,
    b"EXPIREAT": -3, b"PEXPIREAT": -3, b"TTL": 2, b"PTTL": 2,
    b"EXPIRETIME": 2, b"PEXPIRETIME": 2, b"PERSIST": 2, b"TOUCH": -2,
    b"OBJECT": -2,
    b"HSET": -4, b"HSETNX": 4, b"HMSET": -4, b"HGET": 3, b"HMGET": -3,
    b"HDEL": -3, b"HLEN": 2, b"HSTRLEN": 3, b"HEXISTS": 3, b"HKEYS": 2,
    b"HVALS": 2, b"HGETALL": 2, b"HINCRBY": 4, b"HINCRBYFLOAT": 4,
    b"HRANDFIELD": -2, b"HSCAN": -3,
    b"SADD": -3, b"SREM": -3, b"SCARD": 2, b"SISMEMBER": 3,
    b"SMISMEMBER": -3, b"SMEMBERS": 2, b"SRANDMEMBER": -2, b"SPOP": -2,
    b"SMOVE": 4, b"SINTER": -2, b"SINTERCARD": -3, b"SINTERSTORE": -3,
    b"SUNION": -2, b"SUNIONSTORE": -3, b"SDIFF": -2, b"SDIFFSTORE": -3,
    b"SSCAN": -3,
    b"SETBIT": 4, b"GETBIT": 3, b"BITCOUNT": -2, b"BITPOS": -3,
    b"BITOP": -4, b"BITFIELD": -2, b"BITFIELD_RO": -2, b"LCS": -3,
    b"COPY": -3,
}
SUB_ARITY = {
    (b"CLIENT", b"ID"): 2, (b"CLIENT", b"SETNAME"): 3,
    (b"CLIENT", b"GETNAME"): 2, (b"CLIENT", b"INFO"): 2,
    (b"OBJECT", b"ENCODING"): 3, (b"OBJECT", b"IDLETIME"): 3,
    (b"OBJECT", b"FREQ"): 3,
}

# Tolerances for time-dependent integer replies.
TOLERANCE = {b"TTL": 5, b"PTTL": 5000, b"EXPIRETIME": 5,
             b"PEXPIRETIME": 5000}


class Generator:
    """Produces a reproducible stream of commands for one seed."""

    LATTICE_BASE_S = 10000
    LATTICE_STEP_S = 600

    def __init__(self, seed, proto):
        self.rng = random.Random(seed)
        self.proto = proto
        self.db = 0
        now_s = int(time.time())
        self.t0 = now_s
        # Unique lattice indices for relative expiries.
        self.lattice = list(range(20000))
        self.rng.shuffle(self.lattice)
        # Absolute times.
        far = 4102444800  # 2100-01-01
        self.abs_future_s = ([now_s + self.LATTICE_BASE_S
                              + self.LATTICE_STEP_S * i
                              + self.LATTICE_STEP_S // 2
                              for i in (0, 1, 5, 50, 500, 5000)]
                             + [far, far + 86400, far + 86400 * 365 * 50,
                                9223372036854775])
        self.abs_past_s = [1, 1000000000, 1500000000, now_s - 3600]
        self.intset_limit = 512

    # -- primitives ---------------------------------------------------------
    def choice(self, seq):
        return self.rng.choice(seq)

    def chance(self, p):
        return self.rng.random() < p

    def name(self, cmd):
        """Randomise the case of a command or option name."""
        r = self.rng.random()
        if r < 0.6:
            return cmd
        if r < 0.8:
            return cmd.lower()
        return bytes(c ^ 0x20 if (0x41 <= c <= 0x5a or 0x61 <= c <= 0x7a)
                     and self.chance(0.5) else c for c in cmd)

    def key(self):
        if self.chance(0.03):
            return b"nokey:%d" % self.rng.randrange(3)
        return self.choice(KEYS)

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.rng.randint(lo, hi))]

    def value(self):
        r = self.rng.random()
        if r < 0.35:
            return self.choice(INT_VALUES)
        if r < 0.45:
            return str(self.rng.randint(-1000, 1000)).encode()
        if r < 0.6:
            return self.choice(FLOAT_VALUES)
        if r < 0.65:
            return repr(self.rng.uniform(-1e6, 1e6)).encode()
        if r < 0.9:
            return self.choice(STRING_VALUES)
        n = self.rng.randint(0, 60)
        return bytes(self.rng.choice(b"ab\x00\r\n\xff 7") if self.chance(0.3)
                     else self.rng.randrange(256) for _ in range(n))

    def int_arg(self, lo, hi):
        if self.chance(0.05):
            return self.choice(BAD_INTS)
        if self.chance(0.03):
            return self.choice([b"9223372036854775807",
                                b"-9223372036854775808"])
        return str(self.rng.randint(lo, hi)).encode()

    def rel_s(self):
        i = self.lattice.pop()
        return str(self.LATTICE_BASE_S + self.LATTICE_STEP_S * i).encode()

    def rel_ms(self):
        i = self.lattice.pop()
        return str((self.LATTICE_BASE_S + self.LATTICE_STEP_S * i) * 1000
                   + self.rng.randrange(1000)).encode()

    def abs_s(self, allow_past=True):
        if allow_past and self.chance(0.2):
            return str(self.choice(self.abs_past_s)).encode()
        return str(self.choice(self.abs_future_s)).encode()

    def abs_ms(self, allow_past=True):
        if allow_past and self.chance(0.2):
            return str(self.choice(self.abs_past_s) * 1000
                       + self.rng.randrange(1000)).encode()
        v = self.choice(self.abs_future_s)
        if v == 9223372036854775:
            return self.choice([b"9223372036854775807",
                                b"9223372036854775000"])
        return str(v * 1000 + self.choice([0, 1, 999])).encode()

    def db_index(self):
        if self.chance(0.08):
            return self.choice([b"16", b"-1", b"abc", b"", b"1000000",
                                b"9223372036854775808", b"15", b"1.0"])
        return str(self.rng.randrange(NUM_DBS)).encode()

    # -- command generators -------------------------------------------------
    def expiry_option(self, for_set):
        """An [EX|PX|EXAT|PXAT value] option group, possibly invalid."""
        r = self.rng.random()
        if r < 0.3:
            return [self.name(b"EX"), self.rel_s()]
        if r < 0.55:
            return [self.name(b"PX"), self.rel_ms()]
        if r < 0.7:
            return [self.name(b"EXAT"), self.abs_s(allow_past=not for_set)]
        if r < 0.85:
            return [self.name(b"PXAT"), self.abs_ms(allow_past=not for_set)]
        opt = self.choice([b"EX", b"PX", b"EXAT", b"PXAT"])
        bad = self.choice(BAD_EXPIRES)
        if for_set and opt in (b"EXAT", b"PXAT") and bad in (
                b"9223372036854775", b"9223372036854776"):
            bad = b"0"
        return [self.name(opt), bad]

    def g_set(self):
        groups = []
        if self.chance(0.45):
            groups.append(self.expiry_option(for_set=True))
        elif self.chance(0.1):
            groups.append([self.name(b"KEEPTTL")])
        if self.chance(0.15):
            groups.append([self.name(b"NX")])
        elif self.chance(0.15):
            groups.append([self.name(b"XX")])
        if self.chance(0.2):
            groups.append([self.name(b"GET")])
        if self.chance(0.05):
            groups.append([self.choice([b"NX", b"XX", b"KEEPTTL", b"GET",
                                        b"FOO", b"EX", b"PX"])])
        if self.chance(0.02):
            groups.append(self.expiry_option(for_set=True))
        self.rng.shuffle(groups)
        args = [self.name(b"SET"), self.key(), self.value()]
        for g in groups:
            args += g
        return args

    def g_get(self):
        return [self.name(b"GET"), self.key()]

    def g_getset(self):
        return [self.name(b"GETSET"), self.key(), self.value()]

    def g_getdel(self):
        return [self.name(b"GETDEL"), self.key()]

    def g_getex(self):
        args = [self.name(b"GETEX"), self.key()]
        r = self.rng.random()
        if r < 0.5:
            args += self.expiry_option(for_set=False)
        elif r < 0.65:
            args.append(self.name(b"PERSIST"))
        elif r < 0.72:
            args += self.choice([[b"PERSIST", b"EX", self.rel_s()],
                                 [b"EX", self.rel_s(), b"PX", self.rel_ms()],
                                 [b"FOO"], [b"EX"], [b"PERSIST", b"PERSIST"]])
        return args

    def g_setnx(self):
        return [self.name(b"SETNX"), self.key(), self.value()]

    def g_setex(self):
        cmd = self.choice([b"SETEX", b"PSETEX"])
        if self.chance(0.15):
            t = self.choice(BAD_EXPIRES)
        else:
            t = self.rel_s() if cmd == b"SETEX" else self.rel_ms()
        return [self.name(cmd), self.key(), t, self.value()]

    def g_mget(self):
        return [self.name(b"MGET")] + self.keys(1, 6)

    def g_mset(self):
        cmd = self.choice([b"MSET", b"MSETNX"])
        args = [self.name(cmd)]
        for _ in range(self.rng.randint(1, 4)):
            args += [self.key(), self.value()]
        if self.chance(0.05):
            args.append(self.key())
        return args

    def g_append(self):
        return [self.name(b"APPEND"), self.key(), self.value()]

    def g_strlen(self):
        return [self.name(b"STRLEN"), self.key()]

    def g_getrange(self):
        def idx():
            if self.chance(0.1):
                return self.choice([b"9223372036854775807",
                                    b"-9223372036854775808", b"abc",
                                    b"1.5", b"", b"100000"])
            return str(self.rng.randint(-60, 60)).encode()
        return [self.name(self.choice([b"GETRANGE"])), self.key(), idx(),
                idx()]

    def g_setrange(self):
        if self.chance(0.1):
            off = self.choice([b"-1", b"abc", b"536870912", b"536870911",
                               b"9223372036854775807", b"1.5", b""])
        else:
            off = str(self.rng.choice([0, 0, 1, 2, 5, 10, 44, 45, 100,
                                       self.rng.randint(0, 300)])).encode()
        val = self.value() if self.chance(0.9) else b""
        if off in (b"536870911",) and len(val) < 2:
            val = b"xx"
        return [self.name(b"SETRANGE"), self.key(), off, val]

    def g_incr(self):
        r = self.rng.random()
        if r < 0.3:
            return [self.name(self.choice([b"INCR", b"DECR"])), self.key()]
        if r < 0.7:
            return [self.name(self.choice([b"INCRBY", b"DECRBY"])),
                    self.key(), self.choice(INCR_VALUES)]
        if r < 0.8:
            return [self.name(self.choice([b"INCRBY", b"DECRBY"])),
                    self.key(), str(self.rng.randint(-10 ** 6, 10 ** 6))
                    .encode()]
        if r < 0.93:
            return [self.name(b"INCRBYFLOAT"), self.key(),
                    self.choice(FLOAT_INCRS)]
        return [self.name(b"INCRBYFLOAT"), self.key(),
                repr(round(self.rng.uniform(-100, 100), 3)).encode()]

    def g_del(self):
        cmd = self.choice([b"DEL", b"UNLINK", b"EXISTS", b"EXISTS", b"TOUCH"])
        return [self.name(cmd)] + self.keys(1, 4)

    def g_type(self):
        return [self.name(b"TYPE"), self.key()]

    def g_rename(self):
        cmd = self.choice([b"RENAME", b"RENAMENX"])
        k1 = self.key()
        k2 = k1 if self.chance(0.1) else self.key()
        return [self.name(cmd), k1, k2]

    def g_keys(self):
        return [self.name(b"KEYS"), self.choice(PATTERNS)]

    def g_scan(self):
        args = [self.name(b"SCAN")]
        if self.chance(0.1):
            args.append(self.choice([b"abc", b"1x", b" 1", b"-",
                                     b"99999999999999999999999", b"1.5"]))
        else:
            args.append(b"0")
        if self.chance(0.4):
            args += [self.name(b"MATCH"), self.choice(PATTERNS)]
        if self.chance(0.4):
            args += [self.name(b"COUNT"),
                     self.choice([b"1", b"2", b"5", b"10", b"100"])
                     if self.chance(0.85) else
                     self.choice([b"0", b"-1", b"abc", b""])]
        if self.chance(0.2):
            args += [self.name(b"TYPE"),
                     self.choice([b"string", b"STRING", b"list", b"hash",
                                  b"none", b"foo"])]
        if self.chance(0.05):
            args += self.choice([[b"MATCH"], [b"COUNT"], [b"FOO", b"1"],
                                 [b"TYPE"]])
        return args

    def g_randomkey(self):
        return [self.name(b"RANDOMKEY")]

    def expire_value(self, cmd):
        r = self.rng.random()
        if cmd in (b"EXPIRE", b"PEXPIRE"):
            if r < 0.8:
                return self.rel_s() if cmd == b"EXPIRE" else self.rel_ms()
            if r < 0.9:
                return self.choice([b"0", b"-1", b"-100000"])
            v = self.choice(BAD_EXPIRES + [b"1000000000000000"])
            return v
        # absolute
        if r < 0.85:
            return self.abs_s() if cmd == b"EXPIREAT" else self.abs_ms()
        return self.choice(BAD_EXPIRES + [b"9223372036854775807"])

    def g_expire(self):
        cmd = self.choice([b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"PEXPIREAT"])
        args = [self.name(cmd), self.key(), self.expire_value(cmd)]
        r = self.rng.random()
        if r < 0.4:
            args.append(self.name(self.choice([b"NX", b"XX", b"GT", b"LT"])))
        elif r < 0.48:
            args += [self.name(self.choice([b"NX", b"XX", b"GT", b"LT",
                                            b"FOO"]))
                     for _ in range(2)]
        return args

    def g_ttl(self):
        cmd = self.choice([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"])
        return [self.name(cmd), self.key()]

    def g_persist(self):
        return [self.name(b"PERSIST"), self.key()]

    def g_object(self):
        r = self.rng.random()
        if r < 0.7:
            sub = b"ENCODING"
        elif r < 0.85:
            sub = b"IDLETIME"
        elif r < 0.93:
            sub = b"FREQ"
        else:
            return [self.name(b"OBJECT"), self.choice([b"FOO", b"ENCODINGS",
                                                       b""]), self.key()]
        return [self.name(b"OBJECT"), self.name(sub), self.key()]

    def g_dbsize(self):
        return [self.name(b"DBSIZE")]

    def g_flush(self):
        cmd = self.choice([b"FLUSHDB", b"FLUSHDB", b"FLUSHDB", b"FLUSHALL"])
        args = [self.name(cmd)]
        r = self.rng.random()
        if r < 0.3:
            args.append(self.name(self.choice([b"ASYNC", b"SYNC"])))
        elif r < 0.4:
            args += self.choice([[b"FOO"], [b"ASYNC", b"SYNC"], [b""]])
        return args

    def g_select(self):
        idx = self.db_index()
        if idx in (b"0", b"1", b"2", b"3", b"15"):
            self.db = int(idx)
        return [self.name(b"SELECT"), idx]

    def g_move(self):
        return [self.name(b"MOVE"), self.key(), self.db_index()]

    def g_swapdb(self):
        return [self.name(b"SWAPDB"), self.db_index(), self.db_index()]

    def g_ping(self):
        if self.chance(0.5):
            return [self.name(b"PING")]
        return [self.name(b"PING"), self.choice(ECHO_VALUES)]

    def g_echo(self):
        return [self.name(b"ECHO"), self.choice(ECHO_VALUES)]

    def g_hello(self):
        r = self.rng.random()
        if r < 0.2:
            return [self.name(b"HELLO")]
        if r < 0.55:
            return [self.name(b"HELLO"), str(self.proto).encode()]
        if r < 0.65:
            return [self.name(b"HELLO"), str(self.proto).encode(),
                    self.name(b"SETNAME"), self.choice(CLIENT_NAMES)]
        if r < 0.72:
            # protocol switch
            self.proto = 5 - self.proto
            return [self.name(b"HELLO"), str(self.proto).encode()]
        return [self.name(b"HELLO")] + self.choice([
            [b"4"], [b"1"], [b"0"], [b"-1"], [b"abc"], [b"2.0"], [b""],
            [b"3", b"FOO"], [str(self.proto).encode(), b"SETNAME"],
            [str(self.proto).encode(), b"AUTH"],
            [str(self.proto).encode(), b"AUTH", b"default"],
            [b"9223372036854775808"],
        ])

    def g_client(self):
        r = self.rng.random()
        if r < 0.15:
            return [self.name(b"CLIENT"), self.name(b"ID")]
        if r < 0.4:
            return [self.name(b"CLIENT"), self.name(b"SETNAME"),
                    self.choice(CLIENT_NAMES)]
        if r < 0.6:
            return [self.name(b"CLIENT"), self.name(b"GETNAME")]
        if r < 0.7:
            return [self.name(b"CLIENT"), self.name(b"INFO")]
        if r < 0.78:
            return [self.name(b"CLIENT"), self.name(b"LIST")]
        if r < 0.82:
            return [self.name(b"CLIENT"), self.name(b"LIST"),
                    self.name(b"TYPE"), self.choice([b"normal", b"NORMAL"])]
        return [self.name(b"CLIENT")] + self.choice([
            [b"FOO"], [b"SETNAMES", b"x"], [b"LIST", b"TYPE", b"bogus"],
            [b"LIST", b"FOO"], [b"GETNAME", b"x"], [b"ID", b"x"],
            [b"SETNAME"], [b"INFO", b"x"], [b"LIST", b"TYPE"],
        ])

    def g_time(self):
        return [self.name(b"TIME")]

    def g_unknown(self):
        args = [self.choice(UNKNOWN_COMMANDS)]
        for _ in range(self.rng.randint(0, 4)):
            a = self.choice(STRING_VALUES + [b"x" * 150])
            args.append(a.replace(b"\x00", b"0"))
        return args

    def g_arity(self):
        cmd = self.choice(sorted(ARITY))
        arity = ARITY[cmd]
        if arity > 0:
            counts = [n for n in range(1, arity + 3) if n != arity]
        else:
            counts = list(range(1, -arity))
        if not counts:
            return [self.name(b"GET")]
        n = self.choice(counts)
        args = [self.name(cmd)] + [self.key() for _ in range(n - 1)]
        return args

    def g_subarity(self):
        (cmd, sub), arity = self.choice(sorted(SUB_ARITY.items()))
        n = self.choice([k for k in range(2, arity + 3) if k != arity])
        return [self.name(cmd), self.name(sub)] + [b"x"] * (n - 2)

    def g_quit(self):
        return [self.name(b"QUIT")]

    # -- hashes, sets, bits, LCS, COPY ----------------------------------------
    def ckey(self):
        if self.chance(0.75):
            return self.choice(CKEYS)
        return self.key()

    def ckeys(self, lo=1, hi=3):
        return [self.ckey() for _ in range(self.rng.randint(lo, hi))]

    def field(self):
        if self.chance(0.1):
            return str(self.rng.randint(0, 30)).encode()
        return self.choice(FIELDS)

    def hvalue(self):
        if self.chance(0.3):
            return str(self.rng.randint(-100, 100)).encode()
        return self.value()

    def member(self):
        r = self.rng.random()
        if r < 0.35:
            return str(self.rng.randint(-20, 40)).encode()
        if r < 0.65:
            return self.choice(INT_MEMBERS)
        return self.choice(TEXT_MEMBERS)

    def count_arg(self, lo=-6, hi=8):
        if self.chance(0.06):
            return self.choice([b"abc", b"", b"1.5", b"9223372036854775807",
                                b"-9223372036854775808", b"-1000",
                                b"9223372036854775808"])
        return str(self.rng.randint(lo, hi)).encode()

    def g_hset(self):
        cmd = self.choice([b"HSET", b"HSET", b"HSET", b"HMSET", b"HSETNX"])
        args = [self.name(cmd), self.ckey()]
        n = 1 if cmd == b"HSETNX" else self.rng.randint(1, 4)
        for _ in range(n):
            args += [self.field(), self.hvalue()]
        if self.chance(0.04):
            args.append(self.field())
        return args

    def g_hget(self):
        r = self.rng.random()
        k = self.ckey()
        if r < 0.3:
            return [self.name(b"HGET"), k, self.field()]
        if r < 0.45:
            return [self.name(b"HMGET"), k] + [self.field() for _ in
                                               range(self.rng.randint(1, 4))]
        if r < 0.6:
            return [self.name(self.choice([b"HEXISTS", b"HSTRLEN"])), k,
                    self.field()]
        if r < 0.7:
            return [self.name(b"HLEN"), k]
        return [self.name(self.choice([b"HGETALL", b"HKEYS", b"HVALS"])), k]

    def g_hdel(self):
        return [self.name(b"HDEL"), self.ckey()] + [
            self.field() for _ in range(self.rng.randint(1, 3))]

    def g_hincr(self):
        if self.chance(0.55):
            inc = self.choice(INCR_VALUES) if self.chance(0.5) else \
                str(self.rng.randint(-1000, 1000)).encode()
            return [self.name(b"HINCRBY"), self.ckey(), self.field(), inc]
        inc = self.choice(FLOAT_INCRS) if self.chance(0.6) else \
            repr(round(self.rng.uniform(-100, 100), 3)).encode()
        return [self.name(b"HINCRBYFLOAT"), self.ckey(), self.field(), inc]

    def g_hrandfield(self):
        args = [self.name(b"HRANDFIELD"), self.ckey()]
        if self.chance(0.7):
            args.append(self.count_arg())
            if self.chance(0.4):
                args.append(self.name(b"WITHVALUES"))
        elif self.chance(0.05):
            args += [b"1", b"FOO"]
        return args

    def scan_opts(self):
        args = []
        if self.chance(0.3):
            args += [self.name(b"MATCH"), self.choice(
                [b"*", b"f*", b"1*", b"?", b"*\x00*", b"[a-m]*", b"", b"-*"])]
        if self.chance(0.4):
            args += [self.name(b"COUNT"), self.choice(
                [b"1", b"2", b"3", b"10", b"100"]) if self.chance(0.9)
                else self.choice([b"0", b"-1", b"abc"])]
        if self.chance(0.04):
            args += self.choice([[b"MATCH"], [b"COUNT"], [b"FOO", b"1"],
                                 [b"TYPE", b"hash"]])
        return args

    def g_hscan(self):
        cur = b"0" if self.chance(0.9) else self.choice(
            [b"abc", b"18446744073709551616", b"1.5", b" 0"])
        return [self.name(b"HSCAN"), self.ckey(), cur] + self.scan_opts()

    def g_sadd(self):
        cmd = self.choice([b"SADD", b"SADD", b"SADD", b"SREM"])
        return [self.name(cmd), self.ckey()] + [
            self.member() for _ in range(self.rng.randint(1, 5))]

    def g_sread(self):
        r = self.rng.random()
        k = self.ckey()
        if r < 0.3:
            return [self.name(b"SISMEMBER"), k, self.member()]
        if r < 0.45:
            return [self.name(b"SMISMEMBER"), k] + [
                self.member() for _ in range(self.rng.randint(1, 4))]
        if r < 0.6:
            return [self.name(b"SCARD"), k]
        return [self.name(b"SMEMBERS"), k]

    def g_srandom(self):
        cmd = self.choice([b"SRANDMEMBER", b"SPOP", b"SPOP"])
        args = [self.name(cmd), self.ckey()]
        if self.chance(0.6):
            args.append(self.count_arg(-6 if cmd == b"SRANDMEMBER" else 0))
        elif self.chance(0.04):
            args += [b"1", b"2"]
        return args

    def g_smove(self):
        return [self.name(b"SMOVE"), self.ckey(), self.ckey(), self.member()]

    def g_setop(self):
        cmd = self.choice([b"SINTER", b"SUNION", b"SDIFF", b"SINTERSTORE",
                           b"SUNIONSTORE", b"SDIFFSTORE", b"SINTERCARD"])
        if cmd == b"SINTERCARD":
            keys = self.ckeys()
            n = str(len(keys)).encode()
            if self.chance(0.08):
                n = self.choice([b"0", b"-1", b"abc", b"5", b"1"])
            args = [self.name(cmd), n] + keys
            if self.chance(0.4):
                args += [self.name(b"LIMIT"), self.count_arg(-1, 5)]
            return args
        if cmd.endswith(b"STORE"):
            return [self.name(cmd), self.ckey()] + self.ckeys()
        return [self.name(cmd)] + self.ckeys()

    def g_sscan(self):
        cur = b"0" if self.chance(0.9) else self.choice(
            [b"abc", b"18446744073709551616", b"0x0"])
        return [self.name(b"SSCAN"), self.ckey(), cur] + self.scan_opts()

    def g_copy(self):
        args = [self.name(b"COPY"), self.ckey(), self.ckey()]
        if self.chance(0.3):
            args += [self.name(b"DB"), self.db_index()]
        if self.chance(0.4):
            args.append(self.name(b"REPLACE"))
        if self.chance(0.03):
            args.append(self.choice([b"FOO", b"DB", b"REPLACE"]))
        return args

    def bit_offset(self):
        if self.chance(0.05):
            return self.choice([b"-1", b"abc", b"4294967296", b"1.5", b""])
        return str(self.rng.choice([0, 1, 7, 8, 15, 63, 64,
                                    self.rng.randint(0, 900)])).encode()

    def range_args(self):
        def idx():
            if self.chance(0.05):
                return self.choice([b"abc", b"9223372036854775807",
                                    b"-9223372036854775808"])
            return str(self.rng.randint(-20, 40)).encode()
        args = [idx(), idx()]
        if self.chance(0.3):
            args.append(self.name(self.choice([b"BYTE", b"BIT", b"BITS"])))
        return args

    def g_bits(self):
        r = self.rng.random()
        k = self.ckey()
        if r < 0.3:
            bit = self.choice([b"0", b"1", b"1", b"2", b"-1", b"a"]) \
                if self.chance(0.1) else self.choice([b"0", b"1"])
            return [self.name(b"SETBIT"), k, self.bit_offset(), bit]
        if r < 0.45:
            return [self.name(b"GETBIT"), k, self.bit_offset()]
        if r < 0.6:
            args = [self.name(b"BITCOUNT"), k]
            if self.chance(0.6):
                args += self.range_args()
            elif self.chance(0.1):
                args.append(b"0")
            return args
        if r < 0.75:
            args = [self.name(b"BITPOS"), k,
                    self.choice([b"0", b"1", b"1", b"2"])]
            if self.chance(0.6):
                ra = self.range_args()
                args += ra[:self.rng.randint(1, len(ra))]
            return args
        if r < 0.88:
            op = self.choice([b"AND", b"OR", b"XOR", b"NOT", b"NOT",
                              b"FOO"])
            n = 1 if op == b"NOT" and self.chance(0.9) else \
                self.rng.randint(1, 3)
            return [self.name(b"BITOP"), self.name(op), self.ckey()] + \
                [self.ckey() for _ in range(n)]
        cmd = self.choice([b"BITFIELD", b"BITFIELD", b"BITFIELD_RO"])
        args = [self.name(cmd), k]
        for _ in range(self.rng.randint(0, 3)):
            t = self.choice([b"u8", b"i8", b"u1", b"i16", b"u63", b"i64",
                             b"u4", b"i5"]) if self.chance(0.95) else \
                self.choice([b"u64", b"i65", b"x8", b"u0"])
            off = self.choice([b"0", b"3", b"#1", b"#2", b"100"]) \
                if self.chance(0.95) else self.choice([b"-1", b"#-1", b"x"])
            o = self.rng.random()
            if o < 0.4 or cmd == b"BITFIELD_RO":
                args += [self.name(b"GET"), t, off]
            elif o < 0.65:
                args += [self.name(b"SET"), t, off, self.int_arg(-300, 300)]
            elif o < 0.9:
                args += [self.name(b"INCRBY"), t, off,
                         self.int_arg(-300, 300)]
            else:
                args += [self.name(b"OVERFLOW"),
                         self.choice([b"WRAP", b"SAT", b"FAIL", b"FOO"])]
        return args

    def g_lcs(self):
        args = [self.name(b"LCS"), self.ckey(), self.ckey()]
        r = self.rng.random()
        if r < 0.3:
            args.append(self.name(b"LEN"))
        elif r < 0.6:
            args.append(self.name(b"IDX"))
            if self.chance(0.5):
                args += [self.name(b"MINMATCHLEN"),
                         self.choice([b"0", b"1", b"2", b"4", b"-1", b"x"])]
            if self.chance(0.5):
                args.append(self.name(b"WITHMATCHLEN"))
        elif r < 0.65:
            args += self.choice([[b"LEN", b"IDX"], [b"FOO"],
                                 [b"MINMATCHLEN"]])
        return args

    def g_config(self):
        """CONFIG GET/SET of the thresholds in the middle of a stream.  The
        intset limit only grows: a set already past a lowered limit would be
        converted by the reference's re-alignment after an SPOP (an SADD)
        but not by arenakv."""
        name, _ = self.choice(CONTAINER_LIMITS)
        if self.chance(0.3):
            return [self.name(b"CONFIG"), self.name(b"GET"), name]
        v = self.choice([0, 1, 2, 3, 4, 8, 16, 64, 128, 512])
        if name == b"set-max-intset-entries":
            v = max(v, self.intset_limit)
            self.intset_limit = v
        return [self.name(b"CONFIG"), self.name(b"SET"), name,
                str(v).encode()]

    def limits_commands(self):
        """CONFIG SET of small encoding thresholds, for some seeds."""
        e = self.choice([0, 1, 2, 3, 4, 8])
        v = self.choice([0, 1, 4, 8, 16])
        i = self.choice([0, 1, 2, 4, 8])
        self.intset_limit = i
        return [[b"CONFIG", b"SET", b"hash-max-listpack-entries",
                 str(e).encode()],
                [b"CONFIG", b"SET", b"hash-max-listpack-value",
                 str(v).encode()],
                [b"CONFIG", b"SET", b"set-max-intset-entries",
                 str(i).encode()]]

    WEIGHTS = [
        ("g_set", 14), ("g_get", 8), ("g_getset", 2), ("g_getdel", 2),
        ("g_getex", 4), ("g_setnx", 2), ("g_setex", 3), ("g_mget", 3),
        ("g_mset", 3), ("g_append", 4), ("g_strlen", 2), ("g_getrange", 3),
        ("g_setrange", 3), ("g_incr", 10), ("g_del", 5), ("g_type", 2),
        ("g_rename", 3), ("g_keys", 2), ("g_scan", 2), ("g_randomkey", 1),
        ("g_expire", 9), ("g_ttl", 6), ("g_persist", 2), ("g_object", 4),
        ("g_dbsize", 2), ("g_flush", 0.3), ("g_select", 2), ("g_move", 2),
        ("g_swapdb", 1), ("g_ping", 1), ("g_echo", 1), ("g_hello", 0.7),
        ("g_client", 2), ("g_time", 0.5), ("g_unknown", 1.5),
        ("g_arity", 3), ("g_subarity", 1), ("g_quit", 0.15),
        ("g_hset", 9), ("g_hget", 8), ("g_hdel", 3), ("g_hincr", 4),
        ("g_hrandfield", 2), ("g_hscan", 1.5), ("g_sadd", 9), ("g_sread", 6),
        ("g_srandom", 3), ("g_smove", 1.5), ("g_setop", 4), ("g_sscan", 1.5),
        ("g_copy", 2.5), ("g_bits", 6), ("g_lcs", 1.5), ("g_config", 0.3),
    ]

    def next(self):
        names = [n for n, _ in self.WEIGHTS]
        weights = [w for _, w in self.WEIGHTS]
        g = self.rng.choices(names, weights)[0]
        return getattr(self, g)()


# ---------------------------------------------------------------------------
# Normalisation and comparison

def _int_reply(raw):
    if raw.startswith(b":") and raw.endswith(b"\r\n"):
        try:
            return int(raw[1:-2])
        except ValueError:
            return None
    return None


def _kv_pairs(reply):
    """Items of a RESP2 flat array or a RESP3 map as (key, value) pairs."""
    items = reply.value or []
    return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


def normalise_hello(raw):
    try:
        r = parse_reply(raw)
    except Exception:
        return raw
    if r.type not in "*%" or r.value is None:
        return raw
    items = list(r.value)
    for i in range(0, len(items) - 1, 2):
        if items[i].value == b"id":
            items[i + 1] = akvtest.Reply((":", b"<id>"))
        elif items[i].value == b"version":
            items[i + 1] = akvtest.Reply(("$", b"<version>"))
    return encode(akvtest.Reply((r.type, items)))


CLIENT_FIELDS_COMPARED = ("name", "db", "sub", "psub", "ssub", "multi",
                          "flags", "cmd", "user", "redir", "resp")


def _client_line_summary(line):
    fields = []
    values = {}
    for tok in line.split(b" "):
        k, _, v = tok.partition(b"=")
        k = k.decode("latin-1")
        fields.append(k)
        values[k] = v
    kept = tuple((k, values.get(k)) for k in CLIENT_FIELDS_COMPARED)
    return (tuple(fields), kept)


def normalise_client_text(raw, list_mode):
    try:
        r = parse_reply(raw)
    except Exception:
        return ("unparsable", raw), ()
    if r.type not in "$=" or r.value is None:
        return ("other", raw), ()
    text = r.value
    prefix = b""
    if r.type == "=":
        prefix, text = text[:4], text[4:]
    lines = [ln for ln in text.split(b"\n") if ln]
    if list_mode:
        lines = [ln for ln in lines if b" cmd=client|list " in ln]
    summaries = [_client_line_summary(ln) for ln in lines]
    head = (r.type, prefix, text.endswith(b"\n"),
            tuple(kept for _, kept in summaries))
    return head, tuple(fields for fields, _ in summaries)


def compare_client_text(ra, rr, list_mode):
    """CLIENT INFO / CLIENT LIST: same reply type, the compared field values
    equal, and every field Redis 7.0 prints present (extra fields, such as
    the lib-name/lib-ver of newer versions, are allowed)."""
    head_a, fields_a = normalise_client_text(ra, list_mode)
    head_r, fields_r = normalise_client_text(rr, list_mode)
    if head_a != head_r or len(fields_a) != len(fields_r):
        return False
    return all(set(fr) <= set(fa) for fa, fr in zip(fields_a, fields_r))


def normalise_unordered(raw, pairs=False):
    """An aggregate reply as a sorted multiset of its items (of its
    field/value pairs when `pairs`), keeping the reply type."""
    try:
        r = parse_reply(raw)
    except Exception:
        return raw
    if r.type not in "*~%" or r.value is None:
        return raw
    items = [encode(i) for i in r.value]
    if pairs:
        items = [(items[i], items[i + 1]) for i in range(0, len(items) - 1,
                                                          2)]
    return (r.type, tuple(sorted(items)))


# Replies whose order Redis defines only for the packed encodings (listpack,
# intset): byte-exact then, a sorted multiset for a hashtable.
ORDER_BY_ENCODING = {b"HGETALL": True, b"HKEYS": False, b"HVALS": False,
                     b"SMEMBERS": False}
# Replies whose order Redis does not define at all.
UNORDERED = (b"SINTER", b"SUNION", b"SDIFF")
# Random picks, compared by validity.
RANDOM_PICKS = (b"HRANDFIELD", b"SRANDMEMBER", b"SPOP")
SPOP_MOVE_STRATEGY_MUL = 5  # Redis's threshold of its third SPOP strategy


def _as_int(b):
    try:
        return int(b)
    except (TypeError, ValueError):
        return None



def normalise_sorted(raw):
    try:
        r = parse_reply(raw)
    except Exception:
        return raw
    if r.type not in "*~" or r.value is None:
        return raw
    return (r.type, tuple(sorted(encode(i) for i in r.value)))


def compare_tolerant_int(a, b, tol):
    ia, ib = _int_reply(a), _int_reply(b)
    if ia is None or ib is None:
        return a == b
    if ia < 0 or ib < 0:
        return ia == ib
    return abs(ia - ib) <= tol


def compare_time(a, b):
    try:
        ra, rb = parse_reply(a), parse_reply(b)
    except Exception:
        return a == b
    for r in (ra, rb):
        if r.type != "*" or len(r.value) != 2 or \
                any(i.type != "$" or not i.value.isdigit() for i in r.value):
            return a == b
    sa, sb = int(ra.value[0].value), int(rb.value[0].value)
    ua, ub = int(ra.value[1].value), int(rb.value[1].value)
    return abs(sa - sb) <= 5 and 0 <= ua < 10 ** 6 and 0 <= ub < 10 ** 6


class Mismatch(Exception):
    pass


class Pair:
    """One connection to each server, fed the same commands."""

    def __init__(self, akv, ref, proto):
        self.akv_srv, self.ref_srv = akv, ref
        self.proto = proto
        self.history = []
        self.open()

    def open(self):
        self.a = RespConn(self.akv_srv.port)
        self.r = RespConn(self.ref_srv.port)
        if self.proto == 3:
            self.run([b"HELLO", b"3"])

    def close(self):
        self.a.close()
        self.r.close()

    def both(self, args):
        ra = self._one(self.a, args)
        rr = self._one(self.r, args)
        return ra, rr

    @staticmethod
    def _one(conn, args):
        try:
            return conn.command(*args)
        except ConnectionClosed as e:
            return b"<connection closed; partial %r>" % e.partial

    def fail(self, what, args, ra, rr):
        raise Mismatch("%s\n  command: %s\n  arenakv:   %r\n  reference: %r"
                       % (what, fmt_cmd(args), ra[:600], rr[:600]))

    def run(self, args):
        """Send one command (or macro) to both servers and compare."""
        self.history.append(args)
        cmd = args[0].upper()
        if cmd == b"SCAN" and args[1:2] == [b"0"]:
            return self.scan(args)
        if cmd in (b"HSCAN", b"SSCAN") and args[2:3] == [b"0"]:
            return self.key_scan(args)
        pre = None
        if cmd == b"SPOP" and len(args) >= 2:
            pre = self.r.command(b"SMEMBERS", args[1])
        ra, rr = self.both(args)
        if cmd == b"QUIT":
            if ra != rr:
                self.fail("QUIT reply differs", args, ra, rr)
            for conn, who in ((self.a, "arenakv"), (self.r, "reference")):
                try:
                    rest = conn.wait_closed(10)
                except OSError:
                    rest = b"<still open>"
                if rest:
                    self.fail("%s did not close cleanly after QUIT" % who,
                              args, rest, b"")
            self.close()
            self.open()
            return
        if ra == rr:
            return
        ok = False
        if cmd in TOLERANCE and len(args) == 2:
            ok = compare_tolerant_int(ra, rr, TOLERANCE[cmd])
        elif cmd == b"KEYS":
            ok = normalise_sorted(ra) == normalise_sorted(rr)
        elif cmd == b"RANDOMKEY":
            ok = self.check_randomkey(ra, rr)
        elif cmd == b"HELLO":
            ok = normalise_hello(ra) == normalise_hello(rr)
        elif cmd == b"TIME" and len(args) == 1:
            ok = compare_time(ra, rr)
        elif cmd == b"OBJECT" and len(args) == 3 and \
                args[1].upper() == b"IDLETIME":
            # Redis shares the objects of small integers between keys, and a
            # shared object's access time is refreshed through any key that
            # holds it, so its idle time is not a property of the key alone.
            # Only require a non-negative integer where Redis gives one.
            ia, ir = _int_reply(ra), _int_reply(rr)
            ok = ia is not None and ir is not None and ia >= 0 and ir >= 0
        elif cmd == b"CLIENT" and len(args) >= 2:
            sub = args[1].upper()
            if sub == b"ID" and len(args) == 2:
                ok = _int_reply(ra) is not None and _int_reply(rr) is not None
            elif sub == b"INFO" and len(args) == 2:
                ok = compare_client_text(ra, rr, False)
            elif sub == b"LIST":
                ok = compare_client_text(ra, rr, True)
        elif cmd in ORDER_BY_ENCODING and len(args) == 2:
            pairs = ORDER_BY_ENCODING[cmd]
            ok = (self.r.command(b"OBJECT", b"ENCODING", args[1])
                  == b"$9\r\nhashtable\r\n" and
                  normalise_unordered(ra, pairs)
                  == normalise_unordered(rr, pairs))
        elif cmd in UNORDERED:
            ok = normalise_unordered(ra) == normalise_unordered(rr)
        elif cmd in RANDOM_PICKS:
            ok = self.check_random(cmd, args, ra, rr, pre)
        if not ok:
            self.fail("replies differ", args, ra, rr)

    def check_randomkey(self, ra, rr):
        na = ra in (b"$-1\r\n", b"_\r\n")
        nr = rr in (b"$-1\r\n", b"_\r\n")
        if na or nr:
            return False  # both nil would have compared equal
        try:
            ka, kr = parse_reply(ra).value, parse_reply(rr).value
        except Exception:
            return False
        return (self.r.command(b"EXISTS", ka) == b":1\r\n" and
                self.a.command(b"EXISTS", kr) == b":1\r\n")

    def check_random(self, cmd, args, ra, rr, pre):
        """HRANDFIELD, SRANDMEMBER and SPOP: arenakv's pick must be a valid
        answer of the reference's dataset (before the command, for SPOP);
        after an SPOP the reference is made to hold what arenakv kept."""
        try:
            pa, pr = parse_reply(ra), parse_reply(rr)
            truth = parse_reply(pre if cmd == b"SPOP" else self.r.command(
                b"HGETALL" if cmd == b"HRANDFIELD" else b"SMEMBERS",
                args[1]))
        except Exception:
            return False
        if pa.type != pr.type or truth.type not in "*~%":
            return False
        tv = [i.value for i in truth.value]
        if cmd == b"HRANDFIELD":
            hmap = dict(zip(tv[0::2], tv[1::2]))
        else:
            hmap = dict.fromkeys(tv)
        if pa.type in "$":
            picks_a, picks_r = [pa.value], [pr.value]
            distinct = True
        elif pa.type in "*~" and pa.value is not None and \
                pr.value is not None:
            withvalues = len(args) > 3
            picks_a = self._picks(pa, withvalues)
            picks_r = self._picks(pr, withvalues)
            count = _as_int(args[2]) if len(args) > 2 else None
            distinct = cmd == b"SPOP" or (count is not None and count >= 0)
        else:
            return False
        if None in picks_a or len(picks_a) != len(picks_r):
            return False
        for p in picks_a:
            if isinstance(p, tuple):
                if hmap.get(p[0], object()) != p[1]:
                    return False
            elif p not in hmap:
                return False
        keys_a = [p[0] if isinstance(p, tuple) else p for p in picks_a]
        if distinct and len(set(keys_a)) != len(keys_a):
            return False
        if cmd == b"SPOP" and set(picks_a) != set(picks_r):
            self.realign_spop(args[1], list(hmap), picks_a, picks_r)
        return True

    @staticmethod
    def _picks(reply, withvalues):
        items = reply.value
        if not withvalues:
            return [i.value for i in items]
        if items and items[0].type == "*":  # RESP3: [field, value] pairs
            return [tuple(j.value for j in i.value) for i in items]
        vals = [i.value for i in items]
        return list(zip(vals[0::2], vals[1::2]))

    def realign_spop(self, key, before, popped_a, popped_r):
        """Make the reference's set hold what arenakv kept.  Redis's third
        SPOP strategy rebuilds the set from the members that stay, and the
        rebuilt set is an intset exactly when they all are integers within
        set-max-intset-entries: a fresh SADD of them reproduces that."""
        kept = [m for m in before if m not in set(popped_a)]
        n, remaining = len(popped_a), len(before) - len(popped_a)
        if remaining * SPOP_MOVE_STRATEGY_MUL <= n:
            at = _int_reply(self.r.command(b"PEXPIRETIME", key))
            self.r.command(b"DEL", key)
            self.r.command(b"SADD", key, *kept)
            if at is not None and at > 0:
                self.r.command(b"PEXPIREAT", key, str(at).encode())
            return
        back = [m for m in popped_r if m not in set(popped_a)]
        gone = [m for m in popped_a if m not in set(popped_r)]
        if back:
            self.r.command(b"SADD", key, *back)
        if gone:
            self.r.command(b"SREM", key, *gone)

    def key_scan(self, args):
        """HSCAN/SSCAN from cursor 0: identical replies, or both iterated
        to the end with the same set of elements (field/value pairs)."""
        ra, rr = self.both(args)
        if ra == rr and (ra.startswith(b"-") or
                         ra.startswith(b"*2\r\n$1\r\n0\r\n")):
            return
        pairs = args[0].upper() == b"HSCAN"

        def iterate(conn, first):
            raw, seen = first, set()
            for _ in range(100000):
                r = parse_reply(raw)
                if r.type == "-":
                    return raw
                if (r.type != "*" or len(r.value) != 2
                        or r.value[0].type != "$"
                        or r.value[1].type != "*"):
                    return b"<bad scan reply %r>" % raw
                cursor = r.value[0].value
                v = [i.value for i in r.value[1].value]
                seen.update(zip(v[0::2], v[1::2]) if pairs else v)
                if cursor == b"0":
                    return sorted(seen)
                raw = conn.command(*(args[:2] + [cursor] + args[3:]))
            return b"<scan did not terminate>"
        ga, gr = iterate(self.a, ra), iterate(self.r, rr)
        if ga != gr:
            self.fail("%s iteration results differ" % args[0].decode(),
                      args, repr(ga).encode(), repr(gr).encode())

    def scan(self, args):
        """Iterate SCAN to completion on each server; compare key sets."""
        def iterate(conn):
            cursor = b"0"
            seen = set()
            for _ in range(100000):
                raw = conn.command(*([args[0], cursor] + args[2:]))
                r = parse_reply(raw)
                if r.type == "-":
                    return raw
                if (r.type != "*" or len(r.value) != 2
                        or r.value[0].type != "$"
                        or r.value[1].type != "*"):
                    return b"<bad SCAN reply %r>" % raw
                cursor = r.value[0].value
                seen.update(i.value for i in r.value[1].value)
                if cursor == b"0":
                    return sorted(seen)
            return b"<SCAN did not terminate>"
        ga, gr = iterate(self.a), iterate(self.r)
        if ga != gr:
            self.fail("SCAN iteration results differ", args,
                      repr(ga).encode(), repr(gr).encode())

    def compare_dataset(self, dbs):
        """Compare every key, value, TTL and encoding in the given dbs."""
        for db in dbs:
            self.run([b"SELECT", str(db).encode()])
            self.run([b"DBSIZE"])
            ka = parse_reply(self.a.command(b"KEYS", b"*"))
            kr = parse_reply(self.r.command(b"KEYS", b"*"))
            la = sorted(i.value for i in ka.value)
            lr = sorted(i.value for i in kr.value)
            if la != lr:
                raise Mismatch("db %d key sets differ:\n  arenakv:   %r\n"
                               "  reference: %r" % (db, la, lr))
            for k in lr:
                self.run([b"TYPE", k])
                t = self.r.command(b"TYPE", k)
                if t == b"+hash\r\n":
                    self.run([b"HGETALL", k])
                elif t == b"+set\r\n":
                    self.run([b"SMEMBERS", k])
                else:
                    self.run([b"GET", k])
                self.run([b"PTTL", k])
                self.run([b"OBJECT", b"ENCODING", k])


def run_list(pair, cmds, what):
    """Run a fixed list of commands through pair (anything with .run),
    failing with the index of the first mismatch."""
    for i, args in enumerate(cmds):
        try:
            pair.run(args)
        except Mismatch as e:
            raise AssertionError("%s #%d: %s" % (what, i, e))


def fmt_cmd(args, limit=120):
    parts = []
    for a in args:
        s = repr(a)[2:-1]
        if len(s) > limit:
            s = s[:limit] + "...(%d bytes)" % len(a)
        parts.append(s)
    return " ".join(parts)


def seeds_from_env(var, default):
    v = os.environ.get(var)
    if not v:
        return default
    return [int(x) for x in v.replace(",", " ").split()]


def restore_limits(akv, ref):
    for srv in (akv, ref):
        conn = RespConn(srv.port)
        try:
            for name, value in CONTAINER_LIMITS:
                conn.command(b"CONFIG", b"SET", name, value)
        finally:
            conn.close()


def run_seed(akv, ref, seed, proto, count):
    """Even seeds run with small encoding thresholds (conversions often),
    odd seeds with the defaults."""
    gen = Generator(seed, proto)
    pair = Pair(akv, ref, proto)
    try:
        pair.run([b"FLUSHALL"])
        if seed % 2 == 0:
            for c in gen.limits_commands():
                pair.run(c)
        for i in range(count):
            args = gen.next()
            try:
                pair.run(args)
            except Mismatch as e:
                raise Mismatch("seed %d (RESP%d), command #%d: %s\n"
                               "  previous commands:\n    %s" % (
                                   seed, proto, i, e,
                                   "\n    ".join(fmt_cmd(c, 60) for c in
                                                 pair.history[-12:-1])))
            if args[0].upper() == b"QUIT":
                gen.proto = proto
                gen.db = 0
        try:
            pair.compare_dataset(list(range(NUM_DBS)) + [15])
        except Mismatch as e:
            raise Mismatch("seed %d (RESP%d), final dataset check: %s"
                           % (seed, proto, e))
    finally:
        pair.close()
        restore_limits(akv, ref)


def _run_seeds(akv, ref, seeds, proto):
    count = int(os.environ.get("AKV_DIFF_COMMANDS", DEFAULT_COMMANDS))
    failures = []
    for seed in seeds:
        t0 = time.monotonic()
        try:
            run_seed(akv, ref, seed, proto, count)
            print("# seed %d (RESP%d): %d commands identical (%.1fs)"
                  % (seed, proto, count, time.monotonic() - t0))
        except Mismatch as e:
            print("# MISMATCH %s" % e)
            failures.append(seed)
    akvtest.check(not failures, "mismatching seeds: %r" % failures)


# ---------------------------------------------------------------------------
# Fixed corpus: every error path at least once, independent of the seeds.

def fixed_corpus():
    far = 4102444800
    c = [
        [b"FLUSHALL"],
        [b"PING"], [b"PING", b"hi"], [b"PING", b"a", b"b"], [b"ping"],
        [b"ECHO"], [b"ECHO", b"a", b"b"], [b"ECHO", b""],
        [b"NOSUCH"], [b"NOSUCH", b"a", b"b"], [b""], [b"get\r\nx", b"a\r\n"],
        [b"nosuch"] + [b"y" * 100] * 3,
        [b"SET", b"k"], [b"SET", b"k", b"v"], [b"GET", b"k"],
        [b"SET", b"k", b"v", b"NX"], [b"SET", b"k", b"v2", b"XX"],
        [b"SET", b"k", b"v", b"NX", b"XX"], [b"SET", b"k", b"v", b"EX"],
        [b"SET", b"k", b"v", b"EX", b"0"], [b"SET", b"k", b"v", b"EX", b"-1"],
        [b"SET", b"k", b"v", b"EX", b"abc"],
        [b"SET", b"k", b"v", b"EX", b"10000", b"PX", b"10000000"],
        [b"SET", b"k", b"v", b"EX", b"10000", b"KEEPTTL"],
        [b"SET", b"k", b"v", b"PX", b"9223372036854775807"],
        [b"SET", b"k", b"v", b"EX", b"9223372036854775"],
        [b"SET", b"k", b"v", b"EX", b"9223372036854776"],
        [b"SET", b"k", b"v", b"EXAT", b"9223372036854775"],
        [b"SET", b"k", b"v", b"PXAT", b"9223372036854775807"],
        [b"PEXPIRETIME", b"k"], [b"EXPIRETIME", b"k"],
        [b"SET", b"k", b"v", b"EXAT", b"9223372036854776"],
        [b"SET", b"k", b"v", b"EXAT", str(far).encode()],
        [b"EXPIRETIME", b"k"], [b"PEXPIRETIME", b"k"], [b"TTL", b"nokey"],
        [b"SET", b"k", b"v", b"GET"], [b"SET", b"k", b"v", b"NX", b"GET"],
        [b"SET", b"k", b"v", b"XX", b"GET", b"KEEPTTL"],
        [b"EXPIRETIME", b"k"], [b"SET", b"k", b"v", b"FOO"],
        [b"SET", b"k", b"v", b"PXAT", b"0"], [b"SET", b"k", b"v", b"EXAT",
                                              b"-5"],
        [b"GETEX", b"k", b"PERSIST"], [b"EXPIRETIME", b"k"],
        [b"GETEX", b"k", b"EX", b"0"], [b"GETEX", b"k", b"EX"],
        [b"GETEX", b"k", b"EX", b"100000", b"PX", b"1"],
        [b"GETEX", b"k", b"PERSIST", b"EX", b"100000"],
        [b"GETEX", b"k", b"FOO"], [b"GETEX", b"nokey", b"EX", b"100000"],
        [b"GETEX", b"k", b"PXAT", b"1"], [b"EXISTS", b"k"],
        [b"SETEX", b"k", b"0", b"v"], [b"SETEX", b"k", b"-5", b"v"],
        [b"SETEX", b"k", b"abc", b"v"], [b"PSETEX", b"k", b"0", b"v"],
        [b"SETEX", b"k", b"9223372036854775807", b"v"],
        [b"PSETEX", b"k", b"9223372036854775807", b"v"],
        [b"SETNX", b"k", b"v"], [b"SETNX", b"k2", b"v"],
        [b"MSET", b"a", b"1", b"b"], [b"MSET", b"a", b"1", b"b", b"2"],
        [b"MSETNX", b"a", b"1", b"c", b"3"], [b"MSETNX", b"c", b"3", b"d",
                                              b"4"],
        [b"MGET", b"a", b"b", b"c", b"d", b"nokey", b"a"],
        [b"SET", b"n", b"9223372036854775806"], [b"INCR", b"n"],
        [b"INCR", b"n"], [b"DECRBY", b"n", b"-1"],
        [b"SET", b"n", b"-9223372036854775807"], [b"DECR", b"n"],
        [b"DECR", b"n"], [b"DECRBY", b"n", b"-9223372036854775808"],
        [b"SET", b"n", b"0"], [b"DECRBY", b"n", b"-9223372036854775808"],
        [b"INCRBY", b"n", b"-9223372036854775808"],
        [b"INCRBY", b"n", b"abc"], [b"INCRBY", b"n", b"1.5"],
        [b"SET", b"n", b"abc"], [b"INCR", b"n"], [b"INCRBYFLOAT", b"n", b"1"],
        [b"SET", b"n", b" 1"], [b"INCR", b"n"], [b"SET", b"n", b"01"],
        [b"INCR", b"n"], [b"OBJECT", b"ENCODING", b"n"],
        [b"SET", b"f", b"10.5"], [b"INCRBYFLOAT", b"f", b"0.1"],
        [b"INCRBYFLOAT", b"f", b"-5.0e3"], [b"INCRBYFLOAT", b"f", b"abc"],
        [b"INCRBYFLOAT", b"f", b"inf"], [b"INCRBYFLOAT", b"f", b"nan"],
        [b"INCRBYFLOAT", b"f", b"1e308"], [b"INCRBYFLOAT", b"f", b"1e308"],
        [b"INCRBYFLOAT", b"g", b"1e308"], [b"INCRBYFLOAT", b"g", b"1e308"],
        [b"INCRBYFLOAT", b"h", b"3"], [b"OBJECT", b"ENCODING", b"h"],
        [b"INCRBYFLOAT", b"h", b"0.3333333333333333"],
        [b"INCRBYFLOAT", b"h", b"1e-20"], [b"INCRBYFLOAT", b"h2", b"5e-324"],
        [b"SET", b"e", b"12345"], [b"OBJECT", b"ENCODING", b"e"],
        [b"APPEND", b"e", b"6"], [b"OBJECT", b"ENCODING", b"e"],
        [b"INCR", b"e"], [b"OBJECT", b"ENCODING", b"e"],
        [b"SET", b"e", b"x" * 44], [b"OBJECT", b"ENCODING", b"e"],
        [b"SET", b"e", b"x" * 45], [b"OBJECT", b"ENCODING", b"e"],
        [b"SET", b"e", b"12345678901234567890"],
        [b"OBJECT", b"ENCODING", b"e"],
        [b"SET", b"e", b"-9223372036854775808"],
        [b"OBJECT", b"ENCODING", b"e"], [b"APPEND", b"new", b"123"],
        [b"OBJECT", b"ENCODING", b"new"], [b"SETRANGE", b"new2", b"0", b"1"],
        [b"OBJECT", b"ENCODING", b"new2"], [b"OBJECT", b"ENCODING", b"nokey"],
        [b"OBJECT", b"FREQ", b"e"], [b"OBJECT", b"FOO", b"e"],
        [b"OBJECT", b"ENCODING"], [b"OBJECT", b"ENCODING", b"e", b"x"],
        [b"OBJECT", b"IDLETIME", b"nokey"], [b"SET", b"idle", b"text"],
        [b"OBJECT", b"IDLETIME", b"idle"],
        [b"SET", b"s", b"Hello World"], [b"GETRANGE", b"s", b"0", b"4"],
        [b"GETRANGE", b"s", b"-5", b"-1"], [b"GETRANGE", b"s", b"5", b"2"],
        [b"GETRANGE", b"s", b"-100", b"100"],
        [b"GETRANGE", b"s", b"0", b"-100"],
        [b"GETRANGE", b"s", b"9223372036854775807", b"-9223372036854775808"],
        [b"GETRANGE", b"s", b"a", b"1"], [b"GETRANGE", b"nokey", b"0", b"1"],
        [b"SETRANGE", b"s", b"6", b"Redis"], [b"GET", b"s"],
        [b"SETRANGE", b"s", b"20", b"!"], [b"GET", b"s"],
        [b"SETRANGE", b"s", b"-1", b"x"], [b"SETRANGE", b"s", b"536870912",
                                           b"x"],
        [b"SETRANGE", b"s", b"536870911", b"xy"],
        [b"SETRANGE", b"s", b"536870912", b""],
        [b"SETRANGE", b"nokey", b"5", b""], [b"SETRANGE", b"nokey", b"-1",
                                             b""],
        [b"SETRANGE", b"s", b"abc", b"x"], [b"STRLEN", b"s"],
        [b"STRLEN", b"nokey"], [b"APPEND", b"s", b"\x00\r\n"],
        [b"GET", b"s"], [b"GETDEL", b"s"], [b"GETDEL", b"s"],
        [b"GETSET", b"s", b"1"], [b"GETSET", b"s", b"2"], [b"TYPE", b"s"],
        [b"TYPE", b"nokey"], [b"DEL", b"s", b"s", b"nokey"],
        [b"SET", b"r1", b"v"], [b"RENAME", b"r1", b"r2"],
        [b"RENAME", b"r1", b"r2"], [b"RENAME", b"r2", b"r2"],
        [b"RENAMENX", b"r2", b"r2"], [b"SET", b"r3", b"w"],
        [b"RENAMENX", b"r2", b"r3"], [b"RENAMENX", b"r2", b"r4"],
        [b"EXPIRE", b"r4", b"100000"], [b"RENAME", b"r4", b"r5"],
        [b"EXPIRETIME", b"r5"], [b"EXPIRE", b"r5", b"100000", b"NX"],
        [b"EXPIRE", b"r5", b"100000", b"XX", b"NX"],
        [b"EXPIRE", b"r5", b"100000", b"GT", b"LT"],
        [b"EXPIRE", b"r5", b"100000", b"NX", b"GT"],
        [b"EXPIRE", b"r5", b"100000", b"FOO"],
        [b"EXPIRE", b"r5", b"abc"], [b"EXPIRE", b"r5", b"9223372036854775807"],
        [b"PEXPIRE", b"r5", b"9223372036854775807"],
        [b"EXPIREAT", b"r5", b"9223372036854775807"],
        [b"PEXPIREAT", b"r5", b"9223372036854775807"],
        [b"PEXPIRETIME", b"r5"], [b"EXPIRETIME", b"r5"],
        [b"EXPIREAT", b"r5", b"9223372036854775", b"GT"],
        [b"EXPIREAT", b"r5", str(far).encode(), b"GT"],
        [b"EXPIREAT", b"r5", str(far).encode(), b"LT"],
        [b"EXPIRETIME", b"r5"], [b"PERSIST", b"r5"], [b"PERSIST", b"r5"],
        [b"EXPIREAT", b"r5", str(far).encode(), b"GT"],
        [b"EXPIREAT", b"r5", str(far).encode(), b"LT"],
        [b"EXPIREAT", b"r5", str(far).encode(), b"XX"],
        [b"EXPIRE", b"r5", b"-1", b"GT"], [b"EXISTS", b"r5"],
        [b"EXPIRE", b"r5", b"-1", b"LT"], [b"EXISTS", b"r5"],
        [b"EXPIRE", b"nokey", b"100"], [b"TTL", b"r3"], [b"PTTL", b"r3"],
        [b"EXPIRETIME", b"r3"], [b"PEXPIRETIME", b"nokey"],
        [b"EXPIREAT", b"r3", b"1"], [b"EXISTS", b"r3"],
        [b"SET", b"t", b"1"], [b"PEXPIREAT", b"t", b"0"], [b"EXISTS", b"t"],
        [b"SET", b"t", b"1"], [b"EXPIRE", b"t", b"0"], [b"EXISTS", b"t"],
        [b"SET", b"t", b"1"], [b"TOUCH", b"t", b"t", b"nokey"],
        [b"EXISTS", b"t", b"t", b"nokey"], [b"UNLINK", b"t", b"nokey"],
        [b"DBSIZE"], [b"DBSIZE", b"x"],
        [b"SELECT"], [b"SELECT", b"16"], [b"SELECT", b"-1"],
        [b"SELECT", b"abc"], [b"SELECT", b"15"], [b"SET", b"in15", b"v"],
        [b"SELECT", b"1"], [b"SET", b"m", b"v"], [b"MOVE", b"m", b"1"],
        [b"MOVE", b"m", b"2"], [b"MOVE", b"m", b"2"], [b"MOVE", b"nokey",
                                                       b"2"],
        [b"MOVE", b"m", b"16"], [b"MOVE", b"m", b"abc"], [b"MOVE", b"m",
                                                          b"-1"],
        [b"SELECT", b"2"], [b"GET", b"m"], [b"SET", b"m", b"v2"],
        [b"SELECT", b"1"], [b"SET", b"m", b"v1"], [b"MOVE", b"m", b"2"],
        [b"SWAPDB", b"1", b"2"], [b"GET", b"m"], [b"SWAPDB", b"1", b"1"],
        [b"SWAPDB", b"1", b"16"], [b"SWAPDB", b"x", b"1"],
        [b"SWAPDB", b"1", b"x"], [b"SWAPDB", b"-1", b"1"],
        [b"SWAPDB", b"1"], [b"SWAPDB", b"16", b"x"], [b"SWAPDB", b"-1", b"x"],
        [b"SWAPDB", b"1000000", b"1.0"], [b"SELECT", b"0"],
        [b"FLUSHDB", b"FOO"], [b"FLUSHDB", b"ASYNC", b"SYNC"],
        [b"FLUSHALL", b"FOO"], [b"FLUSHALL", b"SYNC", b"x"],
        [b"CLIENT"], [b"CLIENT", b"FOO"], [b"CLIENT", b"GETNAME"],
        [b"CLIENT", b"SETNAME", b"my name"], [b"CLIENT", b"SETNAME", b"a\nb"],
        [b"CLIENT", b"SETNAME", b"ok"], [b"CLIENT", b"GETNAME"],
        [b"CLIENT", b"SETNAME", b""], [b"CLIENT", b"GETNAME"],
        [b"CLIENT", b"SETNAME"], [b"CLIENT", b"ID", b"x"],
        [b"CLIENT", b"LIST", b"TYPE", b"foo"], [b"CLIENT", b"LIST", b"FOO"],
        [b"CLIENT", b"INFO", b"x"],
        [b"HELLO", b"4"], [b"HELLO", b"abc"], [b"HELLO", b"1"],
        [b"HELLO", b"2", b"FOO"], [b"HELLO", b"2", b"SETNAME"],
        [b"HELLO", b"2", b"SETNAME", b"bad name"], [b"CLIENT", b"GETNAME"],
        [b"HELLO", b"2", b"SETNAME", b"viahello"], [b"CLIENT", b"GETNAME"],
        [b"HELLO"], [b"TIME", b"x"], [b"RANDOMKEY", b"x"],
        [b"KEYS"], [b"KEYS", b"*", b"x"], [b"SCAN"], [b"SCAN", b"abc"],
        [b"SCAN", b"0", b"COUNT", b"0"], [b"SCAN", b"0", b"COUNT", b"-1"],
        [b"SCAN", b"0", b"COUNT", b"x"], [b"SCAN", b"0", b"MATCH"],
        [b"SCAN", b"0", b"FOO", b"bar"], [b"SCAN", b"1x"],
        [b"SCAN", b"18446744073709551616"],
        [b"MGET"], [b"MSET"], [b"MSET", b"a"], [b"MSETNX", b"a", b"1", b"b"],
        [b"GETSET", b"a"], [b"INCRBYFLOAT", b"a"], [b"TTL"], [b"PERSIST"],
        [b"TOUCH"], [b"EXPIRE", b"a"], [b"RENAME", b"a"],
        [b"FLUSHDB"], [b"DBSIZE"], [b"RANDOMKEY"],
    ]
    return c


def test_fixed_corpus_resp2(akv, ref):
    pair = Pair(akv, ref, 2)
    try:
        for i, args in enumerate(fixed_corpus()):
            try:
                pair.run(args)
            except Mismatch as e:
                raise AssertionError("fixed corpus #%d: %s" % (i, e))
    finally:
        pair.close()


def test_fixed_corpus_resp3(akv, ref):
    pair = Pair(akv, ref, 3)
    try:
        for i, args in enumerate(fixed_corpus()):
            try:
                pair.run(args)
            except Mismatch as e:
                raise AssertionError("fixed corpus #%d: %s" % (i, e))
        pair.run([b"HELLO", b"2"])
        pair.run([b"GET", b"nokey"])
    finally:
        pair.close()


def test_random_streams_resp2(akv, ref):
    _run_seeds(akv, ref, seeds_from_env("AKV_DIFF_SEEDS", DEFAULT_SEEDS), 2)


def test_random_streams_resp3(akv, ref):
    _run_seeds(akv, ref, seeds_from_env("AKV_DIFF_RESP3_SEEDS",
                                        DEFAULT_RESP3_SEEDS), 3)


def typed_dump(conn, dbs):
    """Every key of `dbs` with its type, value (sorted pairs / members for
    hashes and sets) and PEXPIRETIME."""
    out = {}
    for db in dbs:
        conn.command(b"SELECT", str(db).encode())
        for k in parse_reply(conn.command(b"KEYS", b"*")).value:
            k = k.value
            t = conn.command(b"TYPE", k)
            if t == b"+hash\r\n":
                v = normalise_unordered(conn.command(b"HGETALL", k), True)
            elif t == b"+set\r\n":
                v = normalise_unordered(conn.command(b"SMEMBERS", k))
            else:
                v = conn.command(b"GET", k)
            out[(db, k)] = (t, v, conn.command(b"PEXPIRETIME", k))
    conn.command(b"SELECT", b"0")
    return out


def test_stream_survives_aof_reboot():
    """The mixed streams of two seeds against an arenakv with appendonly
    yes: after a crash of everything and the loss of the arena, the AOF
    brings back the same keys, types, values and expiry times."""
    if akvtest.against_redis():
        raise akvtest.SkipTest("needs arenakv (an arena to lose)")
    from test_aof import AofServer, wait_drained
    srv = AofServer()
    srv.start()
    try:
        for seed in (3, 4):
            gen = Generator(seed, 2)
            conn = RespConn(srv.port)
            conn.command(b"FLUSHALL")
            if seed % 2 == 0:
                for c in gen.limits_commands():
                    conn.command(*c)
            for _ in range(1200):
                args = gen.next()
                conn.command(*args)
                if args[0].upper() in (b"QUIT", b"HELLO"):
                    conn.close()
                    conn = RespConn(srv.port)
                    gen.proto, gen.db = 2, 0
            dbs = list(range(NUM_DBS)) + [15]
            before = typed_dump(conn, dbs)
            conn.close()
            akvtest.check(len(before) > 10, "seed %d made %d keys"
                          % (seed, len(before)))
            wait_drained(srv.port)
            srv.crash(reboot=True)
            srv.restart()
            conn = RespConn(srv.port)
            after = typed_dump(conn, dbs)
            conn.close()
            for k in sorted(set(before) | set(after)):
                akvtest.check_eq(after.get(k), before.get(k),
                                 "seed %d: %r after the reboot" % (seed, k))
    finally:
        srv.stop()
        srv.remove_data()


def test_inline_stream(akv, ref):
    """A short random stream sent as inline commands (printable args)."""
    rng = random.Random(7)
    a, r = RespConn(akv.port), RespConn(ref.port)
    try:
        for conn in (a, r):
            conn.command(b"FLUSHALL")
        words = [b"a", b"b", b"key:1", b"10", b"-5", b"hello", b"1.5",
                 b"9223372036854775807", b"EX", b"100000", b"NX"]
        cmds = [b"SET", b"GET", b"INCR", b"INCRBY", b"APPEND", b"STRLEN",
                b"DEL", b"EXISTS", b"MGET", b"ECHO", b"PING", b"TYPE",
                b"INCRBYFLOAT", b"GETRANGE", b"NOSUCH"]
        for i in range(300):
            line = b" ".join([rng.choice(cmds)] +
                             [rng.choice(words)
                              for _ in range(rng.randint(0, 3))])
            a.send_raw(line + b"\r\n")
            r.send_raw(line + b"\r\n")
            ra, rr = a.read_reply(), r.read_reply()
            akvtest.check(ra == rr, "inline #%d %r: arenakv %r, reference %r"
                          % (i, line, ra, rr))
    finally:
        a.close()
        r.close()


if __name__ == "__main__":
    akvtest.main(globals(), lambda: {"akv": ArenakvServer(),
                                     "ref": RedisServer()})
