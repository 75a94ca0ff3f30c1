/*
 * config.c -- the option table and everything that reads or writes a
 * struct akv_config: defaults, redis.conf-style files, redis-server-style
 * command lines, CONFIG SET validation and CONFIG GET rendering.
 *
 * The options are data (options[] below): name, type, where the value
 * lives in struct akv_config, bounds, default and flags.  One generic
 * setter and one generic renderer serve every option, so adding an option
 * is adding a row.
 *
 * Compatibility rules (clients and tests compare us with Redis 7.0):
 *   - error reasons are Redis's word for word ("argument must be 'yes' or
 *     'no'", "argument(s) must be one of the following: ...", "argument
 *     must be between N and M inclusive", ...); the caller wraps them as
 *     CONFIG SET does;
 *   - integers are parsed as strictly as Redis's string2ll, memory values
 *     as its memtoull (including its quirks: "" and "mb" read as 0, too
 *     many digits saturate);
 *   - CONFIG GET renders memory values as plain byte counts and enums by
 *     name;
 *   - config files split lines with the rules of sdssplitargs, and the
 *     well-known redis.conf directives that mean nothing here are accepted
 *     and ignored, so an existing redis.conf loads unchanged.
 *
 * Invariant: akv_config_set() validates completely before it stores, and
 * stores with one write per numeric field, so a failed call leaves the
 * configuration untouched and readers never see a half-written number.
 * String fields are copied whole; the caller serialises writers (and
 * readers of strings) with the arena's h_cfg_mutex.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Maximum depth of nested "include" directives. */
#define MAX_INCLUDE_DEPTH 16
/* Redis's CONFIG_BINDADDR_MAX. */
#define MAX_BIND_ADDRS 16

/* ------------------------------------------------------------ enum names */

struct enum_name {
    const char *name;
    int64_t value;
    bool unlisted; /* accepted, but not named in the error reason */
};

/* The orders are Redis's: they show in error replies. */
static const struct enum_name policy_names[] = {
    {"volatile-lru", AKV_MM_VOLATILE_LRU, false},
    {"volatile-lfu", AKV_MM_VOLATILE_LFU, false},
    {"volatile-random", AKV_MM_VOLATILE_RANDOM, false},
    {"volatile-ttl", AKV_MM_VOLATILE_TTL, false},
    {"allkeys-lru", AKV_MM_ALLKEYS_LRU, false},
    {"allkeys-lfu", AKV_MM_ALLKEYS_LFU, false},
    {"allkeys-random", AKV_MM_ALLKEYS_RANDOM, false},
    {"noeviction", AKV_MM_NOEVICTION, false},
    {NULL, 0, false},
};

/* "nothing" is a later Redis addition; 7.0 does not list it. */
static const struct enum_name loglevel_names[] = {
    {"debug", AKV_LOG_DEBUG, false},
    {"verbose", AKV_LOG_VERBOSE, false},
    {"notice", AKV_LOG_NOTICE, false},
    {"warning", AKV_LOG_WARNING, false},
    {"nothing", AKV_LOG_NOTHING, true},
    {NULL, 0, false},
};

static const struct enum_name fsync_names[] = {
    {"everysec", AKV_FSYNC_EVERYSEC, false},
    {"always", AKV_FSYNC_ALWAYS, false},
    {"no", AKV_FSYNC_NO, false},
    {NULL, 0, false},
};

static const struct enum_name enable_names[] = {
    {"no", AKV_ENABLE_NO, false},
    {"yes", AKV_ENABLE_YES, false},
    {"local", AKV_ENABLE_LOCAL, false},
    {NULL, 0, false},
};

/* ----------------------------------------------------------- the options */

enum opt_type {
    OPT_BOOL,   /* yes / no */
    OPT_INT,    /* decimal integer within [min, max] */
    OPT_MEMORY, /* memory quantity within [min, max], shown in bytes */
    OPT_ENUM,   /* one name of names[] */
    OPT_STRING, /* text stored as given (char array of cap bytes) */
    OPT_OBUF,   /* client-output-buffer-limit: class hard soft seconds... */
    OPT_MEMPCT, /* memory quantity or "N%" (stored as -N), shown as given */
};

#define OPT_IMMUTABLE 0x1u /* CONFIG SET refuses it */
#define OPT_MULTI_ARG 0x2u /* several words, stored joined by spaces */
#define OPT_PROTECTED 0x4u /* CONFIG SET only if enable-protected-configs */
#define OPT_ALIAS 0x8u     /* another name of the option with the same field */

struct option {
    const char *name;
    enum opt_type type;
    unsigned flags;
    size_t off; /* offset of the field in struct akv_config */
    size_t cap; /* strings: size of the char array */
    int64_t min, max;
    int64_t def;         /* default of numeric, bool and enum options */
    const char *def_str; /* default of string options */
    const struct enum_name *names;
    /* Optional: further validation of a string; returns a reason or NULL. */
    const char *(*check)(const char *value);
    /* Optional: maps an accepted integer to the value stored. */
    int64_t (*adjust)(int64_t value);
};

#define FIELD(f) offsetof(struct akv_config, f)
#define FIELD_CAP(f) sizeof(((struct akv_config *)0)->f)

#define BOOL(n, fl, f, d)                                                  \
    {.name = (n), .type = OPT_BOOL, .flags = (fl), .off = FIELD(f),        \
     .min = 0, .max = 1, .def = (d)}
#define INT(n, fl, f, lo, hi, d)                                           \
    {.name = (n), .type = OPT_INT, .flags = (fl), .off = FIELD(f),         \
     .min = (lo), .max = (hi), .def = (d)}
