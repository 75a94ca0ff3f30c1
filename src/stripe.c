/*
 * stripe.c -- stripe locks, the intent protocol, and repair after a crash.
 *
 * Every mutation of the keyspace runs under the locks of the stripes it
 * touches and follows one protocol, so that a worker killed at any
 * instruction leaves something the next locker can finish or undo:
 *
 *   1. prepare: each touched stripe's intent gets (client slot, seq) and
 *      i_state = PREPARED; the op's flush / expiry / swap go there too;
 *   2. mark:    entries the op inserts get state NEW, those it removes OLD;
 *   3. commit:  one store, c_commit = seq, in the worker's client slot.
 *               This is the single point where the op happens: before it,
 *               the op never happened; after it, it did, on every stripe;
 *   4. apply:   NEW -> LIVE and linked, OLD -> unlinked and freed, expiry
 *               set, db emptied, dbs swapped; then intents cleared.
 *
 * Repair (the locker saw EOWNERDEAD): the op in flight, if any, is rolled
 * forward when its commit store happened and back otherwise, by the chunk
 * states alone.  Then everything derived -- the hash index, free lists,
 * counters -- is rebuilt from the chunks, so it does not matter where in
 * a list operation or a rehash step the owner died.  Repair is idempotent:
 * a repairer that dies is repaired by the next locker.
 *
 * The supervisor frees the client slot of a dead worker only after locking
 * (and so repairing) every stripe, so the commit word a repair consults
 * always belongs to the worker that wrote the intent.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>

#include "container.h"
#include "fault.h"
#include "keyspace.h"
#include "lock.h"
#include "log.h"
#include "pages.h"
#include "ring.h"
#include "aof.h"
#include "util.h"

static bool intent_committed(struct akv_arena *a, const struct akv_intent *i)
{
    if (atomic_load(&((struct akv_intent *)i)->i_state) != AKV_INTENT_PREPARED)
        return false;
    if (i->i_ring_pos)
        return akv_ring_resolve(a, i->i_ring_pos - 1, i->i_seq);
    if (i->i_client >= AKV_NSLOTS)
        return false;
    return atomic_load(&a->slots[i->i_client].c_commit) >= i->i_seq;
}

struct repair_ctx {
    int si;
    bool committed;
    const struct akv_intent *in;
    struct akv_ctmap live; /* ids of large containers that stay */
};

static bool flushed_by_intent(const struct repair_ctx *rc,
                              const struct akv_entry *e)
{
    int db = rc->in->i_flush_db;
    return rc->committed && (db == AKV_FLUSH_ALL || db == (int)e->e_db);
}

/* A chunk the op in flight staged: NEW stays (as LIVE) if the op
 * committed, OLD if it did not.  False: the chunk goes. */
static bool settle_staged(struct akv_entry *e, bool committed)
{
    if (committed != (e->e_state == AKV_CHUNK_NEW))
        return false;
    e->e_state = AKV_CHUNK_LIVE;
    return true;
}

/* Decide each chunk's fate from its state and the intent's outcome. */
static bool repair_keep(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct repair_ctx *rc = ctx;
    struct akv_stripe *s = &a->stripes[rc->si];

    if (akv_chunk_is_elem(e)) {
        /* Elements follow the op; their owner decides the rest. */
        if (e->e_state == AKV_CHUNK_NEW || e->e_state == AKV_CHUNK_OLD)
            return settle_staged(e, rc->committed);
        return e->e_state == AKV_CHUNK_LIVE;
    }
    if (e->e_state == AKV_CHUNK_DYING)
        return true; /* freed with its elements by the container repair */
    if (akv_is_large(e) && (e->e_state == AKV_CHUNK_LIVE ||
                            e->e_state == AKV_CHUNK_OLD)) {
        /* A container leaving the keyspace without a successor of the
         * same id becomes DYING rather than orphaning its elements. */
        bool gone = e->e_state == AKV_CHUNK_OLD ? rc->committed
                                                : flushed_by_intent(rc, e);
        if (e->e_state == AKV_CHUNK_OLD && !rc->committed)
            gone = flushed_by_intent(rc, e);
        if (gone) {
            if (akv_ctmap_get(&rc->live, akv_cont_of(e)->ct_id, false))
                return false;
            e->e_state = AKV_CHUNK_DYING;
            return true;
        }
    }
    switch (e->e_state) {
    case AKV_CHUNK_LIVE:
        return !flushed_by_intent(rc, e);
    case AKV_CHUNK_NEW:
        return settle_staged(e, rc->committed);
    case AKV_CHUNK_OLD:
        return settle_staged(e, rc->committed) && !flushed_by_intent(rc, e);
    case AKV_CHUNK_TABLE:
        return akv_ref_of(a, e) == s->s_table[0];
    default:
        return false;
    }
}

