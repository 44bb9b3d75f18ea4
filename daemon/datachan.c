/*
 * The data channel. PASV/EPSV listen on a port in the configured range and
 * accept only the control peer's address; PORT/EPRT connect only to the
 * control peer's address, on ports >= 1024 (no bounce). PROT P data is TLS
 * that must resume the control connection's session.
 */
#include <sys/types.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "daemon/commands.h"
#include "daemon/datachan.h"
#include "daemon/netaddr.h"
#include "daemon/session.h"
#include "privsep/ipc.h"
#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/scoreboard.h"
#include "shared/tls.h"


void
data_reset(struct session *s)
{
	if (s->pasv_fd != -1)
		close(s->pasv_fd);
	s->pasv_fd = -1;
	s->dmode = DATA_NONE;
}

static in_port_t
sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
		    ->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

static void
sa_set_port(struct sockaddr_storage *ss, in_port_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
}

/* Listen on a free port of the range, on the control's local address. */
static int
pasv_listen(struct session *s)
{
	struct sockaddr_storage	 ss = s->local;
	long			 lo = s->cfg->pasv_min_port;
	long			 span = s->cfg->pasv_max_port - lo + 1;
	long			 start = (long)arc4random_uniform((uint32_t)span);
	long			 i;
	int			 fd, one = 1;

	data_reset(s);
	for (i = 0; i < span; i++) {
		long	port = lo + (start + i) % span;
		int	saved;

		/* a fresh socket each try: one that bound but failed to listen
		 * (another session raced it to the port) cannot bind again */
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		/* a port whose last data connection is in TIME_WAIT is free */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		sa_set_port(&ss, (in_port_t)port);
		if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))
		    == 0 && listen(fd, 1) == 0) {
			s->pasv_fd = fd;
			s->dmode = DATA_PASV;
			return (int)port;
		}
		saved = errno;
		close(fd);
		if (saved != EADDRINUSE)
			break;
	}
	return -1;
}

void
cmd_pasv(struct session *s, const char *arg)
{
	struct in_addr	 a;
	char		 ip[64];
	int		 port;
	unsigned char	*b;

	(void)arg;
	if (s->epsv_all) {
		reply(s, 503, "EPSV ALL was given: use EPSV.");
		return;
	}
	addr_str(&s->local, ip, sizeof(ip));
	if (s->cfg->pasv_address[0] != '\0')
		(void)strlcpy(ip, s->cfg->pasv_address, sizeof(ip));
	if (inet_pton(AF_INET, ip, &a) != 1) {
		reply(s, 425, "PASV needs IPv4: use EPSV.");
		return;
	}
	if ((port = pasv_listen(s)) == -1) {
		reply(s, 425, "Cannot open a passive port.");
		return;
	}
	b = (unsigned char *)&a;
	reply(s, 227, "Entering Passive Mode (%u,%u,%u,%u,%d,%d).", b[0], b[1],
	    b[2], b[3], port >> 8, port & 0xff);
}

void
cmd_epsv(struct session *s, const char *arg)
{
	int	port;

	if (strcasecmp(arg, "ALL") == 0) {
		s->epsv_all = 1;
		reply(s, 200, "EPSV ALL ok.");
		return;
	}
	if (*arg != '\0' && strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0) {
		reply(s, 501, "Bad EPSV argument.");
		return;
	}
	if ((*arg == '1' && s->local.ss_family != AF_INET) ||
	    (*arg == '2' && s->local.ss_family != AF_INET6)) {
		reply(s, 522, "Network protocol not supported, use (%d)",
		    s->local.ss_family == AF_INET6 ? 2 : 1);
		return;
	}
	if ((port = pasv_listen(s)) == -1) {
		reply(s, 425, "Cannot open a passive port.");
		return;
	}
	reply(s, 229, "Entering Extended Passive Mode (|||%d|)", port);
}

