/*
 * table.h -- hash indexes over chunks: a stripe's index over its key
 * entries, and each large container's index over its elements.
 *
 * All functions expect the caller to hold the stripe lock (hence _locked).
 * The akv_ix_* functions work on any index whose bucket arrays are chunks
 * of stripe si; the akv_table_* ones are the stripe's key table.
 */
#ifndef AKV_TABLE_H
#define AKV_TABLE_H

#include "arena.h"

#define AKV_TABLE_MIN_BITS 4

/* ---- any index */
/* Limit of the stripe's table: bucket bits stay below the stripe bits. */
#define AKV_TABLE_MAX_BITS 26

/* Whether chunk e belongs in the chain. */
typedef bool (*akv_ix_match_fn)(const struct akv_entry *e, const void *ctx);

void akv_ix_init(struct akv_index *ix);
/* First chunk of the chain for hash in table t (0 or 1), 0 if none. */
uint32_t akv_ix_chain(struct akv_arena *a, const struct akv_index *ix, int t,
                      uint32_t hash);
/* The chunk with this hash that match() accepts, or NULL. */
struct akv_entry *akv_ix_find_locked(struct akv_arena *a,
                                     const struct akv_index *ix,
                                     uint32_t hash, akv_ix_match_fn match,
                                     const void *ctx);
/* Link e; may start growing.  False when there was no bucket array and
 * none could be allocated (e is then not linked). */
bool akv_ix_link_locked(struct akv_arena *a, int si, struct akv_index *ix,
                        struct akv_entry *e);
/* Unlink e; false if it was not linked. */
bool akv_ix_unlink_locked(struct akv_arena *a, int si, struct akv_index *ix,
                          struct akv_entry *e);
void akv_ix_rehash_step_locked(struct akv_arena *a, int si,
                               struct akv_index *ix, int n);
void akv_ix_maybe_shrink_locked(struct akv_arena *a, int si,
                                struct akv_index *ix);
/* Give an empty index n buckets for `count` chunks (no-op when it has a
 * table); false when there was no room. */
bool akv_ix_presize_locked(struct akv_arena *a, int si, struct akv_index *ix,
                           uint64_t count);
/* Free the bucket arrays (the chunks are untouched) and empty ix. */
void akv_ix_release_locked(struct akv_arena *a, int si, struct akv_index *ix);
uint64_t akv_ix_size(struct akv_arena *a, const struct akv_index *ix, int t);
typedef void (*akv_entry_fn)(struct akv_arena *a, int si,
                             struct akv_entry *e, void *ctx);
uint64_t akv_ix_scan_locked(struct akv_arena *a, int si,
                            const struct akv_index *ix, uint64_t cursor,
                            akv_entry_fn fn, void *ctx);
/* Visit every chunk; fn may unlink the chunk it is given. */
void akv_ix_foreach_locked(struct akv_arena *a, int si,
                           const struct akv_index *ix, akv_entry_fn fn,
                           void *ctx);

/* ---- the stripe's key table */
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