#define MEM(n, fl, f, lo, hi, d)                                           \
    {.name = (n), .type = OPT_MEMORY, .flags = (fl), .off = FIELD(f),      \
     .min = (lo), .max = (hi), .def = (d)}
#define ENUM(n, fl, f, tbl, d)                                             \
    {.name = (n), .type = OPT_ENUM, .flags = (fl), .off = FIELD(f),        \
     .names = (tbl), .def = (d)}
#define STR(n, fl, f, d)                                                   \
    {.name = (n), .type = OPT_STRING, .flags = (fl), .off = FIELD(f),      \
     .cap = FIELD_CAP(f), .def_str = (d)}

#define IMM OPT_IMMUTABLE
#define KB(x) ((int64_t)(x) * 1024)
#define MB(x) (KB(x) * 1024)
#define GB(x) (MB(x) * 1024)

static const char *check_aof_filename(const char *v);
static const char *check_aof_dirname(const char *v);
static const char *check_dbfilename(const char *v);
static int64_t adjust_hz(int64_t v);

static const struct option options[] = {
    INT("port", IMM, port, 0, 65535, 6379),
    {.name = "bind", .type = OPT_STRING, .flags = IMM | OPT_MULTI_ARG,
     .off = FIELD(bind), .cap = FIELD_CAP(bind),
     .def_str = "127.0.0.1 -::1"},
    /* dir is protected as in Redis, and immutable here: the AOF files
     * are open in it.  Protection is checked first, so by default the
     * reply is Redis's. */
    STR("dir", IMM | OPT_PROTECTED, dir, "."),
    STR("arena", IMM, arena, ""),
    MEM("arena-size", IMM, arena_size, 0, INT64_MAX, 0),
    MEM("maxmemory", 0, maxmemory, 0, INT64_MAX, 0),
    ENUM("maxmemory-policy", 0, maxmemory_policy, policy_names,
         AKV_MM_NOEVICTION),
    INT("maxmemory-samples", 0, maxmemory_samples, 1, 64, 5),
    INT("lfu-log-factor", 0, lfu_log_factor, 0, INT_MAX, 10),
    INT("lfu-decay-time", 0, lfu_decay_time, 0, INT_MAX, 1),
    INT("databases", IMM, databases, 1, 256, 16),
    INT("maxclients", 0, maxclients, 1, AKV_MAXCLIENTS_MAX, 10000),
    INT("timeout", 0, timeout, 0, INT_MAX, 0),
    /* Like Redis, any non-negative hz is accepted and clamped. */
    {.name = "hz", .type = OPT_INT, .off = FIELD(hz), .min = 0,
     .max = INT_MAX, .def = 10, .adjust = adjust_hz},
    MEM("proto-max-bulk-len", 0, proto_max_bulk_len, MB(1), INT64_MAX,
        MB(512)),
    MEM("client-query-buffer-limit", 0, client_query_buffer_limit, MB(1),
        INT64_MAX, GB(1)),
    ENUM("loglevel", 0, loglevel, loglevel_names, AKV_LOG_NOTICE),
    BOOL("daemonize", IMM, daemonize, 0),
    STR("logfile", IMM, logfile, ""),
    STR("pidfile", IMM, pidfile, ""),
    STR("requirepass", 0, requirepass, ""),
    BOOL("appendonly", 0, appendonly, 0),
    ENUM("appendfsync", 0, appendfsync, fsync_names, AKV_FSYNC_EVERYSEC),
    {.name = "appendfilename", .type = OPT_STRING, .flags = IMM,
     .off = FIELD(appendfilename), .cap = FIELD_CAP(appendfilename),
     .def_str = "appendonly.aof", .check = check_aof_filename},
    {.name = "appenddirname", .type = OPT_STRING, .flags = IMM,
     .off = FIELD(appenddirname), .cap = FIELD_CAP(appenddirname),
     .def_str = "appendonlydir", .check = check_aof_dirname},
    {.name = "save", .type = OPT_STRING, .flags = OPT_MULTI_ARG,
     .off = FIELD(save), .cap = FIELD_CAP(save),
     .def_str = "3600 1 300 100 60 10000"},
    MEM("aof-ring-size", IMM, aof_ring_size, MB(1), GB(4), MB(64)),
    INT("auto-aof-rewrite-percentage", 0, auto_aof_rewrite_percentage, 0,
        INT_MAX, 100),
    MEM("auto-aof-rewrite-min-size", 0, auto_aof_rewrite_min_size, 0,
        INT64_MAX, MB(64)),
    {.name = "dbfilename", .type = OPT_STRING, .flags = OPT_PROTECTED,
     .off = FIELD(dbfilename), .cap = FIELD_CAP(dbfilename),
     .def_str = "dump.sqlite", .check = check_dbfilename},
    BOOL("stop-writes-on-bgsave-error", 0, stop_writes_on_bgsave_error, 1),
    INT("tcp-backlog", IMM, tcp_backlog, 0, INT_MAX, 511),
    INT("tcp-keepalive", 0, tcp_keepalive, 0, INT_MAX, 300),
    ENUM("enable-debug-command", IMM, enable_debug_command, enable_names,
         AKV_ENABLE_NO),
    {.name = "client-output-buffer-limit", .type = OPT_OBUF,
     .flags = OPT_MULTI_ARG, .off = FIELD(obuf_limits)},
    {.name = "maxmemory-clients", .type = OPT_MEMPCT,
     .off = FIELD(maxmemory_clients), .min = -100, .max = INT64_MAX,
     .def = 0},
    BOOL("protected-mode", 0, protected_mode, 1),
    ENUM("enable-protected-configs", IMM, enable_protected_configs,
         enable_names, AKV_ENABLE_NO),
    BOOL("arena-shared-group", IMM, arena_shared_group, 0),
    BOOL("lazyfree-lazy-eviction", 0, lazyfree_lazy_eviction, 0),
    BOOL("lazyfree-lazy-expire", 0, lazyfree_lazy_expire, 0),
    BOOL("lazyfree-lazy-server-del", 0, lazyfree_lazy_server_del, 0),
    BOOL("lazyfree-lazy-user-del", 0, lazyfree_lazy_user_del, 0),
    BOOL("lazyfree-lazy-user-flush", 0, lazyfree_lazy_user_flush, 0),
    /* Hash encodings; the ziplist names are Redis 7.0's aliases (same
     * field, rewritten under the listpack name).  Redis's built-in
     * defaults, not its redis.conf's. */
    INT("hash-max-listpack-entries", 0, hash_max_listpack_entries, 0,
        INT64_MAX, 512),
    MEM("hash-max-listpack-value", 0, hash_max_listpack_value, 0, INT64_MAX,
        64),
    {.name = "hash-max-ziplist-entries", .type = OPT_INT, .flags = OPT_ALIAS,
     .off = FIELD(hash_max_listpack_entries), .min = 0, .max = INT64_MAX,
     .def = 512},
    {.name = "hash-max-ziplist-value", .type = OPT_MEMORY, .flags = OPT_ALIAS,
     .off = FIELD(hash_max_listpack_value), .min = 0, .max = INT64_MAX,
     .def = 64},
    INT("set-max-intset-entries", 0, set_max_intset_entries, 0, INT64_MAX,
        512),
};

