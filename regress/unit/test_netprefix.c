/* Unit tests: proxy_from prefixes, parsing and matching (shared/netprefix.c). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <string.h>

#include "shared/netprefix.h"

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage	ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, s, &sin->sin_addr), 1);
	}
	return ss;
}

/* 1 if peer lies in the one prefix p (which must parse). */
static int
in(const char *p, const char *peer)
{
	struct net_prefix	np;
	struct sockaddr_storage	ss = addr(peer);

	ck_assert_msg(net_prefix_parse(p, &np) == 0, "%s does not parse", p);
	return net_prefix_match(&np, 1, &ss);
}

START_TEST(parse_good)
{
	static const struct {
		const char	*s;
		int		 family;
		unsigned int	 bits;
	} good[] = {
		{ "127.0.0.1", AF_INET, 32 },
		{ "10.0.0.0/8", AF_INET, 8 },
		{ "0.0.0.0/0", AF_INET, 0 },
		{ "192.0.2.128/25", AF_INET, 25 },
		{ "::1", AF_INET6, 128 },
		{ "::/0", AF_INET6, 0 },
		{ "2001:db8::/32", AF_INET6, 32 },
		{ "2001:db8::/033", AF_INET6, 33 },
		{ "fe80::/10", AF_INET6, 10 },
		{ "2001:db8::1/128", AF_INET6, 128 },
	};
	struct net_prefix	p;
	size_t			i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(net_prefix_parse(good[i].s, &p) == 0, "%s",
		    good[i].s);
		ck_assert_int_eq(p.family, good[i].family);
		ck_assert_uint_eq(p.bits, good[i].bits);
		ck_assert_str_eq(p.text, good[i].s);
	}
}
END_TEST

START_TEST(parse_bad)
{
	static const char *bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8 ", " 10.0.0.0",
		"10.0.0.0/8/8", "10.0.0.0/0008", "10.0.0/8", "10.0.0.256",
		"lb.example.com", "localhost",
		"10.1.2.3/8",		/* host bits set */
		"192.0.2.1/31", "2001:db8::1/64", "::1/127", "0.0.0.1/0",
		"[::1]", "::ffff:1.2.3.4/95x",
		"2001:0db8:0000:0000:0000:0000:0000:0000:0000:0001/64",
	};
	struct net_prefix	p;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(net_prefix_parse(bad[i], &p) == -1,
		    "\"%s\" parsed", bad[i]);
}
END_TEST

START_TEST(match_v4)
{
	ck_assert_int_eq(in("127.0.0.1", "127.0.0.1"), 1);
	ck_assert_int_eq(in("127.0.0.1", "127.0.0.2"), 0);
	ck_assert_int_eq(in("10.0.0.0/8", "10.255.255.255"), 1);
	ck_assert_int_eq(in("10.0.0.0/8", "11.0.0.0"), 0);
	ck_assert_int_eq(in("10.0.0.0/8", "9.255.255.255"), 0);
	/* a length that is not a whole number of bytes */
	ck_assert_int_eq(in("192.0.2.128/25", "192.0.2.128"), 1);
	ck_assert_int_eq(in("192.0.2.128/25", "192.0.2.255"), 1);
	ck_assert_int_eq(in("192.0.2.128/25", "192.0.2.127"), 0);
	ck_assert_int_eq(in("172.16.0.0/12", "172.31.255.1"), 1);
	ck_assert_int_eq(in("172.16.0.0/12", "172.32.0.1"), 0);
	ck_assert_int_eq(in("0.0.0.0/0", "203.0.113.9"), 1);
	/* families do not mix, but for IPv4-mapped peers */
	ck_assert_int_eq(in("0.0.0.0/0", "2001:db8::1"), 0);
	ck_assert_int_eq(in("127.0.0.1", "::ffff:127.0.0.1"), 1);
	ck_assert_int_eq(in("127.0.0.1", "::ffff:127.0.0.2"), 0);
	ck_assert_int_eq(in("10.0.0.0/8", "::ffff:10.1.2.3"), 1);
	/* ::1 is not 127.0.0.1, nor is the IPv4-compatible ::127.0.0.1 */
	ck_assert_int_eq(in("127.0.0.1", "::1"), 0);
	ck_assert_int_eq(in("127.0.0.1", "::127.0.0.1"), 0);
}
END_TEST

START_TEST(match_v6)
{
	ck_assert_int_eq(in("::1", "::1"), 1);
	ck_assert_int_eq(in("::1", "::2"), 0);
	ck_assert_int_eq(in("::1", "127.0.0.1"), 0);
	ck_assert_int_eq(in("2001:db8::/32", "2001:db8:ffff::1"), 1);
	ck_assert_int_eq(in("2001:db8::/32", "2001:db9::1"), 0);
	ck_assert_int_eq(in("fe80::/10", "febf::1"), 1);
	ck_assert_int_eq(in("fe80::/10", "fec0::1"), 0);
	ck_assert_int_eq(in("2001:db8::/127", "2001:db8::1"), 1);
	ck_assert_int_eq(in("2001:db8::/127", "2001:db8::2"), 0);
	ck_assert_int_eq(in("::/0", "2001:db8::1"), 1);
	ck_assert_int_eq(in("::/0", "192.0.2.1"), 0);
	/* an IPv6 prefix over the mapped range matches as IPv6 */
	ck_assert_int_eq(in("::ffff:0:0/96", "::ffff:192.0.2.1"), 1);
}
END_TEST

START_TEST(match_list)
{
	struct net_prefix	p[3];
	struct sockaddr_storage	ss;

	ck_assert_int_eq(net_prefix_parse("127.0.0.1", &p[0]), 0);
	ck_assert_int_eq(net_prefix_parse("::1", &p[1]), 0);
	ck_assert_int_eq(net_prefix_parse("192.0.2.0/24", &p[2]), 0);
	ss = addr("192.0.2.77");
	ck_assert_int_eq(net_prefix_match(p, 3, &ss), 1);
	ck_assert_int_eq(net_prefix_match(p, 2, &ss), 0);
	ss = addr("::1");
	ck_assert_int_eq(net_prefix_match(p, 3, &ss), 1);
	ss = addr("198.51.100.1");
	ck_assert_int_eq(net_prefix_match(p, 3, &ss), 0);
	/* an empty list refuses everyone */
	ss = addr("127.0.0.1");
	ck_assert_int_eq(net_prefix_match(p, 0, &ss), 0);
	/* not an IP peer (AF_UNIX, AF_UNSPEC): never in the list */
	memset(&ss, 0, sizeof(ss));
	ck_assert_int_eq(net_prefix_match(p, 3, &ss), 0);
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(net_prefix_match(p, 3, &ss), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("netprefix");
	TCase	*tc = tcase_create("netprefix");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_bad);
	tcase_add_test(tc, match_v4);
	tcase_add_test(tc, match_v6);
	tcase_add_test(tc, match_list);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
