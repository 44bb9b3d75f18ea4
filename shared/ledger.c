/* The quota ledger: lock-free charging, locked attach/detach. */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "shared/ledger.h"

static struct ledger_count *count_of(const struct ledger *, int);
static int	ledger_lock(struct ledger *);
static void	ledger_unlock(struct ledger *);
static uint64_t	now_s(void);

/* The counter of slot i, on its own page. */
static struct ledger_count *
count_of(const struct ledger *l, int i)
{
	return (struct ledger_count *)(void *)(l->counts +
	    (size_t)i * l->pagesz);
}

struct ledger *
ledger_create(uint32_t nslots)
{
	struct ledger	*l;
	long		 pg;
	size_t		 head;

	if (nslots == 0 || nslots > (1U << 24)) {
		errno = EINVAL;
		return NULL;
	}
	if ((pg = sysconf(_SC_PAGESIZE)) <= 0 ||
	    (size_t)pg < sizeof(struct ledger_count)) {
		errno = EINVAL;
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->nslots = nslots;
	l->pagesz = (size_t)pg;
	l->confined = -1;
	head = sizeof(struct ledger_shm) + (size_t)nslots *
	    sizeof(struct ledger_slot);
	head = (head + l->pagesz - 1) / l->pagesz * l->pagesz;
	l->size = head + (size_t)nslots * l->pagesz;
	/* pages are made when first touched: an idle slot costs none */
	l->shm = mmap(NULL, l->size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (l->shm == MAP_FAILED) {
		free(l);
		return NULL;
	}
	l->slots = l->shm->slots;	/* zero: every slot free */
	l->counts = (char *)l->shm + head;
	return l;
}

void
ledger_destroy(struct ledger *l)
{
	if (l == NULL)
		return;
	if (l->confined >= 0)
		munmap(count_of(l, l->confined), l->pagesz);
	else
		munmap(l->shm, l->size);
	free(l);
}

int
ledger_confine(struct ledger *l, int slot)
{
	char	*base, *keep, *end;

	if (l->confined >= 0 || slot < 0 || (uint32_t)slot >= l->nslots) {
		errno = EINVAL;
		return -1;
	}
	base = (char *)l->shm;
	keep = (char *)count_of(l, slot);
	end = base + l->size;
	if (munmap(base, (size_t)(keep - base)) == -1)
		return -1;
	l->shm = NULL;
	l->slots = NULL;
	l->confined = slot;
	if (keep + l->pagesz < end &&
	    munmap(keep + l->pagesz, (size_t)(end - keep - l->pagesz)) == -1)
		return -1;
	return 0;
}

static uint64_t
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/*
 * Bounded: a monitor killed while it held the lock leaves it taken, so a
 * lock held for two seconds is taken as broken, never waited on for ever.
 */
static int
ledger_lock(struct ledger *l)
{
	struct timespec	start, now;
	uint32_t	expect;
	unsigned	spins = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		expect = 0;
		if (atomic_compare_exchange_weak(&l->shm->lock, &expect, 1))
			return 0;
		if (++spins % 64 == 0) {
			sched_yield();
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= 2)
				return -1;
		}
	}
}

static void
ledger_unlock(struct ledger *l)
{
	atomic_store(&l->shm->lock, 0);
}

int
ledger_attach(struct ledger *l, uid_t uid, uint64_t limit,
    uint32_t max_sessions, int *need_scan)
{
	struct ledger_slot	*s;
	struct ledger_count	*c;
	int			 found = -1, freeslot = -1, idle = -1;
	uint64_t		 oldest = UINT64_MAX;
	uint32_t		 i;

	*need_scan = 0;
	if (ledger_lock(l) == -1)
		return LEDGER_FULL;	/* the lock is broken: refuse, clearly */
	for (i = 0; i < l->nslots; i++) {
		s = &l->slots[i];
		if (!atomic_load(&s->inuse)) {
			if (freeslot == -1)
				freeslot = (int)i;
			continue;
		}
		if (atomic_load(&s->uid) == (uint32_t)uid) {
			found = (int)i;
			break;
		}
		if (atomic_load(&s->sessions) == 0 &&
		    atomic_load(&s->lastuse) < oldest) {
			oldest = atomic_load(&s->lastuse);
			idle = (int)i;
		}
	}
	if (found == -1) {
		found = freeslot != -1 ? freeslot : idle;
		if (found == -1) {
			ledger_unlock(l);
			return LEDGER_FULL;
		}
		s = &l->slots[found];
		c = count_of(l, found);
		atomic_store(&s->uid, (uint32_t)uid);
		atomic_store(&s->sessions, 0);
		atomic_store(&c->used, 0);
		atomic_store(&c->limit, limit);
		atomic_store(&c->scan, SCAN_NONE);
		atomic_store(&s->inuse, 1);
	}
	/*
	 * A slot already there keeps its limit: the master sets it on every
	 * reload, and the caller's copy of the user db may predate that one.
	 */
	s = &l->slots[found];
	if (atomic_load(&s->sessions) >= max_sessions) {
		ledger_unlock(l);
		return LEDGER_TOO_MANY;
	}
	if (atomic_fetch_add(&s->sessions, 1) == 0) {
		/* alone: (re)scan, so that changes made by hand are seen */
		atomic_store(&count_of(l, found)->scan, SCAN_RUNNING);
		*need_scan = 1;
	}
	atomic_store(&s->lastuse, now_s());
	ledger_unlock(l);
	return found;
}

