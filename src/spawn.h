/*
 * spawn.h -- one worker process per accepted connection, and the list of
 * processes a parent forked.
 */
#ifndef AKV_SPAWN_H
#define AKV_SPAWN_H

#include <sys/types.h>

#include "arena.h"

/* The processes a parent forked and has not reaped yet, so that shutdown
 * signals them and nothing else (kill(0, ...) would also hit whatever
 * shares the process group, such as the shell pipeline that started it). */
struct akv_children {
    pid_t *pids;
    int n, cap;
};

void akv_children_add(struct akv_children *ch, pid_t pid);
/* Reap every child that has exited; `exited` (may be NULL) is called for
 * each, after it left the list. */
void akv_children_reap(struct akv_children *ch,
                       void (*exited)(void *arg, pid_t pid, int status),
                       void *arg);
/* SIGTERM every child and wait for them, at most timeout_ms. */
void akv_children_stop(struct akv_children *ch, int timeout_ms);

/* The signals of a process that forks workers: SIGPIPE ignored; SIGCHLD,
 * SIGTERM and SIGINT blocked and read from the returned signalfd
 * (non-blocking, close-on-exec), or -1. */
int akv_spawn_signalfd(void);

/* Accept one connection on lfd and fork its worker, which serves it on
 * the arena and exits.  In the child, `close_fds` lists descriptors of the
 * parent it must not keep (nfds of them).  Returns false when there was
 * no connection to accept. */
bool akv_spawn_worker(struct akv_arena *a, int lfd, struct akv_children *ch,
                      const int *close_fds, int nfds);

#endif
