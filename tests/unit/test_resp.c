/*
 * test_resp.c -- unit tests for resp.c, the RESP request parser: whole and
 * byte-by-byte multibulk commands, bulks split across reads and the buffer
 * size they ask for, binary arguments, in-place NUL termination, pipelining,
 * empty commands, inline commands with quoting, and every protocol error
 * with Redis's exact message.  No I/O: buffers are fed directly.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp.h"

#define MAX_BULK (512LL * 1024 * 1024)

/* ---------------------------------------------------------------- helpers */

/* A writable copy of n bytes of text (the parser writes NULs into it),
 * followed by `slack` guard bytes set to 0xAA. */
static char *wbuf(const char *text, size_t n, size_t slack)
{
    char *b = malloc(n + slack + 1);

    assert_non_null(b);
    memcpy(b, text, n);
    memset(b + n, 0xAA, slack + 1);
    return b;
}

/* Parse all of text (n bytes) in one call; returns the result. */
static int parse_all(struct akv_parser *p, char **bufp, const char *text,
                     size_t n)
{
    *bufp = wbuf(text, n, 0);
    return akv_parse(p, *bufp, n);
}

static void assert_arg(const struct akv_parser *p, int i, const char *want,
                       size_t wlen)
{
    assert_true(i < p->argc);
    assert_int_equal(p->argl[i], wlen);
    assert_memory_equal(p->argv[i], want, wlen);
    /* NUL-terminated right after the argument. */
    assert_int_equal(p->argv[i][wlen], '\0');
}

#define ARG(p, i, lit) assert_arg((p), (i), (lit), sizeof(lit) - 1)

/* Expect text to fail with msg; the whole text is given in one call. */
static void expect_error(int64_t max_bulk, const char *text, size_t n,
                         const char *msg)
{
    struct akv_parser p;
    char *b;

    akv_parser_init(&p, max_bulk);
    assert_int_equal(parse_all(&p, &b, text, n), AKV_PARSE_ERROR);
    assert_non_null(p.err);
    assert_string_equal(p.err, msg);
    free(b);
    akv_parser_free(&p);
}

#define EXPECT_ERROR(text, msg)                                             \
    expect_error(MAX_BULK, (text), sizeof(text) - 1, (msg))

/* ------------------------------------------------------------- multibulk */

static void test_whole_multibulk(void **state)
{
    static const char cmd[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, cmd, sizeof(cmd) - 1),
                     AKV_PARSE_DONE);
    assert_null(p.err);
    assert_int_equal(p.argc, 3);
    ARG(&p, 0, "SET");
    ARG(&p, 1, "key");
    ARG(&p, 2, "value");
    assert_int_equal(p.used, sizeof(cmd) - 1);
    assert_int_equal(p.want, 0);
    /* Arguments point into the caller's buffer, not into copies. */
    assert_ptr_equal(p.argv[0], b + 8);
    assert_ptr_equal(p.argv[2], b + 26);
    free(b);
    akv_parser_free(&p);
}

/* Bytes arrive one at a time into the same buffer; bytes beyond `len` are
 * never touched. */
static void test_byte_by_byte(void **state)
{
    static const char cmd[] = "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n"
                              "$5\r\nva\0ue\r\n$0\r\n\r\n";
    size_t n = sizeof(cmd) - 1;
    char *b = malloc(n + 16);
    struct akv_parser p;
    size_t lastpos = 0;

    (void)state;
    assert_non_null(b);
    memset(b, 0xAA, n + 16);
    akv_parser_init(&p, MAX_BULK);
    for (size_t len = 1; len <= n; len++) {
        int r;

        b[len - 1] = cmd[len - 1];
        r = akv_parse(&p, b, len);
        for (size_t k = len; k < n + 16; k++)
            assert_int_equal((unsigned char)b[k], 0xAA);
        if (len < n) {
            assert_int_equal(r, AKV_PARSE_NEED);
            /* The parser keeps its place: it never goes back. */
            assert_true(p.pos >= lastpos);
            lastpos = p.pos;
        } else {
            assert_int_equal(r, AKV_PARSE_DONE);
        }
    }
    assert_int_equal(p.argc, 4);
    ARG(&p, 0, "SET");
    ARG(&p, 1, "key");
    ARG(&p, 2, "va\0ue");
    ARG(&p, 3, "");
    assert_int_equal(p.used, n);
    free(b);
    akv_parser_free(&p);
}

