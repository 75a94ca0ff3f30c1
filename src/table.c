/*
 * table.c -- hash indexes with incremental rehashing: the stripe's key
 * table, and every large container's element index (container.c), both
 * instances of struct akv_index.
 *
 * Each index owns up to two bucket arrays (chunks in state TABLE whose
 * e_vlen is the number of buckets, a power of two).  Entries chain through
 * e_next (refs).  As in Redis's dict.c, growing allocates the second array
 * and every later operation on the stripe moves a bucket or so, so no
 * operation ever pays for a whole rehash.  Lookups search both arrays while
 * a rehash is in progress; links go to the new one.
 *
 * Bucket index = hash & mask.  The stripe index comes from the top bits of
 * the same hash (stripe.c), and tables never grow past 2^26 buckets, so the
 * two never overlap.
 *
 * Invariant: every entry in a chain has state LIVE, NEW or OLD (the last two
 * only during an intent's apply step).  The index is derived data: repair
 * throws it away and relinks every live chunk (stripe.c), so a crash in
 * the middle of moving a bucket is harmless.
 */
#include "build-config.h"

#include "fault.h"
#include "pages.h"
#include "table.h"

#define MAX_TABLE_BITS AKV_TABLE_MAX_BITS

static uint32_t *buckets(struct akv_arena *a, uint32_t ref)
{
    return (uint32_t *)akv_ref_at(a, ref)->e_data;
}

static uint64_t nbuckets(struct akv_arena *a, uint32_t ref)
{
    return ref ? akv_ref_at(a, ref)->e_vlen : 0;
}

void akv_ix_init(struct akv_index *ix)
{
    ix->ix_table[0] = ix->ix_table[1] = 0;
    ix->ix_rehashidx = -1;
    ix->ix_count = 0;
}

uint64_t akv_ix_size(struct akv_arena *a, const struct akv_index *ix, int t)
{
    return nbuckets(a, ix->ix_table[t]);
}

uint64_t akv_table_size_locked(struct akv_arena *a, int si, int t)
{
    return akv_ix_size(a, &a->stripes[si].s_ix, t);
}

static uint32_t table_alloc(struct akv_arena *a, int si, uint64_t n)
{
    struct akv_entry *t = akv_chunk_alloc_locked(
        a, si, sizeof(struct akv_entry) + n * sizeof(uint32_t));

    if (!t)
        return 0;
    memset(t->e_data, 0, n * sizeof(uint32_t));
    t->e_klen = 0;
    t->e_vlen = (uint32_t)n;
    t->e_type = 0; /* never taken for an element's (container.h) */
    t->e_state = AKV_CHUNK_TABLE;
    return akv_ref_of(a, t);
}

uint32_t akv_ix_chain(struct akv_arena *a, const struct akv_index *ix, int t,
                      uint32_t hash)
{
    uint64_t n = nbuckets(a, ix->ix_table[t]);

    return n ? buckets(a, ix->ix_table[t])[hash & (n - 1)] : 0;
}

struct akv_entry *akv_ix_find_locked(struct akv_arena *a,
                                     const struct akv_index *ix,
                                     uint32_t hash, akv_ix_match_fn match,
                                     const void *ctx)
{
    for (int t = 0; t < 2; t++) {
        if (ix->ix_table[t] == 0)
            break;
        for (uint32_t r = akv_ix_chain(a, ix, t, hash); r;) {
            struct akv_entry *e = akv_ref_at(a, r);
            if (e->e_hash == hash && match(e, ctx))
                return e;
            r = e->e_next;
        }
        if (ix->ix_rehashidx < 0)
            break;
    }
    return NULL;
}

struct key_match {
    uint8_t pdb;
    const char *key;
    size_t klen;
};

static bool key_match(const struct akv_entry *e, const void *ctx)
{
    const struct key_match *m = ctx;

    return e->e_db == m->pdb && e->e_klen == m->klen &&
           memcmp(e->e_data, m->key, m->klen) == 0 &&
           e->e_state == AKV_CHUNK_LIVE;
}

struct akv_entry *akv_table_find_locked(struct akv_arena *a, int si,
                                        uint8_t pdb, const char *key,
                                        size_t klen, uint32_t hash)
{
    struct key_match m = {pdb, key, klen};

    return akv_ix_find_locked(a, &a->stripes[si].s_ix, hash, key_match, &m);
}

/* Begin resizing to a table of n buckets. */
static void start_resize(struct akv_arena *a, int si, struct akv_index *ix,
                         uint64_t n)
{
    uint32_t ref;

    if (ix->ix_rehashidx >= 0 || n == nbuckets(a, ix->ix_table[0]))
        return;
    ref = table_alloc(a, si, n);
    if (!ref)
        return; /* no room: keep the longer chains */
    if (ix->ix_table[0] == 0) {
        ix->ix_table[0] = ref;
        return;
    }
    ix->ix_table[1] = ref;
    ix->ix_rehashidx = 0;
}

