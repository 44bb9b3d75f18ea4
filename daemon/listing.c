/*
 * Directory listings: LIST (`ls -l` lines), NLST (names), MLSD (RFC 3659
 * facts) over the data channel, and MLST on the control channel. Lines are
 * gathered in one large buffer and written in big chunks; a name holding
 * CR or LF is left out, since it cannot be sent as one line.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fnmatch.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "daemon/commands.h"
#include "daemon/datachan.h"
#include "daemon/fsops.h"
#include "daemon/listing.h"
#include "daemon/session.h"
#include "daemon/vpath.h"
#include "shared/feat.h"

#define LS_OUTBUF	(64 * 1024)
#define SIX_MONTHS	((time_t)(365.2425 * 24 * 3600 / 2))

#define P_R	4
#define P_W	2
#define P_X	1
#define P_PAR	8	/* the containing directory is writable */

enum ls_kind { LS_LIST, LS_NLST, LS_MLSD };

struct lsctx {
	struct session		*s;
	struct dataconn		 dc;
	struct listing_who	 who;
	enum ls_kind		 kind;
	int			 parent_w;
	time_t			 now;
	char			*out;
	size_t			 outlen;
	int			 failed;
	char			 line[LISTING_LINE_MAX];
};

typedef int	(*ls_fmt)(struct lsctx *, int, const char *,
		    const struct stat *);

static int	name_ok(const char *);
static int	type_index(mode_t);
static int	fmt_list(struct lsctx *, int, const char *, const struct stat *);
static int	fmt_nlst(struct lsctx *, int, const char *, const struct stat *);
static int	fmt_mlsd(struct lsctx *, int, const char *, const struct stat *);
static int	ls_flush(struct lsctx *);
static void	ls_entry(struct lsctx *, int, const char *);
static void	ls_one(struct lsctx *, int, const char *, const struct stat *);
static void	ls_dir(struct lsctx *, DIR *, const char *);
static DIR	*ls_glob_open(struct session *, const char *, const char *);
static const char *skip_options(const char *);
static void	ls_run(struct session *, const char *, enum ls_kind);

static const struct {
	mode_t		 fmt;
	char		 ls;
	const char	*fact;
	const char	*perm;		/* letters that may be granted */
	int		 need[8];	/* P_* bits each letter needs */
} ls_types[] = {
	{ S_IFREG,  '-', "file", "adfrw",
	    { P_W, P_PAR, P_PAR, P_R, P_W } },
	{ S_IFDIR,  'd', "dir", "cdeflmp",
	    { P_W | P_X, P_PAR, P_X, P_PAR, P_R, P_W | P_X, P_W | P_X } },
	{ S_IFLNK,  'l', "OS.unix=symlink", "df", { P_PAR, P_PAR } },
	{ S_IFIFO,  'p', "OS.unix=fifo", "df", { P_PAR, P_PAR } },
	{ S_IFSOCK, 's', "OS.unix=socket", "df", { P_PAR, P_PAR } },
	{ S_IFCHR,  'c', "OS.unix=chr", "df", { P_PAR, P_PAR } },
	{ S_IFBLK,  'b', "OS.unix=blk", "df", { P_PAR, P_PAR } },
};

static const struct {
	mode_t	bit;
	char	c;
} ls_bits[9] = {
	{ S_IRUSR, 'r' }, { S_IWUSR, 'w' }, { S_IXUSR, 'x' },
	{ S_IRGRP, 'r' }, { S_IWGRP, 'w' }, { S_IXGRP, 'x' },
	{ S_IROTH, 'r' }, { S_IWOTH, 'w' }, { S_IXOTH, 'x' },
};

/* setuid, setgid, sticky: the x position they share, with x / without. */
static const struct {
	mode_t	bit;
	int	pos;
	char	with_x, without_x;
} ls_special[3] = {
	{ S_ISUID, 3, 's', 'S' },
	{ S_ISGID, 6, 's', 'S' },
	{ S_ISVTX, 9, 't', 'T' },
};

