/*
 * t_bitfield.c -- BITFIELD and BITFIELD_RO: signed and unsigned integers of
 * 1 to 64 bits (u64 excepted) at any bit offset of a string.
 *
 * Bit 0 is the most significant bit of the first byte, as for SETBIT, so a
 * byte-aligned field reads as a big-endian integer.  Bytes past the end of
 * the value read as zero.
 *
 * A call is parsed whole before anything runs: a bad argument anywhere
 * replies the error and changes nothing.  A call with only GETs stages
 * nothing.  A call that writes stages ONE new value (copy-on-write): the old
 * bytes, zero-padded up to the last byte any SET or INCRBY touches, with
 * every operation applied in order; the key keeps its TTL and the value
 * reports "raw".  As in Redis the value is restaged (and so created or
 * padded) even when every write fails under OVERFLOW FAIL.  The AOF logs
 * the resulting value, so replay does not depend on the overflow rules.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"
#include "util.h"

enum bf_opcode { BF_GET, BF_SET, BF_INCRBY };
enum bf_overflow { BF_WRAP, BF_SAT, BF_FAIL };

/* One parsed operation. */
struct bf_op {
    uint64_t offset;      /* first bit */
    long long arg;        /* SET value or INCRBY increment */
    enum bf_opcode opcode;
    enum bf_overflow overflow; /* the OVERFLOW mode in force at this op */
    int bits;             /* 1..64 */
    bool sign;
};

/* Read `bits` bits at bit `offset` of p[0..len), MSB first; bytes past
 * len read as zero. */
static uint64_t get_bits(const unsigned char *p, size_t len, uint64_t offset,
                         int bits)
{
    uint64_t v = 0;

    for (int j = 0; j < bits; j++, offset++) {
        uint64_t byte = offset >> 3;
        unsigned bit = 7 - (unsigned)(offset & 7);
        unsigned b = byte < len ? (p[byte] >> bit) & 1u : 0;
        v = (v << 1) | b;
    }
    return v;
}

/* Write the low `bits` bits of v at bit `offset` of p (which must hold
 * them). */
static void set_bits(unsigned char *p, uint64_t offset, int bits, uint64_t v)
{
    for (int j = bits - 1; j >= 0; j--, offset++) {
        unsigned char mask = (unsigned char)(0x80u >> (offset & 7));
        if ((v >> j) & 1)
            p[offset >> 3] |= mask;
        else
            p[offset >> 3] &= (unsigned char)~mask;
    }
}

/* The low `bits` bits of v as a signed integer of that width. */
static int64_t sign_extend(uint64_t v, int bits)
{
    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1))))
        v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

static uint64_t low_bits(uint64_t v, int bits)
{
    return bits < 64 ? v & ~(~(uint64_t)0 << bits) : v;
}

/* The range of values the field of `op` holds. */
static void field_limits(const struct bf_op *op, __int128 *min,
                         __int128 *max)
{
    if (op->sign) {
        *max = ((__int128)1 << (op->bits - 1)) - 1;
        *min = -*max - 1;
    } else {
        *max = ((__int128)1 << op->bits) - 1;
        *min = 0;
    }
}

/* Fit base + incr into the field of `op` under its overflow mode.  Returns
 * false when it does not fit and the mode is FAIL; else stores in *out the
 * field's new value (as the reply shows it: sign-extended or unsigned). */
static bool fit_value(const struct bf_op *op, __int128 base, long long incr,
                      int64_t *out)
{
    __int128 sum = base + incr, min, max;
    uint64_t wrapped = low_bits((uint64_t)sum, op->bits);
    bool above;

    field_limits(op, &min, &max);
    if (sum >= min && sum <= max) {
        *out = (int64_t)sum;
        return true;
    }
    /* Redis tests a signed SET (bits < 64) against max - value computed
     * in 64 bits, which wraps for a value at or below max - 2^63: such a
     * value counts as above the range, so SAT stores max. */
    above = sum > max || (op->sign && op->bits < 64 &&
                          op->opcode == BF_SET &&
                          sum <= max - ((__int128)1 << 63));
    switch (op->overflow) {
    case BF_FAIL:
        return false;
    case BF_SAT:
        *out = (int64_t)(above ? max : min);
        return true;
    case BF_WRAP:
    default:
        *out = op->sign ? sign_extend(wrapped, op->bits) : (int64_t)wrapped;
        return true;
    }
}

