/*
 * The client's commands: one table names each command, its handler, its
 * argument counts, what its arguments complete to, and its help text.
 * A handler returns 0 (done), -1 (failed, one line on stderr) or 1 (quit).
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <histedit.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/string.h>

#include "client/client.h"
#include "shared/size.h"

struct cmd {
	const char	*name;
	int		(*fn)(struct client *, int, char **);
	int		 minargs;	/* operands, options not counted */
	int		 maxargs;
	int		 complete;	/* 'l' local, 'r' remote, 0 none */
	const char	*usage;
	const char	*help;
};

static int	cmd_help(struct client *, int, char **);
static int	cmd_cd(struct client *, int, char **);
static int	cmd_pwd(struct client *, int, char **);
static int	cmd_mkdir(struct client *, int, char **);
static int	cmd_rmdir(struct client *, int, char **);
static int	cmd_get(struct client *, int, char **);
static int	cmd_put(struct client *, int, char **);
static int	cmd_del(struct client *, int, char **);
static int	cmd_mv(struct client *, int, char **);
static int	cmd_show(struct client *, int, char **);
static int	cmd_quota(struct client *, int, char **);
static int	cmd_lcd(struct client *, int, char **);
static int	cmd_lpwd(struct client *, int, char **);
static int	cmd_exit(struct client *, int, char **);
static const struct cmd *cmd_find(const char *);
static int	simple(struct client *, const char *, const char *,
		    const char *, int);
static int	get_quota(struct client *, uint64_t *, uint64_t *,
		    uint64_t *);
static int	opts(int, char **, const char *, const struct cmd *,
		    int *);

static const struct cmd cmds[] = {
	{ "help", cmd_help, 0, 1, 0, "help [command]",
	    "List the commands, or show one command's usage and examples.\n"
	    "  help get" },
	{ "ls", cmd_ls, 0, 1, 'r', "ls [path]",
	    "List a remote directory: directories first, then files, with\n"
	    "size and modification time, then counts and the total size.\n"
	    "  ls\n  ls photos/2024" },
	{ "cd", cmd_cd, 0, 1, 'r', "cd [dir]",
	    "Change the remote directory (no argument: the home directory).\n"
	    "  cd photos\n  cd .." },
	{ "pwd", cmd_pwd, 0, 0, 0, "pwd", "Print the remote directory." },
	{ "mkdir", cmd_mkdir, 1, 1, 'r', "mkdir dir",
	    "Create a remote directory.\n  mkdir backups" },
	{ "rmdir", cmd_rmdir, 1, 1, 'r', "rmdir dir",
	    "Remove an empty remote directory (del -d removes a tree).\n"
	    "  rmdir old" },
	{ "get", cmd_get, 1, 2, 'r', "get [-r] [-f] remote [localdir]",
	    "Download a file (-r: a directory tree) into localdir (created\n"
	    "if missing). Data goes to NAME.moatpart, which a later get\n"
	    "resumes; the file is renamed to NAME once its digest matches\n"
	    "the server's. -f overwrites an existing local file; without\n"
	    "it get -r skips the files already there with the same size.\n"
	    "~/ is $HOME in local paths.\n"
	    "  get report.pdf\n  get -r photos ~/backup\n  get -f a.bin /tmp" },
	{ "put", cmd_put, 1, 2, 'l', "put [-r] [-f] local [remotedir]",
	    "Upload a file (-r: a directory tree) into remotedir. Data goes\n"
	    "to .NAME.moatpart on the server, resumed by a later put and\n"
	    "renamed to NAME once the digests match. -f overwrites an\n"
	    "existing remote file; without it put -r skips the files\n"
	    "already there with the same size.\n"
	    "  put a.bin\n  put -r site www\n  put -f notes.txt docs" },
	{ "del", cmd_del, 1, 1, 'r', "del -f file | del -d [-y] dir",
	    "Delete a remote file (-f), or a remote directory and\n"
	    "everything in it (-d; asks first unless -y). A symbolic\n"
	    "link is deleted itself, never what it points to.\n"
	    "  del -f old.log\n  del -d -y tmp" },
	{ "mv", cmd_mv, 2, 2, 'r', "mv src dst",
	    "Rename or move a remote file or directory.\n  mv a.txt b.txt" },
	{ "show", cmd_show, 0, 0, 0, "show",
	    "Show the user, the server, the remote directory and the quota." },
	{ "quota", cmd_quota, 0, 0, 0, "quota",
	    "Show used, limit and free space (SITE QUOTA)." },
	{ "lcd", cmd_lcd, 0, 1, 'l', "lcd [dir]",
	    "Change the local directory (no argument: $HOME).\n  lcd /tmp" },
	{ "lls", cmd_lls, 0, 1, 'l', "lls [dir]",
	    "List a local directory.\n  lls\n  lls ~/backup" },
	{ "lpwd", cmd_lpwd, 0, 0, 0, "lpwd", "Print the local directory." },
	{ "exit", cmd_exit, 0, 0, 0, "exit", "Leave moatftp." },
	{ "quit", cmd_exit, 0, 0, 0, "quit", "Leave moatftp." },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

const char *const *
cmd_names(void)
{
	static const char	*names[NCMDS + 1];
	size_t			 i;

	for (i = 0; i < NCMDS; i++)
		names[i] = cmds[i].name;
	names[NCMDS] = NULL;
	return names;
}

int
cmd_completes(const char *name)
{
	const struct cmd	*c = cmd_find(name);

	return c != NULL ? c->complete : 0;
}

/* "yes" or "y" typed at the terminal; never without one. */
int
ask_yes(const char *prompt)
{
	char	buf[16];

	if (!isatty(STDIN_FILENO))
		return 0;
	fflush(stdout);
	if (readpassphrase(prompt, buf, sizeof(buf), RPP_ECHO_ON) == NULL)
		return 0;
	return strcasecmp(buf, "yes") == 0 || strcasecmp(buf, "y") == 0;
}

/* Options of a command; *flags gets one bit per letter. Returns the
 * operand index, or -1 after printing the usage. */
static int
opts(int argc, char **argv, const char *optstr, const struct cmd *c,
    int *flags)
{
	int	ch;

	*flags = 0;
	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, optstr)) != -1) {
		if (ch == '?' || ch < 'a' || ch > 'z') {
			warnx("%s: unknown option -%c; usage: %s", c->name,
			    optopt, c->usage);
			return -1;
		}
		*flags |= 1 << (ch - 'a');
	}
	if (argc - optind < c->minargs || argc - optind > c->maxargs) {
		warnx("usage: %s", c->usage);
		return -1;
	}
	return optind;
}
#define FL(ch)	(1 << ((ch) - 'a'))

