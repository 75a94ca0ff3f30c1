/*
 * resp.c -- RESP request parser (multibulk and inline), with Redis 7's
 * protocol errors and limits.
 *
 * The parser keeps its place in the current command (pos, bulks left,
 * argument offsets) so a command that arrives in many reads is scanned
 * once.  Offsets rather than pointers are kept, so the caller may move or
 * grow its buffer between calls.  Like Redis it does not check the two
 * bytes after a bulk's payload, and an empty or negative multibulk count is
 * an empty command that is skipped.  Before AUTH, as in Redis 7, more
 * than 10 arguments or a bulk over 16384 bytes is a protocol error, so an
 * unauthenticated client cannot make its worker hold a large buffer.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "resp.h"
#include "util.h"

void akv_parser_init(struct akv_parser *p, int64_t max_bulk)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk = max_bulk;
    p->mbulk = -1;
    p->bulklen = -1;
}

void akv_parser_free(struct akv_parser *p)
{
    free(p->argo);
    free(p->argl);
    free(p->argv);
    free(p->scratch);
    memset(p, 0, sizeof(*p));
}

static int grow_args(struct akv_parser *p, int need)
{
    int cap = p->cap ? p->cap : 16;
    size_t *o, *l;
    const char **v;

    if (need <= p->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    o = realloc(p->argo, (size_t)cap * sizeof(*o));
    if (o)
        p->argo = o;
    l = realloc(p->argl, (size_t)cap * sizeof(*l));
    if (l)
        p->argl = l;
    v = realloc(p->argv, (size_t)cap * sizeof(*v));
    if (v)
        p->argv = v;
    if (!o || !l || !v)
        return -1;
    p->cap = cap;
    return 0;
}

static void reset_command(struct akv_parser *p)
{
    p->pos = 0;
    p->mbulk = -1;
    p->bulklen = -1;
    p->want = 0;
}

static int fail(struct akv_parser *p, const char *msg)
{
    p->err = msg;
    reset_command(p);
    return AKV_PARSE_ERROR;
}

static int finish(struct akv_parser *p, const char *buf, size_t used)
{
    for (int i = 0; i < p->argc; i++)
        p->argv[i] = buf + p->argo[i];
    p->used = used;
    reset_command(p);
    return AKV_PARSE_DONE;
}

static int parse_inline(struct akv_parser *p, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    size_t linelen;
    int n;

    if (!nl) {
        if (len > AKV_INLINE_MAX)
            return fail(p, "Protocol error: too big inline request");
        return AKV_PARSE_NEED;
    }
    linelen = (size_t)(nl - buf);
    if (linelen && buf[linelen - 1] == '\r')
        linelen--;
    if (p->scratchcap < linelen + linelen / 2 + 2) {
        size_t cap = linelen + linelen / 2 + 2;
        char *s = realloc(p->scratch, cap);
        if (!s)
            return fail(p, "Protocol error: too big inline request");
        p->scratch = s;
        p->scratchcap = cap;
    }
    if (grow_args(p, (int)(linelen / 2 + 2)) < 0)
        return fail(p, "Protocol error: too big inline request");
    n = akv_split_args(buf, linelen, (char **)p->argv, p->argl, p->cap,
                       p->scratch, p->scratchcap);
    if (n < 0)
        return fail(p, "Protocol error: unbalanced quotes in request");
    p->argc = n;
    p->used = (size_t)(nl - buf) + 1;
    reset_command(p);
    return n == 0 ? AKV_PARSE_EMPTY : AKV_PARSE_DONE;
}

/* Read "<c><number>\r" at buf[p->pos]; returns 1 and advances, 0 if the
 * line is incomplete, -1 if it is too long. */
