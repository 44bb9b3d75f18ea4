/* moatadm useradd: from arguments, or an interactive wizard. */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/string.h>

#include "shared/limits.h"
#include "shared/passwd.h"
#include "shared/size.h"
#include "shared/userdb.h"
#include "shared/log.h"
#include "shared/mkdirp.h"
#include "admin/admin.h"

#define USERADD_USAGE \
	"useradd [NAME [--quota SIZE] [--home DIR] [--password-stdin]]"
#define WIZARD_TRIES	3

struct newuser {
	char		name[MOAT_NAME_MAX + 1];
	char		home[sizeof(((struct user *)0)->home)];
	uint64_t	quota;
	uid_t		uid;		/* set by useradd_do() */
	char		pw[MOAT_PASS_MAX + 2];
};

static int	default_home(const struct adm *, const char *, char *, size_t);
static int	check_name(struct adm *, const char *);
static int	make_home(const struct adm *, const char *, uid_t, gid_t);
static int	useradd_do(struct adm *, struct newuser *);
static int	home_owners(const char *, uid_t **, size_t *);
static int	pick_uid(const struct adm *, uid_t *);
static int	wizard(struct adm *, struct newuser *);
static int	ask(const char *, char *, size_t);

static int
default_home(const struct adm *a, const char *name, char *home, size_t len)
{
	char	root[PATH_MAX];

	if (strlen(a->conf.home_root) >= sizeof(root))
		return adm_fail("home_root: path too long");
	adm_path_fold(a->conf.home_root, root, sizeof(root));
	if (root[0] != '/')
		return adm_fail("home_root \"%s\" is not an absolute path",
		    root);
	if ((size_t)snprintf(home, len, "%s%s%s", root,
	    strcmp(root, "/") == 0 ? "" : "/", name) >= len)
		return adm_fail("home_root: path too long");
	return ADM_OK;
}

/* A valid name not in the db yet (a read-only look, before prompting). */
static int
check_name(struct adm *a, const char *name)
{
	char	vis[64];
	int	rv;

	if (userdb_valid_name(name) == -1)
		return adm_bad("invalid user name '%s' (want [a-z_][a-z0-9_.-]"
		    "{0,31})", log_vis(vis, sizeof(vis), name));
	if ((rv = adm_db_open(a, 0, 0)) != ADM_OK)
		return rv;
	if (userdb_find(&a->db, name) != NULL)
		rv = adm_bad("user '%s' already exists", name);
	adm_db_close(a);
	return rv;
}

/* mkdir home 0700, owned by uid:gid when root. */
static int
make_home(const struct adm *a, const char *home, uid_t uid, gid_t gid)
{
	char	parent[PATH_MAX], *slash;
	int	fd, saved;

	if (strlcpy(parent, home, sizeof(parent)) >= sizeof(parent))
		return adm_fail("%s: path too long", home);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir_p(parent, 0755, MKDIRP_EXACT) == -1)
			return adm_failw("%s", parent);
	}
	if (mkdir(home, 0700) == -1)
		return adm_failw("mkdir %s", home);
	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail;
	if ((a->root && fchown(fd, uid, gid) == -1) || fchmod(fd, 0700) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		goto fail;
	}
	(void)close(fd);
	return ADM_OK;
 fail:
	saved = errno;
	(void)rmdir(home);
	errno = saved;
	return adm_failw("%s", home);
}

/* The owners (uids and gids) of what lies at the top of home_root: the
 * homes of deleted accounts keep theirs. 0, or -1 with errno. */
static int
home_owners(const char *root, uid_t **ids, size_t *n)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	uid_t		*p;
	size_t		 cap = 0;
	int		 saved;

	*ids = NULL;
	*n = 0;
	if ((d = opendir(root)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (*n + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = reallocarray(*ids, cap, sizeof(*p))) == NULL)
				goto fail;
			*ids = p;
		}
		(*ids)[(*n)++] = st.st_uid;
		(*ids)[(*n)++] = (uid_t)st.st_gid;
	}
	if (errno != 0)
		goto fail;
	(void)closedir(d);
	return 0;
 fail:
	saved = errno;
	(void)closedir(d);
	free(*ids);
	*ids = NULL;
	errno = saved;
	return -1;
}

