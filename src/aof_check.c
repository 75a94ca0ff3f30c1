/*
 * aof_check.c -- the AOF integrity scanner, truncation of a torn tail,
 * and the reading of multi-part manifests for the checker.
 *
 * The scanner is a byte-at-a-time state machine over a strict grammar:
 *
 *     file       = *( command / annotation )
 *     command    = "*" count CRLF 1*( "$" length CRLF bytes CRLF )
 *     annotation = "#" *( any byte but LF ) LF     (1023 bytes at most)
 *
 * where count (1 .. INT_MAX) and length (0 .. max_bulk) are decimal
 * numbers without sign or leading zeros, and count says how many bulks
 * follow.  Inline commands, other RESP types, and CR or LF alone are
 * corruption.  A MULTI opens an operation that the next EXEC closes; a
 * MULTI inside one, or an EXEC outside one, is corruption.
 *
 * Bulk contents are never examined except the first bulk of a command
 * when it is short enough to be a command's name (MULTI and EXEC are
 * checked here, the rest by the caller's on_command), so the scanner skips them
 * by moving its read offset: a 512 MB value costs no memory and no read.
 * Everything else goes through one buffer of fixed size.
 *
 * Invariants of a scan:
 *   - valid_len only grows, and only at the end of a command outside
 *     MULTI, at the end of an EXEC, or at the end of an annotation outside
 *     MULTI; commands grows with it (a transaction's commands at once);
 *   - the scan stops at the first bad byte, so bad_offset is the smallest
 *     offset at which the file stops being a prefix of a valid file;
 *   - reaching the end anywhere but between commands outside MULTI is a
 *     truncation, never corruption.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "akv.h"
#include "aof_check.h"
#include "config.h"
#include "util.h"

/* ------------------------------------------------------------ scanner */

enum scan_state {
    S_START,     /* between commands */
    S_ARGC,      /* digits after '*' */
    S_ARGC_LF,   /* the LF after the count */
    S_DOLLAR,    /* '$' of the next bulk */
    S_BULKLEN,   /* digits after '$' */
    S_BULKLEN_LF,
    S_BULK,      /* bulk contents */
    S_BULK_CR,   /* the CRLF after them */
    S_BULK_LF,
    S_ANNOT      /* inside an annotation line */
};

struct scan {
    struct akv_aof_report *rep;
    uint64_t max_bulk;
    uint64_t off;        /* file offset of the next byte */
    enum scan_state state;
    uint64_t num;        /* number being read */
    int ndigits;
    uint64_t args_left;  /* bulks still expected in this command */
    bool first_arg;      /* reading the command's name */
    uint64_t bulk_left;  /* content bytes not yet consumed */
    uint64_t name_off;   /* offset of the name's contents */
    bool capture;        /* the name is short: keep its bytes */
    char name[AKV_AOF_NAME_MAX];
    size_t name_len;
    bool have_name;      /* name[] holds the whole name */
    uint64_t cmd_off;    /* offset of the command's '*' */
    uint64_t argc;
    const struct akv_aof_check_opts *opts;
    bool is_multi, is_exec;
    uint64_t line_start; /* annotation: offset of its '#' */
    bool in_multi;
    uint64_t pending;    /* commands since MULTI, MULTI included */
};

/* Describes byte c for a reason string. */
static const char *show_byte(unsigned char c, char *buf, size_t len)
{
    if (c > ' ' && c < 0x7f)
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02x", c);
    return buf;
}

/* Stops the scan: corruption at offset at, for the reason why.  Always
 * returns 1. */
static int corrupt(struct scan *s, uint64_t at, const char *why)
{
    s->rep->status = AKV_AOF_CORRUPT;
    s->rep->bad_offset = at;
    snprintf(s->rep->reason, sizeof(s->rep->reason), "%s", why);
    return 1;
}

/* Corruption at the current byte c; fmt has one %s that shows it. */
static int bad_byte(struct scan *s, const char *fmt, unsigned char c)
{
    char b[16], why[sizeof(s->rep->reason)];

    snprintf(why, sizeof(why), fmt, show_byte(c, b, sizeof(b)));
    return corrupt(s, s->off, why);
}

/* Adds decimal digit c to s->num; false if the number goes above max or
 * would have a leading zero. */
