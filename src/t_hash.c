/*
 * t_hash.c -- hash commands, over both encodings of container.h.
 *
 * A hash starts packed (listpack.h: the whole hash is the key entry's
 * value, rewritten by every write, copy-on-write like a string) and
 * converts to the large encoding (element chunks, container.h) in the
 * same op as soon as a field or a value longer than
 * hash-max-listpack-value is written or the field count passes
 * hash-max-listpack-entries -- never back, as Redis 7.0.  The conversion
 * stages a new container holding every pair and the removal of the
 * packed entry, so it is one crash-safe commit like any other write.
 *
 * Writes keep the key's TTL.  A hash emptied by HDEL is deleted.
 *
 * Effects: every write declares what the AOF logs, idempotent and naming
 * only the key it changes: HSET / HMSET as HSET with the given pairs,
 * HDEL as given, HSETNX as HSET when it set, HINCRBY and HINCRBYFLOAT as
 * HSET of the final value (replay never depends on float formatting).
 *
 * Handlers hold the key's stripe (the dispatcher locked it); the pair
 * arrays below are process-private scratch, reused across commands.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "listpack.h"
#include "server.h"
#include "util.h"

/* ------------------------------------------------------------ scratch */

static struct akv_lp_pair *pairs; /* a hash's pairs being rebuilt */
static size_t pairs_cap;          /* bytes */
static const char **fx_argv;      /* a declared effect */
static size_t *fx_argl;
static size_t fx_cap_v, fx_cap_l;

static bool pairs_reserve(size_t n)
{
    return akv_grow((char **)&pairs, &pairs_cap, n * sizeof(*pairs),
                    64 * sizeof(*pairs));
}

static bool fx_reserve(size_t n)
{
    return akv_grow((char **)&fx_argv, &fx_cap_v, n * sizeof(*fx_argv),
                    16 * sizeof(*fx_argv)) &&
           akv_grow((char **)&fx_argl, &fx_cap_l, n * sizeof(*fx_argl),
                    16 * sizeof(*fx_argl));
}

static bool is_packed(const struct akv_entry *e)
{
    return akv_entry_enc(e) == AKV_ENC_LISTPACK;
}

static int64_t max_value(const struct akv_client *c)
{
    return c->ctx.a->hdr->h_cfg.hash_max_listpack_value;
}

/* Load the pairs of packed hash e (none if NULL) into pairs[], with room
 * for `extra` more.  Returns the count, or -1 after replying OOM. */
static long load_pairs(struct akv_client *c, struct akv_entry *e,
                       size_t extra)
{
    size_t n = e ? akv_lp_count(akv_entry_val(e), e->e_vlen) : 0;
    struct akv_lp_iter it;
    long i = 0;

    if (!pairs_reserve(n + extra + 1)) {
        akv_op_discard(&c->op);
        akv_reply_oom(c);
        return -1;
    }
    if (!e)
        return 0;
    akv_lp_iter_init(&it, akv_entry_val(e), e->e_vlen);
    while ((size_t)i < n && akv_lp_next(&it, &pairs[i]))
        i++;
    return i;
}

/* Index of field f in pairs[0..n), or -1. */
static long pairs_find(size_t n, const char *f, size_t flen)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[i].flen == flen && memcmp(pairs[i].f, f, flen) == 0)
            return (long)i;
    return -1;
}

/* ------------------------------------------------------------ effects */

/* Declare argv[0..argc) with argv[0] replaced by `name`. */
static void declare_as(struct akv_client *c, const char *name)
{
    if (!fx_reserve((size_t)c->argc))
        return; /* the encoder infers nothing better; see below */
    for (int i = 0; i < c->argc; i++) {
        fx_argv[i] = c->argv[i];
        fx_argl[i] = c->argl[i];
    }
    fx_argv[0] = name;
    fx_argl[0] = strlen(name);
    akv_op_effect(&c->op, c->db, c->argc, fx_argv, fx_argl);
}

/* Declare HSET key f v. */
static void declare_hset(struct akv_client *c, const char *f, size_t flen,
                         const char *v, size_t vlen)
{
    const char *argv[] = {"HSET", c->argv[1], f, v};
    const size_t argl[] = {4, c->argl[1], flen, vlen};

    akv_op_effect(&c->op, c->db, 4, argv, argl);
}

/* ------------------------------------------------------------ staging */

