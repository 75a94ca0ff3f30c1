/*
 * test_aof_check.c -- unit tests for aof_check.c: valid and empty files,
 * every cut point of a file, MULTI/EXEC nesting, corruption in the middle,
 * bulks larger than the read buffer, truncation by --fix, random damage,
 * and the reading of multi-part manifests.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aof_check.h"

/* ---------------------------------------------------------------- helpers */

/* A growing byte string. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_put(struct sbuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Appends one multibulk command made of NULL-terminated C strings. */
static void sb_cmd(struct sbuf *b, const char *arg, ...)
{
    const char *args[16];
    char hdr[32];
    int n = 0;
    va_list ap;

    va_start(ap, arg);
    for (const char *a = arg; a; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    snprintf(hdr, sizeof(hdr), "*%d\r\n", n);
    sb_str(b, hdr);
    for (int i = 0; i < n; i++) {
        snprintf(hdr, sizeof(hdr), "$%zu\r\n", strlen(args[i]));
        sb_str(b, hdr);
        sb_str(b, args[i]);
        sb_str(b, "\r\n");
    }
}

/* Appends SET key <len bytes of fill>. */
static void sb_set_big(struct sbuf *b, const char *key, size_t len)
{
    char hdr[64];
    char *v = malloc(len);

    assert_non_null(v);
    memset(v, 'v', len);
    snprintf(hdr, sizeof(hdr), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n",
             strlen(key), key, len);
    sb_str(b, hdr);
    sb_put(b, v, len);
    sb_str(b, "\r\n");
    free(v);
}

/* Writes data to a new temporary file; returns its path (static). */
static const char *temp_file(const void *data, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/akvaofXXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Scans the first size bytes of the open file fd. */
static void scan_fd(int fd, uint64_t size, size_t bufsize, uint64_t max_bulk,
                    struct akv_aof_report *rep)
{
    struct akv_aof_check_opts o = {.bufsize = bufsize, .max_bulk = max_bulk};

    assert_int_equal(akv_aof_check_fd(fd, size, &o, rep), 0);
}

/* Scans data[0..len) through a temporary file. */
static void scan(const void *data, size_t len, size_t bufsize,
                 uint64_t max_bulk, struct akv_aof_report *rep)
{
    const char *path = temp_file(data, len);
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    scan_fd(fd, len, bufsize, max_bulk, rep);
    close(fd);
    unlink(path);
}

/* 1 + the CRLFs of RESP lines in data[0..len) (annotations excluded). */
static uint64_t count_lines(const char *data, size_t len)
{
    uint64_t n = 1;
    bool annot = false, bol = true;

    for (size_t i = 0; i < len; i++) {
        if (bol)
            annot = data[i] == '#';
        bol = data[i] == '\n';
        if (bol && i > 0 && data[i - 1] == '\r' && !annot)
            n++;
    }
    return n;
}

static const size_t bufsizes[] = {1, 2, 3, 5, 8, 13, 64, 0};

/* A file of everything the scanner knows, and its command boundaries
 * outside MULTI (offset and commands before it). */
struct sample {
    struct sbuf b;
    size_t nb;
    uint64_t at[32], cmds[32];
};

static void mark(struct sample *s, uint64_t cmds)
{
    s->at[s->nb] = s->b.len;
    s->cmds[s->nb++] = cmds;
}

static void make_sample(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    mark(s, 0);
    sb_cmd(&s->b, "SELECT", "0", NULL);
    mark(s, 1);
    sb_cmd(&s->b, "SET", "a", "1", NULL);
    mark(s, 2);
    sb_str(&s->b, "#TS:1700000000\r\n");
    mark(s, 2);
    sb_cmd(&s->b, "MULTI", NULL);
    sb_cmd(&s->b, "SET", "counter", "12", NULL);
    sb_cmd(&s->b, "PEXPIREAT", "counter", "1700000000000", NULL);
    sb_cmd(&s->b, "exec", NULL);
    mark(s, 6);
    sb_cmd(&s->b, "DEL", "", NULL);        /* an empty bulk */
    mark(s, 7);
    sb_set_big(&s->b, "k", 300);
    mark(s, 8);
    sb_cmd(&s->b, "Multi", NULL);
    sb_cmd(&s->b, "EXEC", NULL);
    mark(s, 10);
}

/* ---------------------------------------------------------------- valid */

static void test_valid(void **state)
{
    struct akv_aof_report rep;
    struct sample s;

    (void)state;
    make_sample(&s);
    for (size_t i = 0; i < sizeof(bufsizes) / sizeof(bufsizes[0]); i++) {
        scan(s.b.p, s.b.len, bufsizes[i], 0, &rep);
        assert_int_equal(rep.status, AKV_AOF_VALID);
        assert_true(rep.size == s.b.len);
        assert_true(rep.valid_len == s.b.len);
        assert_true(rep.bad_offset == s.b.len);
        assert_true(rep.commands == 10);
        assert_true(rep.line == count_lines(s.b.p, s.b.len));
        assert_string_equal(rep.reason, "");
    }
    free(s.b.p);
}

static void test_empty(void **state)
{
    struct akv_aof_report rep;

    (void)state;
    scan("", 0, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.size == 0 && rep.valid_len == 0 && rep.commands == 0);
    assert_true(rep.line == 1);

    /* Annotations alone are a valid file without commands. */
    scan("#TS:1\r\n#TS:2\n", 13, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.valid_len == 13 && rep.commands == 0);
}

/* Every cut of the sample is either at a boundary (valid) or a truncated
 * tail whose valid prefix is the last boundary before the cut. */
static void test_every_cut(void **state)
{
    struct akv_aof_report rep;
    struct sample s;
    const char *path;
    int fd;

    (void)state;
    make_sample(&s);
    path = temp_file(s.b.p, s.b.len);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    for (size_t i = 0; i < sizeof(bufsizes) / sizeof(bufsizes[0]); i++) {
        size_t k = 0;
        for (uint64_t cut = 0; cut <= s.b.len; cut++) {
            while (k + 1 < s.nb && s.at[k + 1] <= cut)
                k++;
            scan_fd(fd, cut, bufsizes[i], 0, &rep);
            assert_true(rep.size == cut);
            assert_true(rep.valid_len == s.at[k]);
            assert_true(rep.commands == s.cmds[k]);
            assert_true(rep.bad_offset == cut);
            if (cut == s.at[k]) {
                assert_int_equal(rep.status, AKV_AOF_VALID);
            } else {
                assert_int_equal(rep.status, AKV_AOF_TRUNCATED);
                assert_true(rep.reason[0] != '\0');
            }
        }
    }
    close(fd);
    unlink(path);
    free(s.b.p);
}

/* A size larger than the file: the scan stops at the real end. */
static void test_file_shorter_than_said(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    const char *path;
    int fd;

    (void)state;
    sb_cmd(&b, "SET", "a", "1", NULL);
    path = temp_file(b.p, b.len);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    scan_fd(fd, b.len + 100, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.size == b.len && rep.valid_len == b.len);
    close(fd);
    unlink(path);
    free(b.p);
}

/* ---------------------------------------------------------- MULTI / EXEC */

static void test_multi_without_exec(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    size_t before;

    (void)state;
    sb_cmd(&b, "SET", "a", "1", NULL);
    before = b.len;
    sb_cmd(&b, "MULTI", NULL);
    sb_cmd(&b, "SET", "b", "2", NULL);
    sb_str(&b, "#TS:5\r\n");
    sb_cmd(&b, "SET", "c", "3", NULL);
    scan(b.p, b.len, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_TRUNCATED);
    assert_true(rep.valid_len == before);
    assert_true(rep.commands == 1);
    assert_true(rep.bad_offset == b.len);
    assert_non_null(strstr(rep.reason, "EXEC"));
    /* Redis counts the lines read up to the end. */
    assert_true(rep.line == count_lines(b.p, b.len));
    free(b.p);
}

static void test_multi_nesting(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    size_t first, name;

    (void)state;
    /* MULTI inside MULTI: corruption at the inner MULTI's name. */
    sb_cmd(&b, "SET", "a", "1", NULL);
    first = b.len;
    sb_cmd(&b, "MULTI", NULL);
    sb_cmd(&b, "SET", "b", "2", NULL);
    name = b.len + strlen("*1\r\n$5\r\n");
    sb_cmd(&b, "multi", NULL);
    sb_cmd(&b, "EXEC", NULL);
    scan(b.p, b.len, 3, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.valid_len == first);
    assert_true(rep.bad_offset == name);
    assert_true(rep.commands == 1);
    assert_non_null(strstr(rep.reason, "MULTI"));

    /* EXEC outside MULTI. */
    b.len = 0;
    sb_cmd(&b, "SET", "a", "1", NULL);
    first = b.len;
    sb_cmd(&b, "EXEC", NULL);
    sb_cmd(&b, "SET", "a", "1", NULL);
    scan(b.p, b.len, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.valid_len == first);
    assert_true(rep.bad_offset == first + strlen("*1\r\n$4\r\n"));
    assert_non_null(strstr(rep.reason, "EXEC"));

    /* Only the name counts, whatever follows, and only the whole name. */
    b.len = 0;
    sb_cmd(&b, "MULTIX", NULL);
    sb_cmd(&b, "EXECUTE", "x", NULL);
    sb_cmd(&b, "MULTI", "extra", NULL);
    sb_cmd(&b, "SET", "EXEC", "MULTI", NULL);
    sb_cmd(&b, "eXeC", NULL);
    scan(b.p, b.len, 1, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.commands == 5);
    free(b.p);
}

/* ------------------------------------------------------------ corruption */

static void test_corrupt_middle(void **state)
{
    static const struct {
        const char *bad;   /* inserted between good commands */
        size_t len;        /* its length (0: strlen) */
        size_t at;         /* offset of the first bad byte in it */
        const char *why;   /* part of the reason */
    } cases[] = {
        {"XXXX", 0, 0, "Expected '*'"},
        {"\r\n", 0, 0, "byte 0x0d"},
        {"+OK\r\n", 0, 0, "got '+'"},
        {"GET a\r\n", 0, 0, "got 'G'"},       /* inline command */
        {"*0\r\n", 0, 1, "multibulk"},
        {"*-1\r\n", 0, 1, "multibulk"},
        {"*01\r\n$1\r\na\r\n", 0, 1, "multibulk"},
        {"*\r\n", 0, 1, "multibulk"},
        {"* 1\r\n", 0, 1, "multibulk"},
        {"*+1\r\n", 0, 1, "multibulk"},
        {"*2147483648\r\n", 0, 10, "multibulk"},
        {"*1\n$1\r\na\r\n", 0, 2, "multibulk"},
        {"*1\r\r\n", 0, 3, "Expected \\n"},
        {"*1\r\n:1\r\n", 0, 4, "Expected '$'"},
        {"*2\r\n$1\r\na\r\n*1\r\n", 0, 11, "Expected '$'"},
        {"*1\r\n$\r\n", 0, 5, "bulk length"},
        {"*1\r\n$-1\r\n", 0, 5, "bulk length"},
        {"*1\r\n$03\r\nabc\r\n", 0, 6, "bulk length"},
        {"*1\r\n$3 \r\nabc\r\n", 0, 6, "bulk length"},
        {"*1\r\n$3\n\nabc\r\n", 0, 6, "bulk length"},
        {"*1\r\n$3\r\rabc\r\n", 0, 7, "Expected \\n"},
        {"*1\r\n$3\r\nabcd\r\n", 0, 11, "after the bulk"},
        {"*1\r\n$3\r\nabc\n\r", 0, 11, "after the bulk"},
        {"*1\r\n$3\r\nabc\rX", 0, 12, "Expected \\n"},
        {"*1\r\n$3\r\na\0c\r\0", 13, 12, "byte 0x00"},
        {"\0\0\0\0", 4, 0, "byte 0x00"},     /* a zero-filled tail */
    };
    struct akv_aof_report rep;
    struct sbuf b = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t good, len = cases[i].len ? cases[i].len
                                        : strlen(cases[i].bad);
        b.len = 0;
        sb_cmd(&b, "SELECT", "0", NULL);
        sb_cmd(&b, "SET", "a", "1", NULL);
        good = b.len;
        sb_put(&b, cases[i].bad, len);
        sb_cmd(&b, "SET", "b", "2", NULL);
        for (size_t j = 0; j < sizeof(bufsizes) / sizeof(bufsizes[0]);
             j++) {
            scan(b.p, b.len, bufsizes[j], 0, &rep);
            if (rep.status != AKV_AOF_CORRUPT ||
                rep.bad_offset != good + cases[i].at)
                fail_msg("case %zu: status %d at %llu: %s", i, rep.status,
                         (unsigned long long)rep.bad_offset, rep.reason);
            assert_true(rep.valid_len == good);
            assert_true(rep.commands == 2);
            assert_true(rep.size == b.len);
            if (!strstr(rep.reason, cases[i].why))
                fail_msg("case %zu: reason '%s'", i, rep.reason);
        }
    }
    free(b.p);
}

static void test_corrupt_inside_multi(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    size_t before, bad;

    (void)state;
    sb_cmd(&b, "SET", "a", "1", NULL);
    before = b.len;
    sb_cmd(&b, "MULTI", NULL);
    sb_cmd(&b, "SET", "b", "2", NULL);
    bad = b.len;
    sb_str(&b, "garbage");
    sb_cmd(&b, "EXEC", NULL);
    scan(b.p, b.len, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.valid_len == before);
    assert_true(rep.bad_offset == bad);
    assert_true(rep.commands == 1);
    free(b.p);
}

static void test_limits(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    char line[1100];

    (void)state;
    /* Bulks up to max_bulk; one byte more is corruption at the digit that
     * makes the length too long. */
    sb_cmd(&b, "SET", "k", "0123456789", NULL);
    scan(b.p, b.len, 0, 10, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    b.len = 0;
    sb_cmd(&b, "SET", "k", "01234567890", NULL);
    scan(b.p, b.len, 0, 10, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.bad_offset == strlen("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1"));
    b.len = 0;
    sb_str(&b, "*1\r\n$7\r\n");
    scan(b.p, b.len, 0, 5, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.bad_offset == 5);

    /* The largest count is accepted (and the file then ends early). */
    scan("*2147483647\r\n", 13, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_TRUNCATED);

    /* Annotation lines: 1023 bytes with the '\n', as Redis reads them. */
    memset(line, 'x', sizeof(line));
    line[0] = '#';
    line[1022] = '\n';
    scan(line, 1023, 0, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    line[1022] = 'x';
    line[1023] = '\n';
    scan(line, 1024, 7, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.bad_offset == 1022 && rep.valid_len == 0);
    free(b.p);
}

/* ------------------------------------------------------------ large bulk */

static void test_large_bulk(void **state)
{
    static const size_t sizes[] = {4093, 65536, 1, 0};
    const size_t big = 5 * 1024 * 1024 + 17;
    struct akv_aof_report rep;
    struct sbuf b = {0};
    size_t first, second;

    (void)state;
    sb_cmd(&b, "SET", "a", "1", NULL);
    first = b.len;
    sb_set_big(&b, "big", big);
    second = b.len;
    sb_cmd(&b, "SET", "z", "2", NULL);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        scan(b.p, b.len, sizes[i], 0, &rep);
        assert_int_equal(rep.status, AKV_AOF_VALID);
        assert_true(rep.commands == 3 && rep.valid_len == b.len);
        assert_true(rep.line == count_lines(b.p, b.len));

        /* Cut inside the value, and just before its CRLF. */
        scan(b.p, first + 1000000, sizes[i], 0, &rep);
        assert_int_equal(rep.status, AKV_AOF_TRUNCATED);
        assert_true(rep.valid_len == first && rep.commands == 1);
        scan(b.p, second - 2, sizes[i], 0, &rep);
        assert_int_equal(rep.status, AKV_AOF_TRUNCATED);
        assert_true(rep.valid_len == first);
    }

    /* A value one byte longer than its length says. */
    b.p[second - 2] = 'v';
    scan(b.p, b.len, 4093, 0, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.bad_offset == second - 2 && rep.valid_len == first);
    b.p[second - 2] = '\r';

    /* Longer than max_bulk. */
    scan(b.p, b.len, 0, 1024 * 1024, &rep);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.valid_len == first);
    free(b.p);
}

/* ------------------------------------------------------------------ fix */

static void test_fix(void **state)
{
    struct akv_aof_report rep;
    struct sbuf b = {0};
    char path[64];
    size_t good;
    struct stat st;

    (void)state;
    sb_cmd(&b, "SET", "a", "1", NULL);
    sb_cmd(&b, "MULTI", NULL);
    sb_cmd(&b, "SET", "b", "2", NULL);
    sb_cmd(&b, "EXEC", NULL);
    good = b.len;
    sb_str(&b, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1");   /* torn */
    snprintf(path, sizeof(path), "%s", temp_file(b.p, b.len));

    assert_int_equal(akv_aof_check_path(path, NULL, &rep), 0);
    assert_int_equal(rep.status, AKV_AOF_TRUNCATED);
    assert_true(rep.valid_len == good);
    assert_int_equal(akv_aof_truncate(path, rep.valid_len), 0);
    assert_int_equal(akv_aof_check_path(path, NULL, &rep), 0);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.size == good && rep.commands == 4);

    /* Corruption: the fix drops everything from the damaged command. */
    sb_str(&b, "\r\n1\r\n");
    b.p[good] = '!';
    sb_cmd(&b, "SET", "d", "4", NULL);
    unlink(path);
    snprintf(path, sizeof(path), "%s", temp_file(b.p, b.len));
    assert_int_equal(akv_aof_check_path(path, NULL, &rep), 0);
    assert_int_equal(rep.status, AKV_AOF_CORRUPT);
    assert_true(rep.bad_offset == good && rep.valid_len == good);
    assert_int_equal(akv_aof_truncate(path, rep.valid_len), 0);
    assert_int_equal(akv_aof_check_path(path, NULL, &rep), 0);
    assert_int_equal(rep.status, AKV_AOF_VALID);
    assert_true(rep.size == good);

    /* Never grows a file; errors are -errno. */
    assert_int_equal(akv_aof_truncate(path, good + 1), -EINVAL);
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size == good);
    unlink(path);
    assert_int_equal(akv_aof_truncate(path, 0), -ENOENT);
    assert_int_equal(akv_aof_check_path(path, NULL, &rep), -ENOENT);
    assert_int_equal(akv_aof_check_path("/tmp", NULL, &rep), -EISDIR);
    assert_int_equal(akv_aof_check_fd(-1, 0, NULL, &rep), -EINVAL);
    free(b.p);
}

