/*
 * test_container.c -- unit tests of large containers (container.c) on a
 * real arena file in /dev/shm: element staging (the same field twice in
 * one op, put then delete, conversion-style creation with its elements in
 * one op), the committed index (find, foreach, scan, random over
 * thousands of elements, growth and shrinking across rehashes), the
 * freeing of removed containers in steps, RENAME-style successors that
 * keep the elements, and kills: a child armed at each fault point dies in
 * a container mutation or a free step, and the parent's locks repair the
 * stripe, the checker finds nothing and the container holds exactly what
 * was committed.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "clients.h"
#include "config.h"
#include "container.h"
#include "fault.h"
#include "keyspace.h"
#include "log.h"
#include "pages.h"
#include "table.h"
#include "util.h"

#define ARENA_SIZE (256ULL << 20)

#define FIXTURE_ARENA_SIZE ARENA_SIZE
#include "arena_fixture.h"

/* ------------------------------------------------------------ helpers
 * Usable in a forked child: they never assert. */

static void op_start(struct akv_op *op, struct akv_ctx *c, const char *key)
{
    struct akv_key k;

    memset(op, 0, sizeof(*op));
    c->now = akv_mstime();
    akv_op_init(op, c);
    k = akv_key_make(c->a, 0, key, strlen(key));
    akv_op_want_key(op, &k);
    (void)akv_op_lock(op);
}

static void op_end(struct akv_op *op)
{
    akv_op_commit(op);
    akv_op_free(op);
}

static struct akv_entry *find_key(struct akv_op *op, const char *key)
{
    struct akv_key k = akv_key_make(op->ctx->a, 0, key, strlen(key));

    return akv_op_find(op, &k);
}

static void fname(char *buf, size_t n, int i)
{
    snprintf(buf, n, "field:%d", i);
}

static void fval(char *buf, size_t n, int i, int gen)
{
    snprintf(buf, n, "value:%d:%d", i, gen);
}

/* Fields [from, to) get value generation gen; fields [dfrom, dto) go.
 * The container is created if missing.  0, or -1 on OOM. */
static int hmut(struct akv_ctx *c, const char *key, int from, int to,
                int gen, int dfrom, int dto)
{
    struct akv_op op;
    struct akv_entry *ke;
    char f[32], v[48];

    op_start(&op, c, key);
    ke = find_key(&op, key);
    if (!ke) {
        struct akv_key k = akv_key_make(c->a, 0, key, strlen(key));
        ke = akv_cont_create(&op, &k, AKV_TYPE_HASH, 0);
        if (!ke) {
            akv_op_abort(&op);
            akv_op_free(&op);
            return -1;
        }
    }
    for (int i = from; i < to; i++) {
        struct akv_entry *old;
        fname(f, sizeof(f), i);
        fval(v, sizeof(v), i, gen);
        old = akv_cont_find(&op, ke, f, strlen(f));
        if (!akv_cont_put(&op, ke, old, f, strlen(f), v, strlen(v))) {
            akv_op_abort(&op);
            akv_op_free(&op);
            return -1;
        }
    }
    for (int i = dfrom; i < dto; i++) {
        struct akv_entry *el;
        fname(f, sizeof(f), i);
        if ((el = akv_cont_find(&op, ke, f, strlen(f))) != NULL)
            akv_cont_del(&op, ke, el);
    }
    op_end(&op);
    return 0;
}

static void del_key(struct akv_ctx *c, const char *key)
{
    struct akv_op op;
    struct akv_entry *ke;

    op_start(&op, c, key);
    if ((ke = find_key(&op, key)) != NULL)
        akv_op_del(&op, ke);
    op_end(&op);
}

/* Expected content: gen[i] is field i's generation, or -1 if absent. */
#define MAXF 40000
static int model[MAXF];

static void model_set(int from, int to, int gen)
{
    for (int i = from; i < to; i++)
        model[i] = gen;
}

static void model_reset(void)
{
    for (int i = 0; i < MAXF; i++)
        model[i] = -1;
}

struct visit {
    int seen;
    int bad;
    unsigned char *hits;
};

