/*
 * The FTP control connection (connect, TLS, login, FEAT, commands and
 * replies) and the data connections (EPSV/PASV or EPRT/PORT, REST, TLS).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"
#include "shared/clock.h"
#include "shared/log.h"

#define CMD_BUF	(MOAT_CMD_MAX + MOAT_PATH_MAX)

static int	 vsend(struct ftp *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static int	 ctl_write(struct ftp *, const char *, size_t);
static ssize_t	 ctl_read(struct ftp *, void *, size_t);
static void	 set_timeouts(int);
static int	 tcp_connect(struct ftp *, const char *, const char *);
static int	 login(struct client *, const char *);
static void	 feat(struct ftp *);
static int	 data_passive(struct client *, struct data *);
static int	 data_active(struct client *, int *);
static int	 data_accept(struct ftp *, int, struct data *);

static const struct {
	const char	*name;
	unsigned int	 bit;
} feats[] = {
	{ "MLSD", FEAT_MLSD }, { "MLST", FEAT_MLSD | FEAT_MLST },
	{ "SIZE", FEAT_SIZE },
	{ "REST", FEAT_REST }, { "EPSV", FEAT_EPSV }, { "HASH", FEAT_HASH },
	{ "XMD5", FEAT_XMD5 }, { "XSHA256", FEAT_XSHA256 },
	{ "UTF8", FEAT_UTF8 },
};

void
ftp_seterr(struct ftp *f, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

void
ftp_seterr_reply(struct ftp *f)
{
	char	vis[sizeof(f->err)];

	(void)log_vis(vis, sizeof(vis), f->reply->last);
	ftp_seterr(f, "server: %d %s", f->reply->code, vis);
}

static void
set_timeouts(int fd)
{
	struct timeval	tv = { CL_TIMEOUT, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* How long a reply on the control connection may take: 0 or -1. */
