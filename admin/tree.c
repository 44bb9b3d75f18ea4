/*
 * Walking a home: its usage (sum of regular file sizes) and its removal.
 * Every step is relative to an open directory and never follows a
 * symbolic link, so a user who swaps a directory for a link mid-walk
 * cannot send us outside the home. Other file systems are not entered.
 *
 * The depth of a home is the user's choice (MKD builds thousands of
 * levels), so the walk keeps one directory open, not one per level, and
 * does not recurse: it reads a directory whole (files at once, the names
 * of its subdirectories for later), goes down by name and back up through
 * "..", and checks the device and inode of every directory it enters
 * against those it recorded. A tree moved under it fails the walk with
 * ESTALE rather than letting it go on somewhere else.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"

#define TREE_DEPTH_MAX	(1 << 16)	/* against bind mount loops */
#define TREE_OPEN	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

typedef int (*tree_fn)(int, const char *, const struct stat *, void *);

/* A subdirectory still to visit. */
struct tree_sub {
	char		*name;
	dev_t		 dev;
	ino_t		 ino;
};

/* A directory on the way from the top to where the walk is. */
struct tree_level {
	struct stat	 st;		/* its own */
	struct tree_sub	*subs;
	size_t		 nsubs;
	size_t		 cap;
	size_t		 next;		/* the next of subs to visit */
};

struct tree {
	struct tree_level	*lv;
	size_t			 n;	/* lv[n - 1] is the one open */
	size_t			 cap;
	dev_t			 dev;
	tree_fn			 file;
	tree_fn			 post;
	void			*arg;
};

static int	tree_walk(int, const struct stat *, tree_fn, tree_fn, void *);
static int	tree_read(struct tree *, int);
static int	tree_enter(int, const char *, dev_t, ino_t, struct stat *);
static int	tree_push(struct tree *, const struct stat *);
static void	tree_pop(struct tree *);
static int	usage_file(int, const char *, const struct stat *, void *);
static int	remove_file(int, const char *, const struct stat *, void *);
static int	remove_dir(int, const char *, const struct stat *, void *);
static int	tree_open(const char *, struct stat *);

/*
 * Visit what is under the directory fd (which this closes; top is its
 * stat): file() for each non-directory, post() for each directory after
 * what is under it. A directory on another device is skipped if post is
 * NULL and fails the walk with EXDEV if not.
 */
static int
tree_walk(int fd, const struct stat *top, tree_fn file, tree_fn post,
    void *arg)
{
	struct tree		 t;
	struct tree_level	*l;
	struct tree_sub		*s;
	struct stat		 st;
	int			 nfd, rv = -1, saved;

	memset(&t, 0, sizeof(t));
	t.dev = top->st_dev;
	t.file = file;
	t.post = post;
	t.arg = arg;
	if (tree_push(&t, top) == -1 || tree_read(&t, fd) == -1)
		goto fail;
	for (;;) {
		l = &t.lv[t.n - 1];
		if (l->next < l->nsubs) {
			s = &l->subs[l->next++];
			if ((nfd = tree_enter(fd, s->name, s->dev, s->ino,
			    &st)) == -1) {
				if (errno == ENOENT)
					continue;	/* gone meanwhile */
				goto fail;
			}
			(void)close(fd);
			fd = nfd;
			if (tree_push(&t, &st) == -1 || tree_read(&t, fd) == -1)
				goto fail;
			continue;
		}
		if (t.n == 1)
			break;
		st = l->st;
		if ((nfd = tree_enter(fd, "..", t.lv[t.n - 2].st.st_dev,
		    t.lv[t.n - 2].st.st_ino, NULL)) == -1) {
			if (errno == ENOENT)
				errno = ESTALE;	/* we were in a removed one */
			goto fail;
		}
		(void)close(fd);
		fd = nfd;
		tree_pop(&t);
		l = &t.lv[t.n - 1];
		if (post != NULL &&
		    post(fd, l->subs[l->next - 1].name, &st, arg) == -1)
			goto fail;
	}
	rv = 0;
 fail:
	saved = errno;
	(void)close(fd);
	while (t.n > 0)
		tree_pop(&t);
	free(t.lv);
	errno = saved;
	return rv;
}

/*
 * Read the open directory fd, the last level of t: file() on each
 * non-directory at once, the subdirectories into the level.
 */
