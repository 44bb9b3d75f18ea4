/*
 * The monitor: root, one per connection. It forks the pre-login jail,
 * answers its typed requests (each once, in order), and after a good login
 * drops into the user's home and becomes the session.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>

#include "privsep/ipc.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/ledger.h"
#include "shared/log.h"
#include "shared/passwd.h"
#include "shared/scoreboard.h"
#include "shared/userdb.h"

enum mstate { M_AUTH, M_HANDOFF, M_RELAY };

static int32_t	monitor_auth(struct monitor_args *, const struct msg_auth *,
		    struct session_args *, int *);
static void	monitor_session(struct monitor_args *, struct session_args *,
		    pid_t) __attribute__((noreturn));
static void	jail_linger(int);
static void	monitor_serve(struct monitor_args *, int, pid_t)
		    __attribute__((noreturn));


/*
 * The jail was told to end the login (421): let it write the reply and exit
 * by itself (its end of sp closes) before it is killed, for at most 2 s.
 */
static void
jail_linger(int fd)
{
	struct pollfd	pfd;
	long		deadline = mono_ms() + 2000;
	int		r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((r = poll(&pfd, 1, (int)(deadline - mono_ms()))) == -1 &&
	    errno == EINTR && mono_ms() < deadline)
		;
}

/*
 * A connection forked before a reload (SIGHUP, moatadm quota/passwd/lock)
 * holds the old user db: read the file again, so that a new password, a
 * lock or a new quota applies to it too. On failure the copy is kept.
 */
static void
monitor_fresh_db(struct monitor_args *ma)
{
	struct userdb	ndb;
	char		err[512];
	uint32_t	gen = ledger_dbgen(ma->ledger);

	if (gen == ma->dbgen)
		return;
	memset(&ndb, 0, sizeof(ndb));
	if (userdb_load(&ndb, ma->cfg->user_db, err, sizeof(err)) == -1) {
		log_warnx("user db changed but cannot be read: %s", err);
		return;
	}
	userdb_free(ma->db);
	*ma->db = ndb;
	ma->dbgen = gen;
}

/* Check a login. Fills sa on success. failures counts bad passwords. */
static int32_t
monitor_auth(struct monitor_args *ma, const struct msg_auth *req,
    struct session_args *sa, int *failures)
{
	const struct user	*u = NULL;
	struct stat		 st;
	char			 vis[MOAT_NAME_MAX * 4 + 1];
	int			 ok, slot, scan;

