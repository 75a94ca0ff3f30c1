/*
 * t_bitops.c -- the bit commands on strings: SETBIT, GETBIT, BITCOUNT,
 * BITPOS and BITOP.
 *
 * A string is a bit array, most significant bit of byte 0 first, so bit
 * i lives in byte i / 8 under the mask 0x80 >> (i % 8).  A missing key
 * reads as an endless run of zero bits.
 *
 * Writes are copy-on-write like every string write: SETBIT stages a whole
 * new value (grown with zero bytes when the offset lies past the end) and
 * keeps the TTL; BITOP stages the destination without a TTL, or deletes it
 * when every source is empty, as Redis does.  Values built here are
 * flagged raw, as Redis reports them.  Ranges (BITCOUNT, BITPOS) are
 * resolved once into an inclusive range of bit positions, whatever the
 * unit the client gave (BYTE or BIT), with Redis's rules for negative and
 * out-of-range ends.  Argument errors are checked in Redis 7.0's order:
 * BITCOUNT and BITPOS answer a missing key before parsing their range.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

#define BIT_OFFSET_ERR "ERR bit offset is not an integer or out of range"

static const unsigned char *value_of(struct akv_entry *e)
{
    return (const unsigned char *)akv_entry_val(e);
}

static int bit_at(const unsigned char *p, uint64_t i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Parse argv[i] as a bit offset: 0 <= offset, and offset / 8 below
 * proto-max-bulk-len (and below what an entry's length can hold).
 * Returns 0 or AKV_ERR (replied). */
static int bit_offset_arg(struct akv_client *c, int i, uint64_t *off)
{
    long long v;
    uint64_t max_bytes = (uint64_t)c->ctx.a->hdr->h_cfg.proto_max_bulk_len;

    if (max_bytes > UINT32_MAX)
        max_bytes = UINT32_MAX;
    if (!akv_str2ll(c->argv[i], c->argl[i], &v) || v < 0 ||
        ((uint64_t)v >> 3) >= max_bytes) {
        akv_reply_error(&c->reply, BIT_OFFSET_ERR);
        return AKV_ERR;
    }
    *off = (uint64_t)v;
    return 0;
}

/* Set bits in n bytes at p, eight bytes at a time. */
static uint64_t popcount(const unsigned char *p, size_t n)
{
    uint64_t count = 0, w;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        count += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++)
        count += (uint64_t)__builtin_popcount(p[i]);
    return count;
}

/* Set bits at positions first..last (inclusive) of p. */
static uint64_t popcount_bits(const unsigned char *p, uint64_t first,
                              uint64_t last)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    unsigned head = 0xffu >> (first & 7);        /* bits of byte fb kept */
    unsigned tail = (0xff00u >> ((last & 7) + 1)) & 0xff; /* of byte lb */
    uint64_t count = popcount(p + fb, (size_t)(lb - fb + 1));

    count -= (uint64_t)__builtin_popcount(p[fb] & ~head & 0xff);
    count -= (uint64_t)__builtin_popcount(p[lb] & ~tail & 0xff);
    return count;
}

/* First position in first..last (inclusive) whose bit is `bit`, or -1.
 * Whole runs of bytes holding no such bit are skipped eight at a time. */
static long long find_bit(const unsigned char *p, uint64_t first,
                          uint64_t last, int bit)
{
    const unsigned char skip = bit ? 0x00 : 0xff;
    const uint64_t skip_word = bit ? 0 : UINT64_MAX;
    uint64_t i = first, w;

    while (i <= last) {
        if ((i & 7) == 0 && last - i >= 63) {
            memcpy(&w, p + (i >> 3), 8);
            if (w == skip_word) {
                i += 64;
                continue;
            }
        }
        if ((i & 7) == 0 && last - i >= 7 && p[i >> 3] == skip) {
            i += 8;
            continue;
        }
        if (bit_at(p, i) == bit)
            return (long long)i;
        i++;
    }
    return -1;
}

/* Resolve a BITCOUNT / BITPOS range given in bytes or bits against a value
 * of len bytes, as Redis: negative ends count from the end, then both are
 * clamped into the value.  Sets the inclusive bit range and returns true,
 * or returns false when the range is empty. */
static bool resolve_range(long long start, long long end, bool in_bits,
                          size_t len, uint64_t *first, uint64_t *last)
{
    long long total = in_bits ? (long long)len * 8 : (long long)len;

    if (start < 0)
        start += total;
    if (end < 0)
        end += total;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= total)
        end = total - 1;
    if (start > end)
        return false;
    *first = in_bits ? (uint64_t)start : (uint64_t)start * 8;
    *last = in_bits ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return true;
}

