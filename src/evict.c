/*
 * evict.c -- maxmemory: the access clock, LFU counters, and eviction.
 *
 * The access clock.  Redis's LRU clock ticks once a second, so within a
 * second it cannot tell a hot key from a cold one.  Ours counts hundredths
 * of a second (e_atime, 32 bits: 497 days before it wraps, which only
 * blurs the idle time of keys idle that long); an access is one relaxed
 * store into the entry, whose cache line the lookup already touched.
 *
 * Under an LFU policy e_atime holds, as Redis's lru field does, the minute
 * of the last decrement (high 24 bits) and a logarithmic access counter
 * (low 8 bits): incremented with probability 1/((counter-5)*lfu-log-factor
 * +1), decremented by one per lfu-decay-time minutes of idleness.
 *
 * Eviction runs in the worker whose write needs room, before it locks
 * anything for the write itself: it samples maxmemory-samples keys from
 * random stripes (one stripe lock at a time), keeps the best candidates in
 * a small pool that lives as long as the worker (Redis's eviction pool),
 * and deletes the best one through the op API -- so an eviction is logged
 * to the AOF as a DEL like any other deletion -- until used memory fits.
 */
#include "build-config.h"

#include <math.h>
#include <stdlib.h>

#include "container.h"
#include "evict.h"
#include "util.h"

#define LFU_INIT 5
#define POOL_SIZE 16
#define POOL_KEY 64 /* keys longer than this are kept by hash only */

static uint32_t minutes(struct akv_arena *a)
{
    return (uint32_t)((akv_mstime() - a->hdr->h_created_ms) / 60000) &
           0xffffff;
}

bool akv_policy_is_lfu(int64_t p)
{
    return p == AKV_MM_ALLKEYS_LFU || p == AKV_MM_VOLATILE_LFU;
}

/* Counter after decay for the minutes elapsed since the last decrement. */
static uint32_t lfu_decayed(struct akv_arena *a, uint32_t v)
{
    uint32_t last = v >> 8, counter = v & 0xff, now = minutes(a);
    uint32_t elapsed = (now - last) & 0xffffff;
    int64_t period = a->hdr->h_cfg.lfu_decay_time;

    if (period <= 0)
        return counter;
    elapsed /= (uint32_t)period;
    return elapsed >= counter ? 0 : counter - elapsed;
}

uint32_t akv_lfu_freq(struct akv_arena *a, const struct akv_entry *e)
{
    return lfu_decayed(a, atomic_load(&((struct akv_entry *)e)->e_atime));
}