static bool count_visit(struct akv_entry *el, void *ctx)
{
    struct visit *vs = ctx;
    int i;

    if (sscanf(akv_elem_field(el), "field:%d", &i) != 1 || i < 0 ||
        i >= MAXF) {
        vs->bad++;
        return true;
    }
    if (vs->hits[i]++ == 0)
        vs->seen++;
    return true;
}

/* Whether the container under key holds exactly the model. */
static bool matches(struct akv_ctx *c, const char *key, char *why,
                    size_t whylen)
{
    struct akv_op op;
    struct akv_entry *ke;
    uint64_t want = 0;
    char f[32], v[48];
    bool ok = true;

    for (int i = 0; i < MAXF; i++)
        want += model[i] >= 0;
    op_start(&op, c, key);
    ke = find_key(&op, key);
    if (!ke) {
        snprintf(why, whylen, "no key (want %llu)",
                 (unsigned long long)want);
        ok = want == 0;
        goto out;
    }
    if (akv_cont_len(c->a, ke) != want) {
        snprintf(why, whylen, "len %llu, want %llu",
                 (unsigned long long)akv_cont_len(c->a, ke),
                 (unsigned long long)want);
        ok = false;
        goto out;
    }
    for (int i = 0; i < MAXF && ok; i++) {
        struct akv_entry *el;
        fname(f, sizeof(f), i);
        el = akv_cont_find(&op, ke, f, strlen(f));
        if (model[i] < 0) {
            if (el) {
                snprintf(why, whylen, "%s present", f);
                ok = false;
            }
            continue;
        }
        fval(v, sizeof(v), i, model[i]);
        if (!el || akv_elem_vlen(el) != strlen(v) ||
            memcmp(akv_elem_val(el), v, strlen(v)) != 0) {
            snprintf(why, whylen, "%s wrong or missing", f);
            ok = false;
        }
    }
out:
    op_end(&op);
    return ok;
}

static void assert_matches(struct akv_ctx *c, const char *key)
{
    char why[128] = "";

    if (!matches(c, key, why, sizeof(why))) {
        print_error("container %s: %s\n", key, why);
        fail();
    }
}

/* ------------------------------------------------------------ tests */

static void test_put_find_foreach_scan(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    struct visit vs = {0, 0, calloc(MAXF, 1)};
    struct akv_op op;
    struct akv_entry *ke;
    uint64_t cursor = 0;
    int steps = 0;

    model_reset();
    for (int b = 0; b < 6000; b += 500) {
        assert_int_equal(hmut(c, "h", b, b + 500, 1, 0, 0), 0);
        model_set(b, b + 500, 1);
    }
    assert_matches(c, "h");
    assert_consistent(f);

    op_start(&op, c, "h");
    ke = find_key(&op, "h");
    assert_non_null(ke);
    assert_true(akv_is_large(ke));
    assert_int_equal(akv_entry_enc(ke), AKV_ENC_HASHTABLE);
    assert_int_equal(akv_cont_count(&op, ke), 6000);
    assert_true(akv_cont_foreach(c->a, ke, count_visit, &vs));
    assert_int_equal(vs.seen, 6000);
    assert_int_equal(vs.bad, 0);
    for (int i = 0; i < 6000; i++)
        assert_int_equal(vs.hits[i], 1);
    memset(vs.hits, 0, MAXF);
    vs.seen = 0;
    do {
        cursor = akv_cont_scan(c->a, ke, cursor, count_visit, &vs);
        steps++;
    } while (cursor);
    assert_int_equal(vs.seen, 6000);
    assert_true(steps > 1);
    memset(vs.hits, 0, MAXF);
    vs.seen = 0;
    for (int i = 0; i < 20000; i++)
        count_visit(akv_cont_random(c->a, ke), &vs);
    assert_true(vs.seen > 5000); /* each has about the same chance */
    op_end(&op);
    free(vs.hits);
}

