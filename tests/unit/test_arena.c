/*
 * test_arena.c -- unit tests for the shared arena on real arena files in
 * /dev/shm: the chunk allocator (size classes, slabs, page runs and their
 * coalescing, a full arena), the per-stripe hash tables (growth,
 * incremental rehash, SCAN across growth and shrinking), repair of stripes
 * whose holder was SIGKILLed at every named fault point (roll back before
 * the commit store, roll forward after it; repaired by the next locker or
 * by the dead-slot reaper; a repairer that dies itself), and the layout
 * guard of akv_arena_attach().
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "aof.h"
#include "arena.h"
#include "clients.h"
#include "config.h"
#include "fault.h"
#include "keyspace.h"
#include "log.h"
#include "pages.h"
#include "table.h"

#define ARENA_SIZE (64ULL << 20)
#define SMALL_ARENA_SIZE (32ULL << 20)

#include "arena_fixture.h"

/* ------------------------------------------------------------ key helpers
 * Usable in a forked child too: they never assert, they return status. */

static int key_stripe(struct akv_arena *a, const char *key)
{
    return akv_stripe_of(akv_key_hash(a, key, strlen(key)));
}

/* Name prefix<i> for the smallest i >= *from whose key is in stripe si;
 * *from moves past it. */
static void key_in_stripe(struct akv_arena *a, const char *prefix, int si,
                          int *from, char *out, size_t outlen)
{
    for (int i = *from;; i++) {
        int s;
        snprintf(out, outlen, "%s%d", prefix, i);
        s = key_stripe(a, out);
        if (s == si) {
            *from = i + 1;
            return;
        }
    }
}

static void op_start(struct akv_op *op, struct akv_ctx *c)
{
    memset(op, 0, sizeof(*op));
    c->now = akv_mstime();
    akv_op_init(op, c);
}

static void op_done(struct akv_op *op)
{
    akv_op_free(op);
}

/* The op API names keys by identity; these build it from test strings. */
static void want_k(struct akv_op *op, const char *key, size_t klen)
{
    struct akv_key k = akv_key_make(op->ctx->a, 0, key, klen);

    akv_op_want_key(op, &k);
}

static struct akv_entry *find_k(struct akv_op *op, int db, const char *key,
                                size_t klen)
{
    struct akv_key k = akv_key_make(op->ctx->a, db, key, klen);

    return akv_op_find(op, &k);
}

static struct akv_entry *new_k(struct akv_op *op, int db, const char *key,
                               size_t klen, size_t vlen, int64_t expire)
{
    struct akv_key k = akv_key_make(op->ctx->a, db, key, klen);

    return akv_op_new(op, &k, vlen, expire);
}

static struct akv_entry *new_room_k(struct akv_op *op, int db,
                                    const char *key, size_t klen,
                                    size_t vlen, size_t room, int64_t expire)
{
    struct akv_key k = akv_key_make(op->ctx->a, db, key, klen);

    return akv_op_new_room(op, &k, vlen, room, expire);
}

/* SET key value (overwrites).  0, or -1 when there is no room. */
static int kv_set(struct akv_ctx *c, int db, const char *key,
                  const void *val, size_t vlen)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    if ((e = find_k(&op, db, key, klen)) != NULL)
        akv_op_del(&op, e);
    e = new_k(&op, db, key, klen, vlen, 0);
    if (!e) {
        akv_op_abort(&op);
        op_done(&op);
        return -1;
    }
    memcpy(akv_entry_val(e), val, vlen);
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

static int kv_sets(struct akv_ctx *c, int db, const char *key,
                   const char *val)
{
    return kv_set(c, db, key, val, strlen(val));
}

/* SET with room for the value to grow in place. */
static int kv_set_room(struct akv_ctx *c, int db, const char *key,
                       const char *val, size_t room)
{
    size_t klen = strlen(key), vlen = strlen(val);
    struct akv_op op;
    struct akv_entry *e;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    if ((e = find_k(&op, db, key, klen)) != NULL)
        akv_op_del(&op, e);
    e = new_room_k(&op, db, key, klen, vlen, room, 0);
    if (!e) {
        akv_op_abort(&op);
        op_done(&op);
        return -1;
    }
    memcpy(akv_entry_val(e), val, vlen);
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

/* APPEND in place: the bytes go past the old length inside the chunk,
 * the new length is staged.  -1 if there is no room in place. */
static int kv_append_inplace(struct akv_ctx *c, int db, const char *key,
                             const char *tail)
{
    size_t klen = strlen(key), tlen = strlen(tail);
    struct akv_op op;
    struct akv_entry *e;
    int r = -1;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    e = find_k(&op, db, key, klen);
    if (e && akv_entry_room(c->a, e) >= e->e_vlen + tlen) {
        memcpy(akv_entry_val(e) + e->e_vlen, tail, tlen);
        akv_op_set_length(&op, e, e->e_vlen + tlen, e->e_flags);
        r = 0;
    }
    akv_op_commit(&op);
    op_done(&op);
    return r;
}

/* Stage a new key, then abort the op. */
static int kv_set_abort(struct akv_ctx *c, int db, const char *key,
                        const char *val)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    e = new_k(&op, db, key, klen, strlen(val), 0);
    if (e)
        memcpy(akv_entry_val(e), val, strlen(val));
    akv_op_abort(&op);
    op_done(&op);
    return e ? 0 : -1;
}

/* GET: value length (copied into out, up to cap bytes) or -1 if absent. */
static long kv_get(struct akv_ctx *c, int db, const char *key, char *out,
                   size_t cap)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;
    long n = -1;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -2;
    }
    e = find_k(&op, db, key, klen);
    if (e) {
        n = (long)e->e_vlen;
        if (out)
            memcpy(out, akv_entry_val(e), AKV_MIN(cap, (size_t)e->e_vlen));
    }
    akv_op_commit(&op);
    op_done(&op);
    return n;
}

/* The key's absolute expiry (0 = none), or -1 if absent. */
static int64_t kv_expire_of(struct akv_ctx *c, int db, const char *key)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;
    int64_t x = -1;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -2;
    }
    e = find_k(&op, db, key, klen);
    if (e)
        x = atomic_load(&e->e_expire);
    akv_op_commit(&op);
    op_done(&op);
    return x;
}

/* DEL: 1 if the key was there. */
static int kv_del(struct akv_ctx *c, int db, const char *key)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    e = find_k(&op, db, key, klen);
    if (e)
        akv_op_del(&op, e);
    akv_op_commit(&op);
    op_done(&op);
    return e != NULL;
}

/* RENAME src dst (dst absent): removes src and inserts dst in one op. */
static int kv_rename(struct akv_ctx *c, int db, const char *src,
                     const char *dst)
{
    struct akv_op op;
    struct akv_entry *e, *n;

    op_start(&op, c);
    want_k(&op, src, strlen(src));
    want_k(&op, dst, strlen(dst));
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    e = find_k(&op, db, src, strlen(src));
    if (!e) {
        akv_op_commit(&op);
        op_done(&op);
        return 0;
    }
    akv_op_del(&op, e);
    n = new_k(&op, db, dst, strlen(dst), e->e_vlen, 0);
    if (!n) {
        akv_op_abort(&op);
        op_done(&op);
        return -1;
    }
    memcpy(akv_entry_val(n), akv_entry_val(e), e->e_vlen);
    akv_op_commit(&op);
    op_done(&op);
    return 1;
}

/* MSET of two keys that both exist, in one op. */
static int kv_mset2(struct akv_ctx *c, int db, const char *k1,
                    const char *v1, const char *k2, const char *v2)
{
    const char *keys[2] = {k1, k2}, *vals[2] = {v1, v2};
    struct akv_op op;

    op_start(&op, c);
    want_k(&op, k1, strlen(k1));
    want_k(&op, k2, strlen(k2));
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        struct akv_entry *e = find_k(&op, db, keys[i], strlen(keys[i]));
        if (e)
            akv_op_del(&op, e);
        e = new_k(&op, db, keys[i], strlen(keys[i]), strlen(vals[i]),
                       0);
        if (!e) {
            akv_op_abort(&op);
            op_done(&op);
            return -1;
        }
        memcpy(akv_entry_val(e), vals[i], strlen(vals[i]));
    }
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

/* MSET prefix0 .. prefix<n-1> to val, in one op. */
static int kv_mset(struct akv_ctx *c, int db, const char *prefix, int n,
                   const char *val)
{
    struct akv_op op;
    char key[32];

    op_start(&op, c);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        want_k(&op, key, strlen(key));
    }
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct akv_entry *e;
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        if ((e = find_k(&op, db, key, strlen(key))) != NULL)
            akv_op_del(&op, e);
        e = new_k(&op, db, key, strlen(key), strlen(val), 0);
        if (!e) {
            akv_op_abort(&op);
            op_done(&op);
            return -1;
        }
        memcpy(akv_entry_val(e), val, strlen(val));
    }
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

/* Whether the index holds the key, expired or not (no lazy expiry). */
static bool kv_raw_present(struct akv_ctx *c, int db, const char *key)
{
    struct akv_arena *a = c->a;
    size_t klen = strlen(key);
    uint32_t h = akv_key_hash(a, key, klen);
    int si = akv_stripe_of(h);
    bool found;

    if (akv_stripe_lock(c, si) < 0)
        return false;
    found = akv_table_find_locked(a, si, akv_pdb(a, db), key, klen, h) !=
            NULL;
    akv_stripe_unlock(c, si);
    return found;
}

