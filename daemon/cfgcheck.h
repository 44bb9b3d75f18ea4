/*
 * What a configuration needs before it is used, at start and at every
 * reload: the jail user, jail_dir and the secrecy of the config file and
 * jail_dir (as root: owned by root, not group or world writable), a
 * certificate and key that load (tried in a child, so that the master
 * never holds the key), and the session's data context. And what else a
 * start needs from the system (start_checks). moatftpd -t runs both, and
 * the master's own start runs them before it changes anything: -t passes
 * what a start accepts.
 */
#ifndef MOAT_CFGCHECK_H
#define MOAT_CFGCHECK_H

#include <sys/types.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/userdb.h"

/*
 * On success fills the jail's ids (as root) and *dctx (NULL without TLS)
 * and returns 0; -1 leaves them alone. Every problem is logged, one line
 * each, naming the file. keys: the ticket keys. dry: change nothing (a
 * missing jail_dir is not made, only checked that it could be).
 */
int	config_checks(const struct config *cfg, const unsigned char *keys,
	    int dry, uid_t *juid, gid_t *jgid, SSL_CTX **dctx);
/*
 * The rest of what a start needs, checked without changing anything:
 * home_root when db (if not NULL) has homes in it, the pidfile's directory
 * (for the pidfile and the scoreboard), the xferlog, and that each listen
 * address binds (closed at once, never listening). test (moatftpd -t): an
 * address in use is no problem while the pidfile names a live process,
 * the running daemon, whose reload keeps its listeners. Each problem is
 * logged on a line of its own; returns how many there were.
 */
int	start_checks(const struct config *cfg, const struct userdb *db,
	    int test);

#endif
