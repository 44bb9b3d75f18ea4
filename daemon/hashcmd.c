/*
 * File digests: HASH and OPTS HASH (draft-bryan-ftpext-hash) and the older
 * XMD5, XSHA1, XSHA256. RANG is not supported, and REST does not apply:
 * the digest always covers the whole file, "0-<size>".
 *
 * A digest is kept in the extended attribute user.moatftp.<algo> ("md5",
 * "sha1", "sha256", "sha512") as "<size> <mtime s>.<mtime ns> <hex>": HASH
 * of a file whose size and mtime still match answers from it without
 * reading the file; any other answer is recomputed and stamped again. STOR
 * from offset 0 stamps the digest it computed while receiving, when the
 * client announced with OPTS HASH that it will ask. A file system without
 * user xattrs (or a file we may not stamp) just gets no cache. The
 * attribute is the file owner's to write, so it can only mislead the
 * owner, who could change the file anyway.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shared/digest.h"
#include "shared/log.h"
#include "daemon/commands.h"
#include "daemon/datachan.h"
#include "daemon/fsops.h"
#include "daemon/hashcmd.h"
#include "daemon/session.h"
#include "daemon/vpath.h"

#define HASH_DEFAULT	DIGEST_SHA256

enum hash_style { HASH_DRAFT, HASH_X };

/* hex digits of each enum digest_algo */
static const size_t hexlen[DIGEST_NALGO] = { 32, 40, 64, 128 };

static int	session_algo(const struct session *);
static int	cache_name(int, char *, size_t);
static int	cache_get(int, const struct stat *, int, char *);
static int	cache_clear(int, int);
static int	file_lock(int, short);
static int	file_busy(int);
static int	hash_go_on(void *);
static int	hash_compute(struct session *, int, const struct stat *, int,
		    char *);
static void	hash_file(struct session *, const char *, int, enum hash_style);

static int
session_algo(const struct session *s)
{
	return digest_name(s->hash_algo) != NULL ? s->hash_algo : HASH_DEFAULT;
}

/*
 * The digest of the whole regular file fd, exactly st_size bytes so that
 * the range we announce is the range we read. The one place a cached
 * digest (xattr keyed by size and mtime) can be looked up later. 0 or -1
 * (errno ECANCELED: the client sent ABOR, or left, meanwhile).
 */
static int
hash_compute(struct session *s, int fd, const struct stat *st, int algo,
    char *hex)
{
	int	locked;

	if (cache_get(fd, st, algo, hex) == 0)
		return 0;
	/* a read lock keeps our own uploads from clearing a busy mark */
	locked = file_lock(fd, F_RDLCK) == 0;
	if (digest_fd_while(algo, fd, 0, (uint64_t)st->st_size, hex,
	    hash_go_on, s) == -1) {
		if (locked)
			(void)file_lock(fd, F_UNLCK);
		return -1;
	}
	if (locked && !file_busy(fd))
		hash_cache_put(fd, st, algo, hex);
	if (locked)
		(void)file_lock(fd, F_UNLCK);
	return 0;
}

/*
 * Between the blocks of a digest being read (a large file that is not in
 * the cache takes seconds): go on unless the control channel brought ABOR
 * or the client left. NOOP and STAT are answered as during a transfer;
 * any other command waits for the reply.
 */
static int
hash_go_on(void *arg)
{
	struct session	*s = arg;
	struct dataconn	 dc;
	struct pollfd	 pfd;

	if (!ftpio_buffered(&s->io)) {
		pfd.fd = s->io.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) <= 0)
			return 1;
	}
	memset(&dc, 0, sizeof(dc));
	dc.fd = -1;
	return !data_check_control(s, &dc);
}

/* The digest's open-file-description lock (HASH_LOCK_OFF), not waiting. */
static int
file_lock(int fd, short type)
{
	return fs_lock_byte(fd, type, HASH_LOCK_OFF, 0);
}

/* Did an upload write here beside another one (or we cannot tell)? */
static int
file_busy(int fd)
{
	char	mark[4];

	return fgetxattr(fd, HASH_XATTR "busy", mark, sizeof(mark)) != -1 ||
	    errno != ENODATA;
}

