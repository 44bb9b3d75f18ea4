/* The session's side of the quota ledger. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>

#include "daemon/fsops.h"
#include "daemon/hashcmd.h"
#include "daemon/quota.h"
#include "daemon/session.h"
#include "shared/ledger.h"
#include "shared/log.h"

static uint64_t	walk_total;

/*
 * The writers of one file (uploads in several sessions, the cut of an
 * overwrite) take turns, one write at a time: the size a write is charged
 * against must not change under it (two writes that both took the size
 * before the other landed were both charged the same growth).
 */
int
quota_size_lock(int fd, short type)
{
	return fs_lock_byte(fd, type, SIZE_LOCK_OFF, 1);
}

void
quota_size_unlock(int fd)
{
	int	saved = errno;

	if (quota_size_lock(fd, F_UNLCK) == -1)
		log_warn("%s", __func__);
	errno = saved;
}

static int
walk_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path;
	(void)f;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		walk_total += (uint64_t)st->st_size;
	return 0;
}

void
quota_init(struct session *s, int need_scan, const char *top)
{
	if (s->slot < 0)
		return;
	if (need_scan) {
		walk_total = 0;
		if (nftw(top, walk_one, 32, FTW_PHYS | FTW_MOUNT) == -1)
			log_warn("quota scan of the home");
		ledger_set_used(s->ledger, s->slot, walk_total);
		log_debug("quota scan: %llu bytes used",
		    (unsigned long long)walk_total);
	} else if (ledger_wait_scan(s->ledger, s->slot, 60000) == -1)
		log_warnx("quota scan by another session did not finish");
}

int
quota_reserve(struct session *s, uint64_t n)
{
	if (s->slot < 0 || n == 0)
		return 0;
	return ledger_reserve(s->ledger, s->slot, n);
}

void
quota_release(struct session *s, uint64_t n)
{
	if (s->slot >= 0 && n > 0)
		ledger_release(s->ledger, s->slot, n);
}

int
quota_get(struct session *s, uint64_t *used, uint64_t *limit, uint64_t *freep)
{
	if (s->slot < 0)
		return -1;
	ledger_get(s->ledger, s->slot, used, limit);
	if (*limit == 0)
		*freep = UINT64_MAX;
	else
		*freep = *limit > *used ? *limit - *used : 0;
	return 0;
}
