/* Password hashing with libcrypt: yescrypt ($y$) by default. */
#ifndef MOAT_PASSWD_H
#define MOAT_PASSWD_H

#include <stddef.h>

#define PASSWD_MIN_LEN	8

/* Hash pw with a fresh salt (crypt_gensalt_ra "$y$"); 0 or -1. */
int	passwd_hash(const char *pw, char *out, size_t outlen);
/* 1 if pw matches hash (crypt_ra + constant-time compare), else 0. A "*" or
 * "!"-prefixed hash never matches. Always costs one hash computation. */
int	passwd_verify(const char *pw, const char *hash);
/* A valid hash of an unknown password: verify against it for unknown users
 * so they cost the same as known ones. */
const char *passwd_dummy_hash(void);

#endif
