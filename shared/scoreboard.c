/* The scoreboard: live connections in shared memory. */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shared/scoreboard.h"

/* The layout for this page size: entries, then one page per activity. */
static int
sb_layout(size_t pg, uint64_t *act_off, uint64_t *size)
{
	if (pg < sizeof(struct sb_activity) || (pg & (pg - 1)) != 0)
		return -1;
	*act_off = (sizeof(struct scoreboard) + pg - 1) / pg * pg;
	*size = *act_off + (uint64_t)SB_ENTRIES * pg;
	return 0;
}

struct scoreboard *
scoreboard_create(const char *path)
{
	struct scoreboard	*sb;
	uint64_t		 act_off, size;
	long			 pg;
	int			 fd = -1, flags = MAP_SHARED | MAP_ANONYMOUS;

	if ((pg = sysconf(_SC_PAGESIZE)) <= 0 ||
	    sb_layout((size_t)pg, &act_off, &size) == -1) {
		errno = EINVAL;
		return NULL;
	}
	if (path != NULL && path[0] != '\0') {
		/* a new file: never follow or reuse what someone left there */
		if (unlink(path) == -1 && errno != ENOENT)
			return NULL;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return NULL;
		/* sparse: an activity page exists once a session writes it */
		if (ftruncate(fd, (off_t)size) == -1) {
			int saved = errno;

			close(fd);
			(void)unlink(path);
			errno = saved;
			return NULL;
		}
		flags = MAP_SHARED;
	}
	sb = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
	    flags | MAP_NORESERVE, fd, 0);
	if (fd != -1) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	if (sb == MAP_FAILED)
		return NULL;
	sb->nentries = SB_ENTRIES;
	sb->pagesz = (uint32_t)pg;
	sb->act_off = act_off;
	sb->size = size;
	return sb;
}

const struct scoreboard *
scoreboard_open(const char *path)
{
	struct scoreboard	 head;
	struct stat		 st;
	uint64_t		 act_off, size;
	void			*p;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	/* the header says the layout: it must be the one we would make */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    pread(fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    head.nentries != SB_ENTRIES ||
	    sb_layout(head.pagesz, &act_off, &size) == -1 ||
	    head.act_off != act_off || head.size != size ||
	    (uint64_t)st.st_size != size) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	return p;
}

int
scoreboard_path(const char *pidfile, char *buf, size_t len)
{
	if (pidfile[0] == '\0' ||
	    (size_t)snprintf(buf, len, "%s.sb", pidfile) >= len)
		return -1;
	return 0;
}

int
scoreboard_claim(struct scoreboard *sb, pid_t pid, const char *addr)
{
	uint32_t	i;
	int32_t		zero;

	for (i = 0; i < SB_ENTRIES; i++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&sb->e[i].pid, &zero,
		    (int32_t)pid)) {
			struct sb_entry *e = &sb->e[i];

			atomic_store(&e->slot, -1);
			atomic_store(&e->uid, 0);
			struct sb_activity *a = scoreboard_act(sb, (int)i);

			e->user[0] = '\0';
			(void)strlcpy(e->addr, addr, sizeof(e->addr));
			atomic_store(&e->start, (int64_t)time(NULL));
			atomic_store(&e->login, 0);
			a->cmd[0] = '\0';
			atomic_store(&a->last, (int64_t)time(NULL));
			atomic_store(&a->xfer_done, 0);
			atomic_store(&a->xfer_total, 0);
			atomic_store(&a->xfer_start, 0);
			return (int)i;
		}
	}
	return -1;
}

void
scoreboard_free(struct scoreboard *sb, int idx)
{
	if (idx >= 0 && idx < SB_ENTRIES)
		atomic_store(&sb->e[idx].pid, 0);
}

struct sb_activity *
scoreboard_act(const struct scoreboard *sb, int idx)
{
	return (struct sb_activity *)(void *)((char *)(uintptr_t)sb +
	    sb->act_off + (size_t)idx * sb->pagesz);
}

struct sb_activity *
scoreboard_confine(struct scoreboard *sb, int idx)
{
	struct sb_activity	*a;
	char			*base = (char *)sb, *keep, *end;
	size_t			 pg = sb->pagesz;

	if (idx < 0 || idx >= SB_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	a = scoreboard_act(sb, idx);
	keep = (char *)a;
	end = base + sb->size;
	if (munmap(base, (size_t)(keep - base)) == -1)
		return NULL;
	if (keep + pg < end && munmap(keep + pg,
	    (size_t)(end - keep - pg)) == -1)
		return NULL;
	return a;
}

void
scoreboard_unmap(struct scoreboard *sb)
{
	if (sb != NULL)
		munmap(sb, (size_t)sb->size);
}
