/*
 * The monitor: root, one per connection. It never parses network bytes; it
 * answers the jail's typed requests (check a password) and, after a good
 * login, drops into the user's jail and becomes the session.
 */
#ifndef MOAT_MONITOR_H
#define MOAT_MONITOR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/limits.h"
#include "shared/tls.h"

struct ledger;
struct scoreboard;
struct userdb;

/* What the monitor hands to the session entry point after a good login. */
struct session_args {
	const struct config	*cfg;
	int			 ctlfd;		/* control: socket or TLS relay */
	int			 relayfd;	/* data relay channel, -1: none */
	int			 tls;		/* control is TLS (via the jail) */
	int			 pbsz;
	int			 prot_p;	/* PROT P was given before login */
	int			 utf8;
	unsigned char		 tls_token[16];	/* in the control's tickets */
	unsigned char		 tls_sess[MOAT_TLS_SESS_MAX]; /* TLS 1.2 */
	size_t			 ntls_sess;
	char			 pending[MOAT_CMD_MAX * 4];	/* after PASS */
	size_t			 npending;
	char			 user[MOAT_NAME_MAX + 1];
	uid_t			 uid;
	gid_t			 gid;
	char			 home[4096];	/* absolute path */
	int			 chrooted;	/* 1: "/" is the home */
	struct sockaddr_storage	 peer;		/* the client (PROXY-aware) */
	struct sockaddr_storage	 local;		/* our end of the control */
	char			 peerstr[64];
	struct ledger		*ledger;
	int			 slot;		/* ledger slot, -1 if none */
	int			 need_scan;	/* walk the home to set usage */
	struct sb_activity	*act;		/* its scoreboard activity */
	SSL_CTX			*data_ctx;	/* resumes tickets; no real key */
	unsigned long		 sessid;
};

typedef void	(*session_entry_fn)(struct session_args *);

struct monitor_args {
	const struct config	*cfg;
	struct userdb		*db;
	const char		*dummy_hash;	/* for unknown users */
	struct ledger		*ledger;
	struct scoreboard	*sb;
	int			 sbidx;
	int			 ctlfd;
	struct sockaddr_storage	 peer;
	struct sockaddr_storage	 local;
	char			 peerstr[64];
	unsigned long		 sessid;
	uint32_t		 dbgen;		/* of db, at fork */
	int			 root;		/* running as root */
	uid_t			 jail_uid;
	gid_t			 jail_gid;
	/* this connection's own ticket keys: its jail issues tickets with
	 * them, its session's data connections resume them, and no other
	 * connection's process holds them */
	unsigned char		 ticket_keys[TLS_TICKET_KEYS_LEN];
	SSL_CTX			*data_ctx;	/* for the session */
	session_entry_fn	 session_entry;
	int			 xferlog_fd;	/* the session's; the jail closes it */
	pid_t			 monitor_pid;	/* the jail's parent */
};

/* Serve the connection ma->ctlfd: fork its jail, check the login, become
 * the session. */
void	monitor_run(struct monitor_args *) __attribute__((noreturn));
/*
 * A pre-forked spare (ma->ctlfd is -1): fork a jail that waits too, load
 * the filters, then wait on master for one MSG_CONN and serve it as
 * monitor_run does. Exits if master closes first.
 */
void	monitor_spare(struct monitor_args *, int master)
	    __attribute__((noreturn));

#endif
