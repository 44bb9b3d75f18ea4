/*
 * Listing lines from crafted struct stat: LIST (`ls -l`) and MLSD/MLST
 * facts, checked as exact text and parsed back with the client's parsers.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "shared/ftpreply.h"
#include "daemon/listing.h"

static const struct listing_who	alice = { 1000, 1000, "alice" };
static const struct listing_who	bob = { 1001, 1001, "bob" };
static const struct listing_who	anon = { 1000, 1000, NULL };

static time_t	utc(int, int, int, int, int, int);
static void	mkstat(struct stat *, mode_t, off_t, time_t);

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void
mkstat(struct stat *st, mode_t mode, off_t size, time_t mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = 1000;
	st->st_gid = 1000;
	st->st_size = size;
	st->st_mtime = mtime;
	st->st_dev = 0x801;
	st->st_ino = 0x1234;
}

START_TEST(test_mode_strings)
{
	static const struct {
		mode_t		 mode;
		const char	*want;
	} modes[] = {
		{ S_IFREG | 0644,	"-rw-r--r--" },
		{ S_IFDIR | 0755,	"drwxr-xr-x" },
		{ S_IFLNK | 0777,	"lrwxrwxrwx" },
		{ S_IFREG | 04755,	"-rwsr-xr-x" },
		{ S_IFREG | 04644,	"-rwSr--r--" },
		{ S_IFREG | 02755,	"-rwxr-sr-x" },
		{ S_IFREG | 02644,	"-rw-r-Sr--" },
		{ S_IFDIR | 01777,	"drwxrwxrwt" },
		{ S_IFDIR | 01770,	"drwxrwx--T" },
		{ S_IFIFO | 0600,	"prw-------" },
		{ S_IFSOCK | 0755,	"srwxr-xr-x" },
		{ S_IFCHR | 0666,	"crw-rw-rw-" },
		{ S_IFBLK | 0660,	"brw-rw----" },
		{ S_IFREG | 0,		"----------" },
	};
	char	buf[16];
	size_t	i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ck_assert_int_eq(listing_mode(modes[i].mode, buf, sizeof(buf)),
		    0);
		ck_assert_str_eq(buf, modes[i].want);
	}
	ck_assert_int_eq(listing_mode(S_IFREG | 0644, buf, 10), -1);
}
END_TEST

START_TEST(test_list_recent)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];
	time_t		now = utc(2026, 11, 25, 1, 2, 3);
	int		n;

	mkstat(&st, S_IFDIR | 0755, 4096, utc(2026, 11, 24, 10, 20, 30));
	n = listing_fmt_list(buf, sizeof(buf), &st, "docs", NULL, &alice, now);
	ck_assert_str_eq(buf, "drwxr-xr-x    2 alice    alice"
	    "            4096 Nov 24 10:20 docs");
	ck_assert_int_eq(n, (int)strlen(buf));

	/* day < 10 is space padded, like ls */
	mkstat(&st, S_IFREG | 0644, 123, utc(2026, 9, 3, 7, 5, 0));
	listing_fmt_list(buf, sizeof(buf), &st, "a.txt", NULL, &alice, now);
	ck_assert_str_eq(buf, "-rw-r--r--    1 alice    alice"
	    "             123 Sep  3 07:05 a.txt");
}
END_TEST

START_TEST(test_list_old_and_future)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];
	time_t		now = utc(2026, 11, 25, 1, 2, 3);

	mkstat(&st, S_IFREG | 0600, 5, utc(2020, 1, 2, 3, 4, 5));
	listing_fmt_list(buf, sizeof(buf), &st, "old", NULL, &alice, now);
	ck_assert_str_eq(buf, "-rw-------    1 alice    alice"
	    "               5 Jan  2  2020 old");

	/* just over six months ago: the year */
	st.st_mtime = now - 190 * 86400;
	listing_fmt_list(buf, sizeof(buf), &st, "half", NULL, &alice, now);
	ck_assert_ptr_nonnull(strstr(buf, " May 19  2026 half"));

	/* just under: the time */
	st.st_mtime = now - 170 * 86400;
	listing_fmt_list(buf, sizeof(buf), &st, "recent", NULL, &alice, now);
	ck_assert_ptr_nonnull(strstr(buf, " Jun  8 01:02 recent"));

	/* in the future: the year */
	st.st_mtime = now + 86400 * 30;
	listing_fmt_list(buf, sizeof(buf), &st, "future", NULL, &alice, now);
	ck_assert_ptr_nonnull(strstr(buf, " Dec 25  2026 future"));
}
END_TEST

