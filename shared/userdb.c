/*
 * The user database: a strict parser, a formatter, and an atomic writer
 * (lock PATH.lock, write PATH.tmp, fsync, rename, fsync the directory).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "shared/userdb.h"

#define USERDB_NFIELDS	7
#define USERDB_FILE_MAX	(64 * 1024 * 1024)	/* refuse larger files */

static const struct {
	const char	*name;
	unsigned	 flag;
} userdb_flags[] = {
	{ "locked", USER_F_LOCKED },
};
#define USERDB_NFLAGS	(sizeof(userdb_flags) / sizeof(userdb_flags[0]))

static int	 userdb_seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 parse_u64(const char *, uint64_t, uint64_t *);
static int	 parse_flags(char *, unsigned *);
static int	 valid_hash(const char *);
static const char *parse_line(struct userdb *, char *);
static int	 userdb_grow(struct userdb *);
static int	 write_all(int, const char *, size_t);
static int	 fsync_dir(const char *);
static int	 uid_cmp(const void *, const void *);

static int
userdb_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

int
userdb_valid_name(const char *name)
{
	size_t	i;

	if (name == NULL || !((name[0] >= 'a' && name[0] <= 'z') ||
	    name[0] == '_'))
		return -1;
	for (i = 1; name[i] != '\0'; i++) {
		if (i >= MOAT_NAME_MAX)
			return -1;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '.' || name[i] == '-'))
			return -1;
	}
	return 0;
}

/* Canonical decimal (digits only, no leading zero) in [0, max]. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	unsigned	d;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "-" or a comma list of known flags, each at most once. */
static int
parse_flags(char *s, unsigned *out)
{
	char	*tok;
	size_t	 i;

	*out = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	while ((tok = strsep(&s, ",")) != NULL) {
		for (i = 0; i < USERDB_NFLAGS; i++)
			if (strcmp(tok, userdb_flags[i].name) == 0)
				break;
		if (i == USERDB_NFLAGS || (*out & userdb_flags[i].flag))
			return -1;
		*out |= userdb_flags[i].flag;
	}
	return 0;
}

/* Printable, no blanks or ':', not empty, bounded. */
static int
valid_hash(const char *h)
{
	size_t	i;

	for (i = 0; h[i] != '\0'; i++)
		if (h[i] <= ' ' || h[i] >= 0x7f || h[i] == ':')
			return -1;
	return i == 0 || i > MOAT_HASH_MAX ? -1 : 0;
}

/* Absolute, printable, no ':', no "." or ".." component, bounded. */
int
userdb_valid_home(const char *h)
{
	const char	*c;
	size_t		 n;

	if (h[0] != '/' || strlen(h) >= sizeof(((struct user *)0)->home))
		return -1;
	for (c = h; *c != '\0'; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f || *c == ':')
			return -1;
	for (c = h; *c != '\0'; c += n) {
		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return -1;
	}
	return 0;
}

static int
userdb_grow(struct userdb *db)
{
	struct user	*nu;
	size_t		 ncap;

	if (db->nusers < db->cap)
		return 0;
	ncap = db->cap == 0 ? 16 : db->cap * 2;
	if ((nu = reallocarray(db->users, ncap, sizeof(*nu))) == NULL)
		return -1;
	db->users = nu;
	db->cap = ncap;
	return 0;
}

/* Parse one line (no newline) and add it to db; NULL or why it failed. */
static const char *
parse_line(struct userdb *db, char *line)
{
	struct user	 u;
	char		*f[USERDB_NFIELDS], *p = line;
	uint64_t	 v;
	size_t		 n = 0;
	const char	*why = NULL;

	memset(&u, 0, sizeof(u));
	if (*line == '\0')
		return "empty line";
	while (n < USERDB_NFIELDS && (f[n] = strsep(&p, ":")) != NULL)
		n++;
	if (n != USERDB_NFIELDS || p != NULL)
		return "wrong number of fields (want 7)";
	if (userdb_valid_name(f[0]) == -1)
		return "bad user name";
	(void)strlcpy(u.name, f[0], sizeof(u.name));
	if (valid_hash(f[1]) == -1)
		return "bad password hash";
	if (strlcpy(u.hash, f[1], sizeof(u.hash)) >= sizeof(u.hash)) {
		why = "password hash too long";
		goto fail;
	}
	if (parse_u64(f[2], UINT32_MAX - 1, &v) == -1) {
		why = "bad uid";
		goto fail;
	}
	if (v == 0) {
		why = "uid 0 is not allowed";
		goto fail;
	}
	u.uid = (uid_t)v;
	if (parse_u64(f[3], UINT32_MAX - 1, &v) == -1) {
		why = "bad gid";
		goto fail;
	}
	if (v == 0) {
		why = "gid 0 is not allowed";
		goto fail;
	}
	u.gid = (gid_t)v;
	if (parse_u64(f[4], UINT64_MAX, &u.quota) == -1) {
		why = "bad quota";
		goto fail;
	}
	if (parse_flags(f[5], &u.flags) == -1) {
		why = "bad flags";
		goto fail;
	}
	if (userdb_valid_home(f[6]) == -1) {
		why = "bad home (must be an absolute path)";
		goto fail;
	}
	(void)strlcpy(u.home, f[6], sizeof(u.home));
	if (userdb_find(db, u.name) != NULL)
		why = "duplicate user name";
	else if (userdb_find_uid(db, u.uid) != NULL)
		why = "duplicate uid";
	else if (userdb_add(db, &u) == -1)
		why = "out of memory";
 fail:
	explicit_bzero(&u, sizeof(u));
	return why;
}

