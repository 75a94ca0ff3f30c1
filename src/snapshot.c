/*
 * snapshot.c -- the keyspace as a SQLite database: written by compaction
 * (the AOF's base) and by SAVE / BGSAVE, read when a new arena is loaded.
 *
 * Schema (format 3), readable with the sqlite3 shell:
 *
 *   CREATE TABLE meta (name TEXT PRIMARY KEY, value);
 *       -- format = 3, created_ms, writer = 'arenakv <version>',
 *       -- keys = rows in keys, elements = rows in the element tables
 *   CREATE TABLE keys (
 *       id        INTEGER PRIMARY KEY, -- what element rows refer to
 *       db        INTEGER NOT NULL,    -- logical database number
 *       key       BLOB    NOT NULL,
 *       type      TEXT    NOT NULL,    -- 'string', 'hash' or 'set'
 *       value     BLOB,                -- a string's bytes; NULL otherwise
 *       expire_ms INTEGER);            -- absolute Unix ms, NULL = none
 *   CREATE TABLE hash_fields (key_id INTEGER NOT NULL,  -- keys.id
 *                             field BLOB NOT NULL, value BLOB NOT NULL);
 *   CREATE TABLE set_members (key_id INTEGER NOT NULL,  -- keys.id
 *                             member BLOB NOT NULL);
 *   CREATE UNIQUE INDEX keys_by_name ON keys (db, key);
 *   CREATE INDEX hash_fields_by_key ON hash_fields (key_id);
 *   CREATE INDEX set_members_by_key ON set_members (key_id);
 *
 * For example, the fields of hash "user:1" in db 0:
 *
 *   SELECT f.field, f.value FROM keys k JOIN hash_fields f
 *       ON f.key_id = k.id
 *       WHERE k.db = 0 AND k.key = CAST('user:1' AS BLOB);
 *
 * (keys, fields and members are BLOBs: a text literal equals none).
 *
 * Each container type has a table of its own, named after the elements
 * (later: list_items with a position, zset_members with a score, ...);
 * a key of a type this file cannot hold makes the write fail rather than
 * drop the key.  The encoding (listpack, intset, hashtable) is not
 * stored: it follows from the elements and the thresholds in force when
 * the file is loaded, as for an RDB file.
 *
 * Formats 1 (a WITHOUT ROWID keys table, no keys count) and 2 (the keys
 * table above without id, strings only) are still read.
 *
 * Writing: there is no fork (the arena is shared memory, so nothing is
 * copy-on-write).  Each stripe is copied under its own lock into a buffer
 * of this process, then inserted with the lock released, so writers are
 * held up one stripe at a time for the length of a memcpy -- of every
 * element of the stripe's containers too (akv_hash_foreach,
 * akv_set_foreach): the buffer is linear in the largest stripe, and the
 * lock is held for the copy of its containers (docs/performance.md has
 * the figure for a 1M-field hash).  The whole file is one transaction
 * and is renamed into place by the caller.
 *
 * Loading: strings are inserted directly through the op API; hashes and
 * sets are rebuilt by running HSET / SADD (batches of LOAD_BATCH
 * elements) and PEXPIREAT through the dispatcher, as the AOF replay does,
 * so encodings and conversions are the commands' business.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "container.h"
#include "log.h"
#include "pages.h"
#include "server.h"
#include "snapshot.h"
#include "table.h"
#include "util.h"

#define SNAPSHOT_FORMAT 3
/* Elements per HSET / SADD when a container is loaded. */
#define LOAD_BATCH 1000
/* A copy buffer larger than this is released after its stripe. */
#define KEEP_BUF (64u << 20)

/* The value of keys.type, by enum akv_type; NULL: not in this format. */
static const char *const type_names[AKV_TYPE_COUNT] = {
    [AKV_TYPE_STRING] = "string",
    [AKV_TYPE_HASH] = "hash",
    [AKV_TYPE_SET] = "set",
};

struct copied {
    char *buf;
    size_t len, cap;
    int64_t now;
    struct akv_arena *a;
    int ldb_of[AKV_MAX_DBS]; /* physical -> logical */
    int bad_type;            /* a key of a type this format cannot hold */
    uint64_t elems;          /* elements copied (all stripes) */
    uint64_t n;              /* elements of the container being copied */
};

/* Row layout in the copy buffer: the header, the key, then a string's
 * value bytes, or n elements, each a struct elem_hdr and its bytes. */