/* The parser remembers offsets, so the buffer may move between calls. */
static void test_buffer_moves(void **state)
{
    static const char cmd[] = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
    size_t n = sizeof(cmd) - 1;
    struct akv_parser p;
    char *b1 = wbuf(cmd, 20, 0), *b2;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b1, 20), AKV_PARSE_NEED);
    /* Past the first bulk and the header of the second. */
    assert_int_equal(p.pos, 19);
    b2 = wbuf(b1, 20, n - 20);
    memcpy(b2 + 20, cmd + 20, n - 20);
    memset(b1, 'X', 20);
    assert_int_equal(akv_parse(&p, b2, n), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 2);
    ARG(&p, 0, "ECHO");
    ARG(&p, 1, "hello world");
    assert_true(p.argv[0] >= b2 && p.argv[0] < b2 + n);
    free(b1);
    free(b2);
    akv_parser_free(&p);
}

static void test_bulk_split_and_want(void **state)
{
    const size_t big = 200000;
    char head[64];
    int hl = snprintf(head, sizeof(head), "*2\r\n$3\r\nSET\r\n$%zu\r\n", big);
    size_t n = (size_t)hl + big + 2;
    char *b = malloc(n + 1);
    struct akv_parser p;

    (void)state;
    assert_non_null(b);
    memcpy(b, head, (size_t)hl);
    for (size_t i = 0; i < big; i++)
        b[hl + i] = (char)('a' + i % 26);
    memcpy(b + hl + big, "\r\n", 2);

    akv_parser_init(&p, MAX_BULK);
    /* Only the header: the parser says how big the buffer must get. */
    assert_int_equal(akv_parse(&p, b, (size_t)hl), AKV_PARSE_NEED);
    assert_int_equal(p.want, n);
    /* Part of the payload. */
    assert_int_equal(akv_parse(&p, b, (size_t)hl + 1000), AKV_PARSE_NEED);
    assert_int_equal(p.want, n);
    /* All of the payload but not the CRLF after it. */
    assert_int_equal(akv_parse(&p, b, n - 2), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b, n - 1), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 2);
    ARG(&p, 0, "SET");
    assert_int_equal(p.argl[1], big);
    assert_int_equal(p.argv[1][0], 'a');
    assert_int_equal(p.argv[1][big - 1], (char)('a' + (big - 1) % 26));
    assert_int_equal(p.argv[1][big], '\0');
    assert_int_equal(p.used, n);
    assert_int_equal(p.want, 0);
    free(b);
    akv_parser_free(&p);
}

/* A small bulk split in the middle, then finished by a second call. */
static void test_small_bulk_split(void **state)
{
    static const char cmd[] = "*2\r\n$3\r\nfoo\r\n$10\r\n0123456789\r\n";
    size_t n = sizeof(cmd) - 1;
    char *b = wbuf(cmd, n, 0);
    struct akv_parser p;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b, 24), AKV_PARSE_NEED);
    assert_int_equal(p.want, 18 + 10 + 2);
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_DONE);
    ARG(&p, 0, "foo");
    ARG(&p, 1, "0123456789");
    free(b);
    akv_parser_free(&p);
}

static void test_binary_args(void **state)
{
    static const char cmd[] = "*3\r\n$3\r\na\0b\r\n$4\r\n\r\n\r\n\r\n"
                              "$6\r\n\0\0\r\n\0\0\r\n";
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, cmd, sizeof(cmd) - 1),
                     AKV_PARSE_DONE);
    assert_int_equal(p.argc, 3);
    ARG(&p, 0, "a\0b");
    ARG(&p, 1, "\r\n\r\n");
    ARG(&p, 2, "\0\0\r\n\0\0");
    assert_int_equal(p.used, sizeof(cmd) - 1);
    free(b);
    akv_parser_free(&p);
}