static int kv_expire(struct akv_ctx *c, int db, const char *key, int64_t at)
{
    size_t klen = strlen(key);
    struct akv_op op;
    struct akv_entry *e;

    op_start(&op, c);
    want_k(&op, key, klen);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    e = find_k(&op, db, key, klen);
    if (e)
        akv_op_set_expire(&op, e, at);
    akv_op_commit(&op);
    op_done(&op);
    return e != NULL;
}

static int kv_flushdb(struct akv_ctx *c, int db)
{
    struct akv_op op;

    op_start(&op, c);
    akv_op_want_all(&op);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    akv_op_flush(&op, db);
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

static int kv_swapdb(struct akv_ctx *c, int x, int y)
{
    struct akv_op op;

    op_start(&op, c);
    akv_op_want_all(&op);
    if (akv_op_lock(&op) < 0) {
        op_done(&op);
        return -1;
    }
    akv_op_swapdb(&op, x, y);
    akv_op_commit(&op);
    op_done(&op);
    return 0;
}

static void assert_kv(struct akv_ctx *c, int db, const char *key,
                         const char *val)
{
    char buf[256];
    long n = kv_get(c, db, key, buf, sizeof(buf));

    if (n != (long)strlen(val) || memcmp(buf, val, (size_t)n) != 0) {
        print_error("db %d key %s: want \"%s\", have %s\"%.*s\"\n", db, key,
                    val, n < 0 ? "(absent) " : "",
                    (int)(n < 0 ? 0 : AKV_MIN(n, 256)), buf);
        fail();
    }
}

static void assert_kv_absent(struct akv_ctx *c, int db, const char *key)
{
    long n = kv_get(c, db, key, NULL, 0);

    if (n != -1) {
        print_error("db %d key %s: want it absent, it has %ld bytes\n", db,
                    key, n);
        fail();
    }
}

static uint64_t db_keys(struct akv_arena *a, int ldb)
{
    uint8_t pdb = akv_pdb(a, ldb);
    uint64_t n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        n += a->stripes[si].s_keys[pdb];
    return n;
}

static uint64_t db_expires(struct akv_arena *a, int ldb)
{
    uint8_t pdb = akv_pdb(a, ldb);
    uint64_t n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        n += a->stripes[si].s_expires[pdb];
    return n;
}

/* Lock and unlock stripe si until its rehash (if any) is over. */
static void finish_rehash(struct fixture *f, int si)
{
    for (int i = 0; i < 1000000 && f->a.stripes[si].s_rehashidx >= 0; i++) {
        assert_int_equal(akv_stripe_lock(&f->ctx, si), 0);
        akv_stripe_unlock(&f->ctx, si);
    }
    assert_true(f->a.stripes[si].s_rehashidx < 0);
    assert_int_equal(f->a.stripes[si].s_table[1], 0);
}

/* xorshift64*: reproducible pseudo-random numbers. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* ---------------------------------------------------------------- 1. pages */

static void test_class_sizes(void **state)
{
    size_t prev = 0, nclasses = 0;

    (void)state;
    for (size_t b = 1; b <= 600000; b++) {
        size_t cs = akv_chunk_class_size(b);

        if (cs < b || cs < prev) {
            print_error("class of %zu is %zu (previous %zu)\n", b, cs, prev);
            fail();
        }
        if (b <= AKV_MAX_SLAB_CHUNK) {
            /* Slab classes: 8-byte steps, then at most 1/8 waste. */
            assert_true(cs <= AKV_MAX_SLAB_CHUNK);
            assert_int_equal(cs % 8, 0);
            if (b >= 32)
                assert_true(cs - b <= b / 8 + 8);
            else
                assert_int_equal(cs, 32);
        } else {
            /* Runs of whole 64 KiB pages. */
            assert_int_equal(cs, (b + AKV_PAGE_SIZE - 1) / AKV_PAGE_SIZE *
                                     AKV_PAGE_SIZE);
        }
        if (cs != prev && b <= AKV_MAX_SLAB_CHUNK)
            nclasses++;
        prev = cs;
    }
    assert_int_equal(akv_chunk_class_size(AKV_MAX_SLAB_CHUNK),
                     AKV_MAX_SLAB_CHUNK);
    assert_int_equal(akv_chunk_class_size(AKV_MAX_SLAB_CHUNK + 1),
                     AKV_PAGE_SIZE);
    assert_int_equal(akv_chunk_class_size(AKV_PAGE_SIZE), AKV_PAGE_SIZE);
    assert_int_equal(akv_chunk_class_size(AKV_PAGE_SIZE + 1),
                     2 * AKV_PAGE_SIZE);
    assert_int_equal(akv_chunk_class_size(33), 40);
    assert_int_equal(akv_chunk_class_size(128), 128);
    assert_int_equal(akv_chunk_class_size(129), 144);
    assert_true(nclasses <= AKV_NCLASSES);
}

struct live_chunk {
    struct akv_entry *e;
    size_t bytes;
    uint8_t tag;
};

static void fill_chunk(struct live_chunk *lc)
{
    memset(lc->e->e_data, lc->tag, lc->bytes - sizeof(struct akv_entry));
}

static void check_chunk_fill(const struct live_chunk *lc)
{
    const unsigned char *p = (const unsigned char *)lc->e->e_data;
    size_t n = lc->bytes - sizeof(struct akv_entry);

    assert_int_equal(lc->e->e_state, AKV_CHUNK_ALLOC);
    for (size_t i = 0; i < n; i++)
        if (p[i] != lc->tag) {
            print_error("chunk of %zu bytes overwritten at %zu\n", lc->bytes,
                        i);
            fail();
        }
}

static size_t random_chunk_bytes(void)
{
    uint64_t r = rng() % 100;

    if (r < 60)
        return 32 + rng() % 160;
    if (r < 95)
        return 32 + rng() % AKV_MAX_SLAB_CHUNK;
    return AKV_MAX_SLAB_CHUNK + 1 + rng() % (400 << 10);
}

static void assert_pages_clean(struct fixture *f)
{
    struct report rep = {.len = 0, .n = 0};

    rep.text[0] = '\0';
    if (akv_pages_check(&f->a, report_cb, &rep) != 0 || rep.n) {
        print_error("page table inconsistent:\n%s", rep.text);
        fail();
    }
}

/* Thousands of random allocations and frees in one stripe. */
static void test_alloc_random(void **state)
{
    struct fixture *f = *state;
    struct akv_arena *a;
    struct akv_stripe *s;
    enum { MAXLIVE = 3000, STEPS = 30000, SI = 5 };
    struct live_chunk *live = calloc(MAXLIVE, sizeof(*live));
    uint64_t sum = 0, live_cap = 20ULL << 20;
    bool class_used[AKV_NCLASSES + 1] = {false};
    int nlive = 0, nused_classes = 0;
    uint32_t inuse = 0, runs = 0;

    assert_non_null(live);
    arena_open(f, ARENA_SIZE);
    a = &f->a;
    s = &a->stripes[SI];
    rng_state = 0x9e3779b97f4a7c15ULL;
    assert_int_equal(akv_stripe_lock(&f->ctx, SI), 0);
    for (int step = 0; step < STEPS; step++) {
        bool do_alloc = nlive == 0 ||
                        (nlive < MAXLIVE && rng() % 100 < 55);
        if (do_alloc) {
            struct live_chunk *lc = &live[nlive];
            size_t cs;

            lc->bytes = random_chunk_bytes();
            cs = akv_chunk_class_size(lc->bytes);
            if (sum + cs > live_cap)
                continue;
            lc->e = akv_chunk_alloc_locked(a, SI, lc->bytes);
            if (!lc->e) {
                print_error("allocation of %zu failed with %llu bytes live\n",
                            lc->bytes, (unsigned long long)sum);
                fail();
            }
            assert_int_equal(lc->e->e_state, AKV_CHUNK_ALLOC);
            assert_int_equal(akv_chunk_capacity(a, lc->e), cs);
            assert_ptr_equal(akv_ref_at(a, akv_ref_of(a, lc->e)), lc->e);
            assert_true((char *)lc->e >= a->page0 &&
                        (char *)lc->e + lc->bytes <= a->base + a->size);
            lc->tag = (uint8_t)(rng() | 1);
            fill_chunk(lc);
            sum += cs;
            nlive++;
            if (cs <= AKV_MAX_SLAB_CHUNK) {
                uint8_t c = a->pages[akv_page_index_of(a, lc->e)].p_class;
                if (!class_used[c]) {
                    class_used[c] = true;
                    nused_classes++;
                }
            }
        } else {
            int k = (int)(rng() % (uint64_t)nlive);
            check_chunk_fill(&live[k]);
            sum -= akv_chunk_class_size(live[k].bytes);
            akv_chunk_free_locked(a, SI, live[k].e);
            live[k] = live[--nlive];
        }
        if (s->s_used != sum || atomic_load(&a->hdr->h_used) != sum) {
            print_error("step %d: s_used %llu, h_used %llu, live chunks "
                        "%llu\n", step, (unsigned long long)s->s_used,
                        (unsigned long long)atomic_load(&a->hdr->h_used),
                        (unsigned long long)sum);
            fail();
        }
        if (step % 1000 == 0)
            assert_pages_clean(f);
    }
    /* Nothing overlapped. */
    for (int k = 0; k < nlive; k++)
        check_chunk_fill(&live[k]);
    /* Free everything, in random order. */
    while (nlive) {
        int k = (int)(rng() % (uint64_t)nlive);
        akv_chunk_free_locked(a, SI, live[k].e);
        live[k] = live[--nlive];
    }
    assert_int_equal(s->s_used, 0);
    assert_int_equal(atomic_load(&a->hdr->h_used), 0);
    /* Every page went back but the stripe's one spare page. */
    for (uint32_t i = 0; i < a->hdr->h_pg_top; i++) {
        struct akv_page *p = &a->pages[i];
        if (p->p_kind == AKV_PAGE_FREE)
            continue;
        inuse++;
        assert_int_equal(p->p_kind, AKV_PAGE_RUN);
        assert_int_equal(s->s_spare, i + 1);
        runs++;
    }
    assert_true(runs <= 1);
    assert_int_equal(inuse, a->hdr->h_pg_inuse);
    (void)nused_classes;
    assert_pages_clean(f);
    akv_stripe_unlock(&f->ctx, SI);
    assert_consistent(f);
    free(live);
    arena_close(f);
}

/* Multi-page chunks are page runs; freed neighbours coalesce. */
static void test_alloc_runs_coalesce(void **state)
{
    struct fixture *f = *state;
    struct akv_arena *a;
    struct akv_entry *A, *B, *C, *D, *E, *F;
    uint32_t ia, ib, ic, top;
    enum { SI = 3 };

    arena_open(f, ARENA_SIZE);
    a = &f->a;
    assert_int_equal(akv_stripe_lock(&f->ctx, SI), 0);
    A = akv_chunk_alloc_locked(a, SI, 1 << 20);
    B = akv_chunk_alloc_locked(a, SI, 5 << 20);
    C = akv_chunk_alloc_locked(a, SI, 1 << 20);
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C);
    ia = akv_page_index_of(a, A);
    ib = akv_page_index_of(a, B);
    ic = akv_page_index_of(a, C);
    /* Each starts on a page boundary and they sit back to back. */
    assert_ptr_equal(akv_page_addr(a, ia), (char *)A);
    assert_int_equal(ib, ia + 16);
    assert_int_equal(ic, ib + 80);
    assert_int_equal(a->pages[ia].p_kind, AKV_PAGE_RUN);
    assert_int_equal(a->pages[ia].p_run, 16);
    assert_int_equal(a->pages[ia].p_owner, SI + 1);
    for (uint32_t i = 1; i < 16; i++) {
        assert_int_equal(a->pages[ia + i].p_kind, AKV_PAGE_TAIL);
        assert_int_equal(a->pages[ia + i].p_owner, SI + 1);
    }
    assert_int_equal(a->pages[ib].p_run, 80);
    assert_int_equal(akv_chunk_capacity(a, B), 5 << 20);
    assert_int_equal(a->stripes[SI].s_used, 7 << 20);
    assert_int_equal(a->hdr->h_pg_inuse, 112);
    top = a->hdr->h_pg_top;
    assert_pages_clean(f);

    /* Free B then A: one free run of 96 pages at A's place. */
    akv_chunk_free_locked(a, SI, B);
    assert_int_equal(a->pages[ib].p_kind, AKV_PAGE_FREE);
    assert_int_equal(a->pages[ib].p_run, 80);
    assert_int_equal(a->pages[ib + 79].p_run, 80);
    assert_pages_clean(f);
    akv_chunk_free_locked(a, SI, A);
    assert_int_equal(a->pages[ia].p_kind, AKV_PAGE_FREE);
    assert_int_equal(a->pages[ia].p_run, 96);
    assert_int_equal(a->pages[ia + 95].p_run, 96);
    assert_int_equal(a->hdr->h_pg_inuse, 16);
    assert_int_equal(a->stripes[SI].s_used, 1 << 20);
    assert_pages_clean(f);

    /* A run of A+B fits exactly where A was. */
    D = akv_chunk_alloc_locked(a, SI, 6 << 20);
    assert_non_null(D);
    assert_int_equal(akv_page_index_of(a, D), ia);
    assert_int_equal(a->pages[ia].p_run, 96);
    assert_int_equal(a->hdr->h_pg_top, top);
    assert_pages_clean(f);

    /* Free D and C: everything below the top is one run again; a smaller
     * run splits it, a longer one than the rest comes from the top. */
    akv_chunk_free_locked(a, SI, D);
    akv_chunk_free_locked(a, SI, C);
    assert_int_equal(a->hdr->h_pg_inuse, 0);
    assert_int_equal(a->pages[ia].p_run, 112);
    E = akv_chunk_alloc_locked(a, SI, 10 * AKV_PAGE_SIZE);
    assert_non_null(E);
    assert_int_equal(akv_page_index_of(a, E), ia);
    assert_int_equal(a->pages[ia + 10].p_kind, AKV_PAGE_FREE);
    assert_int_equal(a->pages[ia + 10].p_run, 102);
    F = akv_chunk_alloc_locked(a, SI, 200 * AKV_PAGE_SIZE);
    assert_non_null(F);
    assert_int_equal(akv_page_index_of(a, F), top);
    assert_pages_clean(f);
    akv_chunk_free_locked(a, SI, F);
    akv_chunk_free_locked(a, SI, E);
    assert_int_equal(a->stripes[SI].s_used, 0);
    assert_int_equal(a->hdr->h_pg_inuse, 0);
    assert_pages_clean(f);
    akv_stripe_unlock(&f->ctx, SI);
    assert_consistent(f);
    arena_close(f);
}

