/*
 * libFuzzer: the command-line reader (shared/ftpio.c). The input is the
 * byte stream a client sends; the first byte picks how the transport splits
 * it into reads, so lines straddle read boundaries. Every line handed out
 * must be NUL-terminated, shorter than MOAT_CMD_MAX and hold no LF.
 */
#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/ftpio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct feed {
	const uint8_t	*p;
	size_t		 left;
	size_t		 chunk;
};

static ssize_t
feed_rd(void *ctx, void *buf, size_t n)
{
	struct feed	*f = ctx;

	if (n > f->chunk)
		n = f->chunk;
	if (n > f->left)
		n = f->left;
	memcpy(buf, f->p, n);
	f->p += n;
	f->left -= n;
	return (ssize_t)n;
}

static ssize_t
feed_wr(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	return (ssize_t)n;
}

static int
feed_pending(void *ctx)
{
	return ((struct feed *)ctx)->left > 0;
}

static const struct ftpio_ops feed_ops = { feed_rd, feed_wr, feed_pending };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ftpio	io;
	struct feed		f;
	char			line[MOAT_CMD_MAX], *copy;
	size_t			n, m, guard = 0;
	int			r;

	if (size < 1)
		return 0;
	f.chunk = (size_t)data[0] * 7 + 1;
	f.p = data + 1;
	f.left = size - 1;
	ftpio_init(&io, -1, &feed_ops, &f);
	for (;;) {
		assert(guard++ < 2 * size + 16);
		r = ftpio_next(&io, line, sizeof(line));
		if (r == FTPIO_LINE) {
			n = strlen(line);
			assert(n < MOAT_CMD_MAX);
			assert(memchr(line, '\n', n) == NULL);
			continue;
		}
		if (r == FTPIO_TOOLONG)
			continue;
		if (r == FTPIO_EOF || r == FTPIO_ERR)
			break;
		assert(r == 0);
		r = ftpio_fill(&io);
		assert(io.inlen <= sizeof(io.in));
		if (r == FTPIO_ERR)
			break;
	}
	/* IAC stripping on its own: never grows, never reads past n */
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	m = ftpio_strip_iac(copy, size);
	assert(m <= size);
	free(copy);
	/* the reply writer never lets a CR or LF from an argument through */
	if (size < 2048) {
		char	 arg[2048];
		struct feed sink = { NULL, 0, 1 };

		memcpy(arg, data, size);
		arg[size] = '\0';
		ftpio_init(&io, -1, &feed_ops, &sink);
		(void)ftpio_reply(&io, 550, "%s: no such file.", arg);
	}
	return 0;
}
