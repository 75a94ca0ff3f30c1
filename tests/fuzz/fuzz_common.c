/*
 * fuzz_common.c -- the arena, client, directory and input-splitting
 * helpers of the libFuzzer harnesses (see fuzz_common.h).
 *
 * The arena is real: akv_arena_create() on a file in /dev/shm, unlinked
 * as soon as it is mapped so a crashed run leaves nothing behind.  The
 * client is set up as worker.c's client_init() does and commands go
 * through the same akv_parse() / akv_dispatch() loop as its
 * run_commands(); only the socket is missing, replies stay in memory.
 */
#include "build-config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients.h"
#include "fuzz_common.h"
#include "lock.h"
#include "log.h"
#include "pages.h"

static struct akv_arena arena;
static struct akv_config arena_cfg;
static bool arena_made;
static char tmpdir[64];

static void quiet_sink(int priority, char role, const char *msg)
{
    (void)priority;
    (void)role;
    (void)msg;
}

static void make_arena(void)
{
    char path[96];
    const char *err = NULL;
    int r;

    akv_log_set_sink(quiet_sink);
    akv_config_defaults(&arena_cfg);
    arena_cfg.arena_size = (int64_t)FUZZ_ARENA_SIZE;
    arena_cfg.aof_ring_size = 1 << 20;
    snprintf(path, sizeof(path), "/dev/shm/akv-fuzz-%d", (int)getpid());
    r = akv_arena_create(&arena, path, FUZZ_ARENA_SIZE, &arena_cfg, &err);
    if (r < 0) {
        fprintf(stderr, "akv_arena_create(%s): %s (%d)\n", path,
                err ? err : "?", r);
        abort();
    }
    unlink(path);
    arena_cfg = arena.hdr->h_cfg;
    atomic_store(&arena.hdr->h_state, AKV_STATE_READY);
    arena_made = true;
}

struct akv_arena *fuzz_arena(void)
{
    if (!arena_made)
        make_arena();
    return &arena;
}

const struct akv_config *fuzz_arena_config(void)
{
    fuzz_arena();
    return &arena_cfg;
}

void fuzz_arena_reset(void)
{
    struct akv_arena *a = fuzz_arena();
    struct akv_client c;
    const char *flush[] = {"FLUSHALL"};

    if (akv_lock(a, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) < 0)
        abort();
    akv_cfg_publish_locked(a, &arena_cfg);
    akv_unlock(a, AKV_LOCK_CFG, 0);
    atomic_store(&a->hdr->h_state, AKV_STATE_READY);
    fuzz_client_init(&c);
    fuzz_client_command(&c, 1, flush);
    fuzz_client_free(&c);
}

/* ------------------------------------------------------------ client */

void fuzz_client_init(struct akv_client *c)
{
    struct akv_arena *a = fuzz_arena();
    int slot = akv_slot_claim(a);

    if (slot < 0)
        abort();
    memset(c, 0, sizeof(*c));
    c->ctx.a = a;
    c->ctx.slot = slot;
    c->ctx.cs = &a->slots[slot];
    c->fd_in = c->fd_out = -1;
    c->authed = true;
    akv_reply_init(&c->reply);
    akv_parser_init(&c->parser, a->hdr->h_cfg.proto_max_bulk_len);
    akv_op_init(&c->op, &c->ctx);
}

void fuzz_client_free(struct akv_client *c)
{
    akv_reply_free(&c->reply);
    akv_parser_free(&c->parser);
    akv_op_free(&c->op);
    akv_op_free(&c->evict_op);
    free(c->key_hash);
    free(c->ctx.aof_buf);
    akv_slot_release(c->ctx.a, c->ctx.slot);
}

/* ------------------------------------------------------------ replies */

/* Length of the CRLF-terminated line at b[pos..len), CRLF excluded, or -1
 * if there is none. */
static long line_len(const char *b, size_t len, size_t pos)
{
    const char *cr = memchr(b + pos, '\r', len - pos);

    if (!cr || (size_t)(cr - b) + 1 >= len || cr[1] != '\n')
        return -1;
    return (long)(cr - (b + pos));
}

/* The line's text as an integer (a count or a length), -2 if it is not
 * one. */
static long long line_int(const char *b, size_t pos, long n)
{
    char tmp[32];
    char *end;
    long long v;

    if (n <= 0 || n >= (long)sizeof(tmp))
        return -2;
    memcpy(tmp, b + pos, (size_t)n);
    tmp[n] = '\0';
    v = strtoll(tmp, &end, 10);
    return *end || v < -1 ? -2 : v;
}

