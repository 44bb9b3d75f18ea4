/* moatftpd [-f] [-d] [-t [-n]] [-c FILE] */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "daemon/bindnow.h"
#include "daemon/master.h"
#include "shared/config.h"
#include "shared/log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: moatftpd [-dfnt] [-c file]\n");
	exit(2);
}

int
main(int argc, char *argv[], char *envp[])
{
	static struct config	cfg;	/* shared with every child */
	struct master_opts	o = { MOAT_DEFAULT_CONF, 0, 0 };
	static char		abspath[PATH_MAX];
	char			err[1024], cwd[PATH_MAX];
	int			ch, test = 0, parse_only = 0;

	bindnow_reexec(argv);
	setproctitle_init(argc, argv, envp);
	while ((ch = getopt(argc, argv, "c:dfnt")) != -1) {
		switch (ch) {
		case 'c':
			o.conffile = optarg;
			break;
		case 'd':
			o.debug = 1;
			break;
		case 'f':
			o.foreground = 1;
			break;
		case 'n':
			parse_only = 1;
			break;
		case 't':
			test = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (parse_only && !test))
		usage();
	/* a reload reads the file again, after the detach's chdir("/") */
	if (o.conffile[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abspath, sizeof(abspath), "%s/%s", cwd,
		    o.conffile) >= sizeof(abspath)) {
			fprintf(stderr, "moatftpd: %s: cannot make the path "
			    "absolute\n", o.conffile);
			return 1;
		}
		o.conffile = abspath;
	}
	if (config_load(&cfg, o.conffile, err, sizeof(err)) == -1) {
		fprintf(stderr, "moatftpd: %s\n", err);
		return 1;
	}
	if (test) {
		/* the start's own checks (but with -n): one line a problem */
		log_init("moatftpd", LOG_TO_PLAIN, 0);
		log_setlevel(o.debug ? LOG_LVL_DEBUG : LOG_LVL_WARN);
		if (!parse_only && master_test(&cfg, &o) != 0)
			return 1;
		config_print(&cfg, stdout);
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	log_init("moatftpd", o.foreground,
	    log_facility_byname(cfg.log_facility));
	log_setlevel(o.debug ? LOG_LVL_DEBUG : (int)cfg.log_level);
	return master_main(&cfg, &o);
}
