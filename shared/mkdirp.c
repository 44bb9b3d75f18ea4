/* mkdir -p. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <bsd/string.h>

#include "shared/mkdirp.h"

int
mkdir_p(const char *path, mode_t mode, int flags)
{
	char		 p[PATH_MAX], *s, c;
	struct stat	 st;

	if (strlcpy(p, path, sizeof(p)) >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (p[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			if ((flags & MKDIRP_EXACT) && chmod(p, mode) == -1)
				return -1;	/* not umask's mode */
		} else if (errno != EEXIST)
			return -1;
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}
