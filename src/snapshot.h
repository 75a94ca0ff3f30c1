/*
 * snapshot.h -- the keyspace saved to / loaded from a SQLite database.
 */
#ifndef AKV_SNAPSHOT_H
#define AKV_SNAPSHOT_H

#include "keyspace.h"

/* Called after stripe si was copied (and unlocked). */
typedef void (*akv_snapshot_hook)(void *ctx, int si);

/* Write every live key to a new SQLite file at path, stripe by stripe.
 * Returns 0 or -errno with a reason in why. */
int akv_snapshot_write(struct akv_ctx *ctx, const char *path,
                       akv_snapshot_hook between, void *hook_ctx,
                       uint64_t *rows, char *why, size_t whylen);
/* Load a snapshot into the arena (ctx->replaying should be set). */
int akv_snapshot_load(struct akv_ctx *ctx, const char *path, uint64_t *rows,
                      char *why, size_t whylen);

#endif
