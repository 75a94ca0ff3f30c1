/*
 * fault.c -- the registry of fault-injection points (see fault.h).
 */
#include "build-config.h"

#include <signal.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arena.h"
#include "fault.h"

const char *akv_fault_armed;
static long fault_countdown;

const char *const akv_fault_points[] = {
    "chunk-carved",      /* a chunk was cut from a page, not yet counted */
    "chunk-freed",       /* a chunk was marked free, lists not updated */
    "page-taken",        /* the page allocator took a run, not yet marked */
    "intent-prepared",   /* intent set, nothing marked yet */
    "marked",            /* new/old entries marked, not committed */
    "committed",         /* commit point passed, nothing applied */
    "applied-half",      /* some marks applied */
    "applied",           /* all marks applied, intent still set */
    "rehash-step",       /* in the middle of moving a bucket */
    "table-swap",        /* rehash finished, tables being swapped */
    "elem-applied-half", /* some element marks of a container applied */
    "free-step",         /* in a step freeing a dying container */
    NULL,
};

/* Points inside the critical sections of the locks that are not a
 * stripe's (lock.c): a worker dies holding that lock. */
const char *const akv_fault_lock_points[] = {
    "barrier-held",       /* h_snap_mutex held, no stripe locked yet */
    "ring-reserving",     /* h_ring_mutex held, filler written, head not */
    "config-publishing",  /* h_cfg_mutex held, new config staged */
    "config-half-copied", /* ... and half copied over the live one */
    NULL,
};

/* Points in the supervisor's AOF rewrite (armed with ARENAKV_FAULT). */
const char *const akv_fault_rewrite_points[] = {
    "rewrite-started",   /* new incremental file listed, nothing copied */
    "rewrite-copied",    /* base written under its temporary name */
    "rewrite-renamed",   /* base in place, manifest not switched */
    "rewrite-switched",  /* manifest switched, old files not deleted */
    NULL,
};

static bool arm_from(const char *const *list, const char *name, long n)
{
    for (int i = 0; list[i]; i++) {
        if (strcmp(list[i], name) == 0) {
            fault_countdown = n > 0 ? n : 1;
            akv_fault_armed = list[i];
            return true;
        }
    }
    return false;
}

bool akv_fault_arm(const char *name, long n)
{
    return arm_from(akv_fault_points, name, n) ||
           arm_from(akv_fault_lock_points, name, n) ||
           arm_from(akv_fault_rewrite_points, name, n);
}

void akv_fault_hit(const char *name)
{
    if (strcmp(name, akv_fault_armed) != 0)
        return;
    if (--fault_countdown > 0)
        return;
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}

/* ------------------------------------------------------------ I/O faults */

static const char *const io_points[AKV_IO_FAULTS] = {
    "aof-write", "aof-fsync", "save", "rewrite",
};

int akv_io_point_find(const char *name)
{
    for (int i = 0; i < AKV_IO_FAULTS; i++)
        if (strcasecmp(io_points[i], name) == 0)
            return i;
    return -1;
}

void akv_io_fault_arm(struct akv_arena *a, int point, int err, int count)
{
    struct akv_io_fault *f = &a->hdr->h_io_fault[point];

    atomic_store(&f->f_count, 0);
    atomic_store(&f->f_errno, err);
    atomic_store(&f->f_count, err ? count : 0);
}

int akv_io_fault(struct akv_arena *a, int point)
{
    struct akv_io_fault *f = &a->hdr->h_io_fault[point];
    int32_t n = atomic_load_explicit(&f->f_count, memory_order_relaxed);

    while (n != 0) {
        if (n < 0 || atomic_compare_exchange_weak(&f->f_count, &n, n - 1))
            return atomic_load(&f->f_errno);
    }
    return 0;
}
