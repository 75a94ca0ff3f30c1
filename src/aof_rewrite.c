/*
 * aof_rewrite.c -- compaction of the AOF into a SQLite base, without fork.
 *
 * The arena is shared memory, so there is no copy-on-write snapshot to
 * fork.  Instead, with writes going on:
 *
 *   1. take h_snap_mutex: ops that touch every stripe (FLUSHDB, FLUSHALL,
 *      SWAPDB) wait, everything else runs;
 *   2. create incremental file N+1, list it in the manifest after the
 *      current files (so a crash from here on still replays everything),
 *      and make the drainer write records from ring position P0 = head on
 *      into it;
 *   3. copy stripe by stripe (each under its own lock, at its own ring
 *      position m_s >= P0) into a new SQLite file;
 *   4. release the barrier, fsync, rename the base into place, switch the
 *      manifest to { new base, file N+1 } by atomic rename, delete the old
 *      files.
 *
 * Replay of the new pair: the base holds each stripe as of m_s, file N+1
 * every record from P0 on.  Records in [P0, m_s) are applied a second time
 * on top of state that already includes them; every record is an absolute
 * effect on one key (SET, DEL, PEXPIREAT, PERSIST, SETRANGE at a fixed
 * offset) or on elements of one container (HSET, HDEL, SADD, SREM: the
 * handlers log results, never increments or pops) replayed in the same
 * order, so each key and element ends as its last record says -- and the
 * barrier keeps out of the window db-wide effects and the records that
 * read a key (RENAME, MOVE, COPY of a hash or a set, which wait for it).  A record that meets
 * the key as another type (it changed type later in the window) fails
 * with WRONGTYPE, harmlessly: a later record sets the key.
 */
#include "build-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "lock.h"
#include "fault.h"
#include "log.h"
#include "ring.h"
#include "snapshot.h"

static int next_seq(const struct akv_manifest *m)
{
    int seq = m->base_seq;

    for (int i = 0; i < m->nincr; i++)
        seq = AKV_MAX(seq, m->incr_seq[i]);
    return seq + 1;
}


/* Steps 1-2: a new incremental file that takes every record from now on. */
static int begin_new_incr(struct akv_aof *aof, int seq)
{
    struct akv_manifest m;
    char path[1100];
    int fd;

    pthread_mutex_lock(&aof->mu);
    m = aof->man;
    pthread_mutex_unlock(&aof->mu);
    if (m.nincr >= AKV_AOF_MAX_INCR)
        return -ENOSPC;
    snprintf(m.incr[m.nincr], sizeof(m.incr[0]), "%s.%d.incr.aof", aof->name,
             seq);
    m.incr_seq[m.nincr++] = seq;
    akv_aof_path(aof, m.incr[m.nincr - 1], path, sizeof(path));
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (akv_manifest_write(aof, &m) < 0) {
        close(fd);
        unlink(path);
        return -EIO;
    }
    pthread_mutex_lock(&aof->mu);
    aof->man = m;
    pthread_mutex_unlock(&aof->mu);
    AKV_FAULT("rewrite-started");
    akv_aof_switch(aof, atomic_load(&aof->ctx.a->hdr->h_ring_head), fd);
    return 0;
}

static void remove_files(struct akv_aof *aof, const struct akv_manifest *old,
                         const struct akv_manifest *now)
{
    char path[1100];

    if (old->base[0] && strcmp(old->base, now->base) != 0) {
        akv_aof_path(aof, old->base, path, sizeof(path));
        unlink(path);
    }
    for (int i = 0; i < old->nincr; i++) {
        if (strcmp(old->incr[i], now->incr[0]) == 0)
            continue;
        akv_aof_path(aof, old->incr[i], path, sizeof(path));
        unlink(path);
    }
}