/*
 * redis.conf directives that have no meaning here (persistence, replication
 * and encodings we do differently, OS integration the service manager
 * does).  They are accepted with any arguments and ignored.  Patterns are
 * lower-case fnmatch(3) globs, tried (on the lower-cased name) after the
 * real options.
 * Directives whose silent loss would change security or data placement
 * (rename-command, user, aclfile, loadmodule, replicaof, cluster-*, tls-*)
 * are deliberately absent: they stay errors.
 */
static const char *const ignored_directives[] = {
    /* snapshots and AOF tuning */
    "rdbcompression", "rdbchecksum", "rdb-*",
    "aof-*", "auto-aof-*",
    "no-appendfsync-on-rewrite",
    /* process and OS integration */
    "supervised", "always-show-logo", "set-proc-title",
    "proc-title-template", "syslog-*", "oom-score-adj*", "disable-thp",
    "jemalloc-bg-thread", "io-threads*", "*_cpulist", "unixsocket*", "tcp-*",
    "crash-log-enabled", "crash-memcheck-enabled", "shutdown-*",
    "watchdog-period", "ignore-warnings", "bind-source-addr",
    "enable-module-command", "socket-mark-id",
    /* replication (replicaof itself is refused) */
    "replica-*", "slave-*", "repl-*", "min-replicas-*", "min-slaves-*",
    "masterauth", "masteruser", "propagation-error-behavior",
    /* encodings, memory and CPU tuning */
    "lazyfree-*", "list-*", "set-*", "zset-*", "stream-node-*",
    "hll-sparse-max-bytes", "activerehashing", "activedefrag",
    "active-defrag-*", "active-expire-effort", "dynamic-hz",
    "maxmemory-eviction-tenacity", "tracking-table-max-keys",
    "busy-reply-threshold", "lua-time-limit", "lua-replicate-commands",
    "sanitize-dump-payload", "loading-process-events-interval-bytes",
    /* introspection we do not offer */
    "notify-keyspace-events", "slowlog-*", "latency-*", "acllog-max-len",
    "acl-pubsub-default",
};

/* -------------------------------------------------------------- helpers */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int64_t *int_field(struct akv_config *cfg, const struct option *o)
{
    return (int64_t *)(void *)((char *)cfg + o->off);
}

static const int64_t *int_field_c(const struct akv_config *cfg,
                                  const struct option *o)
{
    return (const int64_t *)(const void *)((const char *)cfg + o->off);
}

static char *str_field(struct akv_config *cfg, const struct option *o)
{
    return (char *)cfg + o->off;
}

static const char *str_field_c(const struct akv_config *cfg,
                               const struct option *o)
{
    return (const char *)cfg + o->off;
}

