/*
 * clients.h -- client slots in the arena and the liveness of their owners.
 */
#ifndef AKV_CLIENTS_H
#define AKV_CLIENTS_H

#include "arena.h"
#include "keyspace.h"

/* Claim a free slot for the calling process (not a connection: hidden
 * from CLIENT LIST, not counted against maxclients) and take its liveness
 * lock.  Returns the slot index, or -1 when every slot is used. */
int akv_slot_claim(struct akv_arena *a);
/* The same for a connection: -1 when maxclients connections are already
 * admitted (the check and the claim are one step). */
int akv_slot_claim_client(struct akv_arena *a, int64_t maxclients);
/* Recount h_nslots from the slots (caller holds AKV_LOCK_SLOTS). */
void akv_slots_recount_locked(struct akv_arena *a);
/* Give the slot back (clean exit). */
void akv_slot_release(struct akv_arena *a, int slot);
/* Whether the owner of a claimed slot is still alive. */
bool akv_slot_owner_alive(struct akv_arena *a, int slot);
/* Bump one of the owner's counters (owner only: no atomic RMW needed). */
static inline void akv_slot_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter,
                          atomic_load_explicit(counter, memory_order_relaxed) +
                              n,
                          memory_order_relaxed);
}
/* Totals over retired and live slots, for INFO. */
void akv_stats_totals(struct akv_arena *a, struct akv_slot_stats *out);
/* Keys changed since the last good save. */
uint64_t akv_dirty(struct akv_arena *a);
/* Start the totals from zero (CONFIG RESETSTAT). */
void akv_stats_reset(struct akv_arena *a);
/* Slots at or above this index have never been claimed. */
int akv_slots_hwm(struct akv_arena *a);
/* Number of claimed connection slots (exact). */
int akv_slots_in_use(struct akv_arena *a);
/* Free the slots of dead owners after repairing every stripe they may have
 * left locked.  Returns how many were reaped. */
int akv_reap_dead_slots(struct akv_ctx *ctx);

#endif