static int64_t ttl_of(struct akv_entry *old)
{
    return old ? atomic_load(&old->e_expire) : 0;
}

/* Replace hash argv[1] (old, packed or NULL) by pairs[0..n), packed.
 * NULL after replying OOM. */
/* Stage a packed hash of len bytes replacing argv[1] (old, packed or
 * NULL); the caller fills its value.  NULL after replying OOM. */
static struct akv_entry *stage_packed(struct akv_client *c,
                                      struct akv_entry *old, size_t len)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *e = akv_stage_entry(c, &k, len, len, ttl_of(old));

    if (!e)
        return NULL;
    e->e_type = AKV_TYPE_HASH;
    akv_entry_set_enc(e, AKV_ENC_LISTPACK);
    akv_op_declared(&c->op, e);
    if (old) {
        akv_op_del(&c->op, old);
        akv_op_declared(&c->op, old);
    }
    return e;
}

static struct akv_entry *put_packed(struct akv_client *c,
                                    struct akv_entry *old, size_t n)
{
    struct akv_entry *e = stage_packed(c, old, akv_lp_size(pairs, n));

    if (e)
        akv_lp_write(akv_entry_val(e), pairs, n);
    return e;
}

static int64_t max_entries(const struct akv_client *c)
{
    return c->ctx.a->hdr->h_cfg.hash_max_listpack_entries;
}

static void reply_oom_discard(struct akv_client *c)
{
    akv_op_discard(&c->op);
    akv_reply_oom(c);
}

/* Replace hash argv[1] (old, packed or NULL) by a large container of
 * pairs[0..n).  NULL after replying OOM. */
static struct akv_entry *put_large(struct akv_client *c,
                                   struct akv_entry *old, size_t n)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *ke;

    ke = akv_cont_create(&c->op, &k, AKV_TYPE_HASH, ttl_of(old));
    if (!ke)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (!akv_cont_put(&c->op, ke, NULL, pairs[i].f, pairs[i].flen,
                          pairs[i].v, pairs[i].vlen))
            goto oom;
    akv_op_declared(&c->op, ke);
    if (old) {
        akv_op_del(&c->op, old);
        akv_op_declared(&c->op, old);
    }
    return ke;
oom:
    reply_oom_discard(c);
    return NULL;
}

/* Set pairs set[0..nset) in large hash ke.  Returns the new fields, or -1
 * after replying OOM. */
static long long set_large(struct akv_client *c, struct akv_entry *ke,
                           const struct akv_lp_pair *set, size_t nset)
{
    long long added = 0;

    for (size_t i = 0; i < nset; i++) {
        struct akv_entry *el =
            akv_cont_find(&c->op, ke, set[i].f, set[i].flen);
        if (!el)
            added++;
        if (!akv_cont_put(&c->op, ke, el, set[i].f, set[i].flen, set[i].v,
                          set[i].vlen)) {
            reply_oom_discard(c);
            return -1;
        }
    }
    return added;
}

/* Whether writing set[0..nset) makes a packed hash convert. */
static bool too_long(const struct akv_client *c,
                     const struct akv_lp_pair *set, size_t nset)
{
    uint64_t lim = (uint64_t)max_value(c);

    for (size_t i = 0; i < nset; i++)
        if (set[i].flen > lim || set[i].vlen > lim)
            return true;
    return false;
}

#define SET_ONE_CONVERTS (-2)

/* Set one pair in packed hash old without unpacking it: the new string is
 * the old one with that pair's bytes replaced (or the pair appended).
 * Returns 1 for a new field, 0 for an updated one, -1 after replying OOM,
 * or SET_ONE_CONVERTS when the hash must convert (the caller's general
 * path does that). */
static long long set_one_packed(struct akv_client *c, struct akv_entry *old,
                                const struct akv_lp_pair *set)
{
    const char *lp = akv_entry_val(old);
    size_t len = old->e_vlen, start = len, end = len;
    struct akv_lp_pair p;
    bool found = akv_lp_locate(lp, len, set->f, set->flen, &p, &start, &end);
    struct akv_entry *e;

    if (too_long(c, set, 1) ||
        (!found && (int64_t)akv_lp_count(lp, len) + 1 > max_entries(c)))
        return SET_ONE_CONVERTS;
    e = stage_packed(c, old,
                     len - (end - start) +
                         akv_lp_pair_size(set->flen, set->vlen));
    if (!e)
        return -1;
    akv_lp_write_replaced(akv_entry_val(e), lp, len, start, end, set->f,
                          set->flen, set->v, set->vlen);
    return found ? 0 : 1;
}

