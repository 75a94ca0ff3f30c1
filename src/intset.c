/*
 * intset.c -- sorted arrays of integers of one width (see intset.h).
 *
 * Writers work on plain int64_t arrays (decode, change, encode), so the
 * packed form only needs reading, a binary search and a writer.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "intset.h"

unsigned akv_intset_width(const char *v)
{
    return (unsigned char)v[0];
}

size_t akv_intset_len(const char *v, size_t vlen)
{
    if (vlen < AKV_INTSET_HDR || akv_intset_width(v) == 0)
        return 0;
    return (vlen - AKV_INTSET_HDR) / akv_intset_width(v);
}

int64_t akv_intset_get(const char *v, size_t i)
{
    const char *p = v + AKV_INTSET_HDR;
    int16_t a;
    int32_t b;
    int64_t c;

    switch (akv_intset_width(v)) {
    case 2:
        memcpy(&a, p + i * 2, 2);
        return a;
    case 4:
        memcpy(&b, p + i * 4, 4);
        return b;
    default:
        memcpy(&c, p + i * 8, 8);
        return c;
    }
}

bool akv_intset_has(const char *v, size_t vlen, int64_t x)
{
    size_t lo = 0, hi = akv_intset_len(v, vlen);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = akv_intset_get(v, mid);
        if (m == x)
            return true;
        if (m < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void akv_intset_decode(const char *v, size_t vlen, int64_t *out)
{
    size_t n = akv_intset_len(v, vlen);

    for (size_t i = 0; i < n; i++)
        out[i] = akv_intset_get(v, i);
}

static unsigned width_of(int64_t x)
{
    if (x >= INT16_MIN && x <= INT16_MAX)
        return 2;
    if (x >= INT32_MIN && x <= INT32_MAX)
        return 4;
    return 8;
}

/* Members are ascending: the extremes decide the width. */
static unsigned width_for(const int64_t *m, size_t n, unsigned minw)
{
    unsigned w = minw ? minw : 2;

    if (n) {
        unsigned lo = width_of(m[0]), hi = width_of(m[n - 1]);
        if (lo > w)
            w = lo;
        if (hi > w)
            w = hi;
    }
    return w;
}

size_t akv_intset_bytes(const int64_t *m, size_t n, unsigned minw)
{
    return AKV_INTSET_HDR + n * width_for(m, n, minw);
}

void akv_intset_encode(char *dst, const int64_t *m, size_t n, unsigned minw)
{
    unsigned w = width_for(m, n, minw);
    char *p = dst + AKV_INTSET_HDR;

    memset(dst, 0, AKV_INTSET_HDR);
    dst[0] = (char)w;
    for (size_t i = 0; i < n; i++, p += w) {
        int16_t a = (int16_t)m[i];
        int32_t b = (int32_t)m[i];
        if (w == 2)
            memcpy(p, &a, 2);
        else if (w == 4)
            memcpy(p, &b, 4);
        else
            memcpy(p, &m[i], 8);
    }
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

size_t akv_int_sort_unique(int64_t *m, size_t n)
{
    size_t out = 0;

    if (n < 2)
        return n;
    qsort(m, n, sizeof(*m), cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (out == 0 || m[out - 1] != m[i])
            m[out++] = m[i];
    return out;
}
