/*
 * FTP reply parsing (RFC 959 single and multi-line replies) and the parsers
 * for what replies carry: PASV 227, EPSV 229, PWD 257, HASH/XMD5 digests,
 * key=value tokens (SITE QUOTA), MLSD facts lines and `ls -l` LIST lines.
 * Pure functions: no I/O, no allocation, so they can be unit tested and fuzzed.
 */
#ifndef MOAT_FTPREPLY_H
#define MOAT_FTPREPLY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FTP_LINE_MAX	4096		/* longest reply line we accept */
#define FTP_TEXT_MAX	16384		/* all lines of one reply, kept */
#define FTP_LINES_MAX	1000		/* lines in one multi-line reply */
#define FTP_ENTNAME_MAX	1024		/* file name in a listing */

struct ftp_reply {
	int	code;			/* 100..599 */
	int	multiline;
	int	truncated;		/* text did not fit */
	size_t	nlines;
	char	first[FTP_LINE_MAX];	/* text of the first line, after "ddd-" */
	char	last[FTP_LINE_MAX];	/* text of the final line, after "ddd " */
	char	text[FTP_TEXT_MAX];	/* every line's text, '\n'-separated */
	size_t	textlen;
};

/* Incremental parser: feed one line at a time. */
struct ftp_rparser {
	int		 inside;	/* inside a multi-line reply */
	struct ftp_reply r;
};

void	ftpreply_init(struct ftp_rparser *);
/*
 * Feed one line; trailing CR/LF in line[0..len) is ignored. Returns 1 when
 * the reply is complete (p->r holds it; call ftpreply_init before the next),
 * 0 when more lines are needed, -1 on a malformed or over-long line.
 */
int	ftpreply_feed(struct ftp_rparser *, const char *line, size_t len);
/*
 * Parse one reply from the start of buf[0..len). 1: complete reply in *r,
 * *used bytes consumed; 0: need more bytes; -1: malformed.
 */
int	ftpreply_parse(const char *buf, size_t len, struct ftp_reply *r,
	    size_t *used);

/* 227 text "... (h1,h2,h3,h4,p1,p2)": 0 or -1. */
int	ftpreply_pasv(const char *text, uint8_t addr[4], uint16_t *port);
/* 229 text "... (|||port|)" (any delimiter 33..126): 0 or -1. */
int	ftpreply_epsv(const char *text, uint16_t *port);
/* 257 text "\"/a \"\"b\"\" c\" is cwd": the unquoted path, 0 or -1 (also
 * for a path with a control byte: it would reach the terminal). */
int	ftpreply_pwd(const char *text, char *path, size_t len);
/*
 * Digest replies: HASH "SHA-256 0-100 <hex> name" (algo, range and hex),
 * or XMD5/XSHA256 "<hex>" / "<hex> name" (algo empty, start=end=0).
 * hex is lower-cased into hex (hexlen >= 129). 0 or -1.
 */
int	ftpreply_hash(const char *text, char *algo, size_t algolen,
	    uint64_t *start, uint64_t *end, char *hex, size_t hexlen);
/* Value of key=<unsigned> among space-separated tokens: 0, or -1 if absent
 * or not a number. */
int	ftpreply_kv(const char *text, const char *key, uint64_t *val);

enum ftp_enttype { FTP_ENT_FILE, FTP_ENT_DIR, FTP_ENT_LINK, FTP_ENT_CDIR,
	FTP_ENT_PDIR, FTP_ENT_OTHER };

struct ftp_entry {
	char		name[FTP_ENTNAME_MAX];
	int		type;		/* enum ftp_enttype */
	int		has_size;
	int		has_mtime;
	uint64_t	size;
	time_t		mtime;		/* UTC */
};

/*
 * A listing line whose name the client cannot use as one path component
 * (a control byte, a '/', too long): the parsers below return
 * FTPREPLY_BADNAME with its raw bytes, cut to fit, in e->name, to be shown
 * escaped in a warning and never used.
 */
#define FTPREPLY_BADNAME	(-2)

/* "type=file;size=3;modify=20240101120000; name": 0, -1 or
 * FTPREPLY_BADNAME. */
int	ftpreply_mlsd(const char *line, struct ftp_entry *);
/*
 * The text of an MLST reply ("Listing x\n type=dir;modify=...; /x\nEnd"):
 * the facts of its entry line, the one that starts with a space. That line
 * names a path, not one name: e->name is left empty. 0 or -1.
 */
int	ftpreply_mlst(const char *text, struct ftp_entry *);
/*
 * "-rw-r--r-- 1 u g 3 Jan  1 12:00 name" (or with a year). now picks the
 * year of "HH:MM" dates. 0: entry, 1: a line to skip ("total 12"), -1: bad,
 * FTPREPLY_BADNAME.
 */
int	ftpreply_list(const char *line, time_t now, struct ftp_entry *);

#endif
