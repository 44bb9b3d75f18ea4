/* One logging API for all three programs: syslog or stderr. */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Where lines go: log_init's to_stderr. */
#define LOG_TO_SYSLOG	0
#define LOG_TO_STDERR	1	/* "time ident[pid]: line" (foreground) */
#define LOG_TO_PLAIN	2	/* "ident: line", as err(3) (moatftpd -t) */

/* ident: program name; to_stderr: LOG_TO_*; facility: syslog facility. */
void	log_init(const char *ident, int to_stderr, int facility);
/* The path the socket of syslog(3) is connected to, /dev/log resolved
 * (journald's socket when /dev/log is a link to it) at log_init; "" when
 * not logging to syslog. */
const char *log_syslog_peer(void);
/* A new facility for syslog (a reload); nothing on standard error. */
void	log_setfacility(int facility);
void	log_setlevel(int level);
int	log_getlevel(void);
/* Prefix every line with "[tag] " (session id, user, address). */
void	log_settag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a facility name ("ftp", "daemon", "auth", "authpriv", "user",
 * "local0".."local7") to LOG_*; -1 if unknown. */
int	log_facility_byname(const char *name);

/* log_err and log_warn add strerror(errno). Errors are what stops a start,
 * a reload or a process; they are logged at every log_level. */
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Make an untrusted string safe to log or print (strnvis: control bytes
 * as C escapes or octal), ending in "..." if cut short; returns dst. */
char	*log_vis(char *dst, size_t dstlen, const char *src);

#endif
