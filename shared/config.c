/* moatftpd.conf: one table names every key, its type, default and range. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <libconfig.h>

#include "shared/cfgnum.h"
#include "shared/config.h"
#include "shared/log.h"

enum ktype { K_INT, K_BOOL, K_STR, K_LISTEN, K_LOGLEVEL, K_TRISTATE,
	K_PREFIXES, K_INADDR, K_PATH };

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	size_t		 size;		/* K_STR: buffer size */
	long		 min, max;	/* K_INT */
	long		 ldef;
	const char	*sdef;
};

#define OFF(f)		offsetof(struct config, f)
#define SZ(f)		sizeof(((struct config *)0)->f)
#define KINT(n, lo, hi, d)	{ #n, K_INT, OFF(n), 0, lo, hi, d, NULL }
#define KBOOL(n, d)		{ #n, K_BOOL, OFF(n), 0, 0, 1, d, NULL }
#define KSTR(n, d)		{ #n, K_STR, OFF(n), SZ(n), 0, 0, 0, d }
/* "" or an absolute path: the daemon works in / once detached */
#define KPATH(n, d)		{ #n, K_PATH, OFF(n), SZ(n), 0, 0, 0, d }

static const struct key keys[] = {
	{ "listen", K_LISTEN, 0, 0, 0, 0, 0, "0.0.0.0:21" },
	KPATH(user_db, "/etc/moatftpd/users.db"),
	KPATH(home_root, "/srv/moatftp"),
	KINT(uid_min, 1000, INT_MAX, 20000),
	KINT(uid_max, 1000, INT_MAX, 29999),
	KPATH(jail_dir, "/var/empty/moatftpd"),
	KSTR(jail_user, "nobody"),
	KINT(pasv_min_port, 1024, 65535, 40000),
	KINT(pasv_max_port, 1024, 65535, 40999),
	/* "" or a numeric IPv4 address: PASV replies carry four numbers */
	{ "pasv_address", K_INADDR, OFF(pasv_address), SZ(pasv_address), 0, 0,
	    0, "" },
	KINT(login_timeout, 1, 86400, 60),
	KINT(idle_timeout, 1, 86400, 900),
	KINT(data_timeout, 1, 86400, 60),
	KINT(max_login_failures, 1, 1000, 3),
	KINT(login_fail_delay, 0, 60, 2),
	KPATH(pidfile, "/run/moatftpd.pid"),
	{ "log_level", K_LOGLEVEL, OFF(log_level), 0, 0, 3, LOG_LVL_INFO, NULL },
	KSTR(log_facility, "ftp"),
	KPATH(xferlog, ""),
	KINT(max_clients, 1, 10000, 50),
	KINT(queue_max, 0, 100000, 100),
	KINT(queue_timeout, 1, 3600, 30),
	KINT(max_per_ip, 1, 10000, 10),
	KINT(max_per_user, 1, 10000, 5),
	KPATH(tls_cert, "/etc/moatftpd/cert.pem"),
	KPATH(tls_key, "/etc/moatftpd/key.pem"),
	{ "tls_require_login", K_TRISTATE, OFF(tls_require_login), 0, -1, 1,
	    -1, NULL },
	KBOOL(tls_require_data, 1),
	KBOOL(tls_require_reuse, 1),
	KSTR(tls_ciphers, TLS12_CIPHERS_DEFAULT),
	KINT(ledger_slots, 16, 1048576, 4096),
	KINT(shutdown_grace, 0, 3600, 30),
	KBOOL(proxy_protocol, 0),
	{ "proxy_from", K_PREFIXES, 0, 0, 0, 0, 0, "127.0.0.1 ::1" },
	KINT(prefork_spares, 0, 64, 4),
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static const char *levels[] = { "err", "warn", "info", "debug" };

static long	*kint(struct config *c, const struct key *k)
		    { return (long *)(void *)((char *)c + k->off); }
static char	*kstr(struct config *c, const struct key *k)
		    { return (char *)c + k->off; }
static long	 ckint(const struct config *c, const struct key *k)
		    { return *(const long *)(const void *)((const char *)c + k->off); }
static const char *ckstr(const struct config *c, const struct key *k)
		    { return (const char *)c + k->off; }
static int	 seterr(char *, size_t, const char *, int, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static int	 load_key(struct config *, const struct key *,
		    config_setting_t *, const char *, char *, size_t);
static void	 defaults_prefixes(struct config *, const char *);
static int	 load_prefixes(struct config *, const struct key *,
		    config_setting_t *, const char *, char *, size_t);

/* proxy_from's default: prefixes separated by blanks. */
static void
defaults_prefixes(struct config *c, const char *def)
{
	char	buf[256], *s, *p;

	(void)strlcpy(buf, def, sizeof(buf));
	for (s = buf; (p = strsep(&s, " ")) != NULL;)
		if (*p != '\0' && c->nproxy_from < MOAT_PROXY_FROM_MAX &&
		    net_prefix_parse(p, &c->proxy_from[c->nproxy_from]) == 0)
			c->nproxy_from++;
}

/* A list of "addr" or "addr/bits" strings; [] is an empty list. */
static int
load_prefixes(struct config *c, const struct key *k, config_setting_t *s,
    const char *file, char *err, size_t errlen)
{
	int		 line = (int)config_setting_source_line(s);
	const char	*str;
	int		 i, n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return seterr(err, errlen, file, line,
		    "%s: expected a list of \"addr\" or \"addr/bits\" "
		    "strings", k->name);
	n = config_setting_length(s);
	if (n > MOAT_PROXY_FROM_MAX)
		return seterr(err, errlen, file, line,
		    "%s: at most %d prefixes", k->name, MOAT_PROXY_FROM_MAX);
	for (i = 0; i < n; i++) {
		str = config_setting_get_string_elem(s, i);
		if (str == NULL ||
		    net_prefix_parse(str, &c->proxy_from[i]) == -1)
			return seterr(err, errlen, file, line,
			    "%s: bad prefix \"%s\" (want an IPv4 or IPv6 "
			    "address, or addr/bits with no host bits set)",
			    k->name, str ? str : "?");
	}
	c->nproxy_from = n;
	return 0;
}

void
config_defaults(struct config *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		switch (k->type) {
		case K_STR:
		case K_INADDR:
		case K_PATH:
			(void)strlcpy(kstr(c, k), k->sdef, k->size);
			break;
		case K_LISTEN:
			if (config_parse_listen(k->sdef, &c->listen[0]) == 0)
				c->nlisten = 1;
			break;
		case K_PREFIXES:
			defaults_prefixes(c, k->sdef);
			break;
		default:
			*kint(c, k) = k->ldef;
			break;
		}
	}
}

int
config_parse_listen(const char *s, struct listen_addr *l)
{
	char		 host[64];
	const char	*colon, *errstr;
	long long	 port;
	size_t		 hl;

	memset(l, 0, sizeof(*l));
	if (strlcpy(l->text, s, sizeof(l->text)) >= sizeof(l->text))
		return -1;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	port = strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr != NULL)
		return -1;
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->len = sizeof(*sin);
	}
	return 0;
}