/* Drop every user.moatftp.* attribute of fd but the busy mark (and that
 * too when clear_busy); 0, or -1 if one could not be removed. */
static int
cache_clear(int fd, int clear_busy)
{
	char	list[1024], *n;
	ssize_t	len;
	int	rv = 0;

	if ((len = flistxattr(fd, list, sizeof(list))) == -1)
		return errno == ENOTSUP ? 0 : -1;
	for (n = list; n < list + len; n += strlen(n) + 1) {
		if (strncmp(n, HASH_XATTR, strlen(HASH_XATTR)) != 0 ||
		    (!clear_busy && strcmp(n, HASH_XATTR "busy") == 0))
			continue;
		if (fremovexattr(fd, n) == -1 && errno != ENODATA)
			rv = -1;
	}
	return rv;
}

/* "user.moatftp.sha256" for SHA-256; 0 or -1. */
static int
cache_name(int algo, char *name, size_t len)
{
	const char	*a = digest_name(algo);
	size_t		 n;

	if (a == NULL || strlcpy(name, HASH_XATTR, len) >= len)
		return -1;
	for (n = strlen(name); *a != '\0' && n + 1 < len; a++)
		if (*a != '-')
			name[n++] = (char)tolower((unsigned char)*a);
	name[n] = '\0';
	return *a == '\0' ? 0 : -1;
}

/* The cached digest if its stamp matches st; 0, or -1 (compute it). */
static int
cache_get(int fd, const struct stat *st, int algo, char *hex)
{
	char		 name[64], val[64 + DIGEST_HEX_MAX], *h;
	intmax_t	 size, sec;
	long		 nsec;
	ssize_t		 n;
	int		 pos = 0;

	if (cache_name(algo, name, sizeof(name)) == -1 ||
	    (n = fgetxattr(fd, name, val, sizeof(val) - 1)) <= 0)
		return -1;
	val[n] = '\0';
	if (sscanf(val, "%jd %jd.%ld %n", &size, &sec, &nsec, &pos) != 3 ||
	    pos == 0 || size != (intmax_t)st->st_size ||
	    sec != (intmax_t)st->st_mtim.tv_sec ||
	    nsec != st->st_mtim.tv_nsec)
		return -1;
	h = val + pos;
	/* exactly the hex length of this algorithm, lower-case hex only */
	if (strlen(h) != strspn(h, "0123456789abcdef") ||
	    strlen(h) != hexlen[algo])
		return -1;
	(void)strlcpy(hex, h, DIGEST_HEX_MAX);
	return 0;
}

