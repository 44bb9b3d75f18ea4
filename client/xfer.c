/*
 * One file each way. Bytes go to a part file (NAME.moatpart here,
 * .NAME.moatpart on the server) that a later run resumes with REST; the
 * digest is computed while streaming and compared with the server's (HASH,
 * else XMD5/XSHA256) before the part file is renamed to NAME.
 *
 * The bytes already in a part file are kept only when the result can be
 * checked and the transfer resumed: the server tells the file's size,
 * offers a digest and, for a download, REST. A resumed transfer that does
 * not match (the part file was stale) or that the server will not resume
 * starts over from byte 0, once; a mismatch then is a real failure.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"
#include "shared/digest.h"
#include "shared/mkdirp.h"

enum try { TRY_OK, TRY_FAIL, TRY_AGAIN };	/* again: from byte 0 */

struct job {
	struct client	*c;
	const char	*name;		/* as shown */
	int		 fd;		/* local file */
	uint64_t	 off;		/* resumed from */
	uint64_t	 size;		/* UINT64_MAX if unknown */
	struct digest	*dg;
	char		*buf;
	struct progress	 pg;
	char		 note[96];	/* how it ended: "MD5 verified"... */
};

static int	remote_size(struct client *, const char *, uint64_t *);
static int	digest_prefix(struct job *);
static int	server_digest(struct client *, const char *, char *);
static const char *no_resume(struct job *, int);
static void	say_restart(struct job *, const char *);
static int	job_start(struct job *, const char *, const char *);
static int	recv_data(struct job *, struct data *);
static int	send_data(struct job *, struct data *);
static enum try	verify(struct job *, const char *, uint64_t);
static enum try	get_try(struct job *, const char *, const char *);
static enum try	put_try(struct job *, const char *, const char *,
		    const char *);
static void	hash_announce(struct client *);
static int	remote_rename(struct client *, const char *, const char *,
		    int);

/* Last path component without trailing slashes; -1 for "", ".", "..",
 * "/" or one too long. */
int
base_name(const char *path, char *out, size_t len)
{
	size_t	n;

	if (strlcpy(out, path_base(path), len) >= len)
		return -1;
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 ||
	    strcmp(out, "/") == 0)
		return -1;
	return 0;
}

/*
 * 0 and the size; 1 if the server says for good that it has no size to
 * give (a 5xx: no such file, or no SIZE); -1 on error, a 4xx included: a
 * server busy for a moment must not make us throw a part file away.
 */
static int
remote_size(struct client *c, const char *path, uint64_t *size)
{
	struct ftp_entry	e;
	char			buf[64];
	int			code;

	if ((code = ftp_cmd(&c->f, "SIZE %s", path)) == -1)
		return -1;
	if (code != 213) {
		ftp_seterr_reply(&c->f);
		return code >= 500 && code < 600 ? 1 : -1;
	}
	/* "213 1234": reuse the MLSD size fact parser. */
	if ((size_t)snprintf(buf, sizeof(buf), "size=%s; x",
	    c->f.reply->last) >= sizeof(buf) ||
	    ftpreply_mlsd(buf, &e) != 0 || !e.has_size) {
		ftp_seterr(&c->f, "bad SIZE reply");
		return -1;
	}
	*size = e.size;
	return 0;
}