/* One command, one expected reply. */
static int
simple(struct client *c, const char *what, const char *verb,
    const char *arg, int want)
{
	int	code;

	if ((code = ftp_cmd(&c->f, "%s %s", verb, arg)) == want)
		return 0;
	if (code != -1)
		ftp_seterr_reply(&c->f);
	warnx("%s: %s: %s", what, arg, c->f.err);
	return -1;
}

static int
cmd_help(struct client *c, int argc, char **argv)
{
	const struct cmd	*cmd;
	size_t			 i;

	(void)c;
	if (argc > 1) {
		if ((cmd = cmd_find(argv[1])) == NULL) {
			warnx("help: no such command: %s", argv[1]);
			return -1;
		}
		printf("usage: %s\n%s\n", cmd->usage, cmd->help);
		return 0;
	}
	printf("commands (help CMD for usage and examples):\n");
	for (i = 0; i < NCMDS; i++)
		printf("  %-36s %.*s\n", cmds[i].usage,
		    (int)strcspn(cmds[i].help, "\n"), cmds[i].help);
	return 0;
}

static int
cmd_cd(struct client *c, int argc, char **argv)
{
	if (simple(c, "cd", "CWD", argc > 1 ? argv[1] : c->home, 250) == -1)
		return -1;
	(void)ftp_pwd(c);
	return 0;
}

static int
cmd_pwd(struct client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (ftp_pwd(c) == -1) {
		warnx("pwd: unusable reply (%s)", c->f.err);
		return -1;
	}
	printf("%s\n", c->cwd);
	return 0;
}

static int
cmd_mkdir(struct client *c, int argc, char **argv)
{
	(void)argc;
	return simple(c, "mkdir", "MKD", argv[1], 257);
}

static int
cmd_rmdir(struct client *c, int argc, char **argv)
{
	(void)argc;
	return simple(c, "rmdir", "RMD", argv[1], 250);
}

/*
 * A local path as typed, with a leading "~" or "~/" standing for $HOME:
 * no shell expands it here. 0, or -1 after a message.
 */
int
local_path(const char *cmd, const char *in, char *out, size_t len)
{
	const char	*home;
	int		 n;

	if (in[0] != '~' || (in[1] != '\0' && in[1] != '/')) {
		if (strlcpy(out, in, len) >= len) {
			warnx("%s: %s: name too long", cmd, in);
			return -1;
		}
		return 0;
	}
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		warnx("%s: %s: HOME is not set", cmd, in);
		return -1;
	}
	n = snprintf(out, len, "%s%s", home, in + 1);
	if (n < 0 || (size_t)n >= len) {
		warnx("%s: %s: name too long", cmd, in);
		return -1;
	}
	return 0;
}

