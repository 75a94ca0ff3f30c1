/*
 * fuzz_dispatch.c -- libFuzzer harness for the command dispatcher and
 * every command handler, on a real arena.
 *
 * Input: command lines separated by '\n', arguments by ' '.  A line's
 * first word is a command of the table (src/commands.c) if it names one,
 * else its first byte picks one (byte % number of commands); a command
 * with subcommands resolves its second word the same way.  The remaining
 * words are passed as they are.  The lines are encoded as RESP and run
 * as one pipelined read, through akv_parse() and akv_dispatch() as a
 * worker runs them; the replies must be well-formed RESP, exactly one per
 * command.  Before each input the arena is emptied and its configuration
 * restored; after it the arena must pass its own consistency check
 * (stripes, tables, page table).
 *
 * SAVE is left out: it waits for a supervisor to write the snapshot, and
 * there is none here.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define MAX_LINES 256
#define MAX_ARGS 64

struct out {
    char *p;
    size_t len, cap;
};

static void out_put(struct out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
        if (!o->p)
            abort();
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void out_bulk(struct out *o, const void *p, size_t n)
{
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);

    out_put(o, hdr, (size_t)h);
    out_put(o, p, n);
    out_put(o, "\r\n", 2);
}

/* The entry of table t that word names, else the one its first byte
 * picks.  t is terminated by an entry without a name. */
static const struct akv_command *pick(const struct akv_command *t,
                                      const uint8_t *w, size_t n)
{
    size_t count = 0;

    for (const struct akv_command *e = t; e->name; e++)
        if (n == strlen(e->name) && strncasecmp(e->name, (const char *)w,
                                                n) == 0)
            return e;
    while (t[count].name)
        count++;
    return &t[(n ? w[0] : 0) % count];
}

/* Encode one line as a RESP command; returns false to leave it out. */
static bool encode_line(struct out *o, const uint8_t *p, size_t n)
{
    const uint8_t *w[MAX_ARGS];
    size_t wl[MAX_ARGS];
    const struct akv_command *cmd, *sub = NULL;
    int nw = 0, first = 1;
    char hdr[32];

    while (nw < MAX_ARGS) {
        const uint8_t *sp = memchr(p, ' ', n);
        size_t l = sp ? (size_t)(sp - p) : n;
        w[nw] = p;
        wl[nw++] = l;
        if (!sp)
            break;
        p += l + 1;
        n -= l + 1;
    }
    cmd = pick(akv_commands, w[0], wl[0]);
    if (cmd->proc == akv_save_command)
        return false;
    if (cmd->subcommands) {
        sub = pick(cmd->subcommands, nw > 1 ? w[1] : NULL,
                   nw > 1 ? wl[1] : 0);
        first = 2;
        /* Like SAVE, it waits for the supervisor, which is not here. */
        if (sub->proc == akv_config_rewrite_command)
            return false;
    }
    snprintf(hdr, sizeof(hdr), "*%d\r\n", AKV_MAX(nw, first));
    out_put(o, hdr, strlen(hdr));
    out_bulk(o, cmd->name, strlen(cmd->name));
    if (sub)
        out_bulk(o, sub->name, strlen(sub->name));
    for (int i = first; i < nw; i++)
        out_bulk(o, w[i], wl[i]);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct out o = {0};
    struct akv_client c;
    int lines = 0;

    while (size && lines < MAX_LINES) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        if (encode_line(&o, data, n))
            lines++;
        data += n + (nl != NULL);
        size -= n + (nl != NULL);
    }
    if (!lines)
        return 0;
    fuzz_arena_reset();
    fuzz_client_init(&c);
    fuzz_client_run(&c, o.p, o.len);
    fuzz_client_free(&c);
    free(o.p);
    fuzz_check_arena();
    return 0;
}
