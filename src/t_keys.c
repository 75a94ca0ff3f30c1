/*
 * t_keys.c -- keyspace commands: deletion, existence, renaming, expiry,
 * iteration (KEYS, SCAN, RANDOMKEY), OBJECT, and the numbered databases
 * (SELECT, MOVE, SWAPDB, DBSIZE, FLUSHDB, FLUSHALL).
 *
 * Multi-key commands lock their stripes up front in ascending order; the
 * iterating commands lock one stripe at a time, so a KEYS over a large
 * dataset never stalls more than one stripe at once.
 */
#include "build-config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "evict.h"
#include "pages.h"
#include "container.h"
#include "server.h"
#include "util.h"

/* ------------------------------------------------------------ DEL & co */

void akv_del_command(struct akv_client *c)
{
    long long n = 0;

    for (int i = 1; i < c->argc; i++) {
        struct akv_entry *e = akv_find_write(c, i);
        if (e) {
            akv_op_del(&c->op, e);
            n++;
        }
    }
    akv_reply_int(&c->reply, n);
}

static void count_existing(struct akv_client *c, bool touch)
{
    long long n = 0;

    for (int i = 1; i < c->argc; i++)
        if (touch ? akv_find_read(c, i) : akv_find_notouch(c, i))
            n++;
    akv_reply_int(&c->reply, n);
}

void akv_exists_command(struct akv_client *c)
{
    count_existing(c, false);
}

void akv_touch_command(struct akv_client *c)
{
    count_existing(c, true);
}

void akv_type_command(struct akv_client *c)
{
    struct akv_entry *e;

    e = akv_find_notouch(c, 1);
    akv_reply_status(&c->reply,
                     e ? akv_type_name((enum akv_type)e->e_type) : "none");
}

/* Stage under key k a large container like src: with src's id when
 * `move` and k is in src's stripe (RENAME, MOVE: the elements stay where
 * they are, nothing is copied), else a new container holding a copy of
 * every element (COPY, RENAME to another stripe: O(n)). */
static struct akv_entry *copy_large(struct akv_client *c,
                                    const struct akv_key *k,
                                    struct akv_entry *src,
                                    struct akv_entry *old, bool move)
{
    int64_t expire = atomic_load(&src->e_expire);
    size_t vlen = akv_cont_vlen(k->len);
    struct akv_entry *e;

    if (move && akv_stripe_of(k->hash) == akv_entry_stripe(src)) {
        e = akv_stage_entry(c, k, vlen, vlen, expire);
        if (!e)
            return NULL;
        memset(akv_entry_val(e), 0, vlen);
        *akv_cont_of(e) = *akv_cont_of(src);
    } else {
        e = akv_cont_create(&c->op, k, (enum akv_type)src->e_type, expire);
        if (!e || !akv_cont_copy(&c->op, e, src)) {
            akv_op_discard(&c->op);
            akv_reply_oom(c);
            return NULL;
        }
    }
    e->e_type = src->e_type;
    e->e_flags = src->e_flags;
    if (old)
        akv_op_del(&c->op, old);
    return e;
}

/* Stage a copy of entry src under key k (replacing old, if any): its
 * value, type, encoding and expiry.  A string's effect is inferred (SET
 * ... PXAT); for other types the command itself is the effect. */
static struct akv_entry *copy_entry(struct akv_client *c,
                                    const struct akv_key *k,
                                    struct akv_entry *src,
                                    struct akv_entry *old, bool move)
{
    struct akv_entry *e;

    if (akv_is_large(src)) {
        e = copy_large(c, k, src, old, move);
    } else {
        e = akv_put_string(c, k, akv_entry_val(src), src->e_vlen, old,
                           atomic_load(&src->e_expire));
        if (e) {
            e->e_type = src->e_type;
            e->e_flags = src->e_flags;
        }
    }
    if (e && src->e_type != AKV_TYPE_STRING) {
        akv_op_effect(&c->op, c->db, c->argc, c->argv, c->argl);
        akv_op_declared(&c->op, e);
    }
    return e;
}

/* The source of a RENAME or MOVE goes. */
static void remove_source(struct akv_client *c, struct akv_entry *src)
{
    akv_op_del(&c->op, src);
    if (src->e_type != AKV_TYPE_STRING)
        akv_op_declared(&c->op, src);
}