static bool is_int(const char *p, size_t n)
{
    size_t i = n && p[0] == '-';

    if (i == n)
        return false;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Skip one well-formed RESP2/RESP3 reply at *pos; false if malformed. */
static bool skip_reply(const char *b, size_t len, size_t *pos, int depth)
{
    char type;
    long n;
    long long v;

    if (*pos >= len || depth > 64)
        return false;
    type = b[*pos];
    if ((n = line_len(b, len, *pos + 1)) < 0)
        return false;
    v = line_int(b, *pos + 1, n);
    *pos += 1 + (size_t)n + 2;
    switch (type) {
    case '+': case '-': case ',': case '(':
        return true;
    case ':':
        return is_int(b + *pos - (size_t)n - 2, (size_t)n);
    case '_':
        return n == 0;
    case '#':
        return n == 1 && (b[*pos - 3] == 't' || b[*pos - 3] == 'f');
    case '$': case '=': case '!':
        if (v == -1 && type == '$')
            return true;
        if (v < 0 || (size_t)v + 2 > len - *pos ||
            memcmp(b + *pos + v, "\r\n", 2) != 0)
            return false;
        *pos += (size_t)v + 2;
        return true;
    case '*': case '~': case '>': case '%': case '|':
        if (v == -1 && type == '*')
            return true;
        if (v < 0)
            return false;
        if (type == '%' || type == '|')
            v *= 2;
        for (long long i = 0; i < v; i++)
            if (!skip_reply(b, len, pos, depth + 1))
                return false;
        /* An attribute comes before the reply it describes. */
        return type != '|' || skip_reply(b, len, pos, depth + 1);
    default:
        return false;
    }
}

/* The buffered replies must be `want` well-formed replies, exactly. */
static void check_replies(const struct akv_client *c, int want)
{
    size_t pos = 0;
    int n = 0;

    if (c->reply.oom)
        return;
    while (pos < c->reply.len) {
        if (!skip_reply(c->reply.buf, c->reply.len, &pos, 0)) {
            fprintf(stderr, "malformed reply at offset %zu of %zu: %.*s\n",
                    pos, c->reply.len,
                    (int)AKV_MIN(c->reply.len - pos, 200),
                    c->reply.buf + pos);
            abort();
        }
        n++;
    }
    if (n != want) {
        fprintf(stderr, "%d commands gave %d replies\n", want, n);
        abort();
    }
}

int fuzz_client_run(struct akv_client *c, char *buf, size_t len)
{
    size_t start = 0;
    int n = 0, pending = 0;

    for (;;) {
        int r = akv_parse(&c->parser, buf + start, len - start);
        if (r == AKV_PARSE_NEED)
            break;
        if (r == AKV_PARSE_ERROR) {
            akv_reply_errorf(&c->reply, "ERR %s", c->parser.err);
            pending++;
            break;
        }
        if (r == AKV_PARSE_DONE) {
            c->argc = c->parser.argc;
            c->argv = c->parser.argv;
            c->argl = c->parser.argl;
            akv_dispatch(c);
            n++;
            pending++;
        }
        start += c->parser.used;
        if (c->close_after_reply)
            break;
        if (c->reply.len > 64 * 1024) {
            check_replies(c, pending);
            c->reply.len = 0;
            pending = 0;
        }
    }
    check_replies(c, pending);
    c->reply.len = 0;
    return n;
}

void fuzz_client_command(struct akv_client *c, int argc, const char **argv)
{
    size_t cap = 32, len;
    char *buf;

    for (int i = 0; i < argc; i++)
        cap += strlen(argv[i]) + 32;
    buf = malloc(cap);
    if (!buf)
        abort();
    len = (size_t)snprintf(buf, cap, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        len += (size_t)snprintf(buf + len, cap - len, "$%zu\r\n%s\r\n",
                                strlen(argv[i]), argv[i]);
    fuzz_client_run(c, buf, len);
    free(buf);
}

static void check_report(void *ctx, const char *msg)
{
    int *problems = ctx;

    fprintf(stderr, "arena check: %s\n", msg);
    (*problems)++;
}

void fuzz_check_arena(void)
{
    struct akv_client c;
    int problems = 0;

    fuzz_client_init(&c);
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (akv_stripe_lock(&c.ctx, si) < 0)
            abort();
        akv_stripe_check_locked(c.ctx.a, si, check_report, &problems);
        akv_stripe_unlock(&c.ctx, si);
    }
    akv_pages_check(c.ctx.a, check_report, &problems);
    fuzz_client_free(&c);
    if (problems)
        abort();
}

/* ------------------------------------------------------------ files */

static void remove_tmpdir(void)
{
    fuzz_clear_dir(tmpdir);
    rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/dev/shm/akv-fuzz-dir-XXXXXX");
        if (!mkdtemp(tmpdir))
            abort();
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

void fuzz_write_file(const char *dir, const char *name, const void *p,
                     size_t len)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len))
        abort();
    close(fd);
}

void fuzz_clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' &&
            (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            fuzz_clear_dir(path);
            rmdir(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
}

/* ------------------------------------------------------------ input */

int fuzz_split(const uint8_t *data, size_t len, struct fuzz_part *parts,
               int max)
{
    const size_t seplen = sizeof(FUZZ_SEPARATOR) - 1;
    int n = 0;

    while (n < max - 1) {
        const uint8_t *sep = memmem(data, len, FUZZ_SEPARATOR, seplen);
        if (!sep)
            break;
        parts[n].p = data;
        parts[n].len = (size_t)(sep - data);
        n++;
        len -= (size_t)(sep - data) + seplen;
        data = sep + seplen;
    }
    parts[n].p = data;
    parts[n].len = len;
    return n + 1;
}
