/*
 * test_config.c -- unit tests for config.c: memory quantities, argument
 * splitting, CONFIG SET validation and its Redis error reasons, CONFIG GET
 * rendering, config files (with include) and redis-server command lines.
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

#include "config.h"

/* ---------------------------------------------------------------- helpers */

static void render(const struct akv_config *cfg, const char *name, char *buf,
                   size_t len)
{
    int i = akv_config_find(name);

    assert_true(i >= 0);
    akv_config_render(cfg, (size_t)i, buf, len);
}

static void assert_renders(const struct akv_config *cfg, const char *name,
                           const char *want)
{
    char buf[600];

    render(cfg, name, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

/* Set one option, live (as CONFIG SET) or not (as a config file);
 * returns the reason, or "" on success. */
static const char *set_one(struct akv_config *cfg, const char *name,
                           const char *value, int live)
{
    static char err[512];
    const char *argv[1] = {value};

    err[0] = '\0';
    if (akv_config_set(cfg, name, 1, argv, live, err, sizeof(err)) == 0)
        return "";
    assert_true(err[0] != '\0');
    return err;
}

static const char *set1_file(struct akv_config *cfg, const char *name,
                             const char *value)
{
    return set_one(cfg, name, value, 0);
}

static const char *set1(struct akv_config *cfg, const char *name,
                        const char *value)
{
    return set_one(cfg, name, value, 1);
}

/* Writes text to a new temporary file; returns its path (static buffer
 * per slot). */
static const char *temp_file(int slot, const char *text)
{
    static char paths[4][64];
    int fd;

    snprintf(paths[slot], sizeof(paths[slot]), "/tmp/akvcfgXXXXXX");
    fd = mkstemp(paths[slot]);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return paths[slot];
}

/* --------------------------------------------------------- parse_memory */

static void test_parse_memory(void **state)
{
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"42", 42},
        {"42b", 42},
        {"1k", 1000},
        {"1kb", 1024},
        {"1K", 1000},
        {"1KB", 1024},
        {"2m", 2000000},
        {"2mb", 2097152},
        {"2Mb", 2097152},
        {"3g", 3000000000LL},
        {"3gb", 3221225472LL},
        {"3GB", 3221225472LL},
        {"512mb", 536870912},
        {"007", 7},
        {"", 0},   /* Redis's memtoull reads an empty number as 0 */
        {"mb", 0}, /* likewise */
        {"9223372036854775807", INT64_MAX},
    };
    static const char *const bad[] = {
        "-1", "1x", "1 mb", " 1", "1.5mb", "1tb", "+1", "0x10", "1kbb",
    };
    int64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        v = -1;
        assert_int_equal(akv_parse_memory(ok[i].in, &v), 0);
        assert_true(v == ok[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(akv_parse_memory(bad[i], &v) < 0);
    assert_true(akv_parse_memory("9223372036854775808", &v) < 0);
    assert_true(akv_parse_memory("10000000000gb", &v) < 0);
}

/* ----------------------------------------------------------- split_args */

static int split(const char *line, char **argv, size_t *lens, char *buf)
{
    return akv_split_args(line, strlen(line), argv, lens, 32, buf, 256);
}

static void test_split_plain(void **state)
{
    char *argv[32], buf[256];
    size_t lens[32];

    (void)state;
    assert_int_equal(split("  set  key\tvalue  ", argv, lens, buf), 3);
    assert_string_equal(argv[0], "set");
    assert_string_equal(argv[1], "key");
    assert_string_equal(argv[2], "value");
    assert_int_equal(lens[2], 5);
    assert_int_equal(split("", argv, lens, buf), 0);
    assert_int_equal(split("   \t ", argv, lens, buf), 0);
    /* Quotes may open in the middle of a token. */
    assert_int_equal(split("foo\"bar baz\"", argv, lens, buf), 1);
    assert_string_equal(argv[0], "foobar baz");
}

static void test_split_quotes(void **state)
{
    char *argv[32], buf[256];
    size_t lens[32];

    (void)state;
    assert_int_equal(
        split("\"a\\n\\r\\t\\b\\a\\\\\\\"\\q\" 'it\\'s' '\\n'", argv, lens,
              buf),
        3);
    assert_string_equal(argv[0], "a\n\r\t\b\a\\\"q");
    assert_string_equal(argv[1], "it's");
    assert_string_equal(argv[2], "\\n"); /* no escapes in '...' */
    assert_int_equal(split("\"\" ''", argv, lens, buf), 2);
    assert_int_equal(lens[0], 0);
    assert_int_equal(lens[1], 0);
    /* \x escapes are binary-safe: lengths count the NUL. */
    assert_int_equal(split("\"a\\x00b\\x41\\xfF\"", argv, lens, buf), 1);
    assert_int_equal(lens[0], 5);
    assert_memory_equal(argv[0], "a\0bA\xff", 5);
    /* An incomplete \x escape is an escaped 'x'. */
    assert_int_equal(split("\"\\x4\"", argv, lens, buf), 1);
    assert_string_equal(argv[0], "x4");
}

static void test_split_unbalanced(void **state)
{
    char *argv[32], buf[256];
    size_t lens[32];

    (void)state;
    assert_int_equal(split("set \"key", argv, lens, buf), -1);
    assert_int_equal(split("set 'key", argv, lens, buf), -1);
    /* A closing quote must be followed by a space or the end. */
    assert_int_equal(split("\"a\"b", argv, lens, buf), -1);
    assert_int_equal(split("'a'b", argv, lens, buf), -1);
    assert_int_equal(split("\"trailing\\", argv, lens, buf), -1);
}

static void test_split_limits(void **state)
{
    const char *line = "a b c";
    char *argv[4], buf[8], small[4];

    (void)state;
    /* Binary line: a NUL ends it, as in Redis. */
    assert_int_equal(akv_split_args("a b\0c", 5, argv, NULL, 4, buf,
                                    sizeof(buf)), 2);
    /* The length bounds the line even without a terminator. */
    assert_int_equal(akv_split_args("abcdef", 3, argv, NULL, 4, buf,
                                    sizeof(buf)), 1);
    assert_string_equal(argv[0], "abc");
    /* linelen + 1 bytes always suffice. */
    assert_int_equal(akv_split_args(line, 5, argv, NULL, 4, buf, 6), 3);
    assert_int_equal(akv_split_args(line, 5, argv, NULL, 2, buf, 6), -2);
    assert_int_equal(akv_split_args(line, 5, argv, NULL, 4, small,
                                    sizeof(small)), -2);
}

/* -------------------------------------------------------------- set/get */

static void test_defaults_render(void **state)
{
    struct akv_config cfg;

    (void)state;
    akv_config_defaults(&cfg);
    assert_renders(&cfg, "port", "6379");
    assert_renders(&cfg, "bind", "127.0.0.1 -::1");
    assert_renders(&cfg, "dir", ".");
    assert_renders(&cfg, "arena", "");
    assert_renders(&cfg, "arena-size", "0");
    assert_renders(&cfg, "maxmemory", "0");
    assert_renders(&cfg, "maxmemory-policy", "noeviction");
    assert_renders(&cfg, "maxmemory-samples", "5");
    assert_renders(&cfg, "lfu-log-factor", "10");
    assert_renders(&cfg, "lfu-decay-time", "1");
    assert_renders(&cfg, "databases", "16");
    assert_renders(&cfg, "maxclients", "10000");
    assert_renders(&cfg, "timeout", "0");
    assert_renders(&cfg, "hz", "10");
    assert_renders(&cfg, "proto-max-bulk-len", "536870912");
    assert_renders(&cfg, "client-query-buffer-limit", "1073741824");
    assert_renders(&cfg, "loglevel", "notice");
    assert_renders(&cfg, "daemonize", "no");
    assert_renders(&cfg, "logfile", "");
    assert_renders(&cfg, "pidfile", "");
    assert_renders(&cfg, "requirepass", "");
    assert_renders(&cfg, "appendonly", "no");
    assert_renders(&cfg, "appendfsync", "everysec");
    assert_renders(&cfg, "appendfilename", "appendonly.aof");
    assert_renders(&cfg, "appenddirname", "appendonlydir");
    assert_renders(&cfg, "tcp-backlog", "511");
    assert_renders(&cfg, "tcp-keepalive", "300");
    assert_renders(&cfg, "enable-debug-command", "no");
    assert_true(cfg.maxmemory_policy == AKV_MM_NOEVICTION);
    assert_true(cfg.appendfsync == AKV_FSYNC_EVERYSEC);
    assert_true(cfg.loglevel == AKV_LOG_NOTICE);
    assert_true(cfg.enable_debug_command == AKV_ENABLE_NO);
    assert_string_equal(akv_policy_name(AKV_MM_ALLKEYS_LFU), "allkeys-lfu");
    assert_string_equal(akv_policy_name(99), "unknown");
}

/* client-output-buffer-limit and maxmemory-clients: Redis's defaults,
 * rendering, partial updates and error reasons. */
static void test_client_limits(void **state)
{
    struct akv_config cfg;
    const char *words[8] = {"pubsub", "1mb", "1mb", "5", "normal", "1",
                            "2", "3"};
    char err[256];

    (void)state;
    akv_config_defaults(&cfg);
    assert_renders(&cfg, "client-output-buffer-limit",
                   "normal 0 0 0 slave 268435456 67108864 60 "
                   "pubsub 33554432 8388608 60");
    assert_renders(&cfg, "maxmemory-clients", "0");
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "normal 1mb 2mb 3"), "");
    assert_renders(&cfg, "client-output-buffer-limit",
                   "normal 1048576 2097152 3 slave 268435456 67108864 60 "
                   "pubsub 33554432 8388608 60");
    assert_true(cfg.obuf_limits[AKV_OBUF_NORMAL][AKV_OBUF_SECONDS] == 3);
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "REPLICA 1 2 3 slave 4 5 +6"), "");
    assert_true(cfg.obuf_limits[AKV_OBUF_REPLICA][AKV_OBUF_HARD] == 4);
    assert_true(cfg.obuf_limits[AKV_OBUF_REPLICA][AKV_OBUF_SECONDS] == 6);
    /* As a config file gives it: one word per argument. */
    assert_int_equal(akv_config_set(&cfg, "client-output-buffer-limit", 8,
                                    words, 0, err, sizeof(err)), 0);
    assert_renders(&cfg, "client-output-buffer-limit",
                   "normal 1 2 3 slave 4 5 6 pubsub 1048576 1048576 5");
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "normal 1 1"),
                        "Wrong number of arguments in buffer limit "
                        "configuration.");
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "normal 1 1  1"),
                        "Wrong number of arguments in buffer limit "
                        "configuration.");
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "master 1 1 1"),
                        "Invalid client class specified in buffer limit "
                        "configuration.");
    assert_string_equal(set1(&cfg, "client-output-buffer-limit",
                             "normal 9 9 9 pubsub 1 1 -1"),
                        "Error in hard, soft or soft_seconds setting in "
                        "buffer limit configuration.");
    /* A failed value changes nothing, not even the classes before it. */
    assert_true(cfg.obuf_limits[AKV_OBUF_NORMAL][AKV_OBUF_HARD] == 1);
    assert_string_equal(set1(&cfg, "maxmemory-clients", "5%"), "");
    assert_renders(&cfg, "maxmemory-clients", "5%");
    cfg.maxmemory = 1000;
    assert_true(akv_maxmemory_clients(&cfg) == 50);
    assert_string_equal(set1(&cfg, "maxmemory-clients", "1mb"), "");
    assert_renders(&cfg, "maxmemory-clients", "1048576");
    assert_true(akv_maxmemory_clients(&cfg) == 1048576);
    assert_string_equal(set1(&cfg, "maxmemory-clients", "150%"),
                        "percentage argument must be less or equal to 100");
    assert_string_equal(set1(&cfg, "maxmemory-clients", "-5"),
                        "argument must be a memory or percent value");
    assert_string_equal(set1(&cfg, "maxmemory-clients", "5 %"),
                        "argument must be a memory or percent value");
}

