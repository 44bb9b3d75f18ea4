/* Virtual path joining and confined resolution. */
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "daemon/session.h"
#include "daemon/vpath.h"

int
vpath_join(const char *cwd, const char *arg, char *out, size_t outlen)
{
	char		 tmp[MOAT_PATH_MAX * 2];
	const char	*p, *q;
	size_t		 o = 0, n;

	for (p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	if (arg[0] == '/')
		n = strlcpy(tmp, arg, sizeof(tmp));
	else
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s/%s", cwd, arg);
	if (n >= sizeof(tmp) || outlen < 2)
		return -1;
	out[o++] = '/';
	out[o] = '\0';
	for (p = tmp; *p != '\0'; p = q) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q != '\0' && *q != '/'; q++)
			;
		n = (size_t)(q - p);
		if (n == 1 && p[0] == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;	/* the slash before it */
			out[o] = '\0';
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		if (o + n + 1 > outlen)
			return -1;
		memcpy(out + o, p, n);
		o += n;
		out[o] = '\0';
	}
	return 0;
}

int
vpath_open(const struct session *s, const char *vpath, int flags, mode_t mode)
{
	struct open_how	how;
	const char	*rel = vpath;

	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, s->rootfd, rel, &how, sizeof(how));
}

const char *
vpath_base(const char *vpath)
{
	const char *b = strrchr(vpath, '/');

	if (b == NULL)
		return vpath;
	return b[1] == '\0' ? vpath : b + 1;
}

int
vpath_parent(const struct session *s, const char *vpath, char *base,
    size_t baselen)
{
	char		 dir[MOAT_PATH_MAX];
	const char	*b;
	size_t		 dl;

	if (strcmp(vpath, "/") == 0 || (b = strrchr(vpath, '/')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (strlcpy(base, b + 1, baselen) >= baselen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	dl = (size_t)(b - vpath);
	if (dl == 0)
		dl = 1;		/* parent is "/" */
	if (dl >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, vpath, dl);
	dir[dl] = '\0';
	return vpath_open(s, dir, O_PATH | O_DIRECTORY, 0);
}
