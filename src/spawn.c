/*
 * spawn.c -- one worker process per accepted connection, and the list of
 * processes a parent forked.
 *
 * Used by the connection spawner (spawner_main.c), which accepts for a
 * standalone server, and by the supervisor itself when the spawner
 * cannot run.  The worker is a fork of the accepting process that runs
 * akv_worker_serve() and exits: nothing in it outlives the connection.
 */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"
#include "util.h"
#include "worker.h"

void akv_children_add(struct akv_children *ch, pid_t pid)
{
    if (ch->n == ch->cap) {
        int cap = ch->cap ? ch->cap * 2 : 64;
        pid_t *p = realloc(ch->pids, (size_t)cap * sizeof(*p));
        if (!p)
            return; /* it still ends when its client or the server goes */
        ch->pids = p;
        ch->cap = cap;
    }
    ch->pids[ch->n++] = pid;
}

static void children_remove(struct akv_children *ch, pid_t pid)
{
    for (int i = 0; i < ch->n; i++) {
        if (ch->pids[i] == pid) {
            ch->pids[i] = ch->pids[--ch->n];
            return;
        }
    }
}

void akv_children_reap(struct akv_children *ch,
                       void (*exited)(void *arg, pid_t pid, int status),
                       void *arg)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        children_remove(ch, pid);
        if (exited)
            exited(arg, pid, status);
    }
}

void akv_children_stop(struct akv_children *ch, int timeout_ms)
{
    int64_t deadline = akv_monotonic_ms() + timeout_ms;

    for (int i = 0; i < ch->n; i++)
        kill(ch->pids[i], SIGTERM);
    while (ch->n > 0 && akv_monotonic_ms() < deadline) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid > 0)
            children_remove(ch, pid);
        else if (pid < 0 && errno == ECHILD)
            break;
        else
            usleep(10000);
    }
}

int akv_spawn_signalfd(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

bool akv_spawn_worker(struct akv_arena *a, int lfd, struct akv_children *ch,
                      const int *close_fds, int nfds)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    pid_t pid;

    if (fd < 0)
        return false;
    pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int i = 0; i < nfds; i++)
            close(close_fds[i]);
        akv_log_set_role('C');
        _exit(akv_worker_serve(a, fd, fd));
    }
    if (pid < 0)
        akv_log(AKV_LOG_WARNING, "fork failed: %s", strerror(errno));
    else
        akv_children_add(ch, pid);
    close(fd);
    return true;
}