/* A full arena makes allocations fail cleanly. */
static void test_alloc_arena_full(void **state)
{
    struct fixture *f = *state;
    struct akv_arena *a;
    enum { SI = 0, MAXC = 20000 };
    struct akv_entry **big = calloc(MAXC, sizeof(*big));
    struct akv_entry **small = calloc(MAXC, sizeof(*small));
    int nbig = 0, nsmall = 0;
    uint64_t sum = 0;
    char *val;

    assert_non_null(big);
    assert_non_null(small);
    arena_open(f, SMALL_ARENA_SIZE);
    a = &f->a;
    assert_int_equal(akv_stripe_lock(&f->ctx, SI), 0);
    while (nbig < MAXC &&
           (big[nbig] = akv_chunk_alloc_locked(a, SI, 1 << 20)) != NULL) {
        nbig++;
        sum += 1 << 20;
    }
    assert_true(nbig > 0 && nbig < MAXC);
    assert_true((uint64_t)nbig * 16 <= a->hdr->h_npages);
    while (nsmall < MAXC &&
           (small[nsmall] = akv_chunk_alloc_locked(a, SI, 1000)) != NULL) {
        nsmall++;
        sum += akv_chunk_class_size(1000);
    }
    assert_true(nsmall < MAXC);
    /* No page left: another class, and runs, fail too. */
    assert_null(akv_chunk_alloc_locked(a, SI, 5000));
    assert_null(akv_chunk_alloc_locked(a, SI, 1 << 20));
    assert_null(akv_chunk_alloc_locked(a, SI, 3 * AKV_PAGE_SIZE));
    assert_int_equal(a->stripes[SI].s_used, sum);
    assert_int_equal(a->hdr->h_pg_inuse, a->hdr->h_npages);
    assert_pages_clean(f);
    akv_stripe_unlock(&f->ctx, SI);

    /* Through the op API: the command fails, nothing is left behind. */
    val = malloc(100000);
    assert_non_null(val);
    memset(val, 'v', 100000);
    assert_int_equal(kv_set(&f->ctx, 0, "does-not-fit", val, 100000), -1);
    assert_kv_absent(&f->ctx, 0, "does-not-fit");
    assert_consistent_skip(f, 1ULL << SI);

    /* Freeing makes room again. */
    assert_int_equal(akv_stripe_lock(&f->ctx, SI), 0);
    for (int i = 0; i < nbig; i++)
        akv_chunk_free_locked(a, SI, big[i]);
    for (int i = 0; i < nsmall; i++)
        akv_chunk_free_locked(a, SI, small[i]);
    assert_int_equal(a->stripes[SI].s_used, 0);
    big[0] = akv_chunk_alloc_locked(a, SI, 1 << 20);
    assert_non_null(big[0]);
    akv_chunk_free_locked(a, SI, big[0]);
    assert_pages_clean(f);
    akv_stripe_unlock(&f->ctx, SI);
    assert_int_equal(kv_set(&f->ctx, 0, "fits-now", val, 100000), 0);
    assert_int_equal(kv_get(&f->ctx, 0, "fits-now", NULL, 0), 100000);
    assert_consistent(f);
    free(val);
    free(big);
    free(small);
    arena_close(f);
}

/* Values of mixed sizes: a workload whose chunks add up to a quarter of
 * the arena must fit.  Every stripe cuts its own 64 KiB slab page per
 * size class, so 64 stripes times the classes in use can take the whole
 * arena long before used_memory gets there. */