static bool add_digit(struct scan *s, unsigned char c, uint64_t max)
{
    uint64_t d = (uint64_t)(c - '0');

    if (c < '0' || c > '9' || (s->ndigits > 0 && s->num == 0))
        return false;
    if (d > max || s->num > (max - d) / 10)
        return false;
    s->num = s->num * 10 + d;
    s->ndigits++;
    return true;
}

/* The valid prefix now ends at end and holds ncmds more commands. */
static void commit(struct scan *s, uint64_t end, uint64_t ncmds)
{
    s->rep->valid_len = end;
    s->rep->commands += ncmds;
}

/* The LF that ends a command's last bulk is at end - 1. */
static void command_done(struct scan *s, uint64_t end)
{
    if (s->opts && s->opts->on_command)
        s->opts->on_command(s->opts->cb_ctx, s->cmd_off,
                            s->have_name ? s->name : NULL, s->name_len,
                            s->argc);
    if (s->is_multi) {
        s->in_multi = true;
        s->pending = 1;
    } else if (s->in_multi) {
        s->pending++;
        if (s->is_exec) {
            s->in_multi = false;
            commit(s, end, s->pending);
        }
    } else {
        commit(s, end, 1);
    }
    s->state = S_START;
}

/* The name is complete: MULTI and EXEC must nest properly. */
static int name_done(struct scan *s)
{
    bool known = s->capture;

    s->have_name = known;
    s->is_multi = known && akv_strcaseeq(s->name, s->name_len, "multi");
    s->is_exec = known && akv_strcaseeq(s->name, s->name_len, "exec");
    if (s->is_multi && s->in_multi)
        return corrupt(s, s->name_off, "Unexpected MULTI (already inside "
                       "a MULTI)");
    if (s->is_exec && !s->in_multi)
        return corrupt(s, s->name_off, "Unexpected EXEC (no MULTI before "
                       "it)");
    return 0;
}

/* The LF after a bulk's contents, at s->off. */
static int bulk_done(struct scan *s)
{
    s->rep->line++;
    if (s->first_arg && name_done(s))
        return 1;
    s->first_arg = false;
    if (--s->args_left == 0)
        command_done(s, s->off + 1);
    else
        s->state = S_DOLLAR;
    return 0;
}

/* The LF after a bulk length, at s->off. */
static void bulk_start(struct scan *s)
{
    s->rep->line++;
    s->bulk_left = s->num;
    s->name_off = s->off + 1;
    s->capture = s->first_arg && s->num <= sizeof(s->name);
    if (s->first_arg)
        s->name_len = 0;
    s->state = s->num ? S_BULK : S_BULK_CR;
}

static int at_start(struct scan *s, unsigned char c)
{
    s->num = 0;
    s->ndigits = 0;
    if (c == '*') {
        s->cmd_off = s->off;
        s->state = S_ARGC;
        return 0;
    }
    if (c == '#') {
        s->line_start = s->off;
        s->state = S_ANNOT;
        return 0;
    }
    return bad_byte(s, "Expected '*' at the start of a command, got %s",
                    c);
}

static int in_annotation(struct scan *s, unsigned char c)
{
    if (c == '\n') {
        if (!s->in_multi)
            commit(s, s->off + 1, 0);
        s->state = S_START;
        return 0;
    }
    if (s->off - s->line_start + 1 >= AKV_AOF_ANNOTATION_MAX)
        return corrupt(s, s->off, "Annotation line longer than 1023 "
                       "bytes");
    return 0;
}

