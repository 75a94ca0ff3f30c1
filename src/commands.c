/*
 * commands.c -- the command table and the dispatcher.
 *
 * The table is data: name, arity, flags, key positions, subcommands.  The
 * dispatcher is the one place that enforces arity, authentication, the
 * loading state and the maxmemory refusal for every command, and that
 * owns the command's op: it locks the stripes of the keys at the table's
 * key positions (every stripe for AKV_CMD_ALLSTRIPES) before the handler
 * runs and ends the op after it, so handlers only look up, stage and
 * reply.  Errors use Redis 7.0's exact text.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "clients.h"
#include "evict.h"
#include "lock.h"
#include "pages.h"
#include "server.h"
#include "util.h"

#define W AKV_CMD_WRITE
#define R AKV_CMD_READONLY
#define M AKV_CMD_DENYOOM
#define F AKV_CMD_FAST
#define L AKV_CMD_LOADING
#define N AKV_CMD_NOAUTH
#define S AKV_CMD_STALE
#define A AKV_CMD_ADMIN
#define X AKV_CMD_ALLSTRIPES

#define SUB(parent, n, p, ar, fl, f, l, st, sum)                           \
    {n, p, ar, fl, f, l, st, parent, sum, NULL, parent "|" n, 0}

static const struct akv_command object_subs[] = {
    SUB("object", "encoding", akv_object_encoding_command, 3, R, 2, 2, 1,
        "Returns the internal encoding of a Redis object."),
    SUB("object", "freq", akv_object_freq_command, 3, R, 2, 2, 1,
        "Returns the logarithmic access frequency counter of an object."),
    SUB("object", "idletime", akv_object_idletime_command, 3, R, 2, 2, 1,
        "Returns the time since the last access to an object."),
    SUB("object", "refcount", akv_object_refcount_command, 3, R, 2, 2, 1,
        "Returns the reference count of a value of a key."),
    SUB("object", "help", akv_object_help_command, 2, L | S, 0, 0, 0,
        "Returns helpful text about the different subcommands."),
    {0},
};

static const struct akv_command client_subs[] = {
    SUB("client", "id", akv_client_id_command, 2, L | S, 0, 0, 0,
        "Returns the unique client ID of the connection."),
    SUB("client", "setname", akv_client_setname_command, 3, L | S, 0, 0, 0,
        "Sets the connection name."),
    SUB("client", "getname", akv_client_getname_command, 2, L | S, 0, 0, 0,
        "Returns the name of the connection."),
    SUB("client", "setinfo", akv_client_setinfo_command, 4, L | S, 0, 0, 0,
        "Sets information specific to the client or connection."),
    SUB("client", "list", akv_client_list_command, -2, A | L | S, 0, 0, 0,
        "Lists open connections."),
    SUB("client", "info", akv_client_info_command, 2, L | S, 0, 0, 0,
        "Returns information about the connection."),
    SUB("client", "kill", akv_client_kill_command, -3, A | L | S, 0, 0, 0,
        "Terminates open connections."),
    SUB("client", "help", akv_client_help_command, 2, L | S, 0, 0, 0,
        "Returns helpful text about the different subcommands."),
    {0},
};

static const struct akv_command config_subs[] = {
    SUB("config", "get", akv_config_get_command, -3, A | L | S, 0, 0, 0,
        "Returns the effective values of configuration parameters."),
    SUB("config", "set", akv_config_set_command, -4, A | L | S, 0, 0, 0,
        "Sets configuration parameters in-flight."),
    SUB("config", "resetstat", akv_config_resetstat_command, 2, A | L | S, 0,
        0, 0, "Resets the server's statistics."),
    SUB("config", "rewrite", akv_config_rewrite_command, 2, A | L | S, 0, 0,
        0, "Persists the effective configuration to file."),
    SUB("config", "help", akv_config_help_command, 2, L | S, 0, 0, 0,
        "Returns helpful text about the different subcommands."),
    {0},
};

static const struct akv_command command_subs[] = {
    SUB("command", "count", akv_command_count_command, 2, L | S, 0, 0, 0,
        "Returns a count of commands."),
    SUB("command", "docs", akv_command_docs_command, -2, L | S, 0, 0, 0,
        "Returns documentary information about one, multiple or all "
        "commands."),
    SUB("command", "getkeys", akv_command_getkeys_command, -4, L | S, 0, 0,
        0, "Extracts the key names from an arbitrary command."),
    SUB("command", "getkeysandflags", akv_command_getkeysandflags_command,
        -4, L | S, 0, 0, 0,
        "Extracts the key names and access flags for an arbitrary command."),
    SUB("command", "help", akv_command_help_command, 2, L | S, 0, 0, 0,
        "Returns helpful text about the different subcommands."),
    SUB("command", "info", akv_command_info_command, -2, L | S, 0, 0, 0,
        "Returns information about one, multiple or all commands."),
    SUB("command", "list", akv_command_list_command, -2, L | S, 0, 0, 0,
        "Returns a list of command names."),
    {0},
};

#define CMD(n, p, ar, fl, f, l, st, g, sum)                                \
    {n, p, ar, fl, f, l, st, g, sum, NULL, NULL, 0}
/* Keys counted by argv[nk]: they follow it (SINTERCARD, ZUNIONSTORE). */
#define CMDN(n, p, ar, fl, nk, g, sum)                                     \
    {n, p, ar, fl, 0, 0, 0, g, sum, NULL, NULL, nk}