/* Redis's string2ll: optional '-', no '+', no spaces, no leading zeros. */
static bool parse_ll(const char *s, long long *out)
{
    size_t len = strlen(s), i = 0;
    unsigned long long v = 0;
    bool neg = false;

    if (len == 0 || len > 20)
        return false;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] == '-') {
        neg = true;
        if (++i == len)
            return false;
    }
    if (s[i] < '1' || s[i] > '9')
        return false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (ULLONG_MAX - (unsigned)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
                                                      : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

/*
 * Redis's memtoull: digits, then an optional unit (b, k, kb, m, mb, g, gb;
 * any case).  Kept faithful to its corner cases: an empty digit string
 * reads as 0, a digit string too large for 64 bits saturates to
 * ULLONG_MAX; a sign, a space or an unknown unit is an error.
 */
static bool parse_memory_u64(const char *s, unsigned long long *out)
{
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1024},
        {"m", 1000 * 1000},
        {"mb", 1024 * 1024},
        {"g", 1000ULL * 1000 * 1000},
        {"gb", 1024ULL * 1024 * 1024},
    };
    unsigned long long mul = 0, v = 0;
    const char *u = s;
    bool saturated = false;

    if (*s == '-')
        return false;
    while (*u >= '0' && *u <= '9')
        u++;
    for (size_t i = 0; i < NELEM(units); i++) {
        if (strcasecmp(u, units[i].unit) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (mul == 0 || u - s >= 128)
        return false;
    for (const char *p = s; p < u; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10) {
            saturated = true;
            break;
        }
        v = v * 10 + d;
    }
    if (saturated)
        v = ULLONG_MAX;
    if (v > ULLONG_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

int akv_parse_memory(const char *s, int64_t *out)
{
    unsigned long long v;

    if (!parse_memory_u64(s, &v))
        return -EINVAL;
    if (v > (unsigned long long)INT64_MAX)
        return -ERANGE;
    *out = (int64_t)v;
    return 0;
}

static const char *enum_name_of(const struct enum_name *names, int64_t v)
{
    for (; names->name; names++)
        if (names->value == v)
            return names->name;
    return "unknown";
}

const char *akv_policy_name(int64_t policy)
{
    return enum_name_of(policy_names, policy);
}

/* Redis's pathIsBaseName. */
static bool is_basename(const char *v)
{
    return strchr(v, '/') == NULL && strchr(v, '\\') == NULL;
}

static const char *check_aof_filename(const char *v)
{
    if (*v == '\0')
        return "appendfilename can't be empty";
    if (!is_basename(v))
        return "appendfilename can't be a path, just a filename";
    return NULL;
}

static const char *check_aof_dirname(const char *v)
{
    if (*v == '\0')
        return "appenddirname can't be empty";
    if (!is_basename(v))
        return "appenddirname can't be a path, just a dirname";
    return NULL;
}

static const char *check_dbfilename(const char *v)
{
    return is_basename(v) ? NULL
                          : "dbfilename can't be a path, just a filename";
}

/* Redis treats hz as a hint: out-of-range values are clamped. */
static int64_t adjust_hz(int64_t v)
{
    return v < 1 ? 1 : v > 500 ? 500 : v;
}

/* ------------------------------------------- client-output-buffer-limit
 * Redis's syntax and defaults: "normal 0 0 0 slave 256mb 64mb 60 pubsub
 * 32mb 8mb 60"; a value names some classes and leaves the others as they
 * were; "replica" and "slave" are one class, "master" is refused. */

static int parse_mem(const struct option *o, const char *v, int64_t *out,
                     char *err, size_t errlen);
static int join_words(int argc, const char **argv, char *out, size_t cap);

static const int64_t obuf_defaults[AKV_OBUF_CLASSES][3] = {
    {0, 0, 0},
    {MB(256), MB(64), 60},
    {MB(32), MB(8), 60},
};

static const char *const obuf_class_names[AKV_OBUF_CLASSES] = {
    "normal", "slave", "pubsub"};

static void render_obuf(const struct akv_config *cfg, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int k = 0; k < AKV_OBUF_CLASSES && n < len; k++) {
        const int64_t *l = cfg->obuf_limits[k];
        n += (size_t)snprintf(buf + n, len - n, "%s%s %lld %lld %lld",
                              k ? " " : "", obuf_class_names[k],
                              (long long)l[AKV_OBUF_HARD],
                              (long long)l[AKV_OBUF_SOFT],
                              (long long)l[AKV_OBUF_SECONDS]);
    }
}

/* Redis's getClientTypeByName, for the classes a limit may name. */
static int obuf_class(const char *name)
{
    if (strcasecmp(name, "normal") == 0)
        return AKV_OBUF_NORMAL;
    if (strcasecmp(name, "slave") == 0 || strcasecmp(name, "replica") == 0)
        return AKV_OBUF_REPLICA;
    if (strcasecmp(name, "pubsub") == 0)
        return AKV_OBUF_PUBSUB;
    return -1;
}

/* One limit's numbers: memory values, and seconds as strtoll reads them
 * (the whole word, not negative). */
static bool obuf_numbers(const char *const *w, int64_t out[3])
{
    unsigned long long hard, soft;
    char *end;
    long long secs;

    if (!parse_memory_u64(w[0], &hard) || !parse_memory_u64(w[1], &soft))
        return false;
    errno = 0;
    secs = strtoll(w[2], &end, 10);
    if (*end != '\0' || (int)secs < 0)
        return false;
    out[AKV_OBUF_HARD] = hard > INT64_MAX ? INT64_MAX : (int64_t)hard;
    out[AKV_OBUF_SOFT] = soft > INT64_MAX ? INT64_MAX : (int64_t)soft;
    out[AKV_OBUF_SECONDS] = (int)secs;
    return true;
}

#define OBUF_MAX_WORDS 48

/* Split the joined value on single spaces, as Redis splits a multi-word
 * CONFIG SET value (two spaces make an empty word). */
static int obuf_words(const char *joined, char *buf, size_t cap,
                      const char **w)
{
    int n = 0;

    if (strlen(joined) >= cap)
        return -1;
    strcpy(buf, joined);
    for (char *p = buf;; p++) {
        char *sp = strchr(p, ' ');
        if (n == OBUF_MAX_WORDS)
            return -1;
        w[n++] = p;
        if (!sp)
            break;
        *sp = '\0';
        p = sp;
    }
    return n;
}

static int set_obuf(struct akv_config *cfg, int argc, const char **argv,
                    char *err, size_t errlen)
{
    char joined[AKV_CFG_STR * 2], buf[AKV_CFG_STR * 2];
    const char *w[OBUF_MAX_WORDS];
    int64_t next[AKV_OBUF_CLASSES][3];
    int n;

    if (join_words(argc, argv, joined, sizeof(joined)) < 0 ||
        (n = obuf_words(joined, buf, sizeof(buf), w)) < 0 || n % 4)
        return fail(err, errlen, "Wrong number of arguments in buffer "
                    "limit configuration.");
    memcpy(next, cfg->obuf_limits, sizeof(next));
    for (int j = 0; j < n; j += 4) {
        int k = obuf_class(w[j]);
        if (k < 0)
            return fail(err, errlen, "Invalid client class specified in "
                        "buffer limit configuration.");
        if (!obuf_numbers(w + j + 1, next[k]))
            return fail(err, errlen, "Error in hard, soft or soft_seconds "
                        "setting in buffer limit configuration.");
    }
    memcpy(cfg->obuf_limits, next, sizeof(next));
    return 0;
}

/* maxmemory-clients: a memory value, or "N%" of maxmemory (0..100). */
static int parse_mempct(const struct option *o, const char *v, int64_t *out,
                        char *err, size_t errlen)
{
    size_t len = strlen(v);
    long long pct;
    char num[32];

    if (len > 1 && len < sizeof(num) && v[len - 1] == '%') {
        memcpy(num, v, len - 1);
        num[len - 1] = '\0';
        if (parse_ll(num, &pct) && pct >= 0) {
            if (-pct < o->min)
                return fail(err, errlen, "percentage argument must be less "
                            "or equal to %lld", (long long)-o->min);
            *out = -pct;
            return 0;
        }
    }
    if (parse_mem(o, v, out, err, errlen) < 0)
        return fail(err, errlen, "argument must be a memory or percent "
                    "value");
    return 0;
}

/* ----------------------------------------------------------- the table */

const char *akv_config_name(size_t i)
{
    return i < NELEM(options) ? options[i].name : NULL;
}

int akv_config_find(const char *name)
{
    for (size_t i = 0; i < NELEM(options); i++)
        if (strcasecmp(options[i].name, name) == 0)
            return (int)i;
    return -1;
}

int akv_config_primary(int i)
{
    if (i < 0 || (size_t)i >= NELEM(options) ||
        !(options[i].flags & OPT_ALIAS))
        return i;
    for (size_t j = 0; j < NELEM(options); j++)
        if (!(options[j].flags & OPT_ALIAS) && options[j].off == options[i].off)
            return (int)j;
    return i;
}

int akv_config_is_immutable(size_t i)
{
    return i < NELEM(options) && (options[i].flags & OPT_IMMUTABLE);
}

int akv_config_is_multi_arg(size_t i)
{
    return i < NELEM(options) && (options[i].flags & OPT_MULTI_ARG);
}

int akv_config_is_default(const struct akv_config *cfg, size_t i)
{
    const struct option *o;

    if (i >= NELEM(options))
        return 0;
    o = &options[i];
    if (o->type == OPT_STRING)
        return strcmp(str_field_c(cfg, o), o->def_str) == 0;
    return *int_field_c(cfg, o) == o->def;
}

void akv_config_defaults(struct akv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NELEM(options); i++) {
        const struct option *o = &options[i];
        if (o->type == OPT_STRING)
            snprintf(str_field(cfg, o), o->cap, "%s", o->def_str);
        else if (o->type == OPT_OBUF)
            memcpy(cfg->obuf_limits, obuf_defaults, sizeof(obuf_defaults));
        else
            *int_field(cfg, o) = o->def;
    }
}

