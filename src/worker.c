/*
 * worker.c -- serving one connection: read, parse, dispatch, reply.
 *
 * The same loop runs however the connection arrived (forked by the
 * supervisor, handed over by systemd, or on stdin/stdout under inetd).  It
 * reads into one buffer, runs every complete command in it, and writes all
 * their replies with one write() -- pipelined clients pay one read and one
 * write per batch.  The buffer grows only to hold a large bulk argument,
 * up to client-query-buffer-limit.
 *
 * A protocol error gets Redis's error reply and closes the connection;
 * nothing a client sends can reach another connection, since the only
 * shared state is the arena and every change to it goes through the op
 * API.
 */
#include "build-config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clients.h"
#include "lock.h"
#include "log.h"
#include "protect.h"
#include "ring.h"
#include "server.h"
#include "worker.h"

#define READ_CHUNK 16384

static volatile sig_atomic_t worker_stop;

static void on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: read() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

static void format_addr(const struct sockaddr_storage *ss, char *buf,
                        size_t len)
{
    char host[64] = "?";
    int port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        snprintf(buf, len, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        snprintf(buf, len, "%s:%d", host, port);
    } else {
        snprintf(buf, len, "/unix");
    }
}

/* Returns whether the peer is local (protect.c). */
static bool record_peer(struct akv_client_slot *cs, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int one = 1;
    bool local = true;

    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        format_addr(&ss, cs->c_addr, sizeof(cs->c_addr));
        local = akv_addr_is_local((struct sockaddr *)&ss);
    } else {
        snprintf(cs->c_addr, sizeof(cs->c_addr), "stdin");
    }
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        format_addr(&ss, cs->c_laddr, sizeof(cs->c_laddr));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return local;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = {fd, POLLOUT, 0};
                poll(&pfd, 1, 1000);
                continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool flush_reply(struct akv_client *c)
{
    bool ok = true;

    /* appendfsync always: no reply before an fsync covers the writes it
     * acknowledges.  One wait covers a whole pipelined batch, and one
     * fsync by the drainer covers every worker waiting (group commit). */
    if (c->ctx.aof_wait) {
        if (c->ctx.a->hdr->h_cfg.appendfsync == AKV_FSYNC_ALWAYS)
            akv_ring_wait_durable(c->ctx.a, c->ctx.slot, c->ctx.aof_wait);
        c->ctx.aof_wait = 0;
    }
    if (c->reply.len) {
        ok = write_all(c->fd_out, c->reply.buf, c->reply.len);
        akv_slot_count(&c->ctx.cs->c_stats.ss_net_out, c->reply.len);
        c->reply.len = 0;
    }
    if (c->reply.cap > 1024 * 1024) {
        /* Give back what one huge reply took. */
        free(c->reply.buf);
        c->reply.buf = NULL;
        c->reply.cap = 0;
    }
    return ok && !c->reply.oom;
}

struct rbuf {
    char *p;
    size_t start; /* first byte of the command being parsed */
    size_t len;   /* bytes held */
    size_t cap;
};

/* Make room to read: compact, then grow to what the parser wants. */
static bool make_room(struct akv_client *c, struct rbuf *b)
{
    size_t want = AKV_MAX(c->parser.want, (b->len - b->start) + READ_CHUNK);
    int64_t limit = c->ctx.a->hdr->h_cfg.client_query_buffer_limit;

    if (b->start) {
        memmove(b->p, b->p + b->start, b->len - b->start);
        b->len -= b->start;
        b->start = 0;
    }
    if ((int64_t)want > limit + READ_CHUNK) {
        akv_log(AKV_LOG_WARNING, "Closing client that reached max query "
                "buffer length (%zu bytes)", want);
        return false;
    }
    if (want > b->cap) {
        size_t cap = b->cap * 2 > want ? b->cap * 2 : want;
        char *p = realloc(b->p, cap);
        if (!p)
            return false;
        b->p = p;
        b->cap = cap;
    }
    return true;
}

