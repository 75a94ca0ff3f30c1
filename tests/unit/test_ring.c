/*
 * test_ring.c -- unit tests for the AOF ring (src/ring.c) on a real arena
 * file: records of every length modulo the ring's alignment, wrapping the
 * ring many times, with the test itself acting as the drainer.
 *
 * Properties checked after every reservation and every drain:
 *   - every record (fillers included) starts where a whole record header
 *     fits before the end of the ring, and ends at or before that end;
 *   - the bytes that follow the ring in the arena (the first data page)
 *     are never written;
 *   - the drainer's walk from `written` to `head` meets every committed
 *     record once, in order, with its payload intact.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "clients.h"
#include "config.h"
#include "log.h"
#include "ring.h"

#define ARENA_SIZE (32ULL << 20)
#define CANARY_BYTES 4096
#define HDR sizeof(struct akv_rec)

struct ring_fixture {
    struct akv_arena a;
    char path[128];
    int slot;
    uint64_t seq;          /* last record reserved */
    uint64_t drained_seq;  /* last record the walk met */
    uint64_t wraps;
    unsigned char *canary; /* what follows the ring */
};

static struct ring_fixture rf;

static int ring_setup(void **state)
{
    struct akv_config cfg;
    const char *err = NULL;
    int r;

    memset(&rf, 0, sizeof(rf));
    akv_config_defaults(&cfg);
    cfg.arena_size = (int64_t)ARENA_SIZE;
    cfg.aof_ring_size = 1 << 20;
    snprintf(rf.path, sizeof(rf.path), "/dev/shm/akv-ring-unit-%d",
             (int)getpid());
    r = akv_arena_create(&rf.a, rf.path, ARENA_SIZE, &cfg, &err);
    if (r != 0)
        print_error("akv_arena_create: %s (%d)\n", err ? err : "?", r);
    assert_int_equal(r, 0);
    assert_int_equal(akv_arena_reserve_ring(&rf.a), 0);
    atomic_store(&rf.a.hdr->h_aof_on, 1);
    rf.slot = akv_slot_claim(&rf.a);
    assert_true(rf.slot >= 0);
    /* The first data page follows the ring; nothing has been allocated
     * yet, so the test owns its first bytes. */
    assert_int_equal(rf.a.hdr->h_pages_off,
                     rf.a.hdr->h_ring_off + rf.a.hdr->h_ring_size);
    rf.canary = (unsigned char *)rf.a.base + rf.a.hdr->h_pages_off;
    for (int i = 0; i < CANARY_BYTES; i++)
        rf.canary[i] = (unsigned char)(0xA5 ^ i);
    *state = &rf;
    return 0;
}

static int ring_teardown(void **state)
{
    (void)state;
    akv_slot_release(&rf.a, rf.slot);
    unlink(rf.path);
    akv_arena_detach(&rf.a);
    return 0;
}

static void assert_canary_intact(void)
{
    for (int i = 0; i < CANARY_BYTES; i++)
        if (rf.canary[i] != (unsigned char)(0xA5 ^ i))
            fail_msg("byte %d after the ring was overwritten", i);
}

static void assert_in_bounds(uint64_t pos, uint64_t total)
{
    uint64_t size = rf.a.hdr->h_ring_size, off = pos % size;

    if (off + HDR > size)
        fail_msg("record at ring offset %llu: its header crosses the end",
                 (unsigned long long)off);
    if (off + total > size)
        fail_msg("record at ring offset %llu (%llu bytes) crosses the end",
                 (unsigned long long)off, (unsigned long long)total);
}

static unsigned char payload_byte(uint64_t seq, size_t i)
{
    return (unsigned char)(seq * 131 + i * 7);
}

/* The test's drainer: walk [written, head), check each record, then make
 * all of it reusable. */