static void test_alloc_mixed_sizes_fit(void **state)
{
    struct fixture *f = *state;
    enum { MAXV = 16000 };
    const int64_t maxmemory = 24 << 20;
    int failed = 0, n = 0;
    char key[32], *val;

    /* Partly filled slab pages (one per stripe and size class at worst)
     * are the price of per-stripe allocation; an arena sized for
     * maxmemory must absorb them, so that data of any size mix fills
     * maxmemory before the arena. */
    val = malloc(MAXV);
    assert_non_null(val);
    memset(val, 'm', MAXV);
    arena_open(f, akv_arena_size_for(maxmemory));
    rng_state = 12345;
    while (atomic_load(&f->a.hdr->h_used) < (uint64_t)maxmemory) {
        snprintf(key, sizeof(key), "mixed:%d", n++);
        if (kv_set(&f->ctx, 0, key, val, 1 + rng() % MAXV) < 0)
            failed++;
        if (failed)
            break;
    }
    free(val);
    if (failed)
        print_error("SET %d failed with used_memory at %llu of %lld "
                    "(%u of %u pages in use)\n", n,
                    (unsigned long long)f->a.hdr->h_used,
                    (long long)maxmemory, f->a.hdr->h_pg_inuse,
                    f->a.hdr->h_npages);
    assert_int_equal(failed, 0);
    assert_consistent(f);
    arena_close(f);
}

/* ----------------------------------------------------------- 2. the index */

#define NKEYS 100000
static const int test_dbs[4] = {0, 1, 2, 7};

static void key_name(char *buf, size_t len, int i)
{
    snprintf(buf, len, "key:%06d", i);
}

/* The half deleted in the middle of the test: half of every db. */
static bool deleted(int i)
{
    return (i / 4) % 2 == 0;
}

static size_t value_of(char *buf, int i)
{
    size_t n = 1 + (size_t)(i % 60);

    for (size_t k = 0; k < n; k++)
        buf[k] = (char)('a' + (i + (int)k) % 26);
    return n;
}

struct seen {
    uint8_t *count;
    int bad;
    char prefix[16];
};

static void scan_cb(struct akv_arena *a, int si, struct akv_entry *e,
                    void *ctx)
{
    struct seen *sn = ctx;
    size_t pl = strlen(sn->prefix);
    char buf[32];
    int i;

    (void)a;
    if (e->e_state != AKV_CHUNK_LIVE || akv_entry_stripe(e) != si) {
        sn->bad++;
        return;
    }
    if (e->e_klen >= sizeof(buf) || e->e_klen <= pl ||
        memcmp(e->e_data, sn->prefix, pl) != 0)
        return;
    memcpy(buf, e->e_data + pl, e->e_klen - pl);
    buf[e->e_klen - pl] = '\0';
    i = atoi(buf);
    if (sn->count[i] < 255)
        sn->count[i]++;
}

static void test_table_many_keys(void **state)
{
    struct fixture *f = *state;
    struct akv_arena *a;
    struct akv_ctx *c;
    struct seen sn = {.bad = 0};
    uint64_t total = 0;
    char key[32], val[64], got[64];

    arena_open(f, ARENA_SIZE);
    a = &f->a;
    c = &f->ctx;
    for (int i = 0; i < NKEYS; i++) {
        size_t n = value_of(val, i);
        key_name(key, sizeof(key), i);
        assert_int_equal(kv_set(c, test_dbs[i % 4], key, val, n), 0);
    }
    for (int i = 0; i < NKEYS; i++) {
        size_t n = value_of(val, i);
        key_name(key, sizeof(key), i);
        assert_int_equal(kv_get(c, test_dbs[i % 4], key, got, sizeof(got)),
                         (long)n);
        assert_memory_equal(got, val, n);
        /* Same name, another db: a different key. */
        assert_int_equal(kv_get(c, test_dbs[(i + 1) % 4], key, NULL, 0),
                         -1);
    }
    /* Every stripe's table grew, and incremental rehashing finishes. */
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        struct akv_stripe *s = &a->stripes[si];
        uint64_t size;

        finish_rehash(f, si);
        assert_int_equal(akv_stripe_lock(c, si), 0);
        size = akv_table_size_locked(a, si, 0);
        assert_true(size > 16);
        assert_int_equal(size & (size - 1), 0);
        assert_int_equal(akv_table_size_locked(a, si, 1), 0);
        total += s->s_count;
        akv_stripe_unlock(c, si);
    }
    assert_int_equal(total, NKEYS);
    for (int d = 0; d < 4; d++)
        assert_int_equal(db_keys(a, test_dbs[d]), NKEYS / 4);
    assert_consistent(f);

    /* Delete half of the keys of every db. */
    for (int i = 0; i < NKEYS; i++) {
        if (!deleted(i))
            continue;
        key_name(key, sizeof(key), i);
        assert_int_equal(kv_del(c, test_dbs[i % 4], key), 1);
    }
    for (int i = 0; i < NKEYS; i++) {
        key_name(key, sizeof(key), i);
        if (deleted(i)) {
            assert_int_equal(kv_get(c, test_dbs[i % 4], key, NULL, 0), -1);
            assert_int_equal(kv_del(c, test_dbs[i % 4], key), 0);
        } else {
            size_t n = value_of(val, i);
            assert_int_equal(
                kv_get(c, test_dbs[i % 4], key, got, sizeof(got)), (long)n);
            assert_memory_equal(got, val, n);
        }
    }
    total = 0;
    for (int si = 0; si < AKV_NSTRIPES; si++)
        total += a->stripes[si].s_count;
    assert_int_equal(total, NKEYS / 2);
    for (int d = 0; d < 4; d++)
        assert_int_equal(db_keys(a, test_dbs[d]), NKEYS / 8);
    for (int d = 0; d < AKV_MAX_DBS; d++)
        for (int si = 0; si < AKV_NSTRIPES; si++)
            assert_int_equal(a->stripes[si].s_expires[d], 0);
    assert_consistent(f);

    /* A full SCAN of every stripe returns each remaining key once. */
    sn.count = calloc(NKEYS, 1);
    assert_non_null(sn.count);
    strcpy(sn.prefix, "key:");
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        uint64_t cur = 0;
        int steps = 0;

        do {
            assert_int_equal(akv_stripe_lock(c, si), 0);
            cur = akv_table_scan_locked(a, si, cur, scan_cb, &sn);
            akv_stripe_unlock(c, si);
            assert_true(++steps <= 1 << 20);
        } while (cur != 0);
    }
    assert_int_equal(sn.bad, 0);
    for (int i = 0; i < NKEYS; i++)
        if (sn.count[i] != (deleted(i) ? 0 : 1)) {
            print_error("key %d returned %d times by SCAN\n", i,
                        sn.count[i]);
            fail();
        }
    free(sn.count);
    arena_close(f);
}

/* SCAN returns every key that is there all along, even when the table
 * grows (and later shrinks) between its steps. */
static void test_table_scan_during_rehash(void **state)
{
    struct fixture *f = *state;
    struct akv_arena *a;
    struct akv_ctx *c;
    struct akv_stripe *s;
    enum { SI = 7, NBASE = 200, NEXTRA = 1200 };
    struct seen sn = {.bad = 0};
    char key[32];
    int from = 0, xfrom = 0, inserted = 0, steps = 0;
    bool saw_rehash = false, saw_shrink = false;
    uint64_t size_before, cur;

    arena_open(f, ARENA_SIZE);
    a = &f->a;
    c = &f->ctx;
    s = &a->stripes[SI];
    sn.count = calloc(1u << 20, 1);
    assert_non_null(sn.count);
    strcpy(sn.prefix, "base:");
    for (int i = 0; i < NBASE; i++) {
        key_in_stripe(a, "base:", SI, &from, key, sizeof(key));
        assert_int_equal(kv_sets(c, 1, key, "b"), 0);
    }
    finish_rehash(f, SI);
    size_before = akv_table_size_locked(a, SI, 0);
    assert_int_equal(size_before, 256);

    /* Growth: insert 4 keys of the same stripe between scan steps. */
    cur = 0;
    do {
        assert_int_equal(akv_stripe_lock(c, SI), 0);
        if (s->s_rehashidx >= 0)
            saw_rehash = true;
        cur = akv_table_scan_locked(a, SI, cur, scan_cb, &sn);
        akv_stripe_unlock(c, SI);
        for (int k = 0; k < 4 && inserted < NEXTRA; k++, inserted++) {
            key_in_stripe(a, "extra:", SI, &xfrom, key, sizeof(key));
            assert_int_equal(kv_sets(c, 0, key, "x"), 0);
        }
        assert_true(++steps < 100000);
    } while (cur != 0);
    assert_true(saw_rehash);
    assert_true(akv_table_size_locked(a, SI, 0) > size_before);
    assert_int_equal(sn.bad, 0);
    for (int i = 0; i < from; i++) {
        snprintf(key, sizeof(key), "base:%d", i);
        if (key_stripe(a, key) == SI && sn.count[i] == 0) {
            print_error("SCAN missed %s\n", key);
            fail();
        }
    }
    assert_consistent(f);

    /* Shrinking: make the table large, flush the extra keys between
     * scan steps (the flush starts a shrink), and scan on. */
    while (inserted < NEXTRA) {
        key_in_stripe(a, "extra:", SI, &xfrom, key, sizeof(key));
        assert_int_equal(kv_sets(c, 0, key, "x"), 0);
        inserted++;
    }
    finish_rehash(f, SI);
    size_before = akv_table_size_locked(a, SI, 0);
    assert_true(size_before >= 1024);
    memset(sn.count, 0, 1u << 20);
    cur = 0;
    steps = 0;
    do {
        assert_int_equal(akv_stripe_lock(c, SI), 0);
        if (s->s_rehashidx >= 0 && akv_table_size_locked(a, SI, 1) <
                                       akv_table_size_locked(a, SI, 0))
            saw_shrink = true;
        cur = akv_table_scan_locked(a, SI, cur, scan_cb, &sn);
        akv_stripe_unlock(c, SI);
        if (++steps == 5)
            assert_int_equal(kv_flushdb(c, 0), 0);
        assert_true(steps < 100000);
    } while (cur != 0);
    assert_true(saw_shrink);
    assert_int_equal(sn.bad, 0);
    for (int i = 0; i < from; i++) {
        snprintf(key, sizeof(key), "base:%d", i);
        if (key_stripe(a, key) == SI && sn.count[i] == 0) {
            print_error("SCAN missed %s while shrinking\n", key);
            fail();
        }
    }
    finish_rehash(f, SI);
    assert_true(akv_table_size_locked(a, SI, 0) < size_before);
    assert_int_equal(s->s_count, NBASE);
    assert_int_equal(db_keys(a, 0), 0);
    assert_int_equal(db_keys(a, 1), NBASE);
    assert_consistent(f);
    free(sn.count);
    arena_close(f);
}

