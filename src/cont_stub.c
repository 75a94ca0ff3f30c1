/*
 * cont_stub.c -- placeholder for the large-container layer (container.c)
 * until it lands: no large container can be created, so sets stay
 * intsets and a write that needs the hashtable encoding answers OOM.
 * Removed when container.c is merged.
 */
#include "build-config.h"

#include "container.h"

struct akv_entry *akv_cont_create(struct akv_op *op, const struct akv_key *k,
                                  enum akv_type t, int64_t expire)
{
    (void)op, (void)k, (void)t, (void)expire;
    return NULL;
}

struct akv_entry *akv_cont_find(struct akv_op *op, struct akv_entry *ke,
                                const char *f, size_t flen)
{
    (void)op, (void)ke, (void)f, (void)flen;
    return NULL;
}

struct akv_entry *akv_cont_put(struct akv_op *op, struct akv_entry *ke,
                               struct akv_entry *old, const char *f,
                               size_t flen, const char *v, size_t vlen)
{
    (void)op, (void)ke, (void)old, (void)f, (void)flen, (void)v, (void)vlen;
    return NULL;
}

void akv_cont_del(struct akv_op *op, struct akv_entry *ke,
                  struct akv_entry *el)
{
    (void)op, (void)ke, (void)el;
}

uint64_t akv_cont_count(const struct akv_op *op, const struct akv_entry *ke)
{
    (void)op, (void)ke;
    return 0;
}

uint64_t akv_cont_len(struct akv_arena *a, const struct akv_entry *ke)
{
    (void)a, (void)ke;
    return 0;
}

bool akv_cont_foreach(struct akv_arena *a, const struct akv_entry *ke,
                      akv_elem_fn fn, void *ctx)
{
    (void)a, (void)ke, (void)fn, (void)ctx;
    return true;
}

uint64_t akv_cont_scan(struct akv_arena *a, const struct akv_entry *ke,
                       uint64_t cursor, akv_elem_fn fn, void *ctx)
{
    (void)a, (void)ke, (void)cursor, (void)fn, (void)ctx;
    return 0;
}

struct akv_entry *akv_cont_random(struct akv_arena *a,
                                  const struct akv_entry *ke)
{
    (void)a, (void)ke;
    return NULL;
}
