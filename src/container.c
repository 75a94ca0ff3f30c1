/*
 * container.c -- large hashes and sets: element chunks staged in the op,
 * the derived index over them, and the freeing of dying containers in
 * steps (see container.h for the model).
 *
 * Staging.  A put allocates a chunk (state ALLOC, reachable by nobody
 * else) and stages it NEW with its container's key entry; a removal stages
 * the committed element OLD.  The op's element rows are found through
 * op->erix, an open-addressing index over row numbers (by container and
 * field hash for NEW rows, by address for OLD ones), so a command staging
 * a million fields does O(1) work per field.  Putting a field this op
 * already staged replaces the chunk in its row; deleting one turns the
 * row into a dropped row (e = NULL, kind 0) that every pass skips.
 *
 * Commit (stripe.c) links NEW elements into the index of the container
 * they were staged for and unlinks OLD ones; the counts and byte totals
 * follow.  None of it is needed for correctness of the chunk states: the
 * owner id is what ties an element to its container, and repair rebuilds
 * every index from the LIVE elements.
 *
 * Freeing.  A container whose key entry goes away without a successor
 * (the same id staged NEW in the same stripe: RENAME or MOVE inside the
 * stripe) becomes DYING: unlinked from the keyspace at its commit, kept on
 * the stripe's s_dying list with its index.  Its elements are then freed
 * AKV_FREE_STEP at a time per lock hold, by the worker right after the
 * commit and by the supervisor's timer for whatever is left.  A step cut
 * short by a crash is harmless: repair frees DYING containers outright.
 */
#include "build-config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "container.h"
#include "fault.h"
#include "lock.h"
#include "pages.h"
#include "util.h"

/* ------------------------------------------------------------ row index */

static uint64_t new_row_key(const struct akv_entry *ke, uint32_t h)
{
    return akv_mix64((uint64_t)(uintptr_t)ke * 0x9E3779B97F4A7C15ULL ^ h);
}

static uint64_t old_row_key(const struct akv_entry *el)
{
    return akv_mix64((uint64_t)(uintptr_t)el ^ 0x5bd1e9955bd1e995ULL);
}

static uint64_t row_key(const struct akv_staged *r)
{
    return r->kind == AKV_CHUNK_NEW ? new_row_key(r->ke, r->e->e_hash)
                                    : old_row_key(r->e);
}

static void erix_put(struct akv_op *op, uint64_t key, uint32_t row)
{
    uint32_t mask = op->erix_cap - 1, i = (uint32_t)key & mask;

    while (op->erix[i])
        i = (i + 1) & mask;
    op->erix[i] = row + 1;
    op->erix_n++;
}

static bool is_elem_row(const struct akv_staged *r)
{
    return r->e && (r->kind == AKV_CHUNK_NEW || r->kind == AKV_CHUNK_OLD) &&
           akv_chunk_is_elem(r->e);
}

/* Index every element row again (after growth or a removal that moved
 * rows). */
void akv_op_erix_rebuild(struct akv_op *op)
{
    uint32_t want = 0;

    for (int i = 0; i < op->nst; i++)
        if (is_elem_row(&op->st[i]))
            want++;
    if (want == 0 && op->erix_cap == 0)
        return;
    if ((uint64_t)want * 2 + 2 > op->erix_cap) {
        uint32_t cap = op->erix_cap ? op->erix_cap : 256;
        while ((uint64_t)want * 2 + 2 > cap)
            cap *= 2;
        free(op->erix);
        op->erix = calloc(cap, sizeof(uint32_t));
        if (!op->erix)
            abort(); /* a worker without memory cannot keep its promise */
        op->erix_cap = cap;
    } else {
        memset(op->erix, 0, op->erix_cap * sizeof(uint32_t));
    }
    op->erix_n = 0;
    for (int i = 0; i < op->nst; i++)
        if (is_elem_row(&op->st[i]))
            erix_put(op, row_key(&op->st[i]), (uint32_t)i);
}

void akv_op_erix_reset(struct akv_op *op)
{
    if (op->erix_n)
        memset(op->erix, 0, op->erix_cap * sizeof(uint32_t));
    op->erix_n = 0;
    op->cd_n = 0;
}

static void erix_add(struct akv_op *op, int row)
{
    if ((uint64_t)(op->erix_n + 1) * 2 > op->erix_cap) {
        akv_op_erix_rebuild(op); /* indexes row too */
        return;
    }
    erix_put(op, row_key(&op->st[row]), (uint32_t)row);
}