/* ------------------------------------------------------------- 3. repair */

enum op_kind {
    OP_OVERWRITE,    /* SET k1 (exists): one NEW, one OLD */
    OP_SET_BIG,      /* SET k1 to a value that needs a run of pages */
    OP_SET_NEWCLASS, /* SET k2 (new) in a class with no page yet */
    OP_DEL,          /* DEL k1 */
    OP_RENAME,       /* RENAME k1 k2: OLD and NEW on two stripes */
    OP_MSET2,        /* MSET k1 k3: two NEW + two OLD on two stripes */
    OP_EXPIRE,       /* PEXPIREAT k1 */
    OP_FLUSHDB,      /* FLUSHDB 0 with keys in db 0 and db 1 */
    OP_SWAPDB,       /* SWAPDB 0 1 */
    OP_ABORT,        /* stage a new key, then abort */
    OP_REHASH,       /* reads of a stripe whose table is being rehashed */
    OP_LAZY_EXPIRE,  /* GET k1 after it expired: deletes it */
    OP_MSET_MANY,    /* MSET of NMANY keys over many stripes */
    OP_APPEND,       /* APPEND to k1 in place (a length change) */
};

static const char *const op_names[] = {
    "overwrite", "set-big", "set-newclass", "del",         "rename",
    "mset2",     "expire",  "flushdb",      "swapdb",      "abort",
    "rehash",    "lazy-expire", "mset-many", "append",
};
_Static_assert(akv_nelem(op_names) == OP_APPEND + 1, "a name per op");

struct fault_case {
    const char *point;
    enum op_kind op;
    bool forward; /* the op must be rolled forward (else back) */
};

static const struct fault_case fault_cases[] = {
    {"intent-prepared", OP_OVERWRITE, false},
    {"marked", OP_OVERWRITE, false},
    {"committed", OP_OVERWRITE, true},
    {"applied-half", OP_OVERWRITE, true},
    {"applied", OP_OVERWRITE, true},
    {"chunk-carved", OP_OVERWRITE, false},
    {"chunk-freed", OP_OVERWRITE, true},
    {"page-taken", OP_SET_BIG, false},
    {"intent-prepared", OP_SET_BIG, false},
    {"marked", OP_SET_BIG, false},
    {"committed", OP_SET_BIG, true},
    {"chunk-freed", OP_SET_BIG, true},
    {"applied", OP_SET_BIG, true},
    {"page-taken", OP_SET_NEWCLASS, false},
    {"chunk-carved", OP_SET_NEWCLASS, false},
    {"intent-prepared", OP_DEL, false},
    {"marked", OP_DEL, false},
    {"committed", OP_DEL, true},
    {"applied-half", OP_DEL, true},
    {"applied", OP_DEL, true},
    {"chunk-freed", OP_DEL, true},
    {"intent-prepared", OP_RENAME, false},
    {"marked", OP_RENAME, false},
    {"chunk-carved", OP_RENAME, false},
    {"committed", OP_RENAME, true},
    {"applied-half", OP_RENAME, true},
    {"applied", OP_RENAME, true},
    {"chunk-freed", OP_RENAME, true},
    {"intent-prepared", OP_MSET2, false},
    {"marked", OP_MSET2, false},
    {"committed", OP_MSET2, true},
    {"applied-half", OP_MSET2, true},
    {"applied", OP_MSET2, true},
    {"intent-prepared", OP_EXPIRE, false},
    {"marked", OP_EXPIRE, false},
    {"committed", OP_EXPIRE, true},
    {"applied", OP_EXPIRE, true},
    {"intent-prepared", OP_FLUSHDB, false},
    {"marked", OP_FLUSHDB, false},
    {"committed", OP_FLUSHDB, true},
    {"chunk-freed", OP_FLUSHDB, true},
    {"applied", OP_FLUSHDB, true},
    {"intent-prepared", OP_SWAPDB, false},
    {"marked", OP_SWAPDB, false},
    {"committed", OP_SWAPDB, true},
    {"applied", OP_SWAPDB, true},
    {"chunk-freed", OP_ABORT, false},
    {"rehash-step", OP_REHASH, false},
    {"table-swap", OP_REHASH, false},
    {"chunk-freed", OP_REHASH, false},
    {"intent-prepared", OP_LAZY_EXPIRE, false},
    {"marked", OP_LAZY_EXPIRE, false},
    {"committed", OP_LAZY_EXPIRE, true},
    {"applied-half", OP_LAZY_EXPIRE, true},
    {"applied", OP_LAZY_EXPIRE, true},
    {"intent-prepared", OP_MSET_MANY, false},
    {"marked", OP_MSET_MANY, false},
    {"committed", OP_MSET_MANY, true},
    {"applied-half", OP_MSET_MANY, true},
    {"applied", OP_MSET_MANY, true},
    {"intent-prepared", OP_APPEND, false},
    {"marked", OP_APPEND, false},
    {"committed", OP_APPEND, true},
    {"applied", OP_APPEND, true},
};

#define OLD1 "old-value-1"
#define NEW1 "new-value-1"
#define OLD3 "old-value-3"
#define NEW3 "new-value-3"
#define BIG_LEN (300u << 10)
#define NEWCLASS_LEN 3000
#define NFLUSH0 200
#define NFLUSH1 50
#define NMANY 40

struct scenario {
    char k1[32], k2[32], k3[32], probe[32];
    int sa, sb;         /* stripes of k1 and of k2/k3 */
    int nrehash;        /* keys "r<i>" of stripe sa inserted for OP_REHASH */
    int64_t expire_at;
    int nlocked;        /* stripes the op holds when it dies */
};

static void scenario_setup(struct fixture *f, struct scenario *sc,
                           enum op_kind op)
{
    struct akv_arena *a = &f->a;
    struct akv_ctx *c = &f->ctx;
    int from = 0;
    char key[32];

    memset(sc, 0, sizeof(*sc));
    key_in_stripe(a, "a", 9, &from, sc->k1, sizeof(sc->k1));
    sc->sa = key_stripe(a, sc->k1);
    from = 0;
    key_in_stripe(a, "b", 41, &from, sc->k2, sizeof(sc->k2));
    sc->sb = key_stripe(a, sc->k2);
    from = 0;
    key_in_stripe(a, "c", sc->sb, &from, sc->k3, sizeof(sc->k3));
    assert_int_not_equal(sc->sa, sc->sb);
    assert_int_equal(kv_sets(c, 0, sc->k1, OLD1), 0);
    assert_int_equal(kv_sets(c, 0, sc->k3, OLD3), 0);
    sc->expire_at = akv_mstime() + 3600 * 1000;