/* RENAME, MOVE and COPY of a hash or a set are logged as the command
 * itself, which reads its source: not an absolute effect, so it must not
 * fall between a compaction's start and the copy of its stripes (that
 * window's records are applied again on top of the new base).  Such a
 * command runs holding the snapshot barrier, which a rewrite or a
 * snapshot holds while it copies: asks the dispatcher to run it again
 * with the barrier, and returns true, when argv[1] is not a string and
 * the barrier is not held yet. */
static bool rerun_with_barrier(struct akv_client *c)
{
    struct akv_entry *src;

    if (c->op.barrier_held)
        return false;
    src = akv_find_notouch(c, 1);
    if (!src || src->e_type == AKV_TYPE_STRING)
        return false;
    c->rerun_barrier = true;
    return true;
}

static void rename_generic(struct akv_client *c, bool nx)
{
    struct akv_key to = akv_arg_key(c, 2);
    struct akv_entry *src, *dst;
    bool same = c->argl[1] == c->argl[2] &&
                memcmp(c->argv[1], c->argv[2], c->argl[1]) == 0;

    if (rerun_with_barrier(c))
        return;
    src = akv_find_write(c, 1);
    if (!src) {
        akv_reply_error(&c->reply, "ERR no such key");
        return;
    }
    if (same) {
        if (nx)
            akv_reply_int(&c->reply, 0);
        else
            akv_reply_ok(&c->reply);
        return;
    }
    dst = akv_find_write(c, 2);
    if (dst && nx) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (!copy_entry(c, &to, src, dst, true))
        return;
    remove_source(c, src);
    if (nx)
        akv_reply_int(&c->reply, 1);
    else
        akv_reply_ok(&c->reply);
}

void akv_rename_command(struct akv_client *c)
{
    rename_generic(c, false);
}

void akv_renamenx_command(struct akv_client *c)
{
    rename_generic(c, true);
}

/* ------------------------------------------------------------ expiry */

#define EXP_NX 1
#define EXP_XX 2
#define EXP_GT 4
#define EXP_LT 8

static int parse_expire_flags(struct akv_client *c, int *flags)
{
    for (int j = 3; j < c->argc; j++) {
        if (akv_arg_is(c, j, "nx"))
            *flags |= EXP_NX;
        else if (akv_arg_is(c, j, "xx"))
            *flags |= EXP_XX;
        else if (akv_arg_is(c, j, "gt"))
            *flags |= EXP_GT;
        else if (akv_arg_is(c, j, "lt"))
            *flags |= EXP_LT;
        else {
            akv_reply_errorf(&c->reply, "ERR Unsupported option %.*s",
                             (int)strnlen(c->argv[j], c->argl[j]),
                             c->argv[j]);
            return AKV_ERR;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        akv_reply_error(&c->reply, "ERR NX and XX, GT or LT options at the "
                                   "same time are not compatible");
        return AKV_ERR;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        akv_reply_error(&c->reply, "ERR GT and LT options at the same time "
                                   "are not compatible");
        return AKV_ERR;
    }
    return 0;
}

static bool expire_condition_fails(int flags, int64_t cur, long long when)
{
    bool has = cur != 0;

    if ((flags & EXP_NX) && has)
        return true;
    if ((flags & EXP_XX) && !has)
        return true;
    if ((flags & EXP_GT) && (!has || when <= cur))
        return true;
    if ((flags & EXP_LT) && has && when >= cur)
        return true;
    return false;
}

static void expire_generic(struct akv_client *c, long long base, bool secs)
{
    int flags = 0;
    long long when;
    struct akv_entry *e;

    if (parse_expire_flags(c, &flags) < 0 || akv_arg_ll(c, 2, &when) < 0)
        return;
    if (secs && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000))
        goto bad_time;
    if (secs)
        when *= 1000;
    if (when > LLONG_MAX - base)
        goto bad_time;
    when += base;
    e = akv_find_write(c, 1);
    if (!e || expire_condition_fails(flags, atomic_load(&e->e_expire),
                                     when)) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (when <= c->ctx.now)
        akv_op_del(&c->op, e);
    else
        akv_op_set_expire(&c->op, e, when);
    akv_reply_int(&c->reply, 1);
    return;
bad_time:
    akv_reply_errorf(&c->reply, "ERR invalid expire time in '%s' command",
                     c->cmd->name);
}

