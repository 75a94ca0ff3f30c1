/*
 * t_set.c -- set commands.
 *
 * A set has one of two encodings (container.h):
 *
 *   intset     every member is an integer Redis would store as one (its
 *              string2ll form: no sign '+', no leading zeros or spaces)
 *              and there are at most set-max-intset-entries of them; the
 *              whole set is the key entry's value (intset.h), rewritten by
 *              every write like a string.
 *   hashtable  the large container of container.h: one element chunk per
 *              member, staged one by one.
 *
 * A set converts to hashtable in the same op as the write that adds a
 * non-integer member or passes the limit, and never back, exactly when
 * Redis 7.0 does; a set emptied by a write is deleted.  The *STORE
 * commands build their destination as Redis does (an intset if the result
 * fits one), and so does SMOVE for a new destination.
 *
 * Effects: each write declares the command that reproduces its change,
 * idempotent and naming only the keys it changes: SADD and SREM as given,
 * SPOP as SREM of the popped members, SMOVE as SREM from the source plus
 * SADD to the destination, a *STORE as DEL of the destination plus SADD of
 * the result in batches.  Every key entry a handler stages is declared,
 * so nothing is inferred for it (lazily expired keys keep their DEL).
 *
 * Replies follow Redis 7.0: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with
 * a count are RESP3 sets, SRANDMEMBER with a count an array; an intset is
 * listed in ascending order, and so is a computed result that would be
 * stored as an intset.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "container.h"
#include "intset.h"
#include "server.h"
#include "util.h"

#define EFFECT_BATCH 1024 /* members per SADD / SREM effect record */
#define RANDOM_SUB_MUL 3  /* SRANDMEMBER: pick by removal above this */
#define SPOP_MOVE_MUL 5   /* SPOP: rebuild what is left below this */

/* ------------------------------------------------------ member lists
 * A process-local list of member strings: records [size_t n][n bytes],
 * optionally indexed by an open-addressing table for membership. */

struct mlist {
    char *buf;
    size_t len, cap;
    size_t n;
    size_t *slot; /* record offset + 1, 0 = empty; NULL without index */
    size_t nslot;
};

static void ml_free(struct mlist *l)
{
    free(l->buf);
    free(l->slot);
    memset(l, 0, sizeof(*l));
}

static const char *ml_at(const struct mlist *l, size_t off, size_t *n)
{
    memcpy(n, l->buf + off, sizeof(*n));
    return l->buf + off + sizeof(*n);
}

static size_t ml_next(const struct mlist *l, size_t off)
{
    size_t n;

    ml_at(l, off, &n);
    return off + sizeof(n) + n;
}

static bool ml_push(struct mlist *l, const char *p, size_t n)
{
    if (!akv_grow(&l->buf, &l->cap, l->len + sizeof(n) + n, 256))
        return false;
    memcpy(l->buf + l->len, &n, sizeof(n));
    memcpy(l->buf + l->len + sizeof(n), p, n);
    l->len += sizeof(n) + n;
    l->n++;
    return true;
}

static uint64_t bytes_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The slot of p[0..n) in the index: where it is, or the empty one. */
static size_t ml_probe(const struct mlist *l, const char *p, size_t n)
{
    size_t i = (size_t)bytes_hash(p, n) & (l->nslot - 1);

    for (;; i = (i + 1) & (l->nslot - 1)) {
        size_t m;
        const char *q;
        if (!l->slot[i])
            return i;
        q = ml_at(l, l->slot[i] - 1, &m);
        if (m == n && memcmp(p, q, n) == 0)
            return i;
    }
}

static bool ml_reindex(struct mlist *l, size_t nslot)
{
    size_t *s = calloc(nslot, sizeof(*s));

    if (!s)
        return false;
    free(l->slot);
    l->slot = s;
    l->nslot = nslot;
    for (size_t off = 0; off < l->len; off = ml_next(l, off)) {
        size_t n;
        const char *p = ml_at(l, off, &n);
        l->slot[ml_probe(l, p, n)] = off + 1;
    }
    return true;
}

static bool ml_has(const struct mlist *l, const char *p, size_t n)
{
    return l->nslot && l->slot[ml_probe(l, p, n)];
}

/* Add p[0..n) unless present.  Returns 1 added, 0 present, -1 no memory. */
static int ml_add(struct mlist *l, const char *p, size_t n)
{
    size_t off = l->len, i;

    if ((l->n + 1) * 2 > l->nslot &&
        !ml_reindex(l, l->nslot ? l->nslot * 2 : 64))
        return -1;
    i = ml_probe(l, p, n);
    if (l->slot[i])
        return 0;
    if (!ml_push(l, p, n))
        return -1;
    l->slot[i] = off + 1;
    return 1;
}

