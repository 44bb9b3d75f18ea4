/* Per-session view of the quota ledger: every written byte is charged here. */
#ifndef MOAT_QUOTA_H
#define MOAT_QUOTA_H

#include <stdint.h>

struct session;

/* Reserve n bytes before writing them: 0, or -1 when over the limit. */
int	quota_reserve(struct session *s, uint64_t n);
/* Give back n bytes (unwritten reservation, deleted or overwritten file). */
void	quota_release(struct session *s, uint64_t n);
/* used, limit (0 = unlimited), free; 0 or -1 when there is no ledger. */
int	quota_get(struct session *s, uint64_t *used, uint64_t *limit,
	    uint64_t *freep);

/*
 * The size lock of a regular file (an open-file-description lock on one
 * byte far past any data, SIZE_LOCK_OFF): its writers take it (F_WRLCK)
 * for each write, so that the size a write is charged against does not
 * change under it; DELE and RNTO over the file take it (F_RDLCK, on a
 * descriptor open for reading) across the size they give back and the
 * unlink or rename.
 * Waits; 0 or -1.
 */
int	quota_size_lock(int fd, short type);
void	quota_size_unlock(int fd);

/* At login: walk the home (top) when this session must, else wait for the
 * session that does. */
void	quota_init(struct session *s, int need_scan, const char *top);

#endif
