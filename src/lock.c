/*
 * lock.c -- every shared lock of the arena, taken one way.
 *
 * All locks in the arena are robust process-shared mutexes, because any
 * process holding one may be killed at any instruction.  akv_lock() is the
 * only place that takes them, so a dead holder is handled identically for
 * every lock (LMDB routes every robust-mutex failure to one function):
 *
 *   0           the lock is held;
 *   EOWNERDEAD  the holder died inside its critical section.  The lock's
 *               recovery runs (the table below), and only then is the
 *               mutex marked consistent: what it protects is proven whole
 *               before anyone else may enter.  A recoverer that dies
 *               leaves the mutex owner-dead again, so the next locker
 *               recovers in turn: every recovery is idempotent;
 *   other       (ENOTRECOVERABLE: a holder's death was never recovered)
 *               the arena is poisoned here, in one place, with a log line.
 *
 * What each recovery does (and why that is enough):
 *   snap    nothing: h_snap_mutex orders db-wide ops against a snapshot's
 *           copy and protects no data of its own;
 *   stripe  akv_stripe_repair_locked(): the op in flight is rolled forward
 *           or back by its intent, derived state rebuilt (stripe.c);
 *   ring    nothing: a reservation stores h_ring_head last, so a reserver
 *           that died inside left the ring as it was (ring.c);
 *   pages   the free-run bins are rebuilt from the page table (pages.c);
 *   cfg     a publication of a new configuration in flight is rolled
 *           forward from its complete staged copy (below);
 *   slots   the count of claimed connection slots is recounted from the
 *           slots themselves (clients.c).
 */
#include "build-config.h"

#include <string.h>

#include "clients.h"
#include "fault.h"
#include "keyspace.h"
#include "lock.h"
#include "log.h"
#include "pages.h"
#include "util.h"

static const char *const lock_names[] = {
    [AKV_LOCK_SNAP] = "snapshot barrier",
    [AKV_LOCK_STRIPE] = "stripe",
    [AKV_LOCK_RING] = "AOF ring",
    [AKV_LOCK_PAGES] = "page allocator",
    [AKV_LOCK_CFG] = "configuration",
    [AKV_LOCK_SLOTS] = "client slots",
};

static pthread_mutex_t *lock_mutex(struct akv_arena *a, enum akv_lock_id id,
                                   int si)
{
    switch (id) {
    case AKV_LOCK_SNAP:
        return &a->hdr->h_snap_mutex;
    case AKV_LOCK_STRIPE:
        return &a->stripes[si].s_mutex;
    case AKV_LOCK_RING:
        return &a->hdr->h_ring_mutex;
    case AKV_LOCK_PAGES:
        return &a->hdr->h_pg_mutex;
    case AKV_LOCK_SLOTS:
        return &a->hdr->h_slots_mutex;
    case AKV_LOCK_CFG:
        break;
    }
    return &a->hdr->h_cfg_mutex;
}

/* ---------------------------------------------------------- configuration
 * A publication copies h_cfg_next (complete, staged by the publisher under
 * the lock) over h_cfg between h_cfg_publishing = 1 and = 0.  A publisher
 * that dies before setting the flag changed nothing readers see; after
 * it, the staged copy is complete, so finishing the copy is the repair. */

static void cfg_copy(struct akv_hdr *h)
{
    size_t half = sizeof(h->h_cfg) / 2;

    memcpy(&h->h_cfg, &h->h_cfg_next, half);
    AKV_FAULT("config-half-copied");
    memcpy((char *)&h->h_cfg + half, (char *)&h->h_cfg_next + half,
           sizeof(h->h_cfg) - half);
}

void akv_cfg_publish_locked(struct akv_arena *a, const struct akv_config *next)
{
    struct akv_hdr *h = a->hdr;

    h->h_cfg_next = *next;
    atomic_store(&h->h_cfg_publishing, 1);
    AKV_FAULT("config-publishing");
    cfg_copy(h);
    atomic_store(&h->h_cfg_publishing, 0);
}

static void cfg_recover_locked(struct akv_arena *a)
{
    struct akv_hdr *h = a->hdr;

    if (!atomic_load(&h->h_cfg_publishing))
        return;
    cfg_copy(h);
    atomic_store(&h->h_cfg_publishing, 0);
    akv_log(AKV_LOG_WARNING, "Finished a configuration change whose writer "
            "died");
}

int akv_cfg_read_string(struct akv_arena *a, size_t off, size_t len,
                        char *out)
{
    if (akv_lock(a, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) < 0) {
        out[0] = '\0';
        return -ENOTRECOVERABLE;
    }
    memcpy(out, (const char *)&a->hdr->h_cfg + off, len);
    akv_unlock(a, AKV_LOCK_CFG, 0);
    out[len - 1] = '\0';
    return 0;
}

/* ------------------------------------------------------------ recovery */

static void recover_locked(struct akv_arena *a, enum akv_lock_id id, int si)
{
    switch (id) {
    case AKV_LOCK_SNAP:
    case AKV_LOCK_RING:
        break; /* nothing to repair: see the table at the top */
    case AKV_LOCK_STRIPE:
        akv_stripe_repair_locked(a, si);
        break;
    case AKV_LOCK_PAGES:
        akv_pages_rebuild_locked(a);
        break;
    case AKV_LOCK_CFG:
        cfg_recover_locked(a);
        break;
    case AKV_LOCK_SLOTS:
        akv_slots_recount_locked(a);
        break;
    }
}

void akv_arena_poison(struct akv_arena *a, const char *what, int err)
{
    uint32_t old = atomic_exchange(&a->hdr->h_state, AKV_STATE_POISONED);

    if (old != AKV_STATE_POISONED)
        akv_log(AKV_LOG_WARNING, "The %s lock cannot be recovered (%s): the "
                "arena is poisoned and refuses every command until it is "
                "rebuilt from disk (restart with --reset-arena yes)", what,
                strerror(err));
}

int akv_lock(struct akv_arena *a, enum akv_lock_id id, int si,
             enum akv_lock_how how)
{
    pthread_mutex_t *m = lock_mutex(a, id, si);
    int r;

    if (how == AKV_LOCK_TRY)
        r = pthread_mutex_trylock(m);
    else if (how == AKV_LOCK_SPIN)
        r = akv_mutex_lock_spinning(m);
    else
        r = pthread_mutex_lock(m);
    if (akv_likely(r == 0))
        return 0;
    if (r == EBUSY && how == AKV_LOCK_TRY)
        return -EBUSY;
    if (r == EOWNERDEAD) {
        recover_locked(a, id, si);
        pthread_mutex_consistent(m);
        return 0;
    }
    akv_arena_poison(a, lock_names[id], r);
    return -ENOTRECOVERABLE;
}

void akv_unlock(struct akv_arena *a, enum akv_lock_id id, int si)
{
    pthread_mutex_unlock(lock_mutex(a, id, si));
}