static void test_names_and_find(void **state)
{
    size_t n = 0;

    (void)state;
    while (akv_config_name(n))
        n++;
    assert_true(n >= 28);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(akv_config_find(akv_config_name(i)), (int)i);
    assert_int_equal(akv_config_find("MaxMemory"),
                     akv_config_find("maxmemory"));
    assert_int_equal(akv_config_find("no-such-option"), -1);
    assert_int_equal(akv_config_find("rdbcompression"), -1); /* ignored */
    assert_true(akv_config_find("save") >= 0);
    assert_true(akv_config_is_immutable((size_t)akv_config_find("port")));
    assert_false(
        akv_config_is_immutable((size_t)akv_config_find("maxmemory")));
}

static void test_set_values(void **state)
{
    struct akv_config cfg;

    (void)state;
    akv_config_defaults(&cfg);
    assert_string_equal(set1(&cfg, "maxmemory", "100mb"), "");
    assert_true(cfg.maxmemory == 104857600);
    assert_renders(&cfg, "maxmemory", "104857600");
    assert_string_equal(set1(&cfg, "MAXMEMORY", "1GB"), "");
    assert_renders(&cfg, "maxmemory", "1073741824");
    assert_string_equal(set1(&cfg, "maxmemory-policy", "ALLKEYS-LRU"), "");
    assert_true(cfg.maxmemory_policy == AKV_MM_ALLKEYS_LRU);
    assert_renders(&cfg, "maxmemory-policy", "allkeys-lru");
    assert_string_equal(set1_file(&cfg, "appendonly", "YES"), "");
    assert_renders(&cfg, "appendonly", "yes");
    assert_string_equal(set1(&cfg, "appendfsync", "always"), "");
    assert_true(cfg.appendfsync == AKV_FSYNC_ALWAYS);
    assert_string_equal(set1(&cfg, "loglevel", "nothing"), "");
    assert_true(cfg.loglevel == AKV_LOG_NOTHING);
    assert_string_equal(set1(&cfg, "requirepass", "s3cr et"), "");
    assert_renders(&cfg, "requirepass", "s3cr et");
    assert_string_equal(set1(&cfg, "requirepass", ""), "");
    assert_renders(&cfg, "requirepass", "");
    assert_string_equal(set1(&cfg, "timeout", "2147483647"), "");
    assert_string_equal(set1(&cfg, "maxmemory", "007"), "");
    assert_true(cfg.maxmemory == 7);
    /* hz is clamped to 1..500, as Redis does. */
    assert_string_equal(set1(&cfg, "hz", "100000"), "");
    assert_renders(&cfg, "hz", "500");
    assert_string_equal(set1(&cfg, "hz", "0"), "");
    assert_renders(&cfg, "hz", "1");
    assert_string_equal(set1(&cfg, "hz", "50"), "");
    assert_renders(&cfg, "hz", "50");
}

