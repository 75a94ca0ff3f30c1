/*
 * container.h -- hashes and sets of any size: element chunks in the key's
 * stripe, and the index over them.
 *
 * A hash or a set has one of two shapes:
 *
 *   packed  (OBJECT ENCODING "listpack" for a hash, "intset" for a set):
 *           the whole container is the value of its key entry, rewritten
 *           by every write like a string (copy-on-write).  Small by
 *           definition (hash-max-listpack-*, set-max-intset-entries).
 *   large   ("hashtable"): the key entry's value is a struct akv_cont, and
 *           every field (with its value) or member is an element chunk of
 *           its own, in the key's stripe.  A write stages new element
 *           chunks (NEW) and removals (OLD) exactly as keys are staged, so
 *           the intent protocol of stripe.c makes every element write
 *           crash-safe at O(1) per element, whatever the container's size.
 *
 * Element chunks carry the 32-byte struct akv_entry header:
 *   e_next   chain link in the container's index
 *   e_hash   hash of the field / member bytes
 *   e_klen   field / member length;  e_vlen  value length (0 for sets)
 *   e_owner  the id of the container (struct akv_cont.ct_id) that owns it
 *   e_state  LIVE, NEW, OLD as for key entries
 *   e_type   AKV_ELEM_FLAG | the container's type
 *   e_data   field bytes, then value bytes.
 *
 * Everything that links elements (the index's bucket arrays, the element
 * count, the byte count) is derived state, written only after the commit
 * and rebuilt from the element chunks by repair; the owner id is what ties
 * a chunk to its container, so a key entry may be replaced (RENAME or MOVE
 * inside the stripe, an expiry change) without touching its elements.
 *
 * A large container that goes away (DEL, UNLINK, expiry, eviction,
 * overwrite, FLUSHDB) is unlinked from the keyspace at its commit in O(1)
 * and its elements are freed afterwards in bounded steps (container.c).
 *
 * All functions expect the caller to hold the key's stripe lock (inside
 * the op the dispatcher began).  Functions taking an op see the op's own
 * staged puts and removals; the iterators see the committed state.
 */
#ifndef AKV_CONTAINER_H
#define AKV_CONTAINER_H

#include "keyspace.h"

/* e_type of element chunks: this flag or'ed with the container's type. */
#define AKV_ELEM_FLAG 0x80

static inline bool akv_chunk_is_elem(const struct akv_entry *e)
{
    return (e->e_type & AKV_ELEM_FLAG) != 0;
}

static inline const char *akv_elem_field(const struct akv_entry *el)
{
    return el->e_data;
}

static inline size_t akv_elem_flen(const struct akv_entry *el)
{
    return el->e_klen;
}

static inline char *akv_elem_val(struct akv_entry *el)
{
    return el->e_data + el->e_klen;
}

static inline size_t akv_elem_vlen(const struct akv_entry *el)
{
    return el->e_vlen;
}

/* The value of a large container's key entry.  ct_id is written once,
 * when the container is created; everything else is derived state: set
 * after commits (stripe.c) and rebuilt by repair from the element chunks.
 * It sits at the first 8-byte boundary after the key bytes. */
struct akv_cont {
    uint64_t ct_id;          /* owner id of its elements (stripe-unique) */
    struct akv_index ct_ix;  /* the elements; ix_count = how many */
    uint64_t ct_bytes;       /* bytes of their chunks */
    uint64_t ct_cursor;      /* DYING: next bucket the freeing visits */
};

static inline size_t akv_cont_pad(size_t klen)
{
    return (8 - (klen & 7)) & 7;
}

/* e_vlen of a large container's key entry with a klen-byte key. */
static inline size_t akv_cont_vlen(size_t klen)
{
    return akv_cont_pad(klen) + sizeof(struct akv_cont);
}

static inline struct akv_cont *akv_cont_of(const struct akv_entry *ke)
{
    return (struct akv_cont *)(void *)((char *)ke->e_data + ke->e_klen +
                                       akv_cont_pad(ke->e_klen));
}

/* Whether key entry ke holds a large (element-chunk) container. */
static inline bool akv_is_large(const struct akv_entry *ke)
{
    return ke->e_type != AKV_TYPE_STRING &&
           akv_entry_enc(ke) == AKV_ENC_HASHTABLE;
}

/* ---- staging (inside an op) */

/* Stage a new, empty large container (encoding hashtable) of type t under
 * key k with the given expiry.  The caller stages the removal of any old
 * entry of k itself (akv_op_del), and declares the command's effect.
 * NULL when there is no memory (the op's writes are then the caller's to
 * discard). */
struct akv_entry *akv_cont_create(struct akv_op *op, const struct akv_key *k,
                                  enum akv_type t, int64_t expire);
/* The element `f` of container ke as this op sees it, or NULL. */
struct akv_entry *akv_cont_find(struct akv_op *op, struct akv_entry *ke,
                                const char *f, size_t flen);
/* Stage element f with value v[0..vlen) (v may be NULL: the caller fills
 * akv_elem_val() of the result), replacing `old` (as akv_cont_find
 * returned it, or NULL when f is new).  NULL when there is no memory. */
struct akv_entry *akv_cont_put(struct akv_op *op, struct akv_entry *ke,
                               struct akv_entry *old, const char *f,
                               size_t flen, const char *v, size_t vlen);
