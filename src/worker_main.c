/*
 * worker_main.c -- arenakv-worker: serves one connection handed to it.
 *
 * The connection comes from systemd (Accept=yes socket units and
 * systemd-socket-activate --accept: sd_listen_fds() gives fd 3) or, with
 * --inetd, from stdin/stdout.  The worker attaches the arena that the
 * supervisor created and runs the same loop as the supervisor's forked
 * workers.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "arena.h"
#include "config.h"
#include "filesafe.h"
#include "log.h"
#include "worker.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: arenakv-worker [/path/to/arenakv.conf] [--arena FILE] [--inetd]\n"
"       arenakv-worker --help | --version\n"
"\n"
"Serves one client connection of an arenakv server.  The connection is\n"
"taken from systemd socket activation (Accept=yes) or, with --inetd,\n"
"from standard input and output.  The arena is the one the running\n"
"arenakv-server created (--arena, the `arena` option of the config file,\n"
"or $RUNTIME_DIRECTORY/arenakv-PORT, else\n"
"/dev/shm/arenakv-UID/arenakv-PORT).  It must be the user's own file.\n");
}

int main(int argc, char **argv)
{
    struct akv_config cfg;
    struct akv_arena arena;
    char path[AKV_CFG_PATH], err[512], msg[700];
    const char *why;
    bool inetd = false;
    int fd_in, fd_out, out = 0, n;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("arenakv-worker %s\n", PACKAGE_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--inetd")) {
            inetd = true;
            continue;
        }
        argv[++out] = argv[i];
    }
    akv_config_defaults(&cfg);
    if (akv_config_load_argv(&cfg, out + 1, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "arenakv-worker: %s\n", err);
        return 2;
    }
    akv_log_use_journal();
    akv_log_init('C', (int)cfg.loglevel, cfg.logfile);
    if (inetd) {
        fd_in = 0;
        fd_out = 1;
    } else if ((n = sd_listen_fds(1)) == 1) {
        fd_in = fd_out = SD_LISTEN_FDS_START;
    } else {
        fprintf(stderr, "arenakv-worker: no connection: expected one socket "
                "from systemd (LISTEN_FDS) or --inetd\n");
        return 2;
    }
    akv_filesafe_init(cfg.arena_shared_group != 0);
    if (cfg.arena[0])
        snprintf(path, sizeof(path), "%s", cfg.arena);
    else
        akv_arena_default_path(path, sizeof(path), (int)cfg.port);
    if (akv_arena_attach(&arena, path, &why) < 0) {
        snprintf(msg, sizeof(msg), "%s: %s", path, why);
        akv_log(AKV_LOG_WARNING, "Cannot serve a client: %s", msg);
        return akv_worker_refuse(fd_out, msg);
    }
    return akv_worker_serve(&arena, fd_in, fd_out);
}