/* PORT/EPRT: only the control peer, only ports >= 1024. */
static int
port_allowed(struct session *s, const struct sockaddr_storage *ss)
{
	char	a[64];

	if (!addr_same_ip(ss, &s->peer)) {
		addr_str(ss, a, sizeof(a));
		log_warnx("refused PORT/EPRT to %s: not the client's address",
		    a);
		return 0;
	}
	if (sa_port(ss) < 1024) {
		log_warnx("refused PORT/EPRT to port %u", sa_port(ss));
		return 0;
	}
	return 1;
}

void
cmd_port(struct session *s, const char *arg)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;
	unsigned int		 h[6];
	int			 n = 0;
	unsigned char		*b;

	if (s->epsv_all) {
		reply(s, 503, "EPSV ALL was given: use EPSV.");
		return;
	}
	if (sscanf(arg, "%3u,%3u,%3u,%3u,%3u,%3u%n", &h[0], &h[1], &h[2],
	    &h[3], &h[4], &h[5], &n) != 6 || arg[n] != '\0' || h[0] > 255 ||
	    h[1] > 255 || h[2] > 255 || h[3] > 255 || h[4] > 255 ||
	    h[5] > 255) {
		reply(s, 501, "Bad PORT argument.");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	b = (unsigned char *)&sin->sin_addr;
	b[0] = (unsigned char)h[0];
	b[1] = (unsigned char)h[1];
	b[2] = (unsigned char)h[2];
	b[3] = (unsigned char)h[3];
	sin->sin_port = htons((in_port_t)(h[4] << 8 | h[5]));
	if (!port_allowed(s, &ss)) {
		reply(s, 504, "Illegal PORT command: only your own address and "
		    "ports >= 1024.");
		return;
	}
	data_reset(s);
	s->port_addr = ss;
	s->dmode = DATA_PORT;
	reply(s, 200, "PORT command successful.");
}

void
cmd_eprt(struct session *s, const char *arg)
{
	struct sockaddr_storage	 ss;
	char			 d, buf[128], *f[4], *p;
	const char		*errstr;
	long long		 port;
	int			 i;

	if (s->epsv_all) {
		reply(s, 503, "EPSV ALL was given: use EPSV.");
		return;
	}
	d = arg[0];
	if (d < 33 || d > 126 || strlcpy(buf, arg + 1, sizeof(buf)) >=
	    sizeof(buf)) {
		reply(s, 501, "Bad EPRT argument.");
		return;
	}
	for (p = buf, i = 0; i < 4; i++) {
		f[i] = p;
		if ((p = strchr(p, d)) == NULL)
			break;
		*p++ = '\0';
	}
	if (i != 3 || *f[3] != '\0') {
		reply(s, 501, "Bad EPRT argument.");
		return;
	}
	port = strtonum(f[2], 1, 65535, &errstr);
	memset(&ss, 0, sizeof(ss));
	if (errstr == NULL && strcmp(f[0], "1") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;

		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, f[1], &sin->sin_addr) != 1)
			errstr = "bad address";
	} else if (errstr == NULL && strcmp(f[0], "2") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, f[1], &s6->sin6_addr) != 1)
			errstr = "bad address";
	} else if (errstr == NULL) {
		reply(s, 522, "Network protocol not supported, use (1,2)");
		return;
	}
	if (errstr != NULL) {
		reply(s, 501, "Bad EPRT argument.");
		return;
	}
	sa_set_port(&ss, (in_port_t)port);
	if (!port_allowed(s, &ss)) {
		reply(s, 504, "Illegal EPRT command: only your own address and "
		    "ports >= 1024.");
		return;
	}
	data_reset(s);
	s->port_addr = ss;
	s->dmode = DATA_PORT;
	reply(s, 200, "EPRT command successful.");
}

/*
 * Wait up to ms for events on fd while watching the control channel: an
 * ABOR (also one read along with the command) or the client leaving ends
 * the wait, STAT and NOOP are answered. 1 fd ready, 0 timed out, -1 ended
 * by the control channel (dc->aborted).
 */