static void test_same_field_twice(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    struct akv_op op;
    struct akv_entry *ke, *e1, *e2, *e3;

    model_reset();
    assert_int_equal(hmut(c, "t", 0, 100, 1, 0, 0), 0);
    op_start(&op, c, "t");
    ke = find_key(&op, "t");
    /* a new field twice */
    e1 = akv_cont_put(&op, ke, akv_cont_find(&op, ke, "x", 1), "x", 1, "1", 1);
    assert_non_null(e1);
    assert_ptr_equal(akv_cont_find(&op, ke, "x", 1), e1);
    e2 = akv_cont_put(&op, ke, akv_cont_find(&op, ke, "x", 1), "x", 1, "22",
                      2);
    assert_ptr_equal(akv_cont_find(&op, ke, "x", 1), e2);
    assert_int_equal(akv_cont_count(&op, ke), 101);
    /* a committed field twice, then deleted, then put again */
    e3 = akv_cont_find(&op, ke, "field:5", 7);
    assert_non_null(e3);
    e1 = akv_cont_put(&op, ke, e3, "field:5", 7, "a", 1);
    e1 = akv_cont_put(&op, ke, akv_cont_find(&op, ke, "field:5", 7),
                      "field:5", 7, "b", 1);
    assert_int_equal(akv_cont_count(&op, ke), 101);
    akv_cont_del(&op, ke, akv_cont_find(&op, ke, "field:5", 7));
    assert_null(akv_cont_find(&op, ke, "field:5", 7));
    assert_int_equal(akv_cont_count(&op, ke), 100);
    e1 = akv_cont_put(&op, ke, NULL, "field:5", 7, "c", 1);
    assert_int_equal(akv_cont_count(&op, ke), 101);
    /* put then delete a new one */
    akv_cont_put(&op, ke, NULL, "y", 1, "y", 1);
    akv_cont_del(&op, ke, akv_cont_find(&op, ke, "y", 1));
    assert_null(akv_cont_find(&op, ke, "y", 1));
    /* a committed one deleted */
    akv_cont_del(&op, ke, akv_cont_find(&op, ke, "field:6", 7));
    assert_int_equal(akv_cont_count(&op, ke), 100);
    op_end(&op);

    op_start(&op, c, "t");
    ke = find_key(&op, "t");
    assert_int_equal(akv_cont_len(c->a, ke), 100);
    e1 = akv_cont_find(&op, ke, "x", 1);
    assert_non_null(e1);
    assert_memory_equal(akv_elem_val(e1), "22", 2);
    e1 = akv_cont_find(&op, ke, "field:5", 7);
    assert_non_null(e1);
    assert_memory_equal(akv_elem_val(e1), "c", 1);
    assert_null(akv_cont_find(&op, ke, "field:6", 7));
    assert_null(akv_cont_find(&op, ke, "y", 1));
    op_end(&op);
    assert_consistent(f);
}

/* A packed value replaced by a large container and all its elements in
 * one op, as a listpack -> hashtable conversion does; and a big op that
 * puts thousands of fields (the row index, not rescans). */
static void test_conversion_one_op(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    struct akv_op op;
    struct akv_entry *old, *ke;
    struct akv_key k;
    char fb[32], vb[48];
    clock_t t0;

    op_start(&op, c, "conv");
    k = akv_key_make(c->a, 0, "conv", 4);
    old = akv_op_new(&op, &k, 5, 0);
    memcpy(akv_entry_val(old), "small", 5);
    op_end(&op);

    model_reset();
    t0 = clock();
    op_start(&op, c, "conv");
    old = find_key(&op, "conv");
    assert_non_null(old);
    ke = akv_cont_create(&op, &k, AKV_TYPE_SET, 0);
    assert_non_null(ke);
    akv_op_del(&op, old);
    for (int i = 0; i < 30000; i++) {
        fname(fb, sizeof(fb), i);
        fval(vb, sizeof(vb), i, 7);
        assert_null(akv_cont_find(&op, ke, fb, strlen(fb)));
        assert_non_null(
            akv_cont_put(&op, ke, NULL, fb, strlen(fb), vb, strlen(vb)));
    }
    assert_int_equal(akv_cont_count(&op, ke), 30000);
    op_end(&op);
    /* Quadratic staging would take minutes here. */
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);
    model_set(0, 30000, 7);
    assert_matches(c, "conv");
    assert_consistent(f);
}

