/*
 * evict.h -- the access clock, LFU counters and maxmemory eviction.
 */
#ifndef AKV_EVICT_H
#define AKV_EVICT_H

#include "keyspace.h"

bool akv_policy_is_lfu(int64_t policy);
/* Record an access to e at `now` (Unix ms): LRU clock or LFU counter. */
void akv_touch(struct akv_arena *a, struct akv_entry *e, int64_t now);
/* e_atime for a new entry. */
uint32_t akv_initial_atime(struct akv_arena *a, int64_t now_ms);
/* OBJECT FREQ: the decayed LFU counter. */
uint32_t akv_lfu_freq(struct akv_arena *a, const struct akv_entry *e);
/* Evict per maxmemory-policy until used memory <= target.  `avoid`: the
 * stripes the caller holds (then other stripes are only tried, never
 * waited for); op is scratch, not the caller's op.  -ENOMEM when nothing
 * (more) can be evicted. */
int akv_evict_until(struct akv_ctx *ctx, struct akv_op *op, uint64_t target,
                    uint64_t avoid);

#endif
