/*
 * config.h -- the configuration shared by supervisor and workers.
 *
 * struct akv_config lives inside the arena header (h_cfg), so CONFIG SET in
 * one worker is seen by all.  Numeric fields are read without a lock (they
 * are naturally aligned and written with one store); string fields are read
 * and written under h_cfg_mutex through akv_config_get_string().
 */
#ifndef AKV_CONFIG_H
#define AKV_CONFIG_H

#include <stdint.h>
#include <stddef.h>

enum akv_loglevel {
    AKV_LOG_DEBUG = 0,
    AKV_LOG_VERBOSE = 1,
    AKV_LOG_NOTICE = 2,
    AKV_LOG_WARNING = 3,
    AKV_LOG_NOTHING = 4,
};

enum akv_maxmemory_policy {
    AKV_MM_NOEVICTION = 0,
    AKV_MM_ALLKEYS_LRU,
    AKV_MM_VOLATILE_LRU,
    AKV_MM_ALLKEYS_LFU,
    AKV_MM_VOLATILE_LFU,
    AKV_MM_ALLKEYS_RANDOM,
    AKV_MM_VOLATILE_RANDOM,
    AKV_MM_VOLATILE_TTL,
};

enum akv_appendfsync {
    AKV_FSYNC_ALWAYS = 0,
    AKV_FSYNC_EVERYSEC = 1,
    AKV_FSYNC_NO = 2,
};

/* enable-debug-command: no, yes, or only from loopback/unix connections. */
enum akv_enable {
    AKV_ENABLE_NO = 0,
    AKV_ENABLE_YES = 1,
    AKV_ENABLE_LOCAL = 2,
};

/* Highest maxclients (the arena has a client slot for each, arena.h). */
#define AKV_MAXCLIENTS_MAX 10240

/* Classes of client-output-buffer-limit, in Redis's order. */
enum akv_obuf_class {
    AKV_OBUF_NORMAL = 0,
    AKV_OBUF_REPLICA = 1,
    AKV_OBUF_PUBSUB = 2,
    AKV_OBUF_CLASSES = 3,
};
enum { AKV_OBUF_HARD = 0, AKV_OBUF_SOFT = 1, AKV_OBUF_SECONDS = 2 };

#define AKV_CFG_STR 256
#define AKV_CFG_PATH 512

struct akv_config {
    int64_t port;
    int64_t databases;
    int64_t maxclients;
    int64_t timeout;
    int64_t hz;
    int64_t maxmemory;
    int64_t maxmemory_policy;
    int64_t maxmemory_samples;
    int64_t lfu_log_factor;
    int64_t lfu_decay_time;
    int64_t arena_size;
    int64_t proto_max_bulk_len;
    int64_t client_query_buffer_limit;
    int64_t loglevel;
    int64_t daemonize;
    int64_t appendonly;
    int64_t appendfsync;
    int64_t tcp_backlog;
    int64_t tcp_keepalive;
    char bind[AKV_CFG_STR];
    char dir[AKV_CFG_PATH];
    char arena[AKV_CFG_PATH];
    char logfile[AKV_CFG_PATH];
    char pidfile[AKV_CFG_PATH];
    char requirepass[AKV_CFG_STR];
    char appendfilename[AKV_CFG_STR];
    char appenddirname[AKV_CFG_STR];
    int64_t enable_debug_command; /* enum akv_enable */
    char save[AKV_CFG_STR];       /* snapshot rules, as CONFIG GET shows */
    int64_t aof_ring_size;        /* bytes of the AOF ring in the arena */
    char dbfilename[AKV_CFG_STR]; /* snapshot file in dir (SQLite) */
    int64_t auto_aof_rewrite_percentage;
    int64_t auto_aof_rewrite_min_size;
    int64_t stop_writes_on_bgsave_error; /* refuse writes after a failed
                                          * save (with save rules set) */
    /* client-output-buffer-limit: per class, hard and soft limits in
     * bytes and the soft limit's seconds (0: no limit). */
    int64_t obuf_limits[AKV_OBUF_CLASSES][3];
    /* maxmemory-clients: bytes, or minus a percentage of maxmemory. */
    int64_t maxmemory_clients;
    int64_t protected_mode;           /* only loopback clients without a
                                       * password */
    int64_t enable_protected_configs; /* enum akv_enable: CONFIG SET of
                                       * dir, dbfilename */
    int64_t arena_shared_group;       /* files 0660, group may write */
    /* lazyfree-lazy-*: accepted as in Redis 7.0; large containers are
     * freed in steps after their commit whatever they say (container.c). */
    int64_t lazyfree_lazy_eviction;
    int64_t lazyfree_lazy_expire;
    int64_t lazyfree_lazy_server_del;
    int64_t lazyfree_lazy_user_del;
    int64_t lazyfree_lazy_user_flush;
    /* Hashes stay packed while both hold (t_hash.c). */
    int64_t hash_max_listpack_entries;
    int64_t hash_max_listpack_value;  /* bytes of a field or a value */
    int64_t set_max_intset_entries;   /* sets: intset up to this many */
    /* Not an option: the absolute path of the file the supervisor was
     * started with ("" if none), for INFO's config_file. */
    char config_file[AKV_CFG_PATH];
};

