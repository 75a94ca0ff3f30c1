/*
 * arena.h -- layout of the shared arena and the rules that keep it sane.
 *
 * The arena is one file on tmpfs mapped MAP_SHARED by the supervisor and by
 * every worker.  Nothing inside it is a pointer: the arena holds byte
 * offsets (uint64_t, in headers) or "refs" (uint32_t, in 8-byte units, in
 * the per-key structures), converted by akv_at() / akv_ref_at().  A ref of
 * 0 means "none"; offset 0 is the header, so no chunk ever has ref 0.
 *
 *   +--------+-----------+---------+---------------+------------------+
 *   | header | page table| stripes | client slots  | pages (64 KiB)   |
 *   +--------+-----------+---------+---------------+------------------+
 *
 * Every shared struct's fields carry the struct's prefix (h_, p_, s_, i_,
 * c_, e_) so that grep finds every place that touches shared state.
 *
 * Locks (all robust, process-shared, all taken through akv_lock() in
 * lock.c, which recovers each from a dead holder in its own way):
 *   h_snap_mutex  held by a snapshot's copy; taken by ops that lock every
 *             stripe (FLUSHALL, SWAPDB, ...), before their stripes.
 *   s_mutex   one per stripe: that stripe's table, chunks, pages it owns,
 *             counters and intent record (repair: stripe.c).
 *   h_ring_mutex  AOF ring reservations (h_ring_head).  A writer may sleep
 *             for ring room holding its stripes, never holding this one.
 *   h_pg_mutex  the page allocator (free runs, h_pg_top); taken only while
 *             holding at most one stripe lock, never the other way round.
 *   h_cfg_mutex the shared configuration (h_cfg, published by
 *             akv_cfg_publish_locked so a dead writer is rolled forward).
 * Lock order, complete:
 *   h_snap_mutex -> stripes ascending -> h_ring_mutex -> h_pg_mutex;
 *   h_cfg_mutex is a leaf: nothing else is taken while it is held;
 *   h_slots_mutex is a leaf too (client slots: claim, release, reap).
 */
#ifndef AKV_ARENA_H
#define AKV_ARENA_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "akv.h"
#include "config.h"
#include "log.h"

#define AKV_ARENA_MAGIC 0x31564b414e455241ULL /* "ARENAKV1" little endian */
#define AKV_LAYOUT_VERSION 4u

#define AKV_PAGE_SHIFT 16
#define AKV_PAGE_SIZE (1u << AKV_PAGE_SHIFT)
#define AKV_UNIT 8u
#define AKV_MAX_ARENA_SIZE (32ULL << 30) /* 2^32 refs of 8 bytes */
#define AKV_MIN_ARENA_SIZE (32ULL << 20)

#define AKV_NSTRIPES 64
#define AKV_STRIPE_BITS 6
#define AKV_MAX_DBS 256
/* Client slots: maxclients (at most AKV_MAXCLIENTS_MAX, config.h) for
 * connections, plus slots for the supervisor and an arena checker. */
#define AKV_NSLOTS_INTERNAL 2
#define AKV_NSLOTS (AKV_MAXCLIENTS_MAX + AKV_NSLOTS_INTERNAL)
#define AKV_NCLASSES 64
#define AKV_NBINS 32

/* Largest chunk cut from a single page; bigger ones take a run of pages. */
#define AKV_MAX_SLAB_CHUNK (AKV_PAGE_SIZE / 4)

/* Arena lifecycle (h_state). */
enum akv_arena_state {
    AKV_STATE_CREATING = 0,
    AKV_STATE_LOADING = 1,
    AKV_STATE_READY = 2,
    AKV_STATE_POISONED = 3,
};

/* ---------------------------------------------------------------- chunks
 * Every allocation in a stripe's pages is a chunk that starts with this
 * 32-byte header; the state byte sits at the same place in every chunk, so
 * a scan of a page can tell live data from free space.  A key entry keeps
 * its key bytes then its value bytes in e_data; a hash-table chunk keeps
 * its bucket array there (e_vlen = number of buckets).
 *
 * Invariants (stripe lock held to change any field but e_atime/e_lfu):
 *   - a chunk reachable from the stripe's table has state LIVE;
 *   - NEW/OLD exist only while the stripe's intent is PREPARED: they mark
 *     what the operation in flight inserts and removes (see stripe.c);
 *   - a free chunk's e_next links the page's free list (chunk index + 1).
 */
