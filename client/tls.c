/*
 * TLS for the control and data connections: certificate checks against the
 * system store or --cafile, trust on first use with a pin, and data
 * connections that resume the control connection's session.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <bsd/string.h>

#include "client/client.h"

static int	new_session(SSL *, SSL_SESSION *);
static int	handshake(struct ftp *, SSL *);
static int	fingerprint(X509 *, char *, size_t);
static int	check_peer(struct client *);
static void	tls_seterr(struct ftp *, const char *);

static void
tls_seterr(struct ftp *f, const char *what)
{
	char		 buf[256];
	unsigned long	 e = ERR_get_error();

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		ftp_seterr(f, "%s: %s", what, buf);
	} else
		ftp_seterr(f, "%s: %s", what,
		    errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
}

/*
 * Keep the newest session of the control connection (TLS 1.3 tickets
 * arrive after the handshake) as the fallback, and every ticket of the
 * control and data connections in the pool, each to be used once.
 */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct ftp	*f = SSL_get_app_data(ssl);

	if (f == NULL)
		return 0;
	if (f->npool == CL_TICKETS) {
		SSL_SESSION_free(f->pool[0]);
		memmove(f->pool, f->pool + 1, sizeof(f->pool[0]) *
		    (CL_TICKETS - 1));
		f->npool--;
	}
	f->pool[f->npool++] = sess;
	if (ssl == f->ssl) {
		if (f->sess != NULL)
			SSL_SESSION_free(f->sess);
		SSL_SESSION_up_ref(sess);
		f->sess = sess;
	}
	return 1;
}

