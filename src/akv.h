/*
 * akv.h -- definitions shared by every arenakv translation unit.
 *
 * Error convention (one for the whole code base): functions that can fail
 * return 0 on success or a negative errno value (-ENOMEM, -EINVAL, ...);
 * functions that answer a client write the error reply themselves and
 * return AKV_ERR so the caller only propagates it.
 */
#ifndef AKV_H
#define AKV_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AKV_VERSION_STRING PACKAGE_VERSION

/* Redis version we claim in INFO and HELLO; clients key features off it. */
#define AKV_REDIS_COMPAT_VERSION "7.0.15"

#define AKV_OK 0
#define AKV_ERR (-1)

#define akv_likely(x) __builtin_expect(!!(x), 1)
#define akv_unlikely(x) __builtin_expect(!!(x), 0)
#define akv_nelem(a) (sizeof(a) / sizeof((a)[0]))

#define AKV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AKV_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Visits the set bits of a 64-bit mask, lowest first, as `i`; costs one
 * iteration per set bit, not per bit position. */
#define AKV_FOREACH_BIT(i, mask)                                             \
    for (uint64_t akv_bits_ = (mask);                                        \
         akv_bits_ && ((i) = __builtin_ctzll(akv_bits_), 1);                 \
         akv_bits_ &= akv_bits_ - 1)

/* Invariant checks compiled into the debug build only (configure
 * --enable-debug, implied by --enable-sanitizers): they guard the
 * arena's own structure, never client input.  A failed check names the
 * file, line and condition on stderr and aborts. */
#ifdef AKV_DEBUG
void akv_assert_failed(const char *cond, const char *file, int line)
    __attribute__((noreturn));
#define akv_debug_assert(cond)                                               \
    (akv_likely(cond) ? (void)0 : akv_assert_failed(#cond, __FILE__, __LINE__))
#else
#define akv_debug_assert(cond) ((void)0)
#endif

/* Milliseconds / microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t akv_mstime(void);
int64_t akv_ustime(void);
/* Milliseconds from CLOCK_MONOTONIC, for intervals. */
int64_t akv_monotonic_ms(void);

#endif
