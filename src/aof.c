/*
 * aof.c -- the append-only file: how the supervisor writes it, and how a
 * new arena is rebuilt from it.
 *
 * The effect records themselves are made by aof_encode.c.
 *
 * The drainer (a thread of the supervisor) writes committed records in
 * ring order with writev(), adding SELECT when the db changes, and fsyncs
 * per appendfsync: always (after every batch, and workers wait for it:
 * group commit), everysec, no.  It records in the arena how many file
 * bytes cover the drained records, so a restarted supervisor truncates
 * whatever was written past that and drains again: nothing lost, nothing
 * written twice.
 *
 * Reuse of ring space: a record may be overwritten only when its owner
 * said it is done, or when its owner is dead and a stripe sweep has run
 * since: then no intent anywhere still points at it (stripe.c).
 */
#include "build-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aof.h"
#include "aof_check.h"
#include "clients.h"
#include "fault.h"
#include "log.h"
#include "ring.h"
#include "server.h"
#include "snapshot.h"
#include "util.h"

/* ------------------------------------------------------------ files */

void akv_aof_path(const struct akv_aof *aof, const char *name, char *buf,
                  size_t len)
{
    snprintf(buf, len, "%s/%s", aof->dir, name);
}

static void manifest_path(const struct akv_aof *aof, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.manifest", aof->dir, aof->name);
}

/* Read the manifest with the checker's strict parser (aof_check.c). */
static int manifest_read(struct akv_aof *aof, struct akv_manifest *m)
{
    struct akv_aof_manifest parsed;
    char path[1100], err[256];
    int r;

    memset(m, 0, sizeof(*m));
    manifest_path(aof, path, sizeof(path));
    if ((r = akv_aof_manifest_load(path, &parsed, err, sizeof(err))) < 0) {
        akv_aof_manifest_free(&parsed); /* what it parsed before failing */
        return r;
    }
    for (size_t i = 0; i < parsed.nfiles; i++) {
        const struct akv_aof_manifest_file *f = &parsed.files[i];
        if (f->type == 'b') {
            snprintf(m->base, sizeof(m->base), "%s", f->name);
            m->base_seq = (int)f->seq;
        } else if (f->type == 'i' && m->nincr < AKV_AOF_MAX_INCR) {
            snprintf(m->incr[m->nincr], sizeof(m->incr[0]), "%s", f->name);
            m->incr_seq[m->nincr++] = (int)f->seq;
        }
    }
    akv_aof_manifest_free(&parsed);
    return m->nincr ? 0 : -EINVAL;
}

