/*
 * File transfers: RETR (sendfile), STOR/APPE/STOU (large writes), REST and
 * ALLO. Every byte written goes through store_write(), which charges the
 * quota ledger before it writes.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <bsd/unistd.h>

#include "daemon/commands.h"
#include "daemon/datachan.h"
#include "daemon/fsops.h"
#include "daemon/hashcmd.h"
#include "daemon/quota.h"
#include "daemon/session.h"
#include "daemon/vpath.h"
#include "daemon/xferlog.h"
#include "shared/digest.h"
#include "shared/log.h"
#include "shared/scoreboard.h"

enum store_how { STORE_NEW, STORE_APPEND, STORE_UNIQUE };

static char	xbuf[MOAT_XFER_BUF];

static void
xfer_begin(struct session *s, const char *verb, const char *path,
    uint64_t total)
{
	struct sb_activity	*e = s->act;
	struct timespec		 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(e->cmd, sizeof(e->cmd), "%s %s", verb, path);
	setproctitle("%s@%s %s %s", s->user, s->peerstr, verb, path);
	atomic_store(&e->xfer_done, 0);
	atomic_store(&e->xfer_total, total);
	atomic_store(&e->xfer_start, (int64_t)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000);
}

/* The transfer is over: log it (xferlog) and clear the scoreboard. */
static void
xfer_end(struct session *s, const char *path, int incoming, uint64_t bytes,
    int complete)
{
	struct sb_activity	*e = s->act;
	struct xferlog_rec	 r;
	struct timespec		 ts;
	int64_t			 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	    atomic_load(&e->xfer_start);
	memset(&r, 0, sizeof(r));
	r.when = ts.tv_sec;
	r.secs = (long)((ms + 999) / 1000);
	r.host = s->peerstr;
	r.bytes = bytes;
	r.file = path;
	r.ascii = s->type_ascii;
	r.incoming = incoming;
	r.user = s->user;
	r.complete = complete;
	xferlog_write(&r);
	atomic_store(&e->xfer_start, 0);
}

/*
 * Open the file of a transfer. O_NONBLOCK, so that a FIFO (or a device an
 * admin left in a home) cannot hold the session in open(); anything but a
 * regular file is then refused with ENXIO. The descriptor blocks again;
 * its stat goes to *stp (if not NULL).
 */
static int
xfer_open(struct session *s, const char *path, int flags, mode_t mode,
    struct stat *stp)
{
	struct stat	st;
	int		fd, fl, saved;