/* Every argument ends with a NUL written over the CR after it, so it can
 * be used as a C string. */
static void test_nul_terminated_in_place(void **state)
{
    static const char cmd[] = "*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$2\r\n42\r\n";
    size_t n = sizeof(cmd) - 1;
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, cmd, n), AKV_PARSE_DONE);
    assert_string_equal(p.argv[0], "GET");
    assert_string_equal(p.argv[1], "k");
    assert_string_equal(p.argv[2], "42");
    assert_int_equal(b[11], '\0'); /* was the CR after "GET" */
    assert_int_equal(b[12], '\n');
    assert_int_equal(b[n - 2], '\0');
    assert_int_equal(strtol(p.argv[2], NULL, 10), 42);
    free(b);
    akv_parser_free(&p);
}

static void test_pipelined(void **state)
{
    static const char cmds[] = "*1\r\n$4\r\nPING\r\n"
                               "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
                               "PING\r\n"
                               "*1\r\n$4\r\nQUIT\r\n";
    size_t n = sizeof(cmds) - 1, off = 0;
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    b = wbuf(cmds, n, 0);

    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    assert_int_equal(p.used, 14);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "PING");
    off += p.used;

    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    assert_int_equal(p.used, 22);
    assert_int_equal(p.argc, 2);
    ARG(&p, 0, "ECHO");
    ARG(&p, 1, "hi");
    off += p.used;

    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    assert_int_equal(p.used, 6);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "PING");
    off += p.used;

    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "QUIT");
    off += p.used;
    assert_int_equal(off, n);

    assert_int_equal(akv_parse(&p, b + off, 0), AKV_PARSE_NEED);
    free(b);
    akv_parser_free(&p);
}

/* The second command of a pipeline is incomplete: the first is DONE and
 * the rest is parsed once it arrives. */
static void test_pipelined_partial_tail(void **state)
{
    static const char cmds[] = "*1\r\n$4\r\nPING\r\n"
                               "*2\r\n$3\r\nGET\r\n$1\r\nx\r\n";
    size_t n = sizeof(cmds) - 1;
    struct akv_parser p;
    char *b = wbuf(cmds, n, 0);

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b, 20), AKV_PARSE_DONE);
    assert_int_equal(p.used, 14);
    assert_int_equal(akv_parse(&p, b + 14, 6), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b + 14, n - 14 - 3), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b + 14, n - 14), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 2);
    ARG(&p, 0, "GET");
    ARG(&p, 1, "x");
    assert_int_equal(p.used, n - 14);
    free(b);
    akv_parser_free(&p);
}

/* Parse at b+off, expect an empty command of `used` bytes; returns the
 * offset after it. */
static size_t expect_empty(struct akv_parser *p, char *b, size_t n,
                           size_t off, size_t used)
{
    assert_int_equal(akv_parse(p, b + off, n - off), AKV_PARSE_EMPTY);
    assert_int_equal(p->used, used);
    return off + used;
}

static void test_empty_multibulk(void **state)
{
    static const char cmds[] = "*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n";
    size_t n = sizeof(cmds) - 1, off = 0;
    struct akv_parser p;
    char *b = wbuf(cmds, n, 0);

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    off = expect_empty(&p, b, n, off, 4);
    off = expect_empty(&p, b, n, off, 5);
    off = expect_empty(&p, b, n, off, 5);
    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "PING");
    assert_int_equal(off + p.used, n);

    /* "*0" without its LF yet is incomplete, not empty. */
    memcpy(b, "*0\r", 3);
    assert_int_equal(akv_parse(&p, b, 3), AKV_PARSE_NEED);
    b[3] = '\n';
    assert_int_equal(akv_parse(&p, b, 4), AKV_PARSE_EMPTY);
    assert_int_equal(p.used, 4);
    free(b);
    akv_parser_free(&p);
}

