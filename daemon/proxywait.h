/*
 * Connections whose PROXY protocol header the master is still reading
 * (from peers in proxy_from; the others are refused):
 * polled with the listeners, read without blocking and never past the
 * header, closed when it is malformed or late (PROXY_TIMEOUT_MS).
 */
#ifndef MOAT_PROXYWAIT_H
#define MOAT_PROXYWAIT_H

#include <sys/socket.h>
#include <poll.h>

/* Called with a connection whose header was read: peer is the client. */
typedef void	(*proxywait_admit_fn)(int fd, const struct sockaddr_storage *,
		    const struct sockaddr_storage *);

void	proxywait_init(proxywait_admit_fn);
struct config;

/* Take a new connection (closed, and logged, if its peer is not in
 * cfg's proxy_from, or if the table is full). */
void	proxywait_add(const struct config *cfg, int fd,
	    const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *local, long now_ms);
size_t	proxywait_count(void);
/* Fill proxywait_count() poll entries. */
void	proxywait_pollfds(struct pollfd *);
/* Read from those that poll() found ready (n entries as filled). */
void	proxywait_ready(const struct pollfd *, size_t n);
/* Close the late ones; ms until the next deadline, or -1. */
int	proxywait_expire(long now_ms);
/* Close them all (at shutdown, and in a forked child). */
void	proxywait_closeall(void);

#endif
