/*
 * The interactive shell: libedit line editing and history, a prompt with
 * user@host:cwd, and tab completion of commands, local and remote names.
 * When stdin is not a terminal it runs the commands read from it, all of
 * them, and fails if any one did.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"

#define SH_MATCH_MAX	2000
#define SH_HISTORY	500

struct matches {
	char	*v[SH_MATCH_MAX];
	size_t	 n;
};

static char		*prompt(EditLine *);
static unsigned char	 complete(EditLine *, int);
static void		 add_match(struct matches *, const char *, int,
			    const char *);
static void		 free_matches(struct matches *);
static void		 local_matches(struct matches *, const char *,
			    const char *);
static void		 remote_matches(struct client *, struct matches *,
			    const char *, const char *);
static void		 insert_escaped(EditLine *, const char *);

static char	prompt_buf[CL_USER_MAX + CL_HOST_MAX + MOAT_PATH_MAX + 8];

static char *
prompt(EditLine *el)
{
	struct client	*c = NULL;

	el_get(el, EL_CLIENTDATA, &c);
	if (c == NULL)
		return (char *)(uintptr_t)"moatftp> ";
	snprintf(prompt_buf, sizeof(prompt_buf), "%s@%s:%s> ", c->o.user,
	    c->o.host, c->cwd);
	return prompt_buf;
}

static void
add_match(struct matches *m, const char *name, int dir, const char *prefix)
{
	size_t	len;

	if (m->n == SH_MATCH_MAX || strncmp(name, prefix, strlen(prefix)) != 0)
		return;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return;
	len = strlen(name) + 2;
	if ((m->v[m->n] = malloc(len)) == NULL)
		return;
	snprintf(m->v[m->n], len, "%s%s", name, dir ? "/" : "");
	m->n++;
}

static void
free_matches(struct matches *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		free(m->v[i]);
	m->n = 0;
}

static void
local_matches(struct matches *m, const char *dir, const char *prefix)
{
	struct dirent	*de;
	struct stat	 st;
	char		 path[MOAT_PATH_MAX];
	DIR		*dp;

	if ((dp = opendir(*dir ? dir : ".")) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", *dir ? dir :
		    "./", de->d_name) >= sizeof(path))
			continue;
		add_match(m, de->d_name, stat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode), prefix);
	}
	closedir(dp);
}

/* Remote names of one directory, cached until a command runs. */
static struct rlist	cache;
static char		cached[MOAT_PATH_MAX * 2];

static void
cache_drop(void)
{
	rlist_free(&cache);
	cached[0] = '\0';
}

static void
remote_matches(struct client *c, struct matches *m, const char *dir,
    const char *prefix)
{
	char			 key[MOAT_PATH_MAX * 2];
	size_t			 i;
	int			 v = c->f.verbose;

	snprintf(key, sizeof(key), "%s\n%s", c->cwd, dir);
	if (cache.ent == NULL || strcmp(key, cached) != 0) {
		rlist_free(&cache);
		cached[0] = '\0';
		c->f.verbose = 0;
		i = (size_t)rlist_fetch(c, *dir ? dir : NULL, &cache, NULL);
		c->f.verbose = v;
		if (i != 0)
			return;
		strlcpy(cached, key, sizeof(cached));
	}
	for (i = 0; i < cache.n; i++)
		add_match(m, cache.ent[i].name,
		    cache.ent[i].type == FTP_ENT_DIR, prefix);
}

