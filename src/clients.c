/*
 * clients.c -- client slots: who is connected, and who died.
 *
 * A worker claims a slot with a compare-and-swap on c_pid and then holds a
 * one-byte fcntl write lock at offset c_pid of the arena file (LMDB's
 * reader-table trick).  The kernel drops that lock when the process dies,
 * however it dies, so any process can tell a live owner from a dead one
 * with F_GETLK, even for workers that systemd spawned and nobody here can
 * waitpid() for.  Caveat kept by the worker: the lock vanishes if the
 * owner closes any descriptor of the arena file, so it never does.
 *
 * Claims, releases and reaps take h_slots_mutex (a leaf lock), so the
 * count of connection slots (h_nslots) is exact and admission against
 * maxclients cannot drift: the check and the claim are one step.  A
 * process that dies holding the lock leaves the count to be recounted
 * from the slots by the next locker (lock.c).  Caveat: a pid reused while
 * the dead owner's slot is not yet reaped makes that slot look alive until
 * the new process ends (pid_max is the bound on how often).
 */
#include "build-config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "clients.h"
#include "lock.h"
#include "log.h"

static int liveness_lock(struct akv_arena *a, pid_t pid, int cmd,
                         struct flock *fl)
{
    memset(fl, 0, sizeof(*fl));
    fl->l_type = F_WRLCK;
    fl->l_whence = SEEK_SET;
    fl->l_start = pid;
    fl->l_len = 1;
    return fcntl(a->fd, cmd, fl);
}

static void raise_hwm(struct akv_arena *a, int32_t n)
{
    int32_t cur = atomic_load(&a->hdr->h_slots_hwm);

    while (cur < n &&
           !atomic_compare_exchange_weak(&a->hdr->h_slots_hwm, &cur, n))
        ;
}

int akv_slots_hwm(struct akv_arena *a)
{
    return atomic_load_explicit(&a->hdr->h_slots_hwm, memory_order_relaxed);
}

/* Set up slot i for the calling process.  Caller holds AKV_LOCK_SLOTS. */
static void slot_init_locked(struct akv_arena *a, int i, uint32_t flags)
{
    struct akv_client_slot *cs = &a->slots[i];

    atomic_store(&cs->c_commit, 0);
    atomic_store(&cs->c_durable_want, 0);
    cs->c_id = atomic_fetch_add(&a->hdr->h_next_client_id, 1);
    cs->c_db = 0;
    cs->c_resp = 2;
    cs->c_flags = flags;
    cs->c_ppid = (int32_t)getppid();
    cs->c_ctime_ms = akv_mstime();
    atomic_store(&cs->c_last_ms, cs->c_ctime_ms);
    cs->c_name[0] = cs->c_lib_name[0] = cs->c_lib_ver[0] = '\0';
    cs->c_addr[0] = cs->c_laddr[0] = cs->c_cmd[0] = '\0';
    memset(&cs->c_stats, 0, sizeof(cs->c_stats));
    atomic_store(&cs->c_mem, 0);
    atomic_store(&cs->c_omem, 0);
    atomic_store(&cs->c_evicting, 0);
    if (!(flags & AKV_SLOT_INTERNAL))
        atomic_fetch_add(&a->hdr->h_nslots, 1);
    raise_hwm(a, i + 1);
}

/* Lowest free slot first, so slots stay packed below h_slots_hwm and
 * whoever walks them (reaper, CLIENT LIST, INFO) stops there.  Caller
 * holds AKV_LOCK_SLOTS, so a free slot stays free until it is taken. */
static int claim_locked(struct akv_arena *a, uint32_t flags)
{
    pid_t pid = getpid();

    for (int i = 0; i < AKV_NSLOTS; i++) {
        if (atomic_load_explicit(&a->slots[i].c_pid,
                                 memory_order_relaxed) != 0)
            continue;
        atomic_store(&a->slots[i].c_pid, pid);
        slot_init_locked(a, i, flags);
        return i;
    }
    return -1;
}

