/*
 * The scoreboard: one shared-memory entry per live connection, written by
 * its monitor/session and read by the master (reaping) and `moatadm who`.
 */
#ifndef MOAT_SCOREBOARD_H
#define MOAT_SCOREBOARD_H

#include <sys/types.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define SB_ENTRIES	10000

struct sb_entry {
	_Atomic int32_t		pid;		/* 0 = free */
	_Atomic int32_t		slot;		/* ledger slot, -1 none */
	_Atomic uint32_t	uid;
	char			user[33];
	char			addr[64];
	_Atomic int64_t		start;		/* connect time */
	_Atomic int64_t		login;		/* login time, 0 before */
	_Atomic int64_t		last;		/* last command */
	char			cmd[96];	/* current command (visible) */
	_Atomic uint64_t	xfer_done;	/* bytes of the transfer */
	_Atomic uint64_t	xfer_total;	/* 0 = unknown */
	_Atomic int64_t		xfer_start;	/* ms since epoch, 0 = idle */
};

struct scoreboard {
	uint32_t	nentries;
	struct sb_entry	e[SB_ENTRIES];
};

/*
 * Create the shared scoreboard (master): in a new file at path, mode 0600,
 * so that `moatadm who` can map it; anonymous when path is NULL or "".
 * NULL on failure.
 */
struct scoreboard	*scoreboard_create(const char *path);
/* Map an existing scoreboard file read-only (moatadm); NULL on failure. */
const struct scoreboard	*scoreboard_open(const char *path);
/* "<pidfile>.sb": the file's path; 0 or -1 (no pidfile, too long). */
int			 scoreboard_path(const char *pidfile, char *buf,
			    size_t len);
/* Claim a free entry for pid (master side): index or -1. */
int			 scoreboard_claim(struct scoreboard *, pid_t, const char *addr);
void			 scoreboard_free(struct scoreboard *, int idx);
/* Unmap it, in a process that must not touch it (the pre-login jail). */
void			 scoreboard_unmap(struct scoreboard *);

#endif
