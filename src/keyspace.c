/*
 * keyspace.c -- the op API that command handlers use (see keyspace.h).
 *
 * Owns: key hashing and stripe choice, lazy expiry on lookup, staging of
 * changes and their hand-off to the intent protocol in stripe.c.  An op
 * never changes the arena before akv_op_commit(); staged new entries are
 * chunks in state ALLOC that nobody else can reach.
 */
#include "build-config.h"

#include <assert.h>
#include <stdlib.h>

#include "clients.h"
#include "container.h"
#include "fault.h"
#include "lock.h"
#include "evict.h"
#include "keyspace.h"
#include "pages.h"
#include "util.h"

uint32_t akv_key_hash(struct akv_arena *a, const char *key, size_t klen)
{
    return akv_hash(key, klen, a->hdr->h_hash_seed);
}

/* Only stable while the caller holds at least one stripe lock: SWAPDB
 * changes the map holding all of them. */
uint8_t akv_pdb(struct akv_arena *a, int ldb)
{
    return a->hdr->h_dbmap[ldb];
}

uint32_t akv_clock(struct akv_arena *a)
{
    return akv_clock_at(a, akv_mstime());
}

uint32_t akv_clock_at(struct akv_arena *a, int64_t now_ms)
{
    return (uint32_t)((now_ms - a->hdr->h_created_ms) / 10);
}

/* The filter's bit for an entry staged for removal (by address, in the
 * first half) and for a key staged new (by hash, in the second half).  A
 * false positive only costs a scan. */
static uint32_t filter_bit_entry(const struct akv_entry *e)
{
    return (uint32_t)(((uintptr_t)e * 0x9E3779B97F4A7C15ULL) >> 48);
}

static uint32_t filter_bit_key(uint32_t hash)
{
    return AKV_OP_FILTER_BITS + (hash & (AKV_OP_FILTER_BITS - 1));
}

static void filter_set(struct akv_op *op, uint32_t bit)
{
    op->filter[bit / 64] |= 1ULL << (bit % 64);
}

static bool filter_may(const struct akv_op *op, uint32_t bit)
{
    return !op->filtering || (op->filter[bit / 64] >> (bit % 64) & 1);
}

static void filter_add(struct akv_op *op, const struct akv_staged *row)
{
    if (!row->e || akv_chunk_is_elem(row->e))
        return; /* element rows have their own index (container.c) */
    if (row->kind == AKV_CHUNK_OLD)
        filter_set(op, filter_bit_entry(row->e));
    else
        filter_set(op, filter_bit_key(row->e->e_hash));
}

/* Start filtering when the op has grown past a short scan. */
static void filter_start(struct akv_op *op)
{
    if (!op->filter) {
        op->filter = calloc(2 * AKV_OP_FILTER_WORDS, sizeof(uint64_t));
        if (!op->filter)
            return; /* scans stay correct, only slower */
    }
    op->filtering = true;
    for (int i = 0; i < op->nst; i++)
        filter_add(op, &op->st[i]);
}

/* Forget what was staged (st[] itself is kept for the next op). */
static void op_reset(struct akv_op *op)
{
    if (op->filtering) {
        memset(op->filter, 0, 2 * AKV_OP_FILTER_WORDS * sizeof(uint64_t));
        op->filtering = false;
    }
    op->nst = 0;
    op->meta_e = NULL;
    op->meta_what = 0;
    op->flush_pdb = AKV_FLUSH_NONE;
    op->swap = false;
    op->expired = 0;
    op->fx_len = 0;
    op->fx_n = 0;
    akv_op_erix_reset(op);
    op->dying = 0;
}

void akv_op_init(struct akv_op *op, struct akv_ctx *ctx)
{
    op->ctx = ctx;
    op->want = op->locked = 0;
    op->barrier = op->barrier_held = false;
    op->evict_fn = NULL;
    op->evict_arg = NULL;
    op_reset(op);
}

