/*
 * fuzz_aof.c -- libFuzzer harness for the AOF checker (src/aof_check.c,
 * what arenakv-check-aof runs) and the AOF loader (src/aof.c's replay)
 * on mutated multi-part AOF directories.
 *
 * Input: parts separated by "\n%%\n" (FUZZ_SEPARATOR): the manifest
 * (appendonly.aof.manifest), then the files appendonly.aof.1.incr.aof,
 * .2.incr.aof, .3.incr.aof and appendonly.aof.1.base.aof, written to a
 * private directory in /dev/shm.  The manifest may name any of them, or
 * others.
 *
 * 1. The checker, as arenakv-check-aof walks a manifest: the manifest is
 *    parsed; every file it lists that is an AOF is scanned twice, with
 *    the default buffer and with a tiny one, and both reports must agree;
 *    a truncated file is fixed (truncated to its valid prefix) and must
 *    then scan as valid, with the same prefix.
 * 2. The loader: the files are written again, the arena is emptied and
 *    marked LOADING, and akv_aof_open() / akv_aof_load() replay the
 *    directory into it as a new supervisor would.  The arena must then
 *    pass its consistency check.
 */
#include "build-config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "aof_check.h"
#include "clients.h"
#include "fuzz_common.h"
#include "lock.h"

#define NPARTS 5

static const char *const names[NPARTS] = {
    "appendonly.aof.manifest",   "appendonly.aof.1.incr.aof",
    "appendonly.aof.2.incr.aof", "appendonly.aof.3.incr.aof",
    "appendonly.aof.1.base.aof",
};

static char aofdir[PATH_MAX];

static void write_parts(const struct fuzz_part *parts, int n)
{
    fuzz_clear_dir(aofdir);
    for (int i = 0; i < n; i++)
        fuzz_write_file(aofdir, names[i], parts[i].p, parts[i].len);
}

static bool same_report(const struct akv_aof_report *x,
                        const struct akv_aof_report *y)
{
    return x->status == y->status && x->size == y->size &&
           x->valid_len == y->valid_len && x->commands == y->commands &&
           x->bad_offset == y->bad_offset && x->line == y->line;
}

static void die_report(const char *what, const char *path,
                       const struct akv_aof_report *x,
                       const struct akv_aof_report *y)
{
    fprintf(stderr, "%s: %s: status %d/%d valid %llu/%llu commands "
            "%llu/%llu bad %llu/%llu line %llu/%llu (%s / %s)\n", what, path,
            x->status, y->status, (unsigned long long)x->valid_len,
            (unsigned long long)y->valid_len,
            (unsigned long long)x->commands, (unsigned long long)y->commands,
            (unsigned long long)x->bad_offset,
            (unsigned long long)y->bad_offset, (unsigned long long)x->line,
            (unsigned long long)y->line, x->reason, y->reason);
    abort();
}

/* Scan one AOF both ways; fix it if torn and scan it again. */
static void check_file(const char *path)
{
    struct akv_aof_check_opts tiny = {.bufsize = 3, .max_bulk = 0};
    struct akv_aof_report big, small, fixed;

    if (akv_aof_check_sniff(path) != AKV_AOF_KIND_AOF)
        return;
    if (akv_aof_check_path(path, NULL, &big) < 0)
        return;
    if (akv_aof_check_path(path, &tiny, &small) < 0)
        abort();
    if (!same_report(&big, &small))
        die_report("buffer sizes disagree", path, &big, &small);
    if (big.status != AKV_AOF_TRUNCATED)
        return;
    if (akv_aof_truncate(path, big.valid_len) < 0 ||
        akv_aof_check_path(path, NULL, &fixed) < 0)
        abort();
    if (fixed.status != AKV_AOF_VALID || fixed.valid_len != big.valid_len ||
        fixed.commands != big.commands)
        die_report("fixed file is not valid", path, &big, &fixed);
}

static void run_checker(void)
{
    struct akv_aof_manifest m;
    char mpath[PATH_MAX + 64], path[PATH_MAX + 1100], err[400];

    snprintf(mpath, sizeof(mpath), "%s/%s", aofdir, names[0]);
    if (akv_aof_manifest_load(mpath, &m, err, sizeof(err)) == 0)
        for (size_t i = 0; i < m.nfiles; i++) {
            if (m.files[i].type == 'h' || strchr(m.files[i].name, '/'))
                continue;
            snprintf(path, sizeof(path), "%s/%s", aofdir, m.files[i].name);
            check_file(path);
        }
    akv_aof_manifest_free(&m);
    for (int i = 1; i < NPARTS; i++) {
        snprintf(path, sizeof(path), "%s/%s", aofdir, names[i]);
        check_file(path);
    }
}

static void run_loader(void)
{
    struct akv_arena *a = fuzz_arena();
    struct akv_config cfg = *fuzz_arena_config();
    struct akv_client c;
    struct akv_aof aof;
    const char *why = NULL;
    char msg[2048] = "";

    fuzz_arena_reset();
    snprintf(cfg.appenddirname, sizeof(cfg.appenddirname), "%s", aofdir);
    if (akv_lock(a, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) < 0)
        abort();
    akv_cfg_publish_locked(a, &cfg);
    akv_unlock(a, AKV_LOCK_CFG, 0);
    atomic_store(&a->hdr->h_state, AKV_STATE_LOADING);
    fuzz_client_init(&c);
    if (akv_aof_open(&aof, a, c.ctx.slot, &why) == 0) {
        akv_aof_load(&aof, &c.ctx, msg, sizeof(msg));
        close(aof.fd);
    }
    pthread_mutex_destroy(&aof.mu);
    pthread_cond_destroy(&aof.cv);
    fuzz_client_free(&c);
    atomic_store(&a->hdr->h_state, AKV_STATE_READY);
    fuzz_check_arena();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_part parts[NPARTS];
    int n = fuzz_split(data, size, parts, NPARTS);

    if (!aofdir[0]) {
        snprintf(aofdir, sizeof(aofdir), "%s/aof", fuzz_tmpdir());
        if (mkdir(aofdir, 0700) < 0)
            abort();
    }
    write_parts(parts, n);
    run_checker();
    write_parts(parts, n);
    run_loader();
    return 0;
}
