/* The FEAT reply (RFC 2389), the same before and after login. */
#ifndef MOAT_FEAT_H
#define MOAT_FEAT_H

#include <stddef.h>

/* Build the multi-line 211 reply; tls: AUTH TLS offered; hash_algo: the
 * selected HASH algorithm (enum digest_algo). Returns its length. */
size_t	ftp_feat(char *buf, size_t len, int tls, int hash_algo);

#endif
