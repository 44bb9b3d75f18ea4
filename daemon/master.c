/*
 * The master (root): config, user db, listeners, pidfile, the quota ledger
 * and the scoreboard. It accepts, enforces max_clients and max_per_ip, holds
 * a bounded FIFO of waiting connections, and forks one monitor for each
 * connection it serves. Signals set flags; the poll loop does the work.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <bsd/string.h>
#include <bsd/unistd.h>

#include "daemon/cfgcheck.h"
#include "daemon/master.h"
#include "daemon/netaddr.h"
#include "daemon/prefork.h"
#include "daemon/proxywait.h"
#include "daemon/session.h"
#include "daemon/xferlog.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/ledger.h"
#include "shared/log.h"
#include "shared/passwd.h"
#include "shared/scoreboard.h"
#include "shared/tls.h"
#include "shared/userdb.h"

struct child {
	pid_t			pid;
	int			sbidx;
	struct sockaddr_storage	addr;
};

struct waiter {
	int			fd;
	struct sockaddr_storage	peer;
	struct sockaddr_storage	local;
	long			since;		/* ms */
};

static struct {
	struct config		*cfg;
	const struct master_opts *opts;
	struct userdb		 db;
	int			 lfd[MOAT_LISTEN_MAX];
	int			 nlfd;
	struct child		*kids;
	size_t			 nkids, capkids;
	struct waiter		*queue;
	size_t			 nqueue, capqueue;
	char			 sbpath[4096];	/* "" = anonymous */
	struct ledger		*ledger;
	struct scoreboard	*sb;
	unsigned char		 ticket_keys[TLS_TICKET_KEYS_LEN];
	SSL_CTX			*data_ctx;
	char			 dummy_hash[MOAT_HASH_MAX + 1];
	uid_t			 jail_uid;
	gid_t			 jail_gid;
	unsigned long		 sessid;
	long			 accept_paused_until;
	int			 sigpipe[2];
	int			 scfd;		/* seccomp kill reports */
	struct pidfh		*pfh;		/* locked while we run */
} m;

static volatile sig_atomic_t	got_chld, got_hup, got_term, got_usr1;


