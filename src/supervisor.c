/*
 * supervisor.c -- arenakv-server: owns the arena and everything long-lived.
 *
 * Start-up: read the configuration, create the arena or re-attach the live
 * one left by a previous run (so a restart never reloads data), claim a
 * client slot of its own, mark the arena READY and tell systemd.  With a
 * port it listens and hands the sockets to arenakv-spawner, which forks a
 * worker per accepted connection (the child runs the very same
 * akv_worker_serve() that arenakv-worker runs); without the spawner it
 * accepts and forks itself.  Its
 * timer reaps the client slots of workers that died, wherever they came
 * from.  SIGTERM, SIGINT or SHUTDOWN stop it cleanly; the arena stays in
 * tmpfs for the next start.
 */
#include "build-config.h"

#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "aof.h"
#include "config_rewrite.h"
#include "container.h"
#include "filesafe.h"
#include "ring.h"
#include "lock.h"
#include "clients.h"
#include "expire.h"
#include "fault.h"
#include "keyspace.h"
#include "log.h"
#include "save.h"
#include "pages.h"
#include "spawn.h"
#include "worker.h"

#define MAX_LISTENERS 8

struct supervisor {
    struct akv_config cfg;
    struct akv_arena arena;
    struct akv_ctx ctx;
    char arena_path[AKV_CFG_PATH];
    char config_file[AKV_CFG_PATH]; /* absolute, "" if started without */
    int lfd[MAX_LISTENERS];
    int nlfd;
    int sigfd;
    struct akv_children children; /* workers forked here, the spawner */
    pid_t spawner;     /* arenakv-spawner accepting for us, or 0 */
    int spawner_starts; /* restarts in the current 10 s window */
    int64_t spawner_window_ms;
    bool stopping;
    bool reset_arena;
    bool created;      /* the arena is new: the dataset must be loaded */
    struct akv_aof aof;
    struct akv_saver saver;
    struct akv_expirer expirer;
    pthread_t loader;
    _Atomic int loaded;   /* 1: dataset loaded, AOF running; -1: failed */
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: arenakv-server [/path/to/arenakv.conf] [--name value ...]\n"
"       arenakv-server --check-arena FILE\n"
"       arenakv-server --help | --version\n"
"\n"
"A Redis-compatible key-value server: one worker process per connection,\n"
"all data in one shared-memory arena.\n"
"\n"
"Options take redis.conf names, for example:\n"
"  --port 6379            TCP port (0: do not listen; systemd socket\n"
"                         activation then starts arenakv-worker)\n"
"  --bind 127.0.0.1       addresses to listen on\n"
"  --dir DIR              working directory for data files\n"
"  --arena FILE           the shared arena (default\n"
"                         $RUNTIME_DIRECTORY/arenakv-PORT under systemd,\n"
"                         else /dev/shm/arenakv-UID/arenakv-PORT)\n"
"  --arena-size SIZE      arena file size (default: automatic)\n"
"  --maxmemory SIZE       memory limit for data (e.g. 100mb)\n"
"  --databases N          number of databases (default 16)\n"
"  --daemonize yes|no     run in the background\n"
"  --logfile FILE         log file (default: stderr or the journal)\n"
"  --loglevel LEVEL       debug, verbose, notice, warning\n"
"  --reset-arena yes      discard a live arena and start empty\n"
"\n"
"  --check-arena FILE     check an arena's consistency and exit\n"
"                         (0: clean, 1: problems found)\n"
"\n"
"See arenakv-server(8) and arenakv.conf(5).\n");
}

/* ------------------------------------------------------------ arena */

static uint64_t automatic_arena_size(const char *path, int64_t maxmemory)
{
    char dir[AKV_CFG_PATH];
    struct statvfs vfs;
    uint64_t size = 8ULL << 30, avail;
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    if (maxmemory > 0) {
        size = akv_arena_size_for(maxmemory);
        if (size >= AKV_MAX_ARENA_SIZE &&
            (uint64_t)maxmemory > AKV_MAX_ARENA_SIZE - AKV_MAX_ARENA_SIZE / 5)
            akv_log(AKV_LOG_WARNING,
                    "maxmemory %lld is more than one arena holds with room "
                    "for its overhead: an arena is at most %llu GB (32-bit "
                    "references), so it may fill (writes then get -OOM) "
                    "before maxmemory is reached; run one server per "
                    "25 GB of data instead",
                    (long long)maxmemory,
                    (unsigned long long)(AKV_MAX_ARENA_SIZE >> 30));
    }
    if (statvfs(dir, &vfs) == 0) {
        avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        if (avail && size > avail)
            size = AKV_MAX(avail - avail / 16, AKV_MIN_ARENA_SIZE);
    }
    return AKV_MIN(size, AKV_MAX_ARENA_SIZE);
}