/* ---------------------------------------------------------------- inline */

static void test_inline_basic(void **state)
{
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);

    assert_int_equal(parse_all(&p, &b, "SET a b\r\n", 9), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 3);
    ARG(&p, 0, "SET");
    ARG(&p, 1, "a");
    ARG(&p, 2, "b");
    assert_int_equal(p.used, 9);
    free(b);

    assert_int_equal(parse_all(&p, &b, "PING\n", 5), AKV_PARSE_DONE);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "PING");
    assert_int_equal(p.used, 5);
    free(b);

    /* Runs of blanks and tabs separate arguments. */
    assert_int_equal(parse_all(&p, &b, "  GET \t key  \r\n", 15),
                     AKV_PARSE_DONE);
    assert_int_equal(p.argc, 2);
    ARG(&p, 0, "GET");
    ARG(&p, 1, "key");
    assert_int_equal(p.used, 15);
    free(b);

    /* Without a newline the line is not complete yet. */
    assert_int_equal(parse_all(&p, &b, "SET a b", 7), AKV_PARSE_NEED);
    free(b);
    assert_int_equal(parse_all(&p, &b, "SET a b\r", 8), AKV_PARSE_NEED);
    free(b);
    akv_parser_free(&p);
}

static void test_inline_quotes(void **state)
{
    static const char line[] =
        "SET \"k\\x41\\x00z\" 'it\\'s \"x\"' \"a\\tb\\n\\\"q\\\\\" \"\" ''\r\n";
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, line, sizeof(line) - 1),
                     AKV_PARSE_DONE);
    assert_int_equal(p.argc, 6);
    ARG(&p, 0, "SET");
    ARG(&p, 1, "kA\0z");
    ARG(&p, 2, "it's \"x\"");
    ARG(&p, 3, "a\tb\n\"q\\");
    ARG(&p, 4, "");
    ARG(&p, 5, "");
    assert_int_equal(p.used, sizeof(line) - 1);
    free(b);

    /* Single quotes keep backslashes other than \' literally. */
    assert_int_equal(parse_all(&p, &b, "ECHO 'a\\x41\\n'\n", 15),
                     AKV_PARSE_DONE);
    assert_int_equal(p.argc, 2);
    ARG(&p, 1, "a\\x41\\n");
    free(b);
    akv_parser_free(&p);
}

static void test_inline_empty(void **state)
{
    static const char cmds[] = "\r\n\n   \t \r\nPING\r\n";
    size_t n = sizeof(cmds) - 1, off = 0;
    struct akv_parser p;
    char *b = wbuf(cmds, n, 0);

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    off = expect_empty(&p, b, n, off, 2);
    off = expect_empty(&p, b, n, off, 1);
    off = expect_empty(&p, b, n, off, 7);
    assert_int_equal(akv_parse(&p, b + off, n - off), AKV_PARSE_DONE);
    ARG(&p, 0, "PING");
    assert_int_equal(off + p.used, n);
    free(b);
    akv_parser_free(&p);
}

/* ------------------------------------------------------- protocol errors */

static void test_error_multibulk_length(void **state)
{
    (void)state;
    EXPECT_ERROR("*abc\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*2147483648\r\n",
                 "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*1x\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*99999999999999999999\r\n",
                 "Protocol error: invalid multibulk length");
}

static void test_error_bulk_length(void **state)
{
    (void)state;
    EXPECT_ERROR("*1\r\n$-1\r\n", "Protocol error: invalid bulk length");
    EXPECT_ERROR("*1\r\n$abc\r\n", "Protocol error: invalid bulk length");
    EXPECT_ERROR("*1\r\n$\r\n", "Protocol error: invalid bulk length");
    /* Over proto-max-bulk-len; exactly at it is fine. */
    expect_error(1000, "*1\r\n$1001\r\n", 11,
                 "Protocol error: invalid bulk length");
    {
        struct akv_parser p;
        char *b;

        akv_parser_init(&p, 1000);
        assert_int_equal(parse_all(&p, &b, "*1\r\n$1000\r\n", 11),
                         AKV_PARSE_NEED);
        assert_int_equal(p.want, 11 + 1000 + 2);
        free(b);
        akv_parser_free(&p);
    }
}