static void
sighdlr(int sig)
{
	int	saved = errno;

	switch (sig) {
	case SIGCHLD:	got_chld = 1; break;
	case SIGHUP:	got_hup = 1; break;
	case SIGUSR1:	got_usr1 = 1; break;
	default:	got_term = 1; break;
	}
	if (write(m.sigpipe[1], "x", 1) == -1) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

static size_t
count_ip(const struct sockaddr_storage *peer)
{
	size_t	i, n = 0;

	for (i = 0; i < m.nkids; i++)
		if (addr_same_ip(&m.kids[i].addr, peer))
			n++;
	for (i = 0; i < m.nqueue; i++)
		if (addr_same_ip(&m.queue[i].peer, peer))
			n++;
	return n;
}

/* Send a one-line refusal without ever blocking, then close. */
static void
refuse(int fd, const struct sockaddr_storage *peer, const char *msg,
    const char *why)
{
	char	buf[256], a[64];
	int	n;

	addr_str(peer, a, sizeof(a));
	log_warnx("refused %s: %s", a, why);
	n = snprintf(buf, sizeof(buf), "421 %s\r\n", msg);
	(void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
session_entry(struct session_args *sa)
{
	session_main(sa);
}

/*
 * In a child just forked by the master: put down what only the master
 * holds, and fill what every monitor gets.
 */
static void
child_init(struct monitor_args *ma)
{
	size_t	i;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < (size_t)m.nlfd; i++)
		close(m.lfd[i]);
	for (i = 0; i < m.nqueue; i++)
		close(m.queue[i].fd);
	proxywait_closeall();
	prefork_closeall();
	close(m.sigpipe[0]);
	close(m.sigpipe[1]);
	close(m.scfd);
	/* the locked pidfile stays the master's alone */
	if (m.pfh != NULL)
		close(pidfile_fileno(m.pfh));
	memset(ma, 0, sizeof(*ma));
	ma->cfg = m.cfg;
	ma->db = &m.db;
	ma->dummy_hash = m.dummy_hash;
	ma->ledger = m.ledger;
	ma->sb = m.sb;
	ma->sbidx = -1;
	ma->ctlfd = -1;
	ma->dbgen = ledger_dbgen(m.ledger);
	ma->root = geteuid() == 0;
	ma->jail_uid = m.jail_uid;
	ma->jail_gid = m.jail_gid;
	/* keys of this connection alone, in the data context too (over the
	 * master's copy): the master's leave this process */
	if (tls_ticket_keys_new(ma->ticket_keys) == -1 ||
	    (m.data_ctx != NULL &&
	    tls_set_ticket_keys(m.data_ctx, ma->ticket_keys) == -1))
		fatalx("TLS ticket keys");
	explicit_bzero(m.ticket_keys, sizeof(m.ticket_keys));
	ma->data_ctx = m.data_ctx;
	ma->session_entry = session_entry;
	ma->xferlog_fd = xferlog_fd();
}

/* A new spare's process (prefork.c forked it). */
static void
spare_child(int sock)
{
	struct monitor_args	ma;

	child_init(&ma);
	monitor_spare(&ma, sock);
}

/* Serve fd with a spare, or fork a monitor for it. On failure the
 * connection is refused. */
static void
dispatch(int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local)
{
	struct monitor_args	 ma;
	struct msg_conn		 c;
	struct child		*k;
	pid_t			 pid;
	int			 sbidx;
	char			 a[64];

	addr_str(peer, a, sizeof(a));
	if (m.nkids == m.capkids) {
		size_t	 nc = m.capkids ? m.capkids * 2 : 64;
		void	*p = reallocarray(m.kids, nc, sizeof(*m.kids));

		if (p == NULL) {
			refuse(fd, peer, "Service not available.", "no memory");
			return;
		}
		m.kids = p;
		m.capkids = nc;
	}
	if ((sbidx = scoreboard_claim(m.sb, -1, a)) == -1) {
		refuse(fd, peer, "Too many users, try again later.",
		    "scoreboard full");
		return;
	}
	m.sessid++;
	if (fcntl(fd, F_SETFL, 0) == -1) {	/* blocking, for the jail */
		log_warn("fcntl");
		scoreboard_free(m.sb, sbidx);
		refuse(fd, peer, "Service not available.", "fcntl failed");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.peer = *peer;
	c.local = *local;
	(void)strlcpy(c.peerstr, a, sizeof(c.peerstr));
	c.sessid = m.sessid;
	c.sbidx = sbidx;
	if ((pid = prefork_dispatch(fd, &c)) == -1) {
		switch ((pid = fork())) {
		case -1:
			log_warn("fork");
			scoreboard_free(m.sb, sbidx);
			refuse(fd, peer, "Service not available.",
			    "fork failed");
			return;
		case 0:
			child_init(&ma);
			ma.sbidx = sbidx;
			ma.ctlfd = fd;
			ma.peer = *peer;
			ma.local = *local;
			(void)strlcpy(ma.peerstr, a, sizeof(ma.peerstr));
			ma.sessid = m.sessid;
			log_settag("#%lu %s", m.sessid, a);
			monitor_run(&ma);
		default:
			break;
		}
	}
	atomic_store(&m.sb->e[sbidx].pid, (int32_t)pid);
	close(fd);
	k = &m.kids[m.nkids++];
	k->pid = pid;
	k->sbidx = sbidx;
	k->addr = *peer;
	log_debug("connection #%lu from %s: monitor %ld", m.sessid, a,
	    (long)pid);
}

static void
queue_remove(size_t i)
{
	memmove(&m.queue[i], &m.queue[i + 1],
	    (m.nqueue - i - 1) * sizeof(*m.queue));
	m.nqueue--;
}

/* Serve waiting connections while there are free slots. */
static void
queue_run(void)
{
	while (m.nqueue > 0 && m.nkids < (size_t)m.cfg->max_clients) {
		struct waiter w = m.queue[0];

		queue_remove(0);
		dispatch(w.fd, &w.peer, &w.local);
	}
}

/* A connection with its (PROXY-given) peer: serve, queue or refuse it. */
static void
admit(int fd, const struct sockaddr_storage *pp,
    const struct sockaddr_storage *lp)
{
	struct sockaddr_storage	peer = *pp, local = *lp;

	if (count_ip(&peer) >= (size_t)m.cfg->max_per_ip) {
		refuse(fd, &peer, "Too many connections from your address.",
		    "max_per_ip reached");
		return;
	}
	if (m.nkids < (size_t)m.cfg->max_clients && m.nqueue == 0) {
		dispatch(fd, &peer, &local);
		return;
	}
	if (m.nqueue >= (size_t)m.cfg->queue_max) {
		refuse(fd, &peer, "Too many users, try again later.",
		    "queue full");
		return;
	}
	if (m.nqueue == m.capqueue) {
		size_t	 nc = m.capqueue ? m.capqueue * 2 : 64;
		void	*p = reallocarray(m.queue, nc, sizeof(*m.queue));

		if (p == NULL) {
			refuse(fd, &peer, "Service not available.",
			    "no memory");
			return;
		}
		m.queue = p;
		m.capqueue = nc;
	}
	m.queue[m.nqueue].fd = fd;
	m.queue[m.nqueue].peer = peer;
	m.queue[m.nqueue].local = local;
	m.queue[m.nqueue].since = mono_ms();
	m.nqueue++;
	log_debug("queued a connection (%zu waiting)", m.nqueue);
}

static void
accept_one(int lfd)
{
	struct sockaddr_storage	peer, local;
	socklen_t		plen = sizeof(peer), llen = sizeof(local);
	int			fd, one = 1;

	/* whole structures go to spares (MSG_CONN): no stray bytes */
	memset(&peer, 0, sizeof(peer));
	memset(&local, 0, sizeof(local));
	fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warnx("accept: out of descriptors (%s): pausing "
			    "accept for 1 s", strerror(errno));
			m.accept_paused_until = mono_ms() + 1000;
		} else if (errno != EAGAIN && errno != ECONNABORTED &&
		    errno != EINTR)
			log_warn("accept");
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1) {
		close(fd);
		return;
	}
	/* a Telnet Synch (ABOR sent with MSG_OOB) stays in the command stream */
	(void)setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
	/* replies are whole lines: without this, a 226 right after a 150
	 * waits for the client's delayed ACK (40 ms per transfer) */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!m.cfg->proxy_protocol) {
		admit(fd, &peer, &local);
		return;
	}
	proxywait_add(m.cfg, fd, &peer, &local, mono_ms());
}

