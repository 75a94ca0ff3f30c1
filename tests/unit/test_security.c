/*
 * test_security.c -- unit tests for the decisions behind the security
 * defaults: which peers protected mode serves (protect.c), which files
 * may be trusted and how new ones are made (filesafe.c), protected
 * configs (config.c) and CONFIG REWRITE's text (config_rewrite.c).
 */
#include "build-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_rewrite.h"
#include "filesafe.h"
#include "protect.h"

static bool local4(const char *ip)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};

    assert_int_equal(inet_pton(AF_INET, ip, &s4.sin_addr), 1);
    return akv_addr_is_local((struct sockaddr *)&s4);
}

static bool local6(const char *ip)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

    assert_int_equal(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
    return akv_addr_is_local((struct sockaddr *)&s6);
}

static void test_local_addresses(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};

    (void)state;
    assert_true(local4("127.0.0.1"));
    assert_true(local4("127.0.0.2"));
    assert_true(local4("127.255.255.254"));
    assert_false(local4("128.0.0.1"));
    assert_false(local4("10.0.0.1"));
    assert_false(local4("192.0.2.2"));
    assert_false(local4("0.0.0.0"));
    assert_true(local6("::1"));
    assert_true(local6("::ffff:127.0.0.1"));
    assert_false(local6("::ffff:10.1.2.3"));
    assert_false(local6("fd00::2"));
    assert_false(local6("::2"));
    assert_true(akv_addr_is_local((struct sockaddr *)&un));
    assert_true(akv_addr_is_local(NULL));
}

static void test_protected_mode_decision(void **state)
{
    (void)state;
    /* Only the one combination Redis refuses. */
    assert_true(akv_protected_mode_denies(true, false, false));
    assert_false(akv_protected_mode_denies(true, false, true));
    assert_false(akv_protected_mode_denies(true, true, false));
    assert_false(akv_protected_mode_denies(false, false, false));
    assert_false(akv_protected_mode_denies(false, true, true));
    /* The reply is one RESP error line. */
    assert_memory_equal(akv_protected_mode_msg, "-DENIED Redis is running", 24);
    assert_string_equal(akv_protected_mode_msg +
                            strlen(akv_protected_mode_msg) - 2, "\r\n");
    assert_ptr_equal(strchr(akv_protected_mode_msg, '\n'),
                     akv_protected_mode_msg + strlen(akv_protected_mode_msg) - 1);
}

static struct stat fake(uid_t uid, gid_t gid, mode_t mode)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_uid = uid;
    st.st_gid = gid;
    st.st_mode = mode;
    return st;
}

static void test_check_private(void **state)
{
    uid_t me = geteuid(), other = me == 65534 ? 65533 : 65534;
    gid_t g = getegid();
    struct stat st;
    char why[600];

    (void)state;
    akv_filesafe_init(false);
    st = fake(me, g, S_IFREG | 0600);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)), 0);
    st = fake(me, g, S_IFREG | 0644);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)), 0);
    st = fake(me, g, S_IFREG | 0666);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)),
                     -EPERM);
    assert_non_null(strstr(why, "/a is owned by"));
    assert_non_null(strstr(why, "mode 0666"));
    st = fake(me, g, S_IFREG | 0620);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)),
                     -EPERM);
    st = fake(other, g, S_IFREG | 0600);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)),
                     -EPERM);
    assert_non_null(strstr(why, "mode 0600"));
    st = fake(me, g, S_IFDIR | 0700);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)),
                     -EPERM); /* not a regular file */
    assert_int_equal(akv_check_private(&st, "/a", true, why, sizeof(why)), 0);
    /* Shared-group mode: the group may write, and own it. */
    akv_filesafe_init(true);
    st = fake(me, g, S_IFREG | 0660);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)), 0);
    st = fake(other, g, S_IFREG | 0660);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)), 0);
    st = fake(me, g, S_IFREG | 0662);
    assert_int_equal(akv_check_private(&st, "/a", false, why, sizeof(why)),
                     -EPERM);
    assert_int_equal(akv_file_mode(), 0660);
    akv_filesafe_init(false);
    assert_int_equal(akv_file_mode(), 0600);
}