/* Set pairs set[0..nset) in hash argv[1] (old: the hash or NULL), in
 * order, converting as Redis does.  Returns the number of new fields, or
 * -1 after replying OOM (the op's writes discarded). */
static long long hash_set(struct akv_client *c, struct akv_entry *old,
                          const struct akv_lp_pair *set, size_t nset)
{
    long long added = 0;
    long n;

    if (old && !is_packed(old))
        return set_large(c, old, set, nset);
    if (nset == 1 && old) {
        long long r = set_one_packed(c, old, set);
        if (r != SET_ONE_CONVERTS)
            return r;
    }
    if ((n = load_pairs(c, old, nset)) < 0)
        return -1;
    for (size_t i = 0; i < nset; i++) {
        long at = pairs_find((size_t)n, set[i].f, set[i].flen);
        if (at < 0) {
            at = n++;
            added++;
            pairs[at].f = set[i].f;
            pairs[at].flen = set[i].flen;
        }
        pairs[at].v = set[i].v;
        pairs[at].vlen = set[i].vlen;
    }
    if (too_long(c, set, nset) || n > max_entries(c))
        return put_large(c, old, (size_t)n) ? added : -1;
    return put_packed(c, old, (size_t)n) ? added : -1;
}

/* ------------------------------------------------------------ reading */

/* The value of field f in hash e; false if there is none. */
static bool hash_get(struct akv_client *c, struct akv_entry *e,
                     const char *f, size_t flen, const char **v,
                     size_t *vlen)
{
    if (is_packed(e)) {
        struct akv_lp_pair p;
        if (!akv_lp_find(akv_entry_val(e), e->e_vlen, f, flen, &p))
            return false;
        *v = p.v;
        *vlen = p.vlen;
        return true;
    }
    struct akv_entry *el = akv_cont_find(&c->op, e, f, flen);
    if (!el)
        return false;
    *v = akv_elem_val(el);
    *vlen = akv_elem_vlen(el);
    return true;
}

uint64_t akv_hash_len(struct akv_arena *a, const struct akv_entry *ke)
{
    if (is_packed(ke))
        return akv_lp_count(ke->e_data + ke->e_klen, ke->e_vlen);
    return akv_cont_len(a, ke);
}

struct pair_visit {
    akv_pair_fn fn;
    void *ctx;
};

static bool visit_elem(struct akv_entry *el, void *ctx)
{
    struct pair_visit *pv = ctx;

    return pv->fn(akv_elem_field(el), akv_elem_flen(el), akv_elem_val(el),
                  akv_elem_vlen(el), pv->ctx);
}

bool akv_hash_foreach(struct akv_arena *a, struct akv_entry *ke,
                      akv_pair_fn fn, void *ctx)
{
    struct akv_lp_iter it;
    struct akv_lp_pair p;

    if (is_packed(ke)) {
        akv_lp_iter_init(&it, akv_entry_val(ke), ke->e_vlen);
        while (akv_lp_next(&it, &p))
            if (!fn(p.f, p.flen, p.v, p.vlen, ctx))
                return false;
        return true;
    }
    struct pair_visit pv = {fn, ctx};
    return akv_cont_foreach(a, ke, visit_elem, &pv);
}

/* Look hash argv[1] up for a read; NULL when missing or (after replying
 * WRONGTYPE) of another type, with *bad set. */
static struct akv_entry *find_hash_read(struct akv_client *c, bool *bad)
{
    struct akv_entry *e = akv_find_read(c, 1);

    *bad = akv_wrongtype(c, e, AKV_TYPE_HASH);
    return *bad ? NULL : e;
}

static struct akv_entry *find_hash_write(struct akv_client *c, bool *bad)
{
    struct akv_entry *e = akv_find_write(c, 1);

    *bad = akv_wrongtype(c, e, AKV_TYPE_HASH);
    return *bad ? NULL : e;
}

/* ------------------------------------------------------------ writes */