	if ((fd = vpath_open(s, path, flags | O_NONBLOCK | O_NOCTTY,
	    mode)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENXIO;
		goto fail;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto fail;
	if (stp != NULL)
		*stp = st;
	return fd;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* ASCII type: LF -> CRLF on the way out. */
static int64_t
send_ascii(struct session *s, struct dataconn *dc, int fd, uint64_t off)
{
	static char	out[MOAT_XFER_BUF * 2];
	uint64_t	sent = 0;
	ssize_t		r, i;
	size_t		o;

	while ((r = pread(fd, xbuf, sizeof(xbuf), (off_t)off)) > 0) {
		for (i = 0, o = 0; i < r; i++) {
			if (xbuf[i] == '\n')
				out[o++] = '\r';
			out[o++] = xbuf[i];
		}
		if (data_write(s, dc, out, o) == -1)
			return -1;
		off += (uint64_t)r;
		sent += (uint64_t)r;
	}
	return r < 0 ? -1 : (int64_t)sent;
}

void
cmd_retr(struct session *s, const char *arg)
{
	struct dataconn	 dc;
	struct stat	 st;
	char		 path[MOAT_PATH_MAX], msg[MOAT_PATH_MAX + 128];
	uint64_t	 off = s->rest, done;
	int64_t		 sent;
	int		 fd;

	s->rest = 0;
	if (off > 0 && s->type_ascii) {
		/* a restart marker counts bytes of the ASCII stream, not of
		 * the file (RFC 3659 5.1): taken as a file offset, a resumed
		 * download would lose or repeat lines */
		reply(s, 504, "Restart is not supported in ASCII mode; use "
		    "TYPE I.");
		return;
	}
	if (vpath_join(s->cwd, arg, path, sizeof(path)) == -1) {
		reply(s, 553, "Bad file name.");
		return;
	}
	if ((fd = xfer_open(s, path, O_RDONLY, 0, &st)) == -1) {
		if (errno == ENXIO || errno == EISDIR)
			reply(s, 550, "%s: Not a regular file.", arg);
		else
			fs_reply_errno(s, errno);
		return;
	}
	if (off > (uint64_t)st.st_size) {
		close(fd);
		reply(s, 554, "Restart offset %llu is past the end of the file.",
		    (unsigned long long)off);
		return;
	}
	(void)snprintf(msg, sizeof(msg), "Opening %s mode data connection for "
	    "%s (%llu bytes).", s->type_ascii ? "ASCII" : "BINARY", arg,
	    (unsigned long long)st.st_size);
	if (data_open(s, &dc, msg) == -1) {
		close(fd);
		return;
	}
	xfer_begin(s, "RETR", path, (uint64_t)st.st_size - off);
	(void)posix_fadvise(fd, (off_t)off, 0, POSIX_FADV_SEQUENTIAL);
	if (s->type_ascii)
		sent = send_ascii(s, &dc, fd, off);
	else
		sent = data_sendfile(s, &dc, fd, off,
		    (uint64_t)st.st_size - off);
	close(fd);
	if (!dc.aborted && sent == (int64_t)((uint64_t)st.st_size - off) &&
	    data_finish(s, &dc) == -1) {
		log_warnx("RETR %s: the client did not take it all", path);
		sent = -1;
	}
	/* a transfer cut short still sent what the scoreboard counted */
	done = sent >= 0 ? (uint64_t)sent :
	    atomic_load(&s->act->xfer_done);
	xfer_end(s, path, 0, done, !dc.aborted &&
	    sent == (int64_t)((uint64_t)st.st_size - off));
	s->bytes_out += done;
	data_close(s, &dc);
	if (dc.aborted)
		return;
	if (sent < 0) {
		reply(s, 426, "Connection closed; transfer aborted.");
		return;
	}
	if ((uint64_t)sent != (uint64_t)st.st_size - off) {
		/* never a 226 for a short file: the client would keep it */
		log_warnx("RETR %s: %lld of %llu bytes, the file changed",
		    path, (long long)sent,
		    (unsigned long long)((uint64_t)st.st_size - off));
		reply(s, 451, "Transfer aborted: the file changed while it "
		    "was read.");
		return;
	}
	s->files_out++;
	log_info("RETR %s %lld bytes", path, (long long)sent);
	reply(s, 226, "Transfer complete.");
}

/*
 * The one write path of uploads: charge the quota for what the file grows
 * by, then write. Bytes written over bytes the file already has (a resume,
 * or another session writing the same file) cost nothing: the quota is
 * the sum of the files' sizes. An append (fd opened O_APPEND) always grows
 * the file by what it writes, wherever its end is by then; *off then only
 * counts the bytes. What the file grew by after it left the home (DELE, or
 * RNTO over it, in another session, which gave back its size then) is
 * added to *gone: it stays charged while the upload holds the file open
 * (the disk keeps it), and is given back once the file is closed.
 */
static int
store_write(struct session *s, int fd, int append, const char *buf,
    size_t n, uint64_t *off, uint64_t *gone)
{
	struct stat	st;
	uint64_t	grow, before, grew, done = 0;
	ssize_t		w;
	int		rv = -1;

	if (quota_size_lock(fd, F_WRLCK) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	before = (uint64_t)st.st_size;
	if (append)
		grow = n;
	else
		grow = *off + n > before ? *off + n - before : 0;
	if (grow > 0 && quota_reserve(s, grow) == -1) {
		errno = EDQUOT;
		goto out;
	}
	while (n > 0) {
		if (append)
			w = write(fd, buf, n);
		else
			w = pwrite(fd, buf, n, (off_t)*off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			int saved = errno;

			/* give back what the file did not grow by */
			if (append)
				grew = done;
			else
				grew = fstat(fd, &st) == 0 &&
				    (uint64_t)st.st_size > before ?
				    (uint64_t)st.st_size - before : 0;
			if (grow > grew)
				quota_release(s, grow - grew);
			errno = w == 0 ? ENOSPC : saved;
			goto out;
		}
		done += (uint64_t)w;
		buf += w;
		n -= (size_t)w;
		*off += (uint64_t)w;
	}
	if (grow > 0) {
		if (fstat(fd, &st) == -1)
			goto out;
		if (st.st_nlink == 0)
			*gone += grow;
	}
	rv = 0;
 out:
	quota_size_unlock(fd);
	return rv;
}

/* STOU made its file (a fresh unique name) and then failed before any
 * data: take the empty file away again, then close fd. */
static void
store_discard(struct session *s, const char *path, int fd)
{
	struct stat	st, now;
	char		base[NAME_MAX + 1];
	int		pfd;

	if (fstat(fd, &st) == 0 && st.st_size == 0 &&
	    (pfd = vpath_parent(s, path, base, sizeof(base))) != -1) {
		if (fstatat(pfd, base, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino &&
		    unlinkat(pfd, base, 0) == -1)
			log_warn("%s: unlink %s", __func__, path);
		close(pfd);
	}
	close(fd);
}

/*
 * Open the target of an upload; returns fd and the offset to write at.
 * A file that does not exist yet is not made here but once the data
 * connection is up (store_create): a failed connection leaves nothing,
 * and never takes away a file another session made meanwhile. Then the
 * return is STORE_LATER, the parent directory having been checked.
 */
#define STORE_LATER	(-2)
static int
store_open(struct session *s, const char *path, enum store_how how,
    uint64_t *off, char *uname, size_t ulen)
{
	struct stat	st;
	char		base[NAME_MAX + 1];
	int		fd, i;

	if (how == STORE_UNIQUE) {
		for (i = 0; i < 100; i++) {
			char cand[MOAT_PATH_MAX];

			if ((size_t)snprintf(cand, sizeof(cand), "%s%smoat.%08x",
			    path, strcmp(path, "/") ? "/" : "",
			    arc4random()) >= sizeof(cand)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			fd = xfer_open(s, cand, O_WRONLY | O_CREAT | O_EXCL,
			    0644, NULL);
			if (fd != -1) {
				(void)strlcpy(uname, cand, ulen);
				*off = 0;
				return fd;
			}
			if (errno != EEXIST)
				return -1;
		}
		return -1;
	}
	/* an append goes to the end the file has when each block is
	 * written, not the one it had at the start: another session may
	 * append meanwhile */
	if ((fd = xfer_open(s, path, O_WRONLY | (how == STORE_APPEND ?
	    O_APPEND : 0), 0, &st)) == -1) {
		if (errno != ENOENT)
			return -1;
		/* no file (or a dangling link): made later; a restart
		 * offset past its size 0 is refused now */
		if (*off > 0) {
			errno = EINVAL;
			return -1;
		}
		if ((fd = vpath_parent(s, path, base, sizeof(base))) == -1)
			return -1;
		close(fd);
		return STORE_LATER;
	}
	if (how == STORE_APPEND) {
		*off = (uint64_t)st.st_size;
		return fd;
	}
	if (*off > (uint64_t)st.st_size) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;	/* cut by store_cut once the data connection is up */
}

/* The data connection is up: make the file store_open left for later (or
 * open it, if another session made it meanwhile). */
static int
store_create(struct session *s, const char *path, enum store_how how,
    uint64_t *off)
{
	*off = 0;
	return xfer_open(s, path, O_WRONLY | O_CREAT | (how == STORE_APPEND ?
	    O_APPEND : 0), 0644, NULL);
}

/*
 * Overwrite (or resume): cut the file at off and give back what was cut
 * off. Only once the data connection is open, so that a failed one leaves
 * the old file whole.
 */
static int
store_cut(struct session *s, int fd, uint64_t off)
{
	struct stat	st;
	int		rv = -1;

	if (quota_size_lock(fd, F_WRLCK) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	/* Nothing to cut, no ftruncate: on ext4 a truncate to 0 (even of an
	 * empty file) makes close() write the whole file back in our time
	 * (auto_da_alloc), which cost a fresh 1 GiB STOR about a third. */
	if ((uint64_t)st.st_size > off) {
		if (ftruncate(fd, (off_t)off) == -1)
			goto out;
		/* a file that left the home (DELE, or RNTO over it, in
		 * another session) gave its size back then */
		if (st.st_nlink > 0)
			quota_release(s, (uint64_t)st.st_size - off);
	}
	rv = 0;
 out:
	quota_size_unlock(fd);
	return rv;
}

static void
do_store(struct session *s, const char *arg, enum store_how how)
{
	struct dataconn	 dc;
	char		 path[MOAT_PATH_MAX], uname[MOAT_PATH_MAX] = "";
	char		 msg[MOAT_PATH_MAX + 64];
	uint64_t	 off = s->rest, start, used, limit, freeb, gone = 0;
	struct digest	*dg;
	ssize_t		 r = 0;
	int		 fd, werr = 0;

	s->rest = 0;
	if (off > 0 && s->type_ascii) {	/* as for RETR */
		reply(s, 504, "Restart is not supported in ASCII mode; use "
		    "TYPE I.");
		return;
	}
	if (s->dmode == DATA_NONE) {	/* before the file is cut */
		reply(s, 425, "Use PORT, EPRT, PASV or EPSV first.");
		return;
	}
	if (vpath_join(s->cwd, how == STORE_UNIQUE ? "" : arg, path,
	    sizeof(path)) == -1) {
		reply(s, 553, "Bad file name.");
		return;
	}
	if (s->allo > 0 && quota_get(s, &used, &limit, &freeb) == 0 &&
	    s->allo > freeb) {
		s->allo = 0;
		reply(s, 552, "Quota exceeded.");
		return;
	}
	s->allo = 0;
	if ((fd = store_open(s, path, how, &off, uname, sizeof(uname))) ==
	    -1) {
		if (errno == EINVAL)
			reply(s, 554, "Restart offset is past the end of the "
			    "file.");
		else
			fs_reply_errno(s, errno);
		return;
	}
	if (how == STORE_UNIQUE) {
		(void)strlcpy(path, uname, sizeof(path));
		(void)snprintf(msg, sizeof(msg), "FILE: %s", vpath_base(path));
	} else
		(void)snprintf(msg, sizeof(msg), "Ok to send data.");
	if (data_open(s, &dc, msg) == -1) {
		if (how == STORE_UNIQUE)	/* no half-made upload left */
			store_discard(s, path, fd);
		else if (fd != STORE_LATER)
			close(fd);
		return;
	}
	if (fd == STORE_LATER &&
	    (fd = store_create(s, path, how, &off)) == -1) {
		werr = errno;
		data_close(s, &dc);
		fs_reply_errno(s, werr);
		return;
	}
	if (how == STORE_NEW && store_cut(s, fd, off) == -1) {
		werr = errno;
		close(fd);
		data_close(s, &dc);
		fs_reply_errno(s, werr);
		return;
	}
	xfer_begin(s, "STOR", path, 0);
	start = off;
	dg = hash_store_begin(s, fd, start);
	for (;;) {
		r = data_read(s, &dc, xbuf, sizeof(xbuf));
		if (r <= 0)
			break;
		if (s->type_ascii) {	/* CRLF -> LF */
			ssize_t i, o = 0;

			for (i = 0; i < r; i++)
				if (xbuf[i] != '\r')
					xbuf[o++] = xbuf[i];
			r = o;
		}
		if (store_write(s, fd, how == STORE_APPEND, xbuf, (size_t)r,
		    &off, &gone) == -1) {
			werr = errno;
			break;
		}
		if (dg != NULL)
			digest_update(dg, xbuf, (size_t)r);
	}
	hash_store_end(s, fd, dg, !dc.aborted && werr == 0 && r == 0);
	close(fd);
	quota_release(s, gone);		/* no file holds it now */
	xfer_end(s, path, 1, off - start, !dc.aborted && werr == 0 && r == 0);
	s->bytes_in += off - start;
	data_close(s, &dc);
	if (dc.aborted)
		return;
	if (werr == EDQUOT) {
		log_info("STOR %s stopped by the quota after %llu bytes", path,
		    (unsigned long long)(off - start));
		reply(s, 552, "Quota exceeded.");
	} else if (werr != 0) {
		fs_reply_errno(s, werr);
	} else if (r < 0)
		reply(s, 426, "Connection closed; transfer aborted.");
	else {
		s->files_in++;
		log_info("STOR %s %llu bytes", path,
		    (unsigned long long)(off - start));
		if (how == STORE_UNIQUE)
			reply(s, 226, "Transfer complete (unique file name: %s).",
			    vpath_base(path));
		else
			reply(s, 226, "Transfer complete.");
	}
}

void
cmd_stor(struct session *s, const char *arg)
{
	do_store(s, arg, STORE_NEW);
}

void
cmd_appe(struct session *s, const char *arg)
{
	s->rest = 0;
	do_store(s, arg, STORE_APPEND);
}

void
cmd_stou(struct session *s, const char *arg)
{
	(void)arg;
	s->rest = 0;
	do_store(s, "", STORE_UNIQUE);
}

void
cmd_rest(struct session *s, const char *arg)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(arg, 0, INT64_MAX, &errstr);
	if (errstr != NULL) {
		reply(s, 501, "Bad restart offset.");
		return;
	}
	s->rest = (uint64_t)v;
	reply(s, 350, "Restarting at %lld. Send STOR or RETR.", v);
}

void
cmd_allo(struct session *s, const char *arg)
{
	uint64_t	 used, limit, freeb;
	const char	*errstr;
	char		 num[32];
	long long	 v;

	(void)strlcpy(num, arg, sizeof(num));
	num[strcspn(num, " ")] = '\0';
	v = strtonum(num, 0, INT64_MAX, &errstr);
	if (errstr != NULL) {
		reply(s, 501, "Bad ALLO argument.");
		return;
	}
	if (quota_get(s, &used, &limit, &freeb) == -1 || limit == 0) {
		reply(s, 202, "No storage allocation necessary.");
		return;
	}
	if ((uint64_t)v > freeb) {
		reply(s, 552, "Quota exceeded: %llu bytes free.",
		    (unsigned long long)freeb);
		return;
	}
	s->allo = (uint64_t)v;
	reply(s, 200, "ALLO ok: %llu bytes free.", (unsigned long long)freeb);
}