struct row_hdr {
    int32_t db;
    uint32_t type;
    uint32_t klen;
    uint32_t pad;
    uint64_t n;  /* a string's length, or a container's element count */
    int64_t expire;
};

struct elem_hdr {
    uint32_t flen, vlen;
};

static char *reserve(struct copied *cp, size_t n)
{
    char *p;

    if (!akv_grow(&cp->buf, &cp->cap, cp->len + n, 1 << 20))
        abort(); /* a snapshot without memory cannot be completed */
    p = cp->buf + cp->len;
    cp->len += n;
    return p;
}

static bool copy_pair(const char *f, size_t flen, const char *v, size_t vlen,
                      void *ctx)
{
    struct copied *cp = ctx;
    struct elem_hdr eh = {(uint32_t)flen, (uint32_t)vlen};
    char *p = reserve(cp, sizeof(eh) + flen + vlen);

    memcpy(p, &eh, sizeof(eh));
    memcpy(p + sizeof(eh), f, flen);
    if (vlen)
        memcpy(p + sizeof(eh) + flen, v, vlen);
    cp->n++;
    return true;
}

/* Copy one key (and its elements) into the buffer; the stripe is locked. */
static void copy_entry(struct akv_arena *a, int si, struct akv_entry *e,
                       void *ctx)
{
    struct copied *cp = ctx;
    struct row_hdr rh = {0};
    size_t at;
    char *p;

    (void)si;
    if (e->e_state != AKV_CHUNK_LIVE || akv_chunk_is_elem(e) ||
        akv_entry_expired(e, cp->now))
        return;
    if (e->e_type >= AKV_TYPE_COUNT || !type_names[e->e_type]) {
        cp->bad_type = e->e_type + 1;
        return;
    }
    rh.db = cp->ldb_of[e->e_db];
    rh.type = e->e_type;
    rh.klen = e->e_klen;
    rh.expire = atomic_load(&e->e_expire);
    at = cp->len;
    if (e->e_type == AKV_TYPE_STRING) {
        rh.n = e->e_vlen;
        p = reserve(cp, sizeof(rh) + rh.klen + rh.n);
        memcpy(p, &rh, sizeof(rh));
        memcpy(p + sizeof(rh), e->e_data, rh.klen + rh.n);
        return;
    }
    /* A large container's chunk bytes bound its copy (a 32-byte header
     * per chunk, 8 bytes per element here): one allocation, not a
     * doubling series of copies under the lock. */
    reserve(cp, akv_is_large(e) ? akv_cont_of(e)->ct_bytes : 0);
    cp->len = at;
    p = reserve(cp, sizeof(rh) + rh.klen);
    memcpy(p + sizeof(rh), e->e_data, rh.klen);
    cp->n = 0;
    if (e->e_type == AKV_TYPE_HASH)
        akv_hash_foreach(a, e, copy_pair, cp);
    else
        akv_set_foreach(a, e, copy_pair, cp);
    rh.n = cp->n;
    cp->elems += rh.n;
    /* The header last: the buffer may have moved. */
    memcpy(cp->buf + at, &rh, sizeof(rh));
}

struct writer {
    sqlite3 *db;
    sqlite3_stmt *ins_key, *ins_field, *ins_member;
};

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static int insert_elems(struct writer *w, const struct row_hdr *rh,
                        const char **at)
{
    sqlite3_int64 id = sqlite3_last_insert_rowid(w->db);
    sqlite3_stmt *st = rh->type == AKV_TYPE_HASH ? w->ins_field
                                                 : w->ins_member;

    for (uint64_t i = 0; i < rh->n; i++) {
        struct elem_hdr eh;
        memcpy(&eh, *at, sizeof(eh));
        *at += sizeof(eh);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_blob(st, 2, *at, (int)eh.flen, SQLITE_STATIC);
        if (rh->type == AKV_TYPE_HASH)
            sqlite3_bind_blob(st, 3, *at + eh.flen, (int)eh.vlen,
                              SQLITE_STATIC);
        if (step_reset(st) < 0)
            return -EIO;
        *at += eh.flen + eh.vlen;
    }
    return 0;
}

