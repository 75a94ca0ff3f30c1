/*
 * save.c -- point-in-time snapshots without an AOF: SAVE, BGSAVE and the
 * `save <seconds> <changes>` rules, written by the supervisor to
 * `dbfilename` in `dir` as the same SQLite database the AOF uses for its
 * base (snapshot.c), by temporary file and atomic rename.
 *
 * Workers never write files: SAVE and BGSAVE set h_save_req and signal
 * the supervisor (SIGUSR1), whose loop starts the save at once (its
 * timer would add up to a tick, 100 ms at hz 10, to every SAVE); SAVE
 * then waits on h_save_gen.
 * While a snapshot runs, ops on every stripe (FLUSH*, SWAPDB) wait at
 * h_snap_mutex; single-key writes go on, each stripe being copied under
 * its own lock.  So the file is exact per stripe and ordered for db-wide
 * ops, but, unlike a forked RDB, not one instant for keys of different
 * stripes written during the copy.
 */
#include "build-config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clients.h"
#include "fault.h"
#include "lock.h"
#include "log.h"
#include "ring.h"
#include "save.h"
#include "snapshot.h"

void akv_saver_init(struct akv_saver *sv, struct akv_arena *a, int slot)
{
    memset(sv, 0, sizeof(*sv));
    sv->ctx.a = a;
    sv->ctx.slot = slot;
    sv->ctx.cs = &a->slots[slot];
    snprintf(sv->path, sizeof(sv->path), "%s", a->hdr->h_cfg.dbfilename);
}

/* The copy into the temporary file (DEBUG FAULT-IO save fails it). */
static int write_snapshot(struct akv_saver *sv, const char *tmp,
                          uint64_t *rows, char *why, size_t whylen)
{
    int err = akv_io_fault(sv->ctx.a, AKV_IO_SAVE);

    if (err) {
        *rows = 0;
        snprintf(why, whylen, "%s", strerror(err));
        return -err;
    }
    return akv_snapshot_write(&sv->ctx, tmp, NULL, NULL, rows, why, whylen);
}

/* A failed save leaves the previous file in place and its temporary file
 * removed; h_save_status < 0 then refuses writes while
 * stop-writes-on-bgsave-error is set (commands.c), until a save works. */
int akv_save_now(struct akv_saver *sv)
{
    struct akv_arena *a = sv->ctx.a;
    struct akv_hdr *h = a->hdr;
    struct akv_slot_stats t;
    char tmp[1200], why[256] = "";
    uint64_t rows = 0;
    int r;

    /* dbfilename may change at run time (enable-protected-configs). */
    if (AKV_CFG_STRING(a, dbfilename, sv->path) < 0 || !sv->path[0])
        snprintf(sv->path, sizeof(sv->path), "%s", h->h_cfg.dbfilename);
    akv_stats_totals(a, &t);
    sv->tried_ms = akv_monotonic_ms();
    snprintf(tmp, sizeof(tmp), "temp-%d.%s", (int)getpid(), sv->path);
    r = akv_lock(a, AKV_LOCK_SNAP, 0, AKV_LOCK_WAIT);
    if (r == 0) {
        r = write_snapshot(sv, tmp, &rows, why, sizeof(why));
        akv_unlock(a, AKV_LOCK_SNAP, 0);
    }
    if (r == 0 && rename(tmp, sv->path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        akv_log_limited(&sv->fail_limit, AKV_LOG_WARNING, "Failed saving "
                        "the DB to %s: %s", sv->path,
                        why[0] ? why : strerror(-r));
    } else {
        akv_log_limit_flush(&sv->fail_limit, AKV_LOG_WARNING,
                            "Failed saves");
        atomic_store(&h->h_dirty_at_save, atomic_load(&t.ss_dirty));
        atomic_store(&h->h_lastsave, akv_mstime() / 1000);
        akv_log(AKV_LOG_NOTICE, "DB saved on disk (%llu keys in %s)",
                (unsigned long long)rows, sv->path);
    }
    atomic_store(&h->h_save_status, r);
    atomic_store(&h->h_save_running, 0);
    akv_futex_wake(&h->h_save_gen);
    return r;
}

static void *save_thread(void *arg)
{
    struct akv_saver *sv = arg;

    akv_save_now(sv);
    atomic_store(&sv->state, 2);
    /* A SAVE that arrived while this one finished found the saver busy;
     * have the supervisor's loop (SIGUSR1, supervisor.c) start it now
     * instead of at its next tick. */
    if (atomic_load(&sv->ctx.a->hdr->h_save_req))
        kill(getpid(), SIGUSR1);
    return NULL;
}

/* Whether a `save` rule ("secs changes" pairs) says it is time. */
#define SAVE_RETRY_MS 5000

static bool rule_due(struct akv_saver *sv)
{
    struct akv_arena *a = sv->ctx.a;
    char rules[AKV_CFG_STR];
    char *save = NULL, *tok;
    int64_t since = akv_mstime() / 1000 - atomic_load(&a->hdr->h_lastsave);
    uint64_t dirty = akv_dirty(a);

    if (AKV_CFG_STRING(a, save, rules) < 0)
        return false;
    if (dirty == 0)
        return false;
    /* After a failure, rules try again only every SAVE_RETRY_MS (Redis's
     * CONFIG_BGSAVE_RETRY_DELAY), so a full disk is not hammered. */
    if (atomic_load(&a->hdr->h_save_status) < 0 &&
        akv_monotonic_ms() - sv->tried_ms < SAVE_RETRY_MS)
        return false;
    for (tok = strtok_r(rules, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *changes = strtok_r(NULL, " ", &save);
        if (!changes)
            break;
        if (since >= atol(tok) && dirty >= (uint64_t)atoll(changes))
            return true;
    }
    return false;
}

void akv_saver_tick(struct akv_saver *sv)
{
    struct akv_hdr *h;

    if (!sv->ctx.a)
        return;
    h = sv->ctx.a->hdr;
    if (atomic_load(&sv->state) == 2) {
        pthread_join(sv->thread, NULL);
        atomic_store(&sv->state, 0);
        atomic_store(&h->h_save_running, 0);
    }
    if (atomic_load(&sv->state) != 0)
        return;
    if (!atomic_exchange(&h->h_save_req, 0) && !rule_due(sv))
        return;
    atomic_store(&sv->state, 1);
    atomic_store(&h->h_save_running, 1);
    if (pthread_create(&sv->thread, NULL, save_thread, sv) != 0) {
        atomic_store(&sv->state, 0);
        atomic_store(&h->h_save_running, 0);
    }
}

int akv_save_load(struct akv_ctx *ctx, char *why, size_t whylen)
{
    struct akv_ctx lc = *ctx;
    uint64_t rows;
    int r;

    if (access(ctx->a->hdr->h_cfg.dbfilename, F_OK) < 0)
        return 0;
    lc.replaying = true;
    r = akv_snapshot_load(&lc, ctx->a->hdr->h_cfg.dbfilename, &rows, why,
                          whylen);
    ctx->seq = lc.seq; /* the slot's commit word moved on */
    if (r == 0)
        akv_log(AKV_LOG_NOTICE, "DB loaded from disk: %llu keys from %s",
                (unsigned long long)rows, ctx->a->hdr->h_cfg.dbfilename);
    return r;
}