static void describe_arena(struct supervisor *s, const char *how)
{
    struct akv_arena *a = &s->arena;
    unsigned long long keys = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++)
        keys += a->stripes[si].s_count;
    akv_log(AKV_LOG_NOTICE, "%s arena %s (%llu MB, %llu keys)", how,
            s->arena_path, (unsigned long long)(a->size >> 20), keys);
}

/* An option fixed when the arena was made: say which value is in force. */
static void warn_fixed(struct supervisor *s, const char *name, long long asked,
                       long long kept)
{
    akv_log(AKV_LOG_WARNING, "%s %lld was asked for, but the live arena %s "
            "keeps %lld (it is fixed when the arena is created; restart "
            "with --reset-arena yes, which reloads from disk, to change it)",
            name, asked, s->arena_path, kept);
}

/* The live arena keeps its data; this run's settings win except those
 * fixed when it was made (databases, arena size, ring size). */
static void adopt_live_arena(struct supervisor *s)
{
    const struct akv_config *old = &s->arena.hdr->h_cfg;
    struct akv_config next = s->cfg;

    if (s->cfg.databases != old->databases)
        warn_fixed(s, "databases", (long long)s->cfg.databases,
                   (long long)old->databases);
    if (s->cfg.arena_size > 0 &&
        ((uint64_t)s->cfg.arena_size & ~(uint64_t)(AKV_PAGE_SIZE - 1)) !=
            s->arena.size)
        warn_fixed(s, "arena-size", (long long)s->cfg.arena_size,
                   (long long)s->arena.size);
    if (s->cfg.aof_ring_size != old->aof_ring_size)
        warn_fixed(s, "aof-ring-size", (long long)s->cfg.aof_ring_size,
                   (long long)old->aof_ring_size);
    next.databases = old->databases;
    next.arena_size = old->arena_size;
    next.aof_ring_size = old->aof_ring_size;
    if (akv_lock(&s->arena, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) == 0) {
        akv_cfg_publish_locked(&s->arena, &next);
        akv_unlock(&s->arena, AKV_LOCK_CFG, 0);
    }
}

/* tmpfs or ramfs: an arena on a disk file system works, but every page
 * the workers dirty is written back to the disk. */
static void warn_disk_arena(struct supervisor *s)
{
    long fstype = 0;

    if (!akv_arena_in_memory(&s->arena, &fstype))
        akv_log(AKV_LOG_WARNING, "WARNING: the arena %s is on a disk file "
                "system (type 0x%lx), not tmpfs: the kernel will write its "
                "pages back to the disk, which slows every write. Put it "
                "in /dev/shm or $RUNTIME_DIRECTORY (--arena).",
                s->arena_path, fstype);
}

/* An arena still LOADING was left by a supervisor that failed or died
 * while loading it: it holds part of the dataset at most, so it is
 * discarded and loaded again (unless that supervisor still runs).
 * Returns 0 to keep the attached arena, -ENOENT when it was discarded,
 * -EBUSY to give up. */
static bool supervisor_alive(struct akv_arena *a, pid_t pid)
{
    for (int i = 0; pid > 0 && i < AKV_NSLOTS; i++)
        if (atomic_load(&a->slots[i].c_pid) == pid &&
            akv_slot_owner_alive(a, i))
            return true;
    return false;
}

static int discard_unloaded(struct supervisor *s)
{
    pid_t pid = atomic_load(&s->arena.hdr->h_supervisor_pid);

    if (atomic_load(&s->arena.hdr->h_state) != AKV_STATE_LOADING)
        return 0;
    if (supervisor_alive(&s->arena, pid)) {
        akv_log(AKV_LOG_WARNING, "Arena %s is being loaded by pid %d",
                s->arena_path, (int)pid);
        akv_arena_detach(&s->arena);
        return -EBUSY;
    }
    akv_log(AKV_LOG_WARNING, "Arena %s was left partly loaded: discarding "
            "it and loading again", s->arena_path);
    akv_arena_detach(&s->arena);
    unlink(s->arena_path);
    return -ENOENT;
}