static void hset_generic(struct akv_client *c, bool ok_reply)
{
    size_t nset = (size_t)(c->argc - 2) / 2;
    struct akv_lp_pair *set;
    struct akv_entry *e;
    long long added;
    bool bad;

    if (c->argc % 2 == 1) {
        akv_reply_wrong_arity(c);
        return;
    }
    if ((e = find_hash_write(c, &bad)), bad)
        return;
    if (!(set = malloc(nset * sizeof(*set)))) {
        akv_reply_oom(c);
        return;
    }
    for (size_t i = 0; i < nset; i++) {
        set[i].f = c->argv[2 + 2 * i];
        set[i].flen = c->argl[2 + 2 * i];
        set[i].v = c->argv[3 + 2 * i];
        set[i].vlen = c->argl[3 + 2 * i];
    }
    added = hash_set(c, e, set, nset);
    free(set);
    if (added < 0)
        return;
    declare_as(c, "HSET");
    if (ok_reply)
        akv_reply_ok(&c->reply);
    else
        akv_reply_int(&c->reply, added);
}

void akv_hset_command(struct akv_client *c)
{
    hset_generic(c, false);
}

void akv_hmset_command(struct akv_client *c)
{
    hset_generic(c, true);
}

void akv_hsetnx_command(struct akv_client *c)
{
    struct akv_lp_pair set = {c->argv[2], c->argv[3], c->argl[2],
                              c->argl[3]};
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    bool bad;

    if ((e = find_hash_write(c, &bad)), bad)
        return;
    if (e && hash_get(c, e, set.f, set.flen, &v, &vlen)) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (hash_set(c, e, &set, 1) < 0)
        return;
    declare_hset(c, set.f, set.flen, set.v, set.vlen);
    akv_reply_int(&c->reply, 1);
}

/* Remove pairs[at], closing the gap. */
static void pairs_remove(size_t n, size_t at)
{
    memmove(&pairs[at], &pairs[at + 1], (n - at - 1) * sizeof(*pairs));
}

static long long hdel_packed(struct akv_client *c, struct akv_entry *e)
{
    long long deleted = 0;
    long n = load_pairs(c, e, 0), at;

    if (n < 0)
        return -1;
    for (int i = 2; i < c->argc; i++) {
        if ((at = pairs_find((size_t)n, c->argv[i], c->argl[i])) < 0)
            continue;
        pairs_remove((size_t)n--, (size_t)at);
        deleted++;
    }
    if (deleted == 0)
        return 0;
    if (n == 0) {
        akv_op_del(&c->op, e);
        akv_op_declared(&c->op, e);
        return deleted;
    }
    return put_packed(c, e, (size_t)n) ? deleted : -1;
}

static long long hdel_large(struct akv_client *c, struct akv_entry *ke)
{
    long long deleted = 0;

    for (int i = 2; i < c->argc; i++) {
        struct akv_entry *el =
            akv_cont_find(&c->op, ke, c->argv[i], c->argl[i]);
        if (!el)
            continue;
        akv_cont_del(&c->op, ke, el);
        deleted++;
    }
    if (deleted && akv_cont_count(&c->op, ke) == 0) {
        akv_op_del(&c->op, ke);
        akv_op_declared(&c->op, ke);
    }
    return deleted;
}

void akv_hdel_command(struct akv_client *c)
{
    struct akv_entry *e;
    long long deleted;
    bool bad;

    if ((e = find_hash_write(c, &bad)), bad)
        return;
    if (!e) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    deleted = is_packed(e) ? hdel_packed(c, e) : hdel_large(c, e);
    if (deleted < 0)
        return;
    if (deleted)
        declare_as(c, "HDEL");
    akv_reply_int(&c->reply, deleted);
}

void akv_hincrby_command(struct akv_client *c)
{
    long long incr, cur = 0;
    struct akv_lp_pair set = {c->argv[2], NULL, c->argl[2], 0};
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    char buf[24];
    bool bad;

    if (akv_arg_ll(c, 3, &incr) < 0)
        return;
    if ((e = find_hash_write(c, &bad)), bad)
        return;
    if (e && hash_get(c, e, set.f, set.flen, &v, &vlen) &&
        !akv_str2ll(v, vlen, &cur)) {
        akv_reply_error(&c->reply, "ERR hash value is not an integer");
        return;
    }
    if (__builtin_add_overflow(cur, incr, &cur)) {
        akv_reply_error(&c->reply, "ERR increment or decrement would "
                                   "overflow");
        return;
    }
    set.v = buf;
    set.vlen = (size_t)akv_ll2str(buf, cur);
    if (hash_set(c, e, &set, 1) < 0)
        return;
    declare_hset(c, set.f, set.flen, set.v, set.vlen);
    akv_reply_int(&c->reply, cur);
}