void akv_op_free(struct akv_op *op)
{
    free(op->st);
    free(op->fx_buf);
    free(op->filter);
    free(op->erix);
    free(op->cd);
    op->erix = NULL;
    op->erix_cap = op->erix_n = 0;
    op->cd = NULL;
    op->cd_n = op->cd_cap = 0;
    op->st = NULL;
    op->fx_buf = NULL;
    op->filter = NULL;
    op->cap = 0;
    op->fx_cap = 0;
    op->filtering = false;
}

void akv_op_want_key(struct akv_op *op, const struct akv_key *k)
{
    op->want |= 1ULL << akv_stripe_of(k->hash);
}

/* An op on every stripe (FLUSHDB, FLUSHALL, SWAPDB) waits for a snapshot
 * in progress: a snapshot copies stripes one at a time, and must not see
 * some of them before such an op and some after. */
void akv_op_want_all(struct akv_op *op)
{
    op->want = ~0ULL;
    op->barrier = true;
}

int akv_op_lock(struct akv_op *op)
{
    uint64_t todo = op->want & ~op->locked;
    int si;

    if (op->barrier && !op->barrier_held) {
        if (akv_lock(op->ctx->a, AKV_LOCK_SNAP, 0, AKV_LOCK_WAIT) < 0)
            return -ENOTRECOVERABLE;
        op->barrier_held = true;
        AKV_FAULT("barrier-held");
    }
    AKV_FOREACH_BIT(si, todo) { /* ascending: the lock order */
        if (akv_stripe_lock(op->ctx, si) < 0) {
            akv_op_abort(op);
            return -ENOTRECOVERABLE;
        }
        op->locked |= 1ULL << si;
    }
    return 0;
}

static int stage_row(struct akv_op *op, struct akv_entry *e,
                     struct akv_entry *ke, int si, int kind, bool expired)
{
    if (op->nst == op->cap) {
        int cap = op->cap ? op->cap * 2 : 64;
        struct akv_staged *st = realloc(op->st, (size_t)cap * sizeof(*st));
        if (!st)
            abort(); /* a worker without memory cannot keep its promise */
        op->st = st;
        op->cap = cap;
    }
    op->st[op->nst].e = e;
    op->st[op->nst].ke = ke;
    op->st[op->nst].si = (uint8_t)si;
    op->st[op->nst].kind = (uint8_t)kind;
    op->st[op->nst].expired = expired;
    op->st[op->nst].declared = false;
    op->nst++;
    if (op->filtering)
        filter_add(op, &op->st[op->nst - 1]);
    else if (op->nst > AKV_OP_SCAN_ROWS)
        filter_start(op);
    return op->nst - 1;
}

static void stage(struct akv_op *op, struct akv_entry *e, int si, int kind,
                  bool expired)
{
    (void)stage_row(op, e, NULL, si, kind, expired);
}

int akv_op_stage_elem(struct akv_op *op, struct akv_entry *e,
                      struct akv_entry *ke, int kind)
{
    return stage_row(op, e, ke, akv_entry_stripe(ke), kind, false);
}

static bool staged_old(const struct akv_op *op, const struct akv_entry *e)
{
    if (!filter_may(op, filter_bit_entry(e)))
        return false;
    for (int i = 0; i < op->nst; i++)
        if (op->st[i].e == e && op->st[i].kind == AKV_CHUNK_OLD)
            return true;
    return false;
}

static struct akv_entry *staged_new(const struct akv_op *op, uint8_t pdb,
                                    const char *key, size_t klen, uint32_t h)
{
    if (!filter_may(op, filter_bit_key(h)))
        return NULL;
    for (int i = op->nst; i-- > 0;) {
        struct akv_entry *e = op->st[i].e;
        if (op->st[i].kind == AKV_CHUNK_NEW && e->e_hash == h &&
            !akv_chunk_is_elem(e) &&
            e->e_db == pdb && e->e_klen == klen &&
            memcmp(e->e_data, key, klen) == 0)
            return e;
    }
    return NULL;
}