/* Parse the BYTE | BIT unit at argv[i].  Returns 0 or AKV_ERR (replied). */
static int unit_arg(struct akv_client *c, int i, bool *in_bits)
{
    if (akv_arg_is(c, i, "bit")) {
        *in_bits = true;
    } else if (akv_arg_is(c, i, "byte")) {
        *in_bits = false;
    } else {
        akv_reply_syntax_error(c);
        return AKV_ERR;
    }
    return 0;
}

void akv_getbit_command(struct akv_client *c)
{
    struct akv_entry *e;
    uint64_t off;

    if (bit_offset_arg(c, 2, &off) < 0)
        return;
    e = akv_find_read(c, 1);
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    akv_reply_int(&c->reply,
                  e && (off >> 3) < e->e_vlen ? bit_at(value_of(e), off) : 0);
}

/* SETBIT replies the bit's previous value.  When nothing changes (same
 * bit, no growth, value already raw) nothing is staged, so nothing reaches
 * the AOF, as Redis propagates nothing then; otherwise the new value is
 * logged as a SET by the op. */
void akv_setbit_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *old, *e;
    uint64_t off;
    long long on;
    size_t olen, nlen, byte;
    int prev;
    unsigned char *p, mask;

    if (bit_offset_arg(c, 2, &off) < 0 ||
        akv_arg_ll_msg(c, 3, &on, "ERR bit is not an integer or out of "
                                  "range") < 0)
        return;
    if (on & ~1LL) {
        akv_reply_error(&c->reply, "ERR bit is not an integer or out of "
                                   "range");
        return;
    }
    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    olen = old ? old->e_vlen : 0;
    byte = (size_t)(off >> 3);
    prev = byte < olen ? bit_at(value_of(old), off) : 0;
    nlen = AKV_MAX(olen, byte + 1);
    if (old && nlen == olen && prev == on && (old->e_flags & AKV_EF_RAW)) {
        akv_reply_int(&c->reply, prev);
        return;
    }
    if (!(e = akv_put_string_padded(c, &k, old, nlen)))
        return;
    p = (unsigned char *)akv_entry_val(e);
    mask = (unsigned char)(0x80u >> (off & 7));
    p[byte] = on ? (unsigned char)(p[byte] | mask)
                 : (unsigned char)(p[byte] & ~mask);
    akv_reply_int(&c->reply, prev);
}

/* BITCOUNT key [start end [BYTE | BIT]].  As Redis 7.0: a missing key
 * answers 0 before the range is looked at, and two negative ends in the
 * wrong order answer 0 before the unit is. */
void akv_bitcount_command(struct akv_client *c)
{
    struct akv_entry *e;
    long long start = 0, end = -1;
    bool in_bits = false;
    uint64_t first, last;

    e = akv_find_read(c, 1);
    if (!e) {
        akv_reply_int(&c->reply, 0);
        return;
    }
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (c->argc != 2 && c->argc != 4 && c->argc != 5) {
        akv_reply_syntax_error(c);
        return;
    }
    if (c->argc >= 4) {
        if (akv_arg_ll(c, 2, &start) < 0 || akv_arg_ll(c, 3, &end) < 0)
            return;
        if (start < 0 && end < 0 && start > end) {
            akv_reply_int(&c->reply, 0);
            return;
        }
        if (c->argc == 5 && unit_arg(c, 4, &in_bits) < 0)
            return;
    }
    if (!resolve_range(start, end, in_bits, e->e_vlen, &first, &last))
        akv_reply_int(&c->reply, 0);
    else
        akv_reply_int(&c->reply,
                      (long long)popcount_bits(value_of(e), first, last));
}

/* BITPOS key bit [start [end [BYTE | BIT]]].  A missing key is all zeros:
 * 0 for a clear bit, -1 for a set one.  Looking for a clear bit without an
 * explicit end treats the value as padded with zeros, so a value of all
 * ones answers the first position past its range; with an end, -1. */
void akv_bitpos_command(struct akv_client *c)
{
    struct akv_entry *e;
    long long bit, start = 0, end = -1, pos;
    bool in_bits = false, end_given = c->argc >= 5;
    uint64_t first, last;

    if (akv_arg_ll(c, 2, &bit) < 0)
        return;
    if (bit != 0 && bit != 1) {
        akv_reply_error(&c->reply, "ERR The bit argument must be 1 or 0.");
        return;
    }
    e = akv_find_read(c, 1);
    if (!e) {
        akv_reply_int(&c->reply, bit ? -1 : 0);
        return;
    }
    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (c->argc > 6) {
        akv_reply_syntax_error(c);
        return;
    }
    /* Redis's order: start, the unit, then end. */
    if (c->argc >= 4 && akv_arg_ll(c, 3, &start) < 0)
        return;
    if (c->argc == 6 && unit_arg(c, 5, &in_bits) < 0)
        return;
    if (end_given && akv_arg_ll(c, 4, &end) < 0)
        return;
    if (!resolve_range(start, end, in_bits, e->e_vlen, &first, &last)) {
        akv_reply_int(&c->reply, -1);
        return;
    }
    pos = find_bit(value_of(e), first, last, (int)bit);
    if (pos < 0 && bit == 0 && !end_given)
        pos = (long long)last + 1;
    akv_reply_int(&c->reply, pos);
}