static int
seterr(char *err, size_t errlen, const char *file, int line,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(err, errlen, "%s:%d: %s", file, line, msg);
	return -1;
}

static int
load_key(struct config *c, const struct key *k, config_setting_t *s,
    const char *file, char *err, size_t errlen)
{
	int		 line = (int)config_setting_source_line(s);
	const char	*str;
	struct in_addr	 in4;
	long long	 v;
	int		 i, n;

	switch (k->type) {
	case K_INT:
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64)
			return seterr(err, errlen, file, line,
			    "%s: expected an integer", k->name);
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			return seterr(err, errlen, file, line,
			    "%s: %lld is out of range %ld..%ld", k->name, v,
			    k->min, k->max);
		*kint(c, k) = (long)v;
		return 0;
	case K_BOOL:
	case K_TRISTATE:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return seterr(err, errlen, file, line,
			    "%s: expected true or false", k->name);
		*kint(c, k) = config_setting_get_bool(s);
		return 0;
	case K_STR:
	case K_PATH:
		if ((str = config_setting_get_string(s)) == NULL)
			return seterr(err, errlen, file, line,
			    "%s: expected a string", k->name);
		if (k->type == K_PATH && str[0] != '\0' && str[0] != '/')
			return seterr(err, errlen, file, line,
			    "%s: \"%s\" is not an absolute path", k->name, str);
		if (strlcpy(kstr(c, k), str, k->size) >= k->size)
			return seterr(err, errlen, file, line,
			    "%s: string too long", k->name);
		return 0;
	case K_INADDR:
		if ((str = config_setting_get_string(s)) == NULL ||
		    (str[0] != '\0' && inet_pton(AF_INET, str, &in4) != 1))
			return seterr(err, errlen, file, line,
			    "%s: \"%s\" is not a numeric IPv4 address (or \"\" "
			    "for the control connection's)", k->name,
			    str ? str : "?");
		if (strlcpy(kstr(c, k), str, k->size) >= k->size)
			return seterr(err, errlen, file, line,
			    "%s: string too long", k->name);
		return 0;
	case K_LOGLEVEL:
		if ((str = config_setting_get_string(s)) == NULL)
			return seterr(err, errlen, file, line,
			    "%s: expected \"err\", \"warn\", \"info\" or \"debug\"",
			    k->name);
		for (i = 0; i < 4; i++)
			if (strcmp(str, levels[i]) == 0) {
				*kint(c, k) = i;
				return 0;
			}
		return seterr(err, errlen, file, line,
		    "%s: unknown level \"%s\"", k->name, str);
	case K_LISTEN:
		if (!config_setting_is_array(s) && !config_setting_is_list(s))
			return seterr(err, errlen, file, line,
			    "listen: expected a list of \"addr:port\" strings");
		n = config_setting_length(s);
		if (n < 1 || n > MOAT_LISTEN_MAX)
			return seterr(err, errlen, file, line,
			    "listen: between 1 and %d addresses", MOAT_LISTEN_MAX);
		for (i = 0; i < n; i++) {
			str = config_setting_get_string_elem(s, i);
			if (str == NULL ||
			    config_parse_listen(str, &c->listen[i]) == -1)
				return seterr(err, errlen, file, line,
				    "listen: bad address \"%s\" (want addr:port "
				    "or [v6addr]:port)", str ? str : "?");
		}
		c->nlisten = n;
		return 0;
	case K_PREFIXES:
		return load_prefixes(c, k, s, file, err, errlen);
	}
	return -1;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	config_t		 cfg;
	config_setting_t	*root, *s;
	size_t			 i;
	int			 n, j, rv = -1;

	config_defaults(c);
	if (strlcpy(c->path, path, sizeof(c->path)) >= sizeof(c->path)) {
		(void)snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (cfgnum_check(path, err, errlen) == -1)
		return -1;
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			(void)snprintf(err, errlen, "%s: %s", path,
			    strerror(errno ? errno : ENOENT));
		else
			(void)snprintf(err, errlen, "%s:%d: %s",
			    config_error_file(&cfg) ? config_error_file(&cfg) :
			    path, config_error_line(&cfg),
			    config_error_text(&cfg));
		goto done;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (j = 0; j < n; j++) {
		const char *name;

		s = config_setting_get_elem(root, (unsigned)j);
		name = config_setting_name(s);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (i == NKEYS) {
			seterr(err, errlen, path,
			    (int)config_setting_source_line(s),
			    "unknown key \"%s\"", name);
			goto done;
		}
		if (load_key(c, &keys[i], s, path, err, errlen) == -1)
			goto done;
	}
	if (c->pasv_min_port > c->pasv_max_port) {
		(void)snprintf(err, errlen, "%s: pasv_min_port %ld is above "
		    "pasv_max_port %ld", path, c->pasv_min_port,
		    c->pasv_max_port);
		goto done;
	}
	if (c->uid_min > c->uid_max) {
		(void)snprintf(err, errlen, "%s: uid_min %ld is above uid_max "
		    "%ld", path, c->uid_min, c->uid_max);
		goto done;
	}
	if (log_facility_byname(c->log_facility) == -1) {
		(void)snprintf(err, errlen, "%s: log_facility: unknown "
		    "facility \"%s\"", path, c->log_facility);
		goto done;
	}
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		(void)snprintf(err, errlen, "%s: tls_cert and tls_key must be "
		    "set together", path);
		goto done;
	}
	if (c->proxy_protocol && c->nproxy_from == 0) {
		(void)snprintf(err, errlen, "%s: proxy_protocol is on but "
		    "proxy_from is empty: every connection would be refused",
		    path);
		goto done;
	}
	rv = 0;