/* As Redis 7.0: the increment is parsed and refused if not finite before
 * the key is looked up; the result is logged as HSET. */
void akv_hincrbyfloat_command(struct akv_client *c)
{
    long double incr, cur = 0;
    struct akv_lp_pair set = {c->argv[2], NULL, c->argl[2], 0};
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    char buf[5120];
    bool bad;

    if (!akv_str2ld(c->argv[3], c->argl[3], &incr)) {
        akv_reply_error(&c->reply, "ERR value is not a valid float");
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        akv_reply_error(&c->reply, "ERR value is NaN or Infinity");
        return;
    }
    if ((e = find_hash_write(c, &bad)), bad)
        return;
    if (e && hash_get(c, e, set.f, set.flen, &v, &vlen) &&
        !akv_str2ld(v, vlen, &cur)) {
        akv_reply_error(&c->reply, "ERR hash value is not a float");
        return;
    }
    cur += incr;
    if (isnan(cur) || isinf(cur)) {
        akv_reply_error(&c->reply, "ERR increment would produce NaN or "
                                   "Infinity");
        return;
    }
    set.v = buf;
    set.vlen = (size_t)akv_ld2str(buf, sizeof(buf), cur);
    if (hash_set(c, e, &set, 1) < 0)
        return;
    declare_hset(c, set.f, set.flen, set.v, set.vlen);
    akv_reply_bulk(&c->reply, set.v, set.vlen);
}

/* ------------------------------------------------------------ reads */

void akv_hget_command(struct akv_client *c)
{
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    if (e && hash_get(c, e, c->argv[2], c->argl[2], &v, &vlen))
        akv_reply_bulk(&c->reply, v, vlen);
    else
        akv_reply_null(&c->reply);
}

void akv_hmget_command(struct akv_client *c)
{
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    akv_reply_array(&c->reply, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        if (e && hash_get(c, e, c->argv[i], c->argl[i], &v, &vlen))
            akv_reply_bulk(&c->reply, v, vlen);
        else
            akv_reply_null(&c->reply);
    }
}

void akv_hlen_command(struct akv_client *c)
{
    struct akv_entry *e;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    akv_reply_int(&c->reply,
                  e ? (long long)akv_hash_len(c->ctx.a, e) : 0);
}

void akv_hstrlen_command(struct akv_client *c)
{
    struct akv_entry *e;
    const char *v;
    size_t vlen = 0;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    if (!e || !hash_get(c, e, c->argv[2], c->argl[2], &v, &vlen))
        vlen = 0;
    akv_reply_int(&c->reply, (long long)vlen);
}

void akv_hexists_command(struct akv_client *c)
{
    struct akv_entry *e;
    const char *v;
    size_t vlen;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    akv_reply_int(&c->reply,
                  e && hash_get(c, e, c->argv[2], c->argl[2], &v, &vlen));
}

#define WANT_FIELDS 1
#define WANT_VALUES 2

struct emit_ctx {
    struct akv_reply *r;
    int what;
};

static bool emit_pair(const char *f, size_t flen, const char *v,
                      size_t vlen, void *ctx)
{
    struct emit_ctx *ec = ctx;

    if (ec->what & WANT_FIELDS)
        akv_reply_bulk(ec->r, f, flen);
    if (ec->what & WANT_VALUES)
        akv_reply_bulk(ec->r, v, vlen);
    return true;
}

static void getall_generic(struct akv_client *c, int what)
{
    struct emit_ctx ec = {&c->reply, what};
    struct akv_entry *e;
    long n;
    bool bad;

    if ((e = find_hash_read(c, &bad)), bad)
        return;
    n = e ? (long)akv_hash_len(c->ctx.a, e) : 0;
    if (what == (WANT_FIELDS | WANT_VALUES))
        akv_reply_map(&c->reply, n);
    else
        akv_reply_array(&c->reply, n);
    if (e)
        akv_hash_foreach(c->ctx.a, e, emit_pair, &ec);
}

void akv_hkeys_command(struct akv_client *c)
{
    getall_generic(c, WANT_FIELDS);
}

void akv_hvals_command(struct akv_client *c)
{
    getall_generic(c, WANT_VALUES);
}

void akv_hgetall_command(struct akv_client *c)
{
    getall_generic(c, WANT_FIELDS | WANT_VALUES);
}

/* ------------------------------------------------------------ HRANDFIELD */

