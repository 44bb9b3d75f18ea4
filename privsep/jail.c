/*
 * The pre-login jail: unprivileged, chrooted to an empty directory. It is
 * the only process that parses bytes from the network before login: the
 * greeting, USER/PASS, AUTH TLS and the TLS handshake. It asks the monitor
 * to check a password and never sees the user db. After login it hands the
 * control connection over (plain) or stays as its TLS relay.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "privsep/ipc.h"
#include "privsep/monitor.h"
#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/config.h"
#include "shared/digest.h"
#include "shared/feat.h"
#include "shared/ftpio.h"
#include "shared/log.h"
#include "shared/scoreboard.h"
#include "shared/ledger.h"
#include "shared/tls.h"
#include "shared/userdb.h"

#ifdef MOAT_FUZZ
#include <setjmp.h>
/* regress/fuzz/fuzz_jail.c: where jail_exit returns to instead of _exit */
static jmp_buf	jail_fuzz_env;
int		jail_fuzz(const struct config *, int, int);
#endif

struct jail {
	const struct config	*cfg;
	int			 sock;		/* to the monitor */
	int			 fd;		/* the client */
	struct ftpio		 io;
	SSL_CTX			*ctx;		/* NULL: TLS not configured */
	SSL			*ssl;		/* after AUTH TLS */
	int			 pbsz;
	int			 prot_p;
	int			 utf8;
	unsigned char		 token[TLS_TOKEN_LEN];	/* in its tickets */
	char			 user[MOAT_NAME_MAX + 1];
	int			 failures;
	long			 deadline;	/* login_timeout, ms */
	int			 done;
};

/* A data connection relayed for the session after login. */
struct drelay {
	SSL	*ssl;		/* NULL: slot free */
	int	 fd;		/* the client's data socket (non-blocking) */
	int	 plain;		/* to the session */
	uint32_t id;
	char	 wbuf[16384];	/* download bytes SSL_write has not taken */
	size_t	 wlen;
	int	 plain_eof;	/* the session sent all: flush, close_notify */
	int	 down;		/* a download: the session has sent data */
	long	 deadline;	/* mono_ms: the client must take data by then */
};
#define RELAY_MAX	4

typedef void	(*jail_handler)(struct jail *, const char *);

static void	jail_user(struct jail *, const char *);
static void	jail_pass(struct jail *, const char *);
static void	jail_auth(struct jail *, const char *);
static void	jail_pbsz(struct jail *, const char *);
static void	jail_prot(struct jail *, const char *);
static void	jail_feat(struct jail *, const char *);
static void	jail_syst(struct jail *, const char *);
static void	jail_opts(struct jail *, const char *);
static void	jail_quit(struct jail *, const char *);
static void	jail_help(struct jail *, const char *);
static void	jail_noop(struct jail *, const char *);
static void	jail_handoff(struct jail *) __attribute__((noreturn));
static void	jail_relay(struct jail *, int, int) __attribute__((noreturn));
static int	relay_data_start(struct jail *, int, struct drelay *);
static void	relay_data_end(struct drelay *, int);
static void	relay_data_done(int, struct drelay *, int, int);
static int	relay_send(int, const char *, size_t);
static void	relay_data_step(struct jail *, int, struct drelay *, short,
		    short);
static void	relay_data_flush(struct jail *, int, struct drelay *);
static void	sock_timeouts(int, long);
static void	jail_exit(struct jail *, int, const char *)
		    __attribute__((noreturn));
static void	jail_loop(struct jail *) __attribute__((noreturn));

static const struct {
	const char	*verb;
	jail_handler	 fn;
	int		 needarg;
} jail_cmds[] = {
	{ "USER", jail_user, 1 },
	{ "PASS", jail_pass, 0 },
	{ "AUTH", jail_auth, 1 },
	{ "PBSZ", jail_pbsz, 1 },
	{ "PROT", jail_prot, 1 },
	{ "FEAT", jail_feat, 0 },
	{ "SYST", jail_syst, 0 },
	{ "OPTS", jail_opts, 1 },
	{ "QUIT", jail_quit, 0 },
	{ "HELP", jail_help, 0 },
	{ "NOOP", jail_noop, 0 },
};


