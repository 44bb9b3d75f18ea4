/* What a configuration needs before the master uses it (see cfgcheck.h). */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "daemon/cfgcheck.h"
#include "shared/log.h"
#include "shared/tls.h"

static int
check_secrecy(const char *path, int isdir)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_warnx("%s must be owned by root and not group or world "
		    "writable", path);
		return -1;
	}
	if (isdir && !S_ISDIR(st.st_mode)) {
		log_warnx("%s is not a directory", path);
		return -1;
	}
	return 0;
}

/*
 * Check that the certificate and key load, in a child: freed key material
 * would stay in the master's heap and be inherited by every session.
 */
static int
tls_probe(const struct config *cfg, const unsigned char *keys)
{
	char	err[512];
	pid_t	pid;
	int	status;

	switch ((pid = fork())) {
	case -1:
		/* out of processes (clients can cause that): a reload keeps
		 * the old configuration rather than end the daemon */
		log_warn("%s: fork", __func__);
		return -1;
	case 0:
		if (tls_server_ctx(cfg, keys, err, sizeof(err)) == NULL) {
			log_warnx("TLS: %s", err);
			_exit(1);
		}
		_exit(0);
	default:
		break;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("%s: waitpid", __func__);
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warnx("TLS: cannot use %s and %s", cfg->tls_cert,
		    cfg->tls_key);
		return -1;
	}
	return 0;
}

/*
 * What a configuration needs before it is used, at start and at every
 * reload: the jail user, jail_dir and the secrecy of the files (as root),
 * a certificate and key that load, and the session's data context. On
 * success fills the out parameters (*dctx NULL without TLS); -1 (logged)
 * leaves them alone.
 */
int
config_checks(const struct config *cfg, const unsigned char *keys,
    uid_t *juid, gid_t *jgid, SSL_CTX **dctx)
{
	struct passwd	*pw;
	SSL_CTX		*ctx = NULL;
	char		 err[512];

	if (geteuid() == 0) {
		if ((pw = getpwnam(cfg->jail_user)) == NULL) {
			log_warnx("jail_user \"%s\" does not exist",
			    cfg->jail_user);
			return -1;
		}
		if (mkdir(cfg->jail_dir, 0755) == 0)
			log_info("created jail_dir %s", cfg->jail_dir);
		if (check_secrecy(cfg->path, 0) == -1 ||
		    check_secrecy(cfg->user_db, 0) == -1 ||
		    check_secrecy(cfg->jail_dir, 1) == -1)
			return -1;
		*juid = pw->pw_uid;
		*jgid = pw->pw_gid;
	}
	if (cfg->tls_cert[0] != '\0') {
		/* the jails load their own */
		if (tls_probe(cfg, keys) == -1)
			return -1;
		if ((ctx = tls_data_ctx(cfg, keys, err,
		    sizeof(err))) == NULL) {
			log_warnx("TLS: %s", err);
			return -1;
		}
	}
	*dctx = ctx;
	return 0;
}
