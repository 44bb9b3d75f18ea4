/* Address prefixes and matching a peer against a list of them. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <bsd/string.h>

#include "shared/netprefix.h"

static int	bits_match(const unsigned char *, const unsigned char *,
		    unsigned int);

/* The first bits bits of a and b are the same. */
static int
bits_match(const unsigned char *a, const unsigned char *b, unsigned int bits)
{
	unsigned int	whole = bits / 8, rest = bits % 8;
	unsigned char	mask;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int
net_prefix_parse(const char *s, struct net_prefix *p)
{
	char		 host[64];
	const char	*slash, *d;
	unsigned int	 bits, max, i;
	size_t		 hl;

	memset(p, 0, sizeof(*p));
	if (strlcpy(p->text, s, sizeof(p->text)) >= sizeof(p->text))
		return -1;
	slash = strchr(s, '/');
	hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return -1;
	bits = max;
	if (slash != NULL) {
		/* plain decimal, no sign, no blanks, at most 3 digits */
		d = slash + 1;
		if (*d == '\0' || strlen(d) > 3)
			return -1;
		for (bits = 0; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			bits = bits * 10 + (unsigned int)(*d - '0');
		}
		if (bits > max)
			return -1;
	}
	p->bits = bits;
	/* no host bits: a typo such as 10.1.2.3/8 is caught, not widened */
	for (i = bits; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int
net_prefix_match(const struct net_prefix *p, size_t n,
    const struct sockaddr_storage *ss)
{
	const unsigned char	*a4 = NULL, *a6 = NULL;
	size_t			 i;

	if (ss->ss_family == AF_INET)
		a4 = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *in6 =
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;

		a6 = in6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6))
			a4 = a6 + 12;
	} else
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i].family == AF_INET && a4 != NULL &&
		    bits_match(p[i].addr, a4, p[i].bits))
			return 1;
		if (p[i].family == AF_INET6 && a6 != NULL &&
		    bits_match(p[i].addr, a6, p[i].bits))
			return 1;
	}
	return 0;
}
