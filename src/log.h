/*
 * log.h -- one line per event, to stderr, a log file or the journal.
 */
#ifndef AKV_LOG_H
#define AKV_LOG_H

#include <stdint.h>

#include "config.h"

/* Role letter in each line, as Redis prints it: 'M' supervisor, 'C' worker. */
void akv_log_init(char role, int level, const char *logfile);
void akv_log_set_level(int level);
void akv_log_set_role(char role);
/* Where lines go when stderr is the journal's stream (log_journal.c
 * installs sd_journal_send; without it, lines get a "<priority>" prefix). */
typedef void (*akv_log_sink_fn)(int priority, char role, const char *msg);
void akv_log_set_sink(akv_log_sink_fn sink);
/* Send lines to the journal through libsystemd (log_journal.c). */
void akv_log_use_journal(void);
void akv_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A condition that can repeat (a failing disk, a client over its limit)
 * logs through a limiter of its own: the first occurrence is logged, later
 * ones within the interval are only counted, and the first one after the
 * interval is logged with the count of those it stood for.  One static
 * limiter per call site; the state is per process.
 */
struct akv_log_limit {
    int64_t last_ms;     /* when a line was last written, 0 = never */
    uint64_t suppressed; /* occurrences since then that were not logged */
};
#define AKV_LOG_LIMIT_INTERVAL_MS 10000
void akv_log_limited(struct akv_log_limit *lim, int level, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));
/* Log the count a limiter holds back, if any (when the condition ends). */
void akv_log_limit_flush(struct akv_log_limit *lim, int level,
                         const char *what);

#endif