static void relink(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    int si = *(int *)ctx;
    struct akv_stripe *s = &a->stripes[si];

    if (e->e_state != AKV_CHUNK_LIVE || akv_chunk_is_elem(e))
        return;
    akv_table_link_locked(a, si, e);
    s->s_keys[e->e_db]++;
    if (atomic_load(&e->e_expire))
        s->s_expires[e->e_db]++;
}

/* Set an entry's metadata as the intent says (roll forward). */
static void meta_roll_forward(struct akv_arena *a, struct akv_intent *in)
{
    struct akv_entry *e = akv_ref_at(a, in->i_meta_ref);

    if (e->e_state != AKV_CHUNK_LIVE && e->e_state != AKV_CHUNK_OLD &&
        e->e_state != AKV_CHUNK_NEW)
        return;
    if (in->i_meta_what & AKV_META_EXPIRE)
        atomic_store(&e->e_expire, in->i_meta_expire);
    if (in->i_meta_what & AKV_META_LENGTH) {
        e->e_vlen = in->i_meta_vlen;
        e->e_flags = in->i_meta_flags;
    }
}

static void repair_meta(struct akv_arena *a, struct akv_intent *in,
                        bool committed)
{
    if (!committed)
        return;
    if (in->i_meta_ref)
        meta_roll_forward(a, in);
    /* The targets are absolute, so applying them on every stripe's
     * repair is harmless. */
    if (in->i_swap) {
        a->hdr->h_dbmap[in->i_swap_a] = in->i_swap_pa;
        a->hdr->h_dbmap[in->i_swap_b] = in->i_swap_pb;
    }
}

static void clear_intent(struct akv_intent *in)
{
    in->i_ring_pos = 0;
    in->i_meta_ref = 0;
    in->i_flush_db = AKV_FLUSH_NONE;
    in->i_swap = 0;
    atomic_store(&in->i_state, AKV_INTENT_NONE);
}

/* The ids of the large containers whose key entry stays after the roll
 * forward or back (RENAME inside the stripe: the old key goes, the new
 * one with the same id stays, and so do the elements). */
static void survivors(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct repair_ctx *rc = ctx;
    bool stays;

    (void)a;
    if (akv_chunk_is_elem(e) || !akv_is_large(e))
        return;
    switch (e->e_state) {
    case AKV_CHUNK_LIVE:
        stays = !flushed_by_intent(rc, e);
        break;
    case AKV_CHUNK_NEW:
        stays = rc->committed;
        break;
    case AKV_CHUNK_OLD:
        stays = !rc->committed && !flushed_by_intent(rc, e);
        break;
    default:
        stays = false;
    }
    if (stays)
        akv_ctmap_get(&rc->live, akv_cont_of(e)->ct_id, true);
}

void akv_stripe_repair_locked(struct akv_arena *a, int si)
{
    struct akv_stripe *s = &a->stripes[si];
    struct akv_intent *in = &s->s_intent;
    struct repair_ctx rc = {si, intent_committed(a, in), in, {0}};
    bool prepared = atomic_load(&in->i_state) == AKV_INTENT_PREPARED;
    int64_t t0 = akv_ustime();

    repair_meta(a, in, rc.committed);
    akv_pages_visit_stripe_locked(a, si, survivors, &rc);
    akv_pages_rebuild_stripe_locked(a, si, repair_keep, &rc);
    akv_ctmap_free(&rc.live);
    akv_table_reset_locked(a, si);
    memset(s->s_keys, 0, sizeof(s->s_keys));
    memset(s->s_expires, 0, sizeof(s->s_expires));
    akv_pages_visit_stripe_locked(a, si, relink, &si);
    akv_cont_repair_locked(a, si);
    clear_intent(in);
    s->s_repairs++;
    atomic_fetch_add(&a->hdr->h_stats.st_repairs, 1);
    akv_log(AKV_LOG_WARNING,
            "Repaired stripe %d after its holder died (%s, %llu keys) in "
            "%.1f ms",
            si,
            !prepared ? "no operation in flight"
                      : rc.committed ? "operation rolled forward"
                                     : "operation rolled back",
            (unsigned long long)s->s_count, (akv_ustime() - t0) / 1000.0);
}

