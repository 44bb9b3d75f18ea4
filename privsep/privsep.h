/* Messages between the pre-login jail and its monitor. */
#ifndef MOAT_PRIVSEP_H
#define MOAT_PRIVSEP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "shared/limits.h"

enum privsep_msg {
	MSG_AUTH = 1,		/* jail -> monitor: struct msg_auth */
	MSG_AUTH_RESULT,	/* monitor -> jail: int32_t AUTH_* */
	MSG_HANDOFF,		/* jail -> monitor: struct msg_handoff + fd */
	MSG_RELAY,		/* jail -> monitor, after a TLS handoff: the
				   session's end of the data relay channel */
	MSG_CONN,		/* master -> spare monitor -> its spare jail:
				   struct msg_conn + the client's socket */
};

/* A connection handed to a pre-forked spare (prefork_spares). */
struct msg_conn {
	struct sockaddr_storage	peer;
	struct sockaddr_storage	local;
	char			peerstr[64];
	uint64_t		sessid;
	int32_t			sbidx;
};

/*
 * Session <-> TLS relay (the jail after a TLS login), over the relay
 * channel. A PROT P data connection that does not resume the control
 * session needs the real key: the session passes the raw socket, the relay
 * does the handshake and hands back the plaintext end of a socketpair.
 */
enum relay_msg {
	MSG_DATA_TLS = 16,	/* session -> relay: data socket (fd), no data */
	MSG_DATA_TLS_OK,	/* relay -> session: plaintext end (fd) */
	MSG_DATA_TLS_FAIL,	/* relay -> session: the handshake failed */
	MSG_DATA_DONE,		/* relay -> session: struct msg_data_done,
				   sent before the plaintext end is closed
				   when the client's side ended */
	MSG_DATA_ABORT,		/* session -> relay: a uint32_t id; the
				   transfer was aborted: drop what is not
				   sent, no close_notify */
};

struct msg_data_done {
	uint32_t	id;		/* from MSG_DATA_TLS_OK (a uint32_t) */
	int32_t		ok;		/* 1: close_notify; 0: reset, error */
};

enum { AUTH_OK = 0, AUTH_FAIL, AUTH_TOO_MANY, AUTH_LEDGER_FULL };

struct msg_auth {
	char	user[MOAT_NAME_MAX + 1];
	char	pass[MOAT_PASS_MAX + 1];
};

struct msg_handoff {
	int32_t		tls;
	int32_t		pbsz;
	int32_t		prot_p;
	int32_t		utf8;
	unsigned char	token[16];	/* stamped into this control's tickets */
	uint32_t	npending;
	char		pending[MOAT_CMD_MAX * 4];
	uint32_t	nsess;		/* TLS 1.2: the control session */
	unsigned char	sess[MOAT_TLS_SESS_MAX];
};

struct monitor_args;

/* The pre-login jail (jail.c): never returns. sock talks to the monitor. */
void	jail_run(struct monitor_args *, int sock) __attribute__((noreturn));

/* sandbox.c */
/* chroot(dir), chdir("/"), setgroups, setresgid, setresuid; fatal on any
 * failure, then checks that root cannot be regained. */
void	sandbox_drop(const char *dir, uid_t uid, gid_t gid);
/* Landlock: allow file access beneath dir only. 0, or -1 (unsupported). */
int	sandbox_landlock(const char *dir);
enum sandbox_role { ROLE_JAIL, ROLE_SESSION, ROLE_MONITOR };
/* Clear the environment; no_new_privs, not dumpable, rlimits for a role. */
void	sandbox_common(int role);
/* Close every descriptor above 2 but those in keep[], the seccomp report
 * socket and syslog(3)'s socket. */
void	sandbox_closefds(const int *keep, size_t nkeep);

/* seccomp.c: an allow-list per role, loaded last. */
void	sandbox_seccomp_jail(void);
void	sandbox_seccomp_session(void);
/* The monitor's, after it forked jail (the only process it may kill). */
void	sandbox_seccomp_monitor(pid_t jail);
/* The master, before its first fork: a socket on which processes killed by
 * their filter report role and call; returns the master's end, or -1. */
int	seccomp_report_open(void);
/* The children's end (-1 if none), kept by sandbox_closefds. */
int	seccomp_report_fd(void);
/* Log every report waiting on the master's end (a bounded batch). */
void	seccomp_report_drain(int fd);

#endif