void akv_config_render(const struct akv_config *cfg, size_t i, char *buf,
                       size_t len)
{
    const struct option *o;
    int64_t v;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (i >= NELEM(options))
        return;
    o = &options[i];
    if (o->type == OPT_STRING) {
        snprintf(buf, len, "%s", str_field_c(cfg, o));
        return;
    }
    if (o->type == OPT_OBUF) {
        render_obuf(cfg, buf, len);
        return;
    }
    v = *int_field_c(cfg, o);
    if (o->type == OPT_MEMPCT && v < 0) {
        snprintf(buf, len, "%lld%%", (long long)-v);
        return;
    }
    switch (o->type) {
    case OPT_BOOL:
        snprintf(buf, len, "%s", v ? "yes" : "no");
        break;
    case OPT_ENUM:
        snprintf(buf, len, "%s", enum_name_of(o->names, v));
        break;
    default:
        snprintf(buf, len, "%lld", (long long)v);
        break;
    }
}

/* Quote s as Redis's sdscatrepr does: "...", with \\ \" \n \r \t \a
 * \b escaped and other non-printable bytes as \xHH. */
static void quote_repr(const char *s, char *buf, size_t len)
{
    size_t n = 0;

#define OUT(...)                                                           \
    do {                                                                   \
        if (n < len)                                                       \
            n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);          \
    } while (0)
    OUT("\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '\\': OUT("\\\\"); break;
        case '"': OUT("\\\""); break;
        case '\n': OUT("\\n"); break;
        case '\r': OUT("\\r"); break;
        case '\t': OUT("\\t"); break;
        case '\a': OUT("\\a"); break;
        case '\b': OUT("\\b"); break;
        default:
            if (isprint(c))
                OUT("%c", c);
            else
                OUT("\\x%02x", c);
            break;
        }
    }
    OUT("\"");
#undef OUT
}

void akv_config_render_conf(const struct akv_config *cfg, size_t i,
                            char *buf, size_t len)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"gb", GB(1)}, {"mb", MB(1)}, {"kb", KB(1)}};
    const struct option *o;
    int64_t v;

    if (len == 0 || i >= NELEM(options))
        return;
    o = &options[i];
    if (o->type == OPT_STRING) {
        if (o->flags & OPT_MULTI_ARG)
            snprintf(buf, len, "%s", str_field_c(cfg, o));
        else
            quote_repr(str_field_c(cfg, o), buf, len);
        return;
    }
    v = *int_field_c(cfg, o);
    if (o->type == OPT_MEMORY && v > 0) {
        for (size_t u = 0; u < NELEM(units); u++) {
            if (v % units[u].mul == 0) {
                snprintf(buf, len, "%lld%s", (long long)(v / units[u].mul),
                         units[u].unit);
                return;
            }
        }
    }
    akv_config_render(cfg, i, buf, len);
}

