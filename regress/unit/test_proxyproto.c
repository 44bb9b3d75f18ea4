/* PROXY protocol v1/v2 parser: good and bad headers, fed whole and bytewise. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "shared/proxyproto.h"

static const struct {
	const char	*hdr;
	const char	*addr;		/* NULL: AF_UNSPEC */
	int		 port;
} v1_good[] = {
	{ "PROXY TCP4 192.0.2.7 10.0.0.1 40000 21\r\n", "192.0.2.7", 40000 },
	{ "PROXY TCP6 2001:db8::5 2001:db8::1 1 21\r\n", "2001:db8::5", 1 },
	{ "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", "0.0.0.0", 0 },
	{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    "255.255.255.255", 65535 },
	{ "PROXY UNKNOWN\r\n", NULL, 0 },
	{ "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n",
	    NULL, 0 },
};

static const char *v1_bad[] = {
	"GET / HTTP/1.0\r\n",
	"USER alice\r\n",
	"proxy TCP4 192.0.2.7 10.0.0.1 40000 21\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000 21\n",	/* no CR */
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 40000 21 9\r\n",
	"PROXY TCP5 192.0.2.7 10.0.0.1 40000 21\r\n",
	"PROXY TCP4 192.0.2.256 10.0.0.1 40000 21\r\n",
	"PROXY TCP4 2001:db8::5 10.0.0.1 40000 21\r\n",
	"PROXY TCP6 192.0.2.7 10.0.0.1 40000 21\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 65536 21\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 -1 21\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 +1 21\r\n",
	"PROXY TCP4 192.0.2.7 10.0.0.1 4x 21\r\n",
	"PROXY\r\n",
	"PROXY \r\n",
	"PROXY TCP4 192.0.2.7\0 10.0.0.1 1 21\r\n",
	/* longer than 107 bytes without an end */
	"PROXY UNKNOWN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\n",
};

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: cmd, fam, addresses (alen bytes); its length. */
static size_t
v2(unsigned char *b, unsigned char vc, unsigned char fam, const void *addr,
    size_t alen)
{
	memcpy(b, v2_sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (unsigned char)(alen >> 8);
	b[15] = (unsigned char)alen;
	if (alen > 0)
		memcpy(b + 16, addr, alen);
	return 16 + alen;
}

/* Feed bytes the way the master does: only as many as the parser asks. */
static int
feed(const unsigned char *all, size_t total, struct sockaddr_storage *ss,
    size_t *used)
{
	size_t	len = 0, n;
	int	rv;

	for (;;) {
		rv = proxy_parse(all, len, ss, &n);
		if (rv != PROXY_MORE) {
			*used = n;
			return rv;
		}
		ck_assert_uint_gt(n, 0);
		if (len + n > total)
			return 99;	/* asked for more than there is */
		len += n;
	}
}

static void
check_addr(const struct sockaddr_storage *ss, const char *want, int port)
{
	char	buf[64];

	if (want == NULL) {
		ck_assert_int_eq(ss->ss_family, AF_UNSPEC);
		return;
	}
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf));
		ck_assert_int_eq(ntohs(s4->sin_port), port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		ck_assert_int_eq(ss->ss_family, AF_INET6);
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf));
		ck_assert_int_eq(ntohs(s6->sin6_port), port);
	}
	ck_assert_str_eq(buf, want);
}

START_TEST(test_v1_good)
{
	struct sockaddr_storage	 ss;
	unsigned char		 buf[256];
	const char		*h = v1_good[_i].hdr;
	size_t			 hl = strlen(h), used;

	/* with FTP bytes after it: the parser must stop at the header */
	memcpy(buf, h, hl);
	memcpy(buf + hl, "USER x\r\n", 8);
	ck_assert_int_eq(feed(buf, hl + 8, &ss, &used), PROXY_OK);
	ck_assert_uint_eq(used, hl);
	check_addr(&ss, v1_good[_i].addr, v1_good[_i].port);
	/* and all at once */
	ck_assert_int_eq(proxy_parse(buf, hl, &ss, &used), PROXY_OK);
	ck_assert_uint_eq(used, hl);
}
END_TEST

START_TEST(test_v1_bad)
{
	struct sockaddr_storage	ss;
	const char		*h = v1_bad[_i];
	size_t			 used, hl = strlen(h);

	if (_i == 16)
		hl = 38;	/* the one with a NUL inside */
	ck_assert_int_eq(feed((const unsigned char *)h, hl, &ss, &used),
	    PROXY_BAD);
}
END_TEST

