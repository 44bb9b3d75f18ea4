/* Logging: syslog, or stderr in the foreground. errno survives every call. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include "shared/log.h"

#define LOG_VIS_IN	1024	/* bytes of input log_vis() looks at */

static int	 log_stderr = 1;
static int	 log_level = LOG_LVL_INFO;
static char	 log_tag[160];
static const char *log_ident = "moat";
static char	 log_peer[108];	/* where /dev/log leads (sun_path) */

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "ftp", LOG_FTP }, { "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static void	vlog(int, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static void	logx(int, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	vlog_err(int, int, int, const char *, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));

void
log_init(const char *ident, int to_stderr, int facility)
{
	char	path[PATH_MAX];

	log_ident = ident;
	log_stderr = to_stderr;
	if (to_stderr == LOG_TO_SYSLOG) {
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
		/* resolved now, before any chroot or seccomp filter */
		if (realpath(_PATH_LOG, path) == NULL ||
		    strlcpy(log_peer, path, sizeof(log_peer)) >=
		    sizeof(log_peer))
			log_peer[0] = '\0';
	}
	tzset();
}

void
log_setfacility(int facility)
{
	if (log_stderr == LOG_TO_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
}

const char *
log_syslog_peer(void)
{
	return log_peer;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

void
log_settag(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(log_tag, sizeof(log_tag), fmt, ap);
	va_end(ap);
}

int
log_facility_byname(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].facility;
	return -1;
}

char *
log_vis(char *dst, size_t dstlen, const char *src)
{
	char	in[LOG_VIS_IN], out[4 * LOG_VIS_IN + 1];
	size_t	n, len = strlen(src);

	if (dstlen == 0)
		return dst;
	/*
	 * strvisx() into a buffer that always holds the whole result (4 bytes
	 * at most for each byte in): libbsd's strnvis() writes its NUL past
	 * dstlen when it cuts, and does not say that it did. Not VIS_SAFE: it
	 * lets \r, \n, \b, \a and \t through, which forge log lines or
	 * overwrite what a terminal shows.
	 */
	n = len < dstlen - 1 ? len : dstlen - 1;
	if (n > sizeof(in))
		n = sizeof(in);
	memcpy(in, src, n);
	(void)strvisx(out, in, n, VIS_OCTAL | VIS_CSTYLE | VIS_TAB | VIS_NL);
	if (strlcpy(dst, out, dstlen) >= dstlen || n < len) {
		/* cut short: say so where there is room */
		if (dstlen > 4)
			(void)strlcpy(dst + dstlen - 4, "...", 4);
	}
	return dst;
}

static void
vlog(int lvl, int pri, const char *fmt, va_list ap)
{
	char	msg[1024];
	int	saved = errno;

	if (lvl > log_level) {
		errno = saved;
		return;
	}
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr == LOG_TO_PLAIN)
		fprintf(stderr, "%s: %s%s%s\n", log_ident,
		    log_tag[0] ? log_tag : "", log_tag[0] ? " " : "", msg);
	else if (log_stderr) {
		char		 ts[32];
		time_t		 now = time(NULL);
		struct tm	 tm;

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%ld]: %s%s%s\n", ts, log_ident,
		    (long)getpid(), log_tag[0] ? log_tag : "",
		    log_tag[0] ? " " : "", msg);
	} else
		syslog(pri, "%s%s%s", log_tag[0] ? log_tag : "",
		    log_tag[0] ? " " : "", msg);
	errno = saved;
}

static void
logx(int lvl, int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(lvl, pri, fmt, ap);
	va_end(ap);
}

/* "prefix" + the message + ": strerror(err)" (err < 0: none), at lvl. */
static void
vlog_err(int lvl, int pri, int err, const char *prefix, const char *fmt,
    va_list ap)
{
	char	buf[1024];

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	if (err < 0)
		logx(lvl, pri, "%s%s", prefix, buf);
	else
		logx(lvl, pri, "%s%s: %s", prefix, buf, strerror(err));
	errno = err < 0 ? errno : err;
}

void
log_err(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_err(LOG_LVL_ERR, LOG_ERR, saved, "", fmt, ap);
	va_end(ap);
}

void
log_errx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_err(LOG_LVL_WARN, LOG_WARNING, saved, "", fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog_err(LOG_LVL_ERR, LOG_ERR, saved, "fatal: ", fmt, ap);
	va_end(ap);
	_exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog_err(LOG_LVL_ERR, LOG_ERR, -1, "fatal: ", fmt, ap);
	va_end(ap);
	_exit(1);
}
