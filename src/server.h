/*
 * server.h -- the client (one per worker process), the command table and
 * the helpers command handlers share.
 */
#ifndef AKV_SERVER_H
#define AKV_SERVER_H

#include "keyspace.h"
#include "reply.h"
#include "resp.h"

struct akv_command;

/* A connection, as its worker process sees it.  Process-private: what
 * other processes need (CLIENT LIST, liveness) is mirrored in the arena's
 * client slot (ctx.cs). */
struct akv_client {
    struct akv_ctx ctx;
    struct akv_op op;
    struct akv_op evict_op;   /* scratch for evictions during `op` */
    struct akv_reply reply;
    struct akv_parser parser;
    int fd_in, fd_out;
    int db;
    bool authed;
    bool local;               /* loopback or unix peer (protect.c) */
    bool close_after_reply;
    bool shutdown_requested;
    int argc;
    const char **argv;
    const size_t *argl;
    const struct akv_command *cmd; /* the command (or subcommand) running */
    const struct akv_command *last_cmd; /* the one named in the slot */
    /* Hashes of the running command's keys, by argv index, computed once
     * by the dispatcher (valid at the table's key positions). */
    uint32_t *key_hash;
    int key_hash_cap;
    int key_first, key_last, key_step; /* 0: the command names no key */
    /* The handler asks to be run again holding the snapshot barrier
     * (akv_rerun_with_barrier). */
    bool rerun_barrier;
};

#define AKV_CMD_WRITE 0x01
#define AKV_CMD_READONLY 0x02
#define AKV_CMD_DENYOOM 0x04
#define AKV_CMD_FAST 0x08
#define AKV_CMD_LOADING 0x10 /* allowed while the dataset loads */
#define AKV_CMD_NOAUTH 0x20  /* allowed before AUTH */
#define AKV_CMD_ADMIN 0x40
#define AKV_CMD_STALE 0x80
#define AKV_CMD_NOSCRIPT 0x100
#define AKV_CMD_PUBSUB 0x200
#define AKV_CMD_KEYSPACE 0x400
#define AKV_CMD_CONNECTION 0x800
#define AKV_CMD_ALLSTRIPES 0x1000 /* the op locks every stripe (a flush) */

typedef void akv_command_proc(struct akv_client *c);

struct akv_command {
    const char *name;
    akv_command_proc *proc;
    int arity;      /* > 0 exact, < 0 at least -arity */
    uint32_t flags;
    int first_key, last_key, key_step;
    const char *group;   /* COMMAND DOCS group */
    const char *summary; /* COMMAND DOCS summary */
    const struct akv_command *subcommands; /* NULL-name terminated */
    const char *fullname; /* "client|setname" for subcommands */
    /* > 0: argv[key_count_arg] is the number of keys, which follow it
     * (SINTERCARD numkeys key...); first/last/step are then 0, as in
     * Redis's legacy key range of commands with movable keys. */
    int key_count_arg;
};

extern const struct akv_command akv_commands[];

/* Look a command up by name (case-insensitive). */
const struct akv_command *akv_lookup_command(const char *name, size_t len);
/* Run the command in c->argc/argv, writing its reply. */
void akv_dispatch(struct akv_client *c);
size_t akv_command_count(void);

/* ---- helpers for handlers (reply-then-return on error) */
int akv_arg_ll(struct akv_client *c, int i, long long *v);
/* argv[i] as a SCAN-family cursor; replies Redis's error. */
int akv_arg_cursor(struct akv_client *c, int i, uint64_t *cur);
/* SCAN-family options from argv[from] on: COUNT n (at least 1), MATCH p
 * (pat NULL when absent or "*"), and TYPE t where with_type (SCAN only).
 * Replies Redis's error and returns AKV_ERR on a bad one. */
struct akv_scan_opts {
    long long count;
    const char *pat, *type;
    size_t plen, tlen;
};
int akv_arg_scan_opts(struct akv_client *c, int from, bool with_type,
                      struct akv_scan_opts *o);
int akv_arg_ll_msg(struct akv_client *c, int i, long long *v,
                   const char *msg);
bool akv_arg_is(const struct akv_client *c, int i, const char *lit);
void akv_reply_syntax_error(struct akv_client *c);
void akv_reply_wrong_arity(struct akv_client *c);
void akv_reply_oom(struct akv_client *c);
/* -MISCONF for a write the failing AOF refused (h_aof_write_err). */
void akv_reply_aof_misconf(struct akv_client *c);
/* The identity of key argv[i] in the client's database (its hash taken
 * from the dispatcher's when argv[i] is one of the table's keys). */
struct akv_key akv_arg_key(const struct akv_client *c, int i);
/* Look key argv[i] up in the op the dispatcher began: for a read (counts a
 * hit or a miss, touches the key), for a write (touches it), or neither. */
struct akv_entry *akv_find_read(struct akv_client *c, int i);
struct akv_entry *akv_find_write(struct akv_client *c, int i);
struct akv_entry *akv_find_notouch(struct akv_client *c, int i);
/* If e exists and is not of `type`, reply Redis's WRONGTYPE error and
 * return true. */
bool akv_wrongtype(struct akv_client *c, const struct akv_entry *e,
                   enum akv_type type);
