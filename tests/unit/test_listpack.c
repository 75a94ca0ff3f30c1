/*
 * test_listpack.c -- unit tests for listpack.c: round trips of pairs of
 * every length class, lookups, and malformed strings that must end an
 * iteration instead of reading past the end.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "listpack.h"

static char store[1 << 20];

static void test_round_trip(void **state)
{
    static const size_t lens[] = {0, 1, 127, 128, 16383, 16384, 70000};
    struct akv_lp_pair p[7 * 2], q;
    struct akv_lp_iter it;
    static char bytes[70000 + 8];
    char *lp = malloc(1 << 20);
    size_t n = 0, len;

    (void)state;
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (char)(i * 7);
    for (size_t i = 0; i < 7; i++) {
        p[n].f = bytes + i;
        p[n].flen = lens[i];
        p[n].v = bytes;
        p[n++].vlen = lens[6 - i];
    }
    len = akv_lp_size(p, n);
    assert_true(len <= (1u << 20));
    assert_int_equal(akv_lp_write(lp, p, n), len);
    assert_true(akv_lp_valid(lp, len));
    assert_int_equal(akv_lp_count(lp, len), n);
    akv_lp_iter_init(&it, lp, len);
    for (size_t i = 0; i < n; i++) {
        assert_true(akv_lp_next(&it, &q));
        assert_int_equal(q.flen, p[i].flen);
        assert_int_equal(q.vlen, p[i].vlen);
        assert_memory_equal(q.f, p[i].f, q.flen);
        assert_memory_equal(q.v, p[i].v, q.vlen);
    }
    assert_false(akv_lp_next(&it, &q));
    assert_true(akv_lp_find(lp, len, bytes + 3, 128, &q));
    assert_int_equal(q.vlen, 128);
    assert_false(akv_lp_find(lp, len, bytes + 3, 127, &q));
    free(lp);
}

static void test_malformed(void **state)
{
    struct akv_lp_pair p[2] = {{"field", "value", 5, 5}, {"", "", 0, 0}};
    struct akv_lp_iter it;
    struct akv_lp_pair q;
    size_t len = akv_lp_write(store, p, 2);

    (void)state;
    assert_true(akv_lp_valid(store, len));
    assert_true(akv_lp_find(store, len, "", 0, &q));
    for (size_t cut = 0; cut < len; cut++) {
        size_t seen = 0;
        assert_false(akv_lp_valid(store, cut));
        akv_lp_iter_init(&it, store, cut);
        while (akv_lp_next(&it, &q)) {
            assert_true(q.f >= store && q.f + q.flen <= store + cut);
            assert_true(q.v >= store && q.v + q.vlen <= store + cut);
            seen++;
        }
        assert_true(seen <= 2);
    }
    store[AKV_LP_HDR] = (char)0xff; /* a field length running off the end */
    assert_false(akv_lp_valid(store, len));
    akv_lp_iter_init(&it, store, len);
    assert_false(akv_lp_next(&it, &q));
    assert_int_equal(akv_lp_count("", 0), 0);
}

/* Replacing one pair in place (or appending one) gives the same bytes as
 * writing the whole list again, whatever the lengths' varint sizes. */
static void test_replace_one(void **state)
{
    static const size_t lens[] = {0, 3, 127, 128, 200, 16384};
    static char bytes[16384];
    static char fields[4][2] = {"a", "b", "c", "d"};
    static char want[1 << 18], got[1 << 18];
    struct akv_lp_pair p[4], q[4], found;

    (void)state;
    memset(bytes, 'x', sizeof(bytes));
    for (size_t vi = 0; vi < 6; vi++) {
        for (size_t i = 0; i < 4; i++) {
            p[i].f = fields[i];
            p[i].flen = 1;
            p[i].v = bytes;
            p[i].vlen = lens[(vi + i) % 6];
        }
        size_t len = akv_lp_write(store, p, 3); /* a, b, c */
        for (size_t target = 0; target < 4; target++) {
            for (size_t nl = 0; nl < 6; nl++) {
                size_t start = len, end = len, n = 3, wlen, glen;
                bool hit = akv_lp_locate(store, len, fields[target], 1,
                                         &found, &start, &end);
                assert_int_equal(hit, target < 3);
                memcpy(q, p, sizeof(q));
                if (!hit)
                    n = 4;
                q[target].vlen = lens[nl];
                wlen = akv_lp_write(want, q, n);
                glen = akv_lp_write_replaced(got, store, len, start, end,
                                             fields[target], 1, bytes,
                                             lens[nl]);
                assert_int_equal(glen, wlen);
                assert_int_equal(glen, len - (end - start) +
                                           akv_lp_pair_size(1, lens[nl]));
                assert_memory_equal(got, want, wlen);
                assert_true(akv_lp_valid(got, glen));
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_replace_one),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