/* Stage the removal of element el (as akv_cont_find returned it). */
void akv_cont_del(struct akv_op *op, struct akv_entry *ke,
                  struct akv_entry *el);
/* Elements of ke as this op sees it. */
uint64_t akv_cont_count(const struct akv_op *op, const struct akv_entry *ke);

/* ---- reading (committed state) */

/* Elements of a large container. */
uint64_t akv_cont_len(struct akv_arena *a, const struct akv_entry *ke);
/* Called per element; return false to stop. */
typedef bool (*akv_elem_fn)(struct akv_entry *el, void *ctx);
/* Visit every element; returns false if fn stopped early. */
bool akv_cont_foreach(struct akv_arena *a, const struct akv_entry *ke,
                      akv_elem_fn fn, void *ctx);
/* One step of HSCAN / SSCAN with Redis's guarantee (every element present
 * for the whole iteration is returned at least once, across growth and
 * shrinking of the index); returns the next cursor, 0 when done. */
uint64_t akv_cont_scan(struct akv_arena *a, const struct akv_entry *ke,
                       uint64_t cursor, akv_elem_fn fn, void *ctx);
/* A random element (each with about the same chance), NULL if empty. */
struct akv_entry *akv_cont_random(struct akv_arena *a,
                                  const struct akv_entry *ke);

/* ---- the keyspace side (stripe.c, keyspace.c, t_keys.c) */

/* Free up to `budget` elements of the stripe's DYING containers (and the
 * containers themselves once empty); true if some are left. */
bool akv_cont_free_step_locked(struct akv_arena *a, int si, int budget);
/* Elements freed per lock hold. */
#define AKV_FREE_STEP 1024
/* Free the DYING containers of the stripes in mask, one step per lock
 * hold, trying each lock (never waiting): what is left is found by the
 * supervisor's timer.  Call holding no stripe lock of those stripes. */
void akv_cont_free_pending(struct akv_ctx *ctx, uint64_t mask);
/* The supervisor's share: at most `steps` steps over all stripes. */
void akv_cont_reap(struct akv_ctx *ctx, int steps);
/* DYING containers, and bytes still to free, over all stripes (racy
 * reads, for INFO and eviction). */
uint64_t akv_cont_pending(struct akv_arena *a, uint64_t *bytes);
/* Containers whose freeing finished, over all stripes. */
uint64_t akv_cont_lazyfreed(struct akv_arena *a);

/* Stage a copy of every element of large container src (committed state)
 * into dst, a container created in this op (COPY, RENAME across
 * stripes).  False on OOM (the caller discards). */
bool akv_cont_copy(struct akv_op *op, struct akv_entry *dst,
                   struct akv_entry *src);

/* ---- for stripe.c: apply, repair, check (stripe lock held) */

/* Element row applied at commit: OLD unlinked and freed, NEW linked. */
void akv_cont_apply_old_elem_locked(struct akv_arena *a, int si,
                                    struct akv_entry *ke,
                                    struct akv_entry *el);
void akv_cont_apply_new_elem_locked(struct akv_arena *a, int si,
                                    struct akv_entry *ke,
                                    struct akv_entry *el);
/* A large container's key entry leaves the keyspace (already unlinked
 * from the stripe's table and its counters): DYING, or freed at once
 * when it holds no element. */
void akv_cont_retire_locked(struct akv_arena *a, int si,
                            struct akv_entry *ke);
/* After the stripe's chunks were rolled forward or back (the key table
 * relinked, every TABLE chunk but the key table's freed): rebuild each
 * LIVE container's index, count and bytes from its LIVE elements; free
 * orphan elements and DYING containers with their elements. */
void akv_cont_repair_locked(struct akv_arena *a, int si);
/* The containers' part of akv_stripe_check_locked: problems found;
 * *ntables gets the number of bucket arrays the containers own. */
int akv_cont_check_locked(struct akv_arena *a, int si,
                          void (*problem)(void *ctx, const char *msg),
                          void *pctx, uint64_t *ntables);

/* Process-local map: container id -> its key entry and tallies. */
struct akv_ctmap_ent {
    uint64_t id;     /* 0: empty slot */
    uint32_t ref;    /* key entry, 0 if none seen */
    uint8_t dying;
    uint64_t count, bytes;
};
struct akv_ctmap {
    struct akv_ctmap_ent *v;
    size_t cap, n;
};
struct akv_ctmap_ent *akv_ctmap_get(struct akv_ctmap *m, uint64_t id,
                                    bool create);
void akv_ctmap_free(struct akv_ctmap *m);

/* ---- every encoding (for snapshots, COPY, DEBUG): the type's own file
 * implements these (t_hash.c, t_set.c).  A set passes v = NULL, vlen 0. */
typedef bool (*akv_pair_fn)(const char *f, size_t flen, const char *v,
                            size_t vlen, void *ctx);
bool akv_hash_foreach(struct akv_arena *a, struct akv_entry *ke,
                      akv_pair_fn fn, void *ctx);
bool akv_set_foreach(struct akv_arena *a, struct akv_entry *ke,
                     akv_pair_fn fn, void *ctx);
/* Number of fields / members, any encoding. */
uint64_t akv_hash_len(struct akv_arena *a, const struct akv_entry *ke);
uint64_t akv_set_len(struct akv_arena *a, const struct akv_entry *ke);

#endif
