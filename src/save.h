/*
 * save.h -- snapshots to dbfilename: SAVE, BGSAVE and the save rules.
 */
#ifndef AKV_SAVE_H
#define AKV_SAVE_H

#include <pthread.h>

#include "keyspace.h"
#include "log.h"

struct akv_saver {
    struct akv_ctx ctx;
    pthread_t thread;
    _Atomic int state;   /* 0 idle, 1 running, 2 finished: join */
    char path[1100];
    int64_t tried_ms;    /* monotonic time of the last attempt */
    struct akv_log_limit fail_limit;
};

void akv_saver_init(struct akv_saver *sv, struct akv_arena *a, int slot);
/* Supervisor timer: start a requested or rule-driven save, reap one. */
void akv_saver_tick(struct akv_saver *sv);
/* Save now in this thread (shutdown).  Returns 0 or -errno. */
int akv_save_now(struct akv_saver *sv);
/* Load dbfilename into a new arena, if it exists. */
int akv_save_load(struct akv_ctx *ctx, char *why, size_t whylen);

#endif
