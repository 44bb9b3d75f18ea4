/* The pid a pidfile names (the daemon's, for moatadm and moatftpd -t). */
#ifndef MOAT_PIDREAD_H
#define MOAT_PIDREAD_H

#include <sys/types.h>

/* The pid written in path (a number >= 2 on its first line), or -1 when
 * there is no such file (or link), or it holds no such number. */
pid_t	pidfile_pid(const char *path);

#endif
