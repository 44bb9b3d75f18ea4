/*
 * What a configuration needs before it is used, at start and at every
 * reload: the jail user, jail_dir and the secrecy of the config file and
 * jail_dir (as root: owned by root, not group or world writable), a
 * certificate and key that load (tried in a child, so that the master
 * never holds the key), and the session's data context.
 */
#ifndef MOAT_CFGCHECK_H
#define MOAT_CFGCHECK_H

#include <sys/types.h>

#include <openssl/ssl.h>

#include "shared/config.h"

/*
 * On success fills the jail's ids (as root) and *dctx (NULL without TLS)
 * and returns 0; -1 leaves them alone. Every problem is logged, one line
 * each, naming the file. keys: the ticket keys. dry: change nothing (a
 * missing jail_dir is not made, only checked that it could be).
 */
int	config_checks(const struct config *cfg, const unsigned char *keys,
	    int dry, uid_t *juid, gid_t *jgid, SSL_CTX **dctx);

#endif
