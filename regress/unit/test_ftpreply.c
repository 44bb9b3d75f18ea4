/* Unit tests for shared/ftpreply.c: replies, PASV/EPSV/PWD/HASH/kv, MLSD
 * and LIST lines, with the edges (over-long lines, overflow, junk). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "shared/ftpreply.h"

static int
feed_all(struct ftp_rparser *p, const char *const *lines)
{
	int	rv = 0;

	ftpreply_init(p);
	for (; *lines != NULL; lines++)
		if ((rv = ftpreply_feed(p, *lines, strlen(*lines))) != 0)
			break;
	return rv;
}

START_TEST(reply_single)
{
	struct ftp_rparser	p;
	const char		*l[] = { "220 Welcome to moat\r\n", NULL };

	ck_assert_int_eq(feed_all(&p, l), 1);
	ck_assert_int_eq(p.r.code, 220);
	ck_assert_int_eq(p.r.multiline, 0);
	ck_assert_str_eq(p.r.last, "Welcome to moat");
	ck_assert_str_eq(p.r.text, "Welcome to moat");
}
END_TEST

START_TEST(reply_bare_code)
{
	struct ftp_rparser	p;
	const char		*l[] = { "230\r\n", NULL };

	ck_assert_int_eq(feed_all(&p, l), 1);
	ck_assert_int_eq(p.r.code, 230);
	ck_assert_str_eq(p.r.last, "");
}
END_TEST

START_TEST(reply_multi)
{
	struct ftp_rparser	p;
	const char		*l[] = { "211-Features:\r\n", " MLSD\r\n",
		"211-HASH SHA-256*;MD5\r\n", "123 not the end\r\n",
		"211 End\r\n", "999 extra", NULL };

	ck_assert_int_eq(feed_all(&p, l), 1);
	ck_assert_int_eq(p.r.code, 211);
	ck_assert_int_eq(p.r.multiline, 1);
	ck_assert_str_eq(p.r.first, "Features:");
	ck_assert_str_eq(p.r.last, "End");
	ck_assert_str_eq(p.r.text,
	    "Features:\n MLSD\nHASH SHA-256*;MD5\n123 not the end\nEnd");
	ck_assert_uint_eq(p.r.nlines, 5);
}
END_TEST

START_TEST(reply_multi_other_code_not_end)
{
	struct ftp_rparser	p;
	const char		*l[] = { "250-a\n", "251 b\n", NULL };

	ck_assert_int_eq(feed_all(&p, l), 0);
}
END_TEST

START_TEST(reply_bad)
{
	struct ftp_rparser	p;
	const char		*bad[] = { "", "22 short", "abc text", "620 x",
		"220x", "099 x", "2a0 x" };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ftpreply_init(&p);
		ck_assert_int_eq(ftpreply_feed(&p, bad[i], strlen(bad[i])),
		    -1);
	}
	ftpreply_init(&p);
	ck_assert_int_eq(ftpreply_feed(&p, "220 a\0b", 7), -1);
}
END_TEST

START_TEST(reply_line_cap)
{
	struct ftp_rparser	 p;
	char			*big = malloc(FTP_LINE_MAX + 8);

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', FTP_LINE_MAX + 7);
	memcpy(big, "220 ", 4);
	big[FTP_LINE_MAX + 7] = '\0';
	ftpreply_init(&p);
	ck_assert_int_eq(ftpreply_feed(&p, big, strlen(big)), -1);
	big[FTP_LINE_MAX] = '\0';		/* exactly the cap: too long */
	ck_assert_int_eq(ftpreply_feed(&p, big, strlen(big)), -1);
	big[FTP_LINE_MAX - 1] = '\0';		/* one less: fits */
	ftpreply_init(&p);
	ck_assert_int_eq(ftpreply_feed(&p, big, strlen(big)), 1);
	free(big);
}
END_TEST

