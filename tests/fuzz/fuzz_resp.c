/*
 * fuzz_resp.c -- libFuzzer harness for the RESP request parser
 * (src/resp.c).
 *
 * Input: byte 0 picks the size of the pieces the stream arrives in (0:
 * all at once), byte 1 the bulk length limit; the rest is the byte
 * stream a client sends.  The stream is parsed twice, whole and piece by
 * piece the way worker.c feeds a socket's reads (the unparsed tail kept
 * at the start of a buffer that grows); every buffer is allocated to its
 * exact length so ASan sees any read past the bytes received.  Both must
 * yield the same commands and the same error, every argument must be
 * NUL-terminated at its length, and a finished command must have
 * consumed bytes.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv.h"
#include "resp.h"

#define MAX_CMDS 1024

struct outcome {
    uint64_t digest[MAX_CMDS];
    int n;          /* commands (and empty commands) seen */
    int status;     /* last parse result */
    char err[64];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* Check a finished command and fold it into the outcome. */
static void record(struct outcome *o, const struct akv_parser *p, int r)
{
    uint64_t h = 14695981039346656037ULL;

    if (p->used == 0)
        abort();
    if (r == AKV_PARSE_DONE) {
        if (p->argc < 1)
            abort();
        for (int i = 0; i < p->argc; i++) {
            if (p->argv[i][p->argl[i]] != '\0')
                abort();
            h = fnv(h, &p->argl[i], sizeof(p->argl[i]));
            h = fnv(h, p->argv[i], p->argl[i]);
        }
    }
    if (o->n < MAX_CMDS)
        o->digest[o->n] = h;
    o->n++;
}

static char *exact_copy(const char *p, size_t n)
{
    char *b = malloc(n ? n : 1);

    if (!b)
        abort();
    memcpy(b, p, n);
    return b;
}

/* Parse the stream in pieces of `piece` bytes (0: in one go). */
static void parse_stream(const char *s, size_t len, size_t piece,
                         int64_t max_bulk, struct outcome *o)
{
    struct akv_parser p;
    char *buf = exact_copy("", 0);
    size_t have = 0, fed = 0;

    memset(o, 0, sizeof(*o));
    akv_parser_init(&p, max_bulk);
    o->status = AKV_PARSE_NEED;
    while (fed < len) {
        size_t add = piece ? AKV_MIN(piece, len - fed) : len - fed;
        char *nb = malloc(have + add);
        if (!nb)
            abort();
        memcpy(nb, buf, have);
        memcpy(nb + have, s + fed, add);
        free(buf);
        buf = nb;
        have += add;
        fed += add;
        for (;;) {
            o->status = akv_parse(&p, buf, have);
            if (o->status == AKV_PARSE_NEED)
                break;
            if (o->status == AKV_PARSE_ERROR) {
                snprintf(o->err, sizeof(o->err), "%s", p.err);
                goto done;
            }
            record(o, &p, o->status);
            nb = exact_copy(buf + p.used, have - p.used);
            have -= p.used;
            free(buf);
            buf = nb;
        }
    }
done:
    akv_parser_free(&p);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t limits[] = {512LL << 20, 1024, 16, 1};
    static struct outcome whole, pieces;
    size_t piece;
    int64_t max_bulk;

    if (size < 2)
        return 0;
    piece = data[0] % 32;
    max_bulk = limits[data[1] % 4];
    parse_stream((const char *)data + 2, size - 2, 0, max_bulk, &whole);
    if (piece == 0)
        return 0;
    parse_stream((const char *)data + 2, size - 2, piece, max_bulk, &pieces);
    if (whole.n != pieces.n || whole.status != pieces.status ||
        strcmp(whole.err, pieces.err) != 0 ||
        memcmp(whole.digest, pieces.digest,
               sizeof(uint64_t) * (size_t)AKV_MIN(whole.n, MAX_CMDS))) {
        fprintf(stderr, "whole: %d commands, status %d (%s); in pieces of "
                "%zu: %d commands, status %d (%s)\n", whole.n, whole.status,
                whole.err, piece, pieces.n, pieces.status, pieces.err);
        abort();
    }
    return 0;
}
