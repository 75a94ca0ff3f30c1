/*
 * spawner_main.c -- arenakv-spawner: accepts the connections of a
 * standalone arenakv-server and forks one worker for each.
 *
 * The supervisor starts it (fork and exec) with its listening sockets as
 * descriptors 3 and up and the arena's path.  It exists because creating
 * and ending a process costs in proportion to what the forking process
 * has mapped: the supervisor maps SQLite and libsystemd (which brings six
 * more libraries) and runs threads, while this program maps libc and the
 * arena only, so each worker forked here starts and exits faster
 * (docs/performance.md has the measurement).  It keeps no state but the
 * list of its workers.
 *
 * Signals.  SIGTERM or SIGINT (the supervisor shuts down): stop accepting,
 * SIGTERM the workers, wait up to 5 s for them, exit.  When the
 * supervisor dies the kernel sends SIGKILL (PR_SET_PDEATHSIG): the
 * listening sockets close with this process, and each worker finishes its
 * connection, as it would if the supervisor had forked it.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "filesafe.h"
#include "log.h"
#include "spawn.h"

#define MAX_LISTENERS 8
#define FIRST_FD 3
#define ACCEPT_BATCH 64

struct spawner {
    struct akv_arena arena;
    struct akv_children children;
    int lfd[MAX_LISTENERS];
    int nlfd;
    int sigfd;
    int close_in_child[MAX_LISTENERS + 1];
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: arenakv-spawner --listen-fds N --arena FILE [--loglevel L]\n"
"                       [--logfile F]\n"
"\n"
"Started by arenakv-server in standalone mode, not by hand: accepts the\n"
"connections on the N listening sockets it inherits (descriptors 3 and\n"
"up) and forks one worker process per connection on the arena FILE.\n");
}

static int take_listeners(struct spawner *sp, int n)
{
    if (n < 1 || n > MAX_LISTENERS)
        return -1;
    for (int i = 0; i < n; i++) {
        struct stat st;
        int fd = FIRST_FD + i;
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
            return -1;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        /* accept until EAGAIN: a batch per wake-up */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        sp->lfd[sp->nlfd] = fd;
        sp->close_in_child[sp->nlfd++] = fd;
    }
    return 0;
}

static int setup_signals(struct spawner *sp)
{
    sp->sigfd = akv_spawn_signalfd();
    sp->close_in_child[sp->nlfd] = sp->sigfd;
    return sp->sigfd < 0 ? -1 : 0;
}

static void worker_exited(void *arg, pid_t pid, int status)
{
    (void)arg;
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
        akv_log(AKV_LOG_NOTICE, "Worker %d killed by signal %d", (int)pid,
                WTERMSIG(status));
}

/* Reaps workers; false when SIGTERM or SIGINT says to stop. */
static bool handle_signals(struct spawner *sp)
{
    struct signalfd_siginfo si;

    while (read(sp->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            akv_children_reap(&sp->children, worker_exited, NULL);
        else
            return false;
    }
    return true;
}

static void serve(struct spawner *sp)
{
    for (;;) {
        struct pollfd pfd[MAX_LISTENERS + 1];

        pfd[0].fd = sp->sigfd;
        pfd[0].events = POLLIN;
        for (int i = 0; i < sp->nlfd; i++) {
            pfd[i + 1].fd = sp->lfd[i];
            pfd[i + 1].events = POLLIN;
        }
        if (poll(pfd, (nfds_t)sp->nlfd + 1, -1) < 0 && errno != EINTR)
            return;
        if ((pfd[0].revents & POLLIN) && !handle_signals(sp))
            return;
        for (int i = 0; i < sp->nlfd; i++) {
            if (!(pfd[i + 1].revents & POLLIN))
                continue;
            for (int k = 0; k < ACCEPT_BATCH; k++)
                if (!akv_spawn_worker(&sp->arena, sp->lfd[i], &sp->children,
                                      sp->close_in_child, sp->nlfd + 1))
                    break;
        }
    }
}

int main(int argc, char **argv)
{
    static struct spawner sp;
    struct akv_config cfg;
    char err[512];
    const char *why;
    int nfds = 0, out = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("arenakv-spawner %s\n", PACKAGE_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--listen-fds") && i + 1 < argc) {
            nfds = atoi(argv[++i]);
            continue;
        }
        argv[++out] = argv[i];
    }
    akv_config_defaults(&cfg);
    if (akv_config_load_argv(&cfg, out + 1, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "arenakv-spawner: %s\n", err);
        return 2;
    }
    akv_log_init('C', (int)cfg.loglevel, cfg.logfile);
    if (take_listeners(&sp, nfds) < 0) {
        akv_log(AKV_LOG_WARNING, "arenakv-spawner: expected %d listening "
                "socket(s) from descriptor %d on", nfds, FIRST_FD);
        return 2;
    }
    akv_filesafe_init(cfg.arena_shared_group != 0);
    if (akv_arena_attach(&sp.arena, cfg.arena, &why) < 0) {
        akv_log(AKV_LOG_WARNING, "arenakv-spawner: %s: %s", cfg.arena, why);
        return 1;
    }
    if (setup_signals(&sp) < 0)
        return 1;
    serve(&sp);
    for (int i = 0; i < sp.nlfd; i++)
        close(sp.lfd[i]);
    akv_children_stop(&sp.children, 5000);
    return 0;
}
