/*
 * Server-side TLS (OpenSSL): the jail's context, which holds the real key,
 * and the session's data context, which only resumes tickets made by the
 * jail (same ticket keys, same session id context) and holds a throwaway key.
 */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/ftpio.h"

#define TLS_TICKET_KEYS_LEN	80

/* Random ticket keys (name, HMAC and AES secrets). 0 or -1. */
int	tls_ticket_keys_new(unsigned char *keys);
/* Encrypt and open tickets with these keys from now on. 0 or -1. */
int	tls_set_ticket_keys(SSL_CTX *ctx, const unsigned char *keys);
/* Context with the configured certificate and key. NULL with err set. */
SSL_CTX	*tls_server_ctx(const struct config *c, const unsigned char *keys,
	    char *err, size_t errlen);
/* Context for data connections: throwaway key, resumption only. */
SSL_CTX	*tls_data_ctx(const struct config *c, const unsigned char *keys,
	    char *err, size_t errlen);
#define TLS_TOKEN_LEN	16

/*
 * Tie data connections to their own control session: the jail stamps a
 * random per-connection token into every ticket it issues; the session's
 * data context resumes only tickets that carry its token, so a ticket from
 * another user's control connection is never accepted. 0 or -1.
 */
int	tls_stamp_tickets(SSL_CTX *ctx, const unsigned char *token);
int	tls_require_token(SSL_CTX *ctx, const unsigned char *token);

/*
 * A TLS 1.2 client that takes no tickets (curl sets SSL_OP_NO_TICKET)
 * resumes by session ID, which needs the session in the resuming process:
 * the jail exports its control session (0: none to export, i.e. TLS 1.3
 * or no session ID; -1: error), the session imports it into its data
 * context, whose cache then holds that one session only (0 or -1).
 */
int	tls_export_session(SSL *ssl, unsigned char *buf, size_t len);
int	tls_import_session(SSL_CTX *ctx, const unsigned char *buf, size_t len);
/* ftpio transport over an SSL * (ctx). */
extern const struct ftpio_ops tls_ftpio_ops;
/* Last OpenSSL error as text, for logs. */
const char *tls_errstr(void);

#endif
