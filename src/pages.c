/*
 * pages.c -- memory allocator of the arena: page runs and slab chunks.
 *
 * Two levels, both O(1) per operation:
 *
 *   Pages (64 KiB) are handed out in runs by a segregated-fit allocator
 *   under h_pg_mutex: free runs sit in bins by floor(log2(length)), both
 *   ends of a free run carry its length, so a freed run merges with free
 *   neighbours at once.  Never-used pages above h_pg_top are reserved in
 *   the tmpfs file with fallocate() a megabyte at a time, so a full tmpfs
 *   is an allocation failure, never a SIGBUS.
 *
 *   Chunks: each stripe cuts single pages into chunks of one size class
 *   (slab pages, as memcached and nginx do) and keeps, per class, a list of
 *   its pages that still have room.  Chunks above AKV_MAX_SLAB_CHUNK take a
 *   run of their own.  Everything here is protected by the stripe lock of
 *   the owning stripe, so workers on different stripes never contend.
 *
 * Crash safety: the only facts that matter are the chunk states (the byte
 * e_state of each chunk) and which pages a stripe owns.  Free lists,
 * partial lists, live counts and s_used are derived; after a worker dies
 * holding a stripe lock they are rebuilt by akv_pages_rebuild_stripe_locked
 * from the chunk states.  Every step below writes a chunk's state before it
 * becomes countable (p_carved), so a rebuild never reads a chunk that was
 * not initialised.  The page allocator's bins are likewise rebuilt from
 * p_kind when its holder dies.
 */
#include "build-config.h"

#include <fcntl.h>
#include <stdio.h>

#include "fault.h"
#include "lock.h"
#include "pages.h"

#define RESERVE_STEP 16 /* pages fallocated at a time (1 MiB) */

static uint32_t class_sizes[AKV_NCLASSES];
static int nclasses;

/* The class table is the same in every process; build it before main()
 * so that every path (allocation, free, repair) can rely on it. */
__attribute__((constructor)) static void build_classes(void)
{
    size_t sz = 32;

    nclasses = 0;
    while (sz <= AKV_MAX_SLAB_CHUNK && nclasses < AKV_NCLASSES) {
        class_sizes[nclasses++] = (uint32_t)sz;
        if (sz < 128)
            sz += 8;
        else
            sz = (sz + sz / 8 + 7) & ~(size_t)7;
    }
    if (class_sizes[nclasses - 1] != AKV_MAX_SLAB_CHUNK &&
        nclasses < AKV_NCLASSES)
        class_sizes[nclasses++] = AKV_MAX_SLAB_CHUNK;
}