    if (op == OP_FLUSHDB) {
        for (int i = 0; i < NFLUSH0; i++) {
            snprintf(key, sizeof(key), "f%d", i);
            assert_int_equal(kv_sets(c, 0, key, "in-db-0"), 0);
        }
        for (int i = 0; i < NFLUSH1; i++) {
            snprintf(key, sizeof(key), "g%d", i);
            assert_int_equal(kv_sets(c, 1, key, "in-db-1"), 0);
        }
    }
    if (op == OP_LAZY_EXPIRE)
        assert_int_equal(kv_expire(c, 0, sc->k1, 1), 1);
    if (op == OP_APPEND)
        assert_int_equal(kv_set_room(c, 0, sc->k1, OLD1, 64), 0);
    if (op == OP_MSET_MANY) {
        uint64_t mask = 0;
        for (int i = 0; i < NMANY; i++) {
            snprintf(key, sizeof(key), "m%d", i);
            assert_int_equal(kv_sets(c, 0, key, "old-m"), 0);
            mask |= 1ULL << key_stripe(a, key);
        }
        sc->nlocked = __builtin_popcountll(mask);
        assert_true(sc->nlocked > 10);
    }
    if (op == OP_REHASH) {
        struct akv_stripe *s = &a->stripes[sc->sa];
        from = 0;
        key_in_stripe(a, "p", sc->sa, &from, sc->probe, sizeof(sc->probe));
        from = 0;
        while (s->s_rehashidx < 0) {
            key_in_stripe(a, "r", sc->sa, &from, key, sizeof(key));
            assert_int_equal(kv_sets(c, 0, key, "rehash-me"), 0);
            sc->nrehash++;
            assert_true(sc->nrehash < 100000);
        }
        assert_true(akv_table_size_locked(a, sc->sa, 1) >
                    akv_table_size_locked(a, sc->sa, 0));
    }
    assert_consistent(f);
}

/* Runs in the child: perform the op; returns normally only when the armed
 * point was not reached. */
static int child_op(struct akv_ctx *c, const struct scenario *sc,
                    enum op_kind op)
{
    static char big[BIG_LEN];

    switch (op) {
    case OP_OVERWRITE:
        return kv_sets(c, 0, sc->k1, NEW1);
    case OP_SET_BIG:
        memset(big, 'B', sizeof(big));
        return kv_set(c, 0, sc->k1, big, sizeof(big));
    case OP_SET_NEWCLASS:
        memset(big, 'N', NEWCLASS_LEN);
        return kv_set(c, 0, sc->k2, big, NEWCLASS_LEN);
    case OP_DEL:
        return kv_del(c, 0, sc->k1);
    case OP_RENAME:
        return kv_rename(c, 0, sc->k1, sc->k2);
    case OP_MSET2:
        return kv_mset2(c, 0, sc->k1, NEW1, sc->k3, NEW3);
    case OP_EXPIRE:
        return kv_expire(c, 0, sc->k1, sc->expire_at);
    case OP_FLUSHDB:
        return kv_flushdb(c, 0);
    case OP_SWAPDB:
        return kv_swapdb(c, 0, 1);
    case OP_ABORT:
        return kv_set_abort(c, 0, sc->k2, "never-seen");
    case OP_REHASH:
        for (int i = 0; i < 10000; i++)
            kv_get(c, 0, sc->probe, NULL, 0);
        return 0;
    case OP_LAZY_EXPIRE:
        return (int)kv_get(c, 0, sc->k1, NULL, 0);
    case OP_MSET_MANY:
        return kv_mset(c, 0, "m", NMANY, "new-m");
    case OP_APPEND:
        return kv_append_inplace(c, 0, sc->k1, "-tail");
    }
    return -1;
}

/* Stripes the op holds when it dies. */
static int locked_by(const struct scenario *sc, enum op_kind op)
{
    switch (op) {
    case OP_MSET_MANY:
        return sc->nlocked;
    case OP_RENAME:
    case OP_MSET2:
        return 2;
    case OP_FLUSHDB:
    case OP_SWAPDB:
        return AKV_NSTRIPES;
    default:
        return 1;
    }
}

static void verify_outcome(struct fixture *f, const struct scenario *sc,
                           enum op_kind op, bool fwd)
{
    struct akv_ctx *c = &f->ctx;
    char key[32];

    switch (op) {
    case OP_OVERWRITE:
        assert_kv(c, 0, sc->k1, fwd ? NEW1 : OLD1);
        break;
    case OP_SET_BIG:
        if (fwd) {
            char *buf = malloc(BIG_LEN);
            assert_non_null(buf);
            assert_int_equal(kv_get(c, 0, sc->k1, buf, BIG_LEN), BIG_LEN);
            assert_int_equal(buf[0], 'B');
            assert_int_equal(buf[BIG_LEN - 1], 'B');
            free(buf);
        } else {
            assert_kv(c, 0, sc->k1, OLD1);
        }
        break;
    case OP_LAZY_EXPIRE:
        assert_int_equal(kv_raw_present(c, 0, sc->k1), !fwd);
        assert_int_equal(db_expires(&f->a, 0), fwd ? 0 : 1);
        assert_int_equal(db_keys(&f->a, 0), fwd ? 1 : 2);
        break;
    case OP_APPEND:
        assert_kv(c, 0, sc->k1, fwd ? OLD1 "-tail" : OLD1);
        break;
    case OP_MSET_MANY:
        for (int i = 0; i < NMANY; i++) {
            snprintf(key, sizeof(key), "m%d", i);
            assert_kv(c, 0, key, fwd ? "new-m" : "old-m");
        }
        assert_int_equal(db_keys(&f->a, 0), NMANY + 2);
        break;
    case OP_SET_NEWCLASS:
    case OP_ABORT:
        assert_kv_absent(c, 0, sc->k2);
        assert_kv(c, 0, sc->k1, OLD1);
        break;
    case OP_DEL:
        if (fwd)
            assert_kv_absent(c, 0, sc->k1);
        else
            assert_kv(c, 0, sc->k1, OLD1);
        break;
    case OP_RENAME:
        if (fwd) {
            assert_kv_absent(c, 0, sc->k1);
            assert_kv(c, 0, sc->k2, OLD1);
        } else {
            assert_kv(c, 0, sc->k1, OLD1);
            assert_kv_absent(c, 0, sc->k2);
        }
        break;
    case OP_MSET2:
        assert_kv(c, 0, sc->k1, fwd ? NEW1 : OLD1);
        assert_kv(c, 0, sc->k3, fwd ? NEW3 : OLD3);
        break;
    case OP_EXPIRE:
        assert_int_equal(kv_expire_of(c, 0, sc->k1), fwd ? sc->expire_at : 0);
        assert_int_equal(db_expires(&f->a, 0), fwd ? 1 : 0);
        break;
    case OP_FLUSHDB:
        for (int i = 0; i < NFLUSH0; i++) {
            snprintf(key, sizeof(key), "f%d", i);
            if (fwd)
                assert_kv_absent(c, 0, key);
            else
                assert_kv(c, 0, key, "in-db-0");
        }
        for (int i = 0; i < NFLUSH1; i++) {
            snprintf(key, sizeof(key), "g%d", i);
            assert_kv(c, 1, key, "in-db-1");
        }
        assert_int_equal(db_keys(&f->a, 0), fwd ? 0 : NFLUSH0 + 2);
        assert_int_equal(db_keys(&f->a, 1), NFLUSH1);
        break;
    case OP_SWAPDB:
        assert_kv(c, fwd ? 1 : 0, sc->k1, OLD1);
        assert_kv_absent(c, fwd ? 0 : 1, sc->k1);
        assert_int_equal(db_keys(&f->a, fwd ? 1 : 0), 2);
        assert_int_equal(db_keys(&f->a, fwd ? 0 : 1), 0);
        break;
    case OP_REHASH: {
        int from = 0;
        for (int i = 0; i < sc->nrehash; i++) {
            key_in_stripe(&f->a, "r", sc->sa, &from, key, sizeof(key));
            assert_kv(c, 0, key, "rehash-me");
        }
        assert_kv_absent(c, 0, sc->probe);
        assert_kv(c, 0, sc->k1, OLD1);
        assert_int_equal(f->a.stripes[sc->sa].s_count, sc->nrehash + 1);
        break;
    }
    }
}

/* Fork a child that claims a slot, arms `point` and runs fn(ctx, arg);
 * returns its wait status. */
static int run_child(struct fixture *f, const char *point,
                     void (*fn)(struct akv_ctx *c, const void *arg),
                     const void *arg)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct akv_ctx c;
        int slot = akv_slot_claim_client(&f->a, 100);

        if (slot < 0)
            _exit(10);
        memset(&c, 0, sizeof(c));
        c.a = &f->a;
        c.slot = slot;
        c.cs = &f->a.slots[slot];
        c.seq = 0;
        c.now = akv_mstime();
        if (!akv_fault_arm(point, 1))
            _exit(11);
        fn(&c, arg);
        _exit(12); /* the point was not reached */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void child_set(struct akv_ctx *c, const void *arg)
{
    kv_sets(c, 0, arg, "last");
}

static void child_get(struct akv_ctx *c, const void *arg)
{
    kv_get(c, 0, arg, NULL, 0);
}