	/* re-check what the jail sent: terminated, valid name */
	if (memchr(req->user, '\0', sizeof(req->user)) == NULL ||
	    memchr(req->pass, '\0', sizeof(req->pass)) == NULL)
		fatalx("%s: unterminated string from the jail", __func__);
	monitor_fresh_db(ma);
	if (userdb_valid_name(req->user) == 0)
		u = userdb_find(ma->db, req->user);
	/* always one hash, so that unknown users cost the same */
	ok = passwd_verify(req->pass, u != NULL ? u->hash : ma->dummy_hash);
	if (u == NULL || !ok || (u->flags & USER_F_LOCKED)) {
		log_warnx("login failed for \"%s\" from %s%s",
		    log_vis(vis, sizeof(vis), req->user), ma->peerstr,
		    u != NULL && ok ? " (account locked)" : "");
		(*failures)++;
		if (ma->cfg->login_fail_delay > 0)
			sleep((unsigned)ma->cfg->login_fail_delay);
		return AUTH_FAIL;
	}
	if (stat(u->home, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_warnx("login of %s refused: home %s is missing", u->name,
		    u->home);
		return AUTH_FAIL;
	}
	slot = ledger_attach(ma->ledger, u->uid, u->quota,
	    (uint32_t)ma->cfg->max_per_user, &scan);
	if (slot == LEDGER_TOO_MANY) {
		log_warnx("refused %s from %s: too many sessions for this user",
		    u->name, ma->peerstr);
		return AUTH_TOO_MANY;
	}
	if (slot == LEDGER_FULL) {
		log_warnx("refused %s from %s: quota ledger full", u->name,
		    ma->peerstr);
		return AUTH_LEDGER_FULL;
	}
	atomic_store(&ma->sb->e[ma->sbidx].slot, slot);
	atomic_store(&ma->sb->e[ma->sbidx].uid, (uint32_t)u->uid);
	(void)strlcpy(ma->sb->e[ma->sbidx].user, u->name,
	    sizeof(ma->sb->e[ma->sbidx].user));
	atomic_store(&ma->sb->e[ma->sbidx].login, (int64_t)time(NULL));
	(void)strlcpy(sa->user, u->name, sizeof(sa->user));
	(void)strlcpy(sa->home, u->home, sizeof(sa->home));
	sa->uid = u->uid;
	sa->gid = u->gid;
	sa->slot = slot;
	sa->need_scan = scan;
	log_info("login %s from %s", u->name, ma->peerstr);
	return AUTH_OK;
}

/* Become the session: confine, drop, and run it. */
static void
monitor_session(struct monitor_args *ma, struct session_args *sa, pid_t jail)
{
	int	status;

	if (!sa->tls) {
		/* the plain jail exits after the handoff */
		while (waitpid(jail, &status, 0) == -1 && errno == EINTR)
			;
	} else
		signal(SIGCHLD, SIG_IGN);	/* the relay is reaped */
	/* the session keeps no one else's hash */
	userdb_free(ma->db);
	ma->db = NULL;
	sa->cfg = ma->cfg;
	sa->peer = ma->peer;
	sa->local = ma->local;
	(void)strlcpy(sa->peerstr, ma->peerstr, sizeof(sa->peerstr));
	/* keep only this account's counter and this session's activity */
	if (ledger_confine(ma->ledger, sa->slot) == -1)
		fatal("%s: ledger_confine", __func__);
	sa->ledger = ma->ledger;
	if ((sa->act = scoreboard_confine(ma->sb, ma->sbidx)) == NULL)
		fatal("%s: scoreboard_confine", __func__);
	ma->sb = NULL;
	sa->data_ctx = ma->data_ctx;	/* with this connection's keys */
	explicit_bzero(ma->ticket_keys, sizeof(ma->ticket_keys));
	sa->sessid = ma->sessid;
	{
		const int keep[] = { sa->ctlfd, sa->relayfd, ma->xferlog_fd };

		sandbox_closefds(keep, sizeof(keep) / sizeof(keep[0]));
	}
	if (ma->root) {
		sandbox_drop(sa->home, sa->uid, sa->gid);
		sa->chrooted = 1;
		/* a second wall inside the chroot */
		if (sandbox_landlock("/") == -1)
			log_debug("Landlock unavailable inside the chroot");
	} else {
		if (sandbox_landlock(sa->home) == -1)
			log_warnx("Landlock unavailable: %s is confined by "
			    "RESOLVE_IN_ROOT only", sa->user);
		sa->chrooted = 0;
	}
	sandbox_common(ROLE_SESSION);
	sandbox_seccomp_session();
	ma->session_entry(sa);
	_exit(0);
}

/*
 * Fork the jail (for a spare, ma->ctlfd is -1 and the jail waits for its
 * socket too), then confine the monitor: close what it does not need, and
 * load its filter. keep: one more descriptor to keep, or -1.
 */
static pid_t
monitor_start(struct monitor_args *ma, int *sock, int keep_fd)
{
	pid_t	jail;
	int	sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("%s: socketpair", __func__);
	ma->monitor_pid = getpid();
	switch ((jail = fork())) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		close(sp[0]);
		if (keep_fd != -1)
			close(keep_fd);
		jail_run(ma, sp[1]);
	default:
		break;
	}
	close(sp[1]);
	if (ma->ctlfd != -1)
		close(ma->ctlfd);	/* the monitor never touches the network */
	ma->ctlfd = -1;
	{
		const int keep[] = { sp[0], ma->xferlog_fd, keep_fd };

		sandbox_closefds(keep, sizeof(keep) / sizeof(keep[0]));
	}
	sandbox_common(ROLE_MONITOR);
	sandbox_seccomp_monitor(jail);
	*sock = sp[0];
	return jail;
}

void
monitor_run(struct monitor_args *ma)
{
	int	sock;
	pid_t	jail;

	jail = monitor_start(ma, &sock, -1);
	setproctitle("[monitor] %s", ma->peerstr);
	monitor_serve(ma, sock, jail);
}

