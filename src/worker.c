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
 * A misbehaving client costs only itself:
 *   - the socket is non-blocking and the worker waits in one ppoll() for
 *     input, room for output, a stop signal (CLIENT KILL, shutdown) or a
 *     deadline, so a client that never reads cannot pin the worker;
 *   - output that waits unread is bounded by client-output-buffer-limit
 *     (class normal) and maxmemory-clients as in Redis 7: over a limit the
 *     connection is closed.  With no limit set the worker stops reading
 *     instead (back-pressure), so its memory stays bounded either way;
 *   - `timeout` closes a connection that completed no command for that
 *     many seconds (a client trickling bytes is idle);
 *   - before AUTH, frames are limited as Redis limits them (resp.c);
 *   - every such close is logged through limiters shared by all workers
 *     (h_client_log), so a flood of them costs a line per interval.
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
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clients.h"
#include "lock.h"
#include "log.h"
#include "protect.h"
#include "ring.h"
#include "server.h"
#include "worker.h"

#define READ_CHUNK 16384
/* Without an output limit, a connection whose replies wait unread stops
 * reading past this much: back-pressure instead of Redis's unbounded
 * growth (the limits restore Redis's behaviour). */
#define OUTPUT_PAUSE (256 * 1024)
/* Reply bytes that output limits do not count (Redis's static buffer). */
#define REPLY_STATIC 16384
/* An idle connection wakes this often to notice a change of `timeout`. */
#define IDLE_TICK_MS 5000

static volatile sig_atomic_t worker_stop;

static void on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* SIGTERM (CLIENT KILL, shutdown, maxmemory-clients) and SIGINT are
 * blocked except inside ppoll(), which wait_mask unblocks: a stop request
 * is never lost between a check of worker_stop and the wait, and never
 * interrupts a command half way. */
static void install_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t stop;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, wait_mask);
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGINT);
}

/* The worker never blocks in read() or write(). */
static void set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
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

/* A blocking write, for the one line a refused connection gets. */
static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = {fd, POLLOUT, 0};
                if (poll(&pfd, 1, 1000) == 0)
                    return false;
                continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

struct rbuf {
    char *p;
    size_t start; /* first byte of the command being parsed */
    size_t len;   /* bytes held */
    size_t cap;
};

/* The connection's I/O state.  c->reply.buf[sent, len) is output not yet
 * written; the socket is non-blocking, so a client that does not read
 * never makes the worker wait in write(). */
struct wio {
    struct rbuf in;
    size_t sent;
    int64_t last_cmd_ms;   /* monotonic: the last complete command */
    int64_t soft_since_ms; /* over the soft output limit since (0: not) */
    uint64_t mem_shown;    /* c_mem as last published */
};

static struct akv_log_limit *shared_limit(struct akv_client *c, int which)
{
    return &c->ctx.a->hdr->h_client_log[which];
}