/* --------------------------------------------------------- random damage */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Whatever the damage, the report is consistent, the valid prefix is
 * valid on its own, and the buffer size changes nothing. */
static void test_random_damage(void **state)
{
    static const char pool[] = "*$\r\n#0123456789MULTIEXECmultiexec x";
    struct akv_aof_report rep, again;
    struct sample s;
    char *d;

    (void)state;
    make_sample(&s);
    d = malloc(s.b.len + 16);
    assert_non_null(d);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = s.b.len, pos;
        memcpy(d, s.b.p, len);
        for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
            pos = (size_t)(rnd() % len);
            switch (rnd() % 3) {
            case 0:
                d[pos] = pool[rnd() % (sizeof(pool) - 1)];
                break;
            case 1:
                memmove(d + pos, d + pos + 1, len - pos - 1);
                len--;
                break;
            default:
                memmove(d + pos + 1, d + pos, len - pos);
                d[pos] = pool[rnd() % (sizeof(pool) - 1)];
                len++;
                break;
            }
        }
        scan(d, len, 1 + (size_t)(rnd() % 40), 0, &rep);
        assert_true(rep.size == len && rep.valid_len <= len);
        if (rep.status == AKV_AOF_VALID)
            assert_true(rep.valid_len == len);
        else if (rep.status == AKV_AOF_TRUNCATED)
            assert_true(rep.bad_offset == len && rep.valid_len < len);
        else
            assert_true(rep.bad_offset >= rep.valid_len &&
                        rep.bad_offset < len);
        scan(d, len, 0, 0, &again);
        assert_memory_equal(&rep, &again, sizeof(rep));
        scan(d, rep.valid_len, 7, 0, &again);
        assert_int_equal(again.status, AKV_AOF_VALID);
        assert_true(again.commands == rep.commands);
    }
    free(d);
    free(s.b.p);
}

