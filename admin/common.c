/* What the moatadm commands share: messages, arguments, the db, file systems. */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "shared/limits.h"
#include "shared/passwd.h"
#include "shared/pidread.h"
#include "shared/size.h"
#include "shared/userdb.h"
#include "shared/log.h"
#include "shared/mkdirp.h"
#include "admin/admin.h"

static void	vmsg(const char *, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static int	read_line_fd(int, char *, size_t);

static void
vmsg(const char *prefix, int errnum, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "moatadm: %s", prefix);
	vfprintf(stderr, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

/* Bad input: one line, exit status 2. */
int
adm_bad(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
	return ADM_EUSAGE;
}

/* A failure of the system: one line, exit status 1. */
int
adm_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
	return ADM_EIO;
}

/* The same with strerror(errno) appended. */
int
adm_failw(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vmsg("", saved, fmt, ap);
	va_end(ap);
	return ADM_EIO;
}

void
adm_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vmsg("warning: ", 0, fmt, ap);
	va_end(ap);
}

/*
 * Split a command's arguments (argv[0] is the command) into long options
 * from opts and between minpos and maxpos positional arguments. Only
 * "--" words are options, so "quota bob -5M" works; "--" ends options.
 */
int
adm_args(int argc, char **argv, const struct adm_opt *opts, size_t nopts,
    char **pos, size_t minpos, size_t maxpos, const char *usage)
{
	const char	*name, *eq;
	char		 vis[64];
	size_t		 npos = 0, i, nlen;
	int		 c, dashdash = 0;

	for (c = 1; c < argc; c++) {
		if (dashdash || strncmp(argv[c], "--", 2) != 0) {
			if (npos == maxpos)
				return adm_bad("usage: %s", usage);
			pos[npos++] = argv[c];
			continue;
		}
		if (argv[c][2] == '\0') {
			dashdash = 1;
			continue;
		}
		name = argv[c] + 2;
		eq = strchr(name, '=');
		nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		for (i = 0; i < nopts; i++)
			if (strlen(opts[i].name) == nlen &&
			    strncmp(opts[i].name, name, nlen) == 0)
				break;
		if (i == nopts)
			return adm_bad("%s: unknown option %s", argv[0],
			    log_vis(vis, sizeof(vis), argv[c]));
		if (!opts[i].has_arg) {
			if (eq != NULL)
				return adm_bad("%s: option --%s takes no "
				    "value", argv[0], opts[i].name);
			*opts[i].set = 1;
			continue;
		}
		if (eq != NULL)
			*opts[i].arg = eq + 1;
		else if (c + 1 < argc)
			*opts[i].arg = argv[++c];
		else
			return adm_bad("%s: option --%s needs a value",
			    argv[0], opts[i].name);
	}
	if (npos < minpos)
		return adm_bad("usage: %s", usage);
	for (i = npos; i < maxpos; i++)
		pos[i] = NULL;
	return ADM_OK;
}

/*
 * Load the user db into a->db. With lock, hold the writer lock until
 * adm_db_close(); with create, make the db's directory if needed. A
 * missing db is an empty one. As root the file must be root's and not
 * group/world-writable; as anyone else, the caller's.
 */
int
adm_db_open(struct adm *a, int lock, int create)
{
	const char	*path = a->conf.user_db;
	char		 dir[PATH_MAX], *slash, err[512];
	struct stat	 st;

	memset(&a->db, 0, sizeof(a->db));
	a->lockfd = -1;
	if (path[0] != '/')
		return adm_fail("%s: user_db must be an absolute path", path);
	if (create) {
		if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
			return adm_fail("%s: path too long", path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir_p(dir, 0700, MKDIRP_EXACT) == -1)
				return adm_failw("%s", dir);
		}
	}
	if (lock && (a->lockfd = userdb_lock(path)) == -1) {
		if (errno == ENOENT && !create)
			return ADM_OK;		/* no directory, no db */
		return adm_failw("%s.lock", path);
	}
	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return ADM_OK;
		adm_db_close(a);
		return adm_failw("%s", path);
	}
	/* userdb_load refuses a db that is not ours or others may write */
	if (userdb_load(&a->db, path, err, sizeof(err)) == -1) {
		adm_db_close(a);
		return adm_fail("%s", err);
	}
	return ADM_OK;
}

int
adm_db_save(struct adm *a)
{
	char	err[512];

	if (a->lockfd == -1)
		return adm_fail("%s: not locked", a->conf.user_db);
	switch (userdb_save_locked(&a->db, a->conf.user_db, err,
	    sizeof(err))) {
	case -1:
		return adm_fail("%s", err);
	case 1:		/* saved; a crash now might lose it */
		adm_warn("%s", err);
		break;
	}
	/* every change reaches a running daemon at once */
	adm_hup_daemon(a);
	return ADM_OK;
}

void
adm_db_close(struct adm *a)
{
	userdb_free(&a->db);
	userdb_unlock(a->lockfd);
	a->lockfd = -1;
}

/* The account called name, or NULL with *rv set (bad name, unknown). */
struct user *
adm_user(struct adm *a, const char *name, int *rv)
{
	struct user	*u;
	char		 vis[64];

	if (userdb_valid_name(name) == -1) {
		*rv = adm_bad("invalid user name '%s'",
		    log_vis(vis, sizeof(vis), name));
		return NULL;
	}
	if ((u = userdb_find(&a->db, name)) == NULL) {
		*rv = adm_bad("no such user '%s'", name);
		return NULL;
	}
	*rv = ADM_OK;
	return u;
}

