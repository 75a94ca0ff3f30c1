/*
 * reply.c -- RESP2/RESP3 encoder into a per-connection output buffer.
 *
 * Owns the wire format of every reply.  The buffer is reused for the life
 * of the connection; it grows for large replies only.  Deferred aggregate
 * lengths reserve a fixed-width slot that is patched (and closed up) once
 * the count is known, as SCAN and KEYS need.
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util.h"

#define DEFER_SLOT 24

void akv_reply_init(struct akv_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->resp = 2;
}

void akv_reply_free(struct akv_reply *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

char *akv_reply_reserve(struct akv_reply *r, size_t n)
{
    static char sink[256];

    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        char *b;
        while (cap < r->len + n)
            cap *= 2;
        b = realloc(r->buf, cap);
        if (!b) {
            r->oom = true;
            return n <= sizeof(sink) ? sink : NULL;
        }
        r->buf = b;
        r->cap = cap;
    }
    return r->buf + r->len;
}

void akv_reply_raw(struct akv_reply *r, const void *p, size_t n)
{
    char *dst = akv_reply_reserve(r, n);
    if (!dst || r->oom)
        return;
    memcpy(dst, p, n);
    r->len += n;
}

/* "<c><v>\r\n" into buf (32 bytes); returns its length. */
static size_t number_line(char *buf, char c, long long v)
{
    int n;

    buf[0] = c;
    n = 1 + akv_ll2str(buf + 1, v);
    buf[n++] = '\r';
    buf[n++] = '\n';
    return (size_t)n;
}

static void prefixed_number(struct akv_reply *r, char c, long long v)
{
    char buf[32];

    akv_reply_raw(r, buf, number_line(buf, c, v));
}

void akv_reply_ok(struct akv_reply *r)
{
    akv_reply_raw(r, "+OK\r\n", 5);
}

void akv_reply_status(struct akv_reply *r, const char *s)
{
    akv_reply_raw(r, "+", 1);
    akv_reply_raw(r, s, strlen(s));
    akv_reply_raw(r, "\r\n", 2);
}

void akv_reply_error(struct akv_reply *r, const char *msg)
{
    size_t n = strlen(msg);
    char *dst = akv_reply_reserve(r, n + 3);

    if (!dst || r->oom)
        return;
    dst[0] = '-';
    for (size_t i = 0; i < n; i++)
        dst[i + 1] = (msg[i] == '\r' || msg[i] == '\n') ? ' ' : msg[i];
    dst[n + 1] = '\r';
    dst[n + 2] = '\n';
    r->len += n + 3;
}

void akv_reply_errorf(struct akv_reply *r, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    akv_reply_error(r, buf);
}

void akv_reply_int(struct akv_reply *r, long long v)
{
    prefixed_number(r, ':', v);
}

void akv_reply_bulk_header(struct akv_reply *r, size_t n)
{
    prefixed_number(r, '$', (long long)n);
}

void akv_reply_bulk(struct akv_reply *r, const void *p, size_t n)
{
    akv_reply_bulk_header(r, n);
    akv_reply_raw(r, p, n);
    akv_reply_raw(r, "\r\n", 2);
}

void akv_reply_bulk_cstr(struct akv_reply *r, const char *s)
{
    akv_reply_bulk(r, s, strlen(s));
}

void akv_reply_bulk_ll(struct akv_reply *r, long long v)
{
    char buf[24];
    int n = akv_ll2str(buf, v);
    akv_reply_bulk(r, buf, (size_t)n);
}

void akv_reply_null(struct akv_reply *r)
{
    if (r->resp >= 3)
        akv_reply_raw(r, "_\r\n", 3);
    else
        akv_reply_raw(r, "$-1\r\n", 5);
}

void akv_reply_null_array(struct akv_reply *r)
{
    if (r->resp >= 3)
        akv_reply_raw(r, "_\r\n", 3);
    else
        akv_reply_raw(r, "*-1\r\n", 5);
}

void akv_reply_array(struct akv_reply *r, long n)
{
    prefixed_number(r, '*', n);
}

void akv_reply_map(struct akv_reply *r, long n)
{
    if (r->resp >= 3)
        prefixed_number(r, '%', n);
    else
        prefixed_number(r, '*', n * 2);
}

void akv_reply_set(struct akv_reply *r, long n)
{
    prefixed_number(r, r->resp >= 3 ? '~' : '*', n);
}

void akv_reply_double(struct akv_reply *r, double d)
{
    char buf[64];
    int n = akv_d2str(buf, sizeof(buf), d);

    if (r->resp >= 3) {
        akv_reply_raw(r, ",", 1);
        akv_reply_raw(r, buf, (size_t)n);
        akv_reply_raw(r, "\r\n", 2);
    } else {
        akv_reply_bulk(r, buf, (size_t)n);
    }
}

void akv_reply_bool(struct akv_reply *r, bool b)
{
    if (r->resp >= 3)
        akv_reply_raw(r, b ? "#t\r\n" : "#f\r\n", 4);
    else
        akv_reply_raw(r, b ? ":1\r\n" : ":0\r\n", 4);
}

void akv_reply_verbatim(struct akv_reply *r, const char *p, size_t n,
                        const char *ext)
{
    if (r->resp < 3) {
        akv_reply_bulk(r, p, n);
        return;
    }
    prefixed_number(r, '=', (long long)(n + 4));
    akv_reply_raw(r, ext, 3);
    akv_reply_raw(r, ":", 1);
    akv_reply_raw(r, p, n);
    akv_reply_raw(r, "\r\n", 2);
}

size_t akv_reply_defer(struct akv_reply *r)
{
    size_t at = r->len;
    char *dst = akv_reply_reserve(r, DEFER_SLOT);

    if (!dst || r->oom)
        return at;
    r->len += DEFER_SLOT;
    return at;
}

/* Write n <= DEFER_SLOT bytes into the slot at `at` and close the gap. */
static void fill_slot(struct akv_reply *r, size_t at, const char *p, size_t n)
{
    if (r->oom)
        return;
    memcpy(r->buf + at, p, n);
    memmove(r->buf + at + n, r->buf + at + DEFER_SLOT,
            r->len - at - DEFER_SLOT);
    r->len -= DEFER_SLOT - n;
}

static void patch(struct akv_reply *r, size_t at, char c, long long v)
{
    char buf[32];

    fill_slot(r, at, buf, number_line(buf, c, v));
}

void akv_reply_set_bulk(struct akv_reply *r, size_t at, const char *p,
                        size_t n)
{
    char buf[DEFER_SLOT];
    int h;

    if (n > 16)
        n = 16;
    h = snprintf(buf, sizeof(buf), "$%zu\r\n", n);
    memcpy(buf + h, p, n);
    memcpy(buf + h + n, "\r\n", 2);
    fill_slot(r, at, buf, (size_t)h + n + 2);
}

void akv_reply_set_array_len(struct akv_reply *r, size_t at, long n)
{
    patch(r, at, '*', n);
}

void akv_reply_set_map_len(struct akv_reply *r, size_t at, long n)
{
    if (r->resp >= 3)
        patch(r, at, '%', n);
    else
        patch(r, at, '*', (long long)n * 2);
}
