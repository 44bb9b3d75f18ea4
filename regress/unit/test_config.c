/* Unit tests: configuration parsing, defaults and range checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/config.h"

static char	path[] = "/tmp/moat-config-XXXXXX";

static int
load_text(const char *text, struct config *c, char *err, size_t errlen)
{
	int	fd = mkstemp(path);
	FILE	*fp;
	int	rv;

	ck_assert_int_ne(fd, -1);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	rv = config_load(c, path, err, errlen);
	unlink(path);
	strcpy(path, "/tmp/moat-config-XXXXXX");
	return rv;
}

START_TEST(defaults)
{
	struct config	c;

	config_defaults(&c);
	ck_assert_int_eq(c.nlisten, 1);
	ck_assert_str_eq(c.listen[0].text, "0.0.0.0:21");
	ck_assert_int_eq(c.max_clients, 50);
	ck_assert_int_eq(c.queue_max, 100);
	ck_assert_int_eq(c.queue_timeout, 30);
	ck_assert_int_eq(c.max_per_ip, 10);
	ck_assert_int_eq(c.max_per_user, 5);
	ck_assert_int_eq(c.ledger_slots, 4096);
	ck_assert_int_eq(c.tls_require_reuse, 1);
	ck_assert_int_eq(config_tls_login_required(&c), 1);
	ck_assert_str_eq(c.jail_user, "nobody");
	/* only a proxy on this host may name the client */
	ck_assert_int_eq(c.nproxy_from, 2);
	ck_assert_str_eq(c.proxy_from[0].text, "127.0.0.1");
	ck_assert_str_eq(c.proxy_from[1].text, "::1");
}
END_TEST

