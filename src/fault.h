/*
 * fault.h -- named fault-injection points.
 *
 * AKV_FAULT("name") marks a step of a mutation where a crash must be
 * survivable.  A worker armed with DEBUG FAULT <name> [n] kills itself with
 * SIGKILL the n-th time it passes that point, so tests can prove that the
 * arena stays consistent whatever step a worker dies at.  Unarmed, a point
 * costs one predictable branch.
 */
#ifndef AKV_FAULT_H
#define AKV_FAULT_H

#include <stdbool.h>

extern const char *akv_fault_armed;

void akv_fault_hit(const char *name);

#define AKV_FAULT(name)                                                     \
    do {                                                                    \
        if (__builtin_expect(akv_fault_armed != NULL, 0))                   \
            akv_fault_hit(name);                                            \
    } while (0)

/* Arm `name` to fire on its n-th hit (n >= 1).  Returns false if the name
 * is not a known point. */
bool akv_fault_arm(const char *name, long n);

/* The points a worker's mutation passes, NULL-terminated. */
extern const char *const akv_fault_points[];
/* The points inside the other locks' critical sections (lock.c); the
 * page allocator's is "page-taken" above. */
extern const char *const akv_fault_lock_points[];
/* The points of the supervisor's AOF rewrite. */
extern const char *const akv_fault_rewrite_points[];

/*
 * I/O faults of the supervisor.  Its writes are in a process no command
 * runs in, so DEBUG FAULT-IO <point> <errno> [count] (any worker) arms one
 * in the arena (h_io_fault) and the supervisor consumes it at the point:
 * that write or fsync fails with the errno instead of being made.
 * Unarmed, a point costs one relaxed load.
 */
enum akv_io_point {
    AKV_IO_AOF_WRITE = 0, /* "aof-write": the drainer's writev */
    AKV_IO_AOF_FSYNC = 1, /* "aof-fsync": the drainer's fdatasync */
    AKV_IO_SAVE = 2,      /* "save": SAVE / BGSAVE writing dbfilename */
    AKV_IO_REWRITE = 3,   /* "rewrite": the rewrite writing its base */
};

struct akv_arena;

/* The point named `name`, or -1. */
int akv_io_point_find(const char *name);
/* Arm point with errno err (0 disarms) for count hits (-1: until
 * disarmed). */
void akv_io_fault_arm(struct akv_arena *a, int point, int err, int count);
/* At an I/O point: the errno to fail with (consuming one hit), or 0. */
int akv_io_fault(struct akv_arena *a, int point);

#endif
