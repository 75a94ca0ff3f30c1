/*
 * ring.c -- the AOF ring in the arena: workers append, the supervisor
 * drains (aof.c).
 *
 * A worker reserves a record under h_ring_mutex (a few stores), writes its
 * payload while holding the stripe locks of its op, and publishes it with
 * one store, rc_state = COMMITTED -- which is also the op's commit point
 * (stripe.c), so the arena and the file can never disagree about whether
 * an op happened.  Records are appended under the stripe locks, so for any
 * key the log order is the apply order.
 *
 * Cursors (monotonic byte positions): tail <= durable <= written <= head.
 * The drainer writes records in order; a record that is still RESERVED
 * blocks it until its owner commits, or dies and a repair (or the
 * reaper's sweep) aborts it.  Space below tail is reused; a full ring
 * makes writers wait (back-pressure), nothing is dropped.
 *
 * Reservation crash safety: h_ring_head is stored last, so a reserver that
 * dies inside the mutex leaves the ring as it was.
 */
#include "build-config.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "lock.h"
#include "ring.h"
#include "util.h"

#define REC_ALIGN 8

void akv_futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};

    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val,
            timeout_ms >= 0 ? &ts : NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

void akv_futex_wake(_Atomic uint32_t *word)
{
    atomic_fetch_add(word, 1);
    futex_wake(word, INT_MAX);
}

/* Bump a futex word; wake its sleepers only if `sleepers` counts any.
 * Sleepers count themselves before their last check of the condition,
 * and the fences pair with theirs, so either they see the new state or
 * this sees them. */
static void futex_bump(_Atomic uint32_t *word, _Atomic uint32_t *sleepers)
{
    atomic_fetch_add(word, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(sleepers))
        futex_wake(word, INT_MAX);
}

static uint64_t rec_bytes(size_t len)
{
    return (sizeof(struct akv_rec) + len + REC_ALIGN - 1) &
           ~(uint64_t)(REC_ALIGN - 1);
}

uint64_t akv_ring_max_payload(struct akv_arena *a)
{
    return a->hdr->h_ring_size / 2 - sizeof(struct akv_rec);
}

struct akv_rec *akv_ring_rec(struct akv_arena *a, uint64_t pos)
{
    uint64_t off = pos % a->hdr->h_ring_size;

    akv_debug_assert(pos % REC_ALIGN == 0);
    akv_debug_assert(off + sizeof(struct akv_rec) <= a->hdr->h_ring_size);
    return (struct akv_rec *)(a->base + a->hdr->h_ring_off + off);
}

uint64_t akv_ring_end(struct akv_arena *a, uint64_t pos)
{
    return pos + akv_ring_rec(a, pos)->rc_total;
}

static int ring_lock(struct akv_arena *a)
{
    return akv_lock(a, AKV_LOCK_RING, 0, AKV_LOCK_SPIN);
}

static void ring_unlock(struct akv_arena *a)
{
    akv_unlock(a, AKV_LOCK_RING, 0);
}

/* Where a record of `need` bytes may start, seen from head: the filler
 * to put first (0 when it goes at head).
 *
 * Invariant (the ring's one rule about its end): every record, filler
 * included, starts where at least a record header fits before the end
 * of the ring.  Readers (the drainer, reclaim, repair) read a header at
 * every position they visit, so a header that crossed the end would be
 * read from, and a filler's written to, whatever follows the ring in the
 * arena (the first data page).  So a record goes at head only if it ends
 * exactly at the end or leaves room for another header after it;
 * otherwise a filler takes the rest, which the invariant makes at least
 * a header long. */
static uint64_t wrap_filler(struct akv_arena *a, uint64_t head, uint64_t need)
{
    uint64_t size = a->hdr->h_ring_size, off = head % size;
    uint64_t left = size - off;

    akv_debug_assert(left >= sizeof(struct akv_rec));
    if (need == left || need + sizeof(struct akv_rec) <= left)
        return 0;
    return left;
}

static void write_filler(struct akv_arena *a, uint64_t head, uint64_t bytes)
{
    struct akv_rec *f = akv_ring_rec(a, head);

    memset(f, 0, sizeof(*f));
    f->rc_total = bytes;
    atomic_store(&f->rc_done, 1);
    atomic_store(&f->rc_state, AKV_REC_SKIP);
}