/* Each lock of a stripe moves its incremental rehash one bucket on. */
static int stripe_locked(struct akv_arena *a, int si, int r)
{
    if (r == 0)
        akv_table_rehash_step_locked(a, si, 1);
    return r;
}

int akv_stripe_lock(struct akv_ctx *ctx, int si)
{
    return stripe_locked(ctx->a, si,
                         akv_lock(ctx->a, AKV_LOCK_STRIPE, si, AKV_LOCK_SPIN));
}

int akv_stripe_trylock(struct akv_ctx *ctx, int si)
{
    return stripe_locked(ctx->a, si,
                         akv_lock(ctx->a, AKV_LOCK_STRIPE, si, AKV_LOCK_TRY));
}

void akv_stripe_unlock(struct akv_ctx *ctx, int si)
{
    akv_unlock(ctx->a, AKV_LOCK_STRIPE, si);
}

/* ------------------------------------------------------------ commit */

static uint64_t touched_stripes(const struct akv_op *op)
{
    uint64_t m = 0;

    for (int i = 0; i < op->nst; i++)
        m |= 1ULL << op->st[i].si;
    if (op->meta_e)
        m |= 1ULL << op->meta_si;
    /* A flush or a swap happens on every stripe the op holds (all of
     * them), so each of those intents records it and whichever stripe is
     * repaired first applies it. */
    if (op->flush_pdb != AKV_FLUSH_NONE || op->swap)
        m |= op->locked;
    return m;
}

static void prepare(struct akv_op *op, uint64_t touched, uint64_t seq,
                    uint64_t ring_pos)
{
    struct akv_arena *a = op->ctx->a;
    int si;

    AKV_FOREACH_BIT(si, touched) {
        struct akv_intent *in = &a->stripes[si].s_intent;
        in->i_client = (uint32_t)op->ctx->slot;
        in->i_seq = seq;
        in->i_ring_pos = ring_pos;
        in->i_flush_db = op->flush_pdb;
        in->i_meta_ref = 0;
        in->i_swap = 0;
        if (op->meta_e && op->meta_si == si) {
            in->i_meta_ref = akv_ref_of(a, op->meta_e);
            in->i_meta_what = op->meta_what;
            in->i_meta_expire = op->meta_expire;
            in->i_meta_vlen = op->meta_vlen;
            in->i_meta_flags = op->meta_flags;
        }
        if (op->swap) {
            in->i_swap_a = op->swap_a;
            in->i_swap_b = op->swap_b;
            in->i_swap_pa = a->hdr->h_dbmap[op->swap_b];
            in->i_swap_pb = a->hdr->h_dbmap[op->swap_a];
            in->i_swap = 1;
        }
        atomic_store(&in->i_state, AKV_INTENT_PREPARED);
    }
}

/* A key entry leaves the keyspace: a large container becomes DYING
 * (its elements are freed in steps) unless `keep_elems` (a successor
 * with its id takes them over). */
static void unlink_key(struct akv_arena *a, int si, struct akv_entry *e)
{
    struct akv_stripe *s = &a->stripes[si];

    akv_table_unlink_locked(a, si, e);
    s->s_keys[e->e_db]--;
    if (atomic_load(&e->e_expire))
        s->s_expires[e->e_db]--;
}

static bool retire(struct akv_arena *a, int si, struct akv_entry *e)
{
    unlink_key(a, si, e);
    if (akv_is_large(e)) {
        akv_cont_retire_locked(a, si, e);
        return e->e_state == AKV_CHUNK_DYING;
    }
    akv_chunk_free_locked(a, si, e);
    return false;
}

/* The NEW key entry of this op that takes over large container o's
 * elements (same stripe, same id), or NULL. */
