/*
 * util.c -- stateless helpers (see util.h).  Number formats follow Redis's
 * util.c closely because clients and the differential tests see them.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "akv.h"
#include "util.h"

#ifdef AKV_DEBUG
void akv_assert_failed(const char *cond, const char *file, int line)
{
    fprintf(stderr, "arenakv: %s:%d: invariant violated: %s\n", file, line,
            cond);
    abort();
}
#endif

int64_t akv_mstime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t akv_ustime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t akv_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* A seeded multiply-rotate hash over 8-byte words; the seed is random per
 * arena so collisions cannot be planned from outside. */
uint32_t akv_hash(const void *key, size_t len, uint64_t seed)
{
    const unsigned char *p = key;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);

    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = rotl(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = rotl(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
    }
    return (uint32_t)(akv_mix64(h) >> 32);
}

uint64_t akv_random_u64(void)
{
    uint64_t v;
    if (getrandom(&v, sizeof(v), 0) != sizeof(v))
        v = (uint64_t)akv_ustime() ^ ((uint64_t)getpid() << 32);
    return v;
}

bool akv_str2ll(const char *s, size_t len, long long *out)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (len == 0 || len > 20)
        return false;
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == len)
            return false;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return false;
    }
    while (plen < len && p[0] >= '0' && p[0] <= '9') {
        if (v > ULLONG_MAX / 10)
            return false;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(p[0] - '0'))
            return false;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < len)
        return false;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1))
            return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
                                                        : -(long long)v;
    } else {
        if (v > LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

int akv_ll2str(char *buf, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;
    int n = 0, len = 0;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

bool akv_str2ld(const char *s, size_t len, long double *out)
{
    char buf[5120];
    char *eptr;
    long double v;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0]))
        return false;
    errno = 0;
    v = strtold(buf, &eptr);
    if (*eptr != '\0' || (size_t)(eptr - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL ||
                                              v == -HUGE_VALL ||
                                              fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return false;
    *out = v;
    return true;
}

/* Redis's ld2string(..., LD_STR_HUMAN): %.17Lf then trailing zeros and a
 * trailing dot removed; inf is an error handled by the caller. */
int akv_ld2str(char *buf, size_t len, long double v)
{
    int l;

    if (isinf(v)) {
        return snprintf(buf, len, v > 0 ? "inf" : "-inf");
    }
    l = snprintf(buf, len, "%.17Lf", v);
    if (l < 0 || (size_t)l >= len)
        return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

/* As Redis's string2d: the long double parse, then a value that does not
 * survive the conversion to double (overflow or underflow) is refused. */
bool akv_str2d(const char *s, size_t len, double *out)
{
    long double ld;
    double d;

    if (len >= 256 || !akv_str2ld(s, len, &ld))
        return false;
    d = (double)ld;
    if (isinf(d) != isinfl(ld) || (d == 0 && ld != 0))
        return false;
    *out = d;
    return true;
}

int akv_d2str(char *buf, size_t len, double v)
{
    if (isinf(v))
        return snprintf(buf, len, v > 0 ? "inf" : "-inf");
    if (isnan(v))
        return snprintf(buf, len, "nan");
    return snprintf(buf, len, "%.17g", v);
}

bool akv_grow(char **buf, size_t *cap, size_t need, size_t first)
{
    size_t n = *cap ? *cap : first;
    char *p;

    if (need <= *cap)
        return true;
    while (n < need)
        n *= 2;
    if (!(p = realloc(*buf, n)))
        return false;
    *buf = p;
    *cap = n;
    return true;
}

bool akv_strcaseeq(const char *a, size_t alen, const char *lit)
{
    size_t l = strlen(lit);
    return alen == l && strncasecmp(a, lit, l) == 0;
}

static bool glob_class(const char **pp, size_t *plenp, char c, bool nocase)
{
    const char *p = *pp;
    size_t plen = *plenp;
    bool not = false, match = false;

    p++;
    plen--;
    if (plen && *p == '^') {
        not = true;
        p++;
        plen--;
    }
    for (;;) {
        if (plen == 0) {
            p--;
            plen++;
            break;
        }
        if (*p == '\\' && plen >= 2) {
            p++;
            plen--;
            if (*p == c)
                match = true;
        } else if (*p == ']') {
            break;
        } else if (plen >= 3 && p[1] == '-') {
            int start = (unsigned char)p[0], end = (unsigned char)p[2];
            int cc = (unsigned char)c;
            if (start > end) {
                int t = start;
                start = end;
                end = t;
            }
            if (nocase) {
                start = tolower(start);
                end = tolower(end);
                cc = tolower(cc);
            }
            p += 2;
            plen -= 2;
            if (cc >= start && cc <= end)
                match = true;
        } else if (nocase ? tolower((unsigned char)*p) ==
                                tolower((unsigned char)c)
                          : *p == c) {
            match = true;
        }
        p++;
        plen--;
    }
    *pp = p;
    *plenp = plen;
    return not ? !match : match;
}

static bool glob_rec(const char *p, size_t plen, const char *s, size_t slen,
                     bool nocase, int depth, bool *skip_longer)
{
    if (depth > 1000)
        return false;
    while (plen && slen) {
        switch (*p) {
        case '*':
            while (plen >= 2 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1)
                return true;
            while (slen) {
                if (glob_rec(p + 1, plen - 1, s, slen, nocase, depth + 1,
                             skip_longer))
                    return true;
                if (*skip_longer)
                    return false;
                s++;
                slen--;
            }
            *skip_longer = true;
            return false;
        case '?':
            s++;
            slen--;
            break;
        case '[':
            if (!glob_class(&p, &plen, *s, nocase))
                return false;
            s++;
            slen--;
            break;
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (nocase ? tolower((unsigned char)*p) !=
                             tolower((unsigned char)*s)
                       : *p != *s)
                return false;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen && *p == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

bool akv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                    bool nocase)
{
    bool skip = false;
    return glob_rec(pat, plen, s, slen, nocase, 0, &skip);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

int akv_mutex_lock_spinning(pthread_mutex_t *m)
{
    static int ncpu;

    if (!ncpu)
        ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 0; ncpu > 1 && i < SPIN_TRIES; i++) {
        int r = pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
        for (int k = 0; k < SPIN_PAUSES; k++)
            cpu_relax();
    }
    return pthread_mutex_lock(m);
}