/* TYPE's name for a type; OBJECT ENCODING's for a container encoding. */
const char *akv_type_name(enum akv_type type);
const char *akv_enc_name(enum akv_enc enc);
/* Stage a new entry for key k with vlen value bytes (room >= vlen to grow
 * in place), evicting first if maxmemory requires it.  On no memory it
 * replies the OOM error, discards the op's writes and returns NULL. */
struct akv_entry *akv_stage_entry(struct akv_client *c,
                                  const struct akv_key *k, size_t vlen,
                                  size_t room, int64_t expire);
/* Stage a string value for key k (replacing `old` if given). */
struct akv_entry *akv_put_string(struct akv_client *c, const struct akv_key *k,
                                 const char *val, size_t vlen,
                                 struct akv_entry *old, int64_t expire);
/* Stage key k's string grown to nlen bytes (nlen >= old's length): the
 * old bytes (none if old is NULL), zeros after them, old's TTL, reported
 * "raw".  For writes that change bytes inside a string (SETRANGE, SETBIT,
 * BITFIELD); NULL when the OOM error is replied. */
struct akv_entry *akv_put_string_padded(struct akv_client *c,
                                        const struct akv_key *k,
                                        struct akv_entry *old, size_t nlen);
/* The same with room for the value to grow to `room` bytes in place. */
struct akv_entry *akv_put_string_room(struct akv_client *c,
                                      const struct akv_key *k,
                                      const char *val, size_t vlen,
                                      size_t room, struct akv_entry *old,
                                      int64_t expire);

/* ---- handler families */
/* t_string.c */
akv_command_proc akv_get_command, akv_set_command, akv_setnx_command,
    akv_setex_command, akv_psetex_command, akv_getset_command,
    akv_getdel_command, akv_getex_command, akv_mget_command,
    akv_mset_command, akv_msetnx_command, akv_append_command,
    akv_strlen_command, akv_getrange_command, akv_setrange_command,
    akv_incr_command, akv_decr_command, akv_incrby_command,
    akv_decrby_command, akv_incrbyfloat_command;
/* t_bitops.c */
akv_command_proc akv_setbit_command, akv_getbit_command, akv_bitcount_command,
    akv_bitpos_command, akv_bitop_command;
/* t_lcs.c */
akv_command_proc akv_lcs_command;
/* t_bitfield.c */
akv_command_proc akv_bitfield_command, akv_bitfield_ro_command;
/* t_hash.c */
akv_command_proc akv_hset_command, akv_hsetnx_command, akv_hmset_command,
    akv_hget_command, akv_hmget_command, akv_hdel_command, akv_hlen_command,
    akv_hstrlen_command, akv_hexists_command, akv_hkeys_command,
    akv_hvals_command, akv_hgetall_command, akv_hincrby_command,
    akv_hincrbyfloat_command, akv_hrandfield_command, akv_hscan_command;
/* t_set.c */
akv_command_proc akv_sadd_command, akv_srem_command, akv_scard_command,
    akv_sismember_command, akv_smismember_command, akv_smembers_command,
    akv_srandmember_command, akv_spop_command, akv_smove_command,
    akv_sinter_command, akv_sintercard_command, akv_sinterstore_command,
    akv_sunion_command, akv_sunionstore_command, akv_sdiff_command,
    akv_sdiffstore_command, akv_sscan_command;
/* t_keys.c */
akv_command_proc akv_del_command, akv_exists_command, akv_type_command,
    akv_rename_command, akv_renamenx_command, akv_keys_command,
    akv_scan_command, akv_randomkey_command, akv_expire_command,
    akv_pexpire_command, akv_expireat_command, akv_pexpireat_command,
    akv_ttl_command, akv_pttl_command, akv_expiretime_command,
    akv_pexpiretime_command, akv_persist_command, akv_touch_command,
    akv_object_encoding_command, akv_object_idletime_command,
    akv_object_freq_command, akv_object_refcount_command,
    akv_object_help_command, akv_move_command, akv_select_command,
    akv_swapdb_command, akv_dbsize_command, akv_flushdb_command,
    akv_flushall_command, akv_copy_command;
/* t_server.c */
akv_command_proc akv_ping_command, akv_echo_command, akv_quit_command,
    akv_hello_command, akv_auth_command, akv_time_command,
    akv_shutdown_command, akv_info_command, akv_client_id_command, akv_client_setname_command,
    akv_client_getname_command, akv_client_setinfo_command,
    akv_client_list_command, akv_client_info_command,
    akv_client_kill_command, akv_client_help_command,
    akv_config_get_command, akv_config_set_command,
    akv_config_resetstat_command, akv_config_rewrite_command,
    akv_config_help_command, akv_debug_command, akv_lastsave_command,
    akv_bgrewriteaof_command, akv_save_command, akv_bgsave_command,
    akv_reset_command;
/* t_command.c */
akv_command_proc akv_command_command, akv_command_count_command,
    akv_command_docs_command, akv_command_getkeys_command,
    akv_command_getkeysandflags_command, akv_command_help_command,
    akv_command_info_command, akv_command_list_command;

/* Render one CLIENT LIST line for a slot. */
void akv_client_info_line(struct akv_arena *a, int slot, char *buf,
                          size_t len);

#endif
