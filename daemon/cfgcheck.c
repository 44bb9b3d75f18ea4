/* What a configuration needs before the master uses it (see cfgcheck.h). */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <openssl/ssl.h>

#include "daemon/cfgcheck.h"
#include "daemon/netaddr.h"
#include "daemon/xferlog.h"
#include "shared/log.h"
#include "shared/pidread.h"
#include "shared/tls.h"

/* One problem with a setting, on one line: FILE: key "value": why. -1. */
static int
bad_setting(const struct config *cfg, const char *key, const char *value,
    const char *why)
{
	char	vis[512];

	log_errx("%s: %s \"%s\": %s", cfg->path, key,
	    log_vis(vis, sizeof(vis), value), why);
	return -1;
}

/* Owned by root, not group or world writable (a directory if isdir):
 * the configuration file itself (key NULL) or a setting's path. */
static int
check_secrecy(const struct config *cfg, const char *key, const char *path,
    int isdir)
{
	struct stat	 st;
	const char	*why = NULL;

	if (stat(path, &st) == -1)
		why = strerror(errno);
	else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		why = "must be owned by root and not group or world writable";
	else if (isdir && !S_ISDIR(st.st_mode))
		why = "is not a directory";
	if (why == NULL)
		return 0;
	if (key == NULL) {
		log_errx("%s: %s", path, why);
		return -1;
	}
	return bad_setting(cfg, key, path, why);
}

/*
 * Whether this process may create a file at path (the directory holding it
 * is one, and writable): 0, or -1 with the reason in why.
 */
static int
can_create(const char *path, char *why, size_t len)
{
	char		 dir[PATH_MAX], *slash;
	struct stat	 st;
	int		 e;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		(void)strlcpy(why, "path too long", len);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1)
		e = errno;
	else
		return 0;
	(void)snprintf(why, len, "directory %s: %s", dir, strerror(e));
	return -1;
}

/*
 * jail_dir: root's, not writable by others. A start makes it when it is
 * missing (dry: it is enough that it could).
 */
static int
check_jail_dir(const struct config *cfg, int dry)
{
	struct stat	st;
	char		why[PATH_MAX + 128];

	if (!dry) {
		if (mkdir(cfg->jail_dir, 0755) == 0)
			log_info("created jail_dir %s", cfg->jail_dir);
	} else if (stat(cfg->jail_dir, &st) == -1 && errno == ENOENT &&
	    can_create(cfg->jail_dir, why, sizeof(why)) == 0)
		return 0;
	return check_secrecy(cfg, "jail_dir", cfg->jail_dir, 1);
}

/*
 * Check that the certificate and key load, in a child: freed key material
 * would stay in the master's heap and be inherited by every session. The
 * child's reason comes back through a pipe, for one line that says it all.
 */
