/*
 * protect.c -- protected mode, as Redis 7 has it.
 *
 * A server that has no password for the default user serves only local
 * clients while protected-mode is yes (the default): anyone else gets
 * Redis's -DENIED text, which says how to change it, and is closed.  With
 * the default bind (127.0.0.1 -::1) every client is local anyway; the
 * rule matters once the server listens on a public address, or under a
 * socket unit that does.  The decision is made once per connection, on
 * the peer's address, by the worker that serves it.
 */
#include "build-config.h"

#include <netinet/in.h>
#include <string.h>

#include "protect.h"

const char akv_protected_mode_msg[] =
    "-DENIED Redis is running in protected mode because protected mode is "
    "enabled and no password is set for the default user. In this mode "
    "connections are only accepted from the loopback interface. If you want "
    "to connect from external computers to Redis you may adopt one of the "
    "following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting "
    "to Redis from the same host the server is running, however MAKE SURE "
    "Redis is not publicly accessible from internet if you do so. Use CONFIG "
    "REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the "
    "server. 3) If you started the server manually just for testing, restart "
    "it with the '--protected-mode no' option. 4) Setup a an authentication "
    "password for the default user. NOTE: You only need to do one of the "
    "above things in order for the server to start accepting connections "
    "from the outside.\r\n";

bool akv_addr_is_local(const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (!sa)
        return true;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        const unsigned char *b = s6->sin6_addr.s6_addr;
        if (memcmp(b, &in6addr_loopback, 16) == 0)
            return true;
        return memcmp(b, mapped, 12) == 0 && b[12] == 127;
    }
    return true; /* AF_UNIX and socket pairs */
}

bool akv_protected_mode_denies(bool protected_mode, bool has_password,
                               bool local_peer)
{
    return protected_mode && !has_password && !local_peer;
}
