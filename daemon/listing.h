/*
 * LIST, NLST, MLSD and MLST. The formatting of one entry is pure (a struct
 * stat and a name in, one line of text out) so it can be unit tested; the
 * handlers in listing.c walk the directory and send the lines.
 */
#ifndef MOAT_LISTING_H
#define MOAT_LISTING_H

#include <sys/types.h>
#include <sys/stat.h>
#include <stddef.h>
#include <time.h>

#define LISTING_LINE_MAX	8192	/* one entry, symlink target included */

/* Who is looking: decides owner/group names and the perm fact. */
struct listing_who {
	uid_t		 uid;
	gid_t		 gid;
	const char	*name;		/* shown for uid and gid; NULL: numbers */
};

/* "drwxr-xr-x" (with s/S/t/T) into buf (>= 11 bytes): 0 or -1. */
int	listing_mode(mode_t mode, char *buf, size_t len);
/* The rwx bits (4|2|1) that who has on st. */
int	listing_access(const struct stat *st, const struct listing_who *who);
/*
 * `ls -l` line, no CRLF: "drwxr-xr-x 2 owner group 4096 Nov 25 01:02 name"
 * (" -> target" for a symlink when target is not NULL); the date is UTC,
 * "Mon DD  YYYY" when older than six months or in the future of now.
 * Returns the length, or -1 if it does not fit or a name holds CR or LF.
 */
int	listing_fmt_list(char *buf, size_t len, const struct stat *st,
	    const char *name, const char *target,
	    const struct listing_who *who, time_t now);
/*
 * RFC 3659 perm fact letters ("adfrw" for a file, "cdeflmp" for a
 * directory); parent_w: who may change the containing directory.
 * 0 or -1.
 */
int	listing_perm(char *buf, size_t len, const struct stat *st,
	    const struct listing_who *who, int parent_w);
/*
 * MLSD/MLST facts and name, no CRLF:
 * "type=file;size=123;modify=20261125010203;perm=adfrw;unique=801g1234; name"
 * Returns the length, or -1 if it does not fit or name holds CR or LF.
 */
int	listing_fmt_facts(char *buf, size_t len, const struct stat *st,
	    const char *name, const struct listing_who *who, int parent_w);

#endif