static int
tls_probe(const struct config *cfg, const unsigned char *keys)
{
	char	err[512] = "", vis[512];
	size_t	off = 0;
	ssize_t	n;
	pid_t	pid;
	int	status, p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", __func__);
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		/* out of processes (clients can cause that): a reload keeps
		 * the old configuration rather than end the daemon */
		log_warn("%s: fork", __func__);
		close(p[0]);
		close(p[1]);
		return -1;
	case 0:
		close(p[0]);
		if (tls_server_ctx(cfg, keys, err, sizeof(err)) == NULL) {
			if (write(p[1], err, strlen(err)) == -1) {
				/* the parent says the probe failed */
			}
			_exit(1);
		}
		_exit(0);
	default:
		break;
	}
	close(p[1]);
	while (off < sizeof(err) - 1 &&
	    ((n = read(p[0], err + off, sizeof(err) - 1 - off)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			off += (size_t)n;
	err[off] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("%s: waitpid", __func__);
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_errx("%s: TLS: cannot use tls_cert \"%s\" and tls_key "
		    "\"%s\": %s", cfg->path, cfg->tls_cert, cfg->tls_key,
		    off > 0 ? log_vis(vis, sizeof(vis), err) :
		    "the check died");
		return -1;
	}
	return 0;
}

int
config_checks(const struct config *cfg, const unsigned char *keys, int dry,
    uid_t *juid, gid_t *jgid, SSL_CTX **dctx)
{
	struct passwd	*pw = NULL;
	SSL_CTX		*ctx = NULL;
	char		 err[512];
	int		 bad = 0;

	if (geteuid() == 0) {
		if ((pw = getpwnam(cfg->jail_user)) == NULL) {
			bad_setting(cfg, "jail_user", cfg->jail_user,
			    "no such user");
			bad = 1;
		}
		if (check_secrecy(cfg, NULL, cfg->path, 0) == -1)
			bad = 1;
		if (check_jail_dir(cfg, dry) == -1)
			bad = 1;
	}
	if (cfg->tls_cert[0] != '\0') {
		/* the jails load their own */
		if (tls_probe(cfg, keys) == -1)
			bad = 1;
		else if ((ctx = tls_data_ctx(cfg, keys, err,
		    sizeof(err))) == NULL) {
			log_errx("%s: TLS: %s", cfg->path, err);
			bad = 1;
		}
	}
	if (bad) {
		SSL_CTX_free(ctx);
		return -1;
	}
	if (pw != NULL) {
		*juid = pw->pw_uid;
		*jgid = pw->pw_gid;
	}
	*dctx = ctx;
	return 0;
}

/*
 * home_root, when accounts have their homes in it: gone (a disk that is not
 * mounted), it would refuse each of their logins. Without such accounts it
 * may be missing (moatadm useradd makes it).
 */
static int
check_home_root(const struct config *cfg, const struct userdb *db)
{
	struct stat	 st;
	const char	*root = cfg->home_root;
	size_t		 i, n = 0, len = strlen(root);
	char		 why[512];

	while (len > 1 && root[len - 1] == '/')
		len--;
	for (i = 0; i < db->nusers; i++)
		if (strncmp(db->users[i].home, root, len) == 0 &&
		    db->users[i].home[len] == '/')
			n++;
	if (n == 0)
		return 0;
	if (stat(root, &st) == -1)
		(void)snprintf(why, sizeof(why), "%s (%zu account%s ha%s "
		    "a home in it)", strerror(errno), n, n == 1 ? "" : "s",
		    n == 1 ? "s" : "ve");
	else if (!S_ISDIR(st.st_mode))
		(void)strlcpy(why, "not a directory", sizeof(why));
	else
		return 0;
	return bad_setting(cfg, "home_root", root, why);
}

/* The pidfile's directory: the pidfile and the scoreboard beside it
 * (scoreboard_path) are made there. */
static int
check_pidfile(const struct config *cfg)
{
	char	why[PATH_MAX + 128];

	if (cfg->pidfile[0] == '\0' ||
	    can_create(cfg->pidfile, why, sizeof(why)) == 0)
		return 0;
	return bad_setting(cfg, "pidfile", cfg->pidfile, why);
}

/* The xferlog opens as xferlog_open() opens it, or can be made. */
static int
check_xferlog(const struct config *cfg)
{
	char	why[PATH_MAX + 128];
	int	fd;

	if (cfg->xferlog[0] == '\0')
		return 0;
	/* not made here; O_NONBLOCK: a FIFO with no reader fails at once */
	fd = open(cfg->xferlog, (XFERLOG_OPEN_FLAGS & ~O_CREAT) | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd != -1) {
		close(fd);
		return 0;
	}
	if (errno != ENOENT)
		return bad_setting(cfg, "xferlog", cfg->xferlog,
		    strerror(errno));
	if (can_create(cfg->xferlog, why, sizeof(why)) == -1)
		return bad_setting(cfg, "xferlog", cfg->xferlog, why);
	return 0;
}

/* Whether the pidfile names a live process (not this one). */
static int
pidfile_live(const struct config *cfg)
{
	pid_t	pid = pidfile_pid(cfg->pidfile);

	return pid != -1 && pid != getpid() &&
	    (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * Whether a listener on a would keep b from listening: the same family and
 * port, and the same address or either one the wildcard (IPv6 listeners
 * are IPV6_V6ONLY: no clash with IPv4).
 */
static int
listen_clash(const struct listen_addr *a, const struct listen_addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)&a->ss;
		b4 = (const struct sockaddr_in *)(const void *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    (a4->sin_addr.s_addr == b4->sin_addr.s_addr ||
		    a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    b4->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	a6 = (const struct sockaddr_in6 *)(const void *)&a->ss;
	b6 = (const struct sockaddr_in6 *)(const void *)&b->ss;
	return a6->sin6_port == b6->sin6_port &&
	    (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr));
}

/*
 * Every listen address binds, then is closed, never having listened. Bound
 * sockets that do not listen do not clash (SO_REUSEADDR), so addresses in
 * the list that a start could not all listen on are found by comparison.
 */
static int
check_listen(const struct config *cfg, int test)
{
	char	why[128], vis[64];
	int	fd, i, j, e, bad = 0;

	for (i = 0; i < cfg->nlisten; i++) {
		for (j = 0; j < i; j++)
			if (listen_clash(&cfg->listen[j], &cfg->listen[i]))
				break;
		if (j < i) {
			(void)snprintf(why, sizeof(why), "clashes with \"%s\" "
			    "before it", log_vis(vis, sizeof(vis),
			    cfg->listen[j].text));
			bad_setting(cfg, "listen", cfg->listen[i].text, why);
			bad++;
			continue;
		}
		if ((fd = addr_bind(&cfg->listen[i])) != -1) {
			close(fd);
			continue;
		}
		e = errno;
		/* the running daemon's own: a reload keeps it */
		if (e == EADDRINUSE && test && pidfile_live(cfg))
			continue;
		bad_setting(cfg, "listen", cfg->listen[i].text, strerror(e));
		bad++;
	}
	return bad;
}

int
start_checks(const struct config *cfg, const struct userdb *db, int test)
{
	int	bad = 0;

	if (db != NULL && check_home_root(cfg, db) == -1)
		bad++;
	if (check_pidfile(cfg) == -1)
		bad++;
	if (check_xferlog(cfg) == -1)
		bad++;
	return bad + check_listen(cfg, test);
}
