/* moatadm: the account tool. Parses -c, loads the config, dispatches. */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "shared/config.h"
#include "shared/log.h"
#include "admin/admin.h"

static const struct {
	const char	*name;
	adm_cmd_fn	 fn;
	const char	*usage;
} commands[] = {
	{ "useradd",	cmd_useradd,
	    "useradd [NAME [--quota SIZE] [--home DIR] [--password-stdin]]" },
	{ "passwd",	cmd_passwd,	"passwd NAME [--password-stdin]" },
	{ "quota",	cmd_quota,	"quota NAME SIZE|+SIZE|-SIZE [--force]" },
	{ "lock",	cmd_lock,	"lock NAME" },
	{ "unlock",	cmd_unlock,	"unlock NAME" },
	{ "userdel",	cmd_userdel,	"userdel NAME [--purge]" },
	{ "list",	cmd_list,	"list" },
	{ "show",	cmd_show,	"show NAME" },
	{ "gencert",	cmd_gencert,	"gencert [--cn NAME] [--days N]" },
	{ "who",	cmd_who,	"who" },
	{ "kick",	cmd_kick,	"kick PID|NAME" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void	usage(FILE *);

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: moatadm [-c FILE] COMMAND [ARGS]\n");
	fprintf(fp, "       moatadm -h | help\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "       moatadm %s\n", commands[i].usage);
}

int
main(int argc, char **argv)
{
	static struct adm	 a;
	const char		*conf = MOAT_DEFAULT_CONF;
	char			 err[1024], vis[64];
	size_t			 i;
	int			 ch, rv;

	(void)umask(077);
	opterr = 0;		/* one line of our own instead */
	while ((ch = getopt(argc, argv, "+:c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return ADM_OK;
		case ':':
			return adm_bad("option -%c needs a value", optopt);
		default:
			return adm_bad("unknown option -%c; usage: moatadm "
			    "[-c FILE] COMMAND (try moatadm -h)", optopt);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return adm_bad("usage: moatadm [-c FILE] COMMAND "
		    "(try moatadm -h)");
	if (strcmp(argv[0], "help") == 0) {
		if (argc > 1)
			return adm_bad("usage: moatadm help");
		usage(stdout);
		return ADM_OK;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == NCOMMANDS)
		return adm_bad("unknown command '%s' (try moatadm -h)",
		    log_vis(vis, sizeof(vis), argv[0]));
	if (config_load(&a.conf, conf, err, sizeof(err)) == -1)
		return adm_fail("%s", err);
	a.root = geteuid() == 0;
	a.lockfd = -1;
	rv = commands[i].fn(&a, argc, argv);
	if (fflush(stdout) == EOF && rv == ADM_OK)
		rv = adm_failw("stdout");
	OPENSSL_cleanse(&a.db, sizeof(a.db));
	return rv;
}
