/* size_parse / size_format edges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "shared/size.h"

static const struct {
	const char	*in;
	uint64_t	 want;
} good[] = {
	{ "0", 0 },
	{ "1", 1 },
	{ "4096", 4096 },
	{ "1K", 1024 },
	{ "1k", 1024 },
	{ "1KB", 1024 },
	{ "1KiB", 1024 },
	{ "100B", 100 },
	{ "1.5M", 1572864 },
	{ "600M", 600ULL << 20 },
	{ "2G", 2ULL << 30 },
	{ "1T", 1ULL << 40 },
	{ "1.5K", 1536 },
	{ "0.5G", 512ULL << 20 },
	{ "1.1K", 1126 },		/* rounds down to whole bytes */
	{ "0.001K", 1 },
	{ "0.0K", 0 },
	{ "15E", 15ULL << 60 },
	{ "18446744073709551615", UINT64_MAX },
};

static const char *bad[] = {
	"", "-1", "-0", "+1", "10Q", "1KK", "1 K", " 1K", "1K ", "\t1",
	"1\n", "K", ".5K", "1.", "1.K", "1.5", "1.5B", "16E", "17E",
	"18446744073709551616", "99999999999999999999999", "1e3", "0x10",
	"1,5M", "1.0000000001K", "1Kb2", "1iB", "1KiBB",
	"0.0001K", "0.0009K",		/* not 0 (no limit), yet under a byte */
};

START_TEST(test_parse_good)
{
	uint64_t	v = 12345;

	ck_assert_msg(size_parse(good[_i].in, &v) == 0, "'%s' rejected",
	    good[_i].in);
	ck_assert_msg(v == good[_i].want, "'%s' -> %llu, want %llu",
	    good[_i].in, (unsigned long long)v,
	    (unsigned long long)good[_i].want);
}
END_TEST

START_TEST(test_parse_bad)
{
	uint64_t	v = 777;

	ck_assert_msg(size_parse(bad[_i], &v) == -1, "'%s' accepted",
	    bad[_i]);
	ck_assert_msg(v == 777, "'%s' changed the output", bad[_i]);
}
END_TEST

START_TEST(test_parse_null)
{
	uint64_t	v;

	ck_assert_int_eq(size_parse(NULL, &v), -1);
}
END_TEST

START_TEST(test_format)
{
	char	buf[16];

	ck_assert_str_eq(size_format(0, buf, sizeof(buf)), "0B");
	ck_assert_str_eq(size_format(100, buf, sizeof(buf)), "100B");
	ck_assert_str_eq(size_format(1536, buf, sizeof(buf)), "1.5K");
	ck_assert_str_eq(size_format(1572864, buf, sizeof(buf)), "1.5M");
	ck_assert_str_eq(size_format(10ULL << 30, buf, sizeof(buf)), "10G");
	ck_assert_str_eq(size_format(UINT64_MAX, buf, sizeof(buf)), "15E");
	/* truncated, still terminated */
	ck_assert_str_eq(size_format(1572864, buf, 3), "1.");
}
END_TEST

START_TEST(test_roundtrip)
{
	static const uint64_t	 v[] = { 0, 1, 1024, 10ULL << 20, 3ULL << 30,
	    7ULL << 40 };
	char			 buf[16];
	uint64_t		 back;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(size_parse(size_format(v[i], buf,
		    sizeof(buf)), &back), 0);
		ck_assert_uint_eq(back, v[i]);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("size");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nfail;

	tcase_add_loop_test(tc, test_parse_good, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_roundtrip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
