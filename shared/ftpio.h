/*
 * The FTP control channel, both ends of the server: a bounded command-line
 * reader (CRLF or LF, Telnet IAC stripped) and the reply writer. The jail
 * and the session share it; the transport (plain fd or TLS) is pluggable.
 */
#ifndef MOAT_FTPIO_H
#define MOAT_FTPIO_H

#include <sys/types.h>
#include <stddef.h>

#include "shared/limits.h"

struct ftpio_ops {
	ssize_t	(*rd)(void *ctx, void *buf, size_t n);
	ssize_t	(*wr)(void *ctx, const void *buf, size_t n);
	int	(*pending)(void *ctx);	/* bytes buffered below us */
};

struct ftpio {
	int			 fd;		/* polled for input */
	const struct ftpio_ops	*ops;		/* NULL: plain read/write on fd */
	void			*ctx;
	char			 in[MOAT_CMD_MAX * 4];
	size_t			 inlen;
	int			 discarding;	/* inside an over-long line */
	int			 eof;
};

enum {
	FTPIO_LINE = 1,		/* a line is in the buffer */
	FTPIO_EOF = 0,
	FTPIO_ERR = -1,
	FTPIO_TIMEOUT = -2,
	FTPIO_TOOLONG = -3,	/* line over MOAT_CMD_MAX, discarded */
};

void	ftpio_init(struct ftpio *io, int fd, const struct ftpio_ops *ops,
	    void *ctx);
/* Wait up to timeout_ms (-1 forever) for one command line. */
int	ftpio_getline(struct ftpio *io, char *line, size_t len,
	    int timeout_ms);
/* Take a complete line already buffered, without blocking; same codes,
 * 0 meaning "none yet". */
int	ftpio_next(struct ftpio *io, char *line, size_t len);
/* Read what is available once (after poll said readable). */
int	ftpio_fill(struct ftpio *io);
/* 1 if a line may be ready without touching the fd. */
int	ftpio_buffered(const struct ftpio *io);
/* Strip Telnet IAC sequences from a line in place; returns the new length. */
size_t	ftpio_strip_iac(char *s, size_t n);

/* "CODE text\r\n". 0 or -1. */
int	ftpio_reply(struct ftpio *io, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Raw bytes (multi-line replies built by the caller). */
int	ftpio_write(struct ftpio *io, const void *buf, size_t n);

#endif