/* Consumes byte c at s->off; returns 1 when it is corrupt. */
static int scan_byte(struct scan *s, unsigned char c)
{
    switch (s->state) {
    case S_START:
        return at_start(s, c);
    case S_ANNOT:
        return in_annotation(s, c);
    case S_ARGC:
        if (c == '\r' && s->ndigits > 0)
            s->state = S_ARGC_LF;
        else if (!add_digit(s, c, INT_MAX) || s->num == 0)
            return bad_byte(s, "Invalid multibulk length (at %s)", c);
        return 0;
    case S_ARGC_LF:
        if (c != '\n')
            return bad_byte(s, "Expected \\n after \\r, got %s", c);
        s->rep->line++;
        s->args_left = s->argc = s->num;
        s->first_arg = true;
        s->state = S_DOLLAR;
        return 0;
    case S_DOLLAR:
        if (c != '$')
            return bad_byte(s, "Expected '$', got %s", c);
        s->num = 0;
        s->ndigits = 0;
        s->state = S_BULKLEN;
        return 0;
    case S_BULKLEN:
        if (c == '\r' && s->ndigits > 0)
            s->state = S_BULKLEN_LF;
        else if (!add_digit(s, c, s->max_bulk))
            return bad_byte(s, "Invalid bulk length (at %s)", c);
        return 0;
    case S_BULKLEN_LF:
        if (c != '\n')
            return bad_byte(s, "Expected \\n after \\r, got %s", c);
        bulk_start(s);
        return 0;
    case S_BULK:
        /* Only short names come here; longer contents are skipped. */
        s->name[s->name_len++] = (char)c;
        if (--s->bulk_left == 0)
            s->state = S_BULK_CR;
        return 0;
    case S_BULK_CR:
        if (c != '\r')
            return bad_byte(s, "Expected \\r\\n after the bulk's "
                           "contents, got %s", c);
        s->state = S_BULK_LF;
        return 0;
    case S_BULK_LF:
        if (c != '\n')
            return bad_byte(s, "Expected \\n after \\r, got %s", c);
        return bulk_done(s);
    }
    return 0;
}

/* The scan reached the end of the data without finding corruption. */
static void scan_end(struct scan *s)
{
    struct akv_aof_report *rep = s->rep;

    rep->bad_offset = rep->size;
    if (s->state == S_ANNOT) {
        rep->status = AKV_AOF_TRUNCATED;
        snprintf(rep->reason, sizeof(rep->reason),
                 "End of file inside an annotation line");
    } else if (s->state != S_START) {
        rep->status = AKV_AOF_TRUNCATED;
        snprintf(rep->reason, sizeof(rep->reason),
                 "End of file inside a command");
    } else if (s->in_multi) {
        rep->status = AKV_AOF_TRUNCATED;
        snprintf(rep->reason, sizeof(rep->reason),
                 "Reached EOF before reading EXEC for MULTI");
    }
}

/* Returns bytes read into buf at offset off (0 at end of file), or
 * -errno. */
