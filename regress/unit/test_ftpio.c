/* Unit tests: the command-line reader (CRLF, bounds, Telnet IAC). */
#include <sys/socket.h>

#include <check.h>
#include <string.h>
#include <unistd.h>

#include "shared/ftpio.h"

static int	sp[2];
static struct ftpio io;

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ftpio_init(&io, sp[0], NULL, NULL);
}

static void
teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

static void
feed(const void *b, size_t n)
{
	ck_assert_int_eq(write(sp[1], b, n), (ssize_t)n);
}

START_TEST(crlf_and_lf)
{
	char	line[MOAT_CMD_MAX];

	feed("USER a\r\nNOOP\nPWD\r\n", 18);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "USER a");
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "NOOP");
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "PWD");
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 100),
	    FTPIO_TIMEOUT);
}
END_TEST

START_TEST(too_long_then_ok)
{
	static char	big[10240];
	char		line[MOAT_CMD_MAX];

	memset(big, 'A', sizeof(big));
	feed(big, sizeof(big));
	feed("\r\nNOOP\r\n", 8);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_TOOLONG);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "NOOP");
}
END_TEST

START_TEST(exactly_at_limit)
{
	char	cmd[MOAT_CMD_MAX + 1], line[MOAT_CMD_MAX];

	/* 510 bytes + CRLF = 512: accepted; one more byte: refused */
	memset(cmd, 'B', MOAT_CMD_MAX - 2);
	memcpy(cmd + MOAT_CMD_MAX - 2, "\r\n", 2);
	feed(cmd, MOAT_CMD_MAX);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_uint_eq(strlen(line), MOAT_CMD_MAX - 2);
	memset(cmd, 'B', MOAT_CMD_MAX - 1);
	memcpy(cmd + MOAT_CMD_MAX - 1, "\r\n", 2);
	feed(cmd, MOAT_CMD_MAX + 1);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_TOOLONG);
}
END_TEST

START_TEST(iac)
{
	char		line[MOAT_CMD_MAX];
	const unsigned char in[] = { 0xff, 0xf4, 0xff, 0xf2, 'A', 'B', 'O',
	    'R', 0xff, 0xfb, 0x01, '\r', '\n', 'X', 0xff, 0xff, '\r', '\n' };

	feed(in, sizeof(in));
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "ABOR");
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "X\xff");
}
END_TEST

START_TEST(eof_mid_line)
{
	char	line[MOAT_CMD_MAX];

	feed("QUI", 3);
	close(sp[1]);
	sp[1] = -1;
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_ERR);
}
END_TEST

/* found by test_hostile.py: "MKD a\0b" created "a" */
START_TEST(nul_is_not_an_end)
{
	char	line[MOAT_CMD_MAX];

	feed("MKD a\0b\r\n", 10);
	ck_assert_int_eq(ftpio_getline(&io, line, sizeof(line), 1000),
	    FTPIO_LINE);
	ck_assert_str_eq(line, "MKD a\001b");
}
END_TEST

START_TEST(reply_strips_crlf)
{
	char	buf[256];
	ssize_t	n;

	ck_assert_int_eq(ftpio_reply(&io, 550, "%s", "a\r\nb"), 0);
	n = read(sp[1], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "550 a  b\r\n");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ftpio");
	TCase	*tc = tcase_create("ftpio");
	SRunner	*sr;
	int	 nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crlf_and_lf);
	tcase_add_test(tc, too_long_then_ok);
	tcase_add_test(tc, exactly_at_limit);
	tcase_add_test(tc, iac);
	tcase_add_test(tc, eof_mid_line);
	tcase_add_test(tc, reply_strips_crlf);
	tcase_add_test(tc, nul_is_not_an_end);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
