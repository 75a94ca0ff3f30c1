/*
 * ring.h -- the AOF ring: effect records on their way to the AOF file.
 */
#ifndef AKV_RING_H
#define AKV_RING_H

#include "arena.h"

enum akv_rec_state {
    AKV_REC_RESERVED = 1,  /* being written; not yet part of history */
    AKV_REC_COMMITTED = 2, /* the op happened: goes to the file */
    AKV_REC_ABORTED = 3,   /* the op never happened: skipped */
    AKV_REC_SKIP = 4,      /* filler up to the end of the ring */
};

/* A record in the ring: this header, then rc_len payload bytes (RESP
 * commands), padded to 8 bytes.  Written by one worker under the locks of
 * the stripes its op touches; rc_state is the op's commit point. */
struct akv_rec {
    _Atomic uint32_t rc_state;
    _Atomic uint32_t rc_done;  /* the owner cleared all its intents */
    uint32_t rc_len;
    uint32_t rc_slot;          /* owner's client slot */
    int32_t rc_pid;            /* owner's pid */
    int16_t rc_db;             /* logical db the payload runs in, or -1 */
    int16_t rc_db_end;         /* db selected after the payload, or -1 */
    uint64_t rc_seq;           /* owner's transaction number */
    uint64_t rc_total;         /* ring bytes taken: header+payload+pad */
};

/* Largest payload a record may carry. */
uint64_t akv_ring_max_payload(struct akv_arena *a);

/* Reserve room for a payload of len bytes (waits while the ring is full:
 * back-pressure, never loss).  Stores the record's ring position in *pos
 * and returns 0 (the payload goes at akv_rec_payload(), rc_state is
 * RESERVED), -EIO while the AOF cannot be written (h_aof_write_err, also
 * checked while waiting for room), or -ENOTRECOVERABLE if the arena is
 * poisoned. */
int akv_ring_reserve(struct akv_arena *a, size_t len, int slot,
                     uint64_t seq, int db, int db_end, uint64_t *pos);
struct akv_rec *akv_ring_rec(struct akv_arena *a, uint64_t pos);
static inline char *akv_rec_payload(struct akv_rec *r)
{
    return (char *)(r + 1);
}
/* Commit point of the op owning the record; wakes the drainer. */
void akv_ring_commit(struct akv_arena *a, uint64_t pos);
/* The owner is done with the record (intents cleared). */
void akv_ring_done(struct akv_arena *a, uint64_t pos);
/* Outcome of the op that owns the record at pos, for repair: true when
 * committed; a record still being written by a dead owner is aborted. */
bool akv_ring_resolve(struct akv_arena *a, uint64_t pos, uint64_t seq);
/* Wait until every record ending at or before `end` is on disk as the
 * fsync policy demands (appendfsync always).  `slot` is the caller's
 * client slot, where it tells the drainer what it waits for. */
void akv_ring_wait_durable(struct akv_arena *a, int slot, uint64_t end);
/* Drainer side: wake exactly the workers whose wait h_ring_durable now
 * covers. */
void akv_ring_wake_durable(struct akv_arena *a);
/* Wake the drainer if it sleeps: a record was committed, the ring is
 * full, or the supervisor has news for it (file switch, stop). */
void akv_ring_kick(struct akv_arena *a);
/* The drainer sleeps on h_ring_kick (value `kick`, read before it last
 * looked for work) unless work_pending(arg) finds work after it has said
 * it sleeps. */
void akv_ring_drainer_sleep(struct akv_arena *a, uint32_t kick,
                            bool (*work_pending)(void *), void *arg,
                            int timeout_ms);
/* The tail or durable moved: wake writers waiting for room. */
void akv_ring_progress(struct akv_arena *a);
/* End position of the record at pos. */
uint64_t akv_ring_end(struct akv_arena *a, uint64_t pos);

/* futex helpers on words in the arena (process-shared). */
void akv_futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms);
void akv_futex_wake(_Atomic uint32_t *word);

#endif