/* The lowest uid in uid_min..uid_max that no account, no system user or
 * group, and nothing left in home_root has. */
static int
pick_uid(const struct adm *a, uid_t *out)
{
	uid_t	*owners, uid, min = (uid_t)a->conf.uid_min;
	size_t	 n, i;

	if (home_owners(a->conf.home_root, &owners, &n) == -1)
		return adm_failw("%s", a->conf.home_root);
	for (;;) {
		uid = userdb_free_uid(&a->db, min, (uid_t)a->conf.uid_max);
		if (uid == (uid_t)-1)
			break;
		for (i = 0; i < n && owners[i] != uid; i++)
			;
		if (i == n && getpwuid(uid) == NULL &&
		    getgrgid((gid_t)uid) == NULL)
			break;
		if (uid >= (uid_t)a->conf.uid_max) {
			uid = (uid_t)-1;
			break;
		}
		min = uid + 1;
	}
	free(owners);
	if (uid == (uid_t)-1)
		return adm_fail("no free uid in %ld..%ld (each must be unused "
		    "by accounts, system users and groups, and files in %s)",
		    a->conf.uid_min, a->conf.uid_max, a->conf.home_root);
	*out = uid;
	return ADM_OK;
}

/* Under the lock: final checks, the home, then the db. */
static int
useradd_do(struct adm *a, struct newuser *nu)
{
	struct user	u;
	struct stat	st;
	int		rv;

	memset(&u, 0, sizeof(u));
	if ((rv = adm_db_open(a, 1, 1)) != ADM_OK)
		return rv;
	if (userdb_find(&a->db, nu->name) != NULL) {
		rv = adm_bad("user '%s' already exists", nu->name);
		goto done;
	}
	if ((rv = adm_home_check(a, nu->home, NULL, "home")) != ADM_OK)
		goto done;
	if (lstat(nu->home, &st) == 0) {
		rv = adm_bad("home %s already exists", nu->home);
		goto done;
	}
	if ((rv = adm_quota_check(a, NULL, nu->home, nu->quota, 0)) !=
	    ADM_OK)
		goto done;
	(void)strlcpy(u.name, nu->name, sizeof(u.name));
	(void)strlcpy(u.home, nu->home, sizeof(u.home));
	u.quota = nu->quota;
	if ((rv = pick_uid(a, &u.uid)) != ADM_OK)
		goto done;
	u.gid = (gid_t)u.uid;
	if (passwd_hash(nu->pw, u.hash, sizeof(u.hash)) == -1) {
		rv = adm_failw("hashing the password");
		goto done;
	}
	if (userdb_add(&a->db, &u) == -1) {
		rv = adm_failw("adding %s", u.name);
		goto done;
	}
	if ((rv = make_home(a, u.home, u.uid, u.gid)) != ADM_OK)
		goto done;
	if ((rv = adm_db_save(a)) != ADM_OK)
		(void)rmdir(u.home);
	nu->uid = u.uid;
 done:
	explicit_bzero(&u, sizeof(u));
	adm_db_close(a);
	return rv;
}

/* One answer from the terminal, echoed. 0, or -1 at EOF / no terminal. */
static int
ask(const char *prompt, char *buf, size_t len)
{
	if (readpassphrase(prompt, buf, len, RPP_ECHO_ON |
	    RPP_REQUIRE_TTY) == NULL)
		return -1;
	return 0;
}