int
userdb_parse(struct userdb *db, const char *text, size_t len, char *err,
    size_t errlen)
{
	char		*buf, *line, *p;
	const char	*why;
	size_t		 lineno = 0;

	memset(db, 0, sizeof(*db));
	if (memchr(text, '\0', len) != NULL) {
		/* Count lines up to the NUL for a useful message. */
		for (p = memchr(text, '\0', len); p > text; p--)
			if (p[-1] == '\n')
				lineno++;
		return userdb_seterr(err, errlen, "line %zu: NUL byte",
		    lineno + 1);
	}
	if ((buf = malloc(len + 1)) == NULL)
		return userdb_seterr(err, errlen, "out of memory");
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* A final newline ends the last line; it does not start a new one. */
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	p = buf;
	while (len > 0 && (line = strsep(&p, "\n")) != NULL) {
		lineno++;
		if ((why = parse_line(db, line)) != NULL) {
			freezero(buf, len + 1);
			userdb_free(db);
			errno = EINVAL;
			return userdb_seterr(err, errlen, "line %zu: %s",
			    lineno, why);
		}
	}
	freezero(buf, len + 1);
	return 0;
}

int
userdb_load(struct userdb *db, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, perr[256];
	size_t		 off = 0, bufsz = 0;
	ssize_t		 n;
	int		 fd, rv = -1, saved;

	memset(db, 0, sizeof(*db));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return userdb_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		rv = userdb_seterr(err, errlen, "%s: %s", path,
		    strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > USERDB_FILE_MAX) {
		errno = EINVAL;
		rv = userdb_seterr(err, errlen, "%s: %s", path,
		    S_ISREG(st.st_mode) ? "file too large" :
		    "not a regular file");
		goto done;
	}
	/* whoever may write the db may make any account: only its owner,
	 * the user reading it (root for the daemon and moatadm as root),
	 * checked on the file read, at start, reload and re-read alike */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errno = EPERM;
		rv = userdb_seterr(err, errlen, "%s: must be owned by uid %u "
		    "and not group or world writable", path,
		    (unsigned)geteuid());
		goto done;
	}
	bufsz = (size_t)st.st_size + 1;
	if ((buf = malloc(bufsz)) == NULL) {
		rv = userdb_seterr(err, errlen, "%s: out of memory", path);
		goto done;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rv = userdb_seterr(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;		/* shrank under us: parse what is there */
		off += (size_t)n;
	}
	if ((rv = userdb_parse(db, buf, off, perr, sizeof(perr))) == -1) {
		/* "line N: why" -> "PATH:N: why" */
		if (strncmp(perr, "line ", 5) == 0)
			(void)userdb_seterr(err, errlen, "%s:%s", path,
			    perr + 5);
		else
			(void)userdb_seterr(err, errlen, "%s: %s", path, perr);
	}
 done:
	saved = errno;
	if (buf != NULL)
		freezero(buf, bufsz);
	(void)close(fd);
	errno = saved;
	return rv;
}

