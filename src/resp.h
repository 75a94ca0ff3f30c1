/*
 * resp.h -- incremental RESP request parser.  It does no I/O: the caller
 * feeds the bytes of the command being read and gets back argv when the
 * command is complete (hiredis's read.c is the model).
 */
#ifndef AKV_RESP_H
#define AKV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AKV_INLINE_MAX (64 * 1024)

enum {
    AKV_PARSE_NEED = 0,  /* incomplete: feed more bytes */
    AKV_PARSE_DONE = 1,  /* argc/argv/argl valid, `used` bytes consumed */
    AKV_PARSE_EMPTY = 2, /* an empty command was skipped (`used` bytes) */
    AKV_PARSE_ERROR = -1 /* protocol error: err holds Redis's message */
};

/* Before AUTH, Redis 7 accepts only small frames (networking.c). */
#define AKV_UNAUTH_MAX_MBULK 10
#define AKV_UNAUTH_MAX_BULK 16384

struct akv_parser {
    int64_t max_bulk;   /* proto-max-bulk-len */
    bool unauth;        /* the connection has not authenticated: the
                         * AKV_UNAUTH_* limits apply (set before parsing) */
    /* Progress through the command that starts at buf[0]. */
    size_t pos;
    long long mbulk;    /* bulks still expected, -1 before the header */
    long long bulklen;  /* length of the bulk being read, -1 for header */
    int argc, cap;
    size_t *argo;       /* offsets of the arguments in buf */
    size_t *argl;
    const char **argv;  /* pointers, valid after DONE until buf changes */
    char *scratch;      /* unquoted inline arguments */
    size_t scratchcap;
    size_t used;        /* bytes of the finished command */
    size_t want;        /* a bulk needs buf to hold this many bytes */
    const char *err;
    char errbuf[64];
};

void akv_parser_init(struct akv_parser *p, int64_t max_bulk);
void akv_parser_free(struct akv_parser *p);
/* Parse the command at buf[0..len).  buf must start where the previous
 * DONE/EMPTY command ended and keep all bytes of this command between
 * calls (it may move).  Each finished argument is NUL-terminated in place
 * (over the CR that follows it), so handlers may treat argv[i] as a C
 * string that ends at its first NUL, as Redis's sds strings do. */
int akv_parse(struct akv_parser *p, char *buf, size_t len);

#endif
