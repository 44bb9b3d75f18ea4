/* The digest cache of HASH, for the upload path (hashcmd.c). */
#ifndef MOAT_HASHCMD_H
#define MOAT_HASHCMD_H

#include <sys/stat.h>

#include <stdint.h>

#include "daemon/session.h"

#define HASH_XATTR	"user.moatftp."	/* + "md5", "sha1", "sha256", ... */

/*
 * Open-file-description locks of one byte each, far past any data, so
 * that neither stands in the other's way: the digest's (an upload alone on
 * its file, hashcmd.c) and the size's (the writers of one file take turns
 * to charge the quota what it grows by, transfer.c).
 */
#define HASH_LOCK_OFF	((off_t)(INT64_MAX - 1))
#define SIZE_LOCK_OFF	((off_t)(INT64_MAX - 2))

struct digest;

/* Around every upload to fd: a digest to feed with the bytes written, or
 * NULL; at the end, the digest is stamped if the upload is complete. */
struct digest	*hash_store_begin(struct session *, int fd, uint64_t start);
void		 hash_store_end(struct session *, int fd, struct digest *,
		    int complete);
/* Record hex as the algo digest of fd, if fd still has st's size and
 * mtime. Silently nothing where xattrs are not supported. */
void		 hash_cache_put(int fd, const struct stat *st, int algo,
		    const char *hex);

#endif