static void test_grow_shrink(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    struct akv_op op;
    struct akv_entry *ke;
    uint64_t big;

    model_reset();
    for (int b = 0; b < 20000; b += 1000) {
        assert_int_equal(hmut(c, "g", b, b + 1000, 2, 0, 0), 0);
        model_set(b, b + 1000, 2);
        assert_consistent(f);
    }
    op_start(&op, c, "g");
    ke = find_key(&op, "g");
    big = akv_ix_size(c->a, &akv_cont_of(ke)->ct_ix, 0);
    op_end(&op);
    assert_true(big >= 16384);
    for (int b = 0; b < 19990; b += 1000) {
        int to = AKV_MIN(b + 1000, 19990);
        assert_int_equal(hmut(c, "g", 0, 0, 0, b, to), 0);
        model_set(b, to, -1);
        assert_consistent(f);
    }
    for (int i = 0; i < 50; i++)
        assert_int_equal(hmut(c, "g", 19995, 19996, 3 + i, 0, 0), 0);
    model_set(19995, 19996, 52);
    op_start(&op, c, "g");
    ke = find_key(&op, "g");
    /* Shrinking: done, or under way towards a small table. */
    {
        const struct akv_index *ix = &akv_cont_of(ke)->ct_ix;
        assert_true(akv_ix_size(c->a, ix, 0) < 1024 ||
                    (ix->ix_rehashidx >= 0 && akv_ix_size(c->a, ix, 1) < 1024));
    }
    op_end(&op);
    assert_matches(c, "g");
    assert_consistent(f);
}

static void test_delete_frees_in_steps(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    uint64_t used0 = atomic_load(&c->a->hdr->h_used), lazy0;
    int si = akv_stripe_of(akv_key_hash(c->a, "d", 1));

    for (int b = 0; b < 10000; b += 2000)
        assert_int_equal(hmut(c, "d", b, b + 2000, 1, 0, 0), 0);
    assert_true(atomic_load(&c->a->hdr->h_used) > used0 + 10000 * 32);
    lazy0 = akv_cont_lazyfreed(c->a);
    /* Without the worker's steps the container stays DYING: hold the
     * freeing by keeping the stripe locked from a second op. */
    del_key(c, "d");
    assert_int_equal(akv_cont_pending(c->a, NULL), 0);
    assert_int_equal(akv_cont_lazyfreed(c->a), lazy0 + 1);
    assert_int_equal(c->a->stripes[si].s_ndying, 0);
    assert_true(atomic_load(&c->a->hdr->h_used) <= used0 + 64 * 1024);
    assert_consistent(f);
    model_reset();
    assert_matches(c, "d");

    /* A container left DYING (the stripe busy) is finished by the
     * supervisor's reaper. */
    for (int b = 0; b < 5000; b += 2500)
        assert_int_equal(hmut(c, "d", b, b + 2500, 1, 0, 0), 0);
    {
        struct akv_op op;
        struct akv_entry *ke;
        op_start(&op, c, "d");
        ke = find_key(&op, "d");
        akv_op_del(&op, ke);
        akv_op_commit(&op); /* frees in steps: nothing is left */
        akv_op_free(&op);
    }
    assert_int_equal(akv_cont_pending(c->a, NULL), 0);
    akv_cont_reap(c, 100);
    assert_consistent(f);
}

/* Make a stripe's container DYING and check the checker follows it, then
 * free it by steps. */