/* Run every complete command in the buffer.  Returns false to close. */
static bool run_commands(struct akv_client *c, struct rbuf *b)
{
    for (;;) {
        int r = akv_parse(&c->parser, b->p + b->start, b->len - b->start);
        if (r == AKV_PARSE_NEED)
            return true;
        if (r == AKV_PARSE_ERROR) {
            akv_reply_errorf(&c->reply, "ERR %s", c->parser.err);
            atomic_fetch_add(&c->ctx.a->hdr->h_stats.st_proto_errors, 1);
            return false;
        }
        if (r == AKV_PARSE_DONE) {
            c->argc = c->parser.argc;
            c->argv = c->parser.argv;
            c->argl = c->parser.argl;
            akv_dispatch(c);
        }
        b->start += c->parser.used;
        if (c->close_after_reply)
            return false;
        if (c->reply.len > 64 * 1024 && !flush_reply(c))
            return false;
    }
}

static void serve_loop(struct akv_client *c)
{
    struct rbuf b = {malloc(READ_CHUNK), 0, 0, READ_CHUNK};
    int64_t timeout_s;

    if (!b.p)
        return;
    while (!worker_stop) {
        ssize_t n;
        if (!make_room(c, &b))
            break;
        timeout_s = c->ctx.a->hdr->h_cfg.timeout;
        if (timeout_s > 0) {
            struct pollfd pfd = {c->fd_in, POLLIN, 0};
            int pr = poll(&pfd, 1, (int)AKV_MIN(timeout_s * 1000, 1 << 30));
            if (pr == 0)
                break; /* idle longer than `timeout` */
            if (pr < 0 && errno == EINTR)
                continue;
        }
        n = read(c->fd_in, b.p + b.len, b.cap - b.len);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break;
        }
        b.len += (size_t)n;
        akv_slot_count(&c->ctx.cs->c_stats.ss_net_in, (uint64_t)n);
        if (!run_commands(c, &b)) {
            flush_reply(c);
            break;
        }
        if (!flush_reply(c))
            break;
    }
    free(b.p);
}

static void client_init(struct akv_client *c, struct akv_arena *a, int slot,
                        int fd_in, int fd_out)
{
    memset(c, 0, sizeof(*c));
    c->ctx.a = a;
    c->ctx.slot = slot;
    c->ctx.cs = &a->slots[slot];
    c->fd_in = fd_in;
    c->fd_out = fd_out;
    {
        char pass[AKV_CFG_STR];
        /* Poisoned (unreadable) counts as set: refuse rather than admit. */
        c->authed = AKV_CFG_STRING(a, requirepass, pass) == 0 &&
                    pass[0] == '\0';
    }
    akv_reply_init(&c->reply);
    akv_parser_init(&c->parser, a->hdr->h_cfg.proto_max_bulk_len);
    akv_op_init(&c->op, &c->ctx);
}

static void client_free(struct akv_client *c)
{
    akv_reply_free(&c->reply);
    akv_parser_free(&c->parser);
    free(c->op.st);
    free(c->evict_op.st);
    free(c->ctx.aof_buf);
}

static int refuse(int fd, const char *msg)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "-ERR %s\r\n", msg);

    write_all(fd, line, (size_t)n);
    return 1;
}

int akv_worker_serve(struct akv_arena *a, int fd_in, int fd_out)
{
    struct akv_client c;
    int slot;

    install_signals();
    atomic_fetch_add(&a->hdr->h_stats.st_connections, 1);
    if (akv_slots_in_use(a) > a->hdr->h_cfg.maxclients ||
        (slot = akv_slot_claim(a)) < 0) {
        atomic_fetch_add(&a->hdr->h_stats.st_rejected_conn, 1);
        return refuse(fd_out, "max number of clients reached");
    }
    client_init(&c, a, slot, fd_in, fd_out);
    c.local = record_peer(c.ctx.cs, fd_in);
    /* c.authed is true exactly when there is no password. */
    if (akv_protected_mode_denies(a->hdr->h_cfg.protected_mode != 0,
                                  !c.authed, c.local))
        write_all(fd_out, akv_protected_mode_msg,
                  strlen(akv_protected_mode_msg));
    else
        serve_loop(&c);
    client_free(&c);
    akv_slot_release(a, slot);
    return 0;
}

int akv_worker_refuse(int fd, const char *msg)
{
    return refuse(fd, msg);
}
