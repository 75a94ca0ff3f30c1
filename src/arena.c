/*
 * arena.c -- creating, attaching and checking the shared arena file.
 *
 * Owns: the header's identity fields (magic, layout word, section offsets)
 * and the lifecycle of a process's mapping.  A new arena is built in a
 * temporary file and renamed into place, so a half-built arena is never
 * attached.  Attaching checks the magic and the layout word, which encodes
 * the format version and the sizes of every shared struct (pthread_mutex_t
 * included): a binary built with another layout refuses to attach instead
 * of misreading the data.
 *
 * Every process trusts what the arena holds, so a file someone else
 * could have written is never attached (filesafe.c): it must be ours and
 * writable by nobody else, and it is opened without following a link.
 * A new one is created with O_EXCL | O_NOFOLLOW and mode 0600 (0660 in
 * shared-group mode) whatever the umask.
 */
#include "build-config.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "arena.h"
#include "filesafe.h"
#include "pages.h"
#include "util.h"

uint64_t akv_layout_word(void)
{
    uint64_t w = AKV_LAYOUT_VERSION;
    w = w * 1000003u + sizeof(pthread_mutex_t);
    w = w * 1000003u + sizeof(struct akv_hdr);
    w = w * 1000003u + sizeof(struct akv_stripe);
    w = w * 1000003u + sizeof(struct akv_client_slot);
    w = w * 1000003u + sizeof(struct akv_page);
    w = w * 1000003u + sizeof(struct akv_entry);
    w = w * 1000003u + AKV_NSTRIPES * 131u + AKV_NCLASSES;
    return w;
}

int akv_shared_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t at;
    int r;

    pthread_mutexattr_init(&at);
    pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    r = pthread_mutex_init(m, &at);
    pthread_mutexattr_destroy(&at);
    return -r;
}

uint64_t akv_arena_size_for(int64_t maxmemory)
{
    /* maxmemory counts chunk bytes; the arena also holds partly filled
     * slab pages (at worst one per stripe and size class), the stripes'
     * spare pages and bucket arrays.  The file is sparse: headroom costs
     * nothing until it is used. */
    uint64_t slack = (uint64_t)AKV_NSTRIPES * (AKV_NCLASSES + 1) *
                     AKV_PAGE_SIZE;
    uint64_t size = (uint64_t)maxmemory + (uint64_t)maxmemory / 4 + slack +
                    (128ULL << 20); /* metadata and the AOF ring */

    return AKV_MIN(AKV_MAX(size, AKV_MIN_ARENA_SIZE), AKV_MAX_ARENA_SIZE);
}

#define AKV_SHM_PRIVATE_FMT "/dev/shm/arenakv-%u"

void akv_arena_default_path(char *buf, size_t len, int port)
{
    const char *rt = getenv("RUNTIME_DIRECTORY");

    /* systemd may list several directories, separated by ':'. */
    if (rt && *rt)
        snprintf(buf, len, "%.*s/arenakv-%d", (int)strcspn(rt, ":"), rt,
                 port);
    else
        snprintf(buf, len, AKV_SHM_PRIVATE_FMT "/arenakv-%d",
                 (unsigned)geteuid(), port);
}

int akv_arena_prepare_dir(const char *path, char *why, size_t whylen)
{
    char priv[64];
    size_t n = (size_t)snprintf(priv, sizeof(priv), AKV_SHM_PRIVATE_FMT,
                                (unsigned)geteuid());

    if (strncmp(path, priv, n) == 0 && path[n] == '/' &&
        !strchr(path + n + 1, '/')) {
        if (mkdir(priv, 0700) < 0 && errno != EEXIST) {
            snprintf(why, whylen, "cannot create %s: %s", priv,
                     strerror(errno));
            return -errno;
        }
        /* Made by us or planted: it must be ours and closed to others. */
        return akv_check_private_path(priv, true, true, why, whylen);
    }
    return akv_check_parent_dir(path, why, whylen);
}