static void
reap(void)
{
	pid_t	pid;
	int	status;
	size_t	i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m.nkids; i++)
			if (m.kids[i].pid == pid)
				break;
		if (i == m.nkids) {
			(void)prefork_reaped(pid, status);
			continue;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL &&
		    WTERMSIG(status) != SIGTERM)
			log_warnx("session %ld died of signal %d", (long)pid,
			    WTERMSIG(status));
		{
			struct sb_entry *e = &m.sb->e[m.kids[i].sbidx];
			int32_t		 slot = atomic_load(&e->slot);

			if (slot >= 0)
				ledger_detach(m.ledger, slot);
			scoreboard_free(m.sb, m.kids[i].sbidx);
		}
		m.kids[i] = m.kids[--m.nkids];
	}
}

static int
load_users(struct userdb *db)
{
	char	err[512];

	if (userdb_load(db, m.cfg->user_db, err, sizeof(err)) == -1) {
		log_errx("user db: %s", err);
		return -1;
	}
	return 0;
}

static void
push_limits(void)
{
	size_t	i;

	for (i = 0; i < m.db.nusers; i++)
		ledger_set_limit(m.ledger, m.db.users[i].uid,
		    m.db.users[i].quota);
}

/* Sessions of accounts the new db no longer has end (as `moatadm kick`
 * would end them): a removed account keeps no access. */
