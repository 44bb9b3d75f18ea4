/*
 * The quota ledger: reserve/release, limits, overflow edges, attach/detach,
 * slot reuse, reservations racing from several forked processes on the
 * real MAP_SHARED table, and what a confined session keeps mapped.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "regress/unit/mapped.h"
#include "shared/ledger.h"

#define NCHILD	8

/* A fresh ledger with one slot for uid 1000 at this limit. */
static struct ledger *
one(uint64_t limit, int *slot)
{
	struct ledger	*l;
	int		 scan;

	ck_assert_ptr_nonnull(l = ledger_create(16));
	*slot = ledger_attach(l, 1000, limit, 10, &scan);
	ck_assert_int_ge(*slot, 0);
	ck_assert_int_eq(scan, 1);
	ledger_set_used(l, *slot, 0);
	return l;
}

static uint64_t
used_of(struct ledger *l, int slot)
{
	uint64_t	used, limit;

	ledger_get(l, slot, &used, &limit);
	return used;
}

static uint64_t
limit_of(struct ledger *l, int slot)
{
	uint64_t	used, limit;

	ledger_get(l, slot, &used, &limit);
	return limit;
}

static struct ledger_count *
count(struct ledger *l, int slot)
{
	return (struct ledger_count *)(void *)(l->counts +
	    (size_t)slot * l->pagesz);
}

/* Slots owned by uid (in use); must never be more than one. */
static int
slots_of(struct ledger *l, uint32_t uid)
{
	uint32_t	i;
	int		n = 0;

	for (i = 0; i < l->nslots; i++)
		if (atomic_load(&l->slots[i].inuse) &&
		    atomic_load(&l->slots[i].uid) == uid)
			n++;
	return n;
}