void
monitor_spare(struct monitor_args *ma, int master)
{
	struct msg_conn	c;
	struct ipc_msg	m;
	pid_t		jail;
	int		sock, r;

	jail = monitor_start(ma, &sock, master);
	setproctitle("[spare]");
	/* wait for a connection: master only ever sends one */
	while ((r = ipc_recv(master, &m)) == -1 && errno == EINTR)
		;
	if (r != 1 || m.type != MSG_CONN || m.fd == -1 ||
	    ipc_get(&m, &c, sizeof(c)) == -1 ||
	    memchr(c.peerstr, '\0', sizeof(c.peerstr)) == NULL ||
	    c.sbidx < 0 || c.sbidx >= SB_ENTRIES) {
		if (r == 1)
			log_warnx("%s: unexpected message %u", __func__,
			    m.type);
		if (r == 1 && m.fd != -1)
			close(m.fd);
		kill(jail, SIGKILL);
		while (waitpid(jail, NULL, 0) == -1 && errno == EINTR)
			;
		_exit(0);
	}
	close(master);
	ma->peer = c.peer;
	ma->local = c.local;
	(void)strlcpy(ma->peerstr, c.peerstr, sizeof(ma->peerstr));
	ma->sessid = (unsigned long)c.sessid;
	ma->sbidx = c.sbidx;
	log_settag("#%lu %s", ma->sessid, ma->peerstr);
	setproctitle("[monitor] %s", ma->peerstr);
	/* the jail gets the socket; the monitor keeps no copy */
	r = ipc_send(sock, MSG_CONN, &c, sizeof(c), m.fd);
	close(m.fd);
	if (r == -1) {
		log_warn("%s: handing the connection to the jail", __func__);
		kill(jail, SIGKILL);
		while (waitpid(jail, NULL, 0) == -1 && errno == EINTR)
			;
		_exit(0);
	}
	monitor_serve(ma, sock, jail);
}

/* Check the login, then become the session (or end the connection). */
static void
monitor_serve(struct monitor_args *ma, int sock, pid_t jail)
{
	struct session_args	*sa;
	struct msg_auth		 req;
	struct msg_handoff	 h;
	struct ipc_msg		 m;
	struct pollfd		 pfd;
	enum mstate		 state = M_AUTH;
	long			 deadline;
	int			 failures = 0, r;
	int32_t			 res;

	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		fatal("%s: calloc", __func__);
	sa->slot = -1;
	sa->relayfd = -1;
	deadline = mono_ms() + (ma->cfg->login_timeout +
	    ma->cfg->max_login_failures * ma->cfg->login_fail_delay + 5) * 1000L;
	for (;;) {
		pfd.fd = sock;
		pfd.events = POLLIN;
		if (mono_ms() >= deadline)
			goto out;	/* login took too long */
		r = poll(&pfd, 1, (int)(deadline - mono_ms()));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;	/* login took too long */
		if ((r = ipc_recv(sock, &m)) != 1)
			goto out;	/* jail gone or malformed */
		if (m.type == MSG_AUTH && state == M_AUTH) {
			if (m.fd != -1 || ipc_get(&m, &req, sizeof(req)) == -1)
				goto bad;
			res = monitor_auth(ma, &req, sa, &failures);
			explicit_bzero(&req, sizeof(req));
			explicit_bzero(&m, sizeof(m));
			if (ipc_send(sock, MSG_AUTH_RESULT, &res, sizeof(res),
			    -1) == -1)
				goto out;
			if (res == AUTH_OK)
				state = M_HANDOFF;
			else if (res != AUTH_FAIL ||
			    failures >= ma->cfg->max_login_failures) {
				jail_linger(sock);	/* its 421 goes out */
				goto out;
			}
		} else if (m.type == MSG_HANDOFF && state == M_HANDOFF) {
			if (m.fd == -1 || ipc_get(&m, &h, sizeof(h)) == -1 ||
			    h.npending > sizeof(h.pending) ||
			    h.nsess > sizeof(h.sess))
				goto bad;
			sa->ctlfd = m.fd;
			sa->tls = h.tls != 0;
			sa->pbsz = h.pbsz != 0;
			sa->prot_p = h.prot_p != 0;
			sa->utf8 = h.utf8 != 0;
			memcpy(sa->tls_token, h.token, sizeof(sa->tls_token));
			memcpy(sa->tls_sess, h.sess, h.nsess);
			sa->ntls_sess = h.nsess;
			memcpy(sa->pending, h.pending, h.npending);
			sa->npending = h.npending;
			if (sa->tls) {
				state = M_RELAY;	/* the relay channel next */
				continue;
			}
			close(sock);
			monitor_session(ma, sa, jail);
		} else if (m.type == MSG_RELAY && state == M_RELAY) {
			if (m.fd == -1 || m.len != 0)
				goto bad;
			sa->relayfd = m.fd;
			close(sock);
			monitor_session(ma, sa, jail);
		} else
			goto bad;
	}
bad:
	log_warnx("%s: unexpected message %u from the jail of %s", __func__,
	    m.type, ma->peerstr);
out:
	kill(jail, SIGKILL);
	while (waitpid(jail, NULL, 0) == -1 && errno == EINTR)
		;
	/* a ledger slot attached here is detached by the master when it
	 * reaps us (from the scoreboard), as for a session: one owner, so a
	 * kill between two steps can never detach it twice */
	_exit(0);
}
