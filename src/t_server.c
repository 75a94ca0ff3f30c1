/*
 * t_server.c -- connection and server commands: PING, ECHO, QUIT, HELLO,
 * AUTH, RESET, CLIENT, TIME, LASTSAVE, SHUTDOWN, INFO, COMMAND, CONFIG,
 * DEBUG.
 *
 * What a command reports about other connections comes from the client
 * slots in the arena, since every connection is its own process.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "container.h"
#include "clients.h"
#include "lock.h"
#include "config.h"
#include "fault.h"
#include "evict.h"
#include "pages.h"
#include "ring.h"
#include "save.h"
#include "server.h"
#include "util.h"

void akv_ping_command(struct akv_client *c)
{
    if (c->argc > 2) {
        akv_reply_wrong_arity(c);
        return;
    }
    if (c->argc == 2)
        akv_reply_bulk(&c->reply, c->argv[1], c->argl[1]);
    else
        akv_reply_status(&c->reply, "PONG");
}

void akv_echo_command(struct akv_client *c)
{
    akv_reply_bulk(&c->reply, c->argv[1], c->argl[1]);
}

void akv_quit_command(struct akv_client *c)
{
    akv_reply_ok(&c->reply);
    c->close_after_reply = true;
}

void akv_time_command(struct akv_client *c)
{
    int64_t us = akv_ustime();

    akv_reply_array(&c->reply, 2);
    akv_reply_bulk_ll(&c->reply, us / 1000000);
    akv_reply_bulk_ll(&c->reply, us % 1000000);
}

/* The supervisor runs the rewrite (aof_rewrite.c); this only asks. */
void akv_bgrewriteaof_command(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;

    if (!atomic_load(&h->h_aof_on)) {
        akv_reply_error(&c->reply, "ERR Background append only file "
                                   "rewriting needs appendonly yes");
        return;
    }
    if (atomic_load(&h->h_rewrite_running)) {
        akv_reply_error(&c->reply, "ERR Background append only file "
                                   "rewriting already in progress");
        return;
    }
    atomic_store(&h->h_rewrite_req, 1);
    akv_reply_status(&c->reply, "Background append only file rewriting "
                                "started");
}

void akv_lastsave_command(struct akv_client *c)
{
    akv_reply_int(&c->reply, atomic_load(&c->ctx.a->hdr->h_lastsave));
}

/* The supervisor's pid if it runs (its slot's liveness lock says so),
 * never a process that reused a dead one's pid; else 0.  A stopped
 * supervisor (SIGSTOP) still runs. */
static pid_t live_supervisor(struct akv_arena *a)
{
    pid_t sup = atomic_load(&a->hdr->h_supervisor_pid);

    for (int i = 0; sup > 0 && i < akv_slots_hwm(a); i++)
        if (atomic_load(&a->slots[i].c_pid) == sup &&
            (a->slots[i].c_flags & AKV_SLOT_INTERNAL) &&
            akv_slot_owner_alive(a, i))
            return sup;
    return 0;
}

/* A request word is set: have the supervisor serve it now, not at its
 * next tick. */
static void wake_supervisor(struct akv_arena *a)
{
    pid_t sup = live_supervisor(a);

    if (sup)
        kill(sup, SIGUSR1);
}

static void reply_no_supervisor(struct akv_client *c)
{
    akv_reply_error(&c->reply, "ERR arenakv-server is not running: the "
                               "request was not served");
}

/* Wait until the supervisor bumps *gen past `gen` (it served the request).
 * Workers outlive a supervisor that was killed; then nobody would ever
 * answer, so the wait ends with an error once no supervisor runs.  The
 * request stays set for the next supervisor.  Returns false when the
 * error is replied. */
static bool wait_for_supervisor(struct akv_client *c, _Atomic uint32_t *gen,
                                uint32_t before)
{
    while (atomic_load(gen) == before) {
        akv_futex_wait(gen, before, 100);
        if (atomic_load(gen) == before && !live_supervisor(c->ctx.a)) {
            reply_no_supervisor(c);
            return false;
        }
    }
    return true;
}

/* SAVE and BGSAVE ask the supervisor, which writes the snapshot. */
static bool request_save(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;

    if (!live_supervisor(c->ctx.a)) {
        reply_no_supervisor(c);
        return false;
    }
    if (atomic_load(&h->h_save_running) || atomic_load(&h->h_save_req)) {
        akv_reply_error(&c->reply, "ERR Background save already in "
                                   "progress");
        return false;
    }
    atomic_store(&h->h_save_req, 1);
    wake_supervisor(c->ctx.a);
    return true;
}

void akv_bgsave_command(struct akv_client *c)
{
    if (c->argc > 2 || (c->argc == 2 && !akv_arg_is(c, 1, "schedule"))) {
        akv_reply_syntax_error(c);
        return;
    }
    if (request_save(c))
        akv_reply_status(&c->reply, "Background saving started");
}

void akv_save_command(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint32_t gen = atomic_load(&h->h_save_gen);

    if (!request_save(c) || !wait_for_supervisor(c, &h->h_save_gen, gen))
        return;
    if (atomic_load(&h->h_save_status) == 0)
        akv_reply_ok(&c->reply);
    else
        akv_reply_error(&c->reply, "ERR");
}

/* ------------------------------------------------------------ auth */

static bool password_ok(struct akv_client *c, const char *p, size_t n)
{
    char pass[AKV_CFG_STR];

    if (AKV_CFG_STRING(c->ctx.a, requirepass, pass) < 0)
        return false;
    return strlen(pass) == n && memcmp(pass, p, n) == 0;
}

static bool requirepass_set(struct akv_client *c)
{
    char pass[AKV_CFG_STR];

    AKV_CFG_STRING(c->ctx.a, requirepass, pass);
    return pass[0] != '\0';
}