/* Row of this op's NEW element f of ke, or -1. */
static int find_new_row(const struct akv_op *op, const struct akv_entry *ke,
                        uint32_t h, const char *f, size_t flen)
{
    uint32_t mask, i;

    if (op->erix_n == 0)
        return -1;
    mask = op->erix_cap - 1;
    for (i = (uint32_t)new_row_key(ke, h) & mask; op->erix[i];
         i = (i + 1) & mask) {
        const struct akv_staged *r = &op->st[op->erix[i] - 1];
        if (r->kind == AKV_CHUNK_NEW && r->e && r->ke == ke &&
            r->e->e_hash == h && r->e->e_klen == flen &&
            memcmp(r->e->e_data, f, flen) == 0)
            return (int)(op->erix[i] - 1);
    }
    return -1;
}

static bool staged_old_elem(const struct akv_op *op,
                            const struct akv_entry *el)
{
    uint32_t mask, i;

    if (op->erix_n == 0)
        return false;
    mask = op->erix_cap - 1;
    for (i = (uint32_t)old_row_key(el) & mask; op->erix[i];
         i = (i + 1) & mask) {
        const struct akv_staged *r = &op->st[op->erix[i] - 1];
        if (r->kind == AKV_CHUNK_OLD && r->e == el)
            return true;
    }
    return false;
}

/* Row of staged NEW chunk el (known to be this op's), or -1. */
static int row_of_new(const struct akv_op *op, const struct akv_entry *el)
{
    const struct akv_staged *r;
    int row;

    for (int i = 0; i < op->nst; i++) /* only when the index misses */
        if (op->st[i].e == el)
            return i;
    (void)r;
    (void)row;
    return -1;
}

static void delta_add(struct akv_op *op, const struct akv_entry *ke,
                      int64_t d)
{
    for (int i = 0; i < op->cd_n; i++) {
        if (op->cd[i].ke == ke) {
            op->cd[i].delta += d;
            return;
        }
    }
    if (op->cd_n == op->cd_cap) {
        int cap = op->cd_cap ? op->cd_cap * 2 : 8;
        struct akv_cont_delta *cd = realloc(op->cd, (size_t)cap * sizeof(*cd));
        if (!cd)
            abort();
        op->cd = cd;
        op->cd_cap = cap;
    }
    op->cd[op->cd_n].ke = ke;
    op->cd[op->cd_n].delta = d;
    op->cd_n++;
}

static int64_t delta_get(const struct akv_op *op, const struct akv_entry *ke)
{
    for (int i = 0; i < op->cd_n; i++)
        if (op->cd[i].ke == ke)
            return op->cd[i].delta;
    return 0;
}

/* ------------------------------------------------------------ staging */

static int stripe_of_key(const struct akv_entry *ke)
{
    return akv_entry_stripe(ke);
}

struct akv_entry *akv_cont_create(struct akv_op *op, const struct akv_key *k,
                                  enum akv_type t, int64_t expire)
{
    struct akv_arena *a = op->ctx->a;
    size_t vlen = akv_cont_vlen(k->len);
    struct akv_entry *ke;
    struct akv_cont *ct;

    if (!akv_op_room(op, akv_chunk_class_size(sizeof(*ke) + k->len + vlen)))
        return NULL;
    ke = akv_op_new(op, k, vlen, expire);
    if (!ke)
        return NULL;
    ke->e_type = (uint8_t)t;
    ke->e_flags = 0;
    akv_entry_set_enc(ke, AKV_ENC_HASHTABLE);
    memset(akv_entry_val(ke), 0, vlen);
    ct = akv_cont_of(ke);
    ct->ct_id = ++a->stripes[akv_stripe_of(k->hash)].s_next_ct_id;
    akv_ix_init(&ct->ct_ix);
    ct->ct_bytes = 0;
    ct->ct_cursor = 0;
    return ke;
}

struct elem_match {
    uint64_t owner;
    const char *f;
    size_t flen;
};

static bool elem_match(const struct akv_entry *e, const void *ctx)
{
    const struct elem_match *m = ctx;

    return e->e_owner == m->owner && e->e_klen == m->flen &&
           memcmp(e->e_data, m->f, m->flen) == 0 &&
           e->e_state == AKV_CHUNK_LIVE;
}

