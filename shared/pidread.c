/* Reading the pid a pidfile names. */
#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "shared/pidread.h"

pid_t
pidfile_pid(const char *path)
{
	char		 buf[32];
	const char	*errstr;
	long long	 pid;
	ssize_t		 n;
	int		 fd;

	if (path[0] == '\0' || (fd = open(path, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	pid = strtonum(buf, 2, INT_MAX, &errstr);
	return errstr == NULL ? (pid_t)pid : -1;
}