static int insert_rows(struct writer *w, struct copied *cp, uint64_t *rows)
{
    const char *at = cp->buf, *end = cp->buf + cp->len;
    sqlite3_stmt *ins = w->ins_key;

    while (at < end) {
        struct row_hdr rh;
        const char *k;
        memcpy(&rh, at, sizeof(rh));
        k = at + sizeof(rh);
        at = k + rh.klen;
        sqlite3_bind_int(ins, 1, rh.db);
        sqlite3_bind_blob(ins, 2, k, (int)rh.klen, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, type_names[rh.type], -1, SQLITE_STATIC);
        if (rh.type == AKV_TYPE_STRING)
            sqlite3_bind_blob(ins, 4, at, (int)rh.n, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 4);
        if (rh.expire)
            sqlite3_bind_int64(ins, 5, rh.expire);
        else
            sqlite3_bind_null(ins, 5);
        if (step_reset(ins) < 0)
            return -EIO;
        if (rh.type == AKV_TYPE_STRING)
            at += rh.n;
        else if (insert_elems(w, &rh, &at) < 0)
            return -EIO;
        (*rows)++;
    }
    return 0;
}

static const char schema[] =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value);"
    "CREATE TABLE keys (id INTEGER PRIMARY KEY, db INTEGER NOT NULL,"
    " key BLOB NOT NULL, type TEXT NOT NULL, value BLOB, expire_ms INTEGER);"
    "CREATE TABLE hash_fields (key_id INTEGER NOT NULL, field BLOB NOT NULL,"
    " value BLOB NOT NULL);"
    "CREATE TABLE set_members (key_id INTEGER NOT NULL,"
    " member BLOB NOT NULL);"
    "BEGIN;";

/* Built once all rows are in: one sort instead of a B-tree search per
 * row, and a load that reads rows in rowid order meets them stripe by
 * stripe, as they were copied. */
static const char indexes[] =
    "CREATE UNIQUE INDEX keys_by_name ON keys (db, key);"
    "CREATE INDEX hash_fields_by_key ON hash_fields (key_id);"
    "CREATE INDEX set_members_by_key ON set_members (key_id);";

/* Written last, when the row count is known (keys lets a loader size
 * its tables first); created_ms is when the copy began. */