/* Every pair of hash e into pairs[] (any encoding); the count or -1 after
 * replying OOM.  The pointers stay valid while the stripe is held. */
struct collect_ctx {
    size_t n;
};

static bool collect_pair(const char *f, size_t flen, const char *v,
                         size_t vlen, void *ctx)
{
    struct collect_ctx *cc = ctx;

    pairs[cc->n].f = f;
    pairs[cc->n].flen = flen;
    pairs[cc->n].v = v;
    pairs[cc->n].vlen = vlen;
    cc->n++;
    return true;
}

static long collect_all(struct akv_client *c, struct akv_entry *e)
{
    struct collect_ctx cc = {0};
    uint64_t n = akv_hash_len(c->ctx.a, e);

    if (!pairs_reserve((size_t)n + 1)) {
        akv_reply_oom(c);
        return -1;
    }
    akv_hash_foreach(c->ctx.a, e, collect_pair, &cc);
    return (long)cc.n;
}

static void reply_pick(struct akv_client *c, const struct akv_lp_pair *p,
                       bool withvalues)
{
    if (withvalues && c->reply.resp >= 3)
        akv_reply_array(&c->reply, 2);
    akv_reply_bulk(&c->reply, p->f, p->flen);
    if (withvalues)
        akv_reply_bulk(&c->reply, p->v, p->vlen);
}

static void reply_picks_len(struct akv_client *c, long n, bool withvalues)
{
    akv_reply_array(&c->reply,
                    withvalues && c->reply.resp < 3 ? n * 2 : n);
}

/* A random pair of non-empty hash e. */
static bool random_pair(struct akv_client *c, struct akv_entry *e,
                        struct akv_lp_pair *out)
{
    if (!is_packed(e)) {
        struct akv_entry *el = akv_cont_random(c->ctx.a, e);
        if (!el)
            return false;
        out->f = akv_elem_field(el);
        out->flen = akv_elem_flen(el);
        out->v = akv_elem_val(el);
        out->vlen = akv_elem_vlen(el);
        return true;
    }
    uint32_t n = akv_lp_count(akv_entry_val(e), e->e_vlen);
    uint32_t at = n ? (uint32_t)(akv_random_u64() % n) : 0;
    struct akv_lp_iter it;

    (void)c;
    akv_lp_iter_init(&it, akv_entry_val(e), e->e_vlen);
    for (uint32_t i = 0; i <= at; i++)
        if (!akv_lp_next(&it, out))
            return false;
    return n != 0;
}

/* Count picks that may repeat (a negative count). */
static void rand_repeat(struct akv_client *c, struct akv_entry *e,
                        unsigned long count, bool withvalues)
{
    long n = 0;

    if (is_packed(e) && (n = collect_all(c, e)) < 0)
        return;
    reply_picks_len(c, (long)count, withvalues);
    for (unsigned long i = 0; i < count; i++) {
        struct akv_lp_pair p;
        if (is_packed(e))
            p = pairs[akv_random_u64() % (uint64_t)n];
        else if (!random_pair(c, e, &p))
            break;
        reply_pick(c, &p, withvalues);
    }
}

/* count distinct picks, count < size.  Packed: selection sampling, in the
 * hash's order (as Redis); large: a partial shuffle. */
static void rand_unique(struct akv_client *c, struct akv_entry *e,
                        unsigned long count, bool withvalues)
{
    long n = collect_all(c, e);
    unsigned long need = count;

    if (n < 0)
        return;
    reply_picks_len(c, (long)count, withvalues);
    if (is_packed(e)) {
        for (long i = 0; i < n && need; i++) {
            if (akv_random_u64() % (uint64_t)(n - i) < need) {
                reply_pick(c, &pairs[i], withvalues);
                need--;
            }
        }
        return;
    }
    for (unsigned long i = 0; i < count; i++) {
        uint64_t j = i + akv_random_u64() % (uint64_t)(n - (long)i);
        struct akv_lp_pair t = pairs[i];
        pairs[i] = pairs[j];
        pairs[j] = t;
        reply_pick(c, &pairs[i], withvalues);
    }
}