static struct akv_entry *successor(const struct akv_op *op, int si,
                                   const struct akv_entry *o)
{
    uint64_t id = akv_cont_of(o)->ct_id;

    for (int i = 0; i < op->nst; i++) {
        struct akv_entry *n = op->st[i].e;
        if (op->st[i].kind == AKV_CHUNK_NEW && n && op->st[i].si == si &&
            !akv_chunk_is_elem(n) && akv_is_large(n) &&
            akv_cont_of(n)->ct_id == id)
            return n;
    }
    return NULL;
}

static void apply_old(struct akv_op *op, int si, struct akv_entry *e)
{
    struct akv_arena *a = op->ctx->a;
    struct akv_entry *n;

    if (akv_is_large(e) && (n = successor(op, si, e)) != NULL) {
        /* The index moves with the id: copy the derived state. */
        struct akv_cont *to = akv_cont_of(n), *from = akv_cont_of(e);
        to->ct_ix = from->ct_ix;
        to->ct_bytes = from->ct_bytes;
        unlink_key(a, si, e);
        akv_chunk_free_locked(a, si, e);
        return;
    }
    if (retire(a, si, e))
        op->dying |= 1ULL << si;
}

static void apply_new(struct akv_arena *a, int si, struct akv_entry *e)
{
    struct akv_stripe *s = &a->stripes[si];

    e->e_state = AKV_CHUNK_LIVE;
    akv_table_link_locked(a, si, e);
    s->s_keys[e->e_db]++;
    if (atomic_load(&e->e_expire))
        s->s_expires[e->e_db]++;
}

static void apply_meta(struct akv_op *op)
{
    struct akv_stripe *s = &op->ctx->a->stripes[op->meta_si];
    struct akv_entry *e = op->meta_e;

    if (op->meta_what & AKV_META_EXPIRE) {
        bool had = atomic_load(&e->e_expire) != 0;
        atomic_store(&e->e_expire, op->meta_expire);
        if (had && !op->meta_expire)
            s->s_expires[e->e_db]--;
        else if (!had && op->meta_expire)
            s->s_expires[e->e_db]++;
    }
    if (op->meta_what & AKV_META_LENGTH) {
        e->e_vlen = op->meta_vlen;
        e->e_flags = op->meta_flags;
    }
}

struct flush_ctx {
    int pdb;
    bool dying;
};

static void flush_one(struct akv_arena *a, int si, struct akv_entry *e,
                      void *ctx)
{
    struct flush_ctx *fc = ctx;

    if (fc->pdb == AKV_FLUSH_ALL || fc->pdb == e->e_db)
        fc->dying |= retire(a, si, e);
}

static bool apply_flush(struct akv_arena *a, int si, int pdb)
{
    struct akv_stripe *s = &a->stripes[si];
    struct flush_ctx fc = {pdb, false};

    if (pdb == AKV_FLUSH_ALL && s->s_table[0]) {
        /* Everything goes: finish any rehash first so one pass sees all. */
        while (s->s_rehashidx >= 0)
            akv_table_rehash_step_locked(a, si, 100);
    }
    akv_table_foreach_locked(a, si, flush_one, &fc);
    akv_table_maybe_shrink_locked(a, si);
    return fc.dying;
}

static void apply(struct akv_op *op, uint64_t touched)
{
    struct akv_arena *a = op->ctx->a;
    int si;

    int nelem = 0, done = 0;

    /* Elements first, into and out of their containers' indexes (a
     * container removed by this op is then retired with what is left). */
    for (int i = 0; i < op->nst; i++)
        if (op->st[i].e && akv_chunk_is_elem(op->st[i].e))
            nelem++;
    for (int i = 0; nelem && i < op->nst; i++) {
        struct akv_staged *r = &op->st[i];
        if (!r->e || !akv_chunk_is_elem(r->e))
            continue;
        if (++done == nelem / 2 + 1)
            AKV_FAULT("elem-applied-half");
        if (r->kind == AKV_CHUNK_OLD) {
            akv_cont_apply_old_elem_locked(a, r->si, r->ke, r->e);
            /* Freed: a bucket array grown by a later row may reuse the
             * chunk, which the key loops below must not take for a key. */
            r->e = NULL;
        } else if (r->kind == AKV_CHUNK_NEW)
            akv_cont_apply_new_elem_locked(a, r->si, r->ke, r->e);
    }
    for (int i = 0; i < op->nst; i++) {
        if (i == op->nst / 2)
            AKV_FAULT("applied-half");
        if (op->st[i].kind == AKV_CHUNK_OLD && op->st[i].e &&
            !akv_chunk_is_elem(op->st[i].e))
            apply_old(op, op->st[i].si, op->st[i].e);
    }
    for (int i = 0; i < op->nst; i++)
        if (op->st[i].kind == AKV_CHUNK_NEW && op->st[i].e &&
            !akv_chunk_is_elem(op->st[i].e))
            apply_new(a, op->st[i].si, op->st[i].e);
    if (op->meta_e)
        apply_meta(op);
    if (op->flush_pdb != AKV_FLUSH_NONE)
        AKV_FOREACH_BIT(si, touched)
            if (apply_flush(a, si, op->flush_pdb))
                op->dying |= 1ULL << si;
    if (op->swap) {
        struct akv_intent *in = &a->stripes[__builtin_ctzll(touched)].s_intent;
        a->hdr->h_dbmap[in->i_swap_a] = in->i_swap_pa;
        a->hdr->h_dbmap[in->i_swap_b] = in->i_swap_pb;
    }
}