static void drain_all(void)
{
    struct akv_hdr *h = rf.a.hdr;
    uint64_t pos = atomic_load(&h->h_ring_written);
    uint64_t head = atomic_load(&h->h_ring_head);

    while (pos < head) {
        struct akv_rec *r;
        if ((pos % h->h_ring_size) + HDR > h->h_ring_size)
            fail_msg("walk reached a position with no room for a header");
        r = akv_ring_rec(&rf.a, pos);
        assert_in_bounds(pos, r->rc_total);
        assert_true(r->rc_total >= HDR);
        if (atomic_load(&r->rc_state) == AKV_REC_SKIP) {
            assert_int_equal((pos + r->rc_total) % h->h_ring_size, 0);
            rf.wraps++;
        } else {
            const unsigned char *p = (unsigned char *)akv_rec_payload(r);
            assert_int_equal(atomic_load(&r->rc_state), AKV_REC_COMMITTED);
            assert_int_equal(r->rc_seq, rf.drained_seq + 1);
            rf.drained_seq = r->rc_seq;
            for (uint32_t i = 0; i < r->rc_len; i++)
                if (p[i] != payload_byte(r->rc_seq, i))
                    fail_msg("record %llu: payload byte %u changed",
                             (unsigned long long)r->rc_seq, i);
        }
        pos += r->rc_total;
    }
    assert_int_equal(pos, head);
    atomic_store(&h->h_ring_written, head);
    atomic_store(&h->h_ring_durable, head);
    atomic_store(&h->h_ring_tail, head);
}

/* Reserve, fill and commit one record of `len` payload bytes, draining
 * first if it might not fit (the test has no drainer thread). */
static void append_record(size_t len)
{
    struct akv_hdr *h = rf.a.hdr;
    uint64_t pos, end;
    struct akv_rec *r;
    unsigned char *p;

    if (atomic_load(&h->h_ring_head) - atomic_load(&h->h_ring_tail) +
            2 * (len + 2 * HDR) > h->h_ring_size)
        drain_all();
    assert_int_equal(akv_ring_reserve(&rf.a, len, rf.slot, ++rf.seq, 0, -1,
                                      &pos), 0);
    r = akv_ring_rec(&rf.a, pos);
    assert_in_bounds(pos, r->rc_total);
    p = (unsigned char *)akv_rec_payload(r);
    for (size_t i = 0; i < len; i++)
        p[i] = payload_byte(rf.seq, i);
    akv_ring_commit(&rf.a, pos);
    akv_ring_done(&rf.a, pos);
    end = akv_ring_end(&rf.a, pos);
    assert_int_equal(end, atomic_load(&h->h_ring_head));
    /* The next record's start keeps the invariant too. */
    if (end % h->h_ring_size)
        assert_true(h->h_ring_size - end % h->h_ring_size >= HDR);
}

/* Bytes left before the ring's end at head. */
static uint64_t left_at_head(void)
{
    uint64_t size = rf.a.hdr->h_ring_size;

    return size - atomic_load(&rf.a.hdr->h_ring_head) % size;
}

/* Append records until head is exactly k bytes before the ring's end,
 * or, when k leaves no room for a header, as close as records can go
 * (the last one must then wrap). */
static void bring_head_to_gap(uint64_t k)
{
    uint64_t quarter = rf.a.hdr->h_ring_size / 4;

    for (;;) {
        uint64_t left = left_at_head();
        if (left > k + quarter)
            append_record(quarter - HDR);
        else if (left < k + HDR)
            append_record(left - HDR); /* exactly to the end */
        else {
            append_record(left - k - HDR);
            return;
        }
    }
}

/* Random lengths, every residue modulo the alignment, many wraps. */
static void test_ring_wraps_random_lengths(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;

    (void)state;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* mostly small records, as SETs make; now and then a large one */
        size_t len = (x >> 8) % 16 == 0 ? (x >> 16) % 60000
                                         : (x >> 16) % 400;
        append_record(len);
        if ((x >> 40) % 3 == 0)
            drain_all();
    }
    drain_all();
    assert_true(rf.wraps >= 50);
    assert_canary_intact();
}

/* Directed: bring head to exactly k bytes before the end, for every k up
 * to a few headers, then append a record of each length residue.  The old
 * ring wrote a filler header into the k < header bytes left there. */
static void test_ring_wraps_every_gap(void **state)
{
    (void)state;
    for (uint64_t k = 0; k <= 3 * HDR; k += 8) {
        for (size_t tail_len = 0; tail_len < 8 + HDR; tail_len++) {
            bring_head_to_gap(k);
            append_record(tail_len);
            drain_all();
            assert_canary_intact();
        }
    }
    assert_true(rf.wraps > 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ring_setup, ring_teardown)
    const struct CMUnitTest tests[] = {
        T(test_ring_wraps_random_lengths),
        T(test_ring_wraps_every_gap),
    };
#undef T

    if (!getenv("AKV_TEST_VERBOSE"))
        akv_log_set_level(AKV_LOG_NOTHING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
