/*
 * expire.c -- active expiry: keys that nobody touches again are reclaimed
 * by the supervisor (lazy expiry on access is in keyspace.c).
 *
 * Redis samples its separate expires dictionary; our stripes keep no such
 * index, so the cycle instead walks each stripe's table with the SCAN
 * cursor, a few buckets per visit, deleting what has expired.  Each visit
 * holds one stripe lock for a bounded number of buckets, so a client never
 * waits long.  The cycle has a CPU budget (25% of a timer period, as
 * Redis's slow cycle) and, as Redis's activeExpireCycle does, keeps going
 * while the share of expired keys among those it looked at stays above
 * 10%; below that it stops after one pass over the stripes.  Deletions go
 * through the op API, so they reach the AOF as DEL.
 */
#include "build-config.h"

#include "expire.h"

#define BUCKETS_PER_VISIT 16
#define STALE_PERC 10

struct visit {
    struct akv_op *op;
    int64_t now;
    uint64_t seen, expired;
    double ttl_sum[AKV_MAX_DBS]; /* remaining TTLs (ms) of live keys seen;
                                  * a double: expiries reach INT64_MAX */
    uint32_t ttl_n[AKV_MAX_DBS];
};

static void check_entry(struct akv_arena *a, int si, struct akv_entry *e,
                        void *ctx)
{
    struct visit *v = ctx;

    (void)a;
    (void)si;
    if (!atomic_load(&e->e_expire))
        return;
    v->seen++;
    if (akv_entry_expired(e, v->now)) {
        akv_op_expire_entry(v->op, e);
        v->expired++;
        return;
    }
    v->ttl_sum[e->e_db] += (double)atomic_load(&e->e_expire) - (double)v->now;
    v->ttl_n[e->e_db]++;
}

/* Visit a few buckets of stripe si. */
static void visit_stripe(struct akv_ctx *ctx, struct akv_expirer *ex, int si,
                         struct visit *v)
{
    struct akv_arena *a = ctx->a;

    if (!a->stripes[si].s_count)
        return;
    akv_op_init(&ex->op, ctx);
    ex->op.want = 1ULL << si;
    if (akv_op_lock(&ex->op) < 0)
        return;
    v->op = &ex->op;
    v->now = akv_mstime();
    for (int b = 0; b < BUCKETS_PER_VISIT; b++) {
        ex->cursor[si] = akv_table_scan_locked(a, si, ex->cursor[si],
                                               check_entry, v);
        if (ex->cursor[si] == 0)
            break;
    }
    akv_op_commit(&ex->op);
}

/* INFO keyspace avg_ttl: a running estimate from the keys the cycles see,
 * weighted as Redis does (each cycle moves it 1/50 of the way). */
static void update_avg_ttl(struct akv_hdr *h, const struct visit *v)
{
    for (int db = 0; db < AKV_MAX_DBS; db++) {
        int64_t avg, old;
        if (!v->ttl_n[db])
            continue;
        avg = (int64_t)AKV_MIN(v->ttl_sum[db] / v->ttl_n[db], 9.2e18);
        old = atomic_load(&h->h_stats.st_avg_ttl[db]);
        atomic_store(&h->h_stats.st_avg_ttl[db],
                     old ? old / 50 * 49 + avg / 50 : avg);
    }
}

void akv_active_expire_cycle(struct akv_ctx *ctx, struct akv_expirer *ex,
                             int64_t budget_us)
{
    struct akv_hdr *h = ctx->a->hdr;
    int64_t start = akv_ustime();
    struct visit v = {0};
    int visited = 0;

    if (atomic_load(&h->h_active_expire_off))
        return;
    ctx->now = akv_mstime();
    for (;;) {
        visit_stripe(ctx, ex, ex->next, &v);
        ex->next = (ex->next + 1) % AKV_NSTRIPES;
        visited++;
        if (akv_ustime() - start > budget_us) {
            atomic_fetch_add(&h->h_stats.st_expire_cap, 1);
            break;
        }
        if (visited >= AKV_NSTRIPES &&
            (v.seen == 0 || v.expired * 100 < v.seen * STALE_PERC))
            break;
    }
    if (v.seen)
        atomic_store(&h->h_stats.st_stale_perc_x100,
                     v.expired * 10000 / v.seen);
    update_avg_ttl(h, &v);
}