static int write_meta(sqlite3 *db, int64_t created_ms, uint64_t rows,
                      uint64_t elems)
{
    char sql[400];

    snprintf(sql, sizeof(sql),
             "INSERT INTO meta VALUES ('format', %d), ('created_ms', %lld),"
             " ('writer', 'arenakv %s'), ('keys', %llu), ('elements', %llu);",
             SNAPSHOT_FORMAT, (long long)created_ms, PACKAGE_VERSION,
             (unsigned long long)rows, (unsigned long long)elems);
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

static int prepare_writer(struct writer *w, const char *path)
{
    if (sqlite3_open(path, &w->db) != SQLITE_OK ||
        sqlite3_exec(w->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO keys (db, key, type, value, "
                           "expire_ms) VALUES (?, ?, ?, ?, ?)", -1,
                           &w->ins_key, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO hash_fields VALUES (?, ?, ?)",
                           -1, &w->ins_field, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "INSERT INTO set_members VALUES (?, ?)",
                           -1, &w->ins_member, NULL) != SQLITE_OK)
        return -EIO;
    return 0;
}

/* Copy stripe si into cp under its lock; *held_us is how long it took. */
static int copy_stripe(struct akv_ctx *ctx, int si, struct copied *cp,
                       int64_t *held_us)
{
    struct akv_arena *a = ctx->a;
    int64_t t0;

    cp->len = 0;
    cp->now = akv_mstime();
    if (akv_stripe_lock(ctx, si) < 0)
        return -ENOTRECOVERABLE;
    t0 = akv_ustime();
    for (uint32_t i = 0; i < a->hdr->h_ndbs; i++)
        cp->ldb_of[a->hdr->h_dbmap[i]] = (int)i;
    akv_table_foreach_locked(a, si, copy_entry, cp);
    *held_us = akv_ustime() - t0;
    akv_stripe_unlock(ctx, si);
    return 0;
}

int akv_snapshot_write(struct akv_ctx *ctx, const char *path,
                       akv_snapshot_hook between, void *hook_ctx,
                       uint64_t *rows, char *why, size_t whylen)
{
    struct copied cp = {.a = ctx->a};
    struct writer w = {0};
    int64_t created_ms = akv_mstime(), held, longest = 0;
    int r = -EIO, longest_si = 0;

    *rows = 0;
    unlink(path);
    if (prepare_writer(&w, path) < 0) {
        snprintf(why, whylen, "%s", w.db ? sqlite3_errmsg(w.db)
                                         : "no memory");
        goto finish;
    }
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (copy_stripe(ctx, si, &cp, &held) < 0) {
            snprintf(why, whylen, "stripe %d is not recoverable", si);
            goto finish;
        }
        if (held > longest) {
            longest = held;
            longest_si = si;
        }
        if (cp.bad_type) {
            snprintf(why, whylen, "a key of type %d cannot be saved in "
                     "snapshot format %d", cp.bad_type - 1, SNAPSHOT_FORMAT);
            goto finish;
        }
        if (between)
            between(hook_ctx, si);
        if (insert_rows(&w, &cp, rows) < 0) {
            snprintf(why, whylen, "%s", sqlite3_errmsg(w.db));
            goto finish;
        }
        if (cp.cap > KEEP_BUF) {
            free(cp.buf);
            cp.buf = NULL;
            cp.cap = 0;
        }
    }
    if (write_meta(w.db, created_ms, *rows, cp.elems) < 0 ||
        sqlite3_exec(w.db, indexes, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(w.db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(w.db));
        goto finish;
    }
    akv_log(AKV_LOG_VERBOSE, "Snapshot %s: %llu keys, %llu elements; the "
            "longest stripe copy held stripe %d for %.3f ms", path,
            (unsigned long long)*rows, (unsigned long long)cp.elems,
            longest_si, (double)longest / 1000.0);
    r = 0;
finish:
    sqlite3_finalize(w.ins_key);
    sqlite3_finalize(w.ins_field);
    sqlite3_finalize(w.ins_member);
    if (w.db)
        sqlite3_close(w.db);
    free(cp.buf);
    return r;
}

/* ------------------------------------------------------------ loading */

/* The load: a client for the commands that rebuild containers (its ctx
 * is the one every op of the load uses, strings included), the file, and
 * the batch being gathered. */
struct loader {
    struct akv_client c;
    struct akv_op op;       /* string rows */
    sqlite3 *db;
    sqlite3_stmt *sel, *fields, *members;
    const char *path;
    int format;
    char *bb;               /* argument bytes of the batch */
    size_t bb_len, bb_cap;
    size_t *off;            /* where each argument starts in bb */
    const char **argv;
    size_t *argl;
    int argc, arg_cap;
    char *why;
    size_t whylen;
};

/* Insert one string row through the op API (no logging: ctx->replaying),
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

/* Append one argument to the batch. */
static int batch_add(struct loader *ld, const void *p, size_t n)
{
    if (ld->argc == ld->arg_cap) {
        int cap = ld->arg_cap ? ld->arg_cap * 2 : 2 * LOAD_BATCH + 8;
        size_t *off = realloc(ld->off, (size_t)cap * sizeof(*off));
        const char **argv;
        size_t *argl;
        if (off)
            ld->off = off;
        argv = realloc(ld->argv, (size_t)cap * sizeof(*argv));
        if (argv)
            ld->argv = argv;
        argl = realloc(ld->argl, (size_t)cap * sizeof(*argl));
        if (argl)
            ld->argl = argl;
        if (!off || !argv || !argl)
            return -ENOMEM;
        ld->arg_cap = cap;
    }
    if (!akv_grow(&ld->bb, &ld->bb_cap, ld->bb_len + n + 1, 1 << 16))
        return -ENOMEM;
    ld->off[ld->argc] = ld->bb_len;
    ld->argl[ld->argc++] = n;
    if (n)
        memcpy(ld->bb + ld->bb_len, p, n);
    ld->bb_len += n;
    ld->bb[ld->bb_len++] = '\0';
    return 0;
}

/* Begin a command of the batch: its name, then the key. */
static int batch_begin(struct loader *ld, const char *name, const void *k,
                       size_t klen)
{
    ld->argc = 0;
    ld->bb_len = 0;
    if (batch_add(ld, name, strlen(name)) < 0 || batch_add(ld, k, klen) < 0)
        return -ENOMEM;
    return 0;
}

/* Run the batch's command in logical db ldb; a reply that is an error
 * fails the load. */
static int batch_run(struct loader *ld, int ldb)
{
    struct akv_client *c = &ld->c;

    for (int i = 0; i < ld->argc; i++)
        ld->argv[i] = ld->bb + ld->off[i];
    c->db = ldb;
    c->argc = ld->argc;
    c->argv = ld->argv;
    c->argl = ld->argl;
    c->reply.len = 0;
    akv_dispatch(c);
    if (c->reply.len && c->reply.buf[0] == '-') {
        size_t n = c->reply.len;
        while (n && (c->reply.buf[n - 1] == '\r' || c->reply.buf[n - 1] ==
                                                         '\n'))
            n--;
        snprintf(ld->why, ld->whylen, "%s: %s of a key in db %d failed: "
                 "%.*s", ld->path, ld->argv[0], ldb, (int)AKV_MIN(n - 1, 200),
                 c->reply.buf + 1);
        return -EINVAL;
    }
    c->reply.len = 0;
    return 0;
}

/* Rebuild hash or set key id: HSET / SADD in batches, then PEXPIREAT.
 * *loaded says whether the key was made (a container without elements
 * is no key). */
static int load_container(struct loader *ld, int type, sqlite3_int64 id,
                          int ldb, const void *k, size_t klen, int64_t expire,
                          bool *loaded)
{
    bool hash = type == AKV_TYPE_HASH;
    sqlite3_stmt *q = hash ? ld->fields : ld->members;
    const char *cmd = hash ? "HSET" : "SADD";
    int per = hash ? 2 : 1, rc = SQLITE_DONE, r = 0;
    uint64_t n = 0;

    *loaded = false;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, id);
    if (batch_begin(ld, cmd, k, klen) < 0)
        return -ENOMEM;
    while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (int i = 0; r == 0 && i < per; i++) {
            const void *p = sqlite3_column_blob(q, i);
            r = batch_add(ld, p ? p : "", (size_t)sqlite3_column_bytes(q, i));
        }
        if (r == 0 && ++n % LOAD_BATCH == 0 && (r = batch_run(ld, ldb)) == 0)
            r = batch_begin(ld, cmd, k, klen);
    }
    if (r == 0 && rc != SQLITE_DONE) {
        snprintf(ld->why, ld->whylen, "%s: %s", ld->path,
                 sqlite3_errmsg(ld->db));
        r = -EIO;
    }
    if (r == 0 && n % LOAD_BATCH)
        r = batch_run(ld, ldb);
    sqlite3_reset(q);
    if (r < 0 || n == 0)
        return r;
    *loaded = true;
    if (!expire)
        return 0;
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)expire);
    if (batch_begin(ld, "PEXPIREAT", k, klen) < 0 ||
        batch_add(ld, ms, strlen(ms)) < 0)
        return -ENOMEM;
    return batch_run(ld, ldb);
}

