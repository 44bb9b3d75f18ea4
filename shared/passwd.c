/* Password hashing with libcrypt: yescrypt by default, constant-time check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>

#include <openssl/crypto.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "shared/limits.h"
#include "shared/passwd.h"

/*
 * A valid yescrypt hash of a password nobody knows. passwd_verify() hashes
 * against it when the stored hash is unusable, so a locked or unknown
 * account costs as much as a real one.
 */
#define PASSWD_DUMMY \
	"$y$j9T$FDM/LUDNG8yfVpwtH5p5x/$fQsb8dODtD9lRMJz3CyFYmQMq51uxVhk6tjvqgPxcN0"

static int	passwd_usable(const char *hash);

const char *
passwd_dummy_hash(void)
{
	return PASSWD_DUMMY;
}

/* A hash that may match: a crypt(3) "$id$..." string, not "*"/"!". */
static int
passwd_usable(const char *hash)
{
	return hash != NULL && hash[0] == '$' &&
	    strlen(hash) <= MOAT_HASH_MAX;
}

int
passwd_hash(const char *pw, char *out, size_t outlen)
{
	char	*salt = NULL, *h;
	void	*data = NULL;
	int	 size = 0, rv = -1, saved;

	if (pw == NULL || out == NULL || outlen == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((salt = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL)
		goto done;
	h = crypt_ra(pw, salt, &data, &size);
	if (h == NULL || h[0] != '$') {
		errno = EINVAL;
		goto done;
	}
	if (strlcpy(out, h, outlen) >= outlen) {
		explicit_bzero(out, outlen);
		errno = ENAMETOOLONG;
		goto done;
	}
	rv = 0;
 done:
	saved = errno;
	free(salt);
	if (data != NULL)
		freezero(data, (size_t)size);
	errno = saved;
	return rv;
}

int
passwd_verify(const char *pw, const char *hash)
{
	const char	*setting;
	char		*h;
	void		*data = NULL;
	int		 size = 0, usable, match = 0;
	size_t		 hlen;

	usable = passwd_usable(hash);
	setting = usable ? hash : PASSWD_DUMMY;
	h = crypt_ra(pw != NULL ? pw : "", setting, &data, &size);
	if (h != NULL && h[0] == '$' && usable) {
		hlen = strlen(hash);
		/* libbsd 0.11 lacks timingsafe_bcmp(); this is the same. */
		match = strlen(h) == hlen &&
		    CRYPTO_memcmp(h, hash, hlen) == 0;
	}
	if (data != NULL)
		freezero(data, (size_t)size);
	return match;
}