/* Effective maxmemory-clients in bytes (0: no limit). */
static inline int64_t akv_maxmemory_clients(const struct akv_config *cfg)
{
    if (cfg->maxmemory_clients >= 0)
        return cfg->maxmemory_clients;
    return cfg->maxmemory / 100 * -cfg->maxmemory_clients;
}

/* Fill cfg with defaults. */
void akv_config_defaults(struct akv_config *cfg);

/* Load "name arg..." lines from a redis.conf-style file.  Returns 0, or -1
 * with a message in err (file:line: reason). */
int akv_config_load_file(struct akv_config *cfg, const char *path,
                         char *err, size_t errlen);

/* Apply argv in redis-server's form: [configfile] [--name value...].
 * argv is main()'s: argv[0] (the program name) is skipped.  The caller
 * removes its own flags (--help, --reset-arena, ...) first.  Returns 0, or
 * -1 with a message naming the option ("--port: reason") or the file
 * position ("file:line: name: reason") in err. */
int akv_config_load_argv(struct akv_config *cfg, int argc, char **argv,
                         char *err, size_t errlen);

/* Set one option from its textual arguments (as CONFIG SET and config
 * files do).  live != 0 (AKV_CFG_LIVE) refuses options that cannot change
 * at run time, and protected ones (dir, dbfilename) unless live also has
 * AKV_CFG_PROTECTED_OK (enable-protected-configs allows this client).
 * Returns 0, or -1 with the Redis-style reason in err. */
#define AKV_CFG_LIVE 1
#define AKV_CFG_PROTECTED_OK 2
int akv_config_set(struct akv_config *cfg, const char *name, int argc,
                   const char **argv, int live, char *err, size_t errlen);

/* Iterate option names: returns the name at index i or NULL past the end. */
const char *akv_config_name(size_t i);
/* Render option i's value as CONFIG GET does. */
void akv_config_render(const struct akv_config *cfg, size_t i, char *buf,
                       size_t len);
/* Find an option by name (case-insensitive, aliases included); -1 if none. */
int akv_config_find(const char *name);
/* Nonzero if option i cannot change at run time (CONFIG SET refuses it). */
int akv_config_is_immutable(size_t i);
/* The option an alias names (its own index for a primary name or -1). */
int akv_config_primary(int i);
/* Render option i's value as a config file line's arguments: strings
 * quoted (as Redis's CONFIG REWRITE does), words of bind and save as
 * they are, memory values with the largest exact unit (100mb). */
void akv_config_render_conf(const struct akv_config *cfg, size_t i,
                            char *buf, size_t len);
/* Nonzero if option i holds its default value in cfg. */
int akv_config_is_default(const struct akv_config *cfg, size_t i);
/* Nonzero if option i takes several words (bind, save): CONFIG REWRITE
 * writes their value unquoted. */
int akv_config_is_multi_arg(size_t i);

/* Parse a memory quantity ("100mb", "1gb", "42") as redis.conf does.
 * Returns 0, -EINVAL if it is not one, -ERANGE if above INT64_MAX. */
int akv_parse_memory(const char *s, int64_t *out);

const char *akv_policy_name(int64_t policy);

/* Split a line as redis.conf / redis-cli do (quotes, escapes).  Returns the
 * number of arguments stored (at most max), or -1 on unbalanced quotes.
 * Arguments are written NUL-terminated into buf; lens (may be NULL) gets
 * their lengths, which count NUL bytes made by \x00 escapes.  linelen + 1
 * bytes of buf and linelen / 2 + 1 slots of argv always suffice; with less,
 * -2 is returned when they run out. */
int akv_split_args(const char *line, size_t linelen, char **argv, size_t *lens,
                   int max, char *buf, size_t buflen);

#endif
