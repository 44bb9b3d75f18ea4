/* Dropping privileges and confining a process: chroot, ids, Landlock. */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/landlock.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "privsep/privsep.h"
#include "shared/log.h"

void
sandbox_drop(const char *dir, uid_t uid, gid_t gid)
{
	if (chroot(dir) == -1)
		fatal("chroot %s", dir);
	if (chdir("/") == -1)
		fatal("chdir /");
	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %ld", (long)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %ld", (long)uid);
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("root could be regained after the drop");
	if (uid != 0 && (getuid() != uid || geteuid() != uid ||
	    getgid() != gid || getegid() != gid))
		fatalx("ids did not change");
}

/* Resource limits per role; RLIMIT_FSIZE is left to the quota. */
static const struct {
	rlim_t	nofile;
	rlim_t	nproc;		/* RLIM_INFINITY: the role must fork */
} role_limits[] = {
	[ROLE_JAIL] =		{ 32, RLIM_INFINITY },	/* forks nothing, but
							   NPROC counts per uid */
	[ROLE_SESSION] =	{ 256, RLIM_INFINITY },
	[ROLE_MONITOR] =	{ 256, RLIM_INFINITY },	/* becomes the session */
};

void
sandbox_common(int role)
{
	struct rlimit	rl = { 0, 0 };

	if (clearenv() != 0)
		fatalx("clearenv");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("RLIMIT_CORE");
	rl.rlim_cur = rl.rlim_max = role_limits[role].nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
#ifdef MOAT_VALGRIND
		/* valgrind only lets its hard limit be set (make valgrind) */
		if (errno == EPERM)
			log_warnx("RLIMIT_NOFILE: not set under valgrind");
		else
#endif
		fatal("RLIMIT_NOFILE");
	}
	if (role_limits[role].nproc != RLIM_INFINITY) {
		rl.rlim_cur = rl.rlim_max = role_limits[role].nproc;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			fatal("RLIMIT_NPROC");
	}
}

/*
 * The socket syslog(3) opened (LOG_NDELAY) before any chroot: a unix
 * datagram socket connected to /dev/log. Its peer's name is the path the
 * log daemon bound: "/dev/log" itself, or where a /dev/log symlink leads
 * (systemd-journald's /run/systemd/journal/dev-log, the usual case on a
 * systemd host). Closed behind syslog(3)'s back, the socket's number would
 * go to the next descriptor opened, which syslog(3) then writes to and
 * closes when that fails: log lines lost, and a session's file closed
 * under it.
 */
static int
is_syslog(int fd)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof(sun);
	int			 type;
	socklen_t		 tlen = sizeof(type);
	const char		*peer = log_syslog_peer();

	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
	    type != SOCK_DGRAM)
		return 0;
	return strncmp(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path)) == 0 ||
	    (peer[0] != '\0' &&
	    strncmp(sun.sun_path, peer, sizeof(sun.sun_path)) == 0);
}

static int
keep_fd(int fd, const int *keep, size_t nkeep)
{
	size_t	i;

	if (fd == seccomp_report_fd())
		return 1;
	for (i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return 1;
	return is_syslog(fd);
}

void
sandbox_closefds(const int *keep, size_t nkeep)
{
	struct dirent	*de;
	struct rlimit	 rl;
	DIR		*d;
	long		 fd, top;
	char		*end;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			fd = strtol(de->d_name, &end, 10);
			if (*end != '\0' || end == de->d_name || fd <= 2 ||
			    fd == dirfd(d) || keep_fd((int)fd, keep, nkeep))
				continue;
			close((int)fd);
		}
		closedir(d);
		return;
	}
	/* no /proc: try every descriptor the limit allows (at most 64 Ki) */
	log_debug("%s: no /proc/self/fd, scanning", __func__);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	top = rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
	for (fd = 3; fd < top; fd++)
		if (!keep_fd((int)fd, keep, nkeep))
			close((int)fd);
}

int
sandbox_landlock(const char *dir)
{
	struct landlock_ruleset_attr	 ra;
	struct landlock_path_beneath_attr pb;
	int				 abi, rfd, rv = -1;
	uint64_t			 all;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return -1;
	all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = all;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rfd == -1)
		return -1;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = all & ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO);
	pb.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pb.parent_fd == -1)
		goto done;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1)
		goto done;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		goto done;
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1)
		goto done;
	rv = 0;
done:
	if (pb.parent_fd != -1)
		close(pb.parent_fd);
	close(rfd);
	return rv;
}