static void
end_removed_sessions(void)
{
	const struct sb_entry	*e;
	const struct user	*u;
	char			 name[sizeof(e->user)], vis[160];
	size_t			 i;

	for (i = 0; i < m.nkids; i++) {
		if (m.kids[i].sbidx < 0 || m.kids[i].sbidx >= SB_ENTRIES)
			continue;
		e = &m.sb->e[m.kids[i].sbidx];
		if (atomic_load(&e->login) == 0 ||
		    atomic_load(&e->pid) != m.kids[i].pid)
			continue;
		memcpy(name, e->user, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if ((u = userdb_find(&m.db, name)) != NULL &&
		    u->uid == (uid_t)atomic_load(&e->uid))
			continue;
		log_info("account %s is gone: ending its session %ld",
		    log_vis(vis, sizeof(vis), name), (long)m.kids[i].pid);
		if (kill(m.kids[i].pid, SIGTERM) == -1)
			log_warn("kill %ld", (long)m.kids[i].pid);
	}
}

static int
same_listen(const struct listen_addr *a, const struct listen_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/*
 * Listeners for the new configuration: keep those that did not change,
 * bind the new ones. On a failure nothing changes: 0 or -1.
 */
static int
rebind(const struct config *nc, int *nfd)
{
	int	used[MOAT_LISTEN_MAX] = { 0 };
	int	i, j;

	for (i = 0; i < nc->nlisten; i++) {
		nfd[i] = -1;
		for (j = 0; j < m.nlfd; j++)
			if (!used[j] && same_listen(&m.cfg->listen[j],
			    &nc->listen[i])) {
				used[j] = 1;
				nfd[i] = m.lfd[j];
				break;
			}
		if (nfd[i] != -1)
			continue;
		if ((nfd[i] = addr_listen(&nc->listen[i])) == -1) {
			log_err("reload: listen %s", nc->listen[i].text);
			goto fail;
		}
		log_info("listening on %s", nc->listen[i].text);
	}
	for (j = 0; j < m.nlfd; j++)
		if (!used[j]) {
			close(m.lfd[j]);
			log_info("stopped listening on %s",
			    m.cfg->listen[j].text);
		}
	return 0;
fail:
	while (i-- > 0) {
		for (j = 0; j < m.nlfd; j++)
			if (nfd[i] == m.lfd[j])
				break;
		if (j == m.nlfd)
			close(nfd[i]);
	}
	return -1;
}

static void
reload(void)
{
	static struct config	 ncfg;	/* never on the stack: children see it */
	struct config		*old = m.cfg;
	struct userdb		 ndb;
	char			 err[512];

	int			 nfd[MOAT_LISTEN_MAX];
	int			 newlog, newfac;
	uid_t			 juid = m.jail_uid;
	gid_t			 jgid = m.jail_gid;
	SSL_CTX			*dctx = NULL;

	if (config_load(&ncfg, m.opts->conffile, err, sizeof(err)) == -1) {
		log_errx("reload: %s: keeping the old configuration", err);
	} else if (config_checks(&ncfg, m.ticket_keys, 0, &juid, &jgid,
	    &dctx) == -1) {
		log_errx("reload: keeping the old configuration");
	} else if (rebind(&ncfg, nfd) == -1) {
		SSL_CTX_free(dctx);
		log_errx("reload: cannot listen as configured: keeping the "
		    "old configuration");
	} else {
		memcpy(m.lfd, nfd, sizeof(nfd));
		m.nlfd = ncfg.nlisten;
		m.jail_uid = juid;
		m.jail_gid = jgid;
		SSL_CTX_free(m.data_ctx);	/* sessions hold their own */
		m.data_ctx = dctx;
		newlog = strcmp(old->xferlog, ncfg.xferlog) != 0;
		newfac = strcmp(old->log_facility, ncfg.log_facility) != 0;
		/* the pidfile is locked and the scoreboard beside it mapped
		 * since the start: those stay until a restart */
		if (strcmp(old->pidfile, ncfg.pidfile) != 0) {
			log_warnx("reload: pidfile \"%s\" takes effect at the "
			    "next start; until then it stays \"%s\"",
			    ncfg.pidfile, old->pidfile);
			(void)strlcpy(ncfg.pidfile, old->pidfile,
			    sizeof(ncfg.pidfile));
		}
		if (old->ledger_slots != ncfg.ledger_slots) {
			log_warnx("reload: ledger_slots %ld takes effect at the "
			    "next start; until then it stays %ld",
			    ncfg.ledger_slots, old->ledger_slots);
			ncfg.ledger_slots = old->ledger_slots;
		}
		*old = ncfg;
		if (newfac) {
			log_setfacility(
			    log_facility_byname(m.cfg->log_facility));
			log_info("log_facility is now \"%s\"",
			    m.cfg->log_facility);
		}
		if (newlog && xferlog_open(m.cfg->xferlog) == 0)
			log_info("xferlog is now \"%s\"", m.cfg->xferlog);
		log_setlevel(m.opts->debug ? LOG_LVL_DEBUG :
		    (int)m.cfg->log_level);
		log_info("reloaded %s", m.opts->conffile);
	}
	memset(&ndb, 0, sizeof(ndb));
	if (load_users(&ndb) == 0) {
		userdb_free(&m.db);
		m.db = ndb;
		push_limits();
		ledger_dbgen_bump(m.ledger);
		log_info("user db re-read: %zu accounts", m.db.nusers);
		end_removed_sessions();
	} else
		log_errx("reload: keeping the old user db");
	/* spares hold the old configuration and db: new ones take over */
	prefork_killall();
}

static int
check_timeouts(void)
{
	long	now = mono_ms(), limit = m.cfg->queue_timeout * 1000L;
	int	wait = -1, hw;

	while (m.nqueue > 0 && now - m.queue[0].since >= limit) {
		struct waiter w = m.queue[0];

		queue_remove(0);
		refuse(w.fd, &w.peer, "Too many users, try again later.",
		    "queue_timeout reached");
	}
	if (m.nqueue > 0)
		wait = (int)(limit - (now - m.queue[0].since));
	if ((hw = proxywait_expire(now)) != -1 && (wait == -1 || hw < wait))
		wait = hw;
	if (m.accept_paused_until > now) {
		int pw = (int)(m.accept_paused_until - now);

		if (wait == -1 || pw < wait)
			wait = pw;
	}
	if (prefork_count() < (size_t)m.cfg->prefork_spares) {
		int sw = prefork_wait_ms(now);

		if (sw != -1 && (wait == -1 || sw < wait))
			wait = sw;
	}
	return wait;
}

static void
master_loop(void)
{
	struct pollfd	*pfd = NULL;
	size_t		 npfd = 0, n, i, nq, nh;
	char		 drain[64];
	int		 timeout, paused;

	for (;;) {
		if (got_chld) {
			got_chld = 0;
			reap();
			queue_run();
		}
		if (got_hup) {
			got_hup = 0;
			reload();
			queue_run();
		}
		if (got_usr1) {
			got_usr1 = 0;
			if (xferlog_open(m.cfg->xferlog) == 0 &&
			    m.cfg->xferlog[0] != '\0')
				log_info("reopened %s", m.cfg->xferlog);
			prefork_killall();	/* they hold the old file */
		}
		if (got_term)
			break;
		prefork_fill((size_t)m.cfg->prefork_spares, spare_child);
		timeout = check_timeouts();
		paused = m.accept_paused_until > mono_ms();
		n = 2 + (size_t)m.nlfd + m.nqueue + proxywait_count();
		if (n > npfd) {
			void *p = reallocarray(pfd, n, sizeof(*pfd));

			if (p == NULL) {
				log_warnx("poll set: out of memory");
				sleep(1);
				continue;
			}
			pfd = p;
			npfd = n;
		}
		pfd[0].fd = m.sigpipe[0];
		pfd[0].events = POLLIN;
		for (i = 0; i < (size_t)m.nlfd; i++) {
			pfd[1 + i].fd = paused ? -1 : m.lfd[i];
			pfd[1 + i].events = POLLIN;
		}
		nq = m.nqueue;
		for (i = 0; i < nq; i++) {
			pfd[1 + m.nlfd + i].fd = m.queue[i].fd;
			pfd[1 + m.nlfd + i].events = POLLRDHUP;
		}
		nh = proxywait_count();
		proxywait_pollfds(pfd + 1 + m.nlfd + nq);
		pfd[1 + m.nlfd + nq + nh].fd = m.scfd;
		pfd[1 + m.nlfd + nq + nh].events = POLLIN;
		if (poll(pfd, 2 + (size_t)m.nlfd + nq + nh, timeout) == -1) {
			if (errno != EINTR)
				log_warn("poll");
			continue;
		}
		if (pfd[0].revents & POLLIN)
			while (read(m.sigpipe[0], drain, sizeof(drain)) > 0)
				;
		/* waiting clients that hung up leave the queue at once */
		for (i = nq; i-- > 0;) {
			if (pfd[1 + m.nlfd + i].revents &
			    (POLLRDHUP | POLLHUP | POLLERR)) {
				close(m.queue[i].fd);
				queue_remove(i);
				log_debug("a waiting client left the queue");
			}
		}
		proxywait_ready(pfd + 1 + m.nlfd + nq, nh);
		if (pfd[1 + m.nlfd + nq + nh].revents & POLLIN)
			seccomp_report_drain(m.scfd);
		for (i = 0; i < (size_t)m.nlfd; i++)
			if (pfd[1 + i].revents & POLLIN)
				accept_one(m.lfd[i]);
	}
	free(pfd);
}

static void
shutdown_all(void)
{
	long	deadline = mono_ms() + m.cfg->shutdown_grace * 1000L;
	size_t	i;

	for (i = 0; i < (size_t)m.nlfd; i++)
		close(m.lfd[i]);
	for (i = 0; i < m.nqueue; i++)
		close(m.queue[i].fd);
	m.nqueue = 0;
	proxywait_closeall();
	prefork_killall();
	log_info("stopping: %zu sessions, up to %ld s of grace", m.nkids,
	    m.cfg->shutdown_grace);
	/* sessions that are idle go now; transfers may finish */
	for (i = 0; i < m.nkids; i++)
		kill(m.kids[i].pid, SIGUSR2);
	while (m.nkids > 0 && mono_ms() < deadline) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		reap();
	}
	for (i = 0; i < m.nkids; i++)
		kill(m.kids[i].pid, SIGTERM);
	while (m.nkids > 0) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		reap();
	}
}