void akv_expire_command(struct akv_client *c)
{
    expire_generic(c, c->ctx.now, true);
}

void akv_pexpire_command(struct akv_client *c)
{
    expire_generic(c, c->ctx.now, false);
}

void akv_expireat_command(struct akv_client *c)
{
    expire_generic(c, 0, true);
}

void akv_pexpireat_command(struct akv_client *c)
{
    expire_generic(c, 0, false);
}

enum { TTL_REL_S, TTL_REL_MS, TTL_ABS_S, TTL_ABS_MS };

static void ttl_generic(struct akv_client *c, int mode)
{
    struct akv_entry *e;
    int64_t x;

    e = akv_find_notouch(c, 1);
    x = e ? atomic_load(&e->e_expire) : 0;
    if (!e) {
        akv_reply_int(&c->reply, -2);
    } else if (x == 0) {
        akv_reply_int(&c->reply, -1);
    } else if (mode == TTL_ABS_S || mode == TTL_ABS_MS) {
        akv_reply_int(&c->reply, mode == TTL_ABS_MS ? x : x / 1000);
    } else {
        long long ttl = x - c->ctx.now;
        if (ttl < 0)
            ttl = 0;
        akv_reply_int(&c->reply, mode == TTL_REL_MS ? ttl : (ttl + 500) / 1000);
    }
}

void akv_ttl_command(struct akv_client *c)
{
    ttl_generic(c, TTL_REL_S);
}

void akv_pttl_command(struct akv_client *c)
{
    ttl_generic(c, TTL_REL_MS);
}

void akv_expiretime_command(struct akv_client *c)
{
    ttl_generic(c, TTL_ABS_S);
}

void akv_pexpiretime_command(struct akv_client *c)
{
    ttl_generic(c, TTL_ABS_MS);
}

void akv_persist_command(struct akv_client *c)
{
    struct akv_entry *e;
    bool had;

    e = akv_find_write(c, 1);
    had = e && atomic_load(&e->e_expire) != 0;
    if (had)
        akv_op_set_expire(&c->op, e, 0);
    akv_reply_int(&c->reply, had);
}

/* ------------------------------------------------------------ OBJECT */

static bool looks_like_long(const struct akv_entry *e)
{
    long long v;
    return e->e_vlen <= 20 &&
           akv_str2ll(e->e_data + e->e_klen, e->e_vlen, &v);
}

static const char *encoding_of(const struct akv_entry *e)
{
    if (!(e->e_flags & (AKV_EF_RAW | AKV_EF_NOINT)) && looks_like_long(e))
        return "int";
    if (!(e->e_flags & AKV_EF_RAW) && e->e_vlen <= 44)
        return "embstr";
    return "raw";
}

static struct akv_entry *object_lookup(struct akv_client *c)
{
    struct akv_entry *e = akv_find_notouch(c, 2);

    if (!e)
        akv_reply_null(&c->reply);
    return e;
}

void akv_object_encoding_command(struct akv_client *c)
{
    struct akv_entry *e = object_lookup(c);

    if (!e)
        return;
    akv_reply_bulk_cstr(&c->reply,
                        e->e_type == AKV_TYPE_STRING
                            ? encoding_of(e)
                            : akv_enc_name(akv_entry_enc(e)));
}

static bool lfu_policy(struct akv_client *c)
{
    int64_t p = c->ctx.a->hdr->h_cfg.maxmemory_policy;
    return p == AKV_MM_ALLKEYS_LFU || p == AKV_MM_VOLATILE_LFU;
}

void akv_object_idletime_command(struct akv_client *c)
{
    struct akv_entry *e = object_lookup(c);
    uint32_t idle;

    if (!e)
        return;
    idle = akv_clock(c->ctx.a) - atomic_load(&e->e_atime);
    if (lfu_policy(c)) {
        akv_reply_error(&c->reply, "ERR An LFU maxmemory policy is selected, "
                        "idle time not tracked. Please note that when "
                        "switching between policies at runtime LRU and LFU "
                        "data will take some time to adjust.");
        return;
    }
    akv_reply_int(&c->reply, idle / 100);
}

