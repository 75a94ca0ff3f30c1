/*
 * t_lcs.c -- LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]:
 * the longest common subsequence of two string values.
 *
 * As Redis 7.0 does it: the classic dynamic-programming table of
 * (alen+1) * (blen+1) uint32_t lengths, LCS(i,j) being the length of the
 * LCS of a[0..i-1] and b[0..j-1], then one walk back from (alen,blen)
 * that writes the subsequence from its end and, for IDX, emits the
 * matching ranges in that order (last range first).  A missing key reads
 * as the empty string; a key of another type is refused before the
 * options are parsed.
 *
 * The table is private to the call: malloc'ed here, never in the arena,
 * refused with Redis's error when it would exceed proto-max-bulk-len, and
 * freed on every path.  The values are read in place; the stripe locks
 * the dispatcher holds keep them still while the table is built.
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>

#include "server.h"
#include "util.h"

struct lcs_opts {
    bool len, idx, withmatchlen;
    long long minmatchlen;
};

struct lcs_input {
    const char *a, *b;
    uint32_t alen, blen;
    uint32_t *tab; /* (alen+1) rows of (blen+1) lengths */
};

#define LCS_AT(in, i, j) ((in)->tab[(size_t)(i) * ((in)->blen + 1) + (j)])

/* Parse the options from argv[3].  Returns 0 or AKV_ERR, replied. */
static int parse_lcs_options(struct akv_client *c, struct lcs_opts *o)
{
    for (int j = 3; j < c->argc; j++) {
        if (akv_arg_is(c, j, "idx")) {
            o->idx = true;
        } else if (akv_arg_is(c, j, "len")) {
            o->len = true;
        } else if (akv_arg_is(c, j, "withmatchlen")) {
            o->withmatchlen = true;
        } else if (akv_arg_is(c, j, "minmatchlen") && j + 1 < c->argc) {
            if (akv_arg_ll(c, ++j, &o->minmatchlen) < 0)
                return AKV_ERR;
            if (o->minmatchlen < 0)
                o->minmatchlen = 0;
        } else {
            akv_reply_syntax_error(c);
            return AKV_ERR;
        }
    }
    if (o->len && o->idx) {
        akv_reply_error(&c->reply, "ERR If you want both the length and "
                                   "indexes, please just use IDX.");
        return AKV_ERR;
    }
    return 0;
}

/* Look both keys up (a missing one is the empty string).  Returns 0 or
 * AKV_ERR, replied. */
static int lcs_lookup(struct akv_client *c, struct lcs_input *in)
{
    struct akv_entry *ea = akv_find_read(c, 1);
    struct akv_entry *eb = akv_find_read(c, 2);

    if ((ea && ea->e_type != AKV_TYPE_STRING) ||
        (eb && eb->e_type != AKV_TYPE_STRING)) {
        akv_reply_error(&c->reply, "ERR The specified keys must contain "
                                   "string values");
        return AKV_ERR;
    }
    in->a = ea ? akv_entry_val(ea) : "";
    in->b = eb ? akv_entry_val(eb) : "";
    if ((ea && ea->e_vlen >= UINT32_MAX - 1) ||
        (eb && eb->e_vlen >= UINT32_MAX - 1)) {
        akv_reply_error(&c->reply, "ERR String too long for LCS");
        return AKV_ERR;
    }
    in->alen = ea ? (uint32_t)ea->e_vlen : 0;
    in->blen = eb ? (uint32_t)eb->e_vlen : 0;
    return 0;
}

/* Allocate the table, refusing one larger than proto-max-bulk-len as
 * Redis does.  Returns 0 or AKV_ERR, replied. */
static int lcs_alloc(struct akv_client *c, struct lcs_input *in)
{
    unsigned long long cells = (unsigned long long)(in->alen + 1ULL) *
                               (in->blen + 1ULL);
    unsigned long long bytes = cells * sizeof(uint32_t);

    if (bytes < SIZE_MAX && bytes / cells == sizeof(uint32_t)) {
        if (bytes > (unsigned long long)c->ctx.a->hdr->h_cfg.proto_max_bulk_len) {
            akv_reply_error(&c->reply, "ERR Insufficient memory, transient "
                            "memory for LCS exceeds proto-max-bulk-len");
            return AKV_ERR;
        }
        in->tab = malloc((size_t)bytes);
    }
    if (!in->tab) {
        akv_reply_error(&c->reply, "ERR Insufficient memory, failed "
                                   "allocating transient memory for LCS");
        return AKV_ERR;
    }
    return 0;
}