START_TEST(reply_text_truncated)
{
	struct ftp_rparser	p;
	char			line[1000];
	int			i, rv = 0;

	ftpreply_init(&p);
	ck_assert_int_eq(ftpreply_feed(&p, "211-x", 5), 0);
	memset(line, 'b', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(ftpreply_feed(&p, line, strlen(line)), 0);
	rv = ftpreply_feed(&p, "211 end", 7);
	ck_assert_int_eq(rv, 1);
	ck_assert_int_eq(p.r.truncated, 1);
	ck_assert_uint_lt(p.r.textlen, FTP_TEXT_MAX);
}
END_TEST

START_TEST(reply_too_many_lines)
{
	struct ftp_rparser	p;
	int			i, rv = 0;

	ftpreply_init(&p);
	ck_assert_int_eq(ftpreply_feed(&p, "211-x", 5), 0);
	for (i = 0; i < FTP_LINES_MAX + 5 && rv == 0; i++)
		rv = ftpreply_feed(&p, "x", 1);
	ck_assert_int_eq(rv, -1);
}
END_TEST

START_TEST(reply_parse_buffer)
{
	struct ftp_reply	r;
	const char		*buf = "150-a\r\n150 b\r\n226 done\r\n";
	size_t			 used;

	ck_assert_int_eq(ftpreply_parse(buf, strlen(buf), &r, &used), 1);
	ck_assert_int_eq(r.code, 150);
	ck_assert_uint_eq(used, 14);
	ck_assert_int_eq(ftpreply_parse(buf + used, strlen(buf) - used, &r,
	    &used), 1);
	ck_assert_int_eq(r.code, 226);
	ck_assert_int_eq(ftpreply_parse("220 partial", 11, &r, &used), 0);
	ck_assert_int_eq(ftpreply_parse("211-a\r\nb\r\n", 10, &r, &used), 0);
	ck_assert_int_eq(ftpreply_parse("xyz\r\n", 5, &r, &used), -1);
}
END_TEST

START_TEST(pasv_ok)
{
	uint8_t		a[4];
	uint16_t	port;

	ck_assert_int_eq(ftpreply_pasv("Entering Passive Mode "
	    "(127,0,0,1,117,48).", a, &port), 0);
	ck_assert_int_eq(a[0], 127);
	ck_assert_int_eq(a[3], 1);
	ck_assert_int_eq(port, 117 * 256 + 48);
	ck_assert_int_eq(ftpreply_pasv("=10,1,2,3,0,21", a, &port), 0);
	ck_assert_int_eq(port, 21);
	/* A number before the tuple is skipped. */
	ck_assert_int_eq(ftpreply_pasv("Mode 2 (192,168,1,2,4,1)", a, &port),
	    0);
	ck_assert_int_eq(a[0], 192);
}
END_TEST

START_TEST(pasv_bad)
{
	uint8_t		a[4];
	uint16_t	port;
	const char	*bad[] = { "", "no numbers", "(1,2,3,4,5)",
		"(256,0,0,1,1,1)", "(1,2,3,4,5,1000)", "(1,2,3,4,0,0)",
		"(1,,3,4,5,6)", "(1,2,3,4,5,6666)", "(-1,2,3,4,5,6)" };
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ftpreply_pasv(bad[i], a, &port) == -1, "%s",
		    bad[i]);
}
END_TEST

START_TEST(epsv)
{
	uint16_t	port;
	const char	*bad[] = { "", "(|||)", "(|||0|)", "(|||65536|)",
		"(||5|)", "(|||12a|)", "(|||12|", "(1113331)", "(|||-1|)",
		"(|||123456789012345678901234|)" };
	size_t		i;

	ck_assert_int_eq(ftpreply_epsv("Entering Extended Passive Mode "
	    "(|||30048|)", &port), 0);
	ck_assert_int_eq(port, 30048);
	ck_assert_int_eq(ftpreply_epsv("ok (!!!65535!)", &port), 0);
	ck_assert_int_eq(port, 65535);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ftpreply_epsv(bad[i], &port) == -1, "%s",
		    bad[i]);
}
END_TEST