void akv_object_freq_command(struct akv_client *c)
{
    struct akv_entry *e = object_lookup(c);
    long long f;

    if (!e)
        return;
    f = akv_lfu_freq(c->ctx.a, e);
    if (!lfu_policy(c)) {
        akv_reply_error(&c->reply, "ERR An LFU maxmemory policy is not "
                        "selected, access frequency not tracked. Please note "
                        "that when switching between policies at runtime LRU "
                        "and LFU data will take some time to adjust.");
        return;
    }
    akv_reply_int(&c->reply, f);
}

void akv_object_refcount_command(struct akv_client *c)
{
    struct akv_entry *e = object_lookup(c);

    if (!e)
        return;
    akv_reply_int(&c->reply, 1);
}

void akv_object_help_command(struct akv_client *c)
{
    static const char *lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to "
        "store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned "
        "integer is",
        "    proportional to the logarithm of the recent access frequency "
        "of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated "
        "number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with "
        "the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };

    akv_reply_array(&c->reply, (long)akv_nelem(lines));
    for (size_t i = 0; i < akv_nelem(lines); i++)
        akv_reply_status(&c->reply, lines[i]);
}

/* ------------------------------------------------------------ iteration */

struct collect {
    struct akv_client *c;
    uint8_t pdb;
    const char *pat;
    size_t plen;
    bool all;
    long n;
};

static bool entry_matches(struct collect *k, const struct akv_entry *e)
{
    if (e->e_db != k->pdb || e->e_state != AKV_CHUNK_LIVE ||
        akv_entry_expired(e, k->c->ctx.now))
        return false;
    return k->all || akv_glob_match(k->pat, k->plen, e->e_data, e->e_klen,
                                    false);
}

static void keys_one(struct akv_arena *a, int si, struct akv_entry *e,
                     void *ctx)
{
    struct collect *k = ctx;

    (void)a;
    (void)si;
    if (!entry_matches(k, e))
        return;
    akv_reply_bulk(&k->c->reply, e->e_data, e->e_klen);
    k->n++;
}

void akv_keys_command(struct akv_client *c)
{
    struct collect k = {c, 0, c->argv[1], c->argl[1],
                        c->argl[1] == 1 && c->argv[1][0] == '*', 0};
    size_t at = akv_reply_defer(&c->reply);

    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (akv_stripe_lock(&c->ctx, si) < 0)
            break;
        k.pdb = akv_pdb(c->ctx.a, c->db);
        akv_table_foreach_locked(c->ctx.a, si, keys_one, &k);
        akv_stripe_unlock(&c->ctx, si);
    }
    akv_reply_set_array_len(&c->reply, at, k.n);
}

struct scan_ctx {
    struct collect k;
    const char *type;
    size_t tlen;
};

static void scan_one(struct akv_arena *a, int si, struct akv_entry *e,
                     void *ctx)
{
    struct scan_ctx *sc = ctx;

    (void)a;
    (void)si;
    if (sc->type &&
        !akv_strcaseeq(sc->type, sc->tlen,
                       akv_type_name((enum akv_type)e->e_type)))
        return;
    keys_one(a, si, e, &sc->k);
}

/* The cursor is stripe-major: low 6 bits the stripe, the rest that
 * stripe's table cursor (Redis's reverse-binary cursor, so a full
 * iteration returns every key present throughout, despite rehashing). */
void akv_scan_command(struct akv_client *c)
{
    struct scan_ctx sc = {{c, 0, NULL, 0, true, 0}, NULL, 0};
    struct akv_scan_opts o;
    long long count, visits;
    uint64_t cur, v;
    size_t slot, list;
    char buf[32];
    int si, n;

    if (akv_arg_cursor(c, 1, &cur) < 0 ||
        akv_arg_scan_opts(c, 2, true, &o) < 0)
        return;
    count = o.count;
    sc.k.pat = o.pat;
    sc.k.plen = o.plen;
    sc.k.all = o.pat == NULL;
    sc.type = o.type;
    sc.tlen = o.tlen;
    si = (int)(cur & (AKV_NSTRIPES - 1));
    v = cur >> AKV_STRIPE_BITS;
    akv_reply_array(&c->reply, 2);
    slot = akv_reply_defer(&c->reply);
    list = akv_reply_defer(&c->reply);
    visits = AKV_MIN(count * 10, 1LL << 30);
    while (visits-- > 0 && sc.k.n < count) {
        if (akv_stripe_lock(&c->ctx, si) < 0)
            break;
        sc.k.pdb = akv_pdb(c->ctx.a, c->db);
        v = akv_table_scan_locked(c->ctx.a, si, v, scan_one, &sc);
        akv_stripe_unlock(&c->ctx, si);
        if (v == 0 && ++si == AKV_NSTRIPES)
            break;
    }
    cur = si == AKV_NSTRIPES ? 0 : (v << AKV_STRIPE_BITS) | (uint64_t)si;
    akv_reply_set_array_len(&c->reply, list, sc.k.n);
    n = akv_ll2str(buf, (long long)cur);
    akv_reply_set_bulk(&c->reply, slot, buf, (size_t)n);
}

