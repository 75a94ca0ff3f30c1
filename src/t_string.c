/*
 * t_string.c -- string commands.
 *
 * Every write stages a whole new entry (copy-on-write) and lets the intent
 * protocol publish it, so a reader never sees half a value and a crash
 * never leaves one.  INCR and friends keep the key's TTL, as Redis does.
 */
#include "build-config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "server.h"
#include "util.h"

#define SET_NX 0x01
#define SET_XX 0x02
#define SET_GET 0x04
#define SET_KEEPTTL 0x08
#define SET_PERSIST 0x10
#define SET_EX 0x20
#define SET_PX 0x40
#define SET_EXAT 0x80
#define SET_PXAT 0x100
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

enum { FOR_SET, FOR_GETEX };

static void reply_value(struct akv_client *c, struct akv_entry *e)
{
    akv_reply_bulk(&c->reply, akv_entry_val(e), e->e_vlen);
}

static bool opt_is(const struct akv_client *c, int j, const char *lit)
{
    return akv_arg_is(c, j, lit);
}

/* Parse SET / GETEX options from argv[from].  Returns 0 or AKV_ERR (the
 * error is already replied). */
static int parse_set_options(struct akv_client *c, int from, int kind,
                             int *flags, int *expire_arg)
{
    for (int j = from; j < c->argc; j++) {
        bool next = j + 1 < c->argc;
        int f = *flags;

        if (opt_is(c, j, "nx") && !(f & SET_XX) && kind == FOR_SET) {
            *flags |= SET_NX;
        } else if (opt_is(c, j, "xx") && !(f & SET_NX) && kind == FOR_SET) {
            *flags |= SET_XX;
        } else if (opt_is(c, j, "get") && kind == FOR_SET) {
            *flags |= SET_GET;
        } else if (opt_is(c, j, "keepttl") && !(f & SET_PERSIST) &&
                   !(f & SET_ANY_EXPIRE) && kind == FOR_SET) {
            *flags |= SET_KEEPTTL;
        } else if (opt_is(c, j, "persist") && kind == FOR_GETEX &&
                   !(f & SET_ANY_EXPIRE) && !(f & SET_KEEPTTL)) {
            *flags |= SET_PERSIST;
        } else if (next && !(f & (SET_KEEPTTL | SET_PERSIST)) &&
                   ((opt_is(c, j, "ex") && !(f & (SET_ANY_EXPIRE & ~SET_EX))) ||
                    (opt_is(c, j, "px") && !(f & (SET_ANY_EXPIRE & ~SET_PX))) ||
                    (opt_is(c, j, "exat") &&
                     !(f & (SET_ANY_EXPIRE & ~SET_EXAT))) ||
                    (opt_is(c, j, "pxat") &&
                     !(f & (SET_ANY_EXPIRE & ~SET_PXAT))))) {
            *flags |= opt_is(c, j, "ex")     ? SET_EX
                      : opt_is(c, j, "px")   ? SET_PX
                      : opt_is(c, j, "exat") ? SET_EXAT
                                             : SET_PXAT;
            *expire_arg = ++j;
        } else {
            akv_reply_syntax_error(c);
            return AKV_ERR;
        }
    }
    return 0;
}

static void reply_bad_expire(struct akv_client *c)
{
    akv_reply_errorf(&c->reply, "ERR invalid expire time in '%s' command",
                     c->cmd->fullname ? c->cmd->fullname : c->cmd->name);
}

/* Absolute expiry in ms from argv[i] given its unit flags. */
static int expire_from_arg(struct akv_client *c, int i, int flags,
                           int64_t *out)
{
    long long v;
    bool seconds = flags & (SET_EX | SET_EXAT);

    if (akv_arg_ll(c, i, &v) < 0)
        return AKV_ERR;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
        reply_bad_expire(c);
        return AKV_ERR;
    }
    if (seconds)
        v *= 1000;
    if ((flags & (SET_EX | SET_PX)) &&
        __builtin_add_overflow(v, c->ctx.now, &v)) {
        reply_bad_expire(c);
        return AKV_ERR;
    }
    *out = v;
    return 0;
}

