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
 */
#include "build-config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "clients.h"
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

int akv_slot_claim(struct akv_arena *a)
{
    pid_t pid = getpid();
    struct flock fl;

    /* The liveness lock comes first: a slot must never look claimed by a
     * process that a reaper could take for dead. */
    liveness_lock(a, pid, F_SETLK, &fl);
    /* Lowest free slot first, so slots stay packed below h_slots_hwm and
     * whoever walks them (reaper, CLIENT LIST, INFO) stops there. */
    for (int i = 0; i < AKV_NSLOTS; i++) {
        struct akv_client_slot *cs = &a->slots[i];
        int32_t expect = 0;

        if (atomic_load_explicit(&cs->c_pid, memory_order_relaxed) != 0)
            continue;
        if (!atomic_compare_exchange_strong(&cs->c_pid, &expect, pid))
            continue;
        atomic_store(&cs->c_commit, 0);
        atomic_store(&cs->c_durable_want, 0);
        cs->c_id = atomic_fetch_add(&a->hdr->h_next_client_id, 1);
        cs->c_db = 0;
        cs->c_resp = 2;
        cs->c_flags = 0;
        cs->c_ppid = (int32_t)getppid();
        cs->c_ctime_ms = akv_mstime();
        atomic_store(&cs->c_last_ms, cs->c_ctime_ms);
        cs->c_name[0] = cs->c_lib_name[0] = cs->c_lib_ver[0] = '\0';
        cs->c_addr[0] = cs->c_laddr[0] = cs->c_cmd[0] = '\0';
        memset(&cs->c_stats, 0, sizeof(cs->c_stats));
        atomic_fetch_add(&a->hdr->h_nslots, 1);
        raise_hwm(a, i + 1);
        return i;
    }
    return -1;
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

void akv_slot_release(struct akv_arena *a, int slot)
{
    struct akv_client_slot *cs = &a->slots[slot];
    struct flock fl;

    retire_stats(a, cs);
    atomic_fetch_sub(&a->hdr->h_nslots, 1);
    liveness_lock(a, atomic_load(&cs->c_pid), F_SETLK, &fl);
    fl.l_type = F_UNLCK;
    fcntl(a->fd, F_SETLK, &fl);
    atomic_store(&cs->c_pid, 0);
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

/* O(1): a connection checks it on arrival.  A process that died between
 * claiming and counting leaves it off by one until the reaper recounts. */
int akv_slots_in_use(struct akv_arena *a)
{
    return atomic_load_explicit(&a->hdr->h_nslots, memory_order_relaxed);
}

static void recount_slots(struct akv_arena *a)
{
    int n = 0;

    for (int i = 0; i < akv_slots_hwm(a); i++)
        if (atomic_load_explicit(&a->slots[i].c_pid, memory_order_relaxed))
            n++;
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

    if ((cs->c_flags & 1) || ppid == getpid() ||
        ppid == atomic_load(&a->hdr->h_spawner_pid))
        return; /* a supervisor's slot, or a child someone waits for */
    akv_log_limited(&lim, AKV_LOG_NOTICE, "Worker %d (client %s) died "
                    "without closing its connection; its parent was not "
                    "this server's, so how it ended is unknown",
                    (int)atomic_load(&cs->c_pid),
                    cs->c_addr[0] ? cs->c_addr : "?");
}

int akv_reap_dead_slots(struct akv_ctx *ctx)
{
    struct akv_arena *a = ctx->a;
    int dead[64], n = 0;

    for (int i = 0; i < akv_slots_hwm(a) && n < (int)akv_nelem(dead); i++) {
        int32_t pid = atomic_load_explicit(&a->slots[i].c_pid,
                                           memory_order_relaxed);
        if (pid && i != ctx->slot && !akv_slot_owner_alive(a, i))
            dead[n++] = i;
    }
    if (n == 0)
        return 0;
    /* A sweep repairs any stripe a dead owner held, while its slot (and
     * commit word) still exists; it never waits for a live holder. */
    akv_stripe_sweep(ctx);
    for (int k = 0; k < n; k++) {
        akv_log(AKV_LOG_VERBOSE, "Client slot %d of dead process %d freed",
                dead[k], (int)atomic_load(&a->slots[dead[k]].c_pid));
        log_orphan_death(a, &a->slots[dead[k]]);
        retire_stats(a, &a->slots[dead[k]]);
        atomic_store(&a->slots[dead[k]].c_pid, 0);
    }
    atomic_fetch_add(&a->hdr->h_stats.st_reaped, (uint64_t)n);
    recount_slots(a);
    return n;
}
