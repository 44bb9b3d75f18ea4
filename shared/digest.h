/* Message digests (OpenSSL EVP) for HASH/XMD5 and the client's checks. */
#ifndef MOAT_DIGEST_H
#define MOAT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

enum digest_algo { DIGEST_MD5, DIGEST_SHA1, DIGEST_SHA256, DIGEST_SHA512,
	DIGEST_NALGO };

#define DIGEST_HEX_MAX	(128 + 1)

struct digest;

/* "MD5", "SHA-1", "SHA-256", "SHA-512" as in the HASH draft (case-insens.),
 * also "sha1", "sha256". -1 if unknown. */
int		 digest_byname(const char *name);
const char	*digest_name(int algo);		/* "SHA-256" etc. */
struct digest	*digest_new(int algo);
void		 digest_update(struct digest *, const void *, size_t);
/* Lower-case hex into hex (>= DIGEST_HEX_MAX); frees d. */
void		 digest_final_hex(struct digest *d, char *hex);
void		 digest_free(struct digest *d);
/* Digest of bytes [off, off+len) of fd (len = UINT64_MAX: to EOF), pread. */
int		 digest_fd(int algo, int fd, uint64_t off, uint64_t len,
		    char *hex);
/* The same, stopping with ECANCELED when go_on(arg) says 0 between blocks. */
int		 digest_fd_while(int algo, int fd, uint64_t off, uint64_t len,
		    char *hex, int (*go_on)(void *), void *arg);

#endif