static int read_line_number(struct akv_parser *p, const char *buf,
                            size_t len, long long *v, bool *ok)
{
    const char *start = buf + p->pos;
    size_t avail = len - p->pos;
    const char *cr;

    /* The common case first: one to nine digits without a leading zero,
     * then '\r' and one more byte.  Anything else takes the general path
     * below, which decides errors. */
    if (avail >= 4 && start[1] >= '1' && start[1] <= '9') {
        long long n = start[1] - '0';
        size_t i = 2;
        while (i < 10 && i < avail && start[i] >= '0' && start[i] <= '9')
            n = n * 10 + (start[i++] - '0');
        if (i + 1 < avail && start[i] == '\r') {
            *v = n;
            *ok = true;
            p->pos += i + 2;
            return 1;
        }
    }
    cr = memchr(start, '\r', avail);
    if (!cr)
        return avail > AKV_INLINE_MAX ? -1 : 0;
    if ((size_t)(cr - start) > avail - 2)
        return 0; /* need the byte after '\r' too */
    *ok = akv_str2ll(start + 1, (size_t)(cr - start - 1), v);
    p->pos = (size_t)(cr - buf) + 2;
    return 1;
}

static int parse_multibulk_header(struct akv_parser *p, const char *buf,
                                  size_t len)
{
    long long ll = 0;
    bool ok = false;
    int r = read_line_number(p, buf, len, &ll, &ok);

    if (r < 0)
        return fail(p, "Protocol error: too big mbulk count string");
    if (r == 0)
        return AKV_PARSE_NEED;
    if (!ok || ll > 2147483647LL)
        return fail(p, "Protocol error: invalid multibulk length");
    if (ll > AKV_UNAUTH_MAX_MBULK && p->unauth)
        return fail(p, "Protocol error: unauthenticated multibulk length");
    if (ll <= 0) {
        p->used = p->pos;
        p->argc = 0;
        reset_command(p);
        return AKV_PARSE_EMPTY;
    }
    p->mbulk = ll;
    p->argc = 0;
    return 1;
}

static int parse_bulk_header(struct akv_parser *p, const char *buf, size_t len)
{
    long long ll = 0;
    bool ok = false;
    int r;

    if (p->pos < len && buf[p->pos] != '$' &&
        memchr(buf + p->pos, '\r', len - p->pos)) {
        snprintf(p->errbuf, sizeof(p->errbuf),
                 "Protocol error: expected '$', got '%c'", buf[p->pos]);
        return fail(p, p->errbuf);
    }
    r = read_line_number(p, buf, len, &ll, &ok);
    if (r < 0)
        return fail(p, "Protocol error: too big bulk count string");
    if (r == 0)
        return AKV_PARSE_NEED;
    if (!ok || ll < 0 || ll > p->max_bulk)
        return fail(p, "Protocol error: invalid bulk length");
    if (ll > AKV_UNAUTH_MAX_BULK && p->unauth)
        return fail(p, "Protocol error: unauthenticated bulk length");
    p->bulklen = ll;
    return 1;
}

static int parse_multibulk(struct akv_parser *p, char *buf, size_t len)
{
    int r;

    if (p->mbulk < 0 && (r = parse_multibulk_header(p, buf, len)) != 1)
        return r;
    while (p->mbulk > 0) {
        if (p->bulklen < 0 && (r = parse_bulk_header(p, buf, len)) != 1)
            return r;
        if (len - p->pos < (size_t)p->bulklen + 2) {
            p->want = p->pos + (size_t)p->bulklen + 2;
            return AKV_PARSE_NEED;
        }
        if (p->argc == p->cap && grow_args(p, p->argc + 1) < 0)
            return fail(p, "Protocol error: invalid multibulk length");
        p->argo[p->argc] = p->pos;
        p->argl[p->argc] = (size_t)p->bulklen;
        p->argc++;
        buf[p->pos + (size_t)p->bulklen] = '\0';
        p->pos += (size_t)p->bulklen + 2;
        p->bulklen = -1;
        p->mbulk--;
    }
    p->want = 0;
    return finish(p, buf, p->pos);
}

int akv_parse(struct akv_parser *p, char *buf, size_t len)
{
    p->err = NULL;
    if (len == 0)
        return AKV_PARSE_NEED;
    if (p->mbulk >= 0 || buf[0] == '*') {
        if (p->mbulk < 0)
            p->pos = 0;
        return parse_multibulk(p, buf, len);
    }
    return parse_inline(p, buf, len);
}
