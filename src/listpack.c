/*
 * listpack.c -- the packed encoding of small hashes (see listpack.h).
 *
 * Pure byte-string code: no arena, no locks, no allocation, so it is unit
 * testable and safe on any buffer.  Readers bound every length by the end
 * of the string, so a malformed string ends an iteration instead of
 * reading past it.
 */
#include "build-config.h"

#include <string.h>

#include "listpack.h"

static size_t varint_size(size_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static char *varint_put(char *p, size_t v)
{
    while (v >= 0x80) {
        *p++ = (char)(0x80 | (v & 0x7f));
        v >>= 7;
    }
    *p++ = (char)v;
    return p;
}

/* Read a varint at *pp (bounded by end); false if truncated or too long. */
static bool varint_get(const char **pp, const char *end, size_t *out)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t v = 0;
    unsigned shift = 0;

    while ((const char *)p < end && shift < 63) {
        v |= (size_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80)) {
            *pp = (const char *)p;
            *out = v;
            return true;
        }
        shift += 7;
    }
    return false;
}

uint32_t akv_lp_count(const char *lp, size_t len)
{
    uint32_t n;

    if (len < AKV_LP_HDR)
        return 0;
    memcpy(&n, lp, sizeof(n));
    return n;
}

void akv_lp_iter_init(struct akv_lp_iter *it, const char *lp, size_t len)
{
    it->p = len < AKV_LP_HDR ? lp + len : lp + AKV_LP_HDR;
    it->end = lp + len;
}

bool akv_lp_next(struct akv_lp_iter *it, struct akv_lp_pair *out)
{
    const char *p = it->p;

    if (p >= it->end || !varint_get(&p, it->end, &out->flen) ||
        out->flen > (size_t)(it->end - p))
        return false;
    out->f = p;
    p += out->flen;
    if (!varint_get(&p, it->end, &out->vlen) ||
        out->vlen > (size_t)(it->end - p))
        return false;
    out->v = p;
    it->p = p + out->vlen;
    return true;
}

bool akv_lp_find(const char *lp, size_t len, const char *f, size_t flen,
                 struct akv_lp_pair *out)
{
    struct akv_lp_iter it;

    akv_lp_iter_init(&it, lp, len);
    while (akv_lp_next(&it, out))
        if (out->flen == flen && memcmp(out->f, f, flen) == 0)
            return true;
    return false;
}

bool akv_lp_locate(const char *lp, size_t len, const char *f, size_t flen,
                   struct akv_lp_pair *out, size_t *start, size_t *end)
{
    struct akv_lp_iter it;
    const char *at;

    akv_lp_iter_init(&it, lp, len);
    for (at = it.p; akv_lp_next(&it, out); at = it.p)
        if (out->flen == flen && memcmp(out->f, f, flen) == 0) {
            *start = (size_t)(at - lp);
            *end = (size_t)(it.p - lp);
            return true;
        }
    return false;
}

size_t akv_lp_write_replaced(char *dst, const char *lp, size_t len,
                             size_t start, size_t end, const char *f,
                             size_t flen, const char *v, size_t vlen)
{
    uint32_t count = akv_lp_count(lp, len) + (start == end ? 1 : 0);
    char *w;

    memcpy(dst, lp, start);
    memcpy(dst, &count, sizeof(count));
    w = varint_put(dst + start, flen);
    memcpy(w, f, flen);
    w = varint_put(w + flen, vlen);
    memcpy(w, v, vlen);
    w += vlen;
    memcpy(w, lp + end, len - end);
    return (size_t)(w - dst) + (len - end);
}

size_t akv_lp_pair_size(size_t flen, size_t vlen)
{
    return varint_size(flen) + flen + varint_size(vlen) + vlen;
}

size_t akv_lp_size(const struct akv_lp_pair *p, size_t n)
{
    size_t total = AKV_LP_HDR;

    for (size_t i = 0; i < n; i++)
        total += akv_lp_pair_size(p[i].flen, p[i].vlen);
    return total;
}

size_t akv_lp_write(char *dst, const struct akv_lp_pair *p, size_t n)
{
    uint32_t count = (uint32_t)n;
    char *w = dst + AKV_LP_HDR;

    memcpy(dst, &count, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        w = varint_put(w, p[i].flen);
        memcpy(w, p[i].f, p[i].flen);
        w += p[i].flen;
        w = varint_put(w, p[i].vlen);
        memcpy(w, p[i].v, p[i].vlen);
        w += p[i].vlen;
    }
    return (size_t)(w - dst);
}

bool akv_lp_valid(const char *lp, size_t len)
{
    struct akv_lp_iter it;
    struct akv_lp_pair pr;
    uint32_t n = 0;

    if (len < AKV_LP_HDR)
        return false;
    akv_lp_iter_init(&it, lp, len);
    while (akv_lp_next(&it, &pr))
        n++;
    return it.p == it.end && n == akv_lp_count(lp, len);
}