int
ftp_reply_timeout(struct ftp *f, time_t secs)
{
	struct timeval	tv = { secs, 0 };

	if (setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
	    -1) {
		ftp_seterr(f, "control connection: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
tcp_connect(struct ftp *f, const char *host, const char *port)
{
	struct addrinfo	 hints, *res, *ai;
	int		 e, fd = -1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		ftp_seterr(f, "%s: %s", host, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		set_timeouts(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		ftp_seterr(f, "connect to %s port %s: %s", host, port,
		    strerror(saved));
		return -1;
	}
	f->fd = fd;
	f->peerlen = sizeof(f->peer);
	f->locallen = sizeof(f->local);
	if (getpeername(fd, (struct sockaddr *)&f->peer, &f->peerlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&f->local, &f->locallen) == -1) {
		ftp_seterr(f, "getpeername: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
ctl_write(struct ftp *f, const char *buf, size_t len)
{
	ssize_t	n;

	if (f->ssl != NULL) {
		if (tls_write(f->ssl, buf, len) == -1) {
			ftp_seterr(f, "control connection: %s",
			    strerror(errno));
			f->dead = 1;
			return -1;
		}
		return 0;
	}
	while (len > 0) {
		if ((n = write(f->fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			ftp_seterr(f, "control connection: %s",
			    strerror(errno));
			f->dead = 1;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A Ctrl-C that breaks the wait stops it once f->intr_max came: the reply
 * still owed would put the connection out of step, so it is closed. Until
 * then the wait goes on, and says how to end it.
 */
static ssize_t
ctl_read(struct ftp *f, void *buf, size_t len)
{
	ssize_t	n;

	for (;;) {
		if (f->ssl != NULL)
			n = tls_read(f->ssl, buf, len);
		else
			n = read(f->fd, buf, len);
		if (n != -1 || errno != EINTR)
			return n;
		if (cl_interrupted >= f->intr_max)
			return -1;
		if (cl_interrupted)
			fprintf(stderr, "moatftp: waiting for the server's "
			    "reply (Ctrl-C again to close the connection)\n");
	}
}

static int
vsend(struct ftp *f, const char *fmt, va_list ap)
{
	char	buf[CMD_BUF];
	int	n;

	if (f->dead) {
		ftp_seterr(f, "not connected");
		return -1;
	}
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2) {
		ftp_seterr(f, "command too long");
		return -1;
	}
	if (strpbrk(buf, "\r\n") != NULL) {
		ftp_seterr(f, "name contains a line break: refused");
		return -1;
	}
	if (f->verbose) {
		if (strncasecmp(buf, "PASS ", 5) == 0)
			fprintf(stderr, "-> PASS ****\n");
		else
			fprintf(stderr, "-> %s\n", buf);
	}
	memcpy(buf + n, "\r\n", 2);
	return ctl_write(f, buf, (size_t)n + 2);
}

int
ftp_send(struct ftp *f, const char *fmt, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, fmt);
	rv = vsend(f, fmt, ap);
	va_end(ap);
	return rv;
}

/* Read one complete reply; its code, or -1. */
int
ftp_getreply(struct ftp *f)
{
	char	*nl, vis[FTP_LINE_MAX * 4 + 1];
	size_t	 n;
	ssize_t	 got;
	int	 rv;

	ftpreply_init(&f->rp);
	f->reply = &f->rp.r;
	for (;;) {
		nl = memchr(f->rbuf, '\n', f->rlen);
		if (nl == NULL) {
			if (f->rlen == sizeof(f->rbuf)) {
				ftp_seterr(f, "reply line too long");
				return -1;
			}
			got = ctl_read(f, f->rbuf + f->rlen,
			    sizeof(f->rbuf) - f->rlen);
			if (got <= 0) {
				ftp_seterr(f, "control connection %s",
				    got == 0 ? "closed by the server" :
				    errno == EINTR ? "closed: interrupted while "
				    "waiting for the server" : strerror(errno));
				f->dead = 1;
				return -1;
			}
			f->rlen += (size_t)got;
			continue;
		}
		n = (size_t)(nl - f->rbuf) + 1;
		if (f->verbose) {
			char	raw[FTP_LINE_MAX];

			memcpy(raw, f->rbuf, n);
			raw[n - 1] = '\0';
			raw[strcspn(raw, "\r")] = '\0';
			fprintf(stderr, "<- %s\n", log_vis(vis, sizeof(vis), raw));
		}
		rv = ftpreply_feed(&f->rp, f->rbuf, n);
		memmove(f->rbuf, f->rbuf + n, f->rlen - n);
		f->rlen -= n;
		if (rv == -1) {
			ftp_seterr(f, "malformed reply from the server");
			return -1;
		}
		if (rv == 1)
			return f->reply->code;
	}
}

int
ftp_cmd(struct ftp *f, const char *fmt, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, fmt);
	rv = vsend(f, fmt, ap);
	va_end(ap);
	if (rv == -1)
		return -1;
	return ftp_getreply(f);
}

static void
feat(struct ftp *f)
{
	char	*line, *save, buf[FTP_TEXT_MAX];
	size_t	 i, l;

	if (ftp_cmd(f, "FEAT") != 211)
		return;
	strlcpy(buf, f->reply->text, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ')
			line++;
		for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
			l = strlen(feats[i].name);
			if (strncasecmp(line, feats[i].name, l) == 0 &&
			    (line[l] == '\0' || line[l] == ' ' ||
			    line[l] == '\r'))
				f->feat |= feats[i].bit;
		}
	}
}

static int
login(struct client *c, const char *pass)
{
	struct ftp	*f = &c->f;
	int		 code;

	code = ftp_cmd(f, "USER %s", c->o.user);
	if (code == 331)
		code = ftp_cmd(f, "PASS %s", pass);
	if (code == -1)
		return -1;
	if (code != 230 && code != 202) {
		ftp_seterr_reply(f);
		strlcat(f->err, " (login failed)", sizeof(f->err));
		return -1;
	}
	return 0;
}

/* The remote directory into c->cwd, "?" (and f.err) if the reply is bad,
 * or names a path with control bytes. */
int
ftp_pwd(struct client *c)
{
	int	code;

	if ((code = ftp_cmd(&c->f, "PWD")) != 257 ||
	    ftpreply_pwd(c->f.reply->last, c->cwd, sizeof(c->cwd)) == -1) {
		if (code != -1)
			ftp_seterr_reply(&c->f);
		strlcpy(c->cwd, "?", sizeof(c->cwd));
		return -1;
	}
	return 0;
}

int
ftp_open(struct client *c, const char *pass)
{
	struct ftp	*f = &c->f;
	int		 code;

	f->verbose = c->o.verbose;
	f->passive = c->o.passive;
	f->hash_algo = -1;
	if (tcp_connect(f, c->o.host, c->o.port) == -1)
		return -1;
	while ((code = ftp_getreply(f)) >= 100 && code < 200)
		;
	if (code != 220) {
		if (code != -1)
			ftp_seterr_reply(f);
		return -1;
	}
	(void)log_vis(f->banner, sizeof(f->banner), f->reply->first);
	if (c->o.tls != TLS_OFF) {
		if ((code = ftp_cmd(f, "AUTH TLS")) == -1)
			return -1;
		if (code == 234) {
			if (tls_start_control(c) == -1)
				return -1;
		} else if (c->o.tls == TLS_REQUIRE) {
			ftp_seterr_reply(f);
			strlcat(f->err, " (server refuses TLS; --tls=auto or "
			    "off to go on without it)", sizeof(f->err));
			return -1;
		} else if (!c->o.quiet)
			fprintf(stderr, "moatftp: warning: server has no TLS, "
			    "password and data go in clear\n");
	}
	if (login(c, pass) == -1)
		return -1;
	if (f->ssl != NULL && (ftp_cmd(f, "PBSZ 0") != 200 ||
	    ftp_cmd(f, "PROT P") != 200)) {
		ftp_seterr_reply(f);
		return -1;
	}
	feat(f);
	if (f->feat & FEAT_UTF8)
		(void)ftp_cmd(f, "OPTS UTF8 ON");
	if (ftp_cmd(f, "TYPE I") != 200) {
		ftp_seterr_reply(f);
		return -1;
	}
	(void)ftp_pwd(c);
	strlcpy(c->home, c->cwd, sizeof(c->home));
	c->connected = 1;
	return 0;
}

void
ftp_close(struct client *c)
{
	struct ftp	*f = &c->f;

	if (c->connected) {
		int v = f->verbose;

		f->verbose = 0;
		(void)ftp_cmd(f, "QUIT");
		f->verbose = v;
	}
	tls_free(f);
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	c->connected = 0;
}

/* EPSV, or PASV if the server lacks it; connect to the control peer. */
static int
data_passive(struct client *c, struct data *d)
{
	struct ftp		*f = &c->f;
	struct sockaddr_storage	 ss;
	uint8_t			 a4[4];
	uint16_t		 port = 0;
	int			 code;

	if (!f->epsv_failed) {
		if ((code = ftp_cmd(f, "EPSV")) == -1)
			return -1;
		if (code == 229 && ftpreply_epsv(f->reply->last, &port) == 0)
			goto connect;
		if (code != 229)
			f->epsv_failed = 1;
	}
	if (f->peer.ss_family != AF_INET) {
		ftp_seterr(f, "server has no EPSV on IPv6");
		return -1;
	}
	if ((code = ftp_cmd(f, "PASV")) == -1)
		return -1;
	if (code != 227 || ftpreply_pasv(f->reply->last, a4, &port) == -1) {
		ftp_seterr_reply(f);
		return -1;
	}
 connect:
	/* Always the control peer's address: no third party, no NAT games. */
	memcpy(&ss, &f->peer, f->peerlen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	if ((d->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1) {
		ftp_seterr(f, "socket: %s", strerror(errno));
		return -1;
	}
	set_timeouts(d->fd);
	if (connect(d->fd, (struct sockaddr *)&ss, f->peerlen) == -1) {
		ftp_seterr(f, "data connection: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Listen on the control connection's local address; EPRT, else PORT. */
static int
data_active(struct client *c, int *lfd)
{
	struct ftp		*f = &c->f;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = f->locallen;
	char			 host[INET6_ADDRSTRLEN];
	unsigned int		 port;
	const uint8_t		*a;
	int			 code;

	memcpy(&ss, &f->local, f->locallen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((*lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(*lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(*lfd, 1) == -1 ||
	    getsockname(*lfd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0) {
		ftp_seterr(f, "active mode listener: %s", strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		code = ftp_cmd(f, "EPRT |1|%s|%u|", host, port);
		if (code >= 500)
			code = ftp_cmd(f, "PORT %u,%u,%u,%u,%u,%u", a[0], a[1],
			    a[2], a[3], port >> 8, port & 0xff);
	} else {
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		code = ftp_cmd(f, "EPRT |2|%s|%u|", host, port);
	}
	if (code == -1)
		return -1;
	if (code != 200) {
		ftp_seterr_reply(f);
		return -1;
	}
	return 0;
}

/* The same IP address (ports and the v4-mapped form aside). */
static int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const unsigned char	*pa, *pb;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	pa = a->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr :
	    (const unsigned char *)&((const struct sockaddr_in *)
	    (const void *)a)->sin_addr;
	pb = b->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)(const void *)b)->sin6_addr.s6_addr :
	    (const unsigned char *)&((const struct sockaddr_in *)
	    (const void *)b)->sin_addr;
	if (a->ss_family == b->ss_family)
		return memcmp(pa, pb, a->ss_family == AF_INET6 ? 16 : 4) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(pa, mapped, 12) == 0 && memcmp(pa + 12, pb, 4) == 0;
	return memcmp(pb, mapped, 12) == 0 && memcmp(pb + 12, pa, 4) == 0;
}

/* Active mode: take the server's connection; anyone else who reaches the
 * port first is turned away, not handed our data. */
static int
data_accept(struct ftp *f, int lfd, struct data *d)
{
	struct pollfd		pfd = { lfd, POLLIN, 0 };
	struct sockaddr_storage	ss;
	socklen_t		len;
	long			end = mono_ms() + CL_TIMEOUT * 1000L;
	int			n;

	for (;;) {
		long left = end - mono_ms();

		if (left <= 0 || cl_interrupted ||
		    ((n = poll(&pfd, 1, (int)left)) == -1 && errno != EINTR) ||
		    n == 0) {
			ftp_seterr(f, "server did not connect back (active "
			    "mode)");
			return -1;
		}
		if (n == -1)
			continue;
		len = sizeof(ss);
		if ((d->fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC)) == -1) {
			ftp_seterr(f, "accept: %s", strerror(errno));
			return -1;
		}
		if (same_host(&ss, &f->peer))
			break;
		close(d->fd);		/* a stranger */
		d->fd = -1;
	}
	set_timeouts(d->fd);
	return 0;
}

int
ftp_data_open(struct client *c, struct data *d, uint64_t offset,
    const char *fmt, ...)
{
	struct ftp	*f = &c->f;
	va_list		 ap;
	int		 lfd = -1, code, rv, rest_refused = 0;

	d->fd = -1;
	d->ssl = NULL;
	d->eof = 0;
	if (f->passive ? data_passive(c, d) : data_active(c, &lfd))
		goto fail;
	if (offset > 0) {
		if ((code = ftp_cmd(f, "REST %llu",
		    (unsigned long long)offset)) != 350) {
			if (code != -1) {
				ftp_seterr_reply(f);
				/* refused for good (not understood, not
				 * offered); a 4xx is an error, not a refusal */
				rest_refused = code == 500 || code == 501 ||
				    code == 502 || code == 504;
			}
			goto fail;
		}
	}
	va_start(ap, fmt);
	rv = vsend(f, fmt, ap);
	va_end(ap);
	if (rv == -1 || (code = ftp_getreply(f)) == -1)
		goto fail;
	if (code < 100 || code >= 200) {
		ftp_seterr_reply(f);
		goto fail;
	}
	if (lfd != -1) {
		if (data_accept(f, lfd, d) == -1)
			goto abort;
		close(lfd);
		lfd = -1;
	}
	if (f->ssl != NULL && tls_start_data(c, d) == -1)
		goto abort;
	return 0;
 abort:
	{
		char	saved[sizeof(f->err)];

		strlcpy(saved, f->err, sizeof(saved));
		(void)data_close(f, d, 1);
		strlcpy(f->err, saved, sizeof(f->err));
	}
	if (lfd != -1)
		close(lfd);
	return -1;
 fail:
	if (lfd != -1)
		close(lfd);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	return rest_refused ? -2 : -1;
}

ssize_t
data_read(struct data *d, void *buf, size_t len)
{
	ssize_t	n;

	if (d->ssl != NULL)
		return tls_read(d->ssl, buf, len);
	for (;;) {
		if ((n = read(d->fd, buf, len)) == -1 && errno == EINTR &&
		    !cl_interrupted)
			continue;
		return n;
	}
}

int
data_write(struct data *d, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	if (d->ssl != NULL)
		return tls_write(d->ssl, buf, len);
	while (len > 0) {
		if ((n = write(d->fd, p, len)) == -1) {
			if (errno == EINTR && !cl_interrupted)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
data_close(struct ftp *f, struct data *d, int abort)
{
	int	code, i;

	if (d->ssl != NULL) {
		if (!abort)
			tls_close_data(d);
		else	/* keep its tickets resumable */
			SSL_set_shutdown(d->ssl, SSL_SENT_SHUTDOWN |
			    SSL_RECEIVED_SHUTDOWN);
		SSL_free(d->ssl);
		d->ssl = NULL;
	}
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	if (abort) {
		/* ABOR, then NOOP to find our place again in the replies. */
		if (ftp_send(f, "ABOR") == -1 || ftp_send(f, "NOOP") == -1)
			return -1;
		for (i = 0; i < 6; i++)
			if ((code = ftp_getreply(f)) == -1 || code == 200)
				break;
		return -1;
	}
	while ((code = ftp_getreply(f)) >= 100 && code < 200)
		;
	if (code == -1)
		return -1;
	if (code < 200 || code >= 300) {
		ftp_seterr_reply(f);
		return -1;
	}
	return 0;
}

/* dir + "/" + name, no doubled slash. */
int
rpath_join(char *out, size_t len, const char *dir, const char *name)
{
	size_t	dl = strlen(dir);
	int	n;

	if (name[0] == '/' || dl == 0)
		n = snprintf(out, len, "%s", name);
	else
		n = snprintf(out, len, "%s%s%s", dir,
		    dir[dl - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Last component, ignoring trailing slashes ("a/b/" -> "b/"). */
const char *
path_base(const char *p)
{
	const char	*s, *last = p;

	for (s = p; *s != '\0'; s++)
		if (*s == '/' && s[1] != '\0' && s[1] != '/')
			last = s + 1;
	return last;
}