/* ------------------------------------------------------ multi-part files */

static void test_sniff(void **state)
{
    static const struct {
        const char *text;
        size_t len;
        int kind;
    } cases[] = {
        {"SQLite format 3\0\x10\0\1\1", 20, AKV_AOF_KIND_SQLITE},
        {"REDIS0011\xfa", 10, AKV_AOF_KIND_RDB},
        {"file a.1.incr.aof seq 1 type i\n", 0, AKV_AOF_KIND_MANIFEST},
        {"# c\n#\nfile a seq 1 type i\n", 0, AKV_AOF_KIND_MANIFEST},
        {"*1\r\n$4\r\nfile\r\n", 0, AKV_AOF_KIND_AOF},
        {"#TS:1\r\n*1\r\n$4\r\nPING\r\n", 0, AKV_AOF_KIND_AOF},
        {"", 0, AKV_AOF_KIND_AOF},
        {"garbage", 0, AKV_AOF_KIND_AOF},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        const char *path = temp_file(cases[i].text, len);
        assert_int_equal(akv_aof_check_sniff(path), cases[i].kind);
        unlink(path);
    }
    assert_int_equal(akv_aof_check_sniff("/nonexistent/x"), -ENOENT);
}

/* Loads text as a manifest; returns the error ("" on success). */
static const char *load_manifest(const char *text,
                                 struct akv_aof_manifest *m)
{
    static char err[300];
    const char *path = temp_file(text, strlen(text));
    int ret = akv_aof_manifest_load(path, m, err, sizeof(err));