/* Check user/pass; replies the error and returns false on failure. */
static bool authenticate(struct akv_client *c, int ui, int pi)
{
    if (ui >= 0 && !akv_arg_is(c, ui, "default"))
        goto wrong;
    if (!requirepass_set(c)) {
        if (ui >= 0)
            return c->authed = true;
        akv_reply_error(&c->reply,
                        "ERR AUTH <password> called without any password "
                        "configured for the default user. Are you sure your "
                        "configuration is correct?");
        return false;
    }
    if (password_ok(c, c->argv[pi], c->argl[pi]))
        return c->authed = true;
wrong:
    akv_reply_error(&c->reply, "WRONGPASS invalid username-password pair or "
                               "user is disabled.");
    return false;
}

void akv_auth_command(struct akv_client *c)
{
    if (c->argc > 3) {
        akv_reply_syntax_error(c);
        return;
    }
    if (authenticate(c, c->argc == 3 ? 1 : -1, c->argc - 1))
        akv_reply_ok(&c->reply);
}

static bool valid_name(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '!' || p[i] > '~')
            return false;
    return true;
}

static void set_name(struct akv_client *c, const char *p, size_t n)
{
    struct akv_client_slot *cs = c->ctx.cs;
    size_t k = AKV_MIN(n, sizeof(cs->c_name) - 1);

    memcpy(cs->c_name, p, k);
    cs->c_name[k] = '\0';
}

static void hello_reply(struct akv_client *c)
{
    akv_reply_map(&c->reply, 7);
    akv_reply_bulk_cstr(&c->reply, "server");
    akv_reply_bulk_cstr(&c->reply, "redis");
    akv_reply_bulk_cstr(&c->reply, "version");
    akv_reply_bulk_cstr(&c->reply, AKV_REDIS_COMPAT_VERSION);
    akv_reply_bulk_cstr(&c->reply, "proto");
    akv_reply_int(&c->reply, c->reply.resp);
    akv_reply_bulk_cstr(&c->reply, "id");
    akv_reply_int(&c->reply, (long long)c->ctx.cs->c_id);
    akv_reply_bulk_cstr(&c->reply, "mode");
    akv_reply_bulk_cstr(&c->reply, "standalone");
    akv_reply_bulk_cstr(&c->reply, "role");
    akv_reply_bulk_cstr(&c->reply, "master");
    akv_reply_bulk_cstr(&c->reply, "modules");
    akv_reply_array(&c->reply, 0);
}

void akv_hello_command(struct akv_client *c)
{
    long long ver = 0;
    int j, name = -1;

    if (c->argc >= 2) {
        if (!akv_str2ll(c->argv[1], c->argl[1], &ver)) {
            akv_reply_error(&c->reply, "ERR Protocol version is not an "
                                       "integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            akv_reply_error(&c->reply, "NOPROTO unsupported protocol "
                                       "version");
            return;
        }
    }
    for (j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (akv_arg_is(c, j, "auth") && left >= 2) {
            if (!authenticate(c, j + 1, j + 2))
                return;
            j += 2;
        } else if (akv_arg_is(c, j, "setname") && left >= 1) {
            name = ++j;
            if (!valid_name(c->argv[name], c->argl[name])) {
                akv_reply_error(&c->reply, "ERR Client names cannot contain "
                                "spaces, newlines or special characters.");
                return;
            }
        } else {
            akv_reply_errorf(&c->reply, "ERR Syntax error in HELLO option "
                             "'%.128s'", c->argv[j]);
            return;
        }
    }
    if (!c->authed) {
        akv_reply_error(&c->reply, "NOAUTH HELLO must be called with the "
                                   "client already authenticated, otherwise "
                                   "the HELLO <proto> AUTH <user> <pass> "
                                   "option can be used to authenticate the "
                                   "client and select the RESP protocol "
                                   "version at the same time");
        return;
    }
    if (name >= 0)
        set_name(c, c->argv[name], c->argl[name]);
    if (ver)
        c->reply.resp = (int)ver;
    c->ctx.cs->c_resp = (uint32_t)c->reply.resp;
    hello_reply(c);
}

void akv_reset_command(struct akv_client *c)
{
    c->db = 0;
    c->ctx.cs->c_db = 0;
    c->reply.resp = 2;
    c->ctx.cs->c_resp = 2;
    c->ctx.cs->c_name[0] = '\0';
    c->authed = !requirepass_set(c);
    akv_reply_status(&c->reply, "RESET");
}

/* ------------------------------------------------------------ CLIENT */

void akv_client_id_command(struct akv_client *c)
{
    akv_reply_int(&c->reply, (long long)c->ctx.cs->c_id);
}

void akv_client_setname_command(struct akv_client *c)
{
    if (!valid_name(c->argv[2], c->argl[2])) {
        akv_reply_error(&c->reply, "ERR Client names cannot contain spaces, "
                                   "newlines or special characters.");
        return;
    }
    set_name(c, c->argv[2], c->argl[2]);
    akv_reply_ok(&c->reply);
}

void akv_client_getname_command(struct akv_client *c)
{
    if (c->ctx.cs->c_name[0])
        akv_reply_bulk_cstr(&c->reply, c->ctx.cs->c_name);
    else
        akv_reply_null(&c->reply);
}

void akv_client_setinfo_command(struct akv_client *c)
{
    struct akv_client_slot *cs = c->ctx.cs;
    char *dst;
    size_t cap, n = c->argl[3];

    if (akv_arg_is(c, 2, "lib-name")) {
        dst = cs->c_lib_name;
        cap = sizeof(cs->c_lib_name);
    } else if (akv_arg_is(c, 2, "lib-ver")) {
        dst = cs->c_lib_ver;
        cap = sizeof(cs->c_lib_ver);
    } else {
        akv_reply_errorf(&c->reply, "ERR Unrecognized option '%.128s'",
                         c->argv[2]);
        return;
    }
    if (!valid_name(c->argv[3], n)) {
        akv_reply_errorf(&c->reply, "ERR %s cannot contain spaces, newlines "
                         "or special characters.",
                         dst == cs->c_lib_name ? "lib-name" : "lib-ver");
        return;
    }
    n = AKV_MIN(n, cap - 1);
    memcpy(dst, c->argv[3], n);
    dst[n] = '\0';
    akv_reply_ok(&c->reply);
}

