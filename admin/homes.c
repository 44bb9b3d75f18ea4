/*
 * Where a home may be: never holding home_root, never overlapping another
 * account's home. Paths are compared as written (with repeated and
 * trailing slashes folded) and, where they exist, as the kernel resolves
 * them, so "/srv//moatftp" or a link to home_root is no way around it.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "admin/admin.h"

static int	within_text(const char *, const char *);
static int	resolve(const char *, char *, size_t);
static int	within(const char *, const char *);

/* Copy p without repeated or trailing slashes ("/" stays "/"). */
void
adm_path_fold(const char *p, char *out, size_t len)
{
	size_t	n = 0;

	for (; *p != '\0' && n + 1 < len; p++)
		if (*p != '/' || n == 0 || out[n - 1] != '/')
			out[n++] = *p;
	while (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
}

/* 1 if inner is outer or lies under it; both already folded. */
static int
within_text(const char *inner, const char *outer)
{
	size_t	no = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return 1;
	return strncmp(inner, outer, no) == 0 &&
	    (inner[no] == '\0' || inner[no] == '/');
}

/* The path as the kernel resolves it: its longest existing part through
 * realpath(), the rest as written. 0, or -1 (too long). */
static int
resolve(const char *folded, char *out, size_t len)
{
	char	 head[PATH_MAX], *slash;
	size_t	 n;

	if (realpath(folded, out) != NULL)	/* out holds PATH_MAX */
		return 0;
	if ((errno != ENOENT && errno != ENOTDIR) ||
	    strlcpy(head, folded, sizeof(head)) >= sizeof(head) ||
	    (slash = strrchr(head, '/')) == NULL || slash[1] == '\0')
		return -1;
	*slash = '\0';
	if (resolve(head[0] == '\0' ? "/" : head, out, len) == -1)
		return -1;
	n = strcmp(out, "/") == 0 ? 0 : strlen(out);
	if ((size_t)snprintf(out + n, len - n, "/%s", slash + 1) >= len - n)
		return -1;
	return 0;
}

/* 1 if inner is outer or lies under it, as written or as resolved; 0 if
 * not; -1 (errno) if a path cannot be resolved: no proof of either. */
static int
within(const char *inner, const char *outer)
{
	char	fi[PATH_MAX], fo[PATH_MAX], ri[PATH_MAX], ro[PATH_MAX];

	adm_path_fold(inner, fi, sizeof(fi));
	adm_path_fold(outer, fo, sizeof(fo));
	if (within_text(fi, fo))
		return 1;
	if (resolve(fi, ri, sizeof(ri)) == -1 ||
	    resolve(fo, ro, sizeof(ro)) == -1)
		return -1;
	return within_text(ri, ro);
}

int
adm_home_check(const struct adm *a, const char *home,
    const struct user *self, const char *what)
{
	const struct user	*o;
	size_t			 i;
	int			 r;

	if ((r = within(a->conf.home_root, home)) == -1)
		return adm_failw("refusing %s %s: cannot resolve it or %s",
		    what, home, a->conf.home_root);
	if (r == 1)
		return adm_bad("refusing %s %s: it holds home_root %s", what,
		    home, a->conf.home_root);
	for (i = 0; i < a->db.nusers; i++) {
		o = &a->db.users[i];
		if (o == self)
			continue;
		if ((r = within(o->home, home)) == 0)
			r = within(home, o->home);
		if (r == -1)
			return adm_failw("refusing %s %s: cannot resolve it "
			    "or %s", what, home, o->home);
		if (r == 1)
			return adm_bad("refusing %s %s: it overlaps the home "
			    "of user %s (%s)", what, home, o->name, o->home);
	}
	return ADM_OK;
}