static void maybe_grow(struct akv_arena *a, int si, struct akv_index *ix)
{
    uint64_t n = nbuckets(a, ix->ix_table[0]);

    if (n == 0) {
        start_resize(a, si, ix, 1u << AKV_TABLE_MIN_BITS);
        return;
    }
    if (ix->ix_rehashidx >= 0 || ix->ix_count < n ||
        n >= (1u << MAX_TABLE_BITS))
        return;
    start_resize(a, si, ix, n * 2);
}

void akv_ix_maybe_shrink_locked(struct akv_arena *a, int si,
                                struct akv_index *ix)
{
    uint64_t n = nbuckets(a, ix->ix_table[0]), want = 1u << AKV_TABLE_MIN_BITS;

    if (ix->ix_rehashidx >= 0 || n <= want || ix->ix_count * 10 >= n)
        return;
    while (want < ix->ix_count)
        want *= 2;
    start_resize(a, si, ix, want);
}

void akv_table_maybe_shrink_locked(struct akv_arena *a, int si)
{
    akv_ix_maybe_shrink_locked(a, si, &a->stripes[si].s_ix);
}

static void bucket_push(struct akv_arena *a, uint32_t tref, uint32_t eref)
{
    struct akv_entry *e = akv_ref_at(a, eref);
    uint64_t n = nbuckets(a, tref);
    uint32_t *b = &buckets(a, tref)[e->e_hash & (n - 1)];

    e->e_next = *b;
    *b = eref;
}

bool akv_table_ensure_locked(struct akv_arena *a, int si)
{
    struct akv_index *ix = &a->stripes[si].s_ix;

    if (ix->ix_table[0] == 0)
        start_resize(a, si, ix, 1u << AKV_TABLE_MIN_BITS);
    return ix->ix_table[0] != 0;
}

bool akv_ix_presize_locked(struct akv_arena *a, int si, struct akv_index *ix,
                           uint64_t count)
{
    uint64_t n = 1u << AKV_TABLE_MIN_BITS;

    if (ix->ix_table[0] != 0)
        return true;
    while (n < count && n < (1u << MAX_TABLE_BITS))
        n *= 2;
    start_resize(a, si, ix, n);
    return ix->ix_table[0] != 0;
}

void akv_table_presize_locked(struct akv_arena *a, int si, uint64_t keys)
{
    (void)akv_ix_presize_locked(a, si, &a->stripes[si].s_ix, keys);
}

bool akv_ix_link_locked(struct akv_arena *a, int si, struct akv_index *ix,
                        struct akv_entry *e)
{
    maybe_grow(a, si, ix);
    if (ix->ix_table[0] == 0)
        return false; /* only when the arena is full */
    bucket_push(a, ix->ix_rehashidx >= 0 ? ix->ix_table[1] : ix->ix_table[0],
                akv_ref_of(a, e));
    ix->ix_count++;
    return true;
}

void akv_table_link_locked(struct akv_arena *a, int si, struct akv_entry *e)
{
    (void)akv_ix_link_locked(a, si, &a->stripes[si].s_ix, e);
}

/* Remove eref from the chain at *slot; true if found. */
static bool chain_remove(struct akv_arena *a, uint32_t *slot, uint32_t eref)
{
    while (*slot) {
        struct akv_entry *cur = akv_ref_at(a, *slot);
        if (*slot == eref) {
            *slot = cur->e_next;
            return true;
        }
        slot = &cur->e_next;
    }
    return false;
}

bool akv_ix_unlink_locked(struct akv_arena *a, int si, struct akv_index *ix,
                          struct akv_entry *e)
{
    uint32_t eref = akv_ref_of(a, e);

    (void)si;
    for (int t = 0; t < 2; t++) {
        uint64_t n = nbuckets(a, ix->ix_table[t]);
        if (n == 0)
            break;
        if (chain_remove(a,
                         &buckets(a, ix->ix_table[t])[e->e_hash & (n - 1)],
                         eref)) {
            ix->ix_count--;
            return true;
        }
    }
    return false;
}

void akv_table_unlink_locked(struct akv_arena *a, int si, struct akv_entry *e)
{
    (void)akv_ix_unlink_locked(a, si, &a->stripes[si].s_ix, e);
}

static void finish_rehash(struct akv_arena *a, int si, struct akv_index *ix)
{
    struct akv_entry *old = akv_ref_at(a, ix->ix_table[0]);

    ix->ix_table[0] = ix->ix_table[1];
    AKV_FAULT("table-swap");
    ix->ix_table[1] = 0;
    ix->ix_rehashidx = -1;
    akv_chunk_free_locked(a, si, old);
}

void akv_ix_rehash_step_locked(struct akv_arena *a, int si,
                               struct akv_index *ix, int n)
{
    int empty_visits = n * 10;