/*
 * Detach as daemon(3) does (a child in a new session, in /, its standard
 * descriptors on /dev/null), except that the starting process waits until
 * the daemon is ready: it exits 0 once the child writes a byte to the
 * returned descriptor (its pidfile is written and its signals handled by
 * then), 1 if the child dies first. So an init script or systemd
 * (Type=forking) sees the start end with the pidfile in place and may
 * signal that pid at once.
 */
static int
detach(void)
{
	sigset_t	all, old;
	char		c;
	ssize_t		n;
	int		p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	/* the master's handlers are in place by now; the starting process
	 * must not keep them: they would swallow a SIGTERM or a Ctrl-C sent
	 * to it while it waits (a daemon that never gets ready) */
	sigemptyset(&all);
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGTERM);
	sigprocmask(SIG_BLOCK, &all, &old);
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		sigprocmask(SIG_SETMASK, &old, NULL);
		break;
	default:
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[1]);
		while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
			;
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		fatal("dup2");
	if (fd > STDERR_FILENO)
		close(fd);
	return p[1];
}

/*
 * What a start checks before it changes anything (but the pidfile, taken
 * first), each problem logged on a line of its own: what the configuration
 * needs, the user db, and the rest of the system. Fills the jail's ids,
 * the data context and the db; returns the number of problems. test:
 * moatftpd -t, which runs this alone.
 */
