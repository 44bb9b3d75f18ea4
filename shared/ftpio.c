/* Control channel I/O: bounded line reading and reply writing. */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/ftpio.h"

#define IAC	255
#define DONT	254
#define WILL	251
#define SB	250
#define SE	240

static ssize_t	io_rd(struct ftpio *, void *, size_t);
static ssize_t	io_wr(struct ftpio *, const void *, size_t);

void
ftpio_init(struct ftpio *io, int fd, const struct ftpio_ops *ops, void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->ops = ops;
	io->ctx = ctx;
}

static ssize_t
io_rd(struct ftpio *io, void *buf, size_t n)
{
	if (io->ops != NULL)
		return io->ops->rd(io->ctx, buf, n);
	return read(io->fd, buf, n);
}

static ssize_t
io_wr(struct ftpio *io, const void *buf, size_t n)
{
	if (io->ops != NULL)
		return io->ops->wr(io->ctx, buf, n);
	return write(io->fd, buf, n);
}


size_t
ftpio_strip_iac(char *s, size_t n)
{
	size_t	i = 0, o = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c != IAC) {
			s[o++] = s[i++];
			continue;
		}
		if (i + 1 >= n) {		/* lone IAC at the end */
			i++;
			continue;
		}
		c = (unsigned char)s[i + 1];
		if (c == IAC) {			/* escaped 255 */
			s[o++] = (char)IAC;
			i += 2;
		} else if (c >= WILL && c <= DONT) {	/* WILL/WONT/DO/DONT opt */
			i += 3;
		} else if (c == SB) {		/* subnegotiation to IAC SE */
			i += 2;
			while (i + 1 < n && !((unsigned char)s[i] == IAC &&
			    (unsigned char)s[i + 1] == SE))
				i++;
			i += 2;
		} else				/* IP, DM, AO, ...: two bytes */
			i += 2;
	}
	if (i > n)
		i = n;
	return o;
}

int
ftpio_buffered(const struct ftpio *io)
{
	if (memchr(io->in, '\n', io->inlen) != NULL)
		return 1;
	return io->ops != NULL && io->ops->pending(io->ctx) > 0;
}

int
ftpio_next(struct ftpio *io, char *line, size_t len)
{
	char	*nl;
	size_t	 n;

	for (;;) {
		nl = memchr(io->in, '\n', io->inlen);
		if (nl == NULL) {
			if (io->inlen >= MOAT_CMD_MAX) {
				/* over-long: drop what we have, keep dropping */
				io->discarding = 1;
				io->inlen = 0;
			}
			if (io->eof)
				return io->inlen ? FTPIO_ERR : FTPIO_EOF;
			return 0;
		}
		n = (size_t)(nl - io->in);
		if (io->discarding) {
			memmove(io->in, nl + 1, io->inlen - n - 1);
			io->inlen -= n + 1;
			io->discarding = 0;
			return FTPIO_TOOLONG;
		}
		if (n + 1 > MOAT_CMD_MAX || n + 1 > len) {
			memmove(io->in, nl + 1, io->inlen - n - 1);
			io->inlen -= n + 1;
			return FTPIO_TOOLONG;
		}
		memcpy(line, io->in, n);
		memmove(io->in, nl + 1, io->inlen - n - 1);
		io->inlen -= n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		n = ftpio_strip_iac(line, n);
		line[n] = '\0';
		/* an embedded NUL would end the C string early ("MKD a\0b"
		 * made "a"): make it a control byte, which every name check
		 * refuses (test_hostile.py:t_paths) */
		while ((nl = memchr(line, '\0', n)) != NULL)
			*nl = '\x01';
		return FTPIO_LINE;
	}
}

int
ftpio_fill(struct ftpio *io)
{
	ssize_t	r;

	if (io->inlen == sizeof(io->in)) {	/* only when discarding */
		io->inlen = 0;
		io->discarding = 1;
	}
	r = io_rd(io, io->in + io->inlen, sizeof(io->in) - io->inlen);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return FTPIO_ERR;
	}
	if (r == 0) {
		io->eof = 1;
		return FTPIO_EOF;
	}
	io->inlen += (size_t)r;
	return (int)r;
}

int
ftpio_getline(struct ftpio *io, char *line, size_t len, int timeout_ms)
{
	long		deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	struct pollfd	pfd;
	int		r;

	for (;;) {
		if ((r = ftpio_next(io, line, len)) != 0)
			return r;
		if (io->eof)
			return FTPIO_EOF;
		if (io->ops == NULL || io->ops->pending(io->ctx) <= 0) {
			long left = deadline < 0 ? -1 : deadline - mono_ms();

			if (deadline >= 0 && left <= 0)
				return FTPIO_TIMEOUT;
			pfd.fd = io->fd;
			pfd.events = POLLIN;
			r = poll(&pfd, 1, (int)left);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1)
				return FTPIO_ERR;
			if (r == 0)
				return FTPIO_TIMEOUT;
		}
		r = ftpio_fill(io);
		if (r == FTPIO_ERR)
			return FTPIO_ERR;
	}
}

int
ftpio_write(struct ftpio *io, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		w = io_wr(io, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ftpio_reply(struct ftpio *io, int code, const char *fmt, ...)
{
	char	buf[MOAT_REPLY_MAX];
	va_list	ap;
	int	n, m;

	n = snprintf(buf, sizeof(buf), "%03d ", code);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0)
		return -1;
	if ((size_t)m >= sizeof(buf) - (size_t)n - 2)
		m = (int)(sizeof(buf) - (size_t)n - 3);	/* truncate */
	n += m;
	/* a reply never carries a bare CR or LF from an argument */
	for (m = 4; m < n; m++)
		if (buf[m] == '\r' || buf[m] == '\n')
			buf[m] = ' ';
	buf[n++] = '\r';
	buf[n++] = '\n';
	return ftpio_write(io, buf, (size_t)n);
}
