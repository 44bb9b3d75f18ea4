/* Socket addresses: printing, comparing, binding a listener. */
#ifndef MOAT_NETADDR_H
#define MOAT_NETADDR_H

#include <sys/socket.h>

#include <stddef.h>

#include "shared/config.h"

/* Bind one listener (nonblocking, CLOEXEC). -1 with errno. */
int	addr_listen(const struct listen_addr *l);
/* The same socket, bound but not listening (moatftpd -t closes it at
 * once: no connection can arrive). -1 with errno. */
int	addr_bind(const struct listen_addr *l);
/* "1.2.3.4" or "::1" without port. */
void	addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);
/* 1 if both hold the same IP address (ports ignored). */
int	addr_same_ip(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);

#endif
