/*
 * filesafe.h -- who may own and write the files every process trusts.
 */
#ifndef AKV_FILESAFE_H
#define AKV_FILESAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Shared-group mode (arena-shared-group yes): files made here are 0660
 * (others, made under akv_file_umask(), at most 0640 or 0750) and
 * files writable by their group are accepted.  Per process; set before
 * the first file is created or checked. */
void akv_filesafe_init(bool shared_group);
bool akv_filesafe_shared_group(void);
/* 0600, or 0660 in shared-group mode. */
mode_t akv_file_mode(void);
/* The supervisor's umask: 077, or 007 in shared-group mode, so files
 * made 0644 become 0600 (0640) and directories made 0755 become 0700
 * (0750) whatever umask it inherited. */
mode_t akv_file_umask(void);

/* Whether st (of path) may be trusted: a regular file (or, with dir, a
 * directory) owned by this process's user and writable by nobody else
 * (its group only in shared-group mode).  Returns 0, or -EPERM with a
 * message naming the file, its owner and its mode in why. */
int akv_check_private(const struct stat *st, const char *path, bool dir,
                      char *why, size_t whylen);
/* The same for a path, not following a final symbolic link.  A missing
 * path is 0 (nothing to trust yet): -ENOENT only if must_exist. */
int akv_check_private_path(const char *path, bool dir, bool must_exist,
                           char *why, size_t whylen);
/* A directory that holds a file we create: private to us, or sticky
 * (as /dev/shm and /tmp), so that nobody else can replace our files. */
int akv_check_parent_dir(const char *file, char *why, size_t whylen);

/* Create path afresh (an old file or link there is removed) with
 * O_EXCL | O_NOFOLLOW and akv_file_mode() whatever the umask.  Returns
 * the descriptor (flags: O_RDWR or O_WRONLY, O_CLOEXEC added) or -errno. */
int akv_create_private(const char *path, int flags);

#endif