/* Smallest class that holds `bytes`, or -1 for a run. */
static int class_for(size_t bytes)
{
    int lo = 0, hi;

    if (bytes <= 32)
        return 0;
    if (bytes <= 128)
        return (int)((bytes - 32 + 7) / 8);
    if (bytes > class_sizes[nclasses - 1])
        return -1;
    lo = 13;
    hi = nclasses - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (class_sizes[mid] >= bytes)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static uint32_t pages_for(size_t bytes)
{
    return (uint32_t)((bytes + AKV_PAGE_SIZE - 1) >> AKV_PAGE_SHIFT);
}

size_t akv_chunk_class_size(size_t bytes)
{
    int c = class_for(bytes);
    if (c >= 0)
        return class_sizes[c];
    return (size_t)pages_for(bytes) << AKV_PAGE_SHIFT;
}

static uint32_t chunks_per_page(int c)
{
    return AKV_PAGE_SIZE / class_sizes[c];
}

/* ------------------------------------------------------------ page runs */

static int bin_of(uint32_t n)
{
    return 31 - __builtin_clz(n);
}

static struct akv_page *pg(struct akv_arena *a, uint32_t idx)
{
    return &a->pages[idx];
}

static void bin_insert(struct akv_arena *a, uint32_t idx)
{
    struct akv_hdr *h = a->hdr;
    struct akv_page *p = pg(a, idx);
    int b = bin_of(p->p_run);

    p->p_prev = 0;
    p->p_next = h->h_pg_bins[b];
    if (p->p_next)
        pg(a, p->p_next - 1)->p_prev = idx + 1;
    h->h_pg_bins[b] = idx + 1;
}

static void bin_remove(struct akv_arena *a, uint32_t idx)
{
    struct akv_page *p = pg(a, idx);

    if (p->p_prev)
        pg(a, p->p_prev - 1)->p_next = p->p_next;
    else
        a->hdr->h_pg_bins[bin_of(p->p_run)] = p->p_next;
    if (p->p_next)
        pg(a, p->p_next - 1)->p_prev = p->p_prev;
    p->p_prev = p->p_next = 0;
}

/* Mark [idx, idx+n) as one free run (both ends carry the length). */
static void mark_free_run(struct akv_arena *a, uint32_t idx, uint32_t n)
{
    struct akv_page *head = pg(a, idx), *tail = pg(a, idx + n - 1);

    tail->p_kind = AKV_PAGE_FREE;
    tail->p_owner = 0;
    tail->p_run = n;
    head->p_kind = AKV_PAGE_FREE;
    head->p_owner = 0;
    head->p_run = n;
}

/* Rebuild the bins from p_kind: used when the allocator's lock holder died.
 * Pages that are not FREE belong to some stripe, whose own repair frees
 * them if they were only half taken. */
void akv_pages_rebuild_locked(struct akv_arena *a)
{
    struct akv_hdr *h = a->hdr;
    uint32_t i = 0, inuse = 0;

    memset(h->h_pg_bins, 0, sizeof(h->h_pg_bins));
    while (i < h->h_pg_top) {
        uint32_t j = i;
        if (pg(a, i)->p_kind != AKV_PAGE_FREE) {
            inuse++;
            i++;
            continue;
        }
        while (j < h->h_pg_top && pg(a, j)->p_kind == AKV_PAGE_FREE)
            j++;
        mark_free_run(a, i, j - i);
        bin_insert(a, i);
        i = j;
    }
    h->h_pg_inuse = inuse;
}

/* 0, or -ENOTRECOVERABLE (poisoned arena: the caller changes nothing). */
static int pg_lock(struct akv_arena *a)
{
    return akv_lock(a, AKV_LOCK_PAGES, 0, AKV_LOCK_WAIT);
}

static void pg_unlock(struct akv_arena *a)
{
    akv_unlock(a, AKV_LOCK_PAGES, 0);
}

/* Make sure the file has real blocks behind pages below `upto`. */
static bool reserve_locked(struct akv_arena *a, uint32_t upto)
{
    struct akv_hdr *h = a->hdr;
    uint32_t want;

    if (upto <= h->h_pg_reserved)
        return true;
    want = AKV_MIN(h->h_npages, upto + RESERVE_STEP);
    if (posix_fallocate(a->fd,
                        (off_t)(h->h_pages_off +
                                ((uint64_t)h->h_pg_reserved << AKV_PAGE_SHIFT)),
                        (off_t)((uint64_t)(want - h->h_pg_reserved)
                                << AKV_PAGE_SHIFT)) != 0)
        return false;
    h->h_pg_reserved = want;
    return true;
}

/* First free run of at least n pages, or -1. */
static int64_t find_run_locked(struct akv_arena *a, uint32_t n)
{
    struct akv_hdr *h = a->hdr;
    int b = bin_of(n);

    /* Runs in bin b may be shorter than n: scan it; any run in a higher
     * bin is long enough. */
    for (uint32_t it = h->h_pg_bins[b]; it; it = pg(a, it - 1)->p_next)
        if (pg(a, it - 1)->p_run >= n)
            return it - 1;
    for (b = b + 1; b < AKV_NBINS; b++)
        if (h->h_pg_bins[b])
            return h->h_pg_bins[b] - 1;
    return -1;
}

/* Take a run of n pages for stripe si; returns its first page or -1. */
static int64_t run_alloc(struct akv_arena *a, int si, uint32_t n)
{
    struct akv_hdr *h = a->hdr;
    int64_t idx;

    if (pg_lock(a) < 0)
        return -1;
    idx = find_run_locked(a, n);
    if (idx >= 0) {
        uint32_t have = pg(a, idx)->p_run;
        bin_remove(a, (uint32_t)idx);
        if (have > n) {
            mark_free_run(a, (uint32_t)idx + n, have - n);
            bin_insert(a, (uint32_t)idx + n);
        }
    } else if ((uint64_t)h->h_pg_top + n <= h->h_npages &&
               reserve_locked(a, h->h_pg_top + n)) {
        idx = h->h_pg_top;
        h->h_pg_top += n;
    } else {
        pg_unlock(a);
        return -1;
    }
    /* The head chunk's state must not look live before the stripe writes
     * it: a reused page still holds its old bytes. */
    ((struct akv_entry *)akv_page_addr(a, (uint32_t)idx))->e_state =
        AKV_CHUNK_FREE;
    for (uint32_t i = 1; i < n; i++) {
        struct akv_page *t = pg(a, (uint32_t)idx + i);
        t->p_owner = (uint16_t)(si + 1);
        t->p_kind = AKV_PAGE_TAIL;
    }
    AKV_FAULT("page-taken");
    {
        struct akv_page *p = pg(a, (uint32_t)idx);
        p->p_owner = (uint16_t)(si + 1);
        p->p_run = n;
        p->p_nlive = p->p_free = p->p_carved = 0;
        p->p_prev = p->p_next = 0;
        p->p_kind = AKV_PAGE_RUN;
    }
    h->h_pg_inuse += n;
    pg_unlock(a);
    return idx;
}

/* Give back the run starting at idx (n pages), merging free neighbours. */
static void run_free(struct akv_arena *a, uint32_t idx, uint32_t n)
{
    struct akv_hdr *h = a->hdr;
    uint32_t start = idx, len = n;

    if (pg_lock(a) < 0)
        return; /* poisoned: the pages stay taken, nothing is reused */
    h->h_pg_inuse -= n;
    if (start > 0 && pg(a, start - 1)->p_kind == AKV_PAGE_FREE) {
        uint32_t plen = pg(a, start - 1)->p_run;
        start -= plen;
        bin_remove(a, start);
        len += plen;
    }
    if (idx + n < h->h_pg_top && pg(a, idx + n)->p_kind == AKV_PAGE_FREE) {
        uint32_t nlen = pg(a, idx + n)->p_run;
        bin_remove(a, idx + n);
        len += nlen;
    }
    for (uint32_t i = idx; i < idx + n; i++) {
        pg(a, i)->p_kind = AKV_PAGE_FREE;
        pg(a, i)->p_owner = 0;
    }
    mark_free_run(a, start, len);
    bin_insert(a, start);
    pg_unlock(a);
}

int akv_pages_init(struct akv_arena *a)
{
    (void)a; /* a zero-filled page table is all free and untouched */
    return 0;
}

/* ------------------------------------------------------------ slabs */

static void partial_push(struct akv_arena *a, struct akv_stripe *s, int c,
                         uint32_t idx)
{
    struct akv_page *p = pg(a, idx);

    p->p_prev = 0;
    p->p_next = s->s_partial[c];
    if (p->p_next)
        pg(a, p->p_next - 1)->p_prev = idx + 1;
    s->s_partial[c] = idx + 1;
}

static void partial_remove(struct akv_arena *a, struct akv_stripe *s, int c,
                           uint32_t idx)
{
    struct akv_page *p = pg(a, idx);

    if (p->p_prev)
        pg(a, p->p_prev - 1)->p_next = p->p_next;
    else
        s->s_partial[c] = p->p_next;
    if (p->p_next)
        pg(a, p->p_next - 1)->p_prev = p->p_prev;
    p->p_prev = p->p_next = 0;
}

static bool page_full(const struct akv_page *p, int c)
{
    return p->p_free == 0 && p->p_carved == chunks_per_page(c);
}

static int64_t new_slab_page(struct akv_arena *a, int si, int c)
{
    struct akv_stripe *s = &a->stripes[si];
    int64_t idx;
    struct akv_page *p;

    if (s->s_spare) {
        idx = s->s_spare - 1;
        s->s_spare = 0;
    } else if ((idx = run_alloc(a, si, 1)) < 0) {
        return -1;
    }
    p = pg(a, (uint32_t)idx);
    p->p_class = (uint8_t)c;
    p->p_carved = p->p_free = p->p_nlive = 0;
    p->p_kind = AKV_PAGE_SLAB;
    partial_push(a, s, c, (uint32_t)idx);
    return idx;
}

static void account(struct akv_arena *a, struct akv_stripe *s, int64_t delta)
{
    s->s_used += (uint64_t)delta;
    atomic_fetch_add_explicit(&a->hdr->h_used, (uint64_t)delta,
                              memory_order_relaxed);
}

static struct akv_entry *slab_alloc(struct akv_arena *a, int si, int c)
{
    struct akv_stripe *s = &a->stripes[si];
    uint32_t csz = class_sizes[c];
    struct akv_entry *e;
    struct akv_page *p;
    int64_t idx = (int64_t)s->s_partial[c] - 1;
    char *base;

    if (idx < 0 && (idx = new_slab_page(a, si, c)) < 0)
        return NULL;
    p = pg(a, (uint32_t)idx);
    base = akv_page_addr(a, (uint32_t)idx);
    if (p->p_free) {
        e = (struct akv_entry *)(base + (size_t)(p->p_free - 1) * csz);
        e->e_state = AKV_CHUNK_ALLOC;
        p->p_free = e->e_next;
    } else {
        e = (struct akv_entry *)(base + (size_t)p->p_carved * csz);
        e->e_state = AKV_CHUNK_ALLOC;
        AKV_FAULT("chunk-carved");
        p->p_carved++;
    }
    p->p_nlive++;
    if (page_full(p, c))
        partial_remove(a, s, c, (uint32_t)idx);
    account(a, s, csz);
    return e;
}

static struct akv_entry *run_chunk_alloc(struct akv_arena *a, int si,
                                         size_t bytes)
{
    uint32_t n = pages_for(bytes);
    int64_t idx = run_alloc(a, si, n);
    struct akv_entry *e;

    if (idx < 0)
        return NULL;
    e = (struct akv_entry *)akv_page_addr(a, (uint32_t)idx);
    e->e_state = AKV_CHUNK_ALLOC;
    account(a, &a->stripes[si], (int64_t)n << AKV_PAGE_SHIFT);
    return e;
}

struct akv_entry *akv_chunk_alloc_locked(struct akv_arena *a, int si,
                                         size_t bytes)
{
    int c = class_for(bytes);
    struct akv_entry *e;

    e = c >= 0 ? slab_alloc(a, si, c) : run_chunk_alloc(a, si, bytes);
    if (e) {
        e->e_next = 0;
        e->e_flags = 0;
    }
    return e;
}

size_t akv_chunk_capacity(const struct akv_arena *a,
                          const struct akv_entry *e)
{
    const struct akv_page *p = &a->pages[akv_page_index_of(a, e)];

    if (p->p_kind == AKV_PAGE_SLAB)
        return class_sizes[p->p_class];
    return (size_t)p->p_run << AKV_PAGE_SHIFT;
}

/* A slab page with no chunk left goes back: kept as the stripe's one spare
 * page (any class can reuse it without the page allocator's lock) or
 * returned to the page allocator.  Keeping empty pages per class would pin
 * up to stripes x classes pages that no live data needs. */
static void maybe_release_page(struct akv_arena *a, int si, uint32_t idx)
{
    struct akv_stripe *s = &a->stripes[si];
    struct akv_page *p = pg(a, idx);

    if (p->p_nlive != 0)
        return;
    partial_remove(a, s, p->p_class, idx);
    ((struct akv_entry *)akv_page_addr(a, idx))->e_state = AKV_CHUNK_FREE;
    p->p_run = 1;
    p->p_kind = AKV_PAGE_RUN; /* a one-page run again */
    if (!s->s_spare) {
        s->s_spare = idx + 1;
        return;
    }
    run_free(a, idx, 1);
}

void akv_chunk_free_locked(struct akv_arena *a, int si, struct akv_entry *e)
{
    struct akv_stripe *s = &a->stripes[si];
    uint32_t idx = akv_page_index_of(a, e);
    struct akv_page *p = pg(a, idx);

    if (p->p_kind == AKV_PAGE_RUN) {
        uint32_t n = p->p_run;
        e->e_state = AKV_CHUNK_FREE;
        account(a, s, -((int64_t)n << AKV_PAGE_SHIFT));
        run_free(a, idx, n);
        return;
    }
    {
        int c = p->p_class;
        uint32_t ci = (uint32_t)(((char *)e - akv_page_addr(a, idx)) /
                                 class_sizes[c]);
        bool was_full = page_full(p, c);
        e->e_state = AKV_CHUNK_FREE;
        AKV_FAULT("chunk-freed");
        e->e_next = p->p_free;
        p->p_free = ci + 1;
        p->p_nlive--;
        account(a, s, -(int64_t)class_sizes[c]);
        if (was_full)
            partial_push(a, s, c, idx);
        maybe_release_page(a, si, idx);
    }
}

/* ------------------------------------------------------------ rebuild */

static void rebuild_slab_page(struct akv_arena *a, int si, uint32_t idx,
                              akv_keep_fn keep, void *ctx, uint64_t *used)
{
    struct akv_page *p = pg(a, idx);
    int c = p->p_class;
    uint32_t csz = class_sizes[c];
    char *base = akv_page_addr(a, idx);

    p->p_free = 0;
    p->p_nlive = 0;
    /* Walk backwards so the free list comes out in address order. */
    for (uint32_t i = p->p_carved; i-- > 0;) {
        struct akv_entry *e = (struct akv_entry *)(base + (size_t)i * csz);
        if (e->e_state != AKV_CHUNK_FREE && keep(a, e, ctx)) {
            p->p_nlive++;
            continue;
        }
        e->e_state = AKV_CHUNK_FREE;
        e->e_next = p->p_free;
        p->p_free = i + 1;
    }
    *used += (uint64_t)p->p_nlive * csz;
    if (!page_full(p, c))
        partial_push(a, &a->stripes[si], c, idx);
}

void akv_pages_rebuild_stripe_locked(struct akv_arena *a, int si,
                                     akv_keep_fn keep, void *ctx)
{
    struct akv_stripe *s = &a->stripes[si];
    uint32_t top = a->hdr->h_pg_top;
    uint64_t used = 0;

    memset(s->s_partial, 0, sizeof(s->s_partial));
    s->s_spare = 0; /* an empty run page: the scan below frees it */
    for (uint32_t i = 0; i < top; i++) {
        struct akv_page *p = pg(a, i);
        if (p->p_owner != si + 1)
            continue;
        if (p->p_kind == AKV_PAGE_SLAB) {
            rebuild_slab_page(a, si, i, keep, ctx, &used);
        } else if (p->p_kind == AKV_PAGE_RUN) {
            struct akv_entry *e = (struct akv_entry *)akv_page_addr(a, i);
            if (e->e_state != AKV_CHUNK_FREE && keep(a, e, ctx)) {
                used += (uint64_t)p->p_run << AKV_PAGE_SHIFT;
                i += p->p_run - 1;
                continue;
            }
            e->e_state = AKV_CHUNK_FREE;
            run_free(a, i, p->p_run);
        } else if (p->p_kind == AKV_PAGE_TAIL) {
            /* A tail whose head was skipped above is an orphan of a run
             * that was never finished: give it back. */
            p->p_kind = AKV_PAGE_RUN;
            p->p_run = 1;
            run_free(a, i, 1);
        }
    }
    /* Give back slab pages the scan found empty. */
    for (uint32_t i = 0; i < top; i++) {
        struct akv_page *p = pg(a, i);
        if (p->p_owner == si + 1 && p->p_kind == AKV_PAGE_SLAB)
            maybe_release_page(a, si, i);
    }
    atomic_fetch_add(&a->hdr->h_used, used - s->s_used);
    s->s_used = used;
}

void akv_pages_visit_stripe_locked(struct akv_arena *a, int si,
                                   akv_visit_fn visit, void *ctx)
{
    uint32_t top = a->hdr->h_pg_top;

    for (uint32_t i = 0; i < top; i++) {
        struct akv_page *p = pg(a, i);
        if (p->p_owner != si + 1)
            continue;
        if (p->p_kind == AKV_PAGE_SLAB) {
            uint32_t csz = class_sizes[p->p_class];
            char *base = akv_page_addr(a, i);
            for (uint32_t c = 0; c < p->p_carved; c++) {
                struct akv_entry *e = (struct akv_entry *)(base + c * csz);
                if (e->e_state != AKV_CHUNK_FREE)
                    visit(a, e, ctx);
            }
        } else if (p->p_kind == AKV_PAGE_RUN) {
            struct akv_entry *e = (struct akv_entry *)akv_page_addr(a, i);
            if (e->e_state != AKV_CHUNK_FREE)
                visit(a, e, ctx);
        }
    }
}

static void reportf(void (*report)(void *, const char *), void *ctx,
                    int *n, const char *fmt, uint32_t v1, uint32_t v2)
{
    char buf[160];
    snprintf(buf, sizeof(buf), fmt, v1, v2);
    report(ctx, buf);
    (*n)++;
}

int akv_pages_check(struct akv_arena *a,
                    void (*report)(void *ctx, const char *msg), void *ctx)
{
    struct akv_hdr *h = a->hdr;
    uint32_t inuse = 0, freepages = 0, binned = 0;
    int n = 0;

    if (pg_lock(a) < 0) {
        report(ctx, "page allocator: lock not recoverable");
        return 1;
    }
    for (uint32_t i = 0; i < h->h_pg_top; i++) {
        struct akv_page *p = pg(a, i);
        if (p->p_kind == AKV_PAGE_FREE) {
            freepages++;
            continue;
        }
        inuse++;
        if (p->p_owner == 0 || p->p_owner > AKV_NSTRIPES)
            reportf(report, ctx, &n, "page %u has no owner stripe (%u)", i,
                    p->p_owner);
        if (p->p_kind == AKV_PAGE_SLAB &&
            (p->p_class >= nclasses ||
             p->p_carved > chunks_per_page(p->p_class) ||
             p->p_nlive > p->p_carved))
            reportf(report, ctx, &n, "slab page %u has bad counts (%u)", i,
                    p->p_nlive);
    }
    for (int b = 0; b < AKV_NBINS; b++)
        for (uint32_t it = h->h_pg_bins[b]; it; it = pg(a, it - 1)->p_next) {
            struct akv_page *p = pg(a, it - 1);
            if (p->p_kind != AKV_PAGE_FREE || bin_of(p->p_run) != b)
                reportf(report, ctx, &n, "bin %u holds bad run at page %u",
                        (uint32_t)b, it - 1);
            binned += p->p_run;
            if (binned > h->h_pg_top) {
                reportf(report, ctx, &n, "bin %u loops (%u)", (uint32_t)b, 0);
                break;
            }
        }
    if (binned != freepages)
        reportf(report, ctx, &n, "bins hold %u pages, %u are free", binned,
                freepages);
    if (inuse != h->h_pg_inuse)
        reportf(report, ctx, &n, "%u pages in use, counter says %u", inuse,
                h->h_pg_inuse);
    pg_unlock(a);
    return n;
}

uint64_t akv_pages_inuse_bytes(struct akv_arena *a)
{
    return (uint64_t)a->hdr->h_pg_inuse << AKV_PAGE_SHIFT;
}