#define CMDS(n, ar, fl, subs, g, sum)                                      \
    {n, NULL, ar, fl, 0, 0, 0, g, sum, subs, NULL, 0}

const struct akv_command akv_commands[] = {
    /* strings */
    CMD("get", akv_get_command, 2, R | F, 1, 1, 1, "string",
        "Returns the string value of a key."),
    CMD("set", akv_set_command, -3, W | M, 1, 1, 1, "string",
        "Sets the string value of a key, ignoring its type."),
    CMD("setnx", akv_setnx_command, 3, W | M | F, 1, 1, 1, "string",
        "Set the string value of a key only when the key doesn't exist."),
    CMD("setex", akv_setex_command, 4, W | M, 1, 1, 1, "string",
        "Sets the string value and expiration time of a key."),
    CMD("psetex", akv_psetex_command, 4, W | M, 1, 1, 1, "string",
        "Sets both string value and expiration time in milliseconds."),
    CMD("getset", akv_getset_command, 3, W | M | F, 1, 1, 1, "string",
        "Returns the previous string value of a key after setting it."),
    CMD("getdel", akv_getdel_command, 2, W | F, 1, 1, 1, "string",
        "Returns the string value of a key after deleting the key."),
    CMD("getex", akv_getex_command, -2, W | F, 1, 1, 1, "string",
        "Returns the string value of a key after setting its expiration."),
    CMD("mget", akv_mget_command, -2, R | F, 1, -1, 1, "string",
        "Atomically returns the string values of one or more keys."),
    CMD("mset", akv_mset_command, -3, W | M, 1, -1, 2, "string",
        "Atomically creates or modifies the string values of keys."),
    CMD("msetnx", akv_msetnx_command, -3, W | M, 1, -1, 2, "string",
        "Atomically sets keys only when none of them exist."),
    CMD("append", akv_append_command, 3, W | M | F, 1, 1, 1, "string",
        "Appends a string to the value of a key."),
    CMD("strlen", akv_strlen_command, 2, R | F, 1, 1, 1, "string",
        "Returns the length of a string value."),
    CMD("getrange", akv_getrange_command, 4, R, 1, 1, 1, "string",
        "Returns a substring of the string stored at a key."),
    CMD("substr", akv_getrange_command, 4, R, 1, 1, 1, "string",
        "Returns a substring from a string value."),
    CMD("setrange", akv_setrange_command, 4, W | M, 1, 1, 1, "string",
        "Overwrites a part of a string value with another by an offset."),
    CMD("incr", akv_incr_command, 2, W | M | F, 1, 1, 1, "string",
        "Increments the integer value of a key by one."),
    CMD("decr", akv_decr_command, 2, W | M | F, 1, 1, 1, "string",
        "Decrements the integer value of a key by one."),
    CMD("incrby", akv_incrby_command, 3, W | M | F, 1, 1, 1, "string",
        "Increments the integer value of a key by a number."),
    CMD("decrby", akv_decrby_command, 3, W | M | F, 1, 1, 1, "string",
        "Decrements a number from the integer value of a key."),
    CMD("incrbyfloat", akv_incrbyfloat_command, 3, W | M | F, 1, 1, 1,
        "string", "Increment the floating point value of a key by a number."),
    /* bits of strings */
    CMD("setbit", akv_setbit_command, 4, W | M, 1, 1, 1, "bitmap",
        "Sets or clears the bit at offset of the string value."),
    CMD("getbit", akv_getbit_command, 3, R | F, 1, 1, 1, "bitmap",
        "Returns a bit value by offset."),
    CMD("bitcount", akv_bitcount_command, -2, R, 1, 1, 1, "bitmap",
        "Counts the number of set bits (population counting) in a string."),
    CMD("bitpos", akv_bitpos_command, -3, R, 1, 1, 1, "bitmap",
        "Finds the first set (1) or clear (0) bit in a string."),
    CMD("bitop", akv_bitop_command, -4, W | M, 2, -1, 1, "bitmap",
        "Performs bitwise operations on multiple strings, and stores the "
        "result."),
    CMD("lcs", akv_lcs_command, -3, R, 1, 2, 1, "string",
        "Finds the longest common substring."),
    /* bitmap */
    CMD("bitfield", akv_bitfield_command, -2, W | M, 1, 1, 1, "bitmap",
        "Performs arbitrary bitfield integer operations on strings."),
    CMD("bitfield_ro", akv_bitfield_ro_command, -2, R | F, 1, 1, 1, "bitmap",
        "Performs arbitrary read-only bitfield integer operations on "
        "strings."),
    /* hashes */
    CMD("hset", akv_hset_command, -4, W | M | F, 1, 1, 1, "hash",
        "Creates or modifies the value of a field in a hash."),
    CMD("hsetnx", akv_hsetnx_command, 4, W | M | F, 1, 1, 1, "hash",
        "Sets the value of a field in a hash only when the field doesn't "
        "exist."),
    CMD("hmset", akv_hmset_command, -4, W | M | F, 1, 1, 1, "hash",
        "Sets the values of multiple fields."),
    CMD("hget", akv_hget_command, 3, R | F, 1, 1, 1, "hash",
        "Returns the value of a field in a hash."),
    CMD("hmget", akv_hmget_command, -3, R | F, 1, 1, 1, "hash",
        "Returns the values of all fields in a hash."),
    CMD("hdel", akv_hdel_command, -3, W | F, 1, 1, 1, "hash",
        "Deletes one or more fields and their values from a hash. Deletes "
        "the hash if no fields remain."),
    CMD("hlen", akv_hlen_command, 2, R | F, 1, 1, 1, "hash",
        "Returns the number of fields in a hash."),
    CMD("hstrlen", akv_hstrlen_command, 3, R | F, 1, 1, 1, "hash",
        "Returns the length of the value of a field."),
    CMD("hexists", akv_hexists_command, 3, R | F, 1, 1, 1, "hash",
        "Determines whether a field exists in a hash."),
    CMD("hkeys", akv_hkeys_command, 2, R, 1, 1, 1, "hash",
        "Returns all fields in a hash."),
    CMD("hvals", akv_hvals_command, 2, R, 1, 1, 1, "hash",
        "Returns all values in a hash."),
    CMD("hgetall", akv_hgetall_command, 2, R, 1, 1, 1, "hash",
        "Returns all fields and values in a hash."),
    CMD("hincrby", akv_hincrby_command, 4, W | M | F, 1, 1, 1, "hash",
        "Increments the integer value of a field in a hash by a number. "
        "Uses 0 as initial value if the field doesn't exist."),
    CMD("hincrbyfloat", akv_hincrbyfloat_command, 4, W | M | F, 1, 1, 1,
        "hash", "Increments the floating point value of a field by a "
        "number. Uses 0 as initial value if the field doesn't exist."),
    CMD("hrandfield", akv_hrandfield_command, -2, R, 1, 1, 1, "hash",
        "Returns one or more random fields from a hash."),
    CMD("hscan", akv_hscan_command, -3, R, 1, 1, 1, "hash",
        "Iterates over fields and values of a hash."),
    /* sets */
    CMD("sadd", akv_sadd_command, -3, W | M | F, 1, 1, 1, "set",
        "Adds one or more members to a set. Creates the key if it doesn't "
        "exist."),
    CMD("srem", akv_srem_command, -3, W | F, 1, 1, 1, "set",
        "Removes one or more members from a set. Deletes the set if the "
        "last member was removed."),
    CMD("scard", akv_scard_command, 2, R | F, 1, 1, 1, "set",
        "Returns the number of members in a set."),
    CMD("sismember", akv_sismember_command, 3, R | F, 1, 1, 1, "set",
        "Determines whether a member belongs to a set."),
    CMD("smismember", akv_smismember_command, -3, R | F, 1, 1, 1, "set",
        "Determines whether multiple members belong to a set."),
    CMD("smembers", akv_smembers_command, 2, R, 1, 1, 1, "set",
        "Returns all members of a set."),
    CMD("srandmember", akv_srandmember_command, -2, R, 1, 1, 1, "set",
        "Get one or multiple random members from a set"),
    CMD("spop", akv_spop_command, -2, W | F, 1, 1, 1, "set",
        "Returns one or more random members from a set after removing "
        "them. Deletes the set if the last member was popped."),
    CMD("smove", akv_smove_command, 4, W | F, 1, 2, 1, "set",
        "Moves a member from one set to another."),
    CMD("sinter", akv_sinter_command, -2, R, 1, -1, 1, "set",
        "Returns the intersect of multiple sets."),
    CMDN("sintercard", akv_sintercard_command, -3, R, 1, "set",
         "Returns the number of members of the intersect of multiple "
         "sets."),
    CMD("sinterstore", akv_sinterstore_command, -3, W | M, 1, -1, 1, "set",
        "Stores the intersect of multiple sets in a key."),
    CMD("sunion", akv_sunion_command, -2, R, 1, -1, 1, "set",
        "Returns the union of multiple sets."),
    CMD("sunionstore", akv_sunionstore_command, -3, W | M, 1, -1, 1, "set",
        "Stores the union of multiple sets in a key."),
    CMD("sdiff", akv_sdiff_command, -2, R, 1, -1, 1, "set",
        "Returns the difference of multiple sets."),
    CMD("sdiffstore", akv_sdiffstore_command, -3, W | M, 1, -1, 1, "set",
        "Stores the difference of multiple sets in a key."),
    CMD("sscan", akv_sscan_command, -3, R, 1, 1, 1, "set",
        "Iterates over members of a set."),
    /* keyspace */
    CMD("del", akv_del_command, -2, W, 1, -1, 1, "generic",
        "Deletes one or more keys."),
    CMD("unlink", akv_del_command, -2, W | F, 1, -1, 1, "generic",
        "Asynchronously deletes one or more keys."),
    CMD("exists", akv_exists_command, -2, R | F, 1, -1, 1, "generic",
        "Determines whether one or more keys exist."),
    CMD("type", akv_type_command, 2, R | F, 1, 1, 1, "generic",
        "Determines the type of value stored at a key."),
    CMD("rename", akv_rename_command, 3, W, 1, 2, 1, "generic",
        "Renames a key and overwrites the destination."),
    CMD("renamenx", akv_renamenx_command, 3, W | F, 1, 2, 1, "generic",
        "Renames a key only when the target key name doesn't exist."),
    CMD("keys", akv_keys_command, 2, R, 0, 0, 0, "generic",
        "Returns all key names that match a pattern."),
    CMD("scan", akv_scan_command, -2, R, 0, 0, 0, "generic",
        "Iterates over the key names in the database."),
    CMD("randomkey", akv_randomkey_command, 1, R, 0, 0, 0, "generic",
        "Returns a random key name from the database."),
    CMD("expire", akv_expire_command, -3, W | F, 1, 1, 1, "generic",
        "Sets the expiration time of a key in seconds."),
    CMD("pexpire", akv_pexpire_command, -3, W | F, 1, 1, 1, "generic",
        "Sets the expiration time of a key in milliseconds."),
    CMD("expireat", akv_expireat_command, -3, W | F, 1, 1, 1, "generic",
        "Sets the expiration time of a key to a Unix timestamp."),
    CMD("pexpireat", akv_pexpireat_command, -3, W | F, 1, 1, 1, "generic",
        "Sets the expiration time of a key to a Unix milliseconds "
        "timestamp."),
    CMD("ttl", akv_ttl_command, 2, R | F, 1, 1, 1, "generic",
        "Returns the expiration time in seconds of a key."),
    CMD("pttl", akv_pttl_command, 2, R | F, 1, 1, 1, "generic",
        "Returns the expiration time in milliseconds of a key."),
    CMD("expiretime", akv_expiretime_command, 2, R | F, 1, 1, 1, "generic",
        "Returns the expiration time of a key as a Unix timestamp."),
    CMD("pexpiretime", akv_pexpiretime_command, 2, R | F, 1, 1, 1, "generic",
        "Returns the expiration time of a key as a Unix milliseconds "
        "timestamp."),
    CMD("persist", akv_persist_command, 2, W | F, 1, 1, 1, "generic",
        "Removes the expiration time of a key."),
    CMD("touch", akv_touch_command, -2, R | F, 1, -1, 1, "generic",
        "Returns the number of existing keys out of those specified after "
        "updating the time they were last accessed."),
    CMDS("object", -2, 0, object_subs, "generic",
         "A container for object introspection commands."),
    CMD("move", akv_move_command, 3, W | F, 1, 1, 1, "generic",
        "Moves a key to another database."),
    CMD("copy", akv_copy_command, -3, W | M, 1, 2, 1, "generic",
        "Copies the value of a key to a new key."),
    CMD("select", akv_select_command, 2, L | S | F, 0, 0, 0, "connection",
        "Changes the selected database."),
    CMD("swapdb", akv_swapdb_command, 3, W | F | X, 0, 0, 0, "server",
        "Swaps two Redis databases."),
    CMD("dbsize", akv_dbsize_command, 1, R | F, 0, 0, 0, "server",
        "Returns the number of keys in the database."),
    CMD("flushdb", akv_flushdb_command, -1, W | X, 0, 0, 0, "server",
        "Remove all keys from the current database."),
    CMD("flushall", akv_flushall_command, -1, W | X, 0, 0, 0, "server",
        "Removes all keys from all databases."),
    /* connection and server */
    CMD("ping", akv_ping_command, -1, F | S, 0, 0, 0, "connection",
        "Returns the server's liveliness response."),
    CMD("echo", akv_echo_command, 2, F | L | S, 0, 0, 0, "connection",
        "Returns the given string."),
    CMD("quit", akv_quit_command, -1, N | L | S | F, 0, 0, 0, "connection",
        "Closes the connection."),
    CMD("hello", akv_hello_command, -1, N | L | S | F, 0, 0, 0, "connection",
        "Handshakes with the Redis server."),
    CMD("auth", akv_auth_command, -2, N | L | S | F, 0, 0, 0, "connection",
        "Authenticates the connection."),
    CMD("reset", akv_reset_command, 1, N | L | S | F, 0, 0, 0, "connection",
        "Resets the connection."),
    CMDS("client", -2, 0, client_subs, "connection",
         "A container for client connection commands."),
    CMD("time", akv_time_command, 1, L | S | F, 0, 0, 0, "server",
        "Returns the server time."),
    CMD("bgrewriteaof", akv_bgrewriteaof_command, 1, A, 0, 0, 0,
        "server", "Asynchronously rewrites the append-only file to disk."),
    CMD("save", akv_save_command, 1, A, 0, 0, 0, "server",
        "Synchronously saves the database(s) to disk."),
    CMD("bgsave", akv_bgsave_command, -1, A, 0, 0, 0, "server",
        "Asynchronously saves the database(s) to disk."),
    CMD("lastsave", akv_lastsave_command, 1, L | S | F, 0, 0, 0, "server",
        "Returns the Unix timestamp of the last successful save to disk."),
    CMD("shutdown", akv_shutdown_command, -1, A | L | S, 0, 0, 0, "server",
        "Synchronously saves the database(s) to disk and shuts down the "
        "Redis server."),
    CMD("info", akv_info_command, -1, L | S, 0, 0, 0, "server",
        "Returns information and statistics about the server."),
    /* a container that also answers alone */
    {.name = "command", .proc = akv_command_command, .arity = -1,
     .flags = L | S, .group = "server",
     .summary = "Returns detailed information about all commands.",
     .subcommands = command_subs},
    CMDS("config", -2, 0, config_subs, "server",
         "A container for server configuration commands."),
    CMD("debug", akv_debug_command, -2, A | L | S, 0, 0, 0, "server",
        "A container for debugging commands."),
    {0},
};