enum akv_chunk_state {
    AKV_CHUNK_FREE = 0,
    AKV_CHUNK_ALLOC = 1, /* handed out, not yet part of anything */
    AKV_CHUNK_LIVE = 2,  /* a key entry in the table */
    AKV_CHUNK_NEW = 3,   /* entry being inserted by the op in flight */
    AKV_CHUNK_OLD = 4,   /* entry being removed by the op in flight */
    AKV_CHUNK_TABLE = 5, /* a bucket array */
    AKV_CHUNK_DYING = 6, /* a large container's key entry, unlinked from the
                          * keyspace, whose elements are being freed in
                          * steps (container.c) */
};

/* A key's type (e_type), as TYPE names it.  The values are stored in the
 * arena and in snapshots: append, never renumber. */
enum akv_type {
    AKV_TYPE_STRING = 0,
    AKV_TYPE_HASH = 1,
    AKV_TYPE_SET = 2,
    AKV_TYPE_LIST = 3,
    AKV_TYPE_ZSET = 4,
    AKV_TYPE_STREAM = 5,
    AKV_TYPE_COUNT
};

/* e_flags bits.  The low nibble holds a string's flags; the high nibble the
 * encoding of a container (enum akv_enc).  A string's encoding (int,
 * embstr, raw) follows from its bytes and the two flags, as Redis decides
 * it, so strings keep AKV_ENC_NONE. */
#define AKV_EF_RAW 0x01   /* OBJECT ENCODING says "raw" regardless of length */
#define AKV_EF_NOINT 0x02 /* never reported as "int" (INCRBYFLOAT results) */
#define AKV_EF_ENC_SHIFT 4
#define AKV_EF_ENC_MASK 0xf0

/* A container's encoding, as OBJECT ENCODING names it in Redis 7.0. */
enum akv_enc {
    AKV_ENC_NONE = 0,
    AKV_ENC_LISTPACK = 1,
    AKV_ENC_HASHTABLE = 2,
    AKV_ENC_INTSET = 3,
    AKV_ENC_QUICKLIST = 4,
    AKV_ENC_SKIPLIST = 5,
    AKV_ENC_STREAM = 6,
};

struct akv_entry {
    uint32_t e_next;   /* chain link (ref), or free-list link */
    uint32_t e_hash;   /* hash of (db, key) */
    uint32_t e_klen;
    uint32_t e_vlen;
    union {
        _Atomic int64_t e_expire; /* absolute Unix ms, 0 = no expiry */
        uint64_t e_owner;         /* element chunks: the container's id */
    };
    _Atomic uint32_t e_atime; /* access clock (see akv_clock()) */
    uint8_t e_state;
    uint8_t e_type;
    uint8_t e_db;              /* physical database index */
    uint8_t e_flags;
    char e_data[];
};
_Static_assert(sizeof(struct akv_entry) == 32, "entry header is 32 bytes");

static inline enum akv_enc akv_entry_enc(const struct akv_entry *e)
{
    return (enum akv_enc)((e->e_flags & AKV_EF_ENC_MASK) >> AKV_EF_ENC_SHIFT);
}

static inline void akv_entry_set_enc(struct akv_entry *e, enum akv_enc enc)
{
    e->e_flags = (uint8_t)((e->e_flags & ~AKV_EF_ENC_MASK) |
                           ((unsigned)enc << AKV_EF_ENC_SHIFT));
}

/* ---------------------------------------------------------------- pages
 * One descriptor per 64 KiB page.  A page is free, the head or a tail page
 * of a run, or a slab page cut into chunks of one size class.  Free runs sit
 * in h_pg_bins[] by floor(log2(length)); the first and the last page of a
 * free run both carry p_run, so neighbours coalesce in O(1).
 */
#define AKV_PAGE_FREE 0
#define AKV_PAGE_SLAB 1 /* p_class valid */
#define AKV_PAGE_RUN 2  /* first page of a multi-page chunk */
#define AKV_PAGE_TAIL 3 /* a later page of a run */

struct akv_page {
    uint8_t p_kind;
    uint8_t p_class;
    uint16_t p_owner;  /* stripe index + 1, 0 for none */
    uint32_t p_run;    /* run length in pages (free runs, RUN heads) */
    uint32_t p_nlive;  /* chunks handed out (slab pages) */
    uint32_t p_free;   /* first free chunk index + 1 (slab pages) */
    uint32_t p_carved; /* chunks cut so far; the rest is untouched */
    uint32_t p_prev;   /* page index + 1: bin list or partial list */
    uint32_t p_next;
    uint32_t p_spare;
};
_Static_assert(sizeof(struct akv_page) == 32, "page descriptor is 32 bytes");