static void test_set_errors(void **state)
{
    struct akv_config cfg, before;
    char err[512];
    const char *two[2] = {"1", "2"};

    (void)state;
    akv_config_defaults(&cfg);
    before = cfg;
    assert_string_equal(set1_file(&cfg, "appendonly", "maybe"),
                        "argument must be 'yes' or 'no'");
    assert_string_equal(
        set1(&cfg, "maxmemory-policy", "lru"),
        "argument(s) must be one of the following: volatile-lru, "
        "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, "
        "allkeys-lfu, allkeys-random, noeviction");
    assert_string_equal(set1(&cfg, "loglevel", "x"),
                        "argument(s) must be one of the following: debug, "
                        "verbose, notice, warning");
    assert_string_equal(set1(&cfg, "appendfsync", "foo"),
                        "argument(s) must be one of the following: "
                        "everysec, always, no");
    assert_string_equal(set1(&cfg, "hz", "abc"),
                        "argument couldn't be parsed into an integer");
    assert_string_equal(set1(&cfg, "timeout", "+5"),
                        "argument couldn't be parsed into an integer");
    assert_string_equal(set1(&cfg, "timeout", "05"),
                        "argument couldn't be parsed into an integer");
    assert_string_equal(set1(&cfg, "timeout", " 5"),
                        "argument couldn't be parsed into an integer");
    assert_string_equal(set1(&cfg, "timeout", "-1"),
                        "argument must be between 0 and 2147483647 "
                        "inclusive");
    assert_string_equal(set1(&cfg, "maxmemory-samples", "0"),
                        "argument must be between 1 and 64 inclusive");
    assert_string_equal(set1(&cfg, "maxmemory", "-1"),
                        "argument must be a memory value");
    assert_string_equal(set1(&cfg, "maxmemory", "1x"),
                        "argument must be a memory value");
    assert_string_equal(set1(&cfg, "proto-max-bulk-len", "10"),
                        "argument must be between 1048576 and "
                        "9223372036854775807 inclusive");
    assert_string_equal(set1(&cfg, "client-query-buffer-limit", "1000k"),
                        "argument must be between 1048576 and "
                        "9223372036854775807 inclusive");
    assert_string_equal(set1(&cfg, "port", "7000"),
                        "can't set immutable config");
    assert_string_equal(set1(&cfg, "databases", "2"),
                        "can't set immutable config");
    assert_string_equal(set1(&cfg, "enable-debug-command", "yes"),
                        "can't set immutable config");
    assert_string_equal(set1(&cfg, "no-such", "1"), "Unknown option");
    assert_int_equal(akv_config_set(&cfg, "maxmemory", 2, two, 1, err,
                                    sizeof(err)), -1);
    assert_string_equal(err, "wrong number of arguments");
    /* A failed set changes nothing. */
    assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_set_not_live(void **state)
{
    struct akv_config cfg;
    char err[512];
    const char *v[1] = {"7000"};
    const char *bind[2] = {"10.0.0.1", "::1"};
    const char *path[1] = {"dir/aof"};

    (void)state;
    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_set(&cfg, "port", 1, v, 0, err,
                                    sizeof(err)), 0);
    assert_true(cfg.port == 7000);
    assert_int_equal(akv_config_set(&cfg, "port", 1, (const char *[]){"x"},
                                    0, err, sizeof(err)), -1);
    assert_int_equal(akv_config_set(&cfg, "bind", 2, bind, 0, err,
                                    sizeof(err)), 0);
    assert_renders(&cfg, "bind", "10.0.0.1 ::1");
    assert_int_equal(akv_config_set(&cfg, "appendfilename", 1, path, 0, err,
                                    sizeof(err)), -1);
    assert_string_equal(err,
                        "appendfilename can't be a path, just a filename");
    assert_int_equal(akv_config_set(&cfg, "enable-debug-command", 1,
                                    (const char *[]){"local"}, 0, err,
                                    sizeof(err)), 0);
    assert_true(cfg.enable_debug_command == AKV_ENABLE_LOCAL);
    assert_renders(&cfg, "enable-debug-command", "local");
}