/* Pointer and length arrays over a list (for effects and replies). */
static bool ml_vector(const struct mlist *l, const char ***pv, size_t **pl)
{
    size_t i = 0;

    *pv = malloc((l->n + 1) * sizeof(**pv));
    *pl = malloc((l->n + 1) * sizeof(**pl));
    if (!*pv || !*pl) {
        free(*pv);
        free(*pl);
        return false;
    }
    for (size_t off = 0; off < l->len; off = ml_next(l, off), i++)
        (*pv)[i] = ml_at(l, off, &(*pl)[i]);
    return true;
}

/* ------------------------------------------------------ set access */

static bool is_intset(const struct akv_entry *e)
{
    return akv_entry_enc(e) == AKV_ENC_INTSET;
}

static const char *iv(const struct akv_entry *e)
{
    return akv_entry_val((struct akv_entry *)e);
}

static size_t max_intset(const struct akv_client *c)
{
    int64_t v = c->ctx.a->hdr->h_cfg.set_max_intset_entries;

    return v > (1 << 30) ? (size_t)1 << 30 : (size_t)v;
}

static bool member_int(const char *p, size_t n, int64_t *v)
{
    long long x;

    if (!akv_str2ll(p, n, &x))
        return false;
    *v = x;
    return true;
}

/* Members of e (NULL: 0) as this op sees it. */
static uint64_t set_size(struct akv_client *c, const struct akv_entry *e)
{
    if (!e)
        return 0;
    if (is_intset(e))
        return akv_intset_len(iv(e), e->e_vlen);
    return akv_cont_count(&c->op, e);
}

static bool set_has(struct akv_client *c, struct akv_entry *e, const char *p,
                    size_t n)
{
    int64_t v;

    if (!e)
        return false;
    if (is_intset(e))
        return member_int(p, n, &v) && akv_intset_has(iv(e), e->e_vlen, v);
    return akv_cont_find(&c->op, e, p, n) != NULL;
}

struct foreach_ctx {
    akv_pair_fn fn;
    void *ctx;
};

static bool foreach_elem(struct akv_entry *el, void *ctx)
{
    struct foreach_ctx *f = ctx;

    return f->fn(akv_elem_field(el), akv_elem_flen(el), NULL, 0, f->ctx);
}

bool akv_set_foreach(struct akv_arena *a, struct akv_entry *ke,
                     akv_pair_fn fn, void *ctx)
{
    if (is_intset(ke)) {
        size_t n = akv_intset_len(iv(ke), ke->e_vlen);
        char buf[24];
        for (size_t i = 0; i < n; i++) {
            int len = akv_ll2str(buf, akv_intset_get(iv(ke), i));
            if (!fn(buf, (size_t)len, NULL, 0, ctx))
                return false;
        }
        return true;
    }
    struct foreach_ctx f = {fn, ctx};
    return akv_cont_foreach(a, ke, foreach_elem, &f);
}

uint64_t akv_set_len(struct akv_arena *a, const struct akv_entry *ke)
{
    if (is_intset(ke))
        return akv_intset_len(iv(ke), ke->e_vlen);
    return akv_cont_len(a, ke);
}

static bool push_member(const char *f, size_t flen, const char *v,
                        size_t vlen, void *ctx)
{
    (void)v;
    (void)vlen;
    return ml_push(ctx, f, flen);
}

/* Copy every member of e into l.  False without memory. */
static bool set_collect(struct akv_client *c, struct akv_entry *e,
                        struct mlist *l)
{
    return akv_set_foreach(c->ctx.a, e, push_member, l);
}

/* -------------------------------------------------------- staging */

static void reply_oom_discard(struct akv_client *c)
{
    akv_op_discard(&c->op);
    akv_reply_oom(c);
}

static int64_t ttl_of(struct akv_entry *e)
{
    return e ? atomic_load(&e->e_expire) : 0;
}

/* Declare every key entry the handler staged (new or removed): the
 * effects it declares cover them.  Lazily expired keys keep their DEL. */
static void declare_staged(struct akv_client *c)
{
    for (int i = 0; i < c->op.nst; i++) {
        struct akv_staged *s = &c->op.st[i];
        if (!s->expired && !akv_chunk_is_elem(s->e))
            akv_op_declared(&c->op, s->e);
    }
}

/* Stage key k as the intset of ascending members m[0..n) (width at least
 * minw), replacing old.  NULL after replying OOM. */
static struct akv_entry *put_intset(struct akv_client *c,
                                    const struct akv_key *k, const int64_t *m,
                                    size_t n, unsigned minw,
                                    struct akv_entry *old, int64_t expire)
{
    size_t bytes = akv_intset_bytes(m, n, minw);
    struct akv_entry *e = akv_stage_entry(c, k, bytes, bytes, expire);

    if (!e)
        return NULL;
    e->e_type = AKV_TYPE_SET;
    akv_entry_set_enc(e, AKV_ENC_INTSET);
    akv_intset_encode(akv_entry_val(e), m, n, minw);
    if (old)
        akv_op_del(&c->op, old);
    return e;
}

/* Stage key k as a hashtable holding the members of intset old (NULL: an
 * empty one), replacing old, with expiry `expire`.  NULL after replying
 * OOM. */