void
ledger_detach(struct ledger *l, int slot)
{
	struct ledger_slot	*s;
	int			 locked;

	if (slot < 0 || (uint32_t)slot >= l->nslots)
		return;
	s = &l->slots[slot];
	locked = ledger_lock(l) == 0;
	if (atomic_load(&s->sessions) > 0)
		atomic_fetch_sub(&s->sessions, 1);
	/* a scanner that died leaves the scan to the next login */
	if (atomic_load(&s->sessions) == 0 &&
	    atomic_load(&count_of(l, slot)->scan) == SCAN_RUNNING)
		atomic_store(&count_of(l, slot)->scan, SCAN_NONE);
	atomic_store(&s->lastuse, now_s());
	if (locked)
		ledger_unlock(l);
}

int
ledger_wait_scan(struct ledger *l, int slot, int timeout_ms)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		waited = 0;

	while (atomic_load(&count_of(l, slot)->scan) == SCAN_RUNNING) {
		if (waited >= timeout_ms)
			return -1;
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return 0;
}

void
ledger_set_used(struct ledger *l, int slot, uint64_t used)
{
	atomic_store(&count_of(l, slot)->used, used);
	atomic_store(&count_of(l, slot)->scan, SCAN_DONE);
}

int
ledger_reserve(struct ledger *l, int slot, uint64_t n)
{
	struct ledger_count	*s = count_of(l, slot);
	uint64_t		 used, limit, want;

	used = atomic_load(&s->used);
	do {
		limit = atomic_load(&s->limit);
		if (n > UINT64_MAX - used)
			return -1;
		want = used + n;
		if (limit != 0 && want > limit)
			return -1;
	} while (!atomic_compare_exchange_weak(&s->used, &used, want));
	return 0;
}

void
ledger_release(struct ledger *l, int slot, uint64_t n)
{
	struct ledger_count	*s = count_of(l, slot);
	uint64_t		 used, want;

	used = atomic_load(&s->used);
	do
		want = used > n ? used - n : 0;
	while (!atomic_compare_exchange_weak(&s->used, &used, want));
}

void
ledger_set_limit(struct ledger *l, uid_t uid, uint64_t limit)
{
	uint32_t	i;

	for (i = 0; i < l->nslots; i++)
		if (atomic_load(&l->slots[i].inuse) &&
		    atomic_load(&l->slots[i].uid) == (uint32_t)uid)
			atomic_store(&count_of(l, (int)i)->limit, limit);
}

void
ledger_get(struct ledger *l, int slot, uint64_t *used, uint64_t *limit)
{
	*used = atomic_load(&count_of(l, slot)->used);
	*limit = atomic_load(&count_of(l, slot)->limit);
}

uint32_t
ledger_sessions(struct ledger *l, uid_t uid)
{
	uint32_t	i;

	for (i = 0; i < l->nslots; i++)
		if (atomic_load(&l->slots[i].inuse) &&
		    atomic_load(&l->slots[i].uid) == (uint32_t)uid)
			return atomic_load(&l->slots[i].sessions);
	return 0;
}

uint32_t
ledger_dbgen(struct ledger *l)
{
	return atomic_load(&l->shm->dbgen);
}

void
ledger_dbgen_bump(struct ledger *l)
{
	atomic_fetch_add(&l->shm->dbgen, 1);
}
