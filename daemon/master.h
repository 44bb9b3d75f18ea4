/* The master: listeners, limits, the wait queue, one monitor per connection. */
#ifndef MOAT_MASTER_H
#define MOAT_MASTER_H

#include "shared/config.h"

struct master_opts {
	const char	*conffile;
	int		 foreground;
	int		 debug;
};

/* Runs until SIGTERM/SIGINT; returns the exit status. */
int	master_main(struct config *cfg, const struct master_opts *o);

#endif
