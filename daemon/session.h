/*
 * The post-login FTP session: one process, the user's uid, chrooted into
 * the home (or confined by Landlock + RESOLVE_IN_ROOT when not root).
 * All per-session state lives in this one struct.
 */
#ifndef MOAT_SESSION_H
#define MOAT_SESSION_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/ftpio.h"
#include "shared/limits.h"
#include "privsep/monitor.h"

struct ledger;

enum data_mode { DATA_NONE, DATA_PASV, DATA_PORT };

struct session {
	const struct config	*cfg;
	struct ftpio		 io;
	int			 rootfd;	/* O_PATH fd of the home */
	char			 cwd[MOAT_PATH_MAX];	/* virtual, "/..." */
	char			 user[MOAT_NAME_MAX + 1];
	uid_t			 uid;
	gid_t			 gid;
	struct sockaddr_storage	 peer;
	struct sockaddr_storage	 local;
	char			 peerstr[64];
	unsigned long		 sessid;

	/* data channel */
	enum data_mode		 dmode;
	int			 pasv_fd;	/* listening socket */
	struct sockaddr_storage	 port_addr;
	int			 epsv_all;

	/* transfer parameters */
	uint64_t		 rest;
	uint64_t		 allo;
	int			 type_ascii;
	int			 hash_algo;	/* OPTS HASH, enum digest_algo */
	unsigned int		 mlst;		/* OPTS MLST, MLST_* bits */
	int			 hash_opted;	/* OPTS HASH given: digest STOR */
	int			 utf8;
	char			 rnfr[MOAT_PATH_MAX];	/* "" = none */

	/* TLS */
	int			 tls;		/* control is encrypted */
	int			 pbsz;
	int			 prot_p;
	SSL_CTX			*data_ctx;
	int			 relayfd;	/* to the TLS relay, -1: none */

	/* quota */
	struct ledger		*ledger;
	int			 slot;

	/* what the scoreboard shows of this session (its own page) */
	struct sb_activity	*act;

	/* accounting for logs and STAT */
	uint64_t		 bytes_in, bytes_out;
	unsigned		 files_in, files_out;
	int			 quit;
};

/* A command handler: arg is "" when the command had none. */
typedef void	(*cmd_handler)(struct session *, const char *arg);

/* Never returns. */
void	session_main(struct session_args *a) __attribute__((noreturn));
/* Reply helper: logs at debug level, ends the session on a write error. */
void	reply(struct session *s, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Run one command line (also during a transfer). */
void	session_dispatch(struct session *s, char *line);
/* Raw multi-line reply text. */
void	reply_raw(struct session *s, const char *text, size_t len);

#endif
