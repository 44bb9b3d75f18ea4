/* Unit tests: shared/mkdirp.c (mkdir -p) and log_vis, the helpers the
 * client and moatadm share. */
#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/mkdirp.h"

static char	top[] = "/tmp/moat-mkdirp-XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(top));
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(top, "/tmp/moat-mkdirp-XXXXXX");
}

static mode_t
mode_of(const char *p)
{
	struct stat	st;

	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	return st.st_mode & 07777;
}

START_TEST(creates_parents)
{
	char	p[256], q[256];
	mode_t	old = umask(022);

	snprintf(p, sizeof(p), "%s/a/b/c", top);
	ck_assert_int_eq(mkdir_p(p, 0777, 0), 0);
	ck_assert_int_eq(mode_of(p), 0755);		/* less the umask */
	ck_assert_int_eq(mkdir_p(p, 0777, 0), 0);	/* exists: fine */
	snprintf(q, sizeof(q), "%s/a/b/c/", top);	/* trailing slash */
	ck_assert_int_eq(mkdir_p(q, 0777, 0), 0);
	snprintf(p, sizeof(p), "%s/x//y", top);		/* double slash */
	ck_assert_int_eq(mkdir_p(p, 0777, 0), 0);
	mode_of(p);
	umask(old);
}
END_TEST

START_TEST(exact_mode)
{
	char	p[256], q[256];
	mode_t	old = umask(077);

	snprintf(p, sizeof(p), "%s/home", top);
	snprintf(q, sizeof(q), "%s/home/alice", top);
	ck_assert_int_eq(mkdir_p(q, 0755, MKDIRP_EXACT), 0);
	ck_assert_int_eq(mode_of(p), 0755);		/* not umask's 0700 */
	ck_assert_int_eq(mode_of(q), 0755);
	/* an existing directory keeps its mode */
	ck_assert_int_eq(chmod(q, 0700), 0);
	ck_assert_int_eq(mkdir_p(q, 0755, MKDIRP_EXACT), 0);
	ck_assert_int_eq(mode_of(q), 0700);
	umask(old);
}
END_TEST

START_TEST(refuses)
{
	char	f[256], p[256], big[5000];
	int	fd;

	snprintf(f, sizeof(f), "%s/file", top);
	ck_assert_int_ne(fd = open(f, O_CREAT | O_WRONLY, 0600), -1);
	close(fd);
	errno = 0;
	ck_assert_int_eq(mkdir_p(f, 0777, 0), -1);	/* a file stands there */
	ck_assert_int_eq(errno, ENOTDIR);
	snprintf(p, sizeof(p), "%s/file/sub", top);
	ck_assert_int_eq(mkdir_p(p, 0777, 0), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mkdir_p(big, 0777, 0), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(mkdir_p("", 0777, 0), -1);
}
END_TEST

START_TEST(vis)
{
	char	buf[64], small[8];

	ck_assert_str_eq(log_vis(buf, sizeof(buf), "alice"), "alice");
	ck_assert_str_eq(log_vis(buf, sizeof(buf), "a\nb\033[2J"),
	    "a\\nb\\033[2J");
	ck_assert_str_eq(log_vis(buf, sizeof(buf), "\r\b\a\t x"),
	    "\\r\\b\\a\\t x");
	ck_assert_str_eq(log_vis(buf, sizeof(buf), "caf\xc3\xa9"), "caf\\303\\251");
	/* cut short: terminated and marked */
	ck_assert_str_eq(log_vis(small, sizeof(small), "abcdefghij"),
	    "abcd...");
	ck_assert_str_eq(log_vis(small, sizeof(small), "\n\n\n\n\n\n"),
	    "\\n\\n...");
	ck_assert_str_eq(log_vis(small, sizeof(small), "1234567"), "1234567");
	ck_assert_ptr_eq(log_vis(small, 0, "x"), small);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mkdirp");
	TCase	*tc = tcase_create("mkdirp");
	SRunner	*sr;
	int	 nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, creates_parents);
	tcase_add_test(tc, exact_mode);
	tcase_add_test(tc, refuses);
	tcase_add_test(tc, vis);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
