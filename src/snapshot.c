/*
 * snapshot.c -- the keyspace as a SQLite database: written by compaction
 * (the AOF's base), read when a new arena is loaded.
 *
 * Schema (format 2), readable with the sqlite3 shell:
 *
 *   CREATE TABLE meta (name TEXT PRIMARY KEY, value);
 *       -- format = 2, created_ms, writer = 'arenakv <version>',
 *       -- keys = number of rows in keys
 *   CREATE TABLE keys (
 *       db        INTEGER NOT NULL,   -- logical database number
 *       key       BLOB    NOT NULL,
 *       type      TEXT    NOT NULL,   -- 'string'
 *       value     BLOB    NOT NULL,
 *       expire_ms INTEGER);           -- absolute Unix ms, NULL = none
 *   CREATE UNIQUE INDEX keys_by_name ON keys (db, key);
 *
 * Format 1 (a WITHOUT ROWID table keyed by (db, key), no keys count) is
 * still read.
 *
 * Writing: there is no fork (the arena is shared memory, so nothing is
 * copy-on-write).  Each stripe is copied under its own lock into a buffer
 * of this process, then inserted with the lock released, so writers are
 * held up one stripe at a time for the length of a memcpy.  The whole
 * file is one transaction and is renamed into place by the caller.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pages.h"
#include "table.h"
#include "snapshot.h"
#include "util.h"

struct copied {
    char *buf;
    size_t len, cap;
    int64_t now;
    struct akv_arena *a;
    int ldb_of[AKV_MAX_DBS]; /* physical -> logical */
};

/* Row layout in the copy buffer: db, klen, vlen, expire, key, value. */
struct row_hdr {
    int32_t db;
    uint32_t klen, vlen;
    int64_t expire;
};

static void copy_entry(struct akv_arena *a, int si, struct akv_entry *e,
                       void *ctx)
{
    struct copied *cp = ctx;
    struct row_hdr rh;

    (void)a;
    (void)si;
    if (e->e_state != AKV_CHUNK_LIVE || akv_entry_expired(e, cp->now))
        return;
    rh.db = cp->ldb_of[e->e_db];
    rh.klen = e->e_klen;
    rh.vlen = e->e_vlen;
    rh.expire = atomic_load(&e->e_expire);
    if (!akv_grow(&cp->buf, &cp->cap,
                  cp->len + sizeof(rh) + rh.klen + rh.vlen, 1 << 20))
        abort(); /* a snapshot without memory cannot be completed */
    memcpy(cp->buf + cp->len, &rh, sizeof(rh));
    memcpy(cp->buf + cp->len + sizeof(rh), e->e_data, rh.klen + rh.vlen);
    cp->len += sizeof(rh) + rh.klen + rh.vlen;
}

static int insert_rows(sqlite3_stmt *ins, struct copied *cp, uint64_t *rows)
{
    size_t at = 0;

    while (at < cp->len) {
        struct row_hdr rh;
        const char *k;
        memcpy(&rh, cp->buf + at, sizeof(rh));
        k = cp->buf + at + sizeof(rh);
        sqlite3_bind_int(ins, 1, rh.db);
        sqlite3_bind_blob(ins, 2, k, (int)rh.klen, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 3, k + rh.klen, (int)rh.vlen, SQLITE_STATIC);
        if (rh.expire)
            sqlite3_bind_int64(ins, 4, rh.expire);
        else
            sqlite3_bind_null(ins, 4);
        if (sqlite3_step(ins) != SQLITE_DONE)
            return -EIO;
        sqlite3_reset(ins);
        (*rows)++;
        at += sizeof(rh) + rh.klen + rh.vlen;
    }
    return 0;
}

static const char schema[] =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value);"
    "CREATE TABLE keys (db INTEGER NOT NULL, key BLOB NOT NULL,"
    " type TEXT NOT NULL, value BLOB NOT NULL, expire_ms INTEGER);"
    "BEGIN;";

/* Built once all rows are in: one sort instead of a B-tree search per
 * row, and a load that reads rows in rowid order meets them stripe by
 * stripe, as they were copied. */
static const char key_index[] =
    "CREATE UNIQUE INDEX keys_by_name ON keys (db, key);";

/* Written last, when the row count is known (keys lets a loader size
 * its tables first); created_ms is when the copy began. */
static int write_meta(sqlite3 *db, int64_t created_ms, uint64_t rows)
{
    char sql[320];

    snprintf(sql, sizeof(sql),
             "INSERT INTO meta VALUES ('format', 2), ('created_ms', %lld),"
             " ('writer', 'arenakv %s'), ('keys', %llu);",
             (long long)created_ms, PACKAGE_VERSION,
             (unsigned long long)rows);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Size the tables of a new arena for the rows about to be loaded.  Keys
 * spread evenly over the stripes; one in eight more leaves room for the
 * unevenness of the hash. */
static void presize_tables(struct akv_ctx *ctx, sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    uint64_t keys = 0, per_stripe;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'keys'",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        keys = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    per_stripe = keys / AKV_NSTRIPES;
    per_stripe += per_stripe / 8;
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (akv_stripe_lock(ctx, si) < 0)
            return;
        if (per_stripe)
            akv_table_presize_locked(ctx->a, si, per_stripe);
        akv_stripe_unlock(ctx, si);
    }
}