void akv_client_info_line(struct akv_arena *a, int slot, char *buf,
                          size_t len)
{
    struct akv_client_slot *cs = &a->slots[slot];
    int64_t now = akv_mstime();

    snprintf(buf, len,
             "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld "
             "flags=N db=%u sub=0 psub=0 ssub=0 multi=-1 qbuf=0 "
             "qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 "
             "oll=0 omem=%llu tot-mem=%llu events=r cmd=%s user=default "
             "redir=-1 resp=%u lib-name=%s lib-ver=%s pid=%d\n",
             (unsigned long long)cs->c_id, cs->c_addr, cs->c_laddr,
             slot, cs->c_name, (long long)((now - cs->c_ctime_ms) / 1000),
             (long long)((now - atomic_load(&cs->c_last_ms)) / 1000),
             cs->c_db,
             (unsigned long long)atomic_load(&cs->c_omem),
             (unsigned long long)atomic_load(&cs->c_mem),
             cs->c_cmd[0] ? cs->c_cmd : "NULL", cs->c_resp,
             cs->c_lib_name, cs->c_lib_ver, (int)atomic_load(&cs->c_pid));
}

void akv_client_info_command(struct akv_client *c)
{
    char line[1024];

    akv_client_info_line(c->ctx.a, c->ctx.slot, line, sizeof(line));
    akv_reply_verbatim(&c->reply, line, strlen(line), "txt");
}

/* CLIENT LIST [TYPE type] [ID id...]: which slots to list.  Every
 * connection here is a normal client, so other types list nothing. */
static int client_list_filter(struct akv_client *c, bool *normal,
                              bool *by_id)
{
    *normal = true;
    *by_id = false;
    if (c->argc == 4 && akv_arg_is(c, 2, "type")) {
        if (akv_arg_is(c, 3, "normal"))
            return 0;
        if (akv_arg_is(c, 3, "master") || akv_arg_is(c, 3, "replica") ||
            akv_arg_is(c, 3, "slave") || akv_arg_is(c, 3, "pubsub")) {
            *normal = false;
            return 0;
        }
        akv_reply_errorf(&c->reply, "ERR Unknown client type '%s'",
                         c->argv[3]);
        return AKV_ERR;
    }
    if (c->argc > 3 && akv_arg_is(c, 2, "id")) {
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!akv_str2ll(c->argv[j], c->argl[j], &id) || id < 1) {
                akv_reply_error(&c->reply, "ERR Invalid client ID");
                return AKV_ERR;
            }
        }
        *by_id = true;
        return 0;
    }
    if (c->argc != 2) {
        akv_reply_syntax_error(c);
        return AKV_ERR;
    }
    return 0;
}

static bool id_listed(struct akv_client *c, uint64_t id)
{
    for (int j = 3; j < c->argc; j++) {
        long long v;
        if (akv_str2ll(c->argv[j], c->argl[j], &v) && (uint64_t)v == id)
            return true;
    }
    return false;
}

void akv_client_list_command(struct akv_client *c)
{
    struct akv_arena *a = c->ctx.a;
    char line[1024];
    char *out = NULL;
    size_t n = 0, cap = 0;
    bool normal, by_id;

    if (client_list_filter(c, &normal, &by_id) < 0)
        return;
    for (int i = 0; i < akv_slots_hwm(a) && normal; i++) {
        size_t l;
        if (!atomic_load_explicit(&a->slots[i].c_pid, memory_order_relaxed) ||
            (a->slots[i].c_flags & AKV_SLOT_INTERNAL))
            continue;
        if (by_id && !id_listed(c, a->slots[i].c_id))
            continue;
        akv_client_info_line(a, i, line, sizeof(line));
        l = strlen(line);
        if (n + l > cap) {
            char *p = realloc(out, cap = (cap + l) * 2);
            if (!p)
                break;
            out = p;
        }
        memcpy(out + n, line, l);
        n += l;
    }
    akv_reply_verbatim(&c->reply, out ? out : "", n, "txt");
    free(out);
}

static int find_slot_by(struct akv_client *c, bool by_id, const char *p,
                        size_t n)
{
    struct akv_arena *a = c->ctx.a;
    long long id = 0;

    if (by_id && !akv_str2ll(p, n, &id))
        return -2;
    for (int i = 0; i < akv_slots_hwm(a); i++) {
        struct akv_client_slot *cs = &a->slots[i];
        if (!atomic_load(&cs->c_pid) || (cs->c_flags & AKV_SLOT_INTERNAL))
            continue;
        if (by_id ? cs->c_id == (uint64_t)id
                  : strlen(cs->c_addr) == n && memcmp(cs->c_addr, p, n) == 0)
            return i;
    }
    return -1;
}

void akv_client_kill_command(struct akv_client *c)
{
    bool old_style = c->argc == 3;
    int slot;

    if (old_style) {
        slot = find_slot_by(c, false, c->argv[2], c->argl[2]);
    } else if (c->argc == 4 && (akv_arg_is(c, 2, "id") ||
                                akv_arg_is(c, 2, "addr"))) {
        slot = find_slot_by(c, akv_arg_is(c, 2, "id"), c->argv[3],
                            c->argl[3]);
        if (slot == -2) {
            akv_reply_error(&c->reply, "ERR client-id should be greater "
                                       "than 0");
            return;
        }
    } else {
        akv_reply_syntax_error(c);
        return;
    }
    if (slot >= 0) {
        if (slot == c->ctx.slot)
            c->close_after_reply = true;
        else
            kill(atomic_load(&c->ctx.a->slots[slot].c_pid), SIGTERM);
    }
    if (old_style && slot < 0)
        akv_reply_error(&c->reply, "ERR No such client");
    else if (old_style)
        akv_reply_ok(&c->reply);
    else
        akv_reply_int(&c->reply, slot >= 0);
}

void akv_client_help_command(struct akv_client *c)
{
    static const char *lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "KILL <ip:port>", "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>.",
        "LIST", "    Return information about client connections.",
        "SETNAME <name>", "    Assign the name <name> to the current "
        "connection.",
        "SETINFO <option> <value>", "    Set client meta attr. Options are: "
        "LIB-NAME, LIB-VER.",
        "HELP", "    Prints this help.",
    };

    akv_reply_array(&c->reply, (long)akv_nelem(lines));
    for (size_t i = 0; i < akv_nelem(lines); i++)
        akv_reply_status(&c->reply, lines[i]);
}