/* ---------------------------------------------------------------- stripes
 * The intent record of the one operation in flight on a stripe.  Protected
 * by s_mutex.  Protocol (stripe.c):
 *   1. i_seq, i_client set, then i_state = PREPARED;
 *   2. entries marked NEW / OLD, optional meta / flush / swap filled;
 *   3. commit point: akv_tx_commit() (a single store in the client slot);
 *   4. marks applied (NEW->LIVE, OLD->FREE), i_state = NONE.
 * Repair of a stripe whose owner died: PREPARED and committed -> roll
 * forward, PREPARED and not committed -> roll back.
 */
#define AKV_INTENT_NONE 0
#define AKV_INTENT_PREPARED 1

#define AKV_FLUSH_NONE (-1)
#define AKV_FLUSH_ALL (-2)

#define AKV_META_EXPIRE 0x1 /* set e_expire to i_meta_expire */
#define AKV_META_LENGTH 0x2 /* set e_vlen, e_flags (value grown in place) */

struct akv_intent {
    _Atomic uint32_t i_state;
    uint32_t i_client;    /* client slot index of the mutating worker */
    uint64_t i_seq;       /* that worker's transaction number */
    uint32_t i_meta_ref;  /* entry whose metadata changes, or 0 */
    uint32_t i_meta_what; /* AKV_META_* */
    int64_t i_meta_expire;
    uint32_t i_meta_vlen;
    uint8_t i_meta_flags;
    uint8_t i_swap;              /* a SWAPDB in flight (every stripe) */
    uint8_t i_swap_a, i_swap_b;  /* the two logical dbs */
    uint8_t i_swap_pa, i_swap_pb; /* their physical dbs afterwards */
    uint8_t i_pad[2];
    int32_t i_flush_db;   /* physical db to empty, or AKV_FLUSH_* */
    uint64_t i_ring_pos;  /* AOF record of the op + 1 (its commit point), or
                           * 0: then c_commit of the slot decides */
};

/* A hash index over chunks chained through e_next (table.c): the
 * stripe's key table is one, every large container's element index
 * another. */
struct akv_index {
    uint32_t ix_table[2];    /* bucket array chunks; [1] only while
                              * rehashing */
    int64_t ix_rehashidx;    /* next bucket of [0] to move, -1 if none */
    uint64_t ix_count;       /* chunks linked */
};

struct akv_stripe {
    pthread_mutex_t s_mutex;
    struct akv_intent s_intent;
    union {
        struct akv_index s_ix; /* the key table, as an index */
        struct {
            uint32_t s_table[2];  /* table chunks; [1] only while rehashing */
            int64_t s_rehashidx;  /* next bucket of [0] to move, -1 if none */
            uint64_t s_count;     /* live entries, all dbs */
        };
    };
    /* Large containers (container.c). */
    uint64_t s_next_ct_id;   /* next container id; never reused */
    uint32_t s_dying;        /* first DYING container key entry (ref),
                              * chained through e_next */
    uint32_t s_ndying;       /* DYING containers on that list */
    uint64_t s_dying_bytes;  /* bytes of their elements, still to free */
    uint64_t s_lazyfreed;    /* containers whose freeing finished */
    uint64_t s_used;         /* bytes of chunks handed out */
    uint64_t s_repairs;      /* times this stripe was repaired */
    uint32_t s_partial[AKV_NCLASSES]; /* page index + 1 with free chunks */
    uint32_t s_spare;        /* page index + 1 of one empty page kept */
    uint32_t s_keys[AKV_MAX_DBS];
    uint32_t s_expires[AKV_MAX_DBS];
} __attribute__((aligned(64)));

/* ---------------------------------------------------------------- clients
 * One slot per connected worker.  c_pid != 0 means claimed.  The owner
 * holds a one-byte fcntl write lock at offset c_pid of the arena file, so
 * any process can test whether the owner is still alive (clients.c).
 * Fields other than c_pid are written only by the owner.  The counters in
 * c_stats are the owner's share of INFO's totals: kept per slot so that
 * the hot path never writes a cache line another worker writes, and added
 * to h_stats when the slot is given back (or reaped).
 */
struct akv_slot_stats {
    _Atomic uint64_t ss_commands;
    _Atomic uint64_t ss_hits;
    _Atomic uint64_t ss_misses;
    _Atomic uint64_t ss_net_in;
    _Atomic uint64_t ss_net_out;
    _Atomic uint64_t ss_dirty;    /* keys changed (save rules) */
};

