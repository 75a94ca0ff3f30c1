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
    static char bytes[70001];
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