/*
 * Bound every blocking read and write on the client's socket by the login
 * deadline: a TLS record left half-sent, or a client that never reads its
 * replies, cannot hold the jail (and its monitor, and a place under
 * max_clients) past login_timeout.
 */
static void
jail_bound(struct jail *j)
{
	long	left = j->deadline - mono_ms();

	sock_timeouts(j->fd, left < 1 ? 1 : left);	/* 0: no limit */
}

/* The client's I/O, plain or TLS, each call bounded by the deadline (a
 * partial write goes on with what is left of it, not a fresh limit). */
static ssize_t
jail_rd(void *ctx, void *buf, size_t n)
{
	struct jail	*j = ctx;

	jail_bound(j);
	if (j->ssl != NULL)
		return tls_ftpio_ops.rd(j->ssl, buf, n);
	return read(j->fd, buf, n);
}

static ssize_t
jail_wr(void *ctx, const void *buf, size_t n)
{
	struct jail	*j = ctx;

	jail_bound(j);
	if (j->ssl != NULL)
		return tls_ftpio_ops.wr(j->ssl, buf, n);
	return write(j->fd, buf, n);
}

static int
jail_pending(void *ctx)
{
	struct jail	*j = ctx;

	return j->ssl != NULL ? tls_ftpio_ops.pending(j->ssl) : 0;
}

static const struct ftpio_ops jail_io_ops = { jail_rd, jail_wr,
	jail_pending };

static void
jail_exit(struct jail *j, int code, const char *msg)
{
	if (code != 0)
		(void)ftpio_reply(&j->io, code, "%s", msg);
	if (j->ssl != NULL) {
		(void)SSL_shutdown(j->ssl);
		SSL_free(j->ssl);
	}
#ifdef MOAT_FUZZ
	longjmp(jail_fuzz_env, 1);
#endif
	_exit(0);
}