static struct akv_entry *to_hashtable(struct akv_client *c,
                                      const struct akv_key *k,
                                      struct akv_entry *old, int64_t expire)
{
    struct akv_entry *ke = akv_cont_create(&c->op, k, AKV_TYPE_SET, expire);
    size_t n = old ? akv_intset_len(iv(old), old->e_vlen) : 0;
    char buf[24];

    if (!ke) {
        reply_oom_discard(c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int len = akv_ll2str(buf, akv_intset_get(iv(old), i));
        if (!akv_cont_put(&c->op, ke, NULL, buf, (size_t)len, NULL, 0)) {
            reply_oom_discard(c);
            return NULL;
        }
    }
    if (old)
        akv_op_del(&c->op, old);
    return ke;
}

/* The intset path of add_members: stage old plus m[0..n) as an intset if
 * they all are integers and fit.  Returns the number added, -1 after an
 * OOM reply, or -2 when the set must become a hashtable. */
static long long add_intset(struct akv_client *c, const struct akv_key *k,
                            struct akv_entry *old, const char *const *m,
                            const size_t *ml, int n, int64_t expire)
{
    size_t on = old ? akv_intset_len(iv(old), old->e_vlen) : 0, nn;
    int64_t *v = malloc((on + (size_t)n) * sizeof(*v) + 1);
    long long added = -2;

    if (!v) {
        reply_oom_discard(c);
        return -1;
    }
    if (old)
        akv_intset_decode(iv(old), old->e_vlen, v);
    for (int i = 0; i < n; i++)
        if (!member_int(m[i], ml[i], &v[on + (size_t)i]))
            goto out;
    nn = akv_int_sort_unique(v, on + (size_t)n);
    if (nn == on) {
        added = 0;
    } else if (nn <= max_intset(c)) {
        added = put_intset(c, k, v, nn, old ? akv_intset_width(iv(old)) : 0,
                           old, expire)
                    ? (long long)(nn - on)
                    : -1;
    }
out:
    free(v);
    return added;
}

/* Add members m[0..n) to set e of key k (NULL: a new set with expiry
 * `expire`), converting it as Redis does; an existing set keeps its TTL.
 * Returns the number added, or -1 after an OOM reply. */
static long long add_members(struct akv_client *c, const struct akv_key *k,
                             struct akv_entry *e, const char *const *m,
                             const size_t *ml, int n, int64_t expire)
{
    long long added = 0;

    if (e)
        expire = ttl_of(e);
    if (!e || is_intset(e)) {
        added = add_intset(c, k, e, m, ml, n, expire);
        if (added != -2)
            return added;
        if (!(e = to_hashtable(c, k, e, expire)))
            return -1;
        added = 0;
    }
    for (int i = 0; i < n; i++) {
        if (akv_cont_find(&c->op, e, m[i], ml[i]))
            continue;
        if (!akv_cont_put(&c->op, e, NULL, m[i], ml[i], NULL, 0)) {
            reply_oom_discard(c);
            return -1;
        }
        added++;
    }
    return added;
}

/* Remove members m[0..n) from set e of key k, deleting the key when it
 * empties.  Returns the number removed, or -1 after an OOM reply. */
static long long remove_members(struct akv_client *c, const struct akv_key *k,
                                struct akv_entry *e, const char *const *m,
                                const size_t *ml, int n)
{
    long long removed = 0;

    if (is_intset(e)) {
        size_t on = akv_intset_len(iv(e), e->e_vlen), nn = 0;
        int64_t *v = malloc(on * sizeof(*v) + 1), x;
        if (!v) {
            reply_oom_discard(c);
            return -1;
        }
        akv_intset_decode(iv(e), e->e_vlen, v);
        /* Keep the members no argument names (linear, as the copy). */
        {
            struct mlist gone = {0};
            char buf[24];
            for (int i = 0; i < n; i++)
                if (member_int(m[i], ml[i], &x) &&
                    akv_intset_has(iv(e), e->e_vlen, x) &&
                    ml_add(&gone, buf, (size_t)akv_ll2str(buf, x)) < 0) {
                    ml_free(&gone);
                    free(v);
                    reply_oom_discard(c);
                    return -1;
                }
            for (size_t i = 0; i < on; i++)
                if (!ml_has(&gone, buf, (size_t)akv_ll2str(buf, v[i])))
                    v[nn++] = v[i];
            removed = (long long)gone.n;
            ml_free(&gone);
        }
        if (removed && nn == 0)
            akv_op_del(&c->op, e);
        else if (removed && !put_intset(c, k, v, nn, akv_intset_width(iv(e)),
                                        e, ttl_of(e)))
            removed = -1;
        free(v);
        return removed;
    }
    for (int i = 0; i < n; i++) {
        struct akv_entry *el = akv_cont_find(&c->op, e, m[i], ml[i]);
        if (!el)
            continue;
        akv_cont_del(&c->op, e, el);
        removed++;
    }
    if (removed && akv_cont_count(&c->op, e) == 0) {
        akv_op_discard(&c->op);
        akv_op_del(&c->op, e);
    }
    return removed;
}

/* Declare `cmd key members...` for the members of l, in batches. */
static void effect_members(struct akv_client *c, const char *cmd,
                           const char *key, size_t klen,
                           const struct mlist *l)
{
    const char *av[EFFECT_BATCH + 2];
    size_t al[EFFECT_BATCH + 2];
    int n = 0;

    av[0] = cmd;
    al[0] = strlen(cmd);
    av[1] = key;
    al[1] = klen;
    for (size_t off = 0; off < l->len; off = ml_next(l, off)) {
        av[2 + n] = ml_at(l, off, &al[2 + n]);
        if (++n == EFFECT_BATCH) {
            akv_op_effect(&c->op, c->db, n + 2, av, al);
            n = 0;
        }
    }
    if (n)
        akv_op_effect(&c->op, c->db, n + 2, av, al);
}

static void effect_del(struct akv_client *c, const char *key, size_t klen)
{
    const char *av[] = {"DEL", key};
    const size_t al[] = {3, klen};

    akv_op_effect(&c->op, c->db, 2, av, al);
}

/* ------------------------------------------------- simple commands */

void akv_sadd_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *e = akv_find_write(c, 1);
    long long added;

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    added = add_members(c, &k, e, c->argv + 2, c->argl + 2, c->argc - 2,
                        0);
    if (added < 0)
        return;
    if (added) {
        declare_staged(c);
        akv_op_effect(&c->op, c->db, c->argc, c->argv, c->argl);
    }
    akv_reply_int(&c->reply, added);
}