static struct akv_entry *committed_find(struct akv_arena *a,
                                        const struct akv_entry *ke,
                                        uint32_t h, const char *f,
                                        size_t flen)
{
    const struct akv_cont *ct = akv_cont_of(ke);
    struct elem_match m = {ct->ct_id, f, flen};

    return akv_ix_find_locked(a, &ct->ct_ix, h, elem_match, &m);
}

struct akv_entry *akv_cont_find(struct akv_op *op, struct akv_entry *ke,
                                const char *f, size_t flen)
{
    struct akv_arena *a = op->ctx->a;
    uint32_t h = akv_key_hash(a, f, flen);
    int row = find_new_row(op, ke, h, f, flen);
    struct akv_entry *el;

    if (row >= 0)
        return op->st[row].e;
    if (ke->e_state == AKV_CHUNK_ALLOC)
        return NULL; /* created by this op: nothing committed */
    /* As Redis's dictFind: lookups move an incremental rehash on (the
     * index is derived state; moving a bucket changes no element). */
    if (akv_cont_of(ke)->ct_ix.ix_rehashidx >= 0)
        akv_ix_rehash_step_locked(a, stripe_of_key(ke),
                                  &akv_cont_of(ke)->ct_ix, 1);
    el = committed_find(a, ke, h, f, flen);
    if (el && staged_old_elem(op, el))
        return NULL;
    return el;
}

struct akv_entry *akv_cont_put(struct akv_op *op, struct akv_entry *ke,
                               struct akv_entry *old, const char *f,
                               size_t flen, const char *v, size_t vlen)
{
    struct akv_arena *a = op->ctx->a;
    int si = stripe_of_key(ke);
    size_t bytes = sizeof(struct akv_entry) + flen + vlen;
    struct akv_entry *el;

    if (!akv_op_room(op, akv_chunk_class_size(bytes)))
        return NULL;
    el = akv_chunk_alloc_locked(a, si, bytes);
    if (!el)
        return NULL;
    el->e_next = 0;
    el->e_hash = akv_key_hash(a, f, flen);
    el->e_klen = (uint32_t)flen;
    el->e_vlen = (uint32_t)vlen;
    el->e_owner = akv_cont_of(ke)->ct_id;
    atomic_store_explicit(&el->e_atime, 0, memory_order_relaxed);
    el->e_type = (uint8_t)(AKV_ELEM_FLAG | ke->e_type);
    el->e_db = ke->e_db;
    el->e_flags = 0;
    memcpy(el->e_data, f, flen);
    if (v && vlen)
        memcpy(el->e_data + flen, v, vlen);

    if (old && old->e_state == AKV_CHUNK_ALLOC) {
        /* Staged by this op: the new chunk takes its row. */
        int row = find_new_row(op, ke, old->e_hash, old->e_data,
                               old->e_klen);
        if (row < 0 || op->st[row].e != old)
            row = row_of_new(op, old);
        if (row >= 0) {
            op->st[row].e = el;
            akv_chunk_free_locked(a, si, old);
            return el;
        }
        old = NULL; /* not ours after all: treat as new */
    }
    if (old) {
        if (!staged_old_elem(op, old)) {
            int row = akv_op_stage_elem(op, old, ke, AKV_CHUNK_OLD);
            erix_add(op, row);
        }
    } else {
        delta_add(op, ke, 1);
    }
    erix_add(op, akv_op_stage_elem(op, el, ke, AKV_CHUNK_NEW));
    return el;
}

void akv_cont_del(struct akv_op *op, struct akv_entry *ke,
                  struct akv_entry *el)
{
    if (el->e_state == AKV_CHUNK_ALLOC) {
        int row = find_new_row(op, ke, el->e_hash, el->e_data, el->e_klen);
        if (row < 0 || op->st[row].e != el)
            row = row_of_new(op, el);
        if (row < 0)
            return;
        /* A dropped row: the index may still point at it, harmlessly. */
        op->st[row].e = NULL;
        op->st[row].kind = AKV_CHUNK_FREE;
        akv_chunk_free_locked(op->ctx->a, op->st[row].si, el);
        delta_add(op, ke, -1);
        return;
    }
    if (staged_old_elem(op, el))
        return;
    erix_add(op, akv_op_stage_elem(op, el, ke, AKV_CHUNK_OLD));
    delta_add(op, ke, -1);
}

