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
#define C_DIR		"\033[1;34m"
#define C_LINK		"\033[36m"
#define C_OFF		"\033[0m"

static int	rlist_add(struct rlist *, const struct ftp_entry *);
static int	fetch_raw(struct client *, const char *, const char *,
		    char **, size_t *);
static int	parse_raw(char *, size_t, int, struct rlist *, const char *,
		    const char *);
static int	entcmp(const void *, const void *);
static void	print_list(struct client *, struct rlist *);

static int
rlist_add(struct rlist *l, const struct ftp_entry *e)
{
	struct ftp_entry	*n;
	size_t			 cap;

	if (e->type == FTP_ENT_CDIR || e->type == FTP_ENT_PDIR ||
	    strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
		return 0;
	if (l->n >= LIST_ENT_MAX) {	/* tiny lines must not cost gigabytes */
		errno = E2BIG;
		return -1;
	}
	if (l->n == l->cap) {
		cap = l->cap == 0 ? 64 : l->cap * 2;
		if ((n = reallocarray(l->ent, cap, sizeof(*n))) == NULL)
			return -1;
		l->ent = n;
		l->cap = cap;
	}
	l->ent[l->n++] = *e;
	return 0;
}

void
rlist_free(struct rlist *l)
{
	free(l->ent);
	l->ent = NULL;
	l->n = l->cap = 0;
}

/* Run verb (MLSD or LIST) on path and read the whole listing. */
static int
fetch_raw(struct client *c, const char *verb, const char *path, char **out,
    size_t *outlen)
{
	struct data	 d;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 rv;

	if (path != NULL && *path != '\0')
		rv = ftp_data_open(c, &d, 0, "%s %s", verb, path);
	else
		rv = ftp_data_open(c, &d, 0, "%s", verb);
	if (rv == -1)
		return -1;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= LIST_DATA_MAX) {
				ftp_seterr(&c->f, "listing too large");
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
		free(buf);
		return -1;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return -1;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
 fail:
	(void)data_close(&c->f, &d, 1);
	free(buf);
	return -1;
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
		if (rlist_add(l, &e) == -1)
			return -1;
	}
	return 0;
}

int
rlist_fetch(struct client *c, const char *path, struct rlist *l,
    const char *what)
{
	char	*buf;
	size_t	 len;
	int	 mlsd = (c->f.feat & FEAT_MLSD) != 0, rv;

	memset(l, 0, sizeof(*l));
	if (mlsd && fetch_raw(c, "MLSD", path, &buf, &len) == -1) {
		if (c->f.reply == NULL || c->f.reply->code < 500)
			return -1;
		mlsd = 0;
	}
	if (!mlsd && fetch_raw(c, "LIST", path, &buf, &len) == -1)
		return -1;
	rv = parse_raw(buf, len, mlsd, l, what, path != NULL && *path != '\0' ?
	    path : c->cwd);
	free(buf);
	if (rv == -1) {
		ftp_seterr(&c->f, "out of memory");
		rlist_free(l);
	}
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

	if (rlist_fetch(c, path, &l, "ls") == -1) {
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
	const char	*dir = argc > 1 ? argv[1] : ".";
	char		 path[MOAT_PATH_MAX];
	DIR		*dp;

	memset(&l, 0, sizeof(l));
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
		if (rlist_add(&l, &e) == -1) {
			closedir(dp);
			rlist_free(&l);
			warnx("lls: out of memory");
			return -1;
		}
	}
	closedir(dp);
	print_list(c, &l);
	rlist_free(&l);
	return 0;
}
