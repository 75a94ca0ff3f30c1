/*
 * reply.h -- the reply encoder.  Every reply goes through it, and it emits
 * RESP2 or RESP3 per connection (maps, sets, nulls, doubles, booleans).
 */
#ifndef AKV_REPLY_H
#define AKV_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct akv_reply {
    char *buf;     /* kept across requests; grows only for big replies */
    size_t len, cap;
    int resp;      /* 2 or 3 */
    bool oom;      /* a reply could not be buffered: close the client */
};

void akv_reply_init(struct akv_reply *r);
void akv_reply_free(struct akv_reply *r);
/* Make room for n more bytes and return where they go. */
char *akv_reply_reserve(struct akv_reply *r, size_t n);
void akv_reply_raw(struct akv_reply *r, const void *p, size_t n);

void akv_reply_ok(struct akv_reply *r);
void akv_reply_status(struct akv_reply *r, const char *s);
/* msg without the leading '-' ("ERR ...", "WRONGTYPE ..."); CR/LF in it
 * become spaces as Redis does. */
void akv_reply_error(struct akv_reply *r, const char *msg);
void akv_reply_errorf(struct akv_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void akv_reply_int(struct akv_reply *r, long long v);
void akv_reply_bulk(struct akv_reply *r, const void *p, size_t n);
void akv_reply_bulk_cstr(struct akv_reply *r, const char *s);
void akv_reply_bulk_ll(struct akv_reply *r, long long v);
void akv_reply_null(struct akv_reply *r);
void akv_reply_null_array(struct akv_reply *r);
void akv_reply_array(struct akv_reply *r, long n);
void akv_reply_map(struct akv_reply *r, long n);
void akv_reply_set(struct akv_reply *r, long n);
void akv_reply_double(struct akv_reply *r, double d);
void akv_reply_bool(struct akv_reply *r, bool b);
void akv_reply_verbatim(struct akv_reply *r, const char *p, size_t n,
                        const char *ext);
/* An aggregate whose length is known only later: reserve, then patch. */
size_t akv_reply_defer(struct akv_reply *r);
void akv_reply_set_array_len(struct akv_reply *r, size_t at, long n);
void akv_reply_set_map_len(struct akv_reply *r, size_t at, long n);
/* Fill a deferred slot with a short bulk string (at most 16 bytes). */
void akv_reply_set_bulk(struct akv_reply *r, size_t at, const char *p,
                        size_t n);

/* Header of a bulk of n bytes; the caller appends n bytes then "\r\n". */
void akv_reply_bulk_header(struct akv_reply *r, size_t n);

#endif