uint64_t akv_cont_count(const struct akv_op *op, const struct akv_entry *ke)
{
    int64_t n = ke->e_state == AKV_CHUNK_ALLOC
                    ? 0
                    : (int64_t)akv_cont_of(ke)->ct_ix.ix_count;

    n += delta_get(op, ke);
    return n > 0 ? (uint64_t)n : 0;
}

struct copy_ctx {
    struct akv_op *op;
    struct akv_entry *dst;
    bool ok;
};

static bool copy_one(struct akv_entry *el, void *ctx)
{
    struct copy_ctx *cc = ctx;

    if (!akv_cont_put(cc->op, cc->dst, NULL, akv_elem_field(el),
                      akv_elem_flen(el), akv_elem_val(el),
                      akv_elem_vlen(el))) {
        cc->ok = false;
        return false;
    }
    return true;
}

bool akv_cont_copy(struct akv_op *op, struct akv_entry *dst,
                   struct akv_entry *src)
{
    struct copy_ctx cc = {op, dst, true};

    akv_cont_foreach(op->ctx->a, src, copy_one, &cc);
    return cc.ok;
}

/* ------------------------------------------------------------ reading */

uint64_t akv_cont_len(struct akv_arena *a, const struct akv_entry *ke)
{
    (void)a;
    return akv_cont_of(ke)->ct_ix.ix_count;
}

static uint32_t *ix_buckets(struct akv_arena *a, uint32_t ref)
{
    return (uint32_t *)(void *)akv_ref_at(a, ref)->e_data;
}

bool akv_cont_foreach(struct akv_arena *a, const struct akv_entry *ke,
                      akv_elem_fn fn, void *ctx)
{
    const struct akv_index *ix = &akv_cont_of(ke)->ct_ix;

    for (int t = 0; t < 2; t++) {
        uint64_t n = akv_ix_size(a, ix, t);
        uint32_t *b;
        if (n == 0)
            break;
        b = ix_buckets(a, ix->ix_table[t]);
        for (uint64_t i = 0; i < n; i++) {
            for (uint32_t r = b[i]; r;) {
                struct akv_entry *el = akv_ref_at(a, r);
                r = el->e_next;
                if (!fn(el, ctx))
                    return false;
            }
        }
        if (ix->ix_rehashidx < 0)
            break;
    }
    return true;
}

struct scan_ctx {
    akv_elem_fn fn;
    void *ctx;
};

static void scan_one(struct akv_arena *a, int si, struct akv_entry *e,
                     void *ctx)
{
    struct scan_ctx *sc = ctx;

    (void)a;
    (void)si;
    (void)sc->fn(e, sc->ctx);
}

uint64_t akv_cont_scan(struct akv_arena *a, const struct akv_entry *ke,
                       uint64_t cursor, akv_elem_fn fn, void *ctx)
{
    struct scan_ctx sc = {fn, ctx};

    return akv_ix_scan_locked(a, akv_entry_stripe(ke), &akv_cont_of(ke)->ct_ix,
                              cursor, scan_one, &sc);
}

struct akv_entry *akv_cont_random(struct akv_arena *a,
                                  const struct akv_entry *ke)
{
    const struct akv_index *ix = &akv_cont_of(ke)->ct_ix;
    uint64_t n0 = akv_ix_size(a, ix, 0), n1 = akv_ix_size(a, ix, 1);
    uint32_t r = 0, len = 0, pick;

    if (ix->ix_count == 0 || n0 == 0)
        return NULL;
    /* As Redis's dictGetFairRandomKey, roughly: a random non-empty bucket
     * (of both tables while rehashing), then a random link of its chain. */
    for (;;) {
        uint64_t x = akv_random_u64();
        if (ix->ix_rehashidx >= 0) {
            uint64_t lo = (uint64_t)ix->ix_rehashidx;
            uint64_t i = lo + x % (n0 + n1 - lo);
            r = i < n0 ? ix_buckets(a, ix->ix_table[0])[i]
                       : ix_buckets(a, ix->ix_table[1])[i - n0];
        } else {
            r = ix_buckets(a, ix->ix_table[0])[x & (n0 - 1)];
        }
        if (r)
            break;
    }
    for (uint32_t q = r; q; q = akv_ref_at(a, q)->e_next)
        len++;
    pick = (uint32_t)(akv_random_u64() % len);
    while (pick--)
        r = akv_ref_at(a, r)->e_next;
    return akv_ref_at(a, r);
}