static void test_dying_checked(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    int si = akv_stripe_of(akv_key_hash(c->a, "dd", 2));
    struct akv_op op;
    struct akv_entry *ke;

    assert_int_equal(hmut(c, "dd", 0, 3000, 1, 0, 0), 0);
    op_start(&op, c, "dd");
    ke = find_key(&op, "dd");
    akv_op_del(&op, ke);
    assert_int_equal(akv_stripe_commit_locked(&op), 0);
    /* Committed, freeing not started: the op still holds the stripe. */
    assert_int_equal(c->a->stripes[si].s_ndying, 1);
    {
        struct report rep = {.len = 0, .n = 0};
        akv_stripe_check_locked(c->a, si, report_cb, &rep);
        if (rep.n)
            print_error("%s", rep.text);
        assert_int_equal(rep.n, 0);
    }
    assert_true(akv_cont_free_step_locked(c->a, si, 1000));
    assert_false(akv_cont_free_step_locked(c->a, si, 5000));
    akv_stripe_unlock(c, si);
    op.locked = 0;
    op.nst = 0;
    akv_op_free(&op);
    assert_int_equal(c->a->stripes[si].s_ndying, 0);
    assert_consistent(f);
}

/* RENAME inside the stripe: a new key entry with the same id keeps the
 * elements (no copy, nothing freed). */
static int rename_same_stripe(struct akv_ctx *c, const char *from,
                              const char *to)
{
    struct akv_op op;
    struct akv_entry *o, *n;
    struct akv_key k;

    op_start(&op, c, from);
    o = find_key(&op, from);
    if (!o)
        return -1;
    k = akv_key_make(c->a, 0, to, strlen(to));
    n = akv_op_new(&op, &k, o->e_vlen, 0);
    if (!n)
        return -1;
    n->e_type = o->e_type;
    n->e_flags = o->e_flags;
    memcpy(akv_cont_of(n), akv_cont_of(o), sizeof(struct akv_cont));
    akv_op_del(&op, o);
    op_end(&op);
    return 0;
}

static void name_in_stripe(struct akv_arena *a, int si, char *out, size_t n)
{
    for (int i = 0;; i++) {
        snprintf(out, n, "renamed%d", i);
        if (akv_stripe_of(akv_key_hash(a, out, strlen(out))) == si)
            return;
    }
}

static void test_rename_keeps_elements(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    char to[32];
    uint64_t used;

    model_reset();
    assert_int_equal(hmut(c, "r", 0, 5000, 4, 0, 0), 0);
    model_set(0, 5000, 4);
    name_in_stripe(c->a, akv_stripe_of(akv_key_hash(c->a, "r", 1)), to,
                   sizeof(to));
    used = atomic_load(&c->a->hdr->h_used);
    assert_int_equal(rename_same_stripe(c, "r", to), 0);
    assert_true(atomic_load(&c->a->hdr->h_used) <= used + 64);
    assert_int_equal(akv_cont_pending(c->a, NULL), 0);
    assert_matches(c, to);
    assert_consistent(f);
    /* and it still takes writes */
    assert_int_equal(hmut(c, to, 5000, 5100, 5, 0, 100), 0);
    model_set(5000, 5100, 5);
    model_set(0, 100, -1);
    assert_matches(c, to);
    assert_consistent(f);
}

/* ------------------------------------------------------------ kills */

struct kill_arg {
    const char *key;
    int kind; /* 0: mutate, 1: delete the container, 2: rename */
    const char *to;
};

static void child_mutation(struct akv_ctx *c, const struct kill_arg *ka)
{
    if (ka->kind == 0)
        hmut(c, ka->key, 2500, 4500, 9, 0, 500); /* 500 changed, 2000 new */
    else if (ka->kind == 1)
        del_key(c, ka->key);
    else
        rename_same_stripe(c, ka->key, ka->to);
}

