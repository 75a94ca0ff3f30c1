/*
 * arena_fixture.h -- what the unit tests on a real arena share: a fresh
 * arena file in /dev/shm with a client slot and a context, cmocka setup
 * and teardown for it, and a consistency check that fails the test with
 * every problem the stripe and page checkers find.  Included by one test
 * program each (static functions), after cmocka.h and the arena headers.
 */
#ifndef AKV_ARENA_FIXTURE_H
#define AKV_ARENA_FIXTURE_H

#ifndef FIXTURE_ARENA_SIZE
#define FIXTURE_ARENA_SIZE 0 /* setup() opens no arena; the test does */
#endif

struct fixture {
    struct akv_arena a;
    struct akv_ctx ctx;
    char path[128];
    bool open;
};

static struct fixture fx;
static int arena_counter;

static void arena_open(struct fixture *f, uint64_t size)
{
    struct akv_config cfg;
    const char *err = NULL;
    int r;

    akv_config_defaults(&cfg);
    cfg.arena_size = (int64_t)size;
    snprintf(f->path, sizeof(f->path), "/dev/shm/akv-unit-%d-%d",
             (int)getpid(), arena_counter++);
    r = akv_arena_create(&f->a, f->path, size, &cfg, &err);
    if (r != 0)
        print_error("akv_arena_create(%s): %s (%d)\n", f->path,
                    err ? err : "?", r);
    assert_int_equal(r, 0);
    f->open = true;
    memset(&f->ctx, 0, sizeof(f->ctx));
    f->ctx.a = &f->a;
    f->ctx.slot = akv_slot_claim(&f->a);
    assert_true(f->ctx.slot >= 0);
    f->ctx.cs = &f->a.slots[f->ctx.slot];
    f->ctx.seq = 0;
    f->ctx.now = akv_mstime();
}

static void arena_close(struct fixture *f)
{
    if (!f->open)
        return;
    if (f->ctx.slot >= 0)
        akv_slot_release(&f->a, f->ctx.slot);
    unlink(f->path);
    akv_arena_detach(&f->a);
    f->open = false;
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    fx.ctx.slot = -1;
    if (FIXTURE_ARENA_SIZE)
        arena_open(&fx, FIXTURE_ARENA_SIZE);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A test that failed while holding locks must not leave robust
     * mutexes of an unmapped arena on this thread's robust list.
     * Unlocking a mutex this thread does not own just fails. */
    if (fx.open) {
        for (int si = 0; si < AKV_NSTRIPES; si++)
            pthread_mutex_unlock(&fx.a.stripes[si].s_mutex);
        pthread_mutex_unlock(&fx.a.hdr->h_pg_mutex);
    }
    arena_close(&fx);
    return 0;
}

/* ------------------------------------------------------------ consistency */

struct report {
    char text[4096];
    size_t len;
    int n;
};

static void report_cb(void *ctx, const char *msg)
{
    struct report *r = ctx;
    int w;

    r->n++;
    if (r->len >= sizeof(r->text) - 1)
        return;
    w = snprintf(r->text + r->len, sizeof(r->text) - r->len, "  %s\n", msg);
    if (w > 0)
        r->len = AKV_MIN(r->len + (size_t)w, sizeof(r->text) - 1);
}

/* Lock every stripe (repairing those whose holder died), run the stripe
 * and page checkers and compare the memory counters; fail the test with
 * every problem found.  Stripes in `skip` hold raw chunks handed out by
 * the allocator tests and get no stripe check. */
static void assert_consistent_skip(struct fixture *f, uint64_t skip)
{
    struct akv_arena *a = &f->a;
    struct report rep = {.len = 0, .n = 0};
    uint64_t used = 0;

    rep.text[0] = '\0';
    for (int si = 0; si < AKV_NSTRIPES; si++)
        assert_int_equal(akv_stripe_lock(&f->ctx, si), 0);
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (!(skip & (1ULL << si)))
            akv_stripe_check_locked(a, si, report_cb, &rep);
        used += a->stripes[si].s_used;
    }
    if (used != atomic_load(&a->hdr->h_used)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "h_used %llu, stripes use %llu",
                 (unsigned long long)atomic_load(&a->hdr->h_used),
                 (unsigned long long)used);
        report_cb(&rep, msg);
    }
    akv_pages_check(a, report_cb, &rep);
    for (int si = AKV_NSTRIPES; si-- > 0;)
        akv_stripe_unlock(&f->ctx, si);
    if (rep.n) {
        print_error("arena inconsistent (%d problems):\n%s", rep.n,
                    rep.text);
        fail();
    }
}

static __attribute__((unused)) void assert_consistent(struct fixture *f)
{
    assert_consistent_skip(f, 0);
}

#endif