/* Before AUTH: Redis 7's limits, checked after the general ones. */
static int parse_unauth(const char *text, size_t n, struct akv_parser *p,
                        char **b)
{
    akv_parser_init(p, MAX_BULK);
    p->unauth = true;
    return parse_all(p, b, text, n);
}

static void test_unauthenticated_limits(void **state)
{
    struct akv_parser p;
    char *b;
    static const char ten[] = "*10\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
        "$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
        "$1\r\na\r\n$1\r\na\r\n";

    (void)state;
    assert_int_equal(parse_unauth("*11\r\n", 5, &p, &b), AKV_PARSE_ERROR);
    assert_string_equal(p.err,
                        "Protocol error: unauthenticated multibulk length");
    free(b);
    akv_parser_free(&p);
    assert_int_equal(parse_unauth(ten, sizeof(ten) - 1, &p, &b),
                     AKV_PARSE_DONE);
    assert_int_equal(p.argc, 10);
    free(b);
    akv_parser_free(&p);
    assert_int_equal(parse_unauth("*1\r\n$16385\r\n", 13, &p, &b),
                     AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: unauthenticated bulk length");
    free(b);
    akv_parser_free(&p);
    assert_int_equal(parse_unauth("*1\r\n$16384\r\n", 13, &p, &b),
                     AKV_PARSE_NEED);
    free(b);
    akv_parser_free(&p);
    /* The general limits come first, as in Redis. */
    assert_int_equal(parse_unauth("*3000000000\r\n", 13, &p, &b),
                     AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: invalid multibulk length");
    free(b);
    akv_parser_free(&p);
    assert_int_equal(parse_unauth("*1\r\n$629145600\r\n", 17, &p, &b),
                     AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: invalid bulk length");
    free(b);
    akv_parser_free(&p);
    /* Authenticated: no such limits. */
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, "*11\r\n$16385\r\n", 13),
                     AKV_PARSE_NEED);
    free(b);
    akv_parser_free(&p);
}

static void test_error_expected_dollar(void **state)
{
    (void)state;
    EXPECT_ERROR("*1\r\nx3\r\nfoo\r\n",
                 "Protocol error: expected '$', got 'x'");
    EXPECT_ERROR("*2\r\n$1\r\na\r\n:5\r\n",
                 "Protocol error: expected '$', got ':'");
}

static void test_error_too_big_mbulk_count(void **state)
{
    size_t n = AKV_INLINE_MAX + 1;
    char *b = malloc(n);
    struct akv_parser p;

    (void)state;
    assert_non_null(b);
    b[0] = '*';
    memset(b + 1, '1', n - 1);
    akv_parser_init(&p, MAX_BULK);
    /* Up to 64 KiB without a CR the count may still be coming... */
    assert_int_equal(akv_parse(&p, b, n - 1), AKV_PARSE_NEED);
    /* ...one byte more is too much. */
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: too big mbulk count string");
    free(b);
    akv_parser_free(&p);
}

static void test_error_too_big_bulk_count(void **state)
{
    size_t n = 4 + AKV_INLINE_MAX + 1;
    char *b = malloc(n);
    struct akv_parser p;

    (void)state;
    assert_non_null(b);
    memcpy(b, "*1\r\n$", 5);
    memset(b + 5, '1', n - 5);
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b, n - 1), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: too big bulk count string");
    free(b);
    akv_parser_free(&p);
}

static void test_error_too_big_inline(void **state)
{
    size_t n = AKV_INLINE_MAX + 1;
    char *b = malloc(n);
    struct akv_parser p;

    (void)state;
    assert_non_null(b);
    memset(b, 'a', n);
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b, n - 1), AKV_PARSE_NEED);
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: too big inline request");
    free(b);
    akv_parser_free(&p);
}

