/*
 * aof_check.h -- integrity check of append-only files, shared by
 * arenakv-check-aof and anything else that must know how much of an AOF
 * can be replayed.  It scans, it never replays: no keyspace is touched.
 *
 * An AOF is a plain stream of RESP multibulk commands, as Redis 7 writes
 * its incremental files; several commands that form one operation are
 * wrapped in MULTI ... EXEC.  Lines starting with '#' between commands
 * are annotations (Redis writes "#TS:<unix time>\r\n" with
 * aof-timestamp-enabled) and are skipped.
 */
#ifndef AKV_AOF_CHECK_H
#define AKV_AOF_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define AKV_AOF_CHECK_BUFSIZE (64 * 1024) /* bytes read at a time */
#define AKV_AOF_MAX_BULK (512ULL * 1024 * 1024) /* default longest bulk */
#define AKV_AOF_ANNOTATION_MAX 1023 /* bytes, '\n' included, as Redis */
#define AKV_AOF_MANIFEST_LINE_MAX 1024 /* bytes, '\n' included, as Redis */
#define AKV_AOF_NAME_MAX 32 /* longer first bulks are no command name */

enum akv_aof_status {
    AKV_AOF_VALID = 0,     /* every byte belongs to a complete command */
    AKV_AOF_TRUNCATED = 1, /* the file ends inside a command (or an
                            * annotation line), or inside a MULTI whose
                            * EXEC is missing: a torn write, fixable by
                            * truncating to the valid prefix */
    AKV_AOF_CORRUPT = 2    /* a byte that no command can contain, a
                            * nested MULTI or an EXEC without MULTI */
};

/* What a scan found.  The valid prefix ends after the last complete
 * command that is not inside an unterminated MULTI (or after the last
 * annotation line that follows such a command); replaying it replays
 * whole operations only. */
struct akv_aof_report {
    enum akv_aof_status status;
    uint64_t size;       /* bytes examined: the size asked for, or less
                          * if the file turned out shorter */
    uint64_t valid_len;  /* length of the valid prefix ("ok_up_to") */
    uint64_t commands;   /* commands in the valid prefix, MULTI and EXEC
                          * included; annotations not included */
    uint64_t bad_offset; /* CORRUPT: offset of the first bad byte (for a
                          * misplaced MULTI / EXEC: of its name); else
                          * size */
    uint64_t line;       /* where the scan stopped, counted as
                          * redis-check-aof's ok_up_to_line: 1 + the
                          * CRLF-terminated RESP lines read (annotation
                          * lines do not count) */
    char reason[128];    /* what is wrong, "" when VALID */
};

/* Tuning; a NULL pointer or a zero field means the default. */
struct akv_aof_check_opts {
    size_t bufsize;    /* bytes read at a time (AKV_AOF_CHECK_BUFSIZE) */
    uint64_t max_bulk; /* a longer bulk is corruption (AKV_AOF_MAX_BULK) */
    /* Called after each whole command, in file order, with the offset of
     * its '*', its name (NULL when longer than AKV_AOF_NAME_MAX) and its
     * argument count, the name included.  MULTI and EXEC too. */
    void (*on_command)(void *ctx, uint64_t offset, const char *name,
                       size_t len, uint64_t argc);
    void *cb_ctx;
};

/* Scan bytes [0, size) of the file open on fd with pread(2), which
 * leaves the file offset alone; bulk contents are skipped, not read, so
 * memory use is one buffer whatever the file holds.  Fills *rep and
 * returns 0 whatever the file's state; -errno on a read error or when
 * out of memory, -EINVAL on bad arguments. */
int akv_aof_check_fd(int fd, uint64_t size,
                     const struct akv_aof_check_opts *opts,
                     struct akv_aof_report *rep);

/* akv_aof_check_fd() on the whole of the regular file at path.  Returns
 * -errno from open(2), -EISDIR or -EINVAL for what is not a regular file,
 * or what akv_aof_check_fd() returns. */
int akv_aof_check_path(const char *path,
                       const struct akv_aof_check_opts *opts,
                       struct akv_aof_report *rep);

/* Shrink the file at path to offset bytes and fsync it.  Never grows a
 * file: -EINVAL when offset is beyond its end. */
int akv_aof_truncate(const char *path, uint64_t offset);

/* ------------------------------------------------ multi-part AOF files */

enum akv_aof_kind {
    AKV_AOF_KIND_AOF = 0,      /* RESP commands (or empty) */
    AKV_AOF_KIND_MANIFEST = 1, /* a Redis 7 multi-part manifest */
    AKV_AOF_KIND_SQLITE = 2,   /* an SQLite database (our base files) */
    AKV_AOF_KIND_RDB = 3       /* a Redis RDB file or RDB preamble */
};

/* Guess what the file at path holds from its first bytes: an SQLite or
 * RDB header, or else a manifest when its first line that is not a '#'
 * comment starts with "file", or else an AOF.  Returns the kind, or
 * -errno when the file cannot be read. */
int akv_aof_check_sniff(const char *path);

/* One line of a manifest: "file <name> seq <n> type <b|h|i>". */
struct akv_aof_manifest_file {
    char *name;    /* a bare file name, in the manifest's directory */
    long long seq;
    char type;     /* 'b' base, 'h' history, 'i' incremental */
};

struct akv_aof_manifest {
    struct akv_aof_manifest_file *files; /* in the manifest's order */
    size_t nfiles;
};

/* Read the manifest at path with Redis 7.0's rules: '#' lines are
 * comments; every other line ends with '\n', is at most
 * AKV_AOF_MANIFEST_LINE_MAX bytes and holds key/value pairs (quoted as
 * redis.conf values may be) including file, seq (not 0) and type;
 * unknown keys are ignored; at most one base; incremental files have
 * increasing seq.  Returns 0, -errno if the file cannot be read (err
 * empty), or -EINVAL with Redis's message and the line in err.  Free
 * with akv_aof_manifest_free() (also after a failure). */
int akv_aof_manifest_load(const char *path, struct akv_aof_manifest *m,
                          char *err, size_t errlen);
void akv_aof_manifest_free(struct akv_aof_manifest *m);

#endif
