/*
 * Listings: remote (MLSD, falling back to LIST) and local, sorted with
 * directories first, printed with sizes, times and a summary line.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "client/client.h"
#include "shared/log.h"
#include "shared/size.h"

#define LIST_DATA_MAX	(64 * 1024 * 1024)	/* one listing, bytes */
#define LIST_ENT_MAX	200000			/* one listing, entries */
/* All listings alive at once (get -r and del -d hold one per level): raw
 * bytes and entries. One listing of LIST_ENT_MAX entries fits. */
#define LIST_HELD_MAX	(256 * 1024 * 1024)
#define C_DIR		"\033[1;34m"
#define C_LINK		"\033[36m"
#define C_OFF		"\033[0m"

static int	held_change(size_t, size_t);
static int	rlist_add(struct rlist *, const struct ftp_entry *);
static int	fetch_raw(struct client *, const char *, const char *,
		    char **, size_t *, size_t *);
static int	parse_raw(char *, size_t, int, struct rlist *, const char *,
		    const char *);
static int	entcmp(const void *, const void *);
static void	print_list(struct client *, struct rlist *);

/* Bytes of listings alive, LIST_HELD_MAX at most. */
static size_t	list_held;

/* One allocation goes from `from' bytes to `to': 0, or -1 if that would
 * take the listings alive past LIST_HELD_MAX. */
static int
held_change(size_t from, size_t to)
{
	if (to > from && to - from > LIST_HELD_MAX - list_held)
		return -1;
	list_held = list_held - from + to;
	return 0;
}

