/*
 * log.c -- the log.
 *
 * Lines look like Redis's ("pid:role date level-char message") so that
 * operators' log tooling keeps working.  Under systemd (JOURNAL_STREAM set
 * and no logfile) a program that links libsystemd sends each line to the
 * journal with its priority as a structured field (log_journal.c); one
 * that does not (the connection spawner and its workers) prefixes the
 * line on stderr with "<priority>", which journald reads the same way.
 */
#include "build-config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "akv.h"
#include "log.h"

static char log_role = 'M';
static int log_level = AKV_LOG_NOTICE;
static int log_fd = 2;
static bool log_journal;             /* stderr is the journal's stream */
static akv_log_sink_fn journal_sink; /* set by akv_log_use_journal() */

void akv_log_init(char role, int level, const char *logfile)
{
    log_role = role;
    log_level = level;
    if (logfile && *logfile) {
        int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                      0644);
        if (fd >= 0)
            log_fd = fd;
        log_journal = false;
    } else {
        log_journal = getenv("JOURNAL_STREAM") != NULL;
    }
}

void akv_log_set_role(char role)
{
    log_role = role;
}

void akv_log_set_sink(akv_log_sink_fn sink)
{
    journal_sink = sink;
}

void akv_log_set_level(int level)
{
    log_level = level;
}

static int syslog_priority(int level)
{
    switch (level) {
    case AKV_LOG_DEBUG:
        return LOG_DEBUG;
    case AKV_LOG_VERBOSE:
        return LOG_INFO;
    case AKV_LOG_NOTICE:
        return LOG_NOTICE;
    default:
        return LOG_WARNING;
    }
}

static void log_write(int level, const char *msg);

void akv_log(int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level < log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(level, msg);
}

static int64_t log_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void akv_log_limited(struct akv_log_limit *lim, int level, const char *fmt,
                     ...)
{
    char msg[1024];
    int64_t now = log_clock_ms();
    va_list ap;
    int n;

    if (level < log_level)
        return;
    if (lim->last_ms && now - lim->last_ms < AKV_LOG_LIMIT_INTERVAL_MS) {
        lim->suppressed++;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lim->suppressed && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n,
                 " (%llu more like this in the last %lld s)",
                 (unsigned long long)lim->suppressed,
                 (long long)(now - lim->last_ms) / 1000);
    lim->suppressed = 0;
    lim->last_ms = now;
    log_write(level, msg);
}

void akv_log_limit_flush(struct akv_log_limit *lim, int level,
                         const char *what)
{
    if (lim->suppressed)
        akv_log(level, "%s: %llu more occurrences were not logged", what,
                (unsigned long long)lim->suppressed);
    lim->suppressed = 0;
    lim->last_ms = 0;
}

static void log_write(int level, const char *msg)
{
    static const char marks[] = ".-*#";
    char line[1200];
    struct timeval tv;
    struct tm tm;
    int n;

    if (log_journal && journal_sink) {
        journal_sink(syslog_priority(level), log_role, msg);
        return;
    }
    if (log_journal) {
        n = snprintf(line, sizeof(line), "<%d>%s\n", syslog_priority(level),
                     msg);
        if (write(log_fd, line, AKV_MIN((size_t)n, sizeof(line))) < 0) {
            /* nowhere left to report it */
        }
        return;
    }
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%d:%c ", (int)getpid(), log_role);
    n += (int)strftime(line + n, sizeof(line) - (size_t)n,
                       "%d %b %Y %H:%M:%S.", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%03d %c %s\n",
                  (int)(tv.tv_usec / 1000), marks[level > 3 ? 3 : level],
                  msg);
    if (n > (int)sizeof(line))
        n = (int)sizeof(line);
    if (write(log_fd, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}