/*
 * get and put: one file, or a tree with -r; -f overwrites (XF_*). lpos:
 * which operand is local (0 the source of put, 1 the directory of get).
 */
static int
transfer(struct client *c, int argc, char **argv, const char *name,
    int lpos, int (*tree)(struct client *, const char *, const char *, int,
    int), int (*one)(struct client *, const char *, const char *, int))
{
	const char	*ops[2];
	char		 lpath[MOAT_PATH_MAX];
	int		 fl, i, xf;

	if ((i = opts(argc, argv, "+rf", cmd_find(name), &fl)) == -1)
		return -1;
	ops[0] = argv[i];
	ops[1] = i + 1 < argc ? argv[i + 1] : NULL;
	if (ops[lpos] != NULL) {
		if (local_path(name, ops[lpos], lpath, sizeof(lpath)) == -1)
			return -1;
		ops[lpos] = lpath;
	}
	xf = fl & FL('f') ? XF_FORCE : 0;
	if (fl & FL('r'))
		return tree(c, ops[0], ops[1], xf, 0) == 0 ? 0 : -1;
	return one(c, ops[0], ops[1], xf);
}

static int
cmd_get(struct client *c, int argc, char **argv)
{
	return transfer(c, argc, argv, "get", 1, tree_get, xfer_get);
}

static int
cmd_put(struct client *c, int argc, char **argv)
{
	return transfer(c, argc, argv, "put", 0, tree_put, xfer_put);
}

static int
cmd_del(struct client *c, int argc, char **argv)
{
	const struct cmd	*cmd = cmd_find("del");
	char			 prompt[MOAT_PATH_MAX + 64];
	int			 fl, i, type;

	if ((i = opts(argc, argv, "+fdy", cmd, &fl)) == -1)
		return -1;
	if (!(fl & FL('f')) == !(fl & FL('d'))) {
		warnx("del: say -f (a file) or -d (a directory tree); "
		    "usage: %s", cmd->usage);
		return -1;
	}
	if (fl & FL('f'))
		return simple(c, "del", "DELE", argv[i], 250);
	/* The entry itself, not where a link leads: a link is deleted,
	 * never the tree it points to. */
	if ((type = remote_type(c, argv[i])) == -1) {
		warnx("del: %s: %s", argv[i], c->f.err);
		return -1;
	}
	if (type != FTP_ENT_DIR && type != FTP_ENT_LINK) {
		warnx("del: %s: not a remote directory", argv[i]);
		return -1;
	}
	if (!(fl & FL('y'))) {
		if (!isatty(STDIN_FILENO)) {
			warnx("del: %s: not confirmed (no terminal; add -y)",
			    argv[i]);
			return -1;
		}
		if (type == FTP_ENT_LINK)
			snprintf(prompt, sizeof(prompt), "delete the symbolic "
			    "link %s (not what it points to) (yes/no)? ",
			    argv[i]);
		else
			snprintf(prompt, sizeof(prompt), "delete %s and "
			    "everything in it (yes/no)? ", argv[i]);
		if (!ask_yes(prompt)) {
			warnx("del: %s: not confirmed, nothing deleted",
			    argv[i]);
			return -1;
		}
	}
	if (type == FTP_ENT_LINK) {
		if (!c->o.quiet)
			printf("%s is a symbolic link: deleting the link "
			    "only\n", argv[i]);
		return simple(c, "del", "DELE", argv[i], 250);
	}
	return tree_del(c, argv[i], 0) == 0 ? 0 : -1;
}

static int
cmd_mv(struct client *c, int argc, char **argv)
{
	(void)argc;
	if (simple(c, "mv", "RNFR", argv[1], 350) == -1)
		return -1;
	return simple(c, "mv", "RNTO", argv[2], 250);
}

/* 0, 1 if the server has no SITE QUOTA, -1 on error. */
static int
get_quota(struct client *c, uint64_t *used, uint64_t *limit, uint64_t *avail)
{
	int	code;

	if ((code = ftp_cmd(&c->f, "SITE QUOTA")) == -1)
		return -1;
	if (code != 200 && code != 211 && code != 213) {
		ftp_seterr_reply(&c->f);
		return 1;
	}
	if (ftpreply_kv(c->f.reply->text, "used", used) == -1 ||
	    ftpreply_kv(c->f.reply->text, "limit", limit) == -1) {
		ftp_seterr(&c->f, "unexpected SITE QUOTA reply");
		return -1;
	}
	if (ftpreply_kv(c->f.reply->text, "free", avail) == -1)
		*avail = *limit > *used ? *limit - *used : 0;
	return 0;
}