static int run_child(struct fixture *f, const char *point,
                     const struct kill_arg *ka)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct akv_ctx c;
        int slot = akv_slot_claim_client(&f->a, 100);

        if (slot < 0)
            _exit(10);
        memset(&c, 0, sizeof(c));
        c.a = &f->a;
        c.slot = slot;
        c.cs = &f->a.slots[slot];
        c.now = akv_mstime();
        if (!akv_fault_arm(point, 1))
            _exit(11);
        child_mutation(&c, ka);
        _exit(12);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void kill_at(struct fixture *f, const char *point, int kind)
{
    struct akv_ctx *c = &f->ctx;
    static int before[MAXF], after[MAXF];
    struct kill_arg ka = {"kill", kind, NULL};
    char to[32], why1[128] = "", why2[128] = "";
    const char *key_after = "kill";
    int status;

    model_reset();
    assert_int_equal(hmut(c, "kill", 0, 3000, 1, 0, 0), 0);
    model_set(0, 3000, 1);
    memcpy(before, model, sizeof(model));
    if (kind == 0) {
        model_set(2500, 4500, 9);
        model_set(0, 500, -1);
    } else if (kind == 1) {
        model_reset();
    } else {
        name_in_stripe(c->a, akv_stripe_of(akv_key_hash(c->a, "kill", 4)),
                       to, sizeof(to));
        ka.to = to;
        key_after = to;
    }
    memcpy(after, model, sizeof(model));

    status = run_child(f, point, &ka);
    assert_true(WIFSIGNALED(status) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == 12));
    assert_consistent(f); /* the locks repaired the stripe */
    memcpy(model, before, sizeof(model));
    if (!matches(c, "kill", why1, sizeof(why1))) {
        memcpy(model, after, sizeof(model));
        if (!matches(c, key_after, why2, sizeof(why2))) {
            print_error("%s (kind %d): neither before (%s) nor after (%s)\n",
                        point, kind, why1, why2);
            fail();
        }
        if (kind == 2) {
            model_reset();
            assert_true(matches(c, "kill", why1, sizeof(why1)));
        }
    } else if (kind == 2) {
        model_reset();
        assert_true(matches(c, to, why1, sizeof(why1)));
    }
    /* Start the next round clean. */
    del_key(c, "kill");
    if (kind == 2)
        del_key(c, to);
    assert_consistent(f);
}

static const char *const kill_points[] = {
    "chunk-carved", "chunk-freed", "intent-prepared", "marked", "committed",
    "elem-applied-half", "applied-half", "applied", "rehash-step",
    "table-swap", "free-step", NULL,
};

static void test_kills(void **state)
{
    struct fixture *f = *state;

    for (int kind = 0; kind < 3; kind++)
        for (int i = 0; kill_points[i]; i++)
            kill_at(f, kill_points[i], kind);
}

/* Repair of a stripe holding one container of `n` elements. */
static void test_repair_time(void **state)
{
    struct fixture *f = *state;
    struct akv_ctx *c = &f->ctx;
    const char *env = getenv("AKV_REPAIR_ELEMENTS");
    int n = env ? atoi(env) : 100000;
    int si = akv_stripe_of(akv_key_hash(c->a, "big", 3));
    struct timespec t0, t1;
    struct akv_op op;
    struct akv_entry *ke;

    for (int b = 0; b < n; b += 50000) {
        struct akv_key k = akv_key_make(c->a, 0, "big", 3);
        char fb[32];
        op_start(&op, c, "big");
        ke = find_key(&op, "big");
        if (!ke)
            ke = akv_cont_create(&op, &k, AKV_TYPE_SET, 0);
        assert_non_null(ke);
        for (int i = b; i < AKV_MIN(b + 50000, n); i++) {
            snprintf(fb, sizeof(fb), "member:%d", i);
            assert_non_null(akv_cont_put(&op, ke, NULL, fb, strlen(fb),
                                         NULL, 0));
        }
        op_end(&op);
    }
    assert_int_equal(akv_stripe_lock(c, si), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    akv_stripe_repair_locked(c->a, si);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    akv_stripe_unlock(c, si);
    print_message("repair of a stripe holding one %d-element container: "
                  "%.1f ms\n", n,
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    op_start(&op, c, "big");
    ke = find_key(&op, "big");
    assert_int_equal(akv_cont_len(c->a, ke), (uint64_t)n);
    assert_non_null(akv_cont_find(&op, ke, "member:77", 9));
    op_end(&op);
    assert_consistent(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_find_foreach_scan, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_field_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conversion_one_op, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_grow_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_frees_in_steps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dying_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_keeps_elements, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_time, setup, teardown),
    };

    if (!getenv("AKV_TEST_VERBOSE"))
        akv_log_set_level(AKV_LOG_NOTHING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
