/* Digest known vectors and digest_fd ranges. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "shared/digest.h"

static const struct {
	int		 algo;
	const char	*in;
	const char	*hex;
} vectors[] = {
	{ DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ DIGEST_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ DIGEST_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ DIGEST_SHA256, "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ DIGEST_SHA256, "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ DIGEST_SHA512, "abc",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
};

static int	tmpfile_with(const char *);

static int
tmpfile_with(const char *data)
{
	char	path[] = "/tmp/test_digest.XXXXXX";
	int	fd;

	ck_assert((fd = mkstemp(path)) != -1);
	(void)unlink(path);
	ck_assert(write(fd, data, strlen(data)) == (ssize_t)strlen(data));
	return fd;
}

START_TEST(test_vectors)
{
	struct digest	*d;
	char		 hex[DIGEST_HEX_MAX];

	ck_assert_ptr_nonnull(d = digest_new(vectors[_i].algo));
	digest_update(d, vectors[_i].in, strlen(vectors[_i].in));
	digest_final_hex(d, hex);
	ck_assert_str_eq(hex, vectors[_i].hex);
}
END_TEST

START_TEST(test_split_updates)
{
	struct digest	*d;
	char		 hex[DIGEST_HEX_MAX];

	ck_assert_ptr_nonnull(d = digest_new(DIGEST_SHA256));
	digest_update(d, "a", 1);
	digest_update(d, "", 0);
	digest_update(d, "bc", 2);
	digest_final_hex(d, hex);
	ck_assert_str_eq(hex, vectors[5].hex);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(digest_byname("MD5"), DIGEST_MD5);
	ck_assert_int_eq(digest_byname("md5"), DIGEST_MD5);
	ck_assert_int_eq(digest_byname("SHA-1"), DIGEST_SHA1);
	ck_assert_int_eq(digest_byname("sha1"), DIGEST_SHA1);
	ck_assert_int_eq(digest_byname("sha-256"), DIGEST_SHA256);
	ck_assert_int_eq(digest_byname("SHA256"), DIGEST_SHA256);
	ck_assert_int_eq(digest_byname("SHA-512"), DIGEST_SHA512);
	ck_assert_int_eq(digest_byname("CRC32"), -1);
	ck_assert_int_eq(digest_byname(""), -1);
	ck_assert_int_eq(digest_byname(NULL), -1);
	ck_assert_str_eq(digest_name(DIGEST_SHA256), "SHA-256");
	ck_assert_str_eq(digest_name(DIGEST_SHA1), "SHA-1");
	ck_assert_ptr_null(digest_name(DIGEST_NALGO));
	ck_assert_ptr_null(digest_name(-1));
	ck_assert_ptr_null(digest_new(DIGEST_NALGO));
}
END_TEST

START_TEST(test_fd_ranges)
{
	char	hex[DIGEST_HEX_MAX];
	int	fd = tmpfile_with("xxabcyy");

	/* whole file, and the offset is left alone */
	ck_assert_int_eq(lseek(fd, 3, SEEK_SET), 3);
	ck_assert_int_eq(digest_fd(DIGEST_MD5, fd, 2, 3, hex), 0);
	ck_assert_str_eq(hex, vectors[1].hex);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 3);
	/* empty range */
	ck_assert_int_eq(digest_fd(DIGEST_SHA1, fd, 4, 0, hex), 0);
	ck_assert_str_eq(hex, vectors[2].hex);
	/* to EOF from the end */
	ck_assert_int_eq(digest_fd(DIGEST_SHA256, fd, 7, UINT64_MAX, hex), 0);
	ck_assert_str_eq(hex, vectors[4].hex);
	/* past the end: not all there */
	ck_assert_int_eq(digest_fd(DIGEST_MD5, fd, 5, 3, hex), -1);
	ck_assert_int_eq(digest_fd(DIGEST_MD5, fd, UINT64_MAX, 1, hex), -1);
	ck_assert_int_eq(digest_fd(DIGEST_MD5, -1, 0, UINT64_MAX, hex), -1);
	(void)close(fd);
	fd = tmpfile_with("abc");
	ck_assert_int_eq(digest_fd(DIGEST_SHA256, fd, 0, UINT64_MAX, hex), 0);
	ck_assert_str_eq(hex, vectors[5].hex);
	(void)close(fd);
}
END_TEST

START_TEST(test_fd_large)
{
	char		 hex[DIGEST_HEX_MAX], hex2[DIGEST_HEX_MAX];
	char		*buf;
	struct digest	*d;
	size_t		 n = 200 * 1024 + 17, i;
	int		 fd;

	ck_assert_ptr_nonnull(buf = malloc(n + 1));
	for (i = 0; i < n; i++)
		buf[i] = (char)('a' + i % 26);
	buf[n] = '\0';
	fd = tmpfile_with(buf);
	ck_assert_int_eq(digest_fd(DIGEST_SHA256, fd, 1, n - 2, hex), 0);
	ck_assert_ptr_nonnull(d = digest_new(DIGEST_SHA256));
	digest_update(d, buf + 1, n - 2);
	digest_final_hex(d, hex2);
	ck_assert_str_eq(hex, hex2);
	(void)close(fd);
	free(buf);
}
END_TEST

/* go_on for digest_fd_while: counts its calls, says 0 at the limit */
static int
count_calls(void *arg)
{
	int	*calls = arg;

	return ++calls[0] < calls[1];
}

START_TEST(test_fd_while)
{
	char	 hex[DIGEST_HEX_MAX], hex2[DIGEST_HEX_MAX];
	char	*buf;
	size_t	 n = 200 * 1024, i;
	int	 fd, calls[2];

	ck_assert_ptr_nonnull(buf = malloc(n + 1));
	for (i = 0; i < n; i++)
		buf[i] = (char)('0' + i % 10);
	buf[n] = '\0';
	fd = tmpfile_with(buf);
	/* 64 KiB blocks: asked before the 2nd, 3rd and 4th */
	calls[0] = 0;
	calls[1] = 100;
	ck_assert_int_eq(digest_fd_while(DIGEST_MD5, fd, 0, n, hex,
	    count_calls, calls), 0);
	ck_assert_int_eq(calls[0], 3);
	ck_assert_int_eq(digest_fd(DIGEST_MD5, fd, 0, n, hex2), 0);
	ck_assert_str_eq(hex, hex2);
	/* told to stop before the 3rd block */
	calls[0] = 0;
	calls[1] = 2;
	errno = 0;
	ck_assert_int_eq(digest_fd_while(DIGEST_MD5, fd, 0, n, hex,
	    count_calls, calls), -1);
	ck_assert_int_eq(errno, ECANCELED);
	ck_assert_int_eq(calls[0], 2);
	/* one block only: never asked */
	calls[0] = 0;
	calls[1] = 0;
	ck_assert_int_eq(digest_fd_while(DIGEST_MD5, fd, 0, 1000, hex,
	    count_calls, calls), 0);
	ck_assert_int_eq(calls[0], 0);
	(void)close(fd);
	free(buf);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("digest");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nfail;

	tcase_add_loop_test(tc, test_vectors, 0,
	    sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, test_split_updates);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_fd_ranges);
	tcase_add_test(tc, test_fd_large);
	tcase_add_test(tc, test_fd_while);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