START_TEST(test_list_owner_and_size)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];
	time_t		now = utc(2026, 11, 25, 1, 2, 3);

	mkstat(&st, S_IFREG | 0644, (off_t)1 << 40, now - 60);
	st.st_uid = 0;
	st.st_gid = 4242;
	listing_fmt_list(buf, sizeof(buf), &st, "big", NULL, &alice, now);
	ck_assert_str_eq(buf, "-rw-r--r--    1 0        4242"
	    "     1099511627776 Nov 25 01:01 big");
	/* someone else's session: numbers for alice's ids */
	mkstat(&st, S_IFREG | 0644, 0, now - 60);
	listing_fmt_list(buf, sizeof(buf), &st, "f", NULL, &bob, now);
	ck_assert_ptr_nonnull(strstr(buf, " 1000     1000 "));
	listing_fmt_list(buf, sizeof(buf), &st, "f", NULL, &anon, now);
	ck_assert_ptr_nonnull(strstr(buf, " 1000     1000 "));
}
END_TEST

START_TEST(test_list_names)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];
	time_t		now = utc(2026, 11, 25, 1, 2, 3);

	mkstat(&st, S_IFREG | 0644, 3, now - 60);
	listing_fmt_list(buf, sizeof(buf), &st, "中文 文件.txt", NULL, &alice,
	    now);
	ck_assert_ptr_nonnull(strstr(buf, " 01:01 中文 文件.txt"));
	ck_assert_int_eq(listing_fmt_list(buf, sizeof(buf), &st, "a\rb", NULL,
	    &alice, now), -1);
	ck_assert_int_eq(listing_fmt_list(buf, sizeof(buf), &st, "a\nb", NULL,
	    &alice, now), -1);
	/* too small a buffer */
	ck_assert_int_eq(listing_fmt_list(buf, 40, &st, "name", NULL, &alice,
	    now), -1);

	mkstat(&st, S_IFLNK | 0777, 4, now - 60);
	listing_fmt_list(buf, sizeof(buf), &st, "etc", "/etc", &alice, now);
	ck_assert_str_eq(buf, "lrwxrwxrwx    1 alice    alice"
	    "               4 Nov 25 01:01 etc -> /etc");
	/* a target with CR/LF is refused too */
	ck_assert_int_eq(listing_fmt_list(buf, sizeof(buf), &st, "l",
	    "x\r\n200 fake", &alice, now), -1);
	/* the target is only shown for symlinks */
	mkstat(&st, S_IFREG | 0644, 4, now - 60);
	listing_fmt_list(buf, sizeof(buf), &st, "f", "t", &alice, now);
	ck_assert_ptr_null(strstr(buf, "->"));
}
END_TEST

START_TEST(test_list_parses_back)
{
	struct ftp_entry	e;
	struct stat		st;
	char			buf[LISTING_LINE_MAX];
	time_t			now = utc(2026, 11, 25, 1, 2, 3);

	mkstat(&st, S_IFREG | 0644, 123456, utc(2026, 11, 24, 10, 20, 0));
	listing_fmt_list(buf, sizeof(buf), &st, "file name.txt", NULL, &alice,
	    now);
	ck_assert_int_eq(ftpreply_list(buf, now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_FILE);
	ck_assert_str_eq(e.name, "file name.txt");
	ck_assert_uint_eq(e.size, 123456);
	ck_assert_int_eq(e.mtime, utc(2026, 11, 24, 10, 20, 0));

	mkstat(&st, S_IFDIR | 0755, 4096, utc(2019, 3, 4, 0, 0, 0));
	listing_fmt_list(buf, sizeof(buf), &st, "目录", NULL, &alice, now);
	ck_assert_int_eq(ftpreply_list(buf, now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);
	ck_assert_str_eq(e.name, "目录");
	ck_assert_int_eq(e.mtime, utc(2019, 3, 4, 0, 0, 0));
}
END_TEST

START_TEST(test_facts_file)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];
	int		n;

	mkstat(&st, S_IFREG | 0644, 123, utc(2026, 11, 25, 1, 2, 3));
	n = listing_fmt_facts(buf, sizeof(buf), &st, "a.txt", &alice, 1);
	ck_assert_str_eq(buf, "type=file;size=123;modify=20261125010203;"
	    "perm=adfrw;unique=801g1234; a.txt");
	ck_assert_int_eq(n, (int)strlen(buf));
	/* the directory is not writable: no delete, no rename */
	listing_fmt_facts(buf, sizeof(buf), &st, "a.txt", &alice, 0);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=arw;"));
	/* someone else's file, world-readable */
	listing_fmt_facts(buf, sizeof(buf), &st, "a.txt", &bob, 0);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=r;"));
	st.st_mode = S_IFREG | 0640;
	listing_fmt_facts(buf, sizeof(buf), &st, "a.txt", &bob, 0);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=;"));
	/* group bits when only the group matches */
	st.st_gid = 1001;
	listing_fmt_facts(buf, sizeof(buf), &st, "a.txt", &bob, 0);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=r;"));
}
END_TEST