size_t akv_command_count(void)
{
    return akv_nelem(akv_commands) - 1;
}

static const struct akv_command *lookup_in(const struct akv_command *t,
                                           const char *name, size_t len)
{
    for (; t->name; t++)
        if (akv_strcaseeq(name, len, t->name))
            return t;
    return NULL;
}

/* Top-level commands are found through a small open-addressing table of
 * lower-case names, built before main(): one hash and usually one
 * comparison per request instead of a scan of the whole table. */
#define NAME_MAX_LEN 24
#define INDEX_SIZE 256

static int16_t command_index[INDEX_SIZE];
static uint8_t command_index_len[INDEX_SIZE]; /* strlen of each name */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

__attribute__((constructor)) static void build_command_index(void)
{
    memset(command_index, -1, sizeof(command_index));
    for (int i = 0; akv_commands[i].name; i++) {
        const char *n = akv_commands[i].name;
        uint32_t h = name_hash(n, strlen(n)) & (INDEX_SIZE - 1);
        while (command_index[h] >= 0)
            h = (h + 1) & (INDEX_SIZE - 1);
        command_index[h] = (int16_t)i;
        command_index_len[h] = (uint8_t)strlen(n);
    }
}

const struct akv_command *akv_lookup_command(const char *name, size_t len)
{
    char low[NAME_MAX_LEN];
    uint32_t h;

    if (len == 0 || len >= NAME_MAX_LEN)
        return NULL;
    for (size_t i = 0; i < len; i++) /* ASCII only, as Redis's names */
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
                                                          : name[i]);
    h = name_hash(low, len) & (INDEX_SIZE - 1);
    for (; command_index[h] >= 0; h = (h + 1) & (INDEX_SIZE - 1)) {
        const struct akv_command *c = &akv_commands[command_index[h]];
        if (command_index_len[h] == len && memcmp(c->name, low, len) == 0)
            return c;
    }
    return NULL;
}

