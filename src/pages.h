/*
 * pages.h -- the arena's memory allocator: pages, runs and slab chunks.
 */
#ifndef AKV_PAGES_H
#define AKV_PAGES_H

#include "arena.h"

/* Bytes of the chunk size class for a request of `bytes` (header
 * included), as accounted in used_memory. */
size_t akv_chunk_class_size(size_t bytes);

/* Prepare the page table of a new arena. */
int akv_pages_init(struct akv_arena *a);

/* Allocate a chunk of at least `bytes` bytes (header included) for stripe
 * `si`.  Caller holds the stripe lock.  The chunk comes back in state
 * ALLOC.  Returns NULL when the arena has no room. */
struct akv_entry *akv_chunk_alloc_locked(struct akv_arena *a, int si,
                                         size_t bytes);

/* Return a chunk to its stripe.  Caller holds the stripe lock. */
void akv_chunk_free_locked(struct akv_arena *a, int si, struct akv_entry *e);

/* Usable bytes of a chunk, header included. */
size_t akv_chunk_capacity(const struct akv_arena *a,
                          const struct akv_entry *e);

/* Rebuild everything the allocator derives for stripe si (free lists,
 * partial lists, live counts, s_used) from the chunk states alone.
 * keep(e) decides, for every chunk that is not FREE, whether it stays;
 * chunks it refuses become free.  Caller holds the stripe lock. */
typedef bool (*akv_keep_fn)(struct akv_arena *a, struct akv_entry *e,
                            void *ctx);
void akv_pages_rebuild_stripe_locked(struct akv_arena *a, int si,
                                     akv_keep_fn keep, void *ctx);

/* Rebuild the free-run bins from the page table (the allocator's lock
 * holder died; called by akv_lock with h_pg_mutex held). */
void akv_pages_rebuild_locked(struct akv_arena *a);

/* Visit every chunk of stripe si that is not FREE (consistency checks). */
typedef void (*akv_visit_fn)(struct akv_arena *a, struct akv_entry *e,
                             void *ctx);
void akv_pages_visit_stripe_locked(struct akv_arena *a, int si,
                                   akv_visit_fn visit, void *ctx);

/* Check the page table; appends problems through report().  Returns the
 * number of problems.  Takes h_pg_mutex. */
int akv_pages_check(struct akv_arena *a,
                    void (*report)(void *ctx, const char *msg), void *ctx);

/* Pages handed out (slab pages and runs), for INFO's rss-like figures. */
uint64_t akv_pages_inuse_bytes(struct akv_arena *a);

#endif