int
tls_init(struct client *c)
{
	struct ftp	*f = &c->f;

	if ((f->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_seterr(f, "SSL_CTX_new");
		return -1;
	}
	SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(f->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(f->ctx,
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(f->ctx, new_session);
	if (c->o.cafile != NULL) {
		if (SSL_CTX_load_verify_locations(f->ctx, c->o.cafile,
		    NULL) != 1) {
			tls_seterr(f, c->o.cafile);
			return -1;
		}
	} else if (SSL_CTX_set_default_verify_paths(f->ctx) != 1) {
		tls_seterr(f, "system certificate store");
		return -1;
	}
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

/*
 * After SSL_ERROR_WANT_READ/WRITE on a blocking socket: 1 to try again (a
 * signal other than Ctrl-C broke the call), 0 to give up, with errno EINTR
 * (Ctrl-C) or ETIMEDOUT (SO_RCVTIMEO/SO_SNDTIMEO ran out).
 */
static int
want_retry(void)
{
	if (cl_interrupted) {
		errno = EINTR;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		errno = ETIMEDOUT;
		return 0;
	}
	return 1;
}

static int
handshake(struct ftp *f, SSL *ssl)
{
	int	rv, e;

	for (;;) {
		errno = 0;
		if ((rv = SSL_connect(ssl)) == 1)
			return 0;
		e = SSL_get_error(ssl, rv);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (want_retry())
				continue;
			ftp_seterr(f, "TLS handshake: %s", errno == EINTR ?
			    "interrupted" : strerror(errno));
			return -1;
		}
		tls_seterr(f, "TLS handshake");
		return -1;
	}
}

static int
fingerprint(X509 *cert, char *hex, size_t len)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen, i;

	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    len < mdlen * 2 + 1)
		return -1;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	return 0;
}

/* Trusted by the store, or pinned, or pinned now on the user's "yes". */
static int
check_peer(struct client *c)
{
	struct ftp	*f = &c->f;
	char		 hostport[CL_HOST_MAX + 8], fp[EVP_MAX_MD_SIZE * 2 + 1];
	char		 pin[EVP_MAX_MD_SIZE * 2 + 1];
	long		 vr;
	int		 rv;

	if ((f->cert = SSL_get1_peer_certificate(f->ssl)) == NULL) {
		ftp_seterr(f, "server sent no certificate");
		return -1;
	}
	if ((vr = SSL_get_verify_result(f->ssl)) == X509_V_OK)
		return 0;
	if (fingerprint(f->cert, fp, sizeof(fp)) == -1) {
		ftp_seterr(f, "cannot compute the certificate fingerprint");
		return -1;
	}
	if ((size_t)snprintf(hostport, sizeof(hostport), "%s:%s", c->o.host,
	    c->o.port) >= sizeof(hostport)) {
		ftp_seterr(f, "host name too long");
		return -1;
	}
	if ((rv = pin_lookup(hostport, pin, sizeof(pin))) == -1) {
		ftp_seterr(f, "cannot read known_hosts");
		return -1;
	}
	if (rv == 0) {
		if (strcmp(pin, fp) == 0)
			return 0;
		fprintf(stderr,
		    "@@@ WARNING: THE CERTIFICATE OF %s HAS CHANGED! @@@\n"
		    "pinned  SHA-256 %s\npresented SHA-256 %s\n"
		    "Someone may be intercepting the connection. If the "
		    "change is expected, remove the line for %s from "
		    "~/.config/moatftp/known_hosts.\n", hostport, pin, fp,
		    hostport);
		ftp_seterr(f, "certificate of %s changed: refused", hostport);
		return -1;
	}
	if (!c->interactive) {
		ftp_seterr(f, "untrusted certificate for %s (%s), SHA-256 %s: "
		    "use --cafile, or connect interactively once to pin it",
		    hostport, X509_verify_cert_error_string(vr), fp);
		return -1;
	}
	fprintf(stderr, "The certificate of %s is not trusted: %s\n"
	    "SHA-256 fingerprint: %s\n", hostport,
	    X509_verify_cert_error_string(vr), fp);
	if (!ask_yes("Trust it and remember it (yes/no)? ")) {
		ftp_seterr(f, "certificate of %s not accepted", hostport);
		return -1;
	}
	if (pin_add(hostport, fp) == -1) {
		ftp_seterr(f, "cannot write known_hosts: %s", strerror(errno));
		return -1;
	}
	fprintf(stderr, "pinned %s in ~/.config/moatftp/known_hosts\n",
	    hostport);
	return 0;
}

int
tls_start_control(struct client *c)
{
	struct ftp	*f = &c->f;

	if (f->ctx == NULL && tls_init(c) == -1)
		return -1;
	if ((f->ssl = SSL_new(f->ctx)) == NULL) {
		tls_seterr(f, "SSL_new");
		return -1;
	}
	SSL_set_app_data(f->ssl, f);
	if (SSL_set_fd(f->ssl, f->fd) != 1 ||
	    SSL_set_tlsext_host_name(f->ssl, c->o.host) != 1 ||
	    SSL_set1_host(f->ssl, c->o.host) != 1) {
		tls_seterr(f, "TLS setup");
		return -1;
	}
	if (handshake(f, f->ssl) == -1)
		return -1;
	return check_peer(c);
}

int
tls_start_data(struct client *c, struct data *d)
{
	struct ftp	*f = &c->f;
	SSL_SESSION	*sess;
	X509		*cert;
	int		 same, rv;

	if ((d->ssl = SSL_new(f->ctx)) == NULL) {
		tls_seterr(f, "SSL_new");
		return -1;
	}
	if (SSL_set_fd(d->ssl, d->fd) != 1 ||
	    SSL_set_tlsext_host_name(d->ssl, c->o.host) != 1) {
		tls_seterr(f, "TLS setup");
		return -1;
	}
	if (f->sess == NULL && (f->sess = SSL_get1_session(f->ssl)) == NULL) {
		ftp_seterr(f, "no TLS session to resume");
		return -1;
	}
	/* The newest unused ticket that can still resume, else the newest
	 * control session (servers with stateless tickets take it again). */
	sess = NULL;
	while (f->npool > 0) {
		sess = f->pool[--f->npool];	/* the pool's reference, ours */
		if (SSL_SESSION_is_resumable(sess))
			break;
		SSL_SESSION_free(sess);
		sess = NULL;
	}
	if (sess == NULL) {
		sess = f->sess;
		SSL_SESSION_up_ref(sess);
	}
	rv = SSL_set_session(d->ssl, sess);	/* takes its own reference */
	SSL_SESSION_free(sess);
	if (rv != 1) {
		tls_seterr(f, "SSL_set_session");
		return -1;
	}
	SSL_set_app_data(d->ssl, f);
	if (handshake(f, d->ssl) == -1)
		return -1;
	/* The data peer must be the control peer. */
	if ((cert = SSL_get1_peer_certificate(d->ssl)) == NULL) {
		ftp_seterr(f, "data connection: no certificate");
		return -1;
	}
	same = X509_cmp(cert, f->cert) == 0;
	X509_free(cert);
	if (!same) {
		ftp_seterr(f, "data connection: another certificate");
		return -1;
	}
	if (f->verbose)
		fprintf(stderr, "-- data TLS %s, session %s\n",
		    SSL_get_version(d->ssl),
		    SSL_session_reused(d->ssl) ? "resumed" : "NEW");
	return 0;
}

/* > 0 bytes, 0 at the end, -1 on error. */
ssize_t
tls_read(SSL *ssl, void *buf, size_t len)
{
	int	n, e;

	for (;;) {
		errno = 0;
		if ((n = SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX :
		    (int)len)) > 0)
			return n;
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (want_retry())
				continue;
			return -1;
		}
		if (e == SSL_ERROR_SYSCALL && errno == 0)
			return 0;
		ERR_clear_error();
		if (errno == 0)
			errno = EPROTO;
		return -1;
	}
}

int
tls_write(SSL *ssl, const void *buf, size_t len)
{
	const char	*p = buf;
	int		 n, e;

	while (len > 0) {
		errno = 0;
		n = SSL_write(ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (want_retry())
				continue;
			return -1;
		}
		ERR_clear_error();
		if (errno == 0)
			errno = cl_interrupted ? EINTR : EPIPE;
		return -1;
	}
	return 0;
}

void
tls_close_data(struct data *d)
{
	struct timeval	tv = { 2, 0 };
	char		buf[4096];
	int		i;

	if (SSL_shutdown(d->ssl) < 0) {
		ERR_clear_error();
		return;
	}
	(void)setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < 16 && SSL_read(d->ssl, buf, sizeof(buf)) > 0; i++)
		;
	ERR_clear_error();
}

const char *
tls_version(struct ftp *f)
{
	return f->ssl != NULL ? SSL_get_version(f->ssl) : "off";
}

void
tls_free(struct ftp *f)
{
	if (f->ssl != NULL) {
		SSL_shutdown(f->ssl);
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->sess != NULL) {
		SSL_SESSION_free(f->sess);
		f->sess = NULL;
	}
	while (f->npool > 0)
		SSL_SESSION_free(f->pool[--f->npool]);
	if (f->cert != NULL) {
		X509_free(f->cert);
		f->cert = NULL;
	}
	if (f->ctx != NULL) {
		SSL_CTX_free(f->ctx);
		f->ctx = NULL;
	}
}
