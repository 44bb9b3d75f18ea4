/* moatadm quota, list, show: limits and usage. */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/size.h"
#include "shared/userdb.h"
#include "shared/log.h"
#include "admin/admin.h"

static void	flags_str(const struct user *, char *, size_t);
static int	used_str(const struct user *, uint64_t *, char *, size_t);

int
cmd_quota(struct adm *a, int argc, char **argv)
{
	struct user	*u;
	const char	*arg;
	char		*pos[2], vis[64], b[16];
	uint64_t	 v, limit;
	int		 force = 0, rv, sign = 0;
	const struct adm_opt opts[] = {
		{ "force", 0, NULL, &force },
	};

	if ((rv = adm_args(argc, argv, opts, 1, pos, 2, 2,
	    "quota NAME SIZE|+SIZE|-SIZE [--force]")) != ADM_OK)
		return rv;
	arg = pos[1];
	if (arg[0] == '+' || arg[0] == '-')
		sign = *arg++ == '+' ? 1 : -1;
	if (size_parse(arg, &v) == -1)
		return adm_bad("invalid size '%s'",
		    log_vis(vis, sizeof(vis), pos[1]));
	if ((rv = adm_db_open(a, 1, 0)) != ADM_OK)
		return rv;
	if ((u = adm_user(a, pos[0], &rv)) == NULL)
		goto done;
	limit = v;
	if (sign != 0 && u->quota == 0) {
		rv = adm_bad("%s has no quota (unlimited): give an absolute "
		    "size", u->name);
		goto done;
	}
	if (sign > 0 && (limit = u->quota + v) < v) {
		rv = adm_bad("quota would overflow");
		goto done;
	}
	if (sign < 0) {
		if (v >= u->quota) {
			rv = adm_bad("quota of %s is %s: cannot take %s off "
			    "(use 0 for unlimited)", u->name,
			    adm_fmt_size(u->quota, b, sizeof(b)),
			    log_vis(vis, sizeof(vis), arg));
			goto done;
		}
		limit = u->quota - v;
	}
	if ((rv = adm_quota_check(a, u, u->home, limit, force)) != ADM_OK)
		goto done;
	if (limit == u->quota)
		goto done;
	u->quota = limit;
	rv = adm_db_save(a);	/* also tells the daemon */
 done:
	adm_db_close(a);
	return rv;
}

static void
flags_str(const struct user *u, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s",
	    (u->flags & USER_F_LOCKED) ? "locked" : "-");
}

/* Usage of u's home as text ("?" if it cannot be read); 0 or -1. */
static int
used_str(const struct user *u, uint64_t *used, char *buf, size_t len)
{
	if (tree_usage(u->home, used) == -1) {
		(void)snprintf(buf, len, "?");
		return -1;
	}
	(void)adm_fmt_size(*used, buf, len);
	return 0;
}

int
cmd_list(struct adm *a, int argc, char **argv)
{
	const struct user	*u;
	char			*pos[1], used[16], lim[16], fl[16], ul[40];
	uint64_t		 n;
	size_t			 i;
	int			 rv;

	if ((rv = adm_args(argc, argv, NULL, 0, pos, 0, 0, "list")) !=
	    ADM_OK)
		return rv;
	if ((rv = adm_db_open(a, 0, 0)) != ADM_OK)
		return rv;
	for (i = 0; i < a->db.nusers; i++) {
		u = &a->db.users[i];
		(void)used_str(u, &n, used, sizeof(used));
		if (u->quota == 0)
			(void)snprintf(lim, sizeof(lim), "unlimited");
		else
			(void)adm_fmt_size(u->quota, lim, sizeof(lim));
		flags_str(u, fl, sizeof(fl));
		(void)snprintf(ul, sizeof(ul), "%s/%s", used, lim);
		printf("%-16s %-6u %-16s %-6s %s\n", u->name,
		    (unsigned)u->uid, ul, fl, u->home);
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		rv = adm_failw("stdout");
	adm_db_close(a);
	return rv;
}

int
cmd_show(struct adm *a, int argc, char **argv)
{
	const struct user	*u;
	char			*pos[1], b1[16], b2[16], fl[16];
	const char		*pw;
	uint64_t		 used = 0;
	int			 rv, known;

	if ((rv = adm_args(argc, argv, NULL, 0, pos, 1, 1, "show NAME")) !=
	    ADM_OK)
		return rv;
	if ((rv = adm_db_open(a, 0, 0)) != ADM_OK)
		return rv;
	if ((u = adm_user(a, pos[0], &rv)) == NULL)
		goto done;
	known = used_str(u, &used, b1, sizeof(b1)) == 0;
	flags_str(u, fl, sizeof(fl));
	if (u->hash[0] == '!' || (u->flags & USER_F_LOCKED))
		pw = "locked";
	else if (strncmp(u->hash, "$y$", 3) == 0)
		pw = "set (yescrypt)";
	else if (u->hash[0] == '$')
		pw = "set";
	else
		pw = "none";
	printf("name:     %s\n", u->name);
	printf("uid:      %u\n", (unsigned)u->uid);
	printf("gid:      %u\n", (unsigned)u->gid);
	printf("home:     %s\n", u->home);
	printf("flags:    %s\n", fl);
	printf("password: %s\n", pw);
	if (known)
		printf("used:     %s (%llu bytes)\n", b1,
		    (unsigned long long)used);
	else
		printf("used:     unknown (%s not readable)\n", u->home);
	if (u->quota == 0) {
		printf("limit:    unlimited\n");
		printf("free:     unlimited\n");
	} else {
		printf("limit:    %s (%llu bytes)\n",
		    adm_fmt_size(u->quota, b2, sizeof(b2)),
		    (unsigned long long)u->quota);
		used = used > u->quota ? 0 : u->quota - used;
		if (known)
			printf("free:     %s (%llu bytes)\n",
			    adm_fmt_size(used, b2, sizeof(b2)),
			    (unsigned long long)used);
		else
			printf("free:     unknown\n");
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		rv = adm_failw("stdout");
 done:
	adm_db_close(a);
	return rv;
}