static int
digest_prefix(struct job *j)
{
	uint64_t	left = j->off, pos = 0;
	ssize_t		n;

	while (left > 0) {
		n = pread(j->fd, j->buf, left > MOAT_XFER_BUF ? MOAT_XFER_BUF :
		    (size_t)left, (off_t)pos);
		if (n <= 0)
			return -1;
		digest_update(j->dg, j->buf, (size_t)n);
		pos += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return 0;
}

/* OPTS HASH with our algorithm, once. Sent before an upload too: a server
 * may digest the bytes as they arrive and answer HASH without a reread. */
static void
hash_announce(struct client *c)
{
	struct ftp	*f = &c->f;

	if (!(f->feat & FEAT_HASH) || f->hash_algo == c->o.hash ||
	    f->hash_algo == HASH_ALGO_REFUSED)
		return;
	/* asked once: a server that refuses our algorithm is not asked
	 * again for every file */
	f->hash_algo = ftp_cmd(f, "OPTS HASH %s", digest_name(c->o.hash)) ==
	    200 ? (int)c->o.hash : HASH_ALGO_REFUSED;
}

/* 0 + hex: server digest, 1 if the server has no digest command, -1. */
static int
server_digest(struct client *c, const char *path, char *hex)
{
	struct ftp	*f = &c->f;
	char		 algo[32];
	uint64_t	 s, e;
	int		 code, want = c->o.hash;

	if (f->feat & FEAT_HASH) {
		hash_announce(c);
		if (f->hash_algo == want) {
			if ((code = ftp_cmd(f, "HASH %s", path)) == -1)
				return -1;
			if (code == 213 && ftpreply_hash(f->reply->last, algo,
			    sizeof(algo), &s, &e, hex, DIGEST_HEX_MAX) == 0 &&
			    digest_byname(algo) == want)
				return 0;
			if (code != 500 && code != 502 && code != 504) {
				ftp_seterr_reply(f);
				return -1;
			}
		}
	}
	code = ftp_cmd(f, "%s %s", want == DIGEST_MD5 ? "XMD5" : "XSHA256",
	    path);
	if (code == -1)
		return -1;
	if ((code == 250 || code == 213) && ftpreply_hash(f->reply->last,
	    algo, sizeof(algo), &s, &e, hex, DIGEST_HEX_MAX) == 0 &&
	    algo[0] == '\0' &&
	    strlen(hex) == (want == DIGEST_MD5 ? 32U : 64U))
		return 0;
	if (code == 500 || code == 502 || code == 504 || code == 202)
		return 1;
	ftp_seterr_reply(f);
	return -1;
}

/*
 * HASH and XMD5 read the whole file on the server before the reply comes:
 * for a large file that is longer than CL_TIMEOUT, so wait for it longer.
 */
int
xfer_server_digest(struct client *c, const char *path, uint64_t size,
    char *hex)
{
	uint64_t	secs = CL_DIGEST_FLOOR + size / CL_DIGEST_RATE;
	int		rv;

	if (secs > CL_DIGEST_MAX)
		secs = CL_DIGEST_MAX;
	if (ftp_reply_timeout(&c->f, (time_t)secs) == -1)
		return -1;
	rv = server_digest(c, path, hex);
	if (ftp_reply_timeout(&c->f, CL_TIMEOUT) == -1)
		rv = -1;
	return rv;
}

/*
 * Why the bytes already in a part file may not be kept, or NULL. Resuming
 * is only safe when the result can be checked: with no size the client
 * cannot tell a stale part file, with no digest it cannot catch one.
 */
static const char *
no_resume(struct job *j, int need_rest)
{
	unsigned int	feat = j->c->f.feat;
	unsigned int	x = j->c->o.hash == DIGEST_MD5 ? FEAT_XMD5 :
			    FEAT_XSHA256;

	if (j->size == UINT64_MAX)
		return "the server does not tell the file's size";
	if (j->off > j->size)
		return "the part file is larger than the file";
	if (need_rest && !(feat & FEAT_REST))
		return "the server does not offer REST";
	/* HASH counts only if it speaks our algorithm (OPTS HASH took it) */
	if (feat & FEAT_HASH)
		hash_announce(j->c);
	if (!(feat & x) && !((feat & FEAT_HASH) &&
	    j->c->f.hash_algo == j->c->o.hash))
		return "the server offers no digest to check a resumed file";
	return NULL;
}

static void
say_restart(struct job *j, const char *why)
{
	if (!j->c->o.quiet)
		printf("starting %s over: %s\n", j->name, why);
}

/*
 * After the offset is known: say so when resuming, take the buffer and a
 * new digest, digest the bytes already there, start the progress bar. On
 * failure one line names verb and path (the local file the prefix is in).
 */
static int
job_start(struct job *j, const char *verb, const char *path)
{
	if (j->off > 0 && !j->c->o.quiet)
		printf("resuming %s from %llu\n", j->name,
		    (unsigned long long)j->off);
	if (j->dg != NULL) {
		digest_free(j->dg);
		j->dg = NULL;
	}
	if ((j->buf == NULL && (j->buf = malloc(MOAT_XFER_BUF)) == NULL) ||
	    (j->dg = digest_new(j->c->o.hash)) == NULL) {
		warnx("%s: out of memory", verb);
		return -1;
	}
	if (digest_prefix(j) == -1) {
		warn("%s: %s", verb, path);
		return -1;
	}
	progress_start(&j->pg, j->c, j->name, j->size, j->off);
	return 0;
}

/*
 * Compare with the server's digest; j->note says how it ended. resumed:
 * the offset this try began at. A resumed file that does not match, or
 * that cannot be checked after all, goes again from byte 0.
 */
static enum try
verify(struct job *j, const char *rpath, uint64_t resumed)
{
	const char	*algo = digest_name(j->c->o.hash);
	char		 mine[DIGEST_HEX_MAX], theirs[DIGEST_HEX_MAX];
	int		 rv;

	progress_done(&j->pg);
	digest_final_hex(j->dg, mine);
	j->dg = NULL;
	/* a Ctrl-C that came once the data was in, before this wait began,
	 * broke no read: it would go unseen until the digest came (up to a
	 * week). The part file is whole and is kept for the next run. */
	if (cl_interrupted) {
		progress_end(&j->pg, 0, NULL);
		warnx("%s: interrupted before the digest check; part file kept",
		    j->name);
		return TRY_FAIL;
	}
	rv = xfer_server_digest(j->c, rpath, j->pg.done, theirs);
	if (rv == -1) {
		progress_end(&j->pg, 0, NULL);
		warnx("%s: cannot get the server's digest: %s", j->name,
		    j->c->f.err);
		return TRY_FAIL;
	}
	if (rv == 1 && resumed > 0) {
		progress_end(&j->pg, 0, NULL);
		say_restart(j, "the server gave no digest to check the "
		    "resumed file");
		return TRY_AGAIN;
	}
	if (rv == 1) {
		strlcpy(j->note, "not verified (server has no digest command)",
		    sizeof(j->note));
		return TRY_OK;
	}
	if (strcmp(mine, theirs) != 0) {
		progress_end(&j->pg, 0, NULL);
		if (resumed > 0) {
			warnx("%s: %s mismatch after resuming from %llu: part "
			    "file discarded, starting over", j->name, algo,
			    (unsigned long long)resumed);
			return TRY_AGAIN;
		}
		warnx("%s: %s MISMATCH: local %s, server %s; part file kept",
		    j->name, algo, mine, theirs);
		return TRY_FAIL;
	}
	snprintf(j->note, sizeof(j->note), "%s verified", algo);
	return TRY_OK;
}

static int
recv_data(struct job *j, struct data *d)
{
	uint64_t	pos = j->off;
	ssize_t		n;
	size_t		w;

	if (lseek(j->fd, (off_t)j->off, SEEK_SET) == -1)
		return -1;
	while ((n = data_read(d, j->buf, MOAT_XFER_BUF)) > 0) {
		if (cl_interrupted) {
			ftp_seterr(&j->c->f, "interrupted");
			return -1;
		}
		for (w = 0; w < (size_t)n; ) {
			ssize_t k = write(j->fd, j->buf + w, (size_t)n - w);

			if (k == -1 && errno == EINTR && !cl_interrupted)
				continue;
			if (k <= 0) {
				ftp_seterr(&j->c->f, "write: %s",
				    strerror(errno));
				return -1;
			}
			w += (size_t)k;
		}
		digest_update(j->dg, j->buf, (size_t)n);
		pos += (uint64_t)n;
		progress_update(&j->pg, pos);
	}
	if (n == -1) {
		ftp_seterr(&j->c->f, "data connection: %s", cl_interrupted ?
		    "interrupted" : strerror(errno));
		return -1;
	}
	return 0;
}

/* One download into the part file, from j->off. */
static enum try
get_try(struct job *j, const char *remote, const char *part)
{
	struct client	*c = j->c;
	struct data	 d;
	uint64_t	 from = j->off;
	int		 rv;

	if (job_start(j, "get", part) == -1)
		return TRY_FAIL;
	if (j->size == UINT64_MAX || j->off < j->size || j->off == 0) {
		rv = ftp_data_open(c, &d, j->off, "RETR %s", remote);
		if (rv == -2) {
			progress_end(&j->pg, 0, NULL);
			say_restart(j, "the server refused REST");
			return TRY_AGAIN;
		}
		if (rv == -1) {
			progress_end(&j->pg, 0, NULL);
			warnx("get: %s: %s", remote, c->f.err);
			return TRY_FAIL;
		}
		/* from byte 0: what the part file held goes only now that the
		 * server is sending the file again */
		if (j->off == 0 && ftruncate(j->fd, 0) == -1) {
			warn("get: %s", part);
			(void)data_close(&c->f, &d, 1);
			progress_end(&j->pg, 0, NULL);
			return TRY_FAIL;
		}
		if (recv_data(j, &d) == -1) {
			char saved[sizeof(c->f.err)];

			strlcpy(saved, c->f.err, sizeof(saved));
			(void)data_close(&c->f, &d, 1);
			progress_end(&j->pg, 0, NULL);
			warnx("get: %s: %s; part file kept: %s", remote, saved,
			    part);
			return TRY_FAIL;
		}
		if (data_close(&c->f, &d, 0) == -1) {
			progress_end(&j->pg, 0, NULL);
			warnx("get: %s: %s; part file kept: %s", remote,
			    c->f.err, part);
			return TRY_FAIL;
		}
	}
	if (j->size != UINT64_MAX && j->pg.done != j->size) {
		progress_end(&j->pg, 0, NULL);
		warnx("get: %s: got %llu of %llu bytes; part file kept: %s",
		    remote, (unsigned long long)j->pg.done,
		    (unsigned long long)j->size, part);
		return TRY_FAIL;
	}
	return verify(j, remote, from);
}

int
xfer_get(struct client *c, const char *remote, const char *localdir,
    int flags)
{
	struct job	 j;
	struct stat	 st;
	char		 name[FTP_ENTNAME_MAX], dest[MOAT_PATH_MAX];
	char		 part[MOAT_PATH_MAX];
	const char	*why;
	enum try	 t;
	int		 rv = -1, sr, exists, ours = 0;

	memset(&j, 0, sizeof(j));
	j.c = c;
	j.fd = -1;
	if (base_name(remote, name, sizeof(name)) == -1) {
		warnx("get: %s: not a file name", remote);
		return -1;
	}
	j.name = name;
	if (localdir != NULL && mkdir_p(localdir, 0777, 0) == -1) {
		warn("get: %s", localdir);
		return -1;
	}
	if (rpath_join(dest, sizeof(dest), localdir ? localdir : "", name) ==
	    -1 || (size_t)snprintf(part, sizeof(part), "%s%s", dest,
	    CL_PART_SUFFIX) >= sizeof(part)) {
		warnx("get: %s: name too long", remote);
		return -1;
	}
	exists = lstat(dest, &st) == 0;
	/* -f replaces a file, never a directory: say so before the bytes
	 * come, not at the rename after them */
	if (exists && S_ISDIR(st.st_mode)) {
		warnx("get: %s: is a directory", dest);
		return -1;
	}
	if (exists && !(flags & (XF_FORCE | XF_TREE))) {
		warnx("get: local file exists: %s (use -f to overwrite)", dest);
		return -1;
	}
	if ((sr = remote_size(c, remote, &j.size)) == -1) {
		warnx("get: %s: %s", remote, c->f.err);
		return -1;
	}
	if (sr == 1)
		j.size = UINT64_MAX;
	if (exists && !(flags & XF_FORCE)) {
		/* get -r again after a cut: what is complete is done */
		if (S_ISREG(st.st_mode) && j.size != UINT64_MAX &&
		    (uint64_t)st.st_size == j.size) {
			if (!c->o.quiet)
				printf("%s: already here, same size: "
				    "skipped\n", dest);
			return 0;
		}
		warnx("get: local file exists: %s (use -f to overwrite)", dest);
		return -1;
	}
	/* Never through a link: the bytes would land where it points. */
	if ((j.fd = open(part, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0666)) == -1) {
		if (errno == ELOOP)
			warnx("get: %s: part file is a symbolic link: refused",
			    part);
		else
			warn("get: %s", part);
		goto done;
	}
	if (fstat(j.fd, &st) == -1) {
		warn("get: %s", part);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx("get: %s: part file is not a regular file: refused",
		    part);
		goto done;
	}
	ours = 1;
	j.off = (uint64_t)st.st_size;
	if (j.off > 0 && (why = no_resume(&j, 1)) != NULL) {
		say_restart(&j, why);
		j.off = 0;
	}
	for (;;) {
		if ((t = get_try(&j, remote, part)) != TRY_AGAIN)
			break;
		if (j.off == 0) {	/* only a resumed try goes again */
			warnx("get: %s: cannot resume, cannot start over",
			    remote);
			goto done;
		}
		j.off = 0;
	}
	if (t != TRY_OK)
		goto done;
	if (close(j.fd) == -1) {
		j.fd = -1;
		warn("get: %s", part);
		goto done;
	}
	j.fd = -1;
	if (rename(part, dest) == -1) {
		warn("get: rename %s", part);
		goto done;
	}
	progress_end(&j.pg, 1, j.note);
	rv = 0;
 done:
	/* Nothing came: leave no empty part file behind. */
	if (rv == -1 && ours && j.fd != -1 && fstat(j.fd, &st) == 0 &&
	    st.st_size == 0)
		(void)unlink(part);
	if (j.fd != -1)
		close(j.fd);
	if (j.dg != NULL)
		digest_free(j.dg);
	free(j.buf);
	return rv;
}

static int
send_data(struct job *j, struct data *d)
{
	uint64_t	pos = j->off;
	ssize_t		n;

	while ((n = pread(j->fd, j->buf, MOAT_XFER_BUF, (off_t)pos)) > 0) {
		if (cl_interrupted) {
			ftp_seterr(&j->c->f, "interrupted");
			return -1;
		}
		if (data_write(d, j->buf, (size_t)n) == -1) {
			ftp_seterr(&j->c->f, "data connection: %s",
			    cl_interrupted ? "interrupted" : strerror(errno));
			return -2;
		}
		digest_update(j->dg, j->buf, (size_t)n);
		pos += (uint64_t)n;
		progress_update(&j->pg, pos);
	}
	if (n == -1) {
		ftp_seterr(&j->c->f, "read: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* RNFR/RNTO; with force, a refused RNTO over an existing name retries
 * after DELE. */
static int
remote_rename(struct client *c, const char *from, const char *to, int force)
{
	int	code, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((code = ftp_cmd(&c->f, "RNFR %s", from)) != 350)
			break;
		if ((code = ftp_cmd(&c->f, "RNTO %s", to)) == 250)
			return 0;
		if (!force || tries > 0 || ftp_cmd(&c->f, "DELE %s", to) != 250)
			break;
	}
	if (code != -1)
		ftp_seterr_reply(&c->f);
	return -1;
}

/* One upload into the remote part file, from j->off. */
static enum try
put_try(struct job *j, const char *local, const char *part,
    const char *target)
{
	struct client	*c = j->c;
	struct data	 d;
	uint64_t	 from = j->off;
	int		 code, sr;

	if (job_start(j, "put", local) == -1)
		return TRY_FAIL;
	if (j->off < j->size || j->off == 0) {
		code = -1;
		if (j->off == 0)
			hash_announce(c);
		if (j->off > 0 && (c->f.feat & FEAT_REST))
			code = ftp_data_open(c, &d, j->off, "STOR %s", part);
		if (code != 0 && j->off > 0)
			code = ftp_data_open(c, &d, 0, "APPE %s", part);
		else if (code != 0)
			code = ftp_data_open(c, &d, 0, "STOR %s", part);
		if (code != 0) {
			progress_end(&j->pg, 0, NULL);
			if (from > 0 && c->f.reply != NULL &&
			    (c->f.reply->code == 500 ||
			    c->f.reply->code == 502 ||
			    c->f.reply->code == 504)) {
				say_restart(j, "the server cannot append");
				return TRY_AGAIN;
			}
			if (c->f.reply != NULL && c->f.reply->code == 552)
				warnx("put: %s: quota exceeded", target);
			else
				warnx("put: %s: %s", target, c->f.err);
			return TRY_FAIL;
		}
		if ((sr = send_data(j, &d)) == -1) {
			char saved[sizeof(c->f.err)];

			strlcpy(saved, c->f.err, sizeof(saved));
			(void)data_close(&c->f, &d, 1);
			progress_end(&j->pg, 0, NULL);
			warnx("put: %s: %s; remote part file kept: %s", target,
			    saved, part);
			return TRY_FAIL;
		}
		/* A write error (-2) may be the server's 552: read why. */
		if (data_close(&c->f, &d, 0) == -1 || sr == -2) {
			progress_end(&j->pg, 0, NULL);
			if (c->f.reply->code == 552)
				warnx("put: %s: quota exceeded (%s); nothing "
				    "renamed, part file kept: %s", target,
				    c->f.err, part);
			else
				warnx("put: %s: %s; remote part file kept: %s",
				    target, c->f.err, part);
			return TRY_FAIL;
		}
	}
	return verify(j, part, from);
}

int
xfer_put(struct client *c, const char *local, const char *remotedir,
    int flags)
{
	struct job	 j;
	struct stat	 st;
	char		 name[FTP_ENTNAME_MAX], pname[FTP_ENTNAME_MAX + 16];
	char		 target[MOAT_PATH_MAX], part[MOAT_PATH_MAX];
	const char	*why;
	uint64_t	 rsize;
	enum try	 t;
	int		 rv = -1, sr;

	memset(&j, 0, sizeof(j));
	j.c = c;
	if (base_name(local, name, sizeof(name)) == -1) {
		warnx("put: %s: not a file name", local);
		return -1;
	}
	j.name = name;
	if ((j.fd = open(local, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(j.fd, &st) == -1) {
		warn("put: %s", local);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx("put: %s: not a regular file%s", local,
		    S_ISDIR(st.st_mode) ? " (use put -r for a directory)" : "");
		goto done;
	}
	j.size = (uint64_t)st.st_size;
	if ((size_t)snprintf(pname, sizeof(pname), ".%s%s", name,
	    CL_PART_SUFFIX) >= sizeof(pname) ||
	    rpath_join(target, sizeof(target), remotedir ? remotedir : "",
	    name) == -1 ||
	    rpath_join(part, sizeof(part), remotedir ? remotedir : "", pname) ==
	    -1) {
		warnx("put: %s: name too long", local);
		goto done;
	}
	if (!(flags & XF_FORCE)) {
		if ((sr = remote_size(c, target, &rsize)) == -1) {
			warnx("put: %s: %s", target, c->f.err);
			goto done;
		}
		/* put -r again after a cut: what is complete is done */
		if (sr == 0 && (flags & XF_TREE) && rsize == j.size) {
			if (!c->o.quiet)
				printf("%s: already on the server, same size: "
				    "skipped\n", target);
			rv = 0;
			goto done;
		}
		if (sr == 0 || remote_is_dir(c, target) == 1) {
			warnx("put: remote file exists: %s (use -f to "
			    "overwrite)", target);
			goto done;
		}
	}
	if ((sr = remote_size(c, part, &j.off)) == -1) {
		warnx("put: %s: %s", part, c->f.err);
		goto done;
	}
	if (sr == 1)
		j.off = 0;
	if (j.off > 0 && (why = no_resume(&j, 0)) != NULL) {
		say_restart(&j, why);
		j.off = 0;
	}
	/* STOR from byte 0 replaces what the remote part file held. */
	while ((t = put_try(&j, local, part, target)) == TRY_AGAIN) {
		if (j.off == 0) {	/* only a resumed try goes again */
			warnx("put: %s: cannot resume, cannot start over",
			    target);
			goto done;
		}
		j.off = 0;
	}
	if (t != TRY_OK)
		goto done;
	if (remote_rename(c, part, target, flags & XF_FORCE) == -1) {
		progress_end(&j.pg, 0, NULL);
		warnx("put: rename %s to %s: %s", part, target, c->f.err);
		goto done;
	}
	progress_end(&j.pg, 1, j.note);
	rv = 0;
 done:
	if (j.fd != -1)
		close(j.fd);
	if (j.dg != NULL)
		digest_free(j.dg);
	free(j.buf);
	return rv;
}
