/*
 * aof_encode.c -- effect records: what a worker's op logs to the AOF ring.
 *
 * A worker logs what its op did, not what the client
 * asked: every entry it creates becomes SET key value [PXAT ms] (so INCR,
 * APPEND-by-copy, SETRANGE, RENAME and MOVE replay to the same bytes and
 * the same absolute expiry), every entry it removes without replacing
 * becomes DEL (lazy expiry included), an expiry change PEXPIREAT or
 * PERSIST, an in-place append SETRANGE at the old length with just the
 * new bytes (idempotent, unlike APPEND), and FLUSHDB,
 * FLUSHALL and SWAPDB stay themselves.  A handler may instead declare
 * its effect (akv_op_effect(): INCRBYFLOAT logs SET key value KEEPTTL, a
 * container command the command that reproduces its change); entries it
 * marks declared get nothing inferred, and the declared commands follow
 * the inferred ones, each in its database.  Several commands of one op are
 * wrapped in MULTI/EXEC so a torn tail never replays half an op.  Replay
 * therefore never depends on the clock or on chance.
 *
 * This is the only part of the AOF that runs in workers; it needs neither
 * the files nor SQLite.
 */
#include "build-config.h"

#include <stdlib.h>

#include "aof.h"
#include "container.h"
#include "log.h"
#include "util.h"

static void buf_put(struct akv_ctx *ctx, const void *p, size_t n)
{
    if (!akv_grow(&ctx->aof_buf, &ctx->aof_cap, ctx->aof_len + n, 4096))
        abort(); /* cannot keep the log's promise without memory */
    memcpy(ctx->aof_buf + ctx->aof_len, p, n);
    ctx->aof_len += n;
}

static void buf_header(struct akv_ctx *ctx, char c, long long v)
{
    char tmp[32];
    int n;

    tmp[0] = c;
    n = 1 + akv_ll2str(tmp + 1, v);
    tmp[n++] = '\r';
    tmp[n++] = '\n';
    buf_put(ctx, tmp, (size_t)n);
}

static void buf_bulk(struct akv_ctx *ctx, const void *p, size_t n)
{
    buf_header(ctx, '$', (long long)n);
    buf_put(ctx, p, n);
    buf_put(ctx, "\r\n", 2);
}

static void buf_bulk_ll(struct akv_ctx *ctx, long long v)
{
    char tmp[24];
    buf_bulk(ctx, tmp, (size_t)akv_ll2str(tmp, v));
}

static void buf_cmd(struct akv_ctx *ctx, const char *name, int argc)
{
    buf_header(ctx, '*', argc);
    buf_bulk(ctx, name, strlen(name));
}

struct encoder {
    struct akv_op *op;
    int ncmds;
    int first_db, cur_db;
};

static int logical_db(struct akv_arena *a, uint8_t pdb)
{
    for (uint32_t i = 0; i < a->hdr->h_ndbs; i++)
        if (a->hdr->h_dbmap[i] == pdb)
            return (int)i;
    return 0;
}

/* Switch the encoded stream to db (a SELECT inside the record when the
 * record already runs in another db). */
static void in_db(struct encoder *en, int db)
{
    struct akv_ctx *ctx = en->op->ctx;

    if (en->first_db < 0) {
        en->first_db = en->cur_db = db;
        return;
    }
    if (db == en->cur_db)
        return;
    buf_cmd(ctx, "SELECT", 2);
    buf_bulk_ll(ctx, db);
    en->ncmds++;
    en->cur_db = db;
}

static void encode_new(struct encoder *en, struct akv_entry *e)
{
    struct akv_ctx *ctx = en->op->ctx;
    int64_t x = atomic_load(&e->e_expire);

    in_db(en, logical_db(ctx->a, e->e_db));
    buf_cmd(ctx, "SET", x ? 5 : 3);
    buf_bulk(ctx, e->e_data, e->e_klen);
    buf_bulk(ctx, akv_entry_val(e), e->e_vlen);
    if (x) {
        buf_bulk(ctx, "PXAT", 4);
        buf_bulk_ll(ctx, x);
    }
    en->ncmds++;
}

static void encode_del(struct encoder *en, struct akv_entry *o)
{
    struct akv_ctx *ctx = en->op->ctx;

    in_db(en, logical_db(ctx->a, o->e_db));
    buf_cmd(ctx, "DEL", 2);
    buf_bulk(ctx, o->e_data, o->e_klen);
    en->ncmds++;
}