bool akv_op_replaces(const struct akv_op *op, const struct akv_entry *o)
{
    return staged_new(op, o->e_db, o->e_data, o->e_klen, o->e_hash) != NULL;
}

struct akv_entry *akv_op_find(struct akv_op *op, const struct akv_key *k)
{
    struct akv_arena *a = op->ctx->a;
    int si = akv_stripe_of(k->hash);
    uint8_t pdb = akv_pdb(a, k->db);
    struct akv_entry *e;

    assert(op->locked & (1ULL << si));
    if ((e = staged_new(op, pdb, k->ptr, k->len, k->hash)) != NULL)
        return e;
    e = akv_table_find_locked(a, si, pdb, k->ptr, k->len, k->hash);
    if (!e || staged_old(op, e))
        return NULL;
    if (akv_entry_expired(e, op->ctx->now)) {
        stage(op, e, si, AKV_CHUNK_OLD, true);
        op->expired++;
        return NULL;
    }
    return e;
}

bool akv_op_room(struct akv_op *op, size_t bytes)
{
    struct akv_hdr *h = op->ctx->a->hdr;
    int64_t max = h->h_cfg.maxmemory;

    if (max <= 0)
        return true;
    if (atomic_load_explicit(&h->h_used, memory_order_relaxed) + bytes <=
        (uint64_t)max)
        return true;
    return op->evict_fn && op->evict_fn(op, bytes, op->evict_arg);
}

struct akv_entry *akv_op_new(struct akv_op *op, const struct akv_key *k,
                             size_t vlen, int64_t expire)
{
    return akv_op_new_room(op, k, vlen, vlen, expire);
}

struct akv_entry *akv_op_new_room(struct akv_op *op, const struct akv_key *k,
                                  size_t vlen, size_t room, int64_t expire)
{
    struct akv_arena *a = op->ctx->a;
    int si = akv_stripe_of(k->hash);
    struct akv_entry *e;

    assert(op->locked & (1ULL << si));
    if (!akv_table_ensure_locked(a, si))
        return NULL;
    e = akv_chunk_alloc_locked(a, si, sizeof(*e) + k->len + room);
    if (!e)
        return NULL;
    e->e_hash = k->hash;
    e->e_klen = (uint32_t)k->len;
    e->e_vlen = (uint32_t)vlen;
    atomic_store_explicit(&e->e_expire, expire, memory_order_relaxed);
    atomic_store_explicit(&e->e_atime,
                          akv_initial_atime(a, op->ctx->now ? op->ctx->now
                                                            : akv_mstime()),
                          memory_order_relaxed);
    e->e_type = AKV_TYPE_STRING;
    e->e_flags = 0;
    e->e_db = akv_pdb(a, k->db);
    memcpy(e->e_data, k->ptr, k->len);
    stage(op, e, si, AKV_CHUNK_NEW, false);
    return e;
}

void akv_op_del(struct akv_op *op, struct akv_entry *e)
{
    if (e->e_state == AKV_CHUNK_ALLOC) {
        /* Staged by this op: just drop it, with the elements staged for
         * it if it is a container made by this op. */
        bool moved = false;
        if (akv_is_large(e))
            for (int i = 0; i < op->nst; i++)
                if (op->st[i].e && op->st[i].ke == e &&
                    op->st[i].kind == AKV_CHUNK_NEW) {
                    akv_chunk_free_locked(op->ctx->a, op->st[i].si,
                                          op->st[i].e);
                    op->st[i].e = NULL;
                    op->st[i].kind = AKV_CHUNK_FREE;
                }
        for (int i = 0; i < op->nst; i++) {
            if (op->st[i].e != e)
                continue;
            akv_chunk_free_locked(op->ctx->a, op->st[i].si, e);
            moved = op->st[op->nst - 1].e &&
                    akv_chunk_is_elem(op->st[op->nst - 1].e);
            op->st[i] = op->st[--op->nst];
            break;
        }
        if (moved)
            akv_op_erix_rebuild(op);
        return;
    }
    if (!staged_old(op, e))
        stage(op, e, akv_entry_stripe(e), AKV_CHUNK_OLD, false);
}

