/*
 * test_intset.c -- unit tests for intset.c: widths, order, search, and
 * random sets checked against a plain sorted array.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intset.h"

static char buf[AKV_INTSET_HDR + 8 * 4096];

static size_t build(int64_t *m, size_t n, unsigned minw)
{
    size_t len;

    n = akv_int_sort_unique(m, n);
    len = akv_intset_bytes(m, n, minw);
    assert_true(len <= sizeof(buf));
    akv_intset_encode(buf, m, n, minw);
    return len;
}

static void test_widths(void **state)
{
    int64_t a[] = {3, -1, 2, 3};
    int64_t b[] = {32768, 1};
    int64_t c[] = {INT64_MIN, INT64_MAX, 0};
    size_t len;

    (void)state;
    len = build(a, 4, 0);
    assert_int_equal(akv_intset_width(buf), 2);
    assert_int_equal(akv_intset_len(buf, len), 3);
    assert_int_equal(akv_intset_get(buf, 0), -1);
    assert_int_equal(akv_intset_get(buf, 2), 3);
    len = build(b, 2, 0);
    assert_int_equal(akv_intset_width(buf), 4);
    assert_true(akv_intset_has(buf, len, 32768));
    assert_false(akv_intset_has(buf, len, 2));
    len = build(c, 3, 0);
    assert_int_equal(akv_intset_width(buf), 8);
    assert_int_equal(akv_intset_get(buf, 0), INT64_MIN);
    assert_int_equal(akv_intset_get(buf, 2), INT64_MAX);
    /* The width never narrows below the one asked for. */
    len = build(a, 3, 8);
    assert_int_equal(akv_intset_width(buf), 8);
    assert_int_equal(akv_intset_len(buf, len), 3);
    /* Empty. */
    len = build(a, 0, 0);
    assert_int_equal(akv_intset_len(buf, len), 0);
    assert_false(akv_intset_has(buf, len, 0));
}

static void test_random(void **state)
{
    static int64_t m[4096], out[4096];
    static const int64_t scale[] = {100, 40000, 3000000000LL, INT64_MAX};

    (void)state;
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(rand() % 4096), len, u;
        int64_t s = scale[round % 4];
        for (size_t i = 0; i < n; i++)
            m[i] = (int64_t)(((uint64_t)rand() << 32) ^ (uint64_t)rand()) %
                   s;
        len = build(m, n, 0);
        u = akv_intset_len(buf, len);
        akv_intset_decode(buf, len, out);
        for (size_t i = 0; i < u; i++) {
            assert_true(i == 0 || out[i - 1] < out[i]);
            assert_true(akv_intset_has(buf, len, out[i]));
            if (i && out[i] - out[i - 1] > 1)
                assert_false(akv_intset_has(buf, len, out[i] - 1));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