enum bitop { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

struct bitop_src {
    const unsigned char *p;
    size_t len;
};

/* Fold one source into the n-byte result r (the part past the source's
 * end counts as zero bytes), eight bytes at a time. */
static void bitop_fold(unsigned char *r, size_t n, const struct bitop_src *s,
                       enum bitop op)
{
    size_t m = AKV_MIN(s->len, n), i = 0;
    uint64_t a, b;

    for (; i + 8 <= m; i += 8) {
        memcpy(&a, r + i, 8);
        memcpy(&b, s->p + i, 8);
        a = op == BITOP_AND ? a & b : op == BITOP_OR ? a | b : a ^ b;
        memcpy(r + i, &a, 8);
    }
    for (; i < m; i++)
        r[i] = op == BITOP_AND   ? (unsigned char)(r[i] & s->p[i])
               : op == BITOP_OR  ? (unsigned char)(r[i] | s->p[i])
                                 : (unsigned char)(r[i] ^ s->p[i]);
    if (op == BITOP_AND && m < n)
        memset(r + m, 0, n - m);
}

/* Compute BITOP's result into the n-byte r from the sources. */
static void bitop_compute(unsigned char *r, size_t n,
                          const struct bitop_src *src, int nsrc,
                          enum bitop op)
{
    if (src[0].len)
        memcpy(r, src[0].p, src[0].len);
    memset(r + src[0].len, 0, n - src[0].len);
    if (op == BITOP_NOT) {
        for (size_t i = 0; i < n; i++)
            r[i] = (unsigned char)~r[i];
        return;
    }
    for (int j = 1; j < nsrc; j++)
        bitop_fold(r, n, &src[j], op);
}

static int bitop_name_arg(struct akv_client *c, enum bitop *op)
{
    static const char *const names[] = {"and", "or", "xor", "not"};

    for (int i = 0; i < 4; i++) {
        if (akv_arg_is(c, 1, names[i])) {
            *op = (enum bitop)i;
            return 0;
        }
    }
    akv_reply_syntax_error(c);
    return AKV_ERR;
}

/* BITOP op destkey key [key ...]: missing sources are empty strings, the
 * result is as long as the longest source, and replaces the destination
 * (any type, TTL dropped), which is deleted when the result is empty.  The
 * sources are all read before the destination is staged, since it may be
 * one of them.  Replies the result's length. */
void akv_bitop_command(struct akv_client *c)
{
    struct akv_key k = akv_arg_key(c, 2);
    struct bitop_src *src;
    struct akv_entry *dst, *e;
    int nsrc = c->argc - 3;
    size_t maxlen = 0;
    enum bitop op;

    if (bitop_name_arg(c, &op) < 0)
        return;
    if (op == BITOP_NOT && nsrc != 1) {
        akv_reply_error(&c->reply, "ERR BITOP NOT must be called with a "
                                   "single source key.");
        return;
    }
    if (!(src = calloc((size_t)nsrc, sizeof(*src)))) {
        akv_reply_oom(c);
        return;
    }
    for (int j = 0; j < nsrc; j++) {
        e = akv_find_read(c, j + 3);
        if (akv_wrongtype(c, e, AKV_TYPE_STRING))
            goto finish;
        if (e) {
            src[j].p = value_of(e);
            src[j].len = e->e_vlen;
            maxlen = AKV_MAX(maxlen, src[j].len);
        }
    }
    dst = akv_find_write(c, 2);
    if (maxlen == 0) {
        if (dst)
            akv_op_del(&c->op, dst);
        akv_reply_int(&c->reply, 0);
        goto finish;
    }
    e = akv_put_string(c, &k, NULL, maxlen, dst, 0);
    if (!e)
        goto finish;
    bitop_compute((unsigned char *)akv_entry_val(e), maxlen, src, nsrc, op);
    e->e_flags |= AKV_EF_RAW;
    akv_reply_int(&c->reply, (long long)maxlen);
finish:
    free(src);
}
