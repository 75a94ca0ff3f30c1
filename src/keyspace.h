/*
 * keyspace.h -- operations on keys, as command handlers see them.
 *
 * A command runs one akv_op: it names the stripes it needs, locks them
 * (ascending order), looks keys up, stages changes (new entries, deletions,
 * an expiry change, a flush, a database swap), then commits or aborts.
 * For client commands the dispatcher (commands.c) owns the op: it locks
 * the stripes of the command table's key positions before the handler
 * runs and ends the op after it, so a handler only looks up, stages and
 * replies.  Nothing staged is visible to anyone until akv_op_commit(), and
 * a worker killed at any point of it leaves the arena as if the command had
 * either fully happened or not at all (stripe.c).
 *
 * A key is named everywhere by one identity, struct akv_key: the logical
 * database, the bytes and their hash, computed once.
 *
 * Effects: what the AOF logs for an op is inferred from its staged chunks
 * (aof_encode.c) unless the handler declares it.  akv_op_effect() appends
 * a command to the op's effect list, and akv_op_declared() marks a staged
 * entry whose effect that list already states, so the encoder does not
 * infer one for it.
 */
#ifndef AKV_KEYSPACE_H
#define AKV_KEYSPACE_H

#include "arena.h"
#include "table.h"

/* A process's handle on the arena, with its client slot. */
struct akv_ctx {
    struct akv_arena *a;
    int slot;                     /* client slot index */
    struct akv_client_slot *cs;
    uint64_t seq;                 /* last transaction number used */
    int64_t now;                  /* command time snapshot, Unix ms */
    bool replaying;               /* loading the AOF: do not log effects */
    int op_error;                 /* -E2BIG: the last commit was refused */
    uint64_t aof_wait;            /* ring end the replies must wait for */
    char *aof_buf;                /* effect record being encoded */
    size_t aof_len, aof_cap;
};

struct akv_staged {
    struct akv_entry *e;      /* NULL: a row dropped in the op */
    struct akv_entry *ke;     /* element rows: their container's key entry */
    uint8_t si;
    uint8_t kind; /* AKV_CHUNK_NEW or AKV_CHUNK_OLD */
    uint8_t expired; /* OLD because it expired (counted in stats) */
    uint8_t declared; /* its effect is among the op's declared effects */
};

#define AKV_OP_SCAN_ROWS 16
#define AKV_OP_FILTER_BITS (1u << 16)
#define AKV_OP_FILTER_WORDS (AKV_OP_FILTER_BITS / 64)

struct akv_op {
    struct akv_ctx *ctx;
    uint64_t want;    /* stripes to lock */
    uint64_t locked;  /* stripes held */
    bool barrier;     /* the op takes every stripe: h_snap_mutex first */
    bool barrier_held;
    int nst;
    int cap;                  /* st[] is kept across ops (no allocation) */
    struct akv_staged *st;
    struct akv_entry *meta_e;  /* entry whose metadata changes */
    int meta_si;
    uint32_t meta_what;        /* AKV_META_* */
    int64_t meta_expire;
    uint32_t meta_vlen;
    uint8_t meta_flags;
    int flush_pdb;    /* AKV_FLUSH_NONE, AKV_FLUSH_ALL or a physical db */
    bool swap;
    uint8_t swap_a, swap_b;
    uint64_t expired; /* keys found expired during this op */
    /* akv_op_room()'s fallback when there is no room: may evict from
     * stripes the op does not hold; true if there is room now.  Set by
     * the dispatcher for clients' ops; NULL (no eviction) otherwise. */
    bool (*evict_fn)(struct akv_op *op, size_t bytes, void *arg);
    void *evict_arg;
    /* Once an op stages more than AKV_OP_SCAN_ROWS rows, a filter says
     * which entries (by address) and which keys (by hash) may be staged,
     * so a large MGET or MSET does not rescan st[] per key.  Kept across
     * ops; cleared when an op that used it ends. */
    uint64_t *filter; /* 2 * AKV_OP_FILTER_WORDS: removed, then new */
    bool filtering;
    /* Declared effects: fx_n records of [int32 logical db][uint32 length]
     * [one RESP command], in order.  The buffer is kept across ops. */
    char *fx_buf;
    size_t fx_len, fx_cap;
    int fx_n;
    /* Element rows (container.c): an open-addressing index of row
     * numbers + 1, by (container, field hash) for NEW rows and by address
     * for OLD ones, so that a large HSET or SREM never rescans st[]. */
    uint32_t *erix;
    uint32_t erix_cap, erix_n;
    /* Element count changes per container staged by this op. */
    struct akv_cont_delta {
        const struct akv_entry *ke;
        int64_t delta;
    } *cd;
    int cd_n, cd_cap;
    uint64_t dying;   /* stripes where the commit left DYING containers */
};

