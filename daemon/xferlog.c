/*
 * The transfer log: one line per transfer, in the xferlog format of
 * wu-ftpd and vsftpd:
 *
 *   current-time transfer-time remote-host file-size filename
 *   transfer-type special-action-flag direction access-mode username
 *   service-name authentication-method authenticated-user-id
 *   completion-status
 *
 * The descriptor is opened by the master without O_CLOEXEC so that the
 * (chrooted) sessions inherit it; each line is one write(2) to an
 * O_APPEND file, so lines from concurrent sessions never interleave.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/xferlog.h"
#include "shared/limits.h"
#include "shared/log.h"

static int	xfd = -1;

int
xferlog_open(const char *path)
{
	int	fd;

	if (path[0] == '\0') {
		if (xfd != -1)
			close(xfd);
		xfd = -1;
		return 0;
	}
	fd = open(path, XFERLOG_OPEN_FLAGS, 0640);
	if (fd == -1) {
		log_warn("xferlog %s", path);
		return -1;
	}
	if (xfd != -1)
		close(xfd);
	xfd = fd;
	return 0;
}

int
xferlog_fd(void)
{
	return xfd;
}

/* Copy a path, turning blanks and control bytes into '_': one field. */
static void
field(char *dst, size_t len, const char *src)
{
	size_t	i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = ((unsigned char)src[i] <= ' ' ||
		    src[i] == 0x7f) ? '_' : src[i];
	dst[i] = '\0';
}

int
xferlog_format(const struct xferlog_rec *r, char *buf, size_t len)
{
	char		 when[32], file[MOAT_PATH_MAX], user[MOAT_NAME_MAX + 1];
	struct tm	 tm;
	int		 n;

	if (localtime_r(&r->when, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return -1;
	field(file, sizeof(file), r->file);
	field(user, sizeof(user), r->user);
	n = snprintf(buf, len, "%s %ld %s %llu %s %c _ %c r %s ftp 0 * %c\n",
	    when, r->secs < 1 ? 1 : r->secs, r->host,
	    (unsigned long long)r->bytes, file, r->ascii ? 'a' : 'b',
	    r->incoming ? 'i' : 'o', user, r->complete ? 'c' : 'i');
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

void
xferlog_write(const struct xferlog_rec *r)
{
	char	line[MOAT_PATH_MAX + 256];
	int	n;

	if (xfd == -1)
		return;
	if ((n = xferlog_format(r, line, sizeof(line))) == -1) {
		log_warnx("xferlog: line too long");
		return;
	}
	if (write(xfd, line, (size_t)n) != n)
		log_warn("xferlog: write");
}