/* 0, -1 out of memory, -2 past a limit. */
static int
rlist_add(struct rlist *l, const struct ftp_entry *e)
{
	struct ftp_entry	*n;
	size_t			 cap, sz = sizeof(*n);

	if (e->type == FTP_ENT_CDIR || e->type == FTP_ENT_PDIR ||
	    strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
		return 0;
	if (l->n >= LIST_ENT_MAX)	/* tiny lines must not cost gigabytes */
		return -2;
	if (l->n == l->cap) {
		cap = l->cap == 0 ? 64 : l->cap * 2;
		if (cap > LIST_ENT_MAX)
			cap = LIST_ENT_MAX;
		if (held_change(l->cap * sz, cap * sz) == -1)
			return -2;
		if ((n = reallocarray(l->ent, cap, sz)) == NULL) {
			(void)held_change(cap * sz, l->cap * sz);
			return -1;
		}
		l->ent = n;
		l->cap = cap;
	}
	l->ent[l->n++] = *e;
	return 0;
}

void
rlist_free(struct rlist *l)
{
	(void)held_change(l->cap * sizeof(*l->ent), 0);
	free(l->ent);
	l->ent = NULL;
	l->n = l->cap = l->nbad = 0;
}

/*
 * Run verb (MLSD or LIST) on path and read the whole listing: 0, -1, or -2
 * past a limit. *held: the bytes charged for *out, to give back.
 */
static int
fetch_raw(struct client *c, const char *verb, const char *path, char **out,
    size_t *outlen, size_t *held)
{
	struct data	 d;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 rv, err = -1;

	if (path != NULL && *path != '\0')
		rv = ftp_data_open(c, &d, 0, "%s %s", verb, path);
	else
		rv = ftp_data_open(c, &d, 0, "%s", verb);
	if (rv == -1)
		return -1;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= LIST_DATA_MAX) {
				ftp_seterr(&c->f, "listing too large (over %d "
				    "MiB)", LIST_DATA_MAX >> 20);
				err = -2;
				goto fail;
			}
			if (held_change(cap == 0 ? 0 : cap + 1, cap == 0 ?
			    65536 + 1 : cap * 2 + 1) == -1) {
				ftp_seterr(&c->f, "listings too large (over %d "
				    "MiB held at once)", LIST_HELD_MAX >> 20);
				err = -2;
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				ftp_seterr(&c->f, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		if ((n = data_read(&d, buf + len, cap - len)) == 0)
			break;
		if (n == -1) {
			ftp_seterr(&c->f, "data connection: %s",
			    strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (data_close(&c->f, &d, 0) == -1) {
		(void)held_change(cap == 0 ? 0 : cap + 1, 0);
		free(buf);
		return -1;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		ftp_seterr(&c->f, "out of memory");
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	*held = cap == 0 ? 0 : cap + 1;
	return 0;
 fail:
	(void)data_close(&c->f, &d, 1);
	(void)held_change(cap == 0 ? 0 : cap + 1, 0);
	free(buf);
	return err;
}

/* Names the client cannot use are counted, and shown escaped if what. */
static int
parse_raw(char *buf, size_t len, int mlsd, struct rlist *l, const char *what,
    const char *path)
{
	struct ftp_entry	 e;
	char			*line, *nl, *end = buf + len;
	char			 vis[FTP_ENTNAME_MAX * 4 + 1];
	time_t			 now = time(NULL);
	int			 rv;

	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		rv = mlsd ? ftpreply_mlsd(line, &e) :
		    ftpreply_list(line, now, &e);
		if (rv == FTPREPLY_BADNAME) {
			l->nbad++;
			if (what != NULL)
				warnx("%s: %s: skipped a name with a control "
				    "character or a slash: %s", what, path,
				    log_vis(vis, sizeof(vis), e.name));
			continue;
		}
		if (rv != 0)
			continue;
		if ((rv = rlist_add(l, &e)) != 0)
			return rv;
	}
	return 0;
}

int
rlist_fetch(struct client *c, const char *path, struct rlist *l,
    const char *what)
{
	char	*buf;
	size_t	 len, held;
	int	 mlsd = (c->f.feat & FEAT_MLSD) != 0, rv;

	memset(l, 0, sizeof(*l));
	if (mlsd && (rv = fetch_raw(c, "MLSD", path, &buf, &len, &held)) !=
	    0) {
		if (rv == -2 || c->f.reply == NULL || c->f.reply->code < 500)
			return rv;
		mlsd = 0;
	}
	if (!mlsd && (rv = fetch_raw(c, "LIST", path, &buf, &len, &held)) !=
	    0)
		return rv;
	rv = parse_raw(buf, len, mlsd, l, what, path != NULL && *path != '\0' ?
	    path : c->cwd);
	(void)held_change(held, 0);
	free(buf);
	if (rv == -1)
		ftp_seterr(&c->f, "out of memory");
	else if (rv == -2 && l->n >= LIST_ENT_MAX)
		ftp_seterr(&c->f, "listing too large (over %d entries)",
		    LIST_ENT_MAX);
	else if (rv == -2)
		ftp_seterr(&c->f, "listings too large (over %d MiB held at "
		    "once)", LIST_HELD_MAX >> 20);
	if (rv != 0)
		rlist_free(l);
	return rv;
}

static int
entcmp(const void *a, const void *b)
{
	const struct ftp_entry	*x = a, *y = b;
	int			 dx = x->type == FTP_ENT_DIR;
	int			 dy = y->type == FTP_ENT_DIR;

	if (dx != dy)
		return dy - dx;
	return strcmp(x->name, y->name);
}

void
rlist_sort(struct rlist *l)
{
	if (l->n > 1)
		qsort(l->ent, l->n, sizeof(l->ent[0]), entcmp);
}

static void
print_list(struct client *c, struct rlist *l)
{
	struct ftp_entry	*e;
	struct tm		 tm;
	char			 size[16], when[32];
	uint64_t		 total = 0;
	size_t			 i, ndirs = 0, nfiles = 0;

	rlist_sort(l);
	for (i = 0; i < l->n; i++) {
		e = &l->ent[i];
		if (e->type == FTP_ENT_DIR) {
			ndirs++;
			strlcpy(size, "-", sizeof(size));
		} else {
			nfiles++;
			total += e->size;
			if (e->has_size)
				size_format(e->size, size, sizeof(size));
			else
				strlcpy(size, "?", sizeof(size));
		}
		if (e->has_mtime && localtime_r(&e->mtime, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		else
			strlcpy(when, "                ", sizeof(when));
		printf("%6s  %s  %s%s%s%s\n", size, when,
		    !c->color ? "" : e->type == FTP_ENT_DIR ? C_DIR :
		    e->type == FTP_ENT_LINK ? C_LINK : "", e->name,
		    c->color && (e->type == FTP_ENT_DIR ||
		    e->type == FTP_ENT_LINK) ? C_OFF : "",
		    e->type == FTP_ENT_DIR ? "/" :
		    e->type == FTP_ENT_LINK ? "@" : "");
	}
	size_format(total, size, sizeof(size));
	printf("%zu director%s, %zu file%s, %s\n", ndirs,
	    ndirs == 1 ? "y" : "ies", nfiles, nfiles == 1 ? "" : "s", size);
}

int
cmd_ls(struct client *c, int argc, char **argv)
{
	struct rlist	 l;
	const char	*path = argc > 1 ? argv[1] : NULL;

	if (rlist_fetch(c, path, &l, "ls") != 0) {
		warnx("ls: %s: %s", path ? path : c->cwd, c->f.err);
		return -1;
	}
	/* LIST of a missing path is an empty listing on some servers. */
	if (l.n == 0 && path != NULL && remote_is_dir(c, path) == 0 &&
	    ftp_cmd(&c->f, "SIZE %s", path) != 213) {
		rlist_free(&l);
		warnx("ls: %s: no such file or directory", path);
		return -1;
	}
	print_list(c, &l);
	rlist_free(&l);
	return 0;
}

int
cmd_lls(struct client *c, int argc, char **argv)
{
	struct rlist	 l;
	struct ftp_entry e;
	struct dirent	*de;
	struct stat	 st;
	char		 dir[MOAT_PATH_MAX], path[MOAT_PATH_MAX];
	DIR		*dp;

	memset(&l, 0, sizeof(l));
	if (local_path("lls", argc > 1 ? argv[1] : ".", dir, sizeof(dir)) ==
	    -1)
		return -1;
	if ((dp = opendir(dir)) == NULL) {
		warn("lls: %s", dir);
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || lstat(path, &st) == -1)
			continue;
		memset(&e, 0, sizeof(e));
		if (strlcpy(e.name, de->d_name, sizeof(e.name)) >=
		    sizeof(e.name))
			continue;
		e.type = S_ISDIR(st.st_mode) ? FTP_ENT_DIR :
		    S_ISLNK(st.st_mode) ? FTP_ENT_LINK :
		    S_ISREG(st.st_mode) ? FTP_ENT_FILE : FTP_ENT_OTHER;
		e.size = (uint64_t)st.st_size;
		e.mtime = st.st_mtime;
		e.has_size = e.has_mtime = 1;
		if (rlist_add(&l, &e) != 0) {
			closedir(dp);
			rlist_free(&l);
			warnx("lls: %s: too many entries, or out of memory",
			    dir);
			return -1;
		}
	}
	closedir(dp);
	print_list(c, &l);
	rlist_free(&l);
	return 0;
}
