/* Helpers of the file system commands that listing.c and hashcmd.c share. */
#ifndef MOAT_FSOPS_H
#define MOAT_FSOPS_H

#include <stddef.h>

struct session;

/*
 * The normalised virtual path of a command's argument, relative to the
 * cwd. -1 after replying 501 (no argument) or 553 (a name vpath_join
 * refuses: control bytes, too long).
 */
int	fs_path(struct session *s, const char *arg, char *out, size_t outlen);
/* The 4xx/5xx reply that matches a failed file system call. */
void	fs_reply_errno(struct session *s, int err);

#endif