/* Shared memory for the racing children. */
static void *
shared(size_t len)
{
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/* Wait for every child; each must exit 0. */
static void
reap_all(pid_t *pids, int n)
{
	int	i, status;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d failed (status %#x)", i, status);
	}
}

/*
 * A session confined to its slot keeps that slot's counter page and
 * nothing else of the ledger: not the index the master acts on, not
 * another account's counter. Its own charging still works.
 */
START_TEST(test_confine)
{
	struct ledger	*l;
	const void	*head, *other, *last;
	size_t		 pg;
	int		 a, b, scan;

	ck_assert_ptr_nonnull(l = ledger_create(64));
	pg = l->pagesz;
	a = ledger_attach(l, 1000, 1000, 10, &scan);
	ledger_set_used(l, a, 0);
	b = ledger_attach(l, 1001, 1000, 10, &scan);
	ledger_set_used(l, b, 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(ledger_reserve(l, b, 700), 0);
	/* two counters never share a page */
	ck_assert_uint_ge((uintptr_t)l->counts + (size_t)b * pg -
	    ((uintptr_t)l->counts + (size_t)a * pg), pg);
	head = l->shm;
	other = l->counts + (size_t)b * pg;
	last = l->counts + (size_t)(l->nslots - 1) * pg;
	ck_assert(mapped(head, pg) && mapped(l->slots, pg) &&
	    mapped(other, pg) && mapped(last, pg));

	errno = 0;
	ck_assert_int_eq(ledger_confine(l, 64), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ledger_confine(l, a), 0);
	ck_assert_ptr_null(l->shm);
	ck_assert(!mapped(head, pg));
	ck_assert(!mapped(other, pg));
	ck_assert(!mapped(last, pg));
	ck_assert(mapped(l->counts + (size_t)a * pg, pg));
	/* its own account: charged and read as before */
	ck_assert_int_eq(ledger_reserve(l, a, 600), 0);
	ck_assert_int_eq(ledger_reserve(l, a, 401), -1);
	ledger_release(l, a, 100);
	ck_assert_uint_eq(used_of(l, a), 500);
	ck_assert_uint_eq(limit_of(l, a), 1000);
	ck_assert_int_eq(ledger_confine(l, a), -1);	/* once */
	ledger_destroy(l);
}
END_TEST

START_TEST(test_create_bad)
{
	errno = 0;
	ck_assert_ptr_null(ledger_create(0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(ledger_create((1U << 24) + 1));
	ck_assert_int_eq(errno, EINVAL);
	ledger_destroy(NULL);	/* harmless */
}
END_TEST

START_TEST(test_reserve_release)
{
	struct ledger	*l;
	int		 s;

	l = one(1000, &s);
	ck_assert_int_eq(ledger_reserve(l, s, 0), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 400), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 600), 0);	/* exactly full */
	ck_assert_uint_eq(used_of(l, s), 1000);
	ck_assert_int_eq(ledger_reserve(l, s, 1), -1);	/* one past */
	ck_assert_uint_eq(used_of(l, s), 1000);		/* unchanged */
	ck_assert_int_eq(ledger_reserve(l, s, 0), 0);	/* nothing fits */
	ledger_release(l, s, 1);
	ck_assert_int_eq(ledger_reserve(l, s, 2), -1);
	ck_assert_int_eq(ledger_reserve(l, s, 1), 0);
	ledger_release(l, s, 1000);
	ck_assert_uint_eq(used_of(l, s), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 1001), -1);
	ck_assert_uint_eq(used_of(l, s), 0);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_release_clamps)
{
	struct ledger	*l;
	int		 s;

	l = one(1000, &s);
	ck_assert_int_eq(ledger_reserve(l, s, 10), 0);
	ledger_release(l, s, 11);
	ck_assert_uint_eq(used_of(l, s), 0);
	ledger_release(l, s, UINT64_MAX);
	ck_assert_uint_eq(used_of(l, s), 0);
	ledger_release(l, s, 0);
	ck_assert_uint_eq(used_of(l, s), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 1000), 0);
	ledger_release(l, s, UINT64_MAX);
	ck_assert_uint_eq(used_of(l, s), 0);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_unlimited)
{
	struct ledger	*l;
	int		 s;

	l = one(0, &s);
	ck_assert_int_eq(ledger_reserve(l, s, 1ULL << 40), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 1ULL << 50), 0);
	ck_assert_uint_eq(used_of(l, s), (1ULL << 40) + (1ULL << 50));
	ck_assert_uint_eq(limit_of(l, s), 0);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_overflow)
{
	struct ledger	*l;
	int		 s;

	/* unlimited: used may reach UINT64_MAX but never wrap */
	l = one(0, &s);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX - 1), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 2), -1);
	ck_assert_uint_eq(used_of(l, s), UINT64_MAX - 1);
	ck_assert_int_eq(ledger_reserve(l, s, 1), 0);
	ck_assert_uint_eq(used_of(l, s), UINT64_MAX);
	ck_assert_int_eq(ledger_reserve(l, s, 1), -1);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX), -1);
	ck_assert_uint_eq(used_of(l, s), UINT64_MAX);
	ck_assert_int_eq(ledger_reserve(l, s, 0), 0);
	ledger_release(l, s, UINT64_MAX);
	ck_assert_uint_eq(used_of(l, s), 0);
	ledger_destroy(l);

	/* the largest limit */
	l = one(UINT64_MAX, &s);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 1), -1);
	ledger_release(l, s, 1);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX), -1);
	ck_assert_int_eq(ledger_reserve(l, s, 1), 0);
	ck_assert_uint_eq(used_of(l, s), UINT64_MAX);
	ledger_destroy(l);

	/* a huge request against a small limit, nothing charged */
	l = one(4096, &s);
	ck_assert_int_eq(ledger_reserve(l, s, 100), 0);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX), -1);
	ck_assert_int_eq(ledger_reserve(l, s, UINT64_MAX - 99), -1);
	ck_assert_uint_eq(used_of(l, s), 100);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_limit_change)
{
	struct ledger	*l;
	int		 s;

	l = one(1000, &s);
	ck_assert_int_eq(ledger_reserve(l, s, 900), 0);
	ck_assert_int_eq(ledger_reserve(l, s, 200), -1);
	/* raised: the same session sees it at once */
	ledger_set_limit(l, 1000, 2000);
	ck_assert_uint_eq(limit_of(l, s), 2000);
	ck_assert_int_eq(ledger_reserve(l, s, 200), 0);
	ck_assert_uint_eq(used_of(l, s), 1100);
	/* lowered below usage: kept, nothing more fits until released */
	ledger_set_limit(l, 1000, 500);
	ck_assert_uint_eq(used_of(l, s), 1100);
	ck_assert_int_eq(ledger_reserve(l, s, 1), -1);
	ledger_release(l, s, 600);
	ck_assert_uint_eq(used_of(l, s), 500);
	ck_assert_int_eq(ledger_reserve(l, s, 1), -1);
	ledger_release(l, s, 1);
	ck_assert_int_eq(ledger_reserve(l, s, 1), 0);
	/* made unlimited */
	ledger_set_limit(l, 1000, 0);
	ck_assert_int_eq(ledger_reserve(l, s, 1ULL << 40), 0);
	/* a uid without a slot: no slot is made or changed */
	ledger_set_limit(l, 4242, 7);
	ck_assert_int_eq(slots_of(l, 4242), 0);
	ck_assert_uint_eq(limit_of(l, s), 0);
	/*
	 * A later login with an older copy of the user db does not undo the
	 * limit set since (by the master's reload): the slot keeps it.
	 */
	{
		int	scan, s2;

		ledger_set_limit(l, 1000, 5000);
		s2 = ledger_attach(l, 1000, 3000, 10, &scan);
		ck_assert_int_eq(s2, s);
		ck_assert_int_eq(scan, 0);
		ck_assert_uint_eq(limit_of(l, s), 5000);
		/* idle, then back: still the reloaded limit */
		ledger_detach(l, s);
		ledger_detach(l, s);
		s2 = ledger_attach(l, 1000, 3000, 10, &scan);
		ck_assert_int_eq(s2, s);
		ck_assert_int_eq(scan, 1);
		ck_assert_uint_eq(limit_of(l, s), 5000);
	}
	ledger_destroy(l);
}
END_TEST