static void test_error_unbalanced_quotes(void **state)
{
    (void)state;
    EXPECT_ERROR("SET \"abc\r\n",
                 "Protocol error: unbalanced quotes in request");
    EXPECT_ERROR("SET 'abc\n",
                 "Protocol error: unbalanced quotes in request");
    /* A closing quote must be followed by a blank or the end. */
    EXPECT_ERROR("SET \"a\"b\r\n",
                 "Protocol error: unbalanced quotes in request");
    EXPECT_ERROR("SET 'a'b\r\n",
                 "Protocol error: unbalanced quotes in request");
}

/* After an error the parser starts over with the next command it is
 * given (the connection is normally closed, but state must not leak). */
static void test_reset_after_error(void **state)
{
    static const char bad[] = "*2\r\n$3\r\nGET\r\n?1\r\n";
    static const char good[] = "*1\r\n$4\r\nPING\r\n";
    struct akv_parser p;
    char *b;

    (void)state;
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(parse_all(&p, &b, bad, sizeof(bad) - 1),
                     AKV_PARSE_ERROR);
    assert_string_equal(p.err, "Protocol error: expected '$', got '?'");
    free(b);
    assert_int_equal(parse_all(&p, &b, good, sizeof(good) - 1),
                     AKV_PARSE_DONE);
    assert_null(p.err);
    assert_int_equal(p.argc, 1);
    ARG(&p, 0, "PING");
    free(b);
    akv_parser_free(&p);
}

/* Many arguments: the argument arrays grow as needed. */
static void test_many_args(void **state)
{
    const int nargs = 5000;
    size_t cap = (size_t)nargs * 20 + 32, n = 0;
    char *b = malloc(cap);
    struct akv_parser p;

    (void)state;
    assert_non_null(b);
    n += (size_t)snprintf(b + n, cap - n, "*%d\r\n", nargs);
    for (int i = 0; i < nargs; i++) {
        char arg[16];
        int al = snprintf(arg, sizeof(arg), "a%d", i);
        n += (size_t)snprintf(b + n, cap - n, "$%d\r\n%s\r\n", al, arg);
    }
    akv_parser_init(&p, MAX_BULK);
    assert_int_equal(akv_parse(&p, b, n), AKV_PARSE_DONE);
    assert_int_equal(p.argc, nargs);
    for (int i = 0; i < nargs; i += 499) {
        char arg[16];
        snprintf(arg, sizeof(arg), "a%d", i);
        assert_string_equal(p.argv[i], arg);
    }
    assert_int_equal(p.used, n);
    free(b);
    akv_parser_free(&p);
}

/* ------------------------------------------------ reads of random sizes */

/* The commands of a stream, each as "argc|len:arg|len:arg..." or "EMPTY",
 * appended to out. */
static void record(const struct akv_parser *p, int r, char *out,
                   size_t outlen)
{
    size_t n = strlen(out);

    if (r == AKV_PARSE_EMPTY) {
        snprintf(out + n, outlen - n, "EMPTY;");
        return;
    }
    n += (size_t)snprintf(out + n, outlen - n, "%d", p->argc);
    for (int i = 0; i < p->argc && n < outlen; i++) {
        n += (size_t)snprintf(out + n, outlen - n, "|%zu:", p->argl[i]);
        for (size_t k = 0; k < p->argl[i] && n + 3 < outlen; k++) {
            unsigned char c = (unsigned char)p->argv[i][k];
            n += (size_t)snprintf(out + n, outlen - n,
                                  c >= 32 && c < 127 ? "%c" : "\\%02x", c);
        }
    }
    snprintf(out + n, outlen - n, ";");
}

/* Feed `stream` as a worker does: append what a read brings, parse every
 * complete command, drop the consumed bytes, and sometimes move the
 * buffer.  chunk == 0 means the whole stream in one read. */