/* ------------------------------------------------------------ SHUTDOWN */

void akv_shutdown_command(struct akv_client *c)
{
    pid_t sup = atomic_load(&c->ctx.a->hdr->h_supervisor_pid);

    for (int j = 1; j < c->argc; j++) {
        if (!akv_arg_is(c, j, "nosave") && !akv_arg_is(c, j, "save") &&
            !akv_arg_is(c, j, "now") && !akv_arg_is(c, j, "force") &&
            !akv_arg_is(c, j, "abort")) {
            akv_reply_syntax_error(c);
            return;
        }
    }
    for (int j = 1; j < c->argc; j++) {
        if (akv_arg_is(c, j, "nosave"))
            atomic_store(&c->ctx.a->hdr->h_shutdown_save, 1);
        else if (akv_arg_is(c, j, "save"))
            atomic_store(&c->ctx.a->hdr->h_shutdown_save, 2);
    }
    if (sup <= 0 || kill(sup, SIGTERM) < 0) {
        akv_reply_error(&c->reply, "ERR Errors trying to SHUTDOWN. Check "
                                   "logs.");
        return;
    }
    c->shutdown_requested = true;
    c->close_after_reply = true;
}

/* ------------------------------------------------------------ INFO */

struct info_buf {
    char *p;
    size_t n, cap;
};

static void infof(struct info_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void infof(struct info_buf *b, const char *fmt, ...)
{
    va_list ap;
    int w;

    for (;;) {
        va_start(ap, fmt);
        w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (w >= 0 && (size_t)w < b->cap - b->n) {
            b->n += (size_t)w;
            return;
        }
        {
            size_t cap = b->cap * 2 + (size_t)(w > 0 ? w : 0);
            char *p = realloc(b->p, cap);
            if (!p)
                return;
            b->p = p;
            b->cap = cap;
        }
    }
}

static void human_bytes(char *buf, size_t len, uint64_t n)
{
    double d = (double)n;

    if (n < 1024)
        snprintf(buf, len, "%lluB", (unsigned long long)n);
    else if (n < 1024ULL * 1024)
        snprintf(buf, len, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024)
        snprintf(buf, len, "%.2fM", d / (1024 * 1024));
    else
        snprintf(buf, len, "%.2fG", d / (1024.0 * 1024 * 1024));
}

static void info_server(struct akv_client *c, struct info_buf *b)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    struct utsname u;
    int64_t up = (akv_mstime() - h->h_created_ms) / 1000;
    char conf[AKV_CFG_PATH];

    uname(&u);
    AKV_CFG_STRING(c->ctx.a, config_file, conf);
    infof(b, "# Server\r\nredis_version:%s\r\nredis_git_sha1:00000000\r\n"
          "redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\n"
          "os:%s %s %s\r\narch_bits:64\r\nmonotonic_clock:POSIX "
          "clock_gettime\r\nmultiplexing_api:fork\r\natomicvar_api:c11-builtin"
          "\r\ngcc_version:%d.%d.0\r\nprocess_id:%d\r\nprocess_supervisor:%s"
          "\r\nrun_id:%016llx%016llx%08llx\r\ntcp_port:%lld\r\n"
          "server_time_usec:%lld\r\nuptime_in_seconds:%lld\r\n"
          "uptime_in_days:%lld\r\nhz:%lld\r\nconfigured_hz:%lld\r\n"
          "lru_clock:%u\r\nexecutable:arenakv-server\r\nconfig_file:%s\r\n"
          "io_threads_active:0\r\narenakv_version:%s\r\n"
          "arenakv_worker_pid:%d\r\n\r\n",
          AKV_REDIS_COMPAT_VERSION, u.sysname, u.release, u.machine,
          __GNUC__, __GNUC_MINOR__, (int)atomic_load(&h->h_supervisor_pid),
          getenv("NOTIFY_SOCKET") ? "systemd" : "no",
          (unsigned long long)h->h_hash_seed,
          (unsigned long long)(h->h_hash_seed * 31),
          (unsigned long long)(h->h_created_ms & 0xffffffff),
          (long long)h->h_cfg.port, (long long)akv_ustime(), (long long)up,
          (long long)(up / 86400), (long long)h->h_cfg.hz,
          (long long)h->h_cfg.hz, akv_clock(c->ctx.a), conf, PACKAGE_VERSION,
          (int)getpid());
}

static void info_clients(struct akv_client *c, struct info_buf *b)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    int n = akv_slots_in_use(c->ctx.a); /* connections only (exact) */

    infof(b, "# Clients\r\nconnected_clients:%d\r\ncluster_connections:0\r\n"
          "maxclients:%lld\r\nclient_recent_max_input_buffer:0\r\n"
          "client_recent_max_output_buffer:0\r\nblocked_clients:0\r\n"
          "tracking_clients:0\r\nclients_in_timeout_table:0\r\n\r\n",
          n < 1 ? 1 : n, (long long)h->h_cfg.maxclients);
}

static void info_memory(struct akv_client *c, struct info_buf *b)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint64_t used = atomic_load(&h->h_used);
    uint64_t rss = akv_pages_inuse_bytes(c->ctx.a) + h->h_pages_off;
    char hu[32], hr[32], hm[32];

    human_bytes(hu, sizeof(hu), used);
    human_bytes(hr, sizeof(hr), rss);
    human_bytes(hm, sizeof(hm), (uint64_t)h->h_cfg.maxmemory);
    infof(b, "# Memory\r\nused_memory:%llu\r\nused_memory_human:%s\r\n"
          "used_memory_rss:%llu\r\nused_memory_rss_human:%s\r\n"
          "used_memory_dataset:%llu\r\nmaxmemory:%lld\r\n"
          "maxmemory_human:%s\r\nmaxmemory_policy:%s\r\n"
          "mem_fragmentation_ratio:%.2f\r\nmem_allocator:arenakv-slab\r\n"
          "lazyfree_pending_objects:%llu\r\nlazyfreed_objects:%llu\r\n"
          "arena_size:%llu\r\narena_pages_in_use:%u\r\n\r\n",
          (unsigned long long)used, hu, (unsigned long long)rss, hr,
          (unsigned long long)used, (long long)h->h_cfg.maxmemory, hm,
          akv_policy_name(h->h_cfg.maxmemory_policy),
          used ? (double)rss / (double)used : 1.0,
          (unsigned long long)akv_cont_pending(c->ctx.a, NULL),
          (unsigned long long)akv_cont_lazyfreed(c->ctx.a),
          (unsigned long long)h->h_size, h->h_pg_inuse);
}