/* ------------------------------------------------------------ apply */

void akv_cont_apply_old_elem_locked(struct akv_arena *a, int si,
                                    struct akv_entry *ke,
                                    struct akv_entry *el)
{
    struct akv_cont *ct = akv_cont_of(ke);

    if (akv_ix_unlink_locked(a, si, &ct->ct_ix, el))
        ct->ct_bytes -= akv_chunk_capacity(a, el);
    akv_chunk_free_locked(a, si, el);
    akv_ix_rehash_step_locked(a, si, &ct->ct_ix, 1);
    akv_ix_maybe_shrink_locked(a, si, &ct->ct_ix);
}

void akv_cont_apply_new_elem_locked(struct akv_arena *a, int si,
                                    struct akv_entry *ke,
                                    struct akv_entry *el)
{
    struct akv_cont *ct = akv_cont_of(ke);

    el->e_state = AKV_CHUNK_LIVE;
    akv_ix_rehash_step_locked(a, si, &ct->ct_ix, 1);
    if (akv_ix_link_locked(a, si, &ct->ct_ix, el))
        ct->ct_bytes += akv_chunk_capacity(a, el);
    /* else: the arena is full and the element is unreachable until the
     * next repair rebuilds the index; the checker reports it. */
}

void akv_cont_retire_locked(struct akv_arena *a, int si, struct akv_entry *ke)
{
    struct akv_stripe *s = &a->stripes[si];
    struct akv_cont *ct = akv_cont_of(ke);

    if (ct->ct_ix.ix_count == 0) {
        akv_ix_release_locked(a, si, &ct->ct_ix);
        akv_chunk_free_locked(a, si, ke);
        return;
    }
    ct->ct_cursor = 0;
    ke->e_state = AKV_CHUNK_DYING;
    ke->e_next = s->s_dying;
    s->s_dying = akv_ref_of(a, ke);
    s->s_ndying++;
    s->s_dying_bytes += ct->ct_bytes;
}

/* ------------------------------------------------------------ freeing */

/* Free up to budget elements of the head of the dying list; returns the
 * budget left.  The element chains are cut from their buckets one link at
 * a time, so a crash anywhere leaves chunks that repair frees. */
static int free_some(struct akv_arena *a, int si, struct akv_entry *ke,
                     int budget)
{
    struct akv_stripe *s = &a->stripes[si];
    struct akv_cont *ct = akv_cont_of(ke);
    struct akv_index *ix = &ct->ct_ix;
    uint64_t n0 = akv_ix_size(a, ix, 0), n1 = akv_ix_size(a, ix, 1);

    while (budget > 0 && ct->ct_cursor < n0 + n1) {
        uint64_t i = ct->ct_cursor;
        uint32_t *b = i < n0 ? &ix_buckets(a, ix->ix_table[0])[i]
                             : &ix_buckets(a, ix->ix_table[1])[i - n0];
        if (*b == 0) {
            ct->ct_cursor++;
            continue;
        }
        struct akv_entry *el = akv_ref_at(a, *b);
        uint64_t cap = akv_chunk_capacity(a, el);
        *b = el->e_next;
        ix->ix_count--;
        ct->ct_bytes -= cap;
        s->s_dying_bytes -= AKV_MIN(cap, s->s_dying_bytes);
        if (budget == AKV_FREE_STEP / 2)
            AKV_FAULT("free-step");
        akv_chunk_free_locked(a, si, el);
        budget--;
    }
    return budget;
}

bool akv_cont_free_step_locked(struct akv_arena *a, int si, int budget)
{
    struct akv_stripe *s = &a->stripes[si];

    while (budget > 0 && s->s_dying) {
        struct akv_entry *ke = akv_ref_at(a, s->s_dying);
        struct akv_cont *ct = akv_cont_of(ke);

        budget = free_some(a, si, ke, budget);
        if (ct->ct_cursor < akv_ix_size(a, &ct->ct_ix, 0) +
                                akv_ix_size(a, &ct->ct_ix, 1))
            break;
        /* Empty: drop the container itself. */
        s->s_dying = ke->e_next;
        s->s_ndying--;
        s->s_dying_bytes -= AKV_MIN(ct->ct_bytes, s->s_dying_bytes);
        akv_ix_release_locked(a, si, &ct->ct_ix);
        akv_chunk_free_locked(a, si, ke);
        s->s_lazyfreed++;
    }
    return s->s_dying != 0;
}