static bool killed(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

struct op_arg {
    const struct scenario *sc;
    enum op_kind op;
};

static void child_run_op(struct akv_ctx *c, const void *arg)
{
    const struct op_arg *oa = arg;

    child_op(c, oa->sc, oa->op);
}

static uint64_t total_repairs(struct akv_arena *a)
{
    uint64_t n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        n += a->stripes[si].s_repairs;
    return n;
}

/* After the child died, either this process locks every stripe itself
 * (assert_consistent), or it reaps the dead slot the way the supervisor
 * does, which must repair the stripes before freeing the slot. */
static void run_fault_case(const struct fault_case *fc, bool reap_first)
{
    struct fixture *f = &fx;
    struct scenario sc;
    struct op_arg oa = {&sc, fc->op};
    uint64_t repairs, st_repairs;
    int status, reaped;

    arena_open(f, ARENA_SIZE);
    scenario_setup(f, &sc, fc->op);
    repairs = total_repairs(&f->a);
    st_repairs = atomic_load(&f->a.hdr->h_stats.st_repairs);

    status = run_child(f, fc->point, child_run_op, &oa);
    if (!killed(status)) {
        print_error("%s/%s: child was not killed at the point (status "
                    "0x%x, exit %d)\n", op_names[fc->op], fc->point, status,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        fail();
    }

    if (reap_first) {
        assert_int_equal(akv_reap_dead_slots(&f->ctx), 1);
        assert_int_equal(akv_slots_in_use(&f->a), 0);
    }
    /* Locking every stripe repairs the ones the child held. */
    assert_consistent(f);
    if (total_repairs(&f->a) - repairs != (uint64_t)locked_by(&sc, fc->op)) {
        print_error("%s/%s: %llu stripes repaired, want %d\n",
                    op_names[fc->op], fc->point,
                    (unsigned long long)(total_repairs(&f->a) - repairs),
                    locked_by(&sc, fc->op));
        fail();
    }
    assert_int_equal(atomic_load(&f->a.hdr->h_stats.st_repairs) - st_repairs,
                     locked_by(&sc, fc->op));
    verify_outcome(f, &sc, fc->op, fc->forward);

    /* The dead child's slot is reaped (if not yet); the arena stays
     * usable. */
    reaped = akv_reap_dead_slots(&f->ctx);
    assert_int_equal(reaped, reap_first ? 0 : 1);
    assert_int_equal(akv_slots_in_use(&f->a), 0);
    assert_int_equal(kv_sets(&f->ctx, 0, sc.k1, "after"), 0);
    assert_int_equal(kv_sets(&f->ctx, 0, sc.k2, "after-2"), 0);
    assert_kv(&f->ctx, 0, sc.k1, "after");
    assert_kv(&f->ctx, 0, sc.k2, "after-2");
    assert_int_equal(kv_del(&f->ctx, 0, sc.k2), 1);
    assert_consistent(f);
    arena_close(f);
}

static void run_fault_cases(enum op_kind op)
{
    int n = 0;

    for (size_t i = 0; i < akv_nelem(fault_cases); i++) {
        if (fault_cases[i].op != op)
            continue;
        run_fault_case(&fault_cases[i], false);
        run_fault_case(&fault_cases[i], true);
        n++;
    }
    assert_true(n > 0);
}

static void test_repair_overwrite(void **state)
{
    (void)state;
    run_fault_cases(OP_OVERWRITE);
}

static void test_repair_new_pages(void **state)
{
    (void)state;
    run_fault_cases(OP_SET_BIG);
    run_fault_cases(OP_SET_NEWCLASS);
}

static void test_repair_del(void **state)
{
    (void)state;
    run_fault_cases(OP_DEL);
}

static void test_repair_two_stripes(void **state)
{
    (void)state;
    run_fault_cases(OP_RENAME);
    run_fault_cases(OP_MSET2);
}

static void test_repair_expire(void **state)
{
    (void)state;
    run_fault_cases(OP_EXPIRE);
}

static void test_repair_flush_swap(void **state)
{
    (void)state;
    run_fault_cases(OP_FLUSHDB);
    run_fault_cases(OP_SWAPDB);
}

static void test_repair_abort_and_rehash(void **state)
{
    (void)state;
    run_fault_cases(OP_ABORT);
    run_fault_cases(OP_REHASH);
}

static void test_repair_lazy_expire(void **state)
{
    (void)state;
    run_fault_cases(OP_LAZY_EXPIRE);
}

static void test_repair_append(void **state)
{
    struct fixture *f = *state;

    /* The in-place append itself, without a crash. */
    arena_open(f, ARENA_SIZE);
    assert_int_equal(kv_set_room(&f->ctx, 0, "ap", "abc", 16), 0);
    assert_int_equal(kv_append_inplace(&f->ctx, 0, "ap", "def"), 0);
    assert_kv(&f->ctx, 0, "ap", "abcdef");
    assert_int_equal(kv_append_inplace(&f->ctx, 0, "ap", "0123456789"), 0);
    assert_kv(&f->ctx, 0, "ap", "abcdef0123456789");
    assert_int_equal(kv_append_inplace(&f->ctx, 0, "ap", "toolong"), -1);
    assert_kv(&f->ctx, 0, "ap", "abcdef0123456789");
    assert_consistent(f);
    arena_close(f);
    run_fault_cases(OP_APPEND);
}

static void test_repair_many_stripes(void **state)
{
    (void)state;
    run_fault_cases(OP_MSET_MANY);
}

/* A repairer that dies in the middle of its repair is repaired by the
 * next locker.  The first child dies after the commit point of the SET
 * that makes a stripe's 17th key; relinking the keys during repair grows
 * the 16-bucket table, which takes a fresh slab page, where the second
 * child (the repairer) dies. */
static void test_repair_interrupted_repair(void **state)
{
    static const char *const points[] = {"page-taken", "chunk-carved"};
    struct fixture *f = *state;
    enum { SI = 20 };

    for (size_t k = 0; k < akv_nelem(points); k++) {
        char keys[17][32];
        uint64_t repairs;
        int from = 0;

        arena_open(f, ARENA_SIZE);
        for (int i = 0; i < 17; i++)
            key_in_stripe(&f->a, "ir", SI, &from, keys[i], sizeof(keys[i]));
        for (int i = 0; i < 16; i++)
            assert_int_equal(kv_sets(&f->ctx, 0, keys[i], "v"), 0);
        assert_int_equal(akv_table_size_locked(&f->a, SI, 0), 16);
        assert_int_equal(f->a.stripes[SI].s_rehashidx, -1);
        repairs = f->a.stripes[SI].s_repairs;

        assert_true(killed(run_child(f, "committed", child_set, keys[16])));
        assert_true(killed(run_child(f, points[k], child_get, keys[0])));
        assert_int_equal(f->a.stripes[SI].s_repairs, repairs);

        assert_consistent(f);
        assert_int_equal(f->a.stripes[SI].s_repairs, repairs + 1);
        for (int i = 0; i < 16; i++)
            assert_kv(&f->ctx, 0, keys[i], "v");
        assert_kv(&f->ctx, 0, keys[16], "last");
        assert_int_equal(f->a.stripes[SI].s_count, 17);
        assert_int_equal(akv_reap_dead_slots(&f->ctx), 2);
        finish_rehash(f, SI);
        assert_int_equal(akv_table_size_locked(&f->a, SI, 0), 32);
        assert_consistent(f);
        arena_close(f);
    }
}

/* A SWAPDB that died after its commit point, seen first through a stripe
 * other than 0: the swap is committed, so a reader that locks only its
 * key's stripe must already see it, and the map must not change under a
 * reader that holds a stripe lock (akv_pdb()). */
static void test_repair_swapdb_other_stripe(void **state)
{
    struct fixture *f = *state;
    struct scenario sc;
    struct op_arg oa = {&sc, OP_SWAPDB};

    arena_open(f, ARENA_SIZE);
    scenario_setup(f, &sc, OP_SWAPDB);
    assert_int_not_equal(sc.sa, 0);
    assert_true(killed(run_child(f, "committed", child_run_op, &oa)));
    /* Only k1's stripe (not 0) is locked, and so repaired, here. */
    assert_int_equal(kv_get(&f->ctx, 1, sc.k1, NULL, 0), strlen(OLD1));
    assert_int_equal(kv_get(&f->ctx, 0, sc.k1, NULL, 0), -1);
    assert_consistent(f);
    assert_kv(&f->ctx, 1, sc.k1, OLD1);
    assert_kv_absent(&f->ctx, 0, sc.k1);
    arena_close(f);
}

/* Every registered fault point is exercised by some case above. */
static void test_fault_points_covered(void **state)
{
    (void)state;
    for (int i = 0; akv_fault_points[i]; i++) {
        bool found = false;
        /* The containers' points are killed in test_container.c. */
        if (strcmp(akv_fault_points[i], "elem-applied-half") == 0 ||
            strcmp(akv_fault_points[i], "free-step") == 0)
            continue;
        for (size_t k = 0; k < akv_nelem(fault_cases); k++)
            if (strcmp(fault_cases[k].point, akv_fault_points[i]) == 0)
                found = true;
        if (!found) {
            print_error("fault point %s has no test\n", akv_fault_points[i]);
            fail();
        }
    }
    assert_false(akv_fault_arm("no-such-point", 1));
}

/* ------------------------------------------------------- 4. layout guard */

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Connection slots are counted exactly: the fixture's own (internal) slot
 * is not; maxclients admits exactly that many; a dead owner's slot is
 * reaped and uncounted; a process killed holding the slots lock leaves
 * a count that the next locker recounts. */
static void test_slot_count_exact(void **state)
{
    struct fixture *f = *state;
    int s1, s2, status;
    pid_t pid;

    arena_open(f, 64ULL << 20);
    assert_int_equal(akv_slots_in_use(&f->a), 0);
    s1 = akv_slot_claim_client(&f->a, 2);
    s2 = akv_slot_claim_client(&f->a, 2);
    assert_true(s1 >= 0 && s2 >= 0);
    assert_int_equal(akv_slot_claim_client(&f->a, 2), -1);
    assert_int_equal(akv_slots_in_use(&f->a), 2);
    akv_slot_release(&f->a, s2);
    assert_int_equal(akv_slots_in_use(&f->a), 1);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (akv_slot_claim_client(&f->a, 2) < 0)
            _exit(10);
        _exit(0); /* dies holding its slot */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(akv_slots_in_use(&f->a), 2);
    assert_int_equal(akv_reap_dead_slots(&f->ctx), 1);
    assert_int_equal(akv_slots_in_use(&f->a), 1);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pthread_mutex_lock(&f->a.hdr->h_slots_mutex);
        atomic_store(&f->a.hdr->h_nslots, 40); /* a count gone wrong */
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    s2 = akv_slot_claim_client(&f->a, 2); /* recovers, then admits */
    assert_true(s2 >= 0);
    assert_int_equal(akv_slots_in_use(&f->a), 2);
    akv_slot_release(&f->a, s2);
    akv_slot_release(&f->a, s1);
    assert_int_equal(akv_slots_in_use(&f->a), 0);
    arena_close(f);
}

static void test_layout_guard(void **state)
{
    struct fixture *f = *state;
    struct akv_arena b;
    const char *err;
    char path[160], junk[8192];
    uint64_t w, seed;
    int fd, r;

    arena_open(f, SMALL_ARENA_SIZE);
    assert_int_equal(kv_sets(&f->ctx, 3, "guarded", "value"), 0);
    seed = f->a.hdr->h_hash_seed;

    /* An intact arena attaches, at another address, and reads the same
     * data: nothing inside depends on where it is mapped. */
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, f->path, &err), 0);
    assert_ptr_not_equal(b.base, f->a.base);
    assert_int_equal(b.hdr->h_hash_seed, seed);
    {
        struct akv_ctx c2 = {.a = &b,
                             .slot = f->ctx.slot,
                             .cs = &b.slots[f->ctx.slot],
                             .seq = 100,
                             .now = akv_mstime()};
        assert_kv(&c2, 3, "guarded", "value");
    }
    akv_arena_detach(&b);

    /* Another layout word: refused with an explanation. */
    fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    w = akv_layout_word() ^ 0x10000;
    assert_int_equal(pwrite(fd, &w, sizeof(w),
                            offsetof(struct akv_hdr, h_layout)),
                     sizeof(w));
    err = NULL;
    r = akv_arena_attach(&b, f->path, &err);
    assert_int_equal(r, -EPROTO);
    assert_non_null(err);
    assert_non_null(strstr(err, "layout"));
    assert_null(b.base);
    w = akv_layout_word();
    assert_int_equal(pwrite(fd, &w, sizeof(w),
                            offsetof(struct akv_hdr, h_layout)),
                     sizeof(w));
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, f->path, &err), 0);
    akv_arena_detach(&b);
    close(fd);

    /* Not an arena at all. */
    snprintf(path, sizeof(path), "%s.junk", f->path);
    memset(junk, 'j', sizeof(junk));
    write_file(path, junk, sizeof(junk));
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, path, &err), -EPROTO);
    assert_non_null(err);
    /* Too short to hold a header. */
    write_file(path, junk, 16);
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, path, &err), -EPROTO);
    assert_non_null(err);
    /* A header whose size does not match the file. */
    fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    write_file(path, junk, sizeof(junk));
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, path, &err), -EPROTO);
    assert_non_null(err);
    unlink(path);

    /* Missing. */
    err = NULL;
    assert_int_equal(akv_arena_attach(&b, path, &err), -ENOENT);
    assert_non_null(err);
    arena_close(f);
}

