/* The scoreboard: live connections in shared memory. */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "shared/scoreboard.h"

struct scoreboard *
scoreboard_create(const char *path)
{
	struct scoreboard	*sb;
	int			 fd = -1, flags = MAP_SHARED | MAP_ANONYMOUS;

	if (path != NULL && path[0] != '\0') {
		/* a new file: never follow or reuse what someone left there */
		if (unlink(path) == -1 && errno != ENOENT)
			return NULL;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return NULL;
		if (ftruncate(fd, (off_t)sizeof(*sb)) == -1) {
			int saved = errno;

			close(fd);
			(void)unlink(path);
			errno = saved;
			return NULL;
		}
		flags = MAP_SHARED;
	}
	sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd != -1) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	if (sb == MAP_FAILED)
		return NULL;
	sb->nentries = SB_ENTRIES;
	return sb;
}

const struct scoreboard *
scoreboard_open(const char *path)
{
	struct stat	 st;
	void		*p;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size != sizeof(struct scoreboard)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, sizeof(struct scoreboard), PROT_READ, MAP_SHARED, fd, 0);
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
	if (idx >= 0 && idx < SB_ENTRIES)
		atomic_store(&sb->e[idx].pid, 0);
}

void
scoreboard_unmap(struct scoreboard *sb)
{
	if (sb != NULL)
		munmap(sb, sizeof(*sb));
}