static void
jail_reply(struct jail *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
jail_reply(struct jail *j, int code, const char *fmt, ...)
{
	char	buf[MOAT_REPLY_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ftpio_reply(&j->io, code, "%s", buf) == -1)
		jail_exit(j, 0, NULL);
}

static void
jail_user(struct jail *j, const char *arg)
{
	if (config_tls_login_required(j->cfg) && j->ssl == NULL) {
		jail_reply(j, 530, "TLS required.");
		return;
	}
	if (strlcpy(j->user, arg, sizeof(j->user)) >= sizeof(j->user))
		j->user[0] = '\0';	/* too long: can never log in */
	jail_reply(j, 331, "Password required for %s.",
	    userdb_valid_name(arg) == 0 ? arg : "that user");
	if (j->user[0] == '\0')
		(void)strlcpy(j->user, "-", sizeof(j->user));
}

static void
jail_pass(struct jail *j, const char *arg)
{
	struct msg_auth	 ma;
	struct ipc_msg	 m;
	int32_t		 res;

	if (config_tls_login_required(j->cfg) && j->ssl == NULL) {
		jail_reply(j, 530, "TLS required.");
		return;
	}
	if (j->user[0] == '\0') {
		jail_reply(j, 503, "Login with USER first.");
		return;
	}
	memset(&ma, 0, sizeof(ma));
	(void)strlcpy(ma.user, j->user, sizeof(ma.user));
	if (strlcpy(ma.pass, arg, sizeof(ma.pass)) >= sizeof(ma.pass))
		ma.pass[0] = '\0';	/* over-long: never matches */
	if (ipc_send(j->sock, MSG_AUTH, &ma, sizeof(ma), -1) == -1)
		fatal("%s: send", __func__);
	explicit_bzero(&ma, sizeof(ma));
	if (ipc_recv(j->sock, &m) != 1 || m.type != MSG_AUTH_RESULT ||
	    ipc_get(&m, &res, sizeof(res)) == -1)
		jail_exit(j, 421, "Service not available, closing control "
		    "connection.");
	switch (res) {
	case AUTH_OK:
		jail_handoff(j);
	case AUTH_TOO_MANY:
		jail_exit(j, 421, "Too many sessions for this user.");
	case AUTH_LEDGER_FULL:
		jail_exit(j, 421, "Too many accounts in use, try again later.");
	default:
		break;
	}
	j->user[0] = '\0';
	if (++j->failures >= j->cfg->max_login_failures)
		jail_exit(j, 421, "Too many login failures.");
	jail_reply(j, 530, "Login incorrect.");
}

static void
jail_auth(struct jail *j, const char *arg)
{
	if (strcasecmp(arg, "TLS") != 0 && strcasecmp(arg, "SSL") != 0 &&
	    strcasecmp(arg, "TLS-C") != 0) {
		jail_reply(j, 504, "AUTH %s not supported.",
		    strlen(arg) < 16 ? arg : "type");
		return;
	}
	if (j->ctx == NULL) {
		jail_reply(j, 431, "TLS is not configured.");
		return;
	}
	if (j->ssl != NULL) {
		jail_reply(j, 503, "TLS is already on.");
		return;
	}
	jail_reply(j, 234, "AUTH %s OK.", strcasecmp(arg, "SSL") == 0 ?
	    "SSL" : "TLS");
	/* plaintext pipelined after AUTH must not be taken as protected */
	j->io.inlen = 0;
	if ((j->ssl = SSL_new(j->ctx)) == NULL || SSL_set_fd(j->ssl, j->fd) != 1)
		fatalx("%s: %s", __func__, tls_errstr());
	jail_bound(j);
	if (SSL_accept(j->ssl) != 1) {
		log_info("TLS handshake failed: %s", tls_errstr());
		SSL_free(j->ssl);
		j->ssl = NULL;
		_exit(0);
	}
	ftpio_init(&j->io, j->fd, &jail_io_ops, j);
	log_debug("TLS on: %s %s", SSL_get_version(j->ssl),
	    SSL_get_cipher_name(j->ssl));
}

static void
jail_pbsz(struct jail *j, const char *arg)
{
	if (j->ssl == NULL) {
		jail_reply(j, 503, "PBSZ requires AUTH TLS first.");
		return;
	}
	(void)arg;
	j->pbsz = 1;
	jail_reply(j, 200, "PBSZ=0");
}

static void
jail_prot(struct jail *j, const char *arg)
{
	if (j->ssl == NULL || !j->pbsz) {
		jail_reply(j, 503, "PROT requires PBSZ first.");
		return;
	}
	if (strcasecmp(arg, "P") == 0 || strcasecmp(arg, "C") == 0) {
		j->prot_p = toupper((unsigned char)arg[0]) == 'P';
		jail_reply(j, 200, "Protection level set to %c.",
		    j->prot_p ? 'P' : 'C');
	} else if (strcasecmp(arg, "S") == 0 || strcasecmp(arg, "E") == 0)
		jail_reply(j, 536, "Protection level not supported.");
	else
		jail_reply(j, 504, "Unknown protection level.");
}

static void
jail_feat(struct jail *j, const char *arg)
{
	char	buf[1024];
	size_t	n;

	(void)arg;
	n = ftp_feat(buf, sizeof(buf), j->ctx != NULL, DIGEST_SHA256,
	    MLST_ALL);
	if (ftpio_write(&j->io, buf, n) == -1)
		jail_exit(j, 0, NULL);
}

static void
jail_syst(struct jail *j, const char *arg)
{
	(void)arg;
	jail_reply(j, 215, "UNIX Type: L8");
}

static void
jail_opts(struct jail *j, const char *arg)
{
	if (strncasecmp(arg, "UTF8", 4) == 0) {
		j->utf8 = strcasestr(arg, "OFF") == NULL;
		jail_reply(j, 200, "UTF8 set to %s.", j->utf8 ? "on" : "off");
	} else
		jail_reply(j, 501, "Option not understood before login.");
}

static void
jail_quit(struct jail *j, const char *arg)
{
	(void)arg;
	jail_exit(j, 221, "Goodbye.");
}

static void
jail_help(struct jail *j, const char *arg)
{
	(void)arg;
	jail_reply(j, 214, "Log in with USER and PASS%s.",
	    j->ctx != NULL ? " (after AUTH TLS)" : "");
}

static void
jail_noop(struct jail *j, const char *arg)
{
	(void)arg;
	jail_reply(j, 200, "NOOP ok.");
}

static void
jail_handoff(struct jail *j)
{
	struct msg_handoff	h;
	int			sp[2], rp[2];

	memset(&h, 0, sizeof(h));
	h.tls = j->ssl != NULL;
	h.pbsz = j->pbsz;
	h.prot_p = j->prot_p;
	h.utf8 = j->utf8;
	memcpy(h.token, j->token, sizeof(h.token));
	h.npending = (uint32_t)j->io.inlen;
	memcpy(h.pending, j->io.in, j->io.inlen);
	if (j->ssl != NULL) {
		int n = tls_export_session(j->ssl, h.sess, sizeof(h.sess));

		if (n == -1)	/* data connections then need tickets */
			log_warnx("%s: TLS session not handed over: %s",
			    __func__, tls_errstr());
		h.nsess = n > 0 ? (uint32_t)n : 0;
	}
	/* the socket leaves the jail: the session (or the relay) sets its
	 * own limits */
	sock_timeouts(j->fd, 0);
	if (j->ssl == NULL) {
		if (ipc_send(j->sock, MSG_HANDOFF, &h, sizeof(h), j->fd) == -1)
			fatal("%s: send", __func__);
		jail_exit(j, 0, NULL);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) == -1)
		fatal("%s: socketpair", __func__);
	if (ipc_send(j->sock, MSG_HANDOFF, &h, sizeof(h), sp[1]) == -1 ||
	    ipc_send(j->sock, MSG_RELAY, NULL, 0, rp[1]) == -1)
		fatal("%s: send", __func__);
	close(sp[1]);
	close(rp[1]);
	close(j->sock);
	/* the relay outlives the session by the moment it takes to pass on
	 * its last reply (221): it ends on the plaintext side's EOF */
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	jail_relay(j, sp[0], rp[0]);
}