struct akv_client_slot {
    _Atomic int32_t c_pid;
    uint32_t c_db;
    uint64_t c_id;
    _Atomic uint64_t c_commit; /* last committed transaction number */
    /* appendfsync always: the ring position this worker waits to see
     * durable (0: none), and the futex word the drainer bumps for it. */
    _Atomic uint64_t c_durable_want;
    _Atomic uint32_t c_durable_futex;
    int64_t c_ctime_ms;
    _Atomic int64_t c_last_ms;
    uint32_t c_resp;
    uint32_t c_flags;
    char c_addr[48];
    char c_laddr[48];
    char c_name[128];
    char c_lib_name[64];
    char c_lib_ver[32];
    char c_cmd[32];
    struct akv_slot_stats c_stats;
    /* Bytes of the connection's query and reply buffers (allocated), for
     * CLIENT LIST and maxmemory-clients; written by the owner. */
    _Atomic uint64_t c_mem;
    _Atomic uint64_t c_omem; /* reply bytes not yet written */
    /* maxmemory-clients chose this connection: whoever sets it first
     * counts and signals the eviction (any process; reset at claim). */
    _Atomic uint32_t c_evicting;
    int32_t c_ppid; /* the owner's parent when it claimed the slot */
};
/* c_flags bits (set at claim time, under h_slots_mutex). */
#define AKV_SLOT_INTERNAL 0x1u /* not a connection: hidden, not counted */

/* ---------------------------------------------------------------- header */
/* An I/O error armed by DEBUG FAULT-IO for the supervisor to meet (its
 * points: enum akv_io_point in fault.h). */
#define AKV_IO_FAULTS 4
struct akv_io_fault {
    _Atomic int32_t f_errno;
    _Atomic int32_t f_count;
};

/* Rare events, counted straight in the header.  Per-command counters are
 * in the client slots (struct akv_slot_stats) and h_retired. */
struct akv_stats {
    _Atomic uint64_t st_connections;
    _Atomic uint64_t st_rejected_conn;
    _Atomic uint64_t st_expired;
    _Atomic uint64_t st_evicted;
    _Atomic uint64_t st_repairs;
    _Atomic uint64_t st_expire_cap;      /* expire cycles that hit the cap */
    _Atomic uint64_t st_stale_perc_x100; /* expired share, last cycle */
    _Atomic int64_t st_avg_ttl[AKV_MAX_DBS]; /* per physical db, ms */
    _Atomic uint64_t st_reaped;
    _Atomic uint64_t st_proto_errors;
    _Atomic uint64_t st_evicted_clients; /* maxmemory-clients */
    _Atomic uint64_t st_obuf_closed;     /* client-output-buffer-limit */
};

/* Conditions every worker may log, each limited across all workers by one
 * limiter in the header (plain words: a racing update costs at most a line
 * or a count, never memory safety). */
enum akv_client_log {
    AKV_CLOG_REFUSED, /* maxclients reached */
    AKV_CLOG_OBUF,    /* output buffer limit */
    AKV_CLOG_EVICT,   /* maxmemory-clients */
    AKV_CLOG_IDLE,    /* timeout */
    AKV_CLOG_QBUF,    /* client-query-buffer-limit */
    AKV_CLOG_COUNT
};

struct akv_hdr {
    uint64_t h_magic;
    uint64_t h_layout;     /* akv_layout_word(): version and struct sizes */
    uint64_t h_size;       /* file size in bytes */
    uint64_t h_pagetab_off;
    uint64_t h_stripes_off;
    uint64_t h_slots_off;
    uint64_t h_pages_off;  /* first data page (page index 0) */
    uint32_t h_npages;
    uint32_t h_ndbs;
    uint64_t h_hash_seed;
    int64_t h_created_ms;
    _Atomic uint32_t h_state;
    _Atomic int32_t h_supervisor_pid;
    _Atomic uint64_t h_next_client_id;
    _Atomic int32_t h_slots_hwm;  /* slots at or above were never claimed */
    /* Claimed slots of connections (AKV_SLOT_INTERNAL ones excluded).
     * Exact: every claim, release and reap changes c_pid and this count
     * together under h_slots_mutex, and a holder that died is recovered
     * by recounting (clients.c). */
    _Atomic int32_t h_nslots;
    _Atomic uint64_t h_used;      /* sum of s_used over stripes */
    _Atomic uint64_t h_load_keys; /* keys loaded so far while LOADING */
    _Atomic uint64_t h_load_total; /* bytes of the files being loaded */
    _Atomic uint64_t h_load_done;  /* ... of which loaded */
    _Atomic int64_t h_load_start;  /* Unix s the load began */
    uint8_t h_dbmap[AKV_MAX_DBS]; /* logical db -> physical db */