/* Stamp hex as the digest of fd as it was at st, if it still is. */
void
hash_cache_put(int fd, const struct stat *st, int algo, const char *hex)
{
	struct stat	now;
	char		name[64], val[64 + DIGEST_HEX_MAX];
	int		n;

	if (cache_name(algo, name, sizeof(name)) == -1 ||
	    fstat(fd, &now) == -1 || now.st_size != st->st_size ||
	    now.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
		return;
	n = snprintf(val, sizeof(val), "%jd %jd.%09ld %s",
	    (intmax_t)now.st_size, (intmax_t)now.st_mtim.tv_sec,
	    now.st_mtim.tv_nsec, hex);
	if (n < 0 || (size_t)n >= sizeof(val))
		return;
	/* no xattrs here (ENOTSUP), not ours to stamp (EPERM): no cache */
	if (fsetxattr(fd, name, val, (size_t)n, 0) == -1)
		log_debug("%s: %s: %s", __func__, name, strerror(errno));
}

/*
 * Every upload calls this once the file is open, before it writes. It
 * takes an open-file-description write lock on the file, held until fd is
 * closed; an upload that cannot get it (another one is writing) marks the
 * file busy, so that the other does not stamp a digest of its own stream
 * over a file that now holds bytes of both. Returns a digest to feed with
 * what is written, or NULL: no client asked for one (OPTS HASH), the upload
 * does not start at offset 0, or it is not alone.
 */
struct digest *
hash_store_begin(struct session *s, int fd, uint64_t start)
{
	struct stat	st;

	if (file_lock(fd, F_WRLCK) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			(void)fsetxattr(fd, HASH_XATTR "busy", "1", 1, 0);
		(void)cache_clear(fd, 0);
		return NULL;
	}
	/* the old digests go (a rewrite of the same size within one clock
	 * tick keeps the mtime); alone now, so an old busy mark is stale and
	 * a new one will be seen at the end */
	if (cache_clear(fd, 1) == -1 || !s->hash_opted || start != 0)
		return NULL;
	/* what it writes must be the whole file: an append lands at the end
	 * the file has now, which another upload may have moved since the
	 * file was opened (while the data connection was made) */
	if (fstat(fd, &st) == -1 || st.st_size != (off_t)start)
		return NULL;
	return digest_new(session_algo(s));
}

/* The upload is over: stamp its digest if it is whole and was alone. */
void
hash_store_end(struct session *s, int fd, struct digest *dg, int complete)
{
	struct stat	st;
	char		hex[DIGEST_HEX_MAX];

	if (dg == NULL)
		return;
	if (!complete || file_busy(fd) || fstat(fd, &st) == -1) {
		digest_free(dg);
		return;
	}
	digest_final_hex(dg, hex);
	hash_cache_put(fd, &st, session_algo(s), hex);
}

static void
hash_file(struct session *s, const char *arg, int algo, enum hash_style style)
{
	char		path[MOAT_PATH_MAX], hex[DIGEST_HEX_MAX];
	struct stat	st;
	int		fd, err;

	if (fs_path(s, arg, path, sizeof(path)) == -1)
		return;
	/* O_NONBLOCK: a FIFO must not hang the session; it fails below. */
	if ((fd = vpath_open(s, path, O_RDONLY | O_NONBLOCK | O_NOCTTY,
	    0)) == -1) {
		fs_reply_errno(s, errno);
		return;
	}
	if (fstat(fd, &st) == -1) {
		err = errno;
		close(fd);
		fs_reply_errno(s, err);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		reply(s, 550, "%s", S_ISDIR(st.st_mode) ? "Is a directory." :
		    "Not a regular file.");
		return;
	}
	if (hash_compute(s, fd, &st, algo, hex) == -1) {
		err = errno;
		close(fd);
		if (err == ECANCELED) {
			log_info("HASH %s aborted", path);
			reply(s, 451, "HASH aborted.");
			reply(s, 226, "ABOR command successful.");
			return;
		}
		log_warn("%s: digest", __func__);
		reply(s, 451, "%s", err == EINVAL ? "File changed while reading." :
		    "Local error in processing.");
		return;
	}
	close(fd);
	if (style == HASH_DRAFT)
		reply(s, 213, "%s 0-%jd %s %s", digest_name(algo),
		    (intmax_t)st.st_size, hex, arg);
	else
		reply(s, 250, "%s", hex);
}

void
opts_hash(struct session *s, const char *arg)
{
	int	algo;

	if (arg == NULL)
		arg = "";
	/* Accept both "SHA-1" and the whole "HASH SHA-1" from cmd_opts. */
	if (strncasecmp(arg, "HASH", 4) == 0 && (arg[4] == '\0' ||
	    arg[4] == ' '))
		arg += 4;
	while (*arg == ' ')
		arg++;
	if (*arg == '\0') {
		reply(s, 200, "%s", digest_name(session_algo(s)));
		return;
	}
	if ((algo = digest_byname(arg)) == -1) {
		reply(s, 504, "Unknown algorithm, use one of SHA-256, "
		    "SHA-512, SHA-1, MD5.");
		return;
	}
	s->hash_algo = algo;
	s->hash_opted = 1;
	reply(s, 200, "%s", digest_name(algo));
}

void
cmd_hash(struct session *s, const char *arg)
{
	hash_file(s, arg, session_algo(s), HASH_DRAFT);
}

void
cmd_xmd5(struct session *s, const char *arg)
{
	hash_file(s, arg, DIGEST_MD5, HASH_X);
}

void
cmd_xsha1(struct session *s, const char *arg)
{
	hash_file(s, arg, DIGEST_SHA1, HASH_X);
}

void
cmd_xsha256(struct session *s, const char *arg)
{
	hash_file(s, arg, DIGEST_SHA256, HASH_X);
}