/* "id=.. addr=.. ..." of this connection, for log lines. */
static const char *client_desc(struct akv_client *c, char *buf, size_t len)
{
    akv_client_info_line(c->ctx.a, c->ctx.slot, buf, len);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static size_t pending(const struct akv_client *c, const struct wio *w)
{
    return c->reply.len - w->sent;
}

/* Publish what the buffers hold (CLIENT LIST, maxmemory-clients); true
 * when the allocation changed since the last time. */
static bool publish_mem(struct akv_client *c, struct wio *w)
{
    uint64_t mem = c->reply.cap + w->in.cap;

    atomic_store_explicit(&c->ctx.cs->c_omem, pending(c, w),
                          memory_order_relaxed);
    if (mem == w->mem_shown)
        return false;
    w->mem_shown = mem;
    atomic_store_explicit(&c->ctx.cs->c_mem, mem, memory_order_relaxed);
    return true;
}

/*
 * maxmemory-clients, as Redis 7 applies it: when the buffers of all
 * connections together pass the limit, the connection using the most is
 * closed (this one, or another worker's by the signal CLIENT KILL sends).
 * Checked only when this connection's allocation changed, which happens
 * at doublings, so the walk over the slots is rare.  Returns true when
 * this connection must close.
 */
static bool over_clients_memory(struct akv_client *c)
{
    struct akv_arena *a = c->ctx.a;
    int64_t limit = akv_maxmemory_clients(&a->hdr->h_cfg);
    uint64_t total = 0, most = 0;
    int victim = -1;
    char desc[1024];

    if (limit <= 0)
        return false;
    for (int i = 0; i < akv_slots_hwm(a); i++) {
        uint64_t m = atomic_load_explicit(&a->slots[i].c_mem,
                                          memory_order_relaxed);
        if (!atomic_load_explicit(&a->slots[i].c_pid, memory_order_relaxed))
            continue;
        total += m;
        if (m > most) {
            most = m;
            victim = i;
        }
    }
    if (total <= (uint64_t)limit || victim < 0)
        return false;
    /* The victim stays the biggest until it is gone, so later checks pick
     * it again rather than a second one; it is counted and signalled
     * once. */
    if (atomic_exchange(&a->slots[victim].c_evicting, 1) == 0) {
        akv_client_info_line(a, victim, desc, sizeof(desc));
        desc[strcspn(desc, "\n")] = '\0';
        akv_log_limited(shared_limit(c, AKV_CLOG_EVICT), AKV_LOG_VERBOSE,
                        "Evicting client: %s", desc);
        atomic_fetch_add(&a->hdr->h_stats.st_evicted_clients, 1);
        if (victim != c->ctx.slot)
            kill(atomic_load(&a->slots[victim].c_pid), SIGTERM);
    }
    return victim == c->ctx.slot;
}

/* Redis's checkClientOutputBufferLimits for a normal client: over the
 * hard limit, or over the soft one for longer than its seconds.  As in
 * Redis, the first 16 KB (its static reply buffer) do not count, so a
 * limit below that never closes a client for one small reply. */
static bool over_output_limit(struct akv_client *c, struct wio *w)
{
    const int64_t *l = c->ctx.a->hdr->h_cfg.obuf_limits[AKV_OBUF_NORMAL];
    uint64_t used = pending(c, w);
    int64_t now;

    used = used > REPLY_STATIC ? used - REPLY_STATIC : 0;
    if (l[AKV_OBUF_HARD] && used >= (uint64_t)l[AKV_OBUF_HARD])
        return true;
    if (!l[AKV_OBUF_SOFT] || used < (uint64_t)l[AKV_OBUF_SOFT]) {
        w->soft_since_ms = 0;
        return false;
    }
    now = akv_monotonic_ms();
    if (!w->soft_since_ms) {
        w->soft_since_ms = now;
        return false;
    }
    return now - w->soft_since_ms > l[AKV_OBUF_SECONDS] * 1000;
}

/* Whether output limits let this connection go on reading while output
 * waits (Redis's behaviour: the buffer grows until a limit closes it). */
static bool limits_apply(struct akv_client *c)
{
    const struct akv_config *cfg = &c->ctx.a->hdr->h_cfg;
    const int64_t *l = cfg->obuf_limits[AKV_OBUF_NORMAL];

    return l[AKV_OBUF_HARD] || l[AKV_OBUF_SOFT] ||
           akv_maxmemory_clients(cfg) > 0;
}

/* After output grew or shrank: false if a limit says close. */
static bool limits_ok(struct akv_client *c, struct wio *w)
{
    char desc[1024];

    if (c->reply.oom)
        return false;
    if (over_output_limit(c, w)) {
        akv_log_limited(shared_limit(c, AKV_CLOG_OBUF), AKV_LOG_WARNING,
                        "Client %s scheduled to be closed ASAP for "
                        "overcoming of output buffer limits.",
                        client_desc(c, desc, sizeof(desc)));
        atomic_fetch_add(&c->ctx.a->hdr->h_stats.st_obuf_closed, 1);
        return false;
    }
    if (publish_mem(c, w) && over_clients_memory(c))
        return false;
    return true;
}

/* Keep the reply buffer small: drop what was written, give back what one
 * huge reply took. */
static void compact_reply(struct akv_client *c, struct wio *w)
{
    struct akv_reply *r = &c->reply;

    if (w->sent == r->len) {
        r->len = w->sent = 0;
        if (r->cap > 1024 * 1024) {
            free(r->buf);
            r->buf = NULL;
            r->cap = 0;
        }
    } else if (w->sent >= 64 * 1024 && w->sent >= r->len / 2) {
        memmove(r->buf, r->buf + w->sent, r->len - w->sent);
        r->len -= w->sent;
        w->sent = 0;
    }
}

/* Write what the socket takes now.  Returns false on a write error. */
static bool write_some(struct akv_client *c, struct wio *w)
{
    /* appendfsync always: no reply before an fsync covers the writes it
     * acknowledges.  One wait covers a whole pipelined batch, and one
     * fsync by the drainer covers every worker waiting (group commit). */
    if (c->ctx.aof_wait) {
        if (c->ctx.a->hdr->h_cfg.appendfsync == AKV_FSYNC_ALWAYS)
            akv_ring_wait_durable(c->ctx.a, c->ctx.slot, c->ctx.aof_wait);
        c->ctx.aof_wait = 0;
    }
    while (pending(c, w) > 0) {
        ssize_t n = write(c->fd_out, c->reply.buf + w->sent, pending(c, w));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false;
        w->sent += (size_t)n;
        akv_slot_count(&c->ctx.cs->c_stats.ss_net_out, (uint64_t)n);
    }
    compact_reply(c, w);
    return true;
}

/* Make room to read: compact, then grow to what the parser wants. */
static bool make_room(struct akv_client *c, struct rbuf *b)
{
    size_t want = AKV_MAX(c->parser.want, (b->len - b->start) + READ_CHUNK);
    int64_t limit = c->ctx.a->hdr->h_cfg.client_query_buffer_limit;
    char desc[1024];

    if (b->start) {
        memmove(b->p, b->p + b->start, b->len - b->start);
        b->len -= b->start;
        b->start = 0;
    }
    if ((int64_t)want > limit + READ_CHUNK) {
        akv_log_limited(shared_limit(c, AKV_CLOG_QBUF), AKV_LOG_WARNING,
                        "Closing client that reached max query buffer "
                        "length: %s (wanted %zu bytes)",
                        client_desc(c, desc, sizeof(desc)), want);
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
static bool run_commands(struct akv_client *c, struct wio *w)
{
    struct rbuf *b = &w->in;

    for (;;) {
        int r;
        c->parser.unauth = !c->authed;
        r = akv_parse(&c->parser, b->p + b->start, b->len - b->start);
        if (r == AKV_PARSE_NEED)
            return true;
        if (r == AKV_PARSE_ERROR) {
            akv_reply_errorf(&c->reply, "ERR %s", c->parser.err);
            atomic_fetch_add(&c->ctx.a->hdr->h_stats.st_proto_errors, 1);
            c->close_after_reply = true;
            return true;
        }
        if (r == AKV_PARSE_DONE) {
            c->argc = c->parser.argc;
            c->argv = c->parser.argv;
            c->argl = c->parser.argl;
            akv_dispatch(c);
        }
        w->last_cmd_ms = akv_monotonic_ms();
        b->start += c->parser.used;
        if (c->close_after_reply)
            return true;
        if (pending(c, w) > 64 * 1024 && !write_some(c, w))
            return false;
        if (!limits_ok(c, w))
            return false;
    }
}

/* QUIT, a protocol error, CLIENT KILL of itself: the reply goes out
 * first, as far as the client takes it within a few seconds. */
static void drain_before_close(struct akv_client *c, struct wio *w,
                               const sigset_t *wait_mask)
{
    for (int i = 0; i < 5 && !worker_stop; i++) {
        struct pollfd pfd = {c->fd_out, POLLOUT, 0};
        struct timespec ts = {1, 0};
        if (!write_some(c, w) || pending(c, w) == 0)
            return;
        ppoll(&pfd, 1, &ts, wait_mask);
    }
}

/* Idle: no complete command for `timeout` seconds (0: never).  Returns
 * the milliseconds left, or a tick to notice a change of the option. */
static int64_t idle_left_ms(struct akv_client *c, struct wio *w, int64_t now)
{
    int64_t t = c->ctx.a->hdr->h_cfg.timeout;

    if (t <= 0)
        return IDLE_TICK_MS;
    return t * 1000 - (now - w->last_cmd_ms);
}

/* Wait for the socket to be readable (if `reading`) or writable (if
 * output waits), a signal, or `ms`.  Returns poll's revents, 0 on a
 * timeout or signal. */
static short wait_socket(struct akv_client *c, bool reading, bool writing,
                         int64_t ms, const sigset_t *wait_mask)
{
    struct pollfd pfd[2];
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    int n = 0;

    pfd[0] = (struct pollfd){c->fd_in, reading ? POLLIN : 0, 0};
    n = 1;
    if (c->fd_out == c->fd_in)
        pfd[0].events |= writing ? POLLOUT : 0;
    else
        pfd[n++] = (struct pollfd){c->fd_out, writing ? POLLOUT : 0, 0};
    if (ppoll(pfd, (nfds_t)n, &ts, wait_mask) <= 0)
        return 0;
    return (short)(pfd[0].revents | (n > 1 ? pfd[1].revents : 0));
}

/* Read what arrived and run it.  Returns false to close. */
static bool read_and_run(struct akv_client *c, struct wio *w)
{
    ssize_t n;

    if (!make_room(c, &w->in))
        return false;
    n = read(c->fd_in, w->in.p + w->in.len, w->in.cap - w->in.len);
    if (n == 0) {
        /* The client is done sending; what it asked for still goes out. */
        c->close_after_reply = true;
        return true;
    }
    if (n < 0)
        return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
    w->in.len += (size_t)n;
    akv_slot_count(&c->ctx.cs->c_stats.ss_net_in, (uint64_t)n);
    return run_commands(c, w);
}

static bool one_round(struct akv_client *c, struct wio *w,
                      const sigset_t *wait_mask)
{
    int64_t now = akv_monotonic_ms(), left = idle_left_ms(c, w, now);
    bool writing = pending(c, w) > 0;
    bool reading = !writing || pending(c, w) < OUTPUT_PAUSE ||
                   limits_apply(c);
    short ev;
    char desc[1024];

    if (left <= 0) {
        akv_log_limited(shared_limit(c, AKV_CLOG_IDLE), AKV_LOG_VERBOSE,
                        "Closing idle client %s",
                        client_desc(c, desc, sizeof(desc)));
        return false;
    }
    /* Output waiting: wake each second for the soft limit's clock. */
    ev = wait_socket(c, reading, writing, AKV_MIN(left, writing ? 1000 :
                                                  IDLE_TICK_MS), wait_mask);
    if (ev & POLLNVAL)
        return false;
    if ((ev & (POLLERR | POLLHUP)) && !(ev & POLLIN))
        return false;
    if ((ev & POLLOUT) && !write_some(c, w))
        return false;
    if ((ev & POLLIN) && reading && !read_and_run(c, w))
        return false;
    if (c->close_after_reply) {
        drain_before_close(c, w, wait_mask);
        return false;
    }
    if (!(ev & POLLOUT) && pending(c, w) && !write_some(c, w))
        return false;
    return limits_ok(c, w);
}

static void serve_loop(struct akv_client *c, const sigset_t *wait_mask)
{
    struct wio w = {{malloc(READ_CHUNK), 0, 0, READ_CHUNK}, 0,
                    akv_monotonic_ms(), 0, 0};

    if (!w.in.p)
        return;
    while (!worker_stop && one_round(c, &w, wait_mask))
        ;
    free(w.in.p);
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
    akv_op_free(&c->op);
    akv_op_free(&c->evict_op);
    free(c->ctx.aof_buf);
    free(c->key_hash);
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
    sigset_t wait_mask;
    int slot;

    install_signals(&wait_mask);
    atomic_fetch_add(&a->hdr->h_stats.st_connections, 1);
    slot = akv_slot_claim_client(a, a->hdr->h_cfg.maxclients);
    if (slot < 0) {
        atomic_fetch_add(&a->hdr->h_stats.st_rejected_conn, 1);
        akv_log_limited(&a->hdr->h_client_log[AKV_CLOG_REFUSED],
                        AKV_LOG_WARNING, "Refused a connection: max number "
                        "of clients reached (maxclients %lld)",
                        (long long)a->hdr->h_cfg.maxclients);
        return refuse(fd_out, "max number of clients reached");
    }
    client_init(&c, a, slot, fd_in, fd_out);
    c.local = record_peer(c.ctx.cs, fd_in);
    /* c.authed is true exactly when there is no password. */
    if (akv_protected_mode_denies(a->hdr->h_cfg.protected_mode != 0,
                                  !c.authed, c.local)) {
        write_all(fd_out, akv_protected_mode_msg,
                  strlen(akv_protected_mode_msg));
    } else {
        set_nonblocking(fd_in);
        set_nonblocking(fd_out);
        serve_loop(&c, &wait_mask);
    }
    client_free(&c);
    akv_slot_release(a, slot);
    return 0;
}

int akv_worker_refuse(int fd, const char *msg)
{
    return refuse(fd, msg);
}