static int open_arena(struct supervisor *s)
{
    const char *err = NULL;
    char why[600];
    int r;

    if (akv_arena_prepare_dir(s->arena_path, why, sizeof(why)) < 0) {
        akv_log(AKV_LOG_WARNING, "Refusing the arena %s: %s", s->arena_path,
                why);
        return -1;
    }
    if (!s->reset_arena) {
        r = akv_arena_attach(&s->arena, s->arena_path, &err);
        if (r == 0)
            r = discard_unloaded(s);
        if (r == -EBUSY)
            return -1;
        if (r == 0) {
            adopt_live_arena(s);
            describe_arena(s, "Re-attached live");
            warn_disk_arena(s);
            return 0;
        }
        if (r == -EPERM) {
            akv_log(AKV_LOG_WARNING, "Refusing to attach the arena: %s. "
                    "Remove it if it is not yours, or set --arena.", err);
            return -1;
        }
        if (r != -ENOENT) {
            akv_log(AKV_LOG_WARNING, "Cannot attach %s: %s (start with "
                    "--reset-arena yes to discard it)", s->arena_path, err);
            return -1;
        }
    }
    r = akv_arena_create(&s->arena, s->arena_path,
                         s->cfg.arena_size > 0
                             ? (uint64_t)s->cfg.arena_size
                             : automatic_arena_size(s->arena_path,
                                                    s->cfg.maxmemory),
                         &s->cfg, &err);
    if (r < 0) {
        akv_log(AKV_LOG_WARNING, "Cannot create arena %s: %s (%s)",
                s->arena_path, err, strerror(-r));
        return -1;
    }
    describe_arena(s, "Created new");
    warn_disk_arena(s);
    s->created = true;
    return 0;
}

/* The AOF directory with its files, and the snapshot, are loaded into an
 * arena every process trusts: they must be ours alone (filesafe.c). */
static int check_data_files(struct supervisor *s)
{
    char why[600], path[AKV_CFG_PATH * 2 + 2];
    const char *dir = s->cfg.appenddirname;
    struct dirent *de;
    DIR *d;
    int r;

    if ((r = akv_check_private_path(s->cfg.dbfilename, false, false, why,
                                    sizeof(why))) < 0 ||
        (r = akv_check_private_path(dir, true, false, why,
                                    sizeof(why))) < 0)
        goto refuse;
    if ((d = opendir(dir)) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL && r == 0) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        r = akv_check_private_path(path, false, false, why, sizeof(why));
    }
    closedir(d);
    if (r == 0)
        return 0;
refuse:
    akv_log(AKV_LOG_WARNING, "Refusing to load the data files in %s: %s",
            s->cfg.dir, why);
    return -1;
}

/* What was just loaded is not a change to save. */
static void mark_clean(struct supervisor *s)
{
    struct akv_slot_stats t;

    akv_stats_totals(&s->arena, &t);
    atomic_store(&s->arena.hdr->h_dirty_at_save, atomic_load(&t.ss_dirty));
}