int akv_ring_reserve(struct akv_arena *a, size_t len, int slot,
                     uint64_t seq, int db, int db_end, uint64_t *pos)
{
    struct akv_hdr *h = a->hdr;
    uint64_t need = rec_bytes(len), head, fill;
    struct akv_rec *r;

    if (ring_lock(a) < 0)
        return -ENOTRECOVERABLE;
    for (;;) {
        uint32_t progress = atomic_load(&h->h_ring_progress);
        if (akv_unlikely(atomic_load(&h->h_aof_write_err)) &&
            atomic_load(&h->h_aof_on)) {
            /* The AOF cannot be written: refuse rather than queue a
             * write that cannot become durable (aof.c, disk errors). */
            ring_unlock(a);
            return -EIO;
        }
        head = atomic_load(&h->h_ring_head);
        fill = wrap_filler(a, head, need);
        if (head + fill + need - atomic_load(&h->h_ring_tail) <=
            h->h_ring_size)
            break;
        if (!atomic_load(&h->h_aof_on)) {
            /* The AOF was switched off: nobody drains, nothing to keep. */
            atomic_store(&h->h_ring_written, head);
            atomic_store(&h->h_ring_durable, head);
            atomic_store(&h->h_ring_tail, head);
            continue;
        }
        /* Full: wait for the drainer without holding the mutex.  The
         * futex word was read before the check, so a move of the tail
         * since then makes the wait return at once. */
        ring_unlock(a);
        akv_ring_kick(a);
        atomic_fetch_add(&h->h_progress_waiters, 1);
        akv_futex_wait(&h->h_ring_progress, progress, 100);
        atomic_fetch_sub(&h->h_progress_waiters, 1);
        if (ring_lock(a) < 0)
            return -ENOTRECOVERABLE;
    }
    if (fill) {
        write_filler(a, head, fill);
        head += fill;
    }
    AKV_FAULT("ring-reserving");
    r = akv_ring_rec(a, head);
    r->rc_len = (uint32_t)len;
    r->rc_slot = (uint32_t)slot;
    r->rc_pid = atomic_load_explicit(&a->slots[slot].c_pid,
                                     memory_order_relaxed); /* ours */
    r->rc_db = (int16_t)db;
    r->rc_db_end = (int16_t)db_end;
    r->rc_seq = seq;
    r->rc_total = need;
    akv_debug_assert(head % h->h_ring_size + need <= h->h_ring_size);
    atomic_store(&r->rc_done, 0);
    atomic_store(&r->rc_state, AKV_REC_RESERVED);
    atomic_store(&h->h_ring_head, head + need);
    ring_unlock(a);
    *pos = head;
    return 0;
}

void akv_ring_commit(struct akv_arena *a, uint64_t pos)
{
    atomic_store_explicit(&akv_ring_rec(a, pos)->rc_state, AKV_REC_COMMITTED,
                          memory_order_release);
}

void akv_ring_done(struct akv_arena *a, uint64_t pos)
{
    atomic_store_explicit(&akv_ring_rec(a, pos)->rc_done, 1,
                          memory_order_release);
    if (a->hdr->h_cfg.appendfsync == AKV_FSYNC_ALWAYS)
        akv_ring_kick(a);
}

void akv_ring_kick(struct akv_arena *a)
{
    futex_bump(&a->hdr->h_ring_kick, &a->hdr->h_drainer_idle);
}

void akv_ring_drainer_sleep(struct akv_arena *a, uint32_t kick,
                            bool (*work_pending)(void *), void *arg,
                            int timeout_ms)
{
    struct akv_hdr *h = a->hdr;

    atomic_store(&h->h_drainer_idle, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!work_pending(arg))
        akv_futex_wait(&h->h_ring_kick, kick, timeout_ms);
    atomic_store(&h->h_drainer_idle, 0);
}

void akv_ring_progress(struct akv_arena *a)
{
    futex_bump(&a->hdr->h_ring_progress, &a->hdr->h_progress_waiters);
}

bool akv_ring_resolve(struct akv_arena *a, uint64_t pos, uint64_t seq)
{
    struct akv_rec *r = akv_ring_rec(a, pos);
    uint32_t st = AKV_REC_RESERVED;

    /* The drainer never reuses a record whose owner may still have an
     * intent pointing at it (see aof.c), so the record is still here. */
    if (r->rc_seq != seq)
        return false;
    if (atomic_compare_exchange_strong(&r->rc_state, &st, AKV_REC_ABORTED))
        return false;
    return st == AKV_REC_COMMITTED;
}

void akv_ring_wait_durable(struct akv_arena *a, int slot, uint64_t end)
{
    struct akv_hdr *h = a->hdr;
    struct akv_client_slot *cs = &a->slots[slot];

    if (atomic_load(&h->h_ring_durable) >= end)
        return;
    atomic_fetch_add(&h->h_durable_waiters, 1);
    atomic_store(&cs->c_durable_want, end);
    for (;;) {
        uint32_t v = atomic_load(&cs->c_durable_futex);
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load(&h->h_ring_durable) >= end ||
            !atomic_load(&h->h_aof_on))
            break;
        akv_ring_kick(a); /* in case the drainer sleeps */
        akv_futex_wait(&cs->c_durable_futex, v, 100);
    }
    atomic_store(&cs->c_durable_want, 0);
    atomic_fetch_sub(&h->h_durable_waiters, 1);
}

void akv_ring_wake_durable(struct akv_arena *a)
{
    struct akv_hdr *h = a->hdr;
    uint64_t durable;
    int hwm;

    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load(&h->h_durable_waiters))
        return;
    durable = atomic_load(&h->h_ring_durable);
    hwm = atomic_load(&h->h_slots_hwm);
    for (int i = 0; i < hwm; i++) {
        struct akv_client_slot *cs = &a->slots[i];
        uint64_t want = atomic_load(&cs->c_durable_want);
        if (want && want <= durable) {
            atomic_fetch_add(&cs->c_durable_futex, 1);
            futex_wake(&cs->c_durable_futex, 1);
        }
    }
}
