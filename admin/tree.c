/*
 * Walking a home: its usage (sum of regular file sizes) and its removal.
 * Every step is relative to an open directory and never follows a
 * symbolic link, so a user who swaps a directory for a link mid-walk
 * cannot send us outside the home. Other file systems are not entered.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"

#define TREE_DEPTH_MAX	256

typedef int (*tree_fn)(int, const char *, const struct stat *, void *);

static int	tree_walk(int, dev_t, int, tree_fn, tree_fn, void *);
static int	usage_file(int, const char *, const struct stat *, void *);
static int	remove_file(int, const char *, const struct stat *, void *);
static int	remove_dir(int, const char *, const struct stat *, void *);
static int	tree_open(const char *, struct stat *);

/*
 * Visit the entries of the directory dfd (which this closes): file() for
 * each non-directory, recursion and then post() for each directory.
 */
static int
tree_walk(int dfd, dev_t dev, int depth, tree_fn file, tree_fn post,
    void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	int		 fd, rv = 0, saved;

	if (depth > TREE_DEPTH_MAX) {
		(void)close(dfd);
		errno = ELOOP;
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		(void)close(dfd);
		errno = saved;
		return -1;
	}
	while (rv == 0) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				rv = -1;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			rv = -1;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			rv = file(dirfd(d), de->d_name, &st, arg);
			continue;
		}
		if (st.st_dev != dev) {
			errno = EXDEV;		/* a mount point */
			rv = post == NULL ? 0 : -1;
			continue;
		}
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1) {
			rv = -1;
			break;
		}
		rv = tree_walk(fd, dev, depth + 1, file, post, arg);
		if (rv == 0 && post != NULL)
			rv = post(dirfd(d), de->d_name, &st, arg);
	}
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return rv;
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

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
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
	return tree_walk(fd, st.st_dev, 0, usage_file, NULL, bytes);
}

/* rm -rf path, never following a link and staying on its file system. */
int
tree_remove(const char *path)
{
	struct stat	st;
	int		fd;

	if ((fd = tree_open(path, &st)) == -1)
		return -1;
	if (tree_walk(fd, st.st_dev, 0, remove_file, remove_dir, NULL) == -1)
		return -1;
	return rmdir(path);
}