void akv_cont_free_pending(struct akv_ctx *ctx, uint64_t mask)
{
    int si;

    AKV_FOREACH_BIT(si, mask) {
        int busy = 0;
        for (;;) {
            bool more;
            if (akv_stripe_trylock(ctx, si) < 0) {
                /* Another client holds it: let it run, try a few times,
                 * then leave the rest to the supervisor. */
                if (++busy > 64)
                    break;
                sched_yield();
                continue;
            }
            more = akv_cont_free_step_locked(ctx->a, si, AKV_FREE_STEP);
            akv_stripe_unlock(ctx, si);
            if (!more)
                break;
        }
    }
}

void akv_cont_reap(struct akv_ctx *ctx, int steps)
{
    struct akv_arena *a = ctx->a;

    for (int si = 0; si < AKV_NSTRIPES && steps > 0; si++) {
        while (steps > 0 &&
               __atomic_load_n(&a->stripes[si].s_dying, __ATOMIC_RELAXED)) {
            bool more;
            if (akv_stripe_trylock(ctx, si) < 0)
                break;
            more = akv_cont_free_step_locked(a, si, AKV_FREE_STEP);
            akv_stripe_unlock(ctx, si);
            steps--;
            if (!more)
                break;
        }
    }
}

uint64_t akv_cont_pending(struct akv_arena *a, uint64_t *bytes)
{
    uint64_t n = 0, b = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++) {
        n += __atomic_load_n(&a->stripes[si].s_ndying, __ATOMIC_RELAXED);
        b += __atomic_load_n(&a->stripes[si].s_dying_bytes, __ATOMIC_RELAXED);
    }
    if (bytes)
        *bytes = b;
    return n;
}

uint64_t akv_cont_lazyfreed(struct akv_arena *a)
{
    uint64_t n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        n += __atomic_load_n(&a->stripes[si].s_lazyfreed, __ATOMIC_RELAXED);
    return n;
}

/* ------------------------------------------------------------ id map */

struct akv_ctmap_ent *akv_ctmap_get(struct akv_ctmap *m, uint64_t id,
                                    bool create)
{
    size_t mask, i;

    if (m->cap == 0) {
        if (!create)
            return NULL;
        m->cap = 64;
        m->v = calloc(m->cap, sizeof(*m->v));
        if (!m->v)
            abort(); /* repair cannot go on without it */
    }
    mask = m->cap - 1;
    for (i = akv_mix64(id) & mask; m->v[i].id; i = (i + 1) & mask)
        if (m->v[i].id == id)
            return &m->v[i];
    if (!create)
        return NULL;
    if ((m->n + 1) * 2 > m->cap) {
        struct akv_ctmap big = {calloc(m->cap * 2, sizeof(*m->v)),
                                m->cap * 2, 0};
        if (!big.v)
            abort();
        for (size_t j = 0; j < m->cap; j++) {
            if (!m->v[j].id)
                continue;
            size_t k = akv_mix64(m->v[j].id) & (big.cap - 1);
            while (big.v[k].id)
                k = (k + 1) & (big.cap - 1);
            big.v[k] = m->v[j];
            big.n++;
        }
        free(m->v);
        *m = big;
        return akv_ctmap_get(m, id, true);
    }
    memset(&m->v[i], 0, sizeof(m->v[i]));
    m->v[i].id = id;
    m->n++;
    return &m->v[i];
}

void akv_ctmap_free(struct akv_ctmap *m)
{
    free(m->v);
    m->v = NULL;
    m->cap = m->n = 0;
}

/* ------------------------------------------------------------ repair */

struct refs {
    uint32_t *v;
    size_t n, cap;
};

static void refs_push(struct refs *r, uint32_t ref)
{
    if (!akv_grow((char **)&r->v, &r->cap, (r->n + 1) * sizeof(uint32_t),
                  4096))
        abort();
    r->v[r->n++] = ref;
}

struct repair_ctx {
    struct akv_ctmap map;
    struct refs free_elems, free_keys;
    int si;
};

static bool is_large_key(const struct akv_entry *e)
{
    return !akv_chunk_is_elem(e) && akv_is_large(e);
}