static int
ctl_poll(struct session *s, struct dataconn *dc, int fd, short events,
    int ms)
{
	struct pollfd	pfd[2];
	long		end = mono_ms() + ms, left;
	int		r;

	for (;;) {
		if (!dc->ctl_held && ftpio_buffered(&s->io) &&
		    data_check_control(s, dc))
			return -1;
		if ((left = end - mono_ms()) <= 0)
			return 0;
		pfd[0].fd = fd;
		pfd[0].events = events;
		pfd[1].fd = dc->ctl_held ? -1 : s->io.fd;
		pfd[1].events = POLLIN;
		r = poll(pfd, 2, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if ((pfd[1].revents & (POLLIN | POLLHUP)) &&
		    data_check_control(s, dc))
			return -1;
		if (pfd[0].revents)
			return 1;
	}
}

/* Accept the client on the PASV port; strangers are turned away. */
static int
pasv_accept(struct session *s, struct dataconn *dc)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	long			deadline = mono_ms() + s->cfg->data_timeout * 1000;
	char			a[64];
	int			fd;

	for (;;) {
		long left = deadline - mono_ms();

		if (left <= 0 || ctl_poll(s, dc, s->pasv_fd, POLLIN,
		    (int)left) != 1)
			return -1;
		len = sizeof(ss);
		fd = accept4(s->pasv_fd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC);
		if (fd == -1 && (errno == EINTR || errno == ECONNABORTED ||
		    errno == EAGAIN))
			continue;
		if (fd == -1) {		/* EMFILE and the like: no spinning */
			log_warn("%s: accept", __func__);
			return -1;
		}
		if (addr_same_ip(&ss, &s->peer))
			return fd;
		addr_str(&ss, a, sizeof(a));
		log_warnx("refused a data connection from %s (not the client)",
		    a);
		close(fd);
	}
}

