/* ~/.netrc: "machine H login U password P" (also "default", "macdef"). */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client/client.h"

#define NETRC_TOK_MAX	512

static int	next_tok(FILE *, char *, size_t);

/* One whitespace-separated token, "quoted" allowed; 0, or -1 at EOF. */
static int
next_tok(FILE *fp, char *tok, size_t len)
{
	size_t	n = 0;
	int	ch, quoted = 0;

	while ((ch = getc(fp)) != EOF && isspace(ch))
		;
	if (ch == EOF)
		return -1;
	if (ch == '"')
		quoted = 1;
	else
		ungetc(ch, fp);
	while ((ch = getc(fp)) != EOF) {
		if (quoted ? ch == '"' : isspace(ch))
			break;
		if (ch == '\\' && (ch = getc(fp)) == EOF)
			break;
		if (n + 1 < len)
			tok[n++] = (char)ch;
	}
	tok[n] = '\0';
	return 0;
}

/*
 * Find host (and user, if set) in ~/.netrc. 0 with login and pass set
 * (login empty for an entry without one), 1 if no entry, -1 on error.
 */
int
netrc_lookup(const char *host, const char *user, char *login,
    size_t loginlen, char *pass, size_t passlen)
{
	char		 path[MOAT_PATH_MAX], tok[NETRC_TOK_MAX];
	char		 cur_login[NETRC_TOK_MAX], cur_pass[NETRC_TOK_MAX];
	const char	*home = getenv("HOME");
	struct stat	 st;
	FILE		*fp;
	int		 in = 0, rv = 1, have_pass = 0;

	if (home == NULL)
		return 1;
	if ((size_t)snprintf(path, sizeof(path), "%s/.netrc", home) >=
	    sizeof(path))
		return -1;
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fileno(fp), &st) == -1 || (st.st_mode & 077) != 0) {
		fprintf(stderr, "moatftp: %s is readable by others: ignored\n",
		    path);
		fclose(fp);
		return 1;
	}
	cur_login[0] = cur_pass[0] = '\0';
	for (;;) {
		int end = next_tok(fp, tok, sizeof(tok)) == -1;

		if (end || strcmp(tok, "machine") == 0 ||
		    strcmp(tok, "default") == 0) {
			/* close the previous entry */
			if (in && have_pass && (*user == '\0' ||
			    strcmp(user, cur_login) == 0)) {
				if (strlcpy(login, *user ? user : cur_login,
				    loginlen) >= loginlen ||
				    strlcpy(pass, cur_pass, passlen) >= passlen)
					rv = -1;
				else
					rv = 0;
				break;
			}
			if (end)
				break;
			in = strcmp(tok, "default") == 0;
			if (!in && next_tok(fp, tok, sizeof(tok)) == 0)
				in = strcasecmp(tok, host) == 0;
			have_pass = 0;
			cur_login[0] = '\0';
			explicit_bzero(cur_pass, sizeof(cur_pass));
		} else if (strcmp(tok, "login") == 0) {
			if (next_tok(fp, cur_login, sizeof(cur_login)) == -1)
				break;
		} else if (strcmp(tok, "password") == 0) {
			if (next_tok(fp, cur_pass, sizeof(cur_pass)) == -1)
				break;
			have_pass = 1;
		} else if (strcmp(tok, "macdef") == 0) {
			int ch, prev = 0;

			while ((ch = getc(fp)) != EOF &&
			    !(ch == '\n' && prev == '\n'))
				prev = ch;
		}
	}
	explicit_bzero(cur_pass, sizeof(cur_pass));
	explicit_bzero(tok, sizeof(tok));
	fclose(fp);
	return rv;
}
