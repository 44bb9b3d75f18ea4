/*
 * The file system commands: PWD, CWD, CDUP, MKD, RMD, DELE, RNFR, RNTO,
 * SIZE, MDTM, MFMT. Every user path is joined to the cwd by vpath_join and
 * resolved inside the home by vpath_open/vpath_parent; a change is made
 * with the *at() call on the parent's descriptor and the last component.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shared/log.h"
#include "daemon/commands.h"
#include "daemon/fsops.h"
#include "daemon/quota.h"
#include "daemon/session.h"
#include "daemon/vpath.h"

#define MFMT_DIGITS	14	/* YYYYMMDDHHMMSS */

static int	quote_path(const char *, char *, size_t);
static void	reply_257(struct session *, const char *, const char *);
static int	parent_of(struct session *, const char *, char *, size_t);
static int	stat_path(struct session *, const char *, struct stat *);
static int	fmt_time(time_t, char *, size_t);
static int	parse_mfmt(const char *, size_t, struct timespec *);
static void	log_path(const char *, const char *);

static const struct {
	int		 err;
	int		 code;
	const char	*text;
} fs_errors[] = {
	{ ENOENT,	550,	"No such file or directory." },
	{ ENOTDIR,	550,	"Not a directory." },
	{ EACCES,	550,	"Permission denied." },
	{ EPERM,	550,	"Permission denied." },
	{ EROFS,	550,	"Permission denied." },
	{ EEXIST,	550,	"File exists." },
	{ ENOTEMPTY,	550,	"Directory not empty." },
	{ EISDIR,	550,	"Is a directory." },
	{ ENXIO,	550,	"Not a regular file." },
	{ ELOOP,	550,	"Too many levels of symbolic links." },
	{ EXDEV,	550,	"Cannot move across file systems." },
	{ EBUSY,	550,	"Resource busy." },
	{ EINVAL,	550,	"Invalid path." },
	{ EMLINK,	550,	"Too many links." },
	{ ENOSPC,	452,	"Insufficient storage space." },
	{ EDQUOT,	552,	"Quota exceeded." },
	{ EFBIG,	552,	"File too large." },
	{ ENAMETOOLONG,	553,	"File name too long." },
};

int
fs_lock_byte(int fd, short type, off_t off, int wait)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = off;
	fl.l_len = 1;
	if (!wait)
		return fcntl(fd, F_OFD_SETLK, &fl);
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

void
fs_reply_errno(struct session *s, int err)
{
	size_t	i;

	for (i = 0; i < sizeof(fs_errors) / sizeof(fs_errors[0]); i++)
		if (fs_errors[i].err == err) {
			reply(s, fs_errors[i].code, "%s", fs_errors[i].text);
			return;
		}
	errno = err;
	log_warn("%s", __func__);
	reply(s, 451, "Local error in processing.");
}

int
fs_path(struct session *s, const char *arg, char *out, size_t outlen)
{
	if (arg == NULL || *arg == '\0') {
		reply(s, 501, "Syntax error in parameters or arguments.");
		return -1;
	}
	if (vpath_join(s->cwd, arg, out, outlen) == -1) {
		reply(s, 553, "Bad file name.");
		return -1;
	}
	return 0;
}

/* RFC 959 quoting for 257: a '"' in the name is doubled. */
static int
quote_path(const char *in, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *in != '\0'; in++) {
		if (o + 3 > outlen)
			return -1;
		if (*in == '"')
			out[o++] = '"';
		out[o++] = *in;
	}
	if (o + 1 > outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/*
 * 257 "<path>" <text>, written whole: a long path must not lose its
 * closing quote to the length cap of reply().
 */
static void
reply_257(struct session *s, const char *path, const char *text)
{
	char	q[MOAT_PATH_MAX * 2], line[MOAT_PATH_MAX * 2 + 128];
	int	n;

	if (quote_path(path, q, sizeof(q)) == -1) {
		reply(s, 257, "%s", text);
		return;
	}
	n = snprintf(line, sizeof(line), "257 \"%s\" %s\r\n", q, text);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		reply(s, 257, "%s", text);
		return;
	}
	log_debug("-> 257 (%d bytes)", n);
	reply_raw(s, line, (size_t)n);
}