/* Open the AOF; replay it into a new arena; start the drainer. */
static int start_aof(struct supervisor *s)
{
    struct akv_hdr *h = s->arena.hdr;
    const char *why = "";
    char msg[512];
    int64_t t0 = akv_monotonic_ms();

    if (!s->cfg.appendonly) {
        if (atomic_load(&h->h_aof_on))
            akv_log(AKV_LOG_WARNING, "appendonly is now off: writes are no "
                    "longer logged");
        atomic_store(&h->h_aof_on, 0);
        if (s->created && akv_save_load(&s->ctx, msg, sizeof(msg)) < 0) {
            akv_log(AKV_LOG_WARNING, "Cannot load %s: %s", s->cfg.dbfilename,
                    msg);
            return -1;
        }
        mark_clean(s);
        return 0;
    }
    if (akv_aof_open(&s->aof, &s->arena, s->ctx.slot, &why) < 0) {
        akv_log(AKV_LOG_WARNING, "%s (%s): %s", why, s->aof.incr,
                strerror(errno));
        return -1;
    }
    if (s->created) {
        if (akv_aof_load(&s->aof, &s->ctx, msg, sizeof(msg)) < 0) {
            akv_log(AKV_LOG_WARNING, "%s: %s. Fix it with arenakv-check-aof "
                    "--fix, or move it away.", s->aof.incr, msg);
            return -1;
        }
        akv_log(AKV_LOG_NOTICE, "DB loaded from append only file: %.3f "
                "seconds (%llu commands)", (akv_monotonic_ms() - t0) / 1000.0,
                (unsigned long long)atomic_load(&h->h_load_keys));
        mark_clean(s);
    } else if (!atomic_load(&h->h_aof_on)) {
        akv_log(AKV_LOG_WARNING, "appendonly turned on for a live arena: keys "
                "written before now are not in %s", s->aof.incr);
    }
    return akv_aof_start(&s->aof) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ sockets */

/* bind(), waiting up to a second while the address is in use: when a
 * supervisor is killed, the kernel kills its spawner too (PDEATHSIG), but
 * the spawner's listening socket closes only as that process finishes
 * exiting, which may be just after a restart tries to bind. */
static int bind_retrying(int fd, const struct sockaddr *addr, socklen_t len)
{
    for (int tries = 0;; tries++) {
        if (bind(fd, addr, len) == 0)
            return 0;
        if (errno != EADDRINUSE || tries == 20)
            return -1;
        usleep(50000);
    }
}

static int listen_on(struct supervisor *s, const char *host, bool optional)
{
    struct addrinfo hints, *res, *ai;
    char port[16];
    int r, one = 1, bound = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    snprintf(port, sizeof(port), "%lld", (long long)s->cfg.port);
    if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
        akv_log(AKV_LOG_WARNING, "Invalid bind address '%s': %s", host,
                gai_strerror(r));
        return optional ? 0 : -1;
    }
    for (ai = res; ai && s->nlfd < MAX_LISTENERS; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind_retrying(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            listen(fd, (int)s->cfg.tcp_backlog) < 0) {
            if (!optional)
                akv_log(AKV_LOG_WARNING, "Could not create server TCP "
                        "listening socket %s:%s: %s", host, port,
                        strerror(errno));
            close(fd);
            continue;
        }
        s->lfd[s->nlfd++] = fd;
        bound++;
    }
    freeaddrinfo(res);
    return bound || optional ? 0 : -1;
}

static int open_listeners(struct supervisor *s)
{
    char bind[AKV_CFG_STR];
    char *save = NULL, *tok;

    if (s->cfg.port == 0)
        return 0;
    snprintf(bind, sizeof(bind), "%s", s->cfg.bind[0] ? s->cfg.bind : "*");
    for (tok = strtok_r(bind, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        bool optional = tok[0] == '-';
        const char *host = optional ? tok + 1 : tok;
        if (strcmp(host, "*") == 0)
            host = "0.0.0.0";
        else if (strcmp(host, "::*") == 0)
            host = "::";
        if (listen_on(s, host, optional) < 0)
            return -1;
    }
    if (s->nlfd == 0) {
        akv_log(AKV_LOG_WARNING, "Failed listening on port %lld (tcp), "
                "aborting.", (long long)s->cfg.port);
        return -1;
    }
    return 0;
}

static void close_listeners(struct supervisor *s)
{
    for (int i = 0; i < s->nlfd; i++)
        close(s->lfd[i]);
    s->nlfd = 0;
}

/* ------------------------------------------------------------ workers */

/* In the child of fork(), before exec: only async-signal-safe calls.
 * Listeners go to descriptors 3.., everything else above them closes;
 * errpipe reports a failed exec. */
static void exec_spawner(struct supervisor *s, const char *path,
                         char *const argv[], int errpipe, pid_t parent)
{
    int hi[MAX_LISTENERS], e;
    sigset_t none;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(0);
    for (int i = 0; i < s->nlfd; i++)
        hi[i] = fcntl(s->lfd[i], F_DUPFD, 64);
    errpipe = fcntl(errpipe, F_DUPFD_CLOEXEC, 64 + MAX_LISTENERS);
    for (int i = 0; i < s->nlfd; i++)
        dup2(hi[i], 3 + i);
    dup2(errpipe, 3 + s->nlfd);
    fcntl(3 + s->nlfd, F_SETFD, FD_CLOEXEC);
    close_range(4 + (unsigned)s->nlfd, ~0U, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(path, argv);
    e = errno;
    if (write(3 + s->nlfd, &e, sizeof(e)) < 0) {
        /* the parent sees EOF and a dead child */
    }
    _exit(127);
}

/* arenakv-spawner beside this program (a build tree), else where it is
 * installed; ARENAKV_SPAWNER overrides both ("none": accept here). */
static bool find_spawner(char *path, size_t len)
{
    const char *env = getenv("ARENAKV_SPAWNER");
    char self[AKV_CFG_PATH - 32]; /* room for "/arenakv-spawner" */
    ssize_t n;

    if (env && *env) {
        snprintf(path, len, "%s", env);
        return strcmp(env, "none") != 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, len, "%s/arenakv-spawner", self);
            if (access(path, X_OK) == 0)
                return true;
        }
    }
    snprintf(path, len, "%s/arenakv-spawner", AKV_PKGLIBEXECDIR);
    return access(path, X_OK) == 0;
}