int akv_arena_in_memory(const struct akv_arena *a, long *fstype)
{
    struct statfs sf;

    if (fstatfs(a->fd, &sf) < 0)
        return 1; /* cannot tell: say nothing */
    *fstype = (long)sf.f_type;
    return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Lay out the sections for a file of `size` bytes; returns the number of
 * data pages. */
static uint32_t plan_layout(struct akv_hdr *h, uint64_t size)
{
    uint64_t off = align_up(sizeof(struct akv_hdr), 4096);
    uint64_t npages = size >> AKV_PAGE_SHIFT;

    h->h_pagetab_off = off;
    off = align_up(off + npages * sizeof(struct akv_page), 4096);
    h->h_stripes_off = off;
    off = align_up(off + AKV_NSTRIPES * sizeof(struct akv_stripe), 4096);
    h->h_slots_off = off;
    off = align_up(off + AKV_NSLOTS * sizeof(struct akv_client_slot),
                   AKV_PAGE_SIZE);
    h->h_ring_off = off;
    off += h->h_ring_size;
    h->h_pages_off = off;
    if (off >= size)
        return 0;
    return (uint32_t)((size - off) >> AKV_PAGE_SHIFT);
}

static void bind_handle(struct akv_arena *a)
{
    struct akv_hdr *h = (struct akv_hdr *)a->base;

    a->hdr = h;
    a->pages = (struct akv_page *)(a->base + h->h_pagetab_off);
    a->stripes = (struct akv_stripe *)(a->base + h->h_stripes_off);
    a->slots = (struct akv_client_slot *)(a->base + h->h_slots_off);
    a->page0 = a->base + h->h_pages_off;
}

static int init_stripes(struct akv_arena *a)
{
    for (int i = 0; i < AKV_NSTRIPES; i++) {
        struct akv_stripe *s = &a->stripes[i];
        int r = akv_shared_mutex_init(&s->s_mutex);
        if (r < 0)
            return r;
        s->s_rehashidx = -1;
        s->s_intent.i_flush_db = AKV_FLUSH_NONE;
    }
    return 0;
}

static int init_header(struct akv_arena *a, uint64_t size,
                       const struct akv_config *cfg)
{
    struct akv_hdr *h = a->hdr;
    int r;

    h->h_size = size;
    h->h_ndbs = (uint32_t)cfg->databases;
    h->h_hash_seed = akv_random_u64();
    h->h_created_ms = akv_mstime();
    h->h_cfg = *cfg;
    for (int i = 0; i < AKV_MAX_DBS; i++)
        h->h_dbmap[i] = (uint8_t)i;
    atomic_store(&h->h_next_client_id, 1);
    h->h_aof_cur_db = -1;
    if ((r = akv_shared_mutex_init(&h->h_pg_mutex)) < 0 ||
        (r = akv_shared_mutex_init(&h->h_ring_mutex)) < 0 ||
        (r = akv_shared_mutex_init(&h->h_snap_mutex)) < 0 ||
        (r = akv_shared_mutex_init(&h->h_cfg_mutex)) < 0 ||
        (r = akv_shared_mutex_init(&h->h_slots_mutex)) < 0)
        return r;
    if ((r = init_stripes(a)) < 0)
        return r;
    return akv_pages_init(a);
}

static int map_file(struct akv_arena *a, int fd, uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    a->base = p;
    a->size = size;
    a->fd = fd;
    return 0;
}

int akv_arena_create(struct akv_arena *a, const char *path, uint64_t size,
                     const struct akv_config *cfg, const char **errmsg)
{
    char tmp[300];
    struct akv_hdr plan;
    int fd, r;

    memset(a, 0, sizeof(*a));
    a->fd = -1;
    size &= ~(uint64_t)(AKV_PAGE_SIZE - 1);
    if (size < AKV_MIN_ARENA_SIZE || size > AKV_MAX_ARENA_SIZE) {
        *errmsg = "arena-size must be between 32mb and 32gb";
        return -EINVAL;
    }
    memset(&plan, 0, sizeof(plan));
    /* The ring takes at most an eighth of a small arena. */
    plan.h_ring_size = AKV_MIN((uint64_t)cfg->aof_ring_size, size / 8) &
                       ~(uint64_t)(AKV_PAGE_SIZE - 1);
    if (plan_layout(&plan, size) < 16) {
        *errmsg = "arena-size too small for its metadata";
        return -EINVAL;
    }
    snprintf(tmp, sizeof(tmp), "%s.new.%d", path, (int)getpid());
    fd = akv_create_private(tmp, O_RDWR);
    if (fd < 0) {
        *errmsg = "cannot create the arena file";
        return fd;
    }
    /* Metadata sections are reserved up front; the AOF ring when the AOF
     * is turned on; data pages as the page allocator hands them out
     * (pages.c). */
    if (ftruncate(fd, (off_t)size) < 0 ||
        (r = posix_fallocate(fd, 0, (off_t)plan.h_ring_off)) != 0) {
        r = errno ? -errno : -ENOSPC;
        *errmsg = "cannot size the arena file (is the tmpfs full?)";
        goto fail;
    }
    if ((r = map_file(a, fd, size)) < 0) {
        *errmsg = "cannot map the arena file";
        goto fail;
    }
    memcpy(a->base, &plan, sizeof(plan));
    bind_handle(a);
    if ((r = init_header(a, size, cfg)) < 0) {
        *errmsg = "cannot initialise the arena";
        goto fail;
    }
    a->hdr->h_npages = plan_layout(a->hdr, size);
    a->hdr->h_layout = akv_layout_word();
    atomic_store(&a->hdr->h_state, AKV_STATE_LOADING);
    atomic_thread_fence(memory_order_seq_cst);
    a->hdr->h_magic = AKV_ARENA_MAGIC;
    if (rename(tmp, path) < 0) {
        r = -errno;
        *errmsg = "cannot move the new arena file into place";
        goto fail;
    }
    snprintf(a->path, sizeof(a->path), "%s", path);
    return 0;
fail:
    unlink(tmp);
    akv_arena_detach(a);
    if (fd >= 0 && a->fd < 0)
        close(fd);
    return r;
}

int akv_arena_attach(struct akv_arena *a, const char *path,
                     const char **errmsg)
{
    struct akv_hdr h;
    struct stat st;
    int fd, r;

    memset(a, 0, sizeof(*a));
    a->fd = -1;
    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP) {
        snprintf(a->errbuf, sizeof(a->errbuf), "%s is a symbolic link: "
                 "refusing to follow it", path);
        *errmsg = a->errbuf;
        return -EPERM;
    }
    if (fd < 0) {
        *errmsg = "no arena file (is arenakv-server running?)";
        return -errno;
    }
    if (fstat(fd, &st) < 0) {
        *errmsg = "cannot stat the arena file";
        r = -errno;
        goto fail;
    }
    if ((r = akv_check_private(&st, path, false, a->errbuf,
                               sizeof(a->errbuf))) < 0) {
        *errmsg = a->errbuf;
        goto fail;
    }
    if ((size_t)st.st_size < sizeof(h) ||
        pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        *errmsg = "arena file is truncated";
        r = -EPROTO;
        goto fail;
    }
    if (h.h_magic != AKV_ARENA_MAGIC) {
        *errmsg = "arena file is not an arenakv arena";
        r = -EPROTO;
        goto fail;
    }
    if (h.h_layout != akv_layout_word()) {
        *errmsg = "arena layout differs from this binary's (built by "
                  "another version); restart the server with a new arena";
        r = -EPROTO;
        goto fail;
    }
    if (h.h_size != (uint64_t)st.st_size) {
        *errmsg = "arena file size does not match its header";
        r = -EPROTO;
        goto fail;
    }
    if ((r = map_file(a, fd, h.h_size)) < 0) {
        *errmsg = "cannot map the arena file";
        goto fail;
    }
    bind_handle(a);
    snprintf(a->path, sizeof(a->path), "%s", path);
    return 0;
fail:
    close(fd);
    a->fd = -1;
    return r;
}

void akv_arena_detach(struct akv_arena *a)
{
    if (a->base)
        munmap(a->base, a->size);
    if (a->fd >= 0)
        close(a->fd);
    a->base = NULL;
    a->fd = -1;
}

int akv_arena_reserve_ring(struct akv_arena *a)
{
    struct akv_hdr *h = a->hdr;
    int r;

    if (h->h_ring_reserved)
        return 0;
    r = posix_fallocate(a->fd, (off_t)h->h_ring_off, (off_t)h->h_ring_size);
    if (r != 0)
        return -r;
    h->h_ring_reserved = 1;
    return 0;
}