void akv_op_expire_entry(struct akv_op *op, struct akv_entry *e)
{
    if (staged_old(op, e))
        return;
    stage(op, e, akv_entry_stripe(e), AKV_CHUNK_OLD, true);
    op->expired++;
}

void akv_op_set_expire(struct akv_op *op, struct akv_entry *e,
                       int64_t expire)
{
    if (e->e_state == AKV_CHUNK_ALLOC) {
        atomic_store(&e->e_expire, expire);
        return;
    }
    assert(!op->meta_e || op->meta_e == e); /* one entry's metadata per op */
    op->meta_e = e;
    op->meta_si = akv_entry_stripe(e);
    op->meta_what |= AKV_META_EXPIRE;
    op->meta_expire = expire;
}

void akv_op_set_length(struct akv_op *op, struct akv_entry *e, size_t vlen,
                       uint8_t flags)
{
    if (e->e_state == AKV_CHUNK_ALLOC) {
        e->e_vlen = (uint32_t)vlen;
        e->e_flags = flags;
        return;
    }
    assert(!op->meta_e || op->meta_e == e);
    op->meta_e = e;
    op->meta_si = akv_entry_stripe(e);
    op->meta_what |= AKV_META_LENGTH;
    op->meta_vlen = (uint32_t)vlen;
    op->meta_flags = flags;
}

size_t akv_entry_room(struct akv_arena *a, const struct akv_entry *e)
{
    return akv_chunk_capacity(a, e) - sizeof(*e) - e->e_klen;
}

void akv_op_flush(struct akv_op *op, int ldb)
{
    op->flush_pdb = ldb < 0 ? AKV_FLUSH_ALL : akv_pdb(op->ctx->a, ldb);
}

void akv_op_swapdb(struct akv_op *op, int a, int b)
{
    op->swap = true;
    op->swap_a = (uint8_t)a;
    op->swap_b = (uint8_t)b;
}

static void fx_put(struct akv_op *op, const void *p, size_t n)
{
    if (n == 0)
        return; /* an empty argument: fx_buf may not exist yet */
    if (!akv_grow(&op->fx_buf, &op->fx_cap, op->fx_len + n, 1024))
        abort(); /* cannot keep the log's promise without memory */
    memcpy(op->fx_buf + op->fx_len, p, n);
    op->fx_len += n;
}

static void fx_header(struct akv_op *op, char c, size_t v)
{
    char tmp[32];
    int n;

    tmp[0] = c;
    n = 1 + akv_ll2str(tmp + 1, (long long)v);
    tmp[n++] = '\r';
    tmp[n++] = '\n';
    fx_put(op, tmp, (size_t)n);
}

void akv_op_effect(struct akv_op *op, int ldb, int argc,
                   const char *const *argv, const size_t *argl)
{
    size_t at = op->fx_len;
    int32_t db = ldb;
    uint32_t len = 0;

    fx_put(op, &db, sizeof(db));
    fx_put(op, &len, sizeof(len));
    fx_header(op, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        fx_header(op, '$', argl[i]);
        fx_put(op, argv[i], argl[i]);
        fx_put(op, "\r\n", 2);
    }
    len = (uint32_t)(op->fx_len - at - sizeof(db) - sizeof(len));
    memcpy(op->fx_buf + at + sizeof(db), &len, sizeof(len));
    op->fx_n++;
}

void akv_op_declared(struct akv_op *op, const struct akv_entry *e)
{
    for (int i = 0; i < op->nst; i++)
        if (op->st[i].e == e)
            op->st[i].declared = true;
}

