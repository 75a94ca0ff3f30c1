/*
 * fuzz_snapshot.c -- libFuzzer harness for the SQLite base loader
 * (src/snapshot.c: the format of snapshots and AOF bases).
 *
 * Input: the bytes of a database file.  It is written to a private
 * directory in /dev/shm and loaded with akv_snapshot_load() into the
 * emptied arena, as a supervisor loads its base (replaying: nothing is
 * logged).  Whatever the file holds, the load must fail cleanly or
 * succeed; after a success the arena must pass its consistency check.
 * (After a failure the supervisor exits and the next one discards the
 * arena, so what a failed load left is never served.)
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[512];
    struct akv_client c;
    char why[512];
    uint64_t rows = 0;
    int r;

    if (!path[0])
        snprintf(path, sizeof(path), "%s/base.sqlite", fuzz_tmpdir());
    fuzz_clear_dir(fuzz_tmpdir());
    fuzz_write_file(fuzz_tmpdir(), "base.sqlite", data, size);
    fuzz_arena_reset();
    fuzz_client_init(&c);
    c.ctx.replaying = true;
    r = akv_snapshot_load(&c.ctx, path, &rows, why, sizeof(why));
    fuzz_client_free(&c);
    if (r == 0)
        fuzz_check_arena();
    return 0;
}