static void test_string_too_long(void **state)
{
    struct akv_config cfg;
    char big[AKV_CFG_STR + 10];

    (void)state;
    akv_config_defaults(&cfg);
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_string_equal(set1(&cfg, "requirepass", big),
                        "argument is too long (at most 255 bytes)");
    assert_renders(&cfg, "requirepass", "");
}

/* ------------------------------------------------------------ load_file */

static void test_load_file(void **state)
{
    struct akv_config cfg;
    char err[1024];
    const char *inc = temp_file(1, "maxmemory 2mb\n");
    char text[2048];

    (void)state;
    snprintf(text, sizeof(text),
             "# a comment\n"
             "\n"
             "   port 7001   \r\n"
             "bind 127.0.0.1 \"::1\"\n"
             "maxmemory-policy allkeys-lfu\n"
             "requirepass \"pa ss\\x21\"\n"
             "Daemonize yes\n"
             "save 900 1\n"
             "save \"\"\n"
             "rdbcompression yes\n"
             "lazyfree-lazy-eviction no\n"
             "client-output-buffer-limit normal 0 0 0\n"
             "include %s\n"
             "include /nonexistent/dir/*.conf\n",
             inc);
    const char *path = temp_file(0, text);

    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_load_file(&cfg, path, err, sizeof(err)), 0);
    assert_true(cfg.port == 7001);
    assert_renders(&cfg, "bind", "127.0.0.1 ::1");
    assert_true(cfg.maxmemory_policy == AKV_MM_ALLKEYS_LFU);
    assert_string_equal(cfg.requirepass, "pa ss!");
    assert_true(cfg.daemonize == 1);
    assert_true(cfg.maxmemory == 2097152);
    unlink(path);
    unlink(inc);
}

