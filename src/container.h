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
