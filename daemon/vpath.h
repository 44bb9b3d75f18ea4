/*
 * Virtual paths: "/" is the user's home. Joining and normalising is lexical
 * (".." stops at "/"); resolution goes through openat2(RESOLVE_IN_ROOT) from
 * the session's root fd, so symlinks cannot leave the home either.
 */
#ifndef MOAT_VPATH_H
#define MOAT_VPATH_H

#include <sys/types.h>
#include <stddef.h>

struct session;

/* Join cwd and arg (absolute or relative) into a normalised "/a/b".
 * -1 if too long or arg holds a control byte. */
int	vpath_join(const char *cwd, const char *arg, char *out, size_t outlen);
/* openat2 of a virtual path, confined to the root. -1 with errno. */
int	vpath_open(const struct session *s, const char *vpath, int flags,
	    mode_t mode);
/* O_PATH fd of the parent directory of vpath, and its last component in
 * base. -1 with errno (EINVAL for "/", which has no parent). */
int	vpath_parent(const struct session *s, const char *vpath, char *base,
	    size_t baselen);
/* Last component of a normalised path ("/" for the root). */
const char *vpath_base(const char *vpath);

#endif