START_TEST(test_attach_detach)
{
	struct ledger	*l;
	int		 s, s2, scan;

	ck_assert_ptr_nonnull(l = ledger_create(16));
	ck_assert_uint_eq(ledger_sessions(l, 1000), 0);
	s = ledger_attach(l, 1000, 5000, 3, &scan);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(scan, 1);		/* first: walks the home */
	ck_assert_uint_eq(atomic_load(&count(l, s)->scan), SCAN_RUNNING);
	s2 = ledger_attach(l, 1000, 5000, 3, &scan);
	ck_assert_int_eq(s2, s);		/* one slot per account */
	ck_assert_int_eq(scan, 0);		/* waits for the first */
	ck_assert_int_eq(ledger_wait_scan(l, s, 30), -1);	/* times out */
	ledger_set_used(l, s, 1234);
	ck_assert_int_eq(ledger_wait_scan(l, s, 30), 0);
	ck_assert_uint_eq(used_of(l, s), 1234);
	ck_assert_uint_eq(ledger_sessions(l, 1000), 2);
	ck_assert_int_eq(ledger_attach(l, 1000, 5000, 3, &scan), s);
	ck_assert_uint_eq(ledger_sessions(l, 1000), 3);
	/* max_sessions reached: refused, count unchanged */
	ck_assert_int_eq(ledger_attach(l, 1000, 5000, 3, &scan),
	    LEDGER_TOO_MANY);
	ck_assert_int_eq(scan, 0);
	ck_assert_uint_eq(ledger_sessions(l, 1000), 3);
	ck_assert_int_eq(slots_of(l, 1000), 1);
	ledger_detach(l, s);
	ck_assert_uint_eq(ledger_sessions(l, 1000), 2);
	ck_assert_int_eq(ledger_attach(l, 1000, 5000, 3, &scan), s);
	ck_assert_int_eq(ledger_attach(l, 1000, 5000, 3, &scan),
	    LEDGER_TOO_MANY);
	ledger_detach(l, s);
	ledger_detach(l, s);
	ledger_detach(l, s);
	ck_assert_uint_eq(ledger_sessions(l, 1000), 0);
	ledger_detach(l, s);			/* never below zero */
	ck_assert_uint_eq(ledger_sessions(l, 1000), 0);
	ledger_detach(l, -1);			/* out of range: ignored */
	ledger_detach(l, 16);
	ledger_detach(l, LEDGER_FULL);
	/* idle slot: kept for the account, usage kept, rescanned on login */
	ck_assert_int_eq(slots_of(l, 1000), 1);
	ck_assert_uint_eq(used_of(l, s), 1234);
	ck_assert_int_eq(ledger_attach(l, 1000, 5000, 3, &scan), s);
	ck_assert_int_eq(scan, 1);
	ledger_set_used(l, s, 99);
	ck_assert_uint_eq(used_of(l, s), 99);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_scanner_died)
{
	struct ledger	*l;
	int		 s, scan;

	ck_assert_ptr_nonnull(l = ledger_create(16));
	s = ledger_attach(l, 7, 0, 5, &scan);
	ck_assert_int_eq(scan, 1);
	/* the scanner goes before it is done: the next login scans */
	ledger_detach(l, s);
	ck_assert_uint_eq(atomic_load(&count(l, s)->scan), SCAN_NONE);
	ck_assert_int_eq(ledger_wait_scan(l, s, 10), 0);
	ck_assert_int_eq(ledger_attach(l, 7, 0, 5, &scan), s);
	ck_assert_int_eq(scan, 1);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_full_and_reuse)
{
	struct ledger	*l;
	int		 s[16], scan, i, x;

	ck_assert_ptr_nonnull(l = ledger_create(16));
	for (i = 0; i < 16; i++) {
		s[i] = ledger_attach(l, 2000 + (uid_t)i, 100, 2, &scan);
		ck_assert_int_ge(s[i], 0);
		ck_assert_int_eq(scan, 1);
		ledger_set_used(l, s[i], (uint64_t)i);
	}
	/* 16 accounts all with a live session: the 17th finds no slot */
	ck_assert_int_eq(ledger_attach(l, 3000, 100, 2, &scan), LEDGER_FULL);
	ck_assert_int_eq(scan, 0);
	ck_assert_int_eq(slots_of(l, 3000), 0);
	/* a known account still gets its own slot */
	ck_assert_int_eq(ledger_attach(l, 2005, 100, 2, &scan), s[5]);
	ledger_detach(l, s[5]);
	/* two go idle; the one idle longest is taken */
	ledger_detach(l, s[3]);
	ledger_detach(l, s[9]);
	atomic_store(&l->slots[s[3]].lastuse, 500);
	atomic_store(&l->slots[s[9]].lastuse, 100);
	x = ledger_attach(l, 3000, 777, 2, &scan);
	ck_assert_int_eq(x, s[9]);
	ck_assert_int_eq(scan, 1);
	ck_assert_uint_eq(used_of(l, x), 0);		/* not 2009's bytes */
	ck_assert_uint_eq(limit_of(l, x), 777);
	ck_assert_uint_eq(ledger_sessions(l, 3000), 1);
	ck_assert_int_eq(slots_of(l, 2009), 0);
	ck_assert_uint_eq(ledger_sessions(l, 2009), 0);
	ledger_set_limit(l, 2009, 1);			/* gone: no effect */
	ck_assert_uint_eq(limit_of(l, x), 777);
	/* the other idle one */
	ck_assert_int_eq(ledger_attach(l, 3001, 50, 2, &scan), s[3]);
	ck_assert_int_eq(ledger_attach(l, 3002, 50, 2, &scan), LEDGER_FULL);
	/* 2009 comes back: full again */
	ck_assert_int_eq(ledger_attach(l, 2009, 100, 2, &scan), LEDGER_FULL);
	for (i = 0; i < 16; i++)
		ck_assert_int_le(slots_of(l, 2000 + (uint32_t)i), 1);
	ledger_destroy(l);
}
END_TEST

