/*
 * moatftp [options] [ftp://|ftps://][user@]host[:port][/dir] [command ...]
 * With commands: run them in order, stop at the first failure, exit 0 only
 * if all succeeded. Without: the interactive shell, or the commands on
 * stdin when it is not a terminal (exit 0 only if all succeeded).
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "client/client.h"
#include "shared/digest.h"

volatile sig_atomic_t	cl_interrupted;

enum { OPT_TLS = 256, OPT_CAFILE, OPT_HASH, OPT_PASSIVE, OPT_ACTIVE,
	OPT_HELP };

static const struct option longopts[] = {
	{ "tls",	required_argument,	NULL, OPT_TLS },
	{ "cafile",	required_argument,	NULL, OPT_CAFILE },
	{ "hash",	required_argument,	NULL, OPT_HASH },
	{ "passive",	no_argument,		NULL, OPT_PASSIVE },
	{ "active",	no_argument,		NULL, OPT_ACTIVE },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 },
};

static const struct {
	const char	*name;
	int		 mode;
} tls_modes[] = {
	{ "require", TLS_REQUIRE }, { "auto", TLS_AUTO }, { "off", TLS_OFF },
};

static void	usage(int) __attribute__((noreturn));
static void	on_sigint(int);
static int	parse_target(struct opts *, const char *, int *, char *,
		    size_t);
static int	get_password(struct client *, char *, size_t);

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: moatftp [-qv] [-P port] [-u user] "
	    "[--tls=require|auto|off] [--cafile file]\n"
	    "               [--hash=md5|sha256] [--passive|--active] "
	    "[ftp://|ftps://][user@]host[:port][/dir]\n"
	    "               [command ...]\n"
	    "Each command is one argument: moatftp alice@host 'put a.bin' "
	    "'ls'\n");
	exit(status);
}

static void
on_sigint(int sig)
{
	(void)sig;
	if (cl_interrupted < 2)
		cl_interrupted++;
}

/*
 * [scheme://][user@]host[:port][/dir]; *scheme_tls: -1 none, else mode.
 * ftp:// names the protocol only: it does not lower the TLS default (the
 * password would go in clear without a word from the user).
 */
static int
parse_target(struct opts *o, const char *arg, int *scheme_tls, char *dir,
    size_t dirlen)
{
	char		 buf[CL_HOST_MAX * 2], *s, *at, *slash, *colon;
	const char	*errstr;

	*scheme_tls = -1;
	dir[0] = '\0';
	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		return -1;
	s = buf;
	if (strncasecmp(s, "ftp://", 6) == 0)
		s += 6;
	else if (strncasecmp(s, "ftps://", 7) == 0) {
		*scheme_tls = TLS_REQUIRE;
		s += 7;
	} else if (strstr(s, "://") != NULL)
		return -1;
	if ((slash = strchr(s, '/')) != NULL) {
		if (strlcpy(dir, slash, dirlen) >= dirlen)
			return -1;
		*slash = '\0';
	}
	if ((at = strrchr(s, '@')) != NULL) {
		*at = '\0';
		if (o->user[0] == '\0' &&
		    strlcpy(o->user, s, sizeof(o->user)) >= sizeof(o->user))
			return -1;
		s = at + 1;
	}
	if (*s == '[') {			/* [v6]:port */
		if ((colon = strchr(s, ']')) == NULL)
			return -1;
		*colon++ = '\0';
		s++;
		colon = *colon == ':' ? colon : NULL;
	} else
		colon = strrchr(s, ':');
	if (colon != NULL) {
		*colon++ = '\0';
		(void)strtonum(colon, 1, 65535, &errstr);
		if (errstr != NULL)
			return -1;
		if (o->port[0] == '\0')
			strlcpy(o->port, colon, sizeof(o->port));
	}
	if (*s == '\0' || strlcpy(o->host, s, sizeof(o->host)) >=
	    sizeof(o->host))
		return -1;
	return 0;
}

/* No user from the address or -u: the local user's name. 0 or -1. */
static int
local_user(struct client *c)
{
	struct passwd	*pw;

	if (c->o.user[0] != '\0')
		return 0;
	if ((pw = getpwuid(getuid())) == NULL ||
	    strlcpy(c->o.user, pw->pw_name, sizeof(c->o.user)) >=
	    sizeof(c->o.user)) {
		c->o.user[0] = '\0';
		warnx("no local user name: give one with -u or user@host");
		return -1;
	}
	return 0;
}