/* vpath_parent with the reply on failure: -1 when replied. */
static int
parent_of(struct session *s, const char *path, char *base, size_t baselen)
{
	int	pfd;

	if ((pfd = vpath_parent(s, path, base, baselen)) == -1)
		fs_reply_errno(s, errno);
	return pfd;
}

/* stat without following a final symlink; the home itself is allowed. */
static int
stat_path(struct session *s, const char *path, struct stat *st)
{
	char	base[NAME_MAX + 1];
	int	fd, rv, saved;

	if (strcmp(path, "/") == 0) {
		if ((fd = vpath_open(s, path, O_PATH | O_DIRECTORY, 0)) == -1)
			return -1;
		rv = fstat(fd, st);
	} else {
		if ((fd = vpath_parent(s, path, base, sizeof(base))) == -1)
			return -1;
		rv = fstatat(fd, base, st, AT_SYMLINK_NOFOLLOW);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

static void
log_path(const char *what, const char *path)
{
	char	vis[MOAT_PATH_MAX * 4 + 1];

	log_info("%s %s", what, log_vis(vis, sizeof(vis), path));
}

/* time as YYYYMMDDHHMMSS (UTC) into buf: 0 or -1. */
static int
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return -1;
	if ((size_t)snprintf(buf, len, "%04d%02d%02d%02d%02d%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec) >= len)
		return -1;
	return 0;
}

void
cmd_pwd(struct session *s, const char *arg)
{
	(void)arg;
	reply_257(s, s->cwd, "is the current directory.");
}

void
cmd_cwd(struct session *s, const char *arg)
{
	char	path[MOAT_PATH_MAX], probe[MOAT_PATH_MAX + 2];
	int	fd;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	/* "dir/." makes the walk search dir, so entering needs its x bit. */
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.", path) >=
	    sizeof(probe)) {
		reply(s, 553, "File name too long.");
		return;
	}
	if ((fd = vpath_open(s, probe, O_PATH | O_DIRECTORY, 0)) == -1) {
		fs_reply_errno(s, errno);
		return;
	}
	close(fd);
	if (strlcpy(s->cwd, path, sizeof(s->cwd)) >= sizeof(s->cwd)) {
		reply(s, 553, "File name too long.");
		return;
	}
	reply(s, 250, "Directory successfully changed.");
}

void
cmd_cdup(struct session *s, const char *arg)
{
	(void)arg;
	cmd_cwd(s, "..");
}

void
cmd_mkd(struct session *s, const char *arg)
{
	char	path[MOAT_PATH_MAX], base[NAME_MAX + 1];
	int	pfd;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	if (strcmp(path, "/") == 0) {
		fs_reply_errno(s, EEXIST);
		return;
	}
	if ((pfd = parent_of(s, path, base, sizeof(base))) == -1)
		return;
	if (mkdirat(pfd, base, 0755) == -1) {
		fs_reply_errno(s, errno);
		close(pfd);
		return;
	}
	close(pfd);
	log_path("mkdir", path);
	reply_257(s, path, "created.");
}

void
cmd_rmd(struct session *s, const char *arg)
{
	char	path[MOAT_PATH_MAX], base[NAME_MAX + 1];
	int	pfd, err;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	if (strcmp(path, "/") == 0) {
		reply(s, 550, "Cannot remove the home directory.");
		return;
	}
	if ((pfd = parent_of(s, path, base, sizeof(base))) == -1)
		return;
	if (unlinkat(pfd, base, AT_REMOVEDIR) == -1) {
		err = errno == EEXIST ? ENOTEMPTY : errno;
		close(pfd);
		fs_reply_errno(s, err);
		return;
	}
	close(pfd);
	log_path("rmdir", path);
	reply(s, 250, "Directory removed.");
}

/*
 * Stat base (in pfd) for DELE or RNTO over it, which give its size back
 * to the quota. A regular file we can read is opened and its size lock
 * held (quota_size_lock) from the stat until size_drop, so that no
 * upload's write lands between the size given back and the unlink or
 * rename. Returns the held descriptor, or -1 when there is none: not a
 * regular file, not readable (then st is only the name's stat, as before
 * this lock existed), or the stat failed (*err set, st not filled).
 */
static int
size_hold(int pfd, const char *base, struct stat *st, int *err)
{
	struct stat	nst;
	int		fd;

	*err = 0;
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd != -1 && (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    quota_size_lock(fd, F_RDLCK) == -1)) {
		close(fd);
		fd = -1;
	}
	/* the name, now: still the file we hold? */
	if (fstatat(pfd, base, &nst, AT_SYMLINK_NOFOLLOW) == -1) {
		*err = errno;
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (fd != -1 && (fstat(fd, st) == -1 || nst.st_dev != st->st_dev ||
	    nst.st_ino != st->st_ino)) {
		close(fd);		/* closing drops the lock */
		fd = -1;
	}
	if (fd == -1)
		*st = nst;
	return fd;
}

static void
size_drop(int fd)
{
	if (fd != -1)
		close(fd);		/* closing drops the lock */
}

void
cmd_dele(struct session *s, const char *arg)
{
	char		path[MOAT_PATH_MAX], base[NAME_MAX + 1];
	struct stat	st;
	int		pfd, lfd, err;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	if (strcmp(path, "/") == 0) {
		fs_reply_errno(s, EISDIR);
		return;
	}
	if ((pfd = parent_of(s, path, base, sizeof(base))) == -1)
		return;
	if ((lfd = size_hold(pfd, base, &st, &err)) == -1 && err != 0) {
		errno = err;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (unlinkat(pfd, base, 0) == -1)
		goto fail;
	close(pfd);
	if (S_ISREG(st.st_mode) && st.st_size > 0)
		quota_release(s, (uint64_t)st.st_size);
	size_drop(lfd);
	log_path("delete", path);
	reply(s, 250, "File deleted.");
	return;
 fail:
	err = errno;
	size_drop(lfd);
	close(pfd);
	fs_reply_errno(s, err);
}

void
cmd_rnfr(struct session *s, const char *arg)
{
	char		path[MOAT_PATH_MAX];
	struct stat	st;

	s->rnfr[0] = '\0';
	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	if (strcmp(path, "/") == 0) {
		reply(s, 550, "Cannot rename the home directory.");
		return;
	}
	if (stat_path(s, path, &st) == -1) {
		fs_reply_errno(s, errno);
		return;
	}
	if (strlcpy(s->rnfr, path, sizeof(s->rnfr)) >= sizeof(s->rnfr)) {
		s->rnfr[0] = '\0';
		reply(s, 553, "File name too long.");
		return;
	}
	reply(s, 350, "Ready for RNTO.");
}

void
cmd_rnto(struct session *s, const char *arg)
{
	char		from[MOAT_PATH_MAX], to[MOAT_PATH_MAX];
	char		b1[NAME_MAX + 1], b2[NAME_MAX + 1];
	struct stat	sst, dst;
	int		p1 = -1, p2 = -1, lfd = -1, err, replaced = 0;

	if (s->rnfr[0] == '\0') {
		reply(s, 503, "RNFR required first.");
		return;
	}
	if (strlcpy(from, s->rnfr, sizeof(from)) >= sizeof(from))
		from[0] = '\0';
	s->rnfr[0] = '\0';
	if (fs_path(s, arg, to, sizeof(to)) == -1)
		return;
	if (strcmp(from, "/") == 0 || strcmp(to, "/") == 0) {
		reply(s, 550, "Cannot rename the home directory.");
		return;
	}
	if ((p1 = parent_of(s, from, b1, sizeof(b1))) == -1)
		return;
	if ((p2 = parent_of(s, to, b2, sizeof(b2))) == -1) {
		close(p1);
		return;
	}
	if (fstatat(p1, b1, &sst, AT_SYMLINK_NOFOLLOW) == -1)
		goto fail;
	/* A regular file replaced by the rename leaves the quota. */
	if ((lfd = size_hold(p2, b2, &dst, &err)) != -1 || err == 0) {
		if (S_ISREG(dst.st_mode) && dst.st_nlink == 1 &&
		    (dst.st_dev != sst.st_dev || dst.st_ino != sst.st_ino))
			replaced = 1;
	}
	if (renameat(p1, b1, p2, b2) == -1)
		goto fail;
	close(p1);
	close(p2);
	if (replaced && dst.st_size > 0)
		quota_release(s, (uint64_t)dst.st_size);
	size_drop(lfd);
	log_path("rename from", from);
	log_path("rename to", to);
	reply(s, 250, "Rename successful.");
	return;
 fail:
	err = errno;
	size_drop(lfd);
	close(p1);
	close(p2);
	fs_reply_errno(s, err);
}

/* stat(2) of a user's path, following links inside the home; -1 when the
 * reply has been sent. */
static int
stat_arg(struct session *s, const char *arg, struct stat *st)
{
	char	path[MOAT_PATH_MAX];
	int	fd, rv, err;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return -1;
	if ((fd = vpath_open(s, path, O_PATH, 0)) == -1) {
		fs_reply_errno(s, errno);
		return -1;
	}
	rv = fstat(fd, st);
	err = errno;
	close(fd);
	if (rv == -1) {
		fs_reply_errno(s, err);
		return -1;
	}
	return 0;
}

void
cmd_size(struct session *s, const char *arg)
{
	struct stat	st;

	if (stat_arg(s, arg, &st) == -1)
		return;
	if (!S_ISREG(st.st_mode))
		reply(s, 550, "Not a regular file.");
	else
		reply(s, 213, "%jd", (intmax_t)st.st_size);
}

void
cmd_mdtm(struct session *s, const char *arg)
{
	char		t[32];
	struct stat	st;

	if (stat_arg(s, arg, &st) == -1)
		return;
	if (fmt_time(st.st_mtime, t, sizeof(t)) == -1)
		reply(s, 550, "Modification time out of range.");
	else
		reply(s, 213, "%s", t);
}

/* "YYYYMMDDHHMMSS[.fff]" (UTC) of length len: 0 or -1. */
static int
parse_mfmt(const char *p, size_t len, struct timespec *ts)
{
	static const int	 width[] = { 4, 2, 2, 2, 2, 2 };
	int			 v[6], i, j;
	struct tm		 tm, back;
	const char		*q = p;
	time_t			 t;

	if (len < MFMT_DIGITS)
		return -1;
	for (i = 0; i < 6; i++)
		for (v[i] = 0, j = 0; j < width[i]; j++, q++) {
			if (*q < '0' || *q > '9')
				return -1;
			v[i] = v[i] * 10 + (*q - '0');
		}
	if (len > MFMT_DIGITS) {	/* ".fff": accepted, not kept */
		if (*q++ != '.' || q == p + len)
			return -1;
		for (; q < p + len; q++)
			if (*q < '0' || *q > '9')
				return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 ||
	    v[5] > 60)
		return -1;
	t = timegm(&tm);
	/* Reject dates that timegm moved (Feb 30). */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != v[2] ||
	    back.tm_mon != v[1] - 1)
		return -1;
	ts->tv_sec = t;
	ts->tv_nsec = 0;
	return 0;
}

void
cmd_mfmt(struct session *s, const char *arg)
{
	char		 path[MOAT_PATH_MAX], base[NAME_MAX + 1], t[32];
	struct timespec	 ts[2];
	struct stat	 st;
	const char	*sp, *name;
	int		 fd, rv, err;

	if (arg == NULL || (sp = strchr(arg, ' ')) == NULL) {
		reply(s, 501, "Usage: MFMT YYYYMMDDHHMMSS path");
		return;
	}
	if (parse_mfmt(arg, (size_t)(sp - arg), &ts[1]) == -1) {
		reply(s, 501, "Bad time value.");
		return;
	}
	name = sp + 1;
	if (fs_path(s, name, path, sizeof(path)) == -1)
		return;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	if (strcmp(path, "/") == 0)
		fd = vpath_open(s, path, O_PATH | O_DIRECTORY, 0);
	else
		fd = vpath_parent(s, path, base, sizeof(base));
	if (fd == -1) {
		fs_reply_errno(s, errno);
		return;
	}
	if (strcmp(path, "/") == 0)
		rv = utimensat(fd, "", ts, AT_EMPTY_PATH);
	else
		rv = utimensat(fd, base, ts, AT_SYMLINK_NOFOLLOW);
	if (rv == 0)
		rv = strcmp(path, "/") == 0 ? fstat(fd, &st) :
		    fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW);
	err = errno;
	close(fd);
	if (rv == -1) {
		fs_reply_errno(s, err);
		return;
	}
	if (fmt_time(st.st_mtime, t, sizeof(t)) == -1) {
		reply(s, 550, "Modification time out of range.");
		return;
	}
	reply(s, 213, "Modify=%s; %s", t, name);
}