void akv_srem_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *e = akv_find_write(c, 1);
    long long removed;

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    removed = remove_members(c, &k, e, c->argv + 2, c->argl + 2,
                             c->argc - 2);
    if (removed < 0)
        return;
    if (removed) {
        declare_staged(c);
        akv_op_effect(&c->op, c->db, c->argc, c->argv, c->argl);
    }
    akv_reply_int(&c->reply, removed);
}

void akv_scard_command(struct akv_client *c)
{
    struct akv_entry *e = akv_find_read(c, 1);

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    akv_reply_int(&c->reply, (long long)set_size(c, e));
}

void akv_sismember_command(struct akv_client *c)
{
    struct akv_entry *e = akv_find_read(c, 1);

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    akv_reply_int(&c->reply, set_has(c, e, c->argv[2], c->argl[2]));
}

void akv_smismember_command(struct akv_client *c)
{
    struct akv_entry *e = akv_find_read(c, 1);

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    akv_reply_array(&c->reply, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        akv_reply_int(&c->reply, set_has(c, e, c->argv[i], c->argl[i]));
}

/* Reply the members of l as a set (or an array), in list order. */
static void reply_list(struct akv_client *c, const struct mlist *l,
                       bool as_set)
{
    if (as_set)
        akv_reply_set(&c->reply, (long)l->n);
    else
        akv_reply_array(&c->reply, (long)l->n);
    for (size_t off = 0; off < l->len; off = ml_next(l, off)) {
        size_t n;
        const char *p = ml_at(l, off, &n);
        akv_reply_bulk(&c->reply, p, n);
    }
}

static bool reply_member(const char *f, size_t flen, const char *v,
                         size_t vlen, void *ctx)
{
    (void)v;
    (void)vlen;
    akv_reply_bulk(ctx, f, flen);
    return true;
}

/* Reply every member of e (committed state) as a set or an array. */
static void reply_set(struct akv_client *c, struct akv_entry *e, bool as_set)
{
    long n = (long)set_size(c, e);

    if (as_set)
        akv_reply_set(&c->reply, n);
    else
        akv_reply_array(&c->reply, n);
    if (e)
        akv_set_foreach(c->ctx.a, e, reply_member, &c->reply);
}

void akv_smembers_command(struct akv_client *c)
{
    struct akv_entry *e = akv_find_read(c, 1);

    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    reply_set(c, e, true);
}

/* -------------------------------------------------- random members */

static uint64_t rnd(uint64_t n)
{
    return n ? akv_random_u64() % n : 0;
}

/* Shuffle the first k of v[0..n) into a uniform random k-subset. */
static void partial_shuffle_idx(size_t *v, size_t n, size_t k)
{
    for (size_t i = 0; i < k && i < n; i++) {
        size_t j = i + (size_t)rnd(n - i), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Choose `count` distinct random members of e (count < size) into out. */
static bool pick_distinct(struct akv_client *c, struct akv_entry *e,
                          size_t count, struct mlist *out)
{
    size_t size = (size_t)set_size(c, e);
    struct mlist all = {0};
    const char **pv = NULL;
    size_t *pl = NULL, *idx = NULL;
    bool ok = false;

    if (!is_intset(e) && count * RANDOM_SUB_MUL <= size) {
        while (out->n < count) {
            struct akv_entry *el = akv_cont_random(c->ctx.a, e);
            if (!el || ml_add(out, akv_elem_field(el), akv_elem_flen(el)) < 0)
                return false;
        }
        return true;
    }
    if (!set_collect(c, e, &all) || !ml_vector(&all, &pv, &pl) ||
        !(idx = malloc(size * sizeof(*idx) + 1)))
        goto out;
    for (size_t i = 0; i < size; i++)
        idx[i] = i;
    partial_shuffle_idx(idx, size, count);
    ok = true;
    for (size_t i = 0; i < count && ok; i++)
        ok = ml_push(out, pv[idx[i]], pl[idx[i]]);
out:
    free(idx);
    free(pv);
    free(pl);
    ml_free(&all);
    return ok;
}

/* One random member of non-empty e into buf/out. */
static const char *random_member(struct akv_client *c, struct akv_entry *e,
                                 char *buf, size_t *n)
{
    struct akv_entry *el;

    if (is_intset(e)) {
        size_t len = akv_intset_len(iv(e), e->e_vlen);
        *n = (size_t)akv_ll2str(buf, akv_intset_get(iv(e), rnd(len)));
        return buf;
    }
    el = akv_cont_random(c->ctx.a, e);
    if (!el) {
        *n = 0;
        return "";
    }
    *n = akv_elem_flen(el);
    return akv_elem_field(el);
}

static void srandmember_count(struct akv_client *c)
{
    long long l;
    struct akv_entry *e;
    struct mlist out = {0};
    uint64_t size, count;
    char buf[24];

    if (akv_arg_ll(c, 2, &l) < 0)
        return;
    if (l == LLONG_MIN) {
        akv_reply_error(&c->reply, "ERR value is out of range, value must "
                                   "between -9223372036854775807 and "
                                   "9223372036854775807");
        return;
    }
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e || l == 0) {
        akv_reply_array(&c->reply, 0);
        return;
    }
    size = set_size(c, e);
    if (l < 0) {
        count = (uint64_t)-l;
        akv_reply_array(&c->reply, (long)count);
        while (count--) {
            size_t n;
            const char *p = random_member(c, e, buf, &n);
            akv_reply_bulk(&c->reply, p, n);
        }
        return;
    }
    count = (uint64_t)l;
    if (count >= size) {
        reply_set(c, e, false);
        return;
    }
    if (!pick_distinct(c, e, (size_t)count, &out))
        akv_reply_error(&c->reply, "ERR out of memory");
    else
        reply_list(c, &out, false);
    ml_free(&out);
}

void akv_srandmember_command(struct akv_client *c)
{
    struct akv_entry *e;
    char buf[24];
    size_t n;
    const char *p;

    if (c->argc > 3) {
        akv_reply_syntax_error(c);
        return;
    }
    if (c->argc == 3) {
        srandmember_count(c);
        return;
    }
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e) {
        akv_reply_null(&c->reply);
        return;
    }
    p = random_member(c, e, buf, &n);
    akv_reply_bulk(&c->reply, p, n);
}

/* Replace set e of key k by a new set of the members that l does not
 * name (with e's TTL), encoded as a new set of them would be. */
static bool rebuild_without(struct akv_client *c, const struct akv_key *k,
                            struct akv_entry *e, const struct mlist *l)
{
    struct mlist gone = {0}, all = {0}, keep = {0};
    const char **pv = NULL;
    size_t *pl = NULL;
    bool ok = set_collect(c, e, &all);

    for (size_t off = 0; ok && off < l->len; off = ml_next(l, off)) {
        size_t n;
        const char *p = ml_at(l, off, &n);
        ok = ml_add(&gone, p, n) >= 0;
    }
    for (size_t off = 0; ok && off < all.len; off = ml_next(&all, off)) {
        size_t n;
        const char *p = ml_at(&all, off, &n);
        if (!ml_has(&gone, p, n))
            ok = ml_push(&keep, p, n);
    }
    if (ok && (ok = ml_vector(&keep, &pv, &pl))) {
        int64_t ttl = ttl_of(e);
        akv_op_del(&c->op, e);
        if (add_members(c, k, NULL, pv, pl, (int)keep.n, ttl) < 0) {
            ok = false;
            goto out; /* the OOM error is replied */
        }
    }
    if (!ok)
        akv_reply_error(&c->reply, "ERR out of memory");
out:
    free(pv);
    free(pl);
    ml_free(&gone);
    ml_free(&all);
    ml_free(&keep);
    return ok;
}

/* Remove the members of l (all present) from set e of argv[1], declaring
 * SREM of them; deletes the key when they are all its members.  With
 * `rebuild`, the rest becomes a new set (Redis's SPOP does so when it pops
 * most of a set: what is left may then be an intset again).  The effect
 * stays SREM, as Redis logs it, so a replay keeps the old encoding, as
 * Redis's own replay does. */
static bool pop_members(struct akv_client *c, struct akv_entry *e,
                        const struct mlist *l, bool rebuild)
{
    struct akv_key k = akv_arg_key(c, 1);
    const char **pv;
    size_t *pl;
    long long r;

    if (l->n >= set_size(c, e)) {
        akv_op_del(&c->op, e);
    } else if (rebuild) {
        if (!rebuild_without(c, &k, e, l))
            return false;
    } else {
        if (!ml_vector(l, &pv, &pl)) {
            akv_reply_error(&c->reply, "ERR out of memory");
            return false;
        }
        r = remove_members(c, &k, e, pv, pl, (int)l->n);
        free(pv);
        free(pl);
        if (r < 0)
            return false;
    }
    declare_staged(c);
    effect_members(c, "SREM", c->argv[1], c->argl[1], l);
    return true;
}

/* Sort the members of l numerically when they all are integers and as
 * many as an intset may hold: the order Redis lists such a result in. */
static bool ml_sort_if_intset(struct akv_client *c, struct mlist *l)
{
    int64_t *v;
    size_t i = 0;
    char buf[24];
    struct mlist s = {0};

    if (l->n > max_intset(c))
        return true;
    if (!(v = malloc(l->n * sizeof(*v) + 1)))
        return false;
    for (size_t off = 0; off < l->len; off = ml_next(l, off)) {
        size_t n;
        const char *p = ml_at(l, off, &n);
        if (!member_int(p, n, &v[i++])) {
            free(v);
            return true;
        }
    }
    akv_int_sort_unique(v, l->n);
    for (i = 0; i < l->n; i++)
        if (!ml_push(&s, buf, (size_t)akv_ll2str(buf, v[i]))) {
            free(v);
            ml_free(&s);
            return false;
        }
    free(v);
    ml_free(l);
    *l = s;
    return true;
}

static void spop_count(struct akv_client *c)
{
    long long l;
    struct akv_entry *e;
    struct mlist out = {0};
    uint64_t size;

    if (!akv_str2ll(c->argv[2], c->argl[2], &l) || l < 0) {
        akv_reply_error(&c->reply, "ERR value is out of range, must be "
                                   "positive");
        return;
    }
    e = akv_find_write(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e || l == 0) {
        akv_reply_set(&c->reply, 0);
        return;
    }
    size = set_size(c, e);
    if ((uint64_t)l >= size) {
        if (!set_collect(c, e, &out) || !ml_sort_if_intset(c, &out))
            goto oom;
    } else if (!pick_distinct(c, e, (size_t)l, &out)) {
        goto oom;
    }
    /* Redis pops most of a set by keeping the rest in a new set. */
    if (pop_members(c, e, &out,
                    (size - (uint64_t)l) * SPOP_MOVE_MUL <= (uint64_t)l))
        reply_list(c, &out, true);
    ml_free(&out);
    return;
oom:
    ml_free(&out);
    akv_reply_error(&c->reply, "ERR out of memory");
}

void akv_spop_command(struct akv_client *c)
{
    struct akv_entry *e;
    struct mlist out = {0};
    char buf[24];
    size_t n;
    const char *p;

    if (c->argc > 3) {
        akv_reply_syntax_error(c);
        return;
    }
    if (c->argc == 3) {
        spop_count(c);
        return;
    }
    e = akv_find_write(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e) {
        akv_reply_null(&c->reply);
        return;
    }
    p = random_member(c, e, buf, &n);
    if (!ml_push(&out, p, n)) {
        akv_reply_error(&c->reply, "ERR out of memory");
        return;
    }
    if (pop_members(c, e, &out, false))
        akv_reply_bulk(&c->reply, out.buf + sizeof(size_t), n);
    ml_free(&out);
}

void akv_smove_command(struct akv_client *c)
{
    struct akv_key sk = akv_arg_key(c, 1), dk = akv_arg_key(c, 2);
    struct akv_entry *src = akv_find_write(c, 1);
    struct akv_entry *dst = akv_find_write(c, 2);
    const char *m = c->argv[3];
    size_t ml = c->argl[3];
    const char *av[3];
    size_t al[3];

    if (!src) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (akv_wrongtype(c, src, AKV_TYPE_SET) ||
        akv_wrongtype(c, dst, AKV_TYPE_SET))
        return;
    if (src == dst) {
        akv_reply_int(&c->reply, set_has(c, src, m, ml));
        return;
    }
    if (!set_has(c, src, m, ml)) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (set_size(c, src) == 1)
        akv_op_del(&c->op, src);
    else if (remove_members(c, &sk, src, &m, &ml, 1) < 0)
        return;
    if (add_members(c, &dk, dst, &m, &ml, 1, 0) < 0)
        return;
    declare_staged(c);
    av[0] = "SREM";
    al[0] = 4;
    av[1] = c->argv[1];
    al[1] = c->argl[1];
    av[2] = m;
    al[2] = ml;
    akv_op_effect(&c->op, c->db, 3, av, al);
    av[0] = "SADD";
    av[1] = c->argv[2];
    al[1] = c->argl[2];
    akv_op_effect(&c->op, c->db, 3, av, al);
    akv_reply_int(&c->reply, 1);
}

/* ------------------------------------------------ algebra of sets */

enum { OP_INTER, OP_UNION, OP_DIFF };

/* Look the sets of argv[from..from+n) up into sets[] (NULL: missing).
 * False after a WRONGTYPE reply. */
static bool lookup_sets(struct akv_client *c, int from, int n,
                        struct akv_entry **sets, bool write)
{
    for (int i = 0; i < n; i++) {
        sets[i] = write ? akv_find_write(c, from + i)
                        : akv_find_read(c, from + i);
        if (akv_wrongtype(c, sets[i], AKV_TYPE_SET))
            return false;
    }
    return true;
}

struct inter_ctx {
    struct akv_client *c;
    struct akv_entry **sets;
    int n, first;
    struct mlist *out;
    uint64_t limit, found;
    bool oom;
};

static bool inter_one(const char *f, size_t flen, const char *v, size_t vlen,
                      void *ctx)
{
    struct inter_ctx *x = ctx;

    (void)v;
    (void)vlen;
    for (int j = 0; j < x->n; j++)
        if (j != x->first && x->sets[j] != x->sets[x->first] &&
            !set_has(x->c, x->sets[j], f, flen))
            return true;
    x->found++;
    if (x->out && !ml_push(x->out, f, flen)) {
        x->oom = true;
        return false;
    }
    return !x->limit || x->found < x->limit;
}

/* Members of the intersection of sets[0..n) (none missing) into out, or
 * only counted (out NULL) up to limit (0: all).  Returns the count, or -1
 * without memory.  The smallest set is walked, in its own order. */
static long long set_inter(struct akv_client *c, struct akv_entry **sets,
                           int n, struct mlist *out, uint64_t limit)
{
    struct inter_ctx x = {c, sets, n, 0, out, limit, 0, false};

    for (int j = 1; j < n; j++)
        if (set_size(c, sets[j]) < set_size(c, sets[x.first]))
            x.first = j;
    akv_set_foreach(c->ctx.a, sets[x.first], inter_one, &x);
    return x.oom ? -1 : (long long)x.found;
}

struct union_ctx {
    struct mlist *out;
    struct akv_client *c;
    struct akv_entry **sets;
    int n;
    bool oom;
};

static bool union_one(const char *f, size_t flen, const char *v, size_t vlen,
                      void *ctx)
{
    struct union_ctx *x = ctx;

    (void)v;
    (void)vlen;
    if (ml_add(x->out, f, flen) < 0) {
        x->oom = true;
        return false;
    }
    return true;
}

static bool diff_one(const char *f, size_t flen, const char *v, size_t vlen,
                     void *ctx)
{
    struct union_ctx *x = ctx;

    (void)v;
    (void)vlen;
    for (int j = 1; j < x->n; j++)
        if (set_has(x->c, x->sets[j], f, flen))
            return true;
    if (!ml_push(x->out, f, flen)) {
        x->oom = true;
        return false;
    }
    return true;
}

/* The union or difference of sets[0..n) (NULL: empty) into out. */
static bool set_union_diff(struct akv_client *c, struct akv_entry **sets,
                           int n, int op, struct mlist *out)
{
    struct union_ctx x = {out, c, sets, n, false};

    if (op == OP_DIFF) {
        if (sets[0])
            akv_set_foreach(c->ctx.a, sets[0], diff_one, &x);
    } else {
        for (int j = 0; j < n && !x.oom; j++)
            if (sets[j])
                akv_set_foreach(c->ctx.a, sets[j], union_one, &x);
    }
    return !x.oom;
}

/* Compute op over argv[from..from+n) into out.  Returns 1 done, 0 after
 * an error reply. */
static int compute(struct akv_client *c, int op, int from, int n,
                   struct mlist *out, bool write)
{
    struct akv_entry **sets = malloc((size_t)n * sizeof(*sets));
    bool empty = false;
    int ret = 0;

    if (!sets) {
        akv_reply_error(&c->reply, "ERR out of memory");
        return 0;
    }
    if (!lookup_sets(c, from, n, sets, write))
        goto out;
    for (int j = 0; j < n; j++)
        empty |= sets[j] == NULL;
    if (op == OP_INTER) {
        if (!empty && set_inter(c, sets, n, out, 0) < 0)
            goto oom;
    } else if (!set_union_diff(c, sets, n, op, out) ||
               !ml_sort_if_intset(c, out)) {
        goto oom;
    }
    ret = 1;
    goto out;
oom:
    akv_reply_error(&c->reply, "ERR out of memory");
out:
    free(sets);
    return ret;
}

static void algebra(struct akv_client *c, int op)
{
    struct mlist out = {0};

    if (compute(c, op, 1, c->argc - 1, &out, false))
        reply_list(c, &out, true);
    ml_free(&out);
}

void akv_sinter_command(struct akv_client *c)
{
    algebra(c, OP_INTER);
}

void akv_sunion_command(struct akv_client *c)
{
    algebra(c, OP_UNION);
}

void akv_sdiff_command(struct akv_client *c)
{
    algebra(c, OP_DIFF);
}

/* Store the members of l as set argv[1] (an intset if they fit one),
 * replacing whatever it holds, and reply their number. */
static void store_result(struct akv_client *c, struct mlist *l)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *old = akv_find_write(c, 1), *e = NULL;
    const char **pv;
    size_t *pl;

    if (l->n == 0) {
        if (old) {
            akv_op_del(&c->op, old);
            declare_staged(c);
            effect_del(c, c->argv[1], c->argl[1]);
        }
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (!ml_vector(l, &pv, &pl)) {
        akv_reply_error(&c->reply, "ERR out of memory");
        return;
    }
    if (old)
        akv_op_del(&c->op, old);
    /* Only the intset rule matters for a new set: add_members applies it. */
    if (add_members(c, &k, e, pv, pl, (int)l->n, 0) >= 0) {
        declare_staged(c);
        effect_del(c, c->argv[1], c->argl[1]);
        effect_members(c, "SADD", c->argv[1], c->argl[1], l);
        akv_reply_int(&c->reply, (long long)l->n);
    }
    free(pv);
    free(pl);
}

static void algebra_store(struct akv_client *c, int op)
{
    struct mlist out = {0};

    if (compute(c, op, 2, c->argc - 2, &out, true))
        store_result(c, &out);
    ml_free(&out);
}

void akv_sinterstore_command(struct akv_client *c)
{
    algebra_store(c, OP_INTER);
}

void akv_sunionstore_command(struct akv_client *c)
{
    algebra_store(c, OP_UNION);
}

void akv_sdiffstore_command(struct akv_client *c)
{
    algebra_store(c, OP_DIFF);
}

void akv_sintercard_command(struct akv_client *c)
{
    long long numkeys, limit = 0, n;
    struct akv_entry **sets;
    bool empty = false;

    if (!akv_str2ll(c->argv[1], c->argl[1], &numkeys) || numkeys < 1) {
        akv_reply_error(&c->reply, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        akv_reply_error(&c->reply, "ERR Number of keys can't be greater "
                                   "than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (akv_arg_is(c, j, "limit") && j + 1 < c->argc) {
            if (!akv_str2ll(c->argv[j + 1], c->argl[j + 1], &limit) ||
                limit < 0) {
                akv_reply_error(&c->reply, "ERR LIMIT can't be negative");
                return;
            }
            j++;
        } else {
            akv_reply_syntax_error(c);
            return;
        }
    }
    if (!(sets = malloc((size_t)numkeys * sizeof(*sets)))) {
        akv_reply_error(&c->reply, "ERR out of memory");
        return;
    }
    if (lookup_sets(c, 2, (int)numkeys, sets, false)) {
        for (int j = 0; j < numkeys; j++)
            empty |= sets[j] == NULL;
        n = empty ? 0 : set_inter(c, sets, (int)numkeys, NULL,
                                  (uint64_t)limit);
        akv_reply_int(&c->reply, n);
    }
    free(sets);
}

/* --------------------------------------------------------- SSCAN */

struct scan_ctx {
    struct mlist *out;
    const char *pat;
    size_t plen;
    bool oom;
};

static bool scan_one(const char *f, size_t flen, const char *v, size_t vlen,
                     void *ctx)
{
    struct scan_ctx *s = ctx;

    (void)v;
    (void)vlen;
    if (s->pat && !akv_glob_match(s->pat, s->plen, f, flen, false))
        return true;
    if (!ml_push(s->out, f, flen)) {
        s->oom = true;
        return false;
    }
    return true;
}

static bool scan_elem(struct akv_entry *el, void *ctx)
{
    return scan_one(akv_elem_field(el), akv_elem_flen(el), NULL, 0, ctx);
}

void akv_sscan_command(struct akv_client *c)
{
    struct mlist out = {0};
    struct scan_ctx s = {&out, NULL, 0, false};
    struct akv_scan_opts o;
    long long count, visits;
    uint64_t cur;
    struct akv_entry *e;
    char buf[24];

    if (akv_arg_cursor(c, 2, &cur) < 0)
        return;
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_SET))
        return;
    if (!e) {
        akv_reply_array(&c->reply, 2);
        akv_reply_bulk(&c->reply, "0", 1);
        akv_reply_array(&c->reply, 0);
        return;
    }
    if (akv_arg_scan_opts(c, 3, false, &o) < 0)
        return;
    count = o.count;
    s.pat = o.pat;
    s.plen = o.plen;
    if (is_intset(e)) {
        akv_set_foreach(c->ctx.a, e, scan_one, &s);
        cur = 0;
    } else {
        visits = AKV_MIN(count * 10, 1LL << 30);
        do
            cur = akv_cont_scan(c->ctx.a, e, cur, scan_elem, &s);
        while (cur && !s.oom && visits-- > 0 && (long long)out.n < count);
    }
    if (s.oom) {
        akv_reply_error(&c->reply, "ERR out of memory");
    } else {
        akv_reply_array(&c->reply, 2);
        akv_reply_bulk(&c->reply, buf,
                       (size_t)snprintf(buf, sizeof(buf), "%llu",
                                        (unsigned long long)cur));
        reply_list(c, &out, false);
    }
    ml_free(&out);
}