static void feed(const char *stream, size_t n, unsigned seed, size_t chunk,
                 char *out, size_t outlen)
{
    struct akv_parser p;
    char *buf = malloc(n + 1);
    size_t len = 0, off = 0;

    assert_non_null(buf);
    out[0] = '\0';
    srand(seed);
    akv_parser_init(&p, MAX_BULK);
    while (off < n) {
        size_t k = chunk ? 1 + (size_t)rand() % chunk : n;
        if (k > n - off)
            k = n - off;
        memcpy(buf + len, stream + off, k);
        len += k;
        off += k;
        for (;;) {
            int r = akv_parse(&p, buf, len);
            if (r == AKV_PARSE_NEED)
                break;
            assert_true(r == AKV_PARSE_DONE || r == AKV_PARSE_EMPTY);
            record(&p, r, out, outlen);
            assert_true(p.used > 0 && p.used <= len);
            memmove(buf, buf + p.used, len - p.used);
            len -= p.used;
        }
        if (rand() % 4 == 0) {
            /* The partial command moves to another buffer. */
            char *nb = malloc(n + 1);
            assert_non_null(nb);
            memcpy(nb, buf, len);
            memset(buf, 'Z', n + 1);
            free(buf);
            buf = nb;
        }
    }
    assert_int_equal(len, 0);
    free(buf);
    akv_parser_free(&p);
}

static void test_random_read_sizes(void **state)
{
    static const char stream[] =
        "*3\r\n$3\r\nSET\r\n$5\r\nk\0y\r\n\r\n$12\r\n\r\n\r\n$1\r\n*0\r\n\r\n"
        "PING\r\n"
        "*0\r\n"
        "\r\n"
        "SET 'a b' \"c\\x41\\r\" d\n"
        "*-1\r\n"
        "*1\r\n$0\r\n\r\n"
        "*2\r\n$4\r\nECHO\r\n$40\r\n0123456789012345678901234567890123456789"
        "\r\n"
        "   \r\n"
        "*1\r\n$4\r\nQUIT\r\n";
    size_t n = sizeof(stream) - 1;
    static char whole[4096], split[4096];

    (void)state;
    feed(stream, n, 1, 0, whole, sizeof(whole));
    assert_string_equal(whole,
                        "3|3:SET|5:k\\00y\\0d\\0a|12:\\0d\\0a\\0d\\0a$1"
                        "\\0d\\0a*0\\0d\\0a;"
                        "1|4:PING;EMPTY;EMPTY;4|3:SET|3:a b|3:cA\\0d|1:d;"
                        "EMPTY;1|0:;"
                        "2|4:ECHO|40:0123456789012345678901234567890123456789;"
                        "EMPTY;1|4:QUIT;");
    for (unsigned seed = 1; seed <= 300; seed++) {
        feed(stream, n, seed, 1 + seed % 23, split, sizeof(split));
        assert_string_equal(split, whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_multibulk),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_buffer_moves),
        cmocka_unit_test(test_bulk_split_and_want),
        cmocka_unit_test(test_small_bulk_split),
        cmocka_unit_test(test_binary_args),
        cmocka_unit_test(test_nul_terminated_in_place),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_pipelined_partial_tail),
        cmocka_unit_test(test_empty_multibulk),
        cmocka_unit_test(test_inline_basic),
        cmocka_unit_test(test_inline_quotes),
        cmocka_unit_test(test_inline_empty),
        cmocka_unit_test(test_error_multibulk_length),
        cmocka_unit_test(test_error_bulk_length),
        cmocka_unit_test(test_unauthenticated_limits),
        cmocka_unit_test(test_error_expected_dollar),
        cmocka_unit_test(test_error_too_big_mbulk_count),
        cmocka_unit_test(test_error_too_big_bulk_count),
        cmocka_unit_test(test_error_too_big_inline),
        cmocka_unit_test(test_error_unbalanced_quotes),
        cmocka_unit_test(test_reset_after_error),
        cmocka_unit_test(test_many_args),
        cmocka_unit_test(test_random_read_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
