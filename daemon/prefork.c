/* The master's side of the pre-forked spares (see prefork.h). */
#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon/prefork.h"
#include "privsep/ipc.h"
#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/log.h"

#define PREFORK_MAX	64	/* prefork_spares' bound in config.c */

static struct spare {
	pid_t	pid;
	int	fd;		/* the master's end of its socket */
}		spares[PREFORK_MAX];
static size_t	nspares;
static long	backoff;	/* no forks before this (mono_ms) */

static void
remove_at(size_t i)
{
	memmove(&spares[i], &spares[i + 1], (nspares - i - 1) *
	    sizeof(spares[0]));
	nspares--;
}

/* Fork one spare: 0, or -1 (logged). */
static int
spare_fork(prefork_child_fn child)
{
	pid_t	pid;
	int	sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("spare: socketpair");
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("spare: fork");
		close(sp[0]);
		close(sp[1]);
		return -1;
	case 0:
		close(sp[0]);
		child(sp[1]);
		_exit(1);	/* not reached */
	default:
		break;
	}
	close(sp[1]);
	spares[nspares].pid = pid;
	spares[nspares].fd = sp[0];
	nspares++;
	return 0;
}

void
prefork_fill(size_t want, prefork_child_fn child)
{
	if (want > PREFORK_MAX)
		want = PREFORK_MAX;
	while (nspares < want && mono_ms() >= backoff)
		if (spare_fork(child) == -1) {
			backoff = mono_ms() + 1000;
			break;
		}
}

int
prefork_wait_ms(long now)
{
	return backoff > now ? (int)(backoff - now) : -1;
}

pid_t
prefork_dispatch(int fd, const struct msg_conn *c)
{
	pid_t	pid;
	int	rv;

	while (nspares > 0) {
		pid = spares[0].pid;
		rv = ipc_send(spares[0].fd, MSG_CONN, c, sizeof(*c), fd);
		close(spares[0].fd);
		remove_at(0);
		if (rv == 0)
			return pid;
		/* it died meanwhile: reaped as any child, and ignored */
		log_warn("spare %ld", (long)pid);
		(void)kill(pid, SIGKILL);
	}
	return -1;
}

int
prefork_reaped(pid_t pid, int status)
{
	size_t	i;

	for (i = 0; i < nspares; i++)
		if (spares[i].pid == pid) {
			/* a spare should wait, not die: not so fast */
			log_warnx("spare %ld ended (status %#x)", (long)pid,
			    status);
			close(spares[i].fd);
			remove_at(i);
			backoff = mono_ms() + 1000;
			return 1;
		}
	return 0;
}

size_t
prefork_count(void)
{
	return nspares;
}

void
prefork_closeall(void)
{
	size_t	i;

	for (i = 0; i < nspares; i++)
		close(spares[i].fd);
	nspares = 0;
}

void
prefork_killall(void)
{
	size_t	i;

	for (i = 0; i < nspares; i++) {
		close(spares[i].fd);
		if (kill(spares[i].pid, SIGKILL) == -1)
			log_warn("%s: kill %ld", __func__, (long)spares[i].pid);
	}
	nspares = 0;
	backoff = 0;
}