/* ------------------------------------------------------------ helpers */

int akv_arg_ll_msg(struct akv_client *c, int i, long long *v, const char *msg)
{
    if (akv_str2ll(c->argv[i], c->argl[i], v))
        return 0;
    akv_reply_error(&c->reply, msg);
    return AKV_ERR;
}

int akv_arg_ll(struct akv_client *c, int i, long long *v)
{
    return akv_arg_ll_msg(c, i, v,
                          "ERR value is not an integer or out of range");
}

/* As Redis's parseScanCursorOrReply (strtoul: leading blanks refused,
 * an empty cursor is 0). */
int akv_arg_cursor(struct akv_client *c, int i, uint64_t *cur)
{
    char buf[32], *end;

    if (c->argl[i] >= sizeof(buf) || isspace((unsigned char)c->argv[i][0]))
        goto bad;
    memcpy(buf, c->argv[i], c->argl[i]);
    buf[c->argl[i]] = '\0';
    errno = 0;
    *cur = strtoull(buf, &end, 10);
    if (errno == ERANGE || *end != '\0')
        goto bad;
    return 0;
bad:
    akv_reply_error(&c->reply, "ERR invalid cursor");
    return AKV_ERR;
}

int akv_arg_scan_opts(struct akv_client *c, int from, bool with_type,
                      struct akv_scan_opts *o)
{
    *o = (struct akv_scan_opts){.count = 10};
    for (int j = from; j < c->argc; j++) {
        bool next = j + 1 < c->argc;
        if (akv_arg_is(c, j, "count") && next) {
            if (akv_arg_ll(c, ++j, &o->count) < 0)
                return AKV_ERR;
            if (o->count < 1) {
                akv_reply_syntax_error(c);
                return AKV_ERR;
            }
        } else if (akv_arg_is(c, j, "match") && next) {
            j++;
            bool all = c->argl[j] == 1 && c->argv[j][0] == '*';
            o->pat = all ? NULL : c->argv[j];
            o->plen = all ? 0 : c->argl[j];
        } else if (with_type && akv_arg_is(c, j, "type") && next) {
            j++;
            o->type = c->argv[j];
            o->tlen = c->argl[j];
        } else {
            akv_reply_syntax_error(c);
            return AKV_ERR;
        }
    }
    return 0;
}

