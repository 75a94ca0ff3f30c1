/*
 * fuzz_common.h -- what the libFuzzer harnesses share: a small real arena
 * (a file in /dev/shm, unlinked once mapped), a client on it that runs
 * commands through akv_parse() and akv_dispatch() as a worker does, a
 * private temporary directory, and splitting one input into parts.
 */
#ifndef AKV_FUZZ_COMMON_H
#define AKV_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "server.h"

#define FUZZ_ARENA_SIZE (32ULL << 20)

/* The process's one arena, created on first use, state READY. */
struct akv_arena *fuzz_arena(void);
/* The configuration the arena was made with (the reset target). */
const struct akv_config *fuzz_arena_config(void);
/* Put the arena back as it was made: every key gone, the configuration
 * republished, state READY. */
void fuzz_arena_reset(void);

/* A client on the arena, authenticated, db 0, RESP2. */
void fuzz_client_init(struct akv_client *c);
void fuzz_client_free(struct akv_client *c);
/* Run every complete command in buf[0..len) as the worker's loop does
 * (buf is written to: the parser NUL-terminates arguments in place).
 * The replies must be well-formed RESP, exactly one per command (and one
 * for a protocol error), or it aborts; they are checked and dropped
 * every 64 KiB and at the end.  Returns how many commands ran; stops at
 * a protocol error or when the client is to be closed. */
int fuzz_client_run(struct akv_client *c, char *buf, size_t len);
/* Run one command given as arguments. */
void fuzz_client_command(struct akv_client *c, int argc, const char **argv);
/* Abort (a crash for libFuzzer) if any stripe or the page table fails
 * the arena's own consistency check. */
void fuzz_check_arena(void);

/* A private directory made once per process, removed at exit. */
const char *fuzz_tmpdir(void);
/* Write len bytes to dir/name (replacing it).  Aborts on I/O errors. */
void fuzz_write_file(const char *dir, const char *name, const void *p,
                     size_t len);
/* Remove everything in dir. */
void fuzz_clear_dir(const char *dir);

/* Split data at each occurrence of the separator "\n%%\n": stores up to
 * max parts (the last one takes the rest) and returns how many. */
struct fuzz_part {
    const uint8_t *p;
    size_t len;
};
#define FUZZ_SEPARATOR "\n%%\n"
int fuzz_split(const uint8_t *data, size_t len, struct fuzz_part *parts,
               int max);

#endif
