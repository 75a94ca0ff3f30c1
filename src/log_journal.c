/*
 * log_journal.c -- log lines to the journal through libsystemd.
 *
 * Kept apart from log.c so that programs which do not link libsystemd
 * (the connection spawner) can still log; see log.c.
 */
#include "build-config.h"

#include <systemd/sd-journal.h>

#include "log.h"

static void journal_sink(int priority, char role, const char *msg)
{
    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
                    "ARENAKV_ROLE=%c", role, NULL);
}

void akv_log_use_journal(void)
{
    akv_log_set_sink(journal_sink);
}
