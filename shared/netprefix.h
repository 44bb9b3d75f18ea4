/*
 * Address prefixes ("192.0.2.0/24", "2001:db8::/32", "127.0.0.1") and the
 * test whether a peer lies in a list of them: proxy_from in moatftpd.conf.
 */
#ifndef MOAT_NETPREFIX_H
#define MOAT_NETPREFIX_H

#include <sys/types.h>
#include <sys/socket.h>

struct net_prefix {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network order, host bits zero */
	unsigned int	bits;		/* 0..32 or 0..128 */
	char		text[64];	/* as written */
};

/*
 * Parse "addr" (a single host) or "addr/bits", IPv4 or IPv6. Refuses a
 * length out of range, one that is not plain decimal, and set host bits
 * ("10.1.2.3/8": say 10.0.0.0/8 or 10.1.2.3). 0 or -1.
 */
int	net_prefix_parse(const char *s, struct net_prefix *p);
/*
 * 1 if ss (AF_INET or AF_INET6) lies in one of the n prefixes, else 0. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 prefixes.
 */
int	net_prefix_match(const struct net_prefix *p, size_t n,
	    const struct sockaddr_storage *ss);

#endif
