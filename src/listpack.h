/*
 * listpack.h -- the packed encoding of a small hash: field/value pairs in
 * insertion order, in one byte string that is the value of the key entry
 * (OBJECT ENCODING "listpack").
 *
 * Layout (all integers little-endian):
 *   [u32 pair count] then per pair: [varint flen][field][varint vlen][value]
 * A varint is LEB128: 7 bits per byte, low bits first, top bit "more".
 *
 * The format is never changed in place: a write builds a whole new string
 * (copy-on-write, as for strings), so readers need no locks beyond the
 * stripe's and a crash never leaves half a pair.  HSET of an existing
 * field keeps its position, a new field goes at the end, HDEL closes the
 * gap: the order is Redis's for its listpack hashes.
 */
#ifndef AKV_LISTPACK_H
#define AKV_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AKV_LP_HDR 4

/* One pair, pointing into a packed string (or anywhere else). */
struct akv_lp_pair {
    const char *f, *v;
    size_t flen, vlen;
};

/* A cursor over the pairs of a packed string lp[0..len). */
struct akv_lp_iter {
    const char *p, *end;
};

/* Number of pairs of lp[0..len) (0 for an empty string). */
uint32_t akv_lp_count(const char *lp, size_t len);
void akv_lp_iter_init(struct akv_lp_iter *it, const char *lp, size_t len);
/* The next pair; false at the end (or on a malformed string). */
bool akv_lp_next(struct akv_lp_iter *it, struct akv_lp_pair *out);
/* Find field f; fills *out and returns true when present. */
bool akv_lp_find(const char *lp, size_t len, const char *f, size_t flen,
                 struct akv_lp_pair *out);
/* Bytes one pair takes. */
size_t akv_lp_pair_size(size_t flen, size_t vlen);
/* Bytes of a packed string holding pairs p[0..n). */
size_t akv_lp_size(const struct akv_lp_pair *p, size_t n);
/* Write pairs p[0..n) as a packed string at dst (akv_lp_size(p, n) bytes;
 * dst must not overlap the pairs' bytes).  Returns the bytes written. */
size_t akv_lp_write(char *dst, const struct akv_lp_pair *p, size_t n);
/* Find field f as akv_lp_find does, and where its pair's bytes are:
 * lp[*start .. *end). */
bool akv_lp_locate(const char *lp, size_t len, const char *f, size_t flen,
                   struct akv_lp_pair *out, size_t *start, size_t *end);
/* Write at dst lp[0..len) with the bytes lp[start..end) (a pair that
 * akv_lp_locate found, or start == end == len for none) replaced by the
 * pair (f, v), the count raised by one when nothing is replaced.  dst must
 * hold len - (end - start) + akv_lp_pair_size(flen, vlen) bytes and
 * overlap none of the inputs.  Returns the bytes written. */
size_t akv_lp_write_replaced(char *dst, const char *lp, size_t len,
                             size_t start, size_t end, const char *f,
                             size_t flen, const char *v, size_t vlen);
/* Whether lp[0..len) is a well-formed packed string. */
bool akv_lp_valid(const char *lp, size_t len);

#endif