static void test_create_bad_size(void **state)
{
    struct akv_arena b;
    struct akv_config cfg;
    const char *err = NULL;
    char path[128];

    (void)state;
    akv_config_defaults(&cfg);
    snprintf(path, sizeof(path), "/dev/shm/akv-unit-%d-small", (int)getpid());
    assert_int_equal(akv_arena_create(&b, path, 16ULL << 20, &cfg, &err),
                     -EINVAL);
    assert_non_null(err);
    assert_int_equal(access(path, F_OK), -1);
}

/* ------------------------------------------------------------ effects */

/* A declared effect replaces what the encoder would infer for the entry it
 * covers, follows the inferred commands in its own database, and goes
 * away with the writes when the op discards them. */
static void test_effects_declared(void **state)
{
    struct fixture *f = *state;
    static const char want[] =
        "*1\r\n$5\r\nMULTI\r\n"
        "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
        "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"
        "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"
        "*1\r\n$4\r\nEXEC\r\n";
    const char *argv[] = {"HSET", "h", "f", "v"};
    const size_t argl[] = {4, 1, 1, 1};
    struct akv_op op;
    struct akv_entry *e;
    int db, db_end;
    size_t n;

    arena_open(f, ARENA_SIZE);
    op_start(&op, &f->ctx);
    want_k(&op, "a", 1);
    want_k(&op, "h", 1);
    assert_int_equal(akv_op_lock(&op), 0);
    e = new_k(&op, 0, "a", 1, 1, 0);
    assert_non_null(e);
    memcpy(akv_entry_val(e), "1", 1);
    e = new_k(&op, 1, "h", 1, 8, 0);
    assert_non_null(e);
    e->e_type = AKV_TYPE_HASH;
    akv_op_effect(&op, 1, 4, argv, argl);
    akv_op_declared(&op, e);
    n = akv_aof_encode(&op, &db, &db_end);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(f->ctx.aof_buf, want, n);
    assert_int_equal(db, 0);
    assert_int_equal(db_end, 1);

    akv_op_discard(&op);
    assert_false(akv_op_dirty(&op));
    assert_int_equal(akv_aof_encode(&op, &db, &db_end), 0);
    assert_true(akv_op_active(&op)); /* still locked until it ends */
    assert_int_equal(akv_op_commit(&op), 0);
    assert_false(akv_op_active(&op));
    op_done(&op);

    op_start(&op, &f->ctx);
    want_k(&op, "a", 1);
    want_k(&op, "h", 1);
    assert_int_equal(akv_op_lock(&op), 0);
    assert_null(find_k(&op, 0, "a", 1));
    assert_null(find_k(&op, 1, "h", 1));
    akv_op_commit(&op);
    op_done(&op);
    free(f->ctx.aof_buf);
    f->ctx.aof_buf = NULL;
}

/* Past a few rows an op filters its staged rows: every staged key is
 * still found (the staged entry, not the table's), and an entry staged for
 * removal is staged once, however many times it is deleted. */
static void test_op_many_rows(void **state)
{
    struct fixture *f = *state;
    enum { N = 3000 };
    struct akv_op op;
    char key[32];

    arena_open(f, ARENA_SIZE);
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof(key), "many:%d", i);
        assert_int_equal(kv_sets(&f->ctx, 0, key, "old"), 0);
    }
    op_start(&op, &f->ctx);
    akv_op_want_all(&op);
    assert_int_equal(akv_op_lock(&op), 0);
    for (int i = 0; i < N; i++) {
        struct akv_entry *old, *e;
        snprintf(key, sizeof(key), "many:%d", i);
        old = find_k(&op, 0, key, strlen(key));
        assert_true((old != NULL) == (i % 2 == 0));
        e = new_k(&op, 0, key, strlen(key), 3, 0);
        assert_non_null(e);
        memcpy(akv_entry_val(e), "new", 3);
        if (old) {
            akv_op_del(&op, old);
            akv_op_del(&op, old);
        }
    }
    assert_int_equal(op.nst, N + N / 2);
    for (int i = 0; i < N; i++) {
        struct akv_entry *e;
        snprintf(key, sizeof(key), "many:%d", i);
        e = find_k(&op, 0, key, strlen(key));
        assert_non_null(e);
        assert_int_equal(e->e_state, AKV_CHUNK_ALLOC);
    }
    assert_int_equal(akv_op_commit(&op), 0);
    op_done(&op);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "many:%d", i);
        assert_kv(&f->ctx, 0, key, "new");
    }
    assert_consistent(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_class_sizes),
        T(test_alloc_random),
        T(test_alloc_runs_coalesce),
        T(test_alloc_arena_full),
        T(test_alloc_mixed_sizes_fit),
        T(test_table_many_keys),
        T(test_table_scan_during_rehash),
        T(test_fault_points_covered),
        T(test_repair_overwrite),
        T(test_repair_new_pages),
        T(test_repair_del),
        T(test_repair_two_stripes),
        T(test_repair_expire),
        T(test_repair_flush_swap),
        T(test_repair_abort_and_rehash),
        T(test_repair_lazy_expire),
        T(test_repair_many_stripes),
        T(test_repair_append),
        T(test_repair_interrupted_repair),
        T(test_repair_swapdb_other_stripe),
        T(test_slot_count_exact),
        T(test_layout_guard),
        T(test_create_bad_size),
        T(test_effects_declared),
        T(test_op_many_rows),
    };
#undef T

    if (!getenv("AKV_TEST_VERBOSE"))
        akv_log_set_level(AKV_LOG_NOTHING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