bool akv_arg_is(const struct akv_client *c, int i, const char *lit)
{
    return akv_strcaseeq(c->argv[i], c->argl[i], lit);
}

void akv_reply_syntax_error(struct akv_client *c)
{
    akv_reply_error(&c->reply, "ERR syntax error");
}

void akv_reply_wrong_arity(struct akv_client *c)
{
    akv_reply_errorf(&c->reply,
                     "ERR wrong number of arguments for '%s' command",
                     c->cmd->fullname ? c->cmd->fullname : c->cmd->name);
}

void akv_reply_oom(struct akv_client *c)
{
    akv_reply_error(&c->reply, "OOM command not allowed when used memory > "
                               "'maxmemory'.");
}

static bool is_key_position(const struct akv_client *c, int i)
{
    return c->key_first && i >= c->key_first && i <= c->key_last &&
           (i - c->key_first) % c->key_step == 0;
}

struct akv_key akv_arg_key(const struct akv_client *c, int i)
{
    struct akv_key k = {c->argv[i], c->argl[i], 0, c->db};

    k.hash = is_key_position(c, i)
                 ? c->key_hash[i]
                 : akv_key_hash(c->ctx.a, c->argv[i], c->argl[i]);
    return k;
}

static void touch(struct akv_client *c, struct akv_entry *e)
{
    akv_touch(c->ctx.a, e, c->ctx.now);
}