static void unlock_all(struct akv_op *op)
{
    uint64_t held = op->locked;

    while (held) {
        int si = 63 - __builtin_clzll(held);
        akv_stripe_unlock(op->ctx, si);
        held &= ~(1ULL << si);
    }
    op->locked = 0;
    if (op->barrier_held) {
        akv_unlock(op->ctx->a, AKV_LOCK_SNAP, 0);
        op->barrier_held = false;
    }
    op->barrier = false;
}

/* Forget the op's own writes: free the entries it staged (nobody can
 * reach them yet), keep only the lazy deletions of expired keys. */
static void drop_writes(struct akv_op *op)
{
    int keep = 0;

    for (int i = 0; i < op->nst; i++) {
        if (op->st[i].kind == AKV_CHUNK_NEW && op->st[i].e)
            akv_chunk_free_locked(op->ctx->a, op->st[i].si, op->st[i].e);
        else if (op->st[i].expired)
            op->st[keep++] = op->st[i];
    }
    op->nst = keep;
    akv_op_erix_reset(op);
    op->meta_e = NULL;
    op->meta_what = 0;
    op->flush_pdb = AKV_FLUSH_NONE;
    op->swap = false;
    op->fx_len = 0;
    op->fx_n = 0;
}

void akv_op_discard(struct akv_op *op)
{
    drop_writes(op);
}

/* Publish what is staged; returns 0 or the commit's error, in which case
 * nothing was published (a failed commit changes nothing in the arena:
 * it fails before its first store). */
static int publish(struct akv_op *op)
{
    int r;

    if (!akv_op_dirty(op))
        return 0;
    if ((r = akv_stripe_commit_locked(op)) < 0)
        return r;
    if (op->ctx->cs)
        akv_slot_count(&op->ctx->cs->c_stats.ss_dirty,
                       (uint64_t)AKV_MAX(op->nst, 1));
    return 0;
}

/* The one way an op ends, whether it commits or aborts: at most two
 * publications, never a recursion.  The op's writes are published unless
 * it aborts; if they cannot be (the record is larger than the ring, the
 * arena is poisoned), the writes are dropped and the lazy deletions alone
 * tried once more.  If even those are refused (an MGET of very many
 * expired keys on a small ring), they are dropped too: the keys are still
 * expired, so lookups keep treating them as gone and the next access or
 * the active expiry cycle deletes them in smaller ops. */
static bool has_own_writes(const struct akv_op *op)
{
    for (int i = 0; i < op->nst; i++)
        if (!op->st[i].expired && op->st[i].e)
            return true;
    return op->meta_e || op->flush_pdb != AKV_FLUSH_NONE || op->swap ||
           op->fx_n;
}

static int op_end(struct akv_op *op, bool keep_writes)
{
    uint64_t wait = op->ctx->aof_wait;
    uint64_t dying;
    int r = 0;

    if (!keep_writes)
        drop_writes(op);
    if ((r = publish(op)) < 0) {
        /* Only a refused write of the command's own fails the command; a
         * refused lazy deletion does not change what a read returns. */
        if (has_own_writes(op)) {
            op->ctx->op_error = r;
            drop_writes(op);
            (void)publish(op);
        } else {
            r = 0;
        }
        op->expired = 0;
    }
    /* A reply never waits for a lazy deletion to be durable (appendfsync
     * always): the key is expired whether or not its DEL is replayed. */
    if (!has_own_writes(op))
        op->ctx->aof_wait = wait;
    if (op->expired)
        atomic_fetch_add(&op->ctx->a->hdr->h_stats.st_expired, op->expired);
    unlock_all(op);
    dying = op->dying;
    op_reset(op);
    /* Large containers this op removed: free their elements now, a step
     * per lock hold, so other clients interleave. */
    if (dying)
        akv_cont_free_pending(op->ctx, dying);
    return keep_writes ? r : 0;
}

int akv_op_commit(struct akv_op *op)
{
    return op_end(op, true);
}

void akv_op_abort(struct akv_op *op)
{
    op_end(op, false);
}
