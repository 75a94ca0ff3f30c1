/*
 * log.h -- one line per event, to stderr, a log file or the journal.
 */
#ifndef AKV_LOG_H
#define AKV_LOG_H

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

#endif
