/* moatadm passwd, lock, unlock, userdel: changes to one existing account. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shared/limits.h"
#include "shared/passwd.h"
#include "shared/userdb.h"
#include "admin/admin.h"

static int	set_locked(struct adm *, int, char **, int);
static int	purge_check(const struct adm *, const struct user *);

int
cmd_passwd(struct adm *a, int argc, char **argv)
{
	struct user	*u;
	char		*pos[1], pw[MOAT_PASS_MAX + 2], hash[MOAT_HASH_MAX + 2];
	int		 pwstdin = 0, rv;
	const struct adm_opt opts[] = {
		{ "password-stdin", 0, NULL, &pwstdin },
	};

	if ((rv = adm_args(argc, argv, opts, 1, pos, 1, 1,
	    "passwd NAME [--password-stdin]")) != ADM_OK)
		return rv;
	/* Look before asking, so a typo fails at once. */
	if ((rv = adm_db_open(a, 0, 0)) != ADM_OK)
		return rv;
	u = adm_user(a, pos[0], &rv);
	adm_db_close(a);
	if (u == NULL)
		return rv;
	if ((rv = adm_read_password(pwstdin, pw, sizeof(pw))) != ADM_OK)
		return rv;
	hash[0] = '!';
	if (passwd_hash(pw, hash + 1, sizeof(hash) - 1) == -1) {
		explicit_bzero(pw, sizeof(pw));
		return adm_failw("hashing the password");
	}
	explicit_bzero(pw, sizeof(pw));
	if ((rv = adm_db_open(a, 1, 0)) != ADM_OK)
		goto done;
	if ((u = adm_user(a, pos[0], &rv)) == NULL)
		goto done;
	/* A locked account stays locked: its hash keeps the '!'. */
	if (strlcpy(u->hash, (u->flags & USER_F_LOCKED) ? hash : hash + 1,
	    sizeof(u->hash)) >= sizeof(u->hash)) {
		rv = adm_fail("password hash too long");
		goto done;
	}
	rv = adm_db_save(a);
 done:
	explicit_bzero(hash, sizeof(hash));
	adm_db_close(a);
	return rv;
}

/*
 * Lock: set the flag and disable the hash with a '!' prefix, as
 * usermod -L does. Unlock undoes both. Doing it twice changes nothing.
 */
static int
set_locked(struct adm *a, int argc, char **argv, int lock)
{
	struct user	*u;
	char		*pos[1], hash[MOAT_HASH_MAX + 2];
	int		 rv;

	if ((rv = adm_args(argc, argv, NULL, 0, pos, 1, 1,
	    lock ? "lock NAME" : "unlock NAME")) != ADM_OK)
		return rv;
	if ((rv = adm_db_open(a, 1, 0)) != ADM_OK)
		return rv;
	if ((u = adm_user(a, pos[0], &rv)) == NULL)
		goto done;
	if (lock) {
		if (u->flags & USER_F_LOCKED)
			goto done;
		u->flags |= USER_F_LOCKED;
		if (u->hash[0] != '!' && strlen(u->hash) < MOAT_HASH_MAX) {
			hash[0] = '!';
			(void)strlcpy(hash + 1, u->hash, sizeof(hash) - 1);
			(void)strlcpy(u->hash, hash, sizeof(u->hash));
			explicit_bzero(hash, sizeof(hash));
		}
	} else {
		if (!(u->flags & USER_F_LOCKED))
			goto done;
		u->flags &= ~USER_F_LOCKED;
		if (u->hash[0] == '!' && u->hash[1] == '$')
			memmove(u->hash, u->hash + 1, strlen(u->hash));
		else if (u->hash[0] != '$')
			adm_warn("%s has no password yet: set one with "
			    "'moatadm passwd %s'", u->name, u->name);
	}
	rv = adm_db_save(a);
 done:
	adm_db_close(a);
	return rv;
}

int
cmd_lock(struct adm *a, int argc, char **argv)
{
	return set_locked(a, argc, argv, 1);
}

int
cmd_unlock(struct adm *a, int argc, char **argv)
{
	return set_locked(a, argc, argv, 0);
}

/* Refuse to purge a home that is not plainly this account's own. */
static int
purge_check(const struct adm *a, const struct user *u)
{
	struct stat	 st;
	int		 rv;

	if ((rv = adm_home_check(a, u->home, u, "to purge")) != ADM_OK)
		return rv;
	if (lstat(u->home, &st) == -1) {
		if (errno == ENOENT)
			return ADM_OK;
		return adm_failw("%s", u->home);
	}
	if (!S_ISDIR(st.st_mode))
		return adm_bad("refusing to purge %s: not a directory",
		    u->home);
	if (a->root && st.st_uid != u->uid)
		return adm_bad("refusing to purge %s: owned by uid %u, not "
		    "%u", u->home, (unsigned)st.st_uid, (unsigned)u->uid);
	return ADM_OK;
}

int
cmd_userdel(struct adm *a, int argc, char **argv)
{
	struct user	*u;
	char		*pos[1], home[sizeof(u->home)];
	int		 purge = 0, rv;
	const struct adm_opt opts[] = {
		{ "purge", 0, NULL, &purge },
	};

	if ((rv = adm_args(argc, argv, opts, 1, pos, 1, 1,
	    "userdel NAME [--purge]")) != ADM_OK)
		return rv;
	if ((rv = adm_db_open(a, 1, 0)) != ADM_OK)
		return rv;
	if ((u = adm_user(a, pos[0], &rv)) == NULL)
		goto done;
	if (purge && (rv = purge_check(a, u)) != ADM_OK)
		goto done;
	(void)strlcpy(home, u->home, sizeof(home));
	if (userdb_remove(&a->db, pos[0]) == -1) {
		rv = adm_failw("removing %s", pos[0]);
		goto done;
	}
	/* The account goes first, so nobody logs in while the home goes. */
	if ((rv = adm_db_save(a)) != ADM_OK || !purge)
		goto done;
	if (tree_remove(home) == -1 && errno != ENOENT)
		rv = adm_failw("user %s removed, but not all of %s", pos[0],
		    home);
 done:
	adm_db_close(a);
	return rv;
}
