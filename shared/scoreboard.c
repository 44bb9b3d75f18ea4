/* The scoreboard: live connections in shared memory. */
#include <sys/types.h>
#include <sys/mman.h>

#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "shared/scoreboard.h"

struct scoreboard *
scoreboard_create(void)
{
	struct scoreboard	*sb;

	sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sb == MAP_FAILED)
		return NULL;
	sb->nentries = SB_ENTRIES;
	return sb;
}

int
scoreboard_claim(struct scoreboard *sb, pid_t pid, const char *addr)
{
	uint32_t	i;
	int32_t		zero;

	for (i = 0; i < sb->nentries; i++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&sb->e[i].pid, &zero,
		    (int32_t)pid)) {
			struct sb_entry *e = &sb->e[i];

			atomic_store(&e->slot, -1);
			atomic_store(&e->uid, 0);
			e->user[0] = '\0';
			e->cmd[0] = '\0';
			(void)strlcpy(e->addr, addr, sizeof(e->addr));
			atomic_store(&e->start, (int64_t)time(NULL));
			atomic_store(&e->login, 0);
			atomic_store(&e->last, (int64_t)time(NULL));
			atomic_store(&e->xfer_done, 0);
			atomic_store(&e->xfer_total, 0);
			atomic_store(&e->xfer_start, 0);
			return (int)i;
		}
	}
	return -1;
}

void
scoreboard_free(struct scoreboard *sb, int idx)
{
	if (idx >= 0 && (uint32_t)idx < sb->nentries)
		atomic_store(&sb->e[idx].pid, 0);
}