static void repair_map(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct repair_ctx *rc = ctx;
    struct akv_ctmap_ent *m;

    if (akv_chunk_is_elem(e)) {
        if (e->e_state == AKV_CHUNK_LIVE)
            akv_ctmap_get(&rc->map, e->e_owner, true)->count++;
        return;
    }
    if (e->e_state == AKV_CHUNK_DYING) {
        m = akv_ctmap_get(&rc->map, akv_cont_of(e)->ct_id, true);
        m->dying = 1;
        refs_push(&rc->free_keys, akv_ref_of(a, e));
        return;
    }
    if (e->e_state != AKV_CHUNK_LIVE || !is_large_key(e))
        return;
    m = akv_ctmap_get(&rc->map, akv_cont_of(e)->ct_id, true);
    if (m->ref && !m->dying) {
        /* Two live keys with one id cannot happen; keep the first. */
        akv_log(AKV_LOG_WARNING, "stripe %d: container id %llu twice",
                rc->si, (unsigned long long)m->id);
        return;
    }
    if (!m->dying)
        m->ref = akv_ref_of(a, e);
    akv_ix_init(&akv_cont_of(e)->ct_ix);
    akv_cont_of(e)->ct_bytes = 0;
    akv_cont_of(e)->ct_cursor = 0;
}

static void repair_link(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct repair_ctx *rc = ctx;
    struct akv_ctmap_ent *m;
    struct akv_cont *ct;

    if (!akv_chunk_is_elem(e) || e->e_state != AKV_CHUNK_LIVE)
        return;
    m = akv_ctmap_get(&rc->map, e->e_owner, false);
    if (!m || !m->ref || m->dying) {
        refs_push(&rc->free_elems, akv_ref_of(a, e)); /* orphan or dying */
        return;
    }
    ct = akv_cont_of(akv_ref_at(a, m->ref));
    if (akv_ix_link_locked(a, rc->si, &ct->ct_ix, e))
        ct->ct_bytes += akv_chunk_capacity(a, e);
    else
        refs_push(&rc->free_elems, akv_ref_of(a, e));
}

void akv_cont_repair_locked(struct akv_arena *a, int si)
{
    struct akv_stripe *s = &a->stripes[si];
    struct repair_ctx rc = {.si = si};

    akv_pages_visit_stripe_locked(a, si, repair_map, &rc);
    for (size_t i = 0; i < rc.map.cap; i++) {
        struct akv_ctmap_ent *m = &rc.map.v[i];
        if (m->id && m->ref && !m->dying)
            (void)akv_ix_presize_locked(
                a, si, &akv_cont_of(akv_ref_at(a, m->ref))->ct_ix, m->count);
    }
    akv_pages_visit_stripe_locked(a, si, repair_link, &rc);
    for (size_t i = 0; i < rc.free_elems.n; i++)
        akv_chunk_free_locked(a, si, akv_ref_at(a, rc.free_elems.v[i]));
    /* DYING containers go outright; their bucket arrays were TABLE chunks
     * the page rebuild already gave back. */
    for (size_t i = 0; i < rc.free_keys.n; i++)
        akv_chunk_free_locked(a, si, akv_ref_at(a, rc.free_keys.v[i]));
    s->s_lazyfreed += rc.free_keys.n;
    s->s_dying = 0;
    s->s_ndying = 0;
    s->s_dying_bytes = 0;
    free(rc.free_elems.v);
    free(rc.free_keys.v);
    akv_ctmap_free(&rc.map);
}

/* ------------------------------------------------------------ checker */

struct cc {
    struct akv_arena *a;
    int si;
    struct akv_ctmap map; /* id -> LIVE elements (count) and bytes */
    void (*problem)(void *, const char *);
    void *pctx;
    int problems;
    uint64_t reached, bytes, tables;
    const struct akv_cont *ct;
};