static uint32_t lfu_increment(struct akv_arena *a, uint32_t counter)
{
    double r, base, p;

    if (counter == 255)
        return 255;
    r = (double)(akv_random_u64() >> 11) / (double)(1ULL << 53);
    base = counter > LFU_INIT ? counter - LFU_INIT : 0;
    p = 1.0 / (base * (double)a->hdr->h_cfg.lfu_log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void akv_touch(struct akv_arena *a, struct akv_entry *e, int64_t now)
{
    uint32_t v;

    if (akv_likely(!akv_policy_is_lfu(a->hdr->h_cfg.maxmemory_policy))) {
        atomic_store_explicit(&e->e_atime, akv_clock_at(a, now),
                              memory_order_relaxed);
        return;
    }
    v = lfu_increment(a, lfu_decayed(a, atomic_load(&e->e_atime)));
    atomic_store_explicit(&e->e_atime, (minutes(a) << 8) | v,
                          memory_order_relaxed);
}

uint32_t akv_initial_atime(struct akv_arena *a, int64_t now_ms)
{
    if (akv_policy_is_lfu(a->hdr->h_cfg.maxmemory_policy))
        return (minutes(a) << 8) | LFU_INIT;
    return akv_clock_at(a, now_ms);
}

/* ------------------------------------------------------------ the pool */

struct candidate {
    double score;      /* higher: evict first */
    int si;
    uint8_t pdb;
    uint32_t hash;
    uint32_t klen;
    char key[POOL_KEY];
};

static struct candidate pool[POOL_SIZE];
static int pool_n;

static bool volatile_policy(int64_t p)
{
    return p == AKV_MM_VOLATILE_LRU || p == AKV_MM_VOLATILE_LFU ||
           p == AKV_MM_VOLATILE_RANDOM || p == AKV_MM_VOLATILE_TTL;
}

static double score_of(struct akv_arena *a, struct akv_entry *e, int64_t p)
{
    switch (p) {
    case AKV_MM_ALLKEYS_LRU:
    case AKV_MM_VOLATILE_LRU:
        return (double)(akv_clock(a) - atomic_load(&e->e_atime));
    case AKV_MM_ALLKEYS_LFU:
    case AKV_MM_VOLATILE_LFU:
        return 255.0 - akv_lfu_freq(a, e);
    case AKV_MM_VOLATILE_TTL:
        return -(double)atomic_load(&e->e_expire);
    default:
        return (double)(akv_random_u64() >> 11);
    }
}

static void pool_offer(struct akv_arena *a, int si, struct akv_entry *e,
                       int64_t p)
{
    double sc;
    int at;

    if (e->e_state != AKV_CHUNK_LIVE || e->e_klen > POOL_KEY)
        return;
    if (volatile_policy(p) && !atomic_load(&e->e_expire))
        return;
    sc = score_of(a, e, p);
    for (int i = 0; i < pool_n; i++)
        if (pool[i].hash == e->e_hash && pool[i].pdb == e->e_db &&
            pool[i].klen == e->e_klen &&
            memcmp(pool[i].key, e->e_data, e->e_klen) == 0) {
            pool[i].score = sc; /* refresh */
            return;
        }
    if (pool_n < POOL_SIZE) {
        at = pool_n++;
    } else {
        at = 0;
        for (int i = 1; i < pool_n; i++)
            if (pool[i].score < pool[at].score)
                at = i;
        if (pool[at].score >= sc)
            return;
    }
    pool[at].score = sc;
    pool[at].si = si;
    pool[at].pdb = e->e_db;
    pool[at].hash = e->e_hash;
    pool[at].klen = e->e_klen;
    memcpy(pool[at].key, e->e_data, e->e_klen);
}

struct sample_ctx {
    int64_t policy;
    int left;
};

static void sample_one(struct akv_arena *a, int si, struct akv_entry *e,
                       void *ctx)
{
    struct sample_ctx *sc = ctx;

    if (sc->left <= 0)
        return;
    sc->left--;
    pool_offer(a, si, e, sc->policy);
}

/* Lock stripe si for eviction.  A caller that already holds stripes
 * (`avoid`) must not wait for another one: it only tries. */
static bool lock_for_evict(struct akv_ctx *ctx, int si, uint64_t avoid)
{
    if (avoid & (1ULL << si))
        return false;
    if (avoid)
        return akv_stripe_trylock(ctx, si) == 0;
    return akv_stripe_lock(ctx, si) == 0;
}

/* Look at about `n` keys of random stripes and feed the pool. */
static void sample(struct akv_ctx *ctx, int n, int64_t policy, uint64_t avoid)
{
    struct akv_arena *a = ctx->a;

    for (int tries = 0; n > 0 && tries < n * 4; tries++) {
        int si = (int)(akv_random_u64() % AKV_NSTRIPES);
        struct sample_ctx sc = {policy, AKV_MIN(n, 4)};
        uint64_t size;

        if (!a->stripes[si].s_count || !lock_for_evict(ctx, si, avoid))
            continue;
        size = akv_table_size_locked(a, si, 0);
        if (size)
            akv_table_scan_locked(a, si, akv_random_u64() & (size - 1),
                                  sample_one, &sc);
        akv_stripe_unlock(ctx, si);
        n -= AKV_MIN(n, 4) - sc.left;
    }
}

/* Delete the pool's best candidate if it still exists.  Returns true when
 * something was evicted. */
static bool evict_best(struct akv_ctx *ctx, struct akv_op *op,
                       uint64_t avoid)
{
    struct akv_arena *a = ctx->a;
    struct akv_entry *e;
    struct candidate c;
    int best = 0;

    if (pool_n == 0)
        return false;
    for (int i = 1; i < pool_n; i++)
        if (pool[i].score > pool[best].score)
            best = i;
    c = pool[best];
    pool[best] = pool[--pool_n];
    akv_op_init(op, ctx);
    if (!lock_for_evict(ctx, c.si, avoid))
        return false;
    op->want = op->locked = 1ULL << c.si; /* taken above */
    e = akv_table_find_locked(a, c.si, c.pdb, c.key, c.klen, c.hash);
    if (e)
        akv_op_del(op, e);
    if (akv_op_commit(op) < 0) {
        /* Not logged (the AOF is failing): nothing was evicted, and the
         * command that asked for room is not the one that failed. */
        ctx->op_error = 0;
        return false;
    }
    if (e)
        atomic_fetch_add(&a->hdr->h_stats.st_evicted, 1);
    return e != NULL;
}

int akv_evict_until(struct akv_ctx *ctx, struct akv_op *op, uint64_t target,
                    uint64_t avoid)
{
    struct akv_hdr *h = ctx->a->hdr;
    int64_t policy = h->h_cfg.maxmemory_policy;
    int idle_rounds = 0;

    for (;;) {
        uint64_t used = atomic_load(&h->h_used), dying = 0;

        /* Elements of removed large containers being freed in steps
         * count as freed already: evicting more for them would be too
         * much. */
        if (used > target) {
            (void)akv_cont_pending(ctx->a, &dying);
            used -= AKV_MIN(dying, used);
        }
        if (used <= target)
            break;
        if (policy == AKV_MM_NOEVICTION)
            return -ENOMEM;
        sample(ctx, (int)AKV_MAX(h->h_cfg.maxmemory_samples, 1), policy,
               avoid);
        if (evict_best(ctx, op, avoid)) {
            idle_rounds = 0;
            continue;
        }
        if (++idle_rounds > 16)
            return -ENOMEM; /* nothing evictable (e.g. no key has a TTL) */
    }
    return 0;
}
