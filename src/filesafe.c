/*
 * filesafe.c -- the rules for files that every arenakv process trusts:
 * the arena (shared memory that every worker maps and believes), the AOF
 * directory and its files, and the snapshot.
 *
 * A file one of them reads was written by us, so a file planted by
 * someone else (another local user creating /dev/shm/arenakv-6379
 * before the server starts) or one others may write (mode 0666) would
 * let them forge data or corrupt every process that maps it.  So:
 *
 *   - what we trust is owned by our effective user and writable by
 *     nobody else; in shared-group mode (arena-shared-group yes, for
 *     workers running as other members of the service's group) its
 *     group may write too;
 *   - what we create is created with O_EXCL | O_NOFOLLOW (a link planted
 *     at the name is never followed) and given 0600 (0660) by fchmod, so
 *     the umask cannot widen it;
 *   - a directory we create files in is private or sticky, so nobody
 *     else can swap our files for theirs.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "filesafe.h"

static bool shared_group;

void akv_filesafe_init(bool shared)
{
    shared_group = shared;
}

bool akv_filesafe_shared_group(void)
{
    return shared_group;
}

mode_t akv_file_mode(void)
{
    return shared_group ? 0660 : 0600;
}

mode_t akv_file_umask(void)
{
    return shared_group ? 007 : 077;
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];

    if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
        snprintf(buf, len, "%s", res->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

/* In shared-group mode a member of the file's group may own it. */
static bool in_group(gid_t gid)
{
    gid_t groups[256];
    int n;

    if (gid == getegid())
        return true;
    n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

int akv_check_private(const struct stat *st, const char *path, bool dir,
                      char *why, size_t whylen)
{
    mode_t bad = shared_group ? S_IWOTH : (S_IWGRP | S_IWOTH);
    bool owner_ok = st->st_uid == geteuid() ||
                    (shared_group && in_group(st->st_gid));
    char own[64], me[64];

    if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "%s is not a %s", path,
                 dir ? "directory" : "regular file");
        return -EPERM;
    }
    if (owner_ok && !(st->st_mode & bad))
        return 0;
    snprintf(why, whylen, "%s is owned by %s with mode %04o, but it must "
             "be owned by %s and writable by nobody else%s",
             path, user_name(st->st_uid, own, sizeof(own)),
             (unsigned)(st->st_mode & 07777),
             user_name(geteuid(), me, sizeof(me)),
             shared_group ? " but its group" : "");
    return -EPERM;
}

int akv_check_private_path(const char *path, bool dir, bool must_exist,
                           char *why, size_t whylen)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(why, whylen, "%s is a symbolic link: refusing to follow "
                 "it", path);
        return -EPERM;
    }
    return akv_check_private(&st, path, dir, why, whylen);
}

int akv_check_parent_dir(const char *file, char *why, size_t whylen)
{
    char dir[1024];
    char *slash;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s", file);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &st) < 0) {
        snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        return -errno;
    }
    if ((st.st_mode & S_ISVTX) || !(st.st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    return akv_check_private(&st, dir, true, why, whylen);
}

int akv_create_private(const char *path, int flags)
{
    int fd;

    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              akv_file_mode());
    if (fd < 0)
        return -errno;
    if (fchmod(fd, akv_file_mode()) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return -e;
    }
    return fd;
}
