/* TLS contexts for the control channel (jail) and the data channel. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shared/tls.h"

static const unsigned char sid_ctx[] = "moatftpd";

#define TLS13_SUITES	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
			"TLS_CHACHA20_POLY1305_SHA256"

static ssize_t	tls_rd(void *, void *, size_t);
static ssize_t	tls_wr(void *, const void *, size_t);
static int	tls_pending(void *);

const struct ftpio_ops tls_ftpio_ops = { tls_rd, tls_wr, tls_pending };

const char *
tls_errstr(void)
{
	static char	buf[256];
	unsigned long	e = ERR_get_error();

	if (e == 0)
		return "no OpenSSL error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

int
tls_ticket_keys_new(unsigned char *keys)
{
	return RAND_bytes(keys, TLS_TICKET_KEYS_LEN) == 1 ? 0 : -1;
}

int
tls_set_ticket_keys(SSL_CTX *ctx, const unsigned char *keys)
{
	return SSL_CTX_ctrl(ctx, SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
	    TLS_TICKET_KEYS_LEN, (void *)(uintptr_t)keys) == 1 ? 0 : -1;
}

static SSL_CTX *
ctx_common(const struct config *c, const unsigned char *keys, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto fail;
	if (c->tls_ciphers[0] != '\0' &&
	    !SSL_CTX_set_cipher_list(ctx, c->tls_ciphers)) {
		(void)snprintf(err, errlen, "tls_ciphers \"%s\": %s",
		    c->tls_ciphers, tls_errstr());
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* TLS 1.3: AES-128-GCM first, the fastest AEAD on AES-NI machines;
	 * PRIORITIZE_CHACHA serves ChaCha20 to clients that ask for it first
	 * (those without AES instructions do) */
	if (!SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES))
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1))
		goto fail;
	/* tickets only: a data connection in another process must resume */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (tls_set_ticket_keys(ctx, keys) == -1)
		goto fail;
	return ctx;
fail:
	(void)snprintf(err, errlen, "TLS context: %s", tls_errstr());
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_ctx(const struct config *c, const unsigned char *keys, char *err,
    size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = ctx_common(c, keys, err, errlen)) == NULL)
		return NULL;
	/* a session ID for clients that take no ticket (TLS 1.2): the
	 * session resumes it once the jail has handed it over */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	(void)SSL_CTX_sess_set_cache_size(ctx, 16);	/* one connection */
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		(void)snprintf(err, errlen, "%s: %s", c->tls_cert, tls_errstr());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM)
	    != 1) {
		/* OpenSSL finds a key of another certificate as it loads */
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			goto mismatch;
		}
		(void)snprintf(err, errlen, "%s: %s", c->tls_key, tls_errstr());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto mismatch;
	return ctx;
mismatch:
	(void)snprintf(err, errlen, "%s does not match %s", c->tls_key,
	    c->tls_cert);
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_data_ctx(const struct config *c, const unsigned char *keys, char *err,
    size_t errlen)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*pk = NULL;
	X509		*x = NULL;

	if ((ctx = ctx_common(c, keys, err, errlen)) == NULL)
		return NULL;
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, 1 << 18);
	/* A throwaway key: OpenSSL 3.0 needs one to resume under TLS 1.3. */
	if ((pk = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		goto fail;
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"moatftpd-data", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, pk) || !X509_sign(x, pk, EVP_sha256()))
		goto fail;
	if (SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1)
		goto fail;
	/*
	 * No TLS 1.3 tickets on data connections: a client that uploads and
	 * closes without reading them makes its kernel send a reset, and the
	 * reset throws away data we have not read yet.
	 */
	if (SSL_CTX_set_num_tickets(ctx, 0) != 1)
		goto fail;
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
fail:
	(void)snprintf(err, errlen, "TLS data context: %s", tls_errstr());
	X509_free(x);
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	return NULL;
}

/* This process's token (one connection per process). */
static unsigned char	tls_token[TLS_TOKEN_LEN];

static int
stamp_cb(SSL *ssl, void *arg)
{
	SSL_SESSION	*sess = SSL_get_session(ssl);

	(void)arg;
	return sess != NULL && SSL_SESSION_set1_ticket_appdata(sess, tls_token,
	    sizeof(tls_token)) == 1;
}

static SSL_TICKET_RETURN
token_cb(SSL *ssl, SSL_SESSION *sess, const unsigned char *name,
    size_t namelen, SSL_TICKET_STATUS status, void *arg)
{
	void	*data = NULL;
	size_t	 len = 0;

	(void)ssl;
	(void)name;
	(void)namelen;
	(void)arg;
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		if (SSL_SESSION_get0_ticket_appdata(sess, &data, &len) != 1 ||
		    len != sizeof(tls_token) ||
		    CRYPTO_memcmp(data, tls_token, len) != 0)
			return SSL_TICKET_RETURN_IGNORE;  /* not our control */
		return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE :
		    SSL_TICKET_RETURN_USE_RENEW;
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
}

int
tls_stamp_tickets(SSL_CTX *ctx, const unsigned char *token)
{
	memcpy(tls_token, token, sizeof(tls_token));
	return SSL_CTX_set_session_ticket_cb(ctx, stamp_cb, NULL, NULL) == 1 ?
	    0 : -1;
}

int
tls_require_token(SSL_CTX *ctx, const unsigned char *token)
{
	memcpy(tls_token, token, sizeof(tls_token));
	return SSL_CTX_set_session_ticket_cb(ctx, NULL, token_cb, NULL) == 1 ?
	    0 : -1;
}

int
tls_export_session(SSL *ssl, unsigned char *buf, size_t len)
{
	SSL_SESSION	*sess;
	unsigned char	*p = buf;
	unsigned int	 idlen = 0;
	int		 n;

	if (SSL_version(ssl) >= TLS1_3_VERSION ||
	    (sess = SSL_get1_session(ssl)) == NULL)
		return 0;
	(void)SSL_SESSION_get_id(sess, &idlen);
	if (idlen == 0) {
		SSL_SESSION_free(sess);
		return 0;
	}
	n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || (size_t)n > len || i2d_SSL_SESSION(sess, &p) != n) {
		SSL_SESSION_free(sess);
		return -1;
	}
	SSL_SESSION_free(sess);
	return n;
}

int
tls_import_session(SSL_CTX *ctx, const unsigned char *buf, size_t len)
{
	SSL_SESSION		*sess;
	const unsigned char	*p = buf;

	if (len > LONG_MAX ||
	    (sess = d2i_SSL_SESSION(NULL, &p, (long)len)) == NULL)
		return -1;
	if (p != buf + len) {
		SSL_SESSION_free(sess);
		return -1;
	}
	/* look sessions up, store none but this one */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	if (SSL_CTX_add_session(ctx, sess) != 1) {
		SSL_SESSION_free(sess);
		return -1;
	}
	SSL_SESSION_free(sess);		/* the cache holds its own */
	return 0;
}

static ssize_t
tls_rd(void *ctx, void *buf, size_t n)
{
	SSL	*ssl = ctx;
	size_t	 got = 0;

	if (SSL_read_ex(ssl, buf, n, &got) == 1)
		return (ssize_t)got;
	switch (SSL_get_error(ssl, 0)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
tls_wr(void *ctx, const void *buf, size_t n)
{
	SSL	*ssl = ctx;
	size_t	 put = 0;

	if (SSL_write_ex(ssl, buf, n, &put) == 1)
		return (ssize_t)put;
	ERR_clear_error();
	errno = EPIPE;
	return -1;
}

static int
tls_pending(void *ctx)
{
	return SSL_pending((SSL *)ctx);
}