static int
start_prepare(int test)
{
	int	bad = 0, dbok;

	if (tls_ticket_keys_new(m.ticket_keys) == -1)
		fatalx("TLS ticket keys");
	if (config_checks(m.cfg, m.ticket_keys, test, &m.jail_uid,
	    &m.jail_gid, &m.data_ctx) == -1)
		bad++;
	if (!(dbok = load_users(&m.db) == 0))
		bad++;
	return bad + start_checks(m.cfg, dbok ? &m.db : NULL, test);
}

int
master_test(struct config *cfg, const struct master_opts *o)
{
	m.cfg = cfg;
	m.opts = o;
	return start_prepare(1) == 0 ? 0 : 1;
}

int
master_main(struct config *cfg, const struct master_opts *o)
{
	struct sigaction	 sa;
	pid_t			 other;
	int			 i, root = geteuid() == 0, readyfd = -1;

	m.cfg = cfg;
	m.opts = o;
	/* first: a second instance must not touch the first one's files */
	if (cfg->pidfile[0] != '\0') {
		m.pfh = pidfile_open(cfg->pidfile, 0644, &other);
		if (m.pfh == NULL) {
			if (errno == EEXIST) {
				/* not yet a daemon: say it where it was asked */
				fprintf(stderr, "moatftpd: already running "
				    "with pid %ld (%s)\n", (long)other,
				    cfg->pidfile);
				fatalx("already running with pid %ld (%s)",
				    (long)other, cfg->pidfile);
			}
			log_warn("pidfile %s", cfg->pidfile);
		}
	}
	if (start_prepare(0) > 0)
		return 1;
	if (root) {
		log_info("root mode: sessions are chrooted to their homes "
		    "and run as their accounts' uids");
	} else
		log_info("unprivileged mode (uid %ld): sessions are confined "
		    "by Landlock and openat2(RESOLVE_IN_ROOT), no chroot",
		    (long)geteuid());
	if ((m.ledger = ledger_create((uint32_t)cfg->ledger_slots)) == NULL)
		fatal("quota ledger");
	if (scoreboard_path(cfg->pidfile, m.sbpath, sizeof(m.sbpath)) == -1)
		m.sbpath[0] = '\0';	/* no pidfile: `moatadm who` cannot */
	if ((m.sb = scoreboard_create(m.sbpath)) == NULL)
		fatal("scoreboard %s", m.sbpath);
	if (xferlog_open(cfg->xferlog) == -1)
		return 1;
	push_limits();
	if (passwd_hash("no such user: dummy", m.dummy_hash,
	    sizeof(m.dummy_hash)) == -1)
		fatalx("cannot make a password hash");
	for (i = 0; i < cfg->nlisten; i++) {
		if ((m.lfd[i] = addr_listen(&cfg->listen[i])) == -1)
			fatal("listen %s", cfg->listen[i].text);
		log_info("listening on %s", cfg->listen[i].text);
	}
	m.nlfd = cfg->nlisten;
	proxywait_init(admit);
	if (pipe2(m.sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe");
	if ((m.scfd = seccomp_report_open()) == -1)
		fatal("seccomp report socket");
	/* handled before anyone can learn our pid: an early SIGHUP (moatadm
	 * right after a start) must not end the daemon */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighdlr;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!o->foreground)
		readyfd = detach();
	if (m.pfh != NULL)
		pidfile_write(m.pfh);
	setproctitle("master");
	log_info("moatftpd started");
	if (readyfd != -1) {
		/* the starting process exits 0 now, the pidfile written */
		if (write(readyfd, "", 1) == -1)
			log_warn("ready pipe");
		close(readyfd);
	}
	master_loop();
	shutdown_all();
	if (m.pfh != NULL)
		pidfile_remove(m.pfh);
	if (m.sbpath[0] != '\0')
		(void)unlink(m.sbpath);
	log_info("moatftpd stopped");
	return 0;
}
