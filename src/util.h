/*
 * util.h -- small helpers without state: hashing, number <-> text as Redis
 * does it, glob matching, randomness, locking a shared mutex.
 */
#ifndef AKV_UTIL_H
#define AKV_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

uint32_t akv_hash(const void *key, size_t len, uint64_t seed);
/* A 64-bit finaliser (MurmurHash3's fmix64): spreads every input bit over
 * the output, for hashing integers and addresses. */
static inline uint64_t akv_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* pthread_mutex_lock() for the arena's short critical sections: when the
 * holder runs on another CPU, retrying for a few microseconds is cheaper
 * than sleeping in the kernel and being woken (two context switches), so
 * it retries trylock SPIN_TRIES times before it sleeps.  With one CPU the
 * holder cannot run while we spin, so it does not.  Same results as
 * pthread_mutex_lock (EOWNERDEAD included). */
#define SPIN_TRIES 50  /* trylocks before sleeping in the kernel */
#define SPIN_PAUSES 20 /* cpu pauses between them */
int akv_mutex_lock_spinning(pthread_mutex_t *m);
uint64_t akv_random_u64(void);

/* Strict integer parsing as Redis's string2ll: no spaces, no '+', no
 * leading zeros, fits in int64.  Returns true on success. */
bool akv_str2ll(const char *s, size_t len, long long *out);
/* Decimal text of v; returns its length (buf needs 21 bytes). */
int akv_ll2str(char *buf, long long v);
/* Parse a long double as Redis's string2ld (used by INCRBYFLOAT). */
bool akv_str2ld(const char *s, size_t len, long double *out);
/* Format as Redis's ld2string in LD_STR_HUMAN mode; returns length. */
int akv_ld2str(char *buf, size_t len, long double v);
/* Parse a double as Redis's string2d / getDoubleFromObject. */
bool akv_str2d(const char *s, size_t len, double *out);
/* Format a double for RESP replies (%.17g, inf/-inf/nan rules). */
int akv_d2str(char *buf, size_t len, double v);

/* Redis's stringmatchlen(): glob with * ? [..] and \ escapes. */
bool akv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                    bool nocase);

bool akv_strcaseeq(const char *a, size_t alen, const char *lit);

/* Grow a process-heap buffer (*buf, capacity *cap) to hold `need` bytes,
 * doubling from `first`.  Returns false (buffer unchanged) without
 * memory.  For buffers kept across requests, so growth is rare. */
bool akv_grow(char **buf, size_t *cap, size_t need, size_t first);

#endif
