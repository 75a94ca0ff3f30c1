/*
 * aof.h -- the append-only file: effect records, the drainer, replay.
 */
#ifndef AKV_AOF_H
#define AKV_AOF_H

#include <pthread.h>

#include "keyspace.h"
#include "log.h"

/* Encode the effects of a staged op as RESP commands into ctx->aof_buf
 * (wrapped in MULTI/EXEC when there are several).  *db / *db_end: the
 * logical db the commands run in and the one selected after them (-1 when
 * no command depends on the db).  Returns the payload length (0: nothing
 * to log).  Caller holds the op's stripe locks. */
size_t akv_aof_encode(struct akv_op *op, int *db, int *db_end);

#define AKV_AOF_MAX_INCR 32 /* failed rewrites each leave one more */

/* What <appendfilename>.manifest lists, as Redis 7 writes it: an optional
 * base (here a SQLite snapshot) and incremental files in replay order. */
struct akv_manifest {
    char base[320];
    int base_seq;
    int nincr;
    char incr[AKV_AOF_MAX_INCR][320];
    int incr_seq[AKV_AOF_MAX_INCR];
};

/* The supervisor's drainer: a thread that moves committed records from
 * the ring to the incremental AOF file and fsyncs per appendfsync. */
struct akv_aof {
    struct akv_ctx ctx;        /* the drainer's own view (sweeps) */
    int fd;
    pthread_t thread;
    volatile bool stop;
    bool running;
    char dir[600];
    char incr[1024];           /* path of the incremental file */
    int64_t last_fsync_ms;
    uint64_t dead_pos;         /* record of a dead owner waiting to be */
    int64_t dead_ms;           /* reclaimed, and since when */
    uint64_t busy_pos;         /* RESERVED record blocking the drain, */
    int64_t busy_ms;           /* and when its owner was last checked */
    char name[256];            /* appendfilename */
    struct akv_manifest man;
    int cur;                   /* index in man.incr of the file being written */
    /* A rewrite hands the drainer a new incremental file to switch to at
     * ring position switch_at (under mu). */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool switching;
    uint64_t switch_at;
    int next_fd;
    pthread_t rewriter;
    _Atomic int rewriting;
    int64_t rewrite_started_ms;
    int rewrite_fails;         /* failed rewrites in a row */
    int64_t rewrite_after_ms;  /* no automatic rewrite before this */
    /* Disk errors (drainer only).  err: the errno while writes or fsyncs
     * fail (h_aof_write_err shows it to workers); retry_ms: the next
     * attempt; cut_pending: the file holds a short write past
     * h_aof_file_size that ftruncate could not remove yet.  synced_*:
     * ring position, file size and db the last good fsync covered
     * (appendfsync always writes again from there after a failed fsync). */
    int err;
    int64_t retry_ms;
    bool cut_pending;
    uint64_t synced_pos;
    uint64_t synced_size;
    int synced_db;
    struct akv_log_limit write_limit, fsync_limit;
};

/* Paths: <dir>/<appenddirname>/<appendfilename>.1.incr.aof and the
 * manifest next to it.  Creates the directory and the manifest. */
int akv_aof_open(struct akv_aof *aof, struct akv_arena *a, int slot,
                 const char **why);
/* Replay the file into a new arena (state LOADING).  A torn last command
 * is cut off (aof-load-truncated); corruption before it fails with the
 * offset in *why. */
int akv_aof_load(struct akv_aof *aof, struct akv_ctx *ctx, char *why,
                 size_t whylen);
/* Start / stop the drainer thread; stopping drains what is committed. */
int akv_aof_start(struct akv_aof *aof);
void akv_aof_stop(struct akv_aof *aof);

/* Compaction (aof_rewrite.c): snapshot the keyspace stripe by stripe into
 * a new SQLite base while writes go on, then switch the manifest to the
 * new base and the incremental file begun when the snapshot started.
 * Returns -EBUSY if one is running. */
int akv_aof_rewrite_start(struct akv_aof *aof);
/* Called from the supervisor's timer: starts a requested or automatic
 * rewrite, reaps a finished one. */
void akv_aof_rewrite_tick(struct akv_aof *aof);
/* Hand the drainer a new incremental file from ring position `at` on and
 * wait until it writes there. */
void akv_aof_switch(struct akv_aof *aof, uint64_t at, int fd);
int akv_manifest_write(struct akv_aof *aof, const struct akv_manifest *m);
/* Path of a file named in the manifest. */
void akv_aof_path(const struct akv_aof *aof, const char *name, char *buf,
                  size_t len);

#endif
