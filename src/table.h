/*
 * table.h -- a stripe's hash index over its key entries.
 *
 * All functions expect the caller to hold the stripe lock (hence _locked).
 */
#ifndef AKV_TABLE_H
#define AKV_TABLE_H

#include "arena.h"

#define AKV_TABLE_MIN_BITS 4

struct akv_entry *akv_table_find_locked(struct akv_arena *a, int si,
                                        uint8_t pdb, const char *key,
                                        size_t klen, uint32_t hash);
/* Make sure the stripe has a bucket array; false if the arena is full. */
bool akv_table_ensure_locked(struct akv_arena *a, int si);
/* Give an empty stripe a table sized for `keys` keys at once, so a bulk
 * load neither rehashes nor walks long chains.  Does nothing to a stripe
 * that already has a table. */
void akv_table_presize_locked(struct akv_arena *a, int si, uint64_t keys);
/* Link a LIVE/NEW entry; may start growing the table. */
void akv_table_link_locked(struct akv_arena *a, int si, struct akv_entry *e);
void akv_table_unlink_locked(struct akv_arena *a, int si,
                             struct akv_entry *e);
/* Move up to n buckets of an ongoing rehash (incremental growth). */
void akv_table_rehash_step_locked(struct akv_arena *a, int si, int n);
/* Start shrinking when the table is mostly empty. */
void akv_table_maybe_shrink_locked(struct akv_arena *a, int si);

/* Empty the index (the entries are untouched): used by repair before it
 * links every live entry again.  Drops a second table if any. */
void akv_table_reset_locked(struct akv_arena *a, int si);

typedef void (*akv_entry_fn)(struct akv_arena *a, int si,
                             struct akv_entry *e, void *ctx);
/* Visit the entries of one scan step (Redis's dictScan guarantee over
 * growth and shrinking); returns the next cursor, 0 when done. */
uint64_t akv_table_scan_locked(struct akv_arena *a, int si, uint64_t cursor,
                               akv_entry_fn fn, void *ctx);
/* Visit every entry; fn may not unlink. */
void akv_table_foreach_locked(struct akv_arena *a, int si, akv_entry_fn fn,
                              void *ctx);
/* Number of buckets of table t (0 or 1), 0 if absent. */
uint64_t akv_table_size_locked(struct akv_arena *a, int si, int t);

static inline const char *akv_entry_key(const struct akv_entry *e)
{
    return e->e_data;
}

static inline char *akv_entry_val(struct akv_entry *e)
{
    return e->e_data + e->e_klen;
}

#endif
