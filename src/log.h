/*
 * log.h -- one line per event, to stderr, a log file or the journal.
 */
#ifndef AKV_LOG_H
#define AKV_LOG_H

#include "config.h"

/* Role letter in each line, as Redis prints it: 'M' supervisor, 'C' worker. */
void akv_log_init(char role, int level, const char *logfile);
void akv_log_set_level(int level);
void akv_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