/* ------------------------------------------------------------- setting */

static int range_error(const struct option *o, char *err, size_t errlen)
{
    return fail(err, errlen, "argument must be between %lld and %lld "
                "inclusive", (long long)o->min, (long long)o->max);
}

static int parse_bool(const char *v, int64_t *out, char *err, size_t errlen)
{
    if (strcasecmp(v, "yes") == 0)
        *out = 1;
    else if (strcasecmp(v, "no") == 0)
        *out = 0;
    else
        return fail(err, errlen, "argument must be 'yes' or 'no'");
    return 0;
}

static int parse_enum(const struct option *o, const char *v, int64_t *out,
                      char *err, size_t errlen)
{
    bool first = true;
    size_t n;

    for (const struct enum_name *e = o->names; e->name; e++) {
        if (strcasecmp(e->name, v) == 0) {
            *out = e->value;
            return 0;
        }
    }
    n = (size_t)snprintf(err, errlen,
                         "argument(s) must be one of the following: ");
    for (const struct enum_name *e = o->names; e->name; e++) {
        if (e->unlisted)
            continue;
        if (n < errlen)
            n += (size_t)snprintf(err + n, errlen - n, "%s%s",
                                  first ? "" : ", ", e->name);
        first = false;
    }
    return -1;
}

static int parse_int(const struct option *o, const char *v, int64_t *out,
                     char *err, size_t errlen)
{
    long long ll;

    if (!parse_ll(v, &ll))
        return fail(err, errlen,
                    "argument couldn't be parsed into an integer");
    if (ll < o->min || ll > o->max)
        return range_error(o, err, errlen);
    *out = o->adjust ? o->adjust(ll) : ll;
    return 0;
}

static int parse_mem(const struct option *o, const char *v, int64_t *out,
                     char *err, size_t errlen)
{
    unsigned long long u;

    if (!parse_memory_u64(v, &u))
        return fail(err, errlen, "argument must be a memory value");
    if (u > (unsigned long long)INT64_MAX || (int64_t)u < o->min ||
        (int64_t)u > o->max)
        return range_error(o, err, errlen);
    *out = (int64_t)u;
    return 0;
}

/* Joins argv with single spaces into out (cap bytes). */
static int join_words(int argc, const char **argv, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (n + (i > 0) + l >= cap)
            return -1;
        if (i > 0)
            out[n++] = ' ';
        memcpy(out + n, argv[i], l + 1);
        n += l;
    }
    return 0;
}

static size_t count_words(const char *s)
{
    size_t n = 0;

    while (*s) {
        while (*s == ' ')
            s++;
        if (*s)
            n++;
        while (*s && *s != ' ')
            s++;
    }
    return n;
}

static int set_string(struct akv_config *cfg, const struct option *o,
                      int argc, const char **argv, char *err, size_t errlen)
{
    char tmp[AKV_CFG_PATH > AKV_CFG_STR ? AKV_CFG_PATH : AKV_CFG_STR];
    const char *reason;

    if (o->cap > sizeof(tmp) || join_words(argc, argv, tmp, o->cap) < 0)
        return fail(err, errlen, "argument is too long (at most %zu bytes)",
                    o->cap - 1);
    if ((o->flags & OPT_MULTI_ARG) && count_words(tmp) > MAX_BIND_ADDRS)
        return fail(err, errlen, "Too many bind addresses specified.");
    if (o->check && (reason = o->check(tmp)) != NULL)
        return fail(err, errlen, "%s", reason);
    memcpy(str_field(cfg, o), tmp, strlen(tmp) + 1);
    return 0;
}

int akv_config_set(struct akv_config *cfg, const char *name, int argc,
                   const char **argv, int live, char *err, size_t errlen)
{
    const struct option *o;
    int64_t v = 0;
    int i = akv_config_find(name), r;

    if (i < 0)
        return fail(err, errlen, "Unknown option");
    o = &options[i];
    if (live && (o->flags & OPT_PROTECTED) && !(live & AKV_CFG_PROTECTED_OK))
        return fail(err, errlen, "can't set protected config");
    if (live && (o->flags & OPT_IMMUTABLE))
        return fail(err, errlen, "can't set immutable config");
    if (!(o->flags & OPT_MULTI_ARG) && argc != 1)
        return fail(err, errlen, "wrong number of arguments");
    if (o->type == OPT_STRING)
        return set_string(cfg, o, argc, argv, err, errlen);
    if (o->type == OPT_OBUF)
        return set_obuf(cfg, argc, argv, err, errlen);
    switch (o->type) {
    case OPT_MEMPCT:
        r = parse_mempct(o, argv[0], &v, err, errlen);
        break;
    case OPT_BOOL:
        r = parse_bool(argv[0], &v, err, errlen);
        break;
    case OPT_ENUM:
        r = parse_enum(o, argv[0], &v, err, errlen);
        break;
    case OPT_INT:
        r = parse_int(o, argv[0], &v, err, errlen);
        break;
    default:
        r = parse_mem(o, argv[0], &v, err, errlen);
        break;
    }
    if (r == 0)
        *int_field(cfg, o) = v;
    return r;
}

/* ------------------------------------------------------- argument split */

static bool is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return (tolower((unsigned char)c) - 'a') + 10;
}

/*
 * The rules of Redis's sdssplitargs, on a length-delimited line.  As in
 * Redis a NUL byte ends the line.  Outside quotes a token ends at space,
 * tab, CR, LF or the end; quotes may open in the middle of a token; a
 * closing quote must be followed by white space or the end.  Inside "..."
 * the escapes \xHH \n \r \t \b \a and \<any> apply; inside '...' only \'.
 */
