/*
 * Whole trees: get -r, put -r and del -d. Depth is bounded, and so is the
 * memory of the listings held on the way down: a listing past a limit
 * (rlist_fetch -2) ends the whole tree, with one message.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"
#include "shared/mkdirp.h"


/* 1 directory, 0 not (or missing), -1 I/O error. Leaves cwd unchanged. */
int
remote_is_dir(struct client *c, const char *path)
{
	int	code;

	if ((code = ftp_cmd(&c->f, "CWD %s", path)) == -1)
		return -1;
	if (code != 250)
		return 0;
	if (ftp_cmd(&c->f, "CWD %s", c->cwd) != 250) {
		ftp_seterr(&c->f, "cannot return to %s", c->cwd);
		return -1;
	}
	return 1;
}

/*
 * MLST where the server has it, else the entry's line in the listing of
 * its directory: CWD would follow a link and see where it leads.
 */
int
remote_type(struct client *c, const char *path)
{
	struct ftp_entry	 e;
	struct rlist		 l;
	char			 name[FTP_ENTNAME_MAX], dir[MOAT_PATH_MAX];
	size_t			 i, n;
	int			 code, type = -1;

	if (c->f.feat & FEAT_MLST) {
		if ((code = ftp_cmd(&c->f, "MLST %s", path)) == -1)
			return -1;
		if (code == 250 && ftpreply_mlst(c->f.reply->text, &e) == 0)
			return e.type;
		if (code != 250 && code != 500 && code != 501 &&
		    code != 502 && code != 504) {
			ftp_seterr_reply(&c->f);
			return -1;
		}
	}
	if (base_name(path, name, sizeof(name)) == -1) {
		ftp_seterr(&c->f, "not a name in a directory");
		return -1;
	}
	if ((n = (size_t)(path_base(path) - path)) >= sizeof(dir)) {
		ftp_seterr(&c->f, "name too long");
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	if (rlist_fetch(c, n > 0 ? dir : NULL, &l, NULL) != 0)
		return -1;
	for (i = 0; i < l.n && type == -1; i++)
		if (strcmp(l.ent[i].name, name) == 0)
			type = l.ent[i].type;
	rlist_free(&l);
	if (type == -1)
		ftp_seterr(&c->f, "not in the listing of %s", n > 0 ? dir :
		    "the remote directory");
	return type;
}

/* A link in a listing: 1 if it leads to a regular file, 0 if not, -1. */
static int
link_to_file(struct client *c, const char *path)
{
	int	code;

	if ((code = ftp_cmd(&c->f, "SIZE %s", path)) == -1)
		return -1;
	if (code == 213)
		return 1;
	if (code == 500 || code == 502) {	/* no SIZE: ask CWD */
		if ((code = remote_is_dir(c, path)) == -1)
			return -1;
		return code == 0;
	}
	return 0;
}

int
tree_get(struct client *c, const char *remote, const char *localdir,
    int flags, int depth)
{
	struct rlist	 l;
	char		 name[FTP_ENTNAME_MAX], ldir[MOAT_PATH_MAX];
	char		 rpath[MOAT_PATH_MAX];
	size_t		 i;
	int		 isdir, link, sub, rv;

	if (depth > CL_DEPTH_MAX) {
		warnx("get: %s: tree too deep", remote);
		return -1;
	}
	if ((isdir = remote_is_dir(c, remote)) == -1) {
		warnx("get: %s: %s", remote, c->f.err);
		return -1;
	}
	if (!isdir)
		return xfer_get(c, remote, localdir, flags);
	if (base_name(remote, name, sizeof(name)) == -1 ||
	    rpath_join(ldir, sizeof(ldir), localdir ? localdir : "", name)) {
		warnx("get: %s: bad directory name", remote);
		return -1;
	}
	if (mkdir_p(ldir, 0777, 0) == -1) {
		warn("get: %s", ldir);
		return -1;
	}
	if ((rv = rlist_fetch(c, remote, &l, "get")) != 0) {
		warnx("get: %s: %s", remote, c->f.err);
		return rv;
	}
	if (l.nbad > 0)		/* each said why: the tree is not whole */
		rv = -1;
	rlist_sort(&l);
	for (i = 0; i < l.n && rv != -2 && !cl_interrupted; i++) {
		if (rpath_join(rpath, sizeof(rpath), remote, l.ent[i].name)) {
			warnx("get: %s/%s: name too long", remote,
			    l.ent[i].name);
			rv = -1;
			continue;
		}
		switch (l.ent[i].type) {
		case FTP_ENT_DIR:
			sub = tree_get(c, rpath, ldir, flags, depth + 1);
			if (sub < 0)
				rv = sub;
			break;
		case FTP_ENT_LINK:
			/* a link is followed to a file only, never into a
			 * directory: RETR of one would fail */
			if ((link = link_to_file(c, rpath)) == -1) {
				warnx("get: %s: %s", rpath, c->f.err);
				rv = -1;
				break;
			}
			if (!link) {
				warnx("get: %s: symbolic link to a directory "
				    "or to nothing: skipped", rpath);
				break;
			}
			/* FALLTHROUGH */
		case FTP_ENT_FILE:
			if (xfer_get(c, rpath, ldir, flags | XF_TREE) == -1)
				rv = -1;
			break;
		default:
			warnx("get: %s: not a regular file: skipped", rpath);
			break;
		}
	}
	rlist_free(&l);
	return cl_interrupted ? -1 : rv;
}

int
tree_put(struct client *c, const char *local, const char *remotedir,
    int flags, int depth)
{
	struct dirent	*de;
	struct stat	 st;
	char		 name[FTP_ENTNAME_MAX], rdir[MOAT_PATH_MAX];
	char		 lpath[MOAT_PATH_MAX];
	DIR		*dp;
	size_t		 nl;
	int		 rv = 0, code;

	if (depth > CL_DEPTH_MAX) {
		warnx("put: %s: tree too deep", local);
		return -1;
	}
	if (stat(local, &st) == -1) {
		warn("put: %s", local);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return xfer_put(c, local, remotedir, flags);
	if (base_name(local, name, sizeof(name)) == -1 ||
	    rpath_join(rdir, sizeof(rdir), remotedir ? remotedir : "", name)) {
		warnx("put: %s: bad directory name", local);
		return -1;
	}
	if ((code = ftp_cmd(&c->f, "MKD %s", rdir)) == -1 ||
	    (code != 257 && remote_is_dir(c, rdir) != 1)) {
		warnx("put: mkdir %s: %s", rdir, code == -1 ? c->f.err :
		    "failed");
		return -1;
	}
	if ((dp = opendir(local)) == NULL) {
		warn("put: %s", local);
		return -1;
	}
	while ((de = readdir(dp)) != NULL && !cl_interrupted) {
		nl = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (nl > strlen(CL_PART_SUFFIX) && strcmp(de->d_name + nl -
		    strlen(CL_PART_SUFFIX), CL_PART_SUFFIX) == 0))
			continue;
		if (rpath_join(lpath, sizeof(lpath), local, de->d_name) == -1 ||
		    lstat(lpath, &st) == -1) {
			warnx("put: %s/%s: skipped", local, de->d_name);
			rv = -1;
			continue;
		}
		/* a link is followed to a file only, as get -r does */
		if (S_ISLNK(st.st_mode) && (stat(lpath, &st) == -1 ||
		    S_ISDIR(st.st_mode))) {
			warnx("put: %s: symbolic link to a directory or to "
			    "nothing: skipped", lpath);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (tree_put(c, lpath, rdir, flags, depth + 1) == -1)
				rv = -1;
		} else if (S_ISREG(st.st_mode)) {
			if (xfer_put(c, lpath, rdir, flags | XF_TREE) == -1)
				rv = -1;
		} else
			warnx("put: %s: not a regular file: skipped", lpath);
	}
	closedir(dp);
	return cl_interrupted ? -1 : rv;
}

int
tree_del(struct client *c, const char *dir, int depth)
{
	struct rlist	 l;
	char		 rpath[MOAT_PATH_MAX];
	size_t		 i;
	int		 rv = 0, code;

	if (depth > CL_DEPTH_MAX) {
		warnx("del: %s: tree too deep", dir);
		return -1;
	}
	if ((rv = rlist_fetch(c, dir, &l, "del")) != 0) {
		warnx("del: %s: %s", dir, c->f.err);
		return rv;
	}
	if (l.nbad > 0)		/* not empty then: no RMD */
		rv = -1;
	for (i = 0; i < l.n && rv != -2 && !cl_interrupted; i++) {
		if (rpath_join(rpath, sizeof(rpath), dir, l.ent[i].name)) {
			rv = -1;
			continue;
		}
		if (l.ent[i].type == FTP_ENT_DIR) {
			if ((code = tree_del(c, rpath, depth + 1)) < 0)
				rv = code;
		} else if ((code = ftp_cmd(&c->f, "DELE %s", rpath)) != 250) {
			if (code != -1)
				ftp_seterr_reply(&c->f);
			warnx("del: %s: %s", rpath, c->f.err);
			rv = -1;
		}
	}
	rlist_free(&l);
	if (rv == 0 && !cl_interrupted) {
		if ((code = ftp_cmd(&c->f, "RMD %s", dir)) != 250) {
			if (code != -1)
				ftp_seterr_reply(&c->f);
			warnx("del: rmdir %s: %s", dir, c->f.err);
			rv = -1;
		}
	}
	return cl_interrupted ? -1 : rv;
}
