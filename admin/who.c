/*
 * moatadm who and kick: read the daemon's scoreboard (a file next to its
 * pidfile, mapped read-only) and, for kick, send SIGTERM to a session,
 * which answers 421 and exits.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "shared/scoreboard.h"
#include "shared/log.h"
#include "admin/admin.h"

static int	who_open(const struct adm *, const struct scoreboard **);
static int	is_moatftpd(pid_t);
static void	who_line(const struct sb_entry *, const struct sb_activity *,
		    pid_t, time_t, int64_t);

static int
who_open(const struct adm *a, const struct scoreboard **sbp)
{
	char	path[4096];

	if (scoreboard_path(a->conf.pidfile, path, sizeof(path)) == -1)
		return adm_fail("no pidfile in the configuration: the "
		    "scoreboard is not shared");
	if ((*sbp = scoreboard_open(path)) == NULL) {
		if (errno == ENOENT)
			return adm_fail("%s: no such file: is moatftpd "
			    "running?", path);
		return adm_failw("%s", path);
	}
	return ADM_OK;
}

/* 1 if pid is a live moatftpd process (by /proc/PID/comm). */
static int
is_moatftpd(pid_t pid)
{
	char	path[64], comm[32];
	ssize_t	n;
	int	fd;

	if (pid <= 1)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	comm[n] = '\0';
	return strcmp(comm, "moatftpd\n") == 0;
}

static void
hms(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 3600)
		(void)snprintf(buf, len, "%lld:%02lld:%02lld",
		    (long long)(secs / 3600), (long long)(secs / 60 % 60),
		    (long long)(secs % 60));
	else
		(void)snprintf(buf, len, "%lld:%02lld", (long long)(secs / 60),
		    (long long)(secs % 60));
}

static void
who_line(const struct sb_entry *e, const struct sb_activity *a, pid_t pid,
    time_t now, int64_t now_ms)
{
	char		 user[sizeof(e->user)], addr[sizeof(e->addr)];
	char		 cmd[sizeof(a->cmd)], login[16], idle[48];
	char		 done[16], total[16], rate[16], vis[sizeof(a->cmd) * 4];
	struct tm	 tm;
	time_t		 lt = (time_t)atomic_load(&e->login);
	int64_t		 xs = atomic_load(&a->xfer_start), ms;
	uint64_t	 d, t;

	/* the entry changes under us: copy, terminate, make printable */
	memcpy(user, e->user, sizeof(user));
	user[sizeof(user) - 1] = '\0';
	memcpy(addr, e->addr, sizeof(addr));
	addr[sizeof(addr) - 1] = '\0';
	memcpy(cmd, a->cmd, sizeof(cmd));
	cmd[sizeof(cmd) - 1] = '\0';
	if (lt != 0 && localtime_r(&lt, &tm) != NULL)
		(void)strftime(login, sizeof(login), "%H:%M:%S", &tm);
	else
		(void)strlcpy(login, "-", sizeof(login));
	hms((int64_t)now - atomic_load(&a->last), idle, sizeof(idle));
	printf("%-7ld %-12s ", (long)pid,
	    user[0] != '\0' ? log_vis(vis, sizeof(vis), user) : "-");
	printf("%-16s %-8s %-7s ", log_vis(vis, sizeof(vis), addr), login,
	    idle);
	printf("%s", cmd[0] != '\0' ? log_vis(vis, sizeof(vis), cmd) :
	    (lt == 0 ? "(login)" : "idle"));
	if (xs != 0) {
		d = atomic_load(&a->xfer_done);
		t = atomic_load(&a->xfer_total);
		ms = now_ms - xs;
		(void)adm_fmt_size(d, done, sizeof(done));
		if (t != 0)
			(void)adm_fmt_size(t, total, sizeof(total));
		else
			(void)strlcpy(total, "?", sizeof(total));
		(void)adm_fmt_size(ms > 0 ? d * 1000 / (uint64_t)ms : 0, rate,
		    sizeof(rate));
		printf(" %s/%s (%llu bytes) %s/s", done, total,
		    (unsigned long long)d, rate);
	}
	putchar('\n');
}

int
cmd_who(struct adm *a, int argc, char **argv)
{
	const struct scoreboard	*sb;
	struct timespec		 ts;
	char			*pos[1];
	uint32_t		 i;
	pid_t			 pid;
	int			 rv;

	if ((rv = adm_args(argc, argv, NULL, 0, pos, 0, 0, "who")) != ADM_OK)
		return rv;
	if ((rv = who_open(a, &sb)) != ADM_OK)
		return rv;
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%-7s %-12s %-16s %-8s %-7s %s\n", "PID", "USER", "ADDRESS",
	    "LOGIN", "IDLE", "COMMAND");
	for (i = 0; i < sb->nentries && i < SB_ENTRIES; i++) {
		pid = (pid_t)atomic_load(&sb->e[i].pid);
		if (pid <= 0 || !is_moatftpd(pid))
			continue;	/* free, or left by a dead daemon */
		who_line(&sb->e[i], scoreboard_act(sb, (int)i), pid, ts.tv_sec, (int64_t)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000);
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		return adm_failw("stdout");
	return ADM_OK;
}

int
cmd_kick(struct adm *a, int argc, char **argv)
{
	const struct scoreboard	*sb;
	const struct sb_entry	*e;
	const char		*errstr;
	char			*pos[1], user[sizeof(e->user)], vis[160];
	long long		 want;
	uint32_t		 i;
	pid_t			 pid;
	int			 rv, n = 0;

	if ((rv = adm_args(argc, argv, NULL, 0, pos, 1, 1,
	    "kick PID|NAME")) != ADM_OK)
		return rv;
	want = strtonum(pos[0], 1, INT_MAX, &errstr);
	if ((rv = who_open(a, &sb)) != ADM_OK)
		return rv;
	for (i = 0; i < sb->nentries && i < SB_ENTRIES; i++) {
		e = &sb->e[i];
		pid = (pid_t)atomic_load(&e->pid);
		if (pid <= 0)
			continue;
		memcpy(user, e->user, sizeof(user));
		user[sizeof(user) - 1] = '\0';
		if (errstr == NULL ? pid != (pid_t)want :
		    atomic_load(&e->login) == 0 || strcmp(user, pos[0]) != 0)
			continue;
		/* the entry names it: still check it is one of ours */
		if (!is_moatftpd(pid))
			continue;
		if (kill(pid, SIGTERM) == -1) {
			rv = adm_failw("kill %ld", (long)pid);
			continue;
		}
		printf("kicked %ld (%s)\n", (long)pid, user[0] != '\0' ?
		    log_vis(vis, sizeof(vis), user) : "not logged in");
		n++;
	}
	if (n == 0 && rv == ADM_OK)
		return adm_fail("no session %s %s", errstr == NULL ?
		    "with pid" : "of", log_vis(vis, sizeof(vis), pos[0]));
	return rv;
}