/* Hand accepting to arenakv-spawner: workers forked from a process that
 * maps little are cheaper to create (see spawner_main.c).  Returns false
 * when it cannot run; the supervisor then accepts itself. */
static bool start_spawner(struct supervisor *s)
{
    char path[AKV_CFG_PATH], nfds[16], level[32];
    char *argv[14];
    int p[2], err = 0, argc = 0, lvl = akv_config_find("loglevel");
    pid_t pid, self = getpid();

    if (s->nlfd == 0 || !find_spawner(path, sizeof(path)))
        return false;
    snprintf(nfds, sizeof(nfds), "%d", s->nlfd);
    akv_config_render(&s->cfg, (size_t)lvl, level, sizeof(level));
    argv[argc++] = "arenakv-spawner";
    argv[argc++] = "--listen-fds";
    argv[argc++] = nfds;
    argv[argc++] = "--arena";
    argv[argc++] = s->arena_path;
    argv[argc++] = "--loglevel";
    argv[argc++] = level;
    if (s->cfg.arena_shared_group) {
        argv[argc++] = "--arena-shared-group";
        argv[argc++] = "yes";
    }
    if (s->cfg.logfile[0]) {
        argv[argc++] = "--logfile";
        argv[argc++] = s->cfg.logfile;
    }
    argv[argc] = NULL;
    if (pipe2(p, O_CLOEXEC) < 0)
        return false;
    pid = fork();
    if (pid == 0)
        exec_spawner(s, path, argv, p[1], self);
    close(p[1]);
    if (pid > 0 && read(p[0], &err, sizeof(err)) == sizeof(err)) {
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    close(p[0]);
    if (pid < 0) {
        akv_log(AKV_LOG_WARNING, "Cannot start %s (%s): accepting "
                "connections in the supervisor", path,
                strerror(err ? err : errno));
        return false;
    }
    s->spawner = pid;
    atomic_store(&s->arena.hdr->h_spawner_pid, pid);
    akv_children_add(&s->children, pid);
    akv_log(AKV_LOG_VERBOSE, "Connections are accepted by %s (pid %d)", path,
            (int)pid);
    return true;
}

/* The spawner died while we run: start another, unless it keeps dying
 * (three times in 10 s), then accept here. */
static void spawner_exited(struct supervisor *s, int status)
{
    int64_t now = akv_monotonic_ms();

    s->spawner = 0;
    atomic_store(&s->arena.hdr->h_spawner_pid, 0);
    if (s->stopping)
        return;
    akv_log(AKV_LOG_WARNING, "The connection spawner exited (%s %d)",
            WIFSIGNALED(status) ? "signal" : "status",
            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    if (now - s->spawner_window_ms > 10000) {
        s->spawner_window_ms = now;
        s->spawner_starts = 0;
    }
    if (++s->spawner_starts > 3 || !start_spawner(s))
        akv_log(AKV_LOG_WARNING, "Accepting connections in the supervisor");
}

static void worker_exited(void *arg, pid_t pid, int status)
{
    struct supervisor *s = arg;

    if (pid == s->spawner)
        spawner_exited(s, status);
    else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
        akv_log(AKV_LOG_NOTICE, "Worker %d killed by signal %d", (int)pid,
                WTERMSIG(status));
}

/* CONFIG SET appendonly: start logging (and rewrite at once, so the base
 * holds the keys written before), or stop after draining what is logged. */
static void follow_appendonly(struct supervisor *s)
{
    struct akv_hdr *h = s->arena.hdr;
    const char *why = "";

    if (h->h_cfg.appendonly && !s->aof.running) {
        uint64_t head = atomic_load(&h->h_ring_head);
        atomic_store(&h->h_ring_written, head); /* nothing older counts */
        atomic_store(&h->h_ring_durable, head);
        atomic_store(&h->h_ring_tail, head);
        if (akv_aof_open(&s->aof, &s->arena, s->ctx.slot, &why) < 0 ||
            akv_aof_start(&s->aof) < 0) {
            akv_log(AKV_LOG_WARNING, "Cannot turn the AOF on: %s", why);
            h->h_cfg.appendonly = 0;
            return;
        }
        akv_log(AKV_LOG_NOTICE, "AOF turned on; rewriting it to capture the "
                "existing keys");
        akv_aof_rewrite_start(&s->aof);
    } else if (!h->h_cfg.appendonly && s->aof.running &&
               !atomic_load(&s->aof.rewriting)) {
        atomic_store(&h->h_aof_on, 0);
        akv_aof_stop(&s->aof);
        akv_log(AKV_LOG_NOTICE, "AOF turned off");
    }
}

/* CONFIG REWRITE, asked for by a worker. */
static void rewrite_config(struct supervisor *s)
{
    struct akv_hdr *h = s->arena.hdr;
    struct akv_config cfg;
    int r = -ENOTRECOVERABLE;

    if (!atomic_exchange(&h->h_cfgrw_req, 0))
        return;
    if (!s->config_file[0]) {
        atomic_store(&h->h_cfgrw_status, -1);
        akv_futex_wake(&h->h_cfgrw_gen);
        return;
    }
    if (akv_lock(&s->arena, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) == 0) {
        cfg = h->h_cfg;
        akv_unlock(&s->arena, AKV_LOCK_CFG, 0);
        r = akv_config_rewrite(s->config_file, &cfg);
    }
    if (r == 0)
        akv_log(AKV_LOG_NOTICE, "CONFIG REWRITE executed with success.");
    else
        akv_log(AKV_LOG_WARNING, "CONFIG REWRITE failed: %s", strerror(-r));
    atomic_store(&h->h_cfgrw_status, -r);
    akv_futex_wake(&h->h_cfgrw_gen);
}

/* What workers ask for (SAVE, BGSAVE, CONFIG REWRITE): on the timer, and
 * at once when they signal (SIGUSR1), so that SAVE does not wait for the
 * next tick. */
static void serve_requests(struct supervisor *s)
{
    rewrite_config(s);
    if (atomic_load(&s->loaded) == 1)
        akv_saver_tick(&s->saver);
}

static void periodic(struct supervisor *s)
{
    int n = akv_reap_dead_slots(&s->ctx);

    if (atomic_load(&s->loaded) == 1) {
        /* 25% of a timer period, as Redis's slow expire cycle. */
        akv_active_expire_cycle(&s->ctx, &s->expirer,
                                250000 / AKV_MAX(s->arena.hdr->h_cfg.hz, 1));
        follow_appendonly(s);
        akv_aof_rewrite_tick(&s->aof);
        /* Large containers a killed worker left half freed. */
        akv_cont_reap(&s->ctx, 64);
    }
    serve_requests(s);
    if (n)
        akv_log(AKV_LOG_VERBOSE, "Reaped %d dead client slot(s)", n);
}

/* ------------------------------------------------------------ main loop */

static bool handle_signal(struct supervisor *s)
{
    struct signalfd_siginfo si;

    while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            akv_children_reap(&s->children, worker_exited, s);
        } else if (si.ssi_signo == SIGUSR1) {
            serve_requests(s);
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            akv_log(AKV_LOG_WARNING, "Received %s scheduling shutdown...",
                    si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            return false;
        }
    }
    return true;
}

static void accept_here(struct supervisor *s, int lfd)
{
    int fds[MAX_LISTENERS + 1];

    fds[0] = s->sigfd;
    for (int i = 0; i < s->nlfd; i++)
        fds[i + 1] = s->lfd[i];
    akv_spawn_worker(&s->arena, lfd, &s->children, fds, s->nlfd + 1);
}

static void serve(struct supervisor *s)
{
    int64_t next_tick = 0;

    for (;;) {
        struct pollfd pfd[MAX_LISTENERS + 1];
        int period = (int)(1000 / AKV_MAX(s->arena.hdr->h_cfg.hz, 1));
        int64_t now = akv_monotonic_ms();

        int nl = s->spawner ? 0 : s->nlfd; /* accept here only without it */

        pfd[0].fd = s->sigfd;
        pfd[0].events = POLLIN;
        for (int i = 0; i < nl; i++) {
            pfd[i + 1].fd = s->lfd[i];
            pfd[i + 1].events = POLLIN;
        }
        if (now >= next_tick) {
            periodic(s);
            next_tick = now + period;
        }
        if (poll(pfd, (nfds_t)nl + 1, (int)(next_tick - now)) < 0 &&
            errno != EINTR)
            break;
        if ((pfd[0].revents & POLLIN) && !handle_signal(s))
            break;
        for (int i = 0; i < nl && !s->spawner; i++)
            if (pfd[i + 1].revents & POLLIN)
                accept_here(s, s->lfd[i]);
    }
}

/* The spawner takes up to 5 s to stop its own workers. */
static void stop_workers(struct supervisor *s)
{
    s->stopping = true;
    akv_children_stop(&s->children, 6000);
}

/* The spawner's set, and SIGUSR1: a worker's request (serve_requests). */
static int setup_signals(struct supervisor *s)
{
    sigset_t set;

    s->sigfd = akv_spawn_signalfd();
    if (s->sigfd < 0)
        return -1;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return signalfd(s->sigfd, &set, 0) < 0 ? -1 : 0;
}

static void write_pidfile(struct supervisor *s)
{
    FILE *f;

    if (!s->cfg.pidfile[0])
        return;
    if ((f = fopen(s->cfg.pidfile, "w")) != NULL) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
}

/* ------------------------------------------------------------ checker */

static void print_problem(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

static int check_arena(const char *path)
{
    struct akv_arena a;
    struct akv_ctx ctx = {0};
    const char *err;
    int problems = 0, slot;

    akv_log_init('K', AKV_LOG_WARNING, NULL);
    if (akv_arena_attach(&a, path, &err) < 0) {
        fprintf(stderr, "arenakv-server: %s: %s\n", path, err);
        return 2;
    }
    ctx.a = &a;
    slot = akv_slot_claim(&a);
    ctx.slot = slot;
    ctx.cs = slot >= 0 ? &a.slots[slot] : NULL;
    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (akv_stripe_lock(&ctx, si) < 0) {
            printf("stripe %d: not recoverable\n", si);
            problems++;
            continue;
        }
        problems += akv_stripe_check_locked(&a, si, print_problem, NULL);
        akv_stripe_unlock(&ctx, si);
    }
    problems += akv_pages_check(&a, print_problem, NULL);
    if (slot >= 0)
        akv_slot_release(&a, slot);
    printf("%s: %d problem(s)\n", path, problems);
    return problems ? 1 : 0;
}

/* ------------------------------------------------------------ main */

/* As redis-server: with save rules and unsaved changes, save before
 * exiting (a reboot would otherwise lose them if there is no AOF). */
static void finish_saving(struct supervisor *s)
{
    if (atomic_load(&s->saver.state)) {
        pthread_join(s->saver.thread, NULL);
        atomic_store(&s->saver.state, 0);
    }
    uint32_t how = atomic_exchange(&s->arena.hdr->h_shutdown_save, 0);

    if (!s->saver.ctx.a || how == 1)
        return;
    if (how == 2 || (s->cfg.save[0] && !s->cfg.appendonly &&
                     akv_dirty(&s->arena) > 0))
        akv_save_now(&s->saver);
}

/* ARENAKV_FAULT=point[:n] makes this process die at a fault point (the
 * crash tests of the AOF rewrite use it). */
static void arm_fault_from_env(void)
{
    const char *spec = getenv("ARENAKV_FAULT");
    char name[64];
    const char *colon;

    if (!spec || !*spec)
        return;
    colon = strchr(spec, ':');
    snprintf(name, sizeof(name), "%.*s",
             (int)(colon ? colon - spec : (long)strlen(spec)), spec);
    if (!akv_fault_arm(name, colon ? atol(colon + 1) : 1))
        fprintf(stderr, "arenakv-server: unknown fault point %s\n", name);
}

static int parse_args(struct supervisor *s, int argc, char **argv)
{
    char err[512];
    int out = 0;

    /* Strip our own non-config flags before the redis-style parsing. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reset-arena") == 0 && i + 1 < argc) {
            s->reset_arena = strcasecmp(argv[i + 1], "yes") == 0;
            i++;
            continue;
        }
        argv[++out] = argv[i];
    }
    akv_config_defaults(&s->cfg);
    if (akv_config_load_argv(&s->cfg, out + 1, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (arenakv %s) ***\n"
                "%s\n", PACKAGE_VERSION, err);
        return -1;
    }
    /* As redis-server: the first argument, if not an option, is the
     * config file; CONFIG REWRITE needs its absolute path (we chdir). */
    if (out >= 1 && argv[1][0] != '-' &&
        !realpath(argv[1], s->config_file))
        s->config_file[0] = '\0';
    snprintf(s->cfg.config_file, sizeof(s->cfg.config_file), "%s",
             s->config_file);
    akv_filesafe_init(s->cfg.arena_shared_group != 0);
    if (s->cfg.arena[0])
        snprintf(s->arena_path, sizeof(s->arena_path), "%s", s->cfg.arena);
    else
        akv_arena_default_path(s->arena_path, sizeof(s->arena_path),
                               (int)s->cfg.port);
    return 0;
}

/* Runs beside the accept loop, so that clients of a new arena get
 * -LOADING (as from redis-server) instead of waiting in the backlog. */
static void *load_dataset(void *arg)
{
    struct supervisor *s = arg;
    const char *hold = getenv("ARENAKV_LOAD_HOLD");

    /* Test hook: the load waits while this file exists, so that tests can
     * observe the LOADING state without depending on timing. */
    while (hold && *hold && access(hold, F_OK) == 0)
        usleep(10000);
    if (start_aof(s) < 0) {
        atomic_store(&s->loaded, -1);
        kill(getpid(), SIGTERM);
        return NULL;
    }
    atomic_store(&s->arena.hdr->h_state, AKV_STATE_READY);
    atomic_store(&s->loaded, 1);
    akv_log(AKV_LOG_NOTICE, "Ready to accept connections%s%lld",
            s->cfg.port ? " on port " : " (no TCP port; socket activation)",
            s->cfg.port ? (long long)s->cfg.port : 0LL);
    sd_notify(0, "READY=1\nSTATUS=Ready to accept connections");
    return NULL;
}

static int start(struct supervisor *s)
{
    if (s->cfg.dir[0] && chdir(s->cfg.dir) < 0) {
        akv_log(AKV_LOG_WARNING, "Can't chdir to '%s': %s", s->cfg.dir,
                strerror(errno));
        return -1;
    }
    if (check_data_files(s) < 0 || setup_signals(s) < 0 || open_arena(s) < 0)
        return -1;
    s->ctx.a = &s->arena;
    s->ctx.slot = akv_slot_claim(&s->arena);
    if (s->ctx.slot < 0) {
        akv_log(AKV_LOG_WARNING, "No free client slot for the supervisor");
        return -1;
    }
    s->ctx.cs = &s->arena.slots[s->ctx.slot];
    s->ctx.cs->c_flags |= 1; /* not a client: hidden from CLIENT LIST */
    atomic_store(&s->arena.hdr->h_supervisor_pid, getpid());
    akv_stripe_sweep(&s->ctx); /* repair what dead processes left */
    akv_reap_dead_slots(&s->ctx);
    akv_saver_init(&s->saver, &s->arena, s->ctx.slot);
    if (!atomic_load(&s->arena.hdr->h_lastsave))
        atomic_store(&s->arena.hdr->h_lastsave, akv_mstime() / 1000);
    if (open_listeners(s) < 0)
        return -1;
    start_spawner(s); /* before any thread exists */
    if (pthread_create(&s->loader, NULL, load_dataset, s) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static struct supervisor s;

    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
        printf("arenakv-server %s (Redis %s compatible)\n", PACKAGE_VERSION,
               AKV_REDIS_COMPAT_VERSION);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--check-arena"))
        return check_arena(argv[2]);
    if (parse_args(&s, argc, argv) < 0)
        return 1;
    arm_fault_from_env();
    /* Whatever the umask inherited: what we create is ours alone (0600
     * files, 0700 directories), or our group's in shared-group mode. */
    umask(akv_file_umask());
    if (s.cfg.daemonize && daemon(1, 0) < 0)
        return 1;
    akv_log_use_journal();
    akv_log_init('M', (int)s.cfg.loglevel, s.cfg.logfile);
    akv_log(AKV_LOG_NOTICE, "arenakv %s starting (pid %d)", PACKAGE_VERSION,
            (int)getpid());
    if (start(&s) < 0) {
        sd_notify(0, "STATUS=Failed to start");
        return 1;
    }
    write_pidfile(&s);
    serve(&s);
    sd_notify(0, "STOPPING=1");
    close_listeners(&s);
    stop_workers(&s);
    pthread_join(s.loader, NULL);
    if (atomic_load(&s.loaded) == 1) /* never save a partial dataset */
        finish_saving(&s);
    akv_aof_stop(&s.aof);
    akv_slot_release(&s.arena, s.ctx.slot);
    if (s.cfg.pidfile[0])
        unlink(s.cfg.pidfile);
    if (atomic_load(&s.loaded) < 0) {
        akv_log(AKV_LOG_WARNING, "The dataset could not be loaded; exiting");
        return 1;
    }
    akv_log(AKV_LOG_WARNING, "arenakv is now ready to exit, bye bye...");
    return 0;
}