/*
 * Size and free space of the file system holding path, or of its nearest
 * existing ancestor (a home that is not made yet). 0 or -1.
 */
int
adm_fs(const char *path, uint64_t *total, uint64_t *avail)
{
	struct statvfs	 sv;
	char		 p[PATH_MAX], *slash;

	if (strlcpy(p, path, sizeof(p)) >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	while (statvfs(p, &sv) == -1) {
		if ((errno != ENOENT && errno != ENOTDIR) ||
		    (slash = strrchr(p, '/')) == NULL || strcmp(p, "/") == 0)
			return -1;
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	*total = (uint64_t)sv.f_blocks * sv.f_frsize;
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

/*
 * The quota rule: refuse a limit larger than the partition of home; warn
 * (unless force) when all limits together, with this one for u (NULL for
 * a new account), exceed the partition's free space.
 */
int
adm_quota_check(struct adm *a, const struct user *u, const char *home,
    uint64_t limit, int force)
{
	uint64_t	total, avail, sum = limit;
	char		b1[16], b2[16];
	size_t		i;

	if (limit == 0)
		return ADM_OK;
	if (adm_fs(home, &total, &avail) == -1)
		return adm_failw("statvfs %s", home);
	if (limit > total)
		return adm_bad("quota %s is larger than the partition of %s "
		    "(%s)", adm_fmt_size(limit, b1, sizeof(b1)), home,
		    adm_fmt_size(total, b2, sizeof(b2)));
	for (i = 0; i < a->db.nusers; i++) {
		if (&a->db.users[i] == u)
			continue;
		if (sum + a->db.users[i].quota < sum)
			sum = UINT64_MAX;
		else
			sum += a->db.users[i].quota;
	}
	if (!force && sum > avail)
		adm_warn("all quotas together (%s) exceed the %s free on "
		    "the partition of %s", adm_fmt_size(sum, b1, sizeof(b1)),
		    adm_fmt_size(avail, b2, sizeof(b2)), home);
	return ADM_OK;
}

/* Read one line from fd, without its newline; -1 if longer than len-1
 * (EMSGSIZE) or holding a NUL byte (EILSEQ). */
static int
read_line_fd(int fd, char *buf, size_t len)
{
	size_t	n = 0;
	ssize_t	r;
	char	c;
	int	toolong = 0, nul = 0;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (c == '\0')
			nul = 1;
		if (n + 1 < len)
			buf[n++] = c;
		else
			toolong = 1;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (toolong || nul) {
		explicit_bzero(buf, len);
		errno = toolong ? EMSGSIZE : EILSEQ;
		return -1;
	}
	return 0;
}

/*
 * A new password into pw: one line of stdin, or asked twice on the
 * terminal. Checked for length. pw must hold MOAT_PASS_MAX + 2 bytes.
 */
int
adm_read_password(int from_stdin, char *pw, size_t len)
{
	char	again[MOAT_PASS_MAX + 2];
	size_t	n;
	int	rv = ADM_OK;

	if (from_stdin) {
		if (read_line_fd(STDIN_FILENO, pw, len) == -1) {
			if (errno == EMSGSIZE)
				return adm_bad("password too long (at most %d "
				    "characters)", MOAT_PASS_MAX);
			if (errno == EILSEQ)
				return adm_bad("password holds a NUL byte");
			return adm_failw("reading the password");
		}
	} else {
		if (readpassphrase("Password: ", pw, len,
		    RPP_REQUIRE_TTY) == NULL)
			return adm_bad("cannot read a password without a "
			    "terminal (use --password-stdin)");
		if (readpassphrase("Retype password: ", again, sizeof(again),
		    RPP_REQUIRE_TTY) == NULL) {
			explicit_bzero(pw, len);
			return adm_bad("cannot read a password without a "
			    "terminal (use --password-stdin)");
		}
		if (strcmp(pw, again) != 0)
			rv = adm_bad("passwords do not match");
		explicit_bzero(again, sizeof(again));
		if (rv != ADM_OK)
			goto fail;
	}
	n = strlen(pw);
	if (n < PASSWD_MIN_LEN)
		rv = adm_bad("password too short (at least %d characters)",
		    PASSWD_MIN_LEN);
	else if (n > MOAT_PASS_MAX)
		rv = adm_bad("password too long (at most %d characters)",
		    MOAT_PASS_MAX);
	if (rv == ADM_OK)
		return ADM_OK;
 fail:
	explicit_bzero(pw, len);
	return rv;
}

/*
 * If the configured pidfile names a running moatftpd, ask it to reload
 * (SIGHUP). A missing pidfile or a dead daemon is not an error.
 */
void
adm_hup_daemon(const struct adm *a)
{
	char	path[64], comm[32];
	pid_t	pid;
	ssize_t	n;
	int	fd;

	if ((pid = pidfile_pid(a->conf.pidfile)) == -1)
		return;
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, comm, sizeof(comm) - 1);
	(void)close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	if (strcmp(comm, "moatftpd\n") != 0)
		return;
	if (kill(pid, SIGHUP) == -1)
		adm_warn("cannot signal moatftpd (pid %ld) to reload: %s",
		    (long)pid, strerror(errno));
}

/* size_format(), except that sizes below 10K are given exactly. */
char *
adm_fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n < 10240) {
		(void)snprintf(buf, len, "%lluB", (unsigned long long)n);
		return buf;
	}
	return size_format(n, buf, len);
}
