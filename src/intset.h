/*
 * intset.h -- a set of integers packed in one value: the "intset" encoding
 * of small sets of integers.
 *
 * Layout (the whole value of the key entry, rewritten by every write):
 *
 *   byte 0      width of every member: 2, 4 or 8 bytes
 *   bytes 1..3  zero
 *   then        the members, ascending, no duplicates, each `width` bytes
 *               in host order (read and written with memcpy: the value is
 *               not aligned)
 *
 * The width only grows: a new value keeps at least the old one's width,
 * and widens when a member needs more, as Redis's intsets do.  The number
 * of members is (vlen - AKV_INTSET_HDR) / width.
 */
#ifndef AKV_INTSET_H
#define AKV_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AKV_INTSET_HDR 4

/* Members of the intset in v[0..vlen). */
size_t akv_intset_len(const char *v, size_t vlen);
/* The i-th smallest member (i < akv_intset_len()). */
int64_t akv_intset_get(const char *v, size_t i);
/* Whether x is a member. */
bool akv_intset_has(const char *v, size_t vlen, int64_t x);
/* Width of the intset's members (2, 4 or 8). */
unsigned akv_intset_width(const char *v);
/* Copy every member, ascending, into out (room for akv_intset_len()). */
void akv_intset_decode(const char *v, size_t vlen, int64_t *out);

/* Bytes of the intset holding the n ascending members of m[] at least
 * `minw` bytes wide (0 for the narrowest). */
size_t akv_intset_bytes(const int64_t *m, size_t n, unsigned minw);
/* Write that intset into dst (akv_intset_bytes() bytes). */
void akv_intset_encode(char *dst, const int64_t *m, size_t n, unsigned minw);

/* Sort m[0..n) ascending and drop duplicates; returns the new n. */
size_t akv_int_sort_unique(int64_t *m, size_t n);

#endif
