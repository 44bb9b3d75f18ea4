/*
 * Pre-forked spares (prefork_spares): monitor+jail pairs forked ahead of
 * need, each with its jail already dropped and filtered, waiting for one
 * connection on a socket from the master. This is the master's side: the
 * table of spares, forking them, and handing one a connection.
 */
#ifndef MOAT_PREFORK_H
#define MOAT_PREFORK_H

#include <sys/types.h>

#include <stddef.h>

struct msg_conn;

/* Runs in a new spare's process with its end of the socket; never
 * returns (the master's part: close its own descriptors, then
 * monitor_spare()). */
typedef void	(*prefork_child_fn)(int sock);

/* Fork spares until there are want of them, unless one died young less
 * than a second ago (then fewer, and later). */
void	prefork_fill(size_t want, prefork_child_fn);
/* ms until prefork_fill may fork again, -1 if it may now. */
int	prefork_wait_ms(long now_ms);
/* Hand fd and c to the oldest live spare: its pid, or -1 if none took it
 * (the caller forks as without spares). */
pid_t	prefork_dispatch(int fd, const struct msg_conn *c);
/* A child was reaped: 1 if it was a spare (now forgotten), else 0. */
int	prefork_reaped(pid_t pid, int status);
size_t	prefork_count(void);
/* Close every spare's socket (in a forked child: they are the master's). */
void	prefork_closeall(void);
/* Stop them all (reload, shutdown): close the sockets, SIGKILL the pids;
 * reaped as any child, and then ignored by prefork_reaped. */
void	prefork_killall(void);

#endif
