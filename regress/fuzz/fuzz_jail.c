/*
 * libFuzzer: the pre-login state machine (privsep/jail.c, built with
 * -DMOAT_FUZZ). The input is everything a client sends before login; the
 * first byte scripts the fake monitor's answers to up to four PASS
 * (2 bits each: OK, FAIL, TOO_MANY, LEDGER_FULL). The jail runs its real
 * command table over socketpairs, without a sandbox, until it would exit.
 * Replies must be well formed: "ddd " or "ddd-" lines ending in CRLF.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "privsep/ipc.h"
#include "privsep/privsep.h"
#include "shared/config.h"
#include "shared/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	jail_fuzz(const struct config *, int, int);

static struct config	cfg;
static int		inited;

static void
check_replies(const char *p, size_t n)
{
	size_t	i = 0, e;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);

		if (nl == NULL)		/* cut short by a full socket */
			return;
		e = (size_t)(nl - p);
		assert(e > i && p[e - 1] == '\r');
		if (p[i] >= '1' && p[i] <= '5' && e - i >= 4 &&
		    (p[i + 3] == ' ' || p[i + 3] == '-'))
			;	/* a reply line */
		else
			assert(p[i] == ' ');	/* FEAT continuation */
		assert(memchr(p + i, '\r', e - 1 - i) == NULL);
		i = e + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	out[1 << 20];
	int		cl[2], mon[2], i;
	int32_t		res;
	ssize_t		n;
	size_t		got = 0;

	if (!inited) {
		config_defaults(&cfg);
		cfg.tls_cert[0] = '\0';
		log_init("fuzz_jail", 1, 0);
		log_setlevel(LOG_LVL_WARN);
		inited = 1;
	}
	if (size < 1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cl) == -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mon) == -1) {
		close(cl[0]);
		close(cl[1]);
		return 0;
	}
	for (i = 0; i < 4; i++) {
		res = (data[0] >> (2 * i)) & 3;
		(void)ipc_send(mon[1], MSG_AUTH_RESULT, &res, sizeof(res), -1);
	}
	/* the monitor's end answers nothing more: a fifth PASS reads EAGAIN */
	(void)fcntl(mon[0], F_SETFL, O_NONBLOCK);
	/* a jail whose client stops reading gets a write error, not a hang */
	(void)fcntl(cl[0], F_SETFL, O_NONBLOCK);
	if (size > 1)
		(void)write(cl[1], data + 1, size - 1);
	shutdown(cl[1], SHUT_WR);
	(void)jail_fuzz(&cfg, cl[0], mon[0]);
	close(cl[0]);
	close(mon[0]);
	close(mon[1]);
	while (got < sizeof(out) &&
	    (n = read(cl[1], out + got, sizeof(out) - got)) > 0)
		got += (size_t)n;
	close(cl[1]);
	check_replies(out, got);
	return 0;
}