/* The loading fields, with Redis's names. */
static void info_loading(struct akv_client *c, struct info_buf *b)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    bool loading = atomic_load(&h->h_state) == AKV_STATE_LOADING;
    uint64_t total = atomic_load(&h->h_load_total);
    uint64_t done = atomic_load(&h->h_load_done);
    int64_t start = atomic_load(&h->h_load_start);
    int64_t elapsed = akv_mstime() / 1000 - start;
    double perc = total ? (double)done * 100 / (double)total : 0;
    long long eta = done && elapsed > 0
                        ? (long long)((double)(total - done) * elapsed / done)
                        : 1;

    infof(b, "# Persistence\r\nloading:%d\r\nasync_loading:0\r\n",
          loading);
    if (loading)
        infof(b, "loading_start_time:%lld\r\nloading_total_bytes:%llu\r\n"
              "loading_rdb_used_mem:0\r\nloading_loaded_bytes:%llu\r\n"
              "loading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
              (long long)start, (unsigned long long)total,
              (unsigned long long)done, perc, eta);
}

static void info_persistence(struct akv_client *c, struct info_buf *b)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint64_t head = atomic_load(&h->h_ring_head);

    info_loading(c, b);
    infof(b, "loading_loaded_commands:%llu\r\n"
          "rdb_changes_since_last_save:%llu\r\nrdb_bgsave_in_progress:%u\r\n"
          "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
          "aof_enabled:%u\r\n"
          "aof_rewrite_in_progress:%u\r\naof_rewrite_scheduled:%u\r\n"
          "aof_last_rewrite_time_sec:%lld\r\n"
          "aof_last_bgrewrite_status:%s\r\naof_last_write_status:%s\r\n"
          "aof_current_size:%llu\r\naof_base_size:%llu\r\n"
          "aof_buffer_length:%llu\r\naof_delayed_fsync:%llu\r\n"
          "aof_ring_size:%llu\r\n\r\n",
          (unsigned long long)atomic_load(&h->h_load_keys),
          (unsigned long long)akv_dirty(c->ctx.a),
          atomic_load(&h->h_save_running),
          (long long)atomic_load(&h->h_lastsave),
          atomic_load(&h->h_save_status) == 0 ? "ok" : "err",
          atomic_load(&h->h_aof_on),
          atomic_load(&h->h_rewrite_running), atomic_load(&h->h_rewrite_req),
          (long long)(h->h_rewrite_last_ms ? h->h_rewrite_last_ms / 1000 : -1),
          atomic_load(&h->h_rewrite_status) == 0 ? "ok" : "err",
          atomic_load(&h->h_aof_write_err) == 0 ? "ok" : "err",
          (unsigned long long)h->h_aof_file_size,
          (unsigned long long)h->h_aof_base_size,
          (unsigned long long)(head - atomic_load(&h->h_ring_written)),
          (unsigned long long)atomic_load(&h->h_aof_delayed_fsync),
          (unsigned long long)h->h_ring_size);
}

static void info_stats(struct akv_client *c, struct info_buf *b)
{
    struct akv_stats *s = &c->ctx.a->hdr->h_stats;
    struct akv_slot_stats t;

    akv_stats_totals(c->ctx.a, &t);
    infof(b, "# Stats\r\ntotal_connections_received:%llu\r\n"
          "total_commands_processed:%llu\r\ninstantaneous_ops_per_sec:0\r\n"
          "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
          "rejected_connections:%llu\r\nexpired_keys:%llu\r\n"
          "evicted_keys:%llu\r\nevicted_clients:%llu\r\n"
          "keyspace_hits:%llu\r\n"
          "keyspace_misses:%llu\r\ntotal_error_replies:0\r\n"
          "expired_stale_perc:%.2f\r\nexpired_time_cap_reached_count:%llu"
          "\r\narena_repairs:%llu\r\ndead_clients_reaped:%llu\r\n"
          "client_output_buffer_limit_disconnections:%llu\r\n\r\n",
          (unsigned long long)atomic_load(&s->st_connections),
          (unsigned long long)atomic_load(&t.ss_commands),
          (unsigned long long)atomic_load(&t.ss_net_in),
          (unsigned long long)atomic_load(&t.ss_net_out),
          (unsigned long long)atomic_load(&s->st_rejected_conn),
          (unsigned long long)atomic_load(&s->st_expired),
          (unsigned long long)atomic_load(&s->st_evicted),
          (unsigned long long)atomic_load(&s->st_evicted_clients),
          (unsigned long long)atomic_load(&t.ss_hits),
          (unsigned long long)atomic_load(&t.ss_misses),
          atomic_load(&s->st_stale_perc_x100) / 100.0,
          (unsigned long long)atomic_load(&s->st_expire_cap),
          (unsigned long long)atomic_load(&s->st_repairs),
          (unsigned long long)atomic_load(&s->st_reaped),
          (unsigned long long)atomic_load(&s->st_obuf_closed));
}

static void info_replication(struct akv_client *c, struct info_buf *b)
{
    (void)c;
    infof(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
          "master_failover_state:no-failover\r\nmaster_repl_offset:0\r\n\r\n");
}