START_TEST(test_facts_dir_and_others)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];

	mkstat(&st, S_IFDIR | 0755, 4096, utc(2026, 1, 2, 3, 4, 5));
	listing_fmt_facts(buf, sizeof(buf), &st, "sub", &alice, 1);
	ck_assert_str_eq(buf, "type=dir;modify=20260102030405;"
	    "perm=cdeflmp;unique=801g1234; sub");
	listing_fmt_facts(buf, sizeof(buf), &st, "sub", &bob, 0);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=el;"));
	st.st_mode = S_IFDIR | 0700;
	listing_fmt_facts(buf, sizeof(buf), &st, "sub", &bob, 1);
	ck_assert_ptr_nonnull(strstr(buf, ";perm=df;"));

	mkstat(&st, S_IFLNK | 0777, 4, utc(2026, 1, 2, 3, 4, 5));
	listing_fmt_facts(buf, sizeof(buf), &st, "l", &alice, 1);
	ck_assert_str_eq(buf, "type=OS.unix=symlink;size=4;"
	    "modify=20260102030405;perm=df;unique=801g1234; l");
	mkstat(&st, S_IFIFO | 0644, 0, utc(2026, 1, 2, 3, 4, 5));
	listing_fmt_facts(buf, sizeof(buf), &st, "p", &alice, 0);
	ck_assert_ptr_nonnull(strstr(buf, "type=OS.unix=fifo;"));
}
END_TEST

START_TEST(test_facts_edges)
{
	struct stat	st;
	char		buf[LISTING_LINE_MAX];

	mkstat(&st, S_IFREG | 0644, 1, utc(2026, 1, 2, 3, 4, 5));
	ck_assert_int_eq(listing_fmt_facts(buf, sizeof(buf), &st, "x\ry",
	    &alice, 1), -1);
	ck_assert_int_eq(listing_fmt_facts(buf, sizeof(buf), &st, "x\ny",
	    &alice, 1), -1);
	ck_assert_int_eq(listing_fmt_facts(buf, 20, &st, "x", &alice, 1), -1);
	/* a year past 9999 has no modify fact rather than a bad one */
	st.st_mtime = (time_t)253402300800LL;	/* 10000-01-01 */
	listing_fmt_facts(buf, sizeof(buf), &st, "far", &alice, 1);
	ck_assert_ptr_null(strstr(buf, "modify="));
	/* the epoch */
	st.st_mtime = 0;
	listing_fmt_facts(buf, sizeof(buf), &st, "e", &alice, 1);
	ck_assert_ptr_nonnull(strstr(buf, "modify=19700101000000;"));
	/* names with spaces, semicolons and UTF-8 stay whole */
	listing_fmt_facts(buf, sizeof(buf), &st, " a;b=c 中文", &alice, 1);
	ck_assert_ptr_nonnull(strstr(buf, ";  a;b=c 中文"));
}
END_TEST

START_TEST(test_facts_parse_back)
{
	struct ftp_entry	e;
	struct stat		st;
	char			buf[LISTING_LINE_MAX];

	mkstat(&st, S_IFREG | 0644, 987654321, utc(2025, 6, 7, 8, 9, 10));
	listing_fmt_facts(buf, sizeof(buf), &st, "文件 one.bin", &alice, 1);
	ck_assert_int_eq(ftpreply_mlsd(buf, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_FILE);
	ck_assert_str_eq(e.name, "文件 one.bin");
	ck_assert_int_eq(e.has_size, 1);
	ck_assert_uint_eq(e.size, 987654321);
	ck_assert_int_eq(e.has_mtime, 1);
	ck_assert_int_eq(e.mtime, utc(2025, 6, 7, 8, 9, 10));

	mkstat(&st, S_IFDIR | 0755, 4096, utc(2025, 6, 7, 8, 9, 10));
	listing_fmt_facts(buf, sizeof(buf), &st, "d", &alice, 1);
	ck_assert_int_eq(ftpreply_mlsd(buf, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);

	mkstat(&st, S_IFLNK | 0777, 4, utc(2025, 6, 7, 8, 9, 10));
	listing_fmt_facts(buf, sizeof(buf), &st, "l", &alice, 1);
	ck_assert_int_eq(ftpreply_mlsd(buf, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_LINK);
}
END_TEST

START_TEST(test_perm_root)
{
	struct listing_who	root = { 0, 0, "root" };
	struct stat		st;
	char			perm[16];

	mkstat(&st, S_IFREG | 0000, 1, 0);
	ck_assert_int_eq(listing_perm(perm, sizeof(perm), &st, &root, 1), 0);
	ck_assert_str_eq(perm, "adfrw");
	ck_assert_int_eq(listing_perm(perm, 3, &st, &root, 1), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("listing");
	TCase	*tl = tcase_create("list");
	TCase	*tf = tcase_create("facts");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(tl, test_mode_strings);
	tcase_add_test(tl, test_list_recent);
	tcase_add_test(tl, test_list_old_and_future);
	tcase_add_test(tl, test_list_owner_and_size);
	tcase_add_test(tl, test_list_names);
	tcase_add_test(tl, test_list_parses_back);
	suite_add_tcase(s, tl);
	tcase_add_test(tf, test_facts_file);
	tcase_add_test(tf, test_facts_dir_and_others);
	tcase_add_test(tf, test_facts_edges);
	tcase_add_test(tf, test_facts_parse_back);
	tcase_add_test(tf, test_perm_root);
	suite_add_tcase(s, tf);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
