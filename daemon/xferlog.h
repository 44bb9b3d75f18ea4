/*
 * The transfer log in the wu-ftpd/vsftpd xferlog format. The master opens
 * the file (sessions are chrooted and could not); sessions inherit the
 * descriptor and write one line per transfer with one write(2).
 */
#ifndef MOAT_XFERLOG_H
#define MOAT_XFERLOG_H

#include <fcntl.h>
#include <stdint.h>
#include <time.h>

/* How the master opens the file (no O_CLOEXEC: the sessions keep it). */
#define XFERLOG_OPEN_FLAGS	(O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW)

struct xferlog_rec {
	time_t		 when;		/* end of the transfer */
	long		 secs;		/* duration, rounded up, >= 1 */
	const char	*host;		/* client address */
	uint64_t	 bytes;
	const char	*file;		/* virtual path */
	int		 ascii;		/* transfer type a, else b */
	int		 incoming;	/* i (upload), else o */
	const char	*user;
	int		 complete;	/* c, else i */
};

/* Master: (re)open path; "" closes. 0 or -1 (the old fd stays then). */
int	xferlog_open(const char *path);
/* The descriptor children must not keep (the jail), or -1. */
int	xferlog_fd(void);
/* Format one line into buf (NUL-terminated); its length, or -1. */
int	xferlog_format(const struct xferlog_rec *, char *buf, size_t len);
/* Session: write one record, if the log is on. */
void	xferlog_write(const struct xferlog_rec *);

#endif
