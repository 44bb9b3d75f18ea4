/* Socket addresses: printing, comparing, binding a listener. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "daemon/netaddr.h"

void
addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			(void)inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    buf, (socklen_t)len);
			return;
		}
		a = &s6->sin6_addr;
	} else
		a = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		(void)strlcpy(buf, "?", len);
}

int
addr_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char	x[64], y[64];

	addr_str(a, x, sizeof(x));
	addr_str(b, y, sizeof(y));
	return strcmp(x, y) == 0;
}

int
addr_bind(const struct listen_addr *l)
{
	int	fd, one = 1;

	fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->ss, l->len) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
addr_listen(const struct listen_addr *l)
{
	int	fd;

	if ((fd = addr_bind(l)) == -1)
		return -1;
	if (listen(fd, 511) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