int akv_split_args(const char *line, size_t linelen, char **argv,
                   size_t *lens, int max, char *buf, size_t buflen)
{
    size_t p = 0, o = 0;
    int argc = 0;

#define AT(i) ((i) < linelen ? line[i] : '\0')
#define PUT(c)                                                             \
    do {                                                                   \
        if (o >= buflen)                                                   \
            return -2;                                                     \
        buf[o++] = (char)(c);                                              \
    } while (0)

    for (;;) {
        size_t start;
        bool inq = false, insq = false, done = false;

        while (AT(p) && isspace((unsigned char)AT(p)))
            p++;
        if (!AT(p))
            return argc;
        if (argc >= max)
            return -2;
        start = o;
        while (!done) {
            char c = AT(p);
            if (inq) {
                if (c == '\\' && AT(p + 1) == 'x' && is_hex(AT(p + 2)) &&
                    is_hex(AT(p + 3))) {
                    PUT(hex_val(AT(p + 2)) * 16 + hex_val(AT(p + 3)));
                    p += 3;
                } else if (c == '\\' && AT(p + 1)) {
                    char e;

                    p++;
                    e = AT(p);
                    switch (e) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: break;
                    }
                    PUT(e);
                } else if (c == '"') {
                    if (AT(p + 1) && !isspace((unsigned char)AT(p + 1)))
                        return -1;
                    done = true;
                } else if (!c) {
                    return -1;
                } else {
                    PUT(c);
                }
            } else if (insq) {
                if (c == '\\' && AT(p + 1) == '\'') {
                    p++;
                    PUT('\'');
                } else if (c == '\'') {
                    if (AT(p + 1) && !isspace((unsigned char)AT(p + 1)))
                        return -1;
                    done = true;
                } else if (!c) {
                    return -1;
                } else {
                    PUT(c);
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    done = true;
                    break;
                case '"':
                    inq = true;
                    break;
                case '\'':
                    insq = true;
                    break;
                default:
                    PUT(c);
                    break;
                }
            }
            if (AT(p))
                p++;
        }
        if (lens)
            lens[argc] = o - start;
        PUT('\0');
        argv[argc++] = buf + start;
    }
#undef PUT
#undef AT
}

/* Splits s into freshly allocated storage; *argvp and *bufp are to be
 * freed by the caller.  Returns argc or -1 (unbalanced quotes / ENOMEM:
 * *argvp is NULL for the latter). */
static int split_alloc(const char *s, size_t len, char ***argvp, char **bufp)
{
    int max = (int)(len / 2 + 2);
    int n;

    *argvp = malloc(sizeof(char *) * (size_t)max);
    *bufp = malloc(len + 1);
    if (!*argvp || !*bufp) {
        free(*argvp);
        free(*bufp);
        *argvp = NULL;
        *bufp = NULL;
        return -1;
    }
    n = akv_split_args(s, len, *argvp, NULL, max, *bufp, len + 1);
    return n < 0 ? -1 : n;
}

/* --------------------------------------------------------- directives */

struct loader {
    struct akv_config *cfg;
    int depth;
    char *err;
    size_t errlen;
};

static int load_path(struct loader *ld, const char *path);

static bool is_ignored(const char *name)
{
    char lower[64];
    size_t n = strlen(name);

    if (n >= sizeof(lower))
        return false;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < NELEM(ignored_directives); i++)
        if (fnmatch(ignored_directives[i], lower, 0) == 0)
            return true;
    return false;
}

/*
 * Applies one directive (argv[0] is its name).  Returns 0; -1 with the
 * bare reason in reason[]; or -2 when the error message is already
 * complete in ld->err (an error inside an included file).
 */
static int apply_directive(struct loader *ld, int argc, char **argv,
                           char *reason, size_t rlen)
{
    if (akv_config_find(argv[0]) >= 0)
        return akv_config_set(ld->cfg, argv[0], argc - 1,
                              (const char **)(argv + 1), 0, reason, rlen);
    if (strcasecmp(argv[0], "include") == 0 && argc == 2)
        return load_path(ld, argv[1]) < 0 ? -2 : 0;
    if (is_ignored(argv[0]))
        return 0;
    return fail(reason, rlen, "Bad directive or wrong number of arguments");
}

/* Handles one line of a file; where is "file:line". */
static int load_line(struct loader *ld, char *s, size_t len,
                     const char *where)
{
    char reason[512];
    char **argv, *buf;
    int argc, r = 0;

    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    while (len && strchr(" \t\r\n", s[0])) {
        s++;
        len--;
    }
    if (len == 0 || s[0] == '#')
        return 0;
    argc = split_alloc(s, len, &argv, &buf);
    if (argc < 0) {
        r = fail(ld->err, ld->errlen, "%s: %s", where, argv
                 ? "Unbalanced quotes in configuration line"
                 : "out of memory");
    } else if (argc > 0) {
        r = apply_directive(ld, argc, argv, reason, sizeof(reason));
        if (r == -1)
            fail(ld->err, ld->errlen, "%s: %s: %s", where, argv[0], reason);
    }
    free(argv);
    free(buf);
    return r < 0 ? -1 : 0;
}

static int load_stream(struct loader *ld, FILE *fp, const char *name)
{
    char where[600];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, r = 0;

    while (r == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%d", name, lineno);
        r = load_line(ld, line, (size_t)n, where);
    }
    if (r == 0 && ferror(fp))
        r = fail(ld->err, ld->errlen, "%s: read error: %s", name,
                 strerror(errno));
    free(line);
    return r;
}

static int load_one_file(struct loader *ld, const char *path)
{
    FILE *fp = fopen(path, "r");
    int r;

    if (!fp)
        return fail(ld->err, ld->errlen, "can't open config file '%s': %s",
                    path, strerror(errno));
    r = load_stream(ld, fp, path);
    fclose(fp);
    return r;
}

