/*
 * The quota ledger: a MAP_SHARED table made by the master before any fork.
 * One slot per account in use. The hot path (reserve/release) is a CAS on
 * `used`; attaching and detaching a session take a short spin lock so that
 * one account never gets two slots.
 *
 * Two parts. The index (which uid holds which slot, its session count) is
 * written only by root: the master and the monitors. Each slot's counter
 * (used, limit, scan) sits alone on its own page, so that a session, which
 * must charge its account lock-free beside the others, keeps that one page
 * mapped and nothing else of the ledger (ledger_confine): it cannot read or
 * change another account's usage, or the index the master acts on.
 */
#ifndef MOAT_LEDGER_H
#define MOAT_LEDGER_H

#include <sys/types.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { SCAN_NONE = 0, SCAN_RUNNING, SCAN_DONE };

/* The index: root's. */
struct ledger_slot {
	_Atomic uint32_t	inuse;		/* 0 free, 1 owned by uid */
	_Atomic uint32_t	uid;
	_Atomic uint32_t	sessions;	/* live sessions of uid */
	_Atomic uint64_t	lastuse;	/* seconds, for reuse order */
};

/* A slot's counter, alone on its page: its sessions write it. */
struct ledger_count {
	_Atomic uint64_t	used;		/* bytes */
	_Atomic uint64_t	limit;		/* bytes, 0 = unlimited */
	_Atomic uint32_t	scan;		/* SCAN_* */
};

struct ledger_shm {
	_Atomic uint32_t	lock;
	_Atomic uint32_t	dbgen;		/* user db reloads by the master */
	struct ledger_slot	slots[];
};

/* The handle: private to each process (copied by fork), so the slot count
 * and the layout the root side relies on cannot be changed by a session. */
struct ledger {
	struct ledger_shm	*shm;		/* NULL once confined */
	struct ledger_slot	*slots;		/* shm->slots */
	char			*counts;	/* the counter pages */
	uint32_t		 nslots;
	size_t			 pagesz;
	size_t			 size;		/* of the mapping */
	int			 confined;	/* the one slot kept, or -1 */
};

enum {
	LEDGER_FULL = -1,		/* no free or idle slot */
	LEDGER_TOO_MANY = -2,		/* max sessions for this account */
};

/* mmap a shared ledger of nslots; NULL on failure. destroy unmaps it (in
 * a process that must not touch it, such as the pre-login jail). */
struct ledger	*ledger_create(uint32_t nslots);
void		 ledger_destroy(struct ledger *l);
/*
 * Count one more session of uid, at most max_sessions. Returns the slot,
 * or LEDGER_FULL / LEDGER_TOO_MANY. *need_scan is 1 when this session must
 * walk the home and call ledger_set_used (it was the only one alive).
 * limit is taken only by a new slot; an existing one keeps the limit that
 * ledger_set_limit gave it.
 */
int		 ledger_attach(struct ledger *l, uid_t uid, uint64_t limit,
		    uint32_t max_sessions, int *need_scan);
void		 ledger_detach(struct ledger *l, int slot);
/* Wait (bounded) until the usage scan of slot is done. 0, or -1 timed out. */
int		 ledger_wait_scan(struct ledger *l, int slot, int timeout_ms);
void		 ledger_set_used(struct ledger *l, int slot, uint64_t used);
/* Reserve n bytes: 0, or -1 when used + n would pass the limit. */
int		 ledger_reserve(struct ledger *l, int slot, uint64_t n);
/* Give back n bytes (never below zero). */
void		 ledger_release(struct ledger *l, int slot, uint64_t n);
/* Set the limit of uid's slot if it has one (reload). */
void		 ledger_set_limit(struct ledger *l, uid_t uid, uint64_t limit);
void		 ledger_get(struct ledger *l, int slot, uint64_t *used,
		    uint64_t *limit);
/* The user db generation: the master bumps it after each reload, so a
 * monitor forked before one knows its copy of the db is stale. */
uint32_t	 ledger_dbgen(struct ledger *l);
void		 ledger_dbgen_bump(struct ledger *l);
/* Sessions of uid alive now (0 if it has no slot). */
uint32_t	 ledger_sessions(struct ledger *l, uid_t uid);
/*
 * In a session, before it drops its privileges: unmap the whole ledger but
 * slot's counter page. From then on only the calls that take that slot
 * (wait_scan, set_used, reserve, release, get) may be used. 0, or -1.
 */
int		 ledger_confine(struct ledger *l, int slot);

#endif