/* With the AOF on, reserve the op's effect record and fill it; returns
 * its ring position + 1, 0 when nothing is logged, -E2BIG, -EIO (the AOF
 * cannot be written), or -ENOTRECOVERABLE. */
static int64_t log_effects(struct akv_op *op, uint64_t seq)
{
    struct akv_ctx *ctx = op->ctx;
    struct akv_arena *a = ctx->a;
    int db, db_end;
    size_t len;
    uint64_t pos;
    int r;

    if (ctx->replaying || !atomic_load(&a->hdr->h_aof_on))
        return 0;
    len = akv_aof_encode(op, &db, &db_end);
    if (len == 0)
        return 0;
    if (len > akv_ring_max_payload(a))
        return -E2BIG;
    if ((r = akv_ring_reserve(a, len, ctx->slot, seq, db, db_end, &pos)) < 0)
        return r;
    memcpy(akv_rec_payload(akv_ring_rec(a, pos)), ctx->aof_buf, len);
    return (int64_t)pos + 1;
}

int akv_stripe_commit_locked(struct akv_op *op)
{
    struct akv_arena *a = op->ctx->a;
    uint64_t touched = touched_stripes(op);
    uint64_t seq = op->ctx->seq + 1;
    int64_t rec = log_effects(op, seq);
    int si;

    if (rec < 0)
        return (int)rec;
    op->ctx->seq = seq;
    prepare(op, touched, seq, (uint64_t)rec);
    AKV_FAULT("intent-prepared");
    for (int i = 0; i < op->nst; i++)
        if (op->st[i].e)
            op->st[i].e->e_state = op->st[i].kind;
    AKV_FAULT("marked");
    if (rec)
        akv_ring_commit(a, (uint64_t)rec - 1); /* the commit point */
    atomic_store(&op->ctx->cs->c_commit, seq);
    AKV_FAULT("committed");
    apply(op, touched);
    AKV_FAULT("applied");
    AKV_FOREACH_BIT(si, touched)
        clear_intent(&a->stripes[si].s_intent);
    if (rec) {
        akv_ring_done(a, (uint64_t)rec - 1);
        op->ctx->aof_wait = akv_ring_end(a, (uint64_t)rec - 1);
    }
    return 0;
}

void akv_stripe_sweep(struct akv_ctx *ctx)
{
    struct akv_arena *a = ctx->a;
    /* Without the AOF a repair decides by the dead worker's commit word,
     * which lives only as long as its slot: wait for every stripe, so no
     * repair is still reading it when the caller frees the slot.  (No
     * worker waits while holding a stripe then.)  With the AOF the ring
     * decides, and a worker may wait for ring space holding stripes, so
     * the sweep must not wait. */
    bool wait = !atomic_load(&a->hdr->h_aof_on);

    for (int si = 0; si < AKV_NSTRIPES; si++) {
        /* Held by a live process (which repaired it when it locked), or
         * poisoned: nothing to sweep. */
        if (akv_lock(a, AKV_LOCK_STRIPE, si,
                     wait ? AKV_LOCK_WAIT : AKV_LOCK_TRY) < 0)
            continue;
        akv_unlock(a, AKV_LOCK_STRIPE, si);
    }
    atomic_fetch_add(&a->hdr->h_sweep_gen, 1);
}

