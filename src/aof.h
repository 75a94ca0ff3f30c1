/*
 * aof.h -- the append-only file: effect records, the drainer, replay.
 */
#ifndef AKV_AOF_H
#define AKV_AOF_H

#include <pthread.h>

#include "keyspace.h"

/* Encode the effects of a staged op as RESP commands into ctx->aof_buf
 * (wrapped in MULTI/EXEC when there are several).  *db / *db_end: the
 * logical db the commands run in and the one selected after them (-1 when
 * no command depends on the db).  Returns the payload length (0: nothing
 * to log).  Caller holds the op's stripe locks. */
size_t akv_aof_encode(struct akv_op *op, int *db, int *db_end);

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

#endif