    pthread_mutex_t h_pg_mutex;   /* page allocator */
    uint32_t h_pg_top;            /* pages below this were handed out once */
    uint32_t h_pg_reserved;       /* pages below this are fallocated */
    uint32_t h_pg_inuse;          /* pages not free */
    uint32_t h_pg_bins[AKV_NBINS];

    /* The AOF ring (ring.c, aof.c).  Positions are byte counts since the
     * arena was made; offset in the ring = position % h_ring_size.
     * tail <= durable <= written <= head. */
    uint64_t h_ring_off;
    uint64_t h_ring_size;
    pthread_mutex_t h_ring_mutex;   /* reservations (h_ring_head) */
    uint32_t h_ring_reserved;        /* its tmpfs space is fallocated */
    _Atomic uint64_t h_ring_head;    /* next byte to reserve */
    _Atomic uint64_t h_ring_written; /* records below are in the file */
    _Atomic uint64_t h_ring_durable; /* ... and fsynced per appendfsync */
    _Atomic uint64_t h_ring_tail;    /* records below may be overwritten */
    _Atomic uint32_t h_ring_kick;     /* futex: a record was committed */
    _Atomic uint32_t h_ring_progress; /* futex: durable or tail moved */
    /* Sleepers, so that wakers make the futex system call only when
     * someone sleeps (a process killed while counted leaves the count
     * high, which costs wasted wakes, never a lost one). */
    _Atomic uint32_t h_drainer_idle;     /* the drainer sleeps on kick */
    _Atomic uint32_t h_progress_waiters; /* writers waiting for ring room */
    _Atomic uint32_t h_durable_waiters;  /* workers in wait_durable */
    _Atomic uint32_t h_aof_on;       /* workers log effects */
    int32_t h_aof_cur_db;            /* db selected at the file's end */
    uint64_t h_aof_file_size;        /* file bytes covering [.., written) */
    _Atomic uint32_t h_aof_incr_seq; /* incremental file being written */
    _Atomic uint32_t h_rewrite_req;  /* BGREWRITEAOF asked for one */
    _Atomic uint32_t h_rewrite_running;
    int64_t h_rewrite_last_ms;       /* duration of the last rewrite */
    uint64_t h_aof_base_size;        /* AOF size right after the rewrite */
    /* Disk errors (aof.c, aof_rewrite.c, save.c), written by the
     * supervisor: while h_aof_write_err is set (the errno of a failing
     * AOF write or fsync), write commands get -MISCONF and no record is
     * reserved in the ring. */
    _Atomic int32_t h_aof_write_err;
    _Atomic int32_t h_rewrite_status; /* 0 ok, -errno: last rewrite */
    _Atomic uint64_t h_aof_delayed_fsync; /* everysec fsyncs 2 s late */
    /* DEBUG FAULT-IO (fault.c): errno to inject at each I/O point of the
     * supervisor, and how many more times (-1: until disarmed). */
    struct akv_io_fault h_io_fault[AKV_IO_FAULTS];
    /* Snapshots (save.c): requests from workers, results from the
     * supervisor. */
    _Atomic uint32_t h_save_req;     /* 1: BGSAVE/SAVE asked for one */
    _Atomic uint32_t h_save_running;
    _Atomic uint32_t h_save_gen;     /* futex: bumped after each attempt */
    _Atomic int32_t h_save_status;   /* 0 ok, -errno: last attempt */
    _Atomic int64_t h_lastsave;      /* Unix s of the last good save */
    _Atomic uint64_t h_dirty_at_save; /* dirty total at that save */
    _Atomic uint32_t h_shutdown_save; /* SHUTDOWN: 0 rules, 1 NOSAVE, 2 SAVE */
    _Atomic uint64_t h_sweep_gen;    /* complete stripe sweeps by reaper */
    _Atomic uint32_t h_active_expire_off; /* DEBUG SET-ACTIVE-EXPIRE 0 */

