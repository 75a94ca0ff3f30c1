/*
 * test_log.c -- unit tests for log.c: line format and the limiter that
 * turns a repeating condition into one line and then a count per interval.
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char log_path[] = "/tmp/akv-test-log-XXXXXX";

static int setup(void **state)
{
    int fd = mkstemp(log_path);

    (void)state;
    if (fd < 0)
        return -1;
    close(fd);
    unsetenv("JOURNAL_STREAM");
    akv_log_init('M', AKV_LOG_NOTICE, log_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(log_path);
    return 0;
}

/* Count the lines of the log that contain needle. */
static int lines_with(const char *needle)
{
    char line[2048];
    int n = 0;
    FILE *f = fopen(log_path, "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static void test_line_format(void **state)
{
    char line[2048];
    FILE *f;

    (void)state;
    akv_log(AKV_LOG_WARNING, "format probe %d", 42);
    akv_log(AKV_LOG_DEBUG, "below the level");
    f = fopen(log_path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "format probe"))
            break;
    fclose(f);
    /* "pid:M dd Mon yyyy hh:mm:ss.mmm # message" */
    assert_non_null(strstr(line, ":M "));
    assert_non_null(strstr(line, " # format probe 42\n"));
    assert_int_equal(lines_with("below the level"), 0);
}

static void test_limit_repeats(void **state)
{
    struct akv_log_limit lim = {0};

    (void)state;
    for (int i = 0; i < 100000; i++)
        akv_log_limited(&lim, AKV_LOG_WARNING, "disk trouble %d", i);
    assert_int_equal(lines_with("disk trouble"), 1);
    assert_int_equal(lines_with("disk trouble 0"), 1);
    assert_true(lim.suppressed == 99999);
    /* Pretend the interval passed: the next line carries the count. */
    lim.last_ms -= AKV_LOG_LIMIT_INTERVAL_MS;
    akv_log_limited(&lim, AKV_LOG_WARNING, "disk trouble again");
    assert_int_equal(lines_with("disk trouble again (99999 more like this"),
                     1);
    assert_true(lim.suppressed == 0);
}

static void test_limit_flush(void **state)
{
    struct akv_log_limit lim = {0};

    (void)state;
    akv_log_limited(&lim, AKV_LOG_WARNING, "client over limit");
    akv_log_limited(&lim, AKV_LOG_WARNING, "client over limit");
    akv_log_limited(&lim, AKV_LOG_WARNING, "client over limit");
    akv_log_limit_flush(&lim, AKV_LOG_WARNING, "clients over limit");
    assert_int_equal(
        lines_with("clients over limit: 2 more occurrences were not logged"),
        1);
    /* Flushed: the next occurrence is logged at once. */
    akv_log_limited(&lim, AKV_LOG_WARNING, "client over limit");
    assert_int_equal(lines_with("client over limit"), 2);
    /* Nothing held back: flush writes nothing. */
    akv_log_limit_flush(&lim, AKV_LOG_WARNING, "quiet flush");
    assert_int_equal(lines_with("quiet flush"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_limit_repeats),
        cmocka_unit_test(test_limit_flush),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