START_TEST(good_file)
{
	struct config	c;
	char		err[512] = "";

	ck_assert_int_eq(load_text(
	    "listen = [\"127.0.0.1:2121\", \"[::1]:2121\"];\n"
	    "max_clients = 3;\nlog_level = \"debug\";\n"
	    "tls_cert = \"\";\ntls_key = \"\";\nproxy_protocol = true;\n",
	    &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.nlisten, 2);
	ck_assert_int_eq(c.max_clients, 3);
	ck_assert_int_eq(c.log_level, 3);
	ck_assert_int_eq(c.proxy_protocol, 1);
	ck_assert_int_eq(config_tls_login_required(&c), 0);
	ck_assert_int_eq(c.nproxy_from, 2);	/* the default */
	ck_assert_int_eq(load_text(
	    "proxy_from = [\"192.0.2.0/24\", \"2001:db8::/32\", "
	    "\"198.51.100.7\"];\n", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.nproxy_from, 3);
	ck_assert_int_eq(c.proxy_from[0].bits, 24);
	ck_assert_int_eq(c.proxy_from[1].bits, 32);
	ck_assert_int_eq(c.proxy_from[2].bits, 32);
	/* an empty list is allowed while proxy_protocol is off */
	ck_assert_int_eq(load_text("proxy_from = [];\n", &c, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.nproxy_from, 0);
	ck_assert_int_eq(load_text("pasv_address = \"203.0.113.7\";\n", &c,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.pasv_address, "203.0.113.7");
	ck_assert_int_eq(load_text("pasv_address = \"\";\n", &c, err,
	    sizeof(err)), 0);
}
END_TEST

static const struct {
	const char	*text;
	const char	*want;		/* substring of the error */
} bad[] = {
	{ "max_clients = 0;\n", ":1: max_clients: 0 is out of range" },
	{ "\n\nmax_clients = 100000;\n", ":3: max_clients" },
	{ "pasv_min_port = 80;\n", "pasv_min_port" },
	{ "pasv_min_port = 50000;\npasv_max_port = 40000;\n", "above" },
	{ "no_such_key = 1;\n", ":1: unknown key \"no_such_key\"" },
	{ "max_clients = \"ten\";\n", "expected an integer" },
	{ "tls_require_data = 1;\n", "expected true or false" },
	{ "listen = [\"127.0.0.1\"];\n", "listen: bad address" },
	{ "listen = [\"127.0.0.1:0\"];\n", "listen: bad address" },
	{ "listen = [\"[::1:21\"];\n", "listen: bad address" },
	{ "listen = \"127.0.0.1:21\";\n", "expected a list" },
	{ "log_level = \"loud\";\n", "unknown level" },
	{ "log_facility = \"nope\";\n", "unknown facility" },
	/* PASV answered 425 to every client with a name here */
	{ "\npasv_address = \"ftp.example.org\";\n",
	    ":2: pasv_address: \"ftp.example.org\" is not a numeric IPv4" },
	{ "pasv_address = \"2001:db8::1\";\n", "not a numeric IPv4" },
	{ "pasv_address = 7;\n", "pasv_address: \"?\" is not" },
	/* relative to the daemon's cwd at the start, to / once detached */
	{ "\nuser_db = \"users.db\";\n",
	    ":2: user_db: \"users.db\" is not an absolute path" },
	{ "home_root = \"srv/moatftp\";\n", "home_root: \"srv/moatftp\" is not" },
	{ "jail_dir = \"./empty\";\n", "jail_dir: \"./empty\" is not" },
	{ "pidfile = \"moatftpd.pid\";\n", "pidfile: \"moatftpd.pid\" is not" },
	{ "xferlog = \"xferlog\";\n", "xferlog: \"xferlog\" is not" },
	{ "tls_cert = \"c.pem\";\ntls_key = \"/k.pem\";\n",
	    "tls_cert: \"c.pem\" is not an absolute path" },
	{ "tls_cert = \"/c.pem\";\ntls_key = \"k.pem\";\n",
	    "tls_key: \"k.pem\" is not an absolute path" },
	{ "tls_cert = \"/x\";\ntls_key = \"\";\n", "together" },
	{ "\nmax_clients = = 3;\n", ":2: syntax error" },
	{ "login_fail_delay = -1;\n", "out of range" },
	{ "uid_min = 5000;\nuid_max = 4000;\n", "uid_min" },
	{ "\nproxy_from = [\"10.0.0.0/33\"];\n",
	    ":2: proxy_from: bad prefix \"10.0.0.0/33\"" },
	{ "proxy_from = [\"10.1.2.3/8\"];\n", ":1: proxy_from: bad prefix" },
	{ "proxy_from = [\"::1\", \"fe80::/\"];\n", "proxy_from: bad prefix" },
	{ "proxy_from = [\"lb.example\"];\n", "proxy_from: bad prefix" },
	{ "proxy_from = \"127.0.0.1\";\n", "proxy_from: expected a list" },
	{ "proxy_from = [1];\n", "proxy_from: bad prefix \"?\"" },
	{ "proxy_protocol = true;\nproxy_from = [];\n",
	    "proxy_from is empty" },
	/* libconfig 1.5 would cut these to 32 bits: 20000, 16, 0, 900 */
	{ "\nuid_min = 4294987296;\n", ":2: 4294987296 does not fit in 32" },
	{ "ledger_slots = 4294967312;\n", "does not fit in 32 bits" },
	{ "login_fail_delay = -4294967296;\n", "does not fit" },
	{ "idle_timeout = 0x100000384;\n", "0x100000384 does not fit" },
	{ "# 99999999999 is a comment\n/* 0x1ffffffff\n */ "
	    "max_clients = \"x\";\nuid_min = 3000000000;\n",
	    ":4: 3000000000 does not fit" },
	{ "uid_min = 99999999999999999999999;\n", "does not fit" },
	/* a string's control bytes do not break the one-line message */
	{ "log_level = \"a\\nb\";\n", "unknown level \"a\\nb\"" },
	{ "listen = [\"x\\ty\"];\n", "bad address \"x\\ty\"" },
};

START_TEST(bad_file)
{
	struct config	c;
	char		err[512] = "";

	ck_assert_int_eq(load_text(bad[_i].text, &c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL,
	    "case %d: error \"%s\" lacks \"%s\"", _i, err, bad[_i].want);
	ck_assert_msg(strstr(err, "/tmp/moat-config-") == err,
	    "case %d: error \"%s\" does not start with the file name", _i, err);
}
END_TEST

START_TEST(missing_file)
{
	struct config	c;
	char		err[512] = "";

	ck_assert_int_eq(config_load(&c, "/nonexistent/moat.conf", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/moat.conf"));
}
END_TEST

START_TEST(wide_numbers)
{
	struct config	c;
	char		err[512] = "";

	/* written with L they are 64-bit, and the range check sees them */
	ck_assert_int_eq(load_text("uid_min = 4294987296L;\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "4294987296 is out of range"));
	/* numbers inside strings, comments and names are not numbers */
	ck_assert_int_eq(load_text("log_level = \"info\"; # 99999999999\n"
	    "xferlog = \"/tmp/99999999999\";\nmax_per_ip = 7;\n"
	    "uid_min = 2147483647;\nuid_max = 2147483647;\n", &c, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.uid_min, 2147483647);
}
END_TEST

START_TEST(directory)
{
	struct config	c;
	char		err[512] = "";

	ck_assert_int_eq(config_load(&c, "/tmp", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "Is a directory") != NULL, "%s", err);
}
END_TEST

START_TEST(listen_parse)
{
	struct listen_addr	l;

	ck_assert_int_eq(config_parse_listen("127.0.0.1:21", &l), 0);
	ck_assert_int_eq(config_parse_listen("[::1]:2121", &l), 0);
	ck_assert_int_eq(config_parse_listen("[::1]2121", &l), -1);
	ck_assert_int_eq(config_parse_listen(":21", &l), -1);
	ck_assert_int_eq(config_parse_listen("1.2.3.4:65536", &l), -1);
	ck_assert_int_eq(config_parse_listen("host:21", &l), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, good_file);
	tcase_add_loop_test(tc, bad_file, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, wide_numbers);
	tcase_add_test(tc, directory);
	tcase_add_test(tc, listen_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