static void
insert_escaped(EditLine *el, const char *s)
{
	char	buf[MOAT_PATH_MAX * 2];
	size_t	n = 0;

	for (; *s != '\0' && n + 3 < sizeof(buf); s++) {
		if (strchr(" \t\\'\"", *s) != NULL)
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
	if (n > 0)
		el_insertstr(el, buf);
}

static unsigned char
complete(EditLine *el, int ch)
{
	const LineInfo	*li = el_line(el);
	struct client	*c = NULL;
	struct matches	 m;
	const char	*ws, *p, *slash;
	char		 word[MOAT_PATH_MAX], cmd[32], dir[MOAT_PATH_MAX];
	const char	*const *names;
	size_t		 n, i, common;
	int		 kind, first = 1;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &c);
	for (ws = li->cursor; ws > li->buffer && ws[-1] != ' ' &&
	    ws[-1] != '\t'; ws--)
		;
	for (p = li->buffer; p < ws; p++)
		if (*p != ' ' && *p != '\t')
			first = 0;
	/* The word typed so far, backslash escapes removed. */
	for (n = 0, p = ws; p < li->cursor && n + 1 < sizeof(word); p++) {
		if (*p == '\\' && p + 1 < li->cursor)
			p++;
		word[n++] = *p;
	}
	word[n] = '\0';
	m.n = 0;
	if (first) {
		for (names = cmd_names(); *names != NULL; names++)
			add_match(&m, *names, 0, word);
	} else {
		for (p = li->buffer; *p == ' ' || *p == '\t'; p++)
			;
		n = strcspn(p, " \t");
		if (n >= sizeof(cmd))
			return CC_ERROR;
		memcpy(cmd, p, n);
		cmd[n] = '\0';
		if ((kind = cmd_completes(cmd)) == 0 || word[0] == '-')
			return CC_ERROR;
		slash = strrchr(word, '/');
		n = slash ? (size_t)(slash - word) + 1 : 0;
		memcpy(dir, word, n);
		dir[n] = '\0';
		if (kind == 'l')
			local_matches(&m, dir, word + n);
		else if (c != NULL)
			remote_matches(c, &m, dir, word + n);
		memmove(word, word + n, strlen(word + n) + 1);
	}
	if (m.n == 0)
		return CC_ERROR;
	common = strlen(m.v[0]);
	for (i = 1; i < m.n; i++)
		for (n = 0; n < common; n++)
			if (m.v[i][n] != m.v[0][n]) {
				common = n;
				break;
			}
	if (common > strlen(word)) {
		m.v[0][common] = '\0';
		insert_escaped(el, m.v[0] + strlen(word));
		if (m.n == 1 && m.v[0][common - 1] != '/')
			el_insertstr(el, " ");
		free_matches(&m);
		return CC_REFRESH;
	}
	if (m.n == 1) {
		if (m.v[0][strlen(m.v[0]) - 1] != '/')
			el_insertstr(el, " ");
		free_matches(&m);
		return CC_REFRESH;
	}
	fputc('\n', stdout);
	for (i = 0; i < m.n; i++)
		printf("%s%s", m.v[i], (i + 1) % 4 == 0 || i + 1 == m.n ?
		    "\n" : "\t");
	free_matches(&m);
	return CC_REDISPLAY;
}

int
shell_run(struct client *c)
{
	EditLine	*el;
	History		*hist;
	HistEvent	 ev;
	const char	*line;
	char		 buf[MOAT_CMD_MAX * 8];
	int		 count, rv = 0, eofs = 0, failed = 0;

	if ((el = el_init("moatftp", stdin, stdout, stderr)) == NULL ||
	    (hist = history_init()) == NULL) {
		fprintf(stderr, "moatftp: cannot start line editing\n");
		return -1;
	}
	history(hist, &ev, H_SETSIZE, SH_HISTORY);
	history(hist, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_CLIENTDATA, c);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_HIST, history, hist);
	/* el_set() would wcsdup() the two names and never free them (libedit
	 * says so in eln.c); el_wset() keeps these static ones as they are. */
	el_wset(el, EL_ADDFN, L"moat-complete", L"complete a name", complete);
	el_set(el, EL_BIND, "^I", "moat-complete", NULL);
	el_source(el, NULL);
	for (;;) {
		cl_interrupted = 0;
		if ((line = el_gets(el, &count)) == NULL || count <= 0) {
			if (cl_interrupted && eofs++ < 1000) {
				fputc('\n', stdout);
				continue;
			}
			fputc('\n', stdout);
			break;
		}
		eofs = 0;
		if (strlcpy(buf, line, sizeof(buf)) >= sizeof(buf)) {
			fprintf(stderr, "moatftp: line too long\n");
			if (!c->interactive)
				failed = 1;
			continue;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[strspn(buf, " \t")] == '\0')
			continue;
		history(hist, &ev, H_ENTER, buf);
		cache_drop();	/* its memory counts against get -r's */
		rv = cmd_run_line(c, buf);
		cache_drop();	/* the command may have changed the server */
		if (rv == 1)
			break;
		/* a script on stdin goes on, but its status says it failed */
		if ((rv != 0 || cl_interrupted) && !c->interactive)
			failed = 1;
		if (c->f.dead) {
			fprintf(stderr, "moatftp: connection lost\n");
			rv = -1;
			break;
		}
		rv = 0;
	}
	cache_drop();
	history_end(hist);
	el_end(el);
	return rv == -1 || failed ? -1 : 0;
}