static void encode_meta(struct encoder *en)
{
    struct akv_op *op = en->op;
    struct akv_ctx *ctx = op->ctx;
    struct akv_entry *e = op->meta_e;

    in_db(en, logical_db(ctx->a, e->e_db));
    if (op->meta_what & AKV_META_LENGTH) {
        /* SETRANGE at the old length, not APPEND: the same bytes, and
         * replaying it twice changes nothing (see the rewrite). */
        buf_cmd(ctx, "SETRANGE", 4);
        buf_bulk(ctx, e->e_data, e->e_klen);
        buf_bulk_ll(ctx, e->e_vlen);
        buf_bulk(ctx, akv_entry_val(e) + e->e_vlen,
                 op->meta_vlen - e->e_vlen);
        en->ncmds++;
    }
    if (op->meta_what & AKV_META_EXPIRE) {
        buf_cmd(ctx, op->meta_expire ? "PEXPIREAT" : "PERSIST",
                op->meta_expire ? 3 : 2);
        buf_bulk(ctx, e->e_data, e->e_klen);
        if (op->meta_expire)
            buf_bulk_ll(ctx, op->meta_expire);
        en->ncmds++;
    }
}

static void encode_db_ops(struct encoder *en)
{
    struct akv_op *op = en->op;
    struct akv_ctx *ctx = op->ctx;

    if (op->flush_pdb == AKV_FLUSH_ALL) {
        buf_cmd(ctx, "FLUSHALL", 1);
        en->ncmds++;
    } else if (op->flush_pdb != AKV_FLUSH_NONE) {
        in_db(en, logical_db(ctx->a, (uint8_t)op->flush_pdb));
        buf_cmd(ctx, "FLUSHDB", 1);
        en->ncmds++;
    }
    if (op->swap) {
        buf_cmd(ctx, "SWAPDB", 3);
        buf_bulk_ll(ctx, op->swap_a);
        buf_bulk_ll(ctx, op->swap_b);
        en->ncmds++;
    }
}

/* The commands handlers declared: [int32 db][uint32 length][RESP]... */
static void encode_declared(struct encoder *en)
{
    struct akv_op *op = en->op;
    size_t at = 0;

    for (int i = 0; i < op->fx_n; i++) {
        int32_t db;
        uint32_t len;

        memcpy(&db, op->fx_buf + at, sizeof(db));
        memcpy(&len, op->fx_buf + at + sizeof(db), sizeof(len));
        at += sizeof(db) + sizeof(len);
        in_db(en, db);
        buf_put(op->ctx, op->fx_buf + at, len);
        at += len;
        en->ncmds++;
    }
}

static void encode_body(struct encoder *en)
{
    struct akv_op *op = en->op;

    /* Element rows never infer anything (their command declares the
     * effect), nor do new key entries of containers; removed key entries
     * of any type infer DEL (expiry, eviction, DEL, UNLINK). */
    for (int i = 0; i < op->nst; i++) {
        struct akv_entry *e = op->st[i].e;
        if (e && op->st[i].kind == AKV_CHUNK_OLD && !op->st[i].declared &&
            !akv_chunk_is_elem(e) && !akv_op_replaces(op, e))
            encode_del(en, e);
    }
    for (int i = 0; i < op->nst; i++) {
        struct akv_entry *e = op->st[i].e;
        if (!e || op->st[i].kind != AKV_CHUNK_NEW || op->st[i].declared ||
            akv_chunk_is_elem(e))
            continue;
        if (e->e_type != AKV_TYPE_STRING) {
#ifdef AKV_DEBUG
            akv_log(AKV_LOG_WARNING, "a new %s key entry staged without a "
                    "declared effect", e->e_type == AKV_TYPE_HASH ? "hash"
                                                                 : "set");
#endif
            continue;
        }
        encode_new(en, e);
    }
    if (op->meta_e)
        encode_meta(en);
    encode_db_ops(en);
    encode_declared(en);
}

size_t akv_aof_encode(struct akv_op *op, int *db, int *db_end)
{
    struct akv_ctx *ctx = op->ctx;
    struct encoder en = {op, 0, -1, -1};
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
    static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
    size_t body;

    ctx->aof_len = 0;
    buf_put(ctx, multi, sizeof(multi) - 1);
    encode_body(&en);
    body = ctx->aof_len - (sizeof(multi) - 1);
    if (en.ncmds > 1) {
        buf_put(ctx, exec, sizeof(exec) - 1);
    } else {
        memmove(ctx->aof_buf, ctx->aof_buf + sizeof(multi) - 1, body);
        ctx->aof_len = body;
    }
    *db = en.first_db;
    *db_end = en.cur_db;
    return en.ncmds ? ctx->aof_len : 0;
}