static void test_create_private(void **state)
{
    char dir[] = "/tmp/akv-test-sec-XXXXXX", path[128], target[128];
    struct stat st;
    mode_t old;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    snprintf(target, sizeof(target), "%s/target", dir);
    old = umask(0);
    fd = akv_create_private(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    close(fd);
    /* A link planted at the name is replaced, its target untouched. */
    unlink(path);
    fd = open(target, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(symlink(target, path), 0);
    fd = akv_create_private(path, O_RDWR);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 4);
    /* A link is never trusted. */
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
    {
        char why[600];
        assert_int_equal(akv_check_private_path(path, false, true, why,
                                                sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "symbolic link"));
    }
    umask(old);
    unlink(path);
    unlink(target);
    rmdir(dir);
}

static void test_protected_configs(void **state)
{
    struct akv_config cfg;
    const char *argv[1] = {"x.sqlite"};
    char err[256];

    (void)state;
    akv_config_defaults(&cfg);
    assert_int_equal(cfg.protected_mode, 1);
    assert_int_equal(cfg.enable_protected_configs, AKV_ENABLE_NO);
    assert_int_equal(akv_config_set(&cfg, "dbfilename", 1, argv, AKV_CFG_LIVE,
                                    err, sizeof(err)), -1);
    assert_string_equal(err, "can't set protected config");
    assert_int_equal(akv_config_set(&cfg, "dir", 1, argv, AKV_CFG_LIVE, err,
                                    sizeof(err)), -1);
    assert_string_equal(err, "can't set protected config");
    assert_int_equal(akv_config_set(&cfg, "dbfilename", 1, argv,
                                    AKV_CFG_LIVE | AKV_CFG_PROTECTED_OK, err,
                                    sizeof(err)), 0);
    assert_string_equal(cfg.dbfilename, "x.sqlite");
    assert_int_equal(akv_config_set(&cfg, "dir", 1, argv,
                                    AKV_CFG_LIVE | AKV_CFG_PROTECTED_OK, err,
                                    sizeof(err)), -1);
    assert_string_equal(err, "can't set immutable config");
    argv[0] = "a/b";
    assert_int_equal(akv_config_set(&cfg, "dbfilename", 1, argv, 0, err,
                                    sizeof(err)), -1);
    assert_string_equal(err, "dbfilename can't be a path, just a filename");
    /* A config file sets them freely. */
    argv[0] = "/var/lib/x";
    assert_int_equal(akv_config_set(&cfg, "dir", 1, argv, 0, err,
                                    sizeof(err)), 0);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_config_rewrite(void **state)
{
    char path[] = "/tmp/akv-test-conf-XXXXXX";
    const char *text =
        "# a comment that stays\n"
        "\n"
        "maxmemory 10mb\n"
        "rdbcompression yes\n"
        "hz 10\n"
        "  hz 20\n"
        "timeout 0\n"
        "# Generated by CONFIG REWRITE\n"
        "requirepass old\n";
    struct akv_config cfg;
    char err[512];
    struct stat st;
    char *out;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, 0640);
    close(fd);
    akv_config_defaults(&cfg);
    assert_int_equal(akv_config_load_file(&cfg, path, err, sizeof(err)), 0);
    cfg.maxmemory = 20 << 20;
    cfg.maxmemory_policy = AKV_MM_ALLKEYS_LRU;
    snprintf(cfg.requirepass, sizeof(cfg.requirepass), "new \"pw\"");
    snprintf(cfg.logfile, sizeof(cfg.logfile), "/var/log/a.log");
    assert_int_equal(akv_config_rewrite(path, &cfg), 0);
    out = slurp(path);
    assert_string_equal(out,
        "# a comment that stays\n"
        "\n"
        "maxmemory 20mb\n"
        "rdbcompression yes\n"
        "hz 20\n"
        "timeout 0\n"
        "# Generated by CONFIG REWRITE\n"
        "requirepass \"new \\\"pw\\\"\"\n"
        "maxmemory-policy allkeys-lru\n"
        "logfile \"/var/log/a.log\"\n");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    /* What it wrote loads back to the same values; a second rewrite
     * changes nothing. */
    {
        struct akv_config back;
        akv_config_defaults(&back);
        assert_int_equal(akv_config_load_file(&back, path, err, sizeof(err)),
                         0);
        assert_string_equal(back.requirepass, "new \"pw\"");
        assert_int_equal(back.maxmemory, 20 << 20);
        assert_int_equal(back.hz, 20);
        assert_int_equal(akv_config_rewrite(path, &back), 0);
        assert_string_equal(slurp(path), out);
    }
    assert_int_equal(akv_config_rewrite("/nonexistent/dir/x.conf", &cfg),
                     -ENOENT);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_addresses),
        cmocka_unit_test(test_protected_mode_decision),
        cmocka_unit_test(test_check_private),
        cmocka_unit_test(test_create_private),
        cmocka_unit_test(test_protected_configs),
        cmocka_unit_test(test_config_rewrite),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
