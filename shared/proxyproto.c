/*
 * PROXY protocol headers, versions 1 and 2, as specified in HAProxy's
 * proxy-protocol.txt. Bytes are taken one step at a time: the parser says
 * how many more it may read, so that nothing after the header is consumed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "shared/proxyproto.h"

#define V1_MAX		107		/* "PROXY ... \r\n" at most */
#define V2_HDR		16

static const unsigned char v1_sig[] = "PROXY ";
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* v2 address families: what each carries. */
static const struct {
	unsigned char	fam;		/* address family << 4 | protocol */
	int		af;		/* AF_UNSPEC: no address to use */
	size_t		need;		/* bytes of addresses at least */
} v2_fams[] = {
	{ 0x00, AF_UNSPEC, 0 },		/* UNSPEC */
	{ 0x11, AF_INET, 12 },		/* TCP over IPv4 */
	{ 0x12, AF_INET, 12 },		/* UDP over IPv4 */
	{ 0x21, AF_INET6, 36 },		/* TCP over IPv6 */
	{ 0x22, AF_INET6, 36 },		/* UDP over IPv6 */
	{ 0x31, AF_UNSPEC, 216 },	/* UNIX stream */
	{ 0x32, AF_UNSPEC, 216 },	/* UNIX datagram */
};

static int
set_addr(struct sockaddr_storage *ss, int af, const void *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip, 4);
		sin->sin_port = htons(port);
	} else if (af == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
		sin6->sin6_port = htons(port);
	} else
		ss->ss_family = AF_UNSPEC;
	return 0;
}

static int
v2_parse(const unsigned char *b, size_t len, struct sockaddr_storage *src,
    size_t *n)
{
	size_t		alen, i;
	uint16_t	port;

	if (len < V2_HDR) {
		*n = V2_HDR - len;
		return PROXY_MORE;
	}
	if ((b[12] & 0xf0) != 0x20 || (b[12] & 0x0f) > 1)
		return PROXY_BAD;	/* version 2; LOCAL or PROXY */
	alen = (size_t)b[14] << 8 | b[15];
	if (V2_HDR + alen > PROXY_HDR_MAX)
		return PROXY_BAD;
	for (i = 0; i < sizeof(v2_fams) / sizeof(v2_fams[0]); i++)
		if (v2_fams[i].fam == b[13])
			break;
	if (i == sizeof(v2_fams) / sizeof(v2_fams[0]) ||
	    alen < v2_fams[i].need)
		return PROXY_BAD;
	if (len < V2_HDR + alen) {
		*n = V2_HDR + alen - len;
		return PROXY_MORE;
	}
	*n = V2_HDR + alen;
	if ((b[12] & 0x0f) == 0 || v2_fams[i].af == AF_UNSPEC)
		return set_addr(src, AF_UNSPEC, NULL, 0) == 0 ? PROXY_OK :
		    PROXY_BAD;		/* LOCAL: a health check */
	if (v2_fams[i].af == AF_INET) {
		port = (uint16_t)(b[V2_HDR + 8] << 8 | b[V2_HDR + 9]);
		(void)set_addr(src, AF_INET, b + V2_HDR, port);
	} else {
		port = (uint16_t)(b[V2_HDR + 32] << 8 | b[V2_HDR + 33]);
		(void)set_addr(src, AF_INET6, b + V2_HDR, port);
	}
	return PROXY_OK;
}

/* One port: decimal digits only, 0..65535. */
static int
v1_port(const char *s, uint16_t *port)
{
	const char	*errstr;
	long long	 v;

	if (s == NULL || s[0] == '\0' || strspn(s, "0123456789") != strlen(s))
		return -1;
	v = strtonum(s, 0, 65535, &errstr);
	if (errstr != NULL)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
v1_parse(const unsigned char *b, size_t len, struct sockaddr_storage *src,
    size_t *n)
{
	char		 line[V1_MAX + 1], *tok[6], *p, *last;
	unsigned char	 ip[16], ip2[16];
	size_t		 i, ntok = 0;
	uint16_t	 sport, dport;
	int		 af;

	for (i = 0; i < len; i++)
		if (b[i] == '\n' || b[i] == '\0')
			break;
	if (i == len) {
		if (len >= V1_MAX)
			return PROXY_BAD;
		*n = 1;			/* the end may be the next byte */
		return PROXY_MORE;
	}
	/* the whole line, CRLF included, is at most V1_MAX bytes */
	if (b[i] != '\n' || i < 1 || b[i - 1] != '\r' || i + 1 > V1_MAX)
		return PROXY_BAD;
	*n = i + 1;
	memcpy(line, b, i - 1);
	line[i - 1] = '\0';
	for (p = strtok_r(line, " ", &last); p != NULL;
	    p = strtok_r(NULL, " ", &last)) {
		if (ntok == sizeof(tok) / sizeof(tok[0]))
			return PROXY_BAD;
		tok[ntok++] = p;
	}
	if (ntok >= 2 && strcmp(tok[1], "UNKNOWN") == 0) {
		(void)set_addr(src, AF_UNSPEC, NULL, 0);
		return PROXY_OK;
	}
	if (ntok != 6)
		return PROXY_BAD;
	if (strcmp(tok[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(tok[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return PROXY_BAD;
	if (inet_pton(af, tok[2], ip) != 1 || inet_pton(af, tok[3], ip2) != 1 ||
	    v1_port(tok[4], &sport) == -1 || v1_port(tok[5], &dport) == -1)
		return PROXY_BAD;
	(void)set_addr(src, af, ip, sport);
	return PROXY_OK;
}

int
proxy_parse(const void *buf, size_t len, struct sockaddr_storage *src,
    size_t *n)
{
	const unsigned char	*b = buf;
	size_t			 k;

	if (len == 0) {
		*n = 1;
		return PROXY_MORE;
	}
	if (b[0] == v2_sig[0]) {
		k = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
		if (memcmp(b, v2_sig, k) != 0)
			return PROXY_BAD;
		return v2_parse(b, len, src, n);
	}
	k = len < sizeof(v1_sig) - 1 ? len : sizeof(v1_sig) - 1;
	if (memcmp(b, v1_sig, k) != 0)
		return PROXY_BAD;
	if (len < sizeof(v1_sig) - 1) {
		*n = sizeof(v1_sig) - 1 - len;
		return PROXY_MORE;
	}
	return v1_parse(b, len, src, n);
}