static void expect_file_error(const char *text, const char *suffix)
{
    struct akv_config cfg;
    char err[1024], want[1024];
    const char *path = temp_file(2, text);

    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_load_file(&cfg, path, err, sizeof(err)),
                     -1);
    snprintf(want, sizeof(want), "%s:%s", path, suffix);
    assert_string_equal(err, want);
    unlink(path);
}

static void test_load_file_errors(void **state)
{
    struct akv_config cfg;
    char err[1024];

    (void)state;
    expect_file_error("port 1\nfoo bar\n",
                      "2: foo: Bad directive or wrong number of arguments");
    expect_file_error("\n\nport 99999\n",
                      "3: port: argument must be between 0 and 65535 "
                      "inclusive");
    expect_file_error("port\n", "1: port: wrong number of arguments");
    expect_file_error("bind \"a\"b\n",
                      "1: Unbalanced quotes in configuration line");
    expect_file_error("rename-command FLUSHALL \"\"\n",
                      "1: rename-command: Bad directive or wrong number of "
                      "arguments");
    expect_file_error("appendonly maybe\n",
                      "1: appendonly: argument must be 'yes' or 'no'");
    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_load_file(&cfg, "/nonexistent.conf", err,
                                          sizeof(err)), -1);
    assert_string_equal(err, "can't open config file '/nonexistent.conf': "
                             "No such file or directory");
}