/*
 * A TLS 1.3 client may use each ticket once, and data connections issue
 * none: give the client a fresh ticket with every PASV/EPSV/PORT/EPRT
 * reply, so the data connection it opens next always has one to resume.
 */
static void
relay_ticket(struct jail *j, const char *buf, size_t n)
{
	const char	*p = buf, *end = buf + n, *nl;
	size_t		 left;

	if (SSL_version(j->ssl) != TLS1_3_VERSION)
		return;
	/* every reply line in the buffer: replies may come several at once */
	for (; p < end; p = nl + 1) {
		left = (size_t)(end - p);
		if ((left >= 4 && (memcmp(p, "227 ", 4) == 0 ||
		    memcmp(p, "229 ", 4) == 0)) || (left >= 8 &&
		    (memcmp(p, "200 PORT", 8) == 0 ||
		    memcmp(p, "200 EPRT", 8) == 0))) {
			if (SSL_new_session_ticket(j->ssl) != 1)
				log_debug("could not queue a session ticket: "
				    "%s", tls_errstr());
			return;
		}
		if ((nl = memchr(p, '\n', left)) == NULL)
			return;
	}
}

/* Bound each blocking read and write on fd: ms milliseconds, 0 none. */
static void
sock_timeouts(int fd, long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The session asks for a data connection it cannot resume: handshake with
 * the real key and hand back the plaintext end. -1 ends the channel. */
static int
relay_data_start(struct jail *j, int rsock, struct drelay *dr)
{
	struct ipc_msg	 m;
	struct drelay	*d = NULL;
	static uint32_t	 lastid;
	int		 sp[2], i;

	if (ipc_recv(rsock, &m) != 1)
		return -1;
	if (m.type == MSG_DATA_ABORT && m.fd == -1) {
		uint32_t	id;

		if (ipc_get(&m, &id, sizeof(id)) == -1)
			return -1;
		/* an aborted download's rest never reaches the client, nor
		 * a close_notify that would make a cut file look whole */
		for (i = 0; i < RELAY_MAX; i++)
			if (dr[i].ssl != NULL && dr[i].id == id)
				relay_data_end(&dr[i], 0);
		return 0;
	}
	if (m.type != MSG_DATA_TLS || m.fd == -1 || m.len != 0) {
		log_warnx("%s: unexpected message %u from the session",
		    __func__, m.type);
		if (m.fd != -1)
			close(m.fd);
		return -1;
	}
	for (i = 0; i < RELAY_MAX && d == NULL; i++)
		if (dr[i].ssl == NULL)
			d = &dr[i];
	sock_timeouts(m.fd, j->cfg->data_timeout * 1000L);
	/* no tickets on data connections (see tls_data_ctx) */
	if (d == NULL || (d->ssl = SSL_new(j->ctx)) == NULL ||
	    SSL_set_num_tickets(d->ssl, 0) != 1 ||
	    SSL_set_fd(d->ssl, m.fd) != 1 || SSL_accept(d->ssl) != 1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_info("data TLS handshake in the relay failed: %s",
		    d == NULL ? "too many data connections" : tls_errstr());
		if (d != NULL && d->ssl != NULL)
			SSL_free(d->ssl);
		if (d != NULL)
			d->ssl = NULL;
		close(m.fd);
		return ipc_send(rsock, MSG_DATA_TLS_FAIL, NULL, 0, -1);
	}
	log_debug("data TLS in the relay: %s %s, %s", SSL_get_version(d->ssl),
	    SSL_get_cipher_name(d->ssl), SSL_session_reused(d->ssl) ?
	    "resumed" : "full handshake");
	/* from now on no write may block the relay (and with it the
	 * control channel): a client that stops reading is waited for in
	 * poll, up to data_timeout */
	if (fcntl(m.fd, F_SETFL, O_RDWR | O_NONBLOCK) == -1)
		log_warn("%s: O_NONBLOCK", __func__);
	d->fd = m.fd;
	d->plain = sp[0];
	d->id = ++lastid;
	d->wlen = 0;
	d->plain_eof = 0;
	d->down = 0;
	d->deadline = 0;
	if (ipc_send(rsock, MSG_DATA_TLS_OK, &d->id, sizeof(d->id), sp[1])
	    == -1) {
		close(sp[1]);
		relay_data_end(d, 0);
		return -1;
	}
	close(sp[1]);
	return 0;
}

static void
relay_data_end(struct drelay *d, int notify)
{
	if (notify)
		(void)SSL_shutdown(d->ssl);
	SSL_free(d->ssl);
	d->ssl = NULL;
	close(d->fd);
	close(d->plain);
	d->fd = d->plain = -1;
}

/* The data connection ended: tell the session how (ok: the client closed
 * an upload with close_notify, or took a whole download), so that a cut
 * one is not taken for a whole one; then end the relay (notify: send our
 * close_notify). */
static void
relay_data_done(int rsock, struct drelay *d, int ok, int notify)
{
	struct msg_data_done	dd;

	dd.id = d->id;
	dd.ok = ok;
	if (rsock != -1)
		(void)ipc_send(rsock, MSG_DATA_DONE, &dd, sizeof(dd), -1);
	relay_data_end(d, notify);
}

/* Write all of buf to a plaintext socket. */
static int
relay_send(int fd, const char *buf, size_t n)
{
	ssize_t	r;

	while (n > 0) {
		r = send(fd, buf, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * A download: hand what the session sent to SSL_write, which may not take
 * it yet (the client is slow); once the session has sent all, send
 * close_notify and tell the session the client has it all.
 */
static void
relay_data_flush(struct jail *j, int rsock, struct drelay *d)
{
	size_t	n;
	int	e, r;

	if (d->wlen > 0) {
		if (SSL_write_ex(d->ssl, d->wbuf, d->wlen, &n) == 1) {
			d->wlen = 0;
			d->deadline = 0;
		} else {
			e = SSL_get_error(d->ssl, 0);
			ERR_clear_error();
			if (e != SSL_ERROR_WANT_WRITE &&
			    e != SSL_ERROR_WANT_READ) {
				relay_data_done(rsock, d, 0, 0);
				return;
			}
			if (d->deadline == 0)
				d->deadline = mono_ms() +
				    j->cfg->data_timeout * 1000L;
			return;
		}
	}
	if (!d->plain_eof)
		return;
	if ((r = SSL_shutdown(d->ssl)) < 0) {
		e = SSL_get_error(d->ssl, r);
		ERR_clear_error();
		if (e == SSL_ERROR_WANT_WRITE) {
			if (d->deadline == 0)
				d->deadline = mono_ms() +
				    j->cfg->data_timeout * 1000L;
			return;
		}
		relay_data_done(rsock, d, 0, 0);
		return;
	}
	relay_data_done(rsock, d, 1, 0);	/* close_notify is out */
}

/* One round of a data relay after poll: TLS -> plaintext (an upload) and
 * plaintext -> TLS (a download). */
static void
relay_data_step(struct jail *j, int rsock, struct drelay *d, short tlsev,
    short plainev)
{
	static char	buf[16384];
	size_t		n;
	ssize_t		r;
	int		e;

	if (SSL_pending(d->ssl) > 0 || (tlsev & (POLLIN | POLLHUP | POLLERR))) {
		if (SSL_read_ex(d->ssl, buf, sizeof(buf), &n) != 1) {
			e = SSL_get_error(d->ssl, 0);
			ERR_clear_error();
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				/* close_notify ends an upload well; a
				 * download only the relay ends well, once
				 * flushed (relay_data_flush) */
				relay_data_done(rsock, d,
				    e == SSL_ERROR_ZERO_RETURN && !d->down,
				    e == SSL_ERROR_ZERO_RETURN);
				return;
			}
		} else if (relay_send(d->plain, buf, n) == -1) {
			relay_data_end(d, 0);
			return;
		}
	}
	if (d->wlen == 0 && !d->plain_eof &&
	    (plainev & (POLLIN | POLLHUP | POLLERR))) {
		r = read(d->plain, d->wbuf, sizeof(d->wbuf));
		if (r == -1 && errno == EINTR)
			return;
		if (r == -1) {
			relay_data_done(rsock, d, 0, 0);
			return;
		}
		if (r == 0)
			d->plain_eof = 1;
		else
			d->down = 1;
		d->wlen = (size_t)r;
	}
	if (d->wlen > 0 || d->plain_eof)
		relay_data_flush(j, rsock, d);
}

/*
 * Relay between TLS on the client side and plaintext to the session, and
 * serve the session's data relay requests (rsock).
 */
static void
jail_relay(struct jail *j, int plain, int rsock)
{
	static char	buf[16384];
	struct drelay	dr[RELAY_MAX];
	struct pollfd	pfd[3 + 2 * RELAY_MAX];
	size_t		n;
	ssize_t		r;
	uint32_t	polled[RELAY_MAX];
	long		now;
	int		i, pending, wait;

	setproctitle("[relay]");
	/* a client stuck in a TLS record cannot hold the relay for ever; the
	 * session's idle_timeout ends an idle control channel first */
	sock_timeouts(j->fd, (j->cfg->idle_timeout + 60) * 1000L);
	for (i = 0; i < RELAY_MAX; i++) {
		dr[i].ssl = NULL;
		dr[i].fd = dr[i].plain = -1;
		dr[i].wlen = 0;
		dr[i].plain_eof = 0;
		dr[i].down = 0;
		dr[i].deadline = 0;
	}
	for (;;) {
		pending = SSL_pending(j->ssl) > 0;
		wait = -1;
		now = mono_ms();
		pfd[0].fd = j->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = plain;
		pfd[1].events = POLLIN;
		pfd[2].fd = rsock;
		pfd[2].events = POLLIN;
		for (i = 0; i < RELAY_MAX; i++) {
			struct drelay *d = &dr[i];
			int flushing = d->wlen > 0 || d->plain_eof;

			/* a download's client that took nothing more for
			 * data_timeout: the download failed */
			if (d->ssl != NULL && d->deadline != 0 &&
			    now >= d->deadline) {
				log_info("relayed download: the client took "
				    "no data for %ld s", j->cfg->data_timeout);
				relay_data_done(rsock, d, 0, 0);
			}
			/* revents belong to this relay only (not to one the
			 * session starts in the slot meanwhile) */
			polled[i] = d->ssl != NULL ? d->id : 0;
			pfd[3 + 2 * i].fd = d->fd;
			pfd[3 + 2 * i].events = POLLIN |
			    (flushing ? POLLOUT : 0);
			pfd[4 + 2 * i].fd = flushing ? -1 : d->plain;
			pfd[4 + 2 * i].events = POLLIN;
			if (d->ssl != NULL && SSL_pending(d->ssl) > 0)
				pending = 1;
			if (d->ssl != NULL && d->deadline != 0 &&
			    (wait == -1 || d->deadline - now < wait))
				wait = (int)(d->deadline - now);
		}
		if (poll(pfd, 3 + 2 * RELAY_MAX, pending ? 0 : wait) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (SSL_pending(j->ssl) > 0 || (pfd[0].revents &
		    (POLLIN | POLLHUP | POLLERR))) {
			if (SSL_read_ex(j->ssl, buf, sizeof(buf), &n) != 1) {
				int e = SSL_get_error(j->ssl, 0);

				if (e != SSL_ERROR_WANT_READ)
					break;
			} else if (relay_send(plain, buf, n) == -1)
				break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(plain, buf, sizeof(buf));
			if (r <= 0)
				break;
			relay_ticket(j, buf, (size_t)r);
			if (SSL_write_ex(j->ssl, buf, (size_t)r, &n) != 1)
				break;
		}
		/* the session's word first: an abort beats the end of its
		 * data, which it closes right after */
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR) &&
		    relay_data_start(j, rsock, dr) == -1) {
			close(rsock);	/* the session is gone or misbehaved */
			rsock = -1;
		}
		for (i = 0; i < RELAY_MAX; i++)
			if (dr[i].ssl != NULL && dr[i].id == polled[i])
				relay_data_step(j, rsock, &dr[i],
				    pfd[3 + 2 * i].revents,
				    pfd[4 + 2 * i].revents);
	}
	(void)SSL_shutdown(j->ssl);
	_exit(0);
}

/* A spare: wait for the client's socket, which the monitor passes on. */
static void
jail_wait_conn(struct jail *j)
{
	struct msg_conn	c;
	struct ipc_msg	m;
	int		r;

	while ((r = ipc_recv(j->sock, &m)) == -1 && errno == EINTR)
		;
	if (r != 1 || m.type != MSG_CONN || m.fd == -1 ||
	    ipc_get(&m, &c, sizeof(c)) == -1 ||
	    memchr(c.peerstr, '\0', sizeof(c.peerstr)) == NULL)
		_exit(0);	/* the monitor went away, or is confused */
	j->fd = m.fd;
	log_settag("#%lu %s", (unsigned long)c.sessid, c.peerstr);
	setproctitle("[jail] %s", c.peerstr);
}

void
jail_run(struct monitor_args *ma, int sock)
{
	struct jail	j;
	char		err[512];

	memset(&j, 0, sizeof(j));
	j.cfg = ma->cfg;
	j.sock = sock;
	j.fd = ma->ctlfd;
	/* the jail never sees the user db, nor writes the xferlog */
	userdb_free(ma->db);
	ma->db = NULL;
	/* nor the shared memory the root side reads */
	ledger_destroy(ma->ledger);
	ma->ledger = NULL;
	scoreboard_unmap(ma->sb);
	ma->sb = NULL;
	if (ma->xferlog_fd != -1)
		close(ma->xferlog_fd);
	if (ma->cfg->tls_cert[0] != '\0') {
		j.ctx = tls_server_ctx(ma->cfg, ma->ticket_keys, err,
		    sizeof(err));
		if (j.ctx == NULL)
			fatalx("TLS: %s", err);
		explicit_bzero(ma->ticket_keys, sizeof(ma->ticket_keys));
		/* this connection's tickets, and only they, open its data */
		if (RAND_bytes(j.token, sizeof(j.token)) != 1 ||
		    tls_stamp_tickets(j.ctx, j.token) == -1)
			fatalx("TLS tickets: %s", tls_errstr());
	}
	{
		const int keep[] = { j.fd, j.sock };

		sandbox_closefds(keep, sizeof(keep) / sizeof(keep[0]));
	}
	if (ma->root)
		sandbox_drop(ma->cfg->jail_dir, ma->jail_uid, ma->jail_gid);
	/* a jail dies with its monitor (whatever ends that), never outlives
	 * it as an orphan holding a client; set after the drop, which clears
	 * it, and checked once against a monitor already gone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	if (getppid() != ma->monitor_pid)
		_exit(0);
	sandbox_common(ROLE_JAIL);
	if (j.fd != -1)
		setproctitle("[jail] %s", ma->peerstr);
	else
		setproctitle("[spare-jail]");
	sandbox_seccomp_jail();
	if (j.fd == -1)
		jail_wait_conn(&j);
	ftpio_init(&j.io, j.fd, &jail_io_ops, &j);
	j.deadline = mono_ms() + ma->cfg->login_timeout * 1000L;
	jail_reply(&j, 220, "moatftpd ready.");
	jail_loop(&j);
}

#ifdef MOAT_FUZZ
/* Run the pre-login state machine on a client socket and a monitor socket,
 * without a sandbox; returns when the jail would have exited. */
int
jail_fuzz(const struct config *cfg, int fd, int sock)
{
	static struct jail	j;

	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.sock = sock;
	j.fd = fd;
	ftpio_init(&j.io, j.fd, &jail_io_ops, &j);
	j.deadline = mono_ms() + cfg->login_timeout * 1000L;
	if (setjmp(jail_fuzz_env) == 0)
		jail_loop(&j);
	return j.failures;
}
#endif

/* Read command lines and dispatch them through jail_cmds until the jail
 * exits (QUIT, EOF, timeout, too many failures) or hands off. */
static void
jail_loop(struct jail *j)
{
	char		line[MOAT_CMD_MAX];
	const char	*arg;
	size_t		i, vl;
	long		left;
	int		r;

	for (;;) {
		/* a negative timeout would mean no timeout: check first */
		left = j->deadline - mono_ms();
		r = left <= 0 ? FTPIO_TIMEOUT : ftpio_getline(&j->io, line,
		    sizeof(line), (int)left);
		if (r == FTPIO_TIMEOUT)
			jail_exit(j, 421, "Login timeout.");
		if (r == FTPIO_TOOLONG) {
			jail_reply(j, 500, "Command line too long.");
			continue;
		}
		if (r != FTPIO_LINE)
			jail_exit(j, 0, NULL);
		vl = strcspn(line, " ");
		arg = line[vl] == ' ' ? line + vl + 1 : "";
		if (log_getlevel() >= LOG_LVL_DEBUG) {
			char vis[MOAT_CMD_MAX * 4];

			log_debug("<- %s", strncasecmp(line, "PASS", 4) == 0 ?
			    "PASS ****" : log_vis(vis, sizeof(vis), line));
		}
		for (i = 0; i < sizeof(jail_cmds) / sizeof(jail_cmds[0]); i++)
			if (strlen(jail_cmds[i].verb) == vl &&
			    strncasecmp(line, jail_cmds[i].verb, vl) == 0)
				break;
		if (i == sizeof(jail_cmds) / sizeof(jail_cmds[0])) {
			jail_reply(j, 530, "Please login with USER and PASS.");
			continue;
		}
		if (jail_cmds[i].needarg && *arg == '\0') {
			jail_reply(j, 501, "%s needs an argument.",
			    jail_cmds[i].verb);
			continue;
		}
		jail_cmds[i].fn(j, arg);
	}
}