struct akv_entry *akv_find_read(struct akv_client *c, int i)
{
    struct akv_key k = akv_arg_key(c, i);
    struct akv_entry *e = akv_op_find(&c->op, &k);
    struct akv_slot_stats *st = &c->ctx.cs->c_stats;

    if (e) {
        touch(c, e);
        akv_slot_count(&st->ss_hits, 1);
    } else {
        akv_slot_count(&st->ss_misses, 1);
    }
    return e;
}

struct akv_entry *akv_find_write(struct akv_client *c, int i)
{
    struct akv_key k = akv_arg_key(c, i);
    struct akv_entry *e = akv_op_find(&c->op, &k);

    if (e && e->e_state == AKV_CHUNK_LIVE)
        touch(c, e);
    return e;
}

struct akv_entry *akv_find_notouch(struct akv_client *c, int i)
{
    struct akv_key k = akv_arg_key(c, i);

    return akv_op_find(&c->op, &k);
}

bool akv_wrongtype(struct akv_client *c, const struct akv_entry *e,
                   enum akv_type type)
{
    if (!e || e->e_type == type)
        return false;
    akv_reply_error(&c->reply, "WRONGTYPE Operation against a key holding "
                               "the wrong kind of value");
    return true;
}

const char *akv_type_name(enum akv_type type)
{
    static const char *const names[AKV_TYPE_COUNT] = {
        [AKV_TYPE_STRING] = "string", [AKV_TYPE_HASH] = "hash",
        [AKV_TYPE_SET] = "set",       [AKV_TYPE_LIST] = "list",
        [AKV_TYPE_ZSET] = "zset",     [AKV_TYPE_STREAM] = "stream",
    };

    return (unsigned)type < AKV_TYPE_COUNT ? names[type] : "unknown";
}

const char *akv_enc_name(enum akv_enc enc)
{
    static const char *const names[] = {
        [AKV_ENC_NONE] = "raw",           [AKV_ENC_LISTPACK] = "listpack",
        [AKV_ENC_HASHTABLE] = "hashtable", [AKV_ENC_INTSET] = "intset",
        [AKV_ENC_QUICKLIST] = "quicklist", [AKV_ENC_SKIPLIST] = "skiplist",
        [AKV_ENC_STREAM] = "stream",
    };

    return (unsigned)enc < akv_nelem(names) ? names[enc] : "unknown";
}

/* A client op's evict_fn: other workers may have filled what make_room()
 * freed, or the command stages more than it made room for (an HSET of
 * many fields): evict more, from stripes this op does not hold (only
 * tried, never waited for). */
static bool evict_for_op(struct akv_op *op, size_t bytes, void *arg)
{
    struct akv_client *c = arg;
    struct akv_hdr *h = c->ctx.a->hdr;
    int64_t max = h->h_cfg.maxmemory;

    if (h->h_cfg.maxmemory_policy == AKV_MM_NOEVICTION ||
        max <= 0 || (uint64_t)max < bytes)
        return false;
    akv_evict_until(&c->ctx, &c->evict_op, (uint64_t)max - bytes, op->locked);
    return atomic_load_explicit(&h->h_used, memory_order_relaxed) + bytes <=
           (uint64_t)max;
}

struct akv_entry *akv_stage_entry(struct akv_client *c,
                                  const struct akv_key *k, size_t vlen,
                                  size_t room, int64_t expire)
{
    struct akv_entry *e;
    size_t bytes = akv_chunk_class_size(sizeof(*e) + k->len + room);

    if (!akv_op_room(&c->op, bytes)) {
        akv_op_discard(&c->op);
        akv_reply_oom(c);
        return NULL;
    }
    e = akv_op_new_room(&c->op, k, vlen, room, expire);
    if (!e) {
        akv_op_discard(&c->op);
        akv_reply_error(&c->reply, "OOM command not allowed when the arena "
                                   "is full (see arena-size)");
        return NULL;
    }
    return e;
}

struct akv_entry *akv_put_string(struct akv_client *c, const struct akv_key *k,
                                 const char *val, size_t vlen,
                                 struct akv_entry *old, int64_t expire)
{
    return akv_put_string_room(c, k, val, vlen, vlen, old, expire);
}

struct akv_entry *akv_put_string_padded(struct akv_client *c,
                                        const struct akv_key *k,
                                        struct akv_entry *old, size_t nlen)
{
    size_t olen = old ? old->e_vlen : 0;
    struct akv_entry *e = akv_put_string(
        c, k, NULL, nlen, old, old ? atomic_load(&old->e_expire) : 0);

    if (!e)
        return NULL;
    if (old)
        memcpy(akv_entry_val(e), akv_entry_val(old), olen);
    memset(akv_entry_val(e) + olen, 0, nlen - olen);
    e->e_flags |= AKV_EF_RAW;
    return e;
}

struct akv_entry *akv_put_string_room(struct akv_client *c,
                                      const struct akv_key *k,
                                      const char *val, size_t vlen,
                                      size_t room, struct akv_entry *old,
                                      int64_t expire)
{
    struct akv_entry *e = akv_stage_entry(c, k, vlen, room, expire);

    if (!e)
        return NULL;
    if (val)
        memcpy(akv_entry_val(e), val, vlen);
    if (old)
        akv_op_del(&c->op, old);
    return e;
}

/* ------------------------------------------------------------ dispatch */

