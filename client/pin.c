/* Pinned server certificates: ~/.config/moatftp/known_hosts, one
 * "host:port sha256-hex" a line, like ssh's known_hosts. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"

#define PIN_LINE_MAX	1024

static int	pin_dir(char *, size_t, int);

/* ~/.config/moatftp, created (0700) if mkdirs is set. */
static int
pin_dir(char *path, size_t len, int mkdirs)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;

	if (home == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return -1;
		home = pw->pw_dir;
	}
	if ((size_t)snprintf(path, len, "%s/.config", home) >= len)
		return -1;
	if (mkdirs && mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	if (strlcat(path, "/moatftp", len) >= len)
		return -1;
	if (mkdirs && mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* 0 and the pinned hex, 1 if none, -1 on error. */
int
pin_lookup(const char *hostport, char *hex, size_t len)
{
	char	 path[MOAT_PATH_MAX], line[PIN_LINE_MAX], *sp, *nl;
	FILE	*fp;
	int	 rv = 1;

	if (pin_dir(path, sizeof(path), 0) == -1 ||
	    strlcat(path, "/known_hosts", sizeof(path)) >= sizeof(path))
		return -1;
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 1 : -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (line[0] == '#' || (sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (strcmp(line, hostport) != 0)
			continue;
		if (strlcpy(hex, sp, len) >= len)
			rv = -1;
		else
			rv = 0;
		break;
	}
	fclose(fp);
	return rv;
}

int
pin_add(const char *hostport, const char *hex)
{
	char	 path[MOAT_PATH_MAX], line[PIN_LINE_MAX];
	int	 fd, n, rv = 0;

	if (pin_dir(path, sizeof(path), 1) == -1 ||
	    strlcat(path, "/known_hosts", sizeof(path)) >= sizeof(path))
		return -1;
	n = snprintf(line, sizeof(line), "%s %s\n", hostport, hex);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write(fd, line, (size_t)n) != n)
		rv = -1;
	if (close(fd) == -1)
		rv = -1;
	return rv;
}
