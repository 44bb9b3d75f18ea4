/*
 * moatftpd.conf: libconfig syntax, every key with a compiled-in default and
 * a range. One struct, filled once; a table in config.c names every key.
 */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

#include <sys/socket.h>
#include <stdio.h>

#include "shared/limits.h"
#include "shared/netprefix.h"

#define MOAT_DEFAULT_CONF	"/etc/moatftpd/moatftpd.conf"
/* TLS 1.2: forward-secret AEAD only, AES-128-GCM first (Mozilla's
 * "intermediate" list); TLS 1.3 suites are fixed in shared/tls.c */
#define TLS12_CIPHERS_DEFAULT \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" \
	"DHE-RSA-CHACHA20-POLY1305"

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as written: "127.0.0.1:21" */
};

struct config {
	char			path[4096];	/* file it came from, "" = defaults */

	struct listen_addr	listen[MOAT_LISTEN_MAX];
	int			nlisten;
	char			user_db[4096];
	char			home_root[4096];
	long			uid_min;
	long			uid_max;
	char			jail_dir[4096];
	char			jail_user[64];
	long			pasv_min_port;
	long			pasv_max_port;
	char			pasv_address[64];	/* "" = the local address */
	long			login_timeout;
	long			idle_timeout;
	long			data_timeout;
	long			max_login_failures;
	long			login_fail_delay;
	char			pidfile[4096];
	long			log_level;		/* 0 err .. 3 debug */
	char			log_facility[16];
	char			xferlog[4096];		/* "" = off */

	/* session limits and the queue */
	long			max_clients;
	long			queue_max;
	long			queue_timeout;
	long			max_per_ip;
	long			max_per_user;

	/* TLS */
	char			tls_cert[4096];		/* "" = TLS off */
	char			tls_key[4096];
	long			tls_require_login;	/* -1 = auto */
	long			tls_require_data;
	long			tls_require_reuse;
	char			tls_ciphers[512];

	/* quota ledger */
	long			ledger_slots;

	/* operations */
	long			shutdown_grace;
	long			proxy_protocol;
	/* peers that may send a PROXY header; others are refused */
	struct net_prefix	proxy_from[MOAT_PROXY_FROM_MAX];
	int			nproxy_from;
	long			prefork_spares;
};

/* Fill c with the compiled-in defaults. */
void	config_defaults(struct config *c);
/*
 * Read a file over the defaults. Unknown keys, wrong types and out-of-range
 * values fail with "file:line: message" in err. 0 or -1.
 */
int	config_load(struct config *c, const char *path, char *err,
	    size_t errlen);
/* Parse "addr:port" or "[v6]:port" into l; 0 or -1. */
int	config_parse_listen(const char *s, struct listen_addr *l);
/* Print the effective settings in config-file syntax. */
void	config_print(const struct config *c, FILE *fp);
/* Effective tls_require_login: auto means "on when a certificate is set". */
int	config_tls_login_required(const struct config *c);

#endif