/* A key as commands name it.  `db` is the logical database (the physical
 * one behind it is looked up under the stripe lock: SWAPDB moves it). */
struct akv_key {
    const char *ptr;
    size_t len;
    uint32_t hash;
    int db;
};

/* ---- stripe.c: locks, intents, repair */
static inline int akv_stripe_of(uint32_t hash)
{
    return (int)(hash >> (32 - AKV_STRIPE_BITS));
}

/* Lock stripe si; repairs it first if its last holder died.  Returns 0, or
 * -ENOTRECOVERABLE if the arena had to be poisoned. */
int akv_stripe_lock(struct akv_ctx *ctx, int si);
/* The same without waiting: 0, or -EBUSY when a live process holds it. */
int akv_stripe_trylock(struct akv_ctx *ctx, int si);
void akv_stripe_unlock(struct akv_ctx *ctx, int si);

/* Repair stripe si (caller holds its lock, taken with EOWNERDEAD). */
void akv_stripe_repair_locked(struct akv_arena *a, int si);

/* Run the intent protocol for an op whose changes are staged; the stripes
 * it touches are locked.  Returns 0 or -E2BIG (nothing changed). */
int akv_stripe_commit_locked(struct akv_op *op);
/* Lock and unlock every stripe, repairing those whose holder died (with
 * the AOF on, stripes held by live workers are skipped: their holder
 * repaired them).  After it returns, no stripe holds an intent of a
 * process that was dead when it began. */
void akv_stripe_sweep(struct akv_ctx *ctx);

/* Consistency check of one stripe (lock held): calls report() per problem
 * and returns the number found. */
int akv_stripe_check_locked(struct akv_arena *a, int si,
                            void (*report)(void *ctx, const char *msg),
                            void *rctx);

/* ---- keyspace.c: the op API */
uint32_t akv_key_hash(struct akv_arena *a, const char *key, size_t klen);
uint8_t akv_pdb(struct akv_arena *a, int ldb);

/* The identity of key bytes p[0..n) in logical database ldb. */
static inline struct akv_key akv_key_make(struct akv_arena *a, int ldb,
                                          const char *p, size_t n)
{
    struct akv_key k = {p, n, akv_key_hash(a, p, n), ldb};
    return k;
}

void akv_op_init(struct akv_op *op, struct akv_ctx *ctx);
/* Release the buffers an op keeps across ops (it must have ended). */
void akv_op_free(struct akv_op *op);
void akv_op_want_key(struct akv_op *op, const struct akv_key *k);
void akv_op_want_all(struct akv_op *op);
/* Take the snapshot barrier (before the stripes) without every stripe. */
static inline void akv_op_want_barrier(struct akv_op *op)
{
    op->barrier = true;
}
/* Lock every wanted stripe, ascending.  Returns 0 or -ENOTRECOVERABLE. */
int akv_op_lock(struct akv_op *op);
/* Whether the op holds locks (it has begun and not yet ended). */
static inline bool akv_op_active(const struct akv_op *op)
{
    return op->locked || op->barrier_held;
}

/* Find a live, unexpired key.  An expired key found on the way is staged
 * for deletion (lazy expiry). */
struct akv_entry *akv_op_find(struct akv_op *op, const struct akv_key *k);
/* Stage a new entry with room for vlen value bytes; the caller fills the
 * value.  Returns NULL when there is no memory for it. */
struct akv_entry *akv_op_new(struct akv_op *op, const struct akv_key *k,
                             size_t vlen, int64_t expire);
/* The same with room for `room` value bytes (room >= vlen), for values
 * that are expected to grow. */
struct akv_entry *akv_op_new_room(struct akv_op *op, const struct akv_key *k,
                                  size_t vlen, size_t room, int64_t expire);
