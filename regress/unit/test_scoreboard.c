/*
 * The scoreboard: claiming and freeing entries, the file `moatadm who`
 * maps (and the layouts it refuses), and what a confined session keeps
 * mapped: its own activity page, not the entries the master acts on.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <check.h>

#include "regress/unit/mapped.h"
#include "shared/scoreboard.h"

START_TEST(test_claim_free)
{
	struct scoreboard	*sb;
	struct sb_activity	*a;
	int			 i, j;

	ck_assert_ptr_nonnull(sb = scoreboard_create(NULL));
	ck_assert_uint_eq(sb->nentries, SB_ENTRIES);
	ck_assert_uint_ge(sb->pagesz, sizeof(struct sb_activity));
	ck_assert_int_eq(i = scoreboard_claim(sb, 100, "127.0.0.1"), 0);
	ck_assert_int_eq(j = scoreboard_claim(sb, 101, "::1"), 1);
	ck_assert_int_eq(atomic_load(&sb->e[j].pid), 101);
	ck_assert_int_eq(atomic_load(&sb->e[j].slot), -1);
	ck_assert_str_eq(sb->e[j].addr, "::1");
	/* activity records are a page apart, past the entries */
	ck_assert_uint_eq((uintptr_t)scoreboard_act(sb, j) -
	    (uintptr_t)scoreboard_act(sb, i), sb->pagesz);
	ck_assert_uint_ge((uintptr_t)scoreboard_act(sb, 0),
	    (uintptr_t)&sb->e[SB_ENTRIES]);
	a = scoreboard_act(sb, i);
	(void)strlcpy(a->cmd, "RETR x", sizeof(a->cmd));
	atomic_store(&a->xfer_done, 7);
	/* freed and claimed again: a clean record */
	scoreboard_free(sb, i);
	ck_assert_int_eq(atomic_load(&sb->e[i].pid), 0);
	ck_assert_int_eq(scoreboard_claim(sb, 102, "10.0.0.1"), i);
	ck_assert_str_eq(a->cmd, "");
	ck_assert_uint_eq(atomic_load(&a->xfer_done), 0);
	scoreboard_free(sb, -1);		/* harmless */
	scoreboard_free(sb, SB_ENTRIES);
	scoreboard_unmap(sb);
}
END_TEST

/*
 * A session confined to its entry keeps its activity page and nothing
 * else: not its own entry (pid, slot, user: what the master and `moatadm
 * kick` act on), not the others' entries or activities.
 */
START_TEST(test_confine)
{
	struct scoreboard	*sb;
	struct sb_activity	*a, *mine;
	const void		*other, *last;
	size_t			 pg;
	int			 i, j;

	ck_assert_ptr_nonnull(sb = scoreboard_create(NULL));
	pg = sb->pagesz;
	i = scoreboard_claim(sb, 100, "127.0.0.1");
	j = scoreboard_claim(sb, 101, "127.0.0.2");
	mine = scoreboard_act(sb, j);
	other = scoreboard_act(sb, i);
	last = scoreboard_act(sb, SB_ENTRIES - 1);
	errno = 0;
	ck_assert_ptr_null(scoreboard_confine(sb, SB_ENTRIES));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(a = scoreboard_confine(sb, j), mine);
	ck_assert(!mapped(sb, pg));
	ck_assert(!mapped(&sb->e[j], pg));
	ck_assert(!mapped(other, pg));
	ck_assert(!mapped(last, pg));
	ck_assert(mapped(a, pg));
	(void)strlcpy(a->cmd, "STOR y", sizeof(a->cmd));
	atomic_fetch_add(&a->xfer_done, 10);
	ck_assert_uint_eq(atomic_load(&a->xfer_done), 10);
}
END_TEST

/* The file moatadm maps: written by one side, read by the other. */
START_TEST(test_file)
{
	struct scoreboard	*sb;
	const struct scoreboard	*ro;
	struct stat		 st;
	char			 dir[] = "/tmp/sbtest.XXXXXX", path[64];
	int			 i, fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/moatftpd.pid.sb", dir);
	ck_assert_ptr_nonnull(sb = scoreboard_create(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq((uint64_t)st.st_size, sb->size);
	i = scoreboard_claim(sb, 4242, "192.0.2.1");
	(void)strlcpy(scoreboard_act(sb, i)->cmd, "LIST",
	    sizeof(scoreboard_act(sb, i)->cmd));
	ck_assert_ptr_nonnull(ro = scoreboard_open(path));
	ck_assert_int_eq(atomic_load(&ro->e[i].pid), 4242);
	ck_assert_str_eq(scoreboard_act(ro, i)->cmd, "LIST");

	/* another layout (a daemon of another build), or a cut file */
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)sb->size - 1), 0);
	errno = 0;
	ck_assert_ptr_null(scoreboard_open(path));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ftruncate(fd, (off_t)sb->size), 0);
	ck_assert_ptr_nonnull(scoreboard_open(path));
	sb->pagesz = 3000;
	errno = 0;
	ck_assert_ptr_null(scoreboard_open(path));
	ck_assert_int_eq(errno, EINVAL);
	close(fd);

	/* a second create does not reuse the file someone left there */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_ptr_nonnull(sb = scoreboard_create(path));
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("scoreboard");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(tc, test_claim_free);
	tcase_add_test(tc, test_confine);
	tcase_add_test(tc, test_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
