/*
 * The PROXY protocol (HAProxy), versions 1 (text) and 2 (binary): the
 * header a load balancer sends first, naming the real client. A pure
 * parser, so the master can feed it what it has read without blocking.
 */
#ifndef MOAT_PROXYPROTO_H
#define MOAT_PROXYPROTO_H

#include <sys/types.h>
#include <sys/socket.h>

#define PROXY_HDR_MAX		536	/* v1 is <= 107; v2 16 + TLVs */
#define PROXY_TIMEOUT_MS	5000	/* to receive the whole header */

#define PROXY_BAD		(-1)	/* not a valid header: close */
#define PROXY_MORE		0	/* read *n more bytes, then call again */
#define PROXY_OK		1	/* the header is the first *n bytes */

/*
 * Parse the len bytes at buf. On PROXY_MORE, *n is how many more bytes
 * may be read without reading past the header. On PROXY_OK, *n is the
 * header's length and src holds the client's address and port, or has
 * ss_family AF_UNSPEC when the header names none (v1 UNKNOWN, v2 LOCAL or
 * a non-IP family): then the connection's own peer stands.
 */
int	proxy_parse(const void *buf, size_t len, struct sockaddr_storage *src,
	    size_t *n);

#endif
