/* mkdir -p, for the client (get -r) and moatadm (homes, key directories). */
#ifndef MOAT_MKDIRP_H
#define MOAT_MKDIRP_H

#include <sys/types.h>

#define MKDIRP_EXACT	0x01	/* chmod each new directory to mode */

/*
 * Create path and every missing parent with mode (less the umask, unless
 * MKDIRP_EXACT). Directories that exist are left as they are. 0, or -1 with
 * errno (ENOTDIR if path, or a parent, exists and is no directory).
 */
int	mkdir_p(const char *path, mode_t mode, int flags);

#endif