START_TEST(test_free_before_idle)
{
	struct ledger	*l;
	int		 a, b, c, scan;

	/* a free slot is used before an idle one is taken from its owner */
	ck_assert_ptr_nonnull(l = ledger_create(16));
	a = ledger_attach(l, 1, 0, 2, &scan);
	b = ledger_attach(l, 2, 0, 2, &scan);
	ledger_detach(l, a);
	c = ledger_attach(l, 3, 0, 2, &scan);
	ck_assert_int_ne(c, a);
	ck_assert_int_ne(c, b);
	ck_assert_int_eq(slots_of(l, 1), 1);
	ledger_destroy(l);
}
END_TEST

/*
 * NCHILD processes reserve against one limit until refused: half of them
 * 1 byte at a time, half 4 KiB. The total never passes the limit and equals
 * exactly what was granted; since the 1-byte takers only stop when nothing
 * at all is left, the limit is reached exactly.
 */
START_TEST(test_race_reserve)
{
	const uint64_t	 limit = (1ULL << 20) + 12345;
	struct ledger	*l;
	_Atomic uint64_t *granted;
	_Atomic uint32_t *go;
	pid_t		 pids[NCHILD];
	uint64_t	 sum = 0;
	int		 s, i;

	l = one(limit, &s);
	granted = shared(sizeof(*granted) * NCHILD);
	go = shared(sizeof(*go));
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			uint64_t	chunk = (i % 2) ? 4096 : 1, mine = 0;

			while (atomic_load(go) == 0)
				;
			while (ledger_reserve(l, s, chunk) == 0) {
				mine += chunk;
				if (used_of(l, s) > limit)
					_exit(3);
			}
			atomic_store(&granted[i], mine);
			_exit(0);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	atomic_store(go, 1);
	reap_all(pids, NCHILD);
	for (i = 0; i < NCHILD; i++)
		sum += atomic_load(&granted[i]);
	ck_assert_uint_eq(used_of(l, s), sum);
	ck_assert_uint_eq(used_of(l, s), limit);
	ledger_destroy(l);
}
END_TEST