static void reply_poisoned(struct akv_client *c)
{
    akv_reply_error(&c->reply, "ERR arena is poisoned after a failed "
                               "repair; restart arenakv-server");
}


static bool arity_ok(const struct akv_command *cmd, int argc)
{
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

static void reply_unknown_command(struct akv_client *c)
{
    char args[512];
    size_t n = 0;

    args[0] = '\0';
    for (int i = 1; i < c->argc && n < 128; i++) {
        int w = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
                         (int)AKV_MIN(128 - n, strnlen(c->argv[i],
                                                       c->argl[i])),
                         c->argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    akv_reply_errorf(&c->reply,
                     "ERR unknown command '%.128s', with args beginning "
                     "with: %s",
                     c->argv[0], args);
}

static const struct akv_command *resolve(struct akv_client *c)
{
    const struct akv_command *cmd =
        akv_lookup_command(c->argv[0], c->argl[0]);
    const struct akv_command *sub;

    if (!cmd) {
        reply_unknown_command(c);
        return NULL;
    }
    c->cmd = cmd;
    if (!cmd->subcommands)
        return cmd;
    if (c->argc < 2) {
        if (cmd->proc) /* COMMAND alone */
            return cmd;
        akv_reply_wrong_arity(c);
        return NULL;
    }
    sub = lookup_in(cmd->subcommands, c->argv[1], c->argl[1]);
    if (!sub) {
        char up[64];
        size_t i;
        for (i = 0; cmd->name[i] && i < sizeof(up) - 1; i++)
            up[i] = (char)toupper((unsigned char)cmd->name[i]);
        up[i] = '\0';
        akv_reply_errorf(&c->reply,
                         "ERR unknown subcommand '%.128s'. Try %s HELP.",
                         c->argv[1], up);
        return NULL;
    }
    c->cmd = sub;
    return sub;
}

/* Before a write that may grow the dataset: evict (per maxmemory-policy)
 * until what it brings fits under maxmemory.  Its size is estimated by
 * its arguments, which hold the data it stores. */
static bool make_room(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint64_t max = (uint64_t)h->h_cfg.maxmemory, need = 0;

    for (int i = 1; i < c->argc; i++)
        need += c->argl[i] + sizeof(struct akv_entry);
    if (atomic_load_explicit(&h->h_used, memory_order_relaxed) + need <= max)
        return true;
    /* Success means eviction reached its target; other workers' writes
     * may since have used the room, which the write's own room check
     * (akv_put_string_room) settles. */
    return akv_evict_until(&c->ctx, &c->evict_op,
                           need < max ? max - need : 0, 0) == 0 ||
           atomic_load(&h->h_used) <= max;
}

/* Redis's replies while the server cannot persist (writeCommandsDenied-
 * ByDiskError): a failing AOF, or a failed snapshot with
 * stop-writes-on-bgsave-error and save rules. */
#define BGSAVE_ERR                                                          \
    "MISCONF Redis is configured to save RDB snapshots, but it's "         \
    "currently unable to persist to disk. Commands that may modify the "   \
    "data set are disabled, because this instance is configured to report " \
    "errors during writes if RDB snapshotting fails "                      \
    "(stop-writes-on-bgsave-error option). Please check the Redis logs "   \
    "for details about the RDB error."

void akv_reply_aof_misconf(struct akv_client *c)
{
    int err = atomic_load(&c->ctx.a->hdr->h_aof_write_err);

    akv_reply_errorf(&c->reply, "MISCONF Errors writing to the AOF file: %s",
                     strerror(err ? err : EIO));
}

static bool save_failing(struct akv_arena *a)
{
    char rules[AKV_CFG_STR];

    return atomic_load_explicit(&a->hdr->h_save_status,
                                memory_order_relaxed) < 0 &&
           a->hdr->h_cfg.stop_writes_on_bgsave_error &&
           AKV_CFG_STRING(a, save, rules) == 0 && rules[0];
}

/* As Redis: writes, and PING (so that monitoring notices), are refused
 * while the server cannot persist.  Reads go on. */
static bool persistence_ok(struct akv_client *c,
                           const struct akv_command *cmd)
{
    struct akv_hdr *h = c->ctx.a->hdr;

    if (!(cmd->flags & AKV_CMD_WRITE) && cmd->proc != akv_ping_command)
        return true;
    if (akv_unlikely(save_failing(c->ctx.a))) {
        akv_reply_error(&c->reply, BGSAVE_ERR);
        return false;
    }
    if (akv_unlikely(atomic_load_explicit(&h->h_aof_write_err,
                                          memory_order_relaxed)) &&
        atomic_load(&h->h_aof_on)) {
        akv_reply_aof_misconf(c);
        return false;
    }
    return true;
}

static bool allowed_now(struct akv_client *c, const struct akv_command *cmd)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint32_t state = atomic_load_explicit(&h->h_state, memory_order_acquire);

    if (!c->authed && !(cmd->flags & AKV_CMD_NOAUTH)) {
        akv_reply_error(&c->reply, "NOAUTH Authentication required.");
        return false;
    }
    if (akv_unlikely(state != AKV_STATE_READY) && !c->ctx.replaying) {
        if (state == AKV_STATE_POISONED) {
            reply_poisoned(c);
            return false;
        }
        if (!(cmd->flags & AKV_CMD_LOADING)) {
            akv_reply_error(&c->reply, "LOADING Redis is loading the dataset "
                                       "in memory");
            return false;
        }
    }
    if (!c->ctx.replaying && !persistence_ok(c, cmd))
        return false;
    if ((cmd->flags & AKV_CMD_DENYOOM) && h->h_cfg.maxmemory > 0 &&
        !make_room(c)) {
        akv_reply_oom(c);
        return false;
    }
    return true;
}

static bool key_hashes_fit(struct akv_client *c)
{
    int cap = c->key_hash_cap;
    uint32_t *h;

    if (c->argc <= cap)
        return true;
    while (cap < c->argc)
        cap = cap ? cap * 2 : 16;
    h = realloc(c->key_hash, (size_t)cap * sizeof(*h));
    if (!h)
        return false;
    c->key_hash = h;
    c->key_hash_cap = cap;
    return true;
}

/* The keys of a command whose argv[nk] counts them: argv[nk + 1] to
 * argv[nk + count].  False for a count that is not a positive integer or
 * exceeds the arguments (the handler replies Redis's error for it). */
static bool counted_keys(const struct akv_client *c, int nk, int *first,
                         int *last, int *step)
{
    long long n;

    if (nk >= c->argc || !akv_str2ll(c->argv[nk], c->argl[nk], &n) ||
        n < 1 || n > c->argc - nk - 1)
        return false;
    *first = nk + 1;
    *last = nk + (int)n;
    *step = 1;
    return true;
}

/* Begin the command's op: lock the stripes of every key the table names
 * (or all of them), hashing each key once for the handler's lookups.
 * Returns false when the reply is already an error. */
static bool begin_op(struct akv_client *c, const struct akv_command *cmd,
                     bool barrier)
{
    struct akv_op *op = &c->op;
    int first = cmd->first_key, last = cmd->last_key, step = cmd->key_step;

    c->key_first = 0;
    if (cmd->key_count_arg && !counted_keys(c, cmd->key_count_arg, &first,
                                            &last, &step))
        return true; /* a bad count: the handler replies its error */
    if (cmd->flags & AKV_CMD_ALLSTRIPES) {
        akv_op_init(op, &c->ctx);
        op->evict_fn = evict_for_op;
        op->evict_arg = c;
        akv_op_want_all(op);
    } else if (first) {
        last = last < 0 ? c->argc + last : last;
        if (last >= c->argc)
            last = c->argc - 1;
        if (!key_hashes_fit(c)) {
            akv_reply_error(&c->reply, "ERR out of memory");
            return false;
        }
        akv_op_init(op, &c->ctx);
        op->evict_fn = evict_for_op;
        op->evict_arg = c;
        c->key_first = first;
        c->key_last = last;
        c->key_step = step;
        for (int i = first; i <= last; i += step) {
            struct akv_key k = {c->argv[i], c->argl[i], 0, c->db};
            k.hash = c->key_hash[i] =
                akv_key_hash(c->ctx.a, c->argv[i], c->argl[i]);
            akv_op_want_key(op, &k);
        }
    } else {
        return true;
    }
    if (barrier)
        akv_op_want_barrier(op);
    if (akv_op_lock(op) < 0) {
        reply_poisoned(c);
        return false;
    }
    return true;
}

void akv_dispatch(struct akv_client *c)
{
    const struct akv_command *cmd;
    struct akv_client_slot *cs = c->ctx.cs;
    size_t start;

    c->cmd = NULL;
    if ((cmd = resolve(c)) == NULL)
        return;
    if (!arity_ok(cmd, c->argc)) {
        akv_reply_wrong_arity(c);
        return;
    }
    if (!allowed_now(c, cmd))
        return;
    c->ctx.now = akv_mstime();
    if (cmd != c->last_cmd) {
        /* CLIENT LIST's cmd=, copied only when it changes (snprintf per
         * command cost a quarter of a GET's instructions). */
        const char *name = cmd->fullname ? cmd->fullname : cmd->name;
        size_t n = AKV_MIN(strlen(name), sizeof(cs->c_cmd) - 1);
        memcpy(cs->c_cmd, name, n);
        cs->c_cmd[n] = '\0';
        c->last_cmd = cmd;
    }
    start = c->reply.len;
    if (!begin_op(c, cmd, false))
        return;
    cmd->proc(c);
    if (akv_unlikely(c->rerun_barrier)) {
        /* Nothing replied or staged but lazy expiries: end this op and
         * run the command again holding the barrier. */
        c->rerun_barrier = false;
        c->reply.len = start;
        akv_op_commit(&c->op);
        if (!begin_op(c, cmd, true))
            return;
        cmd->proc(c);
    }
    if (akv_op_active(&c->op))
        akv_op_commit(&c->op);
    if (akv_unlikely(c->ctx.op_error)) {
        /* The write could not be logged: it did not happen.  Whatever the
         * handler replied is replaced by the error. */
        c->reply.len = start;
        if (c->ctx.op_error == -ENOTRECOVERABLE)
            reply_poisoned(c);
        else if (c->ctx.op_error == -EIO)
            akv_reply_aof_misconf(c);
        else
            akv_reply_error(&c->reply, "ERR the write is too large for "
                                       "the AOF ring (see aof-ring-size)");
        c->ctx.op_error = 0;
    }
    akv_slot_count(&cs->c_stats.ss_commands, 1);
    atomic_store_explicit(&cs->c_last_ms, c->ctx.now, memory_order_relaxed);
}