static void info_cpu(struct akv_client *c, struct info_buf *b)
{
    struct rusage ru;

    (void)c;
    getrusage(RUSAGE_SELF, &ru);
    infof(b, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
          "\r\n",
          (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec,
          (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
}

static void info_keyspace(struct akv_client *c, struct info_buf *b)
{
    struct akv_arena *a = c->ctx.a;

    infof(b, "# Keyspace\r\n");
    for (uint32_t db = 0; db < a->hdr->h_ndbs; db++) {
        uint8_t pdb = a->hdr->h_dbmap[db];
        unsigned long long keys = 0, exp = 0;
        for (int si = 0; si < AKV_NSTRIPES; si++) {
            keys += __atomic_load_n(&a->stripes[si].s_keys[pdb],
                                    __ATOMIC_RELAXED);
            exp += __atomic_load_n(&a->stripes[si].s_expires[pdb],
                                   __ATOMIC_RELAXED);
        }
        if (keys)
            infof(b, "db%u:keys=%llu,expires=%llu,avg_ttl=%lld\r\n", db,
                  keys, exp,
                  exp ? (long long)atomic_load(
                            &a->hdr->h_stats.st_avg_ttl[pdb]) : 0LL);
    }
    infof(b, "\r\n");
}

struct info_section {
    const char *name;
    void (*fn)(struct akv_client *, struct info_buf *);
    bool is_default;
};

static const struct info_section sections[] = {
    {"server", info_server, true},       {"clients", info_clients, true},
    {"memory", info_memory, true},       {"persistence", info_persistence, true},
    {"stats", info_stats, true},         {"replication", info_replication, true},
    {"cpu", info_cpu, true},             {"keyspace", info_keyspace, true},
};

static bool section_wanted(struct akv_client *c, const struct info_section *s)
{
    if (c->argc == 1)
        return s->is_default;
    for (int j = 1; j < c->argc; j++)
        if (akv_arg_is(c, j, s->name) || akv_arg_is(c, j, "all") ||
            akv_arg_is(c, j, "everything") ||
            (akv_arg_is(c, j, "default") && s->is_default))
            return true;
    return false;
}

void akv_info_command(struct akv_client *c)
{
    struct info_buf b = {malloc(4096), 0, 4096};

    if (!b.p) {
        akv_reply_oom(c);
        return;
    }
    b.p[0] = '\0';
    for (size_t i = 0; i < akv_nelem(sections); i++)
        if (section_wanted(c, &sections[i]))
            sections[i].fn(c, &b);
    if (b.n >= 2)
        b.n -= 2; /* no blank line after the last section */
    akv_reply_verbatim(&c->reply, b.p, b.n, "txt");
    free(b.p);
}

/* ------------------------------------------------------------ COMMAND */

static void reply_flags(struct akv_client *c, const struct akv_command *cmd)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {AKV_CMD_WRITE, "write"},   {AKV_CMD_READONLY, "readonly"},
        {AKV_CMD_DENYOOM, "denyoom"}, {AKV_CMD_ADMIN, "admin"},
        {AKV_CMD_NOAUTH, "no_auth"}, {AKV_CMD_LOADING, "loading"},
        {AKV_CMD_STALE, "stale"},   {AKV_CMD_FAST, "fast"},
    };
    int n = 0;

    for (size_t i = 0; i < akv_nelem(names); i++)
        n += (cmd->flags & names[i].bit) != 0;
    akv_reply_set(&c->reply, n);
    for (size_t i = 0; i < akv_nelem(names); i++)
        if (cmd->flags & names[i].bit)
            akv_reply_status(&c->reply, names[i].name);
}

static void reply_command_info(struct akv_client *c,
                               const struct akv_command *cmd)
{
    char cat[32];
    int nsub = 0;

    akv_reply_array(&c->reply, 10);
    akv_reply_bulk_cstr(&c->reply, cmd->fullname ? cmd->fullname : cmd->name);
    akv_reply_int(&c->reply, cmd->arity);
    reply_flags(c, cmd);
    akv_reply_int(&c->reply, cmd->first_key);
    akv_reply_int(&c->reply, cmd->last_key);
    akv_reply_int(&c->reply, cmd->key_step);
    snprintf(cat, sizeof(cat), "@%s", cmd->group ? cmd->group : "server");
    if (strcmp(cat, "@generic") == 0)
        snprintf(cat, sizeof(cat), "@keyspace");
    akv_reply_set(&c->reply, 1);
    akv_reply_status(&c->reply, cat);
    akv_reply_set(&c->reply, 0);
    akv_reply_array(&c->reply, 0);
    if (cmd->subcommands)
        while (cmd->subcommands[nsub].name)
            nsub++;
    akv_reply_array(&c->reply, nsub);
    for (int i = 0; i < nsub; i++)
        reply_command_info(c, &cmd->subcommands[i]);
}

void akv_command_command(struct akv_client *c)
{
    size_t n = akv_command_count();

    if (c->argc == 1) {
        akv_reply_array(&c->reply, (long)n);
        for (size_t i = 0; i < n; i++)
            reply_command_info(c, &akv_commands[i]);
    } else if (akv_arg_is(c, 1, "count") && c->argc == 2) {
        akv_command_count_command(c);
    } else if (akv_arg_is(c, 1, "info")) {
        akv_command_info_command(c);
    } else if (akv_arg_is(c, 1, "docs")) {
        akv_command_docs_command(c);
    } else if (akv_arg_is(c, 1, "list")) {
        akv_command_list_command(c);
    } else if (akv_arg_is(c, 1, "count")) {
        akv_reply_error(&c->reply, "ERR wrong number of arguments for "
                                   "'command|count' command");
    } else {
        akv_reply_errorf(&c->reply,
                         "ERR unknown subcommand '%.128s'. Try COMMAND HELP.",
                         c->argv[1]);
    }
}

void akv_command_count_command(struct akv_client *c)
{
    akv_reply_int(&c->reply, (long long)akv_command_count());
}

void akv_command_list_command(struct akv_client *c)
{
    size_t n = akv_command_count();

    akv_reply_array(&c->reply, (long)n);
    for (size_t i = 0; i < n; i++)
        akv_reply_bulk_cstr(&c->reply, akv_commands[i].name);
}

void akv_command_info_command(struct akv_client *c)
{
    if (c->argc == 2) {
        size_t n = akv_command_count();
        akv_reply_array(&c->reply, (long)n);
        for (size_t i = 0; i < n; i++)
            reply_command_info(c, &akv_commands[i]);
        return;
    }
    akv_reply_array(&c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        const struct akv_command *cmd =
            akv_lookup_command(c->argv[j], c->argl[j]);
        if (cmd)
            reply_command_info(c, cmd);
        else
            akv_reply_null_array(&c->reply);
    }
}

static void reply_command_doc(struct akv_client *c,
                              const struct akv_command *cmd)
{
    int nsub = 0;

    if (cmd->subcommands)
        while (cmd->subcommands[nsub].name)
            nsub++;
    akv_reply_bulk_cstr(&c->reply, cmd->fullname ? cmd->fullname : cmd->name);
    akv_reply_map(&c->reply, nsub ? 4 : 3);
    akv_reply_bulk_cstr(&c->reply, "summary");
    akv_reply_bulk_cstr(&c->reply, cmd->summary ? cmd->summary : "");
    akv_reply_bulk_cstr(&c->reply, "since");
    akv_reply_bulk_cstr(&c->reply, "1.0.0");
    akv_reply_bulk_cstr(&c->reply, "group");
    akv_reply_bulk_cstr(&c->reply, cmd->group ? cmd->group : "server");
    if (nsub) {
        akv_reply_bulk_cstr(&c->reply, "subcommands");
        akv_reply_map(&c->reply, nsub);
        for (int i = 0; i < nsub; i++)
            reply_command_doc(c, &cmd->subcommands[i]);
    }
}

void akv_command_docs_command(struct akv_client *c)
{
    size_t n = akv_command_count();

    if (c->argc == 2) {
        akv_reply_map(&c->reply, (long)n);
        for (size_t i = 0; i < n; i++)
            reply_command_doc(c, &akv_commands[i]);
        return;
    }
    {
        size_t at = akv_reply_defer(&c->reply);
        long found = 0;
        for (int j = 2; j < c->argc; j++) {
            const struct akv_command *cmd =
                akv_lookup_command(c->argv[j], c->argl[j]);
            if (!cmd)
                continue;
            reply_command_doc(c, cmd);
            found++;
        }
        akv_reply_set_map_len(&c->reply, at, found);
    }
}

/* ------------------------------------------------------------ CONFIG */

void akv_config_get_command(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    size_t at = akv_reply_defer(&c->reply);
    char val[AKV_CFG_PATH + 32];
    long found = 0;
    const char *name;

    if (akv_lock(c->ctx.a, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) < 0) {
        akv_reply_error(&c->reply, "ERR the arena is poisoned");
        return;
    }
    for (size_t i = 0; (name = akv_config_name(i)) != NULL; i++) {
        bool match = false;
        for (int j = 2; j < c->argc && !match; j++)
            match = akv_glob_match(c->argv[j], c->argl[j], name, strlen(name),
                                   true);
        if (!match)
            continue;
        akv_config_render(&h->h_cfg, i, val, sizeof(val));
        akv_reply_bulk_cstr(&c->reply, name);
        akv_reply_bulk_cstr(&c->reply, val);
        found++;
    }
    akv_unlock(c->ctx.a, AKV_LOCK_CFG, 0);
    akv_reply_set_map_len(&c->reply, at, found);
}

/* enable-protected-configs: yes, or local for a loopback client. */
static int config_set_flags(struct akv_client *c)
{
    int64_t e = c->ctx.a->hdr->h_cfg.enable_protected_configs;

    if (e == AKV_ENABLE_YES || (e == AKV_ENABLE_LOCAL && c->local))
        return AKV_CFG_LIVE | AKV_CFG_PROTECTED_OK;
    return AKV_CFG_LIVE;
}

static int config_set_one(struct akv_client *c, struct akv_config *cfg, int j,
                          char *err, size_t errlen)
{
    char name[128], value[AKV_CFG_PATH];
    const char *argv1[1] = {value};

    if (c->argl[j] >= sizeof(name) || c->argl[j + 1] >= sizeof(value)) {
        snprintf(err, errlen, "argument too long");
        return -1;
    }
    memcpy(name, c->argv[j], c->argl[j]);
    name[c->argl[j]] = '\0';
    memcpy(value, c->argv[j + 1], c->argl[j + 1]);
    value[c->argl[j + 1]] = '\0';
    return akv_config_set(cfg, name, 1, argv1, config_set_flags(c), err,
                          errlen);
}

void akv_config_set_command(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    struct akv_config next;
    char err[256];

    if (c->argc % 2) {
        akv_reply_wrong_arity(c);
        return;
    }
    for (int j = 2; j < c->argc; j += 2) {
        if (akv_config_find(c->argv[j]) < 0 ||
            strlen(c->argv[j]) != c->argl[j]) {
            akv_reply_errorf(&c->reply, "ERR Unknown option or number of "
                             "arguments for CONFIG SET - '%.128s'",
                             c->argv[j]);
            return;
        }
    }
    if (akv_lock(c->ctx.a, AKV_LOCK_CFG, 0, AKV_LOCK_WAIT) < 0) {
        akv_reply_error(&c->reply, "ERR the arena is poisoned");
        return;
    }
    next = h->h_cfg;
    for (int j = 2; j < c->argc; j += 2) {
        if (config_set_one(c, &next, j, err, sizeof(err)) < 0) {
            akv_unlock(c->ctx.a, AKV_LOCK_CFG, 0);
            akv_reply_errorf(&c->reply, "ERR CONFIG SET failed (possibly "
                             "related to argument '%.128s') - %s",
                             c->argv[j], err);
            return;
        }
    }
    akv_cfg_publish_locked(c->ctx.a, &next);
    akv_unlock(c->ctx.a, AKV_LOCK_CFG, 0);
    /* A lower maxmemory takes effect now, as in Redis. */
    if (next.maxmemory > 0 &&
        atomic_load(&h->h_used) > (uint64_t)next.maxmemory)
        akv_evict_until(&c->ctx, &c->evict_op, (uint64_t)next.maxmemory, 0);
    akv_reply_ok(&c->reply);
}

void akv_config_resetstat_command(struct akv_client *c)
{
    struct akv_stats *s = &c->ctx.a->hdr->h_stats;

    atomic_store(&s->st_connections, 0);
    atomic_store(&s->st_expired, 0);
    atomic_store(&s->st_evicted, 0);
    atomic_store(&s->st_rejected_conn, 0);
    akv_stats_reset(c->ctx.a);
    akv_reply_ok(&c->reply);
}

/* The supervisor rewrites the file (config_rewrite.c); this asks and
 * waits, as SAVE does. */
void akv_config_rewrite_command(struct akv_client *c)
{
    struct akv_hdr *h = c->ctx.a->hdr;
    uint32_t gen = atomic_load(&h->h_cfgrw_gen);
    int32_t st;

    atomic_store(&h->h_cfgrw_req, 1);
    wake_supervisor(c->ctx.a);
    if (!wait_for_supervisor(c, &h->h_cfgrw_gen, gen))
        return;
    st = atomic_load(&h->h_cfgrw_status);
    if (st == 0)
        akv_reply_ok(&c->reply);
    else if (st < 0)
        akv_reply_error(&c->reply, "ERR The server is running without a "
                                   "config file");
    else
        akv_reply_errorf(&c->reply, "ERR Rewriting config file: %s",
                         strerror(st));
}

void akv_config_help_command(struct akv_client *c)
{
    static const char *lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their "
        "values.",
        "SET <directive> <value>", "    Set the configuration <directive> to "
        "<value>.",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "REWRITE", "    Rewrite the configuration file.",
        "HELP", "    Prints this help.",
    };

    akv_reply_array(&c->reply, (long)akv_nelem(lines));
    for (size_t i = 0; i < akv_nelem(lines); i++)
        akv_reply_status(&c->reply, lines[i]);
}