static const struct {
	int		 options;	/* "-la" style options are skipped */
	int		 dir_only;	/* a file argument is 501 */
	int		 need_stat;
	ls_fmt		 fmt;
} ls_kinds[] = {
	[LS_LIST] = { 1, 0, 1, fmt_list },
	[LS_NLST] = { 1, 0, 0, fmt_nlst },
	[LS_MLSD] = { 0, 1, 1, fmt_mlsd },
};

static const char *const ls_months[12] = { "Jan", "Feb", "Mar", "Apr",
	"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int
name_ok(const char *name)
{
	return strpbrk(name, "\r\n") == NULL;
}

static int
type_index(mode_t mode)
{
	size_t	i;

	for (i = 0; i < sizeof(ls_types) / sizeof(ls_types[0]); i++)
		if ((mode & S_IFMT) == ls_types[i].fmt)
			return (int)i;
	return -1;
}

int
listing_mode(mode_t mode, char *buf, size_t len)
{
	int	t, i;

	if (len < 11)
		return -1;
	t = type_index(mode);
	buf[0] = t == -1 ? '?' : ls_types[t].ls;
	for (i = 0; i < 9; i++)
		buf[i + 1] = (mode & ls_bits[i].bit) ? ls_bits[i].c : '-';
	for (i = 0; i < 3; i++)
		if (mode & ls_special[i].bit)
			buf[ls_special[i].pos] = buf[ls_special[i].pos] == 'x' ?
			    ls_special[i].with_x : ls_special[i].without_x;
	buf[10] = '\0';
	return 0;
}

int
listing_access(const struct stat *st, const struct listing_who *who)
{
	int	m = (int)st->st_mode;

	if (who->uid == 0)
		return P_R | P_W | ((m & 0111) || S_ISDIR(st->st_mode) ?
		    P_X : 0);
	if (st->st_uid == who->uid)
		return (m >> 6) & 7;
	if (st->st_gid == who->gid)
		return (m >> 3) & 7;
	return m & 7;
}

int
listing_fmt_list(char *buf, size_t len, const struct stat *st,
    const char *name, const char *target, const struct listing_who *who,
    time_t now)
{
	char		 mode[11], owner[32], group[32];
	struct tm	 tm;
	time_t		 t = st->st_mtime;
	int		 n, m;

	if (!name_ok(name) || (target != NULL && !name_ok(target)))
		return -1;
	if (listing_mode(st->st_mode, mode, sizeof(mode)) == -1)
		return -1;
	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		if (gmtime_r(&t, &tm) == NULL)
			return -1;
	}
	if (who->name != NULL && st->st_uid == who->uid)
		n = snprintf(owner, sizeof(owner), "%s", who->name);
	else
		n = snprintf(owner, sizeof(owner), "%ju", (uintmax_t)st->st_uid);
	if (n < 0 || (size_t)n >= sizeof(owner))
		return -1;
	if (who->name != NULL && st->st_gid == who->gid)
		n = snprintf(group, sizeof(group), "%s", who->name);
	else
		n = snprintf(group, sizeof(group), "%ju", (uintmax_t)st->st_gid);
	if (n < 0 || (size_t)n >= sizeof(group))
		return -1;
	n = snprintf(buf, len, "%s %4ju %-8s %-8s %12jd %s %2d ", mode,
	    (uintmax_t)st->st_nlink, owner, group, (intmax_t)st->st_size,
	    ls_months[tm.tm_mon], tm.tm_mday);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (t > now - SIX_MONTHS && t <= now)
		m = snprintf(buf + n, len - (size_t)n, "%02d:%02d %s",
		    tm.tm_hour, tm.tm_min, name);
	else
		m = snprintf(buf + n, len - (size_t)n, " %4d %s",
		    tm.tm_year + 1900, name);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -1;
	n += m;
	if (S_ISLNK(st->st_mode) && target != NULL) {
		m = snprintf(buf + n, len - (size_t)n, " -> %s", target);
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -1;
		n += m;
	}
	return n;
}

int
listing_perm(char *buf, size_t len, const struct stat *st,
    const struct listing_who *who, int parent_w)
{
	const char	*l;
	size_t		 o = 0;
	int		 t, have, i;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((t = type_index(st->st_mode)) == -1)
		return 0;
	have = listing_access(st, who) | (parent_w ? P_PAR : 0);
	for (l = ls_types[t].perm, i = 0; l[i] != '\0'; i++) {
		if ((have & ls_types[t].need[i]) != ls_types[t].need[i])
			continue;
		if (o + 2 > len)
			return -1;
		buf[o++] = l[i];
	}
	buf[o] = '\0';
	return 0;
}