static void lcs_fill(struct lcs_input *in)
{
    for (uint32_t i = 0; i <= in->alen; i++) {
        for (uint32_t j = 0; j <= in->blen; j++) {
            if (i == 0 || j == 0) {
                LCS_AT(in, i, j) = 0;
            } else if (in->a[i - 1] == in->b[j - 1]) {
                LCS_AT(in, i, j) = LCS_AT(in, i - 1, j - 1) + 1;
            } else {
                uint32_t up = LCS_AT(in, i - 1, j);
                uint32_t left = LCS_AT(in, i, j - 1);
                LCS_AT(in, i, j) = up > left ? up : left;
            }
        }
    }
}

/* The range being walked back: a[as..ae] matches b[bs..be]; as == alen
 * means no range is open. */
struct lcs_range {
    uint32_t as, ae, bs, be;
};

static void emit_range(struct akv_client *c, const struct lcs_opts *o,
                       const struct lcs_range *r, long *n)
{
    uint32_t mlen = r->ae - r->as + 1;

    if (o->minmatchlen != 0 && mlen < o->minmatchlen)
        return;
    akv_reply_array(&c->reply, 2 + o->withmatchlen);
    akv_reply_array(&c->reply, 2);
    akv_reply_int(&c->reply, r->as);
    akv_reply_int(&c->reply, r->ae);
    akv_reply_array(&c->reply, 2);
    akv_reply_int(&c->reply, r->bs);
    akv_reply_int(&c->reply, r->be);
    if (o->withmatchlen)
        akv_reply_int(&c->reply, mlen);
    (*n)++;
}

/* Walk the table back from (alen,blen), writing the subsequence into
 * out[0..LCS(alen,blen)-1] and, for IDX, replying the ranges.  Returns the
 * number of ranges replied. */
static long lcs_walk(struct akv_client *c, const struct lcs_opts *o,
                     const struct lcs_input *in, char *out)
{
    struct lcs_range r = {in->alen, 0, 0, 0};
    uint32_t i = in->alen, j = in->blen;
    uint32_t k = LCS_AT(in, i, j);
    long n = 0;

    while (i > 0 && j > 0) {
        bool emit = false;
        if (in->a[i - 1] == in->b[j - 1]) {
            out[--k] = in->a[i - 1];
            if (r.as == in->alen) {
                r = (struct lcs_range){i - 1, i - 1, j - 1, j - 1};
            } else if (r.as == i && r.bs == j) {
                r.as--;
                r.bs--;
            } else {
                emit = true;
            }
            if (r.as == 0 || r.bs == 0)
                emit = true;
            i--;
            j--;
        } else {
            if (LCS_AT(in, i - 1, j) > LCS_AT(in, i, j - 1))
                i--;
            else
                j--;
            emit = r.as != in->alen;
        }
        if (emit) {
            if (o->idx)
                emit_range(c, o, &r, &n);
            r.as = in->alen;
        }
    }
    return n;
}

/* Reply the result as the options ask: IDX's map, LEN's integer or the
 * subsequence itself. */
static void lcs_reply(struct akv_client *c, const struct lcs_opts *o,
                      const struct lcs_input *in, char *out)
{
    uint32_t total = LCS_AT(in, in->alen, in->blen);
    size_t at;
    long n;

    if (o->len) {
        akv_reply_int(&c->reply, total);
        return;
    }
    if (!o->idx) {
        lcs_walk(c, o, in, out);
        akv_reply_bulk(&c->reply, out, total);
        return;
    }
    akv_reply_map(&c->reply, 2);
    akv_reply_bulk_cstr(&c->reply, "matches");
    at = akv_reply_defer(&c->reply);
    n = lcs_walk(c, o, in, out);
    akv_reply_set_array_len(&c->reply, at, n);
    akv_reply_bulk_cstr(&c->reply, "len");
    akv_reply_int(&c->reply, total);
}

void akv_lcs_command(struct akv_client *c)
{
    struct lcs_opts o = {false, false, false, 0};
    struct lcs_input in = {NULL, NULL, 0, 0, NULL};
    char *out = NULL;

    if (lcs_lookup(c, &in) < 0 || parse_lcs_options(c, &o) < 0 ||
        lcs_alloc(c, &in) < 0)
        goto finish;
    lcs_fill(&in);
    if (!o.len) {
        out = malloc(LCS_AT(&in, in.alen, in.blen) + 1);
        if (!out) {
            akv_reply_oom(c);
            goto finish;
        }
    }
    lcs_reply(c, &o, &in, out);
finish:
    free(out);
    free(in.tab);
}