/* meta.format: 1 when the table has none (the first files had it, but
 * nothing read it). */
static int read_format(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int format = 1;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = "
                           "'format'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        format = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return format;
}

static int open_file(struct loader *ld)
{
    const char *sel = ld->format >= 3
        ? "SELECT id, db, key, type, value, expire_ms FROM keys"
        : "SELECT 0, db, key, type, value, expire_ms FROM keys";

    if (ld->format > SNAPSHOT_FORMAT) {
        snprintf(ld->why, ld->whylen, "%s: snapshot format %d is newer than "
                 "this arenakv reads (%d)", ld->path, ld->format,
                 SNAPSHOT_FORMAT);
        return -EINVAL;
    }
    if (sqlite3_prepare_v2(ld->db, sel, -1, &ld->sel, NULL) != SQLITE_OK ||
        (ld->format >= 3 &&
         (sqlite3_prepare_v2(ld->db, "SELECT field, value FROM hash_fields "
                             "WHERE key_id = ?", -1, &ld->fields,
                             NULL) != SQLITE_OK ||
          sqlite3_prepare_v2(ld->db, "SELECT member FROM set_members WHERE "
                             "key_id = ?", -1, &ld->members,
                             NULL) != SQLITE_OK))) {
        snprintf(ld->why, ld->whylen, "%s: %s", ld->path,
                 sqlite3_errmsg(ld->db));
        return -EIO;
    }
    return 0;
}

static int type_of(const char *name)
{
    for (int t = 0; name && t < AKV_TYPE_COUNT; t++)
        if (type_names[t] && strcmp(type_names[t], name) == 0)
            return t;
    return -1;
}