static int claim(struct akv_arena *a, uint32_t flags, int64_t maxclients)
{
    struct flock fl;
    int slot = -1;

    /* The liveness lock comes first: a slot must never look claimed by a
     * process that a reaper could take for dead. */
    liveness_lock(a, getpid(), F_SETLK, &fl);
    if (akv_lock(a, AKV_LOCK_SLOTS, 0, AKV_LOCK_WAIT) < 0)
        return -1;
    if ((flags & AKV_SLOT_INTERNAL) ||
        atomic_load(&a->hdr->h_nslots) < maxclients)
        slot = claim_locked(a, flags);
    akv_unlock(a, AKV_LOCK_SLOTS, 0);
    return slot;
}

int akv_slot_claim(struct akv_arena *a)
{
    return claim(a, AKV_SLOT_INTERNAL, 0);
}

int akv_slot_claim_client(struct akv_arena *a, int64_t maxclients)
{
    return claim(a, 0, maxclients);
}

#define STAT_FIELDS(X) X(ss_commands) X(ss_hits) X(ss_misses) \
    X(ss_net_in) X(ss_net_out) X(ss_dirty)

/* Fold a slot's counters into the header's retired totals. */
static void retire_stats(struct akv_arena *a, struct akv_client_slot *cs)
{
    struct akv_slot_stats *t = &a->hdr->h_retired;

#define RETIRE(f) atomic_fetch_add(&t->f, atomic_load(&cs->c_stats.f));
    STAT_FIELDS(RETIRE)
#undef RETIRE
    memset(&cs->c_stats, 0, sizeof(cs->c_stats));
}

void akv_stats_totals(struct akv_arena *a, struct akv_slot_stats *out)
{
    const struct akv_slot_stats *t = &a->hdr->h_retired;

#define START(f) uint64_t f = atomic_load(&t->f);
    STAT_FIELDS(START)
#undef START
    for (int i = 0; i < akv_slots_hwm(a); i++) {
        const struct akv_slot_stats *ss = &a->slots[i].c_stats;
        if (!atomic_load_explicit(&a->slots[i].c_pid, memory_order_relaxed))
            continue;
#define ADD(f) f += atomic_load_explicit(&ss->f, memory_order_relaxed);
        STAT_FIELDS(ADD)
#undef ADD
    }
#define OUT(f) atomic_store(&out->f, f);
    STAT_FIELDS(OUT)
#undef OUT
}

uint64_t akv_dirty(struct akv_arena *a)
{
    struct akv_slot_stats t;

    akv_stats_totals(a, &t);
    return atomic_load(&t.ss_dirty) - atomic_load(&a->hdr->h_dirty_at_save);
}

void akv_stats_reset(struct akv_arena *a)
{
    struct akv_slot_stats now;

    /* Retired totals become minus what live slots hold (mod 2^64), so
     * the sum starts again from zero without touching other slots. */
    memset(&a->hdr->h_retired, 0, sizeof(a->hdr->h_retired));
    akv_stats_totals(a, &now);
#define NEG(f) atomic_store(&a->hdr->h_retired.f, 0 - atomic_load(&now.f));
    STAT_FIELDS(NEG)
#undef NEG
}

/* Give slot i back: its counters retired, the count adjusted.  Caller
 * holds AKV_LOCK_SLOTS. */
static void free_slot_locked(struct akv_arena *a, int i)
{
    struct akv_client_slot *cs = &a->slots[i];

    retire_stats(a, cs);
    atomic_store(&cs->c_mem, 0);
    atomic_store(&cs->c_omem, 0);
    if (!(cs->c_flags & AKV_SLOT_INTERNAL))
        atomic_fetch_sub(&a->hdr->h_nslots, 1);
    atomic_store(&cs->c_pid, 0);
}

void akv_slot_release(struct akv_arena *a, int slot)
{
    struct flock fl;
    pid_t pid = atomic_load(&a->slots[slot].c_pid);
    bool locked = akv_lock(a, AKV_LOCK_SLOTS, 0, AKV_LOCK_WAIT) == 0;

    /* Even without the lock (a poisoned arena) the slot is given back;
     * the count is then only as good as the next recount. */
    free_slot_locked(a, slot);
    if (locked)
        akv_unlock(a, AKV_LOCK_SLOTS, 0);
    /* The liveness lock goes last, once the slot no longer names us. */
    liveness_lock(a, pid, F_SETLK, &fl);
    fl.l_type = F_UNLCK;
    fcntl(a->fd, F_SETLK, &fl);
}