struct pick {
    struct akv_client *c;
    uint8_t pdb;
    struct akv_entry *found;
};

static void pick_first(struct akv_arena *a, int si, struct akv_entry *e,
                       void *ctx)
{
    struct pick *p = ctx;

    (void)a;
    (void)si;
    if (!p->found && e->e_db == p->pdb &&
        !akv_entry_expired(e, p->c->ctx.now))
        p->found = e;
}

/* Try a random bucket of stripe si; reply with a key if one is found. */
static bool random_in_stripe(struct akv_client *c, int si)
{
    struct akv_arena *a = c->ctx.a;
    struct pick p = {c, 0, NULL};
    uint64_t n;
    bool ok = false;

    if (akv_stripe_lock(&c->ctx, si) < 0)
        return false;
    p.pdb = akv_pdb(a, c->db);
    n = akv_table_size_locked(a, si, 0);
    if (n && a->stripes[si].s_keys[p.pdb]) {
        for (int tries = 0; tries < 64 && !p.found; tries++)
            akv_table_scan_locked(a, si, akv_random_u64() & (n - 1),
                                  pick_first, &p);
        if (!p.found)
            akv_table_foreach_locked(a, si, pick_first, &p);
    }
    if (p.found) {
        akv_reply_bulk(&c->reply, p.found->e_data, p.found->e_klen);
        ok = true;
    }
    akv_stripe_unlock(&c->ctx, si);
    return ok;
}

void akv_randomkey_command(struct akv_client *c)
{
    int start = (int)(akv_random_u64() % AKV_NSTRIPES);

    for (int i = 0; i < AKV_NSTRIPES; i++)
        if (random_in_stripe(c, (start + i) % AKV_NSTRIPES))
            return;
    akv_reply_null(&c->reply);
}

/* ------------------------------------------------------------ databases */

/* argv[i] as a C int, or `nan` replied. */
static int parse_int(struct akv_client *c, int i, long long *v,
                     const char *nan)
{
    if (!akv_str2ll(c->argv[i], c->argl[i], v) || *v < INT_MIN ||
        *v > INT_MAX) {
        akv_reply_error(&c->reply, nan);
        return AKV_ERR;
    }
    return 0;
}

static int parse_db(struct akv_client *c, int i, int *db, const char *nan)
{
    long long v;

    if (parse_int(c, i, &v, nan) < 0)
        return AKV_ERR;
    if (v < 0 || v >= (long long)c->ctx.a->hdr->h_ndbs) {
        akv_reply_error(&c->reply, "ERR DB index is out of range");
        return AKV_ERR;
    }
    *db = (int)v;
    return 0;
}

void akv_select_command(struct akv_client *c)
{
    int db;

    if (parse_db(c, 1, &db, "ERR value is not an integer or out of range") < 0)
        return;
    c->db = db;
    c->ctx.cs->c_db = (uint32_t)db;
    akv_reply_ok(&c->reply);
}

void akv_move_command(struct akv_client *c)
{
    struct akv_key to = akv_arg_key(c, 1);
    struct akv_entry *src;
    int dst;

    if (parse_db(c, 2, &dst, "ERR value is not an integer or out of range") < 0)
        return;
    if (dst == c->db) {
        akv_reply_error(&c->reply, "ERR source and destination objects are "
                                   "the same");
        return;
    }
    to.db = dst;
    if (rerun_with_barrier(c))
        return;
    src = akv_find_write(c, 1);
    if (!src || akv_op_find(&c->op, &to)) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (!copy_entry(c, &to, src, NULL, true))
        return;
    remove_source(c, src);
    akv_reply_int(&c->reply, 1);
}

/* COPY's DB argument: Redis's getIntFromObjectOrReply() errors, then
 * SELECT's range check. */