/* ------------------------------------------------------------ DEBUG */

static void debug_report(void *ctx, const char *msg)
{
    struct akv_client *c = ctx;
    akv_reply_bulk_cstr(&c->reply, msg);
}

/* DEBUG CHECK-ARENA: walk every stripe and the page table. */
static void debug_check(struct akv_client *c)
{
    size_t at = akv_reply_defer(&c->reply);
    long n = 0;

    for (int si = 0; si < AKV_NSTRIPES; si++) {
        if (akv_stripe_lock(&c->ctx, si) < 0)
            break;
        n += akv_stripe_check_locked(c->ctx.a, si, debug_report, c);
        akv_stripe_unlock(&c->ctx, si);
    }
    n += akv_pages_check(c->ctx.a, debug_report, c);
    akv_reply_set_array_len(&c->reply, at, n);
}

/* DEBUG FAULT-IO <point> <EIO|ENOSPC|EDQUOT|OFF> [count]: the next
 * `count` attempts (default: until OFF) of the supervisor's I/O at
 * point (aof-write, aof-fsync, save, rewrite) fail with that errno. */
static void debug_fault_io(struct akv_client *c)
{
    static const struct { const char *name; int err; } errs[] = {
        {"off", 0}, {"eio", EIO}, {"enospc", ENOSPC}, {"edquot", EDQUOT},
    };
    char name[32];
    long long count = -1;
    int point, err = -1;

    snprintf(name, sizeof(name), "%.*s", (int)AKV_MIN(c->argl[2], 31),
             c->argv[2]);
    point = akv_io_point_find(name);
    for (size_t i = 0; i < akv_nelem(errs); i++)
        if (akv_arg_is(c, 3, errs[i].name))
            err = errs[i].err;
    if (point < 0 || err < 0) {
        akv_reply_error(&c->reply, "ERR unknown I/O fault point or errno");
        return;
    }
    if (c->argc == 5 && akv_arg_ll(c, 4, &count) < 0)
        return;
    akv_io_fault_arm(c->ctx.a, point, err,
                     (int)AKV_MAX(AKV_MIN(count, INT32_MAX), -1));
    akv_reply_ok(&c->reply);
}