static void set_generic(struct akv_client *c, int flags, int ki, int vi,
                        int64_t expire, bool reply_int)
{
    struct akv_key k = akv_arg_key(c, ki);
    struct akv_entry *old;
    int64_t keep = expire;

    old = akv_find_write(c, ki);
    if (flags & SET_GET) {
        if (akv_wrongtype(c, old, AKV_TYPE_STRING))
            return;
        if (old)
            reply_value(c, old);
        else
            akv_reply_null(&c->reply);
    }
    if (((flags & SET_NX) && old) || ((flags & SET_XX) && !old)) {
        if (reply_int)
            akv_reply_int(&c->reply, 0);
        else if (!(flags & SET_GET))
            akv_reply_null(&c->reply);
        return;
    }
    if ((flags & SET_KEEPTTL) && old)
        keep = atomic_load(&old->e_expire);
    if (!akv_put_string(c, &k, c->argv[vi], c->argl[vi], old, keep))
        return;
    if (reply_int)
        akv_reply_int(&c->reply, 1);
    else if (!(flags & SET_GET))
        akv_reply_ok(&c->reply);
}

void akv_set_command(struct akv_client *c)
{
    int flags = 0, ei = 0;
    int64_t expire = 0;

    if (parse_set_options(c, 3, FOR_SET, &flags, &ei) < 0)
        return;
    if (ei && expire_from_arg(c, ei, flags, &expire) < 0)
        return;
    set_generic(c, flags, 1, 2, expire, false);
}

void akv_setnx_command(struct akv_client *c)
{
    set_generic(c, SET_NX, 1, 2, 0, true);
}

void akv_getset_command(struct akv_client *c)
{
    set_generic(c, SET_GET, 1, 2, 0, false);
}

static void setex_generic(struct akv_client *c, int unit)
{
    int64_t expire;

    if (expire_from_arg(c, 2, unit, &expire) < 0)
        return;
    set_generic(c, 0, 1, 3, expire, false);
}

void akv_setex_command(struct akv_client *c)
{
    setex_generic(c, SET_EX);
}

void akv_psetex_command(struct akv_client *c)
{
    setex_generic(c, SET_PX);
}

void akv_get_command(struct akv_client *c)
{
    struct akv_entry *e;

    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (e)
        reply_value(c, e);
    else
        akv_reply_null(&c->reply);
}

void akv_getdel_command(struct akv_client *c)
{
    struct akv_entry *e;

    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (e) {
        reply_value(c, e);
        akv_op_del(&c->op, e);
    } else {
        akv_reply_null(&c->reply);
    }
}

void akv_getex_command(struct akv_client *c)
{
    int flags = 0, ei = 0;
    int64_t expire = 0;
    struct akv_entry *e;

    if (parse_set_options(c, 2, FOR_GETEX, &flags, &ei) < 0)
        return;
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    /* As Redis: a missing key answers null before the time is parsed. */
    if (!e || (ei && expire_from_arg(c, ei, flags, &expire) < 0)) {
        if (!e)
            akv_reply_null(&c->reply);
        return;
    }
    reply_value(c, e);
    if ((flags & (SET_EXAT | SET_PXAT)) && expire <= c->ctx.now)
        akv_op_del(&c->op, e);
    else if (ei)
        akv_op_set_expire(&c->op, e, expire);
    else if ((flags & SET_PERSIST) && atomic_load(&e->e_expire))
        akv_op_set_expire(&c->op, e, 0);
}

void akv_mget_command(struct akv_client *c)
{
    akv_reply_array(&c->reply, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        struct akv_entry *e = akv_find_read(c, i);
        if (e && e->e_type == AKV_TYPE_STRING)
            reply_value(c, e);
        else
            akv_reply_null(&c->reply);
    }
}