char *
userdb_format(const struct userdb *db, size_t *lenp)
{
	const struct user	*u;
	char			*buf = NULL, *nb, flags[64];
	size_t			 len = 0, cap = 0, i, j;
	int			 n;

	for (i = 0; i < db->nusers; i++) {
		u = &db->users[i];
		flags[0] = '\0';
		for (j = 0; j < USERDB_NFLAGS; j++) {
			if (!(u->flags & userdb_flags[j].flag))
				continue;
			if (flags[0] != '\0')
				(void)strlcat(flags, ",", sizeof(flags));
			(void)strlcat(flags, userdb_flags[j].name,
			    sizeof(flags));
		}
		if (flags[0] == '\0')
			(void)strlcpy(flags, "-", sizeof(flags));
		for (;;) {
			n = snprintf(buf == NULL ? NULL : buf + len, cap - len,
			    "%s:%s:%u:%u:%llu:%s:%s\n", u->name, u->hash,
			    (unsigned)u->uid, (unsigned)u->gid,
			    (unsigned long long)u->quota, flags, u->home);
			if (n < 0)
				goto fail;
			if ((size_t)n < cap - len)
				break;
			/* Grow; the old buffer holds hashes, so wipe it. */
			if ((nb = malloc(cap * 2 + (size_t)n + 1)) == NULL)
				goto fail;
			if (buf != NULL) {
				memcpy(nb, buf, len);
				freezero(buf, cap);
			}
			buf = nb;
			cap = cap * 2 + (size_t)n + 1;
		}
		len += (size_t)n;
	}
	if (buf == NULL && (buf = calloc(1, 1)) == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = len;
	return buf;
 fail:
	if (buf != NULL)
		freezero(buf, cap);
	errno = ENOMEM;
	return NULL;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory that holds path, so a rename is durable. */
static int
fsync_dir(const char *path)
{
	char	 dir[PATH_MAX], *slash;
	int	 fd, rv, saved;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = fsync(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rv;
}

int
userdb_lock(const char *path)
{
	char	lock[PATH_MAX];
	int	fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			int saved = errno;

			(void)close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

void
userdb_unlock(int fd)
{
	int	saved = errno;

	if (fd != -1)
		(void)close(fd);	/* releases the flock */
	errno = saved;
}

int
userdb_save_locked(const struct userdb *db, const char *path, char *err,
    size_t errlen)
{
	struct userdb	 check;
	char		 tmp[PATH_MAX], perr[256], *text;
	size_t		 len = 0;
	int		 fd = -1, created = 0, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return userdb_seterr(err, errlen, "%s: path too long", path);
	}
	if ((text = userdb_format(db, &len)) == NULL)
		return userdb_seterr(err, errlen, "%s: out of memory", path);
	/* Never write what we could not read back. */
	if (userdb_parse(&check, text, len, perr, sizeof(perr)) == -1) {
		freezero(text, len + 1);
		errno = EINVAL;
		return userdb_seterr(err, errlen, "%s: refusing to write: %s",
		    path, perr);
	}
	userdb_free(&check);
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto fail;
	created = 1;
	if (fchmod(fd, 0600) == -1 || write_all(fd, text, len) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	freezero(text, len + 1);
	/* the new db is in place (and the caller must not undo what goes
	 * with it); only its durability across a crash is in doubt */
	if (fsync_dir(path) == -1) {
		(void)userdb_seterr(err, errlen, "%s: fsync directory: %s",
		    path, strerror(errno));
		return 1;
	}
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	if (created)
		(void)unlink(tmp);
	freezero(text, len + 1);
	errno = saved;
	return userdb_seterr(err, errlen, "%s: %s", tmp, strerror(saved));
}

int
userdb_save(const struct userdb *db, const char *path, char *err,
    size_t errlen)
{
	int	lfd, rv;

	if ((lfd = userdb_lock(path)) == -1)
		return userdb_seterr(err, errlen, "%s.lock: %s", path,
		    strerror(errno));
	rv = userdb_save_locked(db, path, err, errlen);
	userdb_unlock(lfd);
	return rv;
}

struct user *
userdb_find(const struct userdb *db, const char *name)
{
	size_t	i;

	for (i = 0; i < db->nusers; i++)
		if (strcmp(db->users[i].name, name) == 0)
			return &db->users[i];
	return NULL;
}

struct user *
userdb_find_uid(const struct userdb *db, uid_t uid)
{
	size_t	i;

	for (i = 0; i < db->nusers; i++)
		if (db->users[i].uid == uid)
			return &db->users[i];
	return NULL;
}

int
userdb_add(struct userdb *db, const struct user *u)
{
	if (userdb_valid_name(u->name) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (userdb_find(db, u->name) != NULL ||
	    userdb_find_uid(db, u->uid) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (userdb_grow(db) == -1)
		return -1;
	db->users[db->nusers++] = *u;
	return 0;
}

int
userdb_remove(struct userdb *db, const char *name)
{
	struct user	*u;
	size_t		 i;

	if ((u = userdb_find(db, name)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	i = (size_t)(u - db->users);
	memmove(u, u + 1, (db->nusers - i - 1) * sizeof(*u));
	db->nusers--;
	explicit_bzero(&db->users[db->nusers], sizeof(*u));
	return 0;
}

static int
uid_cmp(const void *a, const void *b)
{
	uid_t	x = *(const uid_t *)a, y = *(const uid_t *)b;

	return x < y ? -1 : x > y;
}

uid_t
userdb_free_uid(const struct userdb *db, uid_t min, uid_t max)
{
	uid_t	*used, cand = min;
	size_t	 n = 0, i;

	if (min > max || max == (uid_t)-1)
		return (uid_t)-1;
	if ((used = reallocarray(NULL, db->nusers * 2 + 1,
	    sizeof(*used))) == NULL)
		return (uid_t)-1;
	/* gid = uid for new accounts, so a taken gid is a taken uid too. */
	for (i = 0; i < db->nusers; i++) {
		used[n++] = db->users[i].uid;
		used[n++] = db->users[i].gid;
	}
	qsort(used, n, sizeof(*used), uid_cmp);
	for (i = 0; i < n && cand <= max; i++) {
		if (used[i] == cand)
			cand++;
		else if (used[i] > cand)
			break;
	}
	free(used);
	return cand <= max ? cand : (uid_t)-1;
}

void
userdb_free(struct userdb *db)
{
	if (db->users != NULL)
		freezero(db->users, db->cap * sizeof(*db->users));
	memset(db, 0, sizeof(*db));
}