int akv_snapshot_write(struct akv_ctx *ctx, const char *path,
                       akv_snapshot_hook between, void *hook_ctx,
                       uint64_t *rows, char *why, size_t whylen)
{
    struct akv_arena *a = ctx->a;
    struct copied cp = {.a = a};
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    int64_t created_ms = akv_mstime();
    int r = -EIO;

    *rows = 0;
    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO keys VALUES (?, ?, 'string', ?, "
                           "?)", -1, &ins, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", db ? sqlite3_errmsg(db) : "no memory");
        goto finish;
    }
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        cp.len = 0;
        cp.now = akv_mstime();
        if (akv_stripe_lock(ctx, si) < 0) {
            snprintf(why, whylen, "stripe %d is not recoverable", si);
            goto finish;
        }
        for (uint32_t i = 0; i < a->hdr->h_ndbs; i++)
            cp.ldb_of[a->hdr->h_dbmap[i]] = (int)i;
        akv_table_foreach_locked(a, si, copy_entry, &cp);
        akv_stripe_unlock(ctx, si);
        if (between)
            between(hook_ctx, si);
        if (insert_rows(ins, &cp, rows) < 0) {
            snprintf(why, whylen, "%s", sqlite3_errmsg(db));
            goto finish;
        }
    }
    if (write_meta(db, created_ms, *rows) < 0 ||
        sqlite3_exec(db, key_index, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        goto finish;
    }
    r = 0;
finish:
    sqlite3_finalize(ins);
    if (db)
        sqlite3_close(db);
    free(cp.buf);
    return r;
}

/* Insert one row through the op API (no logging: ctx->replaying),
 * replacing the key if it is there.  The lookup is needed even into an
 * empty arena: the file's unique index does not make the rows of a
 * damaged file unique, and a key inserted twice would leave two entries
 * in one chain. */
static int load_row(struct akv_ctx *ctx, struct akv_op *op, int ldb,
                    const void *k, size_t klen, const void *v, size_t vlen,
                    int64_t expire)
{
    struct akv_key key = akv_key_make(ctx->a, ldb, k, klen);
    struct akv_entry *e, *old;

    akv_op_init(op, ctx);
    akv_op_want_key(op, &key);
    if (akv_op_lock(op) < 0)
        return -ENOTRECOVERABLE;
    old = akv_op_find(op, &key);
    e = akv_op_new(op, &key, vlen, expire);
    if (!e) {
        akv_op_abort(op);
        return -ENOMEM;
    }
    memcpy(akv_entry_val(e), v, vlen);
    if (old)
        akv_op_del(op, old);
    return akv_op_commit(op);
}

int akv_snapshot_load(struct akv_ctx *ctx, const char *path, uint64_t *rows,
                      char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *sel = NULL;
    struct akv_op op = {0};
    int r = -EIO, rc;

    *rows = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT db, key, value, expire_ms FROM keys",
                           -1, &sel, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s: %s", path,
                 db ? sqlite3_errmsg(db) : "cannot open");
        goto finish;
    }
    presize_tables(ctx, db);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int ldb = sqlite3_column_int(sel, 0);
        int64_t x = sqlite3_column_int64(sel, 3);
        if ((*rows & 1023) == 0)
            ctx->now = akv_mstime(); /* fine enough for access clocks */
        if (ldb < 0 || ldb >= (int)ctx->a->hdr->h_ndbs) {
            snprintf(why, whylen, "%s: db %d out of range", path, ldb);
            goto finish;
        }
        if (x && x <= ctx->now)
            continue;
        const void *k = sqlite3_column_blob(sel, 1);
        const void *v = sqlite3_column_blob(sel, 2);
        /* SQLite gives NULL for an empty blob. */
        r = load_row(ctx, &op, ldb, k ? k : "",
                     (size_t)sqlite3_column_bytes(sel, 1), v ? v : "",
                     (size_t)sqlite3_column_bytes(sel, 2), x);
        if (r < 0) {
            snprintf(why, whylen, "%s: no room for the dataset (%s)", path,
                     strerror(-r));
            goto finish;
        }
        (*rows)++;
        atomic_fetch_add(&ctx->a->hdr->h_load_keys, 1);
    }
    if (rc != SQLITE_DONE) {
        snprintf(why, whylen, "%s: %s", path, sqlite3_errmsg(db));
        r = -EIO;
        goto finish;
    }
    r = 0;
finish:
    sqlite3_finalize(sel);
    if (db)
        sqlite3_close(db);
    akv_op_free(&op);
    return r;
}
