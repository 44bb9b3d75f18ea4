/*
 * The scoreboard: one shared-memory entry per live connection, read by the
 * master (reaping, ending sessions) and `moatadm who`/`kick`.
 *
 * Two parts. The entries (pid, account, ledger slot) are written only by
 * the master and the root monitors, and are what the master and `moatadm
 * kick` act on. What a session reports of itself (its command, its
 * transfer) is a separate activity record alone on its own page: the
 * session keeps that page mapped and nothing else (scoreboard_confine).
 */
#ifndef MOAT_SCOREBOARD_H
#define MOAT_SCOREBOARD_H

#include <sys/types.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SB_ENTRIES	10000

/* The master's and the monitor's record of a connection. */
struct sb_entry {
	_Atomic int32_t		pid;		/* 0 = free */
	_Atomic int32_t		slot;		/* ledger slot, -1 none */
	_Atomic uint32_t	uid;
	char			user[33];
	char			addr[64];
	_Atomic int64_t		start;		/* connect time */
	_Atomic int64_t		login;		/* login time, 0 before */
};

/* What the connection's process says it does: on its own page. */
struct sb_activity {
	_Atomic int64_t		last;		/* last command */
	char			cmd[96];	/* current command (visible) */
	_Atomic uint64_t	xfer_done;	/* bytes of the transfer */
	_Atomic uint64_t	xfer_total;	/* 0 = unknown */
	_Atomic int64_t		xfer_start;	/* ms since epoch, 0 = idle */
};

struct scoreboard {
	uint32_t	nentries;
	uint32_t	pagesz;		/* one activity page per entry */
	uint64_t	act_off;	/* offset of the activity pages */
	uint64_t	size;		/* of the whole mapping (the file) */
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
/* Entry idx's activity record (idx checked by the caller). */
struct sb_activity	*scoreboard_act(const struct scoreboard *, int idx);
/*
 * In a session, before it drops its privileges: unmap the whole scoreboard
 * but idx's activity page, and return that record; NULL on failure.
 */
struct sb_activity	*scoreboard_confine(struct scoreboard *, int idx);
/* Unmap it, in a process that must not touch it (the pre-login jail). */
void			 scoreboard_unmap(struct scoreboard *);

#endif