void akv_debug_command(struct akv_client *c)
{
    int64_t dbg = c->ctx.a->hdr->h_cfg.enable_debug_command;

    if (dbg == AKV_ENABLE_NO || (dbg == AKV_ENABLE_LOCAL && !c->local)) {
        akv_reply_error(&c->reply, "ERR DEBUG command not allowed. If the "
                        "enable-debug-command option is set to \"local\", you "
                        "can run it from a local connection, otherwise you "
                        "need to set this option in the configuration file, "
                        "and then restart the server.");
        return;
    }
    if (akv_arg_is(c, 1, "fault") && (c->argc == 3 || c->argc == 4)) {
        long long n = 1;
        char name[64];
        if (c->argc == 4 && akv_arg_ll(c, 3, &n) < 0)
            return;
        snprintf(name, sizeof(name), "%.*s", (int)AKV_MIN(c->argl[2], 63),
                 c->argv[2]);
        if (!akv_fault_arm(name, (long)n)) {
            akv_reply_error(&c->reply, "ERR unknown fault point");
            return;
        }
        akv_reply_ok(&c->reply);
    } else if (akv_arg_is(c, 1, "fault-io") &&
               (c->argc == 4 || c->argc == 5)) {
        debug_fault_io(c);
    } else if (akv_arg_is(c, 1, "check-arena") && c->argc == 2) {
        debug_check(c);
    } else if (akv_arg_is(c, 1, "sleep") && c->argc == 3) {
        double secs;
        if (!akv_str2d(c->argv[2], c->argl[2], &secs)) {
            akv_reply_error(&c->reply, "ERR value is not a valid float");
            return;
        }
        usleep((useconds_t)(secs * 1e6));
        akv_reply_ok(&c->reply);
    } else if (akv_arg_is(c, 1, "set-active-expire") && c->argc == 3) {
        long long on;
        if (akv_arg_ll(c, 2, &on) < 0)
            return;
        atomic_store(&c->ctx.a->hdr->h_active_expire_off, on == 0);
        akv_reply_ok(&c->reply);
    } else if (akv_arg_is(c, 1, "faults") && c->argc == 2) {
        int n = 0;
        while (akv_fault_points[n])
            n++;
        akv_reply_array(&c->reply, n);
        for (int i = 0; i < n; i++)
            akv_reply_bulk_cstr(&c->reply, akv_fault_points[i]);
    } else {
        akv_reply_errorf(&c->reply, "ERR unknown subcommand '%.128s'. Try "
                         "DEBUG HELP.", c->argv[1]);
    }
}