static void mset_generic(struct akv_client *c, bool nx)
{
    if (c->argc % 2 == 0) {
        akv_reply_wrong_arity(c);
        return;
    }
    if (nx) {
        for (int i = 1; i < c->argc; i += 2) {
            if (akv_find_write(c, i)) {
                akv_reply_int(&c->reply, 0);
                return;
            }
        }
    }
    for (int i = 1; i < c->argc; i += 2) {
        struct akv_key k = akv_arg_key(c, i);
        struct akv_entry *old = akv_find_write(c, i);
        if (!akv_put_string(c, &k, c->argv[i + 1], c->argl[i + 1], old, 0))
            return;
    }
    if (nx)
        akv_reply_int(&c->reply, 1);
    else
        akv_reply_ok(&c->reply);
}

void akv_mset_command(struct akv_client *c)
{
    mset_generic(c, false);
}

void akv_msetnx_command(struct akv_client *c)
{
    mset_generic(c, true);
}

static bool check_string_length(struct akv_client *c, uint64_t total)
{
    if (total > (uint64_t)c->ctx.a->hdr->h_cfg.proto_max_bulk_len) {
        akv_reply_error(&c->reply, "ERR string exceeds maximum allowed size "
                                   "(proto-max-bulk-len)");
        return false;
    }
    return true;
}

/* Room to reserve for a value that APPEND grew to n bytes: as Redis's
 * sds, double it while small, then grow by a megabyte, so a series of
 * appends costs amortised O(1) per byte. */
static size_t growth_room(size_t n)
{
    return n < (1u << 20) ? n * 2 : n + (1u << 20);
}

/* APPEND writes in place when the chunk has room: the new bytes go past
 * the current length, where no reader looks, and the new length is
 * published by the commit.  Otherwise the value moves to a larger chunk. */
void akv_append_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *old, *e;
    size_t olen, add = c->argl[2];

    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    if (!old) {
        if (!akv_put_string(c, &k, c->argv[2], add, NULL, 0))
            return;
        akv_reply_int(&c->reply, (long long)add);
        return;
    }
    olen = old->e_vlen;
    if (!check_string_length(c, olen + add))
        return;
    if (olen + add <= akv_entry_room(c->ctx.a, old)) {
        memcpy(akv_entry_val(old) + olen, c->argv[2], add);
        akv_op_set_length(&c->op, old, olen + add, old->e_flags | AKV_EF_RAW);
    } else {
        e = akv_put_string_room(c, &k, NULL, olen + add,
                                growth_room(olen + add), old,
                                atomic_load(&old->e_expire));
        if (!e)
            return;
        memcpy(akv_entry_val(e), akv_entry_val(old), olen);
        memcpy(akv_entry_val(e) + olen, c->argv[2], add);
        e->e_flags |= AKV_EF_RAW;
    }
    akv_reply_int(&c->reply, (long long)(olen + add));
}

void akv_strlen_command(struct akv_client *c)
{
    struct akv_entry *e;

    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    akv_reply_int(&c->reply, e ? (long long)e->e_vlen : 0);
}

void akv_getrange_command(struct akv_client *c)
{
    long long start, end, len;
    struct akv_entry *e;

    if (akv_arg_ll(c, 2, &start) < 0 || akv_arg_ll(c, 3, &end) < 0)
        return;
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (!e) {
        akv_reply_bulk(&c->reply, "", 0);
        return;
    }
    len = e->e_vlen;
    if (start < 0 && end < 0 && start > end) {
        akv_reply_bulk(&c->reply, "", 0);
    } else {
        if (start < 0)
            start = len + start;
        if (end < 0)
            end = len + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= len)
            end = len - 1;
        if (start > end || len == 0)
            akv_reply_bulk(&c->reply, "", 0);
        else
            akv_reply_bulk(&c->reply, akv_entry_val(e) + start,
                           (size_t)(end - start + 1));
    }
}