static int
port_connect(struct session *s)
{
	struct sockaddr_storage	 local = s->local;
	socklen_t		 len;
	struct pollfd		 pfd;
	int			 fd, err = 0;

	len = s->port_addr.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	fd = socket(s->port_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	sa_set_port(&local, 0);
	if (local.ss_family == s->port_addr.ss_family)
		(void)bind(fd, (struct sockaddr *)&local, len);
	if (connect(fd, (struct sockaddr *)&s->port_addr, len) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, (int)(s->cfg->data_timeout * 1000)) != 1)
		goto fail;
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0)
		goto fail;
	if (fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
full_handshake_cb(SSL *ssl, void *arg)
{
	(void)ssl;
	*(int *)arg = 1;	/* a certificate is needed: not a resumption */
	return 0;		/* stop the scratch handshake here */
}

/*
 * Would the client's hello resume the control session? Peek it (it stays in
 * the socket) and replay it into a scratch SSL whose output goes nowhere.
 * 1 it resumes, 0 it does not (or we cannot tell), -1 no hello came.
 */
static int
data_hello_resumes(struct session *s, int fd)
{
	static unsigned char	 hello[5 + 16384];
	const struct timespec	 nap = { 0, 5 * 1000000L };
	long			 deadline = mono_ms() + s->cfg->data_timeout * 1000;
	size_t			 need = 5;
	ssize_t			 r;
	struct pollfd		 pfd;
	SSL			*ssl;
	BIO			*rb, *wb;
	int			 full = 0, resumed;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN | POLLRDHUP;
		pfd.revents = 0;
		if (mono_ms() >= deadline || (poll(&pfd, 1,
		    (int)(deadline - mono_ms())) == -1 && errno != EINTR))
			return -1;
		r = recv(fd, hello, need, MSG_PEEK | MSG_DONTWAIT);
		if (r == 0)
			return -1;
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		/* peeking never drains: a peer that stopped short is done */
		if ((r == -1 || (size_t)r < need) &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return -1;
		if (r >= 5 && need == 5) {
			if (hello[0] != 0x16)	/* not TLS at all */
				return -1;
			need += (size_t)hello[3] << 8 | hello[4];
			if (need > sizeof(hello))
				return 0;
			continue;
		}
		if (r >= 0 && (size_t)r >= need)
			break;
		(void)nanosleep(&nap, NULL);	/* the rest is on its way */
	}
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_null());
	if (rb == NULL || wb == NULL || (ssl = SSL_new(s->data_ctx)) == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		ERR_clear_error();
		return 0;
	}
	(void)BIO_write(rb, hello, (int)need);
	SSL_set_bio(ssl, rb, wb);
	SSL_set_cert_cb(ssl, full_handshake_cb, &full);
	(void)SSL_accept(ssl);
	resumed = !full && SSL_session_reused(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	return resumed;
}

/* Have the TLS relay (it holds the key) do a full handshake; the data then
 * flows in plaintext between the relay and us. */
static int
data_tls_relay(struct session *s, struct dataconn *dc)
{
	struct ipc_msg	m;

	m.type = 0;
	m.fd = -1;
	/* skip the outcome of an earlier connection nobody read */
	if (ipc_send(s->relayfd, MSG_DATA_TLS, NULL, 0, dc->fd) == 0)
		while (ipc_recv(s->relayfd, &m) == 1 &&
		    m.type == MSG_DATA_DONE) {
			if (m.fd != -1)		/* none expected: never kept */
				close(m.fd);
			m.fd = -1;
		}
	if (m.type != MSG_DATA_TLS_OK && m.type != MSG_DATA_TLS_FAIL) {
		log_warn("%s: the TLS relay is gone", __func__);
		reply(s, 425, "TLS handshake on the data connection failed.");
		return -1;
	}
	if (m.type != MSG_DATA_TLS_OK || m.fd == -1 ||
	    ipc_get(&m, &dc->relay_id, sizeof(dc->relay_id)) == -1) {
		if (m.fd != -1)
			close(m.fd);
		log_warnx("data TLS handshake in the relay failed");
		reply(s, 425, "TLS handshake on the data connection failed.");
		return -1;
	}
	close(dc->fd);
	dc->fd = m.fd;
	dc->relayed = 1;
	log_debug("data connection without resumption: TLS in the relay");
	return 0;
}

/* A relayed transfer reached its end: did the client close the upload
 * properly, or take the whole download? The relay says so (before it
 * closes our end). 0 yes, -1 no. */
static int
data_relay_done(struct session *s, struct dataconn *dc, int ms)
{
	struct msg_data_done	dd;
	struct ipc_msg		m;
	struct pollfd		pfd;
	long			end = mono_ms() + ms, left;
	int			r;

	for (;;) {
		pfd.fd = s->relayfd;
		pfd.events = POLLIN;
		/* a signal (SIGUSR2: a graceful stop) is no answer */
		if ((left = end - mono_ms()) <= 0)
			break;
		if ((r = poll(&pfd, 1, (int)left)) == -1 && errno == EINTR)
			continue;
		if (r != 1 || ipc_recv(s->relayfd, &m) != 1)
			break;
		if (m.fd != -1)			/* none expected: never kept */
			close(m.fd);
		if (m.type != MSG_DATA_DONE || ipc_get(&m, &dd, sizeof(dd)) == -1)
			break;
		if (dd.id == dc->relay_id) {
			if (!dd.ok)
				log_warnx("the relayed data connection was "
				    "reset or broken");
			dc->finished = 1;	/* the relay is done with it */
			return dd.ok ? 0 : -1;
		}
	}
	log_warnx("%s: no word from the TLS relay", __func__);
	return -1;
}

static int
data_tls(struct session *s, struct dataconn *dc)
{
	struct timeval	tv;
	int		r;

	/* decide before any certificate is shown: ours here is a throwaway */
	if ((r = data_hello_resumes(s, dc->fd)) == -1) {
		log_warnx("no TLS hello on the data connection");
		reply(s, 425, "TLS handshake on the data connection failed.");
		return -1;
	}
	if (r == 0) {
		if (!s->cfg->tls_require_reuse && s->relayfd != -1)
			return data_tls_relay(s, dc);
		log_warnx("data connection did not resume the TLS session");
		reply(s, 522, "TLS session reuse required.");
		return -1;
	}
	tv.tv_sec = s->cfg->data_timeout;
	tv.tv_usec = 0;
	(void)setsockopt(dc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((dc->ssl = SSL_new(s->data_ctx)) == NULL ||
	    SSL_set_fd(dc->ssl, dc->fd) != 1 || SSL_accept(dc->ssl) != 1) {
		log_warnx("data TLS handshake failed: %s", tls_errstr());
		reply(s, 425, "TLS handshake on the data connection failed.");
		return -1;
	}
	if (!SSL_session_reused(dc->ssl)) {
		/* only the throwaway certificate was shown: never serve that */
		log_warnx("data connection did not resume the TLS session");
		if (s->cfg->tls_require_reuse)
			reply(s, 522, "TLS session reuse required.");
		else
			reply(s, 425, "TLS handshake on the data connection "
			    "failed.");
		return -1;
	}
	/* data_open makes the socket non-blocking: data_wait's poll bounds
	 * every later wait by data_timeout */
	return 0;
}

int
data_open(struct session *s, struct dataconn *dc, const char *what)
{
	int	one = 1, lowat = MOAT_DATA_LOWAT;

	memset(dc, 0, sizeof(*dc));
	dc->fd = -1;
	if (s->dmode == DATA_NONE) {
		reply(s, 425, "Use PORT, EPRT, PASV or EPSV first.");
		return -1;
	}
	if (s->cfg->tls_cert[0] != '\0' && s->cfg->tls_require_data &&
	    !s->prot_p) {
		data_reset(s);
		reply(s, 521, "Data connections must be encrypted.");
		return -1;
	}
	if (s->prot_p && s->data_ctx == NULL) {
		data_reset(s);
		reply(s, 425, "TLS is not available for data.");
		return -1;
	}
	reply(s, 150, "%s", what);
	dc->fd = s->dmode == DATA_PASV ? pasv_accept(s, dc) : port_connect(s);
	data_reset(s);
	if (dc->fd == -1 && dc->aborted) {
		reply(s, 426, "Connection closed; transfer aborted.");
		if (!dc->ctl_gone)
			reply(s, 226, "ABOR command successful.");
		return -1;
	}
	if (dc->fd == -1) {
		reply(s, 425, "Cannot open data connection.");
		return -1;
	}
	(void)setsockopt(dc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/*
	 * Keep little unsent data queued in the socket, so that the bytes are
	 * sent by our write(2) and not later by the kernel while it takes
	 * the client's ACK, inside the client's system call, on its CPU time.
	 */
	(void)setsockopt(dc->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat,
	    sizeof(lowat));
	if (s->prot_p && data_tls(s, dc) == -1) {
		if (dc->ssl != NULL)
			SSL_free(dc->ssl);
		dc->ssl = NULL;
		close(dc->fd);
		dc->fd = -1;
		return -1;
	}
	/* never block in write/sendfile or SSL_write: ABOR, STAT and NOOP
	 * must get through while a client stops reading (data_wait watches
	 * the control channel whenever the data socket would block) */
	if (fcntl(dc->fd, F_SETFL, fcntl(dc->fd, F_GETFL) | O_NONBLOCK) == -1)
		log_warn("%s: O_NONBLOCK", __func__);
	return 0;
}

/* Is the next buffered command one we answer during a transfer? */
static int
ctl_verb_is(const struct session *s, const char *verb)
{
	size_t	n = strlen(verb);

	return s->io.inlen >= n && strncasecmp(s->io.in, verb, n) == 0 &&
	    (s->io.inlen == n || s->io.in[n] == '\r' || s->io.in[n] == '\n' ||
	    s->io.in[n] == ' ');
}

int
data_check_control(struct session *s, struct dataconn *dc)
{
	char	line[MOAT_CMD_MAX];
	int	r;

	if (!ftpio_buffered(&s->io) && ftpio_fill(&s->io) <= 0 &&
	    s->io.eof) {
		dc->aborted = 1;	/* client gone */
		dc->ctl_gone = 1;
		return 1;
	}
	while (ftpio_buffered(&s->io)) {
		/* ABOR may come after Telnet IP/Synch bytes: skip them */
		while (s->io.inlen > 0 && (unsigned char)s->io.in[0] >= 0xf0) {
			memmove(s->io.in, s->io.in + 1, --s->io.inlen);
		}
		if (!ctl_verb_is(s, "ABOR") && !ctl_verb_is(s, "STAT") &&
		    !ctl_verb_is(s, "NOOP")) {
			/* the rest waits for the transfer; polling the
			 * control channel now would only spin */
			dc->ctl_held = 1;
			return 0;
		}
		r = ftpio_next(&s->io, line, sizeof(line));
		if (r != FTPIO_LINE)
			return 0;
		if (strncasecmp(line, "ABOR", 4) == 0) {
			dc->aborted = 1;
			return 1;
		}
		if (strncasecmp(line, "NOOP", 4) == 0)
			reply(s, 200, "NOOP ok.");
		else {
			reply(s, 213, "Status: %llu bytes transferred.",
			    (unsigned long long)atomic_load(
			    &s->act->xfer_done));
		}
	}
	return 0;
}

/* Wait until the data fd is ready for events; watch control meanwhile. */
static int
data_wait(struct session *s, struct dataconn *dc, short events)
{
	int	r;

	if (dc->ssl != NULL && (events & POLLIN) && SSL_has_pending(dc->ssl))
		return 0;
	r = ctl_poll(s, dc, dc->fd, events, (int)(s->cfg->data_timeout *
	    1000));
	if (r == 0)
		log_warnx("data connection timed out");
	return r == 1 ? 0 : -1;
}

static void
account(struct session *s, size_t n)
{
	if (s->act != NULL)
		atomic_fetch_add(&s->act->xfer_done, n);
}

int
data_write(struct session *s, struct dataconn *dc, const void *buf, size_t n)
{
	const char	*p = buf;
	size_t		 w;
	ssize_t		 r;

	while (n > 0) {
		if (dc->ssl != NULL) {
			/* non-blocking: on WANT_WRITE wait (and watch the
			 * control channel), then retry with the same buffer */
			if (SSL_write_ex(dc->ssl, p, n, &w) != 1) {
				int e = SSL_get_error(dc->ssl, 0);

				if (e != SSL_ERROR_WANT_WRITE &&
				    e != SSL_ERROR_WANT_READ) {
					ERR_clear_error();
					return -1;
				}
				if (data_wait(s, dc, e == SSL_ERROR_WANT_READ ?
				    POLLIN : POLLOUT) == -1)
					return -1;
				continue;
			}
		} else {
			if (data_wait(s, dc, POLLOUT) == -1)
				return -1;
			r = write(dc->fd, p, n);
			if (r == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0)
				return -1;
			w = (size_t)r;
		}
		p += w;
		n -= w;
		account(s, w);
	}
	return 0;
}

/* Why an SSL_read failed: 1 close_notify, 0 try again, -1 error. */
static int
tls_read_end(struct dataconn *dc)
{
	switch (SSL_get_error(dc->ssl, 0)) {
	case SSL_ERROR_ZERO_RETURN:
		return 1;
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* a reset: what was in flight is lost */
		log_warn("data connection");
		ERR_clear_error();
		return -1;
	default:
		ERR_clear_error();
		return -1;
	}
}

/*
 * TLS read: SSL_read gives one record (16 KiB) a call; go on while the
 * read-ahead buffer holds more, so the caller writes, charges and digests
 * big blocks. A failure after some data is kept for the next call.
 * Returns as read(2) does, or -2: nothing yet, wait and try again.
 */
static ssize_t
tls_read(struct session *s, struct dataconn *dc, char *buf, size_t n)
{
	size_t	got, more;
	int	end;

	if (dc->tls_end != 0)
		return dc->tls_end > 0 ? 0 : -1;
	if (SSL_read_ex(dc->ssl, buf, n, &got) != 1) {
		end = tls_read_end(dc);
		return end > 0 ? 0 : end == 0 ? -2 : -1;
	}
	while (got < n && SSL_has_pending(dc->ssl)) {
		if (SSL_read_ex(dc->ssl, buf + got, n - got, &more) != 1) {
			dc->tls_end = tls_read_end(dc);
			break;
		}
		got += more;
	}
	account(s, got);
	return (ssize_t)got;
}

ssize_t
data_read(struct session *s, struct dataconn *dc, void *buf, size_t n)
{
	ssize_t	r;

	for (;;) {
		if (dc->tls_end == 0 && data_wait(s, dc, POLLIN) == -1)
			return -1;
		if (dc->ssl != NULL) {
			if ((r = tls_read(s, dc, buf, n)) == -2)
				continue;
			return r;
		}
		r = read(dc->fd, buf, n);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r > 0)
			account(s, (size_t)r);
		if (r == 0 && dc->relayed)
			return data_relay_done(s, dc, 5000);
		return r;
	}
}

int64_t
data_sendfile(struct session *s, struct dataconn *dc, int fd, uint64_t off,
    uint64_t len)
{
	static char	 buf[MOAT_XFER_BUF];
	uint64_t	 sent = 0;
	off_t		 o = (off_t)off;
	ssize_t		 r;

	while (sent < len) {
		size_t chunk = len - sent > (8u << 20) ? (8u << 20) :
		    (size_t)(len - sent);

		if (dc->ssl != NULL) {
			if (chunk > sizeof(buf))
				chunk = sizeof(buf);
			r = pread(fd, buf, chunk, o);
			if (r == -1)
				return -1;
			if (r == 0)
				break;		/* the file shrank */
			if (data_write(s, dc, buf, (size_t)r) == -1)
				return -1;
			o += r;
			sent += (uint64_t)r;
			continue;
		}
		if (data_wait(s, dc, POLLOUT) == -1)
			return -1;
		r = sendfile(dc->fd, fd, &o, chunk);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;		/* the file shrank */
		sent += (uint64_t)r;
		account(s, (size_t)r);
	}
	return (int64_t)sent;
}

int
data_finish(struct session *s, struct dataconn *dc)
{
	if (!dc->relayed)
		return 0;
	/* our end is done; the relay flushes, sends close_notify, answers */
	if (shutdown(dc->fd, SHUT_WR) == -1)
		return -1;
	return data_relay_done(s, dc, (int)(s->cfg->data_timeout + 5) * 1000);
}

/* Send close_notify on the non-blocking data socket, waiting at most
 * data_timeout for room; a client that reads nothing more gets none. */
static void
tls_close_notify(struct session *s, struct dataconn *dc)
{
	struct pollfd	pfd;

	while (SSL_shutdown(dc->ssl) < 0 &&
	    SSL_get_error(dc->ssl, -1) == SSL_ERROR_WANT_WRITE) {
		pfd.fd = dc->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)(s->cfg->data_timeout * 1000)) != 1)
			break;
	}
	ERR_clear_error();
}

void
data_close(struct session *s, struct dataconn *dc)
{
	/* a relayed transfer that did not end well (ABOR, an error): the
	 * relay drops what it holds and sends no close_notify */
	if (dc->relayed && !dc->finished && dc->fd != -1 &&
	    ipc_send(s->relayfd, MSG_DATA_ABORT, &dc->relay_id,
	    sizeof(dc->relay_id), -1) == -1)
		log_warn("%s: telling the relay", __func__);
	if (dc->ssl != NULL) {
		if (!dc->aborted)
			tls_close_notify(s, dc);
		SSL_free(dc->ssl);
		dc->ssl = NULL;
	}
	if (dc->fd != -1)
		close(dc->fd);
	dc->fd = -1;
	if (dc->aborted) {
		reply(s, 426, "Connection closed; transfer aborted.");
		if (!dc->ctl_gone)	/* the 226 answers a real ABOR only */
			reply(s, 226, "ABOR command successful.");
	}
}