/* Reserve and release racing: nothing is lost or invented. */
START_TEST(test_race_reserve_release)
{
	const uint64_t	 limit = 64 * 4096;
	struct ledger	*l;
	_Atomic uint64_t *held;
	pid_t		 pids[NCHILD];
	uint64_t	 sum = 0;
	int		 s, i;

	l = one(limit, &s);
	held = shared(sizeof(*held) * NCHILD);
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			uint64_t	chunk = 1 + (uint64_t)i * 997, mine = 0;
			int		k;

			for (k = 0; k < 200000; k++) {
				if (k % 3 != 2) {
					if (ledger_reserve(l, s, chunk) == 0)
						mine += chunk;
				} else if (mine >= chunk) {
					ledger_release(l, s, chunk);
					mine -= chunk;
				}
				if (used_of(l, s) > limit)
					_exit(3);
			}
			atomic_store(&held[i], mine);
			_exit(0);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	reap_all(pids, NCHILD);
	for (i = 0; i < NCHILD; i++)
		sum += atomic_load(&held[i]);
	ck_assert_uint_le(sum, limit);
	ck_assert_uint_eq(used_of(l, s), sum);
	ledger_destroy(l);
}
END_TEST

/*
 * Logins and logouts racing: at most max_sessions hold a slot of one
 * account at any time, an account never gets two slots, and the count is
 * back to zero at the end.
 */
START_TEST(test_race_attach)
{
	struct ledger	*l;
	_Atomic uint32_t *live;		/* [0..3] per uid, [4] the worst seen */
	pid_t		 pids[NCHILD];
	uint32_t	 u;
	int		 i;

	ck_assert_ptr_nonnull(l = ledger_create(16));
	live = shared(sizeof(*live) * 5);
	for (i = 0; i < NCHILD; i++) {
		if ((pids[i] = fork()) == 0) {
			int	k, slot, scan;

			for (k = 0; k < 20000; k++) {
				uint32_t uid = 100 + (uint32_t)((k + i) % 4), n;

				slot = ledger_attach(l, uid, 0, 3, &scan);
				if (slot == LEDGER_TOO_MANY)
					continue;
				if (slot < 0)
					_exit(4);	/* 4 uids, 16 slots */
				n = atomic_fetch_add(&live[uid - 100], 1) + 1;
				if (n > 3)
					_exit(5);
				if (n > atomic_load(&live[4]))
					atomic_store(&live[4], n);
				if (scan)
					ledger_set_used(l, slot, 0);
				if (slots_of(l, uid) != 1)
					_exit(6);
				atomic_fetch_sub(&live[uid - 100], 1);
				ledger_detach(l, slot);
			}
			_exit(0);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	reap_all(pids, NCHILD);
	for (u = 100; u < 104; u++) {
		ck_assert_uint_eq(ledger_sessions(l, u), 0);
		ck_assert_int_eq(slots_of(l, u), 1);
	}
	ck_assert_uint_le(atomic_load(&live[4]), 3);
	ledger_destroy(l);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ledger");
	TCase	*tc = tcase_create("core");
	TCase	*race = tcase_create("race");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(tc, test_create_bad);
	tcase_add_test(tc, test_reserve_release);
	tcase_add_test(tc, test_release_clamps);
	tcase_add_test(tc, test_unlimited);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_limit_change);
	tcase_add_test(tc, test_attach_detach);
	tcase_add_test(tc, test_scanner_died);
	tcase_add_test(tc, test_full_and_reuse);
	tcase_add_test(tc, test_free_before_idle);
	tcase_add_test(tc, test_confine);
	suite_add_tcase(s, tc);
	tcase_set_timeout(race, 60);
	tcase_add_test(race, test_race_reserve);
	tcase_add_test(race, test_race_reserve_release);
	tcase_add_test(race, test_race_attach);
	suite_add_tcase(s, race);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