static int
tree_read(struct tree *t, int fd)
{
	struct tree_level	*l = &t->lv[t->n - 1];
	struct tree_sub		*s;
	DIR			*d;
	struct dirent		*de;
	struct stat		 st;
	size_t			 cap;
	int			 dfd, rv = -1, saved;

	/* The walk keeps fd; closedir() closes this one. */
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		(void)close(dfd);
		errno = saved;
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (t->file(fd, de->d_name, &st, t->arg) == -1)
				goto fail;
			continue;
		}
		if (st.st_dev != t->dev) {
			errno = EXDEV;		/* a mount point */
			if (t->post != NULL)
				goto fail;
			continue;
		}
		if (l->nsubs == l->cap) {
			cap = l->cap == 0 ? 16 : l->cap * 2;
			if ((s = reallocarray(l->subs, cap,
			    sizeof(*s))) == NULL)
				goto fail;
			l->subs = s;
			l->cap = cap;
		}
		s = &l->subs[l->nsubs];
		if ((s->name = strdup(de->d_name)) == NULL)
			goto fail;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		l->nsubs++;
	}
	rv = 0;
 fail:
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return rv;
}

/*
 * Open the directory name under fd and check that it is the one recorded
 * as dev, ino; its stat into st unless NULL. The new descriptor, or -1
 * (ESTALE if it is another: the tree has moved).
 */
static int
tree_enter(int fd, const char *name, dev_t dev, ino_t ino, struct stat *st)
{
	struct stat	 sb;
	int		 nfd, saved;

	if ((nfd = openat(fd, name, TREE_OPEN)) == -1)
		return -1;
	if (fstat(nfd, &sb) == -1)
		goto fail;
	if (sb.st_dev != dev || sb.st_ino != ino) {
		errno = ESTALE;
		goto fail;
	}
	if (st != NULL)
		*st = sb;
	return nfd;
 fail:
	saved = errno;
	(void)close(nfd);
	errno = saved;
	return -1;
}

/* Add a level for the directory of stat st; ELOOP past TREE_DEPTH_MAX. */
static int
tree_push(struct tree *t, const struct stat *st)
{
	struct tree_level	*lv;
	size_t			 cap;

	if (t->n > TREE_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	if (t->n == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		if ((lv = reallocarray(t->lv, cap, sizeof(*lv))) == NULL)
			return -1;
		t->lv = lv;
		t->cap = cap;
	}
	memset(&t->lv[t->n], 0, sizeof(t->lv[t->n]));
	t->lv[t->n].st = *st;
	t->n++;
	return 0;
}

/* Drop the last level and the names it holds. */
static void
tree_pop(struct tree *t)
{
	struct tree_level	*l = &t->lv[t->n - 1];
	size_t			 i;

	for (i = 0; i < l->nsubs; i++)
		free(l->subs[i].name);
	free(l->subs);
	t->n--;
}

static int
usage_file(int dfd, const char *name, const struct stat *st, void *arg)
{
	uint64_t	*sum = arg;

	(void)dfd;
	(void)name;
	if (S_ISREG(st->st_mode))
		*sum += (uint64_t)st->st_size;
	return 0;
}

static int
remove_file(int dfd, const char *name, const struct stat *st, void *arg)
{
	(void)st;
	(void)arg;
	if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
remove_dir(int dfd, const char *name, const struct stat *st, void *arg)
{
	(void)st;
	(void)arg;
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/* Open a directory that must not be a symbolic link. */
static int
tree_open(const char *path, struct stat *st)
{
	int	fd, saved;

	if ((fd = open(path, TREE_OPEN)) == -1)
		return -1;
	if (fstat(fd, st) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Sum of the sizes of the regular files under path. 0 or -1. */
int
tree_usage(const char *path, uint64_t *bytes)
{
	struct stat	st;
	int		fd;

	*bytes = 0;
	if ((fd = tree_open(path, &st)) == -1)
		return -1;
	return tree_walk(fd, &st, usage_file, NULL, bytes);
}

/* rm -rf path, never following a link and staying on its file system. */
int
tree_remove(const char *path)
{
	struct stat	st;
	int		fd;

	if ((fd = tree_open(path, &st)) == -1)
		return -1;
	if (tree_walk(fd, &st, remove_file, remove_dir, NULL) == -1)
		return -1;
	return rmdir(path);
}