void akv_setrange_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 1);
    long long off;
    struct akv_entry *old, *e;
    size_t olen, nlen, vlen = c->argl[3];

    if (akv_arg_ll(c, 2, &off) < 0)
        return;
    if (off < 0) {
        akv_reply_error(&c->reply, "ERR offset is out of range");
        return;
    }
    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    olen = old ? old->e_vlen : 0;
    if (vlen == 0) {
        akv_reply_int(&c->reply, (long long)olen);
        return;
    }
    if (!check_string_length(c, (uint64_t)off + vlen))
        return;
    nlen = AKV_MAX(olen, (size_t)off + vlen);
    if (!(e = akv_put_string_padded(c, &k, old, nlen)))
        return;
    memcpy(akv_entry_val(e) + off, c->argv[3], vlen);
    akv_reply_int(&c->reply, (long long)nlen);
}

/* Store the number txt as key argv[1]'s new value, keeping its TTL.
 * Returns it, or NULL when the OOM error is already replied. */
static struct akv_entry *store_number(struct akv_client *c,
                                      struct akv_entry *old, const char *txt,
                                      size_t n, uint8_t flags)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *e = akv_put_string(
        c, &k, txt, n, old, old ? atomic_load(&old->e_expire) : 0);

    if (e)
        e->e_flags = flags;
    return e;
}

static void incr_generic(struct akv_client *c, long long by)
{
    struct akv_entry *old;
    long long v = 0;
    char buf[24];
    int n;

    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    if (old && !akv_str2ll(akv_entry_val(old), old->e_vlen, &v)) {
        akv_reply_error(&c->reply, "ERR value is not an integer or out of "
                                   "range");
        return;
    }
    if (__builtin_add_overflow(v, by, &v)) {
        akv_reply_error(&c->reply, "ERR increment or decrement would "
                                   "overflow");
        return;
    }
    n = akv_ll2str(buf, v);
    if (store_number(c, old, buf, (size_t)n, 0))
        akv_reply_int(&c->reply, v);
}

void akv_incr_command(struct akv_client *c)
{
    incr_generic(c, 1);
}

void akv_decr_command(struct akv_client *c)
{
    incr_generic(c, -1);
}

void akv_incrby_command(struct akv_client *c)
{
    long long by;

    if (akv_arg_ll(c, 2, &by) < 0)
        return;
    incr_generic(c, by);
}

void akv_decrby_command(struct akv_client *c)
{
    long long by;

    if (akv_arg_ll(c, 2, &by) < 0)
        return;
    if (by == LLONG_MIN) {
        akv_reply_error(&c->reply, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -by);
}

/* Log the staged new value e of argv[1] (replacing old) as SET key value
 * KEEPTTL instead of the inferred SET with an absolute expiry. */
static void declare_set_keepttl(struct akv_client *c, struct akv_entry *e,
                                struct akv_entry *old)
{
    const char *argv[] = {"SET", c->argv[1], akv_entry_val(e), "KEEPTTL"};
    const size_t argl[] = {3, c->argl[1], e->e_vlen, 7};

    akv_op_effect(&c->op, c->db, 4, argv, argl);
    akv_op_declared(&c->op, e);
    if (old)
        akv_op_declared(&c->op, old);
}

/* As Redis: the type, then the stored value, then the increment; the
 * effect logged is the result, SET key value KEEPTTL, so replay does not
 * depend on float formatting. */
void akv_incrbyfloat_command(struct akv_client *c)
{
    long double v = 0, by;
    struct akv_entry *old, *e;
    char buf[5120];
    int n;

    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    if ((old && !akv_str2ld(akv_entry_val(old), old->e_vlen, &v)) ||
        !akv_str2ld(c->argv[2], c->argl[2], &by)) {
        akv_reply_error(&c->reply, "ERR value is not a valid float");
        return;
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        akv_reply_error(&c->reply, "ERR increment would produce NaN or "
                                   "Infinity");
        return;
    }
    n = akv_ld2str(buf, sizeof(buf), v);
    if (!(e = store_number(c, old, buf, (size_t)n, AKV_EF_NOINT)))
        return;
    declare_set_keepttl(c, e, old);
    akv_reply_bulk(&c->reply, buf, (size_t)n);
}