static void test_load_file_include_loop(void **state)
{
    struct akv_config cfg;
    char err[1024], text[256];
    const char *path = temp_file(3, "");
    FILE *fp;

    (void)state;
    /* Make the file include itself. */
    snprintf(text, sizeof(text), "include %s\n", path);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_load_file(&cfg, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nested deeper than"));
    unlink(path);
}

/* ------------------------------------------------------------ load_argv */

static int load_argv(struct akv_config *cfg, char *err, size_t errlen,
                     int argc, ...)
{
    char *argv[32];
    va_list ap;

    argv[0] = "arenakv-server";
    va_start(ap, argc);
    for (int i = 1; i <= argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return akv_config_load_argv(cfg, argc + 1, argv, err, errlen);
}

static void test_load_argv(void **state)
{
    struct akv_config cfg;
    char err[1024];
    const char *conf = temp_file(0, "port 7002\nmaxmemory 1mb\n");

    (void)state;
    akv_config_defaults(&cfg);
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 0), 0);
    assert_true(cfg.port == 6379);

    assert_int_equal(
        load_argv(&cfg, err, sizeof(err), 12, (char *)conf, "--maxmemory",
                  "3mb", "--bind", "127.0.0.1", "::1", "--save", "",
                  "--appendonly", "yes", "--requirepass", "--secret"),
        0);
    assert_true(cfg.port == 7002); /* from the file */
    assert_true(cfg.maxmemory == 3145728); /* options come after the file */
    assert_renders(&cfg, "bind", "127.0.0.1 ::1");
    assert_true(cfg.appendonly == 1);
    assert_string_equal(cfg.requirepass, "--secret");

    /* "--name value" in one word, and a bare --save before an option. */
    akv_config_defaults(&cfg);
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 4, "--port 6380",
                               "--save", "--loglevel", "warning"), 0);
    assert_true(cfg.port == 6380);
    assert_true(cfg.loglevel == AKV_LOG_WARNING);
    unlink(conf);
}

static void test_load_argv_errors(void **state)
{
    struct akv_config cfg;
    char err[1024];

    (void)state;
    akv_config_defaults(&cfg);
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 1, "--port"), -1);
    assert_string_equal(err, "--port: wrong number of arguments");
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 2, "--nope", "1"),
                     -1);
    assert_string_equal(err,
                        "--nope: Bad directive or wrong number of arguments");
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 2, "--hz", "x"), -1);
    assert_string_equal(err,
                        "--hz: argument couldn't be parsed into an integer");
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 3, "--port", "1",
                               "2"), -1);
    assert_string_equal(err, "--port: wrong number of arguments");
    assert_int_equal(load_argv(&cfg, err, sizeof(err), 1,
                               "/nonexistent.conf"), -1);
    assert_string_equal(err, "can't open config file '/nonexistent.conf': "
                             "No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_memory),
        cmocka_unit_test(test_split_plain),
        cmocka_unit_test(test_split_quotes),
        cmocka_unit_test(test_split_unbalanced),
        cmocka_unit_test(test_split_limits),
        cmocka_unit_test(test_defaults_render),
        cmocka_unit_test(test_client_limits),
        cmocka_unit_test(test_names_and_find),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_set_not_live),
        cmocka_unit_test(test_string_too_long),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_load_file_include_loop),
        cmocka_unit_test(test_load_argv),
        cmocka_unit_test(test_load_argv_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