/* A path with glob characters loads every match (none is fine), as Redis's
 * include does; a plain path must exist. */
static int load_path(struct loader *ld, const char *path)
{
    glob_t g;
    int r = 0;

    if (ld->depth >= MAX_INCLUDE_DEPTH)
        return fail(ld->err, ld->errlen, "'%s': includes nested deeper "
                    "than %d (does a file include itself?)", path,
                    MAX_INCLUDE_DEPTH);
    ld->depth++;
    if (!strpbrk(path, "*?[")) {
        r = load_one_file(ld, path);
    } else if ((r = glob(path, 0, NULL, &g)) == 0) {
        for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
            r = load_one_file(ld, g.gl_pathv[i]);
        globfree(&g);
    } else {
        r = r == GLOB_NOMATCH ? 0
                              : fail(ld->err, ld->errlen,
                                     "can't expand config file pattern '%s'",
                                     path);
    }
    ld->depth--;
    return r;
}

int akv_config_load_file(struct akv_config *cfg, const char *path,
                         char *err, size_t errlen)
{
    struct loader ld = {cfg, 0, err, errlen};

    return load_path(&ld, path);
}

/* ---------------------------------------------------------- command line */

/* One directive gathered from the command line. */
struct cmdline_directive {
    const char *shown; /* the word that started it, for messages */
    char **words;      /* name then arguments */
    int nwords, cap;
    char **split_argv; /* storage when "--name value" came as one word */
    char *split_buf;
};

static int add_word(struct cmdline_directive *d, char *w)
{
    if (d->nwords == d->cap) {
        int cap = d->cap ? d->cap * 2 : 8;
        char **nw = realloc(d->words, sizeof(char *) * (size_t)cap);
        if (!nw)
            return -1;
        d->words = nw;
        d->cap = cap;
    }
    d->words[d->nwords++] = w;
    return 0;
}

static void reset_directive(struct cmdline_directive *d)
{
    free(d->split_argv);
    free(d->split_buf);
    d->split_argv = NULL;
    d->split_buf = NULL;
    d->nwords = 0;
    d->shown = NULL;
}

static int flush_directive(struct loader *ld, struct cmdline_directive *d)
{
    char reason[512];
    int r = 0;

    if (d->nwords > 0) {
        r = apply_directive(ld, d->nwords, d->words, reason, sizeof(reason));
        if (r == -1)
            fail(ld->err, ld->errlen, "%s: %s", d->shown, reason);
    }
    reset_directive(d);
    return r < 0 ? -1 : 0;
}

/* Starts a directive at "--name" (or "--name value ..." in one word).
 * Returns the number of words it holds, or -1. */
static int start_directive(struct loader *ld, struct cmdline_directive *d,
                           char *arg)
{
    char *body = arg + 2;
    int n;

    d->shown = arg;
    if (!strpbrk(body, " \t\r\n"))
        return add_word(d, body) < 0 ? -1 : 1;
    n = split_alloc(body, strlen(body), &d->split_argv, &d->split_buf);
    if (n < 0)
        return fail(ld->err, ld->errlen, "%s: %s", arg,
                    "Unbalanced quotes in configuration line");
    if (n == 0)
        return add_word(d, body) < 0 ? -1 : 1;
    for (int i = 0; i < n; i++)
        if (add_word(d, d->split_argv[i]) < 0)
            return -1;
    return n;
}

static bool is_stdin_marker(int i, int argc, char **argv)
{
    return strcmp(argv[i], "-") == 0 && (i == 1 || i == argc - 1);
}

/*
 * redis-server's rules: a first argument not starting with '-' is a config
 * file; "-" as the first or last argument reads one from stdin; then each
 * "--name" starts a directive and the words after it are its arguments.
 * The word right after "--name" is always an argument, even if it starts
 * with "--" (so "--requirepass --secret" works); a word that is not an
 * argument of anything is taken as a directive name.  File and stdin are
 * applied first, then the options in order, as if appended to the file.
 */
int akv_config_load_argv(struct akv_config *cfg, int argc, char **argv,
                         char *err, size_t errlen)
{
    struct loader ld = {cfg, 0, err, errlen};
    struct cmdline_directive d;
    bool value_next = false;
    int i = 1, r = 0;

    if (argc > 1 && argv[1][0] != '-') {
        if (load_path(&ld, argv[1]) < 0)
            return -1;
        i = 2;
    }
    for (int j = i; j < argc; j++) {
        if (is_stdin_marker(j, argc, argv)) {
            if (load_stream(&ld, stdin, "(stdin)") < 0)
                return -1;
            break;
        }
    }
    memset(&d, 0, sizeof(d));
    for (; r == 0 && i < argc; i++) {
        char *a = argv[i];
        if (is_stdin_marker(i, argc, argv)) {
            continue;
        } else if (!value_next && a[0] == '-' && a[1] == '-') {
            if ((r = flush_directive(&ld, &d)) < 0)
                break;
            int n = start_directive(&ld, &d, a);
            if (n < 0) {
                r = n;
                break;
            }
            /* As redis-server: a bare "--save" followed by another option
             * means save "", it does not swallow that option. */
            value_next = n == 1 &&
                         !(strcasecmp(a, "--save") == 0 && i + 1 < argc &&
                           strncmp(argv[i + 1], "--", 2) == 0);
        } else {
            if (d.nwords == 0)
                d.shown = a;
            if (add_word(&d, a) < 0)
                r = fail(err, errlen, "out of memory");
            value_next = false;
        }
    }
    if (r == 0)
        r = flush_directive(&ld, &d);
    reset_directive(&d);
    free(d.words);
    return r;
}
