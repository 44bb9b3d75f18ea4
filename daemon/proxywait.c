/*
 * Connections waiting for their PROXY protocol header. Only peers in
 * proxy_from may send one: any other is refused at once. The master polls
 * them with its listeners; each read takes only what the parser allows, so
 * nothing after the header is consumed and nothing blocks. A connection
 * with a malformed header, or none within PROXY_TIMEOUT_MS, is closed
 * without a reply.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/netaddr.h"
#include "daemon/proxywait.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/netprefix.h"
#include "shared/proxyproto.h"

#define PROXYWAIT_MAX	1024	/* connections reading a header */

struct hdrwait {
	int			fd;
	struct sockaddr_storage	peer;
	struct sockaddr_storage	local;
	long			since;		/* ms */
	size_t			len;
	unsigned char		buf[PROXY_HDR_MAX];
};

static struct hdrwait		*hw;	/* oldest first */
static size_t			 nhw;
static proxywait_admit_fn	 admit;

void
proxywait_init(proxywait_admit_fn fn)
{
	admit = fn;
}

static void
hw_remove(size_t i)
{
	memmove(&hw[i], &hw[i + 1], (nhw - i - 1) * sizeof(*hw));
	nhw--;
}

/* Read what there is of a header, never past it, never blocking. */
static void
hw_read(size_t i)
{
	struct hdrwait		*h = &hw[i];
	struct sockaddr_storage	 src, peer, local;
	char			 a[64], b[64];
	size_t			 n;
	ssize_t			 r;
	int			 fd, rv;

	memset(&src, 0, sizeof(src));
	for (;;) {
		rv = proxy_parse(h->buf, h->len, &src, &n);
		if (rv != PROXY_MORE)
			break;
		if (n > sizeof(h->buf) - h->len) {
			rv = PROXY_BAD;
			break;
		}
		r = recv(h->fd, h->buf + h->len, n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;		/* the rest comes later */
		if (r <= 0) {
			rv = PROXY_BAD;
			break;
		}
		h->len += (size_t)r;
	}
	fd = h->fd;
	peer = h->peer;
	local = h->local;
	hw_remove(i);
	addr_str(&peer, a, sizeof(a));
	if (rv != PROXY_OK) {
		log_warnx("refused %s: no valid PROXY protocol header", a);
		close(fd);
		return;
	}
	if (src.ss_family != AF_UNSPEC) {
		addr_str(&src, b, sizeof(b));
		log_debug("PROXY header from %s: client %s", a, b);
		peer = src;
	}
	admit(fd, &peer, &local);
}

void
proxywait_add(const struct config *cfg, int fd,
    const struct sockaddr_storage *peer, const struct sockaddr_storage *local,
    long now)
{
	char	a[64];

	if (!net_prefix_match(cfg->proxy_from, (size_t)cfg->nproxy_from,
	    peer)) {
		addr_str(peer, a, sizeof(a));
		log_warnx("refused %s: not in proxy_from, may not send a "
		    "PROXY protocol header", a);
		close(fd);
		return;
	}
	if (hw == NULL && (hw = calloc(PROXYWAIT_MAX, sizeof(*hw))) == NULL) {
		log_warn("PROXY header table");
		close(fd);
		return;
	}
	if (nhw == PROXYWAIT_MAX) {
		log_warnx("too many connections without a PROXY header: "
		    "closing one");
		close(fd);
		return;
	}
	hw[nhw].fd = fd;
	hw[nhw].peer = *peer;
	hw[nhw].local = *local;
	hw[nhw].since = now;
	hw[nhw].len = 0;
	nhw++;
	hw_read(nhw - 1);	/* the header often came with the handshake */
}

size_t
proxywait_count(void)
{
	return nhw;
}

void
proxywait_pollfds(struct pollfd *pfd)
{
	size_t	i;

	for (i = 0; i < nhw; i++) {
		pfd[i].fd = hw[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
}

void
proxywait_ready(const struct pollfd *pfd, size_t n)
{
	size_t	i;

	/* backwards: hw_read() removes its entry, and admit() may add */
	for (i = n; i-- > 0;)
		if (i < nhw && pfd[i].revents != 0 && hw[i].fd == pfd[i].fd)
			hw_read(i);
}

int
proxywait_expire(long now)
{
	char	a[64];

	while (nhw > 0 && now - hw[0].since >= PROXY_TIMEOUT_MS) {
		addr_str(&hw[0].peer, a, sizeof(a));
		log_warnx("refused %s: no PROXY protocol header in %d ms", a,
		    PROXY_TIMEOUT_MS);
		close(hw[0].fd);
		hw_remove(0);
	}
	return nhw > 0 ? (int)(PROXY_TIMEOUT_MS - (now - hw[0].since)) : -1;
}

void
proxywait_closeall(void)
{
	size_t	i;

	for (i = 0; i < nhw; i++)
		close(hw[i].fd);
	nhw = 0;
}