int
listing_fmt_facts(char *buf, size_t len, const struct stat *st,
    const char *name, const struct listing_who *who, int parent_w)
{
	char		 perm[16], size[32], modify[32];
	struct tm	 tm;
	time_t		 t = st->st_mtime;
	int		 ti, n;

	if (!name_ok(name) || listing_perm(perm, sizeof(perm), st, who,
	    parent_w) == -1)
		return -1;
	size[0] = modify[0] = '\0';
	if (!S_ISDIR(st->st_mode) && (size_t)snprintf(size, sizeof(size),
	    "size=%jd;", (intmax_t)st->st_size) >= sizeof(size))
		return -1;
	if (gmtime_r(&t, &tm) != NULL && tm.tm_year + 1900 >= 0 &&
	    tm.tm_year + 1900 <= 9999 &&
	    (size_t)snprintf(modify, sizeof(modify),
	    "modify=%04d%02d%02d%02d%02d%02d;", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) >=
	    sizeof(modify))
		return -1;
	ti = type_index(st->st_mode);
	n = snprintf(buf, len, "type=%s;%s%sperm=%s;unique=%jxg%jx; %s",
	    ti == -1 ? "OS.unix=unknown" : ls_types[ti].fact, size, modify,
	    perm, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/*
 * Keep only the facts OPTS MLST selected: "f=v;f=v; name" in place (a fact
 * value holds neither ';' nor ' '). Returns the new length.
 */
static int
facts_select(char *line, int n, unsigned int mask)
{
	char	*r = line, *w = line, *end;
	size_t	 tl;

	if (mask == MLST_ALL)
		return n;
	while (*r != ' ' && (end = strchr(r, ';')) != NULL) {
		tl = (size_t)(end - r) + 1;
		if (mlst_bit(r, strcspn(r, "=;")) & mask) {
			memmove(w, r, tl);
			w += tl;
		}
		r += tl;
	}
	memmove(w, r, strlen(r) + 1);
	return n - (int)(r - w);
}

/* ---- the handlers ---------------------------------------------------- */

static int
fmt_list(struct lsctx *c, int dirfd, const char *name, const struct stat *st)
{
	char	 target[PATH_MAX];
	ssize_t	 n;

	if (S_ISLNK(st->st_mode) &&
	    (n = readlinkat(dirfd, name, target, sizeof(target) - 1)) >= 0) {
		target[n] = '\0';
		return listing_fmt_list(c->line, sizeof(c->line), st, name,
		    name_ok(target) ? target : NULL, &c->who, c->now);
	}
	return listing_fmt_list(c->line, sizeof(c->line), st, name, NULL,
	    &c->who, c->now);
}

static int
fmt_nlst(struct lsctx *c, int dirfd, const char *name, const struct stat *st)
{
	int	n;

	(void)dirfd;
	(void)st;
	if (!name_ok(name))
		return -1;
	n = snprintf(c->line, sizeof(c->line), "%s", name);
	return n < 0 || (size_t)n >= sizeof(c->line) ? -1 : n;
}

static int
fmt_mlsd(struct lsctx *c, int dirfd, const char *name, const struct stat *st)
{
	int	n;

	(void)dirfd;
	if ((n = listing_fmt_facts(c->line, sizeof(c->line), st, name,
	    &c->who, c->parent_w)) < 0)
		return n;
	return facts_select(c->line, n, c->s->mlst);
}

static int
ls_flush(struct lsctx *c)
{
	if (c->failed)
		return -1;
	if (c->outlen > 0 &&
	    data_write(c->s, &c->dc, c->out, c->outlen) == -1) {
		c->failed = 1;
		return -1;
	}
	c->outlen = 0;
	return 0;
}

/* Format one entry and append it (with CRLF) to the output. */
static void
ls_one(struct lsctx *c, int dirfd, const char *name, const struct stat *st)
{
	int	n;

	if ((n = ls_kinds[c->kind].fmt(c, dirfd, name, st)) < 0) {
		log_debug("%s: entry left out of the listing", __func__);
		return;
	}
	if (c->outlen + (size_t)n + 2 > LS_OUTBUF && ls_flush(c) == -1)
		return;
	memcpy(c->out + c->outlen, c->line, (size_t)n);
	c->outlen += (size_t)n;
	c->out[c->outlen++] = '\r';
	c->out[c->outlen++] = '\n';
}

static void
ls_entry(struct lsctx *c, int dirfd, const char *name)
{
	struct stat	st;

	memset(&st, 0, sizeof(st));
	if (ls_kinds[c->kind].need_stat &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;		/* gone since readdir */
	ls_one(c, dirfd, name, &st);
}

/* The entries of d; only those matching pat, when it is not NULL. */
static void
ls_dir(struct lsctx *c, DIR *d, const char *pat)
{
	struct dirent	*de;
	int		 dfd = dirfd(d);

	while (!c->failed && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (pat != NULL && fnmatch(pat, de->d_name, FNM_PERIOD) != 0)
			continue;
		ls_entry(c, dfd, de->d_name);
	}
}

/*
 * LIST/NLST of a name that does not exist but whose last component is a
 * wildcard pattern ("*.txt", "sub/a?[0-9]"), as `mget` and ftplib's nlst
 * send it: the parent directory, to list what matches pat (fnmatch(3); a
 * leading dot only by a dot, no wildcard in the directory part). NULL with
 * errno ENOENT when nothing matches.
 */
static DIR *
ls_glob_open(struct session *s, const char *path, const char *pat)
{
	struct dirent	*de;
	DIR		*d;
	char		 base[NAME_MAX + 1];
	int		 pfd, fd;

	if ((pfd = vpath_parent(s, path, base, sizeof(base))) == -1)
		return NULL;
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	while ((de = readdir(d)) != NULL)
		if (fnmatch(pat, de->d_name, FNM_PERIOD) == 0 &&
		    strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			rewinddir(d);
			return d;
		}
	closedir(d);
	errno = ENOENT;
	return NULL;
}

/* "-la path" -> "path": ls options are accepted and ignored. */
static const char *
skip_options(const char *arg)
{
	while (arg[0] == '-' && arg[1] != '\0' && arg[1] != ' ') {
		while (*arg != '\0' && *arg != ' ')
			arg++;
		while (*arg == ' ')
			arg++;
	}
	return arg;
}

static void
ls_run(struct session *s, const char *arg, enum ls_kind kind)
{
	struct lsctx	*c;
	struct stat	 st, pst;
	char		 path[MOAT_PATH_MAX], base[NAME_MAX + 1];
	const char	*pat = NULL;
	DIR		*d = NULL;
	int		 fd, pfd = -1, err;

	if (arg == NULL)
		arg = "";
	if (ls_kinds[kind].options)
		arg = skip_options(arg);
	if (vpath_join(s->cwd, arg, path, sizeof(path)) == -1) {
		reply(s, 553, "Bad file name.");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->out = malloc(LS_OUTBUF)) == NULL) {
		log_warn("%s", __func__);
		reply(s, 451, "Local error in processing.");
		free(c);
		return;
	}
	c->s = s;
	c->kind = kind;
	c->who.uid = geteuid();		/* the files' owner in either mode */
	c->who.gid = getegid();
	c->who.name = s->user[0] != '\0' ? s->user : NULL;
	c->now = time(NULL);

	if ((fd = vpath_open(s, path, O_RDONLY | O_DIRECTORY, 0)) != -1) {
		if (fstat(fd, &pst) == -1 || (d = fdopendir(fd)) == NULL) {
			err = errno;
			close(fd);
			fs_reply_errno(s, err);
			goto done;
		}
		c->parent_w = (listing_access(&pst, &c->who) & (P_W | P_X)) ==
		    (P_W | P_X);
	} else if (errno != ENOTDIR && errno != ENOENT) {
		fs_reply_errno(s, errno);
		goto done;
	} else if (ls_kinds[kind].dir_only) {
		if (errno == ENOTDIR)
			reply(s, 501, "Not a directory.");
		else
			fs_reply_errno(s, errno);
		goto done;
	} else if (errno == ENOENT && strpbrk(vpath_base(path), "*?[") !=
	    NULL) {
		pat = vpath_base(path);
		if ((d = ls_glob_open(s, path, pat)) == NULL ||
		    fstat(dirfd(d), &pst) == -1) {
			if (errno == ENOENT)
				reply(s, 550, "No files found.");
			else
				fs_reply_errno(s, errno);
			goto done;
		}
		c->parent_w = (listing_access(&pst, &c->who) & (P_W | P_X)) ==
		    (P_W | P_X);
	} else {
		/* One file (or a dangling symlink): that entry alone. */
		if ((pfd = vpath_parent(s, path, base, sizeof(base))) == -1 ||
		    fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    fstat(pfd, &pst) == -1) {
			fs_reply_errno(s, errno);
			goto done;
		}
		c->parent_w = (listing_access(&pst, &c->who) & (P_W | P_X)) ==
		    (P_W | P_X);
	}

	if (data_open(s, &c->dc, "Here comes the directory listing.") == -1)
		goto done;
	if (d != NULL)
		ls_dir(c, d, pat);
	else
		ls_one(c, pfd, base, &st);
	ls_flush(c);
	/* through the TLS relay: the listing is whole once the relay says
	 * the client has it */
	if (!c->dc.aborted && !c->failed && data_finish(s, &c->dc) == -1)
		c->failed = 1;
	data_close(s, &c->dc);	/* answers ABOR itself */
	if (!c->dc.aborted && c->failed)
		reply(s, 426, "Connection closed; transfer aborted.");
	else if (!c->dc.aborted)
		reply(s, 226, "Transfer complete.");
 done:
	if (d != NULL)
		closedir(d);
	if (pfd != -1)
		close(pfd);
	free(c->out);
	free(c);
}

void
cmd_list(struct session *s, const char *arg)
{
	ls_run(s, arg, LS_LIST);
}

void
cmd_nlst(struct session *s, const char *arg)
{
	ls_run(s, arg, LS_NLST);
}

void
cmd_mlsd(struct session *s, const char *arg)
{
	ls_run(s, arg, LS_MLSD);
}

void
cmd_mlst(struct session *s, const char *arg)
{
	struct listing_who	 who;
	struct stat		 st, pst;
	char			 path[MOAT_PATH_MAX], base[NAME_MAX + 1];
	char			 facts[LISTING_LINE_MAX];
	char			 text[LISTING_LINE_MAX + MOAT_PATH_MAX + 64];
	int			 fd, parent_w = 0, n, rv;

	if (vpath_join(s->cwd, arg == NULL ? "" : arg, path,
	    sizeof(path)) == -1) {
		reply(s, 553, "Bad file name.");
		return;
	}
	who.uid = geteuid();
	who.gid = getegid();
	who.name = s->user[0] != '\0' ? s->user : NULL;
	if (strcmp(path, "/") == 0) {
		if ((fd = vpath_open(s, path, O_PATH | O_DIRECTORY, 0)) == -1) {
			fs_reply_errno(s, errno);
			return;
		}
		rv = fstat(fd, &st);
	} else {
		if ((fd = vpath_parent(s, path, base, sizeof(base))) == -1) {
			fs_reply_errno(s, errno);
			return;
		}
		rv = fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW);
		if (rv == 0 && (rv = fstat(fd, &pst)) == 0)
			parent_w = (listing_access(&pst, &who) &
			    (P_W | P_X)) == (P_W | P_X);
	}
	if (rv == -1) {
		rv = errno;
		close(fd);
		fs_reply_errno(s, rv);
		return;
	}
	close(fd);
	if ((n = listing_fmt_facts(facts, sizeof(facts), &st, path, &who,
	    parent_w)) == -1) {
		reply(s, 550, "Cannot list this entry.");
		return;
	}
	(void)facts_select(facts, n, s->mlst);
	n = snprintf(text, sizeof(text), "250-Listing %s\r\n %s\r\n250 End\r\n",
	    path, facts);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		reply(s, 550, "Cannot list this entry.");
		return;
	}
	reply_raw(s, text, (size_t)n);
}