static void cproblem(struct cc *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void cproblem(struct cc *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    c->problem(c->pctx, buf);
    c->problems++;
}

static void check_count(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct cc *c = ctx;

    if (!akv_chunk_is_elem(e))
        return;
    if (e->e_state != AKV_CHUNK_LIVE) {
        cproblem(c, "element in state %d", e->e_state);
        return;
    }
    struct akv_ctmap_ent *m = akv_ctmap_get(&c->map, e->e_owner, true);
    m->count++;
    m->bytes += akv_chunk_capacity(a, e);
}

static void check_elem(struct akv_arena *a, int si, struct akv_entry *el,
                       void *ctx)
{
    struct cc *c = ctx;

    (void)si;
    c->reached++;
    if (!akv_chunk_is_elem(el) || el->e_state != AKV_CHUNK_LIVE) {
        cproblem(c, "container %llu: index holds a chunk of type %d in "
                    "state %d", (unsigned long long)c->ct->ct_id, el->e_type,
                 el->e_state);
        return;
    }
    c->bytes += akv_chunk_capacity(a, el);
    if (el->e_owner != c->ct->ct_id) {
        cproblem(c, "container %llu: index holds an element of %llu",
                 (unsigned long long)c->ct->ct_id,
                 (unsigned long long)el->e_owner);
        return;
    }
    struct elem_match m = {c->ct->ct_id, el->e_data, el->e_klen};
    if (akv_ix_find_locked(a, &c->ct->ct_ix, el->e_hash, elem_match, &m) !=
        el)
        cproblem(c, "container %llu: element not found by its field (bad "
                    "bucket or duplicate)", (unsigned long long)c->ct->ct_id);
}

static void check_one(struct cc *c, struct akv_entry *ke)
{
    const struct akv_cont *ct = akv_cont_of(ke);
    struct akv_ctmap_ent *m = akv_ctmap_get(&c->map, ct->ct_id, true);

    if (m->ref) {
        cproblem(c, "container %llu has two key entries",
                 (unsigned long long)ct->ct_id);
        return;
    }
    m->ref = akv_ref_of(c->a, ke);
    c->tables += (ct->ct_ix.ix_table[0] != 0) + (ct->ct_ix.ix_table[1] != 0);
    c->reached = c->bytes = 0;
    c->ct = ct;
    akv_ix_foreach_locked(c->a, c->si, &ct->ct_ix, check_elem, c);
    if (c->reached != ct->ct_ix.ix_count || c->reached != m->count)
        cproblem(c, "container %llu: %llu elements reachable, count says "
                    "%llu, %llu live",
                 (unsigned long long)ct->ct_id,
                 (unsigned long long)c->reached,
                 (unsigned long long)ct->ct_ix.ix_count,
                 (unsigned long long)m->count);
    if (c->bytes != ct->ct_bytes)
        cproblem(c, "container %llu: %llu element bytes, recorded %llu",
                 (unsigned long long)ct->ct_id,
                 (unsigned long long)c->bytes,
                 (unsigned long long)ct->ct_bytes);
}

static void check_key(struct akv_arena *a, int si, struct akv_entry *e,
                      void *ctx)
{
    (void)a;
    (void)si;
    if (!akv_chunk_is_elem(e) && akv_is_large(e))
        check_one(ctx, e);
}

int akv_cont_check_locked(struct akv_arena *a, int si,
                          void (*problem)(void *ctx, const char *msg),
                          void *pctx, uint64_t *ntables)
{
    struct akv_stripe *s = &a->stripes[si];
    struct cc c = {.a = a, .si = si, .problem = problem, .pctx = pctx};
    uint32_t ndying = 0;

    akv_pages_visit_stripe_locked(a, si, check_count, &c);
    akv_table_foreach_locked(a, si, check_key, &c);
    for (uint32_t r = s->s_dying; r && ndying <= s->s_ndying;
         r = akv_ref_at(a, r)->e_next) {
        struct akv_entry *ke = akv_ref_at(a, r);
        ndying++;
        if (ke->e_state != AKV_CHUNK_DYING || !akv_is_large(ke)) {
            cproblem(&c, "dying list holds a chunk in state %d",
                     ke->e_state);
            break;
        }
        check_one(&c, ke);
    }
    if (ndying != s->s_ndying)
        cproblem(&c, "%u dying containers listed, %u counted", ndying,
                 s->s_ndying);
    for (size_t i = 0; i < c.map.cap; i++)
        if (c.map.v[i].id && !c.map.v[i].ref && c.map.v[i].count)
            cproblem(&c, "%llu orphan elements of container %llu",
                     (unsigned long long)c.map.v[i].count,
                     (unsigned long long)c.map.v[i].id);
    akv_ctmap_free(&c.map);
    *ntables = c.tables;
    return c.problems;
}