    if (ix->ix_rehashidx < 0)
        return;
    while (n-- > 0) {
        uint64_t size0 = nbuckets(a, ix->ix_table[0]);
        uint32_t *b0 = buckets(a, ix->ix_table[0]);
        uint32_t r;

        while ((uint64_t)ix->ix_rehashidx < size0 &&
               b0[ix->ix_rehashidx] == 0) {
            ix->ix_rehashidx++;
            if (--empty_visits == 0)
                return;
        }
        if ((uint64_t)ix->ix_rehashidx >= size0) {
            finish_rehash(a, si, ix);
            return;
        }
        r = b0[ix->ix_rehashidx];
        while (r) {
            struct akv_entry *e = akv_ref_at(a, r);
            uint32_t next = e->e_next;
            b0[ix->ix_rehashidx] = next;
            AKV_FAULT("rehash-step");
            bucket_push(a, ix->ix_table[1], r);
            r = next;
        }
        ix->ix_rehashidx++;
    }
    if ((uint64_t)ix->ix_rehashidx >= nbuckets(a, ix->ix_table[0]))
        finish_rehash(a, si, ix);
}

void akv_table_rehash_step_locked(struct akv_arena *a, int si, int n)
{
    akv_ix_rehash_step_locked(a, si, &a->stripes[si].s_ix, n);
}

void akv_ix_release_locked(struct akv_arena *a, int si, struct akv_index *ix)
{
    for (int t = 0; t < 2; t++)
        if (ix->ix_table[t])
            akv_chunk_free_locked(a, si, akv_ref_at(a, ix->ix_table[t]));
    akv_ix_init(ix);
}

void akv_table_reset_locked(struct akv_arena *a, int si)
{
    struct akv_stripe *s = &a->stripes[si];

    s->s_rehashidx = -1;
    s->s_table[1] = 0;
    if (s->s_table[0])
        memset(buckets(a, s->s_table[0]), 0,
               nbuckets(a, s->s_table[0]) * sizeof(uint32_t));
    s->s_count = 0;
}

static void visit_chain(struct akv_arena *a, int si, uint32_t r,
                        akv_entry_fn fn, void *ctx)
{
    while (r) {
        struct akv_entry *e = akv_ref_at(a, r);
        r = e->e_next;
        fn(a, si, e, ctx);
    }
}

static uint64_t reverse_bits(uint64_t v)
{
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (v & 1);
        v >>= 1;
    }
    return r;
}

/* One step of Redis's reverse-binary cursor scan over both tables. */
uint64_t akv_ix_scan_locked(struct akv_arena *a, int si,
                            const struct akv_index *ix, uint64_t v,
                            akv_entry_fn fn, void *ctx)
{
    uint32_t t0 = ix->ix_table[0], t1 = ix->ix_table[1];
    uint64_t m0, m1;

    if (t0 == 0)
        return 0;
    if (ix->ix_rehashidx < 0) {
        m0 = nbuckets(a, t0) - 1;
        visit_chain(a, si, buckets(a, t0)[v & m0], fn, ctx);
    } else {
        if (nbuckets(a, t0) > nbuckets(a, t1)) {
            uint32_t tmp = t0;
            t0 = t1;
            t1 = tmp;
        }
        m0 = nbuckets(a, t0) - 1;
        m1 = nbuckets(a, t1) - 1;
        visit_chain(a, si, buckets(a, t0)[v & m0], fn, ctx);
        do {
            visit_chain(a, si, buckets(a, t1)[v & m1], fn, ctx);
            v |= ~m1;
            v = reverse_bits(v);
            v++;
            v = reverse_bits(v);
        } while (v & (m0 ^ m1));
        return v;
    }
    v |= ~m0;
    v = reverse_bits(v);
    v++;
    v = reverse_bits(v);
    return v;
}

uint64_t akv_table_scan_locked(struct akv_arena *a, int si, uint64_t v,
                               akv_entry_fn fn, void *ctx)
{
    return akv_ix_scan_locked(a, si, &a->stripes[si].s_ix, v, fn, ctx);
}

void akv_ix_foreach_locked(struct akv_arena *a, int si,
                           const struct akv_index *ix, akv_entry_fn fn,
                           void *ctx)
{
    for (int t = 0; t < 2; t++) {
        uint64_t n = nbuckets(a, ix->ix_table[t]);
        uint32_t *b;
        if (n == 0)
            break;
        b = buckets(a, ix->ix_table[t]);
        for (uint64_t i = 0; i < n; i++)
            visit_chain(a, si, b[i], fn, ctx);
        if (ix->ix_rehashidx < 0)
            break;
    }
}

void akv_table_foreach_locked(struct akv_arena *a, int si, akv_entry_fn fn,
                              void *ctx)
{
    akv_ix_foreach_locked(a, si, &a->stripes[si].s_ix, fn, ctx);
}