/* The field of `op` in p[0..len), as the reply shows it. */
static int64_t read_field(const struct bf_op *op, const unsigned char *p,
                          size_t len)
{
    uint64_t v = get_bits(p, len, op->offset, op->bits);

    return op->sign ? sign_extend(v, op->bits) : (int64_t)v;
}

/* Run a SET or INCRBY on the staged value p (which holds its bits) and
 * reply its result: the old value for SET, the new one for INCRBY, nil if
 * OVERFLOW FAIL refused it.  An unsigned SET takes its argument as a 64-bit
 * unsigned number (so a negative one saturates to the maximum), as Redis
 * does. */
static void run_write(struct akv_client *c, const struct bf_op *op,
                      unsigned char *p, size_t len)
{
    int64_t old = read_field(op, p, len), nv;
    __int128 base;
    long long incr;

    if (op->opcode == BF_SET) {
        base = op->sign ? (__int128)op->arg
                        : (__int128)(uint64_t)op->arg;
        incr = 0;
    } else {
        base = old;
        incr = op->arg;
    }
    if (!fit_value(op, base, incr, &nv)) {
        akv_reply_null(&c->reply);
        return;
    }
    set_bits(p, op->offset, op->bits, (uint64_t)nv);
    akv_reply_int(&c->reply, op->opcode == BF_SET ? old : nv);
}

/* Parse a type "i<bits>" (1..64) or "u<bits>" (1..63).  As Redis, the
 * number ends at the argument's first NUL. */
static int parse_type(struct akv_client *c, int i, struct bf_op *op)
{
    const char *p = c->argv[i];
    long long bits;

    op->sign = p[0] == 'i';
    if ((p[0] != 'i' && p[0] != 'u') ||
        !akv_str2ll(p + 1, strlen(p + 1), &bits) || bits < 1 ||
        bits > (op->sign ? 64 : 63)) {
        akv_reply_error(&c->reply, "ERR Invalid bitfield type. Use something "
                                   "like i16 u8. Note that u64 is not "
                                   "supported but i64 is.");
        return AKV_ERR;
    }
    op->bits = (int)bits;
    return 0;
}

/* Parse a bit offset, "#n" meaning n times the field width.  It must be
 * below proto-max-bulk-len bytes.  The multiplication wraps as Redis's
 * does, so a huge "#n" is refused as negative or out of range. */
static int parse_offset(struct akv_client *c, int i, struct bf_op *op)
{
    const char *p = c->argv[i];
    size_t n = c->argl[i];
    bool hash = n > 0 && p[0] == '#';
    long long off;

    if (!akv_str2ll(p + hash, n - hash, &off))
        goto bad;
    if (hash)
        off = (long long)((unsigned long long)off * (unsigned)op->bits);
    if (off < 0 ||
        (off >> 3) >= c->ctx.a->hdr->h_cfg.proto_max_bulk_len)
        goto bad;
    op->offset = (uint64_t)off;
    return 0;
bad:
    akv_reply_error(&c->reply, "ERR bit offset is not an integer or out of "
                               "range");
    return AKV_ERR;
}

/* Parse argv[2..] into ops (room for argc entries).  Returns the number of
 * operations, or AKV_ERR with the error replied.  *last_bit is the highest
 * bit a SET or INCRBY touches, *writes whether there is one. */