/* Declare an effect: the command argv[0..argc) runs in logical db ldb when
 * the AOF replays this op.  Declared effects follow the inferred ones. */
void akv_op_effect(struct akv_op *op, int ldb, int argc,
                   const char *const *argv, const size_t *argl);
/* Mark staged entry e (new or removed) as covered by the declared
 * effects: the encoder infers nothing for it. */
void akv_op_declared(struct akv_op *op, const struct akv_entry *e);
/* Whether the op stages a new entry for the same database and key as o
 * (o is then replaced rather than deleted). */
bool akv_op_replaces(const struct akv_op *op, const struct akv_entry *o);
/* Forget the op's own staged writes (the command failed after staging):
 * lazy deletions of expired keys stay, the locks stay held, and the op
 * still ends with akv_op_commit(). */
void akv_op_discard(struct akv_op *op);
/* Stage the removal of a found entry. */
void akv_op_del(struct akv_op *op, struct akv_entry *e);
/* Stage the removal of an expired entry (counted as expired). */
void akv_op_expire_entry(struct akv_op *op, struct akv_entry *e);
/* Stage an expiry change of a found entry (0 = persist). */
void akv_op_set_expire(struct akv_op *op, struct akv_entry *e,
                       int64_t expire);
/* Stage a new value length (and flags) for a found entry whose extra
 * bytes the caller already wrote past the old length, inside the chunk's
 * capacity: an in-place append.  Readers see the old length until the
 * commit. */
void akv_op_set_length(struct akv_op *op, struct akv_entry *e, size_t vlen,
                       uint8_t flags);
/* Value bytes that fit in e's chunk without moving it. */
size_t akv_entry_room(struct akv_arena *a, const struct akv_entry *e);
/* Stage emptying a logical db (ldb >= 0) or all of them (ldb < 0). */
void akv_op_flush(struct akv_op *op, int ldb);
/* Stage swapping two logical dbs. */
void akv_op_swapdb(struct akv_op *op, int a, int b);
/* Whether op has staged anything. */
static inline bool akv_op_dirty(const struct akv_op *op)
{
    return op->nst || op->meta_e || op->flush_pdb != AKV_FLUSH_NONE ||
           op->swap || op->fx_n;
}
/* True when there is room for `bytes` more under maxmemory, after the
 * op's evict_fn (if any) evicted what the policy allows; false when
 * maxmemory would be exceeded. */
bool akv_op_room(struct akv_op *op, size_t bytes);

/* Commit staged changes (if any) and unlock.  Returns 0, or -E2BIG when
 * the effect record would not fit the AOF ring (-EIO: the AOF cannot be
 * written; -ENOTRECOVERABLE: the arena is poisoned): then the command's
 * writes did not happen, ctx->op_error is set and the dispatcher replaces the reply.  Lazy
 * deletions of expired keys are published with the writes, or alone if
 * the writes are refused, or dropped if they too are refused (the keys
 * stay expired and are deleted later); never an error of their own.
 * Commit and abort end an op through one path, without recursion. */
int akv_op_commit(struct akv_op *op);
/* Drop staged new entries and unlock; lazily expired keys are still
 * deleted as akv_op_commit() says. */
void akv_op_abort(struct akv_op *op);

/* For container.c: stage element chunk e of container ke (NEW or OLD);
 * returns its row.  And the element-row index's upkeep. */
int akv_op_stage_elem(struct akv_op *op, struct akv_entry *e,
                      struct akv_entry *ke, int kind);
void akv_op_erix_rebuild(struct akv_op *op);
void akv_op_erix_reset(struct akv_op *op);

/* Stripe index of an entry's key. */
static inline int akv_entry_stripe(const struct akv_entry *e)
{
    return akv_stripe_of(e->e_hash);
}

static inline bool akv_entry_expired(const struct akv_entry *e, int64_t now)
{
    int64_t x = atomic_load_explicit(&((struct akv_entry *)e)->e_expire,
                                     memory_order_relaxed);
    return x != 0 && now > x;
}

/* Access clock: hundredths of a second since the arena was created. */
uint32_t akv_clock(struct akv_arena *a);
/* The same at a known time (the command's snapshot: no clock read). */
uint32_t akv_clock_at(struct akv_arena *a, int64_t now_ms);

#endif
