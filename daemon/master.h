/* The master: listeners, limits, the wait queue, one monitor per connection. */
#ifndef MOAT_MASTER_H
#define MOAT_MASTER_H

#include "shared/config.h"

struct master_opts {
	const char	*conffile;
	int		 foreground;
	int		 debug;
};

/*
 * moatftpd -t: the checks master_main makes before it changes anything,
 * and nothing more (no pidfile, no listener, no process). Each problem is
 * logged on a line of its own. The exit status: 0 if a start would pass
 * them.
 */
int	master_test(struct config *cfg, const struct master_opts *o);
/* Runs until SIGTERM/SIGINT; returns the exit status. */
int	master_main(struct config *cfg, const struct master_opts *o);

#endif