static ssize_t read_at(int fd, char *buf, size_t len, uint64_t off)
{
    ssize_t n;

    do
        n = pread(fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* Skips what is left of a bulk's contents (or of the file) without
 * reading it. */
static void skip_bulk(struct scan *s)
{
    uint64_t n = AKV_MIN(s->bulk_left, s->rep->size - s->off);

    s->off += n;
    s->bulk_left -= n;
    if (s->bulk_left == 0)
        s->state = S_BULK_CR;
}

/* Runs the scan over [0, rep->size) of fd through buf; returns 0 or
 * -errno. */
static int scan_file(struct scan *s, int fd, char *buf, size_t bufsize)
{
    uint64_t buf_off = 0, buf_len = 0;

    while (s->off < s->rep->size) {
        if (s->state == S_BULK && !s->capture) {
            skip_bulk(s);
            continue;
        }
        if (s->off < buf_off || s->off >= buf_off + buf_len) {
            ssize_t n = read_at(fd, buf, (size_t)AKV_MIN((uint64_t)bufsize,
                                s->rep->size - s->off), s->off);
            if (n < 0)
                return (int)n;
            if (n == 0) {
                s->rep->size = s->off; /* shorter than the caller said */
                break;
            }
            buf_off = s->off;
            buf_len = (uint64_t)n;
        }
        if (scan_byte(s, (unsigned char)buf[s->off - buf_off]))
            return 0;
        s->off++;
    }
    scan_end(s);
    return 0;
}

int akv_aof_check_fd(int fd, uint64_t size,
                     const struct akv_aof_check_opts *opts,
                     struct akv_aof_report *rep)
{
    size_t bufsize = opts && opts->bufsize ? opts->bufsize
                                           : AKV_AOF_CHECK_BUFSIZE;
    struct scan s;
    char *buf;
    int ret;

    if (fd < 0 || !rep || size > (uint64_t)INT64_MAX)
        return -EINVAL;
    memset(rep, 0, sizeof(*rep));
    rep->size = size;
    rep->line = 1;
    memset(&s, 0, sizeof(s));
    s.rep = rep;
    s.opts = opts;
    s.max_bulk = opts && opts->max_bulk ? opts->max_bulk : AKV_AOF_MAX_BULK;
    s.state = S_START;
    buf = malloc(bufsize);
    if (!buf)
        return -ENOMEM;
    ret = scan_file(&s, fd, buf, bufsize);
    free(buf);
    return ret;
}

int akv_aof_check_path(const char *path,
                       const struct akv_aof_check_opts *opts,
                       struct akv_aof_report *rep)
{
    struct stat st;
    int fd, ret;

    if (!path)
        return -EINVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        ret = -errno;
    else if (S_ISDIR(st.st_mode))
        ret = -EISDIR;
    else if (!S_ISREG(st.st_mode))
        ret = -EINVAL;
    else
        ret = akv_aof_check_fd(fd, (uint64_t)st.st_size, opts, rep);
    close(fd);
    return ret;
}

int akv_aof_truncate(const char *path, uint64_t offset)
{
    struct stat st;
    int fd, ret = 0;

    if (!path || offset > (uint64_t)INT64_MAX)
        return -EINVAL;
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        ret = -errno;
    else if (!S_ISREG(st.st_mode) || offset > (uint64_t)st.st_size)
        ret = -EINVAL;
    else if (ftruncate(fd, (off_t)offset) < 0 || fsync(fd) < 0)
        ret = -errno;
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    return ret;
}

/* ------------------------------------------------ multi-part AOF files */

#define SNIFF_LEN 4096
#define MANIFEST_MAX (64 * 1024 * 1024)

/* Reads up to len bytes from the start of path into buf; returns the
 * count or -errno. */
static ssize_t read_head(const char *path, char *buf, size_t len)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    n = read_at(fd, buf, len, 0);
    close(fd);
    return n;
}

/* Whether the first line of buf[0..len) that is not a '#' line starts
 * with "file", as Redis tells a manifest from an AOF (Redis looks at
 * every line, and so mistakes an AOF that holds a "file..." bulk for a
 * manifest; looking at the first line only does not). */
static bool looks_like_manifest(const char *buf, size_t len)
{
    size_t p = 0;

    while (p < len && buf[p] == '#') {
        const char *nl = memchr(buf + p, '\n', len - p);
        if (!nl)
            return false;
        p = (size_t)(nl - buf) + 1;
    }
    return len - p >= 4 && memcmp(buf + p, "file", 4) == 0;
}

int akv_aof_check_sniff(const char *path)
{
    static const char sqlite_magic[16] = "SQLite format 3";
    char buf[SNIFF_LEN];
    ssize_t n = read_head(path, buf, sizeof(buf));

    if (n < 0)
        return (int)n;
    if (n >= 16 && memcmp(buf, sqlite_magic, 16) == 0)
        return AKV_AOF_KIND_SQLITE;
    if (n >= 5 && memcmp(buf, "REDIS", 5) == 0)
        return AKV_AOF_KIND_RDB;
    if (looks_like_manifest(buf, (size_t)n))
        return AKV_AOF_KIND_MANIFEST;
    return AKV_AOF_KIND_AOF;
}

/* Reads the whole (small) file at path into a NUL-terminated buffer. */
static int slurp(const char *path, char **out, size_t *outlen)
{
    struct stat st;
    char *buf = NULL;
    ssize_t n = 0;
    int fd, ret = 0;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        goto finish;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MANIFEST_MAX) {
        ret = S_ISDIR(st.st_mode) ? -EISDIR : -EFBIG;
        goto finish;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        ret = -ENOMEM;
        goto finish;
    }
    n = read_at(fd, buf, (size_t)st.st_size, 0);
    if (n < 0) {
        ret = (int)n;
        goto finish;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = (size_t)n;
    buf = NULL;
finish:
    free(buf);
    close(fd);
    return ret;
}

/* Fills f from the key/value pairs of one split line; returns Redis's
 * complaint or NULL. */
static const char *manifest_pairs(char **argv, int argc,
                                  struct akv_aof_manifest_file *f)
{
    for (int i = 0; i < argc; i += 2) {
        if (akv_strcaseeq(argv[i], strlen(argv[i]), "file")) {
            if (strchr(argv[i + 1], '/') || strchr(argv[i + 1], '\\'))
                return "File can't be a path, just a filename";
            free(f->name);
            f->name = strdup(argv[i + 1]);
            if (!f->name)
                return "Out of memory";
        } else if (akv_strcaseeq(argv[i], strlen(argv[i]), "seq")) {
            f->seq = strtoll(argv[i + 1], NULL, 10);
        } else if (akv_strcaseeq(argv[i], strlen(argv[i]), "type")) {
            f->type = argv[i + 1][0];
        }
    }
    if (!f->name || !f->seq || !f->type)
        return "Invalid AOF manifest file format";
    return NULL;
}

/* Checks f against the files before it; returns Redis's complaint or
 * NULL. */
static const char *manifest_order(const struct akv_aof_manifest *m,
                                  const struct akv_aof_manifest_file *f)
{
    long long maxseq = 0;
    bool base = false;

    for (size_t i = 0; i < m->nfiles; i++) {
        base |= m->files[i].type == 'b';
        if (m->files[i].type == 'i')
            maxseq = m->files[i].seq;
    }
    if (f->type == 'b' && base)
        return "Found duplicate base file information";
    if (f->type == 'i' && f->seq <= maxseq)
        return "Found a non-monotonic sequence number";
    if (f->type != 'b' && f->type != 'h' && f->type != 'i')
        return "Unknown AOF file type";
    return NULL;
}

/* Parses one manifest line (without its '\n', trimmed, not empty) and
 * appends it to m; returns Redis's complaint or NULL. */
static const char *manifest_line(struct akv_aof_manifest *m,
                                 const char *line, size_t len)
{
    struct akv_aof_manifest_file f = {0}, *grown;
    char *argv[AKV_AOF_MANIFEST_LINE_MAX / 2 + 1];
    char buf[AKV_AOF_MANIFEST_LINE_MAX + 1];
    const char *why;
    int argc;

    argc = akv_split_args(line, len, argv, NULL, (int)akv_nelem(argv), buf,
                          sizeof(buf));
    if (argc < 6 || argc % 2)
        return "Invalid AOF manifest file format";
    why = manifest_pairs(argv, argc, &f);
    if (!why)
        why = manifest_order(m, &f);
    if (!why) {
        grown = realloc(m->files, (m->nfiles + 1) * sizeof(*grown));
        if (!grown)
            why = "Out of memory";
        else
            m->files = grown;
    }
    if (why) {
        free(f.name);
        return why;
    }
    m->files[m->nfiles++] = f;
    return NULL;
}

static bool is_trim(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses text[0..len) into m; returns Redis's complaint (and the number
 * of the line at fault in *lineno, 0 for none) or NULL. */
static const char *manifest_parse(struct akv_aof_manifest *m,
                                  const char *text, size_t len, int *lineno,
                                  size_t *line_at, size_t *line_len)
{
    size_t p = 0;

    *lineno = 0;
    if (len == 0)
        return "Found an empty AOF manifest";
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        size_t a = p, b = end;
        const char *why;

        ++*lineno;
        p = end;
        if (text[a] == '#')
            continue;
        if (!nl || end - a > AKV_AOF_MANIFEST_LINE_MAX) {
            *lineno = 0;
            return "The AOF manifest file contains too long line";
        }
        while (a < b && is_trim(text[a]))
            a++;
        while (b > a && is_trim(text[b - 1]))
            b--;
        *line_at = a;
        *line_len = b - a;
        why = a == b ? "Invalid AOF manifest file format"
                     : manifest_line(m, text + a, b - a);
        if (why)
            return why;
    }
    return NULL;
}

int akv_aof_manifest_load(const char *path, struct akv_aof_manifest *m,
                          char *err, size_t errlen)
{
    const char *why;
    char *text = NULL;
    size_t len = 0, at = 0, linelen = 0;
    int ret, lineno;

    memset(m, 0, sizeof(*m));
    if (errlen)
        err[0] = '\0';
    ret = slurp(path, &text, &len);
    if (ret < 0)
        goto finish;
    why = manifest_parse(m, text, len, &lineno, &at, &linelen);
    if (why && lineno > 0)
        snprintf(err, errlen, "%s (line %d: '%.*s')", why, lineno,
                 (int)AKV_MIN(linelen, 200), text + at);
    else if (why)
        snprintf(err, errlen, "%s", why);
    ret = why ? -EINVAL : 0;
finish:
    free(text);
    return ret;
}

void akv_aof_manifest_free(struct akv_aof_manifest *m)
{
    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i].name);
    free(m->files);
    m->files = NULL;
    m->nfiles = 0;
}
