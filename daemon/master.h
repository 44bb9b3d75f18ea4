/* The master: listeners, limits, the wait queue, one monitor per connection. */
#ifndef MOAT_MASTER_H
#define MOAT_MASTER_H

#include "shared/config.h"

struct master_opts {
	const char	*conffile;
	int		 foreground;
	int		 debug;
};

/* Runs until SIGTERM/SIGINT; returns the exit status. */
int	master_main(struct config *cfg, const struct master_opts *o);
/* Bind one listener (nonblocking, CLOEXEC). -1 with errno. */
int	master_bind(const struct listen_addr *l);
/* "1.2.3.4" or "::1" without port. */
void	addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);
/* 1 if both hold the same IP address (ports ignored). */
int	addr_same_ip(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);

#endif
