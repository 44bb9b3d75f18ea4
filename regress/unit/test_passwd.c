/* yescrypt hashing and verification. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "shared/limits.h"
#include "shared/passwd.h"

START_TEST(test_hash_verify)
{
	char	h[MOAT_HASH_MAX + 1], h2[MOAT_HASH_MAX + 1];

	ck_assert_int_eq(passwd_hash("correct horse", h, sizeof(h)), 0);
	ck_assert_msg(strncmp(h, "$y$", 3) == 0, "hash '%s'", h);
	ck_assert_int_eq(passwd_verify("correct horse", h), 1);
	ck_assert_int_eq(passwd_verify("correct horsf", h), 0);
	ck_assert_int_eq(passwd_verify("", h), 0);
	ck_assert_int_eq(passwd_verify(NULL, h), 0);
	/* fresh salt each time */
	ck_assert_int_eq(passwd_hash("correct horse", h2, sizeof(h2)), 0);
	ck_assert_str_ne(h, h2);
	ck_assert_int_eq(passwd_verify("correct horse", h2), 1);
}
END_TEST

START_TEST(test_locked)
{
	char	h[MOAT_HASH_MAX + 2];

	h[0] = '!';
	ck_assert_int_eq(passwd_hash("password1", h + 1, sizeof(h) - 1), 0);
	ck_assert_int_eq(passwd_verify("password1", h + 1), 1);
	ck_assert_int_eq(passwd_verify("password1", h), 0);
	ck_assert_int_eq(passwd_verify("password1", "!"), 0);
	ck_assert_int_eq(passwd_verify("", "!"), 0);
	ck_assert_int_eq(passwd_verify("*", "*"), 0);
	ck_assert_int_eq(passwd_verify("", ""), 0);
	ck_assert_int_eq(passwd_verify("x", NULL), 0);
}
END_TEST

START_TEST(test_dummy)
{
	const char	*d = passwd_dummy_hash();

	ck_assert_ptr_nonnull(d);
	ck_assert(strncmp(d, "$y$", 3) == 0);
	ck_assert_int_eq(passwd_verify("anything", d), 0);
}
END_TEST

START_TEST(test_truncated_output)
{
	char	h[10];

	ck_assert_int_eq(passwd_hash("password1", h, sizeof(h)), -1);
	ck_assert_int_eq(passwd_hash("password1", h, 0), -1);
}
END_TEST

START_TEST(test_other_schemes)
{
	/* SHA-512 crypt of "password", as in /etc/shadow */
	const char *h = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2"
	    "/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";

	ck_assert_int_eq(passwd_verify("password", h), 1);
	ck_assert_int_eq(passwd_verify("passwore", h), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("passwd");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nfail;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hash_verify);
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_dummy);
	tcase_add_test(tc, test_truncated_output);
	tcase_add_test(tc, test_other_schemes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