    unlink(path);
    assert_true(ret == 0 ? err[0] == '\0' : ret == -EINVAL);
    return err;
}

static void test_manifest(void **state)
{
    static const struct {
        const char *text;
        const char *err;
    } bad[] = {
        {"", "Found an empty AOF manifest"},
        {"file a seq 1 type i", "too long line"},
        {"\n", "Invalid AOF manifest file format (line 1"},
        {"file a seq 1\n", "Invalid AOF manifest file format"},
        {"file a seq 1 type\n", "Invalid AOF manifest file format"},
        {"file a seq 0 type i\n", "Invalid AOF manifest file format"},
        {"file \"a seq 1 type i\n", "Invalid AOF manifest file format"},
        {"name a seq 1 type i\n", "Invalid AOF manifest file format"},
        {"file d/a seq 1 type i\n", "File can't be a path"},
        {"file a seq 1 type x\n", "Unknown AOF file type"},
        {"file a seq 1 type b\nfile b seq 2 type b\n",
         "Found duplicate base file information (line 2"},
        {"file a seq 2 type i\nfile b seq 2 type i\n",
         "Found a non-monotonic sequence number"},
    };
    struct akv_aof_manifest m;
    char longline[1100];
    const char *err;

    (void)state;
    err = load_manifest("# written by hand\n"
                        "file \"base one.db\" seq 1 type b\n"
                        "file a.1.incr.aof seq 1 type h\n"
                        "  FILE a.2.incr.aof SEQ 2 TYPE i future x\r\n"
                        "file 'a.3.incr.aof' seq 3 type i\n", &m);
    assert_string_equal(err, "");
    assert_int_equal(m.nfiles, 4);
    assert_string_equal(m.files[0].name, "base one.db");
    assert_int_equal(m.files[0].type, 'b');
    assert_int_equal(m.files[1].type, 'h');
    assert_string_equal(m.files[2].name, "a.2.incr.aof");
    assert_int_equal(m.files[2].seq, 2);
    assert_int_equal(m.files[2].type, 'i');
    assert_string_equal(m.files[3].name, "a.3.incr.aof");
    akv_aof_manifest_free(&m);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = load_manifest(bad[i].text, &m);
        if (!strstr(err, bad[i].err))
            fail_msg("case %zu: '%s'", i, err);
        akv_aof_manifest_free(&m);
    }

    /* Lines of 1024 bytes with the '\n' are accepted, longer are not. */
    memset(longline, ' ', sizeof(longline));
    memcpy(longline, "file a seq 1 type i", 19);
    longline[1023] = '\n';
    longline[1024] = '\0';
    assert_string_equal(load_manifest(longline, &m), "");
    akv_aof_manifest_free(&m);
    longline[1023] = ' ';
    longline[1024] = '\n';
    longline[1025] = '\0';
    assert_non_null(strstr(load_manifest(longline, &m), "too long"));
    akv_aof_manifest_free(&m);

    assert_int_equal(akv_aof_manifest_load("/nonexistent/m", &m, longline,
                                           sizeof(longline)), -ENOENT);
    assert_string_equal(longline, "");
    akv_aof_manifest_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_every_cut),
        cmocka_unit_test(test_file_shorter_than_said),
        cmocka_unit_test(test_multi_without_exec),
        cmocka_unit_test(test_multi_nesting),
        cmocka_unit_test(test_corrupt_middle),
        cmocka_unit_test(test_corrupt_inside_multi),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_large_bulk),
        cmocka_unit_test(test_fix),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_manifest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