/* Step 4: the new base and the last incremental file replace the rest. */
static int switch_manifest(struct akv_aof *aof, const char *base, int seq)
{
    struct akv_manifest old, m;

    pthread_mutex_lock(&aof->mu);
    old = aof->man;
    pthread_mutex_unlock(&aof->mu);
    memset(&m, 0, sizeof(m));
    snprintf(m.base, sizeof(m.base), "%s", base);
    m.base_seq = seq;
    m.nincr = 1;
    snprintf(m.incr[0], sizeof(m.incr[0]), "%s", old.incr[old.nincr - 1]);
    m.incr_seq[0] = old.incr_seq[old.nincr - 1];
    if (akv_manifest_write(aof, &m) < 0)
        return -EIO;
    pthread_mutex_lock(&aof->mu);
    aof->man = m;
    aof->cur = 0;
    pthread_mutex_unlock(&aof->mu);
    AKV_FAULT("rewrite-switched");
    remove_files(aof, &old, &m);
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

/* The copy into the temporary base (DEBUG FAULT-IO rewrite fails it). */
static int write_base(struct akv_aof *aof, const char *tmp, uint64_t *rows,
                      char *why, size_t whylen)
{
    struct akv_ctx ctx = aof->ctx;
    int err = akv_io_fault(aof->ctx.a, AKV_IO_REWRITE);

    if (err) {
        *rows = 0;
        snprintf(why, whylen, "%s", strerror(err));
        return -err;
    }
    return akv_snapshot_write(&ctx, tmp, NULL, NULL, rows, why, whylen);
}

/* A failed rewrite leaves the manifest in force (with, at most, the new
 * incremental file appended, which holds records from P0 on) and none of
 * its own files but that one. */
static int rewrite(struct akv_aof *aof)
{
    struct akv_arena *a = aof->ctx.a;
    char base[320], path[1100], tmp[1120], why[256] = "";
    int seq, r, err;
    uint64_t rows = 0;
    bool renamed = false;
    struct stat st;

    if ((err = atomic_load(&a->hdr->h_aof_write_err)) != 0) {
        akv_log(AKV_LOG_WARNING, "Background AOF rewrite not started: the "
                "AOF file cannot be written (%s)", strerror(err));
        return -err;
    }
    pthread_mutex_lock(&aof->mu);
    seq = next_seq(&aof->man);
    pthread_mutex_unlock(&aof->mu);
    snprintf(base, sizeof(base), "%s.%d.base.sqlite", aof->name, seq);
    akv_aof_path(aof, base, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    r = akv_lock(a, AKV_LOCK_SNAP, 0, AKV_LOCK_WAIT);
    if (r == 0) {
        r = begin_new_incr(aof, seq);
        if (r == 0)
            r = write_base(aof, tmp, &rows, why, sizeof(why));
        akv_unlock(a, AKV_LOCK_SNAP, 0);
    }
    if (r == 0)
        r = fsync_path(tmp);
    AKV_FAULT("rewrite-copied");
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    renamed = r == 0;
    AKV_FAULT("rewrite-renamed");
    if (r == 0)
        r = switch_manifest(aof, base, seq);
    if (r < 0) {
        unlink(tmp);
        if (renamed)
            unlink(path); /* no manifest names it */
        akv_log(AKV_LOG_WARNING, "Background AOF rewrite terminated with "
                "error: %s", why[0] ? why : strerror(-r));
        return r;
    }
    if (stat(path, &st) == 0)
        a->hdr->h_aof_base_size = (uint64_t)st.st_size;
    akv_log(AKV_LOG_NOTICE, "Background AOF rewrite finished successfully: "
            "%llu keys in %s", (unsigned long long)rows, base);
    return 0;
}

/* After failures in a row, automatic rewrites wait, as Redis's
 * aofRewriteLimited(): three tries, then 1 minute, doubling up to an
 * hour (BGREWRITEAOF is never held back). */
#define REWRITE_FREE_TRIES 3
#define REWRITE_DELAY_MIN_MS 60000
#define REWRITE_DELAY_MAX_MS 3600000

static void note_outcome(struct akv_aof *aof, int r)
{
    int64_t delay = REWRITE_DELAY_MIN_MS;

    atomic_store(&aof->ctx.a->hdr->h_rewrite_status, r < 0 ? r : 0);
    if (r == 0) {
        aof->rewrite_fails = 0;
        aof->rewrite_after_ms = 0;
        return;
    }
    if (++aof->rewrite_fails < REWRITE_FREE_TRIES)
        return;
    for (int i = REWRITE_FREE_TRIES; i < aof->rewrite_fails &&
                                     delay < REWRITE_DELAY_MAX_MS; i++)
        delay *= 2;
    aof->rewrite_after_ms = akv_monotonic_ms() +
                            AKV_MIN(delay, REWRITE_DELAY_MAX_MS);
}

static void *rewrite_thread(void *arg)
{
    struct akv_aof *aof = arg;
    struct akv_hdr *h = aof->ctx.a->hdr;
    int64_t t0 = akv_monotonic_ms();

    note_outcome(aof, rewrite(aof));
    h->h_rewrite_last_ms = akv_monotonic_ms() - t0;
    atomic_store(&aof->rewriting, 2); /* finished: join me */
    return NULL;
}

int akv_aof_rewrite_start(struct akv_aof *aof)
{
    int expect = 0;

    if (!aof->running)
        return -ENOTCONN;
    if (!atomic_compare_exchange_strong(&aof->rewriting, &expect, 1))
        return -EBUSY;
    atomic_store(&aof->ctx.a->hdr->h_rewrite_running, 1);
    akv_log(AKV_LOG_NOTICE, "Background append only file rewriting started");
    if (pthread_create(&aof->rewriter, NULL, rewrite_thread, aof) != 0) {
        atomic_store(&aof->rewriting, 0);
        atomic_store(&aof->ctx.a->hdr->h_rewrite_running, 0);
        return -EAGAIN;
    }
    return 0;
}

/* auto-aof-rewrite-percentage / -min-size, as Redis: rewrite when the
 * incremental file reached min-size and grew by percentage of the base. */
static bool auto_rewrite_due(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    uint64_t incr = h->h_aof_file_size, base = h->h_aof_base_size;
    int64_t pct = h->h_cfg.auto_aof_rewrite_percentage;

    if (pct <= 0 || incr < (uint64_t)h->h_cfg.auto_aof_rewrite_min_size)
        return false;
    if (aof->rewrite_after_ms && akv_monotonic_ms() < aof->rewrite_after_ms)
        return false;
    return base == 0 || incr * 100 >= base * (uint64_t)pct;
}

void akv_aof_rewrite_tick(struct akv_aof *aof)
{
    struct akv_hdr *h;

    if (!aof->running)
        return;
    h = aof->ctx.a->hdr;
    if (atomic_load(&aof->rewriting) == 2) {
        pthread_join(aof->rewriter, NULL);
        atomic_store(&aof->rewriting, 0);
        atomic_store(&h->h_rewrite_running, 0);
    }
    /* The request is consumed only once the rewrite runs, so INFO never
     * shows a requested rewrite as neither scheduled nor in progress, and
     * one that cannot start yet stays scheduled for the next tick. */
    if (atomic_load(&h->h_rewrite_req)) {
        if (akv_aof_rewrite_start(aof) == 0)
            atomic_store(&h->h_rewrite_req, 0);
    } else if (atomic_load(&aof->rewriting) == 0 && auto_rewrite_due(aof)) {
        akv_aof_rewrite_start(aof);
    }
}