START_TEST(pwd)
{
	char	p[16];

	ck_assert_int_eq(ftpreply_pwd("\"/home/a\" is cwd", p, sizeof(p)), 0);
	ck_assert_str_eq(p, "/home/a");
	ck_assert_int_eq(ftpreply_pwd("\"/a \"\"q\"\" b\"", p, sizeof(p)), 0);
	ck_assert_str_eq(p, "/a \"q\" b");
	ck_assert_int_eq(ftpreply_pwd("\"/中文\" ok", p, sizeof(p)), 0);
	ck_assert_str_eq(p, "/中文");
	ck_assert_int_eq(ftpreply_pwd("no quotes", p, sizeof(p)), -1);
	ck_assert_int_eq(ftpreply_pwd("\"unterminated", p, sizeof(p)), -1);
	ck_assert_int_eq(ftpreply_pwd("\"\"", p, sizeof(p)), -1);
	/* terminal escapes and other control bytes are refused */
	ck_assert_int_eq(ftpreply_pwd("\"/\033]0;title\007\" is cwd", p,
	    sizeof(p)), -1);
	ck_assert_int_eq(ftpreply_pwd("\"/a\tb\"", p, sizeof(p)), -1);
	ck_assert_int_eq(ftpreply_pwd("\"/a\177\"", p, sizeof(p)), -1);
	ck_assert_int_eq(ftpreply_pwd("\"/\xe4\xb8\xad\"", p, sizeof(p)), 0);
	ck_assert_int_eq(ftpreply_pwd("\"/0123456789abcdef\"", p, sizeof(p)),
	    -1);
}
END_TEST

START_TEST(hash)
{
	char		algo[32], hex[129];
	uint64_t	s, e;

	ck_assert_int_eq(ftpreply_hash("SHA-256 0-5 "
	    "5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03"
	    " a.txt", algo, sizeof(algo), &s, &e, hex, sizeof(hex)), 0);
	ck_assert_str_eq(algo, "SHA-256");
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 5);
	ck_assert_str_eq(hex,
	    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	ck_assert_int_eq(ftpreply_hash("b1946ac92492d2347c6235b4d2611184",
	    algo, sizeof(algo), &s, &e, hex, sizeof(hex)), 0);
	ck_assert_str_eq(algo, "");
	ck_assert_str_eq(hex, "b1946ac92492d2347c6235b4d2611184");
	ck_assert_int_eq(ftpreply_hash("b1946ac92492d2347c6235b4d2611184 "
	    "file name", algo, sizeof(algo), &s, &e, hex, sizeof(hex)), 0);
	ck_assert_int_eq(ftpreply_hash("MD5 5-1 "
	    "b1946ac92492d2347c6235b4d2611184 f", algo, sizeof(algo), &s, &e,
	    hex, sizeof(hex)), -1);
	ck_assert_int_eq(ftpreply_hash("MD5 0-1 xyz f", algo, sizeof(algo),
	    &s, &e, hex, sizeof(hex)), -1);
	ck_assert_int_eq(ftpreply_hash("b1946ac9", algo, sizeof(algo), &s,
	    &e, hex, sizeof(hex)), -1);
	ck_assert_int_eq(ftpreply_hash("", algo, sizeof(algo), &s, &e, hex,
	    sizeof(hex)), -1);
	ck_assert_int_eq(ftpreply_hash("b1946ac92492d2347c6235b4d2611184",
	    algo, sizeof(algo), &s, &e, hex, 32), -1);
}
END_TEST