/* Ask for the name, the password twice, and the quota. */
static int
wizard(struct adm *a, struct newuser *nu)
{
	char		 buf[128], b1[16], b2[16];
	uint64_t	 total, avail;
	int		 i, rv = ADM_EUSAGE;

	if (!isatty(STDIN_FILENO))
		return adm_bad("usage: %s (the wizard needs a terminal)",
		    USERADD_USAGE);
	printf("New moatftp account (user db %s)\n", a->conf.user_db);
	for (i = 0; i < WIZARD_TRIES; i++) {
		if (ask("User name: ", buf, sizeof(buf)) == -1)
			return adm_bad("no user name given");
		if ((rv = check_name(a, buf)) == ADM_OK)
			break;
		if (rv != ADM_EUSAGE)
			return rv;
	}
	if (rv != ADM_OK)
		return rv;
	(void)strlcpy(nu->name, buf, sizeof(nu->name));
	if ((rv = default_home(a, nu->name, nu->home, sizeof(nu->home))) !=
	    ADM_OK)
		return rv;
	for (i = 0; i < WIZARD_TRIES; i++)
		if ((rv = adm_read_password(0, nu->pw, sizeof(nu->pw))) !=
		    ADM_EUSAGE)
			break;
	if (rv != ADM_OK)
		return rv;
	if (adm_fs(nu->home, &total, &avail) == -1)
		return adm_failw("statvfs %s", nu->home);
	printf("Home %s: %s free of %s on its partition\n", nu->home,
	    adm_fmt_size(avail, b1, sizeof(b1)),
	    adm_fmt_size(total, b2, sizeof(b2)));
	fflush(stdout);
	for (i = 0; i < WIZARD_TRIES; i++) {
		if (ask("Quota (K/M/G/T, e.g. 500M; empty or 0 = unlimited): ",
		    buf, sizeof(buf)) == -1)
			return adm_bad("no quota given");
		if (buf[0] == '\0') {
			nu->quota = 0;
			break;
		}
		if (size_parse(buf, &nu->quota) == -1) {
			rv = adm_bad("invalid size '%s'",
			    log_vis(b1, sizeof(b1), buf));
			continue;
		}
		if (nu->quota > total) {
			rv = adm_bad("quota %s is larger than the partition "
			    "(%s)", adm_fmt_size(nu->quota, b1, sizeof(b1)),
			    adm_fmt_size(total, b2, sizeof(b2)));
			continue;
		}
		rv = ADM_OK;
		break;
	}
	return rv;
}

int
cmd_useradd(struct adm *a, int argc, char **argv)
{
	struct newuser	 nu;
	const char	*quota = NULL, *home = NULL;
	char		*pos[1], vis[64], b[16];
	int		 pwstdin = 0, rv;
	const struct adm_opt opts[] = {
		{ "quota", 1, &quota, NULL },
		{ "home", 1, &home, NULL },
		{ "password-stdin", 0, NULL, &pwstdin },
	};

	memset(&nu, 0, sizeof(nu));
	if ((rv = adm_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
	    pos, 0, 1, USERADD_USAGE)) != ADM_OK)
		return rv;
	if (pos[0] == NULL) {
		if (quota != NULL || home != NULL || pwstdin)
			return adm_bad("usage: %s", USERADD_USAGE);
		if ((rv = wizard(a, &nu)) != ADM_OK)
			goto done;
	} else {
		if ((rv = check_name(a, pos[0])) != ADM_OK)
			return rv;
		(void)strlcpy(nu.name, pos[0], sizeof(nu.name));
		if (quota != NULL && size_parse(quota, &nu.quota) == -1)
			return adm_bad("invalid size '%s'",
			    log_vis(vis, sizeof(vis), quota));
		if (home != NULL) {
			if (userdb_valid_home(home) == -1)
				return adm_bad("invalid home '%s' (want an "
				    "absolute path without ':', '.' or '..')",
				    log_vis(vis, sizeof(vis), home));
			adm_path_fold(home, nu.home, sizeof(nu.home));
		} else if ((rv = default_home(a, nu.name, nu.home,
		    sizeof(nu.home))) != ADM_OK)
			return rv;
		if ((rv = adm_read_password(pwstdin, nu.pw,
		    sizeof(nu.pw))) != ADM_OK)
			goto done;
	}
	if ((rv = useradd_do(a, &nu)) == ADM_OK && pos[0] == NULL)
		printf("Created %s: uid %u, home %s, quota %s\n", nu.name,
		    (unsigned)nu.uid, nu.home, nu.quota == 0 ? "unlimited" :
		    adm_fmt_size(nu.quota, b, sizeof(b)));
 done:
	explicit_bzero(&nu, sizeof(nu));
	return rv;
}