    pthread_mutex_t h_snap_mutex;    /* held by a snapshot; taken by ops
                                      * that lock every stripe, before them */
    pthread_mutex_t h_cfg_mutex;
    pthread_mutex_t h_slots_mutex;   /* client slot claims (clients.c) */
    struct akv_config h_cfg;
    /* A publication in flight (lock.c): h_cfg_next is complete once
     * h_cfg_publishing is 1, so a dead publisher's copy is finished by
     * the next locker.  Both under h_cfg_mutex. */
    struct akv_config h_cfg_next;
    _Atomic uint32_t h_cfg_publishing;
    struct akv_stats h_stats;
    struct akv_slot_stats h_retired; /* counters of slots given back */
    struct akv_log_limit h_client_log[AKV_CLOG_COUNT]; /* worker.c */
    /* Requests to the supervisor (supervisor.c): a worker sets the
     * request word, then sends SIGUSR1 to h_supervisor_pid so that it is
     * served now rather than at the next timer tick; the result is
     * published before the gen futex is bumped. */
    _Atomic int32_t h_spawner_pid;    /* the spawner forking workers, or 0 */
    _Atomic uint32_t h_cfgrw_req;     /* 1: CONFIG REWRITE asked for */
    _Atomic uint32_t h_cfgrw_gen;     /* futex: bumped after each attempt */
    _Atomic int32_t h_cfgrw_status;   /* 0 ok, errno of the last attempt,
                                       * -1: started without a file */
};

/* ---------------------------------------------------------------- handle
 * A process's view of an attached arena (process-private).
 */
struct akv_arena {
    char *base;
    size_t size;
    int fd;
    struct akv_hdr *hdr;
    struct akv_page *pages;
    struct akv_stripe *stripes;
    struct akv_client_slot *slots;
    char *page0;
    char path[256];
    char errbuf[512]; /* *errmsg of a refused attach points here */
};

static inline void *akv_at(const struct akv_arena *a, uint64_t off)
{
    return a->base + off;
}

static inline struct akv_entry *akv_ref_at(const struct akv_arena *a,
                                           uint32_t ref)
{
    return (struct akv_entry *)(a->base + ((uint64_t)ref << 3));
}

static inline uint32_t akv_ref_of(const struct akv_arena *a, const void *p)
{
    return (uint32_t)(((const char *)p - a->base) >> 3);
}

static inline uint32_t akv_page_index_of(const struct akv_arena *a,
                                         const void *p)
{
    return (uint32_t)(((const char *)p - a->page0) >> AKV_PAGE_SHIFT);
}

static inline char *akv_page_addr(const struct akv_arena *a, uint32_t idx)
{
    return a->page0 + ((uint64_t)idx << AKV_PAGE_SHIFT);
}

uint64_t akv_layout_word(void);

/* Create a new arena file at path (replacing a stale one), size bytes,
 * with ndbs databases.  Returns 0 or -errno; *errmsg explains failures. */
int akv_arena_create(struct akv_arena *a, const char *path, uint64_t size,
                     const struct akv_config *cfg, const char **errmsg);
/* Attach an existing arena.  -ENOENT if missing, -EPROTO on a layout
 * mismatch, -EPERM if it is not ours alone to write (filesafe.h: another
 * user's file, or one that others may write), with *errmsg set. */
int akv_arena_attach(struct akv_arena *a, const char *path,
                     const char **errmsg);
void akv_arena_detach(struct akv_arena *a);
/* Reserve the AOF ring's space in tmpfs, once, when the AOF is first
 * turned on (an arena that never logs does not pay for it).  0 or
 * -errno (ENOSPC: the tmpfs is full). */
int akv_arena_reserve_ring(struct akv_arena *a);

/* Robust mutex initialisation for a process-shared lock in the arena. */
int akv_shared_mutex_init(pthread_mutex_t *m);

/* Arena size that holds `maxmemory` bytes of data whatever the mix of
 * value sizes (used when arena-size is automatic). */
uint64_t akv_arena_size_for(int64_t maxmemory);

/* Default arena file name for a port: $RUNTIME_DIRECTORY/arenakv-<port>
 * under systemd, else /dev/shm/arenakv-<uid>/arenakv-<port>. */
void akv_arena_default_path(char *buf, size_t len, int port);
/* Make the private directory of the default path (0700, ours) if path
 * is in it, and check that the directory holding path lets nobody else
 * replace the arena.  0, or -errno with a message in why. */
int akv_arena_prepare_dir(const char *path, char *why, size_t whylen);
/* Nonzero if the arena file lives on tmpfs or ramfs (memory, not disk). */
int akv_arena_in_memory(const struct akv_arena *a, long *fstype);

#endif
