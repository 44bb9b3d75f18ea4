/* Message digests through OpenSSL's EVP interface. */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "shared/digest.h"

#define DIGEST_BUF	(64 * 1024)

struct digest {
	EVP_MD_CTX	*ctx;
	int		 algo;
};

static const struct {
	const char	*name;		/* as in draft-bryan-ftpext-hash */
	const char	*alias;
	const char	*evp;
} digest_algos[DIGEST_NALGO] = {
	[DIGEST_MD5] =		{ "MD5",	"md5",		"MD5" },
	[DIGEST_SHA1] =		{ "SHA-1",	"sha1",		"SHA1" },
	[DIGEST_SHA256] =	{ "SHA-256",	"sha256",	"SHA256" },
	[DIGEST_SHA512] =	{ "SHA-512",	"sha512",	"SHA512" },
};

static void	digest_hex(const unsigned char *, unsigned, char *);

int
digest_byname(const char *name)
{
	int	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < DIGEST_NALGO; i++)
		if (strcasecmp(name, digest_algos[i].name) == 0 ||
		    strcasecmp(name, digest_algos[i].alias) == 0)
			return i;
	return -1;
}

const char *
digest_name(int algo)
{
	if (algo < 0 || algo >= DIGEST_NALGO)
		return NULL;
	return digest_algos[algo].name;
}

struct digest *
digest_new(int algo)
{
	struct digest	*d;
	const EVP_MD	*md;

	if (algo < 0 || algo >= DIGEST_NALGO) {
		errno = EINVAL;
		return NULL;
	}
	if ((md = EVP_get_digestbyname(digest_algos[algo].evp)) == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->algo = algo;
	if ((d->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
		digest_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
digest_update(struct digest *d, const void *buf, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(d->ctx, buf, len) != 1)
		abort();	/* cannot fail for the software digests */
}

static void
digest_hex(const unsigned char *md, unsigned len, char *hex)
{
	static const char	 xd[] = "0123456789abcdef";
	unsigned		 i;

	for (i = 0; i < len; i++) {
		hex[2 * i] = xd[md[i] >> 4];
		hex[2 * i + 1] = xd[md[i] & 0xf];
	}
	hex[2 * len] = '\0';
}

void
digest_final_hex(struct digest *d, char *hex)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	len = 0;

	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1 ||
	    2 * len + 1 > DIGEST_HEX_MAX)
		abort();
	digest_hex(md, len, hex);
	digest_free(d);
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

/*
 * Digest bytes [off, off+len) of fd with pread, leaving the file offset
 * alone. len = UINT64_MAX reads to end of file. A file that ends before
 * off+len is an error (EINVAL): the range asked for is not all there.
 */
int
digest_fd(int algo, int fd, uint64_t off, uint64_t len, char *hex)
{
	return digest_fd_while(algo, fd, off, len, hex, NULL, NULL);
}

/*
 * digest_fd, asking go_on(arg) before each block after the first: when it
 * says 0, stop with ECANCELED.
 */
int
digest_fd_while(int algo, int fd, uint64_t off, uint64_t len, char *hex,
    int (*go_on)(void *), void *arg)
{
	struct digest	*d;
	unsigned char	*buf;
	uint64_t	 left = len, start = off;
	ssize_t		 n;
	size_t		 want;
	int		 saved;

	if (off > INT64_MAX || (len != UINT64_MAX && len > INT64_MAX - off)) {
		errno = EINVAL;
		return -1;
	}
	if ((d = digest_new(algo)) == NULL)
		return -1;
	if ((buf = malloc(DIGEST_BUF)) == NULL)
		goto fail;
	while (left > 0) {
		if (go_on != NULL && off != start && !go_on(arg)) {
			errno = ECANCELED;
			goto fail;
		}
		want = left < DIGEST_BUF ? (size_t)left : DIGEST_BUF;
		n = pread(fd, buf, want, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0) {
			if (len == UINT64_MAX)
				break;
			errno = EINVAL;
			goto fail;
		}
		digest_update(d, buf, (size_t)n);
		off += (uint64_t)n;
		if (len != UINT64_MAX)
			left -= (uint64_t)n;
	}
	free(buf);
	digest_final_hex(d, hex);
	return 0;
 fail:
	saved = errno;
	free(buf);
	digest_free(d);
	errno = saved;
	return -1;
}