/* MOATFTP_PASSWORD, then ~/.netrc, then a prompt on the terminal. */
static int
get_password(struct client *c, char *pass, size_t len)
{
	char		 login[CL_USER_MAX], prompt[CL_USER_MAX + CL_HOST_MAX + 32];
	const char	*env = getenv("MOATFTP_PASSWORD");
	int		 rv;

	if (env != NULL) {
		if (local_user(c) == -1)
			return -1;
		return strlcpy(pass, env, len) >= len ? -1 : 0;
	}
	rv = netrc_lookup(c->o.host, c->o.user, login, sizeof(login), pass,
	    len);
	if (rv == 0) {
		/* an entry with a password and no login: the user the
		 * client would name anyway, never an empty USER */
		if (login[0] != '\0')
			strlcpy(c->o.user, login, sizeof(c->o.user));
		else if (local_user(c) == -1) {
			explicit_bzero(pass, len);
			return -1;
		}
		return 0;
	}
	if (local_user(c) == -1)
		return -1;
	snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", c->o.user,
	    c->o.host);
	if (readpassphrase(prompt, pass, len, RPP_REQUIRE_TTY) == NULL) {
		warnx("no password: set MOATFTP_PASSWORD, add a ~/.netrc "
		    "entry, or run on a terminal");
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct client	 c;	/* large: not on the stack */
	struct sigaction	 sa;
	char			 pass[MOAT_PASS_MAX], dir[MOAT_PATH_MAX];
	const char		*errstr;
	size_t			 i;
	int			 ch, tls = -1, scheme_tls, rv = 0;

	setlocale(LC_CTYPE, "");
	c.f.fd = -1;
	c.o.passive = 1;
	c.o.hash = DIGEST_MD5;
	while ((ch = getopt_long(argc, argv, "+P:u:qvh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'P':
			(void)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(2, "-P %s: port is %s", optarg, errstr);
			strlcpy(c.o.port, optarg, sizeof(c.o.port));
			break;
		case 'u':
			if (strlcpy(c.o.user, optarg, sizeof(c.o.user)) >=
			    sizeof(c.o.user))
				errx(2, "-u: user name too long");
			break;
		case 'q':
			c.o.quiet = 1;
			break;
		case 'v':
			c.o.verbose = 1;
			break;
		case OPT_TLS:
			for (i = 0; i < sizeof(tls_modes) /
			    sizeof(tls_modes[0]); i++)
				if (strcmp(optarg, tls_modes[i].name) == 0)
					tls = tls_modes[i].mode;
			if (tls == -1)
				errx(2, "--tls=%s: say require, auto or off",
				    optarg);
			break;
		case OPT_CAFILE:
			if (access(optarg, R_OK) == -1)
				err(2, "--cafile %s", optarg);
			c.o.cafile = optarg;
			break;
		case OPT_HASH:
			if (strcasecmp(optarg, "md5") == 0)
				c.o.hash = DIGEST_MD5;
			else if (strcasecmp(optarg, "sha256") == 0)
				c.o.hash = DIGEST_SHA256;
			else
				errx(2, "--hash=%s: say md5 or sha256", optarg);
			break;
		case OPT_PASSIVE:
			c.o.passive = 1;
			break;
		case OPT_ACTIVE:
			c.o.passive = 0;
			break;
		case OPT_HELP:
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(2);
	if (parse_target(&c.o, argv[0], &scheme_tls, dir, sizeof(dir)) == -1)
		errx(2, "%s: not [ftp://|ftps://][user@]host[:port]", argv[0]);
	c.o.tls = tls != -1 ? tls : scheme_tls != -1 ? scheme_tls :
	    TLS_REQUIRE;
	if (c.o.port[0] == '\0')
		strlcpy(c.o.port, "21", sizeof(c.o.port));
	c.interactive = isatty(STDIN_FILENO);
	c.tty = isatty(STDOUT_FILENO);
	c.color = c.tty && getenv("NO_COLOR") == NULL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: reads see EINTR */
	signal(SIGPIPE, SIG_IGN);

	/* In the shell a first Ctrl-C only stops a transfer: a reply is
	 * waited for until a second one. */
	c.f.intr_max = argc > 1 || !c.interactive ? 1 : 2;
	if (get_password(&c, pass, sizeof(pass)) == -1)
		return 1;
	rv = ftp_open(&c, pass);
	explicit_bzero(pass, sizeof(pass));
	if (rv == -1) {
		warnx("%s", c.f.err);
		ftp_close(&c);
		return 1;
	}
	if (dir[0] != '\0' && dir[1] != '\0' && ((rv = ftp_cmd(&c.f,
	    "CWD %s", dir)) != 250 || ftp_pwd(&c) == -1)) {
		if (rv != 250 && rv != -1)
			ftp_seterr_reply(&c.f);
		warnx("cd %s: %s", dir, c.f.err);	/* escaped */
		ftp_close(&c);
		return 1;
	}
	rv = 0;
	if (argc > 1) {
		for (i = 1; i < (size_t)argc; i++) {
			cl_interrupted = 0;
			rv = cmd_run_line(&c, argv[i]);
			if (cl_interrupted) {
				warnx("interrupted");
				rv = -1;
			}
			if (rv != 0)
				break;
		}
		if (rv == 1)
			rv = 0;
	} else
		rv = shell_run(&c);
	ftp_close(&c);
	return rv == 0 ? 0 : 1;
}
