/*
 * worker.h -- serve one client connection on an attached arena.
 */
#ifndef AKV_WORKER_H
#define AKV_WORKER_H

#include "arena.h"

/* Serve the connection until the client leaves; returns the exit status
 * for the worker process. */
int akv_worker_serve(struct akv_arena *a, int fd_in, int fd_out);
/* Tell a client why it cannot be served ("-ERR msg") and return 1. */
int akv_worker_refuse(int fd, const char *msg);

#endif
