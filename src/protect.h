/*
 * protect.h -- protected mode: who may talk to a server without a
 * password.
 */
#ifndef AKV_PROTECT_H
#define AKV_PROTECT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Redis's connIsLocal: a unix socket, a socket pair (inetd), 127.0.0.0/8,
 * ::1 or ::ffff:127.0.0.0/104.  NULL or an unknown family: local (stdin
 * of an inetd worker is not a network peer). */
bool akv_addr_is_local(const struct sockaddr *sa);
/* Redis's rule: protected-mode yes, no password for the default user,
 * and a client that is not local (akv_addr_is_local) are refused. */
bool akv_protected_mode_denies(bool protected_mode, bool has_password,
                               bool local_peer);
/* The reply a refused client gets before the connection is closed. */
extern const char akv_protected_mode_msg[];

#endif