bool akv_slot_owner_alive(struct akv_arena *a, int slot)
{
    int32_t pid = atomic_load(&a->slots[slot].c_pid);
    struct flock fl;

    if (pid <= 0)
        return false;
    if (pid == getpid())
        return true;
    if (liveness_lock(a, pid, F_GETLK, &fl) < 0)
        return true; /* cannot tell: assume alive */
    return fl.l_type != F_UNLCK;
}

/* Claimed connection slots: exact (see h_nslots). */
int akv_slots_in_use(struct akv_arena *a)
{
    return atomic_load_explicit(&a->hdr->h_nslots, memory_order_relaxed);
}

void akv_slots_recount_locked(struct akv_arena *a)
{
    int n = 0;

    for (int i = 0; i < akv_slots_hwm(a); i++)
        if (atomic_load_explicit(&a->slots[i].c_pid, memory_order_relaxed) &&
            !(a->slots[i].c_flags & AKV_SLOT_INTERNAL))
            n++;
    if (n != atomic_load(&a->hdr->h_nslots))
        akv_log(AKV_LOG_WARNING, "Recounted client slots after a holder of "
                "their lock died: %d (was %d)", n,
                (int)atomic_load(&a->hdr->h_nslots));
    atomic_store(&a->hdr->h_nslots, n);
}

/* A worker's parent logs how it ended (waitpid).  Nobody can for one
 * whose parent is gone (forked by the spawner of a supervisor that was
 * restarted since) or is not ours (systemd's Accept=yes workers): the
 * reaper logs those, as what it knows is only that they died. */
static void log_orphan_death(struct akv_arena *a, struct akv_client_slot *cs)
{
    static struct akv_log_limit lim;
    int32_t ppid = cs->c_ppid;

    if ((cs->c_flags & AKV_SLOT_INTERNAL) || ppid == getpid() ||
        ppid == atomic_load(&a->hdr->h_spawner_pid))
        return; /* a supervisor's slot, or a child someone waits for */
    akv_log_limited(&lim, AKV_LOG_NOTICE, "Worker %d (client %s) died "
                    "without closing its connection; its parent was not "
                    "this server's, so how it ended is unknown",
                    (int)atomic_load(&cs->c_pid),
                    cs->c_addr[0] ? cs->c_addr : "?");
}

/* Free the slots in dead[] whose owner is still the dead process found
 * before the sweep. */
static int free_dead(struct akv_arena *a, const int *dead, const int32_t *pids,
                     int n)
{
    int freed = 0;

    if (akv_lock(a, AKV_LOCK_SLOTS, 0, AKV_LOCK_WAIT) < 0)
        return 0;
    for (int k = 0; k < n; k++) {
        int i = dead[k];
        if (atomic_load(&a->slots[i].c_pid) != pids[k] ||
            akv_slot_owner_alive(a, i))
            continue;
        akv_log(AKV_LOG_VERBOSE, "Client slot %d of dead process %d freed",
                i, (int)pids[k]);
        log_orphan_death(a, &a->slots[i]);
        free_slot_locked(a, i);
        freed++;
    }
    akv_unlock(a, AKV_LOCK_SLOTS, 0);
    return freed;
}

int akv_reap_dead_slots(struct akv_ctx *ctx)
{
    struct akv_arena *a = ctx->a;
    int dead[64], n = 0;
    int32_t pids[64];

    for (int i = 0; i < akv_slots_hwm(a) && n < (int)akv_nelem(dead); i++) {
        int32_t pid = atomic_load_explicit(&a->slots[i].c_pid,
                                           memory_order_relaxed);
        if (pid && i != ctx->slot && !akv_slot_owner_alive(a, i)) {
            pids[n] = pid;
            dead[n++] = i;
        }
    }
    if (n == 0)
        return 0;
    /* A sweep repairs any stripe a dead owner held, while its slot (and
     * commit word) still exists; it never waits for a live holder. */
    akv_stripe_sweep(ctx);
    n = free_dead(a, dead, pids, n);
    atomic_fetch_add(&a->hdr->h_stats.st_reaped, (uint64_t)n);
    return n;
}
