/* Helpers of the file system commands that listing.c and hashcmd.c share. */
#ifndef MOAT_FSOPS_H
#define MOAT_FSOPS_H

#include <sys/types.h>

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
/*
 * An open-file-description lock (type F_RDLCK, F_WRLCK or F_UNLCK) on the
 * one byte at off of fd: waiting for it (F_OFD_SETLKW, EINTR retried) when
 * wait, else failing at once. 0 or -1.
 */
int	fs_lock_byte(int fd, short type, off_t off, int wait);

#endif