static int parse_copy_db(struct akv_client *c, int i, int *db)
{
    long long v;

    if (!akv_str2ll(c->argv[i], c->argl[i], &v)) {
        akv_reply_error(&c->reply, "ERR value is not an integer or out of "
                                   "range");
        return AKV_ERR;
    }
    if (v < INT_MIN || v > INT_MAX) {
        akv_reply_errorf(&c->reply, "ERR value is out of range, value must "
                         "between %d and %d", INT_MIN, INT_MAX);
        return AKV_ERR;
    }
    if (v < 0 || v >= (long long)c->ctx.a->hdr->h_ndbs) {
        akv_reply_error(&c->reply, "ERR DB index is out of range");
        return AKV_ERR;
    }
    *db = (int)v;
    return 0;
}

/* Parse COPY's options from argv[3]: DB n (the last one wins) and
 * REPLACE.  Returns 0 or AKV_ERR, replied. */
static int parse_copy_options(struct akv_client *c, int *db, bool *replace)
{
    for (int j = 3; j < c->argc; j++) {
        if (akv_arg_is(c, j, "replace")) {
            *replace = true;
        } else if (akv_arg_is(c, j, "db") && j + 1 < c->argc) {
            if (parse_copy_db(c, ++j, db) < 0)
                return AKV_ERR;
        } else {
            akv_reply_syntax_error(c);
            return AKV_ERR;
        }
    }
    return 0;
}

/* COPY source destination [DB n] [REPLACE]: the copy keeps the source's
 * type, encoding flags and TTL.  Both keys hash to the stripes the table
 * named (the hash ignores the database), so another DB needs no lock. */
void akv_copy_command(struct akv_client *c)
{
    struct akv_key to = akv_arg_key(c, 2);
    struct akv_entry *src, *dst;
    bool replace = false;
    int db = c->db;

    if (parse_copy_options(c, &db, &replace) < 0)
        return;
    if (db == c->db && c->argl[1] == c->argl[2] &&
        memcmp(c->argv[1], c->argv[2], c->argl[1]) == 0) {
        akv_reply_error(&c->reply, "ERR source and destination objects are "
                                   "the same");
        return;
    }
    if (rerun_with_barrier(c))
        return;
    src = akv_find_read(c, 1);
    if (!src) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    to.db = db;
    dst = db == c->db ? akv_find_write(c, 2) : akv_op_find(&c->op, &to);
    if (dst && !replace) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (!copy_entry(c, &to, src, dst, false))
        return;
    akv_reply_int(&c->reply, 1);
}

void akv_swapdb_command(struct akv_client *c)
{
    long long a, b;

    /* Both indexes are parsed before either is range-checked. */
    if (parse_int(c, 1, &a, "ERR invalid first DB index") < 0 ||
        parse_int(c, 2, &b, "ERR invalid second DB index") < 0)
        return;
    if (a < 0 || b < 0 || a >= c->ctx.a->hdr->h_ndbs ||
        b >= c->ctx.a->hdr->h_ndbs) {
        akv_reply_error(&c->reply, "ERR DB index is out of range");
        return;
    }
    if (a != b)
        akv_op_swapdb(&c->op, (int)a, (int)b);
    akv_reply_ok(&c->reply);
}

void akv_dbsize_command(struct akv_client *c)
{
    struct akv_arena *a = c->ctx.a;
    uint8_t pdb = akv_pdb(a, c->db);
    long long n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        n += __atomic_load_n(&a->stripes[si].s_keys[pdb], __ATOMIC_RELAXED);
    akv_reply_int(&c->reply, n);
}

static int parse_flush_mode(struct akv_client *c)
{
    if (c->argc > 2 || (c->argc == 2 && !akv_arg_is(c, 1, "sync") &&
                        !akv_arg_is(c, 1, "async"))) {
        akv_reply_syntax_error(c);
        return AKV_ERR;
    }
    return 0;
}

static void flush_generic(struct akv_client *c, bool all)
{
    if (parse_flush_mode(c) < 0)
        return;
    akv_op_flush(&c->op, all ? -1 : c->db);
    akv_reply_ok(&c->reply);
}

void akv_flushdb_command(struct akv_client *c)
{
    flush_generic(c, false);
}

void akv_flushall_command(struct akv_client *c)
{
    flush_generic(c, true);
}