/* Load the row sel is on; *loaded: it made a key. */
static int load_one(struct loader *ld, bool *loaded)
{
    sqlite3_stmt *sel = ld->sel;
    sqlite3_int64 id = sqlite3_column_int64(sel, 0);
    int ldb = sqlite3_column_int(sel, 1);
    const char *tname = (const char *)sqlite3_column_text(sel, 3);
    int64_t x = sqlite3_column_int64(sel, 5);
    int type = type_of(tname);
    const void *k;
    size_t klen;
    int r;

    *loaded = false;
    if (ldb < 0 || ldb >= (int)ld->c.ctx.a->hdr->h_ndbs) {
        snprintf(ld->why, ld->whylen, "%s: db %d out of range", ld->path,
                 ldb);
        return -EINVAL;
    }
    if (type < 0 || (type != AKV_TYPE_STRING && ld->format < 3)) {
        snprintf(ld->why, ld->whylen, "%s: unknown type '%s'", ld->path,
                 tname ? tname : "");
        return -EINVAL;
    }
    if (x && x <= ld->c.ctx.now)
        return 0;
    /* SQLite gives NULL for an empty blob. */
    k = sqlite3_column_blob(sel, 2);
    k = k ? k : "";
    klen = (size_t)sqlite3_column_bytes(sel, 2);
    if (type != AKV_TYPE_STRING)
        return load_container(ld, type, id, ldb, k, klen, x, loaded);
    const void *v = sqlite3_column_blob(sel, 4);
    r = load_row(&ld->c.ctx, &ld->op, ldb, k, klen, v ? v : "",
                 (size_t)sqlite3_column_bytes(sel, 4), x);
    if (r < 0) {
        snprintf(ld->why, ld->whylen, "%s: no room for the dataset (%s)",
                 ld->path, strerror(-r));
        return r;
    }
    *loaded = true;
    return 0;
}

static void loader_init(struct loader *ld, struct akv_ctx *ctx,
                        const char *path, char *why, size_t whylen)
{
    memset(ld, 0, sizeof(*ld));
    ld->c.ctx = *ctx;
    ld->c.ctx.replaying = true;
    ld->c.ctx.aof_buf = NULL;
    ld->c.ctx.aof_len = ld->c.ctx.aof_cap = 0;
    ld->c.authed = true;
    ld->c.fd_in = ld->c.fd_out = -1;
    akv_reply_init(&ld->c.reply);
    akv_op_init(&ld->c.op, &ld->c.ctx);
    ld->path = path;
    ld->why = why;
    ld->whylen = whylen;
}

static void loader_free(struct loader *ld, struct akv_ctx *ctx)
{
    sqlite3_finalize(ld->sel);
    sqlite3_finalize(ld->fields);
    sqlite3_finalize(ld->members);
    if (ld->db)
        sqlite3_close(ld->db);
    ctx->seq = ld->c.ctx.seq; /* the slot's commit word moved on */
    akv_op_free(&ld->op);
    akv_op_free(&ld->c.op);
    akv_op_free(&ld->c.evict_op);
    akv_reply_free(&ld->c.reply);
    free(ld->c.key_hash);
    free(ld->c.ctx.aof_buf);
    free(ld->bb);
    free(ld->off);
    free(ld->argv);
    free(ld->argl);
}

int akv_snapshot_load(struct akv_ctx *ctx, const char *path, uint64_t *rows,
                      char *why, size_t whylen)
{
    struct loader ld;
    bool loaded;
    int r = -EIO, rc;

    *rows = 0;
    loader_init(&ld, ctx, path, why, whylen);
    if (sqlite3_open_v2(path, &ld.db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        snprintf(why, whylen, "%s: %s", path,
                 ld.db ? sqlite3_errmsg(ld.db) : "cannot open");
        goto finish;
    }
    ld.format = read_format(ld.db);
    if ((r = open_file(&ld)) < 0)
        goto finish;
    presize_tables(&ld.c.ctx, ld.db);
    ld.c.ctx.now = akv_mstime();
    while ((rc = sqlite3_step(ld.sel)) == SQLITE_ROW) {
        if ((*rows & 1023) == 0)
            ld.c.ctx.now = akv_mstime(); /* fine enough for access clocks */
        if ((r = load_one(&ld, &loaded)) < 0)
            goto finish;
        if (loaded) {
            (*rows)++;
            atomic_fetch_add(&ctx->a->hdr->h_load_keys, 1);
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(why, whylen, "%s: %s", path, sqlite3_errmsg(ld.db));
        r = -EIO;
        goto finish;
    }
    r = 0;
finish:
    loader_free(&ld, ctx);
    return r;
}