/* Replace the manifest atomically (write, fsync, rename, fsync dir). */
int akv_manifest_write(struct akv_aof *aof, const struct akv_manifest *m)
{
    char path[1100], tmp[1120], text[(AKV_AOF_MAX_INCR + 1) * 360];
    int fd, n = 0;

    if (m->base[0])
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "file %s seq %d type b\n", m->base, m->base_seq);
    for (int i = 0; i < m->nincr; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "file %s seq %d type i\n", m->incr[i], m->incr_seq[i]);
    manifest_path(aof, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
        close(fd);
        unlink(tmp); /* a full disk leaves no half manifest behind */
        return -EIO;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return -err;
    }
    if ((fd = open(aof->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

static int open_incr(struct akv_aof *aof, int i)
{
    akv_aof_path(aof, aof->man.incr[i], aof->incr, sizeof(aof->incr));
    return open(aof->incr, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

int akv_aof_open(struct akv_aof *aof, struct akv_arena *a, int slot,
                 const char **why)
{
    const struct akv_config *cfg = &a->hdr->h_cfg;
    uint32_t seq = atomic_load(&a->hdr->h_aof_incr_seq);
    int r;

    memset(aof, 0, sizeof(*aof));
    if ((r = akv_arena_reserve_ring(a)) < 0) {
        *why = "cannot reserve the AOF ring in the arena's tmpfs (is it "
               "full? see aof-ring-size)";
        return r;
    }
    aof->ctx.a = a;
    aof->ctx.slot = slot;
    aof->ctx.cs = &a->slots[slot];
    pthread_mutex_init(&aof->mu, NULL);
    pthread_cond_init(&aof->cv, NULL);
    snprintf(aof->dir, sizeof(aof->dir), "%s", cfg->appenddirname);
    snprintf(aof->name, sizeof(aof->name), "%s", cfg->appendfilename);
    if (mkdir(aof->dir, 0755) < 0 && errno != EEXIST) {
        *why = "cannot create the AOF directory";
        return -errno;
    }
    r = manifest_read(aof, &aof->man);
    if (r < 0 && r != -ENOENT) {
        *why = "the AOF manifest is unreadable (fix or move it)";
        return -EINVAL;
    }
    if (r == -ENOENT) {
        memset(&aof->man, 0, sizeof(aof->man));
        snprintf(aof->man.incr[0], sizeof(aof->man.incr[0]),
                 "%s.1.incr.aof", aof->name);
        aof->man.incr_seq[0] = 1;
        aof->man.nincr = 1;
        if (akv_manifest_write(aof, &aof->man) < 0) {
            *why = "cannot write the AOF manifest";
            return -EIO;
        }
    }
    /* A live arena knows which file it was writing; a new one continues
     * the last file of the manifest. */
    aof->cur = aof->man.nincr - 1;
    for (int i = 0; i < aof->man.nincr; i++)
        if (seq && (uint32_t)aof->man.incr_seq[i] == seq)
            aof->cur = i;
    aof->fd = open_incr(aof, aof->cur);
    if (aof->fd < 0) {
        *why = "cannot open the AOF file";
        return -errno;
    }
    return 0;
}

/* ------------------------------------------------------------ replay */

struct loader {
    struct akv_client c;
    char *base;
    size_t size;
    uint64_t done_before; /* bytes of the files loaded before this one */
    uint64_t unknown;     /* commands of this file no table entry names */
};

#define UNKNOWN_REPLY "-ERR unknown command"

/* Replies are not read (an effect that meets a key changed later in a
 * rewrite's window fails harmlessly), except to count the commands this
 * build does not know: their effects are missing, which is said once
 * per file (arenakv-check-aof lists them with their offsets). */
static void run_loaded(struct loader *ld, struct akv_parser *p)
{
    struct akv_client *c = &ld->c;
    size_t at = c->reply.len;

    c->argc = p->argc;
    c->argv = p->argv;
    c->argl = p->argl;
    akv_dispatch(c);
    if (c->reply.len - at >= sizeof(UNKNOWN_REPLY) - 1 &&
        memcmp(c->reply.buf + at, UNKNOWN_REPLY,
               sizeof(UNKNOWN_REPLY) - 1) == 0)
        ld->unknown++;
    if (c->reply.len > 1 << 20)
        c->reply.len = 0;
    atomic_fetch_add(&c->ctx.a->hdr->h_load_keys, 1);
}

/* Run the commands between a MULTI at `from` and its EXEC at `to`: a
 * transaction is applied only once it is known to be whole. */
static void run_transaction(struct loader *ld, size_t from, size_t to)
{
    struct akv_parser q;
    size_t at = from;

    akv_parser_init(&q, INT64_MAX);
    while (at < to && akv_parse(&q, ld->base + at, to - at) ==
                          AKV_PARSE_DONE) {
        if (!(q.argc == 1 && akv_strcaseeq(q.argv[0], q.argl[0], "multi")))
            run_loaded(ld, &q);
        at += q.used;
    }
    akv_parser_free(&q);
}

/* Execute the whole commands and transactions in [from, to); returns the
 * end of the last one, which is where a torn tail begins. */
static size_t replay_range(struct loader *ld, size_t from, size_t to,
                           bool *in_multi, size_t *multi_at, int *status,
                           char *why, size_t whylen)
{
    struct akv_parser p;
    size_t pos = from, good = from;

    akv_parser_init(&p, INT64_MAX);
    *status = 0;
    while (pos < to) {
        int r;
        if (ld->base[pos] != '*') {
            snprintf(why, whylen, "Bad file format reading the append only "
                     "file at offset %zu", pos);
            *status = -1;
            break;
        }
        r = akv_parse(&p, ld->base + pos, to - pos);
        if (r == AKV_PARSE_NEED)
            break;
        if (r == AKV_PARSE_ERROR) {
            snprintf(why, whylen, "Bad file format at offset %zu (%s)", pos,
                     p.err);
            *status = -1;
            break;
        }
        if (((pos - from) & 0xffff) < p.used)
            atomic_store(&ld->c.ctx.a->hdr->h_load_done,
                         ld->done_before + pos);
        if (r == AKV_PARSE_DONE && p.argc == 1 &&
            akv_strcaseeq(p.argv[0], p.argl[0], "multi")) {
            *in_multi = true;
            *multi_at = pos;
        } else if (r == AKV_PARSE_DONE && p.argc == 1 &&
                   akv_strcaseeq(p.argv[0], p.argl[0], "exec")) {
            *in_multi = false;
            run_transaction(ld, *multi_at, pos);
            good = pos + p.used;
        } else if (r == AKV_PARSE_DONE && !*in_multi) {
            run_loaded(ld, &p);
            good = pos + p.used;
        }
        pos += p.used;
    }
    akv_parser_free(&p);
    return good;
}

/* Replay one incremental file.  Only the last one may end torn. */
static int load_incr(struct akv_aof *aof, struct loader *ld, const char *path,
                     bool last, char *why, size_t whylen)
{
    struct stat st;
    bool in_multi = false;
    size_t multi_at = 0, good;
    int status, fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        close(fd);
        return 0;
    }
    ld->size = (size_t)st.st_size;
    ld->base = mmap(NULL, ld->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
                    0);
    if (ld->base == MAP_FAILED) {
        close(fd);
        return -errno;
    }
    ld->unknown = 0;
    good = replay_range(ld, 0, ld->size, &in_multi, &multi_at, &status, why,
                        whylen);
    munmap(ld->base, ld->size);
    if (ld->unknown)
        akv_log(AKV_LOG_WARNING, "%llu commands of the AOF file %s are "
                "unknown to this arenakv and were not applied (see "
                "arenakv-check-aof)", (unsigned long long)ld->unknown, path);
    if (status == 0 && good < ld->size && !last) {
        snprintf(why, whylen, "Bad file format: %s ends in the middle of a "
                 "command at offset %zu", path, good);
        status = -1;
    }
    if (status == 0 && good < ld->size) {
        akv_log(AKV_LOG_WARNING, "!!! Warning: short read while loading the "
                "AOF file %s!!! Truncating %zu bytes at offset %zu (a command "
                "or transaction cut short by a crash); "
                "aof-load-truncated is enabled.", path, ld->size - good, good);
        if (ftruncate(fd, (off_t)good) < 0 || fsync(fd) < 0)
            status = -1;
    }
    close(fd);
    ld->done_before += (uint64_t)st.st_size;
    atomic_store(&aof->ctx.a->hdr->h_load_done, ld->done_before);
    if (last)
        aof->ctx.a->hdr->h_aof_file_size = good;
    return status < 0 ? -EINVAL : 0;
}

/* INFO's loading_total_bytes: every file the load will read. */
static void load_total(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    char path[1100];
    struct stat st;
    uint64_t total = 0;

    if (aof->man.base[0]) {
        akv_aof_path(aof, aof->man.base, path, sizeof(path));
        if (stat(path, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    for (int i = 0; i <= aof->cur; i++) {
        akv_aof_path(aof, aof->man.incr[i], path, sizeof(path));
        if (stat(path, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    atomic_store(&h->h_load_total, total);
    atomic_store(&h->h_load_done, 0);
    atomic_store(&h->h_load_start, akv_mstime() / 1000);
}

int akv_aof_load(struct akv_aof *aof, struct akv_ctx *ctx, char *why,
                 size_t whylen)
{
    struct loader ld;
    char path[1100];
    uint64_t rows;
    int r = 0;

    memset(&ld, 0, sizeof(ld));
    ld.c.ctx = *ctx;
    ld.c.ctx.replaying = true;
    ld.c.authed = true;
    ld.c.fd_in = ld.c.fd_out = -1;
    akv_reply_init(&ld.c.reply);
    akv_op_init(&ld.c.op, &ld.c.ctx);
    load_total(aof);
    if (aof->man.base[0]) {
        struct stat st;
        akv_aof_path(aof, aof->man.base, path, sizeof(path));
        r = akv_snapshot_load(&ld.c.ctx, path, &rows, why, whylen);
        if (stat(path, &st) == 0)
            ld.done_before = (uint64_t)st.st_size;
        if (r == 0)
            akv_log(AKV_LOG_NOTICE, "Loaded %llu keys from the base %s",
                    (unsigned long long)rows, path);
    }
    for (int i = 0; r == 0 && i <= aof->cur; i++) {
        akv_aof_path(aof, aof->man.incr[i], path, sizeof(path));
        r = load_incr(aof, &ld, path, i == aof->cur, why, whylen);
        if (r < 0 && !strstr(why, path)) {
            char tmp[1700];
            snprintf(tmp, sizeof(tmp), "%s: %s", path, why);
            snprintf(why, whylen, "%s", tmp);
        }
    }
    ctx->a->hdr->h_aof_cur_db = ld.c.db;
    ctx->seq = ld.c.ctx.seq; /* the slot's commit word moved on */
    atomic_store(&ctx->a->hdr->h_aof_incr_seq,
                 (uint32_t)aof->man.incr_seq[aof->cur]);
    akv_reply_free(&ld.c.reply);
    akv_op_free(&ld.c.op);
    akv_op_free(&ld.c.evict_op);
    free(ld.c.key_hash);
    free(ld.c.ctx.aof_buf);
    return r;
}

/* ------------------------------------------------------------ drainer */

static bool owner_alive(struct akv_arena *a, const struct akv_rec *r)
{
    return r->rc_slot < AKV_NSLOTS &&
           atomic_load(&a->slots[r->rc_slot].c_pid) == r->rc_pid &&
           akv_slot_owner_alive(a, (int)r->rc_slot);
}

/* A RESERVED record is nearly always one a live worker is filling in
 * right now: ask the kernel (a fcntl) only when the same record has
 * blocked the drain for a while, at most once per BUSY_CHECK_MS. */
#define BUSY_CHECK_MS 20

static bool owner_presumed_alive(struct akv_aof *aof, uint64_t pos,
                                 const struct akv_rec *r)
{
    int64_t now = akv_monotonic_ms();

    if (aof->busy_pos != pos) {
        aof->busy_pos = pos;
        aof->busy_ms = now;
        return true;
    }
    if (now - aof->busy_ms < BUSY_CHECK_MS)
        return true;
    aof->busy_ms = now;
    return owner_alive(aof->ctx.a, r);
}

#define MAX_IOV 128

struct batch {
    struct iovec iov[MAX_IOV];
    char select[MAX_IOV][40];
    int n;
    size_t bytes;
};

static void add_select(struct batch *b, int db)
{
    char *s = b->select[b->n];
    int len = snprintf(s, 40, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%d\r\n",
                       db >= 10 ? (db >= 100 ? 3 : 2) : 1, db);
    b->iov[b->n].iov_base = s;
    b->iov[b->n].iov_len = (size_t)len;
    b->bytes += (size_t)len;
    b->n++;
}

/* Collect committed records from `written` on; returns the new position.
 * Stops at a record still being written by a live owner. */
static uint64_t collect(struct akv_aof *aof, struct batch *b)
{
    struct akv_arena *a = aof->ctx.a;
    struct akv_hdr *h = a->hdr;
    uint64_t pos = atomic_load(&h->h_ring_written);
    uint64_t head = atomic_load(&h->h_ring_head);

    pthread_mutex_lock(&aof->mu);
    if (aof->switching && head > aof->switch_at)
        head = aof->switch_at; /* later records go to the next file */
    pthread_mutex_unlock(&aof->mu);
    while (pos < head && b->n < MAX_IOV - 2) {
        struct akv_rec *r = akv_ring_rec(a, pos);
        uint32_t st = atomic_load_explicit(&r->rc_state, memory_order_acquire);
        if (st == AKV_REC_RESERVED) {
            if (owner_presumed_alive(aof, pos, r))
                break;
            /* Its owner died before the commit point: never happened. */
            atomic_compare_exchange_strong(&r->rc_state, &st,
                                           AKV_REC_ABORTED);
            continue;
        }
        if (st == AKV_REC_COMMITTED) {
            if (r->rc_db >= 0 && r->rc_db != h->h_aof_cur_db)
                add_select(b, r->rc_db);
            b->iov[b->n].iov_base = akv_rec_payload(r);
            b->iov[b->n].iov_len = r->rc_len;
            b->bytes += r->rc_len;
            b->n++;
            if (r->rc_db_end >= 0)
                h->h_aof_cur_db = r->rc_db_end;
        }
        pos += r->rc_total;
    }
    return pos;
}

/* ------------------------------------------------------------ disk errors
 *
 * A write or fsync that fails (ENOSPC, EIO, EDQUOT, ...) puts the drainer
 * in an error state, as Redis's aof_last_write_status: h_aof_write_err
 * holds the errno, so workers refuse write commands with -MISCONF and no
 * new record enters the ring; reads go on.  The drainer tries again about
 * once a second, and the first write and fsync that succeed end the state
 * ("AOF write error looks solved").  Its log lines go through limiters:
 * one line, then a count per interval, never a line per attempt.
 *
 * The file never keeps a torn record: a short write is cut back to the
 * end of the last whole batch (h_aof_file_size), and if ftruncate fails
 * too, the cut is made before anything else is written.  After a failed
 * fsync with appendfsync always, what the last good fsync did not cover
 * is cut off and written again from the ring (the records are still
 * there: space is reused only below h_ring_durable), because a later
 * fsync that succeeds does not prove the pages of the failed one reached
 * the disk.  Workers waiting for those records keep waiting: a write is
 * acknowledged only once an fsync that followed its write succeeded. */

#define RETRY_MS 1000

static void enter_error(struct akv_aof *aof, int err)
{
    struct akv_arena *a = aof->ctx.a;

    aof->err = err;
    aof->retry_ms = akv_monotonic_ms() + RETRY_MS;
    if (atomic_exchange(&a->hdr->h_aof_write_err, err) == 0)
        akv_ring_progress(a); /* writers waiting for ring room: refuse */
}

static void leave_error(struct akv_aof *aof)
{
    aof->err = 0;
    atomic_store(&aof->ctx.a->hdr->h_aof_write_err, 0);
    akv_log_limit_flush(&aof->write_limit, AKV_LOG_WARNING,
                        "Errors writing to the AOF file");
    akv_log_limit_flush(&aof->fsync_limit, AKV_LOG_WARNING,
                        "Errors fsyncing the AOF file");
    akv_log(AKV_LOG_WARNING, "AOF write error looks solved, Redis can write "
            "again.");
}

/* Cut the file back to the end of the last whole batch.  Returns 0, or
 * -errno when ftruncate fails (the cut then stays pending). */
static int cut_back(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    int err = 0;

    if (ftruncate(aof->fd, (off_t)h->h_aof_file_size) < 0)
        err = errno;
    aof->cut_pending = err != 0;
    if (err)
        akv_log_limited(&aof->write_limit, AKV_LOG_WARNING, "Could not "
                        "remove a short write from the AOF file %s "
                        "(ftruncate: %s); trying again before the next "
                        "write", aof->incr, strerror(err));
    return -err;
}

/* DEBUG FAULT-IO aof-write: write half of the first piece (a torn record,
 * as a full disk leaves), then fail. */
static ssize_t injected_write(struct akv_aof *aof, struct batch *b, int err)
{
    ssize_t w = write(aof->fd, b->iov[0].iov_base, b->iov[0].iov_len / 2);

    (void)w;
    errno = err;
    return -1;
}

/* Write the batch; returns 0, or -errno with *done bytes written. */
static int write_batch(struct akv_aof *aof, struct batch *b, size_t *done)
{
    int i = 0, inject = akv_io_fault(aof->ctx.a, AKV_IO_AOF_WRITE);

    *done = 0;
    while (i < b->n) {
        ssize_t w = inject ? injected_write(aof, b, inject)
                           : writev(aof->fd, b->iov + i, b->n - i);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno ? -errno : -EIO;
        }
        *done += (size_t)w;
        while (i < b->n && (size_t)w >= b->iov[i].iov_len)
            w -= (ssize_t)b->iov[i++].iov_len;
        if (i < b->n) {
            b->iov[i].iov_base = (char *)b->iov[i].iov_base + w;
            b->iov[i].iov_len -= (size_t)w;
        }
    }
    return 0;
}

static void write_failed(struct akv_aof *aof, struct batch *b, size_t done,
                         int err)
{
    struct stat st;

    if (done || (fstat(aof->fd, &st) == 0 &&
                 (uint64_t)st.st_size > aof->ctx.a->hdr->h_aof_file_size)) {
        akv_log_limited(&aof->write_limit, AKV_LOG_WARNING, "Short write "
                        "while writing to the AOF file %s: (nwritten=%zu, "
                        "expected=%zu): %s", aof->incr, done, b->bytes,
                        strerror(err));
        cut_back(aof);
    } else {
        akv_log_limited(&aof->write_limit, AKV_LOG_WARNING, "Error writing "
                        "to the AOF file %s: %s", aof->incr, strerror(err));
    }
    enter_error(aof, err);
}

static int sync_file(struct akv_aof *aof)
{
    int err = akv_io_fault(aof->ctx.a, AKV_IO_AOF_FSYNC);

    if (err)
        return -err;
    return fdatasync(aof->fd) < 0 ? -errno : 0;
}

/* Write again from what the last good fsync covered: ring position
 * first, then the file size, so a supervisor killed in between writes
 * some records twice (absolute effects: harmless), never loses one. */
static void rewind_to_synced(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;

    atomic_store(&h->h_ring_written, aof->synced_pos);
    h->h_aof_cur_db = aof->synced_db;
    h->h_aof_file_size = aof->synced_size;
    cut_back(aof);
}

static void fsync_failed(struct akv_aof *aof, int err)
{
    akv_log_limited(&aof->fsync_limit, AKV_LOG_WARNING, "Fail to fsync the "
                    "AOF file %s: %s", aof->incr, strerror(err));
    if (aof->ctx.a->hdr->h_cfg.appendfsync == AKV_FSYNC_ALWAYS)
        rewind_to_synced(aof);
    enter_error(aof, err);
}

/* fsync per appendfsync (and always while recovering from an error, to
 * prove the disk works).  Returns 0 or -errno. */
static int sync_policy(struct akv_aof *aof, bool wrote)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    int64_t now = akv_monotonic_ms();
    int r = 0;

    switch (h->h_cfg.appendfsync) {
    case AKV_FSYNC_ALWAYS:
        if (wrote || aof->err)
            r = sync_file(aof);
        break;
    case AKV_FSYNC_EVERYSEC:
        if (aof->err || now - aof->last_fsync_ms >= 1000) {
            if (!aof->err && now - aof->last_fsync_ms >= 3000)
                atomic_fetch_add(&h->h_aof_delayed_fsync, 1);
            r = sync_file(aof);
            aof->last_fsync_ms = now;
        }
        break;
    default:
        break;
    }
    if (r == 0) {
        aof->synced_pos = atomic_load(&h->h_ring_written);
        aof->synced_size = h->h_aof_file_size;
        aof->synced_db = h->h_aof_cur_db;
    }
    return r;
}

/* Reuse ring space below records that nobody can still refer to. */
static bool reclaim(struct akv_aof *aof)
{
    struct akv_arena *a = aof->ctx.a;
    struct akv_hdr *h = a->hdr;
    uint64_t tail = atomic_load(&h->h_ring_tail);
    /* Not past durable: appendfsync always may write [durable, written)
     * again after a failed fsync. */
    uint64_t durable = atomic_load(&h->h_ring_durable);
    bool swept = false, moved = false;

    while (tail < durable) {
        struct akv_rec *r = akv_ring_rec(a, tail);
        if (!atomic_load(&r->rc_done)) {
            if (owner_alive(a, r))
                break;
            /* The owner died.  Once a sweep has run no intent points
             * here; the grace period lets a repair that a worker began
             * just before the sweep (a stripe the sweep found held)
             * finish reading this record. */
            if (aof->dead_pos != tail) {
                aof->dead_pos = tail;
                aof->dead_ms = akv_monotonic_ms();
            }
            if (akv_monotonic_ms() - aof->dead_ms < 1000)
                break;
            if (!swept) {
                akv_stripe_sweep(&aof->ctx);
                swept = true;
            }
        }
        tail += r->rc_total;
        moved = true;
    }
    if (moved)
        atomic_store(&h->h_ring_tail, tail);
    return moved;
}

/* The rewrite's new incremental file takes over at switch_at: finish the
 * old file, then record the new one in the arena (seq before size, so a
 * supervisor killed in between truncates nothing it should keep).  The
 * old file must be fsynced first; if that fails, the switch waits for
 * the next attempt.  Returns 0 or -errno. */
static int maybe_switch(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    int r = 0;

    pthread_mutex_lock(&aof->mu);
    if (aof->switching &&
        atomic_load(&h->h_ring_written) >= aof->switch_at &&
        (r = sync_file(aof)) == 0) {
        close(aof->fd);
        aof->fd = aof->next_fd;
        aof->cur = aof->man.nincr - 1;
        akv_aof_path(aof, aof->man.incr[aof->cur], aof->incr,
                     sizeof(aof->incr));
        atomic_store(&h->h_aof_incr_seq,
                     (uint32_t)aof->man.incr_seq[aof->cur]);
        h->h_aof_file_size = 0;
        h->h_aof_cur_db = -1;
        aof->synced_pos = aof->switch_at;
        aof->synced_size = 0;
        aof->synced_db = -1;
        aof->switching = false;
        pthread_cond_broadcast(&aof->cv);
    }
    pthread_mutex_unlock(&aof->mu);
    return r;
}

void akv_aof_switch(struct akv_aof *aof, uint64_t at, int fd)
{
    pthread_mutex_lock(&aof->mu);
    aof->switch_at = at;
    aof->next_fd = fd;
    aof->switching = true;
    akv_ring_kick(aof->ctx.a);
    while (aof->switching && aof->running)
        pthread_cond_wait(&aof->cv, &aof->mu);
    pthread_mutex_unlock(&aof->mu);
}

/* While failing, attempts wait for retry_ms (the stop makes one more). */
static bool backing_off(const struct akv_aof *aof)
{
    return aof->err && !aof->stop && akv_monotonic_ms() < aof->retry_ms;
}

/* Move committed records to the file; true when the ring moved. */
static bool drain_once(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    int32_t db0 = h->h_aof_cur_db;
    struct batch b;
    uint64_t pos;
    size_t done;
    bool progress;
    int r;

    if (backing_off(aof))
        return false;
    if (aof->cut_pending && (r = cut_back(aof)) < 0) {
        enter_error(aof, -r);
        return false;
    }
    b.n = 0;
    b.bytes = 0;
    pos = collect(aof, &b);
    progress = pos != atomic_load(&h->h_ring_written);
    if (b.n && (r = write_batch(aof, &b, &done)) < 0) {
        h->h_aof_cur_db = db0;
        write_failed(aof, &b, done, -r);
        return false;
    }
    h->h_aof_file_size += b.bytes;
    atomic_store(&h->h_ring_written, pos);
    if ((r = maybe_switch(aof)) < 0 || (r = sync_policy(aof, b.n > 0)) < 0) {
        fsync_failed(aof, -r);
        return false;
    }
    if (aof->err)
        leave_error(aof);
    if (atomic_load(&h->h_ring_durable) != pos) {
        atomic_store(&h->h_ring_durable, pos);
        progress = true;
    }
    akv_ring_wake_durable(aof->ctx.a);
    progress |= reclaim(aof);
    if (progress)
        akv_ring_progress(aof->ctx.a);
    return progress;
}

/* A committed (or aborted) record waits at the drain position. */
static bool work_pending(void *arg)
{
    struct akv_aof *aof = arg;
    struct akv_arena *a = aof->ctx.a;
    uint64_t pos = atomic_load(&a->hdr->h_ring_written);

    if (aof->stop)
        return true;
    return !backing_off(aof) && pos < atomic_load(&a->hdr->h_ring_head) &&
           atomic_load(&akv_ring_rec(a, pos)->rc_state) != AKV_REC_RESERVED;
}

static int sleep_ms(const struct akv_aof *aof)
{
    int ms = aof->ctx.a->hdr->h_cfg.appendfsync == AKV_FSYNC_ALWAYS ? 100
                                                                    : 10;

    if (aof->err)
        ms = (int)AKV_MAX(1, AKV_MIN(aof->retry_ms - akv_monotonic_ms(),
                                     100));
    return ms;
}

static void *drainer(void *arg)
{
    struct akv_aof *aof = arg;
    struct akv_hdr *h = aof->ctx.a->hdr;

    while (!aof->stop) {
        uint32_t kick = atomic_load(&h->h_ring_kick);
        if (!drain_once(aof))
            akv_ring_drainer_sleep(aof->ctx.a, kick, work_pending, aof,
                                   sleep_ms(aof));
    }
    /* One last attempt even while failing; what stays in the ring is
     * drained by the next supervisor (the arena keeps it). */
    while (drain_once(aof))
        ;
    if (!aof->err)
        fdatasync(aof->fd);
    return NULL;
}

int akv_aof_start(struct akv_aof *aof)
{
    struct akv_hdr *h = aof->ctx.a->hdr;
    struct stat st;

    /* Bytes past what the arena says was drained were written by a
     * supervisor that died before recording them: they will be written
     * again from the ring. */
    if (fstat(aof->fd, &st) == 0 && (uint64_t)st.st_size > h->h_aof_file_size) {
        akv_log(AKV_LOG_NOTICE, "AOF %s: dropping %llu bytes the ring will "
                "write again", aof->incr,
                (unsigned long long)(st.st_size - (off_t)h->h_aof_file_size));
        if (ftruncate(aof->fd, (off_t)h->h_aof_file_size) < 0)
            return -errno;
    }
    aof->last_fsync_ms = akv_monotonic_ms();
    aof->synced_pos = atomic_load(&h->h_ring_written);
    aof->synced_size = h->h_aof_file_size;
    aof->synced_db = h->h_aof_cur_db;
    atomic_store(&h->h_aof_write_err, 0); /* this drainer finds out again */
    atomic_store(&h->h_aof_on, 1);
    if (pthread_create(&aof->thread, NULL, drainer, aof) != 0)
        return -EAGAIN;
    aof->running = true;
    return 0;
}

void akv_aof_stop(struct akv_aof *aof)
{
    if (!aof->running)
        return;
    if (atomic_load(&aof->rewriting)) {
        pthread_join(aof->rewriter, NULL); /* needs the drainer running */
        atomic_store(&aof->rewriting, 0);
        atomic_store(&aof->ctx.a->hdr->h_rewrite_running, 0);
    }
    aof->stop = true;
    akv_ring_kick(aof->ctx.a);
    pthread_join(aof->thread, NULL);
    aof->running = false;
    close(aof->fd);
}