START_TEST(test_v2_good)
{
	struct sockaddr_storage	ss;
	unsigned char		b[600], a4[12], a6[36 + 7];
	size_t			n, used;

	/* TCP4 192.0.2.9:5555 -> 10.0.0.1:21 */
	memcpy(a4, "\xc0\x00\x02\x09\x0a\x00\x00\x01\x15\xb3\x00\x15", 12);
	n = v2(b, 0x21, 0x11, a4, 12);
	memcpy(b + n, "junk", 4);
	ck_assert_int_eq(feed(b, n + 4, &ss, &used), PROXY_OK);
	ck_assert_uint_eq(used, n);
	check_addr(&ss, "192.0.2.9", 5555);

	/* TCP6 with a TLV after the addresses */
	memset(a6, 0, sizeof(a6));
	a6[0] = 0x20; a6[1] = 0x01; a6[2] = 0x0d; a6[3] = 0xb8; a6[15] = 7;
	a6[32] = 0x01; a6[33] = 0x02;
	a6[36] = 0x04; a6[37] = 0x00; a6[38] = 0x04;	/* PP2_TYPE_NOOP */
	n = v2(b, 0x21, 0x21, a6, sizeof(a6));
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_OK);
	ck_assert_uint_eq(used, n);
	check_addr(&ss, "2001:db8::7", 258);

	/* LOCAL (health check): no address */
	n = v2(b, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_OK);
	ck_assert_int_eq(ss.ss_family, AF_UNSPEC);

	/* PROXY over UNSPEC: the real peer stands */
	n = v2(b, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_OK);
	ck_assert_int_eq(ss.ss_family, AF_UNSPEC);
}
END_TEST

START_TEST(test_v2_bad)
{
	struct sockaddr_storage	ss;
	unsigned char		b[600], a[600];
	size_t			n, used;

	memset(a, 0, sizeof(a));
	/* version 1 in the binary header */
	n = v2(b, 0x11, 0x11, a, 12);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	/* command 2 */
	n = v2(b, 0x22, 0x11, a, 12);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	/* family 4 */
	n = v2(b, 0x21, 0x41, a, 12);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	/* too short for its family */
	n = v2(b, 0x21, 0x11, a, 11);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	n = v2(b, 0x21, 0x21, a, 12);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	/* longer than we take */
	n = v2(b, 0x21, 0x11, a, PROXY_HDR_MAX - 15);
	ck_assert_int_eq(feed(b, n, &ss, &used), PROXY_BAD);
	/* a broken signature, caught at the first wrong byte */
	n = v2(b, 0x21, 0x11, a, 12);
	b[5] = 'X';
	ck_assert_int_eq(proxy_parse(b, 6, &ss, &used), PROXY_BAD);
	/* truncated: more is wanted, never a result */
	n = v2(b, 0x21, 0x11, a, 12);
	ck_assert_int_eq(feed(b, n - 1, &ss, &used), 99);
}
END_TEST

START_TEST(test_edges)
{
	struct sockaddr_storage	ss;
	size_t			n = 0;

	ck_assert_int_eq(proxy_parse("", 0, &ss, &n), PROXY_MORE);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(proxy_parse("PRO", 3, &ss, &n), PROXY_MORE);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(proxy_parse("\r\n\r\n", 4, &ss, &n), PROXY_MORE);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(proxy_parse("X", 1, &ss, &n), PROXY_BAD);
	ck_assert_int_eq(proxy_parse("\r\r", 2, &ss, &n), PROXY_BAD);
}
END_TEST

/* A whole over-long v1 line given at once (not byte by byte): refused,
 * never copied past the parser's line buffer (ASan caught this). */
START_TEST(test_v1_long_at_once)
{
	struct sockaddr_storage	ss;
	char			buf[400];
	size_t			n = 0;

	memset(buf, 'A', sizeof(buf));
	memcpy(buf, "PROXY TCP4 ", 11);
	memcpy(buf + 300, "\r\n", 2);
	ck_assert_int_eq(proxy_parse(buf, 302, &ss, &n), PROXY_BAD);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("proxyproto");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 nfail;

	tcase_add_loop_test(tc, test_v1_good, 0,
	    sizeof(v1_good) / sizeof(v1_good[0]));
	tcase_add_loop_test(tc, test_v1_bad, 0,
	    sizeof(v1_bad) / sizeof(v1_bad[0]));
	tcase_add_test(tc, test_v2_good);
	tcase_add_test(tc, test_v2_bad);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_v1_long_at_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