/* ------------------------------------------------------------ checker */

struct check_ctx {
    struct akv_arena *a;
    int si;
    uint64_t live, chained, other_tables;
    uint32_t keys[AKV_MAX_DBS], expires[AKV_MAX_DBS];
    void (*report)(void *, const char *);
    void *rctx;
    int problems;
};

static void problem(struct check_ctx *cc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct check_ctx *cc, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;

    n = snprintf(buf, sizeof(buf), "stripe %d: ", cc->si);
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    cc->report(cc->rctx, buf);
    cc->problems++;
}

static void check_chunk(struct akv_arena *a, struct akv_entry *e, void *ctx)
{
    struct check_ctx *cc = ctx;

    if (akv_chunk_is_elem(e) && e->e_state == AKV_CHUNK_LIVE)
        return; /* the containers' part checks elements */
    switch (e->e_state) {
    case AKV_CHUNK_DYING:
        break; /* checked on the dying list */
    case AKV_CHUNK_LIVE:
        cc->live++;
        if (akv_entry_stripe(e) != cc->si)
            problem(cc, "entry in the wrong stripe");
        break;
    case AKV_CHUNK_TABLE:
        if (akv_ref_of(a, e) != a->stripes[cc->si].s_table[0] &&
            akv_ref_of(a, e) != a->stripes[cc->si].s_table[1])
            cc->other_tables++; /* containers' (counted below) */
        break;
    default:
        problem(cc, "chunk in state %d with no operation in flight",
                e->e_state);
    }
}

static void check_chained(struct akv_arena *a, int si, struct akv_entry *e,
                          void *ctx)
{
    struct check_ctx *cc = ctx;

    (void)si;
    cc->chained++;
    if (akv_chunk_is_elem(e))
        problem(cc, "the key table links an element");
    if (e->e_state != AKV_CHUNK_LIVE)
        problem(cc, "chain holds a chunk in state %d", e->e_state);
    if (akv_table_find_locked(a, cc->si, e->e_db, e->e_data, e->e_klen,
                              e->e_hash) != e)
        problem(cc, "entry not found by its own key (bad bucket or dup)");
    cc->keys[e->e_db]++;
    if (atomic_load(&e->e_expire))
        cc->expires[e->e_db]++;
}

static void cont_problem(void *ctx, const char *msg)
{
    struct check_ctx *cc = ctx;
    char buf[300];

    snprintf(buf, sizeof(buf), "stripe %d: %s", cc->si, msg);
    cc->report(cc->rctx, buf);
}

int akv_stripe_check_locked(struct akv_arena *a, int si,
                            void (*report)(void *ctx, const char *msg),
                            void *rctx)
{
    struct akv_stripe *s = &a->stripes[si];
    struct check_ctx cc = {.a = a, .si = si, .report = report,
                           .rctx = rctx};

    if (atomic_load(&s->s_intent.i_state) != AKV_INTENT_NONE)
        problem(&cc, "intent left in flight");
    akv_pages_visit_stripe_locked(a, si, check_chunk, &cc);
    akv_table_foreach_locked(a, si, check_chained, &cc);
    {
        uint64_t ct_tables = 0;
        cc.problems += akv_cont_check_locked(a, si, cont_problem, &cc,
                                             &ct_tables);
        if (ct_tables != cc.other_tables)
            problem(&cc, "%llu orphan bucket arrays",
                    (unsigned long long)(cc.other_tables - ct_tables));
    }
    if (cc.live != cc.chained)
        problem(&cc, "%llu live entries, %llu reachable",
                (unsigned long long)cc.live, (unsigned long long)cc.chained);
    if (s->s_count != cc.chained)
        problem(&cc, "count says %llu, table holds %llu",
                (unsigned long long)s->s_count,
                (unsigned long long)cc.chained);
    for (int db = 0; db < AKV_MAX_DBS; db++) {
        if (s->s_keys[db] != cc.keys[db])
            problem(&cc, "db %d: %u keys counted, %u found", db,
                    s->s_keys[db], cc.keys[db]);
        if (s->s_expires[db] != cc.expires[db])
            problem(&cc, "db %d: %u expires counted, %u found", db,
                    s->s_expires[db], cc.expires[db]);
    }
    return cc.problems;
}
