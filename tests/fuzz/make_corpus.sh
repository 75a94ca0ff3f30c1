#!/bin/sh
# make_corpus.sh -- write the seed corpora of the fuzz harnesses into
# tests/fuzz/corpus/<harness>/ (run from anywhere; needs sqlite3).  The
# seeds are small valid inputs, plus a few that hit error paths; the
# fuzzers mutate from there.  Re-running rewrites the same files.
set -eu
top=$(cd "$(dirname "$0")" && pwd)/corpus
sep='\n%%%%\n'

seed() { # seed HARNESS NAME PRINTF-FORMAT
    mkdir -p "$top/$1"
    printf "$3" >"$top/$1/$2"
}

# RESP parser: byte 0 = piece size, byte 1 = bulk limit, then the stream.
seed resp multibulk '\005\000*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n'
seed resp inline '\003\000PING\r\nSET k "a b\\x41" '"'"'c'"'"'\r\nGET k\n'
seed resp pipeline '\001\000*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n\r\n'
seed resp limit '\007\002*2\r\n$4\r\nECHO\r\n$20\r\n01234567890123456789\r\n'
seed resp errors '\002\000*2\r\n$x\r\n*-1\r\n$-1\r\n"unbalanced\r\n'

# Dispatcher: one command per line, words separated by spaces.
seed dispatch strings 'set k v\nget k\nappend k xyz\nstrlen k\ngetrange k 0 -1\nsetrange k 10 abc\nincr n\nincrby n 5\ndecrby n 2\nincrbyfloat f 1.5\nmset a 1 b 2\nmget a b c\nmsetnx a 1 z 2\ngetset k w\ngetdel k\ngetex a EX 100\nsetnx q 1\nsetex e 10 v\npsetex p 1000 v\nset k v NX PX 5000 GET\n'
seed dispatch bitfield 'bitfield b set u8 0 255 get i4 4 incrby i64 #1 -1\nbitfield b overflow sat incrby u3 100 9 overflow fail set i8 #2 200\nbitfield b get u64 0\nbitfield b get u8 -1\nbitfield_ro b get i16 0\nbitfield_ro b set u8 0 1\nget b\n'
seed dispatch keys 'set k v\nexpire k 100\nttl k\npttl k\nexpiretime k\npersist k\nrename k k2\nrenamenx k2 k3\ntype k3\nexists k3 k\ntouch k3\nkeys *\nscan 0 MATCH k* COUNT 10\nrandomkey\nmove k3 1\nselect 1\ndbsize\nswapdb 0 1\nobject encoding k3\nobject idletime k3\nobject freq k3\ndel k3\nflushdb\nflushall\n'
seed dispatch server 'ping\necho hi\nhello 3\nset k 1\nget k\nhello 2\ninfo\ninfo keyspace\ncommand count\ncommand info get\ncommand docs set\ncommand list\nclient id\nclient setname me\nclient getname\nclient list\nclient info\nconfig get maxmemory*\nconfig set maxmemory 1mb\nset big 0123456789\nconfig set maxmemory-policy allkeys-lru\nconfig resetstat\ntime\nlastsave\nbgrewriteaof\nbgsave\nauth x\nreset\nquit\n'
seed dispatch bits 'setbit b 7 1\nsetbit b 100 1\ngetbit b 7\nbitcount b\nbitcount b 0 -1 BIT\nbitcount b 1 2 BYTE\nbitpos b 1\nbitpos b 0 1\nbitpos b 1 0 -1 BIT\nset o xyz\nbitop AND d b o\nbitop NOT d b\nbitop OR d nokey\nsetbit b x 1\nbitpos b 2\n'

# AOF directory: manifest, .1.incr, .2.incr, .3.incr, .1.base.
m1='file appendonly.aof.1.incr.aof seq 1 type i\n'
m2='file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n'
a1='*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$2\r\n10\r\n'
a2='#TS:1700000000\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nn\r\n$13\r\n4000000000000\r\n*1\r\n$4\r\nEXEC\r\n*4\r\n$8\r\nSETRANGE\r\n$1\r\nn\r\n$1\r\n2\r\n$2\r\nab\r\n'
torn='*3\r\n$3\r\nSET\r\n$1\r\nt\r\n$5\r\nab'
seed aof single "$m1$sep$a1"
seed aof multi "$m2$sep$a1$sep$a2$sep$sep$a1"
seed aof torn "$m1$sep$a1$torn"
seed aof torn-multi "$m1$sep$a1"'*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n'
seed aof swap "$m1$sep"'*3\r\n$6\r\nSWAPDB\r\n$1\r\n0\r\n$1\r\n1\r\n*1\r\n$8\r\nFLUSHALL\r\n*1\r\n$7\r\nFLUSHDB\r\n'
seed aof bad-manifest 'file a seq 0 type i\nfile "b c" seq 1 type x\n'"$sep$a1"

# Config: file, then command line words, then CONFIG SET pairs.
conf='port 7000\nbind 127.0.0.1 ::1\nmaxmemory 100mb\nmaxmemory-policy allkeys-lfu\nsave 900 1 300 10\nsave ""\nappendonly yes\nappendfsync always\nrequirepass "p a\\x73s"\nhz 500\nrdbcompression yes\n# comment\ndatabases 4\n'
seed config file "$conf"
seed config argv "port 1$sep--maxmemory\n2gb\n--save\n--loglevel\nwarning\n--bind\n127.0.0.1\n10.0.0.1\n--requirepass --x"
seed config set "$sep$sep"'maxmemory 1gb\nmaxmemory-samples 10\ntimeout 30\nappendfsync no\nsave 60 1000\nrequirepass secret\nloglevel debug\nlfu-log-factor 5\nhz 1\nport 1\n'

# SQLite base files, format 2 and format 1 (small pages keep them small).
mkdir -p "$top/snapshot"
mkdb() { # mkdb NAME SQL
    rm -f "$top/snapshot/$1"
    sqlite3 "$top/snapshot/$1" "PRAGMA page_size=512; $2"
}
mkdb format2 "CREATE TABLE meta (name TEXT PRIMARY KEY, value);
CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,
 type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER);
INSERT INTO keys VALUES (0, 'k', 'string', 'v', NULL),
 (0, 'n', 'string', '10', 4000000000000), (1, 'k', 'string', '', NULL),
 (15, x'00ff', 'string', x'0102', NULL), (0, 'old', 'string', 'x', 1);
CREATE UNIQUE INDEX keys_by_name ON keys (db, key);
INSERT INTO meta VALUES ('format', 2), ('created_ms', 1700000000000),
 ('writer', 'arenakv 0.1.0'), ('keys', 5);"
mkdb format1 "CREATE TABLE meta (name TEXT PRIMARY KEY, value);
CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,
 type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER,
 PRIMARY KEY (db, key)) WITHOUT ROWID;
INSERT INTO keys VALUES (0, 'a', 'string', 'b', NULL), (2, 'c', 'string', 'd', NULL);
INSERT INTO meta VALUES ('format', 1);"
mkdb bad-db "CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,
 type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER);
INSERT INTO keys VALUES (99, 'k', 'string', 'v', NULL);"