done:
	config_destroy(&cfg);
	if (rv == -1 && errlen > 0) {
		/* one line whatever a string in the file holds */
		char vis[1024];

		(void)strlcpy(err, log_vis(vis, sizeof(vis), err), errlen);
	}
	return rv;
}

int
config_tls_login_required(const struct config *c)
{
	if (c->tls_require_login == -1)
		return c->tls_cert[0] != '\0';
	return (int)c->tls_require_login;
}

void
config_print(const struct config *c, FILE *fp)
{
	size_t		 i;
	int		 j;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		switch (k->type) {
		case K_LISTEN:
			fprintf(fp, "listen = [");
			for (j = 0; j < c->nlisten; j++)
				fprintf(fp, "%s\"%s\"", j ? ", " : "",
				    c->listen[j].text);
			fprintf(fp, "];\n");
			break;
		case K_PREFIXES:
			fprintf(fp, "%s = [", k->name);
			for (j = 0; j < c->nproxy_from; j++)
				fprintf(fp, "%s\"%s\"", j ? ", " : "",
				    c->proxy_from[j].text);
			fprintf(fp, "];\n");
			break;
		case K_STR:
		case K_INADDR:
		case K_PATH:
			fprintf(fp, "%s = \"%s\";\n", k->name, ckstr(c, k));
			break;
		case K_BOOL:
			fprintf(fp, "%s = %s;\n", k->name,
			    ckint(c, k) ? "true" : "false");
			break;
		case K_TRISTATE:
			fprintf(fp, "%s = %s;\n", k->name,
			    config_tls_login_required(c) ? "true" : "false");
			break;
		case K_LOGLEVEL:
			fprintf(fp, "%s = \"%s\";\n", k->name,
			    levels[ckint(c, k)]);
			break;
		case K_INT:
			fprintf(fp, "%s = %ld;\n", k->name, ckint(c, k));
			break;
		}
	}
}
