/*
 * expire.h -- active expiry, run by the supervisor.
 */
#ifndef AKV_EXPIRE_H
#define AKV_EXPIRE_H

#include "keyspace.h"

struct akv_expirer {
    uint64_t cursor[AKV_NSTRIPES]; /* scan position in each stripe */
    int next;                      /* stripe to visit next */
    struct akv_op op;
};

/* One cycle: reclaim expired keys for at most budget_us microseconds. */
void akv_active_expire_cycle(struct akv_ctx *ctx, struct akv_expirer *ex,
                             int64_t budget_us);

#endif
