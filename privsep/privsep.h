/* Messages between the pre-login jail and its monitor. */
#ifndef MOAT_PRIVSEP_H
#define MOAT_PRIVSEP_H

#include <stdint.h>

#include "shared/limits.h"

enum privsep_msg {
	MSG_AUTH = 1,		/* jail -> monitor: struct msg_auth */
	MSG_AUTH_RESULT,	/* monitor -> jail: int32_t AUTH_* */
	MSG_HANDOFF,		/* jail -> monitor: struct msg_handoff + fd */
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
	uint32_t	npending;
	char		pending[MOAT_CMD_MAX * 4];
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
/* no_new_privs, not dumpable, rlimits for a role. */
void	sandbox_common(void);

#endif
