/*
 * lock.h -- every shared lock of the arena, taken one way (see lock.c).
 */
#ifndef AKV_LOCK_H
#define AKV_LOCK_H

#include <stddef.h>

#include "arena.h"

/* The arena's locks, in the order they are taken (lock order: a process
 * holding one may take only those below it; arena.h has the full rules). */
enum akv_lock_id {
    AKV_LOCK_SNAP,   /* h_snap_mutex: db-wide ops against a snapshot copy */
    AKV_LOCK_STRIPE, /* s_mutex of one stripe, stripes in ascending order */
    AKV_LOCK_RING,   /* h_ring_mutex: AOF ring reservations */
    AKV_LOCK_PAGES,  /* h_pg_mutex: the page allocator */
    AKV_LOCK_CFG,    /* h_cfg_mutex: the shared configuration (a leaf) */
    AKV_LOCK_SLOTS,  /* h_slots_mutex: client slot claims (a leaf) */
};

enum akv_lock_how {
    AKV_LOCK_WAIT, /* sleep until it is free */
    AKV_LOCK_SPIN, /* retry briefly before sleeping (short sections) */
    AKV_LOCK_TRY,  /* do not wait */
};

/* Take lock `id` (`si` names the stripe for AKV_LOCK_STRIPE, else 0).
 * A holder that died is recovered here, before this returns: the lock's
 * own recovery runs (repair, rebuild, or a roll forward), then the mutex
 * is marked consistent.  Returns 0 with the lock held; -EBUSY (TRY only)
 * or -ENOTRECOVERABLE without it.  -ENOTRECOVERABLE means the arena was
 * poisoned (akv_arena_poison): every command now gets an error. */
int akv_lock(struct akv_arena *a, enum akv_lock_id id, int si,
             enum akv_lock_how how);
void akv_unlock(struct akv_arena *a, enum akv_lock_id id, int si);

/* Mark the arena unusable, once, with a log line naming what failed. */
void akv_arena_poison(struct akv_arena *a, const char *what, int err);

/* Publish a new shared configuration (caller holds AKV_LOCK_CFG).  The
 * copy into h_cfg is rolled forward by the next locker if the publisher
 * dies in the middle, so no reader ever sees half of a change. */
void akv_cfg_publish_locked(struct akv_arena *a, const struct akv_config *next);

/* Copy the string option at `off` (a char array of `len` bytes inside
 * struct akv_config) of the live configuration into out, under the lock,
 * so a torn change is never read.  Numeric options are read without the
 * lock: each is a single aligned word, old or new.  Returns 0, or
 * -ENOTRECOVERABLE with out empty. */
int akv_cfg_read_string(struct akv_arena *a, size_t off, size_t len,
                        char *out);
#define AKV_CFG_STRING(a, field, out)                                        \
    akv_cfg_read_string((a), offsetof(struct akv_config, field),             \
                        sizeof(((struct akv_config *)0)->field), (out))

#endif