START_TEST(kv)
{
	uint64_t	v;

	ck_assert_int_eq(ftpreply_kv("used=100 limit=0 free=18446744073709551615"
	    " files=3", "used", &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(ftpreply_kv("used=100 limit=0", "limit", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(ftpreply_kv("free=18446744073709551615", "free", &v),
	    0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(ftpreply_kv("free=18446744073709551616", "free", &v),
	    -1);
	ck_assert_int_eq(ftpreply_kv("unused=5", "used", &v), -1);
	ck_assert_int_eq(ftpreply_kv("used=-5", "used", &v), -1);
	ck_assert_int_eq(ftpreply_kv("used=", "used", &v), -1);
	ck_assert_int_eq(ftpreply_kv("used=1x", "used", &v), -1);
	ck_assert_int_eq(ftpreply_kv("x used=7;", "used", &v), 0);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(mlsd)
{
	struct ftp_entry	e;

	ck_assert_int_eq(ftpreply_mlsd("type=file;size=1234;modify="
	    "20240102030405;perm=r; a b.txt\r\n", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_FILE);
	ck_assert_uint_eq(e.size, 1234);
	ck_assert_int_eq(e.has_mtime, 1);
	ck_assert_int_eq((long long)e.mtime, 1704164645LL);
	ck_assert_str_eq(e.name, "a b.txt");
	ck_assert_int_eq(ftpreply_mlsd("Type=dir;Modify=20240102030405.123; "
	    "目录", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);
	ck_assert_str_eq(e.name, "目录");
	ck_assert_int_eq(ftpreply_mlsd("type=cdir; .", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_CDIR);
	ck_assert_int_eq(ftpreply_mlsd("type=OS.unix=slink:/x; l", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_LINK);
	ck_assert_int_eq(ftpreply_mlsd("type=file;size=1; ", &e), -1);
	/* a name is one printable component: no escapes, no '/' */
	/* ... reported as such, with the raw name to show escaped */
	ck_assert_int_eq(ftpreply_mlsd("type=file;size=1; a\033[2Jb", &e),
	    FTPREPLY_BADNAME);
	ck_assert_str_eq(e.name, "a\033[2Jb");
	ck_assert_int_eq(ftpreply_mlsd("type=dir; ../x", &e), FTPREPLY_BADNAME);
	ck_assert_str_eq(e.name, "../x");
	ck_assert_int_eq(ftpreply_list("drwxr-xr-x 2 u g 4096 Jan  1  2020 /",
	    time(NULL), &e), FTPREPLY_BADNAME);
	ck_assert_int_eq(ftpreply_list("drwxr-xr-x 2 u g 4096 Jan  1  2020 "
	    "a/b", time(NULL), &e), FTPREPLY_BADNAME);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 6 Jan  1  2020 "
	    "x\007y", time(NULL), &e), FTPREPLY_BADNAME);
	ck_assert_str_eq(e.name, "x\007y");
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 6 Jan  1  2020 ",
	    time(NULL), &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("type=file;size=1;name", &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("type=file;size=x; a", &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("type=file;modify=2024; a", &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("type=file;modify=20241302030405; a",
	    &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("type=file; a/b", &e), FTPREPLY_BADNAME);
	ck_assert_int_eq(ftpreply_mlsd("type=file;size=99999999999999999999;"
	    " a", &e), -1);
	ck_assert_int_eq(ftpreply_mlsd("", &e), -1);
}
END_TEST

START_TEST(mlst)
{
	struct ftp_entry	e;

	ck_assert_int_eq(ftpreply_mlst("Listing /t/ln\n type=OS.unix=symlink;"
	    "size=4;modify=20240102030405;perm=; /t/ln\nEnd", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_LINK);
	ck_assert_str_eq(e.name, "");
	ck_assert_int_eq(ftpreply_mlst("Listing d\n type=dir;modify="
	    "20240102030405; /a dir/d\r\nEnd", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);
	ck_assert_int_eq(e.has_mtime, 1);
	ck_assert_int_eq(ftpreply_mlst(" type=file;size=7; x", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_FILE);
	ck_assert_uint_eq(e.size, 7);
	/* the reply's own first line may start with a space too */
	ck_assert_int_eq(ftpreply_mlst(" Listing d\n type=dir;modify="
	    "20240102030405; /d\nEnd", &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);
	/* no entry line, no path, bad facts */
	ck_assert_int_eq(ftpreply_mlst("Listing x\nEnd", &e), -1);
	ck_assert_int_eq(ftpreply_mlst("", &e), -1);
	ck_assert_int_eq(ftpreply_mlst("Listing\n type=dir; \nEnd", &e), -1);
	ck_assert_int_eq(ftpreply_mlst("Listing\n type=dir;size=x; /d\nEnd",
	    &e), -1);
	ck_assert_int_eq(ftpreply_mlst("Listing\n type=dir\nEnd", &e), -1);
}
END_TEST

START_TEST(list)
{
	struct ftp_entry	e;
	struct tm		tm;
	time_t			now = 1732500000;	/* 2024-11-25 */

	ck_assert_int_eq(ftpreply_list("-rw-r--r--    1 1000     1000     "
	    "      6 Nov 25 01:28 a b.txt\r\n", now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_FILE);
	ck_assert_uint_eq(e.size, 6);
	ck_assert_str_eq(e.name, "a b.txt");
	gmtime_r(&e.mtime, &tm);
	ck_assert_int_eq(tm.tm_year, 124);
	ck_assert_int_eq(tm.tm_mon, 10);
	ck_assert_int_eq(tm.tm_hour, 1);
	/* A date later than now is last year's. */
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 6 Dec 31 23:00 x",
	    now, &e), 0);
	gmtime_r(&e.mtime, &tm);
	ck_assert_int_eq(tm.tm_year, 123);
	ck_assert_int_eq(ftpreply_list("drwxr-xr-x 2 u g 4096 Jan  1  2020 "
	    "中文目录", now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_DIR);
	ck_assert_str_eq(e.name, "中文目录");
	gmtime_r(&e.mtime, &tm);
	ck_assert_int_eq(tm.tm_year, 120);
	ck_assert_int_eq(ftpreply_list("lrwxrwxrwx 1 u g 3 Jan 1 2020 l -> t",
	    now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_LINK);
	ck_assert_str_eq(e.name, "l");
	/* No group column. */
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 owner 77 Feb 2 10:00 f",
	    now, &e), 0);
	ck_assert_uint_eq(e.size, 77);
	ck_assert_int_eq(ftpreply_list("drwxr-xr-x 2 u g 4096 Jan 1 2020 ..",
	    now, &e), 0);
	ck_assert_int_eq(e.type, FTP_ENT_PDIR);
	ck_assert_int_eq(ftpreply_list("total 12", now, &e), 1);
	ck_assert_int_eq(ftpreply_list("", now, &e), 1);
	ck_assert_int_eq(ftpreply_list("garbage line here", now, &e), -1);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g x Jan 1 2020 f",
	    now, &e), -1);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 1 Foo 1 2020 f",
	    now, &e), -1);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 1 Jan 32 2020 f",
	    now, &e), -1);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 1 Jan 1 25:00 f",
	    now, &e), -1);
	ck_assert_int_eq(ftpreply_list("-rw-r--r-- 1 u g 1 Jan 1 2020",
	    now, &e), -1);
}
END_TEST

static Suite *
ftpreply_suite(void)
{
	Suite	*s = suite_create("ftpreply");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, reply_single);
	tcase_add_test(tc, reply_bare_code);
	tcase_add_test(tc, reply_multi);
	tcase_add_test(tc, reply_multi_other_code_not_end);
	tcase_add_test(tc, reply_bad);
	tcase_add_test(tc, reply_line_cap);
	tcase_add_test(tc, reply_text_truncated);
	tcase_add_test(tc, reply_too_many_lines);
	tcase_add_test(tc, reply_parse_buffer);
	tcase_add_test(tc, pasv_ok);
	tcase_add_test(tc, pasv_bad);
	tcase_add_test(tc, epsv);
	tcase_add_test(tc, pwd);
	tcase_add_test(tc, hash);
	tcase_add_test(tc, kv);
	tcase_add_test(tc, mlsd);
	tcase_add_test(tc, mlst);
	tcase_add_test(tc, list);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ftpreply_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