static int parse_ops(struct akv_client *c, struct bf_op *ops,
                     uint64_t *last_bit, bool *writes)
{
    enum bf_overflow overflow = BF_WRAP;
    int n = 0;

    for (int j = 2; j < c->argc; j++) {
        int rest = c->argc - j - 1;
        const char *sub = c->argv[j];
        struct bf_op *op = &ops[n];

        if (!strcasecmp(sub, "get") && rest >= 2) {
            op->opcode = BF_GET;
        } else if (!strcasecmp(sub, "set") && rest >= 3) {
            op->opcode = BF_SET;
        } else if (!strcasecmp(sub, "incrby") && rest >= 3) {
            op->opcode = BF_INCRBY;
        } else if (!strcasecmp(sub, "overflow") && rest >= 1) {
            const char *m = c->argv[++j];
            if (!strcasecmp(m, "wrap")) {
                overflow = BF_WRAP;
            } else if (!strcasecmp(m, "sat")) {
                overflow = BF_SAT;
            } else if (!strcasecmp(m, "fail")) {
                overflow = BF_FAIL;
            } else {
                akv_reply_error(&c->reply,
                                "ERR Invalid OVERFLOW type specified");
                return AKV_ERR;
            }
            continue;
        } else {
            akv_reply_syntax_error(c);
            return AKV_ERR;
        }
        if (parse_type(c, j + 1, op) < 0 || parse_offset(c, j + 2, op) < 0)
            return AKV_ERR;
        op->arg = 0;
        if (op->opcode != BF_GET) {
            uint64_t end = op->offset + (uint64_t)op->bits - 1;
            if (!*writes || end > *last_bit)
                *last_bit = end;
            *writes = true;
            if (akv_arg_ll(c, j + 3, &op->arg) < 0)
                return AKV_ERR;
        }
        op->overflow = overflow;
        n++;
        j += op->opcode == BF_GET ? 2 : 3;
    }
    return n;
}

/* Only GETs: read the current value, stage nothing. */
static void run_reads(struct akv_client *c, const struct bf_op *ops, int n)
{
    struct akv_entry *e = akv_find_read(c, 1);
    const unsigned char *p = NULL;
    size_t len = 0;

    if (akv_wrongtype(c, e, AKV_TYPE_STRING))
        return;
    if (e) {
        p = (const unsigned char *)akv_entry_val(e);
        len = e->e_vlen;
    }
    akv_reply_array(&c->reply, n);
    for (int i = 0; i < n; i++)
        akv_reply_int(&c->reply, read_field(&ops[i], p, len));
}

/* Stage the new value, padded to hold last_bit, and run every op on it. */
static void run_all(struct akv_client *c, const struct bf_op *ops, int n,
                    uint64_t last_bit)
{
    struct akv_key k = akv_arg_key(c, 1);
    struct akv_entry *old, *e;
    size_t olen, nlen;
    unsigned char *p;

    old = akv_find_write(c, 1);
    if (akv_wrongtype(c, old, AKV_TYPE_STRING))
        return;
    olen = old ? old->e_vlen : 0;
    nlen = AKV_MAX(olen, (size_t)(last_bit >> 3) + 1);
    if (!(e = akv_put_string_padded(c, &k, old, nlen)))
        return;
    p = (unsigned char *)akv_entry_val(e);
    akv_reply_array(&c->reply, n);
    for (int i = 0; i < n; i++) {
        if (ops[i].opcode == BF_GET)
            akv_reply_int(&c->reply, read_field(&ops[i], p, nlen));
        else
            run_write(c, &ops[i], p, nlen);
    }
}

static void bitfield_generic(struct akv_client *c, bool readonly)
{
    struct bf_op *ops = malloc(sizeof(*ops) * (size_t)c->argc);
    uint64_t last_bit = 0;
    bool writes = false;
    int n;

    if (!ops) {
        akv_reply_oom(c);
        return;
    }
    n = parse_ops(c, ops, &last_bit, &writes);
    if (n < 0)
        goto finish;
    if (!writes)
        run_reads(c, ops, n);
    else if (readonly)
        akv_reply_error(&c->reply,
                        "ERR BITFIELD_RO only supports the GET subcommand");
    else
        run_all(c, ops, n, last_bit);
finish:
    free(ops);
}

void akv_bitfield_command(struct akv_client *c)
{
    bitfield_generic(c, false);
}

void akv_bitfield_ro_command(struct akv_client *c)
{
    bitfield_generic(c, true);
}