static void hrandfield_count(struct akv_client *c, long long l,
                             bool withvalues)
{
    struct akv_entry *e = akv_find_read(c, 1);
    struct emit_ctx ec = {&c->reply, WANT_FIELDS};
    unsigned long count, size;
    long i;

    if (!e) {
        akv_reply_array(&c->reply, 0);
        return;
    }
    if (akv_wrongtype(c, e, AKV_TYPE_HASH))
        return;
    size = (unsigned long)akv_hash_len(c->ctx.a, e);
    count = l >= 0 ? (unsigned long)l : (unsigned long)-l;
    if (count == 0) {
        akv_reply_array(&c->reply, 0);
    } else if (l < 0 || count == 1) {
        rand_repeat(c, e, count, withvalues);
    } else if (count >= size) {
        if (!withvalues) {
            akv_reply_array(&c->reply, (long)size);
            akv_hash_foreach(c->ctx.a, e, emit_pair, &ec);
            return;
        }
        if ((i = collect_all(c, e)) < 0)
            return;
        reply_picks_len(c, i, true);
        for (long j = 0; j < i; j++)
            reply_pick(c, &pairs[j], true);
    } else {
        rand_unique(c, e, count, withvalues);
    }
}

void akv_hrandfield_command(struct akv_client *c)
{
    struct akv_lp_pair p;
    struct akv_entry *e;
    long long l;
    bool withvalues = false;

    if (c->argc >= 3) {
        if (akv_arg_ll(c, 2, &l) < 0)
            return;
        if (l < -LLONG_MAX) {
            akv_reply_errorf(&c->reply, "ERR value is out of range, value "
                             "must between %lld and %lld", -LLONG_MAX,
                             LLONG_MAX);
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !akv_arg_is(c, 3, "withvalues"))) {
            akv_reply_syntax_error(c);
            return;
        }
        if (c->argc == 4) {
            withvalues = true;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                akv_reply_error(&c->reply, "ERR value is out of range");
                return;
            }
        }
        hrandfield_count(c, l, withvalues);
        return;
    }
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_HASH))
        return;
    if (e && random_pair(c, e, &p))
        akv_reply_bulk(&c->reply, p.f, p.flen);
    else
        akv_reply_null(&c->reply);
}

/* ------------------------------------------------------------ HSCAN */

struct scan_collect {
    struct collect_ctx cc;
    bool oom;
};

static bool scan_elem(struct akv_entry *el, void *ctx)
{
    struct scan_collect *sc = ctx;

    if (!pairs_reserve(sc->cc.n + 1)) {
        sc->oom = true;
        return false;
    }
    return collect_pair(akv_elem_field(el), akv_elem_flen(el),
                        akv_elem_val(el), akv_elem_vlen(el), &sc->cc);
}

void akv_hscan_command(struct akv_client *c)
{
    struct akv_scan_opts o;
    struct scan_collect sc = {{0}, false};
    struct akv_entry *e;
    uint64_t cur;
    size_t kept = 0;
    char buf[24];
    long n;

    if (akv_arg_cursor(c, 2, &cur) < 0)
        return;
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_HASH))
        return;
    if (!e) {
        akv_reply_array(&c->reply, 2);
        akv_reply_bulk(&c->reply, "0", 1);
        akv_reply_array(&c->reply, 0);
        return;
    }
    if (akv_arg_scan_opts(c, 3, false, &o) < 0)
        return;
    if (is_packed(e)) {
        if ((n = collect_all(c, e)) < 0)
            return;
        sc.cc.n = (size_t)n;
        cur = 0;
    } else {
        long long visits = AKV_MIN(o.count * 10, 1LL << 30);
        do {
            cur = akv_cont_scan(c->ctx.a, e, cur, scan_elem, &sc);
        } while (cur && !sc.oom && visits-- > 0 &&
                 sc.cc.n < (size_t)o.count);
        if (sc.oom) {
            akv_reply_oom(c);
            return;
        }
    }
    for (size_t i = 0; i < sc.cc.n; i++)
        if (!o.pat || akv_glob_match(o.pat, o.plen, pairs[i].f,
                                     pairs[i].flen, false))
            pairs[kept++] = pairs[i];
    akv_reply_array(&c->reply, 2);
    akv_reply_bulk(&c->reply, buf,
                   (size_t)snprintf(buf, sizeof(buf), "%llu",
                                    (unsigned long long)cur));
    akv_reply_array(&c->reply, (long)kept * 2);
    for (size_t i = 0; i < kept; i++) {
        akv_reply_bulk(&c->reply, pairs[i].f, pairs[i].flen);
        akv_reply_bulk(&c->reply, pairs[i].v, pairs[i].vlen);
    }
}
