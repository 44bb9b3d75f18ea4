/*
 * File digests: HASH and OPTS HASH (draft-bryan-ftpext-hash) and the older
 * XMD5, XSHA1, XSHA256. RANG is not supported, and REST does not apply:
 * the digest always covers the whole file, "0-<size>".
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shared/digest.h"
#include "shared/log.h"
#include "daemon/commands.h"
#include "daemon/fsops.h"
#include "daemon/session.h"
#include "daemon/vpath.h"

#define HASH_DEFAULT	DIGEST_SHA256

enum hash_style { HASH_DRAFT, HASH_X };

static int	session_algo(const struct session *);
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
 * digest (xattr keyed by size and mtime) can be looked up later. 0 or -1.
 */
static int
hash_compute(struct session *s, int fd, const struct stat *st, int algo,
    char *hex)
{
	(void)s;
	return digest_fd(algo, fd, 0, (uint64_t)st->st_size, hex);
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