static int
cmd_quota(struct client *c, int argc, char **argv)
{
	uint64_t	used, limit, avail;
	char		u[16], l[16], a[16];
	int		rv;

	(void)argc;
	(void)argv;
	if ((rv = get_quota(c, &used, &limit, &avail)) != 0) {
		warnx("quota: %s%s", rv == 1 ? "not supported by this "
		    "server: " : "", c->f.err);
		return -1;
	}
	size_format(used, u, sizeof(u));
	size_format(limit, l, sizeof(l));
	size_format(avail, a, sizeof(a));
	if (limit == 0)
		printf("used %s (%llu bytes), limit: unlimited\n", u,
		    (unsigned long long)used);
	else
		printf("used %s of %s, %s free (%llu/%llu bytes)\n", u, l, a,
		    (unsigned long long)used, (unsigned long long)limit);
	return 0;
}

static int
cmd_show(struct client *c, int argc, char **argv)
{
	uint64_t	used, limit, avail;
	char		u[16], l[16], a[16];

	(void)argc;
	(void)argv;
	(void)ftp_pwd(c);
	printf("user:    %s\n", c->o.user);
	printf("server:  %s port %s, TLS %s\n", c->o.host, c->o.port,
	    tls_version(&c->f));
	printf("banner:  %s\n", c->f.banner);
	printf("home:    %s\n", c->home);
	printf("cwd:     %s\n", c->cwd);
	if (get_quota(c, &used, &limit, &avail) == 0) {
		size_format(used, u, sizeof(u));
		size_format(limit, l, sizeof(l));
		size_format(avail, a, sizeof(a));
		printf("quota:   used %s, limit %s, free %s\n", u,
		    limit == 0 ? "unlimited" : l, limit == 0 ? "-" : a);
	} else
		printf("quota:   not reported by the server\n");
	return 0;
}

static int
cmd_lcd(struct client *c, int argc, char **argv)
{
	char	dir[MOAT_PATH_MAX];

	if (local_path("lcd", argc > 1 ? argv[1] : "~", dir, sizeof(dir)) ==
	    -1)
		return -1;
	if (chdir(dir) == -1) {
		warn("lcd: %s", dir);
		return -1;
	}
	return cmd_lpwd(c, 0, NULL);
}

static int
cmd_lpwd(struct client *c, int argc, char **argv)
{
	char	buf[MOAT_PATH_MAX];

	(void)c;
	(void)argc;
	(void)argv;
	if (getcwd(buf, sizeof(buf)) == NULL) {
		warn("lpwd");
		return -1;
	}
	printf("%s\n", buf);
	return 0;
}

static int
cmd_exit(struct client *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return 1;
}

int
cmd_run_argv(struct client *c, int argc, char **argv)
{
	const struct cmd	*cmd;

	if (argc == 0)
		return 0;
	if ((cmd = cmd_find(argv[0])) == NULL) {
		warnx("unknown command: %s (try help)", argv[0]);
		return -1;
	}
	/* Commands with options count their operands themselves. */
	if (strcmp(cmd->name, "get") != 0 && strcmp(cmd->name, "put") != 0 &&
	    strcmp(cmd->name, "del") != 0 && (argc - 1 < cmd->minargs ||
	    argc - 1 > cmd->maxargs)) {
		warnx("usage: %s", cmd->usage);
		return -1;
	}
	c->f.err[0] = '\0';
	return cmd->fn(c, argc, argv);
}

int
cmd_run_line(struct client *c, const char *line)
{
	Tokenizer	 *tok;
	const char	**av;
	char		**argv;
	int		  ac, rv, i;

	if ((tok = tok_init(NULL)) == NULL) {
		warnx("out of memory");
		return -1;
	}
	if ((rv = tok_str(tok, line, &ac, &av)) != 0) {
		tok_end(tok);
		warnx("%s", rv > 0 ? "unmatched quote" : "cannot parse line");
		return -1;
	}
	/* Handlers run getopt, which wants char **: give them copies. */
	if ((argv = calloc((size_t)ac + 1, sizeof(*argv))) == NULL) {
		tok_end(tok);
		warnx("out of memory");
		return -1;
	}
	for (i = 0; i < ac; i++)
		if ((argv[i] = strdup(av[i])) == NULL)
			break;
	tok_end(tok);
	if (i < ac)
		rv = -1;
	else
		rv = cmd_run_argv(c, ac, argv);
	for (i = 0; i < ac; i++)
		free(argv[i]);
	free(argv);
	return rv;
}
